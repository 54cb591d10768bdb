/* fit_json.c — a fit report (lms_fit_runs) as JSON, in the two layouts that read it (fit.h,
 * lms_fit_report_json): 'lmscope fit --json' (docs/scaling.md) and the report page's data.fit. Both
 * are built here, field by field, with each field's name in the two layouts side by side, so that a
 * number added to or renamed in one layout is seen next to the other.
 *
 * Leaves out: the fitting (fit.c, fit_report.c), what the report adds around it (curves, claims:
 * report/report_analysis.c).
 */
#include <string.h>

#include "core/jsonl.h"
#include "scaling/fit.h"

/* The key of a field in the layout: cli's or report's; NULL: the field is not in that layout. */
#define KEY(cli, report) (R ? (report) : (cli))

static void set(json_t *o, const char *key, json_t *v) {
    if (key) json_object_set_new(o, key, v);
    else json_decref(v);
}

static json_t *ci(lms_fit_ci c) {
    json_t *o = json_object();
    json_object_set_new(o, "est", lms_json_num(c.est));
    json_object_set_new(o, "lo", lms_json_num(c.lo));
    json_object_set_new(o, "hi", lms_json_num(c.hi));
    return o;
}

static json_t *lc_json(const lms_fit_lc *f, int R) {
    json_t *l = json_object();
    set(l, KEY("points", "n"), json_integer(f->n));
    set(l, "E", ci(f->E));
    set(l, "A", ci(f->A));
    set(l, "alpha", ci(f->alpha));
    set(l, "r2_log", lms_json_num(f->r2_log));
    set(l, "rmse_log", lms_json_num(f->rmse_log));
    set(l, "converged", json_boolean(f->converged));
    set(l, KEY("boot_ok", NULL), json_integer(f->n_boot));
    set(l, KEY("boot_failed", NULL), json_integer(f->n_boot_failed));
    return l;
}

static json_t *nd_json(const lms_fit_nd *f, const lms_fit_opts *o, int R) {
    json_t *l = json_object();
    set(l, KEY("points", "n"), json_integer(f->n));
    set(l, "E", ci(f->E));
    set(l, "A", ci(f->A));
    set(l, "alpha", ci(f->alpha));
    set(l, "B", ci(f->B));
    set(l, "beta", ci(f->beta));
    set(l, "r2_log", lms_json_num(f->r2_log));
    set(l, KEY("rmse_log", NULL), lms_json_num(f->rmse_log));
    set(l, KEY("huber_delta", NULL), lms_json_num(o->huber_delta));
    set(l, KEY("objective", NULL), lms_json_num(f->objective));
    set(l, KEY("starts", NULL), json_integer(f->n_starts));
    set(l, KEY("converged", NULL), json_boolean(f->converged));
    set(l, KEY("boot_ok", NULL), json_integer(f->n_boot));
    set(l, KEY("boot_failed", NULL), json_integer(f->n_boot_failed));
    return l;
}

/* The optimum at the largest compute and 10x it: fit --json lists those found, the report both. */
static json_t *opt_json(const lms_fit_report *r, int R) {
    json_t *a = json_array();
    for (int i = 0; i < 2; i++) {
        if (!R && !(r->opt[i].C > 0)) continue;
        json_t *p = json_object();
        set(p, "C", lms_json_num(r->opt[i].C));
        set(p, "N", ci(r->opt[i].N));
        set(p, "D", ci(r->opt[i].D));
        set(p, KEY("loss", "L"), ci(r->opt[i].L));
        set(p, "beyond_grid", json_boolean(r->opt[i].beyond_grid));
        json_array_append_new(a, p);
    }
    return a;
}

/* An isoFLOP check; the report adds each parabola (q0 + q1·x + q2·x², x = ln N - x_mid, over
   [N_lo, N_hi]) and the points the interpolated parabolas went through (pts[n_pts], level[]). */
