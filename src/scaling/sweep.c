/* sweep.c — running a sweep plan: the sweep dir's lock, the database rows, training each run (new,
 * resumed, or a WSD cool-down branch copied from its long run's checkpoint), the evaluation after
 * it, failures recorded, and the sweep-wide progress with an ETA. See sweep.h.
 *
 * Leaves out: the grid and plan (sweep_grid.c), what is measured after a run (sweep_eval.c),
 * MPI itself (the caller agrees on the outcome; src/dist).
 */
#define _XOPEN_SOURCE 700
#include "scaling/sweep_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "dist/dist.h"
#include "train/train.h"

lms_sweep_opts lms_sweep_opts_default(void) {
    lms_sweep_opts o = {0};
    o.n_ranks = 1;
    return o;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb, (void)flag, (void)f;
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static lms_status copy_file(const char *from, const char *to, lms_err *err) {
    char *d = NULL;
    size_t n = 0;
    lms_status st = lms_file_read_all(from, &d, &n, err);
    if (!st) st = lms_file_write_all(to, d, n, err);
    free(d);
    return st;
}

/* The sweep's state while it runs. */
typedef struct {
    const lms_sweep_plan *p;
    const lms_sweep_opts *o;
    lms_sweepdb *db;
    char dir[LMS_SWEEP_PATH];
    double flops_done;     /* own FLOPs of finished runs */
    double session_flops;  /* FLOPs trained in this process */
    double t0;
    int cur;               /* run in flight */
    double cur_base;       /* FLOPs of the current run before this process touched it */
    int64_t cur_start_step;
    int64_t stop_at;       /* trunk: stop here to copy a branch; -1 */
    int branch_hit;
    volatile sig_atomic_t stop;
    int *owner;            /* [n_runs] the MPI rank that trains each run */
    double flops_total;    /* own FLOPs of this rank's runs */
} sweep_state;

static void report(sweep_state *s, const char *event, int64_t step, int64_t steps, float loss, double run_flops,
                   const char *error) {
    if (!s->o->progress) return;
    lms_sweep_progress pr = {.event = event, .run = s->p->run[s->cur].name, .run_index = s->cur + 1,
                             .n_runs = s->p->n_runs, .step = step, .steps = steps, .loss = loss, .error = error};
    pr.flops_done = s->flops_done + run_flops;
    pr.flops_total = s->flops_total;
    pr.elapsed_s = lms_now() - s->t0;
    pr.eta_s = s->session_flops > 0 ? pr.elapsed_s / s->session_flops * (pr.flops_total - pr.flops_done) : NAN;
    if (pr.eta_s < 0) pr.eta_s = 0;
    s->o->progress(&pr, s->o->user);
}

static void on_step(const lms_train_progress *tp, void *user) {
    sweep_state *s = user;
    const lms_sweep_run_plan *r = &s->p->run[s->cur];
    double per_step = r->flops / (double)r->steps;
    double first = r->parent >= 0 ? (double)r->branch_step : 0; /* a branch's own FLOPs start at its branch step */
    double run_flops = ((double)tp->step - first) * per_step;
    s->session_flops = s->cur_base + ((double)(tp->step - s->cur_start_step)) * per_step;
    report(s, "step", tp->step, tp->steps, tp->loss, run_flops, NULL);
    if (s->o->stop && *s->o->stop) s->stop = 1;
    if (s->stop_at >= 0 && tp->step >= s->stop_at) s->stop = 1, s->branch_hit = 1;
}

static void run_dir_of(const sweep_state *s, int i, char *out, size_t cap) {
    snprintf(out, cap, "%s/runs/%s", s->dir, s->p->run[i].name);
}

/* Copy the trunk's checkpoint at its current (= branch) step into branch b's run dir, atomically
   (a temporary dir renamed). */
static lms_status make_branch(sweep_state *s, int trunk, int b, lms_err *err) {
    char td[LMS_SWEEP_PATH + 128], bd[LMS_SWEEP_PATH + 128], tmp[LMS_SWEEP_PATH + 160], a[LMS_SWEEP_PATH + 256],
        c[LMS_SWEEP_PATH + 256];
    run_dir_of(s, trunk, td, sizeof td);
    run_dir_of(s, b, bd, sizeof bd);
    snprintf(tmp, sizeof tmp, "%s/runs/.%s.tmp", s->dir, s->p->run[b].name);
    rm_rf(tmp);
    char name[32];
    snprintf(name, sizeof name, "step_%08lld", (long long)s->p->run[b].branch_step);
    lms_status st = lms_mkdir_p(lms_path_join(a, sizeof a, tmp, "checkpoints"), err);
    const char *files[] = {"config.json", "metrics.jsonl"};
    for (int i = 0; i < 2 && !st; i++)
        st = copy_file(lms_path_join(a, sizeof a, td, files[i]), lms_path_join(c, sizeof c, tmp, files[i]), err);
    const char *ext[] = {"safetensors", "optim.safetensors"};
    for (int i = 0; i < 2 && !st; i++) {
        snprintf(a, sizeof a, "%s/checkpoints/%s.%s", td, name, ext[i]);
        snprintf(c, sizeof c, "%s/checkpoints/%s.%s", tmp, name, ext[i]);
        st = copy_file(a, c, err);
    }
    if (!st) {
        char line[40];
        int n = snprintf(line, sizeof line, "%s\n", name);
        st = lms_file_write_all(lms_path_join(a, sizeof a, tmp, "latest"), line, (size_t)n, err);
    }
    if (!st && rename(tmp, bd) != 0) st = lms_errf(err, LMS_ERR_IO, "cannot rename %s to %s: %s", tmp, bd, strerror(errno));
    if (st) rm_rf(tmp);
    return st ? lms_err_prefix(err, "making the cool-down branch %s: ", s->p->run[b].name) : LMS_OK;
}

/* The next branch of trunk that still needs its copy: its branch step (> from), or -1. *b its index. */
static int64_t next_branch(sweep_state *s, int trunk, int64_t from, int *b) {
    int64_t best = -1;
    for (int i = 0; i < s->p->n_runs; i++) {
        const lms_sweep_run_plan *r = &s->p->run[i];
        char d[LMS_SWEEP_PATH + 128];
        run_dir_of(s, i, d, sizeof d);
        if (r->parent != trunk || r->branch_step < from || lms_path_exists(d)) continue;
        if (best < 0 || r->branch_step < best) best = r->branch_step, *b = i;
    }
    return best;
}

/* Train run i to its end (new, resumed, or a branch from its copied checkpoint). */
static lms_status train_run(sweep_state *s, int i, lms_err *err) {
    const lms_sweep_run_plan *r = &s->p->run[i];
    char d[LMS_SWEEP_PATH + 128], lp[LMS_SWEEP_PATH + 160];
    run_dir_of(s, i, d, sizeof d);
    int have_ckpt = lms_path_exists(lms_path_join(lp, sizeof lp, d, "latest"));
    lms_train *t = NULL;
    lms_status st;
    lms_train_hooks h = {.progress = on_step, .user = s, .stop = &s->stop};
    if (r->parent >= 0 && !have_ckpt)
        return lms_errf(err, LMS_ERR_ARG, "its long run %s did not reach step %lld (or the copy of its checkpoint is "
                        "missing); the long run's failure is recorded there", s->p->run[r->parent].name, (long long)r->branch_step);
    /* opts.threads: every run of this process, resumed ones too, on that many threads */
    lms_train_config over;
    lms_train_config_defaults(&over);
    over.threads = s->o->threads;
    unsigned tmask = s->o->threads > 0 ? LMS_TRAIN_OVER_THREADS : 0;
    if (r->parent >= 0) {
        over.decay_steps = r->steps;
        st = lms_train_resume(&t, d, r->steps, &over, LMS_TRAIN_OVER_DECAY | tmask, NULL, err);
    } else if (have_ckpt) st = lms_train_resume(&t, d, 0, &over, tmask, NULL, err);
    else {
        rm_rf(d); /* killed before its first checkpoint: start it again */
        lms_train_config c;
        lms_sweep_run_config(s->p, i, &c);
        if (s->o->threads > 0) c.threads = s->o->threads;
        st = lms_train_open(&t, d, &c, NULL, err);
    }
    if (st) return st;
    for (;;) {
        int b = -1;
        s->cur_start_step = lms_train_step(t);
        s->stop_at = r->parent < 0 ? next_branch(s, i, lms_train_step(t), &b) : -1;
        s->branch_hit = 0;
        if (s->stop_at >= 0 && s->stop_at == lms_train_step(t)) { /* already there: copy now */
            lms_train_free(t);
            t = NULL;
            if ((st = make_branch(s, i, b, err))) return st;
            if ((st = lms_train_resume(&t, d, 0, &over, tmask, NULL, err))) return st;
            continue;
        }
        st = lms_train_run(t, &h, err);
        s->cur_base = s->session_flops;
        if (st == LMS_ERR_INTERRUPTED && s->branch_hit && !(s->o->stop && *s->o->stop)) {
            s->stop = 0;
            lms_train_free(t); /* releases the run's lock and flushes; resumed right after the copy */
            t = NULL;
            if ((st = lms_train_resume(&t, d, 0, &over, tmask, NULL, err))) return st;
            continue; /* the loop copies the branch (its step is now the trunk's) */
        }
        break;
    }
    lms_train_free(t);
    return st;
}

static lms_status lock_dir(const char *dir, int *fd, lms_err *err) {
    char p[LMS_SWEEP_PATH + 16];
    lms_path_join(p, sizeof p, dir, "lock");
    *fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) return lms_errf(err, LMS_ERR_IO, "cannot create %s: %s", p, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return lms_errf(err, LMS_ERR_IO, "%s is in use: another 'lmscope sweep' is running on it (it holds %s); wait for "
                            "it to finish or stop it, or give another --out", dir, p);
        return lms_errf(err, LMS_ERR_IO, "cannot lock %s: %s", p, strerror(e));
    }
    return LMS_OK;
}

