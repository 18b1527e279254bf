#include "tsock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http1.h"

int sock_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int sock_send(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int sock_send_str(int fd, const char *s) { return sock_send(fd, s, strlen(s)); }

ssize_t sock_read_all(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, timeout_ms) <= 0)
            break;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len + 1 >= cap)
            break;
    }
    buf[len] = 0;
    return (ssize_t)len;
}

ssize_t sock_read_response(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;
    http_chunked_t d;
    bool have_head = false;
    for (;;) {
        http_msg_t m;
        http_frame_t f;
        int rc = len ? http_parse_response(buf, len, &m, HTTP_MAX_HEAD, false) : 0;
        if (rc > 0) {
            if (!have_head) {
                http_chunked_init(&d);
                have_head = true;
            }
            if (http_frame(&m, buf, len, false, cap, &d, &f) > 0) {
                size_t n = m.head_len + f.body_len; /* the head, then the body as decoded */
                buf[n] = 0;
                return (ssize_t)n;
            }
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0) {
            buf[len] = 0;
            return len ? (ssize_t)len : 0;
        }
        len += (size_t)n;
        if (len + 1 >= cap)
            return (ssize_t)len;
    }
}

ssize_t http_roundtrip(int port, const char *req, size_t reqlen, char *buf, size_t cap)
{
    int fd = sock_connect(port);
    if (fd < 0)
        return -1;
    ssize_t n = -1;
    if (sock_send(fd, req, reqlen) == 0)
        n = sock_read_response(fd, buf, cap, 5000);
    close(fd);
    return n;
}

int resp_status(const char *buf)
{
    if (strncmp(buf, "HTTP/1.", 7) != 0 || strlen(buf) < 12)
        return -1;
    return atoi(buf + 9);
}

const char *resp_body(const char *buf)
{
    const char *b = strstr(buf, "\r\n\r\n");
    return b ? b + 4 : "";
}

bool resp_header(const char *buf, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *end = strstr(buf, "\r\n\r\n");
    for (const char *l = strstr(buf, "\r\n"); l && (!end || l < end); l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            h += nl + 1;
            while (*h == ' ')
                h++;
            size_t len = strcspn(h, "\r\n");
            snprintf(out, n, "%.*s", (int)len, h);
            return true;
        }
    }
    return false;
}
