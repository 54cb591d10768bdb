/* evaluate.h — scoring a model on probe suites (docs/formats.md "Probe suites", "Evaluation
 * results"): multiple choice by summed log-likelihood, greedy generation, per-token scoring, and
 * the per-suite aggregates with their standard errors.
 *
 * Tokenization (lm-evaluation-harness's scheme): whitespace at the end of the context is moved to
 * the front of each continuation (context "A: " + choice "Paris" is scored as "A:" + " Paris");
 * the context and each continuation are then encoded SEPARATELY and concatenated, and only the
 * continuation's tokens are scored (targets -1 elsewhere). An empty context is replaced by the
 * end-of-text token (or, for a tokenizer without one such as bytes, the newline token), so the
 * first continuation token has something to be predicted from.
 *
 * Multiple choice: each choice's log-likelihood ll_i = sum of log p of its tokens. Per item:
 * correct = argmax_i ll_i is the answer (the first maximum on ties); correct_norm = the same with
 * ll_i / (characters of choice i as written in the suite: Unicode code points, as Python's len()
 * counts them, so lm-evaluation-harness's acc_norm); correct_bytes = the same with ll_i / (bytes
 * of choice i as written, lm-evaluation-harness's acc_bytes); logp = ll_answer; prob =
 * exp(ll_answer) / sum_i exp(ll_i) (renormalised over the choices). "As written" means the
 * suite's choice string itself: whitespace moved over from the end of the context is not counted
 * (lm-evaluation-harness counts len(choice) without its target delimiter " " the same way). Rows (context, choice) of several items are
 * batched right-padded into one lms_gpt_score call (sorted by length within a window of items, so
 * padding stays small); batching never changes a score beyond fp32 rounding.
 * Generation ("gen"): greedy decoding from the context for at most (target tokens + gen_extra)
 * tokens, stopping at end-of-text, or at the first token holding a newline when the target has
 * none; exact match compares output and target with surrounding whitespace trimmed (the output
 * cut before its first newline when the target has none); the edit distance is Levenshtein's over
 * token ids (output tokens before that newline token vs the target's tokens). Its logp is the
 * target's summed log-probability, as for a single choice.
 * Per-token ("seq"): log p and rank of each target token; acc = tokens ranked first / tokens,
 * logp = summed log p / tokens (pooled over the suite).
 *
 * Items longer than the model's context: the continuation is kept with the end of the context
 * (left truncation; counted in `truncated`). A continuation longer than the context by itself is
 * scored with lms_gpt_score_seq's sliding window (counted in `windowed`).
 *
 * Standard errors: acc, acc_norm and acc_bytes binomial, sqrt(p(1-p)/n); logp, prob and edit the sample
 * standard error of the mean, s/sqrt(n) (NAN for n < 2); seq's pooled ratios by a bootstrap over
 * items (the tokens of one item are not independent, so neither formula applies).
 *
 *   lms_evaluator *ev;
 *   lms_eval_config ec = lms_eval_defaults();
 *   if (lms_evaluator_create(&ev, lm.gpt, lm.tok, &ec, &err)) return fail(err);
 *   lms_eval_result r;
 *   if (lms_eval_suite_file(ev, "data/suites/capitals.jsonl", &r, &err)) return fail(err);
 *   for (int i = 0; i < r.n_rows; i++) ... r.row[i].acc, r.row[i].acc_se ...
 *   lms_eval_result_free(&r);
 *   lms_evaluator_free(ev);
 *
 * Per-item records (--log-samples): with config.on_item set, every item is handed to it once, in
 * file order, after it is scored (lms_eval_item), with the numbers the aggregates are made of.
 * The evaluator then keeps the window's item texts and per-token scores (bounded by the window);
 * nothing of the suite as a whole is collected. eval/samples.h writes them as JSON Lines.
 *
 * Threads: the kernels' (OpenMP). Leaves out: reading suites (suite.h), opening models (lm.h),
 * printing (src/cli/cmd_eval.c).
 */
#ifndef LMS_EVAL_EVALUATE_H
#define LMS_EVAL_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/loader.h"
#include "eval/suite.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"
#include "train/validate.h"

typedef struct lms_eval_item lms_eval_item;

/* Called once per scored item (see lms_eval_item); a status other than LMS_OK (with err filled)
   stops the suite with that status. */
typedef lms_status (*lms_eval_item_fn)(const lms_eval_item *item, void *user, lms_err *err);

