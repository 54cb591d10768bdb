/* evaluate.c — probe-suite scoring (evaluate.h): tokenizing items, batching their (context,
 * continuation) rows through lms_gpt_score, greedy generation for "gen" items, and the per-suite
 * aggregates with standard errors.
 *
 * Items are read one at a time and gathered into a window (at most WIN_ITEMS items or 4 batches of
 * rows); the window's rows are sorted by length, scored B at a time with T = the longest row in
 * each batch, then the items are finalised in file order. Memory is bounded by the window, not
 * the suite. With an on_item callback, the window's item texts (a byte arena) and per-token scores
 * are kept too, so each item can be handed over whole when it is finished.
 * Leaves out: reading the files (suite.c), printing (src/cli/cmd_eval.c).
 */
#include "eval/evaluate.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/timer.h"
#include "eval/generate.h"
#include "model/score.h"

#define WIN_ITEMS 64
#define SHOW_CONTEXT_MAX 2000 /* bytes of a shown item's context kept (its end) */
#define SCORER_BUDGET ((size_t)1 << 30)

typedef struct {
    int slot, choice;
    size_t off;       /* first token in ev->toks */
    int n, nctx;      /* tokens in the row; of them context */
    size_t bytes;     /* the choice's bytes as written (acc_bytes) */
    int64_t chars;    /* its Unicode code points (acc_norm) */
    size_t text_off;  /* on_item: the choice (or target) in ev->text */
    int done;         /* scored already (sliding window) */
    double logp;      /* summed log p of the continuation tokens */
    int64_t top1, ntok;
} row_t;

typedef struct {
    lms_item_kind kind;
    int64_t line;
    int n_choices, answer, first_row;
    int truncated, windowed;
    int shown;        /* index into the kind's shown[], or -1 */
    int gen_correct;  /* gen results (computed when the item is added) */
    int64_t gen_edit;
    int64_t index;    /* position in the suite, 0-based */
    size_t ctx_off, ctx_len, meta_off, out_off, out_len; /* on_item: texts in ev->text (meta_off SIZE_MAX: none) */
} slot_t;

typedef struct {
    int64_t n, added, correct, correct_norm, correct_bytes, truncated, windowed, tokens;
    double chance_sum;
    lms_eval_stat logp, prob, edit;
    double *s_logp, *s_top1, *s_tok; /* seq: per item, for the bootstrap */
    size_t s_n, s_cap;
    lms_eval_shown *shown;
    int n_shown;
} kind_acc;

struct lms_evaluator {
    const lms_gpt *m;
    const lms_tokenizer *tok;
    lms_eval_config c;
    lms_scorer *sc;
    int B, T;
    lms_generator *gen;
    int gen_max;
    int32_t *in, *tg, *rank;
    float *lp;
    slot_t slots[WIN_ITEMS];
    int nslots;
    row_t *rows;
    int nrows, rows_cap;
    uint64_t *order; /* rows to score: length << 32 | index */
    uint32_t *toks;
    size_t ntoks, toks_cap;
    lms_ids ctx, cont, out;
    char *sbuf; /* whitespace + choice */
    size_t sbuf_cap;
    uint32_t start_tok;
    /* generation stop state (on_token) */
    int gen_limit, gen_count, gen_stop_nl;
    kind_acc acc[3];
    const char *path; /* the suite being scored, for messages */
    /* on_item only: the window's texts, per-token scores beside ev->toks, one item's arrays */
    const char *suite_name;
    int64_t item_index;
    char *text;
    size_t ntext, text_cap;
    float *tok_lp;      /* [toks_cap] log p of the token at the same place in ev->toks */
    int32_t *tok_rank;  /* [toks_cap] its rank */
    int it_cap;
    const char **it_choice;
    size_t *it_len;
    int64_t *it_chars, *it_tok;
    double *it_logp;
    int *it_greedy;
};

static const char *kind_name(lms_item_kind k) { return k == LMS_ITEM_MC ? "mc" : k == LMS_ITEM_GEN ? "gen" : "seq"; }

/* ---- statistics ---- */

double lms_eval_binomial_se(double p, int64_t n) {
    if (n < 1) return NAN;
    double m = (double)n + 4.0, q = (p * (double)n + 2.0) / m;
    return sqrt(q * (1 - q) / m);
}

void lms_eval_stat_push(lms_eval_stat *s, double x) {
    s->n++;
    double d = x - s->mean;
    s->mean += d / (double)s->n;
    s->m2 += d * (x - s->mean);
}
double lms_eval_stat_mean(const lms_eval_stat *s) { return s->n ? s->mean : NAN; }
double lms_eval_stat_se(const lms_eval_stat *s) {
    return s->n < 2 ? NAN : sqrt(s->m2 / (double)(s->n - 1) / (double)s->n);
}

double lms_eval_bootstrap_ratio_se(const double *num, const double *den, int64_t n, int reps, uint64_t seed) {
    if (n < 2 || reps < 2) return NAN;
    lms_rng r;
    lms_rng_seed(&r, seed);
    lms_eval_stat st = {0};
    for (int k = 0; k < reps; k++) {
        double a = 0, b = 0;
        for (int64_t i = 0; i < n; i++) {
            uint64_t j = lms_rng_below(&r, (uint64_t)n);
            a += num[j];
            b += den[j];
        }
        if (b != 0) lms_eval_stat_push(&st, a / b);
    }
    return st.n < 2 ? NAN : sqrt(st.m2 / (double)(st.n - 1));
}

