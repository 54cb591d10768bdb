/* test_safetensors.c — the generic safetensors reader and writer: round trips of every dtype and
 * shape kind, exact F16/BF16 conversions, the Hugging Face layout written by hand, and bad input
 * (truncation at every cut point, header length past the end, bad JSON, unknown dtypes,
 * shape/offset mismatches, overlaps, ...) that must fail with a message and never crash.
 * Leaves out: the GPT-2 mapping (test_checkpoint.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "core/fileio.h"
#include "harness.h"
#include "model/safetensors.h"

#define TH_TMP_PREFIX "lms_test_st"
#include "tmpfiles.h"

/* A file of 8-byte length + header + data_len bytes (0, 1, 2, ...) in a malloc'd buffer. */
static unsigned char *make_file(const char *header, size_t data_len, size_t *len) {
    size_t hl = strlen(header);
    *len = 8 + hl + data_len;
    unsigned char *b = malloc(*len);
    uint64_t n = hl;
    memcpy(b, &n, 8);
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < data_len; i++) b[8 + hl + i] = (unsigned char)i;
    return b;
}

/* Opening must fail with `code` (0: any error) and a message containing `needle` (NULL: any). */
static int fails_with(const char *header, size_t data_len, lms_status code, const char *needle) {
    size_t len;
    unsigned char *b = make_file(header, data_len, &len);
    lms_st_reader *r = (lms_st_reader *)1;
    lms_err err = {0};
    lms_status s = lms_st_open_memory(&r, b, len, "test", &err);
    int ok = s != LMS_OK && r == NULL && err.msg[0] && (code == 0 || s == code) && (!needle || strstr(err.msg, needle));
    if (!ok) fprintf(stderr, "    header %s -> status %d, msg '%s'\n", header, (int)s, err.msg);
    if (s == LMS_OK) lms_st_close(r);
    free(b);
    return ok;
}

/* Opening succeeds. */
static int opens(const char *header, size_t data_len) {
    size_t len;
    unsigned char *b = make_file(header, data_len, &len);
    lms_st_reader *r;
    lms_err err = {0};
    lms_status s = lms_st_open_memory(&r, b, len, "test", &err);
    if (s) fprintf(stderr, "    header %s -> %s\n", header, err.msg);
    else lms_st_close(r);
    free(b);
    return s == LMS_OK;
}

