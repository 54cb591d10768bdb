/* cmd_inspect.c — the 'inspect' subcommand: per-token loss you can see.
 *
 *   lmscope inspect --model runs/s3 --text @file.txt                  # coloured by loss on a terminal
 *   lmscope inspect --model runs/s1 --compare runs/s4 --text @file.txt --html out.html
 *   lmscope inspect --model runs/s3 --classes [--data shards/] [--domain quotes] [--compare runs/s4]
 *
 * Text mode: every token coloured by its loss (ANSI 256-colour backgrounds when stdout is a
 * terminal or --color always; otherwise plain "[token|loss|rank]" markers), then the hardest
 * tokens with the rank of the true token and the totals. --compare M2 colours by log p(M2) −
 * log p(M1) and lists the tokens where M2 is much better / worse (both models must share a
 * tokenizer). --html writes a self-contained page (eval/tokhtml.h) as well.
 * Classes mode: the loss by token class and frequency bucket over a domain's validation windows
 * (eval/tokloss.h); the data defaults to the run's own (its config.json).
 *
 * Exit status: 0 done; 1 a model or the data could not be read; 2 bad usage (flags, missing or
 * empty text, different tokenizers).
 * The classes mode is one library call (eval/tokclasses.h); the text mode scores with eval/tokloss.h.
 * Leaves out: probe suites (cmd_eval.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/textarg.h"
#include "core/cpu.h"
#include "core/fileio.h"
#include "eval/lm.h"
#include "eval/tokclasses.h"
#include "eval/tokhtml.h"
#include "eval/tokloss.h"

#define CMD "inspect"

/* ANSI 256-colour backgrounds (light, with black text) for a loss and for a difference. */
static int loss_bg(double loss) {
    static const double edge[] = {0.5, 1, 2, 3, 4, 6};
    static const int col[] = {157, 193, 229, 223, 217, 210, 203};
    int k = 0;
    while (k < 6 && loss >= edge[k]) k++;
    return col[k];
}

static int diff_bg(double d) {
    if (d >= 2) return 75;
    if (d >= 1) return 117;
    if (d >= 0.25) return 153;
    if (d > -0.25) return 255;
    if (d > -1) return 224;
    if (d > -2) return 217;
    return 203;
}

/* Write token bytes for the coloured stream: newlines as a visible ↵ then a real newline (with the
   colour reset first, so backgrounds do not run to the edge), tabs as they are, other controls escaped. */
static void put_colored(const char *s, size_t len, int bg, int color) {
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '\n') j++;
        if (j > i) {
            if (color) printf("\x1b[48;5;%dm\x1b[38;5;16m", bg);
            for (size_t k = i; k < j; k++) {
                unsigned char c = (unsigned char)s[k];
                if (c < 0x20 && c != '\t') printf("\\x%02x", c);
                else putchar(c);
            }
            if (color) printf("\x1b[0m");
        }
        if (j < len) {
            if (color) printf("\x1b[48;5;%dm\x1b[38;5;16m\xe2\x86\xb5\x1b[0m\n", bg);
            else printf("\xe2\x86\xb5\n");
            j++;
        }
        i = j;
    }
}

