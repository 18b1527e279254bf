/* `stackbench run`: flags, defaults for this machine, the matrix, the results. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/cpu.h"
#include "core/opt.h"
#include "lab/lab.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stackbench run [flags]\n"
            "\n"
            "Measures the same services written in C, Go and Rust side by side on this machine:\n"
            "each is built if needed, started pinned to the service CPUs, checked against its\n"
            "workload's contract, warmed up, then loaded from the load CPUs with the same\n"
            "requests while its memory and CPU are sampled. Prints a table and writes\n"
            "results.json and results.md.\n"
            "\n"
            "flags:\n"
            "  --langs LIST           languages, from c,go,rust (default c,go,rust)\n"
            "  --workloads LIST       workloads, from echo,csv,sql (default all three)\n"
            "  --duration DUR         measured time per cell (default 10s)\n"
            "  --warmup DUR           warm-up before it, not measured (default 3s)\n"
            "  --connections N        connections (default 64)\n"
            "  --rate max|N           max: closed loop; N: open loop at N req/s (default max)\n"
            "  --cpus-service LIST    CPUs of the service (default: the first half of this\n"
            "                         process's CPUs; CPU 0 on a 2-CPU machine)\n"
            "  --cpus-load LIST       CPUs of the load engine, one thread each (default: the\n"
            "                         other half; CPU 1 on a 2-CPU machine)\n"
            "  --out DIR              where results go (default results)\n"
            "  --peers DIR            the peers' sources (default: peers/ beside the binary)\n"
            "  --pg-url URL           sql: create the database on this PostgreSQL server (it is\n"
            "                         dropped afterwards) instead of starting a throwaway one\n"
            "  --pool N               sql: database connections of every service (default 8)\n"
            "  --cpus-db LIST         sql: CPUs of the throwaway PostgreSQL (default: the\n"
            "                         service CPUs, shared with the service)\n"
            "  -h, --help             this help\n");
}

int lab_split_list(const char *cmd, const char *flag, char *s, const char **out, int max,
                   const char *const *allowed)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, tok) == 0;
        if (!ok)
            opt_fail(cmd, "%s: unknown '%s'", flag, tok);
        if (n == max)
            opt_fail(cmd, "%s: too many values", flag);
        out[n++] = tok;
    }
    if (n == 0)
        opt_fail(cmd, "%s: expected a comma-separated list", flag);
    return n;
}

bool lab_common_flag(const char *cmd, int c, char *arg, lab_config_t *cfg, lab_flags_seen_t *seen)
{
    static const char *const all_langs[] = {"c", "go", "rust", NULL};
    int64_t v;
    switch (c) {
    case LAB_O_LANGS:
        cfg->nlangs = lab_split_list(cmd, "--langs", arg, cfg->langs, LAB_MAX, all_langs);
        return true;
    case LAB_O_DURATION:
        if (opt_parse_duration_ns(arg, &v) || v < NS_PER_MS)
            opt_fail(cmd, "--duration: expected a duration like 10s, got '%s'", arg);
        cfg->duration_ns = v;
        return true;
    case LAB_O_CONNECTIONS:
        if (opt_parse_int(arg, 1, 100000, &v))
            opt_fail(cmd, "--connections: expected 1..100000, got '%s'", arg);
        cfg->connections = (int)v;
        return true;
    case LAB_O_POOL:
        if (opt_parse_int(arg, 1, 10000, &v))
            opt_fail(cmd, "--pool: expected 1..10000, got '%s'", arg);
        cfg->pool = (int)v;
        return true;
    case LAB_O_CPUS_SERVICE:
    case LAB_O_CPUS_LOAD: {
        bool svc = c == LAB_O_CPUS_SERVICE;
        if (opt_parse_cpus(arg, svc ? cfg->cpus_service : cfg->cpus_load) < 1)
            opt_fail(cmd, "--%s: expected a CPU list like 0 or 0,2-3, got '%s'",
                     svc ? "cpus-service" : "cpus-load", arg);
        *(svc ? &seen->cpus_service : &seen->cpus_load) = true;
        return true;
    }
    case LAB_O_PEERS:
        cfg->peers_dir = arg;
        return true;
    }
    return false;
}

static void cpus_str(const unsigned char *mask, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (int c = 0; c < 1024 && len + 8 < n; c++)
        if (mask[c])
            len += (size_t)snprintf(out + len, n - len, "%s%d", len ? "," : "", c);
}

/* peers/ beside the binary: build/stackbench -> ../peers, or ./peers. */
static void find_peers(char *out, size_t n)
{
    char exe[4096];
    ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[r > 0 ? r : 0] = 0;
    char *dir = dirname(exe);
    const char *tries[] = {"%s/../peers", "%s/peers", NULL};
    for (int i = 0; tries[i]; i++) {
        char p[4096], mk[4096 + 16];
        if (snprintf(p, sizeof p, tries[i], dir) >= (int)sizeof p)
            continue;
        snprintf(mk, sizeof mk, "%s/Makefile", p);
        if (access(mk, R_OK) == 0) {
            snprintf(out, n, "%s", p);
            return;
        }
    }
    snprintf(out, n, "peers");
}

