#include "serve/h2.h"

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/loop.h"
#include "http/grpc.h"
#include "telemetry/trace.h"

/* Streams a connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Each holds at
 * most one answer message in `pend`, so this bounds a connection's memory. */
#define H2_MAX_STREAMS 100
/* What a non-gRPC request gets: a body, so that a plain HTTP/2 client sees DATA frames. */
static const char not_grpc[] = "stackbench serve grpc: gRPC only (content-type application/grpc)\n";

typedef enum {
    ST_HEADERS,  /* the request's headers are arriving */
    ST_BODY,     /* a valid call: gathering its request message */
    ST_SENDING,  /* answered with headers and data: the data provider runs */
    ST_DONE,     /* the status (or a whole non-gRPC answer) is submitted: input is ignored */
} stream_phase_t;

typedef struct h2_session h2_session_t;

struct h2_call {
    h2_session_t *s;
    int32_t id;
    stream_phase_t phase;
    h2_call_t *prev, *next;      /* the session's streams */
    /* the request */
    char method[8];
    char path[128];
    bool path_long;              /* longer than path: no method has it */
    bool grpc;                   /* content-type application/grpc[+proto|;...] */
    char encoding[24];           /* grpc-encoding, when sent */
    /* traceparent's first 56 characters: all that a version-00 reader looks at (a later
     * version's 56th must be '-') */
    char traceparent[TRACEPARENT_LEN + 1];
    uint8_t tp_len;              /* 0: none; 0xff: sent twice (then treated as invalid) */
    bool bad_timeout;
    int64_t deadline;            /* monotonic ns; 0: none */
    const h2_method_t *fn;
    grpc_reader_t rd;
    buf_t req;                   /* the request message */
    int nreq;                    /* messages the request held */
    int early;                   /* a status decided while the request arrives (0: none) */
    const char *early_msg;
    /* the answer */
    buf_t pend;                  /* bytes of the answer not yet handed to nghttp2 */
    bool last;                   /* pend holds the last of it */
    bool plain;                  /* a non-gRPC answer: no trailers */
    bool expired;                /* the deadline passed while streaming */
    int status;
    char message[160];
    h2_next_cb next_fn;
    void *ctx;
    void (*free_ctx)(void *);
    /* the metrics */
    int call;                    /* the method's index: a call started; -1: not one */
    bool ended;                  /* its status was queued (counted as handled) */
    int64_t t0;                  /* when it started */
    trace_span_t *span;          /* tracing: the call's SERVER span while it is sampled */
};

struct h2_session {
    nghttp2_session *ng;
    server_conn_t *conn;
    const h2_service_t *svc;
    void *state;
    metrics_worker_t *metrics;   /* the worker's figures (NULL on a detached connection) */
    h2_call_t *calls;
    int ncalls;
    loop_timer_t deadlines;      /* armed at the earliest deadline of a call */
    int32_t max_id;              /* the highest stream the client opened */
    int32_t reset[8];            /* the last streams reset from here: the client may still
                                  * send on them, not knowing */
    unsigned nreset;
};

/* ---- answers ---- */

/* The call's status is queued (or, cancelled, never will be): it counts as handled. */
static void call_ended(h2_call_t *st, int code)
{
    if (st->call < 0 || st->ended || !st->s->metrics)
        return;
    st->ended = true;
    metrics_call_handled(st->s->metrics, st->call, code, st->t0);
}

static void call_msg(h2_call_t *st)
{
    if (st->call >= 0 && st->s->metrics)
        metrics_call_msg(st->s->metrics, st->call);
}

/* ---- tracing ---- */

/* gRPC's statuses that OpenTelemetry's conventions make a server span's ERROR. */
static bool grpc_server_error(int code)
{
    return code == GRPC_UNKNOWN || code == GRPC_DEADLINE_EXCEEDED || code == GRPC_UNIMPLEMENTED ||
           code == GRPC_INTERNAL || code == GRPC_UNAVAILABLE || code == GRPC_DATA_LOSS;
}

