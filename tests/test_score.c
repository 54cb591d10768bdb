/* test_score.c — forward-only scoring (model/score.h) against PyTorch and the training forward,
 * right-padded batches, ranks, the sliding window, memory; and generation (eval/generate.h).
 *
 * PyTorch truth: tests/fixtures/gpt_torch.bin's float64 logits for its parameters and batch
 * (tools/gen_torch_fixture.py); log-softmax of those at each target is the log-probability the
 * scorer must reproduce to 1e-4 nats, with the second row right-padded at several lengths.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "eval/generate.h"
#include "harness.h"
#include "model/score.h"
#include "torch_fixture.h"

/* log softmax(logits[row])[t] in double */
static double logp_of(const float *logits, int64_t V, int32_t t) {
    double mx = -1e300, s = 0;
    for (int64_t v = 0; v < V; v++) mx = logits[v] > mx ? logits[v] : mx;
    for (int64_t v = 0; v < V; v++) s += exp((double)logits[v] - mx);
    return (double)logits[t] - mx - log(s);
}

static void against_torch(int force_ref) {
    lms_cpu_force_reference(force_ref);
    fixture f;
    CHECK(load_fixture(&f));
    if (!f.raw) return;
    lms_err err = {0};
    lms_gpt *m = NULL;
    CHECK(lms_gpt_create_weights(&m, &f.cfg, &err) == LMS_OK);
    CHECK(lms_gpt_grads(m) == NULL); /* scoring allocates no gradients */
    memcpy(lms_gpt_params(m), f.params0, (size_t)f.P * sizeof(float));
    lms_scorer *s = NULL;
    CHECK(lms_scorer_create(&s, m, f.B, f.T, &err) == LMS_OK);
    const int B = f.B, T = f.T, V = f.cfg.vocab_size;
    int32_t *in = malloc(sizeof(int32_t) * B * T), *tg = malloc(sizeof(int32_t) * B * T);
    int32_t *rank = malloc(sizeof(int32_t) * B * T);
    float *lp = malloc(sizeof(float) * B * T);
    double worst = 0;
    int64_t checked = 0;
    /* the last row right-padded to every length 1..T (pad id 0, target -1) */
    for (int len = 1; len <= T; len++) {
        memcpy(in, f.inputs, sizeof(int32_t) * B * T);
        memcpy(tg, f.targets, sizeof(int32_t) * B * T);
        for (int t = len; t < T; t++) in[(B - 1) * T + t] = 0, tg[(B - 1) * T + t] = -1;
        int64_t expect = 0;
        for (int i = 0; i < B * T; i++) expect += tg[i] >= 0;
        CHECK(lms_gpt_score(s, in, tg, B, T, lp, rank) == expect);
        for (int i = 0; i < B * T; i++) {
            if (tg[i] < 0) {
                CHECK(lp[i] == 0.0f && rank[i] == 0);
                continue;
            }
            const float *lg = f.logits + (int64_t)i * V;
            double e = fabs(lp[i] - logp_of(lg, V, tg[i]));
            if (e > worst) worst = e;
            int32_t r = 1;
            for (int v = 0; v < V; v++) r += lg[v] > lg[tg[i]];
            CHECKF(rank[i] == r, "position %d: rank %d, torch logits give %d", i, rank[i], r);
            checked++;
        }
    }
    CHECKF(worst <= 1e-4, "max |logp - torch| = %.3g nats over %lld positions", worst, (long long)checked);
    /* the top-3 alternatives: torch's three largest logits and their log-softmax */
    int32_t top[64 * 3];
    float toplp[64 * 3];
    LMS_ASSERT(B * T * 3 <= 64 * 3);
    lms_gpt_score_top(s, f.inputs, f.targets, B, T, lp, NULL, 3, top, toplp);
    for (int i = 0; i < B * T; i++) {
        if (f.targets[i] < 0) {
            CHECK(top[i * 3] == -1);
            continue;
        }
        const float *lg = f.logits + (int64_t)i * V;
        int best[3] = {-1, -1, -1};
        for (int j = 0; j < 3; j++)
            for (int v = 0; v < V; v++)
                if ((j == 0 || v != best[0]) && (j < 2 || v != best[1]) && (best[j] < 0 || lg[v] > lg[best[j]])) best[j] = v;
        for (int j = 0; j < 3; j++) {
            CHECKF(top[i * 3 + j] == best[j], "position %d alternative %d: %d, torch %d", i, j, top[i * 3 + j], best[j]);
            CHECK_NEAR(toplp[i * 3 + j], logp_of(lg, V, best[j]), 1e-4);
        }
    }
    fprintf(stderr, "  %s kernels: max |logp - torch| = %.2g nats over %lld scored positions\n",
            force_ref ? "reference" : "optimized", worst, (long long)checked);
    free(in), free(tg), free(rank), free(lp);
    lms_scorer_free(s);
    lms_gpt_free(m);
    free(f.raw);
    lms_cpu_force_reference(0);
}

