/* loader.c — deterministic, resumable batches from shards. See loader.h for the sampling scheme.
 * Leaves out: writing shards (shard.c, prepare.c); any background prefetching (windows are
 * copied straight from the memory-mapped shards, which is cheap next to a training step). */
#include "data/loader.h"

#include <dirent.h>
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/log.h"
#include "core/rng.h"
#include "data/manifest.h"
#include "data/shard.h"

#define DEFAULT_VAL_CAP 65536

/* A contiguous run of tokens: part of a shard, or of the in-memory buffer. */
typedef struct {
    int shard;  /* index into l->shards, or -1 for l->mem */
    size_t off, n;
} seq;

typedef struct {
    char name[64];
    seq *train, *val;
    int n_train, n_val;
    uint64_t *cum_starts; /* [n_train]: cumulative count of window starts */
    uint64_t total_starts, train_tokens, val_tokens;
    double weight;        /* normalised */
} domain;

typedef struct {
    int dom, first_window, rows;
} val_batch;

typedef struct {
    int seq_i;  /* index into the domain's val seqs */
    size_t off;
} val_window;

struct lms_loader {
    int B, T;
    lms_shard *shards;
    int n_shards, cap_shards;
    uint32_t *mem;
    size_t n_mem;
    domain *doms;
    int n_doms;
    double *cum_w; /* [n_doms] cumulative weights, last == 1 */
    lms_rng key;
    uint64_t batches;
    val_window **vwin; /* per domain */
    int *n_vwin;
    val_batch *vb;
    int n_vb;
    int vocab;
    int have_hash;
    char hash[65];
    uint32_t max_token;
};

static uint32_t seq_tok(const lms_loader *l, const seq *s, size_t i) {
    return s->shard < 0 ? l->mem[s->off + i] : lms_shard_token(&l->shards[s->shard], s->off + i);
}

static void copy_window(const lms_loader *l, const seq *s, size_t p, int32_t *in, int32_t *tg) {
    LMS_ASSERT(p + (size_t)l->T + 1 <= s->n);
    for (int t = 0; t < l->T; t++) {
        in[t] = (int32_t)seq_tok(l, s, p + (size_t)t);
        tg[t] = (int32_t)seq_tok(l, s, p + (size_t)t + 1);
    }
}

void lms_loader_free(lms_loader *l) {
    if (!l) return;
    for (int i = 0; i < l->n_shards; i++) lms_shard_close(&l->shards[i]);
    free(l->shards);
    free(l->mem);
    for (int d = 0; d < l->n_doms; d++) {
        free(l->doms[d].train);
        free(l->doms[d].val);
        free(l->doms[d].cum_starts);
        if (l->vwin) free(l->vwin[d]);
    }
    free(l->vwin);
    free(l->n_vwin);
    free(l->doms);
    free(l->cum_w);
    free(l->vb);
    free(l);
}

static lms_status nomem(lms_err *err) { return lms_errf(err, LMS_ERR_NOMEM, "out of memory in the data loader"); }

static int find_or_add_domain(lms_loader *l, const char *name) {
    for (int d = 0; d < l->n_doms; d++)
        if (!strcmp(l->doms[d].name, name)) return d;
    domain *nd = realloc(l->doms, (size_t)(l->n_doms + 1) * sizeof *nd);
    if (!nd) return -1;
    l->doms = nd;
    memset(&nd[l->n_doms], 0, sizeof *nd);
    snprintf(nd[l->n_doms].name, sizeof nd[l->n_doms].name, "%s", name);
    return l->n_doms++;
}

static lms_status add_seq(lms_loader *l, int d, int is_val, int shard, size_t off, size_t n, lms_err *err) {
    domain *dm = &l->doms[d];
    seq **arr = is_val ? &dm->val : &dm->train;
    int *cnt = is_val ? &dm->n_val : &dm->n_train;
    seq *na = realloc(*arr, (size_t)(*cnt + 1) * sizeof *na);
    if (!na) return nomem(err);
    *arr = na;
    na[*cnt] = (seq){shard, off, n};
    (*cnt)++;
    return LMS_OK;
}

