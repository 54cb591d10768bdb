/* fit.h — scaling-law fits: loss against compute, and loss against model size and tokens.
 *
 * Input is plain arrays of runs: N (non-embedding parameters), D (training tokens), C (training
 * FLOPs) and L (validation loss), all finite and > 0. Two laws are fitted with GSL's trust-region
 * nonlinear least squares (gsl_multifit_nlinear, Levenberg-Marquardt), in log space:
 *
 *   L(C)    = E + A·C^(-alpha)                    over the compute frontier (the lowest loss seen at
 *                                                 each compute), ordinary least squares on
 *                                                 r = ln L_pred - ln L;
 *   L(N, D) = E + A/N^alpha + B/D^beta            the Chinchilla form (Hoffmann et al. 2022, approach
 *                                                 3), Huber loss (delta 1e-3) on the same r, from a
 *                                                 grid of starting points, best objective kept.
 *
 * E, A, B are fitted as logs (E = exp(e), ...), so they stay positive; the power terms are centred
 * on the geometric mean of C (or N, D) so that the fitted coordinates are well conditioned; the
 * results are reported in the callers' units (A multiplies C^-alpha with C in FLOPs).
 * The Huber loss is minimised by iteratively reweighted least squares: each round solves a weighted
 * nonlinear least-squares problem with gsl_multifit_nlinear_winit, with weights w = min(1, delta/|r|)
 * from the previous round's residuals. Each round minimises a quadratic that lies above the Huber
 * objective and touches it at the current point, so the objective never rises; rounds stop when it
 * changes by under 1e-8 relative or no weight changes (at most 200 rounds and 3000 solver iterations
 * per start: a start that drifts, E -> 0 say, is given up and counted as not converged).
 *
 * Intervals are percentile bootstraps over runs: the fitted points are resampled with replacement
 * (a resample with too few distinct points for the parameters is drawn again), refitted from the
 * full fit's parameters, and the (1-level)/2 and (1+level)/2 percentiles of each quantity taken.
 * Seeded (lms_rng), so the same input and seed give the same intervals.
 *
 * Compute-optimal allocation under C = k·N·D (k = 6 is the usual 2 forward + 4 backward FLOPs per
 * parameter per token; lmscope's exact counts include attention and the output layer, so the CLI
 * passes k = the median of C/(N·D) over the runs): minimising L(N, D) at fixed C gives
 *   G = (alpha·A / (beta·B))^(1/(alpha+beta)),  N* = G·(C/k)^(beta/(alpha+beta)),  D* = (C/k)/N*.
 *
 *   lms_fit_run runs[30] = {...};                // N, D, C, L per run
 *   lms_fit_opts o; lms_fit_opts_default(&o);
 *   lms_fit_report rep;
 *   if (lms_fit_runs(runs, 30, &o, &rep, &err) != LMS_OK) { ... err.msg ... }
 *   printf("alpha = %.3f [%.3f, %.3f]\n", rep.nd.alpha.est, rep.nd.alpha.lo, rep.nd.alpha.hi);
 *   printf("%s", rep.warnings);   // "" when none
 *   lms_fit_report_free(&rep);
 *
 * docs/scaling.md has the procedure and how to read the output. Not thread-safe: the fits switch
 * GSL's global error handler off while they run (and restore it), so GSL never aborts the process.
 *
 * lms_fit_report_json writes a report as JSON, in the layout of 'fit --json' or of the report page.
 *
 * lms_fit_runs_read reads the runs from a JSON Lines file or a sweep's results.db (fit_runs.c).
 *
 * Leaves out: reading the runs of a report (report/report_data.c does, from the database), plotting,
 * per-domain and per-suite fits (call lms_fit_lc on those points).
 */
#ifndef LMS_SCALING_FIT_H
#define LMS_SCALING_FIT_H

#include <stdint.h>

#include <jansson.h>

#include "core/status.h"

/* One training run. All four > 0 and finite. */
typedef struct {
    double N; /* non-embedding parameters */
    double D; /* training tokens */
    double C; /* training FLOPs */
    double L; /* validation loss (nats per token) */
} lms_fit_run;

typedef struct {
    int n_boot;          /* bootstrap resamples; 0 = no intervals (lo = hi = est); default 500 */
    uint64_t seed;       /* bootstrap seed; default 1 */
    double level;        /* interval coverage in (0, 1); default 0.95 */
    double huber_delta;  /* Huber threshold on log-loss residuals for L(N, D); default 1e-3; 0 = least squares */
    double k;            /* FLOPs per parameter per token for the compute-optimal split; 0 = the median of
                            C/(N·D) over the runs (lms_fit_runs); default 0 */
} lms_fit_opts;

