/* test_inspect.c — corpus reading (UTF-8 checks, document splitting, bad files), prepare (hold-out,
 * thread independence, shard splitting, EOT vs text separators), and looking at the data:
 * stats, sample, grep and dedup on a small temporary corpus with planted duplicates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/rng.h"
#include "data/corpus.h"
#include "data/dedup.h"
#include "data/inspect.h"
#include "data/manifest.h"
#include "data/prepare.h"
#include "data/shard.h"
#include "harness.h"
#include "tokenizer/tokenizer.h"

#define TH_TMP_PREFIX "lms_test_inspect"
#include "tmpfiles.h"

static void put(const char *name, const char *text, size_t len) {
    lms_err err = {0};
    LMS_ASSERT(lms_file_write_all(tmp_path(name), text, len, &err) == LMS_OK);
}

static void test_utf8_and_split(void) {
    const char *good = "plain ascii, é, €, 𝄞";
    CHECK(lms_utf8_valid_prefix(good, strlen(good)) == strlen(good));
    CHECK(lms_utf8_valid_prefix("ab\xc0\xafz", 5) == 2);       /* overlong '/' */
    CHECK(lms_utf8_valid_prefix("ab\xed\xa0\x80", 5) == 2);    /* UTF-16 surrogate */
    CHECK(lms_utf8_valid_prefix("a\xf4\x90\x80\x80", 5) == 1); /* above U+10FFFF */
    CHECK(lms_utf8_valid_prefix("abc\xe2\x82", 5) == 3);       /* cut character */
    CHECK(lms_utf8_valid_prefix("ab\0c", 4) == 2);              /* NUL */
    const char *t = "\n\nfirst doc\nline two\n\n<|endoftext|>\n<|endoftext|>\r\n   \n<|endoftext|>\n"
                    "second <|endoftext|> inline\r\n<|endoftext|> not a separator\n<|endoftext|>\nthird";
    lms_doc_span *d;
    size_t n;
    lms_err err = {0};
    CHECK(lms_corpus_split(t, strlen(t), &d, &n, &err) == LMS_OK);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(d[0].len == strlen("first doc\nline two") && !memcmp(t + d[0].off, "first doc\nline two", d[0].len));
        const char *s2 = "second <|endoftext|> inline\r\n<|endoftext|> not a separator";
        CHECK(d[1].len == strlen(s2) && !memcmp(t + d[1].off, s2, d[1].len));
        CHECK(d[2].len == 5 && !memcmp(t + d[2].off, "third", 5));
    }
    free(d);
    CHECK(lms_corpus_split("", 0, &d, &n, &err) == LMS_OK && n == 0);
    free(d);
}

static void test_corpus_bad_input(void) {
    lms_err err = {0};
    lms_mkdir_p(tmp_path("bad"), &err);
    put("bad/good.txt", "a document\n<|endoftext|>\nanother\n", 33);
    put("bad/nul.txt", "text\0more", 9);
    put("bad/latin1.txt", "caf\xe9\n", 5);
    put("bad/empty.txt", "\n<|endoftext|>\n\n", 16);
    put("bad/notes.md", "ignored", 7);
    lms_corpus c;
    CHECK(lms_corpus_open(&c, tmp_path("bad"), &err) == LMS_OK);
    CHECK(c.n_domains == 1 && c.n_skipped == 3);
    if (c.n_domains == 1) CHECK(!strcmp(c.domains[0].name, "good") && c.domains[0].n_docs == 2);
    lms_corpus_free(&c);
    /* One file given directly. */
    CHECK(lms_corpus_open(&c, tmp_path("bad/good.txt"), &err) == LMS_OK && c.n_domains == 1);
    lms_corpus_free(&c);
    CHECK(lms_corpus_open(&c, tmp_path("bad/nul.txt"), &err) == LMS_ERR_ARG && strstr(err.msg, "no usable"));
    /* A directory with only bad files, an empty directory, a missing path, an unreadable entry. */
    lms_mkdir_p(tmp_path("allbad"), &err);
    put("allbad/x.txt", "\xff\xfe", 2);
    CHECK(lms_corpus_open(&c, tmp_path("allbad"), &err) == LMS_ERR_ARG && strstr(err.msg, "1 skipped"));
    lms_mkdir_p(tmp_path("emptydir"), &err);
    CHECK(lms_corpus_open(&c, tmp_path("emptydir"), &err) == LMS_ERR_ARG && strstr(err.msg, "<|endoftext|>"));
    CHECK(lms_corpus_open(&c, tmp_path("missing"), &err) == LMS_ERR_IO && strstr(err.msg, "does not exist"));
    lms_mkdir_p(tmp_path("unread/dir.txt"), &err); /* a directory named like a domain file */
    CHECK(lms_corpus_open(&c, tmp_path("unread"), &err) == LMS_ERR_IO && strstr(err.msg, "dir.txt"));
}

