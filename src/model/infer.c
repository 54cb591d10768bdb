/* infer.c — KV-cache decoding for one sequence (see infer.h).
 *
 * One step, for the token at position pos:
 *   x = wte[token] + wpe[pos]
 *   per layer: xn = ln_1(x); qkv = xn·c_attn + b; K[pos], V[pos] = k, v (the cache, [max_T, C] per
 *              layer each); per head: p = softmax(q·K[0..pos]ᵀ / sqrt(hs)), y_h = p·V[0..pos];
 *              x += y·attn.c_proj + b; xn = ln_2(x); h = gelu(xn·c_fc + b); x += h·mlp.c_proj + b
 *   logits = ln_f(x)·wteᵀ
 * The step runs on nthr threads (fixed at create): the caller's and nthr - 1 helper
 * threads that live as long as the state and wait between steps by spinning briefly, then
 * sleeping on a futex (no fork/join per token). Matrix-vector products are split by output
 * columns (strips of 64, so each strip's accumulators stay in registers), attention by heads; each
 * thread normalizes the residual vector itself (C floats), so only 5 barriers a layer remain.
 * Every vector operation is a decoding op (dec_*) of the model's kernel table (kernels.h), so the
 * reference table (LMS_FORCE_REFERENCE=1) covers decoding too; the optimized tables' decoding ops
 * are their SIMD inner loops. The cache and the scratch come from the table's buf_alloc, cache rows
 * are written with copy_d2d. nthr is the model's thread count (lms_gpt_threads), else OpenMP's.
 *
 * Optional bfloat16 weight copies (lms_infer_set_bf16) halve the bytes each step reads.
 * A backend without LMS_BACKEND_SPLIT_DECODE gets one thread (each op one launch); one without
 * LMS_BACKEND_HOST_MEMORY has the step's logits copied to a host array, which lms_infer_step returns.
 *
 * Leaves out: batching, int8 weights, prefill of a whole prompt in one matrix
 * product (prompts are fed one token at a time).
 */
#include "model/infer.h"

#include <immintrin.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/mem.h"
#include "kernels/kernels.h"

/* A barrier for the step's threads that spins briefly and then sleeps on a futex. A step has ~5
   barriers a layer and lasts ~100-300 µs, so waits are short when the cores are ours; but when other
   processes share the cores, a thread that spins waits for a partner that is not running, and
   OpenMP's spinning barrier made decoding 10-50x slower. Sleeping hands the core to the partner. */
typedef struct {
    _Atomic int count;    /* threads arrived in this generation */
    _Atomic int gen;      /* generation; the futex word */
    _Atomic int sleepers; /* threads in futex_wait */
    int n;
} step_barrier;

#define BARRIER_SPIN 2000 /* pause iterations (~30-70 µs) before sleeping */

/* Wait until *word differs from old: spin, then sleep on the futex (sleepers counts sleepers, so
   the waker only makes the wake-up system call when someone sleeps). */
static void wait_change(_Atomic int *word, int old, _Atomic int *sleepers) {
    for (int i = 0; i < BARRIER_SPIN; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) != old) return;
        _mm_pause();
    }
    atomic_fetch_add(sleepers, 1);
    while (atomic_load(word) == old) syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, old, NULL, NULL, 0);
    atomic_fetch_sub(sleepers, 1);
}

