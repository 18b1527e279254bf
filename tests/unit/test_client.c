/* Tests for the blocking HTTP/1.1 client (src/http/client.c) against a tiny server in a
 * thread of the test: it accepts one connection on 127.0.0.1, reads the request's head,
 * answers with scripted bytes (in pieces when the script says so) and then closes or waits
 * for the client to close. Timeouts here only decide which branch is taken. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "http/client.h"
#include "t.h"

#define MS(x) ((int64_t)(x) * NS_PER_MS)

typedef struct {
    int lfd, port;
    const char *const *pieces; /* what to write after the request's head, one write each */
    bool close_after;          /* close once written; else wait until the client closes */
    bool read_head;            /* read the request's head before answering */
    int stop[2];               /* server_join says "stop waiting" here */
    char got[4096];            /* what it received */
    size_t got_len;
    pthread_t thread;
} server_t;

#define PIECES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void *serve(void *arg)
{
    server_t *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    while (s->read_head && s->got_len + 1 < sizeof s->got &&
           !memmem(s->got, s->got_len, "\r\n\r\n", 4)) {
        ssize_t r = read(fd, s->got + s->got_len, sizeof s->got - 1 - s->got_len);
        if (r <= 0)
            break;
        s->got_len += (size_t)r;
    }
    for (int i = 0; s->pieces && s->pieces[i]; i++) {
        if (i > 0)
            usleep(20000); /* separate arrivals; the result must not depend on them */
        (void)!write(fd, s->pieces[i], strlen(s->pieces[i]));
    }
    if (!s->close_after) { /* read nothing more, until the client closes or the test ends */
        struct pollfd p[2] = {{.fd = fd, .events = POLLRDHUP},
                              {.fd = s->stop[0], .events = POLLIN}};
        while (poll(p, 2, -1) < 0 && errno == EINTR) {
        }
    }
    close(fd);
    return NULL;
}

/* A listening socket on 127.0.0.1, a free port, and its thread answering with pieces. */
static server_t *server_start(const char *const *pieces, bool close_after)
{
    static server_t s;
    memset(&s, 0, sizeof s);
    s.pieces = pieces;
    s.close_after = close_after;
    s.read_head = true;
    s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s.lfd, 4) != 0 ||
        getsockname(s.lfd, (struct sockaddr *)&a, &al) != 0) {
        fprintf(stderr, "    server: %s\n", strerror(errno));
        exit(1);
    }
    s.port = ntohs(a.sin_port);
    if (pipe(s.stop) != 0)
        exit(1);
    pthread_create(&s.thread, NULL, serve, &s);
    return &s;
}

/* Ends the server: a client that closed with bytes still unsent (the server reading nothing)
 * sends its FIN only after them, so the server may never see the close by itself. */
static void server_join(server_t *s)
{
    (void)!write(s->stop[1], "x", 1);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
}

