/* test_bf16.c — the bfloat16 matrix product (kernels/gemm_bf16.h) directly, against a double
 * product of the same bf16-rounded inputs, and the availability rules of lms_ops_bf16.
 *
 * Tolerance. Both sides multiply the same bf16 values, whose products are exact in fp32 (8 x 8
 * significant bits); the kernel then adds the K products (and the starting value) in fp32, each
 * addition rounding by at most u = 2^-24 relative to the running sum, so
 *     |kernel - exact| <= (K + 1) · u · (|init| + Σ_k |a_k b_k|)          (+ the 1e-30 floor)
 * which is the worst case (random data sits near sqrt(K) · u). A mistake in rounding (truncating
 * instead of rounding to nearest even, a wrong pair) errs by ~2^-9 relative per product, an
 * indexing mistake by the size of the output: both far above this bound. The rounding itself is
 * also checked exactly on ties. Skips (counted apart, with the reason) where the build or CPU has no
 * AVX512-BF16.
 *
 * Leaves out: the op table against the fp32 reference (test_backend_ops, with bf16 tolerances).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "harness.h"
#include "kernels/gemm_bf16.h"
#include "kernels/kernels.h"

static lms_rng g_rng;

static int have(void) { return lms_gemm_bf16_built() && lms_gemm_bf16_cpu_ok() && lms_ops_avx512(); }

static float *rnd(int64_t n, float scale) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = (lms_rng_uniform(&g_rng) * 2.0f - 1.0f) * scale;
    return p;
}

static double r16(float x) { return (double)lms_bf16_to_f32(lms_bf16_from_f32(x)); }

/* One product with every option; returns 1 when within the bound (reports the first miss). Checks
   rows and columns 0, step, 2·step, ... and the last of each (step 1: every element). */
static int check_sampled(int ta, int tb, int64_t M, int64_t N, int64_t K, int acc, int hasbias, int pad, int64_t step) {
    int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    float *A = rnd((ta ? K : M) * lda, 1.0f), *B = rnd((tb ? N : K) * ldb, 0.7f), *bias = hasbias ? rnd(N, 2.0f) : NULL;
    float *C = rnd(M * ldc, 3.0f), *C0 = malloc((size_t)(M * ldc > 0 ? M * ldc : 1) * sizeof(float));
    memcpy(C0, C, (size_t)(M * ldc) * sizeof(float));
    lms_gemm_bf16(ta, tb, M, N, K, A, lda, B, ldb, bias, acc, C, ldc);
    int ok = 1;
    for (int64_t i = 0; i < M && ok; i = i + step < M || i == M - 1 ? i + step : M - 1) {
        for (int64_t j = 0; j < N; j = j + step < N || j == N - 1 ? j + step : N - 1) {
            double init = acc ? C0[i * ldc + j] : bias ? bias[j] : 0.0, s = init, sa = fabs(init);
            for (int64_t k = 0; k < K; k++) {
                double a = r16(ta ? A[k * lda + i] : A[i * lda + k]), b = r16(tb ? B[j * ldb + k] : B[k * ldb + j]);
                s += a * b;
                sa += fabs(a * b);
            }
            double e = fabs(C[i * ldc + j] - s), tol = (double)(K + 1) * ldexp(1.0, -24) * sa + 1e-30;
            if (!(e <= tol)) {
                fprintf(stderr, "  ta=%d tb=%d M=%lld N=%lld K=%lld acc=%d bias=%d pad=%d: C[%lld,%lld] = %.9g, exact %.9g, "
                        "error %.3g > %.3g\n", ta, tb, (long long)M, (long long)N, (long long)K, acc, hasbias, pad,
                        (long long)i, (long long)j, C[i * ldc + j], s, e, tol);
                ok = 0;
                break;
            }
        }
    }
    /* the padding columns of C (j >= N) are never written */
    for (int64_t i = 0; i < M && ok; i++)
        for (int64_t j = N; j < ldc; j++) ok &= memcmp(&C[i * ldc + j], &C0[i * ldc + j], sizeof(float)) == 0;
    free(A); free(B); free(bias); free(C); free(C0);
    return ok;
}
static int check_one(int ta, int tb, int64_t M, int64_t N, int64_t K, int acc, int hasbias, int pad) {
    return check_sampled(ta, tb, M, N, K, acc, hasbias, pad, 1);
}

