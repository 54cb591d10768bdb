/* status.c — error message formatting and the invariant-failure path (see status.h). */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lms_status lms_errf(lms_err *err, lms_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

lms_status lms_err_prefix(lms_err *err, const char *fmt, ...) {
    if (!err) return LMS_ERR_ARG;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t np = strnlen(prefix, sizeof prefix), room = sizeof err->msg - 1;
    if (np > room) np = room;
    memcpy(err->msg, prefix, np);
    size_t no = strnlen(old, sizeof old);
    if (no > room - np) no = room - np;
    memcpy(err->msg + np, old, no);
    err->msg[np + no] = 0;
    return err->code;
}

const char *lms_status_name(lms_status s) {
    switch (s) {
    case LMS_OK: return "ok";
    case LMS_ERR_ARG: return "bad argument";
    case LMS_ERR_IO: return "i/o";
    case LMS_ERR_FORMAT: return "bad format";
    case LMS_ERR_MISMATCH: return "mismatch";
    case LMS_ERR_NOMEM: return "out of memory";
    case LMS_ERR_NUMERIC: return "numeric";
    case LMS_ERR_INTERRUPTED: return "interrupted";
    case LMS_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}

void lms_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "lmscope: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    fflush(stderr);
    abort();
}
