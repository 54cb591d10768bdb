/* fileio.c — see fileio.h. */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

lms_status lms_file_read_all(const char *path, char **data, size_t *len, lms_err *err) {
    *data = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return lms_errf(err, LMS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || S_ISDIR(st.st_mode)) {
        fclose(fp);
        return lms_errf(err, LMS_ERR_IO, "'%s' is not a regular file", path);
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
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lms_errf(err, LMS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lms_errf(err, LMS_ERR_IO, "'%s' is not a regular file", path);
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
