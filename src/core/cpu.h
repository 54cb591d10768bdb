/* cpu.h — what the processor can do, detected once, and the switch that forces the portable
 * reference kernels everywhere (LMS_FORCE_REFERENCE=1 in the environment, or
 * lms_cpu_force_reference(1)), which is how tests compare optimized kernels to their oracle.
 */
#ifndef LMS_CORE_CPU_H
#define LMS_CORE_CPU_H

typedef struct {
    int avx2;      /* AVX2 + FMA */
    int avx512;    /* AVX-512 F, BW, DQ, VL */
    int threads;   /* OpenMP threads the engine will use */
} lms_cpu_info;

const lms_cpu_info *lms_cpu(void);    /* detected on first call */
int lms_cpu_reference_forced(void);   /* 1 when optimized kernels must not be used */
void lms_cpu_force_reference(int on);
void lms_cpu_set_threads(int n);      /* sets OpenMP's thread count (n >= 1) */
const char *lms_cpu_describe(void);   /* e.g. "avx512, 2 threads" */

#endif