/* Random "words" from a fixed syllable set: texts that share no 5-gram by accident. */
static void random_words(lms_rng *r, int nwords, char *out, size_t cap) {
    static const char *syl[] = {"ka", "lo", "mi", "ne", "su", "tar", "vel", "qu", "zor", "pi", "do", "ren", "ba", "gi", "fu", "xe"};
    size_t n = 0;
    for (int w = 0; w < nwords; w++) {
        int ns = 2 + (int)lms_rng_below(r, 3);
        for (int s = 0; s < ns && n + 8 < cap; s++) n += (size_t)snprintf(out + n, cap - n, "%s", syl[lms_rng_below(r, 16)]);
        if (n + 2 < cap) out[n++] = w + 1 < nwords ? ' ' : '.';
    }
    out[n] = 0;
}

/* The planted corpus: "facts" (30 docs) and "other" (10 docs). */
static char near_a[2048], near_b[2048], far_b[2048];

static const char *make_corpus(void) {
    static char dir[512];
    if (dir[0]) return dir;
    snprintf(dir, sizeof dir, "%s", tmp_path("corpus"));
    lms_err err = {0};
    lms_mkdir_p(dir, &err);
    lms_rng r;
    lms_rng_seed(&r, 11);
    char *facts = malloc(200000), *other = malloc(100000), w[2048];
    LMS_ASSERT(facts && other);
    size_t nf = 0, no = 0;
    /* facts: doc 0..2 exact duplicates (2 is the same text up to case/punctuation) */
    nf += (size_t)sprintf(facts + nf, "Baku is the capital of Azerbaijan, on the Caspian Sea.\n<|endoftext|>\n");
    nf += (size_t)sprintf(facts + nf, "Baku is the capital of Azerbaijan, on the Caspian Sea.\n<|endoftext|>\n");
    nf += (size_t)sprintf(facts + nf, "BAKU is the capital of azerbaijan -- on the Caspian sea!\n<|endoftext|>\n");
    /* doc 3 and 4: a near pair (60 words, one word changed in the middle: Jaccard 51/61) */
    random_words(&r, 60, near_a, sizeof near_a);
    strcpy(near_b, near_a);
    char *mid = near_b;
    for (int k = 0; k < 30; k++) mid = strchr(mid, ' ') + 1;
    memcpy(mid, "zz", 2); /* changes word 31 only */
    nf += (size_t)sprintf(facts + nf, "%s\n<|endoftext|>\n%s\n<|endoftext|>\n", near_a, near_b);
    /* doc 5: 5 of 60 words changed from near_a (words 0, 12, ..., 48): 35 of 56 shingles survive,
       Jaccard 35/77 = 0.45 */
    strcpy(far_b, near_a);
    mid = far_b;
    for (int k = 0; k < 60; k++) {
        if (k % 12 == 0) mid[0] = 'y';
        char *sp = strchr(mid, ' ');
        if (!sp) break;
        mid = sp + 1;
    }
    nf += (size_t)sprintf(facts + nf, "%s\n<|endoftext|>\n", far_b);
    /* doc 6: two mentions, with multi-byte characters around them */
    nf += (size_t)sprintf(facts + nf, "Ünïcödé … the capital of Azerbaijan is Baku — yes, the capital of Azerbaijan. ✓\n<|endoftext|>\n");
    for (int d = 7; d < 30; d++) {
        random_words(&r, 40 + (int)lms_rng_below(&r, 40), w, sizeof w);
        nf += (size_t)sprintf(facts + nf, "%s\n<|endoftext|>\n", w);
    }
    for (int d = 0; d < 9; d++) {
        random_words(&r, 30 + (int)lms_rng_below(&r, 40), w, sizeof w);
        no += (size_t)sprintf(other + no, "%s\n<|endoftext|>\n", w);
    }
    /* other doc 9: the same text as facts doc 3 with a final word added: a cross-domain near pair */
    no += (size_t)sprintf(other + no, "line one\n%s extra\n", near_a);
    put("corpus/facts.txt", facts, nf);
    put("corpus/other.txt", other, no);
    free(facts);
    free(other);
    return dir;
}

