/* cmd_sweep.c — the 'sweep' subcommand: a grid (preset or JSON file) to a plan, --dry-run prints it
 * with a time estimate from a measured step, otherwise the sweep runs with one progress line and
 * an ETA for the whole sweep. Ctrl-C checkpoints the run in flight; run the same command again to
 * continue.
 *
 *   lmscope sweep --preset tiny --data shards --out sweeps/tiny
 *   lmscope sweep --grid grid.json --out sweeps/mine --dry-run
 *   mpirun -np 2 lmscope sweep --preset quick --data shards --out sweeps/q   # runs spread over 2 ranks
 *
 * Under mpirun every rank trains its share of the runs (sweep.h "MPI"), each with the machine's
 * cores shared out (unless --threads or the grid says otherwise), printing its own lines prefixed
 * "[rank N]"; rank 0 prints the summary after every rank has finished, and all exit alike.
 *
 * Exit: 0 every run done, 1 a run failed (the sweep went on; the database says which) or the
 * sweep could not run, 2 bad usage or a bad grid, 130 interrupted.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "dist/dist.h"
#include "scaling/sweep.h"

#define CMD "sweep"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static void fmt_time(char *b, size_t cap, double s) {
    if (!isfinite(s)) snprintf(b, cap, "?");
    else if (s >= 3600) snprintf(b, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60) snprintf(b, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(b, cap, "%.0fs", s);
}

static int g_rank = -1; /* MPI rank when the sweep is spread over several, else -1 */

static void on_progress(const lms_sweep_progress *p, void *user) {
    int tty = *(int *)user;
    char who[24] = "";
    if (g_rank >= 0) snprintf(who, sizeof who, "[rank %d] ", g_rank);
    char el[32], eta[32];
    fmt_time(el, sizeof el, p->elapsed_s);
    fmt_time(eta, sizeof eta, p->eta_s);
    double pct = p->flops_total > 0 ? 100.0 * p->flops_done / p->flops_total : 0;
    if (!strcmp(p->event, "step")) {
        if (!tty) return;
        fprintf(stderr, "\r%s[%d/%d] %-28s step %lld/%lld loss %.4f | sweep %5.1f%% elapsed %s eta %s   ", who, p->run_index,
                p->n_runs, p->run, (long long)p->step, (long long)p->steps, (double)p->loss, pct, el, eta);
        return;
    }
    if (tty) fprintf(stderr, "\r\033[K");
    if (!strcmp(p->event, "failed"))
        fprintf(stderr, "%s[%d/%d] %s FAILED: %s\n", who, p->run_index, p->n_runs, p->run, p->error ? p->error : "");
    else if (!strcmp(p->event, "done") || !strcmp(p->event, "skip"))
        fprintf(stderr, "%s[%d/%d] %s %s | %s %5.1f%% elapsed %s eta %s\n", who, p->run_index, p->n_runs, p->run,
                !strcmp(p->event, "skip") ? "already done" : "done", g_rank >= 0 ? "this rank's share" : "sweep", pct, el, eta);
}

/* A message every rank holds alike, once for the job (rank 0). */
static void say_error(int rank, const lms_err *err) {
    if (rank == 0) lms_cli_error(CMD, "%s", err->msg);
}

static void print_plan(const lms_sweep_plan *p, const double *fps) {
    const lms_sweep_grid *g = &p->grid;
    printf("sweep '%s': %d runs, %d shapes x %d budgets, %s, ctx %d, batch %d x accum %d, vocab %d\n", g->name,
           p->n_runs, g->n_shapes, g->n_budgets, g->wsd ? "WSD with cool-down branches" : "cosine per run", g->run.model.n_ctx,
           g->run.batch, g->run.accum, p->vocab_size);
    printf("%-32s %6s %10s %12s %6s %9s %10s %10s %9s %s\n", "run", "layers", "params", "non-embed", "dim", "lr", "steps",
           "tokens", "FLOPs", fps ? "time" : "");
    double total_t = 0;
    for (int i = 0; i < p->n_runs; i++) {
        const lms_sweep_run_plan *r = &p->run[i];
        char tb[32] = "";
        if (fps && fps[i] > 0) {
            total_t += r->own_flops / fps[i];
            fmt_time(tb, sizeof tb, r->own_flops / fps[i]);
        }
        printf("%-32s %6d %10lld %12lld %6d %9.3g %10lld %10.3g %9.3g %s%s%s\n", r->name, r->model.n_layer,
               (long long)r->params, (long long)r->params_nonembed, r->model.n_embd, (double)r->lr, (long long)r->steps,
               r->tokens, r->flops, tb, r->parent >= 0 ? "  (branch)" : "",
               r->kind == LMS_SWEEP_LR ? "  (lr sweep)" : r->kind == LMS_SWEEP_CONTROL ? "  (control)" : "");
    }
    char tb[32];
    fmt_time(tb, sizeof tb, total_t);
    if (p->n_suites) printf("%d probe suites scored after every run (%s)\n", p->n_suites, g->suites);
    int bf16 = g->run.precision == LMS_PRECISION_BF16;
    if (g->run.mix[0] || bf16) printf("training mix %s; %s\n", g->run.mix[0] ? g->run.mix : "natural", bf16 ? "bf16 products" : "fp32");
    printf("total: %.3g FLOPs trained; largest plan %.1f MiB of memory", p->total_flops, (double)p->mem_bytes / 1048576.0);
    if (fps) printf("; about %s of training at the measured speed of each shape (evaluation extra)", tb);
    printf("\n");
}

