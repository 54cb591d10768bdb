/* run_dir.c — see run_dir.h; also lms_train_list_checkpoints and lms_train_is_log_step (train.h). */
#define _GNU_SOURCE
#include "train/run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/fileio.h"
#include "train/train.h"

lms_status lms_run_dir_lock(const char *run_dir, int *fd, lms_err *err) {
    *fd = -1;
    char p[LMS_TRAIN_PATH + 64];
    lms_path_join(p, sizeof p, run_dir, "lock");
    int f = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0) return lms_errf(err, LMS_ERR_IO, "cannot create the lock file %s: %s", p, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(f);
        if (e == EWOULDBLOCK)
            return lms_errf(err, LMS_ERR_IO, "%s is in use: another 'lmscope train' process is training it (it holds %s); "
                            "wait for it to finish or stop it, then --resume; or pick another --out", run_dir, p);
        return lms_errf(err, LMS_ERR_IO, "cannot lock %s: %s", p, strerror(e));
    }
    *fd = f;
    return LMS_OK;
}

static int clean_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".tmp.")) continue;
        char p[LMS_TRAIN_PATH + 320];
        lms_path_join(p, sizeof p, dir, e->d_name);
        n += unlink(p) == 0;
    }
    closedir(d);
    return n;
}

int lms_run_dir_clean_tmp(const char *run_dir) {
    char p[LMS_TRAIN_PATH + 64];
    return clean_dir(run_dir) + clean_dir(lms_path_join(p, sizeof p, run_dir, "checkpoints"));
}

int lms_train_is_log_step(int64_t step) { return step == 0 || (step > 0 && (step & (step - 1)) == 0); }

static int cmp_ckpt(const void *a, const void *b) {
    int64_t x = ((const lms_train_checkpoint *)a)->step, y = ((const lms_train_checkpoint *)b)->step;
    return x < y ? -1 : x > y;
}

lms_status lms_train_list_checkpoints(const char *run_dir, lms_train_checkpoint **out, int *n, lms_err *err) {
    *out = NULL;
    *n = 0;
    char d[LMS_TRAIN_PATH + 64];
    lms_path_join(d, sizeof d, run_dir, "checkpoints");
    DIR *dir = opendir(d);
    if (!dir) return lms_errf(err, LMS_ERR_IO, "%s has no checkpoints directory (%s); is it an lmscope run dir?", run_dir, strerror(errno));
    lms_train_checkpoint *v = NULL;
    int cap = 0;
    struct dirent *e;
    lms_status st = LMS_OK;
    while ((e = readdir(dir))) {
        long long s;
        int end = 0;
        /* exactly step_<digits>.safetensors: not .optim.safetensors, not a temporary */
        if (strncmp(e->d_name, "step_", 5) || sscanf(e->d_name, "step_%lld.safetensors%n", &s, &end) != 1 ||
            e->d_name[end] || s < 0 || !end)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            lms_train_checkpoint *nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) {
                st = lms_errf(err, LMS_ERR_NOMEM, "out of memory listing %s", d);
                break;
            }
            v = nv;
        }
        lms_train_checkpoint *c = &v[(*n)++];
        c->step = s;
        c->log_step = lms_train_is_log_step(s);
        if (snprintf(c->path, sizeof c->path, "%s/%s", d, e->d_name) >= (int)sizeof c->path) {
            st = lms_errf(err, LMS_ERR_ARG, "run dir path too long: %s", run_dir);
            break;
        }
    }
    closedir(dir);
    if (st) {
        free(v);
        *n = 0;
        return st;
    }
    if (*n) qsort(v, (size_t)*n, sizeof *v, cmp_ckpt);
    *out = v;
    return LMS_OK;
}
