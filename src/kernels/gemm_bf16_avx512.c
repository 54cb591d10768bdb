/* gemm_bf16_avx512.c — the bfloat16 matrix product with AVX512-BF16 (contract and method in
 * gemm_bf16.h): packing fp32 into bf16 pair panels, the 12x32 vdpbf16ps microkernel, and the
 * loops and threads around them.
 *
 * Compiled with AVX-512 and -mavx512bf16 (the Makefile adds them by file name, the latter only
 * when the compiler knows it); without them (LMS_NO_SIMD, LMS_NO_BF16) only the stubs at the end
 * are built and lms_gemm_bf16_built() says 0.
 *
 * Why our own: Debian 12's OpenBLAS 0.3.21 exports no sbgemm, and PyTorch's bf16 path is not
 * available to C. docs/backends.md has the measured speed against sgemm.
 *
 * Leaves out: CPU detection and the op table (gemm_bf16.c).
 */
#include "kernels/gemm_bf16.h"

#include <stdlib.h>
#include <string.h>

#if !defined(LMS_NO_SIMD) && !defined(LMS_NO_BF16) && defined(__AVX512BF16__)
#include <immintrin.h>
#include <omp.h>

#include "kernels/kernels.h"

enum { MR = 12, NR = 32, KC = 128 /* pairs per block: a 32-column panel block is 16 KiB */, PG = 16 };

int lms_gemm_bf16_built(void) { return 1; }

static inline __mmask16 lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* 16 words of bf16 pairs (lo in the low half, hi in the high half), each rounded to nearest even
   from fp32 bits exactly as lms_bf16_from_f32 does */
static inline __m512i pair_words(__m512i lo, __m512i hi) {
    const __m512i bias = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
    __m512i rl = _mm512_add_epi32(_mm512_add_epi32(lo, bias), _mm512_and_si512(_mm512_srli_epi32(lo, 16), one));
    __m512i rh = _mm512_add_epi32(_mm512_add_epi32(hi, bias), _mm512_and_si512(_mm512_srli_epi32(hi, 16), one));
    return _mm512_or_si512(_mm512_srli_epi32(rl, 16), _mm512_and_si512(rh, _mm512_set1_epi32((int)0xFFFF0000u)));
}

/* npan consecutive panels of W (12 or 32) rows x of a matrix X(x, k), panel q at dst + q·W·Kp as
   [p·W + x] = pair (X(x,2p), X(x,2p+1)) for p < Kp = ceil(K/2); rows x >= xn (counted from the first
   panel) and k >= K are zeros. X(x,k) = src[k·ld + x] when xcontig, else src[x·ld + k].
   xcontig: each pair p reads two source rows over all npan panels at once (sequential reads over
   W·npan floats) so that a large ld does not cost a TLB miss per 12 values. */
static void pack_panels(uint32_t *dst, int W, int npan, const float *src, int64_t ld, int xcontig, int64_t xn,
                        int64_t K) {
    int64_t Kp = (K + 1) / 2;
    if (xcontig) {
        for (int64_t p = 0; p < Kp; p++) {
            const float *s0 = src + 2 * p * ld, *s1 = s0 + ld;
            int two = 2 * p + 1 < K;
            for (int q = 0; q < npan; q++)
                for (int g = 0; g < W; g += 16) {
                    int64_t x = (int64_t)q * W + g;
                    __mmask16 m = lanes(xn - x) & lanes(W - g);
                    __m512i lo = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, s0 + x));
                    __m512i hi = two ? _mm512_castps_si512(_mm512_maskz_loadu_ps(m, s1 + x)) : _mm512_setzero_si512();
                    _mm512_mask_storeu_epi32(dst + q * W * Kp + p * W + g, lanes(W - g), pair_words(lo, hi));
                }
        }
        return;
    }
    /* rows are strided: convert 16 rows' pairs in order, 16 pairs at a time, then transpose the
       16 x 16 words through a small buffer */
    const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i od = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    uint32_t tmp[16][16];
    for (int pan = 0; pan < npan; pan++, dst += W * Kp, src += W * ld, xn -= W)
        for (int g = 0; g < W; g += 16) {
            int nx = (int)(xn - g < 16 ? (xn - g > 0 ? xn - g : 0) : 16);
            for (int64_t p0 = 0; p0 < Kp; p0 += 16) {
                int np = (int)(Kp - p0 < 16 ? Kp - p0 : 16);
                for (int x = 0; x < 16; x++) {
                    if (x >= nx) {
                        memset(tmp[x], 0, sizeof tmp[x]);
                        continue;
                    }
                    const float *s = src + (g + x) * ld + 2 * p0;
                    int64_t left = K - 2 * p0; /* values of this row from 2·p0 on */
                    /* a holds k = 2p0..2p0+15, b the next 16: pair q = (k 2q, 2q+1) */
                    __m512i a = _mm512_castps_si512(_mm512_maskz_loadu_ps(lanes(left), s));
                    __m512i b = _mm512_castps_si512(_mm512_maskz_loadu_ps(lanes(left - 16), s + 16));
                    __m512i lo = _mm512_permutex2var_epi32(a, ev, b), hi = _mm512_permutex2var_epi32(a, od, b);
                    _mm512_storeu_si512(tmp[x], pair_words(lo, hi));
                }
                /* scalar transpose: plain stores beat masked 12-lane vector stores here */
                for (int q = 0; q < np; q++) {
                    uint32_t *d = dst + (p0 + q) * W + g;
                    for (int x = 0; x < W - g && x < 16; x++) d[x] = tmp[x][q];
                }
            }
        }
}

