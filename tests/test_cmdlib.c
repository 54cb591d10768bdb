/* test_cmdlib.c — the library functions the commands share (issue 18): the run's own data
 * (lms_lm_open_data), opening on a device (lms_lm_open_on), eval's rows and log names
 * (eval/rows.h), the prompt's ids (lms_generate_prompt), the shapes table (eval/shape_table.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/generate.h"
#include "eval/lm.h"
#include "eval/rows.h"
#include "eval/shape_table.h"
#include "harness.h"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) fputs(text, f), fclose(f);
}

/* The run a model comes from: its run dir, or the run above checkpoints/; else NOT_RUN. */
static void test_open_data_steps(void) {
    char dir[] = "/tmp/lms_cmdlib_XXXXXX", p[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(p, sizeof p, "%s/checkpoints", dir);
    CHECK(mkdir(p, 0755) == 0);
    lms_lm lm = {.kind = LMS_LM_HF};
    snprintf(lm.path, sizeof lm.path, "%s/model.safetensors", dir);
    lms_lm_data d;
    lms_err err = {0};
    CHECK(lms_lm_open_data(&lm, NULL, NULL, &d, &err) == LMS_ERR_ARG && d.failed == LMS_LM_DATA_NOT_RUN && !d.loader);
    CHECKF(strstr(err.msg, "not an lmscope run"), "%s", err.msg);
    /* a checkpoint of a run whose config.json is damaged: the config step, with the run's config path */
    lm.kind = LMS_LM_LMSCOPE;
    snprintf(lm.ckpt, sizeof lm.ckpt, "%s/checkpoints/step_00000010.safetensors", dir);
    CHECK(lms_lm_open_data(&lm, NULL, NULL, &d, &err) == LMS_ERR_ARG && d.failed == LMS_LM_DATA_NOT_RUN); /* no config yet */
    snprintf(p, sizeof p, "%s/config.json", dir);
    write_file(p, "{not json");
    CHECK(lms_lm_open_data(&lm, NULL, NULL, &d, &err) != LMS_OK && d.failed == LMS_LM_DATA_CONFIG);
    CHECKF(!strcmp(d.config, p), "config %s", d.config);
    /* the run dir itself */
    lm.kind = LMS_LM_RUN;
    snprintf(lm.path, sizeof lm.path, "%s", dir);
    CHECK(lms_lm_open_data(&lm, NULL, NULL, &d, &err) != LMS_OK && d.failed == LMS_LM_DATA_CONFIG && !strcmp(d.config, p));
    /* given data that does not exist: the open step (the model's context is not needed when n_ctx is given) */
    snprintf(p, sizeof p, "%s/nothing", dir);
    CHECK(lms_lm_open_data(&lm, p, &(lms_lm_data_opts){.n_ctx = 16}, &d, &err) != LMS_OK && d.failed == LMS_LM_DATA_OPEN);
    lms_lm_data_close(&d);
    /* lms_lm_open_on fails as lms_lm_open, with lm zeroed */
    lms_lm m;
    CHECK(lms_lm_open_on(&m, p, NULL, NULL, &err) == LMS_ERR_IO && m.gpt == NULL);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* eval's rows: the model's provenance first, then the suite's numbers; NaN as null. */
static void test_rows(void) {
    lms_lm lm = {.step = 20, .tokens = 5120, .flops = 1.5e9, .params = 100, .params_nonembed = 40};
    snprintf(lm.path, sizeof lm.path, "runs/x");
    snprintf(lm.ckpt, sizeof lm.ckpt, "runs/x/checkpoints/step_00000020.safetensors");
    lms_eval_row r = {.kind = LMS_ITEM_GEN, .n = 3, .acc = 0.5, .acc_se = 0.1, .acc_norm = NAN, .time_s = 1.25};
    snprintf(r.suite, sizeof r.suite, "copy");
    json_t *o = lms_eval_row_json(&lm, &r, "suites/copy.jsonl");
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECKF(s && !strncmp(s, "{\"model\":\"runs/x\",\"checkpoint\":\"runs/x/checkpoints/step_00000020.safetensors\",\"step\":20,"
                         "\"tokens\":5120,\"flops\":1500000000,\"params\":100,\"params_nonembed\":40,\"suite\":\"copy\","
                         "\"suite_file\":\"suites/copy.jsonl\",\"kind\":\"gen\",\"n\":3,", 200) && strstr(s, "\"acc_norm\":null"),
           "%s", s);
    free(s);
    json_decref(o);
    lm.step = -1, lm.tokens = -1;
    o = lms_eval_domain_json(&lm, "domain:all", 1000, 2.5, 1.25, 4000, 0.5);
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECKF(s && strstr(s, "\"step\":null,\"tokens\":null,") &&
           strstr(s, "\"suite\":\"domain:all\",\"kind\":\"domain\",\"n\":1000,\"loss\":2.5,\"bpb\":1.25,\"tokens_scored\":1000,"
                     "\"bytes_scored\":4000,\"time_s\":0.5}"), "%s", s);
    free(s);
    json_decref(o);
}

/* Two suites of one name would write one samples file. */
static void test_log_names(void) {
    char dir[] = "/tmp/lms_cmdlib_XXXXXX", a[600], b[600], c[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(a, sizeof a, "%s/x.jsonl", dir);
    snprintf(b, sizeof b, "%s/x.csv", dir);
    snprintf(c, sizeof c, "%s/y.jsonl", dir);
    write_file(a, "");
    write_file(b, "prompt,classes,answer_index\n");
    write_file(c, "");
    char *ok[] = {a, c}, *dup[] = {a, c, b};
    lms_err err = {0};
    CHECK(lms_eval_log_names_check(ok, 2, &err) == LMS_OK);
    CHECK(lms_eval_log_names_check(dup, 3, &err) == LMS_ERR_ARG);
    CHECKF(strstr(err.msg, "both named 'x'") && strstr(err.msg, a) && strstr(err.msg, b), "%s", err.msg);
    unlink(a), unlink(b), unlink(c), rmdir(dir);
}

/* The prompt's ids: encoded, or the start token; too long for the context is LMS_ERR_ARG. */
static void test_prompt(void) {
    lms_tokenizer *t = lms_tokenizer_bytes();
    CHECK(t != NULL);
    if (!t) return;
    CHECK(lms_generate_start_token(t) == 10); /* bytes: no end-of-text, so the newline */
    lms_ids ids = {0};
    lms_err err = {0};
    CHECK(lms_generate_prompt(t, "", 0, 8, &ids, &err) == LMS_OK && ids.n == 1 && ids.ids[0] == 10);
    lms_ids_free(&ids);
    CHECK(lms_generate_prompt(t, "hello", 5, 8, &ids, &err) == LMS_OK && ids.n == 5 && ids.ids[0] == 'h');
    lms_ids_free(&ids);
    CHECK(lms_generate_prompt(t, "hello world", 11, 8, &ids, &err) == LMS_ERR_ARG);
    CHECKF(strstr(err.msg, "the prompt is 11 tokens but this model's context is 8"), "%s", err.msg);
    lms_ids_free(&ids);
    lms_tokenizer_free(t);
}

/* Rows grouped by suite (sorted), x from the chosen field, rows without it skipped; domain rows -loss. */
static void test_shape_table(void) {
    char path[] = "/tmp/lms_cmdlib_rows_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    write_file(path, "{\"suite\":\"b\",\"flops\":1,\"acc\":0.1,\"acc_se\":0.01,\"logp\":-3,\"logp_se\":0.1}\n"
                     "{\"suite\":\"b\",\"flops\":10,\"acc\":0.1,\"acc_se\":0.01,\"logp\":-3,\"logp_se\":0.1}\n"
                     "{\"suite\":\"b\",\"flops\":100,\"acc\":0.9,\"acc_se\":0.01,\"logp\":-1,\"logp_se\":0.1}\n"
                     "{\"suite\":\"a\",\"kind\":\"domain\",\"flops\":1,\"loss\":3}\n"
                     "{\"suite\":\"a\",\"step\":3,\"acc\":0.5,\"acc_se\":0.1}\n");
    const char *files[] = {path};
    lms_shape_table t;
    lms_err err = {0};
    CHECKF(lms_shape_table_read(&t, files, 1, "flops", "logp", &err) == LMS_OK, "%s", err.msg);
    CHECK(t.n == 2 && t.skipped == 1);
    lms_shape_table_label(&t, NULL);
    CHECK(t.n == 2 && !strcmp(t.s[0].name, "a") && t.s[0].domain && t.s[0].exact && t.s[0].cont.n == 1 && t.s[0].cont.p[0].y == -3);
    CHECK(t.n == 2 && !strcmp(t.s[1].name, "b") && t.s[1].ldisc.ok && t.s[1].ldisc.r.n == 3 && !t.s[0].ldisc.have);
    CHECK(!strcmp(lms_shape_label_text(&t.s[0].ldisc), "-"));
    json_t *o = lms_shape_suite_json(&t, 0);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(o, "continuous"), "metric")), "-loss") &&
          json_is_null(json_object_get(o, "discrete")));
    json_decref(o);
    lms_shape_table_free(&t);
    write_file(path, "{\"suite\":\"b\",\"flops\":1,\"acc\":0.1}\n");
    CHECK(lms_shape_table_read(&t, files, 1, "flops", "logp", &err) == LMS_ERR_FORMAT && strstr(err.msg, ":1") &&
          strstr(err.msg, "\"acc\" without \"acc_se\""));
    lms_shape_table_free(&t);
    unlink(path);
}

TESTS(test_open_data_steps, test_rows, test_log_names, test_prompt, test_shape_table)