static void print_text_view(const lms_tokloss *a, const lms_tokloss *b, const lms_tokloss_cmp *cmp, const char *text,
                            int color, int ranks) {
    size_t carry_off = 0, carry_len = 0;
    for (size_t i = 0; i < a->n; i++) {
        const lms_tokloss_tok *t = &a->tok[i];
        if (t->len == 0) continue;
        size_t start = carry_len ? carry_off : t->off, len = t->off + t->len - start;
        size_t show = i + 1 == a->n ? len : lms_tok_utf8_complete(text + start, len);
        if (color) {
            int bg = !t->scored ? 252 : b ? diff_bg(cmp->diff[i]) : loss_bg(-t->logp);
            put_colored(text + start, show, bg, 1);
            if (ranks && t->scored) printf("\x1b[2m%d\x1b[22m", b ? b->tok[i].rank : t->rank);
        } else {
            char esc[512];
            lms_tok_escape(text + start, show, esc, sizeof esc);
            if (!t->scored) printf("[%s|-]", esc);
            else if (b) printf("[%s|%+.2f|r%d>r%d]", esc, cmp->diff[i], t->rank, b->tok[i].rank);
            else printf("[%s|%.2f|r%d]", esc, -t->logp, t->rank);
            if (memchr(text + start, '\n', show)) putchar('\n');
        }
        carry_off = start + show;
        carry_len = len - show;
    }
    putchar('\n');
    if (color) {
        printf("\n");
        if (b) {
            const double d[] = {-2, -1, -0.25, 0, 0.25, 1, 2};
            for (int k = 0; k < 7; k++) printf("\x1b[48;5;%dm\x1b[38;5;16m %+g \x1b[0m", diff_bg(d[k]), d[k]);
            printf("  log p(B) - log p(A), nats (blue: B better)\n");
        } else {
            const double l[] = {0, 0.5, 1, 2, 3, 4, 6};
            for (int k = 0; k < 7; k++) printf("\x1b[48;5;%dm\x1b[38;5;16m %g%s \x1b[0m", loss_bg(l[k]), l[k], k == 6 ? "+" : "");
            printf("  loss, nats%s\n", ranks ? "; dim numbers: rank of the true token" : "");
        }
    } else {
        printf("\n(each token as [text|%s])\n", b ? "log p(B) - log p(A)|rank A>rank B" : "loss in nats|rank of the true token");
    }
}

static void tok_quote(const char *text, const lms_tokloss_tok *t, char *out, size_t cap) {
    char esc[256];
    snprintf(out, cap, "\"%s\"", lms_tok_escape(text + t->off, t->len, esc, sizeof esc));
}

static void print_summary(const char *name, const lms_tokloss *r) {
    printf("%s: %lld tokens scored (%lld bytes); total log-prob %.4f nats; mean loss %.4f nats/token; %.4f bits/byte\n",
           name, (long long)r->scored, (long long)r->bytes, r->sum_logp, r->mean_loss, r->bpb);
}

static void print_hardest(const lms_tokloss *a, const char *text) {
    size_t idx[10];
    int n = lms_tokloss_hardest(a, idx, 10);
    printf("hardest tokens:\n%6s  %-22s %8s %8s\n", "pos", "token", "loss", "rank");
    for (int k = 0; k < n; k++) {
        char q[300];
        tok_quote(text, &a->tok[idx[k]], q, sizeof q);
        printf("%6zu  %-22s %8.3f %8d\n", idx[k], q, -a->tok[idx[k]].logp, a->tok[idx[k]].rank);
    }
}

static void print_compare(const lms_tokloss *a, const lms_tokloss *b, const lms_tokloss_cmp *c, const char *text) {
    printf("mean log p(B) - log p(A): %+.4f nats/token over %lld tokens; B much better (>= %.2g nats) on %lld tokens, "
           "much worse on %lld\n", c->mean_diff, (long long)c->scored, c->threshold, (long long)c->much_better,
           (long long)c->much_worse);
    for (int dir = 0; dir < 2; dir++) {
        int n = dir ? c->n_worse : c->n_better;
        printf("where B is %s (top %d):\n", dir ? "worse" : "better", n);
        if (n) printf("%6s  %-22s %9s %9s %8s %7s %7s\n", "pos", "token", "logp A", "logp B", "B - A", "rank A", "rank B");
        for (int k = 0; k < n; k++) {
            size_t i = dir ? c->worse[k] : c->better[k];
            char q[300];
            tok_quote(text, &a->tok[i], q, sizeof q);
            printf("%6zu  %-22s %9.3f %9.3f %+8.3f %7d %7d\n", i, q, a->tok[i].logp, b->tok[i].logp, c->diff[i], a->tok[i].rank,
                   b->tok[i].rank);
        }
    }
}

/* ---- classes mode ---- */

