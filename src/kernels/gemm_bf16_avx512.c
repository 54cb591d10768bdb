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

#if !defined(LMS_NO_SIMD) && !defined(LMS_NO_BF16) && defined(__AVX512BF16__)
#include <immintrin.h>
#include <math.h>
#include <omp.h>

#include "kernels/avx512_mem.h"
#include "kernels/kernels.h"

/* MR x NR: the microkernel's tile. KC: pairs per microkernel call (a B micro-panel of 16 KiB stays
   in L1 while it meets MCP A micro-panels of 6 KiB from L2). NCMAX columns and B_WORDS words bound
   the packed B block that all threads share (in L3); A is packed whole when it has at most
   A_WORDS words, else per block of MCP panels x KC pairs on the stack of the thread that uses it. */
enum {
    MR = 12, NR = 32, KC = 128, MCP = 8, NCMAX = 1024,
    B_WORDS = 1 << 19 /* 2 MiB */, A_WORDS = 1 << 20 /* 4 MiB */, STREAM_FLOATS = 1 << 23 /* 32 MiB of C */
};

int lms_gemm_bf16_built(void) { return 1; }

static int64_t rup(int64_t x, int64_t m) { return (x + m - 1) / m * m; } /* x rounded up to a multiple of m */

/* 32 floats -> 32 bf16 in order (round to nearest even, as lms_bf16_from_f32 for normal numbers;
   vcvtne2ps2bf16 flushes denormal inputs to zero, which vdpbf16ps would count as zero anyway):
   word q = (v[2q], v[2q+1]), the pair layout the microkernel reads. lo = v[0..16), hi = v[16..32). */
static inline __m512i bf16_words(__m512 lo, __m512 hi) { return (__m512i)_mm512_cvtne2ps_pbh(hi, lo); }

/* 16 words of pairs (lo[x], hi[x]): the two rows' bf16 values interleaved */
static inline __m512i pair_words(__m512 lo, __m512 hi) {
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, bf16_words(lo, hi));
}

/* r[0..16) <- its transpose as a 16 x 16 matrix of 32-bit words */
static inline void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    /* r[4a + b] now holds, in 128-bit lane l, row 4l.. of column block a, word b of each group of 4 */
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xDD);
        r[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xDD);
    }
}

/* 16 words to p (lanes k); a full store goes around the caches when stream is set (p 64-byte aligned) */
static inline void st_words(uint32_t *p, __mmask16 k, __m512i v, int stream) {
    if (stream && k == 0xFFFF) _mm512_stream_si512((__m512i *)p, v);
    else stm32(p, k, v);
}

/* The strided case for one group of 16 rows x (nx of them real, the rest zeros): word x of pair p
   (lanes sm) at dst + p·pw + x, for p < ceil(K/2). 16 pairs (32 values) of each row at a time,
   then a 16 x 16 transpose of the words into 16 pairs' columns. */
static void pack_group16(uint32_t *dst, int64_t pw, __mmask16 sm, const float *src, int64_t ld, int nx, int64_t K,
                         float scale, int stream) {
    const __m512 sc = _mm512_set1_ps(scale);
    int scaled = scale != 1.0f;
    int64_t Kp = (K + 1) / 2;
    __m512i r[16];
    for (int64_t p0 = 0; p0 < Kp; p0 += 16) {
        int np = (int)(Kp - p0 < 16 ? Kp - p0 : 16);
        int64_t left = K - 2 * p0; /* values of each row from 2·p0 on */
        __mmask16 m0 = lms_lanes(left), m1 = lms_lanes(left - 16);
        const float *s = src + 2 * p0;
        for (int x = 0; x < 16; x++, s += ld) {
            if (x >= nx) { /* rows past the matrix: zeros, nothing read */
                r[x] = _mm512_setzero_si512();
                continue;
            }
            if (left > 96) _mm_prefetch((const char *)(s + 64), _MM_HINT_T0); /* two blocks on */
            __m512 lo = ldm(m0, s), hi = ldm(m1, s + 16);
            if (scaled) lo = _mm512_mul_ps(lo, sc), hi = _mm512_mul_ps(hi, sc);
            r[x] = bf16_words(lo, hi);
        }
        transpose16(r);
        for (int q = 0; q < np; q++) st_words(dst + (p0 + q) * pw, sm, r[q], stream);
    }
}

/* npan consecutive panels of W (12 or 32) rows x of a matrix X(x, k)·scale, panel q at dst + q·pstride
   (pstride 0: W·Kp, the panels back to back; stream: full 64-byte stores non-temporal, dst 64-byte
   aligned, for packs that are not read before they have left the caches) as
   [p·W + x] = pair (X(x,2p), X(x,2p+1)) for p < Kp = ceil(K/2); rows x >= xn (counted from the first
   panel) and k >= K are zeros. X(x,k) = src[k·ld + x] when xcontig, else src[x·ld + k].
   xcontig: each pair p reads two source rows over all npan panels at once (sequential reads over
   W·npan floats) so that a large ld does not cost a TLB miss per 12 values. */
