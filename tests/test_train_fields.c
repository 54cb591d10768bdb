/* test_train_fields.c — the config-field table (train.h): every row is consistent with the struct,
 * config.json is generated from it in its order, runs written before the optional fields existed
 * still load, a missing or mistyped required field is named, and resume overrides follow the
 * rows' LMS_TRAIN_OVER_* bits.
 * Leaves out: the `train` flags made from the table (tests/cli/train*.sh, qa.sh). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
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
    CHECK(n > 20);
    for (int i = 0; i < n; i++) {
        CHECKF(t[i].offset + field_size(&t[i]) <= sizeof(lms_train_config), "row %s", t[i].key);
        CHECKF(t[i].help && t[i].help[0], "row %s has no help", t[i].key);
        CHECK(lms_train_field_find(t[i].key) == &t[i]);
        if (t[i].flag) CHECK(lms_train_field_find(t[i].flag) == &t[i]);
        if (t[i].type == LMS_TF_STR) CHECK(t[i].cap > 1);
        if (t[i].type == LMS_TF_ENUM) CHECK(t[i].name && t[i].parse && t[i].choices);
        if (t[i].flags & LMS_TF_ZERO_KEEPS) CHECK(t[i].over && t[i].type == LMS_TF_INT);
        for (int j = 0; j < i; j++) { /* no two rows share storage, a key or a flag */
            CHECKF(t[j].offset + field_size(&t[j]) <= t[i].offset || t[i].offset + field_size(&t[i]) <= t[j].offset,
                   "rows %s and %s overlap", t[j].key, t[i].key);
            CHECK(strcmp(t[i].key, t[j].key) || (t[i].flags & LMS_TF_MODEL) != (t[j].flags & LMS_TF_MODEL));
            if (t[i].flag && t[j].flag) CHECK(strcmp(t[i].flag, t[j].flag) != 0);
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

TESTS(test_rows_consistent, test_json_order_and_legacy, test_apply_over)
