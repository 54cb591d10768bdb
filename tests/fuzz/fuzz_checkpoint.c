/* fuzz_checkpoint.c — libFuzzer target for the GPT-2 checkpoint loaders (checkpoint.c).
 *
 * The first input byte picks the path, the rest is written to a file in a private temporary
 * directory and loaded:
 *   0  as "model.bin"          -> lms_checkpoint_load (llm.c header, sizes, transposes)
 *   1  as "model.safetensors"  -> lms_checkpoint_load, with a fixed tiny config.json beside it
 *                                 (lmscope files by metadata, otherwise Hugging Face mapping)
 *   2  as "o.safetensors"      -> lms_checkpoint_load_optim into a fixed tiny model + AdamW
 *   3  as "model.safetensors"  -> lms_checkpoint_read_metadata
 * A loaded model is checked against its own config (tensor count) and freed. Crashes, leaks and
 * sanitizer reports are findings; errors are expected.
 *
 *   make fuzz && build-fuzz/fuzz_checkpoint -max_total_time=300 build-fuzz/corpus-fuzz_checkpoint \
 *       tests/fuzz/seeds/fuzz_checkpoint
 *
 * Leaves out: the safetensors parser itself (fuzz_safetensors.c goes deeper there).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "model/checkpoint.h"
#include "optim/optim.h"

static char dir[128];
static lms_gpt *fixed_model;
static lms_adamw *fixed_opt;

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/lms_fuzz_ckpt_%d", (int)getpid());
    lms_mkdir_p(dir, NULL);
    char p[256];
    snprintf(p, sizeof p, "%s/config.json", dir);
    const char *cfg = "{\"model_type\":\"gpt2\",\"n_layer\":1,\"n_head\":1,\"n_embd\":4,\"n_positions\":4,\"vocab_size\":8}";
    if (lms_file_write_all(p, cfg, strlen(cfg), NULL)) abort();
    lms_gpt_config c = {.n_layer = 1, .n_head = 1, .n_embd = 4, .n_ctx = 4, .vocab_size = 8};
    lms_adamw_config ac = lms_adamw_defaults();
    if (lms_gpt_create(&fixed_model, &c, NULL) || lms_adamw_create(&fixed_opt, fixed_model, &ac, NULL)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) setup();
    if (size < 1) return 0;
    int mode = data[0] % 4;
    const char *name = mode == 0 ? "model.bin" : mode == 2 ? "o.safetensors" : "model.safetensors";
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, fp) != size - 1) abort();
    if (fclose(fp)) abort();
    lms_err err = {0};
    if (mode == 0 || mode == 1) {
        lms_gpt *m = NULL;
        if (lms_checkpoint_load(&m, path, &err) == LMS_OK) {
            const lms_gpt_config *c = lms_gpt_get_config(m);
            if (lms_gpt_num_tensors(m) != 4 + 12 * c->n_layer) abort();
            lms_gpt_free(m);
        } else if (m != NULL || !err.msg[0]) abort();
    } else if (mode == 2) {
        char *meta = NULL;
        if (lms_checkpoint_load_optim(path, fixed_opt, fixed_model, &meta, &err) == LMS_OK) {
            if (!meta) abort();
            free(meta);
        } else if (meta != NULL || !err.msg[0]) abort();
    } else {
        char *meta = NULL;
        if (lms_checkpoint_read_metadata(path, &meta, &err) == LMS_OK) {
            if (!meta) abort();
            free(meta);
        } else if (meta != NULL || !err.msg[0]) abort();
    }
    return 0;
}
