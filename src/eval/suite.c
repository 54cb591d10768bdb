/* suite.c — the probe-suite iterator (suite.h): JSON Lines through jansson, the Inverse Scaling
 * Prize CSV through a small RFC 4180 record reader and a Python list-literal parser.
 *
 * Input comes through one read buffer (a file descriptor or a memory block); the current line or
 * CSV record is assembled in a growable buffer capped at LMS_SUITE_MAX_LINE, so memory stays
 * bounded by the longest record whatever the file's size.
 * Leaves out: tokenizing and scoring (evaluate.c).
 */
#include "eval/suite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "core/fileio.h"

#define RBUF_SIZE (64u << 10)

struct lms_suite {
    char path[4096];
    char name[256];
    lms_suite_format fmt;
    /* input: fd >= 0, or mem */
    int fd;
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    unsigned char *rbuf;
    size_t rpos, rlen;
    int eof;
    int64_t lineno; /* lines consumed so far (the next line is lineno + 1) */
    /* the current line (JSONL) or record's field bytes (CSV, each field NUL-terminated) */
    char *buf;
    size_t len, cap;
    /* CSV */
    size_t *foff;
    int nf, fcap;
    int col_prompt, col_classes, col_answer, min_fields;
    char **classes;
    size_t *classes_len;
    int n_classes;
    /* JSONL */
    json_t *root;
    const char **choices;
    size_t *choice_len;
    int choices_cap;
    char *meta;
    lms_suite_item item;
    lms_status failed; /* sticky */
    char failmsg[1024];
};

/* ---- input ---- */

/* Make bytes available in rbuf[rpos..rlen). Returns 1 when some are, 0 at the end, -1 on error. */
static int fill(lms_suite *s, lms_err *err) {
    if (s->rpos < s->rlen) return 1;
    if (s->eof) return 0;
    if (s->fd < 0) {
        s->rbuf = (unsigned char *)s->mem + s->mem_pos; /* read-only in practice: never written */
        s->rpos = 0;
        s->rlen = s->mem_len - s->mem_pos;
        s->mem_pos = s->mem_len;
        s->eof = 1;
        return s->rlen > 0;
    }
    for (;;) {
        ssize_t n = read(s->fd, s->rbuf, RBUF_SIZE);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            lms_errf(err, LMS_ERR_IO, "%s: read failed after line %lld: %s", s->path, (long long)s->lineno,
                     strerror(errno));
            return -1;
        }
        s->rpos = 0;
        s->rlen = (size_t)n;
        if (n == 0) s->eof = 1;
        return n > 0;
    }
}

static lms_status grow(lms_suite *s, size_t need, int64_t line, lms_err *err) {
    if (need <= s->cap) return LMS_OK;
    if (need > (size_t)LMS_SUITE_MAX_LINE + 1)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "%s:%lld: this %s is longer than %u MiB; suites hold one item per line (is this a suite file?)",
                        s->path, (long long)line, s->fmt == LMS_SUITE_CSV ? "record" : "line",
                        LMS_SUITE_MAX_LINE >> 20);
    size_t nc = s->cap ? s->cap : 4096;
    while (nc < need) nc *= 2;
    if (nc > (size_t)LMS_SUITE_MAX_LINE + 1) nc = (size_t)LMS_SUITE_MAX_LINE + 1;
    char *nb = realloc(s->buf, nc);
    if (!nb) return lms_errf(err, LMS_ERR_NOMEM, "%s:%lld: out of memory for a %zu-byte line", s->path, (long long)line, need);
    s->buf = nb;
    s->cap = nc;
    return LMS_OK;
}

/* Read one line (without '\n'; a trailing '\r' removed) into s->buf. *got = 0 at the end of the
   input, *unterminated = 1 when the line ended with the file instead of '\n'. */
static lms_status read_line(lms_suite *s, int *got, int *unterminated, lms_err *err) {
    s->len = 0;
    *got = 0;
    *unterminated = 0;
    int64_t line = s->lineno + 1;
    for (;;) {
        int r = fill(s, err);
        if (r < 0) return LMS_ERR_IO;
        if (r == 0) {
            if (s->len == 0 && !*got) return LMS_OK;
            *unterminated = 1;
            break;
        }
        *got = 1;
        const unsigned char *p = s->rbuf + s->rpos;
        size_t avail = s->rlen - s->rpos;
        const unsigned char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (grow(s, s->len + take + 1, line, err)) return err->code;
        memcpy(s->buf + s->len, p, take);
        s->len += take;
        s->rpos += take + (nl ? 1 : 0);
        if (nl) break;
    }
    s->lineno++;
    if (s->len && s->buf[s->len - 1] == '\r') s->len--;
    s->buf[s->len] = 0;
    return LMS_OK;
}

