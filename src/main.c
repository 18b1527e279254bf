/* stackbench: subcommand dispatch only. */
#include <stdio.h>
#include <string.h>

#include "lab/gen.h"
#include "lab/lab.h"
#include "verify/verify.h"
#include "load/cli.h"
#include "serve/services.h"

#ifndef SB_VERSION
#define SB_VERSION "dev"
#endif
#ifndef SB_CC
#define SB_CC "unknown compiler"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "stackbench %s: measure equivalent services in C, Go and Rust on this machine\n"
            "\n"
            "usage: stackbench COMMAND [flags]\n"
            "\n"
            "commands:\n"
            "  run                  measure the C, Go and Rust services side by side (the main job)\n"
            "  serve WORKLOAD       run the C service for a workload (echo, csv, sql)\n"
            "  load URL             load an HTTP/1.1 server: closed or open loop, latency percentiles\n"
            "  verify WORKLOAD URL  check any implementation against a workload's contract\n"
            "  gen WORKLOAD         write a deterministic request body (csv)\n"
            "  durability           kill PostgreSQL under each sql service: is every 201 kept?\n"
            "  pg [-- COMMAND]      a throwaway PostgreSQL with the sql data, around a command\n"
            "\n"
            "  stackbench COMMAND --help   flags of a command\n"
            "  stackbench --version        version and the compiler of this build\n",
            SB_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("stackbench %s (built with %s)\n", SB_VERSION, SB_CC);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "load"))
        return cmd_load(argc - 1, argv + 1);
    if (!strcmp(cmd, "gen"))
        return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(cmd, "durability"))
        return cmd_durability(argc - 1, argv + 1);
    if (!strcmp(cmd, "pg"))
        return cmd_pg(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify"))
        return cmd_verify(argc - 1, argv + 1);
    fprintf(stderr, "stackbench: unknown command '%s' (see stackbench --help)\n", cmd);
    return 2;
}
