/* fuzz_completion.c — libFuzzer target for the request bodies of 'serve' (serve/openai.h): the
 * input is a body, run through lms_openai_completions (parse, limits, the completion, the response
 * JSON) on a fixed tiny model (byte tokenizer, 16-token context), and through /tokenize and
 * /detokenize. Each answer must be a JSON object with its result (200) or "error" (400, 404; a 500,
 * out of memory, counts as a finding). Crashes, leaks and sanitizer reports are findings.
 *
 *   make fuzz && build-fuzz/fuzz_completion -max_total_time=300 build-fuzz/corpus-fuzz_completion \
 *       tests/fuzz/seeds/fuzz_completion
 *
 * Leaves out: HTTP (server.c), whose parsing is libmicrohttpd's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/gpt.h"
#include "serve/complete.h"
#include "serve/openai.h"
#include "tokenizer/tokenizer.h"

static lms_completer *completer;

static void setup(void) {
    lms_gpt_config c = {.n_layer = 1, .n_head = 1, .n_embd = 8, .n_ctx = 16, .vocab_size = 256};
    lms_gpt *m = NULL;
    lms_err err = {0};
    if (lms_gpt_create(&m, &c, &err)) abort();
    lms_gpt_init(m, 1);
    if (lms_completer_create(&completer, m, lms_tokenizer_bytes(), &err)) abort();
}

/* The answer out[n] must be a JSON object: with `key` (200) or "error" (400, 404). */
static void check_answer(int status, char *out, size_t n, const char *key) {
    if (!out) abort();
    json_error_t je;
    json_t *o = json_loadb(out, n, JSON_ALLOW_NUL, &je);
    if (!o || !json_is_object(o)) {
        fprintf(stderr, "the answer is not a JSON object (%s): %.*s\n", je.text, (int)n, out);
        abort();
    }
    if (status == 200 ? !json_object_get(o, key) : !json_is_object(json_object_get(o, "error"))) abort();
    if (status != 200 && status != 400 && status != 404) abort();
    json_decref(o);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!completer) setup();
    const char *body = (const char *)data;
    char *out = NULL;
    size_t n = 0;
    check_answer(lms_openai_completions(completer, "tiny", body, size, 1, &out, &n), out, n, "choices");
    check_answer(lms_openai_tokenize(completer, "tiny", body, size, &out, &n), out, n, "tokens");
    check_answer(lms_openai_detokenize(completer, "tiny", body, size, &out, &n), out, n, "prompt");
    return 0;
}
