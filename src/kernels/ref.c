/* ref.c — the portable reference kernels: plain single-threaded loops, written to be read and
 * trusted, not to be fast. They are the oracle every optimized kernel is tested against and the
 * table used when LMS_FORCE_REFERENCE=1 (training, scoring and decoding alike). Memory is the
 * host's (host.h).
 *
 * Numerics: every dot product and every reduction (means, variances, softmax sums, column sums)
 * accumulates in double and rounds once to float, so the reference is as close to exact as an
 * fp32 result can be; optimized kernels differ from it only by their own rounding.
 * Contract details (shapes, accumulation, ignored targets) are in kernels.h.
 *
 * Leaves out: threads, SIMD, BLAS (see fast*.c), and argument validation beyond LMS_ASSERT on
 * out-of-range token ids and targets (those are caller bugs).
 */
#include <math.h>
#include <stddef.h>

#include "core/status.h"
#include "kernels/host.h"
#include "kernels/kernels.h"

#define LN_EPS 1e-5

static void ref_encoder_fwd(float *out, const int32_t *tok, const float *wte, const float *wpe,
                            int64_t B, int64_t T, int64_t C) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            int32_t id = tok[b * T + t];
            LMS_ASSERT(id >= 0);
            const float *e = wte + (int64_t)id * C, *p = wpe + t * C;
            float *o = out + (b * T + t) * C;
            for (int64_t c = 0; c < C; c++) o[c] = e[c] + p[c];
        }
}

static void ref_encoder_bwd(float *dwte, float *dwpe, const float *dout, const int32_t *tok,
                            int64_t B, int64_t T, int64_t C) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            int32_t id = tok[b * T + t];
            LMS_ASSERT(id >= 0);
            const float *d = dout + (b * T + t) * C;
            float *de = dwte + (int64_t)id * C, *dp = dwpe + t * C;
            for (int64_t c = 0; c < C; c++) {
                de[c] += d[c];
                dp[c] += d[c];
            }
        }
}

static void ref_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w,
                              const float *b, int64_t N, int64_t C) {
    for (int64_t n = 0; n < N; n++) {
        const float *xr = x + n * C;
        double m = 0.0;
        for (int64_t c = 0; c < C; c++) m += xr[c];
        m /= (double)C;
        double v = 0.0;
        for (int64_t c = 0; c < C; c++) v += ((double)xr[c] - m) * ((double)xr[c] - m);
        v /= (double)C;
        double s = 1.0 / sqrt(v + LN_EPS);
        float *o = out + n * C;
        for (int64_t c = 0; c < C; c++) o[c] = (float)(((double)xr[c] - m) * s * w[c] + b[c]);
        mean[n] = (float)m;
        rstd[n] = (float)s;
    }
}

/* With xhat = (x - mean) * rstd and g = dout * w:
   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  dw = sum_n dout * xhat,  db = sum_n dout. */
static void ref_layernorm_bwd(float *dx, float *dw, float *db, const float *dout, const float *x,
                              const float *w, const float *mean, const float *rstd, int64_t N,
                              int64_t C) {
    for (int64_t c = 0; c < C; c++) {
        double sw = 0.0, sb = 0.0;
        for (int64_t n = 0; n < N; n++) {
            double xh = ((double)x[n * C + c] - mean[n]) * rstd[n];
            sw += (double)dout[n * C + c] * xh;
            sb += dout[n * C + c];
        }
        dw[c] += (float)sw;
        db[c] += (float)sb;
    }
    for (int64_t n = 0; n < N; n++) {
        const float *xr = x + n * C, *d = dout + n * C;
        double mg = 0.0, mgx = 0.0;
        for (int64_t c = 0; c < C; c++) {
            double xh = ((double)xr[c] - mean[n]) * rstd[n];
            double g = (double)d[c] * w[c];
            mg += g;
            mgx += g * xh;
        }
        mg /= (double)C;
        mgx /= (double)C;
        float *dxr = dx + n * C;
        for (int64_t c = 0; c < C; c++) {
            double xh = ((double)xr[c] - mean[n]) * rstd[n];
            double g = (double)d[c] * w[c];
            dxr[c] += (float)(rstd[n] * (g - mg - xh * mgx));
        }
    }
}

