/* db.h — a sweep's results database (SQLite, SWEEP_DIR/results.db), the schema of
 * docs/scaling.md "Sweeps" (the contract shared with the report): meta, runs, metrics,
 * domain_losses, evals, samples, token_losses. meta.schema_version is '1'.
 *
 * Every write is one transaction (a run's metrics, its domain losses at one step, its samples, ...),
 * so a reader or a killed writer never sees half of one. The file is in WAL mode with a busy
 * timeout of 10 s, so the report can read while a sweep writes. Rewriting a run's rows (a resumed
 * run finishing again) replaces them: no duplicates.
 *
 *   lms_sweepdb *db;
 *   if (lms_sweepdb_open(&db, "sweeps/demo/results.db", 1, &err)) return fail(err);
 *   lms_sweepdb_run r; lms_sweepdb_run_init(&r, "L2-C64-1M", "runs/L2-C64-1M");
 *   int64_t id; lms_sweepdb_put_run(db, &r, &id, &err);
 *   lms_sweepdb_close(db);
 *
 * Addition to the contract (backward compatible): runs.kind TEXT, 'grid' for a point of the grid
 * (the fits use these) or 'lr_sweep' for a learning-rate variant; a database without the column
 * reads as all 'grid'.
 * Second addition (backward compatible): evals.acc_bytes, acc_bytes_se (multiple choice normalised
 * by bytes; acc_norm now normalises by characters, as lm-evaluation-harness does). A writer opening
 * a database without them (create 1) adds them (ALTER TABLE, one transaction) and moves the old rows'
 * acc_norm, which was by bytes, to acc_bytes (their acc_norm becomes NULL).
 *
 * Third addition (backward compatible): the config-field table's later LMS_TF_DB rows (train.h),
 * each a column of runs that a writer opening a database (create 1) adds when it lacks it.
 * A reader (create 0: fit) and a file that cannot be written open unchanged, every byte as it was.
 *
 * Leaves out: what the numbers mean (sweep.h), fitting (fit.h), the report.
 */
#ifndef LMS_SCALING_DB_H
#define LMS_SCALING_DB_H

#include <stdint.h>

#include "core/status.h"
#include "train/train.h"

#define LMS_SWEEPDB_SCHEMA_VERSION "1"

typedef struct lms_sweepdb lms_sweepdb;

/* One row of `runs`. Its own doubles that are NAN and integers < 0 are stored as NULL (and read
 * back so). The run's config columns come from the config-field table (train.h): every row with
 * LMS_TF_DB is a column named by its key (n_layer, n_head, n_embd, n_ctx, vocab_size, batch,
 * accum, steps, lr, schedule: schema 1's; later rows are in a new file's schema, and added by ALTER
 * TABLE when a writer opens an older file, so a file written by this lmscope has them all while one
 * only read keeps its columns: a column the file lacks reads as unset); a column is NULL when its
 * row's bit of config_set is clear. */
typedef struct {
    int64_t id;              /* filled by put/get; ignored by put */
    char name[128];
    char run_dir[1024];
    char status[16];         /* pending | running | done | failed */
    char error[1024];        /* "" = NULL */
    char parent[128];        /* WSD branch: the run it branched from; "" = NULL */
    char kind[16];           /* grid | lr_sweep */
    lms_train_config config; /* the run's config (its LMS_TF_DB fields are columns) */
    uint64_t config_set;     /* bit i: row i of the table has a value here (else its column is NULL) */
    int64_t params, params_nonembed;
    double tokens, flops, final_train_loss, val_loss, val_bpb, elapsed_s;
    char started_utc[32], finished_utc[32]; /* "" = NULL */
} lms_sweepdb_run;

typedef struct {
    int64_t step;
    double tokens, flops, loss, val_loss, lr; /* NAN = NULL */
} lms_sweepdb_metric;

typedef struct {
    const char *domain;
    double loss, bpb;
    int64_t tokens;
} lms_sweepdb_domain;

/* One row of `evals`: the fields of 'lmscope eval's JSON Lines rows (docs/formats.md). */
typedef struct {
    const char *suite, *kind;
    int64_t n;
    double chance, acc, acc_se, acc_norm, acc_norm_se, logp, logp_se, prob, prob_se, edit, edit_se;
    double acc_bytes, acc_bytes_se;
} lms_sweepdb_eval;

