/* db.c — the sweep results database on SQLite (see db.h for the contract and the schema). The runs
 * table's config columns come from the config-field table (train.h): schema 1's are in the CREATE
 * TABLE below, later ones are added when a writer opens the file (create); put and get bind them by
 * the row's type, skipping the columns a file lacks.
 *
 * Leaves out: concurrency beyond SQLite's own (one writer: the sweep holds SWEEP_DIR's lock).
 */
#include "scaling/db.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct lms_sweepdb {
    sqlite3 *h;
    char path[1024];
    int has_kind; /* runs.kind exists (databases from the first contract lack it) */
    int has_acc_bytes; /* evals.acc_bytes exists (added on open when the file allows it) */
    uint64_t cols;     /* bit i: the config-field table's row i is a column of runs in this file */
    char *put_sql, *get_sql; /* put_run's statement; "SELECT <the runs columns we read> FROM runs" */
};

static const char *SCHEMA =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, run_dir TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed')), error TEXT, parent TEXT,"
    " n_layer INTEGER, n_head INTEGER, n_embd INTEGER, n_ctx INTEGER, vocab_size INTEGER,"
    " params INTEGER, params_nonembed INTEGER, batch INTEGER, accum INTEGER, steps INTEGER, lr REAL, schedule TEXT,"
    " tokens REAL, flops REAL, final_train_loss REAL, val_loss REAL, val_bpb REAL,"
    " elapsed_s REAL, started_utc TEXT, finished_utc TEXT, kind TEXT);"
    "CREATE TABLE metrics (run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,"
    " tokens REAL, flops REAL, loss REAL, val_loss REAL, lr REAL, PRIMARY KEY (run_id, step));"
    "CREATE TABLE domain_losses (run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,"
    " domain TEXT NOT NULL, loss REAL, bpb REAL, tokens INTEGER, PRIMARY KEY (run_id, step, domain));"
    "CREATE TABLE evals (run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,"
    " tokens REAL, flops REAL, suite TEXT NOT NULL, kind TEXT, n INTEGER, chance REAL,"
    " acc REAL, acc_se REAL, acc_norm REAL, acc_norm_se REAL, logp REAL, logp_se REAL,"
    " prob REAL, prob_se REAL, edit REAL, edit_se REAL, acc_bytes REAL, acc_bytes_se REAL,"
    " PRIMARY KEY (run_id, step, suite));"
    "CREATE TABLE samples (run_id INTEGER NOT NULL REFERENCES runs(id), prompt TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE TABLE token_losses (run_id INTEGER NOT NULL REFERENCES runs(id), text_id INTEGER NOT NULL,"
    " pos INTEGER NOT NULL, token TEXT NOT NULL, logp REAL, rank INTEGER, PRIMARY KEY (run_id, text_id, pos));";