static void test_gemm_shapes(void) {
    lms_rng_seed(&g_rng, 77);
    if (!have()) SKIP("%s", lms_ops_bf16_unavailable());
    lms_cpu_set_threads(2);
    const int64_t Ms[] = {1, 11, 12, 13, 40};
    const int64_t Ns[] = {1, 16, 31, 33, 70};
    const int64_t Ks[] = {0, 1, 2, 3, 31, 64, 257};
    int bad = 0, n = 0;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (int k = 0; k < 7; k++)
                for (int lay = 0; lay < 4; lay++)
                    for (int mode = 0; mode < 3; mode++) { /* 0: overwrite, 1: overwrite + bias, 2: += */
                        int pad = (a + b + k + lay) % 3 == 0 ? 3 : 0;
                        bad += !check_one(lay & 1, lay >> 1, Ms[a], Ns[b], Ks[k], mode == 2, mode == 1, pad);
                        n++;
                    }
    CHECKF(bad == 0, "%d of %d products out of bounds", bad, n);
    /* several K blocks (128 pairs each), many tiles over 2 threads, every layout */
    for (int lay = 0; lay < 4; lay++) CHECK(check_one(lay & 1, lay >> 1, 97, 161, 777, lay == 3, lay == 1, 1));
    /* past every blocking threshold of gemm_bf16_avx512.c: A too big to pack whole (> 4 MiB of
       pairs), two column blocks (> 1024 columns), three pair blocks (> 2 MiB of B per block) with
       an odd K; every 37th row and column checked */
    for (int lay = 0; lay < 4; lay++) CHECK(check_sampled(lay & 1, lay >> 1, 1003, 1100, 2101, lay == 2, lay == 1, 2, 37));
}

/* A large output written in one pass (at least 2^23 floats, K <= 256, 64-byte aligned rows, no +=):
   the full tiles go out with non-temporal stores, the edge tiles (M not a multiple of 12, N not
   of 32) with plain ones. Every 41st row and column and the last of each against the double
   product, with and without a bias. */
static void test_streamed(void) {
    if (!have()) SKIP("%s", lms_ops_bf16_unavailable());
    lms_rng_seed(&g_rng, 79);
    int64_t M = 1031, N = 8208, K = 255;
    float *A = rnd(M * K, 1.0f), *B = rnd(N * K, 1.0f), *bias = rnd(N, 1.0f);
    float *C = aligned_alloc(64, (size_t)(M * N) * sizeof(float));
    for (int hb = 0; hb < 2; hb++) {
        for (int64_t i = 0; i < M * N; i++) C[i] = 1e30f;
        lms_gemm_bf16(0, 1, M, N, K, A, K, B, K, hb ? bias : NULL, 0, C, N);
        int ok = 1;
        for (int64_t i = 0; i < M && ok; i = i + 41 < M || i == M - 1 ? i + 41 : M - 1)
            for (int64_t j = 0; j < N && ok; j = j + 41 < N || j == N - 1 ? j + 41 : N - 1) {
                double s = hb ? bias[j] : 0.0, sa = fabs(s);
                for (int64_t k = 0; k < K; k++) {
                    double p = r16(A[i * K + k]) * r16(B[j * K + k]);
                    s += p;
                    sa += fabs(p);
                }
                double e = fabs(C[i * N + j] - s), tol = (double)(K + 1) * ldexp(1.0, -24) * sa + 1e-30;
                if (!(e <= tol)) {
                    fprintf(stderr, "  streamed, bias %d: C[%lld,%lld] = %.9g, exact %.9g\n", hb, (long long)i,
                            (long long)j, C[i * N + j], s);
                    ok = 0;
                }
            }
        CHECKF(ok, "streamed product, bias %d", hb);
    }
    free(A); free(B); free(bias); free(C);
}

