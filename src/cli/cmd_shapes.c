/* cmd_shapes.c — the 'shapes' subcommand: label each suite's curve from eval results.
 *
 *   lmscope shapes results.jsonl                        # x = FLOPs; acc and logp labelled
 *   lmscope shapes a.jsonl b.jsonl --x step --continuous prob --json
 *   lmscope eval ... | lmscope shapes -                 # '-' reads stdin
 *
 * Reads the JSON Lines rows that 'eval' writes (docs/formats.md, "Evaluation results"), groups
 * them by suite, places each row at x = its flops (--x tokens|params|step) and labels the suite's
 * curve twice with lms_shape_classify (src/eval/shapes.h): the discrete metric (acc ± acc_se) and
 * the continuous one (logp ± logp_se, or prob ± prob_se with --continuous prob). Rows of kind
 * "domain" have no accuracy; their continuous metric is minus the loss (± loss_se when the row has
 * it, else exact: then every change counts as significant). Rows without x are skipped and counted.
 * Output: a table, then one line per suite and metric saying why; --json: one object per suite.
 *
 * Exit status: 0 done; 1 a file is unreadable or a line malformed (file:line in the message);
 * 2 bad usage. Leaves out: plotting (the report draws the curves), fitting.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/jsonl.h"
#include "eval/shapes.h"

#define CMD "shapes"

typedef struct {
    lms_shape_point *p;
    int n, cap;
} pts;

typedef struct {
    char *name;
    pts disc, cont;
    int rows;        /* rows with an x */
    int domain;      /* rows of kind "domain" seen */
    int exact;       /* continuous points without an error bar (domain rows without loss_se) */
} suite;

typedef struct {
    suite *s;
    int n, cap;
    json_t *index; /* name -> position in s */
    int skipped;   /* rows without x */
} table;

static int pts_push(pts *a, double x, double y, double se) {
    if (a->n == a->cap) {
        int nc = a->cap ? 2 * a->cap : 16;
        lms_shape_point *np = realloc(a->p, (size_t)nc * sizeof *np);
        if (!np) return -1;
        a->p = np;
        a->cap = nc;
    }
    a->p[a->n++] = (lms_shape_point){x, y, se};
    return 0;
}

static suite *table_get(table *t, const char *name) {
    json_t *ix = json_object_get(t->index, name);
    if (ix) return &t->s[json_integer_value(ix)];
    if (t->n == t->cap) {
        int nc = t->cap ? 2 * t->cap : 16;
        suite *ns = realloc(t->s, (size_t)nc * sizeof *ns);
        if (!ns) return NULL;
        t->s = ns;
        t->cap = nc;
    }
    suite *s = &t->s[t->n];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    if (!s->name || json_object_set_new(t->index, name, json_integer(t->n))) return NULL;
    t->n++;
    return s;
}

/* A number field: 0 absent or null, 1 a finite number in *v, -1 anything else. */
static int num_field(json_t *row, const char *key, double *v) {
    json_t *f = json_object_get(row, key);
    if (!f || json_is_null(f)) return 0;
    if (!json_is_number(f)) return -1;
    *v = json_number_value(f);
    return isfinite(*v) ? 1 : -1;
}

/* A value and its standard error: 0 the value is absent, 1 both read, -1 a message in why. */
static int metric(json_t *row, const char *key, const char *se_key, int se_required, double *y, double *se,
                  char *why, size_t cap) {
    int r = num_field(row, key, y);
    if (r < 0) {
        snprintf(why, cap, "\"%s\" is not a number", key);
        return -1;
    }
    if (r == 0) return 0;
    r = num_field(row, se_key, se);
    if (r < 0 || (r == 1 && *se < 0)) {
        snprintf(why, cap, "\"%s\" must be a number >= 0", se_key);
        return -1;
    }
    if (r == 0) {
        if (se_required) {
            snprintf(why, cap, "\"%s\" without \"%s\" (every figure needs its standard error)", key, se_key);
            return -1;
        }
        *se = -1; /* none: the caller decides */
    }
    return 1;
}

