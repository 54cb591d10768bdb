/* cmd_shapes.c — the 'shapes' subcommand: label each suite's curve from eval results.
 *
 *   lmscope shapes results.jsonl                        # x = FLOPs; acc and logp labelled
 *   lmscope shapes a.jsonl b.jsonl --x step --continuous prob --json
 *   lmscope eval ... | lmscope shapes -                 # '-' reads stdin
 *
 * Reads the JSON Lines rows that 'eval' writes (docs/formats.md, "Evaluation results"), groups
 * them by suite, places each row at x = its flops (--x tokens|params|step) and labels the suite's
 * curve twice with lms_shape_classify (src/eval/shapes.h; the reading, grouping and labelling are
 * src/eval/shape_table.h's, this file parses flags and prints): the discrete metric (acc ± acc_se) and
 * the continuous one (logp ± logp_se, or prob ± prob_se with --continuous prob). Rows of kind
 * "domain" have no accuracy; their continuous metric is minus the loss (± loss_se when the row has
 * it, else exact: then every change counts as significant). Rows without x are skipped and counted.
 * Output: a table, then one line per suite and metric saying why; --json: one object per suite.
 *
 * Exit status: 0 done; 1 a file is unreadable or a line malformed (file:line in the message);
 * 2 bad usage. Leaves out: plotting (the report draws the curves), fitting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "eval/shape_table.h"
#include "eval/shapes.h"

#define CMD "shapes"

/* v in fmt; "-" when there is no number, "inf" for exact points that differ */
static void fmt_num(char *buf, size_t cap, const lms_shape_labelled *l, double v, const char *fmt) {
    if (!l->have || !l->ok || isnan(v)) snprintf(buf, cap, "-");
    else if (isinf(v)) snprintf(buf, cap, "%sinf", v < 0 ? "-" : "");
    else snprintf(buf, cap, fmt, v);
}

/* One JSON object per suite; 0 or 1. */
static int print_json(const lms_shape_table *t) {
    for (int i = 0; i < t->n; i++)
        if (lms_cli_print_json(CMD, lms_shape_suite_json(t, i), 6)) return 1;
    return 0;
}

static void print_table(const lms_shape_table *t) {
    int w = 5;
    for (int i = 0; i < t->n; i++) w = (int)strlen(t->s[i].name) > w ? (int)strlen(t->s[i].name) : w;
    if (w > 40) w = 40;
    printf("x = %s; discrete = acc, continuous = %s (domain rows: -loss); significant = beyond z_crit combined SE\n\n",
           t->x, t->cont);
    printf("%-*s %5s  %-10s %-10s  %9s %6s %5s %3s  %9s %6s %5s %3s\n", w, "suite", "rows", "discrete", "continuous",
           "acc chg", "max z", "f80", "rev", "cont chg", "max z", "f80", "rev");
    for (int i = 0; i < t->n; i++) {
        const lms_shape_labelled *d = &t->s[i].ldisc, *c = &t->s[i].lcont;
        char b[8][32];
        fmt_num(b[0], 32, d, d->r.net_delta, "%+.3g");
        fmt_num(b[1], 32, d, d->r.max_z, "%.1f");
        fmt_num(b[2], 32, d, d->r.f80, "%.2f");
        fmt_num(b[3], 32, d, d->r.sign_changes, "%.0f");
        fmt_num(b[4], 32, c, c->r.net_delta, "%+.3g");
        fmt_num(b[5], 32, c, c->r.max_z, "%.1f");
        fmt_num(b[6], 32, c, c->r.f80, "%.2f");
        fmt_num(b[7], 32, c, c->r.sign_changes, "%.0f");
        printf("%-*.*s %5d  %-10s %-10s  %9s %6s %5s %3s  %9s %6s %5s %3s\n", w, w, t->s[i].name, t->s[i].rows,
               lms_shape_label_text(d), lms_shape_label_text(c), b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    }
    printf("\nwhy:\n");
    for (int i = 0; i < t->n; i++) {
        for (int k = 0; k < 2; k++) {
            const lms_shape_labelled *l = k == 0 ? &t->s[i].ldisc : &t->s[i].lcont;
            if (!l->have) continue;
            const char *mname = k == 0 ? "acc" : t->s[i].domain ? "-loss" : t->cont;
            printf("  %s %s: %s%s\n", t->s[i].name, mname, l->ok ? l->r.detail : l->err,
                   k == 1 && t->s[i].exact ? " (no loss_se: every change counts)" : "");
        }
    }
}

int lms_cmd_shapes(int argc, char **argv) {
    const char *xname = "flops", *cname = "logp";
    int as_json = 0;
    double alpha = 0.05;
    lms_flag flags[] = {
        {"x", LMS_FLAG_STR, &xname, "compute axis: flops | tokens | params | step", 0},
        {"continuous", LMS_FLAG_STR, &cname, "continuous metric: logp (mean log-prob of the right answer) | prob", 0},
        {"json", LMS_FLAG_BOOL, &as_json, "one JSON object per suite instead of the table", 0},
        {"alpha", LMS_FLAG_DOUBLE, &alpha, "family-wise false-alarm rate for a significant change (docs/shapes.md)", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Label each suite's curve (flat, smooth, emergent, inverse, U-shaped, noisy) from "
                            "'eval' results (JSON Lines files; - for stdin).", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos == 0) {
        lms_cli_error(CMD, "give one or more results files (JSON Lines from 'lmscope eval'), e.g. lmscope shapes results.jsonl");
        return 2;
    }
    if (strcmp(xname, "flops") && strcmp(xname, "tokens") && strcmp(xname, "params") && strcmp(xname, "step")) {
        lms_cli_error(CMD, "--x %s: expected flops, tokens, params or step", xname);
        return 2;
    }
    if (strcmp(cname, "logp") && strcmp(cname, "prob")) {
        lms_cli_error(CMD, "--continuous %s: expected logp or prob", cname);
        return 2;
    }
    if (!(alpha > 0 && alpha < 1)) {
        lms_cli_error(CMD, "--alpha %g: must lie strictly between 0 and 1", alpha);
        return 2;
    }
    lms_shape_opts opts;
    lms_shape_opts_default(&opts);
    opts.alpha = alpha;
    lms_shape_table t;
    lms_err err = {0};
    int code = 1;
    if (lms_shape_table_read(&t, (const char *const *)pos, npos, xname, cname, &err)) lms_cli_error(CMD, "%s", err.msg);
    else if (t.skipped)
        fprintf(stderr, "lmscope %s: %d row%s without \"%s\" skipped (try --x step or --x params)\n", CMD, t.skipped,
                t.skipped == 1 ? "" : "s", xname);
    if (!err.code && t.n == 0) lms_cli_error(CMD, "no rows with \"%s\" in the given files; nothing to label", xname);
    else if (!err.code) {
        lms_shape_table_label(&t, &opts);
        code = as_json ? print_json(&t) : (print_table(&t), 0);
        if (fflush(stdout) != 0) code = 1;
    }
    lms_shape_table_free(&t);
    return code;
}