/* A point estimate with its bootstrap interval (lo = hi = est without a bootstrap). */
typedef struct {
    double est, lo, hi;
} lms_fit_ci;

/* Parameters of the two laws, in the callers' units. */
typedef struct {
    double E, A, alpha;
} lms_fit_lc_params;
typedef struct {
    double E, A, alpha, B, beta;
} lms_fit_nd_params;

/* A fit of L(C) = E + A·C^-alpha. */
typedef struct {
    int n;                 /* points fitted */
    lms_fit_lc_params p;   /* the estimate */
    lms_fit_ci E, A, alpha;
    double r2_log;         /* 1 - SS(ln L - ln L_pred) / SS(ln L - mean ln L) */
    double rmse_log;       /* root mean square of ln L_pred - ln L */
    int converged;         /* the solver met its tolerances */
    int n_boot;            /* bootstrap refits that converged (the intervals use these) */
    int n_boot_failed;     /* refits that did not converge */
} lms_fit_lc;

/* A fit of L(N, D) = E + A/N^alpha + B/D^beta. Owns `boot`: free with lms_fit_nd_free. */
typedef struct {
    int n;
    lms_fit_nd_params p;
    lms_fit_ci E, A, alpha, B, beta;
    double r2_log, rmse_log;
    double objective;      /* the minimised Huber (or least-squares) objective, sum over points */
    int converged;         /* the best start's solver met its tolerances */
    int n_starts;          /* starting points tried */
    int n_boot, n_boot_failed;
    lms_fit_nd_params *boot; /* the n_boot converged refits (for intervals of derived quantities) */
    double N_min, N_max;   /* the range of sizes fitted (for the edge warning) */
    double level;          /* the intervals' level (lms_fit_optimum_at uses it too) */
} lms_fit_nd;

/* The compute-optimal split at one compute budget. */
typedef struct {
    double C, k;
    lms_fit_ci N, D;       /* N*(C), D*(C) = (C/k)/N* */
    lms_fit_ci L;          /* the law's loss at (N*, D*) */
    int beyond_grid;       /* N* (estimate) lies outside [N_min, N_max] of the fitted runs */
} lms_fit_optimum;

/* One compute budget of an isoFLOP check. */
typedef struct {
    double C;              /* geometric mean compute of the group */
    int n_sizes;           /* runs in the group */
    int bracketed;         /* the lowest loss lies at an interior size (>= 3 sizes): a parabola was fitted */
    double N_opt, L_opt;   /* the parabola's minimum in ln N (NAN when not bracketed or not convex) */
    /* the fitted parabola (bracketed groups; NAN otherwise), for drawing it over [N_lo, N_hi]:
       L(N) = q0 + q1·x + q2·x², x = ln N - x_mid */
    double q0, q1, q2, x_mid, N_lo, N_hi;
} lms_fit_isoflop_group;

/* isoFLOP cross-check. Owns `groups`: free with lms_fit_isoflop_free. */
typedef struct {
    int n_groups;                  /* groups with >= 3 sizes */
    lms_fit_isoflop_group *groups; /* sorted by C */
    int n_minima;                  /* groups with a convex, bracketed minimum */
    /* ln N_opt = ln G + a·ln C over the minima, by ordinary least squares (n_minima >= 2): */
    double a, a_se;                /* exponent (NAN without 2 minima; a_se NAN without 3) */
    double G;                      /* N_opt = G·C^a */
} lms_fit_isoflop;

/* The held-out test: the largest-compute run left out, both laws fitted on the rest, its loss predicted. */
typedef struct {
    int ok;                /* 0: could not be run (why says why) */
    int index;             /* the left-out run (index into the caller's array) */
    double C, N, D, L;     /* its values */
    double L_pred_lc, rel_err_lc;  /* L(C) fitted on the frontier of the rest; (pred - L)/L; NAN when not fitted */
    double L_pred_nd, rel_err_nd;  /* L(N, D) fitted on the rest */
    char why[256];         /* when !ok */
} lms_fit_holdout;

enum {
    LMS_FIT_WARN_EDGE = 1,       /* N* at the largest compute lies outside the sizes trained */
    LMS_FIT_WARN_NOCONV_LC = 2,  /* the L(C) fit did not converge */
    LMS_FIT_WARN_NOCONV_ND = 4,  /* the L(N, D) fit did not converge */
    LMS_FIT_WARN_BOOT = 8,       /* over 10% of bootstrap refits failed */
    LMS_FIT_WARN_SKIPPED = 16,   /* a law could not be fitted (too few distinct points); see warnings */
    LMS_FIT_WARN_NO_FLOOR = 32,  /* a fitted E is ~0: the runs show no loss floor, E and the exponents are shaky */
    LMS_FIT_WARN_UNSTABLE = 64   /* an estimate lies outside its own bootstrap interval */
};

