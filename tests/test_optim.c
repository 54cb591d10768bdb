/* test_optim.c — learning-rate schedules at key steps, gradient norm and clipping, AdamW against
 * hand-computed steps, weight decay only on decay=1 tensors, and exact resume of the step count.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "harness.h"
#include "model/gpt.h"
#include "optim/optim.h"

static void test_schedule_constant(void) {
    lms_schedule s = {LMS_SCHED_CONSTANT, 1e-3f, 4, 100, 0.1f, 0.0f};
    CHECK(lms_schedule_check(&s, NULL) == LMS_OK);
    CHECK_NEAR(lms_schedule_lr(&s, 0), 0.25e-3, 1e-10);
    CHECK_NEAR(lms_schedule_lr(&s, 2), 0.75e-3, 1e-10);
    CHECK_NEAR(lms_schedule_lr(&s, 3), 1e-3, 1e-10);
    CHECK_NEAR(lms_schedule_lr(&s, 4), 1e-3, 1e-10);
    CHECK_NEAR(lms_schedule_lr(&s, 1000000), 1e-3, 1e-10);
    s.warmup = 0;
    CHECK_NEAR(lms_schedule_lr(&s, 0), 1e-3, 1e-10);
}

static void test_schedule_cosine(void) {
    lms_schedule s = {LMS_SCHED_COSINE, 1.0f, 10, 110, 0.1f, 0.0f};
    CHECK(lms_schedule_check(&s, NULL) == LMS_OK);
    CHECK_NEAR(lms_schedule_lr(&s, 0), 0.1, 1e-7);  /* (0+1)/10 */
    CHECK_NEAR(lms_schedule_lr(&s, 9), 1.0, 1e-7);  /* end of warmup */
    CHECK_NEAR(lms_schedule_lr(&s, 10), 1.0, 1e-7); /* cosine starts at the peak */
    CHECK_NEAR(lms_schedule_lr(&s, 35), 0.1 + 0.9 * 0.5 * (1 + cos(M_PI / 4)), 1e-6);
    CHECK_NEAR(lms_schedule_lr(&s, 60), 0.55, 1e-6); /* half way: the mean of peak and floor */
    CHECK_NEAR(lms_schedule_lr(&s, 110), 0.1, 1e-7);
    CHECK_NEAR(lms_schedule_lr(&s, 500), 0.1, 1e-7); /* stays at the floor */
    for (int64_t i = 10; i < 110; i++) CHECK(lms_schedule_lr(&s, i + 1) <= lms_schedule_lr(&s, i));
}

static void test_schedule_wsd(void) {
    lms_schedule s = {LMS_SCHED_WSD, 2.0f, 10, 100, 0.05f, 0.2f};
    CHECK(lms_schedule_check(&s, NULL) == LMS_OK);
    CHECK_NEAR(lms_schedule_lr(&s, 4), 1.0, 1e-7); /* warmup 5/10 of 2 */
    CHECK_NEAR(lms_schedule_lr(&s, 10), 2.0, 1e-7);
    CHECK_NEAR(lms_schedule_lr(&s, 79), 2.0, 1e-7); /* stable until the last 20 steps */
    CHECK_NEAR(lms_schedule_lr(&s, 80), 2.0, 1e-7);
    CHECK_NEAR(lms_schedule_lr(&s, 90), 2.0 - (2.0 - 0.1) * 0.5, 1e-6);
    CHECK_NEAR(lms_schedule_lr(&s, 99), 2.0 - (2.0 - 0.1) * 19.0 / 20.0, 1e-6);
    CHECK_NEAR(lms_schedule_lr(&s, 100), 0.1, 1e-7);
    CHECK_NEAR(lms_schedule_lr(&s, 150), 0.1, 1e-7);
    s.decay_frac = 0.0f; /* no decay phase: stable forever */
    CHECK_NEAR(lms_schedule_lr(&s, 100), 2.0, 1e-7);
}

static void test_schedule_check(void) {
    lms_err err = {0};
    lms_schedule s = {LMS_SCHED_COSINE, 0.0f, 10, 100, 0.1f, 0.0f};
    CHECK(lms_schedule_check(&s, &err) == LMS_ERR_ARG && strstr(err.msg, "learning rate"));
    s.lr = 1e-3f, s.total = 0;
    CHECK(lms_schedule_check(&s, &err) == LMS_ERR_ARG && strstr(err.msg, "total"));
    s.total = 100, s.min_lr_frac = 1.5f;
    CHECK(lms_schedule_check(&s, &err) == LMS_ERR_ARG && strstr(err.msg, "min_lr_frac"));
    s.min_lr_frac = 0.1f, s.kind = LMS_SCHED_WSD, s.decay_frac = -0.1f;
    CHECK(lms_schedule_check(&s, &err) == LMS_ERR_ARG && strstr(err.msg, "decay_frac"));
    s.decay_frac = 0.1f, s.warmup = -1;
    CHECK(lms_schedule_check(&s, &err) == LMS_ERR_ARG && strstr(err.msg, "warmup"));
}

