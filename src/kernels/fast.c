/* fast.c — the optimized kernel tables: OpenBLAS sgemm for the matrix products (attention included,
 * one small single-threaded sgemm per head and row block so that the causal upper triangle is
 * mostly skipped; the output layer of narrow models, C <= 128, fused with cross-entropy on the
 * AVX-512 table's own register tiles), OpenMP over rows / heads / column blocks, and per-thread
 * inner loops from fast_chunks.h. The same ops make two tables: "generic+openblas" on the
 * portable inner loops below (what a CPU without AVX-512 runs; always built, so it is tested on
 * every machine) and "avx512+openblas" on fast_avx512.c's. Their decoding ops are the chunks themselves; the memory
 * fields are the host's (host.h).
 *
 * Determinism: for a given thread count every op gives bit-identical results run after run. Row
 * ops are independent per row; parameter-gradient reductions (layernorm dw/db, bias grads, wte/wpe
 * grads) split the work by COLUMNS and sum over rows in row order, so they need no per-thread
 * partials, match the reference's order and do not even depend on the thread count. Large sgemms
 * are cut into one block per thread (par_sgemm), whose boundaries depend on the thread count.
 *
 * OpenBLAS (the OpenMP build) runs single-threaded when called inside an OpenMP parallel region,
 * which is what the per-head attention calls and par_sgemm's blocks rely on.
 *
 * Leaves out: the reference ops (ref.c), the ISA-specific loops (fast_avx512.c).
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "kernels/fast_chunks.h"
#include "kernels/host.h"
#include "kernels/kernels.h"

/* ---------------------------------------------------------------- portable inner loops */

static void g_ln_fwd(float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, int64_t n, int64_t C) {
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * C;
        float s = 0.0f;
        for (int64_t c = 0; c < C; c++) s += xi[c];
        float m = s / (float)C;
        float v = 0.0f;
        for (int64_t c = 0; c < C; c++) v += (xi[c] - m) * (xi[c] - m);
        float r = 1.0f / sqrtf(v / (float)C + 1e-5f);
        float *oi = out + i * C;
        for (int64_t c = 0; c < C; c++) oi[c] = (xi[c] - m) * r * w[c] + b[c];
        mean[i] = m;
        rstd[i] = r;
    }
}

static void g_ln_bwd_dx(float *dx, const float *dout, const float *x, const float *w,
                        const float *mean, const float *rstd, int64_t n, int64_t C) {
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * C, *di = dout + i * C;
        float m = mean[i], r = rstd[i], a = 0.0f, bsum = 0.0f;
        for (int64_t c = 0; c < C; c++) {
            float dn = w[c] * di[c];
            a += dn;
            bsum += dn * (xi[c] - m) * r;
        }
        a /= (float)C;
        bsum /= (float)C;
        float *dxi = dx + i * C;
        for (int64_t c = 0; c < C; c++) {
            float nrm = (xi[c] - m) * r;
            dxi[c] += (w[c] * di[c] - a - nrm * bsum) * r;
        }
    }
}

static void g_ln_bwd_dwdb(float *dw, float *db, const float *dout, const float *x,
                          const float *mean, const float *rstd, int64_t N, int64_t C, int64_t c0,
                          int64_t c1) {
    for (int64_t i = 0; i < N; i++) {
        const float *xi = x + i * C, *di = dout + i * C;
        float m = mean[i], r = rstd[i];
        for (int64_t c = c0; c < c1; c++) {
            dw[c] += (xi[c] - m) * r * di[c];
            db[c] += di[c];
        }
    }
}

static void g_colsum(float *db, const float *dout, int64_t N, int64_t OC, int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < N; i++)
        for (int64_t c = c0; c < c1; c++) db[c] += dout[i * OC + c];
}

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

/* 0.5(1 + tanh(u)) = 1/(1 + e^{-2u}): the sigmoid form keeps relative accuracy in both tails */
static void g_gelu_fwd(float *out, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float e = expf(-2.0f * GELU_K * (v + 0.044715f * v * v * v));
        out[i] = v / (1.0f + e);
    }
}

static void g_gelu_bwd(float *dx, const float *x, const float *dout, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float e = expf(-2.0f * GELU_K * (v + 0.044715f * v * v * v));
        float s = 1.0f / (1.0f + e), oms = e * s;
        float g = s + 2.0f * v * s * oms * GELU_K * (1.0f + 3.0f * 0.044715f * v * v);
        dx[i] += g * dout[i];
    }
}

