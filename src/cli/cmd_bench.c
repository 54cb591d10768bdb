/* cmd_bench.c — the 'bench' subcommand: training-step and decoding throughput on random tokens.
 *
 *   lmscope bench --layers 4 --heads 4 --dim 256 --vocab 8192 --batch 16 --ctx 256 [--steps 10
 *                 --warmup 2 --threads 2]
 *   lmscope bench ... --sample [--bf16] KV-cache decoding at batch 1 instead of training
 *   lmscope bench ... --score         forward-only scoring (model/score.h) of --batch x --ctx tokens
 *   lmscope bench ... --precision bf16 training with the avx512-bf16 table (bf16 matrix products)
 *
 * Training: builds a model (GPT-2 init), runs --warmup untimed then --steps timed full steps
 * (zero_grad + forward + backward + AdamW) and prints ONE JSON line: the median step time (and
 * its forward / backward / optimizer parts), tokens/s and GFLOP/s from the median, the exact FLOP
 * count per token (lms_gpt_flops_per_token), this machine's sgemm ceiling measured in the same run
 * at the same thread count (a 2048³ sgemm, best of 5, AFTER the steps so its buffers do not count
 * in the peak RSS), the fraction of it reached, the peak RSS and the planned memory (params + grads
 * + 2 AdamW moments + activations). Where the CPU has AVX512-BF16 it also measures the bf16
 * ceiling the same way (the bf16 table's 2048³ product) and the fraction of it reached, whatever
 * --precision says, so fp32 and bf16 rows can be set against both ceilings.
 * Decoding (--sample): decodes --steps sequences of --ctx tokens, feeding back the argmax, and
 * reports the median over sequences of tokens/s (the logits of every token included); --bf16
 * reads bfloat16 copies of the weight matrices (lms_infer_set_bf16).
 *
 * Scoring (--score): a weights-only model (no gradients, no training activations) and a scorer for
 * --batch x --ctx; every position scored (the worst case: all logits computed); median over
 * --steps batches of tokens/s, GFLOP/s from the exact forward FLOPs (a third of the training
 * count), the peak RSS and the scorer's planned bytes.
 *
 * --device cuda (a build with make CUDA=1 and a GPU) runs the training step on the CUDA table: the
 * step's parts are timed after a sync of the device; the CPU sgemm ceiling is then not measured
 * (tools/gpu_check.sh computes MFU against the GPU's peak). --sample and --score stay on the CPU.
 *
 * The training step itself is the library's (train/bench.h: lms_bench_train); this file parses the
 * flags, runs the decoding and scoring variants and prints.
 *
 * Exit status: 0 done; 1 the model could not be built (memory), or the device is unusable; 2 bad flags.
 * Leaves out: comparisons with other programs (bench/run.sh does those).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu.h"
#include "core/mem.h"
#include "core/rng.h"
#include "core/timer.h"
#include "kernels/backend.h"
#include "kernels/kernels.h"
#include "model/gpt.h"
#include "model/infer.h"
#include "model/score.h"
#include "train/bench.h"

static int bench_sample(lms_gpt *m, const lms_gpt_config *cfg, int steps, int warmup, int threads, int bf16) {
    lms_err err = {0};
    lms_infer *s = NULL;
    if (lms_infer_create(&s, m, cfg->n_ctx, &err) != LMS_OK) {
        lms_cli_error("bench", "%s", err.msg);
        return 1;
    }
    if (bf16 && lms_infer_set_bf16(s, 1, &err) != LMS_OK) {
        lms_cli_error("bench", "%s", err.msg);
        lms_infer_free(s);
        return 1;
    }
    int n = steps + warmup;
    double *tps = malloc((size_t)n * sizeof(double));
    uint64_t check = 0;
    for (int r = 0; r < n; r++) {
        lms_infer_reset(s);
        int32_t tok = r % cfg->vocab_size;
        double t0 = lms_now();
        for (int i = 0; i < cfg->n_ctx; i++) {
            const float *lg = lms_infer_step(s, tok);
            int best = 0;
            for (int v = 1; v < cfg->vocab_size; v++) best = lg[v] > lg[best] ? v : best;
            tok = best;
        }
        tps[r] = cfg->n_ctx / (lms_now() - t0);
        check = check * 31 + (uint64_t)tok;
    }
    double med = lms_bench_median(tps + warmup, steps);
    printf("{\"mode\":\"sample\",\"layers\":%d,\"heads\":%d,\"dim\":%d,\"vocab\":%d,\"ctx\":%d,\"batch\":1,"
           "\"threads\":%d,\"kernels\":\"%s\",\"blas_core\":\"%s\",\"weights\":\"%s\",\"params\":%lld,\"sequences\":%d,\"tokens_per_s\":%.1f,"
           "\"tokens_per_s_min\":%.1f,\"tokens_per_s_max\":%.1f,\"us_per_token\":%.2f,\"peak_rss_bytes\":%zu,"
           "\"checksum\":%llu}\n",
           cfg->n_layer, cfg->n_head, cfg->n_embd, cfg->vocab_size, cfg->n_ctx, threads, lms_ops_get()->name, openblas_get_corename(),
           bf16 ? "bf16" : "fp32", (long long)lms_gpt_num_params(m), steps, med, tps[warmup], tps[n - 1], 1e6 / med,
           lms_peak_rss_bytes(), (unsigned long long)(check % 1000003));
    free(tps);
    lms_infer_free(s);
    return 0;
}

static int bench_score(lms_gpt *m, const lms_gpt_config *cfg, int batch, int steps, int warmup, int threads,
                       uint64_t seed) {
    lms_err err = {0};
    lms_scorer *s = NULL;
    if (lms_scorer_create(&s, m, batch, cfg->n_ctx, &err) != LMS_OK) {
        lms_cli_error("bench", "%s", err.msg);
        return 1;
    }
    int64_t N = (int64_t)batch * cfg->n_ctx;
    int32_t *inp = malloc((size_t)N * sizeof(int32_t)), *tgt = malloc((size_t)N * sizeof(int32_t));
    float *lp = malloc((size_t)N * sizeof(float));
    int n = steps + warmup;
    double *ts = malloc((size_t)n * sizeof(double)), sum = 0;
    if (!inp || !tgt || !lp || !ts) {
        lms_cli_error("bench", "out of memory for the token buffers");
        return 1;
    }
    lms_rng rng;
    lms_rng_seed(&rng, seed + 1);
    for (int r = 0; r < n; r++) {
        for (int64_t i = 0; i < N; i++) {
            inp[i] = (int32_t)lms_rng_below(&rng, (uint64_t)cfg->vocab_size);
            tgt[i] = (int32_t)lms_rng_below(&rng, (uint64_t)cfg->vocab_size);
        }
        double t0 = lms_now();
        lms_gpt_score(s, inp, tgt, batch, cfg->n_ctx, lp, NULL);
        ts[r] = lms_now() - t0;
        for (int64_t i = 0; i < N; i++) sum -= lp[i];
    }
    double med = lms_bench_median(ts + warmup, steps);
    double fpt = lms_gpt_flops_per_token(cfg, cfg->n_ctx) / 3.0;
    printf("{\"mode\":\"score\",\"layers\":%d,\"heads\":%d,\"dim\":%d,\"vocab\":%d,\"batch\":%d,\"ctx\":%d,"
           "\"threads\":%d,\"kernels\":\"%s\",\"blas_core\":\"%s\",\"params\":%lld,\"steps\":%d,\"batch_s_median\":%.5f,"
           "\"tokens_per_s\":%.1f,\"flops_per_token\":%.6g,\"gflops\":%.2f,\"mean_loss\":%.4f,"
           "\"peak_rss_bytes\":%zu,\"planned_bytes\":%zu}\n",
           cfg->n_layer, cfg->n_head, cfg->n_embd, cfg->vocab_size, batch, cfg->n_ctx, threads, lms_ops_get()->name, openblas_get_corename(),
           (long long)lms_gpt_num_params(m), steps, med, (double)N / med, fpt, fpt * (double)N / med / 1e9,
           sum / ((double)N * n), lms_peak_rss_bytes(),
           lms_gpt_memory_bytes(m).params + lms_scorer_bytes(cfg, batch, cfg->n_ctx));
    free(inp), free(tgt), free(lp), free(ts);
    lms_scorer_free(s);
    return 0;
}

/* --sample / --score: a weights-only model on the CPU */
static int bench_decode_or_score(const lms_gpt_config *cfg, int sample, int bf16, int batch, int steps, int warmup,
                                 int threads, uint64_t seed) {
    lms_gpt *m = NULL;
    lms_err err = {0};
    if (lms_gpt_create_weights(&m, cfg, &err) != LMS_OK) {
        lms_cli_error("bench", "%s", err.msg);
        return 1;
    }
    lms_gpt_init(m, seed);
    int rc = sample ? bench_sample(m, cfg, steps, warmup, threads, bf16) : bench_score(m, cfg, batch, steps, warmup, threads, seed);
    lms_gpt_free(m);
    return rc;
}

