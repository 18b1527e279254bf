/* server: the HTTP/1.1 server core under every C service.
 *
 * One worker thread per CPU the process may use, each pinned, each with its own event loop and
 * (by default) its own SO_REUSEPORT listener. A connection reads until the socket is drained,
 * answers every complete pipelined request in the buffer, and writes all answers with one
 * send(). Routing, 404/405, body limits (413), malformed requests (400/431), request and idle
 * timeouts (408) and graceful stop live here, so a service is a table of routes and handlers,
 * its flags, and the state each worker keeps for its handlers (made by worker_init on the
 * worker's thread, handed to every handler it runs, freed by worker_done: as h2o's context).
 *
 * Every service answers GET /metrics on its own port (telemetry/metrics.h: the core counts
 * requests, durations, bytes and connections per worker; /metrics and /health are not
 * counted), and with a metrics port (grpc's --metrics-port), on that port too, over HTTP/1.1,
 * with GET /health. */
#ifndef SB_SERVE_SERVER_H
#define SB_SERVE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/opt.h"
#include "http/http1.h"
#include "telemetry/metrics.h"
#include "telemetry/trace.h"

typedef struct server_conn server_conn_t;

/* The request, valid only while its handler runs: the buffer it points into is reused
 * (copy what an answer given later needs). */
typedef struct {
    const http_msg_t *msg;
    char *body;        /* the whole body, de-chunked, writable in place */
    size_t body_len;
} server_req_t;

/* A handler answers a request with server_respond* (now or, after server_defer, later).
 * state: what the service's worker_init returned for the worker running it (NULL when the
 * service has none). */
typedef void (*server_handler_cb)(server_conn_t *c, server_req_t *req, void *state);

typedef struct {
    /* Exact match, query ignored. A final '*' matches the rest of one path segment: the
     * route "/accounts/" + "*" takes "/accounts/" and "/accounts/7", not "/accounts/7/x". */
    const char *path;
    const char *allow;  /* methods, as in the Allow header: "POST" or "GET, HEAD" */
    server_handler_cb fn;
} server_route_t;

typedef struct server_config server_config_t;

/* A protocol other than HTTP/1.1 on a service's connections (HTTP/2: serve/h2.h). The core
 * still accepts, reads, writes, times out and stops; the session turns the bytes read into the
 * bytes to write. */
typedef struct {
    /* A connection's session, made when it is accepted (NULL: out of memory, it is closed).
     * arg: the service's proto_arg; state: its worker's state. */
    void *(*open)(server_conn_t *c, const void *arg, void *state);
    /* Consumes all n bytes read (the session copies what it keeps). -1: the connection ends
     * once what is queued is written. */
    int (*input)(void *sess, const uint8_t *p, size_t n);
    /* Appends what it has to send to out until out holds limit bytes or it has nothing more
     * for now. -1: the connection ends once what is queued is written. */
    int (*output)(void *sess, buf_t *out, size_t limit);
    /* Calls are in progress: the connection is not idle (no idle timeout, kept in a stop). */
    bool (*busy)(void *sess);
    /* Nothing more to read or write: the connection closes. */
    bool (*over)(void *sess);
    /* A graceful stop: no new calls; those in progress finish. */
    void (*stop)(void *sess);
    void (*close)(void *sess);
} server_proto_t;

/* What a worker's state is made for: its thread's event loop and its place among the
 * workers. */
typedef struct {
    loop_t *loop;
    int id;             /* 0..nworkers-1 */
    int nworkers;
    metrics_worker_t *metrics; /* the worker's figures, for the service's own (sql's pool) */
} server_worker_t;

typedef struct {
    const char *name;   /* "echo" */
    const char *about;  /* one line for the help: "POST /echo: the posted JSON minified" */
    const server_route_t *routes;
    size_t nroutes;
    uint64_t body_limit; /* the workload's default body limit (--body-limit overrides it) */
    /* The service's own flags (NULL-terminated; NULL: none), parsed by `stackbench serve`
     * into the service's settings before configure. */
    const opt_t *flags;
    /* After the flags (NULL: nothing to check): checks the service's settings and may change
     * the server's (the sql service runs at most one worker per database connection). 0, or
     * -1 with the reason in err. */
    int (*configure)(server_config_t *cfg, char *err, size_t errlen);
    /* Each worker's state, made on the worker's thread before it serves (NULL: the service
     * keeps none): NULL with the reason in err stops the server from starting. The server
     * says "listening on" only once every worker has its state. */
    void *(*worker_init)(const server_worker_t *w, char *err, size_t errlen);
    /* Frees a worker's state as the worker ends. */
    void (*worker_done)(void *state);
    /* NULL: HTTP/1.1 and the routes above; else this protocol, handed proto_arg. */
    const server_proto_t *proto;
    const void *proto_arg;
    /* The calls its protocol counts (their labels, in the order of the indexes it passes to
     * metrics_call_*): the grpc_server_* families replace the http_* request families.
     * NULL: an HTTP/1.1 service. */
    const metrics_call_t *calls;
    size_t ncalls;
    bool metrics_sql;   /* the sql_* families (its worker_init fills them in) */
} server_service_t;

