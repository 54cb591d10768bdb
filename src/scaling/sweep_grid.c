/* sweep_grid.c — a sweep's grid: defaults, presets, the JSON grid file (its own keys here, the run
 * config's keys from the config-field table, train.h), and the plan (the runs in training order
 * with their sizes, tokens and FLOPs, the data's vocabulary, the memory check, each run's config).
 *
 * Leaves out: training and evaluating the runs (sweep.c, sweep_eval.c).
 */
#include "scaling/sweep.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fileio.h"
#include "core/mem.h"
#include "core/rng.h"
#include "core/sysmem.h"
#include "core/timer.h"
#include "data/loader.h"
#include "eval/suite.h"
#include "kernels/kernels.h"
#include "train/train.h"

void lms_sweep_grid_defaults(lms_sweep_grid *g) {
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "custom");
    lms_train_config_cli_defaults(&g->run); /* ctx 128, batch 16, accum 1, cooldown 0.2, seed 1, threads 0, ... */
    g->lr_c = 0.4f;
    g->lr_max = 0.01f;
    g->lr_sweep_budget = -1;
    g->samples = 2;
    g->sample_tokens = 32;
}

lms_status lms_sweep_grid_set_data(lms_sweep_grid *g, const char *data, const char *tokenizer, lms_err *err) {
    if (data) {
        g->run.n_data = 0;
        if (data[0]) {
            lms_status st = lms_train_config_add_data(&g->run, data, err);
            if (st) return st;
        }
    }
    if (tokenizer && strlen(tokenizer) >= sizeof g->run.tokenizer)
        return lms_errf(err, LMS_ERR_ARG, "--tokenizer path too long: %.80s...", tokenizer);
    if (tokenizer) snprintf(g->run.tokenizer, sizeof g->run.tokenizer, "%s", tokenizer);
    return LMS_OK;
}

/* The grid's data dir ("" when none). */
static const char *grid_data(const lms_sweep_grid *g) { return g->run.n_data ? g->run.data[0] : ""; }

static void add_shape(lms_sweep_grid *g, int l, int h, int d) {
    g->shape[g->n_shapes++] = (lms_sweep_shape){.n_layer = l, .n_head = h, .n_embd = d};
}

lms_status lms_sweep_grid_preset(lms_sweep_grid *g, const char *name, lms_err *err) {
    lms_sweep_grid_defaults(g);
    if (!strcmp(name, "tiny")) { /* the tests: 4 runs of a few steps */
        add_shape(g, 1, 1, 16);
        add_shape(g, 1, 2, 32);
        g->run.model.n_ctx = 16;
        g->run.batch = 4;
        g->n_budgets = 2;
        g->budget[0] = 640; /* 10 steps of 4 x 16 tokens */
        g->budget[1] = 1280;
        g->samples = 1;
        g->sample_tokens = 8;
    } else if (!strcmp(name, "quick") || !strcmp(name, "demo")) {
        /* The laboratory on the embedded corpus (~1.5M training tokens at a 4096-token BPE). The
           same absolute token budgets for every shape, doubling, so that the compute frontier runs
           from the smallest shape at the smallest budget to the largest at the largest; WSD, so
           that one long run per shape gives every budget. demo: 8 shapes, L2-C16 .. L4-C128
           (6k..793k non-embedding parameters, 130x; C24 and C80 fill the gaps where the frontier's
           envelope of learning curves stepped: docs/experiments.md), 0.25M..4M tokens (the largest
           ~2.7 passes over the data), the LR sweep x0.5 and x2 at the two smallest shapes at 1M
           tokens, <= 30 min on 2 cores. quick: 5 shapes up to L3-C96 (54x), 0.25M..2M tokens, no LR sweep, <= 10
           min. Designed and measured in docs/scaling.md "Sweeps" and docs/experiments.md. */
        int demo = !strcmp(name, "demo");
        add_shape(g, 2, 2, 16);
        if (demo) add_shape(g, 2, 2, 24);
        add_shape(g, 2, 2, 32);
        add_shape(g, 2, 2, 48);
        add_shape(g, 3, 4, 64);
        if (demo) add_shape(g, 3, 4, 80);
        add_shape(g, 3, 4, 96);
        if (demo) add_shape(g, 4, 4, 128);
        g->run.model.n_ctx = 128;
        g->run.batch = 16;
        g->wsd = 1;
        g->n_budgets = demo ? 5 : 4;
        for (int b = 0; b < g->n_budgets; b++) g->budget[b] = 0.25e6 * (double)(1 << b);
        if (demo) {
            g->lr_sweep_sizes = 2;
            g->n_lr_factors = 2;
            g->lr_factor[0] = 0.5f;
            g->lr_factor[1] = 2.0f;
            g->lr_sweep_budget = 2;
        }
    } else if (!strcmp(name, "emergence")) {
        /* The controlled-task laboratory (docs/experiments.md "Emergence"): the embedded corpus with the
           tasks of 'lmscope data synth' mixed in (copying 50% of the rows, addition 20%, chants 5%, the
           natural domains 25% in their own proportions), a one-layer control of width 64 beside
           two- and three-layer shapes, WSD budgets 1.5M..24M tokens, bf16 where the CPU has
           AVX512-BF16. Measured before choosing (docs/experiments.md "Pilot runs"): L2-C64 with copying
           at 57% of the rows copies random strings at 22% per token after 4M tokens, 92% after 8M,
           97.5% after 17M (whole-string exact match 0%, 37%, 74%); at 32% of the rows 7%, 73%, 95%. The
           budgets span the jump; this mix lies between the two. (A version cut to 0.75M..12M for time
           was measured too, docs/experiments.md: 12 min; the dry run's estimate had overstated this
           one's time ~1.9x.) */
        add_shape(g, 1, 4, 64);
        g->shape[0].control = 1;
        add_shape(g, 2, 4, 32);
        add_shape(g, 2, 4, 64);
        add_shape(g, 3, 4, 96);
        g->run.model.n_ctx = 128;
        g->run.batch = 16;
        g->wsd = 1;
        g->n_budgets = 5;
        for (int b = 0; b < g->n_budgets; b++) g->budget[b] = 1.5e6 * (double)(1 << b);
        snprintf(g->run.mix, sizeof g->run.mix, "synth_addition=2,synth_copy=5,synth_chants=0.5,*=2.5");
        g->run.precision = lms_ops_bf16() ? LMS_PRECISION_BF16 : LMS_PRECISION_FP32;
    } else return lms_errf(err, LMS_ERR_ARG, "unknown preset '%s'; the presets are demo, quick, emergence and tiny", name);
    snprintf(g->name, sizeof g->name, "%s", name);
    return LMS_OK;
}

