/* tokenizer.c — the tokenizer object: GPT-2's byte<->unicode map, building and validating a
 * vocabulary + merge list, loading vocab.json/merges.txt (or encoder.json/vocab.bpe) with
 * jansson, saving them crash-safely, the canonical hash, decode and token lookup.
 *
 * Leaves out: encoding (encode.c) and training (train.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/fileio.h"
#include "core/hash.h"
#include "tokenizer/tok_internal.h"

/* ---- GPT-2's byte <-> unicode map ----
 * Printable bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF stand for themselves; the other 68 bytes (in
 * increasing order) become U+0100, U+0101, ... so that every byte is a visible character. */
static int byte_is_self(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t lms_tok_byte_to_cp(unsigned b) {
    LMS_ASSERT(b < 256);
    if (byte_is_self(b)) return b;
    uint32_t n = 0;
    for (unsigned c = 0; c < b; c++) n += !byte_is_self(c);
    return 256 + n;
}

int lms_tok_cp_to_byte(uint32_t cp) {
    if (cp < 256) return byte_is_self(cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    uint32_t n = cp - 256;
    for (unsigned c = 0; c < 256; c++)
        if (!byte_is_self(c) && n-- == 0) return (int)c;
    return -1;
}

uint64_t lms_tok_hash_bytes(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0x243F6A8885A308D3ull ^ (n * 0x9E3779B97F4A7C15ull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ (v * 0xBF58476D1CE4E5B9ull)) * 0x94D049BB133111EBull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)s[i] << (8 * i);
    h = (h ^ (v * 0xBF58476D1CE4E5B9ull)) * 0x94D049BB133111EBull;
    h ^= h >> 29;
    return h;
}

/* ---- small helpers ---- */

void lms_ids_free(lms_ids *v) {
    free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}

lms_status lms_ids_reserve(lms_ids *v, size_t extra, lms_err *err) {
    if (v->cap - v->n >= extra) return LMS_OK;
    size_t cap = v->cap ? v->cap : 64;
    while (cap - v->n < extra) cap *= 2;
    uint32_t *p = realloc(v->ids, cap * sizeof *p);
    if (!p) return lms_errf(err, LMS_ERR_NOMEM, "out of memory growing a token list to %zu ids", cap);
    v->ids = p;
    v->cap = cap;
    return LMS_OK;
}

lms_status lms_ids_push(lms_ids *v, uint32_t id, lms_err *err) {
    if (v->n == v->cap && lms_ids_reserve(v, 1, err)) return err ? err->code : LMS_ERR_NOMEM;
    v->ids[v->n++] = id;
    return LMS_OK;
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

static int64_t tm_find(const lms_tokenizer *t, const char *s, size_t n) {
    size_t i = (size_t)lms_tok_hash_bytes(s, n) & t->tm_mask;
    for (;;) {
        uint32_t slot = t->tm_slot[i];
        if (!slot) return -1;
        uint32_t id = slot - 1;
        if (t->off[id + 1] - t->off[id] == n && memcmp(t->bytes + t->off[id], s, n) == 0) return id;
        i = (i + 1) & t->tm_mask;
    }
}

int64_t lms_tokenizer_find(const lms_tokenizer *t, const char *s, size_t len) { return tm_find(t, s, len); }
int64_t lms_tok_find(const lms_tokenizer *t, const char *s, size_t n) { return tm_find(t, s, n); }

void lms_tokenizer_free(lms_tokenizer *t) {
    if (!t) return;
    free(t->bytes);
    free(t->off);
    free(t->merges);
    free(t->merge_out);
    free(t->pm_key);
    free(t->pm_rank);
    free(t->tm_slot);
    free(t->whole);
    free(t);
}

static void put_u32(lms_sha256 *h, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    lms_sha256_update(h, b, 4);
}

static void compute_hash(lms_tokenizer *t) {
    lms_sha256 *h = lms_sha256_new();
    LMS_ASSERT(h);
    lms_sha256_update(h, "lmscope-bpe-v1\n", 15);
    put_u32(h, t->V);
    for (uint32_t i = 0; i < t->V; i++) {
        put_u32(h, (uint32_t)(t->off[i + 1] - t->off[i]));
        lms_sha256_update(h, t->bytes + t->off[i], t->off[i + 1] - t->off[i]);
    }
    put_u32(h, t->nmerges);
    for (uint32_t r = 0; r < t->nmerges; r++) {
        put_u32(h, t->merges[2 * r]);
        put_u32(h, t->merges[2 * r + 1]);
    }
    lms_sha256_final_hex(h, t->hash);
}

lms_status lms_tok_build(lms_tokenizer **out, uint32_t V, const char *const *tok, const size_t *tok_len,
                         uint32_t nmerges, const uint32_t *merges, const char *what, lms_err *err) {
    static atomic_uint_fast64_t serial_counter = 1;
    *out = NULL;
    if (V < 256 || V == UINT32_MAX)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: %u tokens; a byte-level vocabulary needs at least the 256 byte tokens and at most 4294967294", what, V);
    lms_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return lms_errf(err, LMS_ERR_NOMEM, "out of memory building a tokenizer");
    size_t total = 0;
    for (uint32_t i = 0; i < V; i++) total += tok_len[i];
    t->V = V;
    t->nmerges = nmerges;
    t->bytes = malloc(total ? total : 1);
    t->off = malloc((V + (size_t)1) * sizeof *t->off);
    t->merges = malloc((2 * (size_t)nmerges + 1) * sizeof *t->merges);
    t->merge_out = malloc(((size_t)nmerges + 1) * sizeof *t->merge_out);
    t->tm_mask = pow2_at_least(2 * (size_t)V) - 1;
    t->tm_slot = calloc(t->tm_mask + 1, sizeof *t->tm_slot);
    t->pm_mask = pow2_at_least(2 * (size_t)nmerges + 2) - 1;
    t->pm_key = malloc((t->pm_mask + 1) * sizeof *t->pm_key);
    t->pm_rank = malloc((t->pm_mask + 1) * sizeof *t->pm_rank);
    unsigned char *produced = calloc(V, 1);
    if (!t->bytes || !t->off || !t->merges || !t->merge_out || !t->tm_slot || !t->pm_key || !t->pm_rank || !produced) {
        free(produced);
        lms_tokenizer_free(t);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory building a tokenizer of %u tokens", V);
    }
    memset(t->pm_key, 0xFF, (t->pm_mask + 1) * sizeof *t->pm_key);
    for (int b = 0; b < 256; b++) t->byte_id[b] = LMS_TOK_NONE;
    size_t o = 0;
    lms_status st = LMS_OK;
    for (uint32_t i = 0; i < V && !st; i++) {
        t->off[i] = o;
        if (tok_len[i] == 0) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: token %u is empty; every token must have at least one byte", what, i);
            break;
        }
        memcpy(t->bytes + o, tok[i], tok_len[i]);
        o += tok_len[i];
        t->off[i + 1] = o;
        if (tm_find(t, tok[i], tok_len[i]) >= 0) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: token %u has the same bytes as token %" PRId64 "; tokens must be distinct", what, i, tm_find(t, tok[i], tok_len[i]));
            break;
        }
        size_t j = (size_t)lms_tok_hash_bytes(tok[i], tok_len[i]) & t->tm_mask;
        while (t->tm_slot[j]) j = (j + 1) & t->tm_mask;
        t->tm_slot[j] = i + 1;
        if (tok_len[i] == 1) {
            t->byte_id[(unsigned char)tok[i][0]] = i;
            produced[i] = 1;
        }
    }
    for (int b = 0; b < 256 && !st; b++)
        if (t->byte_id[b] == LMS_TOK_NONE)
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: no token for byte 0x%02X; a byte-level vocabulary must contain all 256 single bytes", what, b);
    char *buf = NULL;
    size_t bufcap = 0;
    for (uint32_t r = 0; r < nmerges && !st; r++) {
        uint32_t a = merges[2 * r], b = merges[2 * r + 1];
        if (a >= V || b >= V) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: merge %u uses token id %u >= vocabulary size %u", what, r, a >= V ? a : b, V);
            break;
        }
        if (!produced[a] || !produced[b]) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: merge %u uses token %u, which is neither a single byte nor the result of an earlier merge; merges must be listed in the order they were learned", what, r, produced[a] ? b : a);
            break;
        }
        size_t la = t->off[a + 1] - t->off[a], lb = t->off[b + 1] - t->off[b];
        if (la + lb > bufcap) {
            bufcap = 2 * (la + lb);
            char *nb = realloc(buf, bufcap);
            if (!nb) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); break; }
            buf = nb;
        }
        memcpy(buf, t->bytes + t->off[a], la);
        memcpy(buf + la, t->bytes + t->off[b], lb);
        int64_t m = tm_find(t, buf, la + lb);
        if (m < 0) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: merge %u joins tokens %u and %u into bytes that are not in the vocabulary; add the merged token to the vocabulary or remove the merge", what, r, a, b);
            break;
        }
        uint64_t key = ((uint64_t)a << 32) | b;
        size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & t->pm_mask;
        while (t->pm_key[j] != UINT64_MAX && t->pm_key[j] != key) j = (j + 1) & t->pm_mask;
        if (t->pm_key[j] == key) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: merge %u repeats merge %u (tokens %u and %u); each pair may be merged once", what, r, t->pm_rank[j], a, b);
            break;
        }
        t->pm_key[j] = key;
        t->pm_rank[j] = r;
        t->merges[2 * r] = a;
        t->merges[2 * r + 1] = b;
        t->merge_out[r] = (uint32_t)m;
        produced[m] = 1;
    }
    free(buf);
    free(produced);
    if (st) {
        lms_tokenizer_free(t);
        return st;
    }
    int64_t eot = tm_find(t, LMS_TOKENIZER_EOT_TEXT, strlen(LMS_TOKENIZER_EOT_TEXT));
    t->eot = (int)eot;
    /* which tokens BPE reproduces from their own bytes (lets encode skip merging such words) */
    t->whole = calloc(V, 1);
    uint32_t *tmp = NULL;
    size_t tmpcap = 0;
    for (uint32_t i = 0; i < V && t->whole; i++) {
        size_t l = t->off[i + 1] - t->off[i];
        if (l == 1) {
            t->whole[i] = 1;
            continue;
        }
        if (l > tmpcap) {
            tmpcap = 2 * l;
            uint32_t *nt = realloc(tmp, tmpcap * sizeof *nt);
            if (!nt) { free(t->whole); t->whole = NULL; break; }
            tmp = nt;
        }
        size_t k = lms_tok_bpe_word(t, (const unsigned char *)t->bytes + t->off[i], l, tmp, 0);
        t->whole[i] = k == 1 && tmp[0] == i;
    }
    free(tmp);
    if (!t->whole) {
        lms_tokenizer_free(t);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory building a tokenizer of %u tokens", V);
    }
    t->serial = atomic_fetch_add(&serial_counter, 1);
    compute_hash(t);
    *out = t;
    return LMS_OK;
}

