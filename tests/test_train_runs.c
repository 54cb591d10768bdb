/* test_train_runs.c — run-directory behaviour of the training library: --init starts from a
 * checkpoint's weights (run dir, lmscope file, llm.c .bin) with the shape, vocabulary and
 * tokenizer checked; save_log_steps keeps steps 0, 1, 2, 4, 8, ... and lms_train_list_checkpoints
 * lists them; the run dir's lock refuses a second trainer; a resume refuses model and optimizer
 * files from different steps; a plan bigger than the available memory is refused before
 * allocating; FIFOs are refused by every reader instead of blocking.
 * Tiny models (1 layer, width 32, context 16) on in-memory byte tokens. The kill -9 tests are in
 * tests/cli/train_crash.sh (they need a process to kill). */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "train_helpers.h"

#include "core/fileio.h"
#include "core/rng.h"
#include "data/loader.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"
#include "train/train.h"

/* ---- helpers: rm_rf, make_tmpdir, the tokens, loader_for/loader_vocab, tiny_config ---- */

typedef struct {
    float loss[64];
    int64_t n;
} recorder;

static void record(const lms_train_progress *p, void *user) {
    recorder *r = user;
    if (p->step < 64) r->loss[p->step] = p->loss;
    r->n++;
}

/* Open a run in run_dir with c and train it to the end; LMS_OK or the failure. */
static lms_status train_to_end(const char *run, const lms_train_config *c, lms_loader *l, recorder *rec, lms_err *err) {
    lms_train *t = NULL;
    lms_status st = lms_train_open(&t, run, c, l, err);
    if (st) return st;
    lms_train_hooks h = {.progress = record, .user = rec};
    st = lms_train_run(t, &h, err);
    lms_train_free(t);
    return st;
}

/* The loss of the model in `path` on the first training batch a loader for c gives. */
static float first_batch_loss(const char *path, const lms_train_config *c) {
    lms_gpt *m = NULL;
    lms_err err = {0};
    if (lms_checkpoint_load(&m, path, &err)) {
        fprintf(stderr, "load %s: %s\n", path, err.msg);
        return NAN;
    }
    lms_loader *l = loader_for(c);
    int n = c->batch * c->model.n_ctx;
    int32_t *in = malloc((size_t)n * sizeof *in), *tg = malloc((size_t)n * sizeof *tg);
    lms_loader_next(l, in, tg);
    float loss = NAN;
    if (lms_gpt_plan(m, c->batch, c->model.n_ctx, &err) == LMS_OK) loss = lms_gpt_forward(m, in, tg, c->batch, c->model.n_ctx);
    free(in);
    free(tg);
    lms_loader_free(l);
    lms_gpt_free(m);
    return loss;
}

/* ---- --init ---- */

/* A new run from a trained run's checkpoint: its first loss is that checkpoint's loss on the same
   batch (the weights really were loaded), far below a fresh model's; the same from an llm.c export
   and from a directory holding model.safetensors. The shape comes from the checkpoint. */
