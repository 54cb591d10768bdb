/* close.h — comparing a kernel table's output with the reference oracle's: the two tolerance
 * shapes the kernel tests use (tests/test_backend_ops.c, tests/cuda/test_cuda_kernels.c), each
 * printing the worst or first miss with the table's name.
 *
 *   reductions  (close_sum):  |f - r| <= rtol · max|r|                  (+ 1e-30 for all-zero r)
 *   elementwise (close_elem): |f - r| <= rtol · (|r| + 0.1 · max|r|)    (+ 1e-30)
 *
 * The tolerances themselves, and why they are what they are, stay with each test.
 */
#ifndef LMS_TESTS_CLOSE_H
#define LMS_TESTS_CLOSE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static inline double th_maxabs(const float *a, int64_t n) {
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

static inline int th_close_sum(const char *table, const char *what, const float *f, const float *r, int64_t n,
                               double rtol) {
    double m = th_maxabs(r, n), worst = 0.0;
    int64_t wi = -1;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)f[i] - r[i]);
        if (!(e <= worst)) { worst = e; wi = i; }
    }
    int ok = worst <= rtol * m + 1e-30;
    if (!ok)
        fprintf(stderr, "  [%s] %s: worst error %.3g at %lld (table %.9g ref %.9g), max|ref| %.3g, allowed %.3g\n",
                table, what, worst, (long long)wi, wi >= 0 ? f[wi] : 0.0, wi >= 0 ? r[wi] : 0.0, m, rtol * m);
    return ok;
}

static inline int th_close_elem(const char *table, const char *what, const float *f, const float *r, int64_t n,
                                double rtol) {
    double m = th_maxabs(r, n);
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)f[i] - r[i]);
        if (!(e <= rtol * (fabs(r[i]) + 0.1 * m) + 1e-30)) {
            fprintf(stderr, "  [%s] %s: error %.3g at %lld (table %.9g ref %.9g)\n", table, what, e, (long long)i,
                    f[i], r[i]);
            return 0;
        }
    }
    return 1;
}

#endif
