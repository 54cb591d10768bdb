/* cmd_report.c — the 'report' subcommand: one self-contained HTML page from a sweep.
 *
 *   lmscope report sweeps/demo --out report.html         # opens offline; plots drawn by Vega-Lite
 *   lmscope report sweeps/demo --out r.html --bootstrap 0 --data-dir /usr/share/lmscope/data
 *
 * The work is lms_report_write (src/report/report.h); this file parses flags, finds lmscope's
 * data directory (the vendored charting library and the page template) and prints one summary line.
 * Exit status: 0 written; 1 the sweep cannot be read (no results.db, another schema version, ...)
 * or the page cannot be written (nothing is left half-written); 2 bad usage.
 * Leaves out: everything the page shows (src/report/).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "report/report.h"

#define CMD "report"

int lms_cmd_report(int argc, char **argv) {
    lms_report_opts o;
    lms_report_opts_default(&o);
    const char *out = NULL, *data_dir = NULL;
    int n_boot = o.n_boot, seed = 1, max_tokens = o.max_token_rows;
    lms_flag flags[] = {
        {"out", LMS_FLAG_STR, &out, "the HTML file to write (required; written atomically)", 0},
        {"bootstrap", LMS_FLAG_INT, &n_boot, "bootstrap resamples for the fit intervals and the L(C) band (0: none)", 0},
        {"seed", LMS_FLAG_INT, &seed, "bootstrap seed", 0},
        {"max-token-rows", LMS_FLAG_INT, &max_tokens, "per-token loss rows shown (smallest and largest model together)", 0},
        {"data-dir", LMS_FLAG_STR, &data_dir, "lmscope's data/ directory (vendor/, report/); default: $LMSCOPE_DATA, "
                                              "then beside the executable, then ./data", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Write one self-contained HTML page (no network needed to open it) from a sweep's "
                            "results.db: runs, training curves, the scaling-law fits with the held-out prediction, "
                            "isoFLOP profiles, per-domain losses, every probe suite's curve and shape, per-token "
                            "losses, samples, and what the sweep shows. SWEEP_DIR: the directory of lmscope sweep --out.",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos != 1) {
        lms_cli_error(CMD, "give one sweep directory, e.g. lmscope report sweeps/demo --out report.html (got %d arguments)",
                      npos);
        return 2;
    }
    if (!out) {
        lms_cli_error(CMD, "--out FILE is required (e.g. --out %s/report.html)", pos[0]);
        return 2;
    }
    if (n_boot < 0 || n_boot > 100000 || max_tokens < 0 || seed < 0) {
        lms_cli_error(CMD, "--bootstrap must lie in [0, 100000]; --max-token-rows and --seed must be >= 0");
        return 2;
    }
    char dir[PATH_MAX];
    lms_err err = {0};
    if (lms_report_find_data_dir(data_dir, dir, sizeof dir, &err) != LMS_OK) {
        lms_cli_error(CMD, "%s", err.msg);
        return 1;
    }
    o.sweep_dir = pos[0];
    o.out_path = out;
    o.data_dir = dir;
    o.n_boot = n_boot;
    o.seed = (uint64_t)seed;
    o.max_token_rows = max_tokens;
    lms_report_summary s;
    if (lms_report_write(&o, &s, &err) != LMS_OK) {
        lms_cli_error(CMD, "%s", err.msg);
        return 1;
    }
    printf("wrote %s (%.1f MB): %d runs (%d done, %d failed, %d unfinished), %d suites", out, s.bytes / 1e6, s.n_runs,
           s.n_done, s.n_failed, s.n_unfinished, s.n_suites);
    if (s.fitted) printf("; L(C) R2 %.4f", s.r2_log);
    if (isfinite(s.held_rel_err)) printf(", held-out error %+.2f%%", 100 * s.held_rel_err);
    printf("; %d claims, %d not fully supported\n", s.n_claims, s.n_weak);
    if (s.claims[0]) printf("what this sweep shows (verdict: claim -- evidence):\n%s", s.claims);
    return 0;
}
