/* inspect.c — docsets over corpora and shard directories; stats, sample, grep. See inspect.h.
 * Leaves out: near-duplicate detection (dedup.c) and all printing (src/cli/cmd_data.c). */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/inspect.h"

#include <dirent.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/rng.h"
#include "data/corpus.h"
#include "data/manifest.h"
#include "data/prepare.h"
#include "data/shard.h"

typedef struct {
    char name[64];
    size_t n_docs;
    const char *text;     /* corpus data or owned decoded text; NULL if none */
    char *own_text;
    size_t *toff, *tlen;  /* [n_docs] text spans */
    uint32_t *toks;       /* shard tokens (train stream then val stream) */
    size_t n_toks;
    size_t *koff, *klen;  /* [n_docs] token spans (shards) */
    unsigned char *is_val;
    size_t *line;         /* [n_docs] corpus line numbers */
    uint64_t manifest_bytes;
} ds_domain;

struct lms_docset {
    int is_shards, has_text;
    lms_corpus corpus;
    ds_domain *d;
    int n;
    lms_tokenizer *own_tok;
    const lms_tokenizer *tok;
};

static lms_status nomem(lms_err *err) { return lms_errf(err, LMS_ERR_NOMEM, "out of memory"); }

void lms_docset_free(lms_docset *ds) {
    if (!ds) return;
    for (int i = 0; i < ds->n; i++) {
        ds_domain *d = &ds->d[i];
        free(d->own_text);
        free(d->toff);
        free(d->tlen);
        free(d->toks);
        free(d->koff);
        free(d->klen);
        free(d->is_val);
        free(d->line);
    }
    free(ds->d);
    lms_corpus_free(&ds->corpus);
    lms_tokenizer_free(ds->own_tok);
    free(ds);
}

static lms_status open_corpus(lms_docset *ds, const char *path, lms_err *err) {
    lms_status st = lms_corpus_open(&ds->corpus, path, err);
    if (st) return st;
    ds->n = ds->corpus.n_domains;
    ds->d = calloc((size_t)ds->n, sizeof *ds->d);
    if (!ds->d) return nomem(err);
    ds->has_text = 1;
    for (int i = 0; i < ds->n; i++) {
        const lms_corpus_domain *cd = &ds->corpus.domains[i];
        ds_domain *d = &ds->d[i];
        memcpy(d->name, cd->name, sizeof d->name);
        d->n_docs = cd->n_docs;
        d->text = cd->data;
        d->toff = malloc(cd->n_docs * sizeof *d->toff);
        d->tlen = malloc(cd->n_docs * sizeof *d->tlen);
        d->line = malloc(cd->n_docs * sizeof *d->line);
        if (!d->toff || !d->tlen || !d->line) return nomem(err);
        size_t line = 1, pos = 0;
        for (size_t k = 0; k < cd->n_docs; k++) {
            d->toff[k] = cd->docs[k].off;
            d->tlen[k] = cd->docs[k].len;
            for (; pos < cd->docs[k].off; pos++) line += cd->data[pos] == '\n';
            d->line[k] = line;
            d->manifest_bytes += cd->docs[k].len;
        }
    }
    return LMS_OK;
}

/* Append the documents of one token stream (it starts with a separator) to d. */
static lms_status cut_stream(ds_domain *d, size_t a, size_t b, const lms_manifest *m, int is_val, size_t *cap,
                             lms_err *err) {
    size_t ns = (size_t)m->n_sep, start = a, i = a;
    while (i <= b) {
        int at_sep = i + ns <= b && !memcmp(d->toks + i, m->sep, ns * sizeof *m->sep);
        if (at_sep || i == b) {
            if (i > start) {
                if (d->n_docs == *cap) {
                    *cap = *cap ? *cap * 2 : 256;
                    size_t *k1 = realloc(d->koff, *cap * sizeof *k1);
                    if (k1) d->koff = k1;
                    size_t *k2 = realloc(d->klen, *cap * sizeof *k2);
                    if (k2) d->klen = k2;
                    unsigned char *v = realloc(d->is_val, *cap);
                    if (v) d->is_val = v;
                    if (!k1 || !k2 || !v) return nomem(err);
                }
                d->koff[d->n_docs] = start;
                d->klen[d->n_docs] = i - start;
                d->is_val[d->n_docs] = (unsigned char)is_val;
                d->n_docs++;
            }
            if (i == b) break;
            i += ns;
            start = i;
        } else {
            i++;
        }
    }
    return LMS_OK;
}

