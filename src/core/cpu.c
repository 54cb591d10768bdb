/* cpu.c — CPU feature detection and thread count (see cpu.h). */
#include "core/cpu.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static lms_cpu_info g_info;
static int g_detected;
static int g_force_ref = -1;

const lms_cpu_info *lms_cpu(void) {
    if (!g_detected) {
        __builtin_cpu_init();
        g_info.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        g_info.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
        g_info.threads = omp_get_max_threads();
        g_detected = 1;
    }
    return &g_info;
}

int lms_cpu_reference_forced(void) {
    if (g_force_ref < 0) {
        const char *e = getenv("LMS_FORCE_REFERENCE");
        g_force_ref = (e && e[0] && e[0] != '0') ? 1 : 0;
    }
    return g_force_ref;
}

void lms_cpu_force_reference(int on) { g_force_ref = on ? 1 : 0; }

void lms_cpu_set_threads(int n) {
    if (n < 1) n = 1;
    omp_set_num_threads(n);
    lms_cpu();
    g_info.threads = n;
}

const char *lms_cpu_describe(void) {
    static char buf[64];
    const lms_cpu_info *c = lms_cpu();
    snprintf(buf, sizeof buf, "%s%s, %d thread%s", lms_cpu_reference_forced() ? "reference kernels, " : "",
             c->avx512 ? "avx512" : c->avx2 ? "avx2" : "baseline x86-64", c->threads, c->threads == 1 ? "" : "s");
    return buf;
}
