/* tokclasses.c — the loss by token class and frequency bucket of one or two models over validation
 * data (see tokclasses.h): open the data, find the domain, count token frequencies, score.
 *
 * Leaves out: the scoring loop and the classes (tokloss.c).
 */
#include "eval/tokclasses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

/* The index of the domain named name in l; -1 with the message listing the domains when none. */
static int find_domain(const lms_loader *l, const char *name, const char *what, lms_err *err) {
    for (int d = 0; d < lms_loader_num_domains(l); d++)
        if (!strcmp(lms_loader_domain_name(l, d), name)) return d;
    char names[1024] = "";
    for (int d = 0; d < lms_loader_num_domains(l); d++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", d ? ", " : "", lms_loader_domain_name(l, d));
    lms_errf(err, LMS_ERR_ARG, "--domain %s: no such domain in %s (it has: %s)", name, what, names);
    return -1;
}

/* Frequency ranks [V] from the training shards' counts (dir with a manifest), else from sampled
   training batches; *rank stays NULL when there is nothing to count. */
static lms_status freq_ranks(lms_tokclasses *c, const char *dir, const char *domain, int dom, int V, int32_t **rank,
                             lms_err *err) {
    uint64_t *counts = NULL;
    lms_status st = LMS_OK;
    char mp[LMS_TRAIN_PATH + 32];
    if (dir[0] && lms_path_exists(lms_path_join(mp, sizeof mp, dir, "manifest.json"))) {
        if ((st = lms_tokloss_train_counts(&counts, V, dir, domain, err))) return st;
        snprintf(c->freq_src, sizeof c->freq_src, "token counts of %s's training shards", domain ? domain : "all domains");
    } else { /* no shards to count: estimate from the loader's own training sampling */
        lms_loader *l = c->data.loader;
        uint64_t want = 0, got = 0;
        for (int d = 0; d < lms_loader_num_domains(l); d++)
            if (dom < 0 || d == dom) want += lms_loader_domain_train_tokens(l, d);
        want = want > 2000000 ? 2000000 : want;
        if ((st = lms_tokloss_sampled_counts(&counts, V, l, c->data.batch, c->data.n_ctx, dom, want, &got, err))) return st;
        snprintf(c->freq_src, sizeof c->freq_src, "token frequencies estimated from %llu sampled training tokens (no shard "
                 "manifest)", (unsigned long long)got);
        if (got == 0) free(counts), counts = NULL, c->freq_src[0] = 0;
    }
    if (counts) {
        *rank = malloc((size_t)V * sizeof **rank);
        if (!*rank || lms_tokloss_freq_rank(counts, V, *rank, err)) st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    free(counts);
    return st;
}

lms_status lms_tokclasses_run(lms_tokclasses *c, const lms_lm *a, const lms_lm *b, const lms_tokclasses_opts *o,
                              lms_err *err) {
    memset(c, 0, sizeof *c);
    int T = lms_gpt_get_config(a->gpt)->n_ctx;
    if (b && lms_gpt_get_config(b->gpt)->n_ctx < T) T = lms_gpt_get_config(b->gpt)->n_ctx;
    lms_lm_data_opts dop = {.batch = 8, .n_ctx = T, .val_tokens = o->val_tokens, .all_val = 1, .check_tokenizer = 1};
    c->step = LMS_TOKCLASSES_DATA;
    lms_status st = lms_lm_open_data(a, o->data, &dop, &c->data, err);
    char dir[LMS_TRAIN_PATH] = ""; /* a shard dir whose training shards can be counted */
    const lms_train_config *rc = &c->data.rc;
    if (o->data) snprintf(dir, sizeof dir, "%s", o->data), snprintf(c->what, sizeof c->what, "%s", o->data);
    else if (c->data.from_run) {
        if (rc->n_data == 1 && lms_path_is_dir(rc->data[0])) snprintf(dir, sizeof dir, "%s", rc->data[0]);
        snprintf(c->what, sizeof c->what, "%s%s", rc->data[0], rc->n_data > 1 ? " ..." : "");
    }
    if (st) return st;
    int dom = -1;
    c->step = LMS_TOKCLASSES_DOMAIN;
    if (o->domain && (dom = find_domain(c->data.loader, o->domain, c->what, err)) < 0) return LMS_ERR_ARG;
    int V = lms_gpt_get_config(a->gpt)->vocab_size;
    int32_t *rank = NULL;
    c->step = LMS_TOKCLASSES_COUNTS;
    if (!(st = freq_ranks(c, dir, o->domain, dom, V, &rank, err))) {
        c->step = LMS_TOKCLASSES_SCORE;
        const lms_gpt *models[2] = {a->gpt, b ? b->gpt : NULL};
        st = lms_tokloss_breakdown_run(&c->bd, models, b ? 2 : 1, a->tok, c->data.loader, c->data.batch, T, dom, o->batches,
                                       rank, err);
    }
    free(rank);
    if (st) return st;
    c->step = LMS_TOKCLASSES_OK;
    snprintf(c->desc, sizeof c->desc, "validation windows (%d tokens) of %s%s in %s", T, o->domain ? "domain " : "all domains",
             o->domain ? o->domain : "", c->what);
    return LMS_OK;
}

void lms_tokclasses_free(lms_tokclasses *c) {
    lms_tokloss_breakdown_free(&c->bd);
    lms_lm_data_close(&c->data);
}

json_t *lms_tokclasses_json(const lms_tokclasses *c) {
    const lms_tokloss_breakdown *bd = &c->bd;
    int two = bd->n_models == 2;
    json_t *root = json_object(), *cls = json_array(), *fq = json_array();
    json_object_set_new(root, "data", json_string(c->desc));
    json_object_set_new(root, "batches", json_integer(bd->batches));
    json_object_set_new(root, "tokens", json_integer(bd->all.tokens));
    json_object_set_new(root, "loss", json_real(bd->all.loss[0] / (double)bd->all.tokens));
    if (two) json_object_set_new(root, "loss_b", json_real(bd->all.loss[1] / (double)bd->all.tokens));
    for (int pass = 0; pass < 2; pass++) {
        int n = pass ? (bd->has_freq ? LMS_FB_N : 0) : LMS_TC_N;
        for (int k = 0; k < n; k++) {
            const lms_tokloss_bin *bin = pass ? &bd->freq[k] : &bd->cls[k];
            json_t *o = json_object();
            json_object_set_new(o, pass ? "bucket" : "class", json_string(pass ? lms_freq_bucket_name(k) : lms_tok_class_name(k)));
            json_object_set_new(o, "tokens", json_integer(bin->tokens));
            json_object_set_new(o, "share", json_real((double)bin->tokens / (double)bd->all.tokens));
            json_object_set_new(o, "loss", bin->tokens ? json_real(bin->loss[0] / (double)bin->tokens) : json_null());
            if (two) json_object_set_new(o, "loss_b", bin->tokens ? json_real(bin->loss[1] / (double)bin->tokens) : json_null());
            json_array_append_new(pass ? fq : cls, o);
        }
    }
    json_object_set_new(root, "classes", cls);
    if (bd->has_freq) json_object_set_new(root, "frequency", fq), json_object_set_new(root, "frequency_source", json_string(c->freq_src));
    else json_decref(fq);
    return root;
}
