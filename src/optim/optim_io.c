/* optim_io.c — saving and loading AdamW state (optim.h: lms_adamw_save, lms_adamw_load).
 *
 * The optimizer lives here; the file format (a safetensors file of "m.<name>" / "v.<name>" tensors
 * with the step, the config and the caller's metadata) is model/checkpoint.c's, which takes plain
 * moment buffers, so model/ does not depend on optim/. Moments in device memory (a table with
 * device = 1) go through a host copy; host tables hand their buffers over directly.
 *
 * Leaves out: other optimizers, sharded optimizer state.
 */
#include <stdio.h>

#include "core/mem.h"
#include "model/checkpoint.h"
#include "optim/optim.h"

lms_status lms_adamw_save(const char *path, const lms_adamw *o, const lms_gpt *m, const char *metadata_json,
                          lms_err *err) {
    if (lms_adamw_num_params(o) != lms_gpt_num_params(m))
        return lms_errf(err, LMS_ERR_ARG, "the optimizer has %lld moments per buffer but the model %lld parameters; they do not belong together",
                        (long long)lms_adamw_num_params(o), (long long)lms_gpt_num_params(m));
    lms_adamw *ow = (lms_adamw *)o; /* lms_adamw_m/_v are not const; only read here */
    const lms_ops *K = lms_gpt_ops(m);
    size_t bytes = (size_t)lms_adamw_num_params(o) * sizeof(float);
    const float *m1 = lms_adamw_m(ow), *m2 = lms_adamw_v(ow);
    float *h = NULL;
    if (K->device) { /* stage both moments on the host */
        if (!(h = lms_alloc(2 * bytes, err))) return LMS_ERR_NOMEM;
        K->copy_d2h(h, m1, bytes);
        K->copy_d2h(h + bytes / sizeof(float), m2, bytes);
        m1 = h;
        m2 = h + bytes / sizeof(float);
    }
    const lms_adamw_config *ac = lms_adamw_get_config(o);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"lr\":%.9g,\"beta1\":%.9g,\"beta2\":%.9g,\"eps\":%.9g,\"weight_decay\":%.9g}",
             ac->lr, ac->beta1, ac->beta2, ac->eps, ac->weight_decay);
    lms_status s = lms_checkpoint_save_moments(path, m, m1, m2, lms_adamw_t(o), cfg, metadata_json, err);
    lms_free(h);
    return s;
}

lms_status lms_adamw_load(const char *path, lms_adamw *o, const lms_gpt *m, char **metadata_json, lms_err *err) {
    const lms_ops *K = lms_gpt_ops(m);
    int64_t n = lms_adamw_num_params(o), step = 0;
    size_t bytes = (size_t)n * sizeof(float);
    float *m1 = lms_adamw_m(o), *m2 = lms_adamw_v(o), *h = NULL;
    if (K->device) { /* read into a host copy, then move it in */
        if (metadata_json) *metadata_json = NULL;
        if (!(h = lms_alloc(2 * bytes, err))) return LMS_ERR_NOMEM;
        m1 = h;
        m2 = h + n;
    }
    lms_status s = lms_checkpoint_load_moments(path, m, m1, m2, n, &step, metadata_json, err);
    if (!s && h) {
        K->copy_h2d(lms_adamw_m(o), h, bytes);
        K->copy_h2d(lms_adamw_v(o), h + n, bytes);
    }
    if (!s) lms_adamw_set_t(o, step);
    lms_free(h);
    return s;
}
