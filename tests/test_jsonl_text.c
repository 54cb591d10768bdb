/* test_jsonl_text.c — JSON Lines text corpora (core/jsonl_text.h) and their way through prepare
 * and tokenizer training.
 *
 * - the line reader returns every line with its number and offset whatever the block size
 *   (CRLF, a last line without '\n', empty lines) and refuses a line longer than its limit;
 * - documents: jansson's escapes (\n, \u00e9, a surrogate pair) decoded, text trimmed, blank and
 *   empty lines skipped, other fields ignored, a line read again at its offset gives the same text;
 * - bad lines fail with path:line and what is wrong (not JSON, not an object, field missing, not a
 *   string, invalid UTF-8, a lone surrogate, \u0000, a NUL byte, a bad domain, a line over 64 MiB),
 *   or are skipped and counted with skip_bad;
 * - data prepare on JSON Lines (text escaped at random, with surrounding whitespace) writes
 *   shards byte-identical to prepare on the same documents as .txt, with tiny windows and
 *   segments, both tokenizers; --domain-field splits one file into the .txt files' domains; a
 *   domain given by a .txt file and JSON Lines is refused;
 * - tokenizer training on a JSON Lines file gives the merges of training on its documents as texts,
 *   and the same merges whatever the size of the batches words are counted in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jsonl.h"
#include "core/jsonl_text.h"
#include "core/rng.h"
#include "data/corpus.h"
#include "data/corpus_scan.h"
#include "data/prepare.h"
#include "harness.h"
#include "tokenizer/tokenizer.h"

#define TH_TMP_PREFIX "lms_test_jsonl_text"
#include "tmpfiles.h"

static void write_str(const char *name, const char *s) {
    lms_err err = {0};
    CHECK(lms_file_write_all(tmp_path(name), s, strlen(s), &err) == LMS_OK);
}

static void test_line_reader(void) {
    write_str("lines.txt", "a\n\nbc\r\nlast");
    const char *want[] = {"a", "", "bc\r", "last"};
    const uint64_t off[] = {0, 2, 3, 7};
    const size_t blocks[] = {1, 2, 3, 64};
    for (size_t b = 0; b < 4; b++) {
        lms_line_reader r;
        lms_err err = {0};
        CHECK(lms_line_reader_open(&r, tmp_path("lines.txt"), 100, blocks[b], &err) == LMS_OK);
        const char *line;
        size_t len;
        int k = 0, ok = 1;
        while (lms_line_reader_next(&r, &line, &len, &err) == LMS_OK && line) {
            ok &= k < 4 && len == strlen(want[k]) && !memcmp(line, want[k], len) && r.line == k + 1 && r.off == off[k];
            k++;
        }
        CHECKF(ok && k == 4, "block %zu: %d lines", blocks[b], k);
        lms_line_reader_close(&r);
    }
    /* a limit of 4: "abcd" passes, "abcde" (line 3) does not, whatever the block */
    write_str("long.txt", "ab\nabcd\nabcde\nx\n");
    for (size_t b = 0; b < 4; b++) {
        lms_line_reader r;
        lms_err err = {0};
        CHECK(lms_line_reader_open(&r, tmp_path("long.txt"), 4, blocks[b], &err) == LMS_OK);
        const char *line;
        size_t len;
        int k = 0;
        lms_status st;
        while ((st = lms_line_reader_next(&r, &line, &len, &err)) == LMS_OK && line) k++;
        CHECKF(st == LMS_ERR_FORMAT && k == 2 && strstr(err.msg, "long.txt:3: a line longer than 4 bytes"), "block %zu: %s",
               blocks[b], err.msg);
        CHECK(r.cap <= 5);
        lms_line_reader_close(&r);
    }
    lms_line_reader r;
    lms_err err = {0};
    CHECK(lms_line_reader_open(&r, tmp_path("missing"), 0, 0, &err) == LMS_ERR_IO);
}

typedef struct {
    char text[8][64];
    size_t len[8];
    long line[8];
    uint64_t off[8];
    size_t line_len[8];
    char dom[8][16];
    int n;
} got_docs;

