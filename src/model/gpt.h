/* gpt.h — a GPT-2 model for training: config, parameter table, planned buffers, forward, backward.
 *
 * The model owns three aligned buffers, each allocated once: parameters, gradients (same layout
 * as the parameters, in the tensor-table order below) and activations (planned by
 * lms_gpt_plan for at most B x T tokens from a pure size table). Nothing is allocated inside
 * forward or backward. All math, and every touch of the model's buffers, goes through the model's
 * own backend instance (kernels/backend.h: a kernel table, lms_ops_get() unless
 * lms_gpt_set_backend chose another, with the model's thread count and the table's declared
 * capabilities), so optimized kernels and a device backend run the model without changes to this
 * module (docs/backends.md). Host code reads the buffers only through the backend: its copies, or
 * lms_backend_read_view / write_view, which hand out the buffer itself only on host memory.
 *
 * Architecture (GPT-2): token + position embedding; per layer a pre-LayerNorm causal
 * self-attention block and a pre-LayerNorm MLP (c_fc, tanh-GELU, c_proj), each added to the
 * residual stream; a final LayerNorm; the output layer tied to the token embedding (x · wteᵀ);
 * cross-entropy fused with its gradient. No dropout.
 *
 * Loss: the mean over the tokens whose target is >= 0 (targets < 0 are ignored, as PyTorch's
 * ignore_index); the gradient is that of loss * loss_scale.
 *
 *   lms_gpt_config c = {.n_layer = 2, .n_head = 4, .n_embd = 64, .n_ctx = 128, .vocab_size = 256};
 *   lms_gpt *m; lms_err err = {0};
 *   if (lms_gpt_create(&m, &c, &err) != LMS_OK) { fprintf(stderr, "%s\n", err.msg); return 1; }
 *   lms_gpt_init(m, 1337);
 *   if (lms_gpt_plan(m, B, T, &err) != LMS_OK) ...;
 *   lms_gpt_zero_grad(m);
 *   for (int a = 0; a < accum; a++) {               // gradient accumulation is the caller's loop
 *       float loss = lms_gpt_forward(m, inputs[a], targets[a], B, T);
 *       lms_gpt_backward(m, 1.0f / accum);
 *   }
 *   lms_grad_clip_gpt(m, 1.0f);                     // optim/optim.h
 *   lms_adamw_step(opt, m, lr);
 *   lms_gpt_free(m);
 *
 * Leaves out: the optimizer (optim/), checkpoint files (checkpoint.h), KV-cache decoding
 * (infer.h), threading (inside the kernels), dropout, mixed precision.
 */
#ifndef LMS_MODEL_GPT_H
#define LMS_MODEL_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "kernels/backend.h"
#include "kernels/kernels.h"

typedef struct {
    int n_layer;    /* transformer blocks, >= 1 */
    int n_head;     /* attention heads; must divide n_embd */
    int n_embd;     /* width C */
    int n_ctx;      /* maximum sequence length (rows of wpe) */
    int vocab_size; /* V, rows of wte */
} lms_gpt_config;

/* LMS_OK if c describes a model this engine can build; otherwise LMS_ERR_ARG with a message
   naming the bad field and how to fix it (zero or negative sizes, n_head not dividing n_embd,
   or so many parameters that the buffers could not be addressed or allocated). */
lms_status lms_gpt_config_check(const lms_gpt_config *c, lms_err *err);

/* Total parameter count of a config (no allocation). The config must pass lms_gpt_config_check. */
int64_t lms_gpt_config_num_params(const lms_gpt_config *c);

/* One named parameter tensor: a view into the parameter buffer (and, at the same offset, into
   the gradient buffer and the AdamW moment buffers). */
typedef struct {
    char name[64];    /* Hugging Face GPT-2 name without prefix: "wte.weight", "h.3.attn.c_attn.weight" */
    int ndim;         /* 1 or 2 */
    int64_t shape[2]; /* shape[1] unused (0) when ndim == 1 */
    int64_t numel;
    size_t offset;    /* in floats from the start of the parameter (and gradient) buffer */
    int decay;        /* 1: AdamW weight decay applies (2-D: matrices, wte, wpe); 0: biases, LayerNorm */
} lms_tensor_info;

/* Layouts are Hugging Face's: wte [V,C], wpe [n_ctx,C], attn.c_attn.weight [C,3C],
   attn.c_proj.weight [C,C], mlp.c_fc.weight [C,4C], mlp.c_proj.weight [4C,C], biases [OC],
   ln_*.weight / ln_*.bias [C]. Table order: wte.weight, wpe.weight, then for each layer i
   h.i.ln_1.weight, h.i.ln_1.bias, h.i.attn.c_attn.weight, h.i.attn.c_attn.bias,
   h.i.attn.c_proj.weight, h.i.attn.c_proj.bias, h.i.ln_2.weight, h.i.ln_2.bias,
   h.i.mlp.c_fc.weight, h.i.mlp.c_fc.bias, h.i.mlp.c_proj.weight, h.i.mlp.c_proj.bias;
   then ln_f.weight, ln_f.bias. Tensors are packed in this order with no padding (offset of
   tensor i+1 = offset of i + numel of i), so the buffer equals the concatenation of the tensors. */

