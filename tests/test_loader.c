/* test_loader.c — the data loader: determinism, exact resume, domain mixing proportions, fixed
 * validation set, llm.c shard directories without manifest, in-memory tokens, and the errors
 * (bad weights, shards too short, tokenizer mismatch, manifest/shard disagreements). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/rng.h"
#include "data/loader.h"
#include "data/prepare.h"
#include "data/shard.h"
#include "harness.h"
#include "tokenizer/tokenizer.h"

#define TH_TMP_PREFIX "lms_test_loader"
#include "tmpfiles.h"

/* A corpus with two domains whose alphabets do not overlap each other nor the separator text
   "<|endoftext|>": "digits" (0-9 and spaces, 3x the text) and "upper" (A-Z and spaces). */
static const char *make_shards(void) {
    static int made;
    static char out[512];
    if (made) return out;
    snprintf(out, sizeof out, "%s", tmp_path("shards"));
    made = 1;
    lms_err err = {0};
    lms_mkdir_p(tmp_path("corpus"), &err);
    lms_rng r;
    lms_rng_seed(&r, 5);
    for (int dom = 0; dom < 2; dom++) {
        size_t cap = 200000, n = 0;
        char *text = malloc(cap);
        int docs = dom == 0 ? 60 : 20;
        for (int d = 0; d < docs; d++) {
            int len = 300 + (int)lms_rng_below(&r, 200);
            for (int i = 0; i < len; i++) {
                int c = (int)lms_rng_below(&r, dom == 0 ? 11 : 27);
                text[n++] = c == 0 ? ' ' : (char)(dom == 0 ? '0' + c - 1 : 'A' + c - 1);
            }
            text[n++] = 'X'; /* never a space at the end: trimming keeps every byte */
            n += (size_t)sprintf(text + n, "\n<|endoftext|>\n");
        }
        char name[64];
        snprintf(name, sizeof name, "corpus/%s.txt", dom == 0 ? "digits" : "upper");
        CHECK(lms_file_write_all(tmp_path(name), text, n, &err) == LMS_OK);
        free(text);
    }
    lms_prepare_config pc = {.val_docs = 4, .shard_tokens = 5000};
    CHECK(lms_data_prepare(tmp_path("corpus"), out, &pc, NULL, &err) == LMS_OK);
    if (err.msg[0]) fprintf(stderr, "%s\n", err.msg);
    return out;
}

static int in_alphabet(int32_t t, int dom) {
    static const char *sep = "<|endoftext|>";
    if (strchr(sep, (char)t) && t != 0) return 1;
    if (t == ' ' || t == 'X' || t == '\n') return 1;
    return dom == 0 ? (t >= '0' && t <= '9') : (t >= 'A' && t <= 'Z');
}

static void test_determinism_and_windows(void) {
    lms_err err = {0};
    const char *dir = make_shards();
    lms_loader_config c = {.B = 4, .T = 16, .seed = 42};
    lms_loader *a, *b, *other;
    CHECK(lms_loader_open(&a, dir, &c, &err) == LMS_OK);
    CHECK(lms_loader_open(&b, dir, &c, &err) == LMS_OK);
    c.seed = 43;
    CHECK(lms_loader_open(&other, dir, &c, &err) == LMS_OK);
    if (!a || !b || !other) return;
    CHECK(lms_loader_num_domains(a) == 2);
    CHECK(!strcmp(lms_loader_domain_name(a, 0), "digits") && !strcmp(lms_loader_domain_name(a, 1), "upper"));
    CHECK(lms_loader_vocab_size(a) == 256);
    int32_t in1[64], tg1[64], in2[64], tg2[64], in3[64], tg3[64];
    int rd[4];
    int same = 1, differs = 0, shifted = 1, alphabet = 1;
    for (int s = 0; s < 50; s++) {
        lms_loader_next_domains(a, in1, tg1, rd);
        lms_loader_next(b, in2, tg2);
        lms_loader_next(other, in3, tg3);
        same &= !memcmp(in1, in2, sizeof in1) && !memcmp(tg1, tg2, sizeof tg1);
        differs += memcmp(in1, in3, sizeof in1) != 0;
        for (int row = 0; row < 4; row++) {
            for (int t = 0; t + 1 < 16; t++) shifted &= tg1[row * 16 + t] == in1[row * 16 + t + 1];
            for (int t = 0; t < 16; t++) alphabet &= in_alphabet(in1[row * 16 + t], rd[row]) && in_alphabet(tg1[row * 16 + t], rd[row]);
        }
    }
    CHECK(same);
    CHECK(differs >= 49);
    CHECK(shifted);  /* targets are the inputs moved by one token */
    CHECK(alphabet); /* each row comes from the domain it reports */
    lms_loader_free(a);
    lms_loader_free(b);
    lms_loader_free(other);
}

