/* prepare.c — tokenize a corpus into train/val shards and a manifest, streamed: a first pass
 * indexes the documents (corpus_scan.c: offsets, lengths, hashes), the hold-out rule picks the
 * validation documents, a second pass reads the text again through a window, encodes it in
 * parallel and writes the shards as the tokens come. See prepare.h.
 * Leaves out: the document rules (corpus.c / corpus_scan.c), the file formats (shard.c, manifest.c). */
#define _GNU_SOURCE
#include "data/prepare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/log.h"
#include "data/corpus.h"
#include "data/corpus_scan.h"
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

/* ---- shards written as the tokens come ---- */

typedef struct {
    const char *out_dir, *dom, *split;
    int version;
    size_t per;               /* tokens per shard file */
    lms_manifest_split *s;    /* files and token count recorded here */
    size_t files_cap;
    lms_atomic_file f;
    int open;
    size_t in_file;           /* tokens in the open file */
    unsigned char buf[16384]; /* little-endian tokens waiting to be written */
    size_t nbuf;
} shard_out;

static void wr_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static lms_status so_flush(shard_out *o, lms_err *err) {
    if (o->nbuf && fwrite(o->buf, 1, o->nbuf, o->f.fp) != o->nbuf)
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed (disk full?)", o->f.path);
    o->nbuf = 0;
    return LMS_OK;
}

/* Finish the open shard: the header's count, then fsync + rename (lms_atomic_commit). */
static lms_status so_close(shard_out *o, lms_err *err) {
    if (!o->open) return LMS_OK;
    unsigned char cnt[4];
    wr_le32(cnt, (uint32_t)o->in_file);
    lms_status st = so_flush(o, err);
    if (!st && (fseek(o->f.fp, 8, SEEK_SET) != 0 || fwrite(cnt, 1, 4, o->f.fp) != 4))
        st = lms_errf(err, LMS_ERR_IO, "writing the header of '%s' failed", o->f.path);
    o->open = 0;
    if (st) {
        lms_atomic_abort(&o->f);
        return st;
    }
    if ((st = lms_atomic_commit(&o->f, err))) return st;
    lms_manifest_file *mf = &o->s->files[o->s->n_files - 1];
    mf->tokens = o->in_file;
    return LMS_OK;
}

static lms_status so_open(shard_out *o, lms_err *err) {
    char name[128], path[4096];
    int k = o->s->n_files;
    snprintf(name, sizeof name, "%s_%s_%06d.bin", o->dom, o->split, k);
    lms_path_join(path, sizeof path, o->out_dir, name);
    if ((size_t)k + 1 > o->files_cap) {
        size_t cap = o->files_cap ? 2 * o->files_cap : 4;
        lms_manifest_file *nf = realloc(o->s->files, cap * sizeof *nf);
        if (!nf) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        o->s->files = nf;
        o->files_cap = cap;
    }
    o->s->files[k].file = strdup(name);
    o->s->files[k].tokens = 0;
    if (!o->s->files[k].file) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    o->s->n_files = k + 1;
    lms_status st = lms_atomic_open(&o->f, path, err);
    if (st) return st;
    unsigned char hdr[LMS_SHARD_HEADER_BYTES];
    memset(hdr, 0, sizeof hdr);
    wr_le32(hdr, LMS_SHARD_MAGIC);
    wr_le32(hdr + 4, (uint32_t)o->version);
    if (fwrite(hdr, 1, sizeof hdr, o->f.fp) != sizeof hdr) {
        lms_atomic_abort(&o->f);
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed (disk full?)", path);
    }
    o->open = 1;
    o->in_file = 0;
    return LMS_OK;
}

/* Append tokens, starting a new shard file every `per` tokens. */
static lms_status so_put(shard_out *o, const uint32_t *ids, size_t n, lms_err *err) {
    size_t tb = o->version == 1 ? 2 : 4;
    for (size_t i = 0; i < n; i++) {
        lms_status st;
        if (!o->open && (st = so_open(o, err))) return st;
        if (o->nbuf + tb > sizeof o->buf && (st = so_flush(o, err))) return st;
        uint32_t v = ids[i];
        if (tb == 2) {
            if (v > 65535) return lms_errf(err, LMS_ERR_ARG, "token id %u does not fit a version-1 (uint16) shard", v);
            o->buf[o->nbuf++] = (unsigned char)v;
            o->buf[o->nbuf++] = (unsigned char)(v >> 8);
        } else {
            wr_le32(o->buf + o->nbuf, v);
            o->nbuf += 4;
        }
        o->s->tokens++;
        if (++o->in_file == o->per && (st = so_close(o, err))) return st;
    }
    return LMS_OK;
}

