/* test_cuda_model.c — the whole model on the CUDA table against the CPU engine: loss and every
 * parameter's gradient (fp32), a 100-step training curve, KV-cache decoding against the full
 * forward, bit-exact resume on the device through the real checkpoint and optimizer files, and
 * two identical steps giving identical bits.
 * Device test: built by `make CUDA=1 cuda-tests`, run by tools/gpu_check.sh; it fails when no
 * CUDA device is usable. LMS_CUDA_TEST_FAKE=1 runs it on the CPU with a stand-in "device" table
 * (the optimized CPU table declared without LMS_BACKEND_HOST_MEMORY), which checks the test and the
 * host/device staging here, without a GPU; it says nothing about the CUDA kernels. LMS_CUDA_TEST_FAKE=ref uses the
 * reference table as the stand-in, so the curve test compares two CPU tables that differ in
 * rounding (the calibration of its envelope).
 *
 * Tolerances.
 *  - Loss and gradients vs the reference table (double accumulation): the bound, 1e-4
 *    relative: |loss_d - loss_r| <= 1e-4 |loss_r|, and per tensor ||g_d - g_r||₂ <= 1e-4 ||g_r||₂.
 *    The kernel tests bound each op at ~1e-5 of its scale; a 2-layer model chains ~30 ops, so
 *    errors of a few 1e-6 are expected, and any real bug (a missed accumulate, a wrong layout)
 *    errs by O(1) relative.
 *  - Training curve (device vs the CPU's optimized table, same data, AdamW, clipping): fp32 runs
 *    that differ only in rounding drift apart as training amplifies differences. Measured: the
 *    reference and the optimized CPU table (per-op differences ~1e-6, like the GPU's) stay within
 *    1.75e-7 relative over these 100 steps (LMS_CUDA_TEST_FAKE=ref shows it). The test applies the
 *    issue's fp32 bound at every step, |loss_d - loss_c| <= 1e-4 |loss_c|, and requires the loss
 *    to fall by 30%.
 *  - Decoding: as tests/test_infer.c, 2e-5 · max|logits of the row| + 1e-6.
 *  - Scoring (score.c on the device vs the CPU scorer): log-probabilities within the loss bound,
 *    1e-4 (|logp| + 1); the best token equal wherever the top two are more than 1e-3 apart.
 *  - Resume and determinism: bit-equal.
 *
 * Leaves out: bf16, multiple GPUs, speed (tools/gpu_check.sh runs the benchmark).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "model/infer.h"
#include "model/score.h"
#include "optim/optim.h"

static const lms_ops *D;
static lms_ops FAKE;

static int have_device(void) {
    const char *fake = getenv("LMS_CUDA_TEST_FAKE");
    if (fake && (strcmp(fake, "1") == 0 || strcmp(fake, "ref") == 0)) {
        FAKE = fake[0] == 'r' ? *lms_ops_reference() : *lms_ops_fast();
        FAKE.name = "fake-device";
        FAKE.caps &= ~(unsigned)(LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE); /* device memory, no split decoding */
        D = &FAKE;
        return 1;
    }
    D = lms_ops_cuda();
    CHECKF(D != NULL, "no CUDA table: %s", lms_ops_cuda_unavailable());
    return D != NULL;
}

static lms_gpt_config small_config(void) {
    lms_gpt_config c = {.n_layer = 2, .n_head = 4, .n_embd = 64, .n_ctx = 40, .vocab_size = 97};
    return c;
}

/* a host copy of a device model's gradients (malloc'd) */
static float *grads_host(lms_gpt *m) {
    size_t bytes = (size_t)lms_gpt_num_params(m) * sizeof(float);
    float *h = malloc(bytes);
    lms_gpt_ops(m)->copy_d2h(h, lms_gpt_grads(m), bytes);
    return h;
}
static float *params_host(lms_gpt *m) {
    size_t bytes = (size_t)lms_gpt_num_params(m) * sizeof(float);
    float *h = malloc(bytes);
    lms_gpt_ops(m)->copy_d2h(h, lms_gpt_params(m), bytes);
    return h;
}