static void test_prepare_holdout_and_threads(void) {
    lms_err err = {0};
    const char *c = make_corpus();
    lms_prepare_config pc = {.val_docs = 3, .threads = 1};
    lms_manifest m1, m2;
    char out1[512], out2[512], out3[512];
    snprintf(out1, sizeof out1, "%s", tmp_path("p1"));
    snprintf(out2, sizeof out2, "%s", tmp_path("p2"));
    snprintf(out3, sizeof out3, "%s", tmp_path("p3"));
    CHECK(lms_data_prepare(c, out1, &pc, &m1, &err) == LMS_OK);
    pc.threads = 2;
    CHECK(lms_data_prepare(c, out2, &pc, &m2, &err) == LMS_OK);
    CHECK(m1.n_domains == 2 && m2.n_domains == 2);
    if (m1.n_domains != 2 || m2.n_domains != 2) return;
    CHECK(!strcmp(m1.tokenizer_name, "bytes") && m1.vocab_size == 256 && m1.eot == -1 && m1.sep_is_text && m1.n_sep == 13);
    lms_corpus cp;
    CHECK(lms_corpus_open(&cp, c, &err) == LMS_OK);
    for (int d = 0; d < 2; d++) {
        const lms_manifest_domain *md = &m1.domains[d];
        CHECK(md->docs == cp.domains[d].n_docs && md->val.docs == 3 && md->train.docs + md->val.docs == md->docs);
        CHECK(md->bytes == cp.domains[d].doc_bytes && md->train.bytes + md->val.bytes == md->bytes);
        /* Byte tokenizer: tokens = bytes + 13 separator bytes per document. */
        CHECK(md->train.tokens + md->val.tokens == md->bytes + 13 * md->docs);
        /* The same shards whatever the thread count. */
        for (int s = 0; s < 2; s++) {
            const lms_manifest_split *sp = s ? &md->val : &md->train;
            for (int f = 0; f < sp->n_files; f++) {
                char p1[512], p2[512], *a, *b;
                size_t na, nb;
                lms_path_join(p1, sizeof p1, out1, sp->files[f].file);
                lms_path_join(p2, sizeof p2, out2, sp->files[f].file);
                CHECK(lms_file_read_all(p1, &a, &na, &err) == LMS_OK && lms_file_read_all(p2, &b, &nb, &err) == LMS_OK);
                CHECK(na == nb && !memcmp(a, b, na));
                free(a);
                free(b);
            }
        }
    }
    /* The validation documents are those with the smallest text hashes. */
    {
        const lms_corpus_domain *fd = &cp.domains[0];
        uint64_t *h = malloc(fd->n_docs * sizeof *h);
        for (size_t i = 0; i < fd->n_docs; i++) {
            size_t len;
            const char *t = lms_corpus_doc(fd, i, &len);
            h[i] = lms_data_hash64(t, len);
        }
        /* Expected val stream: separator + text of each of the 3 smallest-hash docs, in corpus order. */
        size_t exp_tokens = 0;
        for (size_t i = 0; i < fd->n_docs; i++) {
            size_t smaller = 0;
            for (size_t j = 0; j < fd->n_docs; j++) smaller += h[j] < h[i] || (h[j] == h[i] && j < i);
            if (smaller < 3) exp_tokens += 13 + fd->docs[i].len;
        }
        CHECK(m1.domains[0].val.tokens == exp_tokens);
        free(h);
    }
    lms_corpus_free(&cp);
    /* Small shards: several files whose concatenation is the single-file stream. */
    pc.shard_tokens = 1000;
    lms_manifest m3;
    CHECK(lms_data_prepare(c, out3, &pc, &m3, &err) == LMS_OK);
    if (m3.n_domains == 2) {
        const lms_manifest_split *s1 = &m1.domains[0].train, *s3 = &m3.domains[0].train;
        CHECK(s1->n_files == 1 && s3->n_files == (int)((s1->tokens + 999) / 1000));
        uint32_t *all, *part;
        size_t na, np, pos = 0;
        char p[512];
        CHECK(lms_shard_read(lms_path_join(p, sizeof p, out1, s1->files[0].file), 256, &all, &na, NULL, &err) == LMS_OK);
        int same = 1;
        for (int f = 0; f < s3->n_files; f++) {
            CHECK(lms_shard_read(lms_path_join(p, sizeof p, out3, s3->files[f].file), 256, &part, &np, NULL, &err) == LMS_OK);
            same &= pos + np <= na && !memcmp(all + pos, part, np * sizeof *part);
            pos += np;
            free(part);
        }
        CHECK(same && pos == na);
        free(all);
    }
    lms_manifest_free(&m3);
    /* Hold-out counts. */
    {
        /* hashes rank the documents 3, 0, 4, 1, 2 */
        uint64_t h[5] = {20, 40, 50, 10, 30};
        size_t len[5] = {100, 100, 100, 100, 600}; /* 1000 bytes */
        unsigned char v[5];
        CHECK(lms_data_select_val(h, len, 5, 2, 0, v, &err) == 2 && v[3] && v[0] && !v[1] && !v[2] && !v[4]);
        CHECK(lms_data_select_val(h, len, 5, 50, 0, v, &err) == 4 && !v[2]);        /* one stays in training */
        CHECK(lms_data_select_val(h, len, 5, 0, 0.25, v, &err) == 2 && v[3] && v[0]); /* 200 of 250 bytes */
        CHECK(lms_data_select_val(h, len, 5, 0, 0.8, v, &err) == 3 && v[3] && v[0] && v[4] && !v[1]); /* 800 of 800 */
        len[3] = 700;
        CHECK(lms_data_select_val(h, len, 5, 0, 0.25, v, &err) == 3 && v[0] && v[1] && v[2] && !v[3] && !v[4]); /* 700, 600 skipped */
        size_t big[2] = {900, 100};
        CHECK(lms_data_select_val(h, big, 2, 0, 0.05, v, &err) == 1 && v[1] && !v[0]); /* none fits: the smallest */
        CHECK(lms_data_select_val(h, len, 1, 3, 0, v, &err) == 0 && lms_data_select_val(h, len, 5, 0, 0, v, &err) == 0);
    }
    /* Bad config. */
    pc.val_fraction = 1.5;
    pc.val_docs = 0;
    CHECK(lms_data_prepare(c, out3, &pc, NULL, &err) == LMS_ERR_ARG);
    lms_manifest_free(&m1);
    lms_manifest_free(&m2);
}

