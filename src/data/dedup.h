/* dedup.h — exact and near-duplicate documents ('lmscope data dedup'). Reports only; never
 * rewrites a corpus.
 *
 * Normalisation: ASCII letters lower-cased, every byte that is not an ASCII letter/digit and not
 * part of a multi-byte UTF-8 character becomes a space, runs of spaces collapse, ends trimmed.
 * Exact duplicates: documents whose normalised text is identical (64-bit hash, then compared
 * byte for byte). Near duplicates: shingles are the word 5-grams of the normalised text (a
 * document of fewer than 5 words is one shingle); a MinHash signature of num_perm 64-bit hash
 * minima; LSH banding with b bands of r rows (b*r = num_perm, r the largest power of two whose
 * S-curve midpoint (1/b)^(1/r) is <= threshold, so recall is favoured); every candidate pair
 * sharing a band is then verified with the exact Jaccard similarity of the two shingle sets and
 * kept when it is >= threshold. Exact duplicates are collapsed to one representative before LSH.
 *
 *   lms_dedup_config dc = {.threshold = 0.8};
 *   lms_dedup_result r;
 *   if (lms_data_dedup(ds, &dc, &r, &err)) return err.code;
 *   ... r.domains[d].near_pairs, r.pairs[0..r.n_pairs) ...; lms_dedup_result_free(&r);
 */
#ifndef LMS_DATA_DEDUP_H
#define LMS_DATA_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "data/inspect.h"

typedef struct {
    double threshold;   /* Jaccard similarity for near duplicates, (0, 1]; 0 = 0.8 */
    int num_perm;       /* MinHash size, a power of two 16..1024; 0 = 128 */
    int shingle;        /* words per shingle; 0 = 5 */
    int max_examples;   /* example pairs kept per kind; 0 = 10 */
    int threads;        /* 0 = 2 */
} lms_dedup_config;

typedef struct {
    lms_doc_ref a, b;   /* a before b in corpus order */
    double jaccard;     /* exact, over shingle sets (1.0 for exact duplicates) */
    double estimate;    /* MinHash estimate (fraction of equal minima) */
} lms_dup_pair;

typedef struct {
    char name[64];
    uint64_t docs;
    uint64_t exact_dups;    /* documents identical (normalised) to an earlier one */
    uint64_t near_docs;     /* documents in >= 1 verified near pair that are not exact dups */
    uint64_t near_pairs;    /* verified near pairs with both documents in this domain */
} lms_dedup_domain;

typedef struct {
    int n_domains;
    lms_dedup_domain *domains;
    uint64_t exact_dups, exact_groups; /* over all domains */
    uint64_t near_pairs, cross_domain_pairs, candidates;
    int bands, rows;                   /* the LSH shape used */
    int truncated;                     /* 1 if candidate pairs hit the cap (some pairs missed) */
    lms_dup_pair *exact_examples;      /* up to max_examples exact pairs (first doc, later doc) */
    int n_exact_examples;
    lms_dup_pair *pairs;               /* up to max_examples near pairs, highest Jaccard first */
    int n_pairs;
} lms_dedup_result;

/* Run on every document of a docset that has text (LMS_ERR_UNSUPPORTED otherwise). */
lms_status lms_data_dedup(const lms_docset *ds, const lms_dedup_config *c, lms_dedup_result *out, lms_err *err);
void lms_dedup_result_free(lms_dedup_result *r);

#endif
