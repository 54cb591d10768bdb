/* export.c — a model and its tokenizer as a Hugging Face GPT-2 directory or an llm.c checkpoint
 * with llm.c's tokenizer file (see export.h for the files and their contents).
 *
 * The weights go through the existing writers (model/safetensors.h with transformers' names,
 * model/checkpoint.h's llm.c writer) and the tokenizer through lms_tokenizer_save; this file adds
 * the small JSON files transformers reads beside them, llm.c's tokenizer file, and the all-or-
 * nothing placement (a temporary directory or temporary files renamed at the end).
 * Leaves out: choosing the model (eval/lm.h), printing (src/cli/cmd_export.c).
 */
#include "eval/export.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "core/fileio.h"
#include "eval/generate.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"

#define PATH_CAP 4096

/* The files of a Hugging Face export, in the order they are written. */
static const char *const hf_files[] = {"model.safetensors", "config.json", "generation_config.json", "vocab.json",
                                       "merges.txt", "tokenizer_config.json", "special_tokens_map.json"};
enum { N_HF_FILES = sizeof hf_files / sizeof hf_files[0] };

/* path without trailing slashes ("out/x/" -> "out/x"; "/" stays). */
static lms_status clean_path(char *out, const char *path, const char *what, lms_err *err) {
    if (!path || !*path) return lms_errf(err, LMS_ERR_ARG, "no %s path given", what);
    size_t n = strlen(path);
    if (n + 16 >= PATH_CAP) return lms_errf(err, LMS_ERR_ARG, "%s path too long: '%.200s...'", what, path);
    memcpy(out, path, n + 1);
    while (n > 1 && out[n - 1] == '/') out[--n] = 0;
    return LMS_OK;
}

/* mkdir -p of path's parent directory. */
static lms_status make_parent(const char *path, lms_err *err) {
    char parent[PATH_CAP];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent) return LMS_OK;
    *slash = 0;
    lms_status s = lms_mkdir_p(parent, err);
    if (s) lms_err_prefix(err, "cannot create the directory for %s: ", path);
    return s;
}

/* -1: path does not exist; 0: an empty directory; 1: a directory with entries; 2: not a directory. */
static int dir_state(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) return 2;
    DIR *d = opendir(path);
    if (!d) return 1;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d))) any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return any;
}

static lms_status check_vocab(const lms_gpt *m, const lms_tokenizer *tok, lms_err *err) {
    int mv = lms_gpt_get_config(m)->vocab_size, tv = lms_tokenizer_vocab_size(tok);
    if (tv > mv)
        return lms_errf(err, LMS_ERR_ARG, "the tokenizer has %d tokens but the model only %d; they do not belong together", tv, mv);
    return LMS_OK;
}

/* ------------------------------------------------------------------ Hugging Face */

static lms_status write_json(const char *dir, const char *name, json_t *o, lms_err *err) {
    if (!o) return lms_errf(err, LMS_ERR_NOMEM, "out of memory writing %s", name);
    char *txt = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(o);
    if (!txt) return lms_errf(err, LMS_ERR_NOMEM, "out of memory writing %s", name);
    size_t n = strlen(txt);
    char *buf = realloc(txt, n + 2);
    if (!buf) {
        free(txt);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory writing %s", name);
    }
    buf[n] = '\n';
    char path[PATH_CAP + 64];
    lms_status s = lms_file_write_all(lms_path_join(path, sizeof path, dir, name), buf, n + 1, err);
    free(buf);
    return s;
}

/* An id as JSON, null for -1 (no such token). */
static json_t *id_or_null(int id) { return id >= 0 ? json_integer(id) : json_null(); }

static lms_status write_config(const char *dir, const lms_gpt_config *c, int eot, lms_err *err) {
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "architectures", json_pack("[s]", "GPT2LMHeadModel"));
        json_object_set_new(o, "model_type", json_string("gpt2"));
        json_object_set_new(o, "activation_function", json_string("gelu_new"));
        json_object_set_new(o, "layer_norm_epsilon", json_real(1e-5));
        json_object_set_new(o, "n_layer", json_integer(c->n_layer));
        json_object_set_new(o, "n_head", json_integer(c->n_head));
        json_object_set_new(o, "n_embd", json_integer(c->n_embd));
        json_object_set_new(o, "n_positions", json_integer(c->n_ctx));
        json_object_set_new(o, "n_ctx", json_integer(c->n_ctx));
        json_object_set_new(o, "vocab_size", json_integer(c->vocab_size));
        json_object_set_new(o, "n_inner", json_null());
        json_object_set_new(o, "tie_word_embeddings", json_true());
        json_object_set_new(o, "scale_attn_weights", json_true());
        json_object_set_new(o, "scale_attn_by_inverse_layer_idx", json_false());
        json_object_set_new(o, "reorder_and_upcast_attn", json_false());
        json_object_set_new(o, "attn_pdrop", json_real(0.0)); /* lmscope trains without dropout */
        json_object_set_new(o, "embd_pdrop", json_real(0.0));
        json_object_set_new(o, "resid_pdrop", json_real(0.0));
        json_object_set_new(o, "initializer_range", json_real(0.02));
        json_object_set_new(o, "use_cache", json_true());
        json_object_set_new(o, "bos_token_id", id_or_null(eot));
        json_object_set_new(o, "eos_token_id", id_or_null(eot));
        json_object_set_new(o, "torch_dtype", json_string("float32"));
    }
    return write_json(dir, "config.json", o, err);
}

