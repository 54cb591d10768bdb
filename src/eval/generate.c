/* generate.c — the decoding loop shared by 'sample', generation suites and the report (see
 * generate.h): feed the prompt through the KV cache, then pick, append and feed one token at a
 * time, sliding the window when the context is full.
 *
 * lms_generate_prompt turns a prompt into the ids decoding starts from.
 *
 * Leaves out: printing (the caller's on_token), tokenizing (tokenizer/).
 */
#include "eval/generate.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/infer.h"

struct lms_generator {
    const lms_gpt *m;
    lms_generate_config c;
    lms_infer *inf;
    lms_ids ctx; /* every token fed so far (prompt + generated), for the sliding window */
};

lms_generate_config lms_generate_defaults(void) {
    lms_generate_config c = {.max_tokens = 100,
                             .sampling = {.temperature = 0.8f, .top_k = 40, .top_p = 1.0f, .seed = 1},
                             .eot = -1,
                             .stop_at_eot = 1};
    return c;
}

static lms_status check_config(const lms_generate_config *c, lms_err *err) {
    if (c->max_tokens < 0) return lms_errf(err, LMS_ERR_ARG, "max_tokens is %d; it must be >= 0", c->max_tokens);
    lms_sampler *probe = NULL; /* checks the sampling config */
    lms_status st = lms_sampler_create(&probe, 1, &c->sampling, err);
    lms_sampler_free(probe);
    return st;
}

lms_status lms_generator_create(lms_generator **out, const lms_gpt *m, const lms_generate_config *c, lms_err *err) {
    *out = NULL;
    lms_status st = check_config(c, err);
    if (st) return st;
    lms_generator *g = calloc(1, sizeof *g);
    if (!g) return lms_errf(err, LMS_ERR_NOMEM, "out of memory creating a generator");
    g->m = m;
    g->c = *c;
    if ((st = lms_infer_create(&g->inf, m, lms_gpt_get_config(m)->n_ctx, err)) ||
        (c->bf16 && (st = lms_infer_set_bf16(g->inf, 1, err)))) {
        lms_generator_free(g);
        return st;
    }
    *out = g;
    return LMS_OK;
}

lms_status lms_generator_configure(lms_generator *g, const lms_generate_config *c, lms_err *err) {
    lms_status st = check_config(c, err);
    if (st) return st;
    int bf16 = g->c.bf16;
    g->c = *c;
    g->c.bf16 = bf16;
    return LMS_OK;
}

void lms_generator_free(lms_generator *g) {
    if (!g) return;
    lms_infer_free(g->inf);
    lms_ids_free(&g->ctx);
    free(g);
}

lms_status lms_generator_run(lms_generator *g, const uint32_t *prompt, size_t n_prompt, lms_ids *out,
                             lms_generate_stop *why, lms_err *err) {
    const lms_gpt_config *mc = lms_gpt_get_config(g->m);
    const int V = mc->vocab_size;
    if (why) *why = LMS_GEN_MAX_TOKENS;
    if (n_prompt < 1 || n_prompt > (size_t)mc->n_ctx)
        return lms_errf(err, LMS_ERR_ARG, "the prompt is %zu tokens; it must hold 1 to %d (the model's context)",
                        n_prompt, mc->n_ctx);
    for (size_t i = 0; i < n_prompt; i++)
        if (prompt[i] >= (uint32_t)V)
            return lms_errf(err, LMS_ERR_ARG, "prompt token %zu is id %u, beyond the model's vocabulary of %d", i,
                            prompt[i], V);
    lms_sampler *sampler = NULL;
    lms_status st = lms_sampler_create(&sampler, V, &g->c.sampling, err);
    if (st) return st;
    g->ctx.n = 0;
    lms_infer_reset(g->inf);
    const float *logits = NULL;
    for (size_t i = 0; i < n_prompt; i++) {
        if ((st = lms_ids_push(&g->ctx, prompt[i], err))) goto done;
        logits = lms_infer_step(g->inf, (int32_t)prompt[i]);
    }
    for (int generated = 0; generated < g->c.max_tokens; generated++) {
        int bad = 0; /* no early exit: a loop the compiler vectorises, ~1% of a decoding step */
        for (int v = 0; v < V; v++) bad |= !(fabsf(logits[v]) <= FLT_MAX);
        if (bad) {
            st = lms_errf(err, LMS_ERR_NUMERIC, "the model's logits are not finite (after %d generated tokens): its "
                          "weights hold NaN/Inf; the checkpoint is corrupt or the run diverged", generated);
            goto done;
        }
        int32_t next = lms_sampler_pick(sampler, logits);
        int is_eot = g->c.eot >= 0 && next == g->c.eot;
        if (is_eot && g->c.stop_at_eot) {
            if (why) *why = LMS_GEN_EOT;
            break;
        }
        if ((st = lms_ids_push(out, (uint32_t)next, err)) || (st = lms_ids_push(&g->ctx, (uint32_t)next, err))) goto done;
        if (g->c.on_token && g->c.on_token(next, g->c.user)) {
            if (why) *why = LMS_GEN_CALLBACK;
            break;
        }
        if (generated + 1 == g->c.max_tokens) break;
        if (lms_infer_pos(g->inf) >= mc->n_ctx) {
            /* the cache is full: slide, keeping the newest half of the context */
            size_t keep = (size_t)(mc->n_ctx / 2 > 0 ? mc->n_ctx / 2 : 1);
            lms_infer_reset(g->inf);
            for (size_t i = g->ctx.n - keep; i + 1 < g->ctx.n; i++) lms_infer_step(g->inf, (int32_t)g->ctx.ids[i]);
        }
        logits = lms_infer_step(g->inf, next);
    }
done:
    lms_sampler_free(sampler);
    return st;
}

lms_status lms_generate(const lms_gpt *m, const uint32_t *prompt, size_t n_prompt, const lms_generate_config *c,
                        lms_ids *out, lms_generate_stop *why, lms_err *err) {
    lms_generator *g;
    lms_status st = lms_generator_create(&g, m, c, err);
    if (st) return st;
    st = lms_generator_run(g, prompt, n_prompt, out, why, err);
    lms_generator_free(g);
    return st;
}

uint32_t lms_generate_start_token(const lms_tokenizer *tok) {
    int64_t id = lms_tokenizer_eot(tok);
    if (id < 0) id = lms_tokenizer_find(tok, "\n", 1);
    return id < 0 ? 0 : (uint32_t)id;
}

lms_status lms_generate_prompt(const lms_tokenizer *tok, const char *text, size_t len, int n_ctx, lms_ids *ids, lms_err *err) {
    lms_status st = len ? lms_tokenizer_encode(tok, text, len, ids, err) : lms_ids_push(ids, lms_generate_start_token(tok), err);
    if (st) return st;
    if (ids->n > (size_t)n_ctx)
        return lms_errf(err, LMS_ERR_ARG, "the prompt is %zu tokens but this model's context is %d; shorten the prompt", ids->n,
                        n_ctx);
    return LMS_OK;
}
