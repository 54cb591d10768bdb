/* test_suite.c — the probe-suite reader (src/eval/suite.c): JSON Lines and Inverse Scaling Prize
 * CSV items, every error's file:line message, CSV quoting, the Python list literal, non-regular
 * files, and streaming a 10^6-item file in bounded memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/suite.h"
#include "harness.h"

/* Read every item of a memory suite; return the number read, -1 on error (message in err). */
static int count_items(const char *text, lms_suite_format fmt, lms_err *err) {
    lms_suite *s;
    if (lms_suite_open_mem(&s, text, strlen(text), fmt, "t.x", err)) return -1;
    int n = 0;
    const lms_suite_item *it;
    while (lms_suite_next(s, &it, err) == LMS_OK && it) n++;
    lms_suite_close(s);
    return err->code ? -1 : n;
}

/* A one-line-or-more suite must fail with a message holding `want` (and starting "t.x:LINE: "). */
static void expect_error(const char *text, lms_suite_format fmt, int line, const char *want) {
    lms_err err = {0};
    int n = count_items(text, fmt, &err);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "t.x:%d: ", line);
    CHECKF(n == -1 && err.code == LMS_ERR_FORMAT, "no error for %s", text);
    CHECKF(!strncmp(err.msg, prefix, strlen(prefix)), "message '%s' should start with '%s'", err.msg, prefix);
    CHECKF(strstr(err.msg, want) != NULL, "message '%s' should say '%s'", err.msg, want);
}

static void test_jsonl_items(void) {
    const char *text =
        "{\"context\": \"The capital of France is\", \"choices\": [\" Paris\", \" London\", \" Rome\"], \"answer\": 0}\n"
        "\n   \n"
        "{\"context\": \"2 + 2 =\", \"target\": \" 4\", \"kind\": \"gen\", \"meta\": {\"src\": \"arith\", \"d\": 1}}\r\n"
        "{\"context\": \"\", \"target\": \"a b a b\", \"kind\": \"seq\", \"extra\": 5}\n"
        "{\"context\": \"x\", \"target\": \"\\u00e9\"}"; /* last line without a newline; kind defaults to gen */
    lms_suite *s;
    lms_err err = {0};
    CHECK(lms_suite_open_mem(&s, text, strlen(text), LMS_SUITE_JSONL, "dir/capitals.jsonl", &err) == LMS_OK);
    CHECK(!strcmp(lms_suite_name(s), "capitals"));
    const lms_suite_item *it;
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
    CHECK(it->kind == LMS_ITEM_MC && it->line == 1 && it->n_choices == 3 && it->answer == 0);
    CHECK(!strcmp(it->context, "The capital of France is") && it->context_len == 24);
    CHECK(!strcmp(it->choices[1], " London") && it->choice_len[1] == 7 && it->target == NULL && it->meta == NULL);
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
    CHECK(it->kind == LMS_ITEM_GEN && it->line == 4 && !strcmp(it->target, " 4") && it->n_choices == 0 && it->answer == -1);
    CHECK(it->meta && strstr(it->meta, "\"src\":\"arith\""));
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
    CHECK(it->kind == LMS_ITEM_SEQ && it->line == 5 && it->context_len == 0 && it->target_len == 7);
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
    CHECK(it->kind == LMS_ITEM_GEN && it->line == 6 && it->target_len == 2 && !memcmp(it->target, "\xc3\xa9", 2));
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it == NULL);
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it == NULL); /* stays at the end */
    lms_suite_close(s);
    CHECK(count_items("", LMS_SUITE_JSONL, &err) == 0);
    /* a UTF-8 byte order mark before the first line is skipped */
    CHECK(count_items("\xEF\xBB\xBF{\"context\": \"a\", \"target\": \"b\"}\n", LMS_SUITE_JSONL, &err) == 1);
}

