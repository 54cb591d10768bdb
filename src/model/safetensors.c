/* safetensors.c — the safetensors reader (validate everything, then read in place from a memory
 * map) and writer (JSON header padded to 8 bytes, tensors in order, crash-safe). See
 * safetensors.h for the layout and the checks.
 *
 * Leaves out: dtypes other than F32/F16/BF16, big-endian hosts, streaming writes of tensors that
 * are not in memory.
 */
#include "model/safetensors.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host (the format is little-endian)"
#endif

/* ------------------------------------------------------------------ dtypes and conversions */

const char *lms_st_dtype_name(lms_st_dtype dt) {
    switch (dt) {
    case LMS_ST_F32: return "F32";
    case LMS_ST_F16: return "F16";
    case LMS_ST_BF16: return "BF16";
    }
    return "?";
}

size_t lms_st_dtype_size(lms_st_dtype dt) { return dt == LMS_ST_F32 ? 4 : 2; }

static float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint32_t f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float lms_st_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in F32 */
        float v = ldexpf((float)mant, -24);
        return sign ? -v : v;
    }
    if (exp == 31) return bits_to_f32(sign | 0x7f800000u | (mant << 13)); /* inf / NaN (payload kept) */
    return bits_to_f32(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

float lms_st_bf16_to_f32(uint16_t b) { return bits_to_f32((uint32_t)b << 16); }

uint16_t lms_st_f32_to_f16(float f) {
    uint32_t x = f32_to_bits(f), sign = (x >> 16) & 0x8000, ax = x & 0x7fffffff;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00 : 0x7c00));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* >= 65520 rounds to infinity */
    if (ax < 0x38800000u) {                                   /* below 2^-14: subnormal or zero */
        float r = nearbyintf(bits_to_f32(ax) * 16777216.0f);  /* exact scaling, nearest-even */
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t mant = ax & 0x7fffff, h = ((((ax >> 23) - 127 + 15)) << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++; /* a carry into the exponent is right */
    return (uint16_t)(sign | h);
}

uint16_t lms_st_f32_to_bf16(float f) {
    uint32_t x = f32_to_bits(f);
    if ((x & 0x7fffffff) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    return (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

void lms_st_convert_to_f32(lms_st_dtype dt, const void *src, float *dst, size_t n) {
    const unsigned char *s = src;
    if (dt == LMS_ST_F32) {
        memcpy(dst, s, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, 2);
        dst[i] = dt == LMS_ST_F16 ? lms_st_f16_to_f32(h) : lms_st_bf16_to_f32(h);
    }
}

void lms_st_read_f32(const lms_st_tensor *t, float *dst) {
    lms_st_convert_to_f32(t->dtype, t->data, dst, (size_t)t->numel);
}

/* ------------------------------------------------------------------ reader */

struct lms_st_reader {
    lms_mmap map; /* map.data == NULL when reading from memory */
    const unsigned char *base;
    size_t len;
    uint64_t hlen;
    json_t *root; /* owns the tensor names and metadata strings */
    lms_st_tensor *t;
    int n;
    const char **mkey, **mval;
    int nmeta;
};

static int dtype_from_name(const char *s, lms_st_dtype *dt) {
    if (!strcmp(s, "F32")) *dt = LMS_ST_F32;
    else if (!strcmp(s, "F16")) *dt = LMS_ST_F16;
    else if (!strcmp(s, "BF16")) *dt = LMS_ST_BF16;
    else return 0;
    return 1;
}

static int is_known_other_dtype(const char *s) {
    static const char *other[] = {"F64", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8",
                                  "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2",
                                  "F4", "C64", "C128"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (!strcmp(s, other[i])) return 1;
    return 0;
}

/* A JSON integer that is >= 0, as uint64; 0 if it is not one. */
static int json_u64(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v)) return 0;
    json_int_t x = json_integer_value(v);
    if (x < 0) return 0;
    *out = (uint64_t)x;
    return 1;
}

static lms_status parse_tensor(lms_st_tensor *t, const char *name, const json_t *e, uint64_t dlen,
                               const char *what, lms_err *err) {
    t->name = name;
    if (!json_is_object(e))
        return lms_errf(err, LMS_ERR_FORMAT, "%s: the header entry for tensor '%.200s' is not a JSON object", what, name);
    const json_t *jd = json_object_get(e, "dtype"), *js = json_object_get(e, "shape"),
                 *jo = json_object_get(e, "data_offsets");
    if (!json_is_string(jd) || !json_is_array(js) || !json_is_array(jo))
        return lms_errf(err, LMS_ERR_FORMAT,
                        "%s: tensor '%.200s' needs \"dtype\" (a string), \"shape\" (an array) and "
                        "\"data_offsets\" (an array); the file is not valid safetensors", what, name);
    const char *ds = json_string_value(jd);
    if (!dtype_from_name(ds, &t->dtype)) {
        if (is_known_other_dtype(ds))
            return lms_errf(err, LMS_ERR_UNSUPPORTED,
                            "%s: tensor '%.200s' has dtype %.32s, which lmscope does not read (it reads F32, "
                            "F16 and BF16); convert the weights to float32 first, e.g. in Python with "
                            "safetensors.torch.save_file({k: v.float() for k, v in tensors.items()}, path)",
                            what, name, ds);
        return lms_errf(err, LMS_ERR_FORMAT, "%s: tensor '%.200s' has unknown dtype '%.32s' (expected F32, F16 or BF16)",
                        what, name, ds);
    }
    size_t nd = json_array_size(js);
    if (nd > LMS_ST_MAX_DIMS)
        return lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: tensor '%.200s' has %zu dimensions; lmscope reads at most %d",
                        what, name, nd, LMS_ST_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (!json_u64(json_array_get(js, i), &d))
            return lms_errf(err, LMS_ERR_FORMAT, "%s: tensor '%.200s': shape entry %zu is not a non-negative integer",
                            what, name, i);
        if (__builtin_mul_overflow(numel, d, &numel) || numel > (uint64_t)INT64_MAX)
            return lms_errf(err, LMS_ERR_FORMAT, "%s: tensor '%.200s': the shape's element count overflows", what, name);
        t->shape[i] = (int64_t)d;
    }
    for (int i = t->ndim; i < LMS_ST_MAX_DIMS; i++) t->shape[i] = 0;
    t->numel = (int64_t)numel;
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)lms_st_dtype_size(t->dtype), &nbytes))
        return lms_errf(err, LMS_ERR_FORMAT, "%s: tensor '%.200s': the byte size overflows", what, name);
    if (json_array_size(jo) != 2 || !json_u64(json_array_get(jo, 0), &t->begin) ||
        !json_u64(json_array_get(jo, 1), &t->end))
        return lms_errf(err, LMS_ERR_FORMAT, "%s: tensor '%.200s': data_offsets must be [begin, end], two non-negative integers",
                        what, name);
    if (t->begin > t->end)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: tensor '%.200s': data_offsets [%llu, %llu] end before they begin",
                        what, name, (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > dlen)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "%s: tensor '%.200s': data_offsets [%llu, %llu] run past the end of the data section "
                        "(%llu bytes); the file is truncated or corrupt",
                        what, name, (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)dlen);
    if (t->end - t->begin != nbytes)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "%s: tensor '%.200s': shape and dtype %s need %llu bytes but data_offsets [%llu, %llu] "
                        "hold %llu", what, name, lms_st_dtype_name(t->dtype), (unsigned long long)nbytes,
                        (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)(t->end - t->begin));
    t->nbytes = (size_t)nbytes;
    return LMS_OK;
}

