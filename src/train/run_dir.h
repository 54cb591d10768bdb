/* run_dir.h — run-directory housekeeping shared by train.c: the exclusive lock that keeps two
 * processes from training the same run, and the removal of temporaries a killed process left.
 * The listing of checkpoints is public (train.h: lms_train_list_checkpoints).
 *
 * Leaves out: the files' contents (train.c, config.c).
 */
#ifndef LMS_TRAIN_RUN_DIR_H
#define LMS_TRAIN_RUN_DIR_H

#include "core/status.h"

/* Take an exclusive, non-blocking flock on run_dir/lock (created if missing; run_dir must exist).
 * *fd holds it until closed (the kernel also drops it when the process dies, kill -9 included).
 * LMS_ERR_IO when another process holds it (the message says so and how to proceed) or the file
 * cannot be created. */
lms_status lms_run_dir_lock(const char *run_dir, int *fd, lms_err *err);

/* Remove "*.tmp.*" files (lms_atomic_open's temporaries) in run_dir and run_dir/checkpoints. Only
 * call it while holding the lock: a live writer's temporary would go too. Returns how many. */
int lms_run_dir_clean_tmp(const char *run_dir);

#endif
