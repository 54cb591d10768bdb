/* test_tokloss.c — per-token loss (eval/tokloss.h) and its HTML page (eval/tokhtml.h):
 * token classes on known strings, escaping and UTF-8 helpers; lms_tokloss_text's numbers against a
 * direct lms_gpt_score call (short text) and lms_gpt_score_seq (a text longer than the context),
 * with and without a prepended <|endoftext|>; the top-k alternatives agree with the rank (also across
 * the sliding window); comparison; frequency ranks; the class breakdown against direct scoring of the
 * same validation batches and lms_validate's total; the HTML page is self-contained and holds every
 * token; bad input. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "data/loader.h"
#include "eval/tokhtml.h"
#include "eval/tokloss.h"
#include "harness.h"
#include "model/gpt.h"
#include "model/score.h"
#include "tokenizer/tokenizer.h"
#include "train/validate.h"

#define GPT2_DIR "tests/fixtures/gpt2"

static lms_gpt *make_model(int V, int n_ctx, uint64_t seed) {
    lms_gpt_config c = {.n_layer = 2, .n_head = 2, .n_embd = 16, .n_ctx = n_ctx, .vocab_size = V};
    lms_gpt *m = NULL;
    lms_err err = {0};
    LMS_ASSERT(lms_gpt_create(&m, &c, &err) == LMS_OK);
    lms_gpt_init(m, seed);
    /* larger weights than GPT-2's init, so the distributions are far from uniform and ranks differ */
    float *p = lms_gpt_params(m);
    for (int64_t i = 0; i < lms_gpt_num_params(m); i++) p[i] *= 8.0f;
    return m;
}

static void test_classes(void) {
    CHECK(lms_tok_classify(" the", 4, 0, 0) == LMS_TC_WORD_INITIAL);
    CHECK(lms_tok_classify("the", 3, 0, 0) == LMS_TC_CONTINUATION);
    CHECK(lms_tok_classify("the", 3, 1, 0) == LMS_TC_WORD_INITIAL);
    CHECK(lms_tok_classify("\tX", 2, 0, 0) == LMS_TC_WORD_INITIAL);
    CHECK(lms_tok_classify(",", 1, 0, 0) == LMS_TC_PUNCT);
    CHECK(lms_tok_classify(" (\"", 3, 1, 0) == LMS_TC_PUNCT);
    CHECK(lms_tok_classify(" 42", 3, 0, 0) == LMS_TC_DIGITS);
    CHECK(lms_tok_classify("3.14", 4, 0, 0) == LMS_TC_DIGITS);
    CHECK(lms_tok_classify("x1", 2, 0, 0) == LMS_TC_CONTINUATION);
    CHECK(lms_tok_classify("\n\n", 2, 0, 0) == LMS_TC_SPACE);
    CHECK(lms_tok_classify(" ", 1, 1, 0) == LMS_TC_SPACE);
    CHECK(lms_tok_classify("\xc2\xa0", 2, 0, 0) == LMS_TC_SPACE);        /* no-break space */
    CHECK(lms_tok_classify("\xe2\x80\x94", 3, 0, 0) == LMS_TC_PUNCT);    /* em dash */
    CHECK(lms_tok_classify(" \xe2\x80\x9c", 4, 0, 0) == LMS_TC_PUNCT);   /* opening quote */
    CHECK(lms_tok_classify("\xc3\xa9t\xc3\xa9", 5, 0, 0) == LMS_TC_CONTINUATION); /* été */
    CHECK(lms_tok_classify(" \xc3\xa9t\xc3\xa9", 6, 0, 0) == LMS_TC_WORD_INITIAL);
    CHECK(lms_tok_classify("\xe2\x80", 2, 0, 0) == LMS_TC_CONTINUATION); /* a cut character */
    CHECK(lms_tok_classify("<|endoftext|>", 13, 0, 1) == LMS_TC_SPECIAL);
    CHECK(!strcmp(lms_tok_class_name(LMS_TC_DIGITS), "digits"));
    CHECK(!strcmp(lms_tok_class_name(99), "?"));
    CHECK(lms_tok_ends_space("a\n", 2) && lms_tok_ends_space(" ", 1) && lms_tok_ends_space("x\xc2\xa0", 3));
    CHECK(!lms_tok_ends_space("a", 1) && !lms_tok_ends_space("", 0) && !lms_tok_ends_space("\xa0", 1));
}

