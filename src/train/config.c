/* config.c — the training config: the config-field table (train.h), the one schema of a run, and
 * what is generated from it here (defaults, config.json both ways, resume overrides, the metrics
 * fields, a field's JSON value and default), checks, "auto" resolution.
 * Leaves out: anything that needs the data (train_data.c) or the loop (train.c); the flags
 * (job.c), the grid keys (scaling/sweep_grid.c), the results.db columns (scaling/db.c). */
#include "train/train.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fileio.h"
#include "kernels/kernels.h"
#include "model/score.h"

static const char *sched_name(int v) { return lms_sched_name((lms_sched_kind)v); }
static int sched_parse(const char *s, int *out) {
    lms_sched_kind k;
    if (lms_sched_parse(s, &k)) return -1;
    *out = (int)k;
    return 0;
}
_Static_assert(sizeof(lms_sched_kind) == sizeof(int), "ENUM fields are stored as int");
static const char *precision_name(int v) { return v == LMS_PRECISION_BF16 ? "bf16" : "fp32"; }
static int precision_parse(const char *s, int *out) {
    if (!strcmp(s, "fp32")) *out = LMS_PRECISION_FP32;
    else if (!strcmp(s, "bf16")) *out = LMS_PRECISION_BF16;
    else return -1;
    return 0;
}

#define OFF(f) offsetof(lms_train_config, f)
#define MOFF(f) (offsetof(lms_train_config, model) + offsetof(lms_gpt_config, f))
#define CAP(f) sizeof(((lms_train_config *)0)->f)
/* The one list of saved config fields (see train.h); its order is config.json's key order, the
 * order of the `train` flags in --help, of the grid keys in the canonical grid JSON and of the
 * config columns that results.db gains after schema 1's. */