typedef struct {
    int batch;       /* (context, continuation) rows per lms_gpt_score call; 0: auto (16, fewer when the
                        scorer for n_ctx would exceed 1 GiB) */
    int show;        /* keep the first `show` items of each suite with their details (lms_eval_shown) */
    int gen_extra;   /* gen: tokens generated beyond the target's token count (>= 0) */
    int bootstrap;   /* seq: bootstrap resamples for the standard errors (>= 2) */
    uint64_t seed;   /* bootstrap seed */
    lms_eval_item_fn on_item; /* NULL: no per-item records */
    void *item_user;          /* passed to on_item */
} lms_eval_config;

/* batch 0 (auto), show 0, gen_extra 4, bootstrap 1000, seed 1, no on_item. */
lms_eval_config lms_eval_defaults(void);

/* One item kept for display. Strings are owned (NUL-terminated copies). */
typedef struct {
    lms_item_kind kind;
    int64_t line;
    char *context;
    char *meta;             /* compact JSON or NULL */
    int n_choices;          /* mc */
    char **choices;         /* [n_choices] */
    double *logp;           /* [n_choices] summed log-likelihood of each choice, nats */
    double *prob;           /* [n_choices] renormalised over the choices */
    int answer, pick, pick_norm, pick_bytes;
    char *target;           /* gen/seq */
    char *output;           /* gen: the greedy output as compared (NULL otherwise) */
    double target_logp;     /* gen/seq: summed log p of the target's tokens */
    int64_t target_tokens;  /* gen/seq */
    int64_t top1;           /* seq: target tokens ranked first */
    int correct;            /* mc: pick == answer; gen: exact match; seq: every token ranked first */
    int64_t edit;           /* gen: token edit distance */
    int truncated;          /* 1: context left-truncated (or a sliding window used) */
} lms_eval_shown;

/* One scored item for lms_eval_config.on_item. Every pointer is valid during the call only.
   Arrays [n_choices] are mc's; gen and seq items have n_choices 0 and use the target fields. */
struct lms_eval_item {
    const char *suite;            /* the suite's name (lms_suite_name) */
    lms_item_kind kind;
    int64_t index;                /* 0-based position among the suite's items, in file order */
    int64_t line;                 /* the item's first line in the file */
    const char *context;          /* as given in the suite (before any truncation) */
    size_t context_len;
    const char *meta;             /* the item's "meta" as compact JSON, or NULL */
    int n_choices;
    const char *const *choices;   /* [n_choices] as written in the suite */
    const size_t *choice_len;     /* [n_choices] bytes */
    const int64_t *choice_chars;  /* [n_choices] Unicode code points (acc_norm's divisor) */
    const double *logp;           /* [n_choices] summed log-likelihood, nats */
    const int64_t *tokens;        /* [n_choices] continuation tokens scored */
    const int *greedy;            /* [n_choices] 1: every token of the continuation ranked first (greedy
                                     decoding would produce it; lm-evaluation-harness's is_greedy) */
    int answer;                   /* mc; -1 otherwise */
    int pick, pick_norm, pick_bytes; /* mc: argmax of logp, of logp/chars, of logp/bytes; -1 otherwise */
    int correct;                  /* mc: pick == answer; gen: exact match; seq: every token ranked first */
    int correct_norm, correct_bytes; /* mc; -1 otherwise */
    double prob;                  /* mc: the answer's probability renormalised over the choices; NAN otherwise */
    const char *target;           /* gen/seq, else NULL */
    size_t target_len;
    const char *output;           /* gen: the greedy output as compared (cut before a newline when the
                                     target has none), else NULL */
    size_t output_len;
    int64_t edit;                 /* gen: token edit distance; -1 otherwise */
    double target_logp;           /* gen/seq: the target's summed log p */
    int64_t target_tokens;        /* gen/seq */
    int64_t top1;                 /* gen/seq: target tokens ranked first */
    const float *token_logp;      /* gen/seq: [target_tokens] log p of each target token */
    const int32_t *token_rank;    /* gen/seq: [target_tokens] its rank (1 = the model's first choice) */
    int truncated;                /* 1: the context was cut on the left (or a sliding window used) */
    int windowed;                 /* 1: a continuation alone exceeded the context (sliding window) */
};

