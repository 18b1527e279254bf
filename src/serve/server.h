/* server: the HTTP/1.1 server core under every C service.
 *
 * One worker thread per CPU the process may use, each pinned, each with its own event loop and
 * (by default) its own SO_REUSEPORT listener. A connection reads until the socket is drained,
 * answers every complete pipelined request in the buffer, and writes all answers with one
 * send(). Routing, 404/405, body limits (413), malformed requests (400/431), request and idle
 * timeouts (408) and graceful stop live here, so a service is a table of routes and handlers. */
#ifndef SB_SERVE_SERVER_H
#define SB_SERVE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "http/http1.h"

typedef struct server_conn server_conn_t;

typedef struct {
    const http_msg_t *msg;
    char *body;        /* the whole body, de-chunked, writable in place */
    size_t body_len;
} server_req_t;

typedef void (*server_handler_cb)(server_conn_t *c, server_req_t *req, void *ud);

typedef struct {
    /* Exact match, query ignored. A final '*' matches the rest of one path segment: the
     * route "/accounts/" + "*" takes "/accounts/" and "/accounts/7", not "/accounts/7/x". */
    const char *path;
    const char *allow;  /* methods, as in the Allow header: "POST" or "GET, HEAD" */
    server_handler_cb fn;
} server_route_t;

typedef struct {
    const char *name;   /* "echo" */
    const server_route_t *routes;
    size_t nroutes;
    void *ud;           /* passed to every handler */
    uint64_t body_limit; /* the workload's default body limit (--body-limit overrides it) */
    /* Called by each worker thread before it serves (NULL: nothing to set up), with its event
     * loop, for services that keep per-thread state on the loop (the sql service's database
     * connections). worker is 0..nworkers-1. Non-zero: the server does not start; the hook has
     * said why on stderr. The server prints "listening on" only once every worker's hook
     * returned 0. */
    int (*thread_start)(loop_t *loop, int worker, int nworkers);
    /* Called by each worker thread as it ends, to free what its handlers kept per thread
     * (NULL: nothing to free). */
    void (*thread_done)(void);
} server_service_t;

typedef struct {
    const char *host;
    int port;                   /* 0: any free port (printed on start) */
    int workers;                /* 0: one per CPU of the affinity mask */
    uint64_t body_limit;        /* bytes; 0: the service's default */
    int64_t request_timeout_ns; /* a started request must complete within this */
    int64_t idle_timeout_ns;    /* keep-alive connections with nothing to do are closed after */
    int64_t grace_ns;           /* on SIGTERM, in-flight requests get this long */
    bool shared_listener;       /* one listener + EPOLLEXCLUSIVE instead of SO_REUSEPORT */
} server_config_t;

void server_config_defaults(server_config_t *cfg);

/* Serves until SIGTERM or SIGINT, then stops accepting, finishes in-flight requests, prints
 * "served N requests" on stderr and returns 0. Start-up failures print a message and return 1. */
int server_run(const server_config_t *cfg, const server_service_t *svc);

/* ---- for handlers ---- */

/* Appends a complete answer. A HEAD request gets the head only. extra: preformatted header
 * lines ("Name: value\r\n") or NULL. */
void server_respond(server_conn_t *c, int status, const char *content_type, const char *extra,
                    const void *body, size_t len);
/* {"error":"<code>"} as application/json. */
void server_respond_error(server_conn_t *c, int status, const char *code);
/* GET /health: {"status":"ok"}, the same for every service. */
void server_health(server_conn_t *c, server_req_t *req, void *ud);
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

/* The configured body limit (for error bodies that report it). */
uint64_t server_body_limit(const server_conn_t *c);

#endif
