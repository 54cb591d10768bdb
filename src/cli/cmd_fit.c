/* cmd_fit.c — the 'fit' subcommand: scaling laws from a JSON Lines file of runs.
 *
 *   lmscope fit runs.jsonl                       # both laws with 95% intervals, optimum, isoFLOP, held-out test
 *   lmscope fit runs.jsonl --json                # one JSON object with every number
 *   lmscope fit runs.jsonl --bootstrap 1000 --seed 7 --k 6
 *   ... | lmscope fit -                          # '-' reads stdin
 *
 * Each line is one run: {"name": "...", "params_nonembed": N, "tokens": D, "flops": C, "loss": L}
 * (other fields are ignored; "name" may be missing, then "model" or "line K" names the run). N, D,
 * C and L must be finite numbers > 0. The work is lms_fit_runs (src/scaling/fit.h); this file reads
 * the runs and prints. docs/scaling.md says how to read the output.
 *
 * Exit status: 0 done (warnings go to the output, not the status); 1 the file is unreadable, a line
 * malformed (file:line in the message) or the runs cannot be fitted; 2 bad usage.
 * Leaves out: reading a sweep's database (the sweep runner will), plotting (the report).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/jsonl.h"
#include "scaling/db.h"
#include "scaling/fit.h"

#define CMD "fit"

typedef struct {
    lms_fit_run *r;
    char **name;
    int n, cap;
} runs_t;

static void runs_free(runs_t *t) {
    for (int i = 0; i < t->n; i++) free(t->name[i]);
    free(t->name);
    free(t->r);
}

/* A required number field > 0: 0 ok, -1 with a message in why. */
static int pos_field(json_t *row, const char *key, double *v, char *why, size_t cap) {
    json_t *f = json_object_get(row, key);
    if (!f || json_is_null(f)) {
        snprintf(why, cap, "no \"%s\"", key);
        return -1;
    }
    if (!json_is_number(f)) {
        snprintf(why, cap, "\"%s\" is not a number", key);
        return -1;
    }
    *v = json_number_value(f);
    if (!(isfinite(*v) && *v > 0)) {
        snprintf(why, cap, "\"%s\" is %g; it must be a finite number > 0", key, *v);
        return -1;
    }
    return 0;
}

/* One row; 0 ok, -1 malformed (why), -2 out of memory. */
static int add_row(runs_t *t, json_t *row, long lineno, char *why, size_t cap) {
    if (!json_is_object(row)) {
        snprintf(why, cap, "not a JSON object");
        return -1;
    }
    lms_fit_run r;
    if (pos_field(row, "params_nonembed", &r.N, why, cap) || pos_field(row, "tokens", &r.D, why, cap) ||
        pos_field(row, "flops", &r.C, why, cap) || pos_field(row, "loss", &r.L, why, cap))
        return -1;
    json_t *jn = json_object_get(row, "name");
    if (!jn || json_is_null(jn)) jn = json_object_get(row, "model");
    if (jn && !json_is_null(jn) && !json_is_string(jn)) {
        snprintf(why, cap, "\"name\" is not a string");
        return -1;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "line %ld", lineno);
    if (t->n == t->cap) {
        int nc = t->cap ? 2 * t->cap : 64;
        lms_fit_run *nr = realloc(t->r, (size_t)nc * sizeof *nr);
        if (!nr) return -2;
        t->r = nr;
        char **nn = realloc(t->name, (size_t)nc * sizeof *nn);
        if (!nn) return -2;
        t->name = nn;
        t->cap = nc;
    }
    t->name[t->n] = strdup(json_is_string(jn) ? json_string_value(jn) : buf);
    if (!t->name[t->n]) return -2;
    t->r[t->n++] = r;
    return 0;
}

