/* badserver: a deliberately misbehaving HTTP/1.1 server, for testing the load engine (its
 * reset, garbage and silent modes treat an HTTP/2 client's bytes alike).
 *
 *   badserver MODE [--port N] [ARG]
 *     stall PERIOD_MS STALL_MS  answers "ok" at once, except that from the start, for STALL_MS
 *                               out of every PERIOD_MS, it answers nothing; what arrives then
 *                               is answered when the stall ends
 *     close-after N             answers N requests per connection, then closes without warning
 *     reset                     resets the connection (RST) when a request arrives
 *     garbage                   answers every request with bytes that are not HTTP
 *     silent                    reads requests and never answers
 *
 * Prints "listening on http://127.0.0.1:PORT" on stderr when ready, and "served N requests"
 * when stopped with SIGTERM/SIGINT. Single-threaded, over the project's loop and codec. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/loop.h"
#include "core/net.h"
#include "http/http1.h"

enum { M_STALL, M_CLOSE_AFTER, M_RESET, M_GARBAGE, M_SILENT };

static int mode;
static int64_t period_ns, stall_ns, t_start;
static long close_after;
static unsigned long long served;

typedef struct {
    loop_io_t io;
    loop_timer_t timer;
    buf_t in, out;
    long answered;
    bool h2;        /* began with an HTTP/2 preface */
} conn_t;

