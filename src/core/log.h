/* log.h — the library's only way to say something to a human: a hook the CLI installs.
 *
 * Library code calls lms_log(LMS_LOG_INFO, "..."); by default messages go to stderr at INFO and
 * above. The CLI may install its own sink (e.g. to colour or silence them). Never stdout.
 */
#ifndef LMS_CORE_LOG_H
#define LMS_CORE_LOG_H

typedef enum { LMS_LOG_DEBUG = 0, LMS_LOG_INFO, LMS_LOG_WARN, LMS_LOG_ERROR } lms_log_level;

typedef void (*lms_log_sink)(lms_log_level level, const char *msg, void *user);

void lms_log_set_sink(lms_log_sink sink, void *user); /* NULL restores the stderr sink */
void lms_log_set_level(lms_log_level min_level);
void lms_log(lms_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