static void pack_panels(uint32_t *dst, int W, int npan, int64_t pstride, const float *src, int64_t ld, int xcontig,
                        int64_t xn, int64_t K, float scale, int stream) {
    int64_t Kp = (K + 1) / 2;
    if (!pstride) pstride = W * Kp;
    if (xcontig) {
        const __m512 sc = _mm512_set1_ps(scale);
        int scaled = scale != 1.0f;
        for (int64_t p = 0; p < Kp; p++) {
            const float *s0 = src + 2 * p * ld, *s1 = s0 + ld;
            int two = 2 * p + 1 < K;
            for (int q = 0; q < npan; q++)
                for (int g = 0; g < W; g += 16) {
                    int64_t x = (int64_t)q * W + g;
                    __mmask16 m = lms_lanes(xn - x) & lms_lanes(W - g);
                    if (2 * p + 5 < K) { /* the rows two pairs on: their lines are far apart */
                        _mm_prefetch((const char *)(s0 + 4 * ld + x), _MM_HINT_T0);
                        _mm_prefetch((const char *)(s1 + 4 * ld + x), _MM_HINT_T0);
                    }
                    __m512 lo = ldm(m, s0 + x);
                    __m512 hi = two ? ldm(m, s1 + x) : _mm512_setzero_ps();
                    if (scaled) lo = _mm512_mul_ps(lo, sc), hi = _mm512_mul_ps(hi, sc);
                    st_words(dst + q * pstride + p * W + g, lms_lanes(W - g), pair_words(lo, hi), stream);
                }
        }
        return;
    }
    /* rows are strided: groups of 16 rows */
    for (int pan = 0; pan < npan; pan++, dst += pstride, src += W * ld, xn -= W)
        for (int g = 0; g < W; g += 16) {
            int nx = (int)(xn - g < 16 ? (xn - g > 0 ? xn - g : 0) : 16);
            if (nx > W - g) nx = W - g;
            pack_group16(dst + g, W, lms_lanes(W - g), src + (int64_t)g * ld, ld, nx, K, scale, stream);
        }
}

/* c[12,32] (rows < mr, columns < nr written) = init + sum over kp pairs of a-panel x b-panel.
   init: 0 zeros, 1 the current c, 2 bias[0..nr) in every row. stream: a full tile (mr 12, nr 32,
   rows 64-byte aligned) written with non-temporal stores, which skip reading c's lines first.
   pf (or NULL): the next B micro-panel, fetched into L2 as this one is read (B packed ahead of
   time comes from memory, not from a block just packed into cache). */
static void ukr(int64_t kp, const uint32_t *a, const uint32_t *b, float *c, int64_t ldc, int mr, int nr, int init,
                const float *bias, int stream, const uint32_t *pf) {
    __mmask16 m0 = lms_lanes(nr), m1 = lms_lanes(nr - 16);
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91, ca0,
        ca1, cb0, cb1;
    if (init == 1) {
#define LOADC(i, r0, r1)                                                          \
    r0 = i < mr ? ldm(m0, c + i * ldc) : _mm512_setzero_ps(); \
    r1 = i < mr ? ldm(m1, c + i * ldc + 16) : _mm512_setzero_ps();
        LOADC(0, c00, c01) LOADC(1, c10, c11) LOADC(2, c20, c21) LOADC(3, c30, c31) LOADC(4, c40, c41)
        LOADC(5, c50, c51) LOADC(6, c60, c61) LOADC(7, c70, c71) LOADC(8, c80, c81) LOADC(9, c90, c91)
        LOADC(10, ca0, ca1) LOADC(11, cb0, cb1)
#undef LOADC
    } else {
        __m512 z0 = _mm512_setzero_ps(), z1 = z0;
        if (init == 2) {
            z0 = ldm(m0, bias);
            z1 = ldm(m1, bias + 16);
        }
        c00 = c10 = c20 = c30 = c40 = c50 = c60 = c70 = c80 = c90 = ca0 = cb0 = z0;
        c01 = c11 = c21 = c31 = c41 = c51 = c61 = c71 = c81 = c91 = ca1 = cb1 = z1;
    }
    for (int64_t p = 0; p < kp; p++) {
        if (pf) {
            _mm_prefetch((const char *)(pf + p * NR), _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + p * NR + 16), _MM_HINT_T1);
        }
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
    if (stream) {                                        \
        _mm512_stream_ps(c + i * ldc, r0);               \
        _mm512_stream_ps(c + i * ldc + 16, r1);          \
    } else if (i < mr) {                                 \
        stm(c + i * ldc, m0, r0);      \
        stm(c + i * ldc + 16, m1, r1); \
    }
    STOREC(0, c00, c01) STOREC(1, c10, c11) STOREC(2, c20, c21) STOREC(3, c30, c31) STOREC(4, c40, c41)
    STOREC(5, c50, c51) STOREC(6, c60, c61) STOREC(7, c70, c71) STOREC(8, c80, c81) STOREC(9, c90, c91)
    STOREC(10, ca0, ca1) STOREC(11, cb0, cb1)
#undef STOREC
}