const char *lms_sweepdb_utc_now(char buf[32]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static lms_status dberr(lms_sweepdb *db, lms_err *err, const char *what) {
    return lms_errf(err, LMS_ERR_IO, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

static lms_status exec(lms_sweepdb *db, const char *sql, lms_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        lms_status st = lms_errf(err, LMS_ERR_IO, "%s: %s", db->path, msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return st;
    }
    return LMS_OK;
}

static lms_status begin(lms_sweepdb *db, lms_err *err) { return exec(db, "BEGIN IMMEDIATE", err); }
static lms_status commit(lms_sweepdb *db, lms_err *err) { return exec(db, "COMMIT", err); }
static lms_status rollback(lms_sweepdb *db, lms_status st) {
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

static lms_status prep(lms_sweepdb *db, sqlite3_stmt **s, const char *sql, lms_err *err) {
    if (sqlite3_prepare_v2(db->h, sql, -1, s, NULL) != SQLITE_OK) return dberr(db, err, "preparing a statement");
    return LMS_OK;
}

static void bind_real(sqlite3_stmt *s, int i, double v) {
    if (isfinite(v)) sqlite3_bind_double(s, i, v);
    else sqlite3_bind_null(s, i);
}
static void bind_int(sqlite3_stmt *s, int i, int64_t v) {
    if (v >= 0) sqlite3_bind_int64(s, i, v);
    else sqlite3_bind_null(s, i);
}
static void bind_text(sqlite3_stmt *s, int i, const char *v) {
    if (v && v[0]) sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(s, i);
}

void lms_sweepdb_run_init(lms_sweepdb_run *r, const char *name, const char *run_dir) {
    memset(r, 0, sizeof *r);
    r->id = -1;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    snprintf(r->run_dir, sizeof r->run_dir, "%s", run_dir ? run_dir : "");
    strcpy(r->status, "pending");
    strcpy(r->kind, "grid");
    lms_train_config_defaults(&r->config);
    r->config_set = 0;
    r->params = r->params_nonembed = -1;
    r->tokens = r->flops = r->final_train_loss = r->val_loss = r->val_bpb = r->elapsed_s = NAN;
}

void lms_sweepdb_run_set_config(lms_sweepdb_run *r, const lms_train_config *c) {
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    r->config = *c;
    r->config_set = 0;
    for (int i = 0; i < nf; i++)
        if (tf[i].flags & LMS_TF_DB) r->config_set |= 1ull << i;
}

/* ---- the config columns (rows of the config-field table with LMS_TF_DB) ---- */

static const char *sql_type(lms_train_field_type t) {
    switch (t) {
    case LMS_TF_FLOAT: return "REAL";
    case LMS_TF_STR: case LMS_TF_ENUM: case LMS_TF_DATA: return "TEXT";
    default: return "INTEGER";
    }
}

/* Bind row f of c (set: it has a value) to parameter i. */
static void bind_field(sqlite3_stmt *s, int i, const lms_train_config *c, const lms_train_field *f, int set) {
    const void *v = lms_train_field_cptr(c, f);
    if (!set) {
        sqlite3_bind_null(s, i);
        return;
    }
    switch (f->type) {
    case LMS_TF_INT: case LMS_TF_BOOL: sqlite3_bind_int64(s, i, *(const int *)v); break;
    case LMS_TF_I64: sqlite3_bind_int64(s, i, *(const int64_t *)v); break;
    case LMS_TF_SEED: sqlite3_bind_int64(s, i, (int64_t) * (const uint64_t *)v); break;
    case LMS_TF_FLOAT: bind_real(s, i, *(const float *)v); break;
    case LMS_TF_STR: bind_text(s, i, v); break;
    case LMS_TF_ENUM: bind_text(s, i, f->name(*(const int *)v)); break;
    case LMS_TF_DATA: bind_text(s, i, c->n_data ? c->data[0] : ""); break;
    }
}

/* Column i of the current row into row f of c; 0 when it is NULL (or not a value of the field). */
static int read_field(sqlite3_stmt *s, int i, lms_train_config *c, const lms_train_field *f) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return 0;
    void *v = lms_train_field_ptr(c, f);
    const char *t = (const char *)sqlite3_column_text(s, i);
    switch (f->type) {
    case LMS_TF_INT: case LMS_TF_BOOL: *(int *)v = (int)sqlite3_column_int64(s, i); return 1;
    case LMS_TF_I64: *(int64_t *)v = sqlite3_column_int64(s, i); return 1;
    case LMS_TF_SEED: *(uint64_t *)v = (uint64_t)sqlite3_column_int64(s, i); return 1;
    case LMS_TF_FLOAT: *(float *)v = (float)sqlite3_column_double(s, i); return 1;
    case LMS_TF_STR: snprintf(v, f->cap, "%s", t ? t : ""); return 1;
    case LMS_TF_ENUM: return t && f->parse(t, (int *)v) == 0;
    case LMS_TF_DATA: c->n_data = t && t[0] && strlen(t) < LMS_TRAIN_PATH; if (c->n_data) strcpy(c->data[0], t); return c->n_data;
    }
    return 0;
}

static lms_status check_version(lms_sweepdb *db, lms_err *err) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->h, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s, NULL) != SQLITE_OK)
        return lms_errf(err, LMS_ERR_FORMAT, "%s is not a sweep results database (%s); give the results.db that "
                        "'lmscope sweep' wrote, or another --out", db->path, sqlite3_errmsg(db->h));
    lms_status st = LMS_OK;
    if (sqlite3_step(s) != SQLITE_ROW)
        st = lms_errf(err, LMS_ERR_FORMAT, "%s has no schema_version in its meta table: it is not a sweep results database",
                      db->path);
    else {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        if (!v || strcmp(v, LMS_SWEEPDB_SCHEMA_VERSION))
            st = lms_errf(err, LMS_ERR_FORMAT, "%s has schema version %s but this lmscope reads version %s; use the "
                          "lmscope that wrote it, or run the sweep again into a new directory",
                          db->path, v ? v : "(null)", LMS_SWEEPDB_SCHEMA_VERSION);
    }
    sqlite3_finalize(s);
    if (st) return st;
    /* runs.kind is an addition to the first contract: a database without it reads as all 'grid' */
    if (sqlite3_prepare_v2(db->h, "SELECT kind FROM runs LIMIT 0", -1, &s, NULL) == SQLITE_OK) db->has_kind = 1;
    sqlite3_finalize(s);
    return LMS_OK;
}

