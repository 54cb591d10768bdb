/* corpus_scan.h — the documents of a corpus (corpus.h) found without holding the corpus in memory.
 *
 * Same files, same domain names, same documents (offsets and lengths equal to lms_corpus_split's),
 * same skip rules and messages as lms_corpus_open, but each file is read once in blocks of about
 * `block` bytes and only the document table stays: offset, length and the 64-bit FNV-1a hash
 * (lms_data_hash64) of each document's text, so 'data prepare' can choose its validation
 * documents first and then stream the text again. Memory: the block plus 24 bytes a document.
 * Files must be regular files (a FIFO would block in open(); it is refused before reading).
 *
 * JSON Lines (lms_corpus_scan_with): .jsonl and .ndjson files (jsonl_text.h) are read too, one
 * document per line, its text from a field. Their documents go to the domain their file's name
 * gives, as a .txt file's do, or with opts->domain_field to the domain that field names (one file
 * may then feed several domains, and several files one domain). A domain is either one .txt file
 * or documents of JSON Lines files: a name given by both is an error. With JSON Lines domains,
 * domains are sorted by name (without, in the order of their files' names, as before). A JSON Lines domain's document offsets are
 * offsets into the concatenation of its texts (the texts are escaped in the file), and each
 * document's line is recorded (lms_jsonl_loc) to read it again: 48 bytes a document. Bad lines
 * fail the scan with path:line (or are skipped, opts->skip_bad), so nothing is written by a
 * caller that scans first.
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

#include "core/jsonl_text.h"
#include "core/status.h"
#include "data/corpus.h"

/* Where a JSON Lines document is: its line in one of its domain's files. */
typedef struct {
    uint64_t off;  /* file offset of the line */
    uint32_t len;  /* line length without '\n' (<= LMS_JSONL_MAX_LINE) */
    uint32_t file; /* index into the domain's files */
    uint64_t line; /* 1-based line number, for messages */
} lms_jsonl_loc;

typedef struct {
    char name[64];      /* file name without .txt (or .jsonl, .ndjson), or a domain field's value */
    char *path;         /* the file (a JSON Lines domain: its first file) */
    uint64_t file_len;  /* bytes read (a JSON Lines domain: bytes of its texts) */
    lms_doc_span *docs; /* n_docs documents in file order: byte offsets into the file (JSON Lines:
                           into the concatenation of its texts, see above) */
    uint64_t *hash;     /* [n_docs] FNV-1a of each document's text */
    size_t n_docs;
    uint64_t doc_bytes; /* sum of document lengths */
    /* JSON Lines domains only (NULL / 0 for a .txt domain) */
    lms_jsonl_loc *loc; /* [n_docs] each document's line */
    char **files;       /* [n_files] the files its documents come from, in order */
    int n_files;
    size_t cap;         /* private: capacity of docs, hash, loc */
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
/* The same with JSON Lines files read as above (opts NULL: the defaults of jsonl_text.h). Also
 * LMS_ERR_FORMAT for a bad line ("path:line: ..."), LMS_ERR_ARG for a domain name given by both a
 * .txt file and JSON Lines documents, or for more than LMS_CORPUS_MAX_DOMAINS domains. */
#define LMS_CORPUS_MAX_DOMAINS 1000
lms_status lms_corpus_scan_with(lms_corpus_index *c, const char *path, size_t block, const lms_jsonl_text_opts *opts,
                                lms_err *err);
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