static void test_roundtrip(void) {
    float a[6] = {1.5f, -2.25f, 3e-8f, 1e30f, -0.0f, 7.0f};
    uint16_t h[4] = {lms_st_f32_to_f16(1.0f), lms_st_f32_to_f16(-0.5f), lms_st_f32_to_f16(65504.0f), 0x0001};
    uint16_t bf[4] = {lms_st_f32_to_bf16(1.0f), lms_st_f32_to_bf16(-3.0f), lms_st_f32_to_bf16(1e-30f), lms_st_f32_to_bf16(3e38f)};
    float scalar = 42.0f;
    int64_t sa[2] = {2, 3}, sh[1] = {4}, sb[2] = {2, 2}, se[2] = {0, 5};
    lms_st_writer *w;
    lms_err err = {0};
    CHECK(lms_st_writer_create(&w, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "a", LMS_ST_F32, 2, sa, a, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "half", LMS_ST_F16, 1, sh, h, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "bf", LMS_ST_BF16, 2, sb, bf, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "scalar", LMS_ST_F32, 0, NULL, &scalar, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "empty", LMS_ST_F32, 2, se, NULL, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "x\xc3\xa9.\"quoted\"", LMS_ST_F32, 1, sh, a, &err) == LMS_OK); /* UTF-8, quotes */
    CHECK(lms_st_writer_set_metadata(w, "format", "pt", &err) == LMS_OK);
    CHECK(lms_st_writer_set_metadata(w, "note", "first", &err) == LMS_OK);
    CHECK(lms_st_writer_set_metadata(w, "note", "second \"with\" quotes", &err) == LMS_OK); /* replaces */
    const char *path = tmp_path("rt.safetensors");
    CHECKF(lms_st_writer_write(w, path, &err) == LMS_OK, "%s", err.msg);
    lms_st_writer_free(w);
    CHECK(count_temporaries(tmpdir) == 0);

    lms_st_reader *r;
    CHECKF(lms_st_open(&r, path, &err) == LMS_OK, "%s", err.msg);
    if (!r) return;
    CHECK(lms_st_count(r) == 6);
    CHECK((8 + lms_st_header_size(r)) % 8 == 0); /* data section 8-aligned */
    const char *order[6] = {"a", "half", "bf", "scalar", "empty", "x\xc3\xa9.\"quoted\""};
    /* file order = add order; the empty tensor sorts where its offset puts it */
    const lms_st_tensor *t = lms_st_find(r, "a");
    CHECK(t && t->dtype == LMS_ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6);
    CHECK(t && t->nbytes == 24 && memcmp(t->data, a, 24) == 0 && t->begin == 0);
    t = lms_st_find(r, "half");
    CHECK(t && t->dtype == LMS_ST_F16 && t->numel == 4 && memcmp(t->data, h, 8) == 0);
    float f[6];
    if (t) {
        lms_st_read_f32(t, f);
        CHECK(f[0] == 1.0f && f[1] == -0.5f && f[2] == 65504.0f && f[3] == 5.9604644775390625e-8f);
    }
    t = lms_st_find(r, "bf");
    CHECK(t && t->dtype == LMS_ST_BF16 && t->numel == 4 && memcmp(t->data, bf, 8) == 0);
    if (t) {
        lms_st_read_f32(t, f);
        CHECK(f[0] == 1.0f && f[1] == -3.0f);
        CHECK_NEAR(f[2], 1e-30, 1e-32);
    }
    t = lms_st_find(r, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1 && memcmp(t->data, &scalar, 4) == 0);
    t = lms_st_find(r, "empty");
    CHECK(t && t->ndim == 2 && t->numel == 0 && t->nbytes == 0);
    CHECK(lms_st_find(r, "missing") == NULL);
    for (int i = 0; i < 6; i++) CHECK(lms_st_find(r, order[i]) != NULL);
    for (int i = 1; i < lms_st_count(r); i++) CHECK(lms_st_get(r, i)->begin >= lms_st_get(r, i - 1)->begin);
    CHECK(lms_st_metadata_count(r) == 2);
    CHECK(lms_st_metadata(r, "format") && !strcmp(lms_st_metadata(r, "format"), "pt"));
    CHECK(lms_st_metadata(r, "note") && !strcmp(lms_st_metadata(r, "note"), "second \"with\" quotes"));
    CHECK(lms_st_metadata(r, "absent") == NULL);
    /* file length = 8 + N + all tensor bytes, nothing else */
    CHECK(lms_st_file_size(r) == 8 + lms_st_header_size(r) + 24 + 8 + 8 + 4 + 0 + 16);
    lms_st_close(r);

    /* the same bytes read from memory give the same answer */
    char *buf;
    size_t len;
    CHECK(lms_file_read_all(path, &buf, &len, &err) == LMS_OK);
    CHECK(lms_st_open_memory(&r, buf, len, NULL, &err) == LMS_OK);
    if (r) {
        CHECK(lms_st_count(r) == 6);
        lms_st_close(r);
    }
    /* the header is padded with spaces, not NULs */
    uint64_t n;
    memcpy(&n, buf, 8);
    CHECK(buf[8 + n - 1] == ' ' || buf[8 + n - 1] == '}');
    free(buf);
}

static void test_empty_file_of_tensors(void) {
    lms_st_writer *w;
    lms_err err = {0};
    lms_st_writer_create(&w, &err);
    const char *path = tmp_path("none.safetensors");
    CHECK(lms_st_writer_write(w, path, &err) == LMS_OK);
    lms_st_writer_free(w);
    lms_st_reader *r;
    CHECKF(lms_st_open(&r, path, &err) == LMS_OK, "%s", err.msg);
    if (r) {
        CHECK(lms_st_count(r) == 0 && lms_st_metadata_count(r) == 0);
        lms_st_close(r);
    }
}

