/* test_fit.c — scaling-law fits (src/scaling/fit.h) on synthetic runs from known laws:
 * noise-free data recovered almost exactly; 1% multiplicative noise (seeded) recovered within the
 * bootstrap intervals and stated tolerances; L(C) on a frontier with runs above it; the frontier
 * itself; the compute-optimal split against a brute-force search along the iso-compute line; the
 * isoFLOP parabolas against the true optimum; the held-out prediction; the edge warning;
 * determinism of the bootstrap; bad input.
 *
 * The measured numbers are printed (stderr) so that docs/scaling.md can quote them; run
 * build/tests/test_fit to see them.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "harness.h"
#include "scaling/fit.h"

/* The law of the tests (Hoffmann et al.'s fitted values, rounded). */
static const lms_fit_nd_params TRUE_ND = {1.7, 400.0, 0.34, 410.0, 0.28};

/* nn sizes in [n_lo, n_hi] x nd token counts in [d_lo, d_hi] (log-spaced), C = 6ND, L from the law
   times exp(noise * N(0,1)). Returns the number of runs written. */
static int make_grid(lms_fit_run *r, int nn, double n_lo, double n_hi, int nd, double d_lo, double d_hi, double noise,
                     uint64_t seed) {
    lms_rng g;
    lms_rng_seed(&g, seed);
    int m = 0;
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < nd; j++) {
            double N = n_lo * pow(n_hi / n_lo, (double)i / (nn - 1));
            double D = d_lo * pow(d_hi / d_lo, (double)j / (nd - 1));
            double L = lms_fit_nd_predict(&TRUE_ND, N, D);
            if (noise > 0) L *= exp(noise * lms_rng_normal(&g));
            r[m++] = (lms_fit_run){N, D, 6 * N * D, L};
        }
    return m;
}

static int inside(lms_fit_ci c, double v) { return c.lo <= v && v <= c.hi; }

static double rel(double a, double b) { return fabs(a - b) / fabs(b); }

static void test_nd_noise_free(void) {
    lms_fit_run r[30];
    int n = make_grid(r, 6, 1e6, 1e8, 5, 3e7, 1e9, 0, 0);
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = 0;
    lms_fit_nd f;
    lms_err err = {0};
    CHECKF(lms_fit_nd_fit(r, n, &o, &f, &err) == LMS_OK, "%s", err.msg);
    fprintf(stderr, "  noise-free L(N,D): E %.6f A %.4f alpha %.6f B %.4f beta %.6f  R2 %.9f (%d starts)\n", f.p.E,
            f.p.A, f.p.alpha, f.p.B, f.p.beta, f.r2_log, f.n_starts);
    CHECK(f.converged);
    CHECK(rel(f.p.E, 1.7) < 1e-5);
    CHECK(rel(f.p.A, 400) < 1e-4);
    CHECK(fabs(f.p.alpha - 0.34) < 1e-5);
    CHECK(rel(f.p.B, 410) < 1e-4);
    CHECK(fabs(f.p.beta - 0.28) < 1e-5);
    CHECK(f.r2_log > 1 - 1e-10);
    CHECK(f.boot == NULL && f.n_boot == 0);
    CHECK(f.E.lo == f.E.est && f.E.hi == f.E.est); /* no bootstrap: no width */
    lms_fit_nd_free(&f);
}

