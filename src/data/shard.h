/* shard.h — token shards in llm.c's .bin layout: read, check, write.
 *
 * Layout (little-endian): a header of 256 int32: [0] = 20240520 (magic), [1] = version,
 * [2] = token count, [3..255] = 0; then the tokens. Version 1 stores uint16 tokens (llm.c's own
 * shards: FineWeb, TinyStories, ... load unchanged); version 2 stores uint32 tokens and is what
 * lmscope writes when the vocabulary exceeds 65,535 ids. The file length must be exactly
 * 1024 + count * (2 or 4) bytes: anything else is a truncated or padded file and is refused with
 * the file name and both sizes.
 *
 *   lms_shard s;
 *   if (lms_shard_open(&s, "shards/quotes_train_000000.bin", 50257, &err)) return err.code;
 *   for (size_t i = 0; i < s.n_tokens; i++) use(lms_shard_token(&s, i));
 *   lms_shard_close(&s);
 *
 *   lms_shard_write("out.bin", ids, n, lms_shard_version_for_vocab(vocab), &err);
 *
 * Leaves out: which shards belong together (manifest.h) and sampling from them (loader.h).
 */
#ifndef LMS_DATA_SHARD_H
#define LMS_DATA_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "core/fileio.h"
#include "core/status.h"

#define LMS_SHARD_MAGIC 20240520
#define LMS_SHARD_HEADER_INTS 256
#define LMS_SHARD_HEADER_BYTES 1024

typedef struct {
    int version;        /* 1: uint16 tokens, 2: uint32 tokens */
    size_t token_bytes; /* 2 or 4 */
    size_t n_tokens;    /* header[2] */
} lms_shard_header;

/* The shard version that holds every id of a vocabulary of `vocab` tokens:
   1 when vocab <= 65535, else 2. */
int lms_shard_version_for_vocab(int vocab);

/* Check a whole shard held in memory (data[0..len)): magic, version, header[2] * token size ==
   len - 1024 exactly, and, when vocab > 0, every token id < vocab. `name` (a path, for messages)
   may be NULL. Fills *h on success. LMS_ERR_FORMAT with a message naming the file, the sizes and
   what to do, otherwise. Never reads outside data[0..len). */
lms_status lms_shard_check(const void *data, size_t len, const char *name, int vocab,
                           lms_shard_header *h, lms_err *err);

/* A shard mapped read-only. Plain struct; fields are read-only for callers. */
typedef struct {
    lms_mmap map;
    int version;
    size_t n_tokens;
    const unsigned char *tokens; /* map.data + 1024; n_tokens * (version == 1 ? 2 : 4) bytes */
    uint32_t max_token;          /* largest id present (0 for an empty shard) */
} lms_shard;

/* Map and check a shard (lms_shard_check, vocab <= 0 means unknown: no id check). On failure *s
   holds nothing to close. */
lms_status lms_shard_open(lms_shard *s, const char *path, int vocab, lms_err *err);
void lms_shard_close(lms_shard *s);

/* Token i (i < n_tokens). */
static inline uint32_t lms_shard_token(const lms_shard *s, size_t i) {
    if (s->version == 1) {
        const unsigned char *p = s->tokens + 2 * i;
        return (uint32_t)p[0] | (uint32_t)p[1] << 8;
    }
    const unsigned char *p = s->tokens + 4 * i;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Copy tokens [start, start + n) as int32 into out[n]; start + n <= n_tokens (asserted). */
void lms_shard_copy(const lms_shard *s, size_t start, size_t n, int32_t *out);

/* Read a whole shard into a malloc'd uint32 array (*tokens, caller frees; NULL when empty). */
lms_status lms_shard_read(const char *path, int vocab, uint32_t **tokens, size_t *n, int *version,
                          lms_err *err);

/* Write tokens[n] crash-safely (temp + rename) as a shard of the given version (1 or 2).
   Fails with LMS_ERR_ARG if version 1 is asked for and an id exceeds 65535, or n >= 2^31
   (header[2] is an int32). */
lms_status lms_shard_write(const char *path, const uint32_t *tokens, size_t n, int version,
                           lms_err *err);

#endif
