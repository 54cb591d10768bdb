/* tokloss.h — per-token loss: each token of a text with its log-probability, the rank of the true
 * token and its class; the difference between two models on the same text; and the aggregate
 * loss by token class and frequency bucket over a validation set ("which tokens are easy, which
 * are hard"). The numbers come from model/score.h (lms_gpt_score / lms_gpt_score_seq), so they are
 * the same as every other loss lmscope reports.
 *
 * The first token. A text's first token has nothing to be predicted from. When the tokenizer has
 * <|endoftext|>, it is prepended (as GPT-2 evaluations do, and as every document in lmscope's
 * shards is preceded by it), so every token of the text is scored; the prepended token is entry 0
 * of the result, with len 0 and scored = 0. Without an end-of-text token (the byte tokenizer) the
 * text's first token is not scored. 'score', 'inspect' and the HTML page all follow this rule.
 *
 * Token classes (one per token, first rule that applies):
 *   special        the <|endoftext|> token
 *   whitespace     only whitespace (spaces, tabs, newlines, Unicode spaces)
 *   word-initial   holds a letter and starts with a space or tab, or follows a word boundary (the
 *                  previous token ends with whitespace, e.g. a newline, or is <|endoftext|>, or
 *                  there is none: with the byte tokenizer a word's first letter is word-initial)
 *   continuation   holds a letter otherwise (the rest of a word)
 *   digits         holds a digit (and no letter)
 *   punctuation    anything else (ASCII and Unicode punctuation and symbols)
 * Bytes of an incomplete UTF-8 character (byte-level BPE splits some characters) count as
 * letters. Frequency buckets rank token ids by their count in the training shards: top 100,
 * 100-1k, 1k-10k, rarer, and never seen.
 *
 *   lms_tokloss r;
 *   if (lms_tokloss_text(&r, gpt, tok, text, len, &(lms_tokloss_opts){.top_k = 5}, &err)) ...;
 *   for (size_t i = 0; i < r.n; i++) if (r.tok[i].scored) printf("%f\n", r.tok[i].logp);
 *   lms_tokloss_free(&r);
 *
 * Leaves out: printing and colours (cli/cmd_score.c, cli/cmd_inspect.c), the HTML page
 * (eval/tokhtml.h), probe suites (eval/suite.h).
 */
#ifndef LMS_EVAL_TOKLOSS_H
#define LMS_EVAL_TOKLOSS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/loader.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

#define LMS_TOKLOSS_MAX_TOP 10 /* alternatives kept per token, at most */
#define LMS_TOKLOSS_CMP_TOP 10 /* tokens listed in each direction by a comparison */

typedef enum {
    LMS_TC_WORD_INITIAL = 0,
    LMS_TC_CONTINUATION,
    LMS_TC_PUNCT,
    LMS_TC_DIGITS,
    LMS_TC_SPACE,
    LMS_TC_SPECIAL,
    LMS_TC_N
} lms_tok_class;

typedef enum { LMS_FB_TOP100 = 0, LMS_FB_1K, LMS_FB_10K, LMS_FB_RARE, LMS_FB_UNSEEN, LMS_FB_N } lms_freq_bucket;

const char *lms_tok_class_name(int c);   /* "word-initial", "continuation", ... ("?" out of range) */
const char *lms_freq_bucket_name(int b); /* "top-100", "100-1k", "1k-10k", "rarer", "unseen" */

/* Class of a token whose raw bytes are s[0..len). boundary: the token follows a word boundary
   (see the top of the file); special: it is the <|endoftext|> token. */
lms_tok_class lms_tok_classify(const char *s, size_t len, int boundary, int special);

/* Does the token text s[0..len) end with whitespace (so the next token starts a word)? */
int lms_tok_ends_space(const char *s, size_t len);

typedef struct {
    uint32_t id;
    size_t off, len; /* the token's bytes in the text: text[off .. off+len); len 0 for a prepended EOT */
    int scored;      /* 0 for the first token (nothing precedes it) */
    float logp;      /* log p(token | the tokens before it), nats; 0 when not scored */
    int32_t rank;    /* 1 + number of tokens with a strictly larger logit; 0 when not scored */
    int cls;         /* lms_tok_class */
    int n_top;       /* alternatives filled (0 unless asked for) */
    uint32_t top_id[LMS_TOKLOSS_MAX_TOP];  /* the model's most likely tokens at this position, best first */
    float top_logp[LMS_TOKLOSS_MAX_TOP];
} lms_tokloss_tok;