/* The packing buffer of the calling thread, grown as needed and kept for its next products: fresh
   pages for every product cost more than the packing itself (page faults, measured under a VM).
   Held until the thread exits (at most A_WORDS + B_WORDS words, 6 MiB, for the products; what
   attention asks at its T and head size, a few hundred KiB per thread at T 1024, otherwise). */
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

/* Allocation failed: the same rounding, one output at a time (fp32 sums in pair order); op(B)
   from B, or from a whole packed B (Bw: panel j/NR at Bw + (j/NR)·NR·Kp, word p·NR + j%NR). */
static void gemm_unpacked(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                          const float *B, int64_t ldb, const uint32_t *Bw, const float *bias, int acc, float *C,
                          int64_t ldc) {
    int64_t Kp = (K + 1) / 2;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float s = acc ? C[i * ldc + j] : bias ? bias[j] : 0.0f;
            for (int64_t k = 0; k < K; k++) {
                float a = ta ? A[k * lda + i] : A[i * lda + k];
                uint16_t b;
                if (Bw) {
                    uint32_t w = Bw[j / NR * NR * Kp + k / 2 * NR + j % NR];
                    b = (uint16_t)(k % 2 ? w >> 16 : w & 0xFFFF);
                } else {
                    b = lms_bf16_from_f32(tb ? B[j * ldb + k] : B[k * ldb + j]);
                }
                s += lms_bf16_to_f32(lms_bf16_from_f32(a)) * lms_bf16_to_f32(b);
            }
            C[i * ldc + j] = s;
        }
}

/* Panels [p0, p0 + np) of op(A) (12 rows each) or op(B) (32 columns), pairs [k0/2, k0/2 + ceil(kn/2)):
   the source pointer and layout pack_panels takes for that block. */
static void pack_a_scaled(uint32_t *dst, int ta, const float *A, int64_t lda, int64_t M, int64_t p0, int np, int64_t k0,
                          int64_t kn, float scale) {
    int64_t i0 = p0 * MR;
    pack_panels(dst, MR, np, 0, ta ? A + k0 * lda + i0 : A + i0 * lda + k0, lda, ta, M - i0, kn, scale, 0);
}
static void pack_a(uint32_t *dst, int ta, const float *A, int64_t lda, int64_t M, int64_t p0, int np, int64_t k0,
                   int64_t kn) {
    pack_a_scaled(dst, ta, A, lda, M, p0, np, k0, kn, 1.0f);
}
static void pack_b(uint32_t *dst, int tb, const float *B, int64_t ldb, int64_t N, int64_t p0, int np, int64_t k0,
                   int64_t kn) {
    int64_t j0 = p0 * NR;
    pack_panels(dst, NR, np, 0, tb ? B + j0 * ldb + k0 : B + k0 * ldb + j0, ldb, !tb, N - j0, kn, 1.0f, 0);
}

/* One product's blocking, shared by its threads (see lms_gemm_bf16 below). */
typedef struct {
    int ta, tb, a_whole, init0, stream;
    int64_t M, N, K, Kp, MP, NP, lda, ldb, ldc;
    int64_t ncp, kb, split, items; /* B panels and pairs per B block, B ranges per A block, items per B block */
    const float *A, *B, *bias;
    float *C;
    uint32_t *Ap, *Bp; /* A packed whole (when a_whole), the current B block */
    const uint32_t *Bw; /* B packed whole by the caller (lms_gemm_bf16_pack_b), or NULL: pack here */
} plan;

/* B block (jb, pb): panel jp of its njp panels, kbn pairs from pair pb */
static void block_pack_b(const plan *g, int64_t jb, int64_t pb, int64_t kbn, int64_t jp) {
    int64_t kv = g->K - 2 * pb < 2 * kbn ? g->K - 2 * pb : 2 * kbn; /* values */
    pack_b(g->Bp + jp * NR * kbn, g->tb, g->B, g->ldb, g->N, jb + jp, 1, 2 * pb, kv);
}

/* One item of B block (jb, pb): MCP A panels (packed here for each KC pairs unless A is whole,
   into ablk) against a range of the block's njp B panels */