/* One row into the table; 0 ok, -1 malformed (why), -2 out of memory. */
static int add_row(table *t, json_t *row, const char *xkey, const char *ckey, char *why, size_t cap) {
    if (!json_is_object(row)) {
        snprintf(why, cap, "not a JSON object");
        return -1;
    }
    json_t *js = json_object_get(row, "suite"), *jk = json_object_get(row, "kind");
    if (!json_is_string(js) || !json_string_value(js)[0]) {
        snprintf(why, cap, "no \"suite\" string");
        return -1;
    }
    if (jk && !json_is_null(jk) && !json_is_string(jk)) {
        snprintf(why, cap, "\"kind\" is not a string");
        return -1;
    }
    int domain = json_is_string(jk) && !strcmp(json_string_value(jk), "domain");
    double x, y, se;
    int r = num_field(row, xkey, &x);
    if (r < 0 || (r == 1 && x < 0)) {
        snprintf(why, cap, "\"%s\" must be a number >= 0", xkey);
        return -1;
    }
    if (r == 0) {
        t->skipped++;
        return 0;
    }
    suite *s = table_get(t, json_string_value(js));
    if (!s) return -2;
    s->rows++;
    if (domain) {
        s->domain = 1;
        r = metric(row, "loss", "loss_se", 0, &y, &se, why, cap);
        if (r < 0) return -1;
        if (r == 1) {
            if (se < 0) {
                se = 0;
                s->exact = 1;
            }
            if (pts_push(&s->cont, x, -y, se)) return -2;
        }
        return 0;
    }
    r = metric(row, "acc", "acc_se", 1, &y, &se, why, cap);
    if (r < 0) return -1;
    if (r == 1 && pts_push(&s->disc, x, y, se)) return -2;
    char se_key[32];
    snprintf(se_key, sizeof se_key, "%s_se", ckey);
    r = metric(row, ckey, se_key, 1, &y, &se, why, cap);
    if (r < 0) return -1;
    if (r == 1 && pts_push(&s->cont, x, y, se)) return -2;
    return 0;
}

/* Read one JSON Lines file (or stdin for "-") into the table; 0 ok, else the exit status. */
typedef struct {
    table *t;
    const char *xkey, *ckey;
} reader;

static lms_status result_row(json_t *row, long line, void *user, lms_err *err) {
    reader *rd = user;
    char why[256];
    int r = add_row(rd->t, row, rd->xkey, rd->ckey, why, sizeof why);
    if (r == -2) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    if (r < 0) return lms_errf(err, LMS_ERR_FORMAT, "%s (see docs/formats.md, \"Evaluation results\")", why);
    return LMS_OK;
}

static int read_file(table *t, const char *path, const char *xkey, const char *ckey) {
    reader rd = {t, xkey, ckey};
    lms_err err = {0};
    if (lms_jsonl_read(path, result_row, &rd, &err)) {
        lms_cli_error(CMD, "%s", err.msg);
        return 1;
    }
    return 0;
}

typedef struct {
    int have;              /* any points at all */
    int ok;                /* classified (else err) */
    lms_shape_result r;
    char err[sizeof(((lms_err *)0)->msg)];
} labelled;

static void label(const pts *a, const lms_shape_opts *o, labelled *out) {
    memset(out, 0, sizeof *out);
    out->have = a->n > 0;
    if (!out->have) return;
    lms_err err = {0};
    out->ok = lms_shape_classify(a->p, a->n, o, &out->r, &err) == LMS_OK;
    if (!out->ok) snprintf(out->err, sizeof out->err, "%s", err.msg);
}

static const char *label_text(const labelled *l) {
    if (!l->have) return "-";
    if (!l->ok) return "error";
    if (l->r.label == LMS_SHAPE_U_SHAPED && l->r.inverted) return "inverted-u";
    return lms_shape_name(l->r.label);
}

