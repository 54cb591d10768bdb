/* report_analysis.c — what the report computes from the sweep's numbers: the scaling-law fits
 * (lms_fit_runs, written as data.fit by lms_fit_report_json) with a bootstrap band for L(C) fitted
 * without the held-out run, the shape of every
 * probe suite's metrics (report_tasks.c), and the claims of "What this sweep shows", each stated
 * next to the measured evidence with a verdict (supported / weak / not supported / no data) decided
 * by the thresholds below (the task claims: report_tasks.c).
 *
 * Fits use the finished grid runs only ('done', kind 'grid', with size, tokens, FLOPs and a validation
 * loss > 0; learning-rate variants are shown, not fitted); shapes use the last evaluation of each such run on the compute frontier
 * (x = FLOPs). Leaves out: reading (report_data.c),
 * writing (report.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonl.h"
#include "core/rng.h"
#include "eval/shapes.h"
#include "report/report_internal.h"
#include "scaling/fit.h"

/* The science targets of the scaling laboratory (issue 8): below them a claim reads "weak". */
#define R2_TARGET 0.99
#define DECADES_TARGET 2.0
#define HELD_TARGET 0.02
#define BAND_POINTS 60

static json_t *ci_json(lms_fit_ci c) {
    return json_pack("{s:o,s:o,s:o}", "est", lms_json_num(c.est), "lo", lms_json_num(c.lo), "hi", lms_json_num(c.hi));
}

void lms_report_add_claim(json_t *claims, const char *verdict, const char *claim, const char *evidence) {
    json_array_append_new(claims, json_pack("{s:s,s:s,s:s}", "verdict", verdict, "claim", claim, "evidence", evidence));
}

/* ---- fits ---- */

typedef struct {
    lms_fit_run *r;
    int *row; /* index into data.runs */
    int n;
} fit_set;

static int fit_set_gather(json_t *runs, fit_set *fs) {
    size_t nr = json_array_size(runs);
    fs->r = calloc(nr + 1, sizeof *fs->r);
    fs->row = calloc(nr + 1, sizeof *fs->row);
    fs->n = 0;
    if (!fs->r || !fs->row) return -1;
    for (size_t i = 0; i < nr; i++) {
        json_t *row = json_array_get(runs, i);
        lms_fit_run r = {lms_report_num(row, "params_nonembed"), lms_report_num(row, "tokens"),
                         lms_report_num(row, "flops"), lms_report_num(row, "val_loss")};
        if (strcmp(lms_report_str(row, "status"), "done") != 0 || strcmp(lms_report_str(row, "run_kind"), "grid") != 0)
            continue; /* unfinished runs and learning-rate variants are not points of the law */
        if (!(r.N > 0 && r.D > 0 && r.C > 0 && r.L > 0 && isfinite(r.N + r.D + r.C + r.L))) continue;
        fs->row[fs->n] = (int)i;
        fs->r[fs->n++] = r;
    }
    return 0;
}

/* The L(C) curve fitted on the frontier of the runs other than `skip` (-1: all), with a percentile
 * band from n_boot resamples of those frontier points, on a log grid over [cmin/1.5, cmax*1.5]. */
