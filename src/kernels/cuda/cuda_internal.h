/* cuda_internal.h — private to kernels/cuda/: the backend's one stream and cuBLAS handle, the
 * error check every CUDA call goes through, the shared scratch of the two-stage column sums, and
 * the entry points of each .cu file that cuda_ops.cu puts into the table.
 *
 * Errors: the table's ops return void (kernels.h), so a CUDA or cuBLAS failure inside an op (an
 * illegal address, a launch failure) is a broken invariant: LMS_CUDA_CHECK aborts through
 * lms_assert_fail with the CUDA error text and the call site. buf_alloc is the exception: it returns
 * NULL with err filled (LMS_ERR_NOMEM) as kernels.h says.
 *
 * Leaves out: the ops themselves (cuda_ops.cu: memory, elementwise, normalisation, loss,
 * optimizer, decoding; cuda_blas.cu: matrix products and attention).
 */
#ifndef LMS_KERNELS_CUDA_INTERNAL_H
#define LMS_KERNELS_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "core/status.h"
#include "kernels/kernels.h"
}

extern cudaStream_t lms_cu_stream;
extern cublasHandle_t lms_cu_blas;

#define LMS_CUDA_CHECK(call)                                                                      \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) lms_assert_fail(cudaGetErrorString(e_), __FILE__, __LINE__);        \
    } while (0)
#define LMS_CUBLAS_CHECK(call)                                                                    \
    do {                                                                                           \
        cublasStatus_t s_ = (call);                                                                \
        if (s_ != CUBLAS_STATUS_SUCCESS) lms_assert_fail(cublasGetStatusString(s_), __FILE__, __LINE__); \
    } while (0)
/* after a kernel launch: a bad configuration shows here, a fault at the next synchronisation */
#define LMS_CUDA_LAUNCHED() LMS_CUDA_CHECK(cudaGetLastError())

/* Blocks of `threads` covering n items (n >= 1). */
static inline unsigned lms_cu_blocks(int64_t n, int threads) { return (unsigned)((n + threads - 1) / threads); }

/* Device scratch of at least `bytes` bytes, owned by the backend, grown (never shrunk) on demand.
   Valid until the next call; every user runs on the one stream, so uses never overlap in time. */
void *lms_cu_scratch(size_t bytes);

/* dst[C] += column sums of a[N, C] (row-major), deterministic: fixed row chunks summed in double
   in row order, the chunk sums added in chunk order (cuda_ops.cu). */
void lms_cu_colsum_add(float *dst, const float *a, int64_t N, int64_t C);

/* cuda_blas.cu */
void lms_cu_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int64_t N, int64_t C,
                       int64_t OC, lms_wlayout layout);
void lms_cu_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                       int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc);
void lms_cu_attention_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH);
void lms_cu_attention_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                          int64_t B, int64_t T, int64_t C, int64_t NH);
void lms_cu_dec_gemv_in_out(float *out, const float *x, const float *W, const float *bias, int64_t C, int64_t OC,
                            int64_t j0, int64_t j1);
void lms_cu_dec_gemv_out_in(float *out, const float *x, const float *W, int64_t C, int64_t r0, int64_t r1);

/* warp and block reductions (blockDim.x a multiple of 32, at most 1024) */
__device__ __forceinline__ float lms_cu_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double lms_cu_warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float lms_cu_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

#endif
