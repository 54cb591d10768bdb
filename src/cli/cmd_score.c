/* cmd_score.c — the 'score' subcommand: the log-probability of every token of a text.
 *
 *   lmscope score --model runs/s3 --text "The capital of France is Paris."
 *   lmscope score --model runs/s3 --text @file.txt --json
 *   lmscope score --model gpt2_124M.bin --tokenizer gpt2/ --text "Hello world"
 *
 * Prints one row per token (position, the token's text escaped, log-prob in nats, rank of the
 * true token among the vocabulary, its class), then the total log-prob, the mean loss and bits
 * per byte (total nats / ln 2 / bytes of the scored tokens). <|endoftext|> is put before the text
 * when the tokenizer has it, so every token is scored; otherwise the first token is not (eval/
 * tokloss.h). Text longer than the model's context is scored with a sliding window, and the output
 * says so. --json prints one JSON object instead.
 *
 * Exit status: 0 done; 1 the model could not be read; 2 bad usage (flags, missing/empty text).
 * Leaves out: colours and HTML (cmd_inspect.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/textarg.h"
#include "core/cpu.h"
#include "core/jsonl.h"
#include "eval/lm.h"
#include "eval/tokloss.h"

#define CMD "score"

/* The token's exact text when it is valid UTF-8, else its escaped form (and "escaped": true). */
static void json_token_text(json_t *o, const char *key, const char *s, size_t len) {
    json_t *str = json_stringn(s, len);
    if (!str) {
        char buf[512];
        str = json_string(lms_tok_escape(s, len, buf, sizeof buf));
        json_object_set_new(o, "escaped", json_true());
    }
    json_object_set_new(o, key, str);
}

static int print_json(const lms_lm *lm, const lms_tokloss *r, const char *text) {
    json_t *root = json_object();
    json_object_set_new(root, "model", json_string(lm->path));
    json_object_set_new(root, "checkpoint", json_string(lm->ckpt));
    json_object_set_new(root, "tokenizer", json_string(lm->tokenizer));
    json_object_set_new(root, "tokenizer_hash", json_string(lms_tokenizer_hash(lm->tok)));
    json_object_set_new(root, "n_ctx", json_integer(r->n_ctx));
    json_object_set_new(root, "bos", json_boolean(r->bos));
    json_object_set_new(root, "windowed", json_boolean(r->windowed));
    json_t *toks = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const lms_tokloss_tok *t = &r->tok[i];
        json_t *o = json_object();
        json_object_set_new(o, "pos", json_integer((json_int_t)i));
        json_object_set_new(o, "id", json_integer(t->id));
        if (t->len) json_token_text(o, "text", text + t->off, t->len);
        else json_object_set_new(o, "text", json_string("<|endoftext|>"));
        json_object_set_new(o, "offset", json_integer((json_int_t)t->off));
        json_object_set_new(o, "bytes", json_integer((json_int_t)t->len));
        json_object_set_new(o, "class", json_string(lms_tok_class_name(t->cls)));
        json_object_set_new(o, "scored", json_boolean(t->scored));
        json_object_set_new(o, "logp", t->scored ? json_real(t->logp) : json_null());
        json_object_set_new(o, "rank", t->scored ? json_integer(t->rank) : json_null());
        if (t->n_top) {
            json_t *alts = json_array();
            for (int k = 0; k < t->n_top; k++) {
                size_t al = 0;
                const char *ab = lms_tokenizer_token(lm->tok, t->top_id[k], &al);
                json_t *a = json_object();
                json_object_set_new(a, "id", json_integer(t->top_id[k]));
                json_token_text(a, "text", ab ? ab : "", ab ? al : 0);
                json_object_set_new(a, "logp", json_real(t->top_logp[k]));
                json_array_append_new(alts, a);
            }
            json_object_set_new(o, "top", alts);
        }
        json_array_append_new(toks, o);
    }
    json_object_set_new(root, "tokens", toks);
    json_object_set_new(root, "scored", json_integer(r->scored));
    json_object_set_new(root, "scored_bytes", json_integer(r->bytes));
    json_object_set_new(root, "total_logp", json_real(r->sum_logp));
    json_object_set_new(root, "mean_loss", lms_json_num(r->mean_loss));
    json_object_set_new(root, "bits_per_byte", lms_json_num(r->bpb));
    int rc = json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(9)) == 0 ? 0 : 1;
    fputc('\n', stdout);
    json_decref(root);
    return rc;
}

