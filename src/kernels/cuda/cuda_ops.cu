/* cuda_ops.cu — the CUDA kernel table lms_ops_cuda() (kernels.h): device memory on one stream,
 * and every op that is not a matrix product (those are cuda_blas.cu) as a kernel of its own.
 *
 * Memory: buf_alloc = cudaMalloc + cudaMemsetAsync(0) on the backend's stream (cudaMalloc aligns
 * to 256 bytes); the copies are cudaMemcpyAsync on that stream (copy_d2h then waits, so the host
 * may read dst on return; copy_h2d from pageable memory returns once the source has been staged);
 * sync = cudaStreamSynchronize. Every op is queued on the same stream and returns at once.
 *
 * Numerics (fp32 in, fp32 out): reductions over a row (LayerNorm statistics, softmax sums) use a
 * warp or block tree in float, the cross-entropy's sum of exponentials in double; column sums
 * (LayerNorm dw/db, bias gradients) are two-stage and deterministic (lms_cu_colsum_add). Some ops
 * follow the reference's order of operations exactly and so give its bits: the embedding backward
 * (each channel's updates applied in token order), residual, scale, AdamW (explicit _rn
 * intrinsics, so no contraction into FMA, and the reference's double-precision update), and
 * global_norm (one thread per fixed chunk summing squares in double in index order, as host.h;
 * the chunk sums added in chunk order on the host).
 *
 * Speed: this is the simple, correct first version: the embedding backward runs one thread per
 * channel over every token, attention materialises the T x T probabilities (cuda_blas.cu).
 *
 * Leaves out: bf16 (the dec_*_bf16 pointers are NULL, as kernels.h allows), flash attention,
 * multiple streams or devices (the current device of the first call is used), NCCL.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/cuda/cuda_internal.h"

extern "C" {
#include "kernels/host.h"
}

cudaStream_t lms_cu_stream;
cublasHandle_t lms_cu_blas;

static lms_ops g_ops;
static int g_ready;              /* 1: the table is usable */
static char g_why[512];          /* why not, when g_ready == 0 */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static double *g_norm_part;      /* [LMS_NORM_MAX_CHUNKS] chunk sums of global_norm (device) */
static void *g_scratch;
static size_t g_scratch_bytes;

void *lms_cu_scratch(size_t bytes) {
    if (bytes > g_scratch_bytes) {
        size_t want = bytes < 2 * g_scratch_bytes ? 2 * g_scratch_bytes : bytes;
        if (g_scratch) LMS_CUDA_CHECK(cudaFree(g_scratch)); /* cudaFree waits for work using it */
        LMS_CUDA_CHECK(cudaMalloc(&g_scratch, want));
        g_scratch_bytes = want;
    }
    return g_scratch;
}

/* ---- memory ---------------------------------------------------------------------------------- */

static void *cu_alloc(size_t bytes, lms_err *err) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        (void)cudaGetLastError(); /* clear the sticky-free error state */
        lms_errf(err, LMS_ERR_NOMEM, "cudaMalloc of %zu bytes failed (%s); use a smaller model or batch",
                 bytes, cudaGetErrorString(e));
        return NULL;
    }
    LMS_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, lms_cu_stream));
    return p;
}
static void cu_free(void *p) {
    if (p) LMS_CUDA_CHECK(cudaFree(p));
}
static void cu_h2d(void *dst, const void *src, size_t bytes) {
    if (bytes) LMS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, lms_cu_stream));
}
static void cu_d2h(void *dst, const void *src, size_t bytes) {
    if (bytes) LMS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, lms_cu_stream));
    LMS_CUDA_CHECK(cudaStreamSynchronize(lms_cu_stream));
}
static void cu_d2d(void *dst, const void *src, size_t bytes) {
    if (bytes) LMS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, lms_cu_stream));
}
static void cu_memset(void *dst, int byte, size_t bytes) {
    if (bytes) LMS_CUDA_CHECK(cudaMemsetAsync(dst, byte, bytes, lms_cu_stream));
}
static void cu_sync(void) { LMS_CUDA_CHECK(cudaStreamSynchronize(lms_cu_stream)); }

/* ---- column sums ----------------------------------------------------------------------------- */

#define COL_ROWS 128 /* rows per chunk of the two-stage column sums */

