/* backend.c — backend instances (backend.h), the check of a table's declared capabilities against
 * its pointers (kernels.h: lms_ops_check), and the host views and transfers through which host code
 * reaches buffer memory.
 *
 * Leaves out: choosing a table by CPU features (dispatch.c) or device name (device.c).
 */
#include "kernels/backend.h"

#include <stdio.h>
#include <string.h>

#include "core/mem.h"

/* a named pointer of the table, for the checks below (1: filled in) */
typedef struct {
    const char *name;
    int set;
} field;
#define F(f) {#f, ops->f != NULL}

static const char *first_unset(const field *f, int n) {
    for (int i = 0; i < n; i++)
        if (!f[i].set) return f[i].name;
    return NULL;
}

/* An optional group: all set with its flag, none set without it. */
static lms_status check_group(const lms_ops *ops, unsigned flag, const char *flag_name, const field *f, int n,
                              lms_err *err) {
    int set = 0;
    for (int i = 0; i < n; i++) set += f[i].set;
    int want = (ops->caps & flag) ? n : 0;
    if (set == want) return LMS_OK;
    const char *bad = NULL;
    for (int i = 0; i < n && !bad; i++)
        if (f[i].set != (want == n)) bad = f[i].name;
    return lms_errf(err, LMS_ERR_ARG, "kernel table '%s' %s %s but %s %s", ops->name,
                    want ? "declares" : "does not declare", flag_name, bad, want ? "is NULL" : "is set");
}

lms_status lms_ops_check(const lms_ops *ops, lms_err *err) {
    if (!ops) return lms_errf(err, LMS_ERR_ARG, "no kernel table given");
    const field req[] = {
        F(name), F(buf_alloc), F(buf_free), F(copy_h2d), F(copy_d2h), F(copy_d2d), F(buf_memset), F(sync),
        F(encoder_fwd), F(encoder_bwd), F(layernorm_fwd), F(layernorm_bwd), F(matmul_fwd), F(matmul_bwd),
        F(attention_fwd), F(attention_bwd), F(gelu_fwd), F(gelu_bwd), F(residual_fwd), F(xent_fwd_bwd),
        F(xent_fwd), F(adamw), F(global_norm), F(scale), F(dec_layernorm), F(dec_gemv_in_out),
        F(dec_gemv_out_in), F(dec_attention), F(dec_gelu), F(dec_add)};
    const char *missing = first_unset(req, (int)(sizeof req / sizeof req[0]));
    if (missing)
        return lms_errf(err, LMS_ERR_ARG, "kernel table '%s' lacks the required field %s", ops->name ? ops->name : "?",
                        missing);
    const field lmh[] = {F(lmhead_xent_fwd), F(lmhead_xent_bwd)};
    const field dbf[] = {F(dec_gemv_in_out_bf16), F(dec_gemv_out_in_bf16)};
    const field wp[] = {F(wpack_bytes), F(adamw_wpack), F(matmul_fwd_wp), F(matmul_bwd_wp)};
    lms_status s = check_group(ops, LMS_BACKEND_FUSED_LMHEAD, "LMS_BACKEND_FUSED_LMHEAD", lmh, 2, err);
    if (!s) s = check_group(ops, LMS_BACKEND_BF16_DECODE, "LMS_BACKEND_BF16_DECODE", dbf, 2, err);
    if (!s) s = check_group(ops, LMS_BACKEND_PACKED_WEIGHTS, "LMS_BACKEND_PACKED_WEIGHTS", wp, 4, err);
    return s;
}
#undef F

lms_status lms_backend_init(lms_backend *b, const lms_ops *ops, int threads, lms_err *err) {
    if (!ops) return lms_errf(err, LMS_ERR_ARG, "no kernel table given for the backend");
    if (threads < 0) return lms_errf(err, LMS_ERR_ARG, "thread count %d: use >= 1, or 0 for the process's", threads);
    lms_status s = lms_ops_check(ops, err);
    if (s) return s;
    *b = (lms_backend){.ops = ops, .name = ops->name, .threads = threads, .caps = ops->caps};
    return LMS_OK;
}

