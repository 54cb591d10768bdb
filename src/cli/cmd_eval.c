/* cmd_eval.c — the 'eval' subcommand: score models on probe suites and per-domain validation
 * loss; a terminal table, and JSON Lines rows (docs/formats.md "Evaluation results").
 *
 *   lmscope eval --model runs/s3 --suites all                       # every suite in the suite dir
 *   lmscope eval --model runs/s3 --suites capitals,quote-repetition --show 5
 *   lmscope eval --model runs/s3 --domains                          # loss and bits per byte per domain
 *   lmscope eval --model runs/s1 --model runs/s3 --out results.jsonl
 *   lmscope eval --run runs/s3 --over-training --suites all --out curve.jsonl
 *   lmscope eval --model runs/s3 --suites all --log-samples out/  # one JSONL line per item
 *
 * Models: --model is repeatable (one row per model x suite); anything lms_lm_open reads (a run
 * dir, one checkpoint, a Hugging Face GPT-2 directory or model.safetensors, an llm.c .bin).
 * --run DIR --over-training scores every checkpoints/step_*.safetensors of the run in step order.
 * Suites: names from --suite-dir (default: data/suites under the working directory, else under
 * the directory holding the executable or its parent, i.e. the repository of ./lmscope), or
 * paths to .jsonl/.csv files; 'all' is every .jsonl and .csv in the suite dir, sorted by name.
 * Per-domain loss (--domains) reads --data SHARDS_DIR, or the run's own data from its config.json.
 * --log-samples DIR: per-item logs (eval/samples.h), DIR/samples_<suite>.jsonl for one model;
 * with several models DIR/step_<N>/ per checkpoint (--over-training) or DIR/model_<i>/ per --model.
 *
 * Exit status: 0 done; 1 a model, suite or data file could not be read or scored (message says
 * which, file:line for suite items); 2 bad usage (flags, unknown suite names, a tokenizer that
 * does not belong to the model). With --out, a failure leaves no file (temporary + rename); with
 * --append, the rows written before the failure stay.
 * This file parses flags, prints the table and writes the rows where --out says.
 * Leaves out: all scoring (src/eval/evaluate.c), model opening and the run's data (src/eval/lm.c),
 * choosing suites (src/eval/suite_select.c), the JSON rows and per-item logs (src/eval/rows.c).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu.h"
#include "core/fileio.h"
#include "core/jsonl.h"
#include "core/timer.h"
#include "eval/evaluate.h"
#include "eval/lm.h"
#include "eval/rows.h"
#include "eval/samples.h"
#include "eval/suite.h"
#include "train/train.h"

#define CMD "eval"

typedef struct {
    char **v;
    int n, cap;
} strlist;

static int sl_push(strlist *l, const char *s) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, (size_t)nc * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = nc;
    }
    if (!(l->v[l->n] = strdup(s))) return -1;
    l->n++;
    return 0;
}
static void sl_free(strlist *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* A path that exists but is neither a regular file nor a directory (a FIFO would block a reader
   in open()). */
static int special_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/* ---- models ---- */

/* run_dir/checkpoints/step_*.safetensors (not *.optim.safetensors), by step (train.h). */
static int list_checkpoints(const char *run, strlist *out) {
    lms_train_checkpoint *v = NULL;
    int n = 0;
    lms_err err = {0};
    if (lms_train_list_checkpoints(run, &v, &n, &err)) {
        lms_cli_error(CMD, "--over-training: %s", err.msg);
        return 2;
    }
    for (int i = 0; i < n; i++) sl_push(out, v[i].path);
    free(v);
    if (!out->n) {
        lms_cli_error(CMD, "--over-training: no checkpoints in %s/checkpoints", run);
        return 2;
    }
    return 0;
}

/* ---- output ---- */

typedef struct {
    FILE *fp;             /* JSON Lines destination, or NULL */
    lms_atomic_file af;   /* when not appending and not stdout */
    int atomic;
    FILE *tty;            /* where the table goes: stdout, or stderr when the JSON goes to stdout */
} sink;

