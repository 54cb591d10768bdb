/* test_infer.c — KV-cache decoding against the model's full forward pass.
 *
 * For random small models (parameters drawn large enough that attention is sharp and LayerNorm
 * weights matter, so a wrong cache index or head offset changes the logits by O(1)), the logits
 * of decoding step t must equal the full forward pass's logits at position t, for every t.
 * Tolerance: both are fp32 with different summation orders (sgemm blocks vs SIMD strips), each
 * product of length K ≤ 4C errs by ~sqrt(K)·u relative, and L layers compound it; for these
 * sizes that is ~1e-6 of the logits' scale. We allow 2e-5 · max|logits of the row| + 1e-6, an
 * order of magnitude above that and five orders below what an indexing bug gives.
 *
 * The bfloat16 weight mode is checked the same way on models whose matrices are bf16 values, and
 * both are checked with every kernel table of the build (the model's table does the decoding).
 *
 * Leaves out: speed (bench/, `lmscope bench --sample`).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "model/gpt.h"
#include "model/infer.h"

static lms_gpt *make_model(int L, int NH, int C, int V, int n_ctx, uint64_t seed) {
    lms_gpt_config cfg = {.n_layer = L, .n_head = NH, .n_embd = C, .n_ctx = n_ctx, .vocab_size = V};
    lms_gpt *m = NULL;
    lms_err err = {0};
    if (lms_gpt_create(&m, &cfg, &err) != LMS_OK) return NULL;
    lms_rng r;
    lms_rng_seed(&r, seed);
    float *p = lms_gpt_params(m);
    for (int i = 0; i < lms_gpt_num_tensors(m); i++) {
        const lms_tensor_info *t = lms_gpt_tensor(m, i);
        float sc = t->ndim == 2 ? 1.5f / sqrtf((float)t->shape[0]) : 0.5f;
        if (strstr(t->name, "wte") || strstr(t->name, "wpe")) sc = 1.0f;
        for (int64_t j = 0; j < t->numel; j++) {
            float u = lms_rng_uniform(&r) * 2.0f - 1.0f;
            p[t->offset + j] = (strstr(t->name, "ln_") && strstr(t->name, "weight")) ? 1.0f + 0.5f * u : sc * u;
        }
    }
    return m;
}

/* Round every weight matrix (2-D tensor but wpe) to a bfloat16 value, so that bf16 decoding reads
   exactly the weights the fp32 forward uses and must match it as tightly as fp32 decoding does. */
static void round_matrices_to_bf16(lms_gpt *m) {
    float *p = lms_gpt_params(m);
    for (int i = 0; i < lms_gpt_num_tensors(m); i++) {
        const lms_tensor_info *t = lms_gpt_tensor(m, i);
        if (t->ndim != 2 || strstr(t->name, "wpe")) continue;
        for (int64_t j = 0; j < t->numel; j++) p[t->offset + j] = lms_bf16_to_f32(lms_bf16_from_f32(p[t->offset + j]));
    }
}

