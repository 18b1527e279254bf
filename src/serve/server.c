#include "serve/server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/net.h"
#include "telemetry/metrics.h"
#include "telemetry/otlp.h"

/* Bytes asked of each recv(). Large enough that a 1 KiB request pipelined 16 deep fits one read. */
#define READ_CHUNK 16384
/* What a read leaves unfinished up to this size is copied into a buffer of the connection's
 * own; beyond it the connection takes the worker's read buffer (a body on its way). */
#define KEEP_SMALL 1024
/* An output buffer emptied is kept up to this capacity (the next answer reuses it), freed above. */
#define OUT_KEEP 4096
/* At the descriptor limit, accept is tried again after this long (not in a loop). */
#define ACCEPT_RETRY_NS (50 * NS_PER_MS)
/* Stop answering buffered pipelined requests when this much output is pending: write it first. */
#define OUT_HIGH_WATER (256 * 1024)
#define SWEEP_NS (250 * NS_PER_MS)
#define LINGER_NS (2 * NS_PER_S)

typedef struct worker worker_t;

struct server_conn {
    loop_io_t io;
    worker_t *w;
    buf_t in, out;
    server_conn_t *prev, *next;
    int64_t deadline;        /* monotonic ns; checked by the worker's sweep */
    bool in_request;         /* part of a request is buffered: the request timeout runs */
    bool continue_sent;      /* "100 Continue" already sent for the current request */
    bool have_head;          /* the current request's head was seen; `chunk` is its decoder */
    http_chunked_t chunk;
    bool closing;            /* close once the output is written */
    bool lingering;          /* output written and half-closed: discarding input until EOF */
    bool head_only;          /* the request being answered is HEAD */
    bool keep_alive;         /* the request being answered allows keep-alive */
    bool http10;             /* the request being answered is HTTP/1.0 */
    bool peer_closed;        /* epoll reported the peer's FIN: read on to end-of-stream */
    bool borrowed;           /* `in` is the worker's read buffer, lent for this drive */
    server_later_t *later;   /* a handler answers later (server_defer); nothing else is parsed */
    void *sess;              /* the service's protocol's session (svc->proto), else NULL */
    bool stop_told;          /* the session was told of the stop */
    loop_timer_t resume;     /* a session's drive that yielded to the other connections */
    bool plain;              /* on the metrics port: HTTP/1.1, /metrics and /health only */
    metrics_req_t mreq;      /* the request being read or answered, for the metrics */
    trace_span_t *span;      /* tracing: the request's span, made on the first one sampled */
    bool span_open;          /* span is the unanswered request's */
};

struct worker {
    int id, cpu;
    pthread_t thread;
    loop_t *loop;
    loop_io_t listen_io;
    loop_io_t wake_io;
    loop_timer_t sweep;
    loop_timer_t accept_retry; /* armed while accept says the descriptors are used up */
    buf_t scratch;           /* the read buffer lent to the connection being driven */
    server_conn_t *conns;
    size_t nconns;
    uint64_t requests;
    bool stopping;
    int64_t stop_deadline;
    int nworkers;
    void *state;             /* the service's worker_init: handed to every handler */
    bool start_failed;       /* worker_init said no: the server does not start */
    char start_err[256];
    const server_config_t *cfg;
    const server_service_t *svc;
    metrics_t *metrics_all;  /* every worker's, for a scrape */
    metrics_worker_t *metrics; /* this worker's: written by its thread only */
    loop_io_t metrics_io;    /* worker 0: the --metrics-port listener */
    int port;                /* the listener's */
    otlp_queue_t *spans;     /* tracing: this worker's queue, else NULL */
    trace_sampler_t sampler;
};

void server_config_defaults(server_config_t *cfg)
{
    *cfg = (server_config_t){
        .host = "127.0.0.1",
        .port = 8080,
        .workers = 0,
        .body_limit = 0,
        .request_timeout_ns = 10 * NS_PER_S,
        .idle_timeout_ns = 60 * NS_PER_S,
        .grace_ns = 10 * NS_PER_S,
        .shared_listener = false,
        .otlp_endpoint = NULL,
        .trace_ratio = 0.01,
    };
}

/* ---- tracing ---- */

trace_span_t *server_conn_span(server_conn_t *c)
{
    return c->span_open ? c->span : NULL;
}

trace_sampler_t *server_conn_sampler(server_conn_t *c)
{
    return c->w->spans ? &c->w->sampler : NULL;
}

void server_conn_span_emit(server_conn_t *c, const trace_span_t *span)
{
    if (c->w->spans)
        otlp_enqueue(c->w->spans, span);
}

int server_conn_port(server_conn_t *c)
{
    return c->w->port;
}

/* The traceparent of a request: none when absent or repeated (W3C Trace Context: a request
 * with two is treated as having an invalid one). */
static const http_str_t *traceparent_of(const http_msg_t *m)
{
    const http_str_t *tp = NULL;
    for (size_t i = 0; i < m->nheaders; i++)
        if (m->headers[i].name.n == 11 && strncasecmp(m->headers[i].name.p, "traceparent", 11) == 0) {
            if (tp)
                return NULL;
            tp = &m->headers[i].value;
        }
    return tp;
}

