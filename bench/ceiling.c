/* ceiling: the least an HTTP server can do on this machine. One thread, edge-triggered epoll,
 * no parsing beyond counting request ends ("\r\n\r\n"), one canned answer per request written
 * with one send() per batch. What the echo service costs above this is our overhead; what this
 * costs is the kernel's loopback and system calls. Benchmark tool only: not a server. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* The canned answer: {"status":"ok"}, or the body given as the second argument (so that the
 * ceiling for POST /echo moves exactly the bytes the echo service answers). */
static char answer[65536];
static size_t answer_len;

typedef struct {
    int fd;
    int match; /* how much of "\r\n\r\n" the previous read ended with */
} conn_t;

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    const char *body = argc > 2 ? argv[2] : "{\"status\":\"ok\"}";
    answer_len = (size_t)snprintf(answer, sizeof answer,
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4096)) {
        perror("ceiling: listen");
        return 1;
    }
    socklen_t len = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &len);
    fprintf(stderr, "listening on http://127.0.0.1:%d\n", ntohs(a.sin_port));
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static char in[65536];
    static char out[65536 / 4 * 1024]; /* an answer per 4 request bytes, answers up to 1 KiB */
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLET, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            for (;;) {
                ssize_t r = recv(c->fd, in, sizeof in, 0);
                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN)
                        break;
                    close(c->fd);
                    free(c);
                    break;
                }
                size_t k = 0;
                for (ssize_t j = 0; j < r; j++) {
                    char ch = in[j];
                    c->match = (ch == "\r\n\r\n"[c->match]) ? c->match + 1 : (ch == '\r');
                    if (c->match == 4) {
                        if (k + answer_len > sizeof out) { /* flush a full batch */
                            if (send(c->fd, out, k, MSG_NOSIGNAL) < 0)
                                break;
                            k = 0;
                        }
                        memcpy(out + k, answer, answer_len);
                        k += answer_len;
                        c->match = 0;
                    }
                }
                if (k && send(c->fd, out, k, MSG_NOSIGNAL) < 0) {
                    close(c->fd);
                    free(c);
                    break;
                }
                if ((size_t)r < sizeof in)
                    break;
            }
        }
    }
}
