/* load: the load engine. Threads, each with its own event loop, drive HTTP/1.1 connections, or
 * HTTP/2 ones (cleartext, prior knowledge) with several streams each, plain or carrying gRPC
 * calls, in one of two modes:
 *   closed loop (rate 0): each connection sends its next request as soon as the previous answer
 *     is complete; latency is measured from the send. For maximum throughput.
 *   open loop (rate R): request k of connection i is due at t0 + (i + k*C) / R, so the whole
 *     run sends evenly spaced requests at R per second. A request that cannot be sent on time
 *     (its connection still waits for an earlier answer) is sent as soon as it can, and its
 *     latency is measured from when it was due: a stall of the server is charged to every
 *     request it delayed (no coordinated omission).
 * Every connection that fails is counted by kind and re-opened; the run ends on time whatever
 * the server does, and memory stays bounded (fixed-size histograms, per-connection buffers).
 * The requests are one request (url, method, body) sent again and again, or a weighted mix of
 * templates with random fields (load/mix.h): each request sent picks its template. */
#ifndef SB_LOAD_LOAD_H
#define SB_LOAD_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"
#include "http/grpc.h"
#include "http/http1.h"
#include "load/hist.h"
#include "load/mix.h"

/* The seed of the mix's random numbers when the config gives 0. */
#define LOAD_SEED_DEFAULT 1

/* Optional answer check, called for every complete response (after the status check), with
 * what was sent: the template's index and the numbers drawn for it (index 0, no numbers, for
 * the single request). Return false to count the answer as a "body" error. Called from load
 * threads concurrently. */
typedef bool (*load_check_cb)(const http_msg_t *m, const char *body, size_t len,
                              const mix_sent_t *sent, void *ud);
/* gRPC's check: called for message k (1, 2, ...) of a call with its bytes, and once more at the
 * end of a call that ended with OK, with msg NULL and k the number of messages. Return false
 * to count the call as a "body" error. Called from load threads concurrently. */
typedef bool (*load_grpc_check_cb)(const mix_sent_t *sent, uint64_t k, const uint8_t *msg,
                                   size_t len, void *ud);

typedef enum {
    LOAD_HTTP1,                 /* HTTP/1.1, one request at a time per connection */
    LOAD_H2,                    /* HTTP/2 with prior knowledge, `streams` at a time */
    LOAD_GRPC,                  /* HTTP/2 carrying gRPC calls: each template's body is the
                                 * request message, its target the method's path */
} load_proto_t;

typedef struct {
    const char *url;            /* http://host[:port][/path]; with a mix: no path, or "/" */
    int connections;
    int threads;
    int64_t duration_ns;
    int64_t timeout_ns;         /* per request */
    double rate;                /* requests/s over all connections; 0 = closed loop */
    const char *method;
    const char **headers;       /* "Name: value" */
    size_t nheaders;
    const char *body;
    size_t body_len;
    /* A mix of 1..MIX_MAX_TEMPLATES templates instead of method, body and the URL's path; headers
     * apply to every template. NULL/0: the single request. */
    const mix_template_t *requests;
    size_t nrequests;
    uint64_t seed;              /* the mix's random numbers; 0: LOAD_SEED_DEFAULT */
    int expect_status;          /* 0: any status below 400 is fine */
    const cpuset_t *cpus;       /* pin the load threads to these; NULL: not pinned */
    bool progress;              /* live progress line on stderr */
    const char *progress_label; /* printed first on the progress line, or NULL */
    load_check_cb check;
    void *check_ud;
    /* > 0: the latency of the answers that complete in each window of this length, from the
     * start, is also kept (load_result_t windows): pauses show over time. */
    int64_t window_ns;
    load_proto_t proto;
    int streams;                /* HTTP/2: requests in flight per connection (h2load's -m) */
    int64_t grpc_timeout_ns;    /* gRPC: sent as grpc-timeout when > 0 */
    load_grpc_check_cb grpc_check;
    /* < 0: no trace header; else every request carries a fresh W3C traceparent
     * (new trace and span ids), sampled for this share of them by the services' own rule
     * (telemetry/trace.h), and the slowest sampled requests are kept with their trace ids. */
    double trace_ratio;
} load_config_t;

enum { LOAD_ERR_CONNECT, LOAD_ERR_READ, LOAD_ERR_WRITE, LOAD_ERR_TIMEOUT, LOAD_ERR_PARSE,
       LOAD_ERR_STATUS, LOAD_ERR_BODY, LOAD_ERR_KINDS };
extern const char *const load_err_names[LOAD_ERR_KINDS];

/* The figures of one template of a mix. */
/* gRPC's statuses by code, and the calls that ended without one (GRPC_NCODES). */
#define LOAD_GRPC_STATUSES (GRPC_NCODES + 1)

typedef struct {
    uint64_t sent;              /* requests sent (a write begun) */
    uint64_t requests;          /* complete answers received */
    uint64_t status[600];
    uint64_t errors[LOAD_ERR_KINDS]; /* errors while a request of this template was owed */
    hist_t *latency;            /* nanoseconds */
    uint64_t grpc_status[LOAD_GRPC_STATUSES];
    uint64_t messages;          /* gRPC messages received */
} load_request_result_t;

/* The slowest sampled requests of a run with trace_ratio (their traces are the ones to look up
 * in the services' collector). */
#define LOAD_SLOWEST_TRACES 10
typedef struct {
    uint8_t trace_id[16];
    int64_t latency_ns;
} load_trace_t;

typedef struct {
    uint64_t requests;          /* complete answers received */
    uint64_t status[600];       /* by status code */
    uint64_t errors[LOAD_ERR_KINDS];
    uint64_t bytes_in, bytes_out;
    uint64_t unsent;            /* open loop: due before the end but never sent */
    hist_t *latency;            /* nanoseconds */
    double elapsed_s;           /* first send to last answer */
    double cpu_s;               /* user + system CPU of the load engine */
    uint64_t connects;          /* connections opened (re-opens included) */
    load_request_result_t *by_request; /* with a mix: one per template, in order; else NULL */
    size_t nby_request;
    /* With window_ns: one histogram per window (nanoseconds, one significant digit: a window
     * says when, the whole run's histogram says how much), answers completing in it. */
    hist_t **windows;
    size_t nwindows;
    /* gRPC */
    uint64_t grpc_status[LOAD_GRPC_STATUSES];
    uint64_t messages;          /* messages received, all calls */
    uint64_t message_bytes;     /* their bytes, prefixes excluded */
    hist_t *first_message;      /* ns from a call's send to its first message */
    hist_t *inter_arrival;      /* ns between two messages of one call */
    /* trace_ratio: the slowest sampled requests, slowest first */
    load_trace_t slowest[LOAD_SLOWEST_TRACES];
    int nslowest;
    uint64_t traced;            /* requests sent with the sampled flag */
} load_result_t;

void load_config_defaults(load_config_t *cfg);
/* Runs the load. 0, or -1 with a message in err (bad URL, unresolvable host, no memory). */
int load_run(const load_config_t *cfg, load_result_t *res, char *err, size_t errlen);
void load_result_free(load_result_t *res);
uint64_t load_errors_total(const load_result_t *res);

#endif
