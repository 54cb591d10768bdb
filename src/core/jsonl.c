/* jsonl.c — a JSON Lines reader with file:line errors (see jsonl.h). */
#include "core/jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

lms_status lms_jsonl_read(const char *path, lms_jsonl_row_fn fn, void *user, lms_err *err) {
    FILE *fp = stdin;
    if (strcmp(path, "-")) {
        struct stat st;
        if (stat(path, &st) != 0) return lms_errf(err, LMS_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return lms_errf(err, LMS_ERR_IO, "'%s' is not a regular file (give a JSON Lines file, or - for stdin)", path);
        fp = fopen(path, "r");
        if (!fp) return lms_errf(err, LMS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    lms_status st = LMS_OK;
    while (!st && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t k = 0;
        while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n')) k++;
        if (k == (size_t)len) continue; /* blank line */
        if (memchr(line, 0, (size_t)len)) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s:%ld: a NUL byte; this is not a JSON Lines file", path, lineno);
            break;
        }
        json_error_t je;
        json_t *row = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
        if (!row) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s:%ld: not valid JSON (%s, column %d)", path, lineno, je.text, je.column);
            break;
        }
        st = fn(row, lineno, user, err);
        json_decref(row);
        if (st) lms_err_prefix(err, "%s:%ld: ", path, lineno);
    }
    if (!st && ferror(fp)) st = lms_errf(err, LMS_ERR_IO, "error reading '%s': %s", path, strerror(errno));
    free(line);
    if (fp != stdin) fclose(fp);
    return st;
}
