/* test_export.c — eval/export.h: a model exported as a Hugging Face GPT-2 directory and as an
 * llm.c checkpoint opens again through lms_lm_open with bit-identical parameters and logits and the
 * same tokenizer (hash and ids), for a BPE model (the small tokenizer in tests/fixtures/export/
 * and GPT-2's own) and a byte model; the files hold what transformers and llm.c read (names,
 * config keys, llm.c's tokenizer file read here independently); the logits of the exports match
 * an independent float64 PyTorch GPT-2 that read the Hugging Face files
 * (tests/fixtures/export/reference.json, written by tools/export_reference.py) within 1e-5, and
 * its BPE gave the same ids; bad input (existing outputs, unwritable paths, a token llm.c cannot
 * hold, a full disk) fails with a clear message and leaves nothing behind.
 *
 * The models' weights come from an integer hash (no libm, no RNG state): the same bits on every
 * machine, so the committed reference fits the model this test builds. To regenerate it:
 *   LMS_EXPORT_KEEP=/tmp/lms_export_ref build/tests/test_export reference
 *   /usr/bin/python3 tools/export_reference.py /tmp/lms_export_ref > tests/fixtures/export/reference.json
 */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/fileio.h"
#include "eval/export.h"
#include "eval/lm.h"
#include "harness.h"
#include "model/safetensors.h"

#define FIX_TOK "tests/fixtures/export/tokenizer"
#define FIX_REF "tests/fixtures/export/reference.json"
#define GPT2_TOK "tests/fixtures/gpt2"

#define TH_TMP_PREFIX "lms_test_export"
#include "tmpfiles.h"

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A model whose parameter i of tensor k is center + scale * u, u in [-1, 1) from a hash of
 * (seed, k, i): exact in float, the same everywhere. Scales keep the logits near 1 and the
 * attention far from uniform; every LayerNorm weight differs from 1 and every bias from 0. */
static lms_gpt *make_model(const lms_gpt_config *c, uint64_t seed) {
    lms_gpt *m;
    lms_err err = {0};
    if (lms_gpt_create_weights(&m, c, &err)) {
        fprintf(stderr, "create: %s\n", err.msg);
        return NULL;
    }
    float *p = lms_gpt_params(m);
    for (int k = 0; k < lms_gpt_num_tensors(m); k++) {
        const lms_tensor_info *t = lms_gpt_tensor(m, k);
        int ln = strstr(t->name, "ln_") != NULL, bias = strstr(t->name, ".bias") != NULL;
        float center = ln && !bias ? 1.0f : 0.0f;
        float scale = bias ? 0.1f : ln ? 0.2f : !strcmp(t->name, "wte.weight") ? 0.5f : strstr(t->name, "c_attn") ? 0.5f : 0.3f;
        for (int64_t i = 0; i < t->numel; i++) {
            int32_t r = (int32_t)(mix64(seed * 1000003u + (uint64_t)k * 0x100000000ULL + (uint64_t)i) >> 40) - (1 << 23);
            p[t->offset + i] = center + scale * ((float)r / (float)(1 << 23));
        }
    }
    return m;
}

static const lms_gpt_config CFG_BPE = {.n_layer = 2, .n_head = 2, .n_embd = 16, .n_ctx = 16, .vocab_size = 328};
static const lms_gpt_config CFG_BYTES = {.n_layer = 2, .n_head = 4, .n_embd = 16, .n_ctx = 16, .vocab_size = 256};

static lms_tokenizer *load_tok(const char *dir) {
    lms_tokenizer *t = NULL;
    lms_err err = {0};
    if (lms_tokenizer_load(&t, dir, &err)) fprintf(stderr, "  tokenizer %s: %s\n", dir, err.msg);
    return t;
}

/* Logits [n, V] of ids (malloc'd), n <= n_ctx. */
static float *logits_of(lms_gpt *m, const int32_t *ids, int n) {
    lms_err err = {0};
    if (lms_gpt_plan(m, 1, n, &err)) return NULL;
    lms_gpt_forward(m, ids, NULL, 1, n);
    size_t sz = (size_t)n * lms_gpt_get_config(m)->vocab_size * sizeof(float);
    float *out = malloc(sz);
    if (out) memcpy(out, lms_gpt_logits(m), sz);
    return out;
}