static lms_status write_generation_config(const char *dir, int eot, lms_err *err) {
    json_t *o = json_object();
    if (o && eot >= 0) {
        json_object_set_new(o, "bos_token_id", json_integer(eot));
        json_object_set_new(o, "eos_token_id", json_integer(eot));
    }
    return write_json(dir, "generation_config.json", o, err);
}

/* tokenizer_config.json (special = 0) or special_tokens_map.json (special = 1). */
static lms_status write_tokenizer_json(const char *dir, const lms_gpt_config *c, int eot, int special, lms_err *err) {
    json_t *o = json_object();
    if (o && !special) {
        json_object_set_new(o, "tokenizer_class", json_string("GPT2Tokenizer"));
        json_object_set_new(o, "model_max_length", json_integer(c->n_ctx));
        json_object_set_new(o, "add_prefix_space", json_false());
        json_object_set_new(o, "add_bos_token", json_false());
        json_object_set_new(o, "errors", json_string("replace"));
        /* decoding must give the text's bytes back, not "tidied" spaces before punctuation */
        json_object_set_new(o, "clean_up_tokenization_spaces", json_false());
        json_t *added = json_object();
        if (eot >= 0 && added) {
            char key[16];
            snprintf(key, sizeof key, "%d", eot);
            json_object_set_new(added, key, json_pack("{s:s, s:b, s:b, s:b, s:b, s:b}", "content", LMS_TOKENIZER_EOT_TEXT,
                                                      "lstrip", 0, "normalized", 1, "rstrip", 0, "single_word", 0,
                                                      "special", 1));
        }
        json_object_set_new(o, "added_tokens_decoder", added);
    }
    const char *names[3] = {"bos_token", "eos_token", "unk_token"};
    for (int i = 0; o && i < 3; i++)
        if (eot >= 0) json_object_set_new(o, names[i], json_string(LMS_TOKENIZER_EOT_TEXT));
        else if (!special) json_object_set_new(o, names[i], json_null()); /* not GPT2Tokenizer's default */
    return write_json(dir, special ? "special_tokens_map.json" : "tokenizer_config.json", o, err);
}

/* model.safetensors under transformers' GPT2LMHeadModel names, the tied lm_head left out. */
static lms_status write_hf_weights(const char *dir, const lms_gpt *m, lms_err *err) {
    lms_st_writer *w;
    lms_status s = lms_st_writer_create(&w, err);
    if (s) return s;
    s = lms_checkpoint_add_weights(w, m, "transformer.", err);
    if (!s) s = lms_st_writer_set_metadata(w, "format", "pt", err);
    char path[PATH_CAP + 64];
    if (!s) s = lms_st_writer_write(w, lms_path_join(path, sizeof path, dir, "model.safetensors"), err);
    lms_st_writer_free(w);
    return s;
}

static lms_status write_hf_files(const char *dir, const lms_gpt *m, const lms_tokenizer *tok, lms_err *err) {
    const lms_gpt_config *c = lms_gpt_get_config(m);
    int eot = lms_tokenizer_eot(tok);
    lms_status s = write_hf_weights(dir, m, err);
    if (!s) s = write_config(dir, c, eot, err);
    if (!s) s = write_generation_config(dir, eot, err);
    if (!s) s = lms_tokenizer_save(tok, dir, err);
    if (!s) s = write_tokenizer_json(dir, c, eot, 0, err);
    if (!s) s = write_tokenizer_json(dir, c, eot, 1, err);
    return s;
}

static void remove_hf_files(const char *dir) {
    char p[PATH_CAP + 64];
    for (int i = 0; i < N_HF_FILES; i++) unlink(lms_path_join(p, sizeof p, dir, hf_files[i]));
    rmdir(dir);
}