static void barrier_wait(step_barrier *b) {
    if (b->n == 1) return;
    int g = atomic_load(&b->gen);
    if (atomic_fetch_add(&b->count, 1) == b->n - 1) {
        atomic_store(&b->count, 0);
        atomic_fetch_add(&b->gen, 1);
        if (atomic_load(&b->sleepers) > 0) syscall(SYS_futex, &b->gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        return;
    }
    wait_change(&b->gen, g, &b->sleepers);
}

typedef struct lms_infer lms_infer_t;
typedef struct {
    lms_infer_t *s;
    int tid;
} worker_arg;

typedef struct {
    const float *ln1w, *ln1b, *attw, *attb, *projw, *projb, *ln2w, *ln2b, *fcw, *fcb, *fcpw, *fcpb;
} layer_w;

struct lms_infer {
    const lms_gpt *m;
    lms_gpt_config cfg;
    int max_T, pos;
    size_t off_wte, off_wpe, off_lnfw, off_lnfb;
    size_t (*loff)[12]; /* per layer: offsets of the 12 tensors, table order */
    float *kcache, *vcache; /* [L, max_T, C] each */
    float *x, *qkv, *y, *tmp, *h, *logits, *att; /* scratch: C, 3C, C, C, 4C, V, NH·max_T */
    float *xn;        /* [nthr, aC]: each thread normalizes x itself, which saves two barriers a layer */
    float *stats;     /* [nthr, 32]: each thread's mean/rstd (padded to a cache line) */
    int nthr;         /* threads the scratch was sized for */
    size_t aC;        /* C rounded up to 16 floats */
    lms_backend be;   /* the model's backend at create (its table, threads and caps) */
    const lms_ops *k; /* be.ops: every op, every buffer */
    step_barrier bar;
    /* helper threads (nthr - 1 of them), started at create and kept for the state's life */
    pthread_t *workers;
    void *worker_args;
    int nworkers;
    _Atomic int go, go_sleepers, quit; /* go: step generation (futex word) */
    int32_t token;                     /* the step's token, read by every thread */
    uint16_t *wb; /* NULL, or packed bf16 copies (kernels.h, lms_bf16_pack): per layer c_attn |
                     attn.c_proj | c_fc | mlp.c_proj, then wte */
    size_t wb_layer, wb_off[4], wb_wte; /* per-layer stride, offsets within a layer, wte's offset */
    float *h_logits; /* [V] host copy of the logits for a backend without host memory, else NULL */
};

static const char *k_layer_names[12] = {
    "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
    "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
    "mlp.c_proj.weight", "mlp.c_proj.bias"};

static lms_status find(const lms_gpt *m, const char *name, int64_t numel, size_t *off, lms_err *err) {
    const lms_tensor_info *t = lms_gpt_find_tensor(m, name);
    if (!t) return lms_errf(err, LMS_ERR_ARG, "model has no tensor '%s'; decoding needs a GPT-2 model", name);
    if (t->numel != numel)
        return lms_errf(err, LMS_ERR_ARG, "tensor '%s' has %lld values, expected %lld for this config", name,
                        (long long)t->numel, (long long)numel);
    *off = t->offset;
    return LMS_OK;
}

static void *worker_main(void *p);

static void stop_workers(lms_infer *s) {
    if (s->nworkers > 0) {
        atomic_store(&s->quit, 1);
        atomic_fetch_add(&s->go, 1);
        syscall(SYS_futex, &s->go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        for (int i = 0; i < s->nworkers; i++) pthread_join(s->workers[i], NULL);
    }
    free(s->workers);
    free(s->worker_args);
    s->workers = NULL;
    s->worker_args = NULL;
    s->nworkers = 0;
}

/* Start nthr - 1 helper threads; if the system refuses, decode on fewer (down to one). */
static void start_workers(lms_infer *s) {
    s->bar.n = 1;
    if (s->nthr > 1) {
        s->workers = calloc((size_t)s->nthr, sizeof(pthread_t));
        s->worker_args = calloc((size_t)s->nthr, sizeof(worker_arg));
        if (!s->workers || !s->worker_args) s->nthr = 1;
        for (int i = 1; i < s->nthr; i++) {
            worker_arg *w = (worker_arg *)s->worker_args + i;
            w->s = s;
            w->tid = i;
            if (pthread_create(&s->workers[i - 1], NULL, worker_main, w) != 0) {
                stop_workers(s);
                s->nthr = 1;
                break;
            }
            s->nworkers = i;
        }
    }
    s->bar.n = s->nthr;
}

lms_status lms_infer_create(lms_infer **out, const lms_gpt *m, int max_T, lms_err *err) {
    *out = NULL;
    if (!m) return lms_errf(err, LMS_ERR_ARG, "no model given to decode with");
    const lms_gpt_config *c = lms_gpt_get_config(m);
    if (max_T < 1 || max_T > c->n_ctx)
        return lms_errf(err, LMS_ERR_ARG, "max_T %d is outside 1..%d (the model's context length n_ctx)", max_T,
                        c->n_ctx);
    lms_infer *s = lms_alloc(sizeof *s, err);
    if (!s) return LMS_ERR_NOMEM;
    s->m = m;
    s->cfg = *c;
    s->max_T = max_T;
    s->be = *lms_gpt_backend(m);
    s->k = s->be.ops;
    int64_t L = c->n_layer, C = c->n_embd, V = c->vocab_size, NH = c->n_head;
    lms_status st;
    if ((st = find(m, "wte.weight", V * C, &s->off_wte, err)) != LMS_OK ||
        (st = find(m, "wpe.weight", (int64_t)c->n_ctx * C, &s->off_wpe, err)) != LMS_OK ||
        (st = find(m, "ln_f.weight", C, &s->off_lnfw, err)) != LMS_OK ||
        (st = find(m, "ln_f.bias", C, &s->off_lnfb, err)) != LMS_OK)
        goto fail;
    s->loff = lms_alloc((size_t)L * sizeof *s->loff, err);
    if (!s->loff) { st = LMS_ERR_NOMEM; goto fail; }
    const int64_t numel[12] = {C, C, C * 3 * C, 3 * C, C * C, C, C, C, C * 4 * C, 4 * C, 4 * C * C, C};
    for (int64_t l = 0; l < L; l++)
        for (int i = 0; i < 12; i++) {
            char name[64];
            snprintf(name, sizeof name, "h.%lld.%s", (long long)l, k_layer_names[i]);
            if ((st = find(m, name, numel[i], &s->loff[l][i], err)) != LMS_OK) goto fail;
        }
    size_t cache = (size_t)L * (size_t)max_T * (size_t)C;
    s->kcache = s->k->buf_alloc(cache * sizeof(float), err);
    s->vcache = s->k->buf_alloc(cache * sizeof(float), err);
    size_t a = lms_align_floats((size_t)C), a3 = lms_align_floats((size_t)(3 * C)),
           a4 = lms_align_floats((size_t)(4 * C)), av = lms_align_floats((size_t)V),
           at = lms_align_floats((size_t)(NH * max_T));
    s->nthr = lms_gpt_threads(m) > 0 ? lms_gpt_threads(m) : omp_get_max_threads(); /* lms_cpu_set_threads before create */
    if (C * C < 4096) s->nthr = 1;    /* tiny models: the barriers would cost more than the work */
    if (!lms_backend_has(&s->be, LMS_BACKEND_SPLIT_DECODE)) s->nthr = 1; /* it parallelises inside each op */
    if (s->nthr > 64) s->nthr = 64;
    s->aC = a;
    float *scr = s->k->buf_alloc((3 * a + a3 + a4 + av + at + (size_t)s->nthr * (a + 32)) * sizeof(float), err);
    if (!s->kcache || !s->vcache || !scr) {
        s->k->buf_free(scr);
        st = LMS_ERR_NOMEM;
        goto fail;
    }
    s->x = scr;
    s->y = s->x + a;
    s->tmp = s->y + a;
    s->qkv = s->tmp + a;
    s->h = s->qkv + a3;
    s->logits = s->h + a4;
    s->att = s->logits + av;
    s->xn = s->att + at;
    s->stats = s->xn + (size_t)s->nthr * a;
    if (!lms_backend_has(&s->be, LMS_BACKEND_HOST_MEMORY) && !(s->h_logits = lms_alloc((size_t)V * sizeof(float), err))) {
        st = LMS_ERR_NOMEM;
        goto fail;
    }
    start_workers(s);
    *out = s;
    return LMS_OK;
fail:
    lms_infer_free(s);
    return st;
}

void lms_infer_free(lms_infer *s) {
    if (!s) return;
    stop_workers(s);
    if (s->k) {
        s->k->buf_free(s->kcache);
        s->k->buf_free(s->vcache);
        s->k->buf_free(s->x); /* start of the scratch block */
        s->k->buf_free(s->wb);
    }
    lms_free(s->loff);
    lms_free(s->h_logits);
    lms_free(s);
}

lms_status lms_infer_set_bf16(lms_infer *s, int on, lms_err *err) {
    const lms_ops *k = s->k;
    if (!on) {
        k->buf_free(s->wb);
        s->wb = NULL;
        return LMS_OK;
    }
    if (!lms_backend_has(&s->be, LMS_BACKEND_BF16_DECODE))
        return lms_errf(err, LMS_ERR_UNSUPPORTED, "kernel table '%s' has no bfloat16 decoding; decode in fp32", k->name);
    const int64_t C = s->cfg.n_embd, L = s->cfg.n_layer, V = s->cfg.vocab_size;
    const int which[4] = {2, 4, 8, 10};             /* c_attn, attn.c_proj, c_fc, mlp.c_proj */
    const int64_t rows[4] = {C, C, C, 4 * C}, cols[4] = {3 * C, C, 4 * C, C};
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        s->wb_off[i] = off;
        off += (size_t)(rows[i] * lms_bf16_row(cols[i]));
    }
    s->wb_layer = off;
    s->wb_wte = (size_t)L * off;
    size_t total = s->wb_wte + (size_t)(V * lms_bf16_row(C));
    uint16_t *wb = s->wb ? s->wb : k->buf_alloc(total * sizeof(uint16_t), err);
    if (!wb) return LMS_ERR_NOMEM;
    /* packing runs on the host, from and into host views (the buffers themselves on host memory) */
    void *ht, *pt = NULL;
    uint16_t *h = lms_backend_write_view(&s->be, wb, total * sizeof(uint16_t), &ht, err);
    const float *P = h ? lms_backend_read_view(&s->be, lms_gpt_params_const(s->m),
                                               (size_t)lms_gpt_num_params(s->m) * sizeof(float), &pt, err) : NULL;
    if (!P) {
        lms_free(ht);
        if (!s->wb) k->buf_free(wb);
        return LMS_ERR_NOMEM;
    }
    for (int64_t l = 0; l < L; l++)
        for (int i = 0; i < 4; i++)
            lms_bf16_pack(h + (size_t)l * s->wb_layer + s->wb_off[i], P + s->loff[l][which[i]], rows[i], cols[i]);
    lms_bf16_pack(h + s->wb_wte, P + s->off_wte, V, C);
    lms_free(pt);
    lms_backend_write_done(&s->be, wb, ht, total * sizeof(uint16_t));
    s->wb = wb;
    return LMS_OK;
}

void lms_infer_reset(lms_infer *s) { s->pos = 0; }
int lms_infer_pos(const lms_infer *s) { return s->pos; }
int lms_infer_max_T(const lms_infer *s) { return s->max_T; }

/* Columns [j0, j1) of thread tid among nt for a width of n: strips of 64 floats. */
static void split(int64_t n, int tid, int nt, int64_t *j0, int64_t *j1) {
    int64_t strips = (n + 63) / 64, per = (strips + nt - 1) / nt;
    *j0 = (int64_t)tid * per * 64;
    *j1 = *j0 + per * 64;
    if (*j0 > n) *j0 = n;
    if (*j1 > n) *j1 = n;
}

/* The work of one step for thread tid of nt (the caller's thread is tid 0). */
static void step_body(lms_infer *s, int tid, int nt) {
    const lms_gpt_config *c = &s->cfg;
    const float *P = lms_gpt_params_const(s->m);
    const lms_ops *k = s->k;
    const int64_t C = c->n_embd, C3 = 3 * C, C4 = 4 * C, V = c->vocab_size, NH = c->n_head;
    const int64_t hs = C / NH, pos = s->pos, T = s->max_T;
    const int32_t token = s->token;
    const float *wte = P + s->off_wte, *wpe = P + s->off_wpe;
    float *xn = s->xn + (size_t)tid * s->aC, *st = s->stats + (size_t)tid * 32;
    if (tid == 0) k->dec_add(s->x, wte + (int64_t)token * C, wpe + pos * C, C);
    barrier_wait(&s->bar);
    for (int64_t l = 0; l < c->n_layer; l++) {
        const size_t *o = s->loff[l];
        float *Kc = s->kcache + (size_t)l * T * C, *Vc = s->vcache + (size_t)l * T * C;
        int64_t j0, j1;
        k->dec_layernorm(xn, st, st + 1, s->x, P + o[0], P + o[1], 1, C);
        const uint16_t *wl = s->wb ? s->wb + (size_t)l * s->wb_layer : NULL;
        split(C3, tid, nt, &j0, &j1);
        if (wl) k->dec_gemv_in_out_bf16(s->qkv, xn, wl + s->wb_off[0], P + o[3], C, C3, j0, j1);
        else k->dec_gemv_in_out(s->qkv, xn, P + o[2], P + o[3], C, C3, j0, j1);
        barrier_wait(&s->bar);
        /* attention, heads split across threads */
        for (int64_t h = tid; h < NH; h += nt) {
            k->copy_d2d(Kc + pos * C + h * hs, s->qkv + C + h * hs, (size_t)hs * sizeof(float));
            k->copy_d2d(Vc + pos * C + h * hs, s->qkv + 2 * C + h * hs, (size_t)hs * sizeof(float));
            k->dec_attention(s->y + h * hs, s->att + h * T, s->qkv + h * hs, Kc + h * hs, Vc + h * hs, pos + 1, hs, C);
        }
        barrier_wait(&s->bar);
        split(C, tid, nt, &j0, &j1);
        if (wl) k->dec_gemv_in_out_bf16(s->tmp, s->y, wl + s->wb_off[1], P + o[5], C, C, j0, j1);
        else k->dec_gemv_in_out(s->tmp, s->y, P + o[4], P + o[5], C, C, j0, j1);
        k->dec_add(s->x + j0, s->x + j0, s->tmp + j0, j1 - j0);
        barrier_wait(&s->bar);
        k->dec_layernorm(xn, st, st + 1, s->x, P + o[6], P + o[7], 1, C);
        split(C4, tid, nt, &j0, &j1);
        if (wl) k->dec_gemv_in_out_bf16(s->h, xn, wl + s->wb_off[2], P + o[9], C, C4, j0, j1);
        else k->dec_gemv_in_out(s->h, xn, P + o[8], P + o[9], C, C4, j0, j1);
        k->dec_gelu(s->h + j0, s->h + j0, j1 - j0);
        barrier_wait(&s->bar);
        split(C, tid, nt, &j0, &j1);
        if (wl) k->dec_gemv_in_out_bf16(s->tmp, s->h, wl + s->wb_off[3], P + o[11], C4, C, j0, j1);
        else k->dec_gemv_in_out(s->tmp, s->h, P + o[10], P + o[11], C4, C, j0, j1);
        k->dec_add(s->x + j0, s->x + j0, s->tmp + j0, j1 - j0);
        barrier_wait(&s->bar);
    }
    k->dec_layernorm(xn, st, st + 1, s->x, P + s->off_lnfw, P + s->off_lnfb, 1, C);
    /* logits = xn · wteᵀ: rows of wte split across threads (in blocks of 4 rows) */
    int64_t per = ((V + 3) / 4 + nt - 1) / nt * 4, r0 = tid * per, r1 = r0 + per;
    if (r0 > V) r0 = V;
    if (r1 > V) r1 = V;
    if (s->wb) k->dec_gemv_out_in_bf16(s->logits, xn, s->wb + s->wb_wte, C, r0, r1);
    else k->dec_gemv_out_in(s->logits, xn, wte, C, r0, r1);
    barrier_wait(&s->bar); /* the logits are complete; workers go back to waiting */
}

/* A helper thread: wait for each step's start signal, do its share, repeat until told to quit. */
static void *worker_main(void *p) {
    worker_arg *w = p;
    lms_infer *s = w->s;
    int seen = 0;
    for (;;) {
        wait_change(&s->go, seen, &s->go_sleepers);
        seen = atomic_load(&s->go);
        if (atomic_load(&s->quit)) return NULL;
        step_body(s, w->tid, s->nthr);
    }
}

const float *lms_infer_step(lms_infer *s, int32_t token) {
    const lms_gpt_config *c = &s->cfg;
    if (token < 0 || token >= c->vocab_size || s->pos >= s->max_T) return NULL;
    s->token = token;
    if (s->nthr > 1) {
        atomic_fetch_add(&s->go, 1);
        if (atomic_load(&s->go_sleepers) > 0) syscall(SYS_futex, &s->go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    }
    step_body(s, 0, s->nthr);
    s->pos++;
    if (s->h_logits) { /* a device table: the caller reads host memory */
        s->k->copy_d2h(s->h_logits, s->logits, (size_t)c->vocab_size * sizeof(float));
        return s->h_logits;
    }
    return s->logits;
}
