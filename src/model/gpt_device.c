/* gpt_device.c — moving a model's weights between backends (gpt.h: lms_gpt_clone_on): a
 * checkpoint is loaded on the host and cloned onto a device table; a device model is cloned back
 * onto the host table to be inspected. Only the public model API and the backends' transfer
 * (kernels/backend.h: one copy, through the host between two devices) are used, so gpt.c keeps no
 * device special cases.
 *
 * Leaves out: gradients, activations and optimizer state (a clone is weights-only; optim_io.c
 * stages AdamW moments itself).
 */
#include "kernels/backend.h"
#include "model/gpt.h"

lms_status lms_gpt_clone_on(lms_gpt **out, const lms_gpt *src, const lms_ops *ops, int threads, lms_err *err) {
    *out = NULL;
    lms_gpt *m;
    lms_status s = lms_gpt_create_on(&m, lms_gpt_get_config(src), ops, threads, err);
    if (s != LMS_OK) return s;
    size_t bytes = (size_t)lms_gpt_num_params(src) * sizeof(float);
    s = lms_backend_transfer(lms_gpt_backend(m), lms_gpt_params(m), lms_gpt_backend(src), lms_gpt_params_const(src), bytes, err);
    if (s != LMS_OK) {
        lms_gpt_free(m);
        return s;
    }
    *out = m;
    return LMS_OK;
}
