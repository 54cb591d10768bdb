/* train.h — the training loop as a library: a run directory, a resolved config, the step loop
 * (gradient accumulation, clipping, AdamW, learning-rate schedule), periodic validation, metrics
 * as JSON Lines, checkpoints and bit-exact resume.
 *
 * It never prints and never exits: progress goes to a callback the caller supplies, failures come
 * back as an lms_status with a message. A sweep can run many trainings in one process.
 *
 *   lms_train_config c;
 *   lms_train_config_defaults(&c);
 *   c.model = (lms_gpt_config){.n_layer = 4, .n_head = 4, .n_embd = 128, .n_ctx = 128};
 *   c.steps = 2000; c.lr = 3e-3f;
 *   lms_train_config_add_data(&c, "some.txt");
 *   lms_train *t;
 *   if (lms_train_open(&t, "runs/tiny", &c, NULL, &err)) return fail(err);   // writes config.json
 *   lms_train_hooks h = {.progress = print_progress, .stop = &g_stop};
 *   lms_status s = lms_train_run(t, &h, &err);   // LMS_OK, LMS_ERR_INTERRUPTED, LMS_ERR_NUMERIC, ...
 *   lms_train_free(t);
 *   // later: lms_train_resume(&t, "runs/tiny", NULL, 4000, &err); lms_train_run(t, &h, &err);
 *
 * Run directory layout (docs/formats.md):
 *   config.json                           the resolved config (every field below), written once and
 *                                         rewritten when a resume changes --steps/--lr/intervals
 *   metrics.jsonl                         one JSON object per logged step: step, tokens, flops, loss,
 *                                         val_loss (steps where it was measured), lr, grad_norm,
 *                                         tokens_per_s, elapsed_s; with several data domains also
 *                                         val_loss_domains {"<domain>": loss} over the domains the
 *                                         eval_batches reached (the loader's round-robin order; the
 *                                         default -1 reaches every domain)
 *   checkpoints/step_NNNNNNNN.safetensors        the model (lms_checkpoint_save; metadata: config)
 *   checkpoints/step_NNNNNNNN.optim.safetensors  AdamW m, v, t + metadata: step, loader state,
 *                                                trainer RNG state, elapsed time
 *   latest                                the name "step_NNNNNNNN" of the newest complete checkpoint,
 *                                         replaced atomically after both files are committed
 *   lock                                  flock'd (exclusive) by the process training the run, for
 *                                         its whole life: a second train on the same dir is refused
 * The newest `keep_checkpoints` checkpoints are kept; older ones are removed after `latest` moves.
 * With save_log_steps, the checkpoints at steps 0 (the initial weights), 1, 2, 4, 8, ... are kept
 * as well and never removed; keep_checkpoints counts only the others.
 *
 * Crash safety: every file is written to a temporary and renamed. A step's metrics line is
 * appended before its checkpoint, and a resume rewrites metrics.jsonl (atomically) to the lines
 * up to the checkpoint's step, so after any kill and resume each step appears exactly once.
 * A resume also removes the temporaries ("*.tmp.*") a killed process left behind.
 *
 * Determinism: the same config (seed and threads included) gives the same per-step losses bit for
 * bit, and a run stopped at step k and resumed continues exactly as if it had not stopped, as long
 * as the learning-rate schedule is the same. The cosine/wsd decay horizon `decay_steps` is resolved
 * when the run starts (0 becomes `steps`) and kept on resume, so a run extended with a larger
 * --steps equals a run started with that --steps and the same --decay-steps: past the horizon the
 * learning rate stays at its final value. LMS_TRAIN_OVER_DECAY re-plans the horizon explicitly.
 * The same holds in bf16 (precision, a config field: the model runs on the avx512-bf16 table).
 *
 * MPI (c->mpi set, the process started under mpirun, lms_dist_init done; docs/parallel.md): every
 * rank opens the same run, draws the same global batch (batch x accum rows per step, from the same
 * loader state) and computes the gradient of its rows [r*B/R, (r+1)*B/R) of each micro-batch; the
 * gradients are averaged over ranks with one allreduce over the contiguous gradient buffer, then
 * every rank takes the same clipped AdamW step, so the weights stay identical (checked at every
 * checkpoint: LMS_ERR_NUMERIC if they ever differ). The reported loss is the global mean; the stop
 * flag and a non-finite loss are agreed on every step, so all ranks stop at the same step. The
 * validation batches are split over ranks (batch i on rank i % R) and their sums added. Rank 0
 * alone writes the run dir (config.json, metrics.jsonl, checkpoints, lock); the other ranks read
 * it on --resume. A batch that the ranks do not divide is LMS_ERR_ARG; failures that one rank sees
 * (opening, writing) are agreed (lms_dist_agree), so every rank returns the same status. Resume is
 * bit-exact for the same rank and thread counts; another rank count continues the same run (same
 * data, same arithmetic up to the order of the gradient sums: not bit for bit).
 *
 * Leaves out: dropout, evaluation beyond the validation loss
 * (src/eval), the text UI (src/cli/cmd_train.c).
 */
