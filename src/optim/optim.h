/* optim.h — AdamW, global gradient-norm clipping and learning-rate schedules.
 *
 * AdamW (decoupled weight decay, Loshchilov & Hutter) with bias correction, as
 * torch.optim.AdamW computes it:
 *   t += 1; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²;
 *   p -= lr · ( m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps) + wd · p )
 * with wd = weight_decay on tensors whose table entry has decay = 1 (matrices and embeddings)
 * and 0 on biases and LayerNorm parameters. The moments m and v are one aligned buffer each, in
 * the model's parameter layout (the same offsets as lms_gpt_params), so a checkpoint can save
 * them under the parameter names. The math is the adamw op of the model's kernel table (kernels.h,
 * lms_gpt_ops), run with the model's thread count; the moments come from that table's buf_alloc.
 *
 *   lms_adamw_config oc = lms_adamw_defaults();  oc.lr = 6e-4;
 *   lms_adamw *opt;  if (lms_adamw_create(&opt, model, &oc, &err) != LMS_OK) ...;
 *   lms_schedule s = {LMS_SCHED_COSINE, 6e-4f, 100, 5000, 0.1f, 0.0f};
 *   for (int64_t step = 0; step < 5000; step++) {
 *       ... forward / backward ...
 *       float norm = lms_grad_clip_gpt(model, 1.0f);
 *       lms_adamw_step(opt, model, lms_schedule_lr(&s, step));
 *   }
 *   lms_adamw_save("run/ckpt.optim.safetensors", opt, model, NULL, &err);   // optim_io.c
 *   lms_adamw_free(opt);
 *
 * Leaves out: other optimizers, per-parameter-group learning rates, the optimizer file's format
 * (model/checkpoint.h: optim_io.c hands it the moment buffers).
 */
#ifndef LMS_OPTIM_OPTIM_H
#define LMS_OPTIM_OPTIM_H

#include <stdint.h>

#include "core/status.h"
#include "model/gpt.h"

typedef struct {
    float lr;           /* default learning rate (lms_adamw_step takes the scheduled one) */
    float beta1, beta2; /* 0 <= beta < 1 */
    float eps;          /* > 0 */
    float weight_decay; /* >= 0, applied to decay=1 tensors only */
} lms_adamw_config;

/* lr 3e-4, betas (0.9, 0.95), eps 1e-8, weight decay 0.1 */
lms_adamw_config lms_adamw_defaults(void);

typedef struct lms_adamw lms_adamw; /* opaque: config, m, v, step count */

/* Moments sized for model m (zeroed), step count 0. LMS_ERR_ARG for an invalid config (with
   the field named), LMS_ERR_NOMEM. The optimizer keeps no pointer to m's buffers; pass the same
   model (or one with the same config) to every step. Free with lms_adamw_free (NULL is fine). */
lms_status lms_adamw_create(lms_adamw **out, const lms_gpt *m, const lms_adamw_config *c, lms_err *err);
void lms_adamw_free(lms_adamw *o);

/* One step with learning rate lr on m's parameters using m's gradients (not modified). */
void lms_adamw_step(lms_adamw *o, lms_gpt *m, float lr);

float *lms_adamw_m(lms_adamw *o);           /* [num_params], parameter layout */
float *lms_adamw_v(lms_adamw *o);           /* [num_params] */
int64_t lms_adamw_num_params(const lms_adamw *o);
int64_t lms_adamw_t(const lms_adamw *o);    /* steps taken (bias correction uses t+1 next) */
void lms_adamw_set_t(lms_adamw *o, int64_t t); /* restore after loading m and v; t >= 0 */
const lms_adamw_config *lms_adamw_get_config(const lms_adamw *o);

/* The global norm of m's gradients, sqrt(sum g²), through m's kernel table (global_norm: summed in
   double in fixed-size chunks combined in a fixed order, the same bits for any table and thread
   count). m must have a gradient buffer. */
float lms_grad_norm_gpt(lms_gpt *m);