static void test_exact_resume(void) {
    lms_err err = {0};
    const char *dir = make_shards();
    lms_loader_config c = {.B = 3, .T = 8, .seed = 7, .weights = "digits=1,upper=1"};
    lms_loader *a, *b;
    CHECK(lms_loader_open(&a, dir, &c, &err) == LMS_OK);
    c.seed = 999; /* the restored state, not the config, decides */
    CHECK(lms_loader_open(&b, dir, &c, &err) == LMS_OK);
    if (!a || !b) return;
    enum { N = 100, K = 37, BT = 24 };
    static int32_t ins[N][BT], tgs[N][BT];
    lms_loader_state sk = {{0}, 0};
    for (int s = 0; s < N; s++) {
        if (s == K) lms_loader_get_state(a, &sk);
        lms_loader_next(a, ins[s], tgs[s]);
    }
    CHECK(sk.batches == K);
    for (int s = 0; s < 5; s++) lms_loader_next(b, ins[0] + 0, tgs[0] + 0); /* b wanders off first */
    lms_loader_set_state(b, &sk);
    lms_loader_state back;
    lms_loader_get_state(b, &back);
    CHECK(!memcmp(&back, &sk, sizeof sk));
    int same = 1;
    int32_t in[BT], tg[BT];
    for (int s = K; s < N; s++) {
        lms_loader_next(b, in, tg);
        if (s == 0) continue;
        same &= !memcmp(in, ins[s], sizeof in) && !memcmp(tg, tgs[s], sizeof tg);
    }
    CHECK(same);
    lms_loader_free(a);
    lms_loader_free(b);
}

/* Row counts per domain against their expected share. Rows are independent draws, so the count
   of domain-0 rows is Binomial(n, p); we allow 5 standard deviations (a false failure has
   probability ~6e-7 for a random seed; the seed is fixed, so the test is also reproducible). */
static void check_mix(const char *weights, double p0_expected) {
    lms_err err = {0};
    lms_loader_config c = {.B = 16, .T = 8, .seed = 2024, .weights = weights};
    lms_loader *l;
    CHECK(lms_loader_open(&l, make_shards(), &c, &err) == LMS_OK);
    if (!l) return;
    CHECK_NEAR(lms_loader_domain_weight(l, 0), p0_expected, 1e-12);
    int32_t in[128], tg[128];
    int rd[16];
    int n = 0, n0 = 0;
    for (int s = 0; s < 400; s++) {
        lms_loader_next_domains(l, in, tg, rd);
        for (int r = 0; r < 16; r++) n0 += rd[r] == 0;
        n += 16;
    }
    double sd = sqrt(n * p0_expected * (1 - p0_expected));
    CHECKF(fabs(n0 - n * p0_expected) <= 5 * sd + 1e-9, "weights %s: %d of %d rows from domain 0, expected %.1f +- %.1f",
           weights ? weights : "(natural)", n0, n, n * p0_expected, 5 * sd);
    lms_loader_free(l);
}