static void fill_batch(lms_rng *r, int32_t *in, int32_t *tg, int B, int T, int V, int with_ignored) {
    for (int i = 0; i < B * T; i++) in[i] = (int32_t)lms_rng_below(r, (uint64_t)V);
    for (int i = 0; i < B * T; i++) tg[i] = with_ignored && i % 7 == 3 ? -1 : (int32_t)lms_rng_below(r, (uint64_t)V);
}

static void test_loss_and_grads(void) {
    if (!have_device()) return;
    lms_gpt_config c = small_config();
    const int B = 3, T = 33;
    lms_err err = {0};
    lms_gpt *r = NULL, *d = NULL;
    CHECK(lms_gpt_create_on(&r, &c, lms_ops_reference(), 0, &err) == LMS_OK);
    lms_gpt_init(r, 42);
    CHECKF(lms_gpt_clone_on(&d, r, D, 0, &err) == LMS_OK, "%s", err.msg);
    if (!d) return;
    CHECK(lms_gpt_plan(r, B, T, &err) == LMS_OK && lms_gpt_plan(d, B, T, &err) == LMS_OK);
    lms_rng rng;
    lms_rng_seed(&rng, 9);
    int32_t in[B * T], tg[B * T];
    fill_batch(&rng, in, tg, B, T, c.vocab_size, 1);
    lms_gpt_zero_grad(r);
    lms_gpt_zero_grad(d);
    float lr_ = lms_gpt_forward(r, in, tg, B, T), ld = lms_gpt_forward(d, in, tg, B, T);
    CHECKF(fabs((double)ld - lr_) <= 1e-4 * fabs((double)lr_), "loss: device %.9g reference %.9g", (double)ld, (double)lr_);
    lms_gpt_backward(r, 1.0f);
    lms_gpt_backward(d, 1.0f);
    float *gd = grads_host(d);
    const float *gr = lms_gpt_grads(r);
    double worst = 0.0;
    for (int i = 0; i < lms_gpt_num_tensors(r); i++) {
        const lms_tensor_info *t = lms_gpt_tensor(r, i);
        double num = 0.0, den = 0.0;
        for (int64_t j = 0; j < t->numel; j++) {
            double a = gd[t->offset + j], b = gr[t->offset + j];
            num += (a - b) * (a - b);
            den += b * b;
        }
        double rel = sqrt(num) / (sqrt(den) + 1e-30);
        if (rel > worst) worst = rel;
        CHECKF(rel <= 1e-4 && den > 0.0, "%s: relative gradient error %.3g (|g| %.3g)", t->name, rel, sqrt(den));
    }
    printf("  [%s] loss %.9g vs reference %.9g; worst per-tensor gradient error %.3g (bound 1e-4)\n", D->name, (double)ld,
           (double)lr_, worst);
    /* the same step again on the device: the same bits */
    lms_gpt_zero_grad(d);
    float ld2 = lms_gpt_forward(d, in, tg, B, T);
    lms_gpt_backward(d, 1.0f);
    float *gd2 = grads_host(d);
    CHECK(memcmp(&ld, &ld2, sizeof ld) == 0);
    CHECK(memcmp(gd, gd2, (size_t)lms_gpt_num_params(d) * sizeof(float)) == 0);
    free(gd);
    free(gd2);
    lms_gpt_free(r);
    lms_gpt_free(d);
}

/* Train n steps of batches drawn from rng (a learnable stream: a fixed random "text" of 61
   tokens, repeated, at random offsets). losses[s] receives each step's loss. */
