/* h2: the load engine's HTTP/2 connections (nghttp2), plain or carrying gRPC calls.
 *
 * Cleartext with prior knowledge, as h2load's default. A connection is one nghttp2 client
 * session driven with mem_recv/mem_send on the thread's loop; each slot of the connection is a
 * stream. The requests are made once for all threads (their header blocks and bodies, a gRPC
 * body with its prefix), so a request costs a submit and the bytes nghttp2 writes. Windows are
 * opened wide (2^30 - 1, as h2load's default), so flow control measures the server, not us. For
 * gRPC each answer's messages are read as they arrive: counted, timed (time to the first,
 * gaps between them) and handed to the check; the call's status comes from its trailers. */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "http/url.h"
#include "load/conn.h"

#define H2_WINDOW ((1u << 30) - 1)
#define H2_READ 16384
#define H2_OUT (64 * 1024)
#define H2_MAX_HEADERS 72

typedef struct {
    nghttp2_nv nv[H2_MAX_HEADERS];
    size_t nnv;
    uint8_t *body;              /* what is sent after the headers (gRPC: with its prefix) */
    size_t body_len;
    char content_length[24];
} h2_request_t;

struct h2_shared {
    h2_request_t rq[MIX_MAX_TEMPLATES];
    uint64_t cum[MIX_MAX_TEMPLATES];
    int n;
    bool grpc;
    char *strings;              /* the names and values the nv arrays point into */
};

struct h2_conn {
    nghttp2_session *ng;
    buf_t out;
    bool in_io;                 /* inside h2_conn_io: it writes at its end */
    bool goaway;                /* the server's */
    bool proto_error;           /* we sent GOAWAY with an error: the server broke HTTP/2 */
};

/* ---- the requests ---- */

void h2_shared_free(h2_shared_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        free(s->rq[i].body);
    free(s->strings);
    free(s);
}

/* Appends a copy of p[0..n) lowercased (names) or as is to the string store. */
static uint8_t *store(h2_shared_t *s, size_t *used, size_t cap, const char *p, size_t n,
                      bool lower)
{
    if (*used + n + 1 > cap)
        return NULL;
    uint8_t *d = (uint8_t *)s->strings + *used;
    for (size_t i = 0; i < n; i++)
        d[i] = lower && p[i] >= 'A' && p[i] <= 'Z' ? (uint8_t)(p[i] + 32) : (uint8_t)p[i];
    d[n] = 0;
    *used += n + 1;
    return d;
}

