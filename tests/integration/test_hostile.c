/* The C service against hostile clients: many slow or idle connections cost little memory
 * (slowloris), a request trickled a byte at a time still ends at the request timeout, and at
 * the descriptor limit accept neither spins nor forgets the connections waiting in the
 * backlog. Figures (rates under attack, per language) are in bench/; here what must hold. */
#include "t.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "core/proc.h"
#include "tproc.h"
#include "tsock.h"

static t_server_t srv;
static char resp[1 << 16];

/* VmRSS of pid, KiB; -1 when unreadable. */
static long rss_kib(pid_t pid)
{
    uint64_t kib;
    return proc_rss_kib(pid, &kib) == 0 ? (long)kib : -1;
}

/* utime + stime of pid, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    long ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2)
        return -1;
    return ut + st;
}

/* Room for n descriptors in this process and its children, or a skip with why. */
static bool room_for(rlim_t n)
{
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur >= n)
        return true;
    r.rlim_cur = n;
    if (r.rlim_max < n)
        r.rlim_max = n;
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) {
        printf("skip: cannot raise the descriptor limit to %llu (%s): run as root or raise "
               "ulimit -n\n",
               (unsigned long long)n, strerror(errno));
        return false;
    }
    return true;
}

#define N_IDLE 5000
#define N_SLOW 5000

TEST(ten_thousand_idle_and_slow_connections_cost_at_most_10_kib_each)
{
    static int fds[N_IDLE + N_SLOW];
    if (!room_for(N_IDLE + N_SLOW + 256))
        return;
    const char *argv[] = {t_stackbench(), "serve", "echo", "--port", "0", "--workers", "1", NULL};
    if (t_start(&srv, argv) != 0)
        exit(1);
    /* A first round of requests: the server's own buffers are made before the baseline. */
    static const char req[] = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n[1,2,3]";
    for (int i = 0; i < 16; i++)
        CHECK(http_roundtrip(srv.port, req, sizeof req - 1, resp, sizeof resp) > 0);
    long before = rss_kib(srv.pid);
    int ok = 0;
    /* Idle: each has had an answer and stays open. */
    for (int i = 0; i < N_IDLE; i++) {
        fds[i] = sock_connect(srv.port);
        if (fds[i] < 0 || sock_send(fds[i], req, sizeof req - 1) != 0)
            continue;
        ok += sock_read_response(fds[i], resp, sizeof resp, 5000) > 0 && resp_status(resp) == 200;
    }
    CHECK_INT(ok, N_IDLE);
    /* Slow: each has sent a part of a head and nothing more (a slowloris client). */
    int open = 0;
    for (int i = N_IDLE; i < N_IDLE + N_SLOW; i++) {
        fds[i] = sock_connect(srv.port);
        open += fds[i] >= 0 && sock_send_str(fds[i], "POST /echo HTTP/1.1\r\nHost: t\r\nX-A") == 0;
    }
    CHECK_INT(open, N_SLOW);
    usleep(300000); /* the server has read them all */
    long after = rss_kib(srv.pid);
    double per = (double)(after - before) / (N_IDLE + N_SLOW);
    printf("    %d idle + %d slow connections: RSS %ld -> %ld KiB, %.2f KiB each\n", N_IDLE,
           N_SLOW, before, after, per);
    CHECK(before > 0 && after > 0);
    CHECK(per <= 10.0);
    /* Normal clients are still served. */
    CHECK(http_roundtrip(srv.port, req, sizeof req - 1, resp, sizeof resp) > 0);
    CHECK_INT(resp_status(resp), 200);
    for (int i = 0; i < N_IDLE + N_SLOW; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    CHECK_INT(t_stop(&srv, SIGTERM, 15000), 0);
}

TEST(a_request_trickled_a_byte_at_a_time_ends_at_the_request_timeout)
{
    const char *argv[] = {t_stackbench(), "serve",     "echo", "--port", "0", "--workers", "1",
                          "--request-timeout", "1s", NULL};
    if (t_start(&srv, argv) != 0)
        exit(1);
    int fd = sock_connect(srv.port);
    static const char head[] = "POST /echo HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaa";
    /* A byte every 100 ms: the timeout runs from the request's first byte, not its last. */
    ssize_t n = 0;
    for (size_t i = 0; i < sizeof head - 1 && n <= 0; i++) {
        if (sock_send(fd, head + i, 1) != 0)
            break;
        n = sock_read_all(fd, resp, sizeof resp, 100);
    }
    if (n <= 0)
        n = sock_read_all(fd, resp, sizeof resp, 3000);
    CHECK(n > 0);
    CHECK_INT(resp_status(resp), 408);
    close(fd);
    CHECK_INT(t_stop(&srv, SIGTERM, 15000), 0);
}

#define LIMIT 64
#define CLIENTS 200

TEST(at_the_descriptor_limit_accept_does_not_spin_and_serves_the_backlog_later)
{
    static int fds[CLIENTS];
    char cmd[4200];
    /* The server's own limit: LIMIT descriptors, set by the shell it is exec'd from. */
    snprintf(cmd, sizeof cmd, "ulimit -n %d && exec \"$0\" serve echo --port 0 --workers 1",
             LIMIT);
    const char *argv[] = {"/bin/sh", "-c", cmd, t_stackbench(), NULL};
    if (t_start(&srv, argv) != 0)
        exit(1);
    int connected = 0;
    for (int i = 0; i < CLIENTS; i++)
        connected += (fds[i] = sock_connect(srv.port)) >= 0;
    CHECK_INT(connected, CLIENTS); /* the kernel completes them into the backlog */
    usleep(300000);
    /* At the limit for a second: a server that retried accept in a loop would burn it. */
    long t0 = cpu_ticks(srv.pid);
    usleep(1000000);
    long t1 = cpu_ticks(srv.pid);
    long hz = sysconf(_SC_CLK_TCK);
    printf("    at the limit: %ld ticks of CPU in 1 s (%ld a second)\n", t1 - t0, hz);
    CHECK(t0 >= 0 && t1 - t0 <= hz / 10);
    /* Half the clients leave; every other one is then served. */
    for (int i = 0; i < CLIENTS / 2; i++)
        close(fds[i]);
    static const char req[] = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n[]";
    int served = 0;
    for (int i = CLIENTS / 2; i < CLIENTS; i++) {
        if (sock_send(fds[i], req, sizeof req - 1) != 0)
            continue;
        if (sock_read_response(fds[i], resp, sizeof resp, 5000) > 0 && resp_status(resp) == 200)
            served++;
        close(fds[i]); /* its descriptor is free for the next one */
    }
    CHECK_INT(served, CLIENTS / 2);
    CHECK_INT(t_stop(&srv, SIGTERM, 15000), 0);
}

T_MAIN(T(ten_thousand_idle_and_slow_connections_cost_at_most_10_kib_each),
       T(a_request_trickled_a_byte_at_a_time_ends_at_the_request_timeout),
       T(at_the_descriptor_limit_accept_does_not_spin_and_serves_the_backlog_later))