static void test_nd_noisy(void) {
    lms_fit_run r[30];
    int n = make_grid(r, 6, 1e6, 1e8, 5, 3e7, 1e9, 0.01, 42);
    lms_fit_opts o;
    lms_fit_opts_default(&o); /* 500 resamples, Huber delta 1e-3 */
    lms_fit_nd f;
    lms_err err = {0};
    CHECKF(lms_fit_nd_fit(r, n, &o, &f, &err) == LMS_OK, "%s", err.msg);
    fprintf(stderr,
            "  1%% noise L(N,D): E %.3f [%.3f, %.3f]  A %.0f [%.0f, %.0f]  alpha %.3f [%.3f, %.3f]  B %.0f [%.0f, "
            "%.0f]  beta %.3f [%.3f, %.3f]  R2 %.5f  boot %d ok %d failed\n",
            f.E.est, f.E.lo, f.E.hi, f.A.est, f.A.lo, f.A.hi, f.alpha.est, f.alpha.lo, f.alpha.hi, f.B.est, f.B.lo,
            f.B.hi, f.beta.est, f.beta.lo, f.beta.hi, f.r2_log, f.n_boot, f.n_boot_failed);
    CHECK(f.converged);
    CHECK(f.n_boot >= 450);
    CHECKF(inside(f.E, 1.7), "E interval [%g, %g]", f.E.lo, f.E.hi);
    CHECKF(inside(f.A, 400), "A interval [%g, %g]", f.A.lo, f.A.hi);
    CHECKF(inside(f.alpha, 0.34), "alpha interval [%g, %g]", f.alpha.lo, f.alpha.hi);
    CHECKF(inside(f.B, 410), "B interval [%g, %g]", f.B.lo, f.B.hi);
    CHECKF(inside(f.beta, 0.28), "beta interval [%g, %g]", f.beta.lo, f.beta.hi);
    /* the intervals are informative, not just wide */
    CHECK(f.alpha.hi - f.alpha.lo < 0.2 && f.beta.hi - f.beta.lo < 0.2);
    CHECK(fabs(f.p.alpha - 0.34) < 0.05 && fabs(f.p.beta - 0.28) < 0.05);
    CHECK(f.E.lo <= f.E.est && f.E.est <= f.E.hi);
    CHECK(f.r2_log > 0.99);

    /* the compute-optimal split at the grid's largest compute, with its interval */
    double cmax = 6 * 1e8 * 1e9; /* 6 N_max D_max */
    lms_fit_optimum opt, truth_opt;
    CHECKF(lms_fit_optimum_at(&f, cmax, 6, &opt, &err) == LMS_OK, "%s", err.msg);
    lms_fit_nd tf = {.p = TRUE_ND};
    CHECK(lms_fit_optimum_at(&tf, cmax, 6, &truth_opt, &err) == LMS_OK);
    fprintf(stderr, "  N*(C=%.2g): %.3g [%.3g, %.3g] (truth %.3g); D* %.3g [%.3g, %.3g] (truth %.3g)\n", cmax,
            opt.N.est, opt.N.lo, opt.N.hi, truth_opt.N.est, opt.D.est, opt.D.lo, opt.D.hi, truth_opt.D.est);
    CHECKF(inside(opt.N, truth_opt.N.est), "N* interval [%g, %g], truth %g", opt.N.lo, opt.N.hi, truth_opt.N.est);
    CHECKF(inside(opt.D, truth_opt.D.est), "D* interval [%g, %g], truth %g", opt.D.lo, opt.D.hi, truth_opt.D.est);
    CHECK(rel(opt.N.est * opt.D.est * 6, cmax) < 1e-9);
    CHECK(!opt.beyond_grid);

    lms_fit_nd_free(&f);

    /* the same seed gives the same intervals; another seed other ones (50 resamples: the speed) */
    lms_fit_nd f1, f2, f3;
    o.n_boot = 50;
    CHECK(lms_fit_nd_fit(r, n, &o, &f1, &err) == LMS_OK);
    CHECK(lms_fit_nd_fit(r, n, &o, &f2, &err) == LMS_OK);
    CHECK(f2.alpha.lo == f1.alpha.lo && f2.alpha.hi == f1.alpha.hi && f2.B.hi == f1.B.hi);
    o.seed = 7;
    CHECK(lms_fit_nd_fit(r, n, &o, &f3, &err) == LMS_OK);
    CHECK(f3.alpha.est == f1.alpha.est && f3.alpha.lo != f1.alpha.lo);
    lms_fit_nd_free(&f1);
    lms_fit_nd_free(&f2);
    lms_fit_nd_free(&f3);
}

static double huber_obj(const lms_fit_nd_params *p, const lms_fit_run *r, int n, double delta) {
    double s = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs(log(lms_fit_nd_predict(p, r[i].N, r[i].D)) - log(r[i].L));
        s += e <= delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
    }
    return s;
}

/* The reweighted least squares end at a minimum of the Huber objective itself: no small move of any
   parameter lowers it (checked here with an independent evaluation of the objective). */
static void test_nd_huber_minimum(void) {
    lms_fit_run r[30];
    int n = make_grid(r, 6, 1e6, 1e8, 5, 3e7, 1e9, 0.01, 42);
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = 0;
    lms_fit_nd f;
    lms_err err = {0};
    CHECKF(lms_fit_nd_fit(r, n, &o, &f, &err) == LMS_OK, "%s", err.msg);
    double best = huber_obj(&f.p, r, n, 1e-3);
    CHECK(fabs(best - f.objective) <= 1e-9 * best);
    int lower = 0;
    for (int j = 0; j < 5; j++)
        for (int sgn = -1; sgn <= 1; sgn += 2)
            for (double h = 1e-5; h <= 1e-2; h *= 10) {
                lms_fit_nd_params q = f.p;
                double *v = j == 0 ? &q.E : j == 1 ? &q.A : j == 2 ? &q.alpha : j == 3 ? &q.B : &q.beta;
                *v *= 1 + sgn * h;
                double ob = huber_obj(&q, r, n, 1e-3);
                if (ob < best * (1 - 1e-9)) {
                    lower++;
                    fprintf(stderr, "  param %d x (1 %+g): objective %.12g < %.12g\n", j, sgn * h, ob, best);
                }
            }
    CHECK(lower == 0);
    fprintf(stderr, "  Huber objective at the fit %.6g; no move of 1e-5..1e-2 lowers it\n", best);
    /* least squares (delta 0) weighs the same residuals differently and lands elsewhere */
    o.huber_delta = 0;
    lms_fit_nd g;
    CHECK(lms_fit_nd_fit(r, n, &o, &g, &err) == LMS_OK);
    CHECK(huber_obj(&g.p, r, n, 1e-3) > best);
    lms_fit_nd_free(&f);
    lms_fit_nd_free(&g);
}

