/* sweep_eval.c — what the sweep measures after a run: its metrics.jsonl into the database, the
 * validation loss over the whole validation set (token-weighted, per domain, bits per byte), the
 * probe suites, greedy samples, per-token losses of a validation excerpt per domain, and for the
 * largest shape the same losses and suites at its log-spaced checkpoints.
 *
 * Leaves out: training (sweep.c), the suites' scoring rules (eval/evaluate.h).
 */
#include "scaling/sweep_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "data/loader.h"
#include "eval/evaluate.h"
#include "eval/generate.h"
#include "eval/lm.h"
#include "model/score.h"
#include "train/train.h"
#include "train/validate.h"

/* metrics.jsonl -> metrics (replacing the run's rows) */
static lms_status import_metrics(lms_sweepdb *db, int64_t id, const char *dir, double *final_loss, lms_err *err) {
    char p[LMS_SWEEP_PATH + 64];
    lms_path_join(p, sizeof p, dir, "metrics.jsonl");
    FILE *fp = fopen(p, "r");
    if (!fp) return lms_errf(err, LMS_ERR_IO, "cannot read %s", p);
    lms_sweepdb_metric *m = NULL;
    int n = 0, cap = 0;
    char *line = NULL;
    size_t lc = 0;
    lms_status st = LMS_OK;
    *final_loss = NAN;
    while (getline(&line, &lc, fp) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (!o) continue;
        json_t *s = json_object_get(o, "step");
        if (json_is_integer(s)) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                lms_sweepdb_metric *nm = realloc(m, (size_t)cap * sizeof *nm);
                if (!nm) {
                    json_decref(o);
                    st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
                    break;
                }
                m = nm;
            }
            lms_sweepdb_metric *r = &m[n++];
            json_t *v;
            r->step = json_integer_value(s);
            r->tokens = json_is_number(v = json_object_get(o, "tokens")) ? json_number_value(v) : NAN;
            r->flops = json_is_number(v = json_object_get(o, "flops")) ? json_number_value(v) : NAN;
            r->loss = json_is_number(v = json_object_get(o, "loss")) ? json_number_value(v) : NAN;
            r->val_loss = json_is_number(v = json_object_get(o, "val_loss")) ? json_number_value(v) : NAN;
            r->lr = json_is_number(v = json_object_get(o, "lr")) ? json_number_value(v) : NAN;
            *final_loss = r->loss;
        }
        json_decref(o);
    }
    free(line);
    fclose(fp);
    if (!st) st = lms_sweepdb_put_metrics(db, id, m, n, err);
    free(m);
    return st;
}

/* Valid UTF-8 copy of s[len] (bytes of a broken sequence become '?'), malloc'd. */
static char *utf8_clean(const char *s, size_t len) {
    char *o = malloc(len + 1);
    if (!o) return NULL;
    size_t i = 0, k = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = n > 0 && i + (size_t)n <= len && c != 0;
        for (int j = 1; ok && j < n; j++) ok = ((unsigned char)s[i + j] >> 6) == 2;
        if (!ok) {
            o[k++] = '?';
            i++;
            continue;
        }
        memcpy(o + k, s + i, (size_t)n);
        k += (size_t)n, i += (size_t)n;
    }
    o[k] = 0;
    return o;
}

/* Every suite of the plan at one checkpoint -> evals (replacing that step's rows). */
static lms_status sweep_suites(const lms_sweep_plan *p, lms_lm *lm, lms_sweepdb *db, int64_t id, int64_t step,
                               double tokens, double flops, lms_err *err) {
    if (p->n_suites == 0) return LMS_OK;
    lms_eval_config ec = lms_eval_defaults();
    lms_evaluator *ev = NULL;
    lms_status st = lms_evaluator_create(&ev, lm->gpt, lm->tok, &ec, err);
    if (st) return st;
    lms_sweepdb_eval *rows = calloc((size_t)p->n_suites * 3, sizeof *rows);
    lms_eval_result *res = calloc((size_t)p->n_suites, sizeof *res);
    static const char *const kinds[] = {"mc", "gen", "seq"};
    int n = 0;
    if (!rows || !res) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->n_suites && !st; i++) {
        st = lms_eval_suite_file(ev, p->suite[i], &res[i], err);
        for (int k = 0; !st && k < res[i].n_rows; k++) {
            const lms_eval_row *r = &res[i].row[k];
            rows[n++] = (lms_sweepdb_eval){r->suite, kinds[r->kind], r->n, r->chance, r->acc, r->acc_se, r->acc_norm,
                                           r->acc_norm_se, r->logp, r->logp_se, r->prob, r->prob_se, r->edit, r->edit_se,
                                           r->acc_bytes, r->acc_bytes_se};
        }
    }
    if (!st) st = lms_sweepdb_put_evals(db, id, step, tokens, flops, rows, n, err);
    for (int i = 0; res && i < p->n_suites; i++) lms_eval_result_free(&res[i]);
    free(res);
    free(rows);
    lms_evaluator_free(ev);
    return st;
}

