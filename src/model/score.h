/* score.h — forward-only scoring: per-token log-probabilities of given targets, without the
 * activations that backward needs.
 *
 * A scorer holds the scratch of ONE layer for at most max_B x max_T tokens (the residual stream,
 * a LayerNorm output, qkv, the attention probabilities, the attention output, the MLP's hidden
 * layer) plus a bounded block of logit rows, so scoring a 124M model needs its weights plus a few
 * hundred MB at T = 1024, not the training plan (lms_scorer_bytes says exactly how much). Logits are
 * computed only for the positions that are scored (targets >= 0), in blocks of rows, so a
 * multiple-choice item whose continuation is 3 tokens pays for 3 output-layer rows, not T.
 *
 * Batches are right-padded: row b holds its tokens at positions 0..len_b-1 and anything valid
 * (e.g. 0) after; give target -1 wherever nothing is to be scored (padding, the context of a
 * multiple-choice item). Because attention is causal, padding never changes the scores of the
 * positions before it. Results are identical to lms_gpt_forward's losses (-logp) up to fp32
 * rounding; tests/test_score.c checks them against the PyTorch fixture.
 *
 *   lms_scorer *s;
 *   if (lms_scorer_create(&s, model, 8, 256, &err)) return fail(err);
 *   int64_t n = lms_gpt_score(s, inputs, targets, B, T, logp, rank);  // logp, rank: [B,T]
 *   lms_scorer_free(s);
 *
 * Threads: the model's kernel table and thread count (lms_gpt_set_backend, OpenMP). One scorer
 * must not be used from two threads at once; several scorers may share one model (the weights
 * are only read).
 * Leaves out: KV caching (infer.h), sampling (eval/generate.h), gradients (gpt.h).
 */
#ifndef LMS_MODEL_SCORE_H
#define LMS_MODEL_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "model/gpt.h"

typedef struct lms_scorer lms_scorer; /* opaque */

/* Scratch for batches of up to max_B x max_T tokens (1 <= max_T <= n_ctx). The model must
   outlive the scorer; its current parameters are read at every call. LMS_ERR_ARG for bad sizes,
   LMS_ERR_NOMEM. *out is NULL on failure. Free with lms_scorer_free (NULL is fine). */
lms_status lms_scorer_create(lms_scorer **out, const lms_gpt *m, int max_B, int max_T, lms_err *err);
void lms_scorer_free(lms_scorer *s);

/* Bytes a scorer for config c and max_B x max_T allocates (pure; 0 for invalid sizes). */
size_t lms_scorer_bytes(const lms_gpt_config *c, int max_B, int max_T);

int lms_scorer_max_B(const lms_scorer *s);
int lms_scorer_max_T(const lms_scorer *s);

/* Score a batch. inputs[B,T]: ids in [0, V) (LMS_ASSERT otherwise; validate first);
   targets[B,T]: the next token to score at each position, or < 0 for none.
   logp[B,T] (required): log p(targets[i] | inputs up to i) in nats, 0 where target < 0.
   rank[B,T] (may be NULL): 1 + the number of vocabulary entries with a strictly larger logit
   than the target's (1 = the model's top choice), 0 where target < 0.
   1 <= B <= max_B, 1 <= T <= max_T. Returns the number of scored positions. */
int64_t lms_gpt_score(lms_scorer *s, const int32_t *inputs, const int32_t *targets, int B, int T, float *logp,
                      int32_t *rank);

/* The same with the model's k most likely next tokens at every scored position as well (what
   the token was up against): top_id[B,T,k] (best first; -1 where not scored) and top_logp[B,T,k]
   (their log-probabilities), 0 <= k <= LMS_SCORE_MAX_TOP; k = 0 is lms_gpt_score. */
#define LMS_SCORE_MAX_TOP 10
int64_t lms_gpt_score_top(lms_scorer *s, const int32_t *inputs, const int32_t *targets, int B, int T, float *logp,
                          int32_t *rank, int k, int32_t *top_id, float *top_logp);

/* Score a token sequence of any length: logp[i] (and rank[i] if given) for i = 1 .. n-1 is the
   score of tok[i] given the tokens before it; logp[0] = 0, rank[0] = 0 (nothing precedes it).
   Sequences longer than the scorer's max_T are scored with a sliding window: every window holds
   max_T tokens and advances by max_T/2, and each token is scored in the first window where it has
   at least max_T/2 tokens of context (or in the first window). *windowed is set to 1 when that
   happened (the caller should say so), else 0 (may be NULL). Uses batch row 0 only. */
void lms_gpt_score_seq(lms_scorer *s, const int32_t *tok, size_t n, float *logp, int32_t *rank, int *windowed);
/* ... and with top-k alternatives: top_id[n,k], top_logp[n,k] (row 0 and unscored rows: -1 / 0). */
void lms_gpt_score_seq_top(lms_scorer *s, const int32_t *tok, size_t n, float *logp, int32_t *rank, int k,
                           int32_t *top_id, float *top_logp, int *windowed);

#endif