/* Everything lms_fit_runs computes. Free with lms_fit_report_free. */
typedef struct {
    int n_runs;
    double k;                      /* FLOPs per parameter per token used for the optimum */
    int n_frontier;
    int *frontier;                 /* indices of the frontier runs, by increasing C */
    int lc_ok, nd_ok;              /* which laws were fitted */
    lms_fit_lc lc;
    lms_fit_nd nd;
    lms_fit_optimum opt[2];        /* at the largest C of the runs and 10x it (nd_ok) */
    lms_fit_isoflop iso;           /* over groups of runs within 10% compute */
    lms_fit_isoflop iso_interp;    /* over profiles interpolated along each size's budgets (6 levels) */
    lms_fit_run *iso_pts;          /* the interpolated points (n_iso_pts), and their level */
    int *iso_pts_group;
    int n_iso_pts;
    lms_fit_holdout held;
    unsigned warn;                 /* LMS_FIT_WARN_* bits */
    char warnings[1024];           /* one line per warning, '\n'-terminated; "" when none */
} lms_fit_report;

/* Defaults: n_boot 500, seed 1, level 0.95, huber_delta 1e-3, k 0 (from the runs). */
void lms_fit_opts_default(lms_fit_opts *o);
/* LMS_ERR_ARG with a message naming the field when one is out of range (every fit checks its options). */
lms_status lms_fit_opts_check(const lms_fit_opts *o, lms_err *err);

/* The compute frontier: the runs whose loss is lower than that of every run with less or equal
 * compute (at equal C the lowest loss; ties keep the first). C, L: n finite values > 0.
 * idx_out: n slots, receives the frontier's indices by increasing C; *n_out their count.
 * Fails with LMS_ERR_ARG on n < 1 or a non-positive / non-finite value. */
lms_status lms_fit_frontier(const double *C, const double *L, int n, int *idx_out, int *n_out, lms_err *err);

/* Fit L(C) = E + A·C^-alpha to n points (least squares in log space; n >= 4 with >= 4 distinct C).
 * Intervals from opts->n_boot resamples of the points. opts NULL: defaults. Fails with LMS_ERR_ARG
 * on bad input (message names the point), LMS_ERR_NOMEM. A fit that does not converge is returned
 * with converged = 0, not as an error. */
lms_status lms_fit_lc_fit(const double *C, const double *L, int n, const lms_fit_opts *opts, lms_fit_lc *out,
                          lms_err *err);

/* Fit L(N, D) = E + A/N^alpha + B/D^beta to n runs (Huber on log-loss, grid of starts; n >= 6 with
 * >= 2 distinct N and >= 2 distinct D). runs[i].C is not used. out->boot is allocated (NULL when
 * n_boot is 0); free with lms_fit_nd_free even when this fails. */
lms_status lms_fit_nd_fit(const lms_fit_run *runs, int n, const lms_fit_opts *opts, lms_fit_nd *out, lms_err *err);
void lms_fit_nd_free(lms_fit_nd *f);

/* The laws' predictions. */
double lms_fit_lc_predict(const lms_fit_lc_params *p, double C);
double lms_fit_nd_predict(const lms_fit_nd_params *p, double N, double D);

/* The compute-optimal split at compute C > 0 with k > 0 FLOPs per parameter per token, with
 * intervals from f's bootstrap refits. Fails with LMS_ERR_ARG on bad C or k, LMS_ERR_NUMERIC when
 * the fitted exponents are not positive (then no optimum exists). */
lms_status lms_fit_optimum_at(const lms_fit_nd *f, double C, double k, lms_fit_optimum *out, lms_err *err);

/* Give each run a group id: runs whose compute lies within a factor (1 + rel_tol) of the group's
 * smallest are one group (runs sorted by C, a gap larger than that starts a new group). group_out:
 * n slots; returns the number of groups in *n_groups. rel_tol >= 0. */
lms_status lms_fit_group_by_compute(const double *C, int n, double rel_tol, int *group_out, int *n_groups,
                                    lms_err *err);