static void print_classes(const lms_tokloss_breakdown *bd, const char *desc, const char *freq_src) {
    int two = bd->n_models == 2;
    printf("%s: %d batches, %lld tokens; mean loss %.4f nats/token%s", desc, bd->batches, (long long)bd->all.tokens,
           bd->all.loss[0] / (double)bd->all.tokens, two ? " (A), " : "\n");
    if (two) printf("%.4f (B)\n", bd->all.loss[1] / (double)bd->all.tokens);
    for (int pass = 0; pass < 2; pass++) {
        if (pass && !bd->has_freq) {
            printf("(no frequency buckets: no training tokens to count)\n");
            break;
        }
        if (pass) printf("\nfrequency buckets by rank among %s:", freq_src);
        printf("\n%-14s %7s %10s %10s", pass ? "frequency" : "class", "share", "tokens", two ? "loss A" : "mean loss");
        if (two) printf(" %10s %10s", "loss B", "B - A");
        printf(" %10s\n", "of total");
        int n = pass ? LMS_FB_N : LMS_TC_N;
        for (int k = 0; k < n; k++) {
            const lms_tokloss_bin *bin = pass ? &bd->freq[k] : &bd->cls[k];
            if (!bin->tokens) continue;
            double la = bin->loss[0] / (double)bin->tokens;
            printf("%-14s %6.1f%% %10lld %10.4f", pass ? lms_freq_bucket_name(k) : lms_tok_class_name(k),
                   100.0 * (double)bin->tokens / (double)bd->all.tokens, (long long)bin->tokens, la);
            if (two) printf(" %10.4f %+10.4f", bin->loss[1] / (double)bin->tokens, (bin->loss[0] - bin->loss[1]) / (double)bin->tokens);
            printf(" %9.1f%%\n", 100.0 * bin->loss[0] / bd->all.loss[0]); /* share of the total loss */
        }
    }
}

static void print_extremes(const lms_tokloss_breakdown *bd, const lms_tokenizer *tok) {
    uint32_t easy[10], hard[10];
    int ne, nh;
    int64_t minc = bd->all.tokens >= 20000 ? 20 : 5;
    lms_tokloss_breakdown_extremes(bd, minc, 10, easy, &ne, hard, &nh);
    for (int pass = 0; pass < 2; pass++) {
        printf("\n%s tokens (at least %lld occurrences), mean loss%s:\n", pass ? "hardest" : "easiest", (long long)minc,
               bd->n_models == 2 ? " of A" : "");
        int n = pass ? nh : ne;
        for (int k = 0; k < n; k++) {
            uint32_t id = pass ? hard[k] : easy[k];
            size_t tl = 0;
            const char *tb = lms_tokenizer_token(tok, id, &tl);
            char esc[256], q[300];
            snprintf(q, sizeof q, "\"%s\"", lms_tok_escape(tb ? tb : "", tb ? tl : 0, esc, sizeof esc));
            printf("  %-20s %8.3f  (%lld)\n", q, bd->id_loss[id] / (double)bd->id_tokens[id], (long long)bd->id_tokens[id]);
        }
    }
}

/* What a failed lms_tokclasses_run means for the user; the exit status. */
static int classes_error(const lms_tokclasses *c, const lms_lm *lm, const char *data, const lms_err *err) {
    if (c->step == LMS_TOKCLASSES_DATA && c->data.failed == LMS_LM_DATA_TOKENIZER) {
        lms_cli_error(CMD, "%s", err->msg);
        return 2;
    }
    if (c->step == LMS_TOKCLASSES_DATA && data) {
        lms_cli_error(CMD, "--data %s: %s", data, err->msg);
        return err->code == LMS_ERR_ARG ? 2 : 1;
    }
    if (c->step == LMS_TOKCLASSES_DATA && c->data.failed != LMS_LM_DATA_OPEN) {
        lms_cli_error(CMD, "--classes needs --data SHARDS_DIR (the model %s is neither a run directory nor a checkpoint "
                      "in one, whose config.json names its data)", lm->path);
        return 2;
    }
    if (c->step == LMS_TOKCLASSES_DATA) lms_cli_error(CMD, "the run's data (%s): %s; give --data", c->data.rc.data[0], err->msg);
    else lms_cli_error(CMD, "%s", err->msg);
    return c->step == LMS_TOKCLASSES_DOMAIN || (c->step == LMS_TOKCLASSES_SCORE && err->code == LMS_ERR_ARG) ? 2 : 1;
}