/* The training row: one JSON line (the keys bench/ and tools/ read) */
static void print_train(const lms_bench_train_result *rp, const lms_gpt_config *cfg, int batch, int threads, int steps,
                        int warmup, const char *precision) {
    lms_bench_train_result r = *rp;
    int layers = cfg->n_layer, heads = cfg->n_head, dim = cfg->n_embd, vocab = cfg->vocab_size, ctx = cfg->n_ctx;
    double ce = r.ceiling_gflops, c16 = r.bf16_ceiling_gflops;
    printf("{\"mode\":\"train\",\"layers\":%d,\"heads\":%d,\"dim\":%d,\"vocab\":%d,\"batch\":%d,\"ctx\":%d,"
           "\"threads\":%d,\"kernels\":\"%s\",\"blas_core\":\"%s\",\"params\":%lld,\"steps\":%d,\"warmup\":%d,"
           "\"step_s_median\":%.5f,\"step_s_min\":%.5f,\"step_s_max\":%.5f,\"forward_s\":%.5f,"
           "\"backward_s\":%.5f,\"optimizer_s\":%.5f,\"tokens_per_s\":%.1f,\"flops_per_token\":%.6g,"
           "\"gflops\":%.2f,\"ceiling_gflops\":%.2f,\"fraction_of_ceiling\":%.3f,\"precision\":\"%s\","
           "\"bf16_ceiling_gflops\":%.2f,\"fraction_of_bf16_ceiling\":%.3f,\"peak_rss_bytes\":%zu,"
           "\"planned_bytes\":%zu,\"rss_over_planned\":%.3f,\"loss_first\":%.4f,\"loss_last\":%.4f}\n",
           layers, heads, dim, vocab, batch, ctx, threads, r.kernels, openblas_get_corename(), (long long)r.params, steps,
           warmup, r.step_median, r.step_min, r.step_max, r.forward, r.backward, r.optimizer, r.tokens_per_s,
           r.flops_per_token, r.gflops, ce, ce > 0 ? r.gflops / ce : 0.0, precision, c16, c16 > 0 ? r.gflops / c16 : 0.0,
           r.peak_rss, r.planned, r.planned ? (double)r.peak_rss / r.planned : 0.0, r.loss_first, r.loss_last);
}

