/* fit_runs.c — the runs a scaling fit reads (fit.h, lms_fit_runs_read): a JSON Lines file of runs
 * (docs/scaling.md: {"name", "params_nonembed", "tokens", "flops", "loss"}, '-' for stdin), or a
 * sweep dir's results.db (its finished grid runs, loss = the whole-set validation loss).
 *
 * Leaves out: the fits (fit.c, fit_report.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "core/jsonl.h"
#include "scaling/db.h"
#include "scaling/fit.h"

void lms_fit_runset_free(lms_fit_runset *t) {
    for (int i = 0; i < t->n; i++) free(t->name[i]);
    free(t->name);
    free(t->r);
    memset(t, 0, sizeof *t);
}

/* A required number field > 0: 0 ok, -1 with a message in why. */
static int pos_field(json_t *row, const char *key, double *v, char *why, size_t cap) {
    json_t *f = json_object_get(row, key);
    if (!f || json_is_null(f)) {
        snprintf(why, cap, "no \"%s\"", key);
        return -1;
    }
    if (!json_is_number(f)) {
        snprintf(why, cap, "\"%s\" is not a number", key);
        return -1;
    }
    *v = json_number_value(f);
    if (!(isfinite(*v) && *v > 0)) {
        snprintf(why, cap, "\"%s\" is %g; it must be a finite number > 0", key, *v);
        return -1;
    }
    return 0;
}

/* One row; 0 ok, -1 malformed (why), -2 out of memory. */
static int add_row(lms_fit_runset *t, json_t *row, long lineno, char *why, size_t cap) {
    if (!json_is_object(row)) {
        snprintf(why, cap, "not a JSON object");
        return -1;
    }
    lms_fit_run r;
    if (pos_field(row, "params_nonembed", &r.N, why, cap) || pos_field(row, "tokens", &r.D, why, cap) ||
        pos_field(row, "flops", &r.C, why, cap) || pos_field(row, "loss", &r.L, why, cap))
        return -1;
    json_t *jn = json_object_get(row, "name");
    if (!jn || json_is_null(jn)) jn = json_object_get(row, "model");
    if (jn && !json_is_null(jn) && !json_is_string(jn)) {
        snprintf(why, cap, "\"name\" is not a string");
        return -1;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "line %ld", lineno);
    if (t->n == t->cap) {
        int nc = t->cap ? 2 * t->cap : 64;
        lms_fit_run *nr = realloc(t->r, (size_t)nc * sizeof *nr);
        if (!nr) return -2;
        t->r = nr;
        char **nn = realloc(t->name, (size_t)nc * sizeof *nn);
        if (!nn) return -2;
        t->name = nn;
        t->cap = nc;
    }
    t->name[t->n] = strdup(json_is_string(jn) ? json_string_value(jn) : buf);
    if (!t->name[t->n]) return -2;
    t->r[t->n++] = r;
    return 0;
}

static lms_status run_row(json_t *row, long line, void *user, lms_err *err) {
    char why[256];
    int r = add_row(user, row, line, why, sizeof why);
    if (r == -2) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    if (r < 0)
        return lms_errf(err, LMS_ERR_FORMAT, "%s (a run is {\"name\", \"params_nonembed\", \"tokens\", \"flops\", "
                        "\"loss\"}; see docs/scaling.md)", why);
    return LMS_OK;
}

/* A sweep dir: its results.db's finished grid runs (status done, not LR-sweep variants), with the
   whole-set validation loss. */
static lms_status read_sweep(lms_fit_runset *t, const char *dir, const char *db_path, lms_err *err) {
    lms_sweepdb *db = NULL;
    lms_sweepdb_run *r = NULL;
    int n = 0;
    lms_status st;
    if ((st = lms_sweepdb_open(&db, db_path, 0, err)) || (st = lms_sweepdb_list_runs(db, &r, &n, err))) {
        lms_sweepdb_close(db);
        return lms_err_prefix(err, "%s: ", dir);
    }
    lms_sweepdb_close(db);
    for (int i = 0; i < n && !st; i++) {
        if (strcmp(r[i].status, "done") || strcmp(r[i].kind, "grid")) continue;
        json_t *row = json_pack("{s:s, s:f, s:f, s:f, s:f}", "name", r[i].name, "params_nonembed", (double)r[i].params_nonembed,
                                "tokens", r[i].tokens, "flops", r[i].flops, "loss", r[i].val_loss);
        char why[256];
        int a = row ? add_row(t, row, i + 1, why, sizeof why) : -2;
        json_decref(row);
        if (a == -2) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        else if (a < 0) st = lms_errf(err, LMS_ERR_FORMAT, "%s: run %s: %s", db_path, r[i].name, why);
    }
    free(r);
    return st;
}

lms_status lms_fit_runs_read(lms_fit_runset *t, const char *path, lms_err *err) {
    memset(t, 0, sizeof *t);
    char dbp[4200];
    struct stat sd;
    snprintf(dbp, sizeof dbp, "%s/results.db", path);
    if (strcmp(path, "-") && stat(path, &sd) == 0 && S_ISDIR(sd.st_mode) && stat(dbp, &sd) == 0)
        return read_sweep(t, path, dbp, err);
    return lms_jsonl_read(path, run_row, t, err);
}
