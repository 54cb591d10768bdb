/* validate.h — the validation loss of a model over a loader's validation set, per domain,
 * token-weighted, forward only (model/score.h). The trainer's periodic validation and
 * 'lmscope eval --domains' both call this one function.
 *
 *   lms_val_result r;
 *   if (lms_validate(scorer, loader, -1, tok, &r, &err)) ...;
 *   printf("%s: %.4f nats/token, %.4f bits/byte\n", r.domain[0].name, r.domain[0].loss, r.domain[0].bpb);
 *   lms_val_result_free(&r);
 *
 * Leaves out: choosing the validation windows (data/loader.h does), suites (eval/).
 */
#ifndef LMS_TRAIN_VALIDATE_H
#define LMS_TRAIN_VALIDATE_H

#include <stdint.h>

#include "core/status.h"
#include "data/loader.h"
#include "model/score.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    const char *name;   /* the loader's domain name (owned by the loader) */
    double loss_sum;    /* sum over scored tokens of -log p, nats */
    int64_t tokens;     /* scored tokens */
    int64_t bytes;      /* bytes of the scored target tokens' text (0 without a tokenizer) */
    double loss;        /* loss_sum / tokens (NAN when tokens == 0) */
    double bpb;         /* loss_sum / ln 2 / bytes (NAN without bytes) */
} lms_val_domain;

typedef struct {
    int n_domains;
    lms_val_domain *domain; /* [n_domains], in the loader's order */
    double loss;            /* over all scored tokens (token-weighted) */
    double bpb;             /* over all scored bytes; NAN without a tokenizer */
    int64_t tokens, bytes;
    int batches;            /* validation batches read */
} lms_val_result;

/* Score the first max_batches validation batches of loader (< 0: all of them; the loader orders
   them round robin over domains), only the real rows of each (lms_loader_val_rows). The scorer
   must hold batches of the loader's B x T. tok (may be NULL) gives each target token's byte length
   for bits per byte. *r is filled (free with lms_val_result_free). LMS_ERR_NOMEM. */
lms_status lms_validate(lms_scorer *s, const lms_loader *loader, int max_batches, const lms_tokenizer *tok,
                        lms_val_result *r, lms_err *err);
/* The same over only the batches i (of the first max_batches) with i % n_parts == part: one MPI
   rank's share of a validation split over ranks; the parts' sums add up to lms_validate's. */
lms_status lms_validate_part(lms_scorer *s, const lms_loader *loader, int max_batches, int part, int n_parts,
                             const lms_tokenizer *tok, lms_val_result *r, lms_err *err);
void lms_val_result_free(lms_val_result *r);

#endif
