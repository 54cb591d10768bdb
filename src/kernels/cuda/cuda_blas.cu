/* cuda_blas.cu — the CUDA table's matrix products (cuBLAS, fp32; TF32 when LMS_CUDA_TF32=1, see
 * cuda_ops.cu) and causal attention built from them.
 *
 * cuBLAS is column-major: a row-major X[R, K] is the column-major matrix Xᵀ[K, R] with leading
 * dimension K, so out = inp · W (row-major) is outᵀ = Wᵀ · inpᵀ (column-major), and each product
 * below is written as the column-major call that computes the row-major result:
 *   matmul_fwd   IN_OUT: out[OC,N]  = W[OC,C]   · inp[C,N]        (gemm N,N)
 *                OUT_IN: out[OC,N]  = W[C,OC]ᵀ  · inp[C,N]        (gemm T,N)
 *   matmul_bwd   dinp  IN_OUT: dinp[C,N] += W[OC,C]ᵀ · dout[OC,N] (T,N); OUT_IN: W[C,OC] · dout (N,N)
 *                dW    IN_OUT: dW[OC,C] += dout[OC,N] · inp[C,N]ᵀ (N,T); OUT_IN: dW[C,OC] += inp · doutᵀ (N,T)
 *                dbias: deterministic column sums of dout (lms_cu_colsum_add)
 * (shapes in column-major terms). The bias of the forward is broadcast into out first and the
 * product added with beta = 1.
 *
 * Attention, per batch row b, all NH heads in one strided-batched product (head h's q, k, v sit at
 * offset h·hs inside each token's 3C row, so the stride between heads is hs and the leading
 * dimension 3C):
 *   forward:  S = scale · Q Kᵀ (the full T x T, the upper triangle discarded), a causal softmax
 *             kernel (one warp per row) turns S into att in place (zeros above the diagonal),
 *             out = att · V.
 *   backward: dA = dout Vᵀ (into datt), dV += attᵀ dout, a kernel turns dA into
 *             dS = att ⊙ (dA − rowsum(att ⊙ dA)) · scale (zeros above the diagonal),
 *             dQ += dS K, dK += dSᵀ Q.
 * cuBLAS gives the same bits on every run on the same GPU model and library version.
 *
 * Leaves out: bf16 / cuBLASLt epilogues (bias and GELU fused into the product), flash-style
 * attention that never materialises T x T, matrix products over more than 2^31 - 1 rows or columns.
 */
#include <math.h>

#include "kernels/cuda/cuda_internal.h"

static int I(int64_t v) {
    LMS_ASSERT(v >= 0 && v <= 0x7fffffff);
    return (int)v;
}

static void gemm(cublasOperation_t ta, cublasOperation_t tb, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *Cm, int64_t ldc) {
    LMS_CUBLAS_CHECK(cublasSgemm(lms_cu_blas, ta, tb, I(m), I(n), I(k), &alpha, A, I(lda), B, I(ldb), &beta, Cm, I(ldc)));
}

static void gemm_batched(cublasOperation_t ta, cublasOperation_t tb, int64_t m, int64_t n, int64_t k, float alpha,
                         const float *A, int64_t lda, int64_t sa, const float *B, int64_t ldb, int64_t sb, float beta,
                         float *Cm, int64_t ldc, int64_t sc, int64_t batch) {
    LMS_CUBLAS_CHECK(cublasSgemmStridedBatched(lms_cu_blas, ta, tb, I(m), I(n), I(k), &alpha, A, I(lda), sa, B, I(ldb),
                                               sb, &beta, Cm, I(ldc), sc, I(batch)));
}

__global__ void bias_fill_k(float *out, const float *bias, int64_t N, int64_t OC) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < N * OC) out[i] = bias[i % OC];
}

