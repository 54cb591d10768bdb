/* gemm_bf16.c — the "avx512-bf16" kernel table (lms_ops_bf16, kernels.h): the AVX-512 table with
 * its matrix-product ops (matmul_fwd / _bwd, attention_fwd / _bwd) replaced by the bfloat16
 * products of gemm_bf16_avx512.c, and the check that this CPU and build can run it.
 *
 * Mixed precision as PyTorch's autocast does it: the inputs of every matrix product (the weight
 * products forward, input gradient and weight gradient; attention's scores, probabilities times
 * values and their gradients, as autocast runs bmm) are rounded to bf16 and summed in fp32; what
 * the products write (activations, gradients) stays fp32, and every other op — LayerNorm, softmax,
 * GELU, cross-entropy, AdamW, the reductions — is the AVX-512 table's fp32 op, on fp32 master
 * weights and optimizer moments. The bias gradient is the fp32 column sum of the AVX-512 table.
 *
 * Packed weights (kernels.h: wpack_bytes, adamw_wpack, matmul_*_wp): the weight products' B is a
 * weight matrix, rounded and packed in every product from fp32 in memory; the model keeps each
 * matrix packed in both product layouts instead, written by the AdamW step as it updates the matrix
 * (gemm_bf16.h: lms_bf16_adamw_wpack), and the products read the packs. The same bits either way.
 *
 * Leaves out: the products themselves (gemm_bf16_avx512.c).
 */
#include <cpuid.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/cpu.h"
#include "kernels/fast_chunks.h"
#include "kernels/gemm_bf16.h"
#include "kernels/kernels.h"

int lms_gemm_bf16_cpu_ok(void) {
    const char *e = getenv("LMS_NO_BF16");
    if (e && e[0] && e[0] != '0') return 0;
    if (!lms_cpu()->avx512) return 0;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1u; /* CPUID.(EAX=7,ECX=1):EAX bit 5 = AVX512_BF16 */
}

static const lms_ops *g_base; /* the AVX-512 table the others ops come from */

static void bf_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int64_t N, int64_t C,
                          int64_t OC, lms_wlayout layout) {
    if (layout == LMS_W_IN_OUT) /* out[N,OC] = inp[N,C] · W[C,OC] */
        lms_gemm_bf16(0, 0, N, OC, C, inp, C, w, OC, bias, 0, out, OC);
    else /* out[N,OC] = inp[N,C] · W[OC,C]ᵀ */
        lms_gemm_bf16(0, 1, N, OC, C, inp, C, w, C, bias, 0, out, OC);
}

static void bf_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
                          int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc) {
    if (layout == LMS_W_IN_OUT) {
        if (dinp) /* dinp[N,C] += dout[N,OC] · W[C,OC]ᵀ */
            lms_gemm_bf16(0, 1, N, C, OC, dout, OC, w, OC, NULL, 1, dinp, C);
        if (dw) /* dW[C,OC] (+)= inp[N,C]ᵀ · dout[N,OC] */
            lms_gemm_bf16(1, 0, C, OC, N, inp, C, dout, OC, NULL, dw_acc, dw, OC);
    } else {
        if (dinp) /* dinp[N,C] += dout[N,OC] · W[OC,C] */
            lms_gemm_bf16(0, 0, N, C, OC, dout, OC, w, C, NULL, 1, dinp, C);
        if (dw) /* dW[OC,C] (+)= dout[N,OC]ᵀ · inp[N,C] */
            lms_gemm_bf16(1, 0, OC, C, N, dout, OC, inp, C, NULL, dw_acc, dw, C);
    }
    if (dbias) g_base->matmul_bwd(NULL, NULL, dbias, dout, inp, w, N, C, OC, layout, 1);
}

#ifndef LMS_NO_SIMD /* the attention ops and the packs' update use the AVX-512 chunks (no bf16 table without them) */

/* ---- packed weights: W[R,Cc] as the layout has it — IN_OUT W[C,OC] (R = C), OUT_IN W[OC,C] (R = OC) */
static size_t bf_wpack_bytes(int64_t R, int64_t Cc) { return (size_t)lms_bf16_wpack_words(R, Cc) * 4; }

static void bf_adamw_wpack(void *wp, float *p, const float *g, float *m, float *v, int64_t R, int64_t Cc, float lr,
                           float b1, float b2, float eps, float wd, int64_t t) {
    /* the bias corrections as the AVX-512 table's adamw computes them (kernels/fast.c) */
    lms_bf16_adamw_args a = {lms_fast_chunks_avx512()->adamw, lr, b1, b2, eps, wd,
                             (float)(1.0 - pow((double)b1, (double)t)), (float)(1.0 - pow((double)b2, (double)t))};
    lms_bf16_adamw_wpack(wp, p, g, m, v, R, Cc, &a);
}

