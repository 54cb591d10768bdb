/* harness.h — a tiny test harness: a table of test functions, CHECK macros that count and
 * report failures with file:line, and a main that runs them and prints "N passed, M failed".
 *
 *   static void test_rng(void) { CHECK(lms_rng_u64(&r) != 0); CHECK_NEAR(x, 1.0, 1e-6); }
 *   TESTS(test_rng, test_other)
 *
 * A test "passes" when it records no failed check. Each test binary exits 1 if any failed.
 */
#ifndef LMS_TESTS_HARNESS_H
#define LMS_TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int th_failed_checks;
static const char *th_current;

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
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(names[i], argv[1])) continue; /* ./test_x filter */
        int before = th_failed_checks;
        th_current = names[i];
        fns[i]();
        if (th_failed_checks == before) passed++;
        else {
            failed++;
            fprintf(stderr, "FAILED %s\n", names[i]);
        }
    }
    printf("%s: %d passed, %d failed\n", prog, passed, failed);
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