/* Element (c, o) of the logical [C, OC] matrix, whatever the storage layout. */
static inline float wat(const float *w, int64_t c, int64_t o, int64_t C, int64_t OC, lms_wlayout l) {
    return l == LMS_W_IN_OUT ? w[c * OC + o] : w[o * C + c];
}

static void ref_matmul_fwd(float *out, const float *inp, const float *w, const float *bias,
                           int64_t N, int64_t C, int64_t OC, lms_wlayout layout) {
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        for (int64_t o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int64_t c = 0; c < C; c++) s += (double)x[c] * wat(w, c, o, C, OC, layout);
            out[n * OC + o] = (float)s;
        }
    }
}

static void ref_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout,
                           const float *inp, const float *w, int64_t N, int64_t C, int64_t OC,
                           lms_wlayout layout, int dw_acc) {
    if (dinp)
        for (int64_t n = 0; n < N; n++)
            for (int64_t c = 0; c < C; c++) {
                double s = 0.0;
                for (int64_t o = 0; o < OC; o++)
                    s += (double)dout[n * OC + o] * wat(w, c, o, C, OC, layout);
                dinp[n * C + c] += (float)s;
            }
    if (dw)
        for (int64_t c = 0; c < C; c++)
            for (int64_t o = 0; o < OC; o++) {
                double s = 0.0;
                for (int64_t n = 0; n < N; n++) s += (double)inp[n * C + c] * dout[n * OC + o];
                float *d = layout == LMS_W_IN_OUT ? &dw[c * OC + o] : &dw[o * C + c];
                *d = dw_acc ? *d + (float)s : (float)s;
            }
    if (dbias)
        for (int64_t o = 0; o < OC; o++) {
            double s = 0.0;
            for (int64_t n = 0; n < N; n++) s += dout[n * OC + o];
            dbias[o] += (float)s;
        }
}

static void ref_attention_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T,
                              int64_t C, int64_t NH) {
    int64_t hs = C / NH;
    double scale = 1.0 / sqrt((double)hs);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t t = 0; t < T; t++) {
                const float *q = qkv + (b * T + t) * 3 * C + h * hs;
                float *a = att + ((b * NH + h) * T + t) * T;
                double mx = -INFINITY;
                for (int64_t u = 0; u <= t; u++) {
                    const float *k = qkv + (b * T + u) * 3 * C + C + h * hs;
                    double s = 0.0;
                    for (int64_t i = 0; i < hs; i++) s += (double)q[i] * k[i];
                    if (s * scale > mx) mx = s * scale;
                }
                /* scores are recomputed (cheap here) rather than stored rounded to float */
                double sum = 0.0;
                for (int64_t u = 0; u <= t; u++) {
                    const float *k = qkv + (b * T + u) * 3 * C + C + h * hs;
                    double s = 0.0;
                    for (int64_t i = 0; i < hs; i++) s += (double)q[i] * k[i];
                    double e = exp(s * scale - mx);
                    sum += e;
                    a[u] = (float)e;
                }
                for (int64_t u = 0; u <= t; u++) a[u] = (float)(a[u] / sum);
                for (int64_t u = t + 1; u < T; u++) a[u] = 0.0f;
                float *o = out + (b * T + t) * C + h * hs;
                for (int64_t i = 0; i < hs; i++) {
                    double s = 0.0;
                    for (int64_t u = 0; u <= t; u++)
                        s += (double)a[u] * qkv[(b * T + u) * 3 * C + 2 * C + h * hs + i];
                    o[i] = (float)s;
                }
            }
}

