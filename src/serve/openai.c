/* openai.c — /v1/completions JSON in and out (contracts in openai.h): field-by-field checks with
 * OpenAI-style error objects, text prompts through the model's tokenizer, and the response with
 * its logprobs block.
 *
 * Leaves out: HTTP (server.c), the completion itself (complete.c).
 */
#include "serve/openai.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jsonl.h"
#include "eval/tokloss.h"

int lms_api_errorf(lms_api_error *e, int status, const char *type, const char *param, const char *code,
                   const char *fmt, ...) {
    e->status = status;
    e->type = type;
    e->param = param;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return status;
}

#define BAD(e, param, ...) lms_api_errorf(e, 400, "invalid_request_error", param, NULL, __VA_ARGS__)

json_t *lms_openai_error_json(const lms_api_error *e) {
    /* a message quoting the request (a JSON error, a cut field name) may not be valid UTF-8 */
    char clean[sizeof e->message * 4];
    json_t *msg = json_string(e->message);
    if (!msg) msg = json_string(lms_tok_escape(e->message, strlen(e->message), clean, sizeof clean));
    json_t *o = json_pack("{s:o, s:s, s:s?, s:s?}", "message", msg, "type", e->type ? e->type : "server_error",
                          "param", e->param, "code", e->code);
    return o ? json_pack("{s:o}", "error", o) : NULL;
}

/* ---- request ---- */

static const char *const known_fields[] = {"model", "prompt", "max_tokens", "temperature", "top_p", "top_k",
                                           "seed", "stop", "logprobs", "echo", "n", "best_of", "stream", "user",
                                           "presence_penalty", "frequency_penalty", "logit_bias", "suffix", NULL};

/* An integer field in [lo, hi] (missing or null: *out unchanged). */
static int get_int(json_t *o, const char *key, long long lo, long long hi, long long *out, lms_api_error *e) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) return BAD(e, key, "%s must be an integer", key);
    long long x = json_integer_value(v);
    if (x < lo || x > hi) return BAD(e, key, "%s is %lld; it must be %lld to %lld", key, x, lo, hi);
    *out = x;
    return 0;
}

/* A number field in [lo, hi] (missing or null: *out unchanged); lo excluded when open_lo. */
static int get_num(json_t *o, const char *key, double lo, double hi, int open_lo, float *out, lms_api_error *e) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) return BAD(e, key, "%s must be a number", key);
    double x = json_number_value(v);
    if (!(open_lo ? x > lo : x >= lo) || !(x <= hi))
        return BAD(e, key, "%s is %g; it must be in %s%g, %g]", key, x, open_lo ? "(" : "[", lo, hi);
    *out = (float)x;
    return 0;
}

