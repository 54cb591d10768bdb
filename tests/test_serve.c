/* test_serve.c — completions without HTTP (serve/complete.h, serve/openai.h): echoed prompt
 * log-probs and their alternatives equal lms_tokloss_text's ('lmscope score') exactly, for text
 * and token-id prompts and for lm-evaluation-harness's request (echo, max_tokens 1, logprobs 1);
 * greedy decoding is deterministic and equals lms_generate; seeds drive sampling; stop strings cut
 * the text and the token list; a batch keeps its order and equals its prompts one by one; every
 * limit and bad field is refused with the right status, param and code; the response JSON has
 * OpenAI's fields, with bytes that are not UTF-8 made valid; /tokenize and /detokenize round-trip
 * the tokenizer's ids. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eval/generate.h"
#include "eval/tokloss.h"
#include "harness.h"
#include "model/gpt.h"
#include "serve/complete.h"
#include "serve/openai.h"
#include "tokenizer/tokenizer.h"

#define GPT2_DIR "tests/fixtures/gpt2"
#define NCTX 48

static lms_gpt *g_m;
static lms_tokenizer *g_t;
static lms_completer *g_c;

static void setup(void) {
    if (g_c) return;
    lms_err err = {0};
    LMS_ASSERT(lms_tokenizer_load(&g_t, GPT2_DIR, &err) == LMS_OK);
    lms_gpt_config c = {.n_layer = 2, .n_head = 2, .n_embd = 16, .n_ctx = NCTX, .vocab_size = lms_tokenizer_vocab_size(g_t)};
    LMS_ASSERT(lms_gpt_create(&g_m, &c, &err) == LMS_OK);
    lms_gpt_init(g_m, 11);
    /* larger weights than GPT-2's init, so the distributions are far from uniform */
    float *p = lms_gpt_params(g_m);
    for (int64_t i = 0; i < lms_gpt_num_params(g_m); i++) p[i] *= 8.0f;
    LMS_ASSERT(lms_completer_create(&g_c, g_m, g_t, &err) == LMS_OK);
}

/* Parse body and run it; returns the parse status (0 ok) and fills *res when 0. */
static int run_body(const char *body, lms_complete_result *res, lms_api_error *e) {
    lms_complete_req req;
    memset(e, 0, sizeof *e);
    int st = lms_openai_parse_completion(&req, body, strlen(body), g_c, "tiny", 5, e);
    if (!st) {
        lms_err err = {0};
        LMS_ASSERT(lms_complete(g_c, &req, res, &err) == LMS_OK);
    }
    lms_complete_req_free(&req);
    return st;
}

