/* report.c — write the report page: find lmscope's data directory, read the template and the
 * vendored charting library, and fill the template's markers.
 *
 * The template (data/report/template.html) is plain HTML, CSS and script with markers of the form
 * <!--LMS:NAME--> that this file replaces: TITLE, VENDOR (the three library builds, each in its own
 * <script>), DATA (the JSON of report_data.c + report_analysis.c in a <script type=
 * "application/json">, with every '<' written as \u003c so that no text inside can close the
 * element), CLAIMS and RUNS (static HTML tables, readable without script; the run table has a column
 * for each config-field row with a `report` heading, train.h, that the sweep sets), VERSIONS (the vendored
 * versions). An unknown marker is an error, so a template edit cannot silently drop a section.
 * The template lives in a file rather than a C string because it is mostly script: it is edited
 * and reviewed as HTML, and it is read from the same data directory as the library it needs.
 * Leaves out: the drawing itself (the template's script), the numbers (report_analysis.c).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "report/report_internal.h"
#include "train/train.h"

static const char *vendor_files[] = {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js"};

void lms_report_opts_default(lms_report_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_boot = 200;
    o->seed = 1;
    o->max_token_rows = 4000;
}

static int has_vendor(const char *dir) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%.4000s/vendor/%s", dir, vendor_files[0]);
    return access(p, R_OK) == 0;
}

lms_status lms_report_find_data_dir(const char *override, char *out, size_t cap, lms_err *err) {
    const char *env = getenv("LMSCOPE_DATA");
    const char *given = override ? override : (env && *env) ? env : NULL;
    if (given) { /* an explicit choice is taken or refused, never silently replaced */
        if (!has_vendor(given))
            return lms_errf(err, LMS_ERR_IO, "%s '%s' has no vendor/vega.min.js: give lmscope's data/ directory (it "
                            "holds vendor/ and report/), or restore data/vendor/ with tools/vendor/fetch_vega.sh",
                            override ? "--data-dir" : "LMSCOPE_DATA", given);
        snprintf(out, cap, "%s", given);
        return LMS_OK;
    }
    char tried[1024] = "";
    char cands[3][PATH_MAX];
    int nc = 0;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(cands[nc++], PATH_MAX, "%.*s/../data", PATH_MAX - 16, exe);
        snprintf(cands[nc++], PATH_MAX, "%.*s/data", PATH_MAX - 16, exe);
    }
    snprintf(cands[nc++], PATH_MAX, "data");
    for (int i = 0; i < nc; i++) {
        if (has_vendor(cands[i])) {
            snprintf(out, cap, "%s", cands[i]);
            return LMS_OK;
        }
        size_t l = strlen(tried);
        snprintf(tried + l, sizeof tried - l, "%s%.200s", l ? ", " : "", cands[i]);
    }
    return lms_errf(err, LMS_ERR_IO, "cannot find lmscope's data directory with vendor/vega.min.js (tried %s); "
                    "pass --data-dir DIR or set LMSCOPE_DATA, or restore data/vendor/ with tools/vendor/fetch_vega.sh",
                    tried);
}

/* ---- HTML helpers ---- */

static void put_escaped(FILE *fp, const char *s) {
    for (; *s; s++) switch (*s) {
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '&': fputs("&amp;", fp); break;
        case '"': fputs("&quot;", fp); break;
        default: fputc(*s, fp);
        }
}

static void put_num(FILE *fp, double v, const char *fmt) {
    if (isfinite(v)) fprintf(fp, fmt, v);
    else fputs("—", fp);
}

