/* fit.c — scaling-law fits with GSL (see fit.h for the laws and the procedure, docs/scaling.md for
 * why and how to read the results).
 *
 * One solver serves both laws: the model in centred log coordinates (u = ln C - c0 for L(C);
 * u = ln N - n0, v = ln D - d0 for L(N, D)), its log-space residuals and their Jacobian feed
 * gsl_multifit_nlinear (trust region, Levenberg-Marquardt, QR); the Huber loss is iteratively
 * reweighted least squares around it. Around the solver: the frontier, grid starts, the bootstrap,
 * the compute-optimal split, the isoFLOP parabolas (gsl_multifit_linear) and their power law
 * (gsl_fit_linear). The held-out test and the report that strings them together are in fit_report.c.
 * Leaves out: anything that reads files or prints.
 */
#include "scaling/fit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multifit_nlinear.h>

#include "core/rng.h"

enum { M_LC = 0, M_ND = 1 };
#define P_LC 3
#define P_ND 5
#define IRLS_MAX_ROUNDS 200
#define IRLS_RTOL 1e-8
#define ITER_ROUND 200   /* solver iterations per round */
#define ITER_BUDGET 3000 /* per solve, over all rounds: a start that drifts (E -> 0) is given up */
#define REDRAW_MAX 100

void lms_fit_opts_default(lms_fit_opts *o) {
    o->n_boot = 500;
    o->seed = 1;
    o->level = 0.95;
    o->huber_delta = 1e-3;
    o->k = 0;
}

/* ---------------------------------------------------------------- the model and the solver */

typedef struct {
    int model, n, p;
    const double *u, *v, *y; /* centred ln C or ln N; centred ln D (ND only); ln L */
} prob;

static double ex(double z) { return exp(z > 300 ? 300 : z < -300 ? -300 : z); } /* never inf */

/* Prediction (not its log) at point i for parameters t (centred coordinates); terms out in t1, t2. */
static double pred_i(const prob *P, const double *t, int i, double *t1, double *t2) {
    *t1 = ex(t[1] - t[2] * P->u[i]);
    *t2 = P->model == M_ND ? ex(t[3] - t[4] * P->v[i]) : 0.0;
    return ex(t[0]) + *t1 + *t2;
}

static int f_cb(const gsl_vector *x, void *params, gsl_vector *f) {
    const prob *P = params;
    double t1, t2;
    for (int i = 0; i < P->n; i++) gsl_vector_set(f, i, log(pred_i(P, x->data, i, &t1, &t2)) - P->y[i]);
    return GSL_SUCCESS;
}

static int df_cb(const gsl_vector *x, void *params, gsl_matrix *J) {
    const prob *P = params;
    const double *t = x->data;
    double t1, t2;
    for (int i = 0; i < P->n; i++) {
        double pr = pred_i(P, t, i, &t1, &t2);
        gsl_matrix_set(J, i, 0, ex(t[0]) / pr);
        gsl_matrix_set(J, i, 1, t1 / pr);
        gsl_matrix_set(J, i, 2, -P->u[i] * t1 / pr);
        if (P->model == M_ND) {
            gsl_matrix_set(J, i, 3, t2 / pr);
            gsl_matrix_set(J, i, 4, -P->v[i] * t2 / pr);
        }
    }
    return GSL_SUCCESS;
}

typedef struct {
    prob P;
    gsl_multifit_nlinear_workspace *w;
    gsl_multifit_nlinear_fdf fdf;
    double *wts, *r; /* n each */
} solver;

static int solver_init(solver *s, int model, int n, const double *u, const double *v, const double *y) {
    memset(s, 0, sizeof *s);
    s->P = (prob){model, n, model == M_ND ? P_ND : P_LC, u, v, y};
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    par.solver = gsl_multifit_nlinear_solver_qr;
    s->w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, (size_t)n, (size_t)s->P.p);
    s->wts = malloc((size_t)n * sizeof *s->wts);
    s->r = malloc((size_t)n * sizeof *s->r);
    s->fdf = (gsl_multifit_nlinear_fdf){.f = f_cb, .df = df_cb, .fvv = NULL, .n = (size_t)n, .p = (size_t)s->P.p,
                                        .params = &s->P};
    return s->w && s->wts && s->r ? 0 : -1;
}

static void solver_free(solver *s) {
    if (s->w) gsl_multifit_nlinear_free(s->w);
    free(s->wts);
    free(s->r);
    memset(s, 0, sizeof *s);
}

