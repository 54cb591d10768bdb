/* cmd_train.c — the 'train' subcommand: flags to an lms_train_config, a progress line, signals.
 *
 *   lmscope train --data some.txt --out runs/tiny --layers 4 --heads 4 --dim 128 --ctx 128 \
 *                 --batch 16 --steps 2000 --lr 3e-3 --seed 1
 *   lmscope train --out runs/tiny --resume [--steps 4000]
 *   lmscope train --data shards/ --tokenizer tok/ --mix quotes=2,news=1 --out runs/s1 ...
 *   lmscope train --init path/to/gpt2 --data shards/ --out runs/ft --steps 200   # fine-tune
 *   lmscope train ... --save-log-steps       # also keep checkpoints at steps 0, 1, 2, 4, 8, ...
 *   lmscope train ... --device cuda          # on the GPU (make CUDA=1); --resume may switch devices
 *
 * Exit status: 0 done; 1 the work failed (I/O, diverged to NaN/Inf: the last good checkpoint is
 * kept; the run dir is in use by another train process); 2 bad usage (flags, data too short for
 * --ctx, a tokenizer that does not match the shards or the --init model, flags that contradict the
 * --init model, an existing run without --resume, a model too big for the available memory);
 * 130 / 143 interrupted by SIGINT / SIGTERM after the step in flight was finished and saved
 * (the shell's 128 + signal convention). A second Ctrl-C kills at once.
 *
 * Under mpirun (lmscope's main() started MPI): data-parallel over the ranks (train.h "MPI"); rank 0
 * prints and writes, the others are quiet; every rank exits with the same status. SIGTERM or SIGINT
 * to mpirun reaches every rank, and they stop together at the same step.
 *
 * Leaves out: the loop itself (src/train/train.c), which never prints.
 */
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "dist/dist.h"
#include "kernels/backend.h"
#include "train/train.h"

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_signal;

static void on_signal(int sig) {
    g_stop = 1;
    g_signal = sig;
}

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* the second signal takes the default action: stop now */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
    int tty;
    int every;         /* plain lines every this many steps (not a tty) */
    int quiet;
    double last_print; /* tty: redraw at most 10 times a second */
    float last_val;
    int drew;          /* a \r line is on screen */
} progress_state;

static void fmt_time(char *buf, size_t cap, double s) {
    if (!(s >= 0) || !isfinite(s)) snprintf(buf, cap, "?");
    else if (s < 60) snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600) snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void fmt_count(char *buf, size_t cap, double x) {
    if (x >= 1e9) snprintf(buf, cap, "%.2fG", x / 1e9);
    else if (x >= 1e6) snprintf(buf, cap, "%.2fM", x / 1e6);
    else if (x >= 1e3) snprintf(buf, cap, "%.1fk", x / 1e3);
    else snprintf(buf, cap, "%.0f", x);
}

static void on_progress(const lms_train_progress *p, void *user) {
    progress_state *ps = user;
    if (!isnan(p->val_loss)) ps->last_val = p->val_loss;
    if (ps->quiet) return;
    int last = p->step == p->steps;
    double now = lms_now();
    if (ps->tty) {
        if (!last && !p->checkpointed && isnan(p->val_loss) && now - ps->last_print < 0.1) return;
    } else if (!last && p->step % ps->every != 0) {
        return;
    }
    ps->last_print = now;
    char tps[32], eta[32], val[32];
    fmt_count(tps, sizeof tps, p->tokens_per_s);
    fmt_time(eta, sizeof eta, p->eta_s);
    if (isnan(ps->last_val)) snprintf(val, sizeof val, "-");
    else snprintf(val, sizeof val, "%.4f", (double)ps->last_val);
    int w = snprintf(NULL, 0, "%lld", (long long)p->steps);
    fprintf(stderr, "%sstep %*lld/%lld | loss %.4f | val %s | lr %.2e | %s tok/s | ETA %s%s", ps->tty ? "\r" : "", w,
            (long long)p->step, (long long)p->steps, (double)p->loss, val, (double)p->lr, tps, eta,
            ps->tty ? "\033[K" : "\n");
    ps->drew = ps->tty;
    fflush(stderr);
}

