/* optim_io.c — saving and loading AdamW state (optim.h: lms_adamw_save, lms_adamw_load).
 *
 * The optimizer lives here; the file format (a safetensors file of "m.<name>" / "v.<name>" tensors
 * with the step, the config and the caller's metadata) is model/checkpoint.c's, which takes plain
 * moment buffers, so model/ does not depend on optim/. The moments are read and written through
 * host views of the model's backend (kernels/backend.h): a copy for device memory, the buffers
 * themselves on a host-memory backend.
 *
 * Leaves out: other optimizers, sharded optimizer state.
 */
#include <stdio.h>

#include "core/mem.h"
#include "kernels/backend.h"
#include "model/checkpoint.h"
#include "optim/optim.h"

lms_status lms_adamw_save(const char *path, const lms_adamw *o, const lms_gpt *m, const char *metadata_json,
                          lms_err *err) {
    if (lms_adamw_num_params(o) != lms_gpt_num_params(m))
        return lms_errf(err, LMS_ERR_ARG, "the optimizer has %lld moments per buffer but the model %lld parameters; they do not belong together",
                        (long long)lms_adamw_num_params(o), (long long)lms_gpt_num_params(m));
    lms_adamw *ow = (lms_adamw *)o; /* lms_adamw_m/_v are not const; only read here */
    const lms_backend *b = lms_gpt_backend(m);
    size_t bytes = (size_t)lms_adamw_num_params(o) * sizeof(float);
    void *t1, *t2 = NULL;
    const float *m1 = lms_backend_read_view(b, lms_adamw_m(ow), bytes, &t1, err);
    const float *m2 = m1 ? lms_backend_read_view(b, lms_adamw_v(ow), bytes, &t2, err) : NULL;
    if (!m2) {
        lms_free(t1);
        return LMS_ERR_NOMEM;
    }
    const lms_adamw_config *ac = lms_adamw_get_config(o);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"lr\":%.9g,\"beta1\":%.9g,\"beta2\":%.9g,\"eps\":%.9g,\"weight_decay\":%.9g}",
             ac->lr, ac->beta1, ac->beta2, ac->eps, ac->weight_decay);
    lms_status s = lms_checkpoint_save_moments(path, m, m1, m2, lms_adamw_t(o), cfg, metadata_json, err);
    lms_free(t1);
    lms_free(t2);
    return s;
}

lms_status lms_adamw_load(const char *path, lms_adamw *o, const lms_gpt *m, char **metadata_json, lms_err *err) {
    const lms_backend *b = lms_gpt_backend(m);
    int64_t n = lms_adamw_num_params(o), step = 0;
    size_t bytes = (size_t)n * sizeof(float);
    if (metadata_json) *metadata_json = NULL;
    void *t1, *t2 = NULL;
    float *m1 = lms_backend_write_view(b, lms_adamw_m(o), bytes, &t1, err);
    float *m2 = m1 ? lms_backend_write_view(b, lms_adamw_v(o), bytes, &t2, err) : NULL;
    if (!m2) {
        lms_free(t1);
        return LMS_ERR_NOMEM;
    }
    lms_status s = lms_checkpoint_load_moments(path, m, m1, m2, n, &step, metadata_json, err);
    if (!s) { /* copied in (device memory) only when the file was read whole; nothing written otherwise */
        lms_backend_write_done(b, lms_adamw_m(o), t1, bytes);
        lms_backend_write_done(b, lms_adamw_v(o), t2, bytes);
        lms_adamw_set_t(o, step);
    } else {
        lms_free(t1);
        lms_free(t2);
    }
    return s;
}