static void g_add(float *out, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

static void g_copy_rows_bias(float *out, const float *bias, int64_t n, int64_t OC) {
    for (int64_t i = 0; i < n; i++) memcpy(out + i * OC, bias, (size_t)OC * sizeof(float));
}

static void g_softmax_row(float *p, int64_t len, int64_t T) {
    float mx = -INFINITY;
    for (int64_t c = 0; c < len; c++) mx = p[c] > mx ? p[c] : mx;
    float s = 0.0f;
    for (int64_t c = 0; c < len; c++) {
        p[c] = expf(p[c] - mx);
        s += p[c];
    }
    float inv = 1.0f / s;
    for (int64_t c = 0; c < len; c++) p[c] *= inv;
    for (int64_t c = len; c < T; c++) p[c] = 0.0f;
}

static void g_softmax_bwd_row(float *d, const float *p, int64_t len, int64_t zero_to) {
    float s = 0.0f;
    for (int64_t c = 0; c < len; c++) s += p[c] * d[c];
    for (int64_t c = 0; c < len; c++) d[c] = p[c] * (d[c] - s);
    for (int64_t c = len; c < zero_to; c++) d[c] = 0.0f;
}

static float g_xent_row_fwd(const float *lg, int64_t V, int32_t target) {
    if (target < 0) return 0.0f;
    float mx = -INFINITY;
    for (int64_t c = 0; c < V; c++) mx = lg[c] > mx ? lg[c] : mx;
    float s = 0.0f;
    for (int64_t c = 0; c < V; c++) s += expf(lg[c] - mx);
    return logf(s) - (lg[target] - mx);
}

static float g_xent_row(float *lg, int64_t V, int32_t target, float dloss) {
    if (target < 0) {
        memset(lg, 0, (size_t)V * sizeof(float));
        return 0.0f;
    }
    float mx = -INFINITY;
    for (int64_t c = 0; c < V; c++) mx = lg[c] > mx ? lg[c] : mx;
    float xt = lg[target];
    float s = 0.0f;
    for (int64_t c = 0; c < V; c++) {
        lg[c] = expf(lg[c] - mx);
        s += lg[c];
    }
    float sc = dloss / s;
    for (int64_t c = 0; c < V; c++) lg[c] *= sc;
    lg[target] -= dloss;
    return logf(s) - (xt - mx);
}

static void g_adamw(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                    float b2, float eps, float wd, float bc1, float bc2) {
    for (int64_t i = 0; i < n; i++) {
        float mi = b1 * m[i] + (1.0f - b1) * g[i];
        float vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        float mh = mi / bc1, vh = vi / bc2;
        p[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * p[i]);
    }
}

static void g_gemv_in_out(float *out, const float *x, const float *W, const float *bias, int64_t C,
                          int64_t OC, int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j++) out[j] = bias ? bias[j] : 0.0f;
    for (int64_t i = 0; i < C; i++) {
        float xi = x[i];
        const float *wr = W + i * OC;
        for (int64_t j = j0; j < j1; j++) out[j] += xi * wr[j];
    }
}

static void g_gemv_in_out_bf16(float *out, const float *x, const uint16_t *W, const float *bias,
                               int64_t C, int64_t OC, int64_t j0, int64_t j1) {
    int64_t np = lms_bf16_row(OC);
    for (int64_t j = j0; j < j1; j++) out[j] = bias ? bias[j] : 0.0f;
    for (int64_t i = 0; i < C; i++) {
        float xi = x[i];
        for (int64_t j = j0; j < j1; j++) out[j] += xi * lms_bf16_packed_at(W + i * np, j);
    }
}

static void g_gemv_out_in_bf16(float *out, const float *x, const uint16_t *W, int64_t C, int64_t r0,
                               int64_t r1) {
    int64_t np = lms_bf16_row(C);
    for (int64_t r = r0; r < r1; r++) {
        float s = 0.0f;
        for (int64_t i = 0; i < C; i++) s += lms_bf16_packed_at(W + r * np, i) * x[i];
        out[r] = s;
    }
}