static const char get[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";

/* Connects to s and sends a GET. */
static void open_and_ask(http_client_t *c, server_t *s)
{
    char err[256] = "";
    if (http_client_open(c, "127.0.0.1", s->port, MS(5000), err, sizeof err) != 0) {
        fprintf(stderr, "    open: %s\n", err);
        exit(1);
    }
    CHECK_INT(http_client_send(c, get, strlen(get), MS(5000)), 0);
}

static const char *body_of(const http_client_t *c, const http_msg_t *m)
{
    return buf_start(&c->in) + m->head_len;
}

/* ---- connecting ---- */

TEST(open_connects_and_close_closes)
{
    server_t *s = server_start(NULL, false);
    http_client_t c;
    char err[256] = "";
    CHECK_INT(http_client_open(&c, "127.0.0.1", s->port, MS(5000), err, sizeof err), 0);
    CHECK(c.fd >= 0);
    CHECK(!c.eof);
    CHECK_INT(buf_size(&c.in), 0);
    http_client_close(&c);
    CHECK_INT(c.fd, -1);
    server_join(s); /* it saw the close */
    http_client_close(&c); /* twice is harmless */
}

TEST(open_refused_port_is_minus_1_with_the_reason)
{
    /* a port bound but not listening: nobody else can take it while the test runs */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    http_client_t c;
    char err[256] = "";
    CHECK_INT(http_client_open(&c, "127.0.0.1", ntohs(a.sin_port), MS(5000), err, sizeof err), -1);
    CHECK_STR(err, "cannot connect: Connection refused");
    CHECK_INT(c.fd, -1);
    close(fd);
}

TEST(open_of_a_host_that_does_not_resolve_is_minus_1)
{
    http_client_t c;
    char err[256] = "";
    CHECK_INT(http_client_open(&c, "no such host", 80, MS(1000), err, sizeof err), -1);
    CHECK(strncmp(err, "cannot resolve 'no such host': ", 31) == 0);
    CHECK_INT(c.fd, -1);
}

/* ---- sending ---- */

TEST(send_delivers_every_byte)
{
    server_t *s = server_start(NULL, false);
    http_client_t c;
    open_and_ask(&c, s);
    http_client_close(&c);
    server_join(s);
    CHECK_MEM(s->got, s->got_len, get);
}

TEST(send_reads_an_early_answer_while_the_server_stops_reading)
{
    /* the server answers 413 after the head and reads nothing more: the body cannot all be
     * sent, and what the server said is there to read */
    server_t *s = server_start(PIECES("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n"
                                      "Connection: close\r\n\r\n"),
                               false);
    http_client_t c;
    char err[256];
    CHECK_INT(http_client_open(&c, "127.0.0.1", s->port, MS(5000), err, sizeof err), 0);
    size_t n = 64u << 20; /* more than both sockets' buffers hold */
    char *req = malloc(n);
    memset(req, 'x', n);
    int h = snprintf(req, n, "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", n - 64);
    req[h] = 'x';
    CHECK_INT(http_client_send(&c, req, n, MS(300)), -1);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(m.status, 413);
    free(req);
    http_client_close(&c);
    server_join(s);
}

/* ---- answers ---- */

TEST(answer_with_content_length)
{
    const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    server_t *s = server_start(PIECES(a), false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(m.status, 200);
    CHECK_INT(f.total, strlen(a));
    CHECK_INT(f.body_len, 5);
    CHECK_MEM(body_of(&c, &m), f.body_len, "hello");
    buf_consume(&c.in, f.total);
    CHECK_INT(buf_size(&c.in), 0);
    CHECK(!c.eof);
    http_client_close(&c);
    server_join(s);
}

TEST(answer_arriving_in_pieces)
{
    server_t *s = server_start(PIECES("HTTP/1.1 20", "0 OK\r\nContent-Le", "ngth: 5\r\n\r\n",
                                      "he", "llo"),
                               false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(m.status, 200);
    CHECK_MEM(body_of(&c, &m), f.body_len, "hello");
    http_client_close(&c);
    server_join(s);
}

TEST(answer_chunked_is_decoded)
{
    const char *a = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
    server_t *s = server_start(PIECES(a), false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(f.total, strlen(a));
    CHECK_INT(f.body_len, 9);
    CHECK_MEM(body_of(&c, &m), f.body_len, "Wikipedia");
    http_client_close(&c);
    server_join(s);
}

TEST(answer_chunked_in_pieces_is_decoded)
{
    server_t *s = server_start(PIECES("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r",
                                      "\nWi", "ki\r\n5\r\npe", "dia\r\n0\r\n", "\r\n"),
                               false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_MEM(body_of(&c, &m), f.body_len, "Wikipedia");
    http_client_close(&c);
    server_join(s);
}

TEST(answer_until_close_ends_when_the_server_closes)
{
    server_t *s = server_start(PIECES("HTTP/1.1 200 OK\r\n\r\nall of ", "it"), true);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK(c.eof);
    CHECK_MEM(body_of(&c, &m), f.body_len, "all of it");
    http_client_close(&c);
    server_join(s);
}

TEST(answer_to_head_has_no_body)
{
    server_t *s = server_start(PIECES("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, true, MS(5000), &m, &f), 1);
    CHECK_INT(f.body_len, 0);
    CHECK_INT(f.total, m.head_len);
    http_client_close(&c);
    server_join(s);
}

TEST(interim_100_is_an_answer_of_its_own)
{
    server_t *s = server_start(
        PIECES("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
        false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(m.status, 100);
    CHECK_INT(f.total, 25);
    CHECK_INT(f.body_len, 0);
    buf_consume(&c.in, f.total);
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(m.status, 201);
    CHECK_MEM(body_of(&c, &m), f.body_len, "ok");
    http_client_close(&c);
    server_join(s);
}

TEST(pipelined_answers_one_at_a_time)
{
    server_t *s = server_start(PIECES("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                                      "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb"),
                               false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(m.status, 200);
    CHECK_MEM(body_of(&c, &m), f.body_len, "a");
    buf_consume(&c.in, f.total);
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 1);
    CHECK_INT(m.status, 404);
    CHECK_MEM(body_of(&c, &m), f.body_len, "b");
    http_client_close(&c);
    server_join(s);
}

TEST(not_http_is_minus_1)
{
    server_t *s = server_start(PIECES("SSH-2.0-OpenSSH_9.2\r\n"), false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), -1);
    http_client_close(&c);
    server_join(s);
}

TEST(bad_chunked_framing_is_minus_1)
{
    server_t *s =
        server_start(PIECES("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), -1);
    http_client_close(&c);
    server_join(s);
}

TEST(server_closing_before_a_whole_answer_is_0_with_eof)
{
    server_t *s = server_start(PIECES("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), true);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 0);
    CHECK(c.eof);
    http_client_close(&c);
    server_join(s);
    /* in the middle of the head */
    s = server_start(PIECES("HTTP/1.1 200 OK\r\nConte"), true);
    open_and_ask(&c, s);
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 0);
    CHECK(c.eof);
    http_client_close(&c);
    server_join(s);
    /* before a byte */
    s = server_start(NULL, true);
    open_and_ask(&c, s);
    CHECK_INT(http_client_answer(&c, false, MS(5000), &m, &f), 0);
    CHECK(c.eof);
    http_client_close(&c);
    server_join(s);
}

TEST(server_that_never_answers_is_0_after_the_timeout)
{
    server_t *s = server_start(NULL, false);
    http_client_t c;
    open_and_ask(&c, s);
    http_msg_t m;
    http_frame_t f;
    int64_t t0 = clock_now_ns();
    CHECK_INT(http_client_answer(&c, false, MS(200), &m, &f), 0);
    CHECK(clock_now_ns() - t0 >= MS(200)); /* never before its time */
    CHECK(!c.eof);
    http_client_close(&c);
    server_join(s);
}

TEST(fill_is_1_on_bytes_0_on_nothing_minus_1_on_close)
{
    server_t *s = server_start(PIECES("x"), true);
    http_client_t c;
    open_and_ask(&c, s);
    CHECK_INT(http_client_fill(&c, MS(5000)), 1);
    CHECK_MEM(buf_start(&c.in), buf_size(&c.in), "x");
    server_join(s); /* closed now */
    CHECK_INT(http_client_fill(&c, MS(5000)), -1);
    CHECK(c.eof);
    CHECK_INT(http_client_fill(&c, MS(5000)), -1); /* and stays so */
    http_client_close(&c);
    s = server_start(NULL, false);
    open_and_ask(&c, s);
    CHECK_INT(http_client_fill(&c, 0), 0);
    CHECK_INT(http_client_fill(&c, MS(50)), 0);
    CHECK(!c.eof);
    http_client_close(&c);
    server_join(s);
}

T_MAIN(T(open_connects_and_close_closes), T(open_refused_port_is_minus_1_with_the_reason),
       T(open_of_a_host_that_does_not_resolve_is_minus_1), T(send_delivers_every_byte),
       T(send_reads_an_early_answer_while_the_server_stops_reading),
       T(answer_with_content_length), T(answer_arriving_in_pieces), T(answer_chunked_is_decoded),
       T(answer_chunked_in_pieces_is_decoded), T(answer_until_close_ends_when_the_server_closes),
       T(answer_to_head_has_no_body), T(interim_100_is_an_answer_of_its_own),
       T(pipelined_answers_one_at_a_time), T(not_http_is_minus_1),
       T(bad_chunked_framing_is_minus_1), T(server_closing_before_a_whole_answer_is_0_with_eof),
       T(server_that_never_answers_is_0_after_the_timeout),
       T(fill_is_1_on_bytes_0_on_nothing_minus_1_on_close))
