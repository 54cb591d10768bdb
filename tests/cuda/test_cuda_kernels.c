/* test_cuda_kernels.c — every op of the CUDA table (lms_ops_cuda) against the reference oracle
 * (lms_ops_reference) on random shapes with odd sizes, plus the memory fields, determinism (two
 * runs bit-equal) and the ops that follow the reference's arithmetic exactly (bit-equal).
 * Device test: built by `make CUDA=1 cuda-tests`, run by tools/gpu_check.sh; it fails (does not
 * skip) when no CUDA device is usable, saying why.
 *
 * Tolerances, derived as in tests/test_backend_ops.c. The reference accumulates in double and rounds
 * once (within half an ulp, u = 2^-24 ~ 6e-8). The CUDA ops accumulate in fp32 (cuBLAS with
 * CUBLAS_PEDANTIC_MATH: no TF32; warp trees for row statistics): a sum of K terms errs by at
 * most ~K·u·Σ|terms|; our shapes keep K <= ~170 (attention: hs + 2T <= ~150), so
 *     reductions:  |cuda - ref| <= RSUM · max|ref|,  RSUM = 1e-5 (~ K·u at K = 170)
 *     elementwise: |cuda - ref| <= RELEM · (|ref| + 0.1 max|ref|),  RELEM = 2e-6 (a few ulp:
 *                  CUDA's expf / tanhf are within 2 ulp, the softmax's lse is rounded to float once)
 * Bit-equal (0 tolerance): the embedding forward/backward (one add each, the reference's order),
 * residual, scale (one rounding), global_norm (the same fixed chunks summed in double in the same
 * order) and AdamW (the reference's operations with explicit rounding, no FMA).
 * A real bug (wrong index, a missed accumulate, a wrong layout) errs by O(max|ref|).
 * LMS_CUDA_TF32=1 voids the matrix-product tolerances (10-bit mantissas): the test refuses to run.
 * LMS_CUDA_TEST_FAKE=1 runs the test against the portable CPU table declared as device memory (no
 * LMS_BACKEND_HOST_MEMORY, though it is host memory), which checks the test itself without a GPU (every comparison must have teeth: device
 * outputs start as NaN); the CPU table need not meet the bit-equal checks, which are the CUDA
 * kernels' own claims. Measured on the CPU: everything passes except AdamW's bit-equality (the
 * generic loop is compiled with FMA contraction) and xent at V = 50257 (the generic table sums
 * exponentials in fp32: 3.7e-6 relative; the CUDA kernel sums them in double).
 *
 * Leaves out: whole-model checks (test_cuda_model.c), speed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "close.h"
#include "harness.h"
#include "kernels/kernels.h"

static lms_rng g_rng;
static const lms_ops *D, *R;
static lms_ops FAKE;

#define RSUM 1e-5
#define RELEM 2e-6

static int have_device(void) {
    lms_rng_seed(&g_rng, 4321);
    R = lms_ops_reference();
    const char *fake = getenv("LMS_CUDA_TEST_FAKE");
    if (fake && strcmp(fake, "1") == 0) { /* the test's own check on a CPU: see the header */
        FAKE = *lms_ops_generic();
        FAKE.caps &= ~(unsigned)(LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE); /* device memory, no split decoding */
        FAKE.name = "fake-device";
        D = &FAKE;
        return 1;
    }
    D = lms_ops_cuda();
    CHECKF(D != NULL, "no CUDA table: %s", lms_ops_cuda_unavailable());
    const char *tf = getenv("LMS_CUDA_TF32");
    CHECKF(!(tf && tf[0] == '1'), "LMS_CUDA_TF32=1 is set: the fp32 tolerances do not apply; unset it");
    return D != NULL && !(tf && tf[0] == '1');
}

static float *rnd(int64_t n, float scale) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = (lms_rng_uniform(&g_rng) * 2.0f - 1.0f) * scale;
    return p;
}
static float *dup(const float *a, int64_t n) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    memcpy(p, a, (size_t)n * sizeof(float));
    return p;
}
/* NaN-filled host array: what an op that overwrites its output starts from on the device, so an
   op that writes nothing fails every comparison */
static float *junk(int64_t n) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = NAN;
    return p;
}
static int64_t irange(int64_t lo, int64_t hi) { return lo + (int64_t)lms_rng_below(&g_rng, (uint64_t)(hi - lo + 1)); }