static void test_escape_utf8(void) {
    char out[64];
    CHECK(!strcmp(lms_tok_escape("a\nb\\\t", 5, out, sizeof out), "a\\nb\\\\\\t"));
    CHECK(!strcmp(lms_tok_escape("\xff" "x\x01", 3, out, sizeof out), "\\xffx\\x01"));
    CHECK(!strcmp(lms_tok_escape("\xc3\xa9", 2, out, sizeof out), "\xc3\xa9"));
    CHECK(!strcmp(lms_tok_escape("\xe2\x80", 2, out, sizeof out), "\\xe2\\x80"));
    CHECK(!strcmp(lms_tok_escape("abcdef", 6, out, 4), "abc")); /* cut, NUL-terminated */
    CHECK(lms_tok_utf8_complete("ab\xe2\x80", 4) == 2);
    CHECK(lms_tok_utf8_complete("ab\xe2\x80\x94", 5) == 5);
    CHECK(lms_tok_utf8_complete("ab\xf0", 3) == 2);
    CHECK(lms_tok_utf8_complete("\x80\x80", 2) == 2);
    CHECK(lms_tok_utf8_complete("abc", 3) == 3);
    size_t adv;
    CHECK(lms_utf8_decode("\xe2\x82\xac", 3, &adv) == 0x20ac && adv == 3);
    CHECK(lms_utf8_decode("\xc0\xaf", 2, &adv) == -1 && adv == 1); /* overlong */
    CHECK(lms_utf8_decode("\xed\xa0\x80", 3, &adv) == -1);          /* surrogate */
}

/* Scores of the text's tokens by a direct lms_gpt_score call on one row: inputs tok[0..n-1),
   targets tok[1..n). */
static void direct_scores(const lms_gpt *m, const uint32_t *ids, size_t n, float *logp, int32_t *rank) {
    lms_scorer *s = NULL;
    lms_err err = {0};
    LMS_ASSERT(lms_scorer_create(&s, m, 1, (int)(n - 1), &err) == LMS_OK);
    int32_t *in = malloc(n * sizeof *in), *tg = malloc(n * sizeof *tg);
    for (size_t i = 0; i + 1 < n; i++) in[i] = (int32_t)ids[i], tg[i] = (int32_t)ids[i + 1];
    lms_gpt_score(s, in, tg, 1, (int)(n - 1), logp, rank);
    free(in);
    free(tg);
    lms_scorer_free(s);
}

static void test_text_bytes_matches_score(void) {
    lms_gpt *m = make_model(256, 64, 3);
    lms_tokenizer *t = lms_tokenizer_bytes();
    const char *text = "Hello, world 42!\nbye";
    size_t n = strlen(text);
    lms_tokloss r;
    lms_err err = {0};
    CHECK(lms_tokloss_text(&r, m, t, text, n, NULL, &err) == LMS_OK);
    CHECK(r.n == n && r.bos == 0 && r.windowed == 0 && r.scored == (int64_t)n - 1 && r.bytes == (int64_t)n - 1);
    uint32_t ids[64];
    for (size_t i = 0; i < n; i++) ids[i] = (unsigned char)text[i];
    float lp[64];
    int32_t rk[64];
    direct_scores(m, ids, n, lp, rk);
    double sum = 0;
    CHECK(!r.tok[0].scored && r.tok[0].logp == 0 && r.tok[0].rank == 0);
    for (size_t i = 1; i < n; i++) {
        CHECK(r.tok[i].scored && r.tok[i].id == ids[i] && r.tok[i].off == i && r.tok[i].len == 1);
        CHECK_NEAR(r.tok[i].logp, lp[i - 1], 1e-5);
        CHECK(r.tok[i].rank == rk[i - 1]);
        sum += lp[i - 1];
    }
    CHECK_NEAR(r.sum_logp, sum, 1e-4);
    CHECK_NEAR(r.mean_loss, -sum / (double)(n - 1), 1e-5);
    CHECK_NEAR(r.bpb, -sum / log(2.0) / (double)(n - 1), 1e-5);
    /* byte tokens: the letter after a space or newline starts a word */
    CHECK(r.tok[0].cls == LMS_TC_WORD_INITIAL && r.tok[1].cls == LMS_TC_CONTINUATION);
    CHECK(r.tok[5].cls == LMS_TC_PUNCT && r.tok[6].cls == LMS_TC_SPACE && r.tok[7].cls == LMS_TC_WORD_INITIAL);
    CHECK(r.tok[13].cls == LMS_TC_DIGITS && r.tok[17].cls == LMS_TC_WORD_INITIAL);
    lms_tokloss_free(&r);
    CHECK(r.tok == NULL && r.n == 0);
    lms_tokenizer_free(t);
    lms_gpt_free(m);
}