/* ---- opening ---- */

lms_suite_format lms_suite_format_of(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && !strcasecmp(path + n - 4, ".csv") ? LMS_SUITE_CSV : LMS_SUITE_JSONL;
}

static void set_name(lms_suite *s, const char *path) {
    snprintf(s->path, sizeof s->path, "%s", path);
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(s->name, sizeof s->name, "%s", b);
    char *dot = strrchr(s->name, '.');
    if (dot && dot != s->name) *dot = 0;
}

static lms_status csv_read_header(lms_suite *s, lms_err *err);

static lms_status finish_open(lms_suite **out, lms_suite *s, lms_err *err) {
    if (s->fmt == LMS_SUITE_CSV && csv_read_header(s, err)) {
        lms_suite_close(s);
        return err->code;
    }
    *out = s;
    return LMS_OK;
}

static lms_suite *new_suite(const char *path, lms_suite_format fmt) {
    lms_suite *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->fd = -1;
    s->fmt = fmt;
    s->col_prompt = s->col_classes = s->col_answer = -1;
    set_name(s, path);
    return s;
}

lms_status lms_suite_open(lms_suite **out, const char *path, lms_err *err) {
    *out = NULL;
    int fd; /* a FIFO, directory or device is refused at once, without waiting for a writer */
    lms_status st = lms_open_regular(path, &fd, err);
    if (st) {
        if (!lms_path_exists(path))
            return lms_errf(err, st, "cannot open suite %s: it does not exist (give a .jsonl or .csv file, or a suite "
                            "name from the suite dir)", path);
        lms_err_prefix(err, "suite: ");
        return st;
    }
    lms_suite *s = new_suite(path, lms_suite_format_of(path));
    if (s) s->rbuf = malloc(RBUF_SIZE);
    if (!s || !s->rbuf) {
        close(fd);
        if (s) free(s);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory opening suite %s", path);
    }
    s->fd = fd;
    return finish_open(out, s, err);
}

lms_status lms_suite_open_mem(lms_suite **out, const void *data, size_t len, lms_suite_format fmt, const char *name,
                              lms_err *err) {
    *out = NULL;
    lms_suite *s = new_suite(name ? name : "(memory)", fmt);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory opening a suite");
    s->mem = data;
    s->mem_len = data ? len : 0;
    return finish_open(out, s, err);
}

static void clear_item(lms_suite *s) {
    if (s->root) json_decref(s->root);
    s->root = NULL;
    free(s->meta);
    s->meta = NULL;
    lms_suite_free_strings(s->classes, s->classes_len, s->n_classes);
    s->classes = NULL;
    s->classes_len = NULL;
    s->n_classes = 0;
    memset(&s->item, 0, sizeof s->item);
}

void lms_suite_close(lms_suite *s) {
    if (!s) return;
    clear_item(s);
    if (s->fd >= 0) {
        close(s->fd);
        free(s->rbuf);
    }
    free(s->buf);
    free(s->foff);
    free(s->choices);
    free(s->choice_len);
    free(s);
}

const char *lms_suite_name(const lms_suite *s) { return s->name; }
const char *lms_suite_path(const lms_suite *s) { return s->path; }
lms_suite_format lms_suite_get_format(const lms_suite *s) { return s->fmt; }

/* ---- checks shared by both forms ---- */

