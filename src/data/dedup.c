/* dedup.c — exact duplicates by normalised-text hash, near duplicates by MinHash + LSH banding
 * with exact-Jaccard verification. See dedup.h for the method. Reports only.
 * Leaves out: clustering near-duplicate groups (pairs are reported), fuzzy matching inside
 * documents (a short quote inside a long chapter is not a near duplicate of it). */
#include "data/dedup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/prepare.h"

#define CANDIDATE_CAP 10000000u

typedef struct {
    char *norm;       /* normalised text */
    size_t nlen;
    uint64_t h;       /* hash of norm */
    uint64_t *sh;     /* sorted unique shingle hashes */
    size_t nsh;
    int d;
    size_t i;
} ddoc;


static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Normalise t[0..n) into a new buffer (see dedup.h). */
static char *normalise(const char *t, size_t n, size_t *out_len) {
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t k = 0;
    int space = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        int keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
        if (keep) {
            o[k++] = (char)c;
            space = 0;
        } else if (!space) {
            o[k++] = ' ';
            space = 1;
        }
    }
    if (k && o[k - 1] == ' ') k--;
    o[k] = 0;
    *out_len = k;
    return o;
}

/* Shingles: hashes of every run of `w` consecutive words; one shingle for shorter texts. */
static int shingles(ddoc *dd, int w) {
    size_t nw = 0, cap = 64;
    size_t *starts = malloc(cap * sizeof *starts);
    if (!starts) return -1;
    for (size_t i = 0; i < dd->nlen; i++)
        if (i == 0 || dd->norm[i - 1] == ' ') {
            if (nw == cap) {
                cap *= 2;
                size_t *ns = realloc(starts, cap * sizeof *ns);
                if (!ns) { free(starts); return -1; }
                starts = ns;
            }
            starts[nw++] = i;
        }
    size_t nsh = nw == 0 ? 0 : nw < (size_t)w ? 1 : nw - (size_t)w + 1;
    dd->sh = malloc((nsh ? nsh : 1) * sizeof *dd->sh);
    if (!dd->sh) { free(starts); return -1; }
    for (size_t j = 0; j < nsh; j++) {
        size_t a = starts[j], e = j + (size_t)w < nw ? starts[j + (size_t)w] - 1 : dd->nlen;
        dd->sh[j] = lms_data_hash64(dd->norm + a, e - a);
    }
    free(starts);
    qsort(dd->sh, nsh, sizeof *dd->sh, cmp_u64);
    size_t u = 0;
    for (size_t j = 0; j < nsh; j++)
        if (u == 0 || dd->sh[u - 1] != dd->sh[j]) dd->sh[u++] = dd->sh[j];
    dd->nsh = u;
    return 0;
}

static double jaccard(const ddoc *a, const ddoc *b) {
    size_t i = 0, j = 0, inter = 0;
    while (i < a->nsh && j < b->nsh) {
        if (a->sh[i] == b->sh[j]) { inter++; i++; j++; }
        else if (a->sh[i] < b->sh[j]) i++;
        else j++;
    }
    size_t uni = a->nsh + b->nsh - inter;
    return uni ? (double)inter / (double)uni : 1.0;
}

typedef struct {
    uint64_t key;
    uint32_t g;
} bent;

static int cmp_bent(const void *a, const void *b) {
    const bent *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->g < y->g ? -1 : x->g > y->g;
}

typedef struct {
    uint64_t h;
    uint32_t g;
} hent;

static int cmp_hent(const void *a, const void *b) {
    const hent *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->g < y->g ? -1 : x->g > y->g;
}

static int cmp_pair(const void *a, const void *b) {
    const lms_dup_pair *x = a, *y = b;
    if (x->jaccard != y->jaccard) return x->jaccard > y->jaccard ? -1 : 1;
    if (x->a.domain != y->a.domain) return x->a.domain - y->a.domain;
    if (x->a.doc != y->a.doc) return x->a.doc < y->a.doc ? -1 : 1;
    if (x->b.domain != y->b.domain) return x->b.domain - y->b.domain;
    return x->b.doc < y->b.doc ? -1 : x->b.doc > y->b.doc;
}

void lms_dedup_result_free(lms_dedup_result *r) {
    if (!r) return;
    free(r->domains);
    free(r->pairs);
    free(r->exact_examples);
    memset(r, 0, sizeof *r);
}