static int get_bool(json_t *o, const char *key, int *out, lms_api_error *e) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return BAD(e, key, "%s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* The fields accepted only at their neutral value. */
static int check_neutral(json_t *o, lms_api_error *e) {
    long long one = 1;
    float zero = 0;
    int stream = 0;
    if (get_int(o, "n", 1, 1, &one, e) || get_int(o, "best_of", 1, 1, &one, e)) {
        snprintf(e->message, sizeof e->message, "%s: only 1 choice per prompt is supported (send several prompts "
                 "instead)", e->param);
        return e->status;
    }
    if (get_bool(o, "stream", &stream, e)) return e->status;
    if (stream) return BAD(e, "stream", "streaming is not supported; send \"stream\": false");
    const char *pen[] = {"presence_penalty", "frequency_penalty"};
    for (int i = 0; i < 2; i++) {
        if (get_num(o, pen[i], -2, 2, 0, &zero, e)) return e->status;
        if (zero != 0) return BAD(e, pen[i], "%s is not supported; send 0", pen[i]);
    }
    json_t *v = json_object_get(o, "logit_bias");
    if (v && !json_is_null(v) && !(json_is_object(v) && json_object_size(v) == 0))
        return BAD(e, "logit_bias", "logit_bias is not supported; send {} or null");
    v = json_object_get(o, "suffix");
    if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
        return BAD(e, "suffix", "suffix is not supported; send null");
    v = json_object_get(o, "user");
    if (v && !json_is_null(v) && !json_is_string(v)) return BAD(e, "user", "user must be a string");
    return 0;
}

/* Tokenize text prompt s into ids; "" is <|endoftext|> when the tokenizer has it. */
static int text_prompt(const lms_tokenizer *t, json_t *s, size_t p, lms_ids *ids, lms_api_error *e) {
    lms_err err = {0};
    size_t n = json_string_length(s);
    if (n == 0) {
        int eot = lms_tokenizer_eot(t);
        if (eot < 0) return BAD(e, "prompt", "prompt %zu is empty and this model's tokenizer has no <|endoftext|> to "
                                "start from; give some text", p);
        if (lms_ids_push(ids, (uint32_t)eot, &err)) goto nomem;
        return 0;
    }
    if (lms_tokenizer_encode_ex(t, json_string_value(s), n, LMS_TOK_ALLOW_EOT, ids, &err)) goto nomem;
    return 0;
nomem:
    return lms_api_errorf(e, 500, "server_error", NULL, NULL, "%s", err.msg);
}

/* A JSON array of token ids into ids. */
static int id_prompt(json_t *a, size_t p, lms_ids *ids, lms_api_error *e) {
    lms_err err = {0};
    size_t i;
    json_t *v;
    if (lms_ids_reserve(ids, json_array_size(a), &err)) return lms_api_errorf(e, 500, "server_error", NULL, NULL, "%s", err.msg);
    json_array_foreach(a, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
            return BAD(e, "prompt", "prompt %zu: element %zu is not a token id (an integer >= 0)", p, i);
        ids->ids[ids->n++] = (uint32_t)json_integer_value(v);
    }
    return 0;
}

/* prompt: missing/null, a string, [strings], [ids] or [[ids]] (openai.h). */
static int parse_prompt(json_t *o, lms_complete_req *req, const lms_tokenizer *t, lms_api_error *e) {
    json_t *p = json_object_get(o, "prompt");
    json_t *one = NULL;
    size_t n = 1;
    enum { TEXT, IDS, IDS_EACH, TEXT_EACH } kind;
    if (!p || json_is_null(p)) kind = TEXT, one = json_string("");
    else if (json_is_string(p)) kind = TEXT, one = json_incref(p);
    else if (json_is_array(p)) {
        json_t *first = json_array_get(p, 0);
        if (!first) return BAD(e, "prompt", "prompt is an empty array; give a string, strings, token ids or arrays of them");
        kind = json_is_integer(first) ? IDS : json_is_array(first) ? IDS_EACH : json_is_string(first) ? TEXT_EACH : TEXT;
        if (kind == TEXT) return BAD(e, "prompt", "prompt's elements must be strings, token ids or arrays of token ids");
        n = kind == IDS ? 1 : json_array_size(p);
    } else return BAD(e, "prompt", "prompt must be a string, an array of strings, an array of token ids or an array "
                      "of arrays of token ids");
    if (n > LMS_COMPLETE_MAX_PROMPTS) {
        json_decref(one);
        return BAD(e, "prompt", "%zu prompts in one request; at most %d", n, LMS_COMPLETE_MAX_PROMPTS);
    }
    if (!(req->prompt = calloc(n, sizeof *req->prompt))) {
        json_decref(one);
        return lms_api_errorf(e, 500, "server_error", NULL, NULL, "out of memory for %zu prompts", n);
    }
    req->n_prompt = n;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *v = kind == TEXT ? one : kind == IDS ? p : json_array_get(p, i);
        if (kind == TEXT || kind == TEXT_EACH) {
            if (!json_is_string(v)) rc = BAD(e, "prompt", "prompt %zu is not a string like the first one", i);
            else rc = text_prompt(t, v, i, &req->prompt[i], e);
        } else {
            if (!json_is_array(v)) rc = BAD(e, "prompt", "prompt %zu is not an array of token ids like the first one", i);
            else rc = id_prompt(v, i, &req->prompt[i], e);
        }
    }
    json_decref(one);
    return rc;
}

