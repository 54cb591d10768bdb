/* dispatch.c — the table registry: which tables this machine can run, the default one (the
 * optimized one unless the reference is forced), the per-model thread-count scope, and the
 * bfloat16 packing shared by every table's dec_*_bf16 ops (layout in kernels.h).
 *
 * Leaves out: the tables themselves (ref.c, fast.c, gemm_bf16.c).
 */
#include <omp.h>

#include "core/cpu.h"
#include "kernels/kernels.h"

const lms_ops *lms_ops_get(void) { return lms_cpu_reference_forced() ? lms_ops_reference() : lms_ops_fast(); }

int lms_ops_all(const lms_ops **out, int cap) {
    const lms_ops *t[4] = {lms_ops_reference(), lms_ops_generic(), lms_ops_avx512(), lms_ops_bf16()};
    int n = 0;
    for (int i = 0; i < 4; i++)
        if (t[i]) {
            if (n < cap) out[n] = t[i];
            n++;
        }
    return n;
}

int lms_ops_threads_begin(int n) {
    if (n <= 0) return 0;
    int prev = omp_get_max_threads();
    if (prev != n) omp_set_num_threads(n);
    return prev;
}

void lms_ops_threads_end(int prev) {
    if (prev > 0 && omp_get_max_threads() != prev) omp_set_num_threads(prev);
}

void lms_bf16_pack(uint16_t *dst, const float *src, int64_t R, int64_t n) {
    int64_t np = lms_bf16_row(n);
    for (int64_t r = 0; r < R; r++) {
        uint16_t *d = dst + r * np;
        const float *x = src + r * n;
        for (int64_t g = 0; g < np / 32; g++)
            for (int k = 0; k < 16; k++) {
                int64_t e0 = 32 * g + k, e1 = e0 + 16;
                d[32 * g + 2 * k] = e0 < n ? lms_bf16_from_f32(x[e0]) : 0;
                d[32 * g + 2 * k + 1] = e1 < n ? lms_bf16_from_f32(x[e1]) : 0;
            }
    }
}
