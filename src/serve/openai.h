/* openai.h — the JSON of OpenAI's legacy completions API on both sides of serve/complete.h: a
 * /v1/completions request body into an lms_complete_req, a result into the response object, the
 * /v1/models list, and OpenAI's error object. The fields and limits are listed in docs/formats.md
 * ("serve").
 *
 *   char *out; size_t n;
 *   int status = lms_openai_completions(c, "s3", body, body_len, 7, &out, &n);  // 200 + response,
 *   ...send status and out...; free(out);                                      // or 4xx/5xx + error
 *
 * Request: prompt (a string, an array of strings, an array of token ids, or an array of arrays of
 * token ids; missing or "" is "<|endoftext|>", the start of a document, when the tokenizer has it;
 * the text "<|endoftext|>" inside a prompt is that token), max_tokens, temperature, top_p, top_k
 * (an extension, as vLLM's), seed, stop (a string or an array), logprobs, echo, model (must be the
 * served name when given); n and best_of only 1, stream only false, presence_penalty and
 * frequency_penalty only 0, logit_bias only {}, suffix only null or "", user ignored. Any other
 * field is refused (400), as OpenAI does, so that a parameter is never silently dropped.
 * Response: id, object "text_completion", created, model, choices[{text, index, logprobs,
 * finish_reason}], usage. Text that is not valid UTF-8 (a token holding part of a character) gets
 * U+FFFD in place of the bad bytes, and text_offset counts bytes of the returned (UTF-8) text;
 * a token string that is not valid UTF-8 (or holds a NUL byte) is written "bytes:\xNN..." as
 * OpenAI does.
 *
 * Also the tokenizer endpoints that vLLM has (/tokenizer_info, /tokenize, /detokenize), with which
 * lm-evaluation-harness tokenizes through the server (its tokenizer_backend=remote).
 *
 * Leaves out: HTTP (serve/server.h), chat completions, streaming.
 */
#ifndef LMS_SERVE_OPENAI_H
#define LMS_SERVE_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "serve/complete.h"

typedef struct {
    int status;         /* HTTP status: 400 bad request, 404 unknown model/path, 405, 413, 500 */
    const char *type;   /* "invalid_request_error", "not_found_error", "server_error" */
    const char *param;  /* the request field at fault, or NULL */
    const char *code;   /* "context_length_exceeded", "model_not_found", ..., or NULL */
    char message[512];
} lms_api_error;

/* Fill e (returns e->status) with printf-style message. */
int lms_api_errorf(lms_api_error *e, int status, const char *type, const char *param, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* {"error": {"message", "type", "param", "code"}} (new reference). */
json_t *lms_openai_error_json(const lms_api_error *e);

/* Parse a /v1/completions body into *req (zeroed first; free with lms_complete_req_free, also
   after a failure). Text prompts are tokenized with the completer's tokenizer. model: the served
   name. seed: used when the body gives none. Returns 0, or the HTTP status with *e filled (JSON
   that does not parse, wrong types, unknown or unsupported fields: 400; another model: 404). The
   limits of complete.h are checked here too (lms_complete_check), so a 0 here means lms_complete
   fails only for lack of memory or damaged weights. */
int lms_openai_parse_completion(lms_complete_req *req, const char *body, size_t len, const lms_completer *c,
                                const char *model, uint64_t seed, lms_api_error *e);

/* The response object for result r of a request (new reference; NULL only when out of memory).
   t: the tokenizer (token strings for logprobs.tokens and top_logprobs). */
json_t *lms_openai_completion_json(const lms_complete_result *r, const lms_tokenizer *t, const char *model,
                                   const char *id, int64_t created);

/* GET /v1/models: {"object": "list", "data": [model]}; with one = 1, the model object alone
   (GET /v1/models/{model}). */
json_t *lms_openai_models_json(const char *model, int64_t created, int one);

/* The whole of POST /v1/completions without the HTTP: parse body, run it on c, write the
   response (or the error object). request_no makes the response id ("cmpl-<n>") and, when the body
   has no seed, the seed. Returns the HTTP status; *out (malloc'd, NUL-terminated, *out_len bytes)
   is the JSON to send; *out is NULL only when out of memory (send a bare 500 then). */
int lms_openai_completions(lms_completer *c, const char *model, const char *body, size_t len, uint64_t request_no,
                           char **out, size_t *out_len);

/* The tokenizer endpoints, in vLLM's shapes (lm-evaluation-harness's tokenizer_backend=remote reads
   them). GET /tokenizer_info: {"eos_token", "bos_token" ("<|endoftext|>", or null for a tokenizer
   without it), "pad_token": null, "max_model_len": n_ctx, "vocab_size"} (new reference). */
json_t *lms_openai_tokenizer_info_json(const lms_completer *c);

/* POST /tokenize {"prompt": text, "add_special_tokens": bool (there are none to add)} ->
   {"tokens": [ids], "count", "max_model_len"}; the text "<|endoftext|>" is that token, as in
   completions. POST /detokenize {"tokens": [ids]} -> {"prompt": text} (U+FFFD for bytes that are
   not UTF-8). Both accept "model" (must be the served name). Same return and *out as
   lms_openai_completions; they only read the tokenizer, so they may run on any thread. */
int lms_openai_tokenize(const lms_completer *c, const char *model, const char *body, size_t len, char **out,
                        size_t *out_len);
int lms_openai_detokenize(const lms_completer *c, const char *model, const char *body, size_t len, char **out,
                          size_t *out_len);

#endif
