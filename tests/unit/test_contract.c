/* Tests for the contract case parser (src/verify/contract.c): each directive and what it
 * becomes, the escapes and expansions of values, comments, the line and reason of every error, the
 * folder and built-in loaders, and that every case compiled into the binary parses. */
#include <errno.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/embed.h"
#include "health.pb-c.h"
#include "ticks.pb-c.h"
#include "verify/contract.h"
#include "t.h"

/* One case parsed from text; kept in `held` so that the test can free it. */
static contract_t held;
static char err[512];

static contract_case_t *parse(const char *text)
{
    held.cases = realloc(held.cases, (size_t)(held.ncases + 1) * sizeof *held.cases);
    contract_case_t *c = &held.cases[held.ncases++];
    err[0] = 0;
    if (contract_parse_case("t", text, strlen(text), c, err, sizeof err) != 0)
        return NULL;
    return c;
}

static contract_case_t *parse_ok(const char *text)
{
    contract_case_t *c = parse(text);
    if (!c) {
        fprintf(stderr, "    refused: %s\n", err);
        t_failures++;
    }
    return c;
}

/* Expects text to be refused with exactly the message why. */
#define CHECK_REFUSED(text, why)                                                                  \
    do {                                                                                          \
        CHECK(parse(text) == NULL);                                                               \
        CHECK_STR(err, (why));                                                                    \
    } while (0)

/* The bytes of the send step of a one-line case "send: VALUE". */
static const contract_step_t *send_of(const char *value)
{
    char text[4096];
    snprintf(text, sizeof text, "send: %s\n", value);
    contract_case_t *c = parse_ok(text);
    if (!c || c->nsteps != 1 || c->steps[0].kind != STEP_SEND) {
        t_failures++;
        static const contract_step_t none = {.kind = STEP_SEND, .data = "", .len = 0};
        return &none;
    }
    return &c->steps[0];
}

TEST(a_whole_case_becomes_its_steps_in_order)
{
    contract_case_t *c = parse_ok("# what it checks\n"
                                  "send: GET /health HTTP/1.1\\r\\n\\r\\n\n"
                                  "expect: 200\n"
                                  "header: Content-Type: text/plain\n"
                                  "body: ok\n"
                                  "pause: 50ms\n"
                                  "shutdown: write\n"
                                  "closed: yes\n");
    if (!c)
        return;
    CHECK_STR(c->name, "t");
    CHECK_STR(c->comment, "what it checks");
    CHECK_INT(c->nsteps, 5);
    if (c->nsteps != 5)
        return;
    CHECK_INT(c->steps[0].kind, STEP_SEND);
    CHECK_MEM(c->steps[0].data, c->steps[0].len, "GET /health HTTP/1.1\r\n\r\n");
    CHECK_INT(c->steps[1].kind, STEP_EXPECT);
    CHECK_INT(c->steps[1].status, 200);
    CHECK_INT(c->steps[1].nheaders, 1);
    CHECK_STR(c->steps[1].header_name[0], "Content-Type");
    CHECK_STR(c->steps[1].header_value[0], "text/plain");
    CHECK(c->steps[1].has_body);
    CHECK_MEM(c->steps[1].body, c->steps[1].body_len, "ok");
    CHECK(!c->steps[1].head_only);
    CHECK_INT(c->steps[2].kind, STEP_PAUSE);
    CHECK_INT(c->steps[2].pause_ns, 50 * NS_PER_MS);
    CHECK_INT(c->steps[3].kind, STEP_SHUTDOWN);
    CHECK_INT(c->steps[4].kind, STEP_CLOSED);
    contract_free(&held);
}

TEST(expect_none_is_status_0)
{
    contract_case_t *c = parse_ok("send: x\nexpect: none\n");
    CHECK(c && c->nsteps == 2 && c->steps[1].kind == STEP_EXPECT && c->steps[1].status == 0);
    contract_free(&held);
}

TEST(expect_status_100_to_599)
{
    contract_case_t *c = parse_ok("expect: 100\nexpect: 599\n");
    CHECK(c && c->nsteps == 2);
    CHECK(c && c->steps[0].status == 100 && c->steps[1].status == 599);
    CHECK_REFUSED("expect: 99\n", "t: line 1: expect: a status 100..599 or none, got '99'");
    CHECK_REFUSED("expect: 600\n", "t: line 1: expect: a status 100..599 or none, got '600'");
    CHECK_REFUSED("expect: ok\n", "t: line 1: expect: a status 100..599 or none, got 'ok'");
    CHECK_REFUSED("expect:\n", "t: line 1: expect: a status 100..599 or none, got ''");
    /* three digits and nothing else (atoi took "200abc" for 200) */
    CHECK_REFUSED("expect: 200abc\n", "t: line 1: expect: a status 100..599 or none, got '200abc'");
    CHECK_REFUSED("expect: 2000\n", "t: line 1: expect: a status 100..599 or none, got '2000'");
    CHECK_REFUSED("expect: 0200\n", "t: line 1: expect: a status 100..599 or none, got '0200'");
    CHECK_REFUSED("expect: +200\n", "t: line 1: expect: a status 100..599 or none, got '+200'");
    CHECK_REFUSED("expect:  200\n", "t: line 1: expect: a status 100..599 or none, got ' 200'");
    CHECK_REFUSED("expect: 200 \n", "t: line 1: expect: a status 100..599 or none, got '200 '");
    CHECK_REFUSED("expect: nonesuch\n",
                  "t: line 1: expect: a status 100..599 or none, got 'nonesuch'");
    contract_free(&held);
}