static void test_jsonl_errors(void) {
    const char *ok = "{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"answer\": 1}\n";
    char buf[512];
#define LINE2(x) (snprintf(buf, sizeof buf, "%s\n%s\n", ok, x), buf) /* the bad item on line 3 */
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\" b\"], \"answer\": 0}"), LMS_SUITE_JSONL, 3, "at least 2");
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\" b\", \"\"], \"answer\": 0}"), LMS_SUITE_JSONL, 3, "choice 1 is empty");
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"answer\": 2}"), LMS_SUITE_JSONL, 3, "out of range");
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"answer\": -1}"), LMS_SUITE_JSONL, 3, "out of range");
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"answer\": 1.5}"), LMS_SUITE_JSONL, 3, "integer");
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\" b\", \" c\"]}"), LMS_SUITE_JSONL, 3, "missing field 'answer'");
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\" b\", 3], \"answer\": 0}"), LMS_SUITE_JSONL, 3, "choice 1 is not a string");
    expect_error(LINE2("{\"choices\": [\" b\", \" c\"], \"answer\": 0}"), LMS_SUITE_JSONL, 3, "missing field 'context'");
    expect_error(LINE2("{\"context\": 5, \"target\": \"x\"}"), LMS_SUITE_JSONL, 3, "'context' must be a string");
    expect_error(LINE2("{\"context\": \"a\"}"), LMS_SUITE_JSONL, 3, "missing field 'choices'");
    expect_error(LINE2("{\"context\": \"a\", \"target\": \"\"}"), LMS_SUITE_JSONL, 3, "'target' is empty");
    expect_error(LINE2("{\"context\": \"a\", \"target\": \"x\", \"choices\": [\"a\", \"b\"], \"answer\": 0}"), LMS_SUITE_JSONL, 3, "both");
    expect_error(LINE2("{\"context\": \"a\", \"target\": \"x\", \"kind\": \"essay\"}"), LMS_SUITE_JSONL, 3, "'kind'");
    expect_error(LINE2("{\"context\": \"a\", \"target\": \"x\", \"kind\": \"mc\"}"), LMS_SUITE_JSONL, 3, "needs 'choices'");
    expect_error(LINE2("{\"context\": \"a\", \"choices\": [\"a\", \"b\"], \"answer\": 0, \"kind\": \"gen\"}"), LMS_SUITE_JSONL, 3, "needs a 'target'");
    expect_error(LINE2("{\"context\": \"a\", \"target\": \"x\", \"meta\": 3}"), LMS_SUITE_JSONL, 3, "'meta' must be an object");
    expect_error(LINE2("{\"context\": \"a\", \"context\": \"b\", \"target\": \"x\"}"), LMS_SUITE_JSONL, 3, "bad JSON");
    expect_error(LINE2("{\"context\": \"a\\u0000\", \"target\": \"x\"}"), LMS_SUITE_JSONL, 3, "bad JSON");
    expect_error(LINE2("[1, 2]"), LMS_SUITE_JSONL, 3, "not a JSON object");
    expect_error(LINE2("{\"context\": \"a\", "), LMS_SUITE_JSONL, 3, "bad JSON at column");
    /* the file ends inside a line: said so */
    snprintf(buf, sizeof buf, "%s{\"context\": \"a\", \"choi", ok);
    expect_error(buf, LMS_SUITE_JSONL, 2, "truncated");
    /* a NUL byte in a line */
    {
        char nul[] = "{\"context\": \"a\", \"target\": \"x\"}\n{\"context\": \"a\"X, \"target\": \"x\"}\n";
        *strchr(nul, 'X') = 0;
        lms_suite *s;
        lms_err err = {0};
        CHECK(lms_suite_open_mem(&s, nul, sizeof nul - 1, LMS_SUITE_JSONL, "t.x", &err) == LMS_OK);
        const lms_suite_item *it;
        CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
        CHECK(lms_suite_next(s, &it, &err) == LMS_ERR_FORMAT && !it && strstr(err.msg, "t.x:2: a NUL byte"));
        /* failures are sticky */
        lms_err e2 = {0};
        CHECK(lms_suite_next(s, &it, &e2) == LMS_ERR_FORMAT && !it && !strcmp(e2.msg, err.msg));
        lms_suite_close(s);
    }
