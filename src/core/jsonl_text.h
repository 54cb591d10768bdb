/* jsonl_text.h — text corpora shipped as JSON Lines: one document per line, its text in a field.
 *
 * The field's datasets ship text this way ({"text": "..."} per line: FineWeb, TinyStories, The
 * Pile, Hugging Face dumps). A file is one when its name ends in .jsonl or .ndjson. Each line is
 * parsed on its own (jansson), read through a line reader (jsonl.h) in blocks, so the file is
 * never held whole and no line may exceed LMS_JSONL_MAX_LINE (64 MiB).
 *
 * A UTF-8 byte order mark at the start of the file is skipped. A line is:
 *   - blank (only spaces, tabs, '\r'): skipped;
 *   - a document: a JSON object whose field `text_field` is a string (jansson decodes the escapes:
 *     \n, \u00e9, surrogate pairs; it refuses invalid UTF-8, lone surrogates and \u0000, so a
 *     document's text is always UTF-8 without NUL bytes). Its text is that string with leading and
 *     trailing ASCII whitespace trimmed, the rule for documents of .txt corpora (corpus.h); a
 *     document empty after trimming is skipped and counted. With `domain_field` set, that field
 *     must be a string too: the document's domain. Other fields are ignored;
 *   - anything else is a bad line: not JSON (duplicate keys included), not an object, the field
 *     missing, not a string. A bad line fails the read with "path:line: what is wrong"
 *     (LMS_ERR_FORMAT), or with skip_bad is skipped with a warning (the first 10 per file, then a
 *     count).
 *
 *   lms_jsonl_text_opts o = {.text_field = "content"};
 *   static lms_status add(const lms_jsonl_doc *d, void *user, lms_err *err) { ... d->text, d->len ... }
 *   if (lms_jsonl_text_read("dump.jsonl", &o, 0, add, &state, NULL, &err)) ...
 *
 * Leaves out: what the documents are used for (data/corpus_scan.c, tokenizer/train.c), JSON
 * Lines of other kinds (jsonl.h), compressed files (decompress first: zstd -d, gunzip).
 */
#ifndef LMS_CORE_JSONL_TEXT_H
#define LMS_CORE_JSONL_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

typedef struct {
    const char *text_field;   /* the field holding a document's text; NULL: "text" */
    const char *domain_field; /* the field naming its domain; NULL: none (the file names it) */
    int skip_bad;             /* 0: a bad line fails the read; nonzero: skipped with a warning */
} lms_jsonl_text_opts;

/* 1 when path's name ends in ".jsonl" or ".ndjson", else 0. */
int lms_jsonl_text_path(const char *path);

/* One document, as the callback sees it; the pointers live until the callback returns. */
typedef struct {
    const char *text;   /* trimmed, never empty, UTF-8 without NUL bytes; not NUL-terminated */
    size_t len;
    const char *domain; /* NUL-terminated, or NULL when no domain_field */
    long line;          /* 1-based line number */
    uint64_t off;       /* file offset of the line */
    size_t line_len;    /* its length without the '\n' */
} lms_jsonl_doc;

/* Called for each document in file order. A nonzero status stops the read, its message prefixed
   with "path:line: "; LMS_ERR_FORMAT from it counts as a bad line (skipped under skip_bad). */
typedef lms_status (*lms_jsonl_doc_fn)(const lms_jsonl_doc *d, void *user, lms_err *err);

typedef struct {
    uint64_t lines, docs; /* lines read; documents handed to the callback */
    uint64_t empty;       /* documents whose text was empty after trimming (skipped) */
    uint64_t bad;         /* bad lines skipped (skip_bad only) */
} lms_jsonl_text_counts;

/* Read every document of a JSON Lines text file (o may be NULL: the defaults), in blocks of
   `block` bytes (0: 64 KiB). *counts (may be NULL) receives the counts, also on failure. Fails
   with LMS_ERR_IO (missing, unreadable, not a regular file), LMS_ERR_FORMAT (a bad line, a line
   over LMS_JSONL_MAX_LINE — an error even under skip_bad: the line cannot be read), or the
   callback's status. */
lms_status lms_jsonl_text_read(const char *path, const lms_jsonl_text_opts *o, size_t block, lms_jsonl_doc_fn fn,
                               void *user, lms_jsonl_text_counts *counts, lms_err *err);

/* Reading documents again where an earlier read found them (d->off, d->line_len): a line buffer
   and the parsed line, reused from call to call. Zero-initialise; free with _free. */
typedef struct {
    char *line;
    size_t cap;
    void *root; /* json_t * holding the last document's text */
} lms_jsonl_text_buf;

/* Read line_len bytes at off of the open file f (named path), parse them as a document line and
   set *text, *len (valid until the next call with b). LMS_ERR_FORMAT (prefixed "path:line: ")
   when the line is no longer a document — the file changed since it was read. */
lms_status lms_jsonl_text_reread(FILE *f, const char *path, uint64_t off, size_t line_len, long line,
                                 const lms_jsonl_text_opts *o, lms_jsonl_text_buf *b, const char **text, size_t *len,
                                 lms_err *err);
void lms_jsonl_text_buf_free(lms_jsonl_text_buf *b);

#endif