#ifndef LMS_TRAIN_TRAIN_H
#define LMS_TRAIN_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include <stddef.h>

#include <jansson.h>

#include "core/status.h"
#include "data/loader.h"
#include "model/gpt.h"
#include "optim/optim.h"

#define LMS_TRAIN_MAX_DATA 16
#define LMS_TRAIN_PATH 1024

typedef struct {
    lms_gpt_config model;   /* vocab_size 0: take it from the data (tokenizer or manifest) */
    int batch;              /* B: sequences per micro-batch */
    int accum;              /* micro-batches per optimizer step (gradient accumulation), >= 1 */
    int64_t steps;          /* optimizer steps in total */
    float lr;               /* peak learning rate */
    lms_sched_kind schedule;
    int64_t warmup;         /* linear warmup steps; -1: auto (steps / 20, at most 1000) */
    int64_t decay_steps;    /* cosine/wsd horizon; 0: the run's first --steps (resolved at start) */
    float min_lr_frac;      /* lr at the end of the decay, as a fraction of lr */
    float decay_frac;       /* wsd: fraction of the horizon spent decaying */
    float weight_decay, beta1, beta2, eps;
    float grad_clip;        /* max global gradient norm; 0 disables clipping */
    uint64_t seed;          /* model init and trainer RNG; the loader's order too unless data_seed is set */
    uint64_t data_seed;     /* the loader's order alone; 0: seed (one seed for everything, as before it existed) */
    int threads;            /* OpenMP threads; 0: all the machine has */
    int eval_interval;      /* validation loss every this many steps (and at the end); -1: auto (steps/20 in [25, 500]) */
    int eval_batches;       /* validation batches per measurement (at most the loader's count); -1 = max(8, domains) */
    int ckpt_interval;      /* checkpoint every this many steps (and at the end); -1: auto (steps/5 in [100, 1000]); 0: only at the end */
    int log_interval;       /* a metrics.jsonl line every this many steps */
    int keep_checkpoints;   /* newest checkpoints to keep, >= 1 */
    int n_data;
    char data[LMS_TRAIN_MAX_DATA][LMS_TRAIN_PATH]; /* text files, or one shards dir with manifest.json */
    char tokenizer[LMS_TRAIN_PATH];  /* tokenizer dir (vocab.json + merges.txt); "" = bytes (vocab 256) */
    char tokenizer_hash[65];         /* filled when the data is opened; "" for bytes */
    char mix[512];                   /* domain weights "quotes=2,news=1" for shards; "" = natural */
    char init[LMS_TRAIN_PATH];       /* start from this model instead of a random init (see lms_train_open); "" = none */
    int save_log_steps;              /* also keep checkpoints at steps 0, 1, 2, 4, 8, ... (never pruned) */
    int precision;                   /* LMS_PRECISION_FP32, or _BF16: the avx512-bf16 kernel table (bf16 products) */
    int ignore_memory_check;         /* start even when the plan exceeds the available memory (not saved in config.json) */
    char device[8];                  /* "cpu" or "" (the CPU), "cuda" (kernels.h: lms_ops_for_device); not saved in
                                        config.json: a run resumes on either, its files are the same */
    int mpi;                         /* data-parallel over the MPI ranks of src/dist (see "MPI" below; not saved) */
} lms_train_config;