static int add_nv(h2_shared_t *s, h2_request_t *r, size_t *used, size_t cap, const char *name,
                  size_t nlen, const char *value, size_t vlen)
{
    if (r->nnv >= H2_MAX_HEADERS)
        return -1;
    uint8_t *n = store(s, used, cap, name, nlen, true);
    uint8_t *v = store(s, used, cap, value, vlen, false);
    if (!n || !v)
        return -1;
    r->nv[r->nnv++] = (nghttp2_nv){n, v, nlen, vlen,
                                   NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
    return 0;
}

h2_shared_t *h2_shared_new(const load_config_t *cfg, const char *authority, char *err,
                           size_t errlen)
{
    http_url_t url;
    if (http_url_parse(cfg->url, &url, err, errlen))
        return NULL;
    h2_shared_t *s = calloc(1, sizeof *s);
    size_t cap = 65536, used = 0;
    if (!s || !(s->strings = malloc(cap)))
        goto oom;
    s->grpc = cfg->proto == LOAD_GRPC;
    mix_template_t single = {cfg->method, url.target, cfg->body, cfg->body_len, 1};
    const mix_template_t *rqs = cfg->nrequests ? cfg->requests : &single;
    s->n = cfg->nrequests ? (int)cfg->nrequests : 1;
    if (s->n > MIX_MAX_TEMPLATES) {
        snprintf(err, errlen, "at most %d templates", MIX_MAX_TEMPLATES);
        h2_shared_free(s);
        return NULL;
    }
    char timeout[16] = "";
    if (s->grpc && cfg->grpc_timeout_ns > 0)
        grpc_timeout_format(cfg->grpc_timeout_ns, timeout);
    uint64_t total = 0;
    for (int i = 0; i < s->n; i++) {
        const mix_template_t *t = &rqs[i];
        h2_request_t *r = &s->rq[i];
        const char *method = s->grpc ? "POST" : t->method ? t->method : "GET";
        const char *target = t->target && *t->target ? t->target : "/";
        size_t blen = t->body ? t->body_len : 0;
        r->body_len = blen + (s->grpc ? GRPC_PREFIX : 0);
        if (r->body_len && !(r->body = malloc(r->body_len)))
            goto oom;
        if (s->grpc)
            grpc_prefix_write(r->body, (uint32_t)blen);
        if (blen)
            memcpy(r->body + (s->grpc ? GRPC_PREFIX : 0), t->body, blen);
#define ADD(n, v) add_nv(s, r, &used, cap, n, strlen(n), v, strlen(v))
        if (ADD(":method", method) || ADD(":scheme", "http") || ADD(":authority", authority) ||
            ADD(":path", target))
            goto too_many;
        if (s->grpc) {
            if (ADD("content-type", "application/grpc") || ADD("te", "trailers") ||
                (timeout[0] && ADD("grpc-timeout", timeout)))
                goto too_many;
        } else if (r->body_len) {
            snprintf(r->content_length, sizeof r->content_length, "%zu", r->body_len);
            if (ADD("content-length", r->content_length))
                goto too_many;
        }
        for (size_t h = 0; h < cfg->nheaders; h++) {
            const char *line = cfg->headers[h], *colon = strchr(line, ':');
            if (!colon)
                continue;
            size_t nlen = (size_t)(colon - line);
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            /* HTTP/2 has no Host (it is :authority) and no connection-specific fields. */
            static const char *const drop[] = {"host", "connection", "keep-alive",
                                               "transfer-encoding", "upgrade",
                                               "proxy-connection"};
            bool skip = false;
            for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
                skip |= strlen(drop[d]) == nlen && strncasecmp(line, drop[d], nlen) == 0;
            if (!skip && add_nv(s, r, &used, cap, line, nlen, v, strlen(v)))
                goto too_many;
        }
#undef ADD
        total += t->weight ? t->weight : 1;
        s->cum[i] = total;
    }
    return s;
too_many:
    snprintf(err, errlen, "too many or too long headers for HTTP/2 (at most %d, 64 KiB)",
             H2_MAX_HEADERS);
    h2_shared_free(s);
    return NULL;
oom:
    snprintf(err, errlen, "out of memory");
    h2_shared_free(s);
    return NULL;
}

int h2_pick(const h2_shared_t *s, rng_t *r)
{
    if (s->n == 1)
        return 0;
    uint64_t x = rng_below(r, s->cum[s->n - 1]);
    int i = 0;
    while (x >= s->cum[i])
        i++;
    return i;
}

/* ---- the session's callbacks (no connection-level failure from inside them: they set
 * flags the caller acts on once nghttp2 has returned) ---- */

static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    lconn_t *c = ud;
    lslot_t *s = src->ptr;
    const h2_request_t *r = &c->t->h2->rq[s->sent.index];
    size_t n = r->body_len - s->body_off;
    if (n > len)
        n = len;
    memcpy(buf, r->body + s->body_off, n);
    s->body_off += n;
    if (s->body_off == r->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud)
{
    if (f->hd.type != NGHTTP2_HEADERS)
        return 0;
    lslot_t *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!s)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        int v = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++)
            v = v * 10 + (value[i] - '0');
        s->status = v;
    } else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        int v = 0;
        bool ok = valuelen > 0 && valuelen <= 2;
        for (size_t i = 0; ok && i < valuelen; i++) {
            ok = value[i] >= '0' && value[i] <= '9';
            v = v * 10 + (value[i] - '0');
        }
        s->grpc_status = ok && v < GRPC_NCODES ? v : GRPC_NCODES;
    }
    return 0;
}