typedef struct lms_gpt lms_gpt; /* opaque */

/* Check the config, build the tensor table and allocate the parameter and gradient buffers
   (zeroed; call lms_gpt_init or load a checkpoint). *out is NULL on failure (LMS_ERR_ARG for a
   bad config, LMS_ERR_NOMEM). Free with lms_gpt_free. */
lms_status lms_gpt_create(lms_gpt **out, const lms_gpt_config *c, lms_err *err);
/* The same without the gradient buffer (scoring, sampling: weights only; lms_gpt_grads is NULL).
   lms_gpt_plan (a training plan) or lms_gpt_alloc_grads adds it later. Checkpoints load this way. */
lms_status lms_gpt_create_weights(lms_gpt **out, const lms_gpt_config *c, lms_err *err);
/* The same as lms_gpt_create_weights on a given backend (kernel table and thread count, as
   lms_gpt_set_backend) from the start: the only way onto a table whose buffers are not in host
   memory (no LMS_BACKEND_HOST_MEMORY in ops->caps). LMS_ERR_ARG also for ops NULL, threads < 0
   or a table whose declared caps disagree with its pointers (kernels.h: lms_ops_check, whose
   message names the field). */
lms_status lms_gpt_create_on(lms_gpt **out, const lms_gpt_config *c, const lms_ops *ops, int threads,
                             lms_err *err);
/* A weights-only copy of src on another backend (ops, threads as lms_gpt_create_on): the same
   config and parameters, copied through the host when either side keeps device memory. This is
   how a checkpoint (loaded on the host) goes onto a device table and how a device model's weights
   come back to be saved (model/gpt_device.c). LMS_ERR_ARG / LMS_ERR_NOMEM as lms_gpt_create_on. */
lms_status lms_gpt_clone_on(lms_gpt **out, const lms_gpt *src, const lms_ops *ops, int threads, lms_err *err);
lms_status lms_gpt_alloc_grads(lms_gpt *m, lms_err *err); /* no-op when present; LMS_ERR_NOMEM */
void lms_gpt_free(lms_gpt *m); /* NULL is fine */

/* The model's backend: the kernel table through which everything that runs on this model computes
   and touches its buffers (forward, backward, scoring, decoding, the optimizer step, gradient
   clipping), and the OpenMP thread count its batch ops use (threads 0: the process's, as set by
   lms_cpu_set_threads; decoding states started later use it too). A model starts with
   lms_ops_get() and 0 (or what lms_gpt_create_on was given). The buffers stay where they are, so
   ops must keep the memory of the current table (the same LMS_BACKEND_HOST_MEMORY; every CPU
   table shares host memory): LMS_ERR_ARG otherwise, or for ops NULL, threads < 0 or a table whose
   declared caps disagree with its pointers (kernels.h: lms_ops_check), and the model is
   unchanged. The model keeps its own instance (lms_gpt_backend: the table, the threads and the
   table's declared capabilities). Scorers and optimizers compute with the model's current table
   and threads; a decoding state keeps the table and thread count it was created with (its helper
   threads start then). */
lms_status lms_gpt_set_backend(lms_gpt *m, const lms_ops *ops, int threads, lms_err *err);
const lms_backend *lms_gpt_backend(const lms_gpt *m); /* owned by m, valid until the next set_backend */
const lms_ops *lms_gpt_ops(const lms_gpt *m);          /* lms_gpt_backend(m)->ops */
int lms_gpt_threads(const lms_gpt *m); /* 0: the process's thread count */

const lms_gpt_config *lms_gpt_get_config(const lms_gpt *m);
int lms_gpt_num_tensors(const lms_gpt *m);                                     /* 2 + 12 L + 2 */
const lms_tensor_info *lms_gpt_tensor(const lms_gpt *m, int i);                /* 0 <= i < num */
const lms_tensor_info *lms_gpt_find_tensor(const lms_gpt *m, const char *name); /* NULL if absent */
/* [num_params] in the backend's memory, owned by m: pointers to pass to the backend's ops and
   copies. Host code may read or write through them directly only when the backend declares
   LMS_BACKEND_HOST_MEMORY (tests do); library code goes through lms_backend_read_view /
   write_view (kernels/backend.h). Writes are seen by the next forward as long as they come
   before the next lms_adamw_step (each call marks the weights as possibly changed: see "packed
   weights" below); read through lms_gpt_params_const. */
float *lms_gpt_params(lms_gpt *m);
float *lms_gpt_grads(lms_gpt *m);   /* [num_params], owned by m; NULL for a weights-only model */
const float *lms_gpt_params_const(const lms_gpt *m);
int64_t lms_gpt_num_params(const lms_gpt *m);

/* GPT-2 initialisation, deterministic in seed: wte, wpe and every weight matrix ~ N(0, 0.02²),
   the residual projections attn.c_proj.weight and mlp.c_proj.weight ~ N(0, (0.02/sqrt(2 L))²),
   biases 0, LayerNorm weights 1 and biases 0. Draws come from core/rng.h in table order.
   The values are drawn into a host view (the buffer itself on host memory) and copied in. */