/* A small trained BPE (with <|endoftext|>) gives EOT-separated shards; the docset decodes them
   back to exactly the corpus documents. */
static void test_prepare_bpe_and_shard_docset(void) {
    lms_err err = {0};
    const char *c = make_corpus();
    lms_corpus cp;
    CHECK(lms_corpus_open(&cp, c, &err) == LMS_OK);
    const char *texts[2] = {cp.domains[0].data, cp.domains[1].data};
    size_t lens[2] = {cp.domains[0].len, cp.domains[1].len};
    lms_tokenizer_train_config tc = {.vocab_size = 300, .threads = 1};
    lms_tokenizer *tok = NULL;
    CHECK(lms_tokenizer_train_texts(&tok, texts, lens, 2, &tc, &err) == LMS_OK);
    if (!tok) { lms_corpus_free(&cp); return; }
    int eot = lms_tokenizer_eot(tok);
    CHECK(eot >= 256);
    lms_prepare_config pc = {.tok = tok, .tokenizer_name = "tiny", .val_fraction = 0.1};
    lms_manifest m;
    char out[512];
    snprintf(out, sizeof out, "%s", tmp_path("bpe"));
    CHECK(lms_data_prepare(c, out, &pc, &m, &err) == LMS_OK);
    CHECK(m.eot == eot && !m.sep_is_text && m.n_sep == 1 && m.sep[0] == (uint32_t)eot && m.shard_version == 1);
    CHECK(!strcmp(m.tokenizer_hash, lms_tokenizer_hash(tok)));
    lms_manifest_free(&m);
    lms_docset *ds;
    CHECK(lms_docset_open(&ds, out, tok, &err) == LMS_OK);
    if (ds) {
        CHECK(lms_docset_is_shards(ds) && lms_docset_has_text(ds) && lms_docset_num_domains(ds) == 2);
        /* Every corpus document appears exactly once among the decoded ones (train first, then val). */
        int all = 1;
        for (int d = 0; d < 2; d++) {
            const lms_corpus_domain *cd = &cp.domains[d];
            CHECK(lms_docset_num_docs(ds, d) == cd->n_docs);
            for (size_t i = 0; i < cd->n_docs; i++) {
                size_t len, found = 0;
                const char *t = lms_corpus_doc(cd, i, &len);
                for (size_t k = 0; k < lms_docset_num_docs(ds, d); k++) {
                    size_t l2;
                    const char *t2 = lms_docset_text(ds, d, k, &l2);
                    found += l2 == len && !memcmp(t, t2, len);
                }
                /* docs 0 and 1 of facts are identical, so they are found twice */
                all &= found == ((d == 0 && i < 2) ? 2u : 1u);
            }
        }
        CHECK(all);
        size_t nval = 0, vbytes = 0, tbytes = 0;
        for (size_t k = 0; k < lms_docset_num_docs(ds, 0); k++) {
            size_t len;
            lms_docset_text(ds, 0, k, &len);
            nval += (size_t)lms_docset_is_val(ds, 0, k);
            vbytes += lms_docset_is_val(ds, 0, k) ? len : 0;
            tbytes += len;
        }
        CHECK(nval >= 1 && vbytes <= tbytes / 10 && vbytes > 0); /* 10% of the text at most */
        lms_docset_free(ds);
    }
    /* The wrong tokenizer: a clear mismatch. No tokenizer: tokens only. */
    lms_tokenizer *bytes = lms_tokenizer_bytes();
    CHECK(lms_docset_open(&ds, out, bytes, &err) == LMS_ERR_MISMATCH && strstr(err.msg, "tiny"));
    CHECK(lms_docset_open(&ds, out, NULL, &err) == LMS_OK);
    if (ds) {
        CHECK(!lms_docset_has_text(ds));
        lms_grep_config gc = {.pattern = "Baku"};
        CHECK(lms_data_grep(ds, &gc, NULL, NULL, NULL, &err) == LMS_ERR_UNSUPPORTED && strstr(err.msg, "--tokenizer"));
        lms_data_stats s;
        CHECK(lms_data_stats_compute(ds, NULL, 3, &s, &err) == LMS_OK);
        CHECK(s.total.docs == 40 && s.total.dup_docs == 1 && s.domains[0].val_docs >= 1);
        lms_data_stats_free(&s);
        lms_docset_free(ds);
    }
    lms_tokenizer_free(bytes);
    lms_tokenizer_free(tok);
    lms_corpus_free(&cp);
}

