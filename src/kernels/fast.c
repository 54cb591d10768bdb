/* fast.c — the optimized kernel table. Placeholder: the reference until the optimized ops land. */
#include "kernels/kernels.h"

const lms_ops *lms_ops_fast(void) { return lms_ops_reference(); }