static lms_status run_row(json_t *row, long line, void *user, lms_err *err) {
    char why[256];
    int r = add_row(user, row, line, why, sizeof why);
    if (r == -2) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    if (r < 0)
        return lms_errf(err, LMS_ERR_FORMAT, "%s (a run is {\"name\", \"params_nonembed\", \"tokens\", \"flops\", "
                        "\"loss\"}; see docs/scaling.md)", why);
    return LMS_OK;
}

/* A sweep dir: its results.db's finished grid runs (status done, not LR-sweep variants), with the
   whole-set validation loss. 0 ok, else the exit status. */
static int read_sweep(runs_t *t, const char *dir, const char *db_path) {
    lms_sweepdb *db = NULL;
    lms_err err = {0};
    lms_sweepdb_run *r = NULL;
    int n = 0, code = 0;
    if (lms_sweepdb_open(&db, db_path, 0, &err) || lms_sweepdb_list_runs(db, &r, &n, &err)) {
        lms_cli_error(CMD, "%s: %s", dir, err.msg);
        lms_sweepdb_close(db);
        return 1;
    }
    lms_sweepdb_close(db);
    for (int i = 0; i < n && !code; i++) {
        if (strcmp(r[i].status, "done") || strcmp(r[i].kind, "grid")) continue;
        json_t *row = json_pack("{s:s, s:f, s:f, s:f, s:f}", "name", r[i].name, "params_nonembed", (double)r[i].params_nonembed,
                                "tokens", r[i].tokens, "flops", r[i].flops, "loss", r[i].val_loss);
        char why[256];
        int a = row ? add_row(t, row, i + 1, why, sizeof why) : -2;
        json_decref(row);
        if (a == -2) lms_cli_error(CMD, "out of memory"), code = 1;
        else if (a < 0) lms_cli_error(CMD, "%s: run %s: %s", db_path, r[i].name, why), code = 1;
    }
    free(r);
    return code;
}

