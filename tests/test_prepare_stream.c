/* test_prepare_stream.c — 'data prepare' streamed gives what the in-memory way gives.
 *
 * - the streaming document splitter, fed in pieces of every size, finds lms_corpus_split's
 *   documents and lms_data_hash64's hashes on tricky texts (separators with CR, at the start and
 *   end, whitespace runs, empty documents);
 * - lms_corpus_scan with tiny blocks indexes a corpus directory like lms_corpus_open: domains,
 *   documents, and the files it skips (NUL byte, invalid UTF-8, also cut across blocks);
 * - lms_data_prepare with tiny windows and segments (every chunk boundary case: inside whitespace
 *   runs, CRLF, multi-byte characters, lines longer than the window with no place to cut) writes
 *   exactly the tokens of encoding each document whole, with GPT-2's tokenizer and the byte one,
 *   one thread and two, shards cut every few tokens.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/rng.h"
#include "data/corpus.h"
#include "data/corpus_scan.h"
#include "data/prepare.h"
#include "data/shard.h"
#include "harness.h"
#include "tokenizer/tokenizer.h"

#define TH_TMP_PREFIX "lms_test_prepare_stream"
#include "tmpfiles.h"

/* Random corpus text: documents of tricky pieces between separator lines. */
static size_t corpus_text(lms_rng *r, char *out, size_t cap, int long_lines) {
    static const char *pool[] = {"a", "word", " the", "it's", "42", ".", "  ", " ", "\t", "\n", "\n\n", "\r\n", " \n ",
                                 "\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x98\x80", "\xc2\xa0", "\xe3\x80\x80",
                                 "\n<|endoftext|>\n", "\n<|endoftext|>\r\n", "<|endoftext|>", "\n<|endoftext|> \n",
                                 "\n<|endoftext|>\n\n<|endoftext|>\n", "\n \n"};
    size_t n = 0, k = sizeof pool / sizeof *pool;
    if (lms_rng_below(r, 3) == 0) n += (size_t)sprintf(out, "<|endoftext|>\n");
    while (n + 400 < cap) {
        if (long_lines && lms_rng_below(r, 200) == 0) { /* a long stretch with no whitespace at all */
            size_t l = 100 + lms_rng_below(r, 300);
            for (size_t i = 0; i < l; i++) out[n++] = (char)('a' + i % 26);
            continue;
        }
        const char *p = pool[lms_rng_below(r, k)];
        memcpy(out + n, p, strlen(p));
        n += strlen(p);
    }
    if (lms_rng_below(r, 3) == 0) n += (size_t)sprintf(out + n, "\n<|endoftext|>");
    return n;
}

static void test_splitter_matches_corpus_split(void) {
    lms_rng r;
    lms_rng_seed(&r, 3);
    static char text[20000];
    int bad = 0;
    for (int it = 0; it < 300; it++) {
        size_t n = corpus_text(&r, text, (size_t)(50 + lms_rng_below(&r, sizeof text - 50)), 0);
        lms_doc_span *want;
        size_t nw;
        lms_err err = {0};
        CHECK(lms_corpus_split(text, n, &want, &nw, &err) == LMS_OK);
        lms_doc_splitter s;
        memset(&s, 0, sizeof s);
        size_t piece = it % 3 == 0 ? 1 : it % 3 == 1 ? 7 : n;
        for (size_t p = 0; p < n; p += piece) lms_doc_splitter_feed(&s, text + p, n - p < piece ? n - p : piece, &err);
        lms_doc_splitter_finish(&s, &err);
        int ok = s.n_docs == nw;
        for (size_t i = 0; ok && i < nw; i++)
            ok = s.docs[i].off == want[i].off && s.docs[i].len == want[i].len &&
                 s.hash[i] == lms_data_hash64(text + want[i].off, want[i].len);
        if (!ok && bad++ < 3) fprintf(stderr, "  text %d (%zu bytes, pieces of %zu): %zu documents, want %zu\n", it, n, piece, s.n_docs, nw);
        free(want);
        free(s.docs);
        free(s.hash);
    }
    CHECKF(bad == 0, "%d texts", bad);
}