typedef struct {
    size_t n;             /* entries in tok (a prepended EOT included) */
    lms_tokloss_tok *tok; /* [n], owned */
    int bos;              /* 1: <|endoftext|> was prepended (entry 0) */
    int windowed;         /* 1: longer than the context, scored with a sliding window */
    int n_ctx;            /* the model's context */
    int64_t scored;       /* scored tokens */
    int64_t bytes;        /* bytes of the scored tokens */
    double sum_logp;      /* nats, over scored tokens */
    double mean_loss;     /* -sum_logp / scored (NAN when nothing is scored) */
    double bpb;           /* -sum_logp / ln 2 / bytes (NAN when bytes == 0) */
} lms_tokloss;

typedef struct {
    int top_k;  /* alternatives per token, 0..LMS_TOKLOSS_MAX_TOP (from the same forward pass as the
                   score: lms_gpt_score_seq_top) */
    int no_bos; /* 1: do not prepend <|endoftext|> even when the tokenizer has it */
} lms_tokloss_opts;

/* Tokenize text[0..len) and score every token (see the top of the file). o may be NULL (defaults:
   no alternatives, EOT prepended when there is one). Fills *r (zeroed on failure; free with
   lms_tokloss_free). LMS_ERR_ARG: empty text, or a text that is one token with nothing to prepend
   (nothing to score), top_k out of range; LMS_ERR_MISMATCH: the tokenizer has ids the model has
   not; LMS_ERR_NOMEM. */
lms_status lms_tokloss_text(lms_tokloss *r, const lms_gpt *m, const lms_tokenizer *t, const char *text,
                            size_t len, const lms_tokloss_opts *o, lms_err *err);
void lms_tokloss_free(lms_tokloss *r); /* frees and zeroes; a zeroed r is fine */

/* The indices of the (at most) k scored tokens with the lowest log-probability, hardest first,
   into idx[k]; returns how many (ties keep text order). */
int lms_tokloss_hardest(const lms_tokloss *r, size_t *idx, int k);

/* LMS_ERR_MISMATCH (saying what differs) unless a and b are the same tokenizer (same hash). */
lms_status lms_tokloss_check_same_tokenizer(const lms_tokenizer *a, const char *name_a, const lms_tokenizer *b,
                                            const char *name_b, lms_err *err);

/* Per-token comparison of model B against model A on the same tokens. */
typedef struct {
    size_t n;                  /* = a->n = b->n */
    float *diff;               /* [n] logp_B - logp_A (nats; > 0: B is better); 0 where not scored; owned */
    int64_t scored;
    double mean_diff;          /* mean of diff over scored tokens */
    double threshold;          /* "much" better/worse: |diff| >= threshold */
    int64_t much_better, much_worse; /* tokens where B is much better / much worse */
    int n_better, n_worse;     /* entries in the lists below */
    size_t better[LMS_TOKLOSS_CMP_TOP]; /* indices of the largest diff > 0, largest first */
    size_t worse[LMS_TOKLOSS_CMP_TOP];  /* indices of the smallest diff < 0, smallest first */
} lms_tokloss_cmp;

/* Compare two results of lms_tokloss_text on the same text with the same tokenizer (the token ids
   must agree: LMS_ERR_MISMATCH otherwise). threshold > 0 (nats). Free with lms_tokloss_cmp_free. */
lms_status lms_tokloss_compare(lms_tokloss_cmp *c, const lms_tokloss *a, const lms_tokloss *b, double threshold,
                               lms_err *err);
void lms_tokloss_cmp_free(lms_tokloss_cmp *c);

/* Token counts [V] of the training shards of a shard directory with manifest.json: the domain
   named `domain`, or all domains (NULL). *counts is malloc'd (caller frees). LMS_ERR_IO without
   a manifest or shard; LMS_ERR_ARG for an unknown domain (the message lists the domains);
   LMS_ERR_FORMAT for a damaged shard. */
lms_status lms_tokloss_train_counts(uint64_t **counts, int V, const char *dir, const char *domain, lms_err *err);

