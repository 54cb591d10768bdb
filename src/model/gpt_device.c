/* gpt_device.c — moving a model's weights between backends (gpt.h: lms_gpt_clone_on): a
 * checkpoint is loaded on the host and cloned onto a device table; a device model is cloned back
 * onto the host table to be saved or inspected. Only the public model API and the tables' copy
 * ops are used, so gpt.c keeps no device special cases beyond lms_gpt_init's host mirror.
 *
 * Leaves out: gradients, activations and optimizer state (a clone is weights-only; optim_io.c
 * stages AdamW moments itself).
 */
#include <stdlib.h>

#include "kernels/kernels.h"
#include "model/gpt.h"

lms_status lms_gpt_clone_on(lms_gpt **out, const lms_gpt *src, const lms_ops *ops, int threads, lms_err *err) {
    *out = NULL;
    lms_gpt *m;
    lms_status s = lms_gpt_create_on(&m, lms_gpt_get_config(src), ops, threads, err);
    if (s != LMS_OK) return s;
    const lms_ops *from = lms_gpt_ops(src);
    size_t bytes = (size_t)lms_gpt_num_params(src) * sizeof(float);
    if (!from->device) {
        ops->copy_h2d(lms_gpt_params(m), lms_gpt_params_const(src), bytes); /* host-to-host: memcpy */
        ops->sync();
    } else if (!ops->device) {
        from->copy_d2h(lms_gpt_params(m), lms_gpt_params_const(src), bytes);
    } else { /* device to device, possibly between tables: through the host */
        float *h = malloc(bytes);
        if (!h) {
            lms_gpt_free(m);
            return lms_errf(err, LMS_ERR_NOMEM, "out of memory staging %zu bytes of weights", bytes);
        }
        from->copy_d2h(h, lms_gpt_params_const(src), bytes);
        ops->copy_h2d(lms_gpt_params(m), h, bytes);
        ops->sync();
        free(h);
    }
    *out = m;
    return LMS_OK;
}