/* The run's row: its config (the config-field table's LMS_TF_DB columns) and the sweep's own columns. */
static void fill_row(const lms_sweep_plan *p, int i, lms_sweepdb_run *row) {
    const lms_sweep_run_plan *r = &p->run[i];
    lms_train_config c;
    lms_sweep_run_config(p, i, &c);
    lms_sweepdb_run_set_config(row, &c);
    row->params = r->params;
    row->params_nonembed = r->params_nonembed;
    row->tokens = r->tokens;
    row->flops = r->flops;
    snprintf(row->parent, sizeof row->parent, "%s", r->parent >= 0 ? p->run[r->parent].name : "");
    snprintf(row->kind, sizeof row->kind, "%s", r->kind == LMS_SWEEP_LR ? "lr_sweep" : r->kind == LMS_SWEEP_CONTROL ? "control" : "grid");
}

static int root_of(const lms_sweep_plan *p, int i) {
    while (p->run[i].parent >= 0) i = p->run[i].parent;
    return i;
}

/* MPI: owner[i] = the rank that trains run i. Groups (a run with parent -1 and every run that
   branches from it) stay on one rank; the costliest group (own FLOPs) goes first to the rank with
   the least work so far (ties: the earlier group, the lower rank). A pure function of the plan, so
   every rank computes the same table. */