/* ---- the JSON grid ---- */

static lms_status need_int(json_t *v, const char *field, int lo, int hi, int *out, lms_err *err) {
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be an integer in [%d, %d]", field, lo, hi);
    *out = (int)json_integer_value(v);
    return LMS_OK;
}

static lms_status need_num(json_t *v, const char *field, double lo, double hi, double *out, lms_err *err) {
    if (!json_is_number(v) || !(json_number_value(v) > lo) || !(json_number_value(v) < hi))
        return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be a number in (%g, %g)", field, lo, hi);
    *out = json_number_value(v);
    return LMS_OK;
}

static lms_status need_str(json_t *v, const char *field, char *out, size_t cap, lms_err *err) {
    if (!json_is_string(v) || strlen(json_string_value(v)) >= cap)
        return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be a string (shorter than %zu)", field, cap);
    snprintf(out, cap, "%s", json_string_value(v));
    return LMS_OK;
}

static lms_status parse_shapes(lms_sweep_grid *g, json_t *a, lms_err *err) {
    if (!json_is_array(a) || json_array_size(a) == 0)
        return lms_errf(err, LMS_ERR_ARG, "grid: \"shapes\" must be a non-empty list of {\"layers\", \"heads\", \"dim\"}");
    if (json_array_size(a) > LMS_SWEEP_MAX_SHAPES)
        return lms_errf(err, LMS_ERR_ARG, "grid: \"shapes\" holds %zu shapes; at most %d", json_array_size(a),
                        LMS_SWEEP_MAX_SHAPES);
    size_t i;
    json_t *s;
    json_array_foreach(a, i, s) {
        char f[64];
        lms_sweep_shape *sh = &g->shape[i];
        memset(sh, 0, sizeof *sh);
        if (!json_is_object(s))
            return lms_errf(err, LMS_ERR_ARG, "grid: shapes[%zu] must be an object {\"layers\", \"heads\", \"dim\"}", i);
        const char *k;
        json_t *v;
        lms_status st;
        json_object_foreach(s, k, v) {
            double x;
            snprintf(f, sizeof f, "shapes[%zu].%s", i, k);
            if (!strcmp(k, "layers")) st = need_int(v, f, 1, 1024, &sh->n_layer, err);
            else if (!strcmp(k, "heads")) st = need_int(v, f, 1, 1024, &sh->n_head, err);
            else if (!strcmp(k, "dim")) st = need_int(v, f, 1, 65536, &sh->n_embd, err);
            else if (!strcmp(k, "lr")) st = need_num(v, f, 0, INFINITY, &x, err), sh->lr = (float)x;
            else if (!strcmp(k, "control")) {
                if (!json_is_boolean(v)) st = lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be true or false", f);
                sh->control = json_is_true(v);
            } else st = lms_errf(err, LMS_ERR_ARG, "grid: unknown field \"%s\" (a shape has layers, heads, dim, lr, control)", f);
            if (st) return st;
        }
        if (!sh->n_layer || !sh->n_head || !sh->n_embd)
            return lms_errf(err, LMS_ERR_ARG, "grid: shapes[%zu] needs \"layers\", \"heads\" and \"dim\"", i);
        if (sh->n_embd % sh->n_head)
            return lms_errf(err, LMS_ERR_ARG, "grid: shapes[%zu]: heads %d does not divide dim %d", i, sh->n_head, sh->n_embd);
        g->n_shapes = (int)i + 1;
    }
    return LMS_OK;
}

