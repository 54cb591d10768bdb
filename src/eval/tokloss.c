/* tokloss.c — per-token loss of a text, two-model comparison, and the loss by token class and
 * frequency bucket over a validation set (contracts in tokloss.h).
 *
 * Scores and the top-k alternatives come from lms_gpt_score_seq_top (a text, with the scorer's
 * sliding window for long ones) and lms_gpt_score (validation batches).
 * Leaves out: printing, colours, HTML.
 */
#include "eval/tokloss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "data/manifest.h"
#include "data/shard.h"
#include "model/score.h"

static const char *const class_names[LMS_TC_N] = {"word-initial", "continuation", "punctuation",
                                                  "digits",       "whitespace",   "special"};
static const char *const bucket_names[LMS_FB_N] = {"top-100", "100-1k", "1k-10k", "rarer", "unseen"};

const char *lms_tok_class_name(int c) { return c >= 0 && c < LMS_TC_N ? class_names[c] : "?"; }
const char *lms_freq_bucket_name(int b) { return b >= 0 && b < LMS_FB_N ? bucket_names[b] : "?"; }

/* Decode one UTF-8 character at s[0..len): its code point and byte length, or -1 (length 1) for a
   byte that does not start a complete, valid character. */
int32_t lms_utf8_decode(const char *str, size_t len, size_t *adv) {
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    *adv = 1;
    if (need == 0 || need > len) return -1;
    int32_t cp = need == 1 ? (int32_t)c : (int32_t)(c & (0x7f >> need));
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    /* overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8 */
    if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *adv = need;
    return cp;
}

char *lms_tok_escape(const char *s, size_t len, char *out, size_t cap) {
    size_t o = 0;
    if (cap == 0) return out;
    for (size_t i = 0; i < len;) {
        size_t adv;
        int32_t c = lms_utf8_decode(s + i, len - i, &adv);
        char buf[8];
        size_t bl;
        if (c == '\\') bl = (size_t)snprintf(buf, sizeof buf, "\\\\");
        else if (c == '\n') bl = (size_t)snprintf(buf, sizeof buf, "\\n");
        else if (c == '\t') bl = (size_t)snprintf(buf, sizeof buf, "\\t");
        else if (c == '\r') bl = (size_t)snprintf(buf, sizeof buf, "\\r");
        else if (c < 0 || c < 0x20 || c == 0x7f) bl = (size_t)snprintf(buf, sizeof buf, "\\x%02x", (unsigned char)s[i]);
        else memcpy(buf, s + i, adv), bl = adv;
        if (o + bl + 1 > cap) break;
        memcpy(out + o, buf, bl);
        o += bl;
        i += adv;
    }
    out[o] = 0;
    return out;
}