static int emit(sink *k, json_t *o) {
    int rc = 0;
    if (k->fp) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s || fprintf(k->fp, "%s\n", s) < 0 || fflush(k->fp)) rc = -1;
        free(s);
    }
    json_decref(o);
    return rc;
}

static void fmt_num(char *b, size_t cap, double x, const char *f) {
    if (isfinite(x)) snprintf(b, cap, f, x);
    else snprintf(b, cap, "-");
}

static void print_header(FILE *t, const lms_lm *lm) {
    fprintf(t, "\nmodel %s", lm->path);
    if (strcmp(lm->ckpt, lm->path)) fprintf(t, " (%s)", lm->ckpt);
    if (lm->step >= 0) fprintf(t, ", step %lld", (long long)lm->step);
    if (lm->tokens >= 0) fprintf(t, ", %.3g tokens", lm->tokens);
    fprintf(t, ", %.3gM params, tokenizer %s\n", (double)lm->params / 1e6, lm->tokenizer);
}

static void print_table_head(FILE *t) {
    fprintf(t, "%-28s %6s %6s  %-16s %8s %9s %9s %7s %6s %7s\n", "suite", "n", "chance", "acc ± se", "acc_norm", "acc_bytes",
            "logp", "prob", "edit", "time_s");
}

static void print_row(FILE *t, const lms_eval_row *r) {
    char acc[16], an[16], ab[16], lp[16], pr[16], ed[16], se[16];
    fmt_num(acc, sizeof acc, r->acc, "%.3f");
    fmt_num(se, sizeof se, r->acc_se, "%.3f");
    char accse[48];
    snprintf(accse, sizeof accse, "%s ± %s", acc, se);
    fmt_num(an, sizeof an, r->acc_norm, "%.3f");
    fmt_num(ab, sizeof ab, r->acc_bytes, "%.3f");
    fmt_num(lp, sizeof lp, r->logp, "%.3f");
    fmt_num(pr, sizeof pr, r->prob, "%.3f");
    fmt_num(ed, sizeof ed, r->edit, "%.2f");
    fprintf(t, "%-28s %6lld %6.3f  %-16s %8s %9s %9s %7s %6s %7.2f\n", r->suite, (long long)r->n, r->chance, accse, an, ab, lp, pr,
            ed, r->time_s);
}

/* Text on one line for --show: newlines as "\n", at most max bytes from the end ("..." before). */
static void print_oneline(FILE *t, const char *s, size_t max) {
    size_t n = strlen(s);
    if (n > max) {
        s += n - max;
        while ((*s & 0xC0) == 0x80) s++;
        fputs("...", t);
    }
    for (; *s; s++) {
        if (*s == '\n') fputs("\\n", t);
        else if (*s == '\t') fputs("\\t", t);
        else if ((unsigned char)*s < 32) fprintf(t, "\\x%02x", (unsigned char)*s);
        else fputc(*s, t);
    }
}

static void print_shown(FILE *t, const lms_eval_row *r, const char *path) {
    for (int i = 0; i < r->n_shown; i++) {
        const lms_eval_shown *s = &r->shown[i];
        fprintf(t, "  %s:%lld%s  \"", path, (long long)s->line, s->truncated ? " (context cut to fit)" : "");
        print_oneline(t, s->context, 160);
        fputs("\"\n", t);
        if (s->kind == LMS_ITEM_MC) {
            for (int c = 0; c < s->n_choices; c++) {
                fprintf(t, "    %6.3f  %8.3f  \"", s->prob[c], s->logp[c]);
                print_oneline(t, s->choices[c], 60);
                fprintf(t, "\"%s%s\n", c == s->answer ? "  <- answer" : "", c == s->pick ? (s->correct ? "  (picked: right)" : "  (picked: wrong)") : "");
            }
        } else if (s->kind == LMS_ITEM_GEN) {
            fputs("    target \"", t);
            print_oneline(t, s->target, 60);
            fputs("\"  output \"", t);
            print_oneline(t, s->output ? s->output : "", 60);
            fprintf(t, "\"  %s, edit %lld, logp %.3f\n", s->correct ? "exact match" : "no match", (long long)s->edit, s->target_logp);
        } else {
            fputs("    target \"", t);
            print_oneline(t, s->target, 60);
            fprintf(t, "\"  logp/token %.3f, top-1 %lld/%lld\n", s->target_tokens ? s->target_logp / (double)s->target_tokens : 0.0,
                    (long long)s->top1, (long long)s->target_tokens);
        }
        if (s->meta) fprintf(t, "    meta %s\n", s->meta);
    }
}

