/* metrics: what every C service exposes on GET /metrics (contracts/telemetry.md), in the
 * Prometheus text format 0.0.4.
 *
 * Each worker owns a block, metrics_worker_t, that only its own thread writes, with plain
 * stores: no lock and no atomic on the request path. A scrape, on whichever thread answers it,
 * sums the blocks as they are at that moment. An aligned 64-bit load is not torn on the targets
 * we build for (x86-64, arm64); a sum may lag a request in flight by that request. The scrape
 * reads through volatile pointers, so that the compiler keeps its loads where they are written
 * (finished before started: the in-flight gauge is never negative).
 *
 * Label sets are fixed when the figures are made: the routes of the service (route label: the
 * pattern with its final `*` written `{id}`, `other` for a path no route takes), eight methods
 * (GET HEAD POST PUT DELETE PATCH OPTIONS, anything else OTHER), the status codes of RFC 9110
 * with 422, 429 and 431, and for gRPC the calls the service names. So a request only adds to
 * counters found by index, and a client cannot grow the series.
 *
 * Cost on the request path (bench/metrics_cost.c, 2 vCPU Xeon): the hooks of one request take
 * 52 ns, of which 47 ns are their two clock reads (the read that brought it, its answer) and
 * 4-6 ns the counters; 0.6 % of the 8.7 µs of CPU an echo request costs. */
#ifndef SB_TELEMETRY_METRICS_H
#define SB_TELEMETRY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "http/http1.h"

/* The buckets' upper bounds: 10 µs to 10 s in 1-2.5-5 steps; one more bucket holds the rest
 * (+Inf). */
#define METRICS_NBUCKETS 19
extern const int64_t metrics_bucket_ns[METRICS_NBUCKETS];

typedef struct {
    uint64_t n[METRICS_NBUCKETS + 1]; /* observations per bucket (not cumulative); the last: > 10 s */
    uint64_t sum_ns;
} metrics_hist_t;

static inline void metrics_hist_add(metrics_hist_t *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    int i = 0;
    while (i < METRICS_NBUCKETS && ns > metrics_bucket_ns[i])
        i++;
    h->n[i]++;
    h->sum_ns += (uint64_t)ns;
}

enum { METRICS_NMETHODS = 8, METRICS_NCODES = 48, METRICS_MAX_CALLS = 8 };
/* The slot of a status code among the METRICS_NCODES counted (the last: any other). */
int metrics_code_slot(int status);

/* One worker's figures. Written by that worker only. */
typedef struct {
    /* connections */
    uint64_t conns_opened, conns_closed;
    /* HTTP requests: begun (head read, or answered without one) and finished (answered, or
     * dropped with their connection); in flight = begun - finished. */
    uint64_t begun, finished;
    uint64_t *requests;         /* [route][method][code slot] */
    metrics_hist_t *duration;   /* [route] */
    uint64_t *req_bytes;        /* [route] */
    uint64_t *resp_bytes;       /* [route] */
    /* gRPC calls, by the service's call index */
    uint64_t calls_started[METRICS_MAX_CALLS];
    uint64_t calls_handled[METRICS_MAX_CALLS][17]; /* by grpc status code */
    uint64_t msgs_received[METRICS_MAX_CALLS];
    uint64_t msgs_sent[METRICS_MAX_CALLS];
    metrics_hist_t handling[METRICS_MAX_CALLS];
    /* the sql service's pool (serve/pgpool.c, serve/sql.c) */
    int64_t sql_pool_connections, sql_pool_size;
    uint64_t sql_pool_waits, sql_errors, sql_unavailable;
    int nroutes;                /* the service's routes + 1 (other) */
} metrics_worker_t;

/* A gRPC method, labelled as go-grpc-middleware labels it. */
typedef struct {
    const char *service;        /* "stackbench.v1.Ticks" */
    const char *method;         /* "Stream" */
    const char *type;           /* "unary", "server_stream" */
} metrics_call_t;

/* What the figures are of. */
typedef struct {
    int nworkers;
    const char *const *routes;  /* the service's route patterns, in its order ("/accounts/" "*") */
    size_t nroutes;
    const metrics_call_t *calls; /* gRPC: the service's methods; then the grpc_server_*
                                 * families replace the http_* request families */
    size_t ncalls;              /* at most METRICS_MAX_CALLS */
    bool sql;                   /* the sql_* families */
} metrics_spec_t;

typedef struct metrics metrics_t;

/* NULL when out of memory or the spec is out of bounds. */
metrics_t *metrics_new(const metrics_spec_t *spec);
void metrics_free(metrics_t *m);
metrics_worker_t *metrics_worker(metrics_t *m, int i);
/* Route i's label, its pattern with a final star written {id} ("/accounts/{id}"): what the
 * traces name the route too. */
