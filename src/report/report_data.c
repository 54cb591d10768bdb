/* report_data.c — read a sweep's results.db into the report's JSON data.
 *
 * Every table becomes an array of row objects keyed by column name (INTEGER -> integer, REAL ->
 * real, TEXT -> string, NULL or a non-finite REAL -> null). Rows of the per-run tables carry the
 * run's name and non-embedding size so that the page can colour and label them without joins.
 * The database is opened read-only (a sweep may still be writing it: SQLite's locking keeps each
 * read consistent). Leaves out: any computation (report_analysis.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/fileio.h"
#include "core/jsonl.h"
#include "report/report_internal.h"

double lms_report_num(const json_t *row, const char *key) {
    json_t *v = json_object_get(row, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *lms_report_str(const json_t *row, const char *key) {
    json_t *v = json_object_get(row, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* One column of the current row as JSON (a new reference; NULL only when out of memory). */
static json_t *column_json(sqlite3_stmt *st, int i) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: {
        return lms_json_num(sqlite3_column_double(st, i));
    }
    case SQLITE_TEXT: {
        const unsigned char *t = sqlite3_column_text(st, i);
        json_t *s = json_stringn((const char *)t, (size_t)sqlite3_column_bytes(st, i));
        return s ? s : json_string("(not UTF-8)"); /* jansson refuses invalid UTF-8 */
    }
    case SQLITE_NULL: return json_null();
    default: return json_string("(blob)");
    }
}