/* A call's span, when tracing samples it: "/pkg.Service/Method" names it without its slash. */
static void call_span_begin(h2_call_t *st)
{
    server_conn_t *c = st->s->conn;
    trace_sampler_t *smp = server_conn_sampler(c);
    static const char health[] = "/grpc.health.v1.Health/";
    if (!smp || st->path_long || strncmp(st->path, health, sizeof health - 1) == 0)
        return;
    bool tp = st->tp_len > 0 && st->tp_len != 0xff;
    trace_span_t sp;
    if (!trace_span_begin(smp, tp ? st->traceparent : NULL, tp ? st->tp_len : 0,
                          TRACE_KIND_SERVER, &sp) ||
        !(st->span = malloc(sizeof *st->span)))
        return;
    *st->span = sp;
    const char *name = st->path[0] == '/' ? st->path + 1 : st->path;
    const char *slash = strrchr(name, '/');
    size_t svc_len = slash ? (size_t)(slash - name) : strlen(name);
    const char *method = slash ? slash + 1 : "";
    trace_span_name(st->span, name, strlen(name), NULL, 0);
    trace_span_str(st->span, "rpc.system", "grpc", 4);
    trace_span_str(st->span, "rpc.service", name, svc_len);
    trace_span_str(st->span, "rpc.method", method, strlen(method));
    trace_span_int(st->span, "server.port", server_conn_port(c));
}

static void call_span_end(h2_call_t *st, int code)
{
    if (!st->span)
        return;
    trace_span_int(st->span, "rpc.grpc.status_code", code);
    if (grpc_server_error(code))
        st->span->status = TRACE_STATUS_ERROR;
    st->span->end_ns = trace_now_ns();
    server_conn_span_emit(st->s->conn, st->span);
    free(st->span);
    st->span = NULL;
}

static void free_call(h2_call_t *st)
{
    call_ended(st, GRPC_CANCELLED); /* reset by the client, or its connection went */
    call_span_end(st, GRPC_CANCELLED); /* ended before its status was sent: reset, or the end */
    if (st->free_ctx && st->ctx)
        st->free_ctx(st->ctx);
    grpc_reader_free(&st->rd);
    buf_free(&st->req);
    buf_free(&st->pend);
    free(st);
}

/* A header field named by a literal, appended to nv[*n] (nghttp2 copies the value). */
#define NV(k, v, vl)                                                                           \
    nv[(*n)++] = (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), sizeof(k) - 1, (vl),             \
                              NGHTTP2_NV_FLAG_NO_COPY_NAME}

/* The status as trailers (or, with no answer headers yet, a trailers-only answer). */
static void status_headers(h2_call_t *st, nghttp2_nv *nv, size_t *n, char *code, size_t codelen)
{
    snprintf(code, codelen, "%d", st->status);
    NV("grpc-status", code, strlen(code));
    if (st->message[0])
        NV("grpc-message", st->message, strlen(st->message));
}

static ssize_t on_data(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len,
                       uint32_t *flags, nghttp2_data_source *src, void *ud);

/* Submits the answer's headers: with a data provider (a message or a stream follows), or
 * alone with the status (trailers-only). */
static void submit_answer(h2_call_t *st, bool with_data)
{
    nghttp2_nv nva[6];
    nghttp2_nv *nv = nva;
    size_t nn = 0, *n = &nn;
    char code[8];
    NV(":status", "200", 3);
    NV("content-type", "application/grpc", 16);
    if (!with_data)
        status_headers(st, nva, n, code, sizeof code);
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = on_data};
    st->phase = with_data ? ST_SENDING : ST_DONE;
    nghttp2_submit_response(st->s->ng, st->id, nva, nn, with_data ? &prd : NULL);
    if (!with_data) {
        call_span_end(st, st->status);
        server_conn_answered(st->s->conn);
        call_ended(st, st->status);
    }
}