static lms_status bad(lms_suite *s, int64_t line, lms_err *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static lms_status bad(lms_suite *s, int64_t line, lms_err *err, const char *fmt, ...) {
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lms_errf(err, LMS_ERR_FORMAT, "%s:%lld: %s", s->path, (long long)line, what);
}

static lms_status reserve_choices(lms_suite *s, int n, lms_err *err) {
    if (n <= s->choices_cap) return LMS_OK;
    const char **c = realloc(s->choices, (size_t)n * sizeof *c);
    if (c) s->choices = c;
    size_t *l = realloc(s->choice_len, (size_t)n * sizeof *l);
    if (l) s->choice_len = l;
    if (!c || !l) return lms_errf(err, LMS_ERR_NOMEM, "%s: out of memory for %d choices", s->path, n);
    s->choices_cap = n;
    return LMS_OK;
}

static lms_status check_choices(lms_suite *s, int64_t line, int n, int answer, lms_err *err) {
    if (n < 2) return bad(s, line, err, "'choices' has %d entr%s; a multiple-choice item needs at least 2", n, n == 1 ? "y" : "ies");
    if (n > LMS_SUITE_MAX_CHOICES) return bad(s, line, err, "'choices' has %d entries; at most %d are supported", n, LMS_SUITE_MAX_CHOICES);
    for (int i = 0; i < n; i++)
        if (s->choice_len[i] == 0) return bad(s, line, err, "choice %d is empty; every choice must be some text (with its leading space)", i);
    if (answer < 0 || answer >= n)
        return bad(s, line, err, "the answer index %d is out of range: there are %d choices (0..%d)", answer, n, n - 1);
    return LMS_OK;
}

/* ---- JSON Lines ---- */

static int blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\f' && p[i] != '\v') return 0;
    return 1;
}