static void test_text_windowed_and_top(void) {
    lms_gpt *m = make_model(256, 16, 5);
    lms_tokenizer *t = lms_tokenizer_bytes();
    const char *text = "the quick brown fox jumps over the lazy dog; the end.";
    size_t n = strlen(text);
    lms_tokloss r;
    lms_err err = {0};
    CHECK(lms_tokloss_text(&r, m, t, text, n, &(lms_tokloss_opts){.top_k = 5}, &err) == LMS_OK);
    CHECK(r.windowed == 1 && r.n_ctx == 16);
    int32_t ids[64], rk[64];
    float lp[64];
    for (size_t i = 0; i < n; i++) ids[i] = (unsigned char)text[i];
    lms_scorer *s = NULL;
    LMS_ASSERT(lms_scorer_create(&s, m, 1, 16, &err) == LMS_OK);
    int win = 0;
    lms_gpt_score_seq(s, ids, n, lp, rk, &win);
    lms_scorer_free(s);
    CHECK(win == 1);
    int checked = 0;
    for (size_t i = 1; i < n; i++) {
        const lms_tokloss_tok *k = &r.tok[i];
        CHECK_NEAR(k->logp, lp[i], 1e-5);
        CHECK(k->rank == rk[i]);
        CHECK(k->n_top == 5);
        for (int j = 1; j < k->n_top; j++) CHECK(k->top_logp[j] <= k->top_logp[j - 1]);
        /* the alternatives come from the same context as the score (also across the sliding window):
           exactly min(rank - 1, 5) of them are more likely than the true token, and the true token
           is listed at its rank when that is <= 5 (positions with near-ties are skipped) */
        int above = 0, tie = 0;
        for (int j = 0; j < k->n_top; j++) {
            if (fabsf(k->top_logp[j] - k->logp) < 1e-4f && k->top_id[j] != k->id) tie = 1;
            above += k->top_logp[j] > k->logp + 1e-4f;
        }
        if (tie) continue;
        CHECKF(above == (k->rank - 1 < 5 ? k->rank - 1 : 5), "token %zu: rank %d, %d alternatives above", i, k->rank, above);
        if (k->rank <= 5) {
            CHECK(k->top_id[k->rank - 1] == k->id);
            CHECK_NEAR(k->top_logp[k->rank - 1], k->logp, 1e-4);
        }
        checked++;
    }
    CHECKF(checked >= (int)n - 5, "only %d of %zu positions checked", checked, n);
    /* the strong check: put an alternative in the true token's place and let the scorer itself score it
       (same n, so the same windows): it must get the alternative's log-prob */
    LMS_ASSERT(lms_scorer_create(&s, m, 1, 16, &err) == LMS_OK);
    for (size_t i = 1; i < n; i++) {
        for (int k = 0; k < 5; k += 4) {
            int32_t alt[64];
            float alp[64];
            memcpy(alt, ids, n * sizeof *alt);
            alt[i] = (int32_t)r.tok[i].top_id[k];
            lms_gpt_score_seq(s, alt, n, alp, NULL, NULL);
            CHECKF(fabsf(alp[i] - r.tok[i].top_logp[k]) < 1e-4f, "position %zu alternative %d: scorer %f, top-k %f", i, k,
                   alp[i], r.tok[i].top_logp[k]);
        }
    }
    lms_scorer_free(s);
    lms_tokloss_free(&r);
    lms_tokenizer_free(t);
    lms_gpt_free(m);
}

