#include "load/load.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/loop.h"
#include "core/net.h"
#include "http/url.h"
#include "load/conn.h"

const char *const load_err_names[LOAD_ERR_KINDS] = {"connect", "read",   "write", "timeout",
                                                    "parse",   "status", "body"};

/* Largest answer accepted; a bigger one is a parse error (keeps memory bounded). */
#define MAX_RESPONSE (64u << 20)
#define READ_CHUNK 16384
#define RECONNECT_BACKOFF_NS (10 * NS_PER_MS)
#define SWEEP_NS (10 * NS_PER_MS)

static void conn_start(lconn_t *c);

/* An error; s: the request it belongs to, when there is one. */
static void count_error(lconn_t *c, const lslot_t *s, int kind)
{
    lthread_t *t = c->t;
    t->r.errors[kind]++;
    if (t->r.by_request && s && s->inflight)
        t->r.by_request[s->sent.index].errors[kind]++;
    atomic_store_explicit(&t->progress_errors, load_errors_total(&t->r), memory_order_relaxed);
}

static void slot_free(lconn_t *c, lslot_t *s)
{
    if (s->inflight)
        c->ninflight--;
    s->inflight = false;
    grpc_reader_free(&s->rd);
}

static void conn_reset(lconn_t *c)
{
    if (c->h2)
        h2_conn_close(c);
    if (c->io.fd >= 0)
        close(c->io.fd);
    c->io.fd = -1;
    c->connecting = c->connected = c->have_head = false;
    for (int i = 0; i < c->nslots; i++)
        slot_free(c, &c->slots[i]);
    buf_clear(&c->in);
}

/* Whether this connection has more to send: closed loop until the deadline, open loop while
 * requests due before the deadline remain (they are still sent during the drain). */
static bool conn_wants_more(const lconn_t *c)
{
    return c->t->interval ? c->next_due < c->t->deadline : !c->t->ending;
}

/* Drops the connection after a failure and opens a new one, right away or after a back-off.
 * Every request it had in flight is an error (one error when it had none). */
void conn_fail(lconn_t *c, int kind)
{
    bool counted = false;
    for (int i = 0; i < c->nslots; i++)
        if (c->slots[i].inflight) {
            count_error(c, &c->slots[i], kind);
            counted = true;
        }
    if (!counted)
        count_error(c, NULL, kind);
    conn_reset(c);
    if (!conn_wants_more(c))
        return;
    if (kind == LOAD_ERR_CONNECT)
        loop_timer_set(c->t->loop, &c->timer, loop_now(c->t->loop) + RECONNECT_BACKOFF_NS);
    else
        conn_start(c);
}

void conn_slot_fail(lconn_t *c, lslot_t *s, int kind)
{
    count_error(c, s, kind);
    slot_free(c, s);
}

void conn_reopen(lconn_t *c)
{
    conn_reset(c);
    if (conn_wants_more(c))
        conn_start(c);
}

/* Keeps the LOAD_SLOWEST_TRACES slowest: a full list replaces its fastest. */
static void slowest_add(load_result_t *r, const uint8_t id[TRACE_ID_LEN], int64_t ns)
{
    int k = r->nslowest;
    if (k == LOAD_SLOWEST_TRACES) {
        k = 0;
        for (int i = 1; i < LOAD_SLOWEST_TRACES; i++)
            if (r->slowest[i].latency_ns < r->slowest[k].latency_ns)
                k = i;
        if (r->slowest[k].latency_ns >= ns)
            return;
    } else {
        r->nslowest++;
    }
    memcpy(r->slowest[k].trace_id, id, TRACE_ID_LEN);
    r->slowest[k].latency_ns = ns;
}

static int slowest_first(const void *a, const void *b)
{
    int64_t x = ((const load_trace_t *)a)->latency_ns, y = ((const load_trace_t *)b)->latency_ns;
    return (x < y) - (x > y);
}