/* Estimated token counts [V] where there are no shards to count (text files, manifest-less .bin):
   draws the loader's training batches of B x T (advancing its position) and counts the target
   tokens of the rows from domain `domain` (all when < 0) until `tokens` are counted or 4096 batches
   were drawn. Sampling is with replacement, so counts are proportional to frequency, not exact.
   *counts is malloc'd (caller frees); *counted (may be NULL) gets the tokens counted. LMS_ERR_NOMEM. */
lms_status lms_tokloss_sampled_counts(uint64_t **counts, int V, lms_loader *l, int B, int T, int domain, uint64_t tokens,
                                      uint64_t *counted, lms_err *err);

/* Frequency rank of every id from counts[V]: rank[id] = 0 for the most frequent (ties: smaller id
   first), -1 for ids never seen. LMS_ERR_NOMEM. */
lms_status lms_tokloss_freq_rank(const uint64_t *counts, int V, int32_t *rank, lms_err *err);
int lms_freq_bucket_of(int32_t rank); /* lms_freq_bucket of a frequency rank */

/* Aggregate loss of up to two models over a loader's validation set. */
typedef struct {
    int64_t tokens;
    double loss[2]; /* sums of -logp of model A and model B (B: 0 without a second model) */
} lms_tokloss_bin;

typedef struct {
    int n_models;                   /* 1 or 2 */
    lms_tokloss_bin all;
    lms_tokloss_bin cls[LMS_TC_N];
    lms_tokloss_bin freq[LMS_FB_N]; /* all zero without frequency ranks */
    int has_freq;
    int batches;                    /* validation batches scored */
    int V;
    int64_t *id_tokens;             /* [V] scored occurrences of each id (owned) */
    double *id_loss;                /* [V] sum of model A's -logp per id (owned) */
} lms_tokloss_breakdown;

/* Score the validation batches of loader, opened with batches of B x T (only the domain with index `domain`, or all when < 0;
   at most max_batches of them when > 0) with models[0] (and models[1] when n_models == 2), only
   the real rows of each batch, and add each target token's loss to its class and (when freq_rank
   [V] is given) its frequency bucket. The models' n_ctx must be at least the loader's T. tok gives
   each token's text. Fills *out (free with lms_tokloss_breakdown_free). LMS_ERR_ARG (no batch of
   that domain, context too short, n_models out of range), LMS_ERR_NOMEM. */
lms_status lms_tokloss_breakdown_run(lms_tokloss_breakdown *out, const lms_gpt *const *models, int n_models,
                                     const lms_tokenizer *tok, const lms_loader *loader, int B, int T, int domain,
                                     int max_batches, const int32_t *freq_rank, lms_err *err);
void lms_tokloss_breakdown_free(lms_tokloss_breakdown *b);

/* The ids with at least min_count scored occurrences, by mean loss of model A: the k easiest into
   easy[] and the k hardest into hard[] (ids; fewer when not enough qualify). Returns via *n_easy,
   *n_hard. */
void lms_tokloss_breakdown_extremes(const lms_tokloss_breakdown *b, int64_t min_count, int k, uint32_t *easy,
                                    int *n_easy, uint32_t *hard, int *n_hard);

/* Bytes of text s[0..len) to print/render so that no UTF-8 character is split: the longest prefix
   that does not end inside a character (bytes that cannot start or continue a character count as
   complete). Used to carry a split character's bytes over to the next token when displaying. */
size_t lms_tok_utf8_complete(const char *s, size_t len);

/* Decode one UTF-8 character at s[0..len) (len >= 1): returns its code point and sets *adv to its
   length, or returns -1 with *adv = 1 for a byte that does not start a complete, valid character. */
int32_t lms_utf8_decode(const char *s, size_t len, size_t *adv);

/* A printable, valid-UTF-8 form of token bytes s[0..len) into out[cap] (always NUL-terminated,
   cut at a character boundary when it does not fit): backslash, newline, tab and carriage return
   as \\, \n, \t, \r; other control bytes and bytes that are not valid UTF-8 as \xNN; everything
   else as it is. Returns out. */
char *lms_tok_escape(const char *s, size_t len, char *out, size_t cap);

#endif
