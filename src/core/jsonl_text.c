/* jsonl_text.c — documents of JSON Lines text files, one line at a time (see jsonl_text.h).
 * Leaves out: the line reading itself (jsonl.c), what the documents become (the callers). */
#define _GNU_SOURCE /* fseeko */
#include "core/jsonl_text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/jsonl.h"
#include "core/log.h"

#define MAX_BAD_SHOWN 10

int lms_jsonl_text_path(const char *path) {
    size_t n = strlen(path);
    return (n > 6 && !strcmp(path + n - 6, ".jsonl")) || (n > 7 && !strcmp(path + n - 7, ".ndjson"));
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* The string field `name` of object o, or an error naming the object's fields. */
static lms_status get_string(json_t *o, const char *name, const char *flag, const char **s, size_t *n, lms_err *err) {
    json_t *v = json_object_get(o, name);
    if (!v) {
        char keys[160] = "";
        size_t k = 0, shown = 0;
        const char *key;
        json_t *val;
        json_object_foreach(o, key, val) {
            (void)val;
            if (shown == 4 || k + strlen(key) + 8 > sizeof keys) {
                snprintf(keys + k, sizeof keys - k, ", ...");
                break;
            }
            k += (size_t)snprintf(keys + k, sizeof keys - k, "%s\"%s\"", shown ? ", " : "", key);
            shown++;
        }
        return lms_errf(err, LMS_ERR_FORMAT, "no \"%s\" field (the object has %s%s; name the field with %s)", name,
                        shown ? "" : "no fields", keys, flag);
    }
    if (!json_is_string(v))
        return lms_errf(err, LMS_ERR_FORMAT, "the \"%s\" field is %s, not a string", name, type_name(v));
    *s = json_string_value(v);
    *n = json_string_length(v);
    return LMS_OK;
}

/* Parse one non-blank line into *root and the document's trimmed text (and domain). */
static lms_status parse_doc(const char *line, size_t len, const lms_jsonl_text_opts *o, json_t **root,
                            lms_jsonl_doc *d, lms_err *err) {
    *root = NULL;
    if (memchr(line, 0, len)) return lms_errf(err, LMS_ERR_FORMAT, "a NUL byte (this is not a JSON Lines text file)");
    json_error_t je;
    json_t *r = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!r) return lms_errf(err, LMS_ERR_FORMAT, "not valid JSON (%s, column %d)", je.text, je.column);
    const char *tf = o && o->text_field ? o->text_field : "text";
    lms_status st = LMS_OK;
    const char *s = NULL;
    size_t n = 0;
    if (!json_is_object(r))
        st = lms_errf(err, LMS_ERR_FORMAT, "%s, not an object with a \"%s\" field", type_name(r), tf);
    else
        st = get_string(r, tf, "--text-field", &s, &n, err);
    d->domain = NULL;
    if (!st && o && o->domain_field) {
        const char *dom;
        size_t dn;
        st = get_string(r, o->domain_field, "--domain-field", &dom, &dn, err);
        if (!st) d->domain = dom;
    }
    if (st) {
        json_decref(r);
        return st;
    }
    while (n > 0 && is_ws(*s)) s++, n--;
    while (n > 0 && is_ws(s[n - 1])) n--;
    d->text = s;
    d->len = n;
    *root = r;
    return LMS_OK;
}

static int blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
    return 1;
}

lms_status lms_jsonl_text_read(const char *path, const lms_jsonl_text_opts *o, size_t block, lms_jsonl_doc_fn fn,
                               void *user, lms_jsonl_text_counts *counts, lms_err *err) {
    lms_jsonl_text_counts c = {0};
    lms_line_reader r;
    lms_status st = lms_line_reader_open(&r, path, LMS_JSONL_MAX_LINE, block, err);
    const char *line;
    size_t len;
    while (!st && !(st = lms_line_reader_next(&r, &line, &len, err)) && line) {
        c.lines++;
        uint64_t off = r.off;
        if (r.line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) /* a UTF-8 byte order mark: not JSON */
            line += 3, len -= 3, off += 3;
        if (blank(line, len)) continue;
        lms_jsonl_doc d = {.line = r.line, .off = off, .line_len = len};
        json_t *root;
        st = parse_doc(line, len, o, &root, &d, err);
        if (!st && d.len == 0) {
            c.empty++;
        } else if (!st) {
            st = fn(&d, user, err);
            if (!st) c.docs++;
        }
        json_decref(root);
        if (st == LMS_ERR_FORMAT && o && o->skip_bad) {
            if (++c.bad <= MAX_BAD_SHOWN)
                lms_log(LMS_LOG_WARN, "%s:%ld: %s; line skipped", path, r.line, err->msg);
            st = LMS_OK;
        } else if (st) {
            lms_err_prefix(err, "%s:%ld: ", path, r.line);
        }
    }
    if (r.buf) lms_line_reader_close(&r);
    if (c.bad > MAX_BAD_SHOWN)
        lms_log(LMS_LOG_WARN, "%s: %llu bad lines skipped in all (the first %d shown above)", path,
                (unsigned long long)c.bad, MAX_BAD_SHOWN);
    if (c.empty)
        lms_log(LMS_LOG_INFO, "%s: %llu document%s with empty text skipped", path, (unsigned long long)c.empty,
                c.empty == 1 ? "" : "s");
    if (counts) *counts = c;
    return st;
}

lms_status lms_jsonl_text_reread(FILE *f, const char *path, uint64_t off, size_t line_len, long line,
                                 const lms_jsonl_text_opts *o, lms_jsonl_text_buf *b, const char **text, size_t *len,
                                 lms_err *err) {
    json_decref((json_t *)b->root);
    b->root = NULL;
    if (line_len > b->cap) {
        char *nb = realloc(b->line, line_len);
        if (!nb) return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading line %ld of '%s'", line, path);
        b->line = nb;
        b->cap = line_len;
    }
    if (fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(b->line, 1, line_len, f) != line_len)
        return lms_errf(err, LMS_ERR_IO, "%s:%ld: cannot read the line again (%s); was the file changed? run again", path,
                        line, ferror(f) ? strerror(errno) : "the file is shorter");
    lms_jsonl_doc d;
    json_t *root;
    lms_status st = parse_doc(b->line, line_len, o, &root, &d, err);
    if (st) return lms_err_prefix(err, "%s:%ld: the file changed since it was read: ", path, line);
    b->root = root;
    *text = d.text;
    *len = d.len;
    return LMS_OK;
}

void lms_jsonl_text_buf_free(lms_jsonl_text_buf *b) {
    json_decref((json_t *)b->root);
    free(b->line);
    memset(b, 0, sizeof *b);
}
