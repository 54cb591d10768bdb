/* test_backend_ops.c — every backend this build has, walked through the same op checks (ggml's
 * test-backend-ops habit): each table of lms_ops_all (reference, "generic+openblas" always, so the
 * loops a CPU without AVX-512 runs are tested here too, "avx512+openblas" and "avx512-bf16" where
 * the CPU has them), a simulated device backend (the generic table declaring device memory and no
 * split decoding, its buffers reached only through its copies) and the CUDA table when the build
 * has it and a device is there (test_cuda_backend SKIPs, saying why, otherwise). For each: its
 * declared capabilities against its pointers (lms_ops_check), a memory round trip through its
 * copies, and every op against the reference oracle (lms_ops_reference) on random shapes, odd
 * sizes included, with inputs copied into the backend's memory and results copied out (ON /
 * back below), plus determinism (two runs bit-equal; the non-BLAS reductions also bit-equal across
 * 1 and 2 threads), the decoding ops (split ranges only where the backend declares
 * LMS_BACKEND_SPLIT_DECODE; the optional ops only where their capability is declared) and the
 * global norm (bit-equal across tables and thread counts).
 *
 * Tolerances. The reference accumulates in double and rounds once, so it is within half an ulp
 * of the exact result; the fast ops accumulate in fp32 (in a different order: SIMD lanes, BLAS
 * blocking). For a sum of K terms fp32 accumulation errs by at most ~K·u·Σ|terms| (u = 6e-8),
 * typically ~sqrt(K)·u·Σ|terms|. Our shapes have K ≤ ~400, and with random inputs Σ|terms| is
 * within a small factor of the largest output, so we allow
 *     |fast - ref| ≤ RTOL · max|ref|  (RTOL = 1e-5 for sums, ~K·u at K=170)
 * for reductions and 2e-6 · (|ref| + max|ref|·1e-1) for elementwise ops (a few ulp: exp/tanh are
 * polynomial approximations good to ~1e-7 relative). These are far tighter than any real bug
 * (wrong index, missing accumulate, wrong scale) produces: those give errors of order max|ref|.
 *
 * The bf16 table ("avx512-bf16", where the CPU has AVX512-BF16) is held to bounds derived from
 * bfloat16 rounding in its matrix products (close_bf16 below) and to the fp32 ones everywhere else
 * (its other ops are the AVX-512 table's). tests/cuda/test_cuda_kernels.c keeps the CUDA table's
 * own bit-equality claims (run by tools/gpu_check.sh).
 *
 * Leaves out: finite-difference gradient checks (those test the reference; see test_gpt).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/mem.h"
#include "core/rng.h"
#include "close.h"
#include "harness.h"
#include "kernels/backend.h"
#include "kernels/kernels.h"

static lms_rng g_rng;
static const lms_ops *F, *R; /* the backend under test, the reference */

/* ---- host arrays that remember their size, and their mirrors in the backend's memory ----------
   Every host array of this test comes from tmalloc (rnd, dup, tcalloc too), which records where it
   starts and how long it is, so that ON(p) can mirror p's whole array in a buffer of the backend
   under test (copy_h2d) and return p's place in it; back() copies every mirror out into its host
   array (copy_d2h) and frees it. An op under test runs on ON(...) pointers and is followed by
   back(), so a device backend is checked exactly like a host one, and for a host backend it costs
   two memcpys. Two pointers into one array (layernorm_bwd's dw and db as g and g + C) share its one
   mirror, whatever order the arguments are evaluated in: two mirrors of one array would be copied
   back one over the other, the later carrying the other's part unchanged. The record is a ring of
   the newest 4096 arrays, searched newest first: an array allocated after p's cannot overlap p
   while p is alive. */
#define NREC 4096
static struct { const char *p; size_t bytes; } REC[NREC];
static unsigned NRECS;
static void *tmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    LMS_ASSERT(p);
    REC[NRECS++ % NREC] = (typeof(REC[0])){p, bytes};
    return p;
}
static void *tcalloc(size_t n, size_t size) {
    void *p = tmalloc(n * size);
    memset(p, 0, n * size);
    return p;
}

#define NMIR 16
static struct { char *d; const char *h; size_t bytes; } MIR[NMIR];
static int NMIRS;
static void *on(const void *h) {
    if (!h) return NULL;
    const char *c = h;
    for (unsigned k = 0; k < NREC && k < NRECS; k++) {
        unsigned i = (NRECS - 1 - k) % NREC;
        const char *a = REC[i].p;
        size_t bytes = REC[i].bytes;
        if (c < a || c >= a + bytes) continue;
        for (int j = 0; j < NMIRS; j++) {
            if (MIR[j].h == a && MIR[j].bytes == bytes) return MIR[j].d + (c - a); /* already mirrored */
            LMS_ASSERT((MIR[j].h + MIR[j].bytes <= a || a + bytes <= MIR[j].h) && "ON: mirrors never overlap");
        }
        lms_err err = {0};
        char *d = F->buf_alloc(bytes, &err);
        LMS_ASSERT(d && NMIRS < NMIR && "a test buffer of the backend under test");
        F->copy_h2d(d, a, bytes);
        MIR[NMIRS++] = (typeof(MIR[0])){d, a, bytes};
        return d + (c - a);
    }
    LMS_ASSERT(!"ON: a host array not from tmalloc");
    return NULL;
}
#define ON(p) on(p)
static void back(void) {
    F->sync();
    for (int i = 0; i < NMIRS; i++) {
        F->copy_d2h((void *)MIR[i].h, MIR[i].d, MIR[i].bytes);
        F->buf_free(MIR[i].d);
    }
    NMIRS = 0;
}

static float *rnd(int64_t n, float scale) {
    float *p = tmalloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = (lms_rng_uniform(&g_rng) * 2.0f - 1.0f) * scale;
    return p;
}

static float *dup(const float *a, int64_t n) {
    float *p = tmalloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (n > 0) memcpy(p, a, (size_t)n * sizeof(float));
    return p;
}

/* the table under test against the reference (tests/close.h) */
static int close_sum(const char *what, const float *f, const float *r, int64_t n, double rtol) {
    return th_close_sum(F->name, what, f, r, n, rtol);
}
static int close_elem(const char *what, const float *f, const float *r, int64_t n, double rtol) {
    return th_close_elem(F->name, what, f, r, n, rtol);
}

#define RSUM 1e-5
#define RELEM 2e-6

/* ---- the backends: lms_ops_all's tables, the simulated device, CUDA when there ----------------- */
static const lms_ops *TABLES[8];
static int NT, NHOST; /* all backends; the first NHOST are lms_ops_all's */
static lms_ops FAKE_DEV;

static void setup(void) {
    lms_rng_seed(&g_rng, 1234);
    NHOST = NT = lms_ops_all(TABLES, 6);
    FAKE_DEV = *lms_ops_generic();
    FAKE_DEV.name = "fake-device";
    FAKE_DEV.caps &= ~(unsigned)(LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE);
    TABLES[NT++] = &FAKE_DEV;
    if (lms_ops_cuda()) TABLES[NT++] = lms_ops_cuda();
    R = lms_ops_reference();
    lms_cpu_set_threads(2);
}

static int has(unsigned cap) { return (F->caps & cap) == cap; }

