/* config.c — the training config: defaults, checks, "auto" resolution, and config.json (jansson).
 * Leaves out: anything that needs the data (train_data.c) or the loop (train.c). */
#include "train/train.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fileio.h"
#include "model/score.h"

void lms_train_config_defaults(lms_train_config *c) {
    memset(c, 0, sizeof *c);
    c->batch = 8;
    c->accum = 1;
    c->steps = 1000;
    c->lr = 3e-4f;
    c->schedule = LMS_SCHED_COSINE;
    c->warmup = -1;
    c->decay_steps = 0;
    c->min_lr_frac = 0.1f;
    c->decay_frac = 0.2f;
    c->weight_decay = 0.1f;
    c->beta1 = 0.9f;
    c->beta2 = 0.95f;
    c->eps = 1e-8f;
    c->grad_clip = 1.0f;
    c->seed = 1;
    c->threads = 0;
    c->eval_interval = -1;
    c->eval_batches = -1;
    c->ckpt_interval = -1;
    c->log_interval = 1;
    c->keep_checkpoints = 2;
}

lms_status lms_train_config_add_data(lms_train_config *c, const char *path, lms_err *err) {
    if (c->n_data >= LMS_TRAIN_MAX_DATA)
        return lms_errf(err, LMS_ERR_ARG, "too many --data paths (at most %d); join the text files or use a shards dir",
                        LMS_TRAIN_MAX_DATA);
    if (!path || !path[0]) return lms_errf(err, LMS_ERR_ARG, "--data needs a path");
    if (strlen(path) >= LMS_TRAIN_PATH) return lms_errf(err, LMS_ERR_ARG, "--data path too long: %.80s...", path);
    strcpy(c->data[c->n_data++], path);
    return LMS_OK;
}

const char *lms_sched_name(lms_sched_kind k) {
    switch (k) {
    case LMS_SCHED_CONSTANT: return "constant";
    case LMS_SCHED_COSINE: return "cosine";
    case LMS_SCHED_WSD: return "wsd";
    }
    return "?";
}

int lms_sched_parse(const char *s, lms_sched_kind *out) {
    if (!s) return -1;
    if (!strcmp(s, "constant")) *out = LMS_SCHED_CONSTANT;
    else if (!strcmp(s, "cosine")) *out = LMS_SCHED_COSINE;
    else if (!strcmp(s, "wsd")) *out = LMS_SCHED_WSD;
    else return -1;
    return 0;
}