/* The closed-form optimum against a brute-force minimum along C = 6ND. */
static void test_optimum_closed_form(void) {
    lms_fit_nd f = {.p = TRUE_ND, .N_min = 1e6, .N_max = 1e8};
    for (double C = 1e18; C <= 1e24; C *= 1000) {
        lms_fit_optimum o;
        lms_err err = {0};
        CHECKF(lms_fit_optimum_at(&f, C, 6, &o, &err) == LMS_OK, "%s", err.msg);
        double best = INFINITY, bestN = 0;
        for (double lnN = 10; lnN < 35; lnN += 1e-4) {
            double N = exp(lnN), L = lms_fit_nd_predict(&TRUE_ND, N, C / (6 * N));
            if (L < best) {
                best = L;
                bestN = N;
            }
        }
        CHECKF(rel(o.N.est, bestN) < 1e-3, "C %g: closed form N* %g, search %g", C, o.N.est, bestN);
        CHECK(fabs(o.L.est - best) < 1e-9);
        CHECK(o.N.lo == o.N.est); /* no bootstrap refits */
        CHECK(o.beyond_grid == (o.N.est > 1e8));
    }
    lms_fit_optimum o;
    lms_err err = {0};
    f.p.beta = -0.1;
    CHECK(lms_fit_optimum_at(&f, 1e20, 6, &o, &err) == LMS_ERR_NUMERIC && strstr(err.msg, "not both positive"));
    f.p.beta = 0.28;
    CHECK(lms_fit_optimum_at(&f, 0, 6, &o, &err) == LMS_ERR_ARG);
    CHECK(lms_fit_optimum_at(&f, 1e20, NAN, &o, &err) == LMS_ERR_ARG);
}

static void test_frontier(void) {
    /* C:  1   2   2   3   4   4   5   6   ; L: 5 4 3.5 3.6 3.0 2.9 3.0 2.5 */
    double C[] = {4, 2, 1, 2, 3, 4, 5, 6}, L[] = {3.0, 4.0, 5.0, 3.5, 3.6, 2.9, 3.0, 2.5};
    int idx[8], m;
    lms_err err = {0};
    CHECK(lms_fit_frontier(C, L, 8, idx, &m, &err) == LMS_OK);
    int want[] = {2, 3, 5, 7}; /* C=1 L=5; C=2 L=3.5; C=4 L=2.9; C=6 L=2.5 */
    CHECK(m == 4);
    for (int i = 0; i < m && i < 4; i++) CHECKF(idx[i] == want[i], "frontier[%d] = %d, want %d", i, idx[i], want[i]);
    double bad[] = {1, -2, 3};
    CHECK(lms_fit_frontier(bad, L, 3, idx, &m, &err) == LMS_ERR_ARG && strstr(err.msg, "point 1"));
    CHECK(lms_fit_frontier(C, L, 0, idx, &m, &err) == LMS_ERR_ARG);
}

