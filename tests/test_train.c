/* test_train.c — the training loop library: loss falls, metrics and config are written, resume and
 * interruption continue bit for bit, NaN stops without saving, gradient accumulation matches one
 * big batch, schedules are applied, config checks and round trips, the sampler and UTF-8 helper.
 * Tiny models (1 layer, width 32, context 16) on in-memory byte tokens: the whole file runs in
 * about a second. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "train_helpers.h"

#include "core/cpu.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "data/loader.h"
#include "model/gpt.h"
#include "optim/optim.h"
#include "train/sampler.h"
#include "train/train.h"

/* ---- helpers: rm_rf, make_tmpdir, the tokens, loader_for/loader_vocab, tiny_config ---- */

typedef struct {
    float loss[256], lr[256], val[256], norm[256];
    int64_t n, last_step;
    int stop_at;
    volatile sig_atomic_t *stop;
} recorder;

static void record(const lms_train_progress *p, void *user) {
    recorder *r = user;
    if (p->step < 256) {
        r->loss[p->step] = p->loss;
        r->lr[p->step] = p->lr;
        r->val[p->step] = p->val_loss;
        r->norm[p->step] = p->grad_norm;
    }
    r->n++;
    r->last_step = p->step;
    if (r->stop_at && p->step == r->stop_at) *r->stop = 1;
}

