/* corpus_scan.c — index a corpus's documents reading each file once in blocks. See corpus_scan.h.
 * The rules (file names, UTF-8 check, separator lines, trimming) are corpus.c's, restated for a
 * text that arrives in pieces; tests/test_prepare_stream.c checks both give the same documents.
 * Leaves out: tokenization (prepare.c). */
#define _GNU_SOURCE
#include "data/corpus_scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/log.h"
#include "data/prepare.h"

#define FNV_BASIS 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static lms_status emit(lms_doc_splitter *s, int has_text, uint64_t first, uint64_t end, uint64_t h, lms_err *err) {
    if (!has_text) return LMS_OK;
    if (s->n_docs == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        lms_doc_span *d = realloc(s->docs, cap * sizeof *d);
        if (d) s->docs = d;
        uint64_t *hh = d ? realloc(s->hash, cap * sizeof *hh) : NULL;
        if (!d || !hh) return lms_errf(err, LMS_ERR_NOMEM, "out of memory indexing documents");
        s->hash = hh;
        s->cap = cap;
    }
    s->docs[s->n_docs] = (lms_doc_span){(size_t)first, (size_t)(end - first)};
    s->hash[s->n_docs++] = h;
    return LMS_OK;
}

/* Is the current line (without its '\n') a separator: "<|endoftext|>", maybe followed by '\r'? */
static int line_is_sep(const lms_doc_splitter *s) {
    const size_t sl = sizeof LMS_DOC_SEPARATOR - 1;
    size_t ll = s->line_len;
    if (ll == sl + 1 && s->line_head[sl] == '\r') ll--;
    return ll == sl && memcmp(s->line_head, LMS_DOC_SEPARATOR, sl) == 0;
}

static void snapshot(lms_doc_splitter *s) {
    s->snap_has_text = s->has_text;
    s->snap_first = s->first;
    s->snap_end = s->end;
    s->snap_h_run = s->h_run;
    s->snap_h_text = s->h_text;
}

lms_status lms_doc_splitter_feed(lms_doc_splitter *s, const char *text, size_t n, lms_err *err) {
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < n; i++, s->pos++) {
        unsigned char c = p[i];
        if (c == '\n') {
            if (line_is_sep(s)) { /* the document ends where this line starts */
                lms_status st = emit(s, s->snap_has_text, s->snap_first, s->snap_end, s->snap_h_text, err);
                if (st) return st;
                s->has_text = 0;
            } else if (s->has_text) {
                s->h_run = (s->h_run ^ c) * FNV_PRIME;
            }
            s->line_start = s->pos + 1;
            s->line_len = 0;
            snapshot(s);
            continue;
        }
        if (s->line_len < sizeof s->line_head) s->line_head[s->line_len] = c;
        s->line_len++;
        if (is_ws(c)) {
            if (s->has_text) s->h_run = (s->h_run ^ c) * FNV_PRIME;
            continue;
        }
        if (!s->has_text) {
            s->has_text = 1;
            s->first = s->pos;
            s->h_run = FNV_BASIS;
        }
        s->h_run = (s->h_run ^ c) * FNV_PRIME;
        s->h_text = s->h_run;
        s->end = s->pos + 1;
    }
    return LMS_OK;
}

lms_status lms_doc_splitter_finish(lms_doc_splitter *s, lms_err *err) {
    lms_status st;
    if (s->line_len > 0 && line_is_sep(s)) st = emit(s, s->snap_has_text, s->snap_first, s->snap_end, s->snap_h_text, err);
    else st = emit(s, s->has_text, s->first, s->end, s->h_text, err);
    s->has_text = 0;
    s->line_len = 0;
    snapshot(s);
    return st;
}

void lms_corpus_index_free(lms_corpus_index *c) {
    if (!c) return;
    for (int d = 0; d < c->n_domains; d++) {
        lms_corpus_index_domain *dom = &c->domains[d];
        free(dom->path);
        free(dom->docs);
        free(dom->hash);
        free(dom->loc);
        for (int i = 0; i < dom->n_files; i++) free(dom->files[i]);
        free(dom->files);
    }
    free(c->domains);
    memset(c, 0, sizeof *c);
}

