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
 * Leaves out: the products themselves (gemm_bf16_avx512.c).
 */
#include <cpuid.h>
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
                          int64_t N, int64_t C, int64_t OC, lms_wlayout layout) {
    if (layout == LMS_W_IN_OUT) {
        if (dinp) /* dinp[N,C] += dout[N,OC] · W[C,OC]ᵀ */
            lms_gemm_bf16(0, 1, N, C, OC, dout, OC, w, OC, NULL, 1, dinp, C);
        if (dw) /* dW[C,OC] += inp[N,C]ᵀ · dout[N,OC] */
            lms_gemm_bf16(1, 0, C, OC, N, inp, C, dout, OC, NULL, 1, dw, OC);
    } else {
        if (dinp) /* dinp[N,C] += dout[N,OC] · W[OC,C] */
            lms_gemm_bf16(0, 0, N, C, OC, dout, OC, w, C, NULL, 1, dinp, C);
        if (dw) /* dW[OC,C] += dout[N,OC]ᵀ · inp[N,C] */
            lms_gemm_bf16(1, 0, OC, C, N, dout, OC, inp, C, NULL, 1, dw, C);
    }
    if (dbias) g_base->matmul_bwd(NULL, NULL, dbias, dout, inp, w, N, C, OC, layout);
}

#ifndef LMS_NO_SIMD /* the attention ops use the AVX-512 softmax chunks (no bf16 table without them) */
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
