/* infer.h — incremental decoding of one sequence (batch 1) with a key/value cache.
 *
 * Each step appends one token at the next position and returns the logits for the token that
 * follows, reading the model's current parameters (by their Hugging Face names) and reusing the
 * keys and values of every earlier position, so a step costs O(params + pos·C) instead of a
 * forward pass over the whole prefix. The logits equal the full forward pass's logits at that
 * position up to fp32 rounding (tests/test_infer.c).
 *
 *   lms_infer *s;
 *   if (lms_infer_create(&s, model, 256, &err) != LMS_OK) ...;
 *   const float *logits = NULL;
 *   for (size_t i = 0; i < n_prompt; i++) logits = lms_infer_step(s, prompt[i]);
 *   while (lms_infer_pos(s) < 256) { int32_t t = pick(logits); logits = lms_infer_step(s, t); }
 *   lms_infer_free(s);
 *
 * Backend: the model's kernel table (lms_gpt_ops) at create time does all the arithmetic (its dec_*
 * ops; LMS_FORCE_REFERENCE=1 makes that the reference) and owns the cache and scratch memory.
 *
 * Threads: a state decodes on the model's thread count (lms_gpt_set_backend) or, when that is 0,
 * the one set by lms_cpu_set_threads before it was created:
 * the caller's thread plus helper threads that live until lms_infer_free and sleep between steps
 * (matrix-vector products split by columns, attention by heads). One state must not be stepped
 * from two threads at once.
 *
 * Leaves out: batches, sampling policies (temperature, top-k: see cli/cmd_sample.c), beam search.
 */
#ifndef LMS_MODEL_INFER_H
#define LMS_MODEL_INFER_H

#include <stdint.h>

#include "core/status.h"
#include "model/gpt.h"

typedef struct lms_infer lms_infer; /* opaque */

/* Cache and scratch for sequences of up to max_T tokens (1 <= max_T <= the model's n_ctx).
   The model must outlive the state; its parameters are read at every step (so training between
   steps is seen, but the cache then holds keys/values of the old weights: reset after training).
   LMS_ERR_ARG for a bad max_T or a model without the GPT-2 tensors; LMS_ERR_NOMEM. *out is NULL
   on failure. Free with lms_infer_free (NULL is fine). */
lms_status lms_infer_create(lms_infer **out, const lms_gpt *m, int max_T, lms_err *err);
void lms_infer_free(lms_infer *s);

/* Optional: on = 1 makes the matrix-vector products read bfloat16 copies of the weight matrices
   (c_attn, attn.c_proj, c_fc, mlp.c_proj and wte), made now from the model's current parameters
   (later training is not seen until this is called again); biases, LayerNorm, the cache and all
   arithmetic stay fp32. Halves the bytes read per token, which is what limits decoding speed.
   The logits then differ from the fp32 forward by the weights' rounding to 8 mantissa bits
   (relative 2^-9 per weight; in practice ~1e-2 of the logits' spread). on = 0 returns to fp32
   and frees the copies. LMS_ERR_NOMEM, or LMS_ERR_UNSUPPORTED for a kernel table without bf16
   decoding (state unchanged). The sequence is not reset. */
lms_status lms_infer_set_bf16(lms_infer *s, int on, lms_err *err);

/* Forget the sequence: the next step is position 0. */
void lms_infer_reset(lms_infer *s);

/* Append token (0 <= token < vocab_size) at position lms_infer_pos(s) and return the logits [V]
   for the next token (owned by s, valid until the next step or reset). Returns NULL, changing
   nothing, if the token is out of range or the cache is full (pos == max_T). */
const float *lms_infer_step(lms_infer *s, int32_t token);

/* Tokens appended since create / reset (0 .. max_T). */
int lms_infer_pos(const lms_infer *s);
int lms_infer_max_T(const lms_infer *s);

#endif
