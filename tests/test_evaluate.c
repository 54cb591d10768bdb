/* test_evaluate.c — suite scoring (src/eval/evaluate.c) on a tiny random model with the byte
 * tokenizer: every per-choice log-likelihood equals a hand computation through lms_gpt_score,
 * batching and padding do not change results, the aggregates follow from the per-item numbers,
 * truncation and sliding windows, generation items against lms_generate, and the statistics;
 * acc_norm divides by characters and acc_bytes by bytes (they differ on non-ASCII choices), and the
 * per-item callback (on_item) sees every item once, in order, with the aggregates' numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/evaluate.h"
#include "eval/generate.h"
#include "harness.h"
#include "model/score.h"

#define NCTX 32

static lms_gpt *tiny_model(int vocab) {
    lms_gpt_config c = {.n_layer = 2, .n_head = 2, .n_embd = 32, .n_ctx = NCTX, .vocab_size = vocab};
    lms_gpt *m = NULL;
    lms_err err = {0};
    if (lms_gpt_create(&m, &c, &err)) return NULL;
    lms_gpt_init(m, 7);
    /* larger weights than GPT-2's init so that log-probs differ visibly between choices */
    float *p = lms_gpt_params(m);
    for (int64_t i = 0; i < lms_gpt_num_params(m); i++) p[i] *= 8.0f;
    return m;
}

/* Summed log p of cont given ctx (byte ids), scored alone through lms_gpt_score (B = 1). The
   context is cut on the left to fit, as the evaluator documents. */
static double hand_logp(lms_gpt *m, const char *ctx, size_t nc, const char *cont, size_t nt) {
    if (nc == 0) ctx = "\n", nc = 1; /* the byte tokenizer has no end-of-text: the newline starts */
    if (nc + nt - 1 > NCTX) {
        size_t keep = NCTX + 1 - nt;
        ctx += nc - keep;
        nc = keep;
    }
    int n = (int)(nc + nt), T = n - 1;
    int32_t in[NCTX], tg[NCTX];
    float lp[NCTX];
    for (int j = 0; j < T; j++) {
        int next = j + 1;
        unsigned char a = (unsigned char)(j < (int)nc ? ctx[j] : cont[j - nc]);
        unsigned char b = (unsigned char)(next < (int)nc ? ctx[next] : cont[next - nc]);
        in[j] = a;
        tg[j] = next >= (int)nc ? b : -1;
    }
    lms_scorer *s;
    lms_err err = {0};
    if (lms_scorer_create(&s, m, 1, NCTX, &err)) return NAN;
    lms_gpt_score(s, in, tg, 1, T, lp, NULL);
    lms_scorer_free(s);
    double sum = 0;
    for (int j = (int)nc - 1; j < T; j++) sum += lp[j];
    return sum;
}

static lms_status run_suite(lms_gpt *m, lms_tokenizer *tok, const char *text, lms_eval_config *c, lms_eval_result *r,
                            lms_err *err) {
    lms_evaluator *ev;
    if (lms_evaluator_create(&ev, m, tok, c, err)) return err->code;
    lms_suite *s;
    lms_status st = lms_suite_open_mem(&s, text, strlen(text), LMS_SUITE_JSONL, "mem/probe.jsonl", err);
    if (!st) st = lms_eval_suite(ev, s, r, err);
    lms_suite_close(s);
    lms_evaluator_free(ev);
    return st;
}

/* Items: contexts with trailing whitespace, an empty context, 2-4 choices of different lengths. */
static const char *MC_SUITE =
    "{\"context\": \"The cat sat on the \", \"choices\": [\"mat\", \"hat\", \"dog house\"], \"answer\": 0}\n"
    "{\"context\": \"2 + 3 =\", \"choices\": [\" 5\", \" 6\"], \"answer\": 1}\n"
    "{\"context\": \"\", \"choices\": [\"abc\", \"xyz\", \"q\", \"hello\"], \"answer\": 2}\n"
    "{\"context\": \"Q: color?\\nA:\\n\", \"choices\": [\"red\", \"blue\"], \"answer\": 0}\n"
    "{\"context\": \"one two three four five six seven eight nine ten\", \"choices\": [\" eleven\", \" twelve!\"], \"answer\": 0}\n";