#undef LINE2
}

static void test_overlong_line(void) {
    size_t n = (size_t)LMS_SUITE_MAX_LINE + 100;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    if (!big) return;
    memset(big, ' ', n);
    memcpy(big, "{\"context\": \"", 13);
    big[n] = 0;
    expect_error(big, LMS_SUITE_JSONL, 1, "longer than 16 MiB");
    free(big);
}

static void test_csv(void) {
    const char *text =
        "\xEF\xBB\xBF" "round,prompt,other,classes,answer_index\r\n"
        "1,\"Repeat after me: All that glisters is not glib.\nAll that glisters is not\",\"x,y\",\"[' glib', ' gold']\",0\r\n"
        "\r\n"
        "2,\"He said \"\"hi\"\"\",,\"[\"\" it's\"\", ' \\'q\\'', ' \\xe9\\u00e9\\n\\\\', ]\",2.0\n"
        "3,plain prompt,z,\"[' a', ' b']\",1"; /* no final newline */
    lms_suite *s;
    lms_err err = {0};
    CHECK(lms_suite_open_mem(&s, text, strlen(text), LMS_SUITE_CSV, "quote-repetition.csv", &err) == LMS_OK);
    CHECK(!strcmp(lms_suite_name(s), "quote-repetition"));
    const lms_suite_item *it;
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
    CHECK(it->kind == LMS_ITEM_MC && it->line == 2 && it->n_choices == 2 && it->answer == 0);
    CHECK(!strcmp(it->context, "Repeat after me: All that glisters is not glib.\nAll that glisters is not"));
    CHECK(!strcmp(it->choices[0], " glib") && !strcmp(it->choices[1], " gold"));
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
    CHECKF(it && it->line == 5, "line %lld", it ? (long long)it->line : -1LL); /* after a record spanning lines 2-3 and a blank line */
    CHECK(!strcmp(it->context, "He said \"hi\""));
    CHECK(it->n_choices == 3 && it->answer == 2);
    CHECK(!strcmp(it->choices[0], " it's"));
    CHECK(!strcmp(it->choices[1], " 'q'"));
    CHECK(!strcmp(it->choices[2], " \xc3\xa9\xc3\xa9\n\\"));
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it);
    CHECK(it->line == 6 && !strcmp(it->context, "plain prompt") && it->answer == 1 && !strcmp(it->choices[1], " b"));
    CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it == NULL);
    lms_suite_close(s);

    /* errors */
    const char *hdr = "prompt,classes,answer_index\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%sa,\"[' x', ' y']\",2\n", hdr);
    expect_error(buf, LMS_SUITE_CSV, 2, "out of range");
    snprintf(buf, sizeof buf, "%sa,\"[' x']\",0\n", hdr);
    expect_error(buf, LMS_SUITE_CSV, 2, "at least 2");
    snprintf(buf, sizeof buf, "%sa,\"[' x', '']\",0\n", hdr);
    expect_error(buf, LMS_SUITE_CSV, 2, "choice 1 is empty");
    snprintf(buf, sizeof buf, "%sa,\"[' x', ' y']\",one\n", hdr);
    expect_error(buf, LMS_SUITE_CSV, 2, "not an integer");
    snprintf(buf, sizeof buf, "%sa,\"[' x', ' y'\",0\n", hdr);
    expect_error(buf, LMS_SUITE_CSV, 2, "classes: the list is not closed");
    snprintf(buf, sizeof buf, "%sa,\"[' x', ' y']\"\n", hdr);
    expect_error(buf, LMS_SUITE_CSV, 2, "2 fields");
    snprintf(buf, sizeof buf, "%sa,\"[' x', ' y']\",0\n\"open,x,0\n", hdr);
    expect_error(buf, LMS_SUITE_CSV, 3, "never closed");
    lms_err err2 = {0};
    CHECK(lms_suite_open_mem(&s, "prompt,choices,answer_index\n", 28, LMS_SUITE_CSV, "t.x", &err2) == LMS_ERR_FORMAT && !s);
    CHECK(strstr(err2.msg, "t.x:1: the header has no 'classes' column"));
    CHECK(lms_suite_open_mem(&s, "", 0, LMS_SUITE_CSV, "t.x", &err2) == LMS_ERR_FORMAT && strstr(err2.msg, "empty"));
    CHECK(lms_suite_open_mem(&s, "prompt,prompt,classes,answer_index\n", 35, LMS_SUITE_CSV, "t.x", &err2) == LMS_ERR_FORMAT &&
          strstr(err2.msg, "twice"));
    /* a header only: no items */
    lms_err err3 = {0};
    CHECK(count_items(hdr, LMS_SUITE_CSV, &err3) == 0);
}

