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
 * Leaves out: all scoring (src/eval/evaluate.c), model opening (src/eval/lm.c).
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu.h"
#include "core/fileio.h"
#include "core/jsonl.h"
#include "core/timer.h"
#include "eval/evaluate.h"
#include "eval/lm.h"
#include "eval/samples.h"
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
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_ext(const char *s, const char *ext) {
    size_t n = strlen(s), e = strlen(ext);
    return n > e && !strcmp(s + n - e, ext);
}

/* ---- suites ---- */

/* The default suite dir: data/suites in the working directory, else beside the executable or
   one level up (build/lmscope -> the repository). "" when none exists. */
static void default_suite_dir(char *out, size_t cap) {
    out[0] = 0;
    if (lms_path_is_dir("data/suites")) {
        snprintf(out, cap, "data/suites");
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = 0;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/data/suites", exe);
    if (lms_path_is_dir(p)) {
        snprintf(out, cap, "%s", p);
        return;
    }
    snprintf(p, sizeof p, "%s/../data/suites", exe);
    if (lms_path_is_dir(p)) snprintf(out, cap, "%s", p);
}

/* Every .jsonl / .csv regular file in dir, sorted. */
static int list_suites(const char *dir, strlist *out) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !(has_ext(e->d_name, ".jsonl") || has_ext(e->d_name, ".csv"))) continue;
        char p[PATH_MAX + 256];
        lms_path_join(p, sizeof p, dir, e->d_name);
        if (lms_path_is_dir(p)) continue;
        if (sl_push(out, p)) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
    return 0;
}

/* Turn --suites into file paths. Returns 0, or 2 (message printed). */
static int resolve_suites(const char *spec, const char *dir, strlist *out) {
    if (!strcmp(spec, "all")) {
        if (!dir[0]) {
            lms_cli_error(CMD, "no suite dir found (data/suites under the working directory or the executable's repository); "
                          "give --suite-dir DIR or suite files with --suites a.jsonl,b.csv");
            return 2;
        }
        if (list_suites(dir, out)) {
            lms_cli_error(CMD, "cannot read the suite dir %s", dir);
            return 2;
        }
        if (!out->n) {
            lms_cli_error(CMD, "the suite dir %s holds no .jsonl or .csv suites", dir);
            return 2;
        }
        return 0;
    }
    char *copy = strdup(spec);
    if (!copy) return 2;
    int rc = 0;
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ') name++;
        if (!*name) continue;
        char p[PATH_MAX + 300];
        int found = 0;
        if (strchr(name, '/') || has_ext(name, ".jsonl") || has_ext(name, ".csv")) {
            snprintf(p, sizeof p, "%s", name);
            found = lms_path_exists(p);
            if (!found && dir[0] && !strchr(name, '/')) {
                lms_path_join(p, sizeof p, dir, name);
                found = lms_path_exists(p);
            }
        } else if (dir[0]) {
            snprintf(p, sizeof p, "%s/%s.jsonl", dir, name);
            found = lms_path_exists(p);
            if (!found) {
                snprintf(p, sizeof p, "%s/%s.csv", dir, name);
                found = lms_path_exists(p);
            }
        }
        if (!found) {
            strlist all = {0};
            char names[600] = "";
            if (dir[0] && !list_suites(dir, &all))
                for (int i = 0; i < all.n && strlen(names) < 500; i++) {
                    const char *b = strrchr(all.v[i], '/') ? strrchr(all.v[i], '/') + 1 : all.v[i];
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.*s", i ? ", " : "",
                             (int)(strrchr(b, '.') - b), b);
                }
            sl_free(&all);
            if (dir[0])
                lms_cli_error(CMD, "no suite '%s' in %s (known: %s); give a name from there or a path to a .jsonl/.csv file", name, dir,
                              names[0] ? names : "none");
            else
                lms_cli_error(CMD, "no suite '%s': no suite dir found; give --suite-dir DIR or a path to a .jsonl/.csv file", name);
            rc = 2;
            break;
        }
        if (sl_push(out, p)) {
            rc = 2;
            break;
        }
    }
    free(copy);
    if (!rc && !out->n) {
        lms_cli_error(CMD, "--suites names no suite");
        rc = 2;
    }
    return rc;
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