/* --precision: fp32 everywhere, or bf16 matrix products (fp32 sums, master weights, optimizer
   state and every other op; kernels.h lms_ops_bf16). A run keeps its precision: --resume cannot
   change it (config.json fixes it) because the two give different loss curves. */
enum { LMS_PRECISION_FP32 = 0, LMS_PRECISION_BF16 = 1 };

/* The config-field table: ONE row per saved field of lms_train_config, the one schema of a run.
 * Everything else is generated from it:
 *   lms_train_config_defaults (def) and the `train` command's defaults (cli_def)
 *   config.json both ways (lms_train_config_to_json, _from_json; keys in table order)
 *   the `train` flags, their --help text and defaults (lms_train_job_init, src/train/job.h)
 *   which flags --resume may change and what lms_train_resume takes from `over` (the over bit)
 *   metrics.jsonl's per-run columns (LMS_TF_METRICS)
 *   the sweep grid's keys (grid; src/scaling/sweep_grid.c), the grid's defaults (cli_def) and its
 *   canonical JSON (meta.grid_json)
 *   results.db's `runs` columns (LMS_TF_DB; src/scaling/db.c) and the report's run table (report)
 * A row:
 *   key       the JSON key (inside "model" for LMS_TF_MODEL rows); also the results.db column
 *   flag      the `train` flag without "--"; NULL: no flag (eps, tokenizer_hash)
 *   grid      the sweep grid's key (today's spelling: "ctx" for n_ctx, "cooldown" for decay_frac);
 *             NULL: not a grid key (the sweep sets it per run, or leaves the default)
 *   type      INT (int), I64 (int64_t), SEED (uint64_t, a decimal string in config.json because JSON
 *             numbers lose 64-bit values, an integer in a grid; an int64 flag), FLOAT (float, a JSON
 *             real of the float's exact value), STR (char[cap]), ENUM (int-sized enum; JSON string
 *             through name/parse), BOOL (int, JSON true/false), DATA (the data list: a JSON array of
 *             paths, n_data; in a grid one path as a string)
 *   offset    offsetof(lms_train_config, field); cap: STR buffer size
 *   def       the library default (numbers, enums, bools; strings default to "");
 *             cli_def: the `train` command's default where LMS_TF_CLI_DEF says it differs (a grid's
 *             default too: a grid leaves a key out = the train command's default)
 *   lo, hi    the values a grid accepts: INT, I64, SEED in [lo, hi]; FLOAT in (lo, hi)
 *   help      the flag's --help text
 *   report    the heading of its column in the report's run table (LMS_TF_DB rows; shown when some
 *             run has a value other than def); NULL: no column
 *   over      the LMS_TRAIN_OVER_* bit under which --resume may change it; 0: config.json fixes it
 *   flags     LMS_TF_MODEL, LMS_TF_OPTIONAL (may be missing in config.json: written before the field
 *             existed; it gets its default), LMS_TF_ZERO_KEEPS (under its OVER bit, 0 keeps the run's
 *             value), LMS_TF_CLI_OWN (the train job declares the flag itself: paths it makes absolute,
 *             the repeatable --data), LMS_TF_CLI_DEF (cli_def is the command's default),
 *             LMS_TF_DB (a column of results.db's runs: INTEGER for INT/I64/SEED/BOOL, REAL for
 *             FLOAT, TEXT for STR/ENUM), LMS_TF_METRICS (in every metrics.jsonl line, after the
 *             measured values), LMS_TF_SPARSE (config.json holds it only when it is not def, so a
 *             field added later leaves older runs' files byte for byte as they were; implies
 *             OPTIONAL), LMS_TF_GRID_SPARSE (the canonical grid JSON holds it only when it is not def),
 *             LMS_TF_GRID_NOSAVE (never in the canonical grid JSON: it changes speed, not results)
 * Adding a field: a member of lms_train_config, one row here, and its use (docs/formats.md "Adding a
 * run field"). Still special-cased outside the table: --steps on --resume (the new total,
 * lms_train_resume's new_steps), the value checks (lms_train_config_check), ignore_memory_check (a
 * flag, never saved), the "format"/"version" keys, the grid's own keys (shapes, budgets, the lr rule,
 * schedule, ...). Unknown keys in config.json are ignored. */