/* ops: the model's kernel table (NULL: the default), used by the forward and the decoding alike */
static void check_model_ops(int L, int NH, int C, int V, int T, int threads, uint64_t seed, int bf16, const lms_ops *ops) {
    lms_cpu_set_threads(threads);
    lms_gpt *m = make_model(L, NH, C, V, T + 3, seed);
    if (m && bf16) round_matrices_to_bf16(m);
    CHECK(m != NULL);
    if (!m) return;
    lms_err err = {0};
    if (ops) CHECK(lms_gpt_set_backend(m, ops, 0, &err) == LMS_OK);
    CHECK(lms_gpt_plan(m, 1, T, &err) == LMS_OK);
    int32_t *tok = malloc((size_t)T * sizeof(int32_t));
    lms_rng r;
    lms_rng_seed(&r, seed + 1);
    for (int t = 0; t < T; t++) tok[t] = (int32_t)lms_rng_below(&r, (uint64_t)V);
    lms_gpt_forward(m, tok, NULL, 1, T);
    const float *full = lms_gpt_logits(m);
    lms_infer *s = NULL;
    CHECK(lms_infer_create(&s, m, T, &err) == LMS_OK);
    if (!s) { free(tok); lms_gpt_free(m); return; }
    if (bf16) CHECK(lms_infer_set_bf16(s, 1, &err) == LMS_OK);
    for (int pass = 0; pass < 2; pass++) { /* the second pass checks reset */
        double worst = 0.0, spread = 0.0;
        for (int t = 0; t < T; t++) {
            CHECK(lms_infer_pos(s) == t);
            const float *lg = lms_infer_step(s, tok[t]);
            CHECK(lg != NULL);
            if (!lg) break;
            const float *ref = full + (int64_t)t * V;
            double mx = 0.0, mn = 1e30, mxv = -1e30;
            for (int v = 0; v < V; v++) {
                mx = fabs(ref[v]) > mx ? fabs(ref[v]) : mx;
                mn = ref[v] < mn ? ref[v] : mn;
                mxv = ref[v] > mxv ? ref[v] : mxv;
            }
            spread += mxv - mn;
            for (int v = 0; v < V; v++) {
                double e = fabs((double)lg[v] - ref[v]);
                if (e > worst) worst = e;
                if (!(e <= 2e-5 * mx + 1e-6)) {
                    CHECKF(0, "L=%d NH=%d C=%d V=%d t=%d v=%d: step %.9g vs full %.9g", L, NH, C, V, t, v, lg[v], ref[v]);
                    t = T; /* one message per model is enough */
                    break;
                }
            }
        }
        CHECK(spread / T > 1.0); /* the logits are far from uniform: the comparison has teeth */
        CHECK(lms_infer_step(s, 0) == NULL); /* full */
        CHECK(lms_infer_pos(s) == T);
        lms_infer_reset(s);
        CHECK(lms_infer_pos(s) == 0);
    }
    CHECK(lms_infer_step(s, -1) == NULL);
    CHECK(lms_infer_step(s, V) == NULL);
    CHECK(lms_infer_pos(s) == 0);
    lms_infer_free(s);
    free(tok);
    lms_gpt_free(m);
}

static void check_model_mode(int L, int NH, int C, int V, int T, int threads, uint64_t seed, int bf16) {
    check_model_ops(L, NH, C, V, T, threads, seed, bf16, NULL);
}

static void check_model(int L, int NH, int C, int V, int T, int threads, uint64_t seed) {
    check_model_mode(L, NH, C, V, T, threads, seed, 0);
}

static void test_matches_forward_small(void) {
    check_model(1, 1, 8, 11, 5, 1, 1);
    check_model(2, 3, 24, 37, 17, 2, 2);
    check_model(2, 2, 64, 300, 37, 2, 3);
}

static void test_matches_forward_wider(void) {
    /* wide enough that the step runs on 2 threads with several column strips, odd vocab */
    check_model(2, 4, 128, 257, 33, 2, 4);
    check_model(1, 3, 96, 65, 20, 1, 5);
}

/* bf16 weight copies: on a model whose matrices are already bf16 values, decoding equals the
   fp32 forward to the same tolerance; on an ordinary model it differs, but only by weight
   rounding (checked loosely: the argmax token mostly agrees), and turning it off restores fp32. */