static int is_space_cp(int32_t c) {
    return c == ' ' || (c >= 9 && c <= 13) || c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
           c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Non-ASCII punctuation and symbols: Latin-1 punctuation, general punctuation, symbol blocks,
   CJK punctuation, full-width ASCII punctuation. Everything else non-ASCII counts as a letter. */
static int is_punct_cp(int32_t c) {
    if (c < 0x80) return c > ' ' && c < 0x7f && !((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'));
    return (c >= 0xa1 && c <= 0xbf && c != 0xaa && c != 0xb5 && c != 0xba) || c == 0xd7 || c == 0xf7 ||
           (c >= 0x2010 && c <= 0x205e) || (c >= 0x2190 && c <= 0x2bff) || (c >= 0x3001 && c <= 0x303f) ||
           (c >= 0xff01 && c <= 0xff0f) || (c >= 0x1f000 && c <= 0x1faff);
}

lms_tok_class lms_tok_classify(const char *s, size_t len, int boundary, int special) {
    if (special) return LMS_TC_SPECIAL;
    int letter = 0, digit = 0, all_space = 1;
    for (size_t i = 0; i < len;) {
        size_t adv;
        int32_t c = lms_utf8_decode(s + i, len - i, &adv);
        if (c < 0) letter = 1, all_space = 0; /* part of a split character */
        else if (is_space_cp(c)) ;
        else {
            all_space = 0;
            if (c >= '0' && c <= '9') digit = 1;
            else if (!is_punct_cp(c)) letter = 1;
        }
        i += adv;
    }
    if (all_space) return LMS_TC_SPACE;
    if (letter) return (len > 0 && (s[0] == ' ' || s[0] == '\t')) || boundary ? LMS_TC_WORD_INITIAL : LMS_TC_CONTINUATION;
    if (digit) return LMS_TC_DIGITS;
    return LMS_TC_PUNCT;
}

int lms_tok_ends_space(const char *s, size_t len) {
    if (len == 0) return 0;
    /* the last character: step back over continuation bytes to its first byte */
    size_t i = len - 1;
    while (i > 0 && len - i < 4 && ((unsigned char)s[i] & 0xc0) == 0x80) i--;
    size_t adv;
    int32_t c = lms_utf8_decode(s + i, len - i, &adv);
    return c >= 0 && i + adv == len && is_space_cp(c);
}

size_t lms_tok_utf8_complete(const char *s, size_t len) {
    /* look back over at most 3 trailing continuation bytes for a lead byte whose character is cut */
    const unsigned char *u = (const unsigned char *)s;
    size_t k = 0;
    while (k < len && k < 3 && (u[len - 1 - k] & 0xc0) == 0x80) k++;
    if (k == len) return len; /* only continuation bytes: nothing to wait for */
    unsigned c = u[len - 1 - k];
    size_t need = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (need > 1 && k + 1 < need) return len - 1 - k; /* a lead byte whose character is not finished */
    return len;
}

int lms_tokloss_hardest(const lms_tokloss *r, size_t *idx, int k) {
    int n = 0;
    for (size_t i = 0; k > 0 && i < r->n; i++) {
        if (!r->tok[i].scored) continue;
        if (n == k && !(r->tok[i].logp < r->tok[idx[k - 1]].logp)) continue;
        int p = n < k ? n++ : k - 1;
        while (p > 0 && r->tok[idx[p - 1]].logp > r->tok[i].logp) idx[p] = idx[p - 1], p--;
        idx[p] = i;
    }
    return n;
}

lms_status lms_tokloss_text(lms_tokloss *r, const lms_gpt *m, const lms_tokenizer *t, const char *text,
                            size_t len, const lms_tokloss_opts *o, lms_err *err) {
    memset(r, 0, sizeof *r);
    lms_tokloss_opts def = {0};
    if (!o) o = &def;
    if (o->top_k < 0 || o->top_k > LMS_TOKLOSS_MAX_TOP)
        return lms_errf(err, LMS_ERR_ARG, "top-k alternatives must be 0..%d, not %d", LMS_TOKLOSS_MAX_TOP, o->top_k);
    if (len == 0) return lms_errf(err, LMS_ERR_ARG, "the text is empty: nothing to score");
    const lms_gpt_config *c = lms_gpt_get_config(m);
    int tv = lms_tokenizer_vocab_size(t);
    if (tv > c->vocab_size)
        return lms_errf(err, LMS_ERR_MISMATCH, "the tokenizer has %d tokens but the model only %d; they do not belong together",
                        tv, c->vocab_size);
    lms_ids ids = {0};
    int eot = lms_tokenizer_eot(t);
    r->bos = eot >= 0 && !o->no_bos;
    if ((r->bos && lms_ids_push(&ids, (uint32_t)eot, err)) || lms_tokenizer_encode(t, text, len, &ids, err)) {
        lms_ids_free(&ids);
        return err->code;
    }
    if (ids.n < 2) {
        lms_ids_free(&ids);
        return lms_errf(err, LMS_ERR_ARG, "the text is a single token and the tokenizer has no <|endoftext|> to put "
                        "before it: nothing to score (give a longer text)");
    }
    lms_status st = LMS_OK;
    size_t n = ids.n;
    int32_t *in = malloc(n * sizeof *in);
    float *logp = malloc(n * sizeof *logp);
    int32_t *rank = malloc(n * sizeof *rank);
    int ntop = o->top_k;
    int32_t *top_id = ntop ? malloc(n * (size_t)ntop * sizeof *top_id) : NULL;
    float *top_lp = ntop ? malloc(n * (size_t)ntop * sizeof *top_lp) : NULL;
    r->tok = calloc(n, sizeof *r->tok);
    lms_scorer *s = NULL;
    if (!in || !logp || !rank || !r->tok || (ntop && (!top_id || !top_lp))) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory for %zu tokens", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) in[i] = (int32_t)ids.ids[i];
    size_t T = n < (size_t)c->n_ctx ? n : (size_t)c->n_ctx;
    if ((st = lms_scorer_create(&s, m, 1, (int)T, err))) goto done;
    lms_gpt_score_seq_top(s, in, n, logp, rank, ntop, top_id, top_lp, &r->windowed);
    r->n = n;
    r->n_ctx = c->n_ctx;
    size_t off = 0;
    int line_start = 1;
    for (size_t i = 0; i < n; i++) {
        lms_tokloss_tok *k = &r->tok[i];
        size_t tl = 0;
        const char *tb = lms_tokenizer_token(t, ids.ids[i], &tl);
        int special = (int)ids.ids[i] == eot;
        k->id = ids.ids[i];
        k->off = off;
        k->len = (r->bos && i == 0) ? 0 : tl;
        off += k->len;
        k->cls = lms_tok_classify(tb, tl, line_start, special);
        line_start = special || lms_tok_ends_space(tb, tl);
        k->scored = i > 0;
        k->logp = i > 0 ? logp[i] : 0;
        k->rank = i > 0 ? rank[i] : 0;
        for (int j = 0; i > 0 && j < ntop; j++) {
            k->top_id[j] = (uint32_t)top_id[i * (size_t)ntop + (size_t)j];
            k->top_logp[j] = top_lp[i * (size_t)ntop + (size_t)j];
            k->n_top = j + 1;
        }
        if (k->scored) {
            r->scored++;
            r->bytes += (int64_t)k->len;
            r->sum_logp += k->logp;
        }
    }
    r->mean_loss = r->scored ? -r->sum_logp / (double)r->scored : NAN;
    r->bpb = r->bytes ? -r->sum_logp / log(2.0) / (double)r->bytes : NAN;
done:
    lms_scorer_free(s);
    free(in);
    free(logp);
    free(rank);
    free(top_id);
    free(top_lp);
    lms_ids_free(&ids);
    if (st) lms_tokloss_free(r);
    return st;
}

void lms_tokloss_free(lms_tokloss *r) {
    free(r->tok);
    memset(r, 0, sizeof *r);
}

lms_status lms_tokloss_check_same_tokenizer(const lms_tokenizer *a, const char *name_a, const lms_tokenizer *b,
                                            const char *name_b, lms_err *err) {
    if (!strcmp(lms_tokenizer_hash(a), lms_tokenizer_hash(b))) return LMS_OK;
    return lms_errf(err, LMS_ERR_MISMATCH,
                    "%s and %s use different tokenizers (%d tokens, hash %.12s... vs %d tokens, hash %.12s...): "
                    "per-token losses can only be compared on the same tokens; compare models trained with the same "
                    "tokenizer", name_a, name_b, lms_tokenizer_vocab_size(a), lms_tokenizer_hash(a),
                    lms_tokenizer_vocab_size(b), lms_tokenizer_hash(b));
}

lms_status lms_tokloss_compare(lms_tokloss_cmp *c, const lms_tokloss *a, const lms_tokloss *b, double threshold,
                               lms_err *err) {
    memset(c, 0, sizeof *c);
    if (!(threshold > 0)) return lms_errf(err, LMS_ERR_ARG, "the comparison threshold must be > 0 nats");
    if (a->n != b->n || a->bos != b->bos)
        return lms_errf(err, LMS_ERR_MISMATCH, "the two results hold different tokens (%zu vs %zu): same text and tokenizer needed",
                        a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (a->tok[i].id != b->tok[i].id || a->tok[i].scored != b->tok[i].scored)
            return lms_errf(err, LMS_ERR_MISMATCH, "token %zu differs between the two results (%u vs %u): same text and "
                            "tokenizer needed", i, a->tok[i].id, b->tok[i].id);
    c->diff = calloc(a->n ? a->n : 1, sizeof *c->diff);
    if (!c->diff) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    c->n = a->n;
    c->threshold = threshold;
    double sum = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (!a->tok[i].scored) continue;
        float d = b->tok[i].logp - a->tok[i].logp;
        c->diff[i] = d;
        c->scored++;
        sum += d;
        if (d >= threshold) c->much_better++;
        if (d <= -threshold) c->much_worse++;
        /* insertion into the two top lists (stable: earlier tokens first on ties) */
        if (d > 0) {
            int p = c->n_better < LMS_TOKLOSS_CMP_TOP ? c->n_better++ : LMS_TOKLOSS_CMP_TOP;
            if (p == LMS_TOKLOSS_CMP_TOP && !(d > c->diff[c->better[p - 1]])) continue;
            if (p == LMS_TOKLOSS_CMP_TOP) p--;
            while (p > 0 && c->diff[c->better[p - 1]] < d) c->better[p] = c->better[p - 1], p--;
            c->better[p] = i;
        } else if (d < 0) {
            int p = c->n_worse < LMS_TOKLOSS_CMP_TOP ? c->n_worse++ : LMS_TOKLOSS_CMP_TOP;
            if (p == LMS_TOKLOSS_CMP_TOP && !(d < c->diff[c->worse[p - 1]])) continue;
            if (p == LMS_TOKLOSS_CMP_TOP) p--;
            while (p > 0 && c->diff[c->worse[p - 1]] > d) c->worse[p] = c->worse[p - 1], p--;
            c->worse[p] = i;
        }
    }
    c->mean_diff = c->scored ? sum / (double)c->scored : NAN;
    return LMS_OK;
}

void lms_tokloss_cmp_free(lms_tokloss_cmp *c) {
    free(c->diff);
    memset(c, 0, sizeof *c);
}

lms_status lms_tokloss_train_counts(uint64_t **counts, int V, const char *dir, const char *domain, lms_err *err) {
    *counts = NULL;
    lms_manifest mf;
    if (lms_manifest_load(&mf, dir, err))
        return lms_err_prefix(err, "frequency buckets need the training shards' manifest: ");
    lms_status st = LMS_OK;
    int d0 = 0, d1 = mf.n_domains;
    if (domain) {
        int d = lms_manifest_find(&mf, domain);
        if (d < 0) {
            char names[512] = "";
            for (int i = 0; i < mf.n_domains; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", mf.domains[i].name);
            st = lms_errf(err, LMS_ERR_ARG, "no domain '%s' in %s (it has: %s)", domain, dir, names);
            goto done;
        }
        d0 = d, d1 = d + 1;
    }
    uint64_t *cnt = calloc((size_t)V, sizeof *cnt);
    if (!cnt) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory for %d counts", V);
        goto done;
    }
    for (int d = d0; d < d1; d++) {
        for (int f = 0; f < mf.domains[d].train.n_files; f++) {
            char p[4096];
            lms_path_join(p, sizeof p, dir, mf.domains[d].train.files[f].file);
            lms_shard sh;
            if ((st = lms_shard_open(&sh, p, V, err))) {
                free(cnt);
                goto done;
            }
            for (size_t i = 0; i < sh.n_tokens; i++) cnt[lms_shard_token(&sh, i)]++;
            lms_shard_close(&sh);
        }
    }
    *counts = cnt;
done:
    lms_manifest_free(&mf);
    return st;
}

lms_status lms_tokloss_sampled_counts(uint64_t **counts, int V, lms_loader *l, int B, int T, int domain, uint64_t tokens,
                                      uint64_t *counted, lms_err *err) {
    *counts = NULL;
    uint64_t *cnt = calloc((size_t)V, sizeof *cnt);
    int32_t *in = malloc((size_t)B * T * sizeof *in), *tg = malloc((size_t)B * T * sizeof *tg);
    int *dom = malloc((size_t)B * sizeof *dom);
    if (!cnt || !in || !tg || !dom) {
        free(cnt), free(in), free(tg), free(dom);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory for %d counts", V);
    }
    uint64_t n = 0;
    for (int b = 0; b < 4096 && n < tokens; b++) {
        lms_loader_next_domains(l, in, tg, dom);
        for (int r = 0; r < B; r++) {
            if (domain >= 0 && dom[r] != domain) continue;
            for (int t = 0; t < T; t++)
                if (tg[r * T + t] >= 0 && tg[r * T + t] < V) cnt[tg[r * T + t]]++, n++;
        }
    }
    free(in), free(tg), free(dom);
    if (counted) *counted = n;
    *counts = cnt;
    return LMS_OK;
}

static const uint64_t *g_counts; /* qsort has no context argument; used only inside freq_rank */
static int cmp_by_count(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    if (g_counts[a] != g_counts[b]) return g_counts[a] > g_counts[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

lms_status lms_tokloss_freq_rank(const uint64_t *counts, int V, int32_t *rank, lms_err *err) {
    int32_t *order = malloc((size_t)V * sizeof *order);
    if (!order) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < V; i++) order[i] = i;
    g_counts = counts;
    qsort(order, (size_t)V, sizeof *order, cmp_by_count);
    g_counts = NULL;
    for (int i = 0; i < V; i++) rank[order[i]] = counts[order[i]] ? i : -1;
    free(order);
    return LMS_OK;
}

int lms_freq_bucket_of(int32_t rank) {
    return rank < 0 ? LMS_FB_UNSEEN : rank < 100 ? LMS_FB_TOP100 : rank < 1000 ? LMS_FB_1K : rank < 10000 ? LMS_FB_10K : LMS_FB_RARE;
}

lms_status lms_tokloss_breakdown_run(lms_tokloss_breakdown *out, const lms_gpt *const *models, int n_models,
                                     const lms_tokenizer *tok, const lms_loader *loader, int B, int T, int domain,
                                     int max_batches, const int32_t *freq_rank, lms_err *err) {
    memset(out, 0, sizeof *out);
    if (n_models < 1 || n_models > 2) return lms_errf(err, LMS_ERR_ARG, "1 or 2 models, not %d", n_models);
    if (B < 1 || T < 1) return lms_errf(err, LMS_ERR_ARG, "bad batch shape %d x %d", B, T);
    int nb = lms_loader_num_val_batches(loader);
    lms_status st = LMS_OK;
    int V = lms_tokenizer_vocab_size(tok);
    for (int k = 0; k < n_models; k++) {
        int mv = lms_gpt_get_config(models[k])->vocab_size;
        V = mv > V ? mv : V;
    }
    int eot = lms_tokenizer_eot(tok);
    lms_scorer *sc[2] = {0};
    int32_t *in = NULL, *tg = NULL, *rowtg = NULL;
    float *lp[2] = {0};
    out->n_models = n_models;
    out->V = V;
    out->has_freq = freq_rank != NULL;
    out->id_tokens = calloc((size_t)V, sizeof *out->id_tokens);
    out->id_loss = calloc((size_t)V, sizeof *out->id_loss);
    if (!out->id_tokens || !out->id_loss) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < n_models; k++) {
        int nc = lms_gpt_get_config(models[k])->n_ctx;
        if (nc < T) {
            st = lms_errf(err, LMS_ERR_ARG, "the validation windows are %d tokens but model %d's context is %d", T, k + 1, nc);
            goto done;
        }
        if ((st = lms_scorer_create(&sc[k], models[k], B, T, err))) goto done;
        if (!(lp[k] = malloc((size_t)B * T * sizeof(float)))) {
            st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    in = malloc((size_t)B * T * sizeof *in);
    tg = malloc((size_t)B * T * sizeof *tg);
    rowtg = malloc((size_t)B * T * sizeof *rowtg);
    if (!in || !tg || !rowtg) {
        st = lms_errf(err, LMS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < nb; i++) {
        if (domain >= 0 && lms_loader_val_domain(loader, i) != domain) continue;
        if (max_batches > 0 && out->batches >= max_batches) break;
        lms_loader_val_batch(loader, i, in, tg, NULL);
        int rows = lms_loader_val_rows(loader, i);
        for (int j = 0; j < B * T; j++) rowtg[j] = j < rows * T ? tg[j] : -1;
        for (int k = 0; k < n_models; k++) lms_gpt_score(sc[k], in, rowtg, B, T, lp[k], NULL);
        for (int j = 0; j < rows * T; j++) {
            uint32_t id = (uint32_t)tg[j];
            size_t tl = 0, pl = 0;
            const char *tb = lms_tokenizer_token(tok, id, &tl);
            const char *pb = lms_tokenizer_token(tok, (uint32_t)in[j], &pl); /* the token before this target */
            int line_start = (eot >= 0 && in[j] == eot) || lms_tok_ends_space(pb, pl);
            int cls = lms_tok_classify(tb ? tb : "", tl, line_start, eot >= 0 && (int)id == eot);
            lms_tokloss_bin *bins[3] = {&out->all, &out->cls[cls],
                                        freq_rank ? &out->freq[lms_freq_bucket_of(freq_rank[id])] : NULL};
            for (int q = 0; q < 3; q++) {
                if (!bins[q]) continue;
                bins[q]->tokens++;
                for (int k = 0; k < n_models; k++) bins[q]->loss[k] -= lp[k][j];
            }
            out->id_tokens[id]++;
            out->id_loss[id] -= lp[0][j];
        }
        out->batches++;
    }
    if (out->batches == 0) st = lms_errf(err, LMS_ERR_ARG, "no validation batch%s to score", domain >= 0 ? " in that domain" : "");
done:
    for (int k = 0; k < 2; k++) {
        lms_scorer_free(sc[k]);
        free(lp[k]);
    }
    free(in);
    free(tg);
    free(rowtg);
    if (st) lms_tokloss_breakdown_free(out);
    return st;
}

void lms_tokloss_breakdown_free(lms_tokloss_breakdown *b) {
    free(b->id_tokens);
    free(b->id_loss);
    memset(b, 0, sizeof *b);
}

void lms_tokloss_breakdown_extremes(const lms_tokloss_breakdown *b, int64_t min_count, int k, uint32_t *easy,
                                    int *n_easy, uint32_t *hard, int *n_hard) {
    *n_easy = *n_hard = 0;
    if (min_count < 1) min_count = 1;
    for (int id = 0; id < b->V; id++) {
        if (b->id_tokens[id] < min_count) continue;
        double m = b->id_loss[id] / (double)b->id_tokens[id];
        /* easy: ascending mean loss */
        int p = *n_easy < k ? (*n_easy)++ : k;
        if (!(p == k && m >= b->id_loss[easy[k - 1]] / (double)b->id_tokens[easy[k - 1]])) {
            if (p == k) p--;
            while (p > 0 && b->id_loss[easy[p - 1]] / (double)b->id_tokens[easy[p - 1]] > m) easy[p] = easy[p - 1], p--;
            easy[p] = (uint32_t)id;
        }
        p = *n_hard < k ? (*n_hard)++ : k;
        if (!(p == k && m <= b->id_loss[hard[k - 1]] / (double)b->id_tokens[hard[k - 1]])) {
            if (p == k) p--;
            while (p > 0 && b->id_loss[hard[p - 1]] / (double)b->id_tokens[hard[p - 1]] < m) hard[p] = hard[p - 1], p--;
            hard[p] = (uint32_t)id;
        }
    }
}