/* ---- per-domain loss ---- */

/* The data --domains scores on: --data, or the run's own; 0, or the exit status (message printed). */
static int open_domain_data(const lms_lm *lm, const char *data, lms_lm_data *d) {
    lms_err err = {0};
    if (!lms_lm_open_data(lm, data, &(lms_lm_data_opts){.check_tokenizer = data != NULL}, d, &err)) return 0;
    if (d->failed == LMS_LM_DATA_NOT_RUN)
        lms_cli_error(CMD, "--domains: %s is not an lmscope run, so its data is unknown; give --data SHARDS_DIR", lm->path);
    else if (!data) lms_cli_error(CMD, "--domains: the run's data (from %s): %s; give --data SHARDS_DIR", d->config, err.msg);
    else lms_cli_error(CMD, "--data %s: %s", data, err.msg);
    return d->failed == LMS_LM_DATA_NOT_RUN || d->failed == LMS_LM_DATA_TOKENIZER ? 2 : 1;
}

static int eval_domains(const lms_lm *lm, const char *data, int val_batches, sink *k) {
    lms_err err = {0};
    lms_lm_data d;
    int rc = open_domain_data(lm, data, &d);
    if (rc) return rc;
    lms_val_result vr;
    double t0 = lms_now();
    if (lms_eval_domains(lm->gpt, lm->tok, d.loader, d.batch, d.n_ctx, val_batches, &vr, &err)) {
        lms_cli_error(CMD, "--domains: %s", err.msg);
        lms_lm_data_close(&d);
        return 1;
    }
    double dt = lms_now() - t0;
    fprintf(k->tty, "%-28s %12s %9s %9s\n", "domain", "tokens", "loss", "bpb");
    for (int i = 0; i <= vr.n_domains; i++) {
        int all = i == vr.n_domains;
        char name[300];
        snprintf(name, sizeof name, "domain:%s", all ? "all" : vr.domain[i].name);
        int64_t tokens = all ? vr.tokens : vr.domain[i].tokens;
        double loss = all ? vr.loss : vr.domain[i].loss, bpb = all ? vr.bpb : vr.domain[i].bpb;
        char l[16], b[16];
        fmt_num(l, sizeof l, loss, "%.4f");
        fmt_num(b, sizeof b, bpb, "%.4f");
        fprintf(k->tty, "%-28s %12lld %9s %9s\n", name, (long long)tokens, l, b);
        if (emit(k, lms_eval_domain_json(lm, name, tokens, loss, bpb, all ? vr.bytes : vr.domain[i].bytes, dt))) rc = 1;
    }
    fflush(k->tty);
    lms_val_result_free(&vr);
    lms_lm_data_close(&d);
    if (rc) lms_cli_error(CMD, "writing the results failed");
    return rc;
}

/* ---- the command ---- */

/* What every model is scored with. */
typedef struct {
    const char *tok_dir, *data, *log_dir;
    const lms_ops *dev;       /* --device: the table models are scored on (a host table: the CPU) */
    lms_suite_list suites;
    int domains, val_batches, by_step;
    lms_eval_config ec;
} job;

/* One suite's rows: the table, the items --show asks for, the JSON rows. 0 or 1. */
static int print_suite(sink *k, const lms_lm *lm, const lms_eval_result *r, const char *path) {
    if (!r->n_rows) fprintf(stderr, "lmscope eval: note: %s holds no items\n", path);
    for (int j = 0; j < r->n_rows; j++) {
        const lms_eval_row *w = &r->row[j];
        print_row(k->tty, w);
        if (w->truncated)
            fprintf(k->tty, "  note: %lld item%s longer than the model's context (%d tokens): the context was cut on the left%s\n",
                    (long long)w->truncated, w->truncated == 1 ? " was" : "s were", lms_gpt_get_config(lm->gpt)->n_ctx,
                    w->windowed ? "; continuations longer than it were scored with a sliding window" : "");
        print_shown(k->tty, w, path);
        if (emit(k, lms_eval_row_json(lm, w, path))) {
            lms_cli_error(CMD, "writing the results failed");
            return 1;
        }
    }
    return 0;
}