/* isoFLOP check: for each group (group[i] in [0, n_groups)) with >= 3 distinct sizes whose lowest loss
 * lies at an interior size, fit L = c0 + c1·ln N + c2·(ln N)^2 by least squares and take its minimum
 * (c2 > 0); then ln N_opt = ln G + a·ln C over those minima. Uses runs[i].N, .C, .L.
 * out->groups is allocated; free with lms_fit_isoflop_free. */
lms_status lms_fit_isoflop_fit(const lms_fit_run *runs, const int *group, int n, int n_groups, lms_fit_isoflop *out,
                               lms_err *err);
void lms_fit_isoflop_free(lms_fit_isoflop *f);

/* isoFLOP profiles interpolated along each size's token budgets (Chinchilla's approach 2 on a sweep
 * whose sizes share token budgets, so that no two runs have the same compute): runs with the same N
 * (relative difference < 1e-9) form one size; along a size's runs sorted by C, ln L and ln D are
 * interpolated linearly in ln C between the two runs around a level, never extrapolated. The
 * levels are n_levels compute values spaced evenly in ln C (at (k + 1/2)/n_levels of the range)
 * over the range in which at least 3 sizes have runs on both sides; each level's interpolated points
 * go through lms_fit_isoflop_fit. pts_out / group_out (malloc'd, free them) receive the points and
 * their level, *n_pts their count (0 and an empty out when fewer than 3 sizes overlap). Interpolated
 * losses are only as good as the budgets are dense: with budgets doubling, a point sits at most a
 * factor sqrt(2) in D from a measured run. Fails with LMS_ERR_ARG on bad runs or n_levels < 1,
 * LMS_ERR_NOMEM. */
lms_status lms_fit_isoflop_interp(const lms_fit_run *runs, int n, int n_levels, lms_fit_isoflop *out,
                                  lms_fit_run **pts_out, int **group_out, int *n_pts, lms_err *err);

/* Everything, as the CLI prints it: the frontier and L(C) on it, L(N, D), the optimum at the largest
 * C and 10x it, the isoFLOP check over groups within 10% compute, the held-out test and warnings.
 * Needs n >= 4 runs; a law that cannot be fitted on these runs is skipped with a warning
 * (LMS_FIT_WARN_SKIPPED), not an error. Fails with LMS_ERR_ARG on bad values (the message names the
 * run index), LMS_ERR_NOMEM. Free out with lms_fit_report_free even when this fails. */
lms_status lms_fit_runs(const lms_fit_run *runs, int n, const lms_fit_opts *opts, lms_fit_report *out, lms_err *err);
void lms_fit_report_free(lms_fit_report *r);

/* Runs read from a file, with their names. */
typedef struct {
    lms_fit_run *r;  /* [n] */
    char **name;     /* [n] "name" of each run, else its "model", else "line K" */
    int n, cap;
} lms_fit_runset;

/* Read the runs of path: a JSON Lines file, one run per line ({"name", "params_nonembed", "tokens",
   "flops", "loss"}: N, D, C and L finite numbers > 0; other fields ignored; "-" reads stdin), or a
   sweep dir holding results.db (its runs with status done and kind grid, loss = val_loss). Fills
   *t (free with lms_fit_runset_free, also after a failure; no runs is not an error).
   LMS_ERR_IO (unreadable), LMS_ERR_FORMAT (a malformed line or run: file:line or the run's name in
   the message), LMS_ERR_NOMEM. */
lms_status lms_fit_runs_read(lms_fit_runset *t, const char *path, lms_err *err);
void lms_fit_runset_free(lms_fit_runset *t);

/* The two layouts a fit report is written in (fit_json.c). */
typedef enum {
    LMS_FIT_JSON_CLI = 0, /* 'lmscope fit --json' (docs/scaling.md): runs, k, bootstrap, seed, level, frontier,
                             lc, nd (null when not fitted), optimum, isoflop, isoflop_interpolated, holdout,
                             warnings (one string per line) */
    LMS_FIT_JSON_REPORT   /* the report page's data.fit: ok, n_runs, k, warnings (the text), lc_ok, nd_ok,
                             frontier, lc, nd, opt (only those fitted), iso, iso_interp (with their
                             parabolas and points), held */
} lms_fit_json_layout;

/* r as JSON in the given layout (the same numbers, each layout's keys; fit_json.c lists them side by
   side). names[i] names run i of the runs r was fitted on (the frontier and the held-out run); o the
   options it was fitted with (bootstrap, seed, level, Huber delta). New reference. */
json_t *lms_fit_report_json(const lms_fit_report *r, const char *const *names, const lms_fit_opts *o,
                            lms_fit_json_layout layout);

#endif
