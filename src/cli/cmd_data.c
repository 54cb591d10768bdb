/* cmd_data.c — 'lmscope data': prepare | stats | sample | grep | dedup. Parses flags, calls the
 * library in src/data/, prints for humans. Leaves out all data logic (it lives in src/data/). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/status.h"
#include "data/corpus.h"
#include "data/dedup.h"
#include "data/inspect.h"
#include "data/manifest.h"
#include "data/prepare.h"
#include "tokenizer/tokenizer.h"

static int fail(const char *cmd, const lms_err *err) {
    lms_cli_error(cmd, "%s", err->msg);
    return 1;
}

/* --tokenizer DIR, or "bytes" for the 256-token byte tokenizer. *tok NULL when not given. */
static int load_tok(const char *cmd, const char *spec, lms_tokenizer **tok) {
    *tok = NULL;
    if (!spec) return 0;
    lms_err err = {0};
    if (lms_tokenizer_load(tok, spec, &err)) return fail(cmd, &err);
    return 0;
}

/* With no --tokenizer, a shard dir's own: the directory its manifest names (as given to 'data
   prepare': relative to the working directory or to the shard dir) when it still holds a
   tokenizer with the manifest's hash, as 'train' does. NULL otherwise (the caller's old rule). */
static const char *manifest_tok(const char *cmd, const char *path, char *buf, size_t cap) {
    lms_manifest m;
    lms_err e = {0};
    if (!path || lms_manifest_load(&m, path, &e)) return NULL;
    const char *found = NULL;
    for (int i = 0; i < 2 && !found && m.tokenizer_hash[0] && strcmp(m.tokenizer_name, "bytes"); i++) {
        if (i == 0) snprintf(buf, cap, "%s", m.tokenizer_name);
        else if (m.tokenizer_name[0] == '/') break;
        else snprintf(buf, cap, "%s/%s", path, m.tokenizer_name);
        lms_tokenizer *t = NULL;
        if (lms_tokenizer_load(&t, buf, &e) == LMS_OK) {
            if (!strcmp(lms_tokenizer_hash(t), m.tokenizer_hash)) found = buf;
            lms_tokenizer_free(t);
        }
    }
    lms_manifest_free(&m);
    if (found) fprintf(stderr, "lmscope %s: decoding with the shards' tokenizer %s (from manifest.json)\n", cmd, found);
    return found;
}

/* Print bytes for a terminal line: newlines as ⏎, tabs as spaces, other control bytes as \xNN. */
static void put_flat(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("⏎", stdout);
        else if (c == '\t' || c == '\r') putchar(' ');
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
}

/* A token for a table: 'text' with escapes. */
static void put_token(const lms_tokenizer *tok, uint32_t id) {
    size_t n;
    const char *s = tok ? lms_tokenizer_token(tok, id, &n) : NULL;
    if (!s) {
        printf("#%u", id);
        return;
    }
    putchar('\'');
    int utf8 = lms_utf8_valid_prefix(s, n) == n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\'') fputs("\\'", stdout);
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('\'');
}

static int need_one_path(const char *cmd, int npos, char **pos, const char *what) {
    if (npos != 1) {
        lms_cli_error(cmd, "expected exactly one %s, got %d argument%s (see --help)", what, npos, npos == 1 ? "" : "s");
        return 2;
    }
    (void)pos;
    return 0;
}

