/* test_ref_grad.c — every backward op of the reference kernels (kernels/ref.c) against finite
 * differences, plus a whole-model finite-difference spot check of a few parameters per tensor.
 *
 * Method: for an op with output out and a fixed random R, take L = sum(out * R) (accumulated in
 * double). The op's backward with dout = R must give dL/dinput. Finite differences use the
 * fourth-order central stencil
 *     L'(x) ≈ (8 (L(x+h) - L(x-h)) - (L(x+2h) - L(x-2h))) / (12 h),
 * with h = 2^-7 so x ± h and x ± 2h are exact in fp32 for |x| < 2 (no error from the step itself).
 *
 * Tolerance (fp32): the forward's outputs are rounded to float, each with a relative error of
 * at most 2^-24, uniformly spread (std 2^-24/sqrt(3)), independently. So one evaluation of L
 * carries rounding noise of std sigma = 2^-24/sqrt(3) · Q, Q = sqrt(sum (out_j R_j)^2); we
 * allow 4 sigma-units for that, since attention's stored probabilities and LayerNorm's stored
 * rstd add roundings of the same order. The stencil's noise gain is sqrt(8²+8²+1+1)/(12 h)
 * ≈ 0.95/h = 122, and we accept 6 standard deviations:
 *     tol = 6 · 122 · 4 · 2^-24/sqrt(3) · Q  +  1e-5 · max|analytic|,
 * the second term covering the O(h^4 f^(5)/30) ≈ 1e-9 truncation and the analytic gradient's
 * own fp32 rounding (~1e-7 relative). Each check also asserts that tol is under 1% of the
 * mean |gradient|, so a 1% error in a typical element would be caught.
 * Backward ops must accumulate: gradients start from nonzero values G0 and must end at G0 + dL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "model/gpt.h"

#define H 0.0078125 /* 2^-7 */
#define EPS32 5.9604644775390625e-08

static lms_rng rng;
static const lms_ops *K;

static float *rnd(int64_t n, float scale) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = scale * (2.0f * lms_rng_uniform(&rng) - 1.0f);
    return p;
}

/* A forward evaluation: recomputes out from the current inputs, returns L = sum(out*R) and
   Q = sqrt(sum (out*R)^2) in *S. */
typedef double (*loss_fn)(void *ctx, double *S);

/* Checks analytic[i] - g0[i] against finite differences of fn w.r.t. x[i] for all i < n.
   Returns the largest |fd - analytic| / tolerance seen (must be <= 1). */
static double fd_check(const char *what, loss_fn fn, void *ctx, float *x, int64_t n, const float *analytic,
                       const float *g0) {
    double S;
    fn(ctx, &S);
    double gmax = 0;
    for (int64_t i = 0; i < n; i++) gmax = fmax(gmax, fabs((double)analytic[i] - g0[i]));
    double tol = 6.0 * 122.0 * 4.0 * EPS32 / sqrt(3.0) * S + 1e-5 * gmax;
    double worst = 0;
    int fails = 0;
    for (int64_t i = 0; i < n; i++) {
        float x0 = x[i];
        double s_;
        x[i] = x0 + (float)H;
        double p1 = fn(ctx, &s_);
        x[i] = x0 - (float)H;
        double m1 = fn(ctx, &s_);
        x[i] = x0 + (float)(2 * H);
        double p2 = fn(ctx, &s_);
        x[i] = x0 - (float)(2 * H);
        double m2 = fn(ctx, &s_);
        x[i] = x0;
        double fd = (8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * H);
        double an = (double)analytic[i] - g0[i];
        double r = fabs(fd - an) / tol;
        if (r > worst) worst = r;
        if (r > 1.0 && fails++ < 5)
            fprintf(stderr, "  %s[%lld]: finite difference %.8g, backward %.8g, tol %.3g\n", what, (long long)i, fd,
                    an, tol);
    }
    CHECKF(fails == 0, "%s: %d of %lld elements outside tolerance", what, fails, (long long)n);
    /* the bound must be meaningful: well under 1% of the typical gradient size */
    double mean_abs = 0;
    for (int64_t i = 0; i < n; i++) mean_abs += fabs((double)analytic[i] - g0[i]);
    mean_abs /= (double)n;
    CHECKF(tol < 0.01 * mean_abs, "%s: tolerance %.3g is not small against mean |grad| %.3g", what, tol, mean_abs);
    printf("  %-28s worst |fd - bwd| / tol = %.3f  (tol %.2e, mean |grad| %.2e)\n", what, worst, tol, mean_abs);
    return worst;
}