static void test_mixing_proportions(void) {
    lms_err err = {0};
    lms_loader_config c = {.B = 1, .T = 8, .seed = 1};
    lms_loader *l;
    CHECK(lms_loader_open(&l, make_shards(), &c, &err) == LMS_OK);
    if (!l) return;
    double t0 = (double)lms_loader_domain_train_tokens(l, 0), t1 = (double)lms_loader_domain_train_tokens(l, 1);
    CHECK(t0 > 2 * t1); /* digits has 3x the documents */
    lms_loader_free(l);
    check_mix(NULL, t0 / (t0 + t1));
    check_mix("digits=1,upper=3", 0.25);
    check_mix("upper=1,digits=1", 0.5);
    check_mix("upper=2", 0.0);
    /* '*': the domains not named share the weight in their natural proportions */
    check_mix("upper=3,*=1", 0.25);
    check_mix("*=1", t0 / (t0 + t1));
    check_mix("digits=0,*=5", 0.0);
}

static void test_validation_fixed(void) {
    lms_err err = {0};
    const char *dir = make_shards();
    lms_loader_config c = {.B = 4, .T = 16, .seed = 1, .val_tokens_per_domain = 16 * 10};
    lms_loader *a, *b;
    CHECK(lms_loader_open(&a, dir, &c, &err) == LMS_OK);
    c.seed = 2;
    c.weights = "upper=1";
    CHECK(lms_loader_open(&b, dir, &c, &err) == LMS_OK);
    if (!a || !b) return;
    /* 10 windows per domain (capped) in batches of 4: 4 + 4 + 2 rows, 3 batches per domain. */
    CHECK(lms_loader_num_val_batches(a) == 6);
    CHECK(lms_loader_val_rows(a, 4) == 2 && lms_loader_val_rows(a, 5) == 2 && lms_loader_val_rows(a, 0) == 4);
    CHECK(lms_loader_domain_val_tokens(a, 0) == 160);
    int32_t i1[64], t1[64], i2[64], t2[64];
    int32_t junk_i[64], junk_t[64];
    int same = 1;
    for (int i = 0; i < lms_loader_num_val_batches(a); i++) {
        const char *d1, *d2;
        lms_loader_val_batch(a, i, i1, t1, &d1);
        lms_loader_next(a, junk_i, junk_t); /* training draws do not disturb validation */
        lms_loader_val_batch(b, i, i2, t2, &d2);
        same &= !memcmp(i1, i2, sizeof i1) && !memcmp(t1, t2, sizeof t1) && !strcmp(d1, d2);
        lms_loader_val_batch(a, i, i2, t2, NULL);
        same &= !memcmp(i1, i2, sizeof i1);
        CHECK(!strcmp(d1, i % 2 == 0 ? "digits" : "upper")); /* round robin over the two domains */
        CHECK(lms_loader_val_domain(a, i) == i % 2);
    }
    CHECK(same);
    /* The first validation window is the start of the first val shard; windows advance by T. */
    uint32_t *vt;
    size_t vn;
    char p[512];
    CHECK(lms_shard_read(lms_path_join(p, sizeof p, dir, "digits_val_000000.bin"), 256, &vt, &vn, NULL, &err) == LMS_OK);
    lms_loader_val_batch(a, 0, i1, t1, NULL);
    int match = vn > 64;
    for (int r = 0; r < 4 && match; r++)
        for (int t = 0; t < 16; t++) match &= (uint32_t)i1[r * 16 + t] == vt[r * 16 + t] && (uint32_t)t1[r * 16 + t] == vt[r * 16 + t + 1];
    CHECK(match);
    /* The last, partial batch (digits' third) repeats the domain's first windows. */
    lms_loader_val_batch(a, 4, i1, t1, NULL);
    lms_loader_val_batch(a, 0, i2, t2, NULL);
    CHECK(!memcmp(i1 + 2 * 16, i2, 2 * 16 * sizeof *i1));
    free(vt);
    lms_loader_free(a);
    lms_loader_free(b);
}

