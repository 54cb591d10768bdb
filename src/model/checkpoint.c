/* checkpoint.c — GPT-2 checkpoints on top of safetensors.c and the model's tensor table:
 * lmscope model files, Hugging Face GPT-2 model.safetensors + config.json, llm.c gpt2_*.bin
 * (read and write), and the AdamW state file format (its buffers come from optim/optim_io.c: model/
 * does not depend on optim/). See checkpoint.h for the formats.
 *
 * Loading validates everything before it copies anything: each of the model's tensors must be
 * present exactly once with exactly the shape the config implies, and no tensor may be left over
 * (apart from the buffers Hugging Face files carry), so a file that would load "mostly" is an
 * error naming the tensor, never a half-loaded model.
 *
 * The model's parameters are read and written through host views of its backend
 * (kernels/backend.h: the buffer itself on host memory, a copy otherwise); a model in device
 * memory is saved from a host clone, because the safetensors writer borrows what it writes.
 *
 * Leaves out: sharded Hugging Face checkpoints, PyTorch pickles, untied output layers.
 */
#include "model/checkpoint.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/mem.h"
#include "kernels/backend.h"
#include "model/safetensors.h"

#define FORMAT_VERSION "1"

/* ------------------------------------------------------------------ small helpers */

static int starts_with(const char *s, const char *p) {
    while (*p)
        if (*s++ != *p++) return 0;
    return 1;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static void config_str(char *buf, size_t cap, const lms_gpt_config *c) {
    snprintf(buf, cap, "n_layer=%d n_head=%d n_embd=%d n_ctx=%d vocab_size=%d", c->n_layer, c->n_head,
             c->n_embd, c->n_ctx, c->vocab_size);
}

static int config_eq(const lms_gpt_config *a, const lms_gpt_config *b) {
    return a->n_layer == b->n_layer && a->n_head == b->n_head && a->n_embd == b->n_embd && a->n_ctx == b->n_ctx &&
           a->vocab_size == b->vocab_size;
}

/* "<dir of path>/name" into out. */
static void sibling(char *out, size_t cap, const char *path, const char *name) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, cap, "%s", name);
    else snprintf(out, cap, "%.*s/%s", (int)(slash - path), path, name);
}

/* A directory means its model.safetensors. */
static const char *resolve(const char *path, char *buf, size_t cap) {
    if (!lms_path_is_dir(path)) return path;
    return lms_path_join(buf, cap, path, "model.safetensors");
}

/* ------------------------------------------------------------------ metadata */

static const char *const reserved_keys[] = {"format", "n_layer", "n_head", "n_embd", "n_ctx", "vocab_size", "step"};

static int is_reserved(const char *k) {
    if (starts_with(k, "lmscope.")) return 1;
    for (size_t i = 0; i < sizeof reserved_keys / sizeof reserved_keys[0]; i++)
        if (!strcmp(k, reserved_keys[i])) return 1;
    return 0;
}

/* Store the caller's JSON object as metadata entries (see checkpoint.h). */
static lms_status put_caller_metadata(lms_st_writer *w, const char *json, lms_err *err) {
    if (!json || !*json) return LMS_OK;
    json_error_t je;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return lms_errf(err, LMS_ERR_ARG, "checkpoint metadata is not valid JSON (%s, byte %d); pass a JSON object like {\"key\": \"value\"}",
                        je.text, je.position);
    lms_status s = LMS_OK;
    json_t *jk = json_array();
    if (!json_is_object(root)) {
        s = lms_errf(err, LMS_ERR_ARG, "checkpoint metadata must be a JSON object like {\"key\": \"value\"}");
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (is_reserved(k)) {
            s = lms_errf(err, LMS_ERR_ARG, "checkpoint metadata key '%.200s' is reserved by lmscope (format, the config "
                         "fields, step, lmscope.*); rename it", k);
            goto done;
        }
        if (json_is_string(v)) {
            s = lms_st_writer_set_metadata(w, k, json_string_value(v), err);
        } else {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!t) {
                s = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
                goto done;
            }
            s = lms_st_writer_set_metadata(w, k, t, err);
            free(t);
            json_array_append_new(jk, json_string(k));
        }
        if (s) goto done;
    }
    if (json_array_size(jk)) {
        char *t = json_dumps(jk, JSON_COMPACT);
        s = t ? lms_st_writer_set_metadata(w, "lmscope.json_keys", t, err) : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        free(t);
    }
done:
    json_decref(jk);
    json_decref(root);
    return s;
}

/* Build the caller-metadata JSON text of a file (all entries when !ours). */
static lms_status caller_metadata_json(const lms_st_reader *r, int ours, char **out, const char *path, lms_err *err) {
    *out = NULL;
    json_t *jk = NULL, *o = json_object();
    if (!o) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    const char *jks = ours ? lms_st_metadata(r, "lmscope.json_keys") : NULL;
    if (jks) {
        jk = json_loads(jks, 0, NULL);
        if (!json_is_array(jk)) {
            json_decref(jk);
            json_decref(o);
            return lms_errf(err, LMS_ERR_FORMAT, "%s: metadata \"lmscope.json_keys\" is not a JSON array; the file was edited or is corrupt", path);
        }
    }
    for (int i = 0; i < lms_st_metadata_count(r); i++) {
        const char *k, *v;
        lms_st_metadata_at(r, i, &k, &v);
        if (ours && is_reserved(k)) continue;
        int as_json = 0;
        for (size_t j = 0; jk && j < json_array_size(jk); j++) {
            const char *n = json_string_value(json_array_get(jk, j));
            if (n && !strcmp(n, k)) as_json = 1;
        }
        json_t *val = as_json ? json_loads(v, JSON_DECODE_ANY, NULL) : json_string(v);
        if (!val) {
            json_decref(jk);
            json_decref(o);
            return lms_errf(err, LMS_ERR_FORMAT, "%s: metadata '%.200s' should hold JSON but does not; the file was edited or is corrupt",
                            path, k);
        }
        json_object_set_new(o, k, val);
    }
    json_decref(jk);
    *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *out ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
}

