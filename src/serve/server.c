/* server.c — libmicrohttpd in front of one worker thread (contracts in server.h).
 *
 * Each connection has its own libmicrohttpd thread, which routes the request, collects the body
 * (up to max_body bytes) and, for a completion, puts a job on a FIFO queue and sleeps until the
 * worker has answered it. The worker is the only thread that touches the completer, so OpenMP
 * keeps one team of threads and the model's buffers are never shared.
 *
 * Leaves out: JSON (openai.c), the completion (complete.c).
 */
#include "serve/server.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "serve/openai.h"

typedef struct job {
    const char *body;
    size_t len;
    char *out; /* the response JSON (malloc'd) */
    size_t out_len;
    int status;
    int done;
    struct job *next;
} job;

struct lms_server {
    lms_completer *c;
    lms_server_opts o;
    char model[256];
    int64_t started;
    int port;
    struct MHD_Daemon *d;
    pthread_t worker;
    int worker_started;
    pthread_mutex_t mu;
    pthread_cond_t work, done; /* a job was queued; a job was answered */
    pthread_cond_t idle;       /* no completion is in flight */
    job *head, *tail;
    int stopping;              /* the worker may end once the queue is empty */
    int draining;              /* no new connections: answer with Connection: close */
    int inflight;              /* POST requests between their first call and their end (completed()) */
    unsigned long long completions, answered;
};

enum { R_COMPLETIONS = 0, R_TOKENIZE, R_DETOKENIZE };
static const char *const post_paths[] = {"/v1/completions", "/tokenize", "/detokenize"};

/* What a connection gathers between the handler's calls. */
typedef struct {
    int route; /* R_* */
    char *buf;
    size_t len, cap;
    int too_big;
} upload;

lms_server_opts lms_server_defaults(void) {
    lms_server_opts o = {.host = "127.0.0.1", .port = 8080, .max_body = 1 << 20, .max_connections = 32, .timeout_s = 30};
    return o;
}

static void *worker_main(void *arg) {
    lms_server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping) pthread_cond_wait(&s->work, &s->mu);
        if (!s->head) break;
        job *j = s->head;
        s->head = j->next;
        if (!s->head) s->tail = NULL;
        unsigned long long n = ++s->completions;
        pthread_mutex_unlock(&s->mu);
        j->status = lms_openai_completions(s->c, s->model, j->body, j->len, n, &j->out, &j->out_len);
        pthread_mutex_lock(&s->mu);
        j->done = 1;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Queue a completion and wait for the worker's answer. */
static void run_job(lms_server *s, job *j) {
    pthread_mutex_lock(&s->mu);
    if (s->tail) s->tail->next = j;
    else s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->work);
    while (!j->done) pthread_cond_wait(&s->done, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* Send body (malloc'd, taken; NULL: a bare 500) with status. */
static enum MHD_Result reply(lms_server *s, struct MHD_Connection *conn, int status, char *body, size_t len,
                             const char *allow) {
    static const char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,"
                              "\"code\":null}}";
    struct MHD_Response *r = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                                  : MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    if (!body) status = 500;
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (allow) MHD_add_response_header(r, "Allow", allow);
    if (__atomic_load_n(&s->draining, __ATOMIC_RELAXED)) MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    __atomic_add_fetch(&s->answered, 1, __ATOMIC_RELAXED);
    return ret;
}

static enum MHD_Result reply_json(lms_server *s, struct MHD_Connection *conn, int status, json_t *o, const char *allow) {
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return reply(s, conn, status, text, text ? strlen(text) : 0, allow);
}

static enum MHD_Result reply_error(lms_server *s, struct MHD_Connection *conn, int status, const char *type,
                                   const char *code, const char *allow, const char *msg) {
    lms_api_error e;
    lms_api_errorf(&e, status, type, NULL, code, "%s", msg);
    return reply_json(s, conn, status, lms_openai_error_json(&e), allow);
}

/* The first call for a request: route it; answer everything but a completion's body right away. */
static enum MHD_Result first_call(lms_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                                  void **con_cls) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    char msg[600];
    if (!strcmp(url, "/v1/models") || !strncmp(url, "/v1/models/", 11)) {
        if (!get) return reply_error(s, conn, 405, "invalid_request_error", "method_not_allowed", "GET",
                                     "this path takes GET");
        int one = url[10] == '/';
        if (one && strcmp(url + 11, s->model)) {
            snprintf(msg, sizeof msg, "The model '%.200s' does not exist; this server serves '%.200s'", url + 11, s->model);
            return reply_error(s, conn, 404, "invalid_request_error", "model_not_found", NULL, msg);
        }
        return reply_json(s, conn, 200, lms_openai_models_json(s->model, s->started, one), NULL);
    }
    if (!strcmp(url, "/tokenizer_info")) {
        if (!get) return reply_error(s, conn, 405, "invalid_request_error", "method_not_allowed", "GET",
                                     "this path takes GET");
        return reply_json(s, conn, 200, lms_openai_tokenizer_info_json(s->c), NULL);
    }
    int route = R_COMPLETIONS;
    while (route <= R_DETOKENIZE && strcmp(url, post_paths[route])) route++;
    if (route > R_DETOKENIZE) {
        snprintf(msg, sizeof msg, "no such path: %.300s (this server has POST /v1/completions, GET /v1/models, "
                 "GET /tokenizer_info, POST /tokenize and POST /detokenize)", url);
        return reply_error(s, conn, 404, "invalid_request_error", "not_found", NULL, msg);
    }
    if (strcmp(method, "POST"))
        return reply_error(s, conn, 405, "invalid_request_error", "method_not_allowed", "POST",
                           "this path takes POST with a JSON body");
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->o.max_body) {
        snprintf(msg, sizeof msg, "the request body is %.30s bytes; this server takes at most %zu (serve --max-body)",
                 cl, s->o.max_body);
        return reply_error(s, conn, 413, "invalid_request_error", "request_too_large", NULL, msg);
    }
    upload *u = calloc(1, sizeof *u);
    if (!u) return MHD_NO;
    u->route = route;
    *con_cls = u;
    pthread_mutex_lock(&s->mu);
    s->inflight++;
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *data, size_t *data_size, void **con_cls) {
    lms_server *s = cls;
    upload *u = *con_cls;
    if (!u) return first_call(s, conn, url, method, con_cls);
    if (*data_size) {
        size_t n = *data_size;
        *data_size = 0;
        if (u->too_big || u->len + n > s->o.max_body) {
            u->too_big = 1; /* keep reading, discarding, then answer 413 */
            return MHD_YES;
        }
        if (u->len + n + 1 > u->cap) {
            size_t cap = (u->len + n + 1) * 2;
            char *nb = realloc(u->buf, cap);
            if (!nb) return MHD_NO;
            u->buf = nb, u->cap = cap;
        }
        memcpy(u->buf + u->len, data, n);
        u->len += n;
        return MHD_YES;
    }
    if (u->too_big) {
        char msg[200];
        snprintf(msg, sizeof msg, "the request body is over %zu bytes (serve --max-body)", s->o.max_body);
        return reply_error(s, conn, 413, "invalid_request_error", "request_too_large", NULL, msg);
    }
    job j = {.body = u->buf ? u->buf : "", .len = u->len};
    if (u->route == R_TOKENIZE) /* the tokenizer is read-only: no need to queue */
        j.status = lms_openai_tokenize(s->c, s->model, j.body, j.len, &j.out, &j.out_len);
    else if (u->route == R_DETOKENIZE)
        j.status = lms_openai_detokenize(s->c, s->model, j.body, j.len, &j.out, &j.out_len);
    else run_job(s, &j);
    return reply(s, conn, j.status, j.out, j.out_len, NULL);
}

