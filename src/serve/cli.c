/* `stackbench serve WORKLOAD`: flags, then the server core. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/cpu.h"
#include "core/opt.h"
#include "serve/services.h"

static const server_service_t *const services[] = {&serve_echo, &serve_csv, &serve_sql};

const server_service_t *serve_find(const char *name)
{
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        if (strcmp(services[i]->name, name) == 0)
            return services[i];
    return NULL;
}

const char *serve_names(void) { return "echo, csv, sql"; }

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stackbench serve WORKLOAD [flags]\n"
            "\n"
            "Runs the C implementation of a workload until SIGTERM or SIGINT, then stops\n"
            "accepting, finishes the requests in flight and prints \"served N requests\".\n"
            "\n"
            "workloads:\n"
            "  echo                   POST /echo: the posted JSON minified; GET /health\n"
            "  csv                    POST /csv: per-symbol aggregate of posted trades (CSV)\n"
            "  sql                    GET /accounts/{id}, GET /accounts?ids=, POST /orders over\n"
            "                         PostgreSQL (needs --pg-url)\n"
            "\n"
            "flags:\n"
            "  --host ADDR            address to listen on (default 127.0.0.1)\n"
            "  --port N               port (default 8080; 0 picks a free one, printed on start)\n"
            "  --workers N            event-loop threads, each pinned to one CPU of those the\n"
            "                         process may use (default: one per such CPU)\n"
            "  --body-limit SIZE      largest request body, e.g. 1M, 64k: 413 above (default:\n"
            "                         1M for echo and sql, 16M for csv)\n"
            "  --request-timeout DUR  a started request must arrive within this (default 10s): 408\n"
            "  --idle-timeout DUR     idle keep-alive connections are closed after (default 60s)\n"
            "  --accept MODE          reuseport (a listener per worker, default) or shared (one\n"
            "                         listener, EPOLLEXCLUSIVE)\n"
            "  --pg-url URL           sql: the database, a libpq URL or key=value string, e.g.\n"
            "                         postgresql://bench@127.0.0.1:5432/stackbench\n"
            "  --pool N               sql: database connections in all, split among the workers\n"
            "                         (default 8; at most one worker per connection)\n"
            "  -h, --help             this help\n");
}

int cmd_serve(int argc, char **argv)
{
    enum { O_HOST = 256, O_PORT, O_WORKERS, O_BODY, O_RTO, O_ITO, O_ACCEPT, O_PG_URL, O_POOL };
    static const struct option opts[] = {
        {"host", required_argument, 0, O_HOST},
        {"port", required_argument, 0, O_PORT},
        {"workers", required_argument, 0, O_WORKERS},
        {"body-limit", required_argument, 0, O_BODY},
        {"request-timeout", required_argument, 0, O_RTO},
        {"idle-timeout", required_argument, 0, O_ITO},
        {"accept", required_argument, 0, O_ACCEPT},
        {"pg-url", required_argument, 0, O_PG_URL},
        {"pool", required_argument, 0, O_POOL},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    server_config_t cfg;
    server_config_defaults(&cfg);
    opterr = 0;
    optind = 1;
    int c;
    int64_t v;
    uint64_t u;
    const char *pg_url = NULL;
    int pool = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case O_HOST:
            cfg.host = optarg;
            break;
        case O_PORT:
            if (opt_parse_int(optarg, 0, 65535, &v))
                opt_fail("serve", "--port: expected 0..65535, got '%s'", optarg);
            cfg.port = (int)v;
            break;
        case O_WORKERS:
            if (opt_parse_int(optarg, 1, 1024, &v))
                opt_fail("serve", "--workers: expected 1..1024, got '%s'", optarg);
            cfg.workers = (int)v;
            break;
        case O_BODY:
            if (opt_parse_size(optarg, &u) || u == 0)
                opt_fail("serve", "--body-limit: expected a size like 1M or 65536, got '%s'",
                         optarg);
            cfg.body_limit = u;
            break;
        case O_RTO:
        case O_ITO:
            if (opt_parse_duration_ns(optarg, &v) || v <= 0)
                opt_fail("serve", "--%s: expected a duration like 10s or 500ms, got '%s'",
                         c == O_RTO ? "request-timeout" : "idle-timeout", optarg);
            if (c == O_RTO)
                cfg.request_timeout_ns = v;
            else
                cfg.idle_timeout_ns = v;
            break;
        case O_ACCEPT:
            if (strcmp(optarg, "reuseport") == 0)
                cfg.shared_listener = false;
            else if (strcmp(optarg, "shared") == 0)
                cfg.shared_listener = true;
            else
                opt_fail("serve", "--accept: expected reuseport or shared, got '%s'", optarg);
            break;
        case O_PG_URL:
            pg_url = optarg;
            break;
        case O_POOL:
            if (opt_parse_int(optarg, 1, 10000, &v))
                opt_fail("serve", "--pool: expected 1..10000, got '%s'", optarg);
            pool = (int)v;
            break;
        default:
            opt_fail_getopt("serve", c, argc, argv);
        }
    }
    if (optind >= argc)
        opt_fail("serve", "missing WORKLOAD (one of: %s)", serve_names());
    if (optind + 1 < argc)
        opt_fail("serve", "unexpected argument '%s'", argv[optind + 1]);
    const server_service_t *svc = serve_find(argv[optind]);
    if (!svc)
        opt_fail("serve", "unknown workload '%s' (one of: %s)", argv[optind], serve_names());
    if (svc == &serve_sql) {
        if (!pg_url)
            opt_fail("serve", "sql needs --pg-url URL (the database to serve)");
        if (!pool)
            pool = 8;
        serve_sql_configure(pg_url, pool);
        /* Every worker needs a connection of its own. */
        int cpus[1024];
        int nworkers = cfg.workers ? cfg.workers : cpu_allowed(cpus, 1024);
        cfg.workers = nworkers < pool ? nworkers : pool;
    } else if (pg_url || pool) {
        opt_fail("serve", "--pg-url and --pool are for the sql workload only");
    }
    return server_run(&cfg, svc);
}
