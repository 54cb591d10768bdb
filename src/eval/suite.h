/* suite.h — reading probe suites item by item, in bounded memory (docs/formats.md "Probe suites").
 *
 * Two forms, chosen by the file name's extension: JSON Lines (*.jsonl, *.json: one object per
 * line, blank lines skipped) and the Inverse Scaling Prize CSV (*.csv: a header naming the columns
 * prompt, classes, answer_index — others ignored — RFC 4180 quoting with embedded newlines and
 * "" escapes; classes a Python list literal of strings such as "[' gold', ' glib']", single or
 * double quoted, with backslash escapes). Any other extension is read as JSON Lines. A UTF-8 byte
 * order mark at the start of either form is skipped.
 *
 * The reader is an iterator: it holds one line (one CSV record) at a time, so a suite of any size
 * or item count streams in memory bounded by the longest line. A line (record) longer than
 * LMS_SUITE_MAX_LINE bytes is an error, as is a NUL byte inside one. Every error names
 * file:line (the line where the item starts) and what is wrong: bad JSON, not an object, a missing
 * or mistyped field, fewer than 2 choices, an empty choice or target, an answer out of range, an
 * unknown kind, a record cut off by the end of the file, an unclosed CSV quote. Non-regular files
 * (FIFOs, devices, directories) are refused before anything is read, so a FIFO never blocks.
 *
 *   lms_suite *s;
 *   if (lms_suite_open(&s, "data/suites/capitals.jsonl", &err)) return fail(err);
 *   const lms_suite_item *it;
 *   while (lms_suite_next(s, &it, &err) == LMS_OK && it) { ... it->context, it->choices[i] ... }
 *   if (err.code) ...;   // lms_suite_next failed: err.msg says file:line and what
 *   lms_suite_close(s);
 *
 * Choosing suites (suite_select.c): lms_suite_select turns a list such as "all" or
 * "capitals,quote-repetition" (eval's --suites) or "data/suites,extra.csv" (a sweep grid's
 * "suites") into suite file paths; lms_suite_list_dir lists a directory's suites.
 *
 *   lms_suite_list l = {0};
 *   char dir[4096];
 *   lms_suite_default_dir(dir, sizeof dir);
 *   if (lms_suite_select(&l, "all", LMS_SUITE_SPEC_NAMES, dir, &err)) return fail(err);
 *   for (int i = 0; i < l.n; i++) ... l.path[i] ...
 *   lms_suite_list_free(&l);
 *
 * Leaves out: tokenizing and scoring (eval/evaluate.h), writing suites (tools/ builds them).
 */
#ifndef LMS_EVAL_SUITE_H
#define LMS_EVAL_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define LMS_SUITE_MAX_LINE (16u << 20) /* bytes in one JSON line or CSV record */
#define LMS_SUITE_MAX_CHOICES 1024

typedef enum { LMS_SUITE_JSONL = 0, LMS_SUITE_CSV } lms_suite_format;

typedef enum {
    LMS_ITEM_MC = 0, /* choices + answer: summed log-likelihood of each continuation */
    LMS_ITEM_GEN,    /* target: greedy generation (exact match, token edit distance) + its log-prob */
    LMS_ITEM_SEQ     /* target: per-token log-prob and top-1 accuracy of its tokens */
} lms_item_kind;

/* One item. Every string is NUL-terminated and may also contain no NUL (lengths are given; JSON
   "\u0000" is refused). All of it is owned by the reader and valid until the next
   lms_suite_next / lms_suite_close. */
typedef struct {
    lms_item_kind kind;
    int64_t line;            /* 1-based line of the file where the item starts */
    const char *context;     /* "" when empty */
    size_t context_len;
    int n_choices;           /* mc: >= 2; gen/seq: 0 */
    const char **choices;    /* [n_choices], each non-empty */
    const size_t *choice_len;
    int answer;              /* mc: 0 <= answer < n_choices; gen/seq: -1 */
    const char *target;      /* gen/seq: non-empty; mc: NULL */
    size_t target_len;
    const char *meta;        /* the "meta" object as compact JSON text, or NULL */
} lms_suite_item;

typedef struct lms_suite lms_suite; /* opaque */

/* Open a suite file for reading. LMS_ERR_IO (missing, unreadable, not a regular file),
   LMS_ERR_FORMAT (a CSV whose header lacks prompt/classes/answer_index), LMS_ERR_NOMEM.
   *out is NULL on failure. Close with lms_suite_close. */
lms_status lms_suite_open(lms_suite **out, const char *path, lms_err *err);