/* ---- prepare ---- */
static int cmd_prepare(int argc, char **argv) {
    const char *cmd = "data prepare", *tokdir = NULL, *out = NULL, *text_field = "text", *domain_field = NULL;
    int val_docs = 0, threads = 2, skip_bad = 0;
    double val_fraction = 0.05;
    int64_t shard_tokens = 100000000;
    lms_flag flags[] = {
        {"tokenizer", LMS_FLAG_STR, &tokdir, "tokenizer directory (vocab.json + merges.txt), or 'bytes'; default: byte tokenizer", 0},
        {"out", LMS_FLAG_STR, &out, "output directory for shards + manifest.json (required)", 0},
        {"val-docs", LMS_FLAG_INT, &val_docs, "hold out this many documents per domain for validation (overrides --val-fraction)", 0},
        {"val-fraction", LMS_FLAG_DOUBLE, &val_fraction, "fraction of each domain's text (bytes) held out for validation, in whole documents", 0},
        {"shard-tokens", LMS_FLAG_I64, &shard_tokens, "tokens per shard file", 0},
        {"threads", LMS_FLAG_INT, &threads, "tokenizer threads", 0},
        {"text-field", LMS_FLAG_STR, &text_field, "JSON Lines input: the field holding each document's text", 0},
        {"domain-field", LMS_FLAG_STR, &domain_field, "JSON Lines input: the field naming each document's domain; default: the file's name", 0},
        {"skip-bad-lines", LMS_FLAG_BOOL, &skip_bad, "JSON Lines input: skip bad lines with a warning instead of failing", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd,
                            "Tokenize a corpus (a directory of <domain>.txt files, documents separated by a line\n"
                            "'<|endoftext|>') into llm.c shards <domain>_train_NNNNNN.bin / <domain>_val_NNNNNN.bin\n"
                            "plus manifest.json. Each document is preceded by the EOT token; with the byte tokenizer\n"
                            "(no EOT id) by the bytes of the text '<|endoftext|>'. Validation documents are chosen by a\n"
                            "hash of their text (deterministic). Files that are not UTF-8 text (NUL bytes, invalid\n"
                            "UTF-8) are skipped with a warning. The corpus is streamed (read twice, ~4 MiB at a\n"
                            "time, shards written as the tokens come), so it may be larger than memory.\n"
                            "JSON Lines files (.jsonl, .ndjson; a CORPUS directory's too) hold one document per line,\n"
                            "{\"text\": \"...\"}: the text is trimmed like a .txt document's, the domain is the file's\n"
                            "name or --domain-field's value. A bad line (not JSON, not an object, the field missing or\n"
                            "not a string, over 64 MiB) fails with FILE:LINE before anything is written.\n\n"
                            "usage: lmscope data prepare --out DIR [--tokenizer DIR] CORPUS",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if ((rc = need_one_path(cmd, npos, pos, "corpus directory"))) return rc;
    if (!out) { lms_cli_error(cmd, "--out DIR is required (where the shards go)"); return 2; }
    if (lms_args_seen(flags, "val-docs") && lms_args_seen(flags, "val-fraction")) {
        lms_cli_error(cmd, "give either --val-docs or --val-fraction, not both");
        return 2;
    }
    if (val_docs < 0 || !(val_fraction >= 0 && val_fraction < 1) || shard_tokens < 1 || shard_tokens > 2147483647) {
        lms_cli_error(cmd, "--val-docs must be >= 0, --val-fraction in [0, 1), --shard-tokens in 1..2147483647");
        return 2;
    }
    lms_tokenizer *tok;
    if ((rc = load_tok(cmd, tokdir, &tok))) return rc;
    lms_prepare_config pc = {.tok = tok,
                             .tokenizer_name = tokdir ? tokdir : "bytes",
                             .val_docs = lms_args_seen(flags, "val-docs") ? val_docs : 0,
                             .val_fraction = lms_args_seen(flags, "val-docs") ? 0 : val_fraction,
                             .shard_tokens = (size_t)shard_tokens,
                             .threads = threads,
                             .jsonl = {.text_field = text_field, .domain_field = domain_field, .skip_bad = skip_bad}};
    lms_err err = {0};
    lms_manifest m;
    lms_status st = lms_data_prepare(pos[0], out, &pc, &m, &err);
    lms_tokenizer_free(tok);
    if (st) return fail(cmd, &err);
    printf("%-16s %8s %8s %12s %12s %6s\n", "domain", "train", "val", "train tok", "val tok", "files");
    uint64_t td = 0, vd = 0, tt = 0, vt = 0;
    int nf = 0;
    for (int d = 0; d < m.n_domains; d++) {
        const lms_manifest_domain *md = &m.domains[d];
        printf("%-16s %8llu %8llu %12llu %12llu %6d\n", md->name, (unsigned long long)md->train.docs,
               (unsigned long long)md->val.docs, (unsigned long long)md->train.tokens, (unsigned long long)md->val.tokens,
               md->train.n_files + md->val.n_files);
        td += md->train.docs;
        vd += md->val.docs;
        tt += md->train.tokens;
        vt += md->val.tokens;
        nf += md->train.n_files + md->val.n_files;
    }
    printf("%-16s %8llu %8llu %12llu %12llu %6d\n", "total", (unsigned long long)td, (unsigned long long)vd,
           (unsigned long long)tt, (unsigned long long)vt, nf);
    printf("wrote %s/manifest.json (tokenizer %.12s…, vocabulary %d, shard version %d)\n", out, m.tokenizer_hash,
           m.vocab_size, m.shard_version);
    lms_manifest_free(&m);
    return 0;
}

/* ---- stats ---- */
static int cmd_stats(int argc, char **argv) {
    const char *cmd = "data stats", *tokdir = NULL;
    int top = 10;
    lms_flag flags[] = {
        {"tokenizer", LMS_FLAG_STR, &tokdir, "tokenizer directory or 'bytes' (counts tokens of a corpus; decodes top tokens)", 0},
        {"top", LMS_FLAG_INT, &top, "most frequent tokens shown per domain", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd,
                            "Per-domain documents, bytes, tokens, bytes/token, most frequent tokens and exact duplicate\n"
                            "documents, of a corpus directory or a shard directory (with manifest.json).\n\n"
                            "usage: lmscope data stats [--tokenizer DIR] PATH",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if ((rc = need_one_path(cmd, npos, pos, "corpus or shard directory"))) return rc;
    if (top < 0 || top > 1000) { lms_cli_error(cmd, "--top must be in 0..1000"); return 2; }
    lms_tokenizer *tok;
    char mtok[4096];
    if (!tokdir) tokdir = manifest_tok(cmd, pos[0], mtok, sizeof mtok);
    if ((rc = load_tok(cmd, tokdir, &tok))) return rc;
    lms_err err = {0};
    lms_docset *ds;
    if (lms_docset_open(&ds, pos[0], tok, &err)) { lms_tokenizer_free(tok); return fail(cmd, &err); }
    lms_data_stats s;
    if (lms_data_stats_compute(ds, tok, top, &s, &err)) {
        lms_docset_free(ds);
        lms_tokenizer_free(tok);
        return fail(cmd, &err);
    }
    lms_tokenizer *bytes = (!tok && !lms_docset_is_shards(ds)) || (!tok && lms_docset_has_text(ds)) ? lms_tokenizer_bytes() : NULL;
    const lms_tokenizer *show = tok ? tok : bytes;
    printf("%s: %s, tokens %s\n", pos[0], lms_docset_is_shards(ds) ? "shards" : "corpus",
           s.tokens_from_shards ? "as stored in the shards (separators excluded)"
                                : (tok ? "from the given tokenizer" : "from the byte tokenizer (1 byte = 1 token)"));
    printf("%-16s %9s %12s %12s %8s %9s\n", "domain", "docs", "bytes", "tokens", "B/token", "dup docs");
    for (int d = 0; d <= s.n_domains; d++) {
        const lms_domain_stats *x = d < s.n_domains ? &s.domains[d] : &s.total;
        printf("%-16s %9llu %12llu %12llu %8.3f %9llu\n", x->name, (unsigned long long)x->docs, (unsigned long long)x->bytes,
               (unsigned long long)x->tokens, x->bytes_per_token, (unsigned long long)x->dup_docs);
    }
    if (s.tokens_from_shards) printf("(train/val documents: %llu / %llu)\n", (unsigned long long)s.total.train_docs,
                                     (unsigned long long)s.total.val_docs);
    printf("(dup docs: identical to an earlier document of the same domain; on the total line, of any domain)\n");
    if (top > 0) {
        for (int d = 0; d <= s.n_domains; d++) {
            const lms_domain_stats *x = d < s.n_domains ? &s.domains[d] : &s.total;
            printf("\ntop tokens, %s:", x->name);
            for (int k = 0; k < x->n_top; k++) {
                printf("%s", k % 5 ? "  " : "\n  ");
                put_token(show, x->top[k].id);
                printf(" %.2f%%", x->tokens ? 100.0 * (double)x->top[k].count / (double)x->tokens : 0.0);
            }
            printf("\n");
        }
    }
    lms_data_stats_free(&s);
    lms_docset_free(ds);
    lms_tokenizer_free(tok);
    lms_tokenizer_free(bytes);
    return 0;
}

/* ---- sample ---- */
static int cmd_sample(int argc, char **argv) {
    const char *cmd = "data sample", *tokdir = NULL, *domain = NULL;
    int n = 5, max_bytes = 2000;
    int64_t seed = 1;
    lms_flag flags[] = {
        {"domain", LMS_FLAG_STR, &domain, "domain to sample from (default: all)", 0},
        {"n", LMS_FLAG_INT, &n, "number of documents", 0},
        {"seed", LMS_FLAG_I64, &seed, "random seed (same seed, same documents)", 0},
        {"max-bytes", LMS_FLAG_INT, &max_bytes, "print at most this many bytes per document (0: all)", 0},
        {"tokenizer", LMS_FLAG_STR, &tokdir, "tokenizer to decode shards made with a BPE tokenizer", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd,
                            "Print random documents with their domain and number, from a corpus or a shard directory.\n\n"
                            "usage: lmscope data sample [--domain D] [--n 5] [--seed S] PATH",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if ((rc = need_one_path(cmd, npos, pos, "corpus or shard directory"))) return rc;
    if (n < 0 || max_bytes < 0) { lms_cli_error(cmd, "--n and --max-bytes must be >= 0"); return 2; }
    lms_tokenizer *tok;
    char mtok[4096];
    if (!tokdir) tokdir = manifest_tok(cmd, pos[0], mtok, sizeof mtok);
    if ((rc = load_tok(cmd, tokdir, &tok))) return rc;
    lms_err err = {0};
    lms_docset *ds;
    if (lms_docset_open(&ds, pos[0], tok, &err)) { lms_tokenizer_free(tok); return fail(cmd, &err); }
    if (!lms_docset_has_text(ds)) {
        lms_cli_error(cmd, "the shards in '%s' were made with a BPE tokenizer: pass it with --tokenizer DIR to decode them", pos[0]);
        lms_docset_free(ds);
        lms_tokenizer_free(tok);
        return 1;
    }
    lms_doc_ref *refs = malloc(((size_t)n + 1) * sizeof *refs);
    size_t got = 0;
    lms_status st = refs ? lms_data_sample(ds, domain, (size_t)n, (uint64_t)seed, refs, &got, &err)
                         : lms_errf(&err, LMS_ERR_NOMEM, "out of memory");
    if (st) rc = fail(cmd, &err);
    for (size_t k = 0; k < got; k++) {
        size_t len;
        const char *t = lms_docset_text(ds, refs[k].domain, refs[k].doc, &len);
        size_t line = lms_docset_line(ds, refs[k].domain, refs[k].doc);
        printf("=== %s doc %zu", lms_docset_domain(ds, refs[k].domain), refs[k].doc);
        if (lms_docset_is_shards(ds)) printf(" (%s)", lms_docset_is_val(ds, refs[k].domain, refs[k].doc) ? "val" : "train");
        if (line) printf(" (line %zu)", line);
        printf(", %zu bytes ===\n", len);
        size_t show = max_bytes && len > (size_t)max_bytes ? (size_t)max_bytes : len;
        while (show < len && show > 0 && ((unsigned char)t[show] & 0xC0) == 0x80) show--;
        fwrite(t, 1, show, stdout);
        printf("%s\n\n", show < len ? " [...]" : "");
    }
    free(refs);
    lms_docset_free(ds);
    lms_tokenizer_free(tok);
    return rc;
}

/* ---- grep ---- */
typedef struct {
    const lms_docset *ds;
    int color;
    size_t max, count, docs_seen, last_doc;
    int last_dom;
} grep_ctx;

static int on_match(const lms_grep_match *m, void *user) {
    grep_ctx *g = user;
    if (m->domain != g->last_dom || m->doc != g->last_doc) g->docs_seen++;
    g->last_dom = m->domain;
    g->last_doc = m->doc;
    printf("%s doc %zu", lms_docset_domain(g->ds, m->domain), m->doc);
    if (m->line) printf(" line %zu", m->line);
    printf(": %s", m->ctx_start > 0 ? "…" : "");
    put_flat(m->text + m->ctx_start, m->offset - m->ctx_start);
    printf("%s", g->color ? "\033[1;31m" : "[");
    put_flat(m->text + m->offset, m->len);
    printf("%s", g->color ? "\033[0m" : "]");
    put_flat(m->text + m->offset + m->len, m->ctx_end - m->offset - m->len);
    printf("%s\n", m->ctx_end < m->doc_len ? "…" : "");
    return g->max && ++g->count >= g->max;
}

static int cmd_grep(int argc, char **argv) {
    const char *cmd = "data grep", *tokdir = NULL, *domain = NULL;
    int context = 80, regex = 0, icase = 0, max = 0;
    lms_flag flags[] = {
        {"context", LMS_FLAG_INT, &context, "bytes of context either side of a match", 0},
        {"regex", LMS_FLAG_BOOL, &regex, "the pattern is a PCRE2 regular expression (else a plain substring)", 0},
        {"ignore-case", LMS_FLAG_BOOL, &icase, "case-insensitive match", 0},
        {"domain", LMS_FLAG_STR, &domain, "search only this domain", 0},
        {"max", LMS_FLAG_INT, &max, "stop after this many matches (0: all)", 0},
        {"tokenizer", LMS_FLAG_STR, &tokdir, "tokenizer to decode shards made with a BPE tokenizer", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd,
                            "Find every match of a pattern in a corpus (or decoded shards), with its domain, document\n"
                            "number, line and context. The match is shown in [brackets] (colour on a terminal);\n"
                            "newlines in context show as ⏎.\n\nusage: lmscope data grep PATTERN PATH [--context 80] [--regex]",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos != 2) {
        lms_cli_error(cmd, "expected PATTERN and PATH, got %d argument%s (see --help)", npos, npos == 1 ? "" : "s");
        return 2;
    }
    if (context < 0 || max < 0) { lms_cli_error(cmd, "--context and --max must be >= 0"); return 2; }
    if (!pos[0][0]) { lms_cli_error(cmd, "the search pattern is empty"); return 2; }
    lms_tokenizer *tok;
    char mtok[4096];
    if (!tokdir) tokdir = manifest_tok(cmd, pos[1], mtok, sizeof mtok);
    if ((rc = load_tok(cmd, tokdir, &tok))) return rc;
    lms_err err = {0};
    lms_docset *ds;
    if (lms_docset_open(&ds, pos[1], tok, &err)) { lms_tokenizer_free(tok); return fail(cmd, &err); }
    grep_ctx g = {ds, isatty(1), (size_t)max, 0, 0, (size_t)-1, -1};
    lms_grep_config gc = {pos[0], regex, icase, (size_t)context, domain};
    size_t nm = 0;
    lms_status st = lms_data_grep(ds, &gc, on_match, &g, &nm, &err);
    if (st) rc = fail(cmd, &err);
    else printf("%zu match%s in %zu document%s\n", nm, nm == 1 ? "" : "es", g.docs_seen, g.docs_seen == 1 ? "" : "s");
    lms_docset_free(ds);
    lms_tokenizer_free(tok);
    return rc;
}

/* ---- dedup ---- */
static void put_snippet(const lms_docset *ds, lms_doc_ref r, size_t n) {
    size_t len;
    const char *t = lms_docset_text(ds, r.domain, r.doc, &len);
    size_t show = len > n ? n : len;
    while (show < len && show > 0 && ((unsigned char)t[show] & 0xC0) == 0x80) show--;
    printf("    %s doc %zu: ", lms_docset_domain(ds, r.domain), r.doc);
    put_flat(t, show);
    printf("%s\n", show < len ? "…" : "");
}

static int cmd_dedup(int argc, char **argv) {
    const char *cmd = "data dedup", *tokdir = NULL;
    double threshold = 0.8;
    int num_perm = 128, examples = 10, shingle = 5;
    lms_flag flags[] = {
        {"threshold", LMS_FLAG_DOUBLE, &threshold, "Jaccard similarity of word 5-gram sets for near duplicates", 0},
        {"num-perm", LMS_FLAG_INT, &num_perm, "MinHash signature size (power of two, 16..1024)", 0},
        {"shingle", LMS_FLAG_INT, &shingle, "words per shingle", 0},
        {"examples", LMS_FLAG_INT, &examples, "example pairs shown per kind", 0},
        {"tokenizer", LMS_FLAG_STR, &tokdir, "tokenizer to decode shards made with a BPE tokenizer", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd,
                            "Report exact duplicates (same normalised text) and near duplicates (MinHash over word\n"
                            "5-gram shingles, LSH banding, candidates verified by exact Jaccard >= threshold) per\n"
                            "domain, with example pairs. Reports only: the corpus is not changed.\n\n"
                            "usage: lmscope data dedup [--threshold 0.8] PATH",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if ((rc = need_one_path(cmd, npos, pos, "corpus or shard directory"))) return rc;
    if (!(threshold > 0 && threshold <= 1) || examples < 1 || examples > 10000) {
        lms_cli_error(cmd, "--threshold must be in (0, 1] and --examples in 1..10000");
        return 2;
    }
    lms_tokenizer *tok;
    char mtok[4096];
    if (!tokdir) tokdir = manifest_tok(cmd, pos[0], mtok, sizeof mtok);
    if ((rc = load_tok(cmd, tokdir, &tok))) return rc;
    lms_err err = {0};
    lms_docset *ds;
    if (lms_docset_open(&ds, pos[0], tok, &err)) { lms_tokenizer_free(tok); return fail(cmd, &err); }
    lms_dedup_config dc = {.threshold = threshold, .num_perm = num_perm, .shingle = shingle, .max_examples = examples};
    lms_dedup_result r;
    if (lms_data_dedup(ds, &dc, &r, &err)) {
        lms_docset_free(ds);
        lms_tokenizer_free(tok);
        return fail(cmd, &err);
    }
    printf("%-16s %9s %11s %10s %11s\n", "domain", "docs", "exact dups", "near docs", "near pairs");
    uint64_t docs = 0, nd = 0;
    for (int d = 0; d < r.n_domains; d++) {
        const lms_dedup_domain *x = &r.domains[d];
        printf("%-16s %9llu %11llu %10llu %11llu\n", x->name, (unsigned long long)x->docs, (unsigned long long)x->exact_dups,
               (unsigned long long)x->near_docs, (unsigned long long)x->near_pairs);
        docs += x->docs;
        nd += x->near_docs;
    }
    printf("%-16s %9llu %11llu %10llu %11llu\n", "total", (unsigned long long)docs, (unsigned long long)r.exact_dups,
           (unsigned long long)nd, (unsigned long long)r.near_pairs);
    printf("exact duplicate groups: %llu; near pairs across domains: %llu; LSH %d bands x %d rows, %llu candidate pairs "
           "verified (Jaccard >= %g)%s\n",
           (unsigned long long)r.exact_groups, (unsigned long long)r.cross_domain_pairs, r.bands, r.rows,
           (unsigned long long)r.candidates, threshold, r.truncated ? "; CANDIDATES CAPPED: some pairs missed" : "");
    if (r.n_exact_examples) printf("\nexact duplicates (first, later):\n");
    for (int k = 0; k < r.n_exact_examples; k++) {
        put_snippet(ds, r.exact_examples[k].a, 100);
        put_snippet(ds, r.exact_examples[k].b, 100);
    }
    if (r.n_pairs) printf("\nnear duplicates (highest similarity first):\n");
    for (int k = 0; k < r.n_pairs; k++) {
        printf("  Jaccard %.3f (MinHash estimate %.3f)\n", r.pairs[k].jaccard, r.pairs[k].estimate);
        put_snippet(ds, r.pairs[k].a, 100);
        put_snippet(ds, r.pairs[k].b, 100);
    }
    lms_dedup_result_free(&r);
    lms_docset_free(ds);
    lms_tokenizer_free(tok);
    return 0;
}

int lms_cmd_data(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*fn)(int, char **);
        const char *help;
    } subs[] = {
        {"prepare", cmd_prepare, "tokenize a corpus into train/val shards + manifest.json"},
        {"stats", cmd_stats, "documents, bytes, tokens, top tokens, duplicates per domain"},
        {"sample", cmd_sample, "print random documents"},
        {"grep", cmd_grep, "find a string or regex, with domain, document and context"},
        {"dedup", cmd_dedup, "exact and near-duplicate documents (MinHash + LSH), report only"},
        {"synth", lms_cmd_data_synth, "controlled tasks (addition, copying, chants) with held-out suites"},
    };
    const int ns = (int)(sizeof subs / sizeof subs[0]);
    if (argc >= 2)
        for (int i = 0; i < ns; i++)
            if (!strcmp(argv[1], subs[i].name)) return subs[i].fn(argc - 1, argv + 1);
    int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"));
    FILE *fp = help ? stdout : stderr;
    if (argc >= 2 && !help) fprintf(stderr, "lmscope data: unknown subcommand '%s'\n\n", argv[1]);
    fprintf(fp, "usage: lmscope data <subcommand> [flags] (lmscope data <subcommand> --help)\n\n");
    for (int i = 0; i < ns; i++) fprintf(fp, "  %-8s %s\n", subs[i].name, subs[i].help);
    return help ? 0 : 2;
}