static void test_init_loads_weights(void) {
    char *dir = make_tmpdir();
    char a[128], b[128], ck[512];
    snprintf(a, sizeof a, "%s/a", dir);
    lms_train_config c = tiny_config();
    c.steps = 30;
    recorder ra = {0};
    lms_err err = {0};
    CHECKF(train_to_end(a, &c, loader_for(&c), &ra, &err) == LMS_OK, "%s", err.msg);
    CHECKF(lms_train_latest_checkpoint(a, ck, sizeof ck, &err) == LMS_OK, "%s", err.msg);
    float want = first_batch_loss(ck, &c);
    CHECKF(want < ra.loss[1] - 1.0f, "the trained model's loss %g is not below the fresh one's %g", want, ra.loss[1]);

    /* export the same weights as an llm.c .bin and as <dir>/model.safetensors */
    lms_gpt *m = NULL;
    char bin[160], hfdir[160], hf[200];
    snprintf(bin, sizeof bin, "%s/a.bin", dir);
    snprintf(hfdir, sizeof hfdir, "%s/hf", dir);
    snprintf(hf, sizeof hf, "%s/model.safetensors", hfdir);
    CHECK(lms_checkpoint_load(&m, ck, &err) == LMS_OK);
    CHECK(lms_checkpoint_save_llmc(bin, m, &err) == LMS_OK);
    CHECK(lms_mkdir_p(hfdir, &err) == LMS_OK);
    CHECK(lms_checkpoint_save(hf, m, NULL, &err) == LMS_OK);
    lms_gpt_free(m);

    const char *inits[] = {a, ck, bin, hfdir};
    for (int i = 0; i < 4; i++) {
        lms_train_config cb = tiny_config();
        cb.model = (lms_gpt_config){0}; /* all from the checkpoint */
        cb.steps = 2;
        snprintf(cb.init, sizeof cb.init, "%s", inits[i]);
        snprintf(b, sizeof b, "%s/b%d", dir, i);
        recorder rb = {0};
        lms_train *t = NULL;
        lms_status st = lms_train_open(&t, b, &cb, loader_for(&c), &err);
        CHECKF(st == LMS_OK, "init from %s: %s", inits[i], err.msg);
        if (st) continue;
        const lms_gpt_config *mc = &lms_train_get_config(t)->model;
        CHECK(mc->n_layer == 1 && mc->n_head == 2 && mc->n_embd == 32 && mc->n_ctx == 16 && mc->vocab_size == 256);
        CHECK(lms_train_step(t) == 0);
        lms_train_hooks h = {.progress = record, .user = &rb};
        CHECKF(lms_train_run(t, &h, &err) == LMS_OK, "%s", err.msg);
        CHECKF(rb.loss[1] == want, "init from %s: first loss %.9g, the checkpoint's loss on that batch %.9g", inits[i],
               rb.loss[1], want);
        lms_train_free(t);
        /* config.json records where the weights came from */
        lms_train_config back;
        char cp[200];
        snprintf(cp, sizeof cp, "%s/config.json", b);
        CHECKF(lms_train_config_load(&back, cp, &err) == LMS_OK, "%s", err.msg);
        CHECK(!strcmp(back.init, inits[i]));
    }
    rm_rf(dir);
}

/* Flags that contradict the init model are refused naming both values; so are data whose
   vocabulary does not fit it and data made with another tokenizer than its run recorded. */