static int has_column(lms_sweepdb *db, const char *sql) {
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) == SQLITE_OK;
    sqlite3_finalize(s);
    return ok;
}

/* evals.acc_bytes and acc_bytes_se are an addition to schema 1 (acc_norm used to divide by bytes
   and now divides by characters). A database without them gets them, in one transaction, and the
   old rows' acc_norm (a by-bytes number) moves to acc_bytes; acc_norm becomes NULL there since its
   by-characters value was never measured. Only a writer (migrate) changes the file; a reader, or a
   file that cannot be changed (read-only), opens as it is: evals are then written without the columns. */
static void add_acc_bytes(lms_sweepdb *db, int migrate) {
    if (has_column(db, "SELECT acc_bytes FROM evals LIMIT 0")) {
        db->has_acc_bytes = 1;
        return;
    }
    if (!migrate || !has_column(db, "SELECT acc_norm, acc_norm_se FROM evals LIMIT 0")) return;
    lms_err e = {0};
    if (begin(db, &e)) return;
    if (exec(db, "ALTER TABLE evals ADD COLUMN acc_bytes REAL; ALTER TABLE evals ADD COLUMN acc_bytes_se REAL;"
                 "UPDATE evals SET acc_bytes = acc_norm, acc_bytes_se = acc_norm_se, acc_norm = NULL, acc_norm_se = NULL;", &e) ||
        commit(db, &e)) {
        rollback(db, LMS_OK);
        return;
    }
    db->has_acc_bytes = 1;
}

/* migrate (a writer): the runs columns this file lacks among the table's LMS_TF_DB rows are added (one
   transaction; a file that cannot be written keeps them out). Then db->cols says which exist. */
static void add_config_columns(lms_sweepdb *db, int migrate) {
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    char q[200], sql[4096] = "";
    size_t n = 0;
    for (int i = 0; i < nf; i++) {
        if (!(tf[i].flags & LMS_TF_DB)) continue;
        snprintf(q, sizeof q, "SELECT %s FROM runs LIMIT 0", tf[i].key);
        if (migrate && !has_column(db, q) && n + 200 < sizeof sql)
            n += (size_t)snprintf(sql + n, sizeof sql - n, "ALTER TABLE runs ADD COLUMN %s %s;", tf[i].key, sql_type(tf[i].type));
    }
    lms_err e = {0};
    if (n && !begin(db, &e)) {
        if (exec(db, sql, &e) || commit(db, &e)) rollback(db, LMS_OK);
    }
    db->cols = 0;
    for (int i = 0; i < nf; i++) {
        if (!(tf[i].flags & LMS_TF_DB)) continue;
        snprintf(q, sizeof q, "SELECT %s FROM runs LIMIT 0", tf[i].key);
        if (has_column(db, q)) db->cols |= 1ull << i;
    }
}

/* The runs table's own columns, in the order put_run binds and read_run reads them (kind last:
   databases of the first contract lack it). */
static const char *RUN_OWN[] = {"name", "run_dir", "status", "error", "parent", "params", "params_nonembed", "tokens", "flops",
                                "final_train_loss", "val_loss", "val_bpb", "elapsed_s", "started_utc", "finished_utc", "kind"};
#define N_OWN ((int)(sizeof RUN_OWN / sizeof RUN_OWN[0]))