/* L(C) over a frontier: 12 compute-optimal points from a known law, each with 3 worse runs beside it. */
static void test_lc(void) {
    const lms_fit_lc_params truth = {1.8, 533.0, 0.15};
    for (int noisy = 0; noisy < 2; noisy++) {
        double C[48], L[48];
        lms_rng g;
        lms_rng_seed(&g, 3);
        int n = 0;
        for (int i = 0; i < 12; i++) {
            double c = 1e15 * pow(1e4, i / 11.0);
            double l = lms_fit_lc_predict(&truth, c) * (noisy ? exp(0.01 * lms_rng_normal(&g)) : 1);
            C[n] = c;
            L[n++] = l;
            for (int k = 1; k <= 3; k++) { /* worse runs: same compute or a little more, higher loss */
                C[n] = c * (1 + 0.01 * k);
                L[n++] = l * (1.05 + 0.05 * k);
            }
        }
        int idx[48], m;
        lms_err err = {0};
        CHECK(lms_fit_frontier(C, L, n, idx, &m, &err) == LMS_OK);
        CHECKF(m >= 11, "frontier of %d points", m); /* a noisy step may hide one optimal point */
        double fc[48], fl[48];
        for (int i = 0; i < m; i++) {
            fc[i] = C[idx[i]];
            fl[i] = L[idx[i]];
            CHECK(idx[i] % 4 == 0); /* only the optimal runs */
        }
        lms_fit_opts o;
        lms_fit_opts_default(&o);
        lms_fit_lc f;
        CHECKF(lms_fit_lc_fit(fc, fl, m, &o, &f, &err) == LMS_OK, "%s", err.msg);
        fprintf(stderr, "  %s L(C): E %.4f [%.4f, %.4f] A %.1f [%.1f, %.1f] alpha %.4f [%.4f, %.4f] R2 %.6f (%d pts)\n",
                noisy ? "1% noise" : "noise-free", f.E.est, f.E.lo, f.E.hi, f.A.est, f.A.lo, f.A.hi, f.alpha.est,
                f.alpha.lo, f.alpha.hi, f.r2_log, m);
        CHECK(f.converged);
        if (!noisy) {
            CHECK(rel(f.p.E, 1.8) < 1e-6 && rel(f.p.A, 533) < 1e-5 && fabs(f.p.alpha - 0.15) < 1e-6);
            CHECK(f.r2_log > 1 - 1e-10);
        } else {
            CHECK(fabs(f.p.alpha - 0.15) < 0.03);
            CHECKF(inside(f.alpha, 0.15), "alpha interval [%g, %g]", f.alpha.lo, f.alpha.hi);
            CHECKF(inside(f.E, 1.8), "E interval [%g, %g]", f.E.lo, f.E.hi);
            CHECK(f.r2_log > 0.99);
        }
    }
}

/* isoFLOP groups: 4 budgets, 7 sizes each spread over 1.5 decades around the true optimum. */
static void test_isoflop(void) {
    lms_fit_run r[28];
    int n = 0;
    lms_fit_nd tf = {.p = TRUE_ND};
    double trueN[4];
    for (int b = 0; b < 4; b++) {
        double C = 1e18 * pow(10.0, b);
        lms_fit_optimum o;
        lms_err err = {0};
        CHECK(lms_fit_optimum_at(&tf, C, 6, &o, &err) == LMS_OK);
        trueN[b] = o.N.est;
        for (int i = 0; i < 7; i++) {
            double N = o.N.est * pow(10.0, -0.75 + 0.25 * i) * (b == 2 ? 1.3 : 1.0); /* one budget off-centre */
            double D = C / (6 * N);
            r[n++] = (lms_fit_run){N, D, C * (1 + 0.001 * i), lms_fit_nd_predict(&TRUE_ND, N, D)};
        }
    }
    double C[28];
    int group[28], ng;
    for (int i = 0; i < n; i++) C[i] = r[i].C;
    lms_err err = {0};
    CHECK(lms_fit_group_by_compute(C, n, 0.1, group, &ng, &err) == LMS_OK);
    CHECK(ng == 4);
    lms_fit_isoflop iso;
    CHECKF(lms_fit_isoflop_fit(r, group, n, ng, &iso, &err) == LMS_OK, "%s", err.msg);
    CHECK(iso.n_groups == 4 && iso.n_minima == 4);
    double s = TRUE_ND.alpha + TRUE_ND.beta;
    for (int b = 0; b < iso.n_groups; b++) {
        fprintf(stderr, "  isoFLOP C %.3g: N_opt %.4g (truth %.4g, %+.1f%%)\n", iso.groups[b].C, iso.groups[b].N_opt,
                trueN[b], 100 * (iso.groups[b].N_opt / trueN[b] - 1));
        CHECK(iso.groups[b].bracketed);
        CHECKF(rel(iso.groups[b].N_opt, trueN[b]) < 0.15, "budget %d: N_opt %g, truth %g", b, iso.groups[b].N_opt,
               trueN[b]);
    }
    fprintf(stderr, "  isoFLOP exponent %.4f +- %.4f (truth beta/(alpha+beta) = %.4f)\n", iso.a, iso.a_se,
            TRUE_ND.beta / s);
    CHECK(fabs(iso.a - TRUE_ND.beta / s) < 0.03);
    lms_fit_isoflop_free(&iso);

    /* a group whose lowest loss sits at its largest size is not bracketed */
    lms_fit_run u[3] = {{1e6, 1e10, 6e16, 4.0}, {2e6, 5e9, 6e16, 3.5}, {4e6, 2.5e9, 6e16, 3.2}};
    int g3[3] = {0, 0, 0};
    CHECK(lms_fit_isoflop_fit(u, g3, 3, 1, &iso, &err) == LMS_OK);
    CHECK(iso.n_groups == 1 && !iso.groups[0].bracketed && isnan(iso.groups[0].N_opt) && iso.n_minima == 0);
    CHECK(isnan(iso.a));
    lms_fit_isoflop_free(&iso);
    int gbad[3] = {0, 1, 0};
    CHECK(lms_fit_isoflop_fit(u, gbad, 3, 1, &iso, &err) == LMS_ERR_ARG && strstr(err.msg, "run 1"));
    lms_fit_isoflop_free(&iso);
}