/* Rounding to nearest even, exactly, in both packing paths: 1 + 2^-8 lies halfway between 1 and
   1 + 2^-7 and rounds to 1 (even); 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6 and
   rounds up to 1 + 2^-6; just above a tie rounds up. Each product below has one factor exactly 1. */
static void test_rounding(void) {
    if (!have()) SKIP("%s", lms_ops_bf16_unavailable());
    const float v[] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f, -(1.0f + 0x1p-8f), 3.0e-3f};
    const float want[] = {1.0f, 1.0f + 0x1p-6f, 1.0f + 0x1p-7f, -1.0f, lms_bf16_to_f32(lms_bf16_from_f32(3.0e-3f))};
    for (int lay = 0; lay < 4; lay++)
        for (int i = 0; i < 5; i++) {
            /* A = [v, 0, 0] (1 x 3) times B = [1; 0; 0] (3 x 1), and the roles swapped */
            float A[3] = {v[i], 0, 0}, B[3] = {1, 0, 0}, c = 42.0f;
            lms_gemm_bf16(lay & 1, lay >> 1, 1, 1, 3, A, lay & 1 ? 1 : 3, B, lay >> 1 ? 3 : 1, NULL, 0, &c, 1);
            CHECKF(c == want[i], "layout %d value %d: %.9g, want %.9g", lay, i, c, want[i]);
            c = 0.0f;
            lms_gemm_bf16(lay & 1, lay >> 1, 1, 1, 3, B, lay & 1 ? 1 : 3, A, lay >> 1 ? 3 : 1, NULL, 1, &c, 1);
            CHECKF(c == want[i], "layout %d value %d (as B): %.9g, want %.9g", lay, i, c, want[i]);
        }
}

/* The result does not depend on the thread count (tiling never changes the summation order). */
static void test_threads(void) {
    if (!have()) SKIP("%s", lms_ops_bf16_unavailable());
    lms_rng_seed(&g_rng, 78);
    int64_t M = 1003, N = 1100, K = 2101; /* every blocking path, see test_gemm_shapes */
    float *A = rnd(M * K, 1), *B = rnd(K * N, 1), *C1 = calloc((size_t)(M * N), 4), *C2 = calloc((size_t)(M * N), 4);
    for (int lay = 0; lay < 4; lay++) {
        int ta = lay & 1, tb = lay >> 1;
        lms_cpu_set_threads(1);
        lms_gemm_bf16(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, NULL, 0, C1, N);
        lms_cpu_set_threads(2);
        lms_gemm_bf16(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, NULL, 0, C2, N);
        CHECKF(memcmp(C1, C2, (size_t)(M * N) * 4) == 0, "layout %d differs between 1 and 2 threads", lay);
    }
    free(A); free(B); free(C1); free(C2);
}

/* B packed ahead of time (lms_gemm_bf16_pack_b + lms_gemm_bf16_packed) gives the same bits as
   the product that packs B itself: both B layouts, A transposed or not, bias and +=, odd sizes and
   the sizes where B is cut into several blocks (N > 1024 columns, more pairs than one block). */
static void test_packed_b(void) {
    if (!have()) SKIP("%s", lms_ops_bf16_unavailable());
    lms_rng_seed(&g_rng, 91);
    int64_t shapes[][3] = {{1, 1, 1}, {13, 33, 7}, {37, 65, 131}, {256, 1100, 300}, {40, 96, 2101}, {300, 1030, 1025}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int64_t M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
        for (int lay = 0; lay < 8; lay++) {
            int ta = lay & 1, tb = (lay >> 1) & 1, acc = lay >> 2;
            float *A = rnd(M * K, 1), *B = rnd(K * N, 0.7f), *bias = acc ? NULL : rnd(N, 2);
            float *C1 = rnd(M * N, 3), *C2 = malloc((size_t)(M * N) * 4);
            memcpy(C2, C1, (size_t)(M * N) * 4);
            uint32_t *Bw = malloc((size_t)lms_gemm_bf16_packed_b_words(N, K) * 4);
            lms_gemm_bf16(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, bias, acc, C1, N);
            lms_gemm_bf16_pack_b(Bw, tb, B, tb ? K : N, N, K);
            lms_gemm_bf16_packed(ta, M, N, K, A, ta ? M : K, Bw, bias, acc, C2, N);
            CHECKF(memcmp(C1, C2, (size_t)(M * N) * 4) == 0, "%lldx%lldx%lld ta=%d tb=%d acc=%d: packed B differs",
                   (long long)M, (long long)N, (long long)K, ta, tb, acc);
            free(A); free(B); free(bias); free(C1); free(C2); free(Bw);
        }
    }
}

