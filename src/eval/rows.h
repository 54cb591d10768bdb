/* rows.h — what 'eval' writes per model (docs/formats.md "Evaluation results"): one JSON object
 * per suite row and per domain, each led by the model's provenance (model, checkpoint, step,
 * tokens, flops, params, params_nonembed); and scoring one suite file with its per-item log
 * (eval/samples.h), so that a failed suite leaves no log.
 *
 *   json_t *o = lms_eval_row_json(&lm, &r.row[0], "data/suites/capitals.jsonl");
 *   char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);   // one line of the results file
 *
 * Leaves out: the scoring (evaluate.h), the terminal table and where rows go (src/cli/cmd_eval.c).
 */
#ifndef LMS_EVAL_ROWS_H
#define LMS_EVAL_ROWS_H

#include <stdint.h>

#include <jansson.h>

#include "core/status.h"
#include "eval/evaluate.h"
#include "eval/lm.h"
#include "eval/samples.h"

/* The row of one suite (and kind) scored on lm, read from suite_path. New reference; NULL when out of memory. */
json_t *lms_eval_row_json(const lms_lm *lm, const lms_eval_row *r, const char *suite_path);

/* The row of one domain's validation loss ("domain:<name>", or "domain:all" for the whole set):
   tokens scored, loss (nats per token), bits per byte, bytes, seconds. New reference. */
json_t *lms_eval_domain_json(const lms_lm *lm, const char *suite, int64_t tokens, double loss, double bpb, int64_t bytes,
                             double time_s);

/* Score the suite file at path (lms_eval_suite). With w (the evaluator's on_item writer, see
   samples.h) its items go to log_dir/samples_<suite>.jsonl, renamed into place when the suite is
   done; none is left when it fails. *r as lms_eval_suite (free it also after a failure). */
lms_status lms_eval_suite_logged(lms_evaluator *ev, const char *path, lms_eval_samples *w, const char *log_dir,
                                 lms_eval_result *r, lms_err *err);

/* Per-item logs are named by suite: LMS_ERR_ARG when two of the suite files path[0..n) have the same
   name and so would write the same samples_<name>.jsonl (the message names both). Files that cannot
   be opened are skipped (scoring reports them). LMS_ERR_NOMEM. */
lms_status lms_eval_log_names_check(char *const *path, int n, lms_err *err);

#endif