static lms_status jsonl_next(lms_suite *s, const lms_suite_item **item, lms_err *err) {
    for (;;) {
        int got, unterm;
        if (read_line(s, &got, &unterm, err)) return err->code;
        if (!got) return LMS_OK; /* *item stays NULL */
        int64_t line = s->lineno;
        char *text = s->buf;
        size_t tlen = s->len;
        if (line == 1 && tlen >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3, tlen -= 3; /* a UTF-8 BOM */
        if (blank(text, tlen)) continue;
        if (memchr(text, 0, tlen)) return bad(s, line, err, "a NUL byte in the line (is this a text file?)");
        json_error_t je;
        s->root = json_loadb(text, tlen, JSON_REJECT_DUPLICATES, &je);
        if (!s->root)
            return bad(s, line, err, "%sbad JSON at column %d: %s", unterm ? "the file ends inside this line (truncated?): " : "",
                       je.column, je.text);
        json_t *o = s->root;
        if (!json_is_object(o)) return bad(s, line, err, "not a JSON object; each line must be {\"context\": ..., \"choices\": [...], \"answer\": N} or {\"context\": ..., \"target\": ...}");
        json_t *ctx = json_object_get(o, "context"), *ch = json_object_get(o, "choices"), *ans = json_object_get(o, "answer"),
               *tg = json_object_get(o, "target"), *kd = json_object_get(o, "kind"), *meta = json_object_get(o, "meta");
        lms_suite_item *it = &s->item;
        it->line = line;
        it->answer = -1;
        if (!ctx) return bad(s, line, err, "missing field 'context' (use \"\" for none)");
        if (!json_is_string(ctx)) return bad(s, line, err, "'context' must be a string");
        it->context = json_string_value(ctx);
        it->context_len = json_string_length(ctx);
        int kind = -1;
        if (kd) {
            const char *k = json_is_string(kd) ? json_string_value(kd) : NULL;
            if (k && !strcmp(k, "mc")) kind = LMS_ITEM_MC;
            else if (k && !strcmp(k, "gen")) kind = LMS_ITEM_GEN;
            else if (k && !strcmp(k, "seq")) kind = LMS_ITEM_SEQ;
            else return bad(s, line, err, "'kind' must be \"mc\", \"gen\" or \"seq\"");
        }
        if (ch && tg) return bad(s, line, err, "both 'choices' and 'target'; an item has one or the other");
        if (!ch && !tg) return bad(s, line, err, "missing field 'choices' (multiple choice) or 'target' (gen/seq)");
        if (ch) {
            if (kind > 0) return bad(s, line, err, "'kind' \"%s\" needs a 'target', not 'choices'", kind == LMS_ITEM_GEN ? "gen" : "seq");
            if (!json_is_array(ch)) return bad(s, line, err, "'choices' must be an array of strings");
            size_t n = json_array_size(ch);
            if (n > LMS_SUITE_MAX_CHOICES) return bad(s, line, err, "'choices' has %zu entries; at most %d are supported", n, LMS_SUITE_MAX_CHOICES);
            if (reserve_choices(s, (int)n, err)) return err->code;
            for (size_t i = 0; i < n; i++) {
                json_t *c = json_array_get(ch, i);
                if (!json_is_string(c)) return bad(s, line, err, "choice %zu is not a string", i);
                s->choices[i] = json_string_value(c);
                s->choice_len[i] = json_string_length(c);
            }
            if (!ans) return bad(s, line, err, "missing field 'answer' (the index of the right choice)");
            if (!json_is_integer(ans)) return bad(s, line, err, "'answer' must be an integer index into 'choices'");
            json_int_t a = json_integer_value(ans);
            int ai = a < -1 ? -1 : a > LMS_SUITE_MAX_CHOICES ? LMS_SUITE_MAX_CHOICES : (int)a;
            if (a < 0 || a >= (json_int_t)n) {
                if (n >= 2) return bad(s, line, err, "the answer index %lld is out of range: there are %zu choices (0..%zu)", (long long)a, n, n - 1);
            }
            it->kind = LMS_ITEM_MC;
            it->n_choices = (int)n;
            it->choices = s->choices;
            it->choice_len = s->choice_len;
            it->answer = ai;
            if (check_choices(s, line, (int)n, ai, err)) return err->code;
        } else {
            if (kind == LMS_ITEM_MC) return bad(s, line, err, "'kind' \"mc\" needs 'choices' and 'answer', not a 'target'");
            if (ans) return bad(s, line, err, "'answer' without 'choices'");
            if (!json_is_string(tg)) return bad(s, line, err, "'target' must be a string");
            it->kind = kind < 0 ? LMS_ITEM_GEN : (lms_item_kind)kind;
            it->target = json_string_value(tg);
            it->target_len = json_string_length(tg);
            if (it->target_len == 0) return bad(s, line, err, "'target' is empty");
        }
        if (meta) {
            if (!json_is_object(meta)) return bad(s, line, err, "'meta' must be an object");
            s->meta = json_dumps(meta, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!s->meta) return lms_errf(err, LMS_ERR_NOMEM, "%s:%lld: out of memory", s->path, (long long)line);
            it->meta = s->meta;
        }
        *item = it;
        return LMS_OK;
    }
}

/* ---- CSV (RFC 4180) ---- */

static lms_status push_field(lms_suite *s, int64_t line, lms_err *err) {
    if (s->nf == s->fcap) {
        int nc = s->fcap ? s->fcap * 2 : 16;
        size_t *f = realloc(s->foff, (size_t)nc * sizeof *f);
        if (!f) return lms_errf(err, LMS_ERR_NOMEM, "%s:%lld: out of memory", s->path, (long long)line);
        s->foff = f;
        s->fcap = nc;
    }
    s->foff[s->nf++] = s->len;
    return LMS_OK;
}

static lms_status put(lms_suite *s, int c, int64_t line, lms_err *err) {
    if (s->len + 2 > s->cap && grow(s, s->len + 2, line, err)) return err->code;
    s->buf[s->len++] = (char)c;
    return LMS_OK;
}

/* Read one record: fields NUL-terminated in s->buf starting at s->foff[0..nf). *got = 0 at the end.
   *start is the line the record starts on. */
static lms_status csv_record(lms_suite *s, int *got, int64_t *start, lms_err *err) {
    s->len = 0;
    s->nf = 0;
    *got = 0;
    int64_t line = s->lineno + 1;
    *start = line;
    /* AFTER_QUOTED: text after a closing quote, kept as Python's csv module does */
    enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED, AFTER_QUOTED } st = FIELD_START;
    int any = 0, raw_cr = 0; /* raw_cr: the last byte stored is a '\r' from outside quotes */
    if (push_field(s, line, err)) return err->code;
    for (;;) {
        int r = fill(s, err);
        if (r < 0) return LMS_ERR_IO;
        if (r == 0) {
            if (!any) return LMS_OK;
            if (st == QUOTED)
                return bad(s, line, err, "a quoted field is never closed (the file ends inside it; a missing '\"'?)");
            s->lineno++;
            break;
        }
        int c = s->rbuf[s->rpos++];
        any = 1;
        if (c == 0) return bad(s, s->lineno + 1, err, "a NUL byte in the record (is this a text file?)");
        if (st == QUOTED) {
            if (c == '"') st = QUOTE_IN_QUOTED;
            else {
                if (c == '\n') s->lineno++;
                if (put(s, c, line, err)) return err->code;
            }
            raw_cr = 0;
            continue;
        }
        if (st == QUOTE_IN_QUOTED) {
            if (c == '"') { /* "" inside quotes */
                if (put(s, '"', line, err)) return err->code;
                st = QUOTED;
                continue;
            }
            st = AFTER_QUOTED;
        }
        if (c == ',') {
            if (put(s, 0, line, err) || push_field(s, line, err)) return err->code;
            st = FIELD_START;
            raw_cr = 0;
            continue;
        }
        if (c == '\n') {
            s->lineno++;
            break;
        }
        if (st == FIELD_START && c == '"') {
            st = QUOTED;
            continue;
        }
        if (st == FIELD_START) st = UNQUOTED;
        if (put(s, c, line, err)) return err->code;
        raw_cr = c == '\r';
    }
    if (raw_cr) s->len--; /* CRLF line ending */
    if (put(s, 0, line, err)) return err->code;
    *got = 1;
    return LMS_OK;
}