static double dot_R(const float *out, const float *R, int64_t n, double *S) {
    double L = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        L += (double)out[i] * R[i];
        s += ((double)out[i] * R[i]) * ((double)out[i] * R[i]);
    }
    *S = sqrt(s);
    return L;
}

/* gradient buffers start at g0 (nonzero) to prove accumulation */
static float *acc_buf(int64_t n, float **g0) {
    *g0 = rnd(n, 0.5f);
    float *g = malloc((size_t)n * sizeof(float));
    memcpy(g, *g0, (size_t)n * sizeof(float));
    return g;
}

/* ---- encoder ---- */
typedef struct { float *out, *wte, *wpe, *R; int32_t *tok; int64_t B, T, C; } enc_ctx;
static double enc_loss(void *v, double *S) {
    enc_ctx *c = v;
    K->encoder_fwd(c->out, c->tok, c->wte, c->wpe, c->B, c->T, c->C);
    return dot_R(c->out, c->R, c->B * c->T * c->C, S);
}
static void test_encoder_bwd(void) {
    int64_t B = 2, T = 5, C = 7, V = 6;
    enc_ctx c = {.B = B, .T = T, .C = C};
    c.wte = rnd(V * C, 1.0f), c.wpe = rnd(T * C, 1.0f), c.R = rnd(B * T * C, 1.0f), c.out = rnd(B * T * C, 0);
    int32_t tok[10] = {0, 3, 3, 5, 1, 3, 0, 2, 5, 5}; /* repeats: the scatter must add; token 4 unused */
    c.tok = tok;
    float *g0e, *g0p, *dwte = acc_buf(V * C, &g0e), *dwpe = acc_buf(T * C, &g0p);
    K->encoder_bwd(dwte, dwpe, c.R, tok, B, T, C);
    fd_check("encoder dwte", enc_loss, &c, c.wte, V * C - 2 * C, dwte, g0e); /* rows 0..3 */
    fd_check("encoder dwpe", enc_loss, &c, c.wpe, T * C, dwpe, g0p);
    for (int64_t i = 4 * C; i < 5 * C; i++) CHECK(dwte[i] == g0e[i]); /* unused token row untouched */
    free(c.wte), free(c.wpe), free(c.R), free(c.out), free(dwte), free(dwpe), free(g0e), free(g0p);
}