static void train(lms_gpt *m, lms_adamw *o, lms_rng *rng, int n, float *losses) {
    enum { B = 4, T = 32, P = 61 };
    static int32_t text[P];
    lms_rng tr;
    lms_rng_seed(&tr, 77);
    for (int i = 0; i < P; i++) text[i] = (int32_t)lms_rng_below(&tr, (uint64_t)lms_gpt_get_config(m)->vocab_size);
    int32_t in[B * T], tg[B * T];
    for (int s = 0; s < n; s++) {
        for (int b = 0; b < B; b++) {
            int off = (int)lms_rng_below(rng, P);
            for (int t = 0; t < T; t++) {
                in[b * T + t] = text[(off + t) % P];
                tg[b * T + t] = text[(off + t + 1) % P];
            }
        }
        lms_gpt_zero_grad(m);
        float l = lms_gpt_forward(m, in, tg, B, T);
        lms_gpt_backward(m, 1.0f);
        lms_grad_clip_gpt(m, 1.0f);
        lms_adamw_step(o, m, 1e-3f);
        if (losses) losses[s] = l;
    }
}

static lms_adamw *make_opt(lms_gpt *m) {
    lms_adamw_config oc = lms_adamw_defaults();
    lms_adamw *o = NULL;
    lms_err err = {0};
    LMS_ASSERT(lms_adamw_create(&o, m, &oc, &err) == LMS_OK);
    return o;
}

static void test_training_curve(void) {
    if (!have_device()) return;
    enum { STEPS = 100 };
    lms_gpt_config c = small_config();
    lms_err err = {0};
    lms_gpt *h = NULL, *d = NULL;
    CHECK(lms_gpt_create(&h, &c, &err) == LMS_OK);
    lms_gpt_init(h, 5);
    CHECK(lms_gpt_clone_on(&d, h, D, 0, &err) == LMS_OK);
    CHECK(lms_gpt_plan(h, 4, 32, &err) == LMS_OK && lms_gpt_plan(d, 4, 32, &err) == LMS_OK);
    lms_adamw *oh = make_opt(h), *od = make_opt(d);
    float lh[STEPS], ld[STEPS];
    lms_rng r1, r2;
    lms_rng_seed(&r1, 3);
    lms_rng_seed(&r2, 3);
    train(h, oh, &r1, STEPS, lh);
    train(d, od, &r2, STEPS, ld);
    double worst = 0.0;
    int worst_s = 0;
    for (int s = 0; s < STEPS; s++) {
        double e = fabs((double)ld[s] - lh[s]) / fabs((double)lh[s]);
        if (e > worst) { worst = e; worst_s = s; }
    }
    printf("  [%s vs %s] %d steps: loss %.4f -> %.4f (cpu %.4f -> %.4f), worst relative gap %.3g at step %d\n", D->name,
           lms_gpt_ops(h)->name, STEPS, (double)ld[0], (double)ld[STEPS - 1], (double)lh[0], (double)lh[STEPS - 1], worst,
           worst_s);
    CHECKF(worst <= 1e-4, "training curves drift apart: %.3g at step %d", worst, worst_s);
    CHECKF(ld[STEPS - 1] < 0.7f * ld[0], "the device run did not learn: %.4f -> %.4f", (double)ld[0],
           (double)ld[STEPS - 1]);
    lms_adamw_free(oh);
    lms_adamw_free(od);
    lms_gpt_free(h);
    lms_gpt_free(d);
}