static void test_text_bpe_bos(void) {
    lms_tokenizer *t = NULL;
    lms_err err = {0};
    if (lms_tokenizer_load(&t, GPT2_DIR, &err) != LMS_OK) {
        CHECKF(0, "%s", err.msg);
        return;
    }
    lms_gpt *m = make_model(lms_tokenizer_vocab_size(t), 32, 7);
    const char *text = "The capital of France is Paris.\n\n\"Yes,\" she said — 1984.";
    size_t n = strlen(text);
    lms_tokloss r;
    CHECK(lms_tokloss_text(&r, m, t, text, n, NULL, &err) == LMS_OK);
    CHECK(r.bos == 1 && r.tok[0].id == (uint32_t)lms_tokenizer_eot(t) && r.tok[0].len == 0 && !r.tok[0].scored);
    CHECK(r.tok[0].cls == LMS_TC_SPECIAL);
    CHECK(r.scored == (int64_t)r.n - 1 && r.bytes == (int64_t)n);
    size_t off = 0;
    uint32_t ids[64];
    for (size_t i = 0; i < r.n && i < 64; i++) {
        ids[i] = r.tok[i].id;
        CHECK(r.tok[i].off == off);
        off += r.tok[i].len;
        if (i > 0) {
            size_t tl;
            const char *tb = lms_tokenizer_token(t, r.tok[i].id, &tl);
            CHECK(tl == r.tok[i].len && !memcmp(tb, text + r.tok[i].off, tl));
        }
    }
    CHECK(off == n);
    CHECK(r.tok[1].cls == LMS_TC_WORD_INITIAL);  /* "The" after <|endoftext|> */
    CHECK(r.tok[2].cls == LMS_TC_WORD_INITIAL);  /* " capital" */
    float lp[64];
    int32_t rk[64];
    direct_scores(m, ids, r.n, lp, rk);
    for (size_t i = 1; i < r.n; i++) {
        CHECK_NEAR(r.tok[i].logp, lp[i - 1], 1e-5);
        CHECK(r.tok[i].rank == rk[i - 1]);
    }
    /* without the EOT the first token is not scored, and the others keep their ids */
    lms_tokloss r2;
    CHECK(lms_tokloss_text(&r2, m, t, text, n, &(lms_tokloss_opts){.no_bos = 1}, &err) == LMS_OK);
    CHECK(r2.bos == 0 && r2.n == r.n - 1 && !r2.tok[0].scored && r2.scored == (int64_t)r.n - 2);
    CHECK(r2.tok[0].id == r.tok[1].id && r2.tok[0].len == r.tok[1].len);
    lms_tokloss_free(&r2);

    /* comparison of two models on the same tokens */
    lms_gpt *m2 = make_model(lms_tokenizer_vocab_size(t), 32, 8);
    lms_tokloss b;
    CHECK(lms_tokloss_text(&b, m2, t, text, n, NULL, &err) == LMS_OK);
    lms_tokloss_cmp c;
    CHECK(lms_tokloss_compare(&c, &r, &b, 0.5, &err) == LMS_OK);
    double sum = 0;
    int64_t better = 0, worse = 0;
    for (size_t i = 1; i < r.n; i++) {
        CHECK_NEAR(c.diff[i], b.tok[i].logp - r.tok[i].logp, 1e-6);
        sum += c.diff[i];
        better += c.diff[i] >= 0.5;
        worse += c.diff[i] <= -0.5;
    }
    CHECK(c.diff[0] == 0 && c.scored == (int64_t)r.n - 1);
    CHECK_NEAR(c.mean_diff, sum / (double)(r.n - 1), 1e-6);
    CHECK(c.much_better == better && c.much_worse == worse);
    CHECK(c.n_better + c.n_worse > 0);
    for (int k = 0; k < c.n_better; k++) {
        CHECK(c.diff[c.better[k]] > 0);
        if (k) CHECK(c.diff[c.better[k]] <= c.diff[c.better[k - 1]]);
    }
    for (int k = 0; k < c.n_worse; k++) {
        CHECK(c.diff[c.worse[k]] < 0);
        if (k) CHECK(c.diff[c.worse[k]] >= c.diff[c.worse[k - 1]]);
    }
    /* the largest improvement is first: no token beats it */
    if (c.n_better)
        for (size_t i = 0; i < r.n; i++) CHECK(c.diff[i] <= c.diff[c.better[0]]);
    lms_tokloss_cmp_free(&c);
    CHECK(lms_tokloss_compare(&c, &r, &b, 0, &err) == LMS_ERR_ARG);

    /* a different text (different tokens) cannot be compared; nor different tokenizers */
    lms_tokloss other;
    CHECK(lms_tokloss_text(&other, m2, t, "Another text entirely, longer than the first one is.", 52, NULL, &err) == LMS_OK);
    CHECK(lms_tokloss_compare(&c, &r, &other, 1.0, &err) == LMS_ERR_MISMATCH);
    lms_tokloss_free(&other);
    lms_tokenizer *bytes = lms_tokenizer_bytes();
    CHECK(lms_tokloss_check_same_tokenizer(t, "gpt2", t, "gpt2 again", &err) == LMS_OK);
    CHECK(lms_tokloss_check_same_tokenizer(t, "runs/a", bytes, "runs/b", &err) == LMS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "runs/a") && strstr(err.msg, "runs/b") && strstr(err.msg, "different tokenizers"));
    lms_tokenizer_free(bytes);

    lms_tokloss_free(&b);
    lms_tokloss_free(&r);
    lms_gpt_free(m2);
    lms_gpt_free(m);
    lms_tokenizer_free(t);
}