static void test_init_checks(void) {
    char *dir = make_tmpdir();
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    lms_train_config c = tiny_config();
    c.steps = 2;
    strcpy(c.tokenizer_hash, "1111111111111111111111111111111111111111111111111111111111111111");
    recorder r = {0};
    lms_err err = {0};
    CHECKF(train_to_end(a, &c, loader_for(&c), &r, &err) == LMS_OK, "%s", err.msg);

    lms_train_config cb = tiny_config();
    cb.model = (lms_gpt_config){0};
    strcpy(cb.init, a);
    strcpy(cb.tokenizer_hash, c.tokenizer_hash);
    lms_train *t = NULL;
    cb.model.n_embd = 64;
    lms_train_config_add_data(&cb, "(in memory)", NULL);
    CHECKF(lms_train_config_check(&cb, &err) == LMS_OK, "%s", err.msg); /* not known to contradict until the model is read */
    CHECK(lms_train_open(&t, b, &cb, loader_for(&c), &err) == LMS_ERR_ARG);
    CHECKF(strstr(err.msg, "--dim 64") && strstr(err.msg, "32"), "%s", err.msg);
    cb.model.n_embd = 0;
    cb.model.n_ctx = 8;
    CHECK(lms_train_open(&t, b, &cb, loader_for(&c), &err) == LMS_ERR_ARG);
    CHECKF(strstr(err.msg, "--ctx 8") && strstr(err.msg, "16"), "%s", err.msg);
    cb.model.n_ctx = 16; /* agreeing flags are fine */
    cb.model.n_layer = 1;

    lms_train_config cv = c;
    cv.model.vocab_size = 300;
    CHECK(lms_train_open(&t, b, &cb, loader_vocab(&cv, 300), &err) == LMS_ERR_MISMATCH);
    CHECKF(strstr(err.msg, "300") && strstr(err.msg, "256"), "%s", err.msg);

    strcpy(cb.tokenizer_hash, "2222222222222222222222222222222222222222222222222222222222222222");
    CHECK(lms_train_open(&t, b, &cb, loader_for(&c), &err) == LMS_ERR_MISMATCH);
    CHECKF(strstr(err.msg, "tokenizer") && strstr(err.msg, "111111111111") && strstr(err.msg, "222222222222"), "%s", err.msg);
    cb.tokenizer_hash[0] = 0; /* bytes */
    CHECK(lms_train_open(&t, b, &cb, loader_for(&c), &err) == LMS_ERR_MISMATCH);
    CHECK(!lms_path_exists(b));

    strcpy(cb.tokenizer_hash, c.tokenizer_hash);
    CHECKF(lms_train_open(&t, b, &cb, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    lms_train_free(t);

    /* a run trained on text without --tokenizer (hash "") and data made with the byte tokenizer
       by name (its real hash) are the same tokenizer */
    char a2[128], b2[128];
    snprintf(a2, sizeof a2, "%s/a2", dir);
    snprintf(b2, sizeof b2, "%s/b2", dir);
    c.tokenizer_hash[0] = 0;
    CHECKF(train_to_end(a2, &c, loader_for(&c), &r, &err) == LMS_OK, "%s", err.msg);
    lms_tokenizer *bt = lms_tokenizer_bytes();
    strcpy(cb.init, a2);
    strcpy(cb.tokenizer_hash, lms_tokenizer_hash(bt));
    lms_tokenizer_free(bt);
    t = NULL;
    CHECKF(lms_train_open(&t, b2, &cb, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    lms_train_free(t);

    /* a missing init model */
    char b3[128];
    snprintf(b3, sizeof b3, "%s/b3", dir);
    snprintf(cb.init, sizeof cb.init, "%s/nothing.safetensors", dir);
    CHECK(lms_train_open(&t, b3, &cb, loader_for(&c), &err) != LMS_OK);
    CHECKF(strstr(err.msg, "--init"), "%s", err.msg);
    rm_rf(dir);
}

/* ---- save_log_steps ---- */

static int list_steps(const char *run, int64_t *steps, int cap) {
    lms_train_checkpoint *v = NULL;
    int n = 0;
    lms_err err = {0};
    if (lms_train_list_checkpoints(run, &v, &n, &err)) {
        fprintf(stderr, "list: %s\n", err.msg);
        return -1;
    }
    for (int i = 0; i < n && i < cap; i++) {
        steps[i] = v[i].step;
        CHECK(v[i].log_step == lms_train_is_log_step(v[i].step));
        CHECK(lms_path_exists(v[i].path));
    }
    free(v);
    return n;
}

static void check_steps(const char *run, const int64_t *want, int nwant, const char *what) {
    int64_t got[64];
    int n = list_steps(run, got, 64);
    int same = n == nwant;
    for (int i = 0; same && i < n; i++) same = got[i] == want[i];
    if (!same) {
        char s[512] = "";
        for (int i = 0; i < n && i < 64; i++) snprintf(s + strlen(s), sizeof s - strlen(s), " %lld", (long long)got[i]);
        CHECKF(same, "%s: checkpoints at steps%s", what, s);
    }
}

/* 20 steps, a checkpoint every 5, keep 2: steps 0, 1, 2, 4, 8, 16 stay besides the regular 15
   and 20; the same when the run is split and resumed; without the flag only 15 and 20. Step 0
   holds the initial weights. */
static void test_save_log_steps(void) {
    CHECK(lms_train_is_log_step(0) && lms_train_is_log_step(1) && lms_train_is_log_step(2) && lms_train_is_log_step(1024));
    CHECK(!lms_train_is_log_step(3) && !lms_train_is_log_step(12) && !lms_train_is_log_step(-4));
    char *dir = make_tmpdir();
    char one[128], two[128], off[128], p[256];
    snprintf(one, sizeof one, "%s/one", dir);
    snprintf(two, sizeof two, "%s/two", dir);
    snprintf(off, sizeof off, "%s/off", dir);
    lms_train_config c = tiny_config();
    c.steps = 20;
    c.ckpt_interval = 5;
    c.keep_checkpoints = 2;
    c.eval_interval = 10;
    c.save_log_steps = 1;
    recorder r = {0};
    lms_err err = {0};
    CHECKF(train_to_end(one, &c, loader_for(&c), &r, &err) == LMS_OK, "%s", err.msg);
    const int64_t want[] = {0, 1, 2, 4, 8, 15, 16, 20};
    check_steps(one, want, 8, "one go");

    c.steps = 10;
    CHECKF(train_to_end(two, &c, loader_for(&c), &r, &err) == LMS_OK, "%s", err.msg);
    const int64_t want10[] = {0, 1, 2, 4, 5, 8, 10};
    check_steps(two, want10, 7, "first half");
    lms_train *t = NULL;
    c.steps = 20;
    CHECKF(lms_train_resume(&t, two, 20, NULL, 0, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    if (t) {
        CHECK(lms_train_get_config(t)->save_log_steps == 1); /* kept in config.json */
        lms_train_hooks h = {.progress = record, .user = &r};
        CHECKF(lms_train_run(t, &h, &err) == LMS_OK, "%s", err.msg);
        lms_train_free(t);
    }
    check_steps(two, want, 8, "split and resumed");

    c.save_log_steps = 0;
    CHECKF(train_to_end(off, &c, loader_for(&c), &r, &err) == LMS_OK, "%s", err.msg);
    const int64_t want_off[] = {15, 20};
    check_steps(off, want_off, 2, "without --save-log-steps");

    /* step 0 is the initial weights */
    lms_gpt *m0 = NULL, *ref = NULL;
    snprintf(p, sizeof p, "%s/checkpoints/step_00000000.safetensors", one);
    CHECK(lms_checkpoint_load(&m0, p, &err) == LMS_OK);
    CHECK(lms_gpt_create(&ref, &c.model, &err) == LMS_OK);
    if (m0 && ref) {
        lms_gpt_init(ref, c.seed);
        CHECK(memcmp(lms_gpt_params(m0), lms_gpt_params(ref), (size_t)lms_gpt_num_params(ref) * sizeof(float)) == 0);
    }
    lms_gpt_free(m0);
    lms_gpt_free(ref);

    /* listing: temporaries and optimizer files are not checkpoints; a dir without checkpoints/ fails */
    snprintf(p, sizeof p, "%s/checkpoints/step_00000003.safetensors.tmp.123", one);
    CHECK(lms_file_write_all(p, "x", 1, &err) == LMS_OK);
    check_steps(one, want, 8, "with a temporary");
    lms_train_checkpoint *v = NULL;
    int n = 5;
    CHECK(lms_train_list_checkpoints(dir, &v, &n, &err) == LMS_ERR_IO && n == 0 && v == NULL);
    rm_rf(dir);
}

/* ---- lock, optimizer step, memory ---- */

/* While one trainer has the run dir, a resume of it, or a new start in it, is refused. */
static void test_lock(void) {
    char *dir = make_tmpdir();
    char a[128], lp[160];
    snprintf(a, sizeof a, "%s/a", dir);
    lms_train_config c = tiny_config();
    c.steps = 4;
    lms_err err = {0};
    lms_train *t = NULL, *t2 = NULL;
    CHECKF(lms_train_open(&t, a, &c, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    CHECK(lms_train_resume(&t2, a, 0, NULL, 0, loader_for(&c), &err) == LMS_ERR_IO);
    CHECKF(strstr(err.msg, "in use"), "%s", err.msg);
    lms_train_hooks h = {0};
    CHECK(lms_train_run(t, &h, &err) == LMS_OK);
    CHECK(lms_train_resume(&t2, a, 8, NULL, 0, loader_for(&c), &err) == LMS_ERR_IO);
    lms_train_free(t);
    CHECKF(lms_train_resume(&t2, a, 8, NULL, 0, loader_for(&c), &err) == LMS_OK, "after the first let go: %s", err.msg);
    lms_train_free(t2);

    /* two new starts racing: the second finds the lock taken after its own checks passed */
    char b[128];
    snprintf(b, sizeof b, "%s/b", dir);
    CHECK(lms_mkdir_p(b, &err) == LMS_OK);
    snprintf(lp, sizeof lp, "%s/lock", b);
    int fd = open(lp, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
    CHECK(lms_train_open(&t, b, &c, loader_for(&c), &err) == LMS_ERR_IO);
    CHECKF(strstr(err.msg, "in use"), "%s", err.msg);
    snprintf(lp, sizeof lp, "%s/config.json", b);
    CHECK(!lms_path_exists(lp));
    close(fd);
    CHECKF(lms_train_open(&t, b, &c, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    lms_train_free(t);
    rm_rf(dir);
}

static int copy_file(const char *from, const char *to) {
    char *d = NULL;
    size_t n = 0;
    if (lms_file_read_all(from, &d, &n, NULL)) return -1;
    int r = lms_file_write_all(to, d, n, NULL);
    free(d);
    return r;
}

/* An optimizer file from another step next to the model file is refused on resume. */
static void test_optim_step_mismatch(void) {
    char *dir = make_tmpdir();
    char a[128], o5[256], o10[256];
    snprintf(a, sizeof a, "%s/a", dir);
    lms_train_config c = tiny_config();
    c.steps = 10;
    c.ckpt_interval = 5;
    c.keep_checkpoints = 3;
    recorder r = {0};
    lms_err err = {0};
    CHECKF(train_to_end(a, &c, loader_for(&c), &r, &err) == LMS_OK, "%s", err.msg);
    snprintf(o5, sizeof o5, "%s/checkpoints/step_00000005.optim.safetensors", a);
    snprintf(o10, sizeof o10, "%s/checkpoints/step_00000010.optim.safetensors", a);
    CHECK(copy_file(o5, o10) == 0);
    lms_train *t = NULL;
    CHECK(lms_train_resume(&t, a, 20, NULL, 0, loader_for(&c), &err) == LMS_ERR_FORMAT);
    CHECKF(strstr(err.msg, "train_step 10") && strstr(err.msg, "says 5"), "%s", err.msg);
    CHECK(t == NULL);
    rm_rf(dir);
}

/* A plan bigger than the available memory is refused before anything is allocated or written,
   with the estimate in GiB; ignore_memory_check starts anyway. */
static void test_memory_check(void) {
    char *dir = make_tmpdir();
    char a[128];
    snprintf(a, sizeof a, "%s/a", dir);
    lms_train_config c = tiny_config();
    uint64_t need = lms_train_plan_bytes(&c);
    uint64_t np = (uint64_t)lms_gpt_config_num_params(&c.model);
    CHECK(need >= 16 * np + lms_gpt_activation_bytes(&c.model, c.batch, c.model.n_ctx));
    setenv("LMSCOPE_MEM_AVAILABLE", "100K", 1);
    lms_err err = {0};
    lms_train *t = NULL;
    CHECK(lms_train_open(&t, a, &c, loader_for(&c), &err) == LMS_ERR_ARG);
    CHECKF(strstr(err.msg, "GiB") && strstr(err.msg, "--ignore-memory-check"), "%s", err.msg);
    CHECK(!lms_path_exists(a));
    c.ignore_memory_check = 1;
    CHECKF(lms_train_open(&t, a, &c, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    lms_train_hooks h = {0};
    CHECK(t && lms_train_run(t, &h, &err) == LMS_OK);
    lms_train_free(t);
    t = NULL;
    CHECK(lms_train_resume(&t, a, 14, NULL, 0, loader_for(&c), &err) == LMS_ERR_ARG); /* resume checks too */
    lms_train_config over = c; /* ignore_memory_check 1 */
    CHECKF(lms_train_resume(&t, a, 14, &over, 0, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    lms_train_free(t);
    char big[32];
    snprintf(big, sizeof big, "%lluK", (unsigned long long)(need / 1024 + 64));
    setenv("LMSCOPE_MEM_AVAILABLE", big, 1); /* just enough */
    c.ignore_memory_check = 0;
    t = NULL;
    snprintf(a, sizeof a, "%s/b", dir);
    CHECKF(lms_train_open(&t, a, &c, loader_for(&c), &err) == LMS_OK, "%s", err.msg);
    lms_train_free(t);
    unsetenv("LMSCOPE_MEM_AVAILABLE");
    rm_rf(dir);
}

/* ---- non-regular files ---- */

static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "test_train_runs: a reader blocked on a FIFO\n";
    if (write(2, m, sizeof m - 1)) {}
    _exit(1);
}

/* A FIFO given as a text, model, tokenizer or shard file is refused at once, not waited on. */
static void test_fifo_refused(void) {
    signal(SIGALRM, on_alarm);
    alarm(20);
    char *dir = make_tmpdir();
    char f[128], tokdir[128], p[200];
    snprintf(f, sizeof f, "%s/fifo", dir);
    CHECK(mkfifo(f, 0644) == 0);
    lms_err err = {0};
    char *d = NULL;
    size_t n;
    CHECK(lms_file_read_all(f, &d, &n, &err) == LMS_ERR_IO);
    CHECKF(strstr(err.msg, "FIFO"), "%s", err.msg);
    lms_mmap mp;
    CHECK(lms_mmap_open(&mp, f, &err) == LMS_ERR_IO);
    int fd;
    CHECK(lms_open_regular(f, &fd, &err) == LMS_ERR_IO);
    CHECK(lms_open_regular(dir, &fd, &err) == LMS_ERR_IO && strstr(err.msg, "directory"));
    lms_gpt *m = NULL;
    CHECK(lms_checkpoint_load(&m, f, &err) == LMS_ERR_IO);
    CHECKF(strstr(err.msg, "FIFO"), "%s", err.msg);
    snprintf(p, sizeof p, "%s/x.bin", dir); /* llm.c by its name: mapped, not detected */
    CHECK(mkfifo(p, 0644) == 0);
    CHECK(lms_checkpoint_load(&m, p, &err) == LMS_ERR_IO);
    snprintf(tokdir, sizeof tokdir, "%s/tok", dir);
    CHECK(lms_mkdir_p(tokdir, &err) == LMS_OK);
    snprintf(p, sizeof p, "%s/vocab.json", tokdir);
    CHECK(mkfifo(p, 0644) == 0);
    snprintf(p, sizeof p, "%s/merges.txt", tokdir);
    CHECK(lms_file_write_all(p, "#version: 0.2\n", 14, &err) == LMS_OK);
    lms_tokenizer *tok = NULL;
    CHECK(lms_tokenizer_load(&tok, tokdir, &err) != LMS_OK);
    lms_train_config c = tiny_config();
    CHECK(lms_train_config_add_data(&c, f, &err) == LMS_OK);
    lms_loader *l = NULL;
    CHECK(lms_train_open_data(&c, &l, &err) == LMS_ERR_IO);
    CHECKF(strstr(err.msg, "FIFO"), "%s", err.msg);
    alarm(0);
    rm_rf(dir);
}

TESTS(test_init_loads_weights, test_init_checks, test_save_log_steps, test_lock, test_optim_step_mismatch,
      test_memory_check, test_fifo_refused)
