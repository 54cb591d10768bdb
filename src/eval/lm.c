/* lm.c — open a model by the path a user gives, with its tokenizer and provenance (see lm.h).
 *
 * Resolution order: a run dir (config.json + latest) → its newest checkpoint and the run's
 * tokenizer; an lmscope checkpoint → the run config in its metadata; a Hugging Face file or
 * directory → the tokenizer files beside it; an llm.c .bin → only an explicit tokenizer. Models
 * that end up without a tokenizer get the byte tokenizer when that is what they were trained on
 * (a run with no tokenizer, or the byte tokenizer's hash) or when they have 256 tokens.
 *
 * Leaves out: reading the weights (model/checkpoint.c), tokenizing (tokenizer/).
 */
#include "eval/lm.h"

#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "model/checkpoint.h"
#include "train/train.h"

static int has_tokenizer(const char *dir) {
    char p[PATH_MAX + 32];
    lms_path_join(p, sizeof p, dir, "vocab.json");
    if (lms_path_exists(p)) return 1;
    lms_path_join(p, sizeof p, dir, "encoder.json");
    return lms_path_exists(p);
}

/* Provenance from a run config: tokens and FLOPs after `step` optimizer steps. */
static void provenance(lms_lm *lm, const lms_train_config *rc, int64_t step) {
    lm->step = step;
    if (step < 0) return;
    lm->tokens = (double)step * rc->batch * rc->accum * rc->model.n_ctx;
    lm->flops = lm->tokens * lms_gpt_flops_per_token(&rc->model, rc->model.n_ctx);
}

/* The run config and step in an lmscope checkpoint's metadata (from_run = 0 when absent). */
static lms_status read_meta(const char *ckpt, lms_train_config *rc, int *from_run, int64_t *step, lms_err *err) {
    *from_run = 0;
    *step = -1;
    char *meta = NULL;
    lms_status st = lms_checkpoint_read_metadata(ckpt, &meta, err);
    if (st) return st;
    json_t *mj = meta ? json_loads(meta, 0, NULL) : NULL;
    json_t *cfg = mj ? json_object_get(mj, "run_config") : NULL;
    if (json_is_object(cfg)) {
        char *txt = json_dumps(cfg, JSON_COMPACT);
        lms_train_config_defaults(rc);
        if (txt && lms_train_config_from_json(rc, txt, NULL) == LMS_OK) *from_run = 1;
        free(txt);
    }
    json_t *js = mj ? json_object_get(mj, "train_step") : NULL;
    if (json_is_string(js)) *step = strtoll(json_string_value(js), NULL, 10);
    json_decref(mj);
    free(meta);
    return LMS_OK;
}

