#include "verify/verify.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/net.h"
#include "http/http1.h"
#include "http/url.h"

typedef struct {
    int fd;
    buf_t in;
    bool eof;           /* the server closed (or reset) */
    int64_t timeout_ns;
} vconn_t;

/* Reads what is available, waiting up to wait_ns for something. 1: got bytes, 0: nothing
 * in time, -1: closed or reset. */
static int vread(vconn_t *v, int64_t wait_ns)
{
    if (v->eof)
        return -1;
    struct pollfd p = {.fd = v->fd, .events = POLLIN};
    int ms = (int)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
    if (poll(&p, 1, ms) <= 0)
        return 0;
    buf_reserve(&v->in, 65536);
    ssize_t n = recv(v->fd, buf_end(&v->in), buf_room(&v->in), 0);
    if (n > 0) {
        buf_commit(&v->in, (size_t)n);
        return 1;
    }
    v->eof = true;
    return -1;
}

/* Sends everything while reading whatever the server answers meanwhile: a server may answer
 * early (413) and close, and must not deadlock a client that is still sending. */
static void vsend(vconn_t *v, const char *p, size_t n)
{
    size_t off = 0;
    int64_t deadline = clock_now_ns() + v->timeout_ns;
    while (off < n && clock_now_ns() < deadline) {
        struct pollfd pf = {.fd = v->fd, .events = POLLOUT | (v->eof ? 0 : POLLIN)};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        if ((pf.revents & POLLIN) && !v->eof)
            vread(v, 0);
        if (pf.revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t w = send(v->fd, p + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                return; /* the server stopped reading: what it said is still read below */
        }
    }
}

static void preview(char *out, size_t n, const char *p, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 5 < n && i < 60; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
    }
    if (len > 60 && k + 4 < n)
        k += (size_t)snprintf(out + k, n - k, "...");
    out[k] = 0;
}

/* Waits for one whole answer in v->in. Returns its total length and fills m, body, body_len;
 * 0 when the connection closed or the time ran out first; -1 when the bytes are not HTTP. */
static ssize_t vanswer(vconn_t *v, bool head_only, http_msg_t *m, buf_t *body)
{
    int64_t deadline = clock_now_ns() + v->timeout_ns;
    for (;;) {
        char *s = buf_start(&v->in);
        size_t avail = buf_size(&v->in);
        int rc = avail ? http_parse_response(s, avail, m, HTTP_MAX_HEAD, head_only) : 0;
        if (rc < 0)
            return -1;
        if (rc > 0) {
            size_t head = (size_t)rc;
            buf_clear(body);
            if (m->body == HTTP_BODY_NONE)
                return (ssize_t)head;
            if (m->body == HTTP_BODY_LENGTH && avail >= head + m->content_length) {
                buf_append(body, s + head, m->content_length);
                return (ssize_t)(head + m->content_length);
            }
            if (m->body == HTTP_BODY_CHUNKED) {
                buf_t tmp = BUF_INIT;
                buf_append(&tmp, s + head, avail - head);
                http_chunked_t d;
                http_chunked_init(&d);
                ssize_t r = http_chunked_decode(&d, buf_start(&tmp), buf_size(&tmp));
                if (r > 0)
                    buf_append(body, buf_start(&tmp), d.out);
                buf_free(&tmp);
                if (r < 0)
                    return -1;
                if (r > 0)
                    return (ssize_t)(head + (size_t)r);
            }
            if (m->body == HTTP_BODY_UNTIL_CLOSE && v->eof) {
                buf_append(body, s + head, avail - head);
                return (ssize_t)avail;
            }
        }
        int64_t left = deadline - clock_now_ns();
        if (left <= 0 || vread(v, left) < 0) {
            if (v->eof && rc > 0 && m->body == HTTP_BODY_UNTIL_CLOSE)
                continue; /* the close ends that body */
            return 0;
        }
    }
}

