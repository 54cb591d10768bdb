/* sweep.h — the scaling laboratory's runner: a grid of model shapes x token budgets, trained one
 * run after another, each a normal run directory SWEEP_DIR/runs/<name>, with the results in
 * SWEEP_DIR/results.db (scaling/db.h).
 *
 *   lms_sweep_grid g;
 *   if (lms_sweep_grid_preset(&g, "tiny", &err)) ...;      // or lms_sweep_grid_load(&g, "grid.json", &err)
 *   lms_sweep_grid_set_data(&g, shards_dir, NULL, &err);
 *   lms_sweep_plan *p;
 *   if (lms_sweep_plan_make(&p, &g, &err)) ...;           // checks the grid, the data and the memory
 *   lms_sweep_opts o = lms_sweep_opts_default(); o.progress = print_line;
 *   int n_failed;                                          // runs that failed (the others finish)
 *   lms_status st = lms_sweep_run(p, "sweeps/tiny", &o, &n_failed, &err);
 *   lms_sweep_plan_free(p);
 *
 * A grid (JSON, docs/scaling.md "Sweeps"): shapes [{layers, heads, dim[, lr]}], the run fields of the
 * config-field table that have a grid key (train.h; into grid.run: ctx, batch, accum, cooldown, seed,
 * threads, data (a shards dir of 'lmscope data prepare'), tokenizer, mix, precision, data_seed, ...),
 * budgets as "tokens" (absolute) or
 * "tokens_per_param" (x non-embedding parameters), schedule "cosine" (one run per shape and budget)
 * or "wsd" (one long run per shape at the largest budget; every smaller budget is a cool-down
 * branch: a copy of the long run's checkpoint at budget x (1 - cooldown) resumed with a linear
 * decay to the budget), the learning-rate rule lr = min(lr_max, lr_c / dim) unless a shape gives
 * its own lr, an optional lr_sweep {sizes, factors} (the smallest `sizes` shapes again at the
 * largest budget with lr x each factor: the runs that justify the rule, kind 'lr_sweep'),
 * seed, threads, samples, sample_tokens, suites (a dir of probe suites or files joined by ',').
 *
 * At the end of every run: its metrics.jsonl into `metrics`; the validation loss over the WHOLE
 * validation set, token-weighted, overall and per domain with bits per byte (lms_validate,
 * max_batches -1) into runs and domain_losses; the probe suites (eval/evaluate.h) into evals; greedy samples; for the smallest and largest shapes the
 * per-token losses of a validation excerpt per domain. The largest shape's longest run keeps its
 * log-spaced checkpoints (save_log_steps) and gets domain losses and suites at each (steps 1, 2, 4, ...;
 * not step 0, which has no place on log-compute axes).
 *
 * Resumable: finished runs are skipped; a run left 'running' with a checkpoint is resumed, one
 * without is started again; a failed run is recorded (status 'failed', its error) and the sweep
 * goes on (a later sweep retries it). SWEEP_DIR/lock (flock) keeps a second sweep out. The grid a
 * sweep started with is kept in meta.grid_json; another grid on the same dir is refused.
 *
 * MPI (opts.n_ranks > 1: every rank of an mpirun job calls lms_sweep_run with the same plan and
 * its opts.rank; lms_dist_init done): the runs are shared out in groups (a long run with its WSD
 * branches, or a run alone), the costliest group first to the least-loaded rank (FLOPs), the same
 * assignment on every rank; each rank trains its runs one after another with its own threads,
 * independently (no collective call inside a run). Rank 0 takes the sweep dir's lock and writes
 * meta and the run rows before the others open the database; after that every rank writes its own
 * runs' rows into results.db itself: SQLite's file locks serialise the writers (WAL mode, BEGIN
 * IMMEDIATE, a busy timeout), and writes are short and rare (a run's end). Ranks on several
 * machines therefore need the sweep dir on a shared filesystem with working POSIX locks
 * (docs/parallel.md). A rank's status is its own: the caller agrees on one (lms_dist_agree).
 *
 * Leaves out: the fits (fit.h), the report, choosing a demo's sizes by measurement (docs/).
 */
#ifndef LMS_SCALING_SWEEP_H
#define LMS_SCALING_SWEEP_H

#include <signal.h>
#include <stdint.h>

#include "core/status.h"
#include "model/gpt.h"
#include "train/train.h"

#define LMS_SWEEP_MAX_SHAPES 32
#define LMS_SWEEP_MAX_BUDGETS 16
#define LMS_SWEEP_MAX_FACTORS 8
#define LMS_SWEEP_PATH 1024

typedef struct {
    int n_layer, n_head, n_embd;
    float lr;    /* 0: from the rule */
    int control; /* 1: a control (e.g. one layer, which cannot form an induction head): trained at every
                    budget like the grid, kind 'control', evaluated, never a point of the fits */
} lms_sweep_shape;

