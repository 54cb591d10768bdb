/* fileio.c — see fileio.h. */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

lms_status lms_open_regular(const char *path, int *fd, lms_err *err) {
    *fd = -1;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) return lms_errf(err, LMS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return lms_errf(err, LMS_ERR_IO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return lms_errf(err, LMS_ERR_IO, "'%s' is %s, not a regular file; lmscope reads only regular files (save the data to a file "
                        "first)", path, file_kind(st.st_mode));
    }
    int fl = fcntl(f, F_GETFL);
    if (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(f);
        return lms_errf(err, LMS_ERR_IO, "cannot read '%s': %s", path, strerror(e));
    }
    *fd = f;
    return LMS_OK;
}

lms_status lms_fopen_regular(const char *path, FILE **fp, lms_err *err) {
    *fp = NULL;
    int fd;
    lms_status s = lms_open_regular(path, &fd, err);
    if (s) return s;
    *fp = fdopen(fd, "rb");
    if (!*fp) {
        int e = errno;
        close(fd);
        return lms_errf(err, LMS_ERR_IO, "cannot read '%s': %s", path, strerror(e));
    }
    return LMS_OK;
}

lms_status lms_file_read_all(const char *path, char **data, size_t *len, lms_err *err) {
    *data = NULL;
    *len = 0;
    FILE *fp;
    lms_status s = lms_fopen_regular(path, &fp, err);
    if (s) return s;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        fclose(fp);
        return lms_errf(err, LMS_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) { fclose(fp); return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading '%s'", path); }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) break;
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) { free(buf); fclose(fp); return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading '%s'", path); }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) { free(buf); return lms_errf(err, LMS_ERR_IO, "error reading '%s'", path); }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return LMS_OK;
}

lms_status lms_mmap_open(lms_mmap *m, const char *path, lms_err *err) {
    m->data = NULL;
    m->len = 0;
    int fd;
    lms_status s = lms_open_regular(path, &fd, err);
    if (s) return s;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return lms_errf(err, LMS_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return lms_errf(err, LMS_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
        }
        m->data = p;
        m->len = (size_t)st.st_size;
    }
    close(fd);
    return LMS_OK;
}

void lms_mmap_close(lms_mmap *m) {
    if (m->data) munmap((void *)m->data, m->len);
    m->data = NULL;
    m->len = 0;
}

lms_status lms_atomic_open(lms_atomic_file *f, const char *path, lms_err *err) {
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path) return lms_errf(err, LMS_ERR_ARG, "path too long: '%s'", path);
    strcpy(f->path, path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%d", path, (int)getpid());
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp) return lms_errf(err, LMS_ERR_IO, "cannot create '%s': %s", f->tmp, strerror(errno));
    return LMS_OK;
}

lms_status lms_atomic_commit(lms_atomic_file *f, lms_err *err) {
    int bad = fflush(f->fp) != 0 || ferror(f->fp);
    if (!bad) bad = fsync(fileno(f->fp)) != 0;
    int saved = errno;
    if (fclose(f->fp) != 0) bad = 1;
    f->fp = NULL;
    if (bad) {
        unlink(f->tmp);
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed (%s); the previous file, if any, is untouched",
                        f->path, strerror(saved));
    }
    if (rename(f->tmp, f->path) != 0) {
        saved = errno;
        unlink(f->tmp);
        return lms_errf(err, LMS_ERR_IO, "cannot rename into '%s': %s", f->path, strerror(saved));
    }
    return LMS_OK;
}

void lms_atomic_abort(lms_atomic_file *f) {
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    if (f->tmp[0]) unlink(f->tmp);
}

lms_status lms_file_write_all(const char *path, const void *data, size_t len, lms_err *err) {
    lms_atomic_file f;
    lms_status s = lms_atomic_open(&f, path, err);
    if (s) return s;
    if (len && fwrite(data, 1, len, f.fp) != len) {
        lms_atomic_abort(&f);
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed: %s", path, strerror(errno));
    }
    return lms_atomic_commit(&f, err);
}

lms_status lms_mkdir_p(const char *path, lms_err *err) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return lms_errf(err, LMS_ERR_ARG, "path too long: '%s'", path);
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return lms_errf(err, LMS_ERR_IO, "cannot create directory '%s': %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return lms_errf(err, LMS_ERR_IO, "cannot create directory '%s': %s", buf, strerror(errno));
    if (!lms_path_is_dir(buf)) return lms_errf(err, LMS_ERR_IO, "'%s' exists and is not a directory", buf);
    return LMS_OK;
}

int lms_path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int lms_path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

char *lms_path_join(char *out, size_t cap, const char *dir, const char *name) {
    size_t n = strlen(dir);
    snprintf(out, cap, "%s%s%s", dir, (n && dir[n - 1] == '/') ? "" : "/", name);
    return out;
}