/* isoFLOP profiles interpolated along each size's budgets: 8 sizes x 8 token budgets, both doubling
   (no two runs share a compute budget, as in the demo sweep), from the true law. Checks: every point
   lies within its size's runs (no extrapolation) and within the linear-interpolation error bound of
   the true loss; the parabola minima find the true N_opt; the exponent beta/(alpha+beta). */
static void test_isoflop_interp(void) {
    lms_fit_nd tf = {.p = TRUE_ND};
    lms_fit_optimum o;
    lms_err err = {0};
    CHECK(lms_fit_optimum_at(&tf, 1e20, 6, &o, &err) == LMS_OK);
    lms_fit_run r[64];
    int n = 0;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            double N = o.N.est / 16 * pow(2.0, i), D = o.D.est / 16 * pow(2.0, j);
            r[n++] = (lms_fit_run){N, D, 6 * N * D, lms_fit_nd_predict(&TRUE_ND, N, D)};
        }
    lms_fit_isoflop iso;
    lms_fit_run *pts;
    int *lev, np;
    CHECKF(lms_fit_isoflop_interp(r, n, 6, &iso, &pts, &lev, &np, &err) == LMS_OK, "%s", err.msg);
    CHECK(np >= 18 && iso.n_groups == 6);
    /* ln L is smooth in ln C along a size: the chord between runs h = ln 2 apart errs by at most
       h^2/8 * max |d^2 ln L / d(ln C)^2|, taken here numerically over the whole grid (x1.01 slack for
       the finite-difference estimate of the second derivative) */
    double h = log(2.0), curv = 0;
    for (int i = 0; i < 8; i++) {
        double N = r[8 * i].N;
        for (double x = log(r[8 * i].D); x <= log(r[8 * i + 7].D); x += 0.01) {
            double f0 = log(lms_fit_nd_predict(&TRUE_ND, N, exp(x - 0.01))), f1 = log(lms_fit_nd_predict(&TRUE_ND, N, exp(x))),
                   f2 = log(lms_fit_nd_predict(&TRUE_ND, N, exp(x + 0.01)));
            curv = fmax(curv, fabs(f0 - 2 * f1 + f2) / 1e-4);
        }
    }
    double bound = 1.01 * h * h / 8 * curv;
    for (int k = 0; k < np; k++) {
        double truth = lms_fit_nd_predict(&TRUE_ND, pts[k].N, pts[k].C / (6 * pts[k].N));
        CHECKF(fabs(log(pts[k].L) - log(truth)) <= bound, "point %d: ln L off by %g, bound %g", k,
               fabs(log(pts[k].L) - log(truth)), bound);
        CHECKF(pts[k].C >= 6 * pts[k].N * r[0].D * (1 - 1e-9) && pts[k].C <= 6 * pts[k].N * r[7].D * (1 + 1e-9),
               "point %d extrapolated", k);
        CHECK(lev[k] >= 0 && lev[k] < 6);
    }
    int minima = 0;
    for (int g = 0; g < iso.n_groups; g++) {
        if (!isfinite(iso.groups[g].N_opt)) continue;
        minima++;
        lms_fit_optimum t;
        CHECK(lms_fit_optimum_at(&tf, iso.groups[g].C, 6, &t, &err) == LMS_OK);
        fprintf(stderr, "  interpolated isoFLOP C %.3g: N_opt %.4g (truth %.4g, %+.1f%%)\n", iso.groups[g].C,
                iso.groups[g].N_opt, t.N.est, 100 * (iso.groups[g].N_opt / t.N.est - 1));
        CHECKF(rel(iso.groups[g].N_opt, t.N.est) < 0.15, "level %d: N_opt %g, truth %g", g, iso.groups[g].N_opt, t.N.est);
    }
    CHECK(minima >= 4);
    double s = TRUE_ND.alpha + TRUE_ND.beta;
    fprintf(stderr, "  interpolated isoFLOP exponent %.4f (truth %.4f)\n", iso.a, TRUE_ND.beta / s);
    CHECK(fabs(iso.a - TRUE_ND.beta / s) < 0.05);
    lms_fit_isoflop_free(&iso);
    free(pts);
    free(lev);

    /* two sizes overlap nowhere in threes: no profiles, no error */
    CHECK(lms_fit_isoflop_interp(r, 16, 6, &iso, &pts, &lev, &np, &err) == LMS_OK && np == 0 && iso.n_groups == 0);
    lms_fit_isoflop_free(&iso);
    free(pts);
    free(lev);
    CHECK(lms_fit_isoflop_interp(r, n, 0, &iso, &pts, &lev, &np, &err) == LMS_ERR_ARG && strstr(err.msg, "levels"));
    lms_fit_run bad = r[3];
    bad.L = -1;
    lms_fit_run r2[8];
    memcpy(r2, r, sizeof r2);
    r2[5] = bad;
    CHECK(lms_fit_isoflop_interp(r2, 8, 6, &iso, &pts, &lev, &np, &err) == LMS_ERR_ARG && strstr(err.msg, "run 5"));
}

