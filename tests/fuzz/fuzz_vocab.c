/* fuzz_vocab.c — libFuzzer target for the tokenizer loader (vocab.json + merges.txt).
 *
 * Input: vocab.json text, a NUL byte, merges.txt text (no NUL: all of it is vocab.json, merges
 * empty). When the pair loads, the tokenizer must behave: encoding any bytes round-trips exactly,
 * the two BPE word algorithms agree, every id is in range, and save-free invariants hold (the
 * hash is 64 hex digits). Anything else is a crash for the fuzzer to report.
 *   make fuzz && build-fuzz/fuzz_vocab -max_total_time=600 build-fuzz/corpus-fuzz_vocab tests/fuzz/seeds/fuzz_vocab
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"

static void check_roundtrip(const lms_tokenizer *t, const char *s, size_t n) {
    lms_ids ids = {0};
    lms_err err = {0};
    LMS_ASSERT(lms_tokenizer_encode_ex(t, s, n, LMS_TOK_ALLOW_EOT, &ids, &err) == LMS_OK);
    for (size_t i = 0; i < ids.n; i++) LMS_ASSERT(ids.ids[i] < (uint32_t)lms_tokenizer_vocab_size(t));
    char *back = NULL;
    size_t bl = 0;
    LMS_ASSERT(lms_tokenizer_decode(t, ids.ids, ids.n, &back, &bl, &err) == LMS_OK);
    LMS_ASSERT(bl == n && memcmp(back, s, n) == 0);
    free(back);
    lms_ids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *d = (const char *)data;
    const char *sep = memchr(d, 0, size);
    size_t vl = sep ? (size_t)(sep - d) : size;
    const char *m = sep ? sep + 1 : "";
    size_t ml = sep ? size - vl - 1 : 0;
    lms_tokenizer *t = NULL;
    lms_err err = {0};
    lms_status st = lms_tokenizer_load_mem(&t, d, vl, m, ml, &err);
    if (st != LMS_OK) {
        LMS_ASSERT(t == NULL && err.msg[0] != 0 && memchr(err.msg, 0, sizeof err.msg));
        return 0;
    }
    LMS_ASSERT(strlen(lms_tokenizer_hash(t)) == 64);
    LMS_ASSERT(lms_tokenizer_vocab_size(t) >= 256);
    /* fixed text, the input itself, and every token's own bytes */
    static const char text[] = "Hello world, it's 2024! \xe4\xb8\xad\xe6\x96\x87 \xff\xfe  \n\n<|endoftext|>x";
    check_roundtrip(t, text, sizeof text - 1);
    check_roundtrip(t, d, size);
    int V = lms_tokenizer_vocab_size(t);
    for (int id = 0; id < V && id < 2048; id++) {
        size_t l;
        const char *tok = lms_tokenizer_token(t, (uint32_t)id, &l);
        LMS_ASSERT(tok && l > 0);
        LMS_ASSERT(lms_tokenizer_find(t, tok, l) == id);
        if (l <= 64) {
            uint32_t a[64], b[64];
            size_t na = lms_tok_bpe_word(t, (const unsigned char *)tok, l, a, 1);
            size_t nb = lms_tok_bpe_word(t, (const unsigned char *)tok, l, b, 2);
            LMS_ASSERT(na == nb && memcmp(a, b, na * sizeof *a) == 0);
        }
    }
    lms_tokenizer_free(t);
    return 0;
}
