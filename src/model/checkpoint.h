/* checkpoint.h — GPT-2 checkpoints: save and load lmscope models, load real GPT-2 weights from
 * Hugging Face and llm.c files, and the file format of AdamW state for exact resume (the optimizer
 * itself saves and loads through optim/optim.h: lms_adamw_save, lms_adamw_load).
 *
 * Formats (docs/formats.md, "Checkpoints", has the full description):
 *   lmscope     safetensors (safetensors.h) with every parameter as F32 under its Hugging Face
 *               GPT-2 name without the "transformer." prefix ("wte.weight", "h.0.attn.c_attn.weight",
 *               "ln_f.weight", the hub's gpt2 naming and [in, out] Conv1D layout), in table order.
 *               "__metadata__" holds "format": "pt" (so Hugging Face transformers accepts the file),
 *               "lmscope.format": "gpt2", "lmscope.format_version": "1", the config as decimal
 *               strings "n_layer", "n_head", "n_embd", "n_ctx", "vocab_size", and the caller's
 *               metadata (below).
 *   Hugging Face  a GPT-2 model.safetensors (F32, F16 or BF16) with config.json in the same
 *               directory (n_layer, n_head, n_embd, n_positions or n_ctx, vocab_size). Names with or
 *               without "transformer."; the attn.bias / attn.masked_bias buffers are ignored; an
 *               lm_head.weight equal to wte.weight (tied) is ignored, a different one is rejected.
 *   llm.c       gpt2_124M.bin etc.: 256 int32 header (magic 20240326; version 3 = fp32, 5 = bf16,
 *               1 = the first llm.c files, fp32 without vocabulary padding;
 *               [2] max_seq_len, [3] vocab_size, [4] num_layers, [5] num_heads, [6] channels,
 *               [7] padded_vocab_size), then the parameters in llm.c's order with nn.Linear
 *               [out, in] matrices; they are transposed to Hugging Face's [in, out] and the padded
 *               vocabulary rows are dropped.
 *   optimizer   a second safetensors file: "m.<name>" and "v.<name>" (F32) for every parameter,
 *               metadata "lmscope.format": "adamw", "lmscope.format_version": "1", "step", the
 *               model config (as above) and the caller's metadata.
 *
 * Caller metadata: a JSON object text (or NULL). Each member is stored as one "__metadata__"
 * entry: a string value as it is, any other value (number, object, array, true/false/null) as its
 * compact JSON text, remembered in "lmscope.json_keys" so it is restored as JSON when read back.
 * Keys that lmscope reserves (format, n_layer, n_head, n_embd, n_ctx, vocab_size, step and
 * anything starting with "lmscope.") are rejected with LMS_ERR_ARG. JSON integers are 64-bit
 * signed (jansson): store uint64 values such as RNG words as strings.
 *
 *   lms_gpt *m;
 *   if (lms_checkpoint_load(&m, "gpt2/model.safetensors", &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *   ...train...
 *   lms_checkpoint_save("run/ckpt.safetensors", m, "{\"tokenizer_hash\":\"ab12...\",\"tokens\":1000000}", &err);
 *   lms_adamw_save("run/ckpt.optim.safetensors", opt, m, "{\"loader\":{...}}", &err);  // optim/optim.h
 *   // resume:
 *   lms_checkpoint_load(&m, "run/ckpt.safetensors", &err);
 *   lms_adamw_create(&opt, m, &acfg, &err);
 *   char *meta; lms_adamw_load("run/ckpt.optim.safetensors", opt, m, &meta, &err); ... free(meta);
 *
 * Every function returns LMS_OK or a status with err naming the file, the tensor and what to do.
 * Writers are crash-safe (a temporary renamed over the target): on failure no file, and no
 * half-written temporary, is left behind, and a previous file at path is untouched.
 *
 * Leaves out: writing Hugging Face's sharded files (model-0000x-of-0000y.safetensors) and
 * PyTorch pickles (pytorch_model.bin: convert with Python to safetensors first), untied output
 * layers, GPT-2 variants that change the block (other activations, scale_attn_by_inverse_layer_idx).
 */
#ifndef LMS_MODEL_CHECKPOINT_H
#define LMS_MODEL_CHECKPOINT_H

#include "core/status.h"
#include "model/gpt.h"
#include "model/safetensors.h"

#define LMS_LLMC_MAGIC 20240326