typedef struct {
    const char *ctx, *choices[4];
    int n, answer;
} mc_item;
static const mc_item MC[] = {
    {"The cat sat on the ", {"mat", "hat", "dog house"}, 3, 0},
    {"2 + 3 =", {" 5", " 6"}, 2, 1},
    {"", {"abc", "xyz", "q", "hello"}, 4, 2},
    {"Q: color?\nA:\n", {"red", "blue"}, 2, 0},
    {"one two three four five six seven eight nine ten", {" eleven", " twelve!"}, 2, 0},
};

static void test_mc_hand(void) {
    lms_gpt *m = tiny_model(256);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    CHECK(m && tok);
    lms_eval_config c = lms_eval_defaults();
    c.show = 10;
    c.batch = 3;
    lms_eval_result r;
    lms_err err = {0};
    CHECKF(run_suite(m, tok, MC_SUITE, &c, &r, &err) == LMS_OK, "%s", err.msg);
    CHECK(r.n_rows == 1);
    lms_eval_row *row = &r.row[0];
    CHECK(!strcmp(row->suite, "probe") && row->kind == LMS_ITEM_MC && row->n == 5 && row->n_shown == 5);
    CHECK(row->truncated == 1); /* the last item: 48 + 7 bytes > 32 */
    int correct = 0, correct_norm = 0, correct_bytes = 0;
    double sum_logp = 0, sum_prob = 0, chance = 0, sq_prob = 0;
    for (int i = 0; i < 5 && i < row->n_shown; i++) {
        const mc_item *it = &MC[i];
        const lms_eval_shown *s = &row->shown[i];
        /* whitespace at the end of the context moves onto each choice */
        size_t cl = strlen(it->ctx);
        while (cl && strchr(" \n", it->ctx[cl - 1])) cl--;
        double ll[4], mx = -INFINITY, z = 0;
        int pick = 0, pick_norm = 0, pick_bytes = 0; /* ASCII choices: characters = bytes */
        for (int k = 0; k < it->n; k++) {
            char cont[64];
            snprintf(cont, sizeof cont, "%s%s", it->ctx + cl, it->choices[k]);
            ll[k] = hand_logp(m, it->ctx, cl, cont, strlen(cont));
            CHECK_NEAR(s->logp[k], ll[k], 1e-4);
            if (ll[k] > ll[pick]) pick = k;
            if (ll[k] / strlen(it->choices[k]) > ll[pick_norm] / strlen(it->choices[pick_norm])) pick_norm = k;
            if (ll[k] / strlen(it->choices[k]) > ll[pick_bytes] / strlen(it->choices[pick_bytes])) pick_bytes = k;
            if (ll[k] > mx) mx = ll[k];
        }
        for (int k = 0; k < it->n; k++) z += exp(ll[k] - mx);
        double p = exp(ll[it->answer] - mx) / z;
        CHECK_NEAR(s->prob[it->answer], p, 1e-6);
        CHECK(s->pick == pick && s->pick_norm == pick_norm && s->pick_bytes == pick_bytes && s->answer == it->answer &&
              s->line == i + 1);
        CHECK(s->truncated == (i == 4));
        correct += pick == it->answer;
        correct_norm += pick_norm == it->answer;
        correct_bytes += pick_bytes == it->answer;
        sum_logp += ll[it->answer];
        sum_prob += p;
        sq_prob += p * p;
        chance += 1.0 / it->n;
    }
    CHECK_NEAR(row->acc, correct / 5.0, 1e-12);
    CHECK_NEAR(row->acc_norm, correct_norm / 5.0, 1e-12);
    CHECK_NEAR(row->acc_bytes, correct_bytes / 5.0, 1e-12);
    CHECK_NEAR(row->acc_bytes_se, lms_eval_binomial_se(row->acc_bytes, 5), 1e-12);
    CHECK_NEAR(row->acc_se, sqrt((row->acc * 5 + 2) / 9 * (1 - (row->acc * 5 + 2) / 9) / 9), 1e-12);
    CHECK_NEAR(row->logp, sum_logp / 5, 1e-4);
    CHECK_NEAR(row->prob, sum_prob / 5, 1e-6);
    CHECK_NEAR(row->prob_se, sqrt((sq_prob - sum_prob * sum_prob / 5) / 4 / 5), 1e-5);
    CHECK_NEAR(row->chance, chance / 5, 1e-12);
    CHECK(isnan(row->edit) && isnan(row->edit_se));
    /* the item's strings are kept for display */
    CHECK(!strcmp(row->shown[0].context, MC[0].ctx) && !strcmp(row->shown[0].choices[2], "dog house"));
    /* at least one item is not decided by chance alone: the scores differ between choices */
    CHECK(fabs(row->shown[0].logp[0] - row->shown[0].logp[1]) > 1e-3);
    lms_eval_result_free(&r);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

/* The same suite scored one row per call and many rows per call (different padding, different
   batch neighbours) gives the same numbers. */
static void test_batching_invariant(void) {
    lms_gpt *m = tiny_model(256);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    lms_err err = {0};
    /* 40 items so that windows and batches split in different places */
    char *text = malloc(40 * 200);
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        n += (size_t)sprintf(text + n, "{\"context\": \"item %d says%.*s\", \"choices\": [\" yes\", \" no\", \" %d\"], \"answer\": %d}\n", i,
                             i % 13, "xxxxxxxxxxxxx", i * 7, i % 3);
    lms_eval_result r1, r8;
    lms_eval_config c = lms_eval_defaults();
    c.show = 40;
    c.batch = 1;
    CHECK(run_suite(m, tok, text, &c, &r1, &err) == LMS_OK);
    c.batch = 8;
    CHECK(run_suite(m, tok, text, &c, &r8, &err) == LMS_OK);
    CHECK(r1.row[0].n == 40 && r8.row[0].n == 40);
    /* fp32: the matrix products see other shapes, so results agree to rounding, relative to the
       size of the log-likelihoods (tens of nats with these weights) */
    double maxd = 0, maxl = 0;
    for (int i = 0; i < 40; i++)
        for (int k = 0; k < 3; k++) {
            maxd = fmax(maxd, fabs(r1.row[0].shown[i].logp[k] - r8.row[0].shown[i].logp[k]));
            maxl = fmax(maxl, fabs(r1.row[0].shown[i].logp[k]));
        }
    CHECKF(maxd < 1e-5 * maxl, "max difference %g, max |logp| %g", maxd, maxl);
    CHECK(r1.row[0].acc == r8.row[0].acc && r1.row[0].acc_norm == r8.row[0].acc_norm);
    CHECK_NEAR(r1.row[0].logp, r8.row[0].logp, 1e-4);
    lms_eval_result_free(&r1);
    lms_eval_result_free(&r8);
    free(text);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

/* seq items: per-token log p and top-1 against lms_gpt_score_seq; a target longer than the
   context is scored with the sliding window and counted. Mixed kinds give one row per kind. */
static void test_seq_and_window(void) {
    lms_gpt *m = tiny_model(256);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    lms_err err = {0};
    const char *tgt_long = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"; /* 46 > 32 tokens */
    char text[1024];
    snprintf(text, sizeof text,
             "{\"context\": \"copy: qwerty\", \"target\": \" qwerty\", \"kind\": \"seq\"}\n"
             "{\"context\": \"x\", \"target\": \"%s\", \"kind\": \"seq\"}\n"
             "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"answer\": 0}\n",
             tgt_long);
    lms_eval_config c = lms_eval_defaults();
    c.show = 5;
    lms_eval_result r;
    CHECKF(run_suite(m, tok, text, &c, &r, &err) == LMS_OK, "%s", err.msg);
    CHECK(r.n_rows == 2 && !strcmp(r.row[0].suite, "probe/mc") && !strcmp(r.row[1].suite, "probe/seq"));
    lms_eval_row *row = &r.row[1];
    CHECK(row->kind == LMS_ITEM_SEQ && row->n == 2 && row->windowed == 1 && row->truncated == 1 && row->chance == 0);
    /* by hand: the whole token string through score_seq, the target's positions summed */
    lms_scorer *s;
    CHECK(lms_scorer_create(&s, m, 1, NCTX, &err) == LMS_OK);
    double lsum = 0, top = 0, ntok = 0;
    const char *ctxs[2] = {"copy: qwerty", "x"}, *tgts[2] = {" qwerty", tgt_long};
    for (int i = 0; i < 2; i++) {
        char all[128];
        snprintf(all, sizeof all, "%s%s", ctxs[i], tgts[i]);
        size_t n = strlen(all), nc = strlen(ctxs[i]);
        int32_t ids[128], rk[128];
        float lp[128];
        for (size_t j = 0; j < n; j++) ids[j] = (unsigned char)all[j];
        lms_gpt_score_seq(s, ids, n, lp, rk, NULL);
        double il = 0, it1 = 0;
        for (size_t j = nc; j < n; j++) il += lp[j], it1 += rk[j] == 1;
        CHECK_NEAR(row->shown[i].target_logp, il, 1e-4);
        CHECK(row->shown[i].top1 == (int64_t)it1 && row->shown[i].target_tokens == (int64_t)(n - nc));
        lsum += il, top += it1, ntok += (double)(n - nc);
    }
    lms_scorer_free(s);
    CHECK(row->tokens_scored == (int64_t)ntok);
    CHECK_NEAR(row->logp, lsum / ntok, 1e-5);
    CHECK_NEAR(row->acc, top / ntok, 1e-12);
    CHECK(!isnan(row->logp_se) && row->logp_se >= 0 && isnan(row->prob) && isnan(row->acc_norm) && isnan(row->acc_bytes));
    lms_eval_result_free(&r);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

/* gen items: the greedy output is lms_generate's; a target equal to it is an exact match with
   edit distance 0, a changed one is not. */
static void test_gen(void) {
    lms_gpt *m = tiny_model(256);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    lms_err err = {0};
    /* find a context whose 3-token greedy continuation is printable ASCII (so it fits in JSON) */
    char ctx[8] = "", out[8] = "";
    for (int a = 'a'; a <= 'z' && !out[0]; a++)
        for (int b = 'a'; b <= 'z' && !out[0]; b++) {
            uint32_t prompt[2] = {(uint32_t)a, (uint32_t)b};
            lms_generate_config gc = lms_generate_defaults();
            gc.max_tokens = 3;
            gc.sampling.temperature = 0;
            lms_ids ids = {0};
            if (lms_generate(m, prompt, 2, &gc, &ids, NULL, &err) == LMS_OK && ids.n == 3) {
                int ok = 1;
                for (int k = 0; k < 3; k++) ok &= ids.ids[k] > ' ' && ids.ids[k] < 127 && ids.ids[k] != '"' && ids.ids[k] != '\\';
                if (ok) {
                    ctx[0] = (char)a, ctx[1] = (char)b, ctx[2] = 0;
                    for (int k = 0; k < 3; k++) out[k] = (char)ids.ids[k];
                    out[3] = 0;
                }
            }
            lms_ids_free(&ids);
        }
    CHECKF(out[0], "no context gives a printable greedy continuation");
    if (!out[0]) return;
    char wrong[8];
    snprintf(wrong, sizeof wrong, "%s", out);
    wrong[1] = wrong[1] == 'Z' ? 'Y' : 'Z';
    char text[512];
    snprintf(text, sizeof text,
             "{\"context\": \"%s\", \"target\": \"%s\", \"kind\": \"gen\"}\n"
             "{\"context\": \"%s\", \"target\": \"%s\"}\n",
             ctx, out, ctx, wrong);
    lms_eval_config c = lms_eval_defaults();
    c.show = 2;
    c.gen_extra = 0; /* exactly the target's 3 tokens */
    lms_eval_result r;
    CHECKF(run_suite(m, tok, text, &c, &r, &err) == LMS_OK, "%s", err.msg);
    lms_eval_row *row = &r.row[0];
    CHECK(r.n_rows == 1 && row->kind == LMS_ITEM_GEN && row->n == 2);
    CHECK(row->shown[0].correct == 1 && row->shown[0].edit == 0 && !strcmp(row->shown[0].output, out));
    CHECK(row->shown[1].correct == 0 && row->shown[1].edit == 1);
    CHECK_NEAR(row->acc, 0.5, 1e-12);
    CHECK_NEAR(row->edit, 0.5, 1e-12);
    CHECK_NEAR(row->shown[0].target_logp, hand_logp(m, ctx, 2, out, 3), 1e-4);
    CHECK(isnan(row->prob) && row->chance == 0);
    lms_eval_result_free(&r);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

/* Non-ASCII choices: acc_norm divides by characters, acc_bytes by bytes. Items where the two picks
   differ are found by hand (hand_logp, character counts written out below) and the suite's answer
   is the by-characters pick, so acc_norm is 1 and acc_bytes 0. */
typedef struct {
    const char *s;
    int chars;
} uchoice;

static void test_acc_norm_chars(void) {
    lms_gpt *m = tiny_model(256);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    static const uchoice wide[] = {{" \xc3\xa9\xc3\xa9\xc3\xa9", 4},          /* " ééé": 7 bytes */
                                   {" \xc3\xbc" "ber", 5},                    /* " über": 6 bytes */
                                   {" \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4}, /* " 日本語": 10 bytes */
                                   {" \xc3\xb1" "and\xc3\xba", 6},             /* " ñandú": 8 bytes */
                                   {" \xc3\xa7\xc3\xa0", 3}};                 /* " çà": 5 bytes */
    static const char *narrow[] = {" abc", " hello", " zz", " quite", " x"};
    static const char *ctxs[] = {"a", "The word is", "say", "q:", "hm", "ok then", "z"};
    char text[8192];
    size_t n = 0;
    int items = 0;
    for (size_t c = 0; c < sizeof ctxs / sizeof *ctxs; c++)
        for (size_t w = 0; w < sizeof wide / sizeof *wide; w++)
            for (size_t a = 0; a < sizeof narrow / sizeof *narrow && items < 8; a++) {
                const char *x = ctxs[c];
                double lw = hand_logp(m, x, strlen(x), wide[w].s, strlen(wide[w].s));
                double la = hand_logp(m, x, strlen(x), narrow[a], strlen(narrow[a]));
                double cw = lw / wide[w].chars, bw = lw / (double)strlen(wide[w].s), na = la / (double)strlen(narrow[a]);
                if (fabs(cw - na) < 1e-3 * fabs(na) || fabs(bw - na) < 1e-3 * fabs(na)) continue; /* no near ties */
                int by_chars = na > cw, by_bytes = na > bw; /* the first maximum wins ties: choice 1 only when greater */
                if (by_chars == by_bytes) continue;
                n += (size_t)snprintf(text + n, sizeof text - n, "{\"context\": \"%s\", \"choices\": [\"%s\", \"%s\"], \"answer\": %d}\n", x,
                                      wide[w].s, narrow[a], by_chars);
                items++;
            }
    CHECKF(items >= 3, "only %d items where characters and bytes pick differently", items);
    lms_eval_config c = lms_eval_defaults();
    c.show = 8;
    lms_eval_result r;
    lms_err err = {0};
    CHECKF(run_suite(m, tok, text, &c, &r, &err) == LMS_OK, "%s", err.msg);
    CHECK(r.n_rows == 1 && r.row[0].n == items);
    CHECK(r.row[0].acc_norm == 1.0 && r.row[0].acc_bytes == 0.0);
    CHECK_NEAR(r.row[0].acc_norm_se, lms_eval_binomial_se(1.0, items), 1e-12);
    CHECK_NEAR(r.row[0].acc_bytes_se, lms_eval_binomial_se(0.0, items), 1e-12);
    for (int i = 0; i < r.row[0].n_shown; i++) CHECK(r.row[0].shown[i].pick_norm != r.row[0].shown[i].pick_bytes);
    lms_eval_result_free(&r);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

/* What the on_item callback saw, summed per kind. */
typedef struct {
    int64_t next, count[3], fail_at;
    int order_bad, first_ok;
    double correct[3], correct_norm, correct_bytes, logp[3], prob, edit, top1, tokens, tok_err, chars_err;
    double item_logp[200][4]; /* mc: per item and choice, to compare with the shown items */
} capture;

static int64_t count_chars(const char *s, size_t n) {
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static lms_status capture_item(const lms_eval_item *it, void *user, lms_err *err) {
    capture *c = user;
    if (it->index == c->fail_at) return lms_errf(err, LMS_ERR_IO, "refused item %lld", (long long)it->index);
    c->order_bad |= it->index != c->next || it->line != it->index + 1 || strcmp(it->suite, "probe");
    c->next++;
    c->count[it->kind]++;
    c->correct[it->kind] += it->correct;
    if (it->index == 0)
        c->first_ok = it->context_len == strlen(MC[0].ctx) && !memcmp(it->context, MC[0].ctx, it->context_len) &&
                      it->n_choices == 3 && it->choice_len[2] == 9 && !memcmp(it->choices[2], "dog house", 9);
    if (it->kind == LMS_ITEM_MC) {
        c->correct_norm += it->correct_norm;
        c->correct_bytes += it->correct_bytes;
        c->logp[0] += it->logp[it->answer];
        c->prob += it->prob;
        for (int k = 0; k < it->n_choices && k < 4 && it->index < 200; k++) c->item_logp[it->index][k] = it->logp[k];
        for (int k = 0; k < it->n_choices; k++)
            c->chars_err += (double)llabs(it->choice_chars[k] - count_chars(it->choices[k], it->choice_len[k]));
    } else {
        double sum = 0;
        for (int64_t i = 0; i < it->target_tokens; i++) sum += it->token_logp[i];
        c->tok_err = fmax(c->tok_err, fabs(sum - it->target_logp));
        c->logp[it->kind] += it->target_logp;
        if (it->kind == LMS_ITEM_GEN) c->edit += (double)it->edit;
        else c->top1 += (double)it->top1, c->tokens += (double)it->target_tokens;
    }
    return LMS_OK;
}

/* The callback sees every item once, in file order across scoring windows, with the numbers the
   aggregates are made of; a callback failure stops the suite with its status. */
static void test_on_item(void) {
    lms_gpt *m = tiny_model(256);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    size_t cap = 200 * 256, n = strlen(MC_SUITE);
    char *text = malloc(cap);
    memcpy(text, MC_SUITE, n);
    int items = 5;
    for (int i = 0; i < 150; i++, items++) { /* more than one window (64 items) */
        if (i == 70) n += (size_t)snprintf(text + n, cap - n, "{\"context\": \"copy: abc\", \"target\": \" abc\", \"kind\": \"seq\"}\n");
        else if (i == 100 || i == 101)
            n += (size_t)snprintf(text + n, cap - n, "{\"context\": \"go %d\", \"target\": \" on\", \"kind\": \"gen\"}\n", i);
        else
            n += (size_t)snprintf(text + n, cap - n, "{\"context\": \"item %d\", \"choices\": [\" \xc3\xa9t\xc3\xa9\", \" no\", \" %d\"], \"answer\": %d}\n",
                                  i, i * 7, i % 3);
    }
    capture *c = calloc(1, sizeof *c);
    c->fail_at = -1;
    lms_eval_config ec = lms_eval_defaults();
    ec.show = 200;
    ec.batch = 5;
    ec.on_item = capture_item;
    ec.item_user = c;
    lms_eval_result r;
    lms_err err = {0};
    CHECKF(run_suite(m, tok, text, &ec, &r, &err) == LMS_OK, "%s", err.msg);
    CHECK(r.n_rows == 3 && c->next == items && !c->order_bad && c->first_ok);
    const lms_eval_row *mc = &r.row[0], *gen = &r.row[1], *seq = &r.row[2];
    CHECK(mc->n == c->count[0] && gen->n == c->count[1] && seq->n == c->count[2] && gen->n == 2 && seq->n == 1);
    CHECK(mc->acc == c->correct[0] / (double)mc->n && mc->acc_norm == c->correct_norm / (double)mc->n &&
          mc->acc_bytes == c->correct_bytes / (double)mc->n);
    CHECK_NEAR(mc->logp, c->logp[0] / (double)mc->n, 1e-9 * fabs(mc->logp));
    CHECK_NEAR(mc->prob, c->prob / (double)mc->n, 1e-12);
    CHECK(gen->acc == c->correct[1] / 2.0);
    CHECK_NEAR(gen->edit, c->edit / 2.0, 1e-12);
    CHECK_NEAR(gen->logp, c->logp[1] / 2.0, 1e-9 * fabs(gen->logp));
    CHECK(seq->acc == c->top1 / c->tokens && seq->tokens_scored == (int64_t)c->tokens);
    CHECK_NEAR(seq->logp, c->logp[2] / c->tokens, 1e-12);
    CHECKF(c->tok_err < 1e-9, "per-token log-probs sum to the target's within %g", c->tok_err);
    CHECK(c->chars_err == 0);
    /* the per-choice numbers are the shown items' */
    int same = 1;
    for (int i = 0; i < mc->n_shown; i++) {
        int64_t idx = mc->shown[i].line - 1;
        for (int k = 0; k < mc->shown[i].n_choices && idx < 200; k++) same &= c->item_logp[idx][k] == mc->shown[i].logp[k];
    }
    CHECK(same && mc->n_shown == mc->n);
    lms_eval_result_free(&r);
    /* a failing callback stops the suite with its status and message */
    memset(c, 0, sizeof *c);
    c->fail_at = 3;
    CHECK(run_suite(m, tok, text, &ec, &r, &err) == LMS_ERR_IO && strstr(err.msg, "refused item 3") && r.n_rows == 0);
    CHECK(c->next == 3);
    lms_eval_result_free(&r);
    free(c);
    free(text);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

static void test_errors(void) {
    lms_err err = {0};
    lms_tokenizer *tok = lms_tokenizer_bytes();
    /* a tokenizer larger than the model's vocabulary */
    lms_gpt *small = tiny_model(200);
    lms_evaluator *ev = NULL;
    CHECK(lms_evaluator_create(&ev, small, tok, NULL, &err) == LMS_ERR_MISMATCH && !ev && strstr(err.msg, "256"));
    lms_gpt_free(small);
    /* NaN weights: non-finite log-probabilities are an error naming the item */
    lms_gpt *m = tiny_model(256);
    float *p = lms_gpt_params(m);
    for (int i = 0; i < 256 * 32; i++) p[i] = NAN;
    lms_eval_result r;
    CHECK(run_suite(m, tok, "\n{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"answer\": 0}\n", NULL, &r, &err) == LMS_ERR_NUMERIC);
    CHECKF(strstr(err.msg, "mem/probe.jsonl:2:") != NULL, "%s", err.msg);
    lms_eval_result_free(&r);
    /* a bad line stops the suite with the reader's message */
    lms_gpt_init(m, 1);
    CHECK(run_suite(m, tok, "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"answer\": 0}\n{\"context\": \"a\"}\n", NULL, &r, &err) ==
          LMS_ERR_FORMAT);
    CHECK(strstr(err.msg, "mem/probe.jsonl:2: missing field") != NULL && r.n_rows == 0);
    /* an empty suite: no rows */
    CHECK(run_suite(m, tok, "\n", NULL, &r, &err) == LMS_OK && r.n_rows == 0);
    lms_eval_config bad = lms_eval_defaults();
    bad.bootstrap = 1;
    CHECK(lms_evaluator_create(&ev, m, tok, &bad, &err) == LMS_ERR_ARG);
    lms_gpt_free(m);
    lms_tokenizer_free(tok);
}

static void test_stats(void) {
    /* plus-four rule: p~ = (pn + 2)/(n + 4), se = sqrt(p~(1 - p~)/(n + 4)) */
    CHECK_NEAR(lms_eval_binomial_se(0.5, 100), sqrt(0.25 / 104), 1e-12);
    CHECK_NEAR(lms_eval_binomial_se(0.9, 900), sqrt((812.0 / 904) * (92.0 / 904) / 904), 1e-12);
    CHECK_NEAR(lms_eval_binomial_se(0.0, 600), sqrt((2.0 / 604) * (602.0 / 604) / 604), 1e-12);
    CHECK(lms_eval_binomial_se(0.0, 600) > 0 && lms_eval_binomial_se(1.0, 600) > 0); /* never a zero error bar */
    CHECK(isnan(lms_eval_binomial_se(0.5, 0)));
    lms_eval_stat s = {0};
    CHECK(isnan(lms_eval_stat_mean(&s)));
    lms_eval_stat_push(&s, 1);
    CHECK(isnan(lms_eval_stat_se(&s)));
    for (int i = 2; i <= 5; i++) lms_eval_stat_push(&s, i);
    CHECK_NEAR(lms_eval_stat_mean(&s), 3, 1e-12);
    CHECK_NEAR(lms_eval_stat_se(&s), sqrt(2.5 / 5), 1e-12); /* sample variance 2.5 */
    /* a constant ratio has no spread */
    double num[400], den[400];
    for (int i = 0; i < 400; i++) den[i] = 1 + i % 7, num[i] = 0.25 * den[i];
    CHECK_NEAR(lms_eval_bootstrap_ratio_se(num, den, 400, 200, 1), 0, 1e-12);
    /* equal denominators: the ratio is a mean, whose bootstrap SE approaches s/sqrt(n) */
    lms_eval_stat m = {0};
    for (int i = 0; i < 400; i++) {
        den[i] = 1;
        num[i] = (double)((i * 37) % 11);
        lms_eval_stat_push(&m, num[i]);
    }
    double bse = lms_eval_bootstrap_ratio_se(num, den, 400, 2000, 3), fse = lms_eval_stat_se(&m);
    CHECKF(fabs(bse - fse) < 0.08 * fse, "bootstrap %g vs formula %g", bse, fse);
    CHECK(lms_eval_bootstrap_ratio_se(num, den, 400, 500, 3) == lms_eval_bootstrap_ratio_se(num, den, 400, 500, 3));
    CHECK(isnan(lms_eval_bootstrap_ratio_se(num, den, 1, 100, 1)));
    /* Levenshtein */
    uint32_t k[] = {'k', 'i', 't', 't', 'e', 'n'}, t[] = {'s', 'i', 't', 't', 'i', 'n', 'g'};
    CHECK(lms_eval_edit_distance(k, 6, t, 7) == 3 && lms_eval_edit_distance(t, 7, k, 6) == 3);
    CHECK(lms_eval_edit_distance(k, 0, t, 7) == 7 && lms_eval_edit_distance(k, 6, k, 6) == 0);
    CHECK(lms_eval_edit_distance(k, 6, k + 1, 5) == 1);
}

TESTS(test_mc_hand, test_batching_invariant, test_seq_and_window, test_gen, test_acc_norm_chars, test_on_item, test_errors, test_stats)