/* Steps F through every backend but the reference: for (int i = 0; next_table(&i);) { ... F ... } */
static int next_table(int *i) {
    if (*i == 0) setup();
    if (++*i >= NT) return 0;
    F = TABLES[*i];
    return 1;
}

static void test_tables(void) {
    setup();
    CHECK(NHOST >= 2 && NHOST <= 4);
    CHECK(TABLES[0] == R && strcmp(R->name, "reference") == 0);
    CHECK(TABLES[1] == lms_ops_generic() && strcmp(TABLES[1]->name, "generic+openblas") == 0);
#ifndef LMS_NO_SIMD
    if (lms_cpu()->avx512) {
        CHECK(NHOST == 3 + (lms_ops_bf16() != NULL) && TABLES[2] == lms_ops_avx512() &&
              strcmp(TABLES[2]->name, "avx512+openblas") == 0);
        CHECK(NHOST == 3 || (TABLES[3] == lms_ops_bf16() && strcmp(TABLES[3]->name, "avx512-bf16") == 0));
        CHECK(lms_ops_fast() == lms_ops_avx512());
    } else
#endif
    {
        CHECK(NHOST == 2 && lms_ops_avx512() == NULL && lms_ops_bf16() == NULL);
        CHECK(lms_ops_fast() == lms_ops_generic());
    }
    CHECK(lms_ops_get() == (lms_cpu_reference_forced() ? R : lms_ops_fast()));
    int prev = lms_ops_threads_begin(1);
    CHECK(prev == 2 && omp_get_max_threads() == 1);
    lms_ops_threads_end(prev);
    CHECK(omp_get_max_threads() == 2);
    CHECK(lms_ops_threads_begin(0) == 0 && omp_get_max_threads() == 2);
    lms_ops_threads_end(0);
    CHECK(omp_get_max_threads() == 2);
}

/* Every backend's declared capabilities match its pointers, and what each declares is what the
   code relies on: every CPU table keeps host memory, splits decoding and decodes bf16 weights; the
   fused output layer everywhere but bf16 (whose output layer is a bf16 product); packed weights
   only in bf16. Then lms_ops_check itself: a missing required op, an optional group half there and
   a flag without its ops are each refused, naming the field. */
static void test_capabilities(void) {
    setup();
    for (int i = 0; i < NT; i++) {
        const lms_ops *K = TABLES[i];
        lms_err err = {0};
        CHECKF(lms_ops_check(K, &err) == LMS_OK, "%s: %s", K->name, err.msg);
        lms_backend b;
        CHECK(lms_backend_init(&b, K, 3, &err) == LMS_OK && b.ops == K && b.threads == 3 && b.caps == K->caps &&
              !strcmp(b.name, K->name));
        if (i < NHOST) {
            CHECK(lms_backend_has(&b, LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE));
            CHECK(lms_backend_has(&b, LMS_BACKEND_BF16_DECODE));
            CHECK(lms_backend_has(&b, LMS_BACKEND_FUSED_LMHEAD) == (K != lms_ops_bf16()));
            CHECK(lms_backend_has(&b, LMS_BACKEND_PACKED_WEIGHTS) == (K == lms_ops_bf16()));
        }
        char cs[128];
        printf("  %-18s %s\n", K->name, lms_backend_caps_str(K->caps, cs, sizeof cs));
    }
    char small[12] = "xxxxxxxxxxx"; /* a short buffer: cut, terminated, nothing past it written */
    CHECK(!strcmp(lms_backend_caps_str(LMS_BACKEND_HOST_MEMORY | LMS_BACKEND_SPLIT_DECODE | LMS_BACKEND_BF16_DECODE,
                                       small, 8), "host-me") && !strcmp(small + 8, "xxx"));
    CHECK(lms_backend_caps_str(LMS_BACKEND_HOST_MEMORY, small, 0) == small && small[0] == 'h');
    lms_err err = {0};
    lms_ops t = *lms_ops_generic();
    t.dec_add = NULL;
    CHECK(lms_ops_check(&t, &err) == LMS_ERR_ARG && strstr(err.msg, "dec_add"));
    t = *lms_ops_generic();
    t.lmhead_xent_bwd = NULL;
    CHECK(lms_ops_check(&t, &err) == LMS_ERR_ARG && strstr(err.msg, "lmhead_xent_bwd"));
    t.lmhead_xent_fwd = NULL; /* both gone but still declared */
    CHECK(lms_ops_check(&t, &err) == LMS_ERR_ARG && strstr(err.msg, "LMS_BACKEND_FUSED_LMHEAD"));
    t.caps &= ~(unsigned)LMS_BACKEND_FUSED_LMHEAD;
    CHECK(lms_ops_check(&t, &err) == LMS_OK);
    t.caps |= LMS_BACKEND_PACKED_WEIGHTS; /* declared without the ops */
    CHECK(lms_ops_check(&t, &err) == LMS_ERR_ARG && strstr(err.msg, "wpack_bytes"));
    lms_backend b;
    CHECK(lms_backend_init(&b, &t, 0, &err) == LMS_ERR_ARG && lms_backend_init(&b, NULL, 0, &err) == LMS_ERR_ARG);
    CHECK(lms_backend_for_device(&b, "cpu", "fp32", 2, &err) == LMS_OK && b.ops == lms_ops_get() && b.threads == 2);
    CHECK(lms_backend_for_device(&b, "tpu", NULL, 0, &err) == LMS_ERR_ARG);
    CHECK(lms_backend_for_device(&b, "cpu", "fp8", 0, &err) == LMS_ERR_ARG);
    CHECK(lms_backend_for_device(&b, "cpu", "bf16", 0, &err) == (lms_ops_bf16() ? LMS_OK : LMS_ERR_UNSUPPORTED));
    CHECK(lms_backend_for_device(&b, "cuda", "fp32", 0, &err) == (lms_ops_cuda() ? LMS_OK : LMS_ERR_UNSUPPORTED));
    if (lms_ops_cuda()) /* bf16 on a device is the flags' fault (exit 2), not the machine's */
        CHECK(lms_backend_for_device(&b, "cuda", "bf16", 0, &err) == LMS_ERR_ARG && strstr(err.msg, "CPU only"));
}

/* The CUDA table is walked by every test here when the build has it and a device is usable. */
static void test_cuda_backend(void) {
    setup();
    if (!lms_ops_cuda()) SKIP("%s", lms_ops_cuda_unavailable());
    CHECK(TABLES[NT - 1] == lms_ops_cuda());
}

static const int64_t NS[] = {1, 7, 33, 130, 257};
static const int64_t CS[] = {3, 17, 64, 96};

