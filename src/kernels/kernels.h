/* kernels.h — the numeric primitives of GPT-2 training and decoding, and the memory they work
 * on, as one table of functions: the backend seam.
 *
 * Every op exists more than once: a portable, single-threaded reference (kernels/ref.c) that is the
 * test oracle, and optimized tables (OpenMP over rows/heads, SIMD, BLAS for matrix products) that
 * are tested against it on random shapes, odd sizes included (tests/test_backend_ops.c walks every
 * backend the build has through the same checks, through each one's copies). The tables of this build:
 *   lms_ops_reference()  "reference"         plain loops, double accumulation
 *   lms_ops_generic()    "generic+openblas"  the portable inner loops a CPU without AVX-512 runs
 *   lms_ops_avx512()     "avx512+openblas"   AVX-512 inner loops (NULL without AVX-512 or with
 *                                            ISA=generic / LMS_NO_SIMD)
 *   lms_ops_bf16()       "avx512-bf16"       the AVX-512 table with bfloat16 matrix products,
 *                                            attention's included (kernels/gemm_bf16.c; NULL
 *                                            without AVX512-BF16)
 *   lms_ops_fast()       the best of the two fp32 optimized tables on this CPU
 *   lms_ops_get()        the default a new model gets: fast unless the reference is forced
 *                        (LMS_FORCE_REFERENCE=1, see core/cpu.h)
 *
 * A table is the interface; a backend instance (kernels/backend.h: lms_backend) pairs it with a
 * thread count and the capabilities the table declares in caps (LMS_BACKEND_*: host or device
 * memory, split decoding, and which optional ops it fills in; lms_ops_check holds the declaration
 * to the pointers). A model holds its own instance (model/gpt.h: lms_gpt_backend); everything
 * that runs the model (gpt.c's forward and backward, score.c, infer.c, optim/) calls through it,
 * optional ops only where the capability is declared. Host code outside kernels/ reaches buffer
 * memory only through the backend: buffers come from buf_alloc, are cleared with buf_memset, are
 * filled and read with the copy ops or lms_backend_read_view / write_view (the buffer itself only
 * on LMS_BACKEND_HOST_MEMORY). docs/backends.md describes the seam and lists the capability branches.
 *
 *   const lms_ops *K = lms_gpt_ops(model);
 *   K->layernorm_fwd(out, mean, rstd, x, w, b, N, C);
 *
 * Conventions for every op:
 *  - fp32, row-major, raw pointers into the table's memory; shapes in the comments; no
 *    allocation (except buf_alloc), no logging.
 *  - N is a number of rows (usually B*T). Sizes are int64_t so 124M-parameter shapes never overflow.
 *  - Backward ops ACCUMULATE (+=) into every gradient they write, parameter and input gradients
 *    alike; the caller zeroes what must start at zero. This makes gradient accumulation and the
 *    residual stream's sum of gradients free. One exception, asked for per call: matmul_bwd's
 *    dw_acc = 0 overwrites dw (the model's first write into a weight gradient, which then needs
 *    no zeroing pass over the whole gradient buffer first).
 *  - Reductions over rows (layernorm dw/db, bias grads, embedding grads) are deterministic for a
 *    given thread count: per-thread partials are combined in a fixed order.
 *  - Weight layouts: GPT-2's Conv1D stores a projection as W[C_in, C_out] (out = x·W); the tied
 *    embedding wte is [V, C] and the output layer computes x·wteᵀ. matmul takes the layout.
 *  - Batch ops (encoder .. adamw, global_norm, scale) may start threads (OpenMP, the caller's
 *    omp_get_max_threads()); the decoding ops (dec_*) never do: model/infer.c runs them on its own
 *    threads, each on its share of columns, rows or heads.
 *
 * How the CUDA backend (kernels/cuda/, make CUDA=1; lms_ops_cuda()) fills the table:
 *  - caps = 0 (device memory), no optional op. buf_alloc = cudaMalloc + cudaMemset(0) (64-byte alignment is implied by
 *    cudaMalloc's 256), buf_free = cudaFree, copy_h2d / copy_d2h / copy_d2d = cudaMemcpyAsync on
 *    the backend's stream with the matching cudaMemcpyKind (copy_d2h then waits for the stream, so
 *    the host may read dst on return), buf_memset = cudaMemsetAsync, sync = cudaStreamSynchronize.
 *  - every op is a kernel launch (or cuBLAS/cuBLASLt call) on that stream taking device pointers;
 *    the ops return as soon as the work is queued. global_norm is a block reduction over the same
 *    fixed chunks (per-chunk partial sums in double, summed in chunk order) followed by a copy of
 *    the one result to the host, so it is deterministic; scale is an elementwise kernel.
 *  - the decoding ops are launched on one thread's full range (j0 = 0, j1 = OC; infer.c asks for
 *    one thread without LMS_BACKEND_SPLIT_DECODE) and the bf16 pointers stay NULL (no
 *    LMS_BACKEND_BF16_DECODE: lms_infer_set_bf16 then says the table has no bf16 decoding).
 *  - host-visible data the model reads or writes goes through the copy ops: token ids and targets
 *    (copy_h2d), per-token losses (copy_d2h); parameters, optimizer moments and checkpoints through
 *    host views (kernels/backend.h), which are copies for this table.
 *
 * Leaves out: the optimizer's per-tensor policy (optim/), the model's buffer plan (model/).
 */
