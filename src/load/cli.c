/* `stackbench load URL`: flags (wrk's where wrk has them), the run, the reports. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/opt.h"
#include "http/url.h"
#include "load/cli.h"
#include "load/load.h"
#include "load/report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stackbench load [flags] URL\n"
            "       stackbench load [flags] --mix 'W M T [B]' [--mix ...] http://HOST[:PORT]\n"
            "\n"
            "Loads an HTTP/1.1 server and reports throughput, latency percentiles, status codes\n"
            "and errors. Without -R it runs a closed loop (each connection sends its next request\n"
            "when the answer arrives: maximum throughput). With -R it runs an open loop: requests\n"
            "are due at evenly spaced times and latency is measured from when each was due, so a\n"
            "server stall is charged to every request it delayed (no coordinated omission).\n"
            "\n"
            "With --mix each request picks one of the templates by weight; {rand:LO:HI} in a\n"
            "target or body becomes a random integer in [LO, HI] in every request, e.g.\n"
            "  --mix '80 GET /accounts/{rand:1:10000}'\n"
            "  --mix '20 POST /orders {\"account_id\":{rand:1:10000},\"amount\":{rand:1:100}}'\n"
            "\n"
            "flags:\n"
            "  -c, --connections N    connections kept open (default 10)\n"
            "  -t, --threads N        load threads, each with its own event loop (default 2)\n"
            "  -d, --duration DUR     how long to send, e.g. 10s, 500ms, 2m (default 10s)\n"
            "  -R, --rate N           open loop at N requests/s over all connections\n"
            "  -m, --method METHOD    request method (default GET, or POST with a body)\n"
            "  -H, --header 'N: V'    add a request header (repeatable)\n"
            "      --body STRING      request body\n"
            "      --body-file FILE   request body from a file\n"
            "      --mix 'W M T [B]'  a template: weight, method, target, body (repeatable, up\n"
            "                         to 16; instead of -m/--body and the URL's path)\n"
            "      --seed N           seed of the --mix random numbers (default 1: runs repeat)\n"
            "      --timeout DUR      an answer later than this is a timeout error (default 2s)\n"
            "      --expect-status N  any other status is an error (default: >= 400 is)\n"
            "      --cpus LIST        pin load threads to these CPUs, e.g. 1 or 0,2-3\n"
            "      --json FILE        write every figure as JSON (- for stdout)\n"
            "  -q, --quiet            no summary on stdout (with --json)\n"
            "  -h, --help             this help\n"
            "\n"
            "A live progress line goes to stderr when it is a terminal.\n");
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *p = malloc(cap);
    size_t r;
    while (p && (r = fread(p + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *q = realloc(p, cap *= 2);
            if (!q) {
                free(p);
                p = NULL;
            }
            p = q;
        }
    }
    if (ferror(f)) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = n;
    return p;
}

int cmd_load(int argc, char **argv)
{
    enum { O_BODY = 256, O_BODY_FILE, O_TIMEOUT, O_EXPECT, O_CPUS, O_JSON, O_MIX, O_SEED };
    static const struct option opts[] = {
        {"connections", required_argument, 0, 'c'},
        {"threads", required_argument, 0, 't'},
        {"duration", required_argument, 0, 'd'},
        {"rate", required_argument, 0, 'R'},
        {"method", required_argument, 0, 'm'},
        {"header", required_argument, 0, 'H'},
        {"body", required_argument, 0, O_BODY},
        {"body-file", required_argument, 0, O_BODY_FILE},
        {"mix", required_argument, 0, O_MIX},
        {"seed", required_argument, 0, O_SEED},
        {"timeout", required_argument, 0, O_TIMEOUT},
        {"expect-status", required_argument, 0, O_EXPECT},
        {"cpus", required_argument, 0, O_CPUS},
        {"json", required_argument, 0, O_JSON},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.method = NULL;
    const char *json_path = NULL;
    bool quiet = false;
    static const char *headers[64];
    static mix_template_t mix[MIX_MAX_TEMPLATES];
    char *body_owned = NULL;
    int64_t v;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":c:t:d:R:m:H:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'c':
            if (opt_parse_int(optarg, 1, 100000, &v))
                opt_fail("load", "-c: expected 1..100000 connections, got '%s'", optarg);
            cfg.connections = (int)v;
            break;
        case 't':
            if (opt_parse_int(optarg, 1, 1024, &v))
                opt_fail("load", "-t: expected 1..1024 threads, got '%s'", optarg);
            cfg.threads = (int)v;
            break;
        case 'd':
            if (opt_parse_duration_ns(optarg, &v) || v <= 0)
                opt_fail("load", "-d: expected a duration like 10s, 500ms or 2m, got '%s'", optarg);
            cfg.duration_ns = v;
            break;
        case 'R': {
            char *end;
            errno = 0;
            double r = strtod(optarg, &end);
            if (errno || *end || !(r > 0) || r > 1e9)
                opt_fail("load", "-R: expected a rate in requests/s above 0, got '%s'", optarg);
            cfg.rate = r;
            break;
        }
        case 'm':
            if (!*optarg || strpbrk(optarg, " \t\r\n"))
                opt_fail("load", "-m: expected a method like GET or POST, got '%s'", optarg);
            cfg.method = optarg;
            break;
        case 'H':
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
                opt_fail("load", "-H: expected 'Name: value', got '%s'", optarg);
            if (cfg.nheaders == 64)
                opt_fail("load", "-H: at most 64 headers");
            headers[cfg.nheaders++] = optarg;
            break;
        case O_BODY:
            cfg.body = optarg;
            cfg.body_len = strlen(optarg);
            break;
        case O_BODY_FILE:
            free(body_owned);
            body_owned = read_file(optarg, &cfg.body_len);
            if (!body_owned)
                opt_fail("load", "--body-file: cannot read '%s': %s", optarg, strerror(errno));
            cfg.body = body_owned;
            break;
        case O_MIX: {
            if (cfg.nrequests == MIX_MAX_TEMPLATES)
                opt_fail("load", "--mix: at most %d templates", MIX_MAX_TEMPLATES);
            char why[400];
            if (mix_parse_spec(optarg, &mix[cfg.nrequests], why, sizeof why))
                opt_fail("load", "--mix: %s", why);
            cfg.nrequests++;
            break;
        }
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 0);
            if (errno || *end || !*optarg || *optarg == '-')
                opt_fail("load", "--seed: expected an unsigned 64-bit integer, got '%s'", optarg);
            cfg.seed = s;
            break;
        }
        case O_TIMEOUT:
            if (opt_parse_duration_ns(optarg, &v) || v <= 0)
                opt_fail("load", "--timeout: expected a duration like 2s or 500ms, got '%s'",
                         optarg);
            cfg.timeout_ns = v;
            break;
        case O_EXPECT:
            if (opt_parse_int(optarg, 100, 599, &v))
                opt_fail("load", "--expect-status: expected 100..599, got '%s'", optarg);
            cfg.expect_status = (int)v;
            break;
        case O_CPUS:
            if (opt_parse_cpus(optarg, cfg.cpus) < 1)
                opt_fail("load", "--cpus: expected a CPU list like 1 or 0,2-3, got '%s'", optarg);
            cfg.pin = true;
            break;
        case O_JSON:
            json_path = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        default:
            opt_fail_getopt("load", c, argc, argv);
        }
    }
    if (optind >= argc)
        opt_fail("load", "missing URL (see stackbench load --help)");
    if (optind + 1 < argc)
        opt_fail("load", "unexpected argument '%s'", argv[optind + 1]);
    cfg.url = argv[optind];
    cfg.headers = headers;
    if (cfg.nrequests) {
        if (cfg.method || cfg.body)
            opt_fail("load", "--mix cannot be combined with -m, --body or --body-file: each "
                             "template has its own method and body");
        http_url_t url;
        char uerr[256];
        if (!http_url_parse(cfg.url, &url, uerr, sizeof uerr) && strcmp(url.target, "/") != 0)
            opt_fail("load", "with --mix the URL gives only the host and port (each template "
                             "has its own path), got path '%s'", url.target);
        cfg.requests = mix;
    }
    if (!cfg.method)
        cfg.method = cfg.body ? "POST" : "GET";
    cfg.progress = isatty(STDERR_FILENO) && !quiet;

    load_result_t res;
    char err[512];
    if (load_run(&cfg, &res, err, sizeof err)) {
        fprintf(stderr, "stackbench load: %s\n", err);
        free(body_owned);
        return 1;
    }
    if (!quiet)
        load_report_text(stdout, &cfg, &res);
    int rc = 0;
    if (json_path) {
        buf_t out = BUF_INIT;
        load_report_json(&out, &cfg, &res);
        int wrc = buf_write_file(&out, json_path);
        if (wrc) {
            fprintf(stderr, "stackbench load: cannot write '%s': %s\n", json_path, strerror(-wrc));
            rc = 1;
        }
        buf_free(&out);
    }
    load_result_free(&res);
    free(body_owned);
    return rc;
}
