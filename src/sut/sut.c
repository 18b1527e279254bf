#include "sut/sut.h"

#include <errno.h>
#include <fcntl.h>
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
#include "http/grpc.h"
#include "http/h2client.h"
#include "http/url.h"


/* The child's stderr is an unlinked temporary file, not a pipe: a service that writes a line
 * per request cannot fill it and block, and what it wrote is read whenever we look. */
static int temp_log(char *err, size_t errlen)
{
    char path[] = "/tmp/sb-sut-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a log file: %s", strerror(errno));
        return -1;
    }
    unlink(path);
    return fd;
}

/* Reads what the child wrote since last time into log (keeping the tail when it is long). */
static void drain(sut_t *s)
{
    char tmp[4096];
    ssize_t n;
    while (s->err_fd >= 0 && (n = pread(s->err_fd, tmp, sizeof tmp, s->logpos)) > 0) {
        s->logpos += n;
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
    }
}

static void nap(int64_t ns)
{
    struct timespec ts = {ns / NS_PER_S, ns % NS_PER_S};
    nanosleep(&ts, NULL);
}

/* Between two looks at a starting service: 1 ms in its first second, so that its start-up
 * time is known to the millisecond (the C service is up in a few), then 20 ms. */
static void nap_since(int64_t start)
{
    nap(clock_now_ns() - start < NS_PER_S ? NS_PER_MS : 20 * NS_PER_MS);
}

int sut_start(sut_t *s, const char *const argv[], const cpuset_t *cpus, const char *url,
              int64_t timeout_ns, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if ((s->err_fd = temp_log(err, errlen)) < 0)
        return -1;
    /* If the lab dies (killed, or a signal it does not handle), the service is stopped too
     * instead of running on, pinned, as an orphan. */
    proc_opts_t o = {.cpus = cpus, .err = s->err_fd, .deathsig = SIGTERM};
    s->pid = proc_spawn(argv, &o, err, errlen);
    if (s->pid < 0) {
        close(s->err_fd);
        s->err_fd = -1;
        s->pid = 0;
        return -1;
    }
    if (url) { /* it was told where to listen: sut_wait_healthy finds out when it does */
        snprintf(s->url, sizeof s->url, "%s", url);
        return 0;
    }
    int64_t start = clock_now_ns(), end = start + timeout_ns;
    bool exited = false;
    for (;;) {
        drain(s);
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
        int st;
        if (proc_wait(s->pid, 0, &st)) {
            exited = true;
            break;
        }
        if (clock_now_ns() >= end)
            break;
        nap_since(start);
    }
    drain(s);
    snprintf(err, errlen, "did not start: %s", s->loglen ? s->log : "no output");
    err[strcspn(err, "\n")] = 0;
    if (!exited)
        sut_stop(s, SIGKILL, NS_PER_S);
    if (s->err_fd >= 0)
        close(s->err_fd);
    s->err_fd = -1;
    s->pid = 0;
    return -1;
}

int sut_alive(const sut_t *s)
{
    return s->pid > 0 && proc_alive(s->pid);
}

int sut_stop(sut_t *s, int sig, int64_t timeout_ns)
{
    if (s->pid <= 0)
        return -1;
    int rc = proc_stop(s->pid, sig, timeout_ns);
    drain(s);
    if (s->err_fd >= 0)
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

/* gRPC's health check: grpc.health.v1.Health/Check over h2c (http/h2client). 1: SERVING; 0: an
 * answer that is not; -1: no answer. */
static int grpc_health_once(const http_url_t *u)
{
    char err[256];
    h2client_t *c = h2client_open(u->host, u->port, NS_PER_S, err, sizeof err);
    if (!c)
        return -1;
    /* HealthCheckRequest{service: ""}: an empty message, its prefix only. */
    static const char empty[GRPC_PREFIX] = {0};
    const h2client_chunk_t body = {empty, sizeof empty};
    const h2client_field_t hdr[] = {{"content-type", "application/grpc"}, {"te", "trailers"}};
    h2client_request_t r = {.method = "POST", .path = "/grpc.health.v1.Health/Check",
                            .headers = hdr, .nheaders = 2, .body = &body, .nbody = 1,
                            .cancel_after = -1};
    h2client_answer_t a;
    int rc = -1;
    if (h2client_call(c, &r, &a, NS_PER_S) == H2CLIENT_OK && a.status > 0) {
        /* HealthCheckResponse{status: SERVING}: 08 01 behind the prefix. */
        const char *gs = h2client_field(a.trailers_came ? &a.trailers : &a.headers, "grpc-status");
        const uint8_t *d = (const uint8_t *)buf_start(&a.data);
        rc = gs && strcmp(gs, "0") == 0 && buf_size(&a.data) == GRPC_PREFIX + 2 &&
             d[GRPC_PREFIX] == 0x08 && d[GRPC_PREFIX + 1] == 1;
    }
    h2client_answer_free(&a);
    h2client_close(c);
    return rc;
}

int sut_wait_healthy(const char *url, bool grpc, int64_t timeout_ns)
{
    http_url_t u;
    char err[256];
    if (http_url_parse(url, &u, err, sizeof err))
        return -1;
    int64_t start = clock_now_ns(), end = start + timeout_ns;
    int answered = 0; /* every answer counts: the service counts them too */
    while (grpc && clock_now_ns() < end) {
        int h = grpc_health_once(&u);
        answered += h >= 0;
        if (h == 1)
            return answered;
        nap_since(start);
    }
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
        nap_since(start);
    }
    return -1;
}
