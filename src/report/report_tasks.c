/* report_tasks.c — the report's view of single tasks: every probe suite's metrics, discrete and
 * continuous, labelled side by side on the same compute axis (the "mirage" table); the in-context
 * gain of the copy task against its one-layer control; and the claims about task shapes, the mirage,
 * induction and inverse scaling. Each claim says whether its evidence is natural text or a
 * controlled task (data/synth.h), and is "supported" only by a test that could have failed
 * (the rules: docs/scaling.md "What this sweep shows").
 *
 * Each metric is labelled on two compute axes: across runs (the last evaluation of each finished grid
 * run on the compute frontier; controls and learning-rate variants aside) and over training (the
 * evaluations at the log-spaced checkpoints of the one run that keeps them, the largest shape's long
 * run, x its FLOPs so far). Leaves out: the fits and the loss claims (report_analysis.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonl.h"
#include "data/synth.h"
#include "eval/shapes.h"
#include "report/report_internal.h"

int lms_report_suite_controlled(const char *suite) {
    for (int i = 0; i < lms_synth_n_suites(); i++)
        if (!strcmp(suite, lms_synth_suite_name(i))) return 1;
    return 0;
}

static const char *origin(const char *suite) { return lms_report_suite_controlled(suite) ? "controlled" : "natural"; }

static int on_frontier(json_t *frontier, const char *run) {
    if (json_array_size(frontier) == 0) return 1;
    for (size_t k = 0; k < json_array_size(frontier); k++) {
        const char *f = json_string_value(json_array_get(frontier, k));
        if (f && !strcmp(f, run)) return 1;
    }
    return 0;
}

static int final_grid(json_t *e) {
    return !strcmp(lms_report_str(e, "status"), "done") && !strcmp(lms_report_str(e, "run_kind"), "grid") &&
           lms_report_num(e, "final") == 1;
}

/* Classify one metric of one suite over the final evaluations of finished grid runs on the compute
   frontier (`frontier`: the runs with the lowest validation loss for their compute, as fitted; empty:
   every finished grid run). A run off the frontier — a large model on few tokens — is not "more
   compute" in the sense of the scaling curve: mixed in, it makes a suite's curve zig-zag between
   sizes, and the classifier reads that as noise. With `run` given, that run's evaluations over its
   training instead (x = its FLOPs so far). `sign` -1 for a metric where lower is better (the edit
   distance), so that every label reads "up is better". NULL when no point has the metric. */
static json_t *shape_of(json_t *evals, json_t *frontier, const char *run, const char *suite, const char *metric,
                        const char *metric_se, double sign) {
    size_t ne = json_array_size(evals);
    lms_shape_point *p = malloc(sizeof *p * (ne + 1));
    int n = 0;
    for (size_t i = 0; p && i < ne; i++) {
        json_t *e = json_array_get(evals, i);
        if (strcmp(lms_report_str(e, "suite"), suite)) continue;
        if (run ? strcmp(lms_report_str(e, "run"), run) || strcmp(lms_report_str(e, "status"), "done")
                : !final_grid(e) || !on_frontier(frontier, lms_report_str(e, "run")))
            continue;
        double x = lms_report_num(e, "flops"), y = lms_report_num(e, metric), se = lms_report_num(e, metric_se);
        double cnt = lms_report_num(e, "n");
        if (!isfinite(se) && !strcmp(metric, "acc") && cnt > 0 && isfinite(y)) se = sqrt(fmax(y * (1 - y), 0) / cnt);
        if (!(x >= 0) || !isfinite(x) || !isfinite(y) || !(se >= 0) || !isfinite(se)) continue;
        p[n++] = (lms_shape_point){x, sign * y, se};
    }
    lms_shape_result r;
    lms_err err = {0};
    json_t *out;
    if (!p) return json_pack("{s:s,s:s}", "label", "too-few", "detail", "out of memory");
    if (n == 0 && strcmp(metric, "acc") && strcmp(metric, "logp")) out = NULL; /* the suite has no such metric */
    else if (lms_shape_classify(p, n, NULL, &r, &err) != LMS_OK)
        out = json_pack("{s:s,s:s,s:i}", "label", "too-few", "detail", err.msg, "n", n);
    else
        out = json_pack("{s:s,s:s,s:i,s:o,s:o,s:b}", "label", lms_shape_name(r.label), "detail",
                        r.label == LMS_SHAPE_TOO_FEW ? "fewer than 3 finished runs evaluated" : r.detail, "n", r.n,
                        "net_delta", lms_json_num(r.net_delta), "max_z", lms_json_num(r.max_z), "inverted", r.inverted);
    free(p);
    return out;
}