/* --log-samples: dir/step_<N> per checkpoint (--over-training), dir/model_<i> per model when there are several (model_no > 0). */
static void log_dir_of(const job *j, const lms_lm *lm, int model_no, char *out, size_t cap) {
    if (j->by_step && lm->step >= 0) snprintf(out, cap, "%s/step_%08lld", j->log_dir, (long long)lm->step);
    else if (j->by_step || model_no > 0) snprintf(out, cap, "%s/model_%d", j->log_dir, model_no);
    else snprintf(out, cap, "%s", j->log_dir);
}

static int eval_model(const job *j, const char *path, int model_no, sink *k) {
    lms_lm lm;
    lms_err err = {0};
    lms_status st = lms_lm_open_on(&lm, path, j->tok_dir, j->dev, &err);
    if (st) {
        lms_cli_error(CMD, "%s", err.msg);
        return st == LMS_ERR_ARG || st == LMS_ERR_MISMATCH ? 2 : 1;
    }
    print_header(k->tty, &lm);
    int rc = 0;
    char log_dir[PATH_MAX + 64] = "";
    if (j->log_dir) log_dir_of(j, &lm, model_no, log_dir, sizeof log_dir);
    lms_eval_samples w = {.model = lm.path, .step = lm.step};
    lms_eval_config c = j->ec;
    if (j->log_dir) c.on_item = lms_eval_samples_write, c.item_user = &w;
    if (j->suites.n) {
        lms_evaluator *ev;
        if (lms_evaluator_create(&ev, lm.gpt, lm.tok, &c, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            lms_lm_close(&lm);
            return err.code == LMS_ERR_MISMATCH ? 2 : 1;
        }
        print_table_head(k->tty);
        for (int i = 0; i < j->suites.n && !rc; i++) {
            lms_eval_result r;
            if (lms_eval_suite_logged(ev, j->suites.path[i], j->log_dir ? &w : NULL, log_dir, &r, &err)) {
                lms_cli_error(CMD, "%s", err.msg);
                rc = 1;
            } else rc = print_suite(k, &lm, &r, j->suites.path[i]);
            fflush(k->tty);
            lms_eval_result_free(&r);
        }
        lms_evaluator_free(ev);
    }
    if (!rc && j->domains) rc = eval_domains(&lm, j->data, j->val_batches, k);
    lms_lm_close(&lm);
    return rc;
}

/* --out: '-' is stdout (the table then goes to stderr), --append opens for appending, else a
   temporary renamed at the end. 0 or 1 (message printed). */
static int open_sink(sink *k, const char *out, int append) {
    lms_err err = {0};
    *k = (sink){.tty = stdout};
    if (out && !strcmp(out, "-")) {
        k->fp = stdout;
        k->tty = stderr;
    } else if (out && append) {
        if (!(k->fp = fopen(out, "a"))) {
            lms_cli_error(CMD, "cannot open --out %s for appending", out);
            return 1;
        }
    } else if (out) {
        if (lms_atomic_open(&k->af, out, &err)) {
            lms_cli_error(CMD, "--out: %s", err.msg);
            return 1;
        }
        k->fp = k->af.fp;
        k->atomic = 1;
    }
    return 0;
}

/* Finish --out (kept only when rc is 0 for the temporary); returns the exit status. */
static int close_sink(sink *k, const char *out, int rc) {
    lms_err err = {0};
    if (k->atomic) {
        if (rc) lms_atomic_abort(&k->af);
        else if (lms_atomic_commit(&k->af, &err)) {
            lms_cli_error(CMD, "--out: %s", err.msg);
            rc = 1;
        }
    } else if (k->fp && k->fp != stdout && fclose(k->fp)) {
        lms_cli_error(CMD, "--out %s: write failed", out);
        rc = rc ? rc : 1;
    }
    return rc;
}

/* --model may be given several times; the table parser keeps the last (and reorders argv), so
   collect them first. */
static void gather_models(int argc, char **argv, strlist *models) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--model") && i + 1 < argc) sl_push(models, argv[++i]);
        else if (!strncmp(argv[i], "--model=", 8)) sl_push(models, argv[i] + 8);
    }
}