/* The whole report on noise-free runs: held-out prediction, no warnings, k from the runs. */
static void test_report_noise_free(void) {
    lms_fit_run r[30];
    int n = make_grid(r, 6, 1e6, 1e8, 5, 3e7, 1e9, 0, 0);
    for (int i = 0; i < n; i++) r[i].C *= 1.5; /* k = 9: the exact counts include attention */
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = 50;
    lms_fit_report rep;
    lms_err err = {0};
    CHECKF(lms_fit_runs(r, n, &o, &rep, &err) == LMS_OK, "%s", err.msg);
    fprintf(stderr, "  report: k %.3f, frontier %d, held-out run %d: L %.5f, L(C) pred %.5f (%+.2e), L(N,D) pred %.5f (%+.2e); warnings: %s\n",
            rep.k, rep.n_frontier, rep.held.index, rep.held.L, rep.held.L_pred_lc, rep.held.rel_err_lc,
            rep.held.L_pred_nd, rep.held.rel_err_nd, rep.warnings[0] ? rep.warnings : "none\n");
    CHECK(fabs(rep.k - 9) < 1e-9);
    CHECK(rep.nd_ok && rep.lc_ok);
    CHECK(rep.held.ok && rep.held.index == n - 1);
    CHECK(fabs(rep.held.rel_err_nd) < 1e-5);
    CHECK(rep.warn == 0 && rep.warnings[0] == 0);
    CHECK(rel(rep.opt[0].C, 1.5 * 6 * 1e8 * 1e9) < 1e-12 && rep.opt[1].C == 10 * rep.opt[0].C);
    CHECK(rel(rep.opt[0].N.est * rep.opt[0].D.est * 9, rep.opt[0].C) < 1e-9);
    CHECK(rep.opt[1].N.est > rep.opt[0].N.est && rep.opt[1].D.est > rep.opt[0].D.est);
    /* the frontier of a 6 x 5 grid: increasing C, decreasing loss */
    for (int i = 1; i < rep.n_frontier; i++) {
        CHECK(r[rep.frontier[i]].C > r[rep.frontier[i - 1]].C);
        CHECK(r[rep.frontier[i]].L < r[rep.frontier[i - 1]].L);
    }
    lms_fit_report_free(&rep);
}

/* A grid of small models on much data: the optimum at the largest compute lies beyond the largest size. */
static void test_edge_warning(void) {
    lms_fit_run r[30];
    int n = make_grid(r, 6, 1e5, 1e6, 5, 1e9, 1e10, 0.005, 5);
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = 20;
    o.k = 6;
    lms_fit_report rep;
    lms_err err = {0};
    CHECKF(lms_fit_runs(r, n, &o, &rep, &err) == LMS_OK, "%s", err.msg);
    fprintf(stderr, "  edge: N* %.3g at C %.3g (sizes to 1e6); warnings: %s", rep.opt[0].N.est, rep.opt[0].C,
            rep.warnings);
    CHECK(rep.warn & LMS_FIT_WARN_EDGE);
    CHECK(rep.opt[0].beyond_grid);
    CHECK(strstr(rep.warnings, "outside the sizes trained") && strstr(rep.warnings, "larger"));
    lms_fit_report_free(&rep);
}