/* Whole-validation-set loss of the model at path (run dir or checkpoint) -> domain_losses at step;
   *loss, *bpb overall. */
static lms_status val_losses(lms_lm *lm, lms_loader *l, int B, int T, lms_sweepdb *db, int64_t id, int64_t step,
                             double *loss, double *bpb, lms_err *err) {
    lms_scorer *s = NULL;
    lms_status st = lms_scorer_create(&s, lm->gpt, B, T, err);
    if (st) return st;
    lms_val_result r;
    st = lms_validate(s, l, -1, lm->tok, &r, err);
    lms_scorer_free(s);
    if (st) return st;
    *loss = r.tokens ? r.loss : NAN;
    *bpb = r.bpb;
    lms_sweepdb_domain *d = calloc((size_t)(r.n_domains ? r.n_domains : 1), sizeof *d);
    if (!d) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    for (int i = 0; d && i < r.n_domains; i++)
        d[i] = (lms_sweepdb_domain){r.domain[i].name, r.domain[i].loss, r.domain[i].bpb, r.domain[i].tokens};
    if (!st) st = lms_sweepdb_put_domains(db, id, step, d, r.n_domains, err);
    free(d);
    lms_val_result_free(&r);
    return st;
}

static const char *const PROMPTS[] = {"The", "In the", "Once upon a time", "He said"};

static lms_status samples(lms_lm *lm, int n, int max_tokens, lms_sweepdb *db, int64_t id, lms_err *err) {
    if (n > 4) n = 4;
    char *text[4] = {0};
    lms_status st = LMS_OK;
    lms_generate_config gc = lms_generate_defaults();
    gc.max_tokens = max_tokens;
    gc.sampling.temperature = 0;
    gc.eot = lms_tokenizer_eot(lm->tok);
    for (int i = 0; i < n && !st; i++) {
        lms_ids pr = {0}, out = {0};
        st = lms_tokenizer_encode(lm->tok, PROMPTS[i], strlen(PROMPTS[i]), &pr, err);
        if (!st && pr.n > 0) st = lms_generate(lm->gpt, pr.ids, pr.n, &gc, &out, NULL, err);
        char *t = NULL;
        size_t len = 0;
        if (!st) st = lms_tokenizer_decode(lm->tok, out.ids, out.n, &t, &len, err);
        if (!st) {
            text[i] = utf8_clean(t ? t : "", t ? len : 0);
            if (!text[i]) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        }
        free(t);
        lms_ids_free(&pr);
        lms_ids_free(&out);
    }
    if (!st) st = lms_sweepdb_put_samples(db, id, PROMPTS, (const char *const *)text, n, err);
    for (int i = 0; i < 4; i++) free(text[i]);
    return st;
}