/* part[r, c] = sum of a[n, c] over the rows n of chunk r, in double, in row order */
__global__ void colsum_part_k(double *part, const float *a, int64_t N, int64_t C) {
    int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y;
    if (c >= C) return;
    int64_t n1 = (r + 1) * COL_ROWS < N ? (r + 1) * COL_ROWS : N;
    double s = 0.0;
    for (int64_t n = r * COL_ROWS; n < n1; n++) s += a[n * C + c];
    part[r * C + c] = s;
}
/* dst[c] += sum over chunks r (in order) of part[r, c] */
__global__ void colsum_final_k(float *dst, const double *part, int64_t R, int64_t C) {
    int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    double s = 0.0;
    for (int64_t r = 0; r < R; r++) s += part[r * C + c];
    dst[c] += (float)s;
}

void lms_cu_colsum_add(float *dst, const float *a, int64_t N, int64_t C) {
    if (N <= 0 || C <= 0) return;
    int64_t R = (N + COL_ROWS - 1) / COL_ROWS;
    double *part = (double *)lms_cu_scratch((size_t)(R * C) * sizeof(double));
    colsum_part_k<<<dim3(lms_cu_blocks(C, 128), (unsigned)R), 128, 0, lms_cu_stream>>>(part, a, N, C);
    LMS_CUDA_LAUNCHED();
    colsum_final_k<<<lms_cu_blocks(C, 128), 128, 0, lms_cu_stream>>>(dst, part, R, C);
    LMS_CUDA_LAUNCHED();
}

/* ---- embedding --------------------------------------------------------------------------------- */

__global__ void encoder_fwd_k(float *out, const int32_t *tok, const float *wte, const float *wpe, int64_t N,
                              int64_t T, int64_t C) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N * C) return;
    int64_t n = i / C, c = i % C;
    out[i] = wte[(int64_t)tok[n] * C + c] + wpe[(n % T) * C + c];
}
static void cu_encoder_fwd(float *out, const int32_t *tok, const float *wte, const float *wpe, int64_t B, int64_t T,
                           int64_t C) {
    int64_t n = B * T * C;
    if (n <= 0) return;
    encoder_fwd_k<<<lms_cu_blocks(n, 256), 256, 0, lms_cu_stream>>>(out, tok, wte, wpe, B * T, T, C);
    LMS_CUDA_LAUNCHED();
}

/* dwte: one thread per channel applies every token's update in token order (no atomics, the
   reference's order); dwpe: one thread per (t, c) over b in order. */
__global__ void encoder_bwd_wte_k(float *dwte, const float *dout, const int32_t *tok, int64_t N, int64_t C) {
    int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    for (int64_t n = 0; n < N; n++) dwte[(int64_t)tok[n] * C + c] += dout[n * C + c];
}
__global__ void encoder_bwd_wpe_k(float *dwpe, const float *dout, int64_t B, int64_t T, int64_t C) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= T * C) return;
    float s = dwpe[i];
    for (int64_t b = 0; b < B; b++) s += dout[b * T * C + i];
    dwpe[i] = s;
}
static void cu_encoder_bwd(float *dwte, float *dwpe, const float *dout, const int32_t *tok, int64_t B, int64_t T,
                           int64_t C) {
    if (B * T * C <= 0) return;
    encoder_bwd_wte_k<<<lms_cu_blocks(C, 64), 64, 0, lms_cu_stream>>>(dwte, dout, tok, B * T, C);
    LMS_CUDA_LAUNCHED();
    encoder_bwd_wpe_k<<<lms_cu_blocks(T * C, 256), 256, 0, lms_cu_stream>>>(dwpe, dout, B, T, C);
    LMS_CUDA_LAUNCHED();
}

/* ---- LayerNorm: one warp per row --------------------------------------------------------------- */

