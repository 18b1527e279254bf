/* One contract, checked everywhere: every tier of the C service and of the Go and Rust peers
 * passes every case of contracts/WORKLOAD/ through `stackbench verify` (sql: test_sql.c). The
 * grpc contract is checked against the C service and the peers, each with its known
 * differences (`differs:`). */
#include "t.h"

#include <signal.h>

#include "tproc.h"
#include "tsock.h"

static char out[1 << 16];

/* One implementation of wl, in one tier, against the contract. */
#define CONTRACT_TEST(name, wl, tier, ...)                                                        \
    TEST(name##_##wl##_passes_the_contract)                                                       \
    {                                                                                             \
        const char *argv[] = {__VA_ARGS__, #wl, "--tier", tier, "--port", "0", NULL};             \
        CHECK_INT(t_verify(#wl, NULL, argv), 0);                                                  \
    }

#define GO t_peer("go/bin/stackbench-go")
#define RUST t_peer("rust/target/release/stackbench-rust")

/* Every tier of every language that serves the workload. */
TEST(c_echo_passes_the_contract) /* C has one echo, its tuned one: no --tier */
{
    const char *argv[] = {t_stackbench(), "serve", "echo", "--port", "0", NULL};
    CHECK_INT(t_verify("echo", NULL, argv), 0);
}
CONTRACT_TEST(go_tuned, echo, "tuned", GO)
CONTRACT_TEST(go_idiomatic, echo, "idiomatic", GO)
CONTRACT_TEST(rust_tuned, echo, "tuned", RUST)
CONTRACT_TEST(rust_idiomatic, echo, "idiomatic", RUST)
CONTRACT_TEST(c_tuned, csv, "tuned", t_stackbench(), "serve")
CONTRACT_TEST(c_idiomatic, csv, "idiomatic", t_stackbench(), "serve")
CONTRACT_TEST(go_tuned, csv, "tuned", GO)
CONTRACT_TEST(go_idiomatic, csv, "idiomatic", GO)
CONTRACT_TEST(rust_tuned, csv, "tuned", RUST)
CONTRACT_TEST(rust_idiomatic, csv, "idiomatic", RUST)

TEST(c_grpc_passes_the_contract)
{
    const char *argv[] = {t_stackbench(), "serve", "grpc", "--port", "0", NULL};
    CHECK_INT(t_verify("grpc", NULL, argv), 0);
}

TEST(go_grpc_passes_the_contract)
{
    const char *argv[] = {GO, "grpc", "--port", "0", NULL};
    CHECK_INT(t_verify("grpc", "go", argv), 0);
}

TEST(rust_grpc_passes_the_contract)
{
    const char *argv[] = {RUST, "grpc", "--port", "0", NULL};
    CHECK_INT(t_verify("grpc", "rust", argv), 0);
}

TEST(verify_reports_what_differs)
{
    /* A server that answers garbage fails every case, each with a reason. */
    char tool[4096];
    snprintf(tool, sizeof tool, "%s", t_tool("badserver"));
    const char *argv[] = {tool, "garbage", NULL};
    t_server_t p;
    if (t_start(&p, argv) != 0)
        exit(1);
    const char *v[] = {t_stackbench(), "verify", "--timeout", "1s", "echo", p.url, NULL};
    CHECK_INT(t_run(v, out, sizeof out, 120000), 1);
    CHECK(strstr(out, "FAIL  01-post-minifies: answer 1: not HTTP") != NULL);
    CHECK(strstr(out, " passed, ") != NULL);
    t_stop(&p, SIGTERM, 5000);
}

/* A folder of one-call cases, for verify --cases. */
static void write_case(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.case", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "    cannot write %s\n", path);
        exit(1);
    }
}

TEST(verify_grpc_says_what_differs_in_an_answer)
{
    /* Cases that want what the server does not answer: each fails, saying what came. */
    char dir[] = "/tmp/sb-grpc-cases-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *stream3 = "call: /stackbench.v1.Ticks/Stream\n"
                          "message: {\"symbol\":\"AAPL\",\"count\":3,\"payload_bytes\":2}\n"
                          "expect: 200\n";
    char text[1024];
    snprintf(text, sizeof text, "%smessages: 4\n", stream3);
    write_case(dir, "a-messages", text);
    snprintf(text, sizeof text, "%sgrpc-status: 3\n", stream3);
    write_case(dir, "b-status", text);
    write_case(dir, "c-message",
               "call: /stackbench.v1.Ticks/Quote\nmessage: {\"symbol\":\"aapl\"}\nexpect: 200\n"
               "grpc-message: count\n");
    write_case(dir, "d-http-status",
               "call: /stackbench.v1.Ticks/Quote\nmessage: {\"symbol\":\"AAPL\"}\nexpect: 415\n");
    write_case(dir, "e-health",
               "call: /grpc.health.v1.Health/Check\nmessage: {}\nexpect: 200\n"
               "health: NOT_SERVING\n");
    write_case(dir, "f-timeout", "call: /stackbench.v1.Ticks/Stream\n"
                                 "message: {\"symbol\":\"AAPL\",\"count\":1000000,"
                                 "\"payload_bytes\":65536}\nexpect: 200\n");
    write_case(dir, "g-ok", "call: /stackbench.v1.Ticks/Quote\nmessage: {\"symbol\":\"AAPL\"}\n"
                            "expect: 200\ngrpc-status: OK\nticks: yes\n");
    t_server_t p;
    const char *argv[] = {t_stackbench(), "serve", "grpc", "--port", "0", NULL};
    if (t_start(&p, argv) != 0)
        exit(1);
    const char *v[] = {t_stackbench(), "verify", "--timeout", "500ms", "--cases", dir,
                       "grpc", p.url, NULL};
    CHECK_INT(t_run(v, out, sizeof out, 60000), 1);
    CHECK(strstr(out, "FAIL  a-messages: call 1: 3 messages, want 4") != NULL);
    CHECK(strstr(out, "FAIL  b-status: call 1: grpc-status 0, want 3 INVALID_ARGUMENT "
                      "(after 3 messages)") != NULL);
    CHECK(strstr(out, "FAIL  c-message: call 1: grpc-message 'symbol: want 1-12 of [A-Z0-9.]', "
                      "want it to start with 'count'") != NULL);
    CHECK(strstr(out, "FAIL  d-http-status: call 1: :status 200, want 415") != NULL);
    CHECK(strstr(out, "FAIL  e-health: call 1: 1 messages, the last with status 1, want one "
                      "with NOT_SERVING") != NULL);
    CHECK(strstr(out, "FAIL  f-timeout: call 1: timed out before the stream ended (:status 200, ")
          != NULL);
    CHECK(strstr(out, "  ok    g-ok\n") != NULL);
    CHECK(strstr(out, "1 passed, 6 failed") != NULL);
    if (t_failures)
        fprintf(stderr, "%s", out);
    t_stop(&p, SIGTERM, 5000);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

TEST(verify_grpc_against_a_server_that_is_not_http2)
{
    /* An HTTP/1.1 server answers the HTTP/2 preface with HTTP/1.1: every call fails, saying so. */
    t_server_t p;
    const char *argv[] = {t_stackbench(), "serve", "echo", "--port", "0", NULL};
    if (t_start(&p, argv) != 0)
        exit(1);
    const char *v[] = {t_stackbench(), "verify", "--timeout", "1s", "grpc", p.url, NULL};
    CHECK_INT(t_run(v, out, sizeof out, 120000), 1);
    CHECK(strstr(out, "FAIL  01-quote: call 1: the HTTP/2 session ended: Remote peer returned "
                      "unexpected data") != NULL);
    CHECK(strstr(out, "\n0 passed, ") != NULL);
    CHECK(strstr(out, "  ok ") == NULL);
    t_stop(&p, SIGTERM, 5000);
}

T_MAIN(T(c_echo_passes_the_contract), T(go_tuned_echo_passes_the_contract),
       T(go_idiomatic_echo_passes_the_contract), T(rust_tuned_echo_passes_the_contract),
       T(rust_idiomatic_echo_passes_the_contract), T(c_tuned_csv_passes_the_contract),
       T(c_idiomatic_csv_passes_the_contract), T(go_tuned_csv_passes_the_contract),
       T(go_idiomatic_csv_passes_the_contract), T(rust_tuned_csv_passes_the_contract),
       T(rust_idiomatic_csv_passes_the_contract), T(c_grpc_passes_the_contract), T(go_grpc_passes_the_contract), T(rust_grpc_passes_the_contract),
       T(verify_reports_what_differs), T(verify_grpc_says_what_differs_in_an_answer),
       T(verify_grpc_against_a_server_that_is_not_http2))
