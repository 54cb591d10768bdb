/* gpt.c — GPT-2 config check, tensor table, buffer plan, init, forward and backward (see gpt.h).
 *
 * Memory plan. Parameters and gradients: one buffer each, the tensors packed in table order.
 * Activations: one buffer, cut by a pure size table (act_sizes) into regions; per-layer regions
 * hold L slices of a fixed stride so a smaller B x T than planned still fits. Per layer and per
 * token the forward keeps what the backward needs, as PyTorch's autograd would:
 *   ln1 C, ln1 mean/rstd 2, qkv 3C, att NH·T, atty C, res2 C, ln2 C, ln2 mean/rstd 2,
 *   fch 4C, fch_gelu 4C, res3 C        = 16C + NH·T + 4 floats
 * plus the embedding output (the first residual stream), the final LayerNorm output, the
 * tokens, targets, losses and each row's log-sum-exp of the logits, the output layer's scratch
 * (a packed copy of wte at C <= 128: lms_lmhead_scratch_floats), two [B,T,C] gradient buffers
 * for the backward (the residual stream's gradient and a LayerNorm-output gradient), and one
 * WORK region shared by everything short-lived: the projection outputs of the forward (before
 * they are added to the residual stream), the logits (written by the fused output layer +
 * cross-entropy, lmhead_xent_fwd, and turned into their gradient in place by lmhead_xent_bwd:
 * no dlogits buffer), and the backward's per-layer scratch (2 x [B,T,4C] + attention scratch
 * [B,NH,T,T]), which is only needed after the logits' gradient has been consumed.
 * WORK = max(B·T·V, B·T·(8C) + B·NH·T²) floats.
 *
 * Backend: every buffer comes from the model's kernel table (buf_alloc) and is only touched through
 * it: the ops, buf_memset for the zeroing the backward needs, copy_h2d for token ids and targets
 * (validated on the host first), copy_d2h for the per-token losses (kept in a host array, whose
 * mean is the returned loss). The table's batch ops run with the model's thread count.
 *
 * Packed weights: on a table that keeps them (kernels.h: wpack_bytes; the bf16 table), the training
 * plan also allocates one pack per weight matrix (wte and each layer's four projections); the
 * products read a weight from its pack while wp_valid says the packs hold the current weights (set
 * by the optimizer step that wrote them, cleared by anything that may change the weights).
 *
 * Leaves out: threading (inside the kernels), dropout, recomputation, the arithmetic of mixed
 * precision (the bf16 table).
 */
#include "model/gpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/rng.h"
#include "kernels/kernels.h"

/* Per-layer tensor kinds, in table order. */
enum {
    P_LN1_W, P_LN1_B, P_ATTN_W, P_ATTN_B, P_PROJ_W, P_PROJ_B,
    P_LN2_W, P_LN2_B, P_FC_W, P_FC_B, P_FCPROJ_W, P_FCPROJ_B, P_PER_LAYER
};

/* Activation regions (sizes in floats; tokens and targets are int32 stored in float slots). */
enum {
    A_TOKENS, A_TARGETS, A_LOSSES, A_LSE, A_LMH, A_RES0, A_LNF, A_LNF_MEAN, A_LNF_RSTD, A_DRES,
    A_DLN, A_WORK,
    A_FIRST_LAYER,
    A_LN1 = A_FIRST_LAYER, A_LN1_MEAN, A_LN1_RSTD, A_QKV, A_ATT, A_ATTY, A_RES2, A_LN2,
    A_LN2_MEAN, A_LN2_RSTD, A_FCH, A_FCH_GELU, A_RES3,
    A_COUNT
};

struct lms_gpt {
    lms_gpt_config cfg;
    lms_backend be;         /* the backend instance: every op and every buffer (be.ops), its threads and caps */
    int ntensors;
    lms_tensor_info *tensors;
    int64_t nparams;
    float *params, *grads;
    /* activations */
    float *acts;
    size_t acts_floats;
    int planB, planT;
    float *h_losses;        /* [planB * planT], host: the last forward's per-token losses */
    size_t off[A_COUNT];    /* region offsets in floats */
    size_t stride[A_COUNT]; /* per-layer slice stride in floats (0 for global regions) */
    /* state of the last forward */
    int B, T;
    int have_targets;       /* a forward with targets ran and its backward has not */
    int64_t n_valid;        /* targets >= 0 in the last forward */
    /* weights kept packed by the table between optimizer steps (K->wpack_bytes; NULL otherwise) */
    void *wpack;            /* one buffer of the table's memory */
    void **wp;              /* [ntensors]: tensor i's pack in wpack, NULL for tensors without one */
    int wp_valid;           /* the packs hold the current weights (set by the optimizer step) */
    int grads_unset;        /* lms_gpt_zero_grad ran and no backward since: the gradients are zero,
                               but the buffer has not been cleared (the next backward overwrites) */
};