/* Open a new run in a fresh temp dir and train it to the end; returns the trainer (caller frees). */
static lms_train *run_new(const lms_train_config *c, recorder *rec, char **dir_out) {
    char *dir = make_tmpdir();
    char run[128];
    snprintf(run, sizeof run, "%s/run", dir);
    lms_err err = {0};
    lms_train *t = NULL;
    lms_status st = lms_train_open(&t, run, c, loader_for(c), &err);
    CHECKF(st == LMS_OK, "%s", err.msg);
    if (st) return NULL;
    lms_train_hooks h = {.progress = record, .user = rec};
    st = lms_train_run(t, &h, &err);
    CHECKF(st == LMS_OK, "%s", err.msg);
    if (dir_out) *dir_out = dir;
    return t;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

/* ---- tests ---- */

static void test_loss_decreases_and_files(void) {
    lms_train_config c = tiny_config();
    c.steps = 60;
    c.eval_interval = 20;
    recorder rec = {0};
    char *dir = NULL;
    lms_train *t = run_new(&c, &rec, &dir);
    if (!t) return;
    CHECK(rec.n == 60);
    double first = 0, last = 0;
    for (int i = 1; i <= 5; i++) first += rec.loss[i] / 5;
    for (int i = 56; i <= 60; i++) last += rec.loss[i] / 5;
    CHECKF(rec.loss[1] > 5.0 && rec.loss[1] < 6.0, "initial loss %g should be near ln(256) = 5.55", rec.loss[1]);
    CHECKF(last < first - 1.5, "loss did not fall: first %g, last %g", first, last);
    CHECK(!isnan(rec.val[20]) && !isnan(rec.val[60]) && isnan(rec.val[21]));
    CHECK(rec.val[60] < rec.val[20]);
    char p[256];
    snprintf(p, sizeof p, "%s/run/metrics.jsonl", dir);
    CHECK(count_lines(p) == 60);
    char *text = NULL;
    size_t len = 0;
    CHECK(lms_file_read_all(p, &text, &len, NULL) == LMS_OK);
    if (text) {
        const char *keys[] = {"\"step\":", "\"tokens\":", "\"flops\":", "\"loss\":", "\"val_loss\":", "\"lr\":",
                              "\"tokens_per_s\":", "\"grad_norm\":", "\"elapsed_s\":"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECKF(strstr(text, keys[i]), "no %s", keys[i]);
        /* cumulative exact FLOPs on the last line: steps x B x T x flops/token */
        char *lastl = strstr(text, "{\"step\":60,");
        CHECK(lastl != NULL);
        if (lastl) {
            double fl = strtod(strstr(lastl, "\"flops\":") + 8, NULL);
            double want = 60.0 * 4 * 16 * lms_gpt_flops_per_token(&c.model, 16);
            CHECK_NEAR(fl, want, want * 1e-12);
            CHECK(strtoll(strstr(lastl, "\"tokens\":") + 9, NULL, 10) == 60 * 4 * 16);
        }
        free(text);
    }
    /* config.json round-trips to the resolved config */
    snprintf(p, sizeof p, "%s/run/config.json", dir);
    lms_train_config back;
    lms_err err = {0};
    CHECKF(lms_train_config_load(&back, p, &err) == LMS_OK, "%s", err.msg);
    const lms_train_config *rc = lms_train_get_config(t);
    CHECK(memcmp(&back.model, &rc->model, sizeof back.model) == 0);
    CHECK(back.lr == rc->lr && back.steps == 60 && back.seed == 7 && back.threads == 2 && back.warmup == 2);
    CHECK(back.schedule == LMS_SCHED_CONSTANT && back.beta2 == rc->beta2 && back.eps == rc->eps);
    /* latest names the final checkpoint */
    char ck[512];
    snprintf(p, sizeof p, "%s/run", dir);
    CHECKF(lms_train_latest_checkpoint(p, ck, sizeof ck, &err) == LMS_OK, "%s", err.msg);
    CHECK(strstr(ck, "step_00000060.safetensors") != NULL);
    CHECK(lms_path_exists(ck));
    /* opening the same dir again as a new run is refused */
    lms_train *t2 = NULL;
    CHECK(lms_train_open(&t2, p, &c, loader_for(&c), &err) == LMS_ERR_ARG);
    CHECK(strstr(err.msg, "--resume") != NULL);
    lms_train_free(t);
    rm_rf(dir);
}

static void test_resume_bit_exact(void) {
    lms_train_config c = tiny_config();
    recorder a = {0}, b = {0};
    char *da = NULL, *db = NULL;
    lms_train *ta = run_new(&c, &a, &da);
    c.steps = 6;
    lms_train *tb = run_new(&c, &b, &db);
    if (!ta || !tb) return;
    CHECK(lms_train_step(tb) == 6);
    lms_train_free(tb);
    char run[128];
    snprintf(run, sizeof run, "%s/run", db);
    lms_err err = {0};
    lms_train_config c12 = c;
    c12.steps = 12;
    lms_status st = lms_train_resume(&tb, run, 12, NULL, 0, loader_for(&c12), &err);
    CHECKF(st == LMS_OK, "%s", err.msg);
    if (st) return;
    CHECK(lms_train_step(tb) == 6);
    lms_train_hooks h = {.progress = record, .user = &b};
    CHECKF(lms_train_run(tb, &h, &err) == LMS_OK, "%s", err.msg);
    for (int i = 1; i <= 12; i++) CHECKF(a.loss[i] == b.loss[i], "step %d: %.9g vs %.9g", i, a.loss[i], b.loss[i]);
    CHECK(a.val[12] == b.val[12]);
    lms_gpt *ma = lms_train_model(ta), *mb = lms_train_model(tb);
    CHECK(memcmp(lms_gpt_params(ma), lms_gpt_params(mb), (size_t)lms_gpt_num_params(ma) * sizeof(float)) == 0);
    /* metrics.jsonl of the resumed run has each step once */
    char p[160];
    snprintf(p, sizeof p, "%s/metrics.jsonl", run);
    CHECK(count_lines(p) == 12);
    /* a resume that would go backwards is refused (once tb let go of the run dir's lock) */
    lms_train *t3 = NULL;
    lms_train_free(tb);
    CHECK(lms_train_resume(&t3, run, 5, NULL, 0, loader_for(&c12), &err) == LMS_ERR_ARG);
    lms_train_free(ta);
    rm_rf(da);
    rm_rf(db);
}

static void test_interrupt_then_resume(void) {
    lms_train_config c = tiny_config();
    recorder a = {0}, b = {0};
    char *da = NULL;
    lms_train *ta = run_new(&c, &a, &da);
    if (!ta) return;
    char *db = make_tmpdir();
    char run[128];
    snprintf(run, sizeof run, "%s/run", db);
    lms_err err = {0};
    lms_train *tb = NULL;
    CHECK(lms_train_open(&tb, run, &c, loader_for(&c), &err) == LMS_OK);
    volatile sig_atomic_t stop = 0;
    b.stop_at = 5;
    b.stop = &stop;
    lms_train_hooks h = {.progress = record, .user = &b, .stop = &stop};
    lms_status st = lms_train_run(tb, &h, &err);
    CHECK(st == LMS_ERR_INTERRUPTED);
    CHECK(lms_train_step(tb) == 5);
    CHECK(strstr(lms_train_latest(tb), "step_00000005.safetensors") != NULL);
    lms_train_free(tb);
    b.stop_at = 0;
    CHECKF(lms_train_resume(&tb, run, 0, NULL, 0, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    if (!tb) return;
    stop = 0;
    CHECK(lms_train_run(tb, &h, &err) == LMS_OK);
    for (int i = 1; i <= 12; i++) CHECKF(a.loss[i] == b.loss[i], "step %d: %.9g vs %.9g", i, a.loss[i], b.loss[i]);
    lms_gpt *ma = lms_train_model(ta), *mb = lms_train_model(tb);
    CHECK(memcmp(lms_gpt_params(ma), lms_gpt_params(mb), (size_t)lms_gpt_num_params(ma) * sizeof(float)) == 0);
    lms_train_free(ta);
    lms_train_free(tb);
    rm_rf(da);
    rm_rf(db);
}

/* A stop requested before the first step (the CLI installs its signal handlers before the setup,
   so a Ctrl-C during it lands here) saves a step-0 checkpoint; resuming from it is bit-exact. */
static void test_stop_before_first_step(void) {
    lms_train_config c = tiny_config();
    recorder a = {0}, b = {0};
    char *da = NULL;
    lms_train *ta = run_new(&c, &a, &da);
    if (!ta) return;
    char *db = make_tmpdir();
    char run[128];
    snprintf(run, sizeof run, "%s/run", db);
    lms_err err = {0};
    lms_train *tb = NULL;
    CHECK(lms_train_open(&tb, run, &c, loader_for(&c), &err) == LMS_OK);
    if (!tb) return;
    volatile sig_atomic_t stop = 1;
    lms_train_hooks h = {.progress = record, .user = &b, .stop = &stop};
    CHECK(lms_train_run(tb, &h, &err) == LMS_ERR_INTERRUPTED);
    CHECK(lms_train_step(tb) == 0);
    CHECK(b.n == 0);
    CHECKF(strstr(lms_train_latest(tb), "step_00000000.safetensors") != NULL, "latest %s", lms_train_latest(tb));
    lms_train_free(tb);
    tb = NULL;
    CHECKF(lms_train_resume(&tb, run, 0, NULL, 0, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    if (!tb) return;
    stop = 0;
    CHECK(lms_train_run(tb, &h, &err) == LMS_OK);
    for (int i = 1; i <= 12; i++) CHECKF(a.loss[i] == b.loss[i], "step %d: %.9g vs %.9g", i, a.loss[i], b.loss[i]);
    lms_train_free(ta);
    lms_train_free(tb);
    rm_rf(da);
    rm_rf(db);
}

/* eval_batches -1 (the default) resolves once the data is open: max(8, domains); 0 and < -1 are refused. */
static void test_eval_batches_auto(void) {
    lms_train_config c;
    lms_train_config_defaults(&c);
    CHECK(c.eval_batches == -1);
    c = tiny_config();
    c.eval_batches = -1;
    recorder r = {0};
    char *d = NULL;
    lms_train *t = run_new(&c, &r, &d);
    if (!t) return;
    CHECK(lms_train_get_config(t)->eval_batches == 8); /* one domain: at least 8 */
    lms_train_free(t);
    rm_rf(d);
    lms_err err = {0};
    c.eval_batches = 0;
    CHECK(lms_train_config_check(&c, &err) == LMS_ERR_ARG);
    c.eval_batches = -2;
    CHECK(lms_train_config_check(&c, &err) == LMS_ERR_ARG);
}

static void test_nan_keeps_last_good(void) {
    lms_train_config c = tiny_config();
    c.lr = 1e6f;
    c.warmup = 0;
    c.steps = 50;
    c.ckpt_interval = 1;
    c.grad_clip = 0;
    char *dir = make_tmpdir();
    char run[128], lp[160];
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(lp, sizeof lp, "%s/latest", run);
    lms_err err = {0};
    lms_train *t = NULL;
    CHECK(lms_train_open(&t, run, &c, loader_for(&c), &err) == LMS_OK);
    if (!t) return;
    recorder r = {0};
    lms_train_hooks h = {.progress = record, .user = &r};
    lms_status st = lms_train_run(t, &h, &err);
    CHECKF(st == LMS_ERR_NUMERIC, "status %d: %s", st, err.msg);
    CHECK(strstr(err.msg, "learning rate") != NULL);
    CHECK(strstr(err.msg, "NaN") != NULL || strstr(err.msg, "Inf") != NULL);
    int64_t good = lms_train_step(t);
    CHECK(good < 50);
    /* latest names the last finite step, whose files exist; nothing for the bad step was written */
    char *name = NULL;
    size_t len;
    CHECK(lms_file_read_all(lp, &name, &len, NULL) == LMS_OK);
    char want[32];
    snprintf(want, sizeof want, "step_%08lld\n", (long long)good);
    CHECK(name && !strcmp(name, want));
    free(name);
    char bad[256];
    snprintf(bad, sizeof bad, "%s/checkpoints/step_%08lld.safetensors", run, (long long)good + 1);
    CHECK(!lms_path_exists(bad));
    CHECK(r.last_step == good);
    lms_train_free(t);
    rm_rf(dir);
}

/* accum 2 x batch 2 against one batch of 4 made of the same rows, computed directly with the model
 * and optimizer API. */
static void test_grad_accumulation(void) {
    lms_train_config c = tiny_config();
    c.batch = 2;
    c.accum = 2;
    c.steps = 1;
    c.warmup = 0;
    c.grad_clip = 0; /* compare raw gradients */
    recorder r = {0};
    char *dir = NULL;
    lms_train *t = run_new(&c, &r, &dir);
    if (!t) return;
    const int T = c.model.n_ctx;
    /* the rows the trainer saw: loader batches 0 and 1 of B = 2 */
    lms_loader *l = loader_for(&c);
    int32_t in[4 * 16], tg[4 * 16];
    lms_loader_next(l, in, tg);
    lms_loader_next(l, in + 2 * T, tg + 2 * T);
    lms_loader_free(l);
    lms_gpt *m = NULL;
    lms_err err = {0};
    CHECK(lms_gpt_create(&m, &c.model, &err) == LMS_OK);
    lms_gpt_init(m, c.seed);
    CHECK(lms_gpt_plan(m, 4, T, &err) == LMS_OK);
    lms_adamw_config ac = {.lr = c.lr, .beta1 = c.beta1, .beta2 = c.beta2, .eps = c.eps, .weight_decay = c.weight_decay};
    lms_adamw *o = NULL;
    CHECK(lms_adamw_create(&o, m, &ac, &err) == LMS_OK);
    lms_gpt_zero_grad(m);
    float loss = lms_gpt_forward(m, in, tg, 4, T);
    lms_gpt_backward(m, 1.0f);
    int64_t n = lms_gpt_num_params(m);
    float norm = lms_grad_global_norm(lms_gpt_grads(m), n);
    /* Tolerances: the same sums in a different grouping (two means of 32 tokens averaged vs one
     * mean of 64; weight gradients reduced over 2 x 32 rows vs 64 rows) differ only by fp32
     * rounding, a few ulps of the values: 1e-6 relative for the loss and the norm, and 1e-5 of the
     * largest gradient for each gradient element (element sums have up to 64 terms of mixed sign). */
    CHECK_NEAR(r.loss[1], loss, 1e-6 * loss);
    CHECK_NEAR(r.norm[1], norm, 1e-6 * norm);
    lms_gpt *mt = lms_train_model(t);
    const float *ga = lms_gpt_grads(mt), *gb = lms_gpt_grads(m);
    float gmax = 0, dmax = 0;
    for (int64_t i = 0; i < n; i++) {
        gmax = fmaxf(gmax, fabsf(gb[i]));
        dmax = fmaxf(dmax, fabsf(ga[i] - gb[i]));
    }
    if (getenv("LMS_TEST_VERBOSE")) fprintf(stderr, "accum: loss %.9g vs %.9g, norm %.9g vs %.9g, grad diff %g of %g\n", r.loss[1], loss, r.norm[1], norm, dmax, gmax);
    CHECKF(dmax <= 1e-5f * gmax, "max grad diff %g, max grad %g", dmax, gmax);
    /* Parameters after the AdamW step: on step 1 the update is lr * g / (|g| + eps) per element,
     * which is +-lr unless |g| is near eps; a gradient that differs by rounding changes it by about
     * lr * (relative gradient error) -> allow 1e-3 * lr, and count elements beyond it (sign flips of
     * gradients that are 0 up to rounding) — there must be none where |g| > 1e-6 * gmax. */
    lms_adamw_step(o, m, c.lr);
    const float *pa = lms_gpt_params(mt), *pb = lms_gpt_params(m);
    int64_t off = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabsf(gb[i]) > 1e-6f * gmax && fabsf(pa[i] - pb[i]) > 1e-3f * c.lr) off++;
    CHECKF(off == 0, "%lld parameters differ by more than 1e-3 lr", (long long)off);
    lms_adamw_free(o);
    lms_gpt_free(m);
    lms_train_free(t);
    rm_rf(dir);
}

static void test_schedules_applied(void) {
    lms_sched_kind kinds[] = {LMS_SCHED_COSINE, LMS_SCHED_WSD, LMS_SCHED_CONSTANT};
    for (int k = 0; k < 3; k++) {
        lms_train_config c = tiny_config();
        c.schedule = kinds[k];
        c.steps = 20;
        c.warmup = 3;
        c.lr = 3e-3f;
        c.min_lr_frac = 0.1f;
        c.decay_frac = 0.3f;
        c.eval_interval = 100;
        recorder r = {0};
        char *dir = NULL;
        lms_train *t = run_new(&c, &r, &dir);
        if (!t) return;
        lms_schedule s = lms_train_config_schedule(lms_train_get_config(t));
        CHECK(s.total == 20 && s.warmup == 3 && s.kind == kinds[k]);
        for (int i = 1; i <= 20; i++) CHECKF(r.lr[i] == lms_schedule_lr(&s, i - 1), "kind %d step %d", k, i);
        CHECK_NEAR(r.lr[1], 1e-3, 1e-9);   /* warmup: lr (0+1)/3 */
        CHECK_NEAR(r.lr[3], 3e-3, 1e-9);
        if (kinds[k] != LMS_SCHED_CONSTANT) CHECK(r.lr[20] < 0.5f * c.lr);
        else CHECK(r.lr[20] == c.lr);
        lms_train_free(t);
        rm_rf(dir);
    }
}

static void test_config_checks(void) {
    lms_train_config c = tiny_config();
    lms_err err = {0};
    lms_train_config_add_data(&c, "x.txt", &err);
    CHECK(lms_train_config_check(&c, &err) == LMS_OK);
    lms_train_config b = c;
    b.model.n_layer = 0;
    CHECK(lms_train_config_check(&b, &err) == LMS_ERR_ARG && strstr(err.msg, "--layers"));
    b = c;
    b.model.n_head = 3;
    CHECK(lms_train_config_check(&b, &err) == LMS_ERR_ARG && strstr(err.msg, "--heads"));
    b = c;
    b.batch = 0;
    CHECK(lms_train_config_check(&b, &err) == LMS_ERR_ARG && strstr(err.msg, "--batch"));
    b = c;
    b.lr = -1e-3f;
    CHECK(lms_train_config_check(&b, &err) == LMS_ERR_ARG && strstr(err.msg, "--lr"));
    b = c;
    b.n_data = 0;
    CHECK(lms_train_config_check(&b, &err) == LMS_ERR_ARG && strstr(err.msg, "--data"));
    /* JSON round trip keeps every field, 64-bit seeds included */
    c.seed = 0xfedcba9876543210ULL;
    c.schedule = LMS_SCHED_WSD;
    snprintf(c.mix, sizeof c.mix, "quotes=2,news=1");
    char *js = lms_train_config_to_json(&c);
    lms_train_config d;
    CHECK(lms_train_config_from_json(&d, js, &err) == LMS_OK);
    free(js);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    CHECK(lms_train_config_from_json(&d, "{\"model\": 3}", &err) == LMS_ERR_FORMAT);
    /* --ctx too long for the data: a text file of 300 bytes has 30 validation tokens */
    char *dir = make_tmpdir();
    char p[128];
    snprintf(p, sizeof p, "%s/small.txt", dir);
    char text[300];
    memset(text, 'a', sizeof text);
    CHECK(lms_file_write_all(p, text, sizeof text, &err) == LMS_OK);
    lms_train_config e = tiny_config();
    e.model.vocab_size = 0;
    e.model.n_ctx = 64;
    lms_train_config_add_data(&e, p, &err);
    lms_loader *l = NULL;
    CHECK(lms_train_open_data(&e, &l, &err) == LMS_ERR_ARG);
    CHECK(strstr(err.msg, "--ctx") != NULL);
    e.model.n_ctx = 16;
    CHECKF(lms_train_open_data(&e, &l, &err) == LMS_OK, "%s", err.msg);
    CHECK(e.model.vocab_size == 256);
    lms_loader_free(l);
    rm_rf(dir);
}

static void test_sampler(void) {
    float logits[6] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f, NAN};
    lms_err err = {0};
    lms_sampler *s = NULL;
    lms_sampler_config g = {.temperature = 0, .top_k = 0, .top_p = 1, .seed = 1};
    CHECK(lms_sampler_create(&s, 6, &g, &err) == LMS_OK);
    CHECK(lms_sampler_pick(s, logits) == 1); /* argmax, lowest id on the tie 1/3, NaN ignored */
    lms_sampler_free(s);
    /* top-k 1 is greedy at any temperature; a tiny top-p too */
    lms_sampler_config k1 = {.temperature = 5, .top_k = 1, .top_p = 1, .seed = 3};
    lms_sampler_config p0 = {.temperature = 1, .top_k = 0, .top_p = 1e-6f, .seed = 3};
    lms_sampler *a, *b;
    CHECK(lms_sampler_create(&a, 6, &k1, &err) == LMS_OK && lms_sampler_create(&b, 6, &p0, &err) == LMS_OK);
    for (int i = 0; i < 50; i++) CHECK(lms_sampler_pick(a, logits) == 1 && lms_sampler_pick(b, logits) == 1);
    lms_sampler_free(a);
    lms_sampler_free(b);
    /* temperature 1, no cuts: frequencies follow softmax (20000 draws: 4 sigma < 0.015) */
    float l2[4] = {0.0f, 1.0f, 2.0f, -1.0f};
    lms_sampler_config t1 = {.temperature = 1, .top_k = 0, .top_p = 1, .seed = 9};
    CHECK(lms_sampler_create(&a, 4, &t1, &err) == LMS_OK);
    int cnt[4] = {0};
    for (int i = 0; i < 20000; i++) cnt[lms_sampler_pick(a, l2)]++;
    double z = 0;
    for (int i = 0; i < 4; i++) z += exp(l2[i]);
    for (int i = 0; i < 4; i++) CHECK_NEAR(cnt[i] / 20000.0, exp(l2[i]) / z, 0.015);
    lms_sampler_free(a);
    /* top-k 2: only the two best ever come out; same seed, same sequence */
    lms_sampler_config k2 = {.temperature = 1, .top_k = 2, .top_p = 1, .seed = 11};
    CHECK(lms_sampler_create(&a, 4, &k2, &err) == LMS_OK && lms_sampler_create(&b, 4, &k2, &err) == LMS_OK);
    int seen[4] = {0}, same = 1;
    for (int i = 0; i < 2000; i++) {
        int x = lms_sampler_pick(a, l2), y = lms_sampler_pick(b, l2);
        seen[x]++;
        same &= x == y;
    }
    CHECK(same && seen[0] == 0 && seen[3] == 0 && seen[1] > 0 && seen[2] > seen[1]);
    lms_sampler_free(a);
    lms_sampler_free(b);
    lms_sampler_config bad = {.temperature = -1, .top_k = 0, .top_p = 1};
    CHECK(lms_sampler_create(&a, 4, &bad, &err) == LMS_ERR_ARG && strstr(err.msg, "--temperature"));
    bad = (lms_sampler_config){.temperature = 1, .top_k = 0, .top_p = 0};
    CHECK(lms_sampler_create(&a, 4, &bad, &err) == LMS_ERR_ARG && strstr(err.msg, "--top-p"));
}

static void test_utf8_complete(void) {
    const char *e = "\xc3\xa9";         /* é */
    const char *euro = "\xe2\x82\xac";  /* € */
    const char *emoji = "\xf0\x9f\x98\x80";
    CHECK(lms_utf8_complete("abc", 3) == 3);
    CHECK(lms_utf8_complete(e, 1) == 0);
    CHECK(lms_utf8_complete(e, 2) == 2);
    char buf[16];
    snprintf(buf, sizeof buf, "a%s", euro);
    CHECK(lms_utf8_complete(buf, 2) == 1 && lms_utf8_complete(buf, 3) == 1 && lms_utf8_complete(buf, 4) == 4);
    snprintf(buf, sizeof buf, "xy%s", emoji);
    CHECK(lms_utf8_complete(buf, 5) == 2 && lms_utf8_complete(buf, 6) == 6);
    CHECK(lms_utf8_complete("\x80\x80", 2) == 2); /* stray continuation bytes never stall */
    CHECK(lms_utf8_complete("", 0) == 0);
}

TESTS(test_loss_decreases_and_files, test_resume_bit_exact, test_interrupt_then_resume, test_stop_before_first_step,
      test_eval_batches_auto, test_nan_keeps_last_good,
      test_grad_accumulation, test_schedules_applied, test_config_checks, test_sampler, test_utf8_complete)
