/* test_train_fields.c — the config-field table (train.h), the one schema of a run: every row is
 * consistent with the struct, config.json is generated from it in its order (sparse rows only when
 * set), runs written before the optional fields existed still load, a missing or mistyped required
 * field is named, resume overrides follow the rows' LMS_TRAIN_OVER_* bits, the `train` options are
 * the rows' flags, the metrics fields are the LMS_TF_METRICS rows, and every grid key parses into
 * its field and round-trips through the canonical grid JSON, which keeps its bytes for a grid of
 * today's keys.
 * Leaves out: the flags on the command line (tests/cli/train*.sh, qa.sh), the results.db columns
 * (test_sweepdb.c), a sweep end to end (tests/cli/sweep.sh). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "scaling/sweep.h"
#include "train/job.h"
#include "train/train.h"

static size_t field_size(const lms_train_field *f) {
    switch (f->type) {
    case LMS_TF_I64: case LMS_TF_SEED: return 8;
    case LMS_TF_STR: return f->cap;
    case LMS_TF_DATA: return sizeof(((lms_train_config *)0)->data);
    default: return 4;
    }
}

static void test_rows_consistent(void) {
    int n;
    const lms_train_field *t = lms_train_fields(&n);
    CHECK(n > 20 && n <= LMS_TRAIN_MAX_FIELDS);
    for (int i = 0; i < n; i++) {
        CHECKF(t[i].offset + field_size(&t[i]) <= sizeof(lms_train_config), "row %s", t[i].key);
        CHECKF(t[i].help && t[i].help[0], "row %s has no help", t[i].key);
        CHECK(lms_train_field_find(t[i].key) == &t[i]);
        if (t[i].flag) CHECK(lms_train_field_find(t[i].flag) == &t[i]);
        if (t[i].type == LMS_TF_STR) CHECK(t[i].cap > 1);
        if (t[i].type == LMS_TF_ENUM) CHECK(t[i].name && t[i].parse && t[i].choices);
        if (t[i].flags & LMS_TF_ZERO_KEEPS) CHECK(t[i].over && t[i].type == LMS_TF_INT);
        if (t[i].grid && t[i].type != LMS_TF_STR && t[i].type != LMS_TF_DATA && t[i].type != LMS_TF_ENUM && t[i].type != LMS_TF_BOOL)
            CHECKF(t[i].lo < t[i].hi, "grid key %s has no range", t[i].grid);
        if (t[i].flags & LMS_TF_GRID_SPARSE) CHECKF(t[i].grid && !(t[i].flags & LMS_TF_CLI_DEF), "row %s", t[i].key);
        if (t[i].report) CHECKF(t[i].flags & LMS_TF_DB, "row %s: a run-table column must be a results.db column", t[i].key);
        if (t[i].flags & LMS_TF_DB) CHECKF(t[i].type != LMS_TF_DATA && !(t[i].flags & LMS_TF_CLI_OWN), "row %s", t[i].key);
        if (t[i].grid) CHECK(lms_train_field_grid(t[i].grid) == &t[i]);
        for (int j = 0; j < i; j++) { /* no two rows share storage, a key or a flag */
            CHECKF(t[j].offset + field_size(&t[j]) <= t[i].offset || t[i].offset + field_size(&t[i]) <= t[j].offset,
                   "rows %s and %s overlap", t[j].key, t[i].key);
            CHECK(strcmp(t[i].key, t[j].key) || (t[i].flags & LMS_TF_MODEL) != (t[j].flags & LMS_TF_MODEL));
            if (t[i].flag && t[j].flag) CHECK(strcmp(t[i].flag, t[j].flag) != 0);
            if (t[i].grid && t[j].grid) CHECK(strcmp(t[i].grid, t[j].grid) != 0);
        }
    }
    /* the defaults come from the rows */
    lms_train_config c;
    lms_train_config_defaults(&c);
    CHECK(c.batch == 8 && c.steps == 1000 && c.lr == 3e-4f && c.schedule == LMS_SCHED_COSINE && c.warmup == -1);
    CHECK(c.eps == 1e-8f && c.seed == 1 && c.keep_checkpoints == 2 && c.n_data == 0 && !c.init[0] && !c.save_log_steps);
    CHECK(lms_train_field_find("keep")->over == 0 && lms_train_field_find("lr")->over == LMS_TRAIN_OVER_LR);
}

