/* cmd_tokenizer.c — the 'tokenizer' subcommand: train, encode, decode, show, info.
 *
 *   lmscope tokenizer train --vocab-size 4096 --out tok/ novels.txt speeches.txt
 *   lmscope tokenizer encode --tokenizer tok/ --text "Hello world"     # ids, space-separated
 *   echo "Hello world" | lmscope tokenizer encode --tokenizer tok/     # or --file F, or stdin
 *   lmscope tokenizer decode --tokenizer tests/fixtures/gpt2 15496 995 # ids as arguments or on stdin
 *   lmscope tokenizer show --tokenizer tok/ --text "The capital"       # [The][ capital]
 *   lmscope tokenizer info --tokenizer tok/                             # sizes and hash
 *
 * --tokenizer is a directory with vocab.json + merges.txt (or GPT-2's encoder.json + vocab.bpe),
 * or the word "bytes" for the 256-token byte tokenizer. 'show' alternates ANSI background colours
 * when stdout is a terminal (or with --color) and prints brackets otherwise; inside a token,
 * newlines/tabs print as \n \t and bytes that are only part of a character as \xNN.
 * --file and stdin are streamed (lms_tokenizer_encode_stream: about 1 MiB held, ids printed as
 * they come), so a file larger than memory encodes; the ids are those of the whole text. Both
 * take any bytes, as the tokenizer does: an empty input gives an empty line (0 with --count), NUL
 * bytes are byte tokens like any other. --file must be a regular file (a FIFO would block).
 * Exit status: 0 done; 1 the work failed (unreadable tokenizer or input); 2 bad usage.
 * Leaves out: batch encoding of many files into shards (that is 'lmscope data prepare').
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "tokenizer/tokenizer.h"

static int open_tokenizer(const char *cmd, const char *dir, lms_tokenizer **t) {
    lms_err err = {0};
    if (!dir) {
        lms_cli_error(cmd, "--tokenizer DIR is required (a directory with vocab.json + merges.txt, or 'bytes')");
        return 2;
    }
    if (lms_tokenizer_load(t, dir, &err)) {
        lms_cli_error(cmd, "%s", err.msg);
        return 1;
    }
    return 0;
}

static char *read_stream(FILE *f, size_t *n) {
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    while (b) {
        size_t r = fread(b + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
        if (len == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) { free(b); return NULL; }
            b = nb;
            cap *= 2;
        }
    }
    if (b) b[len] = 0;
    *n = len;
    return b;
}

/* Open --file for streaming. Only regular files: a FIFO would block in open() with no writer
 * (opened non-blocking, then checked), and a directory or device is not text; stdin takes pipes.
 * Returns NULL after printing why. */
static FILE *open_input(const char *cmd, const char *path) {
    FILE *f;
    lms_err err = {0};
    if (lms_fopen_regular(path, &f, &err)) lms_cli_error(cmd, "%s; to encode a stream, pipe it to stdin", err.msg);
    return f;
}

/* What encode/show do with each piece of ids as it comes. */
typedef struct {
    const lms_tokenizer *t;
    int show, ansi, count;
    size_t n; /* ids so far */
} out_ctx;

/* Print a token's bytes for 'show': valid UTF-8 as it is, control characters as \n \t \r or
 * \xNN, bytes that are not UTF-8 on their own (half a character) as \xNN. */
static void print_visible(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        int ok = k > 0 && i + k <= n && !(k == 2 && c < 0xC2);
        for (size_t j = 1; ok && j < k; j++) ok = (s[i + j] & 0xC0) == 0x80;
        if (!ok) {
            printf("\\x%02X", c);
            i++;
        } else if (c == '\n') {
            printf("\\n");
            i++;
        } else if (c == '\t') {
            printf("\\t");
            i++;
        } else if (c == '\r') {
            printf("\\r");
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            printf("\\x%02X", c);
            i++;
        } else {
            fwrite(s + i, 1, k, stdout);
            i += k;
        }
    }
}

static lms_status emit_ids(void *user, const uint32_t *ids, size_t n, lms_err *err) {
    out_ctx *c = user;
    static const int bg[] = {24, 94, 28, 90, 130, 60};
    for (size_t i = 0; i < n && !c->count; i++) {
        if (!c->show) {
            printf(c->n + i ? " %u" : "%u", ids[i]);
            continue;
        }
        size_t l;
        const char *s = lms_tokenizer_token(c->t, ids[i], &l);
        if (c->ansi) printf("\x1b[48;5;%dm\x1b[97m", bg[(c->n + i) % 6]);
        else putchar('[');
        print_visible((const unsigned char *)s, l);
        if (c->ansi) printf("\x1b[0m");
        else putchar(']');
    }
    c->n += n;
    if (ferror(stdout)) return lms_errf(err, LMS_ERR_IO, "writing to stdout failed");
    return LMS_OK;
}