static const lms_train_field g_fields[] = {
    {.key = "n_layer", .flag = "layers", .type = LMS_TF_INT, .offset = MOFF(n_layer), .cli_def = 4, .help = "transformer blocks",
     .flags = LMS_TF_MODEL | LMS_TF_CLI_DEF | LMS_TF_DB},
    {.key = "n_head", .flag = "heads", .type = LMS_TF_INT, .offset = MOFF(n_head), .cli_def = 4,
     .help = "attention heads (must divide --dim)", .flags = LMS_TF_MODEL | LMS_TF_CLI_DEF | LMS_TF_DB},
    {.key = "n_embd", .flag = "dim", .type = LMS_TF_INT, .offset = MOFF(n_embd), .cli_def = 128, .help = "model width",
     .flags = LMS_TF_MODEL | LMS_TF_CLI_DEF | LMS_TF_DB},
    {.key = "n_ctx", .flag = "ctx", .grid = "ctx", .type = LMS_TF_INT, .offset = MOFF(n_ctx), .cli_def = 128, .lo = 2, .hi = 1 << 16,
     .help = "context length (tokens per sequence)", .flags = LMS_TF_MODEL | LMS_TF_CLI_DEF | LMS_TF_DB},
    {.key = "vocab_size", .flag = "vocab", .type = LMS_TF_INT, .offset = MOFF(vocab_size),
     .help = "vocabulary size; 0 = the tokenizer's / the shards'", .flags = LMS_TF_MODEL | LMS_TF_DB},
    {.key = "batch", .flag = "batch", .grid = "batch", .type = LMS_TF_INT, .offset = OFF(batch), .def = 8, .cli_def = 16, .lo = 1,
     .hi = 1 << 16, .help = "sequences per micro-batch", .flags = LMS_TF_CLI_DEF | LMS_TF_DB},
    {.key = "accum", .flag = "accum", .grid = "accum", .type = LMS_TF_INT, .offset = OFF(accum), .def = 1, .lo = 1, .hi = 1 << 16,
     .help = "micro-batches per step (gradient accumulation)", .flags = LMS_TF_DB},
    {.key = "steps", .flag = "steps", .type = LMS_TF_I64, .offset = OFF(steps), .def = 1000,
     .help = "optimizer steps (with --resume: the new total)", .flags = LMS_TF_DB},
    {.key = "lr", .flag = "lr", .type = LMS_TF_FLOAT, .offset = OFF(lr), .def = 3e-4, .cli_def = 1e-3, .help = "peak learning rate",
     .over = LMS_TRAIN_OVER_LR, .flags = LMS_TF_CLI_DEF | LMS_TF_DB},
    {.key = "schedule", .flag = "schedule", .type = LMS_TF_ENUM, .offset = OFF(schedule), .def = LMS_SCHED_COSINE,
     .help = "constant | cosine | wsd", .flags = LMS_TF_DB, .name = sched_name, .parse = sched_parse,
     .choices = "constant, cosine or wsd"},
    {.key = "warmup", .flag = "warmup", .type = LMS_TF_I64, .offset = OFF(warmup), .def = -1,
     .help = "warmup steps; -1 = steps/20 (at most 1000)"},
    {.key = "decay_steps", .flag = "decay-steps", .type = LMS_TF_I64, .offset = OFF(decay_steps),
     .help = "cosine/wsd decay horizon in steps; 0 = --steps (kept when --resume extends --steps)", .over = LMS_TRAIN_OVER_DECAY},
    {.key = "min_lr_frac", .flag = "min-lr-frac", .type = LMS_TF_FLOAT, .offset = OFF(min_lr_frac), .def = 0.1,
     .help = "final lr as a fraction of --lr"},
    {.key = "decay_frac", .flag = "decay-frac", .grid = "cooldown", .type = LMS_TF_FLOAT, .offset = OFF(decay_frac), .def = 0.2,
     .lo = 0, .hi = 1, .help = "wsd: fraction of the steps spent decaying"},
    {.key = "weight_decay", .flag = "weight-decay", .type = LMS_TF_FLOAT, .offset = OFF(weight_decay), .def = 0.1,
     .help = "AdamW weight decay (matrices and embeddings)"},
    {.key = "beta1", .flag = "beta1", .type = LMS_TF_FLOAT, .offset = OFF(beta1), .def = 0.9, .help = "AdamW beta1"},
    {.key = "beta2", .flag = "beta2", .type = LMS_TF_FLOAT, .offset = OFF(beta2), .def = 0.95, .help = "AdamW beta2"},
    {.key = "eps", .type = LMS_TF_FLOAT, .offset = OFF(eps), .def = 1e-8, .help = "AdamW epsilon"},
    {.key = "grad_clip", .flag = "grad-clip", .type = LMS_TF_FLOAT, .offset = OFF(grad_clip), .def = 1.0,
     .help = "clip the global gradient norm to this; 0 = off"},
    {.key = "seed", .flag = "seed", .grid = "seed", .type = LMS_TF_SEED, .offset = OFF(seed), .def = 1, .lo = 0, .hi = 0x7fffffff,
     .help = "init and trainer RNG; the data order too unless --data-seed is set"},
    {.key = "data_seed", .flag = "data-seed", .grid = "data_seed", .type = LMS_TF_SEED, .offset = OFF(data_seed), .lo = 0,
     .hi = 0x7fffffff, .help = "seed for the data order alone (the model's init keeps --seed); 0 = --seed", .report = "data seed",
     .flags = LMS_TF_DB | LMS_TF_SPARSE | LMS_TF_GRID_SPARSE},
    {.key = "threads", .flag = "threads", .grid = "threads", .type = LMS_TF_INT, .offset = OFF(threads), .lo = 0, .hi = 4096,
     .help = "threads; 0 = all cores (the loss curve is exact for a fixed count)", .over = LMS_TRAIN_OVER_THREADS,
     .flags = LMS_TF_GRID_NOSAVE},
    {.key = "eval_interval", .flag = "eval-interval", .type = LMS_TF_INT, .offset = OFF(eval_interval), .def = -1,
     .help = "validation loss every N steps; -1 = steps/20 within [25, 500]", .over = LMS_TRAIN_OVER_EVAL,
     .flags = LMS_TF_ZERO_KEEPS},
    {.key = "eval_batches", .flag = "eval-batches", .type = LMS_TF_INT, .offset = OFF(eval_batches), .def = -1,
     .help = "validation batches per measurement; -1 = one per data domain, at least 8", .over = LMS_TRAIN_OVER_EVAL,
     .flags = LMS_TF_ZERO_KEEPS},
    {.key = "ckpt_interval", .flag = "ckpt-interval", .type = LMS_TF_INT, .offset = OFF(ckpt_interval), .def = -1,
     .help = "checkpoint every N steps; -1 = auto; 0 = only at the end", .over = LMS_TRAIN_OVER_CKPT},
    {.key = "log_interval", .flag = "log-interval", .type = LMS_TF_INT, .offset = OFF(log_interval), .def = 1,
     .help = "metrics.jsonl line every N steps", .over = LMS_TRAIN_OVER_LOG},
    {.key = "keep_checkpoints", .flag = "keep", .type = LMS_TF_INT, .offset = OFF(keep_checkpoints), .def = 2,
     .help = "checkpoints to keep (not counting --save-log-steps ones)"},
    {.key = "data", .flag = "data", .grid = "data", .type = LMS_TF_DATA, .offset = OFF(data),
     .help = "text file(s) (more may follow as arguments) or a shards dir with manifest.json", .flags = LMS_TF_CLI_OWN},
    {.key = "tokenizer", .flag = "tokenizer", .grid = "tokenizer", .type = LMS_TF_STR, .offset = OFF(tokenizer), .cap = CAP(tokenizer),
     .help = "tokenizer dir (vocab.json + merges.txt) or 'bytes'; default: bytes, or the shards' own", .flags = LMS_TF_CLI_OWN},
    {.key = "tokenizer_hash", .type = LMS_TF_STR, .offset = OFF(tokenizer_hash), .cap = CAP(tokenizer_hash),
     .help = "the tokenizer's hash (filled when the data is opened)"},
    {.key = "mix", .flag = "mix", .grid = "mix", .type = LMS_TF_STR, .offset = OFF(mix), .cap = CAP(mix),
     .help = "domain weights for shards, e.g. quotes=2,news=1 (default: natural)", .flags = LMS_TF_CLI_OWN | LMS_TF_GRID_SPARSE},
    {.key = "init", .flag = "init", .type = LMS_TF_STR, .offset = OFF(init), .cap = CAP(init),
     .help = "start from this model's weights (run dir, checkpoint, Hugging Face GPT-2 dir or model.safetensors, llm.c .bin) with "
             "a fresh optimizer; the shape comes from it",
     .flags = LMS_TF_CLI_OWN | LMS_TF_OPTIONAL},
    {.key = "save_log_steps", .flag = "save-log-steps", .type = LMS_TF_BOOL, .offset = OFF(save_log_steps),
     .help = "also keep checkpoints at steps 0, 1, 2, 4, 8, ... (never pruned)", .flags = LMS_TF_OPTIONAL},
    {.key = "precision", .flag = "precision", .grid = "precision", .type = LMS_TF_ENUM, .offset = OFF(precision),
     .def = LMS_PRECISION_FP32, .help = "fp32 | bf16 (bfloat16 matrix products with fp32 sums; needs AVX512-BF16; fixed for the run)",
     .flags = LMS_TF_OPTIONAL | LMS_TF_METRICS | LMS_TF_GRID_SPARSE, .name = precision_name, .parse = precision_parse,
     .choices = "fp32 or bf16"},
};
#define N_FIELDS ((int)(sizeof g_fields / sizeof g_fields[0]))
_Static_assert(sizeof g_fields / sizeof g_fields[0] <= LMS_TRAIN_MAX_FIELDS, "one bit per row in a uint64_t");