lms_status lms_lm_open(lms_lm *lm, const char *path, const char *tokenizer, lms_err *err) {
    memset(lm, 0, sizeof *lm);
    lm->step = -1;
    lm->tokens = lm->flops = -1;
    if (!path || !*path) return lms_errf(err, LMS_ERR_ARG, "no model path given");
    if (!lms_path_exists(path)) return lms_errf(err, LMS_ERR_IO, "%s: no such file or directory", path);
    snprintf(lm->path, sizeof lm->path, "%s", path);
    snprintf(lm->ckpt, sizeof lm->ckpt, "%s", path);

    char auto_tok[LMS_LM_PATH] = "", run_hash[65] = "";
    int from_run = 0; /* a run config was found: no tokenizer in it means bytes */
    lms_train_config rc;
    int64_t step = -1;
    lms_status st;
    char cfgp[PATH_MAX + 32], latestp[PATH_MAX + 32];
    lms_path_join(cfgp, sizeof cfgp, path, "config.json");
    lms_path_join(latestp, sizeof latestp, path, "latest");
    if (lms_path_is_dir(path) && lms_path_exists(latestp)) { /* a run dir */
        lms_err e2 = {0};
        if (lms_train_config_load(&rc, cfgp, &e2))
            return lms_errf(err, LMS_ERR_FORMAT, "%s is a run dir but its config.json is damaged: %s; use one of its "
                            "checkpoints instead: %s/checkpoints/step_....safetensors", path, e2.msg, path);
        if ((st = lms_train_latest_checkpoint(path, lm->ckpt, sizeof lm->ckpt, err))) return st;
        lms_train_config mrc;
        int mfrom;
        if ((st = read_meta(lm->ckpt, &mrc, &mfrom, &step, err))) return st;
        lm->kind = LMS_LM_RUN;
        from_run = 1;
        snprintf(auto_tok, sizeof auto_tok, "%s", rc.tokenizer);
        snprintf(run_hash, sizeof run_hash, "%s", rc.tokenizer_hash);
        provenance(lm, &rc, step);
    } else {
        lms_checkpoint_kind kind;
        if ((st = lms_checkpoint_detect(path, &kind, err))) return st;
        if (kind == LMS_CKPT_OPTIM)
            return lms_errf(err, LMS_ERR_ARG, "%s is optimizer state, not a model; give the .safetensors beside it "
                            "without .optim", path);
        char dirbuf[LMS_LM_PATH];
        snprintf(dirbuf, sizeof dirbuf, "%s", path);
        const char *dir = lms_path_is_dir(path) ? path : dirname(dirbuf);
        if (kind == LMS_CKPT_LMSCOPE) {
            lm->kind = LMS_LM_LMSCOPE;
            if ((st = read_meta(path, &rc, &from_run, &step, err))) return st;
            if (from_run) {
                snprintf(auto_tok, sizeof auto_tok, "%s", rc.tokenizer);
                snprintf(run_hash, sizeof run_hash, "%s", rc.tokenizer_hash);
                provenance(lm, &rc, step);
            }
            if (!auto_tok[0] && !from_run && has_tokenizer(dir)) snprintf(auto_tok, sizeof auto_tok, "%s", dir);
        } else {
            lm->kind = kind == LMS_CKPT_LLMC ? LMS_LM_LLMC : LMS_LM_HF;
            if (has_tokenizer(dir)) snprintf(auto_tok, sizeof auto_tok, "%s", dir);
        }
    }

    if ((st = lms_checkpoint_load(&lm->gpt, lm->ckpt, err))) return st;
    const lms_gpt_config *mc = lms_gpt_get_config(lm->gpt);
    const int given = tokenizer && *tokenizer;
    const char *use = given ? tokenizer : auto_tok[0] ? auto_tok : NULL;
    if (use) {
        if ((st = lms_tokenizer_load(&lm->tok, use, err))) {
            lms_err_prefix(err, "tokenizer %s: ", use);
            if (given) st = err->code = LMS_ERR_ARG; /* the user's --tokenizer */
            goto fail;
        }
        if (run_hash[0] && strcmp(run_hash, lms_tokenizer_hash(lm->tok))) {
            st = lms_errf(err, given ? LMS_ERR_ARG : LMS_ERR_MISMATCH, "tokenizer %s is not the one this model was trained with (hash %.12s..., "
                          "expected %.12s...)", use, lms_tokenizer_hash(lm->tok), run_hash);
            goto fail;
        }
        snprintf(lm->tokenizer, sizeof lm->tokenizer, "%s", use);
    } else {
        lm->tok = lms_tokenizer_bytes();
        if (!lm->tok) {
            st = lms_errf(err, LMS_ERR_NOMEM, "out of memory creating the byte tokenizer");
            goto fail;
        }
        /* a run on byte-level shards ('data prepare' without --tokenizer) records the byte tokenizer's hash */
        int bytes_run = !run_hash[0] || !strcmp(run_hash, lms_tokenizer_hash(lm->tok));
        if (!((mc->vocab_size == 256 || from_run) && bytes_run)) {
            st = lms_errf(err, LMS_ERR_ARG, "%s has a %d-token vocabulary and no tokenizer was found beside it; give "
                          "--tokenizer DIR (vocab.json + merges.txt, e.g. GPT-2's)", path, mc->vocab_size);
            goto fail;
        }
        snprintf(lm->tokenizer, sizeof lm->tokenizer, "bytes");
    }
    int tv = lms_tokenizer_vocab_size(lm->tok);
    if (tv > mc->vocab_size) {
        st = lms_errf(err, given ? LMS_ERR_ARG : LMS_ERR_MISMATCH, "the tokenizer %s has %d tokens but the model %s only %d; they do not "
                      "belong together", lm->tokenizer, tv, path, mc->vocab_size);
        goto fail;
    }
    lm->params = lms_gpt_num_params(lm->gpt);
    lm->params_nonembed = lm->params - (int64_t)(mc->vocab_size + mc->n_ctx) * mc->n_embd;
    return LMS_OK;
fail:
    lms_lm_close(lm);
    return st;
}

void lms_lm_close(lms_lm *lm) {
    if (!lm) return;
    lms_gpt_free(lm->gpt);
    lms_tokenizer_free(lm->tok);
    memset(lm, 0, sizeof *lm);
}
