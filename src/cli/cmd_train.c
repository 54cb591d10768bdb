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
 * The options and the opening of the run (new or resumed) are the library's (src/train/job.h): this
 * file parses, prints and exits.
 * Leaves out: the loop itself (src/train/train.c), which never prints.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu.h"
#include "core/timer.h"
#include "dist/dist.h"
#include "train/job.h"

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

/* Bad flags, and data or tokenizers that do not fit them, are usage errors. */
static int exit_for(lms_status s) { return s == LMS_ERR_ARG || s == LMS_ERR_MISMATCH ? 2 : 1; }

static lms_flag_type flag_type(lms_train_opt_type t) {
    switch (t) {
    case LMS_TRAIN_OPT_INT: return LMS_FLAG_INT;
    case LMS_TRAIN_OPT_I64: return LMS_FLAG_I64;
    case LMS_TRAIN_OPT_FLOAT: return LMS_FLAG_FLOAT;
    case LMS_TRAIN_OPT_STR: return LMS_FLAG_STR;
    case LMS_TRAIN_OPT_BOOL: return LMS_FLAG_BOOL;
    }
    return LMS_FLAG_STR;
}

/* What the run is: resumed where, the model, the plan (rank 0 unless quiet). */
static void print_start(lms_train *t, const char *out, int resumed, int ranks) {
    const lms_train_config *rc = lms_train_get_config(t);
    const lms_gpt_config *mc = &rc->model;
    if (resumed) {
        fprintf(stderr, "resuming %s at step %lld of %lld\n", out, (long long)lms_train_step(t), (long long)rc->steps);
        if (lms_train_checkpoint_ranks(t) != ranks)
            fprintf(stderr, "note: the checkpoint was written by %d MPI rank%s, this job has %d: the same global batches "
                    "and arithmetic continue, but not bit for bit (the gradient sums add in another order)\n",
                    lms_train_checkpoint_ranks(t), lms_train_checkpoint_ranks(t) == 1 ? "" : "s", ranks);
    }
    char np[32], fl[32];
    fmt_count(np, sizeof np, (double)lms_gpt_num_params(lms_train_model(t)));
    fmt_count(fl, sizeof fl, lms_gpt_flops_per_token(mc, mc->n_ctx));
    fprintf(stderr, "model: %d layers, %d heads, width %d, context %d, vocab %d: %s params, %s FLOPs/token\n", mc->n_layer,
            mc->n_head, mc->n_embd, mc->n_ctx, mc->vocab_size, np, fl);
    if (rc->init[0] && lms_train_step(t) == 0) fprintf(stderr, "init: weights from %s (fresh optimizer, step 0)\n", rc->init);
    fprintf(stderr, "train: %lld steps x %d x %d x %d tokens, lr %g (%s, warmup %lld), %s, %s kernels; run dir %s\n",
            (long long)rc->steps, rc->batch, rc->accum, mc->n_ctx, (double)rc->lr, lms_sched_name(rc->schedule),
            (long long)rc->warmup, lms_cpu_describe(), lms_gpt_ops(lms_train_model(t))->name, out);
    if (ranks > 1)
        fprintf(stderr, "mpi: %d ranks, %d rows of each batch per rank, %d thread%s per rank\n", ranks, rc->batch / ranks,
                rc->threads, rc->threads == 1 ? "" : "s");
}

