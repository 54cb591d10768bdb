/* fuzz_shard.c — libFuzzer target for the readers of untrusted data files in src/data/: the shard
 * header/length/vocabulary check (the same code lms_shard_open runs on a mapped file), the
 * manifest.json parser, and the corpus document splitter + UTF-8 check.
 *
 *   make fuzz && build-fuzz/fuzz_shard -max_total_time=600 build-fuzz/corpus-fuzz_shard tests/fuzz/seeds/fuzz_shard
 *
 * Every input goes through all three; a crash, a sanitizer report, or a shard the check accepts
 * whose size does not add up is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/corpus.h"
#include "data/manifest.h"
#include "data/shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lms_err err = {0};
    /* The check must never read past size: copy into an exact-size heap block so ASan sees it. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);

    lms_shard_header h;
    int vocab = size > 13 ? (int)(buf[12] | buf[13] << 8) : 0;
    if (lms_shard_check(buf, size, "fuzz.bin", vocab, &h, &err) == LMS_OK) {
        if (h.version != 1 && h.version != 2) abort();
        if (1024 + h.n_tokens * h.token_bytes != size) abort();
    } else if (!err.msg[0]) {
        abort(); /* every failure must say something */
    }

    lms_manifest m;
    memset(&err, 0, sizeof err);
    if (lms_manifest_parse(&m, (const char *)buf, size, "fuzz.json", &err) == LMS_OK) {
        /* What the parser accepts must be safe to use. */
        if (m.n_domains < 1 || m.vocab_size < 1 || m.n_sep < 1 || m.n_sep > LMS_MANIFEST_MAX_SEP) abort();
        for (int d = 0; d < m.n_domains; d++)
            for (int s = 0; s < 2; s++) {
                const lms_manifest_split *sp = s ? &m.domains[d].val : &m.domains[d].train;
                uint64_t sum = 0;
                for (int f = 0; f < sp->n_files; f++) {
                    if (!lms_manifest_safe_name(sp->files[f].file)) abort();
                    sum += sp->files[f].tokens;
                }
                if (sum != sp->tokens) abort();
            }
        lms_manifest_free(&m);
    } else if (!err.msg[0]) {
        abort();
    }

    size_t ok = lms_utf8_valid_prefix((const char *)buf, size);
    if (ok > size) abort();
    lms_doc_span *docs;
    size_t n;
    if (lms_corpus_split((const char *)buf, size, &docs, &n, &err) == LMS_OK) {
        for (size_t i = 0; i < n; i++)
            if (docs[i].len == 0 || docs[i].off + docs[i].len > size) abort();
        free(docs);
    }
    free(buf);
    return 0;
}
