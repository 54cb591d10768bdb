/* pretok_diff.c — print lmscope's pre-tokenizer pieces for pretok_diff.py: reads hex-encoded
 * texts, one per line, on stdin; prints the byte lengths of the pieces, space-separated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

static lms_status piece(void *user, const unsigned char *w, size_t n, int valid) {
    (void)user; (void)w; (void)valid;
    printf("%zu ", n);
    return LMS_OK;
}

int main(void) {
    static char line[1 << 20];
    static char buf[1 << 19];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strcspn(line, "\r\n") / 2;
        for (size_t i = 0; i < n; i++) {
            unsigned v;
            sscanf(line + 2 * i, "%2x", &v);
            buf[i] = (char)v;
        }
        lms_tok_pretokenize(buf, n, piece, NULL, NULL);
        printf("\n");
    }
    return 0;
}
