/* status.h — status codes, error messages and invariant checks for the whole library.
 *
 * Two kinds of failure (STYLE.md): environment failures (bad file, bad argument, I/O, out of
 * memory) return an lms_status and fill an lms_err with a message that says what is wrong and
 * how to fix it; broken invariants hit LMS_ASSERT, which prints file:line and aborts in every
 * build. The library never prints to stdout and never calls exit().
 *
 *   lms_err err = {0};
 *   if (lms_file_read_all("x.bin", &buf, &n, &err) != LMS_OK) { fprintf(stderr, "%s\n", err.msg); ... }
 *
 * Leaves out: logging (log.h), anything allocation-related (arena.h).
 */
#ifndef LMS_CORE_STATUS_H
#define LMS_CORE_STATUS_H

typedef enum {
    LMS_OK = 0,
    LMS_ERR_ARG,      /* a bad argument or flag value */
    LMS_ERR_IO,       /* open/read/write/rename failed */
    LMS_ERR_FORMAT,   /* a file's content is not what its format says (magic, sizes, offsets) */
    LMS_ERR_MISMATCH, /* two valid things that do not belong together (tokenizer vs shards, ...) */
    LMS_ERR_NOMEM,    /* allocation failed */
    LMS_ERR_NUMERIC,  /* NaN/Inf where a number was required */
    LMS_ERR_INTERRUPTED, /* stopped by a signal; state was saved */
    LMS_ERR_UNSUPPORTED
} lms_status;

/* An error message buffer filled by failing functions. Zero-initialise before use. */
typedef struct {
    lms_status code;
    char msg[1024];
} lms_err;

/* Fill err (may be NULL) with a printf-style message and return code. */
lms_status lms_errf(lms_err *err, lms_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message with context ("loading runs/x: " + old message); returns err->code. */
lms_status lms_err_prefix(lms_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Short name of a status code ("io", "format", ...). */
const char *lms_status_name(lms_status s);

/* Invariant check, active in release builds too. */
void lms_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
#define LMS_ASSERT(cond) ((cond) ? (void)0 : lms_assert_fail(#cond, __FILE__, __LINE__))

#endif