static void test_clip(void) {
    float g[2] = {3.0f, 4.0f};
    CHECK_NEAR(lms_grad_global_norm(g, 2), 5.0, 1e-6);
    CHECK_NEAR(lms_grad_clip(g, 2, 10.0f), 5.0, 1e-6);
    CHECK(g[0] == 3.0f && g[1] == 4.0f); /* under the limit: untouched */
    CHECK_NEAR(lms_grad_clip(g, 2, 1.0f), 5.0, 1e-6);
    CHECK_NEAR(g[0], 3.0 / (5.0 + 1e-6), 1e-7);
    CHECK_NEAR(g[1], 4.0 / (5.0 + 1e-6), 1e-7);
    CHECK_NEAR(lms_grad_global_norm(g, 2), 1.0, 1e-6);
    float h[3] = {1.0f, NAN, 2.0f};
    CHECK(isnan(lms_grad_clip(h, 3, 1.0f)));
    CHECK(h[0] == 1.0f && h[2] == 2.0f); /* a NaN norm does not scale anything */
    CHECK(lms_grad_global_norm(g, 0) == 0.0f);
}

/* The norm of a large vector: accurate, and the same bits for 1 and 2 threads. */
static void test_norm_deterministic(void) {
    int64_t n = 3000001;
    float *g = malloc((size_t)n * sizeof(float));
    double ref = 0;
    for (int64_t i = 0; i < n; i++) {
        g[i] = (float)((i % 1000) - 500) * 1e-3f;
        ref += (double)g[i] * g[i];
    }
    omp_set_num_threads(1);
    float a = lms_grad_global_norm(g, n);
    omp_set_num_threads(2);
    float b = lms_grad_global_norm(g, n);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK_NEAR(a, sqrt(ref), 1e-6 * sqrt(ref));
    free(g);
}

/* AdamW on a tiny model against values computed by hand from the formula in optim.h. */
static void adamw_case(int force_ref) {
    lms_cpu_force_reference(force_ref);
    lms_gpt_config c = {1, 1, 2, 1, 1};
    lms_gpt *m = NULL;
    lms_err err = {0};
    CHECK(lms_gpt_create(&m, &c, &err) == LMS_OK);
    float *p = lms_gpt_params(m), *g = lms_gpt_grads(m);
    int64_t n = lms_gpt_num_params(m);
    for (int64_t i = 0; i < n; i++) p[i] = 1.0f, g[i] = 0.0f;
    const lms_tensor_info *wte = lms_gpt_find_tensor(m, "wte.weight");      /* decay */
    const lms_tensor_info *fcb = lms_gpt_find_tensor(m, "h.0.mlp.c_fc.bias"); /* no decay */
    const lms_tensor_info *lnw = lms_gpt_find_tensor(m, "h.0.ln_1.weight");  /* no decay */
    g[wte->offset] = 0.5f;
    g[fcb->offset] = 0.5f;
    g[fcb->offset + 1] = -2.0f;
    lms_adamw_config oc = {0.1f, 0.9f, 0.95f, 1e-8f, 0.1f};
    lms_adamw *o = NULL;
    CHECK(lms_adamw_create(&o, m, &oc, &err) == LMS_OK);
    lms_adamw_step(o, m, 0.1f);
    /* step 1: m = 0.05, v = 0.0125, m̂ = 0.5, v̂ = 0.25, m̂/(sqrt v̂ + eps) = 1 - 2e-8 */
    CHECK_NEAR(p[wte->offset], 1.0 - 0.1 * (1.0 + 0.1), 1e-6);     /* 0.89: step + decay */
    CHECK_NEAR(p[wte->offset + 1], 1.0 - 0.1 * 0.1, 1e-7);         /* 0.99: decay only */
    CHECK_NEAR(p[fcb->offset], 0.9, 1e-6);                         /* step, no decay */
    CHECK_NEAR(p[fcb->offset + 1], 1.1, 1e-6);                     /* sign(g) step the other way */
    CHECK(p[lnw->offset] == 1.0f);                                 /* no grad, no decay: untouched */
    CHECK_NEAR(lms_adamw_m(o)[fcb->offset + 1], -0.2, 1e-7);
    CHECK_NEAR(lms_adamw_v(o)[fcb->offset + 1], 0.2, 1e-7);
    /* step 2 with g = 0.5 again on wte[0]: m = 0.095, v = 0.95·0.0125 + 0.05·0.25 = 0.024375,
       m̂ = 0.095/0.19 = 0.5, v̂ = 0.024375/0.0975 = 0.25: the update is 1 again */
    g[fcb->offset] = 0.0f, g[fcb->offset + 1] = 0.0f;
    lms_adamw_step(o, m, 0.05f);
    double p1 = 1.0 - 0.1 * 1.1, vh = 0.024375 / 0.0975;
    CHECK_NEAR(p[wte->offset], p1 - 0.05 * (0.5 / sqrt(vh) + 0.1 * p1), 1e-6);
    CHECK_NEAR(p[wte->offset], 0.83555, 1e-6);
    /* fc bias with g = 0: m = 0.045, v = 0.011875; m̂ = 0.236842..., v̂ = 0.121795... */
    double mh = 0.045 / 0.19, vh2 = 0.011875 / 0.0975;
    CHECK_NEAR(p[fcb->offset], 0.9 - 0.05 * mh / sqrt(vh2), 1e-6);
    CHECK(lms_adamw_t(o) == 2);
    lms_adamw_free(o);
    lms_gpt_free(m);
    lms_cpu_force_reference(0);
}
static void test_adamw_reference_ops(void) { adamw_case(1); }
static void test_adamw_default_ops(void) { adamw_case(0); }