static double huber(double r, double delta) {
    double a = fabs(r);
    if (delta <= 0 || a <= delta) return 0.5 * r * r;
    return delta * (a - 0.5 * delta);
}

/* Residuals at t into s->r and the objective (Huber, or half the sum of squares when delta <= 0). */
static double objective(solver *s, const double *t, double delta) {
    double obj = 0, t1, t2;
    for (int i = 0; i < s->P.n; i++) {
        s->r[i] = log(pred_i(&s->P, t, i, &t1, &t2)) - s->P.y[i];
        obj += huber(s->r[i], delta);
    }
    return obj;
}

/* Minimise from t (in/out). Returns 1 converged, 0 not; *obj the final objective (INFINITY when the
   parameters are not finite). */
static int solve(solver *s, double *t, double delta, double *obj) {
    int p = s->P.p, n = s->P.n;
    for (int i = 0; i < n; i++) s->wts[i] = 1.0;
    double prev = INFINITY;
    int ok = 0;
    size_t iters = 0;
    *obj = INFINITY;
    for (int round = 0; round < (delta > 0 ? IRLS_MAX_ROUNDS : 1) && iters < ITER_BUDGET; round++) {
        gsl_vector_view x = gsl_vector_view_array(t, (size_t)p);
        gsl_vector_view wv = gsl_vector_view_array(s->wts, (size_t)n);
        if (gsl_multifit_nlinear_winit(&x.vector, &wv.vector, &s->fdf, s->w) != GSL_SUCCESS) return 0;
        int info;
        int st = gsl_multifit_nlinear_driver(ITER_ROUND, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, s->w);
        iters += gsl_multifit_nlinear_niter(s->w);
        const gsl_vector *xr = gsl_multifit_nlinear_position(s->w);
        for (int j = 0; j < p; j++) t[j] = gsl_vector_get(xr, (size_t)j);
        for (int j = 0; j < p; j++)
            if (!isfinite(t[j])) return 0;
        double o = objective(s, t, delta);
        if (!isfinite(o)) return 0;
        *obj = o;
        int inner_ok = st == GSL_SUCCESS || st == GSL_ENOPROG;
        if (delta <= 0) return inner_ok;
        if (round > 0 && prev - o <= IRLS_RTOL * prev) {
            ok = inner_ok;
            break;
        }
        prev = o;
        double change = 0; /* the next round solves the same problem when no weight moves */
        for (int i = 0; i < n; i++) {
            double a = fabs(s->r[i]), w = a <= delta ? 1.0 : delta / a;
            change = fmax(change, fabs(w - s->wts[i]));
            s->wts[i] = w;
        }
        if (round > 0 && change == 0) {
            ok = inner_ok;
            break;
        }
    }
    return ok;
}

