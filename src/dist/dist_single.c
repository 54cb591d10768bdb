/* dist_single.c — the single-process stand-in for dist.h, for builds without MPI: rank 0 of 1,
 * every reduction the identity. A launch with several ranks is refused by lms_dist_init.
 * Leaves out: everything MPI (dist_mpi.c). */
#include "dist/dist.h"

#include <stdlib.h>
#include <unistd.h>

#include "dist/dist_env.h"

int lms_dist_built(void) { return 0; }
int lms_dist_launched(void) { return lms_dist_env_size(); }

lms_status lms_dist_init(int *argc, char ***argv, lms_err *err) {
    (void)argc, (void)argv;
    if (lms_dist_env_size() > 1)
        return lms_errf(err, LMS_ERR_UNSUPPORTED,
                        "started by mpirun with %d ranks, but this lmscope was built without MPI: every rank would run the "
                        "whole job alone. Install Open MPI (libopenmpi-dev openmpi-bin) and rebuild (make MPI=1), "
                        "or run without mpirun", lms_dist_env_size());
    return LMS_OK;
}

int lms_dist_rank(void) { return 0; }
int lms_dist_size(void) { return 1; }
int lms_dist_local_size(void) { return 1; }
void lms_dist_allreduce_f32(float *buf, size_t n, lms_dist_op op) { (void)buf, (void)n, (void)op; }
void lms_dist_allreduce_f64(double *buf, size_t n, lms_dist_op op) { (void)buf, (void)n, (void)op; }
int lms_dist_any(int flag) { return flag != 0; }
int lms_dist_max_int(int v) { return v; }
int lms_dist_same_u64(uint64_t v) { (void)v; return 1; }
void lms_dist_barrier(void) {}
lms_status lms_dist_agree(lms_status st, lms_err *err) { (void)err; return st; }
void lms_dist_abort(int code) { exit(code); }
void lms_dist_finalize(void) {}

int lms_dist_default_threads(int available) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int local = lms_dist_local_size();
    if (local > 1 && available >= online) available /= local; /* not bound: every rank sees all cores */
    return available > 0 ? available : 1;
}