int64_t lms_eval_edit_distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    if (na < nb) {
        const uint32_t *t = a;
        a = b;
        b = t;
        size_t tn = na;
        na = nb;
        nb = tn;
    }
    /* b is the shorter: one row of nb + 1 */
    int64_t *d = malloc((nb + 1) * sizeof *d);
    if (!d) return -1;
    for (size_t j = 0; j <= nb; j++) d[j] = (int64_t)j;
    for (size_t i = 1; i <= na; i++) {
        int64_t diag = d[0];
        d[0] = (int64_t)i;
        for (size_t j = 1; j <= nb; j++) {
            int64_t up = d[j];
            int64_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (d[j - 1] + 1 < best) best = d[j - 1] + 1;
            d[j] = best;
            diag = up;
        }
    }
    int64_t r = d[nb];
    free(d);
    return r;
}

/* ---- setup ---- */

lms_eval_config lms_eval_defaults(void) {
    lms_eval_config c = {.batch = 0, .show = 0, .gen_extra = 4, .bootstrap = 1000, .seed = 1, .on_item = NULL, .item_user = NULL};
    return c;
}

static int on_token(int32_t token, void *user) {
    lms_evaluator *ev = user;
    ev->gen_count++;
    if (ev->gen_stop_nl) {
        size_t l;
        const char *p = lms_tokenizer_token(ev->tok, (uint32_t)token, &l);
        if (p && memchr(p, '\n', l)) return 1;
    }
    return ev->gen_count >= ev->gen_limit;
}

lms_status lms_evaluator_create(lms_evaluator **out, const lms_gpt *m, const lms_tokenizer *tok,
                                const lms_eval_config *c, lms_err *err) {
    *out = NULL;
    lms_eval_config cfg = c ? *c : lms_eval_defaults();
    if (cfg.batch < 0 || cfg.show < 0 || cfg.gen_extra < 0 || cfg.bootstrap < 2)
        return lms_errf(err, LMS_ERR_ARG, "evaluation config: batch, show and gen_extra must be >= 0 and bootstrap >= 2");
    const lms_gpt_config *mc = lms_gpt_get_config(m);
    if (lms_tokenizer_vocab_size(tok) > mc->vocab_size)
        return lms_errf(err, LMS_ERR_MISMATCH, "the tokenizer has %d tokens but the model only %d; they do not belong together",
                        lms_tokenizer_vocab_size(tok), mc->vocab_size);
    lms_evaluator *ev = calloc(1, sizeof *ev);
    if (!ev) return lms_errf(err, LMS_ERR_NOMEM, "out of memory creating an evaluator");
    ev->m = m;
    ev->tok = tok;
    ev->c = cfg;
    ev->T = mc->n_ctx;
    int B = cfg.batch ? cfg.batch : 16;
    if (!cfg.batch)
        while (B > 1 && lms_scorer_bytes(mc, B, ev->T) > SCORER_BUDGET) B /= 2;
    ev->B = B;
    ev->start_tok = lms_generate_start_token(tok);
    size_t bt = (size_t)B * (size_t)ev->T;
    ev->in = malloc(bt * sizeof *ev->in);
    ev->tg = malloc(bt * sizeof *ev->tg);
    ev->rank = malloc(bt * sizeof *ev->rank);
    ev->lp = malloc(bt * sizeof *ev->lp);
    if (!ev->in || !ev->tg || !ev->rank || !ev->lp) {
        lms_evaluator_free(ev);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory for %d x %d scoring buffers", B, ev->T);
    }
    if (lms_scorer_create(&ev->sc, m, B, ev->T, err)) {
        lms_evaluator_free(ev);
        return err->code;
    }
    *out = ev;
    return LMS_OK;
}

static void shown_free(lms_eval_shown *s) {
    free(s->context);
    free(s->meta);
    if (s->choices)
        for (int i = 0; i < s->n_choices; i++) free(s->choices[i]);
    free(s->choices);
    free(s->logp);
    free(s->prob);
    free(s->target);
    free(s->output);
    memset(s, 0, sizeof *s);
}

static void acc_reset(kind_acc *a, int free_shown) {
    free(a->s_logp);
    free(a->s_top1);
    free(a->s_tok);
    if (free_shown) {
        for (int i = 0; i < a->n_shown; i++) shown_free(&a->shown[i]);
        free(a->shown);
    }
    memset(a, 0, sizeof *a);
}

void lms_evaluator_free(lms_evaluator *ev) {
    if (!ev) return;
    lms_scorer_free(ev->sc);
    lms_generator_free(ev->gen);
    free(ev->in);
    free(ev->tg);
    free(ev->rank);
    free(ev->lp);
    free(ev->rows);
    free(ev->order);
    free(ev->toks);
    free(ev->sbuf);
    lms_ids_free(&ev->ctx);
    lms_ids_free(&ev->cont);
    lms_ids_free(&ev->out);
    for (int k = 0; k < 3; k++) acc_reset(&ev->acc[k], 1);
    free(ev->text);
    free(ev->tok_lp);
    free(ev->tok_rank);
    free(ev->it_choice);
    free(ev->it_len);
    free(ev->it_chars);
    free(ev->it_tok);
    free(ev->it_logp);
    free(ev->it_greedy);
    free(ev);
}

