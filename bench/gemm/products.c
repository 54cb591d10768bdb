/* products.c — the weight products of one training step of a GPT-2 shape, timed one by one with
 * the fp32 table (OpenBLAS sgemm), the bf16 table (lms_gemm_bf16, converting the weight in each
 * product) and the bf16 table's packed weights (matmul_fwd_wp / _bwd_wp, the weight converted by
 * the optimizer step beforehand), so that a slow product shows where the bf16 step loses to fp32.
 * Not a test; bench/gemm/run.sh builds and runs it.
 *
 *   make bench-products                        shapes a, b and c (bench/gemm/run.sh)
 *   build/bench-products L C V B T [reps]      e.g. 4 256 8192 16 256
 *
 * Prints per product (M x N x K as the product sees them): fp32 ms, bf16 ms, ratio, GFLOP/s of
 * each, and the step's totals (each layer's products counted once per layer). The weights come
 * from memory (each repeat reads another copy), as in a training step; the activations stay in
 * cache between repeats, which a step does not give them. Leaves out attention, LayerNorm and the
 * rest of the step.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/gemm_bf16.h"
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

/* Each repeat reads a different copy of the weight (and of its pack), so that, as in a training
   step, the weights come from memory: a pool of at least POOL bytes of copies. */
enum { POOL = 256 << 20 };

/* median of reps timings in seconds; wp: the packs of the weight copies (NULL: K's plain ops) */
static double timeit(const lms_ops *K, const prod *p, int64_t N, int dir, float *x, float **w, void **wp, int nw,
                     float *y, float *dx, float *dw, int reps) {
    double t[64];
    for (int r = 0; r < reps + 1; r++) {
        float *wr = w[r % nw];
        const void *pr = wp ? wp[r % nw] : NULL;
        double t0 = now();
        if (dir == 0 && pr) K->matmul_fwd_wp(y, x, pr, NULL, N, p->C, p->OC, p->lay);
        else if (dir == 0) K->matmul_fwd(y, x, wr, NULL, N, p->C, p->OC, p->lay);
        else if (dir == 1 && pr) K->matmul_bwd_wp(dx, NULL, NULL, y, x, pr, N, p->C, p->OC, p->lay, 1);
        else if (dir == 1) K->matmul_bwd(dx, NULL, NULL, y, x, wr, N, p->C, p->OC, p->lay, 1);
        else K->matmul_bwd(NULL, dw, NULL, y, x, wr, N, p->C, p->OC, p->lay, 1);
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
    float *x = randn(N * 4 * C, &s), *y = randn(maxy, &s), *dx = randn(N * 4 * C, &s), *dw = randn(maxw, &s);
    size_t maxwp = 0; /* the largest pack: W[R,Cc] is [C,OC] or [OC,C] */
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        int io = ps[i].lay == LMS_W_IN_OUT;
        size_t b = H->wpack_bytes(io ? ps[i].C : ps[i].OC, io ? ps[i].OC : ps[i].C);
        maxwp = b > maxwp ? b : maxwp;
    }
    float *wpool = randn(POOL / 4 + maxw, &s);
    char *ppool = aligned_alloc(64, POOL + maxwp);
    if (!wpool || !ppool) {
        fprintf(stderr, "out of memory for the pool of weight copies\n");
        return 1;
    }
    printf("N %lld, %d threads; ms per product (median of %d; weights from a %d MiB pool of copies, as from memory)\n",
           (long long)N, omp_get_max_threads(), reps, POOL >> 20);
    printf("%-8s %-6s %6s %6s %6s %9s %9s %9s %6s %6s %8s %8s %8s\n", "product", "dir", "M", "N", "K", "fp32 ms",
           "bf16 ms", "bf16p ms", "ratio", "ratiop", "fp32 GF", "bf16 GF", "bf16p GF");
    const char *dn[3] = {"fwd", "dinp", "dw"};
    double tf = 0, th = 0, tp = 0;
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        for (int d = 0; d < 3; d++) {
            int io = ps[i].lay == LMS_W_IN_OUT; /* W (and dW) is [C,OC] (IN_OUT) or [OC,C] */
            int64_t R = io ? ps[i].C : ps[i].OC, Cc = io ? ps[i].OC : ps[i].C; /* W[R,Cc] */
            int64_t sz = (R * Cc + 15) / 16 * 16;
            size_t pb = H->wpack_bytes(R, Cc);
            size_t nb = (size_t)sz * 4 > pb ? (size_t)sz * 4 : pb; /* copies of both fit the pool */
            int nw = (int)(POOL / nb) + 1;
            nw = nw > 64 ? 64 : nw;
            float *w[64];
            void *wp[64];
            for (int c = 0; c < nw; c++) {
                w[c] = wpool + c * sz;
                wp[c] = ppool + c * pb;
                lms_bf16_adamw_wpack(wp[c], w[c], NULL, NULL, NULL, R, Cc, NULL);
            }
            double a = timeit(F, &ps[i], N, d, x, w, NULL, nw, y, dx, dw, reps);
            double b = timeit(H, &ps[i], N, d, x, w, NULL, nw, y, dx, dw, reps);
            double c = d < 2 ? timeit(H, &ps[i], N, d, x, w, wp, nw, y, dx, dw, reps) : b;
            double fl = 2.0 * N * ps[i].C * ps[i].OC;
            int64_t m = d == 2 ? (io ? ps[i].C : ps[i].OC) : N, n = d == 0 ? ps[i].OC : d == 1 ? ps[i].C : (io ? ps[i].OC : ps[i].C),
                    k = d == 0 ? ps[i].C : d == 1 ? ps[i].OC : N;
            printf("%-8s %-6s %6lld %6lld %6lld %9.3f %9.3f %9.3f %6.2f %6.2f %8.1f %8.1f %8.1f\n", ps[i].name, dn[d],
                   (long long)m, (long long)n, (long long)k, a * 1e3, b * 1e3, c * 1e3, a / b, a / c, fl / a * 1e-9,
                   fl / b * 1e-9, fl / c * 1e-9);
            tf += a * ps[i].count;
            th += b * ps[i].count;
            tp += c * ps[i].count;
        }
    printf("step's products: fp32 %.1f ms, bf16 %.1f ms (ratio %.2f), bf16 with packed weights %.1f ms (ratio %.2f)\n",
           tf * 1e3, th * 1e3, tf / th, tp * 1e3, tf / tp);
    return 0;
}
