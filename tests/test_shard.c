/* test_shard.c — llm.c shards (round trips, llm.c's exact layout, truncation and corruption at many
 * cut points, vocabulary checks) and manifest.json (round trip, missing/unsafe fields). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "data/manifest.h"
#include "data/shard.h"
#include "harness.h"

#define TH_TMP_PREFIX "lms_test_shard"
#include "tmpfiles.h"

static void test_roundtrip_v1_v2(void) {
    lms_err err = {0};
    for (int version = 1; version <= 2; version++) {
        size_t n = 5000;
        uint32_t *t = malloc(n * sizeof *t);
        for (size_t i = 0; i < n; i++) t[i] = version == 1 ? (uint32_t)(i * 7919u % 65536u) : (uint32_t)(i * 2654435761u % 100000u);
        t[0] = 0;
        t[1] = version == 1 ? 65535u : 4000000000u;
        const char *p = tmp_path(version == 1 ? "v1.bin" : "v2.bin");
        CHECK(lms_shard_write(p, t, n, version, &err) == LMS_OK);
        lms_mmap m;
        CHECK(lms_mmap_open(&m, p, &err) == LMS_OK);
        CHECK(m.len == 1024 + n * (version == 1 ? 2 : 4));
        const int32_t *h = (const int32_t *)m.data;
        CHECK(h[0] == 20240520 && h[1] == version && h[2] == (int32_t)n);
        for (int i = 3; i < 256; i++) CHECK(h[i] == 0);
        lms_mmap_close(&m);
        uint32_t *back;
        size_t nb;
        int ver;
        CHECK(lms_shard_read(p, 0, &back, &nb, &ver, &err) == LMS_OK);
        CHECK(nb == n && ver == version);
        CHECK(back && memcmp(back, t, n * sizeof *t) == 0);
        lms_shard s;
        CHECK(lms_shard_open(&s, p, 0, &err) == LMS_OK);
        CHECK(s.max_token == t[1]);
        int32_t w[3];
        lms_shard_copy(&s, 1, 3, w);
        CHECK((uint32_t)w[1] == t[2] && (uint32_t)w[2] == t[3]);
        lms_shard_close(&s);
        free(back);
        free(t);
    }
    /* Empty shards are valid. */
    CHECK(lms_shard_write(tmp_path("empty.bin"), NULL, 0, 1, &err) == LMS_OK);
    uint32_t *back;
    size_t nb;
    CHECK(lms_shard_read(tmp_path("empty.bin"), 0, &back, &nb, NULL, &err) == LMS_OK && nb == 0 && !back);
    /* Version 1 refuses ids above 65535; unknown versions are refused. */
    uint32_t big = 70000;
    CHECK(lms_shard_write(tmp_path("big.bin"), &big, 1, 1, &err) == LMS_ERR_ARG);
    CHECK(strstr(err.msg, "70000") != NULL);
    CHECK(!lms_path_exists(tmp_path("big.bin")));
    CHECK(lms_shard_write(tmp_path("v3.bin"), &big, 1, 3, &err) == LMS_ERR_ARG);
    CHECK(lms_shard_version_for_vocab(256) == 1 && lms_shard_version_for_vocab(50257) == 1);
    CHECK(lms_shard_version_for_vocab(65535) == 1 && lms_shard_version_for_vocab(65536) == 2 &&
          lms_shard_version_for_vocab(100000) == 2);
}

/* Write a file the way llm.c's data scripts do: int32 header[256] then uint16 tokens. */
static void test_llmc_layout(void) {
    const char *p = tmp_path("tiny_shakespeare_val.bin");
    FILE *fp = fopen(p, "wb");
    int32_t header[256] = {0};
    uint16_t toks[6] = {50256, 5962, 22307, 25, 198, 8421};
    header[0] = 20240520;
    header[1] = 1;
    header[2] = 6;
    fwrite(header, sizeof(int32_t), 256, fp);
    fwrite(toks, sizeof(uint16_t), 6, fp);
    fclose(fp);
    lms_err err = {0};
    uint32_t *back;
    size_t n;
    int ver;
    CHECK(lms_shard_read(p, 50257, &back, &n, &ver, &err) == LMS_OK);
    CHECK(n == 6 && ver == 1);
    for (int i = 0; i < 6 && back; i++) CHECK(back[i] == toks[i]);
    free(back);
    /* Same file against a too-small vocabulary: a mismatch naming the id. */
    CHECK(lms_shard_read(p, 50000, &back, &n, &ver, &err) == LMS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "50256") && strstr(err.msg, "50000"));
}