static int run_classes(lms_lm *lm, lms_lm *lm2, const lms_tokclasses_opts *o, int json) {
    lms_err err = {0};
    lms_tokclasses c;
    int rc = 0;
    if (lms_tokclasses_run(&c, lm, lm2, o, &err)) rc = classes_error(&c, lm, o->data, &err);
    else if (json) {
        json_t *root = lms_tokclasses_json(&c);
        rc = !root || json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(6)) ? 1 : 0;
        putchar('\n');
        json_decref(root);
    } else {
        printf("model A: %s\n", lm->path);
        if (lm2) printf("model B: %s\n", lm2->path);
        print_classes(&c.bd, c.desc, c.freq_src);
        print_extremes(&c.bd, lm->tok);
    }
    lms_tokclasses_free(&c);
    return rc;
}

/* Text mode: score the text with one model (or two), print the view, the summary and the hardest
   tokens (or the comparison), and write --html. The exit status. */
typedef struct {
    const char *text, *name_a, *name_b, *html; /* name_b: --compare, or NULL */
    size_t len;
    int color, ranks, top;
    double threshold;
} text_job;

static int run_text(const lms_lm *lm, const lms_lm *lm2, const text_job *j) {
    lms_tokloss a = {0}, b = {0};
    lms_tokloss_cmp cmp = {0};
    lms_err err = {0};
    lms_tokloss_opts o = {.top_k = j->html ? j->top : 0};
    lms_status st;
    int rc = 0;
    if ((st = lms_tokloss_text(&a, lm->gpt, lm->tok, j->text, j->len, &o, &err)) ||
        (lm2 && ((st = lms_tokloss_text(&b, lm2->gpt, lm2->tok, j->text, j->len, &o, &err)) ||
                 (st = lms_tokloss_compare(&cmp, &a, &b, j->threshold, &err))))) {
        lms_cli_error(CMD, "%s", err.msg);
        rc = st == LMS_ERR_ARG || st == LMS_ERR_MISMATCH ? 2 : 1;
        goto done;
    }
    print_text_view(&a, lm2 ? &b : NULL, &cmp, j->text, j->color, j->ranks);
    printf("\n");
    print_summary(lm2 ? "A" : j->name_a, &a);
    if (lm2) print_summary("B", &b);
    if (lm2) printf("(A = %s, B = %s)\n", j->name_a, j->name_b);
    if (!a.bos) printf("(the tokenizer has no <|endoftext|>: the first token is not scored)\n");
    if (a.windowed || b.windowed)
        printf("note: the text (%zu tokens) is longer than the context (%d): scored with a sliding window\n", a.n,
               a.windowed ? a.n_ctx : b.n_ctx);
    printf("\n");
    if (lm2) print_compare(&a, &b, &cmp, j->text);
    else print_hardest(&a, j->text);
    if (j->html) {
        lms_tokhtml h = {.text = j->text, .tok = lm->tok, .a = &a, .name_a = j->name_a,
                         .b = lm2 ? &b : NULL, .name_b = j->name_b, .cmp = lm2 ? &cmp : NULL};
        if (lms_tokhtml_write(j->html, &h, &err)) {
            lms_cli_error(CMD, "--html %s: %s", j->html, err.msg);
            rc = 1;
            goto done;
        }
        printf("\nwrote %s\n", j->html);
    }
done:
    lms_tokloss_cmp_free(&cmp);
    lms_tokloss_free(&a);
    lms_tokloss_free(&b);
    return rc;
}

/* The flag checks before anything is read; 0 or 2 (message printed). */
static int check_flags(const text_job *j, const char *model_path, int classes, int threads, int batches, int extra) {
    if (j->color < 0 || threads < 0 || j->top < 0 || j->top > LMS_TOKLOSS_MAX_TOP || !(j->threshold > 0) || batches < 0)
        lms_cli_error(CMD, j->color < 0 ? "--color must be auto, always or never" : threads < 0 ? "--threads must be >= 0"
                      : batches < 0 ? "--batches must be >= 0" : !(j->threshold > 0) ? "--threshold must be > 0"
                      : "--top must be 0..10");
    else if (!model_path)
        lms_cli_error(CMD, "--model is required (a run dir, a .safetensors file, a Hugging Face GPT-2 dir or an llm.c .bin)");
    else if (classes && (j->text || j->html)) lms_cli_error(CMD, "--classes scores validation data: give it without --text and --html");
    else if (!classes && extra) lms_cli_error(CMD, "--data, --domain and --json go with --classes");
    else return 0;
    return 2;
}

