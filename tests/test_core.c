/* test_core.c — unit tests for core/: RNG determinism and distribution, atomic writes, errors. */
#include <stdlib.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/rng.h"
#include "core/status.h"
#include "harness.h"

static void test_rng_deterministic(void) {
    lms_rng a, b;
    lms_rng_seed(&a, 42);
    lms_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++) CHECK(lms_rng_u64(&a) == lms_rng_u64(&b));
    lms_rng_seed(&b, 43);
    CHECK(lms_rng_u64(&a) != lms_rng_u64(&b));
}

static void test_rng_normal_moments(void) {
    lms_rng r;
    lms_rng_seed(&r, 7);
    double s = 0, s2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = lms_rng_normal(&r);
        s += x;
        s2 += x * x;
    }
    CHECK_NEAR(s / n, 0.0, 0.01);
    CHECK_NEAR(s2 / n, 1.0, 0.02);
    for (int i = 0; i < 10000; i++) {
        uint64_t k = lms_rng_below(&r, 7);
        CHECK(k < 7);
        float u = lms_rng_uniform(&r);
        CHECK(u >= 0.0f && u < 1.0f);
    }
}

static void test_atomic_write(void) {
    char dir[] = "/tmp/lms_test_core_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    lms_path_join(path, sizeof path, dir, "f.bin");
    lms_err err = {0};
    CHECK(lms_file_write_all(path, "hello", 5, &err) == LMS_OK);
    /* An aborted write leaves the old content and no temporary behind. */
    lms_atomic_file f;
    CHECK(lms_atomic_open(&f, path, &err) == LMS_OK);
    fputs("partial", f.fp);
    lms_atomic_abort(&f);
    char *data;
    size_t len;
    CHECK(lms_file_read_all(path, &data, &len, &err) == LMS_OK);
    CHECK(len == 5 && memcmp(data, "hello", 5) == 0);
    free(data);
    CHECK(access(f.tmp, F_OK) != 0);
    CHECK(lms_file_read_all("/nonexistent/x", &data, &len, &err) == LMS_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/x") != NULL);
    char sub[300];
    lms_path_join(sub, sizeof sub, dir, "a/b/c");
    CHECK(lms_mkdir_p(sub, &err) == LMS_OK && lms_path_is_dir(sub));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_alloc_aligned(void) {
    lms_err err = {0};
    float *p = lms_alloc(1000 * sizeof(float), &err);
    CHECK(p != NULL && ((uintptr_t)p % LMS_ALIGN) == 0 && p[999] == 0.0f);
    lms_free(p);
    CHECK(lms_align_floats(1) == 16 && lms_align_floats(16) == 16 && lms_align_floats(17) == 32);
}

static void test_sha256(void) {
    char hex[65];
    lms_sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
}

TESTS(test_sha256, test_rng_deterministic, test_rng_normal_moments, test_atomic_write, test_alloc_aligned)