#ifndef LMS_KERNELS_KERNELS_H
#define LMS_KERNELS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum {
    LMS_W_IN_OUT = 0, /* W is [C, OC]: out = inp · W        (HF GPT-2 Conv1D: c_attn, c_proj, c_fc) */
    LMS_W_OUT_IN = 1  /* W is [OC, C]: out = inp · Wᵀ       (nn.Linear / the tied wte as lm_head)  */
} lms_wlayout;

/* The capabilities a table declares (lms_ops.caps). */
enum {
    /* buffers are host memory: the CPU may read and write them, and the ops run on the calling
       thread (the CPU tables). Without it (CUDA) buffer memory is touched only by the ops and
       copies, and host code reads it through copies or lms_backend_read_view. */
    LMS_BACKEND_HOST_MEMORY = 1u << 0,
    /* the dec_* ops may be called on parts of their range from several threads at once
       (model/infer.c's threads); without it infer.c calls each once over the whole range */
    LMS_BACKEND_SPLIT_DECODE = 1u << 1,
    LMS_BACKEND_FUSED_LMHEAD = 1u << 2,   /* lmhead_xent_fwd and lmhead_xent_bwd */
    LMS_BACKEND_BF16_DECODE = 1u << 3,    /* dec_gemv_in_out_bf16 and dec_gemv_out_in_bf16 */
    LMS_BACKEND_PACKED_WEIGHTS = 1u << 4  /* wpack_bytes, adamw_wpack, matmul_fwd_wp, matmul_bwd_wp */
};

