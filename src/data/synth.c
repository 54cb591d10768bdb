/* synth.c — the controlled tasks of synth.h: addition, copying and memorised chants, as corpus
 * domains and held-out suites. Every random choice comes from one xoshiro stream per file, seeded
 * from the config's seed and the file's name, so each file is reproducible on its own.
 *
 * Leaves out: anything about models; the suite format's reader (eval/suite.h).
 */
#include "data/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/fileio.h"
#include "core/rng.h"
#include "data/corpus.h"
#include "data/prepare.h"

#define N_CHANTS 32
#define CHANT_WORDS 8
#define HELD_OUT_TENTHS 1 /* a tenth of every item space is held out */

static const char *const suite_names[] = {"add-2d",        "add-3d",        "add-4d",        "add-5d",
                                          "add-2d-digits", "add-3d-digits", "add-4d-digits", "add-5d-digits",
                                          "copy-first",    "copy-second",   "copy-second-exact", "copy-altered"};

int lms_synth_n_suites(void) { return (int)(sizeof suite_names / sizeof suite_names[0]); }
const char *lms_synth_suite_name(int i) { return i >= 0 && i < lms_synth_n_suites() ? suite_names[i] : NULL; }

lms_synth_config lms_synth_defaults(void) {
    return (lms_synth_config){.seed = 1, .add_problems = 120000, .copy_lines = 40000, .chant_lines = 15000,
                              .items = 200, .lines_per_doc = 20};
}

/* ---- items and the held-out split ---- */

static lms_rng stream(uint64_t seed, const char *name) {
    lms_rng r;
    lms_rng_seed(&r, lms_mix64(seed ^ lms_data_hash64(name, strlen(name))));
    return r;
}

/* An item (given by up to 16 numbers) is held out when its seeded hash falls in the lowest tenth. */
static int held_out(uint64_t seed, const uint64_t *v, int n) {
    uint64_t h = lms_mix64(seed ^ 0x5EED5EED5EEDull);
    for (int i = 0; i < n; i++) h = lms_mix64(h ^ v[i]);
    return h % 10 < HELD_OUT_TENTHS;
}

static uint64_t pow10u(int d) {
    uint64_t p = 1;
    while (d-- > 0) p *= 10;
    return p;
}

/* a uniform d-digit number (1..9 for d = 1) */
static uint64_t draw_digits(lms_rng *r, int d) { return pow10u(d - 1) + lms_rng_below(r, pow10u(d) - pow10u(d - 1)); }

/* "3 4 7" into buf; reversed: "7 4 3" (least significant digit first) */
static void spaced(char *buf, uint64_t x, int reversed) {
    char d[24];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)x), k = 0;
    for (int i = 0; i < n; i++) {
        if (i) buf[k++] = ' ';
        buf[k++] = d[reversed ? n - 1 - i : i];
    }
    buf[k] = 0;
}

/* pseudo-words: two syllables of 14 consonants x 5 vowels */
#define N_WORDS 4900
static void word(char *buf, int w) {
    static const char cons[] = "bdfgklmnprstvz", vow[] = "aeiou";
    int s1 = w / 70, s2 = w % 70;
    buf[0] = cons[s1 / 5], buf[1] = vow[s1 % 5], buf[2] = cons[s2 / 5], buf[3] = vow[s2 % 5], buf[4] = 0;
}

/* " w1 w2 ... wn" appended to out */
static void words(char *out, size_t cap, const int *w, int n) {
    size_t k = strlen(out);
    for (int i = 0; i < n && k + 6 < cap; i++) {
        out[k++] = ' ';
        word(out + k, w[i]);
        k += 4;
    }
    out[k] = 0;
}

static int string_held_out(uint64_t seed, const int *w, int n) {
    uint64_t v[16];
    for (int i = 0; i < n; i++) v[i] = (uint64_t)w[i] + 1;
    return held_out(seed, v, n);
}

static void chants(uint64_t seed, int c[N_CHANTS][CHANT_WORDS]) {
    lms_rng r = stream(seed, "chants");
    for (int i = 0; i < N_CHANTS; i++)
        for (int j = 0; j < CHANT_WORDS; j++) c[i][j] = (int)lms_rng_below(&r, N_WORDS);
}

/* ---- writing ---- */

typedef struct {
    lms_atomic_file f;
    int open;
} out_file;

static lms_status open_in(out_file *o, const char *dir, const char *name, lms_err *err) {
    char path[4096];
    if (!lms_path_join(path, sizeof path, dir, name))
        return lms_errf(err, LMS_ERR_ARG, "the path %s/%s is too long", dir, name);
    lms_status st = lms_atomic_open(&o->f, path, err);
    o->open = !st;
    return st;
}

