/* report.h — one self-contained HTML page from a sweep's results database.
 *
 * Reads SWEEP_DIR/results.db (the SQLite database the sweep runner writes: tables meta, runs,
 * metrics, domain_losses, evals, samples, token_losses; schema_version '1' only), gathers everything the page shows into one JSON
 * document (runs, training curves, per-domain losses, probe-suite evaluations, samples, per-token
 * losses), adds what lmscope computes from it — the scaling-law fits with a held-out prediction
 * (src/scaling/fit.h: lms_fit_runs), a confidence band for L(C) by bootstrap, each suite's curve
 * shape in both metrics (src/eval/shapes.h) — and states the lecture's claims next to the measured
 * evidence ("What this sweep shows"), weak evidence included. The page is the template
 * data/report/template.html with the vendored Vega, Vega-Lite and vega-embed builds
 * (data/vendor/, pinned by tools/vendor/fetch_vega.sh) and the JSON inlined: it needs no network.
 * Failed, pending and running runs are listed in a table and left out of the fits, never dropped;
 * so are learning-rate variants (runs.kind 'lr_sweep', the sweep runner's backward-compatible
 * addition to schema 1: a database without the column reads as all 'grid').
 *
 *   lms_report_opts o; lms_report_opts_default(&o);
 *   o.sweep_dir = "sweeps/demo"; o.out_path = "report.html"; o.data_dir = dir;  // see lms_report_find_data_dir
 *   lms_report_summary s;
 *   if (lms_report_write(&o, &s, &err) != LMS_OK) { ... err.msg ... }
 *
 * Leaves out: drawing (the page's script draws with Vega-Lite), running anything, writing the
 * database.
 */
#ifndef LMS_REPORT_REPORT_H
#define LMS_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define LMS_REPORT_SCHEMA_VERSION "1"

typedef struct {
    const char *sweep_dir; /* directory holding results.db (required) */
    const char *out_path;  /* the HTML file to write, atomically (required) */
    const char *data_dir;  /* lmscope's data/ directory: vendor/ and report/template.html (required) */
    int n_boot;            /* bootstrap resamples for the fits and the L(C) band; 0 = none; default 200 */
    uint64_t seed;         /* bootstrap seed; default 1 */
    int max_token_rows;    /* per-token loss rows kept (the page shows them as coloured spans); default 4000 */
} lms_report_opts;

/* What was written, for the CLI's one-line summary. */
typedef struct {
    int n_runs, n_done, n_failed, n_unfinished; /* unfinished: pending or running */
    int n_suites;                                /* suites with evaluations */
    int fitted;                                  /* L(C) was fitted */
    double r2_log;                               /* its R^2 in log space (NAN when not fitted) */
    double held_rel_err;                         /* held-out relative error of L(C) (NAN when not run) */
    int n_claims, n_weak;                        /* claims stated, of which not (fully) supported */
    char claims[6144];                           /* "verdict: claim -- evidence" per line, as the page states
                                                    them (cut at the end if longer) */
    size_t bytes;                                /* size of the page */
} lms_report_summary;

/* Defaults: n_boot 200, seed 1, max_token_rows 4000; the paths NULL. */
void lms_report_opts_default(lms_report_opts *o);

/* Find lmscope's data directory: `override` when not NULL, else $LMSCOPE_DATA when set (either must
 * hold vendor/vega.min.js, or this fails), else the first of <dir of /proc/self/exe>/../data,
 * <dir of /proc/self/exe>/data, ./data that holds vendor/vega.min.js. out: cap bytes. LMS_ERR_IO with the places tried and how to
 * fix it (run tools/vendor/fetch_vega.sh, or pass --data-dir) when none does. */
lms_status lms_report_find_data_dir(const char *override, char *out, size_t cap, lms_err *err);

/* Write the report. Fails with LMS_ERR_ARG (missing option), LMS_ERR_IO (no results.db, unreadable
 * template or vendor file, cannot write out_path), LMS_ERR_FORMAT (not an lmscope sweep database, a
 * table missing, a template marker unknown), LMS_ERR_MISMATCH (another schema_version), LMS_ERR_NOMEM.
 * Nothing is left at out_path on failure (an existing file there is kept). sum may be NULL. */
lms_status lms_report_write(const lms_report_opts *o, lms_report_summary *sum, lms_err *err);

#endif
