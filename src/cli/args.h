/* args.h — flag parsing for subcommands, from one table per command, so that --help always lists
 * every flag with its default; and the two ways every command reports to the user: an error line
 * on stderr (lms_cli_error) and a JSON line on stdout (lms_cli_print_json).
 *
 *   int layers = 4; const char *out = NULL; int resume = 0;
 *   lms_flag flags[] = {
 *       {"layers", LMS_FLAG_INT, &layers, "transformer blocks"},
 *       {"out", LMS_FLAG_STR, &out, "run directory (required)"},
 *       {"resume", LMS_FLAG_BOOL, &resume, "continue the run in --out"},
 *       {0}};
 *   int npos; char **pos;
 *   int rc = lms_args_parse("train", "Train a GPT.", flags, argc, argv, &pos, &npos);
 *   if (rc != 0) return rc == 1 ? 0 : 2;   // 1: --help was printed; 2: a bad flag, message printed
 *
 * Accepted forms: --name value, --name=value, --flag (booleans), --no-flag. Positional
 * arguments are returned in order. Numbers are checked: "--layers abc" is an error.
 * Lives in the CLI because it prints (help and errors go to stdout/stderr).
 */
#ifndef LMS_CLI_ARGS_H
#define LMS_CLI_ARGS_H

#include <jansson.h>
#include <stdint.h>

typedef enum { LMS_FLAG_INT, LMS_FLAG_I64, LMS_FLAG_FLOAT, LMS_FLAG_DOUBLE, LMS_FLAG_STR, LMS_FLAG_BOOL } lms_flag_type;

typedef struct {
    const char *name;   /* without the leading -- */
    lms_flag_type type;
    void *ptr;          /* int*, int64_t*, float*, double*, const char**, int* (bool) */
    const char *help;
    int seen;           /* set by the parser when the flag was given */
} lms_flag;

/* Returns 0 on success, 1 if --help was printed, 2 on a bad flag (message on stderr).
   *pos receives a pointer into argv's positional arguments (count *npos). */
int lms_args_parse(const char *cmd, const char *summary, lms_flag *flags, int argc, char **argv,
                   char ***pos, int *npos);

/* Was the flag named `name` given on the command line? */
int lms_args_seen(const lms_flag *flags, const char *name);

/* Print an error for the user ("lmscope <cmd>: <msg>") to stderr. */
void lms_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print o (may be NULL: out of memory) as one compact line of JSON, keys in order, reals with
   `digits` significant digits, and release it. 0, or 1 after "out of memory" on stderr. */
int lms_cli_print_json(const char *cmd, json_t *o, int digits);

#endif
