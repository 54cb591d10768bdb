/* log.c — the logging hook (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static lms_log_sink g_sink;
static void *g_user;
static lms_log_level g_min = LMS_LOG_INFO;

void lms_log_set_sink(lms_log_sink sink, void *user) { g_sink = sink; g_user = user; }
void lms_log_set_level(lms_log_level min_level) { g_min = min_level; }

void lms_log(lms_log_level level, const char *fmt, ...) {
    if (level < g_min) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (g_sink) { g_sink(level, buf, g_user); return; }
    static const char *names[] = {"debug", "info", "warning", "error"};
    fprintf(stderr, "lmscope %s: %s\n", names[level], buf);
}
