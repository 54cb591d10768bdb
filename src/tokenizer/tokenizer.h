/* tokenizer.h — byte-level BPE (GPT-2's scheme): load, save, encode, decode, train.
 *
 * A tokenizer maps any bytes to token ids and back, exactly. Text is first cut into "words" by
 * GPT-2's pre-tokenizer pattern
 *     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * (PCRE2, UTF + UCP, JIT; \s is Unicode White_Space as in Python's `regex` and tiktoken), then each
 * word is merged from single bytes by the merge list, lowest rank first (GPT-2's bpe(): all
 * occurrences of the best pair, left to right). Runs of bytes that are not valid UTF-8 are words of
 * their own: encode(A + bad + B) == encode(A) + bytes-BPE(bad) + encode(B) for valid A, B, and
 * decode(encode(x)) == x for every byte string x. Letters (\p{L}) and numbers (\p{N}) are those of
 * Unicode 16.0, as in tiktoken 1.0.22, whatever Unicode version the system's PCRE2 has (Debian
 * 12's 10.42 has 14.0): every code point, alone and in context, encodes as in tiktoken.
 *
 * Files (Hugging Face's names; GPT-2's original names are accepted too):
 *   vocab.json  (or encoder.json): {"token": id, ...}, ids dense 0..V-1; a token's characters are
 *               bytes through GPT-2's byte<->unicode map (e.g. "Ġthe" is " the").
 *   merges.txt  (or vocab.bpe): optional "#version: ..." first line, then one merge "left right"
 *               per line, rank = line order. Every merge's parts must be single bytes or results
 *               of earlier merges, and left+right must be a token of the vocabulary.
 * The special token "<|endoftext|>" (GPT-2 id 50256) is the end-of-text id when present.
 *
 * Hash: sha256 (hex) over a canonical form independent of JSON formatting:
 *   "lmscope-bpe-v1\n", uint32le V, then for id 0..V-1: uint32le byte length + the token's raw
 *   bytes, then uint32le number of merges, then for each merge in rank order: uint32le left id,
 *   uint32le right id.
 *
 * Thread safety: a loaded tokenizer is read-only; encode/decode may run concurrently on the same
 * tokenizer from many threads (each thread keeps its own word cache and regex match state).
 *
 *   lms_err err = {0};
 *   lms_tokenizer *tok;
 *   if (lms_tokenizer_load(&tok, "tests/fixtures/gpt2", &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *   lms_ids ids = {0};
 *   lms_tokenizer_encode(tok, "Hello world", 11, &ids, &err);     // ids.ids = {15496, 995}, ids.n = 2
 *   char *text; size_t len;
 *   lms_tokenizer_decode(tok, ids.ids, ids.n, &text, &len, &err);  // "Hello world"; free(text)
 *   lms_ids_free(&ids); lms_tokenizer_free(tok);
 *
 * Leaves out: special tokens other than <|endoftext|>, Unicode normalisation (GPT-2 has none),
 * SentencePiece/WordPiece, dropout.
 */
#ifndef LMS_TOKENIZER_TOKENIZER_H
#define LMS_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/jsonl_text.h"
#include "core/status.h"

#define LMS_TOKENIZER_EOT_TEXT "<|endoftext|>"

typedef struct lms_tokenizer lms_tokenizer; /* opaque, read-only once built */

/* A growable array of token ids. Zero-initialise ({0}); functions append; free with lms_ids_free
 * (which leaves it zeroed and reusable). */
typedef struct {
    uint32_t *ids;
    size_t n, cap;
} lms_ids;
void lms_ids_free(lms_ids *v);
lms_status lms_ids_push(lms_ids *v, uint32_t id, lms_err *err); /* append one id (e.g. the EOT) */
lms_status lms_ids_reserve(lms_ids *v, size_t extra, lms_err *err); /* room for `extra` more */

