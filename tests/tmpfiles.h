/* tmpfiles.h — scratch files for tests that write: a new directory /tmp/<PREFIX>_XXXXXX (mkdtemp)
 * made on first use (TH_TMP_PREFIX, defined before including this), paths in it, and a count of
 * the temporaries ("NAME.tmp.*") that a failed or interrupted atomic write would leave behind.
 *
 *   #define TH_TMP_PREFIX "lms_test_ckpt"
 *   #include "tmpfiles.h"
 *   save(tmp_path("a.safetensors")); CHECK(count_temporaries(tmpdir) == 0);
 *
 * Leaves out: removing the directory (the tests leave it for inspection; /tmp is cleaned by the OS).
 */
#ifndef LMS_TESTS_TMPFILES_H
#define LMS_TESTS_TMPFILES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TH_TMP_PREFIX
#error "define TH_TMP_PREFIX (the scratch directory's name in /tmp) before including tmpfiles.h"
#endif

static char tmpdir[64]; /* "/tmp/" TH_TMP_PREFIX "_XXXXXX" */

/* tmpdir/name; the result stays valid for the next 7 calls (8 rotating buffers) */
static inline const char *tmp_path(const char *name) {
    static char buf[8][600];
    static int k;
    k = (k + 1) % 8;
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/" TH_TMP_PREFIX "_XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("tmpfiles.h: mkdtemp");
            abort();
        }
    }
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Entries of dir whose name contains ".tmp." (left-over temporaries). */
static inline int count_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

#endif