/* Append to buf (cap bytes) at *len, then *len += what it would have written: past cap, nothing more
   is written (no cap - *len wrapping), and *len >= cap tells the caller it did not fit. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    if (*len >= cap) {
        *len = cap;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = w < 0 ? cap : *len + (size_t)w;
}

/* put_run's INSERT ... ON CONFLICT(name) DO UPDATE and get's SELECT for this file's columns. */
static lms_status build_sql(lms_sweepdb *db, lms_err *err) {
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    size_t cap = 8192;
    char *ins = malloc(cap), *upd = malloc(cap), *vals = malloc(cap), *sel = malloc(cap);
    lms_status st = LMS_OK;
    if (!ins || !upd || !vals || !sel) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t a = 0, b = 0, c = 0, d = 0;
    int k = 0;
    append(ins, cap, &a, "INSERT INTO runs (");
    append(sel, cap, &d, "SELECT id");
    for (int i = 0; i < N_OWN + nf; i++) {
        const char *col = i < N_OWN ? RUN_OWN[i] : tf[i - N_OWN].key;
        if (i < N_OWN ? !strcmp(col, "kind") && !db->has_kind : !(db->cols & (1ull << (i - N_OWN)))) continue;
        k++;
        append(ins, cap, &a, "%s%s", k > 1 ? ", " : "", col);
        append(vals, cap, &c, "%s?%d", k > 1 ? "," : "", k);
        if (k > 1) append(upd, cap, &b, "%s%s=?%d", k > 2 ? ", " : "", col, k);
        append(sel, cap, &d, ", %s", col);
    }
    /* ins gets vals, upd and 64 bytes of SQL more below; sel " FROM runs" */
    if (a + c + b + 64 > cap || d + 32 > cap) {
        st = lms_errf(err, LMS_ERR_NOMEM, "the runs table has too many columns");
        goto done;
    }
    snprintf(ins + a, cap - a, ") VALUES (%s) ON CONFLICT(name) DO UPDATE SET %s", vals, upd);
    snprintf(sel + d, cap - d, " FROM runs");
    db->put_sql = ins, db->get_sql = sel;
    ins = sel = NULL;
done:
    free(ins), free(upd), free(vals), free(sel);
    return st;
}