static void test_bad_input(void) {
    lms_gpt *m = make_model(256, 16, 1);
    lms_tokenizer *t = lms_tokenizer_bytes();
    lms_tokloss r;
    lms_err err = {0};
    CHECK(lms_tokloss_text(&r, m, t, "", 0, NULL, &err) == LMS_ERR_ARG && strstr(err.msg, "empty"));
    CHECK(lms_tokloss_text(&r, m, t, "x", 1, NULL, &err) == LMS_ERR_ARG && strstr(err.msg, "single token"));
    CHECK(lms_tokloss_text(&r, m, t, "xy", 2, &(lms_tokloss_opts){.top_k = 11}, &err) == LMS_ERR_ARG);
    CHECK(r.tok == NULL && r.n == 0);
    lms_gpt *small = make_model(100, 16, 1); /* a vocabulary smaller than the tokenizer's */
    CHECK(lms_tokloss_text(&r, small, t, "xy", 2, NULL, &err) == LMS_ERR_MISMATCH);
    lms_gpt_free(small);
    lms_tokenizer_free(t);
    lms_gpt_free(m);
}

static void test_freq_rank(void) {
    uint64_t counts[6] = {5, 0, 9, 5, 1, 0};
    int32_t rank[6];
    lms_err err = {0};
    CHECK(lms_tokloss_freq_rank(counts, 6, rank, &err) == LMS_OK);
    CHECK(rank[2] == 0 && rank[0] == 1 && rank[3] == 2 && rank[4] == 3 && rank[1] == -1 && rank[5] == -1);
    CHECK(lms_freq_bucket_of(0) == LMS_FB_TOP100 && lms_freq_bucket_of(99) == LMS_FB_TOP100);
    CHECK(lms_freq_bucket_of(100) == LMS_FB_1K && lms_freq_bucket_of(999) == LMS_FB_1K);
    CHECK(lms_freq_bucket_of(1000) == LMS_FB_10K && lms_freq_bucket_of(10000) == LMS_FB_RARE);
    CHECK(lms_freq_bucket_of(-1) == LMS_FB_UNSEEN);
    CHECK(!strcmp(lms_freq_bucket_name(LMS_FB_RARE), "rarer"));
    CHECK(lms_tokloss_train_counts(&(uint64_t *){0}, 256, "/nonexistent/dir", NULL, &err) == LMS_ERR_IO);
}