/* The table's packed weights (kernels.h: wpack_bytes, adamw_wpack, matmul_*_wp): adamw_wpack
   updates p, m, v to the same bits as adamw on the span, its pack is word for word the two
   lms_gemm_bf16_pack_b forms of the updated W (padding included), and the products from the pack
   equal the plain ops on W, both layouts. Odd shapes: R not a multiple of 16 or 32, R % 32 = 16,
   odd Cc; sizes above the threaded threshold too. */
static void test_wpack(void) {
    if (!have()) SKIP("%s", lms_ops_bf16_unavailable());
    const lms_ops *H = lms_ops_bf16();
    CHECK(H->wpack_bytes && H->adamw_wpack && H->matmul_fwd_wp && H->matmul_bwd_wp);
    CHECK(!lms_ops_avx512()->wpack_bytes && !lms_ops_reference()->wpack_bytes && !lms_ops_generic()->wpack_bytes);
    lms_rng_seed(&g_rng, 92);
    int64_t shapes[][2] = {{1, 1}, {5, 3}, {48, 40}, {37, 53}, {64, 768}, {771, 96}, {300, 1025}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int64_t R = shapes[si][0], Cc = shapes[si][1], n = R * Cc, N = 29;
        float *p1 = rnd(n, 0.1f), *g = rnd(n, 0.01f), *m1 = rnd(n, 0.001f), *v1 = rnd(n, 0.0001f);
        for (int64_t i = 0; i < n; i++) v1[i] = fabsf(v1[i]);
        float *p2 = malloc((size_t)n * 4), *m2 = malloc((size_t)n * 4), *v2 = malloc((size_t)n * 4);
        memcpy(p2, p1, (size_t)n * 4), memcpy(m2, m1, (size_t)n * 4), memcpy(v2, v1, (size_t)n * 4);
        size_t bytes = H->wpack_bytes(R, Cc);
        CHECK(bytes % 64 == 0 && bytes >= (size_t)(4 * n));
        uint32_t *wp = aligned_alloc(64, bytes);
        memset(wp, 0xA5, bytes); /* every word must be written, padding included */
        H->adamw(p1, g, m1, v1, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 7);
        H->adamw_wpack(wp, p2, g, m2, v2, R, Cc, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 7);
        CHECKF(memcmp(p1, p2, (size_t)n * 4) == 0 && memcmp(m1, m2, (size_t)n * 4) == 0 &&
                   memcmp(v1, v2, (size_t)n * 4) == 0, "%lldx%lld: adamw_wpack's update differs from adamw's",
               (long long)R, (long long)Cc);
        int64_t w1 = lms_gemm_bf16_packed_b_words(Cc, R), w2 = lms_gemm_bf16_packed_b_words(R, Cc);
        uint32_t *f1 = malloc((size_t)w1 * 4), *f2 = malloc((size_t)w2 * 4);
        lms_gemm_bf16_pack_b(f1, 0, p1, Cc, Cc, R); /* B = W: K = R, N = Cc */
        lms_gemm_bf16_pack_b(f2, 1, p1, Cc, R, Cc); /* B = Wᵀ: K = Cc, N = R */
        CHECKF(lms_bf16_wpack_b(wp, R, Cc, 0) == wp && memcmp(wp, f1, (size_t)w1 * 4) == 0 &&
                   memcmp(lms_bf16_wpack_b(wp, R, Cc, 1), f2, (size_t)w2 * 4) == 0,
               "%lldx%lld: the pack is not the two packed forms of W", (long long)R, (long long)Cc);
        for (int lay = 0; lay < 2; lay++) { /* IN_OUT: W[C,OC] = [R,Cc]; OUT_IN: W[OC,C] = [R,Cc] */
            int64_t C = lay == LMS_W_IN_OUT ? R : Cc, OC = lay == LMS_W_IN_OUT ? Cc : R;
            float *x = rnd(N * C, 1), *dout = rnd(N * OC, 1), *bias = rnd(OC, 1);
            float *o1 = malloc((size_t)(N * OC) * 4), *o2 = malloc((size_t)(N * OC) * 4);
            float *dx1 = rnd(N * C, 1), *dx2 = malloc((size_t)(N * C) * 4), *dw1 = rnd(n, 1), *dw2 = malloc((size_t)n * 4);
            float *db1 = rnd(OC, 1), *db2 = malloc((size_t)OC * 4);
            memcpy(dx2, dx1, (size_t)(N * C) * 4), memcpy(dw2, dw1, (size_t)n * 4), memcpy(db2, db1, (size_t)OC * 4);
            H->matmul_fwd(o1, x, p1, bias, N, C, OC, (lms_wlayout)lay);
            H->matmul_fwd_wp(o2, x, wp, bias, N, C, OC, (lms_wlayout)lay);
            H->matmul_bwd(dx1, dw1, db1, dout, x, p1, N, C, OC, (lms_wlayout)lay, 1);
            H->matmul_bwd_wp(dx2, dw2, db2, dout, x, wp, N, C, OC, (lms_wlayout)lay, 1);
            CHECKF(memcmp(o1, o2, (size_t)(N * OC) * 4) == 0 && memcmp(dx1, dx2, (size_t)(N * C) * 4) == 0 &&
                       memcmp(dw1, dw2, (size_t)n * 4) == 0 && memcmp(db1, db2, (size_t)OC * 4) == 0,
                   "%lldx%lld layout %d: the products from the pack differ from the plain ops", (long long)R,
                   (long long)Cc, lay);
            free(x); free(dout); free(bias); free(o1); free(o2); free(dx1); free(dx2); free(dw1); free(dw2);
            free(db1); free(db2);
        }
        free(p1); free(g); free(m1); free(v1); free(p2); free(m2); free(v2); free(wp); free(f1); free(f2);
    }
}