/* Read a JSON Lines file of runs (or stdin for "-"), or a sweep dir's results.db; 0 ok, else the exit status. */
static int read_runs(runs_t *t, const char *path) {
    char dbp[4200];
    struct stat sd;
    snprintf(dbp, sizeof dbp, "%s/results.db", path);
    if (strcmp(path, "-") && stat(path, &sd) == 0 && S_ISDIR(sd.st_mode) && stat(dbp, &sd) == 0)
        return read_sweep(t, path, dbp);
    lms_err err = {0};
    if (lms_jsonl_read(path, run_row, t, &err)) {
        lms_cli_error(CMD, "%s", err.msg);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- JSON output */

static json_t *jci(lms_fit_ci c) {
    json_t *o = json_object();
    json_object_set_new(o, "est", lms_json_num(c.est));
    json_object_set_new(o, "lo", lms_json_num(c.lo));
    json_object_set_new(o, "hi", lms_json_num(c.hi));
    return o;
}

static json_t *iso_json(const lms_fit_isoflop *f) {
    json_t *iso = json_object(), *gs = json_array();
    for (int i = 0; i < f->n_groups; i++) {
        const lms_fit_isoflop_group *g = &f->groups[i];
        json_t *p = json_object();
        json_object_set_new(p, "C", lms_json_num(g->C));
        json_object_set_new(p, "sizes", json_integer(g->n_sizes));
        json_object_set_new(p, "bracketed", json_boolean(g->bracketed));
        json_object_set_new(p, "N_opt", lms_json_num(g->N_opt));
        json_object_set_new(p, "loss_opt", lms_json_num(g->L_opt));
        json_array_append_new(gs, p);
    }
    json_object_set_new(iso, "groups", gs);
    json_object_set_new(iso, "minima", json_integer(f->n_minima));
    json_object_set_new(iso, "exponent", lms_json_num(f->a));
    json_object_set_new(iso, "exponent_se", lms_json_num(f->a_se));
    json_object_set_new(iso, "G", lms_json_num(f->G));
    return iso;
}

static void print_iso(const lms_fit_report *r, const lms_fit_isoflop *f, const char *title) {
    fputs(title, stdout);
    for (int i = 0; i < f->n_groups; i++) {
        const lms_fit_isoflop_group *g = &f->groups[i];
        if (isfinite(g->N_opt))
            printf("  C = %.3g: %d sizes, minimum at N = %.3g (L %.4f)\n", g->C, g->n_sizes, g->N_opt, g->L_opt);
        else
            printf("  C = %.3g: %d sizes, %s\n", g->C, g->n_sizes,
                   g->bracketed ? "no convex minimum inside the sizes" : "not bracketed (lowest loss at an end)");
    }
    if (isfinite(f->a)) {
        printf("  N_opt ~ C^%.3f", f->a);
        if (isfinite(f->a_se)) printf(" +- %.3f", f->a_se);
        if (r->nd_ok) printf("   (L(N, D) says C^%.3f)", r->nd.p.beta / (r->nd.p.alpha + r->nd.p.beta));
        printf("\n");
    }
    printf("\n");
}

static json_t *report_json(const lms_fit_report *r, const runs_t *t, const lms_fit_opts *o) {
    json_t *j = json_object();
    json_object_set_new(j, "runs", json_integer(r->n_runs));
    json_object_set_new(j, "k", lms_json_num(r->k));
    json_object_set_new(j, "bootstrap", json_integer(o->n_boot));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "level", lms_json_num(o->level));
    json_t *fr = json_array();
    for (int i = 0; i < r->n_frontier; i++) json_array_append_new(fr, json_string(t->name[r->frontier[i]]));
    json_object_set_new(j, "frontier", fr);
    if (r->lc_ok) {
        json_t *l = json_object();
        json_object_set_new(l, "points", json_integer(r->lc.n));
        json_object_set_new(l, "E", jci(r->lc.E));
        json_object_set_new(l, "A", jci(r->lc.A));
        json_object_set_new(l, "alpha", jci(r->lc.alpha));
        json_object_set_new(l, "r2_log", lms_json_num(r->lc.r2_log));
        json_object_set_new(l, "rmse_log", lms_json_num(r->lc.rmse_log));
        json_object_set_new(l, "converged", json_boolean(r->lc.converged));
        json_object_set_new(l, "boot_ok", json_integer(r->lc.n_boot));
        json_object_set_new(l, "boot_failed", json_integer(r->lc.n_boot_failed));
        json_object_set_new(j, "lc", l);
    } else json_object_set_new(j, "lc", json_null());
    if (r->nd_ok) {
        json_t *l = json_object();
        json_object_set_new(l, "points", json_integer(r->nd.n));
        json_object_set_new(l, "E", jci(r->nd.E));
        json_object_set_new(l, "A", jci(r->nd.A));
        json_object_set_new(l, "alpha", jci(r->nd.alpha));
        json_object_set_new(l, "B", jci(r->nd.B));
        json_object_set_new(l, "beta", jci(r->nd.beta));
        json_object_set_new(l, "r2_log", lms_json_num(r->nd.r2_log));
        json_object_set_new(l, "rmse_log", lms_json_num(r->nd.rmse_log));
        json_object_set_new(l, "huber_delta", lms_json_num(o->huber_delta));
        json_object_set_new(l, "objective", lms_json_num(r->nd.objective));
        json_object_set_new(l, "starts", json_integer(r->nd.n_starts));
        json_object_set_new(l, "converged", json_boolean(r->nd.converged));
        json_object_set_new(l, "boot_ok", json_integer(r->nd.n_boot));
        json_object_set_new(l, "boot_failed", json_integer(r->nd.n_boot_failed));
        json_object_set_new(j, "nd", l);
    } else json_object_set_new(j, "nd", json_null());
    json_t *opt = json_array();
    for (int i = 0; i < 2; i++) {
        if (!(r->opt[i].C > 0)) continue;
        json_t *p = json_object();
        json_object_set_new(p, "C", lms_json_num(r->opt[i].C));
        json_object_set_new(p, "N", jci(r->opt[i].N));
        json_object_set_new(p, "D", jci(r->opt[i].D));
        json_object_set_new(p, "loss", jci(r->opt[i].L));
        json_object_set_new(p, "beyond_grid", json_boolean(r->opt[i].beyond_grid));
        json_array_append_new(opt, p);
    }
    json_object_set_new(j, "optimum", opt);
    json_object_set_new(j, "isoflop", iso_json(&r->iso));
    json_object_set_new(j, "isoflop_interpolated", iso_json(&r->iso_interp));
    json_t *h = json_object();
    json_object_set_new(h, "ok", json_boolean(r->held.ok));
    json_object_set_new(h, "name", json_string(t->name[r->held.index]));
    json_object_set_new(h, "C", lms_json_num(r->held.C));
    json_object_set_new(h, "N", lms_json_num(r->held.N));
    json_object_set_new(h, "D", lms_json_num(r->held.D));
    json_object_set_new(h, "loss", lms_json_num(r->held.L));
    json_object_set_new(h, "pred_lc", lms_json_num(r->held.L_pred_lc));
    json_object_set_new(h, "rel_err_lc", lms_json_num(r->held.rel_err_lc));
    json_object_set_new(h, "pred_nd", lms_json_num(r->held.L_pred_nd));
    json_object_set_new(h, "rel_err_nd", lms_json_num(r->held.rel_err_nd));
    if (!r->held.ok) json_object_set_new(h, "why", json_string(r->held.why));
    json_object_set_new(j, "holdout", h);
    json_t *w = json_array();
    for (const char *p = r->warnings; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(w, json_stringn(p, len));
        p += len + (e ? 1 : 0);
    }
    json_object_set_new(j, "warnings", w);
    return j;
}

/* ---------------------------------------------------------------- text output */

static void print_ci(const char *name, lms_fit_ci c, const char *fmt) {
    char a[32], b[32], d[32];
    snprintf(a, sizeof a, fmt, c.est);
    snprintf(b, sizeof b, fmt, c.lo);
    snprintf(d, sizeof d, fmt, c.hi);
    printf("  %-6s = %-10s [%s, %s]\n", name, a, b, d);
}

static void print_text(const lms_fit_report *r, const runs_t *t, const lms_fit_opts *o, const char *path) {
    double cmin = INFINITY, cmax = 0, nmin = INFINITY, nmax = 0, dmin = INFINITY, dmax = 0;
    for (int i = 0; i < t->n; i++) {
        cmin = fmin(cmin, t->r[i].C), cmax = fmax(cmax, t->r[i].C);
        nmin = fmin(nmin, t->r[i].N), nmax = fmax(nmax, t->r[i].N);
        dmin = fmin(dmin, t->r[i].D), dmax = fmax(dmax, t->r[i].D);
    }
    int pct = (int)lround(100 * o->level);
    printf("%d runs from %s: C %.3g..%.3g FLOPs (%.1f decades), N %.3g..%.3g, D %.3g..%.3g tokens\n", t->n, path,
           cmin, cmax, log10(cmax / cmin), nmin, nmax, dmin, dmax);
    printf("k = %.3g FLOPs per parameter per token%s; intervals: %d%% percentile bootstrap, %d resamples, seed %llu\n\n",
           r->k, o->k > 0 ? " (--k)" : " (median of flops/(N*D) over the runs)", pct, o->n_boot,
           (unsigned long long)o->seed);

    if (r->lc_ok) {
        printf("L(C) = E + A*C^-alpha over the compute frontier (%d of %d runs), least squares on log-loss\n",
               r->lc.n, t->n);
        print_ci("E", r->lc.E, "%.4g");
        print_ci("A", r->lc.A, "%.4g");
        print_ci("alpha", r->lc.alpha, "%.4f");
        printf("  R^2 (log) %.5f, rms log residual %.4f%s\n\n", r->lc.r2_log, r->lc.rmse_log,
               r->lc.converged ? "" : "  (did NOT converge)");
    } else printf("L(C): not fitted (see warnings)\n\n");

    if (r->nd_ok) {
        printf("L(N, D) = E + A/N^alpha + B/D^beta, Huber (delta %g) on log-loss, best of %d starts\n", o->huber_delta,
               r->nd.n_starts);
        print_ci("E", r->nd.E, "%.4g");
        print_ci("A", r->nd.A, "%.4g");
        print_ci("alpha", r->nd.alpha, "%.4f");
        print_ci("B", r->nd.B, "%.4g");
        print_ci("beta", r->nd.beta, "%.4f");
        printf("  R^2 (log) %.5f, rms log residual %.4f%s\n\n", r->nd.r2_log, r->nd.rmse_log,
               r->nd.converged ? "" : "  (did NOT converge)");
        if (r->opt[0].C > 0) {
            double a = r->nd.p.alpha, b = r->nd.p.beta;
            printf("compute-optimal split (C = k*N*D): N* ~ C^%.3f, D* ~ C^%.3f, L* - E ~ C^-%.3f", b / (a + b),
                   a / (a + b), a * b / (a + b));
            if (r->lc_ok) printf(" (L(C) on the frontier: C^-%.3f)", r->lc.p.alpha);
            printf("\n");
            for (int i = 0; i < 2; i++) {
                const lms_fit_optimum *p = &r->opt[i];
                printf("  C = %.3g %-9s  N* = %.3g [%.3g, %.3g]  D* = %.3g [%.3g, %.3g]  D*/N* = %.3g  L = %.4f [%.4f, %.4f]%s\n",
                       p->C, i ? "(10x)" : "(largest)", p->N.est, p->N.lo, p->N.hi, p->D.est, p->D.lo, p->D.hi,
                       p->D.est / p->N.est, p->L.est, p->L.lo, p->L.hi, p->beyond_grid ? "  beyond the sizes trained" : "");
            }
            printf("\n");
        }
    } else printf("L(N, D): not fitted (see warnings)\n\n");

    if (r->iso.n_groups == 0)
        printf("isoFLOP check: no compute budget with >= 3 model sizes (runs within 10%% of each other's FLOPs form a "
               "budget)\n");
    else print_iso(r, &r->iso, "isoFLOP check (budgets of runs within 10% FLOPs; parabola in ln N through each):\n");
    if (r->iso_interp.n_groups == 0) printf("isoFLOP profiles interpolated along each size's budgets: fewer than 3 sizes overlap in compute\n\n");
    else
        print_iso(r, &r->iso_interp, "isoFLOP profiles interpolated along each size's budgets (ln L linear in ln C between "
                  "a size's runs; parabola in ln N):\n");

    const lms_fit_holdout *h = &r->held;
    printf("held-out test: the largest run '%s' (C %.3g, N %.3g, D %.3g, loss %.4f) left out, fitted on the other %d\n",
           t->name[h->index], h->C, h->N, h->D, h->L, t->n - 1);
    if (!h->ok) printf("  not possible: %s\n", h->why);
    else {
        if (isfinite(h->L_pred_nd))
            printf("  L(N, D) predicts %.4f: error %+.2f%%\n", h->L_pred_nd, 100 * h->rel_err_nd);
        else printf("  L(N, D): cannot be fitted on the other runs\n");
        if (isfinite(h->L_pred_lc))
            printf("  L(C)    predicts %.4f: error %+.2f%%\n", h->L_pred_lc, 100 * h->rel_err_lc);
        else printf("  L(C): cannot be fitted on the other runs' frontier\n");
    }
    if (r->warnings[0]) {
        printf("\nwarnings:\n");
        for (const char *p = r->warnings; *p;) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            printf("  %.*s\n", (int)len, p);
            p += len + (e ? 1 : 0);
        }
    }
}

