/* server.h — the HTTP side of 'serve': libmicrohttpd (one thread per connection) in front of one
 * worker thread that owns the completer, so requests from many clients queue and run one at a
 * time, in arrival order, on the model (whose buffers are not thread-safe).
 *
 *   lms_server_opts o = lms_server_defaults();
 *   o.model = "s3";
 *   lms_server *s;
 *   if (lms_server_start(&s, completer, &o, &err)) return fail(err);
 *   printf("listening on port %d\n", lms_server_port(s));
 *   ... wait for a signal ...
 *   unsigned long long answered = lms_server_stop(s);
 *
 * Routes: GET /v1/models, GET /v1/models/{model}, POST /v1/completions, and vLLM's tokenizer
 * endpoints GET /tokenizer_info, POST /tokenize, POST /detokenize (serve/openai.h; these only read
 * the tokenizer and run on the connection's thread); a known path with another method is 405
 * (with Allow), anything else 404, both with OpenAI's error object. A body longer than max_body is 413 (refused from its Content-Length before it is read,
 * or once it grows past the limit). Everything is answered with Content-Type: application/json.
 * The request's Content-Type is not checked (curl -d sends form encoding).
 *
 * Leaves out: TLS, authentication (it binds 127.0.0.1 unless told otherwise; the Authorization
 * header clients send is ignored), streaming, keep-alive tuning, logging (the CLI prints).
 */
#ifndef LMS_SERVE_SERVER_H
#define LMS_SERVE_SERVER_H

#include <stddef.h>

#include "core/status.h"
#include "serve/complete.h"

typedef struct {
    const char *host;    /* address to bind: an IPv4/IPv6 literal or a name ("127.0.0.1") */
    int port;            /* 0: a free port chosen by the system (lms_server_port says which) */
    const char *model;   /* the name /v1/models lists and requests may give (required) */
    size_t max_body;     /* bytes of a request body, at most (1 MiB) */
    int max_connections; /* connections open at once, at most (32); more wait to be accepted */
    int timeout_s;       /* an idle connection is closed after this many seconds (30) */
} lms_server_opts;

lms_server_opts lms_server_defaults(void);

typedef struct lms_server lms_server; /* opaque */

/* Bind, listen and start serving completer c (which must outlive the server and is used only from
   the server's worker thread until lms_server_stop returns). LMS_ERR_ARG for bad options or a host
   that does not resolve; LMS_ERR_IO when the address cannot be bound (in use, not permitted: the
   message says which); LMS_ERR_NOMEM. Threads inherit the caller's signal mask: block SIGINT and
   SIGTERM before starting and wait for them with sigwait (see cli/cmd_serve.c). */
lms_status lms_server_start(lms_server **out, lms_completer *c, const lms_server_opts *o, lms_err *err);

int lms_server_port(const lms_server *s); /* the port bound */

/* Stop accepting, let the completions in progress and in the queue finish and their answers go out
   (waiting at most 60 s; answers during that time say Connection: close), join every thread, close
   the socket and free s. Returns the requests answered in all (0 for NULL). */
unsigned long long lms_server_stop(lms_server *s);

#endif
