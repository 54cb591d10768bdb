/* prepare.c — tokenize a corpus into train/val shards and a manifest. See prepare.h.
 * Leaves out: reading the corpus (corpus.c), the file formats (shard.c, manifest.c). */
#include "data/prepare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/log.h"
#include "data/corpus.h"
#include "data/shard.h"

uint64_t lms_data_hash64(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef struct {
    uint64_t h;
    size_t i;
} hidx;

static int cmp_hidx(const void *a, const void *b) {
    const hidx *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

size_t lms_data_select_val(const uint64_t *hash, const size_t *len, size_t n, int val_docs, double val_fraction,
                           unsigned char *is_val, lms_err *err) {
    memset(is_val, 0, n);
    if (n < 2 || (val_docs <= 0 && !(val_fraction > 0))) return 0;
    hidx *order = malloc(n * sizeof *order);
    if (!order) {
        lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) order[i] = (hidx){hash[i], i};
    qsort(order, n, sizeof *order, cmp_hidx);
    size_t k = 0;
    if (val_docs > 0) {
        for (; k < (size_t)val_docs && k < n - 1; k++) is_val[order[k].i] = 1;
    } else {
        double total = 0, used = 0;
        for (size_t i = 0; i < n; i++) total += (double)len[i];
        double budget = val_fraction * total;
        for (size_t j = 0; j < n && k < n - 1; j++)
            if (used + (double)len[order[j].i] <= budget) {
                used += (double)len[order[j].i];
                is_val[order[j].i] = 1;
                k++;
            }
        if (k == 0) { /* every document is bigger than the budget: the smallest (first in hash order) */
            size_t best = order[0].i;
            for (size_t j = 1; j < n; j++)
                if (len[order[j].i] < len[best]) best = order[j].i;
            is_val[best] = 1;
            k = 1;
        }
    }
    free(order);
    return k;
}

/* Append `src` to `dst`. */
static lms_status append(lms_ids *dst, const uint32_t *src, size_t n, lms_err *err) {
    lms_status st = lms_ids_reserve(dst, n, err);
    if (st) return st;
    memcpy(dst->ids + dst->n, src, n * sizeof *src);
    dst->n += n;
    return LMS_OK;
}

/* Write a token stream as <dom>_<split>_NNNNNN.bin files and record them in *s. */
static lms_status write_split(const char *out_dir, const char *dom, const char *split, const lms_ids *v,
                              size_t per, int version, lms_manifest_split *s, lms_err *err) {
    size_t nf = v->n ? (v->n + per - 1) / per : 0;
    s->files = calloc(nf ? nf : 1, sizeof *s->files);
    if (!s->files) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    for (size_t f = 0; f < nf; f++) {
        char name[128], path[4096];
        snprintf(name, sizeof name, "%s_%s_%06zu.bin", dom, split, f);
        lms_path_join(path, sizeof path, out_dir, name);
        size_t a = f * per, n = v->n - a < per ? v->n - a : per;
        lms_status st = lms_shard_write(path, v->ids + a, n, version, err);
        if (st) return st;
        s->files[f].file = strdup(name);
        s->files[f].tokens = n;
        s->n_files = (int)f + 1;
        if (!s->files[f].file) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    s->tokens = v->n;
    return LMS_OK;
}

static lms_status prepare_domain(const lms_corpus_domain *cd, const lms_tokenizer *tok, const lms_manifest *m,
                                 const lms_prepare_config *c, const char *out_dir, lms_manifest_domain *md,
                                 lms_err *err) {
    size_t n = cd->n_docs;
    lms_ids *docs = calloc(n, sizeof *docs);
    uint64_t *hash = calloc(n, sizeof *hash);
    size_t *lens = calloc(n, sizeof *lens);
    unsigned char *is_val = calloc(n, 1);
    lms_ids train = {0}, val = {0};
    lms_status st = LMS_OK;
    if (!docs || !hash || !lens || !is_val) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); goto done; }
    int threads = c->threads > 0 ? c->threads : 2, failed = 0;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) reduction(| : failed)
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *t = lms_corpus_doc(cd, i, &len);
        lms_err e = {0};
        if (lms_tokenizer_encode(tok, t, len, &docs[i], &e)) failed = 1;
        hash[i] = lms_data_hash64(t, len);
        lens[i] = len;
    }
    if (failed) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory tokenizing '%s'", cd->path); goto done; }
    size_t k = lms_data_select_val(hash, lens, n, c->val_docs, c->val_fraction, is_val, err);
    if (k == (size_t)-1) { st = LMS_ERR_NOMEM; goto done; }
    for (size_t i = 0; i < n && !st; i++) {
        lms_ids *dst = is_val[i] ? &val : &train;
        lms_manifest_split *s = is_val[i] ? &md->val : &md->train;
        st = append(dst, m->sep, (size_t)m->n_sep, err);
        if (!st) st = append(dst, docs[i].ids, docs[i].n, err);
        s->docs++;
        s->bytes += cd->docs[i].len;
    }
    if (st) goto done;
    md->docs = n;
    md->bytes = cd->doc_bytes;
    size_t per = c->shard_tokens ? c->shard_tokens : 100000000;
    st = write_split(out_dir, cd->name, "train", &train, per, m->shard_version, &md->train, err);
    if (!st) st = write_split(out_dir, cd->name, "val", &val, per, m->shard_version, &md->val, err);
    if (!st && n >= 1 && k == 0 && (c->val_docs > 0 || c->val_fraction > 0))
        lms_log(LMS_LOG_WARN, "domain '%s': none of its %zu document%s held out for validation (%s)", cd->name, n,
                n == 1 ? "" : "s", n < 2 ? "it needs at least 2" : "--val-docs 0 or --val-fraction 0");
