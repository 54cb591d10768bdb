/* test_tokenizer_unicode.c — the GPT-2 pre-tokenizer against tiktoken on every Unicode code point.
 *
 * tests/fixtures/gpt2/unicode_contexts.txt (tools/tokenizer/make_unicode.sh, from npm tiktoken
 * 1.0.22, Unicode 16.0) holds, for every code point X but the surrogates, tiktoken's class of X
 * and its ids of X + "'s" and "a" + X + "1". Checked here, every code point:
 * - our ids of both contexts equal tiktoken's (a letter or number X leaves "'s" one token; an
 *   "other" X takes the apostrophe: X' s);
 * - our pre-tokenizer cuts "aX1" as X's class says (L: aX|1, N: a|X1, O and W: a|X|1, space: a| 1);
 * - the fixture covers all 1,112,064 code points exactly once;
 * - the two spellings of the classes in unicode_classes.h (PCRE2's \p{L} plus additions, and the
 *   full ranges) agree on every code point with this system's PCRE2, so either pattern is exact.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "harness.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_classes.h"

#define FIXTURE "tests/fixtures/gpt2/unicode_contexts.txt"

static size_t utf8(uint32_t cp, unsigned char *s) {
    if (cp < 0x80) { s[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { s[0] = (unsigned char)(0xC0 | cp >> 6); s[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        s[0] = (unsigned char)(0xE0 | cp >> 12);
        s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    s[0] = (unsigned char)(0xF0 | cp >> 18);
    s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    s[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One id pattern: items >= 0 are ids, -1-K is "the single-byte token of byte K of X". */
typedef struct {
    int n;
    int64_t item[16];
} pattern;

/* Parse "12 b0 338" up to '|' or the end; returns the position after it, NULL if malformed. */
static char *parse_pattern(char *s, pattern *p) {
    p->n = 0;
    for (;;) {
        while (*s == ' ') s++;
        if (*s == '|' || *s == '\n' || *s == 0) return *s == '|' ? s + 1 : s;
        if (p->n == 16) return NULL;
        char *end;
        if (*s == 'b') p->item[p->n++] = -1 - strtol(s + 1, &end, 10);
        else p->item[p->n++] = strtol(s, &end, 10);
        if (end == s || (*s == 'b' && end == s + 1)) return NULL;
        s = end;
    }
}

typedef struct {
    size_t len[8];
    int n;
} pieces;

static lms_status piece(void *user, const unsigned char *w, size_t n, int valid) {
    pieces *p = user;
    (void)w;
    (void)valid;
    if (p->n < 8) p->len[p->n] = n;
    p->n++;
    return LMS_OK;
}