static void test_layernorm(void) {
    for (int ti = 0; next_table(&ti);) {
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 4; b++) {
                int64_t N = NS[a], C = CS[b];
                float *x = rnd(N * C, 3.0f), *w = rnd(C, 1.5f), *bb = rnd(C, 0.5f);
                for (int64_t i = 0; i < N * C; i++) x[i] += 1.0f; /* non-zero mean */
                float *o1 = rnd(N * C, 1), *o2 = rnd(N * C, 1), *m1 = rnd(N, 1), *m2 = rnd(N, 1), *r1 = rnd(N, 1), *r2 = rnd(N, 1);
                F->layernorm_fwd(ON(o1), ON(m1), ON(r1), ON(x), ON(w), ON(bb), N, C); back();
                R->layernorm_fwd(o2, m2, r2, x, w, bb, N, C);
                CHECKF(close_elem("ln out", o1, o2, N * C, 20 * RELEM), "N=%lld C=%lld", (long long)N, (long long)C);
                CHECK(close_elem("ln mean", m1, m2, N, RELEM * 10));
                CHECK(close_elem("ln rstd", r1, r2, N, RELEM * 10));
                float *dout = rnd(N * C, 1.0f), *dx = rnd(N * C, 0.5f), *dw = rnd(C, 0.5f), *db = rnd(C, 0.5f);
                float *dx2 = dup(dx, N * C), *dw2 = dup(dw, C), *db2 = dup(db, C);
                F->layernorm_bwd(ON(dx), ON(dw), ON(db), ON(dout), ON(x), ON(w), ON(m2), ON(r2), N, C); back();
                R->layernorm_bwd(dx2, dw2, db2, dout, x, w, m2, r2, N, C);
                CHECKF(close_sum("ln dx", dx, dx2, N * C, RSUM), "N=%lld C=%lld", (long long)N, (long long)C);
                CHECKF(close_sum("ln dw", dw, dw2, C, RSUM), "N=%lld C=%lld", (long long)N, (long long)C);
                CHECKF(close_sum("ln db", db, db2, C, RSUM), "N=%lld C=%lld", (long long)N, (long long)C);
                free(x); free(w); free(bb); free(o1); free(o2); free(m1); free(m2); free(r1); free(r2);
                free(dout); free(dx); free(dw); free(db); free(dx2); free(dw2); free(db2);
            }
    }
}

/* The bf16 table's products (kernels/gemm_bf16.c) round both inputs to bfloat16 (8 significant
   bits, relative error <= u16 = 2^-8 each) and sum in fp32, so each product a·b is off by at most
   |a b|(2 u16 + u16²) and the sum by at most
       (2^-7 + 2^-16 + (K + 2)·2^-24) · S,   S = |init| + Σ_k |a_k||b_k|
   (the last term: fp32 accumulation of K + 1 terms and the reference's own rounding). S is the
   reference table's product of the absolute values, computed alongside. With random inputs S is
   ~sqrt(K) times the typical output, so the bound is loose next to real rounding but still a tenth
   of what a wrong index or a missed accumulation gives. */
static int close_bf16(const char *what, const float *f, const float *r, const float *S, int64_t n, int64_t K) {
    double c = ldexp(1.0, -7) + ldexp(1.0, -16) + (double)(K + 2) * ldexp(1.0, -24);
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)f[i] - r[i]);
        if (!(e <= c * S[i] + 1e-30)) {
            fprintf(stderr, "  [%s] %s: error %.3g at %lld (bf16 %.9g ref %.9g), bound %.3g\n", F->name, what, e,
                    (long long)i, f[i], r[i], c * S[i]);
            return 0;
        }
    }
    return 1;
}

static float *absdup(const float *a, int64_t n) {
    float *p = dup(a, n);
    for (int64_t i = 0; i < n; i++) p[i] = fabsf(p[i]);
    return p;
}

static void test_matmul(void) {
    for (int ti = 0; next_table(&ti);) {
        int bf16 = F == lms_ops_bf16();
        const int64_t OCS[] = {1, 5, 64, 300};
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 4; b++)
                for (int o = 0; o < 4; o++)
                    for (int lay = 0; lay < 2; lay++)
                        for (int hasb = 0; hasb < 2; hasb++) {
                            int64_t N = NS[a], C = CS[b], OC = OCS[o];
                            lms_wlayout L = lay ? LMS_W_OUT_IN : LMS_W_IN_OUT;
                            float *x = rnd(N * C, 1.0f), *w = rnd(C * OC, 0.3f), *bias = hasb ? rnd(OC, 1.0f) : NULL;
                            float *o1 = rnd(N * OC, 9), *o2 = rnd(N * OC, 9);
                            float *ax = bf16 ? absdup(x, N * C) : NULL, *aw = bf16 ? absdup(w, C * OC) : NULL;
                            float *ab = bf16 && bias ? absdup(bias, OC) : NULL, *S = bf16 ? rnd(N * OC, 1) : NULL;
                            F->matmul_fwd(ON(o1), ON(x), ON(w), ON(bias), N, C, OC, L); back();
                            R->matmul_fwd(o2, x, w, bias, N, C, OC, L);
                            if (bf16) R->matmul_fwd(S, ax, aw, ab, N, C, OC, L);
                            CHECKF(bf16 ? close_bf16("mm fwd", o1, o2, S, N * OC, C) : close_sum("mm fwd", o1, o2, N * OC, RSUM),
                                   "N=%lld C=%lld OC=%lld L=%d", (long long)N, (long long)C, (long long)OC, lay);
                            float *dout = rnd(N * OC, 1.0f), *dx = rnd(N * C, 1), *dw = rnd(C * OC, 1), *db = rnd(OC, 1);
                            float *dx2 = dup(dx, N * C), *dw2 = dup(dw, C * OC), *db2 = dup(db, OC);
                            float *dx0 = dup(dx, N * C), *dw0 = dup(dw, C * OC);
                            F->matmul_bwd(ON(dx), ON(dw), ON(hasb ? db : NULL), ON(dout), ON(x), ON(w), N, C, OC, L, 1); back();
                            R->matmul_bwd(dx2, dw2, hasb ? db2 : NULL, dout, x, w, N, C, OC, L, 1);
                            if (bf16) { /* S for dx and dw: |the starting values| + the products of |inputs| */
                                float *adout = absdup(dout, N * OC), *Sx = absdup(dx0, N * C), *Sw = absdup(dw0, C * OC);
                                R->matmul_bwd(Sx, Sw, NULL, adout, ax, aw, N, C, OC, L, 1);
                                CHECKF(close_bf16("mm dx", dx, dx2, Sx, N * C, OC), "N=%lld C=%lld OC=%lld", (long long)N, (long long)C, (long long)OC);
                                CHECKF(close_bf16("mm dw", dw, dw2, Sw, C * OC, N), "N=%lld C=%lld OC=%lld", (long long)N, (long long)C, (long long)OC);
                                free(adout); free(Sx); free(Sw);
                            } else {
                                CHECKF(close_sum("mm dx", dx, dx2, N * C, RSUM), "N=%lld C=%lld OC=%lld", (long long)N, (long long)C, (long long)OC);
                                CHECKF(close_sum("mm dw", dw, dw2, C * OC, RSUM), "N=%lld C=%lld OC=%lld", (long long)N, (long long)C, (long long)OC);
                            }
                            CHECKF(close_sum("mm db", db, db2, OC, RSUM), "N=%lld OC=%lld", (long long)N, (long long)OC);
                            /* dinp == NULL is skipped */
                            F->matmul_bwd(ON(NULL), ON(dw), ON(NULL), ON(dout), ON(x), ON(w), N, C, OC, L, 1); back();
                            /* dw_acc = 0 overwrites dw (NaNs before, none read): += into zeros */
                            float *dwz = tcalloc((size_t)(C * OC), 4), *dwn = tmalloc((size_t)(C * OC) * 4);
                            for (int64_t i = 0; i < C * OC; i++) dwn[i] = NAN;
                            F->matmul_bwd(ON(NULL), ON(dwz), ON(NULL), ON(dout), ON(x), ON(w), N, C, OC, L, 1); back();
                            F->matmul_bwd(ON(NULL), ON(dwn), ON(NULL), ON(dout), ON(x), ON(w), N, C, OC, L, 0); back();
                            int64_t bad = -1;
                            for (int64_t i = 0; i < C * OC && bad < 0; i++) bad = dwn[i] == dwz[i] ? -1 : i;
                            CHECKF(bad < 0, "%s dw_acc=0, N=%lld C=%lld OC=%lld L=%d: dw[%lld] = %g, += into zeros gives %g",
                                   F->name, (long long)N, (long long)C, (long long)OC, lay, (long long)bad,
                                   bad >= 0 ? dwn[bad] : 0.0, bad >= 0 ? dwz[bad] : 0.0);
                            free(dwz); free(dwn);
                            free(x); free(w); free(bias); free(o1); free(o2); free(dout);
                            free(dx); free(dw); free(db); free(dx2); free(dw2); free(db2);
                            free(ax); free(aw); free(ab); free(S); free(dx0); free(dw0);
                        }
    }
}