static void assign_runs(const lms_sweep_plan *p, int n_ranks, int *owner) {
    int n = p->n_runs, *order = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    double *cost = calloc((size_t)(n > 0 ? n : 1), sizeof *cost), load[256] = {0};
    if (n_ranks > 256) n_ranks = 256;
    if (!order || !cost) { /* (does not happen for a plan of a few dozen runs) round robin by group */
        for (int i = 0; i < n; i++) owner[i] = root_of(p, i) % n_ranks;
        free(order), free(cost);
        return;
    }
    int ng = 0;
    for (int i = 0; i < n; i++) {
        cost[root_of(p, i)] += p->run[i].own_flops;
        if (p->run[i].parent < 0) order[ng++] = i;
    }
    for (int a = 1; a < ng; a++) /* insertion sort: costliest first, stable */
        for (int b = a; b > 0 && cost[order[b]] > cost[order[b - 1]]; b--) {
            int x = order[b];
            order[b] = order[b - 1], order[b - 1] = x;
        }
    for (int g = 0; g < ng; g++) {
        int best = 0;
        for (int r = 1; r < n_ranks; r++)
            if (load[r] < load[best]) best = r;
        owner[order[g]] = best;
        load[best] += cost[order[g]];
    }
    for (int i = 0; i < n; i++) owner[i] = owner[root_of(p, i)];
    free(order);
    free(cost);
}

static int mine(const sweep_state *s, int i) { return s->o->n_ranks <= 1 || s->owner[i] == s->o->rank; }