typedef enum {
    LMS_CKPT_LMSCOPE = 0, /* our safetensors model file */
    LMS_CKPT_HF,          /* a Hugging Face GPT-2 model.safetensors (+ config.json) */
    LMS_CKPT_LLMC,        /* an llm.c gpt2_*.bin */
    LMS_CKPT_OPTIM        /* our optimizer-state safetensors file */
} lms_checkpoint_kind;

/* Which kind of file path is, from its first bytes and metadata (a path ending in ".bin" is
 * taken as llm.c). A directory means <dir>/model.safetensors. Does not validate the tensors. */
lms_status lms_checkpoint_detect(const char *path, lms_checkpoint_kind *kind, lms_err *err);

/* Write every parameter of m and its config to path (see the format above). metadata_json: a JSON
 * object text or NULL. m may be on any backend (a device model's weights are copied to the host). */
lms_status lms_checkpoint_save(const char *path, const lms_gpt *m, const char *metadata_json, lms_err *err);

/* Add every parameter of m to w as F32 under its GPT-2 name with prefix in front (NULL: none;
 * "transformer." gives transformers' GPT2LMHeadModel names). Shared by the checkpoint and the
 * Hugging Face export. The writer borrows m's parameter buffer, so m must be on a host-memory
 * backend (LMS_ERR_UNSUPPORTED otherwise: clone it with lms_gpt_clone_on first; lms_checkpoint_save
 * does that itself). Fails as lms_st_writer_add. */
lms_status lms_checkpoint_add_weights(lms_st_writer *w, const lms_gpt *m, const char *prefix, lms_err *err);

/* Create a model from any of the three model formats (path may also be a directory holding
 * model.safetensors). *out is NULL on failure; free it with lms_gpt_free. Errors: LMS_ERR_IO
 * (cannot open), LMS_ERR_FORMAT (corrupt or truncated file), LMS_ERR_MISMATCH (config and tensors
 * disagree, missing or unexpected tensor), LMS_ERR_UNSUPPORTED (dtype, version, untied lm_head).
 * The model has no gradient buffer (lms_gpt_create_weights): lms_gpt_plan adds it for training. */
lms_status lms_checkpoint_load(lms_gpt **out, const char *path, lms_err *err);

/* The caller metadata of an lmscope model or optimizer file as a JSON object text (malloc'd,
 * caller frees with free()), values restored as described above; for a Hugging Face file, all of
 * its "__metadata__" entries as strings; "{}" for an llm.c file. */
lms_status lms_checkpoint_read_metadata(const char *path, char **metadata_json, lms_err *err);

/* Write a Hugging Face GPT-2 config.json for c (model_type gpt2, GPT2LMHeadModel, gelu_new,
 * layer_norm_epsilon 1e-5, tied embeddings), so that a directory holding it and a checkpoint
 * saved as model.safetensors loads with transformers' GPT2LMHeadModel.from_pretrained(dir). */
lms_status lms_checkpoint_save_hf_config(const char *path, const lms_gpt_config *c, lms_err *err);

/* Write m's parameters as an llm.c checkpoint (version 3, fp32, vocabulary padded with zero rows
 * to a multiple of 128, matrices transposed to [out, in]) that llm.c's train_gpt2 can load. */
lms_status lms_checkpoint_save_llmc(const char *path, const lms_gpt *m, lms_err *err);

/* The optimizer-state file (format above) as buffers: optim/optim_io.c (lms_adamw_save /
 * lms_adamw_load) owns the optimizer and calls these; model/ does not depend on optim/.
 * Save: m1 and m2 (the first and second moments, each in m's parameter layout, host memory), the
 * step count, optim_json (the optimizer's config as a JSON object text, stored as
 * "lmscope.adamw_config", informational), the model config and the caller's metadata. */
lms_status lms_checkpoint_save_moments(const char *path, const lms_gpt *m, const float *m1, const float *m2,
                                       int64_t step, const char *optim_json, const char *metadata_json, lms_err *err);

/* Load: checks that the file's config and every m./v. tensor shape match m (LMS_ERR_MISMATCH naming
 * the tensor otherwise) and that n_moments (the length of m1 and m2) is m's parameter count
 * (LMS_ERR_ARG), then copies the moments into m1 and m2 (host memory) and sets *step.
 * metadata_json (may be NULL): receives the caller metadata as JSON object text, malloc'd, caller
 * frees. On failure nothing is written. */
lms_status lms_checkpoint_load_moments(const char *path, const lms_gpt *m, float *m1, float *m2, int64_t n_moments,
                                       int64_t *step, char **metadata_json, lms_err *err);

#endif