done:
    if (docs)
        for (size_t i = 0; i < n; i++) lms_ids_free(&docs[i]);
    free(docs);
    free(hash);
    free(lens);
    free(is_val);
    lms_ids_free(&train);
    lms_ids_free(&val);
    return st;
}

lms_status lms_data_prepare(const char *corpus, const char *out_dir, const lms_prepare_config *c,
                            lms_manifest *mout, lms_err *err) {
    if (mout) memset(mout, 0, sizeof *mout);
    if (c->val_docs < 0 || !(c->val_fraction >= 0 && c->val_fraction < 1))
        return lms_errf(err, LMS_ERR_ARG, "validation hold-out: --val-docs must be >= 0 and --val-fraction in [0, 1), got %d and %g",
                        c->val_docs, c->val_fraction);
    if (c->shard_tokens > 2147483647u)
        return lms_errf(err, LMS_ERR_ARG, "--shard-tokens %zu is above the shard limit of 2147483647", c->shard_tokens);
    lms_tokenizer *own = NULL;
    const lms_tokenizer *tok = c->tok;
    if (!tok) {
        own = lms_tokenizer_bytes();
        if (!own) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        tok = own;
    }
    lms_corpus cp;
    lms_manifest m;
    memset(&m, 0, sizeof m);
    lms_status st = lms_corpus_open(&cp, corpus, err);
    if (st) { lms_tokenizer_free(own); return st; }
    m.format_version = LMS_MANIFEST_FORMAT_VERSION;
    m.vocab_size = lms_tokenizer_vocab_size(tok);
    m.shard_version = lms_shard_version_for_vocab(m.vocab_size);
    snprintf(m.tokenizer_hash, sizeof m.tokenizer_hash, "%s", lms_tokenizer_hash(tok));
    m.tokenizer_name = strdup(c->tokenizer_name ? c->tokenizer_name : (c->tok ? "" : "bytes"));
    m.eot = lms_tokenizer_eot(tok);
    m.val_docs = c->val_docs;
    m.val_fraction = c->val_docs > 0 ? 0 : c->val_fraction;
    if (m.eot >= 0) {
        m.n_sep = 1;
        m.sep[0] = (uint32_t)m.eot;
    } else {
        lms_ids s = {0};
        st = lms_tokenizer_encode(tok, LMS_DOC_SEPARATOR, strlen(LMS_DOC_SEPARATOR), &s, err);
        if (!st && (s.n < 1 || s.n > LMS_MANIFEST_MAX_SEP)) st = lms_errf(err, LMS_ERR_ARG, "the separator text encodes to %zu tokens", s.n);
        if (!st) {
            m.sep_is_text = 1;
            m.n_sep = (int)s.n;
            memcpy(m.sep, s.ids, s.n * sizeof *s.ids);
        }
        lms_ids_free(&s);
    }
    m.domains = calloc((size_t)cp.n_domains, sizeof *m.domains);
    if (!st && (!m.domains || !m.tokenizer_name)) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    if (!st) st = lms_mkdir_p(out_dir, err);
    for (int d = 0; d < cp.n_domains && !st; d++) {
        lms_manifest_domain *md = &m.domains[d];
        m.n_domains = d + 1;
        const char *src = strrchr(cp.domains[d].path, '/');
        md->name = strdup(cp.domains[d].name);
        md->source = strdup(src ? src + 1 : cp.domains[d].path);
        if (!md->name || !md->source) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        else st = prepare_domain(&cp.domains[d], tok, &m, c, out_dir, md, err);
    }
    if (!st) st = lms_manifest_save(&m, out_dir, err);
    lms_corpus_free(&cp);
    lms_tokenizer_free(own);
    if (st || !mout) lms_manifest_free(&m);
    else *mout = m;
    return st;
}