static void test_echo_equals_score(void) {
    setup();
    const char *text = "The capital of France is Paris, and it is big.";
    lms_tokloss ref;
    lms_err err = {0};
    CHECK(lms_tokloss_text(&ref, g_m, g_t, text, strlen(text), &(lms_tokloss_opts){.top_k = 3, .no_bos = 1}, &err) == LMS_OK);
    lms_complete_result r;
    lms_api_error e;
    char body[512];
    snprintf(body, sizeof body, "{\"prompt\": \"%s\", \"echo\": true, \"max_tokens\": 0, \"logprobs\": 3}", text);
    CHECK(run_body(body, &r, &e) == 0);
    const lms_complete_choice *ch = &r.choice[0];
    CHECK(r.n == 1 && r.k == 3 && ch->n_tok == ref.n && ch->n_echo == ref.n && ch->completion_tokens == 0);
    CHECK(ch->len == strlen(text) && !memcmp(ch->text, text, ch->len) && ch->finish == LMS_FINISH_LENGTH);
    CHECK(isnan(ch->logp[0]) && ch->top_id[0] == -1);
    int same = 1;
    for (size_t i = 0; i < ref.n; i++) {
        same &= ch->ids[i] == ref.tok[i].id && ch->off[i] == ref.tok[i].off;
        if (i == 0) continue;
        same &= ch->logp[i] == ref.tok[i].logp; /* the same scorer: bit for bit */
        for (int j = 0; j < 3; j++)
            same &= ch->top_id[i * 3 + j] == (int32_t)ref.tok[i].top_id[j] && ch->top_logp[i * 3 + j] == ref.tok[i].top_logp[j];
    }
    CHECK(same);
    lms_complete_result_free(&r);
    lms_tokloss_free(&ref);

    /* token ids with <|endoftext|> first: every text token scored, as 'score' does by default */
    CHECK(lms_tokloss_text(&ref, g_m, g_t, text, strlen(text), &(lms_tokloss_opts){.top_k = 1}, &err) == LMS_OK);
    CHECK(ref.bos == 1);
    /* lm-evaluation-harness's loglikelihood request: [[ids]], echo, max_tokens 1, logprobs 1, temperature 0 */
    size_t o = (size_t)snprintf(body, sizeof body, "{\"model\": \"tiny\", \"prompt\": [[");
    for (size_t i = 0; i < ref.n; i++) o += (size_t)snprintf(body + o, sizeof body - o, "%s%u", i ? "," : "", ref.tok[i].id);
    snprintf(body + o, sizeof body - o, "]], \"echo\": true, \"max_tokens\": 1, \"logprobs\": 1, \"temperature\": 0, "
             "\"seed\": 1234}");
    CHECK(run_body(body, &r, &e) == 0);
    ch = &r.choice[0];
    CHECK(ch->n_tok == ref.n + 1 && ch->n_echo == ref.n && ch->completion_tokens == 1 && ch->prompt_tokens == ref.n);
    same = 1;
    for (size_t i = 1; i < ref.n; i++)
        same &= ch->logp[i] == ref.tok[i].logp && ch->top_logp[i] == ref.tok[i].top_logp[0] &&
                (ch->logp[i] == ch->top_logp[i]) == (ref.tok[i].rank == 1);
    CHECK(same);
    /* the generated token is the greedy one: its log-prob is the top alternative's */
    CHECK(ch->ids[ref.n] == (uint32_t)ch->top_id[ref.n] && ch->logp[ref.n] == ch->top_logp[ref.n]);
    size_t gl = 0;
    lms_tokenizer_token(g_t, ch->ids[ref.n], &gl);
    CHECK(ch->len == 13 + strlen(text) + gl && ch->off[ref.n] == 13 + strlen(text)); /* "<|endoftext|>" text token */
    CHECK(!memcmp(ch->text, "<|endoftext|>", 13) && !memcmp(ch->text + 13, text, strlen(text)));
    lms_complete_result_free(&r);
    lms_tokloss_free(&ref);
}

/* Greedy ids for a text prompt through lms_generate directly. */
static size_t direct_greedy(const char *prompt, int n, uint32_t *out) {
    lms_ids p = {0}, gen = {0};
    lms_err err = {0};
    LMS_ASSERT(lms_tokenizer_encode(g_t, prompt, strlen(prompt), &p, &err) == LMS_OK);
    lms_generate_config gc = lms_generate_defaults();
    gc.max_tokens = n;
    gc.sampling.temperature = 0;
    gc.eot = lms_tokenizer_eot(g_t);
    LMS_ASSERT(lms_generate(g_m, p.ids, p.n, &gc, &gen, NULL, &err) == LMS_OK);
    memcpy(out, gen.ids, gen.n * sizeof *out);
    size_t k = gen.n;
    lms_ids_free(&p);
    lms_ids_free(&gen);
    return k;
}

static void test_greedy_and_seeds(void) {
    setup();
    lms_complete_result a, b, c;
    lms_api_error e;
    CHECK(run_body("{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0, \"seed\": 1}", &a, &e) == 0);
    CHECK(run_body("{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0, \"seed\": 2}", &b, &e) == 0);
    uint32_t want[16];
    size_t nw = direct_greedy("Once upon a time", 12, want);
    const lms_complete_choice *x = &a.choice[0], *y = &b.choice[0];
    CHECK(x->n_tok == nw && y->n_tok == nw && x->n_echo == 0 && !memcmp(x->ids, want, nw * sizeof *want) &&
          !memcmp(y->ids, want, nw * sizeof *want));
    CHECK(x->len == y->len && !memcmp(x->text, y->text, x->len) && x->logp == NULL);
    CHECK(x->finish == (nw == 12 ? LMS_FINISH_LENGTH : LMS_FINISH_STOP));
    lms_complete_result_free(&a), lms_complete_result_free(&b);
    /* sampling: the same seed gives the same text, another seed other text */
    const char *s1 = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 16, \"temperature\": 1, \"seed\": 7}";
    CHECK(run_body(s1, &a, &e) == 0 && run_body(s1, &b, &e) == 0);
    CHECK(run_body("{\"prompt\": \"Once upon a time\", \"max_tokens\": 16, \"temperature\": 1, \"seed\": 8}", &c, &e) == 0);
    CHECK(a.choice[0].len == b.choice[0].len && !memcmp(a.choice[0].text, b.choice[0].text, a.choice[0].len));
    CHECK(a.choice[0].n_tok != c.choice[0].n_tok || memcmp(a.choice[0].ids, c.choice[0].ids, a.choice[0].n_tok * 4));
    lms_complete_result_free(&a), lms_complete_result_free(&b), lms_complete_result_free(&c);
}