/* Per row t of one head: dA[u] = dout_t · v_u;  dv_u += A[u] dout_t;
   dS[u] = A[u] (dA[u] - sum_j A[j] dA[j]);  dq_t += scale sum_u dS[u] k_u;  dk_u += scale dS[u] q_t. */
static void ref_attention_bwd(float *dqkv, float *datt, const float *dout, const float *qkv,
                              const float *att, int64_t B, int64_t T, int64_t C, int64_t NH) {
    int64_t hs = C / NH;
    double scale = 1.0 / sqrt((double)hs);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t t = 0; t < T; t++) {
                const float *a = att + ((b * NH + h) * T + t) * T;
                float *da = datt + ((b * NH + h) * T + t) * T;
                const float *d = dout + (b * T + t) * C + h * hs;
                const float *q = qkv + (b * T + t) * 3 * C + h * hs;
                float *dq = dqkv + (b * T + t) * 3 * C + h * hs;
                double dot = 0.0;
                for (int64_t u = 0; u <= t; u++) {
                    const float *v = qkv + (b * T + u) * 3 * C + 2 * C + h * hs;
                    float *dv = dqkv + (b * T + u) * 3 * C + 2 * C + h * hs;
                    double s = 0.0;
                    for (int64_t i = 0; i < hs; i++) {
                        s += (double)d[i] * v[i];
                        dv[i] += a[u] * d[i];
                    }
                    da[u] = (float)s;
                    dot += (double)a[u] * s;
                }
                for (int64_t u = 0; u <= t; u++) {
                    double ds = (double)a[u] * ((double)da[u] - dot) * scale;
                    const float *k = qkv + (b * T + u) * 3 * C + C + h * hs;
                    float *dk = dqkv + (b * T + u) * 3 * C + C + h * hs;
                    for (int64_t i = 0; i < hs; i++) {
                        dq[i] += (float)(ds * k[i]);
                        dk[i] += (float)(ds * q[i]);
                    }
                }
            }
}

#define GELU_S 0.7978845608028654 /* sqrt(2/pi) */
#define GELU_A 0.044715

static void ref_gelu_fwd(float *out, const float *x, int64_t N) {
    for (int64_t i = 0; i < N; i++) {
        double v = x[i];
        out[i] = (float)(0.5 * v * (1.0 + tanh(GELU_S * (v + GELU_A * v * v * v))));
    }
}

static void ref_gelu_bwd(float *dx, const float *x, const float *dout, int64_t N) {
    for (int64_t i = 0; i < N; i++) {
        double v = x[i];
        double th = tanh(GELU_S * (v + GELU_A * v * v * v));
        double g = 0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * GELU_S * (1.0 + 3.0 * GELU_A * v * v);
        dx[i] += (float)(g * dout[i]);
    }
}

static void ref_residual_fwd(float *out, const float *a, const float *b, int64_t N) {
    for (int64_t i = 0; i < N; i++) out[i] = a[i] + b[i];
}

/* log-sum-exp of one row, in double */
static double row_lse(const float *l, int64_t V) {
    double mx = -INFINITY;
    for (int64_t j = 0; j < V; j++)
        if (l[j] > mx) mx = l[j];
    double s = 0.0;
    for (int64_t j = 0; j < V; j++) s += exp((double)l[j] - mx);
    return mx + log(s);
}

static void ref_xent_fwd_bwd(float *losses, float *logits, const int32_t *targets, int64_t N,
                             int64_t V, float dloss) {
    for (int64_t n = 0; n < N; n++) {
        float *l = logits + n * V;
        int32_t y = targets[n];
        if (y < 0) {
            losses[n] = 0.0f;
            for (int64_t j = 0; j < V; j++) l[j] = 0.0f;
            continue;
        }
        LMS_ASSERT(y < V);
        double lse = row_lse(l, V);
        losses[n] = (float)(lse - l[y]);
        for (int64_t j = 0; j < V; j++) {
            double p = exp((double)l[j] - lse);
            l[j] = (float)((p - (j == y ? 1.0 : 0.0)) * dloss);
        }
    }
}

