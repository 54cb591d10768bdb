/* job.c — the `train` command's options from the config-field table and opening the run they
 * describe, new or resumed (see job.h).
 * Leaves out: parsing and printing (src/cli/cmd_train.c), the training loop (train.c).
 */
#include "train/job.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "dist/dist.h"
#include "kernels/backend.h"
#include "kernels/kernels.h"

static void add_opt(lms_train_job *j, const char *name, lms_train_opt_type type, void *ptr, const char *help) {
    LMS_ASSERT(j->n_opt < LMS_TRAIN_JOB_MAX_OPTS); /* sized for the table's rows and the job's own */
    j->opt[j->n_opt++] = (lms_train_opt){name, type, ptr, help, 0};
}

void lms_train_job_init(lms_train_job *j) {
    memset(j, 0, sizeof *j);
    lms_train_config_cli_defaults(&j->c);
    j->device = "cpu";
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    add_opt(j, "data", LMS_TRAIN_OPT_STR, &j->data, lms_train_field_find("data")->help);
    add_opt(j, "out", LMS_TRAIN_OPT_STR, &j->out, "run directory (required)");
    add_opt(j, "resume", LMS_TRAIN_OPT_BOOL, &j->resume, "continue the run in --out from its latest checkpoint");
    add_opt(j, "init", LMS_TRAIN_OPT_STR, &j->init, lms_train_field_find("init")->help);
    add_opt(j, "tokenizer", LMS_TRAIN_OPT_STR, &j->tokenizer, lms_train_field_find("tokenizer")->help);
    add_opt(j, "mix", LMS_TRAIN_OPT_STR, &j->mix, lms_train_field_find("mix")->help);
    for (int i = 0; i < nf; i++) { /* every other saved field with a flag comes from the table */
        const lms_train_field *f = &tf[i];
        if (!f->flag || (f->flags & LMS_TF_CLI_OWN)) continue;
        void *ptr = lms_train_field_ptr(&j->c, f);
        lms_train_opt_type t = LMS_TRAIN_OPT_INT;
        switch (f->type) {
        case LMS_TF_INT: t = LMS_TRAIN_OPT_INT; break;
        case LMS_TF_I64: case LMS_TF_SEED: t = LMS_TRAIN_OPT_I64; break; /* a seed flag is an int64 (same bits as the uint64) */
        case LMS_TF_FLOAT: t = LMS_TRAIN_OPT_FLOAT; break;
        case LMS_TF_BOOL: t = LMS_TRAIN_OPT_BOOL; break;
        case LMS_TF_ENUM:
            t = LMS_TRAIN_OPT_STR;
            j->enum_str[i] = f->name(*(int *)ptr);
            ptr = &j->enum_str[i];
            break;
        case LMS_TF_STR: case LMS_TF_DATA: continue; /* paths: the job's own (above) */
        }
        add_opt(j, f->flag, t, ptr, f->help);
    }
    add_opt(j, "ignore-memory-check", LMS_TRAIN_OPT_BOOL, &j->ignore_mem, "start even if the model seems too big for the available memory");
}

int lms_train_job_seen(const lms_train_job *j, const char *name) {
    for (int i = 0; i < j->n_opt; i++)
        if (!strcmp(j->opt[i].name, name)) return j->opt[i].seen;
    return 0;
}

/* Absolute path (so a resumed run or 'sample' finds it from any directory). */
static int absolutize(char *dst, size_t cap, const char *src) {
    char rp[PATH_MAX];
    if (!realpath(src, rp)) return -1;
    if (strlen(rp) >= cap) return -1;
    strcpy(dst, rp);
    return 0;
}

/* --resume: only the fields the table lets it change, and the new --steps total. */
static lms_status resume(lms_train_job *j, int npos, char **pos, lms_train **out, lms_err *err) {
    static const char *allowed[] = {"out", "resume", "steps", "ignore-memory-check", NULL};
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    const lms_train_config *c = &j->c;
    for (int k = 0; k < j->n_opt; k++) {
        const lms_train_opt *o = &j->opt[k];
        if (!o->seen) continue;
        const lms_train_field *f = lms_train_field_find(o->name);
        int ok = f && f->over && f->flag && !strcmp(f->flag, o->name);
        for (int i = 0; allowed[i]; i++) ok |= !strcmp(allowed[i], o->name);
        if (!ok)
            return lms_errf(err, LMS_ERR_ARG, "--%s cannot change when resuming: %s/config.json fixes it (only --steps, "
                            "--decay-steps, --lr, --threads and the intervals may change)", o->name, j->out);
    }
    if (npos) return lms_errf(err, LMS_ERR_ARG, "unexpected argument '%s' with --resume", pos[0]);
    lms_train_config over = *c;
    unsigned mask = 0;
    over.ignore_memory_check = j->ignore_mem;
    for (int i = 0; i < nf; i++)
        if (tf[i].over && tf[i].flag && lms_train_job_seen(j, tf[i].flag)) mask |= tf[i].over;
    for (int i = 0; i < nf; i++) /* a field of a changed group that was not given: 0 keeps the run's */
        if ((tf[i].over & mask) && (tf[i].flags & LMS_TF_ZERO_KEEPS) && !lms_train_job_seen(j, tf[i].flag))
            *(int *)lms_train_field_ptr(&over, &tf[i]) = 0;
    if ((mask & LMS_TRAIN_OVER_DECAY) && c->decay_steps < 1)
        return lms_errf(err, LMS_ERR_ARG, "--decay-steps must be >= 1 when resuming (the run's horizon is in its config.json)");
    if ((mask & LMS_TRAIN_OVER_LR) && !(c->lr > 0 && isfinite(c->lr)))
        return lms_errf(err, LMS_ERR_ARG, "--lr must be a positive number (got %g)", (double)c->lr);
    if (lms_train_job_seen(j, "eval-batches") && (c->eval_batches == 0 || c->eval_batches < -1))
        return lms_errf(err, LMS_ERR_ARG, "--eval-batches must be >= 1, or -1 for one per data domain (got %d)", c->eval_batches);
    if (lms_train_job_seen(j, "steps") && c->steps < 1) return lms_errf(err, LMS_ERR_ARG, "--steps must be at least 1");
    j->all_ranks = 0;
    return lms_train_resume(out, j->out, lms_train_job_seen(j, "steps") ? c->steps : 0, &over, mask, NULL, err);
}

