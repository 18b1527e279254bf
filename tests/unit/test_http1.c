/* The HTTP/1.1 codec: requests, responses, chunked bodies, where a message ends (http_frame),
 * malformed input, writing. */
#include "t.h"

#include "http/http1.h"

static int parse_req(const char *s, http_msg_t *m)
{
    return http_parse_request(s, strlen(s), m, HTTP_MAX_HEAD);
}

TEST(request_simple_get)
{
    http_msg_t m;
    const char *s = "GET /health?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK_INT(parse_req(s, &m), strlen(s));
    CHECK_MEM(m.method.p, m.method.n, "GET");
    CHECK_MEM(m.target.p, m.target.n, "/health?x=1");
    CHECK_MEM(m.path.p, m.path.n, "/health");
    CHECK_INT(m.minor, 1);
    CHECK_INT(m.nheaders, 1);
    CHECK(m.keep_alive);
    CHECK_INT(m.body, HTTP_BODY_NONE);
}

TEST(request_every_prefix_is_incomplete)
{
    const char *s = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n";
    http_msg_t m;
    for (size_t i = 0; i < strlen(s); i++)
        CHECK_INT(http_parse_request(s, i, &m, HTTP_MAX_HEAD), HTTP_INCOMPLETE);
    CHECK_INT(http_parse_request(s, strlen(s), &m, HTTP_MAX_HEAD), strlen(s));
    CHECK_INT(m.body, HTTP_BODY_LENGTH);
    CHECK_INT(m.content_length, 2);
}

TEST(request_pipelined_parses_first_only)
{
    const char *a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    char s[128];
    snprintf(s, sizeof s, "%sGET /b HTTP/1.1\r\nHost: h\r\n\r\n", a);
    http_msg_t m;
    CHECK_INT(parse_req(s, &m), strlen(a));
    CHECK_MEM(m.path.p, m.path.n, "/a");
    CHECK_INT(parse_req(s + strlen(a), &m), strlen(a));
    CHECK_MEM(m.path.p, m.path.n, "/b");
}

TEST(request_bare_lf_or_cr_line_ends_refused)
{
    http_msg_t m;
    CHECK_INT(parse_req("GET / HTTP/1.1\nHost: a\n\n", &m), HTTP_ERR_SYNTAX);
    CHECK_INT(parse_req("GET / HTTP/1.1\r\nHost: a\n\r\n", &m), HTTP_ERR_SYNTAX);
    CHECK_INT(parse_req("GET / HTTP/1.1\rHost: a\r\n\r\n", &m), HTTP_ERR_SYNTAX);
    CHECK_INT(parse_req("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", &m), HTTP_ERR_SYNTAX);
    /* a CR at the very end may still be followed by its LF */
    CHECK_INT(parse_req("GET / HTTP/1.1\r", &m), HTTP_INCOMPLETE);
}

TEST(request_header_values_trimmed_and_case_insensitive_lookup)
{
    http_msg_t m;
    CHECK(parse_req("GET / HTTP/1.1\r\nHost: h\r\nX-Thing: \t  hello world \t\r\n\r\n", &m) > 0);
    const http_str_t *v = http_header(&m, "x-THING");
    CHECK(v != NULL);
    if (v)
        CHECK_MEM(v->p, v->n, "hello world");
    CHECK(http_header(&m, "missing") == NULL);
}

TEST(request_http10_closes_unless_keep_alive)
{
    http_msg_t m;
    CHECK(parse_req("GET / HTTP/1.0\r\n\r\n", &m) > 0);
    CHECK(!m.keep_alive);
    CHECK(parse_req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &m) > 0);
    CHECK(m.keep_alive);
    CHECK(parse_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", &m) > 0);
    CHECK(!m.keep_alive);
}

TEST(request_expect_continue_detected)
{
    http_msg_t m;
    CHECK(parse_req("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", &m) > 0);
    CHECK(m.expect_continue);
}

