/* shape_table.c — eval results grouped by suite and labelled (see shape_table.h).
 *
 * Leaves out: the labelling rules (shapes.c).
 */
#include "eval/shape_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonl.h"

static int pts_push(lms_shape_series *a, double x, double y, double se) {
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

static lms_shape_suite *table_get(lms_shape_table *t, const char *name) {
    json_t *ix = json_object_get(t->index, name);
    if (ix) return &t->s[json_integer_value(ix)];
    if (t->n == t->cap) {
        int nc = t->cap ? 2 * t->cap : 16;
        lms_shape_suite *ns = realloc(t->s, (size_t)nc * sizeof *ns);
        if (!ns) return NULL;
        t->s = ns;
        t->cap = nc;
    }
    lms_shape_suite *s = &t->s[t->n];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    if (!s->name || json_object_set_new(t->index, name, json_integer(t->n))) {
        free(s->name); /* the slot is not counted, so nothing else would free it */
        s->name = NULL;
        return NULL;
    }
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
static int add_row(lms_shape_table *t, json_t *row, const char *xkey, const char *ckey, char *why, size_t cap) {
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
    lms_shape_suite *s = table_get(t, json_string_value(js));
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

typedef struct {
    lms_shape_table *t;
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

lms_status lms_shape_table_read(lms_shape_table *t, const char *const *files, int n, const char *x, const char *cont,
                                lms_err *err) {
    memset(t, 0, sizeof *t);
    snprintf(t->x, sizeof t->x, "%s", x);
    snprintf(t->cont, sizeof t->cont, "%s", cont);
    if (!(t->index = json_object())) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    reader rd = {t, x, cont};
    lms_status st = LMS_OK;
    for (int i = 0; i < n && !st; i++) st = lms_jsonl_read(files[i], result_row, &rd, err);
    return st;
}

void lms_shape_table_free(lms_shape_table *t) {
    for (int i = 0; i < t->n; i++) {
        free(t->s[i].name);
        free(t->s[i].disc.p);
        free(t->s[i].cont.p);
    }
    free(t->s);
    json_decref(t->index);
    memset(t, 0, sizeof *t);
}

static void label(const lms_shape_series *a, const lms_shape_opts *o, lms_shape_labelled *out) {
    memset(out, 0, sizeof *out);
    out->have = a->n > 0;
    if (!out->have) return;
    lms_err err = {0};
    out->ok = lms_shape_classify(a->p, a->n, o, &out->r, &err) == LMS_OK;
    if (!out->ok) snprintf(out->err, sizeof out->err, "%s", err.msg);
}

const char *lms_shape_label_text(const lms_shape_labelled *l) {
    if (!l->have) return "-";
    if (!l->ok) return "error";
    if (l->r.label == LMS_SHAPE_U_SHAPED && l->r.inverted) return "inverted-u";
    return lms_shape_name(l->r.label);
}

static json_t *metric_json(const lms_shape_labelled *l, const char *name, int exact) {
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

static int cmp_suite(const void *a, const void *b) {
    return strcmp(((const lms_shape_suite *)a)->name, ((const lms_shape_suite *)b)->name);
}

void lms_shape_table_label(lms_shape_table *t, const lms_shape_opts *opts) {
    if (t->n) qsort(t->s, (size_t)t->n, sizeof *t->s, cmp_suite);
    for (int i = 0; i < t->n; i++) {
        label(&t->s[i].disc, opts, &t->s[i].ldisc);
        label(&t->s[i].cont, opts, &t->s[i].lcont);
    }
}

json_t *lms_shape_suite_json(const lms_shape_table *t, int i) {
    const lms_shape_suite *s = &t->s[i];
    json_t *o = json_object();
    json_object_set_new(o, "suite", json_string(s->name));
    json_object_set_new(o, "x", json_string(t->x));
    json_object_set_new(o, "rows", json_integer(s->rows));
    json_object_set_new(o, "discrete", metric_json(&s->ldisc, "acc", 0));
    json_object_set_new(o, "continuous", metric_json(&s->lcont, s->domain ? "-loss" : t->cont, s->exact));
    return o;
}