static lms_status close_out(out_file *o, lms_status st, lms_err *err) {
    if (!o->open) return st;
    o->open = 0;
    if (st) {
        lms_atomic_abort(&o->f);
        return st;
    }
    return lms_atomic_commit(&o->f, err);
}

/* lines of one domain, lines_per_doc to a document */
typedef void (*line_fn)(lms_rng *r, uint64_t seed, const void *ctx, char *line, size_t cap);

static lms_status write_domain(const char *dir, const char *name, int64_t n, const lms_synth_config *c, line_fn fn,
                               const void *ctx, lms_err *err) {
    if (n == 0) return LMS_OK;
    out_file o = {0};
    lms_status st = open_in(&o, dir, name, err);
    if (st) return st;
    lms_rng r = stream(c->seed, name);
    char line[512];
    for (int64_t i = 0; i < n; i++) {
        if (i && i % c->lines_per_doc == 0) fputs(LMS_DOC_SEPARATOR "\n", o.f.fp);
        fn(&r, c->seed, ctx, line, sizeof line);
        fputs(line, o.f.fp);
        fputc('\n', o.f.fp);
    }
    return close_out(&o, st, err);
}

static void add_line(lms_rng *r, uint64_t seed, const void *ctx, char *line, size_t cap) {
    uint64_t v[2];
    do {
        v[0] = draw_digits(r, 1 + (int)lms_rng_below(r, 5));
        v[1] = draw_digits(r, 1 + (int)lms_rng_below(r, 5));
    } while (held_out(seed, v, 2));
    const lms_synth_config *c = ctx;
    char a[24], b[24], s[24];
    spaced(a, v[0], 0), spaced(b, v[1], 0), spaced(s, v[0] + v[1], c->add_reversed);
    snprintf(line, cap, "%s + %s = %s", a, b, s);
}

static void copy_line(lms_rng *r, uint64_t seed, const void *ctx, char *line, size_t cap) {
    int w[12], n = 4 + (int)lms_rng_below(r, 9);
    do
        for (int i = 0; i < n; i++) w[i] = (int)lms_rng_below(r, N_WORDS);
    while (string_held_out(seed, w, n));
    snprintf(line, cap, "copy:");
    words(line, cap, w, n);
    strncat(line, " ; again:", cap - strlen(line) - 1);
    words(line, cap, w, n);
}

static void chant_line(lms_rng *r, uint64_t seed, const void *ctx, char *line, size_t cap) {
    const int(*c)[CHANT_WORDS] = ctx;
    snprintf(line, cap, "chant:");
    words(line, cap, c[lms_rng_below(r, N_CHANTS)], CHANT_WORDS);
}

/* one suite item as a JSON line */
static void put_item(FILE *fp, const char *context, const char *target, const char *kind, const char *choices[2],
                     int answer) {
    json_t *o = json_object();
    json_object_set_new(o, "context", json_string(context));
    if (kind) {
        json_object_set_new(o, "target", json_string(target));
        json_object_set_new(o, "kind", json_string(kind));
    } else {
        json_t *a = json_array();
        for (int i = 0; i < 2; i++) json_array_append_new(a, json_string(choices[i]));
        json_object_set_new(o, "choices", a);
        json_object_set_new(o, "answer", json_integer(answer));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) fprintf(fp, "%s\n", s);
    free(s);
    json_decref(o);
}

static int seen(const uint64_t (*v)[2], int n, const uint64_t x[2]) {
    for (int i = 0; i < n; i++)
        if (v[i][0] == x[0] && v[i][1] == x[1]) return 1;
    return 0;
}

/* add-Nd (gen) and add-Nd-digits (seq): the same held-out pairs */
static lms_status write_addition_suites(const char *dir, const lms_synth_config *c, int d, lms_err *err) {
    char name[64];
    snprintf(name, sizeof name, "add-%dd", d);
    lms_rng r = stream(c->seed, name);
    uint64_t(*v)[2] = malloc((size_t)c->items * sizeof *v);
    if (!v) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    /* d = 2 holds out ~810 of 8100 pairs: enough for 500 distinct items */
    for (int i = 0; i < c->items; i++) {
        uint64_t x[2];
        do x[0] = draw_digits(&r, d), x[1] = draw_digits(&r, d);
        while (!held_out(c->seed, x, 2) || seen((const uint64_t(*)[2])v, i, x));
        v[i][0] = x[0], v[i][1] = x[1];
    }
    lms_status st = LMS_OK;
    for (int digits = 0; digits < 2 && !st; digits++) {
        snprintf(name, sizeof name, "add-%dd%s.jsonl", d, digits ? "-digits" : "");
        out_file o = {0};
        if ((st = open_in(&o, dir, name, err))) break;
        for (int i = 0; i < c->items; i++) {
            char a[24], b[24], s[24], ctx[80], tgt[32];
            spaced(a, v[i][0], 0), spaced(b, v[i][1], 0), spaced(s, v[i][0] + v[i][1], c->add_reversed);
            snprintf(ctx, sizeof ctx, "%s + %s =", a, b);
            snprintf(tgt, sizeof tgt, " %s", s);
            put_item(o.f.fp, ctx, tgt, digits ? "seq" : "gen", NULL, 0);
        }
        st = close_out(&o, st, err);
    }
    free(v);
    return st;
}