static void test_stats(void) {
    lms_err err = {0};
    const char *c = make_corpus();
    lms_docset *ds;
    CHECK(lms_docset_open(&ds, c, NULL, &err) == LMS_OK);
    if (!ds) return;
    lms_data_stats s;
    CHECK(lms_data_stats_compute(ds, NULL, 5, &s, &err) == LMS_OK);
    CHECK(s.n_domains == 2 && !s.tokens_from_shards && s.vocab_size == 256);
    CHECK(s.domains[0].docs == 30 && s.domains[1].docs == 10 && s.total.docs == 40);
    CHECK(s.domains[0].dup_docs == 1 && s.domains[1].dup_docs == 0 && s.total.dup_docs == 1);
    CHECK(s.domains[0].tokens == s.domains[0].bytes && s.domains[0].bytes_per_token == 1.0);
    CHECK(s.total.n_top == 5 && s.total.top[0].count >= s.total.top[1].count && s.total.top[3].count >= s.total.top[4].count);
    CHECK(s.total.top[0].id == ' ');
    /* Stats of the byte shards agree with the corpus. */
    lms_prepare_config pc = {.val_docs = 2};
    char out[512];
    snprintf(out, sizeof out, "%s", tmp_path("statshards"));
    CHECK(lms_data_prepare(c, out, &pc, NULL, &err) == LMS_OK);
    lms_docset *ds2;
    CHECK(lms_docset_open(&ds2, out, NULL, &err) == LMS_OK);
    if (ds2) {
        CHECK(lms_docset_has_text(ds2)); /* the manifest names the byte tokenizer */
        lms_data_stats s2;
        CHECK(lms_data_stats_compute(ds2, NULL, 5, &s2, &err) == LMS_OK);
        CHECK(s2.tokens_from_shards && s2.total.docs == 40 && s2.total.bytes == s.total.bytes);
        CHECK(s2.total.tokens == s.total.tokens && s2.total.dup_docs == 1 && s2.total.val_docs == 4);
        CHECK(s2.total.top[0].id == s.total.top[0].id && s2.total.top[0].count == s.total.top[0].count);
        lms_data_stats_free(&s2);
        lms_docset_free(ds2);
    }
    lms_data_stats_free(&s);
    lms_docset_free(ds);
}