static void block_item(const plan *g, int64_t jb, int64_t njp, int64_t pb, int64_t kbn, int64_t item, uint32_t *ablk) {
    int64_t ib = (item / g->split) * MCP, s = item % g->split;
    int64_t nip = g->MP - ib < MCP ? g->MP - ib : MCP;
    int64_t j0 = njp * s / g->split, j1 = njp * (s + 1) / g->split;
    for (int64_t pc = 0; pc < kbn; pc += KC) {
        int64_t kc = kbn - pc < KC ? kbn - pc : KC;
        const uint32_t *ap; /* panel ip of this item at ap + ip·MR·astride */
        int64_t astride;
        if (g->a_whole) {
            ap = g->Ap + ib * MR * g->Kp + (pb + pc) * MR;
            astride = g->Kp;
        } else {
            int64_t k0 = 2 * (pb + pc), kn = g->K - k0 < 2 * kc ? g->K - k0 : 2 * kc;
            pack_a(ablk, g->ta, g->A, g->lda, g->M, ib, (int)nip, k0, kn);
            ap = ablk;
            astride = (kn + 1) / 2;
        }
        int init = pb == 0 && pc == 0 ? g->init0 : 1;
        /* A micro-panel outer (it stays in L1), B micro-panels inner (from L2): the C tiles then
           walk along a row band, not down a column, which at a power-of-two row length (the 4C
           of C 256, 2048³) put every tile's rows in the same L1 sets: 4096x1024x256 went from
           537 to 787 GFLOP/s */
        for (int64_t ip = 0; ip < nip; ip++) {
            int64_t ig = ib + ip;
            int mr = (int)(g->M - ig * MR < MR ? g->M - ig * MR : MR);
            for (int64_t jp = j0; jp < j1; jp++) {
                int64_t jg = jb + jp;
                int nr = (int)(g->N - jg * NR < NR ? g->N - jg * NR : NR);
                const uint32_t *bp = g->Bw ? g->Bw + jg * NR * g->Kp + (pb + pc) * NR : g->Bp + jp * NR * kbn + pc * NR;
                if (init == 1 && jp + 1 < j1) /* the next tile's sums, which the microkernel starts by loading */
                    for (int r = 0; r < mr; r++) {
                        const float *cn = g->C + (ig * MR + r) * g->ldc + (jg + 1) * NR;
                        _mm_prefetch((const char *)cn, _MM_HINT_T0);
                        _mm_prefetch((const char *)(cn + 16), _MM_HINT_T0);
                    }
                /* B packed ahead: its first pass over the item's panels fetches the next one */
                const uint32_t *pf = g->Bw && ip == 0 && jp + 1 < j1 ? bp + NR * g->Kp : NULL;
                ukr(kc, ap + ip * MR * astride, bp, g->C + ig * MR * g->ldc + jg * NR, g->ldc, mr, nr, init,
                    g->bias ? g->bias + jg * NR : NULL, g->stream && mr == MR && nr == NR, pf);
            }
        }
    }
}

/* The loops over B blocks, with nt > 1 threads sharing each block's packing and items */
static void run_parallel(const plan *g, int nt) {
#pragma omp parallel num_threads(nt)
    {
        _Alignas(64) uint32_t ablk[MCP * MR * KC]; /* this thread's A panels for KC pairs */
        if (g->a_whole) {
#pragma omp for schedule(static)
            for (int64_t ip = 0; ip < g->MP; ip += 2)
                pack_a(g->Ap + ip * MR * g->Kp, g->ta, g->A, g->lda, g->M, ip, g->MP - ip < 2 ? 1 : 2, 0, g->K);
        }
        for (int64_t jb = 0; jb < g->NP; jb += g->ncp) {
            int64_t njp = g->NP - jb < g->ncp ? g->NP - jb : g->ncp;
            for (int64_t pb = 0; pb < g->Kp; pb += g->kb) {
                int64_t kbn = g->Kp - pb < g->kb ? g->Kp - pb : g->kb;
                if (!g->Bw) {
#pragma omp for schedule(static)
                    for (int64_t jp = 0; jp < njp; jp++) block_pack_b(g, jb, pb, kbn, jp);
                }
#pragma omp for schedule(dynamic, 1)
                for (int64_t item = 0; item < g->items; item++) block_item(g, jb, njp, pb, kbn, item, ablk);
            }
        }
        if (g->stream) _mm_sfence(); /* the streamed stores are visible before the region ends */
    }
}

/* The same loops on the calling thread, without OpenMP: small products (attention's, or inside
   the caller's own parallel region) where starting a team costs more than it saves */
static void run_serial(const plan *g) {
    _Alignas(64) uint32_t ablk[MCP * MR * KC];
    if (g->a_whole) pack_a(g->Ap, g->ta, g->A, g->lda, g->M, 0, (int)g->MP, 0, g->K);
    for (int64_t jb = 0; jb < g->NP; jb += g->ncp) {
        int64_t njp = g->NP - jb < g->ncp ? g->NP - jb : g->ncp;
        for (int64_t pb = 0; pb < g->Kp; pb += g->kb) {
            int64_t kbn = g->Kp - pb < g->kb ? g->Kp - pb : g->kb;
            if (!g->Bw)
                for (int64_t jp = 0; jp < njp; jp++) block_pack_b(g, jb, pb, kbn, jp);
            for (int64_t item = 0; item < g->items; item++) block_item(g, jb, njp, pb, kbn, item, ablk);
        }
    }
    if (g->stream) _mm_sfence();
}

