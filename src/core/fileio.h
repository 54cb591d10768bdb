/* fileio.h — whole-file reads, memory maps and crash-safe writes.
 *
 * Every writer in lmscope goes through lms_atomic_open/lms_atomic_commit: data is written to
 * "<path>.tmp.<pid>", flushed, fsync'd and renamed over <path>, so a crash or a full disk never
 * leaves a half-written checkpoint, shard or report. Readers get the file's length so they can
 * check every size and offset against it before touching data. Every reader opens through
 * lms_open_regular, which refuses FIFOs, devices, sockets and directories without blocking (a
 * plain open() of a FIFO with no writer waits forever).
 *
 *   lms_atomic_file f;
 *   if (lms_atomic_open(&f, "out.bin", &err)) return err.code;
 *   fwrite(..., f.fp);
 *   if (lms_atomic_commit(&f, &err)) return err.code;   // or lms_atomic_abort(&f) on failure
 */
#ifndef LMS_CORE_FILEIO_H
#define LMS_CORE_FILEIO_H

#include <stddef.h>
#include <stdio.h>
#include "core/status.h"

/* Open path read-only, refusing anything that is not a regular file: the open is non-blocking
 * and fstat decides before a byte is read, so a FIFO with no writer fails at once instead of
 * hanging. On success *fd is a blocking descriptor (close it with close()). LMS_ERR_IO when the
 * path cannot be opened or is not a regular file (the message names what it is: a FIFO, a
 * directory, a device, a socket). */
lms_status lms_open_regular(const char *path, int *fd, lms_err *err);

/* The same as a stdio stream opened "rb" (close it with fclose()). */
lms_status lms_fopen_regular(const char *path, FILE **fp, lms_err *err);

/* Read a whole file into a malloc'd buffer (NUL-terminated for convenience; *len excludes it).
 * Only regular files (lms_open_regular). The caller frees *data with free(). */
lms_status lms_file_read_all(const char *path, char **data, size_t *len, lms_err *err);

/* Read-only memory map of a whole regular file (lms_open_regular's checks). A zero-length file
 * maps to data == NULL, len == 0. */
typedef struct {
    const unsigned char *data;
    size_t len;
} lms_mmap;
lms_status lms_mmap_open(lms_mmap *m, const char *path, lms_err *err);
void lms_mmap_close(lms_mmap *m);

/* Crash-safe writer: a temporary beside the target, renamed on commit. */
typedef struct {
    FILE *fp;
    char path[4096];
    char tmp[4096 + 32];
} lms_atomic_file;
lms_status lms_atomic_open(lms_atomic_file *f, const char *path, lms_err *err);
lms_status lms_atomic_commit(lms_atomic_file *f, lms_err *err); /* checks write errors, fsyncs, renames */
void lms_atomic_abort(lms_atomic_file *f);                        /* closes and removes the temporary */

/* Write a whole buffer crash-safely. */
lms_status lms_file_write_all(const char *path, const void *data, size_t len, lms_err *err);

/* mkdir -p; succeeds if the directory exists. */
lms_status lms_mkdir_p(const char *path, lms_err *err);

int lms_path_is_dir(const char *path);
int lms_path_exists(const char *path);

/* Join a directory and a name into out (size cap); returns out. */
char *lms_path_join(char *out, size_t cap, const char *dir, const char *name);

#endif