static lms_train_config sample(void) {
    lms_train_config c;
    lms_err err = {0};
    lms_train_config_defaults(&c);
    c.model = (lms_gpt_config){.n_layer = 2, .n_head = 2, .n_embd = 16, .n_ctx = 8, .vocab_size = 256};
    c.seed = 0xfedcba9876543210ULL;
    c.schedule = LMS_SCHED_WSD;
    c.decay_frac = 0.3f;
    c.save_log_steps = 1;
    snprintf(c.init, sizeof c.init, "/some/run");
    snprintf(c.mix, sizeof c.mix, "a=1,b=2");
    lms_train_config_add_data(&c, "/x/a.txt", &err);
    lms_train_config_add_data(&c, "/x/b.txt", &err);
    return c;
}

static void test_json_order_and_legacy(void) {
    lms_train_config c = sample();
    lms_err err = {0};
    char *js = lms_train_config_to_json(&c);
    json_t *o = json_loads(js, 0, NULL);
    CHECK(o != NULL);
    /* keys in table order, after format, version and model; model's keys in table order */
    int n;
    const lms_train_field *t = lms_train_fields(&n);
    const char *it_key;
    json_t *v;
    int k = 0, mk = 0;
    const char *top[64], *mod[16];
    json_object_foreach(o, it_key, v) top[k++] = it_key;
    json_object_foreach(json_object_get(o, "model"), it_key, v) mod[mk++] = it_key;
    CHECK(!strcmp(top[0], "format") && !strcmp(top[1], "version") && !strcmp(top[2], "model"));
    int ti = 3, mi = 0;
    for (int i = 0; i < n; i++) {
        if ((t[i].flags & LMS_TF_SPARSE) && lms_train_field_is_default(&c, &t[i])) { /* only when set */
            CHECKF(!json_object_get(o, t[i].key), "sparse key %s written at its default", t[i].key);
            continue;
        }
        if (t[i].flags & LMS_TF_MODEL) CHECKF(mi < mk && !strcmp(mod[mi++], t[i].key), "model key %s out of order", t[i].key);
        else CHECKF(ti < k && !strcmp(top[ti++], t[i].key), "key %s out of order", t[i].key);
    }
    CHECK(ti == k && mi == mk);
    CHECK(json_is_string(json_object_get(o, "seed")) && json_is_true(json_object_get(o, "save_log_steps")));
    lms_train_config d;
    CHECKF(lms_train_config_from_json(&d, js, &err) == LMS_OK, "%s", err.msg);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    free(js);
    /* a run written before init and save_log_steps existed: loads with their defaults */
    json_object_del(o, "init");
    json_object_del(o, "save_log_steps");
    js = json_dumps(o, JSON_PRESERVE_ORDER);
    CHECKF(lms_train_config_from_json(&d, js, &err) == LMS_OK, "%s", err.msg);
    CHECK(d.init[0] == 0 && d.save_log_steps == 0 && d.seed == c.seed && d.n_data == 2 && d.decay_frac == 0.3f);
    free(js);
    /* unknown keys are ignored; a required key missing or mistyped is named */
    json_object_set_new(o, "from_the_future", json_integer(3));
    js = json_dumps(o, 0);
    CHECK(lms_train_config_from_json(&d, js, &err) == LMS_OK);
    free(js);
    json_object_del(o, "mix");
    js = json_dumps(o, 0);
    CHECK(lms_train_config_from_json(&d, js, &err) == LMS_ERR_FORMAT && strstr(err.msg, "'mix'"));
    free(js);
    json_object_set_new(o, "mix", json_string(""));
    json_object_set_new(json_object_get(o, "model"), "n_head", json_string("2"));
    js = json_dumps(o, 0);
    CHECK(lms_train_config_from_json(&d, js, &err) == LMS_ERR_FORMAT && strstr(err.msg, "'model.n_head'"));
    free(js);
    json_object_set_new(json_object_get(o, "model"), "n_head", json_integer(2));
    json_object_set_new(o, "schedule", json_string("linear"));
    js = json_dumps(o, 0);
    CHECK(lms_train_config_from_json(&d, js, &err) == LMS_ERR_FORMAT && strstr(err.msg, "'schedule'"));
    free(js);
    json_object_set_new(o, "schedule", json_string("cosine"));
    json_object_set_new(o, "seed", json_string("12x"));
    js = json_dumps(o, 0);
    CHECK(lms_train_config_from_json(&d, js, &err) == LMS_ERR_FORMAT && strstr(err.msg, "'seed'"));
    free(js);
    json_decref(o);
}