/* How (BLIS's loops, with the B block shared by the threads):
     for each block of <= NCMAX columns and of KB pairs (the B block fits B_WORDS):
       the threads pack the B block together (panels of 32 columns, KB pairs each)
       then share out items = (a block of MCP A panels, a range of the block's B panels):
         for each KC pairs: pack the item's A panels for these pairs (unless A is packed whole)
           for each A micro-panel: for each B micro-panel: microkernel over KC pairs
   The C tile an item writes (96 rows x its columns) stays in L2 over its KC steps; every element
   still sums its pairs in K order, so no tiling or thread count changes a bit. */
static void gemm(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                 int64_t ldb, const uint32_t *Bw, const float *bias, int acc, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!acc)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) C[i * ldc + j] = bias ? bias[j] : 0.0f;
        return;
    }
    plan g = {.ta = ta, .tb = tb, .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb, .ldc = ldc,
              .A = A, .B = B, .bias = bias, .C = C, .Bw = Bw};
    g.Kp = (K + 1) / 2, g.MP = (M + MR - 1) / MR, g.NP = (N + NR - 1) / NR;
    g.a_whole = g.MP * MR * g.Kp <= A_WORDS;
    g.ncp = g.NP < NCMAX / NR ? g.NP : NCMAX / NR; /* B panels per block */
    g.kb = B_WORDS / (g.ncp * NR) / KC * KC;      /* pairs per B block */
    if (g.kb < KC) g.kb = KC;
    if (g.kb > g.Kp) g.kb = g.Kp;
    int64_t awords = g.a_whole ? rup(g.MP * MR * g.Kp, 16) : 0, bwords = Bw ? 0 : g.ncp * NR * g.kb;
    /* (+ 64: never a request for 0 bytes, which could return NULL, when B comes packed and A is
       packed per thread on the stack) */
    g.Ap = pack_buffer((size_t)(awords + bwords) * 4 + 64);
    if (!g.Ap) { /* no packing space: the slow loop */
        gemm_unpacked(ta, tb, M, N, K, A, lda, B, ldb, Bw, bias, acc, C, ldc);
        return;
    }
    g.Bp = g.Ap + awords;
    int nt = omp_in_parallel() || M * N * K < ((int64_t)1 << 18) ? 1 : omp_get_max_threads();
    int64_t ICB = (g.MP + MCP - 1) / MCP; /* A blocks */
    g.split = 1;                          /* B ranges per block: enough items for every thread */
    while (ICB * g.split < 4 * nt && g.split * 2 <= g.ncp) g.split *= 2;
    g.items = ICB * g.split;
    g.init0 = acc ? 1 : bias ? 2 : 0;
    /* a large output written once (one pass over K, no +=) goes around the caches: nothing will
       read it before it has left them anyway (the logits at a 50k vocabulary: 50 to 400 MB) */
    g.stream = g.init0 != 1 && g.Kp <= KC && M * N >= STREAM_FLOATS && (uintptr_t)C % 64 == 0 && ldc % 16 == 0;
    if (nt > 1) run_parallel(&g, nt);
    else run_serial(&g);
}

void lms_gemm_bf16(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, int64_t ldb, const float *bias, int acc, float *C, int64_t ldc) {
    gemm(ta, tb, M, N, K, A, lda, B, ldb, NULL, bias, acc, C, ldc);
}

int64_t lms_gemm_bf16_packed_b_words(int64_t N, int64_t K) { return rup(N, NR) * ((K + 1) / 2); }

void lms_gemm_bf16_pack_b(uint32_t *dst, int tb, const float *B, int64_t ldb, int64_t N, int64_t K) {
    int64_t NP = (N + NR - 1) / NR, Kp = (K + 1) / 2;
    if (N <= 0 || K <= 0) return;
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && N * K >= (1 << 16))
    for (int64_t jp = 0; jp < NP; jp++) pack_b(dst + jp * NR * Kp, tb, B, ldb, N, jp, 1, 0, K);
}

void lms_gemm_bf16_packed(int ta, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint32_t *Bw,
                          const float *bias, int acc, float *C, int64_t ldc) {
    gemm(ta, 0, M, N, K, A, lda, NULL, 0, Bw, bias, acc, C, ldc);
}

/* ---- a weight's two packed forms, written by the optimizer step (contract in gemm_bf16.h) ----
   W[R,Cc] is walked in blocks of WB_ROWS whole rows (half a panel of B = Wᵀ): the block's AdamW
   update, then both packings of the block while its updated values are still in L2 (the block's
   four AdamW arrays are 4 x 192 KiB at Cc 3072), instead of a second pass over W from memory.
   Whole rows keep AdamW's four streams long: blocks of 32 rows x 512 columns (128 short streams)
   made the update alone 1.8x slower. The packs are written with non-temporal stores (they are
   read in the next forward, long after they have left the caches). */