static void test_bad_input(void) {
    lms_fit_run r[30];
    int n = make_grid(r, 6, 1e6, 1e8, 5, 3e7, 1e9, 0, 0);
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = 0;
    lms_err err = {0};
    lms_fit_nd f;
    lms_fit_report rep;
    /* fewer points than parameters */
    CHECK(lms_fit_nd_fit(r, 5, &o, &f, &err) == LMS_ERR_ARG && strstr(err.msg, "at least 6"));
    lms_fit_nd_free(&f);
    double C[3] = {1, 2, 3}, L[3] = {3, 2, 1};
    lms_fit_lc lc;
    CHECK(lms_fit_lc_fit(C, L, 3, &o, &lc, &err) == LMS_ERR_ARG && strstr(err.msg, "at least 4"));
    double C4[4] = {1, 2, 2, 3}, L4[4] = {4, 3, 2, 1};
    CHECK(lms_fit_lc_fit(C4, L4, 4, &o, &lc, &err) == LMS_ERR_ARG && strstr(err.msg, "distinct"));
    CHECK(lms_fit_runs(r, 3, &o, &rep, &err) == LMS_ERR_ARG && strstr(err.msg, "at least 4"));
    lms_fit_report_free(&rep);
    /* two sizes only: L(N, D) cannot separate E from A/N^alpha */
    CHECK(lms_fit_nd_fit(r, 10, &o, &f, &err) == LMS_ERR_ARG && strstr(err.msg, "2 distinct model sizes"));
    lms_fit_nd_free(&f);
    /* non-positive, NaN, infinite values name the run */
    lms_fit_run b[30];
    memcpy(b, r, sizeof b);
    b[4].L = 0;
    CHECK(lms_fit_runs(b, n, &o, &rep, &err) == LMS_ERR_ARG && strstr(err.msg, "run 4") && strstr(err.msg, "loss"));
    lms_fit_report_free(&rep);
    memcpy(b, r, sizeof b);
    b[7].N = NAN;
    CHECK(lms_fit_nd_fit(b, n, &o, &f, &err) == LMS_ERR_ARG && strstr(err.msg, "run 7"));
    lms_fit_nd_free(&f);
    memcpy(b, r, sizeof b);
    b[2].C = -1;
    CHECK(lms_fit_runs(b, n, &o, &rep, &err) == LMS_ERR_ARG && strstr(err.msg, "run 2") && strstr(err.msg, "flops"));
    lms_fit_report_free(&rep);
    memcpy(b, r, sizeof b);
    b[9].D = INFINITY;
    CHECK(lms_fit_runs(b, n, &o, &rep, &err) == LMS_ERR_ARG && strstr(err.msg, "run 9"));
    lms_fit_report_free(&rep);
    double Cn[4] = {1, 2, NAN, 4};
    CHECK(lms_fit_lc_fit(Cn, L4, 4, &o, &lc, &err) == LMS_ERR_ARG && strstr(err.msg, "point 2"));
    /* bad options */
    o.level = 1.5;
    CHECK(lms_fit_runs(r, n, &o, &rep, &err) == LMS_ERR_ARG && strstr(err.msg, "level"));
    lms_fit_report_free(&rep);
    o.level = 0.95;
    o.n_boot = -1;
    CHECK(lms_fit_nd_fit(r, n, &o, &f, &err) == LMS_ERR_ARG && strstr(err.msg, "resamples"));
    lms_fit_nd_free(&f);
    /* a report where only L(C) is possible: one token count for every size, so L(N, D) is skipped with
       a warning, not an error */
    lms_fit_run one[6];
    for (int i = 0; i < 6; i++) one[i] = r[5 * i];
    o.n_boot = 0;
    CHECKF(lms_fit_runs(one, 6, &o, &rep, &err) == LMS_OK, "%s", err.msg);
    CHECK(rep.lc_ok && !rep.nd_ok && (rep.warn & LMS_FIT_WARN_SKIPPED) && strstr(rep.warnings, "distinct token"));
    lms_fit_report_free(&rep);
}

/* The keys of object o in order, joined by ','. */
static void keys_of(json_t *o, char *out, size_t cap) {
    const char *k;
    json_t *v;
    out[0] = 0;
    json_object_foreach(o, k, v) snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "," : "", k);
}

/* lms_fit_report_json: one report in both layouts, each with its own keys in its own order and the
   same numbers. */