/* The models to score: the --model values, or --run DIR (its latest checkpoint, or every one with
   --over-training). 0 or 2. */
static int collect_models(const char *run, int over, strlist *models) {
    char taken[PATH_MAX] = ""; /* --over-training with one run dir as --model: that is the run */
    if (over && !run) {
        if (models->n == 1 && lms_path_is_dir(models->v[0])) snprintf(taken, sizeof taken, "%s", models->v[0]), run = taken;
        else return lms_cli_error(CMD, "--over-training needs --run DIR (a run directory)"), 2;
        sl_free(models);
    }
    if (run && !lms_path_is_dir(run)) return lms_cli_error(CMD, "--run %s: not a directory", run), 2;
    if (run && over) {
        int rc = list_checkpoints(run, models);
        if (rc) return rc;
    } else if (run && sl_push(models, run)) return 2;
    if (!models->n)
        return lms_cli_error(CMD, "--model is required (a run dir, a .safetensors file, a Hugging Face GPT-2 dir or an llm.c "
                             ".bin), or --run DIR"), 2;
    for (int i = 0; i < models->n; i++)
        if (!lms_path_exists(models->v[i]) || special_file(models->v[i]))
            return lms_cli_error(CMD, "--model %s: %s", models->v[i], lms_path_exists(models->v[i])
                                 ? "not a regular file or directory (a FIFO or device?)" : "no such file or directory"), 2;
    return 0;
}

/* --suites (default all, none with --domains alone) from --suite-dir or the default dir; with
   --log-samples, suite names must not collide. 0 or 2. */
static int choose_suites(job *j, const char *spec, const char *suite_dir) {
    if (suite_dir && !lms_path_is_dir(suite_dir)) return lms_cli_error(CMD, "--suite-dir %s: not a directory", suite_dir), 2;
    char dir[PATH_MAX + 64];
    if (suite_dir) snprintf(dir, sizeof dir, "%s", suite_dir);
    else lms_suite_default_dir(dir, sizeof dir);
    lms_err err = {0};
    if (!spec && !j->domains) spec = "all";
    if (spec && lms_suite_select(&j->suites, spec, LMS_SUITE_SPEC_NAMES, dir, &err))
        return lms_cli_error(CMD, "%s", err.msg), 2;
    if (j->log_dir && !j->suites.n) return lms_cli_error(CMD, "--log-samples logs suite items; give --suites too"), 2;
    if (j->log_dir && lms_eval_log_names_check(j->suites.path, j->suites.n, &err))
        return lms_cli_error(CMD, "--log-samples: %s", err.msg), 2;
    return 0;
}