/* device copy of a host array / host copy of a device array (caller frees with free / D->buf_free) */
static void *up(const void *h, size_t bytes) {
    lms_err err = {0};
    void *d = D->buf_alloc(bytes ? bytes : 4, &err);
    LMS_ASSERT(d && "device allocation failed in a test");
    D->copy_h2d(d, h, bytes);
    return d;
}
static float *down(const float *d, int64_t n) {
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    D->copy_d2h(h, d, (size_t)n * sizeof(float));
    return h;
}

/* the table under test against the reference (tests/close.h) */
static int close_sum(const char *what, const float *f, const float *r, int64_t n, double rtol) {
    return th_close_sum(D->name, what, f, r, n, rtol);
}
static int close_elem(const char *what, const float *f, const float *r, int64_t n, double rtol) {
    return th_close_elem(D->name, what, f, r, n, rtol);
}
static int same_bits(const char *what, const float *f, const float *r, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&f[i], &r[i], sizeof(float)) != 0) {
            fprintf(stderr, "  %s: not bit-equal at %lld (cuda %.9g ref %.9g)\n", what, (long long)i, f[i], r[i]);
            return 0;
        }
    return 1;
}

/* Run a device op on a device copy of `init` (n floats) and return the host result. For ops that
   overwrite, init is junk(n) (DEV_OUT); for ops that accumulate, the values before the op. */
#define DEV_RESULT(init, n, call_with_d)                                                                 \
    ({                                                                                                   \
        float *d_ = up(init, (size_t)(n) * sizeof(float));                                               \
        call_with_d;                                                                                     \
        float *h_ = down(d_, n);                                                                         \
        D->buf_free(d_);                                                                                 \
        h_;                                                                                              \
    })
#define DEV_OUT(n, call_with_d)                                                                          \
    ({                                                                                                   \
        float *j_ = junk(n);                                                                             \
        float *r_ = DEV_RESULT(j_, n, call_with_d);                                                      \
        free(j_);                                                                                        \
        r_;                                                                                              \
    })

static void test_memory(void) {
    if (!have_device()) return;
    CHECK(!(D->caps & LMS_BACKEND_HOST_MEMORY) && D->buf_alloc && D->sync && (D->dec_gemv_in_out_bf16 == NULL || D == &FAKE));
    lms_err err = {0};
    int64_t n = 1001;
    float *d = D->buf_alloc((size_t)n * sizeof(float), &err), *h = rnd(n, 1.0f), *back = malloc(n * sizeof(float));
    CHECK(d != NULL && ((uintptr_t)d % 64) == 0);
    D->copy_d2h(back, d, (size_t)n * sizeof(float));
    int zero = 1;
    for (int64_t i = 0; i < n; i++) zero &= back[i] == 0.0f;
    CHECKF(zero, "buf_alloc must return zeroed memory");
    float *d2 = D->buf_alloc((size_t)n * sizeof(float), &err);
    D->copy_h2d(d, h, (size_t)n * sizeof(float));
    D->copy_d2d(d2, d, (size_t)n * sizeof(float));
    D->buf_memset(d, 0, 16 * sizeof(float));
    D->sync();
    D->copy_d2h(back, d2, (size_t)n * sizeof(float));
    CHECK(memcmp(back, h, (size_t)n * sizeof(float)) == 0);
    D->copy_d2h(back, d, (size_t)n * sizeof(float));
    CHECK(back[0] == 0.0f && back[15] == 0.0f && back[16] == h[16]);
    lms_err e2 = {0};
    void *huge = D->buf_alloc((size_t)1 << 50, &e2); /* 1 PiB: must fail cleanly */
    CHECKF(huge == NULL && e2.code == LMS_ERR_NOMEM && (D == &FAKE || strstr(e2.msg, "cudaMalloc")), "%s", e2.msg);
    D->buf_free(d);
    D->buf_free(d2);
    D->buf_free(NULL);
    free(h);
    free(back);
}