/* The bf16 table's attention rounds the inputs of its per-head products to bf16: scores, the
   probabilities times the values and the four gradient products, chained through the softmax
   (three products deep in the backward). Each product errs by up to 2·2^-8 of the sum of its
   terms' magnitudes (close_bf16 above), which at these sizes is a few times the output itself;
   the bound allows 8 such unit errors relative to max|ref|: 2^-5. A wrong index, a missed scale
   (1/sqrt(head size)) or a lost accumulation errs by the size of the output, 30 times more; the
   rounding itself is test_bf16's business. */
#define RATT_BF16 0x1p-5

static void test_attention(void) {
    for (int tab = 0; next_table(&tab);) {
        double ratt = F == lms_ops_bf16() ? RATT_BF16 : RSUM;
        const int64_t Ts[] = {1, 2, 7, 37, 64, 65, 130};
        const int64_t NHs[] = {1, 3};
        const int64_t Bs[] = {1, 2};
        for (int ti = 0; ti < 7; ti++)
            for (int hi = 0; hi < 2; hi++)
                for (int bi = 0; bi < 2; bi++) {
                    int64_t T = Ts[ti], NH = NHs[hi], B = Bs[bi], C = NH * (hi ? 17 : 64);
                    float *qkv = rnd(B * T * 3 * C, 1.0f);
                    float *o1 = rnd(B * T * C, 9), *o2 = rnd(B * T * C, 9);
                    float *a1 = rnd(B * NH * T * T, 9), *a2 = rnd(B * NH * T * T, 9);
                    F->attention_fwd(ON(o1), ON(a1), ON(qkv), B, T, C, NH); back();
                    R->attention_fwd(o2, a2, qkv, B, T, C, NH);
                    CHECKF(close_sum("att probs", a1, a2, B * NH * T * T, ratt), "B=%lld T=%lld NH=%lld", (long long)B, (long long)T, (long long)NH);
                    CHECKF(close_sum("att out", o1, o2, B * T * C, ratt), "B=%lld T=%lld NH=%lld", (long long)B, (long long)T, (long long)NH);
                    int upper_zero = 1;
                    for (int64_t bh = 0; bh < B * NH; bh++)
                        for (int64_t t = 0; t < T; t++)
                            for (int64_t u = t + 1; u < T; u++) upper_zero &= a1[(bh * T + t) * T + u] == 0.0f;
                    CHECK(upper_zero);
                    float *dout = rnd(B * T * C, 1.0f), *d1 = rnd(B * T * 3 * C, 1), *d2 = dup(d1, B * T * 3 * C);
                    float *s1 = rnd(B * NH * T * T, 1), *s2 = rnd(B * NH * T * T, 1);
                    F->attention_bwd(ON(d1), ON(s1), ON(dout), ON(qkv), ON(a2), B, T, C, NH); back();
                    R->attention_bwd(d2, s2, dout, qkv, a2, B, T, C, NH);
                    CHECKF(close_sum("att dqkv", d1, d2, B * T * 3 * C, ratt), "B=%lld T=%lld NH=%lld", (long long)B, (long long)T, (long long)NH);
                    free(qkv); free(o1); free(o2); free(a1); free(a2); free(dout); free(d1); free(d2); free(s1); free(s2);
                }
    }
}

static void test_gelu_residual(void) {
    for (int ti = 0; next_table(&ti);) {
        const int64_t ns[] = {1, 7, 33, 1000, 70001};
        for (int i = 0; i < 5; i++) {
            int64_t n = ns[i];
            float *x = rnd(n, 6.0f), *o1 = rnd(n, 1), *o2 = rnd(n, 1), *dout = rnd(n, 1.0f);
            if (n > 10) { x[0] = 0.0f; x[1] = -20.0f; x[2] = 20.0f; x[3] = 1e-6f; }
            F->gelu_fwd(ON(o1), ON(x), n); back();
            R->gelu_fwd(o2, x, n);
            CHECKF(close_elem("gelu", o1, o2, n, RELEM), "n=%lld", (long long)n);
            float *d1 = rnd(n, 1), *d2 = dup(d1, n);
            F->gelu_bwd(ON(d1), ON(x), ON(dout), n); back();
            R->gelu_bwd(d2, x, dout, n);
            /* dx += g·dout accumulates, and g itself cancels (GELU' crosses 0 near x = -0.75):
               judge it like a short sum, relative to the largest result */
            CHECKF(close_sum("gelu bwd", d1, d2, n, RELEM), "n=%lld", (long long)n);
            F->residual_fwd(ON(o1), ON(x), ON(dout), n); back();
            R->residual_fwd(o2, x, dout, n);
            CHECK(memcmp(o1, o2, (size_t)n * sizeof(float)) == 0); /* one rounding, exact */
            free(x); free(o1); free(o2); free(dout); free(d1); free(d2);
        }
    }
}

static void test_encoder(void) {
    for (int ti = 0; next_table(&ti);) {
        const int64_t Bs[] = {1, 3, 4}, Ts[] = {1, 5, 37}, Cs[] = {3, 17, 96};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++) {
                    int64_t B = Bs[i], T = Ts[j], C = Cs[k], V = 11;
                    int32_t *tok = tmalloc((size_t)(B * T) * sizeof(int32_t));
                    for (int64_t n = 0; n < B * T; n++) tok[n] = (int32_t)lms_rng_below(&g_rng, (uint64_t)V);
                    float *wte = rnd(V * C, 1), *wpe = rnd(T * C, 1), *o1 = rnd(B * T * C, 1), *o2 = rnd(B * T * C, 1);
                    F->encoder_fwd(ON(o1), ON(tok), ON(wte), ON(wpe), B, T, C); back();
                    R->encoder_fwd(o2, tok, wte, wpe, B, T, C);
                    CHECK(memcmp(o1, o2, (size_t)(B * T * C) * sizeof(float)) == 0);
                    float *dout = rnd(B * T * C, 1), *de1 = rnd(V * C, 1), *de2 = dup(de1, V * C), *dp1 = rnd(T * C, 1), *dp2 = dup(dp1, T * C);
                    F->encoder_bwd(ON(de1), ON(dp1), ON(dout), ON(tok), B, T, C); back();
                    R->encoder_bwd(de2, dp2, dout, tok, B, T, C);
                    /* both sum in token order in fp32: bit-identical */
                    CHECK(memcmp(de1, de2, (size_t)(V * C) * sizeof(float)) == 0);
                    CHECK(memcmp(dp1, dp2, (size_t)(T * C) * sizeof(float)) == 0);
                    free(tok); free(wte); free(wpe); free(o1); free(o2); free(dout); free(de1); free(de2); free(dp1); free(dp2);
                }
    }
}

