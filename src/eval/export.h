/* export.h — write a model and its tokenizer in the files other tools load: a Hugging Face GPT-2
 * directory (transformers' GPT2LMHeadModel / GPT2Tokenizer) and an llm.c checkpoint with the
 * tokenizer file llm.c's programs decode with.
 *
 * Hugging Face directory (lms_export_hf):
 *   model.safetensors        every parameter F32 under transformers' state-dict names
 *                            ("transformer.wte.weight", "transformer.h.0.attn.c_attn.weight", ...,
 *                            Conv1D [in, out] matrices), no lm_head.weight (tied to wte, which is
 *                            how save_pretrained writes a tied head), metadata {"format": "pt"}
 *   config.json              GPT2Config: model_type gpt2, GPT2LMHeadModel, n_layer, n_head, n_embd,
 *                            n_positions = n_ctx, vocab_size (the model's, which may exceed the
 *                            tokenizer's), gelu_new, layer_norm_epsilon 1e-5, tied embeddings,
 *                            dropout 0, bos/eos = the <|endoftext|> id (null without one)
 *   generation_config.json   bos/eos ids as in config.json
 *   vocab.json, merges.txt   the tokenizer (tokenizer.h's files; the byte tokenizer is GPT-2's
 *                            byte-level BPE with 256 tokens and an empty merge list)
 *   tokenizer_config.json    GPT2Tokenizer, model_max_length n_ctx, no prefix space, no
 *                            clean-up of spaces (decoding gives the bytes back), <|endoftext|> as
 *                            bos/eos/unk and an added special token (none of it without one)
 *   special_tokens_map.json  the same special tokens
 * The files are written into a temporary directory beside the target ("<dir>.tmp.XXXXXX") which is
 * renamed to <dir> at the end; a directory that exists must be empty unless force is set, and then
 * the new files replace their namesakes one by one (other files in it are left alone).
 *
 * llm.c (lms_export_llmc):
 *   <path>                   model/checkpoint.h's lms_checkpoint_save_llmc (version 3, fp32, the
 *                            vocabulary padded to a multiple of 128 with zero rows)
 *   <tokenizer path>         llm.c's tokenizer file (gpt2_tokenizer.bin's layout): 256 int32 header
 *                            [0] 20240328, [1] 2, [2] V (the tokenizer's), [3] the end-of-text id,
 *                            then per token id 0..V-1 its byte length (one unsigned byte, 1..255)
 *                            and its bytes. llm.c starts its samples from the end-of-text id; a
 *                            tokenizer without <|endoftext|> (the byte tokenizer) writes the id
 *                            lmscope's sample starts such a model from: the newline's, else 0.
 *   Both are written to temporaries and renamed at the end; existing files are replaced only with
 *   force.
 *
 *   lms_lm lm;
 *   if (lms_lm_open(&lm, "runs/s3", NULL, &err)) ...
 *   lms_export_hf(lm.gpt, lm.tok, "out/gpt2-s3", 0, &err);
 *   char tp[4096];
 *   lms_export_llmc(lm.gpt, lm.tok, "out/s3.bin", lms_export_llmc_tokenizer_path(tp, sizeof tp, "out/s3.bin"), 0, &err);
 *
 * Errors (nothing is left behind on any of them; a previous file or directory is untouched unless
 * force, and then only files this export writes are replaced): LMS_ERR_ARG (the output exists and
 * force is off, is a file where a directory is needed or the reverse, the tokenizer has more tokens
 * than the model), LMS_ERR_UNSUPPORTED (a token llm.c's file cannot hold: longer than 255 bytes),
 * LMS_ERR_IO (cannot create or write), LMS_ERR_NOMEM.
 *
 * Leaves out: tokenizer.json (transformers builds its fast tokenizer from vocab.json + merges.txt),
 * F16/BF16 exports, sharded safetensors, pickles, GGUF, llm.c's bf16 checkpoint (version 5) and its
 * optimizer state.
 */
#ifndef LMS_EVAL_EXPORT_H
#define LMS_EVAL_EXPORT_H

#include <stddef.h>

#include "core/status.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

#define LMS_LLMC_TOKENIZER_MAGIC 20240328

/* Write m (host weights) and tok as a Hugging Face GPT-2 directory at dir (parents are created).
 * force: replace the export's files in an existing non-empty directory. */
lms_status lms_export_hf(const lms_gpt *m, const lms_tokenizer *tok, const char *dir, int force, lms_err *err);

/* Write m as an llm.c checkpoint at path and tok as llm.c's tokenizer file at tok_path (parents
 * are created). force: replace existing files. */
lms_status lms_export_llmc(const lms_gpt *m, const lms_tokenizer *tok, const char *path, const char *tok_path,
                           int force, lms_err *err);

/* The checks the two writers make before writing anything (the same errors), so that a caller
 * exporting both ways can refuse before writing either. */
lms_status lms_export_hf_check(const lms_gpt *m, const lms_tokenizer *tok, const char *dir, int force, lms_err *err);
lms_status lms_export_llmc_check(const lms_gpt *m, const lms_tokenizer *tok, const char *path, const char *tok_path,
                                 int force, lms_err *err);

/* Only the llm.c tokenizer file (format above), crash-safely; LMS_ERR_UNSUPPORTED naming the first
 * token longer than 255 bytes. */
lms_status lms_export_llmc_tokenizer(const lms_tokenizer *tok, const char *path, lms_err *err);

/* The id written as llm.c's end-of-text: <|endoftext|>'s, else the newline token's, else 0. */
int lms_export_llmc_eot(const lms_tokenizer *tok);

/* The default tokenizer file beside an llm.c checkpoint: "<path without .bin>_tokenizer.bin"
 * (out/s3.bin -> out/s3_tokenizer.bin). Returns out (truncated to cap). */
char *lms_export_llmc_tokenizer_path(char *out, size_t cap, const char *ckpt_path);

#endif