void conn_done(lconn_t *c, lslot_t *s, int status, const char *body, size_t body_len)
{
    lthread_t *t = c->t;
    int64_t now = loop_now_update(t->loop);
    int64_t from = t->interval ? s->due : s->sent_at;
    hist_record(t->r.latency, now - from);
    if (t->r.nwindows) {
        int64_t w = (now - t->t0) / t->cfg->window_ns;
        if (w >= 0 && (size_t)w < t->r.nwindows)
            hist_record(t->r.windows[w], now - from);
    }
    const load_config_t *cfg = t->cfg;
    bool grpc = cfg->proto == LOAD_GRPC;
    int gs = s->grpc_status >= 0 && s->grpc_status < GRPC_NCODES ? s->grpc_status : GRPC_NCODES;
    t->r.requests++;
    if (status >= 0 && status < 600)
        t->r.status[status]++;
    if (grpc)
        t->r.grpc_status[gs]++;
    if (t->r.by_request) {
        load_request_result_t *br = &t->r.by_request[s->sent.index];
        hist_record(br->latency, now - from);
        br->requests++;
        if (status >= 0 && status < 600)
            br->status[status]++;
        if (grpc) {
            br->grpc_status[gs]++;
            br->messages += s->messages;
        }
    }
    if (s->sampled)
        slowest_add(&t->r, s->trace_id, now - from);
    t->last_done = now;
    atomic_store_explicit(&t->progress_requests, t->r.requests, memory_order_relaxed);
    bool status_ok = cfg->expect_status ? status == cfg->expect_status : status < 400;
    if (grpc)
        status_ok = status == 200 && gs == (cfg->expect_status ? cfg->expect_status : GRPC_OK);
    if (!status_ok)
        count_error(c, s, LOAD_ERR_STATUS);
    else if (grpc ? s->grpc_bad_message ||
                        (cfg->grpc_check &&
                         !cfg->grpc_check(&s->sent, s->messages, NULL, 0, cfg->check_ud))
                  : cfg->check && !cfg->check(&c->msg, body, body_len, &s->sent, cfg->check_ud))
        count_error(c, s, LOAD_ERR_BODY);
    slot_free(c, s);
    c->have_head = false;
}

/* Parses what has arrived. Returns false when the connection was closed or reset. */
static bool conn_parse(lconn_t *c, bool eof)
{
    while (buf_size(&c->in) > 0 || (eof && c->have_head)) {
        if (!c->slots[0].inflight) {
            /* Bytes nobody asked for: a broken server. */
            conn_fail(c, LOAD_ERR_PARSE);
            return false;
        }
        char *start = buf_start(&c->in);
        size_t avail = buf_size(&c->in);
        int rc = http_parse_response(start, avail, &c->msg, HTTP_MAX_HEAD, c->head_request);
        if (rc == HTTP_INCOMPLETE) {
            if (eof)
                break; /* closed in the middle of an answer: a read error below */
            return true;
        }
        if (rc < 0) {
            conn_fail(c, LOAD_ERR_PARSE);
            return false;
        }
        if (!c->have_head) {
            c->have_head = true;
            http_chunked_init(&c->chunk);
        }
        http_frame_t f;
        int fr = http_frame(&c->msg, start, avail, eof, MAX_RESPONSE, &c->chunk, &f);
        if (fr < 0) { /* bad framing, or larger than we keep: not an answer we can use */
            conn_fail(c, LOAD_ERR_PARSE);
            return false;
        }
        if (fr == 0) {
            if (eof)
                break; /* closed in the middle of an answer: a read error below */
            if (f.missing)
                buf_reserve(&c->in, f.missing); /* one allocation for the rest of the body */
            return true;
        }
        size_t total = f.total, body_len = f.body_len;
        const char *body = start + c->msg.head_len;
        if (c->msg.status >= 100 && c->msg.status < 200) {
            /* Interim answer (100 Continue): the real one follows. */
            buf_consume(&c->in, total);
            c->have_head = false;
            continue;
        }
        bool keep = c->msg.keep_alive && c->msg.body != HTTP_BODY_UNTIL_CLOSE;
        conn_done(c, &c->slots[0], c->msg.status, body, body_len);
        buf_consume(&c->in, total);
        if (!keep) {
            /* The server closes after this answer: not an error, open a new connection. */
            conn_reopen(c);
            return false;
        }
        if (eof)
            break;
    }
    if (eof) {
        /* The server closed: an error only when an answer was owed (counted before the reset,
         * which forgets the request the error belongs to). */
        if (c->slots[0].inflight)
            count_error(c, &c->slots[0], LOAD_ERR_READ);
        conn_reopen(c);
        return false;
    }
    return true;
}

/* peer_closed: epoll reported the peer's FIN, so a short read does not mean drained (the end
 * of stream is still to be read, and no new edge will announce it). */
