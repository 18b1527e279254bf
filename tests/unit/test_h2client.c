/* Tests for the blocking HTTP/2 client (src/http/h2client.c) against a scripted server in a
 * thread of the test: it accepts one connection on 127.0.0.1, sends its SETTINGS, reads the
 * client's frames until the request's END_STREAM (or a RST_STREAM), noting the DATA frames,
 * then writes the script's frames, byte for byte (HPACK written by hand: a static index or a
 * literal without indexing), and waits for the client to close. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "http/h2client.h"
#include "t.h"

#define MS(x) ((int64_t)(x) * NS_PER_MS)

typedef struct {
    int lfd, port;
    const char *script;        /* frames to write once the request is whole */
    size_t script_len;
    bool wait_request;         /* read the request before writing the script */
    bool after_first_data;     /* ... or only until its first DATA frame */
    size_t data_frames[16];    /* the request's DATA frames, their lengths */
    int ndata;
    bool got_rst;              /* a RST_STREAM came, and its code */
    uint32_t rst_code;
    pthread_t thread;
} server_t;

static bool read_all(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* One frame of the client: its type, flags, stream and length; the payload read (at most
 * cap bytes kept). false when the connection ended. */
static bool read_frame(int fd, uint8_t *type, uint8_t *flags, uint32_t *len, uint8_t *payload,
                       size_t cap)
{
    uint8_t h[9];
    if (!read_all(fd, h, 9))
        return false;
    *len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
    *type = h[3];
    *flags = h[4];
    for (uint32_t left = *len; left;) {
        uint8_t junk[4096];
        size_t take = left < sizeof junk ? left : sizeof junk;
        if (!read_all(fd, junk, take))
            return false;
        if (payload && *len - left + take <= cap)
            memcpy(payload + (*len - left), junk, take);
        left -= (uint32_t)take;
    }
    return true;
}

static void *serve(void *arg)
{
    server_t *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    uint8_t preface[24];
    static const uint8_t settings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    if (!read_all(fd, preface, sizeof preface) || write(fd, settings, 9) != 9)
        goto out;
    for (bool done = !s->wait_request; !done;) {
        uint8_t type, flags, p[8];
        uint32_t len;
        if (!read_frame(fd, &type, &flags, &len, p, sizeof p))
            goto out;
        if (type == 0 && s->ndata < 16) /* DATA */
            s->data_frames[s->ndata++] = len;
        if (type == 3 && len == 4) { /* RST_STREAM */
            s->got_rst = true;
            s->rst_code = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        }
        done = ((type == 0 || type == 1) && (flags & 1)) || type == 3 ||
               (type == 0 && s->after_first_data);
    }
    if (s->script_len && write(fd, s->script, s->script_len) != (ssize_t)s->script_len)
        goto out;
    /* until the client closes, noting a RST_STREAM */
    for (;;) {
        uint8_t type, flags, p[8];
        uint32_t len;
        if (!read_frame(fd, &type, &flags, &len, p, sizeof p))
            break;
        if (type == 3 && len == 4) {
            s->got_rst = true;
            s->rst_code = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        }
    }
out:
    close(fd);
    return NULL;
}

static void server_start(server_t *s, const char *script, size_t len)
{
    s->script = script;
    s->script_len = len;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->lfd, 1) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        fprintf(stderr, "    cannot listen\n");
        exit(1);
    }
    s->port = ntohs(a.sin_port);
    pthread_create(&s->thread, NULL, serve, s);
}

