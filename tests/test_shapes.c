/* test_shapes.c — curve-shape labels (src/eval/shapes.h): hand-checked numbers on exact curves,
 * every shape on seeded noisy synthetic curves of 5-12 points, pure noise with honest error bars
 * (must read flat in >= 95% of 200 trials; the rules promise <= 5% false alarms), over-dispersed
 * noise (noise 4x the error bars reads noisy), order independence, x = 0, bad input.
 *
 * The measured rates are printed (stderr) so that docs/shapes.md can quote them; run
 * build/tests/test_shapes to see them.
 */
#include <stdlib.h>

#include "core/rng.h"
#include "eval/shapes.h"
#include "harness.h"

/* A curve's true value at position v in [0, 1] along its log-x range. */
typedef double (*curve_fn)(double v, const double *a);

/* n points evenly spaced in log x over `decades` decades from 1e15, y = f(v) + se * N(0, 1) * noise. */
static void make_curve(lms_shape_point *p, int n, double decades, curve_fn f, const double *a, double se, double noise,
                       lms_rng *r) {
    for (int i = 0; i < n; i++) {
        double v = (double)i / (n - 1);
        p[i].x = 1e15 * pow(10.0, decades * v);
        p[i].y = f(v, a) + (r ? noise * se * lms_rng_normal(r) : 0.0);
        p[i].se = se;
    }
}

static lms_shape_result classify(const lms_shape_point *p, int n) {
    lms_shape_result res;
    lms_err err = {0};
    lms_status st = lms_shape_classify(p, n, NULL, &res, &err);
    CHECKF(st == LMS_OK, "%s", err.msg);
    return res;
}

/* --- the synthetic shapes; a[] holds the parameters --- */
static double f_const(double v, const double *a) { return a[0]; }
/* loss-like power law in x, as a "higher is better" metric: y = -(E + A x^-alpha); a = {alpha, decades} */
static double f_powerlaw(double v, const double *a) { return -(2.0 + 3.0 * pow(10.0, -a[0] * a[1] * v)); }
static double f_linear(double v, const double *a) { return a[0] + a[1] * v; }
/* logistic in log x: a = {lo, hi, centre, width} */
static double f_sigmoid(double v, const double *a) { return a[0] + (a[1] - a[0]) / (1.0 + exp(-(v - a[2]) / a[3])); }
/* saturating rise: quick early, then a plateau */
static double f_saturate(double v, const double *a) { return a[0] + a[1] * (1.0 - exp(-v / a[2])); }
/* parabola in log x: a = {value at the turn, curvature (>0: U), turn position} */
static double f_parabola(double v, const double *a) { return a[0] + a[1] * (v - a[2]) * (v - a[2]); }
/* bump: a = {base, height (<0: dip), centre, width} */
static double f_bump(double v, const double *a) { return a[0] + a[1] * exp(-((v - a[2]) / a[3]) * ((v - a[2]) / a[3])); }
/* alternating high/low */
static double f_zigzag(double v, const double *a) {
    int k = (int)lround(v * a[2]);
    return (k % 2) ? a[1] : a[0];
}
/* power law rising in x (convex along log x): y = (x/x0)^b; a = {b, decades} */
static double f_rising_power(double v, const double *a) { return pow(10.0, a[0] * a[1] * v); }

