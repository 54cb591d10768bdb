/* train.c — the training loop: open or resume a run directory, step (accumulate, clip, AdamW,
 * schedule), validate, log metrics.jsonl, checkpoint with an atomically moved `latest`, stop
 * cleanly on a signal flag or on a non-finite loss. See train.h for the run directory layout.
 *
 * For the crash tests only: LMSCOPE_TEST_CRASH=<point>:<step> kills the process (SIGKILL) at
 * that point of that step's checkpoint: "metrics" (line written, no checkpoint file yet),
 * "model" (model file written), "optim" (optimizer file written), "latest" (`latest` moved).
 *
 * Leaves out: config parsing (config.c), opening data (train_data.c), the lock and temporaries
 * (run_dir.c), printing (the CLI).
 */
#include "train/train.h"
#include "train/validate.h"

#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/fileio.h"
#include "core/mem.h"
#include "core/rng.h"
#include "core/sysmem.h"
#include "core/timer.h"
#include "dist/dist.h"
#include "kernels/backend.h"
#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "train/run_dir.h"

struct lms_train {
    char dir[LMS_TRAIN_PATH];
    lms_train_config c;
    lms_loader *loader;
    lms_gpt *m;
    lms_adamw *opt;
    lms_rng rng;             /* the trainer's own stream (saved and restored; nothing stochastic uses it yet) */
    int64_t step;            /* optimizer steps done */
    int64_t ckpt_step;       /* step of the newest checkpoint, -1 if none */
    double elapsed;          /* seconds, summed over resumes */
    double flops_per_token;
    int32_t *in, *tg;        /* [B,T] each */
    float last_val;
    int n_domains;
    lms_scorer *scorer;      /* forward-only validation (train/validate.h) */
    double *dom_sum;         /* [n_domains] validation loss sums of the last measurement */
    int64_t *dom_count;      /* [n_domains] tokens in them */
    char latest[LMS_TRAIN_PATH + 64];
    FILE *metrics;
    int lock_fd;             /* flock'd run_dir/lock, -1 until taken */
    char init_hash[65];      /* tokenizer hash the --init model's run recorded */
    int init_has_hash;
    char crash_point[16];    /* LMSCOPE_TEST_CRASH (see the top of this file) */
    int64_t crash_step;
    int rank, n_ranks;       /* MPI data parallelism (c.mpi): this rank of n_ranks; 0 of 1 without */
    int rows;                /* rows of each micro-batch this rank computes: batch / n_ranks */
    int ckpt_ranks;          /* resume: the rank count that wrote the checkpoint (1 before MPI existed) */
};

static void crash_setup(lms_train *t) {
    const char *e = getenv("LMSCOPE_TEST_CRASH");
    long long k;
    t->crash_step = -1;
    if (e && sscanf(e, "%15[a-z]:%lld", t->crash_point, &k) == 2) t->crash_step = k;
}

static void crash_here(const lms_train *t, const char *point) {
    if (t->rank == 0 && t->step == t->crash_step && !strcmp(point, t->crash_point)) raise(SIGKILL);
}

static const char *path_in(const lms_train *t, char *buf, size_t cap, const char *name) {
    return lms_path_join(buf, cap, t->dir, name);
}

/* --device: a model made or loaded on the host moves onto a device table (weights only; the
   optimizer and buffers are created on it afterwards). Nothing to do for the CPU. */
static lms_status to_device(lms_train *t, lms_err *err) {
    if (!t->c.device[0] || !strcmp(t->c.device, "cpu")) return LMS_OK;
    const lms_ops *k = lms_ops_for_device(t->c.device, err);
    if (!k) return err ? err->code : LMS_ERR_UNSUPPORTED;
    lms_gpt *d = NULL;
    lms_status st = lms_gpt_clone_on(&d, t->m, k, 0, err);
    if (st) return st;
    lms_gpt_free(t->m);
    t->m = d;
    return LMS_OK;
}

/* MPI data parallelism runs on the CPU only (kernels/backend.h: lms_backend_check_ranks), checked
   before anything else (data, model, run dir), for the ranks setup_ranks will use: mpi on a job of
   one rank (or before lms_dist_init) trains alone, and may use a device. */
static lms_status check_mpi_device(int mpi, const char *device, lms_err *err) {
    return lms_backend_check_ranks(device, mpi ? lms_dist_size() : 1, err);
}

/* MPI: this process's place in the job (c.mpi), the batch split over ranks, and the default thread
   count shared out among the ranks on one machine (unless mpirun bound each rank to its cores). */
static lms_status setup_ranks(lms_train *t, lms_err *err) {
    t->rank = t->c.mpi ? lms_dist_rank() : 0;
    t->n_ranks = t->c.mpi ? lms_dist_size() : 1;
    t->rows = t->c.batch / t->n_ranks;
    if (t->c.batch % t->n_ranks)
        return lms_errf(err, LMS_ERR_ARG, "--batch %d cannot be split evenly over %d MPI ranks (--batch is the global batch, "
                        "each rank computes batch/ranks rows): give a --batch that is a multiple of %d, or run with another -np",
                        t->c.batch, t->n_ranks, t->n_ranks);
    if (t->n_ranks > 1 && t->c.threads == 0) t->c.threads = lms_dist_default_threads(lms_cpu()->threads);
    return LMS_OK;
}

/* Every rank returns the same status (the lowest failing rank's, message included). */
static lms_status agree(const lms_train *t, lms_status st, lms_err *err) {
    return t->n_ranks > 1 ? lms_dist_agree(st, err) : st;
}

