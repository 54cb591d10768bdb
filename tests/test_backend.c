/* test_backend.c — the backend seam: a model runs on its own kernel table and thread count, and
 * everything that runs it (forward, backward, zeroing gradients, scoring, decoding, the optimizer
 * step, gradient clipping, optimizer files) calls that table rather than the process default.
 *
 * A "spy" table is the optimized table with counting wrappers around the memory fields and one
 * op of each family; a model switched to it must make those calls (and no other table is involved,
 * since the spy is not what lms_ops_get() returns), give bit-identical results to the optimized
 * table it wraps, and run the batch ops on the model's thread count. lms_gpt_set_backend's refusals
 * are checked too, and a model created on a (simulated) device table stages what it must through
 * the host: its checkpoint is read through copies and is byte-identical to the host model's.
 * Training over MPI ranks with a device is refused before anything is read or written.
 *
 * Leaves out: the ops' numerics (test_backend_ops), decoding accuracy (test_infer).
 */
#define _XOPEN_SOURCE 700
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "dist/dist.h"
#include "harness.h"
#include "train_helpers.h"
#include "kernels/backend.h"
#include "kernels/kernels.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "model/infer.h"
#include "model/score.h"
#include "optim/optim.h"

static const lms_ops *BASE;
static lms_ops SPY;
static struct {
    int alloc, free_, h2d, d2h, d2d, memset_, matmul_fwd, matmul_threads, adamw, norm, scale, dec_gemv, dec_att;
    int dec_att_helpers; /* dec_attention calls made on a decoding helper thread */
} N;
static pthread_t MAIN;

static void *spy_alloc(size_t b, lms_err *e) { N.alloc++; return BASE->buf_alloc(b, e); }
static void spy_free(void *p) { N.free_ += p != NULL; BASE->buf_free(p); }
static void spy_h2d(void *d, const void *s, size_t b) { N.h2d++; BASE->copy_h2d(d, s, b); }
static void spy_d2h(void *d, const void *s, size_t b) { N.d2h++; BASE->copy_d2h(d, s, b); }
static void spy_d2d(void *d, const void *s, size_t b) { N.d2d++; BASE->copy_d2d(d, s, b); }
static void spy_memset(void *d, int v, size_t b) { N.memset_++; BASE->buf_memset(d, v, b); }
static void spy_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int64_t n, int64_t c,
                           int64_t oc, lms_wlayout l) {
    N.matmul_fwd++;
    N.matmul_threads = omp_get_max_threads();
    BASE->matmul_fwd(out, inp, w, bias, n, c, oc, l);
}
static void spy_adamw(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2, float eps,
                      float wd, int64_t t) {
    N.adamw++;
    BASE->adamw(p, g, m, v, n, lr, b1, b2, eps, wd, t);
}
static float spy_norm(const float *g, int64_t n) { N.norm++; return BASE->global_norm(g, n); }
static void spy_scale(float *x, float a, int64_t n) { N.scale++; BASE->scale(x, a, n); }
static void spy_dec_gemv(float *out, const float *x, const float *W, const float *bias, int64_t C, int64_t OC,
                         int64_t j0, int64_t j1) {
    N.dec_gemv++;
    BASE->dec_gemv_in_out(out, x, W, bias, C, OC, j0, j1);
}
static void spy_dec_att(float *y, float *att, const float *q, const float *kc, const float *vc, int64_t n, int64_t hs,
                        int64_t ld) {
    __atomic_fetch_add(&N.dec_att, 1, __ATOMIC_RELAXED); /* several decoding threads */
    if (!pthread_equal(pthread_self(), MAIN)) __atomic_fetch_add(&N.dec_att_helpers, 1, __ATOMIC_RELAXED);
    BASE->dec_attention(y, att, q, kc, vc, n, hs, ld);
}