static void test_too_few_and_bad_input(void) {
    lms_shape_point p[3] = {{1, 0.1, 0.01}, {10, 0.9, 0.01}, {100, 0.2, 0.01}};
    lms_shape_result r;
    lms_err err = {0};
    for (int n = 0; n <= 2; n++) {
        CHECK(lms_shape_classify(p, n, NULL, &r, &err) == LMS_OK);
        CHECK(r.label == LMS_SHAPE_TOO_FEW);
        CHECK(r.n == n);
    }
    CHECK(!strcmp(lms_shape_name(r.label), "too-few"));
    lms_shape_point q[3];
    memcpy(q, p, sizeof q);
    q[1].y = NAN;
    CHECK(lms_shape_classify(q, 3, NULL, &r, &err) == LMS_ERR_ARG && strstr(err.msg, "point 1"));
    memcpy(q, p, sizeof q);
    q[2].se = -0.1;
    CHECK(lms_shape_classify(q, 3, NULL, &r, &err) == LMS_ERR_ARG && strstr(err.msg, "standard error"));
    memcpy(q, p, sizeof q);
    q[0].x = -1;
    CHECK(lms_shape_classify(q, 3, NULL, &r, &err) == LMS_ERR_ARG && strstr(err.msg, "x"));
    memcpy(q, p, sizeof q);
    q[0].x = q[1].x = q[2].x = 5;
    CHECK(lms_shape_classify(q, 3, NULL, &r, &err) == LMS_ERR_ARG && strstr(err.msg, "same x"));
    lms_shape_opts o;
    lms_shape_opts_default(&o);
    o.alpha = 0;
    CHECK(lms_shape_classify(p, 3, &o, &r, &err) == LMS_ERR_ARG);
    CHECK(r.label == LMS_SHAPE_TOO_FEW);
    CHECK(lms_shape_classify(p, LMS_SHAPE_MAX_POINTS + 1, NULL, &r, &err) == LMS_ERR_ARG && strstr(err.msg, "thin"));
}

static void test_z_crit(void) {
    /* Bonferroni over n(n-1)/2 pairs, two-sided: P(|Z| > z) = alpha / pairs */
    CHECK_NEAR(lms_shape_z_crit(3, 0.05), 2.394, 1e-3);  /* p = 0.05/3 */
    CHECK_NEAR(lms_shape_z_crit(5, 0.05), 2.807, 1e-3);  /* p = 0.05/10 */
    CHECK_NEAR(lms_shape_z_crit(12, 0.05), 3.368, 1e-3); /* p = 0.05/66 */
    CHECK_NEAR(lms_shape_z_crit(2, 0.05), 1.960, 1e-3);  /* one pair: the usual 1.96 */
    for (int n = 3; n < 200; n++) CHECK(lms_shape_z_crit(n + 1, 0.05) > lms_shape_z_crit(n, 0.05));
}