static void test_stop_strings(void) {
    setup();
    lms_complete_result a, b;
    lms_api_error e;
    CHECK(run_body("{\"prompt\": \"The\", \"max_tokens\": 20, \"temperature\": 1, \"seed\": 3, \"logprobs\": 0}", &a, &e) == 0);
    const lms_complete_choice *x = &a.choice[0];
    CHECK(x->n_tok >= 6 && x->len > 8);
    if (x->n_tok < 6 || x->len <= 8) return;
    /* a stop string taken from the middle of the text: the text ends just before its first occurrence */
    size_t p = x->off[4];
    char stop[3] = {x->text[p], x->text[p + 1], 0};
    const char *first = memmem(x->text, x->len, stop, 2);
    size_t cut = (size_t)(first - x->text);
    char body[256], esc[16];
    snprintf(esc, sizeof esc, "\\u%04x\\u%04x", (unsigned char)stop[0], (unsigned char)stop[1]);
    if ((unsigned char)stop[0] >= 0x80 || (unsigned char)stop[1] >= 0x80) {
        CHECKF(0, "the sampled text is not ASCII at offset %zu; choose another seed", p);
        lms_complete_result_free(&a);
        return;
    }
    snprintf(body, sizeof body, "{\"prompt\": \"The\", \"max_tokens\": 20, \"temperature\": 1, \"seed\": 3, "
             "\"logprobs\": 0, \"stop\": [\"zzzq\", \"%s\"]}", esc);
    CHECK(run_body(body, &b, &e) == 0);
    const lms_complete_choice *y = &b.choice[0];
    CHECK(y->finish == LMS_FINISH_STOP && y->len == cut && !memcmp(y->text, x->text, cut));
    /* the tokens that hold a byte of the text, with the same log-probs as without the stop */
    size_t keep = 0;
    while (keep < x->n_tok && x->off[keep] < cut) keep++;
    CHECK(y->n_tok == keep && y->completion_tokens == keep && !memcmp(y->ids, x->ids, keep * sizeof *y->ids));
    /* (a pass over fewer tokens: the products' blocking differs, so agreement to fp32 rounding) */
    for (size_t i = 0; i < keep; i++) CHECK_NEAR(y->logp[i], x->logp[i], 1e-5);
    lms_complete_result_free(&b);
    /* a stop string that never appears changes nothing */
    CHECK(run_body("{\"prompt\": \"The\", \"max_tokens\": 20, \"temperature\": 1, \"seed\": 3, \"logprobs\": 0, "
                   "\"stop\": \"\\u0001never\"}", &b, &e) == 0);
    CHECK(b.choice[0].len == x->len && b.choice[0].finish == x->finish);
    lms_complete_result_free(&b);
    lms_complete_result_free(&a);
}

static void test_batch_order(void) {
    setup();
    const char *prompts[3] = {"The cat", "A long time ago, in a galaxy", "1 2 3"};
    lms_complete_result all, one;
    lms_api_error e;
    CHECK(run_body("{\"prompt\": [\"The cat\", \"A long time ago, in a galaxy\", \"1 2 3\"], \"max_tokens\": 5, "
                   "\"temperature\": 0, \"logprobs\": 2, \"echo\": true}", &all, &e) == 0);
    CHECK(all.n == 3);
    for (int i = 0; i < 3 && all.n == 3; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"prompt\": \"%s\", \"max_tokens\": 5, \"temperature\": 0, \"logprobs\": 2, "
                 "\"echo\": true}", prompts[i]);
        CHECK(run_body(body, &one, &e) == 0);
        const lms_complete_choice *x = &all.choice[i], *y = &one.choice[0];
        CHECK(x->len == y->len && !memcmp(x->text, y->text, x->len) && !strncmp(x->text, prompts[i], strlen(prompts[i])));
        CHECK(x->n_tok == y->n_tok && !memcmp(x->ids, y->ids, x->n_tok * sizeof *x->ids));
        CHECK(!memcmp(x->logp + 1, y->logp + 1, (x->n_tok - 1) * sizeof *x->logp));
        lms_complete_result_free(&one);
    }
    lms_complete_result_free(&all);
}