/* stop: null, a string or an array of strings. */
static int parse_stop(json_t *o, lms_complete_req *req, lms_api_error *e) {
    json_t *s = json_object_get(o, "stop");
    if (!s || json_is_null(s)) return 0;
    size_t n = json_is_string(s) ? 1 : json_is_array(s) ? json_array_size(s) : 0;
    if (!json_is_string(s) && !json_is_array(s)) return BAD(e, "stop", "stop must be a string or an array of strings");
    if (n > LMS_COMPLETE_MAX_STOP) return BAD(e, "stop", "%zu stop strings; at most %d", n, LMS_COMPLETE_MAX_STOP);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_is_string(s) ? s : json_array_get(s, i);
        if (!json_is_string(v)) return BAD(e, "stop", "stop element %zu is not a string", i);
        size_t len = json_string_length(v);
        if (len == 0) return BAD(e, "stop", "stop string %zu is empty", i);
        if (!(req->stop[i] = malloc(len + 1))) return lms_api_errorf(e, 500, "server_error", NULL, NULL, "out of memory");
        memcpy(req->stop[i], json_string_value(v), len + 1);
        req->stop_len[i] = len;
        req->n_stop = (int)i + 1;
    }
    return 0;
}

static int parse_fields(json_t *o, lms_complete_req *req, const char *model, lms_api_error *e) {
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int known = 0;
        for (int i = 0; known_fields[i] && !known; i++) known = !strcmp(key, known_fields[i]);
        if (!known) return lms_api_errorf(e, 400, "invalid_request_error", NULL, "unknown_parameter",
                                          "Unrecognized request argument supplied: %.200s", key);
    }
    v = json_object_get(o, "model");
    if (v && !json_is_null(v) && !json_is_string(v)) return BAD(e, "model", "model must be a string");
    if (json_is_string(v) && strcmp(json_string_value(v), model))
        return lms_api_errorf(e, 404, "invalid_request_error", "model", "model_not_found",
                              "The model '%.200s' does not exist; this server serves '%.200s'", json_string_value(v), model);
    long long max_tokens = req->max_tokens, top_k = 0, logprobs = -1, seed = (long long)req->seed;
    if (get_int(o, "max_tokens", 0, INT32_MAX, &max_tokens, e) || get_int(o, "top_k", 0, INT32_MAX, &top_k, e) ||
        get_int(o, "logprobs", 0, LMS_COMPLETE_MAX_LOGPROBS, &logprobs, e) ||
        get_int(o, "seed", INT64_MIN, INT64_MAX, &seed, e) ||
        get_num(o, "temperature", 0, 2, 0, &req->temperature, e) || get_num(o, "top_p", 0, 1, 1, &req->top_p, e) ||
        get_bool(o, "echo", &req->echo, e) || check_neutral(o, e))
        return e->status;
    req->max_tokens = (int)max_tokens;
    req->top_k = (int)top_k;
    req->logprobs = (int)logprobs;
    req->seed = (uint64_t)seed;
    return 0;
}

int lms_openai_parse_completion(lms_complete_req *req, const char *body, size_t len, const lms_completer *c,
                                const char *model, uint64_t seed, lms_api_error *e) {
    *req = lms_complete_req_defaults();
    req->seed = seed;
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_ALLOW_NUL, &je); /* "\u0000" is valid JSON text */
    if (!o) return BAD(e, NULL, "We could not parse the JSON body of your request (%s, line %d column %d); send a "
                       "JSON object such as {\"prompt\": \"Hello\", \"max_tokens\": 5}", je.text, je.line, je.column);
    int rc = json_is_object(o) ? 0 : BAD(e, NULL, "the body must be a JSON object");
    if (!rc) rc = parse_fields(o, req, model, e);
    if (!rc) rc = parse_stop(o, req, e);
    if (!rc) rc = parse_prompt(o, req, lms_completer_tokenizer(c), e);
    json_decref(o);
    if (rc) return rc;
    lms_err err = {0};
    const char *field = NULL;
    int too_long = 0;
    if (lms_complete_check(c, req, &field, &too_long, &err))
        return lms_api_errorf(e, 400, "invalid_request_error", field, too_long ? "context_length_exceeded" : NULL, "%s",
                              err.msg);
    return 0;
}