static void test_pylist(void) {
    char **v;
    size_t *l;
    int n;
    lms_err err = {0};
    const char *t = "  [ 'a' , \"b'c\", u'\\u00e9', r'\\d', '\\101\\x41\\U0001F600', 'x\\qy' , ] ";
    CHECK(lms_suite_parse_pylist(t, strlen(t), &v, &l, &n, &err) == LMS_OK);
    CHECK(n == 6);
    if (n == 6) {
        CHECK(!strcmp(v[0], "a") && !strcmp(v[1], "b'c") && !strcmp(v[2], "\xc3\xa9") && !strcmp(v[3], "\\d"));
        CHECK(!strcmp(v[4], "AA\xf0\x9f\x98\x80") && l[4] == 6);
        CHECK(!strcmp(v[5], "x\\qy")); /* unknown escapes stay, as in Python */
    }
    lms_suite_free_strings(v, l, n);
    CHECK(lms_suite_parse_pylist("[]", 2, &v, &l, &n, &err) == LMS_OK && n == 0);
    lms_suite_free_strings(v, l, n);
    const char *bad[] = {"", "x", "['a'", "['a' 'b']", "['a'] x", "[1]", "['\\x4']", "['\\ud800']", "['\\0']", "['a\\", "['\\N{DASH}']"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lms_err e = {0};
        CHECKF(lms_suite_parse_pylist(bad[i], strlen(bad[i]), &v, &l, &n, &e) == LMS_ERR_FORMAT && e.msg[0] && !v, "%s", bad[i]);
    }
    /* fuzz finding 1: a raw NUL byte inside a string passed (and broke the NUL-free contract) */
    {
        const char raw[] = "[' gold', r'!\0']";
        lms_err e = {0};
        CHECK(lms_suite_parse_pylist(raw, sizeof raw - 1, &v, &l, &n, &e) == LMS_ERR_FORMAT && strstr(e.msg, "NUL"));
        const char raw2[] = "['a\0b']";
        CHECK(lms_suite_parse_pylist(raw2, sizeof raw2 - 1, &v, &l, &n, &e) == LMS_ERR_FORMAT);
        /* fuzz finding 3: a backslash followed by a raw NUL (kept as an unknown escape) */
        const char raw3[] = "[\"a\\\0\"]";
        CHECK(lms_suite_parse_pylist(raw3, sizeof raw3 - 1, &v, &l, &n, &e) == LMS_ERR_FORMAT && strstr(e.msg, "NUL"));
    }
    /* fuzz finding 2: the "expected a list" message read the input past its length */
    {
        char buf[4] = {'a', 'b', 'c', 'd'}; /* not NUL-terminated; only 2 bytes are the input */
        lms_err e = {0};
        CHECK(lms_suite_parse_pylist(buf, 2, &v, &l, &n, &e) == LMS_ERR_FORMAT);
        CHECKF(strstr(e.msg, "got 'ab'") != NULL, "%s", e.msg);
    }
}