lms_status lms_train_config_check(const lms_train_config *c, lms_err *err) {
    const lms_gpt_config *m = &c->model;
    int lo = c->init[0] ? 0 : 1; /* with --init, 0 = the init model's */
    if (m->n_layer < lo) return lms_errf(err, LMS_ERR_ARG, "--layers must be at least 1 (got %d)", m->n_layer);
    if (m->n_head < lo) return lms_errf(err, LMS_ERR_ARG, "--heads must be at least 1 (got %d)", m->n_head);
    if (m->n_embd < lo) return lms_errf(err, LMS_ERR_ARG, "--dim must be at least 1 (got %d)", m->n_embd);
    if (m->n_head && m->n_embd % m->n_head)
        return lms_errf(err, LMS_ERR_ARG, "--heads %d does not divide --dim %d; pick a width that is a multiple of the heads (e.g. --dim %d)",
                        m->n_head, m->n_embd, (m->n_embd / m->n_head + 1) * m->n_head);
    if (m->n_ctx < lo) return lms_errf(err, LMS_ERR_ARG, "--ctx must be at least 1 (got %d)", m->n_ctx);
    if (m->vocab_size < 0) return lms_errf(err, LMS_ERR_ARG, "vocab size must not be negative");
    if (c->batch < 1) return lms_errf(err, LMS_ERR_ARG, "--batch must be at least 1 (got %d)", c->batch);
    if (c->accum < 1) return lms_errf(err, LMS_ERR_ARG, "--accum must be at least 1 (got %d)", c->accum);
    if (c->steps < 1) return lms_errf(err, LMS_ERR_ARG, "--steps must be at least 1 (got %lld)", (long long)c->steps);
    if (!(c->lr > 0) || !isfinite(c->lr))
        return lms_errf(err, LMS_ERR_ARG, "--lr must be a positive number (got %g); try 3e-4 to 3e-3", (double)c->lr);
    if (c->warmup < -1) return lms_errf(err, LMS_ERR_ARG, "--warmup must be >= 0 (got %lld)", (long long)c->warmup);
    if (c->decay_steps < 0) return lms_errf(err, LMS_ERR_ARG, "--decay-steps must be >= 0");
    if (!(c->min_lr_frac >= 0 && c->min_lr_frac <= 1))
        return lms_errf(err, LMS_ERR_ARG, "--min-lr-frac must be in [0, 1] (got %g)", (double)c->min_lr_frac);
    if (!(c->decay_frac >= 0 && c->decay_frac <= 1))
        return lms_errf(err, LMS_ERR_ARG, "--decay-frac must be in [0, 1] (got %g)", (double)c->decay_frac);
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
        return lms_errf(err, LMS_ERR_ARG, "--weight-decay must be >= 0 (got %g)", (double)c->weight_decay);
    if (!(c->beta1 >= 0 && c->beta1 < 1)) return lms_errf(err, LMS_ERR_ARG, "--beta1 must be in [0, 1) (got %g)", (double)c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1)) return lms_errf(err, LMS_ERR_ARG, "--beta2 must be in [0, 1) (got %g)", (double)c->beta2);
    if (!(c->eps > 0)) return lms_errf(err, LMS_ERR_ARG, "--eps must be positive (got %g)", (double)c->eps);
    if (!(c->grad_clip >= 0) || !isfinite(c->grad_clip))
        return lms_errf(err, LMS_ERR_ARG, "--grad-clip must be >= 0 (0 disables clipping; got %g)", (double)c->grad_clip);
    if (c->threads < 0) return lms_errf(err, LMS_ERR_ARG, "--threads must be >= 0 (0 = all cores)");
    if (c->eval_interval < -1 || c->eval_interval == 0)
        return lms_errf(err, LMS_ERR_ARG, "--eval-interval must be >= 1 (got %d)", c->eval_interval);
    if (c->eval_batches < -1 || c->eval_batches == 0)
        return lms_errf(err, LMS_ERR_ARG, "--eval-batches must be >= 1, or -1 for one per data domain and at least 8 (got %d)",
                        c->eval_batches);
    if (c->ckpt_interval < -1) return lms_errf(err, LMS_ERR_ARG, "--ckpt-interval must be >= 0 (0 = only at the end)");
    if (c->log_interval < 1) return lms_errf(err, LMS_ERR_ARG, "--log-interval must be >= 1 (got %d)", c->log_interval);
    if (c->keep_checkpoints < 1) return lms_errf(err, LMS_ERR_ARG, "--keep must be >= 1 (got %d)", c->keep_checkpoints);
    if (c->n_data < 1) return lms_errf(err, LMS_ERR_ARG, "no training data: give --data FILE.txt (or a shards dir)");
    return LMS_OK;
}

void lms_train_config_resolve(lms_train_config *c) {
    if (c->warmup < 0) {
        int64_t w = c->steps / 20;
        c->warmup = w > 1000 ? 1000 : w;
    }
    if (c->eval_interval < 0) {
        /* 20 measurements per run, but at least 25 steps apart: eval_batches forward passes
           cost about eval_batches/3 training steps, so this keeps validation under ~10% */
        int64_t e = c->steps / 20;
        c->eval_interval = e < 25 ? 25 : e > 500 ? 500 : (int)e;
    }
    if (c->ckpt_interval < 0) {
        int64_t k = c->steps / 5;
        c->ckpt_interval = k < 100 ? 100 : k > 1000 ? 1000 : (int)k;
    }
    if (c->threads == 0) c->threads = lms_cpu()->threads;
    /* The decay horizon is fixed when the run starts, so that a resume with a larger --steps
       continues the same schedule (at its final lr past the horizon) instead of re-planning it. */
    if (c->decay_steps <= 0 && c->schedule != LMS_SCHED_CONSTANT) c->decay_steps = c->steps;
}

uint64_t lms_train_plan_bytes(const lms_train_config *c) {
    if (lms_gpt_config_check(&c->model, NULL) || c->batch < 1) return 0;
    uint64_t np = (uint64_t)lms_gpt_config_num_params(&c->model);
    uint64_t tokens = (uint64_t)c->batch * (uint64_t)c->model.n_ctx;
    /* parameters, gradients, AdamW m and v: four float buffers of the parameter layout; the
       training activations; the validation scorer's scratch; the batch's token ids */
    return 16 * np + lms_gpt_activation_bytes(&c->model, c->batch, c->model.n_ctx) +
           lms_scorer_bytes(&c->model, c->batch, c->model.n_ctx) + 2 * tokens * sizeof(int32_t);
}

lms_schedule lms_train_config_schedule(const lms_train_config *c) {
    lms_schedule s;
    memset(&s, 0, sizeof s);
    s.kind = c->schedule;
    s.lr = c->lr;
    s.warmup = c->warmup < 0 ? 0 : c->warmup;
    s.total = c->decay_steps > 0 ? c->decay_steps : c->steps;
    s.min_lr_frac = c->min_lr_frac;
    s.decay_frac = c->decay_frac;
    return s;
}

