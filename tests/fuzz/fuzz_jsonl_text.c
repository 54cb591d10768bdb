/* fuzz_jsonl_text.c — libFuzzer target for the JSON Lines text reader (src/core/jsonl_text.c)
 * and the line reader under it (src/core/jsonl.c).
 *
 * Input: one byte choosing the options (bit 0: skip bad lines; bit 1: a domain field "d"; bit 2:
 * the text field "t" instead of "text"; bits 3-5: the read block, 1..8 bytes times a power of
 * 2), then the file's bytes, written to a temporary file. Every document handed out must satisfy
 * jsonl_text.h's contract — non-empty, trimmed, UTF-8 without NUL, the domain a NUL-terminated
 * string when asked for, lines increasing, its line inside the file and read again at its
 * offset to the same text; a failure must carry a "path:line: " message. Anything else is a crash
 * for the fuzzer to report.
 *   make fuzz && build-fuzz/fuzz_jsonl_text -max_total_time=600 build-fuzz/corpus-fuzz_jsonl_text tests/fuzz/seeds/fuzz_jsonl_text
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/jsonl_text.h"
#include "core/log.h"
#include "data/corpus.h"

typedef struct {
    FILE *f;
    const lms_jsonl_text_opts *o;
    size_t size;
    long last;
    lms_jsonl_text_buf b;
} state;

static int ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static lms_status check(const lms_jsonl_doc *d, void *user, lms_err *err) {
    state *s = user;
    LMS_ASSERT(d->len > 0 && !ws(d->text[0]) && !ws(d->text[d->len - 1]));
    LMS_ASSERT(lms_utf8_valid_prefix(d->text, d->len) == d->len);
    LMS_ASSERT((d->domain != NULL) == (s->o->domain_field != NULL));
    LMS_ASSERT(d->line > s->last && d->off + d->line_len <= s->size);
    s->last = d->line;
    const char *t;
    size_t len;
    lms_err e = {0};
    LMS_ASSERT(lms_jsonl_text_reread(s->f, "fuzz", d->off, d->line_len, d->line, s->o, &s->b, &t, &len, &e) == LMS_OK);
    LMS_ASSERT(len == d->len && !memcmp(t, d->text, len));
    return LMS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static char path[64];
    if (!path[0]) {
        lms_log_set_level(LMS_LOG_ERROR); /* bad lines warn under skip_bad: not the fuzzer's business */
        strcpy(path, "/tmp/fuzz_jsonl_text_XXXXXX");
        int fd = mkstemp(path);
        LMS_ASSERT(fd >= 0);
        close(fd);
    }
    FILE *w = fopen(path, "wb");
    LMS_ASSERT(w && fwrite(data + 1, 1, size - 1, w) == size - 1 && fclose(w) == 0);
    lms_jsonl_text_opts o = {.skip_bad = data[0] & 1, .domain_field = (data[0] & 2) ? "d" : NULL,
                             .text_field = (data[0] & 4) ? "t" : NULL};
    state s = {.f = fopen(path, "rb"), .o = &o, .size = size - 1};
    LMS_ASSERT(s.f);
    lms_err err = {0};
    lms_jsonl_text_counts n;
    size_t block = (size_t)1 << ((data[0] >> 3) & 7);
    lms_status st = lms_jsonl_text_read(path, &o, block, check, &s, &n, &err);
    if (st) LMS_ASSERT(st == LMS_ERR_FORMAT && !strncmp(err.msg, path, strlen(path)) && err.msg[strlen(path)] == ':');
    else LMS_ASSERT(n.docs + n.empty + n.bad <= n.lines);
    lms_jsonl_text_buf_free(&s.b);
    fclose(s.f);
    return 0;
}
