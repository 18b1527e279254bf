/* One contract, checked everywhere: every tier of the C service and of the Go and Rust peers
 * passes every case of contracts/WORKLOAD/ through `stackbench verify` (sql: test_sql.c). */
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

T_MAIN(T(c_echo_passes_the_contract), T(go_tuned_echo_passes_the_contract),
       T(go_idiomatic_echo_passes_the_contract), T(rust_tuned_echo_passes_the_contract),
       T(rust_idiomatic_echo_passes_the_contract), T(c_tuned_csv_passes_the_contract),
       T(c_idiomatic_csv_passes_the_contract), T(go_tuned_csv_passes_the_contract),
       T(go_idiomatic_csv_passes_the_contract), T(rust_tuned_csv_passes_the_contract),
       T(rust_idiomatic_csv_passes_the_contract), T(verify_reports_what_differs))