static void test_sample(void) {
    lms_err err = {0};
    lms_docset *ds;
    CHECK(lms_docset_open(&ds, make_corpus(), NULL, &err) == LMS_OK);
    if (!ds) return;
    lms_doc_ref a[50], b[50];
    size_t na, nb;
    CHECK(lms_data_sample(ds, "facts", 5, 7, a, &na, &err) == LMS_OK && na == 5);
    CHECK(lms_data_sample(ds, "facts", 5, 7, b, &nb, &err) == LMS_OK && nb == 5);
    int same = 1;
    for (int i = 0; i < 5; i++) same &= a[i].domain == b[i].domain && a[i].doc == b[i].doc;
    CHECK(same);
    int distinct = 1, in_domain = 1;
    for (int i = 0; i < 5; i++) {
        in_domain &= a[i].domain == 0 && a[i].doc < 30;
        for (int j = 0; j < i; j++) distinct &= a[i].doc != a[j].doc;
    }
    CHECK(distinct && in_domain);
    CHECK(lms_data_sample(ds, "facts", 5, 8, b, &nb, &err) == LMS_OK);
    int differ = 0;
    for (int i = 0; i < 5; i++) differ += a[i].doc != b[i].doc;
    CHECK(differ > 0);
    /* All domains, more than there are: every document once. */
    CHECK(lms_data_sample(ds, NULL, 50, 1, a, &na, &err) == LMS_OK && na == 40);
    int seen[2][30] = {{0}};
    for (size_t i = 0; i < na; i++) seen[a[i].domain][a[i].doc]++;
    int once = 1;
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < (d ? 10 : 30); i++) once &= seen[d][i] == 1;
    CHECK(once);
    CHECK(lms_data_sample(ds, "poems", 1, 1, a, &na, &err) == LMS_ERR_ARG && strstr(err.msg, "facts, other"));
    lms_docset_free(ds);
}

