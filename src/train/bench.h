/* bench.h — the training-step benchmark behind 'lmscope bench' (the CLI parses flags and prints):
 * build a model on a backend, run untimed warm-up steps and then timed full steps (zero_grad +
 * forward + backward + AdamW) on random tokens, and measure this machine's product ceilings.
 *
 *   lms_backend be; lms_backend_init(&be, lms_ops_get(), 0, &err);
 *   lms_bench_train_config bc = {.model = cfg, .batch = 16, .steps = 10, .warmup = 2, .seed = 1, .ceiling_n = 2048};
 *   lms_bench_train_result r;
 *   if (lms_bench_train(&bc, &be, &r, &err)) ...; printf("%.1f tokens/s\n", r.tokens_per_s);
 *
 * Leaves out: decoding and scoring benchmarks (the CLI's), comparisons with other programs (bench/).
 */
#ifndef LMS_TRAIN_BENCH_H
#define LMS_TRAIN_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "kernels/backend.h"
#include "model/gpt.h"

typedef struct {
    lms_gpt_config model; /* n_ctx is the sequence length of every step */
    int batch;            /* sequences per step, >= 1 */
    int steps, warmup;    /* timed steps (>= 1), untimed steps first (>= 0) */
    uint64_t seed;        /* weights (GPT-2 init) and, with seed + 1, the tokens */
    int ceiling_n;        /* n of the n x n x n products measuring the ceilings; 0: not measured */
} lms_bench_train_config;

typedef struct {
    const char *kernels;                     /* the model's table name */
    int64_t params;
    double step_median, step_min, step_max;  /* seconds, over the timed steps */
    double forward, backward, optimizer;     /* medians of the step's parts, seconds */
    double tokens_per_s, flops_per_token, gflops; /* from the median step; lms_gpt_flops_per_token */
    double ceiling_gflops;       /* OpenBLAS sgemm, best of 5, same threads; 0 off the host or ceiling_n 0 */
    double bf16_ceiling_gflops;  /* the bf16 table's product likewise; 0 where there is none */
    size_t peak_rss, planned;    /* bytes: peak RSS after the steps; params + grads + 2 moments + acts + packs */
    float loss_first, loss_last;
} lms_bench_train_result;

/* Run the benchmark on backend b (a host backend, or a device one: its queued ops are waited for
   with sync before each timing). The ceilings are measured after the steps (their buffers do not
   count in the peak RSS), only on a backend with LMS_BACKEND_HOST_MEMORY. LMS_ERR_ARG for a bad
   config, LMS_ERR_NOMEM when the model or its buffers cannot be allocated; r is filled on LMS_OK. */
lms_status lms_bench_train(const lms_bench_train_config *c, const lms_backend *b, lms_bench_train_result *r, lms_err *err);

/* The median of v[0..n) (n >= 1; v is sorted in place): every benchmark's summary of its timings. */
double lms_bench_median(double *v, int n);

#endif