TEST(headers_belong_to_the_expect_before_them)
{
    contract_case_t *c = parse_ok("expect: 404\n"
                                  "header: Content-Type:   application/json\n"
                                  "header: Connection: close\n");
    CHECK_INT(c ? c->nsteps : -1, 1);
    if (!c || c->nsteps != 1)
        return;
    const contract_step_t *e = &c->steps[0];
    CHECK_INT(e->nheaders, 2);
    CHECK_STR(e->header_name[0], "Content-Type");
    CHECK_STR(e->header_value[0], "application/json"); /* blanks after the colon dropped */
    CHECK_STR(e->header_name[1], "Connection");
    CHECK_STR(e->header_value[1], "close");
    contract_free(&held);
}

TEST(body_has_is_repeatable_up_to_the_limit)
{
    char text[1024] = "expect: 400\n";
    for (int i = 0; i < CONTRACT_MAX_CHECKS; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "body-has: \"k%d\"\n", i);
    contract_case_t *c = parse_ok(text);
    CHECK(c && c->steps[0].nbody_has == CONTRACT_MAX_CHECKS);
    CHECK(c && strcmp(c->steps[0].body_has[0], "\"k0\"") == 0);
    CHECK(c && strcmp(c->steps[0].body_has[7], "\"k7\"") == 0);
    CHECK(c && !c->steps[0].has_body); /* body-has is not body */
    strcat(text, "body-has: one too many\n");
    CHECK_REFUSED(text, "t: line 10: body-has: at most 8 per expect");
    contract_free(&held);
}

TEST(headers_up_to_the_limit)
{
    char text[1024] = "expect: 200\n";
    for (int i = 0; i < CONTRACT_MAX_CHECKS; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "header: H%d: v\n", i);
    contract_case_t *c = parse_ok(text);
    CHECK(c && c->steps[0].nheaders == CONTRACT_MAX_CHECKS);
    strcat(text, "header: H8: v\n");
    CHECK_REFUSED(text, "t: line 10: header: at most 8 per expect");
    contract_free(&held);
}

TEST(empty_body_is_a_body)
{
    contract_case_t *c = parse_ok("expect: 200\nbody:\n");
    CHECK(c && c->steps[0].has_body && c->steps[0].body_len == 0);
    contract_free(&held);
}

TEST(head_only)
{
    contract_case_t *c =
        parse_ok("send: HEAD /health HTTP/1.1\\r\\n\\r\\n\nexpect: 200\nhead-only: yes\n");
    CHECK(c && c->nsteps == 2 && c->steps[1].head_only);
    contract_free(&held);
}

TEST(pause_takes_a_duration)
{
    contract_case_t *c = parse_ok("pause: 250us\npause: 2s\n");
    CHECK(c && c->steps[0].pause_ns == 250 * NS_PER_US && c->steps[1].pause_ns == 2 * NS_PER_S);
    CHECK_REFUSED("pause: soon\n", "t: line 1: pause: a duration like 50ms, got 'soon'");
    CHECK_REFUSED("pause: -1s\n", "t: line 1: pause: a duration like 50ms, got '-1s'");
    contract_free(&held);
}

TEST(escapes_in_values)
{
    const contract_step_t *s = send_of("a\\r\\nb\\tc\\\\d\\x41\\x7a\\x00e");
    CHECK_INT(s->len, 12);
    CHECK(memcmp(s->data, "a\r\nb\tc\\dAz\0e", 12) == 0);
    s = send_of("\\xff\\xFF");
    CHECK_INT(s->len, 2);
    CHECK(memcmp(s->data, "\xff\xff", 2) == 0);
    /* Quotes need no escape; a JSON escape's backslash is written \\. */
    contract_case_t *c = parse_ok("expect: 200\nbody: {\"s\":\"a\\\\nb\"}\n");
    CHECK(c && c->steps[0].body && strcmp(c->steps[0].body, "{\"s\":\"a\\nb\"}") == 0);
    contract_free(&held);
}

TEST(bad_escapes_refused)
{
    CHECK_REFUSED("send: a\\q\n", "t: line 1: a bad escape '\\q' in send");
    /* a lone backslash at the end, one hex digit */
    CHECK_REFUSED("send: a\\\n", "t: line 1: a bad escape '\\' in send");
    CHECK_REFUSED("send: \\x4\n", "t: line 1: a bad escape '\\x4' in send");
    CHECK_REFUSED("send: \\xg0\n", "t: line 1: a bad escape '\\xg0' in send");
    CHECK_REFUSED("expect: 200\nbody: \\z\n", "t: line 2: a bad escape '\\z' in body");
    CHECK_REFUSED("expect: 200\nbody-has: \\z\n", "t: line 2: a bad escape '\\z' in body-has");
}