typedef struct {
    lms_grep_match m[16];
    int n, stop_after;
} grep_got;

static int collect(const lms_grep_match *m, void *u) {
    grep_got *g = u;
    if (g->n < 16) g->m[g->n] = *m;
    g->n++;
    return g->stop_after && g->n >= g->stop_after;
}

static void test_grep(void) {
    lms_err err = {0};
    lms_docset *ds;
    CHECK(lms_docset_open(&ds, make_corpus(), NULL, &err) == LMS_OK);
    if (!ds) return;
    grep_got g = {0};
    size_t n;
    lms_grep_config gc = {.pattern = "capital of Azerbaijan", .context = 12};
    CHECK(lms_data_grep(ds, &gc, collect, &g, &n, &err) == LMS_OK);
    CHECK(n == 4 && g.n == 4); /* docs 0, 1 and twice in doc 6; doc 2 has "azerbaijan" */
    if (g.n == 4) {
        CHECK(g.m[0].domain == 0 && g.m[0].doc == 0 && g.m[0].line == 1 && g.m[0].offset == 12);
        CHECK(g.m[1].doc == 1 && g.m[1].line == 3);
        CHECK(g.m[2].doc == 6 && g.m[3].doc == 6 && g.m[3].offset > g.m[2].offset);
        for (int i = 0; i < 4; i++) {
            const lms_grep_match *m = &g.m[i];
            CHECK(m->len == 21 && !memcmp(m->text + m->offset, "capital of Azerbaijan", 21));
            CHECK(m->ctx_start <= m->offset && m->offset - m->ctx_start <= 12 && m->ctx_end >= m->offset + m->len);
            /* context edges never split a UTF-8 character */
            CHECK(((unsigned char)m->text[m->ctx_start] & 0xC0) != 0x80);
            CHECK(m->ctx_end == m->doc_len || ((unsigned char)m->text[m->ctx_end] & 0xC0) != 0x80);
        }
    }
    gc.ignore_case = 1;
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_OK && n == 5);
    gc.ignore_case = 0;
    gc.regex = 1;
    gc.pattern = "capital of [A-Z]\\w+";
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_OK && n == 4);
    gc.pattern = "Ünïcödé\\s…";
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_OK && n == 1);
    gc.pattern = "^line one$";
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_OK && n == 0); /* no multiline flag: ^ is the document start */
    gc.pattern = "(?m)^line one$";
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_OK && n == 1);
    gc.pattern = "x*"; /* empty matches terminate */
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_OK && n > 0);
    gc.pattern = "capital of (";
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_ERR_ARG && strstr(err.msg, "offset"));
    gc.pattern = "";
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_ERR_ARG);
    gc = (lms_grep_config){.pattern = "capital", .domain = "other"};
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_OK && n == 0);
    gc.domain = "poems";
    CHECK(lms_data_grep(ds, &gc, NULL, NULL, &n, &err) == LMS_ERR_ARG);
    /* The callback can stop the search. */
    grep_got g2 = {.stop_after = 2};
    gc = (lms_grep_config){.pattern = "capital"};
    CHECK(lms_data_grep(ds, &gc, collect, &g2, &n, &err) == LMS_OK && n == 2 && g2.n == 2);
    lms_docset_free(ds);
}