TEST(request_malformed_lines_rejected)
{
    static const char *bad[] = {
        "GET  / HTTP/1.1\r\n\r\n",          /* two spaces */
        "GET /\r\n\r\n",                    /* no version */
        "GET / HTTP/1.1 x\r\n\r\n",         /* trailing junk */
        "G(T / HTTP/1.1\r\n\r\n",           /* not a token */
        "GET / FOO/1.1\r\n\r\n",            /* not HTTP */
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET / HTTP/1.1\r\n: empty\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n",
        "\x16\x03\x01\x02\x00",             /* a TLS hello, incomplete: rejected at once */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_msg_t m;
        int rc = http_parse_request(bad[i], strlen(bad[i]), &m, HTTP_MAX_HEAD);
        if (rc >= 0)
            fprintf(stderr, "    accepted: %s\n", bad[i]);
        CHECK(rc < 0);
    }
}

TEST(request_version_2_is_version_error)
{
    http_msg_t m;
    CHECK_INT(parse_req("GET / HTTP/2.0\r\n\r\n", &m), HTTP_ERR_VERSION);
    CHECK_INT(parse_req("GET / HTTP/1.2\r\n\r\n", &m), HTTP_ERR_VERSION);
}

TEST(request_content_length_rules)
{
    http_msg_t m;
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x1\r\n\r\n", &m), HTTP_ERR_LENGTH);
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", &m), HTTP_ERR_LENGTH);
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &m),
              HTTP_ERR_LENGTH);
    /* equal values too: refused rather than merged */
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", &m),
              HTTP_ERR_LENGTH);
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\n", &m),
              HTTP_ERR_LENGTH);
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", &m),
              HTTP_ERR_LENGTH);
    /* Both framings: refused, this is how requests are smuggled. */
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
                        &m),
              HTTP_ERR_LENGTH);
    /* a request whose last coding is not chunked has no knowable length; under chunked,
     * codings we do not decode */
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", &m),
              HTTP_ERR_SYNTAX);
    CHECK_INT(parse_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &m),
              HTTP_ERR_ENCODING);
    CHECK(parse_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", &m) > 0);
    CHECK_INT(m.body, HTTP_BODY_CHUNKED);
}

