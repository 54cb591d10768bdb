/* job.h — the `train` command's work as a library: its options (one per config-field row with a
 * flag, from the table in train.h, plus the job's own: --data, --out, --resume, --init, ...) and
 * opening the run they describe, new or resumed, with the checks and messages of the command.
 *
 *   lms_train_job *j = malloc(sizeof *j);    // large (a config); must not move after init:
 *   lms_train_job_init(j);                   // the options point into it
 *   // the CLI turns j->opt[0 .. n_opt) into its flag table, parses, copies each `seen` back
 *   j->device = "cpu";
 *   lms_train *t;
 *   if (lms_train_job_open(j, pos, npos, &t, &err)) ...;   // LMS_ERR_ARG: bad usage (exit 2)
 *   lms_train_run(t, &hooks, &err);
 *
 * Never prints, never exits (the CLI does: src/cli/cmd_train.c).
 * Leaves out: the flag parser (src/cli/args.c), the progress lines, signals.
 */
#ifndef LMS_TRAIN_JOB_H
#define LMS_TRAIN_JOB_H

#include "train/train.h"

/* One option: the flag name without "--", where its value goes, its --help text. */
typedef enum { LMS_TRAIN_OPT_INT, LMS_TRAIN_OPT_I64, LMS_TRAIN_OPT_FLOAT, LMS_TRAIN_OPT_STR, LMS_TRAIN_OPT_BOOL } lms_train_opt_type;
typedef struct {
    const char *name;
    lms_train_opt_type type;
    void *ptr;           /* int*, int64_t*, float*, const char**, int* (bool) */
    const char *help;
    int seen;            /* set by the caller after parsing: the flag was given */
} lms_train_opt;

/* The job's own options (data, out, resume, init, tokenizer, mix, ignore-memory-check) and, at most,
   one per row of the config-field table. */
#define LMS_TRAIN_JOB_OWN_OPTS 7
#define LMS_TRAIN_JOB_MAX_OPTS (LMS_TRAIN_MAX_FIELDS + LMS_TRAIN_JOB_OWN_OPTS)

typedef struct {
    lms_train_config c;              /* the table's fields: the train command's defaults, then the flags */
    const char *data, *out, *tokenizer, *mix, *init; /* the path flags (NULL: not given) */
    const char *enum_str[LMS_TRAIN_MAX_FIELDS];      /* ENUM fields as named on the command line */
    int resume, ignore_mem;
    const char *device;              /* "cpu" (the default) or "cuda": set by the caller */
    int n_opt;
    lms_train_opt opt[LMS_TRAIN_JOB_MAX_OPTS]; /* --help order: data, out, resume, init, tokenizer, mix, the
                                                  table's other flags, ignore-memory-check */
    int all_ranks;                   /* after a failed open: 1 when the message comes from a check of the
                                        flags that every MPI rank makes alike (each rank may say it), 0
                                        when every rank holds the same agreed message (rank 0 says it) */
} lms_train_job;

/* Defaults and the option list (the table's rows with a flag, in table order, among the job's own). */
void lms_train_job_init(lms_train_job *j);

/* Was the option `name` seen? */
int lms_train_job_seen(const lms_train_job *j, const char *name);

/* Open the run: --out is required; --device must name a table this build and machine have
 * (lms_ops_for_device). With --resume: only --steps, --ignore-memory-check and the flags whose row
 * has an over bit may be given (LMS_ERR_ARG "cannot change when resuming" otherwise), no positional
 * arguments; then lms_train_resume with those fields (a ZERO_KEEPS field of a changed group that was
 * not given keeps the run's). Without: --init (the model fields not given come from it), the ENUM
 * names, --data and the positional data paths, --tokenizer ("bytes" by name) are checked and made
 * absolute, the config checked (lms_train_config_check), then lms_train_open. Under MPI (several
 * ranks) c.mpi is set. *out: the trainer (caller frees). Returns LMS_ERR_ARG or LMS_ERR_MISMATCH for
 * bad usage, other codes for failures (lms_train_open, lms_train_resume). */
lms_status lms_train_job_open(lms_train_job *j, char **pos, int npos, lms_train **out, lms_err *err);

#endif
