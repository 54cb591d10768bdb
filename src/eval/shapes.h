/* shapes.h — label the shape of a task's curve: metric against compute, with error bars.
 *
 * Given points (x, y, se) — x is compute (FLOPs, or tokens, parameters, steps), y a metric where
 * higher is better (accuracy, mean log-prob of the right answer, minus a loss) and se its standard
 * error — lms_shape_classify labels the curve FLAT, SMOOTH, EMERGENT, INVERSE, U_SHAPED (a dip then
 * a recovery, or the inverted U: a rise then a fall) or NOISY, and returns the numbers the rules
 * used, so that a report can show why. Fewer than 3 points: TOO_FEW.
 *
 *   lms_shape_point p[5] = {{1e15, 0.25, 0.03}, {1e16, 0.26, 0.03}, {1e17, 0.24, 0.03},
 *                           {1e18, 0.71, 0.03}, {1e19, 0.74, 0.03}};
 *   lms_shape_result r;
 *   if (lms_shape_classify(p, 5, NULL, &r, &err) == LMS_OK)
 *       printf("%s: %s\n", lms_shape_name(r.label), r.detail);
 *   // emergent: +0.49 (move 11.8 SE > 2.81); 80% of it in 21% of the range, after 50% flat
 *
 * The rules (docs/shapes.md has them with a worked example). Positions are taken along log x: the
 * points are sorted by x and u = ln x (an x of 0, such as step 0, sits one halving below the
 * smallest positive x); "fraction of the range" means a fraction of u_last - u_first.
 *
 * 1. Significance. Two points differ significantly when |y_j - y_i| > z_crit * sqrt(se_i^2 +
 *    se_j^2). z_crit is the Bonferroni threshold for all n(n-1)/2 pairs at a family-wise false-alarm
 *    rate alpha (default 0.05), two-sided: 2.39 for 3 points, 2.81 for 5, 3.37 for 12, 4.41 for 100.
 *    So a curve of honest noise (scatter equal to its error bars) shows a significant change with
 *    probability at most alpha, whatever its length: "about 2 combined SE", corrected for looking
 *    at many pairs.
 * 2. Moves. The curve is read left to right as a sequence of significant moves (a zigzag with a
 *    threshold): the first move starts when some later point differs significantly from an earlier
 *    one (it starts at the earlier point of the most significant such pair); a move up continues
 *    while the curve makes new highs, and ends at its highest point once a later point lies
 *    significantly below it, which starts a move down (and the other way round). Wiggles smaller
 *    than the threshold never start a move. sign_changes = n_moves - 1.
 * 3. FLAT: no move (no pair of points differs significantly).
 *    INVERSE: one move, down.
 *    U_SHAPED: two moves; down then up is a U (a significant dip, then a significant recovery),
 *    up then down is an inverted U (inverted = 1).
 *    NOISY: three or more moves (two or more reversals larger than the error bars).
 *    One move up is SMOOTH or EMERGENT by rule 4.
 * 4. Emergent or smooth. The least-squares non-decreasing fit to the points (isotonic regression,
 *    unweighted), joined by straight lines in u, rises by `rise` from its first to its last point.
 *    f80 is the width of the narrowest u-window holding 80% of that rise, as a fraction of the
 *    range (a straight line in log x: 0.8; a jump between two neighbouring points of n evenly
 *    spaced ones: 0.8/(n-1)). lead is where that window starts (the earliest of equally narrow
 *    ones), as a fraction of the range: the stretch before it holds at most 20% of the rise.
 *    EMERGENT when f80 <= concentrated (default 0.4: the rise happens within half the range, at
 *    least twice as concentrated as a straight line) and lead >= min_lead (default 0.2: a flat
 *    stretch near the start value comes first); otherwise SMOOTH. A curve that rises early
 *    and then saturates is SMOOTH. For INVERSE the same numbers describe the fall.
 *
 * Known ambiguities (docs/shapes.md): a power law in x that is steep over many decades is a hockey
 * stick along log x and is labelled EMERGENT, because on a log compute axis it looks like one; a
 * short curve (5 points) cannot tell a jump spread over two intervals from a steep smooth rise;
 * small real changes (below z_crit combined SE between any two points) read as FLAT.
 *
 * Leaves out: fitting curves for extrapolation (scaling fits live in src/scaling/), reading result
 * files (the CLI's 'shapes' command does), weights by error bar in the isotonic fit.
 */
