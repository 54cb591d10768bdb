/* textarg.h — what 'score' and 'inspect' share: opening --model, and the --text argument: the text itself, or @FILE (a regular
 * file; "@-" reads standard input; "@@..." is the literal text "@..."). Refuses FIFOs, devices and
 * directories before opening them (opening a FIFO would block), and empty text. Prints its own
 * message ("lmscope <cmd>: ...") and returns the exit status: 0 ok, 2 bad usage. */
#ifndef LMS_CLI_TEXTARG_H
#define LMS_CLI_TEXTARG_H

#include <stddef.h>

#include "eval/lm.h"

/* On success *text is malloc'd (NUL-terminated; *len excludes the NUL; the caller frees). */
int lms_cli_read_text(const char *cmd, const char *arg, char **text, size_t *len);

/* lms_lm_open with the CLI's messages: a missing path or a bad --tokenizer / mismatch is bad usage
   (2), an unreadable or damaged model 1. Returns 0 when *lm is open. */
int lms_cli_open_model(const char *cmd, lms_lm *lm, const char *path, const char *tokenizer);

#endif