static lms_status open_shards(lms_docset *ds, const char *dir, lms_err *err) {
    lms_manifest m;
    lms_status st = lms_manifest_load(&m, dir, err);
    if (st) return st;
    ds->is_shards = 1;
    if (ds->tok && m.tokenizer_hash[0] && strcmp(m.tokenizer_hash, lms_tokenizer_hash(ds->tok)))
        st = lms_errf(err, LMS_ERR_MISMATCH,
                      "the shards in '%s' were made with tokenizer %.12s… (vocabulary %d, '%s') but the tokenizer given "
                      "is %.12s… (vocabulary %d); pass the tokenizer the shards were made with",
                      dir, m.tokenizer_hash, m.vocab_size, m.tokenizer_name, lms_tokenizer_hash(ds->tok),
                      lms_tokenizer_vocab_size(ds->tok));
    if (!st && !ds->tok) {
        ds->own_tok = lms_tokenizer_bytes();
        if (!ds->own_tok) st = nomem(err);
        else if (!strcmp(m.tokenizer_hash, lms_tokenizer_hash(ds->own_tok))) ds->tok = ds->own_tok;
    }
    ds->has_text = ds->tok != NULL;
    if (!st) {
        ds->d = calloc((size_t)m.n_domains, sizeof *ds->d);
        if (!ds->d) st = nomem(err);
    }
    for (int di = 0; di < m.n_domains && !st; di++) {
        ds_domain *d = &ds->d[di];
        ds->n = di + 1;
        const lms_manifest_domain *md = &m.domains[di];
        snprintf(d->name, sizeof d->name, "%s", md->name);
        d->manifest_bytes = md->bytes;
        size_t total = md->train.tokens + md->val.tokens, cap = 0;
        d->toks = malloc((total ? total : 1) * sizeof *d->toks);
        if (!d->toks) { st = nomem(err); break; }
        for (int split = 0; split < 2 && !st; split++) {
            const lms_manifest_split *s = split ? &md->val : &md->train;
            size_t a = d->n_toks;
            for (int f = 0; f < s->n_files && !st; f++) {
                char path[4096];
                lms_path_join(path, sizeof path, dir, s->files[f].file);
                lms_shard sh;
                st = lms_shard_open(&sh, path, m.vocab_size, err);
                if (st) break;
                if (sh.n_tokens != s->files[f].tokens || d->n_toks + sh.n_tokens > total)
                    st = lms_errf(err, LMS_ERR_FORMAT, "'%s' holds %zu tokens but manifest.json says %llu; re-run 'lmscope data prepare'",
                                  path, sh.n_tokens, (unsigned long long)s->files[f].tokens);
                for (size_t k = 0; !st && k < sh.n_tokens; k++) d->toks[d->n_toks++] = lms_shard_token(&sh, k);
                lms_shard_close(&sh);
            }
            if (!st) st = cut_stream(d, a, d->n_toks, &m, split, &cap, err);
        }
        if (st || !ds->has_text) continue;
        /* Decode every document into one buffer. */
        size_t tcap = md->bytes + 64, tn = 0;
        d->own_text = malloc(tcap);
        d->toff = malloc((d->n_docs ? d->n_docs : 1) * sizeof *d->toff);
        d->tlen = malloc((d->n_docs ? d->n_docs : 1) * sizeof *d->tlen);
        if (!d->own_text || !d->toff || !d->tlen) { st = nomem(err); break; }
        for (size_t k = 0; k < d->n_docs && !st; k++) {
            char *t;
            size_t len;
            st = lms_tokenizer_decode(ds->tok, d->toks + d->koff[k], d->klen[k], &t, &len, err);
            if (st) break;
            if (tn + len > tcap) {
                tcap = (tn + len) * 2;
                char *nt = realloc(d->own_text, tcap);
                if (!nt) { free(t); st = nomem(err); break; }
                d->own_text = nt;
            }
            memcpy(d->own_text + tn, t, len);
            d->toff[k] = tn;
            d->tlen[k] = len;
            tn += len;
            free(t);
        }
        d->text = d->own_text;
    }
    lms_manifest_free(&m);
    return st;
}