static void ref_xent_fwd(float *losses, const float *logits, const int32_t *targets, int64_t N,
                         int64_t V) {
    for (int64_t n = 0; n < N; n++) {
        const float *l = logits + n * V;
        int32_t y = targets[n];
        if (y < 0) {
            losses[n] = 0.0f;
            continue;
        }
        LMS_ASSERT(y < V);
        losses[n] = (float)(row_lse(l, V) - l[y]);
    }
}

/* matmul_fwd (LMS_W_OUT_IN) + xent_fwd, plus each row's log-sum-exp */
static void ref_lmhead_xent_fwd(float *logits, float *losses, float *lse, float *scratch, const float *x,
                                const float *wte, const int32_t *targets, int64_t N, int64_t C, int64_t V) {
    (void)scratch;
    ref_matmul_fwd(logits, x, wte, NULL, N, C, V, LMS_W_OUT_IN);
    for (int64_t n = 0; n < N; n++) {
        const float *l = logits + n * V;
        int32_t y = targets[n];
        if (y < 0) {
            losses[n] = lse[n] = 0.0f;
            continue;
        }
        LMS_ASSERT(y < V);
        double s = row_lse(l, V);
        losses[n] = (float)(s - l[y]);
        lse[n] = (float)s;
    }
}

/* dlogits from the given lse (as the fast tables do), then matmul_bwd (LMS_W_OUT_IN) */
static void ref_lmhead_xent_bwd(float *dx, float *dwte, float *logits, const float *lse, const float *x,
                                const float *wte, const int32_t *targets, int64_t N, int64_t C, int64_t V,
                                float dloss) {
    for (int64_t n = 0; n < N; n++) {
        float *l = logits + n * V;
        int32_t y = targets[n];
        for (int64_t j = 0; j < V; j++)
            l[j] = y < 0 ? 0.0f : (float)((exp((double)l[j] - lse[n]) - (j == y ? 1.0 : 0.0)) * dloss);
    }
    ref_matmul_bwd(dx, dwte, NULL, logits, x, wte, N, C, V, LMS_W_OUT_IN, 1);
}

static void ref_adamw(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                      float b2, float eps, float wd, int64_t t) {
    LMS_ASSERT(t >= 1);
    double bc1 = 1.0 - pow((double)b1, (double)t), bc2 = 1.0 - pow((double)b2, (double)t);
    for (int64_t i = 0; i < n; i++) {
        float mi = b1 * m[i] + (1.0f - b1) * g[i];
        float vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        double mh = mi / bc1, vh = vi / bc2;
        p[i] = (float)(p[i] - (double)lr * (mh / (sqrt(vh) + eps) + (double)wd * p[i]));
    }
}

static float ref_global_norm(const float *g, int64_t n) {
    if (n <= 0) return 0.0f;
    int64_t chunk = lms_norm_chunk(n);
    double s = 0.0;
    for (int64_t lo = 0; lo < n; lo += chunk) s += lms_norm_chunk_sum(g, lo, lo + chunk < n ? lo + chunk : n);
    return (float)sqrt(s);
}

static void ref_scale(float *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

/* ---- decoding (one token) */

static void ref_dec_gemv_in_out(float *out, const float *x, const float *W, const float *bias, int64_t C,
                                int64_t OC, int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j++) {
        double s = bias ? bias[j] : 0.0;
        for (int64_t i = 0; i < C; i++) s += (double)x[i] * W[i * OC + j];
        out[j] = (float)s;
    }
}

static void ref_dec_gemv_out_in(float *out, const float *x, const float *W, int64_t C, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
        double s = 0.0;
        for (int64_t i = 0; i < C; i++) s += (double)W[r * C + i] * x[i];
        out[r] = (float)s;
    }
}