/* The table: the AVX-512 table with its products (attention's too) replaced, refused with a reason where it cannot run. */
static void test_table(void) {
    const lms_ops *t = lms_ops_bf16();
    if (!have()) {
        CHECK(t == NULL && lms_ops_bf16_unavailable() != NULL);
        return;
    }
    const lms_ops *a = lms_ops_avx512();
    CHECK(t != NULL && strcmp(t->name, "avx512-bf16") == 0 && lms_ops_bf16_unavailable() == NULL);
    if (!t) return;
    CHECK(t->matmul_fwd != a->matmul_fwd && t->matmul_bwd != a->matmul_bwd);
    CHECK(t->attention_fwd != a->attention_fwd && t->attention_bwd != a->attention_bwd);
    CHECK(t->layernorm_fwd == a->layernorm_fwd && t->adamw == a->adamw &&
          t->xent_fwd_bwd == a->xent_fwd_bwd && t->global_norm == a->global_norm && t->buf_alloc == a->buf_alloc);
    const lms_ops *all[8];
    int n = lms_ops_all(all, 8);
    CHECK(n == 4 && all[3] == t);
    setenv("LMS_NO_BF16", "1", 1);
    const char *why = lms_ops_bf16_unavailable();
    CHECK(lms_ops_bf16() == NULL && why != NULL && strstr(why, "LMS_NO_BF16") != NULL);
    unsetenv("LMS_NO_BF16");
    CHECK(lms_ops_bf16() == t);
}

TESTS(test_gemm_shapes, test_streamed, test_rounding, test_threads, test_packed_b, test_wpack, test_table)
