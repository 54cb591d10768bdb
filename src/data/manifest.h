/* manifest.h — manifest.json: what a directory of token shards holds.
 *
 * Written by 'lmscope data prepare' beside the shards, read by the loader and 'data stats'.
 * Format (format_version 1; all counts are integers):
 *   {
 *     "format": "lmscope-shards", "format_version": 1,
 *     "shard_version": 1,                  // 1: uint16 tokens, 2: uint32 (llm.c .bin layout)
 *     "tokenizer": {"hash": "<sha256 hex>", "vocab_size": 50257, "eot": 50256, "name": "tok/"},
 *     "doc_separator": {"kind": "eot", "tokens": [50256]},     // or "text": see below
 *     "val": {"docs": 0, "fraction": 0.05},                    // the hold-out rule used
 *     "domains": [{"name": "quotes", "source": "quotes.txt", "docs": 120, "bytes": 9000,
 *        "train": {"docs": 114, "bytes": 8500, "tokens": 2100,
 *                  "files": [{"file": "quotes_train_000000.bin", "tokens": 2100}]},
 *        "val":   {"docs": 6, "bytes": 500, "tokens": 130, "files": [...]}}],
 *     "totals": {"docs": ..., "bytes": ..., "train_tokens": ..., "val_tokens": ...}
 *   }
 * Every document in a shard is preceded by the separator tokens (llm.c's convention: EOT before
 * each document). With a tokenizer that has no EOT id (the 256-token byte tokenizer) the separator
 * is the literal text "<|endoftext|>" encoded as bytes: kind "text", "tokens" its ids.
 * "bytes" are UTF-8 bytes of document text (separators excluded); "tokens" include separators.
 *
 * Parsing checks every field's type and range and that file names are plain names inside the
 * directory (no '/', no ".."), so a hostile manifest cannot point the loader elsewhere.
 *
 *   lms_manifest m;
 *   if (lms_manifest_load(&m, "shards", &err)) return err.code;
 *   for (int d = 0; d < m.n_domains; d++) puts(m.domains[d].name);
 *   lms_manifest_free(&m);
 */
#ifndef LMS_DATA_MANIFEST_H
#define LMS_DATA_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define LMS_MANIFEST_FORMAT_VERSION 1
#define LMS_MANIFEST_MAX_SEP 64

typedef struct {
    char *file;      /* plain file name inside the shard directory */
    uint64_t tokens; /* must equal the shard's header count */
} lms_manifest_file;

typedef struct {
    uint64_t docs, bytes, tokens;
    int n_files;
    lms_manifest_file *files;
} lms_manifest_split;

typedef struct {
    char *name;   /* domain name: [A-Za-z0-9_.-]+ */
    char *source; /* corpus file it came from ("" if unknown) */
    uint64_t docs, bytes;
    lms_manifest_split train, val;
} lms_manifest_domain;

typedef struct {
    int format_version;
    int shard_version;          /* 1 or 2 */
    char tokenizer_hash[65];    /* "" if unknown */
    char *tokenizer_name;       /* free text ("bytes", a directory); never NULL after load */
    int vocab_size;             /* > 0 */
    int eot;                    /* -1 if the tokenizer has none */
    int sep_is_text;            /* 0: separator is the EOT token; 1: literal "<|endoftext|>" */
    int n_sep;                  /* separator length in tokens, 1..LMS_MANIFEST_MAX_SEP */
    uint32_t sep[LMS_MANIFEST_MAX_SEP];
    int val_docs;               /* hold-out rule: a fixed count per domain, or ... */
    double val_fraction;        /* ... a fraction (the one not used is 0) */
    int n_domains;
    lms_manifest_domain *domains;
} lms_manifest;

/* Parse manifest JSON text (json[0..len), need not be NUL-terminated). `name` names it in
   messages. On failure *m holds nothing to free. LMS_ERR_FORMAT on anything missing/wrong. */
lms_status lms_manifest_parse(lms_manifest *m, const char *json, size_t len, const char *name,
                              lms_err *err);

/* Read <dir>/manifest.json. LMS_ERR_IO if absent. */
lms_status lms_manifest_load(lms_manifest *m, const char *dir, lms_err *err);

/* Write <dir>/manifest.json crash-safely (totals computed here). */
lms_status lms_manifest_save(const lms_manifest *m, const char *dir, lms_err *err);

/* The domain named `name`, or -1. */
int lms_manifest_find(const lms_manifest *m, const char *name);

/* Free everything the manifest owns (parse/load results and anything the caller malloc'd into
   it with the same layout). Safe on a zeroed struct. */
void lms_manifest_free(lms_manifest *m);

/* Is `name` a safe plain file name (no '/', not "." or "..", no control bytes, 1..255 bytes)? */
int lms_manifest_safe_name(const char *name);

#endif