/* ---- response ---- */

/* Bytes s[0..n) as valid UTF-8 into out (3n + 1 bytes): each byte that does not belong to a valid
   character becomes U+FFFD. map[i] (n + 1 entries) gets the output offset of input byte i. */
static size_t utf8_clean(const char *s, size_t n, char *out, size_t *map) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t adv;
        int32_t cp = lms_utf8_decode(s + i, n - i, &adv);
        map[i] = o;
        if (cp < 0) memcpy(out + o, "\xef\xbf\xbd", 3), o += 3;
        else memcpy(out + o, s + i, adv), o += adv;
        for (size_t j = 1; j < adv; j++) map[i + j] = o;
        i += adv;
    }
    map[n] = o;
    out[o] = 0;
    return o;
}

/* The token's text when it is valid UTF-8 without NUL, else "bytes:\xNN..." (OpenAI's form; a NUL
   would end the key of a top_logprobs entry for many JSON readers, jansson's included). */
static json_t *token_string(const lms_tokenizer *t, int32_t id) {
    size_t len = 0;
    const char *b = id >= 0 ? lms_tokenizer_token(t, (uint32_t)id, &len) : NULL;
    if (!b) return json_string("");
    for (size_t i = 0; i < len;) {
        size_t adv;
        if (lms_utf8_decode(b + i, len - i, &adv) <= 0) {
            char buf[6 + 4 * 256 + 1];
            size_t o = (size_t)snprintf(buf, sizeof buf, "bytes:");
            for (size_t j = 0; j < len && o + 5 < sizeof buf; j++)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", (unsigned char)b[j]);
            return json_string(buf);
        }
        i += adv;
    }
    return json_stringn(b, len);
}

static json_t *logprobs_json(const lms_complete_choice *ch, const lms_tokenizer *t, int k, const size_t *map) {
    json_t *tokens = json_array(), *lp = json_array(), *top = json_array(), *off = json_array();
    for (size_t i = 0; i < ch->n_tok; i++) {
        json_array_append_new(tokens, token_string(t, (int32_t)ch->ids[i]));
        json_array_append_new(lp, lms_json_num(ch->logp[i]));
        if (isnan(ch->logp[i])) json_array_append_new(top, json_null());
        else {
            json_t *alts = json_object();
            for (int j = 0; j < k; j++) {
                json_t *key = token_string(t, ch->top_id[i * k + j]);
                json_object_setn_new(alts, json_string_value(key), json_string_length(key),
                                     lms_json_num(ch->top_logp[i * k + j]));
                json_decref(key);
            }
            json_array_append_new(top, alts);
        }
        json_array_append_new(off, json_integer((json_int_t)map[ch->off[i] < ch->len ? ch->off[i] : ch->len]));
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "tokens", tokens, "token_logprobs", lp, "top_logprobs", top,
                     "text_offset", off);
}