static void test_f16_conversions(void) {
    CHECK(lms_st_f32_to_f16(1.0f) == 0x3c00);
    CHECK(lms_st_f32_to_f16(-2.0f) == 0xc000);
    CHECK(lms_st_f32_to_f16(0.5f) == 0x3800);
    CHECK(lms_st_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(lms_st_f32_to_f16(65519.0f) == 0x7bff);     /* below the halfway point */
    CHECK(lms_st_f32_to_f16(65520.0f) == 0x7c00);     /* halfway, rounds to even = inf */
    CHECK(lms_st_f32_to_f16(1e10f) == 0x7c00);
    CHECK(lms_st_f32_to_f16(-1e10f) == 0xfc00);
    CHECK(lms_st_f32_to_f16(5.9604644775390625e-8f) == 0x0001); /* smallest subnormal */
    CHECK(lms_st_f32_to_f16(2.98e-8f) == 0x0000);               /* just below half of it */
    CHECK(lms_st_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);     /* tie -> even */
    CHECK(lms_st_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);     /* tie -> even (up) */
    CHECK(lms_st_f32_to_f16(1.0f + 1.5f / 2048) == 0x3c01);     /* above the tie */
    CHECK(lms_st_f32_to_f16(6.097555160522461e-05f) == 0x03ff); /* largest subnormal */
    CHECK(lms_st_f32_to_f16(6.103515625e-05f) == 0x0400);       /* smallest normal */
    float nan = lms_st_f16_to_f32(lms_st_f32_to_f16(NAN));
    CHECK(nan != nan);
    /* every F16 value survives F16 -> F32 -> F16 exactly (NaNs stay NaN) */
    int bad = 0;
    for (uint32_t u = 0; u < 65536; u++) {
        float x = lms_st_f16_to_f32((uint16_t)u);
        uint16_t back = lms_st_f32_to_f16(x);
        if ((u & 0x7c00) == 0x7c00 && (u & 0x3ff)) bad += !(x != x && (back & 0x7c00) == 0x7c00 && (back & 0x3ff));
        else bad += back != u;
    }
    CHECK(bad == 0);
    CHECK(lms_st_f16_to_f32(0x7c00) == INFINITY && lms_st_f16_to_f32(0xfc00) == -INFINITY);
    CHECK(lms_st_f16_to_f32(0x3555) == 0.333251953125f);
}

static void test_bf16_conversions(void) {
    CHECK(lms_st_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(lms_st_f32_to_bf16(-2.0f) == 0xc000);
    CHECK(lms_st_f32_to_bf16(1.0f + 1.0f / 256) == 0x3f80);  /* tie -> even */
    CHECK(lms_st_f32_to_bf16(1.0f + 3.0f / 256) == 0x3f82);  /* tie -> even (up) */
    CHECK(lms_st_f32_to_bf16(1.0f + 1.5f / 256) == 0x3f81);
    CHECK(lms_st_f32_to_bf16(INFINITY) == 0x7f80);
    CHECK(lms_st_f32_to_bf16(3.4028235e38f) == 0x7f80);      /* FLT_MAX rounds up to inf */
    float nan = lms_st_bf16_to_f32(lms_st_f32_to_bf16(NAN));
    CHECK(nan != nan);
    int bad = 0;
    for (uint32_t u = 0; u < 65536; u++) {
        float x = lms_st_bf16_to_f32((uint16_t)u);
        if (x != x) continue;
        bad += lms_st_f32_to_bf16(x) != u;
    }
    CHECK(bad == 0);
    /* conversion of a buffer at an odd address (tensor data need not be aligned) */
    unsigned char raw[1 + 3 * 2];
    uint16_t v[3] = {0x3f80, 0x4000, 0xbf80};
    memcpy(raw + 1, v, sizeof v);
    float out[3];
    lms_st_convert_to_f32(LMS_ST_BF16, raw + 1, out, 3);
    CHECK(out[0] == 1.0f && out[1] == 2.0f && out[2] == -1.0f);
}

/* A header written the way Hugging Face's library writes it: metadata, keys not in offset order,
 * no padding beyond what the JSON needs. */
static void test_hf_layout_by_hand(void) {
    const char *hdr = "{\"__metadata__\":{\"format\":\"pt\"},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}";
    size_t len;
    unsigned char *b = make_file(hdr, 16, &len);
    float va[2] = {1.0f, 2.0f}, vb[2] = {-1.0f, 0.25f};
    size_t hl = strlen(hdr);
    memcpy(b + 8 + hl, va, 8);
    memcpy(b + 8 + hl + 8, vb, 8);
    lms_st_reader *r;
    lms_err err = {0};
    CHECKF(lms_st_open_memory(&r, b, len, "hand", &err) == LMS_OK, "%s", err.msg);
    if (r) {
        CHECK(lms_st_count(r) == 2);
        CHECK(!strcmp(lms_st_get(r, 0)->name, "a") && !strcmp(lms_st_get(r, 1)->name, "b"));
        float f[2];
        lms_st_read_f32(lms_st_find(r, "b"), f);
        CHECK(f[0] == -1.0f && f[1] == 0.25f);
        lms_st_read_f32(lms_st_find(r, "a"), f);
        CHECK(f[0] == 1.0f && f[1] == 2.0f);
        CHECK(lms_st_find(r, "a")->shape[0] == 1 && lms_st_find(r, "a")->shape[1] == 2);
        lms_st_close(r);
    }
    free(b);
    /* trailing spaces, a gap between tensors and extra fields in an entry are accepted */
    CHECK(opens("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8],\"extra\":1}}   ", 8));
}

static void test_truncated_everywhere(void) {
    float a[6] = {1, 2, 3, 4, 5, 6};
    uint16_t h[3] = {1, 2, 3};
    int64_t sa[2] = {2, 3}, sh[1] = {3};
    lms_st_writer *w;
    lms_err err = {0};
    lms_st_writer_create(&w, &err);
    lms_st_writer_add(w, "a", LMS_ST_F32, 2, sa, a, &err);
    lms_st_writer_add(w, "h", LMS_ST_F16, 1, sh, h, &err);
    lms_st_writer_set_metadata(w, "k", "v", &err);
    const char *path = tmp_path("trunc.safetensors");
    CHECK(lms_st_writer_write(w, path, &err) == LMS_OK);
    lms_st_writer_free(w);
    char *buf;
    size_t len;
    CHECK(lms_file_read_all(path, &buf, &len, &err) == LMS_OK);
    int accepted = 0, no_msg = 0;
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1); /* exact-size buffer so ASan sees any overread */
        memcpy(copy, buf, cut);
        lms_st_reader *r;
        lms_err e = {0};
        if (lms_st_open_memory(&r, copy, cut, "cut", &e) == LMS_OK) {
            accepted++;
            lms_st_close(r);
        } else if (!e.msg[0]) no_msg++;
        free(copy);
    }
    CHECK(accepted == 0);
    CHECK(no_msg == 0);
    /* the same through files and mmap, at a few cut points */
    size_t cuts[5] = {0, 4, 9, len / 2, len - 1};
    for (int i = 0; i < 5; i++) {
        const char *p = tmp_path("cut.safetensors");
        CHECK(lms_file_write_all(p, buf, cuts[i], &err) == LMS_OK);
        lms_st_reader *r;
        lms_err e = {0};
        CHECK(lms_st_open(&r, p, &e) != LMS_OK);
        CHECK(r == NULL && e.msg[0]);
    }
    free(buf);
}

