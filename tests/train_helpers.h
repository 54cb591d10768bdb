/* train_helpers.h — what the trainer's tests share: a temporary directory and its removal, byte
 * tokens of pseudo-English (sentences drawn from a small set, so there is something to learn), a
 * loader over them and the tiny config (1 layer, width 32, context 16) they train. Used by
 * test_train.c and test_train_runs.c; include after harness.h with _XOPEN_SOURCE 700 defined.
 */
#ifndef LMS_TESTS_TRAIN_HELPERS_H
#define LMS_TESTS_TRAIN_HELPERS_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "data/loader.h"
#include "train/train.h"

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb, (void)flag, (void)f;
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

/* A new /tmp/lms_test_train_XXXXXX directory (the last 8 stay valid). */
static char *make_tmpdir(void) {
    static char buf[8][64];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 64, "/tmp/lms_test_train_XXXXXX");
    return mkdtemp(b);
}

static uint32_t *g_tok;
static size_t g_ntok;
static void make_tokens(void) {
    if (g_tok) return;
    static const char *s[] = {"the cat sat on the mat. ", "a dog ran in the park. ", "the sun is hot today. ",
                              "we like to read books. ", "it rains in the fall. ", "birds sing in the morning. "};
    lms_rng r;
    lms_rng_seed(&r, 42);
    g_tok = malloc(40000 * sizeof *g_tok);
    while (g_ntok < 39000) {
        const char *p = s[lms_rng_below(&r, 6)];
        for (; *p; p++) g_tok[g_ntok++] = (uint8_t)*p;
    }
}

/* A loader over the tokens for c's batch, context and seed, with a vocabulary of `vocab`. */
static lms_loader *loader_vocab(const lms_train_config *c, int vocab) {
    make_tokens();
    lms_loader_config lc = {.B = c->batch, .T = c->model.n_ctx, .seed = c->seed};
    lms_loader *l = NULL;
    lms_err err = {0};
    if (lms_loader_from_tokens(&l, g_tok, g_ntok, vocab, &lc, &err)) fprintf(stderr, "loader: %s\n", err.msg);
    return l;
}
static lms_loader *loader_for(const lms_train_config *c) { return loader_vocab(c, 256); }

static lms_train_config tiny_config(void) {
    lms_train_config c;
    lms_train_config_defaults(&c);
    c.model = (lms_gpt_config){.n_layer = 1, .n_head = 2, .n_embd = 32, .n_ctx = 16, .vocab_size = 256};
    c.batch = 4;
    c.steps = 12;
    c.lr = 1e-2f;
    c.schedule = LMS_SCHED_CONSTANT;
    c.warmup = 2;
    c.threads = 2;
    c.eval_interval = 4;
    c.eval_batches = 2;
    c.ckpt_interval = 0;
    c.seed = 7;
    return c;
}

#endif