int lms_cmd_eval(int argc, char **argv) {
    const char *suites_spec = NULL, *suite_dir = NULL, *out = NULL, *run = NULL, *model = NULL, *device = "cpu";
    int show = 0, over = 0, append = 0, threads = 0, batch = 0, gen_extra = 4;
    job j = {.val_batches = -1};
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model, "model to score (repeatable): run dir, checkpoint, Hugging Face GPT-2 dir/model.safetensors, llm.c .bin", 0},
        {"tokenizer", LMS_FLAG_STR, &j.tok_dir, "tokenizer dir or 'bytes'; default: the model's own", 0},
        {"suites", LMS_FLAG_STR, &suites_spec, "'all', or comma-separated suite names (from --suite-dir) or .jsonl/.csv paths; default all (none with --domains alone)", 0},
        {"suite-dir", LMS_FLAG_STR, &suite_dir, "where suite names are looked up; default data/suites (working dir, else the executable's repository)", 0},
        {"show", LMS_FLAG_INT, &show, "print the first N items of each suite with each choice's probability and the model's pick", 0},
        {"domains", LMS_FLAG_BOOL, &j.domains, "validation loss and bits per byte per corpus domain", 0},
        {"data", LMS_FLAG_STR, &j.data, "--domains: shard dir to validate on; default the run's own data (its config.json)", 0},
        {"val-batches", LMS_FLAG_INT, &j.val_batches, "--domains: validation batches at most; -1 = all", 0},
        {"run", LMS_FLAG_STR, &run, "a run dir: its latest checkpoint, or every checkpoint with --over-training", 0},
        {"over-training", LMS_FLAG_BOOL, &over, "score every saved checkpoint of --run, one row each, in step order", 0},
        {"out", LMS_FLAG_STR, &out, "write JSON Lines rows here (temporary file + rename; '-' = stdout, the table then goes to stderr)", 0},
        {"append", LMS_FLAG_BOOL, &append, "append to --out instead of replacing it", 0},
        {"log-samples", LMS_FLAG_STR, &j.log_dir, "write every item's scores to DIR/samples_<suite>.jsonl (several models: "
                                                  "DIR/step_<N>/ or DIR/model_<i>/)", 0},
        {"batch", LMS_FLAG_INT, &batch, "rows per scoring call; 0 = auto", 0},
        {"gen-extra", LMS_FLAG_INT, &gen_extra, "generation items: tokens generated beyond the target's length", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads; 0 = all cores", 0},
        {"device", LMS_FLAG_STR, &device, "cpu, or cuda (a make CUDA=1 build and a GPU; untested so far)", 0},
        {0}};
    char **pos;
    int npos;
    strlist models = {0};
    gather_models(argc, argv, &models);
    int rc = lms_args_parse(CMD, "Score models on probe suites (accuracy, log-probs) and per-domain validation loss.", flags, argc, argv,
                            &pos, &npos);
    if (rc) {
        sl_free(&models);
        return rc == 1 ? 0 : 2;
    }
    rc = 2;
    if (npos) lms_cli_error(CMD, "unexpected argument '%s' (models go after --model)", pos[0]);
    else if (show < 0 || threads < 0 || batch < 0 || gen_extra < 0)
        lms_cli_error(CMD, "--show, --threads, --batch and --gen-extra must be >= 0");
    else if (append && !out) lms_cli_error(CMD, "--append needs --out FILE");
    else if (append && !strcmp(out, "-")) lms_cli_error(CMD, "--append needs a file, not '-'");
    else if (!(rc = collect_models(run, over, &models))) {
        rc = 2;
        if (j.data && special_file(j.data)) lms_cli_error(CMD, "--data %s: not a regular file or directory (a FIFO or device?)", j.data);
        else if (j.data && !j.domains) lms_cli_error(CMD, "--data is for --domains");
        else rc = choose_suites(&j, suites_spec, suite_dir);
    }
    if (rc) goto done;
    if (threads > 0) lms_cpu_set_threads(threads);
    lms_err err = {0};
    if (!(j.dev = lms_ops_for_device(device, &err))) {
        lms_cli_error(CMD, "%s", err.msg);
        rc = err.code == LMS_ERR_ARG ? 2 : 1;
        goto done;
    }
    j.ec = lms_eval_defaults();
    j.ec.show = show, j.ec.batch = batch, j.ec.gen_extra = gen_extra;
    j.by_step = over;
    sink k;
    if ((rc = open_sink(&k, out, append))) goto done;
    for (int i = 0; i < models.n && !rc; i++) rc = eval_model(&j, models.v[i], !over && models.n > 1 ? i + 1 : 0, &k);
    rc = close_sink(&k, out, rc);
    if (!rc && out && strcmp(out, "-")) fprintf(k.tty, "\nwrote %s\n", out);
    if (!rc && j.log_dir) fprintf(k.tty, "%swrote per-item logs under %s\n", out && strcmp(out, "-") ? "" : "\n", j.log_dir);
done:
    sl_free(&models);
    lms_suite_list_free(&j.suites);
    return rc;
}