static void make_spy(void) {
    BASE = lms_ops_fast();
    MAIN = pthread_self();
    SPY = *BASE;
    SPY.name = "spy";
    SPY.buf_alloc = spy_alloc;
    SPY.buf_free = spy_free;
    SPY.copy_h2d = spy_h2d;
    SPY.copy_d2h = spy_d2h;
    SPY.copy_d2d = spy_d2d;
    SPY.buf_memset = spy_memset;
    SPY.matmul_fwd = spy_matmul_fwd;
    SPY.adamw = spy_adamw;
    SPY.global_norm = spy_norm;
    SPY.scale = spy_scale;
    SPY.dec_gemv_in_out = spy_dec_gemv;
    SPY.dec_attention = spy_dec_att;
    memset(&N, 0, sizeof N);
}

static const lms_gpt_config TINY = {.n_layer = 2, .n_head = 2, .n_embd = 64, .n_ctx = 16, .vocab_size = 50};

static lms_gpt *tiny(const lms_ops *ops, int threads) {
    lms_gpt_config c = TINY;
    lms_gpt *m = NULL;
    lms_err err = {0};
    if (lms_gpt_create(&m, &c, &err) != LMS_OK) return NULL;
    lms_gpt_init(m, 7);
    if (ops && lms_gpt_set_backend(m, ops, threads, &err) != LMS_OK) {
        lms_gpt_free(m);
        return NULL;
    }
    return m;
}

/* One training step, a score and a decode, returning a hash of everything they produced. */
static uint64_t run(lms_gpt *m, int with_io) {
    enum { B = 2, T = 16 };
    int32_t in[B * T], tg[B * T];
    for (int i = 0; i < B * T; i++) {
        in[i] = (i * 7 + 3) % 50;
        tg[i] = i % 5 == 0 ? -1 : (i * 11 + 1) % 50;
    }
    lms_err err = {0};
    uint64_t h = 1469598103934665603ull;
#define MIX(p, n) for (size_t k_ = 0; k_ < (n); k_++) h = (h ^ ((const unsigned char *)(p))[k_]) * 1099511628211ull
    CHECK(lms_gpt_plan(m, B, T, &err) == LMS_OK);
    lms_adamw_config oc = lms_adamw_defaults();
    lms_adamw *o = NULL;
    CHECK(lms_adamw_create(&o, m, &oc, &err) == LMS_OK);
    lms_gpt_zero_grad(m);
    float loss = lms_gpt_forward(m, in, tg, B, T);
    MIX(&loss, sizeof loss);
    MIX(lms_gpt_losses(m), B * T * sizeof(float));
    lms_gpt_backward(m, 1.0f);
    float norm = lms_grad_clip_gpt(m, 1e-3f); /* small: the scale runs */
    MIX(&norm, sizeof norm);
    lms_adamw_step(o, m, 1e-2f);
    MIX(lms_gpt_params(m), (size_t)lms_gpt_num_params(m) * sizeof(float));
    if (with_io) {
        char path[] = "/tmp/lms_test_backend_XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0) close(fd);
        CHECK(lms_adamw_save(path, o, m, NULL, &err) == LMS_OK);
        lms_adamw *o2 = NULL;
        CHECK(lms_adamw_create(&o2, m, &oc, &err) == LMS_OK);
        CHECK(lms_adamw_load(path, o2, m, NULL, &err) == LMS_OK);
        CHECK(lms_adamw_t(o2) == 1);
        CHECK(memcmp(lms_adamw_v(o), lms_adamw_v(o2), (size_t)lms_gpt_num_params(m) * sizeof(float)) == 0);
        lms_adamw_free(o2);
        unlink(path);
    }
    lms_adamw_free(o);
    lms_scorer *sc = NULL;
    CHECK(lms_scorer_create(&sc, m, B, T, &err) == LMS_OK);
    float lp[B * T];
    int32_t rk[B * T];
    if (sc) lms_gpt_score(sc, in, tg, B, T, lp, rk);
    MIX(lp, sizeof lp);
    lms_scorer_free(sc);
    lms_infer *s = NULL;
    CHECK(lms_infer_create(&s, m, T, &err) == LMS_OK);
    for (int t = 0; s && t < T; t++) {
        const float *lg = lms_infer_step(s, in[t]);
        MIX(lg, 50 * sizeof(float));
    }
    lms_infer_free(s);
    return h;
}