static json_t *lc_curve(const fit_set *fs, int skip, const lms_report_opts *o, double cmin, double cmax) {
    int n = 0, nf = 0;
    double *C = malloc(sizeof(double) * (size_t)fs->n * 4), *L = C ? C + fs->n : NULL;
    int *idx = malloc(sizeof(int) * (size_t)fs->n);
    double *grid = malloc(sizeof(double) * BAND_POINTS * (size_t)(o->n_boot + 1));
    json_t *out = NULL;
    lms_err err = {0};
    if (!C || !idx || !grid) goto done;
    for (int i = 0; i < fs->n; i++)
        if (i != skip) C[n] = fs->r[i].C, L[n++] = fs->r[i].L;
    if (n < 4 || lms_fit_frontier(C, L, n, idx, &nf, &err) != LMS_OK || nf < 4) goto done;
    double *fc = C + 2 * fs->n, *fl = C + 3 * fs->n; /* the frontier points */
    for (int j = 0; j < nf; j++) fc[j] = C[idx[j]], fl[j] = L[idx[j]];
    lms_fit_opts fo;
    lms_fit_opts_default(&fo);
    fo.n_boot = 0;
    lms_fit_lc fit;
    if (lms_fit_lc_fit(fc, fl, nf, &fo, &fit, &err) != LMS_OK) goto done;
    double lo = log(cmin / 1.5), hi = log(cmax * 1.5);
    lms_rng rng;
    lms_rng_seed(&rng, o->seed);
    int nb = 0;
    double *bc = malloc(sizeof(double) * 2 * (size_t)nf), *bl = bc ? bc + nf : NULL;
    int *seen = malloc(sizeof(int) * (size_t)nf);
    for (int b = 0; bc && seen && b < o->n_boot; b++) {
        int distinct = 0; /* a resample needs 4 distinct points, like any L(C) fit: draw again (20 tries) */
        for (int tries = 0; tries < 20 && distinct < 4; tries++) {
            memset(seen, 0, sizeof(int) * (size_t)nf);
            distinct = 0;
            for (int j = 0; j < nf; j++) {
                int k = (int)lms_rng_below(&rng, (uint64_t)nf);
                bc[j] = fc[k], bl[j] = fl[k];
                if (!seen[k]++) distinct++;
            }
        }
        lms_fit_lc bf;
        if (distinct < 4 || lms_fit_lc_fit(bc, bl, nf, &fo, &bf, &err) != LMS_OK || !bf.converged) continue;
        for (int g = 0; g < BAND_POINTS; g++)
            grid[(size_t)nb * BAND_POINTS + g] = lms_fit_lc_predict(&bf.p, exp(lo + (hi - lo) * g / (BAND_POINTS - 1)));
        nb++;
    }
    free(bc);
    free(seen);
    out = json_pack("{s:i,s:o,s:o,s:o,s:i,s:[]}", "n_frontier", nf, "E", lms_json_num(fit.p.E), "A", lms_json_num(fit.p.A),
                    "alpha", lms_json_num(fit.p.alpha), "n_boot", nb, "points");
    json_t *pts = json_object_get(out, "points");
    double *col = malloc(sizeof(double) * (size_t)(nb + 1));
    for (int g = 0; g < BAND_POINTS && col; g++) {
        double c = exp(lo + (hi - lo) * g / (BAND_POINTS - 1));
        for (int b = 0; b < nb; b++) col[b] = grid[(size_t)b * BAND_POINTS + g];
        /* insertion sort: nb is a few hundred at most */
        for (int a = 1; a < nb; a++)
            for (int b = a; b > 0 && col[b - 1] > col[b]; b--) {
                double t = col[b];
                col[b] = col[b - 1], col[b - 1] = t;
            }
        double l = lms_fit_lc_predict(&fit.p, c);
        json_array_append_new(pts, json_pack("{s:f,s:o,s:o,s:o}", "C", c, "L", lms_json_num(l), "lo",
                                             lms_json_num(nb >= 10 ? col[(int)(0.025 * (nb - 1))] : l), "hi",
                                             lms_json_num(nb >= 10 ? col[(int)(0.975 * (nb - 1))] : l)));
    }
    free(col);
done:
    free(C);
    free(idx);
    free(grid);
    return out;
}

/* data.fit (lms_fit_report_json's report layout), and the runs marked: frontier, held_out. */
static json_t *fit_json(const lms_fit_report *rep, const fit_set *fs, json_t *runs, const lms_fit_opts *fo) {
    const char **names = malloc(sizeof *names * (size_t)(fs->n + 1));
    if (!names) return NULL;
    for (int i = 0; i < fs->n; i++) names[i] = lms_report_str(json_array_get(runs, (size_t)fs->row[i]), "name");
    json_t *f = lms_fit_report_json(rep, names, fo, LMS_FIT_JSON_REPORT);
    free(names);
    for (int i = 0; i < rep->n_frontier; i++)
        json_object_set_new(json_array_get(runs, (size_t)fs->row[rep->frontier[i]]), "frontier", json_true());
    if (rep->held.ok) json_object_set_new(json_array_get(runs, (size_t)fs->row[rep->held.index]), "held_out", json_true());
    return f;
}

