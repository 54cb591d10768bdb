/* corpus.h — reading a text corpus: one UTF-8 file per domain, documents split on a separator line.
 *
 * A corpus is a directory of <domain>.txt files (or a single .txt file, one domain). Inside a
 * file, documents are separated by a line that is exactly "<|endoftext|>" (a trailing '\r' is
 * tolerated). A document's text is everything between two separator lines with leading and
 * trailing blank lines/whitespace trimmed; documents that are empty after trimming are dropped.
 *
 * Bad input policy (documented for users in 'lmscope data --help'):
 *   - a file that cannot be read (permissions, I/O) is an error (LMS_ERR_IO): the user named it;
 *   - a file that is not text — it holds a NUL byte or invalid UTF-8 — is skipped with a warning
 *     (lms_log WARN) naming the file and the byte offset, and counted in n_skipped;
 *   - a file with no documents is skipped with a warning;
 *   - a directory with no usable .txt file is an error (LMS_ERR_ARG), the message saying why.
 * Files not ending in .txt are ignored; so are hidden files. Domains are sorted by name.
 *
 *   lms_corpus c;
 *   if (lms_corpus_open(&c, "data/corpus", &err)) return err.code;
 *   for (int d = 0; d < c.n_domains; d++)
 *       for (size_t i = 0; i < c.domains[d].n_docs; i++) use(lms_corpus_doc(&c.domains[d], i, &len));
 *   lms_corpus_free(&c);
 */
#ifndef LMS_DATA_CORPUS_H
#define LMS_DATA_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define LMS_DOC_SEPARATOR "<|endoftext|>"

typedef struct {
    size_t off, len; /* bytes [off, off + len) of the domain's data */
} lms_doc_span;

typedef struct {
    char name[64];      /* file name without .txt */
    char *path;         /* the file */
    char *data;         /* whole file, NUL-terminated */
    size_t len;
    lms_doc_span *docs; /* n_docs documents in file order */
    size_t n_docs;
    uint64_t doc_bytes; /* sum of document lengths */
} lms_corpus_domain;

typedef struct {
    lms_corpus_domain *domains;
    int n_domains;
    int n_skipped; /* files skipped as not text or empty (each warned about) */
} lms_corpus;

/* Open a corpus directory or one .txt file. On failure *c holds nothing to free. JSON Lines files
   (jsonl_text.h) are not read here: a directory's are ignored, one given alone is LMS_ERR_ARG (the
   streaming scanner, corpus_scan.h, reads them for 'data prepare'). */
lms_status lms_corpus_open(lms_corpus *c, const char *path, lms_err *err);
void lms_corpus_free(lms_corpus *c);

/* The domain files a corpus path names: a directory's <domain>.txt files (with_jsonl: also its
   .jsonl and .ndjson files, jsonl_text.h) — not hidden ones — sorted by name, or the one file
   given. Shared by lms_corpus_open and the streaming scanner (corpus_scan.h). LMS_ERR_IO when the
   path does not exist or the directory cannot be read. */
typedef struct {
    size_t n;
    char **path; /* [n] paths to open */
    char **name; /* [n] file names: "<domain>.txt" */
    int is_dir;
} lms_corpus_files;
lms_status lms_corpus_list(lms_corpus_files *f, const char *path, int with_jsonl, lms_err *err);
void lms_corpus_files_free(lms_corpus_files *f);
/* The domain name a corpus file gives ("quotes.txt" -> "quotes"; also "quotes.jsonl" and
   "quotes.ndjson") into out[cap]: 1 if it is one (1..cap-1 bytes of letters, digits, '_', '-',
   '.'), else 0 after a warning that names path. */
int lms_corpus_domain_name(const char *fname, const char *path, char *out, size_t cap);
/* Is s[0..n) a domain name as above (1..63 bytes of letters, digits, '_', '-', '.')? */
int lms_corpus_domain_ok(const char *s, size_t n);

/* The error for a corpus with no usable document (skipped: files without one). */
lms_status lms_corpus_empty_error(lms_err *err, const char *path, int is_dir, int skipped);

/* Pointer to document i's text (not NUL-terminated) and its length. */
static inline const char *lms_corpus_doc(const lms_corpus_domain *d, size_t i, size_t *len) {
    *len = d->docs[i].len;
    return d->data + d->docs[i].off;
}

/* Index of the domain named `name`, or -1. */
int lms_corpus_find(const lms_corpus *c, const char *name);

/* Length of the longest prefix of s[0..n) that is valid UTF-8 (strict: no overlong forms, no
   surrogates, nothing above U+10FFFF) and holds no NUL byte. == n when all of it is. */
size_t lms_utf8_valid_prefix(const char *s, size_t n);

/* Split text[0..len) into documents as described above; *docs is malloc'd (caller frees),
   possibly NULL when *n == 0. */
lms_status lms_corpus_split(const char *text, size_t len, lms_doc_span **docs, size_t *n, lms_err *err);

#endif