static void test_apply_over(void) {
    lms_train_config run = sample(), over = sample(), r;
    over.lr = 1e-2f;
    over.threads = 3;
    over.eval_interval = 0; /* keeps the run's */
    over.eval_batches = 5;
    over.batch = 99;        /* never a resume override */
    over.decay_steps = 77;
    r = run;
    CHECK(lms_train_config_apply_over(&r, &over, 0) == 0 && memcmp(&r, &run, sizeof r) == 0);
    CHECK(lms_train_config_apply_over(&r, &over, LMS_TRAIN_OVER_LR | LMS_TRAIN_OVER_EVAL) == 1);
    CHECK(r.lr == 1e-2f && r.eval_interval == run.eval_interval && r.eval_batches == 5);
    CHECK(r.threads == run.threads && r.decay_steps == run.decay_steps && r.batch == run.batch);
    CHECK(lms_train_config_apply_over(&r, &over, LMS_TRAIN_OVER_THREADS | LMS_TRAIN_OVER_DECAY) == 1);
    CHECK(r.threads == 3 && r.decay_steps == 77 && r.batch == run.batch);
}

/* The `train` options: one per row with a flag, its help, the row's storage (ENUMs by name). */
static void test_job_options(void) {
    lms_train_job *j = malloc(sizeof *j);
    if (!j) return;
    lms_train_job_init(j);
    int n;
    const lms_train_field *t = lms_train_fields(&n);
    for (int i = 0; i < n; i++) {
        if (!t[i].flag) continue;
        const lms_train_opt *o = NULL;
        for (int k = 0; k < j->n_opt; k++)
            if (!strcmp(j->opt[k].name, t[i].flag)) o = &j->opt[k];
        CHECKF(o != NULL, "no option --%s", t[i].flag);
        if (!o) continue;
        CHECKF(!strcmp(o->help, t[i].help), "--%s help", t[i].flag);
        if (!(t[i].flags & LMS_TF_CLI_OWN) && t[i].type != LMS_TF_ENUM) CHECK(o->ptr == lms_train_field_ptr(&j->c, &t[i]));
    }
    CHECK(j->c.batch == 16 && j->c.model.n_embd == 128 && j->c.lr == 1e-3f); /* the command's defaults (cli_def) */
    CHECK(!strcmp(j->opt[0].name, "data") && !strcmp(j->opt[j->n_opt - 1].name, "ignore-memory-check"));
    free(j);
}

/* metrics.jsonl's per-run fields are the LMS_TF_METRICS rows */
static void test_metrics_fields(void) {
    lms_train_config c;
    lms_train_config_defaults(&c);
    c.precision = LMS_PRECISION_BF16;
    json_t *o = json_object();
    lms_train_config_put_metrics(o, &c);
    int n, k = 0;
    const lms_train_field *t = lms_train_fields(&n);
    for (int i = 0; i < n; i++)
        if (t[i].flags & LMS_TF_METRICS) {
            k++;
            CHECKF(json_object_get(o, t[i].key) != NULL, "metrics lack %s", t[i].key);
        }
    CHECK(k >= 1 && (int)json_object_size(o) == k);
    CHECK(!strcmp(json_string_value(json_object_get(o, "precision")), "bf16"));
    json_decref(o);
}

/* A value for row f other than its default and within its grid range, as grid JSON. */
static json_t *grid_test_value(const lms_train_field *f, int i) {
    switch (f->type) {
    case LMS_TF_INT: case LMS_TF_I64: case LMS_TF_SEED: return json_integer((json_int_t)f->hi - i % 3);
    case LMS_TF_FLOAT: return json_real(f->lo + (f->hi - f->lo) * 0.375);
    case LMS_TF_STR: case LMS_TF_DATA: return json_string("/some/where");
    case LMS_TF_ENUM: return json_string(f->name((int)f->def == 0 ? 1 : 0));
    case LMS_TF_BOOL: return json_boolean(!(int)f->def);
    }
    return NULL;
}

static int same_field(const lms_train_config *a, const lms_train_config *b, const lms_train_field *f) {
    if (f->type == LMS_TF_DATA) return a->n_data == b->n_data && (!a->n_data || !strcmp(a->data[0], b->data[0]));
    size_t sz = f->type == LMS_TF_I64 || f->type == LMS_TF_SEED ? 8 : f->type == LMS_TF_STR ? f->cap : 4;
    return !memcmp(lms_train_field_cptr(a, f), lms_train_field_cptr(b, f), sz);
}

