/* train.c — byte-level BPE training.
 *
 * 1. Count words. Each text is cut into ~1 MB chunks at places where GPT-2's pattern cannot
 *    match across (lms_tokenizer_split_point: before ASCII whitespace that follows a non-space
 *    character), chunks are pre-tokenised in
 *    parallel (OpenMP) into per-thread word -> count tables, the tables are summed and the
 *    unique words sorted by their bytes (so nothing depends on the thread count).
 * 2. Merge. Every unique word is an array of symbols (ids 0..255 = bytes). A table maps each
 *    adjacent pair to its weighted count and the list of words it occurs in; a max-heap of
 *    (count, pair) with lazy deletion finds the most frequent pair (ties: smaller left id, then
 *    smaller right id). Merging a pair rewrites only the words on its list and adjusts the counts
 *    of the neighbouring pairs there — no recount over the corpus.
 * 3. Ids: 0..255 bytes, 256.. merge results in order, then <|endoftext|> last.
 *
 * Files are counted in batches of about 64 MiB of text (whole .txt files, JSON Lines documents),
 * so memory holds a batch (or the largest .txt file) plus the word counts, not the whole corpus.
 *
 * Leaves out: min-frequency cut-offs, special tokens other than <|endoftext|>, merges across
 * pre-tokenizer words (GPT-2 never does that).
 */
#define _GNU_SOURCE /* qsort_r */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jsonl_text.h"
#include "core/log.h"
#include "core/timer.h"
#include "tokenizer/tok_internal.h"

/* ---- word -> count table (open addressing, bytes in an arena) ---- */

typedef struct {
    uint64_t h;
    uint64_t count;
    size_t off;
    uint32_t len;
} wc_ent;

typedef struct {
    wc_ent *e;
    size_t n, mask;
    unsigned char *arena;
    size_t an, acap;
    int oom;
} wc_table;

static int wc_init(wc_table *t, size_t cap) {
    memset(t, 0, sizeof *t);
    t->mask = cap - 1;
    t->e = calloc(cap, sizeof *t->e);
    return t->e != NULL;
}