lms_tokenizer *lms_tokenizer_bytes(void) {
    char bytes[256];
    const char *tok[256];
    size_t len[256];
    for (int i = 0; i < 256; i++) {
        bytes[i] = (char)i;
        tok[i] = &bytes[i];
        len[i] = 1;
    }
    lms_tokenizer *t = NULL;
    lms_err err = {0};
    if (lms_tok_build(&t, 256, tok, len, 0, NULL, "byte tokenizer", &err)) return NULL;
    return t;
}

int lms_tokenizer_vocab_size(const lms_tokenizer *t) { return (int)t->V; }
int lms_tokenizer_num_merges(const lms_tokenizer *t) { return (int)t->nmerges; }
int lms_tokenizer_eot(const lms_tokenizer *t) { return t->eot; }
const char *lms_tokenizer_hash(const lms_tokenizer *t) { return t->hash; }

const char *lms_tokenizer_token(const lms_tokenizer *t, uint32_t id, size_t *len) {
    if (id >= t->V) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->off[id + 1] - t->off[id];
    return t->bytes + t->off[id];
}

lms_status lms_tokenizer_decode(const lms_tokenizer *t, const uint32_t *ids, size_t n, char **text,
                                size_t *len, lms_err *err) {
    *text = NULL;
    if (len) *len = 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= t->V)
            return lms_errf(err, LMS_ERR_ARG, "token id %u at position %zu is out of range: this tokenizer has %u tokens (ids 0..%u)", ids[i], i, t->V, t->V - 1);
        total += t->off[ids[i] + 1] - t->off[ids[i]];
    }
    char *s = malloc(total + 1);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory decoding %zu tokens (%zu bytes)", n, total);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = t->off[ids[i] + 1] - t->off[ids[i]];
        memcpy(s + o, t->bytes + t->off[ids[i]], l);
        o += l;
    }
    s[o] = 0;
    *text = s;
    if (len) *len = o;
    return LMS_OK;
}