lms_status lms_gpt_config_check(const lms_gpt_config *c, lms_err *err) {
    if (!c) return lms_errf(err, LMS_ERR_ARG, "no model config given");
    if (c->n_layer < 1)
        return lms_errf(err, LMS_ERR_ARG, "n_layer is %d; a GPT needs at least 1 layer (set n_layer >= 1)",
                        c->n_layer);
    if (c->n_head < 1)
        return lms_errf(err, LMS_ERR_ARG, "n_head is %d; attention needs at least 1 head (set n_head >= 1)",
                        c->n_head);
    if (c->n_embd < 1)
        return lms_errf(err, LMS_ERR_ARG, "n_embd is %d; the width must be at least 1 (e.g. 64, 768)", c->n_embd);
    if (c->n_embd % c->n_head != 0)
        return lms_errf(err, LMS_ERR_ARG,
                        "n_embd %d is not divisible by n_head %d; heads split the width evenly, so pick "
                        "n_embd a multiple of n_head (e.g. n_embd %lld) or n_head a divisor of n_embd",
                        c->n_embd, c->n_head, ((long long)c->n_embd / c->n_head + 1) * c->n_head);
    if (c->vocab_size < 1)
        return lms_errf(err, LMS_ERR_ARG,
                        "vocab_size is %d; it must be at least 1 (use the tokenizer's vocabulary size)",
                        c->vocab_size);
    if (c->n_ctx < 1)
        return lms_errf(err, LMS_ERR_ARG, "n_ctx is %d; the context must hold at least 1 position (e.g. 256, 1024)",
                        c->n_ctx);
    double C = c->n_embd;
    double n = (double)c->vocab_size * C + (double)c->n_ctx * C + c->n_layer * (12.0 * C * C + 13.0 * C) + 2.0 * C;
    if (n > 1e12 || 4.0 * C * C > 9e18)
        return lms_errf(err, LMS_ERR_ARG,
                        "this config has %.3g parameters (%.3g GiB for the weights alone); that cannot be "
                        "allocated; reduce n_layer, n_embd, n_ctx or vocab_size",
                        n, n * 4 / (1 << 30));
    return LMS_OK;
}

int64_t lms_gpt_config_num_params(const lms_gpt_config *c) {
    int64_t C = c->n_embd;
    return (int64_t)c->vocab_size * C + (int64_t)c->n_ctx * C + (int64_t)c->n_layer * (12 * C * C + 13 * C) + 2 * C;
}