static void wc_free(wc_table *t) {
    free(t->e);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

static int wc_grow(wc_table *t) {
    size_t cap = 2 * (t->mask + 1);
    wc_ent *e = calloc(cap, sizeof *e);
    if (!e) return 0;
    for (size_t i = 0; i <= t->mask; i++) {
        if (!t->e[i].count) continue;
        size_t j = (size_t)t->e[i].h & (cap - 1);
        while (e[j].count) j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    free(t->e);
    t->e = e;
    t->mask = cap - 1;
    return 1;
}

static void wc_add(wc_table *t, const unsigned char *w, size_t n, uint64_t h, uint64_t count) {
    if (t->oom) return;
    size_t i = (size_t)h & t->mask;
    for (;;) {
        wc_ent *e = &t->e[i];
        if (!e->count) break;
        if (e->h == h && e->len == n && memcmp(t->arena + e->off, w, n) == 0) {
            e->count += count;
            return;
        }
        i = (i + 1) & t->mask;
    }
    if (t->an + n > t->acap) {
        size_t c = t->acap ? 2 * t->acap : (1 << 20);
        while (c < t->an + n) c *= 2;
        unsigned char *a = realloc(t->arena, c);
        if (!a) { t->oom = 1; return; }
        t->arena = a;
        t->acap = c;
    }
    memcpy(t->arena + t->an, w, n);
    t->e[i] = (wc_ent){h, count, t->an, (uint32_t)n};
    t->an += n;
    if (++t->n * 2 > t->mask + 1 && !wc_grow(t)) t->oom = 1;
}

static lms_status count_word(void *user, const unsigned char *w, size_t n, int valid) {
    (void)valid;
    wc_table *t = user;
    if (n > UINT32_MAX) n = UINT32_MAX; /* a 4 GB "word" cannot be merged usefully anyway */
    wc_add(t, w, n, lms_tok_hash_bytes(w, n), 1);
    return t->oom ? LMS_ERR_NOMEM : LMS_OK;
}

typedef struct {
    const char *p;
    size_t n;
} chunk;

/* Cut text into chunks of about `target` bytes where encoding is unaffected by the cut. */
static size_t make_chunks(const char *p, size_t n, size_t target, chunk *out, size_t cap) {
    size_t k = 0, pos = 0;
    while (pos < n) {
        size_t end = pos + target < n ? lms_tokenizer_split_point(p, n, pos + target) : n;
        if (out && k < cap) out[k] = (chunk){p + pos, end - pos};
        k++;
        pos = end;
    }
    return k;
}

/* ---- pairs ---- */

typedef struct {
    uint32_t a, b;
    int64_t count;
    uint32_t *w; /* words containing (a, b) at some point; may hold stale entries */
    uint32_t nw, cw;
    uint32_t pushed; /* merge step when last queued (dedupes pushes) */
} pair_t;

typedef struct {
    pair_t *p;
    size_t n, cap;
    uint32_t *slot; /* pair index + 1 */
    size_t mask;
    int oom;
} pair_table;

static uint32_t pt_find(const pair_table *t, uint32_t a, uint32_t b) {
    uint64_t key = ((uint64_t)a << 32) | b;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & t->mask;
    for (;;) {
        uint32_t s = t->slot[i];
        if (!s) return UINT32_MAX;
        if (t->p[s - 1].a == a && t->p[s - 1].b == b) return s - 1;
        i = (i + 1) & t->mask;
    }
}

static uint32_t pt_get(pair_table *t, uint32_t a, uint32_t b) {
    uint32_t f = pt_find(t, a, b);
    if (f != UINT32_MAX) return f;
    if ((t->n + 1) * 2 > t->mask + 1) {
        size_t cap = 2 * (t->mask + 1);
        uint32_t *s = calloc(cap, sizeof *s);
        if (!s) { t->oom = 1; return UINT32_MAX; }
        for (size_t i = 0; i < t->n; i++) {
            uint64_t key = ((uint64_t)t->p[i].a << 32) | t->p[i].b;
            size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
            while (s[j]) j = (j + 1) & (cap - 1);
            s[j] = (uint32_t)i + 1;
        }
        free(t->slot);
        t->slot = s;
        t->mask = cap - 1;
    }
    if (t->n == t->cap) {
        size_t c = t->cap ? 2 * t->cap : 65536;
        pair_t *np = realloc(t->p, c * sizeof *np);
        if (!np) { t->oom = 1; return UINT32_MAX; }
        t->p = np;
        t->cap = c;
    }
    uint64_t key = ((uint64_t)a << 32) | b;
    size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & t->mask;
    while (t->slot[j]) j = (j + 1) & t->mask;
    t->slot[j] = (uint32_t)t->n + 1;
    t->p[t->n] = (pair_t){a, b, 0, NULL, 0, 0, UINT32_MAX};
    return (uint32_t)t->n++;
}

static void pair_add_word(pair_table *t, pair_t *p, uint32_t w) {
    if (p->nw && p->w[p->nw - 1] == w) return;
    if (p->nw == p->cw) {
        uint32_t c = p->cw ? 2 * p->cw : 4;
        uint32_t *nw = realloc(p->w, c * sizeof *nw);
        if (!nw) { t->oom = 1; return; }
        p->w = nw;
        p->cw = c;
    }
    p->w[p->nw++] = w;
}

/* Pairs whose count rose during one merge step, to be queued once the step is done. */
typedef struct {
    uint32_t *idx;
    size_t n, cap;
} touched_list;

/* cnt occurrences of pair (l0, r0) in word w become (l1, r1): the old pair's count drops, the new
   pair's rises and lists w, and a pair first raised in this merge step is remembered in tl.
   Returns 0, or -1 when out of memory (t->oom set). */
static int move_pair(pair_table *t, uint32_t l0, uint32_t r0, uint32_t l1, uint32_t r1, int64_t cnt,
                     uint32_t w, uint32_t step, touched_list *tl) {
    uint32_t q1 = pt_find(t, l0, r0);
    LMS_ASSERT(q1 != UINT32_MAX);
    t->p[q1].count -= cnt;
    uint32_t q2 = pt_get(t, l1, r1);
    if (q2 == UINT32_MAX) return -1;
    t->p[q2].count += cnt;
    pair_add_word(t, &t->p[q2], w);
    if (t->p[q2].pushed != step) {
        t->p[q2].pushed = step;
        if (tl->n == tl->cap) {
            size_t c = tl->cap ? 2 * tl->cap : 1024;
            uint32_t *ni = realloc(tl->idx, c * sizeof *ni);
            if (!ni) { t->oom = 1; return -1; }
            tl->idx = ni;
            tl->cap = c;
        }
        tl->idx[tl->n++] = q2;
    }
    return t->oom ? -1 : 0;
}

/* max-heap of (count, pair index); ties: smaller (a, b) first */
typedef struct {
    int64_t count;
    uint32_t pair;
} qent;

typedef struct {
    qent *e;
    size_t n, cap;
    const pair_table *pt;
} pqueue;

static int q_before(const pqueue *q, qent x, qent y) {
    if (x.count != y.count) return x.count > y.count;
    const pair_t *a = &q->pt->p[x.pair], *b = &q->pt->p[y.pair];
    if (a->a != b->a) return a->a < b->a;
    return a->b < b->b;
}

static int q_push(pqueue *q, qent x) {
    if (q->n == q->cap) {
        size_t c = q->cap ? 2 * q->cap : 65536;
        qent *e = realloc(q->e, c * sizeof *e);
        if (!e) return 0;
        q->e = e;
        q->cap = c;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t par = (i - 1) / 2;
        if (!q_before(q, x, q->e[par])) break;
        q->e[i] = q->e[par];
        i = par;
    }
    q->e[i] = x;
    return 1;
}

static qent q_pop(pqueue *q) {
    qent top = q->e[0], x = q->e[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && q_before(q, q->e[c + 1], q->e[c])) c++;
        if (!q_before(q, q->e[c], x)) break;
        q->e[i] = q->e[c];
        i = c;
    }
    if (q->n) q->e[i] = x;
    return top;
}

/* ---- the trainer ---- */

static const char k_eot[] = LMS_TOKENIZER_EOT_TEXT;

static int cmp_words(const void *x, const void *y, void *arena) {
    const wc_ent *a = x, *b = y;
    const unsigned char *ar = arena;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(ar + a->off, ar + b->off, n);
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Step 1 in batches: per-thread word -> count tables that texts are added to, a batch at a time,
 * then summed. Counts are sums, so the result does not depend on how the texts are batched. */
typedef struct {
    wc_table *tabs; /* [nt] */
    int nt;
} word_counts;

static lms_status wcs_init(word_counts *k, int nt, lms_err *err) {
    k->nt = nt;
    k->tabs = calloc((size_t)nt, sizeof *k->tabs);
    int oom = !k->tabs;
    for (int i = 0; i < nt && !oom; i++) oom |= !wc_init(&k->tabs[i], 1 << 16);
    return oom ? lms_errf(err, LMS_ERR_NOMEM, "out of memory") : LMS_OK;
}

static void wcs_free(word_counts *k) {
    for (int i = 0; k->tabs && i < k->nt; i++) wc_free(&k->tabs[i]);
    free(k->tabs);
    memset(k, 0, sizeof *k);
}

/* Count the words of n texts: cut into ~1 MB chunks, pre-tokenised in parallel. */
static lms_status wcs_add(word_counts *k, const char *const *texts, const size_t *lens, size_t n, lms_err *err) {
    size_t nch = 0;
    for (size_t i = 0; i < n; i++) nch += make_chunks(texts[i], lens[i], 1 << 20, NULL, 0);
    chunk *ch = malloc((nch + 1) * sizeof *ch);
    if (!ch) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += make_chunks(texts[i], lens[i], 1 << 20, ch + m, nch - m);
    wc_table *tabs = k->tabs;
#pragma omp parallel for schedule(dynamic, 1) num_threads(k->nt)
    for (size_t i = 0; i < nch; i++) {
        wc_table *t = &tabs[omp_get_thread_num()];
        if (lms_tok_pretokenize(ch[i].p, ch[i].n, count_word, t, NULL)) t->oom = 1;
    }
    free(ch);
    for (int i = 0; i < k->nt; i++)
        if (tabs[i].oom) return lms_errf(err, LMS_ERR_NOMEM, "out of memory counting words for tokenizer training");
    return LMS_OK;
}

/* Sum the tables into *wt (the caller frees it with wc_free); k is freed either way. */
static lms_status wcs_sum(word_counts *k, wc_table *wt, lms_err *err) {
    wc_table *tabs = k->tabs;
    int oom = 0;
    for (int i = 1; i < k->nt && !oom; i++) {
        for (size_t j = 0; j <= tabs[i].mask && !tabs[0].oom; j++)
            if (tabs[i].e[j].count)
                wc_add(&tabs[0], tabs[i].arena + tabs[i].e[j].off, tabs[i].e[j].len, tabs[i].e[j].h, tabs[i].e[j].count);
        wc_free(&tabs[i]);
        oom |= tabs[0].oom;
    }
    if (oom || tabs[0].oom) {
        wcs_free(k);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory counting words for tokenizer training");
    }
    *wt = tabs[0];
    free(tabs);
    memset(k, 0, sizeof *k);
    return LMS_OK;
}

static lms_status check_vocab(const lms_tokenizer_train_config *c, lms_err *err) {
    if (c->vocab_size < 256 || c->vocab_size > 4294967295ull)
        return lms_errf(err, LMS_ERR_ARG, "vocabulary size %llu is out of range: it must be between 257 (256 byte tokens + <|endoftext|>) and 4294967295 (token ids are stored as uint32); 256 gives the plain byte tokenizer",
                        (unsigned long long)c->vocab_size);
    return LMS_OK;
}

static lms_status train_counted(lms_tokenizer **out, word_counts *k, const lms_tokenizer_train_config *c, double t0,
                                lms_err *err);

static int train_threads(const lms_tokenizer_train_config *c) { return c->threads > 0 ? c->threads : omp_get_max_threads(); }

lms_status lms_tokenizer_train_texts(lms_tokenizer **out, const char *const *texts, const size_t *lens,
                                     int n, const lms_tokenizer_train_config *c, lms_err *err) {
    *out = NULL;
    lms_status st = check_vocab(c, err);
    if (st) return st;
    if (c->vocab_size == 256) {
        *out = lms_tokenizer_bytes();
        return *out ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    double t0 = lms_now();
    word_counts k = {0};
    if (!(st = wcs_init(&k, train_threads(c), err))) st = wcs_add(&k, texts, lens, n > 0 ? (size_t)n : 0, err);
    if (!st) return train_counted(out, &k, c, t0, err);
    wcs_free(&k);
    return st;
}

/* Steps 2 and 3 on the counted words (k is freed). */
static lms_status train_counted(lms_tokenizer **out, word_counts *k, const lms_tokenizer_train_config *c, double t0,
                                lms_err *err) {
    wc_table wt;
    lms_status st0 = wcs_sum(k, &wt, err);
    if (st0) return st0;
    /* unique words, sorted by bytes */
    size_t nw = 0;
    for (size_t j = 0; j <= wt.mask; j++)
        if (wt.e[j].count) wt.e[nw++] = wt.e[j];
    qsort_r(wt.e, nw, sizeof *wt.e, cmp_words, wt.arena);
    double t1 = lms_now();

    /* 2. symbols of each word (words of one byte have no pairs and are left out) */
    size_t total = 0, nm = 0;
    for (size_t j = 0; j < nw; j++)
        if (wt.e[j].len > 1) total += wt.e[j].len, nm++;
    uint32_t *sym = malloc((total + 1) * sizeof *sym);
    size_t *woff = malloc((nm + 1) * sizeof *woff);
    uint32_t *wlen = malloc((nm + 1) * sizeof *wlen);
    uint64_t *wcnt = malloc((nm + 1) * sizeof *wcnt);
    uint32_t *stamp = malloc((nm + 1) * sizeof *stamp);
    uint64_t target = c->vocab_size - 1; /* tokens before <|endoftext|> */
    uint64_t max_new = target - 256;
    if (max_new > total) max_new = total; /* cannot merge more than there are symbols */
    size_t tok_cap = 256 + max_new;
    char **tok = calloc(tok_cap + 1, sizeof *tok);
    size_t *tok_len = calloc(tok_cap + 1, sizeof *tok_len);
    size_t cmerges = max_new + 16;
    uint32_t *merges = malloc(2 * cmerges * sizeof *merges);
    size_t tt_mask = 1;
    while (tt_mask < 2 * tok_cap + 2) tt_mask = 2 * tt_mask + 1;
    uint32_t *tt_slot = calloc(tt_mask + 1, sizeof *tt_slot); /* token bytes -> id + 1 */
    pair_table pt = {0};
    pqueue q = {0};
    pt.mask = (1 << 16) - 1;
    pt.slot = calloc(pt.mask + 1, sizeof *pt.slot);
    q.pt = &pt;
    lms_status st = LMS_OK;
    char bytes[256];
    if (!sym || !woff || !wlen || !wcnt || !stamp || !tok || !tok_len || !merges || !pt.slot || !tt_slot) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory preparing %zu words for tokenizer training", nm);
        goto done;
    }
    {
        size_t o = 0, wi = 0;
        for (size_t j = 0; j < nw; j++) {
            if (wt.e[j].len < 2) continue;
            woff[wi] = o;
            wlen[wi] = wt.e[j].len;
            wcnt[wi] = wt.e[j].count;
            stamp[wi] = UINT32_MAX;
            for (uint32_t i = 0; i < wt.e[j].len; i++) sym[o++] = wt.arena[wt.e[j].off + i];
            wi++;
        }
    }
    wc_free(&wt);
    for (int b = 0; b < 256; b++) {
        bytes[b] = (char)b;
        tok[b] = &bytes[b];
        tok_len[b] = 1;
        size_t ti = (size_t)lms_tok_hash_bytes(&bytes[b], 1) & tt_mask;
        while (tt_slot[ti]) ti = (ti + 1) & tt_mask;
        tt_slot[ti] = (uint32_t)b + 1;
    }
    for (size_t w = 0; w < nm && !pt.oom; w++) {
        const uint32_t *s = sym + woff[w];
        for (uint32_t i = 0; i + 1 < wlen[w]; i++) {
            uint32_t p = pt_get(&pt, s[i], s[i + 1]);
            if (p == UINT32_MAX) break;
            pt.p[p].count += (int64_t)wcnt[w];
            pair_add_word(&pt, &pt.p[p], (uint32_t)w);
        }
    }
    for (size_t p = 0; p < pt.n && !pt.oom; p++)
        if (!q_push(&q, (qent){pt.p[p].count, (uint32_t)p})) pt.oom = 1;
    if (pt.oom) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory counting pairs for tokenizer training");
        goto done;
    }

    /* 3. merge */
    size_t ntok = 256, nmerge = 0;
    touched_list tl = {0};
    while (ntok < 256 + max_new && q.n) {
        qent top = q_pop(&q);
        pair_t *P = &pt.p[top.pair];
        if (P->count <= 0) continue;
        if (top.count != P->count) { /* stale: requeue with the current count */
            if (!q_push(&q, (qent){P->count, top.pair})) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); break; }
            continue;
        }
        uint32_t a = P->a, b = P->b, pidx = top.pair;
        /* the new token: reuse an existing id if these bytes already are a token */
        size_t la = tok_len[a], lb = tok_len[b];
        char *nb = malloc(la + lb);
        if (!nb) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); break; }
        memcpy(nb, tok[a], la);
        memcpy(nb + la, tok[b], lb);
        uint64_t th = lms_tok_hash_bytes(nb, la + lb);
        size_t ti = (size_t)th & tt_mask;
        uint32_t m = UINT32_MAX;
        for (; tt_slot[ti]; ti = (ti + 1) & tt_mask) {
            uint32_t id = tt_slot[ti] - 1;
            if (tok_len[id] == la + lb && memcmp(tok[id], nb, la + lb) == 0) { m = id; break; }
        }
        if (m == UINT32_MAX) { /* a new token */
            m = (uint32_t)ntok;
            tok[ntok] = nb;
            tok_len[ntok] = la + lb;
            tt_slot[ti] = m + 1;
            ntok++;
        } else { /* the same bytes were already reached by another pair: reuse the id */
            free(nb);
        }
        if (nmerge == cmerges) {
            cmerges *= 2;
            uint32_t *nmg = realloc(merges, 2 * cmerges * sizeof *nmg);
            if (!nmg) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); break; }
            merges = nmg;
        }
        merges[2 * nmerge] = a;
        merges[2 * nmerge + 1] = b;
        uint32_t step = (uint32_t)nmerge++;
        tl.n = 0;
        /* rewrite every word that contains (a, b) */
        uint32_t nwl = P->nw;
        uint32_t *wl = P->w;
        P->w = NULL;
        P->nw = P->cw = 0;
        for (uint32_t k2 = 0; k2 < nwl && !pt.oom; k2++) {
            uint32_t w = wl[k2];
            if (stamp[w] == step) continue;
            stamp[w] = step;
            uint32_t *s = sym + woff[w];
            uint32_t n0 = wlen[w], i = 0, j = 0;
            int64_t cnt = (int64_t)wcnt[w];
            while (i < n0) {
                if (i + 1 < n0 && s[i] == a && s[i + 1] == b) {
                    /* (prev, a) -> (prev, m) and (b, next) -> (m, next) */
                    if (j > 0 && move_pair(&pt, s[j - 1], a, s[j - 1], m, cnt, w, step, &tl)) break;
                    if (i + 2 < n0 && move_pair(&pt, b, s[i + 2], m, s[i + 2], cnt, w, step, &tl)) break;
                    s[j++] = m;
                    i += 2;
                } else {
                    s[j++] = s[i++];
                }
            }
            if (pt.oom) break;
            LMS_ASSERT(i == n0);
            wlen[w] = j;
        }
        free(wl);
        if (pt.oom) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory during tokenizer training"); break; }
        pt.p[pidx].count = 0; /* every occurrence is gone (pt.p may have moved: index again) */
        for (size_t t2 = 0; t2 < tl.n; t2++) {
            pair_t *T = &pt.p[tl.idx[t2]];
            if (T->count > 0 && !q_push(&q, (qent){T->count, tl.idx[t2]})) {
                st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (st) break;
    }
    free(tl.idx);
    if (!st) {
        tok[ntok] = (char *)k_eot;
        tok_len[ntok] = strlen(LMS_TOKENIZER_EOT_TEXT);
        st = lms_tok_build(out, (uint32_t)ntok + 1, (const char *const *)tok, tok_len, (uint32_t)nmerge, merges,
                           "training", err);
        lms_log(LMS_LOG_DEBUG, "tokenizer training: %zu unique words counted in %.2fs, %zu merges in %.2fs",
                nw, t1 - t0, nmerge, lms_now() - t1);
        if (!st && ntok + 1 < c->vocab_size)
            lms_log(LMS_LOG_WARN, "tokenizer training stopped at %zu tokens (asked for %llu): the text has no more pairs to merge (every word is a single token)",
                    ntok + 1, (unsigned long long)c->vocab_size);
    }
    for (size_t i = 256; i < tok_cap + 1 && tok; i++)
        if (tok[i] && tok[i] != k_eot) free(tok[i]);
done:
    wc_free(&wt);
    for (size_t p = 0; p < pt.n; p++) free(pt.p[p].w);
    free(pt.p);
    free(pt.slot);
    free(q.e);
    free(sym);
    free(woff);
    free(wlen);
    free(wcnt);
    free(stamp);
    free(tok);
    free(tok_len);
    free(merges);
    free(tt_slot);
    return st;
}