int lms_cmd_inspect(int argc, char **argv) {
    const char *model_path = NULL, *tok_dir = NULL, *color_s = "auto";
    int threads = 0, classes = 0, json = 0;
    text_job j = {.top = 5, .threshold = 1.0};
    lms_tokclasses_opts co = {0};
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model_path, "run dir, our .safetensors, a Hugging Face GPT-2 (dir or model.safetensors), an llm.c .bin", 0},
        {"text", LMS_FLAG_STR, &j.text, "the text, or @FILE (@- for stdin; @@... for a text that starts with @)", 0},
        {"tokenizer", LMS_FLAG_STR, &tok_dir, "tokenizer dir or 'bytes' for --model (and --compare); default: each model's", 0},
        {"compare", LMS_FLAG_STR, &j.name_b, "a second model (same tokenizer): colour by log p(it) - log p(--model)", 0},
        {"html", LMS_FLAG_STR, &j.html, "also write a self-contained HTML page here (hover a token for details)", 0},
        {"color", LMS_FLAG_STR, &color_s, "auto (when stdout is a terminal), always, never", 0},
        {"ranks", LMS_FLAG_BOOL, &j.ranks, "in colour, print the rank of the true token after each token", 0},
        {"top", LMS_FLAG_INT, &j.top, "alternatives per token shown in the HTML tooltips (0..10)", 0},
        {"threshold", LMS_FLAG_DOUBLE, &j.threshold, "--compare: |difference| in nats that counts as 'much' better/worse", 0},
        {"classes", LMS_FLAG_BOOL, &classes, "loss by token class and frequency bucket over validation data (no --text)", 0},
        {"data", LMS_FLAG_STR, &co.data, "--classes: shard dir or .bin files; default: the run's own data", 0},
        {"domain", LMS_FLAG_STR, &co.domain, "--classes: only this domain (frequencies from its training shards)", 0},
        {"batches", LMS_FLAG_INT, &co.batches, "--classes: at most this many validation batches of 8 windows; 0 = all", 0},
        {"val-tokens", LMS_FLAG_INT, &co.val_tokens, "--classes: validation tokens per domain; 0 = 65536, -1 = all", 0},
        {"json", LMS_FLAG_BOOL, &json, "--classes: print one JSON object", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads; 0 = all cores", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Per-token loss of a text, coloured (or HTML); two models compared; loss by token class.",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos) {
        lms_cli_error(CMD, "unexpected argument '%s' (quote the text: --text \"...\")", pos[0]);
        return 2;
    }
    j.color = !strcmp(color_s, "auto") ? isatty(STDOUT_FILENO) : !strcmp(color_s, "always") ? 1 : !strcmp(color_s, "never") ? 0 : -1;
    j.name_a = model_path;
    if ((rc = check_flags(&j, model_path, classes, threads, co.batches, co.data || co.domain || json))) return rc;
    char *text = NULL;
    if (!classes && (rc = lms_cli_read_text(CMD, j.text, &text, &j.len))) return rc;
    j.text = text;
    if (threads > 0) lms_cpu_set_threads(threads);
    lms_lm lm = {0}, lm2 = {0};
    lms_err err = {0};
    if ((rc = lms_cli_open_model(CMD, &lm, model_path, tok_dir))) goto done;
    if (j.name_b && (rc = lms_cli_open_model(CMD, &lm2, j.name_b, tok_dir))) goto done;
    if (j.name_b && lms_tokloss_check_same_tokenizer(lm.tok, model_path, lm2.tok, j.name_b, &err)) {
        lms_cli_error(CMD, "%s", err.msg);
        rc = 2;
        goto done;
    }
    rc = classes ? run_classes(&lm, j.name_b ? &lm2 : NULL, &co, json) : run_text(&lm, j.name_b ? &lm2 : NULL, &j);
done:
    if (fflush(stdout) != 0 && rc == 0) rc = 1;
    lms_lm_close(&lm);
    lms_lm_close(&lm2);
    free(text);
    return rc;
}
