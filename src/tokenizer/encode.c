/* encode.c — encoding: GPT-2's pre-tokenizer (PCRE2, UTF + UCP, JIT when available, invalid
 * UTF-8 tolerated), BPE of each word by merge rank, and a per-thread cache of encoded words.
 *
 * Pre-tokenizer. The pattern is GPT-2's with \s spelled out as Unicode's White_Space set (what
 * Python's `regex` and tiktoken mean by \s; PCRE2's own \s would add U+180E, JavaScript's adds
 * U+FEFF and drops U+0085), and \p{L} / \p{N} as tiktoken has them (Unicode 16.0, from
 * unicode_classes.h). With Debian 12's PCRE2 (Unicode 14.0) a text is first scanned for the
 * letters and numbers 15.0-16.0 added: without any (nearly every text), PCRE2's own \p{L}/\p{N}
 * are exact and fastest; with some, the classes get those characters added. A PCRE2 of 16.0 needs
 * neither; one of any other version gets every range spelled out. Streaming cuts (where a text
 * may be cut without changing its ids) are explained further down. Compiled with
 * PCRE2_MATCH_INVALID_UTF, so bytes that are not UTF-8 never match and fall into the gaps between
 * matches; each gap becomes a word of its own.
 *
 * BPE. GPT-2's rule: take the lowest-ranked adjacent pair, merge every occurrence left to right,
 * repeat. Short words use an in-place array with a rank per position (O(n^2) worst case, fast for
 * n <= 64); long words use a linked list and a heap ordered by (rank, position), which gives the
 * same result in O(n log n).
 *
 * Shortcuts before BPE: a word that is itself a token which BPE rebuilds whole (flagged when the
 * tokenizer is built) is that token; other words go through the per-thread cache.
 *
 * Leaves out: training (train.c), file formats (tokenizer.c).
 */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode_classes.h"

#define WS "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
/* L, N: a letter, a number (an atom); LN: both as class items, for the "other" class */
#define GPT2_PATTERN(L, N, LN) \
    "'s|'t|'re|'ve|'m|'ll|'d| ?" L "+| ?" N "+| ?[^" WS LN "]+|[" WS "]+(?![^" WS "])|[" WS "]+"
/* PCRE2's own \p{L}/\p{N}: exact with a PCRE2 of Unicode 16.0 (Debian 13), and with Debian 12's
 * 14.0 on a text without any of the characters 16.0 adds (has_add14 checks); the fastest. */
static const char k_pattern_plain[] = GPT2_PATTERN("\\p{L}", "\\p{N}", "\\p{L}\\p{N}");
/* PCRE2's lookup plus what tiktoken's Unicode 16.0 adds to PCRE2's 14.0 tables: exact with
 * Debian 12's PCRE2 on any text, but classes are slower than a bare \p{L} (30% on English),
 * so it is used only for texts that hold one of the added characters. */
static const char k_pattern_add14[] =
    GPT2_PATTERN("[\\p{L}" LMS_TOK_CLASS_L_ADD14 "]", "[\\p{N}" LMS_TOK_CLASS_N_ADD14 "]",
                 "\\p{L}\\p{N}" LMS_TOK_CLASS_L_ADD14 LMS_TOK_CLASS_N_ADD14);
/* Every Unicode 16.0 letter and number spelled out: exact with any PCRE2 (a newer one's \p{L}
 * would take letters that tiktoken does not know yet), about half as fast on non-Latin text. */
static const char k_pattern_explicit[] =
    GPT2_PATTERN("[" LMS_TOK_CLASS_L "]", "[" LMS_TOK_CLASS_N "]", LMS_TOK_CLASS_L LMS_TOK_CLASS_N);
static const uint32_t k_add14[][2] = {LMS_TOK_ADD14_RANGES};

#define SMALL_MAX 64