lms_status lms_sweepdb_open(lms_sweepdb **out, const char *path, int create, lms_err *err) {
    *out = NULL;
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (!exists && !create) return lms_errf(err, LMS_ERR_IO, "%s does not exist (no sweep has written results there yet)", path);
    if (exists && !S_ISREG(sb.st_mode)) return lms_errf(err, LMS_ERR_IO, "%s is not a regular file", path);
    lms_sweepdb *db = calloc(1, sizeof *db);
    if (!db) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    snprintf(db->path, sizeof db->path, "%s", path);
    int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
    lms_status st;
    if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
        st = lms_errf(err, LMS_ERR_IO, "cannot open %s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(db->h, 10000);
    if (!exists) {
        char now[32], sql[256];
        if ((st = exec(db, "PRAGMA journal_mode=WAL", err))) goto fail;
        if ((st = begin(db, err))) goto fail;
        snprintf(sql, sizeof sql, "INSERT INTO meta VALUES ('schema_version', '%s'), ('created_utc', '%s');",
                 LMS_SWEEPDB_SCHEMA_VERSION, lms_sweepdb_utc_now(now));
        if ((st = exec(db, SCHEMA, err)) || (st = exec(db, sql, err))) {
            rollback(db, st);
            goto fail;
        }
        if ((st = commit(db, err))) goto fail;
    } else if (sqlite3_exec(db->h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        st = lms_errf(err, LMS_ERR_FORMAT, "%s is not a sweep results database (%s)", path, sqlite3_errmsg(db->h));
        goto fail;
    }
    if ((st = check_version(db, err))) goto fail;
    db->has_kind = db->has_kind || !exists;
    /* only a writer brings an older file up to date: fit (and a rank beside the sweep's lead, which
       set the file up) open with create 0 and leave its bytes as they are */
    add_acc_bytes(db, create);
    add_config_columns(db, create);
    if ((st = build_sql(db, err))) goto fail;
    *out = db;
    return LMS_OK;
fail:
    lms_sweepdb_close(db);
    return st;
}

void lms_sweepdb_close(lms_sweepdb *db) {
    if (!db) return;
    sqlite3_close(db->h);
    free(db->put_sql);
    free(db->get_sql);
    free(db);
}

lms_status lms_sweepdb_set_meta(lms_sweepdb *db, const char *key, const char *value, lms_err *err) {
    sqlite3_stmt *s;
    lms_status st = prep(db, &s, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", err);
    if (st) return st;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, value ? value : "", -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) st = dberr(db, err, "writing meta");
    sqlite3_finalize(s);
    return st;
}

lms_status lms_sweepdb_get_meta(lms_sweepdb *db, const char *key, char **value, lms_err *err) {
    *value = NULL;
    sqlite3_stmt *s;
    lms_status st = prep(db, &s, "SELECT value FROM meta WHERE key = ?", err);
    if (st) return st;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        *value = strdup(v ? v : "");
        if (!*value) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    } else if (rc != SQLITE_DONE) st = dberr(db, err, "reading meta");
    sqlite3_finalize(s);
    return st;
}

lms_status lms_sweepdb_put_run(lms_sweepdb *db, const lms_sweepdb_run *r, int64_t *id, lms_err *err) {
    sqlite3_stmt *s;
    lms_status st = prep(db, &s, db->put_sql, err);
    if (st) return st;
    const char *texts[] = {r->name, r->run_dir, r->status, r->error, r->parent};
    for (int i = 0; i < 5; i++) bind_text(s, 1 + i, texts[i]);
    bind_int(s, 6, r->params);
    bind_int(s, 7, r->params_nonembed);
    const double reals[] = {r->tokens, r->flops, r->final_train_loss, r->val_loss, r->val_bpb, r->elapsed_s};
    for (int i = 0; i < 6; i++) bind_real(s, 8 + i, reals[i]);
    bind_text(s, 14, r->started_utc);
    bind_text(s, 15, r->finished_utc);
    int k = 15;
    if (db->has_kind) bind_text(s, ++k, r->kind);
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    for (int i = 0; i < nf; i++)
        if (db->cols & (1ull << i)) bind_field(s, ++k, &r->config, &tf[i], !!(r->config_set & (1ull << i)));
    if (sqlite3_step(s) != SQLITE_DONE) st = dberr(db, err, "writing a run");
    sqlite3_finalize(s);
    if (st || !id) return st;
    int found;
    lms_sweepdb_run back;
    if ((st = lms_sweepdb_get_run(db, r->name, &back, &found, err))) return st;
    *id = found ? back.id : -1;
    return LMS_OK;
}

static void col_text(sqlite3_stmt *s, int i, char *out, size_t cap) {
    const char *v = (const char *)sqlite3_column_text(s, i);
    snprintf(out, cap, "%s", v ? v : "");
}
static int64_t col_int(sqlite3_stmt *s, int i) {
    return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}
static double col_real(sqlite3_stmt *s, int i) {
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

/* A row of get_sql into r. */
static void read_run(lms_sweepdb *db, sqlite3_stmt *s, lms_sweepdb_run *r) {
    lms_sweepdb_run_init(r, NULL, NULL);
    r->id = sqlite3_column_int64(s, 0);
    col_text(s, 1, r->name, sizeof r->name);
    col_text(s, 2, r->run_dir, sizeof r->run_dir);
    col_text(s, 3, r->status, sizeof r->status);
    col_text(s, 4, r->error, sizeof r->error);
    col_text(s, 5, r->parent, sizeof r->parent);
    r->params = col_int(s, 6);
    r->params_nonembed = col_int(s, 7);
    double *reals[] = {&r->tokens, &r->flops, &r->final_train_loss, &r->val_loss, &r->val_bpb, &r->elapsed_s};
    for (int i = 0; i < 6; i++) *reals[i] = col_real(s, 8 + i);
    col_text(s, 14, r->started_utc, sizeof r->started_utc);
    col_text(s, 15, r->finished_utc, sizeof r->finished_utc);
    int k = 15;
    if (db->has_kind) col_text(s, ++k, r->kind, sizeof r->kind);
    if (!r->kind[0]) strcpy(r->kind, "grid");
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    for (int i = 0; i < nf; i++)
        if ((db->cols & (1ull << i)) && read_field(s, ++k, &r->config, &tf[i])) r->config_set |= 1ull << i;
}

lms_status lms_sweepdb_get_run(lms_sweepdb *db, const char *name, lms_sweepdb_run *r, int *found, lms_err *err) {
    *found = 0;
    sqlite3_stmt *s;
    char sql[8192];
    snprintf(sql, sizeof sql, "%s WHERE name = ?", db->get_sql);
    lms_status st = prep(db, &s, sql, err);
    if (st) return st;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read_run(db, s, r);
        *found = 1;
    } else if (rc != SQLITE_DONE) st = dberr(db, err, "reading a run");
    sqlite3_finalize(s);
    return st;
}

lms_status lms_sweepdb_list_runs(lms_sweepdb *db, lms_sweepdb_run **out, int *n, lms_err *err) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    char sql[8192];
    snprintf(sql, sizeof sql, "%s ORDER BY id", db->get_sql);
    lms_status st = prep(db, &s, sql, err);
    if (st) return st;
    int cap = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            lms_sweepdb_run *nr = realloc(*out, (size_t)cap * sizeof *nr);
            if (!nr) {
                st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
                break;
            }
            *out = nr;
        }
        read_run(db, s, &(*out)[(*n)++]);
    }
    if (!st && rc != SQLITE_DONE) st = dberr(db, err, "listing runs");
    sqlite3_finalize(s);
    if (st) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