static json_t *metric_json(const labelled *l, const char *name, int exact) {
    if (!l->have) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "metric", json_string(name));
    json_object_set_new(o, "points", json_integer(l->r.n));
    if (!l->ok) {
        json_object_set_new(o, "label", json_string("error"));
        json_object_set_new(o, "error", json_string(l->err));
        return o;
    }
    const lms_shape_result *r = &l->r;
    json_object_set_new(o, "label", json_string(lms_shape_name(r->label)));
    if (r->label == LMS_SHAPE_U_SHAPED) json_object_set_new(o, "shape", json_string(r->inverted ? "inverted-u" : "u"));
    json_object_set_new(o, "z_crit", lms_json_num(r->z_crit));
    json_object_set_new(o, "max_z", lms_json_num(r->max_z));
    json_object_set_new(o, "net_delta", lms_json_num(r->net_delta));
    json_object_set_new(o, "net_z", lms_json_num(r->net_z));
    json_object_set_new(o, "sign_changes", json_integer(r->sign_changes));
    json_t *mv = json_array();
    for (int i = 0; i < r->n_moves && i < LMS_SHAPE_MAX_MOVES; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "x_from", lms_json_num(r->moves[i].x_from));
        json_object_set_new(m, "x_to", lms_json_num(r->moves[i].x_to));
        json_object_set_new(m, "delta", lms_json_num(r->moves[i].delta));
        json_object_set_new(m, "z", lms_json_num(r->moves[i].z));
        json_array_append_new(mv, m);
    }
    json_object_set_new(o, "n_moves", json_integer(r->n_moves));
    json_object_set_new(o, "moves", mv);
    json_object_set_new(o, "rise", lms_json_num(r->rise));
    json_object_set_new(o, "f80", lms_json_num(r->f80));
    json_object_set_new(o, "lead", lms_json_num(r->lead));
    json_object_set_new(o, "turn", lms_json_num(r->turn));
    json_object_set_new(o, "detail", json_string(r->detail));
    if (exact) json_object_set_new(o, "no_se", json_true());
    return o;
}

static int cmp_suite(const void *a, const void *b) { return strcmp(((const suite *)a)->name, ((const suite *)b)->name); }

/* v in fmt; "-" when there is no number, "inf" for exact points that differ */
static void fmt_num(char *buf, size_t cap, const labelled *l, double v, const char *fmt) {
    if (!l->have || !l->ok || isnan(v)) snprintf(buf, cap, "-");
    else if (isinf(v)) snprintf(buf, cap, "%sinf", v < 0 ? "-" : "");
    else snprintf(buf, cap, fmt, v);
}

