#include "http/h2client.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "http/client.h"

struct h2client {
    http_client_t sock;          /* the connection: connect, send, fill (http/client.h) */
    nghttp2_session *ng;
    char authority[300];
    bool goaway;                 /* on the connection, whatever call it came in */
    uint32_t goaway_code;
    int32_t goaway_last_id;
    char why[160];               /* the first thing nghttp2 found wrong */
    /* the call being made */
    const h2client_request_t *req;
    h2client_answer_t *ans;
    int32_t id;
    int body_i;                  /* the chunk being sent, and how far */
    size_t body_off;
    bool closed;                 /* the stream closed */
    uint32_t close_code;
    bool rst_sent;               /* a RST_STREAM from here (cancel, or after the server ended) */
    bool nomem;
};

const char *h2client_field(const h2client_fields_t *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0)
            return f->value[i];
    return NULL;
}

const char *h2client_error_name(uint32_t code)
{
    return nghttp2_http2_strerror(code);
}

static void fields_add(h2client_t *c, h2client_fields_t *f, const uint8_t *name, size_t nl,
                       const uint8_t *value, size_t vl)
{
    if (f->n == H2CLIENT_MAX_FIELDS)
        return;
    char *n = strndup((const char *)name, nl), *v = strndup((const char *)value, vl);
    if (!n || !v) {
        free(n);
        free(v);
        c->nomem = true;
        return;
    }
    f->name[f->n] = n;
    f->value[f->n++] = v;
}

static void fields_free(h2client_fields_t *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->name[i]);
        free(f->value[i]);
    }
    f->n = 0;
}

void h2client_answer_free(h2client_answer_t *a)
{
    fields_free(&a->headers);
    fields_free(&a->trailers);
    buf_free(&a->data);
}

/* ---- nghttp2's callbacks ---- */

static bool ours(const h2client_t *c, int32_t id)
{
    return c->ans && id == c->id;
}

