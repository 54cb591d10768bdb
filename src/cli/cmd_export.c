/* cmd_export.c — the 'export' subcommand: a model and its tokenizer in the files other tools load.
 *
 *   lmscope export --model runs/s3 --hf out/gpt2-s3     # Hugging Face GPT-2 dir: GPT2LMHeadModel + GPT2Tokenizer
 *   lmscope export --model runs/s3 --llmc out/s3.bin    # llm.c checkpoint + out/s3_tokenizer.bin
 *   lmscope export --model gpt2_124M.bin --tokenizer gpt2/ --hf out/gpt2   # any model lmscope opens
 *
 * --model is anything eval/lm.h opens (a run dir, a checkpoint, a Hugging Face GPT-2 dir, an llm.c
 * .bin with --tokenizer). Both --hf and --llmc may be given; every output is checked before
 * anything is written. An existing non-empty directory or an existing file is replaced only with
 * --force. The files and their layout are eval/export.h's; this file parses flags and prints.
 *
 * Exit status: 0 done; 1 the model could not be read or an output could not be written (also: a
 * tokenizer llm.c's file cannot hold); 2 bad usage (flags, missing model, an output that exists
 * without --force, no tokenizer for a model that needs one).
 */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/fileio.h"
#include "eval/export.h"
#include "eval/lm.h"

#define CMD "export"

static void print_model(const lms_lm *lm) {
    const lms_gpt_config *c = lms_gpt_get_config(lm->gpt);
    printf("model %s (%s", lm->path, lm->ckpt);
    if (lm->step >= 0) printf(", step %lld", (long long)lm->step);
    printf("): %d layers, %d heads, width %d, context %d, vocabulary %d, %lld parameters; tokenizer %s, %d tokens, "
           "%d merges, end-of-text id %d\n",
           c->n_layer, c->n_head, c->n_embd, c->n_ctx, c->vocab_size, (long long)lm->params, lm->tokenizer,
           lms_tokenizer_vocab_size(lm->tok), lms_tokenizer_num_merges(lm->tok), lms_tokenizer_eot(lm->tok));
}

/* 0 done, else the exit status after printing the error. */
static int fail(lms_status st, const lms_err *err) {
    lms_cli_error(CMD, "%s", err->msg);
    return st == LMS_ERR_ARG ? 2 : 1;
}

int lms_cmd_export(int argc, char **argv) {
    const char *model_path = NULL, *tok_dir = NULL, *hf = NULL, *llmc = NULL, *llmc_tok = NULL;
    int force = 0;
    lms_flag flags[] = {
        {"model", LMS_FLAG_STR, &model_path, "run dir, our .safetensors, a Hugging Face model.safetensors (or its dir), an llm.c .bin", 0},
        {"tokenizer", LMS_FLAG_STR, &tok_dir, "tokenizer dir (vocab.json + merges.txt) or 'bytes'; default: the model's", 0},
        {"hf", LMS_FLAG_STR, &hf, "write a Hugging Face GPT-2 directory here (model.safetensors, config.json, vocab.json, "
                                  "merges.txt, tokenizer and generation configs)", 0},
        {"llmc", LMS_FLAG_STR, &llmc, "write an llm.c checkpoint (version 3, fp32) to this file", 0},
        {"llmc-tokenizer", LMS_FLAG_STR, &llmc_tok, "llm.c tokenizer file; default: the --llmc path with .bin replaced by _tokenizer.bin", 0},
        {"force", LMS_FLAG_BOOL, &force, "replace existing files (in a non-empty --hf dir: the export's files only, others are left)", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(CMD, "Write a model and its tokenizer as a Hugging Face GPT-2 directory and/or an llm.c checkpoint.",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos) {
        lms_cli_error(CMD, "unexpected argument '%s'", pos[0]);
        return 2;
    }
    if (!model_path || (!hf && !llmc)) {
        lms_cli_error(CMD, !model_path ? "--model is required (a run dir, a .safetensors file, a Hugging Face GPT-2 dir or an llm.c .bin)"
                                       : "nothing to write: give --hf DIR and/or --llmc FILE.bin");
        return 2;
    }
    if (llmc_tok && !llmc) {
        lms_cli_error(CMD, "--llmc-tokenizer goes with --llmc");
        return 2;
    }
    if (!lms_path_exists(model_path)) {
        lms_cli_error(CMD, "--model %s: no such file or directory", model_path);
        return 2;
    }
    char tp[4096];
    if (llmc && !llmc_tok) llmc_tok = lms_export_llmc_tokenizer_path(tp, sizeof tp, llmc);
    if (hf && llmc && (!strcmp(hf, llmc) || !strcmp(hf, llmc_tok))) {
        lms_cli_error(CMD, "--hf and the llm.c files need different paths (both are %s)", hf);
        return 2;
    }
    lms_err err = {0};
    lms_lm lm;
    lms_status st = lms_lm_open(&lm, model_path, tok_dir, &err);
    if (st) return fail(st, &err);
    int code = 0;
    /* both outputs checked before either is written */
    if ((hf && (st = lms_export_hf_check(lm.gpt, lm.tok, hf, force, &err))) ||
        (llmc && (st = lms_export_llmc_check(lm.gpt, lm.tok, llmc, llmc_tok, force, &err)))) {
        code = fail(st, &err);
        goto done;
    }
    print_model(&lm);
    if (hf) {
        if ((st = lms_export_hf(lm.gpt, lm.tok, hf, force, &err))) {
            code = fail(st, &err);
            goto done;
        }
        printf("wrote %s/: model.safetensors config.json generation_config.json vocab.json merges.txt tokenizer_config.json "
               "special_tokens_map.json (load with transformers' GPT2LMHeadModel / AutoTokenizer .from_pretrained)\n", hf);
    }
    if (llmc) {
        if ((st = lms_export_llmc(lm.gpt, lm.tok, llmc, llmc_tok, force, &err))) {
            code = fail(st, &err);
            goto done;
        }
        const lms_gpt_config *c = lms_gpt_get_config(lm.gpt);
        printf("wrote %s (llm.c checkpoint, version 3 fp32, vocabulary %d padded to %d) and %s (llm.c tokenizer, %d tokens, "
               "end-of-text id %d)\n",
               llmc, c->vocab_size, (c->vocab_size + 127) / 128 * 128, llmc_tok, lms_tokenizer_vocab_size(lm.tok),
               lms_export_llmc_eot(lm.tok));
    }
done:
    lms_lm_close(&lm);
    return code;
}