/* Model, optimizer, buffers and threads for a config whose vocab is known. m may be preloaded. */
static lms_status setup_engine(lms_train *t, lms_err *err) {
    lms_status st;
    lms_cpu_set_threads(t->c.threads);
    if (!t->m) {
        st = lms_gpt_create(&t->m, &t->c.model, err);
        if (st) return st;
        lms_gpt_init(t->m, t->c.seed);
    }
    if (t->c.precision == LMS_PRECISION_BF16) { /* checked available by lms_train_config_check */
        st = lms_gpt_set_backend(t->m, lms_ops_bf16(), 0, err);
        if (st) return st;
    }
    if ((st = to_device(t, err))) return st;
    /* the gradient allreduce (lms_train_run) and save_checkpoint's hash hand the model's buffers to
       the MPI layer as host memory: several ranks only on a host-memory backend, which
       check_mpi_device made sure of by the device's name */
    LMS_ASSERT(t->n_ranks == 1 || lms_backend_has(lms_gpt_backend(t->m), LMS_BACKEND_HOST_MEMORY));
    st = lms_gpt_plan(t->m, t->rows, t->c.model.n_ctx, err); /* this rank's rows; the loader's batches stay whole */
    if (st) return st;
    st = lms_scorer_create(&t->scorer, t->m, t->c.batch, t->c.model.n_ctx, err);
    if (st) return st;
    lms_adamw_config ac = {.lr = t->c.lr, .beta1 = t->c.beta1, .beta2 = t->c.beta2, .eps = t->c.eps,
                           .weight_decay = t->c.weight_decay};
    st = lms_adamw_create(&t->opt, t->m, &ac, err);
    if (st) return st;
    size_t n = (size_t)t->c.batch * (size_t)t->c.model.n_ctx;
    t->in = lms_alloc(n * sizeof(int32_t), err);
    t->tg = lms_alloc(n * sizeof(int32_t), err);
    if (!t->in || !t->tg) return err ? err->code : LMS_ERR_NOMEM;
    t->n_domains = lms_loader_num_domains(t->loader);
    t->dom_sum = calloc((size_t)(t->n_domains > 0 ? t->n_domains : 1), sizeof *t->dom_sum);
    t->dom_count = calloc((size_t)(t->n_domains > 0 ? t->n_domains : 1), sizeof *t->dom_count);
    if (!t->dom_sum || !t->dom_count) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    t->flops_per_token = lms_gpt_flops_per_token(&t->c.model, t->c.model.n_ctx);
    lms_rng_seed(&t->rng, t->c.seed ^ 0x7472616e5f726e67ULL);
    return LMS_OK;
}

static lms_status check_vocab(lms_train_config *c, const lms_loader *l, lms_err *err) {
    int lv = lms_loader_vocab_size(l);
    if (c->model.vocab_size == 0) c->model.vocab_size = lv;
    if (c->model.vocab_size < lv)
        return lms_errf(err, LMS_ERR_MISMATCH, "the data holds token ids up to %d but the model's vocab is %d", lv - 1,
                        c->model.vocab_size);
    return LMS_OK;
}

/* eval_batches -1 (auto): at least one validation batch per data domain (the loader orders
   them round-robin), and at least 8 */
static void resolve_eval_batches(lms_train *t) {
    if (t->c.eval_batches >= 1 || !t->loader) return;
    int nd = lms_loader_num_domains(t->loader);
    t->c.eval_batches = nd > 8 ? nd : 8;
}

/* Refuse a plan that cannot fit in memory before allocating it (an already loaded --init or
   resume model's parameters are in memory: they count as available). */
static lms_status check_memory(const lms_train *t, lms_err *err) {
    if (t->c.ignore_memory_check || (t->c.device[0] && strcmp(t->c.device, "cpu"))) return LMS_OK; /* host only */
    lms_sysmem sm;
    lms_sysmem_available(&sm);
    uint64_t need = lms_train_plan_bytes(&t->c), loaded = t->m ? lms_gpt_memory_bytes(t->m).params : 0;
    if (!sm.bytes || need <= loaded || need - loaded <= sm.bytes) return LMS_OK;
    const double G = 1024.0 * 1024.0 * 1024.0;
    const lms_gpt_config *mc = &t->c.model;
    int64_t np = lms_gpt_config_num_params(mc);
    double acts = (double)lms_gpt_activation_bytes(mc, t->c.batch, mc->n_ctx);
    return lms_errf(err, LMS_ERR_ARG,
                    "this model needs about %.1f GiB to train (%.3g parameters: %.1f GiB for weights, gradients and AdamW "
                    "moments; %.1f GiB of activations for --batch %d x --ctx %d) but only %.1f GiB is available (%s); "
                    "use fewer --layers or a smaller --dim, a smaller --batch (with --accum to keep the tokens per step) "
                    "or a shorter --ctx; --ignore-memory-check starts anyway",
                    (double)need / G, (double)np, (double)np * 16 / G, acts / G, t->c.batch, mc->n_ctx,
                    (double)(sm.bytes + loaded) / G, sm.source);
}

/* The checkpoint --init names: a run dir (not a Hugging Face model dir) means its latest one. */
static lms_status init_checkpoint(const char *init, char *out, size_t cap, lms_err *err) {
    char p[LMS_TRAIN_PATH + 64], q[LMS_TRAIN_PATH + 64];
    if (lms_path_is_dir(init) && !lms_path_exists(lms_path_join(p, sizeof p, init, "model.safetensors")) &&
        (lms_path_exists(lms_path_join(p, sizeof p, init, "latest")) || lms_path_is_dir(lms_path_join(q, sizeof q, init, "checkpoints"))))
        return lms_train_latest_checkpoint(init, out, cap, err);
    if ((size_t)snprintf(out, cap, "%s", init) >= cap) return lms_errf(err, LMS_ERR_ARG, "--init path too long");
    return LMS_OK;
}

/* Load the --init model into t->m and take the model shape from it: a set field that differs is
   an error naming both values. Remembers the tokenizer hash an lmscope run recorded in it. */
