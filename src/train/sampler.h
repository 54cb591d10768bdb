/* sampler.h — pick the next token from logits: greedy (temperature 0), temperature, top-k and
 * top-p (nucleus), with a seeded RNG so the same seed gives the same text; plus a helper that says
 * how much of a byte stream is complete UTF-8, so text can be streamed without splitting a
 * character across writes.
 *
 *   lms_sampler_config sc = {.temperature = 0.8f, .top_k = 40, .top_p = 1.0f, .seed = 1};
 *   lms_sampler *s;
 *   if (lms_sampler_create(&s, vocab, &sc, &err)) return fail(err);
 *   int32_t next = lms_sampler_pick(s, logits);   // logits [vocab], not modified
 *   lms_sampler_free(s);
 *
 * Leaves out: repetition penalties, beam search, the decoding loop itself (the CLI drives
 * src/model/infer.h).
 */
#ifndef LMS_TRAIN_SAMPLER_H
#define LMS_TRAIN_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct {
    float temperature; /* 0: greedy (argmax, lowest id on ties); > 0: softmax(logits / temperature) */
    int top_k;         /* keep the k most likely tokens; 0: all */
    float top_p;       /* keep the smallest set of most likely tokens whose mass reaches p; 1: all */
    uint64_t seed;
} lms_sampler_config;

typedef struct lms_sampler lms_sampler;

/* Checks the config (temperature >= 0, top_k >= 0, 0 < top_p <= 1: LMS_ERR_ARG otherwise) and
 * allocates scratch for `vocab` tokens. Free with lms_sampler_free. */
lms_status lms_sampler_create(lms_sampler **out, int vocab, const lms_sampler_config *c, lms_err *err);
void lms_sampler_free(lms_sampler *s);

/* The next token id in [0, vocab). logits: [vocab]. Non-finite logits count as -infinity; if all
 * are, returns the argmax rule's answer (0). */
int32_t lms_sampler_pick(lms_sampler *s, const float *logits);

/* Number of leading bytes of buf[0..n) that end on a UTF-8 character boundary: a trailing lead byte
 * whose continuation bytes have not all arrived is held back (at most 3 bytes). Bytes that can never
 * become valid UTF-8 count as complete, so output never stalls. */
size_t lms_utf8_complete(const char *buf, size_t n);

#endif
