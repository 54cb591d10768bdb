/* dist_mpi.c — dist.h over MPI (Open MPI from Debian's libopenmpi-dev). MPI starts only under an
 * MPI launcher (dist_env.h); otherwise every function behaves as the single-process stand-in.
 * Errors keep MPI's default handler, MPI_ERRORS_ARE_FATAL: a failed call or a dead peer aborts the
 * whole job through mpirun instead of leaving the other ranks waiting.
 *
 * The large float allreduce (gradients: tens to hundreds of MB every step) is hierarchical when
 * ranks share a machine: each rank copies its buffer into its slot of an MPI-3 shared-memory window
 * of that machine, each sums its share of the elements over the slots (in rank order: the same
 * bits everywhere), one rank per machine allreduces the result with the other machines
 * (MPI_Allreduce), and every rank copies it back. Measured on 2 busy cores, 120 MB: MPI_Allreduce
 * over Open MPI's shared-memory transport 1.2-13 s (its many small fragments each wait for the
 * partner rank to be scheduled), the window a few barriers and three passes over memory.
 * Leaves out: the single-process build (dist_single.c). */
#include "dist/dist.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "dist/dist_env.h"

static int g_on, g_rank, g_size = 1, g_local = 1, g_local_rank;
static MPI_Comm g_node = MPI_COMM_NULL;    /* the ranks of this machine */
static MPI_Comm g_leaders = MPI_COMM_NULL; /* local rank 0 of every machine (MPI_COMM_NULL on the others) */
static MPI_Win g_win = MPI_WIN_NULL;       /* shared window: g_local slots of g_win_n floats */
static float **g_slot;                     /* [g_local] each rank's slot, mapped here */
static size_t g_win_n;

int lms_dist_built(void) { return 1; }
int lms_dist_launched(void) { return lms_dist_env_size(); }

lms_status lms_dist_init(int *argc, char ***argv, lms_err *err) {
    if (g_on || !lms_dist_launched()) return LMS_OK;
    int provided = 0, inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return lms_errf(err, LMS_ERR_IO, "MPI_Init failed (see mpirun's message above)");
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    /* the ranks sharing this machine's cores, to share out its threads */
    /* LMSCOPE_TEST_NODE_SIZE=k (tests only): pretend that every k consecutive ranks are one machine,
       so that one machine tests the path across machines */
    const char *fake = getenv("LMSCOPE_TEST_NODE_SIZE");
    int split = fake && atoi(fake) > 0 ? MPI_Comm_split(MPI_COMM_WORLD, g_rank / atoi(fake), g_rank, &g_node)
                                       : MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &g_node);
    if (split == MPI_SUCCESS) {
        MPI_Comm_size(g_node, &g_local);
        MPI_Comm_rank(g_node, &g_local_rank);
        MPI_Comm_split(MPI_COMM_WORLD, g_local_rank == 0 ? 0 : MPI_UNDEFINED, g_rank, &g_leaders);
    } else g_node = MPI_COMM_NULL, g_local = 1;
    return LMS_OK;
}

int lms_dist_rank(void) { return g_rank; }
int lms_dist_size(void) { return g_size; }
int lms_dist_local_size(void) { return g_local; }

/* one call per chunk of at most 2^30 elements (MPI counts are int) */
static void allreduce(void *buf, size_t n, size_t elem, MPI_Datatype t, MPI_Comm comm) {
    const size_t chunk = (size_t)1 << 30;
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * elem, (int)k, t, MPI_SUM, comm);
    }
}

/* The shared window for n floats per local rank (collective over the machine's ranks; kept for
   the next call of the same n). 0 when it cannot be had: then plain MPI_Allreduce. */
static int window(size_t n) {
    if (g_win != MPI_WIN_NULL && g_win_n == n) return 1;
    if (g_win != MPI_WIN_NULL) {
        MPI_Win_unlock_all(g_win);
        MPI_Win_free(&g_win);
        g_win = MPI_WIN_NULL;
    }
    if (!g_slot && !(g_slot = calloc((size_t)g_local, sizeof *g_slot))) return 0;
    float *base = NULL;
    if (MPI_Win_allocate_shared((MPI_Aint)(n * sizeof(float)), (int)sizeof(float), MPI_INFO_NULL, g_node, &base, &g_win) !=
        MPI_SUCCESS)
        return 0;
    for (int k = 0; k < g_local; k++) {
        MPI_Aint sz;
        int du;
        MPI_Win_shared_query(g_win, k, &sz, &du, &g_slot[k]);
    }
    MPI_Win_lock_all(MPI_MODE_NOCHECK, g_win); /* passive target for the whole life: only load/store + sync */
    g_win_n = n;
    return 1;
}