static lms_status open_shard(lms_loader *l, const char *path, int vocab, int *idx, lms_err *err) {
    if (l->n_shards == l->cap_shards) {
        int nc = l->cap_shards ? l->cap_shards * 2 : 16;
        lms_shard *ns = realloc(l->shards, (size_t)nc * sizeof *ns);
        if (!ns) return nomem(err);
        l->shards = ns;
        l->cap_shards = nc;
    }
    lms_status st = lms_shard_open(&l->shards[l->n_shards], path, vocab, err);
    if (st) return st;
    if (l->shards[l->n_shards].max_token > l->max_token) l->max_token = l->shards[l->n_shards].max_token;
    *idx = l->n_shards++;
    return LMS_OK;
}

/* Split [0, n) of one source into train and the last 10% as validation, domain "data". */
static lms_status add_split_source(lms_loader *l, int shard, size_t n, lms_err *err) {
    size_t T1 = (size_t)l->T + 1, nval = n / 10;
    if (nval < T1 && n >= 2 * T1) nval = T1;
    if (n - nval < T1)
        return lms_errf(err, LMS_ERR_ARG,
                        "%zu tokens are too few for training windows of T+1 = %zu tokens (after holding out "
                        "%zu for validation); use a smaller sequence length or more data",
                        n, T1, nval);
    int d = find_or_add_domain(l, "data");
    if (d < 0) return nomem(err);
    lms_status st = add_seq(l, d, 0, shard, 0, n - nval, err);
    if (!st && nval) st = add_seq(l, d, 1, shard, n - nval, nval, err);
    return st;
}

/* Domain name from an llm.c-style file name: the part before "_train"/"_val", else "data". */
static int name_is_val(const char *base) {
    size_t n = strlen(base);
    return strstr(base, "_val_") != NULL || (n >= 8 && !strcmp(base + n - 8, "_val.bin"));
}

