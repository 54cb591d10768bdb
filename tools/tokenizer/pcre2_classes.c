/* pcre2_classes.c — print the system PCRE2's \p{L} and \p{N} as code point ranges, one
 * "L|N FIRST LAST" (hex) line per range, and its Unicode version on stderr. Input to
 * make_unicode.js (which adds to \p{L}/\p{N} what tiktoken's newer tables have). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>

static size_t utf8(unsigned cp, unsigned char *s) {
    if (cp < 0x80) { s[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { s[0] = (unsigned char)(0xC0 | cp >> 6); s[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        s[0] = (unsigned char)(0xE0 | cp >> 12); s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    s[0] = (unsigned char)(0xF0 | cp >> 18); s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); s[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int main(void) {
    const char *names[2] = {"L", "N"}, *pats[2] = {"^\\p{L}$", "^\\p{N}$"};
    for (int k = 0; k < 2; k++) {
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pats[k], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        if (!re || !md) return 1;
        long start = -1, last = -1;
        for (unsigned cp = 0; cp <= 0x110000; cp++) {
            int in = 0;
            if (cp >= 0xD800 && cp <= 0xDFFF) continue; /* surrogates are not characters: a range may run across them */
            if (cp <= 0x10FFFF) {
                unsigned char s[4];
                in = pcre2_match(re, s, utf8(cp, s), 0, 0, md, NULL) >= 0;
            }
            if (in && start < 0) start = cp;
            if (in) last = cp;
            if (!in && start >= 0) {
                printf("%s %lX %lX\n", names[k], start, last);
                start = -1;
            }
        }
        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }
    char v[32];
    pcre2_config(PCRE2_CONFIG_UNICODE_VERSION, v);
    fprintf(stderr, "PCRE2 Unicode %s\n", v);
    return 0;
}