static void test_files(void) {
    char dir[] = "/tmp/lms_test_suite_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[256];
    lms_suite *s;
    lms_err err = {0};
    snprintf(p, sizeof p, "%s/missing.jsonl", dir);
    CHECK(lms_suite_open(&s, p, &err) == LMS_ERR_IO && !s && strstr(err.msg, "missing.jsonl"));
    CHECK(lms_suite_open(&s, dir, &err) == LMS_ERR_IO && strstr(err.msg, "not a regular file"));
    snprintf(p, sizeof p, "%s/fifo.jsonl", dir);
    CHECK(mkfifo(p, 0600) == 0);
    CHECK(lms_suite_open(&s, p, &err) == LMS_ERR_IO && strstr(err.msg, "FIFO")); /* returns, never blocks */
    unlink(p);
    snprintf(p, sizeof p, "%s/two.CSV", dir);
    FILE *f = fopen(p, "w");
    fputs("prompt,classes,answer_index\nq,\"[' a', ' b']\",1\n", f);
    fclose(f);
    CHECK(lms_suite_format_of(p) == LMS_SUITE_CSV && lms_suite_format_of("a.jsonl") == LMS_SUITE_JSONL);
    CHECK(lms_suite_open(&s, p, &err) == LMS_OK);
    if (s) {
        const lms_suite_item *it;
        CHECK(lms_suite_next(s, &it, &err) == LMS_OK && it && it->answer == 1 && !strcmp(lms_suite_name(s), "two"));
        lms_suite_close(s);
    }
    unlink(p);
    rmdir(dir);
}

static long maxrss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 10^6 items (~50 MB) stream through in memory bounded by one line: the peak RSS grows by far less
   than the file's size. */
static void test_stream_million(void) {
    char path[] = "/tmp/lms_test_suite_big_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    const int N = 1000000;
    for (int i = 0; i < N; i++) fprintf(f, "{\"context\": \"item %d\", \"choices\": [\" a\", \" b\"], \"answer\": %d}\n", i, i & 1);
    long size = ftell(f);
    fclose(f);
    char jpath[64];
    snprintf(jpath, sizeof jpath, "%s.jsonl", path);
    CHECK(rename(path, jpath) == 0);
    long before = maxrss_kb();
    lms_suite *s;
    lms_err err = {0};
    CHECK(lms_suite_open(&s, jpath, &err) == LMS_OK);
    int n = 0, ok = 1;
    const lms_suite_item *it;
    while (s && lms_suite_next(s, &it, &err) == LMS_OK && it) {
        ok &= it->answer == (n & 1) && it->line == n + 1;
        n++;
    }
    lms_suite_close(s);
    long grew = maxrss_kb() - before;
    unlink(jpath);
    CHECKF(n == N && ok && err.code == LMS_OK, "read %d items: %s", n, err.msg);
#ifdef __SANITIZE_ADDRESS__
    (void)grew; /* AddressSanitizer's quarantine keeps freed memory resident: no RSS bound to check */
    CHECK(size > 40 * 1024 * 1024);
#else
    CHECKF(grew < 8 * 1024 && maxrss_kb() < 40 * 1024 && size > 40 * 1024 * 1024, "peak RSS grew %ld kB (to %ld kB) reading a %ld-byte suite",
           grew, maxrss_kb(), size);
#endif
}

/* lms_suite_select: eval's names and 'all', the sweep's directories and files, over one listing
   (sorted, only regular *.jsonl / *.csv files, not dot files nor a directory named like a suite). */
static void put(const char *dir, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) fputs("{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"answer\": 0}\n", f), fclose(f);
}