/* Fit, mark the runs (frontier, held_out, group), add data.fit; returns the fit object (borrowed). */
static json_t *analyse_fits(json_t *data, const lms_report_opts *o, lms_err *err) {
    json_t *runs = json_object_get(data, "runs");
    fit_set fs;
    json_t *f = NULL;
    if (fit_set_gather(runs, &fs) != 0) {
        f = json_pack("{s:b,s:s}", "ok", 0, "why", "out of memory");
    } else if (fs.n < 4) {
        char why[160];
        snprintf(why, sizeof why, "%d finished run%s with a validation loss; the fits need at least 4", fs.n,
                 fs.n == 1 ? "" : "s");
        f = json_pack("{s:b,s:s,s:i}", "ok", 0, "why", why, "n_runs", fs.n);
    } else {
        lms_fit_opts fo;
        lms_fit_opts_default(&fo);
        fo.n_boot = o->n_boot;
        fo.seed = o->seed;
        lms_fit_report rep;
        lms_err ferr = {0};
        if (lms_fit_runs(fs.r, fs.n, &fo, &rep, &ferr) != LMS_OK) {
            f = json_pack("{s:b,s:s}", "ok", 0, "why", ferr.msg);
        } else {
            f = fit_json(&rep, &fs, runs, &fo); /* NULL when out of memory: reported below */
            double cmin = INFINITY, cmax = 0, *C = malloc(sizeof(double) * (size_t)fs.n);
            int *grp = malloc(sizeof(int) * (size_t)fs.n), ng = 0;
            for (int i = 0; i < fs.n; i++) {
                cmin = fmin(cmin, fs.r[i].C), cmax = fmax(cmax, fs.r[i].C);
                if (C) C[i] = fs.r[i].C;
            }
            if (C && grp && lms_fit_group_by_compute(C, fs.n, 0.1, grp, &ng, &ferr) == LMS_OK)
                for (int i = 0; i < fs.n; i++)
                    json_object_set_new(json_array_get(runs, (size_t)fs.row[i]), "group", json_integer(grp[i]));
            free(C);
            free(grp);
            json_t *all = lc_curve(&fs, -1, o, cmin, cmax);
            json_t *rest = rep.held.ok ? lc_curve(&fs, rep.held.index, o, cmin, cmax) : NULL;
            json_object_set_new(f, "curve_all", all ? all : json_null());
            json_object_set_new(f, "curve_rest", rest ? rest : json_null());
        }
        lms_fit_report_free(&rep);
    }
    free(fs.r);
    free(fs.row);
    if (!f || json_object_set_new(data, "fit", f) != 0) {
        lms_errf(err, LMS_ERR_NOMEM, "out of memory building the fit");
        return NULL;
    }
    return f;
}

/* ---- L(C) per domain and per suite ---- */

/* L(C) = E + A·C^-alpha on the compute frontier of one series (n points), alpha's interval from up
   to 200 bootstrap refits; {ok: false, why} when it cannot be fitted or does not converge. */
static json_t *series_lc(const char *key, const char *name, const double *C, const double *L, int n,
                         const lms_report_opts *o) {
    json_t *row = json_pack("{s:s,s:i}", key, name, "n_runs", n);
    int *idx = malloc(sizeof(int) * (size_t)(n ? n : 1)), nf = 0;
    double *fc = malloc(sizeof(double) * 2 * (size_t)(n ? n : 1)), *fl = fc ? fc + n : NULL;
    lms_err err = {0};
    const char *why = NULL;
    if (!idx || !fc) why = "out of memory";
    else if (n < 4 || lms_fit_frontier(C, L, n, idx, &nf, &err) != LMS_OK || nf < 4) why = "fewer than 4 frontier points";
    if (!why) {
        for (int j = 0; j < nf; j++) fc[j] = C[idx[j]], fl[j] = L[idx[j]];
        lms_fit_opts fo;
        lms_fit_opts_default(&fo);
        fo.n_boot = o->n_boot < 200 ? o->n_boot : 200;
        fo.seed = o->seed;
        lms_fit_lc f;
        if (lms_fit_lc_fit(fc, fl, nf, &fo, &f, &err) != LMS_OK) why = err.msg[0] ? err.msg : "the fit failed";
        else if (!f.converged) why = "the fit did not converge";
        else
            json_object_update_new(row, json_pack("{s:b,s:i,s:o,s:o,s:o,s:o,s:o}", "ok", 1, "n_frontier", nf, "E",
                                                  lms_json_num(f.p.E), "A", lms_json_num(f.p.A), "alpha", ci_json(f.alpha),
                                                  "r2_log", lms_json_num(f.r2_log), "decades", lms_json_num(log10(fc[nf - 1] / fc[0]))));
    }
    if (why) json_object_update_new(row, json_pack("{s:b,s:s}", "ok", 0, "why", why));
    free(idx);
    free(fc);
    return row;
}

