/* corpus_scan.h — the documents of a corpus (corpus.h) found without holding the corpus in memory.
 *
 * Same files, same domain names, same documents (offsets and lengths equal to lms_corpus_split's),
 * same skip rules and messages as lms_corpus_open, but each file is read once in blocks of about
 * `block` bytes and only the document table stays: offset, length and the 64-bit FNV-1a hash
 * (lms_data_hash64) of each document's text, so 'data prepare' can choose its validation
 * documents first and then stream the text again. Memory: the block plus 24 bytes a document.
 * Files must be regular files (a FIFO would block in open(); it is refused before reading).
 *
 *   lms_corpus_index c;
 *   if (lms_corpus_scan(&c, "data/corpus", 0, &err)) return err.code;
 *   for (int d = 0; d < c.n_domains; d++) ... c.domains[d].docs[i].off, .len, c.domains[d].hash[i] ...
 *   lms_corpus_index_free(&c);
 *
 * Leaves out: the text itself (the caller reads the spans it needs).
 */
#ifndef LMS_DATA_CORPUS_SCAN_H
#define LMS_DATA_CORPUS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/corpus.h"

typedef struct {
    char name[64];      /* file name without .txt */
    char *path;         /* the file */
    uint64_t file_len;  /* bytes read */
    lms_doc_span *docs; /* n_docs documents in file order: byte offsets into the file */
    uint64_t *hash;     /* [n_docs] FNV-1a of each document's text */
    size_t n_docs;
    uint64_t doc_bytes; /* sum of document lengths */
} lms_corpus_index_domain;

typedef struct {
    lms_corpus_index_domain *domains;
    int n_domains;
    int n_skipped; /* files skipped as not text or empty (each warned about) */
} lms_corpus_index;

/* Index a corpus directory or one .txt file, reading blocks of `block` bytes (0: 4 MiB). Fails
 * like lms_corpus_open (LMS_ERR_IO unreadable or not a regular file, LMS_ERR_ARG nothing usable,
 * LMS_ERR_NOMEM). On failure *c holds nothing to free. */
lms_status lms_corpus_scan(lms_corpus_index *c, const char *path, size_t block, lms_err *err);
void lms_corpus_index_free(lms_corpus_index *c);

/* The document splitter itself, fed a text in pieces: lms_corpus_split's documents (and their
 * hashes) for the concatenation of everything fed. Plain struct; zero-initialise, then feed,
 * then finish. Documents are appended to docs/hash (realloc'd; the caller frees both). */
typedef struct {
    lms_doc_span *docs;
    uint64_t *hash;
    size_t n_docs, cap;
    /* state (private) */
    uint64_t pos;                /* bytes fed so far */
    uint64_t line_start;         /* offset of the current line */
    unsigned char line_head[16]; /* its first bytes, to recognise a separator line */
    size_t line_len;
    int has_text;                /* a non-space byte since the last separator */
    uint64_t first, end;         /* the text's first non-space byte, one past its last */
    uint64_t h_run, h_text;      /* FNV-1a over [first, pos) and over [first, end) */
    int snap_has_text;           /* the same four at the start of the current line */
    uint64_t snap_first, snap_end, snap_h_run, snap_h_text;
} lms_doc_splitter;

lms_status lms_doc_splitter_feed(lms_doc_splitter *s, const char *p, size_t n, lms_err *err);
lms_status lms_doc_splitter_finish(lms_doc_splitter *s, lms_err *err);

#endif