static void end_line(progress_state *ps) {
    if (ps->drew) fputc('\n', stderr);
    ps->drew = 0;
}

/* Absolute path (so a resumed run or 'sample' finds it from any directory). */
static int absolutize(char *dst, size_t cap, const char *src) {
    char rp[PATH_MAX];
    if (!realpath(src, rp)) return -1;
    if (strlen(rp) >= cap) return -1;
    strcpy(dst, rp);
    return 0;
}

/* The library's message, once for the job (rank 0; every rank holds the same one under MPI). */
static void say_error(int rank, const lms_err *err) {
    if (rank == 0) lms_cli_error("train", "%s", err->msg);
}

/* Bad flags, and data or tokenizers that do not fit them, are usage errors. */
static int exit_for(lms_status s) { return s == LMS_ERR_ARG || s == LMS_ERR_MISMATCH ? 2 : 1; }

int lms_cmd_train(int argc, char **argv) {
    lms_train_config c;
    lms_train_config_defaults(&c);
    int nf;
    const lms_train_field *tf = lms_train_fields(&nf);
    for (int i = 0; i < nf; i++) /* the command's own defaults, where they differ from the library's */
        if (tf[i].flags & LMS_TF_CLI_DEF) {
            if (tf[i].type == LMS_TF_INT) *(int *)((char *)&c + tf[i].offset) = (int)tf[i].cli_def;
            else if (tf[i].type == LMS_TF_FLOAT) *(float *)((char *)&c + tf[i].offset) = (float)tf[i].cli_def;
        }
    const char *data = NULL, *out = NULL, *tokenizer = NULL, *mix = NULL, *init = NULL;
    const char *enum_str[64] = {0}; /* ENUM fields are named on the command line */
    int resume = 0, print_every = 0, quiet = 0, ignore_mem = 0;
    const char *device = "cpu";
    lms_flag flags[96];
    int nfl = 0;
    flags[nfl++] = (lms_flag){"data", LMS_FLAG_STR, &data, lms_train_field_find("data")->help, 0};
    flags[nfl++] = (lms_flag){"out", LMS_FLAG_STR, &out, "run directory (required)", 0};
    flags[nfl++] = (lms_flag){"resume", LMS_FLAG_BOOL, &resume, "continue the run in --out from its latest checkpoint", 0};
    flags[nfl++] = (lms_flag){"init", LMS_FLAG_STR, &init, lms_train_field_find("init")->help, 0};
    flags[nfl++] = (lms_flag){"tokenizer", LMS_FLAG_STR, &tokenizer, lms_train_field_find("tokenizer")->help, 0};
    flags[nfl++] = (lms_flag){"mix", LMS_FLAG_STR, &mix, lms_train_field_find("mix")->help, 0};
    for (int i = 0; i < nf && i < 64; i++) { /* every other saved field with a flag comes from the table */
        const lms_train_field *f = &tf[i];
        if (!f->flag || (f->flags & LMS_TF_CLI_OWN)) continue;
        void *ptr = (char *)&c + f->offset;
        lms_flag_type ft = LMS_FLAG_INT;
        switch (f->type) {
        case LMS_TF_INT: ft = LMS_FLAG_INT; break;
        case LMS_TF_I64: case LMS_TF_SEED: ft = LMS_FLAG_I64; break; /* a seed flag is an int64 (same bits as the uint64) */
        case LMS_TF_FLOAT: ft = LMS_FLAG_FLOAT; break;
        case LMS_TF_BOOL: ft = LMS_FLAG_BOOL; break;
        case LMS_TF_ENUM:
            ft = LMS_FLAG_STR;
            enum_str[i] = f->name(*(int *)ptr);
            ptr = &enum_str[i];
            break;
        case LMS_TF_STR: case LMS_TF_DATA: continue; /* paths: declared above */
        }
        flags[nfl++] = (lms_flag){f->flag, ft, ptr, f->help, 0};
    }
    flags[nfl++] = (lms_flag){"ignore-memory-check", LMS_FLAG_BOOL, &ignore_mem,
                              "start even if the model seems too big for the available memory", 0};
    flags[nfl++] = (lms_flag){"print-every", LMS_FLAG_INT, &print_every,
                              "progress line every N steps when stderr is not a terminal; 0 = steps/20", 0};
    flags[nfl++] = (lms_flag){"quiet", LMS_FLAG_BOOL, &quiet, "no progress lines", 0};
    flags[nfl++] = (lms_flag){"device", LMS_FLAG_STR, &device,
                              "cpu, or cuda (a make CUDA=1 build and a GPU; untested so far); not saved: a run resumes on either", 0};
    flags[nfl] = (lms_flag){0};
    char **pos;
    int npos;
    int rc = lms_args_parse("train",
                            "Train a GPT on text files or token shards; --resume continues a run exactly where it stopped.\n"
                            "Exit: 0 done, 1 failed (I/O, diverged, run dir in use), 2 bad usage (also: too big for memory),\n"
                            "130/143 interrupted (saved; resume with --resume).",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (!out) {
        lms_cli_error("train", "--out DIR is required (the run directory)");
        return 2;
    }
    lms_err err = {0};
    lms_train *t = NULL;
    lms_status st;
    const int ranks = lms_dist_size(), rank = lms_dist_rank();
    if (lms_backend_check_ranks(device, ranks, &err) || !lms_ops_for_device(device, &err)) { /* MPI with a device; an
                                                  unknown name, or a device this build or machine lacks */
        if (rank == 0) lms_cli_error("train", "%s", err.msg);
        return err.code == LMS_ERR_ARG ? 2 : 1;
    }
    c.mpi = ranks > 1;
    if (rank != 0) quiet = 1; /* rank 0 speaks for the job (every rank gets the same errors: lms_dist_agree) */
    /* before the setup (tokenizing, allocating, writing config.json): a signal then stops the run
       at step 0 with a checkpoint, instead of killing it between config.json and its first
       checkpoint (a run dir that neither starts again nor resumes) */
    install_handlers();
    if (resume) {
        /* besides the fields the table lets --resume change: the command's own flags and the new --steps total */
        static const char *allowed[] = {"out", "resume", "steps", "print-every", "quiet", "ignore-memory-check", "device", NULL};
        for (lms_flag *f = flags; f->name; f++) {
            if (!f->seen) continue;
            const lms_train_field *tfl = lms_train_field_find(f->name);
            int ok = tfl && tfl->over && tfl->flag && !strcmp(tfl->flag, f->name);
            for (int i = 0; allowed[i]; i++) ok |= !strcmp(allowed[i], f->name);
            if (!ok) {
                lms_cli_error("train", "--%s cannot change when resuming: %s/config.json fixes it (only --steps, --decay-steps, --lr, "
                              "--threads and the intervals may change)", f->name, out);
                return 2;
            }
        }
        if (npos) {
            lms_cli_error("train", "unexpected argument '%s' with --resume", pos[0]);
            return 2;
        }
        lms_train_config over = c;
        unsigned mask = 0;
        over.mpi = c.mpi;
        over.ignore_memory_check = ignore_mem;
        snprintf(over.device, sizeof over.device, "%s", device);
        for (int i = 0; i < nf; i++)
            if (tf[i].over && tf[i].flag && lms_args_seen(flags, tf[i].flag)) mask |= tf[i].over;
        for (int i = 0; i < nf; i++) /* a field of a changed group that was not given: 0 keeps the run's */
            if ((tf[i].over & mask) && (tf[i].flags & LMS_TF_ZERO_KEEPS) && !lms_args_seen(flags, tf[i].flag))
                *(int *)((char *)&over + tf[i].offset) = 0;
        if ((mask & LMS_TRAIN_OVER_DECAY) && c.decay_steps < 1) {
            lms_cli_error("train", "--decay-steps must be >= 1 when resuming (the run's horizon is in its config.json)");
            return 2;
        }
        if ((mask & LMS_TRAIN_OVER_LR) && !(c.lr > 0 && isfinite(c.lr))) {
            lms_cli_error("train", "--lr must be a positive number (got %g)", (double)c.lr);
            return 2;
        }
        if (lms_args_seen(flags, "eval-batches") && (c.eval_batches == 0 || c.eval_batches < -1)) {
            lms_cli_error("train", "--eval-batches must be >= 1, or -1 for one per data domain (got %d)", c.eval_batches);
            return 2;
        }
        if (lms_args_seen(flags, "steps") && c.steps < 1) {
            lms_cli_error("train", "--steps must be at least 1");
            return 2;
        }
        st = lms_train_resume(&t, out, lms_args_seen(flags, "steps") ? c.steps : 0, &over, mask, NULL, &err);
        if (st) {
            say_error(rank, &err);
            return exit_for(st);
        }
        if (!quiet)
            fprintf(stderr, "resuming %s at step %lld of %lld\n", out, (long long)lms_train_step(t),
                    (long long)lms_train_get_config(t)->steps);
        if (!quiet && lms_train_checkpoint_ranks(t) != ranks)
            fprintf(stderr, "note: the checkpoint was written by %d MPI rank%s, this job has %d: the same global batches "
                    "and arithmetic continue, but not bit for bit (the gradient sums add in another order)\n",
                    lms_train_checkpoint_ranks(t), lms_train_checkpoint_ranks(t) == 1 ? "" : "s", ranks);
    } else {
        if (init) { /* the shape comes from the init model; a flag given must agree with it (0: take its value) */
            for (int i = 0; i < nf; i++)
                if ((tf[i].flags & LMS_TF_MODEL) && !lms_args_seen(flags, tf[i].flag)) *(int *)((char *)&c + tf[i].offset) = 0;
            if (!lms_path_exists(init) || absolutize(c.init, sizeof c.init, init)) {
                lms_cli_error("train", "--init %s: no such file or directory (give a run dir, a checkpoint, a Hugging Face "
                              "GPT-2 directory or model.safetensors, or an llm.c .bin)", init);
                return 2;
            }
        }
        c.ignore_memory_check = ignore_mem;
        snprintf(c.device, sizeof c.device, "%s", device);
        for (int i = 0; i < nf; i++)
            if (tf[i].type == LMS_TF_ENUM && enum_str[i] && tf[i].parse(enum_str[i], (int *)((char *)&c + tf[i].offset))) {
                lms_cli_error("train", "--%s must be %s (got '%s')", tf[i].flag, tf[i].choices, enum_str[i]);
                return 2;
            }
        if (!data) {
            lms_cli_error("train", "--data is required for a new run (text file(s) or a shards dir); or --resume a run");
            return 2;
        }
        if (c.model.vocab_size < 0) {
            lms_cli_error("train", "--vocab must be >= 0");
            return 2;
        }
        for (int i = -1; i < npos; i++) {
            const char *p = i < 0 ? data : pos[i];
            char abs[LMS_TRAIN_PATH];
            if (absolutize(abs, sizeof abs, p)) {
                lms_cli_error("train", "--data %s: no such file or directory", p);
                return 2;
            }
            if (lms_train_config_add_data(&c, abs, &err)) {
                say_error(rank, &err);
                return 2;
            }
        }
        if (tokenizer && !strcmp(tokenizer, "bytes") && !lms_path_exists(tokenizer))
            strcpy(c.tokenizer, "bytes"); /* by name: checked against shards like any other tokenizer */
        else if (tokenizer && absolutize(c.tokenizer, sizeof c.tokenizer, tokenizer)) {
            lms_cli_error("train", "--tokenizer %s: no such directory (it should hold vocab.json + merges.txt)", tokenizer);
            return 2;
        }
        if (mix) snprintf(c.mix, sizeof c.mix, "%s", mix);
        if ((st = lms_train_config_check(&c, &err))) {
            say_error(rank, &err);
            return 2;
        }
        st = lms_train_open(&t, out, &c, NULL, &err);
        if (st) {
            say_error(rank, &err);
            return exit_for(st);
        }
    }
    const lms_train_config *rc_ = lms_train_get_config(t);
    const lms_gpt_config *mc = &rc_->model;
    if (!quiet) {
        char np[32], fl[32];
        fmt_count(np, sizeof np, (double)lms_gpt_num_params(lms_train_model(t)));
        fmt_count(fl, sizeof fl, lms_gpt_flops_per_token(mc, mc->n_ctx));
        fprintf(stderr, "model: %d layers, %d heads, width %d, context %d, vocab %d: %s params, %s FLOPs/token\n",
                mc->n_layer, mc->n_head, mc->n_embd, mc->n_ctx, mc->vocab_size, np, fl);
        if (rc_->init[0] && lms_train_step(t) == 0) fprintf(stderr, "init: weights from %s (fresh optimizer, step 0)\n", rc_->init);
        fprintf(stderr, "train: %lld steps x %d x %d x %d tokens, lr %g (%s, warmup %lld), %s, %s kernels; run dir %s\n",
                (long long)rc_->steps, rc_->batch, rc_->accum, mc->n_ctx, (double)rc_->lr, lms_sched_name(rc_->schedule),
                (long long)rc_->warmup, lms_cpu_describe(), lms_gpt_ops(lms_train_model(t))->name, out);
        if (ranks > 1)
            fprintf(stderr, "mpi: %d ranks, %d rows of each batch per rank, %d thread%s per rank\n", ranks, rc_->batch / ranks,
                    rc_->threads, rc_->threads == 1 ? "" : "s");
    }
    progress_state ps = {.tty = isatty(2), .quiet = quiet, .last_val = NAN};
    ps.every = print_every > 0 ? print_every : (int)(rc_->steps / 20 > 0 ? rc_->steps / 20 : 1);
    lms_train_hooks hooks = {.progress = on_progress, .user = &ps, .stop = &g_stop};
    int64_t step0 = lms_train_step(t);
    double t0 = lms_now();
    st = lms_train_run(t, &hooks, &err);
    double dt = lms_now() - t0;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    end_line(&ps);
    int code = 0;
    if (st == LMS_OK && quiet) {
        /* nothing to say */
    } else if (st == LMS_OK) {
        char tok[32], fl[32], el[32];
        double done = (double)(lms_train_step(t) - step0);
        double tokens = done * rc_->batch * rc_->accum * mc->n_ctx;
        fmt_count(tok, sizeof tok, tokens);
        fmt_count(fl, sizeof fl, tokens * lms_gpt_flops_per_token(mc, mc->n_ctx));
        fmt_time(el, sizeof el, dt);
        fprintf(stderr, "done: %lld steps (%s tokens, %sFLOP) in %s", (long long)done, tok, fl, el);
        if (dt > 0) fprintf(stderr, " at %.0f tokens/s", tokens / dt);
        float v = lms_train_last_val_loss(t);
        if (!isnan(v)) fprintf(stderr, "; val loss %.4f", (double)v);
        fprintf(stderr, "\nrun: %s (config.json, metrics.jsonl, latest checkpoint %s)\n", out, lms_train_latest(t));
        fprintf(stderr, "next: lmscope sample --model %s --prompt \"...\"   |   lmscope train --out %s --resume --steps %lld\n",
                out, out, (long long)rc_->steps * 2);
    } else if (st == LMS_ERR_INTERRUPTED) {
        if (rank == 0) fprintf(stderr, "lmscope train: interrupted at step %lld of %lld; saved %s\n", (long long)lms_train_step(t),
                (long long)rc_->steps, lms_train_latest(t));
        if (rank == 0) fprintf(stderr, "resume with: lmscope train --out %s --resume\n", out);
        code = g_signal == SIGTERM ? 143 : 130;
    } else {
        say_error(rank, &err);
        code = exit_for(st);
    }
    lms_train_free(t);
    return code;
}