/* ---- loading ---- */

/* Decode one UTF-8 code point from s[*i..n); returns it, or UINT32_MAX if malformed. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i) {
    unsigned c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    int k = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
    if (k < 0 || *i + (size_t)k >= n) return UINT32_MAX;
    uint32_t cp = c & (0x3F >> k);
    for (int j = 1; j <= k; j++) {
        unsigned d = s[*i + (size_t)j];
        if ((d & 0xC0) != 0x80) return UINT32_MAX;
        cp = (cp << 6) | (d & 0x3F);
    }
    *i += (size_t)k + 1;
    return cp;
}

/* Map a vocabulary string (UTF-8 of byte-map characters) to raw bytes in out (cap >= n). Returns
 * the byte count, or -1 with *bad set to the offending code point. */
static long unmap_string(const char *s, size_t n, char *out, uint32_t *bad) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp = utf8_next((const unsigned char *)s, n, &i);
        int b = cp == UINT32_MAX ? -1 : lms_tok_cp_to_byte(cp);
        if (b < 0) {
            *bad = cp;
            return -1;
        }
        out[o++] = (char)b;
    }
    return (long)o;
}

typedef struct {
    char **tok;
    size_t *len;
    uint32_t V;
} vocab_tmp;

static void vocab_tmp_free(vocab_tmp *v) {
    if (v->tok)
        for (uint32_t i = 0; i < v->V; i++) free(v->tok[i]);
    free(v->tok);
    free(v->len);
}