/* Open (or create) results.db, check or write meta, and give every run of the plan its row, so a
   report sees the whole plan. *old: the grid JSON the database held (NULL for a new one). */
static lms_status setup_db(sweep_state *s, const char *grid, char **old, lms_err *err) {
    char q[LMS_SWEEP_PATH + 64];
    lms_status st = lms_sweepdb_open(&s->db, lms_path_join(q, sizeof q, s->dir, "results.db"), 1, err);
    if (st) return st;
    if ((st = lms_sweepdb_get_meta(s->db, "grid_json", old, err))) return st;
    if (*old && strcmp(*old, grid)) {
        st = lms_errf(err, LMS_ERR_MISMATCH, "%s holds a sweep of another grid (meta.grid_json differs); continue it with "
                      "the grid it started with, or give another --out", s->dir);
        return st;
    }
    if (!*old) {
        if ((st = lms_sweepdb_set_meta(s->db, "grid_json", grid, err)) ||
            (st = lms_sweepdb_set_meta(s->db, "lmscope_version", "0.1.0", err)) ||
            (st = lms_sweepdb_set_meta(s->db, "corpus", s->p->grid.run.n_data ? s->p->grid.run.data[0] : "", err)) ||
            (st = lms_sweepdb_set_meta(s->db, "tokenizer_hash", s->p->tokenizer_hash, err)))
            return st;
    }
    /* every run gets its row first, so a report sees the whole plan */
    for (int i = 0; i < s->p->n_runs; i++) {
        lms_sweepdb_run row;
        int found;
        if ((st = lms_sweepdb_get_run(s->db, s->p->run[i].name, &row, &found, err))) return st;
        if (found) continue;
        char d[LMS_SWEEP_PATH + 128];
        run_dir_of(s, i, d, sizeof d);
        lms_sweepdb_run_init(&row, s->p->run[i].name, d);
        fill_row(s->p, i, &row);
        if ((st = lms_sweepdb_put_run(s->db, &row, NULL, err))) return st;
    }
    return LMS_OK;
}

lms_status lms_sweep_run(const lms_sweep_plan *p, const char *sweep_dir, const lms_sweep_opts *o, int *n_failed,
                         lms_err *err) {
    if (n_failed) *n_failed = 0;
    lms_sweep_opts def = lms_sweep_opts_default();
    if (!o) o = &def;
    sweep_state s = {.p = p, .o = o, .t0 = lms_now(), .stop_at = -1};
    const int mpi = o->n_ranks > 1, lead = o->rank == 0;
    if (strlen(sweep_dir) >= sizeof s.dir - 160) return lms_errf(err, LMS_ERR_ARG, "--out path too long");
    snprintf(s.dir, sizeof s.dir, "%s", sweep_dir);
    char q[LMS_SWEEP_PATH + 64];
    int fd = -1;
    char *grid = lms_sweep_grid_to_json(&p->grid), *old = NULL;
    s.owner = calloc((size_t)(p->n_runs > 0 ? p->n_runs : 1), sizeof *s.owner);
    lms_status st = !grid || !s.owner ? lms_errf(err, LMS_ERR_NOMEM, "out of memory") : LMS_OK;
    if (!st && mpi) assign_runs(p, o->n_ranks, s.owner);
    for (int i = 0; i < p->n_runs; i++)
        if (mine(&s, i)) s.flops_total += p->run[i].own_flops;
    /* MPI: rank 0 alone locks the dir and sets the database up, then the others open it */
    if (!st && lead && !(st = lms_mkdir_p(lms_path_join(q, sizeof q, sweep_dir, "runs"), err))) st = lock_dir(sweep_dir, &fd, err);
    if (!st && lead) st = setup_db(&s, grid, &old, err);
    if (mpi) st = lms_dist_agree(st, err);
    if (st) goto done;
    if (!lead && (st = lms_sweepdb_open(&s.db, lms_path_join(q, sizeof q, sweep_dir, "results.db"), 0, err))) goto done;
    for (int i = 0; i < p->n_runs; i++) {
        if (!mine(&s, i)) continue;
        const lms_sweep_run_plan *r = &p->run[i];
        lms_sweepdb_run row;
        int found;
        s.cur = i;
        if ((st = lms_sweepdb_get_run(s.db, r->name, &row, &found, err))) goto done;
        if (!found) {
            st = lms_errf(err, LMS_ERR_IO, "%s: run %s vanished from the database", sweep_dir, r->name);
            goto done;
        }
        if (!strcmp(row.status, "done")) {
            s.flops_done += r->own_flops;
            report(&s, "skip", r->steps, r->steps, NAN, 0, NULL);
            continue;
        }
        fill_row(p, i, &row);
        strcpy(row.status, "running");
        row.error[0] = 0;
        if (!row.started_utc[0]) lms_sweepdb_utc_now(row.started_utc);
        if ((st = lms_sweepdb_put_run(s.db, &row, NULL, err))) goto done;
        report(&s, "start", 0, r->steps, NAN, 0, NULL);
        s.stop = 0;
        double t0 = lms_now();
        lms_err rerr = {0};
        lms_status rs = train_run(&s, i, &rerr);
        if (rs == LMS_ERR_INTERRUPTED) {
            st = lms_errf(err, LMS_ERR_INTERRUPTED, "interrupted in run %s (%s); run the same sweep again to continue",
                          r->name, rerr.msg);
            goto done;
        }
        if (!rs) {
            report(&s, "eval", r->steps, r->steps, NAN, r->own_flops, NULL);
            char d[LMS_SWEEP_PATH + 128];
            run_dir_of(&s, i, d, sizeof d);
            rs = lms_sweep_evaluate(p, i, d, s.db, &row, &rerr);
            if (rs) lms_err_prefix(&rerr, "evaluating: ");
        }
        row.elapsed_s = (isfinite(row.elapsed_s) ? row.elapsed_s : 0) + (lms_now() - t0);
        if (rs) {
            strcpy(row.status, "failed");
            snprintf(row.error, sizeof row.error, "%s", rerr.msg[0] ? rerr.msg : "failed");
            if (n_failed) (*n_failed)++;
        } else strcpy(row.status, "done");
        lms_sweepdb_utc_now(row.finished_utc);
        if ((st = lms_sweepdb_put_run(s.db, &row, NULL, err))) goto done;
        s.flops_done += r->own_flops;
        report(&s, rs ? "failed" : "done", r->steps, r->steps, (float)row.final_train_loss, 0, rs ? row.error : NULL);
    }
done:
    free(grid);
    free(old);
    free(s.owner);
    lms_sweepdb_close(s.db);
    if (fd >= 0) close(fd);
    return st;
}

