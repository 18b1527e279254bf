/* `stackbench serve echo` over raw sockets: every row of contracts/echo.md, and the server's
 * behaviour with bad clients and on SIGTERM. Each test starts its own server process. */
#include "t.h"

#include <signal.h>
#include <sys/socket.h>

#include "http/http1.h"
#include "tproc.h"
#include "tsock.h"

static t_server_t srv;
static char resp[1 << 21];

static void start(const char *extra1, const char *extra2)
{
    const char *argv[] = {t_stackbench(), "serve", "echo", "--port", "0", "--workers", "2",
                          extra1, extra2, NULL};
    if (t_start(&srv, argv) != 0) {
        fprintf(stderr, "    server did not start\n");
        exit(1);
    }
}

static void stop_clean(void)
{
    int rc = t_stop(&srv, SIGTERM, 15000);
    CHECK_INT(rc, 0);
}

static int roundtrip(const char *req)
{
    ssize_t n = http_roundtrip(srv.port, req, strlen(req), resp, sizeof resp);
    return n > 0 ? resp_status(resp) : -1;
}

static int post_echo(const char *body)
{
    char req[8192];
    snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    return roundtrip(req);
}

TEST(post_echo_answers_document_minified)
{
    start(NULL, NULL);
    CHECK_INT(post_echo("{ \"a\" : [ 1, 2.50e+3, -0.5 ],\n \"s\" : \"x y\\u00e9\\n\\/\", \"t\":true,"
                        "\"n\":null, \"o\":{}, \"é\": \"ü\" }"),
              200);
    CHECK_STR(resp_body(resp),
              "{\"a\":[1,2.50e+3,-0.5],\"s\":\"x y\\u00e9\\n\\/\",\"t\":true,\"n\":null,\"o\":{},"
              "\"é\":\"ü\"}");
    char ct[64];
    CHECK(resp_header(resp, "Content-Type", ct, sizeof ct));
    CHECK_STR(ct, "application/json");
    stop_clean();
}

TEST(invalid_json_is_400_with_offset_and_reason)
{
    start(NULL, NULL);
    CHECK_INT(post_echo("{\"a\": [1, 2,]}"), 400);
    const char *b = resp_body(resp);
    CHECK(strncmp(b, "{\"error\":\"invalid_json\",\"offset\":12,\"reason\":\"", 46) == 0);
    CHECK_INT(post_echo(""), 400);
    CHECK(strstr(resp_body(resp), "\"offset\":0") != NULL);
    stop_clean();
}

TEST(body_over_limit_is_413_and_closes)
{
    start("--body-limit", "1k");
    char body[2000];
    memset(body, ' ', sizeof body - 3);
    memcpy(body + sizeof body - 3, "{}", 3);
    CHECK_INT(post_echo(body), 413);
    CHECK_STR(resp_body(resp), "{\"error\":\"body_too_large\",\"limit\":1024}");
    char conn[32];
    CHECK(resp_header(resp, "Connection", conn, sizeof conn));
    CHECK_STR(conn, "close");
    /* exactly at the limit is fine */
    char at[1025];
    memset(at, ' ', 1024);
    at[0] = '1';
    at[1024] = 0;
    CHECK_INT(post_echo(at), 200);
    CHECK_STR(resp_body(resp), "1");
    stop_clean();
}

TEST(chunked_body_accepted_and_limited)
{
    start("--body-limit", "64");
    CHECK_INT(roundtrip("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\n[1,\r\n2\r\n 2\r\n1\r\n]\r\n0\r\n\r\n"),
              200);
    CHECK_STR(resp_body(resp), "[1,2]");
    char big[1024] = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 10; i++)
        strcat(big, "a\r\n          \r\n");
    strcat(big, "0\r\n\r\n");
    CHECK_INT(roundtrip(big), 413);
    stop_clean();
}