static lms_status put_config(lms_st_writer *w, const lms_gpt_config *c, lms_err *err) {
    char b[32];
    const char *keys[5] = {"n_layer", "n_head", "n_embd", "n_ctx", "vocab_size"};
    int vals[5] = {c->n_layer, c->n_head, c->n_embd, c->n_ctx, c->vocab_size};
    for (int i = 0; i < 5; i++) {
        snprintf(b, sizeof b, "%d", vals[i]);
        lms_status s = lms_st_writer_set_metadata(w, keys[i], b, err);
        if (s) return s;
    }
    return LMS_OK;
}

static lms_status meta_i64(const lms_st_reader *r, const char *key, int64_t lo, int64_t hi, int64_t *out,
                           const char *path, lms_err *err) {
    const char *s = lms_st_metadata(r, key);
    if (!s)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: the metadata has no \"%s\"; the file was not written by lmscope or was edited",
                        path, key);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: metadata \"%s\" = '%.64s' is not an integer in [%lld, %lld]", path, key, s,
                        (long long)lo, (long long)hi);
    *out = v;
    return LMS_OK;
}

static lms_status meta_config(const lms_st_reader *r, lms_gpt_config *c, const char *path, lms_err *err) {
    const char *keys[5] = {"n_layer", "n_head", "n_embd", "n_ctx", "vocab_size"};
    int *dst[5] = {&c->n_layer, &c->n_head, &c->n_embd, &c->n_ctx, &c->vocab_size};
    for (int i = 0; i < 5; i++) {
        int64_t v = 0;
        lms_status s = meta_i64(r, keys[i], 1, INT_MAX, &v, path, err);
        if (s) return s;
        *dst[i] = (int)v;
    }
    return LMS_OK;
}

/* ------------------------------------------------------------------ detection */

static lms_status detect(const char *path, lms_checkpoint_kind *kind, lms_st_reader **keep, lms_err *err) {
    if (keep) *keep = NULL;
    if (ends_with(path, ".bin")) {
        *kind = LMS_CKPT_LLMC;
        return LMS_OK;
    }
    FILE *fp;
    lms_status os = lms_fopen_regular(path, &fp, err); /* a FIFO or device is refused, not waited on */
    if (os) return lms_err_prefix(err, "checkpoint: ");
    int32_t magic = 0;
    size_t got = fread(&magic, 1, 4, fp);
    fclose(fp);
    if (got == 4 && magic == LMS_LLMC_MAGIC) {
        *kind = LMS_CKPT_LLMC;
        return LMS_OK;
    }
    lms_st_reader *r;
    lms_status s = lms_st_open(&r, path, err);
    if (s) return s;
    const char *f = lms_st_metadata(r, "lmscope.format");
    if (!f) *kind = LMS_CKPT_HF;
    else if (!strcmp(f, "gpt2")) *kind = LMS_CKPT_LMSCOPE;
    else if (!strcmp(f, "adamw")) *kind = LMS_CKPT_OPTIM;
    else {
        s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: lmscope.format '%.64s' is unknown (expected gpt2 or adamw); written by a newer lmscope?",
                     path, f);
        lms_st_close(r); /* after the message: f points into r */
        return s;
    }
    if (*kind != LMS_CKPT_HF) {
        const char *v = lms_st_metadata(r, "lmscope.format_version");
        if (!v || strcmp(v, FORMAT_VERSION)) {
            s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: lmscope.format_version '%.32s' is not %s; written by a different lmscope version",
                         path, v ? v : "(missing)", FORMAT_VERSION);
            lms_st_close(r); /* after the message: v points into r */
            return s;
        }
    }
    if (keep) *keep = r;
    else lms_st_close(r);
    return LMS_OK;
}

lms_status lms_checkpoint_detect(const char *path, lms_checkpoint_kind *kind, lms_err *err) {
    char buf[4096];
    return detect(resolve(path, buf, sizeof buf), kind, NULL, err);
}

/* ------------------------------------------------------------------ safetensors -> model */

/* Find each of m's tensors under prefix+name (HF files: also "transformer."+name), check its
 * shape, then check that nothing unexpected is left. src[i] receives tensor i's entry. */
