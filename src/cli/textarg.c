/* textarg.c — see textarg.h. */
#include "cli/textarg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "core/fileio.h"
#include "eval/lm.h"

static int read_stream(FILE *fp, char **text, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return -1;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return -1;
            }
            buf = nb, cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, fp);
        n += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *text = buf, *len = n;
    return 0;
}

int lms_cli_read_text(const char *cmd, const char *arg, char **text, size_t *len) {
    *text = NULL, *len = 0;
    if (!arg) {
        lms_cli_error(cmd, "--text is required (the text, or @FILE to read it from a file, @- from stdin)");
        return 2;
    }
    if (arg[0] == '@' && arg[1] != '@') {
        const char *path = arg + 1;
        if (!strcmp(path, "-")) {
            if (read_stream(stdin, text, len)) {
                lms_cli_error(cmd, "reading the text from standard input failed");
                return 2;
            }
        } else {
            struct stat st;
            if (!path[0]) {
                lms_cli_error(cmd, "--text @: give a file name after '@' (or @- for stdin)");
                return 2;
            }
            if (stat(path, &st) != 0) {
                lms_cli_error(cmd, "--text @%s: %s", path, strerror(errno));
                return 2;
            }
            if (!S_ISREG(st.st_mode)) {
                lms_cli_error(cmd, "--text @%s: not a regular file (a %s); give a text file",
                              path, S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "FIFO" : "device or socket");
                return 2;
            }
            lms_err err = {0};
            if (lms_file_read_all(path, text, len, &err)) {
                lms_cli_error(cmd, "--text @%s: %s", path, err.msg);
                return 2;
            }
        }
    } else {
        const char *s = arg[0] == '@' ? arg + 1 : arg; /* "@@x" is the text "@x" */
        *len = strlen(s);
        *text = malloc(*len + 1);
        if (!*text) {
            lms_cli_error(cmd, "out of memory");
            return 2;
        }
        memcpy(*text, s, *len + 1);
    }
    if (*len == 0) {
        free(*text);
        *text = NULL;
        lms_cli_error(cmd, "the text is empty: nothing to score");
        return 2;
    }
    return 0;
}

int lms_cli_open_model(const char *cmd, lms_lm *lm, const char *path, const char *tokenizer) {
    if (!path) {
        lms_cli_error(cmd, "--model is required (a run dir, a .safetensors file, a Hugging Face GPT-2 dir or an llm.c .bin)");
        return 2;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        lms_cli_error(cmd, "--model %s: no such file or directory", path);
        return 2;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        lms_cli_error(cmd, "--model %s: not a regular file or directory", path);
        return 2;
    }
    lms_err err = {0};
    lms_status s = lms_lm_open(lm, path, tokenizer, &err);
    if (s) {
        lms_cli_error(cmd, "%s", err.msg);
        return s == LMS_ERR_ARG || s == LMS_ERR_MISMATCH ? 2 : 1;
    }
    return 0;
}
