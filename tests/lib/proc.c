#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/http1.h"

const char *proc_stackbench(void)
{
    const char *s = getenv("STACKBENCH");
    return s ? s : "./stackbench";
}

const char *proc_tool(const char *name)
{
    static char path[4096];
    const char *d = getenv("SB_TOOLS");
    snprintf(path, sizeof path, "%s/%s", d ? d : "build/tests/tools", name);
    return path;
}

const char *proc_peer(const char *rel)
{
    static char path[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(path, sizeof path, "%s/peers/%s", root ? root : ".", rel);
    return path;
}

int proc_verify(const char *workload, const char *const argv[])
{
    static char out[1 << 16];
    proc_t p;
    if (proc_start(&p, argv) != 0)
        return -1;
    const char *v[] = {proc_stackbench(), "verify", "-q", workload, p.url, NULL};
    int rc = proc_run(v, out, sizeof out, 120000);
    bool passed = rc == 0 && strstr(out, " 0 failed") != NULL;
    if (!passed)
        fprintf(stderr, "    verify %s exited %d:\n%s", workload, rc, out);
    int st = proc_stop(&p, SIGTERM, 15000);
    long long served = proc_served(&p);
    if (st != 0 || served <= 0)
        fprintf(stderr, "    %s: exit status %d, served %lld\n", argv[0], st, served);
    return passed && st == 0 && served > 0 ? 0 : -1;
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int proc_start(proc_t *p, const char *const argv[])
{
    memset(p, 0, sizeof *p);
    char err[1024];
    if (sut_start(&p->svc, argv, NULL, 5 * NS_PER_S, err, sizeof err) != 0) {
        fprintf(stderr, "    %s: %s\n", argv[0], err);
        return -1;
    }
    p->pid = p->svc.pid;
    snprintf(p->url, sizeof p->url, "%s", p->svc.url);
    const char *colon = strrchr(p->url, ':');
    p->port = colon ? atoi(colon + 1) : 0;
    return 0;
}

int proc_stop(proc_t *p, int sig, int timeout_ms)
{
    return sut_stop(&p->svc, sig, (int64_t)timeout_ms * NS_PER_MS);
}

long long proc_served(const proc_t *p) { return sut_served(&p->svc); }

int proc_run(const char *const argv[], char *out, size_t cap, int timeout_ms)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    long long end = ms_now() + timeout_ms;
    for (;;) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        long long left = end - ms_now();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        ssize_t n = read(fds[0], out + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len + 1 >= cap)
            break;
    }
    out[len] = 0;
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

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
    for (;;) {
        http_msg_t m;
        int rc = http_parse_response(buf, len, &m, HTTP_MAX_HEAD, false);
        if (rc > 0) {
            size_t total = (size_t)rc;
            if (m.body == HTTP_BODY_LENGTH)
                total += m.content_length;
            if (len >= total && m.body != HTTP_BODY_CHUNKED && m.body != HTTP_BODY_UNTIL_CLOSE) {
                buf[len] = 0;
                return (ssize_t)len;
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
