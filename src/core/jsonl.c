/* jsonl.c — a JSON Lines reader with file:line errors, over a line reader with a bound on line
 * length (see jsonl.h). */
#include "core/jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"

lms_status lms_line_reader_open(lms_line_reader *r, const char *path, size_t max, size_t block, lms_err *err) {
    memset(r, 0, sizeof *r);
    r->max = max ? max : LMS_JSONL_MAX_LINE;
    r->cap = block ? block : (size_t)64 << 10;
    if (r->cap > r->max + 1) r->cap = r->max + 1;
    r->path = path;
    if (!strcmp(path, "-")) {
        r->fp = stdin;
    } else {
        lms_status st = lms_fopen_regular(path, &r->fp, err);
        if (st) return st;
        r->own = 1;
    }
    r->buf = malloc(r->cap);
    if (!r->buf) {
        lms_line_reader_close(r);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    return LMS_OK;
}

void lms_line_reader_close(lms_line_reader *r) {
    if (r->own && r->fp) fclose(r->fp);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

static lms_status too_long(const lms_line_reader *r, lms_err *err) {
    return lms_errf(err, LMS_ERR_FORMAT,
                    "%s:%ld: a line longer than %zu bytes (%zu MiB), the most a JSON Lines line may hold here; "
                    "split that record or check that the file is JSON Lines (one JSON value per line)",
                    r->path, r->line + 1, r->max, r->max >> 20);
}

lms_status lms_line_reader_next(lms_line_reader *r, const char **line, size_t *len, lms_err *err) {
    *line = NULL;
    *len = 0;
    size_t scanned = 0; /* bytes after beg already known to hold no '\n' */
    for (;;) {
        char *nl = memchr(r->buf + r->beg + scanned, '\n', r->end - r->beg - scanned);
        size_t n = nl ? (size_t)(nl - (r->buf + r->beg)) : r->end - r->beg;
        if (n > r->max) return too_long(r, err);
        if (nl || (r->eof && n > 0)) {
            *line = r->buf + r->beg;
            *len = n;
            r->line++;
            r->off = r->pos;
            size_t used = nl ? n + 1 : n;
            r->beg += used;
            r->pos += used;
            return LMS_OK;
        }
        if (r->eof) return LMS_OK;
        scanned = n;
        if (r->beg > 0) { /* keep the unfinished line at the start */
            memmove(r->buf, r->buf + r->beg, n);
            r->beg = 0;
            r->end = n;
        }
        if (r->end == r->cap) { /* the line fills the buffer: grow it, up to max + 1 bytes */
            size_t cap = r->cap > (r->max + 1) / 2 ? r->max + 1 : 2 * r->cap;
            if (cap <= r->cap) return too_long(r, err);
            char *nb = realloc(r->buf, cap);
            if (!nb) return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading line %ld of '%s'", r->line + 1, r->path);
            r->buf = nb;
            r->cap = cap;
        }
        size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->fp);
        if (got < r->cap - r->end) {
            if (ferror(r->fp)) return lms_errf(err, LMS_ERR_IO, "error reading '%s': %s", r->path, strerror(errno));
            r->eof = 1;
        }
        r->end += got;
    }
}

lms_status lms_jsonl_read(const char *path, lms_jsonl_row_fn fn, void *user, lms_err *err) {
    if (strcmp(path, "-")) {
        struct stat st;
        if (stat(path, &st) != 0) return lms_errf(err, LMS_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return lms_errf(err, LMS_ERR_IO, "'%s' is not a regular file (give a JSON Lines file, or - for stdin)", path);
    }
    lms_line_reader r;
    lms_status st = lms_line_reader_open(&r, path, 0, 0, err);
    if (st) return st;
    const char *line;
    size_t len;
    while (!(st = lms_line_reader_next(&r, &line, &len, err)) && line) {
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k == len) continue; /* blank line */
        if (memchr(line, 0, len)) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s:%ld: a NUL byte; this is not a JSON Lines file", path, r.line);
            break;
        }
        json_error_t je;
        json_t *row = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
        if (!row) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s:%ld: not valid JSON (%s, column %d)", path, r.line, je.text, je.column);
            break;
        }
        st = fn(row, r.line, user, err);
        json_decref(row);
        if (st) {
            lms_err_prefix(err, "%s:%ld: ", path, r.line);
            break;
        }
    }
    lms_line_reader_close(&r);
    return st;
}
