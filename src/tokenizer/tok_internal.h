/* tok_internal.h — what the tokenizer's .c files share (not a public header; tests may include
 * it to reach the two BPE word algorithms and the pre-tokenizer directly).
 *
 * Leaves out: anything a user of the module needs — that is tokenizer.h.
 */
#ifndef LMS_TOKENIZER_INTERNAL_H
#define LMS_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

#define LMS_TOK_NONE UINT32_MAX

struct lms_tokenizer {
    uint32_t V;            /* vocabulary size */
    char *bytes;           /* all tokens' raw bytes, concatenated */
    size_t *off;           /* [V+1] token i is bytes[off[i] .. off[i+1]) */
    uint32_t byte_id[256]; /* id of each single-byte token */
    uint32_t nmerges;
    uint32_t *merges;      /* [nmerges][2] left, right ids in rank order */
    uint32_t *merge_out;   /* [nmerges] id of left+right */
    /* pair -> rank: open addressing, key (left << 32 | right), empty key = UINT64_MAX */
    uint64_t *pm_key;
    uint32_t *pm_rank;
    size_t pm_mask;
    /* bytes -> id: open addressing over ids (slot = id + 1, 0 empty) */
    uint32_t *tm_slot;
    size_t tm_mask;
    unsigned char *whole; /* [V] 1 if BPE of the token's own bytes is that token alone: a word equal
                             to such a token needs no merging (every GPT-2 token but <|endoftext|>) */
    int eot;
    uint64_t serial;       /* unique per tokenizer object: keys the per-thread word cache */
    char hash[65];
};

/* 64-bit hash of a byte string (also used by the trainer's word table). */
uint64_t lms_tok_hash_bytes(const void *p, size_t n);

/* Build an in-memory tokenizer from token byte strings and a merge list (ids). Validates like the
 * loader (dense, all 256 bytes, parts produced earlier, left+right a token). Takes ownership of
 * nothing; copies. what names the source in messages ("vocab.json", "training"). */
lms_status lms_tok_build(lms_tokenizer **out, uint32_t V, const char *const *tok, const size_t *tok_len,
                         uint32_t nmerges, const uint32_t *merges, const char *what, lms_err *err);

/* Id of the token whose bytes are exactly (s, n), or -1. */
int64_t lms_tok_find(const lms_tokenizer *t, const char *s, size_t n);

/* lms_tokenizer_load_mem with file names for the messages. */
lms_status lms_tokenizer_load_mem_named(lms_tokenizer **out, const char *vocab_json, size_t vocab_len,
                                        const char *vname, const char *merges, size_t merges_len,
                                        const char *mname, lms_err *err);

/* Rank of the pair (a, b), or LMS_TOK_NONE. */
static inline uint32_t lms_tok_rank(const lms_tokenizer *t, uint32_t a, uint32_t b) {
    uint64_t key = ((uint64_t)a << 32) | b;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 20) & t->pm_mask;
    for (;;) {
        uint64_t k = t->pm_key[i];
        if (k == key) return t->pm_rank[i];
        if (k == UINT64_MAX) return LMS_TOK_NONE;
        i = (i + 1) & t->pm_mask;
    }
}

/* BPE of one pre-tokenized word: appends its ids to out (cap must allow n more ids).
 * algo: 0 automatic, 1 the small in-place algorithm, 2 the heap algorithm. Returns ids written,
 * or (size_t)-1 when out of memory. */
size_t lms_tok_bpe_word(const lms_tokenizer *t, const unsigned char *w, size_t n, uint32_t *out, int algo);

/* Pre-tokenizer: calls fn(user, start, len, valid) for each word of text in order; valid = 0 for
 * a run of bytes that is not UTF-8. Returns LMS_OK or LMS_ERR_NOMEM / an error from fn. */
typedef lms_status (*lms_tok_word_fn)(void *user, const unsigned char *w, size_t n, int valid);
lms_status lms_tok_pretokenize(const char *text, size_t len, lms_tok_word_fn fn, void *user, lms_err *err);

/* 1 if the pre-tokenizer spells out every Unicode 16.0 letter/number range (the system PCRE2's
 * tables are neither Unicode 14.0 nor 16.0), 0 if it uses PCRE2's \p{L}/\p{N} plus the additions. */
int lms_tok_explicit_classes(void);

/* GPT-2's byte<->unicode map: code point of byte b, and byte of a code point (-1 if none). */
uint32_t lms_tok_byte_to_cp(unsigned b);
int lms_tok_cp_to_byte(uint32_t cp);

#endif