static lms_status parse_list(json_t *a, const char *field, double *out, int max, int *n, lms_err *err) {
    if (!json_is_array(a) || json_array_size(a) == 0)
        return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be a non-empty list of numbers > 0", field);
    if ((int)json_array_size(a) > max)
        return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" holds %zu values; at most %d", field, json_array_size(a), max);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        char f[64];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        lms_status st = need_num(v, f, 0, 1e18, &out[i], err);
        if (st) return st;
        if (i > 0 && out[i] <= out[i - 1])
            return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must increase (%s is %g after %g)", field, f, out[i], out[i - 1]);
    }
    *n = (int)json_array_size(a);
    return LMS_OK;
}

/* A grid key of the config-field table into c, by the row's type (train.h: lo, hi). */
/* An enum row's choices ("a, b or c") with each name quoted, as a grid writes them: "\"a\", \"b\" or \"c\"". */
static const char *quoted_choices(const char *choices, char *out, size_t cap) {
    size_t n = 0;
    out[0] = 0;
    for (const char *w = choices; *w && n < cap;) {
        size_t len = strcspn(w, " ,");
        int name = len && strncmp(w, "or", len);
        n += (size_t)snprintf(out + n, cap - n, name ? "\"%.*s\"" : "%.*s", (int)len, w);
        w += len;
        size_t sep = strspn(w, " ,");
        if (n < cap) n += (size_t)snprintf(out + n, cap - n, "%.*s", (int)sep, w);
        w += sep;
    }
    return out;
}

static lms_status parse_field(lms_train_config *c, const lms_train_field *f, json_t *v, lms_err *err) {
    const char *k = f->grid;
    void *at = lms_train_field_ptr(c, f);
    lms_status st = LMS_OK;
    int i = 0;
    double x = 0;
    switch (f->type) {
    case LMS_TF_INT: case LMS_TF_I64: case LMS_TF_SEED:
        if (!json_is_integer(v) || json_integer_value(v) < f->lo || json_integer_value(v) > f->hi)
            return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be an integer in [%.0f, %.0f]", k, f->lo, f->hi);
        if (f->type == LMS_TF_INT) *(int *)at = (int)json_integer_value(v);
        else if (f->type == LMS_TF_I64) *(int64_t *)at = json_integer_value(v);
        else *(uint64_t *)at = (uint64_t)json_integer_value(v);
        return LMS_OK;
    case LMS_TF_FLOAT:
        if (!(st = need_num(v, k, f->lo, f->hi, &x, err))) *(float *)at = (float)x;
        return st;
    case LMS_TF_STR: return need_str(v, k, at, f->cap, err);
    case LMS_TF_DATA: /* one path */
        c->n_data = 0;
        if (!(st = need_str(v, k, c->data[0], sizeof c->data[0], err))) c->n_data = c->data[0][0] != 0;
        return st;
    case LMS_TF_ENUM:
        if (!json_is_string(v) || strlen(json_string_value(v)) >= 32 || f->parse(json_string_value(v), &i)) {
            char q[256];
            return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be %s", k, quoted_choices(f->choices, q, sizeof q));
        }
        *(int *)at = i;
        return LMS_OK;
    case LMS_TF_BOOL:
        if (!json_is_boolean(v)) return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" must be true or false", k);
        *(int *)at = json_is_true(v);
        return LMS_OK;
    }
    return lms_errf(err, LMS_ERR_ARG, "grid: \"%s\" has a type a grid cannot hold", k);
}

/* A grid key's value as the grid writes it: as config.json does, but a seed is a JSON integer and
   the data one path. */
static json_t *grid_value(const lms_train_config *c, const lms_train_field *f) {
    if (f->type == LMS_TF_SEED) return json_integer((json_int_t)*(const uint64_t *)lms_train_field_cptr(c, f));
    if (f->type == LMS_TF_DATA) return json_string(c->n_data ? c->data[0] : "");
    return lms_train_field_json(c, f);
}