static void test_errors(void) {
    lms_err err = {0};
    const char *dir = make_shards();
    lms_loader *l = (lms_loader *)1;
    lms_loader_config c = {.B = 2, .T = 8, .seed = 1, .weights = "poems=1"};
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_ERR_ARG && l == NULL);
    CHECK(strstr(err.msg, "poems") && strstr(err.msg, "digits") && strstr(err.msg, "upper"));
    c.weights = "digits=-1";
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "-1"));
    c.weights = "digits=0,upper=0";
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "zero"));
    c.weights = "digits";
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "name=weight"));
    c.weights = "digits=1,upper=1,*=1";
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "'*' names no domain"));
    c.weights = NULL;
    c.B = 0;
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_ERR_ARG);
    /* Shards shorter than T+1 (each shard holds at most 5000 tokens). */
    c.B = 1;
    c.T = 6000;
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_ERR_ARG);
    CHECK(strstr(err.msg, "6001") && strstr(err.msg, "5000"));
    c.T = 8;
    /* Tokenizer checks. */
    CHECK(lms_loader_open(&l, dir, &c, &err) == LMS_OK);
    if (!l) return;
    lms_tokenizer *bytes = lms_tokenizer_bytes();
    CHECK(lms_loader_tokenizer_hash(l) && !strcmp(lms_loader_tokenizer_hash(l), lms_tokenizer_hash(bytes)));
    CHECK(lms_loader_check_tokenizer(l, bytes, &err) == LMS_OK);
    CHECK(lms_loader_check_hash(l, "0123456789abcdef", 256, &err) == LMS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "0123456789ab") && strstr(err.msg, "data prepare"));
    CHECK(lms_loader_check_hash(l, NULL, 64, &err) == LMS_ERR_MISMATCH); /* ids up to 'Z' exceed 64 */
    lms_tokenizer_free(bytes);
    lms_loader_free(l);
    /* Missing directory; empty directory. */
    CHECK(lms_loader_open(&l, tmp_path("nope"), &c, &err) == LMS_ERR_IO);
    lms_mkdir_p(tmp_path("emptydir"), &err);
    CHECK(lms_loader_open(&l, tmp_path("emptydir"), &c, &err) == LMS_ERR_ARG && strstr(err.msg, "data prepare"));
}

static void copy_file(const char *from, const char *to) {
    char *d;
    size_t n;
    lms_err err = {0};
    LMS_ASSERT(lms_file_read_all(from, &d, &n, &err) == LMS_OK);
    LMS_ASSERT(lms_file_write_all(to, d, n, &err) == LMS_OK);
    free(d);
}