static float g_dot(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void g_gemv_out_in(float *out, const float *x, const float *W, int64_t C, int64_t r0,
                          int64_t r1) {
    for (int64_t r = r0; r < r1; r++) out[r] = g_dot(W + r * C, x, C);
}

static void g_axpy(float *y, float a, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static float g_xent_row_lse(const float *lg, int64_t V, int32_t target, float *lse) {
    if (target < 0) {
        *lse = 0.0f;
        return 0.0f;
    }
    float mx = -INFINITY;
    for (int64_t c = 0; c < V; c++) mx = lg[c] > mx ? lg[c] : mx;
    float s = 0.0f;
    for (int64_t c = 0; c < V; c++) s += expf(lg[c] - mx);
    float ls = logf(s);
    *lse = mx + ls;
    return ls - (lg[target] - mx);
}

static void g_xent_row_grad(float *lg, int64_t V, int32_t target, float lse, float dloss) {
    if (target < 0) {
        memset(lg, 0, (size_t)V * sizeof(float));
        return;
    }
    for (int64_t c = 0; c < V; c++) lg[c] = expf(lg[c] - lse) * dloss;
    lg[target] -= dloss;
}

static const lms_fast_chunks g_generic = {
    "generic",     g_ln_fwd,      g_ln_bwd_dx,       g_ln_bwd_dwdb, g_colsum,
    g_gelu_fwd,    g_gelu_bwd,    g_add,             g_copy_rows_bias,
    g_softmax_row, g_softmax_bwd_row, g_xent_row,   g_xent_row_fwd, g_adamw,
    g_gemv_in_out, g_gemv_out_in, g_gemv_in_out_bf16, g_gemv_out_in_bf16, g_dot, g_axpy,
    g_xent_row_lse, g_xent_row_grad, NULL, NULL, NULL,
};

const lms_fast_chunks *lms_fast_chunks_generic(void) { return &g_generic; }

/* ---------------------------------------------------------------- the op table */

/* Work below this many floats runs on one thread: a parallel region costs a few microseconds. */
#define PAR_MIN 16384

/* Column blocks for the reductions over rows: 64 columns (4 AVX-512 registers) per block. */
#define COLBLK 64

static void f_encoder_fwd(const lms_fast_chunks *k, float *out, const int32_t *tok, const float *wte,
                          const float *wpe, int64_t B, int64_t T, int64_t C) {
#pragma omp parallel for schedule(static) if (B * T * C >= PAR_MIN)
    for (int64_t n = 0; n < B * T; n++) k->add(out + n * C, wte + (int64_t)tok[n] * C, wpe + (n % T) * C, C);
}

static void f_encoder_bwd(float *dwte, float *dwpe, const float *dout, const int32_t *tok,
                          int64_t B, int64_t T, int64_t C) {
    /* dwpe: rows t are independent; sum over b in order */
#pragma omp parallel for schedule(static) if (B * T * C >= PAR_MIN)
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++) {
            const float *d = dout + (b * T + t) * C;
            float *w = dwpe + t * C;
            for (int64_t c = 0; c < C; c++) w[c] += d[c];
        }
    /* dwte: a token may repeat, so split by column blocks; every block scans rows in order */
    int64_t nblk = (C + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (B * T * C >= PAR_MIN && nblk > 1)
    for (int64_t cb = 0; cb < nblk; cb++) {
        int64_t c0 = cb * COLBLK, c1 = c0 + COLBLK < C ? c0 + COLBLK : C;
        for (int64_t n = 0; n < B * T; n++) {
            const float *d = dout + n * C;
            float *w = dwte + (int64_t)tok[n] * C;
            for (int64_t c = c0; c < c1; c++) w[c] += d[c];
        }
    }
}

static void f_layernorm_fwd(const lms_fast_chunks *k, float *out, float *mean, float *rstd, const float *x,
                            const float *w, const float *b, int64_t N, int64_t C) {
#pragma omp parallel for schedule(static) if (N * C >= PAR_MIN)
    for (int64_t n = 0; n < N; n++) k->ln_fwd(out + n * C, mean + n, rstd + n, x + n * C, w, b, 1, C);
}

static void f_layernorm_bwd(const lms_fast_chunks *k, float *dx, float *dw, float *db, const float *dout,
                            const float *x, const float *w, const float *mean, const float *rstd, int64_t N,
                            int64_t C) {
    int64_t nblk = (C + COLBLK - 1) / COLBLK;
    int par = N * C >= PAR_MIN;
#pragma omp parallel if (par)
    {
#pragma omp for schedule(static) nowait
        for (int64_t n = 0; n < N; n++)
            k->ln_bwd_dx(dx + n * C, dout + n * C, x + n * C, w, mean + n, rstd + n, 1, C);
#pragma omp for schedule(static)
        for (int64_t cb = 0; cb < nblk; cb++) {
            int64_t c0 = cb * COLBLK, c1 = c0 + COLBLK < C ? c0 + COLBLK : C;
            k->ln_bwd_dwdb(dw, db, dout, x, mean, rstd, N, C, c0, c1);
        }
    }
}

/* C[M,N] = alpha op(A)·op(B) + beta C, row-major, cut into one block per thread along the larger
   of M and N (so the smaller operand is the one every thread reads in full); each block is a
   single-threaded OpenBLAS call inside our parallel region. Unlike OpenBLAS's own threading, the
   threads never wait for each other inside the product (one join at the end), which matters when
   other processes share the cores. Results are fixed for a given thread count (the block
   boundaries depend on it). LMS_SGEMM_SPLIT=0 in the environment hands the threading back to
   OpenBLAS, for comparison. Small products run on one thread. */
static int g_split = 1; /* set once by fast_init from LMS_SGEMM_SPLIT */
static void par_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                      int64_t lda, const float *B, int64_t ldb, float beta, float *Cm, int64_t ldc) {
    int nt = omp_get_max_threads();
    if (!g_split || nt == 1 || M * N * K < (int64_t)1 << 21 || omp_in_parallel()) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                    (int)K, alpha, A, (int)lda, B, (int)ldb, beta, Cm, (int)ldc);
        return;
    }
    int splitM = M >= N;
    int64_t D = splitM ? M : N, per = ((D + nt - 1) / nt + 15) / 16 * 16;
#pragma omp parallel num_threads(nt)
    {
        int64_t d0 = (int64_t)omp_get_thread_num() * per, d1 = d0 + per < D ? d0 + per : D;
        if (d0 < d1) {
            if (splitM)
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                            (int)(d1 - d0), (int)N, (int)K, alpha, ta ? A + d0 : A + d0 * lda, (int)lda, B,
                            (int)ldb, beta, Cm + d0 * ldc, (int)ldc);
            else
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M,
                            (int)(d1 - d0), (int)K, alpha, A, (int)lda, tb ? B + d0 * ldb : B + d0, (int)ldb,
                            beta, Cm + d0, (int)ldc);
        }
    }
}

