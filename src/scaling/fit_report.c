/* fit_report.c — lms_fit_runs: the whole scaling analysis of a set of runs, as `lmscope fit` prints it
 * (fit.h): k from the runs, L(C) on the compute frontier, L(N, D), the compute-optimal split at the
 * largest compute and 10x it, the isoFLOP check over runs grouped by compute, the held-out test and
 * the warnings. Every fit is a call into fit.c; this file only strings them together and judges
 * the results. Leaves out: anything that reads files or prints.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scaling/fit.h"

#define P_LC 3 /* parameters of L(C) */

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static lms_status check_pos(const char *name, int i, double x, lms_err *err) {
    if (!(isfinite(x) && x > 0))
        return lms_errf(err, LMS_ERR_ARG, "run %d: %s = %g; it must be a finite number > 0", i, name, x);
    return LMS_OK;
}

/* Append one warning line and set its bit. */
static void warnf(lms_fit_report *r, unsigned bit, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warnf(lms_fit_report *r, unsigned bit, const char *fmt, ...) {
    r->warn |= bit;
    size_t len = strlen(r->warnings);
    if (len + 2 >= sizeof r->warnings) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->warnings + len, sizeof r->warnings - len - 1, fmt, ap);
    va_end(ap);
    len = strlen(r->warnings);
    r->warnings[len] = '\n';
    r->warnings[len + 1] = 0;
}

/* Warn when an estimate lies outside its own interval (names in the order E, A, alpha, B, beta). */
static void unstable(lms_fit_report *r, const char *law, const lms_fit_ci *const *c, int m) {
    static const char *names[] = {"E", "A", "alpha", "B", "beta"};
    char list[64] = "";
    for (int j = 0; j < m; j++)
        if (c[j]->est < c[j]->lo - 1e-6 * fabs(c[j]->est) || c[j]->est > c[j]->hi + 1e-6 * fabs(c[j]->est))
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", names[j]);
    if (list[0])
        warnf(r, LMS_FIT_WARN_UNSTABLE, "%s: the estimate of %s lies outside its bootstrap interval: the fit jumps "
              "between solutions when the runs are resampled; do not trust its intervals", law, list);
}

/* Fit L(C) on the frontier of runs (all but `skip`, -1 for none); 1 fitted, 0 too few points, -1 error. */
static int lc_on_frontier(const lms_fit_run *runs, int n, int skip, const lms_fit_opts *o, lms_fit_lc *out,
                          int **frontier, int *n_front, lms_err *err) {
    double *c = malloc((size_t)n * 2 * sizeof *c);
    int *map = malloc((size_t)n * sizeof *map), *idx = malloc((size_t)n * sizeof *idx);
    int rc = -1;
    if (!c || !map || !idx) {
        lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        goto done;
    }
    double *l = c + n;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (i != skip) {
            c[m] = runs[i].C;
            l[m] = runs[i].L;
            map[m++] = i;
        }
    int nf;
    if (lms_fit_frontier(c, l, m, idx, &nf, err)) goto done;
    for (int j = 0; j < nf; j++) {
        c[j] = runs[map[idx[j]]].C;
        l[j] = runs[map[idx[j]]].L;
        idx[j] = map[idx[j]];
    }
    if (frontier) {
        *frontier = idx;
        *n_front = nf;
        idx = NULL;
    }
    if (nf < P_LC + 1) {
        rc = 0;
        lms_errf(err, LMS_ERR_ARG, "the compute frontier has %d point%s; L(C) needs at least 4", nf, nf == 1 ? "" : "s");
        goto done;
    }
    rc = lms_fit_lc_fit(c, l, nf, o, out, err) == LMS_OK ? 1 : -1;
done:
    free(c);
    free(map);
    free(idx);
    return rc;
}