/* The aggregates of one suite's items of one kind. Fields that do not apply are NAN. */
typedef struct {
    char suite[256];        /* the suite's name; "<name>/<kind>" when a suite mixes kinds */
    lms_item_kind kind;
    int64_t n;              /* items */
    double chance;          /* mc: mean of 1/choices; gen/seq: 0 */
    double acc, acc_se;
    double acc_norm, acc_norm_se;   /* mc: normalised by characters (lm-evaluation-harness's acc_norm) */
    double acc_bytes, acc_bytes_se; /* mc: normalised by bytes (lm-evaluation-harness's acc_bytes) */
    double logp, logp_se;
    double prob, prob_se;
    double edit, edit_se;
    int64_t truncated;      /* items whose context was cut on the left to fit the model's context */
    int64_t windowed;       /* items whose continuation alone exceeded the context (sliding window) */
    int64_t tokens_scored;  /* continuation tokens scored */
    double time_s;          /* seconds spent on the whole suite (all kinds) */
    int n_shown;
    lms_eval_shown *shown;  /* [n_shown], the first items of this kind in file order */
} lms_eval_row;

typedef struct {
    int n_rows;             /* 0 for a suite without items */
    lms_eval_row row[3];    /* one per kind present, in the order mc, gen, seq */
} lms_eval_result;

typedef struct lms_evaluator lms_evaluator;

/* An evaluator for model m with tokenizer tok (both must outlive it; tok's ids must be below
   the model's vocabulary, as lms_lm_open guarantees: LMS_ERR_MISMATCH otherwise). Allocates the
   scorer (lms_scorer_bytes of batch x n_ctx). LMS_ERR_ARG for a bad config, LMS_ERR_NOMEM. */
lms_status lms_evaluator_create(lms_evaluator **out, const lms_gpt *m, const lms_tokenizer *tok,
                                const lms_eval_config *c, lms_err *err);
void lms_evaluator_free(lms_evaluator *ev); /* NULL is fine */

/* Score every item of an open suite (read to its end). *r is filled (zeroed first; free with
   lms_eval_result_free, also after a failure). LMS_ERR_FORMAT for a bad item ("file:line: ..."),
   including a choice or target that tokenizes to no tokens; LMS_ERR_NUMERIC when the model gives
   non-finite log-probabilities; LMS_ERR_IO, LMS_ERR_NOMEM. */
lms_status lms_eval_suite(lms_evaluator *ev, lms_suite *s, lms_eval_result *r, lms_err *err);
/* Same, opening (and closing) the file. */
lms_status lms_eval_suite_file(lms_evaluator *ev, const char *path, lms_eval_result *r, lms_err *err);
void lms_eval_result_free(lms_eval_result *r);

/* Per-domain validation loss and bits per byte of m over loader's validation set (at most
   max_batches batches, < 0: all), through a scorer sized for the loader's batches. The loader
   must have been opened with T <= n_ctx. See train/validate.h. */
lms_status lms_eval_domains(const lms_gpt *m, const lms_tokenizer *tok, const lms_loader *loader, int B, int T,
                            int max_batches, lms_val_result *r, lms_err *err);

/* ---- the statistics, exposed for tests ---- */

/* Standard error of an accuracy p over n items, by the "plus four" (Agresti-Coull, z = 2) rule:
   p~ = (p n + 2) / (n + 4), sqrt(p~ (1 - p~) / (n + 4)). Unlike sqrt(p (1 - p) / n) it is never 0,
   so a suite at 0% or 100% still has an honest error bar and a first correct item is not an
   infinitely significant jump (eval/shapes.h compares points by their errors). NAN for n < 1. */
double lms_eval_binomial_se(double p, int64_t n);

/* Running mean and variance (Welford). */
typedef struct {
    int64_t n;
    double mean, m2;
} lms_eval_stat;
void lms_eval_stat_push(lms_eval_stat *s, double x);
double lms_eval_stat_mean(const lms_eval_stat *s); /* NAN for n == 0 */
double lms_eval_stat_se(const lms_eval_stat *s);   /* sample sd / sqrt(n); NAN for n < 2 */

/* Bootstrap standard error of the ratio sum(num) / sum(den) over n items: `reps` resamples of n
   items with replacement (seeded), the sample standard deviation of the resampled ratios
   (resamples whose den sums to 0 are skipped). NAN for n < 2 or reps < 2. */
double lms_eval_bootstrap_ratio_se(const double *num, const double *den, int64_t n, int reps, uint64_t seed);

/* Levenshtein distance between two token sequences (insert, delete, substitute all cost 1);
   O(min(na, nb)) memory. Returns -1 when out of memory. */
int64_t lms_eval_edit_distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);

#endif
