/* cmd_sample.c — the 'sample' subcommand: generate text from a model with KV-cache decoding.
 *
 *   lmscope sample --model runs/tiny --prompt "The capital of France is" --tokens 50 --temperature 0.8 --top-k 40
 *   lmscope sample --model gpt2/model.safetensors --prompt "Hello"       # Hugging Face GPT-2 (config.json beside)
 *   lmscope sample --model gpt2_124M.bin --tokenizer gpt2/ --prompt "Hi"  # llm.c checkpoint
 *
 * --model is a run directory (its latest checkpoint and the tokenizer it trained with), one of our
 * safetensors files (the tokenizer from the run config in its metadata), a Hugging Face
 * model.safetensors or its directory (vocab.json + merges.txt or encoder.json + vocab.bpe beside
 * it), or an llm.c .bin. --tokenizer DIR (or 'bytes') overrides. A 256-token model without a tokenizer
 * uses bytes, and so does a run trained on bytes whatever its (padded) vocabulary.
 * The prompt is echoed, then tokens stream to stdout as they are produced, flushed, holding back
 * only the bytes of an unfinished UTF-8 character.
 *
 * Exit status: 0 done; 1 the model or tokenizer could not be read; 2 bad usage (flags, a prompt
 * longer than the context, no tokenizer for a model that needs one).
 * When the context is full, the cache restarts from the newest n_ctx/2 tokens (a sliding window).
 * Leaves out: batched sampling.
 */
#include <libgen.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu.h"
#include "core/fileio.h"
#include "model/checkpoint.h"
#include "model/infer.h"
#include "tokenizer/tokenizer.h"
#include "train/sampler.h"
#include "train/train.h"

#define CMD "sample"

/* A directory holding a GPT-2 style tokenizer? */
static int has_tokenizer(const char *dir) {
    char p[PATH_MAX + 32];
    lms_path_join(p, sizeof p, dir, "vocab.json");
    if (lms_path_exists(p)) return 1;
    lms_path_join(p, sizeof p, dir, "encoder.json");
    return lms_path_exists(p);
}

/* The tokenizer dir named by a run config JSON text, "" if none; hash too. */
static void tokenizer_from_run_config(json_t *cfg, char *dir, size_t cap, char *hash, size_t hcap) {
    json_t *t = json_object_get(cfg, "tokenizer"), *h = json_object_get(cfg, "tokenizer_hash");
    if (json_is_string(t)) snprintf(dir, cap, "%s", json_string_value(t));
    if (json_is_string(h)) snprintf(hash, hcap, "%s", json_string_value(h));
}