/* ---- compiled pattern (process-wide) and per-thread state ---- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pcre2_code *g_code[2]; /* [0] for any text, [1] for a text with Unicode 15-16 characters */
static int g_jit[2];
static int g_scan;            /* 1: look for those characters to choose (PCRE2 of Unicode 14.0) */
static unsigned char g_leads[8];  /* the UTF-8 lead bytes of those characters */
static int g_nleads;
static pthread_key_t g_key;

typedef struct {
    uint64_t h;
    uint32_t woff, ioff; /* offsets into the byte and id arenas */
    uint16_t wlen, nids;
} cache_ent;

typedef struct {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    /* word cache, valid for the tokenizer with this serial */
    uint64_t serial;
    uint32_t *slot; /* entry index + 1; 0 empty */
    size_t mask;
    cache_ent *ent;
    size_t nent, entcap;
    unsigned char *wb;
    size_t wbn, wbcap;
    uint32_t *ib;
    size_t ibn, ibcap;
} tl_state;

static void tl_free(void *p) {
    tl_state *s = p;
    if (!s) return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jstack);
    free(s->slot);
    free(s->ent);
    free(s->wb);
    free(s->ib);
    free(s);
}

static int g_explicit;

static size_t utf8_lead(uint32_t cp) {
    return cp < 0x80 ? cp : cp < 0x800 ? 0xC0 | cp >> 6 : cp < 0x10000 ? 0xE0 | cp >> 12 : 0xF0 | cp >> 18;
}

static void init_once(void) {
    char ver[64] = "";
    pcre2_config(PCRE2_CONFIG_UNICODE_VERSION, ver);
    int v14 = strcmp(ver, "14.0.0") == 0, v16 = strcmp(ver, LMS_TOK_UNICODE_VERSION) == 0;
    g_explicit = !v14 && !v16;
    g_scan = v14;
    const char *pat[2] = {g_explicit ? k_pattern_explicit : k_pattern_plain, v14 ? k_pattern_add14 : NULL};
    for (int k = 0; k < 2; k++) {
        int ec;
        PCRE2_SIZE eo;
        if (!pat[k]) {
            g_code[k] = g_code[0];
            g_jit[k] = g_jit[0];
            continue;
        }
        g_code[k] = pcre2_compile((PCRE2_SPTR)pat[k], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                                  &ec, &eo, NULL);
        LMS_ASSERT(g_code[k] != NULL); /* the pattern is a constant: failing to compile is a bug */
        g_jit[k] = pcre2_jit_compile(g_code[k], PCRE2_JIT_COMPLETE) == 0;
    }
    for (size_t i = 0; i < sizeof k_add14 / sizeof *k_add14; i++)
        for (size_t b = utf8_lead(k_add14[i][0]); b <= utf8_lead(k_add14[i][1]); b++) {
            int seen = 0;
            for (int l = 0; l < g_nleads; l++) seen |= g_leads[l] == b;
            LMS_ASSERT(seen || g_nleads < (int)sizeof g_leads);
            if (!seen) g_leads[g_nleads++] = (unsigned char)b;
        }
    LMS_ASSERT(pthread_key_create(&g_key, tl_free) == 0);
}

/* Which pattern a text needs: 1 if it holds a letter or number that Unicode 15-16 added (and the
 * system PCRE2's tables are 14.0), else 0. memchr finds each lead byte those characters have (E1,
 * EA, F0); only characters starting with one are decoded and looked up. */
static int pattern_for(const unsigned char *t, size_t n) {
    if (!g_scan) return 0;
    const size_t nr = sizeof k_add14 / sizeof *k_add14;
    for (int l = 0; l < g_nleads; l++)
        for (const unsigned char *p = t; (p = memchr(p, g_leads[l], (size_t)(t + n - p))) != NULL; p++) {
            size_t k = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
            if ((size_t)(t + n - p) < k) break;
            uint32_t cp = *p & (0x7Fu >> k);
            for (size_t j = 1; j < k; j++) cp = cp << 6 | (p[j] & 0x3F);
            size_t lo = 0, hi = nr;
            while (lo < hi) { /* the first range that ends at or after cp */
                size_t mid = (lo + hi) / 2;
                if (k_add14[mid][1] < cp) lo = mid + 1;
                else hi = mid;
            }
            /* (a broken character read as one of them only costs speed) */
            if (lo < nr && k_add14[lo][0] <= cp) return 1;
        }
    return 0;
}

