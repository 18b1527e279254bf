/* conn: the load engine's connections, inside the engine (load.c drives them; h2.c speaks
 * HTTP/2 on them). Not for the engine's callers: they see load.h.
 *
 * A connection has slots, one per request it may have in flight: one for HTTP/1.1, `-m` for
 * HTTP/2 (one per stream). The engine owns the schedule (which slot sends when), the clocks and
 * the figures; a protocol turns a slot's request into bytes and the bytes that come back into
 * the slot's end: conn_done when answered, conn_fail when the connection is lost, conn_slot_fail
 * when one stream fails and the connection goes on. */
#ifndef SB_LOAD_CONN_H
#define SB_LOAD_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/rand.h"
#include "http/grpc.h"
#include "http/http1.h"
#include "load/load.h"
#include "telemetry/trace.h"

typedef struct lthread lthread_t;
typedef struct h2_conn h2_conn_t;
typedef struct h2_shared h2_shared_t;

/* One request in flight. */
typedef struct {
    bool inflight;
    int64_t sent_at;        /* when it was sent */
    int64_t due;            /* when it was due (open loop) */
    mix_sent_t sent;        /* what it is: its template */
    /* HTTP/2 */
    int32_t stream_id;
    int status;             /* :status */
    int grpc_status;        /* grpc-status, -1 until the trailers say */
    bool grpc_bad_message;  /* a message the check refused, or a cut one */
    uint64_t messages;      /* gRPC messages so far */
    int64_t last_message_at;
    size_t body_off;        /* request body bytes handed to nghttp2 */
    grpc_reader_t rd;
    /* trace_ratio */
    bool sampled;           /* its traceparent says sampled */
    uint8_t trace_id[TRACE_ID_LEN];
} lslot_t;

typedef struct lconn {
    loop_io_t io;
    lthread_t *t;
    int gidx;               /* global connection index */
    bool connecting, connected;
    lslot_t *slots;
    int nslots, ninflight;
    int64_t next_due;       /* open loop: when the next request is due */
    loop_timer_t timer;     /* open-loop schedule, reconnect back-off */
    /* HTTP/1.1: one slot */
    bool head_request;      /* the current request is HEAD: its answer has no body */
    buf_t in;
    const char *req;        /* the current request's bytes */
    size_t req_len;
    size_t wr_off;          /* bytes of the current request written */
    char *render;           /* with templates that have placeholders: where they are rendered */
    /* trace_ratio: req holds a traceparent of zeros at tp_off (0: none); tp is what goes out
     * in its place, this request's own (the shared bytes are never written) */
    size_t tp_off;
    char tp[TRACEPARENT_LEN + 1];
    bool have_head;
    http_msg_t msg;
    http_chunked_t chunk;
    /* HTTP/2 */
    h2_conn_t *h2;
} lconn_t;

struct lthread {
    int id;
    pthread_t thread;
    const load_config_t *cfg;
    const mix_t *mix;       /* HTTP/1.1 with a mix; NULL: the single request, or HTTP/2 */
    const h2_shared_t *h2;  /* HTTP/2: the requests, made once */
    rng_t rng;
    trace_sampler_t tracer; /* trace_ratio: ids and the sampled flag, apart from rng (the
                             * mix's numbers stay those of the seed) */
    const net_addr_t *addr;
    loop_t *loop;
    lconn_t *conns;
    int nconns;
    int first_gidx;
    int64_t t0, deadline, drain_deadline;
    int64_t interval;       /* open loop: ns between two requests of one connection */
    int64_t last_done;
    loop_timer_t end_timer, sweep;
    bool ending;            /* past the deadline: no new requests */
    load_result_t r;
    _Atomic uint64_t progress_requests, progress_errors;
};

/* ---- the engine, for protocols ---- */

/* A slot's answer is whole: its latency and status are recorded (status: HTTP's; with gRPC
 * the slot's grpc_status and messages too), then the check (body, for HTTP/1.1). */
void conn_done(lconn_t *c, lslot_t *s, int status, const char *body, size_t len);
/* The connection is lost: every request in flight is an error of this kind, and a new
 * connection is opened (after a back-off for connect errors). */
void conn_fail(lconn_t *c, int kind);
/* One request failed and the connection goes on (an HTTP/2 stream reset). */
void conn_slot_fail(lconn_t *c, lslot_t *s, int kind);
/* The server ended the connection cleanly (HTTP/1.1 Connection: close, HTTP/2 GOAWAY with
 * nothing in flight): a new one is opened. */
void conn_reopen(lconn_t *c);
/* Sends what the schedule says is due, while a slot is free. */
void conn_maybe_send(lconn_t *c);

/* ---- HTTP/2 (h2.c) ---- */

/* The requests, made once for every thread: headers and bodies of each template. NULL with
 * the reason in err. */
h2_shared_t *h2_shared_new(const load_config_t *cfg, const char *authority, char *err,
                           size_t errlen);
void h2_shared_free(h2_shared_t *s);
/* The connection is up: the session starts (preface, SETTINGS). -1: out of memory. */
int h2_conn_open(lconn_t *c);
/* Readable or writable. */
void h2_conn_io(lconn_t *c, uint32_t events);
/* Sends template i in slot s, with a traceparent header of this value when not NULL. */
void h2_conn_send(lconn_t *c, lslot_t *s, int i, const char *traceparent);
/* A request timed out: its stream is reset (the connection goes on). */
void h2_conn_cancel(lconn_t *c, lslot_t *s);
/* The session is dropped (the socket is closed by the engine). */
void h2_conn_close(lconn_t *c);
/* A template drawn by weight. */
int h2_pick(const h2_shared_t *s, rng_t *r);

#endif