static void test_model_uses_its_table(void) {
    lms_cpu_set_threads(2);
    make_spy();
    lms_gpt *plain = tiny(NULL, 0), *spied = tiny(&SPY, 0);
    CHECK(plain && spied);
    if (!plain || !spied) return;
    CHECK(lms_gpt_ops(plain) == lms_ops_get() && lms_gpt_ops(spied) == &SPY && lms_gpt_threads(spied) == 0);
    memset(&N, 0, sizeof N);
    uint64_t a = run(plain, 0);
    CHECK(N.alloc + N.h2d + N.d2h + N.memset_ + N.matmul_fwd + N.adamw + N.norm + N.dec_gemv == 0); /* not the spy */
    uint64_t b = run(spied, 1);
    CHECK(a == b); /* the spy wraps the same table: the same bits */
    /* plan (acts), adamw (m, v), its reload (m, v), scorer, infer (2 caches, scratch) */
    CHECKF(N.alloc >= 9, "%d allocations", N.alloc);
    CHECKF(N.free_ >= 8, "%d frees", N.free_);
    CHECKF(N.h2d >= 3, "%d copies in (tokens and targets of the forward, the scorer's tokens)", N.h2d);
    CHECKF(N.d2h >= 1, "%d copies out (the losses)", N.d2h);
    CHECKF(N.d2d >= 2 * 16, "%d device copies (cache rows, gathered score rows)", N.d2d);
    CHECKF(N.memset_ >= 1 + 2 + 6 * 2, "%d memsets (zero_grad, backward)", N.memset_);
    CHECK(N.matmul_fwd > 0 && N.adamw > 0 && N.norm == 1 && N.scale == 1);
    CHECK(N.dec_gemv > 0 && N.dec_att == 16 * 2 * 2); /* every position, layer and head */
    CHECK(N.dec_att_helpers > 0);                      /* C = 64 decodes on 2 threads */
    lms_gpt_free(plain);
    lms_gpt_free(spied);
}

static void test_model_threads(void) {
    lms_cpu_set_threads(2);
    make_spy();
    lms_gpt *m = tiny(&SPY, 1);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(lms_gpt_threads(m) == 1);
    lms_err err = {0};
    CHECK(lms_gpt_plan(m, 1, 8, &err) == LMS_OK);
    int32_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    lms_gpt_forward(m, in, NULL, 1, 8);
    CHECK(N.matmul_threads == 1);          /* the model's count inside its ops */
    CHECK(omp_get_max_threads() == 2);     /* the caller's restored after */
    CHECK(lms_gpt_set_backend(m, &SPY, 0, &err) == LMS_OK);
    lms_gpt_forward(m, in, NULL, 1, 8);
    CHECK(N.matmul_threads == 2);          /* 0: the process's */
    lms_gpt_free(m);
}

static void test_set_backend_refuses(void) {
    lms_gpt *m = tiny(NULL, 0);
    CHECK(m != NULL);
    if (!m) return;
    lms_err err = {0};
    CHECK(lms_gpt_set_backend(m, NULL, 0, &err) == LMS_ERR_ARG);
    CHECK(lms_gpt_set_backend(m, lms_ops_reference(), -1, &err) == LMS_ERR_ARG && strstr(err.msg, "thread"));
    lms_ops dev = *lms_ops_reference();
    dev.name = "device";
    dev.caps &= ~(unsigned)(LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE);
    CHECK(lms_gpt_set_backend(m, &dev, 0, &err) == LMS_ERR_ARG && strstr(err.msg, "memory"));
    CHECK(lms_gpt_ops(m) == lms_ops_get()); /* unchanged */
    CHECK(lms_gpt_set_backend(m, lms_ops_reference(), 3, &err) == LMS_OK);
    CHECK(lms_gpt_ops(m) == lms_ops_reference() && lms_gpt_threads(m) == 3);
    lms_gpt_free(m);
}