/* copy-first / copy-second (the same strings) and copy-altered */
static lms_status write_copy_suites(const char *dir, const lms_synth_config *c, int ch[N_CHANTS][CHANT_WORDS],
                                    lms_err *err) {
    lms_rng r = stream(c->seed, "copy-suites");
    out_file f = {0}, s = {0}, x = {0}, a = {0};
    lms_status st = open_in(&f, dir, "copy-first.jsonl", err);
    if (!st) st = open_in(&s, dir, "copy-second.jsonl", err);
    if (!st) st = open_in(&x, dir, "copy-second-exact.jsonl", err);
    if (!st) st = open_in(&a, dir, "copy-altered.jsonl", err);
    for (int i = 0; !st && i < c->items; i++) {
        int w[12], n = 4 + (int)lms_rng_below(&r, 9);
        do
            for (int j = 0; j < n; j++) w[j] = (int)lms_rng_below(&r, N_WORDS);
        while (!string_held_out(c->seed, w, n));
        char tgt[128] = "", ctx[256] = "copy:";
        words(tgt, sizeof tgt, w, n);
        put_item(f.f.fp, "copy:", tgt, "seq", NULL, 0);
        words(ctx, sizeof ctx, w, n);
        strcat(ctx, " ; again:");
        put_item(s.f.fp, ctx, tgt, "seq", NULL, 0);
        put_item(x.f.fp, ctx, tgt, "gen", NULL, 0);

        /* a chant with word p (3..7) changed, the changed string held out */
        int k = (int)lms_rng_below(&r, N_CHANTS), p = 3 + (int)lms_rng_below(&r, CHANT_WORDS - 3), alt[CHANT_WORDS];
        memcpy(alt, ch[k], sizeof alt);
        do alt[p] = (int)lms_rng_below(&r, N_WORDS);
        while (alt[p] == ch[k][p] || !string_held_out(c->seed, alt, CHANT_WORDS));
        char actx[256] = "copy:", right[8] = " ", wrong[8] = " ";
        words(actx, sizeof actx, alt, CHANT_WORDS);
        strcat(actx, " ; again:");
        words(actx, sizeof actx, alt, p);
        word(right + 1, alt[p]);
        word(wrong + 1, ch[k][p]);
        int answer = i % 2; /* right answers spread evenly over the two positions */
        const char *choices[2] = {answer ? wrong : right, answer ? right : wrong};
        put_item(a.f.fp, actx, NULL, NULL, choices, answer);
    }
    st = close_out(&f, st, err);
    st = close_out(&s, st, err);
    st = close_out(&x, st, err);
    return close_out(&a, st, err);
}

lms_status lms_synth_write(const char *corpus_dir, const char *suites_dir, const lms_synth_config *c, lms_err *err) {
    if (c->add_problems < 0 || c->copy_lines < 0 || c->chant_lines < 0 || c->lines_per_doc < 1)
        return lms_errf(err, LMS_ERR_ARG, "line counts must be >= 0 and lines per document >= 1");
    if (c->items < 10 || c->items > 500)
        return lms_errf(err, LMS_ERR_ARG, "items per suite must be in 10..500 (got %d)", c->items);
    lms_status st = lms_mkdir_p(corpus_dir, err);
    if (!st) st = lms_mkdir_p(suites_dir, err);
    if (st) return st;
    int ch[N_CHANTS][CHANT_WORDS];
    chants(c->seed, ch);
    if ((st = write_domain(corpus_dir, "synth_addition.txt", c->add_problems, c, add_line, c, err))) return st;
    if ((st = write_domain(corpus_dir, "synth_copy.txt", c->copy_lines, c, copy_line, NULL, err))) return st;
    if ((st = write_domain(corpus_dir, "synth_chants.txt", c->chant_lines, c, chant_line, ch, err))) return st;
    for (int d = 2; d <= 5; d++)
        if ((st = write_addition_suites(suites_dir, c, d, err))) return st;
    return write_copy_suites(suites_dir, c, ch, err);
}