__global__ void layernorm_fwd_k(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                                int64_t N, int64_t C) {
    int64_t n = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (n >= N) return;
    const float *xr = x + n * C;
    float s = 0.0f;
    for (int64_t c = lane; c < C; c += 32) s += xr[c];
    float m = lms_cu_warp_sum(s) / (float)C;
    float v = 0.0f;
    for (int64_t c = lane; c < C; c += 32) {
        float d = xr[c] - m;
        v += d * d;
    }
    v = lms_cu_warp_sum(v) / (float)C;
    float r = 1.0f / sqrtf(v + 1e-5f);
    float *o = out + n * C;
    for (int64_t c = lane; c < C; c += 32) o[c] = (xr[c] - m) * r * w[c] + b[c];
    if (lane == 0) {
        mean[n] = m;
        rstd[n] = r;
    }
}
static void cu_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                             int64_t N, int64_t C) {
    if (N <= 0) return;
    layernorm_fwd_k<<<lms_cu_blocks(N, 8), 256, 0, lms_cu_stream>>>(out, mean, rstd, x, w, b, N, C);
    LMS_CUDA_LAUNCHED();
}

__global__ void layernorm_bwd_dx_k(float *dx, const float *dout, const float *x, const float *w, const float *mean,
                                   const float *rstd, int64_t N, int64_t C) {
    int64_t n = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (n >= N) return;
    const float *xr = x + n * C, *d = dout + n * C;
    float m = mean[n], r = rstd[n], mg = 0.0f, mgx = 0.0f;
    for (int64_t c = lane; c < C; c += 32) {
        float g = d[c] * w[c];
        mg += g;
        mgx += g * (xr[c] - m) * r;
    }
    mg = lms_cu_warp_sum(mg) / (float)C;
    mgx = lms_cu_warp_sum(mgx) / (float)C;
    float *o = dx + n * C;
    for (int64_t c = lane; c < C; c += 32) o[c] += r * (d[c] * w[c] - mg - (xr[c] - m) * r * mgx);
}
/* stage 1 of dw, db: per chunk of rows, sums of dout·xhat and dout in double */
__global__ void layernorm_bwd_part_k(double *pw, double *pb, const float *dout, const float *x, const float *mean,
                                     const float *rstd, int64_t N, int64_t C) {
    int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y;
    if (c >= C) return;
    int64_t n1 = (r + 1) * COL_ROWS < N ? (r + 1) * COL_ROWS : N;
    double sw = 0.0, sb = 0.0;
    for (int64_t n = r * COL_ROWS; n < n1; n++) {
        double d = dout[n * C + c];
        sw += d * (((double)x[n * C + c] - mean[n]) * rstd[n]);
        sb += d;
    }
    pw[r * C + c] = sw;
    pb[r * C + c] = sb;
}
static void cu_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x, const float *w,
                             const float *mean, const float *rstd, int64_t N, int64_t C) {
    if (N <= 0) return;
    layernorm_bwd_dx_k<<<lms_cu_blocks(N, 8), 256, 0, lms_cu_stream>>>(dx, dout, x, w, mean, rstd, N, C);
    LMS_CUDA_LAUNCHED();
    int64_t R = (N + COL_ROWS - 1) / COL_ROWS;
    double *pw = (double *)lms_cu_scratch((size_t)(2 * R * C) * sizeof(double)), *pb = pw + R * C;
    layernorm_bwd_part_k<<<dim3(lms_cu_blocks(C, 128), (unsigned)R), 128, 0, lms_cu_stream>>>(pw, pb, dout, x, mean,
                                                                                              rstd, N, C);
    LMS_CUDA_LAUNCHED();
    colsum_final_k<<<lms_cu_blocks(C, 128), 128, 0, lms_cu_stream>>>(dw, pw, R, C);
    LMS_CUDA_LAUNCHED();
    colsum_final_k<<<lms_cu_blocks(C, 128), 128, 0, lms_cu_stream>>>(db, pb, R, C);
    LMS_CUDA_LAUNCHED();
}

/* ---- elementwise -------------------------------------------------------------------------------- */

#define GELU_S 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

/* with s = sigmoid(2z), z = S(v + A v³): 0.5(1 + tanh z) = s and 1 - tanh² z = 4 s (1 - s), each
   accurate relative to its size (no 1 - tanh cancellation); the CPU tables use the same form */