/* the forward's B: W itself for IN_OUT (B = W, K = C), Wᵀ for OUT_IN */
static void bf_matmul_fwd_wp(float *out, const float *inp, const void *wp, const float *bias, int64_t N, int64_t C,
                             int64_t OC, lms_wlayout layout) {
    int io = layout == LMS_W_IN_OUT;
    const uint32_t *b = lms_bf16_wpack_b(wp, io ? C : OC, io ? OC : C, !io);
    lms_gemm_bf16_packed(0, N, OC, C, inp, C, b, bias, 0, out, OC);
}

/* dinp's B: Wᵀ for IN_OUT (K = OC), W for OUT_IN */
static void bf_matmul_bwd_wp(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const void *wp,
                             int64_t N, int64_t C, int64_t OC, lms_wlayout layout, int dw_acc) {
    int io = layout == LMS_W_IN_OUT;
    if (dinp)
        lms_gemm_bf16_packed(0, N, C, OC, dout, OC, lms_bf16_wpack_b(wp, io ? C : OC, io ? OC : C, io), NULL, 1, dinp, C);
    if (dw || dbias) bf_matmul_bwd(NULL, dw, dbias, dout, inp, NULL, N, C, OC, layout, dw_acc);
}

/* attention's products in bf16; the fp32 op where the packing space cannot be allocated */
static void bf_attention_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH) {
    if (!lms_attention_bf16_fwd(out, att, qkv, B, T, C, NH, lms_fast_chunks_avx512()->softmax_row))
        g_base->attention_fwd(out, att, qkv, B, T, C, NH);
}
static void bf_attention_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                             int64_t B, int64_t T, int64_t C, int64_t NH) {
    if (!lms_attention_bf16_bwd(dqkv, datt, dout, qkv, att, B, T, C, NH, lms_fast_chunks_avx512()->softmax_bwd_row))
        g_base->attention_bwd(dqkv, datt, dout, qkv, att, B, T, C, NH);
}
#endif

static lms_ops g_ops;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void bf16_init(void) {
    g_base = lms_ops_avx512();
    if (!g_base || !lms_gemm_bf16_built()) return;
    g_ops = *g_base;
    g_ops.name = "avx512-bf16";
    g_ops.matmul_fwd = bf_matmul_fwd;
    g_ops.matmul_bwd = bf_matmul_bwd;
#ifndef LMS_NO_SIMD
    g_ops.attention_fwd = bf_attention_fwd;
    g_ops.attention_bwd = bf_attention_bwd;
#endif
    /* no fused output layer: the model then computes the logits with matmul_fwd / _bwd above, so
       the output layer (most of the FLOPs at a 50k vocabulary) is a bf16 product too */
    g_ops.lmhead_xent_fwd = NULL;
    g_ops.lmhead_xent_bwd = NULL;
    g_ops.caps &= ~(unsigned)LMS_BACKEND_FUSED_LMHEAD;
#ifndef LMS_NO_SIMD
    g_ops.wpack_bytes = bf_wpack_bytes;
    g_ops.adamw_wpack = bf_adamw_wpack;
    g_ops.matmul_fwd_wp = bf_matmul_fwd_wp;
    g_ops.matmul_bwd_wp = bf_matmul_bwd_wp;
    g_ops.caps |= LMS_BACKEND_PACKED_WEIGHTS;
#endif
}

const lms_ops *lms_ops_bf16(void) {
    if (!lms_gemm_bf16_built() || !lms_gemm_bf16_cpu_ok() || !lms_ops_avx512()) return NULL;
    pthread_once(&g_once, bf16_init);
    return g_ops.name ? &g_ops : NULL;
}

const char *lms_ops_bf16_unavailable(void) {
    if (!lms_gemm_bf16_built())
        return "this build has no AVX512-BF16 kernels (built with ISA=generic or a compiler without -mavx512bf16); "
               "rebuild with the default ISA and GCC >= 10, or use --precision fp32";
    const char *e = getenv("LMS_NO_BF16");
    if (e && e[0] && e[0] != '0') return "bf16 kernels are disabled by LMS_NO_BF16 in the environment; unset it or use --precision fp32";
    if (!lms_ops_avx512() || !lms_gemm_bf16_cpu_ok())
        return "this CPU has no AVX512-BF16 (avx512_bf16 in /proc/cpuinfo: Intel Cooper Lake / Sapphire Rapids or "
               "AMD Zen 4 and later); use --precision fp32";
    return NULL;
}