static void test_encoder(void) {
    if (!have_device()) return;
    for (int it = 0; it < 4; it++) {
        int64_t B = irange(1, 4), T = irange(1, 37), C = irange(1, 97), V = irange(2, 61), N = B * T;
        int32_t *tok = malloc((size_t)N * sizeof(int32_t));
        for (int64_t i = 0; i < N; i++) tok[i] = (int32_t)lms_rng_below(&g_rng, (uint64_t)(it == 3 ? 2 : V)); /* repeats */
        float *wte = rnd(V * C, 1.0f), *wpe = rnd(T * C, 1.0f), *out = malloc((size_t)(N * C) * sizeof(float));
        R->encoder_fwd(out, tok, wte, wpe, B, T, C);
        int32_t *dtok = up(tok, (size_t)N * sizeof(int32_t));
        float *dwte_ = up(wte, (size_t)(V * C) * sizeof(float)), *dwpe_ = up(wpe, (size_t)(T * C) * sizeof(float));
        float *got = DEV_OUT(N * C, D->encoder_fwd(d_, dtok, dwte_, dwpe_, B, T, C));
        CHECK(same_bits("encoder_fwd", got, out, N * C));
        float *dout = rnd(N * C, 1.0f), *gwte = rnd(V * C, 0.5f), *gwpe = rnd(T * C, 0.5f);
        float *rw = dup(gwte, V * C), *rp = dup(gwpe, T * C);
        R->encoder_bwd(rw, rp, dout, tok, B, T, C);
        float *ddout = up(dout, (size_t)(N * C) * sizeof(float)), *dgw = up(gwte, (size_t)(V * C) * sizeof(float));
        float *cp = DEV_RESULT(gwpe, T * C, D->encoder_bwd(dgw, d_, ddout, dtok, B, T, C));
        float *cw = down(dgw, V * C);
        CHECK(same_bits("encoder_bwd dwte", cw, rw, V * C));
        CHECK(same_bits("encoder_bwd dwpe", cp, rp, T * C));
        D->buf_free(dtok); D->buf_free(dwte_); D->buf_free(dwpe_); D->buf_free(ddout); D->buf_free(dgw);
        free(tok); free(wte); free(wpe); free(out); free(got); free(dout); free(gwte); free(gwpe); free(rw); free(rp);
        free(cp); free(cw);
    }
}

static void test_layernorm(void) {
    if (!have_device()) return;
    for (int it = 0; it < 4; it++) {
        int64_t N = irange(1, 300), C = irange(1, 170);
        float *x = rnd(N * C, 2.0f), *w = rnd(C, 1.0f), *b = rnd(C, 1.0f);
        for (int64_t i = 0; i < N * C; i++) x[i] += 0.5f; /* a non-zero mean */
        float *out = malloc((size_t)(N * C) * 4), *mean = malloc((size_t)N * 4), *rstd = malloc((size_t)N * 4);
        R->layernorm_fwd(out, mean, rstd, x, w, b, N, C);
        float *dx_ = up(x, (size_t)(N * C) * 4), *dw_ = up(w, (size_t)C * 4), *db_ = up(b, (size_t)C * 4);
        float *jn = junk(N), *dm = up(jn, (size_t)N * 4), *dr = up(jn, (size_t)N * 4);
        free(jn);
        float *o = DEV_OUT(N * C, D->layernorm_fwd(d_, dm, dr, dx_, dw_, db_, N, C));
        float *cm = down(dm, N), *cr = down(dr, N);
        CHECK(close_sum("layernorm_fwd out", o, out, N * C, RSUM));
        CHECK(close_sum("layernorm_fwd mean", cm, mean, N, RSUM));
        CHECK(close_elem("layernorm_fwd rstd", cr, rstd, N, RSUM)); /* 1/sqrt(var): a sum's relative error */
        /* backward from the reference's statistics (both sides read the same mean/rstd) */
        D->copy_h2d(dm, mean, (size_t)N * 4);
        D->copy_h2d(dr, rstd, (size_t)N * 4);
        float *dout = rnd(N * C, 1.0f), *gx = rnd(N * C, 0.5f), *gw = rnd(C, 0.5f), *gb = rnd(C, 0.5f);
        float *rx = dup(gx, N * C), *rw = dup(gw, C), *rb = dup(gb, C);
        R->layernorm_bwd(rx, rw, rb, dout, x, w, mean, rstd, N, C);
        float *ddo = up(dout, (size_t)(N * C) * 4), *dgw = up(gw, (size_t)C * 4), *dgb = up(gb, (size_t)C * 4);
        float *cx = DEV_RESULT(gx, N * C, D->layernorm_bwd(d_, dgw, dgb, ddo, dx_, dw_, dm, dr, N, C));
        float *cw = down(dgw, C), *cb = down(dgb, C);
        CHECK(close_sum("layernorm_bwd dx", cx, rx, N * C, RSUM));
        CHECK(close_sum("layernorm_bwd dw", cw, rw, C, RSUM));
        CHECK(close_sum("layernorm_bwd db", cb, rb, C, RSUM));
        D->buf_free(dx_); D->buf_free(dw_); D->buf_free(db_); D->buf_free(dm); D->buf_free(dr); D->buf_free(ddo);
        D->buf_free(dgw); D->buf_free(dgb);
        free(x); free(w); free(b); free(out); free(mean); free(rstd); free(o); free(cm); free(cr); free(dout);
        free(gx); free(gw); free(gb); free(rx); free(rw); free(rb); free(cx); free(cw); free(cb);
    }
}