typedef enum { LMS_TF_INT, LMS_TF_I64, LMS_TF_SEED, LMS_TF_FLOAT, LMS_TF_STR, LMS_TF_ENUM, LMS_TF_BOOL, LMS_TF_DATA } lms_train_field_type;
enum {
    LMS_TF_MODEL = 1, LMS_TF_OPTIONAL = 2, LMS_TF_ZERO_KEEPS = 4, LMS_TF_CLI_OWN = 8, LMS_TF_CLI_DEF = 16,
    LMS_TF_DB = 32, LMS_TF_METRICS = 64, LMS_TF_SPARSE = 128, LMS_TF_GRID_SPARSE = 256, LMS_TF_GRID_NOSAVE = 512
};
#define LMS_TRAIN_MAX_FIELDS 64 /* rows at most (a uint64_t holds one bit per row) */
typedef struct {
    const char *key;
    const char *flag;
    const char *grid;
    lms_train_field_type type;
    size_t offset, cap;
    double def, cli_def;
    double lo, hi;
    const char *help;
    const char *report;
    unsigned over;
    unsigned flags;
    const char *(*name)(int v);            /* ENUM: the value's name */
    int (*parse)(const char *s, int *out); /* ENUM: 0, or -1 for an unknown name */
    const char *choices;                   /* ENUM: "constant, cosine or wsd" for messages */
} lms_train_field;

/* The table (static; *n receives its length) / the row whose key or flag is `name` / whose grid
 * key is `name` (NULL: none). */
const lms_train_field *lms_train_fields(int *n);
const lms_train_field *lms_train_field_find(const char *name);
const lms_train_field *lms_train_field_grid(const char *name);

/* The field's storage in c. */
void *lms_train_field_ptr(lms_train_config *c, const lms_train_field *f);
const void *lms_train_field_cptr(const lms_train_config *c, const lms_train_field *f);

/* The field's value in c as config.json writes it (a new reference; NULL when out of memory). */
json_t *lms_train_field_json(const lms_train_config *c, const lms_train_field *f);

/* Whether c holds the row's library default (def; "" for strings, no paths for DATA). */
int lms_train_field_is_default(const lms_train_config *c, const lms_train_field *f);

/* Add every LMS_TF_METRICS field of c to the object o (a metrics.jsonl line), in table order. */
void lms_train_config_put_metrics(json_t *o, const lms_train_config *c);

/* Take every field whose LMS_TRAIN_OVER_* bit is in `mask` from `over` into `c` (a LMS_TF_ZERO_KEEPS
 * field of 0 keeps c's value). Returns whether any bit of the mask applied. */
int lms_train_config_apply_over(lms_train_config *c, const lms_train_config *over, unsigned mask);

/* The defaults: batch 8, accum 1, steps 1000, lr 3e-4, cosine, warmup auto, min_lr_frac 0.1,
 * decay_frac 0.2, weight decay 0.1, betas 0.9/0.95, eps 1e-8, clip 1.0, seed 1, threads 0,
 * eval/ckpt interval auto, eval_batches -1 (auto: max(8, data domains), resolved when the data is
 * open), log_interval 1, keep 2. The model shape is zero. */
void lms_train_config_defaults(lms_train_config *c);
/* The `train` command's defaults (and a sweep grid's): the above with each LMS_TF_CLI_DEF row's
 * cli_def (4 layers, 4 heads, width 128, ctx 128, batch 16, lr 1e-3). */
void lms_train_config_cli_defaults(lms_train_config *c);

/* Append a data path (LMS_ERR_ARG when there are too many or it is too long). */
lms_status lms_train_config_add_data(lms_train_config *c, const char *path, lms_err *err);

/* Check every field that does not need the data (model shape except vocab, batch, steps, lr,
 * betas, intervals, ...). Message names the flag to fix. With c->init set, a model field of 0
 * means "the init model's" and passes. */
lms_status lms_train_config_check(const lms_train_config *c, lms_err *err);