/* Texts waiting to be counted: whole .txt files, each in its own buffer, and JSON Lines documents
 * copied back to back into one; counted together (in parallel over all their chunks) once about
 * `max` bytes wait (64 MiB by default), so many small files still keep every thread busy. */

typedef struct {
    word_counts *k;
    char *arena;          /* documents' texts, back to back */
    size_t an, acap;
    char **files;         /* [nf] whole files read (owned) */
    size_t nf, fcap;
    const char **src;     /* [nt] a file's buffer, or NULL for the arena */
    size_t *off, *len;    /* [nt] each text in its buffer */
    const char **ptr;     /* [nt] filled when the batch is counted */
    size_t nt, tcap;
    size_t bytes;         /* text waiting */
    size_t max;           /* count once this much waits */
} text_batch;

static lms_status batch_count(text_batch *b, lms_err *err) {
    lms_status st = LMS_OK;
    if (b->nt) {
        for (size_t i = 0; i < b->nt; i++) b->ptr[i] = (b->src[i] ? b->src[i] : b->arena) + b->off[i];
        st = wcs_add(b->k, b->ptr, b->len, b->nt, err);
    }
    for (size_t i = 0; i < b->nf; i++) free(b->files[i]);
    b->nf = b->nt = b->an = b->bytes = 0;
    return st;
}

