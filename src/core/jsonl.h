/* jsonl.h — read a JSON Lines file (or standard input) one object at a time, with file:line in
 * every error. Used by the commands that read results back (shapes, fit).
 *
 *   static lms_status add(json_t *row, long line, void *user, lms_err *err) { ... }
 *   if (lms_jsonl_read("results.jsonl", add, &table, &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *
 * Also the one helper every JSON writer needs: lms_json_num (NaN and infinities become null), and
 * the line reader under both this reader and the text-corpus reader (jsonl_text.h): lines of at
 * most a given length, each with its number and file offset, so a huge line is an error rather
 * than an unbounded allocation.
 *
 * Leaves out: suites (eval/suite.h has its own streaming reader with per-field checks), writing.
 */
#ifndef LMS_CORE_JSONL_H
#define LMS_CORE_JSONL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/status.h"

/* Called for each non-blank line, parsed with duplicate keys rejected and integers read as reals
   (FLOP counts above 2^63 stay numbers). A nonzero status stops the read; the callback's message
   is prefixed with "path:line: ". The row is freed after the call (json_incref to keep it). */
typedef lms_status (*lms_jsonl_row_fn)(json_t *row, long line, void *user, lms_err *err);

/* path "-" reads standard input. LMS_ERR_IO: missing, unreadable or not a regular file (a FIFO
   would block, a directory is no file); LMS_ERR_FORMAT: a NUL byte, invalid JSON or a line longer
   than LMS_JSONL_MAX_LINE, with the line; otherwise the callback's status. */
lms_status lms_jsonl_read(const char *path, lms_jsonl_row_fn fn, void *user, lms_err *err);

/* The longest line any JSON Lines reader here accepts: 64 MiB (a longer one is an error). */
#define LMS_JSONL_MAX_LINE ((size_t)64 << 20)

/* Lines of a file, read in blocks; plain struct, filled by lms_line_reader_open. A line is the
 * bytes before a '\n' (a '\r' before it is kept), or the bytes after the last '\n' when the file
 * does not end in one. Memory: the block, grown to the longest line (at most max + 1 bytes). */
typedef struct {
    FILE *fp;
    int own;              /* fp is ours to close (not stdin) */
    const char *path;     /* for messages; the caller keeps it alive */
    char *buf;
    size_t cap, beg, end; /* bytes [beg, end) of buf are read and not yet returned */
    size_t max;           /* the longest line accepted */
    int eof;
    long line;            /* number of the line last returned (1-based; 0 before the first) */
    uint64_t off;         /* file offset of that line's first byte */
    uint64_t pos;         /* file offset of buf[beg] */
} lms_line_reader;

/* Open path ("-": standard input) for reading lines of at most max bytes (0: LMS_JSONL_MAX_LINE)
   in blocks of `block` bytes (0: 64 KiB). LMS_ERR_IO when missing, unreadable or not a regular
   file (lms_fopen_regular); LMS_ERR_NOMEM. On failure nothing is left to close. */
lms_status lms_line_reader_open(lms_line_reader *r, const char *path, size_t max, size_t block, lms_err *err);

/* The next line: *line (not NUL-terminated, valid until the next call) and *len, or *line NULL at
   the end of the file. LMS_ERR_FORMAT "path:N: a line longer than ..." when a line exceeds max
   (nothing beyond max + 1 bytes is held); LMS_ERR_IO on a read error; LMS_ERR_NOMEM. */
lms_status lms_line_reader_next(lms_line_reader *r, const char **line, size_t *len, lms_err *err);
void lms_line_reader_close(lms_line_reader *r);

/* v as a JSON number, or null when it is not finite (JSON has no NaN or infinity). New reference. */
static inline json_t *lms_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

#endif