static const int32_t PROBE[12] = {5, 300, 17, 255, 0, 42, 99, 318, 7, 128, 64, 1};

/* The reopened model has a's parameters and logits bit for bit. */
static int same_model(lms_gpt *a, lms_gpt *b) {
    const lms_gpt_config *ca = lms_gpt_get_config(a), *cb = lms_gpt_get_config(b);
    if (memcmp(ca, cb, sizeof *ca) || lms_gpt_num_params(a) != lms_gpt_num_params(b)) return 0;
    if (memcmp(lms_gpt_params_const(a), lms_gpt_params_const(b), (size_t)lms_gpt_num_params(a) * sizeof(float))) return 0;
    int32_t in[12];
    for (int i = 0; i < 12; i++) in[i] = PROBE[i] % ca->vocab_size;
    float *la = logits_of(a, in, 12), *lb = logits_of(b, in, 12);
    int same = la && lb && !memcmp(la, lb, (size_t)12 * ca->vocab_size * sizeof(float));
    free(la);
    free(lb);
    return same;
}

static const char *const TEXTS[] = {"The cat sat on the mat.", "café naïve 2024\n\n  tokens!<|endoftext|>x", "\xff\xfe bytes"};

/* The same ids for every text (with <|endoftext|> allowed) under both tokenizers. */
static int same_tokenization(const lms_tokenizer *a, const lms_tokenizer *b) {
    if (strcmp(lms_tokenizer_hash(a), lms_tokenizer_hash(b)) || lms_tokenizer_eot(a) != lms_tokenizer_eot(b)) return 0;
    int same = 1;
    for (size_t i = 0; i < sizeof TEXTS / sizeof TEXTS[0]; i++) {
        lms_ids x = {0}, y = {0};
        lms_err err = {0};
        size_t n = strlen(TEXTS[i]);
        lms_tokenizer_encode_ex(a, TEXTS[i], n, LMS_TOK_ALLOW_EOT, &x, &err);
        lms_tokenizer_encode_ex(b, TEXTS[i], n, LMS_TOK_ALLOW_EOT, &y, &err);
        same &= x.n > 0 && x.n == y.n && !memcmp(x.ids, y.ids, x.n * sizeof *x.ids);
        lms_ids_free(&x);
        lms_ids_free(&y);
    }
    return same;
}

static json_t *load_json(const char *dir, const char *name) {
    char p[900];
    json_error_t je;
    json_t *j = json_load_file(lms_path_join(p, sizeof p, dir, name), 0, &je);
    if (!j) fprintf(stderr, "  %s: %s\n", p, je.text);
    return j;
}

