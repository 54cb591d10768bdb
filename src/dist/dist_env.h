/* dist_env.h — how many ranks the MPI launcher says the job has, from the environment alone
 * (OMPI_COMM_WORLD_SIZE for Open MPI's mpirun, PMI_SIZE for MPICH/Slurm; PMIX_RANK alone counts
 * as a launch of unknown size, 1). 0: not launched by an MPI launcher. Internal to src/dist/. */
#ifndef LMS_DIST_ENV_H
#define LMS_DIST_ENV_H

#include <stdlib.h>

static inline int lms_dist_env_size(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}

#endif
