/* kernels.h — the numeric primitives of a GPT-2 training step, as one table of functions.
 *
 * Every op exists twice: a portable, single-threaded reference (kernels/ref.c) that is the test
 * oracle, and an optimized version (OpenMP over rows/heads, SIMD, BLAS for matrix products) that
 * is tested against it on random shapes, odd sizes included. lms_ops_get() picks the optimized
 * table once at start-up unless the reference is forced (LMS_FORCE_REFERENCE=1, see core/cpu.h).
 *
 *   const lms_ops *K = lms_ops_get();
 *   K->layernorm_fwd(out, mean, rstd, x, w, b, N, C);
 *
 * Conventions for every op:
 *  - fp32, row-major, raw pointers; shapes in the comments; no allocation, no logging.
 *  - N is a number of rows (usually B*T). Sizes are int64_t so 124M-parameter shapes never overflow.
 *  - Backward ops ACCUMULATE (+=) into every gradient they write, parameter and input gradients
 *    alike; the caller zeroes what must start at zero. This makes gradient accumulation and the
 *    residual stream's sum of gradients free.
 *  - Reductions over rows (layernorm dw/db, bias grads, embedding grads) are deterministic for a
 *    given thread count: per-thread partials are combined in a fixed order.
 *  - Weight layouts: GPT-2's Conv1D stores a projection as W[C_in, C_out] (out = x·W); the tied
 *    embedding wte is [V, C] and the output layer computes x·wteᵀ. matmul takes the layout.
 *
 * Leaves out: the optimizer's per-tensor policy (optim/), the model's buffer plan (model/).
 */
#ifndef LMS_KERNELS_KERNELS_H
#define LMS_KERNELS_KERNELS_H

#include <stdint.h>

typedef enum {
    LMS_W_IN_OUT = 0, /* W is [C, OC]: out = inp · W        (HF GPT-2 Conv1D: c_attn, c_proj, c_fc) */
    LMS_W_OUT_IN = 1  /* W is [OC, C]: out = inp · Wᵀ       (nn.Linear / the tied wte as lm_head)  */
} lms_wlayout;

typedef struct {
    const char *name; /* "reference" or e.g. "avx512+openblas" */

    /* out[B,T,C] = wte[tok[b,t], :] + wpe[t, :]   (wpe has at least T rows) */
    void (*encoder_fwd)(float *out, const int32_t *tok, const float *wte, const float *wpe,
                        int64_t B, int64_t T, int64_t C);
    /* dwte[V,C] += scatter of dout by token; dwpe[T,C] += sum over b of dout[b,t,:] */
    void (*encoder_bwd)(float *dwte, float *dwpe, const float *dout, const int32_t *tok,
                        int64_t B, int64_t T, int64_t C);

    /* out[N,C] = (x - mean) * rstd * w + b, eps = 1e-5; also stores mean[N], rstd[N] */
    void (*layernorm_fwd)(float *out, float *mean, float *rstd, const float *x, const float *w,
                          const float *b, int64_t N, int64_t C);
    /* dx[N,C] += ..., dw[C] += ..., db[C] += ... */
    void (*layernorm_bwd)(float *dx, float *dw, float *db, const float *dout, const float *x,
                          const float *w, const float *mean, const float *rstd, int64_t N, int64_t C);

    /* out[N,OC] = inp[N,C] · W (+ bias[OC] if bias != NULL); out is overwritten */
    void (*matmul_fwd)(float *out, const float *inp, const float *w, const float *bias,
                       int64_t N, int64_t C, int64_t OC, lms_wlayout layout);
    /* dinp[N,C] += dout · Wᵀ (skipped if dinp == NULL); dw += inpᵀ · dout (in W's layout);
       dbias[OC] += column sums of dout (skipped if dbias == NULL) */
    void (*matmul_bwd)(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                       const float *w, int64_t N, int64_t C, int64_t OC, lms_wlayout layout);

    /* Causal multi-head self-attention. qkv[B,T,3C] holds q | k | v, each split into NH heads of
       C/NH; att[B,NH,T,T] receives the softmax probabilities (row t uses columns 0..t only,
       the rest written as 0); out[B,T,C] = att · v, heads concatenated. Scale 1/sqrt(C/NH). */
    void (*attention_fwd)(float *out, float *att, const float *qkv, int64_t B, int64_t T,
                          int64_t C, int64_t NH);
    /* dqkv[B,T,3C] += ...; datt[B,NH,T,T] is scratch (overwritten, contents undefined after) */
    void (*attention_bwd)(float *dqkv, float *datt, const float *dout, const float *qkv,
                          const float *att, int64_t B, int64_t T, int64_t C, int64_t NH);

    /* GPT-2's tanh GELU: out[N] = 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) */
    void (*gelu_fwd)(float *out, const float *x, int64_t N);
    void (*gelu_bwd)(float *dx, const float *x, const float *dout, int64_t N); /* dx += */

    /* out[N] = a[N] + b[N] */
    void (*residual_fwd)(float *out, const float *a, const float *b, int64_t N);

    /* Cross-entropy over the vocabulary, fused with its gradient.
       losses[N] = -log softmax(logits[n,:])[targets[n]] and, in place, logits[N,V] becomes
       dlogits = (softmax - onehot(target)) * dloss, where dloss is the same scale for every row
       (1/(B*T) for a mean loss, times 1/accum_steps under accumulation). Targets < 0 are
       ignored: their loss is 0 and their row of dlogits is 0. */
    void (*xent_fwd_bwd)(float *losses, float *logits, const int32_t *targets, int64_t N,
                         int64_t V, float dloss);
    /* Forward only (evaluation): losses[N] as above; logits are not modified. */
    void (*xent_fwd)(float *losses, const float *logits, const int32_t *targets, int64_t N, int64_t V);

    /* One AdamW step on a contiguous span of n parameters, bias-corrected with step t >= 1:
       m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr (m̂ / (sqrt(v̂) + eps) + wd p). */
    void (*adamw)(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                  float b2, float eps, float wd, int64_t t);
} lms_ops;

const lms_ops *lms_ops_reference(void); /* always available */
const lms_ops *lms_ops_fast(void);      /* the optimized table for this CPU (may equal reference) */
const lms_ops *lms_ops_get(void);       /* fast unless the reference is forced (core/cpu.h) */

#endif