static void conn_read(lconn_t *c, bool peer_closed)
{
    for (;;) {
        if (buf_reserve(&c->in, READ_CHUNK) < 0) {
            conn_fail(c, LOAD_ERR_READ);
            return;
        }
        size_t room = buf_room(&c->in);
        ssize_t n = recv(c->io.fd, buf_end(&c->in), room, 0);
        if (n > 0) {
            c->t->r.bytes_in += (uint64_t)n;
            buf_commit(&c->in, (size_t)n);
            if (!conn_parse(c, false))
                return;
            if ((size_t)n < room && !peer_closed)
                break; /* drained; edge-triggered epoll reports new data */
            continue;
        }
        if (n == 0) {
            conn_parse(c, true);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        conn_fail(c, LOAD_ERR_READ);
        return;
    }
    if (c->connected && !c->slots[0].inflight)
        conn_maybe_send(c);
}

/* The request's bytes from off on, as at most three pieces: with a traceparent, the shared
 * bytes around it and this request's own value in their place. */
static int req_pieces(const lconn_t *c, size_t off, struct iovec iov[3])
{
    int n = 0;
    while (off < c->req_len && n < 3) {
        size_t end = c->req_len;
        const char *p = c->req + off;
        if (c->tp_off && off < c->tp_off) {
            end = c->tp_off;
        } else if (c->tp_off && off < c->tp_off + TRACEPARENT_LEN) {
            end = c->tp_off + TRACEPARENT_LEN;
            p = c->tp + (off - c->tp_off);
        }
        iov[n++] = (struct iovec){(void *)p, end - off};
        off = end;
    }
    return n;
}

static void conn_write(lconn_t *c)
{
    while (c->wr_off < c->req_len) {
        struct iovec iov[3];
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)req_pieces(c, c->wr_off, iov)};
        ssize_t n = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL);
        if (n > 0) {
            c->wr_off += (size_t)n;
            c->t->r.bytes_out += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* EPOLLOUT continues */
        conn_fail(c, LOAD_ERR_WRITE);
        return;
    }
}

/* The header every traced request is serialized with; its value is replaced per request. */
static const char tp_header[] = "traceparent: 00-00000000000000000000000000000000-0000000000000000-00";

/* A fresh traceparent for slot s's request into out (TRACEPARENT_LEN + 1 bytes): new ids
 * from the thread's own generator, sampled by the services' rule. */
static void slot_trace(lthread_t *t, lslot_t *s, char *out)
{
    trace_ctx_t ctx;
    trace_new_trace_id(&t->tracer.rng, ctx.trace_id);
    trace_new_span_id(&t->tracer.rng, ctx.span_id);
    s->sampled = trace_ratio_samples(&t->tracer, ctx.trace_id);
    ctx.flags = s->sampled ? TRACE_FLAG_SAMPLED : 0;
    memcpy(s->trace_id, ctx.trace_id, TRACE_ID_LEN);
    trace_format_traceparent(&ctx, out);
    t->r.traced += s->sampled;
}

/* HTTP/1.1: where the serialized placeholder's value is in c->req, for conn_write to send
 * c->tp in its place. */
static void conn_trace(lconn_t *c, lslot_t *s)
{
    static const char key[] = "\r\ntraceparent: ";
    /* The head is where http_write_request put the header (a rendered template's target
     * moves it): found before the body, in the head's bytes only. */
    size_t head = c->req_len < HTTP_MAX_HEAD ? c->req_len : HTTP_MAX_HEAD;
    const char *at = memmem(c->req, head, key, sizeof key - 1);
    c->tp_off = at ? (size_t)(at - c->req) + sizeof key - 1 : 0;
    slot_trace(c->t, s, c->tp);
}

static void conn_send(lconn_t *c, int64_t due)
{
    lthread_t *t = c->t;
    lslot_t *s = c->slots;
    while (s->inflight) /* the caller saw a free one */
        s++;
    s->inflight = true;
    c->ninflight++;
    s->due = due;
    s->sent_at = loop_now(c->t->loop);
    s->sent = (mix_sent_t){0};
    s->sampled = false;
    if (c->h2) {
        int i = h2_pick(t->h2, &t->rng);
        s->sent.index = i;
        if (t->r.by_request)
            t->r.by_request[i].sent++;
        char tp[TRACEPARENT_LEN + 1];
        if (t->cfg->trace_ratio >= 0)
            slot_trace(t, s, tp);
        h2_conn_send(c, s, i, t->cfg->trace_ratio >= 0 ? tp : NULL);
        return;
    }
    if (t->mix) {
        /* A template by weight; with placeholders it is rendered into this connection's own
         * buffer, which stays untouched until the answer (a write may take several calls). */
        int i = mix_pick(t->mix, &t->rng);
        c->req_len = mix_render(t->mix, i, &t->rng, c->render, &c->req, &s->sent);
        c->head_request = mix_is_head(t->mix, i);
        t->r.by_request[i].sent++;
    }
    if (t->cfg->trace_ratio >= 0)
        conn_trace(c, s);
    c->have_head = false;
    c->wr_off = 0;
    conn_write(c);
}

