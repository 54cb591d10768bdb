/* mem.c — aligned, zeroed allocation (see mem.h). */
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

void *lms_alloc(size_t bytes, lms_err *err) {
    size_t rounded = (bytes + LMS_ALIGN - 1) & ~(size_t)(LMS_ALIGN - 1);
    if (rounded == 0) rounded = LMS_ALIGN;
    void *p = aligned_alloc(LMS_ALIGN, rounded);
    if (!p) {
        lms_errf(err, LMS_ERR_NOMEM, "out of memory allocating %.1f MiB; try a smaller model, batch or context",
                 (double)bytes / (1 << 20));
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void lms_free(void *p) { free(p); }

size_t lms_peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}
