#include "http/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/net.h"

/* Largest answer read: more is "not HTTP" (keeps a hostile server from growing the buffer). */
#define CLIENT_MAX_ANSWER (64u << 20)

static int poll_ms(int64_t ns) { return ns <= 0 ? 0 : (int)((ns + NS_PER_MS - 1) / NS_PER_MS); }

int http_client_open(http_client_t *c, const char *host, int port, int64_t timeout_ns,
                     char *err, size_t errlen)
{
    *c = (http_client_t){.fd = -1};
    net_addr_t a;
    if (net_resolve(host, port, &a, err, errlen))
        return -1;
    c->fd = net_connect(&a);
    if (c->fd < 0) {
        snprintf(err, errlen, "cannot connect: %s", strerror(-c->fd));
        c->fd = -1;
        return -1;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    int so = 0;
    socklen_t sl = sizeof so;
    if (poll(&p, 1, poll_ms(timeout_ns)) <= 0 ||
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0 || so != 0) {
        snprintf(err, errlen, "cannot connect: %s", so ? strerror(so) : "timed out");
        http_client_close(c);
        return -1;
    }
    return 0;
}

void http_client_close(http_client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_free(&c->in);
}

int http_client_fill(http_client_t *c, int64_t wait_ns)
{
    if (c->eof)
        return -1;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, poll_ms(wait_ns)) <= 0)
        return 0;
    if (buf_reserve(&c->in, 65536) < 0) {
        c->eof = true;
        return -1;
    }
    ssize_t n = recv(c->fd, buf_end(&c->in), buf_room(&c->in), MSG_DONTWAIT);
    if (n > 0) {
        buf_commit(&c->in, (size_t)n);
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    c->eof = true;
    return -1;
}

int http_client_send(http_client_t *c, const void *p, size_t n, int64_t timeout_ns)
{
    size_t off = 0;
    int64_t deadline = clock_now_ns() + timeout_ns;
    while (off < n) {
        int64_t left = deadline - clock_now_ns();
        if (left <= 0)
            return -1;
        struct pollfd pf = {.fd = c->fd, .events = POLLOUT | (c->eof ? 0 : POLLIN)};
        if (poll(&pf, 1, poll_ms(left < 100 * NS_PER_MS ? left : 100 * NS_PER_MS)) <= 0)
            continue;
        if ((pf.revents & POLLIN) && !c->eof)
            http_client_fill(c, 0);
        if (pf.revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t w = send(c->fd, (const char *)p + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                return -1; /* the server stopped reading: what it said can still be read */
        }
    }
    return 0;
}

int http_client_answer(http_client_t *c, bool head_request, int64_t timeout_ns, http_msg_t *m,
                       http_frame_t *f)
{
    int64_t deadline = clock_now_ns() + timeout_ns;
    http_chunked_t d;
    bool have_head = false;
    for (;;) {
        char *s = buf_start(&c->in);
        size_t avail = buf_size(&c->in);
        int rc = avail ? http_parse_response(s, avail, m, HTTP_MAX_HEAD, head_request) : 0;
        if (rc < 0)
            return -1;
        if (rc > 0) {
            if (!have_head) {
                http_chunked_init(&d);
                have_head = true;
            }
            int fr = http_frame(m, s, avail, c->eof, CLIENT_MAX_ANSWER, &d, f);
            if (fr < 0)
                return -1;
            if (fr > 0)
                return 1;
        }
        if (c->eof)
            return 0;
        int64_t left = deadline - clock_now_ns();
        if (left <= 0)
            return 0;
        http_client_fill(c, left);
    }
}
