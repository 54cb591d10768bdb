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
 * lms_lm_open_on opens it on a device (loaded on the host, then copied onto the device's table).
 *
 * The data a model is scored on: lms_lm_open_data opens given shards, or the run's own data (the
 * run's config.json: the run dir, or the run dir above checkpoints/step_N.safetensors).
 *
 *   lms_lm_data d;
 *   if (lms_lm_open_data(&lm, NULL, &(lms_lm_data_opts){0}, &d, &err)) return fail(d.failed, err);
 *   ... d.loader, d.batch, d.n_ctx ...
 *   lms_lm_data_close(&d);
 *
 * Leaves out: what to do with the model (model/score.h, eval/generate.h, eval/suite.h).
 */
#ifndef LMS_EVAL_LM_H
#define LMS_EVAL_LM_H

#include <stdint.h>

#include "core/status.h"
#include "data/loader.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"
#include "train/train.h"

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

/* lms_lm_open, then, when dev is a device table (no LMS_BACKEND_HOST_MEMORY in dev->caps), the model copied onto it (the host
   copy freed): the one place a command's --device reaches a model. dev NULL or a host table: the
   CPU, as lms_lm_open. Fails as lms_lm_open, or when the copy fails with LMS_ERR_NOMEM or
   LMS_ERR_UNSUPPORTED (the device cannot take this model), so that LMS_ERR_ARG still means the
   user's path or tokenizer; *lm is zeroed on failure. */
lms_status lms_lm_open_on(lms_lm *lm, const char *path, const char *tokenizer, const lms_ops *dev, lms_err *err);

/* How lms_lm_open_data cuts the data into windows. Zeroed: the defaults below. */
typedef struct {
    int batch, n_ctx;    /* > 0: windows of n_ctx tokens, batch at a time; 0: the run's own (run data) or
                            8 windows of the model's context (given data) */
    int val_tokens;      /* given data: validation tokens per domain (lms_loader_config; 0 = 65536, -1 = all) */
    int all_val;         /* run data: every validation batch (eval_batches -1) instead of the run's count */
    int check_tokenizer; /* refuse data whose tokenizer is not the model's (lms_loader_check_tokenizer) */
} lms_lm_data_opts;

/* Which step of lms_lm_open_data failed. */
typedef enum {
    LMS_LM_DATA_OK = 0,
    LMS_LM_DATA_NOT_RUN,   /* no data given and the model is not from an lmscope run (LMS_ERR_ARG) */
    LMS_LM_DATA_CONFIG,    /* the run's config.json cannot be read (its status) */
    LMS_LM_DATA_OPEN,      /* the shards cannot be opened (lms_loader_open / lms_train_open_data's status) */
    LMS_LM_DATA_TOKENIZER  /* the data was made with another tokenizer (lms_loader_check_tokenizer's status) */
} lms_lm_data_step;

typedef struct {
    lms_loader *loader;     /* owned; NULL on failure */
    int batch, n_ctx;       /* the windows the loader gives */
    int from_run;           /* the run's own data (config and rc below are set) */
    char config[LMS_LM_PATH + 32]; /* the run's config.json ("" when the model is not from a run) */
    lms_train_config rc;    /* the run's config, with the opts' overrides */
    lms_lm_data_step failed;
} lms_lm_data;

/* Open data (a shard dir or .bin files), or with data NULL the run's own: the config.json of the run
   dir lm was opened from, or of the run holding the checkpoint (…/RUN/checkpoints/step_N.safetensors).
   Fills *d; on failure d->failed says which step and d->loader is NULL. Close with lms_lm_data_close. */
lms_status lms_lm_open_data(const lms_lm *lm, const char *data, const lms_lm_data_opts *o, lms_lm_data *d, lms_err *err);
void lms_lm_data_close(lms_lm_data *d); /* frees the loader; a zeroed or failed d is fine */

#endif