/* Probes are not traced (contracts/telemetry.md): a health check or a scrape. */
static bool route_untraced(const server_route_t *r)
{
    return r->fn == server_health || strcmp(r->path, "/health") == 0 ||
           strcmp(r->path, "/metrics") == 0;
}

/* The request's SERVER span, when sampled. route: its pattern as the metrics label it
 * ("/accounts/{id}"); NULL for an unknown path (the span is then named by its method alone,
 * as OpenTelemetry's HTTP conventions say). */
static void span_begin(server_conn_t *c, const http_msg_t *m, const char *route)
{
    worker_t *w = c->w;
    const http_str_t *tp = traceparent_of(m);
    trace_span_t sp;
    if (!trace_span_begin(&w->sampler, tp ? tp->p : NULL, tp ? tp->n : 0, TRACE_KIND_SERVER, &sp))
        return;
    /* The connection keeps its span's room from its first sampled request on. */
    if (!c->span && !(c->span = malloc(sizeof *c->span)))
        return;
    trace_span_t *s = c->span;
    *s = sp;
    trace_span_name(s, m->method.p, m->method.n, route, route ? strlen(route) : 0);
    trace_span_str(s, "http.request.method", m->method.p, m->method.n);
    trace_span_str(s, "url.path", m->path.p, m->path.n);
    if (route)
        trace_span_str(s, "http.route", route, strlen(route));
    trace_span_str(s, "network.protocol.version", m->minor ? "1.1" : "1.0", 3);
    trace_span_int(s, "server.port", w->port);
    c->span_open = true;
}

static void span_end(server_conn_t *c, int status)
{
    c->span_open = false;
    trace_span_int(c->span, "http.response.status_code", status);
    if (status >= 500)
        c->span->status = TRACE_STATUS_ERROR;
    c->span->end_ns = trace_now_ns();
    otlp_enqueue(c->w->spans, c->span);
}

/* ---- answers ---- */

void server_respond(server_conn_t *c, int status, const char *content_type, const char *extra,
                    const void *body, size_t len)
{
    if (c->w->metrics && !c->plain)
        metrics_req_answered(c->w->metrics, &c->mreq, status, c->head_only ? 0 : len);
    if (c->span_open)
        span_end(c, status);
    bool keep = c->keep_alive && !c->closing && !c->w->stopping;
    http_conn_t conn = !keep ? HTTP_CONN_CLOSE : c->http10 ? HTTP_CONN_KEEP_10 : HTTP_CONN_KEEP;
    if (http_write_response_head(&c->out, status, content_type, len, conn, extra) ||
        (!c->head_only && len && buf_append(&c->out, body, len))) {
        c->closing = true; /* out of memory: give up on this connection */
        return;
    }
    if (!keep)
        c->closing = true;
}

void server_respond_error(server_conn_t *c, int status, const char *code)
{
    char body[128];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", code);
    server_respond(c, status, "application/json", NULL, body, (size_t)n);
}

void server_health(server_conn_t *c, server_req_t *req, void *state)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    server_respond(c, 200, "application/json", NULL, ok, sizeof ok - 1);
}

void server_defer(server_conn_t *c, server_later_t *later)
{
    later->conn = c;
    c->later = later;
}

static void conn_drive(server_conn_t *c, bool peer_closed);

loop_t *server_conn_loop(server_conn_t *c)
{
    return c->w->loop;
}

metrics_worker_t *server_conn_metrics(server_conn_t *c)
{
    return c->w->metrics;
}

void server_conn_answered(server_conn_t *c)
{
    c->w->requests++;
}

void server_conn_kick(server_conn_t *c)
{
    if (c->io.fd >= 0)
        conn_drive(c, false);
}

server_conn_t *server_conn_detached(loop_t *loop, const server_service_t *svc, void *state)
{
    static const server_config_t cfg = {.idle_timeout_ns = 60 * NS_PER_S};
    worker_t *w = calloc(1, sizeof *w);
    server_conn_t *c = calloc(1, sizeof *c);
    if (!w || !c)
        goto fail;
    w->loop = loop;
    w->svc = svc;
    w->cfg = &cfg;
    w->state = state;
    c->w = w;
    c->io.fd = -1;
    loop_timer_init(&c->resume, NULL);
    if (svc->proto && !(c->sess = svc->proto->open(c, svc->proto_arg, state)))
        goto fail;
    return c;
fail:
    free(w);
    free(c);
    return NULL;
}

void *server_conn_session(server_conn_t *c)
{
    return c->sess;
}

void server_conn_detached_free(server_conn_t *c)
{
    if (!c)
        return;
    if (c->sess)
        c->w->svc->proto->close(c->sess);
    free(c->w);
    free(c);
}

void server_resume(server_later_t *later)
{
    server_conn_t *c = later->conn;
    if (!c)
        return;
    later->conn = NULL;
    c->later = NULL;
    /* The next request (if any is buffered) starts its clock now. */
    c->in_request = false;
    conn_drive(c, false);
}

/* Answers, then closes: for requests whose framing we cannot trust any more. */
static void respond_and_close(server_conn_t *c, int status, const char *code)
{
    c->closing = true;
    c->head_only = false;
    server_respond_error(c, status, code);
}

static void respond_too_large(server_conn_t *c)
{
    char body[96];
    int n = snprintf(body, sizeof body, "{\"error\":\"body_too_large\",\"limit\":%llu}",
                     (unsigned long long)c->w->cfg->body_limit);
    c->closing = true;
    c->head_only = false;
    server_respond(c, 413, "application/json", NULL, body, (size_t)n);
}