static void conn_free(conn_t *c)
{
    close(c->io.fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

/* The end of the stall window containing `now`, or 0 when not stalled. */
static int64_t stall_end(int64_t now)
{
    if (mode != M_STALL || stall_ns <= 0)
        return 0;
    int64_t in_period = (now - t_start) % period_ns;
    return in_period < stall_ns ? now - in_period + stall_ns : 0;
}

static void conn_work(loop_t *loop, conn_t *c)
{
    /* What is not HTTP/1.1 (an HTTP/2 preface) gets the same treatment as a request would:
     * silence, a reset, garbage. */
    if (!c->h2 && c->answered == 0 && buf_size(&c->in) >= 3 &&
        memcmp(buf_start(&c->in), "PRI", 3) == 0)
        c->h2 = true;
    if (c->h2 && (mode == M_SILENT || mode == M_RESET || mode == M_GARBAGE)) {
        if (mode == M_SILENT) {
            buf_clear(&c->in);
            return;
        }
        if (mode == M_RESET) {
            struct linger lg = {1, 0};
            setsockopt(c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            conn_free(c);
            return;
        }
        buf_clear(&c->in);
        buf_puts(&c->out, "\x01\x02 this is not HTTP/2 \xff\r\n\r\n");
    }
    for (;;) {
        http_msg_t m;
        int rc = http_parse_request(buf_start(&c->in), buf_size(&c->in), &m, HTTP_MAX_HEAD);
        if (rc == 0)
            break;
        if (rc < 0) {
            conn_free(c);
            return;
        }
        size_t total = (size_t)rc + (m.body == HTTP_BODY_LENGTH ? m.content_length : 0);
        if (buf_size(&c->in) < total)
            break;
        if (mode == M_SILENT) {
            buf_consume(&c->in, total);
            continue;
        }
        if (mode == M_RESET) {
            struct linger lg = {1, 0};
            setsockopt(c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            conn_free(c);
            return;
        }
        int64_t until = stall_end(loop_now_update(loop));
        if (until) {
            loop_timer_set(loop, &c->timer, until);
            break;
        }
        if (mode == M_GARBAGE)
            buf_puts(&c->out, "\x01\x02 this is not HTTP \xff\r\n\r\n");
        else
            http_write_response_head(&c->out, 200, "text/plain", 2, true, NULL), buf_puts(&c->out, "ok");
        buf_consume(&c->in, total);
        served++;
        c->answered++;
        if (mode == M_CLOSE_AFTER && c->answered >= close_after) {
            if (send(c->io.fd, buf_start(&c->out), buf_size(&c->out), MSG_NOSIGNAL) < 0) {
            }
            conn_free(c);
            return;
        }
    }
    while (buf_size(&c->out)) {
        ssize_t n = send(c->io.fd, buf_start(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (n <= 0)
            break; /* a test server: a full socket buffer just waits for the next request */
        buf_consume(&c->out, (size_t)n);
    }
}

static void on_timer(loop_t *loop, loop_timer_t *t)
{
    conn_t *c = container_of(t, conn_t, timer);
    conn_work(loop, c);
}

static void on_conn(loop_t *loop, loop_io_t *io, uint32_t ev)
{
    conn_t *c = container_of(io, conn_t, io);
    for (;;) {
        buf_reserve(&c->in, 16384);
        ssize_t n = recv(io->fd, buf_end(&c->in), buf_room(&c->in), 0);
        if (n > 0) {
            buf_commit(&c->in, (size_t)n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            loop_timer_stop(loop, &c->timer);
            conn_free(c);
            return;
        }
        if (errno == EAGAIN)
            break;
    }
    if (!loop_timer_armed(&c->timer))
        conn_work(loop, c);
}

static void on_accept(loop_t *loop, loop_io_t *io, uint32_t ev)
{
    int fd;
    while ((fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        conn_t *c = calloc(1, sizeof *c);
        c->io = (loop_io_t){.fd = fd, .cb = on_conn};
        loop_timer_init(&c->timer, on_timer);
        loop_add(loop, &c->io, EPOLLIN | EPOLLRDHUP);
        on_conn(loop, &c->io, EPOLLIN);
    }
}

static void on_signal(loop_t *loop, loop_io_t *io, uint32_t ev) { loop_stop(loop); }

int main(int argc, char **argv)
{
    int port = 0;
    int argi = 1;
    if (argc < 2) {
        fprintf(stderr, "usage: badserver stall|close-after|reset|garbage|silent [--port N] [ARGS]\n");
        return 2;
    }
    const char *m = argv[argi++];
    if (argi + 1 < argc && strcmp(argv[argi], "--port") == 0) {
        port = atoi(argv[argi + 1]);
        argi += 2;
    }
    if (!strcmp(m, "stall") && argi + 1 < argc) {
        mode = M_STALL;
        period_ns = atoll(argv[argi]) * NS_PER_MS;
        stall_ns = atoll(argv[argi + 1]) * NS_PER_MS;
    } else if (!strcmp(m, "close-after") && argi < argc) {
        mode = M_CLOSE_AFTER;
        close_after = atol(argv[argi]);
    } else if (!strcmp(m, "reset")) {
        mode = M_RESET;
    } else if (!strcmp(m, "garbage")) {
        mode = M_GARBAGE;
    } else if (!strcmp(m, "silent")) {
        mode = M_SILENT;
    } else {
        fprintf(stderr, "badserver: bad mode or arguments\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    net_addr_t a;
    char err[128];
    if (net_resolve("127.0.0.1", port, &a, err, sizeof err))
        return 1;
    loop_t *loop = loop_new();
    loop_io_t lio = {.fd = net_listen(&a, false, 1024), .cb = on_accept};
    loop_io_t sio = {.fd = signalfd(-1, &set, SFD_NONBLOCK), .cb = on_signal};
    if (lio.fd < 0 || sio.fd < 0 || loop_add(loop, &lio, EPOLLIN) || loop_add(loop, &sio, EPOLLIN))
        return 1;
    t_start = clock_now_ns();
    fprintf(stderr, "listening on http://127.0.0.1:%d\n", net_local_port(lio.fd));
    loop_run(loop);
    fprintf(stderr, "served %llu requests\n", served);
    /* A test tool: connections still open are not freed one by one, the process just ends
     * (_exit skips the leak check, which would count them). */
    _exit(0);
}
