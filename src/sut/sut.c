#include "sut/sut.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/net.h"
#include "http/http1.h"
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

int sut_start(sut_t *s, const char *const argv[], const unsigned char *mask,
                  int64_t timeout_ns, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    s->pid = fork();
    if (s->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (s->pid == 0) {
        if (mask) {
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int c = 0; c < 1024 && c < CPU_SETSIZE; c++)
                if (mask[c])
                    CPU_SET(c, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* If the lab dies (killed, or a signal it does not handle), the service is stopped
         * too instead of running on, pinned, as an orphan. Linux sends it when the forking
         * *thread* ends: the lab starts services from its main thread. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127); /* the lab died before the setting was made */
        dup2(fds[1], 2);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
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
    int st = 0, rc = -1;
    for (;;) {
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) {
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (clock_now_ns() > end) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            break;
        }
        drain(s, 20 * NS_PER_MS);
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
    net_addr_t a;
    char err[256];
    if (http_url_parse(url, &u, err, sizeof err) || net_resolve(u.host, u.port, &a, err, sizeof err))
        return -1;
    int64_t end = clock_now_ns() + timeout_ns;
    int answered = 0; /* every answer counts: the service counts them too */
    char req[512];
    int rl = snprintf(req, sizeof req, "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", u.authority);
    while (clock_now_ns() < end) {
        int fd = net_connect(&a);
        if (fd >= 0) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 1000) == 1 && !(p.revents & (POLLERR | POLLHUP)) &&
                send(fd, req, (size_t)rl, MSG_NOSIGNAL) == rl) {
                char buf[4096];
                size_t len = 0;
                while (len < sizeof buf) {
                    p = (struct pollfd){.fd = fd, .events = POLLIN};
                    if (poll(&p, 1, 1000) <= 0)
                        break;
                    ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
                    if (n <= 0)
                        break;
                    len += (size_t)n;
                    http_msg_t m;
                    int rc = http_parse_response(buf, len, &m, sizeof buf, false);
                    if (rc > 0 && len >= (size_t)rc + m.content_length) {
                        close(fd);
                        answered++;
                        if (m.status == 200)
                            return answered;
                        goto retry;
                    }
                    if (rc < 0)
                        break;
                }
            }
            close(fd);
        }
    retry:;
        struct timespec ts = {0, 20 * NS_PER_MS};
        nanosleep(&ts, NULL);
    }
    return -1;
}
