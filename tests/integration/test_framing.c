/* The framing contract (contracts/framing/, its .case files): the C echo service passes every case, and
 * each peer differs from it in exactly the cases whose differs: lines name it, no more, no
 * fewer; contracts/echo.md lists every one of those cases. */
#include "t.h"

#include <stdlib.h>

#include "tproc.h"
#include "verify/contract.h"

TEST(c_echo_passes_every_framing_case)
{
    const char *argv[] = {t_stackbench(), "serve", "echo", "--port", "0", NULL};
    CHECK_INT(t_verify("framing", "c", argv), 0);
}

TEST(go_echo_differs_exactly_where_its_differs_lines_say)
{
    const char *argv[] = {t_peer("go/bin/stackbench-go"), "echo", "--port", "0", NULL};
    CHECK_INT(t_verify("framing", "go", argv), 0);
}

TEST(rust_echo_differs_exactly_where_its_differs_lines_say)
{
    const char *argv[] = {t_peer("rust/target/release/stackbench-rust"), "echo", "--port", "0",
                          NULL};
    CHECK_INT(t_verify("framing", "rust", argv), 0);
}

TEST(echo_md_lists_every_case_where_a_peer_differs)
{
    char path[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(path, sizeof path, "%s/contracts/echo.md", root ? root : ".");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    static char md[1 << 17];
    size_t n = fread(md, 1, sizeof md - 1, f);
    md[n] = 0;
    fclose(f);
    contract_t ct;
    char err[256];
    CHECK_INT(contract_load_builtin("framing", &ct, err, sizeof err), 0);
    int listed = 0;
    for (int i = 0; i < ct.ncases; i++) {
        for (int k = 0; k < ct.cases[i].ndiffers; k++) {
            char row[256];
            snprintf(row, sizeof row, "`%s`", ct.cases[i].name);
            if (!strstr(md, row)) {
                fprintf(stderr, "    contracts/echo.md does not list %s (differs: %s)\n",
                        ct.cases[i].name, ct.cases[i].differs_lang[k]);
                CHECK(0);
            }
            listed++;
        }
    }
    CHECK(listed > 0);
    contract_free(&ct);
}

T_MAIN(T(c_echo_passes_every_framing_case), T(go_echo_differs_exactly_where_its_differs_lines_say),
       T(rust_echo_differs_exactly_where_its_differs_lines_say),
       T(echo_md_lists_every_case_where_a_peer_differs))