static int record_blank(const lms_suite *s) { return s->nf == 1 && blank(s->buf + s->foff[0], strlen(s->buf + s->foff[0])); }

static void trim(const char **p, size_t *n) {
    while (*n && (**p == ' ' || **p == '\t' || **p == '\r')) (*p)++, (*n)--;
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r')) (*n)--;
}

static lms_status csv_read_header(lms_suite *s, lms_err *err) {
    int got;
    int64_t line;
    do {
        if (csv_record(s, &got, &line, err)) return err->code;
        if (!got) return lms_errf(err, LMS_ERR_FORMAT, "%s: empty; an Inverse Scaling Prize CSV starts with a header naming prompt, classes, answer_index", s->path);
    } while (record_blank(s));
    for (int i = 0; i < s->nf; i++) {
        const char *p = s->buf + s->foff[i];
        size_t n = strlen(p);
        if (i == 0 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3, n -= 3; /* UTF-8 BOM */
        trim(&p, &n);
        int *col = n == 6 && !memcmp(p, "prompt", 6) ? &s->col_prompt
                 : n == 7 && !memcmp(p, "classes", 7) ? &s->col_classes
                 : n == 12 && !memcmp(p, "answer_index", 12) ? &s->col_answer : NULL;
        if (col && *col >= 0) return bad(s, line, err, "the header names the column '%.*s' twice", (int)n, p);
        if (col) *col = i;
    }
    const char *miss = s->col_prompt < 0 ? "prompt" : s->col_classes < 0 ? "classes" : s->col_answer < 0 ? "answer_index" : NULL;
    if (miss)
        return bad(s, line, err, "the header has no '%s' column; an Inverse Scaling Prize CSV has prompt, classes, answer_index "
                   "(JSON Lines suites need the .jsonl extension)", miss);
    s->min_fields = 1 + (s->col_prompt > s->col_classes ? s->col_prompt : s->col_classes);
    if (s->col_answer + 1 > s->min_fields) s->min_fields = s->col_answer + 1;
    return LMS_OK;
}

/* answer_index: an integer, optionally written as a float with a zero fraction ("1.0", as pandas
   writes integer columns that once held a NaN). */
static int parse_index(const char *p, size_t n, long *out) {
    trim(&p, &n);
    if (!n || n > 30) return 0;
    char tmp[32];
    memcpy(tmp, p, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (end == tmp || errno) return 0;
    if (*end == '.') {
        end++;
        while (*end == '0') end++;
    }
    if (*end) return 0;
    *out = v;
    return 1;
}

static lms_status csv_next(lms_suite *s, const lms_suite_item **item, lms_err *err) {
    int got;
    int64_t line;
    do {
        if (csv_record(s, &got, &line, err)) return err->code;
        if (!got) return LMS_OK;
    } while (record_blank(s));
    if (s->nf < s->min_fields)
        return bad(s, line, err, "the record has %d field%s but the header's prompt/classes/answer_index need %d (an unquoted comma or newline?)",
                   s->nf, s->nf == 1 ? "" : "s", s->min_fields);
    lms_suite_item *it = &s->item;
    it->kind = LMS_ITEM_MC;
    it->line = line;
    it->context = s->buf + s->foff[s->col_prompt];
    it->context_len = strlen(it->context);
    const char *cls = s->buf + s->foff[s->col_classes];
    lms_err e2 = {0};
    if (lms_suite_parse_pylist(cls, strlen(cls), &s->classes, &s->classes_len, &s->n_classes, &e2))
        return e2.code == LMS_ERR_NOMEM ? lms_errf(err, LMS_ERR_NOMEM, "%s:%lld: %s", s->path, (long long)line, e2.msg)
                                        : bad(s, line, err, "classes: %s", e2.msg);
    const char *ai = s->buf + s->foff[s->col_answer];
    long a;
    if (!parse_index(ai, strlen(ai), &a)) return bad(s, line, err, "answer_index '%.40s' is not an integer", ai);
    if (reserve_choices(s, s->n_classes > 0 ? s->n_classes : 1, err)) return err->code;
    for (int i = 0; i < s->n_classes; i++) {
        s->choices[i] = s->classes[i];
        s->choice_len[i] = s->classes_len[i];
    }
    it->n_choices = s->n_classes;
    it->choices = s->choices;
    it->choice_len = s->choice_len;
    it->answer = a < -1 ? -1 : a > LMS_SUITE_MAX_CHOICES ? LMS_SUITE_MAX_CHOICES : (int)a;
    if (check_choices(s, line, s->n_classes, it->answer, err)) {
        if (a != it->answer) /* say the real number, not the clamped one */
            return bad(s, line, err, "the answer index %ld is out of range: there are %d choices", a, s->n_classes);
        return err->code;
    }
    *item = it;
    return LMS_OK;
}

lms_status lms_suite_next(lms_suite *s, const lms_suite_item **item, lms_err *err) {
    *item = NULL;
    if (s->failed) return lms_errf(err, s->failed, "%s", s->failmsg);
    clear_item(s);
    lms_status st = s->fmt == LMS_SUITE_CSV ? csv_next(s, item, err) : jsonl_next(s, item, err);
    if (st) {
        *item = NULL;
        s->failed = st;
        snprintf(s->failmsg, sizeof s->failmsg, "%s", err ? err->msg : "suite read failed");
        clear_item(s);
    }
    return st;
}

/* ---- Python list literal ---- */

static int put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 63)); o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 63));
    o[2] = (char)(0x80 | (cp >> 6 & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

static int hexval(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

void lms_suite_free_strings(char **v, size_t *lens, int n) {
    if (v)
        for (int i = 0; i < n; i++) free(v[i]);
    free(v);
    free(lens);
}

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

lms_status lms_suite_parse_pylist(const char *s, size_t len, char ***out, size_t **lens, int *n, lms_err *err) {
    *out = NULL;
    *lens = NULL;
    *n = 0;
    char **v = NULL;
    size_t *vl = NULL;
    int cnt = 0, cap = 0;
    char *str = NULL;
    size_t i = 0;
#define SKIP_WS() while (i < len && is_ws((unsigned char)s[i])) i++
#define FAIL(...) do { lms_errf(err, LMS_ERR_FORMAT, __VA_ARGS__); goto fail; } while (0)
    SKIP_WS();
    if (i >= len || s[i] != '[') FAIL("expected a Python list of strings such as [' gold', ' glib'], got '%.*s'", (int)(len < 30 ? len : 30), s);
    i++;
    for (;;) {
        SKIP_WS();
        if (i >= len) FAIL("the list is not closed with ']'");
        if (s[i] == ']') { i++; break; }
        int raw = 0;
        while (i < len && (s[i] == 'u' || s[i] == 'U' || s[i] == 'r' || s[i] == 'R')) { /* string prefixes */
            if (s[i] == 'r' || s[i] == 'R') raw = 1;
            i++;
        }
        if (i >= len || (s[i] != '\'' && s[i] != '"')) FAIL("character %zu: expected a quoted string", i + 1);
        char q = s[i++];
        /* each escape yields at most as many bytes as it consumes (\U: 10 in, 4 out; \<c>: 2 in, 2 out) */
        size_t start = i, sl = 0;
        str = malloc(len - start + 1);
        if (!str) { lms_errf(err, LMS_ERR_NOMEM, "out of memory"); goto fail; }
        for (;;) {
            if (i >= len) FAIL("a string opened at character %zu is never closed", start);
            char c = s[i++];
            if (c == q) break;
            if (c == 0) FAIL("a string holds a NUL byte at character %zu; choices must be text", i);
            if (c != '\\' || raw) {
                if (c == '\\' && raw && i < len) { /* r'\'' keeps both */
                    str[sl++] = c;
                    c = s[i++];
                    if (c == 0) FAIL("a string holds a NUL byte at character %zu; choices must be text", i);
                }
                str[sl++] = c;
                continue;
            }
            if (i >= len) FAIL("a string ends with a lone backslash");
            char e = s[i++];
            if (e == 0) FAIL("a string holds a NUL byte at character %zu; choices must be text", i);
            uint32_t cp;
            int nd = 0;
            switch (e) {
            case '\\': str[sl++] = '\\'; continue;
            case '\'': str[sl++] = '\''; continue;
            case '"': str[sl++] = '"'; continue;
            case 'n': str[sl++] = '\n'; continue;
            case 't': str[sl++] = '\t'; continue;
            case 'r': str[sl++] = '\r'; continue;
            case 'a': str[sl++] = '\a'; continue;
            case 'b': str[sl++] = '\b'; continue;
            case 'f': str[sl++] = '\f'; continue;
            case 'v': str[sl++] = '\v'; continue;
            case '\n': continue; /* line continuation */
            case 'x': nd = 2; break;
            case 'u': nd = 4; break;
            case 'U': nd = 8; break;
            default:
                if (e >= '0' && e <= '7') {
                    cp = (uint32_t)(e - '0');
                    for (int k = 0; k < 2 && i < len && s[i] >= '0' && s[i] <= '7'; k++) cp = cp * 8 + (uint32_t)(s[i++] - '0');
                    if (cp == 0) FAIL("a string holds \\0 (a NUL character); choices must be text");
                    sl += (size_t)put_utf8(str + sl, cp);
                    continue;
                }
                if (e == 'N') FAIL("\\N{...} escapes are not supported; write the character itself");
                str[sl++] = '\\'; /* Python keeps unknown escapes as written */
                str[sl++] = e;
                continue;
            }
            cp = 0;
            for (int k = 0; k < nd; k++) {
                int h = i < len ? hexval((unsigned char)s[i]) : -1;
                if (h < 0) FAIL("character %zu: \\%c needs %d hex digits", i + 1, e, nd);
                cp = cp * 16 + (uint32_t)h;
                i++;
            }
            if (cp == 0) FAIL("a string holds a NUL character; choices must be text");
            if (cp > 0x10FFFF) FAIL("\\U%08X is beyond Unicode", (unsigned)cp);
            if (cp >= 0xD800 && cp <= 0xDFFF) FAIL("a lone surrogate \\u%04X cannot be UTF-8", (unsigned)cp);
            sl += (size_t)put_utf8(str + sl, cp);
        }
        str[sl] = 0;
        if (cnt == cap) {
            int nc = cap ? cap * 2 : 4;
            if (nc > LMS_SUITE_MAX_CHOICES + 1) nc = LMS_SUITE_MAX_CHOICES + 1;
            if (cnt >= nc) FAIL("more than %d strings in the list", LMS_SUITE_MAX_CHOICES);
            char **nv = realloc(v, (size_t)nc * sizeof *nv);
            if (nv) v = nv;
            size_t *nl = realloc(vl, (size_t)nc * sizeof *nl);
            if (nl) vl = nl;
            if (!nv || !nl) { lms_errf(err, LMS_ERR_NOMEM, "out of memory"); goto fail; }
            cap = nc;
        }
        v[cnt] = str;
        vl[cnt++] = sl;
        str = NULL;
        SKIP_WS();
        if (i < len && s[i] == ',') { i++; continue; }
        if (i < len && s[i] == ']') { i++; break; }
        if (i >= len) FAIL("the list is not closed with ']'");
        FAIL("character %zu: expected ',' or ']' after a string", i + 1);
    }
    SKIP_WS();
    if (i < len) FAIL("text after the list's closing ']' at character %zu", i + 1);
#undef SKIP_WS
#undef FAIL
    *out = v;
    *lens = vl;
    *n = cnt;
    return LMS_OK;
fail:
    free(str);
    lms_suite_free_strings(v, vl, cnt);
    return err ? err->code : LMS_ERR_FORMAT;
}