/* A new run: paths made absolute, ENUM names parsed, the config checked. */
static lms_status start(lms_train_job *j, int npos, char **pos, lms_train **out, lms_err *err) {
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    lms_train_config *c = &j->c;
    if (j->init) { /* the shape comes from the init model; a flag given must agree with it (0: take its value) */
        for (int i = 0; i < nf; i++)
            if ((tf[i].flags & LMS_TF_MODEL) && !lms_train_job_seen(j, tf[i].flag)) *(int *)lms_train_field_ptr(c, &tf[i]) = 0;
        if (!lms_path_exists(j->init) || absolutize(c->init, sizeof c->init, j->init))
            return lms_errf(err, LMS_ERR_ARG, "--init %s: no such file or directory (give a run dir, a checkpoint, a Hugging Face "
                            "GPT-2 directory or model.safetensors, or an llm.c .bin)", j->init);
    }
    c->ignore_memory_check = j->ignore_mem;
    for (int i = 0; i < nf; i++)
        if (tf[i].type == LMS_TF_ENUM && j->enum_str[i] && tf[i].parse(j->enum_str[i], (int *)lms_train_field_ptr(c, &tf[i])))
            return lms_errf(err, LMS_ERR_ARG, "--%s must be %s (got '%s')", tf[i].flag, tf[i].choices, j->enum_str[i]);
    if (!j->data) return lms_errf(err, LMS_ERR_ARG, "--data is required for a new run (text file(s) or a shards dir); or --resume a run");
    if (c->model.vocab_size < 0) return lms_errf(err, LMS_ERR_ARG, "--vocab must be >= 0");
    lms_status st;
    for (int i = -1; i < npos; i++) {
        const char *p = i < 0 ? j->data : pos[i];
        char abs[LMS_TRAIN_PATH];
        if (absolutize(abs, sizeof abs, p)) return lms_errf(err, LMS_ERR_ARG, "--data %s: no such file or directory", p);
        j->all_ranks = 0;
        if ((st = lms_train_config_add_data(c, abs, err))) return st;
        j->all_ranks = 1;
    }
    if (j->tokenizer && !strcmp(j->tokenizer, "bytes") && !lms_path_exists(j->tokenizer))
        strcpy(c->tokenizer, "bytes"); /* by name: checked against shards like any other tokenizer */
    else if (j->tokenizer && absolutize(c->tokenizer, sizeof c->tokenizer, j->tokenizer))
        return lms_errf(err, LMS_ERR_ARG, "--tokenizer %s: no such directory (it should hold vocab.json + merges.txt)", j->tokenizer);
    if (j->mix) snprintf(c->mix, sizeof c->mix, "%s", j->mix);
    j->all_ranks = 0;
    if ((st = lms_train_config_check(c, err))) return st;
    return lms_train_open(out, j->out, c, NULL, err);
}

lms_status lms_train_job_open(lms_train_job *j, char **pos, int npos, lms_train **out, lms_err *err) {
    *out = NULL;
    j->all_ranks = 1;
    if (!j->out) return lms_errf(err, LMS_ERR_ARG, "--out DIR is required (the run directory)");
    j->all_ranks = 0; /* MPI with a device: the same refusal on every rank, so rank 0 says it */
    if (lms_backend_check_ranks(j->device, lms_dist_size(), err)) return err->code;
    j->all_ranks = 1;
    if (!lms_ops_for_device(j->device, err)) return err->code; /* an unknown name, or a device this build or machine lacks */
    j->c.mpi = lms_dist_size() > 1;
    snprintf(j->c.device, sizeof j->c.device, "%s", j->device);
    return j->resume ? resume(j, npos, pos, out, err) : start(j, npos, pos, out, err);
}
