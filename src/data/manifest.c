/* manifest.c — manifest.json read/write with jansson. See manifest.h.
 * Leaves out: checking that the shards exist and match (the loader does that). */
#include "data/manifest.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

int lms_manifest_safe_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 255 || !strcmp(name, ".") || !strcmp(name, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) return 0;
    }
    return 1;
}

static int domain_name_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 63) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return 0;
    }
    return s[0] != '.';
}

static void split_free(lms_manifest_split *s) {
    for (int i = 0; i < s->n_files; i++) free(s->files[i].file);
    free(s->files);
    memset(s, 0, sizeof *s);
}

void lms_manifest_free(lms_manifest *m) {
    if (!m) return;
    for (int d = 0; d < m->n_domains; d++) {
        free(m->domains[d].name);
        free(m->domains[d].source);
        split_free(&m->domains[d].train);
        split_free(&m->domains[d].val);
    }
    free(m->domains);
    free(m->tokenizer_name);
    memset(m, 0, sizeof *m);
}

int lms_manifest_find(const lms_manifest *m, const char *name) {
    for (int d = 0; d < m->n_domains; d++)
        if (!strcmp(m->domains[d].name, name)) return d;
    return -1;
}

/* --- parsing ------------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    lms_err *err;
} pctx;

static lms_status bad(pctx *c, const char *what) {
    return lms_errf(c->err, LMS_ERR_FORMAT,
                    "manifest '%s': %s; re-create it with 'lmscope data prepare' (or remove it to "
                    "load the .bin files as plain llm.c shards)",
                    c->name, what);
}

static lms_status get_u64(pctx *c, json_t *obj, const char *key, const char *where, uint64_t *out) {
    json_t *v = json_object_get(obj, key);
    char msg[256];
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(msg, sizeof msg, "%s: field \"%s\" is missing or not a non-negative integer", where, key);
        return bad(c, msg);
    }
    *out = (uint64_t)json_integer_value(v);
    return LMS_OK;
}

static lms_status get_split(pctx *c, json_t *dom, const char *key, const char *dname, lms_manifest_split *s) {
    char where[160], msg[512];
    snprintf(where, sizeof where, "domain '%s' split \"%s\"", dname, key);
    json_t *o = json_object_get(dom, key);
    if (!json_is_object(o)) {
        snprintf(msg, sizeof msg, "domain '%s': field \"%s\" is missing or not an object", dname, key);
        return bad(c, msg);
    }
    lms_status st;
    if ((st = get_u64(c, o, "docs", where, &s->docs)) || (st = get_u64(c, o, "bytes", where, &s->bytes)) ||
        (st = get_u64(c, o, "tokens", where, &s->tokens)))
        return st;
    json_t *files = json_object_get(o, "files");
    if (!json_is_array(files) || json_array_size(files) > 1000000) {
        snprintf(msg, sizeof msg, "%s: \"files\" is missing or not an array", where);
        return bad(c, msg);
    }
    size_t n = json_array_size(files);
    s->files = calloc(n ? n : 1, sizeof *s->files);
    if (!s->files) return lms_errf(c->err, LMS_ERR_NOMEM, "out of memory reading manifest '%s'", c->name);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(files, i);
        json_t *fn = json_object_get(f, "file");
        if (!json_is_string(fn) || !lms_manifest_safe_name(json_string_value(fn))) {
            snprintf(msg, sizeof msg, "%s: file entry %zu has no \"file\" or it is not a plain file name", where, i);
            return bad(c, msg);
        }
        if ((st = get_u64(c, f, "tokens", where, &s->files[i].tokens))) return st;
        s->files[i].file = strdup(json_string_value(fn));
        s->n_files = (int)i + 1;
        if (!s->files[i].file) return lms_errf(c->err, LMS_ERR_NOMEM, "out of memory reading manifest '%s'", c->name);
        sum += s->files[i].tokens;
    }
    if (sum != s->tokens) {
        snprintf(msg, sizeof msg, "%s: \"tokens\" is %llu but its files hold %llu", where,
                 (unsigned long long)s->tokens, (unsigned long long)sum);
        return bad(c, msg);
    }
    return LMS_OK;
}

static lms_status parse_root(pctx *c, json_t *root, lms_manifest *m) {
    char msg[512];
    if (!json_is_object(root)) return bad(c, "the top level is not a JSON object");
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "lmscope-shards"))
        return bad(c, "field \"format\" is missing or not \"lmscope-shards\"");
    json_t *fv = json_object_get(root, "format_version");
    if (!json_is_integer(fv)) return bad(c, "field \"format_version\" is missing or not an integer");
    if (json_integer_value(fv) != LMS_MANIFEST_FORMAT_VERSION) {
        snprintf(msg, sizeof msg, "format_version %lld is not supported (this build reads %d)",
                 (long long)json_integer_value(fv), LMS_MANIFEST_FORMAT_VERSION);
        return bad(c, msg);
    }
    m->format_version = LMS_MANIFEST_FORMAT_VERSION;
    json_t *sv = json_object_get(root, "shard_version");
    if (!json_is_integer(sv) || (json_integer_value(sv) != 1 && json_integer_value(sv) != 2))
        return bad(c, "field \"shard_version\" is missing or not 1 or 2");
    m->shard_version = (int)json_integer_value(sv);

    json_t *tok = json_object_get(root, "tokenizer");
    if (!json_is_object(tok)) return bad(c, "field \"tokenizer\" is missing or not an object");
    json_t *h = json_object_get(tok, "hash"), *vs = json_object_get(tok, "vocab_size"),
           *eot = json_object_get(tok, "eot"), *tn = json_object_get(tok, "name");
    if (!json_is_string(h) || strlen(json_string_value(h)) > 64)
        return bad(c, "tokenizer \"hash\" is missing or longer than 64 characters");
    strcpy(m->tokenizer_hash, json_string_value(h));
    if (!json_is_integer(vs) || json_integer_value(vs) < 1 || json_integer_value(vs) > 2147483647)
        return bad(c, "tokenizer \"vocab_size\" is missing or not a positive integer");
    m->vocab_size = (int)json_integer_value(vs);
    if (m->shard_version == 1 && m->vocab_size > 65536)
        return bad(c, "shard_version 1 (uint16) cannot hold a vocabulary above 65536 tokens");
    if (!json_is_integer(eot) || json_integer_value(eot) < -1 || json_integer_value(eot) >= m->vocab_size)
        return bad(c, "tokenizer \"eot\" is missing or not -1 or an id below vocab_size");
    m->eot = (int)json_integer_value(eot);
    m->tokenizer_name = strdup(json_is_string(tn) ? json_string_value(tn) : "");
    if (!m->tokenizer_name) return lms_errf(c->err, LMS_ERR_NOMEM, "out of memory");

    json_t *sep = json_object_get(root, "doc_separator");
    json_t *kind = json_object_get(sep, "kind"), *stoks = json_object_get(sep, "tokens");
    if (!json_is_object(sep) || !json_is_string(kind) ||
        (strcmp(json_string_value(kind), "eot") && strcmp(json_string_value(kind), "text")))
        return bad(c, "\"doc_separator\" is missing or its \"kind\" is not \"eot\" or \"text\"");
    m->sep_is_text = !strcmp(json_string_value(kind), "text");
    if (!json_is_array(stoks) || json_array_size(stoks) < 1 || json_array_size(stoks) > LMS_MANIFEST_MAX_SEP)
        return bad(c, "\"doc_separator\" \"tokens\" is missing or not an array of 1..64 ids");
    m->n_sep = (int)json_array_size(stoks);
    for (int i = 0; i < m->n_sep; i++) {
        json_t *t = json_array_get(stoks, (size_t)i);
        if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) >= m->vocab_size)
            return bad(c, "\"doc_separator\" \"tokens\" holds an id outside the vocabulary");
        m->sep[i] = (uint32_t)json_integer_value(t);
    }
    if (!m->sep_is_text && (m->n_sep != 1 || (int)m->sep[0] != m->eot))
        return bad(c, "\"doc_separator\" of kind \"eot\" must be exactly [eot]");

    json_t *val = json_object_get(root, "val");
    if (json_is_object(val)) {
        json_t *vd = json_object_get(val, "docs"), *vf = json_object_get(val, "fraction");
        if (json_is_integer(vd) && json_integer_value(vd) >= 0 && json_integer_value(vd) < 2147483647)
            m->val_docs = (int)json_integer_value(vd);
        if (json_is_number(vf) && json_number_value(vf) >= 0 && json_number_value(vf) <= 1)
            m->val_fraction = json_number_value(vf);
    }

    json_t *doms = json_object_get(root, "domains");
    if (!json_is_array(doms) || json_array_size(doms) == 0 || json_array_size(doms) > 100000)
        return bad(c, "field \"domains\" is missing, empty or not an array");
    size_t nd = json_array_size(doms);
    m->domains = calloc(nd, sizeof *m->domains);
    if (!m->domains) return lms_errf(c->err, LMS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(doms, i);
        json_t *nm = json_object_get(d, "name"), *src = json_object_get(d, "source");
        if (!json_is_object(d) || !json_is_string(nm) || !domain_name_ok(json_string_value(nm))) {
            snprintf(msg, sizeof msg, "domain %zu has no \"name\" or it is not [A-Za-z0-9_.-]{1,63}", i);
            return bad(c, msg);
        }
        lms_manifest_domain *md = &m->domains[i];
        m->n_domains = (int)i + 1;
        md->name = strdup(json_string_value(nm));
        md->source = strdup(json_is_string(src) ? json_string_value(src) : "");
        if (!md->name || !md->source) return lms_errf(c->err, LMS_ERR_NOMEM, "out of memory");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->domains[j].name, md->name)) {
                snprintf(msg, sizeof msg, "domain '%s' appears twice", md->name);
                return bad(c, msg);
            }
        char where[128];
        snprintf(where, sizeof where, "domain '%s'", md->name);
        lms_status st;
        if ((st = get_u64(c, d, "docs", where, &md->docs)) || (st = get_u64(c, d, "bytes", where, &md->bytes)) ||
            (st = get_split(c, d, "train", md->name, &md->train)) || (st = get_split(c, d, "val", md->name, &md->val)))
            return st;
    }
    return LMS_OK;
}

lms_status lms_manifest_parse(lms_manifest *m, const char *json, size_t len, const char *name,
                              lms_err *err) {
    memset(m, 0, sizeof *m);
    pctx c = {name ? name : "manifest.json", err};
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return lms_errf(err, LMS_ERR_FORMAT, "manifest '%s' is not valid JSON (line %d: %s); re-create it "
                        "with 'lmscope data prepare'", c.name, je.line, je.text);
    lms_status st = parse_root(&c, root, m);
    json_decref(root);
    if (st) lms_manifest_free(m);
    return st;
}

lms_status lms_manifest_load(lms_manifest *m, const char *dir, lms_err *err) {
    memset(m, 0, sizeof *m);
    char path[4096];
    lms_path_join(path, sizeof path, dir, "manifest.json");
    char *buf;
    size_t len;
    lms_status st = lms_file_read_all(path, &buf, &len, err);
    if (st) return st;
    st = lms_manifest_parse(m, buf, len, path, err);
    free(buf);
    return st;
}

/* --- writing ------------------------------------------------------------------------------ */