static void test_xent(void) {
    for (int ti = 0; next_table(&ti);) {
        const int64_t Ns[] = {1, 7, 33, 300}, Vs[] = {1, 2, 17, 300};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                int64_t N = Ns[i], V = Vs[j];
                int32_t *tg = tmalloc((size_t)N * sizeof(int32_t));
                for (int64_t n = 0; n < N; n++) tg[n] = (n % 5 == 3) ? -1 : (int32_t)lms_rng_below(&g_rng, (uint64_t)V);
                float *lg = rnd(N * V, 8.0f), *l1 = dup(lg, N * V), *l2 = dup(lg, N * V);
                float *loss1 = rnd(N, 1), *loss2 = rnd(N, 1), *loss3 = rnd(N, 1);
                float dloss = 1.0f / (float)N;
                F->xent_fwd(ON(loss3), ON(lg), ON(tg), N, V); back();
                F->xent_fwd_bwd(ON(loss1), ON(l1), ON(tg), N, V, dloss); back();
                R->xent_fwd_bwd(loss2, l2, tg, N, V, dloss);
                /* loss = log(sum) - (x_t - max): an absolute error of a few ulp of log(V)+range */
                int ok = 1;
                for (int64_t n = 0; n < N; n++) {
                    ok &= fabs(loss1[n] - loss2[n]) <= 1e-5 * (fabs(loss2[n]) + 1.0);
                    ok &= fabs(loss3[n] - loss2[n]) <= 1e-5 * (fabs(loss2[n]) + 1.0);
                    if (tg[n] < 0) ok &= loss1[n] == 0.0f && loss3[n] == 0.0f;
                }
                CHECKF(ok, "N=%lld V=%lld", (long long)N, (long long)V);
                CHECKF(close_elem("dlogits", l1, l2, N * V, 1e-5), "N=%lld V=%lld", (long long)N, (long long)V);
                free(tg); free(lg); free(l1); free(l2); free(loss1); free(loss2); free(loss3);
            }
    }
}

/* The fused output layer + cross-entropy against the reference's (which is matmul + xent in
   double). Widths cover the AVX-512 register tiles (C multiple of 16 or not, strips of 64, 16
   and 32 wide; C > 128 goes through OpenBLAS), vocabularies the panel of 48 (one short panel,
   exact multiples), rows the tiles of 8 / 6 / 12 and their tails, with ignored targets.
   Tolerances: logits are dot products over C terms, bounded per element (below); dx and dwte
   sum V (<= 300) and N (<= 300) terms, so RSUM (~K·u) as for the other reductions; losses and
   lse as test_xent's losses;
   dlogits as in test_xent: exp(l - lse) with lse itself rounded to fp32 errs relatively by
   about ulp(|lse|)/2 <= 1e-6 at |lse| < 16, under the 1e-5 allowed. */
static void test_lmhead_xent(void) {
    for (int ti = 0; next_table(&ti);) {
        if (!has(LMS_BACKEND_FUSED_LMHEAD)) continue; /* optional: the model composes matmul and xent (test_model covers it) */
        const int64_t Ns[] = {1, 13, 300}, Cs[] = {1, 16, 20, 32, 64, 100, 128, 300}, Vs[] = {1, 48, 49, 300};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 8; j++)
                for (int q = 0; q < 4; q++) {
                    int64_t N = Ns[i], C = Cs[j], V = Vs[q], ns = lms_lmhead_scratch_floats(V, C);
                    int32_t *tg = tmalloc((size_t)N * sizeof(int32_t));
                    for (int64_t n = 0; n < N; n++) tg[n] = (n % 7 == 5) ? -1 : (int32_t)lms_rng_below(&g_rng, (uint64_t)V);
                    float *x = rnd(N * C, 1), *w = rnd(V * C, 2.0f / sqrtf((float)C)), *sc = ns ? rnd(ns, 1) : NULL;
                    float *lg1 = rnd(N * V, 1), *lg2 = rnd(N * V, 1), *l1 = rnd(N, 1), *l2 = rnd(N, 1);
                    float *s1 = rnd(N, 1), *s2 = rnd(N, 1);
                    F->lmhead_xent_fwd(ON(lg1), ON(l1), ON(s1), ON(sc), ON(x), ON(w), ON(tg), N, C, V); back();
                    R->lmhead_xent_fwd(lg2, l2, s2, NULL, x, w, tg, N, C, V);
                    /* logits: a single dot product can cancel to far below its terms, so the
                       bound is per element, the worst case of C fp32 FMAs: (C+1)·u·Σ|x_c w_c| */
                    int ok = 1;
                    for (int64_t n = 0; n < N; n++)
                        for (int64_t v = 0; v < V; v++) {
                            double a = 0.0;
                            for (int64_t c = 0; c < C; c++) a += fabs((double)x[n * C + c] * w[v * C + c]);
                            double e = fabs((double)lg1[n * V + v] - lg2[n * V + v]);
                            if (!(e <= (double)(C + 1) * 0x1p-24 * a + 1e-30)) {
                                if (ok) fprintf(stderr, "  [%s] logits: error %.3g at %lld, %lld (bound %.3g)\n", F->name, e,
                                                (long long)n, (long long)v, (double)(C + 1) * 0x1p-24 * a);
                                ok = 0;
                            }
                        }
                    for (int64_t n = 0; n < N; n++) {
                        ok &= fabs(l1[n] - l2[n]) <= 1e-5 * (fabs(l2[n]) + 1.0);
                        ok &= fabs(s1[n] - s2[n]) <= 1e-5 * (fabs(s2[n]) + 1.0);
                        if (tg[n] < 0) ok &= l1[n] == 0.0f && s1[n] == 0.0f;
                    }
                    /* backward from the reference's logits and lse, so only the backward is compared */
                    float *d1 = dup(lg2, N * V), *dx1 = rnd(N * C, 1), *dx2 = dup(dx1, N * C), *dw1 = rnd(V * C, 1),
                          *dw2 = dup(dw1, V * C);
                    float dloss = 1.0f / (float)N;
                    F->lmhead_xent_bwd(ON(dx1), ON(dw1), ON(d1), ON(s2), ON(x), ON(w), ON(tg), N, C, V, dloss); back();
                    R->lmhead_xent_bwd(dx2, dw2, lg2, s2, x, w, tg, N, C, V, dloss);
                    ok &= close_elem("dlogits", d1, lg2, N * V, 1e-5);
                    ok &= close_sum("dx", dx1, dx2, N * C, RSUM);
                    ok &= close_sum("dwte", dw1, dw2, V * C, RSUM);
                    CHECKF(ok, "N=%lld C=%lld V=%lld", (long long)N, (long long)C, (long long)V);
                    /* same inputs, same thread count: the same bits */
                    if (i == 2) {
                        float *lg3 = rnd(N * V, 1), *l3 = rnd(N, 1), *s3 = rnd(N, 1), *d3 = dup(lg1, N * V);
                        float *dx3 = dup(dx2, N * C), *dw3 = dup(dw2, V * C), *dx4 = dup(dx2, N * C), *dw4 = dup(dw2, V * C);
                        F->lmhead_xent_fwd(ON(lg3), ON(l3), ON(s3), ON(sc), ON(x), ON(w), ON(tg), N, C, V); back();
                        CHECK(memcmp(lg3, lg1, (size_t)(N * V) * 4) == 0 && memcmp(l3, l1, (size_t)N * 4) == 0 &&
                              memcmp(s3, s1, (size_t)N * 4) == 0);
                        memcpy(lg3, d3, (size_t)(N * V) * 4);
                        F->lmhead_xent_bwd(ON(dx3), ON(dw3), ON(d3), ON(s1), ON(x), ON(w), ON(tg), N, C, V, dloss); back();
                        F->lmhead_xent_bwd(ON(dx4), ON(dw4), ON(lg3), ON(s1), ON(x), ON(w), ON(tg), N, C, V, dloss); back();
                        CHECK(memcmp(dx3, dx4, (size_t)(N * C) * 4) == 0 && memcmp(dw3, dw4, (size_t)(V * C) * 4) == 0 &&
                              memcmp(d3, lg3, (size_t)(N * V) * 4) == 0);
                        free(lg3); free(l3); free(s3); free(d3); free(dx3); free(dw3); free(dx4); free(dw4);
                    }
                    /* the reference fused op is matmul + xent: check it against those ops */
                    if (ti == 1 && i == 1 && q == 3) {
                        float *lg3 = rnd(N * V, 1), *l3 = rnd(N, 1);
                        R->matmul_fwd(lg3, x, w, NULL, N, C, V, LMS_W_OUT_IN);
                        R->xent_fwd(l3, lg3, tg, N, V);
                        float *lg4 = rnd(N * V, 1);
                        R->lmhead_xent_fwd(lg4, l2, s2, NULL, x, w, tg, N, C, V);
                        CHECK(memcmp(lg3, lg4, (size_t)(N * V) * sizeof(float)) == 0);
                        CHECK(memcmp(l3, l2, (size_t)N * sizeof(float)) == 0);
                        free(lg3); free(l3); free(lg4);
                    }
                    free(tg); free(x); free(w); free(sc); free(lg1); free(lg2); free(l1); free(l2); free(s1); free(s2);
                    free(d1); free(dx1); free(dx2); free(dw1); free(dw2);
                }
    }
}