static void test_dedup(void) {
    lms_err err = {0};
    lms_docset *ds;
    CHECK(lms_docset_open(&ds, make_corpus(), NULL, &err) == LMS_OK);
    if (!ds) return;
    lms_dedup_config dc = {.threshold = 0.8};
    lms_dedup_result r;
    CHECK(lms_data_dedup(ds, &dc, &r, &err) == LMS_OK);
    CHECK(r.bands == 16 && r.rows == 8);
    /* Exact: docs 1 and 2 duplicate doc 0 (2 after normalisation). */
    CHECK(r.exact_dups == 2 && r.exact_groups == 1 && r.domains[0].exact_dups == 2 && r.domains[1].exact_dups == 0);
    CHECK(r.n_exact_examples == 2 && r.exact_examples[0].a.doc == 0 && r.exact_examples[1].a.doc == 0);
    /* Near: (facts 3, facts 4) with Jaccard 51/61 = 0.836 and (facts 3, other 9) with 56/59 = 0.949
       ("line one" and "extra" add 3 shingles to other 9's 59). (facts 4, other 9) is 51/64 = 0.797,
       below the threshold. Nothing else. */
    CHECK(r.near_pairs == 2 && r.domains[0].near_pairs == 1 && r.cross_domain_pairs == 1);
    CHECK(r.domains[0].near_docs == 2 && r.domains[1].near_docs == 1);
    int found34 = 0;
    for (int k = 0; k < r.n_pairs; k++) {
        const lms_dup_pair *p = &r.pairs[k];
        CHECK(p->jaccard >= 0.8 && p->estimate > 0.5);
        if (p->a.domain == 0 && p->a.doc == 3 && p->b.domain == 0 && p->b.doc == 4) {
            found34 = 1;
            CHECK_NEAR(p->jaccard, 51.0 / 61.0, 1e-12);
        }
        if (k) CHECK(r.pairs[k - 1].jaccard >= p->jaccard);
    }
    CHECK(found34);
    lms_dedup_result_free(&r);
    /* A lower threshold also finds (facts 4, other 9) = 0.797, (facts 3, facts 5) = 35/77 and
       (facts 5, other 9) = 35/80; (facts 4, facts 5) shares only 30 shingles (30/82 < 0.4). */
    dc.threshold = 0.4;
    CHECK(lms_data_dedup(ds, &dc, &r, &err) == LMS_OK);
    int found35 = 0;
    for (int k = 0; k < r.n_pairs; k++) found35 |= r.pairs[k].a.doc == 3 && r.pairs[k].b.doc == 5 && r.pairs[k].b.domain == 0;
    CHECK(found35 && r.near_pairs == 5 && r.cross_domain_pairs == 3);
    for (int k = 0; k < r.n_pairs; k++)
        if (r.pairs[k].a.doc == 3 && r.pairs[k].b.doc == 5 && r.pairs[k].b.domain == 0) CHECK_NEAR(r.pairs[k].jaccard, 35.0 / 77.0, 1e-12);
    lms_dedup_result_free(&r);
    dc.threshold = 1.5;
    CHECK(lms_data_dedup(ds, &dc, &r, &err) == LMS_ERR_ARG);
    dc.threshold = 0.8;
    dc.num_perm = 100;
    CHECK(lms_data_dedup(ds, &dc, &r, &err) == LMS_ERR_ARG);
    lms_docset_free(ds);
}

static void test_zz_cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK(tmpdir[0] && system(cmd) == 0);
}

TESTS(test_utf8_and_split, test_corpus_bad_input, test_prepare_holdout_and_threads, test_prepare_bpe_and_shard_docset,
      test_stats, test_sample, test_grep, test_dedup, test_zz_cleanup)
