/* fuzz_shard.c — libFuzzer target for the readers of untrusted data files in src/data/: the shard
 * header/length/vocabulary check (the same code lms_shard_open runs on a mapped file), the
 * manifest.json parser, and the corpus document splitter + UTF-8 check. A manifest the parser
 * accepts is then written into a scratch directory beside two real shards and opened with the
 * loader and the docset (stats), which must fail cleanly or hand out in-range tokens.
 *
 *   make fuzz && build-fuzz/fuzz_shard -max_total_time=600 build-fuzz/corpus-fuzz_shard tests/fuzz/seeds/fuzz_shard
 *
 * A crash, a sanitizer report, or an abort() below (an accepted input that breaks a promise) is a
 * finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/log.h"
#include "data/corpus.h"
#include "data/inspect.h"
#include "data/loader.h"
#include "data/manifest.h"
#include "data/shard.h"

static char scratch[64];

static void quiet(lms_log_level level, const char *msg, void *user) {
    (void)level;
    (void)msg;
    (void)user;
}

static void remove_scratch(void) {
    const char *names[] = {"manifest.json", "quotes_train_000000.bin", "quotes_val_000000.bin"};
    char p[256];
    for (int i = 0; i < 3; i++) unlink(lms_path_join(p, sizeof p, scratch, names[i]));
    rmdir(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    lms_log_set_sink(quiet, NULL);
    snprintf(scratch, sizeof scratch, "/tmp/fuzz_shard_%d", (int)getpid());
    lms_err err = {0};
    if (lms_mkdir_p(scratch, &err)) abort();
    atexit(remove_scratch);
    /* The shards the seed manifests name: quotes_train_000000.bin (30 tokens), quotes_val_000000.bin (7). */
    uint32_t t[30];
    for (int i = 0; i < 30; i++) t[i] = (uint32_t)(i * 37 % 256);
    t[0] = 299 % 256;
    char p[256];
    if (lms_shard_write(lms_path_join(p, sizeof p, scratch, "quotes_train_000000.bin"), t, 30, 1, &err) ||
        lms_shard_write(lms_path_join(p, sizeof p, scratch, "quotes_val_000000.bin"), t, 7, 1, &err))
        abort();
    return 0;
}

static void use_manifest(const uint8_t *data, size_t size, const lms_manifest *m) {
    char p[256];
    lms_err err = {0};
    if (lms_file_write_all(lms_path_join(p, sizeof p, scratch, "manifest.json"), data, size, &err)) abort();
    lms_loader_config c = {.B = 2, .T = 4, .seed = 1, .weights = NULL};
    lms_loader *l;
    if (lms_loader_open(&l, scratch, &c, &err) == LMS_OK) {
        int32_t in[8], tg[8];
        int v = lms_loader_vocab_size(l);
        if (v != m->vocab_size) abort();
        for (int s = 0; s < 4; s++) {
            lms_loader_next(l, in, tg);
            for (int i = 0; i < 8; i++)
                if (in[i] < 0 || in[i] >= v || tg[i] < 0 || tg[i] >= v) abort();
        }
        for (int b = 0; b < lms_loader_num_val_batches(l); b++) lms_loader_val_batch(l, b, in, tg, NULL);
        lms_loader_free(l);
    } else if (!err.msg[0]) {
        abort();
    }
    lms_docset *ds;
    if (lms_docset_open(&ds, scratch, NULL, &err) == LMS_OK) {
        lms_data_stats st;
        if (lms_data_stats_compute(ds, NULL, 3, &st, &err) == LMS_OK) lms_data_stats_free(&st);
        lms_docset_free(ds);
    }
}

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
        use_manifest(buf, size, &m);
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