/* ---- one domain, streamed ----
 *
 * The file is read again through a window of about `window` bytes. Each document is cut into
 * segments of about `segment` bytes at lms_tokenizer_last_cut points (so the segments' ids,
 * joined, are the document's), the window's segments are encoded in parallel, then written in
 * order, each document's first segment preceded by the separator. Memory: the window and its ids. */

typedef struct {
    size_t doc;    /* document index */
    size_t a, len; /* bytes of the window */
    int first;     /* the document's first segment */
} segment;

typedef struct {
    FILE *f;
    const char *path;
    char *buf;
    size_t cap, n;  /* window capacity, bytes in it */
    uint64_t w0;    /* file offset of buf[0] (JSON Lines: offset in the concatenated texts) */
    segment *seg;
    lms_ids *ids;   /* one per segment slot */
    size_t nseg, segcap;
    size_t seg_bytes; /* the segment size asked for */
    /* a JSON Lines domain: the window is filled with its documents' texts, read from their lines */
    const lms_corpus_index_domain *cd;
    const lms_jsonl_text_opts *jo;
    int fi;                /* index of the file open in f, or -1 */
    size_t doc;            /* the document whose text is `text` (when have_text) */
    int have_text;
    const char *text;
    lms_jsonl_text_buf tb; /* its line, parsed */
} window;

static lms_status flush_segments(window *w, const lms_corpus_index_domain *cd, const unsigned char *is_val,
                                 const lms_tokenizer *tok, const lms_manifest *m, int threads, shard_out *out,
                                 lms_manifest_domain *md, lms_err *err) {
    int failed = 0;
    size_t bytes = 0;
    for (size_t i = 0; i < w->nseg; i++) bytes += w->seg[i].len;
    int par = threads > 1 && w->nseg > 1 && bytes >= 4 * w->seg_bytes; /* threads only for real work */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(| : failed) if (par)
    for (size_t i = 0; i < w->nseg; i++) {
        lms_err e = {0};
        w->ids[i].n = 0;
        if (lms_tokenizer_encode(tok, w->buf + w->seg[i].a, w->seg[i].len, &w->ids[i], &e)) failed = 1;
    }
    if (failed) return lms_errf(err, LMS_ERR_NOMEM, "out of memory tokenizing '%s'", cd->path);
    for (size_t i = 0; i < w->nseg; i++) {
        const segment *g = &w->seg[i];
        int v = is_val[g->doc];
        lms_status st;
        if (g->first) {
            lms_manifest_split *s = v ? &md->val : &md->train;
            s->docs++;
            s->bytes += cd->docs[g->doc].len;
            if ((st = so_put(&out[v], m->sep, (size_t)m->n_sep, err))) return st;
        }
        if ((st = so_put(&out[v], w->ids[i].ids, w->ids[i].n, err))) return st;
    }
    for (size_t i = 0; i < w->nseg; i++) lms_ids_free(&w->ids[i]); /* so ids never outgrow one window's */
    w->nseg = 0;
    return LMS_OK;
}

/* Append the texts of a JSON Lines domain from offset w0 + n until the window is full or the
 * texts end. Each line is parsed once; a document longer than the window stays parsed for the
 * next fill. */
