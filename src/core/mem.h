/* mem.h — aligned allocation for planned buffers.
 *
 * The engine allocates one aligned buffer per role (parameters, gradients, moments, activations)
 * from a size table and hands out views into it; nothing is allocated inside a training step.
 * lms_alloc returns memory aligned to LMS_ALIGN bytes (a cache line and an AVX-512 register) and
 * zero-filled; free it with lms_free. Both are thin wrappers so that the one place to change an
 * allocation policy (huge pages, NUMA) is here.
 */
#ifndef LMS_CORE_MEM_H
#define LMS_CORE_MEM_H

#include <stddef.h>
#include "core/status.h"

#define LMS_ALIGN 64

/* Round n up to a multiple of LMS_ALIGN / sizeof(float) floats (so views stay aligned). */
static inline size_t lms_align_floats(size_t n) { return (n + 15) & ~(size_t)15; }

/* Zeroed, LMS_ALIGN-aligned block of `bytes` bytes; NULL and err filled on failure. */
void *lms_alloc(size_t bytes, lms_err *err);
void lms_free(void *p);

/* Peak resident set size of this process in bytes (from getrusage), 0 if unknown. */
size_t lms_peak_rss_bytes(void);

#endif