/* The new files of tmp into the existing directory dir, each replacing its namesake. */
static lms_status move_files(const char *tmp, const char *dir, lms_err *err) {
    char from[PATH_CAP + 64], to[PATH_CAP + 64];
    for (int i = 0; i < N_HF_FILES; i++) {
        lms_path_join(from, sizeof from, tmp, hf_files[i]);
        lms_path_join(to, sizeof to, dir, hf_files[i]);
        if (rename(from, to) != 0)
            return lms_errf(err, LMS_ERR_IO, "cannot move %s into %s: %s; %d of the %d files were replaced", from, dir,
                            strerror(errno), i, N_HF_FILES);
    }
    return LMS_OK;
}

/* The target's state (dir_state) after the checks of lms_export_hf_check; -2 on failure. */
static int hf_check(const lms_gpt *m, const lms_tokenizer *tok, const char *dir, int force, lms_err *err) {
    if (check_vocab(m, tok, err)) return -2;
    int state = dir_state(dir);
    if (state == 2) {
        lms_errf(err, LMS_ERR_ARG, "%s exists and is not a directory; give a directory for the export", dir);
        return -2;
    }
    if (state == 1 && !force) {
        lms_errf(err, LMS_ERR_ARG, "%s exists and is not empty; choose a new directory, or pass --force to replace "
                 "the export's files in it", dir);
        return -2;
    }
    if (state == 1) { /* a namesake that is a directory would stop the move halfway: refuse now */
        char p[PATH_CAP + 64];
        for (int i = 0; i < N_HF_FILES; i++)
            if (lms_path_is_dir(lms_path_join(p, sizeof p, dir, hf_files[i]))) {
                lms_errf(err, LMS_ERR_ARG, "%s is a directory; the export writes a file of that name", p);
                return -2;
            }
    }
    return state;
}

lms_status lms_export_hf_check(const lms_gpt *m, const lms_tokenizer *tok, const char *dir_in, int force, lms_err *err) {
    char dir[PATH_CAP];
    lms_status s = clean_path(dir, dir_in, "output directory", err);
    if (s) return s;
    return hf_check(m, tok, dir, force, err) == -2 ? err->code : LMS_OK;
}

lms_status lms_export_hf(const lms_gpt *m, const lms_tokenizer *tok, const char *dir_in, int force, lms_err *err) {
    char dir[PATH_CAP], tmp[PATH_CAP + 32];
    lms_status s = clean_path(dir, dir_in, "output directory", err);
    if (s) return s;
    int state = hf_check(m, tok, dir, force, err);
    if (state == -2) return err->code;
    if ((s = make_parent(dir, err))) return s;
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", dir);
    if (!mkdtemp(tmp)) return lms_errf(err, LMS_ERR_IO, "cannot create a directory beside %s (%s): %s", dir, tmp, strerror(errno));
    chmod(tmp, 0755); /* mkdtemp makes it 0700; the export is an ordinary directory */
    if ((s = write_hf_files(tmp, m, tok, err))) {
        remove_hf_files(tmp);
        return s;
    }
    if (state == 1) {
        s = move_files(tmp, dir, err);
        remove_hf_files(tmp); /* what was not moved (nothing, unless a move failed) */
        return s;
    }
    if (state == 0) rmdir(dir); /* an empty directory gives way to the new one */
    if (rename(tmp, dir) != 0) {
        s = lms_errf(err, LMS_ERR_IO, "cannot rename %s to %s: %s", tmp, dir, strerror(errno));
        remove_hf_files(tmp);
    }
    return s;
}

/* ------------------------------------------------------------------ llm.c */

/* generation's start token is the same rule (end-of-text, else newline, else 0) */
int lms_export_llmc_eot(const lms_tokenizer *tok) { return (int)lms_generate_start_token(tok); }

char *lms_export_llmc_tokenizer_path(char *out, size_t cap, const char *ckpt_path) {
    size_t n = strlen(ckpt_path);
    if (n >= 4 && !strcmp(ckpt_path + n - 4, ".bin")) n -= 4;
    snprintf(out, cap, "%.*s_tokenizer.bin", (int)n, ckpt_path);
    return out;
}

