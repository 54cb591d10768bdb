/* main.c — lmscope's entry point: one table of subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/cpu.h"
#include "dist/dist.h"

#define LMS_VERSION "0.1.0"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"train", lms_cmd_train, "train a GPT on text, token shards or a run to resume"},
    {"sample", lms_cmd_sample, "generate text from a checkpoint (ours, Hugging Face GPT-2, llm.c)"},
    {"bench", lms_cmd_bench, "measure a full training step: tokens/s, GFLOP/s, the sgemm ceiling"},
    {"tokenizer", lms_cmd_tokenizer, "byte-level BPE: train | encode | decode | show"},
    {"data", lms_cmd_data, "token shards and looking at the data: prepare | stats | sample | grep | dedup | synth"},
    {"eval", lms_cmd_eval, "score a model on probe suites and per-domain loss; over a run's checkpoints"},
    {"score", lms_cmd_score, "per-token log-probabilities of a text, total and bits per byte"},
    {"inspect", lms_cmd_inspect, "per-token loss and rank of the true token, coloured or as HTML; --compare"},
    {"shapes", lms_cmd_shapes, "label each suite's curve flat/smooth/emergent/inverse/U-shaped/noisy"},
    {"sweep", lms_cmd_sweep, "train a grid of sizes x token budgets into one resumable sweep dir with a results database"},
    {"fit", lms_cmd_fit, "scaling laws from runs: L(C), L(N, D), intervals, compute-optimal size, held-out test"},
    {"report", lms_cmd_report, "one self-contained HTML page from a sweep: fits, curves, suite shapes, claims"},
    {"export", lms_cmd_export, "write a model for other tools: a Hugging Face GPT-2 dir, an llm.c checkpoint"},
    {"serve", lms_cmd_serve, "an OpenAI-compatible completions server (for lm-evaluation-harness, OpenAI clients)"},
};

static void usage(FILE *fp) {
    fprintf(fp, "lmscope %s — train GPT-style language models and see why they work\n\n"
                "usage: lmscope <command> [flags]   (lmscope <command> --help for its flags)\n\ncommands:\n",
            LMS_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "  %-10s %s\n", "version", "print the version and the CPU features in use");
}

/* OpenMP's default wait policy spins idle threads for a while between parallel regions; when
   another process is busy on the same cores (a browser, a compile, a second run) that spinning
   steals the cores the working threads need, and a training step gets ~5-10x slower (measured:
   30 steps of L2 C64 on 2 threads beside a busy machine, 14.2 s by default, 3.0 s passive, 6.1 s
   with GOMP_SPINCOUNT=10000). libgomp reads the policy once, when the program loads, so lmscope
   sets OMP_WAIT_POLICY=PASSIVE and re-executes itself, unless the user chose a policy (either
   variable set). If the exec fails we simply go on with the default. */
static void prefer_passive_waiting(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("OMP_WAIT_POLICY");
}

/* Under mpirun, MPI starts here, after the re-exec above (the exec'd process keeps its pid and
   environment, which is how mpirun tracks it) and only for the commands that spread their work over
   ranks; every other command refuses to run as several ranks, which would each do the whole job. */
static int run_command(const command *c, int argc, char **argv) {
    int launched = lms_dist_launched();
    if (!launched) return c->fn(argc - 1, argv + 1);
    if (strcmp(c->name, "train") && strcmp(c->name, "sweep")) {
        if (launched == 1) return c->fn(argc - 1, argv + 1);
        if (atoi(getenv("OMPI_COMM_WORLD_RANK") ? getenv("OMPI_COMM_WORLD_RANK") : "0") == 0)
            fprintf(stderr, "lmscope %s: does not spread its work over MPI ranks (only train and sweep do); run it "
                            "without mpirun, or with -np 1\n", c->name);
        return 2;
    }
    lms_err err = {0};
    if (lms_dist_init(&argc, &argv, &err)) {
        fprintf(stderr, "lmscope %s: %s\n", c->name, err.msg);
        return 2;
    }
    int rc = c->fn(argc - 1, argv + 1);
    lms_dist_finalize();
    return rc;
}

int main(int argc, char **argv) {
    prefer_passive_waiting(argv);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        const char *wp = getenv("OMP_WAIT_POLICY"), *sc = getenv("GOMP_SPINCOUNT");
        printf("lmscope %s (%s; OpenMP wait policy %s%s%s%s)\n", LMS_VERSION, lms_cpu_describe(), wp ? wp : "default",
               sc ? ", GOMP_SPINCOUNT=" : "", sc ? sc : "", lms_dist_built() ? "; MPI" : "");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return run_command(&commands[i], argc, argv);
    fprintf(stderr, "lmscope: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