__global__ void gelu_fwd_k(float *out, const float *x, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i];
    out[i] = v / (1.0f + expf(-2.0f * GELU_S * (v + GELU_A * v * v * v)));
}
__global__ void gelu_bwd_k(float *dx, const float *x, const float *dout, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i], e = expf(-2.0f * GELU_S * (v + GELU_A * v * v * v));
    float s = 1.0f / (1.0f + e), oms = e * s;
    float g = s + 2.0f * v * s * oms * GELU_S * (1.0f + 3.0f * GELU_A * v * v);
    dx[i] += g * dout[i];
}
__global__ void add_k(float *out, const float *a, const float *b, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __fadd_rn(a[i], b[i]);
}
__global__ void scale_k(float *x, float a, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = __fmul_rn(x[i], a);
}
static void cu_gelu_fwd(float *out, const float *x, int64_t n) {
    if (n <= 0) return;
    gelu_fwd_k<<<lms_cu_blocks(n, 256), 256, 0, lms_cu_stream>>>(out, x, n);
    LMS_CUDA_LAUNCHED();
}
static void cu_gelu_bwd(float *dx, const float *x, const float *dout, int64_t n) {
    if (n <= 0) return;
    gelu_bwd_k<<<lms_cu_blocks(n, 256), 256, 0, lms_cu_stream>>>(dx, x, dout, n);
    LMS_CUDA_LAUNCHED();
}
static void cu_add(float *out, const float *a, const float *b, int64_t n) {
    if (n <= 0) return;
    add_k<<<lms_cu_blocks(n, 256), 256, 0, lms_cu_stream>>>(out, a, b, n);
    LMS_CUDA_LAUNCHED();
}
static void cu_scale(float *x, float a, int64_t n) {
    if (n <= 0) return;
    scale_k<<<lms_cu_blocks(n, 256), 256, 0, lms_cu_stream>>>(x, a, n);
    LMS_CUDA_LAUNCHED();
}

/* ---- cross-entropy: one block per row ------------------------------------------------------------ */

#define XENT_THREADS 512

/* block-wide reductions through shared memory (XENT_THREADS / 32 warps) */
__device__ float block_max(float v, float *sh) {
    v = lms_cu_warp_max(v);
    int w = threadIdx.x / 32, nw = blockDim.x / 32;
    __syncthreads();
    if (threadIdx.x % 32 == 0) sh[w] = v;
    __syncthreads();
    float r = -INFINITY;
    for (int i = 0; i < nw; i++) r = fmaxf(r, sh[i]);
    return r;
}
__device__ double block_sum_d(double v, double *sh) {
    v = lms_cu_warp_sum_d(v);
    int w = threadIdx.x / 32, nw = blockDim.x / 32;
    __syncthreads();
    if (threadIdx.x % 32 == 0) sh[w] = v;
    __syncthreads();
    double r = 0.0;
    for (int i = 0; i < nw; i++) r += sh[i];
    return r;
}

__global__ void xent_k(float *losses, float *logits, const int32_t *targets, int64_t V, float dloss, int grad) {
    __shared__ float shf[XENT_THREADS / 32];
    __shared__ double shd[XENT_THREADS / 32];
    int64_t n = blockIdx.x;
    float *l = logits + n * V;
    int32_t y = targets[n];
    if (y < 0) {
        if (threadIdx.x == 0) losses[n] = 0.0f;
        if (grad)
            for (int64_t j = threadIdx.x; j < V; j += blockDim.x) l[j] = 0.0f;
        return;
    }
    float mx = -INFINITY;
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, l[j]);
    mx = block_max(mx, shf);
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) s += (double)expf(l[j] - mx);
    s = block_sum_d(s, shd);
    double lse = (double)mx + log(s);
    float ly = l[y];
    __syncthreads(); /* every thread has read l[y] before any overwrites it */
    if (threadIdx.x == 0) losses[n] = (float)(lse - (double)ly);
    if (!grad) return;
    float lsef = (float)lse;
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) l[j] = (expf(l[j] - lsef) - (j == y ? 1.0f : 0.0f)) * dloss;
}
static void cu_xent_fwd_bwd(float *losses, float *logits, const int32_t *targets, int64_t N, int64_t V, float dloss) {
    if (N <= 0) return;
    xent_k<<<(unsigned)N, XENT_THREADS, 0, lms_cu_stream>>>(losses, logits, targets, V, dloss, 1);
    LMS_CUDA_LAUNCHED();
}
static void cu_xent_fwd(float *losses, const float *logits, const int32_t *targets, int64_t N, int64_t V) {
    if (N <= 0) return;
    xent_k<<<(unsigned)N, XENT_THREADS, 0, lms_cu_stream>>>(losses, (float *)logits, targets, V, 0.0f, 0);
    LMS_CUDA_LAUNCHED();
}