/* A body that must be refused with status, param and code (NULL: any). */
static void refused(const char *body, int status, const char *param, const char *code) {
    lms_complete_req req;
    lms_api_error e = {0};
    int st = lms_openai_parse_completion(&req, body, strlen(body), g_c, "tiny", 1, &e);
    lms_complete_req_free(&req);
    CHECKF(st == status && e.status == status && e.message[0], "%s: status %d (%s)", body, st, e.message);
    CHECKF(!param || (e.param && !strcmp(e.param, param)), "%s: param %s", body, e.param ? e.param : "null");
    CHECKF(!code || (e.code && !strcmp(e.code, code)), "%s: code %s", body, e.code ? e.code : "null");
}

static void test_limits(void) {
    setup();
    char body[1024];
    /* 40 tokens of prompt + 9 > 48 */
    size_t o = (size_t)snprintf(body, sizeof body, "{\"prompt\": [");
    for (int i = 0; i < 40; i++) o += (size_t)snprintf(body + o, sizeof body - o, "%s%d", i ? "," : "", 100 + i);
    snprintf(body + o, sizeof body - o, "], \"max_tokens\": 9}");
    refused(body, 400, "prompt", "context_length_exceeded");
    snprintf(body + o, sizeof body - o, "], \"max_tokens\": 8}");
    lms_complete_result r;
    lms_api_error e;
    CHECK(run_body(body, &r, &e) == 0 && r.choice[0].prompt_tokens == 40); /* 40 + 8 = 48 fits */
    lms_complete_result_free(&r);
    refused("{\"prompt\": [50257]}", 400, "prompt", NULL);
    refused("{\"prompt\": [[1, 2], [3, -1]]}", 400, "prompt", NULL);
    refused("{\"prompt\": []}", 400, "prompt", NULL);
    refused("{\"prompt\": [[]], \"echo\": true}", 400, "prompt", NULL);
    refused("{\"prompt\": [\"a\", 1]}", 400, "prompt", NULL);
    refused("{\"prompt\": 5}", 400, "prompt", NULL);
    refused("{\"prompt\": \"a\", \"max_tokens\": 0}", 400, "max_tokens", NULL);
    refused("{\"prompt\": \"a\", \"max_tokens\": -1}", 400, "max_tokens", NULL);
    refused("{\"prompt\": \"a\", \"max_tokens\": \"5\"}", 400, "max_tokens", NULL);
    refused("{\"prompt\": \"a\", \"logprobs\": 11}", 400, "logprobs", NULL);
    refused("{\"prompt\": \"a\", \"temperature\": -0.5}", 400, "temperature", NULL);
    refused("{\"prompt\": \"a\", \"top_p\": 0}", 400, "top_p", NULL);
    refused("{\"prompt\": \"a\", \"stop\": [\"\"]}", 400, "stop", NULL);
    refused("{\"prompt\": \"a\", \"stop\": 3}", 400, "stop", NULL);
    refused("{\"prompt\": \"a\", \"stop\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\","
            "\"13\",\"14\",\"15\",\"16\",\"17\"]}", 400, "stop", NULL);
    refused("{\"prompt\": \"a\", \"n\": 2}", 400, "n", NULL);
    refused("{\"prompt\": \"a\", \"stream\": true}", 400, "stream", NULL);
    refused("{\"prompt\": \"a\", \"frequency_penalty\": 0.5}", 400, "frequency_penalty", NULL);
    refused("{\"prompt\": \"a\", \"logit_bias\": {\"50256\": -100}}", 400, "logit_bias", NULL);
    refused("{\"prompt\": \"a\", \"max_tokenz\": 5}", 400, NULL, "unknown_parameter");
    refused("{\"prompt\": \"a\", \"model\": \"gpt-4\"}", 404, "model", "model_not_found");
    refused("{\"prompt\": \"a\"", 400, NULL, NULL);
    refused("[1, 2]", 400, NULL, NULL);
    refused("", 400, NULL, NULL);
    /* the neutral values of unsupported fields are accepted */
    CHECK(run_body("{\"prompt\": \"a\", \"max_tokens\": 1, \"n\": 1, \"stream\": false, \"presence_penalty\": 0, "
                   "\"logit_bias\": {}, \"user\": \"x\", \"suffix\": null, \"model\": \"tiny\"}", &r, &e) == 0);
    lms_complete_result_free(&r);
    /* and the library refuses what the JSON layer would: a direct request past the context */
    lms_ids ids = {0};
    lms_err err = {0};
    for (int i = 0; i < NCTX; i++) lms_ids_push(&ids, 10, &err);
    lms_complete_req req = lms_complete_req_defaults();
    req.prompt = &ids, req.n_prompt = 1, req.max_tokens = 1;
    CHECK(lms_complete(g_c, &req, &r, &err) == LMS_ERR_ARG && strstr(err.msg, "context length") && r.choice == NULL);
    lms_ids_free(&ids);
}