/* ---- layernorm ---- */
typedef struct { float *out, *mean, *rstd, *x, *w, *b, *R; int64_t N, C; } ln_ctx;
static double ln_loss(void *v, double *S) {
    ln_ctx *c = v;
    K->layernorm_fwd(c->out, c->mean, c->rstd, c->x, c->w, c->b, c->N, c->C);
    return dot_R(c->out, c->R, c->N * c->C, S);
}
static void test_layernorm_bwd(void) {
    int64_t N = 5, C = 11;
    ln_ctx c = {.N = N, .C = C};
    c.x = rnd(N * C, 1.5f), c.w = rnd(C, 1.0f), c.b = rnd(C, 1.0f), c.R = rnd(N * C, 1.0f);
    for (int64_t i = 0; i < C; i++) c.w[i] += 1.0f * (c.w[i] >= 0 ? 0.5f : -0.5f); /* keep |w| away from 0 */
    c.out = rnd(N * C, 0), c.mean = rnd(N, 0), c.rstd = rnd(N, 0);
    ln_loss(&c, &(double){0});
    /* mean and rstd really are the row statistics */
    for (int64_t n = 0; n < N; n++) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < C; i++) m += c.x[n * C + i];
        m /= C;
        for (int64_t i = 0; i < C; i++) v += (c.x[n * C + i] - m) * (c.x[n * C + i] - m);
        CHECK_NEAR(c.mean[n], m, 1e-6);
        CHECK_NEAR(c.rstd[n], 1.0 / sqrt(v / C + 1e-5), 1e-5 * c.rstd[n]);
    }
    float *g0x, *g0w, *g0b, *dx = acc_buf(N * C, &g0x), *dw = acc_buf(C, &g0w), *db = acc_buf(C, &g0b);
    K->layernorm_bwd(dx, dw, db, c.R, c.x, c.w, c.mean, c.rstd, N, C);
    fd_check("layernorm dx", ln_loss, &c, c.x, N * C, dx, g0x);
    fd_check("layernorm dw", ln_loss, &c, c.w, C, dw, g0w);
    fd_check("layernorm db", ln_loss, &c, c.b, C, db, g0b);
    free(c.x), free(c.w), free(c.b), free(c.R), free(c.out), free(c.mean), free(c.rstd);
    free(dx), free(dw), free(db), free(g0x), free(g0w), free(g0b);
}

/* ---- matmul ---- */
typedef struct { float *out, *inp, *w, *bias, *R; int64_t N, C, OC; lms_wlayout lay; } mm_ctx;
static double mm_loss(void *v, double *S) {
    mm_ctx *c = v;
    K->matmul_fwd(c->out, c->inp, c->w, c->bias, c->N, c->C, c->OC, c->lay);
    return dot_R(c->out, c->R, c->N * c->OC, S);
}
static void matmul_case(lms_wlayout lay, int with_bias) {
    int64_t N = 5, C = 7, OC = 9;
    mm_ctx c = {.N = N, .C = C, .OC = OC, .lay = lay};
    c.inp = rnd(N * C, 1.0f), c.w = rnd(C * OC, 1.0f), c.bias = with_bias ? rnd(OC, 1.0f) : NULL;
    c.R = rnd(N * OC, 1.0f), c.out = rnd(N * OC, 0);
    /* forward against a direct sum */
    mm_loss(&c, &(double){0});
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < OC; o++) {
            double s = with_bias ? c.bias[o] : 0;
            for (int64_t k = 0; k < C; k++)
                s += (double)c.inp[n * C + k] * (lay == LMS_W_IN_OUT ? c.w[k * OC + o] : c.w[o * C + k]);
            CHECK_NEAR(c.out[n * OC + o], s, 1e-6 * (1 + fabs(s)));
        }
    float *g0i, *g0w, *g0b = NULL, *di = acc_buf(N * C, &g0i), *dw = acc_buf(C * OC, &g0w);
    float *db = with_bias ? acc_buf(OC, &g0b) : NULL;
    K->matmul_bwd(di, dw, db, c.R, c.inp, c.w, N, C, OC, lay, 1);
    char name[64];
    snprintf(name, sizeof name, "matmul(%s%s) dinp", lay == LMS_W_IN_OUT ? "in_out" : "out_in", with_bias ? "+bias" : "");
    fd_check(name, mm_loss, &c, c.inp, N * C, di, g0i);
    snprintf(name, sizeof name, "matmul(%s%s) dw", lay == LMS_W_IN_OUT ? "in_out" : "out_in", with_bias ? "+bias" : "");
    fd_check(name, mm_loss, &c, c.w, C * OC, dw, g0w);
    if (with_bias) fd_check("matmul dbias", mm_loss, &c, c.bias, OC, db, g0b);
    /* dinp == NULL skips the input gradient and gives the same weight gradient */
    float *dw2 = malloc((size_t)(C * OC) * sizeof(float));
    memcpy(dw2, g0w, (size_t)(C * OC) * sizeof(float));
    K->matmul_bwd(NULL, dw2, NULL, c.R, c.inp, c.w, N, C, OC, lay, 1);
    CHECK(memcmp(dw2, dw, (size_t)(C * OC) * sizeof(float)) == 0);
    free(dw2);
    free(c.inp), free(c.w), free(c.bias), free(c.R), free(c.out), free(di), free(dw), free(db);
    free(g0i), free(g0w), free(g0b);
}
static void test_matmul_bwd(void) {
    matmul_case(LMS_W_IN_OUT, 1);
    matmul_case(LMS_W_IN_OUT, 0);
    matmul_case(LMS_W_OUT_IN, 1);
    matmul_case(LMS_W_OUT_IN, 0);
}