static lms_status locate(const lms_gpt *m, const lms_st_reader *r, const char *prefix, int hf,
                         const lms_st_tensor **src, const char *path, const char *hint, lms_err *err) {
    const lms_gpt_config *c = lms_gpt_get_config(m);
    char cs[160];
    config_str(cs, sizeof cs, c);
    for (int i = 0; i < lms_gpt_num_tensors(m); i++) {
        const lms_tensor_info *ti = lms_gpt_tensor(m, i);
        char name[128], pname[160];
        snprintf(name, sizeof name, "%s%s", prefix, ti->name);
        snprintf(pname, sizeof pname, "transformer.%s", name);
        const lms_st_tensor *t = lms_st_find(r, name), *tp = hf ? lms_st_find(r, pname) : NULL;
        if (t && tp)
            return lms_errf(err, LMS_ERR_FORMAT, "%s: tensor '%s' appears both with and without the \"transformer.\" prefix; the file is ambiguous",
                            path, name);
        if (!t) t = tp;
        char want[64], got[64];
        shape_str(want, sizeof want, ti->ndim, ti->shape);
        if (!t)
            return lms_errf(err, LMS_ERR_MISMATCH, "%s: tensor '%s' (shape %s for %s) is missing; %s", path, name, want, cs, hint);
        shape_str(got, sizeof got, t->ndim, t->shape);
        int same = t->ndim == ti->ndim;
        for (int d = 0; same && d < ti->ndim; d++) same = t->shape[d] == ti->shape[d];
        if (!same)
            return lms_errf(err, LMS_ERR_MISMATCH, "%s: tensor '%s' has shape %s but %s needs %s; %s", path, t->name, got, cs, want, hint);
        src[i] = t;
    }
    return LMS_OK;
}

/* Is name one of m's tensor names (after prefix)? */
static int is_param(const lms_gpt *m, const char *name, const char *prefix) {
    return starts_with(name, prefix) && lms_gpt_find_tensor(m, name + strlen(prefix)) != NULL;
}

static int is_hf_buffer(const char *name) {
    if (starts_with(name, "transformer.")) name += strlen("transformer.");
    return starts_with(name, "h.") && (ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias"));
}

/* The first tensor of r that is none of: a parameter (under one of the prefixes; HF also under
 * "transformer."), an HF attention buffer or lm_head.weight (hf only). NULL if none. */
static const lms_st_tensor *unexpected(const lms_gpt *m, const lms_st_reader *r, const char *const *prefixes, int np, int hf) {
    for (int j = 0; j < lms_st_count(r); j++) {
        const lms_st_tensor *t = lms_st_get(r, j);
        const char *n = t->name;
        if (hf && (is_hf_buffer(n) || !strcmp(n, "lm_head.weight"))) continue;
        if (hf && starts_with(n, "transformer.")) n += strlen("transformer.");
        int ok = 0;
        for (int p = 0; p < np && !ok; p++) ok = is_param(m, n, prefixes[p]);
        if (!ok) return t;
    }
    return NULL;
}

static lms_status check_tied(const lms_gpt *m, const lms_st_reader *r, const char *path, lms_err *err) {
    const lms_st_tensor *lm = lms_st_find(r, "lm_head.weight");
    if (!lm) return LMS_OK;
    const lms_tensor_info *wi = lms_gpt_find_tensor(m, "wte.weight");
    void *tmp;
    const float *wte = lms_backend_read_view(lms_gpt_backend(m), lms_gpt_params_const(m) + wi->offset,
                                             (size_t)wi->numel * sizeof(float), &tmp, err);
    if (!wte) return LMS_ERR_NOMEM;
    int same = lm->ndim == 2 && lm->shape[0] == wi->shape[0] && lm->shape[1] == wi->shape[1];
    float buf[1024];
    size_t isz = lms_st_dtype_size(lm->dtype);
    for (int64_t i = 0; same && i < lm->numel; i += 1024) {
        size_t k = (size_t)(lm->numel - i < 1024 ? lm->numel - i : 1024);
        lms_st_convert_to_f32(lm->dtype, lm->data + (size_t)i * isz, buf, k);
        same = memcmp(buf, wte + i, k * sizeof(float)) == 0;
    }
    lms_free(tmp);
    if (!same)
        return lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: lm_head.weight differs from wte.weight (an untied output layer); lmscope's GPT-2 "
                        "ties the output layer to the token embedding, so this model is not supported", path);
    return LMS_OK;
}

