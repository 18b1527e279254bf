/* `stackbench run`: flags, defaults for this machine, the matrix, the results. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/opt.h"
#include "lab/results.h"
#include "lab/run.h"
#include "lab/workloads.h"

static int parse_workloads(const char *arg, void *dst, char *why, size_t whylen)
{
    lab_config_t *cfg = dst;
    static char store[256];
    int n = opt_split_list(arg, store, sizeof store, cfg->workloads, LAB_MAX_WORKLOADS,
                           lab_workload_names, "workloads", why, whylen);
    if (n < 0)
        return -1;
    cfg->nworkloads = n;
    return 0;
}

static int parse_rate(const char *arg, void *dst, char *why, size_t whylen)
{
    double *rate = dst;
    if (strcmp(arg, "max") == 0) {
        *rate = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double r = strtod(arg, &end);
    if (errno || *end || end == arg || !(r > 0) || r > 1e9) {
        snprintf(why, whylen, "expected max or requests/s, got '%s'", arg);
        return -1;
    }
    *rate = r;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    static lab_config_t cfg;
    lab_config_init(&cfg);
    size_t len = 0;
    for (int i = 0; i < argc && len + 2 < sizeof cfg.argv_line; i++)
        len += (size_t)snprintf(cfg.argv_line + len, sizeof cfg.argv_line - len, "%s%s",
                                i ? " " : "stackbench ", argv[i]);
    opt_t opts[IMPL_OPTS_FLAGS + 8];
    int n = impl_opts_flags(&cfg.impl, "measured time per cell (default 10s)",
                            "connections (default 64)", opts);
    const opt_t own[] = {
        {"workloads", 0, OPT_FN, &cfg, "LIST", "workloads, from echo,csv,sql (default all three)",
         .fn = parse_workloads},
        {"warmup", 0, OPT_DURATION, &cfg.warmup_ns, "DUR",
         "warm-up before it, not measured (default 3s)", .expect = "a duration like 10s"},
        {"rate", 0, OPT_FN, &cfg.rate, "max|N",
         "max: closed loop; N: open loop at N req/s (default max)", .fn = parse_rate},
        {"out", 0, OPT_STR, &cfg.out_dir, "DIR", "where results go (default results)"},
        {"pg-url", 0, OPT_STR, &cfg.pg_url, "URL",
         "sql: create the database on this PostgreSQL server (it is\n"
         "dropped afterwards) instead of starting a throwaway one"},
        {"cpus-db", 0, OPT_CPUS, &cfg.cpus_db, "LIST",
         "sql: CPUs of the throwaway PostgreSQL (default: the\n"
         "service CPUs, shared with the service)",
         .seen = &cfg.have_cpus_db},
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        opts[n++] = own[i];
    opts[n] = (opt_t){0};
    const opt_cmd_t cmd = {
        .name = "run",
        .usage = "run [flags]",
        .about = "Measures the same services written in C, Go and Rust side by side on this machine:\n"
                 "each is built if needed, started pinned to the service CPUs, checked against its\n"
                 "workload's contract, warmed up, then loaded from the load CPUs with the same\n"
                 "requests while its memory and CPU are sampled. Prints a table and writes\n"
                 "results.json and results.md.",
        .opts = opts,
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first < argc)
        opt_fail("run", "unexpected argument '%s'", argv[first]);
    lab_config_resolve(&cfg);

    int ncells = cfg.nworkloads * cfg.impl.nlangs;
    lab_cell_t *cells = calloc((size_t)ncells, sizeof *cells);
    if (!cells) {
        sb_warn("run", "out of memory");
        return 1;
    }
    bool sql = false;
    for (int i = 0; i < cfg.nworkloads; i++)
        sql |= lab_workload(cfg.workloads[i])->db_reset != NULL;
    char db[160] = "", cs[128], cl[128], cd[128];
    cpuset_format(&cfg.impl.cpus_service, cs, sizeof cs);
    cpuset_format(&cfg.impl.cpus_load, cl, sizeof cl);
    cpuset_format(&cfg.cpus_db, cd, sizeof cd);
    if (sql && cfg.pg_url)
        snprintf(db, sizeof db, ", database on the given server (pool %d)", cfg.impl.pool);
    else if (sql)
        snprintf(db, sizeof db, ", PostgreSQL on CPU %s (pool %d)", cd, cfg.impl.pool);
    int nload = cpuset_count(&cfg.impl.cpus_load);
    printf("stackbench run: %d cell%s, service on CPU %s, load on CPU %s (%d thread%s)%s, "
           "%d connections, %s, %.0fs each after %.0fs warm-up\n\n",
           ncells, ncells == 1 ? "" : "s", cs, cl, nload, nload == 1 ? "" : "s", db,
           cfg.impl.connections, cfg.rate > 0 ? "open loop" : "max rate",
           (double)cfg.impl.duration_ns / NS_PER_S, (double)cfg.warmup_ns / NS_PER_S);
    fflush(stdout);
    lab_run(&cfg, cells);
    lab_print_table(&cfg, cells, ncells);
    char err[512];
    int rc = 0;
    if (lab_write_results(&cfg, cells, ncells, err, sizeof err)) {
        sb_warn("run", "%s", err);
        rc = 1;
    } else {
        printf("\nwritten: %s/results.json, %s/results.md\n", cfg.out_dir, cfg.out_dir);
    }
    int failed = 0;
    for (int i = 0; i < ncells; i++)
        failed += !cells[i].ok;
    free(cells);
    return rc ? rc : (failed == ncells ? 1 : 0);
}