static void test_score_vs_torch_reference(void) { against_torch(1); }
static void test_score_vs_torch_optimized(void) { against_torch(0); }

static lms_gpt *random_model(int L, int NH, int C, int ctx, int V, uint64_t seed) {
    lms_gpt_config c = {.n_layer = L, .n_head = NH, .n_embd = C, .n_ctx = ctx, .vocab_size = V};
    lms_gpt *m = NULL;
    lms_err err = {0};
    LMS_ASSERT(lms_gpt_create(&m, &c, &err) == LMS_OK);
    lms_gpt_init(m, seed);
    /* larger than init so that predictions are not all alike */
    lms_rng r;
    lms_rng_seed(&r, seed + 1);
    float *p = lms_gpt_params(m);
    for (int64_t i = 0; i < lms_gpt_num_params(m); i++) p[i] += 0.08f * (float)lms_rng_normal(&r);
    return m;
}

/* Scoring equals the training forward's per-token losses, batch by batch, with a batch smaller
   than the scorer holds and positions left out of scoring. */
static void test_score_vs_forward(void) {
    const int B = 3, T = 37, V = 301;
    lms_gpt *m = random_model(2, 3, 24, 40, V, 7);
    lms_err err = {0};
    CHECK(lms_gpt_plan(m, B, T, &err) == LMS_OK);
    lms_scorer *s = NULL;
    CHECK(lms_scorer_create(&s, m, B + 2, T + 3, &err) == LMS_OK);
    int32_t in[B * T], tg[B * T], rk[B * T];
    float lp[B * T];
    lms_rng r;
    lms_rng_seed(&r, 3);
    for (int i = 0; i < B * T; i++) {
        in[i] = (int32_t)(lms_rng_u64(&r) % V);
        tg[i] = (i % 5 == 2) ? -1 : (int32_t)(lms_rng_u64(&r) % V);
    }
    lms_gpt_forward(m, in, tg, B, T);
    const float *losses = lms_gpt_losses(m), *logits = lms_gpt_logits(m);
    lms_gpt_score(s, in, tg, B, T, lp, rk);
    double worst = 0;
    for (int i = 0; i < B * T; i++) {
        if (tg[i] < 0) continue;
        double e = fabs(-lp[i] - losses[i]);
        if (e > worst) worst = e;
        int32_t want = 1;
        for (int v = 0; v < V; v++) want += logits[(int64_t)i * V + v] > logits[(int64_t)i * V + tg[i]];
        CHECKF(abs(rk[i] - want) <= (want > 1 ? 1 : 0), "pos %d rank %d want %d", i, rk[i], want);
    }
    CHECKF(worst <= 2e-5, "max |logp + loss| = %.3g", worst);
    lms_scorer_free(s);
    lms_gpt_free(m);
}

/* Long sequences: without a window the scores equal one batch; with a window every token is scored
   with at least max_T/2 tokens of context, i.e. equals the score of that token after exactly k
   preceding tokens for some k in [max_T/2, max_T]. */
static void test_score_seq_window(void) {
    const int V = 97, W = 16, n = 61;
    lms_gpt *m = random_model(2, 2, 16, 64, V, 11);
    lms_err err = {0};
    lms_scorer *sw = NULL, *sf = NULL;
    CHECK(lms_scorer_create(&sw, m, 1, W, &err) == LMS_OK);
    CHECK(lms_scorer_create(&sf, m, 1, 64, &err) == LMS_OK);
    int32_t tok[n], rk[n];
    float lp[n], lfull[n];
    lms_rng r;
    lms_rng_seed(&r, 5);
    for (int i = 0; i < n; i++) tok[i] = (int32_t)(lms_rng_u64(&r) % V);
    int windowed = -1;
    lms_gpt_score_seq(sf, tok, n, lfull, NULL, &windowed);
    CHECK(windowed == 0);
    lms_gpt_score_seq(sw, tok, n, lp, rk, &windowed);
    CHECK(windowed == 1);
    CHECK(lp[0] == 0.0f && rk[0] == 0);
    for (int i = 1; i <= W; i++) CHECKF(fabsf(lp[i] - lfull[i]) <= 1e-5f, "first window token %d", i);
    for (int i = W + 1; i < n; i++) {
        int found = 0;
        for (int k = W / 2; k <= W && !found; k++) {
            int32_t in[W], tg[W];
            float l[W];
            for (int j = 0; j < k; j++) in[j] = tok[i - k + j], tg[j] = -1;
            tg[k - 1] = tok[i];
            lms_gpt_score(sf, in, tg, 1, k, l, NULL);
            found = fabsf(l[k - 1] - lp[i]) <= 1e-5f;
        }
        CHECKF(found, "token %d: logp %g is not its score after any context of %d..%d tokens", i, lp[i], W / 2, W);
        CHECK(rk[i] >= 1 && rk[i] <= V);
    }
    lms_scorer_free(sw);
    lms_scorer_free(sf);
    lms_gpt_free(m);
}