/* The final evaluation of the finished run with the most compute: is its accuracy within 2 SE of chance? */
static void chance_at_top(json_t *evals, const char *suite, json_t *s) {
    double best = -1, acc = NAN, se = NAN, chance = NAN;
    for (size_t i = 0; i < json_array_size(evals); i++) {
        json_t *e = json_array_get(evals, i);
        if (strcmp(lms_report_str(e, "suite"), suite) || !final_grid(e) || !(lms_report_num(e, "flops") > best)) continue;
        best = lms_report_num(e, "flops");
        acc = lms_report_num(e, "acc"), se = lms_report_num(e, "acc_se"), chance = lms_report_num(e, "chance");
    }
    int at = isfinite(acc) && isfinite(chance) && fabs(acc - chance) <= 2 * (isfinite(se) ? se : 0) + 1e-12;
    json_object_set_new(s, "acc_top", lms_json_num(acc));
    json_object_set_new(s, "at_chance", json_boolean(at && chance > 0));
}

static json_t *find_suite(json_t *suites, const char *name) {
    for (size_t i = 0; i < json_array_size(suites); i++)
        if (!strcmp(lms_report_str(json_array_get(suites, i), "suite"), name)) return json_array_get(suites, i);
    return NULL;
}

static const char *label_of(json_t *s, const char *metric) {
    return lms_report_str(json_object_get(s, metric), "label");
}

/* One axis of a mirage row: the discrete label, every continuous metric's label, and the reading. s
   holds one axis's labels (acc, logp, prob, edit); twin the per-token twin's labels on the same axis. */
static json_t *axis_reading(json_t *s, json_t *twin, const char *twin_metric) {
    json_t *cont = json_array();
    json_array_append_new(cont, json_pack("{s:s,s:s}", "metric", "log-prob of the answer", "label", label_of(s, "logp")));
    if (json_object_get(s, "prob"))
        json_array_append_new(cont, json_pack("{s:s,s:s}", "metric", "choice probability", "label", label_of(s, "prob")));
    if (json_object_get(s, "edit"))
        json_array_append_new(cont, json_pack("{s:s,s:s}", "metric", "token edit distance (lower is better)", "label",
                                              label_of(s, "edit")));
    if (twin) json_array_append_new(cont, json_pack("{s:s,s:s}", "metric", twin_metric, "label", label_of(twin, "acc")));
    const char *dl = label_of(s, "acc");
    int smooth = 0;
    for (size_t k = 0; k < json_array_size(cont); k++) smooth |= !strcmp(lms_report_str(json_array_get(cont, k), "label"), "smooth");
    const char *reading = !strcmp(dl, "emergent") && smooth ? "mirage: emergent by the discrete metric, smooth by a continuous one"
                          : !strcmp(dl, "flat") && smooth ? "hidden progress: flat by the discrete metric, smooth by a continuous one"
                          : !strcmp(dl, "emergent") ? "emergent by every metric measured"
                                                    : "";
    return json_pack("{s:s,s:o,s:s}", "discrete_label", dl, "continuous", cont, "reading", reading);
}

/* The discrete metric and every continuous one of each suite, with their labels: prob (mc), the
   negated edit distance (gen), log-prob (all), and the per-token accuracy of a generation suite's
   twin (seq: teacher-forced top-1 of each token): add-Nd-digits for add-Nd, X for X-exact. */
static json_t *mirage_rows(json_t *suites) {
    json_t *rows = json_array();
    for (size_t i = 0; i < json_array_size(suites); i++) {
        json_t *s = json_array_get(suites, i);
        const char *name = lms_report_str(s, "suite"), *kind = lms_report_str(s, "kind");
        size_t nl = strlen(name);
        if (nl > 7 && !strcmp(name + nl - 7, "-digits")) continue; /* shown as its twin's continuous metric */
        /* the per-token twin: add-Nd -> add-Nd-digits, X-exact -> X */
        char twin[300];
        int exact = nl > 6 && !strcmp(name + nl - 6, "-exact");
        if (exact) snprintf(twin, sizeof twin, "%.*s", (int)(nl - 6), name);
        else snprintf(twin, sizeof twin, "%s-digits", name);
        json_t *t = find_suite(suites, twin);
        if (t) json_object_set_new(s, "twin", json_string(twin)); /* the page draws it beside the suite */
        const char *dname = !strcmp(kind, "gen") ? "exact match" : !strcmp(kind, "seq") ? "per-token top-1" : "accuracy";
        json_t *row = json_pack("{s:s,s:s,s:s}", "suite", name, "origin", origin(name), "discrete", dname);
        json_object_update_new(row, axis_reading(s, t, exact ? "per-token accuracy" : "per-digit accuracy"));
        json_t *tr = json_object_get(s, "training");
        if (tr) {
            json_t *ax = axis_reading(tr, t ? json_object_get(t, "training") : NULL, exact ? "per-token accuracy" : "per-digit accuracy");
            json_object_set_new(ax, "run", json_string(lms_report_str(tr, "run")));
            json_object_set_new(row, "training", ax);
        }
        json_array_append_new(rows, row);
    }
    return rows;
}