json_t *lms_openai_completion_json(const lms_complete_result *r, const lms_tokenizer *t, const char *model,
                                   const char *id, int64_t created) {
    json_t *choices = json_array();
    size_t prompt_tokens = 0, completion_tokens = 0;
    for (size_t i = 0; i < r->n; i++) {
        const lms_complete_choice *ch = &r->choice[i];
        char *text = malloc(3 * ch->len + 1);
        size_t *map = malloc((ch->len + 1) * sizeof *map);
        if (!text || !map) {
            free(text), free(map), json_decref(choices);
            return NULL;
        }
        size_t tl = utf8_clean(ch->text, ch->len, text, map);
        json_t *lp = r->logprobs >= 0 ? logprobs_json(ch, t, r->k, map) : json_null();
        json_array_append_new(choices, json_pack("{s:s%, s:I, s:o, s:s}", "text", text, tl, "index", (json_int_t)i,
                                                 "logprobs", lp, "finish_reason",
                                                 ch->finish == LMS_FINISH_STOP ? "stop" : "length"));
        prompt_tokens += ch->prompt_tokens;
        completion_tokens += ch->completion_tokens;
        free(text), free(map);
    }
    return json_pack("{s:s, s:s, s:I, s:s, s:o, s:{s:I, s:I, s:I}}", "id", id, "object", "text_completion", "created",
                     (json_int_t)created, "model", model, "choices", choices, "usage", "prompt_tokens",
                     (json_int_t)prompt_tokens, "completion_tokens", (json_int_t)completion_tokens, "total_tokens",
                     (json_int_t)(prompt_tokens + completion_tokens));
}

json_t *lms_openai_models_json(const char *model, int64_t created, int one) {
    json_t *m = json_pack("{s:s, s:s, s:I, s:s}", "id", model, "object", "model", "created", (json_int_t)created,
                          "owned_by", "lmscope");
    return one || !m ? m : json_pack("{s:s, s:[o]}", "object", "list", "data", m);
}

/* The JSON text of o (stolen) into *out; the status, or 500 when it cannot be written. */
static int dump(json_t *o, int status, char **out, size_t *out_len) {
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    *out_len = *out ? strlen(*out) : 0;
    return *out ? status : 500;
}

int lms_openai_completions(lms_completer *c, const char *model, const char *body, size_t len, uint64_t request_no,
                           char **out, size_t *out_len) {
    lms_api_error e = {0};
    lms_complete_req req;
    /* without a seed in the body: a different one per request, as OpenAI samples afresh */
    uint64_t seed = request_no * 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL);
    int status = lms_openai_parse_completion(&req, body, len, c, model, seed, &e);
    if (status) {
        lms_complete_req_free(&req);
        return dump(lms_openai_error_json(&e), status, out, out_len);
    }
    lms_complete_result res;
    lms_err err = {0};
    lms_status st = lms_complete(c, &req, &res, &err);
    lms_complete_req_free(&req);
    if (st) {
        lms_api_errorf(&e, st == LMS_ERR_ARG ? 400 : 500, st == LMS_ERR_ARG ? "invalid_request_error" : "server_error",
                       NULL, NULL, "%s", err.msg);
        return dump(lms_openai_error_json(&e), e.status, out, out_len);
    }
    char id[32];
    snprintf(id, sizeof id, "cmpl-%llu", (unsigned long long)request_no);
    json_t *o = lms_openai_completion_json(&res, lms_completer_tokenizer(c), model, id, (int64_t)time(NULL));
    lms_complete_result_free(&res);
    return dump(o, 200, out, out_len);
}

/* ---- the tokenizer endpoints (vLLM's shapes, which lm-evaluation-harness's remote tokenizer reads) ---- */

json_t *lms_openai_tokenizer_info_json(const lms_completer *c) {
    const char *eot = lms_tokenizer_eot(lms_completer_tokenizer(c)) >= 0 ? "<|endoftext|>" : NULL;
    return json_pack("{s:s?, s:s?, s:n, s:I, s:I}", "eos_token", eot, "bos_token", eot, "pad_token", "max_model_len",
                     (json_int_t)lms_completer_n_ctx(c), "vocab_size", (json_int_t)lms_completer_vocab(c));
}