static void f_matmul_fwd(const lms_fast_chunks *k, float *out, const float *inp, const float *w,
                         const float *bias, int64_t N, int64_t C, int64_t OC, lms_wlayout layout) {
    float beta = 0.0f;
    if (bias) {
#pragma omp parallel for schedule(static) if (N * OC >= PAR_MIN)
        for (int64_t n = 0; n < N; n++) k->copy_rows_bias(out + n * OC, bias, 1, OC);
        beta = 1.0f;
    }
    if (layout == LMS_W_IN_OUT)
        par_sgemm(0, 0, N, OC, C, 1.0f, inp, C, w, OC, beta, out, OC);
    else
        par_sgemm(0, 1, N, OC, C, 1.0f, inp, C, w, C, beta, out, OC);
}

static void f_matmul_bwd(const lms_fast_chunks *k, float *dinp, float *dw, float *dbias, const float *dout,
                         const float *inp, const float *w, int64_t N, int64_t C, int64_t OC,
                         lms_wlayout layout, int dw_acc) {
    const float dw_beta = dw_acc ? 1.0f : 0.0f;
    if (layout == LMS_W_IN_OUT) {
        if (dinp) /* dinp[N,C] += dout[N,OC] · W[C,OC]ᵀ */
            par_sgemm(0, 1, N, C, OC, 1.0f, dout, OC, w, OC, 1.0f, dinp, C);
        /* dW[C,OC] += inpᵀ · dout */
        if (dw)
            par_sgemm(1, 0, C, OC, N, 1.0f, inp, C, dout, OC, dw_beta, dw, OC);
    } else {
        if (dinp) /* dinp[N,C] += dout[N,OC] · W[OC,C] */
            par_sgemm(0, 0, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
        /* dW[OC,C] += doutᵀ · inp */
        if (dw)
            par_sgemm(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, dw_beta, dw, C);
    }
    if (dbias) {
        int64_t nblk = (OC + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (N * OC >= PAR_MIN && nblk > 1)
        for (int64_t cb = 0; cb < nblk; cb++) {
            int64_t c0 = cb * COLBLK, c1 = c0 + COLBLK < OC ? c0 + COLBLK : OC;
            k->colsum(dbias, dout, N, OC, c0, c1);
        }
    }
}

/* Causal attention works in row blocks of RB query rows: block [r0,r1) only needs keys 0..r1,
   so about half the T x T work is skipped (all but the diagonal blocks' upper halves). */
#define RB 64

static void f_attention_fwd(const lms_fast_chunks *k, float *out, float *att, const float *qkv, int64_t B,
                            int64_t T, int64_t C, int64_t NH) {
    int64_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(dynamic, 1) if (B * NH > 1 && B * T * C >= PAR_MIN)
    for (int64_t bh = 0; bh < B * NH; bh++) {
        int64_t b = bh / NH, h = bh % NH;
        const float *q = qkv + b * T * C3 + h * hs, *kk = q + C, *v = q + 2 * C;
        float *a = att + bh * T * T, *o = out + b * T * C + h * hs;
        for (int64_t r0 = 0; r0 < T; r0 += RB) {
            int64_t r1 = r0 + RB < T ? r0 + RB : T, m = r1 - r0;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)r1, (int)hs, scale,
                        q + r0 * C3, (int)C3, kk, (int)C3, 0.0f, a + r0 * T, (int)T);
            for (int64_t r = r0; r < r1; r++) k->softmax_row(a + r * T, r + 1, T);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)hs, (int)r1, 1.0f,
                        a + r0 * T, (int)T, v, (int)C3, 0.0f, o + r0 * C, (int)C);
        }
    }
}

static void f_attention_bwd(const lms_fast_chunks *k, float *dqkv, float *datt, const float *dout,
                            const float *qkv, const float *att, int64_t B, int64_t T, int64_t C, int64_t NH) {
    int64_t hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(dynamic, 1) if (B * NH > 1 && B * T * C >= PAR_MIN)
    for (int64_t bh = 0; bh < B * NH; bh++) {
        int64_t b = bh / NH, h = bh % NH;
        const float *q = qkv + b * T * C3 + h * hs, *kk = q + C, *v = q + 2 * C;
        float *dq = dqkv + b * T * C3 + h * hs, *dk = dq + C, *dv = dq + 2 * C;
        const float *a = att + bh * T * T, *dO = dout + b * T * C + h * hs;
        float *da = datt + bh * T * T;
        for (int64_t r0 = 0; r0 < T; r0 += RB) {
            int64_t r1 = r0 + RB < T ? r0 + RB : T, m = r1 - r0;
            /* dA[r0:r1, 0:r1] = dO · Vᵀ */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)r1, (int)hs, 1.0f,
                        dO + r0 * C, (int)C, v, (int)C3, 0.0f, da + r0 * T, (int)T);
            /* dV[0:r1] += Aᵀ · dO */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r1, (int)hs, (int)m, 1.0f,
                        a + r0 * T, (int)T, dO + r0 * C, (int)C, 1.0f, dv, (int)C3);
            for (int64_t r = r0; r < r1; r++) k->softmax_bwd_row(da + r * T, a + r * T, r + 1, r1);
            /* dQ[r0:r1] += scale dS · K;  dK[0:r1] += scale dSᵀ · Q */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)hs, (int)r1, scale,
                        da + r0 * T, (int)T, kk, (int)C3, 1.0f, dq + r0 * C3, (int)C3);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r1, (int)hs, (int)m, scale,
                        da + r0 * T, (int)T, q + r0 * C3, (int)C3, 1.0f, dk, (int)C3);
        }
    }
}