static json_int_t jint(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* config.json and the small files hold what transformers reads, for this model and tokenizer. */
static int check_hf_json(const char *dir, const lms_gpt_config *c, int eot) {
    json_t *cfg = load_json(dir, "config.json"), *tc = load_json(dir, "tokenizer_config.json"),
           *gc = load_json(dir, "generation_config.json"), *sm = load_json(dir, "special_tokens_map.json");
    int ok = cfg && tc && gc && sm;
    if (ok) {
        json_t *arch = json_object_get(cfg, "architectures");
        ok = json_array_size(arch) == 1 && !strcmp(json_string_value(json_array_get(arch, 0)), "GPT2LMHeadModel") &&
             !strcmp(json_string_value(json_object_get(cfg, "model_type")), "gpt2") &&
             !strcmp(json_string_value(json_object_get(cfg, "activation_function")), "gelu_new") &&
             json_real_value(json_object_get(cfg, "layer_norm_epsilon")) == 1e-5 && jint(cfg, "n_layer") == c->n_layer &&
             jint(cfg, "n_head") == c->n_head && jint(cfg, "n_embd") == c->n_embd && jint(cfg, "n_positions") == c->n_ctx &&
             jint(cfg, "n_ctx") == c->n_ctx && jint(cfg, "vocab_size") == c->vocab_size &&
             json_is_true(json_object_get(cfg, "tie_word_embeddings"));
        const char *idk[2] = {"bos_token_id", "eos_token_id"};
        for (int i = 0; i < 2; i++) {
            json_t *v = json_object_get(cfg, idk[i]), *g = json_object_get(gc, idk[i]);
            ok &= eot >= 0 ? json_integer_value(v) == eot && json_integer_value(g) == eot : json_is_null(v) && !g;
        }
        ok &= !strcmp(json_string_value(json_object_get(tc, "tokenizer_class")), "GPT2Tokenizer") &&
              jint(tc, "model_max_length") == c->n_ctx && json_is_false(json_object_get(tc, "add_prefix_space")) &&
              json_is_false(json_object_get(tc, "clean_up_tokenization_spaces"));
        const char *sk[3] = {"bos_token", "eos_token", "unk_token"};
        for (int i = 0; i < 3; i++) {
            json_t *t = json_object_get(tc, sk[i]), *s = json_object_get(sm, sk[i]);
            ok &= eot >= 0 ? !strcmp(json_string_value(t), "<|endoftext|>") && !strcmp(json_string_value(s), "<|endoftext|>")
                           : json_is_null(t) && !s;
        }
        json_t *added = json_object_get(tc, "added_tokens_decoder");
        char key[16];
        snprintf(key, sizeof key, "%d", eot);
        ok &= json_object_size(added) == (eot >= 0) &&
              (eot < 0 || json_is_true(json_object_get(json_object_get(added, key), "special")));
    }
    json_decref(cfg);
    json_decref(tc);
    json_decref(gc);
    json_decref(sm);
    return ok;
}

/* model.safetensors: transformers' names for every tensor of m, F32, no lm_head, "format": "pt". */
static int check_hf_names(const char *dir, lms_gpt *m) {
    char p[900];
    lms_st_reader *r;
    lms_err err = {0};
    if (lms_st_open(&r, lms_path_join(p, sizeof p, dir, "model.safetensors"), &err)) return 0;
    int ok = lms_st_count(r) == lms_gpt_num_tensors(m) && !lms_st_find(r, "lm_head.weight") &&
             lms_st_metadata_count(r) == 1 && !strcmp(lms_st_metadata(r, "format"), "pt");
    for (int i = 0; ok && i < lms_gpt_num_tensors(m); i++) {
        const lms_tensor_info *ti = lms_gpt_tensor(m, i);
        char name[128];
        snprintf(name, sizeof name, "transformer.%s", ti->name);
        const lms_st_tensor *t = lms_st_find(r, name);
        ok = t && t->dtype == LMS_ST_F32 && t->ndim == ti->ndim && t->shape[0] == ti->shape[0] &&
             (ti->ndim == 1 || t->shape[1] == ti->shape[1]);
    }
    lms_st_close(r);
    return ok;
}

/* Export m + tok as a Hugging Face dir and open it back: the same model, tokenizer, files. */
static void hf_roundtrip(const char *name, const lms_gpt_config *c, const char *tokdir) {
    lms_gpt *m = make_model(c, 11);
    lms_tokenizer *tok = load_tok(tokdir);
    lms_err err = {0};
    const char *dir = tmp_path(name);
    CHECKF(m && tok && lms_export_hf(m, tok, dir, 0, &err) == LMS_OK, "%s: %s", name, err.msg);
    lms_lm lm;
    CHECKF(lms_lm_open(&lm, dir, NULL, &err) == LMS_OK, "%s: %s", name, err.msg);
    if (lm.gpt) {
        CHECKF(lm.kind == LMS_LM_HF, "%s: opened as kind %d", name, (int)lm.kind);
        CHECKF(same_model(m, lm.gpt), "%s: parameters or logits differ", name);
        CHECKF(same_tokenization(tok, lm.tok), "%s: tokenizer differs", name);
        lms_lm_close(&lm);
    }
    CHECKF(check_hf_json(dir, c, lms_tokenizer_eot(tok)), "%s: config files", name);
    CHECKF(check_hf_names(dir, m), "%s: tensor names", name);
    CHECK(count_temporaries(tmpdir) == 0);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

static void test_hf_bpe(void) { hf_roundtrip("hf_bpe", &CFG_BPE, FIX_TOK); }
static void test_hf_bytes(void) { hf_roundtrip("hf_bytes", &CFG_BYTES, "bytes"); }

static void test_hf_gpt2_tokenizer(void) {
    lms_gpt_config c = {.n_layer = 1, .n_head = 2, .n_embd = 8, .n_ctx = 16, .vocab_size = 50257};
    hf_roundtrip("hf_gpt2", &c, GPT2_TOK);
    /* GPT-2's merges come out as GPT-2's vocab.bpe, byte for byte */
    char p[900], *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    lms_err err = {0};
    CHECK(lms_file_read_all(lms_path_join(p, sizeof p, tmp_path("hf_gpt2"), "merges.txt"), &x, &nx, &err) == LMS_OK);
    CHECK(lms_file_read_all(GPT2_TOK "/vocab.bpe", &y, &ny, &err) == LMS_OK);
    CHECK(x && y && nx == ny && !memcmp(x, y, nx));
    free(x);
    free(y);
}

/* llm.c's tokenizer file, read here the way llm.c's tokenizer_init reads it: the header, then for
 * each token a length byte and the bytes; each must be tok's token, nothing may follow. */
static int check_llmc_tokenizer(const char *path, const lms_tokenizer *tok, int eot) {
    char *d = NULL;
    size_t n = 0;
    lms_err err = {0};
    if (lms_file_read_all(path, &d, &n, &err)) return 0;
    int32_t h[256];
    int ok = n >= sizeof h;
    if (ok) memcpy(h, d, sizeof h);
    ok = ok && h[0] == 20240328 && h[1] == 2 && h[2] == lms_tokenizer_vocab_size(tok) && h[3] == eot;
    for (int i = 4; ok && i < 256; i++) ok = h[i] == 0;
    size_t off = sizeof h;
    for (int i = 0; ok && i < h[2]; i++) {
        size_t len = 0;
        const char *b = lms_tokenizer_token(tok, (uint32_t)i, &len);
        ok = off < n && (unsigned char)d[off] == len && off + 1 + len <= n && !memcmp(d + off + 1, b, len);
        off += 1 + len;
    }
    free(d);
    return ok && off == n;
}

static void llmc_roundtrip(const char *name, const lms_gpt_config *c, const char *tokdir, int want_eot) {
    lms_gpt *m = make_model(c, 12);
    lms_tokenizer *tok = load_tok(tokdir);
    lms_err err = {0};
    char bin[600], tp[600];
    snprintf(bin, sizeof bin, "%s/%s.bin", tmp_path("llmc"), name);
    lms_export_llmc_tokenizer_path(tp, sizeof tp, bin);
    CHECK(strstr(tp, "_tokenizer.bin") && !strstr(tp, ".bin_"));
    CHECKF(m && tok && lms_export_llmc(m, tok, bin, tp, 0, &err) == LMS_OK, "%s: %s", name, err.msg);
    CHECKF(lms_export_llmc_eot(tok) == want_eot, "%s: eot %d", name, lms_export_llmc_eot(tok));
    CHECKF(check_llmc_tokenizer(tp, tok, want_eot), "%s: llm.c tokenizer file", name);
    lms_lm lm;
    CHECKF(lms_lm_open(&lm, bin, tokdir, &err) == LMS_OK, "%s: %s", name, err.msg);
    if (lm.gpt) {
        CHECK(lm.kind == LMS_LM_LLMC);
        CHECKF(same_model(m, lm.gpt), "%s: parameters or logits differ", name);
        lms_lm_close(&lm);
    }
    CHECK(count_temporaries(tmp_path("llmc")) == 0);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

static void test_llmc_bpe(void) { llmc_roundtrip("bpe", &CFG_BPE, FIX_TOK, 319); }
static void test_llmc_bytes(void) { llmc_roundtrip("bytes", &CFG_BYTES, "bytes", 10); /* no EOT: the newline */ }
static void test_llmc_gpt2(void) {
    lms_gpt_config c = {.n_layer = 1, .n_head = 2, .n_embd = 8, .n_ctx = 16, .vocab_size = 50257};
    llmc_roundtrip("gpt2", &c, GPT2_TOK, 50256);
}

/* ------------------------------------------------------------------ the PyTorch reference */

/* Export the fixture's model both ways (kept under $LMS_EXPORT_KEEP when set, for
 * tools/export_reference.py), open each export and compare with the reference's ids and logits. */
static void check_reference(json_t *ref, const char *name, const lms_gpt_config *c, const char *tokdir) {
    const char *keep = getenv("LMS_EXPORT_KEEP");
    char dir[600], bin[700], tp[700];
    if (keep && *keep) snprintf(dir, sizeof dir, "%s/%s", keep, name);
    else snprintf(dir, sizeof dir, "%s", tmp_path(name));
    snprintf(bin, sizeof bin, "%s.bin", dir);
    lms_export_llmc_tokenizer_path(tp, sizeof tp, bin);
    lms_gpt *m = make_model(c, 2024);
    lms_tokenizer *tok = load_tok(tokdir);
    lms_err err = {0};
    CHECKF(m && tok && lms_export_hf(m, tok, dir, 1, &err) == LMS_OK, "%s: %s", dir, err.msg);
    CHECKF(lms_export_llmc(m, tok, bin, tp, 1, &err) == LMS_OK, "%s: %s", bin, err.msg);
    json_t *cases = json_object_get(json_object_get(json_object_get(ref, "models"), name), "cases");
    CHECKF(json_array_size(cases) >= 2, "%s: %s has no cases for this model; regenerate it (see above)", name, FIX_REF);
    for (int which = 0; which < 3; which++) { /* the model itself, the Hugging Face dir, the llm.c file */
        lms_lm lm = {0};
        if (which == 0) {
            lm.gpt = m;
            lm.tok = tok;
        } else if (lms_lm_open(&lm, which == 2 ? bin : dir, which == 2 ? dir : NULL, &err)) {
            CHECKF(0, "%s: %s", which == 2 ? bin : dir, err.msg);
            continue;
        }
        double worst = 0;
        for (size_t k = 0; k < json_array_size(cases); k++) {
            json_t *cs = json_array_get(cases, k), *jids = json_object_get(cs, "ids"), *jl = json_object_get(cs, "logits");
            const char *text = json_string_value(json_object_get(cs, "text"));
            size_t n = json_array_size(jids);
            lms_ids ids = {0};
            CHECK(text && lms_tokenizer_encode_ex(lm.tok, text, strlen(text), LMS_TOK_ALLOW_EOT, &ids, &err) == LMS_OK);
            int same = ids.n == n && n >= 1 && n <= (size_t)c->n_ctx && json_array_size(jl) == n;
            for (size_t i = 0; same && i < n; i++) same = ids.ids[i] == (uint32_t)json_integer_value(json_array_get(jids, i));
            CHECKF(same, "%s case %zu: lmscope's ids differ from the reference BPE's (%zu vs %zu tokens)", name, k, ids.n, n);
            if (same) {
                int32_t in[64];
                for (size_t i = 0; i < n; i++) in[i] = (int32_t)ids.ids[i];
                float *lg = logits_of(lm.gpt, in, (int)n);
                for (size_t t = 0; lg && t < n; t++) {
                    json_t *row = json_array_get(jl, t);
                    CHECK(json_array_size(row) == (size_t)c->vocab_size);
                    for (int v = 0; v < c->vocab_size && v < (int)json_array_size(row); v++) {
                        double d = fabs(lg[t * c->vocab_size + v] - json_number_value(json_array_get(row, v)));
                        if (!(d <= worst)) worst = d; /* NaN sticks */
                    }
                }
                free(lg);
            }
            lms_ids_free(&ids);
        }
        const char *what = which == 0 ? "the model" : which == 1 ? "its Hugging Face export" : "its llm.c export";
        CHECKF(worst <= 1e-5, "%s (%s): largest |lmscope - torch| logit difference %.3g > 1e-5", name, what, worst);
        if (getenv("LMS_EXPORT_VERBOSE")) fprintf(stderr, "  %s, %s: max |diff| %.3g\n", name, what, worst);
        if (which) lms_lm_close(&lm);
    }
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

static void test_reference(void) {
    json_error_t je;
    json_t *ref = json_load_file(FIX_REF, 0, &je);
    CHECKF(ref != NULL, "%s: %s (run from the repository root)", FIX_REF, je.text);
    check_reference(ref, "bpe", &CFG_BPE, FIX_TOK);
    check_reference(ref, "bytes", &CFG_BYTES, "bytes");
    json_decref(ref);
}

/* ------------------------------------------------------------------ bad input */

static void test_existing_outputs(void) {
    lms_gpt *m = make_model(&CFG_BYTES, 3);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    lms_err err = {0};
    /* a non-empty directory: refused, untouched; with force the export's files replace theirs */
    const char *dir = tmp_path("busy");
    char p[900];
    lms_mkdir_p(dir, NULL);
    CHECK(lms_file_write_all(lms_path_join(p, sizeof p, dir, "notes.txt"), "mine", 4, &err) == LMS_OK);
    CHECK(lms_file_write_all(lms_path_join(p, sizeof p, dir, "config.json"), "{}", 2, &err) == LMS_OK);
    CHECK(lms_export_hf(m, tok, dir, 0, &err) == LMS_ERR_ARG && strstr(err.msg, "not empty") && strstr(err.msg, "--force"));
    CHECK(lms_export_hf_check(m, tok, dir, 0, &err) == LMS_ERR_ARG);
    CHECK(!lms_path_exists(lms_path_join(p, sizeof p, dir, "model.safetensors")));
    CHECK(lms_export_hf(m, tok, dir, 1, &err) == LMS_OK);
    char *s = NULL;
    size_t n = 0;
    CHECK(lms_file_read_all(lms_path_join(p, sizeof p, dir, "notes.txt"), &s, &n, &err) == LMS_OK && n == 4);
    free(s);
    lms_lm lm;
    CHECKF(lms_lm_open(&lm, dir, NULL, &err) == LMS_OK && same_model(m, lm.gpt), "%s", err.msg);
    lms_lm_close(&lm);
    /* an existing empty directory is fine, a trailing slash too */
    lms_mkdir_p(tmp_path("empty"), NULL);
    snprintf(p, sizeof p, "%s/", tmp_path("empty"));
    CHECKF(lms_export_hf(m, tok, p, 0, &err) == LMS_OK, "%s", err.msg);
    /* a file where the directory should be, a directory where the file should be */
    CHECK(lms_export_hf(m, tok, lms_path_join(p, sizeof p, dir, "notes.txt"), 1, &err) == LMS_ERR_ARG && strstr(err.msg, "not a directory"));
    CHECK(lms_export_llmc(m, tok, dir, tmp_path("t.bin"), 1, &err) == LMS_ERR_ARG && strstr(err.msg, "is a directory"));
    /* llm.c files: an existing checkpoint or tokenizer file is refused without force */
    const char *bin = tmp_path("x.bin"), *tb = tmp_path("x_tokenizer.bin");
    CHECK(lms_file_write_all(tb, "old", 3, &err) == LMS_OK);
    CHECK(lms_export_llmc(m, tok, bin, tb, 0, &err) == LMS_ERR_ARG && strstr(err.msg, "x_tokenizer.bin") && strstr(err.msg, "--force"));
    CHECK(!lms_path_exists(bin));
    CHECK(lms_export_llmc(m, tok, bin, bin, 1, &err) == LMS_ERR_ARG);
    CHECK(lms_export_llmc(m, tok, bin, tb, 1, &err) == LMS_OK && lms_path_exists(bin));
    CHECK(check_llmc_tokenizer(tb, tok, 10));
    CHECK(count_temporaries(tmpdir) == 0);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

static void test_unwritable(void) {
    lms_gpt *m = make_model(&CFG_BYTES, 4);
    lms_tokenizer *tok = lms_tokenizer_bytes();
    lms_err err = {0};
    char p[900];
    const char *file = tmp_path("plain");
    CHECK(lms_file_write_all(file, "x", 1, &err) == LMS_OK);
    CHECK(lms_export_hf(m, tok, lms_path_join(p, sizeof p, file, "sub/hf"), 0, &err) == LMS_ERR_IO);
    CHECK(lms_export_llmc(m, tok, lms_path_join(p, sizeof p, file, "m.bin"), tmp_path("ok_tokenizer.bin"), 0, &err) == LMS_ERR_IO);
    CHECK(!lms_path_exists(tmp_path("ok_tokenizer.bin")));
    /* the tokenizer's temporary cannot be created after the checkpoint's was written: neither stays */
    const char *bin = tmp_path("half.bin"), *tb = tmp_path("half_tokenizer.bin");
    snprintf(p, sizeof p, "%s.tmp.export.%d.tmp.%d", tb, (int)getpid(), (int)getpid());
    lms_mkdir_p(p, NULL);
    CHECK(lms_export_llmc(m, tok, bin, tb, 0, &err) == LMS_ERR_IO);
    CHECK(!lms_path_exists(bin) && !lms_path_exists(tb));
    rmdir(p);
    /* a full disk (the file-size limit) halfway through the Hugging Face files: no directory */
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 20000; /* the weights are ~44 KB */
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    lms_status st1 = lms_export_hf(m, tok, tmp_path("full"), 0, &err);
    lms_status st2 = lms_export_llmc(m, tok, tmp_path("full.bin"), tmp_path("full_tokenizer.bin"), 0, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    CHECKF(st1 == LMS_ERR_IO && st2 == LMS_ERR_IO, "status %d %d: %s", (int)st1, (int)st2, err.msg);
    CHECK(!lms_path_exists(tmp_path("full")) && !lms_path_exists(tmp_path("full.bin")) &&
          !lms_path_exists(tmp_path("full_tokenizer.bin")));
    CHECK(count_temporaries(tmpdir) == 0);
    lms_tokenizer_free(tok);
    lms_gpt_free(m);
}

/* A tokenizer with a 300-byte token: the Hugging Face export holds it, llm.c's file cannot. */
static void test_unrepresentable(void) {
    size_t len = 300;
    char *word = malloc(len + 2);
    word[0] = ' ';
    memset(word + 1, 'a', len);
    word[len + 1] = 0;
    const char *texts[1] = {word};
    size_t lens[1] = {len + 1};
    lms_tokenizer_train_config tc = {.vocab_size = 280, .threads = 1};
    lms_tokenizer *tok = NULL;
    lms_err err = {0};
    CHECKF(lms_tokenizer_train_texts(&tok, texts, lens, 1, &tc, &err) == LMS_OK, "%s", err.msg);
    size_t longest = 0;
    for (int i = 0; tok && i < lms_tokenizer_vocab_size(tok); i++) {
        size_t n = 0;
        lms_tokenizer_token(tok, (uint32_t)i, &n);
        if (n > longest) longest = n;
    }
    CHECKF(longest > 255, "the longest token has %zu bytes", longest);
    int V = tok ? lms_tokenizer_vocab_size(tok) : 280;
    lms_gpt_config c = CFG_BYTES;
    c.vocab_size = V;
    lms_gpt *m = make_model(&c, 5);
    const char *bin = tmp_path("long.bin"), *tb = tmp_path("long_tokenizer.bin");
    CHECK(lms_export_llmc_check(m, tok, bin, tb, 0, &err) == LMS_ERR_UNSUPPORTED);
    CHECK(lms_export_llmc(m, tok, bin, tb, 0, &err) == LMS_ERR_UNSUPPORTED && strstr(err.msg, "255") &&
          strstr(err.msg, "Hugging Face"));
    CHECK(!lms_path_exists(bin) && !lms_path_exists(tb));
    CHECK(lms_export_llmc_tokenizer(tok, tb, &err) == LMS_ERR_UNSUPPORTED && !lms_path_exists(tb));
    CHECKF(lms_export_hf(m, tok, tmp_path("long_hf"), 0, &err) == LMS_OK, "%s", err.msg);
    lms_lm lm;
    CHECKF(lms_lm_open(&lm, tmp_path("long_hf"), NULL, &err) == LMS_OK && same_tokenization(tok, lm.tok), "%s", err.msg);
    lms_lm_close(&lm);
    /* a tokenizer bigger than the model: refused before anything is written */
    c.vocab_size = V - 1;
    lms_gpt *small = make_model(&c, 6);
    char want[64];
    snprintf(want, sizeof want, "has %d tokens", V);
    CHECK(lms_export_hf(small, tok, tmp_path("toobig"), 0, &err) == LMS_ERR_ARG && strstr(err.msg, want));
    CHECK(!lms_path_exists(tmp_path("toobig")) && count_temporaries(tmpdir) == 0);
    lms_gpt_free(small);
    lms_gpt_free(m);
    lms_tokenizer_free(tok);
    free(word);
}

static void test_cleanup(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(tmpdir[0] && system(cmd) == 0);
}

TESTS(test_hf_bpe, test_hf_bytes, test_hf_gpt2_tokenizer, test_llmc_bpe, test_llmc_bytes, test_llmc_gpt2, test_reference,
      test_existing_outputs, test_unwritable, test_unrepresentable, test_cleanup)