/* Sends the next requests this connection may: connected, a slot free, and (open loop) due.
 * A connection that failed while sending stops here (its slots are gone). */
void conn_maybe_send(lconn_t *c)
{
    lthread_t *t = c->t;
    while (c->connected && c->io.fd >= 0 && c->ninflight < c->nslots) {
        int64_t now = loop_now(t->loop);
        if (!t->interval) {
            if (t->ending)
                return;
            conn_send(c, now);
            continue;
        }
        if (c->next_due >= t->deadline)
            return;
        if (c->next_due > now) {
            if (!t->ending)
                loop_timer_set(t->loop, &c->timer, c->next_due);
            return;
        }
        int64_t due = c->next_due;
        c->next_due += t->interval;
        conn_send(c, due);
    }
}

static bool t_is_h2(const lconn_t *c)
{
    return c->t->cfg->proto != LOAD_HTTP1;
}

static void conn_on_io(loop_t *loop, loop_io_t *io, uint32_t events)
{
    lconn_t *c = container_of(io, lconn_t, io);
    if (c->connecting) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & (EPOLLERR | EPOLLHUP))) {
            conn_fail(c, LOAD_ERR_CONNECT);
            return;
        }
        c->connecting = false;
        c->connected = true;
        if (t_is_h2(c) && h2_conn_open(c) < 0) {
            conn_fail(c, LOAD_ERR_CONNECT);
            return;
        }
        conn_maybe_send(c);
        if (c->h2 && c->io.fd >= 0)
            h2_conn_io(c, EPOLLOUT); /* the preface, SETTINGS and the first requests */
        return;
    }
    if (c->io.fd < 0)
        return;
    if (c->h2) {
        h2_conn_io(c, events);
        return;
    }
    if ((events & EPOLLOUT) && c->slots[0].inflight && c->wr_off < c->req_len) {
        conn_write(c);
        if (c->io.fd < 0)
            return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_read(c, events & (EPOLLRDHUP | EPOLLHUP));
}

static void conn_start(lconn_t *c)
{
    lthread_t *t = c->t;
    int fd = net_connect(t->addr);
    t->r.connects++;
    if (fd < 0) {
        c->io.fd = -1;
        conn_fail(c, LOAD_ERR_CONNECT);
        return;
    }
    c->io.fd = fd;
    c->connecting = true;
    if (loop_add(t->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) < 0)
        conn_fail(c, LOAD_ERR_CONNECT);
}

static void conn_on_timer(loop_t *loop, loop_timer_t *tm)
{
    lconn_t *c = container_of(tm, lconn_t, timer);
    if (!conn_wants_more(c))
        return;
    if (c->io.fd < 0)
        conn_start(c);
    else
        conn_maybe_send(c);
}

/* Timeouts, and the end of the run: after the deadline, answers owed are waited for until the
 * drain deadline; open-loop requests due before the deadline are still sent. */
static void thread_on_sweep(loop_t *loop, loop_timer_t *tm)
{
    lthread_t *t = container_of(tm, lthread_t, sweep);
    int64_t now = loop_now(loop);
    bool busy = false;
    for (int i = 0; i < t->nconns; i++) {
        lconn_t *c = &t->conns[i];
        /* HTTP/1.1: the connection goes with its request; HTTP/2: only the stream. */
        for (int k = 0; k < c->nslots && c->io.fd >= 0; k++) {
            lslot_t *s = &c->slots[k];
            if (!s->inflight || now - s->sent_at <= t->cfg->timeout_ns)
                continue;
            if (c->h2) {
                h2_conn_cancel(c, s);
                conn_slot_fail(c, s, LOAD_ERR_TIMEOUT);
            } else {
                conn_fail(c, LOAD_ERR_TIMEOUT);
            }
        }
        if (c->h2 && c->io.fd >= 0)
            conn_maybe_send(c);
        if (c->ninflight || (t->interval && c->next_due < t->deadline))
            busy = true;
    }
    if (t->ending && (!busy || now >= t->drain_deadline)) {
        loop_stop(loop);
        return;
    }
    loop_timer_set(loop, tm, now + SWEEP_NS);
}

