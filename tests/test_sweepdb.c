/* test_sweepdb.c — the sweep results database: a new file gets the schema and schema_version '1';
 * another version and a file that is not a sweep database are refused with a clear message; run
 * rows insert, update in place (one row per name) and read back with NULLs as NAN/-1; rewriting a
 * run's metrics, domain losses, evals, samples and token losses replaces them (no duplicates);
 * 'domain:' eval rows are refused; a database of the first contract (no runs.kind) still reads and
 * writes; one whose evals lack acc_bytes gets the columns when a writer opens it, with its old by-bytes
 * acc_norm moved there; the run's config columns come from the config-field table (train.h): every
 * LMS_TF_DB row is a column of a new database and of an old one after a writer opened it, and each value
 * reads back; a reader (create 0) changes no byte of an old file. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include "scaling/db.h"

static char g_dir[64];
static const char *path(const char *name) {
    static char p[128];
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/lms_test_sweepdb_XXXXXX");
        if (!mkdtemp(g_dir)) abort();
    }
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    return p;
}

/* One value of the first row of a query, NAN for NULL or no row. */
static double raw_real(const char *file, const char *sql) {
    sqlite3 *h;
    sqlite3_stmt *s = NULL;
    double v = NAN;
    sqlite3_open(file, &h);
    if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_double(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(h);
    return v;
}

static void raw_exec(const char *file, const char *sql) {
    sqlite3 *h;
    sqlite3_open(file, &h);
    sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
}

/* The config_set bit of the config-field table's row `key`. */
static uint64_t bit(const char *key) {
    int n;
    const lms_train_field *t = lms_train_fields(&n);
    const lms_train_field *f = lms_train_field_find(key);
    return f ? 1ull << (f - t) : 0;
}

static void test_create_and_version(void) {
    lms_err err = {0};
    lms_sweepdb *db = NULL;
    const char *p = path("a.db");
    CHECK(lms_sweepdb_open(&db, p, 0, &err) == LMS_ERR_IO); /* no file, no create */
    CHECK(lms_sweepdb_open(&db, p, 1, &err) == LMS_OK);
    char *v = NULL;
    CHECK(lms_sweepdb_get_meta(db, "schema_version", &v, &err) == LMS_OK && v && !strcmp(v, "1"));
    free(v);
    CHECK(lms_sweepdb_get_meta(db, "nope", &v, &err) == LMS_OK && v == NULL);
    lms_sweepdb_close(db);
    CHECK(lms_sweepdb_open(&db, p, 0, &err) == LMS_OK); /* reopens */
    lms_sweepdb_close(db);
    raw_exec(p, "UPDATE meta SET value = '7' WHERE key = 'schema_version'");
    CHECK(lms_sweepdb_open(&db, p, 1, &err) == LMS_ERR_FORMAT && db == NULL);
    CHECKF(strstr(err.msg, "schema version 7") && strstr(err.msg, "reads version 1"), "%s", err.msg);
    /* not a sweep database */
    FILE *f = fopen(path("junk.db"), "w");
    fputs("this is not sqlite at all, just text that is long enough to be a header....................", f);
    fclose(f);
    CHECK(lms_sweepdb_open(&db, path("junk.db"), 1, &err) == LMS_ERR_FORMAT);
    raw_exec(path("other.db"), "CREATE TABLE t (x)");
    CHECK(lms_sweepdb_open(&db, path("other.db"), 1, &err) == LMS_ERR_FORMAT);
    CHECKF(strstr(err.msg, "not a sweep results database"), "%s", err.msg);
}

static void test_rows_replace(void) {
    lms_err err = {0};
    lms_sweepdb *db = NULL;
    CHECK(lms_sweepdb_open(&db, path("b.db"), 1, &err) == LMS_OK);
    if (!db) return;
    lms_sweepdb_run r, back;
    lms_sweepdb_run_init(&r, "L1-C16", "runs/L1-C16");
    r.config.model.n_layer = 1;
    r.config.lr = 0.01f;
    r.config_set = bit("n_layer") | bit("lr");
    int64_t id = -1, id2 = -1;
    int found = 0;
    CHECK(lms_sweepdb_put_run(db, &r, &id, &err) == LMS_OK && id >= 1);
    strcpy(r.status, "done");
    r.val_loss = 2.5;
    CHECK(lms_sweepdb_put_run(db, &r, &id2, &err) == LMS_OK && id2 == id);
    CHECK(lms_sweepdb_count(db, "runs", -1) == 1);
    CHECK(lms_sweepdb_get_run(db, "L1-C16", &back, &found, &err) == LMS_OK && found);
    CHECK(!strcmp(back.status, "done") && back.val_loss == 2.5 && back.config.model.n_layer == 1 && back.config.lr == 0.01f);
    CHECK(back.config_set == (bit("n_layer") | bit("lr"))); /* n_head, ...: NULL */
    CHECK(isnan(back.flops) && back.error[0] == 0 && !strcmp(back.kind, "grid"));
    strcpy(r.status, "finished"); /* the CHECK constraint */
    CHECK(lms_sweepdb_put_run(db, &r, NULL, &err) == LMS_ERR_IO);
    lms_sweepdb_metric m[3] = {{1, 64, 1e6, 5.0, NAN, 0.01}, {2, 128, 2e6, 4.0, 4.1, 0.01}, {3, 192, 3e6, 3.5, NAN, 0.005}};
    for (int k = 0; k < 2; k++) CHECK(lms_sweepdb_put_metrics(db, id, m, 3, &err) == LMS_OK);
    CHECK(lms_sweepdb_count(db, "metrics", id) == 3);
    lms_sweepdb_domain d[2] = {{"news", 3.0, 4.0, 100}, {"stories", 3.2, 4.2, 90}};
    for (int k = 0; k < 2; k++) CHECK(lms_sweepdb_put_domains(db, id, 3, d, 2, &err) == LMS_OK);
    CHECK(lms_sweepdb_put_domains(db, id, 1, d, 1, &err) == LMS_OK);
    CHECK(lms_sweepdb_count(db, "domain_losses", id) == 3);
    lms_sweepdb_eval e = {.suite = "capitals", .kind = "mc", .n = 20, .chance = 0.25, .acc = 0.3, .acc_se = 0.1,
                          .acc_norm = NAN, .acc_norm_se = NAN, .logp = -2, .logp_se = 0.1, .prob = NAN, .prob_se = NAN,
                          .edit = NAN, .edit_se = NAN, .acc_bytes = 0.35, .acc_bytes_se = 0.11};
    for (int k = 0; k < 2; k++) CHECK(lms_sweepdb_put_evals(db, id, 3, 192, 3e6, &e, 1, &err) == LMS_OK);
    CHECK(lms_sweepdb_count(db, "evals", id) == 1);
    e.suite = "domain:news";
    CHECK(lms_sweepdb_put_evals(db, id, 3, 192, 3e6, &e, 1, &err) == LMS_ERR_ARG);
    const char *pr[2] = {"The", "In the"}, *tx[2] = {" cat sat", " park"};
    for (int k = 0; k < 2; k++) CHECK(lms_sweepdb_put_samples(db, id, pr, tx, 2, &err) == LMS_OK);
    CHECK(lms_sweepdb_count(db, "samples", id) == 2);
    const char *tok[3] = {"a", " b", "c"};
    float lp[3] = {-1, -2, -3};
    int32_t rk[3] = {1, 2, 3};
    for (int k = 0; k < 2; k++) CHECK(lms_sweepdb_put_token_losses(db, id, 0, tok, lp, rk, 3, &err) == LMS_OK);
    CHECK(lms_sweepdb_put_token_losses(db, id, 1, tok, lp, NULL, 2, &err) == LMS_OK);
    CHECK(lms_sweepdb_count(db, "token_losses", id) == 5);
    CHECK(lms_sweepdb_count(db, "no_such_table; DROP TABLE runs", -1) == -1);
    lms_sweepdb_run *all = NULL;
    int n = 0;
    CHECK(lms_sweepdb_list_runs(db, &all, &n, &err) == LMS_OK && n == 1 && all && !strcmp(all[0].name, "L1-C16"));
    free(all);
    lms_sweepdb_close(db);
}

/* The whole of a file (malloc'd; NULL when it cannot be read), *n its size. */
static char *slurp(const char *file, long *n) {
    FILE *f = fopen(file, "rb");
    char *b = NULL;
    *n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)*n + 1)) &&
        fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    if (f) fclose(f);
    return b;
}