static void batch_free(text_batch *b) {
    for (size_t i = 0; i < b->nf; i++) free(b->files[i]);
    free(b->files);
    free(b->arena);
    free(b->src);
    free(b->off);
    free(b->len);
    free(b->ptr);
    memset(b, 0, sizeof *b);
}

static lms_status batch_push(text_batch *b, const char *src, size_t off, size_t len, lms_err *err) {
    if (b->nt == b->tcap) {
        size_t cap = b->tcap ? 2 * b->tcap : 1024;
        const char **ns = realloc(b->src, cap * sizeof *ns);
        if (ns) b->src = ns;
        size_t *no = ns ? realloc(b->off, cap * sizeof *no) : NULL;
        if (no) b->off = no;
        size_t *nl = no ? realloc(b->len, cap * sizeof *nl) : NULL;
        if (nl) b->len = nl;
        const char **np = nl ? realloc(b->ptr, cap * sizeof *np) : NULL;
        if (!np) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        b->ptr = np;
        b->tcap = cap;
    }
    b->src[b->nt] = src;
    b->off[b->nt] = off;
    b->len[b->nt++] = len;
    b->bytes += len;
    return LMS_OK;
}

static lms_status batch_doc(const lms_jsonl_doc *d, void *user, lms_err *err) {
    text_batch *b = user;
    lms_status st;
    if (b->bytes && b->bytes + d->len > b->max && (st = batch_count(b, err))) return st;
    if (b->an + d->len > b->acap) {
        size_t cap = b->acap ? b->acap : (size_t)1 << 20;
        while (cap < b->an + d->len) cap *= 2;
        char *na = realloc(b->arena, cap);
        if (!na) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        b->arena = na;
        b->acap = cap;
    }
    memcpy(b->arena + b->an, d->text, d->len);
    b->an += d->len;
    return batch_push(b, NULL, b->an - d->len, d->len, err);
}