TEST(repeat_expands_to_n_copies)
{
    const contract_step_t *s = send_of("<{repeat:3:ab}>");
    CHECK_MEM(s->data, s->len, "<ababab>");
    s = send_of("{repeat:0:x}|{repeat:1:y}");
    CHECK_MEM(s->data, s->len, "|y");
    s = send_of("{repeat:2:\\r\\n}"); /* the text takes escapes */
    CHECK_MEM(s->data, s->len, "\r\n\r\n");
    s = send_of("{repeat:100000:z}");
    CHECK_INT(s->len, 100000);
    CHECK(s->len == 100000 && s->data[0] == 'z' && s->data[99999] == 'z');
    contract_case_t *c = parse_ok("expect: 200\nbody: [{repeat:3:1,}0]\n"); /* in bodies too */
    CHECK(c && c->steps[0].body && strcmp(c->steps[0].body, "[1,1,1,0]") == 0);
    contract_free(&held);
}

/* "t: line 1: a bad {repeat:N:TEXT} in send: " + why */
#define CHECK_BAD_REPEAT(text, why)                                                               \
    CHECK_REFUSED(text, "t: line 1: a bad {repeat:N:TEXT} in send: " why)

TEST(bad_repeat_refused)
{
    CHECK_BAD_REPEAT("send: {repeat:x:a}\n", "N must be digits followed by ':'");
    CHECK_BAD_REPEAT("send: {repeat:3a}\n", "N must be digits followed by ':'");
    CHECK_BAD_REPEAT("send: {repeat:-1:a}\n", "N must be digits followed by ':'");
    CHECK_BAD_REPEAT("send: {repeat:+1:a}\n", "N must be digits followed by ':'");
    CHECK_BAD_REPEAT("send: {repeat: 1:a}\n", "N must be digits followed by ':'");
    CHECK_BAD_REPEAT("send: {repeat:3:abc\n", "no '}' after TEXT");
    CHECK_BAD_REPEAT("send: {repeat:99999999999:a}\n", "N is at most 67108864"); /* over 64 Mi */
    CHECK_BAD_REPEAT("send: {repeat:67108865:a}\n", "N is at most 67108864");
    /* TEXT takes escapes: a bad one is said as such */
    CHECK_REFUSED("send: {repeat:2:\\q}\n", "t: line 1: a bad escape '\\q' in send");
}