static void test_bad_headers(void) {
    const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    CHECK(opens(ok, 8)); /* the control case opens */
    CHECK(fails_with("{\"a\": [", 8, LMS_ERR_FORMAT, "not valid JSON"));
    CHECK(fails_with("{}{}", 0, LMS_ERR_FORMAT, "JSON"));
    CHECK(fails_with("[1,2,3]", 0, LMS_ERR_FORMAT, "JSON object"));
    CHECK(fails_with("\"str\"", 0, LMS_ERR_FORMAT, NULL));
    CHECK(fails_with("{", 0, LMS_ERR_FORMAT, NULL));
    CHECK(fails_with("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "unknown dtype"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, LMS_ERR_UNSUPPORTED, "I64"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, LMS_ERR_UNSUPPORTED, "F64"));
    CHECK(fails_with("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "'a'"));
    CHECK(fails_with("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "dtype"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "shape"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, LMS_ERR_FORMAT, "data_offsets"));
    CHECK(fails_with("{\"a\":[1]}", 8, LMS_ERR_FORMAT, "not a JSON object"));
    /* shape / offsets mismatch, both ways */
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24, LMS_ERR_FORMAT, "need 24 bytes"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "need 4 bytes"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "shape entry 0"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "shape entry"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT, "shape entry"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],\"data_offsets\":[0,8]}}", 8,
                     LMS_ERR_FORMAT, "overflow"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8, LMS_ERR_FORMAT,
                     "overflow"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, LMS_ERR_UNSUPPORTED,
                     "dimensions"));
    /* offsets */
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 7, LMS_ERR_FORMAT, "past the end"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, LMS_ERR_FORMAT, "end before"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, LMS_ERR_FORMAT, "data_offsets"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, LMS_ERR_FORMAT, "data_offsets"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", 16, LMS_ERR_FORMAT, "data_offsets"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[18446744073709551615,18446744073709551615]}}", 8,
                     LMS_ERR_FORMAT, NULL));
    /* overlaps (also when the overlapping tensor comes first in the JSON, or is nested inside) */
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24, LMS_ERR_FORMAT, "overlap"));
    CHECK(fails_with("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                     "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, LMS_ERR_FORMAT, "overlap"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, LMS_ERR_FORMAT, "overlap"));
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
                     "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[24,28]}}", 32, LMS_ERR_FORMAT, "overlap"));
    /* touching ranges and empty tensors inside others are fine */
    CHECK(opens("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16));
    /* duplicate names, metadata shape */
    CHECK(fails_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, LMS_ERR_FORMAT, "JSON"));
    CHECK(fails_with("{\"__metadata__\":{\"k\":1}}", 0, LMS_ERR_FORMAT, "'k'"));
    CHECK(fails_with("{\"__metadata__\":[\"k\"]}", 0, LMS_ERR_FORMAT, "__metadata__"));
}