/* Load r's tensors into a new model for config c (kind: ours or HF). */
static lms_status load_st(lms_gpt **out, const lms_st_reader *r, const lms_gpt_config *c, int hf, const char *path,
                          const char *hint, lms_err *err) {
    lms_status s = lms_gpt_config_check(c, err);
    if (s) return lms_err_prefix(err, "%s: ", path);
    /* check the size before allocating: the smallest dtype is 2 bytes per parameter */
    int64_t np = lms_gpt_config_num_params(c);
    if ((uint64_t)np > lms_st_file_size(r) / 2) {
        char cs[160];
        config_str(cs, sizeof cs, c);
        return lms_errf(err, LMS_ERR_MISMATCH, "%s: a GPT-2 with %s has %lld parameters, more than this %zu-byte file can hold; %s",
                        path, cs, (long long)np, lms_st_file_size(r), hint);
    }
    lms_gpt *m;
    s = lms_gpt_create_weights(&m, c, err);
    if (s) return lms_err_prefix(err, "%s: ", path);
    int n = lms_gpt_num_tensors(m);
    const lms_st_tensor **src = calloc((size_t)n, sizeof *src);
    if (!src) {
        lms_gpt_free(m);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    const char *none[1] = {""};
    s = locate(m, r, "", hf, src, path, hint, err);
    const lms_st_tensor *x = s ? NULL : unexpected(m, r, none, 1, hf);
    if (x) {
        char cs[160];
        config_str(cs, sizeof cs, c);
        s = lms_errf(err, LMS_ERR_MISMATCH, "%s: unexpected tensor '%.200s', not part of a GPT-2 with %s; %s", path, x->name, cs, hint);
    }
    if (!s) { /* into a host view of the parameters (the buffer itself on host memory) */
        size_t bytes = (size_t)lms_gpt_num_params(m) * sizeof(float);
        void *tmp;
        float *p = lms_backend_write_view(lms_gpt_backend(m), lms_gpt_params(m), bytes, &tmp, err);
        if (!p) s = LMS_ERR_NOMEM;
        for (int i = 0; p && i < n; i++) lms_st_read_f32(src[i], p + lms_gpt_tensor(m, i)->offset);
        if (p) lms_backend_write_done(lms_gpt_backend(m), lms_gpt_params(m), tmp, bytes);
        if (!s && hf) s = check_tied(m, r, path, err);
    }
    free(src);
    if (s) {
        lms_gpt_free(m);
        return s;
    }
    *out = m;
    return LMS_OK;
}

/* ------------------------------------------------------------------ Hugging Face config.json */

static lms_status hf_int(const json_t *root, const char *key, const char *alt, int *out, const char *cfg, lms_err *err) {
    const json_t *v = json_object_get(root, key);
    if (!v && alt) v = json_object_get(root, alt);
    if (!v)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: no \"%s\"; a GPT-2 config.json needs n_layer, n_head, n_embd, n_positions and vocab_size",
                        cfg, key);
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > INT_MAX)
        return lms_errf(err, LMS_ERR_FORMAT, "%s: \"%s\" is not a positive integer", cfg, key);
    *out = (int)json_integer_value(v);
    return LMS_OK;
}

static lms_status read_hf_config(const char *path, lms_gpt_config *c, lms_err *err) {
    char cfg[4096 + 16];
    sibling(cfg, sizeof cfg, path, "config.json");
    if (!lms_path_exists(cfg))
        return lms_errf(err, LMS_ERR_MISMATCH, "%s looks like a Hugging Face GPT-2 file but %s is missing; put the model's config.json "
                        "(from the same model repository) beside it", path, cfg);
    json_error_t je;
    json_t *root = json_load_file(cfg, 0, &je);
    if (!root) return lms_errf(err, LMS_ERR_FORMAT, "%s: not valid JSON (line %d: %s)", cfg, je.line, je.text);
    lms_status s = LMS_OK;
    if (!json_is_object(root)) {
        s = lms_errf(err, LMS_ERR_FORMAT, "%s: not a JSON object", cfg);
        goto done;
    }
    const json_t *v = json_object_get(root, "model_type");
    if (json_is_string(v) && strcmp(json_string_value(v), "gpt2")) {
        s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: model_type is '%.64s'; lmscope loads GPT-2 models (model_type gpt2) only", cfg,
                     json_string_value(v));
        goto done;
    }
    v = json_object_get(root, "activation_function");
    if (json_is_string(v) && strcmp(json_string_value(v), "gelu_new") && strcmp(json_string_value(v), "gelu_pytorch_tanh") &&
        strcmp(json_string_value(v), "gelu_fast")) {
        s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: activation_function '%.64s' is not supported; lmscope's GPT-2 uses the tanh GELU (gelu_new)",
                     cfg, json_string_value(v));
        goto done;
    }
    v = json_object_get(root, "layer_norm_epsilon");
    if (json_is_number(v) && fabs(json_number_value(v) - 1e-5) > 1e-12) {
        s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: layer_norm_epsilon %g is not supported; lmscope's LayerNorm uses 1e-5", cfg,
                     json_number_value(v));
        goto done;
    }
    if (json_is_false(json_object_get(root, "scale_attn_weights")) ||
        json_is_true(json_object_get(root, "scale_attn_by_inverse_layer_idx")) ||
        json_is_false(json_object_get(root, "tie_word_embeddings"))) {
        s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: scale_attn_weights=false, scale_attn_by_inverse_layer_idx=true or "
                     "tie_word_embeddings=false change the GPT-2 block; lmscope does not support them", cfg);
        goto done;
    }
    if ((s = hf_int(root, "n_layer", NULL, &c->n_layer, cfg, err)) || (s = hf_int(root, "n_head", NULL, &c->n_head, cfg, err)) ||
        (s = hf_int(root, "n_embd", NULL, &c->n_embd, cfg, err)) ||
        (s = hf_int(root, "n_positions", "n_ctx", &c->n_ctx, cfg, err)) ||
        (s = hf_int(root, "vocab_size", NULL, &c->vocab_size, cfg, err)))
        goto done;
    v = json_object_get(root, "n_inner");
    if (v && !json_is_null(v) && !(json_is_integer(v) && json_integer_value(v) == 4 * (json_int_t)c->n_embd)) {
        s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: n_inner is not 4 * n_embd; lmscope's GPT-2 MLP is 4x wide", cfg);
        goto done;
    }
done:
    json_decref(root);
    return s;
}

