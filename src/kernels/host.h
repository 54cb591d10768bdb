/* host.h — private to kernels/: what every CPU table shares. Host memory (aligned zeroed blocks
 * from core/mem.h, memcpy, memset, a sync with nothing to wait for) and the fixed chunking of the
 * global-norm reduction, which makes every table's global_norm give the same bits.
 *
 * Leaves out: the ops themselves (ref.c, fast.c), device memory (a later CUDA backend's own file).
 */
#ifndef LMS_KERNELS_HOST_H
#define LMS_KERNELS_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "kernels/kernels.h"

void *lms_host_alloc(size_t bytes, lms_err *err); /* lms_alloc: zeroed, 64-byte aligned */
void lms_host_free(void *p);
void lms_host_copy(void *dst, const void *src, size_t bytes); /* memcpy, for all three directions */
void lms_host_memset(void *dst, int byte, size_t bytes);
void lms_host_sync(void); /* nothing is ever in flight */

/* What every CPU table declares: host memory, decoding ops that infer.c's threads split. */
#define LMS_HOST_CAPS (LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE)

/* The memory fields of a host table, for its initializer. They do not set .caps: give it
   separately (.caps = LMS_HOST_CAPS | ...), since a table whose caps lack LMS_BACKEND_HOST_MEMORY
   (caps 0 included) keeps device memory and is reached only through its copies. */
#define LMS_HOST_MEMORY_OPS                                                                        \
    .buf_alloc = lms_host_alloc, .buf_free = lms_host_free, .copy_h2d = lms_host_copy,  \
    .copy_d2h = lms_host_copy, .copy_d2d = lms_host_copy, .buf_memset = lms_host_memset,           \
    .sync = lms_host_sync

/* global_norm's chunks: a size that depends only on n (at most LMS_NORM_MAX_CHUNKS of them), so
   the partial sums and their order do not depend on the number of threads. */
#define LMS_NORM_MAX_CHUNKS 1024
static inline int64_t lms_norm_chunk(int64_t n) {
    int64_t chunk = (n + LMS_NORM_MAX_CHUNKS - 1) / LMS_NORM_MAX_CHUNKS;
    return chunk < 4096 ? 4096 : chunk;
}
/* sum of g[i]² for lo <= i < hi, in double, in index order */
static inline double lms_norm_chunk_sum(const float *g, int64_t lo, int64_t hi) {
    double s = 0.0;
    for (int64_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
    return s;
}

#endif
