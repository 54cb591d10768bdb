/* rows.c — the rows 'eval' writes and one suite scored with its log (see rows.h).
 *
 * Leaves out: the scoring itself (evaluate.c), the log lines (samples.c).
 */
#include "eval/rows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonl.h"
#include "eval/suite.h"

/* A count kept as a double (tokens, FLOPs): an integer when it is one. */
static json_t *count(double x) {
    return x < 0 || !isfinite(x) ? json_null() : x == floor(x) && x < 9e15 ? json_integer((json_int_t)x) : json_real(x);
}

static json_t *row_base(const lms_lm *lm) {
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(lm->path));
    json_object_set_new(o, "checkpoint", json_string(lm->ckpt));
    json_object_set_new(o, "step", lm->step >= 0 ? json_integer(lm->step) : json_null());
    json_object_set_new(o, "tokens", count(lm->tokens));
    json_object_set_new(o, "flops", count(lm->flops));
    json_object_set_new(o, "params", json_integer(lm->params));
    json_object_set_new(o, "params_nonembed", json_integer(lm->params_nonembed));
    return o;
}

static const char *kind_str(lms_item_kind k) { return k == LMS_ITEM_MC ? "mc" : k == LMS_ITEM_GEN ? "gen" : "seq"; }

json_t *lms_eval_row_json(const lms_lm *lm, const lms_eval_row *r, const char *suite_path) {
    json_t *o = row_base(lm);
    json_object_set_new(o, "suite", json_string(r->suite));
    json_object_set_new(o, "suite_file", json_string(suite_path));
    json_object_set_new(o, "kind", json_string(kind_str(r->kind)));
    json_object_set_new(o, "n", json_integer(r->n));
    json_object_set_new(o, "chance", lms_json_num(r->chance));
    json_object_set_new(o, "acc", lms_json_num(r->acc));
    json_object_set_new(o, "acc_se", lms_json_num(r->acc_se));
    json_object_set_new(o, "acc_norm", lms_json_num(r->acc_norm));
    json_object_set_new(o, "acc_norm_se", lms_json_num(r->acc_norm_se));
    json_object_set_new(o, "acc_bytes", lms_json_num(r->acc_bytes));
    json_object_set_new(o, "acc_bytes_se", lms_json_num(r->acc_bytes_se));
    json_object_set_new(o, "logp", lms_json_num(r->logp));
    json_object_set_new(o, "logp_se", lms_json_num(r->logp_se));
    json_object_set_new(o, "prob", lms_json_num(r->prob));
    json_object_set_new(o, "prob_se", lms_json_num(r->prob_se));
    json_object_set_new(o, "edit", lms_json_num(r->edit));
    json_object_set_new(o, "edit_se", lms_json_num(r->edit_se));
    json_object_set_new(o, "truncated", json_integer(r->truncated));
    json_object_set_new(o, "windowed", json_integer(r->windowed));
    json_object_set_new(o, "tokens_scored", json_integer(r->tokens_scored));
    json_object_set_new(o, "time_s", lms_json_num(r->time_s));
    return o;
}

json_t *lms_eval_domain_json(const lms_lm *lm, const char *suite, int64_t tokens, double loss, double bpb, int64_t bytes,
                             double time_s) {
    json_t *o = row_base(lm);
    json_object_set_new(o, "suite", json_string(suite));
    json_object_set_new(o, "kind", json_string("domain"));
    json_object_set_new(o, "n", json_integer(tokens));
    json_object_set_new(o, "loss", lms_json_num(loss));
    json_object_set_new(o, "bpb", lms_json_num(bpb));
    json_object_set_new(o, "tokens_scored", json_integer(tokens));
    json_object_set_new(o, "bytes_scored", json_integer(bytes));
    json_object_set_new(o, "time_s", lms_json_num(time_s));
    return o;
}

lms_status lms_eval_suite_logged(lms_evaluator *ev, const char *path, lms_eval_samples *w, const char *log_dir,
                                 lms_eval_result *r, lms_err *err) {
    memset(r, 0, sizeof *r);
    lms_suite *s;
    if (lms_suite_open(&s, path, err)) return err->code;
    lms_status st = w ? lms_eval_samples_open(w, log_dir, lms_suite_name(s), err) : LMS_OK;
    if (!st) st = lms_eval_suite(ev, s, r, err);
    if (w && st) lms_eval_samples_abort(w);
    else if (w) st = lms_eval_samples_commit(w, err);
    lms_suite_close(s);
    return st;
}

lms_status lms_eval_log_names_check(char *const *path, int n, lms_err *err) {
    char **name = calloc((size_t)n + 1, sizeof *name);
    int *from = calloc((size_t)n + 1, sizeof *from), m = 0;
    lms_status st = name && from ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && !st; i++) {
        lms_suite *s;
        lms_err e = {0};
        if (lms_suite_open(&s, path[i], &e)) continue; /* scoring reports it */
        for (int j = 0; j < m && !st; j++)
            if (!strcmp(name[j], lms_suite_name(s)))
                st = lms_errf(err, LMS_ERR_ARG, "%s and %s are both named '%s' and would write the same samples_%s.jsonl; "
                              "rename one", path[from[j]], path[i], name[j], name[j]);
        if (!st && !(name[m] = strdup(lms_suite_name(s)))) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        if (!st) from[m++] = i;
        lms_suite_close(s);
    }
    for (int j = 0; name && j < m; j++) free(name[j]);
    free(name);
    free(from);
    return st;
}