/* Exact (noise-free) curves whose numbers can be checked by hand. */
static void test_exact_numbers(void) {
    /* 5 points, x = 1..1e4: a jump between the 3rd and 4th point. 80% of the rise lies within 0.8 of
       one interval = 0.2 of the range; the earliest such window starts at the 3rd point, half-way. */
    lms_shape_point p[5] = {{1, 0.25, 0.02}, {10, 0.25, 0.02}, {100, 0.25, 0.02}, {1e3, 0.85, 0.02}, {1e4, 0.85, 0.02}};
    lms_shape_result r = classify(p, 5);
    CHECK(r.label == LMS_SHAPE_EMERGENT);
    CHECK_NEAR(r.f80, 0.2, 1e-9);
    CHECK_NEAR(r.lead, 0.5, 1e-9);
    CHECK_NEAR(r.rise, 0.6, 1e-12);
    CHECK(r.n_moves == 1 && r.moves[0].from == 0 && r.moves[0].to == 3);
    CHECK_NEAR(r.moves[0].z, 0.6 / sqrt(2 * 0.02 * 0.02), 1e-9);
    CHECK_NEAR(r.net_delta, 0.6, 1e-12);
    CHECK(strstr(r.detail, "80%"));

    /* a straight line in log x: f80 = 0.8, and the earliest such window starts at the start */
    for (int i = 0; i < 5; i++) p[i].y = 0.2 + 0.15 * i;
    r = classify(p, 5);
    CHECK(r.label == LMS_SHAPE_SMOOTH);
    CHECK_NEAR(r.f80, 0.8, 1e-9);
    CHECK_NEAR(r.lead, 0.0, 1e-9);

    /* the same line falling: inverse with the same numbers */
    for (int i = 0; i < 5; i++) p[i].y = 0.8 - 0.15 * i;
    r = classify(p, 5);
    CHECK(r.label == LMS_SHAPE_INVERSE);
    CHECK_NEAR(r.rise, -0.6, 1e-12);
    CHECK_NEAR(r.f80, 0.8, 1e-9);

    /* a dip and recovery: U turning at the middle point */
    double u[5] = {0.9, 0.6, 0.2, 0.5, 0.85};
    for (int i = 0; i < 5; i++) p[i].y = u[i];
    r = classify(p, 5);
    CHECK(r.label == LMS_SHAPE_U_SHAPED && !r.inverted);
    CHECK(r.n_moves == 2 && r.sign_changes == 1);
    CHECK_NEAR(r.turn, 0.5, 1e-9);
    CHECK_NEAR(r.moves[0].delta, -0.7, 1e-12);
    CHECK_NEAR(r.moves[1].delta, 0.65, 1e-12);
    for (int i = 0; i < 5; i++) p[i].y = 1 - u[i];
    r = classify(p, 5);
    CHECK(r.label == LMS_SHAPE_U_SHAPED && r.inverted);

    /* changes within the threshold: flat. 5 points: z_crit 2.81, combined se 0.0283 -> 0.079 */
    double f[5] = {0.30, 0.37, 0.31, 0.36, 0.30};
    for (int i = 0; i < 5; i++) p[i].y = f[i];
    r = classify(p, 5);
    CHECK(r.label == LMS_SHAPE_FLAT && r.n_moves == 0);
    CHECK_NEAR(r.max_z, 0.07 / sqrt(2 * 0.02 * 0.02), 1e-9);
    /* one of them a little further: now a significant move */
    p[1].y = 0.39;
    r = classify(p, 5);
    CHECK(r.label != LMS_SHAPE_FLAT);

    /* three reversals: noisy */
    double z[6] = {0.2, 0.8, 0.2, 0.8, 0.2, 0.8};
    lms_shape_point q[6];
    for (int i = 0; i < 6; i++) q[i] = (lms_shape_point){pow(10, i), z[i], 0.02};
    r = classify(q, 6);
    CHECK(r.label == LMS_SHAPE_NOISY && r.n_moves == 5 && r.sign_changes == 4);

    /* an early rise then a plateau is smooth, not emergent: no flat stretch first */
    double s[5] = {0.25, 0.85, 0.85, 0.85, 0.85};
    for (int i = 0; i < 5; i++) p[i].y = s[i];
    r = classify(p, 5);
    CHECK(r.label == LMS_SHAPE_SMOOTH);
    CHECK_NEAR(r.f80, 0.2, 1e-9);
    CHECK_NEAR(r.lead, 0.0, 1e-9);
}

/* Zero error bars: any difference between two exact points is significant; equal values are not. */
static void test_zero_se(void) {
    lms_shape_point p[4] = {{1, 0, 0}, {10, 0, 0}, {100, 0, 0}, {1000, 0, 0}};
    lms_shape_result r = classify(p, 4);
    CHECK(r.label == LMS_SHAPE_FLAT);
    p[3].y = 0.02;
    r = classify(p, 4);
    CHECK(r.label == LMS_SHAPE_EMERGENT);
    CHECK(isinf(r.moves[0].z));
}

/* The result does not depend on the order of the input; x = 0 sits one halving below the smallest x. */
static void test_order_and_zero_x(void) {
    lms_rng rng;
    lms_rng_seed(&rng, 11);
    double a[4] = {0.1, 0.9, 0.6, 0.05};
    lms_shape_point p[9], q[9];
    make_curve(p, 9, 5, f_sigmoid, a, 0.03, 1.0, &rng);
    lms_shape_result r1 = classify(p, 9);
    for (int i = 0; i < 9; i++) q[i] = p[(i * 4) % 9]; /* a permutation (4 and 9 are coprime) */
    lms_shape_result r2 = classify(q, 9);
    CHECK(r1.label == r2.label && r1.n_moves == r2.n_moves);
    CHECK(r1.f80 == r2.f80 && r1.lead == r2.lead && r1.max_z == r2.max_z);
    CHECK(!strcmp(r1.detail, r2.detail));

    /* steps 0, 1, 2, 4, ..., 128: step 0 is placed at 0.5, so the positions are evenly spaced */
    lms_shape_point s[9];
    for (int i = 0; i < 9; i++) s[i] = (lms_shape_point){i == 0 ? 0 : pow(2, i - 1), i < 4 ? 0.1 : 0.1 + 0.1 * (i - 3), 0.01};
    lms_shape_result r = classify(s, 9);
    /* flat to point 3, then a straight rise over 5 of the 8 intervals: 80% of it takes 4 intervals */
    CHECK(r.label == LMS_SHAPE_SMOOTH);
    CHECK_NEAR(r.f80, 4 / 8.0, 1e-9);
    CHECK_NEAR(r.lead, 3 / 8.0, 1e-9);
}