/* ---------------------------------------------------------------- small helpers */

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted x[0..m) (linear interpolation between order statistics). */
static double quantile(const double *x, int m, double q) {
    if (m == 1) return x[0];
    double h = (m - 1) * q;
    int lo = (int)floor(h);
    if (lo >= m - 1) return x[m - 1];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

/* Interval of m values (sorted in place) at the given level, around est. */
static lms_fit_ci ci_of(double *vals, int m, double est, double level) {
    lms_fit_ci c = {est, est, est};
    if (m < 2) return c;
    qsort(vals, (size_t)m, sizeof *vals, cmp_dbl);
    c.lo = quantile(vals, m, 0.5 * (1 - level));
    c.hi = quantile(vals, m, 0.5 * (1 + level));
    return c;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Distinct values among x[idx[i]] (x[i] when idx is NULL), i < n: sorted copy, O(n log n) (the
   bootstrap calls this per resample); quadratic without memory. */
static int count_distinct(const double *x, const int *idx, int n) {
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    int d = 0;
    if (!v) {
        for (int i = 0; i < n; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = x[idx ? idx[j] : j] == x[idx ? idx[i] : i];
            d += !seen;
        }
        return d;
    }
    for (int i = 0; i < n; i++) v[i] = x[idx ? idx[i] : i];
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    for (int i = 0; i < n; i++) d += i == 0 || v[i] != v[i - 1];
    free(v);
    return d;
}

static int count_distinct_idx(const int *idx, int n) {
    int *v = malloc((size_t)(n ? n : 1) * sizeof *v), d = 0;
    if (!v) {
        for (int i = 0; i < n; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = idx[j] == idx[i];
            d += !seen;
        }
        return d;
    }
    memcpy(v, idx, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_int);
    for (int i = 0; i < n; i++) d += i == 0 || v[i] != v[i - 1];
    free(v);
    return d;
}

static lms_status check_pos(const char *what, const char *name, int i, double x, lms_err *err) {
    if (!(isfinite(x) && x > 0))
        return lms_errf(err, LMS_ERR_ARG, "%s %d: %s = %g; it must be a finite number > 0", what, i, name, x);
    return LMS_OK;
}

static double mean_of(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

/* R^2 and RMSE of the log-space residuals r against y. */
static void fit_quality(const double *r, const double *y, int n, double *r2, double *rmse) {
    double ym = mean_of(y, n), ssr = 0, sst = 0;
    for (int i = 0; i < n; i++) {
        ssr += r[i] * r[i];
        sst += (y[i] - ym) * (y[i] - ym);
    }
    *r2 = sst > 0 ? 1 - ssr / sst : NAN;
    *rmse = sqrt(ssr / n);
}

/* A fresh GSL error handler scope: GSL must report, never abort the process. */
#define GSL_QUIET_BEGIN gsl_error_handler_t *gsl_old_handler_ = gsl_set_error_handler_off()
#define GSL_QUIET_END gsl_set_error_handler(gsl_old_handler_)

lms_status lms_fit_opts_check(const lms_fit_opts *o, lms_err *err) {
    if (o->n_boot < 0 || o->n_boot > 100000)
        return lms_errf(err, LMS_ERR_ARG, "bootstrap resamples %d: must lie in [0, 100000]", o->n_boot);
    if (!(o->level > 0 && o->level < 1))
        return lms_errf(err, LMS_ERR_ARG, "interval level %g: must lie strictly between 0 and 1", o->level);
    if (!(o->huber_delta >= 0 && isfinite(o->huber_delta)))
        return lms_errf(err, LMS_ERR_ARG, "Huber delta %g: must be a finite number >= 0", o->huber_delta);
    if (!(o->k >= 0 && isfinite(o->k)))
        return lms_errf(err, LMS_ERR_ARG, "FLOPs per parameter per token k = %g: must be > 0 (or 0: from the runs)", o->k);
    return LMS_OK;
}

static void opts_or_default(const lms_fit_opts *in, lms_fit_opts *o, lms_err *err, lms_status *st) {
    if (in) *o = *in;
    else lms_fit_opts_default(o);
    *st = lms_fit_opts_check(o, err);
}

/* ---------------------------------------------------------------- frontier */

typedef struct {
    double C, L;
    int i;
} cl_pt;

static int cmp_cl(const void *a, const void *b) {
    const cl_pt *p = a, *q = b;
    if (p->C != q->C) return p->C < q->C ? -1 : 1;
    if (p->L != q->L) return p->L < q->L ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

lms_status lms_fit_frontier(const double *C, const double *L, int n, int *idx_out, int *n_out, lms_err *err) {
    *n_out = 0;
    if (n < 1) return lms_errf(err, LMS_ERR_ARG, "frontier: no points");
    for (int i = 0; i < n; i++) {
        if (check_pos("point", "compute", i, C[i], err) || check_pos("point", "loss", i, L[i], err))
            return LMS_ERR_ARG;
    }
    cl_pt *s = malloc((size_t)n * sizeof *s);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "frontier: out of memory for %d points", n);
    for (int i = 0; i < n; i++) s[i] = (cl_pt){C[i], L[i], i};
    qsort(s, (size_t)n, sizeof *s, cmp_cl);
    double best = INFINITY;
    for (int i = 0; i < n; i++) {
        if (s[i].L < best) {
            best = s[i].L;
            idx_out[(*n_out)++] = s[i].i;
        }
    }
    free(s);
    return LMS_OK;
}

/* ---------------------------------------------------------------- L(C) */

double lms_fit_lc_predict(const lms_fit_lc_params *p, double C) {
    return p->E + exp(log(p->A) - p->alpha * log(C));
}

/* Centred parameters t = (e, a, alpha) at centre c0 -> caller's units. */
static lms_fit_lc_params lc_params(const double *t, double c0) {
    return (lms_fit_lc_params){exp(t[0]), exp(t[1] + t[2] * c0), t[2]};
}

/* Best of a grid of starts; t_out the centred parameters. Returns converged. */
static int lc_best(solver *s, double *t_out, double *obj_out) {
    int n = s->P.n;
    double lmin = INFINITY, lmean = 0;
    for (int i = 0; i < n; i++) {
        lmin = fmin(lmin, exp(s->P.y[i]));
        lmean += exp(s->P.y[i]) / n;
    }
    static const double ef[] = {0.3, 0.6, 0.9}, al[] = {0.03, 0.1, 0.3, 0.6};
    double best = INFINITY;
    int conv = 0;
    for (int a = 0; a < 3; a++) {
        for (int b = 0; b < 4; b++) {
            double e0 = ef[a] * lmin;
            double t[P_LC] = {log(e0), log(fmax(lmean - e0, 1e-3 * lmean)), al[b]}, obj;
            int c = solve(s, t, 0.0, &obj);
            if (obj < best || (obj == best && c && !conv)) {
                best = obj;
                conv = c;
                memcpy(t_out, t, sizeof t);
            }
        }
    }
    *obj_out = best;
    return conv;
}

lms_status lms_fit_lc_fit(const double *C, const double *L, int n, const lms_fit_opts *opts, lms_fit_lc *out,
                          lms_err *err) {
    memset(out, 0, sizeof *out);
    lms_fit_opts o;
    lms_status st;
    opts_or_default(opts, &o, err, &st);
    if (st) return st;
    if (n < P_LC + 1)
        return lms_errf(err, LMS_ERR_ARG, "L(C) fit: %d point%s; E + A*C^-alpha has 3 parameters and needs at least 4",
                        n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++)
        if (check_pos("L(C) fit: point", "compute", i, C[i], err) || check_pos("L(C) fit: point", "loss", i, L[i], err))
            return LMS_ERR_ARG;
    int dc = count_distinct(C, NULL, n);
    if (dc < P_LC + 1)
        return lms_errf(err, LMS_ERR_ARG, "L(C) fit: only %d distinct compute values; at least 4 are needed", dc);

    double *buf = malloc((size_t)n * 4 * sizeof *buf);
    double *bvals = malloc((size_t)(o.n_boot + 1) * P_LC * sizeof *bvals);
    int *idx = malloc((size_t)n * sizeof *idx);
    solver s = {0}, sb = {0};
    if (!buf || !bvals || !idx) {
        st = lms_errf(err, LMS_ERR_NOMEM, "L(C) fit: out of memory");
        goto done;
    }
    double *u = buf, *y = buf + n, *bu = buf + 2 * n, *by = buf + 3 * n;
    double c0 = 0;
    for (int i = 0; i < n; i++) c0 += log(C[i]) / n;
    for (int i = 0; i < n; i++) {
        u[i] = log(C[i]) - c0;
        y[i] = log(L[i]);
    }
    GSL_QUIET_BEGIN;
    if (solver_init(&s, M_LC, n, u, NULL, y) || solver_init(&sb, M_LC, n, bu, NULL, by)) {
        GSL_QUIET_END;
        st = lms_errf(err, LMS_ERR_NOMEM, "L(C) fit: out of memory for the solver");
        goto done;
    }
    double t[P_LC], obj;
    out->n = n;
    out->converged = lc_best(&s, t, &obj);
    out->p = lc_params(t, c0);
    objective(&s, t, 0.0);
    fit_quality(s.r, y, n, &out->r2_log, &out->rmse_log);

    lms_rng rng;
    lms_rng_seed(&rng, o.seed);
    int m = 0;
    for (int b = 0; b < o.n_boot; b++) {
        int tries = 0;
        do {
            for (int i = 0; i < n; i++) idx[i] = (int)lms_rng_below(&rng, (uint64_t)n);
        } while (count_distinct(C, idx, n) < P_LC && ++tries < REDRAW_MAX);
        for (int i = 0; i < n; i++) {
            bu[i] = u[idx[i]];
            by[i] = y[idx[i]];
        }
        double tb[P_LC];
        memcpy(tb, t, sizeof tb);
        double ob;
        if (tries < REDRAW_MAX && solve(&sb, tb, 0.0, &ob)) {
            lms_fit_lc_params q = lc_params(tb, c0);
            if (isfinite(q.E) && isfinite(q.A) && isfinite(q.alpha)) {
                bvals[0 * o.n_boot + m] = q.E;
                bvals[1 * o.n_boot + m] = q.A;
                bvals[2 * o.n_boot + m] = q.alpha;
                m++;
                continue;
            }
        }
        out->n_boot_failed++;
    }
    GSL_QUIET_END;
    out->n_boot = m;
    out->E = ci_of(bvals, m, out->p.E, o.level);
    out->A = ci_of(bvals + o.n_boot, m, out->p.A, o.level);
    out->alpha = ci_of(bvals + 2 * o.n_boot, m, out->p.alpha, o.level);
done:
    solver_free(&s);
    solver_free(&sb);
    free(buf);
    free(bvals);
    free(idx);
    return st;
}

/* ---------------------------------------------------------------- L(N, D) */

double lms_fit_nd_predict(const lms_fit_nd_params *p, double N, double D) {
    return p->E + exp(log(p->A) - p->alpha * log(N)) + exp(log(p->B) - p->beta * log(D));
}

static lms_fit_nd_params nd_params(const double *t, double n0, double d0) {
    return (lms_fit_nd_params){exp(t[0]), exp(t[1] + t[2] * n0), t[2], exp(t[3] + t[4] * d0), t[4]};
}

static int nd_best(solver *s, double delta, double *t_out, double *obj_out, int *n_starts) {
    int n = s->P.n;
    double lmin = INFINITY, lmean = 0;
    for (int i = 0; i < n; i++) {
        lmin = fmin(lmin, exp(s->P.y[i]));
        lmean += exp(s->P.y[i]) / n;
    }
    static const double ef[] = {0.3, 0.6, 0.9}, sp[] = {0.25, 0.5, 0.75}, ex_[] = {0.1, 0.3, 0.7};
    double best = INFINITY;
    int conv = 0;
    *n_starts = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 3; c++)
                for (int d = 0; d < 3; d++) {
                    double e0 = ef[a] * lmin, rest = fmax(lmean - e0, 1e-3 * lmean);
                    double t[P_ND] = {log(e0), log(sp[b] * rest), ex_[c], log((1 - sp[b]) * rest), ex_[d]}, obj;
                    int cv = solve(s, t, delta, &obj);
                    (*n_starts)++;
                    if (obj < best || (obj == best && cv && !conv)) {
                        best = obj;
                        conv = cv;
                        memcpy(t_out, t, sizeof t);
                    }
                }
    *obj_out = best;
    return conv;
}

void lms_fit_nd_free(lms_fit_nd *f) {
    free(f->boot);
    f->boot = NULL;
    f->n_boot = 0;
}

/* Why these runs cannot be fitted by L(N, D), or NULL. */
static const char *nd_unfit(const lms_fit_run *runs, int n, char *why, size_t cap) {
    if (n < P_ND + 1) {
        snprintf(why, cap, "%d run%s; E + A/N^alpha + B/D^beta has 5 parameters and needs at least 6", n,
                 n == 1 ? "" : "s");
        return why;
    }
    double *x = malloc((size_t)n * sizeof *x);
    if (!x) return "out of memory";
    for (int i = 0; i < n; i++) x[i] = runs[i].N;
    int dn = count_distinct(x, NULL, n);
    for (int i = 0; i < n; i++) x[i] = runs[i].D;
    int dd = count_distinct(x, NULL, n);
    free(x);
    if (dn < 3 || dd < 3) {
        snprintf(why, cap, "%d distinct model size%s and %d distinct token count%s; at least 3 of each are needed", dn,
                 dn == 1 ? "" : "s", dd, dd == 1 ? "" : "s");
        return why;
    }
    return NULL;
}

lms_status lms_fit_nd_fit(const lms_fit_run *runs, int n, const lms_fit_opts *opts, lms_fit_nd *out, lms_err *err) {
    memset(out, 0, sizeof *out);
    lms_fit_opts o;
    lms_status st;
    opts_or_default(opts, &o, err, &st);
    if (st) return st;
    for (int i = 0; i < n; i++)
        if (check_pos("L(N, D) fit: run", "N", i, runs[i].N, err) || check_pos("L(N, D) fit: run", "D", i, runs[i].D, err) ||
            check_pos("L(N, D) fit: run", "loss", i, runs[i].L, err))
            return LMS_ERR_ARG;
    char why[160];
    if (nd_unfit(runs, n, why, sizeof why)) return lms_errf(err, LMS_ERR_ARG, "L(N, D) fit: %s", why);

    double *buf = malloc((size_t)n * 8 * sizeof *buf);
    double *bvals = malloc((size_t)(o.n_boot + 1) * P_ND * sizeof *bvals);
    int *idx = malloc((size_t)n * sizeof *idx);
    out->boot = o.n_boot ? malloc((size_t)o.n_boot * sizeof *out->boot) : NULL;
    solver s = {0}, sb = {0};
    if (!buf || !bvals || !idx || (o.n_boot && !out->boot)) {
        st = lms_errf(err, LMS_ERR_NOMEM, "L(N, D) fit: out of memory");
        goto done;
    }
    double *u = buf, *v = buf + n, *y = buf + 2 * n, *bu = buf + 3 * n, *bv = buf + 4 * n, *by = buf + 5 * n;
    double *xn = buf + 6 * n, *xd = buf + 7 * n;
    double n0 = 0, d0 = 0;
    out->N_min = INFINITY;
    out->N_max = 0;
    for (int i = 0; i < n; i++) {
        n0 += log(runs[i].N) / n;
        d0 += log(runs[i].D) / n;
        xn[i] = runs[i].N;
        xd[i] = runs[i].D;
        out->N_min = fmin(out->N_min, runs[i].N);
        out->N_max = fmax(out->N_max, runs[i].N);
    }
    for (int i = 0; i < n; i++) {
        u[i] = log(runs[i].N) - n0;
        v[i] = log(runs[i].D) - d0;
        y[i] = log(runs[i].L);
    }
    GSL_QUIET_BEGIN;
    if (solver_init(&s, M_ND, n, u, v, y) || solver_init(&sb, M_ND, n, bu, bv, by)) {
        GSL_QUIET_END;
        st = lms_errf(err, LMS_ERR_NOMEM, "L(N, D) fit: out of memory for the solver");
        goto done;
    }
    double t[P_ND];
    out->n = n;
    out->level = o.level;
    out->converged = nd_best(&s, o.huber_delta, t, &out->objective, &out->n_starts);
    out->p = nd_params(t, n0, d0);
    objective(&s, t, o.huber_delta);
    fit_quality(s.r, y, n, &out->r2_log, &out->rmse_log);

    lms_rng rng;
    lms_rng_seed(&rng, o.seed);
    int m = 0;
    for (int b = 0; b < o.n_boot; b++) {
        int tries = 0;
        for (;;) {
            for (int i = 0; i < n; i++) idx[i] = (int)lms_rng_below(&rng, (uint64_t)n);
            if (count_distinct_idx(idx, n) >= P_ND && count_distinct(xn, idx, n) >= 3 &&
                count_distinct(xd, idx, n) >= 3)
                break;
            if (++tries >= REDRAW_MAX) break;
        }
        for (int i = 0; i < n; i++) {
            bu[i] = u[idx[i]];
            bv[i] = v[idx[i]];
            by[i] = y[idx[i]];
        }
        double tb[P_ND], ob;
        memcpy(tb, t, sizeof tb);
        if (tries < REDRAW_MAX && solve(&sb, tb, o.huber_delta, &ob)) {
            lms_fit_nd_params q = nd_params(tb, n0, d0);
            if (isfinite(q.E) && isfinite(q.A) && isfinite(q.alpha) && isfinite(q.B) && isfinite(q.beta)) {
                out->boot[m++] = q;
                continue;
            }
        }
        out->n_boot_failed++;
    }
    GSL_QUIET_END;
    out->n_boot = m;
    double *col = bvals;
    lms_fit_ci *cis[P_ND] = {&out->E, &out->A, &out->alpha, &out->B, &out->beta};
    double ests[P_ND] = {out->p.E, out->p.A, out->p.alpha, out->p.B, out->p.beta};
    for (int j = 0; j < P_ND; j++) {
        for (int b = 0; b < m; b++) {
            const lms_fit_nd_params *q = &out->boot[b];
            col[b] = j == 0 ? q->E : j == 1 ? q->A : j == 2 ? q->alpha : j == 3 ? q->B : q->beta;
        }
        *cis[j] = ci_of(col, m, ests[j], o.level);
    }
done:
    solver_free(&s);
    solver_free(&sb);
    free(buf);
    free(bvals);
    free(idx);
    return st;
}

/* ---------------------------------------------------------------- compute-optimal split */

/* ln N* for parameters q at C/k = ck; 0 when the exponents are not positive. */
static int opt_of(const lms_fit_nd_params *q, double ck, double *N, double *D) {
    if (!(q->alpha > 0 && q->beta > 0 && q->A > 0 && q->B > 0)) return 0;
    double s = q->alpha + q->beta;
    double lnG = (log(q->alpha * q->A) - log(q->beta * q->B)) / s;
    double lnN = lnG + q->beta / s * log(ck);
    *N = exp(lnN);
    *D = exp(log(ck) - lnN);
    return isfinite(*N) && isfinite(*D) && *N > 0 && *D > 0;
}

lms_status lms_fit_optimum_at(const lms_fit_nd *f, double C, double k, lms_fit_optimum *out, lms_err *err) {
    memset(out, 0, sizeof *out);
    if (!(isfinite(C) && C > 0)) return lms_errf(err, LMS_ERR_ARG, "compute-optimal split: C = %g must be > 0", C);
    if (!(isfinite(k) && k > 0))
        return lms_errf(err, LMS_ERR_ARG, "compute-optimal split: k = %g FLOPs per parameter per token must be > 0", k);
    out->C = C;
    out->k = k;
    double N, D;
    if (!opt_of(&f->p, C / k, &N, &D))
        return lms_errf(err, LMS_ERR_NUMERIC,
                        "compute-optimal split: the fitted exponents (alpha %.3g, beta %.3g) are not both positive, so "
                        "loss does not fall with size and data and there is no optimum",
                        f->p.alpha, f->p.beta);
    double L = lms_fit_nd_predict(&f->p, N, D);
    double *vals = malloc((size_t)(3 * f->n_boot + 1) * sizeof *vals);
    if (!vals) return lms_errf(err, LMS_ERR_NOMEM, "compute-optimal split: out of memory");
    double *vn = vals, *vd = vals + f->n_boot, *vl = vals + 2 * f->n_boot;
    int m = 0;
    for (int b = 0; b < f->n_boot; b++) {
        double nb, db;
        if (!opt_of(&f->boot[b], C / k, &nb, &db)) continue;
        vn[m] = nb;
        vd[m] = db;
        vl[m] = lms_fit_nd_predict(&f->boot[b], nb, db);
        m++;
    }
    double level = f->level > 0 && f->level < 1 ? f->level : 0.95;
    out->N = ci_of(vn, m, N, level);
    out->D = ci_of(vd, m, D, level);
    out->L = ci_of(vl, m, L, level);
    out->beyond_grid = f->N_max > 0 && (N < f->N_min || N > f->N_max);
    free(vals);
    return LMS_OK;
}

/* ---------------------------------------------------------------- isoFLOP check */

static int cmp_cl_only(const void *a, const void *b) {
    const cl_pt *p = a, *q = b;
    if (p->C != q->C) return p->C < q->C ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

lms_status lms_fit_group_by_compute(const double *C, int n, double rel_tol, int *group_out, int *n_groups,
                                    lms_err *err) {
    *n_groups = 0;
    if (!(rel_tol >= 0 && isfinite(rel_tol)))
        return lms_errf(err, LMS_ERR_ARG, "grouping by compute: tolerance %g must be a finite number >= 0", rel_tol);
    for (int i = 0; i < n; i++)
        if (check_pos("grouping by compute: run", "compute", i, C[i], err)) return LMS_ERR_ARG;
    if (n < 1) return LMS_OK;
    cl_pt *s = malloc((size_t)n * sizeof *s);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "grouping by compute: out of memory");
    for (int i = 0; i < n; i++) s[i] = (cl_pt){C[i], 0, i};
    qsort(s, (size_t)n, sizeof *s, cmp_cl_only);
    double first = s[0].C;
    int g = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].C > first * (1 + rel_tol)) {
            g++;
            first = s[i].C;
        }
        group_out[s[i].i] = g;
    }
    *n_groups = g + 1;
    free(s);
    return LMS_OK;
}

