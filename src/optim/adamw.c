/* adamw.c — AdamW over the model's tensor table and deterministic gradient clipping (optim.h), both
 * through the model's kernel table.
 *
 * Leaves out: learning-rate schedules (schedule.c), file I/O (optim_io.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "kernels/kernels.h"
#include "optim/optim.h"

struct lms_adamw {
    lms_adamw_config cfg;
    const lms_ops *K; /* the model's table at create: owns m and v */
    int64_t n;
    float *m, *v; /* [n] each, parameter layout */
    int64_t t;
};

lms_adamw_config lms_adamw_defaults(void) {
    lms_adamw_config c = {3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f};
    return c;
}

lms_status lms_adamw_create(lms_adamw **out, const lms_gpt *m, const lms_adamw_config *c, lms_err *err) {
    *out = NULL;
    if (!(c->lr >= 0.0f && isfinite(c->lr)))
        return lms_errf(err, LMS_ERR_ARG, "AdamW lr %g must be a finite number >= 0", (double)c->lr);
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
        return lms_errf(err, LMS_ERR_ARG, "AdamW betas (%g, %g) must lie in [0, 1); the usual values are 0.9, 0.95",
                        (double)c->beta1, (double)c->beta2);
    if (!(c->eps > 0.0f && isfinite(c->eps)))
        return lms_errf(err, LMS_ERR_ARG, "AdamW eps %g must be > 0 (e.g. 1e-8)", (double)c->eps);
    if (!(c->weight_decay >= 0.0f && isfinite(c->weight_decay)))
        return lms_errf(err, LMS_ERR_ARG, "AdamW weight_decay %g must be >= 0 (e.g. 0.1)", (double)c->weight_decay);
    lms_adamw *o = calloc(1, sizeof *o);
    if (!o) return lms_errf(err, LMS_ERR_NOMEM, "out of memory creating the optimizer");
    o->cfg = *c;
    o->n = lms_gpt_num_params(m);
    o->K = lms_gpt_ops(m);
    o->m = o->K->buf_alloc((size_t)o->n * sizeof(float), err);
    o->v = o->m ? o->K->buf_alloc((size_t)o->n * sizeof(float), err) : NULL;
    if (!o->v) {
        long long n = (long long)o->n;
        lms_adamw_free(o);
        return err ? lms_err_prefix(err, "allocating AdamW moments for %lld parameters: ", n) : LMS_ERR_NOMEM;
    }
    *out = o;
    return LMS_OK;
}

void lms_adamw_free(lms_adamw *o) {
    if (!o) return;
    o->K->buf_free(o->m);
    o->K->buf_free(o->v);
    free(o);
}

void lms_adamw_step(lms_adamw *o, lms_gpt *m, float lr) {
    LMS_ASSERT(lms_gpt_num_params(m) == o->n);
    const lms_ops *K = lms_gpt_ops(m);
    int prev_threads = lms_ops_threads_begin(lms_gpt_threads(m));
    float *p = lms_gpt_params(m), *g = lms_gpt_grads(m);
    o->t++;
    /* consecutive tensors with the same decay flag form one span: fewer, longer kernel calls; a
       weight the table keeps packed is updated on its own, by the op that also rewrites its pack
       (the same bits for p, m and v: AdamW is elementwise) */
    int nt = lms_gpt_num_tensors(m);
    for (int i = 0; i < nt;) {
        const lms_tensor_info *a = lms_gpt_tensor(m, i);
        size_t off = a->offset;
        float wd = a->decay ? o->cfg.weight_decay : 0.0f;
        void *wp = lms_gpt_wpack(m, i);
        if (wp) {
            K->adamw_wpack(wp, p + off, g + off, o->m + off, o->v + off, a->shape[0], a->shape[1], lr, o->cfg.beta1,
                           o->cfg.beta2, o->cfg.eps, wd, o->t);
            i++;
            continue;
        }
        int j = i + 1;
        int64_t len = a->numel;
        while (j < nt && lms_gpt_tensor(m, j)->decay == a->decay && !lms_gpt_wpack(m, j))
            len += lms_gpt_tensor(m, j++)->numel;
        K->adamw(p + off, g + off, o->m + off, o->v + off, len, lr, o->cfg.beta1, o->cfg.beta2, o->cfg.eps, wd, o->t);
        i = j;
    }
    lms_gpt_wpack_written(m);
    lms_ops_threads_end(prev_threads);
}

float *lms_adamw_m(lms_adamw *o) { return o->m; }
float *lms_adamw_v(lms_adamw *o) { return o->v; }
int64_t lms_adamw_num_params(const lms_adamw *o) { return o->n; }
int64_t lms_adamw_t(const lms_adamw *o) { return o->t; }
void lms_adamw_set_t(lms_adamw *o, int64_t t) {
    LMS_ASSERT(t >= 0);
    o->t = t;
}
const lms_adamw_config *lms_adamw_get_config(const lms_adamw *o) { return &o->cfg; }

/* Gradient norm and clipping through a table: norm, then (if clipping applies) one scale. */
static float clip(const lms_ops *K, float *g, int64_t n, float max_norm) {
    float norm = K->global_norm(g, n);
    if (!isfinite(norm) || max_norm <= 0.0f) return norm;
    float coef = (float)((double)max_norm / ((double)norm + 1e-6));
    if (coef < 1.0f) K->scale(g, coef, n);
    return norm;
}

float lms_grad_norm_gpt(lms_gpt *m) {
    LMS_ASSERT(lms_gpt_grads(m) && "no gradient buffer: lms_gpt_plan or lms_gpt_alloc_grads first");
    int prev = lms_ops_threads_begin(lms_gpt_threads(m));
    float norm = lms_gpt_ops(m)->global_norm(lms_gpt_grads(m), lms_gpt_num_params(m));
    lms_ops_threads_end(prev);
    return norm;
}

float lms_grad_clip_gpt(lms_gpt *m, float max_norm) {
    LMS_ASSERT(lms_gpt_grads(m) && "no gradient buffer: lms_gpt_plan or lms_gpt_alloc_grads first");
    int prev = lms_ops_threads_begin(lms_gpt_threads(m));
    float norm = clip(lms_gpt_ops(m), lms_gpt_grads(m), lms_gpt_num_params(m), max_norm);
    lms_ops_threads_end(prev);
    return norm;
}

/* Host arrays: every host table gives the same bits (kernels.h); the optimized one is fastest. */
float lms_grad_global_norm(const float *g, int64_t n) { return lms_ops_fast()->global_norm(g, n); }
float lms_grad_clip(float *g, int64_t n, float max_norm) { return clip(lms_ops_fast(), g, n, max_norm); }