/* Whether a route's Allow list takes method; HEAD goes wherever GET does. */
static bool allow_has(const char *allow, http_str_t method)
{
    if (http_str_eq(method, "HEAD") && allow_has(allow, (http_str_t){"GET", 3}))
        return true;
    const char *p = allow;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        if ((size_t)(p - s) == method.n && memcmp(s, method.p, method.n) == 0)
            return true;
    }
    return false;
}

/* path matches pattern: exactly, or up to a final '*' that takes the rest of one segment. */
static bool route_match(http_str_t path, const char *pattern)
{
    size_t n = strlen(pattern);
    if (n == 0 || pattern[n - 1] != '*')
        return http_str_eq(path, pattern);
    n--;
    return path.n >= n && memcmp(path.p, pattern, n) == 0 &&
           !memchr(path.p + n, '/', path.n - n);
}

/* GET /metrics, on every service's port (and the metrics port): the figures of every worker. */
static void metrics_get(server_conn_t *c, server_req_t *req, void *state)
{
    buf_t text = BUF_INIT;
    int rc = c->w->metrics_all ? metrics_write(c->w->metrics_all, &text) : -1;
    if (rc == 0 && c->w->spans) {
        /* Tracing's own figures (telemetry/otlp.h), when it is on. */
        char n[24];
        snprintf(n, sizeof n, "%llu", (unsigned long long)otlp_spans_exported_total());
        rc = metrics_write_family(&text, "otel_spans_exported_total", "counter",
                                  "Spans the collector accepted.") ||
             metrics_write_sample(&text, "otel_spans_exported_total", NULL, n);
        snprintf(n, sizeof n, "%llu", (unsigned long long)otlp_spans_dropped_total());
        rc = rc || metrics_write_family(&text, "otel_spans_dropped_total", "counter",
                                        "Spans dropped: a full queue, or a failed export.") ||
             metrics_write_sample(&text, "otel_spans_dropped_total", NULL, n);
    }
    if (rc != 0)
        server_respond_error(c, 500, "out_of_memory");
    else
        server_respond(c, 200, METRICS_CONTENT_TYPE, NULL, buf_start(&text), buf_size(&text));
    buf_free(&text);
}

/* The core's own routes, ahead of the service's; on the metrics port, the only ones. */
static const server_route_t core_routes[] = {
    {"/metrics", "GET, HEAD", metrics_get},
    {"/health", "GET, HEAD", server_health},
};

/* The route taking path: its index in routes[n], or -1. */
static int route_find(const server_route_t *routes, size_t n, http_str_t path)
{
    for (size_t i = 0; i < n; i++)
        if (route_match(path, routes[i].path))
            return (int)i;
    return -1;
}

/* The metrics' route index of a request: /metrics, /health and the metrics port's requests
 * are not counted (a scrape does not measure itself). */
static int metrics_route(const server_conn_t *c, http_str_t path)
{
    if (c->plain || http_str_eq(path, "/metrics"))
        return METRICS_ROUTE_SKIP;
    const server_service_t *svc = c->w->svc;
    int i = route_find(svc->routes, svc->nroutes, path);
    return i >= 0 && svc->routes[i].fn == server_health ? METRICS_ROUTE_SKIP
           : i >= 0                                     ? i
                                                        : METRICS_ROUTE_OTHER;
}

static void dispatch(server_conn_t *c, const http_msg_t *m, char *body, size_t body_len)
{
    const server_service_t *svc = c->w->svc;
    c->head_only = http_str_eq(m->method, "HEAD");
    c->keep_alive = m->keep_alive;
    c->http10 = m->minor == 0;
    const server_route_t *routes = svc->routes;
    size_t nroutes = svc->nroutes;
    if (c->plain || http_str_eq(m->path, "/metrics")) {
        routes = core_routes;
        nroutes = c->plain ? 2 : 1;
    }
    int i = route_find(routes, nroutes, m->path);
    /* Probes (/metrics, /health) are not traced (contracts/telemetry.md). */
    if (c->w->spans && routes == svc->routes && (i < 0 || !route_untraced(&routes[i])))
        span_begin(c, m, i < 0 ? NULL : metrics_route_label(c->w->metrics_all, i));
    if (i < 0) {
        server_respond_error(c, 404, "not_found");
        return;
    }
    const server_route_t *r = &routes[i];
    if (!allow_has(r->allow, m->method)) {
        char extra[96];
        snprintf(extra, sizeof extra, "Allow: %s\r\n", r->allow);
        char body405[] = "{\"error\":\"method_not_allowed\"}";
        server_respond(c, 405, "application/json", extra, body405, sizeof body405 - 1);
        return;
    }
    server_req_t req = {.msg = m, .body = body, .body_len = body_len};
    r->fn(c, &req, c->w->state);
}

/* ---- connections ---- */