/* A model on the bf16 table keeps its weight matrices packed between optimizer steps (gpt.h,
   "packed weights"): four training steps give the same bits as the same table without packs (its
   wpack ops removed); the products read the packs from the step after the first update on; a write
   through lms_gpt_params between steps is seen by the next forward (which then converts the fp32
   weights again), and lms_gpt_set_backend drops the packs. */
static int g_wp_fwd;
static const lms_ops *g_bf16;
static void spy_fwd_wp(float *out, const float *inp, const void *wp, const float *bias, int64_t N_, int64_t C,
                       int64_t OC, lms_wlayout lay) {
    g_wp_fwd++;
    g_bf16->matmul_fwd_wp(out, inp, wp, bias, N_, C, OC, lay);
}

static void test_packed_weights(void) {
    g_bf16 = lms_ops_bf16();
    if (!g_bf16) SKIP("%s", lms_ops_bf16_unavailable());
    lms_cpu_set_threads(2);
    static lms_ops spy, nopack;
    spy = *g_bf16;
    spy.matmul_fwd_wp = spy_fwd_wp;
    nopack = *g_bf16;
    nopack.wpack_bytes = NULL, nopack.adamw_wpack = NULL, nopack.matmul_fwd_wp = NULL, nopack.matmul_bwd_wp = NULL;
    nopack.caps &= ~(unsigned)LMS_BACKEND_PACKED_WEIGHTS;
    lms_gpt *a = tiny(&spy, 0), *b = tiny(&nopack, 0);
    CHECK(a && b);
    if (!a || !b) return;
    enum { B = 2, T = 16 };
    lms_err err = {0};
    CHECK(lms_gpt_plan(a, B, T, &err) == LMS_OK && lms_gpt_plan(b, B, T, &err) == LMS_OK);
    CHECK(lms_gpt_memory_bytes(a).wpack == lms_gpt_wpack_bytes(&TINY, g_bf16) && lms_gpt_memory_bytes(a).wpack > 0);
    CHECK(lms_gpt_memory_bytes(b).wpack == 0 && lms_gpt_wpack_bytes(&TINY, lms_ops_fast()) == 0);
    CHECK(lms_gpt_wpack(a, 0) != NULL && lms_gpt_wpack(a, 1) == NULL && lms_gpt_wpack(b, 0) == NULL); /* wte; not wpe */
    lms_adamw_config oc = lms_adamw_defaults();
    lms_adamw *oa = NULL, *ob = NULL;
    CHECK(lms_adamw_create(&oa, a, &oc, &err) == LMS_OK && lms_adamw_create(&ob, b, &oc, &err) == LMS_OK);
    int32_t in[B * T], tg[B * T];
    for (int i = 0; i < B * T; i++) in[i] = (i * 7 + 3) % 50, tg[i] = (i * 11 + 1) % 50;
    const lms_tensor_info *fc = lms_gpt_find_tensor(a, "h.1.mlp.c_fc.weight");
    size_t bytes = (size_t)lms_gpt_num_params(a) * sizeof(float);
    int wp_calls[4];
    for (int step = 0; step < 4; step++) {
        lms_gpt_zero_grad(a);
        lms_gpt_zero_grad(b);
        g_wp_fwd = 0;
        float la = lms_gpt_forward(a, in, tg, B, T), lb = lms_gpt_forward(b, in, tg, B, T);
        wp_calls[step] = g_wp_fwd;
        CHECKF(memcmp(&la, &lb, sizeof la) == 0, "step %d: loss %.9g with packs, %.9g without", step, la, lb);
        lms_gpt_backward(a, 1.0f);
        lms_gpt_backward(b, 1.0f);
        CHECK(memcmp(lms_gpt_grads(a), lms_gpt_grads(b), bytes) == 0);
        lms_adamw_step(oa, a, 1e-2f);
        lms_adamw_step(ob, b, 1e-2f);
        CHECK(memcmp(lms_gpt_params_const(a), lms_gpt_params_const(b), bytes) == 0);
        if (step == 1) { /* an outside write: the packs of a no longer hold the weights */
            lms_gpt_params(a)[fc->offset + 5] += 0.25f;
            lms_gpt_params(b)[fc->offset + 5] += 0.25f;
        }
    }
    /* step 0: the weights were never packed; 1: packed by step 0's update (4 projections x 2
       layers + the output layer); 2: after the outside write; 3: packed again */
    CHECKF(wp_calls[0] == 0 && wp_calls[1] == 9 && wp_calls[2] == 0 && wp_calls[3] == 9,
           "products from packs per step: %d %d %d %d", wp_calls[0], wp_calls[1], wp_calls[2], wp_calls[3]);
    CHECK(lms_gpt_set_backend(a, lms_ops_fast(), 0, &err) == LMS_OK && lms_gpt_wpack(a, 0) == NULL &&
          lms_gpt_memory_bytes(a).wpack == 0);
    lms_adamw_free(oa);
    lms_adamw_free(ob);
    lms_gpt_free(a);
    lms_gpt_free(b);
}