void lab_config_init(lab_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->langs[0] = "c", cfg->langs[1] = "go", cfg->langs[2] = "rust", cfg->nlangs = 3;
    cfg->workloads[0] = "echo", cfg->workloads[1] = "csv", cfg->workloads[2] = "sql";
    cfg->nworkloads = 3;
    cfg->duration_ns = 10 * NS_PER_S;
    cfg->warmup_ns = 3 * NS_PER_S;
    cfg->connections = 64;
    cfg->pool = 8;
    cfg->out_dir = "results";
}

void lab_config_resolve(lab_config_t *cfg, bool have_scpu, bool have_lcpu)
{
    /* Default split: the service gets the first half of our CPUs, the load the rest; on one
     * CPU both share it (and the results say so). */
    int cpus[1024];
    int ncpu = cpu_allowed(cpus, 1024);
    int nservice = ncpu >= 2 ? ncpu / 2 : 1;
    for (int i = 0; i < ncpu; i++) {
        if (!have_scpu && (i < nservice || ncpu == 1))
            cfg->cpus_service[cpus[i]] = 1;
        if (!have_lcpu && (i >= nservice || ncpu == 1))
            cfg->cpus_load[cpus[i]] = 1;
    }
    cfg->n_service_cpus = cfg->n_load_cpus = 0;
    for (int i = 0; i < 1024; i++) {
        cfg->n_service_cpus += cfg->cpus_service[i];
        cfg->n_load_cpus += cfg->cpus_load[i];
    }
    cpus_str(cfg->cpus_service, cfg->cpus_service_str, sizeof cfg->cpus_service_str);
    cpus_str(cfg->cpus_load, cfg->cpus_load_str, sizeof cfg->cpus_load_str);
    if (!cfg->peers_dir) {
        static char peers[4096];
        find_peers(peers, sizeof peers);
        cfg->peers_dir = peers;
    }
    cfg->progress = isatty(STDERR_FILENO);
}

void lab_config_resolve_db(lab_config_t *cfg, bool have_dbcpu)
{
    if (!have_dbcpu)
        memcpy(cfg->cpus_db, cfg->cpus_service, sizeof cfg->cpus_db);
    cfg->n_db_cpus = 0;
    for (int i = 0; i < 1024; i++)
        cfg->n_db_cpus += cfg->cpus_db[i];
    cpus_str(cfg->cpus_db, cfg->cpus_db_str, sizeof cfg->cpus_db_str);
}

