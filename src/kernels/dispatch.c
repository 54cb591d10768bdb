/* dispatch.c — picks the kernel table once: the optimized one unless the reference is forced. */
#include "core/cpu.h"
#include "kernels/kernels.h"

const lms_ops *lms_ops_get(void) { return lms_cpu_reference_forced() ? lms_ops_reference() : lms_ops_fast(); }