const char *metrics_route_label(const metrics_t *m, int i);

/* ---- an HTTP request, as the server core sees it ----
 * A connection keeps one metrics_req_t. Its hooks: metrics_req_read after each read,
 * metrics_req_begin when a request's head is read, metrics_req_answered when its answer is
 * queued, metrics_req_drop when the connection closes. A route index is 0..nroutes-1, or
 * METRICS_ROUTE_OTHER (no route takes the path), or METRICS_ROUTE_SKIP (/metrics and /health:
 * a scrape does not measure itself). */
enum { METRICS_ROUTE_OTHER = -1, METRICS_ROUTE_SKIP = -2 };
enum { METRICS_REQ_NONE, METRICS_REQ_COUNTED, METRICS_REQ_SKIPPED };

typedef struct {
    int64_t read_ns;   /* the connection's last read */
    int64_t t0;        /* the request's first byte: the read that brought it (0: none yet) */
    uint64_t body;     /* its body bytes, de-chunked (set by the core before its handler) */
    int16_t route;     /* index into the worker's per-route arrays */
    uint8_t method;
    uint8_t state;
} metrics_req_t;

/* The connection read bytes: they start the next request if none has started. */
static inline void metrics_req_read(metrics_req_t *r)
{
    r->read_ns = clock_now_ns();
    if (!r->t0)
        r->t0 = r->read_ns;
}

int metrics_method_slot(http_str_t method);

/* The request's head was read. route: see above. */
static inline void metrics_req_begin(metrics_worker_t *w, metrics_req_t *r, http_str_t method,
                                     int route)
{
    if (route == METRICS_ROUTE_SKIP) {
        r->state = METRICS_REQ_SKIPPED;
        return;
    }
    if (!r->t0) /* pipelined behind the request answered before it: read with it */
        r->t0 = r->read_ns;
    r->state = METRICS_REQ_COUNTED;
    r->route = (int16_t)(route < 0 ? w->nroutes - 1 : route);
    r->method = (uint8_t)metrics_method_slot(method);
    r->body = 0;
    w->begun++;
}

/* Its answer was queued: status, and the response body's bytes (0 for HEAD). A request
 * answered before its head could be read (400, 431, a 408) counts as OTHER on route other. */
void metrics_req_answered(metrics_worker_t *w, metrics_req_t *r, int status, size_t body);

/* The connection closes: a request begun and not answered is no longer in flight. */
static inline void metrics_req_drop(metrics_worker_t *w, metrics_req_t *r)
{
    if (r->state == METRICS_REQ_COUNTED)
        w->finished++;
    r->state = METRICS_REQ_NONE;
    r->t0 = 0;
}

/* ---- gRPC calls (serve/h2.c), by the service's call index ---- */
static inline void metrics_call_started(metrics_worker_t *w, int call)
{
    w->calls_started[call]++;
}
/* Its request message was read whole. */
static inline void metrics_call_msg_received(metrics_worker_t *w, int call)
{
    w->msgs_received[call]++;
}
static inline void metrics_call_msg(metrics_worker_t *w, int call)
{
    w->msgs_sent[call]++;
}
/* The call ended with code (0..16), t0 its start (clock_now_ns). */
static inline void metrics_call_handled(metrics_worker_t *w, int call, int code, int64_t t0)
{
    w->calls_handled[call][code >= 0 && code < 17 ? code : 2]++;
    metrics_hist_add(&w->handling[call], clock_now_ns() - t0);
}

/* ---- the exposition ---- */

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The process's own figures (/proc/self, getrlimit). */
typedef struct {
    double cpu_seconds;
    uint64_t resident_bytes, virtual_bytes;
    double start_time_seconds; /* Unix time */
    uint64_t open_fds, max_fds;
} metrics_process_t;

/* 0, or -1 when /proc could not be read. */
int metrics_process_read(metrics_process_t *p);

/* Every family of m, the workers summed, then the process's: the answer to GET /metrics.
 * 0, or -ENOMEM. */
int metrics_write(const metrics_t *m, buf_t *out);
/* The parts of it: the workers' families, and the process's from p. */
int metrics_write_workers(const metrics_t *m, buf_t *out);
int metrics_write_process(const metrics_process_t *p, buf_t *out);

/* The writer's pieces. "# HELP name help" (help escaped: \\ and \n) and "# TYPE name type". */
int metrics_write_family(buf_t *out, const char *name, const char *type, const char *help);
/* "name{k="v",...} value\n"; labels: k, v, k, v, ..., NULL (NULL alone: no labels); values
 * escaped (\\, \", \n). */
int metrics_write_sample(buf_t *out, const char *name, const char *const *labels,
                         const char *value);

#endif