static int cmp_offsets(const void *a, const void *b) {
    const lms_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static lms_status parse(lms_st_reader *r, const char *what, lms_err *err) {
    if (r->len < 8)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: only %zu bytes, too short for a safetensors file (8-byte header length + JSON header)",
                        what, r->len);
    uint64_t n;
    memcpy(&n, r->base, 8);
    if (n > r->len - 8)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "%s: the header length (%llu bytes) runs past the end of the file (%zu bytes); "
                        "the file is truncated or not safetensors", what, (unsigned long long)n, r->len);
    if (n > LMS_ST_MAX_HEADER)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: the header length (%llu bytes) exceeds the 100 MB limit; not a safetensors file?",
                        what, (unsigned long long)n);
    if (n < 2 || r->base[8] != '{')
        return lms_errf(err, LMS_ERR_FORMAT, "%s: the header does not start with a JSON object '{'; not a safetensors file", what);
    r->hlen = n;
    json_error_t je;
    r->root = json_loadb((const char *)r->base + 8, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    if (!r->root)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: the header is not valid JSON (byte %d: %.200s)", what,
                        (int)je.position, je.text);
    if (!json_is_object(r->root))
        return lms_errf(err, LMS_ERR_FORMAT, "%s: the header is not a JSON object", what);
    uint64_t dlen = r->len - 8 - n;
    size_t cap = json_object_size(r->root);
    r->t = calloc(cap ? cap : 1, sizeof *r->t);
    if (!r->t) return lms_errf(err, LMS_ERR_NOMEM, "%s: out of memory for %zu tensor entries", what, cap);
    const char *key;
    json_t *val;
    json_object_foreach(r->root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val))
                return lms_errf(err, LMS_ERR_FORMAT, "%s: \"__metadata__\" is not a JSON object", what);
            size_t nm = json_object_size(val);
            r->mkey = calloc(nm ? nm : 1, sizeof *r->mkey);
            r->mval = calloc(nm ? nm : 1, sizeof *r->mval);
            if (!r->mkey || !r->mval) return lms_errf(err, LMS_ERR_NOMEM, "%s: out of memory", what);
            const char *mk;
            json_t *mv;
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv))
                    return lms_errf(err, LMS_ERR_FORMAT,
                                    "%s: metadata entry '%.200s' is not a string (the format allows strings only)", what, mk);
                r->mkey[r->nmeta] = mk;
                r->mval[r->nmeta++] = json_string_value(mv);
            }
            continue;
        }
        lms_st_tensor *t = &r->t[r->n];
        lms_status s = parse_tensor(t, key, val, dlen, what, err);
        if (s) return s;
        t->data = r->base + 8 + n + t->begin;
        r->n++;
    }
    qsort(r->t, (size_t)r->n, sizeof *r->t, cmp_offsets);
    const lms_st_tensor *last = NULL; /* the non-empty tensor reaching furthest so far */
    for (int i = 0; i < r->n; i++) {
        const lms_st_tensor *t = &r->t[i];
        if (t->nbytes == 0) continue;
        if (last && t->begin < last->end)
            return lms_errf(err, LMS_ERR_FORMAT,
                            "%s: tensors '%.200s' [%llu, %llu] and '%.200s' [%llu, %llu] overlap in the data section; "
                            "the file is corrupt", what, last->name, (unsigned long long)last->begin,
                            (unsigned long long)last->end, t->name, (unsigned long long)t->begin,
                            (unsigned long long)t->end);
        if (!last || t->end > last->end) last = t;
    }
    return LMS_OK;
}

