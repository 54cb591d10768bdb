/* fuzz_safetensors.c — libFuzzer target for the safetensors reader.
 *
 * Feeds arbitrary bytes to lms_st_open_memory; when they parse, touches every tensor (reads all
 * of its bytes, converts it to F32, looks it up by name) and every metadata entry, and checks the
 * reader's promises: offsets inside the data section, byte counts equal to numel * item size,
 * no two non-empty tensors overlapping. Any violation aborts (a finding), as do ASan/UBSan reports.
 *
 *   make fuzz && build-fuzz/fuzz_safetensors -max_total_time=600 build-fuzz/corpus-fuzz_safetensors \
 *       tests/fuzz/seeds/fuzz_safetensors
 *
 * Leaves out: the GPT-2 mapping in checkpoint.c (it only sees files that this reader accepted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"

static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lms_st_reader *r;
    lms_err err = {0};
    if (lms_st_open_memory(&r, data, size, "fuzz", &err) != LMS_OK) {
        if (r != NULL || err.msg[0] == 0) abort(); /* failures must leave no reader and say why */
        return 0;
    }
    uint64_t hdr = lms_st_header_size(r);
    if (hdr + 8 > size) abort();
    const unsigned char *section = data + 8 + hdr;
    size_t dlen = size - 8 - (size_t)hdr;
    uint64_t prev_end = 0;
    for (int i = 0; i < lms_st_count(r); i++) {
        const lms_st_tensor *t = lms_st_get(r, i);
        if (t->end > dlen || t->begin > t->end || t->data != section + t->begin) abort();
        if (t->nbytes != (size_t)t->numel * lms_st_dtype_size(t->dtype) || t->nbytes != t->end - t->begin) abort();
        if (t->nbytes && t->begin < prev_end) abort(); /* sorted by offset and non-overlapping */
        if (t->nbytes && t->end > prev_end) prev_end = t->end;
        int64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        if (numel != t->numel) abort();
        if (lms_st_find(r, t->name) == NULL) abort();
        float *f = malloc(t->numel ? (size_t)t->numel * sizeof(float) : 1);
        if (!f) abort();
        lms_st_read_f32(t, f);
        float acc = 0;
        for (int64_t k = 0; k < t->numel; k++) acc += f[k];
        free(f);
        sink = acc;
    }
    for (int i = 0; i < lms_st_metadata_count(r); i++) {
        const char *k, *v;
        lms_st_metadata_at(r, i, &k, &v);
        if (lms_st_metadata(r, k) == NULL) abort();
        sink = (float)(strlen(k) + strlen(v));
    }
    lms_st_close(r);
    return 0;
}