/* Fill the "auto" fields (warmup, eval/ckpt interval, threads) from the others. Idempotent. */
void lms_train_config_resolve(lms_train_config *c);

/* The config as a JSON object text (malloc'd, caller frees) / parsed back from one. */
char *lms_train_config_to_json(const lms_train_config *c);
lms_status lms_train_config_from_json(lms_train_config *c, const char *json, lms_err *err);
lms_status lms_train_config_save(const lms_train_config *c, const char *path, lms_err *err);
lms_status lms_train_config_load(lms_train_config *c, const char *path, lms_err *err);

/* The schedule a config implies (total = decay_steps or steps). */
lms_schedule lms_train_config_schedule(const lms_train_config *c);

const char *lms_sched_name(lms_sched_kind k);                  /* "constant", "cosine", "wsd" */
int lms_sched_parse(const char *s, lms_sched_kind *out);       /* 0 on success */

/* Open the data a config names. Text files are read, tokenized (the tokenizer dir, or bytes) and
 * joined (separated by <|endoftext|> when the tokenizer has it), then lms_loader_from_tokens
 * (the last 10% are validation). A directory goes to lms_loader_open with c->mix; when
 * c->tokenizer is set its hash must match the manifest's. Fills c->model.vocab_size when it is 0
 * (a set vocab_size smaller than the data's is LMS_ERR_ARG) and c->tokenizer_hash. Checks that the
 * data holds at least one window of n_ctx + 1 tokens for training and for validation
 * (LMS_ERR_ARG with the largest usable --ctx otherwise). The caller frees *out. */
lms_status lms_train_open_data(lms_train_config *c, lms_loader **out, lms_err *err);

/* What the loop reports after each step (and after each validation). */
typedef struct {
    int64_t step, steps;     /* optimizer steps done, in total */
    double tokens, flops;    /* cumulative since step 0 (flops from lms_gpt_flops_per_token) */
    float loss;              /* this step's mean training loss over all micro-batches */
    float val_loss;          /* NAN unless measured at this step */
    float lr, grad_norm;     /* lr used at this step; global gradient norm before clipping */
    double tokens_per_s;     /* over the last step */
    double elapsed_s;        /* training time, summed over resumes */
    double eta_s;            /* estimate for the remaining steps */
    int checkpointed;        /* a checkpoint was written after this step */
} lms_train_progress;

typedef struct {
    void (*progress)(const lms_train_progress *p, void *user); /* may be NULL */
    void *user;
    volatile sig_atomic_t *stop; /* may be NULL; nonzero: finish the step, checkpoint, return LMS_ERR_INTERRUPTED */
} lms_train_hooks;

typedef struct lms_train lms_train;

/* Start a new run in run_dir (created; it must not hold a config.json already: LMS_ERR_ARG says to
 * --resume or pick another --out). Copies *c, opens the data (unless `loader` is given: then the
 * trainer takes it over, and frees it even on failure), checks and resolves the config, writes
 * config.json, creates and initialises the model and optimizer. No step runs yet.
 *
 * c->init: the model starts from the weights of that checkpoint (any lms_checkpoint_load format:
 * an lmscope checkpoint file, a run dir (its latest checkpoint), a Hugging Face GPT-2
 * model.safetensors or its directory, an llm.c .bin) with a fresh optimizer at step 0. The model
 * shape comes from the checkpoint: a nonzero c->model field that differs is LMS_ERR_ARG naming
 * both values. The data's vocabulary must fit the model's, and when the checkpoint is an lmscope
 * one whose run_config records a tokenizer hash it must be the data's (LMS_ERR_MISMATCH).
 *
 * Before allocating, the planned memory (parameters, gradients, AdamW moments, activations) is
 * compared with lms_sysmem_available(): a plan that does not fit is LMS_ERR_ARG with the estimate
 * in GiB, unless c->ignore_memory_check. The run dir's lock is taken before anything is written:
 * another process holding it is LMS_ERR_IO ("in use"). */
lms_status lms_train_open(lms_train **out, const char *run_dir, const lms_train_config *c, lms_loader *loader,
                          lms_err *err);