static lms_status open_common(lms_st_reader **out, lms_st_reader *r, const char *what, lms_err *err) {
    lms_status s = parse(r, what, err);
    if (s) {
        lms_st_close(r);
        return s;
    }
    *out = r;
    return LMS_OK;
}

lms_status lms_st_open_memory(lms_st_reader **out, const void *data, size_t len, const char *what,
                              lms_err *err) {
    *out = NULL;
    lms_st_reader *r = calloc(1, sizeof *r);
    if (!r) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    r->base = data;
    r->len = len;
    return open_common(out, r, what ? what : "safetensors buffer", err);
}

lms_status lms_st_open(lms_st_reader **out, const char *path, lms_err *err) {
    *out = NULL;
    lms_st_reader *r = calloc(1, sizeof *r);
    if (!r) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    lms_status s = lms_mmap_open(&r->map, path, err);
    if (s) {
        free(r);
        return s;
    }
    r->base = r->map.data;
    r->len = r->map.len;
    return open_common(out, r, path, err);
}

void lms_st_close(lms_st_reader *r) {
    if (!r) return;
    if (r->map.data) lms_mmap_close(&r->map);
    if (r->root) json_decref(r->root);
    free(r->t);
    free(r->mkey);
    free(r->mval);
    free(r);
}

int lms_st_count(const lms_st_reader *r) { return r->n; }