typedef struct {
    lconn_t *c;
    lslot_t *s;
} msg_ctx_t;

static int on_message(void *ud, const uint8_t *msg, size_t len)
{
    msg_ctx_t *m = ud;
    lthread_t *t = m->c->t;
    lslot_t *s = m->s;
    int64_t now = loop_now_update(t->loop);
    s->messages++;
    t->r.messages++;
    t->r.message_bytes += len;
    if (s->messages == 1) /* from when it was due, in the open loop, as the call's latency */
        hist_record(t->r.first_message, now - (t->interval ? s->due : s->sent_at));
    else
        hist_record(t->r.inter_arrival, now - s->last_message_at);
    s->last_message_at = now;
    const load_config_t *cfg = t->cfg;
    if (cfg->grpc_check && !s->grpc_bad_message &&
        !cfg->grpc_check(&s->sent, s->messages, msg, len, cfg->check_ud))
        s->grpc_bad_message = true;
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
                   void *ud)
{
    lconn_t *c = ud;
    lslot_t *s = nghttp2_session_get_stream_user_data(ng, id);
    if (!s || !c->t->h2->grpc || s->grpc_bad_message)
        return 0;
    msg_ctx_t m = {c, s};
    if (grpc_reader_feed(&s->rd, p, n, on_message, &m) != GRPC_READ_OK)
        s->grpc_bad_message = true; /* compressed (never offered), too large, malformed */
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    lconn_t *c = ud;
    if (f->hd.type == NGHTTP2_GOAWAY)
        c->h2->goaway = true;
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    lconn_t *c = ud;
    if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR)
        c->h2->proto_error = true;
    return 0;
}

/* A stream ends: answered (END_STREAM from the server), or reset by it. */
static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *ud)
{
    lconn_t *c = ud;
    lslot_t *s = nghttp2_session_get_stream_user_data(ng, id);
    if (!s || !s->inflight || s->stream_id != id)
        return 0; /* cancelled by us: already counted */
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    if (error_code != NGHTTP2_NO_ERROR || s->status == 0) {
        conn_slot_fail(c, s, LOAD_ERR_READ);
        return 0;
    }
    if (c->t->h2->grpc && !grpc_reader_between(&s->rd))
        s->grpc_bad_message = true; /* the answer ended inside a message */
    conn_done(c, s, s->status, NULL, 0);
    return 0;
}

static nghttp2_session_callbacks *callbacks;
static pthread_once_t callbacks_once = PTHREAD_ONCE_INIT;

static void make_callbacks(void)
{
    if (nghttp2_session_callbacks_new(&callbacks) != 0)
        return;
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
}

/* ---- the connection ---- */

int h2_conn_open(lconn_t *c)
{
    pthread_once(&callbacks_once, make_callbacks);
    h2_conn_t *h = calloc(1, sizeof *h);
    if (!h || !callbacks || nghttp2_session_client_new(&h->ng, callbacks, c) != 0) {
        free(h);
        return -1;
    }
    c->h2 = h;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
    };
    if (nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(h->ng, NGHTTP2_FLAG_NONE, 0, H2_WINDOW) != 0) {
        h2_conn_close(c);
        return -1;
    }
    return 0;
}

void h2_conn_close(lconn_t *c)
{
    h2_conn_t *h = c->h2;
    if (!h)
        return;
    nghttp2_session_del(h->ng);
    buf_free(&h->out);
    free(h);
    c->h2 = NULL;
}

/* Writes what the session has, until it has nothing or the socket is full. false: the
 * connection failed (and is gone). */