static void thread_on_end(loop_t *loop, loop_timer_t *tm)
{
    lthread_t *t = container_of(tm, lthread_t, end_timer);
    t->ending = true;
    loop_timer_set(loop, &t->sweep, loop_now(loop));
}

static void thread_on_start(loop_t *loop, loop_timer_t *tm)
{
    lthread_t *t = container_of(tm, lthread_t, end_timer);
    tm->cb = thread_on_end;
    loop_timer_set(loop, tm, t->deadline);
    for (int i = 0; i < t->nconns; i++)
        conn_start(&t->conns[i]);
}

static void *thread_main(void *arg)
{
    lthread_t *t = arg;
    if (t->cfg->cpus)
        cpuset_pin_thread(t->cfg->cpus);
    loop_run(t->loop);
    /* Open loop: what was due but never sent is reported, not silently dropped. */
    if (t->interval)
        for (int i = 0; i < t->nconns; i++) {
            lconn_t *c = &t->conns[i];
            for (int64_t d = c->next_due; d < t->deadline; d += t->interval)
                t->r.unsent++;
        }
    for (int i = 0; i < t->nconns; i++) {
        lconn_t *c = &t->conns[i];
        for (int k = 0; k < c->nslots; k++)
            if (c->slots[k].inflight)
                count_error(c, &c->slots[k], LOAD_ERR_TIMEOUT);
        conn_reset(c);
        buf_free(&c->in);
    }
    return NULL;
}

/* ---- the run ---- */

void load_config_defaults(load_config_t *cfg)
{
    *cfg = (load_config_t){
        .connections = 10,
        .threads = 2,
        .duration_ns = 10 * NS_PER_S,
        .timeout_ns = 2 * NS_PER_S,
        .method = "GET",
        .streams = 1,
        .trace_ratio = -1,
    };
}

uint64_t load_errors_total(const load_result_t *r)
{
    uint64_t n = 0;
    for (int i = 0; i < LOAD_ERR_KINDS; i++)
        n += r->errors[i];
    return n;
}

/* Per-template figures for n templates, each with its histogram. */
static load_request_result_t *by_request_new(size_t n)
{
    load_request_result_t *br = calloc(n, sizeof *br);
    for (size_t i = 0; br && i < n; i++)
        if (!(br[i].latency = hist_new(1, 3600LL * NS_PER_S, 3))) {
            while (i--)
                hist_free(br[i].latency);
            free(br);
            return NULL;
        }
    return br;
}

static void by_request_free(load_request_result_t *br, size_t n)
{
    for (size_t i = 0; br && i < n; i++)
        hist_free(br[i].latency);
    free(br);
}

/* n histograms for windows (one significant digit: about 4 KiB each). */
static hist_t **windows_new(size_t n)
{
    hist_t **w = calloc(n ? n : 1, sizeof *w);
    for (size_t i = 0; w && i < n; i++)
        if (!(w[i] = hist_new(1000, 3600LL * NS_PER_S, 1))) {
            while (i--)
                hist_free(w[i]);
            free(w);
            return NULL;
        }
    return w;
}

static void windows_free(hist_t **w, size_t n)
{
    for (size_t i = 0; w && i < n; i++)
        hist_free(w[i]);
    free(w);
}