void lms_eval_result_free(lms_eval_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_rows; i++) {
        for (int j = 0; j < r->row[i].n_shown; j++) shown_free(&r->row[i].shown[j]);
        free(r->row[i].shown);
    }
    memset(r, 0, sizeof *r);
}

/* ---- adding items ---- */

static lms_status nomem(lms_evaluator *ev, int64_t line, lms_err *err) {
    return lms_errf(err, LMS_ERR_NOMEM, "%s:%lld: out of memory", ev->path, (long long)line);
}

static lms_status toks_reserve(lms_evaluator *ev, size_t extra, int64_t line, lms_err *err) {
    if (ev->ntoks + extra <= ev->toks_cap) return LMS_OK;
    size_t nc = ev->toks_cap ? ev->toks_cap : 4096;
    while (nc < ev->ntoks + extra) nc *= 2;
    uint32_t *t = realloc(ev->toks, nc * sizeof *t);
    if (!t) return nomem(ev, line, err);
    ev->toks = t;
    if (ev->c.on_item) { /* per-token scores beside the tokens */
        float *lp = realloc(ev->tok_lp, nc * sizeof *lp);
        if (lp) ev->tok_lp = lp;
        int32_t *rk = realloc(ev->tok_rank, nc * sizeof *rk);
        if (rk) ev->tok_rank = rk;
        if (!lp || !rk) return nomem(ev, line, err);
    }
    ev->toks_cap = nc;
    return LMS_OK;
}

/* on_item: append s[n] to the window's text arena; *off where it starts. */
static lms_status text_push(lms_evaluator *ev, const char *s, size_t n, size_t *off, int64_t line, lms_err *err) {
    if (ev->ntext + n > ev->text_cap || !ev->text) {
        size_t nc = ev->text_cap ? ev->text_cap : 4096;
        while (nc < ev->ntext + n) nc *= 2;
        char *t = realloc(ev->text, nc);
        if (!t) return nomem(ev, line, err);
        ev->text = t;
        ev->text_cap = nc;
    }
    if (n) memcpy(ev->text + ev->ntext, s, n);
    *off = ev->ntext;
    ev->ntext += n;
    return LMS_OK;
}

/* Unicode code points of UTF-8 text (bytes that do not continue a character), at least 1 so that
   a malformed choice cannot divide by zero: Python's len() of the decoded string. */
static int64_t utf8_chars(const char *s, size_t n) {
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c ? c : 1;
}

