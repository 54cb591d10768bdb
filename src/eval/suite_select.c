/* suite_select.c — which suite files a list names (suite.h "choosing suites"): eval's --suites
 * ("all", names in the suite dir, paths) and a sweep grid's "suites" (directories and files), over
 * one directory listing, so the two cannot drift in what counts as a suite.
 *
 * Leaves out: reading the suites (suite.c), scoring them (evaluate.c).
 */
#include "eval/suite.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"

void lms_suite_list_free(lms_suite_list *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++) free(l->path[i]);
    free(l->path);
    memset(l, 0, sizeof *l);
}

static lms_status push(lms_suite_list *l, const char *path, lms_err *err) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->path, (size_t)nc * sizeof *v);
        if (!v) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        l->path = v;
        l->cap = nc;
    }
    if (!(l->path[l->n] = strdup(path))) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    l->n++;
    return LMS_OK;
}

static int has_ext(const char *s, const char *ext) {
    size_t n = strlen(s), e = strlen(ext);
    return n > e && !strcmp(s + n - e, ext);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

lms_status lms_suite_list_dir(lms_suite_list *l, const char *dir, lms_err *err) {
    DIR *d = opendir(dir);
    if (!d) return lms_errf(err, LMS_ERR_IO, "cannot read the directory %s", dir);
    int first = l->n;
    lms_status st = LMS_OK;
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !(has_ext(e->d_name, ".jsonl") || has_ext(e->d_name, ".csv"))) continue;
        char p[PATH_MAX + 256];
        lms_path_join(p, sizeof p, dir, e->d_name);
        if (!lms_path_is_dir(p)) st = push(l, p, err);
    }
    closedir(d);
    qsort(l->path + first, (size_t)(l->n - first), sizeof *l->path, cmp_str);
    return st;
}

void lms_suite_default_dir(char *out, size_t cap) {
    out[0] = 0;
    if (lms_path_is_dir("data/suites")) {
        snprintf(out, cap, "data/suites");
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = 0;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/data/suites", exe);
    if (lms_path_is_dir(p)) {
        snprintf(out, cap, "%s", p);
        return;
    }
    snprintf(p, sizeof p, "%s/../data/suites", exe);
    if (lms_path_is_dir(p)) snprintf(out, cap, "%s", p);
}

/* NAMES: one entry -> its path in p ("" when not found). */
static void find_named(const char *name, const char *dir, char *p, size_t cap) {
    int found = 0;
    if (strchr(name, '/') || has_ext(name, ".jsonl") || has_ext(name, ".csv")) {
        snprintf(p, cap, "%s", name);
        found = lms_path_exists(p);
        if (!found && dir[0] && !strchr(name, '/')) {
            lms_path_join(p, cap, dir, name);
            found = lms_path_exists(p);
        }
    } else if (dir[0]) {
        snprintf(p, cap, "%s/%s.jsonl", dir, name);
        found = lms_path_exists(p);
        if (!found) {
            snprintf(p, cap, "%s/%s.csv", dir, name);
            found = lms_path_exists(p);
        }
    }
    if (!found) p[0] = 0;
}

/* NAMES: the message for a name not found, with the names dir holds. */
static lms_status not_found(const char *name, const char *dir, lms_err *err) {
    if (!dir[0])
        return lms_errf(err, LMS_ERR_ARG, "no suite '%s': no suite dir found; give --suite-dir DIR or a path to a "
                        ".jsonl/.csv file", name);
    lms_suite_list all = {0};
    lms_err ignored = {0};
    char names[600] = "";
    if (!lms_suite_list_dir(&all, dir, &ignored))
        for (int i = 0; i < all.n && strlen(names) < 500; i++) {
            const char *b = strrchr(all.path[i], '/') ? strrchr(all.path[i], '/') + 1 : all.path[i];
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.*s", i ? ", " : "",
                     (int)(strrchr(b, '.') - b), b);
        }
    lms_suite_list_free(&all);
    return lms_errf(err, LMS_ERR_ARG, "no suite '%s' in %s (known: %s); give a name from there or a path to a .jsonl/.csv "
                    "file", name, dir, names[0] ? names : "none");
}

/* NAMES: "all" -> every suite of dir. */
static lms_status select_all(lms_suite_list *out, const char *dir, lms_err *err) {
    if (!dir[0])
        return lms_errf(err, LMS_ERR_ARG, "no suite dir found (data/suites under the working directory or the executable's "
                        "repository); give --suite-dir DIR or suite files with --suites a.jsonl,b.csv");
    int first = out->n;
    lms_status st = lms_suite_list_dir(out, dir, err);
    if (st == LMS_ERR_IO) return lms_errf(err, LMS_ERR_ARG, "cannot read the suite dir %s", dir);
    if (!st && out->n == first) return lms_errf(err, LMS_ERR_ARG, "the suite dir %s holds no .jsonl or .csv suites", dir);
    return st;
}

/* PATHS: one entry, a directory (its suites) or a file. */
static lms_status add_path(lms_suite_list *out, const char *t, lms_err *err) {
    if (!lms_path_exists(t))
        return lms_errf(err, LMS_ERR_ARG, "%s does not exist (give suite directories such as data/suites, or suite files, "
                        "joined by ',')", t);
    if (!lms_path_is_dir(t)) return push(out, t, err);
    int first = out->n;
    lms_status st = lms_suite_list_dir(out, t, err);
    if (st == LMS_ERR_IO) return lms_errf(err, LMS_ERR_ARG, "cannot read the directory %s", t);
    if (!st && out->n == first) return lms_errf(err, LMS_ERR_ARG, "%s holds no .jsonl or .csv suite", t);
    return st;
}

lms_status lms_suite_select(lms_suite_list *out, const char *spec, lms_suite_spec form, const char *dir, lms_err *err) {
    const int names = form == LMS_SUITE_SPEC_NAMES;
    if (!dir) dir = "";
    if (names && !strcmp(spec, "all")) return select_all(out, dir, err);
    char *copy = strdup(spec);
    if (!copy) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    lms_status st = LMS_OK;
    int first = out->n;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && !st; t = strtok_r(NULL, ",", &save)) {
        if (!names) {
            st = add_path(out, t, err);
            continue;
        }
        while (*t == ' ') t++;
        if (!*t) continue;
        char p[PATH_MAX + 300];
        find_named(t, dir, p, sizeof p);
        st = p[0] ? push(out, p, err) : not_found(t, dir, err);
    }
    free(copy);
    if (!st && names && out->n == first) st = lms_errf(err, LMS_ERR_ARG, "--suites names no suite");
    return st;
}