enum { WB_ROWS = 16 };

int64_t lms_bf16_wpack_words(int64_t R, int64_t Cc) {
    return rup(lms_gemm_bf16_packed_b_words(Cc, R), 16) + lms_gemm_bf16_packed_b_words(R, Cc);
}

const uint32_t *lms_bf16_wpack_b(const uint32_t *wp, int64_t R, int64_t Cc, int tb) {
    return tb ? wp + rup(lms_gemm_bf16_packed_b_words(Cc, R), 16) : wp;
}

void lms_bf16_adamw_wpack(uint32_t *wp, float *p, const float *g, float *m, float *v, int64_t R, int64_t Cc,
                          const lms_bf16_adamw_args *a) {
    if (R <= 0 || Cc <= 0) return;
    uint32_t *P1 = wp, *P2 = wp + rup(lms_gemm_bf16_packed_b_words(Cc, R), 16); /* B = W, B = Wᵀ */
    int64_t Kp1 = (R + 1) / 2, Kp2 = (Cc + 1) / 2;
    int64_t nrb = (R + WB_ROWS - 1) / WB_ROWS;
#pragma omp parallel if (!omp_in_parallel() && R * Cc >= (1 << 16))
    {
#pragma omp for schedule(static) nowait
    for (int64_t rb = 0; rb < nrb; rb++) {
        int64_t r0 = rb * WB_ROWS, rn = R - r0 < WB_ROWS ? R - r0 : WB_ROWS;
        float *w = p + r0 * Cc;
        if (a) {
            int64_t o = r0 * Cc;
            a->chunk(w, g + o, m + o, v + o, rn * Cc, a->lr, a->b1, a->b2, a->eps, a->wd, a->bc1, a->bc2);
        }
        /* B = W (K = R, N = Cc): the block's pairs of rows in every 32-column panel */
        pack_panels(P1 + (r0 / 2) * NR, NR, (int)((Cc + NR - 1) / NR), NR * Kp1, w, Cc, 1, Cc, rn, 1.0f, 1);
        /* B = Wᵀ (K = Cc, N = R): the block's rows are words [r0 % 32, +16) of each pair of panel r0 / 32;
           a last panel's rows past R are zeros, written with the block before them */
        uint32_t *d2 = P2 + (r0 / NR) * NR * Kp2 + r0 % NR;
        pack_group16(d2, NR, 0xFFFF, w, Cc, (int)rn, Cc, 1.0f, 1);
        if (r0 % NR == 0 && r0 + WB_ROWS >= R) /* the panel's second half is past R */
            pack_group16(d2 + 16, NR, 0xFFFF, w, Cc, 0, Cc, 1.0f, 1);
    }
    _mm_sfence(); /* this thread's streamed packs are visible before the region's closing barrier */
    }
}

/* ---- causal attention with bf16 products (contract in gemm_bf16.h) ------------------------
   Per (sequence, head), the thread packs K and V once in the two layouts its products need,
   then for each block of ARB query rows packs that block's operands and runs the microkernel
   over them directly: the same blocking as the fp32 ops (kernels/fast.c), so the scores of keys
   past the block's last row are never computed. */
enum { ARB = 64 };

/* C[M,N] (+)= A·B over Kp pairs, A in 12-row panels (astride pairs each), B in 32-column panels
   (bstride pairs each); acc: add to C, else overwrite */
static void mm_packed(int64_t M, int64_t N, int64_t Kp, const uint32_t *Ap, int64_t astride, const uint32_t *Bp,
                      int64_t bstride, float *C, int64_t ldc, int acc) {
    for (int64_t jp = 0; jp * NR < N; jp++) {
        int nr = (int)(N - jp * NR < NR ? N - jp * NR : NR);
        for (int64_t ip = 0; ip * MR < M; ip++) {
            int mr = (int)(M - ip * MR < MR ? M - ip * MR : MR);
            for (int64_t pc = 0; pc < Kp; pc += KC) {
                int64_t kc = Kp - pc < KC ? Kp - pc : KC;
                ukr(kc, Ap + ip * MR * astride + pc * MR, Bp + jp * NR * bstride + pc * NR, C + ip * MR * ldc + jp * NR,
                    ldc, mr, nr, acc || pc > 0 ? 1 : 0, NULL, 0, NULL);
            }
        }
    }
}