void load_result_free(load_result_t *r)
{
    windows_free(r->windows, r->nwindows);
    r->windows = NULL;
    r->nwindows = 0;
    hist_free(r->latency);
    r->latency = NULL;
    hist_free(r->first_message);
    hist_free(r->inter_arrival);
    r->first_message = r->inter_arrival = NULL;
    by_request_free(r->by_request, r->nby_request);
    r->by_request = NULL;
    r->nby_request = 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void progress_line(lthread_t *ts, int n, const load_config_t *cfg, int64_t t0,
                          uint64_t *last_req, int64_t *last_t)
{
    int64_t now = clock_now_ns();
    uint64_t req = 0, errs = 0;
    for (int i = 0; i < n; i++) {
        req += atomic_load_explicit(&ts[i].progress_requests, memory_order_relaxed);
        errs += atomic_load_explicit(&ts[i].progress_errors, memory_order_relaxed);
    }
    double dt = (double)(now - *last_t) / NS_PER_S;
    double rps = dt > 0 ? (double)(req - *last_req) / dt : 0;
    double el = now > t0 ? (double)(now - t0) / NS_PER_S : 0;
    fprintf(stderr, "\r\033[K  %s%s%5.1fs / %.1fs   %10.0f req/s   %12llu requests   %llu errors",
            cfg->progress_label ? cfg->progress_label : "", cfg->progress_label ? "  " : "", el,
            (double)cfg->duration_ns / NS_PER_S, rps, (unsigned long long)req,
            (unsigned long long)errs);
    *last_req = req;
    *last_t = now;
}

/* Adds one thread's figures to the run's. */
static void merge_thread(load_result_t *res, const lthread_t *t)
{
    res->requests += t->r.requests;
    for (int s = 0; s < 600; s++)
        res->status[s] += t->r.status[s];
    for (int e = 0; e < LOAD_ERR_KINDS; e++)
        res->errors[e] += t->r.errors[e];
    res->bytes_in += t->r.bytes_in;
    res->bytes_out += t->r.bytes_out;
    res->unsent += t->r.unsent;
    res->connects += t->r.connects;
    hist_merge(res->latency, t->r.latency);
    res->traced += t->r.traced;
    for (int i = 0; i < t->r.nslowest; i++)
        slowest_add(res, t->r.slowest[i].trace_id, t->r.slowest[i].latency_ns);
    res->messages += t->r.messages;
    res->message_bytes += t->r.message_bytes;
    for (int g = 0; g < LOAD_GRPC_STATUSES; g++)
        res->grpc_status[g] += t->r.grpc_status[g];
    if (res->first_message && t->r.first_message)
        hist_merge(res->first_message, t->r.first_message);
    if (res->inter_arrival && t->r.inter_arrival)
        hist_merge(res->inter_arrival, t->r.inter_arrival);
    for (size_t w = 0; w < res->nwindows && w < t->r.nwindows; w++)
        hist_merge(res->windows[w], t->r.windows[w]);
    for (size_t q = 0; q < res->nby_request; q++) {
        load_request_result_t *dst = &res->by_request[q];
        const load_request_result_t *src = &t->r.by_request[q];
        dst->sent += src->sent;
        dst->requests += src->requests;
        for (int s = 0; s < 600; s++)
            dst->status[s] += src->status[s];
        for (int e = 0; e < LOAD_ERR_KINDS; e++)
            dst->errors[e] += src->errors[e];
        for (int g = 0; g < LOAD_GRPC_STATUSES; g++)
            dst->grpc_status[g] += src->grpc_status[g];
        dst->messages += src->messages;
        hist_merge(dst->latency, src->latency);
    }
}

/* Shows the progress line once a second until the end of the run. */
static void show_progress(lthread_t *ts, int nthreads, const load_config_t *cfg, int64_t t0)
{
    uint64_t last_req = 0;
    int64_t last_t = t0;
    for (;;) {
        int64_t now = clock_now_ns();
        int64_t end = t0 + cfg->duration_ns;
        if (now >= end)
            break;
        int64_t step = NS_PER_S - (now - t0) % NS_PER_S;
        if (now < t0)
            step = t0 - now + NS_PER_S;
        if (now + step > end)
            step = end - now;
        struct timespec ts_sleep = {step / NS_PER_S, step % NS_PER_S};
        nanosleep(&ts_sleep, NULL);
        progress_line(ts, nthreads, cfg, t0, &last_req, &last_t);
    }
    fprintf(stderr, "\r\033[K");
}

int load_run(const load_config_t *cfg, load_result_t *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    http_url_t url;
    net_addr_t addr;
    if (http_url_parse(cfg->url, &url, err, errlen) ||
        net_resolve(url.host, url.port, &addr, err, errlen))
        return -1;
    if (cfg->connections < 1 || cfg->threads < 1) {
        snprintf(err, errlen, "need at least one connection and one thread");
        return -1;
    }
    bool h2 = cfg->proto != LOAD_HTTP1;
    int nslots = h2 ? cfg->streams : 1;
    if (nslots < 1) {
        snprintf(err, errlen, "need at least one stream per connection");
        return -1;
    }
    if (cfg->nrequests && strcmp(url.target, "/") != 0) {
        snprintf(err, errlen,
                 "with a request mix the URL gives only the host and port, not a path ('%s'): "
                 "each template has its own",
                 url.target);
        return -1;
    }
    int nthreads = cfg->threads < cfg->connections ? cfg->threads : cfg->connections;

    /* What set-up takes is given back at `out`, in reverse, however far it got. */
    int rc = -1, nready = 0, nstarted = 0;
    buf_t request = BUF_INIT;
    mix_t *mix = NULL;
    char *render = NULL;
    size_t render_max = 0;
    lthread_t *ts = NULL;
    lconn_t *conns = NULL;
    lslot_t *slots = NULL;
    h2_shared_t *h2s = NULL;
    /* trace_ratio: every request is serialized with a traceparent of zeros (conn_trace puts
     * each request's own in its place as it is sent) */
    const char **headers = (const char **)cfg->headers, **traced_headers = NULL;
    size_t nheaders = cfg->nheaders;
    if (cfg->trace_ratio >= 0) {
        if (!(traced_headers = malloc((nheaders + 1) * sizeof *traced_headers)))
            goto oom;
        for (size_t i = 0; i < nheaders; i++)
            traced_headers[i] = cfg->headers[i];
        traced_headers[nheaders++] = tp_header;
        headers = traced_headers;
    }

    /* The single request is the same bytes every time: serialize it once. A mix is compiled
     * once: its templates without placeholders are serialized the same way, the others cut
     * into pieces rendered per request into each connection's own buffer. */
    if (h2) {
        /* HTTP/2: each template's headers and body, made once (h2.c). */
        if (!(h2s = h2_shared_new(cfg, url.authority, err, errlen)))
            goto out;
    } else if (cfg->nrequests) {
        mix = mix_new(cfg->requests, cfg->nrequests, url.authority,
                      (const char *const *)headers, nheaders, err, errlen);
        if (!mix)
            goto out;
        render_max = mix_render_max(mix);
        if (render_max && !(render = malloc((size_t)cfg->connections * render_max)))
            goto oom;
    } else if (http_write_request(&request, cfg->method, url.authority, url.target,
                                  (const char *const *)headers, nheaders, cfg->body,
                                  cfg->body_len)) {
        goto oom;
    }
    res->latency = hist_new(1, 3600LL * NS_PER_S, 3);
    if (cfg->proto == LOAD_GRPC) {
        res->first_message = hist_new(1, 3600LL * NS_PER_S, 3);
        res->inter_arrival = hist_new(1, 3600LL * NS_PER_S, 3);
        if (!res->first_message || !res->inter_arrival)
            goto oom;
    }
    /* Windows over the run and its drain (answers owed at the end may come up to a timeout
     * later). */
    size_t nwin = cfg->window_ns > 0
                      ? (size_t)((cfg->duration_ns + cfg->timeout_ns) / cfg->window_ns + 1)
                      : 0;
    if (nwin && !(res->windows = windows_new(nwin)))
        goto oom;
    res->nwindows = nwin;
    bool by_request = cfg->nrequests > 0;
    if (by_request) {
        res->nby_request = cfg->nrequests;
        res->by_request = by_request_new(cfg->nrequests);
    }
    ts = calloc((size_t)nthreads, sizeof *ts);
    conns = calloc((size_t)cfg->connections, sizeof *conns);
    slots = calloc((size_t)cfg->connections * (size_t)nslots, sizeof *slots);
    if (!res->latency || (by_request && !res->by_request) || !ts || !conns || !slots)
        goto oom;

    uint64_t seed = cfg->seed ? cfg->seed : LOAD_SEED_DEFAULT;
    /* Trace ids must differ from run to run, whatever the mix's seed: the kernel's. */
    uint64_t trace_seed = 0;
    if (cfg->trace_ratio >= 0 && getrandom(&trace_seed, sizeof trace_seed, 0) != sizeof trace_seed)
        trace_seed = (uint64_t)clock_now_ns() ^ ((uint64_t)getpid() << 32);
    signal(SIGPIPE, SIG_IGN);
    /* Everybody starts together a little after the threads are up. */
    int64_t t0 = clock_now_ns() + 20 * NS_PER_MS;
    int64_t interval =
        cfg->rate > 0 ? (int64_t)llround(cfg->connections * (double)NS_PER_S / cfg->rate) : 0;
    if (cfg->rate > 0 && interval < 1)
        interval = 1;
    double cpu0 = cpu_seconds();
    int next_conn = 0;
    for (int i = 0; i < nthreads; i++, nready++) {
        lthread_t *t = &ts[i];
        t->id = i;
        t->cfg = cfg;
        t->mix = mix;
        t->h2 = h2s;
        rng_seed(&t->rng, seed, (uint64_t)i);
        if (cfg->trace_ratio >= 0)
            trace_sampler_init(&t->tracer, cfg->trace_ratio, trace_seed, (uint64_t)i);
        t->addr = &addr;
        t->loop = loop_new();
        t->r.latency = hist_new(1, 3600LL * NS_PER_S, 3);
        if (nwin) {
            t->r.windows = windows_new(nwin);
            t->r.nwindows = t->r.windows ? nwin : 0;
        }
        if (by_request) {
            t->r.nby_request = cfg->nrequests;
            t->r.by_request = by_request_new(cfg->nrequests);
        }
        if (cfg->proto == LOAD_GRPC) {
            t->r.first_message = hist_new(1, 3600LL * NS_PER_S, 3);
            t->r.inter_arrival = hist_new(1, 3600LL * NS_PER_S, 3);
        }
        if (!t->loop || !t->r.latency || (by_request && !t->r.by_request) ||
            (nwin && !t->r.windows) ||
            (cfg->proto == LOAD_GRPC && (!t->r.first_message || !t->r.inter_arrival))) {
            nready++; /* what it has is freed at out */
            goto oom;
        }
        t->nconns = cfg->connections / nthreads + (i < cfg->connections % nthreads);
        t->conns = &conns[next_conn];
        t->first_gidx = next_conn;
        next_conn += t->nconns;
        t->t0 = t0;
        t->deadline = t0 + cfg->duration_ns;
        t->drain_deadline = t->deadline + cfg->timeout_ns;
        t->interval = interval;
        for (int k = 0; k < t->nconns; k++) {
            lconn_t *c = &t->conns[k];
            c->t = t;
            c->io.fd = -1;
            c->io.cb = conn_on_io;
            c->gidx = t->first_gidx + k;
            c->slots = &slots[(size_t)c->gidx * (size_t)nslots];
            c->nslots = nslots;
            if (mix) {
                c->render = render ? render + (size_t)c->gidx * render_max : NULL;
            } else if (!h2) {
                c->req = buf_start(&request);
                c->req_len = buf_size(&request);
                c->head_request = strcmp(cfg->method, "HEAD") == 0;
            }
            /* Connection g's requests are due at t0 + (g + k*C)/R: evenly spaced overall. */
            c->next_due =
                interval ? t0 + (int64_t)llround(c->gidx * (double)NS_PER_S / cfg->rate) : 0;
            loop_timer_init(&c->timer, conn_on_timer);
        }
        loop_timer_init(&t->end_timer, thread_on_start);
        loop_timer_init(&t->sweep, thread_on_sweep);
        if (loop_timer_set(t->loop, &t->end_timer, t0) ||
            loop_timer_set(t->loop, &t->sweep, t0 + SWEEP_NS)) {
            nready++;
            goto oom;
        }
    }
    for (; nstarted < nthreads; nstarted++)
        if (pthread_create(&ts[nstarted].thread, NULL, thread_main, &ts[nstarted]) != 0) {
            /* Those started end on time by themselves; they are joined at out. */
            snprintf(err, errlen, "cannot start load thread %d: %s", nstarted, strerror(errno));
            goto out;
        }
    if (cfg->progress)
        show_progress(ts, nthreads, cfg, t0);
    rc = 0;

out:;
    int64_t last_done = 0;
    for (int i = 0; i < nstarted; i++) {
        pthread_join(ts[i].thread, NULL);
        if (rc == 0)
            merge_thread(res, &ts[i]);
        if (ts[i].last_done > last_done)
            last_done = ts[i].last_done;
    }
    for (int i = 0; i < nready; i++) {
        hist_free(ts[i].r.latency);
        hist_free(ts[i].r.first_message);
        hist_free(ts[i].r.inter_arrival);
        windows_free(ts[i].r.windows, ts[i].r.nwindows);
        by_request_free(ts[i].r.by_request, ts[i].r.nby_request);
        loop_free(ts[i].loop);
    }
    if (rc == 0) {
        res->cpu_s = cpu_seconds() - cpu0;
        int64_t span = last_done - t0;
        if (span < cfg->duration_ns)
            span = cfg->duration_ns;
        res->elapsed_s = (double)span / NS_PER_S;
        qsort(res->slowest, (size_t)res->nslowest, sizeof res->slowest[0], slowest_first);
    } else {
        load_result_free(res);
    }
    free(ts);
    free(conns);
    free(slots);
    h2_shared_free(h2s);
    buf_free(&request);
    mix_free(mix);
    free(render);
    free(traced_headers);
    return rc;
oom:
    snprintf(err, errlen, "out of memory");
    goto out;
}
