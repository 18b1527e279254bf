#include "sut/sut.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/proc.h"
#include "http/client.h"
#include "http/url.h"

/* Appends what the child printed (keeping the tail when it is long). 1: read something or
 * nothing yet, 0: EOF. */
static int drain(sut_t *s, int64_t wait_ns)
{
    struct pollfd p = {.fd = s->err_fd, .events = POLLIN};
    if (poll(&p, 1, (int)(wait_ns / NS_PER_MS)) <= 0)
        return 1;
    char tmp[4096];
    ssize_t n = read(s->err_fd, tmp, sizeof tmp);
    if (n <= 0)
        return 0;
    size_t room = sizeof s->log - 1;
    if ((size_t)n > room)
        n = (ssize_t)room;
    if (s->loglen + (size_t)n > room) {
        size_t drop = s->loglen + (size_t)n - room;
        memmove(s->log, s->log + drop, s->loglen - drop);
        s->loglen -= drop;
    }
    memcpy(s->log + s->loglen, tmp, (size_t)n);
    s->loglen += (size_t)n;
    s->log[s->loglen] = 0;
    return 1;
}

int sut_start(sut_t *s, const char *const argv[], const cpuset_t *cpus, int64_t timeout_ns,
              char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->err_fd = -1;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    /* If the lab dies (killed, or a signal it does not handle), the service is stopped too
     * instead of running on, pinned, as an orphan. */
    proc_opts_t o = {.cpus = cpus, .err = fds[1], .deathsig = SIGTERM};
    s->pid = proc_spawn(argv, &o, err, errlen);
    close(fds[1]);
    if (s->pid < 0) {
        close(fds[0]);
        s->pid = 0;
        return -1;
    }
    s->err_fd = fds[0];
    int64_t end = clock_now_ns() + timeout_ns;
    while (clock_now_ns() < end) {
        const char *l = strstr(s->log, "listening on http://");
        if (l) {
            const char *hp = l + strlen("listening on http://");
            size_t n = strcspn(hp, " \n");
            if (hp[n] == '\n' || hp[n] == ' ') {
                const char *colon = memrchr(hp, ':', n);
                if (colon) {
                    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", atoi(colon + 1));
                    return 0;
                }
            }
        }
        if (!drain(s, 50 * NS_PER_MS))
            break; /* it exited */
    }
    snprintf(err, errlen, "did not start: %s", s->loglen ? s->log : "no output");
    err[strcspn(err, "\n")] = 0;
    sut_stop(s, SIGKILL, NS_PER_S);
    return -1;
}

int sut_stop(sut_t *s, int sig, int64_t timeout_ns)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, sig);
    int64_t end = clock_now_ns() + timeout_ns;
    int rc = -1, st;
    for (;;) {
        if (proc_wait(s->pid, 0, &st)) {
            rc = st;
            break;
        }
        if (clock_now_ns() > end) {
            kill(s->pid, SIGKILL);
            proc_wait(s->pid, -1, &st);
            break;
        }
        drain(s, 20 * NS_PER_MS); /* a full pipe would block its last words, and its exit */
    }
    while (drain(s, 50 * NS_PER_MS) == 1 && s->err_fd >= 0) {
        struct pollfd p = {.fd = s->err_fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            break;
    }
    close(s->err_fd);
    s->err_fd = -1;
    s->pid = 0;
    return rc;
}

long long sut_served(const sut_t *s)
{
    const char *p = NULL, *q = s->log;
    while ((q = strstr(q, "served ")))
        p = q++;
    return p ? atoll(p + 7) : -1;
}

int sut_wait_healthy(const char *url, int64_t timeout_ns)
{
    http_url_t u;
    char err[256];
    if (http_url_parse(url, &u, err, sizeof err))
        return -1;
    int64_t end = clock_now_ns() + timeout_ns;
    int answered = 0; /* every answer counts: the service counts them too */
    char req[512];
    int rl = snprintf(req, sizeof req, "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", u.authority);
    while (clock_now_ns() < end) {
        http_client_t c;
        if (http_client_open(&c, u.host, u.port, NS_PER_S, err, sizeof err) == 0) {
            http_msg_t m;
            http_frame_t f;
            if (http_client_send(&c, req, (size_t)rl, NS_PER_S) == 0 &&
                http_client_answer(&c, false, NS_PER_S, &m, &f) > 0) {
                answered++;
                if (m.status == 200) {
                    http_client_close(&c);
                    return answered;
                }
            }
            http_client_close(&c);
        }
        struct timespec ts = {0, 20 * NS_PER_MS};
        nanosleep(&ts, NULL);
    }
    return -1;
}
