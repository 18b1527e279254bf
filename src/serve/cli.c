/* `stackbench serve WORKLOAD`: the server's flags and each service's own, then the server
 * core. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/opt.h"
#include "http/url.h"
#include "serve/services.h"
#include "telemetry/trace.h"

static const server_service_t *const services[] = {&serve_echo, &serve_csv, &serve_sql, &serve_grpc};
#define NSERVICES (sizeof services / sizeof services[0])
#define MAX_FLAGS 32

const server_service_t *serve_find(const char *name)
{
    for (size_t i = 0; i < NSERVICES; i++)
        if (strcmp(services[i]->name, name) == 0)
            return services[i];
    return NULL;
}

static int parse_accept(const char *arg, void *dst, char *why, size_t whylen)
{
    bool *shared = dst;
    if (strcmp(arg, "reuseport") == 0 || strcmp(arg, "shared") == 0) {
        *shared = strcmp(arg, "shared") == 0;
        return 0;
    }
    snprintf(why, whylen, "expected reuseport or shared, got '%s'", arg);
    return -1;
}

int cmd_serve(int argc, char **argv)
{
    static server_config_t cfg;
    server_config_defaults(&cfg);
    static opt_t opts[MAX_FLAGS];
    static const server_service_t *owner[MAX_FLAGS]; /* NULL: the server's own flag */
    static bool seen[MAX_FLAGS];
    const opt_t server_flags[] = {
        {"host", 0, OPT_STR, &cfg.host, "ADDR", "address to listen on (default 127.0.0.1)"},
        {"port", 0, OPT_INT, &cfg.port, "N",
         "port (default 8080; 0 picks a free one, printed on start)", .min = 0, .max = 65535},
        {"workers", 0, OPT_INT, &cfg.workers, "N",
         "event-loop threads, each pinned to one CPU of those the\n"
         "process may use (default: one per such CPU)",
         .min = 1, .max = 1024},
        {"body-limit", 0, OPT_SIZE, &cfg.body_limit, "SIZE",
         "largest request body, e.g. 1M, 64k: 413 above (default:\n"
         "1M for echo and sql, 16M for csv)",
         .min = 1},
        {"request-timeout", 0, OPT_DURATION, &cfg.request_timeout_ns, "DUR",
         "a started request must arrive within this (default 10s): 408", .min = 1},
        {"idle-timeout", 0, OPT_DURATION, &cfg.idle_timeout_ns, "DUR",
         "idle keep-alive connections are closed after (default 60s)", .min = 1},
        {"accept", 0, OPT_FN, &cfg.shared_listener, "MODE",
         "reuseport (a listener per worker, default) or shared (one\n"
         "listener, EPOLLEXCLUSIVE)",
         .fn = parse_accept},
        {"otlp-endpoint", 0, OPT_STR, &cfg.otlp_endpoint, "URL",
         "send sampled requests' spans over OTLP/HTTP protobuf to\n"
         "URL/v1/traces, e.g. http://127.0.0.1:4318 (default: no\n"
         "tracing)"},
        {"trace-ratio", 0, OPT_FN, &cfg.trace_ratio, "R",
         "the share of requests without a traceparent that are\n"
         "sampled, 0 to 1 (default 0.01); one with a traceparent\n"
         "follows its sampled flag",
         .fn = trace_parse_ratio},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof server_flags / sizeof server_flags[0]; i++)
        opts[n++] = server_flags[i];
    for (size_t s = 0; s < NSERVICES; s++)
        for (const opt_t *f = services[s]->flags; f && f->name && n + 1 < MAX_FLAGS; f++) {
            owner[n] = services[s];
            opts[n++] = *f;
        }
    for (size_t i = 0; i < n; i++)
        opts[i].seen = &seen[i];
    opts[n] = (opt_t){0};

    static buf_t more = BUF_INIT;
    buf_puts(&more, "workloads:\n");
    for (size_t s = 0; s < NSERVICES; s++) {
        buf_printf(&more, "  %-21s", services[s]->name);
        for (const char *a = services[s]->about; *a; a++) {
            buf_append(&more, a, 1);
            if (*a == '\n')
                buf_printf(&more, "%23s", "");
        }
        buf_puts(&more, "\n");
    }
    buf_append(&more, "", 1); /* a C string for the help */
    const opt_cmd_t cmd = {
        .name = "serve",
        .usage = "serve WORKLOAD [flags]",
        .about = "Runs the C implementation of a workload until SIGTERM or SIGINT, then stops\n"
                 "accepting, finishes the requests in flight and prints \"served N requests\".",
        .opts = opts,
        .more = buf_start(&more),
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first >= argc)
        opt_fail("serve", "missing WORKLOAD (one of: echo, csv, sql, grpc)");
    if (first + 1 < argc)
        opt_fail("serve", "unexpected argument '%s'", argv[first + 1]);
    const server_service_t *svc = serve_find(argv[first]);
    if (!svc)
        opt_fail("serve", "unknown workload '%s' (one of: echo, csv, sql, grpc)", argv[first]);
    for (size_t i = 0; i < n; i++)
        if (seen[i] && owner[i] && owner[i] != svc)
            opt_fail("serve", "--%s is for the %s workload only", opts[i].name, owner[i]->name);
    char err[512];
    http_url_t otlp_url;
    if (cfg.otlp_endpoint && http_url_parse(cfg.otlp_endpoint, &otlp_url, err, sizeof err))
        opt_fail("serve", "--otlp-endpoint: %s", err);
    if (svc->configure && svc->configure(&cfg, err, sizeof err))
        opt_fail("serve", "%s", err);
    return server_run(&cfg, svc);
}