struct server_config {
    const char *host;
    int port;                   /* 0: any free port (printed on start) */
    int workers;                /* 0: one per CPU of the affinity mask */
    uint64_t body_limit;        /* bytes; 0: the service's default */
    int64_t request_timeout_ns; /* a started request must complete within this */
    int64_t idle_timeout_ns;    /* keep-alive connections with nothing to do are closed after */
    int64_t grace_ns;           /* on SIGTERM, in-flight requests get this long */
    bool shared_listener;       /* one listener + EPOLLEXCLUSIVE instead of SO_REUSEPORT */
    int metrics_port;           /* > 0: GET /metrics and /health over HTTP/1.1 on this port too */
    /* Tracing (contracts/telemetry.md): spans over OTLP/HTTP to this collector URL, from one
     * exporter thread (telemetry/otlp.h); NULL: no tracing, nothing measured for it. */
    const char *otlp_endpoint;
    double trace_ratio;         /* the share of root requests sampled (default 0.01) */
};

void server_config_defaults(server_config_t *cfg);

/* Serves until SIGTERM or SIGINT, then stops accepting, finishes in-flight requests, prints
 * "served N requests" on stderr (with tracing, then "spans: N exported, N dropped" once the
 * queued spans are sent, within the grace period) and returns 0. Start-up failures print a
 * message and return 1. */
int server_run(const server_config_t *cfg, const server_service_t *svc);

/* ---- for handlers ---- */

/* Appends a complete answer. A HEAD request gets the head only. extra: preformatted header
 * lines ("Name: value\r\n") or NULL. */
void server_respond(server_conn_t *c, int status, const char *content_type, const char *extra,
                    const void *body, size_t len);
/* {"error":"<code>"} as application/json. */
void server_respond_error(server_conn_t *c, int status, const char *code);
/* GET /health: {"status":"ok"}, the same for every service. */
void server_health(server_conn_t *c, server_req_t *req, void *state);
/* Answering later. A handler that has to wait (for a database) calls server_defer with a
 * server_later_t it owns, returns, and answers later with server_respond* on later->conn
 * followed by server_resume(later). Until then the connection parses no further request
 * (pipelined requests are answered in order). If the connection goes away first (the client
 * left, or the grace period of a stop ran out), the server sets later->conn to NULL: the
 * handler then just drops its answer. */
typedef struct {
    server_conn_t *conn;
} server_later_t;
void server_defer(server_conn_t *c, server_later_t *later);
/* The deferred answer has been given: sends it and goes on with the connection, which may
 * close it (later->conn is NULL afterwards). Call it from the connection's worker thread. */
void server_resume(server_later_t *later);

/* ---- tracing (NULL or nothing without --otlp-endpoint) ----
 * Every request but GET /health and /metrics gets a SERVER span when sampled, begun as it is dispatched and
 * ended by its answer (server_respond*), with the HTTP attributes of contracts/telemetry.md. */

/* The span of the request being answered on c, while it is sampled and unanswered; NULL
 * otherwise. Read its context (trace_span_ctx) to make children. */
trace_span_t *server_conn_span(server_conn_t *c);
/* The sampler and ids of c's worker, for spans a service makes itself (a gRPC call, a
 * database statement); NULL without tracing. */
trace_sampler_t *server_conn_sampler(server_conn_t *c);
/* Queues an ended span (end_ns set) for export, on c's worker thread. */
void server_conn_span_emit(server_conn_t *c, const trace_span_t *span);
/* The port the server listens on (the span attribute server.port). */
int server_conn_port(server_conn_t *c);

/* ---- for protocols ---- */

loop_t *server_conn_loop(server_conn_t *c);
/* The figures of the connection's worker (a protocol counts its calls there). */
metrics_worker_t *server_conn_metrics(server_conn_t *c);
/* A call was answered: one more in `served N requests`. */
void server_conn_answered(server_conn_t *c);
/* The session has something to send outside an I/O event of its connection (a timer): writes
 * it. Not from within the session's own callbacks. */
void server_conn_kick(server_conn_t *c);

/* A connection with no socket on loop, with svc's protocol session opened on it (state: the
 * worker state handed to it), for driving a session by hand: the fuzz targets feed it bytes
 * through svc->proto. NULL when out of memory. Its session is closed by the free. */
server_conn_t *server_conn_detached(loop_t *loop, const server_service_t *svc, void *state);
void *server_conn_session(server_conn_t *c);
void server_conn_detached_free(server_conn_t *c);

#endif