static void test_matmul(void) {
    if (!have_device()) return;
    for (int it = 0; it < 8; it++) {
        int64_t N = irange(1, 170), C = irange(1, 170), OC = irange(1, 170);
        lms_wlayout L = it % 2 ? LMS_W_OUT_IN : LMS_W_IN_OUT;
        int with_bias = it % 4 < 2;
        float *x = rnd(N * C, 1.0f), *w = rnd(C * OC, 1.0f), *bias = rnd(OC, 1.0f), *out = malloc((size_t)(N * OC) * 4);
        R->matmul_fwd(out, x, w, with_bias ? bias : NULL, N, C, OC, L);
        float *dx_ = up(x, (size_t)(N * C) * 4), *dw_ = up(w, (size_t)(C * OC) * 4), *dbias = up(bias, (size_t)OC * 4);
        float *o = DEV_OUT(N * OC, D->matmul_fwd(d_, dx_, dw_, with_bias ? dbias : NULL, N, C, OC, L));
        CHECKF(close_sum("matmul_fwd", o, out, N * OC, RSUM), "N %lld C %lld OC %lld layout %d bias %d", (long long)N,
               (long long)C, (long long)OC, (int)L, with_bias);
        float *dout = rnd(N * OC, 1.0f), *gx = rnd(N * C, 0.5f), *gw = rnd(C * OC, 0.5f), *gb = rnd(OC, 0.5f);
        float *rx = dup(gx, N * C), *rw = dup(gw, C * OC), *rb = dup(gb, OC);
        int with_dinp = it != 5;
        R->matmul_bwd(with_dinp ? rx : NULL, rw, with_bias ? rb : NULL, dout, x, w, N, C, OC, L, 1);
        float *ddo = up(dout, (size_t)(N * OC) * 4), *dgw = up(gw, (size_t)(C * OC) * 4), *dgb = up(gb, (size_t)OC * 4);
        float *cx = DEV_RESULT(gx, N * C,
                               D->matmul_bwd(with_dinp ? d_ : NULL, dgw, with_bias ? dgb : NULL, ddo, dx_, dw_, N, C, OC, L, 1));
        float *cw = down(dgw, C * OC), *cb = down(dgb, OC);
        CHECK(close_sum("matmul_bwd dinp", cx, rx, N * C, RSUM));
        CHECK(close_sum("matmul_bwd dw", cw, rw, C * OC, RSUM));
        CHECK(close_sum("matmul_bwd dbias", cb, rb, OC, RSUM));
        D->buf_free(dx_); D->buf_free(dw_); D->buf_free(dbias); D->buf_free(ddo); D->buf_free(dgw); D->buf_free(dgb);
        free(x); free(w); free(bias); free(out); free(o); free(dout); free(gx); free(gw); free(gb); free(rx); free(rw);
        free(rb); free(cx); free(cw); free(cb);
    }
}

