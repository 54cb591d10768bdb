/* loader.h — training and validation batches from token shards, deterministic and resumable.
 *
 * Sources: a shard directory with manifest.json (per-domain train/val shards from
 * 'lmscope data prepare'); a directory or glob of llm.c .bin shards without a manifest (files
 * whose name holds "_val_" or ends in "_val.bin" are validation, the rest train; the domain is
 * the part of the name before "_train"/"_val", else "data"); a single .bin file; or tokens in
 * memory (lms_loader_from_tokens). A single .bin file and in-memory tokens are split: the last
 * 10% (at least T+1 tokens when the rest still holds a window) is validation, domain "data".
 *
 * Training sampling scheme. Batch number b (0, 1, 2, ...) is a pure function of (key, b), where
 * the key is an xoshiro256** state seeded from config.seed: a fresh generator is seeded from
 * (key, b) and, for each of the B rows in turn, (1) draws a uniform double u in [0,1) and picks
 * the first domain whose cumulative normalised weight exceeds u, (2) draws a window start
 * uniformly among all positions p of that domain's train shards with p + T + 1 <= shard length
 * (so windows never cross shard boundaries and every valid window is equally likely), and copies
 * tokens [p, p+T) to inputs and [p+1, p+T+1) to targets. Sampling is with replacement. The state
 * (lms_loader_state) is the key plus the batch counter, so restoring the state of step k yields
 * exactly the batches the uninterrupted loader yields from k on, whatever happened in between.
 *
 * Domain weights: NULL/"" = natural proportions (train tokens of each domain that has at least
 * one window); "quotes=2,novels=1" = relative weights, domains not named get weight 0;
 * "synth_addition=0.3,*=0.7" = the domains not named share 0.7 in their natural proportions.
 * Unknown names, negative or non-numeric weights, all-zero weights, or a weighted domain without
 * any shard of T+1 tokens are LMS_ERR_ARG errors naming the domains and sizes.
 *
 * Validation: per domain, non-overlapping windows (stride T, T+1 tokens each, targets shifted by
 * one) from the start of its validation shards, at most val_tokens_per_domain / T windows
 * (0 = 65536 tokens, < 0 = no cap; at least one window when the domain has one). Windows are
 * grouped B at a time into batches of a single domain; a domain's last batch is completed by
 * repeating its first windows (lms_loader_val_rows says how many rows are real). Batches are
 * ordered round robin over domains (batch 0 of every domain, then batch 1 of every domain that
 * has one, ...), so evaluating only the first k batches still covers the domains evenly. The set
 * never changes between calls. A domain whose validation shards hold fewer than T+1 tokens gets no
 * validation batches (a warning is logged).
 *
 *   lms_loader_config lc = {.B = 8, .T = 64, .seed = 1337, .weights = NULL};
 *   lms_loader *l;
 *   if (lms_loader_open(&l, "shards", &lc, &err)) return err.code;
 *   if (lms_loader_check_tokenizer(l, tok, &err)) return err.code;   // hash + vocab
 *   int32_t in[8 * 64], tg[8 * 64];
 *   lms_loader_next(l, in, tg);
 *   lms_loader_state s; lms_loader_get_state(l, &s);  ...save s in the checkpoint...
 *   lms_loader_free(l);
 */
#ifndef LMS_DATA_LOADER_H
#define LMS_DATA_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

typedef struct lms_loader lms_loader;

typedef struct {
    int B, T;                  /* batch rows and sequence length (>= 1 each) */
    uint64_t seed;
    const char *weights;       /* "domain=w,..." or NULL (natural); copied */
    int val_tokens_per_domain; /* validation cap per domain: 0 = 65536, < 0 = none */
} lms_loader_config;

typedef struct {
    uint64_t rng[4];  /* the sampling key */
    uint64_t batches; /* training batches drawn so far */
} lms_loader_state;

/* Open shards at `path` (see the top of this file). Fails with LMS_ERR_IO (missing files),
   LMS_ERR_FORMAT (bad shard or manifest, manifest counts not matching the files),
   LMS_ERR_MISMATCH (token ids above the manifest's vocabulary), LMS_ERR_ARG (bad config,
   weights, shards too short for T+1 tokens). *out is NULL on failure. */
lms_status lms_loader_open(lms_loader **out, const char *path, const lms_loader_config *c, lms_err *err);

/* In-memory tokens tok[n] (copied); vocab > 0 is the vocabulary size (ids must be below it),
   vocab <= 0: max id + 1. The last 10% is validation (see above). */
lms_status lms_loader_from_tokens(lms_loader **out, const uint32_t *tok, size_t n, int vocab,
                                  const lms_loader_config *c, lms_err *err);

void lms_loader_free(lms_loader *l); /* NULL is fine */

int lms_loader_vocab_size(const lms_loader *l);              /* manifest's, else max id + 1 */
int lms_loader_B(const lms_loader *l);                       /* rows per batch (config B) */
int lms_loader_T(const lms_loader *l);                       /* tokens per row (config T) */
const char *lms_loader_tokenizer_hash(const lms_loader *l);  /* manifest's; NULL if unknown */

/* LMS_ERR_MISMATCH with a message saying what to do when the shards were made with another
   tokenizer: the manifest's hash differs from `hash` (skipped when either is unknown/NULL), or
   a token id in the shards is >= vocab (vocab > 0). */
lms_status lms_loader_check_hash(const lms_loader *l, const char *hash, int vocab, lms_err *err);
/* Same with a tokenizer's hash and vocabulary size. */
lms_status lms_loader_check_tokenizer(const lms_loader *l, const lms_tokenizer *t, lms_err *err);

/* Next training batch: inputs[B*T], targets[B*T] (row-major [B,T]); advances the counter. */
void lms_loader_next(lms_loader *l, int32_t *inputs, int32_t *targets);
/* Same, also writing each row's domain index into row_domain[B] (may be NULL). */
void lms_loader_next_domains(lms_loader *l, int32_t *inputs, int32_t *targets, int *row_domain);

int lms_loader_num_domains(const lms_loader *l);
const char *lms_loader_domain_name(const lms_loader *l, int d);
double lms_loader_domain_weight(const lms_loader *l, int d);      /* normalised sampling weight */
uint64_t lms_loader_domain_train_tokens(const lms_loader *l, int d);
uint64_t lms_loader_domain_val_tokens(const lms_loader *l, int d); /* in the (capped) val windows */

int lms_loader_num_val_batches(const lms_loader *l);
/* Validation batch i (0 <= i < num_val_batches): inputs/targets [B*T]; *domain (may be NULL) is
   the domain name (lives as long as the loader). Same content on every call. */
void lms_loader_val_batch(const lms_loader *l, int i, int32_t *inputs, int32_t *targets, const char **domain);
int lms_loader_val_rows(const lms_loader *l, int i);       /* rows of batch i that are not repeats */
int lms_loader_val_domain(const lms_loader *l, int i);     /* domain index of batch i */

void lms_loader_get_state(const lms_loader *l, lms_loader_state *s);
void lms_loader_set_state(lms_loader *l, const lms_loader_state *s);

#endif