static void conn_close(server_conn_t *c)
{
    worker_t *w = c->w;
    if (w->metrics && !c->plain) {
        metrics_req_drop(w->metrics, &c->mreq);
        w->metrics->conns_closed++;
    }
    if (c->later)
        c->later->conn = NULL; /* the handler's answer has nowhere to go */
    if (c->sess)
        w->svc->proto->close(c->sess);
    c->sess = NULL;
    loop_timer_stop(w->loop, &c->resume);
    close(c->io.fd);
    c->io.fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    if (c->borrowed) {
        buf_clear(&c->in);
        buf_free(&w->scratch);
        w->scratch = c->in;
        c->in = (buf_t)BUF_INIT;
        c->borrowed = false;
    }
    buf_free(&c->in);
    buf_free(&c->out);
    free(c->span); /* an unanswered request's span is not sent: it has no status */
    c->span = NULL;
    /* A database answer can close this connection while epoll still has an event for it in
     * the current round (loop.h). */
    loop_free_later(w->loop, c);
}

/* ---- input buffers ----
 * An idle connection holds no input buffer: a 16 KiB read buffer per connection made each idle
 * connection cost about 25 KiB, and 10 000 slow clients a quarter of a GiB. Reads go into the
 * worker's buffer, lent to the connection being driven (in_borrow); when the drive ends
 * (in_settle), what the reads left unfinished (a partial request, pipelined requests that
 * wait behind an answer given later) is copied into a small buffer of the connection's own,
 * or, when large (a body arriving), the connection keeps the lent buffer and the worker makes
 * a new one. Handlers may not keep pointers into a request after they return (server.h). */

/* Before a read: the worker's buffer, with the connection's unfinished bytes moved into it
 * (reading into the small buffer would grow it to a read's size and keep it). A large
 * unfinished request (a body on its way) reads on into its own. */
static void in_borrow(server_conn_t *c)
{
    size_t n = buf_size(&c->in);
    if (c->borrowed || n > KEEP_SMALL)
        return;
    buf_t lent = c->w->scratch;
    if (n > 0 && buf_append(&lent, buf_start(&c->in), n) != 0) {
        c->w->scratch = lent; /* out of memory: read into its own */
        return;
    }
    c->w->scratch = (buf_t)BUF_INIT;
    buf_free(&c->in);
    c->in = lent;
    c->borrowed = true;
}

static void in_settle(server_conn_t *c)
{
    worker_t *w = c->w;
    if (buf_size(&c->out) == 0 && c->out.cap > OUT_KEEP)
        buf_free(&c->out);
    size_t n = buf_size(&c->in);
    if (!c->borrowed) {
        if (n == 0)
            buf_free(&c->in);
        return;
    }
    buf_t own = BUF_INIT;
    if (n > KEEP_SMALL || (n > 0 && buf_append(&own, buf_start(&c->in), n) != 0)) {
        c->borrowed = false; /* the connection keeps it; the worker makes another */
        return;
    }
    buf_clear(&c->in);
    if (c->in.cap > 4 * READ_CHUNK)
        buf_free(&c->in); /* a big body passed through it: do not keep its size */
    /* A drive of another connection nested in this one's (a handler's database call answered
     * it) was lent a buffer of its own and gave it back: keep one. */
    buf_free(&w->scratch);
    w->scratch = c->in;
    c->in = own;
    c->borrowed = false;
}

/* Parses and answers every complete request in the input buffer. */
static void conn_process(server_conn_t *c)
{
    worker_t *w = c->w;
    const server_config_t *cfg = w->cfg;
    while (buf_size(&c->in) > 0 && !c->closing && !c->later &&
           buf_size(&c->out) < OUT_HIGH_WATER) {
        /* The head is re-parsed until the body is complete: it is small, and the buffer may
         * have moved since the last read, so pointers into it are not kept across reads. */
        http_msg_t m;
        char *start = buf_start(&c->in);
        size_t avail = buf_size(&c->in);
        int rc = http_parse_request(start, avail, &m, HTTP_MAX_HEAD);
        if (rc == HTTP_INCOMPLETE)
            break;
        if (rc < 0) {
            /* Whatever is refused is answered and the connection closed: after a message whose
             * framing is in doubt, nothing on the connection can be trusted. */
            if (rc == HTTP_ERR_HEAD_TOO_LARGE || rc == HTTP_ERR_TOO_MANY_HEADERS)
                respond_and_close(c, 431, "headers_too_large");
            else if (rc == HTTP_ERR_VERSION)
                respond_and_close(c, 505, "http_version_not_supported");
            else if (rc == HTTP_ERR_ENCODING)
                respond_and_close(c, 501, "transfer_coding_not_implemented");
            else if (rc == HTTP_ERR_EXPECT)
                respond_and_close(c, 417, "expectation_failed");
            else
                respond_and_close(c, 400, "bad_request");
            break;
        }
        /* The chunked decoder resumes where the last read left it: its offsets are relative
         * to the body start, which stays put relative to the unread input until the request
         * is done. */
        if (!c->have_head) {
            http_chunked_init(&c->chunk);
            if (w->metrics)
                metrics_req_begin(w->metrics, &c->mreq, m.method, metrics_route(c, m.path));
        }
        c->have_head = true;
        http_frame_t f;
        int fr = http_frame(&m, start, avail, false, cfg->body_limit, &c->chunk, &f);
        if (fr == HTTP_ERR_BODY_TOO_LARGE) {
            respond_too_large(c);
            break;
        }
        if (fr < 0) {
            respond_and_close(c, 400, "bad_request");
            break;
        }
        if (fr == 0) {
            if (f.missing)
                buf_reserve(&c->in, f.missing); /* one allocation for the rest of the body */
            goto need_body;
        }
        c->mreq.body = f.body_len;
        dispatch(c, &m, start + m.head_len, f.body_len);
        w->requests += !c->plain;
        buf_consume(&c->in, f.total);
        c->in_request = false;
        c->continue_sent = false;
        c->have_head = false;
        continue;
    need_body:
        if (m.expect_continue && !c->continue_sent) {
            buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
            c->continue_sent = true;
        }
        break;
    }
    if (c->later)
        return; /* a request is in flight: no timeout of ours applies (the service bounds it) */
    bool partial = buf_size(&c->in) > 0 && !c->closing;
    if (partial && !c->in_request) {
        c->in_request = true;
        c->deadline = loop_now(w->loop) + cfg->request_timeout_ns;
    } else if (!partial) {
        c->in_request = false;
        c->deadline = loop_now(w->loop) + cfg->idle_timeout_ns;
    }
}