/* ---- in-context gain: copy-second minus copy-first, per run ---- */

static json_t *eval_of(json_t *evals, const char *run, const char *suite) {
    for (size_t i = 0; i < json_array_size(evals); i++) {
        json_t *e = json_array_get(evals, i);
        if (!strcmp(lms_report_str(e, "run"), run) && !strcmp(lms_report_str(e, "suite"), suite) &&
            lms_report_num(e, "final") == 1 && !strcmp(lms_report_str(e, "status"), "done"))
            return e;
    }
    return NULL;
}

/* One row per finished grid or control run evaluated on both copy suites: gain = logp(second) -
   logp(first) per token, se = sqrt(se1^2 + se2^2) (the same strings, so this overstates the error). */
static json_t *gains(json_t *data) {
    json_t *runs = json_object_get(data, "runs"), *evals = json_object_get(data, "evals"), *out = json_array();
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i);
        const char *name = lms_report_str(r, "name"), *kind = lms_report_str(r, "run_kind");
        if (strcmp(lms_report_str(r, "status"), "done") || (strcmp(kind, "grid") && strcmp(kind, "control"))) continue;
        json_t *a = eval_of(evals, name, "copy-first"), *b = eval_of(evals, name, "copy-second");
        if (!a || !b) continue;
        double g = lms_report_num(b, "logp") - lms_report_num(a, "logp");
        double se = hypot(lms_report_num(a, "logp_se"), lms_report_num(b, "logp_se"));
        if (!isfinite(g)) continue;
        json_array_append_new(out, json_pack("{s:s,s:s,s:i,s:i,s:o,s:o,s:o,s:o,s:b}", "run", name, "kind", kind, "layers",
                                             (int)lms_report_num(r, "n_layer"), "dim", (int)lms_report_num(r, "n_embd"), "tokens",
                                             lms_json_num(lms_report_num(r, "tokens")), "flops",
                                             lms_json_num(lms_report_num(r, "flops")), "gain", lms_json_num(g), "gain_se",
                                             lms_json_num(isfinite(se) ? se : 0),
                                             "frontier", json_is_true(json_object_get(r, "frontier"))));
    }
    return out;
}

/* ---- claims ---- */

static void claim_shapes(json_t *claims, json_t *suites) {
    static const char *labels[] = {"flat", "smooth", "emergent", "inverse", "u-shaped", "noisy", "too-few"};
    int cnt[2][7] = {{0}}, any[3] = {0}, nsu[2] = {0};
    char ev[1024], em[300] = "";
    int n = 0, ne = 0;
    const char *claim = "Tasks differ in shape: some stay flat, some improve smoothly, some jump (emergence).";
    if (json_array_size(suites) == 0) {
        lms_report_add_claim(claims, "no data", claim, "No probe suites were evaluated in this sweep.");
        return;
    }
    for (size_t i = 0; i < json_array_size(suites); i++) {
        json_t *s = json_array_get(suites, i);
        int c = lms_report_suite_controlled(lms_report_str(s, "suite"));
        nsu[c]++;
        for (int m = 0; m < 2; m++) {
            const char *l = label_of(s, m ? "logp" : "acc");
            for (int k = 0; k < 7; k++)
                if (!strcmp(l, labels[k])) {
                    if (!m) cnt[c][k]++;
                    if (k < 3) any[k] = 1;
                    if (k == 2 && ne < (int)sizeof em - 60)
                        ne += snprintf(em + ne, sizeof em - (size_t)ne, "%s%s (%s, %s)", ne ? ", " : "",
                                       lms_report_str(s, "suite"), c ? "controlled" : "natural", m ? "log-prob" : "accuracy");
                }
        }
    }
    for (int c = 0; c < 2; c++) {
        if (!nsu[c]) continue;
        n += snprintf(ev + n, sizeof ev - (size_t)n, "%s%d %s suites by accuracy across runs:", n ? "; " : "", nsu[c],
                      c ? "controlled-task" : "natural-text");
        for (int k = 0; k < 7; k++)
            if (cnt[c][k]) n += snprintf(ev + n, sizeof ev - (size_t)n, " %d %s,", cnt[c][k], labels[k]);
        if (ev[n - 1] == ',') ev[--n] = 0;
    }
    int have = any[0] + any[1] + any[2];
    snprintf(ev + n, sizeof ev - (size_t)n, ". Flat, smooth and emergent seen in either metric: %s%s%s%s%s%s.",
             any[0] ? "flat " : "", any[1] ? "smooth " : "", any[2] ? "emergent " : "",
             have == 3 ? "(all three)" : "(not all three: the missing shapes did not show within this compute)",
             ne ? "; emergent: " : "", em);
    lms_report_add_claim(claims, have == 3 ? "supported" : have == 2 ? "weak" : "not supported", claim, ev);
}