static void f_gelu_fwd(const lms_fast_chunks *k, float *out, const float *x, int64_t N) {
    int64_t nch = (N + 4095) / 4096;
#pragma omp parallel for schedule(static) if (N >= PAR_MIN)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t i0 = ch * 4096, n = i0 + 4096 < N ? 4096 : N - i0;
        k->gelu_fwd(out + i0, x + i0, n);
    }
}

static void f_gelu_bwd(const lms_fast_chunks *k, float *dx, const float *x, const float *dout, int64_t N) {
    int64_t nch = (N + 4095) / 4096;
#pragma omp parallel for schedule(static) if (N >= PAR_MIN)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t i0 = ch * 4096, n = i0 + 4096 < N ? 4096 : N - i0;
        k->gelu_bwd(dx + i0, x + i0, dout + i0, n);
    }
}

static void f_residual_fwd(const lms_fast_chunks *k, float *out, const float *a, const float *b, int64_t N) {
    int64_t nch = (N + 4095) / 4096;
#pragma omp parallel for schedule(static) if (N >= PAR_MIN)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t i0 = ch * 4096, n = i0 + 4096 < N ? 4096 : N - i0;
        k->add(out + i0, a + i0, b + i0, n);
    }
}

static void f_xent_fwd_bwd(const lms_fast_chunks *k, float *losses, float *logits, const int32_t *targets,
                           int64_t N, int64_t V, float dloss) {
#pragma omp parallel for schedule(static) if (N * V >= PAR_MIN)
    for (int64_t n = 0; n < N; n++) losses[n] = k->xent_row(logits + n * V, V, targets[n], dloss);
}

static void f_xent_fwd(const lms_fast_chunks *k, float *losses, const float *logits, const int32_t *targets,
                       int64_t N, int64_t V) {
#pragma omp parallel for schedule(static) if (N * V >= PAR_MIN)
    for (int64_t n = 0; n < N; n++) losses[n] = k->xent_row_fwd(logits + n * V, V, targets[n]);
}

/* The fused output layer. Where the table has register-tiled products (AVX-512) and the width is
   small (C <= LMS_LMH_MAX_C), it works in blocks of rows small enough that a block's logits (rows
   x V floats, about 1 MB) stay in the core's L2 cache between the product that writes them and
   the cross-entropy that reads them (forward), or between the gradient that rewrites them and
   the product dx += dlogits · wte that consumes them (backward): one parallel region over
   blocks. Otherwise (wider models, where K = C is large enough for OpenBLAS; the portable table)
   the products are whole par_sgemms and only the cross-entropy passes are fused (loss and lse in
   one pass, the gradient from lse in one more). dwte, a reduction over all rows, is one par_sgemm
   over the finished dlogits in both (split by vocabulary rows: no per-thread partials). */
static int64_t lmh_rows(int64_t V) {
    int64_t r = ((int64_t)1 << 18) / (V > 0 ? V : 1);
    return r < 16 ? 16 : r > 128 ? 128 : r;
}

static void f_lmhead_xent_fwd(const lms_fast_chunks *k, float *logits, float *losses, float *lse, float *scratch,
                              const float *x, const float *wte, const int32_t *tg, int64_t N, int64_t C, int64_t V) {
    if (!(k->lmh_logits && scratch && C <= LMS_LMH_MAX_C)) {
        par_sgemm(0, 1, N, V, C, 1.0f, x, C, wte, C, 0.0f, logits, V);
#pragma omp parallel for schedule(static) if (N * V >= PAR_MIN)
        for (int64_t r = 0; r < N; r++) losses[r] = k->xent_row_lse(logits + r * V, V, tg[r], lse + r);
        return;
    }
    int64_t rb = lmh_rows(V), nblk = (N + rb - 1) / rb, npan = (V + LMS_LMH_PANEL - 1) / LMS_LMH_PANEL;
#pragma omp parallel if (N * V >= PAR_MIN)
    {
#pragma omp for schedule(static)
        for (int64_t p = 0; p < npan; p++) {
            int64_t v0 = p * LMS_LMH_PANEL;
            k->lmh_pack(scratch + v0 * C, wte + v0 * C, V - v0 < LMS_LMH_PANEL ? V - v0 : LMS_LMH_PANEL, C);
        }
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nblk; b++) {
            int64_t r0 = b * rb, m = r0 + rb < N ? rb : N - r0;
            k->lmh_logits(logits + r0 * V, V, x + r0 * C, m, C, scratch, V);
            for (int64_t r = r0; r < r0 + m; r++) losses[r] = k->xent_row_lse(logits + r * V, V, tg[r], lse + r);
        }
    }
}