static void holdout(const lms_fit_run *runs, int n, const lms_fit_opts *o, lms_fit_holdout *h, lms_err *err) {
    memset(h, 0, sizeof *h);
    h->L_pred_lc = h->rel_err_lc = h->L_pred_nd = h->rel_err_nd = NAN;
    int big = 0;
    for (int i = 1; i < n; i++)
        if (runs[i].C > runs[big].C) big = i;
    h->index = big;
    h->C = runs[big].C;
    h->N = runs[big].N;
    h->D = runs[big].D;
    h->L = runs[big].L;
    lms_fit_opts q = *o;
    q.n_boot = 0;
    lms_fit_lc lc;
    lms_err e1 = {0}, e2 = {0};
    if (lc_on_frontier(runs, n, big, &q, &lc, NULL, NULL, &e1) == 1) {
        h->L_pred_lc = lms_fit_lc_predict(&lc.p, h->C);
        h->rel_err_lc = (h->L_pred_lc - h->L) / h->L;
    }
    lms_fit_run *rest = malloc((size_t)n * sizeof *rest);
    if (rest) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (i != big) rest[m++] = runs[i];
        lms_fit_nd nd;
        if (lms_fit_nd_fit(rest, m, &q, &nd, &e2) == LMS_OK) {
            h->L_pred_nd = lms_fit_nd_predict(&nd.p, h->N, h->D);
            h->rel_err_nd = (h->L_pred_nd - h->L) / h->L;
        }
        lms_fit_nd_free(&nd);
        free(rest);
    } else lms_errf(&e2, LMS_ERR_NOMEM, "out of memory");
    h->ok = isfinite(h->rel_err_lc) || isfinite(h->rel_err_nd);
    if (!h->ok) snprintf(h->why, sizeof h->why, "without the largest run: L(C): %.60s; L(N, D): %.60s", e1.msg, e2.msg);
    (void)err;
}

void lms_fit_report_free(lms_fit_report *r) {
    free(r->frontier);
    r->frontier = NULL;
    lms_fit_nd_free(&r->nd);
    lms_fit_isoflop_free(&r->iso);
    lms_fit_isoflop_free(&r->iso_interp);
    free(r->iso_pts);
    free(r->iso_pts_group);
    r->iso_pts = NULL;
    r->iso_pts_group = NULL;
    r->n_iso_pts = 0;
}