/* Floats are stored as doubles of the float's exact value, so a load gives the same bits back. */
char *lms_train_config_to_json(const lms_train_config *c) {
    json_t *o = json_object();
    json_t *m = json_object();
    json_object_set_new(m, "n_layer", json_integer(c->model.n_layer));
    json_object_set_new(m, "n_head", json_integer(c->model.n_head));
    json_object_set_new(m, "n_embd", json_integer(c->model.n_embd));
    json_object_set_new(m, "n_ctx", json_integer(c->model.n_ctx));
    json_object_set_new(m, "vocab_size", json_integer(c->model.vocab_size));
    json_object_set_new(o, "format", json_string("lmscope-run-config"));
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "model", m);
    json_object_set_new(o, "batch", json_integer(c->batch));
    json_object_set_new(o, "accum", json_integer(c->accum));
    json_object_set_new(o, "steps", json_integer(c->steps));
    json_object_set_new(o, "lr", json_real(c->lr));
    json_object_set_new(o, "schedule", json_string(lms_sched_name(c->schedule)));
    json_object_set_new(o, "warmup", json_integer(c->warmup));
    json_object_set_new(o, "decay_steps", json_integer(c->decay_steps));
    json_object_set_new(o, "min_lr_frac", json_real(c->min_lr_frac));
    json_object_set_new(o, "decay_frac", json_real(c->decay_frac));
    json_object_set_new(o, "weight_decay", json_real(c->weight_decay));
    json_object_set_new(o, "beta1", json_real(c->beta1));
    json_object_set_new(o, "beta2", json_real(c->beta2));
    json_object_set_new(o, "eps", json_real(c->eps));
    json_object_set_new(o, "grad_clip", json_real(c->grad_clip));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    json_object_set_new(o, "seed", json_string(seed)); /* a string: JSON numbers lose 64-bit seeds */
    json_object_set_new(o, "threads", json_integer(c->threads));
    json_object_set_new(o, "eval_interval", json_integer(c->eval_interval));
    json_object_set_new(o, "eval_batches", json_integer(c->eval_batches));
    json_object_set_new(o, "ckpt_interval", json_integer(c->ckpt_interval));
    json_object_set_new(o, "log_interval", json_integer(c->log_interval));
    json_object_set_new(o, "keep_checkpoints", json_integer(c->keep_checkpoints));
    json_t *d = json_array();
    for (int i = 0; i < c->n_data; i++) json_array_append_new(d, json_string(c->data[i]));
    json_object_set_new(o, "data", d);
    json_object_set_new(o, "tokenizer", json_string(c->tokenizer));
    json_object_set_new(o, "tokenizer_hash", json_string(c->tokenizer_hash));
    json_object_set_new(o, "mix", json_string(c->mix));
    json_object_set_new(o, "init", json_string(c->init));
    json_object_set_new(o, "save_log_steps", json_boolean(c->save_log_steps));
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

static int get_int64(json_t *o, const char *k, int64_t *v) {
    json_t *x = json_object_get(o, k);
    if (!json_is_integer(x)) return -1;
    *v = json_integer_value(x);
    return 0;
}

static int get_int(json_t *o, const char *k, int *v) {
    int64_t x;
    if (get_int64(o, k, &x) || x < -2147483647LL || x > 2147483647LL) return -1;
    *v = (int)x;
    return 0;
}

static int get_float(json_t *o, const char *k, float *v) {
    json_t *x = json_object_get(o, k);
    if (!json_is_number(x)) return -1;
    *v = (float)json_number_value(x);
    return 0;
}

static int get_str(json_t *o, const char *k, char *out, size_t cap) {
    json_t *x = json_object_get(o, k);
    if (!json_is_string(x) || strlen(json_string_value(x)) >= cap) return -1;
    strcpy(out, json_string_value(x));
    return 0;
}