static lms_status parse_vocab(vocab_tmp *v, const char *json, size_t n, const char *name, lms_err *err) {
    json_error_t je;
    json_t *root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: not valid JSON (line %d, column %d: %s); expected an object {\"token\": id, ...}", name, je.line, je.column, je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return lms_errf(err, LMS_ERR_FORMAT, "%s: the top level must be a JSON object {\"token\": id, ...}", name);
    }
    size_t V = json_object_size(root);
    if (V < 256 || V >= UINT32_MAX) {
        json_decref(root);
        return lms_errf(err, LMS_ERR_FORMAT, "%s: %zu tokens; a byte-level BPE vocabulary has at least the 256 byte tokens", name, V);
    }
    v->V = (uint32_t)V;
    v->tok = calloc(V, sizeof *v->tok);
    v->len = calloc(V, sizeof *v->len);
    if (!v->tok || !v->len) {
        json_decref(root);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading %s", name);
    }
    const char *key;
    json_t *val;
    lms_status st = LMS_OK;
    json_object_foreach(root, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) >= (json_int_t)V) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: token \"%.40s\" has id %s; ids must be integers 0..%zu (one per token, no gaps)", name, key, json_is_integer(val) ? "out of range" : "that is not an integer", V - 1);
            break;
        }
        size_t id = (size_t)json_integer_value(val);
        if (v->tok[id]) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s: id %zu is used by two tokens; ids must be 0..%zu, each once", name, id, V - 1);
            break;
        }
        size_t kl = strlen(key);
        v->tok[id] = malloc(kl + 1);
        if (!v->tok[id]) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory reading %s", name); break; }
        uint32_t bad = 0;
        long bl = unmap_string(key, kl, v->tok[id], &bad);
        if (bl <= 0) {
            st = bl == 0 ? lms_errf(err, LMS_ERR_FORMAT, "%s: token %zu is the empty string", name, id)
                         : lms_errf(err, LMS_ERR_FORMAT, "%s: token %zu (\"%.40s\") contains U+%04X, which is not in GPT-2's byte-to-unicode map; this is not a byte-level BPE vocabulary", name, id, key, bad);
            break;
        }
        v->len[id] = (size_t)bl;
    }
    json_decref(root);
    return st;
}