/* rows ordered by `key`; each finished grid row with flops > 0 and a finite value of `field` (negated
   when `negate`, so that lower is better) > 0 is a point of its series */
static json_t *lc_by(json_t *rows, const char *key, const char *field, int negate, int final_only,
                     const lms_report_opts *o) {
    json_t *out = json_array();
    size_t nr = json_array_size(rows);
    double *C = malloc(sizeof(double) * 2 * (nr ? nr : 1)), *L = C ? C + nr : NULL;
    if (!C) return out;
    const char *prev = NULL;
    int n = 0;
    for (size_t i = 0; i <= nr; i++) {
        json_t *r = json_array_get(rows, i);
        const char *name = r ? lms_report_str(r, key) : NULL;
        if (prev && (!name || strcmp(name, prev))) {
            json_array_append_new(out, series_lc(key, prev, C, L, n, o));
            n = 0;
        }
        if (!r) break;
        prev = name;
        double c = lms_report_num(r, "flops"), v = lms_report_num(r, field);
        if (negate) v = -v;
        if (strcmp(lms_report_str(r, "status"), "done") || strcmp(lms_report_str(r, "run_kind"), "grid") ||
            (final_only && lms_report_num(r, "final") != 1) || !(c > 0) || !isfinite(v) || !(v > 0))
            continue;
        C[n] = c, L[n++] = v;
    }
    free(C);
    return out;
}

/* ---- claims ---- */

static void claim_loss_vs_compute(json_t *claims, json_t *fit) {
    json_t *lc = json_object_get(fit, "lc");
    char ev[512];
    if (!json_is_true(json_object_get(fit, "ok")) || !lc) {
        snprintf(ev, sizeof ev, "No fit: %s.", json_is_true(json_object_get(fit, "ok")) ? "L(C) could not be fitted (too few "
                 "distinct frontier points)" : lms_report_str(fit, "why"));
        lms_report_add_claim(claims, "no data", "Loss falls smoothly with compute, as a power law plus a floor.", ev);
        return;
    }
    double r2 = lms_report_num(lc, "r2_log"), alpha = lms_report_num(json_object_get(lc, "alpha"), "est");
    double alo = lms_report_num(json_object_get(lc, "alpha"), "lo"), ahi = lms_report_num(json_object_get(lc, "alpha"), "hi");
    double E = lms_report_num(json_object_get(lc, "E"), "est");
    json_t *pts = json_object_get(json_object_get(fit, "curve_all"), "points");
    double c0 = lms_report_num(json_array_get(pts, 0), "C") * 1.5;
    double c1 = lms_report_num(json_array_get(pts, json_array_size(pts) - 1), "C") / 1.5;
    double dec = (c0 > 0 && c1 > 0) ? log10(c1 / c0) : NAN;
    int ok = r2 >= R2_TARGET && dec >= DECADES_TARGET;
    snprintf(ev, sizeof ev, "L(C) = E + A·C^-α on %d frontier runs: R² (log) = %.4f%s, over %.1f decades of compute%s; "
             "α = %.3f [%.3f, %.3f], E = %.3f nats.", (int)lms_report_num(lc, "n"), r2, r2 >= R2_TARGET ? "" : " (below 0.99)",
             dec, dec >= DECADES_TARGET ? "" : " (fewer than 2)", alpha, alo, ahi, E);
    lms_report_add_claim(claims, ok ? "supported" : "weak", "Loss falls smoothly with compute, as a power law plus a floor.", ev);
}