typedef struct {
    const char *name;
    curve_fn f;
    double a[4];
    double decades;
    double amp; /* size of the change, to set se = amp / snr */
    lms_shape_label want;
    int inverted;
    int min_n;
} family;

/* Each family at n = 5..12 (from its min_n), 10 seeds each, honest noise with the change = 15 SE. */
static void run_families(const family *fams, int nf, double snr, double min_rate) {
    for (int k = 0; k < nf; k++) {
        const family *fm = &fams[k];
        int ok = 0, total = 0;
        char wrong[512] = "";
        for (int n = fm->min_n ? fm->min_n : 5; n <= 12; n++) {
            for (int seed = 0; seed < 10; seed++) {
                lms_rng rng;
                lms_rng_seed(&rng, 1000u * (unsigned)k + 37u * (unsigned)n + (unsigned)seed);
                lms_shape_point p[12];
                double se = fm->amp / snr;
                make_curve(p, n, fm->decades, fm->f, fm->a, se, 1.0, &rng);
                lms_shape_result r = classify(p, n);
                int good = r.label == fm->want && (fm->want != LMS_SHAPE_U_SHAPED || r.inverted == fm->inverted);
                ok += good;
                total++;
                if (!good && strlen(wrong) < 400)
                    snprintf(wrong + strlen(wrong), sizeof wrong - strlen(wrong), " n%d:%s(f%.2f,l%.2f)", n,
                             lms_shape_name(r.label), r.f80, r.lead);
            }
            /* and the noise-free curve must always be right */
            lms_shape_point p[12];
            make_curve(p, n, fm->decades, fm->f, fm->a, fm->amp / snr, 0.0, NULL);
            lms_shape_result r = classify(p, n);
            CHECKF(r.label == fm->want, "%s, n=%d, exact: %s (%s)", fm->name, n, lms_shape_name(r.label), r.detail);
        }
        double rate = (double)ok / total;
        fprintf(stderr, "  %-34s %3d/%3d = %.3f%s%s\n", fm->name, ok, total, rate, ok < total ? "; wrong:" : "", wrong);
        CHECKF(rate >= min_rate, "%s labelled %s in %.3f of the trials (< %.2f)", fm->name, lms_shape_name(fm->want), rate,
               min_rate);
    }
}

