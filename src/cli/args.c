/* args.c — see args.h. */
#include "cli/args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lms_cli_print_json(const char *cmd, json_t *o, int digits) {
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(digits)) : NULL;
    json_decref(o);
    if (!s) {
        lms_cli_error(cmd, "out of memory");
        return 1;
    }
    puts(s);
    free(s);
    return 0;
}

void lms_cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lmscope %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void print_default(const lms_flag *f) {
    switch (f->type) {
    case LMS_FLAG_INT: printf("%d", *(int *)f->ptr); break;
    case LMS_FLAG_I64: printf("%lld", (long long)*(int64_t *)f->ptr); break;
    case LMS_FLAG_FLOAT: printf("%g", (double)*(float *)f->ptr); break;
    case LMS_FLAG_DOUBLE: printf("%g", *(double *)f->ptr); break;
    case LMS_FLAG_STR: printf("%s", *(const char **)f->ptr ? *(const char **)f->ptr : "(none)"); break;
    case LMS_FLAG_BOOL: printf("%s", *(int *)f->ptr ? "on" : "off"); break;
    }
}

static void print_help(const char *cmd, const char *summary, const lms_flag *flags) {
    printf("usage: lmscope %s [flags]\n\n%s\n\nflags (default in brackets):\n", cmd, summary);
    for (const lms_flag *f = flags; f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", f->name, f->type == LMS_FLAG_BOOL ? "" : " X");
        printf("  %-22s %s [", left, f->help);
        print_default(f);
        printf("]\n");
    }
    printf("  %-22s %s\n", "--help", "print this help");
}

static int set_value(const char *cmd, lms_flag *f, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case LMS_FLAG_INT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || x < -2147483647L || x > 2147483647L) goto bad;
        *(int *)f->ptr = (int)x;
        break;
    }
    case LMS_FLAG_I64: {
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end) goto bad;
        *(int64_t *)f->ptr = x;
        break;
    }
    case LMS_FLAG_FLOAT: {
        float x = strtof(v, &end);
        if (errno || end == v || *end) goto bad;
        *(float *)f->ptr = x;
        break;
    }
    case LMS_FLAG_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || end == v || *end) goto bad;
        *(double *)f->ptr = x;
        break;
    }
    case LMS_FLAG_STR: *(const char **)f->ptr = v; break;
    case LMS_FLAG_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on")) *(int *)f->ptr = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "off")) *(int *)f->ptr = 0;
        else goto bad;
        break;
    }
    f->seen = 1;
    return 0;
bad:
    lms_cli_error(cmd, "--%s expects %s, got '%s'", f->name,
                  f->type == LMS_FLAG_INT || f->type == LMS_FLAG_I64 ? "an integer"
                  : f->type == LMS_FLAG_BOOL                         ? "on/off"
                                                                     : "a number",
                  v);
    return 2;
}

int lms_args_parse(const char *cmd, const char *summary, lms_flag *flags, int argc, char **argv,
                   char ***pos, int *npos) {
    /* Positional arguments are compacted to the front of argv[1..]. */
    int np = 0;
    char **out = argv + 1;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] != '-') {
            if (!only_pos && a[0] == '-' && a[1] && a[1] != '-' && strcmp(a, "-") != 0) {
                if (!strcmp(a, "-h")) { print_help(cmd, summary, flags); return 1; }
                lms_cli_error(cmd, "unknown flag '%s' (flags start with --; see --help)", a);
                return 2;
            }
            out[np++] = a;
            continue;
        }
        if (!strcmp(a, "--")) { only_pos = 1; continue; }
        if (!strcmp(a, "--help")) { print_help(cmd, summary, flags); return 1; }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        lms_flag *f = NULL;
        int negate = 0;
        for (lms_flag *g = flags; g->name; g++)
            if (strlen(g->name) == nlen && !strncmp(g->name, name, nlen)) { f = g; break; }
        if (!f && nlen > 3 && !strncmp(name, "no-", 3)) {
            for (lms_flag *g = flags; g->name; g++)
                if (g->type == LMS_FLAG_BOOL && strlen(g->name) == nlen - 3 && !strncmp(g->name, name + 3, nlen - 3)) {
                    f = g;
                    negate = 1;
                    break;
                }
        }
        if (!f) {
            lms_cli_error(cmd, "unknown flag '--%.*s' (see 'lmscope %s --help')", (int)nlen, name, cmd);
            return 2;
        }
        if (f->type == LMS_FLAG_BOOL && !eq) {
            *(int *)f->ptr = !negate;
            f->seen = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) { lms_cli_error(cmd, "--%s needs a value", f->name); return 2; }
            v = argv[++i];
        }
        if (set_value(cmd, f, v)) return 2;
    }
    *pos = out;
    *npos = np;
    return 0;
}

int lms_args_seen(const lms_flag *flags, const char *name) {
    for (const lms_flag *f = flags; f->name; f++)
        if (!strcmp(f->name, name)) return f->seen;
    return 0;
}
