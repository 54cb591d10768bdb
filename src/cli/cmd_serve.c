/* cmd_serve.c — the 'serve' subcommand: an OpenAI-compatible completions server for one model.
 *
 *   lmscope serve --model runs/s3 --port 8080            # http://127.0.0.1:8080/v1/completions
 *   lmscope serve --model gpt2/ --name gpt2 --port 0     # any free port; the line printed says which
 *
 * Prints one line when it listens ("lmscope serve: listening on http://HOST:PORT/v1 ..."), then
 * serves until SIGINT or SIGTERM, finishes the requests in progress and exits 0.
 * Exit status: 0 stopped by a signal; 1 the model could not be read or the address not bound;
 * 2 bad usage.
 * Leaves out: everything HTTP and JSON (serve/server.h, serve/openai.h, serve/complete.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/textarg.h"
#include "core/cpu.h"
#include "eval/lm.h"
#include "serve/complete.h"
#include "serve/server.h"

#define CMD "serve"

/* The model's name when --name is not given: the last part of its path without an extension,
   or the directory's name for a Hugging Face model.safetensors. */
static void default_name(const char *path, char *out, size_t cap) {
    char buf[LMS_LM_PATH];
    snprintf(buf, sizeof buf, "%s", path);
    for (size_t n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--) buf[n - 1] = 0;
    char *base = strrchr(buf, '/');
    if (base && (!strcmp(base + 1, "model.safetensors") || !strcmp(base + 1, "pytorch_model.bin")) && base != buf) {
        *base = 0;
        base = strrchr(buf, '/');
    }
    base = base ? base + 1 : buf;
    char *dot = strrchr(base, '.');
    if (dot && dot != base && (!strcmp(dot, ".safetensors") || !strcmp(dot, ".bin"))) *dot = 0;
    snprintf(out, cap, "%.*s", (int)cap - 1, base[0] ? base : "model");
}

/* Serve until SIGINT/SIGTERM; returns the exit status. */
static int serve(lms_lm *lm, const lms_server_opts *o) {
    lms_err err = {0};
    lms_completer *c = NULL;
    lms_status st = lms_completer_create(&c, lm->gpt, lm->tok, &err);
    if (st) {
        lms_cli_error(CMD, "%s", err.msg);
        return st == LMS_ERR_MISMATCH ? 2 : 1;
    }
    /* the server's threads inherit this mask, so only sigwait below sees the signals */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    lms_server *s = NULL;
    if ((st = lms_server_start(&s, c, o, &err))) {
        lms_cli_error(CMD, "%s", err.msg);
        lms_completer_free(c);
        return st == LMS_ERR_ARG ? 2 : 1;
    }
    printf("lmscope serve: listening on http://%s%s%s:%d/v1 (model \"%s\", context %d tokens, %s)\n",
           strchr(o->host, ':') ? "[" : "", o->host, strchr(o->host, ':') ? "]" : "", lms_server_port(s), o->model,
           lms_completer_n_ctx(c), lms_cpu_describe());
    fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "lmscope serve: %s: finishing the requests in progress and stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    unsigned long long n = lms_server_stop(s);
    lms_completer_free(c);
    fprintf(stderr, "lmscope serve: stopped after %llu requests\n", n);
    return 0;
}

int lms_cmd_serve(int argc, char **argv) {
    const char *model_path = NULL, *tok_dir = NULL, *name = NULL;
    lms_server_opts o = lms_server_defaults();
    int threads = 0;
    int64_t max_body = (int64_t)o.max_body;
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model_path, "run dir, our .safetensors, a Hugging Face GPT-2 (dir or model.safetensors), an llm.c .bin", 0},
        {"tokenizer", LMS_FLAG_STR, &tok_dir, "tokenizer dir or 'bytes'; default: the model's", 0},
        {"name", LMS_FLAG_STR, &name, "the model's id in /v1/models and requests; default: the last part of --model", 0},
        {"host", LMS_FLAG_STR, &o.host, "address to bind (127.0.0.1: this machine only; 0.0.0.0: every interface, no authentication!)", 0},
        {"port", LMS_FLAG_INT, &o.port, "TCP port; 0 = any free port (printed)", 0},
        {"max-body", LMS_FLAG_I64, &max_body, "largest request body in bytes (larger: 413)", 0},
        {"max-connections", LMS_FLAG_INT, &o.max_connections, "connections open at once (each a thread); more wait to be accepted. Requests queue and run one at a time", 0},
        {"timeout", LMS_FLAG_INT, &o.timeout_s, "seconds before an idle (keep-alive) connection is closed, freeing its place", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads for the model; 0 = all cores", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "An OpenAI-compatible completions server (POST /v1/completions, GET /v1/models) for one model.",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos) {
        lms_cli_error(CMD, "unexpected argument '%s'", pos[0]);
        return 2;
    }
    if (!model_path) {
        lms_cli_error(CMD, "--model is required (a run dir, a .safetensors file, a Hugging Face GPT-2 dir or an llm.c .bin)");
        return 2;
    }
    if (threads < 0 || o.port < 0 || o.port > 65535 || max_body < 1 || o.max_connections < 1 || o.timeout_s < 1) {
        lms_cli_error(CMD, "%s", threads < 0 ? "--threads must be >= 0" : o.port < 0 || o.port > 65535 ?
                      "--port must be 0 to 65535" : "--max-body, --max-connections and --timeout must be >= 1");
        return 2;
    }
    o.max_body = (size_t)max_body;
    char model_name[256];
    if (name && (!name[0] || strlen(name) >= sizeof model_name)) {
        lms_cli_error(CMD, "--name must be 1 to %zu bytes", sizeof model_name - 1);
        return 2;
    }
    default_name(model_path, model_name, sizeof model_name);
    o.model = name ? name : model_name;
    if (threads > 0) lms_cpu_set_threads(threads);
    lms_lm lm = {0};
    if ((rc = lms_cli_open_model(CMD, &lm, model_path, tok_dir))) return rc;
    lms_err err = {0};
    /* the model carries its thread count to the server's worker thread */
    if (threads > 0 && lms_gpt_set_backend(lm.gpt, lms_gpt_ops(lm.gpt), threads, &err)) {
        lms_cli_error(CMD, "%s", err.msg);
        lms_lm_close(&lm);
        return 1;
    }
    rc = serve(&lm, &o);
    lms_lm_close(&lm);
    return rc;
}
