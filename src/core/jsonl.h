/* jsonl.h — read a JSON Lines file (or standard input) one object at a time, with file:line in
 * every error. Used by the commands that read results back (shapes, fit).
 *
 *   static lms_status add(json_t *row, long line, void *user, lms_err *err) { ... }
 *   if (lms_jsonl_read("results.jsonl", add, &table, &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *
 * Also the one helper every JSON writer needs: lms_json_num (NaN and infinities become null).
 *
 * Leaves out: suites (eval/suite.h has its own streaming reader with per-field checks), writing.
 */
#ifndef LMS_CORE_JSONL_H
#define LMS_CORE_JSONL_H

#include <math.h>

#include <jansson.h>

#include "core/status.h"

/* Called for each non-blank line, parsed with duplicate keys rejected and integers read as reals
   (FLOP counts above 2^63 stay numbers). A nonzero status stops the read; the callback's message
   is prefixed with "path:line: ". The row is freed after the call (json_incref to keep it). */
typedef lms_status (*lms_jsonl_row_fn)(json_t *row, long line, void *user, lms_err *err);

/* path "-" reads standard input. LMS_ERR_IO: missing, unreadable or not a regular file (a FIFO
   would block, a directory is no file); LMS_ERR_FORMAT: a NUL byte or invalid JSON, with the line;
   otherwise the callback's status. */
lms_status lms_jsonl_read(const char *path, lms_jsonl_row_fn fn, void *user, lms_err *err);

/* v as a JSON number, or null when it is not finite (JSON has no NaN or infinity). New reference. */
static inline json_t *lms_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

#endif
