/* cmd_fit.c — the 'fit' subcommand: scaling laws from a JSON Lines file of runs.
 *
 *   lmscope fit runs.jsonl                       # both laws with 95% intervals, optimum, isoFLOP, held-out test
 *   lmscope fit runs.jsonl --json                # one JSON object with every number
 *   lmscope fit runs.jsonl --bootstrap 1000 --seed 7 --k 6
 *   ... | lmscope fit -                          # '-' reads stdin
 *
 * Each line is one run: {"name": "...", "params_nonembed": N, "tokens": D, "flops": C, "loss": L}
 * (other fields are ignored; "name" may be missing, then "model" or "line K" names the run). N, D,
 * C and L must be finite numbers > 0. Reading the runs is lms_fit_runs_read, the work lms_fit_runs,
 * the JSON lms_fit_report_json (src/scaling/fit.h); this file parses flags and prints the text.
 * docs/scaling.md says how to read the output.
 *
 * Exit status: 0 done (warnings go to the output, not the status); 1 the file is unreadable, a line
 * malformed (file:line in the message) or the runs cannot be fitted; 2 bad usage.
 * Leaves out: reading a sweep's database (the sweep runner will), plotting (the report).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "scaling/fit.h"

#define CMD "fit"

/* ---------------------------------------------------------------- text output */

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

static void print_ci(const char *name, lms_fit_ci c, const char *fmt) {
    char a[32], b[32], d[32];
    snprintf(a, sizeof a, fmt, c.est);
    snprintf(b, sizeof b, fmt, c.lo);
    snprintf(d, sizeof d, fmt, c.hi);
    printf("  %-6s = %-10s [%s, %s]\n", name, a, b, d);
}

static void print_head(const lms_fit_report *r, const lms_fit_runset *t, const lms_fit_opts *o, const char *path) {
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
}

static void print_laws(const lms_fit_report *r, const lms_fit_runset *t, const lms_fit_opts *o) {
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
}

static void print_checks(const lms_fit_report *r, const lms_fit_runset *t) {
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

static void print_text(const lms_fit_report *r, const lms_fit_runset *t, const lms_fit_opts *o, const char *path) {
    print_head(r, t, o, path);
    print_laws(r, t, o);
    print_checks(r, t);
}

/* The flag checks; 0 or 2 (message printed). */
static int check_flags(int npos, int n_boot, double level, double k, double delta) {
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
    return 0;
}

/* lms_fit_runs' message names runs by index; say which line (or run) that is. */
static void fit_error(const char *path, const lms_fit_runset *t, const lms_err *err) {
    int idx = -1;
    const char *p = strstr(err->msg, "run ");
    if (p) idx = atoi(p + 4);
    if (idx >= 0 && idx < t->n && p && p[4] >= '0' && p[4] <= '9')
        lms_cli_error(CMD, "%s: %s (run %d is '%s')", path, err->msg, idx, t->name[idx]);
    else lms_cli_error(CMD, "%s: %s", path, err->msg);
}

/* The report as one line of JSON ('fit --json', docs/scaling.md); 0 or 1. */
static int print_json(const lms_fit_report *r, const lms_fit_runset *t, const lms_fit_opts *o) {
    return lms_cli_print_json(CMD, lms_fit_report_json(r, (const char *const *)t->name, o, LMS_FIT_JSON_CLI), 8);
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
    if ((rc = check_flags(npos, n_boot, level, k, delta))) return rc;
    lms_fit_runset t;
    lms_err err = {0};
    int code = 1;
    if (lms_fit_runs_read(&t, pos[0], &err)) lms_cli_error(CMD, "%s", err.msg);
    else if (t.n == 0) lms_cli_error(CMD, "%s holds no runs", pos[0]);
    else code = 0;
    if (code) goto done;
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = n_boot;
    o.seed = (uint64_t)seed;
    o.level = level;
    o.k = k;
    o.huber_delta = delta;
    lms_fit_report rep;
    if (lms_fit_runs(t.r, t.n, &o, &rep, &err) != LMS_OK) {
        fit_error(pos[0], &t, &err);
        code = 1;
    } else if (as_json) code = print_json(&rep, &t, &o);
    else print_text(&rep, &t, &o, pos[0]);
    lms_fit_report_free(&rep);
    if (!code && fflush(stdout) != 0) code = 1;
done:
    lms_fit_runset_free(&t);
    return code;
}