/* a database made from the first contract's schema (no runs.kind, none of the later config columns),
   in WAL mode as every sweep wrote it: a reader (create 0, as fit opens it) reads it and leaves every
   byte as it was; a writer (create 1, as the sweep opens it) adds the later config columns, and the
   run written reads back as 'grid' */
static void test_first_contract(void) {
    const char *p = path("c.db");
    raw_exec(p, "PRAGMA journal_mode=WAL;"
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "INSERT INTO meta VALUES ('schema_version', '1');"
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, run_dir TEXT NOT NULL,"
                " status TEXT NOT NULL, error TEXT, parent TEXT, n_layer INTEGER, n_head INTEGER, n_embd INTEGER,"
                " n_ctx INTEGER, vocab_size INTEGER, params INTEGER, params_nonembed INTEGER, batch INTEGER, accum INTEGER,"
                " steps INTEGER, lr REAL, schedule TEXT, tokens REAL, flops REAL, final_train_loss REAL, val_loss REAL,"
                " val_bpb REAL, elapsed_s REAL, started_utc TEXT, finished_utc TEXT);"
                "INSERT INTO runs (id, name, run_dir, status, n_layer) VALUES (1, 'old', 'runs/old', 'done', 3);");
    const char *ncols = "SELECT COUNT(*) FROM pragma_table_info('runs')";
    CHECK(raw_real(p, ncols) == 26);
    int nf, n_db = 0;
    const lms_train_field *tf = lms_train_fields(&nf);
    for (int i = 0; i < nf; i++) n_db += !!(tf[i].flags & LMS_TF_DB);
    long n0, n1;
    char *b0 = slurp(p, &n0);
    lms_err err = {0};
    lms_sweepdb *db = NULL;
    CHECKF(lms_sweepdb_open(&db, p, 0, &err) == LMS_OK, "%s", err.msg);
    if (!db) {
        free(b0);
        return;
    }
    lms_sweepdb_run *rs = NULL;
    int n = 0;
    CHECKF(lms_sweepdb_list_runs(db, &rs, &n, &err) == LMS_OK && n == 1, "%s", err.msg);
    if (n == 1) {
        CHECK(!strcmp(rs[0].kind, "grid") && rs[0].config.model.n_layer == 3 && (rs[0].config_set & bit("n_layer")));
        for (int i = 0; i < nf; i++) /* the columns the file lacks read as unset */
            if ((tf[i].flags & LMS_TF_DB) && !strstr(" n_layer n_head n_embd n_ctx vocab_size batch accum steps lr schedule ", tf[i].key))
                CHECKF(!(rs[0].config_set & (1ull << i)), "%s", tf[i].key);
    }
    free(rs);
    lms_sweepdb_close(db);
    char *b1 = slurp(p, &n1);
    CHECKF(b0 && b1 && n0 == n1 && !memcmp(b0, b1, (size_t)n0), "a read-only open changed the file (%ld -> %ld bytes)", n0, n1);
    free(b0);
    free(b1);
    CHECK(raw_real(p, ncols) == 26);
    CHECKF(lms_sweepdb_open(&db, p, 1, &err) == LMS_OK, "%s", err.msg);
    if (!db) return;
    lms_sweepdb_run r, back;
    lms_sweepdb_run_init(&r, "x", "runs/x");
    strcpy(r.kind, "lr_sweep");
    int found = 0;
    CHECKF(lms_sweepdb_put_run(db, &r, NULL, &err) == LMS_OK, "%s", err.msg);
    CHECK(lms_sweepdb_get_run(db, "x", &back, &found, &err) == LMS_OK && found && !strcmp(back.kind, "grid"));
    lms_sweepdb_close(db);
    /* the config columns after schema 1's were added by the writer */
    CHECKF(raw_real(p, ncols) == 26 + n_db - 10, "%g columns", raw_real(p, ncols));
    for (int i = 0; i < nf; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT COUNT(%s) FROM runs WHERE name = 'x'", tf[i].key);
        if (tf[i].flags & LMS_TF_DB) CHECKF(raw_real(p, q) == 0, "runs lacks the column %s", tf[i].key);
    }
}