static json_t *split_json(const lms_manifest_split *s) {
    json_t *files = json_array();
    for (int i = 0; i < s->n_files; i++)
        json_array_append_new(files, json_pack("{s:s, s:I}", "file", s->files[i].file, "tokens",
                                               (json_int_t)s->files[i].tokens));
    return json_pack("{s:I, s:I, s:I, s:o}", "docs", (json_int_t)s->docs, "bytes", (json_int_t)s->bytes,
                     "tokens", (json_int_t)s->tokens, "files", files);
}

lms_status lms_manifest_save(const lms_manifest *m, const char *dir, lms_err *err) {
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("lmscope-shards"));
    json_object_set_new(root, "format_version", json_integer(LMS_MANIFEST_FORMAT_VERSION));
    json_object_set_new(root, "shard_version", json_integer(m->shard_version));
    json_object_set_new(root, "tokenizer",
                        json_pack("{s:s, s:i, s:i, s:s}", "hash", m->tokenizer_hash, "vocab_size", m->vocab_size,
                                  "eot", m->eot, "name", m->tokenizer_name ? m->tokenizer_name : ""));
    json_t *sep = json_array();
    for (int i = 0; i < m->n_sep; i++) json_array_append_new(sep, json_integer(m->sep[i]));
    json_object_set_new(root, "doc_separator",
                        json_pack("{s:s, s:o}", "kind", m->sep_is_text ? "text" : "eot", "tokens", sep));
    json_object_set_new(root, "val", json_pack("{s:i, s:f}", "docs", m->val_docs, "fraction", m->val_fraction));
    json_t *doms = json_array();
    uint64_t docs = 0, bytes = 0, tt = 0, vt = 0;
    for (int d = 0; d < m->n_domains; d++) {
        const lms_manifest_domain *md = &m->domains[d];
        json_array_append_new(doms, json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "name", md->name, "source",
                                              md->source ? md->source : "", "docs", (json_int_t)md->docs,
                                              "bytes", (json_int_t)md->bytes, "train", split_json(&md->train),
                                              "val", split_json(&md->val)));
        docs += md->docs;
        bytes += md->bytes;
        tt += md->train.tokens;
        vt += md->val.tokens;
    }
    json_object_set_new(root, "domains", doms);
    json_object_set_new(root, "totals", json_pack("{s:I, s:I, s:I, s:I}", "docs", (json_int_t)docs, "bytes",
                                                  (json_int_t)bytes, "train_tokens", (json_int_t)tt,
                                                  "val_tokens", (json_int_t)vt));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text) return lms_errf(err, LMS_ERR_NOMEM, "out of memory writing the manifest");
    char path[4096];
    lms_path_join(path, sizeof path, dir, "manifest.json");
    size_t n = strlen(text);
    text[n] = '\n';
    lms_status st = lms_file_write_all(path, text, n + 1, err);
    free(text);
    return st;
}