static void claim_heldout(json_t *claims, json_t *fit) {
    json_t *h = json_object_get(fit, "held");
    char ev[512];
    const char *claim = "The law fitted on the smaller runs predicts the largest run before it is read.";
    if (!h || !json_is_true(json_object_get(h, "ok")) || !isfinite(lms_report_num(h, "rel_err_lc"))) {
        snprintf(ev, sizeof ev, "The held-out test could not be run: %s.",
                 h ? (lms_report_str(h, "why")[0] ? lms_report_str(h, "why") : "L(C) could not be refitted without it")
                   : lms_report_str(fit, "why"));
        lms_report_add_claim(claims, "no data", claim, ev);
        return;
    }
    double e = lms_report_num(h, "rel_err_lc"), end = lms_report_num(h, "rel_err_nd");
    double tpp = lms_report_num(h, "D") / lms_report_num(h, "N");
    snprintf(ev, sizeof ev, "Run %s (%.3g FLOPs) left out: L(C) predicted %.4f, measured %.4f, error %+.2f%%%s; "
             "L(N, D) predicted error %s%.2f%%. It saw %.2g tokens per parameter.", lms_report_str(h, "run"),
             lms_report_num(h, "C"), lms_report_num(h, "L_pred_lc"), lms_report_num(h, "L"), 100 * e,
             fabs(e) <= HELD_TARGET ? " (within 2%)" : " (more than 2%)", isfinite(end) && end >= 0 ? "+" : "",
             100 * end, tpp);
    lms_report_add_claim(claims, fabs(e) <= HELD_TARGET ? "supported" : "weak", claim, ev);
}

static void claim_optimum(json_t *claims, json_t *fit) {
    json_t *iso = json_object_get(fit, "iso");
    char ev[512];
    const char *claim = "At a fixed compute budget there is a best model size, and it grows with compute.";
    if (!json_is_true(json_object_get(fit, "ok"))) {
        lms_report_add_claim(claims, "no data", claim, "No fit (see above).");
        return;
    }
    int ng = (int)json_array_size(json_object_get(iso, "groups")), nm = (int)lms_report_num(iso, "n_minima");
    const char *how = "isoFLOP group";
    if (nm == 0) { /* no equal-compute runs with a minimum: the profiles interpolated along each size's budgets */
        json_t *ip = json_object_get(fit, "iso_interp");
        if (json_array_size(json_object_get(ip, "groups")) > 0) {
            iso = ip;
            ng = (int)json_array_size(json_object_get(iso, "groups"));
            nm = (int)lms_report_num(iso, "n_minima");
            how = "interpolated isoFLOP profile";
        }
    }
    double a = lms_report_num(iso, "a");
    json_t *opt = json_array_get(json_object_get(fit, "opt"), 0);
    int edge = opt && json_is_true(json_object_get(opt, "beyond_grid"));
    int n = snprintf(ev, sizeof ev, "%d %s%s with 3 or more sizes, %d with a bracketed minimum", ng, how,
                     ng == 1 ? "" : "s", nm);
    if (isfinite(a)) n += snprintf(ev + n, sizeof ev - (size_t)n, "; N_opt ∝ C^%.2f", a);
    if (opt)
        n += snprintf(ev + n, sizeof ev - (size_t)n, "; L(N, D) puts N* at %.3g parameters for %.3g FLOPs%s",
                      lms_report_num(json_object_get(opt, "N"), "est"), lms_report_num(opt, "C"),
                      edge ? ", outside the sizes trained (the optimum sits at the grid's edge)" : "");
    snprintf(ev + n, sizeof ev - (size_t)n, ".");
    if (ng == 0)
        snprintf(ev + n, sizeof ev - (size_t)n, ". No compute budget has 3 or more sizes, so no best size can be seen.");
    lms_report_add_claim(claims, ng == 0 ? "no data" : nm >= 2 && !edge ? "supported" : nm >= 1 ? "weak" : "not supported", claim, ev);
}

