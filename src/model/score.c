/* score.c — forward-only scoring with one layer's scratch (see score.h).
 *
 * The forward pass is gpt.c's, layer by layer, but every layer writes the same buffers: the
 * residual stream ping-pongs between two [B,T,C] buffers and the per-layer intermediates (ln, qkv,
 * attention probabilities, attention output, MLP hidden) are overwritten by the next layer. After
 * the last block only the rows that are scored are gathered, normalised by ln_f and multiplied by
 * wteᵀ, in blocks of at most `blk` rows so the logits never take more than ~64 MB.
 *
 * Backend: the model's kernel table and thread count (gpt.h, lms_gpt_set_backend); the scratch
 * comes from its buf_alloc, token ids go in with copy_h2d and the gathered rows move with copy_d2d.
 * The host reads and writes the target, row-index and log-probability arrays, the logits the rank
 * and top-k read and the per-sequence windows (the regions h[] names): on a backend that declares
 * LMS_BACKEND_HOST_MEMORY they are the scratch itself; otherwise a host block mirrors them, and targets go in
 * with copy_h2d, log-probabilities (and, for ranks or top-k, the logits block) come out with copy_d2h.
 *
 * Leaves out: gradients, KV caching, batch shapes beyond the ones given at create.
 */
#include "model/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "kernels/kernels.h"

enum { S_X, S_X2, S_LN, S_QKV, S_ATT, S_ATTY, S_WORK, S_FCH, S_FCHG, S_MEAN, S_RSTD, S_TOK, S_TGT, S_ROWS,
       S_LOGITS, S_LP, S_SEQ_TG, S_SEQ_LP, S_SEQ_RK, S_SEQ_TOPID, S_SEQ_TOPLP, S_COUNT };

struct lms_scorer {
    const lms_gpt *m;
    const lms_ops *K;      /* the model's table when the scratch was allocated (frees it) */
    int maxB, maxT;
    int64_t blk;           /* logit rows per block */
    float *buf;
    float *r[S_COUNT];
    float *h[S_COUNT];     /* what the host touches: r[i] itself, or the host mirror (device tables) */
    float *hbuf;           /* the mirror of the host regions (device tables only) */
    size_t total;
};

/* regions the host reads or writes */
static int host_region(int i) {
    return i == S_TGT || i == S_ROWS || i == S_LOGITS || i == S_LP || i >= S_SEQ_TG;
}

/* Sizes in floats of every region (int32 arrays take float slots). 0 on overflow. */
static int sizes(const lms_gpt_config *c, int B, int T, int64_t *blk_out, size_t sz[S_COUNT], size_t *total) {
    if (lms_gpt_config_check(c, NULL) != LMS_OK || B < 1 || T < 1 || T > c->n_ctx) return 0;
    double bt = (double)B * T, C = c->n_embd, NH = c->n_head;
    if (bt * (14 * C + 8) + B * NH * (double)T * T > 1e14) return 0;
    size_t n = (size_t)B * (size_t)T, Cs = (size_t)c->n_embd, V = (size_t)c->vocab_size;
    int64_t blk = (int64_t)((16u << 20) / V); /* 64 MB of fp32 logits */
    if (blk < 16) blk = 16;
    if ((size_t)blk > n) blk = (int64_t)n;
    sz[S_X] = sz[S_X2] = sz[S_LN] = sz[S_ATTY] = sz[S_WORK] = n * Cs;
    sz[S_QKV] = 3 * n * Cs;
    sz[S_ATT] = (size_t)B * (size_t)c->n_head * (size_t)T * (size_t)T;
    sz[S_FCH] = sz[S_FCHG] = 4 * n * Cs;
    sz[S_MEAN] = sz[S_RSTD] = sz[S_TOK] = sz[S_TGT] = sz[S_ROWS] = n;
    sz[S_LOGITS] = (size_t)blk * V;
    sz[S_LP] = (size_t)blk;
    sz[S_SEQ_TG] = sz[S_SEQ_LP] = sz[S_SEQ_RK] = (size_t)T; /* lms_gpt_score_seq's window */
    sz[S_SEQ_TOPID] = sz[S_SEQ_TOPLP] = (size_t)T * LMS_SCORE_MAX_TOP;
    size_t t = 0;
    for (int i = 0; i < S_COUNT; i++) t += sz[i] = lms_align_floats(sz[i]);
    *blk_out = blk;
    *total = t;
    return 1;
}