static int has_bin(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        found = n > 4 && !strcmp(e->d_name + n - 4, ".bin");
    }
    closedir(d);
    return found;
}

lms_status lms_docset_open(lms_docset **out, const char *path, const lms_tokenizer *tok, lms_err *err) {
    *out = NULL;
    lms_docset *ds = calloc(1, sizeof *ds);
    if (!ds) return nomem(err);
    ds->tok = tok;
    char mp[4096];
    lms_path_join(mp, sizeof mp, path, "manifest.json");
    lms_status st = lms_path_is_dir(path) && lms_path_exists(mp) ? open_shards(ds, path, err) : open_corpus(ds, path, err);
    if (st == LMS_ERR_ARG && lms_path_is_dir(path) && has_bin(path))
        st = lms_errf(err, LMS_ERR_UNSUPPORTED,
                      "'%s' holds .bin shards but no manifest.json, so which tokenizer made them and where documents "
                      "start is unknown; stats, sample, grep and dedup read corpus directories and shard directories "
                      "made by 'lmscope data prepare' (training reads plain llm.c shards as they are)",
                      path);
    if (st) {
        lms_docset_free(ds);
        return st;
    }
    *out = ds;
    return LMS_OK;
}

int lms_docset_is_shards(const lms_docset *ds) { return ds->is_shards; }
int lms_docset_has_text(const lms_docset *ds) { return ds->has_text; }
int lms_docset_num_domains(const lms_docset *ds) { return ds->n; }
const char *lms_docset_domain(const lms_docset *ds, int d) { return d >= 0 && d < ds->n ? ds->d[d].name : NULL; }
size_t lms_docset_num_docs(const lms_docset *ds, int d) { return d >= 0 && d < ds->n ? ds->d[d].n_docs : 0; }

int lms_docset_find(const lms_docset *ds, const char *name) {
    for (int i = 0; i < ds->n; i++)
        if (!strcmp(ds->d[i].name, name)) return i;
    return -1;
}

const char *lms_docset_text(const lms_docset *ds, int d, size_t i, size_t *len) {
    LMS_ASSERT(d >= 0 && d < ds->n && i < ds->d[d].n_docs);
    if (!ds->has_text) { *len = 0; return NULL; }
    *len = ds->d[d].tlen[i];
    return ds->d[d].text + ds->d[d].toff[i];
}

int lms_docset_is_val(const lms_docset *ds, int d, size_t i) { return ds->d[d].is_val ? ds->d[d].is_val[i] : 0; }
size_t lms_docset_line(const lms_docset *ds, int d, size_t i) { return ds->d[d].line ? ds->d[d].line[i] : 0; }

/* ---- stats ------------------------------------------------------------------------------- */

typedef struct {
    uint64_t h;
    int d;
    size_t i;
} dkey;

static int cmp_dkey(const void *a, const void *b) {
    const dkey *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void doc_bytes(const lms_docset *ds, int d, size_t i, const void **p, size_t *n) {
    const ds_domain *dm = &ds->d[d];
    if (ds->has_text) {
        *p = dm->text + dm->toff[i];
        *n = dm->tlen[i];
    } else {
        *p = dm->toks + dm->koff[i];
        *n = dm->klen[i] * sizeof(uint32_t);
    }
}

/* Count documents equal to an earlier one among keys[n] (sorted here). per_domain: only pairs
   within one domain count (keys then hold one domain). */
static uint64_t count_dups(const lms_docset *ds, dkey *keys, size_t n) {
    qsort(keys, n, sizeof *keys, cmp_dkey);
    uint64_t dups = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && keys[b].h == keys[a].h) b++;
        /* Within a hash group, compare each member to the earlier ones (groups are tiny). */
        for (size_t j = a + 1; j < b; j++) {
            const void *pj;
            size_t nj;
            doc_bytes(ds, keys[j].d, keys[j].i, &pj, &nj);
            for (size_t k = a; k < j; k++) {
                const void *pk;
                size_t nk;
                doc_bytes(ds, keys[k].d, keys[k].i, &pk, &nk);
                if (nk == nj && !memcmp(pk, pj, nj)) { dups++; break; }
            }
        }
        a = b;
    }
    return dups;
}

