/* train_data.c — open the data a training config names: text files (tokenized here, in memory) or
 * a shards directory (the data module's loader), with the checks that need the data: vocab size,
 * the tokenizer hash against the manifest, and whether the context fits.
 * Leaves out: batching and validation splits (src/data/loader.c). */
#include "train/train.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "data/manifest.h"
#include "tokenizer/tokenizer.h"

static lms_status open_text(lms_train_config *c, lms_loader **out, lms_err *err) {
    lms_tokenizer *tok = NULL;
    lms_status st = LMS_OK;
    if (c->tokenizer[0]) {
        st = lms_tokenizer_load(&tok, c->tokenizer, err);
        if (st) return lms_err_prefix(err, "--tokenizer %s: ", c->tokenizer);
        snprintf(c->tokenizer_hash, sizeof c->tokenizer_hash, "%s", lms_tokenizer_hash(tok));
    } else {
        tok = lms_tokenizer_bytes();
        if (!tok) return lms_errf(err, LMS_ERR_NOMEM, "out of memory creating the byte tokenizer");
        c->tokenizer_hash[0] = 0;
    }
    int vocab = lms_tokenizer_vocab_size(tok);
    int eot = lms_tokenizer_eot(tok);
    lms_ids ids = {0};
    for (int i = 0; i < c->n_data && !st; i++) {
        if (lms_path_is_dir(c->data[i])) {
            st = lms_errf(err, LMS_ERR_ARG, "--data %s is a directory; a shards dir must be the only --data (text files may be several)",
                          c->data[i]);
            break;
        }
        char *text = NULL;
        size_t len = 0;
        st = lms_file_read_all(c->data[i], &text, &len, err);
        if (st) {
            lms_err_prefix(err, "--data: ");
            break;
        }
        /* text only, as 'data prepare' and 'tokenizer train' demand: a NUL byte means a binary file */
        const char *nul = len ? memchr(text, 0, len) : NULL;
        if (nul || len == 0) {
            if (nul)
                st = lms_errf(err, LMS_ERR_ARG, "--data %s looks like a binary file, not text (a NUL byte at byte %zu); train on text files",
                              c->data[i], (size_t)(nul - text));
            else
                st = lms_errf(err, LMS_ERR_ARG, "--data %s is empty; give a text file with something to learn from", c->data[i]);
            free(text);
            break;
        }
        /* documents from different files are separated the way GPT-2 separates documents */
        if (i > 0 && eot >= 0 && (st = lms_ids_push(&ids, (uint32_t)eot, err))) {
            free(text);
            break;
        }
        st = lms_tokenizer_encode(tok, text, len, &ids, err);
        free(text);
        if (st) lms_err_prefix(err, "tokenizing %s: ", c->data[i]);
    }
    lms_tokenizer_free(tok);
    if (st) {
        lms_ids_free(&ids);
        return st;
    }
    if (c->model.vocab_size == 0) c->model.vocab_size = vocab;
    else if (c->model.vocab_size < vocab) {
        lms_ids_free(&ids);
        return lms_errf(err, LMS_ERR_ARG, "--vocab %d is smaller than the tokenizer's %d tokens", c->model.vocab_size, vocab);
    }
    /* the loader keeps the last 10% for validation: both parts need a window of n_ctx + 1 tokens */
    size_t need = (size_t)c->model.n_ctx + 1;
    size_t n_val = ids.n / 10, n_train = ids.n - n_val;
    if (n_val < need || n_train < need) {
        size_t max_ctx = n_val > 1 ? n_val - 1 : 0;
        lms_ids_free(&ids);
        if (max_ctx < 1)
            return lms_errf(err, LMS_ERR_ARG,
                            "the --data text is too short: %zu tokens, and the last 10%% are held out for validation; "
                            "--ctx %d needs at least %zu tokens; give more text",
                            n_train + n_val, c->model.n_ctx, 10 * need);
        return lms_errf(err, LMS_ERR_ARG,
                        "--ctx %d is too long for this data: %zu tokens, of which the last 10%% (%zu) are validation; "
                        "use --ctx %zu or less, or more text",
                        c->model.n_ctx, n_train + n_val, n_val, max_ctx);
    }
    lms_loader_config lc = {.B = c->batch, .T = c->model.n_ctx, .seed = c->data_seed ? c->data_seed : c->seed, .weights = NULL, .val_tokens_per_domain = 0};
    st = lms_loader_from_tokens(out, ids.ids, ids.n, c->model.vocab_size, &lc, err);
    lms_ids_free(&ids);
    return st;
}