static bool flush(lconn_t *c)
{
    h2_conn_t *h = c->h2;
    for (;;) {
        while (buf_size(&h->out) < H2_OUT) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(h->ng, &data);
            if (n < 0) {
                conn_fail(c, LOAD_ERR_WRITE);
                return false;
            }
            if (n == 0)
                break;
            if (buf_append(&h->out, data, (size_t)n) < 0) {
                conn_fail(c, LOAD_ERR_WRITE);
                return false;
            }
        }
        if (buf_size(&h->out) == 0)
            return true;
        ssize_t w = send(c->io.fd, buf_start(&h->out), buf_size(&h->out), MSG_NOSIGNAL);
        if (w > 0) {
            buf_consume(&h->out, (size_t)w);
            c->t->r.bytes_out += (uint64_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true; /* EPOLLOUT goes on */
        conn_fail(c, LOAD_ERR_WRITE);
        return false;
    }
}

void h2_conn_send(lconn_t *c, lslot_t *s, int i, const char *traceparent)
{
    h2_conn_t *h = c->h2;
    const h2_request_t *r = &c->t->h2->rq[i];
    s->status = 0;
    s->grpc_status = -1;
    s->grpc_bad_message = false;
    s->messages = 0;
    s->body_off = 0;
    grpc_reader_init(&s->rd, GRPC_MAX_MESSAGE);
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = body_read};
    /* A request's own header goes after the template's (nghttp2 copies the array and, as
     * this one's flags let it, the value). */
    nghttp2_nv nva[H2_MAX_HEADERS + 1];
    const nghttp2_nv *nv = r->nv;
    size_t nnv = r->nnv;
    if (traceparent) {
        memcpy(nva, r->nv, nnv * sizeof *nva);
        nva[nnv++] = (nghttp2_nv){(uint8_t *)"traceparent", (uint8_t *)traceparent, 11,
                                  strlen(traceparent), NGHTTP2_NV_FLAG_NO_COPY_NAME};
        nv = nva;
    }
    int32_t id = nghttp2_submit_request(h->ng, NULL, nv, nnv, r->body_len ? &prd : NULL, s);
    if (id < 0) {
        conn_slot_fail(c, s, LOAD_ERR_WRITE);
        return;
    }
    s->stream_id = id;
    if (!h->in_io)
        flush(c);
}

void h2_conn_cancel(lconn_t *c, lslot_t *s)
{
    h2_conn_t *h = c->h2;
    nghttp2_session_set_stream_user_data(h->ng, s->stream_id, NULL);
    nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, s->stream_id, NGHTTP2_CANCEL);
    if (!h->in_io)
        flush(c);
}

void h2_conn_io(lconn_t *c, uint32_t events)
{
    h2_conn_t *h = c->h2;
    lthread_t *t = c->t;
    bool peer_closed = events & (EPOLLRDHUP | EPOLLHUP);
    h->in_io = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        uint8_t buf[H2_READ];
        for (;;) {
            ssize_t n = recv(c->io.fd, buf, sizeof buf, 0);
            if (n > 0) {
                t->r.bytes_in += (uint64_t)n;
                if (nghttp2_session_mem_recv(h->ng, buf, (size_t)n) < 0) {
                    conn_fail(c, LOAD_ERR_PARSE);
                    return;
                }
                if ((size_t)n < sizeof buf && !peer_closed)
                    break;
                continue;
            }
            if (n == 0) {
                /* Closed: an error only when an answer was owed. */
                if (c->ninflight)
                    conn_fail(c, LOAD_ERR_READ);
                else
                    conn_reopen(c);
                return;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_fail(c, LOAD_ERR_READ);
            return;
        }
    }
    /* Answers freed slots: the next requests go out with this round's writes. */
    if (!h->goaway)
        conn_maybe_send(c);
    if (!c->h2)
        return;
    h->in_io = false;
    if (!flush(c))
        return;
    /* The session is over (a GOAWAY either way): what was in flight is lost, and a new
     * connection is opened. */
    if (!nghttp2_session_want_read(h->ng) && !nghttp2_session_want_write(h->ng)) {
        if (c->ninflight)
            conn_fail(c, h->proto_error ? LOAD_ERR_PARSE : LOAD_ERR_READ);
        else
            conn_reopen(c);
    } else if (h->goaway && c->ninflight == 0) {
        conn_reopen(c);
    }
}
