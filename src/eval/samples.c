/* samples.c — per-item evaluation logs as JSON Lines (samples.h): one object per item through
 * jansson, one file per suite written through lms_atomic_*.
 * Leaves out: scoring (evaluate.c), where the files go (the caller gives DIR).
 */
#include "eval/samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonl.h"
#include "data/corpus.h"

/* s[n] as a JSON string; bytes that break UTF-8 (or NUL) become U+FFFD. */
static json_t *text_json(const char *s, size_t n) {
    if (!s) return json_null();
    if (lms_utf8_valid_prefix(s, n) == n) return json_stringn(s, n);
    char *o = malloc(3 * n + 1);
    if (!o) return NULL;
    size_t i = 0, k = 0;
    while (i < n) {
        size_t ok = lms_utf8_valid_prefix(s + i, n - i);
        memcpy(o + k, s + i, ok);
        k += ok, i += ok;
        if (i < n) {
            memcpy(o + k, "\xEF\xBF\xBD", 3);
            k += 3, i++;
        }
    }
    json_t *j = json_stringn(o, k);
    free(o);
    return j;
}

static json_t *bool_or_null(int v) { return v < 0 ? json_null() : json_boolean(v); }
static json_t *int_or_null(int64_t v) { return v < 0 ? json_null() : json_integer((json_int_t)v); }

/* The mc fields: per choice arrays, then the answer, the three predictions and their flags. */
static void mc_fields(json_t *o, const lms_eval_item *it) {
    json_t *ch = json_array(), *chars = json_array(), *bytes = json_array(), *lp = json_array(), *tok = json_array(),
           *gr = json_array();
    for (int c = 0; c < it->n_choices; c++) {
        json_array_append_new(ch, text_json(it->choices[c], it->choice_len[c]));
        json_array_append_new(chars, json_integer(it->choice_chars[c]));
        json_array_append_new(bytes, json_integer((json_int_t)it->choice_len[c]));
        json_array_append_new(lp, lms_json_num(it->logp[c]));
        json_array_append_new(tok, json_integer(it->tokens[c]));
        json_array_append_new(gr, json_boolean(it->greedy[c]));
    }
    json_object_set_new(o, "choices", ch);
    json_object_set_new(o, "choice_chars", chars);
    json_object_set_new(o, "choice_bytes", bytes);
    json_object_set_new(o, "logp", lp);
    json_object_set_new(o, "tokens", tok);
    json_object_set_new(o, "greedy", gr);
    json_object_set_new(o, "answer", json_integer(it->answer));
    json_object_set_new(o, "pred", json_integer(it->pick));
    json_object_set_new(o, "pred_norm", json_integer(it->pick_norm));
    json_object_set_new(o, "pred_bytes", json_integer(it->pick_bytes));
    json_object_set_new(o, "correct", json_boolean(it->correct));
    json_object_set_new(o, "correct_norm", bool_or_null(it->correct_norm));
    json_object_set_new(o, "correct_bytes", bool_or_null(it->correct_bytes));
    json_object_set_new(o, "prob", lms_json_num(it->prob));
}

json_t *lms_eval_item_json(const lms_eval_item *it, const char *model, int64_t step) {
    static const char *const kinds[] = {"mc", "gen", "seq"};
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "suite", json_string(it->suite ? it->suite : ""));
    json_object_set_new(o, "index", json_integer(it->index));
    json_object_set_new(o, "line", json_integer(it->line));
    json_object_set_new(o, "kind", json_string(kinds[it->kind]));
    json_object_set_new(o, "model", model ? text_json(model, strlen(model)) : json_null());
    json_object_set_new(o, "step", int_or_null(step));
    json_object_set_new(o, "context", text_json(it->context, it->context_len));
    json_t *meta = it->meta ? json_loads(it->meta, 0, NULL) : NULL;
    json_object_set_new(o, "meta", meta ? meta : json_null());
    if (it->kind == LMS_ITEM_MC) mc_fields(o, it);
    else {
        json_object_set_new(o, "target", text_json(it->target, it->target_len));
        if (it->kind == LMS_ITEM_GEN) {
            json_object_set_new(o, "output", text_json(it->output, it->output_len));
            json_object_set_new(o, "exact_match", json_boolean(it->correct));
            json_object_set_new(o, "edit", int_or_null(it->edit));
        }
        json_object_set_new(o, "correct", json_boolean(it->correct));
        json_object_set_new(o, "target_logp", lms_json_num(it->target_logp));
        json_object_set_new(o, "target_tokens", json_integer(it->target_tokens));
        json_object_set_new(o, "target_greedy", json_boolean(it->top1 == it->target_tokens));
        json_object_set_new(o, "top1", json_integer(it->top1));
        if (it->kind == LMS_ITEM_SEQ) {
            json_object_set_new(o, "mean_logp", lms_json_num(it->target_tokens ? it->target_logp / (double)it->target_tokens : NAN));
            json_t *lp = json_array(), *rk = json_array();
            for (int64_t i = 0; i < it->target_tokens; i++) {
                json_array_append_new(lp, lms_json_num(it->token_logp[i]));
                json_array_append_new(rk, json_integer(it->token_rank[i]));
            }
            json_object_set_new(o, "token_logp", lp);
            json_object_set_new(o, "token_rank", rk);
        }
    }
    json_object_set_new(o, "truncated", json_boolean(it->truncated));
    json_object_set_new(o, "windowed", json_boolean(it->windowed));
    return o;
}

lms_status lms_eval_samples_open(lms_eval_samples *w, const char *dir, const char *suite, lms_err *err) {
    if (w->open) return lms_errf(err, LMS_ERR_ARG, "a samples file is already open (%s); commit or abort it first", w->f.path);
    if (lms_mkdir_p(dir, err)) return lms_err_prefix(err, "--log-samples: ");
    char name[512], path[4096];
    snprintf(name, sizeof name, "samples_%.480s.jsonl", suite);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return lms_errf(err, LMS_ERR_IO, "--log-samples: the path %s/%s is too long", dir, name);
    if (lms_atomic_open(&w->f, path, err)) return lms_err_prefix(err, "--log-samples: ");
    w->open = 1;
    w->lines = 0;
    return LMS_OK;
}

lms_status lms_eval_samples_write(const lms_eval_item *item, void *user, lms_err *err) {
    lms_eval_samples *w = user;
    if (!w || !w->open) return lms_errf(err, LMS_ERR_ARG, "no samples file is open for suite '%s'", item->suite ? item->suite : "");
    json_t *o = lms_eval_item_json(item, w->model, w->step);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory writing item %lld of %s", (long long)item->index, w->f.path);
    int bad = fputs(s, w->f.fp) < 0 || fputc('\n', w->f.fp) == EOF;
    free(s);
    if (bad) return lms_errf(err, LMS_ERR_IO, "writing %s failed (disk full?)", w->f.tmp);
    w->lines++;
    return LMS_OK;
}

lms_status lms_eval_samples_commit(lms_eval_samples *w, lms_err *err) {
    if (!w->open) return LMS_OK;
    w->open = 0;
    return lms_atomic_commit(&w->f, err);
}

void lms_eval_samples_abort(lms_eval_samples *w) {
    if (!w->open) return;
    w->open = 0;
    lms_atomic_abort(&w->f);
}