/* A scorer for GPT-2 124M at T = 1024 needs one layer of activations, a small fraction of the
   training plan's. */
static void test_scorer_memory(void) {
    lms_gpt_config c = {.n_layer = 12, .n_head = 12, .n_embd = 768, .n_ctx = 1024, .vocab_size = 50257};
    size_t sb = lms_scorer_bytes(&c, 1, 1024), tb = lms_gpt_activation_bytes(&c, 1, 1024);
    fprintf(stderr, "  GPT-2 124M, 1 x 1024: scorer %.1f MB, training activations %.1f MB\n", sb / 1e6, tb / 1e6);
    CHECK(sb > 0 && tb > 0);
    CHECK(sb * 5 < tb);
    CHECK(lms_scorer_bytes(&c, 1, 1025) == 0); /* beyond the context */
    lms_err err = {0};
    lms_scorer *s = NULL;
    lms_gpt *m = random_model(1, 1, 8, 8, 11, 1);
    CHECK(lms_scorer_create(&s, m, 1, 9, &err) == LMS_ERR_ARG && s == NULL && strstr(err.msg, "context"));
    lms_gpt_free(m);
}

/* Greedy generation through the library: equals the argmax of the full forward, step by step;
   stops at the end-of-text id without appending it (unless asked to go on); the callback can stop. */
static int count_cb(int32_t tok, void *user) {
    (void)tok;
    return ++*(int *)user >= 3;
}

static void test_generate(void) {
    const int V = 53;
    lms_gpt *m = random_model(2, 2, 16, 32, V, 21);
    lms_err err = {0};
    CHECK(lms_gpt_plan(m, 1, 32, &err) == LMS_OK);
    uint32_t prompt[3] = {5, 17, 2};
    lms_generate_config gc = lms_generate_defaults();
    gc.sampling.temperature = 0;
    gc.max_tokens = 12;
    lms_ids out = {0};
    lms_generate_stop why;
    CHECK(lms_generate(m, prompt, 3, &gc, &out, &why, &err) == LMS_OK);
    CHECK(out.n == 12 && why == LMS_GEN_MAX_TOKENS);
    /* reference: full forward over the growing sequence, argmax (lowest id on ties) */
    int32_t seq[32];
    int n = 3;
    for (int i = 0; i < 3; i++) seq[i] = (int32_t)prompt[i];
    for (size_t g = 0; g < out.n; g++) {
        lms_gpt_forward(m, seq, NULL, 1, n);
        const float *lg = lms_gpt_logits(m) + (int64_t)(n - 1) * V;
        int best = 0;
        for (int v = 1; v < V; v++) best = lg[v] > lg[best] ? v : best;
        CHECKF((int)out.ids[g] == best, "token %zu: generated %u, argmax %d", g, out.ids[g], best);
        seq[n++] = (int32_t)out.ids[g];
    }
    /* end of text: take the 4th greedy token as "eot": generation stops before it */
    int32_t eot = (int32_t)out.ids[3];
    size_t first = 0;
    while (out.ids[first] != (uint32_t)eot) first++;
    gc.eot = eot;
    lms_ids o2 = {0};
    CHECK(lms_generate(m, prompt, 3, &gc, &o2, &why, &err) == LMS_OK);
    CHECK(why == LMS_GEN_EOT && o2.n == first && memcmp(o2.ids, out.ids, first * sizeof(uint32_t)) == 0);
    gc.stop_at_eot = 0;
    lms_ids o3 = {0};
    CHECK(lms_generate(m, prompt, 3, &gc, &o3, &why, &err) == LMS_OK);
    CHECK(o3.n == 12 && memcmp(o3.ids, out.ids, 12 * sizeof(uint32_t)) == 0);
    int calls = 0;
    gc.on_token = count_cb;
    gc.user = &calls;
    lms_ids o4 = {0};
    CHECK(lms_generate(m, prompt, 3, &gc, &o4, &why, &err) == LMS_OK);
    CHECK(why == LMS_GEN_CALLBACK && o4.n == 3 && calls == 3);
    /* bad prompts are errors, not crashes */
    uint32_t bad[1] = {(uint32_t)V};
    lms_ids o5 = {0};
    CHECK(lms_generate(m, bad, 1, &gc, &o5, &why, &err) == LMS_ERR_ARG);
    CHECK(lms_generate(m, prompt, 0, &gc, &o5, &why, &err) == LMS_ERR_ARG);
    lms_ids_free(&out), lms_ids_free(&o2), lms_ids_free(&o3), lms_ids_free(&o4), lms_ids_free(&o5);
    lms_gpt_free(m);
}

TESTS(test_score_vs_torch_reference, test_score_vs_torch_optimized, test_score_vs_forward, test_score_seq_window,
      test_scorer_memory, test_generate)