/* The first validation row of each domain, scored token by token (at most 64 positions). */
static lms_status token_losses(lms_lm *lm, const lms_loader *l, lms_sweepdb *db, int64_t id, lms_err *err) {
    int B = lms_loader_B(l), T = lms_loader_T(l), nd = lms_loader_num_domains(l), nb = lms_loader_num_val_batches(l);
    int32_t *in = malloc((size_t)B * T * sizeof *in), *tg = malloc((size_t)B * T * sizeof *tg), *rank = malloc((size_t)T * sizeof *rank);
    float *logp = malloc((size_t)T * sizeof *logp);
    char **tok = calloc((size_t)T, sizeof *tok);
    lms_scorer *s = NULL;
    lms_status st = !in || !tg || !rank || !logp || !tok ? lms_errf(err, LMS_ERR_NOMEM, "out of memory")
                                                          : lms_scorer_create(&s, lm->gpt, 1, T, err);
    int n = T < 64 ? T : 64;
    for (int d = 0; d < nd && !st; d++) {
        int b = 0;
        while (b < nb && lms_loader_val_domain(l, b) != d) b++;
        if (b == nb) continue;
        lms_loader_val_batch(l, b, in, tg, NULL);
        lms_gpt_score(s, in, tg, 1, n, logp, rank);
        for (int i = 0; i < n && !st; i++) {
            size_t len = 0;
            const char *t = lms_tokenizer_token(lm->tok, (uint32_t)tg[i], &len);
            free(tok[i]);
            tok[i] = utf8_clean(t ? t : "", t ? len : 0);
            if (!tok[i]) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        }
        if (!st) st = lms_sweepdb_put_token_losses(db, id, d, (const char *const *)tok, logp, rank, n, err);
    }
    for (int i = 0; tok && i < T; i++) free(tok[i]);
    free(tok);
    free(in);
    free(tg);
    free(rank);
    free(logp);
    lms_scorer_free(s);
    return st;
}

lms_status lms_sweep_evaluate(const lms_sweep_plan *p, int i, const char *dir, lms_sweepdb *db, lms_sweepdb_run *row,
                              lms_err *err) {
    const lms_sweep_run_plan *r = &p->run[i];
    double final_loss = NAN;
    lms_status st = import_metrics(db, row->id, dir, &final_loss, err);
    if (st) return st;
    row->final_train_loss = final_loss;
    char cp[LMS_SWEEP_PATH + 64];
    lms_train_config c;
    if ((st = lms_train_config_load(&c, lms_path_join(cp, sizeof cp, dir, "config.json"), err))) return st;
    lms_loader *l = NULL;
    if ((st = lms_train_open_data(&c, &l, err))) return st;
    const double tpt = (double)c.batch * c.accum * c.model.n_ctx;
    const double fpt = lms_gpt_flops_per_token(&c.model, c.model.n_ctx);
    lms_lm lm;
    if ((st = lms_lm_open(&lm, dir, NULL, err))) goto done;
    double loss, bpb;
    st = val_losses(&lm, l, c.batch, c.model.n_ctx, db, row->id, r->steps, &loss, &bpb, err);
    row->val_loss = loss;
    row->val_bpb = bpb;
    if (!st) st = sweep_suites(p, &lm, db, row->id, r->steps, r->tokens, r->flops, err);
    if (!st && p->grid.samples > 0) st = samples(&lm, p->grid.samples, p->grid.sample_tokens, db, row->id, err);
    if (!st && r->token_losses) st = token_losses(&lm, l, db, row->id, err);
    lms_lm_close(&lm);
    if (st || !r->log_ckpts) goto done;
    /* the largest shape: losses and suites at every log-spaced checkpoint before the last; not step 0
       (the initial weights have seen no FLOPs, so they have no place on the report's log-compute axes) */
    lms_train_checkpoint *ck = NULL;
    int nck = 0;
    if ((st = lms_train_list_checkpoints(dir, &ck, &nck, err))) goto done;
    for (int k = 0; k < nck && !st; k++) {
        if (!ck[k].log_step || ck[k].step <= 0 || ck[k].step >= r->steps) continue;
        lms_lm cl;
        if ((st = lms_lm_open(&cl, ck[k].path, NULL, err))) break;
        double cl_loss, cl_bpb;
        st = val_losses(&cl, l, c.batch, c.model.n_ctx, db, row->id, ck[k].step, &cl_loss, &cl_bpb, err);
        if (!st) st = sweep_suites(p, &cl, db, row->id, ck[k].step, tpt * (double)ck[k].step, tpt * fpt * (double)ck[k].step, err);
        lms_lm_close(&cl);
    }
    free(ck);
done:
    lms_loader_free(l);
    return st;
}