/* Reopen a run from run_dir/config.json and its latest checkpoint. new_steps > 0 replaces the
 * step total (it must not be below the checkpoint's step). `over` (may be NULL) supplies other
 * fields to change: lr, threads, eval_interval, eval_batches, ckpt_interval, log_interval,
 * decay_steps are taken from it when `over_mask` has the matching LMS_TRAIN_OVER_* bit (the
 * `over` column of the config-field table; lms_train_config_apply_over; under
 * LMS_TRAIN_OVER_EVAL, an eval_interval or eval_batches of 0 keeps the run's value);
 * over->ignore_memory_check is always taken. `loader` as in lms_train_open. Takes the run dir's
 * lock first (LMS_ERR_IO when another process trains it), removes stale temporaries, checks that
 * the model and optimizer files are from the same step (LMS_ERR_FORMAT otherwise) and the memory
 * plan as lms_train_open does. */
enum { LMS_TRAIN_OVER_LR = 1, LMS_TRAIN_OVER_THREADS = 2, LMS_TRAIN_OVER_EVAL = 4, LMS_TRAIN_OVER_CKPT = 8,
       LMS_TRAIN_OVER_LOG = 16, LMS_TRAIN_OVER_DECAY = 32 };
lms_status lms_train_resume(lms_train **out, const char *run_dir, int64_t new_steps, const lms_train_config *over,
                            unsigned over_mask, lms_loader *loader, lms_err *err);

/* Run steps until c->steps. Returns LMS_OK at the end (a final validation and checkpoint written);
 * LMS_ERR_INTERRUPTED when hooks->stop was set (the step in flight finished and was checkpointed);
 * LMS_ERR_NUMERIC when the loss or gradient norm is NaN/Inf (that state is NOT saved: the latest
 * checkpoint is the last good one; the message names the step, the value and likely causes);
 * LMS_ERR_IO when a checkpoint or the metrics could not be written. */
lms_status lms_train_run(lms_train *t, const lms_train_hooks *hooks, lms_err *err);

const lms_train_config *lms_train_get_config(const lms_train *t);
int64_t lms_train_step(const lms_train *t);            /* optimizer steps done */
lms_gpt *lms_train_model(lms_train *t);
const char *lms_train_run_dir(const lms_train *t);
const char *lms_train_latest(const lms_train *t);       /* path of the newest model checkpoint, "" if none */
float lms_train_last_val_loss(const lms_train *t);      /* NAN if never measured */
int lms_train_checkpoint_ranks(const lms_train *t);    /* after a resume: MPI ranks that wrote the checkpoint (1: no MPI); 0 for a new run */
void lms_train_free(lms_train *t);

/* Path of the newest model checkpoint of a run dir (run_dir/checkpoints/<latest>.safetensors)
 * into out; LMS_ERR_IO/FORMAT when there is none or `latest` is broken. */
lms_status lms_train_latest_checkpoint(const char *run_dir, char *out, size_t cap, lms_err *err);

/* One model checkpoint of a run dir. */
typedef struct {
    int64_t step;                      /* optimizer steps done when it was saved (from its name) */
    int log_step;                      /* step is 0 or a power of two (kept by save_log_steps) */
    char path[LMS_TRAIN_PATH + 64];    /* run_dir/checkpoints/step_NNNNNNNN.safetensors */
} lms_train_checkpoint;

/* Every model checkpoint in run_dir/checkpoints (step_*.safetensors, not the optimizer files or
 * temporaries), in increasing step order, as a malloc'd array (*out, caller frees with free();
 * NULL when *n is 0). LMS_ERR_IO when run_dir has no checkpoints directory. */
lms_status lms_train_list_checkpoints(const char *run_dir, lms_train_checkpoint **out, int *n, lms_err *err);

/* 1 for the steps save_log_steps keeps: 0 and the powers of two. */
int lms_train_is_log_step(int64_t step);

/* Bytes a training plan needs: parameters, gradients and the AdamW moments (4 x 4 bytes per
 * parameter), the activations for batch x n_ctx, the validation scorer (lms_scorer_bytes) and the
 * batch's token buffers. 0 when the model config is invalid. */
uint64_t lms_train_plan_bytes(const lms_train_config *c);

#endif
