/* device.c — choosing a table by device name (--device cpu|cuda), and the stand-ins for the CUDA
 * table in a build without CUDA (kernels.h: lms_ops_cuda is then always NULL, with the reason).
 *
 * Leaves out: the CUDA table itself (kernels/cuda/, compiled only with make CUDA=1).
 */
#include <string.h>

#include "kernels/kernels.h"

#ifndef LMS_CUDA
const lms_ops *lms_ops_cuda(void) { return NULL; }
const char *lms_ops_cuda_unavailable(void) {
    return "this lmscope was built without CUDA: make CUDA=1 (needs the CUDA toolkit with cuBLAS)";
}
#endif

const lms_ops *lms_ops_for_device(const char *name, lms_err *err) {
    if (!name || strcmp(name, "cpu") == 0) return lms_ops_get();
    if (strcmp(name, "cuda") == 0) {
        const lms_ops *k = lms_ops_cuda();
        if (!k) lms_errf(err, LMS_ERR_UNSUPPORTED, "--device cuda: %s", lms_ops_cuda_unavailable());
        return k;
    }
    lms_errf(err, LMS_ERR_ARG, "unknown device '%s': use cpu or cuda", name);
    return NULL;
}