static void test_attention(void) {
    if (!have_device()) return;
    for (int it = 0; it < 5; it++) {
        int64_t B = irange(1, 3), T = irange(1, 45), NH = irange(1, 5), hs = irange(1, 19), C = NH * hs;
        if (it == 4) T = 64; /* a multiple of the warp width */
        int64_t N = B * T, A = B * NH * T * T;
        float *qkv = rnd(N * 3 * C, 1.0f), *out = malloc((size_t)(N * C) * 4), *att = rnd(A, 1.0f);
        R->attention_fwd(out, att, qkv, B, T, C, NH);
        float *ja = junk(A), *dq = up(qkv, (size_t)(N * 3 * C) * 4), *datt_ = up(ja, (size_t)A * 4);
        free(ja);
        float *o = DEV_OUT(N * C, D->attention_fwd(d_, datt_, dq, B, T, C, NH));
        float *ca = down(datt_, A);
        CHECK(close_sum("attention_fwd out", o, out, N * C, RSUM));
        CHECK(close_sum("attention_fwd att", ca, att, A, RSUM));
        int upper_zero = 1;
        for (int64_t r = 0; r < B * NH * T; r++)
            for (int64_t u = r % T + 1; u < T; u++) upper_zero &= ca[r * T + u] == 0.0f;
        CHECKF(upper_zero, "att above the diagonal must be written as 0");
        float *dout = rnd(N * C, 1.0f), *g = rnd(N * 3 * C, 0.5f), *rg = dup(g, N * 3 * C), *scratch = rnd(A, 1.0f);
        R->attention_bwd(rg, scratch, dout, qkv, att, B, T, C, NH);
        D->copy_h2d(datt_, att, (size_t)A * 4); /* the reference's probabilities on both sides */
        float *ddo = up(dout, (size_t)(N * C) * 4), *dscr = up(scratch, (size_t)A * 4);
        float *cg = DEV_RESULT(g, N * 3 * C, D->attention_bwd(d_, dscr, ddo, dq, datt_, B, T, C, NH));
        CHECKF(close_sum("attention_bwd dqkv", cg, rg, N * 3 * C, RSUM), "B %lld T %lld NH %lld hs %lld", (long long)B,
               (long long)T, (long long)NH, (long long)hs);
        D->buf_free(dq); D->buf_free(datt_); D->buf_free(ddo); D->buf_free(dscr);
        free(qkv); free(out); free(att); free(o); free(ca); free(dout); free(g); free(rg); free(scratch); free(cg);
    }
}

static void test_elementwise(void) {
    if (!have_device()) return;
    int64_t n = irange(1000, 5000) | 1;
    float *x = rnd(n, 4.0f), *y = rnd(n, 4.0f), *out = malloc((size_t)n * 4);
    float *dx = up(x, (size_t)n * 4), *dy = up(y, (size_t)n * 4);
    R->gelu_fwd(out, x, n);
    float *c = DEV_OUT(n, D->gelu_fwd(d_, dx, n));
    CHECK(close_elem("gelu_fwd", c, out, n, RELEM));
    free(c);
    float *g = rnd(n, 1.0f), *rg = dup(g, n);
    R->gelu_bwd(rg, x, y, n);
    c = DEV_RESULT(g, n, D->gelu_bwd(d_, dx, dy, n));
    CHECK(close_sum("gelu_bwd", c, rg, n, RELEM)); /* as test_backend_ops: a sum of two terms */
    free(c);
    R->residual_fwd(out, x, y, n);
    c = DEV_OUT(n, D->residual_fwd(d_, dx, dy, n));
    CHECK(same_bits("residual_fwd", c, out, n));
    free(c);
    float *s = dup(x, n);
    R->scale(s, 0.3712f, n);
    c = DEV_RESULT(x, n, D->scale(d_, 0.3712f, n));
    CHECK(same_bits("scale", c, s, n));
    free(c);
    /* decoding pieces that are plain ops */
    R->dec_gelu(out, x, n);
    c = DEV_OUT(n, D->dec_gelu(d_, dx, n));
    CHECK(close_elem("dec_gelu", c, out, n, RELEM));
    free(c);
    R->dec_add(out, x, y, n);
    c = DEV_OUT(n, D->dec_add(d_, dx, dy, n));
    CHECK(same_bits("dec_add", c, out, n));
    free(c);
    D->buf_free(dx); D->buf_free(dy);
    free(x); free(y); free(out); free(g); free(rg); free(s);
}