static lms_status load_init(lms_train *t, lms_err *err) {
    char ck[LMS_TRAIN_PATH + 96];
    lms_status st = init_checkpoint(t->c.init, ck, sizeof ck, err);
    if (!st) st = lms_checkpoint_load(&t->m, ck, err);
    if (st) return lms_err_prefix(err, "--init %s: ", t->c.init);
    const lms_gpt_config *mc = lms_gpt_get_config(t->m);
    lms_gpt_config *w = &t->c.model;
    struct { const char *flag, *what; int *want, have; } f[] = {
        {"--layers", "layers", &w->n_layer, mc->n_layer}, {"--heads", "heads", &w->n_head, mc->n_head},
        {"--dim", "width", &w->n_embd, mc->n_embd},       {"--ctx", "context", &w->n_ctx, mc->n_ctx},
        {"--vocab", "vocabulary", &w->vocab_size, mc->vocab_size}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (*f[i].want && *f[i].want != f[i].have)
            return lms_errf(err, LMS_ERR_ARG, "%s %d contradicts the --init model %s (%s %d): the architecture comes from "
                            "the init model; drop %s", f[i].flag, *f[i].want, ck, f[i].what, f[i].have, f[i].flag);
        *f[i].want = f[i].have;
    }
    lms_checkpoint_kind kind;
    if (lms_checkpoint_detect(ck, &kind, NULL) || kind != LMS_CKPT_LMSCOPE) return LMS_OK;
    char *meta = NULL;
    if ((st = lms_checkpoint_read_metadata(ck, &meta, err))) return lms_err_prefix(err, "--init %s: ", t->c.init);
    json_t *mj = json_loads(meta, 0, NULL);
    json_t *h = json_object_get(json_object_get(mj, "run_config"), "tokenizer_hash");
    if (json_is_string(h) && strlen(json_string_value(h)) < sizeof t->init_hash) {
        strcpy(t->init_hash, json_string_value(h));
        t->init_has_hash = 1;
    }
    json_decref(mj);
    free(meta);
    return LMS_OK;
}

/* Do two tokenizer hashes name the same tokenizer? "" is the byte tokenizer (text data without
   --tokenizer); shards made with the byte tokenizer record its real hash. */
static int same_tokenizer(const char *a, const char *b) {
    if (!strcmp(a, b)) return 1;
    if (a[0] && b[0]) return 0;
    lms_tokenizer *bt = lms_tokenizer_bytes();
    int same = bt && !strcmp(a[0] ? a : b, lms_tokenizer_hash(bt));
    lms_tokenizer_free(bt);
    return same;
}

/* With --init: the data's vocabulary must fit the init model's, and its tokenizer must be the
   one the init model's run recorded. data_vocab: the vocabulary the data needs. */
static lms_status check_init_data(const lms_train *t, int data_vocab, lms_err *err) {
    if (data_vocab > t->c.model.vocab_size)
        return lms_errf(err, LMS_ERR_MISMATCH, "the data's vocabulary (%d tokens) does not fit the --init model %s (vocabulary %d); "
                        "tokenize the data with the init model's tokenizer", data_vocab, t->c.init, t->c.model.vocab_size);
    if (t->init_has_hash && !same_tokenizer(t->init_hash, t->c.tokenizer_hash))
        return lms_errf(err, LMS_ERR_MISMATCH, "the --init model %s was trained with tokenizer %.12s but the data uses %.12s; "
                        "give --data (and --tokenizer) made with the init model's tokenizer",
                        t->c.init, t->init_hash[0] ? t->init_hash : "(bytes)", t->c.tokenizer_hash[0] ? t->c.tokenizer_hash : "(bytes)");
    return LMS_OK;
}

/* Lock the run dir and remove what a killed process left behind. */
static lms_status lock_run(lms_train *t, lms_err *err) {
    lms_status st = lms_run_dir_lock(t->dir, &t->lock_fd, err);
    if (st) return st;
    lms_run_dir_clean_tmp(t->dir);
    return LMS_OK;
}

static lms_status open_metrics(lms_train *t, lms_err *err) {
    char p[LMS_TRAIN_PATH + 64];
    t->metrics = fopen(path_in(t, p, sizeof p, "metrics.jsonl"), "a");
    if (!t->metrics) return lms_errf(err, LMS_ERR_IO, "cannot open %s for appending", p);
    return LMS_OK;
}