lms_status lms_backend_for_device(lms_backend *b, const char *device, const char *precision, int threads,
                                  lms_err *err) {
    int bf16 = precision && strcmp(precision, "bf16") == 0;
    if (precision && !bf16 && strcmp(precision, "fp32") != 0)
        return lms_errf(err, LMS_ERR_ARG, "unknown precision '%s': use fp32 or bf16", precision);
    const lms_ops *k = lms_ops_for_device(device, err);
    if (!k) return err ? err->code : LMS_ERR_UNSUPPORTED;
    if (bf16 && !(k->caps & LMS_BACKEND_HOST_MEMORY)) /* the flags' combination: a usage error */
        return lms_errf(err, LMS_ERR_ARG, "--precision bf16 runs on the CPU only: the %s table has no bf16 products yet; "
                        "use --precision fp32 on --device %s", k->name, device);
    if (bf16 && !(k = lms_ops_bf16())) return lms_errf(err, LMS_ERR_UNSUPPORTED, "%s", lms_ops_bf16_unavailable());
    return lms_backend_init(b, k, threads, err);
}

lms_status lms_backend_check_ranks(const char *device, int ranks, lms_err *err) {
    if (ranks <= 1 || !device || !device[0] || !strcmp(device, "cpu")) return LMS_OK;
    return lms_errf(err, LMS_ERR_ARG,
                    "--device %s under mpirun is not supported: data-parallel training exchanges gradients in host memory "
                    "(NCCL is not written yet); run on one GPU without mpirun, or over MPI ranks with --device cpu",
                    device);
}

const char *lms_backend_caps_str(unsigned caps, char *buf, size_t cap) {
    static const char *names[] = {"host-memory", "split-decode", "fused-lmhead", "bf16-decode", "packed-weights"};
    size_t at = 0;
    if (cap) buf[0] = 0;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & (1u << i)) {
            if (at >= cap) break; /* full: buf holds what fit (buf + at would point past it) */
            int n = snprintf(buf + at, cap - at, "%s%s", at ? " " : "", names[i]);
            if (n > 0) at += (size_t)n;
        }
    return buf;
}

const void *lms_backend_read_view(const lms_backend *b, const void *buf, size_t bytes, void **tmp, lms_err *err) {
    *tmp = NULL;
    if (lms_backend_has(b, LMS_BACKEND_HOST_MEMORY)) return buf;
    if (!(*tmp = lms_alloc(bytes ? bytes : 1, err))) return NULL;
    b->ops->copy_d2h(*tmp, buf, bytes);
    return *tmp;
}

void *lms_backend_write_view(const lms_backend *b, void *buf, size_t bytes, void **tmp, lms_err *err) {
    *tmp = NULL;
    if (lms_backend_has(b, LMS_BACKEND_HOST_MEMORY)) return buf;
    return *tmp = lms_alloc(bytes ? bytes : 1, err);
}

void lms_backend_write_done(const lms_backend *b, void *buf, void *tmp, size_t bytes) {
    if (!tmp) return;
    b->ops->copy_h2d(buf, tmp, bytes);
    b->ops->sync();
    lms_free(tmp);
}

lms_status lms_backend_transfer(const lms_backend *to, void *dst, const lms_backend *from, const void *src,
                                size_t bytes, lms_err *err) {
    int to_host = lms_backend_has(to, LMS_BACKEND_HOST_MEMORY), from_host = lms_backend_has(from, LMS_BACKEND_HOST_MEMORY);
    if (from_host) { /* src is host memory: one copy in (a memcpy between host tables) */
        to->ops->copy_h2d(dst, src, bytes);
        to->ops->sync();
        return LMS_OK;
    }
    if (to_host) {
        from->ops->copy_d2h(dst, src, bytes);
        return LMS_OK;
    }
    size_t chunk = bytes < ((size_t)64 << 20) ? bytes : ((size_t)64 << 20); /* device to device, through the host */
    void *h = lms_alloc(chunk ? chunk : 1, err);
    if (!h) return err ? lms_err_prefix(err, "staging weights between backends: ") : LMS_ERR_NOMEM;
    for (size_t at = 0; at < bytes; at += chunk) {
        size_t n = bytes - at < chunk ? bytes - at : chunk;
        from->ops->copy_d2h(h, (const char *)src + at, n);
        to->ops->copy_h2d((char *)dst + at, h, n);
        to->ops->sync();
    }
    lms_free(h);
    return LMS_OK;
}