lms_status lms_sweep_grid_parse(lms_sweep_grid *g, const char *json, lms_err *err) {
    lms_sweep_grid_defaults(g);
    json_error_t je;
    json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!o) return lms_errf(err, LMS_ERR_ARG, "grid: not valid JSON (%s, line %d column %d)", je.text, je.line, je.column);
    lms_status st = LMS_OK;
    if (!json_is_object(o)) st = lms_errf(err, LMS_ERR_ARG, "grid: must be a JSON object (docs/scaling.md \"Sweeps\")");
    const char *k;
    json_t *v;
    int have_shapes = 0, have_budget = 0;
    double x;
    if (!st) json_object_foreach(o, k, v) {
        if (!strcmp(k, "name")) st = need_str(v, k, g->name, sizeof g->name, err);
        else if (!strcmp(k, "shapes")) st = parse_shapes(g, v, err), have_shapes = 1;
        else if (!strcmp(k, "tokens") || !strcmp(k, "tokens_per_param")) {
            if (have_budget) st = lms_errf(err, LMS_ERR_ARG, "grid: give either \"tokens\" or \"tokens_per_param\", not both");
            else st = parse_list(v, k, g->budget, LMS_SWEEP_MAX_BUDGETS, &g->n_budgets, err);
            g->budget_per_param = !strcmp(k, "tokens_per_param");
            have_budget = 1;
        } else if (!strcmp(k, "samples")) st = need_int(v, k, 0, 16, &g->samples, err);
        else if (!strcmp(k, "sample_tokens")) st = need_int(v, k, 1, 4096, &g->sample_tokens, err);
        else if (!strcmp(k, "schedule")) {
            if (json_is_string(v) && !strcmp(json_string_value(v), "cosine")) g->wsd = 0;
            else if (json_is_string(v) && !strcmp(json_string_value(v), "wsd")) g->wsd = 1;
            else st = lms_errf(err, LMS_ERR_ARG, "grid: \"schedule\" must be \"cosine\" (one run per budget) or \"wsd\" "
                               "(one long run per shape with cool-down branches)");
        } else if (!strcmp(k, "lr")) {
            if (!json_is_object(v)) st = lms_errf(err, LMS_ERR_ARG, "grid: \"lr\" must be an object {\"c\", \"max\"}: lr = min(max, c / dim)");
            const char *k2;
            json_t *v2;
            if (!st) json_object_foreach(v, k2, v2) {
                if (!strcmp(k2, "c")) st = need_num(v2, "lr.c", 0, 1e6, &x, err), g->lr_c = (float)x;
                else if (!strcmp(k2, "max")) st = need_num(v2, "lr.max", 0, 1e6, &x, err), g->lr_max = (float)x;
                else st = lms_errf(err, LMS_ERR_ARG, "grid: unknown field \"lr.%s\" (lr has c and max)", k2);
                if (st) break;
            }
        } else if (!strcmp(k, "lr_sweep")) {
            if (!json_is_object(v)) st = lms_errf(err, LMS_ERR_ARG, "grid: \"lr_sweep\" must be an object {\"sizes\", \"factors\"}");
            const char *k2;
            json_t *v2;
            double f[LMS_SWEEP_MAX_FACTORS];
            if (!st) json_object_foreach(v, k2, v2) {
                if (!strcmp(k2, "sizes")) st = need_int(v2, "lr_sweep.sizes", 1, LMS_SWEEP_MAX_SHAPES, &g->lr_sweep_sizes, err);
                else if (!strcmp(k2, "factors")) {
                    st = parse_list(v2, "lr_sweep.factors", f, LMS_SWEEP_MAX_FACTORS, &g->n_lr_factors, err);
                    for (int i = 0; !st && i < g->n_lr_factors; i++) g->lr_factor[i] = (float)f[i];
                } else if (!strcmp(k2, "budget"))
                    st = need_int(v2, "lr_sweep.budget", 0, LMS_SWEEP_MAX_BUDGETS - 1, &g->lr_sweep_budget, err);
                else st = lms_errf(err, LMS_ERR_ARG, "grid: unknown field \"lr_sweep.%s\" (lr_sweep has sizes, factors and budget)", k2);
                if (st) break;
            }
            if (!st && (!g->lr_sweep_sizes || !g->n_lr_factors))
                st = lms_errf(err, LMS_ERR_ARG, "grid: \"lr_sweep\" needs both \"sizes\" and \"factors\"");
        } else if (!strcmp(k, "suites")) st = need_str(v, k, g->suites, sizeof g->suites, err);
        else if (lms_train_field_grid(k)) st = parse_field(&g->run, lms_train_field_grid(k), v, err);
        else st = lms_errf(err, LMS_ERR_ARG, "grid: unknown field \"%s\" (docs/scaling.md \"Sweeps\" lists the fields)", k);
        if (st) break;
    }
    if (!st && !have_shapes) st = lms_errf(err, LMS_ERR_ARG, "grid: no \"shapes\": give at least one {\"layers\", \"heads\", \"dim\"}");
    if (!st && !have_budget) st = lms_errf(err, LMS_ERR_ARG, "grid: no token budgets: give \"tokens\" or \"tokens_per_param\"");
    if (!st && g->lr_sweep_sizes > g->n_shapes)
        st = lms_errf(err, LMS_ERR_ARG, "grid: \"lr_sweep.sizes\" is %d but the grid has %d shapes", g->lr_sweep_sizes, g->n_shapes);
    if (!st && g->lr_sweep_budget >= g->n_budgets)
        st = lms_errf(err, LMS_ERR_ARG, "grid: \"lr_sweep.budget\" is %d but the grid has %d budgets (it is an index from 0)",
                      g->lr_sweep_budget, g->n_budgets);
    json_decref(o);
    return st;
}