const lms_st_tensor *lms_st_get(const lms_st_reader *r, int i) {
    LMS_ASSERT(i >= 0 && i < r->n);
    return &r->t[i];
}

const lms_st_tensor *lms_st_find(const lms_st_reader *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->t[i].name, name)) return &r->t[i];
    return NULL;
}

const char *lms_st_metadata(const lms_st_reader *r, const char *key) {
    for (int i = 0; i < r->nmeta; i++)
        if (!strcmp(r->mkey[i], key)) return r->mval[i];
    return NULL;
}

int lms_st_metadata_count(const lms_st_reader *r) { return r->nmeta; }

void lms_st_metadata_at(const lms_st_reader *r, int i, const char **key, const char **value) {
    LMS_ASSERT(i >= 0 && i < r->nmeta);
    *key = r->mkey[i];
    *value = r->mval[i];
}

size_t lms_st_file_size(const lms_st_reader *r) { return r->len; }
uint64_t lms_st_header_size(const lms_st_reader *r) { return r->hlen; }

/* ------------------------------------------------------------------ writer */

typedef struct {
    char *name;
    lms_st_dtype dt;
    int ndim;
    int64_t shape[LMS_ST_MAX_DIMS];
    const void *data;
    size_t nbytes;
} wtensor;

struct lms_st_writer {
    wtensor *t;
    int n, cap;
    char **mkey, **mval;
    int nmeta, mcap;
};

lms_status lms_st_writer_create(lms_st_writer **out, lms_err *err) {
    *out = calloc(1, sizeof **out);
    return *out ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
}

void lms_st_writer_free(lms_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->t[i].name);
    for (int i = 0; i < w->nmeta; i++) {
        free(w->mkey[i]);
        free(w->mval[i]);
    }
    free(w->t);
    free(w->mkey);
    free(w->mval);
    free(w);
}

lms_status lms_st_writer_add(lms_st_writer *w, const char *name, lms_st_dtype dt, int ndim,
                             const int64_t *shape, const void *data, lms_err *err) {
    size_t nl = strlen(name);
    if (nl == 0 || nl >= 1024 || !strcmp(name, "__metadata__"))
        return lms_errf(err, LMS_ERR_ARG, "tensor name '%.200s' is empty, too long or reserved", name);
    if (ndim < 0 || ndim > LMS_ST_MAX_DIMS)
        return lms_errf(err, LMS_ERR_ARG, "tensor '%.200s': ndim %d outside 0..%d", name, ndim, LMS_ST_MAX_DIMS);
    if (dt != LMS_ST_F32 && dt != LMS_ST_F16 && dt != LMS_ST_BF16)
        return lms_errf(err, LMS_ERR_ARG, "tensor '%.200s': unknown dtype %d", name, (int)dt);
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name)) return lms_errf(err, LMS_ERR_ARG, "tensor '%.200s' added twice", name);
    uint64_t nbytes = lms_st_dtype_size(dt);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return lms_errf(err, LMS_ERR_ARG, "tensor '%.200s': negative dimension", name);
        if (__builtin_mul_overflow(nbytes, (uint64_t)shape[i], &nbytes) || nbytes > (uint64_t)INT64_MAX)
            return lms_errf(err, LMS_ERR_ARG, "tensor '%.200s': size overflows", name);
    }
    if (nbytes && !data) return lms_errf(err, LMS_ERR_ARG, "tensor '%.200s': no data", name);
    if (w->n == w->cap) {
        int nc = w->cap ? 2 * w->cap : 16;
        wtensor *nt = realloc(w->t, (size_t)nc * sizeof *nt);
        if (!nt) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        w->t = nt;
        w->cap = nc;
    }
    wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    t->dt = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->data = data;
    t->nbytes = (size_t)nbytes;
    w->n++;
    return LMS_OK;
}