static void f_lmhead_xent_bwd(const lms_fast_chunks *k, float *dx, float *dwte, float *logits, const float *lse,
                              const float *x, const float *wte, const int32_t *tg, int64_t N, int64_t C, int64_t V,
                              float dloss) {
    if (!(k->lmh_dx && C <= LMS_LMH_MAX_C)) {
#pragma omp parallel for schedule(static) if (N * V >= PAR_MIN)
        for (int64_t r = 0; r < N; r++) k->xent_row_grad(logits + r * V, V, tg[r], lse[r], dloss);
        par_sgemm(0, 0, N, C, V, 1.0f, logits, V, wte, C, 1.0f, dx, C);
    } else {
        int64_t rb = lmh_rows(V), nblk = (N + rb - 1) / rb;
#pragma omp parallel for schedule(static) if (nblk > 1 && N * V >= PAR_MIN)
        for (int64_t b = 0; b < nblk; b++) {
            int64_t r0 = b * rb, m = r0 + rb < N ? rb : N - r0;
            for (int64_t r = r0; r < r0 + m; r++) k->xent_row_grad(logits + r * V, V, tg[r], lse[r], dloss);
            k->lmh_dx(dx + r0 * C, logits + r0 * V, V, m, wte, V, C);
        }
    }
    par_sgemm(1, 0, V, C, N, 1.0f, logits, V, x, C, 1.0f, dwte, C);
}

static void f_adamw(const lms_fast_chunks *k, float *p, const float *g, float *m, float *v, int64_t n,
                    float lr, float b1, float b2, float eps, float wd, int64_t t) {
    float bc1 = (float)(1.0 - pow((double)b1, (double)t)), bc2 = (float)(1.0 - pow((double)b2, (double)t));
    const int64_t CH = 16384;
    int64_t nch = (n + CH - 1) / CH;
#pragma omp parallel for schedule(static) if (n >= 4 * PAR_MIN)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t i0 = ch * CH, len = i0 + CH < n ? CH : n - i0;
        k->adamw(p + i0, g + i0, m + i0, v + i0, len, lr, b1, b2, eps, wd, bc1, bc2);
    }
}

/* ---- shared by both tables: no inner loops of their own */

static float f_global_norm(const float *g, int64_t n) {
    if (n <= 0) return 0.0f;
    int64_t chunk = lms_norm_chunk(n), nchunks = (n + chunk - 1) / chunk;
    double part[LMS_NORM_MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t c = 0; c < nchunks; c++) {
        int64_t lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
        part[c] = lms_norm_chunk_sum(g, lo, hi);
    }
    double s = 0.0;
    for (int64_t c = 0; c < nchunks; c++) s += part[c];
    return (float)sqrt(s);
}

