/* schedule.c — learning-rate schedules: constant, warmup + cosine, warmup-stable-decay (optim.h).
 *
 * Leaves out: cyclic and step schedules, per-group rates.
 */
#include <math.h>

#include "optim/optim.h"

static const double PI = 3.14159265358979323846;

lms_status lms_schedule_check(const lms_schedule *s, lms_err *err) {
    if (!(s->lr > 0.0f && isfinite(s->lr)))
        return lms_errf(err, LMS_ERR_ARG, "learning rate %g must be a finite number > 0 (e.g. 6e-4)", (double)s->lr);
    if (s->warmup < 0) return lms_errf(err, LMS_ERR_ARG, "warmup %lld must be >= 0 steps", (long long)s->warmup);
    if (s->kind != LMS_SCHED_CONSTANT && s->total < 1)
        return lms_errf(err, LMS_ERR_ARG, "total steps %lld must be >= 1 for a decaying schedule", (long long)s->total);
    if (!(s->min_lr_frac >= 0.0f && s->min_lr_frac <= 1.0f))
        return lms_errf(err, LMS_ERR_ARG, "min_lr_frac %g must lie in [0, 1] (e.g. 0.1)", (double)s->min_lr_frac);
    if (s->kind == LMS_SCHED_WSD && !(s->decay_frac >= 0.0f && s->decay_frac <= 1.0f))
        return lms_errf(err, LMS_ERR_ARG, "decay_frac %g must lie in [0, 1] (e.g. 0.2)", (double)s->decay_frac);
    if (s->kind != LMS_SCHED_CONSTANT && s->kind != LMS_SCHED_COSINE && s->kind != LMS_SCHED_WSD)
        return lms_errf(err, LMS_ERR_ARG, "unknown schedule kind %d", (int)s->kind);
    return LMS_OK;
}

float lms_schedule_lr(const lms_schedule *s, int64_t step) {
    double lr = s->lr, min = (double)s->min_lr_frac * lr;
    if (step < 0) step = 0;
    if (step < s->warmup) return (float)(lr * (double)(step + 1) / (double)s->warmup);
    switch (s->kind) {
    case LMS_SCHED_CONSTANT:
        return (float)lr;
    case LMS_SCHED_COSINE: {
        double span = (double)(s->total - s->warmup);
        double p = span > 0 ? (double)(step - s->warmup) / span : 1.0;
        if (p > 1.0) p = 1.0;
        return (float)(min + (lr - min) * 0.5 * (1.0 + cos(PI * p)));
    }
    case LMS_SCHED_WSD: {
        int64_t D = (int64_t)llround((double)s->decay_frac * (double)s->total);
        if (D < 1 && s->decay_frac > 0.0f) D = 1;
        if (D <= 0) return (float)lr;
        int64_t start = s->total - D;
        if (step < start) return (float)lr;
        if (step >= s->total) return (float)min;
        return (float)(lr - (lr - min) * (double)(step - start) / (double)D);
    }
    }
    return (float)lr;
}