/* Every LMS_TF_DB row of the config-field table is a column of a new database, and a config with a
   value other than the default in each of them reads back as it was written. */
static void test_config_columns(void) {
    lms_err err = {0};
    lms_sweepdb *db = NULL;
    CHECK(lms_sweepdb_open(&db, path("e.db"), 1, &err) == LMS_OK);
    if (!db) return;
    int nf, n_db = 0;
    const lms_train_field *tf = lms_train_fields(&nf);
    lms_sweepdb_run r, back;
    lms_sweepdb_run_init(&r, "cfg", "runs/cfg");
    lms_train_config c;
    lms_train_config_defaults(&c);
    for (int i = 0; i < nf; i++) {
        if (!(tf[i].flags & LMS_TF_DB)) continue;
        n_db++;
        void *v = lms_train_field_ptr(&c, &tf[i]);
        switch (tf[i].type) {
        case LMS_TF_INT: *(int *)v = 1000 + i; break;
        case LMS_TF_BOOL: *(int *)v = !(int)tf[i].def; break;
        case LMS_TF_I64: *(int64_t *)v = 5000000000LL + i; break;
        case LMS_TF_SEED: *(uint64_t *)v = 0x7edcba9876543210ULL + (uint64_t)i; break;
        case LMS_TF_FLOAT: *(float *)v = 0.125f * (float)i; break;
        case LMS_TF_STR: snprintf(v, tf[i].cap, "value %d", i); break;
        case LMS_TF_ENUM: CHECK(tf[i].parse(tf[i].name((int)tf[i].def + 1), (int *)v) == 0); break;
        case LMS_TF_DATA: CHECKF(0, "row %s: a list of paths is not a column", tf[i].key); break;
        }
        CHECKF(!lms_train_field_is_default(&c, &tf[i]), "row %s", tf[i].key);
    }
    CHECK(n_db >= 10); /* schema 1's: n_layer ... schedule */
    lms_sweepdb_run_set_config(&r, &c);
    int found = 0;
    CHECKF(lms_sweepdb_put_run(db, &r, NULL, &err) == LMS_OK, "%s", err.msg);
    CHECK(lms_sweepdb_get_run(db, "cfg", &back, &found, &err) == LMS_OK && found);
    CHECK(back.config_set == r.config_set);
    for (int i = 0; i < nf; i++) {
        if (!(tf[i].flags & LMS_TF_DB)) continue;
        size_t sz = tf[i].type == LMS_TF_I64 || tf[i].type == LMS_TF_SEED ? 8 : tf[i].type == LMS_TF_STR ? tf[i].cap : 4;
        CHECKF(!memcmp(lms_train_field_cptr(&c, &tf[i]), lms_train_field_cptr(&back.config, &tf[i]), sz), "column %s", tf[i].key);
        char q[160];
        snprintf(q, sizeof q, "SELECT COUNT(%s) FROM runs WHERE name = 'cfg'", tf[i].key);
        CHECKF(raw_real(path("e.db"), q) == 1, "no value in the column %s", tf[i].key);
    }
    lms_sweepdb_close(db);
}