/* A protocol's connection: what was read goes to the session (which keeps what it needs), and
 * what it has to send comes out into the output buffer, up to PROTO_OUT per round so that a
 * client that does not read holds the session's streams, not our memory. */
#define PROTO_OUT (64 * 1024)
/* A session that always has more to send (a long stream to a fast reader) would keep its
 * worker: after this many rounds its drive yields, and goes on from a timer due at once. */
#define PROTO_ROUNDS 16

static void proto_process(server_conn_t *c)
{
    const server_proto_t *p = c->w->svc->proto;
    if (buf_size(&c->in) > 0) {
        int rc = p->input(c->sess, (const uint8_t *)buf_start(&c->in), buf_size(&c->in));
        buf_clear(&c->in);
        if (rc < 0)
            c->closing = true;
    }
    if (p->output(c->sess, &c->out, PROTO_OUT) < 0 || p->over(c->sess))
        c->closing = true;
    c->deadline = loop_now(c->w->loop) + c->w->cfg->idle_timeout_ns;
}

/* Writes pending output. 1: all written, 0: the socket is full (EPOLLOUT will call back),
 * -1: the peer is gone. */
static int conn_flush(server_conn_t *c)
{
    while (buf_size(&c->out) > 0) {
        ssize_t n = send(c->io.fd, buf_start(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return -1;
    }
    return 1;
}

/* Closing with input possibly unread (a 413 before the body, a 400 amid garbage): closing
 * at once would make the kernel answer the client's next bytes with a reset, which can destroy
 * our answer before the client reads it. So: half-close, discard what still arrives until the
 * client closes, for at most LINGER_NS (the sweep enforces it). */
static void conn_linger(server_conn_t *c)
{
    if (!c->lingering) {
        shutdown(c->io.fd, SHUT_WR);
        c->lingering = true;
        c->in_request = false;
        c->deadline = loop_now(c->w->loop) + LINGER_NS;
    }
    for (;;) {
        buf_clear(&c->in);
        in_borrow(c);
        if (buf_reserve(&c->in, READ_CHUNK) < 0) {
            conn_close(c);
            return;
        }
        ssize_t n = recv(c->io.fd, buf_end(&c->in), buf_room(&c->in), 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(c);
        return;
    }
}

/* Drives a connection as far as it can go without blocking: write, answer, read, repeat.
 * peer_closed: epoll reported the peer's FIN (EPOLLRDHUP), so a short read does not mean the
 * socket is drained: the end of stream is still to be read, and no new edge will announce it. */
static void conn_drive_once(server_conn_t *c, bool peer_closed)
{
    c->peer_closed |= peer_closed;
    for (int rounds = 0;; rounds++) {
        int f = conn_flush(c);
        if (f < 0) {
            conn_close(c);
            return;
        }
        if (f == 0) {
            /* Output blocked: stop reading (backpressure) until EPOLLOUT. */
            c->deadline = loop_now(c->w->loop) + c->w->cfg->idle_timeout_ns;
            return;
        }
        if (c->closing) {
            conn_linger(c);
            return;
        }
        if (c->later)
            return; /* waiting for the handler's answer: server_resume drives us again */
        if (c->sess) {
            if (rounds >= PROTO_ROUNDS) {
                loop_timer_set(c->w->loop, &c->resume, loop_now(c->w->loop));
                return;
            }
            proto_process(c);
            if (buf_size(&c->out) > 0 || c->closing)
                continue;
        } else if (buf_size(&c->in) > 0) {
            size_t before = buf_size(&c->out);
            conn_process(c);
            if (buf_size(&c->out) > before || c->closing || c->later)
                continue; /* write what was answered before reading more */
        }
        in_borrow(c);
        if (buf_reserve(&c->in, READ_CHUNK) < 0) {
            conn_close(c);
            return;
        }
        size_t room = buf_room(&c->in);
        ssize_t n = recv(c->io.fd, buf_end(&c->in), room, 0);
        if (n > 0) {
            buf_commit(&c->in, (size_t)n);
            metrics_req_read(&c->mreq);
            if (c->sess)
                proto_process(c);
            else
                conn_process(c);
            if (buf_size(&c->out) > 0 || c->closing || c->later)
                continue;
            /* A short read drained the socket: with edge-triggered epoll, new data raises a
             * new event, so the extra recv() that would return EAGAIN is skipped. */
            if ((size_t)n < room && !c->peer_closed)
                return;
            continue;
        }
        if (n == 0) {
            /* Peer closed its side: nothing more will come. */
            conn_close(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_close(c);
        return;
    }
}

static void conn_drive(server_conn_t *c, bool peer_closed)
{
    conn_drive_once(c, peer_closed);
    if (c->io.fd >= 0) /* closed: conn_close gave everything back */
        in_settle(c);
}

static void on_resume(loop_t *loop, loop_timer_t *t)
{
    conn_drive(container_of(t, server_conn_t, resume), false);
}

static void conn_on_io(loop_t *loop, loop_io_t *io, uint32_t events)
{
    server_conn_t *c = container_of(io, server_conn_t, io);
    if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
        conn_close(c);
        return;
    }
    conn_drive(c, events & (EPOLLRDHUP | EPOLLHUP));
}

/* Accepts what waits on listener io: the service's connections, or (plain) the metrics
 * port's. */
static void accept_conns(worker_t *w, loop_io_t *io, bool plain)
{
    loop_t *loop = w->loop;
    for (;;) {
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* Out of descriptors (or memory): the waiting connections stay in the backlog,
             * and the edge-triggered listener will not say so again; retrying at once would
             * spin. So: again in ACCEPT_RETRY_NS, until accept says EAGAIN. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                loop_timer_set(loop, &w->accept_retry, loop_now(loop) + ACCEPT_RETRY_NS);
            return;
        }
        server_conn_t *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        net_nodelay(fd);
        c->io.fd = fd;
        c->io.cb = conn_on_io;
        c->w = w;
        c->plain = plain;
        loop_timer_init(&c->resume, on_resume);
        c->deadline = loop_now(loop) + w->cfg->idle_timeout_ns;
        if (w->svc->proto && !plain &&
            !(c->sess = w->svc->proto->open(c, w->svc->proto_arg, w->state))) {
            close(fd);
            free(c);
            continue;
        }
        if (loop_add(loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) < 0) {
            if (c->sess)
                w->svc->proto->close(c->sess);
            close(fd);
            free(c);
            continue;
        }
        c->next = w->conns;
        if (w->conns)
            w->conns->prev = c;
        w->conns = c;
        w->nconns++;
        if (w->metrics && !plain)
            w->metrics->conns_opened++;
        /* Data may already be waiting (the request often arrives with the handshake). */
        conn_drive(c, false);
    }
}

static void on_accept(loop_t *loop, loop_io_t *io, uint32_t events)
{
    accept_conns(container_of(io, worker_t, listen_io), io, false);
}

static void on_accept_metrics(loop_t *loop, loop_io_t *io, uint32_t events)
{
    accept_conns(container_of(io, worker_t, metrics_io), io, true);
}

static void on_accept_retry(loop_t *loop, loop_timer_t *t)
{
    worker_t *w = container_of(t, worker_t, accept_retry);
    if (w->listen_io.fd >= 0 && !w->stopping)
        on_accept(loop, &w->listen_io, EPOLLIN);
}

/* Closes what timed out; during a stop, closes idle connections and ends the loop when none
 * are left or the grace period is over. */
static void on_sweep(loop_t *loop, loop_timer_t *t)
{
    worker_t *w = container_of(t, worker_t, sweep);
    int64_t now = loop_now(loop);
    for (server_conn_t *c = w->conns, *next; c; c = next) {
        next = c->next;
        bool idle = !c->in_request && !c->later && buf_size(&c->out) == 0 &&
                    (!c->sess || !w->svc->proto->busy(c->sess));
        if (w->stopping && (idle || now > w->stop_deadline)) {
            conn_close(c);
        } else if (w->stopping && c->sess && !c->stop_told) {
            c->stop_told = true;
            w->svc->proto->stop(c->sess);
            conn_drive(c, false);
        } else if (now > c->deadline && !c->later && (!c->sess || idle)) {
            if (c->in_request && buf_size(&c->out) == 0) {
                respond_and_close(c, 408, "request_timeout");
                conn_drive(c, false);
            } else {
                conn_close(c);
            }
        }
    }
    if (w->stopping && w->nconns == 0) {
        loop_stop(loop);
        return;
    }
    loop_timer_set(loop, t, now + (w->stopping ? 10 * NS_PER_MS : SWEEP_NS));
}

static void on_wake(loop_t *loop, loop_io_t *io, uint32_t events)
{
    worker_t *w = container_of(io, worker_t, wake_io);
    uint64_t v;
    if (read(io->fd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;
    if (w->stopping)
        return;
    w->stopping = true;
    w->stop_deadline = loop_now(loop) + w->cfg->grace_ns;
    if (w->listen_io.fd >= 0) {
        loop_del(loop, &w->listen_io);
        if (!w->cfg->shared_listener)
            close(w->listen_io.fd);
        w->listen_io.fd = -1;
    }
    if (w->metrics_io.fd >= 0) {
        loop_del(loop, &w->metrics_io);
        close(w->metrics_io.fd);
        w->metrics_io.fd = -1;
    }
    loop_timer_set(loop, &w->sweep, loop_now(loop));
}

/* ---- workers and the run ---- */

/* The main thread waits until every worker has made its state (or failed to). */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t init_cond = PTHREAD_COND_INITIALIZER;
static int init_done;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    if (w->cpu >= 0)
        cpu_pin_self(w->cpu);
    if (w->svc->worker_init) {
        server_worker_t info = {.loop = w->loop, .id = w->id, .nworkers = w->nworkers,
                                .metrics = w->metrics};
        w->state = w->svc->worker_init(&info, w->start_err, sizeof w->start_err);
        w->start_failed = !w->state;
    }
    pthread_mutex_lock(&init_lock);
    init_done++;
    pthread_cond_signal(&init_cond);
    pthread_mutex_unlock(&init_lock);
    if (!w->start_failed)
        loop_run(w->loop);
    if (w->state && w->svc->worker_done)
        w->svc->worker_done(w->state);
    return NULL;
}

/* Wakes a worker: it stops (graceful when it serves, at once when it has not started). */
static void worker_wake(worker_t *w)
{
    uint64_t one = 1;
    if (write(w->wake_io.fd, &one, sizeof one) < 0)
        perror("eventfd write");
}

/* A worker's loop, listener, wake-up descriptor and sweep timer. 0, or -1 with err. */
static int worker_setup(worker_t *w, int listen_fd, char *err, size_t errlen)
{
    const server_config_t *cfg = w->cfg;
    w->listen_io = (loop_io_t){.fd = listen_fd, .cb = on_accept};
    w->metrics_io.cb = on_accept_metrics;
    w->wake_io = (loop_io_t){.fd = -1, .cb = on_wake};
    loop_timer_init(&w->sweep, on_sweep);
    loop_timer_init(&w->accept_retry, on_accept_retry);
    if (!(w->loop = loop_new())) {
        snprintf(err, errlen, "worker %d: %s", w->id, strerror(ENOMEM));
        return -1;
    }
    uint32_t ev = EPOLLIN | (cfg->shared_listener ? EPOLLEXCLUSIVE : 0);
    w->wake_io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_io.fd < 0 || loop_add(w->loop, &w->listen_io, ev) ||
        loop_add(w->loop, &w->wake_io, EPOLLIN) ||
        (w->metrics_io.fd >= 0 && loop_add(w->loop, &w->metrics_io, EPOLLIN)) ||
        loop_timer_set(w->loop, &w->sweep, loop_now(w->loop) + SWEEP_NS)) {
        snprintf(err, errlen, "cannot set up worker %d: %s", w->id, strerror(errno));
        return -1;
    }
    return 0;
}

static void worker_free(worker_t *w, bool shared_listener)
{
    if (w->listen_io.fd >= 0 && !shared_listener)
        close(w->listen_io.fd);
    if (w->wake_io.fd >= 0)
        close(w->wake_io.fd);
    if (w->metrics_io.fd >= 0)
        close(w->metrics_io.fd);
    buf_free(&w->scratch);
    loop_free(w->loop);
}

/* The exporter and each worker's queue and sampler. 0, or -1 with err. */
static int tracing_start(const server_config_t *cfg, const server_service_t *svc, worker_t *ws,
                         int nworkers, otlp_exporter_t **out, char *err, size_t errlen)
{
    char name[64];
    snprintf(name, sizeof name, "stackbench-%s", svc->name);
    const otlp_config_t oc = {.endpoint = cfg->otlp_endpoint,
                              .resource = {name, "c", SB_VERSION},
                              .nqueues = nworkers};
    /* Trace ids must differ between processes: the seed is the kernel's. */
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
        seed = (uint64_t)trace_now_ns() ^ ((uint64_t)getpid() << 32);
    for (int i = 0; i < nworkers; i++)
        trace_sampler_init(&ws[i].sampler, cfg->trace_ratio, seed, (uint64_t)i);
    if (!(*out = otlp_start(&oc, err, errlen)))
        return -1;
    for (int i = 0; i < nworkers; i++)
        ws[i].spans = otlp_queue(*out, i);
    return 0;
}

int server_run(const server_config_t *cfg_in, const server_service_t *svc)
{
    /* The resolved configuration lives here until every worker has been joined. */
    server_config_t resolved = *cfg_in;
    if (resolved.body_limit == 0)
        resolved.body_limit = svc->body_limit ? svc->body_limit : 1 << 20;
    const server_config_t *cfg = &resolved;
    char who[64], err[512];
    snprintf(who, sizeof who, "serve %s", svc->name);
    net_addr_t addr;
    if (net_resolve(cfg->host, cfg->port, &addr, err, sizeof err)) {
        sb_warn(who, "%s", err);
        return 1;
    }
    cpuset_t allowed;
    cpuset_allowed(&allowed);
    int cpus[CPUSET_MAX];
    int ncpu = cpuset_list(&allowed, cpus, CPUSET_MAX);
    int nworkers = cfg->workers > 0 ? cfg->workers : ncpu;

    /* Signals go to the main thread only (sigwait below); workers inherit the blocked mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Set-up, undone in reverse order from `fail` whatever step failed. */
    int rc = 1, shared_fd = -1, nready = 0, nthreads = 0, metrics_port = 0;
    otlp_exporter_t *exporter = NULL;
    int64_t stop_at = 0;
    worker_t *ws = calloc((size_t)nworkers, sizeof *ws);
    const char *route_paths[svc->nroutes + 1];
    for (size_t i = 0; i < svc->nroutes; i++)
        route_paths[i] = svc->routes[i].path;
    metrics_spec_t mspec = {.nworkers = nworkers, .routes = route_paths, .nroutes = svc->nroutes,
                            .calls = svc->calls, .ncalls = svc->ncalls,
                            .sql = svc->metrics_sql};
    metrics_t *metrics = metrics_new(&mspec);
    if (!ws || !metrics) {
        sb_warn(who, "out of memory");
        free(ws);
        metrics_free(metrics);
        return 1;
    }
    if (cfg->otlp_endpoint && tracing_start(cfg, svc, ws, nworkers, &exporter, err, sizeof err)) {
        sb_warn(who, "%s", err);
        goto fail;
    }
    for (int i = 0; i < nworkers; i++) {
        worker_t *w = &ws[i];
        w->id = i;
        w->nworkers = nworkers;
        w->cpu = cpus[i % ncpu];
        w->cfg = cfg;
        w->svc = svc;
        w->metrics_all = metrics;
        w->metrics = metrics_worker(metrics, i);
        w->listen_io.fd = w->wake_io.fd = w->metrics_io.fd = -1;
        int fd;
        if (cfg->shared_listener) {
            if (shared_fd < 0)
                shared_fd = net_listen(&addr, false, 4096);
            fd = shared_fd;
        } else {
            fd = net_listen(&addr, true, 4096);
        }
        if (fd < 0) {
            net_addr_str(&addr, err, sizeof err);
            sb_warn(who, "cannot listen on %s: %s", err, strerror(-fd));
            goto fail;
        }
        if (i == 0 && cfg->port == 0) {
            /* Port 0: the first socket picks a free port, the other workers join it. */
            net_set_port(&addr, net_local_port(fd));
        }
        if (i == 0 && cfg->metrics_port > 0) {
            /* The metrics port: one listener, worker 0's (a scrape is rare). */
            net_addr_t maddr = addr;
            net_set_port(&maddr, cfg->metrics_port);
            if ((w->metrics_io.fd = net_listen(&maddr, false, 64)) < 0) {
                int e = -w->metrics_io.fd;
                w->metrics_io.fd = -1;
                net_addr_str(&maddr, err, sizeof err);
                sb_warn(who, "cannot listen on %s (--metrics-port): %s", err, strerror(e));
                if (!cfg->shared_listener)
                    close(fd);
                goto fail;
            }
            metrics_port = net_local_port(w->metrics_io.fd);
        }
        w->port = net_local_port(fd);
        int setup = worker_setup(w, fd, err, sizeof err);
        nready = i + 1; /* its listener is taken, whatever worker_setup did */
        if (setup) {
            sb_warn(who, "%s", err);
            goto fail;
        }
    }
    init_done = 0;
    for (; nthreads < nworkers; nthreads++) {
        if (pthread_create(&ws[nthreads].thread, NULL, worker_main, &ws[nthreads]) != 0) {
            sb_warn(who, "cannot start worker %d", nthreads);
            for (int i = 0; i < nthreads; i++)
                worker_wake(&ws[i]);
            goto fail;
        }
    }
    pthread_mutex_lock(&init_lock);
    while (init_done < nworkers)
        pthread_cond_wait(&init_cond, &init_lock);
    pthread_mutex_unlock(&init_lock);
    int failed = -1;
    for (int i = 0; i < nworkers; i++)
        if (ws[i].start_failed && failed < 0)
            failed = i;
    if (failed >= 0) {
        /* The workers that did start are stopped and every worker is joined before returning:
         * the process must not exit (running library destructors) while a worker still tears
         * down its state. */
        sb_warn(who, "%s", ws[failed].start_err);
        for (int i = 0; i < nworkers; i++)
            if (!ws[i].start_failed)
                worker_wake(&ws[i]);
        goto fail;
    }
    char where[128];
    net_addr_str(&addr, where, sizeof where);
    sb_warn(who, "listening on http://%s (%d worker%s, %s)", where, nworkers,
            nworkers == 1 ? "" : "s", cfg->shared_listener ? "shared listener" : "SO_REUSEPORT");
    if (metrics_port) {
        net_set_port(&addr, metrics_port);
        net_addr_str(&addr, where, sizeof where);
        sb_warn(who, "metrics on http://%s/metrics", where);
    }

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    stop_at = clock_now_ns();
    for (int i = 0; i < nworkers; i++)
        worker_wake(&ws[i]);
    rc = 0;
fail:;
    uint64_t total = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(ws[i].thread, NULL);
        total += ws[i].requests;
    }
    if (rc == 0)
        fprintf(stderr, "served %llu requests\n", (unsigned long long)total);
    if (exporter) {
        /* The workers are done: what they queued is sent within what is left of the grace. */
        otlp_stop(exporter, (stop_at ? stop_at : clock_now_ns()) + cfg->grace_ns);
        if (rc == 0)
            fprintf(stderr, "spans: %llu exported, %llu dropped\n",
                    (unsigned long long)otlp_spans_exported_total(),
                    (unsigned long long)otlp_spans_dropped_total());
    }
    for (int i = 0; i < nready; i++)
        worker_free(&ws[i], cfg->shared_listener);
    if (shared_fd >= 0)
        close(shared_fd);
    free(ws);
    metrics_free(metrics);
    return rc;
}