size_t lms_scorer_bytes(const lms_gpt_config *c, int max_B, int max_T) {
    size_t sz[S_COUNT], total;
    int64_t blk;
    return sizes(c, max_B, max_T, &blk, sz, &total) ? total * sizeof(float) : 0;
}

lms_status lms_scorer_create(lms_scorer **out, const lms_gpt *m, int max_B, int max_T, lms_err *err) {
    *out = NULL;
    const lms_gpt_config *c = lms_gpt_get_config(m);
    if (max_B < 1 || max_T < 1 || max_T > c->n_ctx)
        return lms_errf(err, LMS_ERR_ARG, "scoring batch %d x %d: need B >= 1 and 1 <= T <= the model's context %d",
                        max_B, max_T, c->n_ctx);
    size_t sz[S_COUNT], total;
    int64_t blk;
    if (!sizes(c, max_B, max_T, &blk, sz, &total))
        return lms_errf(err, LMS_ERR_ARG, "scoring batch %d x %d is too large for this model; use a smaller batch",
                        max_B, max_T);
    lms_scorer *s = calloc(1, sizeof *s);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory creating a scorer");
    s->K = lms_gpt_ops(m);
    s->buf = s->K->buf_alloc(total * sizeof(float), err);
    if (!s->buf) {
        free(s);
        return err ? lms_err_prefix(err, "scorer for batch %d x %d: ", max_B, max_T) : LMS_ERR_NOMEM;
    }
    size_t off = 0, hoff = 0;
    for (int i = 0; i < S_COUNT; i++) s->r[i] = s->buf + off, off += sz[i];
    for (int i = 0; i < S_COUNT; i++) hoff += host_region(i) ? sz[i] : 0;
    if (!lms_backend_has(lms_gpt_backend(m), LMS_BACKEND_HOST_MEMORY) && !(s->hbuf = lms_alloc(hoff * sizeof(float), err))) {
        lms_scorer_free(s);
        return err ? lms_err_prefix(err, "scorer host buffers: ") : LMS_ERR_NOMEM;
    }
    hoff = 0;
    for (int i = 0; i < S_COUNT; i++) {
        s->h[i] = s->hbuf && host_region(i) ? s->hbuf + hoff : s->r[i];
        hoff += host_region(i) ? sz[i] : 0;
    }
    s->m = m;
    s->maxB = max_B;
    s->maxT = max_T;
    s->blk = blk;
    s->total = total;
    *out = s;
    return LMS_OK;
}

void lms_scorer_free(lms_scorer *s) {
    if (!s) return;
    s->K->buf_free(s->buf);
    lms_free(s->hbuf);
    free(s);
}

int lms_scorer_max_B(const lms_scorer *s) { return s->maxB; }
int lms_scorer_max_T(const lms_scorer *s) { return s->maxT; }

/* Parameter tensor i of the model (read only). */
static inline const float *par(const lms_gpt *m, int i) {
    return lms_gpt_params_const(m) + lms_gpt_tensor(m, i)->offset;
}

/* The k best entries of row[V] (best first; the lowest id among equals) into id[k]. */
static void top_k(const float *row, int V, int k, int32_t *id) {
    int n = 0;
    for (int v = 0; v < V; v++) {
        if (n == k && !(row[v] > row[id[k - 1]])) continue;
        int p = n < k ? n++ : k - 1;
        while (p > 0 && row[id[p - 1]] < row[v]) id[p] = id[p - 1], p--;
        id[p] = v;
    }
}

int64_t lms_gpt_score(lms_scorer *s, const int32_t *inputs, const int32_t *targets, int B, int T, float *logp,
                      int32_t *rank) {
    return lms_gpt_score_top(s, inputs, targets, B, T, logp, rank, 0, NULL, NULL);
}