/* ---- optimizer ---------------------------------------------------------------------------------- */

/* The reference's arithmetic, operation by operation (no FMA contraction): the moments in float,
   the update in double. */
__global__ void adamw_k(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2,
                        float eps, float wd, double bc1, double bc2) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float gi = g[i];
    float mi = __fadd_rn(__fmul_rn(b1, m[i]), __fmul_rn(1.0f - b1, gi));
    float vi = __fadd_rn(__fmul_rn(b2, v[i]), __fmul_rn(__fmul_rn(1.0f - b2, gi), gi));
    m[i] = mi;
    v[i] = vi;
    double mh = __ddiv_rn((double)mi, bc1), vh = __ddiv_rn((double)vi, bc2), pi = p[i];
    double u = __dadd_rn(__ddiv_rn(mh, __dadd_rn(sqrt(vh), (double)eps)), __dmul_rn((double)wd, pi));
    p[i] = __double2float_rn(__dsub_rn(pi, __dmul_rn((double)lr, u)));
}
static void cu_adamw(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2, float eps,
                     float wd, int64_t t) {
    LMS_ASSERT(t >= 1);
    if (n <= 0) return;
    double bc1 = 1.0 - pow((double)b1, (double)t), bc2 = 1.0 - pow((double)b2, (double)t);
    adamw_k<<<lms_cu_blocks(n, 256), 256, 0, lms_cu_stream>>>(p, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2);
    LMS_CUDA_LAUNCHED();
}

/* one thread per chunk of host.h's fixed chunking, squares summed in double in index order
   (each product of two floats is exact in double, so this is host.h's sum bit for bit) */
__global__ void norm_part_k(double *part, const float *g, int64_t n, int64_t chunk, int64_t nchunks) {
    int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= nchunks) return;
    int64_t lo = k * chunk, hi = lo + chunk < n ? lo + chunk : n;
    double s = 0.0;
    for (int64_t i = lo; i < hi; i++) s = __dadd_rn(s, __dmul_rn((double)g[i], (double)g[i]));
    part[k] = s;
}
static float cu_global_norm(const float *g, int64_t n) {
    if (n <= 0) return 0.0f;
    int64_t chunk = lms_norm_chunk(n), nchunks = (n + chunk - 1) / chunk;
    LMS_ASSERT(nchunks <= LMS_NORM_MAX_CHUNKS);
    norm_part_k<<<lms_cu_blocks(nchunks, 32), 32, 0, lms_cu_stream>>>(g_norm_part, g, n, chunk, nchunks);
    LMS_CUDA_LAUNCHED();
    double h[LMS_NORM_MAX_CHUNKS], s = 0.0;
    cu_d2h(h, g_norm_part, (size_t)nchunks * sizeof(double));
    for (int64_t k = 0; k < nchunks; k++) s += h[k];
    return (float)sqrt(s);
}

/* ---- decoding ----------------------------------------------------------------------------------- */

#define DEC_THREADS 256

/* one head over n cached positions, one block: scores into att, softmax, then y = att · V */
__global__ void dec_attention_k(float *y, float *att, const float *q, const float *kc, const float *vc, int64_t n,
                                int64_t hs, int64_t ld) {
    __shared__ float shf[DEC_THREADS / 32];
    __shared__ double shd[DEC_THREADS / 32];
    float scale = 1.0f / sqrtf((float)hs), mx = -INFINITY;
    for (int64_t u = threadIdx.x; u < n; u += blockDim.x) {
        const float *k = kc + u * ld;
        float s = 0.0f;
        for (int64_t i = 0; i < hs; i++) s += q[i] * k[i];
        att[u] = s * scale;
        mx = fmaxf(mx, s * scale);
    }
    mx = block_max(mx, shf);
    double sum = 0.0;
    for (int64_t u = threadIdx.x; u < n; u += blockDim.x) {
        float e = expf(att[u] - mx);
        att[u] = e;
        sum += e;
    }
    sum = block_sum_d(sum, shd);
    float inv = (float)(1.0 / sum);
    for (int64_t u = threadIdx.x; u < n; u += blockDim.x) att[u] *= inv;
    __syncthreads();
    for (int64_t i = threadIdx.x; i < hs; i += blockDim.x) {
        float s = 0.0f;
        for (int64_t u = 0; u < n; u++) s += att[u] * vc[u * ld + i];
        y[i] = s;
    }
}
static void cu_dec_attention(float *y, float *att, const float *q, const float *kc, const float *vc, int64_t n,
                             int64_t hs, int64_t ld) {
    dec_attention_k<<<1, DEC_THREADS, 0, lms_cu_stream>>>(y, att, q, kc, vc, n, hs, ld);
    LMS_CUDA_LAUNCHED();
}