/* A model created on a table whose memory is "device" memory (here host memory declared without
   LMS_BACKEND_HOST_MEMORY, so the results can be compared): the same bits as the host table, the optimizer files staged
   through the host copies, bf16 weights packed on the host and copied in, decoding on one thread,
   and no switch to a host table. */
static void test_device_model(void) {
    lms_cpu_set_threads(2);
    make_spy();
    lms_ops dev = SPY;
    dev.name = "fake-device";
    dev.caps &= ~(unsigned)(LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE);
    lms_err err = {0};
    lms_gpt *d = NULL, *plain = tiny(NULL, 0);
    CHECK(lms_gpt_create_on(&d, &TINY, NULL, 0, &err) == LMS_ERR_ARG && d == NULL);
    CHECK(lms_gpt_create_on(&d, &TINY, &dev, -2, &err) == LMS_ERR_ARG && d == NULL);
    CHECK(lms_gpt_create_on(&d, &TINY, &dev, 0, &err) == LMS_OK);
    CHECK(plain && d && lms_gpt_grads(d) == NULL && lms_gpt_ops(d) == &dev);
    if (!plain || !d) return;
    lms_gpt_init(d, 7); /* host writes: allowed here only because the fake device memory is the host's */
    uint64_t a = run(plain, 1);
    memset(&N, 0, sizeof N);
    uint64_t b = run(d, 1);
    CHECK(a == b);
    CHECKF(N.d2h >= 1 + 2 && N.h2d >= 3 + 2, "d2h %d h2d %d: the moments were not staged", N.d2h, N.h2d);
    CHECK(N.dec_att == 16 * 2 * 2 && N.dec_att_helpers == 0); /* one decoding thread */
    lms_infer *s = NULL;
    CHECK(lms_infer_create(&s, d, 4, &err) == LMS_OK);
    int h2d = N.h2d;
    CHECK(s && lms_infer_set_bf16(s, 1, &err) == LMS_OK && N.h2d == h2d + 1);
    CHECK(s && lms_infer_step(s, 3) != NULL);
    lms_infer_free(s);
    CHECK(lms_gpt_set_backend(d, lms_ops_fast(), 0, &err) == LMS_ERR_ARG && strstr(err.msg, "device"));
    lms_gpt_free(d);
    lms_gpt_free(plain);
}

/* A checkpoint of a model in (simulated) device memory is read through the backend's copies and has
   the same bytes as the host model's; an optimizer file likewise. */
