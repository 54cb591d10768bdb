/* shapes.c — curve-shape labels (see shapes.h for the rules, docs/shapes.md for why).
 *
 * The steps follow the header's rules one to one: sort by x and place the points along log x,
 * find the significance threshold (rule 1), read the curve as significant moves (rule 2), label
 * by the moves (rule 3) and split one-way curves into smooth or emergent with an isotonic fit
 * (rule 4). Leaves out: anything that reads files or prints.
 */
#include "eval/shapes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lms_shape_opts_default(lms_shape_opts *o) {
    o->alpha = 0.05;
    o->concentrated = 0.4;
    o->min_lead = 0.2;
}

const char *lms_shape_name(lms_shape_label label) {
    switch (label) {
    case LMS_SHAPE_TOO_FEW: return "too-few";
    case LMS_SHAPE_FLAT: return "flat";
    case LMS_SHAPE_SMOOTH: return "smooth";
    case LMS_SHAPE_EMERGENT: return "emergent";
    case LMS_SHAPE_INVERSE: return "inverse";
    case LMS_SHAPE_U_SHAPED: return "u-shaped";
    case LMS_SHAPE_NOISY: return "noisy";
    }
    return "?";
}

/* Upper tail of the standard normal. */
static double norm_sf(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

double lms_shape_z_crit(int n, double alpha) {
    LMS_ASSERT(n >= 2 && alpha > 0 && alpha < 1);
    double pairs = 0.5 * (double)n * (double)(n - 1);
    double p = alpha / (2.0 * pairs); /* two-sided, Bonferroni over the pairs */
    double lo = 0.0, hi = 40.0;
    for (int it = 0; it < 200; it++) { /* bisection: deterministic, no table */
        double mid = 0.5 * (lo + hi);
        if (norm_sf(mid) > p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

typedef struct {
    double x, u, y, se;
    int orig; /* index in the caller's array: ties in x keep their order */
} pt;

static int cmp_pt(const void *a, const void *b) {
    const pt *p = a, *q = b;
    if (p->x < q->x) return -1;
    if (p->x > q->x) return 1;
    return (p->orig > q->orig) - (p->orig < q->orig);
}

/* (y_j - y_i) in combined standard errors. */
static double zdiff(const pt *p, int i, int j) {
    double d = p[j].y - p[i].y, s = sqrt(p[i].se * p[i].se + p[j].se * p[j].se);
    if (s > 0) return d / s;
    return d > 0 ? INFINITY : d < 0 ? -INFINITY : 0.0;
}

static void add_move(lms_shape_result *r, const pt *p, int from, int to) {
    if (r->n_moves < LMS_SHAPE_MAX_MOVES) {
        lms_shape_move *m = &r->moves[r->n_moves];
        m->from = from;
        m->to = to;
        m->x_from = p[from].x;
        m->x_to = p[to].x;
        m->delta = p[to].y - p[from].y;
        m->z = zdiff(p, from, to);
    }
    r->n_moves++;
}

/* Rule 2: the curve as a sequence of significant moves (a zigzag with threshold zc). */
static void find_moves(const pt *p, int n, double zc, lms_shape_result *r) {
    int dir = 0, start = 0, ext = 0;
    for (int j = 1; j < n; j++) {
        if (dir == 0) {
            /* the first move: the most significant pair ending at j, if any is significant */
            int best = -1;
            double bz = 0;
            for (int i = 0; i < j; i++) {
                double z = zdiff(p, i, j);
                if (fabs(z) > zc && fabs(z) > fabs(bz)) {
                    bz = z;
                    best = i;
                }
            }
            if (best >= 0) {
                dir = bz > 0 ? 1 : -1;
                start = best;
                ext = j;
            }
            continue;
        }
        if ((dir > 0 && p[j].y > p[ext].y) || (dir < 0 && p[j].y < p[ext].y)) {
            ext = j; /* a new high (low): the move goes on */
        } else if (fabs(zdiff(p, ext, j)) > zc) {
            add_move(r, p, start, ext); /* a significant reversal ends the move at its extreme */
            start = ext;
            ext = j;
            dir = -dir;
        }
    }
    if (dir != 0) add_move(r, p, start, ext);
    r->sign_changes = r->n_moves > 0 ? r->n_moves - 1 : 0;
}

/* Unweighted isotonic (non-decreasing) least-squares fit of y[0..n), pool-adjacent-violators.
   blk_sum/blk_cnt/blk_end are scratch of n entries each; the fit is written to m. */
static void isotonic(const double *y, int n, double *m, double *blk_sum, int *blk_cnt, int *blk_end) {
    int nb = 0;
    for (int i = 0; i < n; i++) {
        blk_sum[nb] = y[i];
        blk_cnt[nb] = 1;
        blk_end[nb] = i;
        nb++;
        while (nb > 1 && blk_sum[nb - 2] / blk_cnt[nb - 2] > blk_sum[nb - 1] / blk_cnt[nb - 1]) {
            blk_sum[nb - 2] += blk_sum[nb - 1];
            blk_cnt[nb - 2] += blk_cnt[nb - 1];
            blk_end[nb - 2] = blk_end[nb - 1];
            nb--;
        }
    }
    int i = 0;
    for (int b = 0; b < nb; b++)
        for (; i <= blk_end[b]; i++) m[i] = blk_sum[b] / blk_cnt[b];
}

/* On the piecewise-linear non-decreasing M through (u[i], m[i]): smallest u with M(u) >= target. */
static double first_reach(const double *u, const double *m, int n, double target) {
    if (m[0] >= target) return u[0];
    for (int i = 1; i < n; i++)
        if (m[i] >= target) return u[i - 1] + (target - m[i - 1]) / (m[i] - m[i - 1]) * (u[i] - u[i - 1]);
    return u[n - 1];
}

/* Largest u with M(u) <= target. */
static double last_below(const double *u, const double *m, int n, double target) {
    if (m[n - 1] <= target) return u[n - 1];
    for (int i = n - 2; i >= 0; i--)
        if (m[i] <= target) return u[i] + (target - m[i]) / (m[i + 1] - m[i]) * (u[i + 1] - u[i]);
    return u[0];
}

/* Rule 4 on a non-decreasing fit m: f80, the narrowest window holding 80% of the rise, and lead,
   where it starts (the earliest of equally narrow windows), both as fractions of the range. */
static void concentration(const double *u, const double *m, int n, double *f80, double *lead) {
    double range = u[n - 1] - u[0], rise = m[n - 1] - m[0];
    if (!(rise > 0)) {
        *f80 = 1.0;
        *lead = 0.0;
        return;
    }
    double c = 0.8 * rise, tol = 1e-12 * (fabs(m[0]) + fabs(m[n - 1]) + rise), utol = 1e-12 * range;
    double best = INFINITY, best_a = u[0];
    /* the narrowest window has one end on a knot: try every knot as either end */
    for (int i = 0; i < n; i++) {
        for (int side = 0; side < 2; side++) {
            double a, b;
            if (side == 0 && m[i] + c <= m[n - 1] + tol) {
                a = u[i];
                b = first_reach(u, m, n, fmin(m[i] + c, m[n - 1]));
            } else if (side == 1 && m[i] - c >= m[0] - tol) {
                a = last_below(u, m, n, fmax(m[i] - c, m[0]));
                b = u[i];
            } else {
                continue;
            }
            double w = b - a;
            if (w < best - utol || (w <= best + utol && a < best_a)) {
                best = w;
                best_a = a;
            }
        }
    }
    *f80 = best / range;
    *lead = (best_a - u[0]) / range;
}

static lms_status bad(lms_shape_result *out, lms_err *err, const char *fmt, int i, double v) {
    out->label = LMS_SHAPE_TOO_FEW;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, i, v);
    return lms_errf(err, LMS_ERR_ARG, "%s", msg);
}

lms_status lms_shape_classify(const lms_shape_point *pts, int n, const lms_shape_opts *opts, lms_shape_result *out,
                              lms_err *err) {
    memset(out, 0, sizeof *out);
    out->label = LMS_SHAPE_TOO_FEW;
    out->n = n;
    out->z_crit = out->max_z = out->net_delta = out->net_z = NAN;
    out->rise = out->f80 = out->lead = out->turn = NAN;
    lms_shape_opts o;
    lms_shape_opts_default(&o);
    if (opts) o = *opts;
    if (!(o.alpha > 0 && o.alpha < 1) || !(o.concentrated > 0 && o.concentrated <= 1) ||
        !(o.min_lead >= 0 && o.min_lead < 1))
        return lms_errf(err, LMS_ERR_ARG, "shape options out of range (alpha %g must be in (0,1), concentrated %g in "
                        "(0,1], min_lead %g in [0,1))", o.alpha, o.concentrated, o.min_lead);
    if (n < 0 || (n > 0 && !pts)) return lms_errf(err, LMS_ERR_ARG, "shape: %d points (need a non-negative count and an array)", n);
    if (n > LMS_SHAPE_MAX_POINTS)
        return lms_errf(err, LMS_ERR_ARG, "a curve of %d points is more than the %d the shape rules handle; keep one point "
                        "per model or checkpoint (thin a dense over-training curve)", n, LMS_SHAPE_MAX_POINTS);
    for (int i = 0; i < n; i++) {
        if (!(isfinite(pts[i].x) && pts[i].x >= 0)) return bad(out, err, "point %d: x = %g (need a finite x >= 0)", i, pts[i].x);
        if (!isfinite(pts[i].y)) return bad(out, err, "point %d: y = %g (need a finite value)", i, pts[i].y);
        if (!(isfinite(pts[i].se) && pts[i].se >= 0))
            return bad(out, err, "point %d: standard error %g (need a finite value >= 0)", i, pts[i].se);
    }
    if (n < 2) {
        snprintf(out->detail, sizeof out->detail, "%d point%s: need at least 3", n, n == 1 ? "" : "s");
        return LMS_OK;
    }
    pt *p = malloc((size_t)n * sizeof *p);
    double *scratch = malloc((size_t)n * 4 * sizeof(double));
    int *iscratch = malloc((size_t)n * 2 * sizeof(int));
    if (!p || !scratch || !iscratch) {
        free(p);
        free(scratch);
        free(iscratch);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory labelling a curve of %d points", n);
    }
    double minpos = INFINITY;
    for (int i = 0; i < n; i++) {
        p[i] = (pt){pts[i].x, 0, pts[i].y, pts[i].se, i};
        if (pts[i].x > 0 && pts[i].x < minpos) minpos = pts[i].x;
    }
    qsort(p, (size_t)n, sizeof *p, cmp_pt);
    lms_status st = LMS_OK;
    if (n >= 3 && !(p[n - 1].x > p[0].x)) {
        st = lms_errf(err, LMS_ERR_ARG, "all %d points have the same x (%g): a curve needs at least two different x", n,
                      p[0].x);
        goto done;
    }
    /* x = 0 (step 0, say) sits one halving below the smallest positive x */
    for (int i = 0; i < n; i++) p[i].u = log(p[i].x > 0 ? p[i].x : isfinite(minpos) ? minpos / 2 : 1.0);
    out->net_delta = p[n - 1].y - p[0].y;
    out->net_z = zdiff(p, 0, n - 1);
    out->max_z = 0;
    for (int j = 1; j < n; j++)
        for (int i = 0; i < j; i++) out->max_z = fmax(out->max_z, fabs(zdiff(p, i, j)));
    if (n < 3) {
        snprintf(out->detail, sizeof out->detail, "2 points: need at least 3");
        goto done;
    }
    double zc = lms_shape_z_crit(n, o.alpha);
    out->z_crit = zc;
    find_moves(p, n, zc, out);
    double range = p[n - 1].u - p[0].u;

    if (out->n_moves == 0) {
        out->label = LMS_SHAPE_FLAT;
        snprintf(out->detail, sizeof out->detail, "no significant change: largest %.1f SE <= %.2f", out->max_z, zc);
    } else if (out->n_moves == 1) {
        /* rule 4: where does the one-way change happen? */
        int up = out->moves[0].delta > 0;
        double *y = scratch, *u = scratch + n, *m = scratch + 2 * n, *bs = scratch + 3 * n;
        for (int i = 0; i < n; i++) {
            y[i] = up ? p[i].y : -p[i].y;
            u[i] = p[i].u;
        }
        isotonic(y, n, m, bs, iscratch, iscratch + n);
        concentration(u, m, n, &out->f80, &out->lead);
        double rise = m[n - 1] - m[0];
        out->rise = up ? rise : -rise;
        int sudden = out->f80 <= o.concentrated + 1e-9 && out->lead >= o.min_lead - 1e-9;
        out->label = !up ? LMS_SHAPE_INVERSE : sudden ? LMS_SHAPE_EMERGENT : LMS_SHAPE_SMOOTH;
        snprintf(out->detail, sizeof out->detail, "%s%.3g (move %.1f SE > %.2f); 80%% of it in %.0f%% of the range, "
                 "after %.0f%% flat", up ? "+" : "-", rise, fabs(out->moves[0].z), zc, 100 * out->f80, 100 * out->lead);
    } else if (out->n_moves == 2) {
        out->label = LMS_SHAPE_U_SHAPED;
        out->inverted = out->moves[0].delta > 0;
        out->turn = (p[out->moves[0].to].u - p[0].u) / range;
        snprintf(out->detail, sizeof out->detail, "%s: %+.3g (%.1f SE) then %+.3g (%.1f SE), turning at %.0f%% of the range",
                 out->inverted ? "inverted U" : "U", out->moves[0].delta, fabs(out->moves[0].z), out->moves[1].delta,
                 fabs(out->moves[1].z), 100 * out->turn);
    } else {
        out->label = LMS_SHAPE_NOISY;
        snprintf(out->detail, sizeof out->detail, "%d significant moves (%d reversals larger than %.2f SE)",
                 out->n_moves, out->sign_changes, zc);
    }
done:
    free(p);
    free(scratch);
    free(iscratch);
    return st;
}
