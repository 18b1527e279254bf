/* stackbench: subcommand dispatch only. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "db/db.h"
#include "db/durability.h"
#include "decide/decide.h"
#include "lab/cpu_profile.h"
#include "lab/gen.h"
#include "lab/run.h"
#include "load/cli.h"
#include "report/report.h"
#include "serve/services.h"
#include "verify/verify.h"

#ifndef SB_VERSION
#define SB_VERSION "dev"
#endif
#ifndef SB_CC
#define SB_CC "unknown compiler"
#endif

static const struct {
    const char *name, *args, *summary;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", "", "measure the C, Go and Rust services side by side (the main job)", cmd_run},
    {"serve", "WORKLOAD", "run the C service for a workload (echo, csv, sql, grpc)", cmd_serve},
    {"load", "URL", "load an HTTP/1.1 server: closed or open loop, latency percentiles", cmd_load},
    {"verify", "WORKLOAD URL", "check any implementation against a workload's contract",
     cmd_verify},
    {"gen", "WORKLOAD", "write a deterministic request body (csv)", cmd_gen},
    {"durability", "", "kill PostgreSQL under each sql service: is every 201 kept?",
     cmd_durability},
    {"pg", "[-- COMMAND]", "a throwaway PostgreSQL with the sql data, around a command", cmd_pg},
    {"verdict", "[DIR]", "which language per workload for a team, why, and the bill", cmd_verdict},
    {"claims", "[DIR]", "the published Go and Rust claims, checked against a run", cmd_claims},
    {"decide", "MESH.yaml", "a mesh of services: keep or move each, and the bill", cmd_decide},
    {"report", "[DIR]", "report.html: a run's results as one page with charts", cmd_report},
    {"profile", "PID|URL", "where a running process spends its CPU: flame graph, pprof",
     cmd_profile},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f,
            "stackbench %s: measure equivalent services in C, Go and Rust on this machine\n"
            "\n"
            "usage: stackbench COMMAND [flags]\n"
            "\n"
            "commands:\n",
            SB_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", commands[i].name, *commands[i].args ? " " : "",
                 commands[i].args);
        fprintf(f, "  %-19s  %s\n", left, commands[i].summary);
    }
    fprintf(f, "\n"
               "  stackbench COMMAND --help   flags of a command\n"
               "  stackbench --version        version and the compiler of this build\n"
               "\n"
               "reference: README.md, docs/, man stackbench\n");
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
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    sb_warn(NULL, "unknown command '%s' (see stackbench --help)", cmd);
    return 2;
}