static void test_truncated_and_corrupt(void) {
    lms_err err = {0};
    uint32_t t[100];
    for (int i = 0; i < 100; i++) t[i] = (uint32_t)i * 3;
    for (int version = 1; version <= 2; version++) {
        const char *p = tmp_path("full.bin");
        CHECK(lms_shard_write(p, t, 100, version, &err) == LMS_OK);
        char *data;
        size_t len;
        CHECK(lms_file_read_all(p, &data, &len, &err) == LMS_OK);
        /* Every cut point: the header, the middle of a token, a whole token short. */
        int refused = 0, named = 0, sized = 0;
        for (size_t cut = 0; cut < len; cut++) {
            lms_shard_header h;
            lms_status st = lms_shard_check(data, cut, "cut.bin", 0, &h, &err);
            refused += st == LMS_ERR_FORMAT;
            named += strstr(err.msg, "cut.bin") != NULL;
            if (cut >= 1024) {
                char want[64];
                snprintf(want, sizeof want, "file has %zu", cut - 1024);
                sized += strstr(err.msg, "truncated") && strstr(err.msg, want);
            }
        }
        CHECK(refused == (int)len && named == (int)len);
        CHECK(sized == (int)(len - 1024));
        /* Also through the file path: a truncated file on disk. */
        CHECK(lms_file_write_all(tmp_path("trunc.bin"), data, len - 3, &err) == LMS_OK);
        lms_shard s;
        CHECK(lms_shard_open(&s, tmp_path("trunc.bin"), 0, &err) == LMS_ERR_FORMAT);
        CHECK(strstr(err.msg, "trunc.bin") && strstr(err.msg, "truncated"));
        /* One byte too many. */
        char *longer = malloc(len + 1);
        memcpy(longer, data, len);
        longer[len] = 0;
        CHECK(lms_shard_check(longer, len + 1, "x", 0, NULL, &err) == LMS_ERR_FORMAT);
        CHECK(strstr(err.msg, "longer") != NULL);
        free(longer);
        /* Header corruptions. */
        char save[12];
        memcpy(save, data, 12);
        data[0] ^= 1;
        CHECK(lms_shard_check(data, len, "x", 0, NULL, &err) == LMS_ERR_FORMAT && strstr(err.msg, "magic"));
        memcpy(data, save, 12);
        data[4] = 3;
        CHECK(lms_shard_check(data, len, "x", 0, NULL, &err) == LMS_ERR_FORMAT && strstr(err.msg, "version 3"));
        memcpy(data, save, 12);
        data[11] = (char)0x80; /* negative count */
        CHECK(lms_shard_check(data, len, "x", 0, NULL, &err) == LMS_ERR_FORMAT);
        memcpy(data, save, 12);
        data[8] = 101; /* count one larger than the payload */
        CHECK(lms_shard_check(data, len, "x", 0, NULL, &err) == LMS_ERR_FORMAT);
        memcpy(data, save, 12);
        lms_shard_header h;
        CHECK(lms_shard_check(data, len, "x", 298, &h, &err) == LMS_OK && h.n_tokens == 100);
        CHECK(lms_shard_check(data, len, "x", 297, &h, &err) == LMS_ERR_MISMATCH);
        free(data);
    }
    lms_shard s;
    CHECK(lms_shard_open(&s, tmp_path("does_not_exist.bin"), 0, &err) == LMS_ERR_IO);
}

static void fill_manifest(lms_manifest *m) {
    memset(m, 0, sizeof *m);
    m->format_version = 1;
    m->shard_version = 1;
    strcpy(m->tokenizer_hash, "abc123");
    m->tokenizer_name = strdup("tok/");
    m->vocab_size = 300;
    m->eot = 299;
    m->n_sep = 1;
    m->sep[0] = 299;
    m->val_fraction = 0.1;
    m->n_domains = 2;
    m->domains = calloc(2, sizeof *m->domains);
    for (int d = 0; d < 2; d++) {
        lms_manifest_domain *md = &m->domains[d];
        md->name = strdup(d ? "novels" : "quotes");
        md->source = strdup(d ? "novels.txt" : "quotes.txt");
        md->docs = 10 + d;
        md->bytes = 1000 + d;
        md->train.docs = 9;
        md->train.n_files = 2;
        md->train.files = calloc(2, sizeof *md->train.files);
        md->train.files[0].file = strdup(d ? "novels_train_000000.bin" : "quotes_train_000000.bin");
        md->train.files[0].tokens = 40;
        md->train.files[1].file = strdup(d ? "novels_train_000001.bin" : "quotes_train_000001.bin");
        md->train.files[1].tokens = 2;
        md->train.tokens = 42;
        md->val.docs = 1 + d;
        md->val.tokens = 0;
        md->val.files = NULL;
    }
}