TEST(len_is_the_length_of_the_body)
{
    const contract_step_t *s =
        send_of("POST /echo HTTP/1.1\\r\\nContent-Length: {len}\\r\\n\\r\\n{\"a\": 1}");
    CHECK_MEM(s->data, s->len, "POST /echo HTTP/1.1\r\nContent-Length: 8\r\n\r\n{\"a\": 1}");
    /* counted after escapes and repeats */
    s = send_of("P / HTTP/1.1\\r\\nContent-Length: {len}\\r\\n\\r\\n{repeat:1000:ab}\\x00");
    CHECK(s->len > 2001 && memcmp(s->data, "P / HTTP/1.1\r\nContent-Length: 2001\r\n\r\n", 38) == 0);
    CHECK_INT(s->len, 38 + 2001);
    /* an empty body */
    s = send_of("P / HTTP/1.1\\r\\nContent-Length: {len}\\r\\n\\r\\n");
    CHECK_MEM(s->data, s->len, "P / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    /* headers between {len} and the empty line are kept */
    s = send_of("P / HTTP/1.1\\r\\nContent-Length: {len}\\r\\nX: {repeat:2:y}\\r\\n\\r\\nbody");
    CHECK_MEM(s->data, s->len, "P / HTTP/1.1\r\nContent-Length: 4\r\nX: yy\r\n\r\nbody");
}

TEST(len_without_an_empty_line_refused)
{
    CHECK_REFUSED("send: P / HTTP/1.1\\r\\nContent-Length: {len}\\r\\n\n",
                  "t: line 1: {len} in send without an empty line (\\r\\n\\r\\n) after it");
}

TEST(comments_and_empty_lines)
{
    contract_case_t *c =
        parse_ok("\n#   first comment\n\n# second comment\nsend: x\n#\n\nexpect: 200\n");
    if (!c)
        return;
    CHECK_STR(c->comment, "first comment"); /* the first one, blanks after '#' dropped */
    CHECK_INT(c->nsteps, 2);
    c = parse_ok("send: x\n");
    CHECK(c && c->comment == NULL);
    contract_free(&held);
}

TEST(last_line_without_a_newline)
{
    contract_case_t *c = parse_ok("send: x\nexpect: 204");
    CHECK(c && c->nsteps == 2 && c->steps[1].status == 204);
    c = parse_ok("expect: 200\nbody: end");
    CHECK(c && c->steps[0].body && strcmp(c->steps[0].body, "end") == 0);
    contract_free(&held);
}

TEST(checks_need_an_expect_before_them)
{
    /* header, body, body-has and head-only describe an answer: an expect must come first, and
     * any other step ends it. */
    CHECK_REFUSED("header: A: b\n", "t: line 1: header: no expect before it");
    CHECK_REFUSED("body: x\n", "t: line 1: body: no expect before it");
    CHECK_REFUSED("body-has: x\n", "t: line 1: body-has: no expect before it");
    CHECK_REFUSED("head-only: yes\n", "t: line 1: head-only: no expect before it");
    CHECK_REFUSED("expect: 200\nsend: x\nbody: x\n", "t: line 3: body: no expect before it");
    CHECK_REFUSED("expect: 200\npause: 1ms\nheader: A: b\n",
                  "t: line 3: header: no expect before it");
    CHECK_REFUSED("expect: 200\nshutdown: write\nbody-has: x\n",
                  "t: line 3: body-has: no expect before it");
    CHECK_REFUSED("expect: 200\nclosed: yes\nhead-only: yes\n",
                  "t: line 3: head-only: no expect before it");
}

TEST(errors_name_the_case_the_line_and_why)
{
    CHECK_REFUSED("# c\nsend: x\n\nexpect: 200\nbogus: 1\n",
                  "t: line 5: unknown directive 'bogus'");
    CHECK_REFUSED("send: x\nsned: x\n", "t: line 2: unknown directive 'sned'");
    CHECK_REFUSED("send: x\nno colon here\n",
                  "t: line 2: expected 'directive: value', got 'no colon here'");
    /* directives are lower case */
    CHECK_REFUSED("Send: x\n", "t: line 1: unknown directive 'Send'");
    CHECK_REFUSED("expect: 200\nheader: no-colon\n",
                  "t: line 2: header: expected 'Name: value', got 'no-colon'");
    CHECK_REFUSED("", "t: no steps");
    CHECK_REFUSED("# only a comment\n\n", "t: no steps");
    contract_t c = {0};
    char e[256];
    CHECK_INT(contract_parse_case("07-depth", "x\n", 2, (c.cases = calloc(1, sizeof *c.cases)), e,
                                  sizeof e),
              -1);
    c.ncases = 1;
    CHECK_STR(e, "07-depth: line 1: expected 'directive: value', got 'x'");
    contract_free(&c);
}

TEST(only_len_bytes_of_the_text_are_read)
{
    /* The text is (pointer, length): what follows is not part of the case. */
    const char text[] = "send: a\nexpect: 200\nbogus";
    contract_t c = {calloc(1, sizeof(contract_case_t)), 1};
    char e[256] = "";
    CHECK_INT(contract_parse_case("t", text, strlen("send: a\nexpect: 200\n"), &c.cases[0], e,
                                  sizeof e),
              0);
    CHECK_INT(c.cases[0].nsteps, 2);
    contract_free(&c);
}

/* Parses s from a buffer of exactly its bytes, no NUL after them (as contract_load_dir
 * gives a file's text): under ASan a read past the end fails the test. */
static int parse_exact(const char *s)
{
    size_t n = strlen(s);
    char *text = malloc(n);
    memcpy(text, s, n);
    contract_t c = {calloc(1, sizeof(contract_case_t)), 1};
    err[0] = 0;
    int rc = contract_parse_case("t", text, n, &c.cases[0], err, sizeof err);
    contract_free(&c);
    free(text);
    return rc;
}

TEST(expect_on_the_last_line_reads_only_the_text)
{
    CHECK_INT(parse_exact("send: x\nexpect: 200"), 0);
    CHECK_INT(parse_exact("send: x\nexpect: 20"), -1); /* not "20" and whatever follows */
    CHECK_STR(err, "t: line 2: expect: a status 100..599 or none, got '20'");
}

TEST(repeat_at_the_end_reads_only_the_text)
{
    CHECK_INT(parse_exact("send: {repeat:12"), -1);
    CHECK_STR(err, "t: line 1: a bad {repeat:N:TEXT} in send: N must be digits followed by ':'");
    CHECK_INT(parse_exact("send: {repeat:"), -1);
    CHECK_INT(parse_exact("send: {repeat:2:ab"), -1);
    CHECK_STR(err, "t: line 1: a bad {repeat:N:TEXT} in send: no '}' after TEXT");
    CHECK_INT(parse_exact("send: {repeat:2:ab}"), 0);
}

TEST(pause_and_escapes_at_the_end_read_only_the_text)
{
    CHECK_INT(parse_exact("pause: 5"), 0);
    CHECK_INT(parse_exact("send: \\x4"), -1);
    CHECK_STR(err, "t: line 1: a bad escape '\\x4' in send");
    CHECK_INT(parse_exact("send: \\"), -1);
}

/* ---- calls (HTTP/2, the grpc contract) ---- */

/* The only step of kind k at index i of c, or a failure. */
static const contract_step_t *step(const contract_case_t *c, int i, contract_step_kind_t k)
{
    static const contract_step_t none = {.kind = STEP_PAUSE};
    if (!c || i >= c->nsteps || c->steps[i].kind != k) {
        fprintf(stderr, "    no step %d of kind %d\n", i, (int)k);
        t_failures++;
        return &none;
    }
    return &c->steps[i];
}

TEST(a_call_becomes_its_request)
{
    contract_case_t *c = parse_ok("# a quote\n"
                                  "call: /stackbench.v1.Ticks/Quote\n"
                                  "request-header: grpc-timeout: 200m\n"
                                  "request-header: content-type:\n"
                                  "message: {\"symbol\":\"AAPL\"}\n"
                                  "data: \\x00\\x00\\x00\\x00\\x00\n"
                                  "end-stream: no\n"
                                  "cancel-after: 1000\n");
    CHECK(c && c->calls);
    const contract_step_t *k = step(c, 0, STEP_CALL);
    CHECK_STR(k->method, "POST"); /* when left out */
    CHECK_STR(k->path, "/stackbench.v1.Ticks/Quote");
    CHECK(k->request_type == &stackbench__v1__quote_request__descriptor);
    CHECK_INT(k->nreq_headers, 2);
    if (k->nreq_headers == 2) {
        CHECK_STR(k->req_header_name[0], "grpc-timeout");
        CHECK_STR(k->req_header_value[0], "200m");
        CHECK_STR(k->req_header_name[1], "content-type");
        CHECK_STR(k->req_header_value[1], ""); /* drops the default */
    }
    /* each message or data line is a DATA frame; a message goes behind its prefix */
    CHECK_INT(k->nframes, 2);
    if (k->nframes == 2) {
        CHECK(k->frames[0].len == 11 &&
              memcmp(k->frames[0].data, "\0\0\0\0\x06\x0a\x04" "AAPL", 11) == 0);
        CHECK(k->frames[1].len == 5 && memcmp(k->frames[1].data, "\0\0\0\0\0", 5) == 0);
    }
    CHECK(k->keep_open);
    CHECK_INT(k->cancel_after, 1000);
    contract_free(&held);
}

TEST(a_count_takes_its_largest)
{
    contract_case_t *c = parse_ok("call: /x/y\ncancel-after: 4611686018427387903\n");
    CHECK(c && c->calls);
    CHECK(step(c, 0, STEP_CALL)->cancel_after == INT64_MAX / 2);
    contract_free(&held);
}

TEST(a_call_names_its_method_or_posts)
{
    contract_case_t *c = parse_ok("call: GET /\ncall: /x\n");
    const contract_step_t *k = step(c, 0, STEP_CALL);
    CHECK_STR(k->method, "GET");
    CHECK_STR(k->path, "/");
    CHECK(k->request_type == NULL); /* no method of contracts/grpc/ */
    CHECK(!k->keep_open);
    CHECK_INT(k->cancel_after, -1);
    CHECK_INT(k->nframes, 0); /* the headers end the stream */
    CHECK_STR(step(c, 1, STEP_CALL)->method, "POST");
    CHECK_REFUSED("call: Ticks/Quote\n",
                  "t: line 1: call: expected '[METHOD] /PATH', got 'Ticks/Quote'");
    CHECK_REFUSED("call:\n", "t: line 1: call: expected '[METHOD] /PATH', got ''");
    CHECK_REFUSED("call: GET / x\n", "t: line 1: call: expected '[METHOD] /PATH', got 'GET / x'");
    contract_free(&held);
}

TEST(a_message_takes_the_type_of_its_path_or_the_one_named)
{
    contract_case_t *c =
        parse_ok("call: /stackbench.v1.Ticks/Stream\n"
                 "message: {\"symbol\":\"AAPL\",\"count\":3,\"payload_bytes\":2}\n"
                 "call: /grpc.health.v1.Health/Check\n"
                 "message: {}\n"
                 "call: /nope.v1.Nope/Call\n"
                 "message: grpc.health.v1.HealthCheckRequest {\"service\":\"a\\u0062\"}\n");
    const contract_step_t *k = step(c, 0, STEP_CALL);
    CHECK(k->request_type == &stackbench__v1__stream_request__descriptor);
    CHECK(k->nframes == 1 && k->frames[0].len == 15 &&
          memcmp(k->frames[0].data, "\0\0\0\0\x0a\x0a\x04" "AAPL\x10\x03\x18\x02", 15) == 0);
    k = step(c, 1, STEP_CALL);
    CHECK(k->request_type == &grpc__health__v1__health_check_request__descriptor);
    CHECK(k->nframes == 1 && k->frames[0].len == 5); /* an empty message: its prefix only */
    k = step(c, 2, STEP_CALL);
    CHECK(k->request_type == NULL);
    CHECK(k->nframes == 1 && k->frames[0].len == 9 &&
          memcmp(k->frames[0].data, "\0\0\0\0\x04\x0a\x02" "ab", 9) == 0); /* escapes decoded */
    contract_free(&held);
}

TEST(a_message_that_cannot_be_encoded_is_refused)
{
    CHECK_REFUSED("call: /x/y\nmessage: {}\n",
                  "t: line 2: message: /x/y is no method of contracts/grpc/: name the message's "
                  "type first (message: stackbench.v1.QuoteRequest {...})");
    CHECK_REFUSED("call: /x/y\nmessage: Nope {}\n",
                  "t: line 2: message: no message type 'Nope' in contracts/grpc/");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Quote\nmessage: {\"symbol\":}\n",
                  "t: line 2: message: not JSON: unexpected character at byte 10");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Quote\nmessage: {\"sym\":\"A\"}\n",
                  "t: line 2: message: no field 'sym' in stackbench.v1.QuoteRequest");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Stream\nmessage: {\"count\":-1}\n",
                  "t: line 2: message: count: want an integer 0..4294967295");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Stream\nmessage: {\"count\":4294967296}\n",
                  "t: line 2: message: count: want an integer 0..4294967295");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Stream\nmessage: {\"count\":\"3\"}\n",
                  "t: line 2: message: count: want an integer 0..4294967295");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Quote\nmessage: {\"symbol\":1}\n",
                  "t: line 2: message: symbol: want a string");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Quote\nmessage: [1]\n",
                  "t: line 2: message: want a JSON object for stackbench.v1.QuoteRequest");
    CHECK_REFUSED("call: /x/y\ndata: \\q\n", "t: line 2: a bad escape '\\q' in data");
}