lms_status lms_checkpoint_save_hf_config(const char *path, const lms_gpt_config *c, lms_err *err) {
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "{\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"model_type\": \"gpt2\",\n"
                     "  \"activation_function\": \"gelu_new\",\n  \"layer_norm_epsilon\": 1e-05,\n"
                     "  \"n_layer\": %d,\n  \"n_head\": %d,\n  \"n_embd\": %d,\n  \"n_positions\": %d,\n"
                     "  \"n_ctx\": %d,\n  \"vocab_size\": %d,\n  \"n_inner\": null,\n  \"tie_word_embeddings\": true,\n"
                     "  \"attn_pdrop\": 0.0,\n  \"embd_pdrop\": 0.0,\n  \"resid_pdrop\": 0.0,\n"
                     "  \"bos_token_id\": %d,\n  \"eos_token_id\": %d\n}\n",
                     c->n_layer, c->n_head, c->n_embd, c->n_ctx, c->n_ctx, c->vocab_size, c->vocab_size - 1,
                     c->vocab_size - 1);
    return lms_file_write_all(path, buf, (size_t)n, err);
}

/* ------------------------------------------------------------------ llm.c */

/* llm.c's 16 parameter tensors in file order; per-layer ones are [L, rows, cols]. */
typedef struct {
    const char *hf;   /* HF name (per layer: after "h.<l>.") */
    int per_layer;    /* 1: stacked over layers */
    int transpose;    /* 1: llm.c [out, in] -> HF [in, out] */
    int64_t rows, cols; /* llm.c shape of one layer's slice */
} llmc_tensor;

static void llmc_table(llmc_tensor t[16], int64_t Vp, int64_t maxT, int64_t C) {
    llmc_tensor tab[16] = {
        {"wte.weight", 0, 0, Vp, C},         {"wpe.weight", 0, 0, maxT, C},
        {"ln_1.weight", 1, 0, 1, C},         {"ln_1.bias", 1, 0, 1, C},
        {"attn.c_attn.weight", 1, 1, 3 * C, C}, {"attn.c_attn.bias", 1, 0, 1, 3 * C},
        {"attn.c_proj.weight", 1, 1, C, C},  {"attn.c_proj.bias", 1, 0, 1, C},
        {"ln_2.weight", 1, 0, 1, C},         {"ln_2.bias", 1, 0, 1, C},
        {"mlp.c_fc.weight", 1, 1, 4 * C, C}, {"mlp.c_fc.bias", 1, 0, 1, 4 * C},
        {"mlp.c_proj.weight", 1, 1, C, 4 * C}, {"mlp.c_proj.bias", 1, 0, 1, C},
        {"ln_f.weight", 0, 0, 1, C},         {"ln_f.bias", 0, 0, 1, C},
    };
    memcpy(t, tab, sizeof tab);
}

static float elem(const unsigned char *p, size_t i, int bf16) {
    if (bf16) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        return lms_st_bf16_to_f32(h);
    }
    float f;
    memcpy(&f, p + 4 * i, 4);
    return f;
}