static int cmp_tc(const void *a, const void *b) {
    const lms_token_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static lms_status top_tokens(const uint64_t *counts, int vocab, int k, lms_domain_stats *s, lms_err *err) {
    size_t nz = 0;
    for (int i = 0; i < vocab; i++) nz += counts[i] > 0;
    lms_token_count *all = malloc((nz ? nz : 1) * sizeof *all);
    if (!all) return nomem(err);
    size_t j = 0;
    for (int i = 0; i < vocab; i++)
        if (counts[i]) all[j++] = (lms_token_count){(uint32_t)i, counts[i]};
    qsort(all, nz, sizeof *all, cmp_tc);
    s->n_top = (int)(nz < (size_t)k ? nz : (size_t)k);
    s->top = all;
    return LMS_OK;
}

void lms_data_stats_free(lms_data_stats *s) {
    if (!s) return;
    for (int d = 0; d < s->n_domains; d++) free(s->domains[d].top);
    free(s->domains);
    free(s->total.top);
    memset(s, 0, sizeof *s);
}

lms_status lms_data_stats_compute(const lms_docset *ds, const lms_tokenizer *tok, int top_k, lms_data_stats *out,
                                  lms_err *err) {
    memset(out, 0, sizeof *out);
    if (top_k < 0) top_k = 0;
    lms_tokenizer *own = NULL;
    if (!ds->is_shards && !tok) {
        if (!(own = lms_tokenizer_bytes())) return nomem(err);
        tok = own;
    }
    int vocab = 0;
    if (ds->is_shards) {
        uint32_t mx = 0;
        for (int d = 0; d < ds->n; d++)
            for (size_t i = 0; i < ds->d[d].n_toks; i++)
                if (ds->d[d].toks[i] > mx) mx = ds->d[d].toks[i];
        vocab = ds->tok ? lms_tokenizer_vocab_size(ds->tok) : (int)mx + 1;
        if ((int)mx >= vocab) vocab = (int)mx + 1;
    } else {
        vocab = lms_tokenizer_vocab_size(tok);
    }
    out->vocab_size = vocab;
    out->tokens_from_shards = ds->is_shards;
    out->n_domains = ds->n;
    out->domains = calloc(ds->n > 0 ? (size_t)ds->n : 1, sizeof *out->domains);
    uint64_t *counts = calloc((size_t)vocab, sizeof *counts), *tcounts = calloc((size_t)vocab, sizeof *tcounts);
    size_t total_docs = 0;
    for (int d = 0; d < ds->n; d++) total_docs += ds->d[d].n_docs;
    dkey *all = malloc((total_docs ? total_docs : 1) * sizeof *all);
    lms_status st = out->domains && counts && tcounts && all ? LMS_OK : nomem(err);
    size_t na = 0;
    for (int d = 0; d < ds->n && !st; d++) {
        const ds_domain *dm = &ds->d[d];
        lms_domain_stats *s = &out->domains[d];
        snprintf(s->name, sizeof s->name, "%s", dm->name);
        memset(counts, 0, (size_t)vocab * sizeof *counts);
        s->docs = dm->n_docs;
        s->bytes = dm->manifest_bytes;
        if (ds->is_shards) {
            for (size_t i = 0; i < dm->n_docs; i++) {
                s->tokens += dm->klen[i];
                s->val_docs += dm->is_val[i];
                for (size_t k = 0; k < dm->klen[i]; k++) counts[dm->toks[dm->koff[i] + k]]++;
            }
            s->train_docs = s->docs - s->val_docs;
        } else {
            int failed = 0;
            uint64_t ntok = 0;
#pragma omp parallel num_threads(2) reduction(| : failed) reduction(+ : ntok)
            {
                uint64_t *local = calloc((size_t)vocab, sizeof *local);
                lms_ids ids = {0};
                if (!local) failed = 1;
#pragma omp for schedule(dynamic, 16)
                for (size_t i = 0; i < dm->n_docs; i++) {
                    if (failed) continue;
                    lms_err e = {0};
                    ids.n = 0;
                    if (lms_tokenizer_encode(tok, dm->text + dm->toff[i], dm->tlen[i], &ids, &e)) { failed = 1; continue; }
                    ntok += ids.n;
                    for (size_t k = 0; k < ids.n; k++) local[ids.ids[k]]++;
                }
#pragma omp critical
                if (local)
                    for (int v = 0; v < vocab; v++) counts[v] += local[v];
                free(local);
                lms_ids_free(&ids);
            }
            if (failed) { st = nomem(err); break; }
            s->tokens = ntok;
        }
        s->bytes_per_token = s->tokens ? (double)s->bytes / (double)s->tokens : 0;
        for (int v = 0; v < vocab; v++) tcounts[v] += counts[v];
        st = top_tokens(counts, vocab, top_k, s, err);
        /* Exact duplicates within the domain. */
        size_t first = na;
        for (size_t i = 0; i < dm->n_docs; i++) {
            const void *p;
            size_t n;
            doc_bytes(ds, d, i, &p, &n);
            all[na++] = (dkey){lms_data_hash64(p, n), d, i};
        }
        if (!st) s->dup_docs = count_dups(ds, all + first, na - first);
        out->total.docs += s->docs;
        out->total.bytes += s->bytes;
        out->total.tokens += s->tokens;
        out->total.train_docs += s->train_docs;
        out->total.val_docs += s->val_docs;
    }
    if (!st) {
        snprintf(out->total.name, sizeof out->total.name, "total");
        out->total.bytes_per_token = out->total.tokens ? (double)out->total.bytes / (double)out->total.tokens : 0;
        out->total.dup_docs = count_dups(ds, all, na);
        st = top_tokens(tcounts, vocab, top_k, &out->total, err);
    }
    free(all);
    free(counts);
    free(tcounts);
    lms_tokenizer_free(own);
    if (st) lms_data_stats_free(out);
    return st;
}

/* ---- sample ------------------------------------------------------------------------------ */

lms_status lms_data_sample(const lms_docset *ds, const char *domain, size_t n, uint64_t seed, lms_doc_ref *refs,
                           size_t *got, lms_err *err) {
    *got = 0;
    int only = -1;
    if (domain) {
        only = lms_docset_find(ds, domain);
        if (only < 0) {
            char avail[1024] = "";
            for (int i = 0; i < ds->n; i++) {
                size_t al = strlen(avail);
                snprintf(avail + al, sizeof avail - al, "%s%s", i ? ", " : "", ds->d[i].name);
            }
            return lms_errf(err, LMS_ERR_ARG, "no domain named '%s'; the domains are: %s", domain, avail);
        }
    }
    size_t total = 0;
    for (int d = 0; d < ds->n; d++)
        if (only < 0 || d == only) total += ds->d[d].n_docs;
    if (n > total) n = total;
    if (n == 0) return LMS_OK;
    lms_rng r;
    lms_rng_seed(&r, seed);
    /* Partial Fisher-Yates over all candidate positions (the index array is a few MB at most). */
    size_t *idx = malloc(total * sizeof *idx);
    if (!idx) return nomem(err);
    for (size_t i = 0; i < total; i++) idx[i] = i;
    for (size_t i = 0; i < n; i++) {
        size_t j = i + (size_t)lms_rng_below(&r, total - i), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        size_t k = idx[i];
        int d = 0;
        for (; d < ds->n; d++) {
            if (only >= 0 && d != only) continue;
            if (k < ds->d[d].n_docs) break;
            k -= ds->d[d].n_docs;
        }
        refs[i] = (lms_doc_ref){d, k};
    }
    free(idx);
    *got = n;
    return LMS_OK;
}

/* ---- grep -------------------------------------------------------------------------------- */

static size_t back_to_char(const char *t, size_t p) {
    while (p > 0 && ((unsigned char)t[p] & 0xC0) == 0x80) p--;
    return p;
}

lms_status lms_data_grep(const lms_docset *ds, const lms_grep_config *c, lms_grep_fn fn, void *user, size_t *n_matches,
                         lms_err *err) {
    if (n_matches) *n_matches = 0;
    if (!c->pattern || !c->pattern[0]) return lms_errf(err, LMS_ERR_ARG, "the search pattern is empty");
    if (!ds->has_text)
        return lms_errf(err, LMS_ERR_UNSUPPORTED,
                        "grep needs text: these shards were made with a BPE tokenizer; pass it with --tokenizer");
    int only = -1;
    if (c->domain && (only = lms_docset_find(ds, c->domain)) < 0)
        return lms_errf(err, LMS_ERR_ARG, "no domain named '%s'", c->domain);
    pcre2_code *re = NULL;
    pcre2_match_data *md = NULL;
    size_t plen = strlen(c->pattern);
    if (c->regex || c->ignore_case) {
        int ec;
        PCRE2_SIZE eo;
        uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (c->regex ? PCRE2_UCP : PCRE2_LITERAL) | (c->ignore_case ? PCRE2_CASELESS : 0);
        re = pcre2_compile((PCRE2_SPTR)c->pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return lms_errf(err, LMS_ERR_ARG, "bad regular expression at offset %zu: %s", (size_t)eo, (char *)msg);
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        md = pcre2_match_data_create_from_pattern(re, NULL);
        if (!md) { pcre2_code_free(re); return nomem(err); }
    }
    size_t count = 0;
    int stop = 0;
    lms_status st = LMS_OK;
    for (int d = 0; d < ds->n && !stop && !st; d++) {
        if (only >= 0 && d != only) continue;
        const ds_domain *dm = &ds->d[d];
        for (size_t i = 0; i < dm->n_docs && !stop && !st; i++) {
            const char *t = dm->text + dm->toff[i];
            size_t len = dm->tlen[i], pos = 0, line = dm->line ? dm->line[i] : 0, line_pos = 0;
            while (pos <= len && !stop) {
                size_t ms, ml;
                if (re) {
                    int rc = pcre2_match(re, (PCRE2_SPTR)t, len, pos, 0, md, NULL);
                    if (rc == PCRE2_ERROR_NOMATCH) break;
                    if (rc < 0) {
                        PCRE2_UCHAR msg[256];
                        pcre2_get_error_message(rc, msg, sizeof msg);
                        st = lms_errf(err, LMS_ERR_ARG, "matching failed in domain '%s' document %zu: %s", dm->name, i,
                                      (char *)msg);
                        break;
                    }
                    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                    ms = ov[0];
                    ml = ov[1] - ov[0];
                } else {
                    const char *p = len - pos >= plen ? memmem(t + pos, len - pos, c->pattern, plen) : NULL;
                    if (!p) break;
                    ms = (size_t)(p - t);
                    ml = plen;
                }
                if (line) {
                    for (; line_pos < ms; line_pos++) line += t[line_pos] == '\n';
                }
                lms_grep_match m = {d, i, ms, ml, line, t, len, 0, 0};
                size_t cs = ms > c->context ? ms - c->context : 0;
                while (cs < ms && ((unsigned char)t[cs] & 0xC0) == 0x80) cs++; /* forward: stays within context */
                m.ctx_start = cs;
                size_t e = ms + ml + c->context;
                m.ctx_end = e >= len ? len : back_to_char(t, e);
                if (m.ctx_end < ms + ml) m.ctx_end = ms + ml;
                count++;
                if (fn && fn(&m, user)) stop = 1;
                if (ml == 0) { /* empty match: step one character */
                    pos = ms + 1;
                    while (pos < len && ((unsigned char)t[pos] & 0xC0) == 0x80) pos++;
                } else {
                    pos = ms + ml;
                }
            }
        }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (n_matches) *n_matches = count;
    return st;
}
