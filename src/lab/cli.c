/* `stackbench run`: flags, defaults for this machine, the matrix, the results. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/opt.h"
#include "decide/decide.h"
#include "lab/results.h"
#include "lab/run.h"
#include "lab/workloads.h"
#include "report/report.h"
#include "report/table.h"
#include "telemetry/profile.h"

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

/* --impl NAME=COMMAND and the flags that label the last one given. */
typedef struct {
    char name[32], command[2048], tier[32], framework[96], does[96], db_strategy[32], workloads[128];
    bool have_workloads;
} user_flags_t;

static user_flags_t users[IMPL_MAX];
static int nusers;

static int parse_impl(const char *arg, void *dst, char *why, size_t whylen)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof users[0].name) {
        snprintf(why, whylen, "expected NAME=COMMAND, got '%s'", arg);
        return -1;
    }
    if (nusers == IMPL_MAX) {
        snprintf(why, whylen, "at most %d", IMPL_MAX);
        return -1;
    }
    for (const char *c = arg; c < eq; c++)
        if (!(*c == '-' || *c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))) {
            snprintf(why, whylen, "a NAME of lowercase letters, digits, - and _, got '%.*s'",
                     (int)(eq - arg), arg);
            return -1;
        }
    user_flags_t *u = &users[nusers++];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%.*s", (int)(eq - arg), arg);
    if (strlen(eq + 1) >= sizeof u->command) {
        snprintf(why, whylen, "the command is too long");
        return -1;
    }
    snprintf(u->command, sizeof u->command, "%s", eq + 1);
    snprintf(u->tier, sizeof u->tier, "idiomatic");
    snprintf(u->framework, sizeof u->framework, "?");
    snprintf(u->does, sizeof u->does, "?");
    snprintf(u->db_strategy, sizeof u->db_strategy, "?");
    return 0;
}

/* --impl-tier, --impl-framework, --impl-does, --impl-db-strategy, --impl-workloads: a field of
 * the last --impl. */
static int impl_label(const char *arg, size_t off, size_t cap, char *why, size_t whylen)
{
    if (!nusers) {
        snprintf(why, whylen, "comes after the --impl it labels");
        return -1;
    }
    if (!*arg || strlen(arg) >= cap) {
        snprintf(why, whylen, "expected 1 to %zu characters", cap - 1);
        return -1;
    }
    snprintf((char *)&users[nusers - 1] + off, cap, "%s", arg);
    return 0;
}

static int parse_impl_tier(const char *arg, void *dst, char *why, size_t whylen)
{
    return impl_label(arg, offsetof(user_flags_t, tier), sizeof users[0].tier, why, whylen);
}

static int parse_impl_framework(const char *arg, void *dst, char *why, size_t whylen)
{
    return impl_label(arg, offsetof(user_flags_t, framework), sizeof users[0].framework, why,
                      whylen);
}

static int parse_impl_does(const char *arg, void *dst, char *why, size_t whylen)
{
    return impl_label(arg, offsetof(user_flags_t, does), sizeof users[0].does, why, whylen);
}

static int parse_impl_db_strategy(const char *arg, void *dst, char *why, size_t whylen)
{
    return impl_label(arg, offsetof(user_flags_t, db_strategy), sizeof users[0].db_strategy, why,
                      whylen);
}

static int parse_impl_workloads(const char *arg, void *dst, char *why, size_t whylen)
{
    char store[128];
    const char *wl[LAB_MAX_WORKLOADS];
    if (opt_split_list(arg, store, sizeof store, wl, LAB_MAX_WORKLOADS, lab_workload_names,
                       "workloads", why, whylen) < 0 ||
        impl_label(arg, offsetof(user_flags_t, workloads), sizeof users[0].workloads, why, whylen))
        return -1;
    users[nusers - 1].have_workloads = true;
    return 0;
}

static int parse_tiers(const char *arg, void *dst, char *why, size_t whylen)
{
    lab_config_t *cfg = dst;
    static char store[64];
    int n = opt_split_list(arg, store, sizeof store, cfg->tiers, 4, impl_tiers, "tiers", why,
                           whylen);
    if (n < 0)
        return -1;
    cfg->ntiers = n;
    return 0;
}

/* The user's implementations as the lab's impl_t: every workload of the run unless
 * --impl-workloads says which; what does the work and the database strategy "?" unless
 * --impl-does and --impl-db-strategy say. */
static void resolve_users(lab_config_t *cfg)
{
    for (int i = 0; i < nusers; i++) {
        user_flags_t *u = &users[i];
        impl_t *im = &cfg->user[cfg->nuser++];
        *im = (impl_t){.name = u->name, .lang = u->name, .tier = u->tier,
                       .framework = u->framework, .command = u->command};
        static char store[IMPL_MAX][128];
        const char *wl[LAB_MAX_WORKLOADS];
        int nw = 0;
        char why[128];
        if (u->have_workloads)
            nw = opt_split_list(u->workloads, store[i], sizeof store[i], wl, LAB_MAX_WORKLOADS,
                                lab_workload_names, "workloads", why, sizeof why);
        else
            for (int k = 0; k < cfg->nworkloads; k++)
                wl[nw++] = cfg->workloads[k];
        for (int k = 0; k < nw && k < IMPL_MAX_WORKLOADS; k++)
            im->serves[k] = (impl_serves_t){wl[k], u->does, "",
                                            lab_workload(wl[k])->db_reset ? u->db_strategy : NULL};
    }
}