/* Every grid key of the table parses into its field, is written back by the canonical JSON (or
   left out on purpose: LMS_TF_GRID_NOSAVE) and parses again to the same value; out of range it is
   refused with the key named. */
static void test_grid_keys(void) {
    int n;
    const lms_train_field *t = lms_train_fields(&n);
    lms_err err = {0};
    lms_sweep_grid *g = malloc(sizeof *g), *h = malloc(sizeof *h);
    if (!g || !h) return;
    int keys = 0;
    for (int i = 0; i < n; i++) {
        if (!t[i].grid) continue;
        keys++;
        json_t *o = json_pack("{s:[{s:i,s:i,s:i}],s:[f]}", "shapes", "layers", 1, "heads", 1, "dim", 16, "tokens", 1000.0);
        json_object_set_new(o, t[i].grid, grid_test_value(&t[i], i));
        char *js = json_dumps(o, 0);
        CHECKF(lms_sweep_grid_parse(g, js, &err) == LMS_OK, "grid key %s: %s", t[i].grid, err.msg);
        free(js);
        CHECKF(!lms_train_field_is_default(&g->run, &t[i]), "grid key %s did not reach its field", t[i].grid);
        char *canon = lms_sweep_grid_to_json(g);
        CHECK(canon != NULL);
        CHECKF(!!strstr(canon, t[i].grid) == !(t[i].flags & LMS_TF_GRID_NOSAVE), "grid key %s in %s", t[i].grid, canon);
        if (!(t[i].flags & LMS_TF_GRID_NOSAVE)) {
            CHECKF(lms_sweep_grid_parse(h, canon, &err) == LMS_OK, "%s", err.msg);
            CHECKF(same_field(&g->run, &h->run, &t[i]), "grid key %s does not round-trip", t[i].grid);
        }
        free(canon);
        if (t[i].lo < t[i].hi) { /* out of range */
            json_object_set_new(o, t[i].grid, json_real(t[i].hi + 1));
            js = json_dumps(o, 0);
            CHECKF(lms_sweep_grid_parse(g, js, &err) == LMS_ERR_ARG && strstr(err.msg, t[i].grid), "grid key %s: %s", t[i].grid, err.msg);
            free(js);
        }
        json_decref(o);
    }
    CHECK(keys >= 10);
    /* a grid of today's keys keeps its canonical bytes (meta.grid_json: a sweep dir continues only
       with the same grid) */
    const char *old = "{\"name\":\"custom\",\"shapes\":[{\"layers\":1,\"heads\":1,\"dim\":16},{\"layers\":1,\"heads\":2,\"dim\":32}],"
                      "\"tokens\":[640.0,1280.0],\"ctx\":16,\"batch\":4,\"accum\":2,\"schedule\":\"wsd\",\"cooldown\":0.300000012,"
                      "\"lr\":{\"c\":0.400000006,\"max\":0.00999999978},\"lr_sweep\":{\"sizes\":1,\"factors\":[0.5]},\"seed\":9,"
                      "\"samples\":1,\"sample_tokens\":4,\"data\":\"W/s\",\"tokenizer\":\"\",\"suites\":\"\",\"mix\":\"news=2,stories=1\"}";
    CHECKF(lms_sweep_grid_parse(g, old, &err) == LMS_OK, "%s", err.msg);
    char *canon = lms_sweep_grid_to_json(g);
    CHECKF(canon && !strcmp(canon, old), "canonical grid changed:\n%s\n%s", canon, old);
    free(canon);
    CHECK(g->run.model.n_ctx == 16 && g->run.batch == 4 && g->run.accum == 2 && g->run.decay_frac == 0.3f && g->run.seed == 9);
    CHECK(g->run.n_data == 1 && !strcmp(g->run.data[0], "W/s") && !strcmp(g->run.mix, "news=2,stories=1") && g->wsd);
    /* a grid's defaults are the train command's */
    lms_train_config cli;
    lms_train_config_cli_defaults(&cli);
    lms_sweep_grid_defaults(g);
    CHECK(memcmp(&g->run, &cli, sizeof cli) == 0 && g->run.batch == 16 && g->run.model.n_ctx == 128 && g->run.decay_frac == 0.2f);
    free(g);
    free(h);
}

TESTS(test_rows_consistent, test_json_order_and_legacy, test_apply_over, test_job_options, test_metrics_fields, test_grid_keys)
