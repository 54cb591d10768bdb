/* cmd_sample.c — the 'sample' subcommand: generate text from a model with KV-cache decoding.
 *
 *   lmscope sample --model runs/tiny --prompt "The capital of France is" --tokens 50 --temperature 0.8 --top-k 40
 *   lmscope sample --model gpt2/model.safetensors --prompt "Hello"       # Hugging Face GPT-2 (config.json beside)
 *   lmscope sample --model gpt2_124M.bin --tokenizer gpt2/ --prompt "Hi"  # llm.c checkpoint
 *   lmscope sample --model runs/tiny --device cuda --prompt "Hi"          # decode on the GPU (make CUDA=1)
 *
 * --model is a run directory (its latest checkpoint and the tokenizer it trained with), one of our
 * safetensors files (the tokenizer from the run config in its metadata), a Hugging Face
 * model.safetensors or its directory (vocab.json + merges.txt or encoder.json + vocab.bpe beside
 * it), or an llm.c .bin. --tokenizer DIR (or 'bytes') overrides. A 256-token model without a tokenizer
 * uses bytes, and so does a run trained on bytes whatever its (padded) vocabulary.
 * The prompt is echoed, then tokens stream to stdout as they are produced, flushed, holding back
 * only the bytes of an unfinished UTF-8 character.
 *
 * Generation stops at the end-of-text token (not printed) unless --ignore-eot is given.
 *
 * Exit status: 0 done; 1 the model or tokenizer could not be read; 2 bad usage (flags, a prompt
 * longer than the context, no tokenizer for a model that needs one).
 * The model resolution and the move onto the device are eval/lm.h's (lms_lm_open_on), the prompt's
 * ids and the decoding loop eval/generate.h's; this file parses flags and prints. Leaves out: batched sampling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/cpu.h"
#include "core/fileio.h"
#include "eval/generate.h"
#include "eval/lm.h"
#include "tokenizer/tokenizer.h"
#include "train/sampler.h"

#define CMD "sample"

/* Streams tokens to stdout, holding back only the bytes of an unfinished UTF-8 character. */
typedef struct {
    const lms_tokenizer *tok;
    char pend[64];
    size_t npend;
} printer;

static int print_token(int32_t id, void *user) {
    printer *p = user;
    size_t len = 0;
    const char *bytes = lms_tokenizer_token(p->tok, (uint32_t)id, &len);
    while (len > 0) { /* write whatever completes, keep the rest (at most 3 bytes) for the next token */
        size_t take = len < sizeof p->pend - p->npend ? len : sizeof p->pend - p->npend;
        memcpy(p->pend + p->npend, bytes, take);
        p->npend += take;
        bytes += take;
        len -= take;
        size_t ok = lms_utf8_complete(p->pend, p->npend);
        if (len > 0 && ok == 0) ok = p->npend; /* cannot happen for valid UTF-8; never stall */
        fwrite(p->pend, 1, ok, stdout);
        memmove(p->pend, p->pend + ok, p->npend - ok);
        p->npend -= ok;
    }
    fflush(stdout);
    return 0;
}