/* Parse merges text into ids. */
static lms_status parse_merges(const lms_tokenizer *vt, const char *txt, size_t n, const char *name,
                               uint32_t **merges_out, uint32_t *nm_out, lms_err *err) {
    size_t lines = 1;
    for (size_t i = 0; i < n; i++) lines += txt[i] == '\n';
    uint32_t *m = malloc(2 * lines * sizeof *m + 8);
    char *buf = malloc(n + 1);
    if (!m || !buf) {
        free(m);
        free(buf);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading %s", name);
    }
    uint32_t nm = 0;
    size_t pos = 0, lineno = 0;
    lms_status st = LMS_OK;
    while (pos < n && !st) {
        size_t e = pos;
        while (e < n && txt[e] != '\n') e++;
        const char *line = txt + pos;
        size_t ll = e - pos;
        lineno++;
        pos = e + 1;
        if (ll && line[ll - 1] == '\r') ll--;
        if (lineno == 1 && ll >= 8 && memcmp(line, "#version", 8) == 0) continue;
        if (ll == 0) {
            /* blank lines are allowed only at the end of the file */
            size_t k = pos;
            while (k < n && (txt[k] == '\n' || txt[k] == '\r')) k++;
            if (k >= n) break;
            st = lms_errf(err, LMS_ERR_FORMAT, "%s line %zu: empty line in the middle of the merge list; each line must be \"left right\"", name, lineno);
            break;
        }
        const char *sp = memchr(line, ' ', ll);
        if (!sp || sp == line || sp == line + ll - 1 || memchr(sp + 1, ' ', (size_t)(line + ll - sp - 1))) {
            st = lms_errf(err, LMS_ERR_FORMAT, "%s line %zu: \"%.*s\" is not two tokens separated by one space", name, lineno, (int)(ll > 60 ? 60 : ll), line);
            break;
        }
        uint32_t ids[2];
        const char *part[2] = {line, sp + 1};
        size_t plen[2] = {(size_t)(sp - line), (size_t)(line + ll - sp - 1)};
        for (int k = 0; k < 2 && !st; k++) {
            uint32_t bad = 0;
            long bl = unmap_string(part[k], plen[k], buf, &bad);
            int64_t id = bl > 0 ? tm_find(vt, buf, (size_t)bl) : -1;
            if (bl < 0)
                st = lms_errf(err, LMS_ERR_FORMAT, "%s line %zu: \"%.*s\" contains U+%04X, which is not in GPT-2's byte-to-unicode map", name, lineno, (int)(plen[k] > 60 ? 60 : plen[k]), part[k], bad);
            else if (id < 0)
                st = lms_errf(err, LMS_ERR_FORMAT, "%s line %zu: \"%.*s\" is not a token of the vocabulary; merges.txt and vocab.json must come from the same tokenizer", name, lineno, (int)(plen[k] > 60 ? 60 : plen[k]), part[k]);
            else
                ids[k] = (uint32_t)id;
        }
        if (st) break;
        m[2 * nm] = ids[0];
        m[2 * nm + 1] = ids[1];
        nm++;
    }
    free(buf);
    if (st) {
        free(m);
        return st;
    }
    *merges_out = m;
    *nm_out = nm;
    return LMS_OK;
}

lms_status lms_tokenizer_load_mem(lms_tokenizer **out, const char *vocab_json, size_t vocab_len,
                                  const char *merges, size_t merges_len, lms_err *err) {
    return lms_tokenizer_load_mem_named(out, vocab_json, vocab_len, "vocab.json", merges, merges_len, "merges.txt", err);
}

lms_status lms_tokenizer_load_mem_named(lms_tokenizer **out, const char *vocab_json, size_t vocab_len,
                                        const char *vname, const char *merges, size_t merges_len,
                                        const char *mname, lms_err *err) {
    *out = NULL;
    vocab_tmp v = {0};
    lms_status st = parse_vocab(&v, vocab_json, vocab_len, vname, err);
    if (st) {
        vocab_tmp_free(&v);
        return st;
    }
    /* a vocabulary-only tokenizer first, to look merge parts up by bytes */
    lms_tokenizer *vt = NULL;
    st = lms_tok_build(&vt, v.V, (const char *const *)v.tok, v.len, 0, NULL, vname, err);
    uint32_t *m = NULL, nm = 0;
    if (!st) st = parse_merges(vt, merges, merges_len, mname, &m, &nm, err);
    if (!st) st = lms_tok_build(out, v.V, (const char *const *)v.tok, v.len, nm, m, mname, err);
    lms_tokenizer_free(vt);
    free(m);
    vocab_tmp_free(&v);
    return st;
}