lms_status lms_sweep_grid_load(lms_sweep_grid *g, const char *path, lms_err *err) {
    FILE *fp = fopen(path, "r");
    if (!fp) return lms_errf(err, LMS_ERR_IO, "cannot read the grid file %s", path);
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char tmp[4096];
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0 && len < (1u << 20)) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) break;
            buf = nb;
        }
        memcpy(buf + len, tmp, n);
        len += n;
    }
    fclose(fp);
    if (!buf) return lms_errf(err, LMS_ERR_ARG, "grid file %s is empty", path);
    buf[len] = 0;
    lms_status st = lms_sweep_grid_parse(g, buf, err);
    free(buf);
    return st ? lms_err_prefix(err, "%s: ", path) : LMS_OK;
}

/* The grid's own keys that sit among the table's grid keys in the canonical JSON: those written
   just before the table row `row` (an order fixed when the grid format began). */
static void put_own(json_t *o, const lms_sweep_grid *g, const char *row) {
    if (!strcmp(row, "decay_frac")) json_object_set_new(o, "schedule", json_string(g->wsd ? "wsd" : "cosine"));
    if (!strcmp(row, "seed")) {
        json_t *lr = json_object();
        json_object_set_new(lr, "c", json_real(g->lr_c));
        json_object_set_new(lr, "max", json_real(g->lr_max));
        json_object_set_new(o, "lr", lr);
        if (g->lr_sweep_sizes) {
            json_t *ls = json_object(), *f = json_array();
            json_object_set_new(ls, "sizes", json_integer(g->lr_sweep_sizes));
            if (g->lr_sweep_budget >= 0) json_object_set_new(ls, "budget", json_integer(g->lr_sweep_budget));
            for (int i = 0; i < g->n_lr_factors; i++) json_array_append_new(f, json_real(g->lr_factor[i]));
            json_object_set_new(ls, "factors", f);
            json_object_set_new(o, "lr_sweep", ls);
        }
    }
    if (!strcmp(row, "data")) {
        json_object_set_new(o, "samples", json_integer(g->samples));
        json_object_set_new(o, "sample_tokens", json_integer(g->sample_tokens));
    }
    if (!strcmp(row, "mix")) json_object_set_new(o, "suites", json_string(g->suites));
}

char *lms_sweep_grid_to_json(const lms_sweep_grid *g) {
    json_t *o = json_object(), *sh = json_array(), *b = json_array();
    json_object_set_new(o, "name", json_string(g->name));
    for (int i = 0; i < g->n_shapes; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "layers", json_integer(g->shape[i].n_layer));
        json_object_set_new(s, "heads", json_integer(g->shape[i].n_head));
        json_object_set_new(s, "dim", json_integer(g->shape[i].n_embd));
        if (g->shape[i].lr > 0) json_object_set_new(s, "lr", json_real(g->shape[i].lr));
        if (g->shape[i].control) json_object_set_new(s, "control", json_true());
        json_array_append_new(sh, s);
    }
    json_object_set_new(o, "shapes", sh);
    for (int i = 0; i < g->n_budgets; i++) json_array_append_new(b, json_real(g->budget[i]));
    json_object_set_new(o, g->budget_per_param ? "tokens_per_param" : "tokens", b);
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    for (int i = 0; i < nf; i++) { /* the table's grid keys in table order, the grid's own among them */
        const lms_train_field *f = &tf[i];
        put_own(o, g, f->key);
        if (!f->grid || (f->flags & LMS_TF_GRID_NOSAVE)) continue; /* threads: the speed, not the results */
        if ((f->flags & LMS_TF_GRID_SPARSE) && lms_train_field_is_default(&g->run, f)) continue;
        json_object_set_new(o, f->grid, grid_value(&g->run, f));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(o);
    return s;
}

/* ---- the plan ---- */

/* grid.suites: directories (every .jsonl/.csv in each, sorted) and files, joined by ','; each must exist */
static lms_status list_suites(lms_sweep_plan *p, lms_err *err) {
    lms_suite_list l = {0};
    lms_status st = lms_suite_select(&l, p->grid.suites, LMS_SUITE_SPEC_PATHS, NULL, err);
    p->suite = l.path;
    p->n_suites = l.n;
    return st ? lms_err_prefix(err, "grid: \"suites\": ") : LMS_OK;
}