/* Decode after the prompt, streaming tokens to stdout; the exit status. */
static int stream(const lms_lm *lm, const char *prompt, lms_generate_config *gc) {
    lms_ids ids = {0}, out = {0};
    lms_generator *g = NULL;
    lms_err err = {0};
    printer pr = {.tok = lm->tok};
    gc->eot = lms_tokenizer_eot(lm->tok);
    gc->on_token = print_token;
    gc->user = &pr;
    lms_status st = lms_generate_prompt(lm->tok, prompt, strlen(prompt), lms_gpt_get_config(lm->gpt)->n_ctx, &ids, &err);
    int code = st == LMS_ERR_ARG ? 2 : 1;
    if (!st && !(st = lms_generator_create(&g, lm->gpt, gc, &err))) {
        fputs(prompt, stdout);
        fflush(stdout);
        st = lms_generator_run(g, ids.ids, ids.n, &out, NULL, &err);
        fwrite(pr.pend, 1, pr.npend, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        code = 1;
    }
    if (st) lms_cli_error(CMD, "%s", err.msg);
    lms_ids_free(&ids);
    lms_ids_free(&out);
    lms_generator_free(g);
    return st ? code : 0;
}

/* The checks on the flags before anything is loaded; 0 or 2 (message printed). */
static int check_flags(int npos, char **pos, const char *model_path, int tokens, int threads, const lms_generate_config *gc) {
    lms_err err = {0};
    lms_sampler *probe = NULL;
    if (npos) lms_cli_error(CMD, "unexpected argument '%s' (quote the prompt: --prompt \"...\")", pos[0]);
    else if (!model_path) lms_cli_error(CMD, "--model is required (a run dir, a .safetensors file or an llm.c .bin)");
    else if (tokens < 0) lms_cli_error(CMD, "--tokens must be >= 0");
    else if (threads < 0) lms_cli_error(CMD, "--threads must be >= 0");
    else if (lms_sampler_create(&probe, 1, &gc->sampling, &err)) lms_cli_error(CMD, "%s", err.msg);
    else {
        lms_sampler_free(probe);
        return 0;
    }
    return 2;
}

int lms_cmd_sample(int argc, char **argv) {
    const char *model_path = NULL, *prompt = "", *tok_dir = NULL;
    int tokens = 100, top_k = 40, threads = 0, bf16 = 0, ignore_eot = 0;
    const char *device = "cpu";
    float temperature = 0.8f, top_p = 1.0f;
    int64_t seed = 1;
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model_path, "run dir, our .safetensors, a Hugging Face model.safetensors (or its dir), an llm.c .bin", 0},
        {"prompt", LMS_FLAG_STR, &prompt, "text to continue (empty: start from <|endoftext|>, or a newline for bytes)", 0},
        {"tokens", LMS_FLAG_INT, &tokens, "tokens to generate at most", 0},
        {"temperature", LMS_FLAG_FLOAT, &temperature, "softmax temperature; 0 = greedy", 0},
        {"top-k", LMS_FLAG_INT, &top_k, "sample among the k most likely tokens; 0 = all", 0},
        {"top-p", LMS_FLAG_FLOAT, &top_p, "sample among the most likely tokens holding this much mass; 1 = all", 0},
        {"seed", LMS_FLAG_I64, &seed, "random seed (same seed, same text)", 0},
        {"tokenizer", LMS_FLAG_STR, &tok_dir, "tokenizer dir (vocab.json + merges.txt) or 'bytes'; default: the model's", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads; 0 = all cores", 0},
        {"bf16", LMS_FLAG_BOOL, &bf16, "decode with bfloat16 copies of the weight matrices (fp32 arithmetic; ~2x faster, logits differ by the weights' rounding)", 0},
        {"ignore-eot", LMS_FLAG_BOOL, &ignore_eot, "keep generating past <|endoftext|> (printed) instead of stopping there", 0},
        {"device", LMS_FLAG_STR, &device, "cpu, or cuda (a make CUDA=1 build and a GPU; fp32 only; untested so far)", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Generate text from a model, streaming tokens to stdout.", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    lms_generate_config gc = lms_generate_defaults();
    gc.max_tokens = tokens;
    gc.sampling = (lms_sampler_config){.temperature = temperature, .top_k = top_k, .top_p = top_p, .seed = (uint64_t)seed};
    gc.stop_at_eot = !ignore_eot;
    gc.bf16 = bf16;
    if ((rc = check_flags(npos, pos, model_path, tokens, threads, &gc))) return rc;
    if (threads > 0) lms_cpu_set_threads(threads);
    lms_err err = {0};
    const lms_ops *dev = lms_ops_for_device(device, &err);
    if (!dev) {
        lms_cli_error(CMD, "%s", err.msg);
        return err.code == LMS_ERR_ARG ? 2 : 1;
    }
    if (!(dev->caps & LMS_BACKEND_HOST_MEMORY) && bf16) {
        lms_cli_error(CMD, "--bf16 decodes on the CPU only; drop it with --device %s", device);
        return 2;
    }
    if (!lms_path_exists(model_path)) {
        lms_cli_error(CMD, "--model %s: no such file or directory", model_path);
        return 2;
    }
    lms_lm lm;
    lms_status st = lms_lm_open_on(&lm, model_path, tok_dir, dev, &err);
    if (st) {
        lms_cli_error(CMD, "%s", err.msg);
        return st == LMS_ERR_ARG ? 2 : 1;
    }
    rc = stream(&lm, prompt, &gc);
    lms_lm_close(&lm);
    return rc;
}