/* words of one thread's packing space at (T, hs) */
static int64_t att_words(int64_t T, int64_t hs) {
    int64_t kh = (hs + 1) / 2, kt = (T + 1) / 2, kr = (ARB + 1) / 2;
    int64_t keys = rup(T, NR) * kh, vals = rup(hs, NR) * kt;        /* K or V as B: by key, by value */
    int64_t rowa = rup(ARB, MR) * (kh > kt ? kh : kt);               /* a block's rows as A */
    int64_t cola = rup(T, MR) * kr, rowb = rup(hs, NR) * kr;         /* a block transposed as A, rows as B */
    return rup(2 * keys + 2 * vals + rowa + cola + rowb + 16 * 8, 16);
}

/* one head's x (T rows of hs, row stride ld) as a B operand: by key, B(d, key) = x[key, d] (the
   scores' kᵀ, dA's vᵀ); by value, B(key, d) = x[key, d] (the values of P·v, the keys of dS·k) */
static void pack_by_key(uint32_t *dst, const float *x, int64_t ld, int64_t T, int64_t hs) {
    pack_b(dst, 1, x, ld, T, 0, (int)((T + NR - 1) / NR), 0, hs);
}
static void pack_by_value(uint32_t *dst, const float *x, int64_t ld, int64_t T, int64_t hs) {
    pack_b(dst, 0, x, ld, hs, 0, (int)((hs + NR - 1) / NR), 0, T);
}

/* carve n words (64-byte aligned) off *at */
static uint32_t *take(uint32_t **at, int64_t n) {
    uint32_t *p = *at;
    *at += rup(n, 16);
    return p;
}

/* The space for nthreads threads at (T, hs), from the calling thread's packing buffer (the
   attention calls no product that would reuse it); NULL when it cannot be allocated */
static void *att_space(int64_t T, int64_t hs) {
    return pack_buffer((size_t)att_words(T, hs) * (size_t)omp_get_max_threads() * 4);
}

/* The calling thread's share of scratch: one head's operand by key and by value, a block's rows as
   A; returns where the rest of the share starts */
static uint32_t *head_space(void *scratch, int64_t T, int64_t hs, uint32_t **bykey, uint32_t **byval, uint32_t **rows) {
    int64_t kh = (hs + 1) / 2, kt = (T + 1) / 2;
    uint32_t *at = (uint32_t *)scratch + (int64_t)omp_get_thread_num() * att_words(T, hs);
    *bykey = take(&at, rup(T, NR) * kh);
    *byval = take(&at, rup(hs, NR) * kt);
    *rows = take(&at, rup(ARB, MR) * (kh > kt ? kh : kt));
    return at;
}

int lms_attention_bf16_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH,
                           void (*softmax_row)(float *p, int64_t len, int64_t T)) {
    int64_t hs = C / NH, C3 = 3 * C, kh = (hs + 1) / 2, kt = (T + 1) / 2;
    void *scratch = att_space(T, hs);
    if (!scratch) return 0;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(dynamic, 1) if (B * NH > 1)
    for (int64_t bh = 0; bh < B * NH; bh++) {
        uint32_t *Kb, *Vb, *Ra;
        head_space(scratch, T, hs, &Kb, &Vb, &Ra);
        int64_t b = bh / NH, h = bh % NH;
        const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
        float *a = att + bh * T * T, *o = out + b * T * C + h * hs;
        pack_by_key(Kb, k, C3, T, hs);
        pack_by_value(Vb, v, C3, T, hs);
        for (int64_t r0 = 0; r0 < T; r0 += ARB) {
            int64_t r1 = r0 + ARB < T ? r0 + ARB : T, m = r1 - r0, mp = (m + MR - 1) / MR;
            /* scores: (q·scale) · kᵀ, the scale applied before rounding (exact for a power-of-4 head size) */
            pack_a_scaled(Ra, 0, q + r0 * C3, C3, m, 0, (int)mp, 0, hs, scale);
            mm_packed(m, r1, kh, Ra, kh, Kb, kh, a + r0 * T, T, 0);
            for (int64_t r = r0; r < r1; r++) softmax_row(a + r * T, r + 1, T);
            pack_a(Ra, 0, a + r0 * T, T, m, 0, (int)mp, 0, r1);
            mm_packed(m, hs, (r1 + 1) / 2, Ra, (r1 + 1) / 2, Vb, kt, o + r0 * C, C, 0);
        }
    }
    return 1;
}