/* A count kept as a double (tokens, FLOPs): an integer when it is one. */
static json_t *count(double x) {
    return x < 0 || !isfinite(x) ? json_null() : x == floor(x) && x < 9e15 ? json_integer((json_int_t)x) : json_real(x);
}

static json_t *row_base(const lms_lm *lm) {
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(lm->path));
    json_object_set_new(o, "checkpoint", json_string(lm->ckpt));
    json_object_set_new(o, "step", lm->step >= 0 ? json_integer(lm->step) : json_null());
    json_object_set_new(o, "tokens", count(lm->tokens));
    json_object_set_new(o, "flops", count(lm->flops));
    json_object_set_new(o, "params", json_integer(lm->params));
    json_object_set_new(o, "params_nonembed", json_integer(lm->params_nonembed));
    return o;
}

static const char *kind_str(lms_item_kind k) { return k == LMS_ITEM_MC ? "mc" : k == LMS_ITEM_GEN ? "gen" : "seq"; }

static json_t *suite_json(const lms_lm *lm, const lms_eval_row *r, const char *path) {
    json_t *o = row_base(lm);
    json_object_set_new(o, "suite", json_string(r->suite));
    json_object_set_new(o, "suite_file", json_string(path));
    json_object_set_new(o, "kind", json_string(kind_str(r->kind)));
    json_object_set_new(o, "n", json_integer(r->n));
    json_object_set_new(o, "chance", lms_json_num(r->chance));
    json_object_set_new(o, "acc", lms_json_num(r->acc));
    json_object_set_new(o, "acc_se", lms_json_num(r->acc_se));
    json_object_set_new(o, "acc_norm", lms_json_num(r->acc_norm));
    json_object_set_new(o, "acc_norm_se", lms_json_num(r->acc_norm_se));
    json_object_set_new(o, "acc_bytes", lms_json_num(r->acc_bytes));
    json_object_set_new(o, "acc_bytes_se", lms_json_num(r->acc_bytes_se));
    json_object_set_new(o, "logp", lms_json_num(r->logp));
    json_object_set_new(o, "logp_se", lms_json_num(r->logp_se));
    json_object_set_new(o, "prob", lms_json_num(r->prob));
    json_object_set_new(o, "prob_se", lms_json_num(r->prob_se));
    json_object_set_new(o, "edit", lms_json_num(r->edit));
    json_object_set_new(o, "edit_se", lms_json_num(r->edit_se));
    json_object_set_new(o, "truncated", json_integer(r->truncated));
    json_object_set_new(o, "windowed", json_integer(r->windowed));
    json_object_set_new(o, "tokens_scored", json_integer(r->tokens_scored));
    json_object_set_new(o, "time_s", lms_json_num(r->time_s));
    return o;
}

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