static void write_claims(FILE *fp, json_t *data) {
    json_t *claims = json_object_get(data, "claims");
    fputs("<table class=\"claims\"><thead><tr><th>claim</th><th>verdict</th><th>measured evidence</th></tr></thead><tbody>\n",
          fp);
    for (size_t i = 0; i < json_array_size(claims); i++) {
        json_t *c = json_array_get(claims, i);
        const char *v = lms_report_str(c, "verdict");
        fprintf(fp, "<tr class=\"v-%s\"><td>", !strcmp(v, "supported") ? "ok" : !strcmp(v, "weak") ? "weak" : "bad");
        put_escaped(fp, lms_report_str(c, "claim"));
        fputs("</td><td class=\"verdict\">", fp);
        put_escaped(fp, v);
        fputs("</td><td>", fp);
        put_escaped(fp, lms_report_str(c, "evidence"));
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
    const char *w = lms_report_str(json_object_get(data, "fit"), "warnings");
    if (*w) {
        fputs("<p class=\"warn\"><b>Fit warnings:</b> ", fp);
        put_escaped(fp, w);
        fputs("</p>\n", fp);
    }
}

/* Whether a run's value of row f (its results.db column, as report_data.c read it) is other than
   the row's default, compared in the row's type as lms_train_field_is_default does (a FLOAT row's
   REAL was written from a float: as a float); NULL (a run before the column existed) is not. */
static int off_default(json_t *r, const lms_train_field *f) {
    json_t *v = json_object_get(r, f->key);
    if (json_is_number(v) && f->type == LMS_TF_FLOAT) return (float)json_number_value(v) != (float)f->def;
    if (json_is_integer(v) && f->type == LMS_TF_SEED) return (uint64_t)json_integer_value(v) != (uint64_t)f->def;
    if (json_is_integer(v)) return json_integer_value(v) != (json_int_t)f->def;
    if (json_is_number(v)) return json_number_value(v) != f->def;
    if (json_is_string(v)) return strcmp(json_string_value(v), f->type == LMS_TF_ENUM ? f->name((int)f->def) : "") != 0;
    return 0;
}

/* The config-field table's run-table columns (a row's `report` heading, train.h) that this sweep
   sets: some run has a value other than the default. *n of them into col[]. */
static void config_columns(json_t *runs, const lms_train_field **col, int *n) {
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    *n = 0;
    for (int i = 0; i < nf; i++) {
        if (!tf[i].report || !(tf[i].flags & LMS_TF_DB)) continue;
        int set = 0;
        for (size_t k = 0; !set && k < json_array_size(runs); k++) set = off_default(json_array_get(runs, k), &tf[i]);
        if (set) col[(*n)++] = &tf[i];
    }
}

static void put_value(FILE *fp, json_t *v) {
    if (json_is_integer(v)) fprintf(fp, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v)) put_num(fp, json_number_value(v), "%.4g");
    else if (json_is_string(v)) put_escaped(fp, json_string_value(v));
    else fputs("—", fp);
}

static void write_runs(FILE *fp, json_t *data) {
    json_t *runs = json_object_get(data, "runs");
    const lms_train_field *col[LMS_TRAIN_MAX_FIELDS];
    int ncol;
    config_columns(runs, col, &ncol);
    fputs("<table class=\"runs\"><thead><tr><th>run</th><th>status</th><th>params (non-emb.)</th><th>layers×width</th>"
          "<th>tokens</th><th>FLOPs</th><th>lr</th>", fp);
    for (int c = 0; c < ncol; c++) {
        fputs("<th>", fp);
        put_escaped(fp, col[c]->report);
        fputs("</th>", fp);
    }
    fputs("<th>val loss</th><th>note</th></tr></thead><tbody>\n", fp);
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i);
        const char *st = lms_report_str(r, "status");
        fprintf(fp, "<tr class=\"st-%s\"><td>", !strcmp(st, "done") ? "done" : !strcmp(st, "failed") ? "failed" : "open");
        put_escaped(fp, lms_report_str(r, "name"));
        fputs("</td><td>", fp);
        put_escaped(fp, st);
        fputs("</td><td>", fp);
        put_num(fp, lms_report_num(r, "params_nonembed"), "%.0f");
        fputs("</td><td>", fp);
        put_num(fp, lms_report_num(r, "n_layer"), "%.0f");
        fputs("×", fp);
        put_num(fp, lms_report_num(r, "n_embd"), "%.0f");
        fputs("</td><td>", fp);
        put_num(fp, lms_report_num(r, "tokens"), "%.3g");
        fputs("</td><td>", fp);
        put_num(fp, lms_report_num(r, "flops"), "%.3g");
        fputs("</td><td>", fp);
        put_num(fp, lms_report_num(r, "lr"), "%.2g");
        for (int c = 0; c < ncol; c++) {
            fputs("</td><td>", fp);
            put_value(fp, json_object_get(r, col[c]->key));
        }
        fputs("</td><td>", fp);
        put_num(fp, lms_report_num(r, "val_loss"), "%.4f");
        fputs("</td><td>", fp);
        const char *e = lms_report_str(r, "error"), *parent = lms_report_str(r, "parent");
        if (strcmp(lms_report_str(r, "run_kind"), "grid")) {
            fputs("learning-rate variant (not fitted) ", fp);
        }
        if (*e) put_escaped(fp, e);
        else if (*parent) {
            fputs("cool-down branch of ", fp);
            put_escaped(fp, parent);
        }
        if (json_is_true(json_object_get(r, "held_out"))) fputs(" (held out of the fit)", fp);
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
}

/* The data as JSON inside a <script type="application/json">; '<' as \u003c. */
static lms_status write_data(FILE *fp, json_t *data, lms_err *err) {
    char *js = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(8));
    if (!js) return lms_errf(err, LMS_ERR_NOMEM, "out of memory serialising the report's data");
    fputs("<script id=\"lms-data\" type=\"application/json\">", fp);
    for (const char *p = js; *p; p++)
        if (*p == '<') fputs("\\u003c", fp);
        else fputc(*p, fp);
    fputs("</script>\n", fp);
    free(js);
    return LMS_OK;
}