lms_status lms_train_open(lms_train **out, const char *run_dir, const lms_train_config *c, lms_loader *loader,
                          lms_err *err) {
    *out = NULL;
    lms_train *t = calloc(1, sizeof *t);
    if (!t) {
        lms_loader_free(loader);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    t->c = *c;
    t->loader = loader;
    t->ckpt_step = -1;
    t->last_val = NAN;
    t->lock_fd = -1;
    crash_setup(t);
    lms_status st = check_mpi_device(c->mpi, c->device, err);
    char p[LMS_TRAIN_PATH + 64];
    if (st) goto fail;
    if (strlen(run_dir) >= sizeof t->dir) {
        st = lms_errf(err, LMS_ERR_ARG, "--out path too long");
        goto fail;
    }
    strcpy(t->dir, run_dir);
    if (loader && t->c.n_data == 0) lms_train_config_add_data(&t->c, "(in memory)", NULL);
    if ((st = lms_train_config_check(&t->c, err))) goto fail;
    if ((st = setup_ranks(t, err))) goto fail;
    char lp[LMS_TRAIN_PATH + 64];
    /* rank 0 alone looks at and writes the run dir: another rank would see rank 0's new config.json */
    if (t->rank == 0 && (lms_path_exists(path_in(t, p, sizeof p, "config.json")) || lms_path_exists(path_in(t, lp, sizeof lp, "latest")))) {
        st = lms_errf(err, LMS_ERR_ARG, "%s already holds a run; continue it with --resume, or pick another --out", run_dir);
        goto fail;
    }
    if (t->c.init[0] && (st = load_init(t, err))) goto fail;
    if (!t->loader) {
        /* with --init, open the data with its own vocabulary, to compare it with the model's below */
        int mv = t->c.model.vocab_size;
        if (t->c.init[0]) t->c.model.vocab_size = 0;
        st = lms_train_open_data(&t->c, &t->loader, err);
        if (t->c.init[0]) t->c.model.vocab_size = mv;
        if (st) goto fail;
    }
    if (t->c.init[0] && (st = check_init_data(t, lms_loader_vocab_size(t->loader), err))) goto fail;
    if ((st = check_vocab(&t->c, t->loader, err))) goto fail;
    if ((st = lms_gpt_config_check(&t->c.model, err))) goto fail;
    lms_train_config_resolve(&t->c);
    resolve_eval_batches(t);
    if ((st = check_memory(t, err))) goto fail;
    /* the model and buffers first: a config too big for memory must not leave a run directory
       behind that then refuses a new start ("already holds a run") and cannot be resumed */
    if ((st = setup_engine(t, err))) goto fail;
    if (t->rank != 0) goto done;
    if ((st = lms_mkdir_p(t->dir, err))) goto fail;
    if ((st = lock_run(t, err))) goto fail;
    /* again under the lock: another start may have won the race since the check above */
    if (lms_path_exists(path_in(t, p, sizeof p, "config.json"))) {
        st = lms_errf(err, LMS_ERR_ARG, "%s already holds a run; continue it with --resume, or pick another --out", run_dir);
        goto fail;
    }
    if ((st = lms_mkdir_p(path_in(t, p, sizeof p, "checkpoints"), err))) goto fail;
    if ((st = lms_file_write_all(path_in(t, p, sizeof p, "metrics.jsonl"), "", 0, err))) goto fail;
    if ((st = lms_train_config_save(&t->c, path_in(t, p, sizeof p, "config.json"), err))) goto fail;
    if ((st = open_metrics(t, err))) goto fail;
done:
    if (c->mpi && (st = lms_dist_agree(LMS_OK, err))) goto fail_agreed;
    *out = t;
    return LMS_OK;
fail:
    if (c->mpi) st = lms_dist_agree(st, err); /* every rank calls it once, failed or not */
fail_agreed:
    lms_train_free(t);
    return st;
}

lms_status lms_train_latest_checkpoint(const char *run_dir, char *out, size_t cap, lms_err *err) {
    char p[LMS_TRAIN_PATH + 64];
    lms_path_join(p, sizeof p, run_dir, "latest");
    char *name = NULL;
    size_t len = 0;
    if (!lms_path_exists(p)) return lms_errf(err, LMS_ERR_IO, "%s has no checkpoint yet (no 'latest' file): it stopped before its first checkpoint; "
                                                       "delete it and start the run again", run_dir);
    lms_status st = lms_file_read_all(p, &name, &len, err);
    if (st) return st;
    while (len && (name[len - 1] == '\n' || name[len - 1] == ' ')) name[--len] = 0;
    if (len == 0 || len > 64 || strncmp(name, "step_", 5) || strchr(name, '/')) {
        free(name);
        return lms_errf(err, LMS_ERR_FORMAT, "%s is damaged (expected a name like step_00001000)", p);
    }
    int n = snprintf(out, cap, "%s/checkpoints/%s.safetensors", run_dir, name);
    free(name);
    if (n < 0 || (size_t)n >= cap) return lms_errf(err, LMS_ERR_ARG, "run dir path too long");
    if (!lms_path_exists(out)) return lms_errf(err, LMS_ERR_IO, "'latest' names %s, which does not exist", out);
    return LMS_OK;
}

/* "step_00000010.safetensors" -> "step_00000010.optim.safetensors" */
static void optim_path(const char *model_path, char *out, size_t cap) {
    size_t n = strlen(model_path) - strlen(".safetensors");
    snprintf(out, cap, "%.*s.optim.safetensors", (int)n, model_path);
}

static int parse_u64(json_t *o, const char *k, uint64_t *v) {
    json_t *x = json_object_get(o, k);
    if (!json_is_string(x)) return -1;
    char *end = NULL;
    *v = strtoull(json_string_value(x), &end, 16);
    return (end == json_string_value(x) || *end) ? -1 : 0;
}

/* Keep metrics.jsonl lines for steps <= step, each step once: a run that died after its last
 * checkpoint logged steps that the resumed run will log again. Rewritten atomically. */
static lms_status truncate_metrics(lms_train *t, int64_t step, lms_err *err) {
    char p[LMS_TRAIN_PATH + 64];
    path_in(t, p, sizeof p, "metrics.jsonl");
    if (!lms_path_exists(p)) return LMS_OK;
    char *data = NULL;
    size_t len = 0;
    lms_status st = lms_file_read_all(p, &data, &len, err);
    if (st) return st;
    char *keep = malloc(len + 1);
    if (!keep) {
        free(data);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    int64_t last = -1;
    for (char *line = data; line < data + len;) {
        char *nl = memchr(line, '\n', (size_t)(data + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(data + len - line);
        json_t *o = json_loadb(line, ll, 0, NULL);
        json_t *s = o ? json_object_get(o, "step") : NULL;
        /* steps in increasing order, each once; a line cut short by a kill does not parse */
        if (json_is_integer(s) && json_integer_value(s) <= step && json_integer_value(s) > last) {
            last = json_integer_value(s);
            memcpy(keep + k, line, ll);
            k += ll;
            keep[k++] = '\n';
        }
        json_decref(o);
        line += ll + 1;
    }
    st = lms_file_write_all(p, keep, k, err);
    free(keep);
    free(data);
    return st;
}

/* The model file, its optimizer file and its name must be of one step: files mixed from two saves
   would resume one step's weights with another step's moments, data position and RNG. */
static lms_status check_same_step(const char *ck, const char *op, int64_t optim_step, lms_err *err) {
    char *meta = NULL;
    lms_status st = lms_checkpoint_read_metadata(ck, &meta, err);
    if (st) return st;
    json_t *mj = json_loads(meta, 0, NULL);
    json_t *js = json_object_get(mj, "train_step");
    char *end = NULL;
    long long ms = json_is_string(js) ? strtoll(json_string_value(js), &end, 10) : -1;
    if (!json_is_string(js) || *end) ms = -1;
    json_decref(mj);
    free(meta);
    const char *base = strrchr(ck, '/');
    long long ns = -1;
    if (!base || sscanf(base, "/step_%lld.", &ns) != 1) ns = -1;
    if (ms != optim_step || ns != optim_step)
        return lms_errf(err, LMS_ERR_FORMAT, "the checkpoint files disagree on the step: %s says train_step %lld, %s says %lld "
                        "(and the name says %lld); they come from different saves. Restore the optimizer file saved with the "
                        "model, or point 'latest' at an older complete checkpoint",
                        ck, ms, op, (long long)optim_step, ns);
    return LMS_OK;
}

lms_status lms_train_resume(lms_train **out, const char *run_dir, int64_t new_steps, const lms_train_config *over,
                            unsigned over_mask, lms_loader *loader, lms_err *err) {
    *out = NULL;
    lms_train *t = calloc(1, sizeof *t);
    if (!t) {
        lms_loader_free(loader);
        return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    }
    t->loader = loader;
    t->last_val = NAN;
    t->lock_fd = -1;
    crash_setup(t);
    lms_status st;
    int mpi = over ? over->mpi : 0;
    char p[LMS_TRAIN_PATH + 64], op[LMS_TRAIN_PATH + 96];
    char *meta = NULL;
    json_t *mj = NULL;
    if ((st = check_mpi_device(mpi, over ? over->device : "", err))) goto fail;
    if (strlen(run_dir) >= sizeof t->dir) {
        st = lms_errf(err, LMS_ERR_ARG, "--out path too long");
        goto fail;
    }
    strcpy(t->dir, run_dir);
    if (!lms_path_exists(path_in(t, p, sizeof p, "config.json"))) {
        st = lms_errf(err, LMS_ERR_ARG, "%s holds no run to resume (no config.json); start one without --resume", run_dir);
        goto fail;
    }
    if (!(mpi && lms_dist_rank() != 0) && (st = lock_run(t, err))) goto fail; /* rank 0 alone writes the run dir */
    if ((st = lms_train_config_load(&t->c, p, err))) goto fail;
    int changed = 0;
    if (new_steps > 0 && new_steps != t->c.steps) t->c.steps = new_steps, changed = 1;
    if (over) {
        if (lms_train_config_apply_over(&t->c, over, over_mask)) changed = 1; /* the fields the table lets --resume change */
        t->c.ignore_memory_check = over->ignore_memory_check;
        memcpy(t->c.device, over->device, sizeof t->c.device);
    }
    t->c.mpi = mpi;
    if ((st = lms_train_config_check(&t->c, err))) goto fail;
    if ((st = setup_ranks(t, err))) goto fail;
    lms_train_config_resolve(&t->c);
    if (!t->loader) {
        lms_train_config c2 = t->c;
        int v = c2.model.vocab_size;
        c2.model.vocab_size = 0;
        if ((st = lms_train_open_data(&c2, &t->loader, err))) goto fail;
        if (strcmp(c2.tokenizer_hash, t->c.tokenizer_hash) || c2.model.vocab_size > v) {
            st = lms_errf(err, LMS_ERR_MISMATCH,
                          "the data or tokenizer changed since this run started (tokenizer hash %.12s now, %.12s in config.json); "
                          "resume with the original data, or start a new run",
                          c2.tokenizer_hash[0] ? c2.tokenizer_hash : "(bytes)",
                          t->c.tokenizer_hash[0] ? t->c.tokenizer_hash : "(bytes)");
            goto fail;
        }
    }
    if ((st = check_vocab(&t->c, t->loader, err))) goto fail;
    resolve_eval_batches(t);
    char ck[LMS_TRAIN_PATH + 96];
    if ((st = lms_train_latest_checkpoint(run_dir, ck, sizeof ck, err))) goto fail;
    if ((st = lms_checkpoint_load(&t->m, ck, err))) goto fail;
    const lms_gpt_config *mc = lms_gpt_get_config(t->m);
    if (mc->n_layer != t->c.model.n_layer || mc->n_head != t->c.model.n_head || mc->n_embd != t->c.model.n_embd ||
        mc->n_ctx != t->c.model.n_ctx || mc->vocab_size != t->c.model.vocab_size) {
        st = lms_errf(err, LMS_ERR_MISMATCH, "%s does not match config.json's model shape", ck);
        goto fail;
    }
    if ((st = check_memory(t, err))) goto fail;
    if ((st = setup_engine(t, err))) goto fail;
    optim_path(ck, op, sizeof op);
    if ((st = lms_adamw_load(op, t->opt, t->m, &meta, err))) goto fail;
    mj = meta ? json_loads(meta, 0, NULL) : NULL;
    json_t *js = mj ? json_object_get(mj, "train_step") : NULL;
    json_t *je = mj ? json_object_get(mj, "elapsed_s") : NULL;
    lms_loader_state ls;
    uint64_t step = 0;
    char key[32];
    int bad = !json_is_string(js) || !json_is_string(je);
    if (!bad) {
        char *end = NULL;
        step = strtoull(json_string_value(js), &end, 10);
        bad = *end != 0;
        t->elapsed = strtod(json_string_value(je), &end);
        bad |= *end != 0;
    }
    for (int i = 0; i < 4 && !bad; i++) {
        snprintf(key, sizeof key, "loader_rng%d", i);
        bad |= parse_u64(mj, key, &ls.rng[i]);
        snprintf(key, sizeof key, "train_rng%d", i);
        bad |= parse_u64(mj, key, &t->rng.s[i]);
    }
    if (!bad) bad = parse_u64(mj, "loader_batches", &ls.batches);
    json_t *jr = mj ? json_object_get(mj, "mpi_ranks") : NULL;
    t->ckpt_ranks = json_is_string(jr) && atoi(json_string_value(jr)) > 0 ? atoi(json_string_value(jr)) : 1;
    if (bad) {
        st = lms_errf(err, LMS_ERR_FORMAT, "%s lacks the trainer state (step, loader, RNG) in its metadata; it was not written by 'lmscope train'",
                      op);
        goto fail;
    }
    if ((st = check_same_step(ck, op, (int64_t)step, err))) goto fail;
    if ((int64_t)step > t->c.steps) {
        st = lms_errf(err, LMS_ERR_ARG, "the run is at step %llu already; give --steps above that to train further",
                      (unsigned long long)step);
        goto fail;
    }
    lms_loader_set_state(t->loader, &ls);
    t->step = t->ckpt_step = (int64_t)step;
    snprintf(t->latest, sizeof t->latest, "%s", ck);
    if (t->rank == 0) {
        if ((st = truncate_metrics(t, t->step, err))) goto fail;
        if (changed && (st = lms_train_config_save(&t->c, path_in(t, p, sizeof p, "config.json"), err))) goto fail;
        if ((st = open_metrics(t, err))) goto fail;
    }
    if (mpi && (st = lms_dist_agree(LMS_OK, err))) goto fail_agreed;
    json_decref(mj);
    free(meta);
    *out = t;
    return LMS_OK;
fail:
    if (mpi) st = lms_dist_agree(st, err); /* every rank calls it once, failed or not */
fail_agreed:
    json_decref(mj);
    free(meta);
    lms_train_free(t);
    return st;
}

static float eval_val_split(lms_train *t);

static float eval_val(lms_train *t) {
    lms_val_result r;
    if (t->n_ranks > 1) return eval_val_split(t);
    if (lms_validate(t->scorer, t->loader, t->c.eval_batches, NULL, &r, NULL) != LMS_OK) return NAN;
    for (int d = 0; d < t->n_domains; d++)
        t->dom_sum[d] = d < r.n_domains ? r.domain[d].loss_sum : 0, t->dom_count[d] = d < r.n_domains ? r.domain[d].tokens : 0;
    float v = r.tokens ? (float)r.loss : NAN;
    lms_val_result_free(&r);
    return v;
}

/* MPI: validation batch i on rank i % n_ranks, the per-domain sums and token counts added over
   ranks (token counts are exact in doubles below 2^53). A rank that fails contributes NaN. */
static float eval_val_split(lms_train *t) {
    lms_val_result r;
    int nd = t->n_domains > 0 ? t->n_domains : 0;
    double *buf = calloc((size_t)(2 * nd + 2), sizeof *buf); /* [domain sums, domain tokens, sum, tokens] */
    if (!buf) return NAN;                                    /* (a few bytes: does not happen) */
    if (lms_validate_part(t->scorer, t->loader, t->c.eval_batches, t->rank, t->n_ranks, NULL, &r, NULL) == LMS_OK) {
        double all = 0;
        for (int d = 0; d < nd && d < r.n_domains; d++) {
            buf[d] = r.domain[d].loss_sum, buf[nd + d] = (double)r.domain[d].tokens;
            all += r.domain[d].loss_sum;
        }
        buf[2 * nd] = all, buf[2 * nd + 1] = (double)r.tokens;
        lms_val_result_free(&r);
    } else buf[2 * nd] = NAN;
    lms_dist_allreduce_f64(buf, (size_t)(2 * nd + 2), LMS_DIST_SUM);
    for (int d = 0; d < nd; d++) t->dom_sum[d] = buf[d], t->dom_count[d] = (int64_t)buf[nd + d];
    float v = buf[2 * nd + 1] > 0 ? (float)(buf[2 * nd] / buf[2 * nd + 1]) : NAN;
    free(buf);
    return v;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Remove all but the newest keep_checkpoints checkpoints (never the one `latest` names, nor with
   save_log_steps the log-spaced ones, which keep_checkpoints does not count). */
static void prune_checkpoints(lms_train *t) {
    char d[LMS_TRAIN_PATH + 64];
    path_in(t, d, sizeof d, "checkpoints");
    DIR *dir = opendir(d);
    if (!dir) return;
    int64_t steps[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < 4096) {
        long long s;
        char tail[64];
        if (sscanf(e->d_name, "step_%lld.%63s", &s, tail) == 2 && !strcmp(tail, "safetensors") &&
            !(t->c.save_log_steps && lms_train_is_log_step(s))) /* log-spaced checkpoints stay */
            steps[n++] = s;
    }
    closedir(dir);
    qsort(steps, (size_t)n, sizeof steps[0], cmp_i64);
    for (int i = 0; i + t->c.keep_checkpoints < n; i++) {
        if (steps[i] == t->ckpt_step) continue;
        char f[LMS_TRAIN_PATH + 128];
        snprintf(f, sizeof f, "%s/step_%08lld.safetensors", d, (long long)steps[i]);
        unlink(f);
        snprintf(f, sizeof f, "%s/step_%08lld.optim.safetensors", d, (long long)steps[i]);
        unlink(f);
    }
}

/* Write the checkpoint files of this step and move `latest` (rank 0's job). */
static lms_status write_checkpoint(lms_train *t, const char *name, const char *mp, lms_err *err) {
    char op[LMS_TRAIN_PATH + 128], lp[LMS_TRAIN_PATH + 64];
    optim_path(mp, op, sizeof op);
    char *cfg = lms_train_config_to_json(&t->c);
    json_t *meta = json_object();
    char buf[64];
    json_t *cj = cfg ? json_loads(cfg, 0, NULL) : NULL;
    json_object_set_new(meta, "run_config", cj ? cj : json_object());
    free(cfg);
    snprintf(buf, sizeof buf, "%lld", (long long)t->step);
    json_object_set_new(meta, "train_step", json_string(buf));
    char *mmeta = json_dumps(meta, JSON_COMPACT);
    lms_status st = lms_checkpoint_save(mp, t->m, mmeta, err); /* any backend: it reads the weights through copies */
    free(mmeta);
    if (st) {
        json_decref(meta);
        return lms_err_prefix(err, "saving checkpoint: ");
    }
    crash_here(t, "model");
    lms_loader_state ls;
    lms_loader_get_state(t->loader, &ls);
    for (int i = 0; i < 4; i++) {
        char key[32];
        snprintf(key, sizeof key, "loader_rng%d", i);
        snprintf(buf, sizeof buf, "%016" PRIx64, ls.rng[i]);
        json_object_set_new(meta, key, json_string(buf));
        snprintf(key, sizeof key, "train_rng%d", i);
        snprintf(buf, sizeof buf, "%016" PRIx64, t->rng.s[i]);
        json_object_set_new(meta, key, json_string(buf));
    }
    snprintf(buf, sizeof buf, "%016" PRIx64, ls.batches);
    json_object_set_new(meta, "loader_batches", json_string(buf));
    snprintf(buf, sizeof buf, "%.17g", t->elapsed);
    json_object_set_new(meta, "elapsed_s", json_string(buf));
    snprintf(buf, sizeof buf, "%d", t->n_ranks);
    json_object_set_new(meta, "mpi_ranks", json_string(buf)); /* metadata values are strings */
    char *ometa = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    st = lms_adamw_save(op, t->opt, t->m, ometa, err);
    free(ometa);
    if (st) return lms_err_prefix(err, "saving optimizer state: ");
    crash_here(t, "optim");
    char line[40];
    int n = snprintf(line, sizeof line, "%s\n", name);
    if ((st = lms_file_write_all(path_in(t, lp, sizeof lp, "latest"), line, (size_t)n, err))) return st;
    crash_here(t, "latest");
    return LMS_OK;
}

/* The parameters as host memory (a host view: a copy for device memory; free *tmp with lms_free). */
static const float *host_params(const lms_train *t, void **tmp, lms_err *err) {
    return lms_backend_read_view(lms_gpt_backend(t->m), lms_gpt_params_const(t->m),
                                 (size_t)lms_gpt_num_params(t->m) * sizeof(float), tmp, err);
}

/* FNV-1a over the parameters' 32-bit words (p: host_params): equal on every rank while data
   parallelism is correct. */
static uint64_t params_hash(const lms_train *t, const float *p) {
    size_t n = (size_t)lms_gpt_num_params(t->m);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, &p[i], sizeof w);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    return h;
}

/* A checkpoint of this step: rank 0 writes it; with MPI every rank first checks that the weights
   are the same everywhere and then learns whether rank 0's writing worked. */
static lms_status save_checkpoint(lms_train *t, lms_err *err) {
    char name[32], mp[LMS_TRAIN_PATH + 96];
    snprintf(name, sizeof name, "step_%08lld", (long long)t->step);
    snprintf(mp, sizeof mp, "%s/checkpoints/%s.safetensors", t->dir, name);
    lms_status st = LMS_OK;
    void *tmp = NULL;
    /* MPI runs only on host-memory backends (check_mpi_device), whose view is the buffer: no
       allocation that could fail on one rank and skip the collective below */
    const float *hp = t->n_ranks > 1 ? host_params(t, &tmp, NULL) : NULL;
    LMS_ASSERT(t->n_ranks == 1 || hp);
    int same = t->n_ranks == 1 || lms_dist_same_u64(params_hash(t, hp));
    lms_free(tmp);
    if (!same)
        return lms_errf(err, LMS_ERR_NUMERIC, "the MPI ranks' weights differ at step %lld (they must stay identical); "
                        "this is a bug in lmscope's data parallelism, please report it; nothing was saved", (long long)t->step);
    if (t->rank == 0) st = write_checkpoint(t, name, mp, err);
    if ((st = agree(t, st, err))) return st;
    t->ckpt_step = t->step;
    snprintf(t->latest, sizeof t->latest, "%s", mp);
    if (t->rank == 0) prune_checkpoints(t);
    return LMS_OK;
}

static lms_status log_metrics_line(lms_train *t, const lms_train_progress *p, lms_err *err);

/* A metrics line (rank 0 writes it; every rank learns whether that worked). */
static lms_status log_metrics(lms_train *t, const lms_train_progress *p, lms_err *err) {
    lms_status st = t->rank == 0 ? log_metrics_line(t, p, err) : LMS_OK;
    return agree(t, st, err);
}

static lms_status log_metrics_line(lms_train *t, const lms_train_progress *p, lms_err *err) {
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(p->step));
    json_object_set_new(o, "tokens", json_integer((json_int_t)p->tokens));
    json_object_set_new(o, "flops", json_real(p->flops));
    json_object_set_new(o, "loss", json_real(p->loss));
    if (!isnan(p->val_loss)) {
        json_object_set_new(o, "val_loss", json_real(p->val_loss));
        if (t->n_domains > 1) {
            json_t *vd = json_object();
            for (int d = 0; d < t->n_domains; d++)
                if (t->dom_count[d])
                    json_object_set_new(vd, lms_loader_domain_name(t->loader, d),
                                        json_real((float)(t->dom_sum[d] / (double)t->dom_count[d])));
            json_object_set_new(o, "val_loss_domains", vd);
        }
    }
    json_object_set_new(o, "lr", json_real(p->lr));
    json_object_set_new(o, "grad_norm", json_real(p->grad_norm));
    json_object_set_new(o, "tokens_per_s", json_real(p->tokens_per_s));
    json_object_set_new(o, "elapsed_s", json_real(p->elapsed_s));
    lms_train_config_put_metrics(o, &t->c); /* the run's LMS_TF_METRICS fields (precision) */
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    int bad = !s || fprintf(t->metrics, "%s\n", s) < 0 || fflush(t->metrics) != 0;
    free(s);
    if (bad) return lms_errf(err, LMS_ERR_IO, "cannot append to %s/metrics.jsonl (disk full?)", t->dir);
    return LMS_OK;
}

static const char *fmt_bad(char *buf, size_t cap, float x) {
    if (isnan(x)) snprintf(buf, cap, "NaN");
    else if (isinf(x)) snprintf(buf, cap, "%sInf", x < 0 ? "-" : "+");
    else snprintf(buf, cap, "%g", (double)x);
    return buf;
}

static lms_status diverged(lms_train *t, const char *what, float value, float loss, lms_err *err) {
    char vb[32], lb[32];
    char last[LMS_TRAIN_PATH + 256];
    if (t->ckpt_step >= 0) snprintf(last, sizeof last, "the last good checkpoint (step %lld) is %s, untouched", (long long)t->ckpt_step, t->latest);
    else snprintf(last, sizeof last, "no checkpoint was written before this step");
    return lms_errf(err, LMS_ERR_NUMERIC,
                    "training diverged at step %lld: %s is %s (loss %s). Likely causes: the learning rate is too high "
                    "(--lr %g; try 3-10x lower), too little warmup (--warmup), or no gradient clipping (--grad-clip). "
                    "The bad state was not saved; %s",
                    (long long)t->step + 1, what, fmt_bad(vb, sizeof vb, value), fmt_bad(lb, sizeof lb, loss), (double)t->c.lr, last);
}

static int64_t first_nonfinite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

/* A finite loss and gradient can still give an update that overflows: never save that state. */
static lms_status check_params(lms_train *t, float loss, lms_err *err) {
    void *hp;
    const float *p = host_params(t, &hp, err);
    if (!p) return err ? lms_err_prefix(err, "checking the parameters: ") : LMS_ERR_NOMEM;
    int64_t bad = first_nonfinite(p, lms_gpt_num_params(t->m));
    float value = bad >= 0 ? p[bad] : 0.0f;
    lms_free(hp);
    if (bad >= 0) {
        t->step--; /* report the step that produced it; the good state is the previous one */
        return diverged(t, "a parameter after the update", value, loss, err);
    }
    return LMS_OK;
}

static lms_status guarded_save(lms_train *t, float loss, lms_err *err) {
    lms_status st = check_params(t, loss, err);
    return st ? st : save_checkpoint(t, err);
}

lms_status lms_train_run(lms_train *t, const lms_train_hooks *hooks, lms_err *err) {
    const lms_train_config *c = &t->c;
    const int B = c->batch, T = c->model.n_ctx;
    const double tokens_per_step = (double)B * T * c->accum;
    lms_schedule sched = lms_train_config_schedule(c);
    double session_t0 = lms_now();
    int64_t session_steps = 0;
    lms_status st;
    lms_cpu_set_threads(c->threads);
    /* save_log_steps: the initial weights are checkpoint 0 */
    if (c->save_log_steps && t->step == 0 && t->ckpt_step < 0 && (st = save_checkpoint(t, err))) return st;
    /* MPI: this rank's rows of every (global) micro-batch */
    const size_t row0 = (size_t)t->rank * (size_t)t->rows * (size_t)T;
    while (t->step < c->steps) {
        /* with several ranks the stop flag is agreed below, after the step (a signal reaches them at different times) */
        if (t->n_ranks == 1 && hooks && hooks->stop && *hooks->stop) break;
        double t0 = lms_now();
        float lr = lms_schedule_lr(&sched, t->step);
        lms_gpt_zero_grad(t->m);
        double loss_sum = 0;
        for (int a = 0; a < c->accum; a++) {
            lms_loader_next(t->loader, t->in, t->tg); /* the whole global batch: the same on every rank */
            float l = lms_gpt_forward(t->m, t->in + row0, t->tg + row0, t->rows, T);
            if (!isfinite(l) && t->n_ranks == 1) return diverged(t, "the loss", l, l, err);
            lms_gpt_backward(t->m, 1.0f / (float)c->accum);
            loss_sum += l;
        }
        float loss = (float)(loss_sum / c->accum);
        int stop_all = 0;
        if (t->n_ranks > 1) {
            /* the mean loss and the stop flag over ranks, then the mean gradient (one call over the
               contiguous buffer); a non-finite loss anywhere makes the global loss non-finite */
            double small[2] = {loss_sum / c->accum, hooks && hooks->stop && *hooks->stop};
            lms_dist_allreduce_f64(small, 2, LMS_DIST_SUM);
            loss = (float)(small[0] / t->n_ranks);
            stop_all = small[1] > 0;
            if (!isfinite(loss)) return diverged(t, "the loss", loss, loss, err);
            lms_dist_allreduce_f32(lms_gpt_grads(t->m), (size_t)lms_gpt_num_params(t->m), LMS_DIST_MEAN);
        }
        float norm = c->grad_clip > 0 ? lms_grad_clip_gpt(t->m, c->grad_clip) : lms_grad_norm_gpt(t->m);
        if (!isfinite(norm)) return diverged(t, "the gradient norm", norm, loss, err);
        lms_adamw_step(t->opt, t->m, lr);
        t->step++;
        double t1 = lms_now();
        lms_train_progress p = {.step = t->step, .steps = c->steps, .loss = loss, .val_loss = NAN, .lr = lr,
                                .grad_norm = norm};
        p.tokens = tokens_per_step * (double)t->step;
        p.flops = p.tokens * t->flops_per_token;
        p.tokens_per_s = t1 > t0 ? tokens_per_step / (t1 - t0) : 0;
        if (t->step % c->eval_interval == 0 || t->step == c->steps) p.val_loss = t->last_val = eval_val(t);
        int stop = t->n_ranks > 1 ? stop_all : hooks && hooks->stop && *hooks->stop;
        int ckpt = (c->ckpt_interval > 0 && t->step % c->ckpt_interval == 0) || t->step == c->steps || stop ||
                   (c->save_log_steps && lms_train_is_log_step(t->step));
        t->elapsed += lms_now() - t0;
        session_steps++;
        p.elapsed_s = t->elapsed;
        p.eta_s = (lms_now() - session_t0) / (double)session_steps * (double)(c->steps - t->step);
        /* a state that is not finite is neither saved nor logged */
        if (ckpt && (st = check_params(t, loss, err))) return st;
        /* the metrics line before the checkpoint: killed in between, the resume (from the previous
           checkpoint) rewrites metrics.jsonl to that step and logs this step again, once */
        if (t->step % c->log_interval == 0 || t->step == c->steps || !isnan(p.val_loss) || stop)
            if ((st = log_metrics(t, &p, err))) return st;
        crash_here(t, "metrics");
        if (ckpt) {
            if ((st = save_checkpoint(t, err))) return st;
            p.checkpointed = 1;
        }
        if (hooks && hooks->progress) hooks->progress(&p, hooks->user);
        if (stop) break;
    }
    if (t->step < c->steps) {
        /* stopped by the flag: make sure the state we stop at is on disk */
        if (t->ckpt_step != t->step && (st = guarded_save(t, NAN, err))) return st;
        return lms_errf(err, LMS_ERR_INTERRUPTED, "interrupted at step %lld of %lld; saved %s", (long long)t->step,
                        (long long)c->steps, t->latest);
    }
    if (t->ckpt_step != t->step && (st = guarded_save(t, NAN, err))) return st;
    return LMS_OK;
}

const lms_train_config *lms_train_get_config(const lms_train *t) { return &t->c; }
int64_t lms_train_step(const lms_train *t) { return t->step; }
lms_gpt *lms_train_model(lms_train *t) { return t->m; }
const char *lms_train_run_dir(const lms_train *t) { return t->dir; }
const char *lms_train_latest(const lms_train *t) { return t->latest; }
float lms_train_last_val_loss(const lms_train *t) { return t->last_val; }
int lms_train_checkpoint_ranks(const lms_train *t) { return t->ckpt_ranks; }

void lms_train_free(lms_train *t) {
    if (!t) return;
    if (t->metrics) fclose(t->metrics);
    if (t->lock_fd >= 0) close(t->lock_fd); /* releases the lock */
    lms_free(t->in);
    lms_free(t->tg);
    free(t->dom_sum);
    free(t->dom_count);
    lms_scorer_free(t->scorer);
    lms_adamw_free(t->opt);
    lms_gpt_free(t->m);
    lms_loader_free(t->loader);
    free(t);
}