TEST(a_calls_expect_checks_its_grpc_answer)
{
    contract_case_t *c = parse_ok("call: /stackbench.v1.Ticks/Stream\n"
                                  "message: {\"symbol\":\"AAPL\",\"count\":3}\n"
                                  "expect: 200\n"
                                  "header: content-type: application/grpc\n"
                                  "grpc-status: 3\n"
                                  "grpc-message: count\\x3a\n"
                                  "messages: 0\n"
                                  "ticks: yes\n"
                                  "differs: go why\n"
                                  "call: /grpc.health.v1.Health/Check\n"
                                  "expect: 200\n"
                                  "grpc-status: NOT_FOUND\n"
                                  "health: SERVING\n"
                                  "pause: 1ms\n"
                                  "call: GET /\n"
                                  "expect: 415\n"
                                  "body-has: gRPC\n");
    CHECK_INT(c ? c->nsteps : 0, 7);
    const contract_step_t *e = step(c, 1, STEP_EXPECT);
    CHECK_INT(e->status, 200);
    CHECK_INT(e->nheaders, 1);
    CHECK_INT(e->grpc_status, 3);
    CHECK_STR(e->grpc_message, "count:");
    CHECK_INT(e->messages, 0);
    CHECK(e->ticks);
    CHECK_INT(e->health, -1);
    e = step(c, 3, STEP_EXPECT);
    CHECK_INT(e->grpc_status, 5); /* by its name */
    CHECK_INT(e->health, 1);      /* SERVING */
    CHECK(!e->ticks);
    CHECK_INT(e->messages, -1);
    step(c, 4, STEP_PAUSE);
    e = step(c, 6, STEP_EXPECT);
    CHECK_INT(e->status, 415);
    CHECK_INT(e->grpc_status, -1); /* not checked */
    CHECK(e->grpc_message == NULL);
    CHECK_INT(e->nbody_has, 1);
    CHECK_STR(contract_differs(c, "go"), "why");
    contract_free(&held);
}