void lms_fit_isoflop_free(lms_fit_isoflop *f) {
    free(f->groups);
    f->groups = NULL;
    f->n_groups = 0;
}

/* Fit the parabola over the runs of one group; fills g. Returns 0, or -1 out of memory. */
static int iso_group(const lms_fit_run *runs, const int *members, int m, lms_fit_isoflop_group *g) {
    g->N_opt = g->L_opt = g->q0 = g->q1 = g->q2 = g->x_mid = NAN;
    double lc = 0, xmin = INFINITY, xmax = -INFINITY, lbest = INFINITY, xbest = 0, xm = 0;
    double *xs = malloc((size_t)m * sizeof *xs);
    if (!xs) return -1;
    for (int j = 0; j < m; j++) {
        const lms_fit_run *r = &runs[members[j]];
        lc += log(r->C) / m;
        xs[j] = log(r->N);
        xm += xs[j] / m;
        xmin = fmin(xmin, xs[j]);
        xmax = fmax(xmax, xs[j]);
        if (r->L < lbest) {
            lbest = r->L;
            xbest = xs[j];
        }
    }
    g->C = exp(lc);
    g->N_lo = exp(xmin);
    g->N_hi = exp(xmax);
    g->n_sizes = count_distinct(xs, NULL, m);
    g->bracketed = g->n_sizes >= 3 && xbest > xmin && xbest < xmax;
    if (!g->bracketed) {
        free(xs);
        return 0;
    }
    gsl_matrix *X = gsl_matrix_alloc((size_t)m, 3), *cov = gsl_matrix_alloc(3, 3);
    gsl_vector *yv = gsl_vector_alloc((size_t)m), *c = gsl_vector_alloc(3);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc((size_t)m, 3);
    int rc = 0;
    if (!X || !cov || !yv || !c || !w) rc = -1;
    else {
        for (int j = 0; j < m; j++) {
            double x = xs[j] - xm;
            gsl_matrix_set(X, (size_t)j, 0, 1.0);
            gsl_matrix_set(X, (size_t)j, 1, x);
            gsl_matrix_set(X, (size_t)j, 2, x * x);
            gsl_vector_set(yv, (size_t)j, runs[members[j]].L);
        }
        double chisq;
        if (gsl_multifit_linear(X, yv, c, cov, &chisq, w) == GSL_SUCCESS) {
            double c0 = gsl_vector_get(c, 0), c1 = gsl_vector_get(c, 1), c2 = gsl_vector_get(c, 2);
            g->q0 = c0, g->q1 = c1, g->q2 = c2, g->x_mid = xm;
            if (c2 > 0) {
                double x = -c1 / (2 * c2);
                if (x + xm >= xmin && x + xm <= xmax) { /* a minimum outside the sizes is no bracket */
                    g->N_opt = exp(x + xm);
                    g->L_opt = c0 + c1 * x + c2 * x * x;
                }
            }
        }
    }
    if (X) gsl_matrix_free(X);
    if (cov) gsl_matrix_free(cov);
    if (yv) gsl_vector_free(yv);
    if (c) gsl_vector_free(c);
    if (w) gsl_multifit_linear_free(w);
    free(xs);
    return rc;
}

