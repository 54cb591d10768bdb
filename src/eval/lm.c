/* lm.c — open a model by the path a user gives, with its tokenizer and provenance (see lm.h).
 *
 * Resolution order: a run dir (config.json + latest) → its newest checkpoint and the run's
 * tokenizer; an lmscope checkpoint → the run config in its metadata; a Hugging Face file or
 * directory → the tokenizer files beside it; an llm.c .bin → only an explicit tokenizer. Models
 * that end up without a tokenizer get the byte tokenizer when that is what they were trained on
 * (a run with no tokenizer, or the byte tokenizer's hash) or when they have 256 tokens.
 *
 * lms_lm_open_on puts the model on a device; lms_lm_open_data opens the data it is scored on (given
 * shards, or the run's own from its config.json).
 *
 * Leaves out: reading the weights (model/checkpoint.c), tokenizing (tokenizer/), the loader (data/loader.c).
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

lms_status lms_lm_open_on(lms_lm *lm, const char *path, const char *tokenizer, const lms_ops *dev, lms_err *err) {
    lms_status st = lms_lm_open(lm, path, tokenizer, err);
    if (st || !dev || (dev->caps & LMS_BACKEND_HOST_MEMORY)) return st;
    lms_gpt *d = NULL; /* loaded on the host; run on the device */
    if ((st = lms_gpt_clone_on(&d, lm->gpt, dev, 0, err))) {
        lms_lm_close(lm);
        if (st == LMS_ERR_ARG) st = err->code = LMS_ERR_UNSUPPORTED; /* the device's limit, not the user's arguments */
        return st;
    }
    lms_gpt_free(lm->gpt);
    lm->gpt = d;
    return LMS_OK;
}

/* The config.json of the run lm comes from: its run dir, or the run dir above
   checkpoints/step_N.safetensors; "" when there is none. */
static void run_config_path(const lms_lm *lm, char *out, size_t cap) {
    out[0] = 0;
    if (lm->kind == LMS_LM_RUN) lms_path_join(out, cap, lm->path, "config.json");
    else if (lm->kind == LMS_LM_LMSCOPE) {
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%s", lm->ckpt);
        char *s = strrchr(d, '/');
        if (s) *s = 0, s = strrchr(d, '/');
        if (s && !strcmp(s, "/checkpoints")) {
            *s = 0;
            lms_path_join(out, cap, d, "config.json");
        }
    }
    if (out[0] && !lms_path_exists(out)) out[0] = 0;
}

static lms_status data_fail(lms_lm_data *d, lms_lm_data_step step, lms_status st) {
    d->failed = step;
    lms_loader_free(d->loader);
    d->loader = NULL;
    return st;
}

lms_status lms_lm_open_data(const lms_lm *lm, const char *data, const lms_lm_data_opts *o, lms_lm_data *d, lms_err *err) {
    static const lms_lm_data_opts none;
    if (!o) o = &none;
    memset(d, 0, sizeof *d);
    lms_status st;
    if (data) {
        d->batch = o->batch > 0 ? o->batch : 8;
        d->n_ctx = o->n_ctx > 0 ? o->n_ctx : lms_gpt_get_config(lm->gpt)->n_ctx;
        lms_loader_config lc = {.B = d->batch, .T = d->n_ctx, .seed = 1, .weights = NULL, .val_tokens_per_domain = o->val_tokens};
        if ((st = lms_loader_open(&d->loader, data, &lc, err))) return data_fail(d, LMS_LM_DATA_OPEN, st);
    } else {
        run_config_path(lm, d->config, sizeof d->config);
        if (!d->config[0])
            return data_fail(d, LMS_LM_DATA_NOT_RUN, lms_errf(err, LMS_ERR_ARG, "%s is not an lmscope run, so its data is "
                                                              "unknown", lm->path));
        if ((st = lms_train_config_load(&d->rc, d->config, err))) return data_fail(d, LMS_LM_DATA_CONFIG, st);
        d->from_run = 1;
        if (o->batch > 0) d->rc.batch = o->batch;
        if (o->n_ctx > 0) d->rc.model.n_ctx = o->n_ctx;
        if (o->all_val) d->rc.eval_batches = -1;
        d->batch = d->rc.batch;
        d->n_ctx = d->rc.model.n_ctx;
        if ((st = lms_train_open_data(&d->rc, &d->loader, err))) return data_fail(d, LMS_LM_DATA_OPEN, st);
    }
    if (o->check_tokenizer && (st = lms_loader_check_tokenizer(d->loader, lm->tok, err)))
        return data_fail(d, LMS_LM_DATA_TOKENIZER, st);
    return LMS_OK;
}

void lms_lm_data_close(lms_lm_data *d) {
    if (!d) return;
    lms_loader_free(d->loader);
    d->loader = NULL;
}