static void domain_from_name(const char *base, char *out, size_t cap) {
    const char *cut = NULL;
    const char *marks[] = {"_train_", "_val_", "_train.bin", "_val.bin"};
    for (int i = 0; i < 4; i++) {
        const char *p = strstr(base, marks[i]);
        if (p && (!cut || p < cut)) cut = p;
    }
    if (!cut || cut == base) snprintf(out, cap, "data");
    else snprintf(out, cap, "%.*s", (int)(cut - base) > 63 ? 63 : (int)(cut - base), base);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static lms_status open_plain(lms_loader *l, const char *path, lms_err *err) {
    char **files = NULL;
    size_t nf = 0;
    glob_t g;
    int used_glob = 0;
    lms_status st = LMS_OK;
    if (lms_path_is_dir(path)) {
        DIR *dir = opendir(path);
        if (!dir) return lms_errf(err, LMS_ERR_IO, "cannot open shard directory '%s'", path);
        struct dirent *e;
        size_t cap = 0;
        int n_txt = 0;
        while ((e = readdir(dir)) && !st) {
            size_t n = strlen(e->d_name);
            n_txt += n > 4 && !strcmp(e->d_name + n - 4, ".txt");
            if (e->d_name[0] == '.' || n < 5 || strcmp(e->d_name + n - 4, ".bin")) continue;
            if (nf == cap) {
                cap = cap ? 2 * cap : 16;
                char **nv = realloc(files, cap * sizeof *nv);
                if (!nv) { st = nomem(err); break; }
                files = nv;
            }
            char full[4096];
            lms_path_join(full, sizeof full, path, e->d_name);
            if (!(files[nf] = strdup(full))) st = nomem(err);
            else nf++;
        }
        closedir(dir);
        if (!st && nf == 0 && n_txt > 0)
            /* a corpus dir, not shards: do not suggest writing shards into it */
            st = lms_errf(err, LMS_ERR_ARG,
                          "'%s' holds .txt files, not token shards: prepare them first with 'lmscope data prepare "
                          "--tokenizer TOKDIR --out SHARDS_DIR %s' and train on SHARDS_DIR, or give the .txt files as --data",
                          path, path);
        else if (!st && nf == 0)
            st = lms_errf(err, LMS_ERR_ARG,
                          "'%s' holds neither manifest.json nor .bin shards; run 'lmscope data prepare --out %s <corpus>'",
                          path, path);
    } else if (strpbrk(path, "*?[")) {
        if (glob(path, 0, NULL, &g) != 0 || g.gl_pathc == 0)
            return lms_errf(err, LMS_ERR_IO, "no shard files match '%s'", path);
        used_glob = 1;
        files = g.gl_pathv;
        nf = g.gl_pathc;
    } else if (lms_path_exists(path)) {
        int idx;
        st = open_shard(l, path, 0, &idx, err);
        if (!st) st = add_split_source(l, idx, l->shards[idx].n_tokens, err);
        if (st) lms_err_prefix(err, "'%s': ", path);
        return st;
    } else {
        return lms_errf(err, LMS_ERR_IO, "'%s' does not exist (give a shard directory, a .bin shard or a glob)", path);
    }
    if (!used_glob && nf > 1) qsort(files, nf, sizeof *files, cmp_str);
    for (size_t i = 0; i < nf && !st; i++) {
        const char *base = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
        char dname[64];
        domain_from_name(base, dname, sizeof dname);
        int idx, d;
        st = open_shard(l, files[i], 0, &idx, err);
        if (st) break;
        if ((d = find_or_add_domain(l, dname)) < 0) { st = nomem(err); break; }
        st = add_seq(l, d, name_is_val(base), idx, 0, l->shards[idx].n_tokens, err);
    }
    if (used_glob) globfree(&g);
    else {
        for (size_t i = 0; i < nf; i++) free(files[i]);
        free(files);
    }
    return st;
}

static lms_status open_manifest(lms_loader *l, const char *dir, lms_err *err) {
    lms_manifest m;
    lms_status st = lms_manifest_load(&m, dir, err);
    if (st) return st;
    l->vocab = m.vocab_size;
    snprintf(l->hash, sizeof l->hash, "%s", m.tokenizer_hash);
    l->have_hash = m.tokenizer_hash[0] != 0;
    for (int d = 0; d < m.n_domains && !st; d++) {
        int di = find_or_add_domain(l, m.domains[d].name);
        if (di < 0) { st = nomem(err); break; }
        for (int split = 0; split < 2 && !st; split++) {
            const lms_manifest_split *s = split ? &m.domains[d].val : &m.domains[d].train;
            for (int f = 0; f < s->n_files && !st; f++) {
                char path[4096];
                lms_path_join(path, sizeof path, dir, s->files[f].file);
                int idx;
                st = open_shard(l, path, m.vocab_size, &idx, err);
                if (st) {
                    if (st == LMS_ERR_IO) lms_err_prefix(err, "the manifest in '%s' lists a missing shard: ", dir);
                    break;
                }
                if (l->shards[idx].version != m.shard_version) {
                    st = lms_errf(err, LMS_ERR_FORMAT,
                                  "'%s' is a version-%d shard but manifest.json says version %d: the directory mixes "
                                  "files from different runs; re-run 'lmscope data prepare'",
                                  path, l->shards[idx].version, m.shard_version);
                    break;
                }
                if (l->shards[idx].n_tokens != s->files[f].tokens) {
                    st = lms_errf(err, LMS_ERR_FORMAT,
                                  "'%s' holds %zu tokens but manifest.json says %llu: the directory mixes files from "
                                  "different runs; re-run 'lmscope data prepare'",
                                  path, l->shards[idx].n_tokens, (unsigned long long)s->files[f].tokens);
                    break;
                }
                st = add_seq(l, di, split, idx, 0, l->shards[idx].n_tokens, err);
            }
        }
    }
    lms_manifest_free(&m);
    return st;
}

/* Parse "a=2,b=1" into raw (unnormalised) weights; "*=w" gives the domains not named (those with a
   window) the weight w together, shared in their natural proportions. */
static lms_status parse_weights(lms_loader *l, const char *spec, double *w, lms_err *err) {
    double star = -1;
    int *named = calloc((size_t)l->n_doms, sizeof *named);
    if (!named) return nomem(err);
    for (int d = 0; d < l->n_doms; d++) w[d] = 0;
    lms_status st = LMS_OK;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        char name[64], num[64];
        if (!eq || eq == p || (size_t)(eq - p) >= sizeof name || n - (size_t)(eq - p) - 1 >= sizeof num ||
            n - (size_t)(eq - p) - 1 == 0) {
            free(named);
            return lms_errf(err, LMS_ERR_ARG, "domain weights '%s': expected name=weight[,name=weight...], e.g. quotes=2,novels=1", spec);
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
        snprintf(num, sizeof num, "%.*s", (int)(n - (size_t)(eq - p) - 1), eq + 1);
        char *e;
        double v = strtod(num, &e);
        if (*e || !(v >= 0) || v > 1e12) {
            free(named);
            return lms_errf(err, LMS_ERR_ARG, "domain weights: '%s' is not a non-negative number (in '%s')", num, spec);
        }
        p = end ? end + 1 : p + n;
        if (!strcmp(name, "*")) {
            star = v;
            continue;
        }
        int d = -1;
        for (int i = 0; i < l->n_doms; i++)
            if (!strcmp(l->doms[i].name, name)) d = i;
        if (d < 0) {
            char avail[512] = "";
            for (int i = 0; i < l->n_doms; i++) {
                size_t al = strlen(avail);
                snprintf(avail + al, sizeof avail - al, "%s%s", i ? ", " : "", l->doms[i].name);
            }
            free(named);
            return lms_errf(err, LMS_ERR_ARG, "domain weights: no domain named '%s'; the shards hold: %s", name, avail);
        }
        w[d] = v;
        named[d] = 1;
    }
    if (star > 0) {
        double rest = 0;
        for (int d = 0; d < l->n_doms; d++)
            if (!named[d] && l->doms[d].total_starts > 0) rest += (double)l->doms[d].train_tokens;
        if (!(rest > 0))
            st = lms_errf(err, LMS_ERR_ARG, "domain weights '%s': '*' names no domain (every domain with a window is named)", spec);
        for (int d = 0; d < l->n_doms && !st; d++)
            if (!named[d] && l->doms[d].total_starts > 0) w[d] = star * (double)l->doms[d].train_tokens / rest;
    }
    free(named);
    return st;
}

static lms_status finish(lms_loader *l, const lms_loader_config *c, lms_err *err) {
    size_t T1 = (size_t)l->T + 1;
    if (l->n_doms == 0) return lms_errf(err, LMS_ERR_ARG, "no training shards found");
    size_t longest = 0;
    for (int d = 0; d < l->n_doms; d++) {
        domain *dm = &l->doms[d];
        dm->cum_starts = calloc((size_t)(dm->n_train ? dm->n_train : 1), sizeof *dm->cum_starts);
        if (!dm->cum_starts) return nomem(err);
        for (int i = 0; i < dm->n_train; i++) {
            size_t n = dm->train[i].n;
            if (n > longest) longest = n;
            dm->train_tokens += n;
            dm->total_starts += n >= T1 ? n - T1 + 1 : 0;
            dm->cum_starts[i] = dm->total_starts;
        }
    }
    double *w = calloc((size_t)l->n_doms, sizeof *w);
    l->cum_w = calloc((size_t)l->n_doms, sizeof *l->cum_w);
    if (!w || !l->cum_w) { free(w); return nomem(err); }
    lms_status st = LMS_OK;
    if (c->weights && c->weights[0]) {
        st = parse_weights(l, c->weights, w, err);
        for (int d = 0; d < l->n_doms && !st; d++)
            if (w[d] > 0 && l->doms[d].total_starts == 0) {
                size_t lg = 0;
                for (int i = 0; i < l->doms[d].n_train; i++)
                    if (l->doms[d].train[i].n > lg) lg = l->doms[d].train[i].n;
                st = lms_errf(err, LMS_ERR_ARG,
                              "domain '%s' has weight %g but no training shard of T+1 = %zu tokens (its longest has "
                              "%zu); use a shorter sequence length or give it weight 0",
                              l->doms[d].name, w[d], T1, lg);
            }
    } else {
        for (int d = 0; d < l->n_doms; d++) {
            if (l->doms[d].total_starts > 0) w[d] = (double)l->doms[d].train_tokens;
            else if (l->doms[d].train_tokens > 0)
                lms_log(LMS_LOG_WARN, "domain '%s' is not sampled: its %llu training tokens hold no window of T+1 = %zu",
                        l->doms[d].name, (unsigned long long)l->doms[d].train_tokens, T1);
        }
    }
    double sum = 0;
    for (int d = 0; d < l->n_doms; d++) sum += w[d];
    if (!st && !(sum > 0)) {
        st = (c->weights && c->weights[0])
                 ? lms_errf(err, LMS_ERR_ARG, "domain weights '%s' are all zero", c->weights)
                 : lms_errf(err, LMS_ERR_ARG,
                            "the training shards are too short for one window of T+1 = %zu tokens (the longest has %zu "
                            "tokens); use a sequence length below %zu or more data",
                            T1, longest, longest);
    }
    double acc = 0;
    for (int d = 0; d < l->n_doms && !st; d++) {
        l->doms[d].weight = w[d] / sum;
        acc += w[d];
        l->cum_w[d] = acc / sum;
    }
    if (!st) {
        int last = l->n_doms - 1;
        while (last > 0 && w[last] == 0) last--;
        for (int d = last; d < l->n_doms; d++) l->cum_w[d] = 1.0; /* guard against rounding */
    }
    free(w);
    if (st) return st;

    /* Validation windows and batches. */
    l->vwin = calloc((size_t)l->n_doms, sizeof *l->vwin);
    l->n_vwin = calloc((size_t)l->n_doms, sizeof *l->n_vwin);
    if (!l->vwin || !l->n_vwin) return nomem(err);
    long long cap_tokens = c->val_tokens_per_domain == 0 ? DEFAULT_VAL_CAP : c->val_tokens_per_domain;
    size_t max_w = cap_tokens < 0 ? (size_t)-1 : (size_t)cap_tokens / (size_t)l->T;
    if (max_w < 1) max_w = 1;
    int nvb = 0;
    for (int d = 0; d < l->n_doms; d++) {
        domain *dm = &l->doms[d];
        size_t cnt = 0;
        uint64_t vtok = 0;
        for (int i = 0; i < dm->n_val; i++) {
            vtok += dm->val[i].n;
            if (dm->val[i].n >= T1) cnt += (dm->val[i].n - 1) / (size_t)l->T;
        }
        if (cnt > max_w) cnt = max_w;
        if (cnt > 1000000000) cnt = 1000000000;
        if (cnt == 0 && vtok > 0)
            lms_log(LMS_LOG_WARN, "domain '%s' has no validation batches: its validation shards hold fewer than T+1 = %zu tokens",
                    dm->name, T1);
        if (cnt == 0) continue;
        l->vwin[d] = malloc(cnt * sizeof **l->vwin);
        if (!l->vwin[d]) return nomem(err);
        size_t k = 0;
        for (int i = 0; i < dm->n_val && k < cnt; i++)
            for (size_t p = 0; p + T1 <= dm->val[i].n && k < cnt; p += (size_t)l->T) l->vwin[d][k++] = (val_window){i, p};
        l->n_vwin[d] = (int)k;
        dm->val_tokens = (uint64_t)k * (uint64_t)l->T;
        nvb += (int)((k + (size_t)l->B - 1) / (size_t)l->B);
    }
    l->vb = calloc((size_t)(nvb ? nvb : 1), sizeof *l->vb);
    if (!l->vb) return nomem(err);
    /* Round robin over domains (round k holds batch k of every domain that has one), so that any
       prefix of the validation batches covers the domains evenly. */
    for (int first = 0, any = 1; any; first += l->B) {
        any = 0;
        for (int d = 0; d < l->n_doms; d++) {
            if (first >= l->n_vwin[d]) continue;
            int rows = l->n_vwin[d] - first < l->B ? l->n_vwin[d] - first : l->B;
            l->vb[l->n_vb++] = (val_batch){d, first, rows};
            any = 1;
        }
    }
    if (l->vocab <= 0) {
        /* no manifest or tokenizer says how big the vocabulary is: the largest id does, and an id
           no model could have means the file is not a token shard (or is damaged) */
        if (l->max_token >= (uint32_t)INT32_MAX)
            return lms_errf(err, LMS_ERR_FORMAT,
                            "data holds token id %u, beyond any vocabulary (ids must be below 2^31); the shards are "
                            "damaged or not token shards",
                            (unsigned)l->max_token);
        l->vocab = (int)l->max_token + 1;
    }
    lms_rng_seed(&l->key, c->seed);
    return LMS_OK;
}

static lms_status create(lms_loader **out, const lms_loader_config *c, lms_err *err) {
    *out = NULL;
    if (c && c->B >= 1 && c->T >= 1 && (long long)c->B * c->T > (1ll << 31))
        return lms_errf(err, LMS_ERR_ARG, "data loader: a batch of B=%d sequences of T=%d tokens is %lld tokens, more than 2^31; "
                        "use a smaller batch size or sequence length", c->B, c->T, (long long)c->B * c->T);
    if (!c || c->B < 1 || c->T < 1)
        return lms_errf(err, LMS_ERR_ARG, "data loader: batch size B and sequence length T must be >= 1 (got B=%d, T=%d)",
                        c ? c->B : 0, c ? c->T : 0);
    lms_loader *l = calloc(1, sizeof *l);
    if (!l) return nomem(err);
    l->B = c->B;
    l->T = c->T;
    *out = l; /* the caller's own variable; the public functions publish it only on success */
    return LMS_OK;
}

lms_status lms_loader_open(lms_loader **out, const char *path, const lms_loader_config *c, lms_err *err) {
    lms_loader *l;
    *out = NULL;
    lms_status st = create(&l, c, err);
    if (st) return st;
    char mpath[4096];
    lms_path_join(mpath, sizeof mpath, path, "manifest.json");
    if (lms_path_is_dir(path) && lms_path_exists(mpath)) st = open_manifest(l, path, err);
    else st = open_plain(l, path, err);
    if (!st) st = finish(l, c, err);
    if (st) {
        lms_loader_free(l);
        return st;
    }
    *out = l;
    return LMS_OK;
}

lms_status lms_loader_from_tokens(lms_loader **out, const uint32_t *tok, size_t n, int vocab,
                                  const lms_loader_config *c, lms_err *err) {
    lms_loader *l;
    *out = NULL;
    lms_status st = create(&l, c, err);
    if (st) return st;
    l->mem = malloc((n ? n : 1) * sizeof *l->mem);
    if (!l->mem) st = nomem(err);
    for (size_t i = 0; i < n && !st; i++) {
        if (vocab > 0 && tok[i] >= (uint32_t)vocab)
            st = lms_errf(err, LMS_ERR_MISMATCH, "token %zu has id %u, outside the vocabulary of %d tokens", i, tok[i], vocab);
        l->mem[i] = tok[i];
        if (tok[i] > l->max_token) l->max_token = tok[i];
    }
    l->n_mem = n;
    l->vocab = vocab > 0 ? vocab : 0;
    if (!st) st = add_split_source(l, -1, n, err);
    if (!st) st = finish(l, c, err);
    if (st) {
        lms_loader_free(l);
        return st;
    }
    *out = l;
    return LMS_OK;
}

int lms_loader_vocab_size(const lms_loader *l) { return l->vocab; }
const char *lms_loader_tokenizer_hash(const lms_loader *l) { return l->have_hash ? l->hash : NULL; }

lms_status lms_loader_check_hash(const lms_loader *l, const char *hash, int vocab, lms_err *err) {
    if (l->have_hash && hash && hash[0] && strcmp(l->hash, hash))
        return lms_errf(err, LMS_ERR_MISMATCH,
                        "the shards were made with tokenizer %.12s… (vocabulary %d) but the tokenizer given is %.12s… "
                        "(vocabulary %d); re-run 'lmscope data prepare --tokenizer' with this tokenizer, or use the one "
                        "the shards were made with",
                        l->hash, l->vocab, hash, vocab);
    if (vocab > 0 && l->max_token >= (uint32_t)vocab)
        return lms_errf(err, LMS_ERR_MISMATCH,
                        "the shards hold token id %u but the tokenizer's vocabulary has only %d tokens; they were made with "
                        "another tokenizer",
                        l->max_token, vocab);
    if (vocab > 0 && l->have_hash && l->vocab != vocab)
        return lms_errf(err, LMS_ERR_MISMATCH, "the shards' manifest says vocabulary %d, the tokenizer has %d", l->vocab, vocab);
    return LMS_OK;
}

lms_status lms_loader_check_tokenizer(const lms_loader *l, const lms_tokenizer *t, lms_err *err) {
    return lms_loader_check_hash(l, lms_tokenizer_hash(t), lms_tokenizer_vocab_size(t), err);
}


void lms_loader_next_domains(lms_loader *l, int32_t *inputs, int32_t *targets, int *row_domain) {
    lms_rng r;
    uint64_t b = l->batches++;
    lms_rng_seed(&r, lms_mix64(l->key.s[0] ^ lms_mix64(b + l->key.s[1])) ^ lms_mix64(l->key.s[2] + 0x9e3779b97f4a7c15ull * (b + 1)) ^ l->key.s[3]);
    for (int row = 0; row < l->B; row++) {
        double u = lms_rng_uniform_f64(&r);
        int d = 0;
        while (d < l->n_doms - 1 && !(u < l->cum_w[d])) d++;
        domain *dm = &l->doms[d];
        LMS_ASSERT(dm->total_starts > 0);
        uint64_t k = lms_rng_below(&r, dm->total_starts);
        int lo = 0, hi = dm->n_train - 1;
        while (lo < hi) { /* first shard whose cumulative start count exceeds k */
            int mid = (lo + hi) / 2;
            if (dm->cum_starts[mid] > k) hi = mid;
            else lo = mid + 1;
        }
        uint64_t before = lo ? dm->cum_starts[lo - 1] : 0;
        copy_window(l, &dm->train[lo], (size_t)(k - before), inputs + (size_t)row * l->T, targets + (size_t)row * l->T);
        if (row_domain) row_domain[row] = d;
    }
}

void lms_loader_next(lms_loader *l, int32_t *inputs, int32_t *targets) { lms_loader_next_domains(l, inputs, targets, NULL); }

int lms_loader_num_domains(const lms_loader *l) { return l->n_doms; }
const char *lms_loader_domain_name(const lms_loader *l, int d) { return d >= 0 && d < l->n_doms ? l->doms[d].name : NULL; }
double lms_loader_domain_weight(const lms_loader *l, int d) { return d >= 0 && d < l->n_doms ? l->doms[d].weight : 0; }
uint64_t lms_loader_domain_train_tokens(const lms_loader *l, int d) { return d >= 0 && d < l->n_doms ? l->doms[d].train_tokens : 0; }
uint64_t lms_loader_domain_val_tokens(const lms_loader *l, int d) { return d >= 0 && d < l->n_doms ? l->doms[d].val_tokens : 0; }

int lms_loader_num_val_batches(const lms_loader *l) { return l->n_vb; }
int lms_loader_val_rows(const lms_loader *l, int i) { return i >= 0 && i < l->n_vb ? l->vb[i].rows : 0; }
int lms_loader_val_domain(const lms_loader *l, int i) { return i >= 0 && i < l->n_vb ? l->vb[i].dom : -1; }

int lms_loader_B(const lms_loader *l) { return l->B; }
int lms_loader_T(const lms_loader *l) { return l->T; }

void lms_loader_val_batch(const lms_loader *l, int i, int32_t *inputs, int32_t *targets, const char **dname) {
    LMS_ASSERT(i >= 0 && i < l->n_vb);
    const val_batch *vb = &l->vb[i];
    const domain *dm = &l->doms[vb->dom];
    int nw = l->n_vwin[vb->dom];
    for (int row = 0; row < l->B; row++) {
        int w = row < vb->rows ? vb->first_window + row : (row - vb->rows) % nw;
        const val_window *vw = &l->vwin[vb->dom][w];
        copy_window(l, &dm->val[vw->seq_i], vw->off, inputs + (size_t)row * l->T, targets + (size_t)row * l->T);
    }
    if (dname) *dname = dm->name;
}

void lms_loader_get_state(const lms_loader *l, lms_loader_state *s) {
    memcpy(s->rng, l->key.s, sizeof s->rng);
    s->batches = l->batches;
}

void lms_loader_set_state(lms_loader *l, const lms_loader_state *s) {
    memcpy(l->key.s, s->rng, sizeof s->rng);
    l->batches = s->batches;
}