static void test_synthetic_shapes(void) {
    static const family fams[] = {
        {"smooth: power law alpha 0.05", f_powerlaw, {0.05, 6}, 6, 1.5, LMS_SHAPE_SMOOTH, 0, 0},
        {"smooth: power law alpha 0.1", f_powerlaw, {0.1, 6}, 6, 2.2, LMS_SHAPE_SMOOTH, 0, 0},
        {"smooth: power law alpha 0.3", f_powerlaw, {0.3, 6}, 6, 2.9, LMS_SHAPE_SMOOTH, 0, 0},
        {"smooth: linear in log x", f_linear, {0.2, 0.5}, 4, 0.5, LMS_SHAPE_SMOOTH, 0, 0},
        {"smooth: wide logistic", f_sigmoid, {0.25, 0.75, 0.5, 0.25}, 6, 0.5, LMS_SHAPE_SMOOTH, 0, 0},
        {"smooth: early rise then plateau", f_saturate, {0.3, 0.5, 0.1}, 5, 0.5, LMS_SHAPE_SMOOTH, 0, 0},
        {"emergent: jump at 40%", f_sigmoid, {0.25, 0.9, 0.42, 0.02}, 6, 0.65, LMS_SHAPE_EMERGENT, 0, 0},
        {"emergent: jump at 60%", f_sigmoid, {0.25, 0.9, 0.61, 0.02}, 6, 0.65, LMS_SHAPE_EMERGENT, 0, 0},
        {"emergent: jump at 80%", f_sigmoid, {0.0, 0.5, 0.79, 0.02}, 4, 0.5, LMS_SHAPE_EMERGENT, 0, 0},
        {"emergent: jump in the last interval", f_sigmoid, {0.5, 0.9, 0.97, 0.01}, 6, 0.4, LMS_SHAPE_EMERGENT, 0, 0},
        {"inverse: linear fall", f_linear, {0.8, -0.5}, 6, 0.5, LMS_SHAPE_INVERSE, 0, 0},
        {"inverse: sudden fall at 60%", f_sigmoid, {0.9, 0.3, 0.61, 0.03}, 6, 0.6, LMS_SHAPE_INVERSE, 0, 0},
        {"inverse: power law (loss rising)", f_powerlaw, {-0.05, 6}, 6, 3.0, LMS_SHAPE_INVERSE, 0, 0},
        {"U: parabola turning at 50%", f_parabola, {0.2, 2.8, 0.5}, 6, 0.7, LMS_SHAPE_U_SHAPED, 0, 0},
        {"U: dip at 35% (quote repetition)", f_bump, {0.85, -0.6, 0.35, 0.15}, 6, 0.6, LMS_SHAPE_U_SHAPED, 0, 6},
        {"inverted U: bump at 60%", f_bump, {0.2, 0.6, 0.6, 0.18}, 6, 0.6, LMS_SHAPE_U_SHAPED, 1, 6},
        {"inverted U: parabola at 50%", f_parabola, {0.8, -2.4, 0.5}, 6, 0.6, LMS_SHAPE_U_SHAPED, 1, 0},
        {"noisy: alternating high/low", f_zigzag, {0.2, 0.7, 11}, 6, 0.5, LMS_SHAPE_NOISY, 0, 12},
    };
    fprintf(stderr, "  shape families, change = 15 SE, n = 5..12, 10 seeds each:\n");
    run_families(fams, (int)(sizeof fams / sizeof fams[0]), 15.0, 0.9);
    if (getenv("SNR")) run_families(fams, (int)(sizeof fams / sizeof fams[0]), atof(getenv("SNR")), 0.0);
}

/* Pure noise around a constant with honest error bars (the scatter is the reported se): the rules
   promise at most alpha = 5% false alarms; measure it on 200 trials of 5..12 points. */
static void test_pure_noise_reads_flat(void) {
    int flat = 0, noisy = 0, trials = 200, other[8] = {0};
    double a[1] = {0.4};
    for (int t = 0; t < trials; t++) {
        lms_rng rng;
        lms_rng_seed(&rng, 77000u + (unsigned)t);
        int n = 5 + t % 8;
        lms_shape_point p[12];
        double se = 0.01 + 0.05 * lms_rng_uniform_f64(&rng);
        make_curve(p, n, 1 + 5 * lms_rng_uniform_f64(&rng), f_const, a, se, 1.0, &rng);
        lms_shape_result r = classify(p, n);
        flat += r.label == LMS_SHAPE_FLAT;
        noisy += r.label == LMS_SHAPE_NOISY;
        other[r.label]++;
    }
    double rate = (double)(flat + noisy) / trials;
    fprintf(stderr, "  pure noise, honest SE: %d flat, %d noisy of %d (%.3f); smooth %d emergent %d inverse %d u %d\n",
            flat, noisy, trials, rate, other[LMS_SHAPE_SMOOTH], other[LMS_SHAPE_EMERGENT], other[LMS_SHAPE_INVERSE],
            other[LMS_SHAPE_U_SHAPED]);
    CHECKF(rate >= 0.95, "pure noise read flat/noisy in only %.3f of %d trials", rate, trials);
    CHECK(flat >= 190); /* with honest SEs it is flat, not noisy */

    /* the rate itself, measured closely: 10000 more trials, per length. Bonferroni promises
       P(flat) >= 1 - alpha = 0.95 for every n; 10000 trials pin the rate to about +-0.2%. */
    int big = 10000, bflat = 0, nflat[13] = {0}, ntot[13] = {0};
    for (int t = 0; t < big; t++) {
        lms_rng rng;
        lms_rng_seed(&rng, 5000000u + (unsigned)t);
        int n = 5 + t % 8;
        lms_shape_point p[12];
        make_curve(p, n, 6, f_const, a, 0.03, 1.0, &rng);
        int fl = classify(p, n).label == LMS_SHAPE_FLAT;
        bflat += fl;
        nflat[n] += fl;
        ntot[n]++;
    }
    fprintf(stderr, "  pure noise, honest SE, %d trials: flat %.4f; by n:", big, (double)bflat / big);
    for (int n = 5; n <= 12; n++) fprintf(stderr, " %d:%.3f", n, (double)nflat[n] / ntot[n]);
    fprintf(stderr, "\n");
    CHECKF(bflat >= 0.95 * big, "flat in %.4f of %d trials (< 0.95)", (double)bflat / big, big);

    /* the same noise with a looser alpha gives more false alarms: the threshold is what protects */
    lms_shape_opts o;
    lms_shape_opts_default(&o);
    o.alpha = 0.5;
    int flat_loose = 0;
    for (int t = 0; t < trials; t++) {
        lms_rng rng;
        lms_rng_seed(&rng, 77000u + (unsigned)t);
        int n = 5 + t % 8;
        lms_shape_point p[12];
        double se = 0.01 + 0.05 * lms_rng_uniform_f64(&rng);
        make_curve(p, n, 1 + 5 * lms_rng_uniform_f64(&rng), f_const, a, se, 1.0, &rng);
        lms_shape_result r;
        lms_err err = {0};
        CHECK(lms_shape_classify(p, n, &o, &r, &err) == LMS_OK);
        flat_loose += r.label == LMS_SHAPE_FLAT;
    }
    fprintf(stderr, "  pure noise with alpha 0.5: %d flat of %d\n", flat_loose, trials);
    CHECK(flat_loose < flat);
}

