/* corpus.c — reading corpus text files and splitting them into documents. See corpus.h.
 * Leaves out: tokenization (prepare.c) and any rewriting of the corpus. */
#include "data/corpus.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jsonl_text.h"
#include "core/log.h"

size_t lms_utf8_valid_prefix(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0) return i;
        if (c < 0x80) { i++; continue; }
        size_t k;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
        else return i;
        if (n - i <= k) return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += k + 1;
    }
    return n;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

lms_status lms_corpus_split(const char *text, size_t len, lms_doc_span **docs, size_t *n, lms_err *err) {
    *docs = NULL;
    *n = 0;
    size_t cap = 0, cnt = 0, start = 0, pos = 0;
    const size_t seplen = strlen(LMS_DOC_SEPARATOR);
    lms_doc_span *v = NULL;
    for (;;) {
        /* [pos, eol) is a line */
        const char *nl = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        size_t eol = nl ? (size_t)(nl - text) : len;
        size_t ll = eol - pos;
        if (ll > 0 && text[pos + ll - 1] == '\r') ll--;
        int is_sep = pos < len && ll == seplen && !memcmp(text + pos, LMS_DOC_SEPARATOR, seplen);
        int at_end = eol >= len;
        if (is_sep || at_end) {
            size_t a = start, b = is_sep ? pos : len;
            while (a < b && is_ws(text[a])) a++;
            while (b > a && is_ws(text[b - 1])) b--;
            if (b > a) {
                if (cnt == cap) {
                    cap = cap ? cap * 2 : 64;
                    lms_doc_span *nv = realloc(v, cap * sizeof *v);
                    if (!nv) { free(v); return lms_errf(err, LMS_ERR_NOMEM, "out of memory splitting documents"); }
                    v = nv;
                }
                v[cnt].off = a;
                v[cnt].len = b - a;
                cnt++;
            }
            start = eol + 1;
        }
        if (at_end) break;
        pos = eol + 1;
    }
    *docs = v;
    *n = cnt;
    return LMS_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void lms_corpus_free(lms_corpus *c) {
    if (!c) return;
    for (int d = 0; d < c->n_domains; d++) {
        free(c->domains[d].path);
        free(c->domains[d].data);
        free(c->domains[d].docs);
    }
    free(c->domains);
    memset(c, 0, sizeof *c);
}

int lms_corpus_find(const lms_corpus *c, const char *name) {
    for (int d = 0; d < c->n_domains; d++)
        if (!strcmp(c->domains[d].name, name)) return d;
    return -1;
}

int lms_corpus_domain_ok(const char *s, size_t n) {
    if (n == 0 || n > 63) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

int lms_corpus_domain_name(const char *fname, const char *path, char *out, size_t cap) {
    size_t nl = strlen(fname);
    static const char *const ext[] = {".txt", ".jsonl", ".ndjson"};
    for (int e = 0; e < 3; e++) {
        size_t el = strlen(ext[e]);
        if (nl > el && !strcmp(fname + nl - el, ext[e])) {
            nl -= el;
            break;
        }
    }
    if (nl == 0 || nl >= cap) {
        lms_log(LMS_LOG_WARN, "skipping '%s': its name does not make a domain name of 1..%zu bytes", path, cap - 1);
        return 0;
    }
    if (!lms_corpus_domain_ok(fname, nl)) {
        lms_log(LMS_LOG_WARN, "skipping '%s': domain names use only letters, digits, '_', '-', '.'", path);
        return 0;
    }
    memcpy(out, fname, nl);
    out[nl] = 0;
    return 1;
}

/* Load one file as a domain; returns LMS_OK with *used = 0 when it was skipped. */
static lms_status load_domain(lms_corpus_domain *dom, const char *path, const char *fname, int *used, lms_err *err) {
    *used = 0;
    memset(dom, 0, sizeof *dom);
    if (!lms_corpus_domain_name(fname, path, dom->name, sizeof dom->name)) return LMS_OK;
    lms_status st = lms_file_read_all(path, &dom->data, &dom->len, err);
    if (st) return lms_err_prefix(err, "corpus: ");
    size_t ok = lms_utf8_valid_prefix(dom->data, dom->len);
    if (ok < dom->len) {
        lms_log(LMS_LOG_WARN, "skipping '%s': not UTF-8 text (%s at byte %zu); convert it to UTF-8 or remove it",
                path, dom->data[ok] == 0 ? "a NUL byte" : "invalid UTF-8", ok);
        free(dom->data);
        memset(dom, 0, sizeof *dom);
        return LMS_OK;
    }
    st = lms_corpus_split(dom->data, dom->len, &dom->docs, &dom->n_docs, err);
    if (st) { free(dom->data); return st; }
    if (dom->n_docs == 0) {
        lms_log(LMS_LOG_WARN, "skipping '%s': it holds no documents (empty or only separators)", path);
        free(dom->data);
        free(dom->docs);
        memset(dom, 0, sizeof *dom);
        return LMS_OK;
    }
    for (size_t i = 0; i < dom->n_docs; i++) dom->doc_bytes += dom->docs[i].len;
    dom->path = strdup(path);
    if (!dom->path) { free(dom->data); free(dom->docs); return lms_errf(err, LMS_ERR_NOMEM, "out of memory"); }
    *used = 1;
    return LMS_OK;
}

lms_status lms_corpus_list(lms_corpus_files *f, const char *path, int with_jsonl, lms_err *err) {
    memset(f, 0, sizeof *f);
    f->is_dir = lms_path_is_dir(path);
    if (!f->is_dir && !lms_path_exists(path))
        return lms_errf(err, LMS_ERR_IO, "corpus '%s' does not exist (give a directory of <domain>.txt files or one .txt file)", path);
    char **names = NULL;
    size_t nn = 0, cap = 0;
    if (f->is_dir) {
        DIR *dir = opendir(path);
        if (!dir) return lms_errf(err, LMS_ERR_IO, "cannot open corpus directory '%s'", path);
        struct dirent *e;
        while ((e = readdir(dir))) {
            size_t l = strlen(e->d_name);
            if (e->d_name[0] == '.' || !((l > 4 && !strcmp(e->d_name + l - 4, ".txt")) ||
                                          (with_jsonl && lms_jsonl_text_path(e->d_name))))
                continue;
            if (nn == cap) {
                cap = cap ? cap * 2 : 16;
                char **nv = realloc(names, cap * sizeof *nv);
                if (!nv) break;
                names = nv;
            }
            names[nn] = strdup(e->d_name);
            if (names[nn]) nn++;
        }
        closedir(dir);
        if (nn > 1) qsort(names, nn, sizeof *names, cmp_str);
    } else {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        names = malloc(sizeof *names);
        if (names && (names[0] = strdup(base))) nn = 1;
    }
    f->name = names;
    f->path = calloc(nn ? nn : 1, sizeof *f->path);
    if (!f->path || (!f->is_dir && nn != 1)) {
        f->n = nn;
        lms_corpus_files_free(f);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory listing corpus '%s'", path);
    }
    for (size_t i = 0; i < nn; i++) {
        size_t cap2 = strlen(path) + strlen(names[i]) + 2;
        f->path[i] = malloc(cap2);
        if (!f->path[i]) {
            f->n = nn;
            lms_corpus_files_free(f);
            return lms_errf(err, LMS_ERR_NOMEM, "out of memory listing corpus '%s'", path);
        }
        if (f->is_dir) lms_path_join(f->path[i], cap2, path, names[i]);
        else snprintf(f->path[i], cap2, "%s", path);
    }
    f->n = nn;
    return LMS_OK;
}

void lms_corpus_files_free(lms_corpus_files *f) {
    for (size_t i = 0; i < f->n; i++) {
        if (f->path) free(f->path[i]);
        if (f->name) free(f->name[i]);
    }
    free(f->path);
    free(f->name);
    memset(f, 0, sizeof *f);
}

lms_status lms_corpus_empty_error(lms_err *err, const char *path, int is_dir, int skipped) {
    return lms_errf(err, LMS_ERR_ARG,
                    is_dir ? "corpus '%s' has no usable documents: no readable UTF-8 <domain>.txt file with text "
                             "(%d skipped); put one file per domain there, documents separated by a line "
                             "'<|endoftext|>'"
                           : "corpus file '%s' has no usable documents (%d skipped: see the warning above)",
                    path, skipped);
}

lms_status lms_corpus_open(lms_corpus *c, const char *path, lms_err *err) {
    memset(c, 0, sizeof *c);
    if (lms_jsonl_text_path(path) && !lms_path_is_dir(path))
        return lms_errf(err, LMS_ERR_ARG,
                        "'%s' is JSON Lines, which only 'data prepare' and 'tokenizer train' read; prepare it into shards "
                        "and give the shard directory instead (data stats/sample read shards)", path);
    lms_corpus_files f;
    lms_status st = lms_corpus_list(&f, path, 0, err);
    if (st) return st;
    c->domains = calloc(f.n ? f.n : 1, sizeof *c->domains);
    if (!c->domains) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < f.n; i++) {
        int used;
        st = load_domain(&c->domains[c->n_domains], f.path[i], f.name[i], &used, err);
        if (!st && used) c->n_domains++;
        else if (!st) c->n_skipped++;
    }
    if (!st && c->n_domains == 0) st = lms_corpus_empty_error(err, path, f.is_dir, c->n_skipped);
    lms_corpus_files_free(&f);
    if (st) lms_corpus_free(c);
    return st;
}