static void set_status(h2_call_t *st, int code, const char *message)
{
    st->status = code;
    grpc_message_encode(message ? message : "", message ? strlen(message) : 0, st->message,
                        sizeof st->message);
}

void h2_call_error(h2_call_t *st, int code, const char *message)
{
    if (st->phase >= ST_SENDING)
        return;
    set_status(st, code, message);
    submit_answer(st, false);
}

void h2_call_reply(h2_call_t *st, const void *msg, size_t len)
{
    if (st->phase >= ST_SENDING)
        return;
    buf_clear(&st->pend);
    if (grpc_prefix_append(&st->pend, len) || buf_append(&st->pend, msg, len)) {
        h2_call_error(st, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    st->last = true;
    set_status(st, GRPC_OK, NULL);
    call_msg(st);
    submit_answer(st, true);
}

void h2_call_stream(h2_call_t *st, h2_next_cb next, void *ctx, void (*free_ctx)(void *))
{
    st->ctx = ctx;
    st->free_ctx = free_ctx;
    if (st->phase >= ST_SENDING)
        return;
    st->next_fn = next;
    set_status(st, GRPC_OK, NULL);
    submit_answer(st, true);
}

/* The next message of a stream into pend, behind its prefix. */
static void make_next(h2_call_t *st)
{
    buf_clear(&st->pend);
    if (st->expired) {
        st->last = true;
        set_status(st, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
        return;
    }
    if (buf_reserve(&st->pend, GRPC_PREFIX) < 0) {
        st->last = true;
        set_status(st, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    buf_commit(&st->pend, GRPC_PREFIX);
    int rc = st->next_fn(&st->pend, st->ctx);
    if (rc < 0) {
        buf_clear(&st->pend);
        st->last = true;
        set_status(st, -rc, NULL);
        return;
    }
    grpc_prefix_write((uint8_t *)buf_start(&st->pend), (uint32_t)(buf_size(&st->pend) - GRPC_PREFIX));
    st->last = rc == 0;
    call_msg(st);
}

/* nghttp2 asks for up to len bytes of a stream's answer (as much as its window and the frame
 * size let go). Messages are made here, one at a time, so a stream that may not send makes
 * nothing. */
static ssize_t on_data(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len,
                       uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    h2_call_t *st = src->ptr;
    size_t n = 0;
    while (n < len) {
        if (buf_size(&st->pend) == 0) {
            if (st->last || !st->next_fn)
                break;
            make_next(st);
            continue;
        }
        size_t take = buf_size(&st->pend);
        if (take > len - n)
            take = len - n;
        memcpy(out + n, buf_start(&st->pend), take);
        buf_consume(&st->pend, take);
        n += take;
    }
    if (buf_size(&st->pend) == 0 && (st->last || !st->next_fn)) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (!st->plain) {
            nghttp2_nv nv[2];
            size_t nn = 0;
            char code[8];
            status_headers(st, nv, &nn, code, sizeof code);
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            nghttp2_submit_trailer(ng, id, nv, nn);
            call_span_end(st, st->status);
            server_conn_answered(st->s->conn);
            call_ended(st, st->status);
        }
        st->phase = ST_DONE;
        if (buf_size(&st->pend) == 0 && st->pend.cap > 65536)
            buf_free(&st->pend);
    }
    return (ssize_t)n;
}

/* ---- requests ---- */

static void answer_plain(h2_call_t *st)
{
    nghttp2_nv nva[2], *nv = nva;
    size_t nn = 0, *n = &nn;
    NV(":status", "415", 3);
    NV("content-type", "text/plain", 10);
    buf_clear(&st->pend);
    buf_append(&st->pend, not_grpc, sizeof not_grpc - 1);
    st->last = st->plain = true;
    st->phase = ST_SENDING;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = on_data};
    nghttp2_submit_response(st->s->ng, st->id, nva, nn, &prd);
}

static void arm_deadlines(h2_session_t *s)
{
    int64_t first = 0;
    for (h2_call_t *st = s->calls; st; st = st->next)
        if (st->deadline && st->phase < ST_DONE && !st->expired &&
            (!first || st->deadline < first))
            first = st->deadline;
    loop_t *loop = server_conn_loop(s->conn);
    if (first)
        loop_timer_set(loop, &s->deadlines, first);
    else
        loop_timer_stop(loop, &s->deadlines);
}

/* The request's headers are whole: is it a call we answer? */
static void headers_done(h2_call_t *st)
{
    if (strcmp(st->method, "POST") != 0 || !st->grpc) {
        answer_plain(st);
        return;
    }
    call_span_begin(st);
    st->phase = ST_BODY;
    for (size_t i = 0; !st->path_long && i < st->s->svc->nmethods; i++)
        if (strcmp(st->s->svc->methods[i].path, st->path) == 0)
            st->fn = &st->s->svc->methods[i];
    if (st->fn && st->s->metrics && st->fn - st->s->svc->methods < METRICS_MAX_CALLS) {
        st->call = (int)(st->fn - st->s->svc->methods);
        st->t0 = clock_now_ns();
        metrics_call_started(st->s->metrics, st->call);
    }
    if (!st->fn) {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown method %s", st->path_long ? "(too long)" : st->path);
        h2_call_error(st, GRPC_UNIMPLEMENTED, msg);
        return;
    }
    if (st->bad_timeout) {
        h2_call_error(st, GRPC_INTERNAL, "malformed grpc-timeout");
        return;
    }
    if (st->deadline)
        arm_deadlines(st->s);
}

static int on_message(void *ud, const uint8_t *msg, size_t len)
{
    h2_call_t *st = ud;
    if (++st->nreq == 1 && buf_append(&st->req, msg, len) < 0) {
        st->early = GRPC_RESOURCE_EXHAUSTED;
        st->early_msg = "out of memory";
        return 1;
    }
    return 0;
}

static void request_data(h2_call_t *st, const uint8_t *p, size_t n)
{
    if (st->phase != ST_BODY || st->early)
        return;
    grpc_read_t rc = grpc_reader_feed(&st->rd, p, n, on_message, st);
    switch (rc) {
    case GRPC_READ_OK:
    case GRPC_READ_STOP:
        break;
    case GRPC_READ_TOO_LARGE:
        st->early = GRPC_RESOURCE_EXHAUSTED;
        st->early_msg = "request message larger than 4194304 bytes";
        break;
    case GRPC_READ_COMPRESSED:
        if (st->encoding[0] && strcmp(st->encoding, "identity") != 0) {
            st->early = GRPC_UNIMPLEMENTED;
            st->early_msg = "compressed request, and no compression is supported";
        } else {
            st->early = GRPC_INTERNAL;
            st->early_msg = "compressed flag set with identity or empty grpc-encoding";
        }
        break;
    case GRPC_READ_BAD_FLAG:
        st->early = GRPC_INTERNAL;
        st->early_msg = "bad message flag";
        break;
    case GRPC_READ_NOMEM:
        st->early = GRPC_RESOURCE_EXHAUSTED;
        st->early_msg = "out of memory";
        break;
    }
    /* An error is answered at once: what else the client sends is read and dropped. */
    if (st->early)
        h2_call_error(st, st->early, st->early_msg);
}

/* The client ended its side: the request is whole. */
static void request_end(h2_call_t *st)
{
    if (st->phase == ST_HEADERS) /* END_STREAM on trailers of a request never begun */
        return;
    if (st->phase != ST_BODY)
        return;
    if (!grpc_reader_between(&st->rd)) {
        h2_call_error(st, GRPC_INTERNAL, "request stream ended inside a message");
        return;
    }
    if (st->nreq != 1) {
        h2_call_error(st, GRPC_INTERNAL,
                      st->nreq == 0 ? "no request message" : "more than one request message");
        return;
    }
    if (st->call >= 0 && st->s->metrics)
        metrics_call_msg_received(st->s->metrics, st->call);
    st->fn->fn(st, (const uint8_t *)buf_start(&st->req), buf_size(&st->req), st->s->state);
    buf_free(&st->req);
    if (st->phase < ST_SENDING)
        h2_call_error(st, GRPC_INTERNAL, "the method gave no answer");
}

/* ---- nghttp2's callbacks ---- */

/* RFC 9113 5.1.1: a HEADERS frame that opens a stream numerically smaller than one the client
 * opened before is a connection error (PROTOCOL_ERROR). nghttp2 ignores such frames, because a
 * client may still send trailers on a stream it does not yet know was reset; the streams reset
 * from here are remembered for that, and any other such HEADERS ends the connection. */
static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *ud)
{
    h2_session_t *s = ud;
    if (hd->type != NGHTTP2_HEADERS || !(hd->stream_id & 1))
        return 0;
    if (hd->stream_id > s->max_id) {
        s->max_id = hd->stream_id;
        return 0;
    }
    if (nghttp2_session_find_stream(ng, hd->stream_id))
        return 0;
    for (unsigned i = 0; i < sizeof s->reset / sizeof s->reset[0]; i++)
        if (s->reset[i] == hd->stream_id)
            return 0;
    nghttp2_session_terminate_session(ng, NGHTTP2_PROTOCOL_ERROR);
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    h2_session_t *s = ud;
    if (f->hd.type == NGHTTP2_RST_STREAM)
        s->reset[s->nreset++ % (sizeof s->reset / sizeof s->reset[0])] = f->hd.stream_id;
    return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    h2_session_t *s = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_call_t *st = calloc(1, sizeof *st);
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
    st->s = s;
    st->id = f->hd.stream_id;
    st->call = -1;
    grpc_reader_init(&st->rd, GRPC_MAX_MESSAGE);
    st->next = s->calls;
    if (s->calls)
        s->calls->prev = st;
    s->calls = st;
    s->ncalls++;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static bool is_grpc_type(const uint8_t *v, size_t n)
{
    static const char t[] = "application/grpc";
    size_t tn = sizeof t - 1;
    return n >= tn && memcmp(v, t, tn) == 0 && (n == tn || v[tn] == '+' || v[tn] == ';');
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud)
{
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_call_t *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st)
        return 0;
#define IS(k) (namelen == sizeof(k) - 1 && memcmp(name, k, namelen) == 0)
    if (IS(":method")) {
        size_t n = valuelen < sizeof st->method - 1 ? valuelen : sizeof st->method - 1;
        memcpy(st->method, value, n);
        st->method[n] = 0;
    } else if (IS(":path")) {
        st->path_long = valuelen >= sizeof st->path;
        if (!st->path_long) {
            memcpy(st->path, value, valuelen);
            st->path[valuelen] = 0;
        }
    } else if (IS("content-type")) {
        st->grpc = is_grpc_type(value, valuelen);
    } else if (IS("grpc-encoding")) {
        size_t n = valuelen < sizeof st->encoding - 1 ? valuelen : sizeof st->encoding - 1;
        memcpy(st->encoding, value, n);
        st->encoding[n] = 0;
    } else if (IS("traceparent") && server_conn_sampler(st->s->conn)) {
        size_t n = valuelen < sizeof st->traceparent ? valuelen : sizeof st->traceparent;
        if (st->tp_len) {
            st->tp_len = 0xff;
        } else if (n) {
            memcpy(st->traceparent, value, n);
            st->tp_len = (uint8_t)n;
        }
    } else if (IS("grpc-timeout")) {
        int64_t ns;
        if (grpc_timeout_parse((const char *)value, valuelen, &ns) < 0) {
            st->bad_timeout = true;
        } else {
            int64_t now = loop_now(server_conn_loop(st->s->conn));
            st->deadline = ns > INT64_MAX - now ? INT64_MAX : now + ns;
        }
    }
#undef IS
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    h2_call_t *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st)
        return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        headers_done(st);
    if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
        request_end(st);
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p,
                         size_t n, void *ud)
{
    h2_call_t *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st)
        request_data(st, p, n);
    return 0;
}