void lms_cu_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int64_t N, int64_t C,
                       int64_t OC, lms_wlayout layout) {
    if (N <= 0 || OC <= 0) return;
    if (bias) {
        bias_fill_k<<<lms_cu_blocks(N * OC, 256), 256, 0, lms_cu_stream>>>(out, bias, N, OC);
        LMS_CUDA_LAUNCHED();
    }
    float beta = bias ? 1.0f : 0.0f;
    if (layout == LMS_W_IN_OUT) gemm(CUBLAS_OP_N, CUBLAS_OP_N, OC, N, C, 1.0f, w, OC, inp, C, beta, out, OC);
    else gemm(CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, 1.0f, w, C, inp, C, beta, out, OC);
}

void lms_cu_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                       int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc) {
    if (N <= 0) return;
    if (dinp) {
        if (layout == LMS_W_IN_OUT) gemm(CUBLAS_OP_T, CUBLAS_OP_N, C, N, OC, 1.0f, w, OC, dout, OC, 1.0f, dinp, C);
        else gemm(CUBLAS_OP_N, CUBLAS_OP_N, C, N, OC, 1.0f, w, C, dout, OC, 1.0f, dinp, C);
    }
    if (dw) {
        float beta = dw_acc ? 1.0f : 0.0f;
        if (layout == LMS_W_IN_OUT) gemm(CUBLAS_OP_N, CUBLAS_OP_T, OC, C, N, 1.0f, dout, OC, inp, C, beta, dw, OC);
        else gemm(CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N, 1.0f, inp, C, dout, OC, beta, dw, C);
    }
    if (dbias) lms_cu_colsum_add(dbias, dout, N, OC);
}

/* rows r of [B*NH*T, T]: row t keeps columns u <= t: softmax in place, the rest 0 */
__global__ void causal_softmax_k(float *att, int64_t rows, int64_t T) {
    int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (r >= rows) return;
    int64_t t = r % T;
    float *a = att + r * T;
    float mx = -INFINITY;
    for (int64_t u = lane; u <= t; u += 32) mx = fmaxf(mx, a[u]);
    mx = lms_cu_warp_max(mx);
    float s = 0.0f;
    for (int64_t u = lane; u <= t; u += 32) {
        float e = expf(a[u] - mx);
        a[u] = e;
        s += e;
    }
    float inv = 1.0f / lms_cu_warp_sum(s);
    for (int64_t u = lane; u < T; u += 32) a[u] = u <= t ? a[u] * inv : 0.0f;
}

/* datt holds dA; becomes dS = att (dA - sum_j att_j dA_j) scale on u <= t, 0 above */
__global__ void softmax_bwd_k(float *datt, const float *att, int64_t rows, int64_t T, float scale) {
    int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (r >= rows) return;
    int64_t t = r % T;
    float *d = datt + r * T;
    const float *a = att + r * T;
    float dot = 0.0f;
    for (int64_t u = lane; u <= t; u += 32) dot += a[u] * d[u];
    dot = lms_cu_warp_sum(dot);
    for (int64_t u = lane; u < T; u += 32) d[u] = u <= t ? a[u] * (d[u] - dot) * scale : 0.0f;
}

void lms_cu_attention_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH) {
    if (B * T <= 0) return;
    int64_t hs = C / NH, C3 = 3 * C, TT = T * T;
    float scale = (float)(1.0 / sqrt((double)hs));
    for (int64_t b = 0; b < B; b++) { /* S[t,u] (column-major [u,t]) = k_u · q_t */
        const float *q = qkv + b * T * C3, *k = q + C;
        gemm_batched(CUBLAS_OP_T, CUBLAS_OP_N, T, T, hs, scale, k, C3, hs, q, C3, hs, 0.0f, att + b * NH * TT, T, TT,
                     NH);
    }
    int64_t rows = B * NH * T;
    causal_softmax_k<<<lms_cu_blocks(rows, 8), 256, 0, lms_cu_stream>>>(att, rows, T);
    LMS_CUDA_LAUNCHED();
    for (int64_t b = 0; b < B; b++) { /* out_t (column-major [i,t]) = sum_u v_u att[t,u] */
        const float *v = qkv + b * T * C3 + 2 * C;
        gemm_batched(CUBLAS_OP_N, CUBLAS_OP_N, hs, T, T, 1.0f, v, C3, hs, att + b * NH * TT, T, TT, 0.0f, out + b * T * C,
                     C, hs, NH);
    }
}