/* c[12,32] (rows < mr, columns < nr written) = init + sum over kp pairs of a-panel x b-panel.
   init: 0 zeros, 1 the current c, 2 bias[0..nr) in every row. */
static void ukr(int64_t kp, const uint32_t *a, const uint32_t *b, float *c, int64_t ldc, int mr, int nr, int init,
                const float *bias) {
    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91, ca0,
        ca1, cb0, cb1;
    if (init == 1) {
#define LOADC(i, r0, r1)                                                          \
    r0 = i < mr ? _mm512_maskz_loadu_ps(m0, c + i * ldc) : _mm512_setzero_ps(); \
    r1 = i < mr ? _mm512_maskz_loadu_ps(m1, c + i * ldc + 16) : _mm512_setzero_ps();
        LOADC(0, c00, c01) LOADC(1, c10, c11) LOADC(2, c20, c21) LOADC(3, c30, c31) LOADC(4, c40, c41)
        LOADC(5, c50, c51) LOADC(6, c60, c61) LOADC(7, c70, c71) LOADC(8, c80, c81) LOADC(9, c90, c91)
        LOADC(10, ca0, ca1) LOADC(11, cb0, cb1)
#undef LOADC
    } else {
        __m512 z0 = _mm512_setzero_ps(), z1 = z0;
        if (init == 2) {
            z0 = _mm512_maskz_loadu_ps(m0, bias);
            z1 = _mm512_maskz_loadu_ps(m1, bias + 16);
        }
        c00 = c10 = c20 = c30 = c40 = c50 = c60 = c70 = c80 = c90 = ca0 = cb0 = z0;
        c01 = c11 = c21 = c31 = c41 = c51 = c61 = c71 = c81 = c91 = ca1 = cb1 = z1;
    }
    for (int64_t p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
#define ROW(i, r0, r1)                                                    \
    {                                                                     \
        __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);             \
        r0 = _mm512_dpbf16_ps(r0, ai, b0);                                \
        r1 = _mm512_dpbf16_ps(r1, ai, b1);                                \
    }
        ROW(0, c00, c01) ROW(1, c10, c11) ROW(2, c20, c21) ROW(3, c30, c31) ROW(4, c40, c41) ROW(5, c50, c51)
        ROW(6, c60, c61) ROW(7, c70, c71) ROW(8, c80, c81) ROW(9, c90, c91) ROW(10, ca0, ca1) ROW(11, cb0, cb1)
#undef ROW
        a += MR;
        b += NR;
    }
#define STOREC(i, r0, r1)                                \
    if (i < mr) {                                        \
        _mm512_mask_storeu_ps(c + i * ldc, m0, r0);      \
        _mm512_mask_storeu_ps(c + i * ldc + 16, m1, r1); \
    }
    STOREC(0, c00, c01) STOREC(1, c10, c11) STOREC(2, c20, c21) STOREC(3, c30, c31) STOREC(4, c40, c41)
    STOREC(5, c50, c51) STOREC(6, c60, c61) STOREC(7, c70, c71) STOREC(8, c80, c81) STOREC(9, c90, c91)
    STOREC(10, ca0, ca1) STOREC(11, cb0, cb1)
#undef STOREC
}

/* The packing buffer of the calling thread, grown as needed and kept for its next products: fresh
   pages for every product cost more than the packing itself (page faults, measured under a VM).
   Held until the thread exits (at most the largest product's (M + N)·K·2 bytes plus padding). */
static _Thread_local void *g_pack;
static _Thread_local size_t g_pack_bytes;
static void *pack_buffer(size_t bytes) {
    if (bytes > g_pack_bytes) {
        free(g_pack);
        g_pack_bytes = 0;
        g_pack = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (g_pack) g_pack_bytes = (bytes + 63) / 64 * 64;
    }
    return g_pack;
}

