/* `stackbench pg [-- COMMAND...]`: the lab's throwaway PostgreSQL (pg.h) for a command or a
 * person: started with the sql schema loaded, its URLs in the environment of COMMAND (or
 * printed), stopped and removed afterwards. The tests run the peers' suites inside it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/opt.h"
#include "core/proc.h"
#include "db/db.h"

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

int cmd_pg(int argc, char **argv)
{
    const char *url = NULL;
    static cpuset_t cpus;
    const opt_t opts[] = {
        {"pg-url", 0, OPT_STR, &url, "URL",
         "create the database on this server instead (dropped\n"
         "afterwards; nothing else there is touched)"},
        {"cpus", 0, OPT_CPUS, &cpus, "LIST", "pin the server to these CPUs, e.g. 0 or 0,2-3"},
        {0},
    };
    const opt_cmd_t cmd = {
        .name = "pg",
        .usage = "pg [flags] [-- COMMAND [ARGS...]]",
        .about = "Starts a throwaway PostgreSQL with the sql workload's schema and data (a new\n"
                 "cluster in /tmp/sb-pg-XXXXXX on a free port, settings in docs/POSTGRES.md), runs\n"
                 "COMMAND with its address in the environment, then stops it and deletes it. Without\n"
                 "COMMAND it prints the address and waits for Ctrl-C.\n"
                 "\n"
                 "COMMAND gets:\n"
                 "  STACKBENCH_PG_URL         postgresql://bench@127.0.0.1:PORT/stackbench\n"
                 "  STACKBENCH_PG_SOCKET_URL  the same database over the Unix socket",
        .opts = opts,
        .more = "Exit status: COMMAND's, or 1 when the database cannot be started.",
        .stop_at_operand = true, /* COMMAND's own flags are left alone */
    };
    int first = opt_parse(&cmd, argc, argv);
    char **command = argv + first;
    if (*command && strcmp(argv[first - 1], "--") != 0)
        opt_fail("pg", "unexpected argument '%s' (a command goes after --)", *command);

    /* Ctrl-C and friends reach the command (same process group); we wait for it, then
     * clean up. Without a command they end the wait. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    static db_t pg;
    char err[1024];
    db_cleanup_on_signals(&pg);
    int rc = url ? db_use(&pg, url, err, sizeof err) : db_start(&pg, &cpus, err, sizeof err);
    if (rc) {
        sb_warn("pg", "%s", err);
        db_stop(&pg);
        return 1;
    }
    setenv("STACKBENCH_PG_URL", pg.url, 1);
    setenv("STACKBENCH_PG_SOCKET_URL", pg.socket_url, 1);
    int status = 0;
    if (!*command) {
        printf("STACKBENCH_PG_URL=%s\nSTACKBENCH_PG_SOCKET_URL=%s\n", pg.url, pg.socket_url);
        fflush(stdout);
        sb_warn("pg", "ready; Ctrl-C stops and deletes it");
        while (!got_signal)
            pause();
    } else {
        /* Our terminal, our environment (with the URLs); not our signal handlers. */
        proc_opts_t o = {.in = PROC_INHERIT, .out = PROC_INHERIT, .err = PROC_INHERIT};
        pid_t pid = proc_spawn((const char *const *)command, &o, err, sizeof err);
        if (pid < 0) {
            sb_warn("pg", "%s", err);
            db_stop(&pg);
            return 127;
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            if (got_signal == SIGTERM || got_signal == SIGHUP)
                kill(pid, got_signal); /* not from the terminal: pass it on */
            got_signal = 0;
        }
        status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    db_stop(&pg);
    return status;
}