/* Run sql and append each row as an object to a new array in *out. */
static lms_status query_rows(sqlite3 *db, const char *sql, json_t **out, lms_err *err) {
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return lms_errf(err, LMS_ERR_FORMAT, "the results database does not have the expected columns (%s); "
                        "was it written by this lmscope's sweep?", sqlite3_errmsg(db));
    json_t *arr = json_array();
    int rc, nc = sqlite3_column_count(st);
    while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int i = 0; row && i < nc; i++)
            if (json_object_set_new(row, sqlite3_column_name(st, i), column_json(st, i)) != 0) {
                json_decref(row);
                row = NULL;
            }
        if (!row || json_array_append_new(arr, row) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (!arr) {
        sqlite3_finalize(st);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory reading the results database");
    }
    if (rc != SQLITE_DONE) {
        lms_status s = lms_errf(err, LMS_ERR_IO, "reading the results database failed: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        json_decref(arr);
        return s;
    }
    sqlite3_finalize(st);
    *out = arr;
    return LMS_OK;
}

/* meta.schema_version must be ours; every table must exist. */
static lms_status check_schema(sqlite3 *db, const char *path, lms_err *err) {
    static const char *tables[] = {"meta", "runs", "metrics", "domain_losses", "evals", "samples", "token_losses"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        sqlite3_stmt *st = NULL;
        int found = 0;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &st, NULL) ==
            SQLITE_OK) {
            sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
            found = sqlite3_step(st) == SQLITE_ROW;
        } else {
            sqlite3_finalize(st);
            return lms_errf(err, LMS_ERR_FORMAT, "'%s' is not a readable SQLite database (%s)", path, sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
        if (!found)
            return lms_errf(err, LMS_ERR_FORMAT, "'%s' has no table '%s': it is not an lmscope sweep database "
                            "(lmscope sweep writes SWEEP_DIR/results.db)", path, tables[i]);
    }
    sqlite3_stmt *st = NULL;
    char ver[64] = "";
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema_version'", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(ver, sizeof ver, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (!ver[0])
        return lms_errf(err, LMS_ERR_FORMAT, "'%s' has no meta.schema_version: not an lmscope sweep database", path);
    if (strcmp(ver, LMS_REPORT_SCHEMA_VERSION) != 0)
        return lms_errf(err, LMS_ERR_MISMATCH, "'%s' has schema_version '%s'; this lmscope reads version '%s' only "
                        "(use the lmscope that wrote the sweep, or re-run the sweep with this one)",
                        path, ver, LMS_REPORT_SCHEMA_VERSION);
    return LMS_OK;
}

/* The queries, one per array of the page's data. Run name and size ride along on every row; @KIND@ is
 * the run's kind: runs.kind ('grid': a point of the grid, used by the fits; 'lr_sweep': a learning-rate
 * variant), an addition to schema 1 that older databases lack (then every run is 'grid'). */
static const struct {
    const char *key, *sql;
} queries[] = {
    {"meta", "SELECT key, value FROM meta ORDER BY key"},
    {"runs", "SELECT *, @KIND@ AS run_kind FROM runs r ORDER BY params_nonembed, tokens, id"},
    {"metrics", "SELECT r.name AS run, r.params_nonembed AS params, m.step, m.tokens, m.flops, m.loss, m.val_loss, "
                "m.lr FROM metrics m JOIN runs r ON r.id = m.run_id ORDER BY r.params_nonembed, m.run_id, m.step"},
    /* per-domain losses at each run's last measured step */
    {"domains", "SELECT r.name AS run, r.params_nonembed AS params, r.status AS status, @KIND@ AS run_kind, "
                "r.flops AS flops, d.step, "
                "d.domain, d.loss, d.bpb, d.tokens FROM domain_losses d JOIN runs r ON r.id = d.run_id "
                "WHERE d.step = (SELECT MAX(step) FROM domain_losses x WHERE x.run_id = d.run_id) "
                "ORDER BY d.domain, r.flops"},
    {"evals", "SELECT r.name AS run, r.params_nonembed AS params, r.status AS status, @KIND@ AS run_kind, e.step, "
              "e.tokens, "
              /* a run's last evaluation without FLOPs is placed at the run's FLOPs; others stay unplaced */
              "CASE WHEN e.flops IS NULL AND e.step = (SELECT MAX(step) FROM evals x WHERE x.run_id = e.run_id) "
              "THEN r.flops ELSE e.flops END AS flops, e.suite, e.kind, e.n, e.chance, e.acc, e.acc_se, e.logp, "
              "e.logp_se, e.prob, e.prob_se, e.edit, e.edit_se, r.n_layer AS layers, "
              "(e.step = (SELECT MAX(step) FROM evals x WHERE x.run_id = e.run_id)) AS final "
              "FROM evals e JOIN runs r ON r.id = e.run_id ORDER BY e.suite, r.params_nonembed, e.run_id, e.step"},
    {"samples", "SELECT r.name AS run, r.params_nonembed AS params, s.prompt, s.text FROM samples s "
                "JOIN runs r ON r.id = s.run_id ORDER BY r.params_nonembed, r.id, s.rowid"},
};

/* sql with every @KIND@ replaced by kind; NULL when out of memory. */
static char *with_kind(const char *sql, const char *kind) {
    size_t n = strlen(sql) + 1, kl = strlen(kind);
    for (const char *p = sql; (p = strstr(p, "@KIND@")); p += 6) n += kl;
    char *out = malloc(n), *o = out;
    if (!out) return NULL;
    for (const char *p = sql, *q; *p; p = q + 6) {
        if (!(q = strstr(p, "@KIND@"))) {
            strcpy(o, p);
            return out;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, kind, kl);
        o += kl;
    }
    *o = 0;
    return out;
}

static int runs_have_kind(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('runs') WHERE name = 'kind'", -1, &st, NULL) == SQLITE_OK)
        found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

lms_status lms_report_read_db(const char *path, int max_token_rows, json_t **out, lms_err *err) {
    *out = NULL;
    if (!lms_path_exists(path))
        return lms_errf(err, LMS_ERR_IO, "no results database at '%s' (give the directory of a sweep: "
                        "lmscope sweep --out DIR writes DIR/results.db)", path);
    if (lms_path_is_dir(path)) return lms_errf(err, LMS_ERR_IO, "'%s' is a directory, not a database", path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        lms_status s = lms_errf(err, LMS_ERR_IO, "cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return s;
    }
    sqlite3_busy_timeout(db, 5000); /* a sweep may hold a write lock for a moment */
    lms_status s = check_schema(db, path, err);
    int checked = s == LMS_OK;
    json_t *data = s ? NULL : json_object();
    if (!s && !data) s = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    const char *kind = !s && runs_have_kind(db) ? "COALESCE(r.kind, 'grid')" : "'grid'";
    for (size_t i = 0; !s && i < sizeof queries / sizeof queries[0]; i++) {
        json_t *arr;
        char *sql = with_kind(queries[i].sql, kind);
        s = sql ? query_rows(db, sql, &arr, err) : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        free(sql);
        if (!s) json_object_set_new(data, queries[i].key, arr);
    }
    if (!s) {
        /* per-token losses of the smallest and the largest model that have them, in reading order */
        char sql[800];
        snprintf(sql, sizeof sql,
                 "SELECT run, params, text_id, pos, token, logp, rank FROM (SELECT r.name AS run, "
                 "r.params_nonembed AS params, t.text_id, t.pos, t.token, t.logp, t.rank, ROW_NUMBER() OVER "
                 "(PARTITION BY t.run_id ORDER BY t.text_id, t.pos) AS k FROM token_losses t JOIN runs r ON r.id = t.run_id "
                 "WHERE t.run_id IN "
                 "((SELECT run_id FROM token_losses JOIN runs ON runs.id = run_id ORDER BY params_nonembed, run_id LIMIT 1),"
                 " (SELECT run_id FROM token_losses JOIN runs ON runs.id = run_id ORDER BY params_nonembed DESC, run_id DESC "
                 "LIMIT 1))) WHERE k <= %d ORDER BY params, run, text_id, pos", max_token_rows / 2 + 1);
        json_t *arr;
        s = query_rows(db, sql, &arr, err);
        if (!s) json_object_set_new(data, "tokens", arr);
    }
    sqlite3_close(db);
    if (s) {
        json_decref(data);
        return checked ? lms_err_prefix(err, "%s: ", path) : s;
    }
    *out = data;
    return LMS_OK;
}