static void print_table(const lms_lm *lm, const lms_tokloss *r, const char *text) {
    printf("model %s (context %d tokens, tokenizer %s)\n", lm->path, r->n_ctx, lm->tokenizer);
    if (r->bos) printf("<|endoftext|> is put before the text, so every token of it is scored\n");
    else printf("the tokenizer has no <|endoftext|>: the first token has nothing before it and is not scored\n");
    if (r->windowed)
        printf("note: the text is %zu tokens, longer than the context (%d): scored with a sliding window, each token "
               "with at least %d tokens before it\n", r->n, r->n_ctx, r->n_ctx / 2);
    printf("%6s  %-24s %10s %8s  %s\n", "pos", "token", "logp", "rank", "class");
    for (size_t i = 0; i < r->n; i++) {
        const lms_tokloss_tok *t = &r->tok[i];
        char esc[512], q[540];
        if (t->len) snprintf(q, sizeof q, "\"%s\"", lms_tok_escape(text + t->off, t->len, esc, sizeof esc));
        else snprintf(q, sizeof q, "<|endoftext|>");
        if (t->scored) printf("%6zu  %-24s %10.4f %8d  %s\n", i, q, t->logp, t->rank, lms_tok_class_name(t->cls));
        else printf("%6zu  %-24s %10s %8s  %s\n", i, q, "-", "-", t->len ? "(not scored: nothing before it)" : "(prepended)");
    }
    printf("tokens %lld scored (%lld bytes); total log-prob %.4f nats; mean loss %.4f nats/token; %.4f bits/byte\n",
           (long long)r->scored, (long long)r->bytes, r->sum_logp, r->mean_loss, r->bpb);
}

int lms_cmd_score(int argc, char **argv) {
    const char *model_path = NULL, *text_arg = NULL, *tok_dir = NULL;
    int json = 0, threads = 0, top = 0, no_bos = 0;
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model_path, "run dir, our .safetensors, a Hugging Face GPT-2 (dir or model.safetensors), an llm.c .bin", 0},
        {"text", LMS_FLAG_STR, &text_arg, "the text to score, or @FILE (@- for stdin; @@... for a text that starts with @)", 0},
        {"tokenizer", LMS_FLAG_STR, &tok_dir, "tokenizer dir or 'bytes'; default: the model's", 0},
        {"json", LMS_FLAG_BOOL, &json, "print one JSON object (tokens, totals) instead of the table", 0},
        {"top", LMS_FLAG_INT, &top, "with --json: the model's top N alternatives per token (0..10)", 0},
        {"no-bos", LMS_FLAG_BOOL, &no_bos, "do not put <|endoftext|> before the text (its first token is then not scored)", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads; 0 = all cores", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Per-token log-probabilities of a text under a model, with total, mean loss and bits per byte.",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos) {
        lms_cli_error(CMD, "unexpected argument '%s' (quote the text: --text \"...\")", pos[0]);
        return 2;
    }
    if (threads < 0 || top < 0 || top > LMS_TOKLOSS_MAX_TOP) {
        lms_cli_error(CMD, threads < 0 ? "--threads must be >= 0" : "--top must be 0..%d", LMS_TOKLOSS_MAX_TOP);
        return 2;
    }
    if (!model_path) {
        lms_cli_error(CMD, "--model is required (a run dir, a .safetensors file, a Hugging Face GPT-2 dir or an llm.c .bin)");
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    if ((rc = lms_cli_read_text(CMD, text_arg, &text, &len))) return rc;
    if (threads > 0) lms_cpu_set_threads(threads);
    lms_lm lm = {0};
    if ((rc = lms_cli_open_model(CMD, &lm, model_path, tok_dir))) {
        free(text);
        return rc;
    }
    lms_tokloss r;
    lms_err err = {0};
    lms_tokloss_opts o = {.top_k = json ? top : 0, .no_bos = no_bos};
    lms_status st = lms_tokloss_text(&r, lm.gpt, lm.tok, text, len, &o, &err);
    if (st) {
        lms_cli_error(CMD, "%s", err.msg);
        rc = st == LMS_ERR_ARG || st == LMS_ERR_MISMATCH ? 2 : 1;
    } else if (json) {
        rc = print_json(&lm, &r, text);
    } else {
        print_table(&lm, &r, text);
        rc = 0;
    }
    if (fflush(stdout) != 0) rc = 1;
    lms_tokloss_free(&r);
    lms_lm_close(&lm);
    free(text);
    return rc;
}