/* The body as an object holding only the given fields (and "model", which must name this model). */
static json_t *small_body(const char *body, size_t len, const char *model, const char *const *fields,
                          lms_api_error *e) {
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_ALLOW_NUL, &je);
    if (!o || !json_is_object(o)) {
        BAD(e, NULL, "the body must be a JSON object (%s)", o ? "not an object" : je.text);
        json_decref(o);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int known = !strcmp(key, "model");
        for (int i = 0; fields[i] && !known; i++) known = !strcmp(key, fields[i]);
        if (!known) lms_api_errorf(e, 400, "invalid_request_error", NULL, "unknown_parameter",
                                   "Unrecognized request argument supplied: %.200s", key);
        else if (!strcmp(key, "model") && !json_is_null(v) && (!json_is_string(v) || strcmp(json_string_value(v), model)))
            lms_api_errorf(e, 404, "invalid_request_error", "model", "model_not_found",
                           "this server serves '%.200s' only", model);
        if (e->status) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int lms_openai_tokenize(const lms_completer *c, const char *model, const char *body, size_t len, char **out,
                        size_t *out_len) {
    static const char *const fields[] = {"prompt", "add_special_tokens", NULL};
    lms_api_error e = {0};
    json_t *o = small_body(body, len, model, fields, &e), *p = json_object_get(o, "prompt");
    json_t *add = json_object_get(o, "add_special_tokens");
    if (o && !json_is_string(p)) BAD(&e, "prompt", "prompt must be a string");
    else if (o && add && !json_is_boolean(add) && !json_is_null(add))
        BAD(&e, "add_special_tokens", "add_special_tokens must be true or false (there are none to add)");
    lms_ids ids = {0};
    lms_err err = {0};
    if (!e.status && lms_tokenizer_encode_ex(lms_completer_tokenizer(c), json_string_value(p), json_string_length(p),
                                             LMS_TOK_ALLOW_EOT, &ids, &err))
        lms_api_errorf(&e, 500, "server_error", NULL, NULL, "%s", err.msg);
    json_t *r = NULL;
    if (!e.status) {
        json_t *toks = json_array();
        for (size_t i = 0; i < ids.n; i++) json_array_append_new(toks, json_integer(ids.ids[i]));
        r = json_pack("{s:o, s:I, s:I}", "tokens", toks, "count", (json_int_t)ids.n, "max_model_len",
                      (json_int_t)lms_completer_n_ctx(c));
    }
    lms_ids_free(&ids);
    json_decref(o);
    return e.status ? dump(lms_openai_error_json(&e), e.status, out, out_len) : dump(r, 200, out, out_len);
}

int lms_openai_detokenize(const lms_completer *c, const char *model, const char *body, size_t len, char **out,
                          size_t *out_len) {
    static const char *const fields[] = {"tokens", NULL};
    lms_api_error e = {0};
    json_t *o = small_body(body, len, model, fields, &e), *a = json_object_get(o, "tokens");
    lms_ids ids = {0};
    if (o && !json_is_array(a)) BAD(&e, "tokens", "tokens must be an array of token ids");
    else if (o) id_prompt(a, 0, &ids, &e);
    for (size_t i = 0; !e.status && i < ids.n; i++)
        if (ids.ids[i] >= (uint32_t)lms_completer_vocab(c))
            BAD(&e, "tokens", "token %zu is id %u, beyond the model's vocabulary of %d", i, ids.ids[i],
                lms_completer_vocab(c));
    char *raw = NULL, *text = NULL;
    size_t n = 0, *map = NULL;
    lms_err err = {0};
    if (!e.status && lms_tokenizer_decode(lms_completer_tokenizer(c), ids.ids, ids.n, &raw, &n, &err))
        lms_api_errorf(&e, 500, "server_error", NULL, NULL, "%s", err.msg);
    json_t *r = NULL;
    if (!e.status) {
        text = malloc(3 * n + 1), map = malloc((n + 1) * sizeof *map);
        if (text && map) {
            size_t tl = utf8_clean(raw, n, text, map);
            r = json_pack("{s:s%}", "prompt", text, tl);
        }
    }
    free(raw), free(text), free(map);
    lms_ids_free(&ids);
    json_decref(o);
    return e.status ? dump(lms_openai_error_json(&e), e.status, out, out_len) : dump(r, 200, out, out_len);
}