lms_status lms_tokenizer_load_files(lms_tokenizer **out, const char *vocab_path, const char *merges_path,
                                    lms_err *err) {
    *out = NULL;
    char *vj = NULL, *mt = NULL;
    size_t vl = 0, ml = 0;
    lms_status st = lms_file_read_all(vocab_path, &vj, &vl, err);
    if (!st) st = lms_file_read_all(merges_path, &mt, &ml, err);
    if (!st) st = lms_tokenizer_load_mem_named(out, vj, vl, vocab_path, mt, ml, merges_path, err);
    free(vj);
    free(mt);
    return st;
}

lms_status lms_tokenizer_load(lms_tokenizer **out, const char *dir, lms_err *err) {
    *out = NULL;
    if (!strcmp(dir, "bytes") && !lms_path_exists(dir)) {
        *out = lms_tokenizer_bytes();
        return *out ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory creating the byte tokenizer");
    }
    if (!lms_path_is_dir(dir))
        return lms_errf(err, LMS_ERR_IO, "tokenizer directory %s does not exist; train one with 'lmscope tokenizer train --out %s FILES...' or point to a directory holding vocab.json + merges.txt", dir, dir);
    char vp[4096], mp[4096];
    lms_path_join(vp, sizeof vp, dir, "vocab.json");
    lms_path_join(mp, sizeof mp, dir, "merges.txt");
    if (!lms_path_exists(vp) || !lms_path_exists(mp)) {
        char vp2[4096], mp2[4096];
        lms_path_join(vp2, sizeof vp2, dir, "encoder.json");
        lms_path_join(mp2, sizeof mp2, dir, "vocab.bpe");
        if (lms_path_exists(vp2) && lms_path_exists(mp2)) return lms_tokenizer_load_files(out, vp2, mp2, err);
        return lms_errf(err, LMS_ERR_IO, "%s holds no tokenizer: expected vocab.json + merges.txt (or GPT-2's encoder.json + vocab.bpe)", dir);
    }
    return lms_tokenizer_load_files(out, vp, mp, err);
}

/* ---- saving ---- */

static void map_token(const lms_tokenizer *t, uint32_t id, char *out) {
    size_t o = 0;
    for (size_t i = t->off[id]; i < t->off[id + 1]; i++) {
        uint32_t cp = lms_tok_byte_to_cp((unsigned char)t->bytes[i]);
        if (cp < 0x80) out[o++] = (char)cp;
        else {
            out[o++] = (char)(0xC0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    out[o] = 0;
}

lms_status lms_tokenizer_save(const lms_tokenizer *t, const char *dir, lms_err *err) {
    if (lms_mkdir_p(dir, err)) return err->code;
    size_t maxlen = 0;
    for (uint32_t i = 0; i < t->V; i++)
        if (t->off[i + 1] - t->off[i] > maxlen) maxlen = t->off[i + 1] - t->off[i];
    char *s = malloc(2 * maxlen + 1), *s2 = malloc(2 * maxlen + 1);
    json_t *obj = json_object();
    if (!s || !s2 || !obj) {
        free(s);
        free(s2);
        json_decref(obj);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory saving a tokenizer");
    }
    for (uint32_t i = 0; i < t->V; i++) {
        map_token(t, i, s);
        json_object_set_new(obj, s, json_integer(i));
    }
    char *js = json_dumps(obj, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(obj);
    char path[4096];
    lms_status st = LMS_OK;
    if (!js) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory writing vocab.json");
    if (!st) st = lms_file_write_all(lms_path_join(path, sizeof path, dir, "vocab.json"), js, strlen(js), err);
    free(js);
    if (!st) {
        lms_atomic_file f;
        st = lms_atomic_open(&f, lms_path_join(path, sizeof path, dir, "merges.txt"), err);
        if (!st) {
            fputs("#version: 0.2\n", f.fp);
            for (uint32_t r = 0; r < t->nmerges; r++) {
                map_token(t, t->merges[2 * r], s);
                map_token(t, t->merges[2 * r + 1], s2);
                fprintf(f.fp, "%s %s\n", s, s2);
            }
            st = lms_atomic_commit(&f, err);
        }
    }
    free(s);
    free(s2);
    return st;
}