static void test_scan_matches_corpus_open(void) {
    lms_err err = {0};
    lms_rng r;
    lms_rng_seed(&r, 4);
    static char text[30000];
    CHECK(lms_mkdir_p(tmp_path("scan"), &err) == LMS_OK);
    for (int f = 0; f < 4; f++) {
        size_t n = corpus_text(&r, text, sizeof text, 1);
        char name[64];
        snprintf(name, sizeof name, "scan/dom%d.txt", f);
        CHECK(lms_file_write_all(tmp_path(name), text, n, &err) == LMS_OK);
    }
    lms_file_write_all(tmp_path("scan/nul.txt"), "abc\ndef\0ghi", 11, &err);
    lms_file_write_all(tmp_path("scan/badutf.txt"), "abc \xe4\xb8\xad\xe4\xb8 x", 11, &err); /* a cut character, then more */
    lms_file_write_all(tmp_path("scan/cutend.txt"), "abc \xe4\xb8", 6, &err);               /* a cut character at the end */
    lms_file_write_all(tmp_path("scan/onlysep.txt"), "<|endoftext|>\n\n", 15, &err);
    lms_file_write_all(tmp_path("scan/empty.txt"), "", 0, &err);
    lms_file_write_all(tmp_path("scan/bad name!.txt"), "text", 4, &err);
    lms_corpus c;
    CHECK(lms_corpus_open(&c, tmp_path("scan"), &err) == LMS_OK);
    const size_t blocks[] = {1, 2, 3, 5, 64, 0};
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
        lms_corpus_index x;
        CHECK(lms_corpus_scan(&x, tmp_path("scan"), blocks[b], &err) == LMS_OK);
        int ok = x.n_domains == c.n_domains && x.n_skipped == c.n_skipped && x.n_domains == 4;
        for (int d = 0; ok && d < c.n_domains; d++) {
            ok = !strcmp(x.domains[d].name, c.domains[d].name) && x.domains[d].n_docs == c.domains[d].n_docs &&
                 x.domains[d].doc_bytes == c.domains[d].doc_bytes && x.domains[d].file_len == c.domains[d].len;
            for (size_t i = 0; ok && i < c.domains[d].n_docs; i++) {
                size_t len;
                const char *t = lms_corpus_doc(&c.domains[d], i, &len);
                ok = x.domains[d].docs[i].off == c.domains[d].docs[i].off && x.domains[d].docs[i].len == len &&
                     x.domains[d].hash[i] == lms_data_hash64(t, len);
            }
        }
        CHECKF(ok, "block %zu: %d domains, %d skipped", blocks[b], x.n_domains, x.n_skipped);
        lms_corpus_index_free(&x);
    }
    lms_corpus_free(&c);
    lms_corpus_index x;
    CHECK(lms_corpus_scan(&x, tmp_path("nothere"), 0, &err) == LMS_ERR_IO && strstr(err.msg, "does not exist"));
    CHECK(lms_corpus_scan(&x, tmp_path("scan/nul.txt"), 0, &err) == LMS_ERR_ARG && strstr(err.msg, "no usable"));
}

/* The tokens prepare must write: each document encoded whole, after the separator. */
static void expected_streams(const char *corpus, const lms_tokenizer *tok, const lms_prepare_config *pc, int dom,
                             lms_ids *train, lms_ids *val) {
    lms_corpus c;
    lms_err err = {0};
    if (lms_corpus_open(&c, corpus, &err)) return;
    const lms_corpus_domain *d = &c.domains[dom];
    uint64_t *h = calloc(d->n_docs, sizeof *h);
    size_t *len = calloc(d->n_docs, sizeof *len);
    unsigned char *is_val = calloc(d->n_docs, 1);
    for (size_t i = 0; i < d->n_docs; i++) {
        const char *t = lms_corpus_doc(d, i, &len[i]);
        h[i] = lms_data_hash64(t, len[i]);
    }
    lms_data_select_val(h, len, d->n_docs, pc->val_docs, pc->val_fraction, is_val, &err);
    for (size_t i = 0; i < d->n_docs; i++) {
        lms_ids *dst = is_val[i] ? val : train;
        size_t l;
        const char *t = lms_corpus_doc(d, i, &l);
        if (lms_tokenizer_eot(tok) >= 0) lms_ids_push(dst, (uint32_t)lms_tokenizer_eot(tok), &err);
        else lms_tokenizer_encode(tok, LMS_DOC_SEPARATOR, strlen(LMS_DOC_SEPARATOR), dst, &err);
        lms_tokenizer_encode(tok, t, l, dst, &err);
    }
    free(h);
    free(len);
    free(is_val);
    lms_corpus_free(&c);
}

