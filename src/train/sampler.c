/* sampler.c — see sampler.h. Sorting is by logit descending, then id ascending, so ties break the
 * same way on every machine. */
#include "train/sampler.h"

#include <math.h>
#include <stdlib.h>

#include "core/rng.h"

struct lms_sampler {
    lms_sampler_config c;
    int vocab;
    lms_rng rng;
    int32_t *idx;   /* [vocab] */
    double *prob;   /* [vocab] */
};

/* qsort has no context argument; the CLI samples from one thread. */
static _Thread_local const float *g_sort_logits;

static float clean(float x) { return isfinite(x) ? x : -INFINITY; }

static int cmp_desc(const void *a, const void *b) {
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    float x = clean(g_sort_logits[i]), y = clean(g_sort_logits[j]);
    if (x > y) return -1;
    if (x < y) return 1;
    return (i > j) - (i < j);
}

lms_status lms_sampler_create(lms_sampler **out, int vocab, const lms_sampler_config *c, lms_err *err) {
    *out = NULL;
    if (vocab < 1) return lms_errf(err, LMS_ERR_ARG, "sampler: vocab must be >= 1");
    if (!(c->temperature >= 0) || !isfinite(c->temperature))
        return lms_errf(err, LMS_ERR_ARG, "--temperature must be >= 0 (0 = greedy; got %g)", (double)c->temperature);
    if (c->top_k < 0) return lms_errf(err, LMS_ERR_ARG, "--top-k must be >= 0 (0 = off; got %d)", c->top_k);
    if (!(c->top_p > 0 && c->top_p <= 1)) return lms_errf(err, LMS_ERR_ARG, "--top-p must be in (0, 1] (1 = off; got %g)", (double)c->top_p);
    lms_sampler *s = calloc(1, sizeof *s);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    s->c = *c;
    s->vocab = vocab;
    s->idx = malloc((size_t)vocab * sizeof *s->idx);
    s->prob = malloc((size_t)vocab * sizeof *s->prob);
    if (!s->idx || !s->prob) {
        lms_sampler_free(s);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    lms_rng_seed(&s->rng, c->seed);
    *out = s;
    return LMS_OK;
}

void lms_sampler_free(lms_sampler *s) {
    if (!s) return;
    free(s->idx);
    free(s->prob);
    free(s);
}

int32_t lms_sampler_pick(lms_sampler *s, const float *logits) {
    const int V = s->vocab;
    if (s->c.temperature == 0) {
        int32_t best = 0;
        float bv = clean(logits[0]);
        for (int i = 1; i < V; i++)
            if (clean(logits[i]) > bv) bv = clean(logits[i]), best = i;
        return best;
    }
    int n = V;
    for (int i = 0; i < V; i++) s->idx[i] = i;
    if ((s->c.top_k > 0 && s->c.top_k < V) || s->c.top_p < 1) {
        g_sort_logits = logits;
        qsort(s->idx, (size_t)V, sizeof *s->idx, cmp_desc);
        if (s->c.top_k > 0 && s->c.top_k < n) n = s->c.top_k;
    }
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = fmaxf(mx, clean(logits[s->idx[i]]));
    if (mx == -INFINITY) return s->idx[0];
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double p = exp(((double)clean(logits[s->idx[i]]) - mx) / s->c.temperature);
        s->prob[i] = p;
        sum += p;
    }
    if (s->c.top_p < 1) {
        /* idx is sorted: keep the shortest prefix whose mass reaches top_p */
        double acc = 0;
        int keep = n;
        for (int i = 0; i < n; i++) {
            acc += s->prob[i] / sum;
            if (acc >= s->c.top_p) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
        sum = 0;
        for (int i = 0; i < n; i++) sum += s->prob[i];
    }
    double r = lms_rng_uniform_f64(&s->rng) * sum, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += s->prob[i];
        if (r < acc) return s->idx[i];
    }
    for (int i = n - 1; i > 0; i--)
        if (s->prob[i] > 0) return s->idx[i];
    return s->idx[0];
}

size_t lms_utf8_complete(const char *buf, size_t n) {
    /* look back at most 3 bytes for a lead byte whose sequence is not finished */
    size_t back = n < 4 ? n : 4;
    for (size_t k = 1; k <= back; k++) {
        unsigned char b = (unsigned char)buf[n - k];
        if ((b & 0xC0) == 0x80) continue; /* continuation byte: keep looking for its lead */
        size_t need = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
        return need > k ? n - k : n;
    }
    return n; /* only continuation bytes at the end: nothing can complete them */
}