static void test_breakdown(void) {
    const char *text = "the cat sat on the mat, 12 times.\nA dog ran 3 laps in the park!\n";
    size_t tl = strlen(text), n = tl * 12;
    uint32_t *tok = malloc(n * sizeof *tok);
    for (size_t i = 0; i < n; i++) tok[i] = (unsigned char)text[i % tl];
    lms_loader_config lc = {.B = 4, .T = 16, .seed = 1};
    lms_loader *l = NULL;
    lms_err err = {0};
    LMS_ASSERT(lms_loader_from_tokens(&l, tok, n, 256, &lc, &err) == LMS_OK);
    lms_gpt *m = make_model(256, 16, 11), *m2 = make_model(256, 32, 12);
    lms_tokenizer *t = lms_tokenizer_bytes();
    uint64_t counts[256] = {0};
    for (size_t i = 0; i < n; i++) counts[tok[i]]++;
    int32_t rank[256];
    LMS_ASSERT(lms_tokloss_freq_rank(counts, 256, rank, &err) == LMS_OK);
    const lms_gpt *models[2] = {m, m2};
    lms_tokloss_breakdown bd;
    CHECK(lms_tokloss_breakdown_run(&bd, models, 2, t, l, 4, 16, -1, 0, rank, &err) == LMS_OK);
    /* direct: the same batches, real rows only */
    lms_scorer *s = NULL;
    LMS_ASSERT(lms_scorer_create(&s, m, 4, 16, &err) == LMS_OK);
    int32_t in[64], tg[64];
    float lp[64];
    double loss = 0;
    int64_t ntok = 0;
    for (int i = 0; i < lms_loader_num_val_batches(l); i++) {
        lms_loader_val_batch(l, i, in, tg, NULL);
        int rows = lms_loader_val_rows(l, i);
        lms_gpt_score(s, in, tg, 4, 16, lp, NULL);
        for (int j = 0; j < rows * 16; j++) loss -= lp[j], ntok++;
    }
    /* the same total as the validation loss that train and 'eval --domains' report */
    lms_val_result vr;
    CHECK(lms_validate(s, l, -1, t, &vr, &err) == LMS_OK);
    CHECK(vr.tokens == ntok);
    CHECK_NEAR(vr.loss, loss / (double)ntok, 1e-5);
    lms_val_result_free(&vr);
    lms_scorer_free(s);
    CHECK(bd.batches == lms_loader_num_val_batches(l) && bd.n_models == 2 && bd.has_freq);
    CHECK(bd.all.tokens == ntok && ntok > 0);
    CHECK_NEAR(bd.all.loss[0], loss, 1e-3);
    CHECK(bd.all.loss[1] > 0 && fabs(bd.all.loss[1] - bd.all.loss[0]) > 1e-3); /* another model, another loss */
    int64_t sc = 0, sf = 0;
    double lc_sum = 0, lf_sum = 0;
    for (int k = 0; k < LMS_TC_N; k++) sc += bd.cls[k].tokens, lc_sum += bd.cls[k].loss[0];
    for (int k = 0; k < LMS_FB_N; k++) sf += bd.freq[k].tokens, lf_sum += bd.freq[k].loss[0];
    CHECK(sc == ntok && sf == ntok);
    CHECK_NEAR(lc_sum, loss, 1e-3);
    CHECK_NEAR(lf_sum, loss, 1e-3);
    CHECK(bd.cls[LMS_TC_DIGITS].tokens > 0 && bd.cls[LMS_TC_PUNCT].tokens > 0 && bd.cls[LMS_TC_SPACE].tokens > 0);
    CHECK(bd.cls[LMS_TC_WORD_INITIAL].tokens > 0 && bd.cls[LMS_TC_CONTINUATION].tokens > 0);
    CHECK(bd.freq[LMS_FB_TOP100].tokens == ntok); /* fewer than 100 distinct bytes */
    int64_t idsum = 0;
    for (int id = 0; id < 256; id++) idsum += bd.id_tokens[id];
    CHECK(idsum == ntok);
    uint32_t easy[5], hard[5];
    int ne, nh;
    lms_tokloss_breakdown_extremes(&bd, 3, 5, easy, &ne, hard, &nh);
    CHECK(ne == 5 && nh == 5);
    for (int k = 1; k < ne; k++)
        CHECK(bd.id_loss[easy[k]] / bd.id_tokens[easy[k]] >= bd.id_loss[easy[k - 1]] / bd.id_tokens[easy[k - 1]]);
    for (int k = 1; k < nh; k++)
        CHECK(bd.id_loss[hard[k]] / bd.id_tokens[hard[k]] <= bd.id_loss[hard[k - 1]] / bd.id_tokens[hard[k - 1]]);
    CHECK(bd.id_loss[hard[0]] / bd.id_tokens[hard[0]] >= bd.id_loss[easy[0]] / bd.id_tokens[easy[0]]);
    lms_tokloss_breakdown_free(&bd);
    /* counts estimated from training sampling: only ids of the text, summing to what was counted */
    uint64_t *est = NULL, got = 0;
    CHECK(lms_tokloss_sampled_counts(&est, 256, l, 4, 16, -1, 5000, &got, &err) == LMS_OK);
    uint64_t esum = 0;
    for (int id = 0; id < 256; id++) {
        esum += est[id];
        if (!counts[id]) CHECK(est[id] == 0);
    }
    CHECK(got >= 5000 && esum == got);
    CHECK(est[' '] > est['!']); /* ' ' is far more frequent than '!' in the text */
    free(est);
    /* a model whose context is shorter than the windows is refused */
    lms_gpt *tiny = make_model(256, 8, 1);
    const lms_gpt *one[1] = {tiny};
    CHECK(lms_tokloss_breakdown_run(&bd, one, 1, t, l, 4, 16, -1, 0, NULL, &err) == LMS_ERR_ARG);
    CHECK(lms_tokloss_breakdown_run(&bd, one, 1, t, l, 4, 16, 7, 0, NULL, &err) == LMS_ERR_ARG);
    lms_gpt_free(tiny);
    lms_tokenizer_free(t);
    lms_gpt_free(m);
    lms_gpt_free(m2);
    lms_loader_free(l);
    free(tok);
}

