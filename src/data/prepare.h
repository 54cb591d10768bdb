/* prepare.h — corpus text to token shards + manifest ('lmscope data prepare').
 *
 * For each domain of a corpus (corpus.h) the documents are tokenized (in parallel, the result
 * independent of the thread count), a fixed set of validation documents is held out, and the
 * train and validation token streams are written as llm.c shards
 *     <out>/<domain>_train_000000.bin, _000001.bin, ...   <out>/<domain>_val_000000.bin, ...
 * of at most shard_tokens tokens each (documents may straddle two shards), plus
 * <out>/manifest.json (manifest.h). Each document is preceded by the separator: the tokenizer's
 * EOT id, or — for a tokenizer without one, such as the 256-token byte tokenizer — the text
 * "<|endoftext|>" encoded as ordinary tokens (so the byte-level model sees the same boundary
 * marker it would read in the corpus file).
 *
 * Streamed: the corpus is read twice (once to index its documents, once to encode them) through
 * a window of window_bytes, and shards are written as the tokens come, so memory stays about
 * window_bytes x 5 (the text and its ids) plus 24 bytes a document (48 for a JSON Lines document,
 * whose line is parsed again, one at a time, to fill the window), whatever the corpus's size. A
 * document is encoded in pieces cut at lms_tokenizer_last_cut points (the ids are those of the
 * whole document); a stretch of a document with no such point (no ASCII whitespace) is held whole.
 *
 * Hold-out rule (deterministic, independent of file order and thread count): documents are ranked
 * by a 64-bit FNV-1a hash of their text (ties by position). With val_docs > 0 the first val_docs
 * in that order are validation. With val_fraction > 0 (a fraction of the domain's text bytes,
 * not of its document count: one long document must not take a domain's whole validation
 * budget) documents are taken in that order whenever they fit in the remaining budget
 * val_fraction x domain bytes; if none fits, the smallest document is taken (so a domain of two
 * long documents gives up the shorter one). At least one document always stays
 * in training, and a domain of one document has no validation. Identical documents have the same
 * hash and tend to fall on the same side. Documents keep their corpus order inside each split.
 *
 *   lms_prepare_config pc = {.tok = tok, .tokenizer_name = "tok/", .val_fraction = 0.05};
 *   lms_manifest m;
 *   if (lms_data_prepare("data/corpus", "shards", &pc, &m, &err)) return err.code;
 *   ... print m ...; lms_manifest_free(&m);
 */
#ifndef LMS_DATA_PREPARE_H
#define LMS_DATA_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#include "core/jsonl_text.h"
#include "core/status.h"
#include "data/manifest.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    const lms_tokenizer *tok;   /* NULL: the 256-token byte tokenizer */
    const char *tokenizer_name; /* recorded in the manifest ("bytes" when NULL) */
    int val_docs;               /* > 0: hold out this many documents per domain */
    double val_fraction;        /* used when val_docs == 0: fraction of each domain's text bytes (0: none) */
    size_t shard_tokens;        /* tokens per shard file; 0: 100,000,000 (llm.c's size) */
    int threads;                /* tokenizer threads; <= 0: 2 */
    size_t window_bytes;        /* text held at a time (read blocks and the encoding window); 0: 4 MiB */
    size_t segment_bytes;       /* documents are encoded in pieces of about this size; 0: 64 KiB */
    lms_jsonl_text_opts jsonl;  /* how .jsonl/.ndjson files are read (corpus_scan.h); zero: the defaults */
} lms_prepare_config;

/* Tokenize the corpus at `corpus` (a directory, a .txt file, or a JSON Lines .jsonl/.ndjson file
   read as c->jsonl says, corpus_scan.h) into `out_dir`, created only once the whole corpus is
   indexed (so an error in the corpus, a bad JSON Lines line included, leaves nothing). On success
   *m (may be NULL) receives the manifest that was written (caller frees with lms_manifest_free).
   Fails with the corpus errors (corpus.h, corpus_scan.h), LMS_ERR_ARG for bad config, LMS_ERR_IO
   on writes. */
lms_status lms_data_prepare(const char *corpus, const char *out_dir, const lms_prepare_config *c,
                            lms_manifest *m, lms_err *err);

/* The 64-bit FNV-1a hash used by the hold-out rule (also used for duplicate detection). */
uint64_t lms_data_hash64(const void *data, size_t len);

/* The hold-out rule on n documents with text hashes hash[n] and lengths len[n]: sets is_val[n]
   (1 = validation) and returns how many; (size_t)-1 when out of memory (err filled). */
size_t lms_data_select_val(const uint64_t *hash, const size_t *len, size_t n, int val_docs, double val_fraction,
                           unsigned char *is_val, lms_err *err);

#endif