static void test_every_code_point(void) {
    lms_err err = {0};
    lms_tokenizer *t = NULL;
    char *fx = NULL;
    size_t fxn = 0;
    CHECK(lms_tokenizer_load(&t, "tests/fixtures/gpt2", &err) == LMS_OK);
    CHECK(lms_file_read_all(FIXTURE, &fx, &fxn, &err) == LMS_OK);
    if (!t || !fx) {
        lms_tokenizer_free(t);
        free(fx);
        return;
    }
    uint32_t byte_id[256];
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        byte_id[b] = (uint32_t)lms_tokenizer_find(t, &c, 1);
    }
    lms_ids ids = {0};
    long next = 0, covered = 0, bad_ids = 0, bad_split = 0, lines = 0;
    int malformed = 0;
    for (char *line = fx; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (*line == '#' || *line == '\n') continue;
        char *s;
        long first = strtol(line, &s, 16), last = strtol(s, &s, 16);
        while (*s == ' ') s++;
        char cls = *s++;
        pattern pat[2];
        if (!(s = strchr(s, '|')) || !(s = parse_pattern(s + 1, &pat[0])) || !parse_pattern(s, &pat[1]) ||
            !strchr("LNWO", cls) || first > last || first != next) {
            malformed++;
            break;
        }
        lines++;
        next = last + 1 == 0xD800 ? 0xE000 : last + 1;
        for (long cp = first; cp <= last; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            covered++;
            unsigned char x[4], text[8];
            size_t xn = utf8((uint32_t)cp, x);
            for (int c = 0; c < 2; c++) {
                size_t n = 0;
                if (c == 1) text[n++] = 'a';
                memcpy(text + n, x, xn);
                n += xn;
                if (c == 0) text[n++] = '\'', text[n++] = 's';
                else text[n++] = '1';
                ids.n = 0;
                int ok = lms_tokenizer_encode(t, (const char *)text, n, &ids, &err) == LMS_OK && (int)ids.n == pat[c].n;
                for (int i = 0; ok && i < pat[c].n; i++) {
                    int64_t it = pat[c].item[i];
                    size_t k = (size_t)(-1 - it);
                    ok = it >= 0 ? ids.ids[i] == (uint32_t)it : k < xn && ids.ids[i] == byte_id[x[k]];
                }
                if (!ok && bad_ids++ < 5) {
                    fprintf(stderr, "  U+%04lX in context %d: ours", cp, c);
                    for (size_t i = 0; i < ids.n; i++) fprintf(stderr, " %u", ids.ids[i]);
                    fprintf(stderr, ", tiktoken's pattern has %d ids\n", pat[c].n);
                }
            }
            /* "aX1" cut as the class says */
            pieces p = {0};
            lms_tok_pretokenize((const char *)text, 1 + xn + 1, piece, &p, &err);
            size_t w[3];
            int nw;
            if (cls == 'L') w[0] = 1 + xn, w[1] = 1, nw = 2;
            else if (cls == 'N') w[0] = 1, w[1] = xn + 1, nw = 2;
            else if (cp == ' ') w[0] = 1, w[1] = 2, nw = 2;
            else w[0] = 1, w[1] = xn, w[2] = 1, nw = 3;
            int ok = p.n == nw;
            for (int i = 0; ok && i < nw; i++) ok = p.len[i] == w[i];
            if (!ok && bad_split++ < 5) fprintf(stderr, "  U+%04lX (class %c): \"a X 1\" cut into %d pieces\n", cp, cls, p.n);
        }
    }
    CHECK(!malformed);
    CHECKF(covered == 1112064 && next == 0x110000, "%ld code points covered, next %lX", covered, next);
    CHECKF(bad_ids == 0, "%ld contexts encode differently from tiktoken", bad_ids);
    CHECKF(bad_split == 0, "%ld code points split differently from their class", bad_split);
    CHECK(lines > 10000);
    lms_ids_free(&ids);
    lms_tokenizer_free(t);
    free(fx);
}

/* [\p{L}ADD14] == [ALL] (and the same for N) on every code point with this PCRE2 */
static void test_class_spellings_agree(void) {
    const char *pats[4] = {"^[\\p{L}" LMS_TOK_CLASS_L_ADD14 "]$", "^[" LMS_TOK_CLASS_L "]$",
                           "^[\\p{N}" LMS_TOK_CLASS_N_ADD14 "]$", "^[" LMS_TOK_CLASS_N "]$"};
    pcre2_code *re[4];
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (int k = 0; k < 4; k++) {
        int ec;
        PCRE2_SIZE eo;
        re[k] = pcre2_compile((PCRE2_SPTR)pats[k], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
        CHECK(re[k] != NULL);
        if (re[k]) pcre2_jit_compile(re[k], PCRE2_JIT_COMPLETE);
    }
    long differ = 0, nl = 0, nn = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF && re[0] && re[1] && re[2] && re[3]; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        unsigned char s[4];
        size_t n = utf8(cp, s);
        int in[4];
        for (int k = 0; k < 4; k++) in[k] = pcre2_match(re[k], s, n, 0, 0, md, NULL) >= 0;
        if ((in[0] != in[1] || in[2] != in[3]) && differ++ < 5) fprintf(stderr, "  U+%04X: the two spellings differ\n", cp);
        nl += in[1];
        nn += in[3];
    }
    CHECKF(differ == 0, "%ld code points", differ);
    CHECKF(nl == 141028 && nn == 1911, "Unicode 16.0 has 141028 letters and 1911 numbers, the ranges %ld and %ld", nl, nn);
    fprintf(stderr, "  pre-tokenizer classes: %s\n", lms_tok_explicit_classes() ? "explicit ranges" : "PCRE2 \\p{L}/\\p{N} + additions");
    for (int k = 0; k < 4; k++) pcre2_code_free(re[k]);
    pcre2_match_data_free(md);
}

TESTS(test_every_code_point, test_class_spellings_agree)