static json_t *iso_json(const lms_fit_isoflop *f, const lms_fit_run *pts, const int *level, int n_pts, int R) {
    json_t *iso = json_object(), *gs = json_array();
    for (int i = 0; i < f->n_groups; i++) {
        const lms_fit_isoflop_group *g = &f->groups[i];
        json_t *p = json_object();
        set(p, "C", lms_json_num(g->C));
        set(p, KEY("sizes", "n_sizes"), json_integer(g->n_sizes));
        set(p, "bracketed", json_boolean(g->bracketed));
        set(p, "N_opt", lms_json_num(g->N_opt));
        set(p, KEY("loss_opt", "L_opt"), lms_json_num(g->L_opt));
        set(p, KEY(NULL, "q0"), lms_json_num(g->q0));
        set(p, KEY(NULL, "q1"), lms_json_num(g->q1));
        set(p, KEY(NULL, "q2"), lms_json_num(g->q2));
        set(p, KEY(NULL, "x_mid"), lms_json_num(g->x_mid));
        set(p, KEY(NULL, "N_lo"), lms_json_num(g->N_lo));
        set(p, KEY(NULL, "N_hi"), lms_json_num(g->N_hi));
        json_array_append_new(gs, p);
    }
    json_object_set_new(iso, "groups", gs);
    if (R) {
        json_t *ps = json_array();
        for (int i = 0; i < n_pts; i++)
            json_array_append_new(ps, json_pack("{s:o,s:o,s:o,s:o,s:i}", "N", lms_json_num(pts[i].N), "D", lms_json_num(pts[i].D),
                                                "C", lms_json_num(pts[i].C), "L", lms_json_num(pts[i].L), "level", level[i]));
        json_object_set_new(iso, "points", ps);
    }
    set(iso, KEY("minima", "n_minima"), json_integer(f->n_minima));
    set(iso, KEY("exponent", "a"), lms_json_num(f->a));
    set(iso, KEY("exponent_se", "a_se"), lms_json_num(f->a_se));
    set(iso, KEY("G", NULL), lms_json_num(f->G));
    return iso;
}

/* The held-out test: fit --json always names the run and says why only when it failed; the report
   always says why ("" when it worked) and gives the numbers only when it worked. */
static json_t *held_json(const lms_fit_holdout *h, const char *name, int R) {
    json_t *o = json_object();
    set(o, "ok", json_boolean(h->ok));
    if (R) set(o, "why", json_string(h->ok ? "" : h->why));
    if (R && !h->ok) return o;
    set(o, KEY("name", "run"), json_string(name));
    set(o, "C", lms_json_num(h->C));
    set(o, "N", lms_json_num(h->N));
    set(o, "D", lms_json_num(h->D));
    set(o, KEY("loss", "L"), lms_json_num(h->L));
    set(o, KEY("pred_lc", "L_pred_lc"), lms_json_num(h->L_pred_lc));
    set(o, "rel_err_lc", lms_json_num(h->rel_err_lc));
    set(o, KEY("pred_nd", "L_pred_nd"), lms_json_num(h->L_pred_nd));
    set(o, "rel_err_nd", lms_json_num(h->rel_err_nd));
    if (!h->ok) set(o, "why", json_string(h->why));
    return o;
}

static json_t *warnings_json(const char *w) {
    json_t *a = json_array();
    for (const char *p = w; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, len));
        p += len + (e ? 1 : 0);
    }
    return a;
}

json_t *lms_fit_report_json(const lms_fit_report *r, const char *const *names, const lms_fit_opts *o,
                            lms_fit_json_layout layout) {
    const int R = layout == LMS_FIT_JSON_REPORT;
    json_t *j = json_object(), *fr = json_array();
    if (R) set(j, "ok", json_true());
    set(j, KEY("runs", "n_runs"), json_integer(r->n_runs));
    set(j, "k", lms_json_num(r->k));
    if (R) {
        set(j, "warnings", json_string(r->warnings));
        set(j, "lc_ok", json_boolean(r->lc_ok));
        set(j, "nd_ok", json_boolean(r->nd_ok));
    } else {
        set(j, "bootstrap", json_integer(o->n_boot));
        set(j, "seed", json_integer((json_int_t)o->seed));
        set(j, "level", lms_json_num(o->level));
    }
    for (int i = 0; i < r->n_frontier; i++) json_array_append_new(fr, json_string(names[r->frontier[i]]));
    set(j, "frontier", fr);
    if (r->lc_ok || !R) set(j, "lc", r->lc_ok ? lc_json(&r->lc, R) : json_null());
    if (r->nd_ok || !R) set(j, "nd", r->nd_ok ? nd_json(&r->nd, o, R) : json_null());
    if (r->nd_ok || !R) set(j, KEY("optimum", "opt"), opt_json(r, R));
    set(j, KEY("isoflop", "iso"), iso_json(&r->iso, NULL, NULL, 0, R));
    set(j, KEY("isoflop_interpolated", "iso_interp"), iso_json(&r->iso_interp, r->iso_pts, r->iso_pts_group, r->n_iso_pts, R));
    set(j, KEY("holdout", "held"), held_json(&r->held, names[r->held.index], R));
    if (!R) set(j, "warnings", warnings_json(r->warnings));
    return j;
}