/* The end of a request (answer sent, or the connection failed): a POST is no longer in flight. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    lms_server *s = cls;
    upload *u = *con_cls;
    if (!u) return;
    free(u->buf);
    free(u);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    if (--s->inflight == 0) pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

/* A listening socket on host:port; its family into *family. -1 with err filled on failure. */
static int listen_on(const char *host, int port, int *family, lms_err *err) {
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc) {
        lms_errf(err, LMS_ERR_ARG, "cannot resolve host '%s': %s (give an address such as 127.0.0.1)", host,
                 gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) || bind(fd, ai->ai_addr, ai->ai_addrlen) ||
        listen(fd, 64)) {
        int e = errno;
        lms_errf(err, LMS_ERR_IO, "cannot listen on %s port %d: %s%s", host, port, strerror(e),
                 e == EADDRINUSE ? " (another server has it: choose another --port, or 0 for any free one)" :
                 e == EACCES ? " (ports below 1024 need privileges: choose --port 1024 or above)" : "");
        if (fd >= 0) close(fd);
        fd = -1;
    }
    *family = ai->ai_family;
    freeaddrinfo(ai);
    return fd;
}

static int bound_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl)) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

lms_status lms_server_start(lms_server **out, lms_completer *c, const lms_server_opts *o, lms_err *err) {
    *out = NULL;
    if (!o->host || !o->model || !o->model[0] || strlen(o->model) >= 256 || o->port < 0 || o->port > 65535 ||
        o->max_body < 1 || o->max_connections < 1 || o->timeout_s < 1)
        return lms_errf(err, LMS_ERR_ARG, "bad server options (host and a model name of 1-255 bytes required; port "
                        "0-65535; max_body, max_connections and timeout >= 1)");
    lms_server *s = calloc(1, sizeof *s);
    if (!s) return lms_errf(err, LMS_ERR_NOMEM, "out of memory");
    s->c = c;
    s->o = *o;
    snprintf(s->model, sizeof s->model, "%s", o->model);
    s->started = (int64_t)time(NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);
    pthread_cond_init(&s->idle, NULL);
    int family, fd = listen_on(o->host, o->port, &family, err);
    if (fd < 0) {
        lms_server_stop(s);
        return err->code;
    }
    s->port = bound_port(fd);
    if (pthread_create(&s->worker, NULL, worker_main, s)) {
        close(fd);
        lms_server_stop(s);
        return lms_errf(err, LMS_ERR_NOMEM, "cannot start the worker thread");
    }
    s->worker_started = 1;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
                            MHD_OPTION_END);
    if (!s->d) {
        close(fd);
        lms_server_stop(s);
        return lms_errf(err, LMS_ERR_IO, "libmicrohttpd could not start on %s port %d", o->host, o->port);
    }
    *out = s;
    return LMS_OK;
}

int lms_server_port(const lms_server *s) { return s->port; }

/* Stop accepting, then wait (at most LMS_SERVER_DRAIN_S) until every POST request in flight has
   been answered: MHD_stop_daemon alone would close their connections before the answers went out. */
#define LMS_SERVER_DRAIN_S 60
static void drain(lms_server *s) {
    __atomic_store_n(&s->draining, 1, __ATOMIC_RELAXED);
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += LMS_SERVER_DRAIN_S;
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0 && pthread_cond_timedwait(&s->idle, &s->mu, &until) == 0) {}
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET) close(fd); /* ours to close, after the daemon's threads are gone */
}

unsigned long long lms_server_stop(lms_server *s) {
    if (!s) return 0;
    /* connections first: those waiting on a job are answered by the worker, which still runs */
    if (s->d) drain(s);
    if (s->worker_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->worker, NULL);
    }
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->done);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    unsigned long long n = s->answered;
    free(s);
    return n;
}