static void ref_dec_gemv_in_out_bf16(float *out, const float *x, const uint16_t *W, const float *bias, int64_t C,
                                     int64_t OC, int64_t j0, int64_t j1) {
    int64_t np = lms_bf16_row(OC);
    for (int64_t j = j0; j < j1; j++) {
        double s = bias ? bias[j] : 0.0;
        for (int64_t i = 0; i < C; i++) s += (double)x[i] * lms_bf16_packed_at(W + i * np, j);
        out[j] = (float)s;
    }
}

static void ref_dec_gemv_out_in_bf16(float *out, const float *x, const uint16_t *W, int64_t C, int64_t r0,
                                     int64_t r1) {
    int64_t np = lms_bf16_row(C);
    for (int64_t r = r0; r < r1; r++) {
        double s = 0.0;
        for (int64_t i = 0; i < C; i++) s += (double)lms_bf16_packed_at(W + r * np, i) * x[i];
        out[r] = (float)s;
    }
}

static double ref_dot(const float *a, const float *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static void ref_dec_attention(float *y, float *att, const float *q, const float *kc, const float *vc, int64_t n,
                              int64_t hs, int64_t ld) {
    double scale = 1.0 / sqrt((double)hs), mx = -INFINITY, sum = 0.0;
    for (int64_t u = 0; u < n; u++) {
        double s = ref_dot(q, kc + u * ld, hs) * scale;
        if (s > mx) mx = s;
    }
    for (int64_t u = 0; u < n; u++) { /* scores recomputed in double rather than stored as float */
        double e = exp(ref_dot(q, kc + u * ld, hs) * scale - mx);
        sum += e;
        att[u] = (float)e;
    }
    for (int64_t u = 0; u < n; u++) att[u] = (float)(att[u] / sum);
    for (int64_t i = 0; i < hs; i++) {
        double s = 0.0;
        for (int64_t u = 0; u < n; u++) s += (double)att[u] * vc[u * ld + i];
        y[i] = (float)s;
    }
}

static const lms_ops ref_ops = {
    .name = "reference",
    LMS_HOST_MEMORY_OPS,
    .caps = LMS_HOST_CAPS | LMS_BACKEND_FUSED_LMHEAD | LMS_BACKEND_BF16_DECODE,
    .encoder_fwd = ref_encoder_fwd,
    .encoder_bwd = ref_encoder_bwd,
    .layernorm_fwd = ref_layernorm_fwd,
    .layernorm_bwd = ref_layernorm_bwd,
    .matmul_fwd = ref_matmul_fwd,
    .matmul_bwd = ref_matmul_bwd,
    .attention_fwd = ref_attention_fwd,
    .attention_bwd = ref_attention_bwd,
    .gelu_fwd = ref_gelu_fwd,
    .gelu_bwd = ref_gelu_bwd,
    .residual_fwd = ref_residual_fwd,
    .xent_fwd_bwd = ref_xent_fwd_bwd,
    .xent_fwd = ref_xent_fwd,
    .adamw = ref_adamw,
    .global_norm = ref_global_norm,
    .scale = ref_scale,
    .dec_layernorm = ref_layernorm_fwd,
    .dec_gemv_in_out = ref_dec_gemv_in_out,
    .dec_gemv_out_in = ref_dec_gemv_out_in,
    .dec_attention = ref_dec_attention,
    .dec_gelu = ref_gelu_fwd,
    .dec_add = ref_residual_fwd,
    .dec_gemv_in_out_bf16 = ref_dec_gemv_in_out_bf16,
    .dec_gemv_out_in_bf16 = ref_dec_gemv_out_in_bf16,
    .lmhead_xent_fwd = ref_lmhead_xent_fwd,
    .lmhead_xent_bwd = ref_lmhead_xent_bwd,
};

const lms_ops *lms_ops_reference(void) { return &ref_ops; }