TEST(unknown_path_404_wrong_method_405_with_allow)
{
    start(NULL, NULL);
    CHECK_INT(roundtrip("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"), 404);
    CHECK_STR(resp_body(resp), "{\"error\":\"not_found\"}");
    CHECK_INT(roundtrip("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), 405);
    char allow[64];
    CHECK(resp_header(resp, "Allow", allow, sizeof allow));
    CHECK_STR(allow, "POST");
    CHECK_STR(resp_body(resp), "{\"error\":\"method_not_allowed\"}");
    CHECK_INT(roundtrip("DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n"), 405);
    CHECK(resp_header(resp, "Allow", allow, sizeof allow));
    CHECK_STR(allow, "GET, HEAD");
    CHECK_INT(roundtrip("GET /health?probe=1 HTTP/1.1\r\nHost: t\r\n\r\n"), 200);
    CHECK_STR(resp_body(resp), "{\"status\":\"ok\"}");
    stop_clean();
}

TEST(head_health_has_length_but_no_body)
{
    start(NULL, NULL);
    int fd = sock_connect(srv.port);
    sock_send_str(fd, "HEAD /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    ssize_t n = sock_read_all(fd, resp, sizeof resp, 300);
    CHECK(n > 0);
    CHECK(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    char len[16];
    CHECK(resp_header(resp, "Content-Length", len, sizeof len));
    CHECK_STR(len, "15");
    /* the next thing after the HEAD answer's head is the GET answer, not a body */
    CHECK(strncmp(resp_body(resp), "HTTP/1.1 200 OK", 15) == 0);
    close(fd);
    stop_clean();
}

TEST(malformed_http_is_400_and_closes)
{
    start(NULL, NULL);
    int fd = sock_connect(srv.port);
    sock_send_str(fd, "GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    ssize_t n = sock_read_all(fd, resp, sizeof resp, 2000);
    CHECK(n > 0);
    CHECK_INT(resp_status(resp), 400);
    CHECK_STR(resp_body(resp), "{\"error\":\"bad_request\"}"); /* nothing after: closed */
    close(fd);
    CHECK_INT(roundtrip("GET / HTTP/3.0\r\n\r\n"), 505);
    stop_clean();
}

TEST(pipelined_requests_answered_in_order)
{
    start(NULL, NULL);
    char req[8192] = "";
    for (int i = 0; i < 20; i++) {
        char one[128];
        snprintf(one, sizeof one, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n[%d]",
                 i < 10 ? 3 : 4, i);
        strcat(req, one);
    }
    int fd = sock_connect(srv.port);
    sock_send(fd, req, strlen(req));
    /* Read until all 20 answers are in, then walk them in order. */
    size_t len = 0;
    int seen = 0;
    for (int tries = 0; tries < 50 && seen < 20; tries++) {
        ssize_t n = sock_read_all(fd, resp + len, sizeof resp - len, 100);
        if (n > 0)
            len += (size_t)n;
        seen = 0;
        size_t off = 0;
        http_msg_t m;
        int rc;
        while ((rc = http_parse_response(resp + off, len - off, &m, HTTP_MAX_HEAD, false)) > 0 &&
               off + (size_t)rc + m.content_length <= len) {
            char want[16];
            snprintf(want, sizeof want, "[%d]", seen);
            if (seen < 20 && (m.content_length != strlen(want) ||
                              memcmp(resp + off + rc, want, m.content_length) != 0))
                break;
            off += (size_t)rc + m.content_length;
            seen++;
        }
    }
    CHECK_INT(seen, 20);
    close(fd);
    stop_clean();
}

TEST(connection_close_and_http10_close_after_answer)
{
    start(NULL, NULL);
    int fd = sock_connect(srv.port);
    sock_send_str(fd, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK(sock_read_all(fd, resp, sizeof resp, 2000) > 0); /* returns because the server closed */
    CHECK_INT(resp_status(resp), 200);
    close(fd);
    fd = sock_connect(srv.port);
    sock_send_str(fd, "GET /health HTTP/1.0\r\n\r\n");
    CHECK(sock_read_all(fd, resp, sizeof resp, 2000) > 0);
    CHECK_INT(resp_status(resp), 200);
    close(fd);
    stop_clean();
}

TEST(expect_100_continue_then_answer)
{
    start(NULL, NULL);
    int fd = sock_connect(srv.port);
    sock_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    ssize_t n = sock_read_all(fd, resp, sizeof resp, 300);
    CHECK(n > 0);
    CHECK(strncmp(resp, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
    sock_send_str(fd, "{}");
    n = sock_read_response(fd, resp, sizeof resp, 2000);
    CHECK_INT(resp_status(resp), 200);
    CHECK_STR(resp_body(resp), "{}");
    close(fd);
    stop_clean();
}

TEST(silent_client_mid_request_gets_408)
{
    start("--request-timeout", "300ms");
    int fd = sock_connect(srv.port);
    sock_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n{");
    ssize_t n = sock_read_all(fd, resp, sizeof resp, 3000);
    CHECK(n > 0);
    CHECK_INT(resp_status(resp), 408);
    CHECK_STR(resp_body(resp), "{\"error\":\"request_timeout\"}");
    close(fd);
    stop_clean();
}

TEST(sigterm_finishes_request_in_flight_then_exits_0)
{
    start(NULL, NULL);
    int idle = sock_connect(srv.port); /* an idle keep-alive connection is simply closed */
    int fd = sock_connect(srv.port);
    sock_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n[1,");
    usleep(100000);
    kill(srv.pid, SIGTERM);
    usleep(100000);
    /* new connections are refused once the listener is closed */
    CHECK(sock_connect(srv.port) < 0);
    sock_send_str(fd, " 2 ]");
    ssize_t n = sock_read_all(fd, resp, sizeof resp, 3000);
    CHECK(n > 0);
    CHECK_INT(resp_status(resp), 200);
    CHECK_STR(resp_body(resp), "[1,2]");
    char conn[32];
    CHECK(resp_header(resp, "Connection", conn, sizeof conn));
    CHECK_STR(conn, "close");
    close(fd);
    close(idle);
    int rc = t_stop(&srv, SIGTERM, 15000);
    CHECK_INT(rc, 0);
    CHECK_INT(t_served(&srv), 1);
}

TEST(random_garbage_never_kills_the_server)
{
    start(NULL, NULL);
    unsigned seed = 12345;
    for (int i = 0; i < 300; i++) {
        int fd = sock_connect(srv.port);
        char junk[600];
        int n = 1 + (int)(rand_r(&seed) % sizeof junk);
        for (int k = 0; k < n; k++)
            junk[k] = (char)rand_r(&seed);
        if (i % 3 == 0) /* a plausible start, then garbage */
            memcpy(junk, "POST /echo HTTP/1.1\r\nHost: t\r\n", n > 21 ? 21 : (size_t)n);
        sock_send(fd, junk, (size_t)n);
        shutdown(fd, SHUT_WR);
        sock_read_all(fd, resp, sizeof resp, 1000);
        close(fd);
    }
    CHECK_INT(post_echo("[true]"), 200);
    CHECK_STR(resp_body(resp), "[true]");
    stop_clean();
}

TEST(bad_flags_exit_2_with_one_line)
{
    char out[4096];
    const char *a1[] = {t_stackbench(), "serve", "echo", "--port", "x", NULL};
    CHECK_INT(t_run(a1, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "--port") != NULL);
    CHECK_INT(strchr(out, '\n') - out + 1, strlen(out)); /* one line */
    const char *a2[] = {t_stackbench(), "serve", "nope", NULL};
    CHECK_INT(t_run(a2, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "unknown workload 'nope'") != NULL);
    const char *a3[] = {t_stackbench(), "serve", "echo", "--bogus", NULL};
    CHECK_INT(t_run(a3, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "--bogus") != NULL);
    const char *a5[] = {t_stackbench(), "serve", "echo", "--port", NULL};
    CHECK_INT(t_run(a5, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "stackbench serve: --port: missing value") != NULL);
    const char *a4[] = {t_stackbench(), "serve", "--help", NULL};
    CHECK_INT(t_run(a4, out, sizeof out, 5000), 0);
    CHECK(strstr(out, "--body-limit") != NULL);
}

T_MAIN(T(post_echo_answers_document_minified), T(invalid_json_is_400_with_offset_and_reason),
       T(body_over_limit_is_413_and_closes), T(chunked_body_accepted_and_limited),
       T(unknown_path_404_wrong_method_405_with_allow), T(head_health_has_length_but_no_body),
       T(malformed_http_is_400_and_closes), T(pipelined_requests_answered_in_order),
       T(connection_close_and_http10_close_after_answer), T(expect_100_continue_then_answer),
       T(silent_client_mid_request_gets_408), T(sigterm_finishes_request_in_flight_then_exits_0),
       T(random_garbage_never_kills_the_server), T(bad_flags_exit_2_with_one_line))
