/* synth.h — controlled tasks for the laboratory ('lmscope data synth'): training text whose
 * difficulty is matched to laptop compute, and probe suites on held-out items, reproducible by seed.
 *
 * Natural-text abilities appear only far above the ~1e14 FLOPs a laptop spends; the research on
 * small models studies the same phenomena on controlled tasks. Three are written here, each as a
 * corpus domain (mixed into training by --mix weight; the natural corpus stays the default) and
 * suites (docs/formats.md "Probe suites"):
 *
 *   synth_addition  "3 4 7 + 8 9 = 4 3 6" — multi-digit addition, digits written apart so that
 *                   each digit is its own token. Operands of 1-5 digits in training. Suites
 *                   add-Nd (N = 2..5, both operands N digits; gen: exact match of the whole answer,
 *                   the answer's log-prob, token edit distance) and add-Nd-digits (the same items as
 *                   seq: per-digit top-1 accuracy with the true earlier digits given). Exact match
 *                   needs every digit right, so it can jump where per-digit accuracy and log-prob
 *                   improve smoothly (the "mirage", Schaeffer et al. 2023).
 *   synth_copy      "copy: W1 ... Wk ; again: W1 ... Wk" on random pseudo-words (two syllables of
 *                   70, 4900 words): the second copy is predictable only by copying from the
 *                   context (induction). Suites copy-first (seq: the first copy after "copy:"),
 *                   copy-second (seq: the same strings as the second copy) and copy-second-exact
 *                   (gen: greedy exact match of the whole second copy); the in-context gain is
 *                   logp(second) - logp(first) per token, which word frequency cannot explain.
 *   synth_chants    "chant: C1 ... C8": 32 fixed pseudo-word sequences, each seen very often in
 *                   training (memorised). Suite copy-altered (mc, chance 1/2): copy a chant with one
 *                   word changed; the choices are the changed word (right: copying) and the chant's
 *                   own word (memorisation). The controlled analogue of the Inverse Scaling Prize's
 *                   memo-trap / quote repetition: a model that memorises before it copies gets worse
 *                   before it gets better (inverse or U-shaped).
 *
 * Held-out items are disjoint from training by construction: an item (an addition's operand pair,
 * a copy string, an altered chant) is held out when a seeded hash of it falls in the lowest tenth;
 * training text draws only items outside it, suites only items inside it.
 *
 *   lms_synth_config c = lms_synth_defaults();
 *   if (lms_synth_write("synth/corpus", "synth/suites", &c, &err)) return fail(err);
 *
 * Leaves out: tokenizing (data prepare), training, scoring (eval/evaluate.h).
 */
#ifndef LMS_DATA_SYNTH_H
#define LMS_DATA_SYNTH_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    uint64_t seed;          /* everything follows from it */
    int64_t add_problems;   /* addition lines in synth_addition.txt (>= 0) */
    int64_t copy_lines;     /* copy lines in synth_copy.txt (>= 0) */
    int64_t chant_lines;    /* chant lines in synth_chants.txt (>= 0) */
    int items;              /* items per suite, 10..500 (2-digit addition holds out ~810 pairs) */
    int lines_per_doc;      /* lines per document (documents are separated by <|endoftext|>) */
    int add_reversed;       /* 1: the sum is written least significant digit first */
} lms_synth_config;

/* seed 1, 120000 additions, 40000 copy lines, 15000 chant lines, 200 items, 20 lines a document. */
lms_synth_config lms_synth_defaults(void);

/* Write the three domain files into corpus_dir and the suites (add-2d ... add-5d, add-2d-digits ...
   add-5d-digits, copy-first, copy-second, copy-second-exact, copy-altered; .jsonl) into suites_dir, creating both
   directories. Each file is written to a temporary and renamed. A domain with 0 lines is not
   written. LMS_ERR_ARG for a config out of range, LMS_ERR_IO. */
lms_status lms_synth_write(const char *corpus_dir, const char *suites_dir, const lms_synth_config *c, lms_err *err);

/* The number of suites lms_synth_write writes, and the name of the i-th (no extension). */
int lms_synth_n_suites(void);
const char *lms_synth_suite_name(int i);

#endif