/* The mirage: a discrete metric emergent (or flat) where a continuous one of the same items is smooth,
   across runs (the frontier) or over the training of the run with log-spaced checkpoints. */
static void claim_mirage(json_t *claims, json_t *rows, int n_suites) {
    char ev[1536];
    int n = 0, mir = 0, hid = 0;
    const char *claim = "A discrete metric can make an ability look sudden (or absent) that a continuous metric shows "
                        "improving smoothly (the mirage).";
    if (!n_suites) {
        lms_report_add_claim(claims, "no data", claim, "No probe suites were evaluated in this sweep.");
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        int k = 0;
        n += snprintf(ev + n, sizeof ev - (size_t)n, "%s", pass ? "; flat by the discrete metric and smooth by a continuous one: "
                                                                : "Emergent by the discrete metric and smooth by a continuous one: ");
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *r = json_array_get(rows, i), *t = json_object_get(r, "training");
            int fr = !strncmp(lms_report_str(r, "reading"), pass ? "hidden" : "mirage", 6);
            int tr = t && !strncmp(lms_report_str(t, "reading"), pass ? "hidden" : "mirage", 6);
            if (!fr && !tr) continue;
            pass ? hid++ : mir++;
            if (n < (int)sizeof ev - 160)
                n += snprintf(ev + n, sizeof ev - (size_t)n, "%s%s (%s; %s%s%s)", k++ ? ", " : "", lms_report_str(r, "suite"),
                              lms_report_str(r, "origin"), fr ? "across runs" : "", fr && tr ? " and " : "",
                              tr ? "over training" : "");
        }
        if (!k) n += snprintf(ev + n, sizeof ev - (size_t)n, "none");
    }
    const char *run = "";
    for (size_t i = 0; i < json_array_size(rows) && !run[0]; i++)
        run = lms_report_str(json_object_get(json_array_get(rows, i), "training"), "run");
    if (run[0]) snprintf(ev + n, sizeof ev - (size_t)n, ". Over training: the checkpoints of %s.", run);
    else snprintf(ev + n, sizeof ev - (size_t)n, ".");
    lms_report_add_claim(claims, mir ? "supported" : hid ? "weak" : "not supported", claim, ev);
}

/* Suites whose accuracy stayed at chance (flat, and within 2 SE of chance at the largest compute). */
static void claim_chance(json_t *claims, json_t *suites) {
    char names[512] = "", ev[768];
    int n = 0, k = 0, with_chance = 0;
    for (size_t i = 0; i < json_array_size(suites); i++) {
        json_t *s = json_array_get(suites, i);
        with_chance += lms_report_num(s, "chance") > 0;
        const char *a = label_of(s, "acc"); /* a suite that fell to chance (inverse) has a shape: not counted */
        if (!json_is_true(json_object_get(s, "at_chance")) || (strcmp(a, "flat") && strcmp(a, "too-few"))) continue;
        if (n < (int)sizeof names - 1)
            n += snprintf(names + n, sizeof names - (size_t)n, "%s%s", k ? ", " : "", lms_report_str(s, "suite"));
        k++;
    }
    snprintf(ev, sizeof ev, "%d of %d suites with a chance level stayed at chance (flat accuracy, within 2 SE of "
             "chance at the largest compute)%s%s%s", k, with_chance, k ? ": " : ".", names,
             k ? ". Their curves say nothing yet about how they scale; more compute or easier items would." : "");
    lms_report_add_claim(claims, with_chance == 0 ? "no data" : k == 0 ? "supported" : k < with_chance ? "weak" : "not supported",
              "The probe suites measure something at this scale (accuracy above chance).", ev);
}