lms_status lms_data_dedup(const lms_docset *ds, const lms_dedup_config *cin, lms_dedup_result *out, lms_err *err) {
    memset(out, 0, sizeof *out);
    lms_dedup_config c = *cin;
    if (c.threshold == 0) c.threshold = 0.8;
    if (c.num_perm == 0) c.num_perm = 128;
    if (c.shingle == 0) c.shingle = 5;
    if (c.max_examples == 0) c.max_examples = 10;
    if (c.threads <= 0) c.threads = 2;
    if (!(c.threshold > 0 && c.threshold <= 1))
        return lms_errf(err, LMS_ERR_ARG, "dedup: --threshold must be in (0, 1], got %g", c.threshold);
    if (c.num_perm < 16 || c.num_perm > 1024 || (c.num_perm & (c.num_perm - 1)))
        return lms_errf(err, LMS_ERR_ARG, "dedup: the MinHash size must be a power of two in 16..1024, got %d", c.num_perm);
    if (c.shingle < 1 || c.shingle > 64) return lms_errf(err, LMS_ERR_ARG, "dedup: shingle size must be 1..64, got %d", c.shingle);
    if (!lms_docset_has_text(ds))
        return lms_errf(err, LMS_ERR_UNSUPPORTED, "dedup needs text: pass the tokenizer the shards were made with (--tokenizer)");
    const int K = c.num_perm;
    /* LSH shape: the largest r (power of two) with (1/b)^(1/r) <= threshold. */
    int r = 1;
    for (int rr = 1; rr <= K; rr *= 2) {
        double b = (double)(K / rr);
        if (pow(1.0 / b, 1.0 / rr) <= c.threshold) r = rr;
    }
    int B = K / r;
    out->bands = B;
    out->rows = r;

    int nd = lms_docset_num_domains(ds);
    size_t N = 0;
    for (int d = 0; d < nd; d++) N += lms_docset_num_docs(ds, d);
    if (N >= 0xffffffffu) return lms_errf(err, LMS_ERR_ARG, "dedup: too many documents (%zu)", N);
    out->n_domains = nd;
    out->domains = calloc((size_t)(nd > 0 ? nd : 1), sizeof *out->domains);
    ddoc *docs = calloc(N ? N : 1, sizeof *docs);
    uint32_t *sig = malloc((N ? N : 1) * (size_t)K * sizeof *sig);
    uint64_t *salt = malloc((size_t)K * sizeof *salt);
    unsigned char *is_dup = calloc(N ? N : 1, 1), *is_near = calloc(N ? N : 1, 1);
    hent *hs = malloc((N ? N : 1) * sizeof *hs);
    bent *be = malloc((N ? N : 1) * sizeof *be);
    uint64_t *cand = NULL;
    lms_dup_pair *kept = NULL;
    lms_status st = LMS_OK;
    if (!out->domains || !docs || !sig || !salt || !is_dup || !is_near || !hs || !be) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory in dedup (%zu documents)", N);
        goto done;
    }
    for (int p = 0; p < K; p++) salt[p] = lms_mix64(0x243f6a8885a308d3ull + (uint64_t)p * 0x9e3779b97f4a7c15ull);
    {
        size_t g = 0;
        for (int d = 0; d < nd; d++) {
            snprintf(out->domains[d].name, sizeof out->domains[d].name, "%s", lms_docset_domain(ds, d));
            out->domains[d].docs = lms_docset_num_docs(ds, d);
            for (size_t i = 0; i < lms_docset_num_docs(ds, d); i++, g++) {
                docs[g].d = d;
                docs[g].i = i;
            }
        }
    }
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 8) num_threads(c.threads) reduction(| : failed)
    for (size_t g = 0; g < N; g++) {
        ddoc *dd = &docs[g];
        size_t len;
        const char *t = lms_docset_text(ds, dd->d, dd->i, &len);
        dd->norm = normalise(t, len, &dd->nlen);
        if (!dd->norm || shingles(dd, c.shingle)) { failed = 1; continue; }
        dd->h = lms_data_hash64(dd->norm, dd->nlen);
        uint32_t *s = sig + g * (size_t)K;
        for (int p = 0; p < K; p++) s[p] = UINT32_MAX;
        for (size_t j = 0; j < dd->nsh; j++)
            for (int p = 0; p < K; p++) {
                uint32_t v = (uint32_t)(lms_mix64(dd->sh[j] ^ salt[p]) >> 32);
                if (v < s[p]) s[p] = v;
            }
    }
    if (failed) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory in dedup"); goto done; }

    /* Exact duplicates. */
    for (size_t g = 0; g < N; g++) hs[g] = (hent){docs[g].h, (uint32_t)g};
    qsort(hs, N, sizeof *hs, cmp_hent);
    out->exact_examples = calloc((size_t)c.max_examples, sizeof *out->exact_examples);
    if (!out->exact_examples) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); goto done; }
    for (size_t a = 0; a < N;) {
        size_t b = a + 1;
        while (b < N && hs[b].h == hs[a].h) b++;
        for (size_t j = a + 1; j < b; j++) {
            const ddoc *x = &docs[hs[j].g];
            for (size_t k = a; k < j; k++) {
                const ddoc *y = &docs[hs[k].g];
                if (is_dup[hs[k].g] || y->nlen != x->nlen || memcmp(y->norm, x->norm, x->nlen)) continue;
                is_dup[hs[j].g] = 1;
                if (is_near[hs[k].g] == 0) out->exact_groups++; /* is_near doubles as "has a copy" here */
                is_near[hs[k].g] = 1;
                out->exact_dups++;
                out->domains[x->d].exact_dups++;
                if (out->n_exact_examples < c.max_examples)
                    out->exact_examples[out->n_exact_examples++] =
                        (lms_dup_pair){{y->d, y->i}, {x->d, x->i}, 1.0, 1.0};
                break;
            }
        }
        a = b;
    }

    memset(is_near, 0, N ? N : 1);
    /* LSH banding over representatives (documents with at least one shingle). */
    size_t ncand = 0, capc = 0;
    for (int band = 0; band < B && !out->truncated; band++) {
        size_t ne = 0;
        for (size_t g = 0; g < N; g++) {
            if (is_dup[g] || docs[g].nsh == 0) continue;
            be[ne++] = (bent){lms_data_hash64(sig + g * (size_t)K + (size_t)band * (size_t)r, (size_t)r * sizeof *sig) ^
                                  lms_mix64((uint64_t)band + 1),
                              (uint32_t)g};
        }
        qsort(be, ne, sizeof *be, cmp_bent);
        for (size_t a = 0; a < ne && !out->truncated;) {
            size_t b = a + 1;
            while (b < ne && be[b].key == be[a].key) b++;
            for (size_t x = a; x < b && !out->truncated; x++)
                for (size_t y = x + 1; y < b; y++) {
                    if (ncand == capc) {
                        if (capc >= CANDIDATE_CAP) { out->truncated = 1; break; }
                        capc = capc ? capc * 2 : 4096;
                        uint64_t *nc = realloc(cand, capc * sizeof *nc);
                        if (!nc) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory (LSH candidates)"); goto done; }
                        cand = nc;
                    }
                    cand[ncand++] = (uint64_t)be[x].g << 32 | be[y].g;
                }
            a = b;
        }
        /* Keep the list unique as it grows. */
        if (ncand > 1) qsort(cand, ncand, sizeof *cand, cmp_u64);
        size_t u = 0;
        for (size_t k = 0; k < ncand; k++)
            if (u == 0 || cand[u - 1] != cand[k]) cand[u++] = cand[k];
        ncand = u;
    }
    out->candidates = ncand;
    kept = malloc((ncand ? ncand : 1) * sizeof *kept);
    unsigned char *ok = calloc(ncand ? ncand : 1, 1);
    if (!kept || !ok) { free(ok); st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); goto done; }