typedef struct {
    char name[64];
    int n_shapes;
    lms_sweep_shape shape[LMS_SWEEP_MAX_SHAPES];
    int n_budgets;
    double budget[LMS_SWEEP_MAX_BUDGETS]; /* tokens, or tokens per non-embedding parameter */
    int budget_per_param;                 /* budget[] are tokens_per_param */
    int wsd;                              /* 0: cosine per run; 1: WSD with cool-down branches */
    float lr_c, lr_max;                   /* lr = min(lr_max, lr_c / dim) */
    int lr_sweep_sizes;                   /* smallest shapes that get the LR sweep (0: none) */
    int n_lr_factors;
    float lr_factor[LMS_SWEEP_MAX_FACTORS];
    int lr_sweep_budget;                  /* index of the budget the LR variants train at (-1: the largest) */
    int samples, sample_tokens;           /* greedy samples per run and their length */
    char suites[4 * LMS_SWEEP_PATH];      /* probe suites: dirs (their .jsonl/.csv files) and files joined by ','; "" = none */
    lms_train_config run;                 /* what every run starts from (lms_sweep_run_config): the fields
                                             with a grid key in the config-field table (train.h) are
                                             the grid's keys: ctx (run.model.n_ctx), batch, accum,
                                             cooldown (run.decay_frac: WSD's fraction of each budget spent
                                             decaying, in (0, 1)), seed, threads (0: all cores), data (the
                                             shards dir, run.data[0]), tokenizer ("" = the shards' own),
                                             mix ("" = natural), precision, ...; the train command's
                                             defaults otherwise */
} lms_sweep_grid;

/* Defaults for the fields a grid file may leave out: cosine, lr_c 0.4, lr_max 0.01, no LR sweep, 2
   samples of 32 tokens, and for run the train command's defaults (lms_train_config_cli_defaults:
   ctx 128, batch 16, accum 1, cooldown 0.2, seed 1, threads 0, ...). No shapes, no budgets, no data. */
void lms_sweep_grid_defaults(lms_sweep_grid *g);

/* Set the grid's data (the shards dir; "" none) / tokenizer, as --data and --tokenizer do
   (LMS_ERR_ARG when a path is too long). */
lms_status lms_sweep_grid_set_data(lms_sweep_grid *g, const char *data, const char *tokenizer, lms_err *err);

/* A named preset: "tiny" (tests: 2 shapes L1 C16/C32, ctx 16, 2 budgets of 10 and 20 steps),
   "quick" (<= 10 min on 2 cores: 5 shapes L2-C16..L3-C96, WSD, 0.25M..2M tokens doubling), "demo"
   (<= 30 min on 2 cores: 8 shapes L2-C16..L4-C128, 0.25M..4M tokens, an LR sweep x0.5 and x2 at the
   two smallest at 1M tokens), "emergence" (the controlled tasks of data/synth.h mixed in, a one-layer
   control, 4 shapes x 1.5M..24M tokens, bf16 where the CPU has AVX512-BF16). Data and tokenizer stay
   empty. LMS_ERR_ARG names the presets for another name. */
lms_status lms_sweep_grid_preset(lms_sweep_grid *g, const char *name, lms_err *err);

/* Parse a grid from JSON text / a file (unknown keys, wrong types, empty lists, bad values:
   LMS_ERR_ARG naming the field). The keys are the grid's own (name, shapes, tokens or
   tokens_per_param, schedule, lr, lr_sweep, samples, sample_tokens, suites) and every grid key of
   the config-field table (train.h), parsed by the row's type into g->run: an integer in [lo, hi],
   a number in (lo, hi), a string, an ENUM's name, true/false; data is one path. */
lms_status lms_sweep_grid_parse(lms_sweep_grid *g, const char *json, lms_err *err);
lms_status lms_sweep_grid_load(lms_sweep_grid *g, const char *path, lms_err *err);
/* The grid as canonical JSON (malloc'd; what meta.grid_json holds): the grid's own keys and the
   table's grid keys in table order (a LMS_TF_GRID_SPARSE one only when it is not the default, a
   LMS_TF_GRID_NOSAVE one never), so that a field added to the table leaves older grids' JSON as it
   was. */
char *lms_sweep_grid_to_json(const lms_sweep_grid *g);

typedef enum { LMS_SWEEP_GRID = 0, LMS_SWEEP_LR, LMS_SWEEP_CONTROL } lms_sweep_kind;

/* One planned run. */
typedef struct {
    char name[96];
    lms_gpt_config model;
    float lr;
    int64_t steps;
    int64_t warmup;           /* warmup steps (-1: the trainer's default, steps/20); an LR variant
                                 takes its grid run's, so the schedules match step for step */
    int parent;               /* WSD branch: index of its long run; -1 */
    int64_t branch_step;      /* WSD branch: the long run's step it is copied at; -1 */
    lms_sweep_kind kind;
    int log_ckpts;            /* keep log-spaced checkpoints and evaluate them (largest shape) */
    int token_losses;         /* store per-token losses (smallest and largest shapes) */
    int64_t params, params_nonembed;
    double tokens, flops;     /* at the end of the run: steps x batch x accum x ctx, x flops/token */
    double own_flops;         /* FLOPs this run trains itself (a branch: only its cool-down) */
} lms_sweep_run_plan;