/* A stream ends: answered, reset by the client (the call is cancelled: its stream makes no
 * more messages), or the connection is going. */
static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *ud)
{
    h2_session_t *s = ud;
    h2_call_t *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    if (st->prev)
        st->prev->next = st->next;
    else
        s->calls = st->next;
    if (st->next)
        st->next->prev = st->prev;
    s->ncalls--;
    bool had_deadline = st->deadline != 0;
    free_call(st);
    if (had_deadline)
        arm_deadlines(s);
    return 0;
}

/* ---- deadlines ---- */

static void on_deadlines(loop_t *loop, loop_timer_t *t)
{
    h2_session_t *s = container_of(t, h2_session_t, deadlines);
    int64_t now = loop_now(loop);
    for (h2_call_t *st = s->calls; st; st = st->next) {
        if (!st->deadline || st->deadline > now || st->phase == ST_DONE || st->expired)
            continue;
        if (st->phase < ST_SENDING) {
            h2_call_error(st, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
        } else {
            /* The message being sent goes out whole; then the status. */
            st->expired = true;
            nghttp2_session_resume_data(s->ng, st->id);
        }
    }
    arm_deadlines(s);
    server_conn_kick(s->conn);
}

/* ---- the session, as the server core sees it ---- */

static nghttp2_session_callbacks *callbacks;
static nghttp2_option *options;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static void setup(void)
{
    if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&options) != 0)
        return;
    nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, on_begin_frame);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    /* The limit is ours to enforce on what the client opens, before it knows our SETTINGS. */
    nghttp2_option_set_max_reserved_remote_streams(options, 0);
}

