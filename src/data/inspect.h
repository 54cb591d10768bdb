/* inspect.h — looking at the data: a uniform view of documents (lms_docset) over a corpus
 * directory or a prepared shard directory, and the statistics, sampling and search built on it
 * ('lmscope data stats | sample | grep'). Near-duplicate detection is in dedup.h.
 *
 * A docset opened on a shard directory (one with manifest.json) reads every train and validation
 * shard of each domain and cuts the token streams back into documents at the manifest's
 * separator. Texts are available when a tokenizer is known: the one passed in (its hash must
 * match the manifest's: LMS_ERR_MISMATCH otherwise), or the byte tokenizer when the manifest
 * says the shards were made with it. (In byte mode a document that itself contains the text
 * "<|endoftext|>" inside a line is cut there too.) Opened on a corpus (corpus.h), texts are the
 * files' documents; tokens are computed only when stats asks for them.
 *
 *   lms_docset *ds;
 *   if (lms_docset_open(&ds, "data/corpus", NULL, &err)) return err.code;
 *   lms_data_stats st;
 *   lms_data_stats_compute(ds, tok, 10, &st, &err);  ... lms_data_stats_free(&st);
 *   lms_docset_free(ds);
 *
 * Library code: nothing here prints; results are returned in structs or passed to callbacks.
 */
#ifndef LMS_DATA_INSPECT_H
#define LMS_DATA_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

typedef struct lms_docset lms_docset;

/* Open a corpus (directory of .txt or one .txt file) or a shard directory with manifest.json.
   tok may be NULL (see above); it is borrowed and must outlive the docset. */
lms_status lms_docset_open(lms_docset **out, const char *path, const lms_tokenizer *tok, lms_err *err);
void lms_docset_free(lms_docset *ds);

int lms_docset_is_shards(const lms_docset *ds);
int lms_docset_has_text(const lms_docset *ds);   /* 0: shards without a known tokenizer */
int lms_docset_num_domains(const lms_docset *ds);
const char *lms_docset_domain(const lms_docset *ds, int d);
int lms_docset_find(const lms_docset *ds, const char *name); /* -1 if absent */
size_t lms_docset_num_docs(const lms_docset *ds, int d);
/* Text of document i of domain d (not NUL-terminated), NULL when !has_text. In a shard docset a
   domain's documents are numbered train split first, then validation. */
const char *lms_docset_text(const lms_docset *ds, int d, size_t i, size_t *len);
/* For shard docsets: 1 if the document is in the validation split (0 otherwise / corpora). */
int lms_docset_is_val(const lms_docset *ds, int d, size_t i);
/* For corpus docsets: the 1-based line in the domain's file where document i starts (0 if n/a). */
size_t lms_docset_line(const lms_docset *ds, int d, size_t i);

/* ---- stats ---- */
typedef struct {
    uint32_t id;
    uint64_t count;
} lms_token_count;

typedef struct {
    char name[64];
    uint64_t docs, bytes, tokens; /* tokens of documents, separators excluded */
    uint64_t train_docs, val_docs; /* shard docsets only */
    double bytes_per_token;       /* 0 if tokens == 0 */
    uint64_t dup_docs;            /* documents identical to an earlier one in the same domain */
    int n_top;
    lms_token_count *top;         /* n_top most frequent token ids, most frequent first (ties: id) */
} lms_domain_stats;

typedef struct {
    int n_domains;
    lms_domain_stats *domains;
    lms_domain_stats total;   /* dup_docs: identical to an earlier document in any domain */
    int vocab_size;           /* of the tokenizer used for counting */
    int tokens_from_shards;   /* 1: counted in the shards; 0: the corpus was tokenized now */
} lms_data_stats;

/* Per-domain and total statistics with the top_k most frequent tokens. For a corpus, tok
   (NULL: the byte tokenizer) encodes the documents (2 threads). For shards, the tokens are the
   shards' own (tok only needs to match for decoding, which the caller does). */
lms_status lms_data_stats_compute(const lms_docset *ds, const lms_tokenizer *tok, int top_k,
                                  lms_data_stats *out, lms_err *err);
void lms_data_stats_free(lms_data_stats *s);

/* ---- sample ---- */
typedef struct {
    int domain;   /* domain index */
    size_t doc;   /* document index within the domain */
} lms_doc_ref;

/* Pick up to n distinct documents uniformly at random (deterministic for a seed) from the domain
   named `domain` (NULL: from all documents of all domains). refs[n] is filled, *got = how many
   (fewer when there are fewer documents). LMS_ERR_ARG for an unknown domain (message lists the
   domains). */
lms_status lms_data_sample(const lms_docset *ds, const char *domain, size_t n, uint64_t seed,
                           lms_doc_ref *refs, size_t *got, lms_err *err);

/* ---- grep ---- */
typedef struct {
    int domain;
    size_t doc;              /* document index within the domain */
    size_t offset, len;      /* of the match in the document's text, bytes */
    size_t line;             /* 1-based line in the corpus file (0 for shards) */
    const char *text;        /* the document's text (offset/len index into it) */
    size_t doc_len;          /* its length */
    size_t ctx_start, ctx_end; /* context window [ctx_start, ctx_end) on UTF-8 character boundaries */
} lms_grep_match;

/* Return nonzero to stop the search. */
typedef int (*lms_grep_fn)(const lms_grep_match *m, void *user);

typedef struct {
    const char *pattern;
    int regex;        /* 1: PCRE2 regular expression (UTF mode), 0: plain substring */
    int ignore_case;
    size_t context;   /* bytes of context either side (adjusted to character boundaries) */
    const char *domain; /* NULL: all domains */
} lms_grep_config;

/* Call fn for every non-overlapping match, in domain/document/offset order; *n_matches (may be
   NULL) receives the count. LMS_ERR_ARG for a bad regex (message with PCRE2's reason and the
   offset) or an empty pattern; LMS_ERR_UNSUPPORTED when the docset has no text. */
lms_status lms_data_grep(const lms_docset *ds, const lms_grep_config *c, lms_grep_fn fn, void *user,
                         size_t *n_matches, lms_err *err);

#endif