/* Allocation failed: the same rounding, one output at a time (fp32 sums in pair order). */
static void gemm_unpacked(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                          const float *B, int64_t ldb, const float *bias, int acc, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float s = acc ? C[i * ldc + j] : bias ? bias[j] : 0.0f;
            for (int64_t k = 0; k < K; k++) {
                float a = ta ? A[k * lda + i] : A[i * lda + k], b = tb ? B[j * ldb + k] : B[k * ldb + j];
                s += lms_bf16_to_f32(lms_bf16_from_f32(a)) * lms_bf16_to_f32(lms_bf16_from_f32(b));
            }
            C[i * ldc + j] = s;
        }
}

void lms_gemm_bf16(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, int64_t ldb, const float *bias, int acc, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!acc)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) C[i * ldc + j] = bias ? bias[j] : 0.0f;
        return;
    }
    int64_t Kp = (K + 1) / 2, MP = (M + MR - 1) / MR, NP = (N + NR - 1) / NR;
    size_t abytes = (size_t)(MP * MR * Kp) * 4, bbytes = (size_t)(NP * NR * Kp) * 4;
    uint32_t *Ap = pack_buffer((abytes + 63) / 64 * 64 + bbytes);
    if (!Ap) {
        gemm_unpacked(ta, tb, M, N, K, A, lda, B, ldb, bias, acc, C, ldc);
        return;
    }
    uint32_t *Bp = Ap + (abytes + 63) / 64 * 16;
    int nt = omp_in_parallel() || M * N * K < ((int64_t)1 << 18) ? 1 : omp_get_max_threads();
    /* tiles of mcp x ncp panels: big enough to reuse the A block from L2, small enough to give
       every thread several (the tiling never changes the result) */
    int64_t mcp = 8, ncp = 16;
    while (((MP + mcp - 1) / mcp) * ((NP + ncp - 1) / ncp) < 4 * nt && (ncp > 2 || mcp > 1)) {
        if (ncp > 2) ncp /= 2;
        else mcp /= 2;
    }
    int64_t TM = (MP + mcp - 1) / mcp, TN = (NP + ncp - 1) / ncp;
    int init0 = acc ? 1 : bias ? 2 : 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        /* groups of PG panels (a few hundred columns of each source row per pass) */
#pragma omp for schedule(static) nowait
        for (int64_t ip = 0; ip < MP; ip += PG) {
            int np = (int)(MP - ip < PG ? MP - ip : PG);
            pack_panels(Ap + ip * MR * Kp, MR, np, ta ? A + ip * MR : A + ip * MR * lda, lda, ta, M - ip * MR, K);
        }
#pragma omp for schedule(static)
        for (int64_t jp = 0; jp < NP; jp += PG / 2) {
            int np = (int)(NP - jp < PG / 2 ? NP - jp : PG / 2);
            pack_panels(Bp + jp * NR * Kp, NR, np, tb ? B + jp * NR * ldb : B + jp * NR, ldb, !tb, N - jp * NR, K);
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t t = 0; t < TM * TN; t++) {
            int64_t i0 = (t / TN) * mcp, j0 = (t % TN) * ncp;
            int64_t i1 = i0 + mcp < MP ? i0 + mcp : MP, j1 = j0 + ncp < NP ? j0 + ncp : NP;
            for (int64_t pc = 0; pc < Kp; pc += KC) {
                int64_t kc = Kp - pc < KC ? Kp - pc : KC;
                for (int64_t jp = j0; jp < j1; jp++) {
                    int nr = (int)(N - jp * NR < NR ? N - jp * NR : NR);
                    for (int64_t ip = i0; ip < i1; ip++) {
                        int mr = (int)(M - ip * MR < MR ? M - ip * MR : MR);
                        ukr(kc, Ap + ip * MR * Kp + pc * MR, Bp + jp * NR * Kp + pc * NR, C + ip * MR * ldc + jp * NR,
                            ldc, mr, nr, pc == 0 ? init0 : 1, bias ? bias + jp * NR : NULL);
                    }
                }
            }
        }
    }
}

#else /* built without AVX512-BF16 */

int lms_gemm_bf16_built(void) { return 0; }

void lms_gemm_bf16(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, int64_t ldb, const float *bias, int acc, float *C, int64_t ldc) {
    (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)bias, (void)acc;
    (void)C, (void)ldc;
    abort(); /* broken invariant: lms_ops_bf16() is NULL in this build, so nothing can get here */
}

#endif
