/* backend.h — a backend instance: the kernel table a model runs on (kernels.h: lms_ops, the
 * interface), its thread count and the capabilities the table declares, as one value that each
 * model holds (model/gpt.h: lms_gpt_backend), the way ggml pairs a backend's interface
 * (ggml_backend_i) with an instance. Host code that must read or write a backend's buffer memory
 * does it here: through the table's copies, or a host view that is the buffer itself only when
 * the backend declares LMS_BACKEND_HOST_MEMORY.
 *
 *   lms_backend be;
 *   if (lms_backend_for_device(&be, "cuda", "fp32", 0, &err)) { ...err.msg... }
 *   lms_gpt_create_on(&m, &cfg, be.ops, be.threads, &err);
 *   if (!lms_backend_has(lms_gpt_backend(m), LMS_BACKEND_HOST_MEMORY)) ...copies...
 *   void *tmp; const float *p = lms_backend_read_view(b, buf, bytes, &tmp, &err); ...; lms_free(tmp);
 *
 * Leaves out: the ops themselves (kernels.h and the table files), per-instance device state (the
 * CUDA table keeps one stream for the process).
 */
#ifndef LMS_KERNELS_BACKEND_H
#define LMS_KERNELS_BACKEND_H

#include <stddef.h>

#include "core/status.h"
#include "kernels/kernels.h"

typedef struct lms_backend {
    const lms_ops *ops;   /* the interface: every op, buffer and copy goes through it */
    const char *name;     /* ops->name */
    int threads;          /* OpenMP threads for the batch ops; 0: the process's (lms_cpu_set_threads) */
    unsigned caps;        /* ops->caps: LMS_BACKEND_* (kernels.h) */
} lms_backend;

/* An instance of table ops with a thread count. LMS_ERR_ARG (b unchanged) for ops NULL, threads < 0
   or a table that fails lms_ops_check. */
lms_status lms_backend_init(lms_backend *b, const lms_ops *ops, int threads, lms_err *err);

/* An instance from the names that the CLI's --device and --precision take: device "cpu" (or
   NULL) or "cuda" (kernels.h: lms_ops_for_device), precision "fp32" (or NULL) or "bf16" (the
   CPU's lms_ops_bf16). Fails with the reason and the fix: LMS_ERR_ARG for unknown names and for
   bf16 on a device (its table has no bf16 products), LMS_ERR_UNSUPPORTED for a device or
   precision this build or machine lacks. b is unchanged on failure. 'lmscope bench' makes its
   backend with it; train resolves --device in its config check and lms_train_open (train.h). */
lms_status lms_backend_for_device(lms_backend *b, const char *device, const char *precision, int threads,
                                  lms_err *err);

/* Data parallelism over `ranks` processes (MPI) on device `device` (as --device takes it): LMS_OK
   for ranks <= 1 or the CPU; otherwise LMS_ERR_ARG saying why and what to run instead (gradients
   are exchanged in host memory; NCCL is not written). Decided by the name alone, so it refuses
   the same way in a build without CUDA. */
lms_status lms_backend_check_ranks(const char *device, int ranks, lms_err *err);

/* 1 when the backend declares every flag of cap (LMS_BACKEND_* ORed), 0 otherwise */
static inline int lms_backend_has(const lms_backend *b, unsigned cap) { return (b->caps & cap) == cap; }

/* "host-memory split-decode fused-lmhead ..." (the declared flags) into buf of cap bytes, cut
   short (still NUL-terminated) when it does not fit; cap 0 writes nothing. Returns buf. */
const char *lms_backend_caps_str(unsigned caps, char *buf, size_t cap);

/* Host memory holding the bytes at buf (the backend's memory), for reading: buf itself on a
   host-memory backend (*tmp = NULL), otherwise a new host copy made with copy_d2h (*tmp: that
   block, free it with lms_free after the last read). NULL with LMS_ERR_NOMEM if the copy cannot
   be allocated. */
const void *lms_backend_read_view(const lms_backend *b, const void *buf, size_t bytes, void **tmp, lms_err *err);
/* Host memory to write the bytes that go to buf: buf itself on a host-memory backend, otherwise a
   new host block (*tmp, contents undefined); lms_backend_write_done then copies it in (copy_h2d,
   and waits) and frees it. NULL with LMS_ERR_NOMEM. */
void *lms_backend_write_view(const lms_backend *b, void *buf, size_t bytes, void **tmp, lms_err *err);
void lms_backend_write_done(const lms_backend *b, void *buf, void *tmp, size_t bytes);

/* Copy bytes from src (in backend from's memory) to dst (in backend to's memory), through a host
   block of at most 64 MiB when either keeps device memory. LMS_ERR_NOMEM if that block cannot be
   had (before anything is copied). */
lms_status lms_backend_transfer(const lms_backend *to, void *dst, const lms_backend *from, const void *src,
                                size_t bytes, lms_err *err);

#endif