static int eval_domains(const lms_lm *lm, const char *data, int val_batches, sink *k) {
    lms_err err = {0};
    lms_loader *loader = NULL;
    const lms_gpt_config *mc = lms_gpt_get_config(lm->gpt);
    int B = 8, T = mc->n_ctx;
    char cfgp[PATH_MAX + 64] = "";
    if (!data) {
        /* the run's own data: the run dir itself, or the run dir above checkpoints/step_N.safetensors */
        if (lm->kind == LMS_LM_RUN) lms_path_join(cfgp, sizeof cfgp, lm->path, "config.json");
        else if (lm->kind == LMS_LM_LMSCOPE) {
            char d[PATH_MAX];
            snprintf(d, sizeof d, "%s", lm->ckpt);
            char *s = strrchr(d, '/');
            if (s) *s = 0, s = strrchr(d, '/');
            if (s && !strcmp(s, "/checkpoints")) {
                *s = 0;
                lms_path_join(cfgp, sizeof cfgp, d, "config.json");
            }
        }
        if (!cfgp[0] || !lms_path_exists(cfgp)) {
            lms_cli_error(CMD, "--domains: %s is not an lmscope run, so its data is unknown; give --data SHARDS_DIR", lm->path);
            return 2;
        }
        lms_train_config rc;
        if (lms_train_config_load(&rc, cfgp, &err) || lms_train_open_data(&rc, &loader, &err)) {
            lms_cli_error(CMD, "--domains: the run's data (from %s): %s; give --data SHARDS_DIR", cfgp, err.msg);
            return 1;
        }
        B = rc.batch;
        T = rc.model.n_ctx;
    } else {
        lms_loader_config lc = {.B = B, .T = T, .seed = 1, .weights = NULL, .val_tokens_per_domain = 0};
        if (lms_loader_open(&loader, data, &lc, &err)) {
            lms_cli_error(CMD, "--data %s: %s", data, err.msg);
            return 1;
        }
        if (lms_loader_check_tokenizer(loader, lm->tok, &err)) {
            lms_cli_error(CMD, "--data %s: %s", data, err.msg);
            lms_loader_free(loader);
            return 2;
        }
    }
    lms_val_result vr;
    double t0 = lms_now();
    if (lms_eval_domains(lm->gpt, lm->tok, loader, B, T, val_batches, &vr, &err)) {
        lms_cli_error(CMD, "--domains: %s", err.msg);
        lms_loader_free(loader);
        return 1;
    }
    double dt = lms_now() - t0;
    fprintf(k->tty, "%-28s %12s %9s %9s\n", "domain", "tokens", "loss", "bpb");
    int rc = 0;
    for (int d = 0; d <= vr.n_domains; d++) {
        int all = d == vr.n_domains;
        char name[300];
        snprintf(name, sizeof name, "domain:%s", all ? "all" : vr.domain[d].name);
        int64_t tokens = all ? vr.tokens : vr.domain[d].tokens;
        double loss = all ? vr.loss : vr.domain[d].loss, bpb = all ? vr.bpb : vr.domain[d].bpb;
        char l[16], b[16];
        fmt_num(l, sizeof l, loss, "%.4f");
        fmt_num(b, sizeof b, bpb, "%.4f");
        fprintf(k->tty, "%-28s %12lld %9s %9s\n", name, (long long)tokens, l, b);
        json_t *o = row_base(lm);
        json_object_set_new(o, "suite", json_string(name));
        json_object_set_new(o, "kind", json_string("domain"));
        json_object_set_new(o, "n", json_integer(tokens));
        json_object_set_new(o, "loss", lms_json_num(loss));
        json_object_set_new(o, "bpb", lms_json_num(bpb));
        json_object_set_new(o, "tokens_scored", json_integer(tokens));
        json_object_set_new(o, "bytes_scored", json_integer(all ? vr.bytes : vr.domain[d].bytes));
        json_object_set_new(o, "time_s", lms_json_num(dt));
        if (emit(k, o)) rc = 1;
    }
    fflush(k->tty);
    lms_val_result_free(&vr);
    lms_loader_free(loader);
    if (rc) lms_cli_error(CMD, "writing the results failed");
    return rc;
}

/* ---- the command ---- */

static const lms_ops *g_dev; /* --device: the table models are scored on (NULL or a host table: the CPU) */

/* --log-samples: where one model's files go. */
typedef struct {
    const char *dir; /* NULL: no logs */
    int by_step;     /* --over-training: dir/step_<N> */
    int model_no;    /* > 0: several --model, dir/model_<model_no> */
} log_spec;

/* Two suites with the same name would write the same samples file: refuse before scoring. 0 or 2. */
static int check_log_names(const strlist *suites) {
    strlist names = {0};
    int rc = 0;
    for (int i = 0; i < suites->n && !rc; i++) {
        lms_suite *s;
        lms_err err = {0};
        if (lms_suite_open(&s, suites->v[i], &err)) continue; /* scoring reports it */
        for (int j = 0; j < names.n && !rc; j++)
            if (!strcmp(names.v[j], lms_suite_name(s))) {
                lms_cli_error(CMD, "--log-samples: %s and %s are both named '%s' and would write the same "
                              "samples_%s.jsonl; rename one", suites->v[j], suites->v[i], names.v[j], names.v[j]);
                rc = 2;
            }
        if (!rc && sl_push(&names, lms_suite_name(s))) rc = 2;
        lms_suite_close(s);
    }
    sl_free(&names);
    return rc;
}

