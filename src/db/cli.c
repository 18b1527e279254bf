/* `stackbench pg [-- COMMAND...]`: the lab's throwaway PostgreSQL (pg.h) for a command or a
 * person: started with the sql schema loaded, its URLs in the environment of COMMAND (or
 * printed), stopped and removed afterwards. The tests run the peers' suites inside it. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/opt.h"
#include "lab/lab.h"
#include "db/db.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stackbench pg [flags] [-- COMMAND [ARGS...]]\n"
            "\n"
            "Starts a throwaway PostgreSQL with the sql workload's schema and data (a new\n"
            "cluster in /tmp/sb-pg-XXXXXX on a free port, settings in docs/POSTGRES.md), runs\n"
            "COMMAND with its address in the environment, then stops it and deletes it. Without\n"
            "COMMAND it prints the address and waits for Ctrl-C.\n"
            "\n"
            "COMMAND gets:\n"
            "  STACKBENCH_PG_URL         postgresql://bench@127.0.0.1:PORT/stackbench\n"
            "  STACKBENCH_PG_SOCKET_URL  the same database over the Unix socket\n"
            "\n"
            "flags:\n"
            "  --pg-url URL           create the database on this server instead (dropped\n"
            "                         afterwards; nothing else there is touched)\n"
            "  --cpus LIST            pin the server to these CPUs, e.g. 0 or 0,2-3\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit status: COMMAND's, or 1 when the database cannot be started.\n");
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

int cmd_pg(int argc, char **argv)
{
    enum { O_PG_URL = 256, O_CPUS };
    static const struct option opts[] = {
        {"pg-url", required_argument, 0, O_PG_URL},
        {"cpus", required_argument, 0, O_CPUS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *url = NULL;
    unsigned char cpus[1024] = {0};
    opterr = 0;
    optind = 1;
    int c;
    /* '+': stop at the first non-flag, so that COMMAND's own flags are left alone. */
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case O_PG_URL:
            url = optarg;
            break;
        case O_CPUS:
            if (opt_parse_cpus(optarg, cpus) <= 0)
                opt_fail("pg", "--cpus: expected a CPU list like 0 or 0,2-3, got '%s'", optarg);
            break;
        default:
            opt_fail_getopt("pg", c, argc, argv);
        }
    }
    char **cmd = argv + optind;
    if (*cmd && strcmp(argv[optind - 1], "--") != 0)
        opt_fail("pg", "unexpected argument '%s' (a command goes after --)", *cmd);

    /* Ctrl-C and friends reach the command (same process group); we wait for it, then
     * clean up. Without a command they end the wait. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    static db_t pg;
    char err[1024];
    db_cleanup_on_signals(&pg);
    int rc = url ? db_use(&pg, url, err, sizeof err) : db_start(&pg, cpus, err, sizeof err);
    if (rc) {
        fprintf(stderr, "stackbench pg: %s\n", err);
        db_stop(&pg);
        return 1;
    }
    setenv("STACKBENCH_PG_URL", pg.url, 1);
    setenv("STACKBENCH_PG_SOCKET_URL", pg.socket_url, 1);
    int status = 0;
    if (!*cmd) {
        printf("STACKBENCH_PG_URL=%s\nSTACKBENCH_PG_SOCKET_URL=%s\n", pg.url, pg.socket_url);
        fflush(stdout);
        fprintf(stderr, "stackbench pg: ready; Ctrl-C stops and deletes it\n");
        while (!got_signal)
            pause();
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            signal(SIGHUP, SIG_DFL);
            execvp(cmd[0], cmd);
            fprintf(stderr, "stackbench pg: cannot run %s: %s\n", cmd[0], strerror(errno));
            _exit(127);
        }
        int st = 0;
        while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            if (got_signal == SIGTERM || got_signal == SIGHUP)
                kill(pid, got_signal); /* not from the terminal: pass it on */
            got_signal = 0;
        }
        status = pid < 0 ? 1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    db_stop(&pg);
    return status;
}