/* Index one file as a domain; *used = 0 when it was skipped (with a warning, as corpus.c does). */
static lms_status scan_domain(lms_corpus_index_domain *dom, const char *path, const char *fname, size_t block,
                              char *buf, int *used, lms_err *err) {
    *used = 0;
    memset(dom, 0, sizeof *dom);
    if (!lms_corpus_domain_name(fname, path, dom->name, sizeof dom->name)) return LMS_OK;
    FILE *f = NULL;
    lms_status st = lms_fopen_regular(path, &f, err);
    if (st) {
        lms_err_prefix(err, "corpus: ");
        return st;
    }
    lms_doc_splitter sp;
    memset(&sp, 0, sizeof sp);
    size_t carry = 0;         /* bytes of an unfinished UTF-8 character kept from the last block */
    uint64_t off = 0, bad = UINT64_MAX; /* file offset of buf[0]; of the first byte that is not text */
    int bad_nul = 0;
    for (;;) {
        size_t r = fread(buf + carry, 1, block, f);
        if (r < block && ferror(f)) {
            st = lms_errf(err, LMS_ERR_IO, "corpus: cannot read '%s': %s", path, strerror(errno));
            break;
        }
        size_t n = carry + r, ok = lms_utf8_valid_prefix(buf, n);
        int at_end = r < block;
        if (ok < n && (at_end || n - ok > 3 || buf[ok] == 0)) { /* not text (a cut character only at the very end) */
            bad = off + ok;
            bad_nul = buf[ok] == 0;
            break;
        }
        if ((st = lms_doc_splitter_feed(&sp, buf, ok, err))) break;
        memmove(buf, buf + ok, n - ok);
        carry = n - ok;
        off += ok;
        if (at_end) break;
    }
    fclose(f);
    if (!st && bad == UINT64_MAX) st = lms_doc_splitter_finish(&sp, err);
    if (st || bad != UINT64_MAX || sp.n_docs == 0) {
        if (!st && bad != UINT64_MAX)
            lms_log(LMS_LOG_WARN, "skipping '%s': not UTF-8 text (%s at byte %llu); convert it to UTF-8 or remove it",
                    path, bad_nul ? "a NUL byte" : "invalid UTF-8", (unsigned long long)bad);
        else if (!st)
            lms_log(LMS_LOG_WARN, "skipping '%s': it holds no documents (empty or only separators)", path);
        free(sp.docs);
        free(sp.hash);
        memset(dom, 0, sizeof *dom);
        return st;
    }
    dom->docs = sp.docs;
    dom->hash = sp.hash;
    dom->n_docs = sp.n_docs;
    dom->file_len = sp.pos;
    for (size_t i = 0; i < dom->n_docs; i++) dom->doc_bytes += dom->docs[i].len;
    dom->path = strdup(path);
    if (!dom->path) {
        free(dom->docs);
        free(dom->hash);
        memset(dom, 0, sizeof *dom);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    *used = 1;
    return LMS_OK;
}

/* ---- JSON Lines files ---- */

typedef struct {
    lms_corpus_index *c;
    size_t dcap;      /* capacity of c->domains */
    const char *path; /* the file being read */
    const char *stem; /* its domain when there is no domain field */
    int last;         /* the domain of the last document (a cache), or -1 */
    uint64_t docs;    /* documents of this file */
} jsonl_scan;

static lms_status add_domain_slot(lms_corpus_index *c, size_t *cap, lms_err *err) {
    if ((size_t)c->n_domains < *cap) return LMS_OK;
    size_t nc = *cap ? 2 * *cap : 16;
    lms_corpus_index_domain *nd = realloc(c->domains, nc * sizeof *nd);
    if (!nd) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    c->domains = nd;
    *cap = nc;
    return LMS_OK;
}

static int find_domain(const lms_corpus_index *c, const char *name) {
    for (int d = 0; d < c->n_domains; d++)
        if (!strcmp(c->domains[d].name, name)) return d;
    return -1;
}

static lms_status same_name(const lms_corpus_index_domain *dom, const char *other, lms_err *err) {
    return lms_errf(err, LMS_ERR_ARG,
                    "domain '%s' is given both by '%s' and by '%s'; a domain is one .txt file or documents of JSON Lines "
                    "files: rename one of them",
                    dom->name, dom->path, other);
}

/* The JSON Lines domain named `name`, created when new. */
static lms_status jsonl_domain(jsonl_scan *js, const char *name, lms_corpus_index_domain **out, lms_err *err) {
    lms_corpus_index *c = js->c;
    int d = js->last >= 0 && !strcmp(c->domains[js->last].name, name) ? js->last : find_domain(c, name);
    lms_status st;
    if (d < 0) {
        if (c->n_domains == LMS_CORPUS_MAX_DOMAINS)
            return lms_errf(err, LMS_ERR_ARG, "more than %d domains (the last '%s'): is the domain field a domain?",
                            LMS_CORPUS_MAX_DOMAINS, name);
        if ((st = add_domain_slot(c, &js->dcap, err))) return st;
        lms_corpus_index_domain *nd = &c->domains[c->n_domains];
        memset(nd, 0, sizeof *nd);
        snprintf(nd->name, sizeof nd->name, "%s", name);
        nd->path = strdup(js->path);
        if (!nd->path) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        d = c->n_domains++;
    } else if (!c->domains[d].files) { /* a .txt file's domain */
        return same_name(&c->domains[d], js->path, err);
    }
    lms_corpus_index_domain *dom = &c->domains[d];
    if (dom->n_files == 0 || strcmp(dom->files[dom->n_files - 1], js->path)) {
        char **nf = realloc(dom->files, (size_t)(dom->n_files + 1) * sizeof *nf);
        if (!nf) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        dom->files = nf;
        if (!(nf[dom->n_files] = strdup(js->path))) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        dom->n_files++;
    }
    js->last = d;
    *out = dom;
    return LMS_OK;
}

static lms_status jsonl_doc(const lms_jsonl_doc *doc, void *user, lms_err *err) {
    jsonl_scan *js = user;
    if (doc->domain && !lms_corpus_domain_ok(doc->domain, strlen(doc->domain)))
        return lms_errf(err, LMS_ERR_FORMAT,
                        "the domain \"%.80s\" is not a domain name (1..63 bytes of letters, digits, '_', '-', '.')",
                        doc->domain);
    lms_corpus_index_domain *dom = NULL;
    lms_status st = jsonl_domain(js, doc->domain ? doc->domain : js->stem, &dom, err);
    if (st) return st;
    if (dom->n_docs == dom->cap) {
        size_t cap = dom->cap ? 2 * dom->cap : 64;
        lms_doc_span *nd = realloc(dom->docs, cap * sizeof *nd);
        if (nd) dom->docs = nd;
        uint64_t *nh = nd ? realloc(dom->hash, cap * sizeof *nh) : NULL;
        if (nh) dom->hash = nh;
        lms_jsonl_loc *nl = nh ? realloc(dom->loc, cap * sizeof *nl) : NULL;
        if (!nl) return lms_errf(err, LMS_ERR_NOMEM, "out of memory indexing documents");
        dom->loc = nl;
        dom->cap = cap;
    }
    size_t i = dom->n_docs++;
    dom->docs[i] = (lms_doc_span){(size_t)dom->file_len, doc->len};
    dom->hash[i] = lms_data_hash64(doc->text, doc->len);
    dom->loc[i] = (lms_jsonl_loc){doc->off, (uint32_t)doc->line_len, (uint32_t)(dom->n_files - 1), (uint64_t)doc->line};
    dom->file_len += doc->len;
    dom->doc_bytes += doc->len;
    js->docs++;
    return LMS_OK;
}

/* Read one JSON Lines file's documents into their domains; *used = 0 when it gave none. */
static lms_status scan_jsonl(jsonl_scan *js, const char *path, const char *fname, size_t block,
                             const lms_jsonl_text_opts *o, int *used, lms_err *err) {
    char stem[64];
    *used = 0;
    if (!(o && o->domain_field) && !lms_corpus_domain_name(fname, path, stem, sizeof stem)) return LMS_OK;
    js->path = path;
    js->stem = stem;
    js->last = -1;
    js->docs = 0;
    lms_status st = lms_jsonl_text_read(path, o, block, jsonl_doc, js, NULL, err);
    if (st) return lms_err_prefix(err, "corpus: ");
    if (js->docs == 0)
        lms_log(LMS_LOG_WARN, "skipping '%s': it holds no documents (no line with text in its \"%s\" field)", path,
                o && o->text_field ? o->text_field : "text");
    *used = js->docs > 0;
    return LMS_OK;
}

static int cmp_domain(const void *a, const void *b) {
    return strcmp(((const lms_corpus_index_domain *)a)->name, ((const lms_corpus_index_domain *)b)->name);
}

lms_status lms_corpus_scan(lms_corpus_index *c, const char *path, size_t block, lms_err *err) {
    return lms_corpus_scan_with(c, path, block, NULL, err);
}

lms_status lms_corpus_scan_with(lms_corpus_index *c, const char *path, size_t block, const lms_jsonl_text_opts *opts,
                                lms_err *err) {
    memset(c, 0, sizeof *c);
    if (!block) block = (size_t)4 << 20;
    lms_corpus_files f;
    lms_status st = lms_corpus_list(&f, path, 1, err);
    if (st) return st;
    jsonl_scan js = {.c = c};
    char *buf = malloc(block + 4);
    if (!buf) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < f.n; i++) {
        int used;
        if (lms_jsonl_text_path(f.path[i])) {
            st = scan_jsonl(&js, f.path[i], f.name[i], block, opts, &used, err);
        } else if (!(st = add_domain_slot(c, &js.dcap, err))) {
            lms_corpus_index_domain *dom = &c->domains[c->n_domains];
            st = scan_domain(dom, f.path[i], f.name[i], block, buf, &used, err);
            int d = !st && used ? find_domain(c, dom->name) : -1;
            if (!st && used) c->n_domains++;
            if (d >= 0) st = same_name(&c->domains[d], f.path[i], err);
        }
        if (!st && !used) c->n_skipped++;
    }
    free(buf);
    int any_jsonl = 0;
    for (int d = 0; d < c->n_domains; d++) any_jsonl |= c->domains[d].files != NULL;
    if (!st && any_jsonl) /* domains named by lines come in any order: by name, as .txt files' are */
        qsort(c->domains, (size_t)c->n_domains, sizeof *c->domains, cmp_domain);
    if (!st && c->n_domains == 0) st = lms_corpus_empty_error(err, path, f.is_dir, c->n_skipped);
    lms_corpus_files_free(&f);
    if (st) lms_corpus_index_free(c);
    return st;
}
