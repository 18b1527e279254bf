/* One contract, checked everywhere: the C service and the Go and Rust peers each pass every
 * case of contracts/WORKLOAD/ through `stackbench verify`. */
#include "t.h"

#include <signal.h>

#include "tproc.h"
#include "tsock.h"

static char out[1 << 16];

#define CONTRACT_TESTS(wl)                                                                        \
    TEST(c_##wl##_passes_the_contract)                                                            \
    {                                                                                             \
        const char *argv[] = {t_stackbench(), "serve", #wl, "--port", "0", NULL};              \
        CHECK_INT(t_verify(#wl, NULL, argv), 0);                                                                   \
    }                                                                                             \
    TEST(go_##wl##_passes_the_contract)                                                           \
    {                                                                                             \
        const char *argv[] = {t_peer("go/bin/stackbench-go"), #wl, "--port", "0", NULL};            \
        CHECK_INT(t_verify(#wl, NULL, argv), 0);                                                                   \
    }                                                                                             \
    TEST(rust_##wl##_passes_the_contract)                                                         \
    {                                                                                             \
        const char *argv[] = {t_peer("rust/target/release/stackbench-rust"), #wl, "--port", "0",    \
                              NULL};                                                              \
        CHECK_INT(t_verify(#wl, NULL, argv), 0);                                                                   \
    }

CONTRACT_TESTS(echo)
CONTRACT_TESTS(csv)

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

T_MAIN(T(c_echo_passes_the_contract), T(go_echo_passes_the_contract),
       T(rust_echo_passes_the_contract), T(c_csv_passes_the_contract),
       T(go_csv_passes_the_contract), T(rust_csv_passes_the_contract),
       T(verify_reports_what_differs))