/* Saving m, v, t and restoring them in a fresh optimizer continues bit for bit. */
static void test_adamw_resume(void) {
    lms_gpt_config c = {1, 2, 8, 4, 7};
    lms_gpt *a = NULL, *b = NULL;
    lms_adamw *oa = NULL, *ob = NULL;
    lms_err err = {0};
    CHECK(lms_gpt_create(&a, &c, &err) == LMS_OK && lms_gpt_create(&b, &c, &err) == LMS_OK);
    lms_gpt_init(a, 5);
    int64_t n = lms_gpt_num_params(a);
    lms_adamw_config oc = lms_adamw_defaults();
    CHECK(lms_adamw_create(&oa, a, &oc, &err) == LMS_OK);
    for (int s = 0; s < 5; s++) {
        for (int64_t i = 0; i < n; i++) lms_gpt_grads(a)[i] = (float)sin(0.37 * i + s);
        if (s == 3) { /* snapshot after 3 steps into b */
            memcpy(lms_gpt_params(b), lms_gpt_params(a), (size_t)n * 4);
            CHECK(lms_adamw_create(&ob, b, &oc, &err) == LMS_OK);
            memcpy(lms_adamw_m(ob), lms_adamw_m(oa), (size_t)n * 4);
            memcpy(lms_adamw_v(ob), lms_adamw_v(oa), (size_t)n * 4);
            lms_adamw_set_t(ob, lms_adamw_t(oa));
        }
        if (s >= 3) {
            memcpy(lms_gpt_grads(b), lms_gpt_grads(a), (size_t)n * 4);
            lms_adamw_step(ob, b, 1e-3f);
        }
        lms_adamw_step(oa, a, 1e-3f);
    }
    CHECK(lms_adamw_t(ob) == 5);
    CHECK(memcmp(lms_gpt_params(a), lms_gpt_params(b), (size_t)n * 4) == 0);
    lms_adamw_free(oa), lms_adamw_free(ob), lms_gpt_free(a), lms_gpt_free(b);
}

static void test_adamw_bad_config(void) {
    lms_gpt_config c = {1, 1, 4, 2, 3};
    lms_gpt *m = NULL;
    lms_adamw *o = NULL;
    lms_err err = {0};
    CHECK(lms_gpt_create(&m, &c, &err) == LMS_OK);
    lms_adamw_config oc = lms_adamw_defaults();
    CHECK(oc.lr == 3e-4f && oc.beta1 == 0.9f && oc.beta2 == 0.95f && oc.eps == 1e-8f && oc.weight_decay == 0.1f);
    oc.beta2 = 1.0f;
    CHECK(lms_adamw_create(&o, m, &oc, &err) == LMS_ERR_ARG && o == NULL && strstr(err.msg, "betas"));
    oc = lms_adamw_defaults(), oc.eps = 0.0f;
    CHECK(lms_adamw_create(&o, m, &oc, &err) == LMS_ERR_ARG && strstr(err.msg, "eps"));
    oc = lms_adamw_defaults(), oc.weight_decay = -1.0f;
    CHECK(lms_adamw_create(&o, m, &oc, &err) == LMS_ERR_ARG && strstr(err.msg, "weight_decay"));
    lms_gpt_free(m);
}

TESTS(test_schedule_constant, test_schedule_cosine, test_schedule_wsd, test_schedule_check, test_clip,
      test_norm_deterministic, test_adamw_reference_ops, test_adamw_default_ops, test_adamw_resume,
      test_adamw_bad_config)