lms_status lms_fit_isoflop_fit(const lms_fit_run *runs, const int *group, int n, int n_groups, lms_fit_isoflop *out,
                               lms_err *err) {
    memset(out, 0, sizeof *out);
    out->a = out->a_se = out->G = NAN;
    for (int i = 0; i < n; i++) {
        if (check_pos("isoFLOP: run", "N", i, runs[i].N, err) || check_pos("isoFLOP: run", "compute", i, runs[i].C, err) ||
            check_pos("isoFLOP: run", "loss", i, runs[i].L, err))
            return LMS_ERR_ARG;
        if (group[i] < 0 || group[i] >= n_groups)
            return lms_errf(err, LMS_ERR_ARG, "isoFLOP: run %d has group %d, outside [0, %d)", i, group[i], n_groups);
    }
    if (n_groups < 1) return LMS_OK;
    int *members = malloc((size_t)(n ? n : 1) * sizeof *members);
    out->groups = calloc((size_t)n_groups, sizeof *out->groups);
    double *lx = malloc((size_t)n_groups * 2 * sizeof *lx);
    lms_status st = LMS_OK;
    if (!members || !out->groups || !lx) {
        st = lms_errf(err, LMS_ERR_NOMEM, "isoFLOP: out of memory");
        goto done;
    }
    GSL_QUIET_BEGIN;
    for (int g = 0; g < n_groups; g++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (group[i] == g) members[m++] = i;
        lms_fit_isoflop_group gr = {0};
        if (m < 3) continue;
        if (iso_group(runs, members, m, &gr)) {
            st = lms_errf(err, LMS_ERR_NOMEM, "isoFLOP: out of memory");
            break;
        }
        if (gr.n_sizes < 3) continue;
        out->groups[out->n_groups++] = gr;
    }
    /* groups come in the caller's order; sort by compute (insertion: a handful of groups) */
    for (int i = 1; i < out->n_groups; i++)
        for (int j = i; j > 0 && out->groups[j].C < out->groups[j - 1].C; j--) {
            lms_fit_isoflop_group tmp = out->groups[j];
            out->groups[j] = out->groups[j - 1];
            out->groups[j - 1] = tmp;
        }
    double *xc = lx, *yn = lx + n_groups;
    for (int g = 0; g < out->n_groups; g++)
        if (isfinite(out->groups[g].N_opt)) {
            xc[out->n_minima] = log(out->groups[g].C);
            yn[out->n_minima] = log(out->groups[g].N_opt);
            out->n_minima++;
        }
    if (st == LMS_OK && out->n_minima >= 2) {
        double c0, c1, c00, c01, c11, ss;
        if (gsl_fit_linear(xc, 1, yn, 1, (size_t)out->n_minima, &c0, &c1, &c00, &c01, &c11, &ss) == GSL_SUCCESS) {
            out->a = c1;
            out->G = exp(c0);
            out->a_se = out->n_minima >= 3 ? sqrt(c11) : NAN;
        }
    }
    GSL_QUIET_END;
done:
    free(members);
    free(lx);
    return st;
}
