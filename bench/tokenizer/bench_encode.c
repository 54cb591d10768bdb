/* bench_encode.c — lmscope's GPT-2 encoding throughput, single-threaded and with the text split
 * across threads at line boundaries (lms_tokenizer_split_point, which keeps the ids exact). Every timed run starts fresh threads, so each run begins with
 * an empty word cache (no reuse from an earlier run). Writes the ids (uint32 little-endian) for
 * run.sh to compare with tiktoken's, and prints one JSON line per mode.
 *
 *   bench_encode TOKENIZER_DIR TEXT_FILE IDS_OUT [REPEATS=5] [THREADS=2]
 *
 * Leaves out: timing of loading the tokenizer (reported separately as load_s).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/timer.h"
#include "tokenizer/tokenizer.h"

static const lms_tokenizer *g_tok;

typedef struct {
    const char *s;
    size_t n;
    lms_ids ids;
} part;

static void *run_part(void *p) {
    part *a = p;
    lms_err err = {0};
    a->ids.n = 0;
    if (lms_tokenizer_encode(g_tok, a->s, a->n, &a->ids, &err)) {
        fprintf(stderr, "encode: %s\n", err.msg);
        exit(1);
    }
    return NULL;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_encode TOKENIZER_DIR TEXT_FILE IDS_OUT [REPEATS] [THREADS]\n");
        return 2;
    }
    int reps = argc > 4 ? atoi(argv[4]) : 5, nt = argc > 5 ? atoi(argv[5]) : 2;
    if (reps < 1 || nt < 1 || nt > 64) return 2;
    lms_err err = {0};
    lms_tokenizer *t;
    double t0 = lms_now();
    if (lms_tokenizer_load(&t, argv[1], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double load_s = lms_now() - t0;
    g_tok = t;
    char *text;
    size_t n;
    if (lms_file_read_all(argv[2], &text, &n, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    part parts[64];
    size_t ref_n = 0;
    uint32_t *ref = NULL;
    for (int mode = 0; mode < 2; mode++) {
        int k = mode == 0 ? 1 : nt;
        size_t pos = 0;
        for (int i = 0; i < k; i++) {
            size_t end = i == k - 1 ? n : lms_tokenizer_split_point(text, n, pos + (n - pos) / (size_t)(k - i));
            parts[i] = (part){text + pos, end - pos, {0}};
            pos = end;
        }
        double *times = malloc((size_t)reps * sizeof *times);
        for (int r = 0; r < reps; r++) {
            pthread_t th[64];
            double a = lms_now();
            for (int i = 0; i < k; i++) pthread_create(&th[i], NULL, run_part, &parts[i]);
            for (int i = 0; i < k; i++) pthread_join(th[i], NULL);
            times[r] = lms_now() - a;
        }
        size_t total = 0;
        for (int i = 0; i < k; i++) total += parts[i].ids.n;
        int same = 1;
        if (mode == 0) {
            ref = parts[0].ids.ids;
            ref_n = total;
            FILE *f = fopen(argv[3], "wb");
            if (!f || fwrite(ref, 4, ref_n, f) != ref_n || fclose(f)) {
                fprintf(stderr, "cannot write %s\n", argv[3]);
                return 1;
            }
        } else {
            size_t o = 0;
            same = total == ref_n;
            for (int i = 0; i < k && same; i++) {
                same = memcmp(ref + o, parts[i].ids.ids, parts[i].ids.n * 4) == 0;
                o += parts[i].ids.n;
            }
            for (int i = 0; i < k; i++) lms_ids_free(&parts[i].ids);
        }
        qsort(times, (size_t)reps, sizeof *times, cmp_d);
        double med = times[reps / 2];
        printf("{\"impl\": \"lmscope\", \"threads\": %d, \"bytes\": %zu, \"tokens\": %zu, \"median_s\": %.4f, \"min_s\": %.4f, "
               "\"MB_per_s\": %.2f, \"tokens_per_s\": %.0f, \"same_ids_as_1_thread\": %s, \"load_s\": %.3f}\n",
               k, n, total, med, times[0], n / med / 1e6, total / med, same ? "true" : "false", load_s);
        fflush(stdout);
        free(times);
        if (!same) return 1;
    }
    free(ref);
    free(text);
    lms_tokenizer_free(t);
    return 0;
}
