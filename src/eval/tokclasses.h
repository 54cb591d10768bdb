/* tokclasses.h — 'inspect --classes' as one call: the loss of one or two models by token class and
 * frequency bucket over validation windows (eval/tokloss.h's breakdown), on given data or the run's
 * own, with the token frequencies from the training shards (their manifest) or, without one,
 * estimated from sampled training batches; and the result as JSON.
 *
 *   lms_tokclasses c;
 *   lms_tokclasses_opts o = {.domain = "quotes"};
 *   if (lms_tokclasses_run(&c, &lm, NULL, &o, &err)) { ... c.step, c.data.failed say where ... }
 *   ... c.bd.cls[k], c.desc, c.freq_src ...
 *   lms_tokclasses_free(&c);
 *
 * Leaves out: scoring (eval/tokloss.c), printing the table (src/cli/cmd_inspect.c).
 */
#ifndef LMS_EVAL_TOKCLASSES_H
#define LMS_EVAL_TOKCLASSES_H

#include <jansson.h>

#include "core/status.h"
#include "eval/lm.h"
#include "eval/tokloss.h"

typedef struct {
    const char *data;   /* shard dir or .bin files; NULL: the run's own (lms_lm_open_data) */
    const char *domain; /* only this domain (and frequencies from its training shards); NULL: all */
    int batches;        /* at most this many validation batches of 8 windows; 0 = all */
    int val_tokens;     /* given data: validation tokens per domain (0 = 65536, -1 = all) */
} lms_tokclasses_opts;

/* Where lms_tokclasses_run failed. */
typedef enum {
    LMS_TOKCLASSES_OK = 0,
    LMS_TOKCLASSES_DATA,   /* opening the data or checking its tokenizer: data.failed says which */
    LMS_TOKCLASSES_DOMAIN, /* opts.domain is not a domain of the data (LMS_ERR_ARG; the message lists them) */
    LMS_TOKCLASSES_COUNTS, /* counting the training tokens */
    LMS_TOKCLASSES_SCORE   /* scoring (lms_tokloss_breakdown_run's status) */
} lms_tokclasses_step;

typedef struct {
    lms_tokloss_breakdown bd;
    lms_lm_data data;            /* the data as opened (data.rc: the run's config for the run's own) */
    char what[2 * LMS_LM_PATH];  /* the data as named: opts.data, or the run's first data path (" ..." when more) */
    char desc[4 * LMS_LM_PATH];  /* "validation windows (T tokens) of all domains in <what>" */
    char freq_src[160];          /* where the frequency buckets come from ("" without buckets) */
    lms_tokclasses_step step;    /* where it failed */
} lms_tokclasses;

/* Score model a (and b when not NULL: windows of the shorter context) over the validation windows
   of opts' data. Fills *out (free with lms_tokclasses_free, also after a failure); out->step says
   where it failed, with that step's status. */
lms_status lms_tokclasses_run(lms_tokclasses *out, const lms_lm *a, const lms_lm *b, const lms_tokclasses_opts *opts,
                              lms_err *err);
void lms_tokclasses_free(lms_tokclasses *c);

/* The result as 'inspect --classes --json' prints it: data, batches, tokens, loss (loss_b), the
   classes and frequency buckets with their share and loss. New reference; NULL when out of memory. */
json_t *lms_tokclasses_json(const lms_tokclasses *c);

#endif