static void f_scale(float *x, float a, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

/* ---- decoding: one head of attention over the cache, from the chunks */

static void f_dec_attention(const lms_fast_chunks *k, float *y, float *att, const float *q, const float *kc,
                            const float *vc, int64_t n, int64_t hs, int64_t ld) {
    const float scale = 1.0f / sqrtf((float)hs);
    for (int64_t u = 0; u < n; u++) att[u] = k->dot(q, kc + u * ld, hs) * scale;
    k->softmax_row(att, n, n);
    memset(y, 0, (size_t)hs * sizeof(float));
    for (int64_t u = 0; u < n; u++) k->axpy(y, att[u], vc + u * ld, hs);
}

/* ---- the two tables. A table holds plain function pointers, so each op that runs chunks gets one
   small wrapper per table that passes that table's chunk set. */

static void set_ops(lms_ops *t, const char *name, const lms_fast_chunks *k) {
    *t = (lms_ops){.name = name, .caps = LMS_HOST_CAPS | LMS_BACKEND_BF16_DECODE, LMS_HOST_MEMORY_OPS};
    t->encoder_bwd = f_encoder_bwd;
    t->global_norm = f_global_norm;
    t->scale = f_scale;
    t->dec_layernorm = k->ln_fwd;
    t->dec_gemv_in_out = k->gemv_in_out;
    t->dec_gemv_out_in = k->gemv_out_in;
    t->dec_gelu = k->gelu_fwd;
    t->dec_add = k->add;
    t->dec_gemv_in_out_bf16 = k->gemv_in_out_bf16;
    t->dec_gemv_out_in_bf16 = k->gemv_out_in_bf16;
}

/* generic+openblas */

static void gen_encoder_fwd(float *out, const int32_t *tok, const float *wte, const float *wpe, int64_t B,
                            int64_t T, int64_t C) {
    f_encoder_fwd(&g_generic, out, tok, wte, wpe, B, T, C);
}
static void gen_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w,
                              const float *b, int64_t N, int64_t C) {
    f_layernorm_fwd(&g_generic, out, mean, rstd, x, w, b, N, C);
}
static void gen_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x,
                              const float *w, const float *mean, const float *rstd, int64_t N, int64_t C) {
    f_layernorm_bwd(&g_generic, dx, dw, db, dout, x, w, mean, rstd, N, C);
}
static void gen_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int64_t N,
                           int64_t C, int64_t OC, lms_wlayout layout) {
    f_matmul_fwd(&g_generic, out, inp, w, bias, N, C, OC, layout);
}
static void gen_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                           const float *w, int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc) {
    f_matmul_bwd(&g_generic, dinp, dw, dbias, dout, inp, w, N, C, OC, layout, dw_acc);
}
static void gen_attention_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C,
                              int64_t NH) {
    f_attention_fwd(&g_generic, out, att, qkv, B, T, C, NH);
}
static void gen_attention_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                              int64_t B, int64_t T, int64_t C, int64_t NH) {
    f_attention_bwd(&g_generic, dqkv, datt, dout, qkv, att, B, T, C, NH);
}
static void gen_gelu_fwd(float *out, const float *x, int64_t N) {
    f_gelu_fwd(&g_generic, out, x, N);
}
static void gen_gelu_bwd(float *dx, const float *x, const float *dout, int64_t N) {
    f_gelu_bwd(&g_generic, dx, x, dout, N);
}
static void gen_residual_fwd(float *out, const float *a, const float *b, int64_t N) {
    f_residual_fwd(&g_generic, out, a, b, N);
}
static void gen_xent_fwd_bwd(float *losses, float *logits, const int32_t *targets, int64_t N, int64_t V,
                             float dloss) {
    f_xent_fwd_bwd(&g_generic, losses, logits, targets, N, V, dloss);
}
static void gen_xent_fwd(float *losses, const float *logits, const int32_t *targets, int64_t N, int64_t V) {
    f_xent_fwd(&g_generic, losses, logits, targets, N, V);
}
static void gen_adamw(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2,
                      float eps, float wd, int64_t t) {
    f_adamw(&g_generic, p, g, m, v, n, lr, b1, b2, eps, wd, t);
}
static void gen_lmhead_xent_fwd(float *logits, float *losses, float *lse, float *scratch, const float *x,
                                const float *wte, const int32_t *tg, int64_t N, int64_t C, int64_t V) {
    f_lmhead_xent_fwd(&g_generic, logits, losses, lse, scratch, x, wte, tg, N, C, V);
}
static void gen_lmhead_xent_bwd(float *dx, float *dwte, float *logits, const float *lse, const float *x,
                                const float *wte, const int32_t *tg, int64_t N, int64_t C, int64_t V, float dloss) {
    f_lmhead_xent_bwd(&g_generic, dx, dwte, logits, lse, x, wte, tg, N, C, V, dloss);
}
static void gen_dec_attention(float *y, float *att, const float *q, const float *kc, const float *vc,
                              int64_t n, int64_t hs, int64_t ld) {
    f_dec_attention(&g_generic, y, att, q, kc, vc, n, hs, ld);
}

#ifndef LMS_NO_SIMD
/* avx512+openblas */

static void avx_encoder_fwd(float *out, const int32_t *tok, const float *wte, const float *wpe, int64_t B,
                            int64_t T, int64_t C) {
    f_encoder_fwd(lms_fast_chunks_avx512(), out, tok, wte, wpe, B, T, C);
}
static void avx_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w,
                              const float *b, int64_t N, int64_t C) {
    f_layernorm_fwd(lms_fast_chunks_avx512(), out, mean, rstd, x, w, b, N, C);
}
static void avx_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x,
                              const float *w, const float *mean, const float *rstd, int64_t N, int64_t C) {
    f_layernorm_bwd(lms_fast_chunks_avx512(), dx, dw, db, dout, x, w, mean, rstd, N, C);
}
static void avx_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int64_t N,
                           int64_t C, int64_t OC, lms_wlayout layout) {
    f_matmul_fwd(lms_fast_chunks_avx512(), out, inp, w, bias, N, C, OC, layout);
}
static void avx_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                           const float *w, int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc) {
    f_matmul_bwd(lms_fast_chunks_avx512(), dinp, dw, dbias, dout, inp, w, N, C, OC, layout, dw_acc);
}
static void avx_attention_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C,
                              int64_t NH) {
    f_attention_fwd(lms_fast_chunks_avx512(), out, att, qkv, B, T, C, NH);
}
static void avx_attention_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                              int64_t B, int64_t T, int64_t C, int64_t NH) {
    f_attention_bwd(lms_fast_chunks_avx512(), dqkv, datt, dout, qkv, att, B, T, C, NH);
}
static void avx_gelu_fwd(float *out, const float *x, int64_t N) {
    f_gelu_fwd(lms_fast_chunks_avx512(), out, x, N);
}
static void avx_gelu_bwd(float *dx, const float *x, const float *dout, int64_t N) {
    f_gelu_bwd(lms_fast_chunks_avx512(), dx, x, dout, N);
}
static void avx_residual_fwd(float *out, const float *a, const float *b, int64_t N) {
    f_residual_fwd(lms_fast_chunks_avx512(), out, a, b, N);
}
static void avx_xent_fwd_bwd(float *losses, float *logits, const int32_t *targets, int64_t N, int64_t V,
                             float dloss) {
    f_xent_fwd_bwd(lms_fast_chunks_avx512(), losses, logits, targets, N, V, dloss);
}
static void avx_xent_fwd(float *losses, const float *logits, const int32_t *targets, int64_t N, int64_t V) {
    f_xent_fwd(lms_fast_chunks_avx512(), losses, logits, targets, N, V);
}
static void avx_adamw(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2,
                      float eps, float wd, int64_t t) {
    f_adamw(lms_fast_chunks_avx512(), p, g, m, v, n, lr, b1, b2, eps, wd, t);
}
static void avx_lmhead_xent_fwd(float *logits, float *losses, float *lse, float *scratch, const float *x,
                                const float *wte, const int32_t *tg, int64_t N, int64_t C, int64_t V) {
    f_lmhead_xent_fwd(lms_fast_chunks_avx512(), logits, losses, lse, scratch, x, wte, tg, N, C, V);
}
static void avx_lmhead_xent_bwd(float *dx, float *dwte, float *logits, const float *lse, const float *x,
                                const float *wte, const int32_t *tg, int64_t N, int64_t C, int64_t V, float dloss) {
    f_lmhead_xent_bwd(lms_fast_chunks_avx512(), dx, dwte, logits, lse, x, wte, tg, N, C, V, dloss);
}
static void avx_dec_attention(float *y, float *att, const float *q, const float *kc, const float *vc,
                              int64_t n, int64_t hs, int64_t ld) {
    f_dec_attention(lms_fast_chunks_avx512(), y, att, q, kc, vc, n, hs, ld);
}
#endif

