/* fuzz_suite.c — libFuzzer target for the probe-suite reader (src/eval/suite.c).
 *
 * Input: one byte choosing the form (even: JSON Lines, odd: Inverse Scaling Prize CSV), then the
 * file's bytes. Every item the reader returns must satisfy the contract of suite.h (kinds, choice
 * counts, answer in range, non-empty NUL-free strings of the stated lengths, increasing lines);
 * a failure must carry a "name:line: ..." message and stay failed. The Python list-literal parser
 * is also run on the raw bytes. Anything else is a crash for the fuzzer to report.
 *   make fuzz && build-fuzz/fuzz_suite -max_total_time=600 build-fuzz/corpus-fuzz_suite tests/fuzz/seeds/fuzz_suite
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval/suite.h"

static void check_str(const char *s, size_t n, int nonempty) {
    LMS_ASSERT(s != NULL);
    LMS_ASSERT(strlen(s) == n);
    if (nonempty) LMS_ASSERT(n > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    lms_suite_format fmt = (data[0] & 1) ? LMS_SUITE_CSV : LMS_SUITE_JSONL;
    lms_suite *s = NULL;
    lms_err err = {0};
    lms_status st = lms_suite_open_mem(&s, data + 1, size - 1, fmt, "fuzz.x", &err);
    if (st != LMS_OK) {
        LMS_ASSERT(s == NULL && err.msg[0] && !strncmp(err.msg, "fuzz.x", 6));
    } else {
        int64_t last = 0;
        for (int k = 0; k < 100000; k++) {
            const lms_suite_item *it = NULL;
            lms_err e = {0};
            st = lms_suite_next(s, &it, &e);
            if (st != LMS_OK) {
                LMS_ASSERT(it == NULL && !strncmp(e.msg, "fuzz.x:", 7));
                lms_err e2 = {0};
                LMS_ASSERT(lms_suite_next(s, &it, &e2) == st && it == NULL); /* sticky */
                break;
            }
            if (!it) break;
            LMS_ASSERT(it->line > last);
            last = it->line;
            check_str(it->context, it->context_len, 0);
            if (it->kind == LMS_ITEM_MC) {
                LMS_ASSERT(it->n_choices >= 2 && it->n_choices <= LMS_SUITE_MAX_CHOICES);
                LMS_ASSERT(it->answer >= 0 && it->answer < it->n_choices);
                LMS_ASSERT(it->target == NULL);
                for (int i = 0; i < it->n_choices; i++) check_str(it->choices[i], it->choice_len[i], 1);
            } else {
                LMS_ASSERT(it->kind == LMS_ITEM_GEN || it->kind == LMS_ITEM_SEQ);
                LMS_ASSERT(it->n_choices == 0 && it->answer == -1);
                check_str(it->target, it->target_len, 1);
            }
            if (it->meta) LMS_ASSERT(it->meta[0] == '{');
        }
        lms_suite_close(s);
    }
    char **v;
    size_t *l;
    int n;
    lms_err e3 = {0};
    if (lms_suite_parse_pylist((const char *)data + 1, size - 1, &v, &l, &n, &e3) == LMS_OK) {
        LMS_ASSERT(n >= 0 && n <= LMS_SUITE_MAX_CHOICES);
        for (int i = 0; i < n; i++) LMS_ASSERT(strlen(v[i]) == l[i]);
        lms_suite_free_strings(v, l, n);
    } else {
        LMS_ASSERT(e3.msg[0]);
    }
    return 0;
}