static void fmt_tokens(char *out, size_t cap, double t) {
    if (t >= 1e9) snprintf(out, cap, "%.3gG", t / 1e9);
    else if (t >= 1e6) snprintf(out, cap, "%.3gM", t / 1e6);
    else if (t >= 1e3) snprintf(out, cap, "%.3gk", t / 1e3);
    else snprintf(out, cap, "%.0f", t);
}

static void fill_sizes(lms_sweep_plan *p, lms_sweep_run_plan *r) {
    const lms_sweep_grid *g = &p->grid;
    r->params = lms_gpt_config_num_params(&r->model);
    r->params_nonembed = r->params - (int64_t)r->model.vocab_size * r->model.n_embd - (int64_t)r->model.n_ctx * r->model.n_embd;
    r->tokens = (double)r->steps * g->run.batch * g->run.accum * g->run.model.n_ctx;
    r->flops = r->tokens * lms_gpt_flops_per_token(&r->model, g->run.model.n_ctx);
}

lms_status lms_sweep_plan_make(lms_sweep_plan **out, const lms_sweep_grid *g, lms_err *err) {
    *out = NULL;
    if (g->n_shapes < 1) return lms_errf(err, LMS_ERR_ARG, "grid: no shapes");
    if (g->n_budgets < 1) return lms_errf(err, LMS_ERR_ARG, "grid: no token budgets (\"tokens\" or \"tokens_per_param\")");
    if (!grid_data(g)[0]) return lms_errf(err, LMS_ERR_ARG, "no data: give --data SHARDS (a directory made by 'lmscope data prepare') or \"data\" in the grid");
    if (g->wsd && !(g->run.decay_frac > 0 && g->run.decay_frac < 1)) return lms_errf(err, LMS_ERR_ARG, "grid: \"cooldown\" must lie in (0, 1)");
    lms_sweep_plan *p = calloc(1, sizeof *p);
    if (!p) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    p->grid = *g;
    lms_status st;
    /* the data: its vocabulary and tokenizer hash (and that it holds a window of ctx + 1) */
    lms_train_config c;
    lms_train_config_defaults(&c);
    c.batch = g->run.batch;
    c.model.n_ctx = g->run.model.n_ctx;
    snprintf(c.tokenizer, sizeof c.tokenizer, "%s", g->run.tokenizer);
    lms_loader *l = NULL;
    if ((st = lms_train_config_add_data(&c, grid_data(g), err)) || (st = lms_train_open_data(&c, &l, err))) {
        lms_err_prefix(err, "sweep data: ");
        goto fail;
    }
    lms_loader_free(l);
    if ((st = list_suites(p, err))) goto fail;
    p->vocab_size = c.model.vocab_size;
    if (!g->run.tokenizer[0] && p->vocab_size > 256) {
        st = lms_errf(err, LMS_ERR_ARG, "the shards in %s use a %d-token vocabulary: give the tokenizer they were made "
                      "with (--tokenizer DIR or \"tokenizer\" in the grid); samples, suites and bits per byte need it",
                      grid_data(g), p->vocab_size);
        goto fail;
    }
    snprintf(p->tokenizer_hash, sizeof p->tokenizer_hash, "%s", c.tokenizer_hash);
    int per_shape = g->n_budgets + (g->lr_sweep_sizes ? g->n_lr_factors : 0);
    p->run = calloc((size_t)(g->n_shapes * per_shape), sizeof *p->run);
    if (!p->run) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* the largest grid shape by non-embedding parameters keeps log-spaced checkpoints (controls aside) */
    int largest = 0, smallest = 0, n_grid = 0;
    double best = -1, least = INFINITY;
    for (int s = 0; s < g->n_shapes; s++) {
        if (g->shape[s].control) continue;
        n_grid++;
        double ne = 12.0 * g->shape[s].n_layer * (double)g->shape[s].n_embd * g->shape[s].n_embd;
        if (ne > best) best = ne, largest = s;
        if (ne < least) least = ne, smallest = s;
    }
    if (!n_grid) {
        st = lms_errf(err, LMS_ERR_ARG, "grid: every shape is a control; the grid needs at least one shape without \"control\"");
        goto fail;
    }
    const double tok_per_step = (double)g->run.batch * g->run.accum * g->run.model.n_ctx;
    for (int s = 0; s < g->n_shapes; s++) {
        const lms_sweep_shape *sh = &g->shape[s];
        lms_gpt_config mc = {.n_layer = sh->n_layer, .n_head = sh->n_head, .n_embd = sh->n_embd, .n_ctx = g->run.model.n_ctx,
                             .vocab_size = p->vocab_size};
        if ((st = lms_gpt_config_check(&mc, err))) {
            lms_err_prefix(err, "grid: shapes[%d]: ", s);
            goto fail;
        }
        float lr = sh->lr > 0 ? sh->lr : fminf(g->lr_max, g->lr_c / (float)sh->n_embd);
        lms_sweep_run_plan tmp = {.model = mc};
        tmp.steps = 1;
        fill_sizes(p, &tmp);
        int64_t steps[LMS_SWEEP_MAX_BUDGETS];
        for (int b = 0; b < g->n_budgets; b++) {
            double tokens = g->budget_per_param ? g->budget[b] * (double)tmp.params_nonembed : g->budget[b];
            steps[b] = (int64_t)ceil(tokens / tok_per_step - 1e-9);
            if (steps[b] < 1) steps[b] = 1;
            if (b > 0 && steps[b] <= steps[b - 1]) {
                st = lms_errf(err, LMS_ERR_ARG, "grid: the token budgets %g and %g give the same number of steps (%lld) for "
                              "shapes[%d] at %g tokens per step; spread the budgets further", g->budget[b - 1], g->budget[b],
                              (long long)steps[b], s, tok_per_step);
                goto fail;
            }
        }
        /* WSD: the long run (largest budget) first, then its branches; cosine: budgets in order. Under
           WSD every budget of a shape shares the long run's warmup: the trainer's default (steps/20 of
           the long run) would fill most of the shortest branch (the demo's 0.25M-token branch was
           warmup then decay, no constant phase: 2% above the law), so it is capped at a fifth of the
           shortest budget's steps. */
        int64_t warmup = -1;
        if (g->wsd) {
            lms_train_config wc;
            lms_train_config_defaults(&wc);
            wc.steps = steps[g->n_budgets - 1];
            lms_train_config_resolve(&wc);
            warmup = wc.warmup < steps[0] / 5 ? wc.warmup : steps[0] / 5;
        }
        int trunk = p->n_runs;
        for (int bi = 0; bi < g->n_budgets; bi++) {
            int b = g->wsd ? (bi == 0 ? g->n_budgets - 1 : bi - 1) : bi;
            lms_sweep_run_plan *r = &p->run[p->n_runs++];
            r->model = mc;
            r->lr = lr;
            r->steps = steps[b];
            r->warmup = warmup;
            r->parent = -1;
            r->branch_step = -1;
            r->kind = sh->control ? LMS_SWEEP_CONTROL : LMS_SWEEP_GRID;
            r->token_losses = s == largest || s == smallest;
            fill_sizes(p, r);
            char tb[32];
            fmt_tokens(tb, sizeof tb, r->tokens);
            snprintf(r->name, sizeof r->name, "L%d-C%d-H%d-%s", sh->n_layer, sh->n_embd, sh->n_head, tb);
            r->own_flops = r->flops;
            if (g->wsd && bi > 0) {
                int64_t d = (int64_t)llround((double)g->run.decay_frac * (double)r->steps);
                if (d < 1) d = 1;
                r->branch_step = r->steps - d;
                if (r->branch_step < 1) {
                    st = lms_errf(err, LMS_ERR_ARG, "grid: the budget %g gives shapes[%d] only %lld steps, too few for a "
                                  "cool-down branch; raise the smallest budget", g->budget[b], s, (long long)r->steps);
                    goto fail;
                }
                r->parent = trunk;
                r->own_flops = r->flops * (double)d / (double)r->steps;
            }
            if (s == largest && (g->wsd ? bi == 0 : b == g->n_budgets - 1)) r->log_ckpts = 1;
        }
        if (s < g->lr_sweep_sizes && !sh->control) {
            for (int f = 0; f < g->n_lr_factors; f++) {
                if (fabsf(g->lr_factor[f] - 1.0f) < 1e-6f) continue; /* the grid run itself */
                /* the grid run at the chosen budget, trained alone with the same schedule (WSD: the
                   long run's warmup, constant lr, the same cool-down), lr scaled */
                int at = g->lr_sweep_budget < 0 ? g->n_budgets - 1 : g->lr_sweep_budget;
                int gi = !g->wsd ? trunk + at : at == g->n_budgets - 1 ? trunk : trunk + 1 + at;
                lms_sweep_run_plan *r = &p->run[p->n_runs++];
                *r = p->run[gi];
                if (!g->wsd) {
                    lms_train_config wc;
                    lms_train_config_defaults(&wc);
                    wc.steps = p->run[trunk].steps;
                    lms_train_config_resolve(&wc);
                    r->warmup = wc.warmup;
                }
                r->kind = LMS_SWEEP_LR;
                r->lr = lr * g->lr_factor[f];
                r->log_ckpts = 0;
                r->token_losses = 0;
                r->parent = -1;
                r->branch_step = -1;
                r->own_flops = r->flops;
                char fb[32];
                snprintf(fb, sizeof fb, "-lr%gx", (double)g->lr_factor[f]);
                r->name[sizeof r->name - sizeof fb] = 0; /* room for the suffix */
                strcat(r->name, fb);
            }
        }
    }
    /* memory: the training plan of the largest run must fit (the trainer checks each run again) */
    uint64_t most = 0;
    int at = 0;
    for (int i = 0; i < p->n_runs; i++) {
        lms_train_config tc;
        lms_train_config_defaults(&tc);
        tc.model = p->run[i].model;
        tc.batch = g->run.batch;
        uint64_t b = lms_train_plan_bytes(&tc);
        if (b > most) most = b, at = i;
    }
    p->mem_bytes = most;
    lms_sysmem sm;
    lms_sysmem_available(&sm);
    if (sm.bytes && most > sm.bytes) {
        const double G = 1024.0 * 1024.0 * 1024.0;
        st = lms_errf(err, LMS_ERR_ARG, "grid: the largest model (%s, %.3g parameters, batch %d x ctx %d) needs about %.2f GiB "
                      "to train but only %.2f GiB is available (%s); use smaller shapes, a smaller batch (with accum) or a "
                      "shorter ctx", p->run[at].name, (double)p->run[at].params, g->run.batch, g->run.model.n_ctx, (double)most / G,
                      (double)sm.bytes / G, sm.source);
        goto fail;
    }
    for (int i = 0; i < p->n_runs; i++) p->total_flops += p->run[i].own_flops;
    *out = p;
    return LMS_OK;
fail:
    lms_sweep_plan_free(p);
    return st;
}