/* Concatenate the shards of one split as the manifest lists them. */
static int read_split(const char *dir, const lms_manifest_split *s, int vocab, lms_ids *out) {
    lms_err err = {0};
    uint64_t sum = 0;
    for (int f = 0; f < s->n_files; f++) {
        char path[1024];
        lms_path_join(path, sizeof path, dir, s->files[f].file);
        uint32_t *t;
        size_t n;
        int version;
        if (lms_shard_read(path, vocab, &t, &n, &version, &err)) return 0;
        if (n != s->files[f].tokens) return 0;
        lms_ids_reserve(out, n, &err);
        if (n) memcpy(out->ids + out->n, t, n * sizeof *t);
        out->n += n;
        sum += n;
        free(t);
    }
    return sum == s->tokens;
}

static void test_prepare_streamed_equals_whole(void) {
    lms_err err = {0};
    lms_rng r;
    lms_rng_seed(&r, 9);
    static char text[30000];
    CHECK(lms_mkdir_p(tmp_path("corpus"), &err) == LMS_OK);
    for (int f = 0; f < 2; f++) {
        size_t n = corpus_text(&r, text, sizeof text - 8000, 1);
        /* a document with a stretch longer than any small window and no whitespace */
        n += (size_t)sprintf(text + n, "\n<|endoftext|>\nstart ");
        for (int i = 0; i < 1000; i++) memcpy(text + n, "ab\xc3\xa9", 4), n += 4;
        n += (size_t)sprintf(text + n, " end\r\n\r\n   \n<|endoftext|>\n");
        char name[64];
        snprintf(name, sizeof name, "corpus/d%d.txt", f);
        CHECK(lms_file_write_all(tmp_path(name), text, n, &err) == LMS_OK);
    }
    lms_tokenizer *gpt2 = NULL, *bytes = lms_tokenizer_bytes();
    CHECK(lms_tokenizer_load(&gpt2, "tests/fixtures/gpt2", &err) == LMS_OK);
    const struct { size_t window, segment; int threads; } cfg[] = {{64, 8, 1}, {100, 16, 1}, {2000, 37, 2}, {0, 0, 2}};
    for (int tk = 0; tk < 2; tk++) {
        const lms_tokenizer *tok = tk ? bytes : gpt2;
        if (!tok) continue;
        for (size_t k = 0; k < sizeof cfg / sizeof *cfg; k++) {
            lms_prepare_config pc = {.tok = tok, .tokenizer_name = "t", .val_fraction = 0.1, .shard_tokens = 999,
                                     .threads = cfg[k].threads, .window_bytes = cfg[k].window,
                                     .segment_bytes = cfg[k].segment};
            char out[600];
            snprintf(out, sizeof out, "%s/%d_%zu", tmp_path("out"), tk, k);
            lms_manifest m;
            CHECK(lms_data_prepare(tmp_path("corpus"), out, &pc, &m, &err) == LMS_OK);
            for (int d = 0; d < m.n_domains; d++) {
                lms_ids want[2] = {{0}}, got[2] = {{0}};
                expected_streams(tmp_path("corpus"), tok, &pc, d, &want[0], &want[1]);
                int ok = read_split(out, &m.domains[d].train, m.vocab_size, &got[0]) &&
                         read_split(out, &m.domains[d].val, m.vocab_size, &got[1]);
                for (int v = 0; ok && v < 2; v++)
                    ok = got[v].n == want[v].n && memcmp(got[v].ids, want[v].ids, want[v].n * sizeof *want[v].ids) == 0;
                CHECKF(ok && want[0].n > 5000 && want[1].n > 100, "tokenizer %d, config %zu, domain %d: %zu + %zu tokens, want %zu + %zu",
                       tk, k, d, got[0].n, got[1].n, want[0].n, want[1].n);
                CHECK(m.domains[d].train.n_files > 3);
                for (int v = 0; v < 2; v++) lms_ids_free(&want[v]), lms_ids_free(&got[v]);
            }
            lms_manifest_free(&m);
        }
    }
    lms_tokenizer_free(gpt2);
    lms_tokenizer_free(bytes);
}

static void test_cleanup(void) {
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (tmpdir[0]) CHECK(system(cmd) == 0);
}

TESTS(test_splitter_matches_corpus_split, test_scan_matches_corpus_open, test_prepare_streamed_equals_whole, test_cleanup)