static void test_html(void) {
    lms_gpt *m = make_model(256, 64, 3), *m2 = make_model(256, 64, 4);
    lms_tokenizer *t = lms_tokenizer_bytes();
    const char *text = "a</script><b>&\"x\"\n\xe2\x80\x94 end";
    size_t n = strlen(text);
    lms_tokloss r, r2;
    lms_tokloss_cmp c;
    lms_err err = {0};
    LMS_ASSERT(lms_tokloss_text(&r, m, t, text, n, &(lms_tokloss_opts){.top_k = 5}, &err) == LMS_OK);
    LMS_ASSERT(lms_tokloss_text(&r2, m2, t, text, n, &(lms_tokloss_opts){.top_k = 5}, &err) == LMS_OK);
    LMS_ASSERT(lms_tokloss_compare(&c, &r, &r2, 1.0, &err) == LMS_OK);
    char dir[] = "/tmp/lms_test_tokloss_XXXXXX", path[128];
    LMS_ASSERT(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/page.html", dir);
    for (int two = 0; two < 2; two++) {
        lms_tokhtml h = {.text = text, .tok = t, .a = &r, .name_a = "A<model>", .b = two ? &r2 : NULL, .name_b = "B",
                         .cmp = two ? &c : NULL};
        CHECK(lms_tokhtml_write(path, &h, &err) == LMS_OK);
        char *page = NULL;
        size_t len = 0;
        LMS_ASSERT(lms_file_read_all(path, &page, &len, &err) == LMS_OK);
        CHECK(!strncmp(page, "<!DOCTYPE html>", 15));
        CHECK(!strstr(page, "http://") && !strstr(page, "https://") && !strstr(page, "src=") && !strstr(page, "<link"));
        /* the text's "</script>" is escaped: the page has exactly one script element, closed once */
        const char *s1 = strstr(page, "</script>");
        CHECK(s1 && !strstr(s1 + 1, "</script>"));
        CHECK(strstr(page, "A&lt;model&gt;") != NULL);
        int spans = 0;
        for (const char *p = page; (p = strstr(p, "<span class=\"t")); p++) spans++;
        CHECKF(spans == (int)n, "%d spans for %zu tokens", spans, n); /* bytes: one token per byte */
        CHECK(strstr(page, two ? "Where B is better" : "Hardest tokens") != NULL);
        free(page);
    }
    /* no half-written file when the directory does not exist */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/page.html", dir);
    lms_tokhtml h = {.text = text, .tok = t, .a = &r, .name_a = "A"};
    CHECK(lms_tokhtml_write(bad, &h, &err) != LMS_OK);
    h.b = &r2; /* a second result without its comparison */
    CHECK(lms_tokhtml_write(path, &h, &err) == LMS_ERR_ARG);
    char col[32];
    lms_tokhtml_loss_color(0, col);
    CHECK(!strcmp(col, "hsl(120,85%,88%)"));
    lms_tokhtml_loss_color(100, col);
    CHECK(!strcmp(col, "hsl(0,85%,72%)"));
    lms_tokhtml_diff_color(-4, col);
    CHECK(!strncmp(col, "hsl(0,90%", 9));
    unlink(path);
    rmdir(dir);
    lms_tokloss_cmp_free(&c);
    lms_tokloss_free(&r);
    lms_tokloss_free(&r2);
    lms_tokenizer_free(t);
    lms_gpt_free(m);
    lms_gpt_free(m2);
}

TESTS(test_classes, test_escape_utf8, test_text_bytes_matches_score, test_text_windowed_and_top, test_text_bpe_bos,
      test_bad_input, test_freq_rank, test_breakdown, test_html)