typedef struct lms_ops {
    const char *name; /* "reference", "generic+openblas", "avx512+openblas" */
    /* What the table declares it has: LMS_BACKEND_* flags (below). The memory kind and which of
       the optional ops (lmhead_xent_*, dec_gemv_*_bf16, the packed-weight ops) are filled in;
       lms_ops_check says whether the declaration matches the pointers. Callers ask
       lms_backend_has (kernels/backend.h), never a pointer for NULL. */
    unsigned caps;

    /* ---- memory: where this table's buffers live (LMS_BACKEND_HOST_MEMORY in caps, or device
       memory without it), and how to fill them. Two tables can share a model's buffers only if
       they agree on the memory kind. */
    /* Zeroed block of `bytes` bytes aligned to 64 (LMS_ALIGN); NULL with err filled
       (LMS_ERR_NOMEM) on failure. Free with buf_free of the same table (NULL is fine). */
    void *(*buf_alloc)(size_t bytes, lms_err *err);
    void (*buf_free)(void *p);
    /* Byte copies between host memory and this table's buffers (h2d: host to device, d2h:
       device to host, d2d: within the table's memory; ranges must not overlap). After copy_d2h
       returns the host may read dst; the others may still be in flight until the next op or
       sync (they are ordered with the ops). */
    void (*copy_h2d)(void *dst, const void *src, size_t bytes);
    void (*copy_d2h)(void *dst, const void *src, size_t bytes);
    void (*copy_d2d)(void *dst, const void *src, size_t bytes);
    /* every byte of dst[0..bytes) = byte (0 for zeroing floats) */
    void (*buf_memset)(void *dst, int byte, size_t bytes);
    /* wait until every op and copy queued so far has finished (no-op on the CPU) */
    void (*sync)(void);

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
    /* dinp[N,C] += dout · Wᵀ (skipped if dinp == NULL); dw += inpᵀ · dout (in W's layout), or
       dw = inpᵀ · dout when dw_acc is 0 (the first write into a gradient nobody zeroed: the one
       exception to the += rule below; skipped if dw == NULL); dbias[OC] += column sums of dout
       (skipped if dbias == NULL) */
    void (*matmul_bwd)(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                       const float *w, int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc);

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

    /* sqrt(sum g[i]²) over n floats (gradient clipping, optim/): squares summed in double in
       chunks of max(4096, ceil(n / 1024)) elements, the chunk sums added in chunk order, so
       every table and every thread count gives the same bits. 0 for n <= 0. */
    float (*global_norm)(const float *g, int64_t n);
    /* x[n] *= a (one rounding per element: the same bits in every table) */
    void (*scale)(float *x, float a, int64_t n);

    /* ---- decoding one token at batch 1 (model/infer.c) ---------------------------------------
       Single-threaded pieces: infer.c's threads each call them on their share. */
    /* n rows of LayerNorm forward (as layernorm_fwd, eps 1e-5): out[n,C], mean[n], rstd[n] */
    void (*dec_layernorm)(float *out, float *mean, float *rstd, const float *x, const float *w,
                          const float *b, int64_t n, int64_t C);
    /* out[j] = bias[j] (0 if bias is NULL) + sum_i x[i] W[i,j] for columns j0 <= j < j1 of
       W[C,OC] (LMS_W_IN_OUT) */
    void (*dec_gemv_in_out)(float *out, const float *x, const float *W, const float *bias,
                            int64_t C, int64_t OC, int64_t j0, int64_t j1);
    /* out[r] = sum_i W[r,i] x[i] for rows r0 <= r < r1 of W[R,C] (LMS_W_OUT_IN: the output layer) */
    void (*dec_gemv_out_in)(float *out, const float *x, const float *W, int64_t C, int64_t r0,
                            int64_t r1);
    /* One head of causal attention for the newest position over n >= 1 cached positions:
       att[u] = softmax_u(q · k_u / sqrt(hs)) for u < n, y[hs] = sum_u att[u] v_u, where
       k_u = kc + u·ld and v_u = vc + u·ld (ld: the cache's row stride in floats). att[n] is
       overwritten (the probabilities). */
    void (*dec_attention)(float *y, float *att, const float *q, const float *kc, const float *vc,
                          int64_t n, int64_t hs, int64_t ld);
    void (*dec_gelu)(float *out, const float *x, int64_t n);             /* as gelu_fwd */
    void (*dec_add)(float *out, const float *a, const float *b, int64_t n); /* out = a + b */
    /* The two products with W in the packed bfloat16 layout below (lms_bf16_pack), widened
       exactly to fp32. dec_gemv_in_out_bf16 needs j0 a multiple of 32. Optional
       (LMS_BACKEND_BF16_DECODE; NULL in a table without bf16 decoding). */
    void (*dec_gemv_in_out_bf16)(float *out, const float *x, const uint16_t *W, const float *bias,
                                 int64_t C, int64_t OC, int64_t j0, int64_t j1);
    void (*dec_gemv_out_in_bf16)(float *out, const float *x, const uint16_t *W, int64_t C,
                                 int64_t r0, int64_t r1);

    /* ---- the output layer fused with cross-entropy (training; added last so that other tables
       built by copying a table pick it up) ----------------------------------------------------
       The AVX-512 table (at C <= LMS_LMH_MAX_C) works per block of rows while the block's
       logits are in cache, with register-tiled products, instead of writing [N,V] logits and
       reading them back four times (at V 4096 and C 64 the output layer and cross-entropy are
       two thirds of a step); the other optimized tables fuse only the cross-entropy passes.
       Forward: logits[N,V] = x[N,C] · wteᵀ (wte [V,C], the tied embedding), losses[N] as
       xent_fwd, lse[N] = log sum_v exp(logits[n,v]) (0 for targets < 0): the same results as
       matmul_fwd(LMS_W_OUT_IN) + xent_fwd. scratch: lms_lmhead_scratch_floats(V, C) floats of
       the table's memory, overwritten (NULL when that is 0; a table may ignore it). */
    /* Optional (LMS_BACKEND_FUSED_LMHEAD; NULL in the bf16 and CUDA tables): without them the model calls matmul_fwd +
       xent_fwd and xent_fwd_bwd + matmul_bwd, which give the same results. */
    void (*lmhead_xent_fwd)(float *logits, float *losses, float *lse, float *scratch, const float *x,
                            const float *wte, const int32_t *targets, int64_t N, int64_t C, int64_t V);
    /* Backward from the forward's logits and lse: dlogits = (exp(logits - lse) - onehot(target))
       * dloss (rows with targets < 0: 0), written over logits in place (as xent_fwd_bwd), then
       dx[N,C] += dlogits · wte and dwte[V,C] += dlogitsᵀ · x: the same results as xent_fwd_bwd +
       matmul_bwd(LMS_W_OUT_IN) without recomputing each row's maximum and sum. */
    void (*lmhead_xent_bwd)(float *dx, float *dwte, float *logits, const float *lse, const float *x,
                            const float *wte, const int32_t *targets, int64_t N, int64_t C, int64_t V,
                            float dloss);

    /* ---- weights kept packed between optimizer steps (training; optional,
       LMS_BACKEND_PACKED_WEIGHTS: NULL in every table but bf16) ------------------------------------
       A table whose products convert each weight before using it (bf16: rounding and packing,
       once per product, from memory) can instead keep each weight matrix W[R,Cc] converted, in a
       "pack" of the table's memory that the optimizer rewrites as it updates W (model/gpt.c keeps
       one per matrix; docs/backends.md has the measured gain).
       wpack_bytes(R, Cc): the bytes of W's pack (a multiple of 64).
       adamw_wpack: adamw (above) on W's R·Cc parameters at p — the same bits as adamw on that
       span — that also writes the pack wp of the updated W.
       matmul_fwd_wp / matmul_bwd_wp: matmul_fwd / matmul_bwd with W's values taken from its pack
       (W as the layout says: [C,OC] or [OC,C]); the same bits as those ops on the W the pack was
       written from. matmul_bwd_wp's dw and dbias come from inp and dout as before. */
    size_t (*wpack_bytes)(int64_t R, int64_t Cc);
    void (*adamw_wpack)(void *wp, float *p, const float *g, float *m, float *v, int64_t R, int64_t Cc, float lr,
                        float b1, float b2, float eps, float wd, int64_t t);
    void (*matmul_fwd_wp)(float *out, const float *inp, const void *wp, const float *bias, int64_t N, int64_t C,
                          int64_t OC, lms_wlayout layout);
    void (*matmul_bwd_wp)(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const void *wp,
                          int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc);
} lms_ops;