const lms_train_field *lms_train_fields(int *n) {
    *n = N_FIELDS;
    return g_fields;
}

const lms_train_field *lms_train_field_find(const char *name) {
    for (int i = 0; i < N_FIELDS; i++)
        if (!strcmp(g_fields[i].key, name) || (g_fields[i].flag && !strcmp(g_fields[i].flag, name))) return &g_fields[i];
    return NULL;
}

const lms_train_field *lms_train_field_grid(const char *name) {
    for (int i = 0; i < N_FIELDS; i++)
        if (g_fields[i].grid && !strcmp(g_fields[i].grid, name)) return &g_fields[i];
    return NULL;
}

void *lms_train_field_ptr(lms_train_config *c, const lms_train_field *f) { return (char *)c + f->offset; }
const void *lms_train_field_cptr(const lms_train_config *c, const lms_train_field *f) { return (const char *)c + f->offset; }

#define FIELD(c, f, T) ((T *)lms_train_field_ptr(c, f))
#define CFIELD(c, f, T) ((const T *)lms_train_field_cptr(c, f))

void lms_train_config_defaults(lms_train_config *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N_FIELDS; i++) {
        const lms_train_field *f = &g_fields[i];
        switch (f->type) {
        case LMS_TF_INT: case LMS_TF_ENUM: case LMS_TF_BOOL: *FIELD(c, f, int) = (int)f->def; break;
        case LMS_TF_I64: *FIELD(c, f, int64_t) = (int64_t)f->def; break;
        case LMS_TF_SEED: *FIELD(c, f, uint64_t) = (uint64_t)f->def; break;
        case LMS_TF_FLOAT: *FIELD(c, f, float) = (float)f->def; break;
        case LMS_TF_STR: case LMS_TF_DATA: break; /* "" and no data */
        }
    }
}