static void add_tensor(lms_gpt *m, int *i, size_t *off, const char *name, int ndim, int64_t d0, int64_t d1,
                       int decay) {
    lms_tensor_info *t = &m->tensors[(*i)++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = ndim == 2 ? d1 : 0;
    t->numel = ndim == 2 ? d0 * d1 : d0;
    t->offset = *off;
    t->decay = decay;
    *off += (size_t)t->numel;
}

static lms_status create(lms_gpt **out, const lms_gpt_config *c, int with_grads, const lms_ops *ops, int threads,
                         lms_err *err) {
    *out = NULL;
    lms_backend be;
    if (lms_backend_init(&be, ops, threads, err) != LMS_OK) return err ? err->code : LMS_ERR_ARG;
    if (lms_gpt_config_check(c, err) != LMS_OK) return err ? err->code : LMS_ERR_ARG;
    lms_gpt *m = calloc(1, sizeof *m);
    if (!m) return lms_errf(err, LMS_ERR_NOMEM, "out of memory creating a model");
    m->cfg = *c;
    m->be = be;
    int L = c->n_layer;
    int64_t C = c->n_embd;
    m->ntensors = 2 + P_PER_LAYER * L + 2;
    m->tensors = calloc((size_t)m->ntensors, sizeof *m->tensors);
    if (!m->tensors) {
        free(m);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory for the tensor table of %d layers", L);
    }
    int i = 0;
    size_t off = 0;
    char nm[64];
    add_tensor(m, &i, &off, "wte.weight", 2, c->vocab_size, C, 1);
    add_tensor(m, &i, &off, "wpe.weight", 2, c->n_ctx, C, 1);
    for (int l = 0; l < L; l++) {
#define T_(suffix, nd, d0, d1, dec)                                                                \
    snprintf(nm, sizeof nm, "h.%d." suffix, l);                                                    \
    add_tensor(m, &i, &off, nm, nd, d0, d1, dec)
        T_("ln_1.weight", 1, C, 0, 0);
        T_("ln_1.bias", 1, C, 0, 0);
        T_("attn.c_attn.weight", 2, C, 3 * C, 1);
        T_("attn.c_attn.bias", 1, 3 * C, 0, 0);
        T_("attn.c_proj.weight", 2, C, C, 1);
        T_("attn.c_proj.bias", 1, C, 0, 0);
        T_("ln_2.weight", 1, C, 0, 0);
        T_("ln_2.bias", 1, C, 0, 0);
        T_("mlp.c_fc.weight", 2, C, 4 * C, 1);
        T_("mlp.c_fc.bias", 1, 4 * C, 0, 0);
        T_("mlp.c_proj.weight", 2, 4 * C, C, 1);
        T_("mlp.c_proj.bias", 1, C, 0, 0);
#undef T_
    }
    add_tensor(m, &i, &off, "ln_f.weight", 1, C, 0, 0);
    add_tensor(m, &i, &off, "ln_f.bias", 1, C, 0, 0);
    LMS_ASSERT(i == m->ntensors);
    m->nparams = (int64_t)off;
    LMS_ASSERT(m->nparams == lms_gpt_config_num_params(c));
    m->params = m->be.ops->buf_alloc(off * sizeof(float), err);
    if (!m->params || (with_grads && lms_gpt_alloc_grads(m, err) != LMS_OK)) {
        lms_gpt_free(m);
        return err ? lms_err_prefix(err, "creating a model with %lld parameters: ", (long long)off) : LMS_ERR_NOMEM;
    }
    *out = m;
    return LMS_OK;
}

lms_status lms_gpt_create(lms_gpt **out, const lms_gpt_config *c, lms_err *err) {
    return create(out, c, 1, lms_ops_get(), 0, err);
}
lms_status lms_gpt_create_weights(lms_gpt **out, const lms_gpt_config *c, lms_err *err) {
    return create(out, c, 0, lms_ops_get(), 0, err);
}
lms_status lms_gpt_create_on(lms_gpt **out, const lms_gpt_config *c, const lms_ops *ops, int threads, lms_err *err) {
    return create(out, c, 0, ops, threads, err);
}

lms_status lms_gpt_alloc_grads(lms_gpt *m, lms_err *err) {
    if (m->grads) return LMS_OK;
    m->grads = m->be.ops->buf_alloc((size_t)m->nparams * sizeof(float), err);
    if (!m->grads) return err ? lms_err_prefix(err, "gradient buffer for %lld parameters: ", (long long)m->nparams) : LMS_ERR_NOMEM;
    return LMS_OK;
}

static void free_wpack(lms_gpt *m) {
    m->be.ops->buf_free(m->wpack);
    free(m->wp);
    m->wpack = NULL;
    m->wp = NULL;
    m->wp_valid = 0;
}

void lms_gpt_free(lms_gpt *m) {
    if (!m) return;
    free_wpack(m);
    m->be.ops->buf_free(m->params);
    m->be.ops->buf_free(m->grads);
    m->be.ops->buf_free(m->acts);
    free(m->h_losses);
    free(m->tensors);
    free(m);
}

lms_status lms_gpt_set_backend(lms_gpt *m, const lms_ops *ops, int threads, lms_err *err) {
    lms_backend be;
    if (lms_backend_init(&be, ops, threads, err) != LMS_OK) return err ? err->code : LMS_ERR_ARG;
    int host = lms_backend_has(&be, LMS_BACKEND_HOST_MEMORY);
    if (host != lms_backend_has(&m->be, LMS_BACKEND_HOST_MEMORY)) /* the buffers stay where they are */
        return lms_errf(err, LMS_ERR_ARG,
                        "kernel table '%s' keeps its buffers in %s memory but the model's are in %s memory "
                        "(table '%s'); create the model with that backend instead of switching",
                        ops->name, host ? "host" : "device", host ? "device" : "host", m->be.name);
    if (ops != m->be.ops) free_wpack(m); /* packs are in the old table's format (lms_gpt_plan makes new ones) */
    m->be = be;
    return LMS_OK;
}
const lms_backend *lms_gpt_backend(const lms_gpt *m) { return &m->be; }
const lms_ops *lms_gpt_ops(const lms_gpt *m) { return m->be.ops; }
int lms_gpt_threads(const lms_gpt *m) { return m->be.threads; }

const lms_gpt_config *lms_gpt_get_config(const lms_gpt *m) { return &m->cfg; }
int lms_gpt_num_tensors(const lms_gpt *m) { return m->ntensors; }
const lms_tensor_info *lms_gpt_tensor(const lms_gpt *m, int i) {
    LMS_ASSERT(i >= 0 && i < m->ntensors);
    return &m->tensors[i];
}
const lms_tensor_info *lms_gpt_find_tensor(const lms_gpt *m, const char *name) {
    for (int i = 0; i < m->ntensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}
float *lms_gpt_params(lms_gpt *m) {
    m->wp_valid = 0; /* the caller may change the weights: the packs no longer count */
    return m->params;
}
/* The zeros lms_gpt_zero_grad promised, for a reader before the next backward */
static void settle_grads(lms_gpt *m) {
    if (!m->grads_unset) return;
    m->be.ops->buf_memset(m->grads, 0, (size_t)m->nparams * sizeof(float));
    m->grads_unset = 0;
}

float *lms_gpt_grads(lms_gpt *m) {
    if (m->grads) settle_grads(m);
    return m->grads;
}
const float *lms_gpt_params_const(const lms_gpt *m) { return m->params; }
int64_t lms_gpt_num_params(const lms_gpt *m) { return m->nparams; }

/* Index in the tensor table of layer l's tensor of kind k. */
static inline int tix(int l, int k) { return 2 + P_PER_LAYER * l + k; }

void lms_gpt_init(lms_gpt *m, uint64_t seed) {
    m->wp_valid = 0;
    lms_rng r;
    lms_rng_seed(&r, seed);
    double proj_std = 0.02 / sqrt(2.0 * m->cfg.n_layer);
    /* drawn into a host view of the parameters (the buffer itself on host memory), then copied in */
    void *tmp;
    float *host = lms_backend_write_view(&m->be, m->params, (size_t)m->nparams * sizeof(float), &tmp, NULL);
    LMS_ASSERT(host && "out of memory staging the initial weights");
    for (int i = 0; i < m->ntensors; i++) {
        const lms_tensor_info *t = &m->tensors[i];
        float *p = host + t->offset;
        int k = (i >= 2 && i < 2 + P_PER_LAYER * m->cfg.n_layer) ? (i - 2) % P_PER_LAYER : -1;
        int is_ln_w = k == P_LN1_W || k == P_LN2_W || i == m->ntensors - 2;
        if (t->ndim == 2) {
            double std = (k == P_PROJ_W || k == P_FCPROJ_W) ? proj_std : 0.02;
            for (int64_t j = 0; j < t->numel; j++) p[j] = (float)(std * lms_rng_normal(&r));
        } else {
            for (int64_t j = 0; j < t->numel; j++) p[j] = is_ln_w ? 1.0f : 0.0f;
        }
    }
    lms_backend_write_done(&m->be, m->params, tmp, (size_t)m->nparams * sizeof(float));
}

/* ---- activation plan ---- */

/* The size table: floats per region for B x T tokens (per-layer regions: one layer's slice,
   aligned; the region holds L of them). Pure. Returns 0 if anything overflows. */
static int act_sizes(const lms_gpt_config *c, int B, int T, size_t sz[A_COUNT], size_t *total) {
    double BT = (double)B * T, C = c->n_embd, NH = c->n_head, V = c->vocab_size, L = c->n_layer;
    double approx = BT * (16 * C + NH * T + 4) * L + BT * (4 * C + 6) + V * C +
                    fmax(BT * V, BT * 8 * C + B * NH * (double)T * T);
    if (approx * 4 > 4e15) return 0; /* 4 PB: nothing real; keeps the size_t math below exact */
    size_t bt = (size_t)B * (size_t)T, Cs = (size_t)c->n_embd, Vs = (size_t)c->vocab_size;
    size_t att = (size_t)B * (size_t)c->n_head * (size_t)T * (size_t)T;
    sz[A_TOKENS] = sz[A_TARGETS] = sz[A_LOSSES] = sz[A_LSE] = bt;
    sz[A_LMH] = (size_t)lms_lmhead_scratch_floats(c->vocab_size, c->n_embd);
    sz[A_RES0] = sz[A_LNF] = sz[A_DRES] = sz[A_DLN] = bt * Cs;
    sz[A_LNF_MEAN] = sz[A_LNF_RSTD] = bt;
    size_t bwd = lms_align_floats(4 * bt * Cs) * 2 + lms_align_floats(att); /* [4C] + [4C] + datt */
    size_t work = bt * Vs > bwd ? bt * Vs : bwd;
    if (work < bt * Cs) work = bt * Cs;
    sz[A_WORK] = work;
    sz[A_LN1] = sz[A_ATTY] = sz[A_RES2] = sz[A_LN2] = sz[A_RES3] = bt * Cs;
    sz[A_LN1_MEAN] = sz[A_LN1_RSTD] = sz[A_LN2_MEAN] = sz[A_LN2_RSTD] = bt;
    sz[A_QKV] = 3 * bt * Cs;
    sz[A_ATT] = att;
    sz[A_FCH] = sz[A_FCH_GELU] = 4 * bt * Cs;
    size_t t = 0;
    for (int a = 0; a < A_COUNT; a++) {
        sz[a] = lms_align_floats(sz[a]);
        t += a >= A_FIRST_LAYER ? sz[a] * (size_t)c->n_layer : sz[a];
    }
    *total = t;
    return 1;
}

/* 1 for the tensors the matrix products read as weights (wte as the output layer, and each
   layer's four projections): the ones the table may keep packed */
static int is_product_weight(int ntensors, int i) {
    if (i == 0) return 1;
    if (i < 2 || i >= ntensors - 2) return 0;
    int k = (i - 2) % P_PER_LAYER;
    return k == P_ATTN_W || k == P_PROJ_W || k == P_FC_W || k == P_FCPROJ_W;
}

size_t lms_gpt_wpack_bytes(const lms_gpt_config *c, const lms_ops *K) {
    if (!K || !(K->caps & LMS_BACKEND_PACKED_WEIGHTS) || lms_gpt_config_check(c, NULL) != LMS_OK) return 0;
    int64_t C = c->n_embd;
    return K->wpack_bytes(c->vocab_size, C) +
           (size_t)c->n_layer * (K->wpack_bytes(C, 3 * C) + K->wpack_bytes(C, C) + K->wpack_bytes(C, 4 * C) +
                                 K->wpack_bytes(4 * C, C));
}

/* The packs of a table that keeps them (nothing to do otherwise, or when they exist) */
static lms_status alloc_wpack(lms_gpt *m, lms_err *err) {
    size_t bytes = lms_gpt_wpack_bytes(&m->cfg, m->be.ops);
    const char *off = getenv("LMS_NO_WPACK"); /* for measuring what the packs gain */
    if (m->wpack || !bytes || (off && off[0] && off[0] != '0')) return LMS_OK;
    m->wp = calloc((size_t)m->ntensors, sizeof *m->wp);
    m->wpack = m->wp ? m->be.ops->buf_alloc(bytes, err) : NULL;
    if (!m->wpack) {
        free(m->wp);
        m->wp = NULL;
        if (!err || !err->code) lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        return err ? lms_err_prefix(err, "packed weights for table '%s' (%zu bytes): ", m->be.ops->name, bytes)
                   : LMS_ERR_NOMEM;
    }
    char *at = m->wpack;
    for (int i = 0; i < m->ntensors; i++)
        if (is_product_weight(m->ntensors, i)) {
            m->wp[i] = at;
            at += m->be.ops->wpack_bytes(m->tensors[i].shape[0], m->tensors[i].shape[1]);
        }
    LMS_ASSERT((size_t)(at - (char *)m->wpack) == bytes);
    m->wp_valid = 0;
    return LMS_OK;
}

void *lms_gpt_wpack(lms_gpt *m, int i) {
    LMS_ASSERT(i >= 0 && i < m->ntensors);
    return m->wp ? m->wp[i] : NULL;
}
void lms_gpt_wpack_written(lms_gpt *m) { m->wp_valid = m->wp != NULL; }

size_t lms_gpt_activation_bytes(const lms_gpt_config *c, int B, int T) {
    size_t sz[A_COUNT], total;
    if (lms_gpt_config_check(c, NULL) != LMS_OK || B < 1 || T < 1 || T > c->n_ctx) return 0;
    if (!act_sizes(c, B, T, sz, &total)) return 0;
    return total * sizeof(float);
}

lms_status lms_gpt_plan(lms_gpt *m, int B, int T, lms_err *err) {
    if (B < 1 || T < 1)
        return lms_errf(err, LMS_ERR_ARG, "batch %d x %d: batch size and sequence length must be >= 1", B, T);
    if (T > m->cfg.n_ctx)
        return lms_errf(err, LMS_ERR_ARG,
                        "sequence length %d exceeds the model's context n_ctx = %d; use T <= %d or a model "
                        "with a longer context", T, m->cfg.n_ctx, m->cfg.n_ctx);
    lms_status gs = lms_gpt_alloc_grads(m, err); /* a training plan: the backward needs them */
    if (!gs) gs = alloc_wpack(m, err);
    if (gs) return gs;
    if (m->acts && B <= m->planB && T <= m->planT) return LMS_OK;
    if (m->acts) { /* grow to cover both the old and the new shape */
        if (B < m->planB) B = m->planB;
        if (T < m->planT) T = m->planT;
    }
    size_t sz[A_COUNT], total;
    if (!act_sizes(&m->cfg, B, T, sz, &total))
        return lms_errf(err, LMS_ERR_ARG, "batch %d x %d is too large for this model's activations; "
                        "use a smaller batch (and gradient accumulation) or a shorter sequence", B, T);
    float *a = m->be.ops->buf_alloc(total * sizeof(float), err);
    float *hl = a ? calloc((size_t)B * (size_t)T, sizeof(float)) : NULL;
    if (!hl) {
        m->be.ops->buf_free(a);
        if (a) lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        return err ? lms_err_prefix(err, "planning activations for batch %d x %d: ", B, T) : LMS_ERR_NOMEM;
    }
    m->be.ops->buf_free(m->acts);
    free(m->h_losses);
    m->acts = a;
    m->h_losses = hl;
    m->acts_floats = total;
    m->planB = B;
    m->planT = T;
    size_t off = 0;
    for (int r = 0; r < A_COUNT; r++) {
        m->off[r] = off;
        m->stride[r] = r >= A_FIRST_LAYER ? sz[r] : 0;
        off += r >= A_FIRST_LAYER ? sz[r] * (size_t)m->cfg.n_layer : sz[r];
    }
    LMS_ASSERT(off == total);
    m->have_targets = 0;
    return LMS_OK;
}

/* View of region r (layer l for per-layer regions). */
static inline float *act(const lms_gpt *m, int r, int l) { return m->acts + m->off[r] + (size_t)l * m->stride[r]; }

static inline float *par(lms_gpt *m, int i) { return m->params + m->tensors[i].offset; }
static inline float *grd(lms_gpt *m, int i) { return m->grads + m->tensors[i].offset; }

/* The products with weight tensor i: from its pack while the packs hold the current weights */
static void mm_fwd(lms_gpt *m, int i, float *out, const float *inp, const float *bias, int64_t N, int64_t C,
                   int64_t OC, lms_wlayout lay) {
    if (m->wp_valid && m->wp[i]) m->be.ops->matmul_fwd_wp(out, inp, m->wp[i], bias, N, C, OC, lay);
    else m->be.ops->matmul_fwd(out, inp, par(m, i), bias, N, C, OC, lay);
}
/* dw_acc: 0 while the gradients are unset (this product is the first write into tensor i's) */
static void mm_bwd(lms_gpt *m, int i, float *dinp, float *dbias, const float *dout, const float *inp, int64_t N,
                   int64_t C, int64_t OC, lms_wlayout lay) {
    int acc = !m->grads_unset;
    if (m->wp_valid && m->wp[i]) m->be.ops->matmul_bwd_wp(dinp, grd(m, i), dbias, dout, inp, m->wp[i], N, C, OC, lay, acc);
    else m->be.ops->matmul_bwd(dinp, grd(m, i), dbias, dout, inp, par(m, i), N, C, OC, lay, acc);
}

float lms_gpt_forward(lms_gpt *m, const int32_t *inputs, const int32_t *targets, int B, int T) {
    LMS_ASSERT(m->acts && "call lms_gpt_plan before lms_gpt_forward");
    LMS_ASSERT(B >= 1 && T >= 1 && B <= m->planB && T <= m->planT);
    const lms_ops *K = m->be.ops;
    const int L = m->cfg.n_layer, V = m->cfg.vocab_size;
    const int64_t C = m->cfg.n_embd, NH = m->cfg.n_head, N = (int64_t)B * T;
    m->B = B;
    m->T = T;
    for (int64_t i = 0; i < N; i++) LMS_ASSERT(inputs[i] >= 0 && inputs[i] < V);
    int prev_threads = lms_ops_threads_begin(m->be.threads);
    int32_t *tok = (int32_t *)act(m, A_TOKENS, 0);
    K->copy_h2d(tok, inputs, (size_t)N * sizeof(int32_t));
    float *work = act(m, A_WORK, 0);
    K->encoder_fwd(act(m, A_RES0, 0), tok, par(m, 0), par(m, 1), B, T, C);
    for (int l = 0; l < L; l++) {
        const float *x = l == 0 ? act(m, A_RES0, 0) : act(m, A_RES3, l - 1);
        float *ln1 = act(m, A_LN1, l), *qkv = act(m, A_QKV, l), *atty = act(m, A_ATTY, l);
        float *res2 = act(m, A_RES2, l), *ln2 = act(m, A_LN2, l), *fch = act(m, A_FCH, l);
        float *fchg = act(m, A_FCH_GELU, l), *res3 = act(m, A_RES3, l);
        K->layernorm_fwd(ln1, act(m, A_LN1_MEAN, l), act(m, A_LN1_RSTD, l), x, par(m, tix(l, P_LN1_W)),
                         par(m, tix(l, P_LN1_B)), N, C);
        mm_fwd(m, tix(l, P_ATTN_W), qkv, ln1, par(m, tix(l, P_ATTN_B)), N, C, 3 * C, LMS_W_IN_OUT);
        K->attention_fwd(atty, act(m, A_ATT, l), qkv, B, T, C, NH);
        mm_fwd(m, tix(l, P_PROJ_W), work, atty, par(m, tix(l, P_PROJ_B)), N, C, C, LMS_W_IN_OUT);
        K->residual_fwd(res2, x, work, N * C);
        K->layernorm_fwd(ln2, act(m, A_LN2_MEAN, l), act(m, A_LN2_RSTD, l), res2, par(m, tix(l, P_LN2_W)),
                         par(m, tix(l, P_LN2_B)), N, C);
        mm_fwd(m, tix(l, P_FC_W), fch, ln2, par(m, tix(l, P_FC_B)), N, C, 4 * C, LMS_W_IN_OUT);
        K->gelu_fwd(fchg, fch, N * 4 * C);
        mm_fwd(m, tix(l, P_FCPROJ_W), work, fchg, par(m, tix(l, P_FCPROJ_B)), N, 4 * C, C, LMS_W_IN_OUT);
        K->residual_fwd(res3, res2, work, N * C);
    }
    int f = m->ntensors - 2;
    K->layernorm_fwd(act(m, A_LNF, 0), act(m, A_LNF_MEAN, 0), act(m, A_LNF_RSTD, 0), act(m, A_RES3, L - 1),
                     par(m, f), par(m, f + 1), N, C);
    m->have_targets = 0;
    if (!targets) {
        mm_fwd(m, 0, work, act(m, A_LNF, 0), NULL, N, C, V, LMS_W_OUT_IN); /* logits [N,V] */
        lms_ops_threads_end(prev_threads);
        return 0.0f;
    }
    int32_t *tgt = (int32_t *)act(m, A_TARGETS, 0);
    int64_t nv = 0;
    for (int64_t i = 0; i < N; i++) {
        LMS_ASSERT(targets[i] < V);
        nv += targets[i] >= 0;
    }
    K->copy_h2d(tgt, targets, (size_t)N * sizeof(int32_t));
    float *losses = act(m, A_LOSSES, 0);
    /* logits [N,V], their losses and log-sum-exps (kept for the backward) */
    float *lmh = m->off[A_LMH + 1] > m->off[A_LMH] ? act(m, A_LMH, 0) : NULL; /* none at C > 128 */
    if (lms_backend_has(&m->be, LMS_BACKEND_FUSED_LMHEAD))
        K->lmhead_xent_fwd(work, losses, act(m, A_LSE, 0), lmh, act(m, A_LNF, 0), par(m, 0), tgt, N, C, V);
    else { /* a table without the fused op (bf16: its own products; CUDA): matmul, then cross-entropy */
        mm_fwd(m, 0, work, act(m, A_LNF, 0), NULL, N, C, V, LMS_W_OUT_IN);
        K->xent_fwd(losses, work, tgt, N, V);
    }
    K->copy_d2h(m->h_losses, losses, (size_t)N * sizeof(float));
    lms_ops_threads_end(prev_threads);
    double s = 0.0;
    for (int64_t i = 0; i < N; i++) s += m->h_losses[i];
    m->n_valid = nv;
    m->have_targets = 1;
    return nv ? (float)(s / (double)nv) : 0.0f;
}

/* Nothing is written here: the next backward overwrites the weight matrices' gradients with their
   first product (matmul_bwd with dw_acc = 0) and clears only the rest (lms_gpt_backward); a
   reader before that gets the buffer cleared (lms_gpt_grads). Clearing 4 bytes per parameter up
   front was 15 ms of a 124M-parameter step. */
void lms_gpt_zero_grad(lms_gpt *m) {
    LMS_ASSERT(m->grads && "no gradient buffer: lms_gpt_plan or lms_gpt_alloc_grads first");
    m->grads_unset = 1;
}

void lms_gpt_backward(lms_gpt *m, float loss_scale) {
    LMS_ASSERT(m->have_targets && "lms_gpt_backward needs a forward with targets just before it");
    m->have_targets = 0;
    LMS_ASSERT(m->grads);
    if (m->n_valid == 0) { /* every target ignored: the loss is the constant 0 */
        settle_grads(m);
        return;
    }
    const lms_ops *K = m->be.ops;
    int prev_threads = lms_ops_threads_begin(m->be.threads);
    const int L = m->cfg.n_layer, V = m->cfg.vocab_size, B = m->B, T = m->T;
    const int64_t C = m->cfg.n_embd, NH = m->cfg.n_head, N = (int64_t)B * T;
    const int32_t *tok = (const int32_t *)act(m, A_TOKENS, 0), *tgt = (const int32_t *)act(m, A_TARGETS, 0);
    float *work = act(m, A_WORK, 0), *dres = act(m, A_DRES, 0), *dln = act(m, A_DLN, 0);
    size_t bwd4 = lms_align_floats((size_t)(4 * N * C));
    /* Unset gradients (lms_gpt_zero_grad): the weight matrices' are overwritten by their products
       below (mm_bwd); every other tensor's is cleared here, wte's too when the fused output layer
       adds into it */
    if (m->grads_unset)
        for (int i = 0; i < m->ntensors; i++)
            if (!is_product_weight(m->ntensors, i) || (i == 0 && lms_backend_has(&m->be, LMS_BACKEND_FUSED_LMHEAD)))
                K->buf_memset(grd(m, i), 0, (size_t)m->tensors[i].numel * sizeof(float));
    /* Logits -> dlogits in place (from the forward's log-sum-exps), into d lnf and d wte */
    int f = m->ntensors - 2;
    K->buf_memset(dln, 0, (size_t)(N * C) * sizeof(float));
    const float dloss = (float)((double)loss_scale / (double)m->n_valid);
    if (lms_backend_has(&m->be, LMS_BACKEND_FUSED_LMHEAD))
        K->lmhead_xent_bwd(dln, grd(m, 0), work, act(m, A_LSE, 0), act(m, A_LNF, 0), par(m, 0), tgt, N, C, V, dloss);
    else { /* logits -> dlogits in place (their losses go to dres, scratch here), then the product's backward */
        K->xent_fwd_bwd(dres, work, tgt, N, V, dloss);
        mm_bwd(m, 0, dln, NULL, work, act(m, A_LNF, 0), N, C, V, LMS_W_OUT_IN);
    }
    K->buf_memset(dres, 0, (size_t)(N * C) * sizeof(float));
    K->layernorm_bwd(dres, grd(m, f), grd(m, f + 1), dln, act(m, A_RES3, L - 1), par(m, f), act(m, A_LNF_MEAN, 0),
                     act(m, A_LNF_RSTD, 0), N, C);
    /* dlogits are dead from here: the work region becomes the per-layer scratch */
    float *w0 = work, *w1 = work + bwd4, *datt = work + 2 * bwd4;
    for (int l = L - 1; l >= 0; l--) {
        const float *x = l == 0 ? act(m, A_RES0, 0) : act(m, A_RES3, l - 1);
        /* dres holds d loss / d res3 (the layer's output) */
        K->buf_memset(w0, 0, (size_t)(4 * N * C) * sizeof(float)); /* d fch_gelu */
        mm_bwd(m, tix(l, P_FCPROJ_W), w0, grd(m, tix(l, P_FCPROJ_B)), dres, act(m, A_FCH_GELU, l), N, 4 * C, C,
               LMS_W_IN_OUT);
        K->buf_memset(w1, 0, (size_t)(4 * N * C) * sizeof(float)); /* d fch */
        K->gelu_bwd(w1, act(m, A_FCH, l), w0, N * 4 * C);
        K->buf_memset(dln, 0, (size_t)(N * C) * sizeof(float)); /* d ln2 */
        mm_bwd(m, tix(l, P_FC_W), dln, grd(m, tix(l, P_FC_B)), w1, act(m, A_LN2, l), N, C, 4 * C, LMS_W_IN_OUT);
        /* residual: d res2 = d res3 + the LayerNorm path, accumulated into dres */
        K->layernorm_bwd(dres, grd(m, tix(l, P_LN2_W)), grd(m, tix(l, P_LN2_B)), dln, act(m, A_RES2, l),
                         par(m, tix(l, P_LN2_W)), act(m, A_LN2_MEAN, l), act(m, A_LN2_RSTD, l), N, C);
        K->buf_memset(w1, 0, (size_t)(N * C) * sizeof(float)); /* d atty */
        mm_bwd(m, tix(l, P_PROJ_W), w1, grd(m, tix(l, P_PROJ_B)), dres, act(m, A_ATTY, l), N, C, C, LMS_W_IN_OUT);
        K->buf_memset(w0, 0, (size_t)(3 * N * C) * sizeof(float)); /* d qkv */
        K->attention_bwd(w0, datt, w1, act(m, A_QKV, l), act(m, A_ATT, l), B, T, C, NH);
        K->buf_memset(dln, 0, (size_t)(N * C) * sizeof(float)); /* d ln1 */
        mm_bwd(m, tix(l, P_ATTN_W), dln, grd(m, tix(l, P_ATTN_B)), w0, act(m, A_LN1, l), N, C, 3 * C, LMS_W_IN_OUT);
        K->layernorm_bwd(dres, grd(m, tix(l, P_LN1_W)), grd(m, tix(l, P_LN1_B)), dln, x, par(m, tix(l, P_LN1_W)),
                         act(m, A_LN1_MEAN, l), act(m, A_LN1_RSTD, l), N, C);
    }
    K->encoder_bwd(grd(m, 0), grd(m, 1), dres, tok, B, T, C);
    m->grads_unset = 0;
    lms_ops_threads_end(prev_threads);
}

const float *lms_gpt_logits(const lms_gpt *m) { return m->acts ? act(m, A_WORK, 0) : NULL; }
const float *lms_gpt_losses(const lms_gpt *m) { return m->h_losses; }

double lms_gpt_flops_per_token(const lms_gpt_config *c, int T) {
    double C = c->n_embd, L = c->n_layer, V = c->vocab_size;
    double fwd = L * (24.0 * C * C + 2.0 * C * (T + 1.0)) + 2.0 * C * V;
    return 3.0 * fwd;
}

lms_gpt_memory lms_gpt_memory_bytes(const lms_gpt *m) {
    lms_gpt_memory r;
    r.params = (size_t)m->nparams * sizeof(float);
    r.grads = m->grads ? r.params : 0;
    r.acts = m->acts_floats * sizeof(float);
    r.wpack = m->wpack ? lms_gpt_wpack_bytes(&m->cfg, m->be.ops) : 0;
    return r;
}