static void claim_domains(json_t *claims, json_t *data) {
    json_t *d = json_object_get(data, "domains");
    char ev[512];
    int nd = 0, fell = 0;
    const char *prev = NULL;
    double first = NAN, last = NAN, cf = INFINITY, cl = -1;
    for (size_t i = 0; i <= json_array_size(d); i++) {
        json_t *r = json_array_get(d, i);
        const char *dom = r ? lms_report_str(r, "domain") : NULL;
        if (prev && (!dom || strcmp(dom, prev))) {
            nd++;
            fell += last < first;
            first = last = NAN, cf = INFINITY, cl = -1;
        }
        if (!r) break;
        prev = dom;
        double c = lms_report_num(r, "flops"), l = lms_report_num(r, "loss");
        if (strcmp(lms_report_str(r, "status"), "done") || strcmp(lms_report_str(r, "run_kind"), "grid") || !isfinite(l) ||
            !(c > 0))
            continue;
        if (c < cf) cf = c, first = l;
        if (c > cl) cl = c, last = l;
    }
    snprintf(ev, sizeof ev, "%d of %d domains have a lower loss at the largest compute than at the smallest.", fell, nd);
    lms_report_add_claim(claims, nd == 0 ? "no data" : fell == nd ? "supported" : "weak",
              "More compute lowers the loss on every kind of text, not only on average.", ev);
}

static void claim_runs(json_t *claims, json_t *runs, lms_report_summary *sum) {
    char ev[256];
    snprintf(ev, sizeof ev, "%d runs: %d finished, %d failed, %d pending or running%s", sum->n_runs, sum->n_done,
             sum->n_failed, sum->n_unfinished,
             sum->n_failed + sum->n_unfinished ? " (listed under Runs; left out of the fits)." : ".");
    lms_report_add_claim(claims, sum->n_failed + sum->n_unfinished ? "weak" : "supported",
              "Every run of the grid finished and is part of the evidence.", ev);
}

lms_status lms_report_analyse(json_t *data, const lms_report_opts *o, lms_report_summary *sum, lms_err *err) {
    json_t *runs = json_object_get(data, "runs");
    memset(sum, 0, sizeof *sum);
    sum->r2_log = sum->held_rel_err = NAN;
    for (size_t i = 0; i < json_array_size(runs); i++) {
        const char *st = lms_report_str(json_array_get(runs, i), "status");
        sum->n_runs++;
        if (!strcmp(st, "done")) sum->n_done++;
        else if (!strcmp(st, "failed")) sum->n_failed++;
        else sum->n_unfinished++;
    }
    json_t *fit = analyse_fits(data, o, err);
    if (!fit) return err->code;
    json_t *suites = lms_report_analyse_suites(data);
    if (!suites) return lms_errf(err, LMS_ERR_NOMEM, "out of memory classifying suites");
    /* the same L(C) treatment per domain (its validation loss) and per suite (-mean log-prob of the right answer) */
    json_object_set_new(data, "lc_domains", lc_by(json_object_get(data, "domains"), "domain", "loss", 0, 0, o));
    json_object_set_new(data, "lc_suites", lc_by(json_object_get(data, "evals"), "suite", "logp", 1, 1, o));
    json_t *lc = json_object_get(fit, "lc");
    sum->fitted = lc != NULL;
    if (lc) sum->r2_log = lms_report_num(lc, "r2_log");
    sum->held_rel_err = lms_report_num(json_object_get(fit, "held"), "rel_err_lc");
    sum->n_suites = (int)json_array_size(suites);

    json_t *claims = json_array();
    claim_loss_vs_compute(claims, fit);
    claim_heldout(claims, fit);
    claim_optimum(claims, fit);
    claim_domains(claims, data);
    lms_report_task_claims(claims, data);
    claim_runs(claims, runs, sum);
    for (size_t i = 0; i < json_array_size(claims); i++) {
        sum->n_claims++;
        json_t *c = json_array_get(claims, i);
        sum->n_weak += strcmp(lms_report_str(c, "verdict"), "supported") != 0;
        size_t at = strlen(sum->claims);
        if (at + 1 < sizeof sum->claims)
            snprintf(sum->claims + at, sizeof sum->claims - at, "%s: %s -- %s\n", lms_report_str(c, "verdict"),
                     lms_report_str(c, "claim"), lms_report_str(c, "evidence"));
    }
    json_object_set_new(data, "claims", claims);
    return LMS_OK;
}