/* ---- attention ---- */
typedef struct { float *out, *att, *qkv, *R; int64_t B, T, C, NH; } at_ctx;
static double at_loss(void *v, double *S) {
    at_ctx *c = v;
    K->attention_fwd(c->out, c->att, c->qkv, c->B, c->T, c->C, c->NH);
    return dot_R(c->out, c->R, c->B * c->T * c->C, S);
}
static void test_attention_bwd(void) {
    int64_t B = 2, T = 7, C = 9, NH = 3;
    at_ctx c = {.B = B, .T = T, .C = C, .NH = NH};
    c.qkv = rnd(B * T * 3 * C, 1.5f), c.R = rnd(B * T * C, 1.0f), c.out = rnd(B * T * C, 0);
    c.att = rnd(B * NH * T * T, 9.0f); /* garbage: the forward must overwrite every entry */
    at_loss(&c, &(double){0});
    for (int64_t r = 0; r < B * NH * T; r++) {
        int64_t t = r % T;
        double s = 0;
        for (int64_t u = 0; u < T; u++) {
            float a = c.att[r * T + u];
            if (u > t) CHECK(a == 0.0f);
            else CHECK(a > 0.0f);
            s += a;
        }
        CHECK_NEAR(s, 1.0, 1e-6);
    }
    float *g0, *dqkv = acc_buf(B * T * 3 * C, &g0), *datt = rnd(B * NH * T * T, 5.0f);
    K->attention_bwd(dqkv, datt, c.R, c.qkv, c.att, B, T, C, NH);
    fd_check("attention dqkv", at_loss, &c, c.qkv, B * T * 3 * C, dqkv, g0);
    free(c.qkv), free(c.R), free(c.out), free(c.att), free(dqkv), free(datt), free(g0);
}

/* ---- gelu ---- */
typedef struct { float *out, *x, *R; int64_t N; } ge_ctx;
static double ge_loss(void *v, double *S) {
    ge_ctx *c = v;
    K->gelu_fwd(c->out, c->x, c->N);
    return dot_R(c->out, c->R, c->N, S);
}
static void test_gelu_bwd(void) {
    int64_t N = 37;
    ge_ctx c = {.N = N};
    c.x = rnd(N, 1.9f), c.R = rnd(N, 1.0f), c.out = rnd(N, 0);
    float *g0, *dx = acc_buf(N, &g0);
    K->gelu_bwd(dx, c.x, c.R, N);
    fd_check("gelu dx", ge_loss, &c, c.x, N, dx, g0);
    float x3 = 1.0f, y;
    K->gelu_fwd(&y, &x3, 1);
    CHECK_NEAR(y, 0.8411919906, 1e-7); /* 0.5(1+tanh(sqrt(2/pi)·1.044715)) */
    free(c.x), free(c.R), free(c.out), free(dx), free(g0);
}

/* ---- residual (forward only) ---- */
static void test_residual_fwd(void) {
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {0.5f, -2, 1e-3f, 4, -5}, o[5];
    K->residual_fwd(o, a, b, 5);
    for (int i = 0; i < 5; i++) CHECK(o[i] == a[i] + b[i]);
}