int64_t lms_gpt_score_top(lms_scorer *s, const int32_t *inputs, const int32_t *targets, int B, int T, float *logp,
                          int32_t *rank, int k, int32_t *top_id, float *top_logp) {
    LMS_ASSERT(B >= 1 && T >= 1 && B <= s->maxB && T <= s->maxT);
    LMS_ASSERT(k >= 0 && k <= LMS_SCORE_MAX_TOP && (k == 0 || (top_id && top_logp)));
    const lms_gpt *m = s->m;
    const lms_ops *K = lms_gpt_ops(m);
    const lms_gpt_config *c = lms_gpt_get_config(m);
    const int L = c->n_layer, V = c->vocab_size;
    const int64_t C = c->n_embd, NH = c->n_head, N = (int64_t)B * T;
    int32_t *tok = (int32_t *)s->r[S_TOK], *tgt = (int32_t *)s->h[S_TGT], *rows = (int32_t *)s->h[S_ROWS];
    int64_t R = 0;
    for (int64_t i = 0; i < N; i++) {
        LMS_ASSERT(inputs[i] >= 0 && inputs[i] < V);
        LMS_ASSERT(targets[i] < V);
        logp[i] = 0.0f;
        if (rank) rank[i] = 0;
        for (int j = 0; j < k; j++) top_id[i * k + j] = -1, top_logp[i * k + j] = 0.0f;
        if (targets[i] >= 0) rows[R++] = (int32_t)i;
    }
    if (R == 0) return 0;
    int prev_threads = lms_ops_threads_begin(lms_gpt_threads(m));
    K->copy_h2d(tok, inputs, (size_t)N * sizeof(int32_t));
    /* the rows after the last scored position of each sequence change nothing before them
       (causal attention), but a whole batch must be computed up to its last scored column */
    float *x = s->r[S_X], *x2 = s->r[S_X2], *ln = s->r[S_LN], *qkv = s->r[S_QKV], *att = s->r[S_ATT];
    float *atty = s->r[S_ATTY], *work = s->r[S_WORK], *fch = s->r[S_FCH], *fchg = s->r[S_FCHG];
    float *mean = s->r[S_MEAN], *rstd = s->r[S_RSTD];
    K->encoder_fwd(x, tok, par(m, 0), par(m, 1), B, T, C);
    for (int l = 0; l < L; l++) {
        int t0 = 2 + 12 * l; /* this layer's tensors in table order (gpt.h) */
        K->layernorm_fwd(ln, mean, rstd, x, par(m, t0 + 0), par(m, t0 + 1), N, C);
        K->matmul_fwd(qkv, ln, par(m, t0 + 2), par(m, t0 + 3), N, C, 3 * C, LMS_W_IN_OUT);
        K->attention_fwd(atty, att, qkv, B, T, C, NH);
        K->matmul_fwd(work, atty, par(m, t0 + 4), par(m, t0 + 5), N, C, C, LMS_W_IN_OUT);
        K->residual_fwd(x2, x, work, N * C);
        K->layernorm_fwd(ln, mean, rstd, x2, par(m, t0 + 6), par(m, t0 + 7), N, C);
        K->matmul_fwd(fch, ln, par(m, t0 + 8), par(m, t0 + 9), N, C, 4 * C, LMS_W_IN_OUT);
        K->gelu_fwd(fchg, fch, N * 4 * C);
        K->matmul_fwd(work, fchg, par(m, t0 + 10), par(m, t0 + 11), N, 4 * C, C, LMS_W_IN_OUT);
        K->residual_fwd(x, x2, work, N * C);
    }
    /* gather the scored rows of the residual stream (into x2), then ln_f (into ln) */
    for (int64_t r = 0; r < R; r++) K->copy_d2d(x2 + r * C, x + (int64_t)rows[r] * C, (size_t)C * sizeof(float));
    int f = lms_gpt_num_tensors(m) - 2;
    K->layernorm_fwd(ln, mean, rstd, x2, par(m, f), par(m, f + 1), R, C);
    float *logits = s->h[S_LOGITS], *lp = s->h[S_LP];
    for (int64_t r0 = 0; r0 < R; r0 += s->blk) {
        int64_t nb = R - r0 < s->blk ? R - r0 : s->blk;
        for (int64_t r = 0; r < nb; r++) tgt[r] = targets[rows[r0 + r]];
        if (tgt != (int32_t *)s->r[S_TGT]) K->copy_h2d(s->r[S_TGT], tgt, (size_t)nb * sizeof(int32_t));
        K->matmul_fwd(s->r[S_LOGITS], ln + r0 * C, par(m, 0), NULL, nb, C, V, LMS_W_OUT_IN);
        K->xent_fwd(s->r[S_LP], s->r[S_LOGITS], (const int32_t *)s->r[S_TGT], nb, V);
        if (lp != s->r[S_LP]) K->copy_d2h(lp, s->r[S_LP], (size_t)nb * sizeof(float));
        if ((rank || k) && logits != s->r[S_LOGITS]) K->copy_d2h(logits, s->r[S_LOGITS], (size_t)(nb * V) * sizeof(float));
        for (int64_t r = 0; r < nb; r++) logp[rows[r0 + r]] = -lp[r];
        if (rank || k) {
#pragma omp parallel for schedule(static)
            for (int64_t r = 0; r < nb; r++) {
                const float *row = logits + r * V;
                float ref = row[tgt[r]];
                int64_t at = rows[r0 + r];
                if (rank) {
                    int32_t above = 0;
                    for (int v = 0; v < V; v++) above += row[v] > ref;
                    rank[at] = above + 1;
                }
                if (k) {
                    /* log p(v) = logit_v - logsumexp = logit_v - (logit_target - log p(target)) */
                    double lse = (double)ref + (double)lp[r];
                    top_k(row, V, k, top_id + at * k);
                    for (int j = 0; j < k; j++) top_logp[at * k + j] = (float)((double)row[top_id[at * k + j]] - lse);
                }
            }
        }
    }
    lms_ops_threads_end(prev_threads);
    return R;
}