static void server_join(server_t *s)
{
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

/* Frames by hand: a 9-byte header, then the payload. */
#define FRAME(len, type, flags, stream) "\0\0" len type flags "\0\0\0" stream
/* HEADERS of stream 1: ":status 200" (static index 8), "content-type: application/grpc" */
#define RESPONSE_HEADERS                                                                       \
    FRAME("\x20", "\x01", "\x04", "\x01")                                                        \
    "\x88\x00\x0c" "content-type" "\x10" "application/grpc"
/* trailers of stream 1: "grpc-status: 0", END_STREAM */
#define TRAILERS FRAME("\x0f", "\x01", "\x05", "\x01") "\x00\x0b" "grpc-status" "\x01" "0"

static const h2client_request_t quote = {.method = "POST", .path = "/p", .cancel_after = -1};

TEST(an_answer_brings_its_status_headers_data_and_trailers)
{
    static const char script[] = RESPONSE_HEADERS FRAME("\x05", "\x00", "\x00", "\x01") "hello"
        TRAILERS;
    server_t s = {.wait_request = true};
    server_start(&s, script, sizeof script - 1);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    CHECK(c != NULL);
    if (!c)
        exit(1);
    h2client_answer_t a;
    CHECK_INT(h2client_call(c, &quote, &a, MS(2000)), H2CLIENT_OK);
    CHECK_INT(a.status, 200);
    CHECK_STR(h2client_field(&a.headers, "content-type"), "application/grpc");
    CHECK(h2client_field(&a.headers, ":status") == NULL); /* pseudo-headers left out */
    CHECK_MEM(buf_start(&a.data), buf_size(&a.data), "hello");
    CHECK_INT(a.data_total, 5);
    CHECK(a.trailers_came);
    CHECK_STR(h2client_field(&a.trailers, "grpc-status"), "0");
    CHECK(a.ended && !a.reset && !a.cancelled && !a.goaway);
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
    CHECK_INT(s.ndata, 0); /* no body: the request's HEADERS ended its stream */
}

TEST(each_chunk_of_the_body_is_a_data_frame)
{
    static const char script[] = RESPONSE_HEADERS TRAILERS;
    server_t s = {.wait_request = true};
    server_start(&s, script, sizeof script - 1);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    if (!c)
        exit(1);
    h2client_chunk_t body[] = {{"ab", 2}, {"", 0}, {"cdefghi", 7}, {"jklmno", 6}};
    h2client_request_t r = quote;
    r.body = body;
    r.nbody = 4;
    h2client_answer_t a;
    CHECK_INT(h2client_call(c, &r, &a, MS(2000)), H2CLIENT_OK);
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
    /* three frames, the empty chunk none; END_STREAM on the last */
    CHECK_INT(s.ndata, 3);
    CHECK(s.data_frames[0] == 2 && s.data_frames[1] == 7 && s.data_frames[2] == 6);
}

TEST(a_server_done_before_the_request_gets_a_cancel)
{
    /* The request stays open (keep_open); the server answers whole: the client resets its own
     * side, as gRPC clients do, and the call is a success. */
    static const char script[] = RESPONSE_HEADERS TRAILERS;
    server_t s = {.wait_request = true, .after_first_data = true};
    server_start(&s, script, sizeof script - 1);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    if (!c)
        exit(1);
    h2client_chunk_t body[] = {{"x", 1}};
    h2client_request_t r = quote;
    r.body = body;
    r.nbody = 1;
    r.keep_open = true;
    h2client_answer_t a;
    CHECK_INT(h2client_call(c, &r, &a, MS(2000)), H2CLIENT_OK);
    CHECK(a.ended && !a.cancelled && !a.reset);
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
    CHECK(s.got_rst && s.rst_code == 8); /* CANCEL */
}

TEST(cancel_after_resets_the_stream_once_enough_data_came)
{
    static const char script[] = RESPONSE_HEADERS FRAME("\x0a", "\x00", "\x00", "\x01")
        "0123456789" FRAME("\x0a", "\x00", "\x00", "\x01") "0123456789";
    server_t s = {.wait_request = true};
    server_start(&s, script, sizeof script - 1);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    if (!c)
        exit(1);
    h2client_request_t r = quote;
    r.cancel_after = 15;
    h2client_answer_t a;
    CHECK_INT(h2client_call(c, &r, &a, MS(2000)), H2CLIENT_OK);
    CHECK(a.cancelled && !a.ended);
    CHECK_INT(a.data_total, 20);
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
    CHECK(s.got_rst && s.rst_code == 8);
}

TEST(a_reset_from_the_server_is_reported_with_its_code)
{
    static const char script[] = FRAME("\x04", "\x03", "\x00", "\x01") "\0\0\0\x07";
    server_t s = {.wait_request = true};
    server_start(&s, script, sizeof script - 1);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    if (!c)
        exit(1);
    h2client_answer_t a;
    CHECK_INT(h2client_call(c, &quote, &a, MS(2000)), H2CLIENT_OK);
    CHECK(a.reset && a.reset_code == 7 && !a.ended);
    CHECK_STR(h2client_error_name(a.reset_code), "REFUSED_STREAM");
    CHECK_INT(a.status, 0);
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
}

TEST(a_goaway_is_reported_and_refuses_the_streams_after_its_last)
{
    /* GOAWAY, last stream 0, ENHANCE_YOUR_CALM */
    static const char script[] = FRAME("\x08", "\x07", "\x00", "\x00") "\0\0\0\0\0\0\0\x0b";
    server_t s = {.wait_request = true};
    server_start(&s, script, sizeof script - 1);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    if (!c)
        exit(1);
    h2client_answer_t a;
    CHECK_INT(h2client_call(c, &quote, &a, MS(2000)), H2CLIENT_PROTOCOL);
    CHECK(a.goaway && a.goaway_code == 0xb && a.goaway_last_id == 0);
    CHECK(strstr(a.why, "REFUSED_STREAM") != NULL);
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
}

TEST(a_server_that_does_not_answer_times_out)
{
    server_t s = {.wait_request = true};
    server_start(&s, "", 0);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    if (!c)
        exit(1);
    h2client_answer_t a;
    int64_t t0 = clock_now_ns();
    CHECK_INT(h2client_call(c, &quote, &a, MS(200)), H2CLIENT_TIMEOUT);
    int64_t took = clock_now_ns() - t0;
    CHECK(took >= MS(190) && took < MS(1500));
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
    CHECK(s.got_rst && s.rst_code == 8); /* the stream given up is cancelled */
}

TEST(a_server_that_speaks_http1_is_not_http2)
{
    /* after the SETTINGS, an HTTP/1.1 answer: its first bytes read as a frame far over the
     * largest frame size, a connection error */
    static const char script[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    server_t s = {.wait_request = true};
    server_start(&s, script, sizeof script - 1);
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", s.port, MS(2000), err, sizeof err);
    if (!c)
        exit(1);
    h2client_answer_t a;
    CHECK_INT(h2client_call(c, &quote, &a, MS(2000)), H2CLIENT_PROTOCOL);
    CHECK(a.why[0] != 0);
    h2client_answer_free(&a);
    h2client_close(c);
    server_join(&s);
}

TEST(open_refuses_a_port_nobody_listens_on)
{
    server_t s = {0};
    server_start(&s, "", 0);
    int port = s.port;
    /* the server thread waits in accept: connect once so that it ends, then close */
    char err[256];
    h2client_t *c = h2client_open("127.0.0.1", port, MS(2000), err, sizeof err);
    h2client_close(c);
    server_join(&s);
    CHECK(h2client_open("127.0.0.1", port, MS(500), err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot connect") != NULL);
}

T_MAIN(T(an_answer_brings_its_status_headers_data_and_trailers),
       T(each_chunk_of_the_body_is_a_data_frame), T(a_server_done_before_the_request_gets_a_cancel),
       T(cancel_after_resets_the_stream_once_enough_data_came),
       T(a_reset_from_the_server_is_reported_with_its_code),
       T(a_goaway_is_reported_and_refuses_the_streams_after_its_last),
       T(a_server_that_does_not_answer_times_out), T(a_server_that_speaks_http1_is_not_http2),
       T(open_refuses_a_port_nobody_listens_on))