static void test_bf16_weights(void) {
    check_model_mode(2, 3, 24, 37, 17, 2, 11, 1);
    check_model_mode(2, 4, 128, 257, 33, 2, 12, 1);
    check_model_mode(1, 1, 8, 11, 5, 1, 13, 1);

    lms_cpu_set_threads(2);
    int T = 20, V = 257;
    lms_gpt *m = make_model(2, 4, 128, V, T, 14);
    CHECK(m != NULL);
    if (!m) return;
    lms_err err = {0};
    lms_infer *s = NULL;
    CHECK(lms_infer_create(&s, m, T, &err) == LMS_OK);
    float *a = malloc((size_t)V * sizeof(float)), *b = malloc((size_t)V * sizeof(float));
    int agree = 0, differ = 0;
    for (int t = 0; t < T; t++) {
        int32_t tok = (t * 37) % V;
        lms_infer_reset(s);
        CHECK(lms_infer_set_bf16(s, 0, &err) == LMS_OK);
        for (int u = 0; u < t; u++) lms_infer_step(s, (u * 37) % V);
        memcpy(a, lms_infer_step(s, tok), (size_t)V * sizeof(float));
        lms_infer_reset(s);
        CHECK(lms_infer_set_bf16(s, 1, &err) == LMS_OK);
        for (int u = 0; u < t; u++) lms_infer_step(s, (u * 37) % V);
        memcpy(b, lms_infer_step(s, tok), (size_t)V * sizeof(float));
        int ia = 0, ib = 0;
        for (int v = 0; v < V; v++) {
            ia = a[v] > a[ia] ? v : ia;
            ib = b[v] > b[ib] ? v : ib;
            differ |= a[v] != b[v];
        }
        agree += ia == ib;
    }
    CHECK(differ);          /* the copies really are used */
    CHECK(agree >= T * 3 / 4);
    free(a);
    free(b);
    lms_infer_free(s);
    lms_gpt_free(m);
}

/* Decoding goes through the model's table: with every table of the build (the reference included,
   which LMS_FORCE_REFERENCE=1 selects) it matches the same table's forward, fp32 and bf16; and the
   reference really runs (its logits are not the optimized table's bits). */
static void test_every_table(void) {
    const lms_ops *t[8];
    int n = lms_ops_all(t, 8);
    for (int i = 0; i < n; i++) {
        /* the bf16 table's forward rounds activations to bf16 in its products, its decoding is the
           AVX-512 table's fp32 ops (tested above): the two differ by design */
        if (t[i] == lms_ops_bf16()) continue;
        check_model_ops(2, 3, 24, 37, 17, 2, 21, 0, t[i]);
        check_model_ops(2, 4, 128, 257, 33, 2, 22, 0, t[i]);
        check_model_ops(2, 4, 128, 257, 33, 2, 23, 1, t[i]);
    }
    lms_cpu_set_threads(2);
    lms_gpt *m = make_model(2, 4, 128, 257, 8, 24);
    CHECK(m != NULL);
    if (!m) return;
    lms_err err = {0};
    float *lg[2];
    for (int i = 0; i < 2; i++) {
        CHECK(lms_gpt_set_backend(m, i ? lms_ops_reference() : lms_ops_fast(), 0, &err) == LMS_OK);
        lms_infer *s = NULL;
        CHECK(lms_infer_create(&s, m, 8, &err) == LMS_OK);
        if (!s) return;
        const float *l = NULL;
        for (int p = 0; p < 8; p++) l = lms_infer_step(s, p * 5);
        lg[i] = malloc(257 * sizeof(float));
        memcpy(lg[i], l, 257 * sizeof(float));
        lms_infer_free(s);
    }
    CHECK(memcmp(lg[0], lg[1], 257 * sizeof(float)) != 0);
    free(lg[0]);
    free(lg[1]);
    lms_gpt_free(m);
}

static void test_bad_args(void) {
    lms_gpt *m = make_model(1, 1, 8, 11, 6, 9);
    CHECK(m != NULL);
    if (!m) return;
    lms_infer *s = (lms_infer *)1;
    lms_err err = {0};
    CHECK(lms_infer_create(&s, m, 0, &err) == LMS_ERR_ARG);
    CHECK(s == NULL);
    CHECK(lms_infer_create(&s, m, 7, &err) == LMS_ERR_ARG);
    CHECK(strstr(err.msg, "n_ctx") != NULL);
    CHECK(lms_infer_create(&s, m, 6, &err) == LMS_OK);
    CHECK(lms_infer_max_T(s) == 6);
    lms_infer_free(s);
    lms_infer_free(NULL);
    lms_gpt_free(m);
}

TESTS(test_matches_forward_small, test_matches_forward_wider, test_bf16_weights, test_every_table, test_bad_args)
