/* sweep_internal.h — what sweep.c and sweep_eval.c share (not a public API). */
#ifndef LMS_SCALING_SWEEP_INTERNAL_H
#define LMS_SCALING_SWEEP_INTERNAL_H

#include "scaling/db.h"
#include "scaling/sweep.h"

/* After run i of p finished training in dir: metrics, whole-set validation loss and per-domain
   losses, suites, samples, token losses (and the log-spaced checkpoints of the largest shape) into
   db; fills row's final_train_loss, val_loss and val_bpb (the caller writes the row). */
lms_status lms_sweep_evaluate(const lms_sweep_plan *p, int i, const char *dir, lms_sweepdb *db, lms_sweepdb_run *row,
                              lms_err *err);

#endif