TEST(request_head_limit_and_header_count)
{
    char big[70000];
    strcpy(big, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    size_t n = strlen(big);
    memset(big + n, 'a', sizeof big - n - 1);
    big[sizeof big - 1] = 0;
    http_msg_t m;
    CHECK_INT(http_parse_request(big, strlen(big), &m, HTTP_MAX_HEAD), HTTP_ERR_HEAD_TOO_LARGE);
    char many[8192] = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        strcat(many, "A: b\r\n");
    strcat(many, "\r\n");
    CHECK_INT(parse_req(many, &m), HTTP_ERR_TOO_MANY_HEADERS);
}

TEST(response_with_length_and_until_close)
{
    http_msg_t m;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    int rc = http_parse_response(s, strlen(s), &m, HTTP_MAX_HEAD, false);
    CHECK_INT(rc, strlen(s) - 5);
    CHECK_INT(m.status, 200);
    CHECK_MEM(m.reason.p, m.reason.n, "OK");
    CHECK_INT(m.body, HTTP_BODY_LENGTH);
    CHECK(http_parse_response("HTTP/1.1 200 OK\r\n\r\n", 19, &m, HTTP_MAX_HEAD, false) > 0);
    CHECK_INT(m.body, HTTP_BODY_UNTIL_CLOSE);
    CHECK(http_parse_response("HTTP/1.1 204 No Content\r\n\r\n", 27, &m, HTTP_MAX_HEAD, false) > 0);
    CHECK_INT(m.body, HTTP_BODY_NONE);
    CHECK(http_parse_response(s, strlen(s), &m, HTTP_MAX_HEAD, true) > 0);
    CHECK_INT(m.body, HTTP_BODY_NONE); /* answer to HEAD */
    CHECK(http_parse_response("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 36, &m, HTTP_MAX_HEAD,
                              false) > 0);
    CHECK_INT(m.status, 404);
}

TEST(response_garbage_rejected_early)
{
    http_msg_t m;
    CHECK(http_parse_response("\x01\x02 nope", 7, &m, HTTP_MAX_HEAD, false) < 0);
    CHECK(http_parse_response("HTTP/1.1 2x0 OK\r\n\r\n", 19, &m, HTTP_MAX_HEAD, false) < 0);
    CHECK(http_parse_response("HTTP/1.1 200OK\r\n\r\n", 18, &m, HTTP_MAX_HEAD, false) < 0);
}

static ssize_t dechunk_all(const char *in, char *out, size_t *outlen)
{
    size_t n = strlen(in);
    memcpy(out, in, n);
    http_chunked_t d;
    http_chunked_init(&d);
    ssize_t r = http_chunked_decode(&d, out, n);
    *outlen = d.out;
    return r;
}

TEST(chunked_decodes_in_place)
{
    char buf[256];
    size_t n;
    const char *s = "4\r\nWiki\r\n5;name=v\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nNEXT";
    CHECK_INT(dechunk_all(s, buf, &n), strlen(s) - 4);
    CHECK_MEM(buf, n, "Wikipedia in\r\n\r\nchunks.");
}

TEST(chunked_with_trailers)
{
    char buf[256];
    size_t n;
    const char *s = "3\r\nabc\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n";
    CHECK_INT(dechunk_all(s, buf, &n), strlen(s));
    CHECK_MEM(buf, n, "abc");
}

TEST(chunked_byte_by_byte_resumes)
{
    const char *s = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
    size_t n = strlen(s);
    char buf[128];
    memcpy(buf, s, n);
    http_chunked_t d;
    http_chunked_init(&d);
    ssize_t r = 0;
    for (size_t len = 1; len <= n && r == 0; len++)
        r = http_chunked_decode(&d, buf, len);
    CHECK_INT(r, n);
    CHECK_MEM(buf, d.out, "Wikipedia");
}

TEST(chunked_malformed_rejected)
{
    static const char *bad[] = {"x\r\n", "4\r\nWikiX\r\n", "\r\n", "4\r\nWiki\r\n0\r\n\rX",
                                "fffffffffffffffff\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        size_t n;
        CHECK(dechunk_all(bad[i], buf, &n) < 0);
    }
}

/* ---- where a message ends: http_frame ---- */

/* s parsed as a response (into m); its head length. The bytes are copied to buf, which
 * http_frame may decode in place. */
static int response_head(const char *s, char *buf, size_t cap, http_msg_t *m, bool head_request)
{
    size_t n = strlen(s);
    if (n > cap)
        exit(1);
    memcpy(buf, s, n);
    int rc = http_parse_response(buf, n, m, HTTP_MAX_HEAD, head_request);
    if (rc <= 0) {
        fprintf(stderr, "    response head not parsed: %d\n", rc);
        t_failures++;
    }
    return rc;
}

TEST(frame_without_body_ends_at_the_head)
{
    char buf[128];
    const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    memcpy(buf, s, strlen(s));
    http_msg_t m;
    int head = http_parse_request(buf, strlen(s), &m, HTTP_MAX_HEAD);
    CHECK_INT(head, 28);
    http_chunked_t d;
    http_chunked_init(&d);
    http_frame_t f;
    CHECK_INT(http_frame(&m, buf, strlen(s), false, 1024, &d, &f), 1);
    CHECK_INT(f.total, 28); /* the pipelined request after it is not part of it */
    CHECK_INT(f.body_len, 0);
    CHECK_INT(f.missing, 0);
}

TEST(frame_content_length_complete)
{
    char buf[128];
    const char *s = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET";
    memcpy(buf, s, strlen(s));
    http_msg_t m;
    int head = http_parse_request(buf, strlen(s), &m, HTTP_MAX_HEAD);
    CHECK_INT(head, strlen(s) - 8);
    http_chunked_t d;
    http_chunked_init(&d);
    http_frame_t f;
    CHECK_INT(http_frame(&m, buf, strlen(s), false, 1024, &d, &f), 1);
    CHECK_INT(f.total, head + 5);
    CHECK_INT(f.body_len, 5);
    CHECK_MEM(buf + head, f.body_len, "hello");
    CHECK_INT(f.missing, 0);
    /* exactly the body, nothing after it */
    CHECK_INT(http_frame(&m, buf, (size_t)head + 5, false, 5, &d, &f), 1);
    CHECK_INT(f.total, head + 5);
}

TEST(frame_content_length_incomplete_says_what_is_missing)
{
    char buf[128];
    http_msg_t m;
    int head = response_head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", buf, sizeof buf,
                             &m, false);
    http_chunked_t d;
    http_chunked_init(&d);
    http_frame_t f;
    CHECK_INT(http_frame(&m, buf, (size_t)head, false, 1024, &d, &f), 0);
    CHECK_INT(f.missing, 5);
    CHECK_INT(http_frame(&m, buf, (size_t)head + 2, false, 1024, &d, &f), 0);
    CHECK_INT(f.missing, 3);
    CHECK_INT(http_frame(&m, buf, (size_t)head + 4, false, 1024, &d, &f), 0);
    CHECK_INT(f.missing, 1);
}