static lms_status jsonl_fill(window *w, lms_err *err) {
    const lms_corpus_index_domain *cd = w->cd;
    uint64_t v = w->w0 + w->n;
    size_t lo = 0, hi = cd->n_docs; /* the last document starting at or before v */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (cd->docs[mid].off <= v) lo = mid;
        else hi = mid;
    }
    for (size_t d = lo; d < cd->n_docs && w->n < w->cap; d++) {
        const lms_jsonl_loc *L = &cd->loc[d];
        uint64_t in = v - cd->docs[d].off;
        if (in >= cd->docs[d].len) continue;
        if (!w->have_text || w->doc != d) {
            if (w->fi != (int)L->file) {
                if (w->f) fclose(w->f);
                w->fi = (int)L->file;
                if (!(w->f = fopen(cd->files[L->file], "rb")))
                    return lms_errf(err, LMS_ERR_IO, "corpus: cannot read '%s' again", cd->files[L->file]);
            }
            size_t len;
            w->have_text = 0;
            lms_status st = lms_jsonl_text_reread(w->f, cd->files[L->file], L->off, L->len, (long)L->line, w->jo, &w->tb,
                                                  &w->text, &len, err);
            if (st) return st;
            if (len != cd->docs[d].len)
                return lms_errf(err, LMS_ERR_IO, "%s:%llu: the file changed since it was read (the text's length); run again",
                                cd->files[L->file], (unsigned long long)L->line);
            w->doc = d;
            w->have_text = 1;
        }
        size_t k = cd->docs[d].len - (size_t)in;
        if (k > w->cap - w->n) k = w->cap - w->n;
        memcpy(w->buf + w->n, w->text + in, k);
        w->n += k;
        v += k;
    }
    return LMS_OK;
}

/* Make the window hold file bytes [pos, pos + want) (want <= what is left of the file), after
 * the pending segments were flushed (they point into the window). */
static lms_status window_load(window *w, uint64_t pos, size_t want, lms_err *err) {
    if (pos >= w->w0 && pos + want <= w->w0 + w->n) return LMS_OK;
    if (want > w->cap) {
        char *nb = realloc(w->buf, want);
        if (!nb) return lms_errf(err, LMS_ERR_NOMEM, "out of memory: a %zu-byte stretch of '%s' holds no place to cut", want, w->path);
        w->buf = nb;
        w->cap = want;
    }
    if (pos >= w->w0 && pos <= w->w0 + w->n) { /* keep what is already read */
        size_t keep = (size_t)(w->w0 + w->n - pos);
        memmove(w->buf, w->buf + (pos - w->w0), keep);
        w->n = keep;
    } else {
        if (!w->cd->loc && fseeko(w->f, (off_t)pos, SEEK_SET) != 0) return lms_errf(err, LMS_ERR_IO, "cannot seek in '%s'", w->path);
        w->n = 0;
    }
    w->w0 = pos;
    if (w->cd->loc) {
        lms_status st = jsonl_fill(w, err);
        if (st) return st;
    } else {
        w->n += fread(w->buf + w->n, 1, w->cap - w->n, w->f);
    }
    if (w->n < want)
        return lms_errf(err, LMS_ERR_IO, "'%s' changed while it was being prepared (it ended at byte %llu); run again", w->path,
                        (unsigned long long)(w->w0 + w->n));
    return LMS_OK;
}

static lms_status add_segment(window *w, size_t doc, uint64_t a, size_t len, int first, lms_err *err) {
    if (w->nseg == w->segcap) {
        size_t cap = w->segcap ? 2 * w->segcap : 64;
        segment *ns = realloc(w->seg, cap * sizeof *ns);
        if (ns) w->seg = ns;
        lms_ids *ni = ns ? realloc(w->ids, cap * sizeof *ni) : NULL;
        if (!ns || !ni) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        memset(ni + w->segcap, 0, (cap - w->segcap) * sizeof *ni);
        w->ids = ni;
        w->segcap = cap;
    }
    w->seg[w->nseg++] = (segment){doc, (size_t)(a - w->w0), len, first};
    return LMS_OK;
}