static void test_manifest_disagreements(void) {
    lms_err err = {0};
    const char *dir = make_shards();
    char from[512], to[512];
    lms_mkdir_p(tmp_path("bad"), &err);
    const char *files[] = {"manifest.json", "digits_train_000000.bin", "digits_train_000001.bin", "digits_train_000002.bin",
                           "digits_train_000003.bin", "digits_train_000004.bin", "digits_train_000005.bin", "digits_val_000000.bin",
                           "upper_train_000000.bin", "upper_train_000001.bin", "upper_val_000000.bin"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        lms_path_join(from, sizeof from, dir, files[i]);
        if (lms_path_exists(from)) copy_file(from, lms_path_join(to, sizeof to, tmp_path("bad"), files[i]));
    }
    lms_loader_config c = {.B = 2, .T = 8, .seed = 1};
    lms_loader *l;
    CHECK(lms_loader_open(&l, tmp_path("bad"), &c, &err) == LMS_OK);
    lms_loader_free(l);
    /* A shard replaced by a valid one of another length. */
    uint32_t t[20] = {0};
    lms_path_join(to, sizeof to, tmp_path("bad"), "upper_val_000000.bin");
    CHECK(lms_shard_write(to, t, 20, 1, &err) == LMS_OK);
    CHECK(lms_loader_open(&l, tmp_path("bad"), &c, &err) == LMS_ERR_FORMAT && strstr(err.msg, "manifest.json says"));
    /* The right length but the wrong version. */
    {
        uint32_t *orig;
        size_t on;
        lms_path_join(from, sizeof from, dir, "upper_val_000000.bin");
        CHECK(lms_shard_read(from, 256, &orig, &on, NULL, &err) == LMS_OK);
        CHECK(lms_shard_write(to, orig, on, 2, &err) == LMS_OK);
        CHECK(lms_loader_open(&l, tmp_path("bad"), &c, &err) == LMS_ERR_FORMAT && strstr(err.msg, "version-2"));
        free(orig);
    }
    /* A truncated shard. */
    char *d;
    size_t n;
    lms_path_join(from, sizeof from, dir, "upper_val_000000.bin");
    CHECK(lms_file_read_all(from, &d, &n, &err) == LMS_OK);
    CHECK(lms_file_write_all(to, d, n - 1, &err) == LMS_OK);
    free(d);
    CHECK(lms_loader_open(&l, tmp_path("bad"), &c, &err) == LMS_ERR_FORMAT && strstr(err.msg, "upper_val_000000.bin") &&
          strstr(err.msg, "truncated"));
    /* A missing shard. */
    remove(to);
    CHECK(lms_loader_open(&l, tmp_path("bad"), &c, &err) == LMS_ERR_IO && strstr(err.msg, "missing shard"));
    /* A token above the manifest's vocabulary (256): a version-2 shard with id 300. */
    t[3] = 300;
    CHECK(lms_shard_write(to, t, 20, 2, &err) == LMS_OK);
    CHECK(lms_loader_open(&l, tmp_path("bad"), &c, &err) == LMS_ERR_MISMATCH && strstr(err.msg, "300"));
    /* A broken manifest. */
    lms_path_join(to, sizeof to, tmp_path("bad"), "manifest.json");
    CHECK(lms_file_write_all(to, "{\"format\": \"lmscope-shards\"}", 28, &err) == LMS_OK);
    CHECK(lms_loader_open(&l, tmp_path("bad"), &c, &err) == LMS_ERR_FORMAT && strstr(err.msg, "format_version"));
}

static void test_plain_llmc_dir_and_single_file(void) {
    lms_err err = {0};
    lms_mkdir_p(tmp_path("fw"), &err);
    uint32_t tr[3000], va[500];
    /* two train shards: 1000..2499 and 3000..4499, so a window that crossed from one shard into
       the other would not be a run of consecutive ids */
    for (int i = 0; i < 3000; i++) tr[i] = (i < 1500 ? 1000 : 1500) + (uint32_t)i;
    for (int i = 0; i < 500; i++) va[i] = 5000 + (uint32_t)i;
    char p[512];
    CHECK(lms_shard_write(lms_path_join(p, sizeof p, tmp_path("fw"), "fineweb_train_000001.bin"), tr, 1500, 1, &err) == LMS_OK);
    CHECK(lms_shard_write(lms_path_join(p, sizeof p, tmp_path("fw"), "fineweb_train_000002.bin"), tr + 1500, 1500, 1, &err) == LMS_OK);
    CHECK(lms_shard_write(lms_path_join(p, sizeof p, tmp_path("fw"), "fineweb_val_000000.bin"), va, 500, 1, &err) == LMS_OK);
    lms_loader_config c = {.B = 4, .T = 32, .seed = 3};
    lms_loader *l;
    CHECK(lms_loader_open(&l, tmp_path("fw"), &c, &err) == LMS_OK);
    if (!l) return;
    CHECK(lms_loader_num_domains(l) == 1 && !strcmp(lms_loader_domain_name(l, 0), "fineweb"));
    CHECK(lms_loader_vocab_size(l) == 5500); /* max id + 1 without a manifest */
    CHECK(lms_loader_tokenizer_hash(l) == NULL);
    CHECK(lms_loader_domain_train_tokens(l, 0) == 3000);
    int32_t in[128], tg[128];
    int ok = 1, first = 0, rows = 0;
    for (int s = 0; s < 100; s++) {
        lms_loader_next(l, in, tg);
        for (int r = 0; r < 4; r++) {
            int32_t s0 = in[r * 32];
            ok &= (s0 >= 1000 && s0 + 32 <= 2499) || (s0 >= 3000 && s0 + 32 <= 4499);
            for (int k = 0; k < 32; k++) ok &= in[r * 32 + k] == s0 + k && tg[r * 32 + k] == s0 + k + 1;
            first += s0 < 2500;
            rows++;
        }
    }
    CHECK(ok); /* whole windows inside one train shard, never the val shard */
    /* equal-sized shards are equally likely: Binomial(400, 0.5), 5 sigma = 50 */
    CHECKF(abs(first - rows / 2) <= 50, "%d of %d windows from the first shard", first, rows);
    CHECK(lms_loader_num_val_batches(l) == 4); /* (500-1)/32 = 15 windows -> 4 batches */
    lms_loader_val_batch(l, 0, in, tg, NULL);
    CHECK(in[0] == 5000 && tg[0] == 5001 && in[32] == 5032);
    lms_loader_free(l);
    /* A glob picks the same files. */
    char g[512];
    snprintf(g, sizeof g, "%s/fineweb_*.bin", tmp_path("fw"));
    CHECK(lms_loader_open(&l, g, &c, &err) == LMS_OK);
    if (l) CHECK(lms_loader_domain_train_tokens(l, 0) == 3000 && lms_loader_num_val_batches(l) == 4);
    lms_loader_free(l);
    /* A single .bin: last 10% becomes validation. */
    CHECK(lms_loader_open(&l, lms_path_join(p, sizeof p, tmp_path("fw"), "fineweb_train_000001.bin"), &c, &err) == LMS_OK);
    if (l) CHECK(lms_loader_domain_train_tokens(l, 0) == 1350);
    lms_loader_free(l);
}