TEST(frame_content_length_over_max_refused_once_the_head_is_known)
{
    char buf[128];
    http_msg_t m;
    int head = response_head("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", buf, sizeof buf,
                             &m, false);
    http_chunked_t d;
    http_chunked_init(&d);
    http_frame_t f;
    /* not one byte of the body yet */
    CHECK_INT(http_frame(&m, buf, (size_t)head, false, 99, &d, &f), HTTP_ERR_BODY_TOO_LARGE);
    CHECK_INT(http_frame(&m, buf, (size_t)head, false, 0, &d, &f), HTTP_ERR_BODY_TOO_LARGE);
    /* at the limit: allowed, and waiting for it */
    CHECK_INT(http_frame(&m, buf, (size_t)head, false, 100, &d, &f), 0);
    CHECK_INT(f.missing, 100);
}

static const char chunked_answer[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";

TEST(frame_chunked_complete_in_one_piece)
{
    char buf[256];
    char s[256];
    snprintf(s, sizeof s, "%sHTTP/1.1 204 No Content\r\n\r\n", chunked_answer);
    http_msg_t m;
    int head = response_head(s, buf, sizeof buf, &m, false);
    CHECK_INT(m.body, HTTP_BODY_CHUNKED);
    http_chunked_t d;
    http_chunked_init(&d);
    http_frame_t f;
    CHECK_INT(http_frame(&m, buf, strlen(s), false, 1024, &d, &f), 1);
    CHECK_INT(f.total, strlen(chunked_answer)); /* trailers included, the next answer not */
    CHECK_INT(f.body_len, 9);
    CHECK_MEM(buf + head, f.body_len, "Wikipedia"); /* decoded in place after the head */
    CHECK_MEM(buf, 15, "HTTP/1.1 200 OK");        /* the head untouched */
}

TEST(frame_chunked_fed_byte_by_byte)
{
    char buf[256];
    http_msg_t m;
    int head = response_head(chunked_answer, buf, sizeof buf, &m, false);
    size_t n = strlen(chunked_answer);
    memset(buf + head, '?', n - (size_t)head); /* the body not received yet */
    http_chunked_t d; /* one decoder for the message, the same buffer growing */
    http_chunked_init(&d);
    http_frame_t f;
    CHECK_INT(http_frame(&m, buf, (size_t)head, false, 1024, &d, &f), 0);
    for (size_t len = (size_t)head + 1; len < n; len++) {
        buf[len - 1] = chunked_answer[len - 1]; /* one more byte arrives */
        int rc = http_frame(&m, buf, len, false, 1024, &d, &f);
        if (rc != 0) {
            fprintf(stderr, "    %zu of %zu bytes: %d, expected 0\n", len, n, rc);
            t_failures++;
            return;
        }
    }
    buf[n - 1] = chunked_answer[n - 1];
    CHECK_INT(http_frame(&m, buf, n, false, 1024, &d, &f), 1);
    CHECK_INT(f.total, n);
    CHECK_INT(f.body_len, 9);
    CHECK_MEM(buf + head, f.body_len, "Wikipedia");
}

TEST(frame_bad_chunked_framing_is_a_syntax_error)
{
    static const char *bad[] = {"zz\r\n", "4\r\nWikiX\r\n", "4\r\nWiki\r\n0\r\n\rX", ";\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char s[256], buf[256];
        snprintf(s, sizeof s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s", bad[i]);
        http_msg_t m;
        response_head(s, buf, sizeof buf, &m, false);
        http_chunked_t d;
        http_chunked_init(&d);
        http_frame_t f;
        CHECK_INT(http_frame(&m, buf, strlen(s), false, 1024, &d, &f), HTTP_ERR_SYNTAX);
    }
}

TEST(frame_chunked_decoded_size_over_max_refused)
{
    char buf[256];
    http_msg_t m;
    response_head(chunked_answer, buf, sizeof buf, &m, false);
    http_chunked_t d;
    http_chunked_init(&d);
    http_frame_t f;
    CHECK_INT(http_frame(&m, buf, strlen(chunked_answer), false, 8, &d, &f),
              HTTP_ERR_BODY_TOO_LARGE);
    /* exactly max_body decoded: allowed */
    response_head(chunked_answer, buf, sizeof buf, &m, false);
    http_chunked_init(&d);
    CHECK_INT(http_frame(&m, buf, strlen(chunked_answer), false, 9, &d, &f), 1);
    /* refused before the message ends: the first chunk is already too much */
    const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nWikipedia";
    response_head(s, buf, sizeof buf, &m, false);
    http_chunked_init(&d);
    CHECK_INT(http_frame(&m, buf, strlen(s), false, 8, &d, &f), HTTP_ERR_BODY_TOO_LARGE);
}

TEST(frame_until_close_complete_only_at_eof)
{
    char buf[128];
    const char *s = "HTTP/1.1 200 OK\r\n\r\nall of it";
    http_msg_t m;
    int head = response_head(s, buf, sizeof buf, &m, false);
    CHECK_INT(m.body, HTTP_BODY_UNTIL_CLOSE);
    http_chunked_t d;
    http_chunked_init(&d);
    http_frame_t f;
    CHECK_INT(http_frame(&m, buf, (size_t)head, false, 1024, &d, &f), 0);
    CHECK_INT(http_frame(&m, buf, strlen(s), false, 1024, &d, &f), 0);
    CHECK_INT(http_frame(&m, buf, strlen(s), true, 1024, &d, &f), 1);
    CHECK_INT(f.total, strlen(s));
    CHECK_INT(f.body_len, 9);
    CHECK_MEM(buf + head, f.body_len, "all of it");
    CHECK_INT(http_frame(&m, buf, (size_t)head, true, 1024, &d, &f), 1); /* empty */
    CHECK_INT(f.body_len, 0);
    CHECK_INT(http_frame(&m, buf, strlen(s), true, 8, &d, &f), HTTP_ERR_BODY_TOO_LARGE);
}

TEST(frame_head_1xx_204_304_answers_have_no_body)
{
    static const struct {
        const char *s;
        bool head_request;
    } none[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true},
        {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false},
        {"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false},
        {"HTTP/1.1 304 Not Modified\r\n\r\n", false},
        {"HTTP/1.1 100 Continue\r\n\r\n", false},
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        char buf[128];
        char s[160];
        snprintf(s, sizeof s, "%sHTTP/1.1 200 OK\r\n\r\n", none[i].s); /* what follows it */
        http_msg_t m;
        int head = response_head(s, buf, sizeof buf, &m, none[i].head_request);
        CHECK_INT(head, strlen(none[i].s));
        CHECK_INT(m.body, HTTP_BODY_NONE);
        http_chunked_t d;
        http_chunked_init(&d);
        http_frame_t f;
        CHECK_INT(http_frame(&m, buf, strlen(s), false, 0, &d, &f), 1);
        CHECK_INT(f.total, head);
        CHECK_INT(f.body_len, 0);
    }
}

TEST(write_response_head)
{
    buf_t b = BUF_INIT;
    CHECK_INT(http_write_response_head(&b, 405, "application/json", 12, false, "Allow: POST\r\n"), 0);
    buf_append(&b, "", 1);
    const char *s = buf_start(&b);
    CHECK(strncmp(s, "HTTP/1.1 405 Method Not Allowed\r\nDate: ", 39) == 0);
    CHECK(strstr(s, "\r\nContent-Type: application/json\r\n") != NULL);
    CHECK(strstr(s, "\r\nContent-Length: 12\r\n") != NULL);
    CHECK(strstr(s, "\r\nConnection: close\r\n") != NULL);
    CHECK(strstr(s, "\r\nAllow: POST\r\n\r\n") != NULL);
    /* what we write, we parse */
    http_msg_t m;
    CHECK(http_parse_response(s, strlen(s), &m, HTTP_MAX_HEAD, false) > 0);
    CHECK_INT(m.status, 405);
    CHECK(!m.keep_alive);
    buf_free(&b);
}

TEST(write_request_adds_host_and_length)
{
    buf_t b = BUF_INIT;
    const char *h[] = {"X-A: 1"};
    CHECK_INT(http_write_request(&b, "POST", "127.0.0.1:8080", "/echo", h, 1, "{}", 2), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "POST /echo HTTP/1.1\r\nX-A: 1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 2\r\n\r\n{}");
    buf_clear(&b);
    CHECK_INT(http_write_request(&b, "GET", "h", "/", NULL, 0, NULL, 0), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    buf_free(&b);
}

TEST(date_is_rfc7231_format)
{
    const char *d = http_date();
    CHECK_INT(strlen(d), 29);
    CHECK(strcmp(d + 25, " GMT") == 0);
    CHECK(d[3] == ',');
}

/* RFC 9112's framing, one rule a row: the request and what the parser says of it. */
TEST(request_framing_rules)
{
    static const struct {
        const char *req;
        int want; /* > 0: accepted; else the error */
    } rows[] = {
        {"GET / HTTP/1.1\r\n\r\n", HTTP_ERR_HOST},                        /* 1.1 needs Host */
        {"GET / HTTP/1.0\r\n\r\n", 1},                                    /* 1.0 does not */
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTP_ERR_HOST},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HTTP_ERR_HOST},
        {"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", HTTP_ERR_HOST},
        {"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 1},
        {"GET / HTTP/1.1\r\nHost: \r\n\r\n", 1},                          /* empty: allowed */
        {"GET http://a/x?q HTTP/1.1\r\nHost: a\r\n\r\n", 1},
        {"GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_SYNTAX},
        {"GET x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_SYNTAX},
        {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_SYNTAX},
        {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 1},
        {"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 1},
        {"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_SYNTAX},
        {"GET /%4 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_SYNTAX},
        {"GET /%41 HTTP/1.1\r\nHost: a\r\n\r\n", 1},
        {"GET /a{b} HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_SYNTAX},
        {"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_SYNTAX},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: \xc3\xa9\r\n\r\n", 1},            /* obs-text */
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", HTTP_ERR_SYNTAX}, /* DEL */
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", HTTP_ERR_SYNTAX},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", HTTP_ERR_SYNTAX},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n", HTTP_ERR_SYNTAX},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         HTTP_ERR_SYNTAX},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_ERR_LENGTH},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked \r\n\r\n", 1},
        {"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n", 1},
        {"GET / HTTP/1.1\r\nHost: a\r\nExpect: other\r\n\r\n", HTTP_ERR_EXPECT},
        {"\r\n\r\nGET / HTTP/1.0\r\n\r\n", 1},                            /* two empty lines first */
        {"\nGET / HTTP/1.0\r\n\r\n", HTTP_ERR_SYNTAX},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        http_msg_t m;
        int rc = parse_req(rows[i].req, &m);
        bool ok = rows[i].want > 0 ? rc > 0 : rc == rows[i].want;
        if (!ok)
            fprintf(stderr, "    row %zu: got %d, want %d: %s\n", i, rc, rows[i].want, rows[i].req);
        CHECK(ok);
    }
}

TEST(request_absolute_form_routes_by_its_path)
{
    http_msg_t m;
    CHECK(parse_req("GET http://h:80/a/b?c=d HTTP/1.1\r\nHost: h\r\n\r\n", &m) > 0);
    CHECK_MEM(m.path.p, m.path.n, "/a/b");
    CHECK_MEM(m.target.p, m.target.n, "http://h:80/a/b?c=d");
    CHECK(parse_req("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n", &m) > 0);
    CHECK_MEM(m.path.p, m.path.n, "/");
    CHECK_MEM(m.host.p, m.host.n, "h");
}

/* Chunk lines one rule a row: the chunked body and whether it decodes. */
TEST(chunked_framing_rules)
{
    static const struct {
        const char *body;
        bool ok;
    } rows[] = {
        {"5;a=b;c=\"d\\\"e\"\r\nhello\r\n0\r\n\r\n", true},
        {"5 ; a = b\r\nhello\r\n0\r\n\r\n", true},
        {"5 \r\nhello\r\n0\r\n\r\n", false},           /* BWS without an extension */
        {"5;a \r\nhello\r\n0\r\n\r\n", false},         /* BWS before the CRLF */
        {"5;\r\nhello\r\n0\r\n\r\n", false},           /* no name */
        {"5;a=\r\nhello\r\n0\r\n\r\n", false},         /* no value after = */
        {"5;a=\"b\r\nhello\r\n0\r\n\r\n", false},      /* unterminated quote */
        {"5\nhello\r\n0\r\n\r\n", false},
        {"5\r\nhello\n0\r\n\r\n", false},
        {"5\r\nhelloX\r\n0\r\n\r\n", false},
        {"0\r\nA: b\r\n\r\n", true},
        {"0\r\nA b\r\n\r\n", false},
        {"0\r\nA: b\r\n c\r\n\r\n", false},
        {"0\r\nA: b\x01\r\n\r\n", false},
        {"0\r\n\n", false},
        {"0x5\r\nhello\r\n0\r\n\r\n", false},
        {"0000000000000005\r\nhello\r\n0\r\n\r\n", false}, /* 16 digits, even zeros */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[256];
        size_t n = strlen(rows[i].body);
        memcpy(buf, rows[i].body, n);
        http_chunked_t d;
        http_chunked_init(&d);
        ssize_t r = http_chunked_decode(&d, buf, n);
        bool ok = rows[i].ok ? r == (ssize_t)n : r < 0;
        if (!ok)
            fprintf(stderr, "    row %zu: got %zd: %s\n", i, r, rows[i].body);
        CHECK(ok);
    }
}

TEST(write_response_head_keep_alive_for_http10)
{
    buf_t b = BUF_INIT;
    CHECK_INT(http_write_response_head(&b, 200, NULL, 0, HTTP_CONN_KEEP_10, NULL), 0);
    CHECK(memmem(buf_start(&b), buf_size(&b), "\r\nConnection: keep-alive\r\n", 26) != NULL);
    buf_clear(&b);
    CHECK_INT(http_write_response_head(&b, 200, NULL, 0, HTTP_CONN_KEEP, NULL), 0);
    CHECK(memmem(buf_start(&b), buf_size(&b), "Connection", 10) == NULL);
    buf_free(&b);
}

T_MAIN(T(request_simple_get), T(request_framing_rules), T(request_absolute_form_routes_by_its_path),
       T(chunked_framing_rules), T(write_response_head_keep_alive_for_http10), T(request_every_prefix_is_incomplete),
       T(request_pipelined_parses_first_only), T(request_bare_lf_or_cr_line_ends_refused),
       T(request_header_values_trimmed_and_case_insensitive_lookup),
       T(request_http10_closes_unless_keep_alive), T(request_expect_continue_detected),
       T(request_malformed_lines_rejected), T(request_version_2_is_version_error),
       T(request_content_length_rules), T(request_head_limit_and_header_count),
       T(response_with_length_and_until_close), T(response_garbage_rejected_early),
       T(chunked_decodes_in_place), T(chunked_with_trailers), T(chunked_byte_by_byte_resumes),
       T(chunked_malformed_rejected), T(frame_without_body_ends_at_the_head),
       T(frame_content_length_complete), T(frame_content_length_incomplete_says_what_is_missing),
       T(frame_content_length_over_max_refused_once_the_head_is_known),
       T(frame_chunked_complete_in_one_piece), T(frame_chunked_fed_byte_by_byte),
       T(frame_bad_chunked_framing_is_a_syntax_error),
       T(frame_chunked_decoded_size_over_max_refused), T(frame_until_close_complete_only_at_eof),
       T(frame_head_1xx_204_304_answers_have_no_body), T(write_response_head), T(write_request_adds_host_and_length),
       T(date_is_rfc7231_format))