static void test_device_checkpoint(void) {
    lms_cpu_set_threads(2);
    make_spy();
    lms_ops dev = SPY;
    dev.name = "fake-device";
    dev.caps &= ~(unsigned)(LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE);
    lms_err err = {0};
    lms_gpt *plain = tiny(NULL, 0), *d = NULL, *back = NULL;
    CHECK(plain && lms_gpt_clone_on(&d, plain, &dev, 0, &err) == LMS_OK);
    if (!plain || !d) return;
    char *dir = make_tmpdir(), a[128], b[128];
    snprintf(a, sizeof a, "%s/host.safetensors", dir);
    snprintf(b, sizeof b, "%s/dev.safetensors", dir);
    memset(&N, 0, sizeof N);
    CHECK(lms_checkpoint_save(a, plain, "{\"k\":1}", &err) == LMS_OK && N.d2h == 0);
    CHECKF(lms_checkpoint_save(b, d, "{\"k\":1}", &err) == LMS_OK, "%s", err.msg);
    CHECKF(N.d2h >= 1, "the device model's weights were not copied out (%d copies)", N.d2h);
    size_t na = 0, nb = 0;
    char *fa = NULL, *fb = NULL;
    CHECK(lms_file_read_all(a, &fa, &na, &err) == LMS_OK && lms_file_read_all(b, &fb, &nb, &err) == LMS_OK);
    CHECK(fa && fb && na == nb && memcmp(fa, fb, na) == 0);
    free(fa);
    free(fb);
    /* the llm.c writer and adding weights to a writer: through copies, or refused for device memory */
    snprintf(b, sizeof b, "%s/dev.bin", dir);
    int d2h = N.d2h;
    CHECK(lms_checkpoint_save_llmc(b, d, &err) == LMS_OK && N.d2h == d2h + 1);
    lms_st_writer *w = NULL;
    CHECK(lms_st_writer_create(&w, &err) == LMS_OK);
    CHECK(lms_checkpoint_add_weights(w, d, NULL, &err) == LMS_ERR_UNSUPPORTED && strstr(err.msg, "clone"));
    lms_st_writer_free(w);
    /* and back: the clone onto the host has the same weights */
    CHECK(lms_gpt_clone_on(&back, d, lms_ops_fast(), 0, &err) == LMS_OK && back &&
          memcmp(lms_gpt_params_const(back), lms_gpt_params_const(plain), (size_t)lms_gpt_num_params(plain) * 4) == 0);
    rm_rf(dir);
    lms_gpt_free(back);
    lms_gpt_free(d);
    lms_gpt_free(plain);
}

/* Data parallelism with a device: lms_backend_check_ranks refuses more than one rank on a device
   by the name, with the reason, whether or not this build has CUDA; the CPU under MPI is not
   refused by it. lms_train_open / lms_train_resume ask it for the ranks of the job
   (lms_dist_size), before the data, the model or the run dir: this process is one rank, so mpi
   with --device cuda is not refused for MPI here (it trains alone); the refusal on two ranks is
   tests/cli/mpi.sh's. */
static void test_mpi_device_refused(void) {
    lms_err err = {0};
    CHECK(lms_backend_check_ranks("cuda", 2, &err) == LMS_ERR_ARG);
    CHECKF(strstr(err.msg, "--device cuda under mpirun is not supported") && strstr(err.msg, "--device cpu"), "%s", err.msg);
    CHECK(lms_backend_check_ranks("cuda", 1, &err) == LMS_OK && lms_backend_check_ranks("cpu", 4, &err) == LMS_OK &&
          lms_backend_check_ranks(NULL, 4, &err) == LMS_OK && lms_backend_check_ranks("", 4, &err) == LMS_OK);
    CHECK(lms_dist_size() == 1);
    lms_train_config c = tiny_config();
    c.mpi = 1;
    char *dir = make_tmpdir(), run[128];
    lms_train *t = NULL;
    for (int k = 0; k < 2; k++) { /* cuda: no MPI refusal on one rank (refused, if at all, for the device); cpu: none */
        snprintf(c.device, sizeof c.device, k ? "cpu" : "cuda");
        snprintf(run, sizeof run, "%s/run%d", dir, k);
        err = (lms_err){0};
        lms_status st = lms_train_open(&t, run, &c, loader_for(&c), &err);
        CHECKF(st == (k || lms_ops_cuda() ? LMS_OK : LMS_ERR_UNSUPPORTED) && !strstr(err.msg, "mpirun"), "%s: %d %s",
               c.device, (int)st, err.msg);
        lms_train_free(t);
        t = NULL;
    }
    rm_rf(dir);
}

TESTS(test_model_uses_its_table, test_model_threads, test_set_backend_refuses, test_packed_weights, test_device_model,
      test_device_checkpoint, test_mpi_device_refused)
