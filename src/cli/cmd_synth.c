/* cmd_synth.c — 'lmscope data synth': write the controlled tasks (data/synth.h) as corpus domains
 * and held-out probe suites. Parses flags, calls lms_synth_write, prints what it wrote. */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "data/synth.h"

int lms_cmd_data_synth(int argc, char **argv) {
    const char *cmd = "data synth", *out = NULL;
    lms_synth_config c = lms_synth_defaults();
    int64_t seed = (int64_t)c.seed;
    lms_flag flags[] = {
        {"out", LMS_FLAG_STR, &out, "output directory: OUT/corpus/<domain>.txt and OUT/suites/<suite>.jsonl (required)", 0},
        {"seed", LMS_FLAG_I64, &seed, "every random choice follows from it", 0},
        {"add-problems", LMS_FLAG_I64, &c.add_problems, "addition lines (synth_addition)", 0},
        {"copy-lines", LMS_FLAG_I64, &c.copy_lines, "copy lines (synth_copy)", 0},
        {"chant-lines", LMS_FLAG_I64, &c.chant_lines, "chant lines (synth_chants)", 0},
        {"items", LMS_FLAG_INT, &c.items, "items per suite (10..500), all held out of the training text", 0},
        {"lines-per-doc", LMS_FLAG_INT, &c.lines_per_doc, "lines per document", 0},
        {"add-reversed", LMS_FLAG_BOOL, &c.add_reversed, "write each sum least significant digit first", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd,
                            "Write controlled tasks whose difficulty suits laptop compute: multi-digit addition\n"
                            "(exact match vs per-digit accuracy: the mirage), copying random pseudo-word strings\n"
                            "(in-context gain: induction) and memorised chants to be copied with one word changed\n"
                            "(memorisation against copying: inverse or U-shaped scaling). Held-out suite items never\n"
                            "occur in the training text. Mix the domains into training with --mix (docs/experiments.md).\n\n"
                            "usage: lmscope data synth --out DIR [--seed 1]",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (!out || npos) {
        lms_cli_error(cmd, npos ? "takes no positional arguments (see --help)" : "--out DIR is required");
        return 2;
    }
    c.seed = (uint64_t)seed;
    char corpus[4096], suites[4096];
    snprintf(corpus, sizeof corpus, "%s/corpus", out);
    snprintf(suites, sizeof suites, "%s/suites", out);
    lms_err err = {0};
    lms_status st = lms_synth_write(corpus, suites, &c, &err);
    if (st) {
        lms_cli_error(cmd, "%s", err.msg);
        return st == LMS_ERR_ARG ? 2 : 1;
    }
    printf("wrote %s/{synth_addition,synth_copy,synth_chants}.txt (%lld, %lld, %lld lines) and %d suites of %d "
           "held-out items in %s\n", corpus, (long long)c.add_problems, (long long)c.copy_lines, (long long)c.chant_lines,
           lms_synth_n_suites(), c.items, suites);
    return 0;
}
