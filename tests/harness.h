/* harness.h — a tiny test harness: a table of test functions, CHECK macros that count and
 * report failures with file:line, and a main that runs them and prints
 * "prog: N passed, M failed, K skipped".
 *
 *   static void test_rng(void) { CHECK(lms_rng_u64(&r) != 0); CHECK_NEAR(x, 1.0, 1e-6); }
 *   static void test_bf16(void) { if (!lms_ops_bf16()) SKIP("%s", lms_ops_bf16_unavailable()); ... }
 *   TESTS(test_rng, test_other)
 *
 * A test "passes" when it records no failed check and did not SKIP; a test that SKIPs (it could
 * not run here: a missing CPU feature, device or tool) is counted apart, with its reason printed
 * on a line "SKIPPED: test: reason" that tools/run_tests.sh gathers into the run's summary. A
 * failed check before the SKIP still fails the test. Each test binary exits 1 if any failed.
 */
#ifndef LMS_TESTS_HARNESS_H
#define LMS_TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int th_failed_checks;
static const char *th_current;
static int th_skipped; /* set by SKIP in the current test */

/* Leave the current test as skipped, saying why (printf-style). Only in the test function itself. */
#define SKIP(...)                                                                                \
    do {                                                                                         \
        th_skipped = 1;                                                                          \
        printf("SKIPPED: %s: ", th_current);                                                     \
        printf(__VA_ARGS__);                                                                     \
        printf("\n");                                                                            \
        return;                                                                                  \
    } while (0)

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            th_failed_checks++;                                                                  \
            fprintf(stderr, "  FAIL %s (%s:%d): %s\n", th_current, __FILE__, __LINE__, #cond);   \
        }                                                                                        \
    } while (0)

#define CHECKF(cond, ...)                                                                        \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            th_failed_checks++;                                                                  \
            fprintf(stderr, "  FAIL %s (%s:%d): %s: ", th_current, __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fprintf(stderr, "\n");                                                               \
        }                                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                    \
    do {                                                                                         \
        double th_a = (double)(a), th_b = (double)(b);                                           \
        if (!(fabs(th_a - th_b) <= (tol))) {                                                     \
            th_failed_checks++;                                                                  \
            fprintf(stderr, "  FAIL %s (%s:%d): %s = %.9g, %s = %.9g, tol %.3g\n", th_current,   \
                    __FILE__, __LINE__, #a, th_a, #b, th_b, (double)(tol));                      \
        }                                                                                        \
    } while (0)

typedef void (*th_fn)(void);

static int th_run(const char *prog, th_fn *fns, const char **names, int n, int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(names[i], argv[1])) continue; /* ./test_x filter */
        int before = th_failed_checks;
        th_current = names[i];
        th_skipped = 0;
        fflush(stdout);
        fns[i]();
        fflush(stdout);
        if (th_failed_checks != before) {
            failed++;
            fprintf(stderr, "FAILED %s\n", names[i]);
        } else if (th_skipped) skipped++;
        else passed++;
    }
    printf("%s: %d passed, %d failed, %d skipped\n", prog, passed, failed, skipped);
    return failed ? 1 : 0;
}

#define TH_STR2(...) #__VA_ARGS__
#define TESTS(...)                                                                               \
    int main(int argc, char **argv) {                                                            \
        th_fn fns[] = {__VA_ARGS__};                                                             \
        static char names_buf[] = TH_STR2(__VA_ARGS__);                                          \
        const char *names[sizeof fns / sizeof fns[0]];                                           \
        int k = 0;                                                                               \
        char *p = names_buf;                                                                     \
        while (k < (int)(sizeof fns / sizeof fns[0])) {                                          \
            while (*p == ' ' || *p == ',') p++;                                                  \
            names[k++] = p;                                                                      \
            while (*p && *p != ',') p++;                                                         \
            if (*p) *p++ = 0;                                                                    \
        }                                                                                        \
        const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];          \
        return th_run(prog, fns, names, k, argc, argv);                                          \
    }

#endif