lms_status lms_train_config_from_json(lms_train_config *c, const char *text, lms_err *err) {
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o) return lms_errf(err, LMS_ERR_FORMAT, "config is not valid JSON (line %d: %s)", je.line, je.text);
    lms_train_config_defaults(c);
    const char *bad = NULL;
    json_t *m = json_object_get(o, "model");
    char sched[32], seed[32];
    if (!json_is_object(o)) bad = "(top level must be an object)";
    else if (!json_is_object(m)) bad = "model";
    else if (get_int(m, "n_layer", &c->model.n_layer)) bad = "model.n_layer";
    else if (get_int(m, "n_head", &c->model.n_head)) bad = "model.n_head";
    else if (get_int(m, "n_embd", &c->model.n_embd)) bad = "model.n_embd";
    else if (get_int(m, "n_ctx", &c->model.n_ctx)) bad = "model.n_ctx";
    else if (get_int(m, "vocab_size", &c->model.vocab_size)) bad = "model.vocab_size";
    else if (get_int(o, "batch", &c->batch)) bad = "batch";
    else if (get_int(o, "accum", &c->accum)) bad = "accum";
    else if (get_int64(o, "steps", &c->steps)) bad = "steps";
    else if (get_float(o, "lr", &c->lr)) bad = "lr";
    else if (get_str(o, "schedule", sched, sizeof sched) || lms_sched_parse(sched, &c->schedule)) bad = "schedule";
    else if (get_int64(o, "warmup", &c->warmup)) bad = "warmup";
    else if (get_int64(o, "decay_steps", &c->decay_steps)) bad = "decay_steps";
    else if (get_float(o, "min_lr_frac", &c->min_lr_frac)) bad = "min_lr_frac";
    else if (get_float(o, "decay_frac", &c->decay_frac)) bad = "decay_frac";
    else if (get_float(o, "weight_decay", &c->weight_decay)) bad = "weight_decay";
    else if (get_float(o, "beta1", &c->beta1)) bad = "beta1";
    else if (get_float(o, "beta2", &c->beta2)) bad = "beta2";
    else if (get_float(o, "eps", &c->eps)) bad = "eps";
    else if (get_float(o, "grad_clip", &c->grad_clip)) bad = "grad_clip";
    else if (get_str(o, "seed", seed, sizeof seed)) bad = "seed";
    else if (get_int(o, "threads", &c->threads)) bad = "threads";
    else if (get_int(o, "eval_interval", &c->eval_interval)) bad = "eval_interval";
    else if (get_int(o, "eval_batches", &c->eval_batches)) bad = "eval_batches";
    else if (get_int(o, "ckpt_interval", &c->ckpt_interval)) bad = "ckpt_interval";
    else if (get_int(o, "log_interval", &c->log_interval)) bad = "log_interval";
    else if (get_int(o, "keep_checkpoints", &c->keep_checkpoints)) bad = "keep_checkpoints";
    else if (get_str(o, "tokenizer", c->tokenizer, sizeof c->tokenizer)) bad = "tokenizer";
    else if (get_str(o, "tokenizer_hash", c->tokenizer_hash, sizeof c->tokenizer_hash)) bad = "tokenizer_hash";
    else if (get_str(o, "mix", c->mix, sizeof c->mix)) bad = "mix";
    /* optional: runs written before these fields existed lack them */
    else if (json_object_get(o, "init") && get_str(o, "init", c->init, sizeof c->init)) bad = "init";
    else if (json_object_get(o, "save_log_steps") && !json_is_boolean(json_object_get(o, "save_log_steps"))) bad = "save_log_steps";
    if (!bad) c->save_log_steps = json_is_true(json_object_get(o, "save_log_steps"));
    if (!bad) {
        char *end = NULL;
        c->seed = strtoull(seed, &end, 10);
        if (end == seed || *end) bad = "seed";
    }
    if (!bad) {
        json_t *d = json_object_get(o, "data");
        if (!json_is_array(d) || json_array_size(d) > LMS_TRAIN_MAX_DATA) bad = "data";
        else
            for (size_t i = 0; i < json_array_size(d) && !bad; i++) {
                json_t *x = json_array_get(d, i);
                if (!json_is_string(x) || strlen(json_string_value(x)) >= LMS_TRAIN_PATH) bad = "data";
                else strcpy(c->data[c->n_data++], json_string_value(x));
            }
    }
    json_decref(o);
    if (bad) return lms_errf(err, LMS_ERR_FORMAT, "config field '%s' is missing or has the wrong type", bad);
    return LMS_OK;
}

lms_status lms_train_config_save(const lms_train_config *c, const char *path, lms_err *err) {
    char *s = lms_train_config_to_json(c);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory writing %s", path);
    size_t n = strlen(s);
    char *t = malloc(n + 2);
    if (!t) {
        free(s);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory writing %s", path);
    }
    memcpy(t, s, n);
    t[n] = '\n';
    t[n + 1] = 0;
    free(s);
    lms_status st = lms_file_write_all(path, t, n + 1, err);
    free(t);
    return st;
}

lms_status lms_train_config_load(lms_train_config *c, const char *path, lms_err *err) {
    char *data = NULL;
    size_t len = 0;
    lms_status st = lms_file_read_all(path, &data, &len, err);
    if (st) return st;
    st = lms_train_config_from_json(c, data, err);
    free(data);
    if (st) return lms_err_prefix(err, "%s: ", path);
    return LMS_OK;
}