#pragma omp parallel for schedule(dynamic, 64) num_threads(c.threads)
    for (size_t k = 0; k < ncand; k++) {
        uint32_t ga = (uint32_t)(cand[k] >> 32), gb = (uint32_t)cand[k];
        double j = jaccard(&docs[ga], &docs[gb]);
        if (j >= c.threshold) {
            int eq = 0;
            const uint32_t *sa = sig + (size_t)ga * (size_t)K, *sb = sig + (size_t)gb * (size_t)K;
            for (int p = 0; p < K; p++) eq += sa[p] == sb[p];
            kept[k] = (lms_dup_pair){{docs[ga].d, docs[ga].i}, {docs[gb].d, docs[gb].i}, j, (double)eq / K};
            ok[k] = 1;
        }
    }
    size_t nk = 0;
    for (size_t k = 0; k < ncand; k++) {
        if (!ok[k]) continue;
        uint32_t ga = (uint32_t)(cand[k] >> 32), gb = (uint32_t)cand[k];
        kept[nk++] = kept[k];
        is_near[ga] = is_near[gb] = 1;
        out->near_pairs++;
        if (docs[ga].d == docs[gb].d) out->domains[docs[ga].d].near_pairs++;
        else out->cross_domain_pairs++;
    }
    free(ok);
    for (size_t g = 0; g < N; g++)
        if (is_near[g]) out->domains[docs[g].d].near_docs++;
    qsort(kept, nk, sizeof *kept, cmp_pair);
    out->n_pairs = (int)(nk < (size_t)c.max_examples ? nk : (size_t)c.max_examples);
    out->pairs = malloc((size_t)(out->n_pairs ? out->n_pairs : 1) * sizeof *out->pairs);
    if (!out->pairs) { st = lms_errf(err, LMS_ERR_NOMEM, "out of memory"); goto done; }
    memcpy(out->pairs, kept, (size_t)out->n_pairs * sizeof *kept);
done:
    if (docs)
        for (size_t g = 0; g < N; g++) {
            free(docs[g].norm);
            free(docs[g].sh);
        }
    free(docs);
    free(sig);
    free(salt);
    free(is_dup);
    free(is_near);
    free(hs);
    free(be);
    free(cand);
    free(kept);
    if (st) lms_dedup_result_free(out);
    return st;
}