static row_t *new_row(lms_evaluator *ev, int64_t line, lms_err *err) {
    if (ev->nrows == ev->rows_cap) {
        int nc = ev->rows_cap ? ev->rows_cap * 2 : 64;
        row_t *r = realloc(ev->rows, (size_t)nc * sizeof *r);
        uint64_t *o = realloc(ev->order, (size_t)nc * sizeof *o);
        if (r) ev->rows = r;
        if (o) ev->order = o;
        if (!r || !o) {
            nomem(ev, line, err);
            return NULL;
        }
        ev->rows_cap = nc;
    }
    row_t *r = &ev->rows[ev->nrows++];
    memset(r, 0, sizeof *r);
    return r;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* The context's end for display: at most SHOW_CONTEXT_MAX bytes, "..." in front when cut, not
   starting inside a UTF-8 character. */
static char *dup_tail(const char *s, size_t n) {
    if (n <= SHOW_CONTEXT_MAX) return dup_n(s, n);
    size_t from = n - SHOW_CONTEXT_MAX;
    while (from < n && ((unsigned char)s[from] & 0xC0) == 0x80) from++;
    char *d = malloc(n - from + 4);
    if (d) {
        memcpy(d, "...", 3);
        memcpy(d + 3, s + from, n - from);
        d[n - from + 3] = 0;
    }
    return d;
}

/* Keep a copy of item `it` for display when its kind still has room. */
static lms_status keep_shown(lms_evaluator *ev, const lms_suite_item *it, slot_t *sl, lms_err *err) {
    kind_acc *a = &ev->acc[it->kind];
    sl->shown = -1;
    if (a->n_shown >= ev->c.show) return LMS_OK;
    if (!a->shown) {
        a->shown = calloc((size_t)ev->c.show, sizeof *a->shown);
        if (!a->shown) return nomem(ev, it->line, err);
    }
    lms_eval_shown *s = &a->shown[a->n_shown++];
    s->kind = it->kind;
    s->line = it->line;
    s->answer = it->answer;
    s->context = dup_tail(it->context, it->context_len);
    s->meta = it->meta ? dup_n(it->meta, strlen(it->meta)) : NULL;
    int bad = !s->context || (it->meta && !s->meta);
    if (it->kind == LMS_ITEM_MC) {
        s->n_choices = it->n_choices;
        s->choices = calloc((size_t)it->n_choices, sizeof *s->choices);
        s->logp = calloc((size_t)it->n_choices, sizeof *s->logp);
        s->prob = calloc((size_t)it->n_choices, sizeof *s->prob);
        bad |= !s->choices || !s->logp || !s->prob;
        for (int i = 0; !bad && i < it->n_choices; i++) bad |= !(s->choices[i] = dup_n(it->choices[i], it->choice_len[i]));
    } else {
        bad |= !(s->target = dup_n(it->target, it->target_len));
    }
    if (bad) return nomem(ev, it->line, err);
    sl->shown = a->n_shown - 1;
    return LMS_OK;
}

/* Greedy generation for a gen item: the prompt is ev->ctx (already encoded); the continuation's
   tokens are ev->cont. Fills sl->gen_correct / gen_edit and the shown output. */
static lms_status generate_item(lms_evaluator *ev, const lms_suite_item *it, slot_t *sl, lms_err *err) {
    if (!ev->gen) {
        lms_generate_config gc = lms_generate_defaults();
        ev->gen_max = 4 * ev->T;
        gc.max_tokens = ev->gen_max;
        gc.sampling.temperature = 0;
        gc.sampling.top_k = 0;
        gc.sampling.top_p = 1;
        gc.eot = lms_tokenizer_eot(ev->tok);
        gc.stop_at_eot = 1;
        gc.on_token = on_token;
        gc.user = ev;
        if (lms_generator_create(&ev->gen, ev->m, &gc, err)) return err->code;
    }
    const uint32_t *prompt = ev->ctx.ids;
    size_t np = ev->ctx.n;
    if (np > (size_t)ev->T) {
        prompt += np - (size_t)ev->T;
        np = (size_t)ev->T;
        sl->truncated = 1;
    }
    ev->gen_limit = (int)ev->cont.n + ev->c.gen_extra;
    if (ev->gen_limit > ev->gen_max) ev->gen_limit = ev->gen_max;
    if (ev->gen_limit < 1) ev->gen_limit = 1;
    ev->gen_count = 0;
    ev->gen_stop_nl = memchr(it->target, '\n', it->target_len) == NULL;
    ev->out.n = 0;
    if (lms_generator_run(ev->gen, prompt, np, &ev->out, NULL, err))
        return lms_err_prefix(err, "%s:%lld: generating", ev->path, (long long)it->line);
    /* tokens up to the first one holding a newline (when the target has none) */
    size_t k = ev->out.n;
    if (ev->gen_stop_nl)
        for (size_t i = 0; i < ev->out.n; i++) {
            size_t l;
            const char *p = lms_tokenizer_token(ev->tok, ev->out.ids[i], &l);
            if (p && memchr(p, '\n', l)) {
                k = i;
                break;
            }
        }
    char *text = NULL;
    size_t tl = 0;
    if (lms_tokenizer_decode(ev->tok, ev->out.ids, ev->out.n, &text, &tl, err))
        return lms_err_prefix(err, "%s:%lld: ", ev->path, (long long)it->line);
    if (ev->gen_stop_nl) {
        char *nl = memchr(text, '\n', tl);
        if (nl) tl = (size_t)(nl - text);
    }
    const char *a = text, *b = it->target;
    size_t la = tl, lb = it->target_len;
    while (la && is_space(*a)) a++, la--;
    while (la && is_space(a[la - 1])) la--;
    while (lb && is_space(*b)) b++, lb--;
    while (lb && is_space(b[lb - 1])) lb--;
    sl->gen_correct = la == lb && !memcmp(a, b, la);
    sl->gen_edit = lms_eval_edit_distance(ev->out.ids, k, ev->cont.ids, ev->cont.n);
    if (sl->gen_edit < 0) {
        free(text);
        return nomem(ev, it->line, err);
    }
    if (ev->c.on_item && text_push(ev, text, tl, &sl->out_off, it->line, err)) {
        free(text);
        return err->code;
    }
    sl->out_len = tl;
    if (sl->shown >= 0) {
        lms_eval_shown *s = &ev->acc[LMS_ITEM_GEN].shown[sl->shown];
        s->output = dup_n(text, tl);
        if (!s->output) {
            free(text);
            return nomem(ev, it->line, err);
        }
    }
    free(text);
    return LMS_OK;
}

/* Score one row now with the sliding window (a continuation longer than the context). */
static lms_status score_windowed(lms_evaluator *ev, row_t *r, int64_t line, lms_err *err) {
    size_t n = (size_t)r->n;
    float *lp = malloc(n * sizeof *lp);
    int32_t *rk = malloc(n * sizeof *rk);
    int32_t *t32 = malloc(n * sizeof *t32);
    if (!lp || !rk || !t32) {
        free(lp), free(rk), free(t32);
        return nomem(ev, line, err);
    }
    for (size_t i = 0; i < n; i++) t32[i] = (int32_t)ev->toks[r->off + i];
    lms_gpt_score_seq(ev->sc, t32, n, lp, rk, NULL);
    for (size_t i = (size_t)r->nctx; i < n; i++) {
        r->logp += lp[i];
        r->top1 += rk[i] == 1;
        r->ntok++;
        if (ev->c.on_item) ev->tok_lp[r->off + i] = lp[i], ev->tok_rank[r->off + i] = rk[i];
    }
    free(lp), free(rk), free(t32);
    r->done = 1;
    return LMS_OK;
}

static lms_status add_item(lms_evaluator *ev, const lms_suite_item *it, lms_err *err) {
    slot_t *sl = &ev->slots[ev->nslots];
    memset(sl, 0, sizeof *sl);
    sl->kind = it->kind;
    sl->line = it->line;
    sl->n_choices = it->kind == LMS_ITEM_MC ? it->n_choices : 1;
    sl->answer = it->kind == LMS_ITEM_MC ? it->answer : 0;
    sl->first_row = ev->nrows;
    sl->index = ev->item_index++;
    sl->meta_off = SIZE_MAX;
    if (ev->c.on_item) {
        if (text_push(ev, it->context, it->context_len, &sl->ctx_off, it->line, err)) return err->code;
        sl->ctx_len = it->context_len;
        if (it->meta && text_push(ev, it->meta, strlen(it->meta) + 1, &sl->meta_off, it->line, err)) return err->code;
    }
    if (keep_shown(ev, it, sl, err)) return err->code;
    ev->acc[it->kind].added++;
    /* whitespace at the end of the context moves to the front of each continuation */
    size_t cl = it->context_len;
    while (cl && is_space(it->context[cl - 1])) cl--;
    size_t ws = it->context_len - cl;
    ev->ctx.n = 0;
    if (lms_tokenizer_encode(ev->tok, it->context, cl, &ev->ctx, err)) return lms_err_prefix(err, "%s:%lld: ", ev->path, (long long)it->line);
    if (ev->ctx.n == 0 && lms_ids_push(&ev->ctx, ev->start_tok, err)) return err->code;
    for (int c = 0; c < sl->n_choices; c++) {
        const char *ch = it->kind == LMS_ITEM_MC ? it->choices[c] : it->target;
        size_t chl = it->kind == LMS_ITEM_MC ? it->choice_len[c] : it->target_len;
        if (ws + chl + 1 > ev->sbuf_cap) {
            char *nb = realloc(ev->sbuf, ws + chl + 1);
            if (!nb) return nomem(ev, it->line, err);
            ev->sbuf = nb;
            ev->sbuf_cap = ws + chl + 1;
        }
        memcpy(ev->sbuf, it->context + cl, ws);
        memcpy(ev->sbuf + ws, ch, chl);
        ev->cont.n = 0;
        if (lms_tokenizer_encode(ev->tok, ev->sbuf, ws + chl, &ev->cont, err))
            return lms_err_prefix(err, "%s:%lld: ", ev->path, (long long)it->line);
        if (ev->cont.n == 0) {
            if (it->kind == LMS_ITEM_MC)
                return lms_errf(err, LMS_ERR_FORMAT, "%s:%lld: choice %d tokenizes to no tokens; give it some text", ev->path,
                                (long long)it->line, c);
            return lms_errf(err, LMS_ERR_FORMAT, "%s:%lld: the target tokenizes to no tokens; give it some text", ev->path,
                            (long long)it->line);
        }
        size_t nctx = ev->ctx.n, ncont = ev->cont.n;
        int windowed = 0;
        if (nctx + ncont - 1 > (size_t)ev->T) {
            if (ncont <= (size_t)ev->T) {
                nctx = (size_t)ev->T + 1 - ncont; /* >= 1: keep the end of the context */
                sl->truncated = 1;
            } else {
                if (nctx > (size_t)ev->T) nctx = (size_t)ev->T;
                windowed = 1;
                sl->windowed = 1;
            }
        }
        row_t *r = new_row(ev, it->line, err);
        if (!r) return err->code;
        if (toks_reserve(ev, nctx + ncont, it->line, err)) return err->code;
        r->slot = ev->nslots;
        r->choice = c;
        r->off = ev->ntoks;
        r->n = (int)(nctx + ncont);
        r->nctx = (int)nctx;
        r->bytes = chl;
        r->chars = utf8_chars(ch, chl);
        if (ev->c.on_item && text_push(ev, ch, chl, &r->text_off, it->line, err)) return err->code;
        memcpy(ev->toks + ev->ntoks, ev->ctx.ids + (ev->ctx.n - nctx), nctx * sizeof *ev->toks);
        memcpy(ev->toks + ev->ntoks + nctx, ev->cont.ids, ncont * sizeof *ev->toks);
        ev->ntoks += nctx + ncont;
        if (windowed && score_windowed(ev, r, it->line, err)) return err->code;
    }
    if (it->kind == LMS_ITEM_GEN && generate_item(ev, it, sl, err)) return err->code;
    ev->nslots++;
    return LMS_OK;
}

/* ---- scoring a window ---- */

static int cmp_key(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static lms_status score_rows(lms_evaluator *ev, lms_err *err) {
    /* rows by length (then by index: deterministic), as keys length << 32 | index */
    int n = 0;
    for (int i = 0; i < ev->nrows; i++)
        if (!ev->rows[i].done) ev->order[n++] = (uint64_t)ev->rows[i].n << 32 | (uint32_t)i;
    qsort(ev->order, (size_t)n, sizeof *ev->order, cmp_key);
    for (int b0 = 0; b0 < n; b0 += ev->B) {
        int nb = n - b0 < ev->B ? n - b0 : ev->B;
        int T = 1;
        for (int k = 0; k < nb; k++)
            if (ev->rows[(uint32_t)ev->order[b0 + k]].n - 1 > T) T = ev->rows[(uint32_t)ev->order[b0 + k]].n - 1;
        for (int k = 0; k < nb; k++) {
            const row_t *r = &ev->rows[(uint32_t)ev->order[b0 + k]];
            int32_t *in = ev->in + (size_t)k * T, *tg = ev->tg + (size_t)k * T;
            const uint32_t *t = ev->toks + r->off;
            for (int j = 0; j < T; j++) {
                in[j] = j < r->n - 1 ? (int32_t)t[j] : 0;
                tg[j] = j >= r->nctx - 1 && j < r->n - 1 ? (int32_t)t[j + 1] : -1;
            }
        }
        lms_gpt_score(ev->sc, ev->in, ev->tg, nb, T, ev->lp, ev->rank);
        for (int k = 0; k < nb; k++) {
            row_t *r = &ev->rows[(uint32_t)ev->order[b0 + k]];
            const float *lp = ev->lp + (size_t)k * T;
            const int32_t *rk = ev->rank + (size_t)k * T;
            for (int j = r->nctx - 1; j < r->n - 1; j++) {
                r->logp += lp[j];
                r->top1 += rk[j] == 1;
                r->ntok++;
                if (ev->c.on_item) ev->tok_lp[r->off + (size_t)j + 1] = lp[j], ev->tok_rank[r->off + (size_t)j + 1] = rk[j];
            }
        }
    }
    for (int i = 0; i < ev->nrows; i++)
        if (!isfinite(ev->rows[i].logp))
            return lms_errf(err, LMS_ERR_NUMERIC, "%s:%lld: the model gives a non-finite log-probability (NaN/Inf in its weights?)",
                            ev->path, (long long)ev->slots[ev->rows[i].slot].line);
    return LMS_OK;
}

static lms_status seq_push(kind_acc *a, double logp, double top1, double tok) {
    if (a->s_n == a->s_cap) {
        size_t nc = a->s_cap ? a->s_cap * 2 : 256;
        double *x = realloc(a->s_logp, nc * sizeof *x);
        if (x) a->s_logp = x;
        double *y = realloc(a->s_top1, nc * sizeof *y);
        if (y) a->s_top1 = y;
        double *z = realloc(a->s_tok, nc * sizeof *z);
        if (z) a->s_tok = z;
        if (!x || !y || !z) return LMS_ERR_NOMEM;
        a->s_cap = nc;
    }
    a->s_logp[a->s_n] = logp;
    a->s_top1[a->s_n] = top1;
    a->s_tok[a->s_n++] = tok;
    return LMS_OK;
}

/* on_item: the item's arrays (mc) sized for n choices. */
static lms_status item_reserve(lms_evaluator *ev, int n, int64_t line, lms_err *err) {
    if (n <= ev->it_cap) return LMS_OK;
    free(ev->it_choice), free(ev->it_len), free(ev->it_chars), free(ev->it_tok), free(ev->it_logp), free(ev->it_greedy);
    ev->it_choice = malloc((size_t)n * sizeof *ev->it_choice);
    ev->it_len = malloc((size_t)n * sizeof *ev->it_len);
    ev->it_chars = malloc((size_t)n * sizeof *ev->it_chars);
    ev->it_tok = malloc((size_t)n * sizeof *ev->it_tok);
    ev->it_logp = malloc((size_t)n * sizeof *ev->it_logp);
    ev->it_greedy = malloc((size_t)n * sizeof *ev->it_greedy);
    ev->it_cap = n;
    if (!ev->it_choice || !ev->it_len || !ev->it_chars || !ev->it_tok || !ev->it_logp || !ev->it_greedy) {
        ev->it_cap = 0;
        return nomem(ev, line, err);
    }
    return LMS_OK;
}

/* Hand a finished item to on_item (mc: picks by ll, ll/chars, ll/bytes and the answer's prob). */
static lms_status emit_item(lms_evaluator *ev, const slot_t *sl, int pick, int pick_norm, int pick_bytes, double prob,
                            lms_err *err) {
    const row_t *r = &ev->rows[sl->first_row];
    lms_eval_item it = {.suite = ev->suite_name, .kind = sl->kind, .index = sl->index, .line = sl->line,
                        .context = ev->text + sl->ctx_off, .context_len = sl->ctx_len,
                        .meta = sl->meta_off == SIZE_MAX ? NULL : ev->text + sl->meta_off,
                        .answer = -1, .pick = -1, .pick_norm = -1, .pick_bytes = -1, .correct_norm = -1, .correct_bytes = -1,
                        .prob = NAN, .edit = -1, .target_logp = NAN, .truncated = sl->truncated || sl->windowed,
                        .windowed = sl->windowed};
    if (sl->kind == LMS_ITEM_MC) {
        if (item_reserve(ev, sl->n_choices, sl->line, err)) return err->code;
        for (int c = 0; c < sl->n_choices; c++) {
            ev->it_choice[c] = ev->text + r[c].text_off;
            ev->it_len[c] = r[c].bytes;
            ev->it_chars[c] = r[c].chars;
            ev->it_logp[c] = r[c].logp;
            ev->it_tok[c] = r[c].ntok;
            ev->it_greedy[c] = r[c].top1 == r[c].ntok;
        }
        it.n_choices = sl->n_choices;
        it.choices = ev->it_choice;
        it.choice_len = ev->it_len;
        it.choice_chars = ev->it_chars;
        it.logp = ev->it_logp;
        it.tokens = ev->it_tok;
        it.greedy = ev->it_greedy;
        it.answer = sl->answer;
        it.pick = pick, it.pick_norm = pick_norm, it.pick_bytes = pick_bytes;
        it.correct = pick == sl->answer;
        it.correct_norm = pick_norm == sl->answer;
        it.correct_bytes = pick_bytes == sl->answer;
        it.prob = prob;
    } else {
        it.target = ev->text + r[0].text_off;
        it.target_len = r[0].bytes;
        it.target_logp = r[0].logp;
        it.target_tokens = r[0].ntok;
        it.top1 = r[0].top1;
        /* the target's tokens are the row's last ntok */
        size_t first = r[0].off + (size_t)r[0].n - (size_t)r[0].ntok;
        it.token_logp = ev->tok_lp + first;
        it.token_rank = ev->tok_rank + first;
        if (sl->kind == LMS_ITEM_GEN) {
            it.output = ev->text + sl->out_off;
            it.output_len = sl->out_len;
            it.edit = sl->gen_edit;
            it.correct = sl->gen_correct;
        } else it.correct = r[0].top1 == r[0].ntok;
    }
    return ev->c.on_item(&it, ev->c.item_user, err);
}

static lms_status finish_item(lms_evaluator *ev, const slot_t *sl, lms_err *err) {
    kind_acc *a = &ev->acc[sl->kind];
    const row_t *r = &ev->rows[sl->first_row];
    lms_eval_shown *s = sl->shown >= 0 ? &a->shown[sl->shown] : NULL;
    a->n++;
    a->truncated += sl->truncated || sl->windowed;
    a->windowed += sl->windowed;
    for (int c = 0; c < sl->n_choices; c++) a->tokens += r[c].ntok;
    if (sl->kind == LMS_ITEM_MC) {
        int pick = 0, pick_norm = 0, pick_bytes = 0;
        double mx = r[0].logp;
        for (int c = 1; c < sl->n_choices; c++) {
            if (r[c].logp > r[pick].logp) pick = c;
            if (r[c].logp / (double)r[c].chars > r[pick_norm].logp / (double)r[pick_norm].chars) pick_norm = c;
            if (r[c].logp / (double)r[c].bytes > r[pick_bytes].logp / (double)r[pick_bytes].bytes) pick_bytes = c;
            if (r[c].logp > mx) mx = r[c].logp;
        }
        double z = 0;
        for (int c = 0; c < sl->n_choices; c++) z += exp(r[c].logp - mx);
        double p = exp(r[sl->answer].logp - mx) / z;
        a->chance_sum += 1.0 / sl->n_choices;
        a->correct += pick == sl->answer;
        a->correct_norm += pick_norm == sl->answer;
        a->correct_bytes += pick_bytes == sl->answer;
        lms_eval_stat_push(&a->logp, r[sl->answer].logp);
        lms_eval_stat_push(&a->prob, p);
        if (s) {
            for (int c = 0; c < sl->n_choices; c++) {
                s->logp[c] = r[c].logp;
                s->prob[c] = exp(r[c].logp - mx) / z;
            }
            s->pick = pick;
            s->pick_norm = pick_norm;
            s->pick_bytes = pick_bytes;
            s->correct = pick == sl->answer;
        }
        if (ev->c.on_item && emit_item(ev, sl, pick, pick_norm, pick_bytes, p, err)) return err->code;
    } else if (sl->kind == LMS_ITEM_GEN) {
        a->correct += sl->gen_correct;
        lms_eval_stat_push(&a->logp, r[0].logp);
        lms_eval_stat_push(&a->edit, (double)sl->gen_edit);
        if (s) s->correct = sl->gen_correct, s->edit = sl->gen_edit;
        if (ev->c.on_item && emit_item(ev, sl, -1, -1, -1, NAN, err)) return err->code;
    } else {
        a->correct += r[0].top1;
        if (seq_push(a, r[0].logp, (double)r[0].top1, (double)r[0].ntok)) return nomem(ev, sl->line, err);
        if (s) s->correct = r[0].top1 == r[0].ntok;
        if (ev->c.on_item && emit_item(ev, sl, -1, -1, -1, NAN, err)) return err->code;
    }
    if (s) {
        s->target_logp = r[0].logp;
        s->target_tokens = r[0].ntok;
        s->top1 = r[0].top1;
        s->truncated = sl->truncated || sl->windowed;
        if (sl->kind != LMS_ITEM_MC) s->pick = s->pick_norm = s->pick_bytes = -1;
    }
    return LMS_OK;
}

static lms_status flush(lms_evaluator *ev, lms_err *err) {
    lms_status st = score_rows(ev, err);
    for (int i = 0; !st && i < ev->nslots; i++) st = finish_item(ev, &ev->slots[i], err);
    ev->nslots = 0;
    ev->nrows = 0;
    ev->ntoks = 0;
    ev->ntext = 0;
    return st;
}

/* ---- a suite ---- */

static void fill_row(lms_evaluator *ev, kind_acc *a, lms_item_kind k, lms_eval_row *row) {
    row->kind = k;
    row->n = a->n;
    row->acc = row->acc_se = row->acc_norm = row->acc_norm_se = row->acc_bytes = row->acc_bytes_se = NAN;
    row->logp = row->logp_se = row->prob = row->prob_se = row->edit = row->edit_se = NAN;
    row->chance = k == LMS_ITEM_MC ? a->chance_sum / (double)a->n : 0;
    row->truncated = a->truncated;
    row->windowed = a->windowed;
    row->tokens_scored = a->tokens;
    if (k == LMS_ITEM_SEQ) {
        double sl = 0, s1 = 0, stok = 0;
        for (size_t i = 0; i < a->s_n; i++) sl += a->s_logp[i], s1 += a->s_top1[i], stok += a->s_tok[i];
        row->acc = s1 / stok;
        row->logp = sl / stok;
        /* cost reps x n: fewer resamples for very large suites (still >= 100) */
        int reps = ev->c.bootstrap;
        if ((double)reps * (double)a->s_n > 2e8) reps = (int)(2e8 / (double)a->s_n) < 100 ? 100 : (int)(2e8 / (double)a->s_n);
        row->acc_se = lms_eval_bootstrap_ratio_se(a->s_top1, a->s_tok, (int64_t)a->s_n, reps, ev->c.seed);
        row->logp_se = lms_eval_bootstrap_ratio_se(a->s_logp, a->s_tok, (int64_t)a->s_n, reps, ev->c.seed);
    } else {
        row->acc = (double)a->correct / (double)a->n;
        row->acc_se = lms_eval_binomial_se(row->acc, a->n);
        row->logp = lms_eval_stat_mean(&a->logp);
        row->logp_se = lms_eval_stat_se(&a->logp);
        if (k == LMS_ITEM_MC) {
            row->acc_norm = (double)a->correct_norm / (double)a->n;
            row->acc_norm_se = lms_eval_binomial_se(row->acc_norm, a->n);
            row->acc_bytes = (double)a->correct_bytes / (double)a->n;
            row->acc_bytes_se = lms_eval_binomial_se(row->acc_bytes, a->n);
            row->prob = lms_eval_stat_mean(&a->prob);
            row->prob_se = lms_eval_stat_se(&a->prob);
        } else {
            row->edit = lms_eval_stat_mean(&a->edit);
            row->edit_se = lms_eval_stat_se(&a->edit);
        }
    }
    row->n_shown = a->n_shown;
    row->shown = a->shown; /* ownership moves to the row */
    a->shown = NULL;
    a->n_shown = 0;
}

lms_status lms_eval_suite(lms_evaluator *ev, lms_suite *s, lms_eval_result *r, lms_err *err) {
    memset(r, 0, sizeof *r);
    double t0 = lms_now();
    for (int k = 0; k < 3; k++) acc_reset(&ev->acc[k], 1);
    ev->nslots = ev->nrows = 0;
    ev->ntoks = 0;
    ev->path = lms_suite_path(s);
    ev->suite_name = lms_suite_name(s);
    ev->item_index = 0;
    ev->ntext = 0;
    lms_status st = LMS_OK;
    for (;;) {
        const lms_suite_item *it;
        if ((st = lms_suite_next(s, &it, err))) break;
        if (!it) break;
        if ((st = add_item(ev, it, err))) break;
        if ((ev->nslots == WIN_ITEMS || ev->nrows >= 4 * ev->B) && (st = flush(ev, err))) break;
    }
    if (!st && ev->nslots) st = flush(ev, err);
    if (st) {
        ev->nslots = ev->nrows = 0;
        ev->ntoks = 0;
        for (int k = 0; k < 3; k++) acc_reset(&ev->acc[k], 1);
        return st;
    }
    int kinds = 0;
    for (int k = 0; k < 3; k++) kinds += ev->acc[k].n > 0;
    double dt = lms_now() - t0;
    for (int k = 0; k < 3; k++) {
        kind_acc *a = &ev->acc[k];
        if (!a->n) continue;
        lms_eval_row *row = &r->row[r->n_rows++];
        if (kinds > 1) snprintf(row->suite, sizeof row->suite, "%.240s/%s", lms_suite_name(s), kind_name((lms_item_kind)k));
        else snprintf(row->suite, sizeof row->suite, "%s", lms_suite_name(s));
        fill_row(ev, a, (lms_item_kind)k, row);
        row->time_s = dt;
    }
    for (int k = 0; k < 3; k++) acc_reset(&ev->acc[k], 1);
    return LMS_OK;
}

lms_status lms_eval_suite_file(lms_evaluator *ev, const char *path, lms_eval_result *r, lms_err *err) {
    memset(r, 0, sizeof *r);
    lms_suite *s;
    if (lms_suite_open(&s, path, err)) return err->code;
    lms_status st = lms_eval_suite(ev, s, r, err);
    lms_suite_close(s);
    return st;
}

lms_status lms_eval_domains(const lms_gpt *m, const lms_tokenizer *tok, const lms_loader *loader, int B, int T,
                            int max_batches, lms_val_result *r, lms_err *err) {
    memset(r, 0, sizeof *r);
    lms_scorer *sc;
    if (lms_scorer_create(&sc, m, B, T, err)) return err->code;
    lms_status st = lms_validate(sc, loader, max_batches, tok, r, err);
    lms_scorer_free(sc);
    return st;
}