static lms_status load_llmc(lms_gpt **out, const char *path, lms_err *err) {
    lms_mmap mp;
    lms_status s = lms_mmap_open(&mp, path, err);
    if (s) return s;
    if (mp.len < 1024) {
        s = lms_errf(err, LMS_ERR_FORMAT, "%s: %zu bytes, shorter than llm.c's 1024-byte header; truncated or not an llm.c checkpoint",
                     path, mp.len);
        goto fail;
    }
    int32_t h[256];
    memcpy(h, mp.data, sizeof h);
    if (h[0] != LMS_LLMC_MAGIC) {
        s = lms_errf(err, LMS_ERR_FORMAT, "%s: magic %d is not llm.c's model magic %d; not an llm.c checkpoint (token shards use 20240520)",
                     path, h[0], LMS_LLMC_MAGIC);
        goto fail;
    }
    if (h[1] != 1 && h[1] != 3 && h[1] != 5) {
        s = lms_errf(err, LMS_ERR_UNSUPPORTED, "%s: llm.c checkpoint version %d; lmscope reads versions 1 and 3 (fp32) and 5 (bf16): "
                     "re-export it with llm.c's train_gpt2.py", path, h[1]);
        goto fail;
    }
    int bf16 = h[1] == 5;
    lms_gpt_config c = {.n_layer = h[4], .n_head = h[5], .n_embd = h[6], .n_ctx = h[2], .vocab_size = h[3]};
    if ((s = lms_gpt_config_check(&c, err))) {
        lms_err_prefix(err, "%s: the llm.c header describes an invalid model: ", path);
        goto fail;
    }
    int64_t Vp = h[1] == 1 ? c.vocab_size : h[7], C = c.n_embd, L = c.n_layer; /* version 1: no padding */
    if (Vp < c.vocab_size) {
        s = lms_errf(err, LMS_ERR_FORMAT, "%s: padded vocabulary size %lld is smaller than the vocabulary %d; corrupt header", path,
                     (long long)Vp, c.vocab_size);
        goto fail;
    }
    llmc_tensor tab[16];
    llmc_table(tab, Vp, c.n_ctx, C);
    uint64_t total = 0;
    int over = 0;
    for (int k = 0; k < 16; k++) {
        uint64_t e;
        over |= __builtin_mul_overflow((uint64_t)tab[k].rows, (uint64_t)tab[k].cols, &e);
        over |= __builtin_mul_overflow(e, (uint64_t)(tab[k].per_layer ? L : 1), &e);
        over |= __builtin_add_overflow(total, e, &total);
    }
    uint64_t need;
    over |= __builtin_mul_overflow(total, (uint64_t)(bf16 ? 2 : 4), &need);
    over |= __builtin_add_overflow(need, (uint64_t)1024, &need);
    if (over || need > mp.len) {
        s = lms_errf(err, LMS_ERR_FORMAT, "%s: truncated: the header (%d layers, %d heads, width %d, %d positions, vocabulary %d "
                     "padded to %lld, %s) needs %llu bytes but the file has %zu; download or export it again",
                     path, c.n_layer, c.n_head, c.n_embd, c.n_ctx, c.vocab_size, (long long)Vp, bf16 ? "bf16" : "fp32",
                     (unsigned long long)need, mp.len);
        goto fail;
    }
    if (need < mp.len) {
        s = lms_errf(err, LMS_ERR_FORMAT, "%s: %llu bytes after the parameters the header describes; the header and the data disagree",
                     path, (unsigned long long)(mp.len - need));
        goto fail;
    }
    lms_gpt *m;
    if ((s = lms_gpt_create_weights(&m, &c, err))) {
        lms_err_prefix(err, "%s: ", path);
        goto fail;
    }
    size_t pbytes = (size_t)lms_gpt_num_params(m) * sizeof(float);
    void *ptmp;
    float *params = lms_backend_write_view(lms_gpt_backend(m), lms_gpt_params(m), pbytes, &ptmp, err);
    if (!params) {
        lms_gpt_free(m);
        s = LMS_ERR_NOMEM;
        goto fail;
    }
    const unsigned char *p = mp.data + 1024;
    size_t isz = bf16 ? 2 : 4;
    for (int k = 0; k < 16; k++) {
        const llmc_tensor *t = &tab[k];
        int64_t R = t->rows, K = t->cols, nl = t->per_layer ? L : 1;
        for (int64_t l = 0; l < nl; l++) {
            char name[64];
            if (t->per_layer) snprintf(name, sizeof name, "h.%lld.%s", (long long)l, t->hf);
            else snprintf(name, sizeof name, "%s", t->hf);
            const lms_tensor_info *ti = lms_gpt_find_tensor(m, name);
            LMS_ASSERT(ti != NULL);
            float *dst = params + ti->offset;
            const unsigned char *src = p + (size_t)(l * R * K) * isz;
            if (t->transpose) { /* src [R, K] -> dst [K, R] */
                LMS_ASSERT(ti->numel == R * K && ti->shape[0] == K);
                for (int64_t i = 0; i < R; i++)
                    for (int64_t j = 0; j < K; j++) dst[j * R + i] = elem(src, (size_t)(i * K + j), bf16);
            } else { /* wte: only the first V of Vp rows (ti->numel), dropping the padding */
                LMS_ASSERT(ti->numel == (k == 0 ? (int64_t)c.vocab_size * C : R * K));
                lms_st_convert_to_f32(bf16 ? LMS_ST_BF16 : LMS_ST_F32, src, dst, (size_t)ti->numel);
            }
        }
        p += (size_t)(R * K * nl) * isz;
    }
    lms_backend_write_done(lms_gpt_backend(m), lms_gpt_params(m), ptmp, pbytes);
    lms_mmap_close(&mp);
    *out = m;
    return LMS_OK;
fail:
    lms_mmap_close(&mp);
    return s;
}

lms_status lms_checkpoint_save_llmc(const char *path, const lms_gpt *m, lms_err *err) {
    const lms_gpt_config *c = lms_gpt_get_config(m);
    int64_t C = c->n_embd, L = c->n_layer, V = c->vocab_size, Vp = (V + 127) / 128 * 128;
    int32_t h[256] = {0};
    h[0] = LMS_LLMC_MAGIC;
    h[1] = 3;
    h[2] = c->n_ctx;
    h[3] = c->vocab_size;
    h[4] = c->n_layer;
    h[5] = c->n_head;
    h[6] = c->n_embd;
    h[7] = (int32_t)Vp;
    /* the weights' host view first: on a device model it is a copy, whose allocation failing is
       LMS_ERR_NOMEM (lms_alloc's message), not a write error */
    void *ptmp = NULL;
    const float *params = lms_backend_read_view(lms_gpt_backend(m), lms_gpt_params_const(m),
                                                (size_t)lms_gpt_num_params(m) * sizeof(float), &ptmp, err);
    if (!params) return err ? lms_err_prefix(err, "writing '%s': ", path) : LMS_ERR_NOMEM;
    lms_atomic_file f;
    lms_status s = lms_atomic_open(&f, path, err);
    if (s) {
        lms_free(ptmp);
        return s;
    }
    float *tmp = malloc((size_t)(4 * C * C > C ? 4 * C * C : C) * sizeof(float));
    int ok = tmp && fwrite(h, sizeof h, 1, f.fp) == 1;
    llmc_tensor tab[16];
    llmc_table(tab, Vp, c->n_ctx, C);
    for (int k = 0; ok && k < 16; k++) {
        const llmc_tensor *t = &tab[k];
        int64_t R = t->rows, K = t->cols, nl = t->per_layer ? L : 1;
        for (int64_t l = 0; ok && l < nl; l++) {
            char name[64];
            if (t->per_layer) snprintf(name, sizeof name, "h.%lld.%s", (long long)l, t->hf);
            else snprintf(name, sizeof name, "%s", t->hf);
            const lms_tensor_info *ti = lms_gpt_find_tensor(m, name);
            LMS_ASSERT(ti != NULL);
            const float *src = params + ti->offset;
            if (k == 0) {
                ok = fwrite(src, sizeof(float), (size_t)(V * C), f.fp) == (size_t)(V * C);
                memset(tmp, 0, (size_t)C * sizeof(float));
                for (int64_t r = V; ok && r < Vp; r++) ok = fwrite(tmp, sizeof(float), (size_t)C, f.fp) == (size_t)C;
            } else if (t->transpose) { /* HF [K, R] -> llm.c [R, K] */
                for (int64_t i = 0; i < R; i++)
                    for (int64_t j = 0; j < K; j++) tmp[i * K + j] = src[j * R + i];
                ok = fwrite(tmp, sizeof(float), (size_t)(R * K), f.fp) == (size_t)(R * K);
            } else {
                ok = fwrite(src, sizeof(float), (size_t)(R * K), f.fp) == (size_t)(R * K);
            }
        }
    }
    free(tmp);
    lms_free(ptmp);
    if (!ok) {
        lms_atomic_abort(&f);
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed (disk full? out of memory?); no file was left behind", path);
    }
    return lms_atomic_commit(&f, err);
}

