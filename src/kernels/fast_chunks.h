/* fast_chunks.h — private to kernels/: the pure, single-threaded inner loops ("chunks") that the
 * optimized op tables (fast.c) run on each thread's share of rows, columns or elements.
 *
 * Two implementations fill the same table: portable C (fast.c, lms_fast_chunks_generic) and
 * AVX-512 (fast_avx512.c, lms_fast_chunks_avx512, absent when built with LMS_NO_SIMD). fast.c
 * builds one op table on each (lms_ops_generic, lms_ops_avx512); the decoding ops of those tables
 * are these chunks themselves. Chunks never allocate, never start threads and never log.
 *
 * Every chunk that sums does so in a fixed order that depends only on its arguments, so results
 * do not depend on how many threads split the work. Column-block chunks (c0..c1) sum over all N
 * rows in row order, exactly as the reference does, which keeps parameter-gradient reductions
 * deterministic without per-thread partial buffers.
 *
 * Leaves out: threading and BLAS calls (fast.c), the op contracts (kernels.h).
 */
#ifndef LMS_KERNELS_FAST_CHUNKS_H
#define LMS_KERNELS_FAST_CHUNKS_H

#include <stdint.h>

#include "kernels/kernels.h"

typedef struct {
    const char *isa; /* "avx512" or "generic" */

    /* n rows of layernorm forward: out[n,C], mean[n], rstd[n] from x[n,C] */
    void (*ln_fwd)(float *out, float *mean, float *rstd, const float *x, const float *w,
                   const float *b, int64_t n, int64_t C);
    /* n rows of layernorm backward, input gradient only: dx[n,C] += ... */
    void (*ln_bwd_dx)(float *dx, const float *dout, const float *x, const float *w,
                      const float *mean, const float *rstd, int64_t n, int64_t C);
    /* columns c0..c1 of the layernorm parameter gradients over all N rows (row order):
       dw[c] += sum_n dout[n,c] * (x[n,c]-mean[n])*rstd[n]; db[c] += sum_n dout[n,c] */
    void (*ln_bwd_dwdb)(float *dw, float *db, const float *dout, const float *x,
                        const float *mean, const float *rstd, int64_t N, int64_t C, int64_t c0,
                        int64_t c1);
    /* columns c0..c1: db[c] += sum_n dout[n,c] (row order) */
    void (*colsum)(float *db, const float *dout, int64_t N, int64_t OC, int64_t c0, int64_t c1);

    void (*gelu_fwd)(float *out, const float *x, int64_t n);                    /* n elements */
    void (*gelu_bwd)(float *dx, const float *x, const float *dout, int64_t n);  /* dx += */
    void (*add)(float *out, const float *a, const float *b, int64_t n);         /* out = a + b */
    void (*copy_rows_bias)(float *out, const float *bias, int64_t n, int64_t OC); /* out[n,OC] = bias */

    /* One causal attention row, in place: p[0..len) = softmax(p[0..len)) (already scaled),
       p[len..T) = 0. */
    void (*softmax_row)(float *p, int64_t len, int64_t T);
    /* Softmax backward for one row, in place on d: d[c] = p[c]*(d[c] - sum_c' p[c']d[c']) for
       c < len; d[len..zero_to) = 0. */
    void (*softmax_bwd_row)(float *d, const float *p, int64_t len, int64_t zero_to);

    /* One row of the fused cross-entropy: returns the loss; logits[V] become dlogits
       (target < 0: loss 0, row zeroed). */
    float (*xent_row)(float *logits, int64_t V, int32_t target, float dloss);
    float (*xent_row_fwd)(const float *logits, int64_t V, int32_t target);

    /* AdamW on n elements; bc1 = 1 - b1^t, bc2 = 1 - b2^t (computed once by the caller) */
    void (*adamw)(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                  float b2, float eps, float wd, float bc1, float bc2);

    /* Inference helpers (model/infer.c): out[OC] (+)= x[C] · W[C,OC] for columns j0..j1,
       and out[r] = dot(W[r,:], x) for rows r0..r1 of W[R,C]. */
    void (*gemv_in_out)(float *out, const float *x, const float *W, const float *bias, int64_t C,
                        int64_t OC, int64_t j0, int64_t j1);
    void (*gemv_out_in)(float *out, const float *x, const float *W, int64_t C, int64_t r0,
                        int64_t r1);
    /* The same two products with W in the packed bfloat16 layout of lms_bf16_pack (rows
       of OC, resp. C, values padded to a multiple of 32), widened exactly to fp32 and
       accumulated in fp32. gemv_in_out_bf16 needs j0 a multiple of 32. */
    void (*gemv_in_out_bf16)(float *out, const float *x, const uint16_t *W, const float *bias,
                             int64_t C, int64_t OC, int64_t j0, int64_t j1);
    void (*gemv_out_in_bf16)(float *out, const float *x, const uint16_t *W, int64_t C, int64_t r0,
                             int64_t r1);
    float (*dot)(const float *a, const float *b, int64_t n);
    void (*axpy)(float *y, float a, const float *x, int64_t n); /* y += a x */

    /* The fused output layer's cross-entropy rows (lmhead_xent_*): the loss as xent_row_fwd, and
       *lse = max + log(sum exp(logits - max)) (0 if target < 0); then, from that lse, in place:
       logits[V] = (exp(logits - lse) - onehot(target)) * dloss (target < 0: zeros). */
    float (*xent_row_lse)(const float *logits, int64_t V, int32_t target, float *lse);
    void (*xent_row_grad)(float *logits, int64_t V, int32_t target, float lse, float dloss);
    /* The fused output layer's products, register-tiled (NULL in the generic table, which calls
       OpenBLAS): lmh_pack copies wte[V,C] into panels of LMS_LMH_PANEL vocabulary rows, each
       stored [C][LMS_LMH_PANEL] and zero-padded (lms_lmhead_scratch_floats(V, C) floats);
       lmh_logits: lg[m,V] (row stride ldl) = x[m,C] · wteᵀ from those panels; lmh_dx: dx[m,C] +=
       dl[m,V] (row stride ldl) · wte[V,C]. Both sum in a fixed order (c, resp. v, ascending). */
    void (*lmh_pack)(float *wp, const float *wte, int64_t V, int64_t C);
    void (*lmh_logits)(float *lg, int64_t ldl, const float *x, int64_t m, int64_t C, const float *wp, int64_t V);
    void (*lmh_dx)(float *dx, const float *dl, int64_t ldl, int64_t m, const float *wte, int64_t V, int64_t C);
} lms_fast_chunks;

const lms_fast_chunks *lms_fast_chunks_generic(void);
#ifndef LMS_NO_SIMD
const lms_fast_chunks *lms_fast_chunks_avx512(void);
#endif

#endif