int cmd_run(int argc, char **argv)
{
    static lab_config_t cfg;
    lab_config_init(&cfg);
    decide_opts_t decide = {0};
    size_t len = 0;
    for (int i = 0; i < argc && len + 2 < sizeof cfg.argv_line; i++)
        len += (size_t)snprintf(cfg.argv_line + len, sizeof cfg.argv_line - len, "%s%s",
                                i ? " " : "stackbench ", argv[i]);
    bool dev_again = false, dev_none = false;
    const opt_t own[] = {
        {"workloads", 0, OPT_FN, &cfg, "LIST", "workloads, from echo,csv,sql,grpc (default all four)",
         .fn = parse_workloads},
        {"tiers", 0, OPT_FN, &cfg, "LIST",
         "tiers, from idiomatic,tuned (default both, where they\n"
         "exist)",
         .fn = parse_tiers},
        {"warmup", 0, OPT_DURATION, &cfg.warmup_ns, "DUR",
         "warm-up before it, not measured (default 3s)", .expect = "a duration like 10s"},
        {"rate", 0, OPT_FN, &cfg.rate, "max|N",
         "max: closed loop; N: open loop at N req/s (default max)", .fn = parse_rate},
        {"equal-load", 0, OPT_INT, &cfg.equal_load_pct, "PCT",
         "after each workload's max-rate cells, every implementation\n"
         "open loop at PCT % of the slowest one's maximum, for the\n"
         "tail latency at equal load (default 70; 0: none)",
         .min = 0, .max = 100},
        {"equal-load-duration", 0, OPT_DURATION, &cfg.equal_load_ns, "DUR",
         "measured time of each equal-load cell (default 5s)", .min = NS_PER_S / 10,
         .expect = "a duration like 5s"},
        {"sweep", 0, OPT_BOOL, &cfg.sweep, NULL,
         "also each implementation at 10, 25, 50, 75, 90 and 100 %\n"
         "of its own maximum, open loop (latency-throughput curve)"},
        {"impl", 0, OPT_FN, NULL, "NAME=CMD",
         "an implementation of yours in the same table: CMD (run by\n"
         "/bin/sh) with {port}, {workload}, {pg_url} and {pool} filled\n"
         "in must serve the workload on 127.0.0.1:{port} (repeatable)",
         .fn = parse_impl},
        {"impl-tier", 0, OPT_FN, NULL, "TIER", "the last --impl's tier (default idiomatic)",
         .fn = parse_impl_tier},
        {"impl-framework", 0, OPT_FN, NULL, "TEXT", "the last --impl's framework, for the tables",
         .fn = parse_impl_framework},
        {"impl-does", 0, OPT_FN, NULL, "TEXT",
         "what does the last --impl's work (its JSON or CSV code),\n"
         "for the tables",
         .fn = parse_impl_does},
        {"impl-db-strategy", 0, OPT_FN, NULL, "TEXT",
         "sql: the last --impl's database strategy, for the tables",
         .fn = parse_impl_db_strategy},
        {"impl-workloads", 0, OPT_FN, NULL, "LIST",
         "the workloads the last --impl serves (default: all run)", .fn = parse_impl_workloads},
        {"dev-metrics", 0, OPT_BOOL, &dev_again, NULL,
         "measure each language's builds, binary and dependencies\n"
         "again, even when the cache has them for these sources"},
        {"no-dev-metrics", 0, OPT_BOOL, &dev_none, NULL,
         "no development figures (builds, sizes, dependencies,\n"
         "code lines): a quicker run"},
        {"cpu-profile", 0, OPT_BOOL, &cfg.cpu_profile, NULL,
         "each cell's service profiled by perf while measured:\n"
         "DIR/profiles/WORKLOAD-NAME-TIER/ (flamegraph.svg,\n"
         "profile.pb.gz), its top 10 functions in results.json"},
        {"out", 0, OPT_STR, &cfg.out_dir, "DIR", "where results go (default results)"},
        {"pg-url", 0, OPT_STR, &cfg.pg_url, "URL",
         "sql: create the database on this PostgreSQL server (it is\n"
         "dropped afterwards) instead of starting a throwaway one"},
        {"cpus-db", 0, OPT_CPUS, &cfg.cpus_db, "LIST",
         "sql: CPUs of the throwaway PostgreSQL (default: the\n"
         "service CPUs, shared with the service)",
         .seen = &cfg.have_cpus_db},
    };
    opt_t opts[IMPL_OPTS_FLAGS + sizeof own / sizeof own[0] + DECIDE_OPTS_FLAGS + 1];
    int n = impl_opts_flags(&cfg.impl, "measured time per cell (default 10s)",
                            "connections (default 64)", opts);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        opts[n++] = own[i];
    n += decide_opts_flags(&decide, opts + n);
    opts[n] = (opt_t){0};
    const opt_cmd_t cmd = {
        .name = "run",
        .usage = "run [flags]",
        .about = "Measures the same services written in C, Go and Rust side by side on this machine,\n"
                 "each in its tiers (idiomatic: the libraries a good team reaches for first; tuned:\n"
                 "the fastest known algorithm by hand): each is built if needed, started pinned to\n"
                 "the service CPUs, checked against its workload's contract, warmed up, then loaded\n"
                 "from the load CPUs with the same requests while its memory and CPU are sampled;\n"
                 "then all of a workload's implementations again at one equal open-loop rate, for\n"
                 "their tail latency. Before the cells, what each language costs to develop: a\n"
                 "clean and an incremental build of a copy of its sources, its binary's size and\n"
                 "dependencies, its code lines (kept in ~/.cache/stackbench/dev while the sources\n"
                 "are the same). Prints the tables and writes results.json and results.md; then\n"
                 "the verdict for a profile and the published claims checked (stackbench verdict,\n"
                 "stackbench claims), also in verdict.json, claims.json and results.md; last,\n"
                 "report.html, the page of stackbench report.",
        .opts = opts,
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first < argc)
        opt_fail("run", "unexpected argument '%s'", argv[first]);
    if (dev_again && dev_none)
        opt_fail("run", "--dev-metrics and --no-dev-metrics: one or the other");
    cfg.dev_mode = dev_none ? DEV_SKIP : dev_again ? DEV_MEASURE : DEV_CACHED;
    lab_config_resolve(&cfg);
    resolve_users(&cfg);
    /* A bad profile or prices file is said now, not after the measuring. */
    char err[512];
    if (decide_check(&decide, err, sizeof err) != 0) {
        sb_warn("run", "%s", err);
        return 2;
    }
    /* So is a profile perf cannot record. */
    if (cfg.cpu_profile && prof_check(err, sizeof err) != 0) {
        sb_warn("run", "--cpu-profile: %s", err);
        return 2;
    }

    lab_cell_t *cells = calloc(LAB_MAX_CELLS, sizeof *cells);
    if (!cells) {
        sb_warn("run", "out of memory");
        return 1;
    }
    int ncells = lab_plan(&cfg, cells, LAB_MAX_CELLS);
    if (ncells == 0)
        opt_fail("run", "no implementation of these workloads in these languages and tiers");
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
    char equal[96] = "";
    if (cfg.equal_load_pct > 0 && cfg.rate == 0)
        snprintf(equal, sizeof equal, "; then each at %d %% of its workload's slowest, %gs",
                 cfg.equal_load_pct, (double)cfg.equal_load_ns / NS_PER_S);
    printf("stackbench run: %d cell%s, service on CPU %s, load on CPU %s (%d thread%s)%s, "
           "%d connections, %s, %gs each after %gs warm-up%s\n\n",
           ncells, ncells == 1 ? "" : "s", cs, cl, nload, nload == 1 ? "" : "s", db,
           cfg.impl.connections, cfg.rate > 0 ? "open loop" : "max rate",
           (double)cfg.impl.duration_ns / NS_PER_S, (double)cfg.warmup_ns / NS_PER_S, equal);
    fflush(stdout);
    static dev_report_t dev;
    lab_run(&cfg, cells, ncells, &dev);
    int rc = 0;
    if (lab_write_results(&cfg, cells, ncells, &dev, err, sizeof err)) {
        sb_warn("run", "%s", err);
        rc = 1;
    } else {
        /* The tables, results.md, the verdict, the claims and the page, from the results.json
         * just written, as `stackbench verdict`, `claims` and `report` make them: read once. */
        static decision_t d;
        char page[4200];
        bool loaded = decide_load(&d, cfg.out_dir, &decide, err, sizeof err) == 0;
        if (!loaded) {
            sb_warn("run", "%s", err);
            rc = 1;
        } else {
            table_print(stdout, &d.f);
            printf("\n");
            if (report_write_markdown(&d.f, cfg.out_dir, err, sizeof err) != 0 ||
                decide_after_run(&d, cfg.out_dir, &decide, stdout, err, sizeof err) != 0) {
                sb_warn("run", "%s", err);
                rc = 1;
            }
        }
        printf("\nwritten: %s/results.json, results.md, verdict.json, claims.json\n",
               cfg.out_dir);
        if (cfg.cpu_profile)
            printf("profiles: %s/profiles/*/flamegraph.svg, profile.pb.gz\n", cfg.out_dir);
        if (loaded && report_write_decision(&d, cfg.out_dir, NULL, &decide, page, sizeof page,
                                            err, sizeof err) != 0) {
            sb_warn("run", "%s", err);
            rc = 1;
        } else if (loaded) {
            printf("report:  %s (any browser, offline)\n", page);
        }
    }
    int failed = 0;
    for (int i = 0; i < ncells; i++)
        failed += !cells[i].ok;
    free(cells);
    return rc ? rc : (failed == ncells ? 1 : 0);
}