static void test_select(void) {
    char dir[] = "/tmp/lms_suites_XXXXXX", sub[600], empty[600], p[700];
    CHECK(mkdtemp(dir) != NULL);
    put(dir, "zeta.jsonl");
    put(dir, "alpha.csv");
    put(dir, "mid.jsonl");
    put(dir, ".hidden.jsonl");
    put(dir, "notes.txt");
    snprintf(sub, sizeof sub, "%s/dir.jsonl", dir);
    CHECK(mkdir(sub, 0755) == 0);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    CHECK(mkdir(empty, 0755) == 0);
    lms_err err = {0};
    lms_suite_list l = {0};
    /* 'all' and a directory in a sweep's list: the same three files, sorted */
    CHECK(lms_suite_select(&l, "all", LMS_SUITE_SPEC_NAMES, dir, &err) == LMS_OK);
    CHECKF(l.n == 3 && strstr(l.path[0], "/alpha.csv") && strstr(l.path[1], "/mid.jsonl") && strstr(l.path[2], "/zeta.jsonl"),
           "all: %d suites", l.n);
    lms_suite_list_free(&l);
    CHECK(l.n == 0 && l.path == NULL);
    snprintf(p, sizeof p, "%s,%s/mid.jsonl", dir, dir);
    CHECK(lms_suite_select(&l, p, LMS_SUITE_SPEC_PATHS, NULL, &err) == LMS_OK);
    CHECKF(l.n == 4 && strstr(l.path[0], "/alpha.csv") && strstr(l.path[3], "/mid.jsonl"), "paths: %d suites", l.n);
    lms_suite_list_free(&l);
    /* names in the dir (a space after a comma is fine), in the order given; a path as given */
    snprintf(p, sizeof p, "zeta, alpha,%s/mid.jsonl", dir);
    CHECK(lms_suite_select(&l, p, LMS_SUITE_SPEC_NAMES, dir, &err) == LMS_OK);
    CHECKF(l.n == 3 && strstr(l.path[0], "/zeta.jsonl") && strstr(l.path[1], "/alpha.csv"), "names: %d", l.n);
    lms_suite_list_free(&l);
    /* an unknown name lists what the dir holds */
    CHECK(lms_suite_select(&l, "nope", LMS_SUITE_SPEC_NAMES, dir, &err) == LMS_ERR_ARG);
    CHECKF(strstr(err.msg, "no suite 'nope'") && strstr(err.msg, "known: alpha, mid, zeta"), "%s", err.msg);
    lms_suite_list_free(&l);
    CHECK(lms_suite_select(&l, "x", LMS_SUITE_SPEC_NAMES, "", &err) == LMS_ERR_ARG && strstr(err.msg, "no suite dir found"));
    CHECK(lms_suite_select(&l, "all", LMS_SUITE_SPEC_NAMES, empty, &err) == LMS_ERR_ARG && strstr(err.msg, "holds no"));
    CHECK(lms_suite_select(&l, " , ", LMS_SUITE_SPEC_NAMES, dir, &err) == LMS_ERR_ARG && strstr(err.msg, "names no suite"));
    /* the sweep's form: every entry must exist; a directory without suites fails; "" is none */
    CHECK(lms_suite_select(&l, "/nonexistent.jsonl", LMS_SUITE_SPEC_PATHS, NULL, &err) == LMS_ERR_ARG &&
          strstr(err.msg, "does not exist"));
    CHECK(lms_suite_select(&l, empty, LMS_SUITE_SPEC_PATHS, NULL, &err) == LMS_ERR_ARG && strstr(err.msg, "holds no .jsonl"));
    CHECK(lms_suite_select(&l, "", LMS_SUITE_SPEC_PATHS, NULL, &err) == LMS_OK && l.n == 0);
    lms_suite_list_free(&l);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* the streaming test first: the peak RSS it checks is the process's, and test_overlong_line raises it */
TESTS(test_stream_million, test_jsonl_items, test_jsonl_errors, test_overlong_line, test_csv, test_pylist, test_files, test_select)