static lms_status write_vendor(FILE *fp, const char *data_dir, lms_err *err) {
    for (size_t i = 0; i < sizeof vendor_files / sizeof vendor_files[0]; i++) {
        char p[PATH_MAX], *buf;
        size_t len;
        snprintf(p, sizeof p, "%s/vendor/%s", data_dir, vendor_files[i]);
        lms_status s = lms_file_read_all(p, &buf, &len, err);
        if (s) return lms_err_prefix(err, "the charting library (restore it with tools/vendor/fetch_vega.sh): ");
        /* inlined in a <script>: a closing tag inside would end it early */
        if (memmem(buf, len, "</script", 8) || memmem(buf, len, "<!--", 4)) {
            free(buf);
            return lms_errf(err, LMS_ERR_FORMAT, "'%s' contains '</script' or '<!--' and cannot be inlined", p);
        }
        fprintf(fp, "<script>/* %s — BSD-3-Clause, see data/LICENSES/ */\n", vendor_files[i]);
        fwrite(buf, 1, len, fp);
        fputs("\n</script>\n", fp);
        free(buf);
    }
    return LMS_OK;
}

static void write_versions(FILE *fp, const char *data_dir) {
    char p[PATH_MAX], *buf;
    size_t len;
    lms_err e = {0};
    snprintf(p, sizeof p, "%s/vendor/VERSIONS", data_dir);
    if (lms_file_read_all(p, &buf, &len, &e) != LMS_OK) return;
    int first = 1;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64], ver[64];
        if (line[0] == '#' || sscanf(line, "%63s %63s", name, ver) != 2) continue;
        fprintf(fp, "%s", first ? "" : ", ");
        put_escaped(fp, name);
        fputc(' ', fp);
        put_escaped(fp, ver);
        first = 0;
    }
    free(buf);
}

/* Copy the template to fp, replacing each marker. */
static lms_status fill_template(FILE *fp, const char *tpl, const char *tpl_path, json_t *data,
                                const lms_report_opts *o, lms_err *err) {
    const char *p = tpl, *m;
    while ((m = strstr(p, "<!--LMS:"))) {
        fwrite(p, 1, (size_t)(m - p), fp);
        const char *name = m + 8, *end = strstr(name, "-->");
        if (!end) return lms_errf(err, LMS_ERR_FORMAT, "%s: an unterminated <!--LMS: marker", tpl_path);
        size_t nl = (size_t)(end - name);
        lms_status s = LMS_OK;
#define IS(x) (nl == strlen(x) && !strncmp(name, x, nl))
        if (IS("TITLE")) put_escaped(fp, o->sweep_dir);
        else if (IS("VENDOR")) s = write_vendor(fp, o->data_dir, err);
        else if (IS("DATA")) s = write_data(fp, data, err);
        else if (IS("CLAIMS")) write_claims(fp, data);
        else if (IS("RUNS")) write_runs(fp, data);
        else if (IS("VERSIONS")) write_versions(fp, o->data_dir);
        else return lms_errf(err, LMS_ERR_FORMAT, "%s: unknown marker <!--LMS:%.*s-->", tpl_path, (int)nl, name);
#undef IS
        if (s) return s;
        p = end + 3;
    }
    fputs(p, fp);
    return LMS_OK;
}

lms_status lms_report_write(const lms_report_opts *o, lms_report_summary *sum, lms_err *err) {
    if (!o || !o->sweep_dir || !o->out_path || !o->data_dir)
        return lms_errf(err, LMS_ERR_ARG, "lms_report_write needs sweep_dir, out_path and data_dir");
    if (o->n_boot < 0 || o->max_token_rows < 0)
        return lms_errf(err, LMS_ERR_ARG, "n_boot and max_token_rows must be >= 0");
    lms_report_summary local;
    if (!sum) sum = &local;
    char db[PATH_MAX], tpl_path[PATH_MAX];
    lms_path_join(db, sizeof db, o->sweep_dir, "results.db");
    snprintf(tpl_path, sizeof tpl_path, "%s/report/template.html", o->data_dir);

    char *tpl = NULL;
    size_t tlen;
    lms_status s = lms_file_read_all(tpl_path, &tpl, &tlen, err);
    if (s) return lms_err_prefix(err, "the report template (part of lmscope's data/): ");
    json_t *data = NULL;
    s = lms_report_read_db(db, o->max_token_rows, &data, err);
    if (!s) s = lms_report_analyse(data, o, sum, err);
    lms_atomic_file f;
    if (!s) s = lms_atomic_open(&f, o->out_path, err);
    if (!s) {
        s = fill_template(f.fp, tpl, tpl_path, data, o, err);
        long pos = ftell(f.fp);
        if (s) lms_atomic_abort(&f);
        else s = lms_atomic_commit(&f, err);
        sum->bytes = pos > 0 ? (size_t)pos : 0;
    }
    json_decref(data);
    free(tpl);
    return s;
}