static void test_adamw(void) {
    for (int ti = 0; next_table(&ti);) {
        const int64_t ns[] = {1, 17, 1000, 100003};
        for (int i = 0; i < 4; i++) {
            int64_t n = ns[i];
            float *p = rnd(n, 1), *g = rnd(n, 0.1f), *m = rnd(n, 0.01f), *v = rnd(n, 0.001f);
            for (int64_t k = 0; k < n; k++) v[k] = fabsf(v[k]);
            float *p2 = dup(p, n), *m2 = dup(m, n), *v2 = dup(v, n);
            for (int64_t t = 1; t <= 3; t++) {
                F->adamw(ON(p), ON(g), ON(m), ON(v), n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, t * 7); back();
                R->adamw(p2, g, m2, v2, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, t * 7);
            }
            /* m, v: same fp32 formula (fma contraction may differ by an ulp); p: the step is ~lr, so
               an error of 1e-6·lr relative to the step is far below 1e-6·|p| */
            CHECKF(close_elem("adam m", m, m2, n, 1e-6), "n=%lld", (long long)n);
            CHECKF(close_elem("adam v", v, v2, n, 1e-6), "n=%lld", (long long)n);
            CHECKF(close_elem("adam p", p, p2, n, 1e-6), "n=%lld", (long long)n);
            int moved = 0;
            float *p0 = dup(p2, n);
            R->adamw(p0, g, m2, v2, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 22);
            for (int64_t k = 0; k < n; k++) moved |= p0[k] != p2[k];
            CHECK(moved);
            free(p); free(g); free(m); free(v); free(p2); free(m2); free(v2); free(p0);
        }
    }
}

/* Same inputs, same thread count: bit-identical outputs for every op, twice. Reductions that do
   not go through BLAS are also bit-identical between 1 and 2 threads. */
static void test_determinism(void) {
    for (int ti = 0; next_table(&ti);) {
        int64_t B = 4, T = 130, C = 96, NH = 3, N = B * T, V = 300, OC = 3 * C;
        float *x = rnd(N * C, 1), *w = rnd(C * OC, 0.2f), *bias = rnd(OC, 1), *dout = rnd(N * OC, 1);
        float *lnw = rnd(C, 1), *lnb = rnd(C, 1), *mean = rnd(N, 1), *rstd = rnd(N, 1), *tmp = rnd(N * C, 1);
        F->layernorm_fwd(ON(tmp), ON(mean), ON(rstd), ON(x), ON(lnw), ON(lnb), N, C); back();
        float *qkv = rnd(N * OC, 1), *att = rnd(B * NH * T * T, 1), *datt = rnd(B * NH * T * T, 1);
        float *lg = rnd(N * V, 5);
        int32_t *tg = tmalloc((size_t)N * sizeof(int32_t));
        for (int64_t n = 0; n < N; n++) tg[n] = (int32_t)lms_rng_below(&g_rng, (uint64_t)V);
        float *res[2][8];
        for (int run = 0; run < 2; run++) {
            lms_cpu_set_threads(run == 0 ? 2 : 2);
            float **r = res[run];
            r[0] = tcalloc((size_t)(N * OC), 4); F->matmul_fwd(ON(r[0]), ON(x), ON(w), ON(bias), N, C, OC, LMS_W_IN_OUT); back();
            r[1] = tcalloc((size_t)(C * OC), 4); r[2] = tcalloc((size_t)(N * C), 4); r[3] = tcalloc((size_t)OC, 4);
            F->matmul_bwd(ON(r[2]), ON(r[1]), ON(r[3]), ON(dout), ON(x), ON(w), N, C, OC, LMS_W_IN_OUT, 1); back();
            r[4] = tcalloc((size_t)(N * C), 4); F->attention_fwd(ON(r[4]), ON(att), ON(qkv), B, T, C, NH); back();
            r[5] = tcalloc((size_t)(N * OC), 4); F->attention_bwd(ON(r[5]), ON(datt), ON(tmp), ON(qkv), ON(att), B, T, C, NH); back();
            r[6] = dup(lg, N * V); float *loss = tcalloc((size_t)N, 4);
            F->xent_fwd_bwd(ON(loss), ON(r[6]), ON(tg), N, V, 1.0f / N); back(); free(loss);
            r[7] = tcalloc((size_t)(2 * C), 4);
            float *dx = tcalloc((size_t)(N * C), 4);
            F->layernorm_bwd(ON(dx), ON(r[7]), ON(r[7] + C), ON(tmp), ON(x), ON(lnw), ON(mean), ON(rstd), N, C); back(); free(dx);
        }
        int64_t sz[8] = {N * OC, C * OC, N * C, OC, N * C, N * OC, N * V, 2 * C};
        for (int i = 0; i < 8; i++) CHECKF(memcmp(res[0][i], res[1][i], (size_t)sz[i] * 4) == 0, "output %d differs between runs", i);
        /* 1 vs 2 threads for the column-split reductions */
        float *g1 = tcalloc((size_t)(2 * C), 4), *g2 = tcalloc((size_t)(2 * C), 4), *dx = tcalloc((size_t)(N * C), 4);
        float *b1 = tcalloc((size_t)OC, 4), *b2 = tcalloc((size_t)OC, 4);
        lms_cpu_set_threads(1);
        F->layernorm_bwd(ON(dx), ON(g1), ON(g1 + C), ON(tmp), ON(x), ON(lnw), ON(mean), ON(rstd), N, C); back();
        F->matmul_bwd(ON(NULL), ON(NULL), ON(b1), ON(dout), ON(x), ON(w), N, C, OC, LMS_W_IN_OUT, 1); back();
        lms_cpu_set_threads(2);
        F->layernorm_bwd(ON(dx), ON(g2), ON(g2 + C), ON(tmp), ON(x), ON(lnw), ON(mean), ON(rstd), N, C); back();
        F->matmul_bwd(ON(NULL), ON(NULL), ON(b2), ON(dout), ON(x), ON(w), N, C, OC, LMS_W_IN_OUT, 1); back();
        CHECK(memcmp(g1, g2, (size_t)(2 * C) * 4) == 0);
        CHECK(memcmp(b1, b2, (size_t)OC * 4) == 0);
        for (int run = 0; run < 2; run++)
            for (int i = 0; i < 8; i++) free(res[run][i]);
        free(g1); free(g2); free(dx); free(b1); free(b2);
        free(x); free(w); free(bias); free(dout); free(lnw); free(lnb); free(mean); free(rstd); free(tmp);
        free(qkv); free(att); free(datt); free(lg); free(tg);
    }
}