void lms_train_config_cli_defaults(lms_train_config *c) {
    lms_train_config_defaults(c);
    for (int i = 0; i < N_FIELDS; i++) {
        const lms_train_field *f = &g_fields[i];
        if (!(f->flags & LMS_TF_CLI_DEF)) continue;
        if (f->type == LMS_TF_INT) *FIELD(c, f, int) = (int)f->cli_def;
        else if (f->type == LMS_TF_FLOAT) *FIELD(c, f, float) = (float)f->cli_def;
    }
}

int lms_train_field_is_default(const lms_train_config *c, const lms_train_field *f) {
    switch (f->type) {
    case LMS_TF_INT: case LMS_TF_ENUM: case LMS_TF_BOOL: return *CFIELD(c, f, int) == (int)f->def;
    case LMS_TF_I64: return *CFIELD(c, f, int64_t) == (int64_t)f->def;
    case LMS_TF_SEED: return *CFIELD(c, f, uint64_t) == (uint64_t)f->def;
    case LMS_TF_FLOAT: return *CFIELD(c, f, float) == (float)f->def;
    case LMS_TF_STR: return CFIELD(c, f, char)[0] == 0;
    case LMS_TF_DATA: return c->n_data == 0;
    }
    return 0;
}

int lms_train_config_apply_over(lms_train_config *c, const lms_train_config *over, unsigned mask) {
    int any = 0;
    for (int i = 0; i < N_FIELDS; i++) {
        const lms_train_field *f = &g_fields[i];
        if (!(f->over & mask)) continue;
        any = 1;
        size_t n = f->type == LMS_TF_I64 || f->type == LMS_TF_SEED ? 8 : f->type == LMS_TF_STR ? f->cap : 4;
        if (f->type == LMS_TF_DATA) continue; /* never a resume override */
        if ((f->flags & LMS_TF_ZERO_KEEPS) && f->type == LMS_TF_INT && *CFIELD(over, f, int) == 0) continue;
        memcpy(FIELD(c, f, char), CFIELD(over, f, char), n);
    }
    return any;
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
    if (c->precision != LMS_PRECISION_FP32 && c->precision != LMS_PRECISION_BF16)
        return lms_errf(err, LMS_ERR_ARG, "precision must be fp32 or bf16 (got %d)", c->precision);
    if (c->precision == LMS_PRECISION_BF16 && c->device[0] && strcmp(c->device, "cpu"))
        return lms_errf(err, LMS_ERR_ARG, "--precision bf16 runs on the CPU only: the %s table has no bf16 products yet; "
                        "use --precision fp32 on --device %s", c->device, c->device);
    if (c->precision == LMS_PRECISION_BF16 && !lms_ops_bf16())
        return lms_errf(err, LMS_ERR_ARG, "--precision bf16: %s", lms_ops_bf16_unavailable());
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
       training activations; the validation scorer's scratch; the batch's token ids; the packed
       weights of a table that keeps them (bf16) */
    const lms_ops *K = c->precision == LMS_PRECISION_BF16 ? lms_ops_bf16() : NULL;
    return 16 * np + lms_gpt_activation_bytes(&c->model, c->batch, c->model.n_ctx) +
           lms_scorer_bytes(&c->model, c->batch, c->model.n_ctx) + 2 * tokens * sizeof(int32_t) +
           lms_gpt_wpack_bytes(&c->model, K);
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

json_t *lms_train_field_json(const lms_train_config *c, const lms_train_field *f) {
    char seed[32];
    json_t *v = NULL;
    switch (f->type) {
    case LMS_TF_INT: return json_integer(*CFIELD(c, f, int));
    case LMS_TF_I64: return json_integer(*CFIELD(c, f, int64_t));
    case LMS_TF_SEED: /* a string: JSON numbers lose 64-bit seeds */
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)*CFIELD(c, f, uint64_t));
        return json_string(seed);
    case LMS_TF_FLOAT: return json_real(*CFIELD(c, f, float)); /* the float's exact value as a double */
    case LMS_TF_STR: return json_string(CFIELD(c, f, char));
    case LMS_TF_ENUM: return json_string(f->name(*CFIELD(c, f, int)));
    case LMS_TF_BOOL: return json_boolean(*CFIELD(c, f, int));
    case LMS_TF_DATA:
        v = json_array();
        for (int k = 0; v && k < c->n_data; k++) json_array_append_new(v, json_string(c->data[k]));
        return v;
    }
    return NULL;
}

