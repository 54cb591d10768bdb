/* gemm_bf16.h — private to kernels/: the bfloat16 matrix product behind the "avx512-bf16" table
 * (kernels/gemm_bf16.c) and its direct test (tests/test_bf16.c).
 *
 * C[M,N] = (acc ? C : bias or 0) + op(A)[M,K] · op(B)[K,N], every element of op(A) and op(B)
 * rounded to bfloat16 (round to nearest even) and the products summed in fp32 with AVX512-BF16's
 * vdpbf16ps (the product of two bf16 values is exact in fp32, so the only errors after the input
 * rounding are fp32 additions). Row-major: op(A)(i,k) = ta ? A[k·lda + i] : A[i·lda + k],
 * op(B)(k,j) = tb ? B[j·ldb + k] : B[k·ldb + j]; bias[N] is added to every row when acc = 0
 * (ignored when acc = 1; NULL for none).
 *
 * How (BLIS-style): op(B) is packed a block at a time (up to 1024 columns x a number of pairs
 * that keeps the block near 2 MiB) into panels of 32 columns, which the threads share; op(A) is
 * packed whole into panels of 12 rows when that is at most 4 MiB, else by each thread for its own
 * 96 rows x 128 pairs just before use, so that packed data is used while it is still in cache.
 * A pair is one 32-bit word holding two bf16 of the same row or column along K (vcvtne2ps2bf16,
 * plus a 16 x 16 word transpose or a word interleave depending on the layout). A 12x32
 * register-blocked microkernel (24 zmm accumulators, vdpbf16ps) runs over 128 pairs at a time.
 * Each output element is summed pair by pair in K order, its fp32 partial stored and reloaded
 * between blocks (exact), so the result does not depend on the tiling or the thread count at all:
 * the same bits for 1 or 2 threads. A large output written in one pass (2^23 floats or more, no
 * +=, K <= 256, 64-byte aligned rows) goes out with non-temporal stores. OpenMP splits the packing
 * and the output tiles when the product is large and the caller is not already in a parallel
 * region; otherwise no team is started. Input denormals count as zero (vdpbf16ps's rule, and
 * vcvtne2ps2bf16 flushes them).
 *
 * Leaves out: the op table (gemm_bf16.c), the fp32 products (fast.c).
 */
#ifndef LMS_KERNELS_GEMM_BF16_H
#define LMS_KERNELS_GEMM_BF16_H

#include <stdint.h>

/* 1 when this build compiled the AVX512-BF16 kernel (a compiler with -mavx512bf16, not
   ISA=generic); whether the CPU can run it is lms_gemm_bf16_cpu_ok's question. */
int lms_gemm_bf16_built(void);
/* 1 when the CPU (and OS) run AVX-512 F/BW/DQ/VL and AVX512-BF16 and LMS_NO_BF16 is not set to a
   non-zero value in the environment (which lets a test see the refusal on a CPU that has it). */
int lms_gemm_bf16_cpu_ok(void);

/* The product described above. Sizes >= 0 (M or N = 0 does nothing; K = 0 writes bias or 0
   unless acc). Allocates its packing buffer (at most about 6 MiB, kept per thread for the next
   product) and uses 48 KiB of stack per thread; if the allocation fails it falls
   back to an unpacked loop with the same rounding (slow, not bit-identical). Must only be called
   when lms_gemm_bf16_built() && lms_gemm_bf16_cpu_ok(). */
void lms_gemm_bf16(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                   const float *B, int64_t ldb, const float *bias, int acc, float *C, int64_t ldc);

/* op(B) packed once for several products (a weight matrix between two optimizer steps): the
   words lms_gemm_bf16_pack_b writes for op(B)[K,N] (panels of 32 columns, each with all
   ceil(K/2) pairs in order; the same bf16 values lms_gemm_bf16 would round B to), and the product
   that reads them instead of packing op(B) itself (tb = 0, B = NULL): the same bits as
   lms_gemm_bf16 with that B. */
int64_t lms_gemm_bf16_packed_b_words(int64_t N, int64_t K);
void lms_gemm_bf16_pack_b(uint32_t *dst, int tb, const float *B, int64_t ldb, int64_t N, int64_t K);
void lms_gemm_bf16_packed(int ta, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const uint32_t *Bw,
                          const float *bias, int acc, float *C, int64_t ldc);

/* A weight matrix W[R,Cc] kept packed between optimizer steps (the bf16 table's wpack ops): its
   two forms as a product's B, B = W (K = R, N = Cc) and B = Wᵀ (K = Cc, N = R), in one block of
   lms_bf16_wpack_words(R, Cc) words; lms_bf16_wpack_b gives the start of either (tb 0 or 1), in
   lms_gemm_bf16_pack_b's layout. lms_bf16_adamw_wpack runs a->chunk (the AdamW inner loop, with
   its arguments; a NULL: no update) over W = p[R·Cc] a block of rows and columns at a time and
   packs each updated block into both forms while it is in cache: p, m, v as a->chunk over the
   whole span gives (it is elementwise), and wp as lms_gemm_bf16_pack_b of the result. OpenMP over
   the blocks when not already in a parallel region. */
typedef struct {
    void (*chunk)(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2, float eps,
                  float wd, float bc1, float bc2);
    float lr, b1, b2, eps, wd, bc1, bc2;
} lms_bf16_adamw_args;
int64_t lms_bf16_wpack_words(int64_t R, int64_t Cc);
const uint32_t *lms_bf16_wpack_b(const uint32_t *wp, int64_t R, int64_t Cc, int tb);
void lms_bf16_adamw_wpack(uint32_t *wp, float *p, const float *g, float *m, float *v, int64_t R, int64_t Cc,
                          const lms_bf16_adamw_args *a);

/* Causal multi-head attention with bf16 inputs to its products (the attention_fwd / _bwd
   contracts of kernels.h): the scores (q scaled by 1/sqrt(head size) before rounding, times kᵀ),
   the probabilities times v, and the four gradient products round their inputs to bf16 and sum
   in fp32 in K order; softmax and its backward (the given AVX-512 chunks) stay fp32. Threads
   (OpenMP) take whole (sequence, head) pairs, so results do not depend on their number. The
   threads pack into the calling thread's packing buffer; 1 when done, 0 (nothing written) when
   that buffer cannot be allocated. Only when lms_gemm_bf16_built() && lms_gemm_bf16_cpu_ok(). */
int lms_attention_bf16_fwd(float *out, float *att, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH,
                           void (*softmax_row)(float *p, int64_t len, int64_t T));
int lms_attention_bf16_bwd(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att,
                           int64_t B, int64_t T, int64_t C, int64_t NH,
                           void (*softmax_bwd_row)(float *d, const float *p, int64_t len, int64_t zero_to));

#endif