/* The decoding ops of each table against the reference table's (double accumulation), on odd sizes
   and split ranges as model/infer.c's threads call them. */
static void test_decode_ops(void) {
    const int64_t Cs[] = {1, 17, 33, 64, 256}, OCs[] = {1, 33, 64, 200};
    for (int ti = 0; next_table(&ti);)
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 4; b++) {
                int64_t C = Cs[a], OC = OCs[b];
                float *x = rnd(C, 1), *W = rnd(C * OC, 1), *bias = rnd(OC, 1), *o = rnd(OC, 1), *r = rnd(OC, 1);
                int64_t half = OC / 2 / 32 * 32; /* split point: bf16 needs a multiple of 32 */
                int split = has(LMS_BACKEND_SPLIT_DECODE); /* else one call over the whole range, as infer.c does */
                if (!split) half = OC;
                F->dec_gemv_in_out(ON(o), ON(x), ON(W), ON(bias), C, OC, 0, half); back();
                if (split) F->dec_gemv_in_out(ON(o), ON(x), ON(W), ON(bias), C, OC, half, OC), back();
                R->dec_gemv_in_out(r, x, W, bias, C, OC, 0, OC);
                CHECKF(close_sum("gemv in_out", o, r, OC, RSUM), "C=%lld OC=%lld", (long long)C, (long long)OC);
                F->dec_gemv_in_out(ON(o), ON(x), ON(W), ON(NULL), C, OC, 0, OC); back();
                R->dec_gemv_in_out(r, x, W, NULL, C, OC, 0, OC);
                CHECKF(close_sum("gemv in_out nobias", o, r, OC, RSUM), "C=%lld OC=%lld", (long long)C, (long long)OC);
                float *W2 = rnd(OC * C, 1);
                F->dec_gemv_out_in(ON(o), ON(x), ON(W2), C, 0, split ? OC / 3 : OC); back();
                if (split) F->dec_gemv_out_in(ON(o), ON(x), ON(W2), C, OC / 3, OC), back();
                R->dec_gemv_out_in(r, x, W2, C, 0, OC);
                CHECKF(close_sum("gemv out_in", o, r, OC, RSUM), "C=%lld OC=%lld", (long long)C, (long long)OC);
                /* bf16 weights: widened exactly, so the reference is the double product with the
                   rounded weights, and the same fp32-summation tolerance applies */
                uint16_t *Wb = tmalloc((size_t)(C * lms_bf16_row(OC) + OC * lms_bf16_row(C)) * sizeof(uint16_t));
                uint16_t *Wb2 = Wb + C * lms_bf16_row(OC);
                lms_bf16_pack(Wb, W, C, OC);
                for (int64_t i = 0; i < C; i++) /* the packed layout holds the rounded values */
                    for (int64_t j = 0; j < OC; j++)
                        if (lms_bf16_packed_at(Wb + i * lms_bf16_row(OC), j) != lms_bf16_to_f32(lms_bf16_from_f32(W[i * OC + j])))
                            { CHECKF(0, "packed value (%lld,%lld)", (long long)i, (long long)j); i = C; break; }
                int bfd = has(LMS_BACKEND_BF16_DECODE); /* optional: the F checks run only where declared, */
                CHECKF(bfd || ti >= NHOST, "%s: a CPU table without bf16 decoding", F->name); /* every CPU table does */
                if (bfd) F->dec_gemv_in_out_bf16(ON(o), ON(x), ON(Wb), ON(bias), C, OC, 0, half), back();
                if (bfd && split) F->dec_gemv_in_out_bf16(ON(o), ON(x), ON(Wb), ON(bias), C, OC, half, OC), back();
                for (int64_t j = 0; j < OC; j++) {
                    double sum = bias[j];
                    for (int64_t i = 0; i < C; i++) sum += (double)x[i] * lms_bf16_to_f32(lms_bf16_from_f32(W[i * OC + j]));
                    r[j] = (float)sum;
                }
                CHECKF(!bfd || close_sum("gemv in_out bf16", o, r, OC, RSUM), "C=%lld OC=%lld", (long long)C, (long long)OC);
                R->dec_gemv_in_out_bf16(o, x, Wb, bias, C, OC, 0, OC); /* the reference's own, too */
                CHECKF(close_sum("ref gemv in_out bf16", o, r, OC, 1e-7), "C=%lld OC=%lld", (long long)C, (long long)OC);
                lms_bf16_pack(Wb2, W2, OC, C);
                if (bfd) F->dec_gemv_out_in_bf16(ON(o), ON(x), ON(Wb2), C, 0, OC), back();
                for (int64_t j = 0; j < OC; j++) {
                    double sum = 0;
                    for (int64_t i = 0; i < C; i++) sum += (double)x[i] * lms_bf16_to_f32(lms_bf16_from_f32(W2[j * C + i]));
                    r[j] = (float)sum;
                }
                CHECKF(!bfd || close_sum("gemv out_in bf16", o, r, OC, RSUM), "C=%lld OC=%lld", (long long)C, (long long)OC);
                R->dec_gemv_out_in_bf16(o, x, Wb2, C, 0, OC);
                CHECKF(close_sum("ref gemv out_in bf16", o, r, OC, 1e-7), "C=%lld OC=%lld", (long long)C, (long long)OC);
                free(Wb);
                free(x); free(W); free(bias); free(o); free(r); free(W2);
            }
    CHECK(lms_bf16_from_f32(1.0f) == 0x3F80 && lms_bf16_to_f32(0x3F80) == 1.0f);
    CHECK(lms_bf16_from_f32(1.00390625f) == 0x3F80);  /* halfway: ties to even */
    CHECK(lms_bf16_from_f32(1.01171875f) == 0x3F82);  /* halfway: ties to even (up) */

    const int64_t ns[] = {1, 2, 7, 65}, hss[] = {1, 17, 64};
    for (int ti = 0; next_table(&ti);)
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 3; b++) {
                int64_t n = ns[a], hs = hss[b], ld = 3 * hs + 5; /* cache rows wider than a head */
                float *q = rnd(hs, 2), *kc = rnd(n * ld, 2), *vc = rnd(n * ld, 1);
                float *y1 = rnd(hs, 9), *y2 = rnd(hs, 9), *a1 = rnd(n, 9), *a2 = rnd(n, 9);
                F->dec_attention(ON(y1), ON(a1), ON(q), ON(kc), ON(vc), n, hs, ld); back();
                R->dec_attention(y2, a2, q, kc, vc, n, hs, ld);
                CHECKF(close_sum("dec att probs", a1, a2, n, RSUM), "n=%lld hs=%lld", (long long)n, (long long)hs);
                CHECKF(close_sum("dec att out", y1, y2, hs, RSUM), "n=%lld hs=%lld", (long long)n, (long long)hs);
                double ps = 0;
                for (int64_t u = 0; u < n; u++) ps += a2[u];
                CHECK(fabs(ps - 1.0) < 1e-6);
                free(q); free(kc); free(vc); free(y1); free(y2); free(a1); free(a2);
            }
    for (int ti = 0; next_table(&ti);)
        for (int a = 0; a < 4; a++) {
            int64_t C = CS[a], n = 3;
            float *x = rnd(n * C, 3), *w = rnd(C, 1.5f), *bb = rnd(C, 0.5f), *o1 = rnd(n * C, 1), *o2 = rnd(n * C, 1);
            float *st1 = rnd(6, 1), *st2 = rnd(6, 1);
            F->dec_layernorm(ON(o1), ON(st1), ON(st1 + 3), ON(x), ON(w), ON(bb), n, C); back();
            R->dec_layernorm(o2, st2, st2 + 3, x, w, bb, n, C);
            CHECKF(close_elem("dec ln", o1, o2, n * C, 20 * RELEM), "C=%lld", (long long)C);
            F->dec_gelu(ON(o1), ON(x), n * C); back();
            R->dec_gelu(o2, x, n * C);
            CHECKF(close_elem("dec gelu", o1, o2, n * C, RELEM), "C=%lld", (long long)C);
            F->dec_add(ON(o1), ON(x), ON(w), C); back();
            R->dec_add(o2, x, w, C);
            CHECK(memcmp(o1, o2, (size_t)C * sizeof(float)) == 0);
            free(x); free(w); free(bb); free(o1); free(o2); free(st1); free(st2);
        }
}

