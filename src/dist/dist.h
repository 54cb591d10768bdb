/* dist.h — the few MPI calls lmscope makes, in one place: start-up, rank and size, sums over
 * ranks, agreement on flags, barrier, abort, finalize. Built against Open MPI when the build has
 * it (dist_mpi.c, `make MPI=1`, the default when mpicc is present); otherwise a single-process
 * stand-in with the same functions (dist_single.c: rank 0 of 1, every reduction the identity).
 *
 * MPI starts only when the process was launched by mpirun/srun (Open MPI sets
 * OMPI_COMM_WORLD_SIZE, PMIx sets PMIX_RANK, MPICH/Slurm set PMI_SIZE): a plain `lmscope train`
 * never pays for MPI start-up nor sees its warnings, and is rank 0 of 1.
 *
 *   lms_err err = {0};
 *   if (lms_dist_init(&argc, &argv, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
 *   ... each rank computes its gradient g[n] ...
 *   lms_dist_allreduce_f32(g, n, LMS_DIST_MEAN);          // now every rank holds the mean
 *   if (lms_dist_any(local_stop)) ...                      // every rank takes the same branch
 *   lms_dist_finalize();
 *
 * Failures: communication errors are fatal under MPI's default error handler (the job is
 * aborted with a message from mpirun; a rank that dies takes the others down with it, so nothing
 * hangs), so the reductions return nothing to check. Every function except lms_dist_init must be
 * called by all ranks in the same order (they are collective), from the main thread only.
 *
 * Leaves out: point-to-point messages, sub-communicators, NCCL, anything asynchronous.
 */
#ifndef LMS_DIST_DIST_H
#define LMS_DIST_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* 1 when this build has MPI (it may still run as a single process). */
int lms_dist_built(void);

/* The number of ranks an MPI launcher started (>= 1; the environment says so), whether or not the
   build has MPI; 0 when the process was not started by one. Needs no lms_dist_init. */
int lms_dist_launched(void);

/* Start MPI if launched by an MPI launcher (MPI_THREAD_FUNNELED: OpenMP threads inside a rank,
   MPI calls from the main thread). Idempotent. Without MPI in the build and launched with more
   than one rank: LMS_ERR_UNSUPPORTED saying to rebuild with MPI (every rank would otherwise
   train the whole job on its own). */
lms_status lms_dist_init(int *argc, char ***argv, lms_err *err);

int lms_dist_rank(void);       /* 0 .. size-1; 0 before init or without MPI */
int lms_dist_size(void);       /* ranks in the job; 1 before init or without MPI */
int lms_dist_local_size(void); /* ranks on this machine (sharing its cores); 1 without MPI */

/* OpenMP threads for this rank when the user chose none: `available` (the threads OpenMP offers
   this process) when mpirun bound the rank to its own cores (fewer than the machine has), else
   the machine's cores shared out among the ranks on it; at least 1. */
int lms_dist_default_threads(int available);

typedef enum { LMS_DIST_SUM, LMS_DIST_MEAN } lms_dist_op;

/* In place: buf[n] becomes the sum (or mean) over ranks, the same bits on every rank. n may
   exceed INT_MAX (sent in chunks). */
void lms_dist_allreduce_f32(float *buf, size_t n, lms_dist_op op);
/* The same for doubles (loss sums, token counts held exactly below 2^53). */
void lms_dist_allreduce_f64(double *buf, size_t n, lms_dist_op op);

int lms_dist_any(int flag);            /* 1 when flag is nonzero on some rank */
int lms_dist_max_int(int v);           /* the largest v over ranks */
int lms_dist_same_u64(uint64_t v);     /* 1 when every rank passed the same v */
void lms_dist_barrier(void);

/* Agree on the outcome of a step that can fail on some ranks only (opening a run, writing a
   checkpoint on rank 0): every rank returns the status of the lowest rank that failed, with its
   message in *err (prefixed "MPI rank N: " when N is not 0), or LMS_OK when none failed. */
lms_status lms_dist_agree(lms_status st, lms_err *err);

/* End the whole job now with exit code `code` on every rank (MPI_Abort); without MPI, exit(code).
   For the CLI only, after it printed why: a failure that only this rank saw and that the others
   cannot learn about through a collective call. */
void lms_dist_abort(int code) __attribute__((noreturn));

/* Shut MPI down (after the last collective call). Idempotent; nothing without MPI. */
void lms_dist_finalize(void);

#endif
