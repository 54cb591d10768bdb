/* generate.h — text generation as a library function: KV-cache decoding (model/infer.h) plus a
 * sampling policy (train/sampler.h), shared by 'sample', generation-scored suites and the report.
 *
 *   lms_generate_config gc = lms_generate_defaults();
 *   gc.max_tokens = 50; gc.sampling.temperature = 0;   // greedy
 *   lms_generator *g;
 *   if (lms_generator_create(&g, model, &gc, &err)) return fail(err);
 *   lms_ids out = {0};
 *   lms_generate_stop why;
 *   if (lms_generator_run(g, prompt_ids, n_prompt, &out, &why, &err)) ...;   // out: new ids only
 *   lms_generator_free(g);
 *
 * Generation stops after max_tokens, when the model emits the end-of-text token (which is not
 * appended, unless stop_at_eot is 0), or when on_token returns nonzero. When the context fills,
 * the cache restarts from the newest n_ctx/2 tokens (a sliding window). A prompt longer than the
 * context is LMS_ERR_ARG (the caller decides how to shorten it). Non-finite logits stop with
 * LMS_ERR_NUMERIC (the weights hold NaN/Inf).
 *
 * Leaves out: batched generation, beam search, repetition penalties.
 */
#ifndef LMS_EVAL_GENERATE_H
#define LMS_EVAL_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"
#include "train/sampler.h"

typedef struct {
    int max_tokens;               /* tokens to generate at most (>= 0) */
    lms_sampler_config sampling;  /* temperature 0 = greedy */
    int64_t eot;                  /* end-of-text id, or -1 for none (lms_tokenizer_eot gives it) */
    int stop_at_eot;              /* 1 (default): stop when eot is generated and do not append it */
    int bf16;                     /* decode with bf16 weight copies (infer.h) */
    /* Called after each generated token (eot included when it is appended); nonzero stops. */
    int (*on_token)(int32_t token, void *user);
    void *user;
} lms_generate_config;

typedef enum {
    LMS_GEN_MAX_TOKENS = 0, /* generated max_tokens */
    LMS_GEN_EOT,            /* the model produced the end-of-text token */
    LMS_GEN_CALLBACK        /* on_token asked to stop */
} lms_generate_stop;

/* max_tokens 100, temperature 0.8, top_k 40, top_p 1, seed 1, eot -1, stop_at_eot 1, bf16 0. */
lms_generate_config lms_generate_defaults(void);

typedef struct lms_generator lms_generator;

/* Decoding state for model m (which must outlive it) on the current thread count.
   LMS_ERR_ARG for a bad sampling config, LMS_ERR_NOMEM. */
lms_status lms_generator_create(lms_generator **out, const lms_gpt *m, const lms_generate_config *c, lms_err *err);
void lms_generator_free(lms_generator *g);

/* Generate after prompt[n_prompt] (1 <= n_prompt <= n_ctx, ids < vocab: LMS_ERR_ARG otherwise).
   The sampler restarts from the config's seed at every run, so a run is a pure function of the
   prompt. Appends the new ids to *out (not the prompt). *why (may be NULL) says why it stopped.
   LMS_ERR_NUMERIC on non-finite logits (out holds what was generated before), LMS_ERR_NOMEM. */
lms_status lms_generator_run(lms_generator *g, const uint32_t *prompt, size_t n_prompt, lms_ids *out,
                             lms_generate_stop *why, lms_err *err);

/* Replace the generator's config for the runs that follow (a server changes the sampling per
   request without reallocating the cache). bf16 keeps the value given at create (c->bf16 is not
   read). LMS_ERR_ARG for a bad config (the generator keeps its old one). */
lms_status lms_generator_configure(lms_generator *g, const lms_generate_config *c, lms_err *err);

/* The token generation starts from when there is no prompt (and a scorer puts before an empty
   context): end-of-text, else the token for a newline (byte 10 is id 10 only in the byte tokenizer;
   GPT-2-style vocabularies put it elsewhere), else 0. */
uint32_t lms_generate_start_token(const lms_tokenizer *tok);

/* The prompt's ids, appended to *ids: text[len] encoded with tok, or for len 0 the start token.
   LMS_ERR_ARG when they are more than n_ctx (the message gives both counts and says to shorten the
   prompt); the encoder's status otherwise. */
lms_status lms_generate_prompt(const lms_tokenizer *tok, const char *text, size_t len, int n_ctx, lms_ids *ids, lms_err *err);

/* One-shot: create, run, free. */
lms_status lms_generate(const lms_gpt *m, const uint32_t *prompt, size_t n_prompt, const lms_generate_config *c,
                        lms_ids *out, lms_generate_stop *why, lms_err *err);

#endif