/* The scratch lmhead_xent_fwd needs (0 floats above LMS_LMH_MAX_C): a copy of wte in panels of LMS_LMH_PANEL rows for the
   register-tiled product of the AVX-512 table, used at widths C <= LMS_LMH_MAX_C (wider models
   go through OpenBLAS, which is as fast there: measured equal for the logits and faster for dx
   at C 256, and need none). */
#define LMS_LMH_PANEL 48
#define LMS_LMH_MAX_C 128
static inline int64_t lms_lmhead_scratch_floats(int64_t V, int64_t C) {
    return C <= LMS_LMH_MAX_C ? (V + LMS_LMH_PANEL - 1) / LMS_LMH_PANEL * LMS_LMH_PANEL * C : 0;
}

const lms_ops *lms_ops_reference(void); /* always available */
const lms_ops *lms_ops_generic(void);   /* always available: the portable optimized table */
const lms_ops *lms_ops_avx512(void);    /* NULL unless built with AVX-512 and the CPU has it */
const lms_ops *lms_ops_fast(void);      /* avx512 where available, else generic */
/* Mixed precision (--precision bf16): the AVX-512 table whose matrix products (matmul_fwd /
   matmul_bwd, and attention_fwd / attention_bwd's per-head products) round their inputs to
   bfloat16 and sum in fp32 (AVX512-BF16 vdpbf16ps); every other op (softmax included), and
   everything they write, stays fp32. Results do not depend on the thread count. NULL when the build has no
   AVX512-BF16 kernel, the CPU lacks avx512_bf16, or LMS_NO_BF16=1 is set; then
   lms_ops_bf16_unavailable() says which, and how to fix it, in one sentence (NULL when available). */