static void test_bad_lengths(void) {
    lms_st_reader *r;
    lms_err err = {0};
    unsigned char b[64] = {0};
    /* header length past the end of the file, by one and by a lot */
    const char *hdr = "{}      ";
    uint64_t n = 9;
    memcpy(b, &n, 8);
    memcpy(b + 8, hdr, 8);
    CHECK(lms_st_open_memory(&r, b, 16, "x", &err) == LMS_ERR_FORMAT && strstr(err.msg, "past the end"));
    n = UINT64_MAX;
    memcpy(b, &n, 8);
    CHECK(lms_st_open_memory(&r, b, 16, "x", &err) == LMS_ERR_FORMAT && strstr(err.msg, "past the end"));
    n = 8;
    memcpy(b, &n, 8);
    CHECK(lms_st_open_memory(&r, b, 16, "x", &err) == LMS_OK);
    lms_st_close(r);
    n = 0;
    memcpy(b, &n, 8);
    CHECK(lms_st_open_memory(&r, b, 16, "x", &err) == LMS_ERR_FORMAT);
    CHECK(lms_st_open_memory(&r, b, 7, "x", &err) == LMS_ERR_FORMAT && strstr(err.msg, "too short"));
    CHECK(lms_st_open_memory(&r, b, 0, "x", &err) == LMS_ERR_FORMAT);
    /* an empty file and a missing file through the path API */
    const char *p = tmp_path("zero.safetensors");
    CHECK(lms_file_write_all(p, "", 0, &err) == LMS_OK);
    CHECK(lms_st_open(&r, p, &err) == LMS_ERR_FORMAT && r == NULL);
    CHECK(lms_st_open(&r, tmp_path("does-not-exist.safetensors"), &err) == LMS_ERR_IO && strstr(err.msg, "does-not-exist"));
    CHECK(lms_st_open(&r, tmpdir, &err) == LMS_ERR_IO);
    /* a header of 101 MB is refused before it is parsed */
    size_t big = 8 + 101u * 1000 * 1000 + 8;
    unsigned char *bb = calloc(1, big);
    if (bb) {
        n = 101u * 1000 * 1000;
        memcpy(bb, &n, 8);
        bb[8] = '{';
        CHECK(lms_st_open_memory(&r, bb, big, "big", &err) == LMS_ERR_FORMAT && strstr(err.msg, "100 MB"));
        free(bb);
    }
}