int lms_cmd_shapes(int argc, char **argv) {
    const char *xname = "flops", *cname = "logp";
    int as_json = 0;
    double alpha = 0.05;
    lms_flag flags[] = {
        {"x", LMS_FLAG_STR, &xname, "compute axis: flops | tokens | params | step", 0},
        {"continuous", LMS_FLAG_STR, &cname, "continuous metric: logp (mean log-prob of the right answer) | prob", 0},
        {"json", LMS_FLAG_BOOL, &as_json, "one JSON object per suite instead of the table", 0},
        {"alpha", LMS_FLAG_DOUBLE, &alpha, "family-wise false-alarm rate for a significant change (docs/shapes.md)", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Label each suite's curve (flat, smooth, emergent, inverse, U-shaped, noisy) from "
                            "'eval' results (JSON Lines files; - for stdin).", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos == 0) {
        lms_cli_error(CMD, "give one or more results files (JSON Lines from 'lmscope eval'), e.g. lmscope shapes results.jsonl");
        return 2;
    }
    if (strcmp(xname, "flops") && strcmp(xname, "tokens") && strcmp(xname, "params") && strcmp(xname, "step")) {
        lms_cli_error(CMD, "--x %s: expected flops, tokens, params or step", xname);
        return 2;
    }
    if (strcmp(cname, "logp") && strcmp(cname, "prob")) {
        lms_cli_error(CMD, "--continuous %s: expected logp or prob", cname);
        return 2;
    }
    if (!(alpha > 0 && alpha < 1)) {
        lms_cli_error(CMD, "--alpha %g: must lie strictly between 0 and 1", alpha);
        return 2;
    }
    lms_shape_opts opts;
    lms_shape_opts_default(&opts);
    opts.alpha = alpha;

    table t = {0};
    t.index = json_object();
    int code = t.index ? 0 : 1;
    for (int i = 0; i < npos && !code; i++) code = read_file(&t, pos[i], xname, cname);
    if (code) goto done;
    if (t.skipped)
        fprintf(stderr, "lmscope %s: %d row%s without \"%s\" skipped (try --x step or --x params)\n", CMD, t.skipped,
                t.skipped == 1 ? "" : "s", xname);
    if (t.n == 0) {
        lms_cli_error(CMD, "no rows with \"%s\" in the given files; nothing to label", xname);
        code = 1;
        goto done;
    }
    qsort(t.s, (size_t)t.n, sizeof *t.s, cmp_suite);
    labelled *ld = calloc((size_t)t.n * 2, sizeof *ld);
    if (!ld) {
        lms_cli_error(CMD, "out of memory");
        code = 1;
        goto done;
    }
    for (int i = 0; i < t.n; i++) {
        label(&t.s[i].disc, &opts, &ld[2 * i]);
        label(&t.s[i].cont, &opts, &ld[2 * i + 1]);
    }
    if (as_json) {
        for (int i = 0; i < t.n && !code; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "suite", json_string(t.s[i].name));
            json_object_set_new(o, "x", json_string(xname));
            json_object_set_new(o, "rows", json_integer(t.s[i].rows));
            json_object_set_new(o, "discrete", metric_json(&ld[2 * i], "acc", 0));
            json_object_set_new(o, "continuous", metric_json(&ld[2 * i + 1], t.s[i].domain ? "-loss" : cname, t.s[i].exact));
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
            json_decref(o);
            if (!s) {
                lms_cli_error(CMD, "out of memory");
                code = 1;
                break;
            }
            puts(s);
            free(s);
        }
    } else {
        int w = 5;
        for (int i = 0; i < t.n; i++) w = (int)strlen(t.s[i].name) > w ? (int)strlen(t.s[i].name) : w;
        if (w > 40) w = 40;
        printf("x = %s; discrete = acc, continuous = %s (domain rows: -loss); significant = beyond z_crit combined SE\n\n",
               xname, cname);
        printf("%-*s %5s  %-10s %-10s  %9s %6s %5s %3s  %9s %6s %5s %3s\n", w, "suite", "rows", "discrete", "continuous",
               "acc chg", "max z", "f80", "rev", "cont chg", "max z", "f80", "rev");
        for (int i = 0; i < t.n; i++) {
            labelled *d = &ld[2 * i], *c = &ld[2 * i + 1];
            char b[8][32];
            fmt_num(b[0], 32, d, d->r.net_delta, "%+.3g");
            fmt_num(b[1], 32, d, d->r.max_z, "%.1f");
            fmt_num(b[2], 32, d, d->r.f80, "%.2f");
            fmt_num(b[3], 32, d, d->r.sign_changes, "%.0f");
            fmt_num(b[4], 32, c, c->r.net_delta, "%+.3g");
            fmt_num(b[5], 32, c, c->r.max_z, "%.1f");
            fmt_num(b[6], 32, c, c->r.f80, "%.2f");
            fmt_num(b[7], 32, c, c->r.sign_changes, "%.0f");
            printf("%-*.*s %5d  %-10s %-10s  %9s %6s %5s %3s  %9s %6s %5s %3s\n", w, w, t.s[i].name, t.s[i].rows,
                   label_text(d), label_text(c), b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
        }
        printf("\nwhy:\n");
        for (int i = 0; i < t.n; i++) {
            for (int k = 0; k < 2; k++) {
                labelled *l = &ld[2 * i + k];
                if (!l->have) continue;
                const char *mname = k == 0 ? "acc" : t.s[i].domain ? "-loss" : cname;
                printf("  %s %s: %s%s\n", t.s[i].name, mname, l->ok ? l->r.detail : l->err,
                       k == 1 && t.s[i].exact ? " (no loss_se: every change counts)" : "");
            }
        }
    }
    if (fflush(stdout) != 0) code = 1;
    free(ld);
done:
    for (int i = 0; i < t.n; i++) {
        free(t.s[i].name);
        free(t.s[i].disc.p);
        free(t.s[i].cont.p);
    }
    free(t.s);
    json_decref(t.index);
    return code;
}