/* The end of a run: what was done and what to do next, or where it stopped. Returns the exit status. */
static int print_end(lms_train *t, lms_status st, const lms_err *err, const char *out, int64_t step0, double dt, int rank,
                     int quiet) {
    const lms_train_config *rc = lms_train_get_config(t);
    const lms_gpt_config *mc = &rc->model;
    if (st == LMS_OK && quiet) return 0;
    if (st == LMS_OK) {
        char tok[32], fl[32], el[32];
        double done = (double)(lms_train_step(t) - step0);
        double tokens = done * rc->batch * rc->accum * mc->n_ctx;
        fmt_count(tok, sizeof tok, tokens);
        fmt_count(fl, sizeof fl, tokens * lms_gpt_flops_per_token(mc, mc->n_ctx));
        fmt_time(el, sizeof el, dt);
        fprintf(stderr, "done: %lld steps (%s tokens, %sFLOP) in %s", (long long)done, tok, fl, el);
        if (dt > 0) fprintf(stderr, " at %.0f tokens/s", tokens / dt);
        float v = lms_train_last_val_loss(t);
        if (!isnan(v)) fprintf(stderr, "; val loss %.4f", (double)v);
        fprintf(stderr, "\nrun: %s (config.json, metrics.jsonl, latest checkpoint %s)\n", out, lms_train_latest(t));
        fprintf(stderr, "next: lmscope sample --model %s --prompt \"...\"   |   lmscope train --out %s --resume --steps %lld\n",
                out, out, (long long)rc->steps * 2);
        return 0;
    }
    if (st == LMS_ERR_INTERRUPTED) {
        if (rank == 0) fprintf(stderr, "lmscope train: interrupted at step %lld of %lld; saved %s\n", (long long)lms_train_step(t),
                               (long long)rc->steps, lms_train_latest(t));
        if (rank == 0) fprintf(stderr, "resume with: lmscope train --out %s --resume\n", out);
        return g_signal == SIGTERM ? 143 : 130;
    }
    if (rank == 0) lms_cli_error("train", "%s", err->msg); /* every rank holds the same message under MPI */
    return exit_for(st);
}

int lms_cmd_train(int argc, char **argv) {
    lms_train_job *j = malloc(sizeof *j); /* its options point into it: it stays put */
    if (!j) {
        lms_cli_error("train", "out of memory");
        return 1;
    }
    lms_train_job_init(j);
    int print_every = 0, quiet = 0;
    const char *device = "cpu";
    lms_flag flags[LMS_TRAIN_JOB_MAX_OPTS + 4];
    int nfl = 0;
    for (int i = 0; i < j->n_opt; i++) /* the job's options: the config-field table's flags among its own */
        flags[nfl++] = (lms_flag){j->opt[i].name, flag_type(j->opt[i].type), j->opt[i].ptr, j->opt[i].help, 0};
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
    for (int i = 0; i < j->n_opt; i++) j->opt[i].seen = flags[i].seen;
    j->device = device;
    const int ranks = lms_dist_size(), rank = lms_dist_rank();
    if (rank != 0) quiet = 1; /* rank 0 speaks for the job (every rank gets the same errors: lms_dist_agree) */
    /* before the setup (tokenizing, allocating, writing config.json): a signal then stops the run
       at step 0 with a checkpoint, instead of killing it between config.json and its first
       checkpoint (a run dir that neither starts again nor resumes) */
    if (!rc) install_handlers();
    lms_err err = {0};
    lms_train *t = NULL;
    lms_status st = rc ? LMS_OK : lms_train_job_open(j, pos, npos, &t, &err);
    const char *out = j->out;
    int resumed = j->resume, all_ranks = j->all_ranks;
    free(j);
    if (rc) return rc == 1 ? 0 : 2;
    if (st) {
        if (rank == 0 || all_ranks) lms_cli_error("train", "%s", err.msg);
        return exit_for(st);
    }
    if (!quiet) print_start(t, out, resumed, ranks);
    progress_state ps = {.tty = isatty(2), .quiet = quiet, .last_val = NAN};
    int64_t steps = lms_train_get_config(t)->steps, step0 = lms_train_step(t);
    ps.every = print_every > 0 ? print_every : (int)(steps / 20 > 0 ? steps / 20 : 1);
    lms_train_hooks hooks = {.progress = on_progress, .user = &ps, .stop = &g_stop};
    double t0 = lms_now();
    st = lms_train_run(t, &hooks, &err);
    double dt = lms_now() - t0;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    end_line(&ps);
    int code = print_end(t, st, &err, out, step0, dt, rank, quiet);
    lms_train_free(t);
    return code;
}