void lms_sweep_run_config(const lms_sweep_plan *p, int i, lms_train_config *c) {
    const lms_sweep_run_plan *r = &p->run[i];
    *c = p->grid.run;
    c->model = r->model;
    c->steps = r->steps;
    c->lr = r->lr;
    c->warmup = r->warmup;
    c->schedule = p->grid.wsd ? LMS_SCHED_WSD : LMS_SCHED_COSINE;
    c->save_log_steps = r->log_ckpts;
    c->keep_checkpoints = 1;
}

void lms_sweep_plan_free(lms_sweep_plan *p) {
    if (!p) return;
    for (int i = 0; i < p->n_suites; i++) free(p->suite[i]);
    free(p->suite);
    free(p->run);
    free(p);
}

/* FLOP/s of training steps of shape mc on random tokens for about max_s seconds. */
static lms_status measure_shape(const lms_sweep_plan *p, const lms_gpt_config *mc, double max_s, double *fps, lms_err *err) {
    const lms_sweep_grid *g = &p->grid;
    lms_gpt *m = NULL;
    lms_status st = lms_gpt_create(&m, mc, err);
    if (st) return st;
    lms_gpt_init(m, 1);
    int B = g->run.batch, T = g->run.model.n_ctx;
    int32_t *in = malloc((size_t)B * T * sizeof *in), *tg = malloc((size_t)B * T * sizeof *tg);
    if (!in || !tg) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = lms_gpt_plan(m, B, T, err))) goto done;
    lms_rng r;
    lms_rng_seed(&r, 7);
    for (int i = 0; i < B * T; i++)
        in[i] = (int32_t)lms_rng_below(&r, (uint64_t)mc->vocab_size), tg[i] = (int32_t)lms_rng_below(&r, (uint64_t)mc->vocab_size);
    double t0 = 0;
    int n = 0;
    for (int it = 0; it < 1000; it++) { /* the first step warms up; then time until max_s */
        if (it == 1) t0 = lms_now();
        lms_gpt_zero_grad(m);
        lms_gpt_forward(m, in, tg, B, T);
        lms_gpt_backward(m, 1.0f);
        if (it >= 1) n++;
        if (it >= 1 && lms_now() - t0 > max_s) break;
    }
    double dt = lms_now() - t0;
    *fps = dt > 0 ? (double)n * B * T * lms_gpt_flops_per_token(mc, T) / dt : 0;
done:
    free(in);
    free(tg);
    lms_gpt_free(m);
    return st;
}

lms_status lms_sweep_measure(const lms_sweep_plan *p, double max_s, double *flops_per_s, lms_err *err) {
    lms_cpu_set_threads(p->grid.run.threads);
    double per = max_s / (p->grid.n_shapes > 0 ? p->grid.n_shapes : 1);
    for (int i = 0; i < p->n_runs; i++) {
        flops_per_s[i] = 0;
        for (int j = 0; j < i; j++) /* a shape measured already */
            if (!memcmp(&p->run[j].model, &p->run[i].model, sizeof p->run[i].model)) flops_per_s[i] = flops_per_s[j];
        if (flops_per_s[i] > 0) continue;
        lms_status st = measure_shape(p, &p->run[i].model, per, &flops_per_s[i], err);
        if (st) return st;
    }
    return LMS_OK;
}