/* The flags that need no model: 2 (after the message) when one is out of range, else 0 */
static int check_usage(int npos, char **pos, int steps, int warmup, int threads, int batch, int ctx, int ceiling_n,
                       const char *precision, int decode) {
    if (npos > 0) {
        lms_cli_error("bench", "unexpected argument '%s' (all settings are --flags; see --help)", pos[0]);
        return 2;
    }
    if (steps < 1 || warmup < 0 || threads < 1 || batch < 1 || ctx < 1 || ceiling_n < 0) {
        lms_cli_error("bench", "--steps, --threads, --batch and --ctx must be >= 1, --warmup and --ceiling-size >= 0");
        return 2;
    }
    int bf16 = strcmp(precision, "bf16") == 0;
    if (!bf16 && strcmp(precision, "fp32") != 0) {
        lms_cli_error("bench", "--precision '%s' is not one of fp32, bf16", precision);
        return 2;
    }
    if (bf16 && decode) {
        lms_cli_error("bench", "--precision bf16 measures training; for bf16 decoding use --sample --bf16");
        return 2;
    }
    if (bf16 && !lms_ops_bf16()) {
        lms_cli_error("bench", "--precision bf16: %s", lms_ops_bf16_unavailable());
        return 2;
    }
    return 0;
}

int lms_cmd_bench(int argc, char **argv) {
    int layers = 4, heads = 4, dim = 256, vocab = 8192, batch = 16, ctx = 256, steps = 10, warmup = 2;
    int threads = 2, sample = 0, bf16 = 0, score = 0, ceiling_n = 2048;
    int64_t seed = 1;
    const char *precision = "fp32";
    const char *device = "cpu";
    lms_flag flags[] = {
        {"layers", LMS_FLAG_INT, &layers, "transformer blocks", 0},
        {"heads", LMS_FLAG_INT, &heads, "attention heads (must divide --dim)", 0},
        {"dim", LMS_FLAG_INT, &dim, "model width C", 0},
        {"vocab", LMS_FLAG_INT, &vocab, "vocabulary size", 0},
        {"batch", LMS_FLAG_INT, &batch, "sequences per step (training)", 0},
        {"ctx", LMS_FLAG_INT, &ctx, "tokens per sequence", 0},
        {"steps", LMS_FLAG_INT, &steps, "timed steps (training) or sequences (--sample)", 0},
        {"warmup", LMS_FLAG_INT, &warmup, "untimed steps first", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads (OpenMP and OpenBLAS)", 0},
        {"sample", LMS_FLAG_BOOL, &sample, "measure KV-cache decoding at batch 1 instead of training", 0},
        {"score", LMS_FLAG_BOOL, &score, "measure forward-only scoring of --batch x --ctx tokens instead of training", 0},
        {"bf16", LMS_FLAG_BOOL, &bf16, "--sample: bfloat16 copies of the weight matrices (fp32 arithmetic)", 0},
        {"precision", LMS_FLAG_STR, &precision, "training: fp32, or bf16 (bfloat16 matrix products, fp32 sums; needs AVX512-BF16)", 0},
        {"ceiling-size", LMS_FLAG_INT, &ceiling_n, "size n of the n x n x n sgemm that measures the ceiling (0: skip)", 0},
        {"seed", LMS_FLAG_I64, &seed, "seed for the weights and tokens", 0},
        {"device", LMS_FLAG_STR, &device, "cpu, or cuda (training only; needs make CUDA=1 and a GPU)", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse("bench", "Measure training-step or decoding throughput on random tokens.", flags,
                            argc, argv, &pos, &npos);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if ((rc = check_usage(npos, pos, steps, warmup, threads, batch, ctx, ceiling_n, precision, sample || score))) return rc;
    lms_gpt_config cfg = {.n_layer = layers, .n_head = heads, .n_embd = dim, .n_ctx = ctx, .vocab_size = vocab};
    lms_err err = {0};
    if (lms_gpt_config_check(&cfg, &err) != LMS_OK) {
        lms_cli_error("bench", "%s", err.msg);
        return 2;
    }
    lms_cpu_set_threads(threads);
    lms_backend be; /* an unknown device or bf16 on a device: usage (2); a device this machine lacks: 1 */
    if (lms_backend_for_device(&be, device, precision, 0, &err) != LMS_OK) {
        lms_cli_error("bench", "%s", err.msg);
        return err.code == LMS_ERR_ARG ? 2 : 1;
    }
    if (!lms_backend_has(&be, LMS_BACKEND_HOST_MEMORY) && (sample || score)) {
        lms_cli_error("bench", "--device %s measures training only; drop --sample / --score", device);
        return 2;
    }
    if (sample || score) return bench_decode_or_score(&cfg, sample, bf16, batch, steps, warmup, threads, (uint64_t)seed);
    lms_bench_train_config bc = {.model = cfg, .batch = batch, .steps = steps, .warmup = warmup, .seed = (uint64_t)seed,
                                 .ceiling_n = ceiling_n};
    lms_bench_train_result r;
    if (lms_bench_train(&bc, &be, &r, &err) != LMS_OK) {
        lms_cli_error("bench", "%s", err.msg);
        return 1;
    }
    print_train(&r, &cfg, batch, threads, steps, warmup, precision);
    return 0;
}