/* ------------------------------------------------------------------ public model I/O */

lms_status lms_checkpoint_add_weights(lms_st_writer *w, const lms_gpt *m, const char *prefix, lms_err *err) {
    /* the writer borrows the data until it writes: a host view whose copy (device memory) would
       have to outlive this call cannot be handed over, so such a model is cloned first (below) */
    const lms_backend *b = lms_gpt_backend(m);
    if (!lms_backend_has(b, LMS_BACKEND_HOST_MEMORY))
        return lms_errf(err, LMS_ERR_UNSUPPORTED, "the model's weights are in the device memory of backend '%s': clone it onto a host "
                        "backend (lms_gpt_clone_on) before adding its weights to a file", b->name);
    void *tmp;
    const float *p = lms_backend_read_view(b, lms_gpt_params_const(m), (size_t)lms_gpt_num_params(m) * sizeof(float), &tmp, err);
    lms_status s = LMS_OK;
    for (int i = 0; !s && i < lms_gpt_num_tensors(m); i++) {
        const lms_tensor_info *ti = lms_gpt_tensor(m, i);
        char name[256];
        snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", ti->name);
        s = lms_st_writer_add(w, name, LMS_ST_F32, ti->ndim, ti->shape, p + ti->offset, err);
    }
    return s;
}

lms_status lms_checkpoint_save(const char *path, const lms_gpt *m, const char *metadata_json, lms_err *err) {
    lms_gpt *hm = NULL; /* a model in device memory is saved from a host clone of its weights */
    lms_status s = LMS_OK;
    if (!lms_backend_has(lms_gpt_backend(m), LMS_BACKEND_HOST_MEMORY) && !(s = lms_gpt_clone_on(&hm, m, lms_ops_get(), 0, err)))
        m = hm;
    if (s) return s;
    lms_st_writer *w;
    s = lms_st_writer_create(&w, err);
    if (s) {
        lms_gpt_free(hm);
        return s;
    }
    s = lms_checkpoint_add_weights(w, m, NULL, err);
    if (!s) s = lms_st_writer_set_metadata(w, "format", "pt", err);
    if (!s) s = lms_st_writer_set_metadata(w, "lmscope.format", "gpt2", err);
    if (!s) s = lms_st_writer_set_metadata(w, "lmscope.format_version", FORMAT_VERSION, err);
    if (!s) s = put_config(w, lms_gpt_get_config(m), err);
    if (!s) s = put_caller_metadata(w, metadata_json, err);
    if (!s) s = lms_st_writer_write(w, path, err);
    lms_st_writer_free(w);
    lms_gpt_free(hm);
    return s;
}

lms_status lms_checkpoint_load(lms_gpt **out, const char *path_in, lms_err *err) {
    *out = NULL;
    char buf[4096];
    const char *path = resolve(path_in, buf, sizeof buf);
    lms_checkpoint_kind kind;
    lms_st_reader *r;
    lms_status s = detect(path, &kind, &r, err);
    if (s) return s;
    if (kind == LMS_CKPT_LLMC) return load_llmc(out, path, err);
    lms_gpt_config c;
    if (kind == LMS_CKPT_OPTIM) {
        s = lms_errf(err, LMS_ERR_ARG, "%s is an optimizer-state file; load the model checkpoint it belongs to (the .safetensors "
                     "without .optim) and pass this one to resume", path);
    } else if (kind == LMS_CKPT_LMSCOPE) {
        s = meta_config(r, &c, path, err);
        if (!s) s = load_st(out, r, &c, 0, path, "the metadata's config and the tensors disagree: the file was edited or is corrupt", err);
    } else {
        s = read_hf_config(path, &c, err);
        if (!s) s = load_st(out, r, &c, 1, path, "config.json and the weights disagree: use the config.json from the same model repository", err);
    }
    lms_st_close(r);
    return s;
}

