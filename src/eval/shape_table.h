/* shape_table.h — 'lmscope shapes' as library calls: read the JSON Lines rows that 'eval' writes
 * (docs/formats.md "Evaluation results"), group them by suite, place each row at x = its flops
 * (or tokens, params, step), and label each suite's curve twice with lms_shape_classify
 * (eval/shapes.h): the discrete metric (acc ± acc_se) and the continuous one (logp ± logp_se, or
 * prob ± prob_se). Rows of kind "domain" have no accuracy; their continuous metric is minus the
 * loss (± loss_se when the row has it, else exact: then every change counts as significant). Rows
 * without x are skipped and counted.
 *
 *   lms_shape_table t;
 *   const char *files[] = {"results.jsonl"};
 *   if (lms_shape_table_read(&t, files, 1, "flops", "logp", &err)) ...;
 *   lms_shape_table_label(&t, NULL);
 *   for (int i = 0; i < t.n; i++) ... t.s[i].name, t.s[i].disc.r.label ...
 *   lms_shape_table_free(&t);
 *
 * Leaves out: the rules (shapes.c), printing the table (src/cli/cmd_shapes.c).
 */
#ifndef LMS_EVAL_SHAPE_TABLE_H
#define LMS_EVAL_SHAPE_TABLE_H

#include <jansson.h>

#include "core/status.h"
#include "eval/shapes.h"

typedef struct {
    lms_shape_point *p; /* [n] in file order */
    int n, cap;
} lms_shape_series;

/* One metric's label (lms_shape_table_label). */
typedef struct {
    int have;              /* any points at all */
    int ok;                /* classified (else err) */
    lms_shape_result r;
    char err[sizeof(((lms_err *)0)->msg)]; /* why it could not be classified */
} lms_shape_labelled;

typedef struct {
    char *name;
    lms_shape_series disc, cont;    /* points of the discrete and the continuous metric */
    lms_shape_labelled ldisc, lcont;
    int rows;        /* rows with an x */
    int domain;      /* rows of kind "domain" seen (the continuous metric is -loss) */
    int exact;       /* continuous points without an error bar (domain rows without loss_se) */
} lms_shape_suite;

typedef struct {
    lms_shape_suite *s; /* [n], sorted by name after lms_shape_table_label */
    int n, cap;
    int skipped;        /* rows without x */
    char x[32], cont[32]; /* the x field and the continuous metric, as given */
    json_t *index;      /* name -> position in s (internal) */
} lms_shape_table;

/* Read the rows of files[0..n) ("-" is stdin) with x the field of the compute axis ("flops",
   "tokens", "params", "step") and cont the continuous metric ("logp" or "prob"). Fills *t (free
   with lms_shape_table_free, also after a failure). LMS_ERR_IO (unreadable), LMS_ERR_FORMAT (a
   malformed row: file:line and what), LMS_ERR_NOMEM. */
lms_status lms_shape_table_read(lms_shape_table *t, const char *const *files, int n, const char *x, const char *cont,
                                lms_err *err);

/* Sort the suites by name and label both metrics of each (opts NULL: the defaults). A curve that
   cannot be classified is recorded in its lms_shape_labelled (ok 0, err), not returned. */
void lms_shape_table_label(lms_shape_table *t, const lms_shape_opts *opts);

/* The label as the table shows it: "-" (no points), "error", "inverted-u" or lms_shape_name. */
const char *lms_shape_label_text(const lms_shape_labelled *l);

/* Suite i as 'shapes --json' prints it: {suite, x, rows, discrete, continuous} with each metric's
   label and the rule's numbers (null without points). New reference. */
json_t *lms_shape_suite_json(const lms_shape_table *t, int i);

void lms_shape_table_free(lms_shape_table *t);

#endif