static int check_expect(vconn_t *v, const contract_step_t *st, int nth, char *why, size_t n)
{
    http_msg_t m;
    buf_t body = BUF_INIT;
    char pv[256];
    int rc = -1;
    for (;;) {
        ssize_t len = vanswer(v, st->head_only, &m, &body);
        if (st->status == 0) {
            /* "none": no answer at all, or an error answer */
            if (len > 0 && m.status < 400)
                snprintf(why, n, "answer %d: status %d, want no answer or an error", nth, m.status);
            else
                rc = 0;
            if (len > 0)
                buf_consume(&v->in, (size_t)len);
            goto out;
        }
        if (len == 0) {
            preview(pv, sizeof pv, buf_start(&v->in), buf_size(&v->in));
            snprintf(why, n, "answer %d: %s before a whole answer arrived%s%s", nth,
                     v->eof ? "connection closed" : "timed out", *pv ? "; got: " : "", pv);
            goto out;
        }
        if (len < 0) {
            preview(pv, sizeof pv, buf_start(&v->in), buf_size(&v->in));
            snprintf(why, n, "answer %d: not HTTP: %s", nth, pv);
            goto out;
        }
        buf_consume(&v->in, (size_t)len);
        if (m.status >= 100 && m.status < 200 && st->status >= 200)
            continue; /* an interim answer the case does not ask about */
        break;
    }
    preview(pv, sizeof pv, buf_start(&body), buf_size(&body));
    if (m.status != st->status) {
        snprintf(why, n, "answer %d: status %d, want %d (body: %s)", nth, m.status, st->status, pv);
        goto out;
    }
    for (int i = 0; i < st->nheaders; i++) {
        const http_str_t *h = http_header(&m, st->header_name[i]);
        if (!h) {
            snprintf(why, n, "answer %d: no %s header, want '%s'", nth, st->header_name[i],
                     st->header_value[i]);
            goto out;
        }
        if (!http_str_eq(*h, st->header_value[i])) {
            snprintf(why, n, "answer %d: %s: '%.*s', want '%s'", nth, st->header_name[i],
                     (int)h->n, h->p, st->header_value[i]);
            goto out;
        }
    }
    if (st->has_body && (buf_size(&body) != st->body_len ||
                         memcmp(buf_start(&body), st->body, st->body_len) != 0)) {
        char want[256];
        preview(want, sizeof want, st->body, st->body_len);
        snprintf(why, n, "answer %d: body %s, want %s", nth, pv, want);
        goto out;
    }
    for (int i = 0; i < st->nbody_has; i++) {
        if (!memmem(buf_start(&body) ? buf_start(&body) : "", buf_size(&body), st->body_has[i],
                    strlen(st->body_has[i]))) {
            snprintf(why, n, "answer %d: body %s does not contain %s", nth, pv, st->body_has[i]);
            goto out;
        }
    }
    rc = 0;
out:
    buf_free(&body);
    return rc;
}

static int run_case(const contract_case_t *c, const net_addr_t *addr, int64_t timeout_ns,
                    char *why, size_t n)
{
    vconn_t v = {.fd = -1, .timeout_ns = timeout_ns};
    v.fd = net_connect(addr);
    int rc = -1;
    if (v.fd < 0) {
        snprintf(why, n, "cannot connect: %s", strerror(-v.fd));
        return -1;
    }
    struct pollfd pf = {.fd = v.fd, .events = POLLOUT};
    if (poll(&pf, 1, (int)(timeout_ns / NS_PER_MS)) <= 0 || (pf.revents & (POLLERR | POLLHUP))) {
        snprintf(why, n, "cannot connect");
        goto out;
    }
    int answers = 0;
    for (int i = 0; i < c->nsteps; i++) {
        const contract_step_t *st = &c->steps[i];
        switch (st->kind) {
        case STEP_SEND:
            vsend(&v, st->data, st->len);
            break;
        case STEP_PAUSE: {
            struct timespec ts = {st->pause_ns / NS_PER_S, st->pause_ns % NS_PER_S};
            nanosleep(&ts, NULL);
            break;
        }
        case STEP_SHUTDOWN:
            shutdown(v.fd, SHUT_WR);
            break;
        case STEP_EXPECT:
            if (check_expect(&v, st, ++answers, why, n))
                goto out;
            break;
        case STEP_CLOSED: {
            int64_t deadline = clock_now_ns() + timeout_ns;
            while (buf_size(&v.in) == 0 && !v.eof && clock_now_ns() < deadline)
                vread(&v, deadline - clock_now_ns());
            if (buf_size(&v.in) > 0) {
                char pv[256];
                preview(pv, sizeof pv, buf_start(&v.in), buf_size(&v.in));
                snprintf(why, n, "want the connection closed, got more bytes: %s", pv);
                goto out;
            }
            if (!v.eof) {
                snprintf(why, n, "want the connection closed, still open after %.1fs",
                         (double)timeout_ns / NS_PER_S);
                goto out;
            }
            break;
        }
        }
    }
    rc = 0;
out:
    close(v.fd);
    buf_free(&v.in);
    return rc;
}

int verify_run(const contract_t *c, const char *url, int64_t timeout_ns, verify_result_t *results,
               char *err, size_t errlen)
{
    http_url_t u;
    net_addr_t addr;
    if (http_url_parse(url, &u, err, errlen) || net_resolve(u.host, u.port, &addr, err, errlen))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    int failed = 0;
    for (int i = 0; i < c->ncases; i++) {
        verify_result_t *r = &results[i];
        r->name = c->cases[i].name;
        r->why[0] = 0;
        r->ok = run_case(&c->cases[i], &addr, timeout_ns, r->why, sizeof r->why) == 0;
        failed += !r->ok;
    }
    return failed;
}