lms_status lms_checkpoint_read_metadata(const char *path_in, char **metadata_json, lms_err *err) {
    *metadata_json = NULL;
    char buf[4096];
    const char *path = resolve(path_in, buf, sizeof buf);
    lms_checkpoint_kind kind;
    lms_st_reader *r;
    lms_status s = detect(path, &kind, &r, err);
    if (s) return s;
    if (kind == LMS_CKPT_LLMC) {
        *metadata_json = strdup("{}");
        return *metadata_json ? LMS_OK : lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    s = caller_metadata_json(r, kind != LMS_CKPT_HF, metadata_json, path, err);
    lms_st_close(r);
    return s;
}

/* ------------------------------------------------------------------ optimizer state */
/* The file format only: optim/optim_io.c owns the optimizer and hands over its two moment buffers. */

lms_status lms_checkpoint_save_moments(const char *path, const lms_gpt *m, const float *m1, const float *m2,
                                       int64_t step, const char *optim_json, const char *metadata_json, lms_err *err) {
    const float *bufs[2] = {m1, m2};
    const char *pre[2] = {"m.", "v."};
    lms_st_writer *w;
    lms_status s = lms_st_writer_create(&w, err);
    if (s) return s;
    for (int b = 0; b < 2; b++)
        for (int i = 0; !s && i < lms_gpt_num_tensors(m); i++) {
            const lms_tensor_info *ti = lms_gpt_tensor(m, i);
            char name[80];
            snprintf(name, sizeof name, "%s%s", pre[b], ti->name);
            s = lms_st_writer_add(w, name, LMS_ST_F32, ti->ndim, ti->shape, bufs[b] + ti->offset, err);
        }
    char buf[64];
    if (!s) s = lms_st_writer_set_metadata(w, "lmscope.format", "adamw", err);
    if (!s) s = lms_st_writer_set_metadata(w, "lmscope.format_version", FORMAT_VERSION, err);
    snprintf(buf, sizeof buf, "%lld", (long long)step);
    if (!s) s = lms_st_writer_set_metadata(w, "step", buf, err);
    if (!s) s = lms_st_writer_set_metadata(w, "lmscope.adamw_config", optim_json, err); /* informational */
    if (!s) s = put_config(w, lms_gpt_get_config(m), err);
    if (!s) s = put_caller_metadata(w, metadata_json, err);
    if (!s) s = lms_st_writer_write(w, path, err);
    lms_st_writer_free(w);
    return s;
}

lms_status lms_checkpoint_load_moments(const char *path, const lms_gpt *m, float *m1, float *m2, int64_t n_moments,
                                       int64_t *step_out, char **metadata_json, lms_err *err) {
    if (metadata_json) *metadata_json = NULL;
    lms_checkpoint_kind kind;
    lms_st_reader *r;
    lms_status s = detect(path, &kind, &r, err);
    if (s) return s;
    if (kind != LMS_CKPT_OPTIM) {
        if (r) lms_st_close(r);
        return lms_errf(err, LMS_ERR_ARG, "%s is not an lmscope optimizer-state file (lmscope.format adamw); pass the .optim.safetensors "
                        "file saved with the checkpoint", path);
    }
    int n = lms_gpt_num_tensors(m);
    const lms_st_tensor **src = calloc(2 * (size_t)n, sizeof *src);
    lms_gpt_config fc = {0};
    int64_t step = 0;
    char *meta = NULL;
    const char *hint = "the optimizer state belongs to a different model; resume from the checkpoint saved with it";
    if (!src) s = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    if (!s) s = meta_config(r, &fc, path, err);
    if (!s && !config_eq(&fc, lms_gpt_get_config(m))) {
        char a[160], b[160];
        config_str(a, sizeof a, &fc);
        config_str(b, sizeof b, lms_gpt_get_config(m));
        s = lms_errf(err, LMS_ERR_MISMATCH, "%s: optimizer state for a model with %s, but the model has %s; %s", path, a, b, hint);
    }
    if (!s) s = meta_i64(r, "step", 0, INT64_MAX, &step, path, err);
    if (!s) s = locate(m, r, "m.", 0, src, path, hint, err);
    if (!s) s = locate(m, r, "v.", 0, src + n, path, hint, err);
    if (!s && n_moments != lms_gpt_num_params(m))
        s = lms_errf(err, LMS_ERR_ARG, "the optimizer was created for a model with %lld parameters, not this one (%lld)",
                     (long long)n_moments, (long long)lms_gpt_num_params(m));
    if (!s) {
        const char *pre[2] = {"m.", "v."};
        const lms_st_tensor *x = unexpected(m, r, pre, 2, 0);
        if (x) s = lms_errf(err, LMS_ERR_MISMATCH, "%s: unexpected tensor '%.200s'; %s", path, x->name, hint);
    }
    if (!s && metadata_json) s = caller_metadata_json(r, 1, &meta, path, err);
    if (!s) { /* everything checked: only now touch the buffers */
        float *bufs[2] = {m1, m2};
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < n; i++) lms_st_read_f32(src[b * n + i], bufs[b] + lms_gpt_tensor(m, i)->offset);
        *step_out = step;
        if (metadata_json) *metadata_json = meta;
    }
    free(src);
    lms_st_close(r);
    return s;
}