/* Run `del` (bound to ?1 = run_id and ?2 = key when key >= 0), then n inserts filled by fill(). */
typedef void (*fill_fn)(sqlite3_stmt *s, int i, const void *ctx);
static lms_status replace_rows(lms_sweepdb *db, const char *del, int64_t run_id, int64_t key, const char *ins, int n,
                               fill_fn fill, const void *ctx, lms_err *err) {
    lms_status st = begin(db, err);
    if (st) return st;
    sqlite3_stmt *d = NULL, *s = NULL;
    if ((st = prep(db, &d, del, err))) return rollback(db, st);
    sqlite3_bind_int64(d, 1, run_id);
    if (key >= 0) sqlite3_bind_int64(d, 2, key);
    if (sqlite3_step(d) != SQLITE_DONE) st = dberr(db, err, "deleting old rows");
    sqlite3_finalize(d);
    if (!st) st = prep(db, &s, ins, err);
    for (int i = 0; i < n && !st; i++) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        sqlite3_bind_int64(s, 1, run_id);
        fill(s, i, ctx);
        if (sqlite3_step(s) != SQLITE_DONE) st = dberr(db, err, "inserting a row");
    }
    sqlite3_finalize(s);
    if (st) return rollback(db, st);
    return commit(db, err);
}

static void fill_metric(sqlite3_stmt *s, int i, const void *ctx) {
    const lms_sweepdb_metric *m = (const lms_sweepdb_metric *)ctx + i;
    sqlite3_bind_int64(s, 2, m->step);
    bind_real(s, 3, m->tokens);
    bind_real(s, 4, m->flops);
    bind_real(s, 5, m->loss);
    bind_real(s, 6, m->val_loss);
    bind_real(s, 7, m->lr);
}

lms_status lms_sweepdb_put_metrics(lms_sweepdb *db, int64_t run_id, const lms_sweepdb_metric *m, int n, lms_err *err) {
    return replace_rows(db, "DELETE FROM metrics WHERE run_id = ?1", run_id, -1,
                        "INSERT OR REPLACE INTO metrics VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", n, fill_metric, m, err);
}

typedef struct {
    int64_t step;
    const lms_sweepdb_domain *d;
} dom_ctx;
static void fill_domain(sqlite3_stmt *s, int i, const void *ctx) {
    const dom_ctx *c = ctx;
    sqlite3_bind_int64(s, 2, c->step);
    sqlite3_bind_text(s, 3, c->d[i].domain, -1, SQLITE_TRANSIENT);
    bind_real(s, 4, c->d[i].loss);
    bind_real(s, 5, c->d[i].bpb);
    bind_int(s, 6, c->d[i].tokens);
}

lms_status lms_sweepdb_put_domains(lms_sweepdb *db, int64_t run_id, int64_t step, const lms_sweepdb_domain *d, int n,
                                   lms_err *err) {
    dom_ctx c = {step, d};
    return replace_rows(db, "DELETE FROM domain_losses WHERE run_id = ?1 AND step = ?2", run_id, step,
                        "INSERT OR REPLACE INTO domain_losses VALUES (?1, ?2, ?3, ?4, ?5, ?6)", n, fill_domain, &c, err);
}