TEST(grpc_checks_refused_where_they_mean_nothing)
{
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Quote\nexpect: 200\ngrpc-status: 17\n",
                  "t: line 3: grpc-status: a code 0..16 or its name, got '17'");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Quote\nexpect: 200\ngrpc-status: ok\n",
                  "t: line 3: grpc-status: a code 0..16 or its name, got 'ok'");
    CHECK_REFUSED("call: /grpc.health.v1.Health/Check\nexpect: 200\nticks: yes\n",
                  "t: line 3: ticks: only for a call of /stackbench.v1.Ticks/Stream or Quote");
    CHECK_REFUSED("call: /stackbench.v1.Ticks/Quote\nexpect: 200\nticks: no\n",
                  "t: line 3: ticks: only 'yes', got 'no'");
    CHECK_REFUSED("call: /x/y\nexpect: 200\nhealth: GOOD\n",
                  "t: line 3: health: SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN, got "
                  "'GOOD'");
    CHECK_REFUSED("call: /x/y\nexpect: 200\nmessages: many\n",
                  "t: line 3: messages: a number 0..100000000, got 'many'");
    CHECK_REFUSED("call: /x/y\nexpect: none\n",
                  "t: line 2: expect: a call's answer has a status, not none");
    CHECK_REFUSED("call: /x/y\nexpect: 200\nhead-only: yes\n",
                  "t: line 3: head-only: not for a call");
    CHECK_REFUSED("call: /x/y\nend-stream: maybe\n",
                  "t: line 2: end-stream: yes or no, got 'maybe'");
    CHECK_REFUSED("call: /x/y\ncancel-after: -1\n",
                  "t: line 2: cancel-after: a number 0..4611686018427387903, got '-1'");
    /* digits past the largest: refused, never wrapped (a fuzzed input overflowed here) */
    CHECK_REFUSED("call: /x/y\ncancel-after: 99999999999999999999999\n",
                  "t: line 2: cancel-after: a number 0..4611686018427387903, got "
                  "'99999999999999999999999'");
    CHECK_REFUSED("call: /x/y\ncancel-after: 4611686018427387904\n",
                  "t: line 2: cancel-after: a number 0..4611686018427387903, got "
                  "'4611686018427387904'");
    CHECK_REFUSED("call: /x/y\nexpect: 200\nmessages: 100000001\n",
                  "t: line 3: messages: a number 0..100000000, got '100000001'");
    /* the checks of a gRPC answer need the expect of a call */
    CHECK_REFUSED("send: x\nexpect: 200\ngrpc-status: 0\n",
                  "t: line 3: grpc-status: only for the expect of a call");
    CHECK_REFUSED("grpc-status: 0\n", "t: line 1: grpc-status: no expect before it");
    CHECK_REFUSED("call: /x/y\nexpect: 200\npause: 1ms\nmessages: 1\n",
                  "t: line 4: messages: no expect before it");
    /* the request's lines follow its call */
    CHECK_REFUSED("message: {}\n", "t: line 1: message: no call before it");
    CHECK_REFUSED("call: /x/y\nexpect: 200\ndata: x\n", "t: line 3: data: no call before it");
    CHECK_REFUSED("call: /x/y\npause: 1ms\nrequest-header: a: b\n",
                  "t: line 3: request-header: no call before it");
    CHECK_REFUSED("call: /x/y\nrequest-header: nocolon\n",
                  "t: line 2: request-header: expected 'Name: value', got 'nocolon'");
}