/* Induction, from the in-context gain against the one-layer control at the same token budget: for
   each budget where a control run exists, the best gain of a grid run with >= 2 layers at that
   budget must exceed the control's by more than 2 combined SE, and be positive. The natural-text
   induction suites score only the second copy, which word frequency alone raises (a one-layer
   model rises the same way, docs/experiments.md): they are reported, never counted. */
static void claim_induction(json_t *claims, json_t *g, json_t *suites) {
    const char *claim = "Copying from the context (induction) appears with scale: the second copy of a random string "
                        "becomes far likelier than the first, in models with two or more layers but not in a one-layer "
                        "control.";
    char ev[1024];
    int n = 0, budgets = 0, wins = 0;
    double best_diff = -INFINITY, bd_tok = NAN, bd_g = NAN, bd_c = NAN, bd_se = NAN;
    const char *bd_run = "";
    for (size_t i = 0; i < json_array_size(g); i++) {
        json_t *c = json_array_get(g, i);
        if (strcmp(lms_report_str(c, "kind"), "control")) continue;
        double tok = lms_report_num(c, "tokens"), gc = lms_report_num(c, "gain"), sc = lms_report_num(c, "gain_se");
        json_t *best = NULL;
        for (size_t j = 0; j < json_array_size(g); j++) {
            json_t *x = json_array_get(g, j);
            if (strcmp(lms_report_str(x, "kind"), "grid") || lms_report_num(x, "layers") < 2 ||
                fabs(lms_report_num(x, "tokens") - tok) > 1e-6 * tok)
                continue;
            if (!best || lms_report_num(x, "gain") > lms_report_num(best, "gain")) best = x;
        }
        if (!best) continue;
        budgets++;
        double d = lms_report_num(best, "gain") - gc, se = hypot(sc, lms_report_num(best, "gain_se"));
        int win = d > 2 * se && lms_report_num(best, "gain") > 0;
        wins += win;
        if (d > best_diff)
            best_diff = d, bd_tok = tok, bd_g = lms_report_num(best, "gain"), bd_c = gc, bd_se = se,
            bd_run = lms_report_str(best, "run");
    }
    if (budgets)
        n += snprintf(ev, sizeof ev, "Controlled task (copy-first / copy-second, random pseudo-words): at %d of %d token "
                      "budgets a model with >= 2 layers gains more from the first copy than the one-layer control, by more "
                      "than 2 SE. Largest difference at %.3g tokens: %s gains %+.3f nats/token, the control %+.3f (SE of the "
                      "difference %.3f).", wins, budgets, bd_tok, bd_run, bd_g, bd_c, bd_se);
    else
        n += snprintf(ev, sizeof ev, "No controlled evidence: the sweep has no one-layer control run evaluated on "
                      "copy-first and copy-second at a budget of a grid run with >= 2 layers (sweep --preset emergence has both).");
    for (size_t i = 0; i < json_array_size(suites); i++) {
        json_t *s = json_array_get(suites, i);
        if (strncmp(lms_report_str(s, "suite"), "induction", 9) || n >= (int)sizeof ev - 200) continue;
        n += snprintf(ev + n, sizeof ev - (size_t)n, " Natural text, not counted: %s's second-copy accuracy reads %s "
                      "(no first-copy baseline and no control, so word frequency can explain it).",
                      lms_report_str(s, "suite"), label_of(s, "acc"));
    }
    lms_report_add_claim(claims, !budgets ? "no data" : wins ? "supported" : "not supported", claim, ev);
}

/* Inverse scaling: the discrete metric of quote-repetition (natural) or copy-altered (controlled)
   labelled inverse or u-shaped across runs (the frontier) or over training. */