static void test_resume_bit_exact(void) {
    if (!have_device()) return;
    enum { N = 8 };
    lms_gpt_config c = small_config();
    lms_err err = {0};
    lms_gpt *h = NULL, *a = NULL, *b = NULL;
    CHECK(lms_gpt_create_weights(&h, &c, &err) == LMS_OK);
    lms_gpt_init(h, 11);
    CHECK(lms_gpt_clone_on(&a, h, D, 0, &err) == LMS_OK && lms_gpt_clone_on(&b, h, D, 0, &err) == LMS_OK);
    CHECK(lms_gpt_plan(a, 4, 32, &err) == LMS_OK && lms_gpt_plan(b, 4, 32, &err) == LMS_OK);
    lms_adamw *oa = make_opt(a), *ob = make_opt(b);
    lms_rng ra, rb;
    lms_rng_seed(&ra, 21);
    lms_rng_seed(&rb, 21);
    train(a, oa, &ra, 2 * N, NULL); /* straight through */
    train(b, ob, &rb, N, NULL);     /* half, then save, reload, finish */
    char dir[] = "/tmp/lms_cuda_resume_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char mp[128], op[128];
    snprintf(mp, sizeof mp, "%s/model.safetensors", dir);
    snprintf(op, sizeof op, "%s/optim.safetensors", dir);
    lms_gpt *hb = NULL;
    CHECK(lms_gpt_clone_on(&hb, b, lms_ops_get(), 0, &err) == LMS_OK);
    CHECKF(lms_checkpoint_save(mp, hb, NULL, &err) == LMS_OK, "%s", err.msg);
    CHECKF(lms_adamw_save(op, ob, b, NULL, &err) == LMS_OK, "%s", err.msg);
    lms_adamw_free(ob);
    lms_gpt_free(b);
    lms_gpt_free(hb);
    lms_gpt *loaded = NULL, *b2 = NULL;
    CHECKF(lms_checkpoint_load(&loaded, mp, &err) == LMS_OK, "%s", err.msg);
    CHECK(lms_gpt_clone_on(&b2, loaded, D, 0, &err) == LMS_OK);
    CHECK(lms_gpt_plan(b2, 4, 32, &err) == LMS_OK);
    lms_adamw *ob2 = make_opt(b2);
    CHECKF(lms_adamw_load(op, ob2, b2, NULL, &err) == LMS_OK, "%s", err.msg);
    CHECK(lms_adamw_t(ob2) == N);
    train(b2, ob2, &rb, N, NULL);
    float *pa = params_host(a), *pb = params_host(b2);
    CHECKF(memcmp(pa, pb, (size_t)lms_gpt_num_params(a) * sizeof(float)) == 0,
           "a run resumed from files after %d steps must equal the straight run bit for bit", N);
    free(pa);
    free(pb);
    unlink(mp);
    unlink(op);
    rmdir(dir);
    lms_adamw_free(oa);
    lms_adamw_free(ob2);
    lms_gpt_free(a);
    lms_gpt_free(b2);
    lms_gpt_free(loaded);
    lms_gpt_free(h);
}

static void test_decode_matches_forward(void) {
    if (!have_device()) return;
    lms_gpt_config c = small_config();
    const int T = 29;
    lms_err err = {0};
    lms_gpt *h = NULL, *d = NULL;
    CHECK(lms_gpt_create_weights(&h, &c, &err) == LMS_OK);
    lms_gpt_init(h, 13);
    CHECK(lms_gpt_clone_on(&d, h, D, 0, &err) == LMS_OK);
    CHECK(lms_gpt_plan(d, 1, T, &err) == LMS_OK);
    lms_rng rng;
    lms_rng_seed(&rng, 17);
    int32_t tok[T];
    for (int i = 0; i < T; i++) tok[i] = (int32_t)lms_rng_below(&rng, (uint64_t)c.vocab_size);
    lms_gpt_forward(d, tok, NULL, 1, T);
    int64_t V = c.vocab_size;
    float *full = malloc((size_t)(T * V) * sizeof(float));
    D->copy_d2h(full, lms_gpt_logits(d), (size_t)(T * V) * sizeof(float));
    lms_infer *s = NULL;
    CHECKF(lms_infer_create(&s, d, T, &err) == LMS_OK, "%s", err.msg);
    if (!s) return;
    CHECK(lms_infer_set_bf16(s, 1, &err) == LMS_ERR_UNSUPPORTED || D == &FAKE);
    lms_infer_set_bf16(s, 0, &err);
    double worst = 0.0;
    for (int t = 0; t < T; t++) {
        const float *lg = lms_infer_step(s, tok[t]), *ref = full + (int64_t)t * V;
        CHECK(lg != NULL);
        if (!lg) break;
        double mx = 0.0;
        for (int64_t v = 0; v < V; v++) mx = fabs(ref[v]) > mx ? fabs(ref[v]) : mx;
        for (int64_t v = 0; v < V; v++) {
            double e = fabs((double)lg[v] - ref[v]);
            if (e > worst) worst = e;
            if (!(e <= 2e-5 * mx + 1e-6)) {
                CHECKF(0, "t=%d v=%lld: step %.9g vs full %.9g", t, (long long)v, (double)lg[v], (double)ref[v]);
                t = T;
                break;
            }
        }
    }
    printf("  [%s] decoding vs full forward: worst logit gap %.3g\n", D->name, worst);
    lms_infer_free(s);
    free(full);
    lms_gpt_free(d);
    lms_gpt_free(h);
}