/* Read from memory (data[len], not copied: it must outlive the reader) in the given format; name
   stands for the file name in messages. For tests and fuzzing. */
lms_status lms_suite_open_mem(lms_suite **out, const void *data, size_t len, lms_suite_format fmt, const char *name,
                              lms_err *err);

/* The next item: *item points to it, or is NULL at the end of the suite (LMS_OK). LMS_ERR_FORMAT
   (the item is bad: err.msg starts with "file:line: "), LMS_ERR_IO (a read error), LMS_ERR_NOMEM;
   after a failure *item is NULL and every later call fails the same way. */
lms_status lms_suite_next(lms_suite *s, const lms_suite_item **item, lms_err *err);

void lms_suite_close(lms_suite *s); /* NULL is fine */

/* The suite's name: the file's base name without its extension ("capitals" for
   data/suites/capitals.jsonl). Lives as long as the reader. */
const char *lms_suite_name(const lms_suite *s);
const char *lms_suite_path(const lms_suite *s);
lms_suite_format lms_suite_get_format(const lms_suite *s);

/* Format by extension: ".csv" (any case) is CSV, anything else JSON Lines. */
lms_suite_format lms_suite_format_of(const char *path);

/* Parse a Python list literal of strings (the ISP "classes" column) from s[len]: '[', zero or more
   '...' or "..." strings separated by commas (a trailing comma allowed), ']', whitespace anywhere
   between. Escapes: \\ \' \" \n \t \r \a \b \f \v \0-\777 (octal) \xHH \uXXXX \UXXXXXXXX
   (as UTF-8), "\<newline>" (nothing); any other \c stays as the two characters (Python's rule).
   A NUL byte (raw or escaped) in a string is an error.
   On success *out is a malloc'd array of *n malloc'd NUL-terminated strings with their lengths in
   *lens (malloc'd); free with lms_suite_free_strings. On failure (LMS_ERR_FORMAT) err.msg says
   what and at which character (no file:line: the caller prefixes it). */
lms_status lms_suite_parse_pylist(const char *s, size_t len, char ***out, size_t **lens, int *n, lms_err *err);
void lms_suite_free_strings(char **v, size_t *lens, int n);

/* ---- choosing suites (suite_select.c) ---- */

/* Suite file paths, malloc'd (path[i] each, and the array); free with lms_suite_list_free. Start
   from {0}; the functions below append. */
typedef struct {
    char **path;
    int n, cap;
} lms_suite_list;

void lms_suite_list_free(lms_suite_list *l); /* frees and zeroes; a zeroed list is fine */

/* Append every suite of dir: the regular files named *.jsonl or *.csv (not starting with '.'),
   sorted by name, as dir/name. LMS_ERR_IO when dir cannot be read, LMS_ERR_NOMEM; a directory
   without suites appends nothing (not an error). */
lms_status lms_suite_list_dir(lms_suite_list *l, const char *dir, lms_err *err);

/* The default suite dir: data/suites in the working directory, else beside the running executable
   or one level up (build/lmscope -> the repository's data/suites). "" when none exists. */
void lms_suite_default_dir(char *out, size_t cap);

/* The two ways a list of suites is written; both separate entries by ',' and skip empty ones. */
typedef enum {
    /* eval's --suites: "all" is every suite in dir; else names in dir ("capitals": dir/capitals.jsonl,
       else dir/capitals.csv) and paths (with a '/' or ending in .jsonl/.csv: as given, else under dir
       when it has no '/'). Spaces before an entry are skipped. A name not found fails with the suites
       dir does hold; a list that names nothing fails. */
    LMS_SUITE_SPEC_NAMES = 0,
    /* a sweep grid's "suites": directories (each one's suites, lms_suite_list_dir) and files, each
       of which must exist; a directory without suites fails; "" names none (not an error). */
    LMS_SUITE_SPEC_PATHS
} lms_suite_spec;

/* Append the suite files spec names, in its order, to *out. dir is where LMS_SUITE_SPEC_NAMES looks
   names up (NULL or "": no suite dir; ignored by LMS_SUITE_SPEC_PATHS). Fails with LMS_ERR_ARG
   (err.msg says which entry and what to give instead) or LMS_ERR_NOMEM; *out then holds what was
   appended before (free it either way). Only the paths' existence is checked, not their contents
   (lms_suite_open reads them). */
lms_status lms_suite_select(lms_suite_list *out, const char *spec, lms_suite_spec form, const char *dir, lms_err *err);

#endif