static void claim_inverse(json_t *claims, json_t *suites) {
    static const char *names[] = {"quote-repetition", "copy-altered"};
    const char *claim = "Some tasks get worse with scale before (or instead of) getting better: a model that memorised "
                        "a sequence completes it instead of copying the altered one (inverse or U-shaped scaling).";
    char ev[1536];
    int n = 0, found = 0, hit = 0;
    for (int k = 0; k < 2; k++) {
        json_t *s = find_suite(suites, names[k]);
        if (!s) continue;
        const char *a = label_of(s, "acc"), *l = label_of(s, "logp");
        json_t *t = json_object_get(s, "training");
        const char *ta = t ? label_of(t, "acc") : "";
        int h = !strcmp(a, "inverse") || !strcmp(a, "u-shaped") || !strcmp(ta, "inverse") || !strcmp(ta, "u-shaped");
        hit += h;
        n += snprintf(ev + n, sizeof ev - (size_t)n, "%s%s (%s): across runs, accuracy %s (%s), log-prob %s", found++ ? ". " : "",
                      names[k], origin(names[k]), a, lms_report_str(json_object_get(s, "acc"), "detail"), l);
        if (t)
            n += snprintf(ev + n, sizeof ev - (size_t)n, "; over the training of %s, accuracy %s (%s)", lms_report_str(t, "run"),
                          ta, lms_report_str(json_object_get(t, "acc"), "detail"));
        if (n >= (int)sizeof ev - 200) break;
    }
    if (!found) snprintf(ev, sizeof ev, "Neither quote-repetition nor copy-altered was evaluated.");
    else snprintf(ev + n, sizeof ev - (size_t)n, ".");
    lms_report_add_claim(claims, !found ? "no data" : hit ? "supported" : "not supported", claim, ev);
}

/* acc, logp, and prob / edit where present, labelled on one axis (run NULL: the frontier) */
static void label_metrics(json_t *s, json_t *evals, json_t *frontier, const char *run, const char *name) {
    json_object_set_new(s, "acc", shape_of(evals, frontier, run, name, "acc", "acc_se", 1));
    json_object_set_new(s, "logp", shape_of(evals, frontier, run, name, "logp", "logp_se", 1));
    json_t *x = shape_of(evals, frontier, run, name, "prob", "prob_se", 1);
    if (x) json_object_set_new(s, "prob", x);
    if ((x = shape_of(evals, frontier, run, name, "edit", "edit_se", -1))) json_object_set_new(s, "edit", x);
}

/* The finished grid run with the most evaluations of one suite (the long run with log-spaced
   checkpoints); NULL when no run has 3 or more. */
static const char *training_run(json_t *evals) {
    const char *best = NULL, *prev_run = NULL, *prev_suite = NULL;
    int most = 2, n = 0;
    for (size_t i = 0; i <= json_array_size(evals); i++) { /* ordered by suite, run, step */
        json_t *e = json_array_get(evals, i);
        const char *r = e ? lms_report_str(e, "run") : NULL, *su = e ? lms_report_str(e, "suite") : NULL;
        if (prev_run && (!e || strcmp(r, prev_run) || strcmp(su, prev_suite))) {
            if (n > most) most = n, best = prev_run;
            n = 0;
        }
        if (!e) break;
        prev_run = r, prev_suite = su;
        if (!strcmp(lms_report_str(e, "run_kind"), "grid") && !strcmp(lms_report_str(e, "status"), "done")) n++;
    }
    return best;
}

json_t *lms_report_analyse_suites(json_t *data) {
    json_t *evals = json_object_get(data, "evals"), *suites = json_array();
    json_t *frontier = json_object_get(json_object_get(data, "fit"), "frontier");
    const char *prev = NULL, *trun = training_run(evals);
    for (size_t i = 0; i < json_array_size(evals); i++) { /* evals are ordered by suite */
        json_t *e = json_array_get(evals, i);
        const char *name = lms_report_str(e, "suite");
        if (prev && !strcmp(prev, name)) continue;
        prev = name;
        json_t *s = json_pack("{s:s,s:s,s:s,s:o}", "suite", name, "kind", lms_report_str(e, "kind"), "origin",
                              origin(name), "chance", lms_json_num(lms_report_num(e, "chance")));
        label_metrics(s, evals, frontier, NULL, name);
        if (trun) {
            json_t *t = json_pack("{s:s}", "run", trun);
            label_metrics(t, evals, frontier, trun, name);
            json_object_set_new(s, "training", t);
        }
        chance_at_top(evals, name, s);
        json_array_append_new(suites, s);
    }
    json_object_set_new(data, "suites", suites);
    json_object_set_new(data, "mirage", mirage_rows(suites));
    json_object_set_new(data, "gains", gains(data));
    return suites;
}

void lms_report_task_claims(json_t *claims, json_t *data) {
    json_t *suites = json_object_get(data, "suites");
    claim_shapes(claims, suites);
    claim_mirage(claims, json_object_get(data, "mirage"), (int)json_array_size(suites));
    claim_chance(claims, suites);
    claim_induction(claims, json_object_get(data, "gains"), suites);
    claim_inverse(claims, suites);
}