/* LMS_ERR_UNSUPPORTED if some token does not fit llm.c's one-byte length. */
static lms_status check_llmc_tokens(const lms_tokenizer *tok, lms_err *err) {
    for (int i = 0; i < lms_tokenizer_vocab_size(tok); i++) {
        size_t len = 0;
        lms_tokenizer_token(tok, (uint32_t)i, &len);
        if (len < 1 || len > 255)
            return lms_errf(err, LMS_ERR_UNSUPPORTED, "token %d is %zu bytes long; llm.c's tokenizer file stores a token's "
                            "length in one byte (1..255), so this tokenizer cannot be exported for llm.c (the Hugging "
                            "Face export holds any token)", i, len);
    }
    return LMS_OK;
}

lms_status lms_export_llmc_tokenizer(const lms_tokenizer *tok, const char *path, lms_err *err) {
    lms_status s = check_llmc_tokens(tok, err);
    if (s) return s;
    int32_t h[256] = {0};
    h[0] = LMS_LLMC_TOKENIZER_MAGIC;
    h[1] = 2;
    h[2] = lms_tokenizer_vocab_size(tok);
    h[3] = lms_export_llmc_eot(tok);
    lms_atomic_file f;
    if ((s = lms_atomic_open(&f, path, err))) return s;
    int ok = fwrite(h, sizeof h, 1, f.fp) == 1;
    for (int i = 0; ok && i < h[2]; i++) {
        size_t len = 0;
        const char *b = lms_tokenizer_token(tok, (uint32_t)i, &len);
        unsigned char n = (unsigned char)len;
        ok = fwrite(&n, 1, 1, f.fp) == 1 && fwrite(b, 1, len, f.fp) == len;
    }
    if (!ok) {
        lms_atomic_abort(&f);
        return lms_errf(err, LMS_ERR_IO, "writing '%s' failed (disk full?); no file was left behind", path);
    }
    return lms_atomic_commit(&f, err);
}

static lms_status llmc_check(const lms_gpt *m, const lms_tokenizer *tok, const char *path, const char *tpath, int force,
                             lms_err *err) {
    lms_status s = check_vocab(m, tok, err);
    if (!s) s = check_llmc_tokens(tok, err);
    if (s) return s;
    if (!strcmp(path, tpath))
        return lms_errf(err, LMS_ERR_ARG, "the checkpoint and the tokenizer file are both %s; give them different names", path);
    const char *outs[2] = {path, tpath};
    for (int i = 0; i < 2; i++) {
        if (lms_path_is_dir(outs[i]))
            return lms_errf(err, LMS_ERR_ARG, "%s is a directory; give a file name (e.g. %s/model.bin)", outs[i], outs[i]);
        if (lms_path_exists(outs[i]) && !force)
            return lms_errf(err, LMS_ERR_ARG, "%s exists; choose another name, or pass --force to replace it", outs[i]);
    }
    return LMS_OK;
}

lms_status lms_export_llmc_check(const lms_gpt *m, const lms_tokenizer *tok, const char *path_in, const char *tok_in,
                                 int force, lms_err *err) {
    char path[PATH_CAP], tpath[PATH_CAP];
    lms_status s = clean_path(path, path_in, "llm.c checkpoint", err);
    if (!s) s = clean_path(tpath, tok_in, "llm.c tokenizer", err);
    return s ? s : llmc_check(m, tok, path, tpath, force, err);
}

lms_status lms_export_llmc(const lms_gpt *m, const lms_tokenizer *tok, const char *path_in, const char *tok_in,
                           int force, lms_err *err) {
    char path[PATH_CAP], tpath[PATH_CAP], tmp[PATH_CAP + 32], ttmp[PATH_CAP + 32];
    lms_status s = clean_path(path, path_in, "llm.c checkpoint", err);
    if (!s) s = clean_path(tpath, tok_in, "llm.c tokenizer", err);
    if (!s) s = llmc_check(m, tok, path, tpath, force, err);
    if (s) return s;
    if ((s = make_parent(path, err)) || (s = make_parent(tpath, err))) return s;
    /* both to temporaries first, so that a failure leaves neither */
    snprintf(tmp, sizeof tmp, "%s.tmp.export.%d", path, (int)getpid());
    snprintf(ttmp, sizeof ttmp, "%s.tmp.export.%d", tpath, (int)getpid());
    s = lms_checkpoint_save_llmc(tmp, m, err);
    if (!s) s = lms_export_llmc_tokenizer(tok, ttmp, err);
    if (!s && rename(tmp, path) != 0) s = lms_errf(err, LMS_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (!s && rename(ttmp, tpath) != 0) {
        s = lms_errf(err, LMS_ERR_IO, "cannot rename %s to %s: %s; %s was removed again", ttmp, tpath, strerror(errno), path);
        unlink(path);
    }
    if (s) {
        unlink(tmp);
        unlink(ttmp);
    }
    return s;
}