lms_status lms_sweep_plan_open(lms_sweep_plan **out, const lms_sweep_source *src, lms_err *err) {
    *out = NULL;
    lms_sweep_grid *g = malloc(sizeof *g);
    if (!g) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    lms_status st = src->preset ? lms_sweep_grid_preset(g, src->preset, err) : lms_sweep_grid_load(g, src->grid, err);
    if (!st) st = lms_sweep_grid_set_data(g, src->data, src->tokenizer, err);
    if (!st) {
        if (src->threads >= 0) g->run.threads = src->threads;
        if (src->suites) snprintf(g->suites, sizeof g->suites, "%s", strcmp(src->suites, "none") ? src->suites : "");
        else if (src->preset && access("data/suites", R_OK) == 0) snprintf(g->suites, sizeof g->suites, "data/suites");
        st = lms_sweep_plan_make(out, g, err);
    }
    free(g);
    return st;
}

lms_sweep_opts lms_sweep_opts_for_ranks(const lms_sweep_plan *p, const lms_sweep_source *src) {
    lms_sweep_opts o = lms_sweep_opts_default();
    if (lms_dist_size() > 1) {
        o.rank = lms_dist_rank(), o.n_ranks = lms_dist_size();
        if (src->threads < 0 && p->grid.run.threads == 0) o.threads = lms_dist_default_threads(lms_cpu()->threads);
    }
    return o;
}

lms_status lms_sweep_run_job(const lms_sweep_plan *p, const char *sweep_dir, const lms_sweep_opts *o, int *n_failed,
                             lms_err *err) {
    int failed = 0;
    lms_status st = lms_sweep_run(p, sweep_dir, o, &failed, err);
    if (o->n_ranks > 1) { /* every rank waits here for the others, then they agree on one outcome */
        double f = failed;
        lms_dist_allreduce_f64(&f, 1, LMS_DIST_SUM);
        failed = (int)f;
        st = lms_dist_agree(st, err);
    }
    if (n_failed) *n_failed = failed;
    return st;
}