/* Noise four times larger than the reported error bars: significant changes that fit no shape.
   Long curves (12 points) should mostly read noisy; short ones can look like a shape by chance. */
static void test_overdispersed_noise(void) {
    double a[1] = {0.5};
    for (int n = 8; n <= 12; n += 4) {
        int count[8] = {0}, trials = 200;
        for (int t = 0; t < trials; t++) {
            lms_rng rng;
            lms_rng_seed(&rng, 91000u + 1000u * (unsigned)n + (unsigned)t);
            lms_shape_point p[12];
            make_curve(p, n, 6, f_const, a, 0.02, 4.0, &rng);
            count[classify(p, n).label]++;
        }
        fprintf(stderr, "  noise = 4 SE, n = %d: noisy %d flat %d smooth %d emergent %d inverse %d u %d (of %d)\n", n,
                count[LMS_SHAPE_NOISY], count[LMS_SHAPE_FLAT], count[LMS_SHAPE_SMOOTH], count[LMS_SHAPE_EMERGENT],
                count[LMS_SHAPE_INVERSE], count[LMS_SHAPE_U_SHAPED], trials);
        if (n == 12) CHECKF(count[LMS_SHAPE_NOISY] >= trials * 3 / 4, "only %d of %d read noisy", count[LMS_SHAPE_NOISY], trials);
        CHECK(count[LMS_SHAPE_FLAT] < trials / 10); /* the scatter is far beyond the error bars */
    }
}

/* Documented ambiguity: a power law rising in x, steep over many decades, is a hockey stick on a
   log-x axis and reads emergent; a gentle one over few decades reads smooth. */
static void test_power_law_hockey_stick(void) {
    lms_shape_point p[10];
    double steep[2] = {0.5, 6}, gentle[2] = {0.1, 2};
    make_curve(p, 10, 6, f_rising_power, steep, 1.0, 0.0, NULL);
    lms_shape_result r = classify(p, 10);
    CHECKF(r.label == LMS_SHAPE_EMERGENT, "%s", r.detail);
    make_curve(p, 10, 2, f_rising_power, gentle, 0.01, 0.0, NULL);
    r = classify(p, 10);
    CHECKF(r.label == LMS_SHAPE_SMOOTH, "%s", r.detail);
}

TESTS(test_too_few_and_bad_input, test_z_crit, test_exact_numbers, test_zero_se, test_order_and_zero_x,
      test_synthetic_shapes, test_pure_noise_reads_flat, test_overdispersed_noise, test_power_law_hockey_stick)
