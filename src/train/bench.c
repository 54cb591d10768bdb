/* bench.c — the training-step benchmark (bench.h) and the product ceilings it is compared with.
 *
 * Leaves out: printing (the CLI's), the decoding and scoring benchmarks.
 */
#include "train/bench.h"

#include <cblas.h>
#include <stdlib.h>

#include "core/mem.h"
#include "core/rng.h"
#include "core/timer.h"
#include "optim/optim.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lms_bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* c[n,n] = a[n,n] · b[n,n] by one product or the other: the two ceilings below */
static void prod_sgemm(float *c, const float *a, const float *b, int n) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
}
static void prod_bf16(float *c, const float *a, const float *b, int n) {
    lms_ops_bf16()->matmul_fwd(c, a, b, NULL, n, n, n, LMS_W_IN_OUT);
}

/* GFLOP/s of a square product of size n with the current thread count: best of `reps` */
static double product_ceiling(void (*prod)(float *, const float *, const float *, int), int n, int reps) {
    float *a = malloc((size_t)n * n * sizeof(float)), *b = malloc((size_t)n * n * sizeof(float)),
          *c = malloc((size_t)n * n * sizeof(float));
    if (!a || !b || !c) {
        free(a); free(b); free(c);
        return 0.0;
    }
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 97) * 0.01f;
        b[i] = (float)(i % 89) * 0.01f;
    }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = lms_now();
        prod(c, a, b, n);
        t = lms_now() - t;
        if (t < best) best = t;
    }
    free(a); free(b); free(c);
    return 2.0 * n * (double)n * n / best / 1e9;
}

/* The timed loop: per step its total and parts (t[0..n) step, then forward, backward, optimizer). */
static void run_steps(const lms_bench_train_config *c, const lms_ops *K, lms_gpt *m, lms_adamw *opt, float lr, int32_t *inp,
                      int32_t *tgt, double *t, lms_bench_train_result *r) {
    int n = c->steps + c->warmup, V = c->model.vocab_size, T = c->model.n_ctx;
    int64_t N = (int64_t)c->batch * T;
    double *tf = t + n, *tb = tf + n, *to = tb + n;
    lms_rng rng;
    lms_rng_seed(&rng, c->seed + 1);
    for (int s = 0; s < n; s++) {
        for (int64_t i = 0; i < N; i++) {
            inp[i] = (int32_t)lms_rng_below(&rng, (uint64_t)V);
            tgt[i] = (int32_t)lms_rng_below(&rng, (uint64_t)V);
        }
        double t0 = lms_now();
        lms_gpt_zero_grad(m);
        float loss = lms_gpt_forward(m, inp, tgt, c->batch, T);
        double t1 = lms_now();
        lms_gpt_backward(m, 1.0f);
        K->sync(); /* a device's ops are queued: time their completion (nothing to wait for on the CPU) */
        double t2 = lms_now();
        lms_adamw_step(opt, m, lr);
        K->sync();
        double t3 = lms_now();
        t[s] = t3 - t0, tf[s] = t1 - t0, tb[s] = t2 - t1, to[s] = t3 - t2;
        if (s == 0) r->loss_first = loss;
        r->loss_last = loss;
    }
    r->step_min = 1e30, r->step_max = 0;
    for (int s = c->warmup; s < n; s++) {
        r->step_min = t[s] < r->step_min ? t[s] : r->step_min;
        r->step_max = t[s] > r->step_max ? t[s] : r->step_max;
    }
    r->step_median = lms_bench_median(t + c->warmup, c->steps), r->forward = lms_bench_median(tf + c->warmup, c->steps);
    r->backward = lms_bench_median(tb + c->warmup, c->steps), r->optimizer = lms_bench_median(to + c->warmup, c->steps);
}

lms_status lms_bench_train(const lms_bench_train_config *c, const lms_backend *b, lms_bench_train_result *r, lms_err *err) {
    *r = (lms_bench_train_result){0};
    if (c->batch < 1 || c->steps < 1 || c->warmup < 0 || c->ceiling_n < 0)
        return lms_errf(err, LMS_ERR_ARG, "bench: batch and steps must be >= 1, warmup and ceiling size >= 0");
    lms_gpt *m = NULL;
    lms_adamw *opt = NULL;
    lms_adamw_config oc = lms_adamw_defaults();
    lms_status st = lms_gpt_create_on(&m, &c->model, b->ops, b->threads, err);
    if (st) return st;
    lms_gpt_init(m, c->seed);
    if ((st = lms_gpt_plan(m, c->batch, c->model.n_ctx, err)) || (st = lms_adamw_create(&opt, m, &oc, err))) {
        lms_gpt_free(m);
        return st;
    }
    int64_t N = (int64_t)c->batch * c->model.n_ctx;
    int n = c->steps + c->warmup;
    int32_t *inp = malloc((size_t)N * sizeof(int32_t)), *tgt = malloc((size_t)N * sizeof(int32_t));
    double *t = malloc((size_t)n * 4 * sizeof(double));
    if (!inp || !tgt || !t) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory for the token buffers");
    } else {
        run_steps(c, b->ops, m, opt, oc.lr, inp, tgt, t, r);
        r->peak_rss = lms_peak_rss_bytes();
        lms_gpt_memory mem = lms_gpt_memory_bytes(m);
        r->planned = mem.params + mem.grads + 2 * mem.params + mem.acts + mem.wpack;
        r->kernels = b->name;
        r->params = lms_gpt_num_params(m);
        r->flops_per_token = lms_gpt_flops_per_token(&c->model, c->model.n_ctx);
        r->tokens_per_s = (double)N / r->step_median;
        r->gflops = r->flops_per_token * (double)N / r->step_median / 1e9;
        int host = lms_backend_has(b, LMS_BACKEND_HOST_MEMORY); /* a device's peak is not the CPU's sgemm */
        r->ceiling_gflops = c->ceiling_n > 0 && host ? product_ceiling(prod_sgemm, c->ceiling_n, 5) : 0.0;
        r->bf16_ceiling_gflops = c->ceiling_n > 0 && host && lms_ops_bf16() ? product_ceiling(prod_bf16, c->ceiling_n, 5) : 0.0;
    }
    free(inp);
    free(tgt);
    free(t);
    lms_adamw_free(opt);
    lms_gpt_free(m);
    return st;
}