static lms_status prepare_domain(const lms_corpus_index_domain *cd, const lms_tokenizer *tok, const lms_manifest *m,
                                 const lms_prepare_config *c, const char *out_dir, lms_manifest_domain *md,
                                 lms_err *err) {
    size_t n = cd->n_docs;
    size_t *lens = calloc(n, sizeof *lens);
    unsigned char *is_val = calloc(n, 1);
    size_t wcap = c->window_bytes ? c->window_bytes : (size_t)4 << 20;
    size_t seg = c->segment_bytes ? c->segment_bytes : (size_t)64 << 10;
    window w = {.path = cd->path, .cap = wcap, .seg_bytes = seg, .cd = cd, .jo = &c->jsonl, .fi = -1};
    w.buf = malloc(wcap);
    shard_out *out = calloc(2, sizeof *out);
    lms_status st = LMS_OK;
    if (!lens || !is_val || !w.buf || !out) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); goto done; }
    for (size_t i = 0; i < n; i++) lens[i] = cd->docs[i].len;
    size_t k = lms_data_select_val(cd->hash, lens, n, c->val_docs, c->val_fraction, is_val, err);
    if (k == (size_t)-1) { st = LMS_ERR_NOMEM; goto done; }
    size_t per = c->shard_tokens ? c->shard_tokens : 100000000;
    for (int v = 0; v < 2; v++)
        out[v] = (shard_out){.out_dir = out_dir, .dom = cd->name, .split = v ? "val" : "train", .version = m->shard_version,
                             .per = per, .s = v ? &md->val : &md->train};
    int threads = c->threads > 0 ? c->threads : 2;
    if (!cd->loc && !(w.f = fopen(cd->path, "rb"))) {
        st = lms_errf(err, LMS_ERR_IO, "corpus: cannot read '%s' again", cd->path);
        goto done;
    }
    /* segments of each document, in order */
    for (size_t i = 0; i < n && !st; i++) {
        uint64_t pos = cd->docs[i].off, end = pos + cd->docs[i].len;
        int first = 1;
        while (pos < end && !st) {
            size_t left = (size_t)(end - pos), len = left;
            if (left > seg) { /* cut at the last safe point within seg bytes, else at the first one after */
                size_t look = seg + 1;
                for (;;) {
                    if (!(pos >= w.w0 && pos + look <= w.w0 + w.n)) {
                        if ((st = flush_segments(&w, cd, is_val, tok, m, threads, out, md, err))) break;
                        if ((st = window_load(&w, pos, look > wcap ? look : (left < wcap ? left : wcap), err))) break;
                    }
                    const char *p = w.buf + (pos - w.w0);
                    size_t cut = lms_tokenizer_last_cut(p, seg + 1);
                    if (!cut) cut = lms_tokenizer_split_point(p, look, seg + 1);
                    if (cut > 0 && cut < look) { len = cut; break; }
                    if (look == left) break; /* no place to cut: the rest of the document is one segment */
                    look = left - look < look ? left : 2 * look;
                }
                if (st) break;
            }
            if (!(pos >= w.w0 && pos + len <= w.w0 + w.n)) {
                if ((st = flush_segments(&w, cd, is_val, tok, m, threads, out, md, err))) break;
                if ((st = window_load(&w, pos, len > wcap ? len : (left < wcap ? left : wcap), err))) break;
            }
            if ((st = add_segment(&w, i, pos, len, first, err))) break;
            pos += len;
            first = 0;
        }
    }
    if (!st) st = flush_segments(&w, cd, is_val, tok, m, threads, out, md, err);
    for (int v = 0; v < 2 && !st; v++) st = so_close(&out[v], err);
    if (st) goto done;
    md->docs = n;
    md->bytes = cd->doc_bytes;
    if (n >= 1 && k == 0 && (c->val_docs > 0 || c->val_fraction > 0))
        lms_log(LMS_LOG_WARN, "domain '%s': none of its %zu document%s held out for validation (%s)", cd->name, n,
                n == 1 ? "" : "s", n < 2 ? "it needs at least 2" : "--val-docs 0 or --val-fraction 0");
done:
    if (out)
        for (int v = 0; v < 2; v++)
            if (out[v].open) lms_atomic_abort(&out[v].f);
    if (w.f) fclose(w.f);
    lms_jsonl_text_buf_free(&w.tb);
    for (size_t i = 0; i < w.segcap; i++) lms_ids_free(&w.ids[i]);
    free(w.ids);
    free(w.seg);
    free(w.buf);
    free(out);
    free(lens);
    free(is_val);
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
    lms_corpus_index cp;
    lms_manifest m;
    memset(&m, 0, sizeof m);
    lms_status st = lms_corpus_scan_with(&cp, corpus, c->window_bytes, &c->jsonl, err);
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
        char more[64] = "";
        if (cp.domains[d].n_files > 1) snprintf(more, sizeof more, " and %d more", cp.domains[d].n_files - 1);
        md->name = strdup(cp.domains[d].name);
        if (asprintf(&md->source, "%s%s", src ? src + 1 : cp.domains[d].path, more) < 0) md->source = NULL;
        if (!md->name || !md->source) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        else st = prepare_domain(&cp.domains[d], tok, &m, c, out_dir, md, err);
    }
    if (!st) st = lms_manifest_save(&m, out_dir, err);
    lms_corpus_index_free(&cp);
    lms_tokenizer_free(own);
    if (st || !mout) lms_manifest_free(&m);
    else *mout = m;
    return st;
}