int lms_tok_explicit_classes(void) {
    pthread_once(&g_once, init_once);
    return g_explicit;
}

static tl_state *tl_get(void) {
    pthread_once(&g_once, init_once);
    tl_state *s = pthread_getspecific(g_key);
    if (s) return s;
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->md = pcre2_match_data_create(1, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    int jit = g_jit[0] || g_jit[1];
    if (jit) s->jstack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, NULL);
    if (!s->md || !s->mctx || (jit && !s->jstack)) {
        tl_free(s);
        return NULL;
    }
    if (jit) pcre2_jit_stack_assign(s->mctx, NULL, s->jstack);
    if (pthread_setspecific(g_key, s) != 0) {
        tl_free(s);
        return NULL;
    }
    return s;
}

/* Next match at or after pos: returns 1 and [*ms, *me), or 0 when none (the rest is not UTF-8). */
static int match_next(tl_state *s, int pat, const unsigned char *text, size_t len, size_t pos, size_t *ms, size_t *me) {
    int rc = g_jit[pat] ? pcre2_jit_match(g_code[pat], text, len, pos, 0, s->md, s->mctx)
                        : pcre2_match(g_code[pat], text, len, pos, 0, s->md, s->mctx);
    if (rc < 0) {
        /* NOMATCH: only invalid bytes remain. Any other error (a resource limit) cannot be
         * recovered here; treating the rest as one gap keeps the round trip exact. */
        if (rc != PCRE2_ERROR_NOMATCH)
            lms_log(LMS_LOG_WARN, "tokenizer: PCRE2 error %d at byte %zu of %zu; the rest of this text is encoded as one word", rc, pos, len);
        return 0;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    *ms = ov[0];
    *me = ov[1];
    LMS_ASSERT(*me > *ms && *ms >= pos);
    return 1;
}

lms_status lms_tok_pretokenize(const char *text, size_t len, lms_tok_word_fn fn, void *user, lms_err *err) {
    tl_state *s = tl_get();
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory setting up the pre-tokenizer");
    const unsigned char *t = (const unsigned char *)text;
    size_t pos = 0, ms, me;
    int pat = pattern_for(t, len);
    while (pos < len) {
        lms_status st;
        if (!match_next(s, pat, t, len, pos, &ms, &me)) return fn(user, t + pos, len - pos, 0);
        if (ms > pos && (st = fn(user, t + pos, ms - pos, 0))) return st;
        if ((st = fn(user, t + ms, me - ms, 1))) return st;
        pos = me;
    }
    return LMS_OK;
}

/* ---- BPE of one word ---- */

static size_t bpe_small(const lms_tokenizer *t, const unsigned char *w, size_t n, uint32_t *sym) {
    uint32_t rk[SMALL_MAX];
    unsigned char merged[SMALL_MAX];
    for (size_t i = 0; i < n; i++) sym[i] = t->byte_id[w[i]];
    for (size_t i = 0; i + 1 < n; i++) rk[i] = lms_tok_rank(t, sym[i], sym[i + 1]);
    while (n > 1) {
        uint32_t r = LMS_TOK_NONE;
        for (size_t i = 0; i + 1 < n; i++)
            if (rk[i] < r) r = rk[i];
        if (r == LMS_TOK_NONE) break;
        uint32_t m = t->merge_out[r];
        size_t j = 0, i = 0;
        while (i < n) {
            if (i + 1 < n && rk[i] == r) {
                sym[j] = m;
                merged[j] = 1;
                i += 2;
            } else {
                sym[j] = sym[i];
                rk[j] = rk[i];
                merged[j] = 0;
                i++;
            }
            j++;
        }
        n = j;
        for (j = 0; j < n; j++) {
            if (!merged[j]) continue;
            if (j > 0) rk[j - 1] = lms_tok_rank(t, sym[j - 1], sym[j]);
            if (j + 1 < n) rk[j] = lms_tok_rank(t, sym[j], sym[j + 1]);
        }
    }
    return n;
}

typedef struct {
    uint32_t rank, pos;
} hent;

static int hless(hent a, hent b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

static void hpush(hent *h, size_t *n, hent e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hless(e, h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static hent hpop(hent *h, size_t *n) {
    hent top = h[0], e = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && hless(h[c + 1], h[c])) c++;
        if (!hless(h[c], e)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = e;
    return top;
}

static size_t bpe_heap(const lms_tokenizer *t, const unsigned char *w, size_t n, uint32_t *out) {
    uint32_t *sym = malloc(n * sizeof *sym);
    uint32_t *nxt = malloc(n * sizeof *nxt), *prv = malloc(n * sizeof *prv);
    uint32_t *changed = malloc(n * sizeof *changed);
    hent *heap = malloc((3 * n + 4) * sizeof *heap);
    size_t nh = 0, res = (size_t)-1;
    if (!sym || !nxt || !prv || !changed || !heap) goto done;
    for (size_t i = 0; i < n; i++) {
        sym[i] = t->byte_id[w[i]];
        nxt[i] = i + 1 < n ? (uint32_t)(i + 1) : LMS_TOK_NONE;
        prv[i] = i ? (uint32_t)(i - 1) : LMS_TOK_NONE;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        uint32_t r = lms_tok_rank(t, sym[i], sym[i + 1]);
        if (r != LMS_TOK_NONE) hpush(heap, &nh, (hent){r, (uint32_t)i});
    }
    while (nh) {
        uint32_t r = heap[0].rank, m = t->merge_out[r];
        size_t nc = 0;
        /* entries of one rank come out in increasing position: merge left to right */
        while (nh && heap[0].rank == r) {
            uint32_t p = hpop(heap, &nh).pos;
            uint32_t q = nxt[p];
            if (sym[p] == LMS_TOK_NONE || q == LMS_TOK_NONE || lms_tok_rank(t, sym[p], sym[q]) != r) continue;
            sym[p] = m;
            sym[q] = LMS_TOK_NONE;
            nxt[p] = nxt[q];
            if (nxt[q] != LMS_TOK_NONE) prv[nxt[q]] = p;
            changed[nc++] = p;
        }
        for (size_t k = 0; k < nc; k++) {
            uint32_t p = changed[k];
            if (sym[p] == LMS_TOK_NONE) continue;
            if (prv[p] != LMS_TOK_NONE) {
                uint32_t rr = lms_tok_rank(t, sym[prv[p]], sym[p]);
                if (rr != LMS_TOK_NONE) hpush(heap, &nh, (hent){rr, prv[p]});
            }
            if (nxt[p] != LMS_TOK_NONE) {
                uint32_t rr = lms_tok_rank(t, sym[p], sym[nxt[p]]);
                if (rr != LMS_TOK_NONE) hpush(heap, &nh, (hent){rr, p});
            }
        }
    }
    res = 0;
    for (uint32_t p = 0; p != LMS_TOK_NONE; p = nxt[p]) out[res++] = sym[p];
done:
    free(sym);
    free(nxt);
    free(prv);
    free(changed);
    free(heap);
    return res;
}

size_t lms_tok_bpe_word(const lms_tokenizer *t, const unsigned char *w, size_t n, uint32_t *out, int algo) {
    if (n == 0) return 0;
    if (t->nmerges == 0 || n == 1) {
        for (size_t i = 0; i < n; i++) out[i] = t->byte_id[w[i]];
        return n;
    }
    if (algo == 1 || (algo == 0 && n <= SMALL_MAX)) {
        LMS_ASSERT(n <= SMALL_MAX);
        return bpe_small(t, w, n, out);
    }
    return bpe_heap(t, w, n, out);
}

/* ---- per-thread word cache ---- */

#define CACHE_MAX_WORD 64
#define CACHE_MAX_ENTRIES (1u << 18)

static void cache_reset(tl_state *s, uint64_t serial) {
    s->serial = serial;
    if (s->slot && s->nent) memset(s->slot, 0, (s->mask + 1) * sizeof *s->slot);
    s->nent = s->wbn = s->ibn = 0;
}

/* Double the slot table (it starts small so that short encodes and tokenizer switches stay cheap). */
static int cache_grow(tl_state *s) {
    size_t cap = s->slot ? 2 * (s->mask + 1) : 4096;
    uint32_t *sl = calloc(cap, sizeof *sl);
    if (!sl) return 0;
    for (size_t k = 0; k < s->nent; k++) {
        size_t i = (size_t)s->ent[k].h & (cap - 1);
        while (sl[i]) i = (i + 1) & (cap - 1);
        sl[i] = (uint32_t)k + 1;
    }
    free(s->slot);
    s->slot = sl;
    s->mask = cap - 1;
    return 1;
}

static const cache_ent *cache_find(const tl_state *s, const unsigned char *w, size_t n, uint64_t h) {
    if (!s->slot) return NULL;
    size_t i = (size_t)h & s->mask;
    for (;;) {
        uint32_t sl = s->slot[i];
        if (!sl) return NULL;
        const cache_ent *e = &s->ent[sl - 1];
        if (e->h == h && e->wlen == n && memcmp(s->wb + e->woff, w, n) == 0) return e;
        i = (i + 1) & s->mask;
    }
}

/* Insert; silently does nothing when memory is short (the cache is only an optimisation). */
static void cache_put(tl_state *s, const unsigned char *w, size_t n, uint64_t h, const uint32_t *ids, size_t k) {
    if (s->nent >= CACHE_MAX_ENTRIES) cache_reset(s, s->serial);
    if ((!s->slot || 2 * (s->nent + 1) > s->mask + 1) && !cache_grow(s)) return;
    if (s->nent == s->entcap) {
        size_t c = s->entcap ? 2 * s->entcap : 4096;
        cache_ent *e = realloc(s->ent, c * sizeof *e);
        if (!e) return;
        s->ent = e;
        s->entcap = c;
    }
    if (s->wbn + n > s->wbcap) {
        size_t c = s->wbcap ? 2 * s->wbcap : 65536;
        while (c < s->wbn + n) c *= 2;
        unsigned char *b = realloc(s->wb, c);
        if (!b) return;
        s->wb = b;
        s->wbcap = c;
    }
    if (s->ibn + k > s->ibcap) {
        size_t c = s->ibcap ? 2 * s->ibcap : 16384;
        while (c < s->ibn + k) c *= 2;
        uint32_t *b = realloc(s->ib, c * sizeof *b);
        if (!b) return;
        s->ib = b;
        s->ibcap = c;
    }
    cache_ent *e = &s->ent[s->nent];
    e->h = h;
    e->woff = (uint32_t)s->wbn;
    e->wlen = (uint16_t)n;
    e->ioff = (uint32_t)s->ibn;
    e->nids = (uint16_t)k;
    memcpy(s->wb + s->wbn, w, n);
    s->wbn += n;
    memcpy(s->ib + s->ibn, ids, k * sizeof *ids);
    s->ibn += k;
    size_t i = (size_t)h & s->mask;
    while (s->slot[i]) i = (i + 1) & s->mask;
    s->slot[i] = (uint32_t)++s->nent;
}

/* ---- encode ---- */

static lms_status encode_word(const lms_tokenizer *t, tl_state *s, const unsigned char *w, size_t n,
                              lms_ids *out, lms_err *err) {
    if (out->cap - out->n < n && lms_ids_reserve(out, n, err)) return err ? err->code : LMS_ERR_NOMEM;
    uint32_t *dst = out->ids + out->n;
    if (n == 1 || t->nmerges == 0) {
        for (size_t i = 0; i < n; i++) dst[i] = t->byte_id[w[i]];
        out->n += n;
        return LMS_OK;
    }
    int64_t id = lms_tok_find(t, (const char *)w, n);
    if (id >= 0 && t->whole[id]) { /* the word is a token that BPE would rebuild whole */
        dst[0] = (uint32_t)id;
        out->n++;
        return LMS_OK;
    }
    if (n > CACHE_MAX_WORD) {
        size_t k = lms_tok_bpe_word(t, w, n, dst, 0);
        if (k == (size_t)-1) return lms_errf(err, LMS_ERR_NOMEM, "out of memory encoding a %zu-byte word", n);
        out->n += k;
        return LMS_OK;
    }
    uint64_t h = lms_tok_hash_bytes(w, n);
    const cache_ent *e = cache_find(s, w, n, h);
    if (e) {
        memcpy(dst, s->ib + e->ioff, e->nids * sizeof *dst);
        out->n += e->nids;
        return LMS_OK;
    }
    size_t k = lms_tok_bpe_word(t, w, n, dst, 0);
    cache_put(s, w, n, h, dst, k);
    out->n += k;
    return LMS_OK;
}

static lms_status encode_plain(const lms_tokenizer *t, const unsigned char *text, size_t len, lms_ids *out,
                               lms_err *err) {
    if (t->nmerges == 0) { /* no merges: every word is its bytes, no need to cut words at all */
        if (lms_ids_reserve(out, len, err)) return err ? err->code : LMS_ERR_NOMEM;
        for (size_t i = 0; i < len; i++) out->ids[out->n++] = t->byte_id[text[i]];
        return LMS_OK;
    }
    tl_state *s = tl_get();
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory setting up the pre-tokenizer");
    if (s->serial != t->serial) cache_reset(s, t->serial);
    size_t pos = 0, ms, me;
    int pat = pattern_for(text, len);
    lms_status st;
    while (pos < len) {
        if (!match_next(s, pat, text, len, pos, &ms, &me)) ms = me = len;
        if (ms > pos && (st = encode_word(t, s, text + pos, ms - pos, out, err))) return st;
        if (me > ms && (st = encode_word(t, s, text + ms, me - ms, out, err))) return st;
        pos = me;
    }
    return LMS_OK;
}

lms_status lms_tokenizer_encode_ex(const lms_tokenizer *t, const char *text, size_t len, int flags,
                                   lms_ids *out, lms_err *err) {
    const unsigned char *p = (const unsigned char *)text;
    if (!(flags & LMS_TOK_ALLOW_EOT) || t->eot < 0) return encode_plain(t, p, len, out, err);
    static const char eot[] = LMS_TOKENIZER_EOT_TEXT;
    const size_t el = sizeof eot - 1;
    size_t pos = 0;
    while (pos < len) {
        const unsigned char *hit = memmem(p + pos, len - pos, eot, el);
        size_t end = hit ? (size_t)(hit - p) : len;
        lms_status st = encode_plain(t, p + pos, end - pos, out, err);
        if (st) return st;
        if (!hit) break;
        if ((st = lms_ids_push(out, (uint32_t)t->eot, err))) return st;
        pos = end + el;
    }
    return LMS_OK;
}

/* ---- where a text can be cut ----
 *
 * Rule: a text may be cut before byte p when text[p] is ASCII whitespace (\t \n \v \f \r or
 * space) and the bytes before p end with a valid UTF-8 character that is not whitespace. Why the
 * ids of the two sides, joined, are those of the whole (whatever follows p):
 *  1. No match of GPT-2's pattern contains both that character A and the whitespace B after it:
 *     the contractions and the letter/number/other runs hold no whitespace except one leading
 *     space, and the \s+ alternatives hold only whitespace.
 *  2. The matches before p are what they would be if the text ended at p: every alternative
 *     tried there stops at B exactly as it stops at the end of the text (B belongs to none of
 *     the runs that can reach it; a contraction needs a letter where B is; the lookahead (?!\S)
 *     only follows a whitespace run, which ends before A).
 *  3. From p on, both scans start at the same byte of the same bytes, and the pattern has no
 *     lookbehind.
 * "<|endoftext|>" holds no whitespace, so a cut never splits it either. Cutting right after a
 * newline instead would not be safe: "a \n\nB" splits as "a", " \n", "\n", "B", but "a \n\n"
 * alone ends in the one word " \n\n".
 */
static int is_ws_cp(uint32_t c) {
    return (c >= 9 && c <= 13) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* 1 if s[0..p) ends with a valid UTF-8 character that is not whitespace. */
static int ends_with_nonspace(const unsigned char *s, size_t p) {
    if (p == 0) return 0;
    if (s[p - 1] < 0x80) return !is_ws_cp(s[p - 1]);
    size_t k = 1;
    while (k < 4 && k < p && (s[p - k] & 0xC0) == 0x80) k++;
    unsigned lead = s[p - k];
    size_t need = lead >= 0xF8 ? 0 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
    if (need != k) return 0;
    uint32_t cp = lead & (0x7F >> k);
    for (size_t i = 1; i < k; i++) cp = cp << 6 | (s[p - k + i] & 0x3F);
    if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return !is_ws_cp(cp);
}

static int cut_ok(const unsigned char *s, size_t p) {
    unsigned b = s[p];
    return (b == ' ' || (b >= 9 && b <= 13)) && ends_with_nonspace(s, p);
}

size_t lms_tokenizer_split_point(const char *text, size_t len, size_t from) {
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = from ? from : 1; i < len; i++)
        if (cut_ok(s, i)) return i;
    return len;
}

size_t lms_tokenizer_last_cut(const char *text, size_t len) {
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = len; i-- > 1;)
        if (cut_ok(s, i)) return i;
    return 0;
}

lms_status lms_tokenizer_encode_stream(const lms_tokenizer *t, FILE *f, const char *name, int flags, size_t chunk,
                                       lms_tokenizer_emit_fn emit, void *user, uint64_t *bytes, lms_err *err) {
    if (!chunk) chunk = (size_t)1 << 20;
    size_t cap = chunk, len = 0;
    uint64_t total = 0;
    char *buf = malloc(cap);
    lms_ids ids = {0};
    lms_status st = buf ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory for a %zu-byte read buffer", cap);
    int eof = 0;
    while (!st && !(eof && len == 0)) {
        if (!eof) {
            size_t r = fread(buf + len, 1, cap - len, f);
            len += r;
            total += r;
            if (len < cap) { /* fread stops short only at the end or on an error */
                if (ferror(f)) {
                    st = lms_errf(err, LMS_ERR_IO, "reading %s failed after %llu bytes", name ? name : "the input",
                                  (unsigned long long)total);
                    break;
                }
                eof = 1;
            }
        }
        size_t cut = eof ? len : lms_tokenizer_last_cut(buf, len);
        if (cut == 0) { /* no place to cut in the whole buffer: read more into a bigger one */
            char *nb = realloc(buf, 2 * cap);
            if (!nb) {
                st = lms_errf(err, LMS_ERR_NOMEM, "out of memory: %zu bytes of %s hold no whitespace after a non-space "
                              "character, the only place the text can be cut", len, name ? name : "the input");
                break;
            }
            buf = nb;
            cap *= 2;
            continue;
        }
        ids.n = 0;
        st = lms_tokenizer_encode_ex(t, buf, cut, flags, &ids, err);
        if (!st && ids.n) st = emit(user, ids.ids, ids.n, err);
        memmove(buf, buf + cut, len - cut);
        len -= cut;
    }
    if (bytes) *bytes = total;
    free(buf);
    lms_ids_free(&ids);
    return st;
}

lms_status lms_tokenizer_encode(const lms_tokenizer *t, const char *text, size_t len, lms_ids *out,
                                lms_err *err) {
    return lms_tokenizer_encode_ex(t, text, len, 0, out, err);
}