lms_status lms_fit_runs(const lms_fit_run *runs, int n, const lms_fit_opts *opts, lms_fit_report *out, lms_err *err) {
    memset(out, 0, sizeof *out);
    out->held.L_pred_lc = out->held.rel_err_lc = out->held.L_pred_nd = out->held.rel_err_nd = NAN;
    out->iso.a = out->iso.a_se = out->iso.G = NAN;
    out->iso_interp.a = out->iso_interp.a_se = out->iso_interp.G = NAN;
    lms_fit_opts o;
    if (opts) o = *opts;
    else lms_fit_opts_default(&o);
    lms_status st = lms_fit_opts_check(&o, err);
    if (st) return st;
    if (n < P_LC + 1)
        return lms_errf(err, LMS_ERR_ARG, "%d run%s; a scaling fit needs at least 4 (and at least 6 for L(N, D))", n,
                        n == 1 ? "" : "s");
    for (int i = 0; i < n; i++)
        if (check_pos("N (params_nonembed)", i, runs[i].N, err) || check_pos("D (tokens)", i, runs[i].D, err) ||
            check_pos("C (flops)", i, runs[i].C, err) || check_pos("loss", i, runs[i].L, err))
            return LMS_ERR_ARG;
    out->n_runs = n;

    double *tmp = malloc((size_t)n * sizeof *tmp);
    int *group = malloc((size_t)n * sizeof *group);
    if (!tmp || !group) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory for %d runs", n);
        goto done;
    }
    if (o.k > 0) out->k = o.k;
    else {
        for (int i = 0; i < n; i++) tmp[i] = runs[i].C / (runs[i].N * runs[i].D);
        qsort(tmp, (size_t)n, sizeof *tmp, cmp_dbl);
        out->k = n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
    }
    double cmax = 0;
    for (int i = 0; i < n; i++) cmax = fmax(cmax, runs[i].C);

    lms_err e = {0};
    int r = lc_on_frontier(runs, n, -1, &o, &out->lc, &out->frontier, &out->n_frontier, &e);
    if (r < 0 && e.code != LMS_ERR_ARG) {
        st = lms_errf(err, e.code, "L(C) fit: %s", e.msg);
        goto done;
    }
    out->lc_ok = r == 1;
    if (!out->lc_ok) warnf(out, LMS_FIT_WARN_SKIPPED, "L(C) not fitted: %s", e.msg);
    else if (!out->lc.converged) warnf(out, LMS_FIT_WARN_NOCONV_LC, "the L(C) fit did not converge; treat it with care");

    memset(&e, 0, sizeof e);
    st = lms_fit_nd_fit(runs, n, &o, &out->nd, &e);
    if (st != LMS_OK && st != LMS_ERR_ARG) {
        st = lms_errf(err, st, "%s", e.msg);
        goto done;
    }
    out->nd_ok = st == LMS_OK;
    st = LMS_OK;
    if (!out->nd_ok) warnf(out, LMS_FIT_WARN_SKIPPED, "%s; not fitted", e.msg);
    else if (!out->nd.converged)
        warnf(out, LMS_FIT_WARN_NOCONV_ND, "the L(N, D) fit did not converge; treat it with care");

    double lmin = INFINITY;
    for (int i = 0; i < n; i++) lmin = fmin(lmin, runs[i].L);
    if (out->lc_ok && out->lc.p.E < 1e-3 * lmin)
        warnf(out, LMS_FIT_WARN_NO_FLOOR, "L(C): the fitted E is ~0 (%.3g): the runs show no loss floor yet, so alpha "
              "rests on the curve's shape alone; cover more compute", out->lc.p.E);
    if (out->nd_ok && out->nd.p.E < 1e-3 * lmin)
        warnf(out, LMS_FIT_WARN_NO_FLOOR, "L(N, D): the fitted E is ~0 (%.3g): the runs show no loss floor yet; the "
              "exponents are unreliable", out->nd.p.E);
    if (out->lc_ok) unstable(out, "L(C)", (const lms_fit_ci *[]){&out->lc.E, &out->lc.A, &out->lc.alpha}, 3);
    if (out->nd_ok)
        unstable(out, "L(N, D)", (const lms_fit_ci *[]){&out->nd.E, &out->nd.A, &out->nd.alpha, &out->nd.B, &out->nd.beta}, 5);

    int bfail = (out->lc_ok ? out->lc.n_boot_failed : 0) + (out->nd_ok ? out->nd.n_boot_failed : 0);
    int btot = (out->lc_ok ? o.n_boot : 0) + (out->nd_ok ? o.n_boot : 0);
    if (btot && bfail * 10 > btot)
        warnf(out, LMS_FIT_WARN_BOOT, "%d of %d bootstrap refits failed; the intervals rest on the rest", bfail, btot);

    if (out->nd_ok) {
        for (int j = 0; j < 2; j++) {
            memset(&e, 0, sizeof e);
            lms_status so = lms_fit_optimum_at(&out->nd, j ? 10 * cmax : cmax, out->k, &out->opt[j], &e);
            if (so == LMS_ERR_NOMEM) {
                st = lms_errf(err, so, "%s", e.msg);
                goto done;
            }
            if (so != LMS_OK) {
                warnf(out, LMS_FIT_WARN_SKIPPED, "%s", e.msg);
                break;
            }
        }
        if (out->opt[0].C > 0 && out->opt[0].beyond_grid)
            warnf(out, LMS_FIT_WARN_EDGE,
                  "the compute-optimal size at the largest compute (N* = %.3g at C = %.3g) lies outside the sizes "
                  "trained (%.3g to %.3g): it is an extrapolation; train %s models",
                  out->opt[0].N.est, out->opt[0].C, out->nd.N_min, out->nd.N_max,
                  out->opt[0].N.est > out->nd.N_max ? "larger" : "smaller");
    }

    for (int i = 0; i < n; i++) tmp[i] = runs[i].C;
    int ng;
    if ((st = lms_fit_group_by_compute(tmp, n, 0.10, group, &ng, err))) goto done;
    if ((st = lms_fit_isoflop_fit(runs, group, n, ng, &out->iso, err))) goto done;
    if ((st = lms_fit_isoflop_interp(runs, n, 6, &out->iso_interp, &out->iso_pts, &out->iso_pts_group,
                                     &out->n_iso_pts, err)))
        goto done;

    holdout(runs, n, &o, &out->held, err);
done:
    free(tmp);
    free(group);
    return st;
}