/* Load from a directory holding vocab.json + merges.txt, or encoder.json + vocab.bpe (GPT-2's
 * names). The name "bytes" (when no such path exists) gives lms_tokenizer_bytes(), so every
 * --tokenizer flag accepts it. Fails with LMS_ERR_IO (missing/unreadable files) or LMS_ERR_FORMAT (bad JSON, ids not
 * dense, a byte missing, unknown merge parts, ...), the message naming file, line and fix. */
lms_status lms_tokenizer_load(lms_tokenizer **out, const char *dir, lms_err *err);
/* Same from two explicit file paths. */
lms_status lms_tokenizer_load_files(lms_tokenizer **out, const char *vocab_path,
                                    const char *merges_path, lms_err *err);
/* Same from memory (vocab JSON text, merges text; neither needs a NUL terminator). */
lms_status lms_tokenizer_load_mem(lms_tokenizer **out, const char *vocab_json, size_t vocab_len,
                                  const char *merges, size_t merges_len, lms_err *err);

/* Save as <dir>/vocab.json + <dir>/merges.txt (created with mkdir -p; crash-safe writes). The
 * files load back unchanged here and in Hugging Face's GPT2Tokenizer / ByteLevel BPE. */
lms_status lms_tokenizer_save(const lms_tokenizer *t, const char *dir, lms_err *err);

/* The 256-token byte tokenizer: id i is byte i, no merges, no end-of-text token. NULL only when
 * out of memory. Free with lms_tokenizer_free. */
lms_tokenizer *lms_tokenizer_bytes(void);

void lms_tokenizer_free(lms_tokenizer *t); /* NULL is fine */

int lms_tokenizer_vocab_size(const lms_tokenizer *t); /* V; ids are 0..V-1 (V fits an int in practice) */
int lms_tokenizer_num_merges(const lms_tokenizer *t);
int lms_tokenizer_eot(const lms_tokenizer *t);        /* id of <|endoftext|>, -1 if none */

/* Encode len bytes of text (any bytes; no NUL needed) and APPEND the ids to out. The text
 * "<|endoftext|>" is encoded as ordinary text (like tiktoken's encode_ordinary). Fails only with
 * LMS_ERR_NOMEM (out keeps what was appended before). */
lms_status lms_tokenizer_encode(const lms_tokenizer *t, const char *text, size_t len, lms_ids *out,
                                lms_err *err);

/* Flags for lms_tokenizer_encode_ex. */
enum {
    LMS_TOK_ALLOW_EOT = 1 /* the text "<|endoftext|>" becomes the EOT id (if the vocab has one) */
};
lms_status lms_tokenizer_encode_ex(const lms_tokenizer *t, const char *text, size_t len, int flags,
                                   lms_ids *out, lms_err *err);

/* Where a text can be cut so that encoding the two sides separately gives exactly the ids of
 * the whole, whatever follows: before an ASCII whitespace byte (\t \n \v \f \r space) that
 * follows a valid UTF-8 character which is not whitespace (e.g. "word| next", "end.|\n"). Never
 * inside a run of whitespace, never inside a word of the pre-tokenizer, never inside
 * "<|endoftext|>". (The reasons are in encode.c.)
 * split_point: the first such offset p >= from with 0 < p < len, or len if there is none (to
 * encode a big text on several threads). last_cut: the last such offset p with 0 < p < len, or
 * 0 if there is none; it only looks at text[0..len), so it is safe on the part of a stream read
 * so far. */
size_t lms_tokenizer_split_point(const char *text, size_t len, size_t from);
size_t lms_tokenizer_last_cut(const char *text, size_t len);

/* Receives the ids of one piece of a streamed text (lms_tokenizer_encode_stream). A non-zero
 * status stops the encoding and is returned. */
typedef lms_status (*lms_tokenizer_emit_fn)(void *user, const uint32_t *ids, size_t n, lms_err *err);