const lms_ops *lms_ops_bf16(void);
const char *lms_ops_bf16_unavailable(void);
const lms_ops *lms_ops_get(void);       /* fast unless the reference is forced (core/cpu.h) */
/* The CUDA table (kernels/cuda/, built with make CUDA=1; device memory, so models go on it with
   lms_gpt_create_on). NULL in a build without CUDA or when no CUDA device can be used;
   lms_ops_cuda_unavailable() then says why (NULL when the table is there). Not in lms_ops_all. */
const lms_ops *lms_ops_cuda(void);
const char *lms_ops_cuda_unavailable(void);
/* The table for a device name as the CLI's --device takes it: "cpu" (lms_ops_get()) or "cuda"
   (lms_ops_cuda()). NULL with err filled when the name is unknown (LMS_ERR_ARG) or the device
   cannot be used in this build or on this machine (LMS_ERR_UNSUPPORTED, saying how to fix it). */
const lms_ops *lms_ops_for_device(const char *name, lms_err *err);

/* LMS_OK if ops is a complete table: every required op present, the memory fields filled, and
   its declared caps matching its optional pointers (each optional group all there with its flag,
   all NULL without it). LMS_ERR_ARG naming the first field that disagrees. */
lms_status lms_ops_check(const lms_ops *ops, lms_err *err);

/* The tables usable on this machine, reference first (reference, generic, avx512, bf16): fills
   out[0..cap) and returns how many there are (at most 4). */
int lms_ops_all(const lms_ops **out, int cap);

/* Run the batch ops with n OpenMP threads: returns the current count for lms_ops_threads_end,
   which restores it. n <= 0 changes nothing (and lms_ops_threads_end(0) does nothing). This is
   how a model's own thread count (lms_gpt_set_backend) applies to the calls made for it. */
int lms_ops_threads_begin(int n);
void lms_ops_threads_end(int prev);

/* ---- the packed bfloat16 layout of the dec_*_bf16 ops -------------------------------------
   Each row of n values is padded with zeros to lms_bf16_row(n) (a multiple of 32) and stored in
   groups of 32 as 16 32-bit words, word k holding value k in its low half and value 16+k in its
   high half, so that one shift and one mask widen a group into two fp32 vectors in natural
   order. Packing happens on the host. */

/* fp32 -> bfloat16, round to nearest even (finite inputs) */
static inline uint16_t lms_bf16_from_f32(float f) {
    union { float f; uint32_t u; } v = {f};
    return (uint16_t)((v.u + 0x7FFFu + ((v.u >> 16) & 1u)) >> 16);
}
static inline float lms_bf16_to_f32(uint16_t h) {
    union { uint32_t u; float f; } v = {(uint32_t)h << 16};
    return v.f;
}
static inline int64_t lms_bf16_row(int64_t n) { return (n + 31) / 32 * 32; }
/* value e of a packed row */
static inline float lms_bf16_packed_at(const uint16_t *row, int64_t e) {
    int64_t g = e / 32, k = e % 32;
    return lms_bf16_to_f32(row[32 * g + (k < 16 ? 2 * k : 2 * (k - 16) + 1)]);
}
/* dst[R * lms_bf16_row(n)] = src[R, n] packed */
void lms_bf16_pack(uint16_t *dst, const float *src, int64_t R, int64_t n);

#endif
