/* shard.c — llm.c .bin shards: checked reads and crash-safe writes. See shard.h.
 * Leaves out: manifests and sampling. Byte order is handled explicitly (little-endian on disk). */
#include "data/shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int32_t rd_i32(const unsigned char *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static void wr_i32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

int lms_shard_version_for_vocab(int vocab) { return vocab > 65535 ? 2 : 1; }

lms_status lms_shard_check(const void *data, size_t len, const char *name, int vocab,
                           lms_shard_header *h, lms_err *err) {
    const unsigned char *d = data;
    if (!name) name = "(shard)";
    if (len < LMS_SHARD_HEADER_BYTES)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "'%s' is %zu bytes, shorter than the 1024-byte shard header: the file is "
                        "truncated or not a token shard; re-create it with 'lmscope data prepare'",
                        name, len);
    int32_t magic = rd_i32(d), version = rd_i32(d + 4), count = rd_i32(d + 8);
    if (magic != LMS_SHARD_MAGIC)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "'%s' is not a token shard: magic number %d, expected %d (llm.c .bin layout)",
                        name, (int)magic, LMS_SHARD_MAGIC);
    if (version != 1 && version != 2)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "'%s' has shard version %d; this build reads versions 1 (uint16 tokens) and "
                        "2 (uint32 tokens)", name, (int)version);
    if (count < 0)
        return lms_errf(err, LMS_ERR_FORMAT, "'%s' has a negative token count (%d) in its header",
                        name, (int)count);
    size_t tb = version == 1 ? 2 : 4;
    size_t want = (size_t)count * tb, have = len - LMS_SHARD_HEADER_BYTES;
    if (want != have)
        return lms_errf(err, LMS_ERR_FORMAT,
                        "'%s' is %s: its header says %d tokens x %zu bytes = %zu bytes after the "
                        "1024-byte header, but the file has %zu (file length %zu, expected %zu); "
                        "re-create or re-download it",
                        name, have < want ? "truncated" : "longer than its header says", (int)count,
                        tb, want, have, len, want + LMS_SHARD_HEADER_BYTES);
    if (vocab > 0) {
        const unsigned char *t = d + LMS_SHARD_HEADER_BYTES;
        for (size_t i = 0; i < (size_t)count; i++) {
            uint32_t id = tb == 2 ? (uint32_t)t[2 * i] | (uint32_t)t[2 * i + 1] << 8
                                  : (uint32_t)rd_i32(t + 4 * i);
            if (id >= (uint32_t)vocab)
                return lms_errf(err, LMS_ERR_MISMATCH,
                                "'%s': token %zu has id %u, outside the vocabulary of %d tokens; the "
                                "shard was made with another tokenizer", name, i, id, vocab);
        }
    }
    if (h) {
        h->version = version;
        h->token_bytes = tb;
        h->n_tokens = (size_t)count;
    }
    return LMS_OK;
}

lms_status lms_shard_open(lms_shard *s, const char *path, int vocab, lms_err *err) {
    memset(s, 0, sizeof *s);
    lms_status st = lms_mmap_open(&s->map, path, err);
    if (st) return st;
    lms_shard_header h;
    st = lms_shard_check(s->map.data, s->map.len, path, vocab, &h, err);
    if (st) {
        lms_mmap_close(&s->map);
        return st;
    }
    s->version = h.version;
    s->n_tokens = h.n_tokens;
    s->tokens = s->map.data + LMS_SHARD_HEADER_BYTES;
    uint32_t mx = 0;
    for (size_t i = 0; i < s->n_tokens; i++) {
        uint32_t t = lms_shard_token(s, i);
        if (t > mx) mx = t;
    }
    s->max_token = mx;
    return LMS_OK;
}

void lms_shard_close(lms_shard *s) {
    lms_mmap_close(&s->map);
    memset(s, 0, sizeof *s);
}

void lms_shard_copy(const lms_shard *s, size_t start, size_t n, int32_t *out) {
    LMS_ASSERT(start <= s->n_tokens && n <= s->n_tokens - start);
    for (size_t i = 0; i < n; i++) out[i] = (int32_t)lms_shard_token(s, start + i);
}

lms_status lms_shard_read(const char *path, int vocab, uint32_t **tokens, size_t *n, int *version,
                          lms_err *err) {
    *tokens = NULL;
    *n = 0;
    lms_shard s;
    lms_status st = lms_shard_open(&s, path, vocab, err);
    if (st) return st;
    if (s.n_tokens) {
        *tokens = malloc(s.n_tokens * sizeof(uint32_t));
        if (!*tokens) {
            lms_shard_close(&s);
            return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading '%s'", path);
        }
        for (size_t i = 0; i < s.n_tokens; i++) (*tokens)[i] = lms_shard_token(&s, i);
    }
    *n = s.n_tokens;
    if (version) *version = s.version;
    lms_shard_close(&s);
    return LMS_OK;
}

lms_status lms_shard_write(const char *path, const uint32_t *tokens, size_t n, int version,
                           lms_err *err) {
    if (version != 1 && version != 2)
        return lms_errf(err, LMS_ERR_ARG, "shard version must be 1 or 2, got %d", version);
    if (n > 2147483647u)
        return lms_errf(err, LMS_ERR_ARG,
                        "%zu tokens do not fit one shard (the header count is an int32); use "
                        "smaller --shard-tokens", n);
    if (version == 1)
        for (size_t i = 0; i < n; i++)
            if (tokens[i] > 65535)
                return lms_errf(err, LMS_ERR_ARG,
                                "token id %u does not fit a version-1 (uint16) shard; use version 2",
                                tokens[i]);
    unsigned char hdr[LMS_SHARD_HEADER_BYTES];
    memset(hdr, 0, sizeof hdr);
    wr_i32(hdr, LMS_SHARD_MAGIC);
    wr_i32(hdr + 4, (uint32_t)version);
    wr_i32(hdr + 8, (uint32_t)n);
    lms_atomic_file f;
    lms_status st = lms_atomic_open(&f, path, err);
    if (st) return st;
    int bad = fwrite(hdr, 1, sizeof hdr, f.fp) != sizeof hdr;
    unsigned char buf[8192];
    size_t tb = version == 1 ? 2 : 4, per = sizeof buf / tb;
    for (size_t i = 0; i < n && !bad; i += per) {
        size_t k = n - i < per ? n - i : per;
        for (size_t j = 0; j < k; j++) {
            uint32_t v = tokens[i + j];
            if (tb == 2) {
                buf[2 * j] = (unsigned char)v;
                buf[2 * j + 1] = (unsigned char)(v >> 8);
            } else {
                wr_i32(buf + 4 * j, v);
            }
        }
        bad = fwrite(buf, tb, k, f.fp) != k;
    }
    if (bad) {
        int e = errno;
        lms_atomic_abort(&f);
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed: %s", path, strerror(e));
    }
    return lms_atomic_commit(&f, err);
}