typedef struct {
    lms_sweep_grid grid;
    int vocab_size;           /* the data's */
    char tokenizer_hash[65];
    int n_runs;
    lms_sweep_run_plan *run;  /* [n_runs], in training order */
    double total_flops;       /* sum of own_flops */
    uint64_t mem_bytes;       /* training plan of the largest run */
    int n_suites;
    char **suite;             /* [n_suites] suite files, from grid.suites */
} lms_sweep_plan;

/* Check the grid (LMS_ERR_ARG naming the field), open its data (vocabulary, tokenizer hash), lay
   out the runs, compute params/tokens/FLOPs, and refuse a grid whose largest model does not fit in
   the available memory (LMS_ERR_ARG with the estimate). Free with lms_sweep_plan_free. */
lms_status lms_sweep_plan_make(lms_sweep_plan **out, const lms_sweep_grid *g, lms_err *err);
void lms_sweep_plan_free(lms_sweep_plan *p);

/* The config run i of p trains with: grid.run with the run's shape, steps, lr, warmup, the grid's
   schedule (cosine or wsd), save_log_steps for the run that keeps log-spaced checkpoints, and one
   checkpoint kept. (A WSD branch resumes its copy of the long run's checkpoint with its own steps as
   the decay horizon; its config.json is the long run's with those.) */
void lms_sweep_run_config(const lms_sweep_plan *p, int i, lms_train_config *c);

/* Measure training throughput in FLOP/s for every run of the plan (flops_per_s[n_runs]): a warm-up
   step and then steps for about max_s / shapes seconds on random tokens, once per distinct shape (no data,
   nothing written). For --dry-run's time estimate: own_flops / flops_per_s[i]. */
lms_status lms_sweep_measure(const lms_sweep_plan *p, double max_s, double *flops_per_s, lms_err *err);

/* What the sweep reports, after every training step and at each run's start and end. */
typedef struct {
    const char *event;        /* "start", "step", "eval", "done", "failed", "skip" */
    const char *run;
    int run_index, n_runs;    /* 1-based */
    int64_t step, steps;
    float loss;
    const char *error;        /* "failed": the message */
    double flops_done, flops_total; /* sweep-wide, own FLOPs of finished runs and of this one so far */
    double elapsed_s, eta_s;  /* this session; eta from its FLOP rate (NAN before the first step) */
} lms_sweep_progress;

typedef struct {
    void (*progress)(const lms_sweep_progress *p, void *user); /* may be NULL */
    void *user;
    volatile sig_atomic_t *stop; /* nonzero: the run in flight checkpoints, the sweep returns LMS_ERR_INTERRUPTED */
    int rank, n_ranks;           /* MPI (see above); 0 and 1 */
    int threads;                 /* > 0: threads for every run, resumed ones too, instead of the grid's (MPI: cores per rank) */
} lms_sweep_opts;

lms_sweep_opts lms_sweep_opts_default(void);

/* Run (or continue) the sweep into sweep_dir (created). LMS_OK when every run of this rank is done
   or failed (failures are in the database; *n_failed, may be NULL, counts them), LMS_ERR_IO when
   another sweep holds the directory or the database cannot be written, LMS_ERR_MISMATCH when the
   directory holds a sweep of another grid, LMS_ERR_INTERRUPTED on stop. */
lms_status lms_sweep_run(const lms_sweep_plan *p, const char *sweep_dir, const lms_sweep_opts *o, int *n_failed,
                         lms_err *err);

/* ---- the `sweep` command's work (src/cli/cmd_sweep.c parses, calls these, prints) ---- */

typedef struct {
    const char *preset, *grid;             /* a preset's name or a grid file (one of the two) */
    const char *data, *tokenizer, *suites; /* NULL: the grid's; suites "none": none (a preset without
                                              --suites scores data/suites when that exists) */
    int threads;                           /* >= 0: threads per run instead of the grid's */
} lms_sweep_source;

/* Load the grid (lms_sweep_grid_preset or _load), apply the source's overrides, make the plan
   (lms_sweep_plan_make). LMS_ERR_ARG for a bad grid or data. */
lms_status lms_sweep_plan_open(lms_sweep_plan **out, const lms_sweep_source *src, lms_err *err);

/* The options of this process under MPI (lms_dist_rank/size; the defaults without): its rank, and
   when src->threads < 0 and the grid says 0 (all cores), the machine's cores shared out over the
   ranks (lms_dist_default_threads). */
lms_sweep_opts lms_sweep_opts_for_ranks(const lms_sweep_plan *p, const lms_sweep_source *src);

/* lms_sweep_run; under MPI (o->n_ranks > 1) every rank then waits for the others, *n_failed becomes
   the job's total and the status one every rank agrees on (lms_dist_agree). */
lms_status lms_sweep_run_job(const lms_sweep_plan *p, const char *sweep_dir, const lms_sweep_opts *o, int *n_failed,
                             lms_err *err);

#endif