/* Everything written to the window before is seen by every local rank after. */
static void node_sync(void) {
    MPI_Win_sync(g_win);
    MPI_Barrier(g_node);
    MPI_Win_sync(g_win);
}

void lms_dist_allreduce_f32(float *buf, size_t n, lms_dist_op op) {
    if (!g_on || g_size == 1 || n == 0) return;
    const float scale = op == LMS_DIST_MEAN ? 1.0f / (float)g_size : 1.0f;
    if (g_local == 1 || !window(n)) {
        allreduce(buf, n, sizeof *buf, MPI_FLOAT, MPI_COMM_WORLD);
        if (scale != 1.0f)
            for (size_t i = 0; i < n; i++) buf[i] *= scale;
        return;
    }
    memcpy(g_slot[g_local_rank], buf, n * sizeof *buf);
    node_sync();
    /* this rank's share of the elements: slot 0 += slot 1 + ... in rank order */
    size_t per = (n / (size_t)g_local + 15) & ~(size_t)15, lo = per * (size_t)g_local_rank, hi = lo + per;
    if (lo > n) lo = n;
    if (hi > n) hi = n;
    float *s0 = g_slot[0];
    for (int k = 1; k < g_local; k++) {
        const float *sk = g_slot[k];
#pragma omp parallel for schedule(static)
        for (size_t i = lo; i < hi; i++) s0[i] += sk[i];
    }
    node_sync();
    if (g_leaders != MPI_COMM_NULL && g_size > g_local) allreduce(s0, n, sizeof *s0, MPI_FLOAT, g_leaders); /* across machines */
    if (g_size > g_local) node_sync();
    if (scale != 1.0f) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) buf[i] = s0[i] * scale;
    } else memcpy(buf, s0, n * sizeof *buf);
    MPI_Barrier(g_node); /* nobody refills slot 0 before everyone has read it */
}

void lms_dist_allreduce_f64(double *buf, size_t n, lms_dist_op op) {
    if (!g_on || g_size == 1) return;
    allreduce(buf, n, sizeof *buf, MPI_DOUBLE, MPI_COMM_WORLD);
    if (op == LMS_DIST_MEAN)
        for (size_t i = 0; i < n; i++) buf[i] /= (double)g_size;
}

int lms_dist_max_int(int v) {
    if (!g_on || g_size == 1) return v;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return v;
}

int lms_dist_any(int flag) { return lms_dist_max_int(flag != 0); }

int lms_dist_same_u64(uint64_t v) {
    if (!g_on || g_size == 1) return 1;
    unsigned long long mm[2] = {v, ~(unsigned long long)v}; /* max of v and of ~v: min and max at once */
    MPI_Allreduce(MPI_IN_PLACE, mm, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    return mm[0] == (unsigned long long)v && ~mm[1] == (unsigned long long)v;
}

void lms_dist_barrier(void) {
    if (g_on && g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
}

lms_status lms_dist_agree(lms_status st, lms_err *err) {
    if (!g_on || g_size == 1) return st;
    int first = g_size - lms_dist_max_int(st ? g_size - g_rank : 0); /* the lowest failing rank; g_size: none */
    if (first == g_size) return LMS_OK;
    struct { int code; char msg[sizeof err->msg]; } m = {0};
    if (g_rank == first) {
        m.code = (int)st;
        if (err) snprintf(m.msg, sizeof m.msg, "%s", err->msg);
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD);
    if (err && g_rank != first) snprintf(err->msg, sizeof err->msg, "%s", m.msg);
    if (err && first != 0) lms_err_prefix(err, "MPI rank %d: ", first);
    if (err) err->code = (lms_status)m.code;
    return (lms_status)m.code;
}

void lms_dist_abort(int code) {
    if (g_on) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

void lms_dist_finalize(void) {
    if (!g_on) return;
    if (g_win != MPI_WIN_NULL) {
        MPI_Win_unlock_all(g_win);
        MPI_Win_free(&g_win);
    }
    if (g_leaders != MPI_COMM_NULL) MPI_Comm_free(&g_leaders);
    if (g_node != MPI_COMM_NULL) MPI_Comm_free(&g_node);
    free(g_slot);
    g_slot = NULL;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
    g_on = 0;
}

int lms_dist_default_threads(int available) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int local = lms_dist_local_size();
    if (local > 1 && available >= online) available /= local; /* not bound: every rank sees all cores */
    return available > 0 ? available : 1;
}