void lms_gpt_init(lms_gpt *m, uint64_t seed);

/* Allocate (or grow) the activation buffer for batches of up to B x T tokens, T <= n_ctx, and
   the gradient buffer if the model has none (this is the training plan; scoring without
   gradients or training activations is model/score.h).
   Call once before forward; calling again with sizes that already fit does nothing; larger
   sizes reallocate for the larger of each dimension (the last forward's results are lost).
   LMS_ERR_ARG for B < 1, T < 1 or T > n_ctx; LMS_ERR_NOMEM. */
lms_status lms_gpt_plan(lms_gpt *m, int B, int T, lms_err *err);

/* Bytes of activation memory lms_gpt_plan(B, T) allocates for config c (pure; no allocation).
   0 when the sizes are invalid or overflow. */
size_t lms_gpt_activation_bytes(const lms_gpt_config *c, int B, int T);

/* Forward pass on inputs[B,T] (token ids in [0, V)), B <= planned B and T <= planned T.
   Out-of-range ids, an unplanned model or a batch beyond the plan are caller bugs (LMS_ASSERT):
   validate token data against lms_gpt_get_config()->vocab_size before training on it.
   targets[B,T] NULL: computes logits (lms_gpt_logits), returns 0.
   targets given (ids in [0, V) or < 0 to ignore): computes per-token losses (lms_gpt_losses)
   and returns their mean over non-ignored tokens (0 if all are ignored); logits are kept until
   lms_gpt_backward, which turns them into their gradient in place. */
float lms_gpt_forward(lms_gpt *m, const int32_t *inputs, const int32_t *targets, int B, int T);

/* The gradients become zero. Nothing is written now: the next backward overwrites the weight
   matrices' gradients with their first products and clears the rest; lms_gpt_grads before that
   clears the buffer. */
void lms_gpt_zero_grad(lms_gpt *m);

/* Backward pass for the last forward (which must have had targets): grads += d(mean loss *
   loss_scale)/d params. Accumulates, so calling forward+backward on k micro-batches with
   loss_scale = 1/k after one zero_grad gives the gradient of the mean of their losses.
   Overwrites the logits with scratch. */
void lms_gpt_backward(lms_gpt *m, float loss_scale);

/* [B,T,V] of the last forward, until backward; in the table's memory (host memory for every CPU
   table; a device table's caller copies it out with copy_d2h). */
const float *lms_gpt_logits(const lms_gpt *m);
/* [B,T] per-token losses of the last forward with targets: a host copy, owned by m. */
const float *lms_gpt_losses(const lms_gpt *m);

/* Exact training FLOPs per token for sequences of length T (forward + backward), counting only
   matrix products, each as 2·m·n·k in the forward and twice that in the backward (gradients
   for both inputs):
     per layer:   2·(3C·C + C·C + 4C·C + 4C·C) = 24·C²          (c_attn, attn.c_proj, c_fc, mlp.c_proj)
                + 2·C·(T+1)                                        (QKᵀ and A·V with the causal mask:
                                                                    token t attends to t+1 positions,
                                                                    mean (T+1)/2, 2 products of 2·hs each, NH heads)
     output layer: 2·C·V
   forward = L·(24C² + 2C(T+1)) + 2CV; total = 3 · forward.
   Not counted: the embedding lookup, LayerNorm, GELU, softmax, residual adds, cross-entropy and
   the optimizer (all O(C) or O(V) per token). */
double lms_gpt_flops_per_token(const lms_gpt_config *c, int T);

typedef struct {
    size_t params, grads, acts; /* bytes of each buffer (grads, acts: 0 until allocated) */
    size_t wpack;               /* the packed weights (0 unless the table keeps them, until planned) */
} lms_gpt_memory;
lms_gpt_memory lms_gpt_memory_bytes(const lms_gpt *m);

/* ---- packed weights -------------------------------------------------------------------------
   A table that converts weights inside its products (bf16, kernels.h: wpack_bytes) can keep each
   weight matrix (wte and every layer's four projections) converted between optimizer steps:
   lms_gpt_plan then also allocates one pack per matrix (lms_gpt_wpack_bytes in all), the optimizer
   step rewrites them as it updates the weights (lms_adamw_step: adamw_wpack, then
   lms_gpt_wpack_written), and forward and backward read each weight from its pack until anything
   may change the weights again: lms_gpt_params, lms_gpt_init, a checkpoint load (through
   lms_gpt_params) or lms_gpt_set_backend (which frees the packs of the old table; the next
   lms_gpt_plan makes new ones). Until then the products convert the fp32 weights themselves: the
   same results, bit for bit, either way. */
size_t lms_gpt_wpack_bytes(const lms_gpt_config *c, const lms_ops *K); /* 0: K keeps none */
void *lms_gpt_wpack(lms_gpt *m, int i);   /* tensor i's pack, NULL if it has none (or none planned) */
void lms_gpt_wpack_written(lms_gpt *m);   /* every pack now holds the current weights */

#endif