/* ---- cross-entropy ---- */
typedef struct { float *logits, *losses; int32_t *tg; int64_t N, V; float dloss; } xe_ctx;
static double xe_loss(void *v, double *S) {
    xe_ctx *c = v;
    K->xent_fwd(c->losses, c->logits, c->tg, c->N, c->V);
    double L = 0, s = 0;
    for (int64_t n = 0; n < c->N; n++) L += (double)c->losses[n] * c->dloss, s += ((double)c->losses[n] * c->dloss) * ((double)c->losses[n] * c->dloss);
    *S = sqrt(s);
    return L;
}
static void test_xent_bwd(void) {
    int64_t N = 6, V = 13;
    int32_t tg[6] = {3, 0, 12, -1, 7, 3};
    xe_ctx c = {.N = N, .V = V, .tg = tg, .dloss = 0.37f};
    c.logits = rnd(N * V, 1.9f), c.losses = rnd(N, 0);
    float *dl = malloc((size_t)(N * V) * sizeof(float)), *l2 = rnd(N, 0), zero[78] = {0};
    memcpy(dl, c.logits, (size_t)(N * V) * sizeof(float));
    K->xent_fwd_bwd(l2, dl, tg, N, V, c.dloss); /* in place: dl becomes dlogits */
    xe_loss(&c, &(double){0});
    for (int64_t n = 0; n < N; n++) CHECK_NEAR(l2[n], c.losses[n], 1e-6 * (1 + c.losses[n]));
    CHECK(c.losses[3] == 0.0f && l2[3] == 0.0f);
    for (int64_t j = 0; j < V; j++) CHECK(dl[3 * V + j] == 0.0f); /* ignored row */
    for (int64_t n = 0; n < N; n++) { /* a loss is -log p, p from a softmax */
        if (tg[n] < 0) continue;
        double mx = -1e30, s = 0;
        for (int64_t j = 0; j < V; j++) mx = fmax(mx, c.logits[n * V + j]);
        for (int64_t j = 0; j < V; j++) s += exp(c.logits[n * V + j] - mx);
        CHECK_NEAR(c.losses[n], mx + log(s) - c.logits[n * V + tg[n]], 1e-6);
    }
    fd_check("xent dlogits", xe_loss, &c, c.logits, N * V, dl, zero);
    free(c.logits), free(c.losses), free(dl), free(l2);
}