static void test_score_matches_cpu(void) {
    if (!have_device()) return;
    lms_gpt_config c = small_config();
    enum { B = 2, T = 33, K = 3, NS = 70 };
    lms_err err = {0};
    lms_gpt *h = NULL, *d = NULL;
    CHECK(lms_gpt_create_weights(&h, &c, &err) == LMS_OK);
    lms_gpt_init(h, 19);
    CHECK(lms_gpt_clone_on(&d, h, D, 0, &err) == LMS_OK);
    lms_scorer *sh = NULL, *sd = NULL;
    CHECK(lms_scorer_create(&sh, h, B, T, &err) == LMS_OK);
    CHECKF(lms_scorer_create(&sd, d, B, T, &err) == LMS_OK, "%s", err.msg);
    if (!sh || !sd) return;
    lms_rng rng;
    lms_rng_seed(&rng, 23);
    int32_t in[B * T], tg[B * T], rh[B * T], rd[B * T], ih[B * T * K], id[B * T * K];
    float lh[B * T], ld[B * T], th[B * T * K], td[B * T * K];
    fill_batch(&rng, in, tg, B, T, c.vocab_size, 1);
    int64_t nh = lms_gpt_score_top(sh, in, tg, B, T, lh, rh, K, ih, th);
    int64_t nd = lms_gpt_score_top(sd, in, tg, B, T, ld, rd, K, id, td);
    CHECK(nh == nd && nh > 0);
    int bad = 0;
    for (int i = 0; i < B * T; i++) {
        bad += !(fabs((double)ld[i] - lh[i]) <= 1e-4 * (fabs((double)lh[i]) + 1.0));
        if (tg[i] >= 0 && th[i * K] - th[i * K + 1] > 1e-3f) bad += ih[i * K] != id[i * K];
        for (int j = 0; j < K; j++) bad += !(fabs((double)td[i * K + j] - th[i * K + j]) <= 1e-4 * (fabs((double)th[i * K + j]) + 1.0));
    }
    CHECKF(bad == 0, "%d scores differ beyond the bound", bad);
    int32_t seq[NS];
    float sl_h[NS], sl_d[NS];
    for (int i = 0; i < NS; i++) seq[i] = (int32_t)lms_rng_below(&rng, (uint64_t)c.vocab_size);
    int wh = 0, wd = 0;
    lms_gpt_score_seq(sh, seq, NS, sl_h, NULL, &wh);
    lms_gpt_score_seq(sd, seq, NS, sl_d, NULL, &wd);
    CHECK(wh == 1 && wd == 1); /* longer than the window: the sliding path runs */
    for (int i = 0; i < NS; i++)
        if (!(fabs((double)sl_d[i] - sl_h[i]) <= 1e-4 * (fabs((double)sl_h[i]) + 1.0))) {
            CHECKF(0, "sequence position %d: device %.7g cpu %.7g", i, (double)sl_d[i], (double)sl_h[i]);
            break;
        }
    lms_scorer_free(sh);
    lms_scorer_free(sd);
    lms_gpt_free(h);
    lms_gpt_free(d);
}

TESTS(test_loss_and_grads, test_training_curve, test_resume_bit_exact, test_decode_matches_forward, test_score_matches_cpu)