TEST(a_case_is_of_calls_or_of_http1_steps)
{
    CHECK_REFUSED("send: x\ncall: /x/y\n", "t: line 2: call: not in a case of HTTP/1.1 steps");
    CHECK_REFUSED("expect: 200\ncall: /x/y\n", "t: line 2: call: not in a case of HTTP/1.1 steps");
    CHECK_REFUSED("call: /x/y\nsend: x\n", "t: line 2: send: not in a case of calls (HTTP/2)");
    CHECK_REFUSED("call: /x/y\nshutdown: write\n",
                  "t: line 2: shutdown: not in a case of calls (HTTP/2)");
    CHECK_REFUSED("call: /x/y\nclosed: yes\n",
                  "t: line 2: closed: not in a case of calls (HTTP/2)");
    CHECK_REFUSED("call: /x/y\nexpect: 200\nexpect: 200\n",
                  "t: line 3: expect: in a case of calls, each follows its call");
    contract_case_t *c = parse_ok("send: x\nexpect: 200\n");
    CHECK(c && !c->calls);
    contract_free(&held);
}

/* ---- loaders ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "    cannot write %s\n", path);
        exit(1);
    }
}

TEST(load_dir_reads_every_case_sorted_by_name)
{
    char dir[] = "/tmp/sb-contract-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    write_file(dir, "20-b.case", "# second\nsend: b\n");
    write_file(dir, "10-a.case", "# first\nsend: a\nexpect: 200\n");
    write_file(dir, "README.md", "not a case\n");
    write_file(dir, "x.case.orig", "not a case either\n");
    contract_t c;
    char e[512] = "";
    CHECK_INT(contract_load_dir(dir, &c, e, sizeof e), 0);
    CHECK_INT(c.ncases, 2);
    if (c.ncases == 2) {
        CHECK_STR(c.cases[0].name, "10-a");
        CHECK_STR(c.cases[0].comment, "first");
        CHECK_INT(c.cases[0].nsteps, 2);
        CHECK_STR(c.cases[1].name, "20-b");
        CHECK_INT(c.cases[1].nsteps, 1);
    }
    contract_free(&c);
    CHECK_INT(c.ncases, 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

TEST(load_dir_reports_the_case_that_does_not_parse)
{
    char dir[] = "/tmp/sb-contract-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    write_file(dir, "01-ok.case", "send: a\n");
    write_file(dir, "02-bad.case", "send: a\nexpect: 200\nbody: \\q\n");
    contract_t c;
    char e[512] = "";
    CHECK_INT(contract_load_dir(dir, &c, e, sizeof e), -1);
    CHECK_STR(e, "02-bad: line 3: a bad escape '\\q' in body");
    CHECK_INT(c.ncases, 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

TEST(load_dir_of_a_missing_folder_refused)
{
    char dir[] = "/tmp/sb-contract-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    rmdir(dir);
    contract_t c;
    char e[512] = "", want[600];
    CHECK_INT(contract_load_dir(dir, &c, e, sizeof e), -1);
    snprintf(want, sizeof want, "cannot open '%s': %s", dir, strerror(ENOENT));
    CHECK_STR(e, want);
}

TEST(load_dir_without_cases_refused)
{
    char dir[] = "/tmp/sb-contract-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    contract_t c;
    char e[512] = "", want[600];
    CHECK_INT(contract_load_dir(dir, &c, e, sizeof e), -1);
    snprintf(want, sizeof want, "no .case files in '%s'", dir);
    CHECK_STR(e, want);
    CHECK_INT(c.ncases, 0);
    write_file(dir, "notes.txt", "not a case\n"); /* files, but none of them a case */
    CHECK_INT(contract_load_dir(dir, &c, e, sizeof e), -1);
    CHECK_STR(e, want);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