static void test_response_json(void) {
    setup();
    /* byte 0xC3 alone (half of "é") then "a": the text gets U+FFFD, the token "bytes:\xc3" */
    int64_t c3 = lms_tokenizer_find(g_t, "\xc3", 1), a = lms_tokenizer_find(g_t, "a", 1);
    CHECK(c3 >= 0 && a >= 0);
    char body[256];
    snprintf(body, sizeof body, "{\"prompt\": [%lld, %lld], \"max_tokens\": 2, \"echo\": true, \"logprobs\": 2, "
             "\"temperature\": 0}", (long long)c3, (long long)a);
    char *out = NULL;
    size_t n = 0;
    CHECK(lms_openai_completions(g_c, "tiny", body, strlen(body), 42, &out, &n) == 200 && out && n == strlen(out));
    json_error_t je;
    json_t *o = json_loads(out ? out : "", 0, &je);
    CHECK(o != NULL);
    json_t *ch = json_array_get(json_object_get(o, "choices"), 0), *lp = json_object_get(ch, "logprobs");
    CHECK(!strcmp(json_string_value(json_object_get(o, "object")), "text_completion"));
    CHECK(!strcmp(json_string_value(json_object_get(o, "id")), "cmpl-42"));
    CHECK(!strcmp(json_string_value(json_object_get(o, "model")), "tiny"));
    CHECK(json_integer_value(json_object_get(ch, "index")) == 0);
    const char *text = json_string_value(json_object_get(ch, "text"));
    CHECK(text && !strncmp(text, "\xef\xbf\xbd" "a", 4));
    json_t *toks = json_object_get(lp, "tokens"), *tlp = json_object_get(lp, "token_logprobs");
    json_t *top = json_object_get(lp, "top_logprobs"), *off = json_object_get(lp, "text_offset");
    CHECK(json_array_size(toks) == 4 && json_array_size(tlp) == 4 && json_array_size(top) == 4 && json_array_size(off) == 4);
    CHECK(!strcmp(json_string_value(json_array_get(toks, 0)), "bytes:\\xc3"));
    CHECK(!strcmp(json_string_value(json_array_get(toks, 1)), "a"));
    CHECK(json_is_null(json_array_get(tlp, 0)) && json_is_null(json_array_get(top, 0)));
    CHECK(json_is_real(json_array_get(tlp, 1)) && json_object_size(json_array_get(top, 1)) == 2);
    CHECK(json_integer_value(json_array_get(off, 0)) == 0 && json_integer_value(json_array_get(off, 1)) == 3);
    json_t *u = json_object_get(o, "usage");
    const char *fin = json_string_value(json_object_get(ch, "finish_reason"));
    CHECK(json_integer_value(json_object_get(u, "prompt_tokens")) == 2 &&
          json_integer_value(json_object_get(u, "total_tokens")) == 2 + json_integer_value(json_object_get(u, "completion_tokens")));
    CHECK(fin && (!strcmp(fin, "length") || !strcmp(fin, "stop")));
    json_decref(o);
    free(out);
    /* an error is OpenAI's object */
    CHECK(lms_openai_completions(g_c, "tiny", "{\"prompt\": 5}", 13, 43, &out, &n) == 400);
    o = json_loads(out ? out : "", 0, &je);
    json_t *err = json_object_get(o, "error");
    CHECK(json_is_string(json_object_get(err, "message")) && !strcmp(json_string_value(json_object_get(err, "param")), "prompt"));
    CHECK(!strcmp(json_string_value(json_object_get(err, "type")), "invalid_request_error") &&
          json_is_null(json_object_get(err, "code")));
    json_decref(o);
    free(out);
    /* a JSON error quoting bytes that are not UTF-8 still gives a valid error object */
    const char bad[] = "{\"stop\": \"\\u\xe1\x98\x95\"}";
    CHECK(lms_openai_completions(g_c, "tiny", bad, strlen(bad), 44, &out, &n) == 400 && out);
    o = json_loads(out ? out : "", 0, &je);
    CHECK(json_is_string(json_object_get(json_object_get(o, "error"), "message")));
    json_decref(o);
    free(out);
    o = lms_openai_models_json("tiny", 5, 0);
    CHECK(!strcmp(json_string_value(json_object_get(o, "object")), "list") &&
          !strcmp(json_string_value(json_object_get(json_array_get(json_object_get(o, "data"), 0), "id")), "tiny"));
    json_decref(o);
    /* no prompt: generation starts from <|endoftext|> */
    lms_complete_result r;
    lms_api_error e;
    CHECK(run_body("{\"max_tokens\": 1, \"echo\": true}", &r, &e) == 0);
    CHECK(r.choice[0].n_echo == 1 && r.choice[0].ids[0] == (uint32_t)lms_tokenizer_eot(g_t));
    lms_complete_result_free(&r);
}