void lms_gpt_score_seq(lms_scorer *s, const int32_t *tok, size_t n, float *logp, int32_t *rank, int *windowed) {
    lms_gpt_score_seq_top(s, tok, n, logp, rank, 0, NULL, NULL, windowed);
}

void lms_gpt_score_seq_top(lms_scorer *s, const int32_t *tok, size_t n, float *logp, int32_t *rank, int k,
                           int32_t *top_id, float *top_logp, int *windowed) {
    if (windowed) *windowed = 0;
    if (n == 0) return;
    logp[0] = 0.0f;
    if (rank) rank[0] = 0;
    for (int j = 0; j < k; j++) top_id[j] = -1, top_logp[j] = 0.0f;
    int32_t *tid = (int32_t *)s->h[S_SEQ_TOPID];
    float *tlp = s->h[S_SEQ_TOPLP];
    const size_t W = (size_t)s->maxT, S = W / 2 > 0 ? W / 2 : 1;
    if (n - 1 > W && windowed) *windowed = 1;
    int32_t *tg = (int32_t *)s->h[S_SEQ_TG], *rk = rank ? (int32_t *)s->h[S_SEQ_RK] : NULL;
    float *lp = s->h[S_SEQ_LP];
    size_t done = 0; /* targets 1..done are scored */
    size_t st = 0;   /* window start: inputs tok[st .. st+w) predict tok[st+1 .. st+w] */
    while (done < n - 1) {
        size_t end = st + W < n - 1 ? st + W : n - 1; /* last target index scored in this window */
        size_t w = end - st;
        for (size_t p = 0; p < w; p++) tg[p] = st + p + 1 > done ? tok[st + p + 1] : -1;
        lms_gpt_score_top(s, tok + st, tg, 1, (int)w, lp, rk, k, tid, tlp);
        for (size_t p = 0; p < w; p++)
            if (st + p + 1 > done) {
                logp[st + p + 1] = lp[p];
                if (rank) rank[st + p + 1] = rk[p];
                if (k) {
                    memcpy(top_id + (st + p + 1) * k, tid + p * k, (size_t)k * sizeof *tid);
                    memcpy(top_logp + (st + p + 1) * k, tlp + p * k, (size_t)k * sizeof *tlp);
                }
            }
        done = end;
        st += S;
        if (st + W > n - 1) st = n - 1 > W ? n - 1 - W : 0;
    }
}