/* ---- the table ------------------------------------------------------------------------------------- */

static void init_once(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        snprintf(g_why, sizeof g_why, "no usable CUDA device (%s); run on a machine with an NVIDIA GPU and its driver, "
                 "or use --device cpu", e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount found 0");
        (void)cudaGetLastError();
        return;
    }
    e = cudaStreamCreateWithFlags(&lms_cu_stream, cudaStreamNonBlocking);
    cublasStatus_t bs = e == cudaSuccess ? cublasCreate(&lms_cu_blas) : CUBLAS_STATUS_NOT_INITIALIZED;
    if (e == cudaSuccess && bs == CUBLAS_STATUS_SUCCESS) e = cudaMalloc(&g_norm_part, LMS_NORM_MAX_CHUNKS * sizeof(double));
    if (e != cudaSuccess || bs != CUBLAS_STATUS_SUCCESS) {
        snprintf(g_why, sizeof g_why, "CUDA device present but the backend could not start: %s",
                 e != cudaSuccess ? cudaGetErrorString(e) : cublasGetStatusString(bs));
        (void)cudaGetLastError();
        return;
    }
    LMS_CUBLAS_CHECK(cublasSetStream(lms_cu_blas, lms_cu_stream));
    /* fp32 products by default; LMS_CUDA_TF32=1 lets cuBLAS use TF32 tensor cores (10-bit mantissa
       inputs: the tests' fp32 tolerances no longer hold) */
    const char *tf = getenv("LMS_CUDA_TF32");
    int tf32 = tf && tf[0] == '1';
    LMS_CUBLAS_CHECK(cublasSetMathMode(lms_cu_blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
    lms_ops *k = &g_ops;
    k->name = tf32 ? "cuda-tf32" : "cuda";
    k->caps = 0; /* device memory, one launch per decoding op, no optional ops */
    k->buf_alloc = cu_alloc;
    k->buf_free = cu_free;
    k->copy_h2d = cu_h2d;
    k->copy_d2h = cu_d2h;
    k->copy_d2d = cu_d2d;
    k->buf_memset = cu_memset;
    k->sync = cu_sync;
    k->encoder_fwd = cu_encoder_fwd;
    k->encoder_bwd = cu_encoder_bwd;
    k->layernorm_fwd = cu_layernorm_fwd;
    k->layernorm_bwd = cu_layernorm_bwd;
    k->matmul_fwd = lms_cu_matmul_fwd;
    k->matmul_bwd = lms_cu_matmul_bwd;
    k->attention_fwd = lms_cu_attention_fwd;
    k->attention_bwd = lms_cu_attention_bwd;
    k->gelu_fwd = cu_gelu_fwd;
    k->gelu_bwd = cu_gelu_bwd;
    k->residual_fwd = cu_add;
    k->xent_fwd_bwd = cu_xent_fwd_bwd;
    k->xent_fwd = cu_xent_fwd;
    k->adamw = cu_adamw;
    k->global_norm = cu_global_norm;
    k->scale = cu_scale;
    k->dec_layernorm = cu_layernorm_fwd;
    k->dec_gemv_in_out = lms_cu_dec_gemv_in_out;
    k->dec_gemv_out_in = lms_cu_dec_gemv_out_in;
    k->dec_attention = cu_dec_attention;
    k->dec_gelu = cu_gelu_fwd;
    k->dec_add = cu_add;
    k->dec_gemv_in_out_bf16 = NULL;
    k->dec_gemv_out_in_bf16 = NULL;
    g_ready = 1;
}

extern "C" const lms_ops *lms_ops_cuda(void) {
    pthread_once(&g_once, init_once);
    return g_ready ? &g_ops : NULL;
}

extern "C" const char *lms_ops_cuda_unavailable(void) {
    pthread_once(&g_once, init_once);
    return g_ready ? NULL : g_why;
}