static void *h2_open(server_conn_t *c, const void *arg, void *state)
{
    pthread_once(&setup_once, setup);
    if (!callbacks || !options)
        return NULL;
    h2_session_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->conn = c;
    s->svc = arg;
    s->state = state;
    s->metrics = server_conn_metrics(c);
    loop_timer_init(&s->deadlines, on_deadlines);
    if (nghttp2_session_server_new2(&s->ng, callbacks, s, options) != 0) {
        free(s);
        return NULL;
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
    };
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0) {
        nghttp2_session_del(s->ng);
        free(s);
        return NULL;
    }
    return s;
}

static int h2_input(void *sess, const uint8_t *p, size_t n)
{
    h2_session_t *s = sess;
    ssize_t rc = nghttp2_session_mem_recv(s->ng, p, n);
    return rc < 0 ? -1 : 0;
}

static int h2_output(void *sess, buf_t *out, size_t limit)
{
    h2_session_t *s = sess;
    while (buf_size(out) < limit) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(s->ng, &data);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (buf_append(out, data, (size_t)n) < 0)
            return -1;
    }
    return 0;
}

static bool h2_busy(void *sess)
{
    return ((h2_session_t *)sess)->ncalls > 0;
}

static bool h2_over(void *sess)
{
    h2_session_t *s = sess;
    return !nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng);
}

static void h2_stop(void *sess)
{
    h2_session_t *s = sess;
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

static void h2_close(void *sess)
{
    h2_session_t *s = sess;
    loop_timer_stop(server_conn_loop(s->conn), &s->deadlines);
    /* nghttp2_session_del does not call on_stream_close: the calls still open are freed here. */
    nghttp2_session_del(s->ng);
    while (s->calls) {
        h2_call_t *st = s->calls;
        s->calls = st->next;
        free_call(st);
    }
    free(s);
}

const server_proto_t h2_proto = {
    .open = h2_open,
    .input = h2_input,
    .output = h2_output,
    .busy = h2_busy,
    .over = h2_over,
    .stop = h2_stop,
    .close = h2_close,
};