static void test_xent(void) {
    if (!have_device()) return;
    for (int it = 0; it < 4; it++) {
        int64_t N = irange(1, 70), V = it == 3 ? 50257 : irange(2, 3000);
        if (it == 3) N = 5;
        float *l = rnd(N * V, 8.0f), *losses = malloc((size_t)N * 4);
        int32_t *t = malloc((size_t)N * 4);
        for (int64_t i = 0; i < N; i++) t[i] = i % 5 == 2 ? -1 : (int32_t)lms_rng_below(&g_rng, (uint64_t)V);
        float dloss = 1.0f / (float)N;
        int32_t *dt = up(t, (size_t)N * 4);
        float *dl = up(l, (size_t)(N * V) * 4);
        R->xent_fwd(losses, l, t, N, V);
        float *cl = DEV_OUT(N, D->xent_fwd(d_, dl, dt, N, V));
        CHECK(close_elem("xent_fwd", cl, losses, N, RELEM));
        float *cl_unchanged = down(dl, N * V);
        CHECK(same_bits("xent_fwd leaves logits", cl_unchanged, l, N * V));
        free(cl);
        float *rl = dup(l, N * V);
        R->xent_fwd_bwd(losses, rl, t, N, V, dloss);
        cl = DEV_OUT(N, D->xent_fwd_bwd(d_, dl, dt, N, V, dloss));
        float *cg = down(dl, N * V);
        CHECK(close_elem("xent_fwd_bwd losses", cl, losses, N, RELEM));
        CHECK(close_elem("xent_fwd_bwd dlogits", cg, rl, N * V, RELEM));
        int ignored_zero = 1;
        for (int64_t i = 0; i < N; i++)
            if (t[i] < 0) {
                ignored_zero &= cl[i] == 0.0f;
                for (int64_t j = 0; j < V; j++) ignored_zero &= cg[i * V + j] == 0.0f;
            }
        CHECKF(ignored_zero, "targets < 0: loss 0 and a zero gradient row");
        D->buf_free(dt); D->buf_free(dl);
        free(l); free(losses); free(t); free(cl); free(cl_unchanged); free(rl); free(cg);
    }
}

static void test_adamw_norm(void) {
    if (!have_device()) return;
    int64_t n = irange(10000, 20000) | 1;
    float *p = rnd(n, 1.0f), *g = rnd(n, 0.1f), *m = rnd(n, 0.01f), *v = rnd(n, 0.001f);
    for (int64_t i = 0; i < n; i++) v[i] = fabsf(v[i]);
    float *dp = up(p, (size_t)n * 4), *dg = up(g, (size_t)n * 4), *dm = up(m, (size_t)n * 4), *dv = up(v, (size_t)n * 4);
    for (int64_t t = 1; t <= 3; t++) {
        R->adamw(p, g, m, v, n, 1e-3f, 0.9f, 0.95f, 1e-8f, t == 2 ? 0.0f : 0.1f, t);
        D->adamw(dp, dg, dm, dv, n, 1e-3f, 0.9f, 0.95f, 1e-8f, t == 2 ? 0.0f : 0.1f, t);
    }
    float *cp = down(dp, n), *cm = down(dm, n), *cv = down(dv, n);
    CHECK(same_bits("adamw p", cp, p, n));
    CHECK(same_bits("adamw m", cm, m, n));
    CHECK(same_bits("adamw v", cv, v, n));
    /* global_norm over sizes around the chunking's edges: the reference's bits */
    int64_t sizes[5] = {1, 4097, 4096 * 1024 + 3, 5000000, n};
    for (int i = 0; i < 5; i++) {
        int64_t k = sizes[i];
        float *h = rnd(k, 1.0f), *d = up(h, (size_t)k * 4);
        float rn = R->global_norm(h, k), cn = D->global_norm(d, k), cn2 = D->global_norm(d, k);
        CHECKF(memcmp(&rn, &cn, 4) == 0 && memcmp(&cn, &cn2, 4) == 0, "n %lld: ref %.9g cuda %.9g", (long long)k,
               (double)rn, (double)cn);
        D->buf_free(d);
        free(h);
    }
    CHECK(D->global_norm(dg, 0) == 0.0f);
    D->buf_free(dp); D->buf_free(dg); D->buf_free(dm); D->buf_free(dv);
    free(p); free(g); free(m); free(v); free(cp); free(cm); free(cv);
}