static int cmd_train(int argc, char **argv) {
    const char *cmd = "tokenizer train", *out = NULL, *text_field = "text";
    int64_t vocab = 4096;
    int threads = 0, skip_bad = 0;
    lms_flag flags[] = {
        {"vocab-size", LMS_FLAG_I64, &vocab, "tokens in all: 256 bytes + merges + <|endoftext|> (257..4294967295)", 0},
        {"out", LMS_FLAG_STR, &out, "directory to write vocab.json + merges.txt into (required)", 0},
        {"threads", LMS_FLAG_INT, &threads, "threads for counting words; 0 = all cores", 0},
        {"text-field", LMS_FLAG_STR, &text_field, "JSON Lines input: the field holding each document's text", 0},
        {"skip-bad-lines", LMS_FLAG_BOOL, &skip_bad, "JSON Lines input: skip bad lines with a warning instead of failing", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd,
                            "Train a byte-level BPE tokenizer on text files: tokenizer train [flags] FILES...\n"
                            "Each file is one text; a .jsonl or .ndjson file gives one text per line, the string in its\n"
                            "--text-field, trimmed (a bad line fails with FILE:LINE; lines up to 64 MiB).",
                            flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (!out) {
        lms_cli_error(cmd, "--out DIR is required (where vocab.json + merges.txt go)");
        return 2;
    }
    if (npos == 0) {
        lms_cli_error(cmd, "no training files: list one or more text files after the flags");
        return 2;
    }
    if (vocab < 256 || vocab > 4294967295LL) {
        lms_cli_error(cmd, "--vocab-size %lld is out of range: it must be between 257 (256 byte tokens + <|endoftext|>) and 4294967295 (token ids are uint32); 256 gives the plain byte tokenizer", (long long)vocab);
        return 2;
    }
    lms_tokenizer_train_config c = {.vocab_size = (uint64_t)vocab, .threads = threads,
                                    .jsonl = {.text_field = text_field, .skip_bad = skip_bad}};
    lms_tokenizer *t = NULL;
    lms_err err = {0};
    double t0 = lms_now();
    if (lms_tokenizer_train_files(&t, (const char *const *)pos, npos, &c, &err)) {
        lms_cli_error(cmd, "%s", err.msg);
        return err.code == LMS_ERR_ARG ? 2 : 1;
    }
    double dt = lms_now() - t0;
    if (lms_tokenizer_save(t, out, &err)) {
        lms_cli_error(cmd, "%s", err.msg);
        lms_tokenizer_free(t);
        return 1;
    }
    printf("trained %d tokens (%d merges, <|endoftext|> = %d) on %d file%s in %.2f s\nsaved %s/vocab.json and %s/merges.txt\nhash %s\n",
           lms_tokenizer_vocab_size(t), lms_tokenizer_num_merges(t), lms_tokenizer_eot(t), npos, npos == 1 ? "" : "s", dt,
           out, out, lms_tokenizer_hash(t));
    lms_tokenizer_free(t);
    return 0;
}

static int cmd_encode(int argc, char **argv, int show) {
    const char *cmd = show ? "tokenizer show" : "tokenizer encode";
    const char *dir = NULL, *text = NULL, *file = NULL;
    int eot = 0, color = 0, count = 0;
    lms_flag flags[] = {
        {"tokenizer", LMS_FLAG_STR, &dir, "tokenizer dir (vocab.json + merges.txt), or 'bytes'", 0},
        {"text", LMS_FLAG_STR, &text, "text to encode (else --file, else stdin)", 0},
        {"file", LMS_FLAG_STR, &file, "file to encode", 0},
        {"eot", LMS_FLAG_BOOL, &eot, "read the text <|endoftext|> as the end-of-text token", 0},
        {show ? "color" : "count", LMS_FLAG_BOOL, show ? &color : &count,
         show ? "colour tokens even when stdout is not a terminal" : "print only the number of tokens", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd, show ? "Show how text splits into tokens." : "Encode text to token ids.", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos) {
        lms_cli_error(cmd, "unexpected argument '%s' (quote the text: --text \"...\")", pos[0]);
        return 2;
    }
    if (text && file) {
        lms_cli_error(cmd, "give either --text or --file, not both");
        return 2;
    }
    if (!text && !file && isatty(0)) {
        lms_cli_error(cmd, "no input: give --text \"...\", --file F, or pipe text to stdin");
        return 2;
    }
    lms_tokenizer *t = NULL;
    if ((rc = open_tokenizer(cmd, dir, &t))) return rc;
    FILE *in = text ? NULL : file ? open_input(cmd, file) : stdin;
    if (!text && !in) {
        lms_tokenizer_free(t);
        return 1;
    }
    out_ctx oc = {.t = t, .show = show, .count = count, .ansi = show && (color || (isatty(1) && !getenv("NO_COLOR")))};
    lms_err err = {0};
    int fl = eot ? LMS_TOK_ALLOW_EOT : 0;
    uint64_t bytes = 0;
    lms_status st;
    if (text) { /* already in memory */
        lms_ids ids = {0};
        bytes = strlen(text);
        st = lms_tokenizer_encode_ex(t, text, bytes, fl, &ids, &err);
        if (!st) st = emit_ids(&oc, ids.ids, ids.n, &err);
        lms_ids_free(&ids);
    } else { /* streamed: memory stays about 1 MiB whatever the input's size */
        st = lms_tokenizer_encode_stream(t, in, file ? file : "stdin", fl, 0, emit_ids, &oc, &bytes, &err);
        if (in != stdin) fclose(in);
    }
    if (st) {
        if (!count) printf("\n");
        lms_cli_error(cmd, "%s", err.msg);
        rc = 1;
    } else {
        if (count) printf("%zu\n", oc.n);
        else printf("\n");
        if (show) fprintf(stderr, "%zu tokens, %llu bytes\n", oc.n, (unsigned long long)bytes);
    }
    lms_tokenizer_free(t);
    if (fflush(stdout) != 0) return 1;
    return rc;
}

/* Parse a decimal token id; returns 0 on success. */
static int parse_id(const char *s, uint32_t *id) {
    if (!*s || !isdigit((unsigned char)*s)) return 1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > UINT32_MAX) return 1;
    *id = (uint32_t)v;
    return 0;
}

static int cmd_decode(int argc, char **argv) {
    const char *cmd = "tokenizer decode", *dir = NULL;
    lms_flag flags[] = {
        {"tokenizer", LMS_FLAG_STR, &dir, "tokenizer dir (vocab.json + merges.txt), or 'bytes'", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd, "Decode token ids (arguments, or whitespace-separated on stdin) to text.", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    lms_ids ids = {0};
    lms_err err = {0};
    char *in = NULL;
    if (npos) {
        for (int i = 0; i < npos; i++) {
            uint32_t id;
            if (parse_id(pos[i], &id)) {
                lms_cli_error(cmd, "'%s' is not a token id (a non-negative integer)", pos[i]);
                lms_ids_free(&ids);
                return 2;
            }
            lms_ids_push(&ids, id, &err);
        }
    } else {
        if (isatty(0)) {
            lms_cli_error(cmd, "no ids: give them as arguments or on stdin");
            return 2;
        }
        size_t n;
        in = read_stream(stdin, &n);
        for (char *tokp = in ? strtok(in, " \t\r\n,") : NULL; tokp; tokp = strtok(NULL, " \t\r\n,")) {
            uint32_t id;
            if (parse_id(tokp, &id)) {
                lms_cli_error(cmd, "'%.40s' on stdin is not a token id (a non-negative integer)", tokp);
                free(in);
                lms_ids_free(&ids);
                return 2;
            }
            lms_ids_push(&ids, id, &err);
        }
        free(in);
    }
    lms_tokenizer *t = NULL;
    if ((rc = open_tokenizer(cmd, dir, &t))) {
        lms_ids_free(&ids);
        return rc;
    }
    char *text;
    size_t len;
    if (lms_tokenizer_decode(t, ids.ids, ids.n, &text, &len, &err)) {
        lms_cli_error(cmd, "%s", err.msg);
        rc = 1;
    } else {
        fwrite(text, 1, len, stdout);
        if (isatty(1)) putchar('\n');
        free(text);
    }
    lms_ids_free(&ids);
    lms_tokenizer_free(t);
    if (fflush(stdout) != 0) return 1;
    return rc;
}

static int cmd_info(int argc, char **argv) {
    const char *cmd = "tokenizer info", *dir = NULL;
    lms_flag flags[] = {
        {"tokenizer", LMS_FLAG_STR, &dir, "tokenizer dir (vocab.json + merges.txt), or 'bytes'", 0},
        {0}};
    char **pos;
    int npos;
    int rc = lms_args_parse(cmd, "Print a tokenizer's sizes and hash.", flags, argc, argv, &pos, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    lms_tokenizer *t = NULL;
    if ((rc = open_tokenizer(cmd, dir, &t))) return rc;
    printf("vocab_size %d\nmerges %d\neot %d\nhash %s\n", lms_tokenizer_vocab_size(t), lms_tokenizer_num_merges(t),
           lms_tokenizer_eot(t), lms_tokenizer_hash(t));
    lms_tokenizer_free(t);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: lmscope tokenizer <train|encode|decode|show|info> [flags]\n"
            "  train   train byte-level BPE on text files   (--vocab-size N --out DIR FILES...)\n"
            "  encode  text -> token ids                     (--tokenizer DIR --text S | --file F | stdin)\n"
            "  decode  token ids -> text                     (--tokenizer DIR IDS... | stdin)\n"
            "  show    mark token boundaries in text         (--tokenizer DIR --text S)\n"
            "  info    vocabulary size, merges, hash         (--tokenizer DIR)\n"
            "'lmscope tokenizer <sub> --help' lists every flag.\n");
}

int lms_cmd_tokenizer(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(sub, "encode")) return cmd_encode(argc - 1, argv + 1, 0);
    if (!strcmp(sub, "show")) return cmd_encode(argc - 1, argv + 1, 1);
    if (!strcmp(sub, "decode")) return cmd_decode(argc - 1, argv + 1);
    if (!strcmp(sub, "info")) return cmd_info(argc - 1, argv + 1);
    lms_cli_error("tokenizer", "unknown subcommand '%s'", sub);
    usage(stderr);
    return 2;
}