static lms_status add_jsonl(text_batch *b, const char *path, const lms_jsonl_text_opts *o, lms_err *err) {
    lms_jsonl_text_counts n;
    lms_status st = lms_jsonl_text_read(path, o, 0, batch_doc, b, &n, err);
    if (!st && n.docs == 0)
        st = lms_errf(err, LMS_ERR_ARG, "%s holds no documents (no line with text in its \"%s\" field); give files with something to learn from",
                      path, o && o->text_field ? o->text_field : "text");
    return st;
}

static lms_status add_text_file(text_batch *b, const char *path, lms_err *err) {
    char *text;
    size_t len;
    lms_status st = lms_file_read_all(path, &text, &len, err);
    if (st) return st;
    if (len == 0)
        st = lms_errf(err, LMS_ERR_ARG, "%s is empty; give text files with something to learn from", path);
    else if (memchr(text, 0, len))
        st = lms_errf(err, LMS_ERR_ARG, "%s contains NUL bytes: it looks like a binary file, not text; train on text files only", path);
    if (!st && b->nf == b->fcap) {
        size_t cap = b->fcap ? 2 * b->fcap : 16;
        char **nf = realloc(b->files, cap * sizeof *nf);
        if (nf) b->files = nf, b->fcap = cap;
        else st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    if (st) {
        free(text);
        return st;
    }
    b->files[b->nf++] = text;
    if ((st = batch_push(b, text, 0, len, err))) return st;
    return b->bytes >= b->max ? batch_count(b, err) : LMS_OK;
}

lms_status lms_tokenizer_train_files(lms_tokenizer **out, const char *const *paths, int n,
                                     const lms_tokenizer_train_config *c, lms_err *err) {
    *out = NULL;
    if (n <= 0) return lms_errf(err, LMS_ERR_ARG, "no training files given; pass one or more text files");
    double t0 = lms_now();
    word_counts k = {0};
    text_batch b = {.k = &k, .max = c->batch_bytes ? c->batch_bytes : (size_t)64 << 20};
    lms_status st = wcs_init(&k, train_threads(c), err);
    for (int i = 0; i < n && !st; i++)
        st = lms_jsonl_text_path(paths[i]) ? add_jsonl(&b, paths[i], &c->jsonl, err) : add_text_file(&b, paths[i], err);
    if (!st) st = batch_count(&b, err);
    batch_free(&b);
    if (!st) st = check_vocab(c, err);
    if (!st && c->vocab_size == 256) {
        wcs_free(&k);
        *out = lms_tokenizer_bytes();
        return *out ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    if (!st) return train_counted(out, &k, c, t0, err);
    wcs_free(&k);
    return st;
}