/* ---- whole model: a few parameters per tensor ---- */
typedef struct { lms_gpt *m; int32_t *in, *tg; int B, T; } model_ctx;
static double model_loss(model_ctx *c) {
    lms_gpt_forward(c->m, c->in, c->tg, c->B, c->T);
    const float *l = lms_gpt_losses(c->m);
    double s = 0;
    int nv = 0;
    for (int i = 0; i < c->B * c->T; i++) s += l[i], nv += c->tg[i] >= 0;
    return s / nv;
}
static void test_model_finite_differences(void) {
    lms_cpu_force_reference(1);
    lms_gpt_config cfg = {2, 2, 8, 8, 11};
    lms_gpt *m = NULL;
    lms_err err = {0};
    CHECK(lms_gpt_create(&m, &cfg, &err) == LMS_OK);
    /* larger-than-GPT-2 weights so that every path carries a sizeable gradient */
    float *p = lms_gpt_params(m);
    for (int i = 0; i < lms_gpt_num_tensors(m); i++) {
        const lms_tensor_info *t = lms_gpt_tensor(m, i);
        int lnw = strstr(t->name, "ln_") && strstr(t->name, ".weight");
        for (int64_t j = 0; j < t->numel; j++)
            p[t->offset + j] = (lnw ? 1.0f : 0.0f) + (t->ndim == 2 ? 0.4f : 0.2f) * (2 * lms_rng_uniform(&rng) - 1);
    }
    CHECK(lms_gpt_plan(m, 2, 5, &err) == LMS_OK);
    int32_t in[10] = {1, 4, 9, 10, 0, 3, 3, 7, 2, 5}, tg[10] = {4, 9, 10, 0, 6, 3, 7, -1, 5, 8};
    model_ctx c = {m, in, tg, 2, 5};
    lms_gpt_zero_grad(m);
    double L0 = model_loss(&c);
    lms_gpt_backward(m, 1.0f);
    const float *g = lms_gpt_grads(m);
    /* h = 2^-6; the loss (~2.4) is rounded through ~30 fp32 ops: error <~ 30 · 2^-24 · L each
       evaluation, times the stencil's 1.5/h = 96: ~4e-4 worst case; plus 1e-3 relative for
       the O(h^4) truncation of this deeper, more curved function. One exception is expected
       and asserted: the key part of attn.c_attn.bias has an exactly zero gradient (softmax is
       shift invariant), which both sides must agree on to within the tolerance. */
    const double h = 0.015625;
    double tol_abs = 96.0 * 30 * EPS32 * L0, worst = 0;
    int checked = 0, sizeable = 0;
    for (int i = 0; i < lms_gpt_num_tensors(m); i++) {
        const lms_tensor_info *t = lms_gpt_tensor(m, i);
        int64_t picks[3] = {0, t->numel / 2 + 1, (int64_t)lms_rng_below(&rng, (uint64_t)t->numel)};
        for (int k = 0; k < 3; k++) {
            int64_t j = picks[k] % t->numel;
            if (strcmp(t->name, "wpe.weight") == 0) j %= 5 * cfg.n_embd; /* rows beyond T have no gradient */
            float *x = p + t->offset + j, x0 = *x;
            *x = x0 + (float)h;
            double p1 = model_loss(&c);
            *x = x0 - (float)h;
            double m1 = model_loss(&c);
            *x = x0 + (float)(2 * h);
            double p2 = model_loss(&c);
            *x = x0 - (float)(2 * h);
            double m2 = model_loss(&c);
            *x = x0;
            double fd = (8 * (p1 - m1) - (p2 - m2)) / (12 * h), an = g[t->offset + j];
            double tol = tol_abs + 1e-3 * fabs(fd);
            worst = fmax(worst, fabs(fd - an) / tol);
            sizeable += fabs(an) > 10 * tol_abs;
            CHECKF(fabs(fd - an) <= tol, "%s[%lld]: finite difference %.8g, backward %.8g", t->name, (long long)j, fd, an);
            checked++;
        }
    }
    CHECK(checked == 3 * lms_gpt_num_tensors(m));
    /* the worst-case bound is loose (the printed ratio shows the real agreement is ~100x
       tighter) but must still catch a 10% error in most checked gradients */
    CHECKF(sizeable >= 3 * checked / 4, "only %d of %d checked gradients are large against the tolerance",
           sizeable, checked);
    printf("  whole model: %d parameters checked, worst |fd - backward| / tol = %.3f\n", checked, worst);
    lms_gpt_free(m);
    lms_cpu_force_reference(0);
}

static void setup(void) {
    lms_rng_seed(&rng, 12345);
    K = lms_ops_reference();
}
static void test_encoder(void) { setup(), test_encoder_bwd(); }
static void test_layernorm(void) { setup(), test_layernorm_bwd(); }
static void test_matmul(void) { setup(), test_matmul_bwd(); }
static void test_attention(void) { setup(), test_attention_bwd(); }
static void test_gelu(void) { setup(), test_gelu_bwd(); }
static void test_residual(void) { setup(), test_residual_fwd(); }
static void test_xent(void) { setup(), test_xent_bwd(); }
static void test_model_fd(void) { setup(), test_model_finite_differences(); }

TESTS(test_encoder, test_layernorm, test_matmul, test_attention, test_gelu, test_residual, test_xent, test_model_fd)