/* Score one suite file; with w (--log-samples) its items go to log_dir/samples_<suite>.jsonl,
   renamed into place when the suite is done (none is left when it fails). */
static lms_status score_suite(lms_evaluator *ev, const char *path, lms_eval_samples *w, const char *log_dir,
                              lms_eval_result *r, lms_err *err) {
    memset(r, 0, sizeof *r);
    lms_suite *s;
    if (lms_suite_open(&s, path, err)) return err->code;
    lms_status st = w ? lms_eval_samples_open(w, log_dir, lms_suite_name(s), err) : LMS_OK;
    if (!st) st = lms_eval_suite(ev, s, r, err);
    if (w && st) lms_eval_samples_abort(w);
    else if (w) st = lms_eval_samples_commit(w, err);
    lms_suite_close(s);
    return st;
}

static int eval_model(const char *path, const char *tok_dir, const strlist *suites, int domains, const char *data, int val_batches,
                      const lms_eval_config *ec, const log_spec *log, sink *k) {
    lms_lm lm;
    lms_err err = {0};
    lms_status st = lms_lm_open(&lm, path, tok_dir, &err);
    if (st) {
        lms_cli_error(CMD, "%s", err.msg);
        return st == LMS_ERR_ARG || st == LMS_ERR_MISMATCH ? 2 : 1;
    }
    if (g_dev && g_dev->device) { /* loaded on the host; scored on the device */
        lms_gpt *d = NULL;
        if (lms_gpt_clone_on(&d, lm.gpt, g_dev, 0, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            lms_lm_close(&lm);
            return 1;
        }
        lms_gpt_free(lm.gpt);
        lm.gpt = d;
    }
    print_header(k->tty, &lm);
    int rc = 0;
    char log_dir[PATH_MAX + 64] = "";
    if (log->dir && log->by_step && lm.step >= 0) snprintf(log_dir, sizeof log_dir, "%s/step_%08lld", log->dir, (long long)lm.step);
    else if (log->dir && (log->by_step || log->model_no > 0)) snprintf(log_dir, sizeof log_dir, "%s/model_%d", log->dir, log->model_no);
    else if (log->dir) snprintf(log_dir, sizeof log_dir, "%s", log->dir);
    lms_eval_samples w = {.model = lm.path, .step = lm.step};
    lms_eval_config c = *ec;
    if (log->dir) c.on_item = lms_eval_samples_write, c.item_user = &w;
    if (suites->n) {
        lms_evaluator *ev;
        if (lms_evaluator_create(&ev, lm.gpt, lm.tok, &c, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            lms_lm_close(&lm);
            return err.code == LMS_ERR_MISMATCH ? 2 : 1;
        }
        print_table_head(k->tty);
        for (int i = 0; i < suites->n && !rc; i++) {
            lms_eval_result r;
            if (score_suite(ev, suites->v[i], log->dir ? &w : NULL, log_dir, &r, &err)) {
                lms_cli_error(CMD, "%s", err.msg);
                rc = 1;
            } else if (!r.n_rows) {
                fprintf(stderr, "lmscope eval: note: %s holds no items\n", suites->v[i]);
            }
            for (int j = 0; j < r.n_rows && !rc; j++) {
                print_row(k->tty, &r.row[j]);
                if (r.row[j].truncated)
                    fprintf(k->tty, "  note: %lld item%s longer than the model's context (%d tokens): the context was cut on the left%s\n",
                            (long long)r.row[j].truncated, r.row[j].truncated == 1 ? " was" : "s were", lms_gpt_get_config(lm.gpt)->n_ctx,
                            r.row[j].windowed ? "; continuations longer than it were scored with a sliding window" : "");
                print_shown(k->tty, &r.row[j], suites->v[i]);
                if (emit(k, suite_json(&lm, &r.row[j], suites->v[i]))) {
                    lms_cli_error(CMD, "writing the results failed");
                    rc = 1;
                }
            }
            fflush(k->tty);
            lms_eval_result_free(&r);
        }
        lms_evaluator_free(ev);
    }
    if (!rc && domains) rc = eval_domains(&lm, data, val_batches, k);
    lms_lm_close(&lm);
    return rc;
}

int lms_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *tok_dir = NULL, *suites_spec = NULL, *suite_dir = NULL, *out = NULL, *run = NULL, *data = NULL;
    const char *log_samples = NULL;
    int show = 0, domains = 0, over = 0, append = 0, threads = 0, batch = 0, val_batches = -1, gen_extra = 4;
    const char *device = "cpu";
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model, "model to score (repeatable): run dir, checkpoint, Hugging Face GPT-2 dir/model.safetensors, llm.c .bin", 0},
        {"tokenizer", LMS_FLAG_STR, &tok_dir, "tokenizer dir or 'bytes'; default: the model's own", 0},
        {"suites", LMS_FLAG_STR, &suites_spec, "'all', or comma-separated suite names (from --suite-dir) or .jsonl/.csv paths; default all (none with --domains alone)", 0},
        {"suite-dir", LMS_FLAG_STR, &suite_dir, "where suite names are looked up; default data/suites (working dir, else the executable's repository)", 0},
        {"show", LMS_FLAG_INT, &show, "print the first N items of each suite with each choice's probability and the model's pick", 0},
        {"domains", LMS_FLAG_BOOL, &domains, "validation loss and bits per byte per corpus domain", 0},
        {"data", LMS_FLAG_STR, &data, "--domains: shard dir to validate on; default the run's own data (its config.json)", 0},
        {"val-batches", LMS_FLAG_INT, &val_batches, "--domains: validation batches at most; -1 = all", 0},
        {"run", LMS_FLAG_STR, &run, "a run dir: its latest checkpoint, or every checkpoint with --over-training", 0},
        {"over-training", LMS_FLAG_BOOL, &over, "score every saved checkpoint of --run, one row each, in step order", 0},
        {"out", LMS_FLAG_STR, &out, "write JSON Lines rows here (temporary file + rename; '-' = stdout, the table then goes to stderr)", 0},
        {"append", LMS_FLAG_BOOL, &append, "append to --out instead of replacing it", 0},
        {"log-samples", LMS_FLAG_STR, &log_samples, "write every item's scores to DIR/samples_<suite>.jsonl (several models: "
                                                    "DIR/step_<N>/ or DIR/model_<i>/)", 0},
        {"batch", LMS_FLAG_INT, &batch, "rows per scoring call; 0 = auto", 0},
        {"gen-extra", LMS_FLAG_INT, &gen_extra, "generation items: tokens generated beyond the target's length", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads; 0 = all cores", 0},
        {"device", LMS_FLAG_STR, &device, "cpu, or cuda (a make CUDA=1 build and a GPU; untested so far)", 0},
        {0}};
    /* --model may be given several times; the table parser keeps the last, so collect them first */
    strlist models = {0}, suites = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--model") && i + 1 < argc) sl_push(&models, argv[++i]);
        else if (!strncmp(argv[i], "--model=", 8)) sl_push(&models, argv[i] + 8);
    }
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Score models on probe suites (accuracy, log-probs) and per-domain validation loss.", flags, argc, argv,
                            &pos, &npos);
    if (rc) {
        sl_free(&models);
        return rc == 1 ? 0 : 2;
    }
    rc = 2;
    if (npos) {
        lms_cli_error(CMD, "unexpected argument '%s' (models go after --model)", pos[0]);
        goto done;
    }
    if (show < 0 || threads < 0 || batch < 0 || gen_extra < 0) {
        lms_cli_error(CMD, "--show, --threads, --batch and --gen-extra must be >= 0");
        goto done;
    }
    if (append && !out) {
        lms_cli_error(CMD, "--append needs --out FILE");
        goto done;
    }
    if (append && !strcmp(out, "-")) {
        lms_cli_error(CMD, "--append needs a file, not '-'");
        goto done;
    }
    if (over && !run) {
        if (models.n == 1 && lms_path_is_dir(models.v[0])) run = models.v[0], sl_free(&models);
        else {
            lms_cli_error(CMD, "--over-training needs --run DIR (a run directory)");
            goto done;
        }
    }
    if (run) {
        if (!lms_path_is_dir(run)) {
            lms_cli_error(CMD, "--run %s: not a directory", run);
            goto done;
        }
        if (over) {
            if ((rc = list_checkpoints(run, &models))) goto done;
            rc = 2;
        } else if (sl_push(&models, run)) goto done;
    }
    if (!models.n) {
        lms_cli_error(CMD, "--model is required (a run dir, a .safetensors file, a Hugging Face GPT-2 dir or an llm.c .bin), or --run DIR");
        goto done;
    }
    for (int i = 0; i < models.n; i++)
        if (!lms_path_exists(models.v[i]) || special_file(models.v[i])) {
            lms_cli_error(CMD, "--model %s: %s", models.v[i],
                          lms_path_exists(models.v[i]) ? "not a regular file or directory (a FIFO or device?)" : "no such file or directory");
            goto done;
        }
    if (data && special_file(data)) {
        lms_cli_error(CMD, "--data %s: not a regular file or directory (a FIFO or device?)", data);
        goto done;
    }
    if (data && !domains) {
        lms_cli_error(CMD, "--data is for --domains");
        goto done;
    }
    if (!suites_spec && !domains) suites_spec = "all";
    char dir[PATH_MAX + 64];
    if (suite_dir) {
        if (!lms_path_is_dir(suite_dir)) {
            lms_cli_error(CMD, "--suite-dir %s: not a directory", suite_dir);
            goto done;
        }
        snprintf(dir, sizeof dir, "%s", suite_dir);
    } else default_suite_dir(dir, sizeof dir);
    if (suites_spec && (rc = resolve_suites(suites_spec, dir, &suites))) goto done;
    if (log_samples && !suites.n) {
        lms_cli_error(CMD, "--log-samples logs suite items; give --suites too");
        rc = 2;
        goto done;
    }
    if (log_samples && (rc = check_log_names(&suites))) goto done;
    rc = 2;
    if (threads > 0) lms_cpu_set_threads(threads);
    lms_err derr = {0};
    if (!(g_dev = lms_ops_for_device(device, &derr))) {
        lms_cli_error(CMD, "%s", derr.msg);
        rc = derr.code == LMS_ERR_ARG ? 2 : 1;
        goto done;
    }

    lms_eval_config ec = lms_eval_defaults();
    ec.show = show;
    ec.batch = batch;
    ec.gen_extra = gen_extra;
    sink k = {.tty = stdout};
    lms_err err = {0};
    if (out && !strcmp(out, "-")) {
        k.fp = stdout;
        k.tty = stderr;
    } else if (out && append) {
        if (!(k.fp = fopen(out, "a"))) {
            lms_cli_error(CMD, "cannot open --out %s for appending", out);
            rc = 1;
            goto done;
        }
    } else if (out) {
        if (lms_atomic_open(&k.af, out, &err)) {
            lms_cli_error(CMD, "--out: %s", err.msg);
            rc = 1;
            goto done;
        }
        k.fp = k.af.fp;
        k.atomic = 1;
    }
    rc = 0;
    for (int i = 0; i < models.n && !rc; i++) {
        log_spec log = {log_samples, over, !over && models.n > 1 ? i + 1 : 0};
        rc = eval_model(models.v[i], tok_dir, &suites, domains, data, val_batches, &ec, &log, &k);
    }
    if (k.atomic) {
        if (rc) lms_atomic_abort(&k.af);
        else if (lms_atomic_commit(&k.af, &err)) {
            lms_cli_error(CMD, "--out: %s", err.msg);
            rc = 1;
        }
    } else if (k.fp && k.fp != stdout) {
        if (fclose(k.fp)) {
            lms_cli_error(CMD, "--out %s: write failed", out);
            rc = rc ? rc : 1;
        }
    }
    if (!rc && out && strcmp(out, "-")) fprintf(k.tty, "\nwrote %s\n", out);
    if (!rc && log_samples) fprintf(k.tty, "%swrote per-item logs under %s\n", out && strcmp(out, "-") ? "" : "\n", log_samples);
done:
    sl_free(&models);
    sl_free(&suites);
    return rc;
}
