/* lm.h — open "a model" the way a user names one, with the tokenizer that belongs to it.
 *
 * A path may be: a run directory (its latest checkpoint; the tokenizer its config names), one
 * checkpoint of a run (checkpoints/step_N.safetensors: the tokenizer from the run config in its
 * metadata), a Hugging Face GPT-2 model.safetensors or its directory (vocab.json + merges.txt or
 * encoder.json + vocab.bpe beside it), or an llm.c .bin (the tokenizer must be given). A model
 * trained on bytes (or any 256-token model without a tokenizer) gets the byte tokenizer. The
 * tokenizer override ('bytes' or a directory) must match the run's tokenizer hash when the run
 * recorded one (LMS_ERR_MISMATCH otherwise).
 *
 * Provenance: for lmscope checkpoints, the training step, tokens and FLOPs seen so far (from the
 * run config and the step in the metadata); -1 where unknown (other formats).
 *
 *   lms_lm lm;
 *   if (lms_lm_open(&lm, "runs/s3", NULL, &err)) return fail(err);
 *   ... lm.gpt, lm.tok, lm.step ...
 *   lms_lm_close(&lm);
 *
 * The model is created without gradient buffers (scoring and sampling need none).
 * Leaves out: what to do with the model (model/score.h, eval/generate.h, eval/suite.h).
 */
#ifndef LMS_EVAL_LM_H
#define LMS_EVAL_LM_H

#include <stdint.h>

#include "core/status.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

#define LMS_LM_PATH 4096

typedef enum { LMS_LM_RUN = 0, LMS_LM_LMSCOPE, LMS_LM_HF, LMS_LM_LLMC } lms_lm_kind;

typedef struct {
    lms_gpt *gpt;                /* owned */
    lms_tokenizer *tok;          /* owned; never NULL after a successful open */
    lms_lm_kind kind;
    char path[LMS_LM_PATH];      /* as given */
    char ckpt[LMS_LM_PATH];      /* the weights file actually read */
    char tokenizer[LMS_LM_PATH]; /* tokenizer dir used, "bytes" for the byte tokenizer */
    int64_t step;                /* optimizer steps the checkpoint had seen; -1 unknown */
    double tokens;               /* training tokens seen (step x batch x accum x n_ctx); -1 unknown */
    double flops;                /* training FLOPs (tokens x lms_gpt_flops_per_token); -1 unknown */
    int64_t params;              /* all parameters */
    int64_t params_nonembed;     /* without wte and wpe (the N of scaling laws) */
} lms_lm;

/* Open path with an optional tokenizer override (NULL: the model's own). Fills *lm (zeroed on
   failure). LMS_ERR_IO (missing/unreadable), LMS_ERR_FORMAT (not a checkpoint, damaged run
   config), LMS_ERR_ARG (optimizer state given as a model; a model that needs a tokenizer and has
   none: the message says to pass --tokenizer; a given tokenizer that cannot be read or does not
   belong to the model), LMS_ERR_MISMATCH (the model's own tokenizer does not fit it). So
   LMS_ERR_ARG is the user's combination of arguments (a command exits 2), the rest broken or
   unreadable files (exit 1). */
lms_status lms_lm_open(lms_lm *lm, const char *path, const char *tokenizer, lms_err *err);
void lms_lm_close(lms_lm *lm); /* frees and zeroes; a zeroed lm is fine */

#endif