void lms_train_config_put_metrics(json_t *o, const lms_train_config *c) {
    for (int i = 0; i < N_FIELDS; i++)
        if (g_fields[i].flags & LMS_TF_METRICS) json_object_set_new(o, g_fields[i].key, lms_train_field_json(c, &g_fields[i]));
}

/* Floats are stored as doubles of the float's exact value, so a load gives the same bits back. */
char *lms_train_config_to_json(const lms_train_config *c) {
    json_t *o = json_object();
    json_t *m = json_object();
    json_object_set_new(o, "format", json_string("lmscope-run-config"));
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "model", m);
    for (int i = 0; i < N_FIELDS; i++) {
        const lms_train_field *f = &g_fields[i];
        if ((f->flags & LMS_TF_SPARSE) && lms_train_field_is_default(c, f)) continue; /* older runs' bytes */
        json_object_set_new(f->flags & LMS_TF_MODEL ? m : o, f->key, lms_train_field_json(c, f));
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

/* One field from its JSON value; -1 when it has the wrong type or does not fit. */
static int get_field(lms_train_config *c, const lms_train_field *f, json_t *x) {
    int64_t v;
    switch (f->type) {
    case LMS_TF_INT:
        if (!json_is_integer(x) || (v = json_integer_value(x)) < -2147483647LL || v > 2147483647LL) return -1;
        *FIELD(c, f, int) = (int)v;
        return 0;
    case LMS_TF_I64:
        if (!json_is_integer(x)) return -1;
        *FIELD(c, f, int64_t) = json_integer_value(x);
        return 0;
    case LMS_TF_SEED: {
        char *end = NULL;
        if (!json_is_string(x) || strlen(json_string_value(x)) >= 32) return -1;
        const char *s = json_string_value(x);
        *FIELD(c, f, uint64_t) = strtoull(s, &end, 10);
        return end == s || *end ? -1 : 0;
    }
    case LMS_TF_FLOAT:
        if (!json_is_number(x)) return -1;
        *FIELD(c, f, float) = (float)json_number_value(x);
        return 0;
    case LMS_TF_STR:
        if (!json_is_string(x) || strlen(json_string_value(x)) >= f->cap) return -1;
        strcpy(FIELD(c, f, char), json_string_value(x));
        return 0;
    case LMS_TF_ENUM:
        if (!json_is_string(x) || strlen(json_string_value(x)) >= 32) return -1;
        return f->parse(json_string_value(x), FIELD(c, f, int));
    case LMS_TF_BOOL:
        if (!json_is_boolean(x)) return -1;
        *FIELD(c, f, int) = json_is_true(x);
        return 0;
    case LMS_TF_DATA:
        if (!json_is_array(x) || json_array_size(x) > LMS_TRAIN_MAX_DATA) return -1;
        for (size_t i = 0; i < json_array_size(x); i++) {
            json_t *p = json_array_get(x, i);
            if (!json_is_string(p) || strlen(json_string_value(p)) >= LMS_TRAIN_PATH) return -1;
            strcpy(c->data[c->n_data++], json_string_value(p));
        }
        return 0;
    }
    return -1;
}

lms_status lms_train_config_from_json(lms_train_config *c, const char *text, lms_err *err) {
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o) return lms_errf(err, LMS_ERR_FORMAT, "config is not valid JSON (line %d: %s)", je.line, je.text);
    lms_train_config_defaults(c);
    const char *bad = NULL;
    char badm[64];
    json_t *m = json_object_get(o, "model");
    if (!json_is_object(o)) bad = "(top level must be an object)";
    else if (!json_is_object(m)) bad = "model";
    for (int i = 0; i < N_FIELDS && !bad; i++) {
        const lms_train_field *f = &g_fields[i];
        json_t *x = json_object_get(f->flags & LMS_TF_MODEL ? m : o, f->key);
        if (!x && (f->flags & (LMS_TF_OPTIONAL | LMS_TF_SPARSE))) continue; /* a run written before the field existed: the default */
        if (get_field(c, f, x)) {
            if (f->flags & LMS_TF_MODEL) snprintf(badm, sizeof badm, "model.%s", f->key), bad = badm;
            else bad = f->key;
        }
    }
    if (bad) lms_errf(err, LMS_ERR_FORMAT, "config field '%s' is missing or has the wrong type", bad);
    json_decref(o);
    return bad ? LMS_ERR_FORMAT : LMS_OK;
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
