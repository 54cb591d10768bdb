/* host.c — the host-memory fields shared by every CPU kernel table (see host.h, kernels.h). */
#include "kernels/host.h"

#include <string.h>

#include "core/mem.h"

void *lms_host_alloc(size_t bytes, lms_err *err) { return lms_alloc(bytes, err); }
void lms_host_free(void *p) { lms_free(p); }
void lms_host_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) memcpy(dst, src, bytes);
}
void lms_host_memset(void *dst, int byte, size_t bytes) {
    if (bytes) memset(dst, byte, bytes);
}
void lms_host_sync(void) {}