static void cancel(h2client_t *c)
{
    if (c->rst_sent)
        return;
    nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, c->id, NGHTTP2_CANCEL);
    c->rst_sent = true;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    h2client_t *c = ud;
    if (f->hd.type != NGHTTP2_HEADERS || !ours(c, f->hd.stream_id))
        return 0;
    h2client_answer_t *a = c->ans;
    if (f->headers.cat == NGHTTP2_HCAT_RESPONSE) {
        if (nl == 7 && memcmp(name, ":status", 7) == 0) {
            int st = 0;
            for (size_t i = 0; i < vl && i < 3; i++)
                st = st * 10 + (value[i] - '0');
            a->status = st; /* nghttp2 checked it is three digits */
        } else if (nl > 0 && name[0] != ':') {
            fields_add(c, &a->headers, name, nl, value, vl);
        }
    } else if (f->headers.cat == NGHTTP2_HCAT_HEADERS) {
        fields_add(c, &a->trailers, name, nl, value, vl);
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    h2client_t *c = ud;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        c->goaway = true;
        c->goaway_code = f->goaway.error_code;
        c->goaway_last_id = f->goaway.last_stream_id;
        return 0;
    }
    if (!ours(c, f->hd.stream_id))
        return 0;
    h2client_answer_t *a = c->ans;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_HEADERS)
        a->trailers_came = true;
    if (f->hd.type == NGHTTP2_RST_STREAM && !a->ended) {
        a->reset = true;
        a->reset_code = f->rst_stream.error_code;
    }
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        a->ended = true;
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p,
                         size_t n, void *ud)
{
    h2client_t *c = ud;
    if (!ours(c, id) || c->rst_sent)
        return 0;
    h2client_answer_t *a = c->ans;
    a->data_total += n;
    if (buf_size(&a->data) < H2CLIENT_KEEP) {
        size_t keep = H2CLIENT_KEEP - buf_size(&a->data);
        if (buf_append(&a->data, p, n < keep ? n : keep) < 0)
            c->nomem = true;
    }
    const h2client_request_t *r = c->req;
    bool stop = r->on_data && r->on_data(r->ud, p, n) != 0;
    if (stop || (r->cancel_after >= 0 && a->data_total >= (uint64_t)r->cancel_after)) {
        a->cancelled = true;
        cancel(c);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
    h2client_t *c = ud;
    if (ours(c, id)) {
        c->closed = true;
        c->close_code = code;
    }
    return 0;
}

static int on_error(nghttp2_session *ng, int lib_error_code, const char *msg, size_t len,
                    void *ud)
{
    h2client_t *c = ud;
    if (!c->why[0])
        snprintf(c->why, sizeof c->why, "%.*s", (int)len, msg);
    return 0;
}

/* The request's body, a chunk per DATA frame: nghttp2 asks once per frame. */
static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    h2client_t *c = ud;
    const h2client_request_t *r = c->req;
    while (c->body_i < r->nbody && c->body_off == r->body[c->body_i].len) {
        c->body_i++;
        c->body_off = 0;
    }
    size_t n = 0;
    if (c->body_i < r->nbody) {
        const h2client_chunk_t *k = &r->body[c->body_i];
        n = k->len - c->body_off;
        if (n > len)
            n = len;
        memcpy(out, k->data + c->body_off, n);
        c->body_off += n;
        while (c->body_i < r->nbody && c->body_off == r->body[c->body_i].len) {
            c->body_i++;
            c->body_off = 0;
        }
    }
    if (c->body_i < r->nbody)
        return (ssize_t)n;
    if (r->keep_open) {
        if (n == 0)
            return NGHTTP2_ERR_DEFERRED; /* nothing more, and the stream stays open */
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- the connection ---- */

static nghttp2_session_callbacks *callbacks(void)
{
    static nghttp2_session_callbacks *cb;
    if (!cb && nghttp2_session_callbacks_new(&cb) == 0) {
        nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
        nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
        nghttp2_session_callbacks_set_error_callback2(cb, on_error);
    }
    return cb;
}

/* Sends what nghttp2 has to send. 0, or -1 when the connection took no more. */
static int flush(h2client_t *c, int64_t deadline)
{
    for (;;) {
        const uint8_t *d;
        ssize_t n = nghttp2_session_mem_send(c->ng, &d);
        if (n < 0) {
            snprintf(c->why, sizeof c->why, "%s", nghttp2_strerror((int)n));
            return -1;
        }
        if (n == 0)
            return 0;
        if (http_client_send(&c->sock, d, (size_t)n, deadline - clock_now_ns()) != 0)
            return -1;
    }
}

h2client_t *h2client_open(const char *host, int port, int64_t timeout_ns, char *err,
                          size_t errlen)
{
    h2client_t *c = calloc(1, sizeof *c);
    if (!c || !callbacks()) {
        snprintf(err, errlen, "out of memory");
        free(c);
        return NULL;
    }
    if (http_client_open(&c->sock, host, port, timeout_ns, err, errlen)) {
        free(c);
        return NULL;
    }
    snprintf(c->authority, sizeof c->authority, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
             port);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    if (nghttp2_session_client_new(&c->ng, callbacks(), c) != 0 ||
        nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 1) != 0 ||
        flush(c, clock_now_ns() + timeout_ns) != 0) {
        snprintf(err, errlen, "cannot start HTTP/2%s%s", c->why[0] ? ": " : "", c->why);
        h2client_close(c);
        return NULL;
    }
    return c;
}

void h2client_close(h2client_t *c)
{
    if (!c)
        return;
    if (c->ng)
        nghttp2_session_del(c->ng);
    http_client_close(&c->sock);
    free(c);
}

#define NV(k, v)                                                                               \
    (nghttp2_nv)                                                                               \
    {                                                                                          \
        (uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE             \
    }

h2client_status_t h2client_call(h2client_t *c, const h2client_request_t *r,
                                h2client_answer_t *a, int64_t timeout_ns)
{
    memset(a, 0, sizeof *a);
    int64_t deadline = clock_now_ns() + timeout_ns;
    nghttp2_nv nv[4 + 64];
    size_t n = 0;
    nv[n++] = NV(":method", r->method);
    nv[n++] = NV(":scheme", "http");
    nv[n++] = NV(":authority", c->authority);
    nv[n++] = NV(":path", r->path);
    for (int i = 0; i < r->nheaders && n < sizeof nv / sizeof nv[0]; i++)
        nv[n++] = NV(r->headers[i].name, r->headers[i].value);
    c->req = r;
    c->ans = a;
    c->body_i = 0;
    c->body_off = 0;
    c->closed = c->rst_sent = c->nomem = false;
    c->why[0] = 0;
    nghttp2_data_provider prd = {.read_callback = body_read};
    c->id = nghttp2_submit_request(c->ng, NULL, nv, n, r->nbody || r->keep_open ? &prd : NULL,
                                   NULL);
    h2client_status_t st = H2CLIENT_OK;
    if (c->id < 0) {
        snprintf(a->why, sizeof a->why, "cannot send the request: %s", nghttp2_strerror(c->id));
        st = H2CLIENT_PROTOCOL;
        goto out;
    }
    for (;;) {
        bool sent = flush(c, deadline) == 0;
        if (c->nomem) {
            st = H2CLIENT_NOMEM;
            break;
        }
        if (c->closed) {
            if (c->close_code != NGHTTP2_NO_ERROR && !a->reset && !c->rst_sent) {
                /* nghttp2 closed it: what the server sent broke a rule, or a GOAWAY refused it */
                snprintf(a->why, sizeof a->why, "the stream was closed here (%s)%s%s",
                         nghttp2_http2_strerror(c->close_code), c->why[0] ? ": " : "", c->why);
                st = H2CLIENT_PROTOCOL;
            }
            break;
        }
        if (a->ended && !c->rst_sent && sent) {
            cancel(c); /* the server is done and the request is not: as gRPC clients do */
            continue;
        }
        if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng)) {
            snprintf(a->why, sizeof a->why, "the HTTP/2 session ended%s%s",
                     c->why[0] ? ": " : "", c->why);
            st = H2CLIENT_PROTOCOL;
            break;
        }
        if (buf_size(&c->sock.in) > 0) {
            ssize_t rv = nghttp2_session_mem_recv(c->ng, (const uint8_t *)buf_start(&c->sock.in),
                                                  buf_size(&c->sock.in));
            if (rv < 0) {
                snprintf(a->why, sizeof a->why, "not HTTP/2: %s",
                         c->why[0] ? c->why : nghttp2_strerror((int)rv));
                st = H2CLIENT_PROTOCOL;
                break;
            }
            buf_consume(&c->sock.in, buf_size(&c->sock.in));
            continue;
        }
        int64_t left = deadline - clock_now_ns();
        if (c->sock.eof || !sent) { /* a send that stopped for want of time is a timeout */
            st = c->sock.eof || left > 0 ? H2CLIENT_CLOSED : H2CLIENT_TIMEOUT;
            break;
        }
        if (left <= 0) {
            st = H2CLIENT_TIMEOUT;
            break;
        }
        http_client_fill(&c->sock, left);
    }
    if (st == H2CLIENT_TIMEOUT || st == H2CLIENT_CLOSED) {
        /* the stream is given up: whatever comes for it later is dropped */
        cancel(c);
        (void)flush(c, clock_now_ns() + 100 * NS_PER_MS);
    }
out:
    a->goaway = c->goaway;
    a->goaway_code = c->goaway_code;
    a->goaway_last_id = c->goaway_last_id;
    c->req = NULL;
    c->ans = NULL;
    return st;
}