TEST(every_builtin_case_parses)
{
    static const char *const workloads[] = {"echo", "csv", "sql", "grpc"};
    for (int w = 0; w < 4; w++) {
        size_t compiled = 0;
        for (size_t i = 0; i < embed_nfiles; i++)
            compiled += strcmp(embed_files[i].dir, workloads[w]) == 0 &&
                        strstr(embed_files[i].name, ".case") != NULL;
        contract_t c;
        char e[512] = "";
        int rc = contract_load_builtin(workloads[w], &c, e, sizeof e);
        if (rc != 0)
            fprintf(stderr, "    %s: %s\n", workloads[w], e);
        CHECK_INT(rc, 0);
        CHECK(compiled > 10);
        CHECK_INT(c.ncases, compiled);
        for (int i = 0; rc == 0 && i < c.ncases; i++) {
            const contract_case_t *k = &c.cases[i];
            /* each says what it checks, sends something (or calls) and expects something */
            int sends = 0, expects = 0;
            for (int s = 0; s < k->nsteps; s++) {
                sends += k->steps[s].kind == STEP_SEND || k->steps[s].kind == STEP_CALL;
                expects += k->steps[s].kind == STEP_EXPECT;
            }
            if (!k->comment || !sends || !expects) {
                fprintf(stderr, "    %s/%s: comment %s, %d sends, %d expects\n", workloads[w],
                        k->name, k->comment ? "yes" : "no", sends, expects);
                t_failures++;
            }
        }
        if (rc == 0)
            contract_free(&c);
    }
}

TEST(builtin_of_an_unknown_workload_refused)
{
    contract_t c;
    char e[512] = "";
    CHECK_INT(contract_load_builtin("cobol", &c, e, sizeof e), -1);
    CHECK_STR(e, "no contract for workload 'cobol'");
    CHECK_INT(c.ncases, 0);
}

TEST(or_reset_names_an_http2_error_code)
{
    contract_case_t *c = parse_ok("call: /stackbench.v1.Ticks/Quote\nmessage: {}\nexpect: 200\n"
                                  "grpc-status: 4\nor-reset: CANCEL\n");
    CHECK(c != NULL);
    if (c) {
        const contract_step_t *e = NULL;
        for (int i = 0; i < c->nsteps; i++)
            if (c->steps[i].kind == STEP_EXPECT)
                e = &c->steps[i];
        CHECK(e && e->or_reset == 8 && e->grpc_status == 4);
    }
    CHECK(parse("call: /stackbench.v1.Ticks/Quote\nmessage: {}\nexpect: 200\n"
                "or-reset: SOON\n") == NULL);
    CHECK(strstr(err, "or-reset: an HTTP/2 error code like CANCEL, got 'SOON'") != NULL);
}

T_MAIN(T(or_reset_names_an_http2_error_code), T(a_whole_case_becomes_its_steps_in_order), T(expect_none_is_status_0),
       T(expect_status_100_to_599), T(headers_belong_to_the_expect_before_them),
       T(body_has_is_repeatable_up_to_the_limit), T(headers_up_to_the_limit),
       T(empty_body_is_a_body), T(head_only), T(pause_takes_a_duration), T(escapes_in_values),
       T(bad_escapes_refused), T(repeat_expands_to_n_copies), T(bad_repeat_refused),
       T(len_is_the_length_of_the_body), T(len_without_an_empty_line_refused),
       T(comments_and_empty_lines), T(last_line_without_a_newline),
       T(checks_need_an_expect_before_them), T(errors_name_the_case_the_line_and_why),
       T(only_len_bytes_of_the_text_are_read), T(expect_on_the_last_line_reads_only_the_text),
       T(repeat_at_the_end_reads_only_the_text),
       T(pause_and_escapes_at_the_end_read_only_the_text), T(a_call_becomes_its_request),
       T(a_call_names_its_method_or_posts),
       T(a_message_takes_the_type_of_its_path_or_the_one_named),
       T(a_message_that_cannot_be_encoded_is_refused), T(a_calls_expect_checks_its_grpc_answer),
       T(grpc_checks_refused_where_they_mean_nothing), T(a_case_is_of_calls_or_of_http1_steps),
       T(load_dir_reads_every_case_sorted_by_name),
       T(load_dir_reports_the_case_that_does_not_parse), T(load_dir_of_a_missing_folder_refused),
       T(load_dir_without_cases_refused), T(every_builtin_case_parses),
       T(builtin_of_an_unknown_workload_refused))