static void test_tokenizer_endpoints(void) {
    setup();
    const char *text = "Hello world<|endoftext|> again";
    lms_ids want = {0};
    lms_err err = {0};
    CHECK(lms_tokenizer_encode_ex(g_t, text, strlen(text), LMS_TOK_ALLOW_EOT, &want, &err) == LMS_OK);
    char body[256], *out = NULL;
    size_t n;
    snprintf(body, sizeof body, "{\"prompt\": \"%s\", \"add_special_tokens\": false, \"model\": \"tiny\"}", text);
    CHECK(lms_openai_tokenize(g_c, "tiny", body, strlen(body), &out, &n) == 200);
    json_error_t je;
    json_t *o = json_loads(out ? out : "", 0, &je), *toks = json_object_get(o, "tokens");
    CHECK(json_array_size(toks) == want.n && json_integer_value(json_object_get(o, "count")) == (json_int_t)want.n &&
          json_integer_value(json_object_get(o, "max_model_len")) == NCTX);
    for (size_t i = 0; i < want.n; i++) CHECK(json_integer_value(json_array_get(toks, i)) == want.ids[i]);
    CHECK(json_integer_value(json_array_get(toks, 2)) == lms_tokenizer_eot(g_t));
    /* and back */
    char *ids = json_dumps(toks, JSON_COMPACT), *out2 = NULL;
    snprintf(body, sizeof body, "{\"tokens\": %s}", ids);
    CHECK(lms_openai_detokenize(g_c, "tiny", body, strlen(body), &out2, &n) == 200);
    json_t *d = json_loads(out2 ? out2 : "", 0, &je);
    CHECK(!strcmp(json_string_value(json_object_get(d, "prompt")), text));
    json_decref(d), json_decref(o);
    free(ids), free(out), free(out2);
    lms_ids_free(&want);
    /* tokenizer_info: what lm-evaluation-harness's remote tokenizer reads */
    o = lms_openai_tokenizer_info_json(g_c);
    CHECK(!strcmp(json_string_value(json_object_get(o, "eos_token")), "<|endoftext|>") &&
          json_integer_value(json_object_get(o, "max_model_len")) == NCTX);
    json_decref(o);
    /* refused */
    const char *bad[] = {"{\"prompt\": 5}", "{\"text\": \"x\"}", "{\"tokens\": [50257]}", "{\"tokens\": \"x\"}", "[]"};
    for (int i = 0; i < 5; i++) {
        int st = i < 2 ? lms_openai_tokenize(g_c, "tiny", bad[i], strlen(bad[i]), &out, &n)
                       : lms_openai_detokenize(g_c, "tiny", bad[i], strlen(bad[i]), &out, &n);
        CHECKF(st == 400 && out && strstr(out, "\"error\""), "%s: %d", bad[i], st);
        free(out);
    }
    const char *other = "{\"prompt\": \"a\", \"model\": \"x\"}";
    CHECK(lms_openai_tokenize(g_c, "tiny", other, strlen(other), &out, &n) == 404);
    free(out);
}

static void test_teardown(void) {
    lms_completer_free(g_c);
    lms_gpt_free(g_m);
    lms_tokenizer_free(g_t);
    g_c = NULL;
    CHECK(1);
}

TESTS(test_echo_equals_score, test_greedy_and_seeds, test_stop_strings, test_batch_order, test_limits,
      test_response_json, test_tokenizer_endpoints, test_teardown)