void lms_cu_attention_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att, int64_t B,
                          int64_t T, int64_t C, int64_t NH) {
    if (B * T <= 0) return;
    int64_t hs = C / NH, C3 = 3 * C, TT = T * T;
    float scale = (float)(1.0 / sqrt((double)hs));
    for (int64_t b = 0; b < B; b++) {
        const float *v = qkv + b * T * C3 + 2 * C, *d = dout + b * T * C, *a = att + b * NH * TT;
        float *da = datt + b * NH * TT, *dv = dqkv + b * T * C3 + 2 * C;
        /* dA[t,u] (column-major [u,t]) = v_u · dout_t */
        gemm_batched(CUBLAS_OP_T, CUBLAS_OP_N, T, T, hs, 1.0f, v, C3, hs, d, C, hs, 0.0f, da, T, TT, NH);
        /* dv_u (column-major [i,u]) += sum_t dout_t[i] att[t,u] */
        gemm_batched(CUBLAS_OP_N, CUBLAS_OP_T, hs, T, T, 1.0f, d, C, hs, a, T, TT, 1.0f, dv, C3, hs, NH);
    }
    int64_t rows = B * NH * T;
    softmax_bwd_k<<<lms_cu_blocks(rows, 8), 256, 0, lms_cu_stream>>>(datt, att, rows, T, scale);
    LMS_CUDA_LAUNCHED();
    for (int64_t b = 0; b < B; b++) {
        const float *q = qkv + b * T * C3, *k = q + C, *ds = datt + b * NH * TT;
        float *dq = dqkv + b * T * C3, *dk = dq + C;
        /* dq_t (column-major [i,t]) += sum_u k_u[i] dS[t,u] */
        gemm_batched(CUBLAS_OP_N, CUBLAS_OP_N, hs, T, T, 1.0f, k, C3, hs, ds, T, TT, 1.0f, dq, C3, hs, NH);
        /* dk_u (column-major [i,u]) += sum_t q_t[i] dS[t,u] */
        gemm_batched(CUBLAS_OP_N, CUBLAS_OP_T, hs, T, T, 1.0f, q, C3, hs, ds, T, TT, 1.0f, dk, C3, hs, NH);
    }
}

/* decoding: out[j] for j0 <= j < j1 */
void lms_cu_dec_gemv_in_out(float *out, const float *x, const float *W, const float *bias, int64_t C, int64_t OC,
                            int64_t j0, int64_t j1) {
    if (j1 <= j0) return;
    float one = 1.0f, beta = bias ? 1.0f : 0.0f;
    if (bias) LMS_CUDA_CHECK(cudaMemcpyAsync(out + j0, bias + j0, (size_t)(j1 - j0) * sizeof(float),
                                             cudaMemcpyDeviceToDevice, lms_cu_stream));
    /* W[C,OC] row-major = column-major [OC,C]: out = W_cm · x over rows j0..j1 */
    LMS_CUBLAS_CHECK(cublasSgemv(lms_cu_blas, CUBLAS_OP_N, I(j1 - j0), I(C), &one, W + j0, I(OC), x, 1, &beta, out + j0, 1));
}

void lms_cu_dec_gemv_out_in(float *out, const float *x, const float *W, int64_t C, int64_t r0, int64_t r1) {
    if (r1 <= r0) return;
    float one = 1.0f, zero = 0.0f;
    /* W[R,C] row-major = column-major [C,R]: out = W_cmᵀ · x over columns r0..r1 */
    LMS_CUBLAS_CHECK(cublasSgemv(lms_cu_blas, CUBLAS_OP_T, I(C), I(r1 - r0), &one, W + r0 * C, I(C), x, 1, &zero, out + r0, 1));
}