static void test_from_tokens(void) {
    lms_err err = {0};
    uint32_t *t = malloc(1000 * sizeof *t);
    for (int i = 0; i < 1000; i++) t[i] = (uint32_t)i;
    lms_loader_config c = {.B = 2, .T = 10, .seed = 9};
    lms_loader *l;
    CHECK(lms_loader_from_tokens(&l, t, 1000, 1000, &c, &err) == LMS_OK);
    if (!l) { free(t); return; }
    CHECK(lms_loader_vocab_size(l) == 1000 && lms_loader_tokenizer_hash(l) == NULL);
    int32_t in[20], tg[20];
    int ok = 1;
    for (int s = 0; s < 200; s++) {
        lms_loader_next(l, in, tg);
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 10; k++) ok &= in[r * 10 + k] == in[r * 10] + k && tg[r * 10 + k] == in[r * 10] + k + 1 && tg[r * 10 + k] < 900;
    }
    CHECK(ok); /* contiguous windows entirely inside the first 90% */
    lms_loader_val_batch(l, 0, in, tg, NULL);
    CHECK(in[0] == 900 && in[10] == 910);
    lms_loader_free(l);
    CHECK(lms_loader_from_tokens(&l, t, 1000, 999, &c, &err) == LMS_ERR_MISMATCH && strstr(err.msg, "999"));
    CHECK(lms_loader_from_tokens(&l, t, 10, 1000, &c, &err) == LMS_ERR_ARG && strstr(err.msg, "10 tokens") && strstr(err.msg, "11"));
    /* 15 tokens: one training window fits, the 1-token validation part gives no batch. */
    CHECK(lms_loader_from_tokens(&l, t, 15, 1000, &c, &err) == LMS_OK);
    if (l) CHECK(lms_loader_num_val_batches(l) == 0 && lms_loader_domain_train_tokens(l, 0) == 14);
    lms_loader_free(l);
    free(t);
}

static void test_zz_cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK(tmpdir[0] && system(cmd) == 0);
}

TESTS(test_determinism_and_windows, test_exact_resume, test_mixing_proportions, test_validation_fixed, test_errors,
      test_manifest_disagreements, test_plain_llmc_dir_and_single_file, test_from_tokens, test_zz_cleanup)
