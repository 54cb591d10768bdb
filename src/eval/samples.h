/* samples.h — per-item evaluation logs ('lmscope eval --log-samples DIR', docs/formats.md
 * "Per-item evaluation logs"): one JSON Lines file per suite, DIR/samples_<suite>.jsonl, one line
 * per item in file order, written as the evaluator finishes each item (lms_eval_config.on_item),
 * so memory does not grow with the suite. The file is a temporary until the suite is done and is
 * renamed then (lms_atomic_*): a failed suite leaves no file and no temporary.
 *
 *   lms_eval_samples w = {.model = "runs/s3", .step = 2000};
 *   lms_eval_config ec = lms_eval_defaults();
 *   ec.on_item = lms_eval_samples_write;
 *   ec.item_user = &w;
 *   ... lms_evaluator_create(&ev, ..., &ec, &err) ...
 *   if (lms_eval_samples_open(&w, "out", lms_suite_name(s), &err)) return fail(err);
 *   if (lms_eval_suite(ev, s, &r, &err)) { lms_eval_samples_abort(&w); return fail(err); }
 *   if (lms_eval_samples_commit(&w, &err)) return fail(err);
 *
 * Leaves out: scoring (evaluate.h), choosing DIR per model or checkpoint (src/cli/cmd_eval.c).
 */
#ifndef LMS_EVAL_SAMPLES_H
#define LMS_EVAL_SAMPLES_H

#include <stdint.h>

#include <jansson.h>

#include "core/fileio.h"
#include "core/status.h"
#include "eval/evaluate.h"

typedef struct {
    const char *model;   /* written as "model" on every line (NULL: null); set by the caller */
    int64_t step;        /* written as "step" (< 0: null); set by the caller */
    int64_t lines;       /* lines written to the open file */
    int open;            /* a file is open (between open and commit/abort) */
    lms_atomic_file f;
} lms_eval_samples;

/* Create DIR (mkdir -p) and open DIR/samples_<suite>.jsonl for writing (a temporary beside it
   until commit). w->model and w->step are kept. LMS_ERR_ARG when a file is already open (commit
   or abort it first); LMS_ERR_IO when DIR or the file cannot be made. */
lms_status lms_eval_samples_open(lms_eval_samples *w, const char *dir, const char *suite, lms_err *err);

/* An lms_eval_item_fn: one line for `item` (user: the lms_eval_samples). LMS_ERR_ARG when no file
   is open, LMS_ERR_IO when the write fails (disk full), LMS_ERR_NOMEM. */
lms_status lms_eval_samples_write(const lms_eval_item *item, void *user, lms_err *err);

/* Flush, fsync and rename the file into place. LMS_ERR_IO on a write error (no file is left). */
lms_status lms_eval_samples_commit(lms_eval_samples *w, lms_err *err);
void lms_eval_samples_abort(lms_eval_samples *w); /* removes the temporary; nothing open is fine */

/* The line's object for an item (the fields of docs/formats.md), "model" and "step" as given
   (NULL / < 0: null). Text that is not valid UTF-8 (a generated output cut inside a character)
   has each bad byte replaced by U+FFFD. New reference, NULL when out of memory. */
json_t *lms_eval_item_json(const lms_eval_item *item, const char *model, int64_t step);

#endif