/* Scale m's gradients by max_norm / (norm + 1e-6) when that factor is < 1 (PyTorch's
   clip_grad_norm_), through m's kernel table. Returns the norm before clipping (NaN/Inf if the
   gradients hold one; then they are unchanged). max_norm <= 0 disables clipping (the norm is still
   returned). */
float lms_grad_clip_gpt(lms_gpt *m, float max_norm);

/* The same two on a host array g[n] of any origin (tests, tools): the same bits as the model
   versions above, computed with the optimized host table. */
float lms_grad_global_norm(const float *g, int64_t n);
float lms_grad_clip(float *g, int64_t n, float max_norm);

/* ---- optimizer files (optim_io.c; the format is model/checkpoint.h's "optimizer" file) ---- */

/* Write o's moments m and v (in m's parameter layout), its step count and config, the model config
   and the caller's metadata (a JSON object text or NULL, as lms_checkpoint_save) to path,
   crash-safe. o is only read. LMS_ERR_ARG if o was not made for a model of m's size; LMS_ERR_IO. */
lms_status lms_adamw_save(const char *path, const lms_adamw *o, const lms_gpt *m, const char *metadata_json,
                          lms_err *err);

/* Read an optimizer file into o (created for m with lms_adamw_create): checks that its config and
   every m./v. tensor shape match m (LMS_ERR_MISMATCH naming the tensor otherwise), copies the
   moments and sets the step count. metadata_json (may be NULL): receives the caller metadata as
   JSON object text, malloc'd, caller frees. On failure o is unchanged. */
lms_status lms_adamw_load(const char *path, lms_adamw *o, const lms_gpt *m, char **metadata_json, lms_err *err);

/* The names these had in model/checkpoint.h before they moved here; the same functions. */
static inline lms_status lms_checkpoint_save_optim(const char *path, const lms_adamw *o, const lms_gpt *m,
                                                   const char *metadata_json, lms_err *err) {
    return lms_adamw_save(path, o, m, metadata_json, err);
}
static inline lms_status lms_checkpoint_load_optim(const char *path, lms_adamw *o, const lms_gpt *m,
                                                   char **metadata_json, lms_err *err) {
    return lms_adamw_load(path, o, m, metadata_json, err);
}

typedef enum {
    LMS_SCHED_CONSTANT, /* lr after linear warmup */
    LMS_SCHED_COSINE,   /* linear warmup, then cosine from lr down to min_lr_frac·lr at step total */
    LMS_SCHED_WSD       /* warmup, stable at lr, then linear decay over the last decay_frac·total steps */
} lms_sched_kind;

typedef struct {
    lms_sched_kind kind;
    float lr;          /* peak learning rate */
    int64_t warmup;    /* steps of linear warmup: lr·(step+1)/warmup for step < warmup */
    int64_t total;     /* total steps of the run */
    float min_lr_frac; /* final lr = min_lr_frac·lr (cosine, WSD) */
    float decay_frac;  /* WSD: fraction of total spent decaying (e.g. 0.2) */
} lms_schedule;

/* Learning rate at 0-based step. Warmup (all kinds): lr·(step+1)/warmup while step < warmup.
   COSINE: with p = (step - warmup)/(total - warmup) clamped to [0,1],
           min + (lr - min)·(1 + cos(pi·p))/2, min = min_lr_frac·lr.
   WSD: lr until step >= total - D where D = round(decay_frac·total) (at least 1 step when
        decay_frac > 0); then linearly from lr to min at step total: lr - (lr-min)·(step-(total-D))/D,
        clamped to min for step >= total. Warmup wins if the two overlap. */
float lms_schedule_lr(const lms_schedule *s, int64_t step);

/* LMS_OK or LMS_ERR_ARG naming the bad field (lr <= 0, warmup < 0, total < 1 for COSINE/WSD,
   fractions outside [0,1]). */
lms_status lms_schedule_check(const lms_schedule *s, lms_err *err);

#endif