static lms_ops g_gen_ops, g_avx_ops;
static int g_have_avx;
static pthread_once_t g_fast_once = PTHREAD_ONCE_INIT;

static void fast_init(void) {
    const char *e = getenv("LMS_SGEMM_SPLIT");
    g_split = e ? atoi(e) != 0 : 1;
    set_ops(&g_gen_ops, "generic+openblas", &g_generic);
    g_gen_ops.encoder_fwd = gen_encoder_fwd;
    g_gen_ops.layernorm_fwd = gen_layernorm_fwd;
    g_gen_ops.layernorm_bwd = gen_layernorm_bwd;
    g_gen_ops.matmul_fwd = gen_matmul_fwd;
    g_gen_ops.matmul_bwd = gen_matmul_bwd;
    g_gen_ops.attention_fwd = gen_attention_fwd;
    g_gen_ops.attention_bwd = gen_attention_bwd;
    g_gen_ops.gelu_fwd = gen_gelu_fwd;
    g_gen_ops.gelu_bwd = gen_gelu_bwd;
    g_gen_ops.residual_fwd = gen_residual_fwd;
    g_gen_ops.xent_fwd_bwd = gen_xent_fwd_bwd;
    g_gen_ops.xent_fwd = gen_xent_fwd;
    g_gen_ops.adamw = gen_adamw;
    g_gen_ops.dec_attention = gen_dec_attention;
    g_gen_ops.lmhead_xent_fwd = gen_lmhead_xent_fwd;
    g_gen_ops.lmhead_xent_bwd = gen_lmhead_xent_bwd;
    g_gen_ops.caps |= LMS_BACKEND_FUSED_LMHEAD;
#ifndef LMS_NO_SIMD
    if (lms_cpu()->avx512) {
        set_ops(&g_avx_ops, "avx512+openblas", lms_fast_chunks_avx512());
        g_avx_ops.encoder_fwd = avx_encoder_fwd;
        g_avx_ops.layernorm_fwd = avx_layernorm_fwd;
        g_avx_ops.layernorm_bwd = avx_layernorm_bwd;
        g_avx_ops.matmul_fwd = avx_matmul_fwd;
        g_avx_ops.matmul_bwd = avx_matmul_bwd;
        g_avx_ops.attention_fwd = avx_attention_fwd;
        g_avx_ops.attention_bwd = avx_attention_bwd;
        g_avx_ops.gelu_fwd = avx_gelu_fwd;
        g_avx_ops.gelu_bwd = avx_gelu_bwd;
        g_avx_ops.residual_fwd = avx_residual_fwd;
        g_avx_ops.xent_fwd_bwd = avx_xent_fwd_bwd;
        g_avx_ops.xent_fwd = avx_xent_fwd;
        g_avx_ops.adamw = avx_adamw;
        g_avx_ops.dec_attention = avx_dec_attention;
        g_avx_ops.lmhead_xent_fwd = avx_lmhead_xent_fwd;
        g_avx_ops.lmhead_xent_bwd = avx_lmhead_xent_bwd;
        g_avx_ops.caps |= LMS_BACKEND_FUSED_LMHEAD;
        g_have_avx = 1;
    }
#endif
}

const lms_ops *lms_ops_generic(void) {
    pthread_once(&g_fast_once, fast_init); /* safe if several threads ask first */
    return &g_gen_ops;
}

const lms_ops *lms_ops_avx512(void) {
    pthread_once(&g_fast_once, fast_init);
    return g_have_avx ? &g_avx_ops : NULL;
}

const lms_ops *lms_ops_fast(void) {
    pthread_once(&g_fast_once, fast_init);
    return g_have_avx ? &g_avx_ops : &g_gen_ops;
}
