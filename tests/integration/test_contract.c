/* One contract, checked everywhere: the C service and the Go and Rust peers each pass every
 * case of contracts/WORKLOAD/ through `stackbench verify`. */
#include "t.h"

#include <signal.h>

#include "proc.h"

static char out[1 << 16];

static void verify_impl(const char *workload, const char *const argv[])
{
    proc_t p;
    if (proc_start(&p, argv) != 0) {
        t_failures++;
        return;
    }
    const char *v[] = {proc_stackbench(), "verify", "-q", workload, p.url, NULL};
    int rc = proc_run(v, out, sizeof out, 120000);
    if (rc != 0)
        fprintf(stderr, "%s", out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, " 0 failed") != NULL);
    CHECK_INT(proc_stop(&p, SIGTERM, 15000), 0);
    CHECK(proc_served(&p) > 0);
}

static const char *peer(const char *rel)
{
    static char path[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(path, sizeof path, "%s/peers/%s", root ? root : ".", rel);
    return path;
}

#define CONTRACT_TESTS(wl)                                                                        \
    TEST(c_##wl##_passes_the_contract)                                                            \
    {                                                                                             \
        const char *argv[] = {proc_stackbench(), "serve", #wl, "--port", "0", NULL};              \
        verify_impl(#wl, argv);                                                                   \
    }                                                                                             \
    TEST(go_##wl##_passes_the_contract)                                                           \
    {                                                                                             \
        const char *argv[] = {peer("go/bin/stackbench-go"), #wl, "--port", "0", NULL};            \
        verify_impl(#wl, argv);                                                                   \
    }                                                                                             \
    TEST(rust_##wl##_passes_the_contract)                                                         \
    {                                                                                             \
        const char *argv[] = {peer("rust/target/release/stackbench-rust"), #wl, "--port", "0",    \
                              NULL};                                                              \
        verify_impl(#wl, argv);                                                                   \
    }

CONTRACT_TESTS(echo)
CONTRACT_TESTS(csv)

TEST(verify_reports_what_differs)
{
    /* A server that answers garbage fails every case, each with a reason. */
    char tool[4096];
    snprintf(tool, sizeof tool, "%s", proc_tool("badserver"));
    const char *argv[] = {tool, "garbage", NULL};
    proc_t p;
    if (proc_start(&p, argv) != 0)
        exit(1);
    const char *v[] = {proc_stackbench(), "verify", "--timeout", "1s", "echo", p.url, NULL};
    CHECK_INT(proc_run(v, out, sizeof out, 120000), 1);
    CHECK(strstr(out, "FAIL  01-post-minifies: answer 1: not HTTP") != NULL);
    CHECK(strstr(out, " passed, ") != NULL);
    proc_stop(&p, SIGTERM, 5000);
}

T_MAIN(T(c_echo_passes_the_contract), T(go_echo_passes_the_contract),
       T(rust_echo_passes_the_contract), T(c_csv_passes_the_contract),
       T(go_csv_passes_the_contract), T(rust_csv_passes_the_contract),
       T(verify_reports_what_differs))