static lms_status parse_str(const char *json, lms_err *err) {
    lms_manifest m;
    lms_status st = lms_manifest_parse(&m, json, strlen(json), "t.json", err);
    if (!st) lms_manifest_free(&m);
    return st;
}

static void test_manifest(void) {
    lms_err err = {0};
    (void)tmp_path("x"); /* creates tmpdir when this test runs alone */
    lms_manifest m, back;
    fill_manifest(&m);
    CHECK(lms_manifest_save(&m, tmpdir, &err) == LMS_OK);
    CHECK(lms_manifest_load(&back, tmpdir, &err) == LMS_OK);
    CHECK(back.n_domains == 2 && back.vocab_size == 300 && back.eot == 299 && back.shard_version == 1);
    CHECK(!strcmp(back.tokenizer_hash, "abc123") && !strcmp(back.tokenizer_name, "tok/"));
    CHECK(back.n_sep == 1 && back.sep[0] == 299 && !back.sep_is_text);
    CHECK(!strcmp(back.domains[1].name, "novels") && back.domains[1].docs == 11 && back.domains[1].bytes == 1001);
    CHECK(back.domains[0].train.n_files == 2 && back.domains[0].train.tokens == 42);
    CHECK(!strcmp(back.domains[0].train.files[1].file, "quotes_train_000001.bin"));
    CHECK(back.domains[1].val.docs == 2 && back.domains[1].val.n_files == 0);
    CHECK(lms_manifest_find(&back, "novels") == 1 && lms_manifest_find(&back, "poems") == -1);
    lms_manifest_free(&back);
    lms_manifest_free(&m);

    /* Read the saved text back and break it in many ways. */
    char *text;
    size_t len;
    char mp[256];
    CHECK(lms_file_read_all(lms_path_join(mp, sizeof mp, tmpdir, "manifest.json"), &text, &len, &err) == LMS_OK);
    CHECK(parse_str(text, &err) == LMS_OK);
    struct {
        const char *from, *to, *expect;
    } cases[] = {
        {"\"format\": \"lmscope-shards\"", "\"format\": \"other\"", "format"},
        {"\"format_version\": 1", "\"format_version\": 9", "format_version 9"},
        {"\"shard_version\": 1", "\"shard_version\": 7", "shard_version"},
        {"\"vocab_size\": 300", "\"vocab_size\": -3", "vocab_size"},
        {"\"eot\": 299", "\"eot\": 300", "eot"},
        {"\"hash\": \"abc123\"", "\"hash\": 5", "hash"},
        {"quotes_train_000001.bin", "../../etc/passwd", "plain file name"},
        {"\"tokens\": 42", "\"tokens\": 43", "files hold 42"},
        {"\"name\": \"novels\"", "\"name\": \"quotes\"", "twice"},
        {"\"name\": \"novels\"", "\"name\": \"a/b\"", "name"},
        {"\"bytes\": 1001", "\"bytes\": \"x\"", "bytes"},
        {"\"domains\": [", "\"domainz\": [", "domains"},
        {"\"kind\": \"eot\"", "\"kind\": \"zip\"", "doc_separator"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = strstr(text, cases[i].from);
        CHECKF(p != NULL, "case %zu", i);
        if (!p) continue;
        char buf[16384];
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - text), text, cases[i].to, p + strlen(cases[i].from));
        lms_status st = parse_str(buf, &err);
        CHECKF(st == LMS_ERR_FORMAT && strstr(err.msg, cases[i].expect) && strstr(err.msg, "t.json"),
               "case %zu: status %d, msg %s", i, (int)st, err.msg);
    }
    CHECK(parse_str("{", &err) == LMS_ERR_FORMAT && strstr(err.msg, "not valid JSON"));
    CHECK(parse_str("[]", &err) == LMS_ERR_FORMAT);
    CHECK(parse_str("", &err) == LMS_ERR_FORMAT);
    free(text);
    CHECK(lms_manifest_load(&m, "/nonexistent_dir_lms", &err) == LMS_ERR_IO);
    CHECK(lms_manifest_safe_name("a_train_000000.bin") && !lms_manifest_safe_name("..") &&
          !lms_manifest_safe_name("a/b") && !lms_manifest_safe_name(""));
}

static void cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (tmpdir[0] && system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
}

static void test_zz_cleanup(void) {
    cleanup();
    CHECK(!lms_path_exists(tmpdir));
}

TESTS(test_roundtrip_v1_v2, test_llmc_layout, test_truncated_and_corrupt, test_manifest, test_zz_cleanup)