/* Encode everything read from f (until EOF), holding only about `chunk` bytes at a time (0: 1 MiB):
 * reads a buffer, encodes it up to its last cut point (lms_tokenizer_last_cut), passes the ids to
 * emit and keeps the rest for the next read. The ids emitted, joined, are exactly
 * lms_tokenizer_encode_ex of the whole input with the same flags. Memory: the buffer, doubled
 * while a stretch of input has no cut point (text without ASCII whitespace), plus its ids.
 * *bytes (may be NULL) receives the number of bytes read. name names the input in messages.
 * Fails with LMS_ERR_IO (read error), LMS_ERR_NOMEM, or emit's status. */
lms_status lms_tokenizer_encode_stream(const lms_tokenizer *t, FILE *f, const char *name, int flags, size_t chunk,
                                       lms_tokenizer_emit_fn emit, void *user, uint64_t *bytes, lms_err *err);

/* The raw bytes of token `id` (not NUL-terminated; *len set). NULL if id >= V. The pointer lives
 * as long as the tokenizer. */
const char *lms_tokenizer_token(const lms_tokenizer *t, uint32_t id, size_t *len);

/* Id of the token whose raw bytes are exactly (s, len), or -1 if the vocabulary has none. */
int64_t lms_tokenizer_find(const lms_tokenizer *t, const char *s, size_t len);

/* Concatenate the bytes of ids[0..n) into a malloc'd buffer *text (NUL-terminated for convenience;
 * *len excludes the NUL; caller frees). Fails with LMS_ERR_ARG on an id >= V (naming its index). */
lms_status lms_tokenizer_decode(const lms_tokenizer *t, const uint32_t *ids, size_t n, char **text,
                                size_t *len, lms_err *err);

/* sha256 hex (64 chars + NUL) of the canonical form above; lives as long as the tokenizer. */
const char *lms_tokenizer_hash(const lms_tokenizer *t);

/* ---- training ---- */

typedef struct {
    uint64_t vocab_size; /* 256 + merges + 1 (<|endoftext|>, the last id): 257..4294967295; 256
                            gives the byte tokenizer. Training stops early (with fewer tokens)
                            when no pair occurs any more. */
    int threads;         /* threads for pre-tokenisation counting; <= 0: all cores */
    lms_jsonl_text_opts jsonl; /* how lms_tokenizer_train_files reads .jsonl/.ndjson files (the
                                  domain field is not used); zero: the defaults of jsonl_text.h */
    size_t batch_bytes;        /* lms_tokenizer_train_files counts words in batches of about this
                                  much text; 0: 64 MiB (the merges do not depend on it) */
} lms_tokenizer_train_config;

/* Train byte-level BPE on whole texts: pre-tokenise with the same pattern, count unique words,
 * then repeatedly merge the most frequent adjacent pair (ties: the smaller (left id, right id))
 * with incremental pair counts. Ids 0..255 are the bytes, then merges in order, then
 * <|endoftext|>. Deterministic for the same input whatever the thread count. Fails with
 * LMS_ERR_ARG (vocab size out of range), LMS_ERR_NOMEM. */
lms_status lms_tokenizer_train_texts(lms_tokenizer **out, const char *const *texts,
                                     const size_t *lens, int n,
                                     const lms_tokenizer_train_config *c, lms_err *err);
/* Same from files, each a text (read whole; LMS_ERR_IO if unreadable). Empty files are an
 * LMS_ERR_ARG error; so are files that contain NUL bytes (binary files are not text to train on).
 * A .jsonl or .ndjson file (core/jsonl_text.h) gives its documents, each a text: one with no
 * document is an LMS_ERR_ARG error, a bad line LMS_ERR_FORMAT with path:line (or skipped,
 * c->jsonl.skip_bad). Words are counted in batches of about 64 MiB of text, so memory holds a
 * batch (or the largest .txt file), not every file. The merges are those of
 * lms_tokenizer_train_texts on the same texts. */
lms_status lms_tokenizer_train_files(lms_tokenizer **out, const char *const *paths, int n,
                                     const lms_tokenizer_train_config *c, lms_err *err);

#endif