/* The memory fields of every backend, seen only through its copies: aligned zeroed blocks, the
   three copies, memset, sync (a round trip host -> buffer -> buffer -> host). */
static void test_memory(void) {
    setup();
    for (int i = 0; i < NT; i++) {
        const lms_ops *K = TABLES[i];
        lms_err err = {0};
        size_t n = 1003;
        unsigned char *a = K->buf_alloc(n, &err), *b = K->buf_alloc(n, &err), *h = malloc(n), *h2 = malloc(n);
        CHECKF(a && b, "%s: %s", K->name, err.msg);
        if (!a || !b) { free(h); free(h2); continue; }
        CHECK(((uintptr_t)a & 63) == 0 && ((uintptr_t)b & 63) == 0);
        K->copy_d2h(h2, a, n);
        int zero = 1;
        for (size_t k = 0; k < n; k++) zero &= h2[k] == 0;
        CHECKF(zero, "%s: buf_alloc did not zero", K->name);
        for (size_t k = 0; k < n; k++) h[k] = (unsigned char)(k * 7 + 1);
        K->copy_h2d(a, h, n);
        K->copy_d2d(b, a, n);
        K->buf_memset(a, 0x5A, 17);
        K->sync();
        K->copy_d2h(h2, b, n);
        CHECKF(memcmp(h, h2, n) == 0, "%s: h2d + d2d + d2h round trip", K->name);
        K->copy_d2h(h2, a, n);
        int set = 1;
        for (size_t k = 0; k < 17; k++) set &= h2[k] == 0x5A;
        CHECK(set && memcmp(h + 17, h2 + 17, n - 17) == 0);
        K->copy_h2d(a, h, 0); /* zero bytes: nothing, no fault */
        /* the host views: a copy for device memory, the buffer itself on host memory */
        lms_backend be;
        CHECK(lms_backend_init(&be, K, 0, &err) == LMS_OK);
        void *tmp = NULL;
        const unsigned char *v = lms_backend_read_view(&be, b, n, &tmp, &err);
        CHECK(v && memcmp(v, h, n) == 0 && (v == b) == lms_backend_has(&be, LMS_BACKEND_HOST_MEMORY) && (tmp == NULL) == lms_backend_has(&be, LMS_BACKEND_HOST_MEMORY));
        lms_free(tmp);
        unsigned char *w = lms_backend_write_view(&be, b, n, &tmp, &err);
        CHECK(w && (w == b) == lms_backend_has(&be, LMS_BACKEND_HOST_MEMORY));
        if (w) memset(w, 0x33, n);
        lms_backend_write_done(&be, b, tmp, n);
        K->copy_d2h(h2, b, n);
        CHECK(h2[0] == 0x33 && h2[n - 1] == 0x33);
        CHECK(lms_backend_transfer(&be, a, &be, b, n, &err) == LMS_OK);
        K->copy_d2h(h2, a, n);
        CHECK(h2[0] == 0x33 && h2[n - 1] == 0x33);
        K->buf_free(a);
        K->buf_free(b);
        K->buf_free(NULL);
        free(h); free(h2);
    }
}

/* global_norm and scale: the same bits in every table and for 1 and 2 threads (the chunking is
   fixed), and the norm within fp32 rounding of a plain double sum. */
static void test_global_norm(void) {
    setup();
    const int64_t ns[] = {0, 1, 4095, 4097, 100003, (int64_t)4096 * 1024 + 12345};
    for (int a = 0; a < 6; a++) {
        int64_t n = ns[a];
        float *g = rnd(n, 0.01f);
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += (double)g[i] * g[i];
        float want = R->global_norm(g, n);
        CHECK_NEAR(want, sqrt(s), 1e-6 * sqrt(s));
        for (int i = 1; i < NT; i++)
            for (int thr = 1; thr <= 2; thr++) {
                lms_cpu_set_threads(thr);
                F = TABLES[i];
                float got = F->global_norm(ON(g), n);
                back();
                CHECKF(memcmp(&got, &want, sizeof got) == 0, "%s n=%lld threads=%d: %.9g vs %.9g", TABLES[i]->name,
                       (long long)n, thr, got, want);
                float *g1 = dup(g, n), *g2 = dup(g, n);
                F->scale(ON(g1), 0.37f, n); back();
                R->scale(g2, 0.37f, n);
                CHECK(memcmp(g1, g2, (size_t)n * sizeof(float)) == 0);
                free(g1); free(g2);
            }
        lms_cpu_set_threads(2);
        free(g);
    }
}

TESTS(test_tables, test_layernorm, test_matmul, test_attention, test_gelu_residual, test_encoder, test_xent,
      test_lmhead_xent,
      test_adamw, test_determinism, test_decode_ops, test_memory, test_global_norm, test_capabilities, test_cuda_backend)
