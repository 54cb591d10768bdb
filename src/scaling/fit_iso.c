/* fit_iso.c — isoFLOP profiles interpolated along each model size's token budgets (fit.h:
 * lms_fit_isoflop_interp), for sweeps in which no two sizes share a compute budget.
 *
 * A sweep that gives every size the same token budgets (the demo preset) has no runs of equal
 * compute across sizes, so the grouped isoFLOP check finds nothing. Each size's runs, however, trace
 * its loss along compute at several points; reading every size's curve at common compute levels
 * (linear in ln C and ln L between neighbouring runs) gives the isoFLOP profiles, which then get the
 * same parabola and power law as grouped runs (fit.c). Nothing is extrapolated: a size contributes to
 * a level only if it has runs on both sides of it.
 *
 * Leaves out: the parabola fit (fit.c), reading runs, printing.
 */
#include "scaling/fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double lnN;
    int first, count; /* runs of this size in the sorted index, by increasing C */
} iso_size;

typedef struct {
    double N, C;
    int i;
} nc_key;

static int cmp_nc(const void *a, const void *b) {
    const nc_key *p = a, *q = b;
    if (p->N != q->N) return p->N < q->N ? -1 : 1;
    if (p->C != q->C) return p->C < q->C ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* ln L and ln D of size s at ln C = x, or 0 when x lies outside its runs */
static int read_at(const lms_fit_run *runs, const int *idx, const iso_size *s, double x, double *lnL, double *lnD) {
    for (int j = 0; j + 1 < s->count; j++) {
        const lms_fit_run *a = &runs[idx[s->first + j]], *b = &runs[idx[s->first + j + 1]];
        double xa = log(a->C), xb = log(b->C);
        if (x < xa || x > xb || !(xb > xa)) continue;
        double t = (x - xa) / (xb - xa);
        *lnL = (1 - t) * log(a->L) + t * log(b->L);
        *lnD = (1 - t) * log(a->D) + t * log(b->D);
        return 1;
    }
    return 0;
}

lms_status lms_fit_isoflop_interp(const lms_fit_run *runs, int n, int n_levels, lms_fit_isoflop *out,
                                  lms_fit_run **pts_out, int **group_out, int *n_pts, lms_err *err) {
    memset(out, 0, sizeof *out);
    out->a = out->a_se = out->G = NAN;
    *pts_out = NULL;
    *group_out = NULL;
    *n_pts = 0;
    if (n_levels < 1) return lms_errf(err, LMS_ERR_ARG, "isoFLOP profiles: %d levels; give at least 1", n_levels);
    for (int i = 0; i < n; i++)
        if (!(runs[i].N > 0 && runs[i].C > 0 && runs[i].L > 0 && runs[i].D > 0) || !isfinite(runs[i].N) ||
            !isfinite(runs[i].C) || !isfinite(runs[i].L) || !isfinite(runs[i].D))
            return lms_errf(err, LMS_ERR_ARG, "isoFLOP profiles: run %d has a value that is not a finite number > 0", i);
    if (n < 6) return LMS_OK; /* 3 sizes x 2 runs at the least */
    int *idx = malloc((size_t)n * sizeof *idx);
    nc_key *key = malloc((size_t)n * sizeof *key);
    iso_size *sz = malloc((size_t)n * sizeof *sz);
    lms_fit_run *pts = malloc((size_t)n * (size_t)n_levels * sizeof *pts);
    int *grp = malloc((size_t)n * (size_t)n_levels * sizeof *grp);
    lms_status st = LMS_OK;
    if (!idx || !key || !sz || !pts || !grp) {
        st = lms_errf(err, LMS_ERR_NOMEM, "isoFLOP profiles: out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++) key[i] = (nc_key){runs[i].N, runs[i].C, i};
    qsort(key, (size_t)n, sizeof *key, cmp_nc);
    for (int i = 0; i < n; i++) idx[i] = key[i].i;
    int ns = 0;
    for (int i = 0; i < n; i++) {
        double lnN = log(runs[idx[i]].N);
        if (ns && fabs(lnN - sz[ns - 1].lnN) < 1e-9) sz[ns - 1].count++;
        else sz[ns++] = (iso_size){lnN, i, 1};
    }
    /* the range of ln C that >= 3 sizes span: scan every run's ln C as a candidate edge */
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        double x = log(runs[i].C);
        int cover = 0;
        for (int s = 0; s < ns; s++) {
            if (sz[s].count < 2) continue;
            double a = log(runs[idx[sz[s].first]].C), b = log(runs[idx[sz[s].first + sz[s].count - 1]].C);
            cover += x >= a && x <= b;
        }
        if (cover >= 3) lo = fmin(lo, x), hi = fmax(hi, x);
    }
    int m = 0;
    if (hi > lo) {
        for (int k = 0; k < n_levels; k++) {
            double x = lo + (hi - lo) * (k + 0.5) / n_levels;
            for (int s = 0; s < ns; s++) {
                double lnL, lnD;
                if (!read_at(runs, idx, &sz[s], x, &lnL, &lnD)) continue;
                pts[m] = (lms_fit_run){exp(sz[s].lnN), exp(lnD), exp(x), exp(lnL)};
                grp[m++] = k;
            }
        }
        st = lms_fit_isoflop_fit(pts, grp, m, n_levels, out, err);
        if (st) goto fail;
    }
    free(idx);
    free(key);
    free(sz);
    *pts_out = pts;
    *group_out = grp;
    *n_pts = m;
    return LMS_OK;
fail:
    free(idx);
    free(key);
    free(sz);
    free(pts);
    free(grp);
    lms_fit_isoflop_free(out);
    return st;
}
