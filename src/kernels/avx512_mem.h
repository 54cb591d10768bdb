/* avx512_mem.h — private to kernels/: the lane masks and masked loads and stores that the AVX-512
 * files (fast_avx512.c, gemm_bf16_avx512.c) share. Include only from a file compiled with AVX-512
 * (the Makefile adds the flags by file name).
 *
 * Masked memory operations are slow on Zen 5 even with every lane set (measured: AdamW over 124M
 * parameters 68 ms with masked loads and stores, 31 ms with plain ones), so ldm / stm / stm32 take
 * the plain instruction when the mask is full and the masked one only at tails.
 */
#ifndef LMS_KERNELS_AVX512_MEM_H
#define LMS_KERNELS_AVX512_MEM_H

#include <immintrin.h>
#include <stdint.h>

/* the first min(max(n, 0), 16) lanes */
static inline __mmask16 lms_lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}
static inline __m512 ldm(__mmask16 k, const float *p) {
    return k == (__mmask16)0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(k, p);
}
static inline void stm(float *p, __mmask16 k, __m512 v) {
    if (k == (__mmask16)0xFFFF) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, k, v);
}
static inline void stm32(uint32_t *p, __mmask16 k, __m512i v) {
    if (k == (__mmask16)0xFFFF) _mm512_storeu_si512(p, v);
    else _mm512_mask_storeu_epi32(p, k, v);
}

#endif