/* --dry-run: the plan with a time estimate from a measured step (rank 0 prints). Frees p. */
static int dry_run(lms_sweep_plan *p, int rank) {
    lms_err err = {0};
    double *fps = rank == 0 ? calloc((size_t)p->n_runs, sizeof *fps) : NULL;
    if (fps && lms_sweep_measure(p, 10.0, fps, &err)) {
        lms_cli_error(CMD, "measuring a step (no time estimate): %s", err.msg);
        free(fps);
        fps = NULL;
    }
    if (rank == 0) print_plan(p, fps);
    free(fps);
    lms_sweep_plan_free(p);
    return 0;
}

int lms_cmd_sweep(int argc, char **argv) {
    lms_sweep_source src = {.threads = -1};
    const char *out = NULL;
    int dry = 0;
    lms_flag flags[] = {
        {"preset", LMS_FLAG_STR, &src.preset, "a built-in grid: demo (<= 30 min on 2 cores), quick (<= 10 min), emergence (controlled tasks: data synth), tiny (tests)", 0},
        {"grid", LMS_FLAG_STR, &src.grid, "a JSON grid file (docs/scaling.md \"Sweeps\")", 0},
        {"data", LMS_FLAG_STR, &src.data, "token shards dir made by 'lmscope data prepare' (overrides the grid's \"data\")", 0},
        {"tokenizer", LMS_FLAG_STR, &src.tokenizer, "the shards' tokenizer dir (overrides the grid's \"tokenizer\")", 0},
        {"suites", LMS_FLAG_STR, &src.suites, "probe suites scored after every run: a dir or files joined by ',' (overrides the "
                                              "grid's; presets default to data/suites when it exists; 'none' for none)", 0},
        {"out", LMS_FLAG_STR, &out, "sweep directory: runs/<name>/ and results.db (required unless --dry-run)", 0},
        {"threads", LMS_FLAG_INT, &src.threads, "OpenMP threads per run (default: the grid's, 0 = all cores)", 0},
        {"dry-run", LMS_FLAG_BOOL, &dry, "print the plan and a time estimate from a measured step; train nothing", 0},
        {0}};
    char **pos;
    int npos;
    const int ranks = lms_dist_size(), rank = lms_dist_rank();
    int rc = lms_args_parse(CMD, "Train a grid of model sizes x token budgets into one sweep directory, resumably, with "
                            "the results in SWEEP_DIR/results.db.", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    const char *usage = npos ? "unexpected argument" : !!src.preset == !!src.grid ? "give exactly one of --preset "
                        "demo|quick|emergence|tiny and --grid grid.json" : !out && !dry ? "give --out SWEEP_DIR (or --dry-run to see the plan)" : NULL;
    if (usage) {
        if (npos) lms_cli_error(CMD, "%s '%s'", usage, pos[0]);
        else lms_cli_error(CMD, "%s", usage);
        return 2;
    }
    lms_err err = {0};
    lms_sweep_plan *p;
    lms_status st = lms_sweep_plan_open(&p, &src, &err);
    if (st) {
        say_error(rank, &err);
        return st == LMS_ERR_ARG ? 2 : 1;
    }
    if (dry) return dry_run(p, rank);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int tty = isatty(2), failed = 0, n = p->n_runs;
    lms_sweep_opts o = lms_sweep_opts_for_ranks(p, &src);
    o.progress = on_progress;
    o.user = &tty;
    o.stop = &g_stop;
    if (ranks > 1) {
        g_rank = rank;
        int th = o.threads ? o.threads : p->grid.run.threads;
        if (rank == 0) fprintf(stderr, "sweep: %d runs spread over %d MPI ranks, %d thread%s each\n", n, ranks, th, th == 1 ? "" : "s");
    }
    st = lms_sweep_run_job(p, out, &o, &failed, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    lms_sweep_plan_free(p);
    if (st) {
        say_error(rank, &err);
        return st == LMS_ERR_INTERRUPTED ? 130 : st == LMS_ERR_ARG ? 2 : 1;
    }
    if (failed) {
        if (rank == 0) lms_cli_error(CMD, "%d of %d runs failed (their errors are in %s/results.db, table runs); run the same command "
                      "again to retry them", failed, n, out);
        return 1;
    }
    if (rank == 0) fprintf(stderr, "sweep: %d runs done; results in %s/results.db\n", n, out);
    return 0;
}