int cmd_run(int argc, char **argv)
{
    enum { O_WL = LAB_O_OWN, O_WARM, O_RATE, O_OUT, O_PG_URL, O_DBCPU };
    static const struct option opts[] = {
        LAB_COMMON_OPTIONS,
        {"workloads", required_argument, 0, O_WL},
        {"warmup", required_argument, 0, O_WARM},
        {"rate", required_argument, 0, O_RATE},
        {"out", required_argument, 0, O_OUT},
        {"pg-url", required_argument, 0, O_PG_URL},
        {"cpus-db", required_argument, 0, O_DBCPU},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    static const char *const all_workloads[] = {"echo", "csv", "sql", NULL};
    static lab_config_t cfg;
    lab_config_init(&cfg);
    lab_flags_seen_t seen = {0};
    bool have_dbcpu = false;
    int64_t v;
    size_t len = 0;
    for (int i = 0; i < argc && len + 2 < sizeof cfg.argv_line; i++)
        len += (size_t)snprintf(cfg.argv_line + len, sizeof cfg.argv_line - len, "%s%s",
                                i ? " " : "stackbench ", argv[i]);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (lab_common_flag("run", c, optarg, &cfg, &seen))
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case O_WL:
            cfg.nworkloads =
                lab_split_list("run", "--workloads", optarg, cfg.workloads, LAB_MAX, all_workloads);
            break;
        case O_WARM:
            if (opt_parse_duration_ns(optarg, &v) || v < 0)
                opt_fail("run", "--warmup: expected a duration like 10s, got '%s'", optarg);
            cfg.warmup_ns = v;
            break;
        case O_RATE:
            if (strcmp(optarg, "max") == 0) {
                cfg.rate = 0;
            } else {
                char *end;
                errno = 0;
                double r = strtod(optarg, &end);
                if (errno || *end || !(r > 0))
                    opt_fail("run", "--rate: expected max or requests/s, got '%s'", optarg);
                cfg.rate = r;
            }
            break;
        case O_OUT:
            cfg.out_dir = optarg;
            break;
        case O_PG_URL:
            cfg.pg_url = optarg;
            break;
        case O_DBCPU:
            if (opt_parse_cpus(optarg, cfg.cpus_db) < 1)
                opt_fail("run", "--cpus-db: expected a CPU list like 0 or 0,2-3, got '%s'", optarg);
            have_dbcpu = true;
            break;
        default:
            opt_fail_getopt("run", c, argc, argv);
        }
    }
    if (optind < argc)
        opt_fail("run", "unexpected argument '%s'", argv[optind]);

    lab_config_resolve(&cfg, seen.cpus_service, seen.cpus_load);
    lab_config_resolve_db(&cfg, have_dbcpu);

    int n = cfg.nworkloads * cfg.nlangs;
    lab_cell_t *cells = calloc((size_t)n, sizeof *cells);
    bool sql = false;
    for (int i = 0; i < cfg.nworkloads; i++)
        sql |= strcmp(cfg.workloads[i], "sql") == 0;
    char db[160] = "";
    if (sql && cfg.pg_url)
        snprintf(db, sizeof db, ", database on the given server (pool %d)", cfg.pool);
    else if (sql)
        snprintf(db, sizeof db, ", PostgreSQL on CPU %s (pool %d)", cfg.cpus_db_str, cfg.pool);
    printf("stackbench run: %d cell%s, service on CPU %s, load on CPU %s (%d thread%s)%s, "
           "%d connections, %s, %.0fs each after %.0fs warm-up\n\n",
           n, n == 1 ? "" : "s", cfg.cpus_service_str, cfg.cpus_load_str, cfg.n_load_cpus,
           cfg.n_load_cpus == 1 ? "" : "s", db, cfg.connections,
           cfg.rate > 0 ? "open loop" : "max rate", (double)cfg.duration_ns / NS_PER_S,
           (double)cfg.warmup_ns / NS_PER_S);
    fflush(stdout);
    lab_run(&cfg, cells);
    lab_print_table(&cfg, cells, n);
    char err[512];
    int rc = 0;
    if (lab_write_results(&cfg, cells, n, err, sizeof err)) {
        fprintf(stderr, "stackbench run: %s\n", err);
        rc = 1;
    } else {
        printf("\nwritten: %s/results.json, %s/results.md\n", cfg.out_dir, cfg.out_dir);
    }
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed += !cells[i].ok;
    free(cells);
    return rc ? rc : (failed == n ? 1 : 0);
}