#ifndef LMS_EVAL_SHAPES_H
#define LMS_EVAL_SHAPES_H

#include "core/status.h"

typedef enum {
    LMS_SHAPE_TOO_FEW = 0, /* n < 3 */
    LMS_SHAPE_FLAT,
    LMS_SHAPE_SMOOTH,
    LMS_SHAPE_EMERGENT,
    LMS_SHAPE_INVERSE,
    LMS_SHAPE_U_SHAPED, /* see lms_shape_result.inverted */
    LMS_SHAPE_NOISY
} lms_shape_label;

/* One measurement. x >= 0 and finite; y finite; se >= 0 and finite (0: exact — then any difference
   from another exact point counts as significant). */
typedef struct {
    double x, y, se;
} lms_shape_point;

/* Thresholds; lms_shape_opts_default fills the documented defaults. */
typedef struct {
    double alpha;        /* family-wise false-alarm rate for "some change is significant", in (0, 1); 0.05 */
    double concentrated; /* EMERGENT: f80 at most this; 0.4 */
    double min_lead;     /* EMERGENT: lead at least this; 0.2 */
} lms_shape_opts;

#define LMS_SHAPE_MAX_MOVES 16
#define LMS_SHAPE_MAX_POINTS 20000 /* the pairwise rules are O(n^2): about a second at this size */

/* One significant move of the curve, between two of the sorted points. */
typedef struct {
    int from, to;         /* indices into the points sorted by x */
    double x_from, x_to;  /* their x */
    double delta;         /* y[to] - y[from] */
    double z;             /* delta / sqrt(se[from]^2 + se[to]^2) (+-INFINITY when both se are 0) */
} lms_shape_move;

typedef struct {
    lms_shape_label label;
    int inverted;      /* U_SHAPED: 1 = inverted U (rise then fall), 0 = U (dip then recovery) */
    int n;             /* points used */
    double z_crit;     /* the significance threshold in combined SE (rule 1); NAN when TOO_FEW */
    double max_z;      /* largest |y_j - y_i| / combined SE over all pairs: the strongest evidence of change */
    double net_delta;  /* y_last - y_first (sorted by x) */
    double net_z;      /* net_delta in combined SE of those two points */
    int n_moves;       /* significant moves (rule 2) */
    int sign_changes;  /* n_moves - 1, or 0 */
    lms_shape_move moves[LMS_SHAPE_MAX_MOVES]; /* the first min(n_moves, LMS_SHAPE_MAX_MOVES) */
    /* SMOOTH, EMERGENT, INVERSE (rule 4; NAN otherwise): */
    double rise;       /* rise of the monotone fit (negative for INVERSE: the fall) */
    double f80;        /* fraction of the log-x range holding 80% of the rise (or fall) */
    double lead;       /* where that 80% window starts, as a fraction of the log-x range */
    /* U_SHAPED (NAN otherwise): */
    double turn;       /* position of the turning point (the end of the first move) as a fraction of the range */
    char detail[192];  /* one line: why this label, with the numbers ("+0.49 = 11.6 SE; 80% of it in 20% ...") */
} lms_shape_result;

/* The documented defaults: alpha 0.05, concentrated 0.4, min_lead 0.2. */
void lms_shape_opts_default(lms_shape_opts *o);

/* Lower-case name of a label: "too-few", "flat", "smooth", "emergent", "inverse", "u-shaped", "noisy". */
const char *lms_shape_name(lms_shape_label label);

/* The two-sided Bonferroni threshold of rule 1 for n points at family-wise rate alpha (n >= 2). */
double lms_shape_z_crit(int n, double alpha);

/* Label the curve through pts[0..n) (any order; ties in x allowed; not modified). opts may be NULL
 * for the defaults. Fills *out (n < 3: TOO_FEW, with n and net numbers where defined).
 * Fails with LMS_ERR_ARG (out->label TOO_FEW) on a NaN/Inf or negative x, NaN/Inf y, a negative or
 * NaN se, all x equal with n >= 3, more than LMS_SHAPE_MAX_POINTS points, or options out of range; LMS_ERR_NOMEM if a scratch copy
 * cannot be allocated. Deterministic: the same points give the same result. O(n^2) time in the
 * worst case, O(n) scratch memory, freed before return. */
lms_status lms_shape_classify(const lms_shape_point *pts, int n, const lms_shape_opts *opts, lms_shape_result *out,
                              lms_err *err);

#endif