int lms_cmd_fit(int argc, char **argv) {
    int as_json = 0, n_boot = 500;
    int64_t seed = 1;
    double level = 0.95, k = 0, delta = 1e-3;
    lms_flag flags[] = {
        {"json", LMS_FLAG_BOOL, &as_json, "one JSON object with every number instead of the text", 0},
        {"bootstrap", LMS_FLAG_INT, &n_boot, "bootstrap resamples for the intervals (0: none)", 0},
        {"seed", LMS_FLAG_I64, &seed, "bootstrap seed", 0},
        {"level", LMS_FLAG_DOUBLE, &level, "interval coverage", 0},
        {"k", LMS_FLAG_DOUBLE, &k, "FLOPs per parameter per token for the optimum (C = k*N*D); 0: median of flops/(N*D)", 0},
        {"huber-delta", LMS_FLAG_DOUBLE, &delta, "Huber threshold on log-loss residuals for L(N, D) (0: least squares)", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Fit scaling laws to training runs: L(C) over the compute frontier and L(N, D), with "
                            "bootstrap intervals, the compute-optimal size, an isoFLOP check and a held-out prediction. "
                            "FILE: JSON Lines, one run per line ({\"name\", \"params_nonembed\", \"tokens\", \"flops\", "
                            "\"loss\"}); - for stdin; or a sweep dir (its results.db's finished grid runs, loss = whole-set validation loss).", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos != 1) {
        lms_cli_error(CMD, "give one JSON Lines file of runs, e.g. lmscope fit runs.jsonl (got %d arguments)", npos);
        return 2;
    }
    if (n_boot < 0 || n_boot > 100000) {
        lms_cli_error(CMD, "--bootstrap %d: must lie in [0, 100000]", n_boot);
        return 2;
    }
    if (!(level > 0 && level < 1)) {
        lms_cli_error(CMD, "--level %g: must lie strictly between 0 and 1 (0.95 for 95%% intervals)", level);
        return 2;
    }
    if (!(k >= 0 && isfinite(k))) {
        lms_cli_error(CMD, "--k %g: must be > 0 (6 is the usual approximation), or 0 to take it from the runs", k);
        return 2;
    }
    if (!(delta >= 0 && isfinite(delta))) {
        lms_cli_error(CMD, "--huber-delta %g: must be a finite number >= 0", delta);
        return 2;
    }
    runs_t t = {0};
    int code = read_runs(&t, pos[0]);
    if (code) goto done;
    if (t.n == 0) {
        lms_cli_error(CMD, "%s holds no runs", pos[0]);
        code = 1;
        goto done;
    }
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = n_boot;
    o.seed = (uint64_t)seed;
    o.level = level;
    o.k = k;
    o.huber_delta = delta;
    lms_fit_report rep;
    lms_err err = {0};
    if (lms_fit_runs(t.r, t.n, &o, &rep, &err) != LMS_OK) {
        /* the library names runs by index; say which line that is */
        int idx = -1;
        const char *p = strstr(err.msg, "run ");
        if (p) idx = atoi(p + 4);
        if (idx >= 0 && idx < t.n && p && p[4] >= '0' && p[4] <= '9')
            lms_cli_error(CMD, "%s: %s (run %d is '%s')", pos[0], err.msg, idx, t.name[idx]);
        else lms_cli_error(CMD, "%s: %s", pos[0], err.msg);
        lms_fit_report_free(&rep);
        code = 1;
        goto done;
    }
    if (as_json) {
        json_t *j = report_json(&rep, &t, &o);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
        json_decref(j);
        if (!s) {
            lms_cli_error(CMD, "out of memory");
            code = 1;
        } else {
            puts(s);
            free(s);
        }
    } else print_text(&rep, &t, &o, pos[0]);
    lms_fit_report_free(&rep);
    if (fflush(stdout) != 0) code = 1;
done:
    runs_free(&t);
    return code;
}