/* A run row with everything unknown (NULL; the config its defaults, config_set 0): status
   'pending', kind 'grid'. */
void lms_sweepdb_run_init(lms_sweepdb_run *r, const char *name, const char *run_dir);
/* r->config = *c with every LMS_TF_DB column set. */
void lms_sweepdb_run_set_config(lms_sweepdb_run *r, const lms_train_config *c);

/* Open path. create (a writer, the sweep): make the file and the schema when it does not exist
   (meta: schema_version, created_utc), and bring an older file up to date: evals.acc_bytes where it
   is missing (see above) and every config column of the table that runs lacks. !create (a reader,
   fit; or a rank beside the sweep's lead, which set the file up): no file is LMS_ERR_IO, and an
   existing file is left as it is. Columns a file lacks (a reader's, or a file that cannot be
   written) read as NULL and writes skip them. An existing database must hold meta.schema_version '1':
   another version is LMS_ERR_FORMAT naming both versions, a file that is not a sweep database (no
   meta table, not SQLite) LMS_ERR_FORMAT too. *out NULL on failure. */
lms_status lms_sweepdb_open(lms_sweepdb **out, const char *path, int create, lms_err *err);
void lms_sweepdb_close(lms_sweepdb *db); /* NULL is fine */

/* meta: set (insert or replace) / get (*value malloc'd, NULL when the key is absent). */
lms_status lms_sweepdb_set_meta(lms_sweepdb *db, const char *key, const char *value, lms_err *err);
lms_status lms_sweepdb_get_meta(lms_sweepdb *db, const char *key, char **value, lms_err *err);

/* Insert the run, or update every column of the row with the same name; *id (may be NULL) its id. */
lms_status lms_sweepdb_put_run(lms_sweepdb *db, const lms_sweepdb_run *r, int64_t *id, lms_err *err);
/* The row named `name` into *r; *found 0 when there is none (*r untouched). */
lms_status lms_sweepdb_get_run(lms_sweepdb *db, const char *name, lms_sweepdb_run *r, int *found, lms_err *err);
/* Every run, in id order (*out malloc'd, caller frees; NULL when *n is 0). */
lms_status lms_sweepdb_list_runs(lms_sweepdb *db, lms_sweepdb_run **out, int *n, lms_err *err);

/* Replace all of a run's metrics with m[n]. */
lms_status lms_sweepdb_put_metrics(lms_sweepdb *db, int64_t run_id, const lms_sweepdb_metric *m, int n, lms_err *err);
/* Replace a run's domain losses at `step` with d[n]. */
lms_status lms_sweepdb_put_domains(lms_sweepdb *db, int64_t run_id, int64_t step, const lms_sweepdb_domain *d, int n,
                                   lms_err *err);
/* Replace a run's evals at `step` with e[n] (tokens, flops: the training seen at that step). Rows
   whose suite starts with "domain:" are refused (LMS_ERR_ARG): they belong in domain_losses. */
lms_status lms_sweepdb_put_evals(lms_sweepdb *db, int64_t run_id, int64_t step, double tokens, double flops,
                                 const lms_sweepdb_eval *e, int n, lms_err *err);
/* Replace a run's samples with prompt[i] -> text[i], i < n. */
lms_status lms_sweepdb_put_samples(lms_sweepdb *db, int64_t run_id, const char *const *prompt, const char *const *text,
                                   int n, lms_err *err);
/* Replace text text_id of a run's token losses: token[i] (its text), logp[i], rank[i], i < n. */
lms_status lms_sweepdb_put_token_losses(lms_sweepdb *db, int64_t run_id, int64_t text_id, const char *const *token,
                                        const float *logp, const int32_t *rank, int n, lms_err *err);

/* Rows in a table (for tests and summaries); -1 on error. */
int64_t lms_sweepdb_count(lms_sweepdb *db, const char *table, int64_t run_id /* < 0: all runs */);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf[32]. */
const char *lms_sweepdb_utc_now(char buf[32]);

#endif