/* With no --tokenizer, take the one the manifest names when it is a directory that holds it (as
 * given to 'data prepare', relative to the working directory or to the shards dir), so that the
 * run remembers a tokenizer that sample can decode with. Leaves c->tokenizer empty otherwise. */
static void tokenizer_from_manifest(lms_train_config *c) {
    lms_manifest man;
    lms_err e = {0};
    if (lms_manifest_load(&man, c->data[0], &e)) return;
    const char *name = man.tokenizer_name;
    char cand[2][LMS_TRAIN_PATH + 300];
    snprintf(cand[0], sizeof cand[0], "%s", name);
    lms_path_join(cand[1], sizeof cand[1], c->data[0], name);
    for (int i = 0; i < 2 && name[0] && strcmp(name, "bytes"); i++) {
        char vj[sizeof cand[0] + 16];
        lms_path_join(vj, sizeof vj, cand[i], "vocab.json");
        char rp[PATH_MAX];
        if (lms_path_is_dir(cand[i]) && lms_path_exists(vj) && realpath(cand[i], rp) && strlen(rp) < sizeof c->tokenizer) {
            strcpy(c->tokenizer, rp);
            break;
        }
    }
    lms_manifest_free(&man);
}

static lms_status open_shards(lms_train_config *c, lms_loader **out, lms_err *err) {
    lms_loader_config lc = {.B = c->batch, .T = c->model.n_ctx, .seed = c->data_seed ? c->data_seed : c->seed, .weights = c->mix[0] ? c->mix : NULL,
                            .val_tokens_per_domain = 0};
    lms_status st = lms_loader_open(out, c->data[0], &lc, err);
    if (st) return lms_err_prefix(err, "--data %s: ", c->data[0]);
    const char *mhash = lms_loader_tokenizer_hash(*out);
    if (!c->tokenizer[0]) tokenizer_from_manifest(c);
    if (c->tokenizer[0]) {
        lms_tokenizer *tok = NULL;
        st = lms_tokenizer_load(&tok, c->tokenizer, err);
        if (!st) {
            snprintf(c->tokenizer_hash, sizeof c->tokenizer_hash, "%s", lms_tokenizer_hash(tok));
            if (c->model.vocab_size == 0) c->model.vocab_size = lms_tokenizer_vocab_size(tok);
            st = lms_loader_check_tokenizer(*out, tok, err);
            if (st) lms_err_prefix(err, "--data %s with --tokenizer %s: ", c->data[0], c->tokenizer);
        } else {
            lms_err_prefix(err, "--tokenizer %s: ", c->tokenizer);
        }
        lms_tokenizer_free(tok);
        if (st) {
            lms_loader_free(*out);
            *out = NULL;
            return st;
        }
    } else if (mhash) {
        snprintf(c->tokenizer_hash, sizeof c->tokenizer_hash, "%s", mhash);
    }
    int lv = lms_loader_vocab_size(*out);
    if (c->model.vocab_size == 0) c->model.vocab_size = lv;
    if (c->model.vocab_size < lv) {
        lms_loader_free(*out);
        *out = NULL;
        return lms_errf(err, LMS_ERR_ARG, "the shards hold token ids up to %d but the vocab size is %d", lv - 1,
                        c->model.vocab_size);
    }
    if (lms_loader_num_val_batches(*out) < 1) {
        lms_loader_free(*out);
        *out = NULL;
        return lms_errf(err, LMS_ERR_ARG, "%s has no validation batch of --batch %d x --ctx %d; lower --ctx or --batch",
                        c->data[0], c->batch, c->model.n_ctx);
    }
    return LMS_OK;
}

lms_status lms_train_open_data(lms_train_config *c, lms_loader **out, lms_err *err) {
    *out = NULL;
    if (c->n_data < 1) return lms_errf(err, LMS_ERR_ARG, "no training data: give --data FILE.txt (or a shards dir)");
    for (int i = 0; i < c->n_data; i++)
        if (!lms_path_exists(c->data[i]))
            return lms_errf(err, LMS_ERR_ARG, "--data %s: no such file or directory", c->data[i]);
    if (c->n_data == 1 && lms_path_is_dir(c->data[0])) return open_shards(c, out, err);
    if (c->mix[0]) return lms_errf(err, LMS_ERR_ARG, "--mix needs a shards dir as --data (text files have no domains)");
    return open_text(c, out, err);
}