static lms_status keep(const lms_jsonl_doc *d, void *user, lms_err *err) {
    got_docs *g = user;
    if (g->n == 8 || d->len >= 64) return lms_errf(err, LMS_ERR_ARG, "too many documents for the test");
    memcpy(g->text[g->n], d->text, d->len);
    g->len[g->n] = d->len;
    g->line[g->n] = d->line;
    g->off[g->n] = d->off;
    g->line_len[g->n] = d->line_len;
    snprintf(g->dom[g->n], sizeof g->dom[g->n], "%s", d->domain ? d->domain : "-");
    g->n++;
    return LMS_OK;
}

static void test_documents(void) {
    write_str("docs.jsonl", "{\"id\": 1, \"text\": \"  caf\\u00e9\\nline \\ud83d\\ude00\\t\\\"q\\\" \\\\ \"}\r\n"
                            "\n   \t\n"
                            "{\"text\": \" \\n\\t \", \"src\": \"x\"}\n"
                            "{\"src\": \"web\", \"text\": \"plain \xc3\xa9 raw\", \"more\": [1, {\"a\": null}]}");
    got_docs g = {0};
    lms_err err = {0};
    lms_jsonl_text_counts n;
    CHECK(lms_jsonl_text_read(tmp_path("docs.jsonl"), NULL, 3, keep, &g, &n, &err) == LMS_OK);
    CHECK(g.n == 2 && n.docs == 2 && n.empty == 1 && n.lines == 5 && n.bad == 0);
    const char *t0 = "caf\xc3\xa9\nline \xf0\x9f\x98\x80\t\"q\" \\";
    CHECKF(g.len[0] == strlen(t0) && !memcmp(g.text[0], t0, g.len[0]), "%.*s", (int)g.len[0], g.text[0]);
    CHECK(g.len[1] == strlen("plain \xc3\xa9 raw") && !memcmp(g.text[1], "plain \xc3\xa9 raw", g.len[1]));
    CHECK(g.line[0] == 1 && g.line[1] == 5 && g.off[0] == 0 && !strcmp(g.dom[0], "-"));
    /* read again where they were found */
    FILE *f = fopen(tmp_path("docs.jsonl"), "rb");
    lms_jsonl_text_buf b = {0};
    for (int i = 1; i >= 0 && f; i--) {
        const char *t;
        size_t len;
        CHECK(lms_jsonl_text_reread(f, "docs.jsonl", g.off[i], g.line_len[i], g.line[i], NULL, &b, &t, &len, &err) == LMS_OK &&
              len == g.len[i] && !memcmp(t, g.text[i], len));
    }
    const char *t;
    size_t len;
    CHECK(lms_jsonl_text_reread(f, "docs.jsonl", 1, 10, 1, NULL, &b, &t, &len, &err) == LMS_ERR_FORMAT &&
          strstr(err.msg, "docs.jsonl:1: the file changed"));
    lms_jsonl_text_buf_free(&b);
    if (f) fclose(f);
    /* another text field, and a domain field */
    lms_jsonl_text_opts o = {.text_field = "src"};
    memset(&g, 0, sizeof g);
    write_str("src.jsonl", "{\"src\": \"web\", \"text\": \"a\"}\n{\"src\": \"books\", \"text\": \"b\"}\n");
    CHECK(lms_jsonl_text_read(tmp_path("src.jsonl"), &o, 0, keep, &g, NULL, &err) == LMS_OK && g.n == 2 &&
          g.len[1] == 5 && !memcmp(g.text[1], "books", 5));
    o = (lms_jsonl_text_opts){.domain_field = "src"};
    memset(&g, 0, sizeof g);
    CHECK(lms_jsonl_text_read(tmp_path("src.jsonl"), &o, 0, keep, &g, NULL, &err) == LMS_OK && g.n == 2 &&
          !strcmp(g.dom[0], "web") && !strcmp(g.dom[1], "books") && g.text[1][0] == 'b');
    /* a byte order mark before the first line */
    write_str("bom.jsonl", "\xEF\xBB\xBF{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
    memset(&g, 0, sizeof g);
    CHECK(lms_jsonl_text_read(tmp_path("bom.jsonl"), NULL, 0, keep, &g, NULL, &err) == LMS_OK && g.n == 2 && g.off[0] == 3 &&
          g.line_len[0] == 13 && g.text[0][0] == 'a');
    CHECK(lms_jsonl_text_path("a/b.jsonl") && lms_jsonl_text_path("x.ndjson") && !lms_jsonl_text_path("x.json") &&
          !lms_jsonl_text_path(".jsonl") && !lms_jsonl_text_path("x.jsonl.gz"));
}

static void test_bad_lines(void) {
    static const struct {
        const char *line, *domain_field, *want;
    } cases[] = {
        {"not json", NULL, "not valid JSON"},
        {"{\"text\": \"a\"} {", NULL, "not valid JSON"},
        {"[1, 2]", NULL, "an array, not an object with a \"text\" field"},
        {"\"text\"", NULL, "a string, not an object"},
        {"{\"txt\": \"a\", \"id\": 3}", NULL, "no \"text\" field (the object has \"txt\", \"id\"; name the field with --text-field)"},
        {"{}", NULL, "no \"text\" field (the object has no fields"},
        {"{\"text\": 5}", NULL, "the \"text\" field is a number, not a string"},
        {"{\"text\": null}", NULL, "the \"text\" field is null, not a string"},
        {"{\"text\": [\"a\"]}", NULL, "the \"text\" field is an array"},
        {"{\"text\": \"a\\ud800b\"}", NULL, "not valid JSON (invalid Unicode"},
        {"{\"text\": \"a\\u0000b\"}", NULL, "not valid JSON (\\u0000 is not allowed"},
        {"{\"text\": \"\xff\"}", NULL, "not valid JSON (unable to decode byte 0xff"},
        {"{\"text\": \"a\", \"text\": \"b\"}", NULL, "not valid JSON (duplicate object key"},
        {"{\"text\": \"a\", \"other\": 1}", NULL, NULL}, /* other fields are no business of ours */
        {"{\"text\": \"a\"}", "src", "no \"src\" field (the object has \"text\"; name the field with --domain-field)"},
        {"{\"text\": \"a\", \"src\": 1}", "src", "the \"src\" field is a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"text\": \"fine\"}\n\n%s\n{\"text\": \"fine\"}\n", cases[i].line);
        write_str("bad.jsonl", body);
        lms_jsonl_text_opts o = {.domain_field = cases[i].domain_field};
        if (cases[i].domain_field) { /* the good lines need the domain too */
            snprintf(body, sizeof body, "{\"text\": \"fine\", \"src\": \"d\"}\n\n%s\n", cases[i].line);
            write_str("bad.jsonl", body);
        }
        got_docs g = {0};
        lms_err err = {0};
        lms_status st = lms_jsonl_text_read(tmp_path("bad.jsonl"), &o, 0, keep, &g, NULL, &err);
        if (!cases[i].want) {
            CHECKF(st == LMS_OK && g.n == 3, "case %zu: %s", i, err.msg);
            continue;
        }
        CHECKF(st == LMS_ERR_FORMAT && strstr(err.msg, "bad.jsonl:3: ") && strstr(err.msg, cases[i].want), "case %zu: %s", i,
               err.msg);
        o.skip_bad = 1;
        memset(&g, 0, sizeof g);
        lms_jsonl_text_counts n;
        st = lms_jsonl_text_read(tmp_path("bad.jsonl"), &o, 0, keep, &g, &n, &err);
        CHECKF(st == LMS_OK && n.bad == 1 && g.n == (cases[i].domain_field ? 1 : 2), "case %zu skipped: %d", i, (int)st);
    }
    /* a raw NUL byte */
    lms_err err = {0};
    CHECK(lms_file_write_all(tmp_path("nul.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"a\0\"}\n", 29, &err) == LMS_OK);
    got_docs g = {0};
    CHECK(lms_jsonl_text_read(tmp_path("nul.jsonl"), NULL, 0, keep, &g, NULL, &err) == LMS_ERR_FORMAT &&
          strstr(err.msg, "nul.jsonl:2: a NUL byte"));
    /* a line one byte over the limit: an error, even with skip_bad (it cannot be read) */
    size_t big = LMS_JSONL_MAX_LINE + 1;
    char *s = malloc(big + 1);
    if (s) {
        memset(s, ' ', big);
        s[big] = '\n';
        memcpy(s, "{\"text\": \"x\"}", 13);
        FILE *f = fopen(tmp_path("huge.jsonl"), "wb");
        CHECK(f && fwrite("{\"text\": \"a\"}\n", 1, 14, f) == 14 && fwrite(s, 1, big + 1, f) == big + 1);
        if (f) fclose(f);
        lms_jsonl_text_opts o = {.skip_bad = 1};
        memset(&g, 0, sizeof g);
        CHECKF(lms_jsonl_text_read(tmp_path("huge.jsonl"), &o, 0, keep, &g, NULL, &err) == LMS_ERR_FORMAT &&
               strstr(err.msg, "huge.jsonl:2: a line longer than 67108864 bytes (64 MiB)") && g.n == 1, "%s", err.msg);
        free(s);
        remove(tmp_path("huge.jsonl"));
        /* one byte less is a document */
        f = fopen(tmp_path("max.jsonl"), "wb");
        char *t = calloc(1, big);
        if (t && f) {
            memset(t, ' ', big - 1);
            memcpy(t, "{\"text\": \"x\"}", 13);
            t[big - 1] = '\n';
            CHECK(fwrite(t, 1, big, f) == big);
        }
        if (f) fclose(f);
        memset(&g, 0, sizeof g);
        CHECK(lms_jsonl_text_read(tmp_path("max.jsonl"), NULL, 0, keep, &g, NULL, &err) == LMS_OK && g.n == 1);
        free(t);
        remove(tmp_path("max.jsonl"));
    }
}

/* Random corpus text: documents of tricky pieces between separator lines (test_prepare_stream.c's). */
static size_t corpus_text(lms_rng *r, char *out, size_t cap) {
    static const char *pool[] = {"a", "word", " the", "it's", "42", ".", "  ", " ", "\t", "\n", "\n\n", "\r\n", " \n ",
                                 "\"q\"", "back\\slash", "\x01", "\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x98\x80",
                                 "\xc2\xa0", "\xe3\x80\x80", "\n<|endoftext|>\n", "\n<|endoftext|>\r\n", "<|endoftext|>",
                                 "\n<|endoftext|>\n\n<|endoftext|>\n", "\n \n"};
    size_t n = 0, k = sizeof pool / sizeof *pool;
    while (n + 400 < cap) {
        if (lms_rng_below(r, 200) == 0) { /* a long stretch with no whitespace at all */
            size_t l = 100 + lms_rng_below(r, 300);
            for (size_t i = 0; i < l; i++) out[n++] = (char)('a' + i % 26);
            continue;
        }
        const char *p = pool[lms_rng_below(r, k)];
        memcpy(out + n, p, strlen(p));
        n += strlen(p);
    }
    return n;
}

/* s[0..n) as a JSON string into out, non-ASCII characters \u-escaped at random (surrogate pairs
   above U+FFFF), with some whitespace around that trimming must remove. */
static size_t json_str(lms_rng *r, const char *s, size_t n, char *out) {
    const unsigned char *u = (const unsigned char *)s;
    size_t k = 0;
    out[k++] = '"';
    if (lms_rng_below(r, 3) == 0) k += (size_t)sprintf(out + k, " \\n\\t ");
    for (size_t i = 0; i < n; i++) {
        unsigned c = u[i];
        if (c == '"' || c == '\\') out[k++] = '\\', out[k++] = (char)c;
        else if (c == '\n') k += (size_t)sprintf(out + k, "\\n");
        else if (c < 0x20) k += (size_t)sprintf(out + k, "\\u%04x", c);
        else if (c >= 0x80) {
            int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (lms_rng_below(r, 2)) { /* the character as it is */
                memcpy(out + k, s + i, (size_t)len);
                k += (size_t)len;
                i += (size_t)len - 1;
                continue;
            }
            unsigned cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
            for (int j = 1; j < len; j++) cp = cp << 6 | (u[i + j] & 0x3F);
            if (cp >= 0x10000)
                k += (size_t)sprintf(out + k, "\\u%04X\\u%04x", 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF));
            else
                k += (size_t)sprintf(out + k, "\\u%04x", cp);
            i += (size_t)len - 1;
        } else out[k++] = (char)c;
    }
    if (lms_rng_below(r, 3) == 0) k += (size_t)sprintf(out + k, "\\r\\n");
    out[k++] = '"';
    return k;
}

/* The documents of text[0..n) (lms_corpus_split's) as JSON Lines, with blank lines and other
   fields here and there, the domain field "dom" set to dom. */
static size_t jsonl_of(lms_rng *r, const char *text, size_t n, const char *dom, char *out) {
    lms_doc_span *docs;
    size_t nd, k = 0;
    lms_err err = {0};
    if (lms_corpus_split(text, n, &docs, &nd, &err)) return 0;
    for (size_t i = 0; i < nd; i++) {
        k += (size_t)sprintf(out + k, "{\"id\": %zu, \"dom\": \"%s\", \"text\": ", i, dom);
        k += json_str(r, text + docs[i].off, docs[i].len, out + k);
        k += (size_t)sprintf(out + k, "}%s", lms_rng_below(r, 5) == 0 ? "\n\n" : "\n");
    }
    free(docs);
    return k;
}

/* Every shard file of dir a equals the one of the same name in dir b; manifests agree on counts. */
static int same_shards(const char *a, const char *b, int *files) {
    lms_manifest ma, mb;
    lms_err err = {0};
    if (lms_manifest_load(&ma, a, &err)) return 0;
    if (lms_manifest_load(&mb, b, &err)) { lms_manifest_free(&ma); return 0; }
    int ok = ma.n_domains == mb.n_domains;
    *files = 0;
    for (int d = 0; ok && d < ma.n_domains; d++) {
        const lms_manifest_domain *x = &ma.domains[d], *y = NULL;
        for (int e = 0; e < mb.n_domains; e++)
            if (!strcmp(mb.domains[e].name, x->name)) y = &mb.domains[e];
        ok = y && x->docs == y->docs && x->bytes == y->bytes && x->train.docs == y->train.docs &&
             x->val.docs == y->val.docs && x->train.n_files == y->train.n_files && x->val.n_files == y->val.n_files;
        for (int v = 0; ok && v < 2; v++) {
            const lms_manifest_split *sx = v ? &x->val : &x->train;
            for (int f = 0; ok && f < sx->n_files; f++) {
                char pa[1024], pb[1024];
                char *da = NULL, *db = NULL;
                size_t la = 0, lb = 0;
                lms_path_join(pa, sizeof pa, a, sx->files[f].file);
                lms_path_join(pb, sizeof pb, b, sx->files[f].file);
                ok = !lms_file_read_all(pa, &da, &la, &err) && !lms_file_read_all(pb, &db, &lb, &err) && la == lb &&
                     !memcmp(da, db, la);
                free(da);
                free(db);
                (*files)++;
            }
        }
    }
    lms_manifest_free(&ma);
    lms_manifest_free(&mb);
    return ok;
}

static void test_prepare_jsonl_equals_text(void) {
    lms_err err = {0};
    lms_rng r;
    lms_rng_seed(&r, 21);
    static char text[2][30000], js[2][120000];
    size_t tn[2], jn[2];
    CHECK(lms_mkdir_p(tmp_path("txt"), &err) == LMS_OK && lms_mkdir_p(tmp_path("jl"), &err) == LMS_OK &&
          lms_mkdir_p(tmp_path("mixed"), &err) == LMS_OK);
    for (int f = 0; f < 2; f++) {
        tn[f] = corpus_text(&r, text[f], sizeof text[f] - 8000);
        /* a document with a stretch longer than any small window and no whitespace */
        tn[f] += (size_t)sprintf(text[f] + tn[f], "\n<|endoftext|>\nstart ");
        for (int i = 0; i < 1000; i++) memcpy(text[f] + tn[f], "ab\xc3\xa9", 4), tn[f] += 4;
        tn[f] += (size_t)sprintf(text[f] + tn[f], " end\r\n\r\n   \n<|endoftext|>\n");
        char name[64];
        snprintf(name, sizeof name, "txt/d%d.txt", f);
        CHECK(lms_file_write_all(tmp_path(name), text[f], tn[f], &err) == LMS_OK);
        snprintf(name, sizeof name, "d%d", f);
        jn[f] = jsonl_of(&r, text[f], tn[f], name, js[f]);
        snprintf(name, sizeof name, "jl/d%d.jsonl", f);
        CHECK(jn[f] > 0 && lms_file_write_all(tmp_path(name), js[f], jn[f], &err) == LMS_OK);
    }
    /* one file with both domains' documents interleaved, by line: --domain-field dom */
    FILE *f = fopen(tmp_path("mixed/all.ndjson"), "wb");
    const char *p[2] = {js[0], js[1]}, *end[2] = {js[0] + jn[0], js[1] + jn[1]};
    while (f && (p[0] < end[0] || p[1] < end[1])) {
        int w = p[0] < end[0] && (p[1] >= end[1] || lms_rng_below(&r, 2)) ? 0 : 1;
        const char *nl = memchr(p[w], '\n', (size_t)(end[w] - p[w]));
        size_t l = nl ? (size_t)(nl - p[w]) + 1 : (size_t)(end[w] - p[w]);
        fwrite(p[w], 1, l, f);
        p[w] += l;
    }
    if (f) fclose(f);
    lms_tokenizer *gpt2 = NULL, *bytes = lms_tokenizer_bytes();
    CHECK(lms_tokenizer_load(&gpt2, "tests/fixtures/gpt2", &err) == LMS_OK);
    const struct { size_t window, segment; int threads; } cfg[] = {{64, 8, 1}, {0, 0, 2}};
    for (int tk = 0; tk < 2; tk++) {
        const lms_tokenizer *tok = tk ? bytes : gpt2;
        if (!tok) continue;
        for (size_t k = 0; k < sizeof cfg / sizeof *cfg; k++) {
            lms_prepare_config pc = {.tok = tok, .tokenizer_name = "t", .val_fraction = 0.1, .shard_tokens = 999,
                                     .threads = cfg[k].threads, .window_bytes = cfg[k].window,
                                     .segment_bytes = cfg[k].segment};
            char o1[600], o2[600], o3[600];
            snprintf(o1, sizeof o1, "%s/t%d_%zu", tmp_path("out"), tk, k);
            snprintf(o2, sizeof o2, "%s/j%d_%zu", tmp_path("out"), tk, k);
            snprintf(o3, sizeof o3, "%s/m%d_%zu", tmp_path("out"), tk, k);
            CHECK(lms_data_prepare(tmp_path("txt"), o1, &pc, NULL, &err) == LMS_OK);
            CHECKF(lms_data_prepare(tmp_path("jl"), o2, &pc, NULL, &err) == LMS_OK, "%s", err.msg);
            pc.jsonl.domain_field = "dom";
            CHECKF(lms_data_prepare(tmp_path("mixed"), o3, &pc, NULL, &err) == LMS_OK, "%s", err.msg);
            int n12 = 0, n13 = 0;
            CHECKF(same_shards(o1, o2, &n12) && n12 > 8, "tokenizer %d, config %zu: %d files", tk, k, n12);
            CHECKF(same_shards(o1, o3, &n13) && n13 == n12, "tokenizer %d, config %zu, domain field: %d files", tk, k, n13);
        }
    }
    /* a domain from a .txt file and from JSON Lines: refused, nothing written */
    CHECK(lms_file_write_all(tmp_path("mixed/d1.txt"), "text\n", 5, &err) == LMS_OK);
    lms_prepare_config pc = {.tok = bytes, .jsonl = {.domain_field = "dom"}};
    CHECK(lms_data_prepare(tmp_path("mixed"), tmp_path("out/clash"), &pc, NULL, &err) == LMS_ERR_ARG &&
          strstr(err.msg, "domain 'd1' is given both by") && !lms_path_exists(tmp_path("out/clash")));
    lms_tokenizer_free(gpt2);
    lms_tokenizer_free(bytes);

    /* tokenizer training: a JSON Lines file's documents are its texts */
    lms_doc_span *docs;
    size_t nd;
    CHECK(lms_corpus_split(text[0], tn[0], &docs, &nd, &err) == LMS_OK);
    const char **texts = calloc(nd, sizeof *texts);
    size_t *lens = calloc(nd, sizeof *lens);
    for (size_t i = 0; texts && lens && i < nd; i++) texts[i] = text[0] + docs[i].off, lens[i] = docs[i].len;
    lms_tokenizer_train_config tc = {.vocab_size = 400, .threads = 2};
    lms_tokenizer *a = NULL, *b = NULL, *c = NULL;
    const char *paths[] = {tmp_path("jl/d0.jsonl")}, *tpaths[] = {tmp_path("txt/d0.txt")};
    CHECK(lms_tokenizer_train_texts(&a, texts, lens, (int)nd, &tc, &err) == LMS_OK);
    CHECK(lms_tokenizer_train_files(&b, paths, 1, &tc, &err) == LMS_OK);
    CHECK(lms_tokenizer_train_files(&c, tpaths, 1, &tc, &err) == LMS_OK);
    CHECK(a && b && c && !strcmp(lms_tokenizer_hash(a), lms_tokenizer_hash(b)) && lms_tokenizer_num_merges(a) > 100);
    CHECK(a && c && strcmp(lms_tokenizer_hash(a), lms_tokenizer_hash(c))); /* the separator lines count as text there */
    /* batches of any size give the same merges: JSON Lines and .txt mixed, counted 300 bytes at a time */
    const char *mix[] = {tmp_path("jl/d0.jsonl"), tmp_path("txt/d1.txt"), tmp_path("jl/d1.jsonl"), tmp_path("txt/d0.txt")};
    lms_tokenizer *m1 = NULL, *m2 = NULL;
    CHECK(lms_tokenizer_train_files(&m1, mix, 4, &tc, &err) == LMS_OK);
    tc.batch_bytes = 300;
    CHECK(lms_tokenizer_train_files(&m2, mix, 4, &tc, &err) == LMS_OK);
    tc.batch_bytes = 0;
    CHECK(m1 && m2 && !strcmp(lms_tokenizer_hash(m1), lms_tokenizer_hash(m2)) && lms_tokenizer_num_merges(m1) > 100);
    lms_tokenizer_free(m1);
    lms_tokenizer_free(m2);
    lms_tokenizer_free(a);
    lms_tokenizer_free(b);
    lms_tokenizer_free(c);
    free(texts);
    free(lens);
    free(docs);
    write_str("nodocs.jsonl", "\n{\"text\": \"  \"}\n");
    const char *np[] = {tmp_path("nodocs.jsonl")};
    CHECK(lms_tokenizer_train_files(&a, np, 1, &tc, &err) == LMS_ERR_ARG && strstr(err.msg, "no documents"));
    write_str("badline.jsonl", "{\"text\": \"ok\"}\n{\"text\": 1}\n");
    np[0] = tmp_path("badline.jsonl");
    CHECK(lms_tokenizer_train_files(&a, np, 1, &tc, &err) == LMS_ERR_FORMAT && strstr(err.msg, "badline.jsonl:2: "));
}

static void test_cleanup(void) {
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (tmpdir[0]) CHECK(system(cmd) == 0);
}

TESTS(test_line_reader, test_documents, test_bad_lines, test_prepare_jsonl_equals_text, test_cleanup)