int lms_attention_bf16_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                           int64_t B, int64_t T, int64_t C, int64_t NH,
                           void (*softmax_bwd_row)(float *d, const float *p, int64_t len, int64_t zero_to)) {
    int64_t hs = C / NH, C3 = 3 * C, kh = (hs + 1) / 2, kt = (T + 1) / 2;
    void *scratch = att_space(T, hs);
    if (!scratch) return 0;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(dynamic, 1) if (B * NH > 1)
    for (int64_t bh = 0; bh < B * NH; bh++) {
        uint32_t *Vt, *Kn, *Ra, *at = head_space(scratch, T, hs, &Vt, &Kn, &Ra);
        uint32_t *Ca = take(&at, rup(T, MR) * ((ARB + 1) / 2)), *Rb = take(&at, rup(hs, NR) * ((ARB + 1) / 2));
        int64_t b = bh / NH, h = bh % NH;
        const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
        float *dq = dqkv + b * T * C3 + h * hs, *dk = dq + C, *dv = dq + 2 * C;
        const float *a = att + bh * T * T, *dO = dout + b * T * C + h * hs;
        float *da = datt + bh * T * T;
        pack_by_key(Vt, v, C3, T, hs);
        pack_by_value(Kn, k, C3, T, hs);
        for (int64_t r0 = 0; r0 < T; r0 += ARB) {
            int64_t r1 = r0 + ARB < T ? r0 + ARB : T, m = r1 - r0, mp = (m + MR - 1) / MR, kr = (m + 1) / 2;
            int64_t rp = (r1 + MR - 1) / MR, hp = (hs + NR - 1) / NR;
            /* dA[r0:r1, 0:r1] = dO · vᵀ */
            pack_a(Ra, 0, dO + r0 * C, C, m, 0, (int)mp, 0, hs);
            mm_packed(m, r1, kh, Ra, kh, Vt, kh, da + r0 * T, T, 0);
            /* dv[0:r1] += aᵀ · dO (this block's rows) */
            pack_a(Ca, 1, a + r0 * T, T, r1, 0, (int)rp, 0, m);
            pack_b(Rb, 0, dO + r0 * C, C, hs, 0, (int)hp, 0, m);
            mm_packed(r1, hs, kr, Ca, kr, Rb, kr, dv, C3, 1);
            for (int64_t r = r0; r < r1; r++) softmax_bwd_row(da + r * T, a + r * T, r + 1, r1);
            /* dq[r0:r1] += (dS·scale) · k;  dk[0:r1] += (dS·scale)ᵀ · q */
            pack_a_scaled(Ra, 0, da + r0 * T, T, m, 0, (int)mp, 0, r1, scale);
            mm_packed(m, hs, (r1 + 1) / 2, Ra, (r1 + 1) / 2, Kn, kt, dq + r0 * C3, C3, 1);
            pack_a_scaled(Ca, 1, da + r0 * T, T, r1, 0, (int)rp, 0, m, scale);
            pack_b(Rb, 0, q + r0 * C3, C3, hs, 0, (int)hp, 0, m);
            mm_packed(r1, hs, kr, Ca, kr, Rb, kr, dk, C3, 1);
        }
    }
    return 1;
}

#else /* built without AVX512-BF16 */

int lms_gemm_bf16_built(void) { return 0; }

void lms_gemm_bf16(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, int64_t ldb, const float *bias, int acc, float *C, int64_t ldc) {
    (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)bias, (void)acc;
    (void)C, (void)ldc;
    abort(); /* broken invariant: lms_ops_bf16() is NULL in this build, so nothing can get here */
}
int64_t lms_gemm_bf16_packed_b_words(int64_t N, int64_t K) {
    (void)N, (void)K;
    abort(); /* as above */
}
void lms_gemm_bf16_pack_b(uint32_t *dst, int tb, const float *B, int64_t ldb, int64_t N, int64_t K) {
    (void)dst, (void)tb, (void)B, (void)ldb, (void)N, (void)K;
    abort(); /* as above */
}
void lms_gemm_bf16_packed(int ta, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint32_t *Bw,
                          const float *bias, int acc, float *C, int64_t ldc) {
    (void)ta, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)Bw, (void)bias, (void)acc, (void)C, (void)ldc;
    abort(); /* as above */
}
int64_t lms_bf16_wpack_words(int64_t R, int64_t Cc) {
    (void)R, (void)Cc;
    abort(); /* as above */
}
const uint32_t *lms_bf16_wpack_b(const uint32_t *wp, int64_t R, int64_t Cc, int tb) {
    (void)wp, (void)R, (void)Cc, (void)tb;
    abort(); /* as above */
}
void lms_bf16_adamw_wpack(uint32_t *wp, float *p, const float *g, float *m, float *v, int64_t R, int64_t Cc,
                          const lms_bf16_adamw_args *a) {
    (void)wp, (void)p, (void)g, (void)m, (void)v, (void)R, (void)Cc, (void)a;
    abort(); /* as above */
}
int lms_attention_bf16_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH,
                           void (*softmax_row)(float *p, int64_t len, int64_t T)) {
    (void)out, (void)att, (void)qkv, (void)B, (void)T, (void)C, (void)NH, (void)softmax_row;
    abort(); /* as above */
}
int lms_attention_bf16_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                           int64_t B, int64_t T, int64_t C, int64_t NH,
                           void (*softmax_bwd_row)(float *d, const float *p, int64_t len, int64_t zero_to)) {
    (void)dqkv, (void)datt, (void)dout, (void)qkv, (void)att, (void)B, (void)T, (void)C, (void)NH;
    (void)softmax_bwd_row;
    abort(); /* as above */
}

#endif