static void test_decoding(void) {
    if (!have_device()) return;
    int64_t C = irange(1, 130), OC = irange(1, 200), n = irange(1, 50), hs = irange(1, 40), ld = hs + irange(0, 9);
    float *x = rnd(C, 1.0f), *W = rnd(C * OC, 1.0f), *bias = rnd(OC, 1.0f), *out = rnd(OC, 1.0f);
    float *dx = up(x, (size_t)C * 4), *dW = up(W, (size_t)(C * OC) * 4), *db = up(bias, (size_t)OC * 4);
    int64_t j0 = OC / 3, j1 = OC - OC / 5;
    float *pre = dup(out, OC); /* outside [j0, j1) both must leave these values */
    R->dec_gemv_in_out(out, x, W, bias, C, OC, j0, j1);
    float *c = DEV_RESULT(pre, OC, D->dec_gemv_in_out(d_, dx, dW, db, C, OC, j0, j1));
    CHECK(close_sum("dec_gemv_in_out", c, out, OC, RSUM));
    CHECK(same_bits("dec_gemv_in_out outside [j0,j1)", c, out, j0));
    free(c);
    R->dec_gemv_in_out(out, x, W, NULL, C, OC, 0, OC);
    c = DEV_OUT(OC, D->dec_gemv_in_out(d_, dx, dW, NULL, C, OC, 0, OC));
    CHECK(close_sum("dec_gemv_in_out no bias", c, out, OC, RSUM));
    free(c);
    memcpy(pre, out, (size_t)OC * 4);
    R->dec_gemv_out_in(out, x, W, C, j0, j1); /* W as [OC, C] */
    c = DEV_RESULT(pre, OC, D->dec_gemv_out_in(d_, dx, dW, C, j0, j1));
    CHECK(close_sum("dec_gemv_out_in", c, out, OC, RSUM));
    CHECK(same_bits("dec_gemv_out_in outside [r0,r1)", c + j1, out + j1, OC - j1));
    free(c);
    free(pre);
    float *q = rnd(hs, 1.0f), *kc = rnd(n * ld, 1.0f), *vc = rnd(n * ld, 1.0f), *y = malloc((size_t)hs * 4);
    float *att = malloc((size_t)n * 4);
    R->dec_attention(y, att, q, kc, vc, n, hs, ld);
    float *dq = up(q, (size_t)hs * 4), *dk = up(kc, (size_t)(n * ld) * 4), *dvv = up(vc, (size_t)(n * ld) * 4);
    float *jn = junk(n), *datt = up(jn, (size_t)n * 4);
    free(jn);
    c = DEV_OUT(hs, D->dec_attention(d_, datt, dq, dk, dvv, n, hs, ld));
    float *ca = down(datt, n);
    CHECK(close_sum("dec_attention y", c, y, hs, RSUM));
    CHECK(close_sum("dec_attention att", ca, att, n, RSUM));
    free(c);
    float *ln = malloc((size_t)C * 4), *st = malloc(8);
    R->dec_layernorm(ln, st, st + 1, x, W, bias, 1, C);
    float *dst = up(st, 8);
    c = DEV_OUT(C, D->dec_layernorm(d_, dst, dst + 1, dx, dW, db, 1, C));
    CHECK(close_sum("dec_layernorm", c, ln, C, RSUM));
    free(c);
    D->buf_free(dx); D->buf_free(dW); D->buf_free(db); D->buf_free(dq); D->buf_free(dk); D->buf_free(dvv);
    D->buf_free(datt); D->buf_free(dst);
    free(x); free(W); free(bias); free(out); free(q); free(kc); free(vc); free(y); free(att); free(ca); free(ln); free(st);
}

/* the same inputs twice: bit-equal outputs (cuBLAS and our reductions are deterministic) */
static void test_deterministic(void) {
    if (!have_device()) return;
    int64_t N = 257, C = 96, OC = 385;
    float *x = rnd(N * C, 1.0f), *dout = rnd(N * OC, 1.0f);
    float *dx = up(x, (size_t)(N * C) * 4), *ddo = up(dout, (size_t)(N * OC) * 4);
    float *w[2], *b[2];
    lms_err err = {0};
    for (int r = 0; r < 2; r++) {
        float *dw = D->buf_alloc((size_t)(C * OC) * 4, &err), *db = D->buf_alloc((size_t)OC * 4, &err);
        D->matmul_bwd(NULL, dw, db, ddo, dx, dx, N, C, OC, LMS_W_IN_OUT, 1);
        w[r] = down(dw, C * OC);
        b[r] = down(db, OC);
        D->buf_free(dw);
        D->buf_free(db);
    }
    CHECK(same_bits("matmul_bwd dw twice", w[1], w[0], C * OC));
    CHECK(same_bits("matmul_bwd dbias twice", b[1], b[0], OC));
    D->buf_free(dx); D->buf_free(ddo);
    free(x); free(dout); free(w[0]); free(w[1]); free(b[0]); free(b[1]);
}

TESTS(test_memory, test_encoder, test_layernorm, test_matmul, test_attention, test_elementwise, test_xent,
      test_adamw_norm, test_decoding, test_deterministic)