lms_status lms_st_writer_set_metadata(lms_st_writer *w, const char *key, const char *value,
                                      lms_err *err) {
    for (int i = 0; i < w->nmeta; i++) {
        if (strcmp(w->mkey[i], key)) continue;
        char *v = strdup(value);
        if (!v) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        free(w->mval[i]);
        w->mval[i] = v;
        return LMS_OK;
    }
    if (w->nmeta == w->mcap) {
        int nc = w->mcap ? 2 * w->mcap : 8;
        char **nk = realloc(w->mkey, (size_t)nc * sizeof *nk);
        if (!nk) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        w->mkey = nk;
        char **nv = realloc(w->mval, (size_t)nc * sizeof *nv);
        if (!nv) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        w->mval = nv;
        w->mcap = nc;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    w->mkey[w->nmeta] = k;
    w->mval[w->nmeta++] = v;
    return LMS_OK;
}

/* The JSON header (unpadded), malloc'd; NULL with err filled on failure. */
static char *build_header(const lms_st_writer *w, lms_err *err) {
    json_t *root = json_object();
    if (!root) return lms_errf(err, LMS_ERR_NOMEM, "out of memory"), NULL;
    if (w->nmeta) {
        json_t *md = json_object();
        if (!md || json_object_set_new(root, "__metadata__", md)) goto nomem;
        for (int i = 0; i < w->nmeta; i++) {
            json_t *s = json_string(w->mval[i]);
            if (!s || json_object_set_new(md, w->mkey[i], s)) {
                json_decref(root);
                lms_errf(err, LMS_ERR_ARG, "metadata '%.200s' is not valid UTF-8", w->mkey[i]);
                return NULL;
            }
        }
    }
    uint64_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const wtensor *t = &w->t[i];
        json_t *e = json_object(), *sh = json_array(), *of = json_array();
        if (!e || !sh || !of) {
            json_decref(e);
            json_decref(sh);
            json_decref(of);
            goto nomem;
        }
        json_object_set_new(e, "dtype", json_string(lms_st_dtype_name(t->dt)));
        for (int d = 0; d < t->ndim; d++) json_array_append_new(sh, json_integer(t->shape[d]));
        json_object_set_new(e, "shape", sh);
        json_array_append_new(of, json_integer((json_int_t)off));
        json_array_append_new(of, json_integer((json_int_t)(off + t->nbytes)));
        json_object_set_new(e, "data_offsets", of);
        if (json_object_set_new(root, t->name, e)) {
            json_decref(root);
            lms_errf(err, LMS_ERR_ARG, "tensor name '%.200s' is not valid UTF-8", t->name);
            return NULL;
        }
        off += t->nbytes;
    }
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s) lms_errf(err, LMS_ERR_NOMEM, "out of memory building the safetensors header");
    return s;
nomem:
    json_decref(root);
    lms_errf(err, LMS_ERR_NOMEM, "out of memory building the safetensors header");
    return NULL;
}

lms_status lms_st_writer_write(lms_st_writer *w, const char *path, lms_err *err) {
    char *hdr = build_header(w, err);
    if (!hdr) return err ? err->code : LMS_ERR_NOMEM;
    size_t hl = strlen(hdr), padded = (hl + 7) & ~(size_t)7;
    lms_atomic_file f;
    lms_status s = lms_atomic_open(&f, path, err);
    if (s) {
        free(hdr);
        return s;
    }
    uint64_t n = padded;
    int ok = fwrite(&n, 8, 1, f.fp) == 1 && fwrite(hdr, 1, hl, f.fp) == hl;
    for (size_t i = hl; ok && i < padded; i++) ok = fputc(' ', f.fp) != EOF;
    free(hdr);
    for (int i = 0; ok && i < w->n; i++)
        if (w->t[i].nbytes) ok = fwrite(w->t[i].data, 1, w->t[i].nbytes, f.fp) == w->t[i].nbytes;
    if (!ok) {
        lms_atomic_abort(&f);
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed (disk full?); the previous file, if any, is untouched", path);
    }
    return lms_atomic_commit(&f, err);
}