static void test_writer_errors(void) {
    lms_st_writer *w;
    lms_err err = {0};
    float a[2] = {1, 2};
    int64_t s1[1] = {2}, neg[1] = {-1};
    lms_st_writer_create(&w, &err);
    CHECK(lms_st_writer_add(w, "a", LMS_ST_F32, 1, s1, a, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "a", LMS_ST_F32, 1, s1, a, &err) == LMS_ERR_ARG && strstr(err.msg, "twice"));
    CHECK(lms_st_writer_add(w, "__metadata__", LMS_ST_F32, 1, s1, a, &err) == LMS_ERR_ARG);
    CHECK(lms_st_writer_add(w, "", LMS_ST_F32, 1, s1, a, &err) == LMS_ERR_ARG);
    CHECK(lms_st_writer_add(w, "n", LMS_ST_F32, 1, neg, a, &err) == LMS_ERR_ARG);
    CHECK(lms_st_writer_add(w, "d", LMS_ST_F32, 9, s1, a, &err) == LMS_ERR_ARG);
    CHECK(lms_st_writer_add(w, "nodata", LMS_ST_F32, 1, s1, NULL, &err) == LMS_ERR_ARG);
    /* a good file, then a failing write to the same path leaves it untouched */
    const char *path = tmp_path("keep.safetensors");
    CHECK(lms_st_writer_write(w, path, &err) == LMS_OK);
    char *before;
    size_t blen;
    CHECK(lms_file_read_all(path, &before, &blen, &err) == LMS_OK);
    CHECK(lms_st_writer_add(w, "bad\xff", LMS_ST_F32, 1, s1, a, &err) == LMS_OK); /* invalid UTF-8: fails at write */
    CHECK(lms_st_writer_write(w, path, &err) == LMS_ERR_ARG && strstr(err.msg, "UTF-8"));
    char *after;
    size_t alen;
    CHECK(lms_file_read_all(path, &after, &alen, &err) == LMS_OK);
    CHECK(alen == blen && memcmp(before, after, blen) == 0);
    free(before);
    free(after);
    lms_st_writer_free(w);
    /* into a missing directory or under a regular file: a clean I/O error, nothing left behind */
    lms_st_writer_create(&w, &err);
    lms_st_writer_add(w, "a", LMS_ST_F32, 1, s1, a, &err);
    CHECK(lms_st_writer_write(w, tmp_path("no/such/dir/x.safetensors"), &err) == LMS_ERR_IO && strstr(err.msg, "no/such/dir"));
    CHECK(lms_st_writer_write(w, tmp_path("keep.safetensors/x.safetensors"), &err) == LMS_ERR_IO);
    lms_st_writer_free(w);
    CHECK(count_temporaries(tmpdir) == 0);
    CHECK(!lms_path_exists(tmp_path("no")));
}

static void cleanup(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (tmpdir[0] && system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", tmpdir);
}

static void test_zz_cleanup(void) {
    cleanup();
    CHECK(!lms_path_exists(tmpdir));
}

TESTS(test_roundtrip, test_empty_file_of_tensors, test_f16_conversions, test_bf16_conversions, test_hf_layout_by_hand,
      test_truncated_everywhere, test_bad_headers, test_bad_lengths, test_writer_errors, test_zz_cleanup)