typedef struct {
    int64_t step;
    double tokens, flops;
    const lms_sweepdb_eval *e;
    int acc_bytes; /* the table has acc_bytes, acc_bytes_se */
} eval_ctx;
static void fill_eval(sqlite3_stmt *s, int i, const void *ctx) {
    const eval_ctx *c = ctx;
    const lms_sweepdb_eval *e = &c->e[i];
    sqlite3_bind_int64(s, 2, c->step);
    bind_real(s, 3, c->tokens);
    bind_real(s, 4, c->flops);
    sqlite3_bind_text(s, 5, e->suite, -1, SQLITE_TRANSIENT);
    bind_text(s, 6, e->kind);
    bind_int(s, 7, e->n);
    const double v[] = {e->chance, e->acc, e->acc_se, e->acc_norm, e->acc_norm_se, e->logp, e->logp_se,
                        e->prob, e->prob_se, e->edit, e->edit_se, e->acc_bytes, e->acc_bytes_se};
    for (int k = 0; k < (c->acc_bytes ? 13 : 11); k++) bind_real(s, 8 + k, v[k]);
}

lms_status lms_sweepdb_put_evals(lms_sweepdb *db, int64_t run_id, int64_t step, double tokens, double flops,
                                 const lms_sweepdb_eval *e, int n, lms_err *err) {
    for (int i = 0; i < n; i++)
        if (!e[i].suite || !strncmp(e[i].suite, "domain:", 7))
            return lms_errf(err, LMS_ERR_ARG, "eval row '%s': per-domain losses go to domain_losses, not evals",
                            e[i].suite ? e[i].suite : "(null)");
    eval_ctx c = {step, tokens, flops, e, db->has_acc_bytes};
    return replace_rows(db, "DELETE FROM evals WHERE run_id = ?1 AND step = ?2", run_id, step,
                        db->has_acc_bytes
                            ? "INSERT OR REPLACE INTO evals VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)"
                            : "INSERT OR REPLACE INTO evals VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)",
                        n, fill_eval, &c, err);
}

typedef struct {
    const char *const *a, *const *b;
} pair_ctx;
static void fill_sample(sqlite3_stmt *s, int i, const void *ctx) {
    const pair_ctx *c = ctx;
    sqlite3_bind_text(s, 2, c->a[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, c->b[i], -1, SQLITE_TRANSIENT);
}

lms_status lms_sweepdb_put_samples(lms_sweepdb *db, int64_t run_id, const char *const *prompt, const char *const *text,
                                   int n, lms_err *err) {
    pair_ctx c = {prompt, text};
    return replace_rows(db, "DELETE FROM samples WHERE run_id = ?1", run_id, -1,
                        "INSERT INTO samples VALUES (?1, ?2, ?3)", n, fill_sample, &c, err);
}

typedef struct {
    int64_t text_id;
    const char *const *token;
    const float *logp;
    const int32_t *rank;
} tok_ctx;
static void fill_token(sqlite3_stmt *s, int i, const void *ctx) {
    const tok_ctx *c = ctx;
    sqlite3_bind_int64(s, 2, c->text_id);
    sqlite3_bind_int64(s, 3, i);
    sqlite3_bind_text(s, 4, c->token[i], -1, SQLITE_TRANSIENT);
    bind_real(s, 5, c->logp[i]);
    if (c->rank) sqlite3_bind_int64(s, 6, c->rank[i]);
}

lms_status lms_sweepdb_put_token_losses(lms_sweepdb *db, int64_t run_id, int64_t text_id, const char *const *token,
                                        const float *logp, const int32_t *rank, int n, lms_err *err) {
    tok_ctx c = {text_id, token, logp, rank};
    return replace_rows(db, "DELETE FROM token_losses WHERE run_id = ?1 AND text_id = ?2", run_id, text_id,
                        "INSERT INTO token_losses VALUES (?1, ?2, ?3, ?4, ?5, ?6)", n, fill_token, &c, err);
}

int64_t lms_sweepdb_count(lms_sweepdb *db, const char *table, int64_t run_id) {
    static const char *ok[] = {"runs", "metrics", "domain_losses", "evals", "samples", "token_losses", "meta"};
    int good = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) good |= !strcmp(table, ok[i]);
    if (!good) return -1;
    char sql[160];
    if (run_id >= 0 && strcmp(table, "meta"))
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE %s = %lld", table, strcmp(table, "runs") ? "run_id" : "id",
                 (long long)run_id);
    else snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK) return -1;
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
}