static void test_json_layouts(void) {
    lms_fit_run r[30];
    int n = make_grid(r, 6, 1e6, 1e8, 5, 3e7, 1e9, 0, 0);
    const char *names[30];
    char buf[30][16];
    for (int i = 0; i < n; i++) snprintf(buf[i], sizeof buf[i], "run%d", i), names[i] = buf[i];
    lms_fit_opts o;
    lms_fit_opts_default(&o);
    o.n_boot = 20;
    lms_fit_report rep;
    lms_err err = {0};
    CHECKF(lms_fit_runs(r, n, &o, &rep, &err) == LMS_OK, "%s", err.msg);
    json_t *c = lms_fit_report_json(&rep, names, &o, LMS_FIT_JSON_CLI);
    json_t *p = lms_fit_report_json(&rep, names, &o, LMS_FIT_JSON_REPORT);
    char k[512];
    keys_of(c, k, sizeof k);
    CHECKF(!strcmp(k, "runs,k,bootstrap,seed,level,frontier,lc,nd,optimum,isoflop,isoflop_interpolated,holdout,warnings"), "%s", k);
    keys_of(p, k, sizeof k);
    CHECKF(!strcmp(k, "ok,n_runs,k,warnings,lc_ok,nd_ok,frontier,lc,nd,opt,iso,iso_interp,held"), "%s", k);
    keys_of(json_object_get(c, "nd"), k, sizeof k);
    CHECKF(!strcmp(k, "points,E,A,alpha,B,beta,r2_log,rmse_log,huber_delta,objective,starts,converged,boot_ok,boot_failed"), "%s", k);
    keys_of(json_object_get(p, "nd"), k, sizeof k);
    CHECKF(!strcmp(k, "n,E,A,alpha,B,beta,r2_log"), "%s", k);
    keys_of(json_object_get(c, "holdout"), k, sizeof k);
    CHECKF(!strcmp(k, "ok,name,C,N,D,loss,pred_lc,rel_err_lc,pred_nd,rel_err_nd"), "%s", k);
    keys_of(json_object_get(p, "held"), k, sizeof k);
    CHECKF(!strcmp(k, "ok,why,run,C,N,D,L,L_pred_lc,rel_err_lc,L_pred_nd,rel_err_nd"), "%s", k);
    keys_of(json_object_get(c, "isoflop"), k, sizeof k);
    CHECKF(!strcmp(k, "groups,minima,exponent,exponent_se,G"), "%s", k);
    keys_of(json_object_get(p, "iso_interp"), k, sizeof k);
    CHECKF(!strcmp(k, "groups,points,n_minima,a,a_se"), "%s", k);
    /* the same numbers under both names */
    double a1 = json_real_value(json_object_get(json_object_get(json_object_get(c, "nd"), "alpha"), "est"));
    double a2 = json_real_value(json_object_get(json_object_get(json_object_get(p, "nd"), "alpha"), "est"));
    CHECK(a1 == rep.nd.alpha.est && a2 == a1);
    CHECK(json_integer_value(json_object_get(c, "runs")) == n && json_integer_value(json_object_get(p, "n_runs")) == n);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(c, "holdout"), "name")), names[rep.held.index]));
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(p, "held"), "run")), names[rep.held.index]));
    CHECK(json_array_size(json_object_get(c, "frontier")) == (size_t)rep.n_frontier &&
          !strcmp(json_string_value(json_array_get(json_object_get(p, "frontier"), 0)), names[rep.frontier[0]]));
    json_decref(c);
    json_decref(p);
    lms_fit_report_free(&rep);
}

/* lms_fit_runs_read: names from "name", else "model", else the line; a bad run names file:line. */
static void test_runs_read(void) {
    char path[] = "/tmp/lms_fit_runs_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"name\": \"a\", \"params_nonembed\": 1e6, \"tokens\": 2e7, \"flops\": 1.2e14, \"loss\": 3.5}\n"
          "{\"model\": \"runs/b\", \"params_nonembed\": 2e6, \"tokens\": 2e7, \"flops\": 2.4e14, \"loss\": 3.2, \"x\": 1}\n"
          "\n{\"params_nonembed\": 4e6, \"tokens\": 2e7, \"flops\": 4.8e14, \"loss\": 3.0}\n", f);
    fclose(f);
    lms_fit_runset t;
    lms_err err = {0};
    CHECKF(lms_fit_runs_read(&t, path, &err) == LMS_OK, "%s", err.msg);
    CHECKF(t.n == 3 && !strcmp(t.name[0], "a") && !strcmp(t.name[1], "runs/b") && !strcmp(t.name[2], "line 4"), "%d runs", t.n);
    CHECK(t.n == 3 && t.r[1].N == 2e6 && t.r[2].C == 4.8e14 && t.r[0].L == 3.5);
    lms_fit_runset_free(&t);
    f = fopen(path, "a");
    fputs("{\"name\": \"bad\", \"params_nonembed\": 1e6, \"tokens\": 0, \"flops\": 1, \"loss\": 1}\n", f);
    fclose(f);
    CHECK(lms_fit_runs_read(&t, path, &err) == LMS_ERR_FORMAT);
    CHECKF(strstr(err.msg, ":5") && strstr(err.msg, "\"tokens\" is 0"), "%s", err.msg);
    lms_fit_runset_free(&t);
    unlink(path);
    CHECK(lms_fit_runs_read(&t, path, &err) == LMS_ERR_IO);
    lms_fit_runset_free(&t);
}

TESTS(test_json_layouts, test_runs_read, test_nd_noise_free, test_nd_noisy, test_nd_huber_minimum, test_optimum_closed_form, test_frontier, test_lc, test_isoflop, test_isoflop_interp,
      test_report_noise_free, test_edge_warning, test_bad_input)