/* acc_bytes: a new database has the columns and stores them; one made before them is left as it is
   by a reader and gets them when a writer opens it, its old acc_norm (by bytes) moved to acc_bytes,
   and then takes new rows with both. */
static void test_acc_bytes(void) {
    lms_err err = {0};
    lms_sweepdb *db = NULL;
    CHECK(lms_sweepdb_open(&db, path("b.db"), 0, &err) == LMS_OK); /* test_rows_replace wrote acc_bytes 0.35 */
    lms_sweepdb_close(db);
    CHECK_NEAR(raw_real(path("b.db"), "SELECT acc_bytes FROM evals"), 0.35, 1e-12);
    CHECK_NEAR(raw_real(path("b.db"), "SELECT acc_bytes_se FROM evals"), 0.11, 1e-12);
    const char *p = path("d.db");
    raw_exec(p, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "INSERT INTO meta VALUES ('schema_version', '1');"
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, run_dir TEXT NOT NULL,"
                " status TEXT NOT NULL, error TEXT, parent TEXT, n_layer INTEGER, n_head INTEGER, n_embd INTEGER,"
                " n_ctx INTEGER, vocab_size INTEGER, params INTEGER, params_nonembed INTEGER, batch INTEGER, accum INTEGER,"
                " steps INTEGER, lr REAL, schedule TEXT, tokens REAL, flops REAL, final_train_loss REAL, val_loss REAL,"
                " val_bpb REAL, elapsed_s REAL, started_utc TEXT, finished_utc TEXT, kind TEXT);"
                "CREATE TABLE evals (run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,"
                " tokens REAL, flops REAL, suite TEXT NOT NULL, kind TEXT, n INTEGER, chance REAL,"
                " acc REAL, acc_se REAL, acc_norm REAL, acc_norm_se REAL, logp REAL, logp_se REAL,"
                " prob REAL, prob_se REAL, edit REAL, edit_se REAL, PRIMARY KEY (run_id, step, suite));"
                "INSERT INTO runs (id, name, run_dir, status) VALUES (1, 'old', 'runs/old', 'done');"
                "INSERT INTO evals (run_id, step, suite, kind, n, acc, acc_norm, acc_norm_se) VALUES (1, 5, 'x', 'mc', 10, 0.5, 0.4, 0.13);");
    /* a reader leaves it as it is */
    CHECKF(lms_sweepdb_open(&db, p, 0, &err) == LMS_OK, "%s", err.msg);
    lms_sweepdb_close(db);
    CHECK(isnan(raw_real(p, "SELECT COUNT(acc_bytes) FROM evals")));
    CHECK_NEAR(raw_real(p, "SELECT acc_norm FROM evals WHERE step = 5"), 0.4, 1e-12);
    /* a writer migrates it */
    CHECKF(lms_sweepdb_open(&db, p, 1, &err) == LMS_OK, "%s", err.msg);
    if (!db) return;
    lms_sweepdb_eval e = {.suite = "y", .kind = "mc", .n = 4, .chance = 0.5, .acc = 0.25, .acc_se = 0.2, .acc_norm = 0.5,
                          .acc_norm_se = 0.21, .logp = -1, .logp_se = NAN, .prob = NAN, .prob_se = NAN, .edit = NAN,
                          .edit_se = NAN, .acc_bytes = 0.75, .acc_bytes_se = 0.22};
    CHECKF(lms_sweepdb_put_evals(db, 1, 9, 100, 1e6, &e, 1, &err) == LMS_OK, "%s", err.msg);
    lms_sweepdb_close(db);
    CHECK_NEAR(raw_real(p, "SELECT acc_bytes FROM evals WHERE step = 5"), 0.4, 1e-12);
    CHECK_NEAR(raw_real(p, "SELECT acc_bytes_se FROM evals WHERE step = 5"), 0.13, 1e-12);
    CHECK(isnan(raw_real(p, "SELECT acc_norm FROM evals WHERE step = 5")));
    CHECK_NEAR(raw_real(p, "SELECT acc FROM evals WHERE step = 5"), 0.5, 1e-12);
    CHECK_NEAR(raw_real(p, "SELECT acc_norm FROM evals WHERE step = 9"), 0.5, 1e-12);
    CHECK_NEAR(raw_real(p, "SELECT acc_bytes FROM evals WHERE step = 9"), 0.75, 1e-12);
    /* opening again changes nothing: the new row's acc_norm stays */
    CHECK(lms_sweepdb_open(&db, p, 0, &err) == LMS_OK);
    lms_sweepdb_close(db);
    CHECK_NEAR(raw_real(p, "SELECT acc_norm FROM evals WHERE step = 9"), 0.5, 1e-12);
    CHECK_NEAR(raw_real(p, "SELECT acc_bytes FROM evals WHERE step = 5"), 0.4, 1e-12);
}

static void test_cleanup(void) {
    const char *names[] = {"a.db", "b.db", "c.db", "d.db", "junk.db", "other.db", "a.db-wal", "a.db-shm", "b.db-wal", "b.db-shm",
                           "c.db-wal", "c.db-shm", "d.db-wal", "d.db-shm", "e.db", "e.db-wal", "e.db-shm", "other.db-wal", "other.db-shm", "junk.db-wal", "junk.db-shm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(path(names[i]));
    CHECK(rmdir(g_dir) == 0);
}

TESTS(test_create_and_version, test_rows_replace, test_first_contract, test_config_columns, test_acc_bytes, test_cleanup)