int lms_cmd_sample(int argc, char **argv) {
    const char *model_path = NULL, *prompt = "", *tok_dir = NULL;
    int tokens = 100, top_k = 40, threads = 0, bf16 = 0;
    float temperature = 0.8f, top_p = 1.0f;
    int64_t seed = 1;
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model_path, "run dir, our .safetensors, a Hugging Face model.safetensors (or its dir), an llm.c .bin", 0},
        {"prompt", LMS_FLAG_STR, &prompt, "text to continue (empty: start from <|endoftext|>, or a newline for bytes)", 0},
        {"tokens", LMS_FLAG_INT, &tokens, "tokens to generate", 0},
        {"temperature", LMS_FLAG_FLOAT, &temperature, "softmax temperature; 0 = greedy", 0},
        {"top-k", LMS_FLAG_INT, &top_k, "sample among the k most likely tokens; 0 = all", 0},
        {"top-p", LMS_FLAG_FLOAT, &top_p, "sample among the most likely tokens holding this much mass; 1 = all", 0},
        {"seed", LMS_FLAG_I64, &seed, "random seed (same seed, same text)", 0},
        {"tokenizer", LMS_FLAG_STR, &tok_dir, "tokenizer dir (vocab.json + merges.txt) or 'bytes'; default: the model's", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads; 0 = all cores", 0},
        {"bf16", LMS_FLAG_BOOL, &bf16, "decode with bfloat16 copies of the weight matrices (fp32 arithmetic; ~2x faster, logits differ by the weights' rounding)", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Generate text from a model, streaming tokens to stdout.", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos) {
        lms_cli_error(CMD, "unexpected argument '%s' (quote the prompt: --prompt \"...\")", pos[0]);
        return 2;
    }
    if (!model_path) {
        lms_cli_error(CMD, "--model is required (a run dir, a .safetensors file or an llm.c .bin)");
        return 2;
    }
    if (tokens < 0) {
        lms_cli_error(CMD, "--tokens must be >= 0");
        return 2;
    }
    if (threads < 0) {
        lms_cli_error(CMD, "--threads must be >= 0");
        return 2;
    }
    lms_sampler_config sc = {.temperature = temperature, .top_k = top_k, .top_p = top_p, .seed = (uint64_t)seed};
    lms_err err = {0};
    lms_sampler *sampler = NULL;
    if (lms_sampler_create(&sampler, 1, &sc, &err)) { /* flag check only; recreated with the vocab below */
        lms_cli_error(CMD, "%s", err.msg);
        return 2;
    }
    lms_sampler_free(sampler);
    sampler = NULL;
    if (!lms_path_exists(model_path)) {
        lms_cli_error(CMD, "--model %s: no such file or directory", model_path);
        return 2;
    }

    /* Find the checkpoint file and the tokenizer the model came with. */
    char ckpt[PATH_MAX + 128], auto_tok[PATH_MAX], run_hash[65] = "";
    int from_run = 0; /* a run's config was found: no tokenizer in it means bytes, whatever the (padded) vocab */
    auto_tok[0] = 0;
    snprintf(ckpt, sizeof ckpt, "%s", model_path);
    char cfgp[PATH_MAX + 32];
    lms_path_join(cfgp, sizeof cfgp, model_path, "config.json");
    lms_train_config rcfg;
    lms_err e2 = {0};
    int is_run = lms_path_is_dir(model_path) && lms_path_exists(cfgp) && lms_train_config_load(&rcfg, cfgp, &e2) == LMS_OK;
    char latestp[PATH_MAX + 32];
    lms_path_join(latestp, sizeof latestp, model_path, "latest");
    if (!is_run && lms_path_is_dir(model_path) && lms_path_exists(cfgp) && lms_path_exists(latestp)) {
        /* a run dir (it has 'latest') whose config.json does not load: say so, not "no model.safetensors" */
        lms_cli_error(CMD, "%s is a run dir but its config.json is damaged: %s; sample from one of its checkpoints "
                      "instead: --model %s/checkpoints/step_....safetensors", model_path, e2.msg, model_path);
        return 1;
    }
    if (is_run) {
        if (lms_train_latest_checkpoint(model_path, ckpt, sizeof ckpt, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            return 1;
        }
        snprintf(auto_tok, sizeof auto_tok, "%s", rcfg.tokenizer);
        snprintf(run_hash, sizeof run_hash, "%s", rcfg.tokenizer_hash);
        from_run = 1;
    } else {
        lms_checkpoint_kind kind;
        if (lms_checkpoint_detect(model_path, &kind, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            return 1;
        }
        char dirbuf[PATH_MAX];
        snprintf(dirbuf, sizeof dirbuf, "%s", model_path);
        const char *dir = lms_path_is_dir(model_path) ? model_path : dirname(dirbuf);
        if (kind == LMS_CKPT_OPTIM) {
            lms_cli_error(CMD, "%s is optimizer state, not a model; give the .safetensors beside it without .optim", model_path);
            return 2;
        }
        if (kind == LMS_CKPT_LMSCOPE) {
            char *meta = NULL;
            if (lms_checkpoint_read_metadata(model_path, &meta, &err) == LMS_OK && meta) {
                json_t *mj = json_loads(meta, 0, NULL);
                json_t *cfg = mj ? json_object_get(mj, "run_config") : NULL;
                if (json_is_object(cfg)) {
                    tokenizer_from_run_config(cfg, auto_tok, sizeof auto_tok, run_hash, sizeof run_hash);
                    from_run = 1;
                }
                json_decref(mj);
            }
            free(meta);
            if (!auto_tok[0] && has_tokenizer(dir)) snprintf(auto_tok, sizeof auto_tok, "%s", dir);
        } else if (has_tokenizer(dir)) {
            snprintf(auto_tok, sizeof auto_tok, "%s", dir);
        }
    }

    lms_gpt *m = NULL;
    lms_tokenizer *tok = NULL;
    lms_infer *inf = NULL;
    lms_ids ids = {0};
    int code = 1;
    if (lms_checkpoint_load(&m, ckpt, &err)) {
        lms_cli_error(CMD, "%s", err.msg);
        return 1;
    }
    const lms_gpt_config *mc = lms_gpt_get_config(m);
    /* --tokenizer bytes loads the 256-token byte tokenizer (lms_tokenizer_load) */
    const char *use_tok = tok_dir ? tok_dir : auto_tok[0] ? auto_tok : NULL;
    if (use_tok) {
        if (lms_tokenizer_load(&tok, use_tok, &err)) {
            lms_cli_error(CMD, "tokenizer %s: %s", use_tok, err.msg);
            code = tok_dir ? 2 : 1;
            goto done;
        }
        if (run_hash[0] && strcmp(run_hash, lms_tokenizer_hash(tok))) {
            lms_cli_error(CMD, "tokenizer %s is not the one this model was trained with (hash %.12s..., expected %.12s...)",
                          use_tok, lms_tokenizer_hash(tok), run_hash);
            code = 2;
            goto done;
        }
    } else {
        tok = lms_tokenizer_bytes();
        if (!tok) {
            lms_cli_error(CMD, "out of memory creating the byte tokenizer");
            goto done;
        }
        /* a run on byte-level shards ('data prepare' without --tokenizer) records the byte tokenizer's hash */
        int bytes_run = !run_hash[0] || !strcmp(run_hash, lms_tokenizer_hash(tok));
        if (!((mc->vocab_size == 256 || from_run) && bytes_run)) {
            lms_cli_error(CMD, "this model has a %d-token vocabulary and no tokenizer was found beside it; give --tokenizer DIR "
                          "(vocab.json + merges.txt, e.g. GPT-2's)", mc->vocab_size);
            code = 2;
            goto done;
        }
    }
    int tv = lms_tokenizer_vocab_size(tok);
    if (tv > mc->vocab_size) {
        lms_cli_error(CMD, "the tokenizer has %d tokens but the model only %d; they do not belong together", tv, mc->vocab_size);
        code = 2;
        goto done;
    }
    if (prompt[0]) {
        if (lms_tokenizer_encode(tok, prompt, strlen(prompt), &ids, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            goto done;
        }
    } else {
        /* start from <|endoftext|>, or else from the token for a newline (byte 10 is id 10 only
           in the byte tokenizer; GPT-2-style vocabularies put it elsewhere) */
        int64_t start = lms_tokenizer_eot(tok);
        if (start < 0) start = lms_tokenizer_find(tok, "\n", 1);
        if (start < 0) start = 0;
        if (lms_ids_push(&ids, (uint32_t)start, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            goto done;
        }
    }
    if (ids.n > (size_t)mc->n_ctx) {
        lms_cli_error(CMD, "the prompt is %zu tokens but this model's context is %d; shorten the prompt", ids.n, mc->n_ctx);
        code = 2;
        goto done;
    }
    if (threads > 0) lms_cpu_set_threads(threads);
    if (lms_infer_create(&inf, m, mc->n_ctx, &err) || (bf16 && lms_infer_set_bf16(inf, 1, &err)) ||
        lms_sampler_create(&sampler, tv, &sc, &err)) {
        lms_cli_error(CMD, "%s", err.msg);
        goto done;
    }
    const float *logits = NULL;
    for (size_t i = 0; i < ids.n; i++) logits = lms_infer_step(inf, (int32_t)ids.ids[i]);
    if (!logits) {
        lms_cli_error(CMD, "the model rejected the prompt's tokens (ids beyond its vocabulary?)");
        goto done;
    }
    fputs(prompt, stdout);
    fflush(stdout);
    char pend[64]; /* bytes of an unfinished UTF-8 character, plus the next token */
    size_t npend = 0;
    int generated = 0;
    for (; generated < tokens; generated++) {
        int bad = 0; /* no early exit: a loop the compiler vectorises, ~1% of a decoding step */
        for (int v = 0; v < tv; v++) bad |= !(fabsf(logits[v]) <= FLT_MAX);
        if (bad) {
            fputc('\n', stdout);
            fflush(stdout);
            lms_cli_error(CMD, "the model's logits are not finite (after %d generated tokens): its weights hold "
                          "NaN/Inf; the checkpoint is corrupt or the run diverged", generated);
            goto done;
        }
        int32_t next = lms_sampler_pick(sampler, logits);
        size_t len = 0;
        const char *bytes = lms_tokenizer_token(tok, (uint32_t)next, &len);
        /* write whatever completes, keep the rest (at most 3 bytes) for the next token */
        while (len > 0) {
            size_t take = len < sizeof pend - npend ? len : sizeof pend - npend;
            memcpy(pend + npend, bytes, take);
            npend += take;
            bytes += take;
            len -= take;
            size_t ok = lms_utf8_complete(pend, npend);
            if (len > 0 && ok == 0) ok = npend; /* cannot happen for valid UTF-8; never stall */
            fwrite(pend, 1, ok, stdout);
            memmove(pend, pend + ok, npend - ok);
            npend -= ok;
        }
        fflush(stdout);
        if (generated + 1 == tokens) break;
        if (lms_ids_push(&ids, (uint32_t)next, &err)) {
            lms_cli_error(CMD, "%s", err.msg);
            goto done;
        }
        if (lms_infer_pos(inf) >= mc->n_ctx) {
            /* the cache is full: slide, keeping the newest half of the context */
            size_t keep = (size_t)(mc->n_ctx / 2 > 0 ? mc->n_ctx / 2 : 1);
            lms_infer_reset(inf);
            for (size_t i = ids.n - keep; i + 1 < ids.n; i++) lms_infer_step(inf, (int32_t)ids.ids[i]);
        }
        logits = lms_infer_step(inf, next);
    }
    fwrite(pend, 1, npend, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    code = 0;
done:
    lms_ids_free(&ids);
    lms_sampler_free(sampler);
    lms_infer_free(inf);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
    return code;
}
