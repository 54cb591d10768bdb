/* torch_fixture.h — the reader of tests/fixtures/gpt_torch.bin (written by
 * tools/gen_torch_fixture.py, layout documented there): an independent float64 PyTorch GPT-2's
 * parameters, a batch, its logits, loss, gradients and the parameters after a few AdamW steps.
 * Shared by test_model.c (training) and test_score.c (forward-only scoring).
 */
#ifndef LMS_TESTS_TORCH_FIXTURE_H
#define LMS_TESTS_TORCH_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/fileio.h"
#include "model/gpt.h"

#define FIXTURE "tests/fixtures/gpt_torch.bin"
typedef struct {
    lms_gpt_config cfg;
    int B, T, steps;
    float lr, beta1, beta2, eps, wd, clip;
    int64_t P;
    const int32_t *inputs, *targets;
    const float *params0, *logits, *grads, *norms, *params_after;
    float loss;
    char *raw;
} fixture;

static int load_fixture(fixture *f) {
    memset(f, 0, sizeof *f);
    size_t len;
    lms_err err = {0};
    if (lms_file_read_all(FIXTURE, &f->raw, &len, &err) != LMS_OK) {
        fprintf(stderr, "  cannot read %s (run tests from the repository root): %s\n", FIXTURE, err.msg);
        return 0;
    }
    const char *p = f->raw;
    if (len < 128 || memcmp(p, "LMSGPTFX", 8) != 0) return 0;
    uint32_t ver;
    int32_t h[8];
    float hf[6];
    memcpy(&ver, p + 8, 4);
    memcpy(h, p + 12, sizeof h);
    memcpy(hf, p + 44, sizeof hf);
    memcpy(&f->P, p + 68, 8);
    if (ver != 1) return 0;
    f->cfg = (lms_gpt_config){h[0], h[1], h[2], h[3], h[4]};
    f->B = h[5];
    f->T = h[6];
    f->steps = h[7];
    f->lr = hf[0], f->beta1 = hf[1], f->beta2 = hf[2], f->eps = hf[3], f->wd = hf[4], f->clip = hf[5];
    if (f->B < 1 || f->T < 1 || f->B > 64 || f->T > 4096 || f->steps < 0 || f->steps > 100) return 0;
    if (lms_gpt_config_check(&f->cfg, NULL) != LMS_OK || f->P != lms_gpt_config_num_params(&f->cfg)) return 0;
    size_t bt = (size_t)f->B * f->T, P = (size_t)f->P;
    size_t need = 128 + 4 * (2 * bt + P + bt * f->cfg.vocab_size + 1 + P + f->steps + P);
    if (len != need) {
        fprintf(stderr, "  %s: %zu bytes, expected %zu\n", FIXTURE, len, need);
        return 0;
    }
    size_t o = 128;
#define TAKE(field, type, n) (f->field = (const type *)(p + o), o += 4 * (n))
    TAKE(inputs, int32_t, bt);
    TAKE(targets, int32_t, bt);
    TAKE(params0, float, P);
    TAKE(logits, float, bt * f->cfg.vocab_size);
    memcpy(&f->loss, p + o, 4);
    o += 4;
    TAKE(grads, float, P);
    TAKE(norms, float, f->steps);
    TAKE(params_after, float, P);
#undef TAKE
    return 1;
}

#endif
