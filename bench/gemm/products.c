/* products.c — the weight products of one training step of a GPT-2 shape, timed one by one with
 * the fp32 table (OpenBLAS sgemm) and the bf16 table (lms_gemm_bf16), so that a slow product
 * shows where the bf16 step loses to fp32. Not a test; bench/gemm/run.sh builds and runs it.
 *
 *   make bench-products                        shapes a, b and c (bench/gemm/run.sh)
 *   build/bench-products L C V B T [reps]      e.g. 4 256 8192 16 256
 *
 * Prints per product (M x N x K as the product sees them): fp32 ms, bf16 ms, ratio, GFLOP/s of
 * each, and the step's totals (each layer's products counted once per layer). Inputs are hot in
 * cache after the first repeat, which a training step does not give them: the step's own ratio
 * (lmscope bench) is lower. Leaves out attention, LayerNorm and the rest of the step.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *randn(int64_t n, unsigned *s) {
    float *p = aligned_alloc(64, ((size_t)n * 4 + 63) / 64 * 64);
    for (int64_t i = 0; i < n; i++) {
        *s = *s * 1664525u + 1013904223u;
        p[i] = ((*s >> 9) * (1.0f / 8388608.0f) - 0.5f) * 0.1f;
    }
    return p;
}

typedef struct { const char *name; int64_t C, OC; lms_wlayout lay; int count; } prod;

/* median of reps timings of fn(which) in seconds */
static double timeit(const lms_ops *K, const prod *p, int64_t N, int dir, float *x, float *w, float *y, float *dx,
                     float *dw, int reps) {
    double t[64];
    for (int r = 0; r < reps + 1; r++) {
        double t0 = now();
        if (dir == 0) K->matmul_fwd(y, x, w, NULL, N, p->C, p->OC, p->lay);
        else if (dir == 1) K->matmul_bwd(dx, NULL, NULL, y, x, w, N, p->C, p->OC, p->lay);
        else K->matmul_bwd(NULL, dw, NULL, y, x, w, N, p->C, p->OC, p->lay);
        if (r) t[r - 1] = now() - t0;
    }
    for (int i = 0; i < reps; i++)
        for (int j = i + 1; j < reps; j++)
            if (t[j] < t[i]) { double s = t[i]; t[i] = t[j]; t[j] = s; }
    return t[reps / 2];
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s L C V B T [reps]\n", argv[0]);
        return 2;
    }
    int64_t L = atoll(argv[1]), C = atoll(argv[2]), V = atoll(argv[3]), N = atoll(argv[4]) * atoll(argv[5]);
    int reps = argc > 6 ? atoi(argv[6]) : 5;
    if (reps > 63) reps = 63;
    const lms_ops *F = lms_ops_fast(), *H = lms_ops_bf16();
    if (!H) {
        printf("SKIPPED: %s\n", lms_ops_bf16_unavailable());
        return 0;
    }
    prod ps[] = {{"qkv", C, 3 * C, LMS_W_IN_OUT, (int)L},   {"attproj", C, C, LMS_W_IN_OUT, (int)L},
                 {"fc", C, 4 * C, LMS_W_IN_OUT, (int)L},    {"fcproj", 4 * C, C, LMS_W_IN_OUT, (int)L},
                 {"lmhead", C, V, LMS_W_OUT_IN, 1}};
    unsigned s = 1;
    int64_t maxw = V * C > 4 * C * C ? V * C : 4 * C * C, maxy = N * (V > 4 * C ? V : 4 * C);
    float *x = randn(N * 4 * C, &s), *w = randn(maxw, &s), *y = randn(maxy, &s), *dx = randn(N * 4 * C, &s),
          *dw = randn(maxw, &s);
    printf("N %lld, %d threads; ms per product (median of %d)\n", (long long)N, omp_get_max_threads(), reps);
    printf("%-8s %-6s %6s %6s %6s %9s %9s %6s %8s %8s\n", "product", "dir", "M", "N", "K", "fp32 ms", "bf16 ms",
           "ratio", "fp32 GF", "bf16 GF");
    const char *dn[3] = {"fwd", "dinp", "dw"};
    double tf = 0, th = 0;
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        for (int d = 0; d < 3; d++) {
            double a = timeit(F, &ps[i], N, d, x, w, y, dx, dw, reps), b = timeit(H, &ps[i], N, d, x, w, y, dx, dw, reps);
            double fl = 2.0 * N * ps[i].C * ps[i].OC;
            int64_t io = ps[i].lay == LMS_W_IN_OUT; /* dW is [C,OC] (IN_OUT) or [OC,C] */
            int64_t m = d == 2 ? (io ? ps[i].C : ps[i].OC) : N, n = d == 0 ? ps[i].OC : d == 1 ? ps[i].C : (io ? ps[i].OC : ps[i].C),
                    k = d == 0 ? ps[i].C : d == 1 ? ps[i].OC : N;
            printf("%-8s %-6s %6lld %6lld %6lld %9.3f %9.3f %6.2f %8.1f %8.1f\n", ps[i].name, dn[d], (long long)m,
                   (long long)n, (long long)k, a * 1e3, b * 1e3, a / b, fl / a * 1e-9, fl / b * 1e-9);
            tf += a * ps[i].count;
            th += b * ps[i].count;
        }
    printf("step's products: fp32 %.1f ms, bf16 %.1f ms, ratio %.2f\n", tf * 1e3, th * 1e3, tf / th);
    return 0;
}
