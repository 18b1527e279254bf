/* `stackbench load URL`: flags (wrk's where wrk has them), the run, the reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "codec/pbjson.h"
#include "core/opt.h"
#include "http/url.h"
#include "load/cli.h"
#include "load/load.h"
#include "load/report.h"
#include "telemetry/trace.h"

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

/* What the flags collect before they become a load_config_t. */
typedef struct {
    load_config_t *cfg;
    const char *headers[64];
    mix_template_t mix[MIX_MAX_TEMPLATES];
    char *body_owned;
    cpuset_t cpus;
    char grpc_path[256];
    bool streams_set;
    const char *proto, *data;      /* --proto FILE, --data JSON: the message, ghz's way */
    const char *import_paths[16];
    int nimport;
} load_flags_t;

static load_flags_t flags;

static int parse_rate(const char *arg, void *dst, char *why, size_t whylen)
{
    char *end;
    errno = 0;
    double r = strtod(arg, &end);
    if (errno || *end || end == arg || !(r > 0) || r > 1e9) {
        snprintf(why, whylen, "expected a rate in requests/s above 0, got '%s'", arg);
        return -1;
    }
    *(double *)dst = r;
    return 0;
}

/* -m METHOD, as hey's; -m N (digits only: no method is a number), as h2load's: N streams per
 * HTTP/2 connection. */
static int parse_method(const char *arg, void *dst, char *why, size_t whylen)
{
    if (*arg && strspn(arg, "0123456789") == strlen(arg)) {
        long n = strtol(arg, NULL, 10);
        if (n < 1 || n > 1000) {
            snprintf(why, whylen, "expected 1..1000 streams per connection, got '%s'", arg);
            return -1;
        }
        flags.cfg->streams = (int)n;
        flags.streams_set = true;
        return 0;
    }
    if (!*arg || strpbrk(arg, " \t\r\n")) {
        snprintf(why, whylen, "expected a method like GET or POST, got '%s'", arg);
        return -1;
    }
    *(const char **)dst = arg;
    return 0;
}

static int parse_import(const char *arg, void *dst, char *why, size_t whylen)
{
    if (flags.nimport == 15) {
        snprintf(why, whylen, "at most 15 import paths");
        return -1;
    }
    flags.import_paths[flags.nimport++] = arg;
    return 0;
}

/* --grpc with --proto and --data: the method looked up in the .proto (protoc compiles it),
 * the JSON encoded as its request type. 0, or -1 with the reason in err. */
static int encode_data(const char *method, char *err, size_t errlen)
{
    pb_schema_t *s = pb_schema_load(flags.proto, flags.import_paths, err, errlen);
    if (!s)
        return -1;
    const pb_method_t *m = pb_method_find(s, method, err, errlen);
    buf_t out = BUF_INIT;
    int rc = -1;
    if (m && m->client_streaming) {
        snprintf(err, errlen, "%s takes a stream of messages: only unary and server-streaming "
                              "methods are loaded", m->name);
    } else if (m && pb_encode_json(s, m->input, flags.data, strlen(flags.data), &out, err,
                                   errlen) == 0) {
        free(flags.body_owned);
        flags.body_owned = malloc(buf_size(&out) ? buf_size(&out) : 1);
        if (flags.body_owned) {
            memcpy(flags.body_owned, buf_start(&out), buf_size(&out));
            flags.cfg->body = flags.body_owned;
            flags.cfg->body_len = buf_size(&out);
            rc = 0;
        }
    }
    buf_free(&out);
    pb_schema_free(s);
    return rc;
}

static int parse_grpc(const char *arg, void *dst, char *why, size_t whylen)
{
    /* "pkg.Service/Method" or "/pkg.Service/Method" */
    const char *p = arg[0] == '/' ? arg + 1 : arg;
    const char *slash = strchr(p, '/');
    if (!slash || slash == p || !slash[1] || strchr(slash + 1, '/') || strpbrk(p, " \t\r\n")) {
        snprintf(why, whylen, "expected a method like pkg.Service/Method, got '%s'", arg);
        return -1;
    }
    snprintf(flags.grpc_path, sizeof flags.grpc_path, "/%s", p);
    flags.cfg->proto = LOAD_GRPC;
    return 0;
}

static int parse_header(const char *arg, void *dst, char *why, size_t whylen)
{
    load_config_t *cfg = flags.cfg;
    if (!strchr(arg, ':') || strpbrk(arg, "\r\n")) {
        snprintf(why, whylen, "expected 'Name: value', got '%s'", arg);
        return -1;
    }
    if (cfg->nheaders == 64) {
        snprintf(why, whylen, "at most 64 headers");
        return -1;
    }
    flags.headers[cfg->nheaders++] = arg;
    return 0;
}

static int parse_body(const char *arg, void *dst, char *why, size_t whylen)
{
    flags.cfg->body = arg;
    flags.cfg->body_len = strlen(arg);
    return 0;
}

static int parse_body_file(const char *arg, void *dst, char *why, size_t whylen)
{
    free(flags.body_owned);
    flags.body_owned = read_file(arg, &flags.cfg->body_len);
    if (!flags.body_owned) {
        snprintf(why, whylen, "cannot read '%s': %s", arg, strerror(errno));
        return -1;
    }
    flags.cfg->body = flags.body_owned;
    return 0;
}

static int parse_mix(const char *arg, void *dst, char *why, size_t whylen)
{
    load_config_t *cfg = flags.cfg;
    if (cfg->nrequests == MIX_MAX_TEMPLATES) {
        snprintf(why, whylen, "at most %d templates", MIX_MAX_TEMPLATES);
        return -1;
    }
    /* mix_parse_spec cuts the spec in place: it keeps a copy that lives as long as the run. */
    char *spec = strdup(arg);
    if (!spec || mix_parse_spec(spec, &flags.mix[cfg->nrequests], why, whylen)) {
        free(spec);
        return -1;
    }
    cfg->nrequests++;
    return 0;
}

int cmd_load(int argc, char **argv)
{
    static load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.method = NULL;
    flags.cfg = &cfg;
    const char *json_path = NULL;
    bool quiet = false, pinned = false, h2 = false;
    const opt_t opts[] = {
        {"connections", 'c', OPT_INT, &cfg.connections, "N", "connections kept open (default 10)",
         .min = 1, .max = 100000, .expect = "1..100000 connections"},
        {"threads", 't', OPT_INT, &cfg.threads, "N",
         "load threads, each with its own event loop (default 2)", .min = 1, .max = 1024,
         .expect = "1..1024 threads"},
        {"duration", 'd', OPT_DURATION, &cfg.duration_ns, "DUR",
         "how long to send, e.g. 10s, 500ms, 2m (default 10s)", .min = 1},
        {"rate", 'R', OPT_FN, &cfg.rate, "N", "open loop at N requests/s over all connections",
         .fn = parse_rate},
        {"method", 'm', OPT_FN, &cfg.method, "METHOD",
         "request method (default GET, or POST with a body); -m N,\n"
         "a number: N streams per HTTP/2 connection, as --streams",
         .fn = parse_method},
        {"h2", 0, OPT_BOOL, &h2, NULL,
         "HTTP/2 over cleartext with prior knowledge (h2c), as h2load"},
        {"streams", 0, OPT_INT, &cfg.streams, "N",
         "HTTP/2: requests in flight per connection (default 1)", .min = 1, .max = 1000,
         .expect = "1..1000 streams", .seen = &flags.streams_set},
        {"grpc", 0, OPT_FN, NULL, "METHOD",
         "gRPC calls of pkg.Service/Method over HTTP/2; the body\n"
         "(--body, --body-file) is the request message, protobuf",
         .fn = parse_grpc},
        {"proto", 0, OPT_STR, &flags.proto, "FILE",
         "gRPC: the .proto of --grpc's method (compiled by protoc)"},
        {"import-path", 0, OPT_FN, NULL, "DIR",
         "gRPC: where --proto's imports are (repeatable)", .fn = parse_import},
        {"data", 0, OPT_STR, &flags.data, "JSON",
         "gRPC: the request message as JSON (proto3's mapping),\n"
         "encoded as the method's request type (needs --proto)"},
        {"grpc-timeout", 0, OPT_DURATION, &cfg.grpc_timeout_ns, "DUR",
         "gRPC: send grpc-timeout (the server's deadline)", .min = 1},
        {"header", 'H', OPT_FN, NULL, "'N: V'", "add a request header (repeatable)",
         .fn = parse_header},
        {"body", 0, OPT_FN, NULL, "STRING", "request body", .fn = parse_body},
        {"body-file", 0, OPT_FN, NULL, "FILE", "request body from a file", .fn = parse_body_file},
        {"mix", 0, OPT_FN, NULL, "'W M T [B]'",
         "a template: weight, method, target, body (repeatable, up\n"
         "to 16; instead of -m/--body and the URL's path)",
         .fn = parse_mix},
        {"seed", 0, OPT_UINT64, &cfg.seed, "N",
         "seed of the --mix random numbers (default 1: runs repeat)"},
        {"timeout", 0, OPT_DURATION, &cfg.timeout_ns, "DUR",
         "an answer later than this is a timeout error (default 2s)", .min = 1,
         .expect = "a duration like 2s or 500ms"},
        {"expect-status", 0, OPT_INT, &cfg.expect_status, "N",
         "any other status is an error (default: >= 400 is)", .min = 100, .max = 599},
        {"cpus", 0, OPT_CPUS, &flags.cpus, "LIST", "pin load threads to these CPUs, e.g. 1 or 0,2-3",
         .seen = &pinned},
        {"trace-ratio", 0, OPT_FN, &cfg.trace_ratio, "R",
         "every request carries a fresh W3C traceparent, sampled\n"
         "for a share R (0 to 1); the trace ids of the 10 slowest\n"
         "sampled requests are printed",
         .fn = trace_parse_ratio},
        {"json", 0, OPT_STR, &json_path, "FILE", "write every figure as JSON (- for stdout)"},
        {"quiet", 'q', OPT_BOOL, &quiet, NULL, "no summary on stdout (with --json)"},
        {0},
    };
    const opt_cmd_t cmd = {
        .name = "load",
        .usage = "load [flags] URL\n"
                 "load [flags] --mix 'W M T [B]' [--mix ...] http://HOST[:PORT]\n"
                 "load [flags] --grpc pkg.Service/Method --body-file MSG http://HOST[:PORT]\n"
                 "load [flags] --grpc pkg.Service/Method --proto FILE --data JSON http://HOST[:PORT]",
        .about = "Loads an HTTP/1.1 server (or HTTP/2: --h2; gRPC: --grpc) and reports throughput,\n"
                 "latency percentiles, status codes and errors. Without -R it runs a closed loop\n"
                 "(each connection sends its next request when the answer arrives: maximum\n"
                 "throughput). With -R it runs an open loop: requests\n"
                 "are due at evenly spaced times and latency is measured from when each was due, so a\n"
                 "server stall is charged to every request it delayed (no coordinated omission).\n"
                 "\n"
                 "With --mix each request picks one of the templates by weight; {rand:LO:HI} in a\n"
                 "target or body becomes a random integer in [LO, HI] in every request, e.g.\n"
                 "  --mix '80 GET /accounts/{rand:1:10000}'\n"
                 "  --mix '20 POST /orders {\"account_id\":{rand:1:10000},\"amount\":{rand:1:100}}'\n"
                 "\n"
                 "--h2 and --grpc keep --streams (-m N) requests in flight on each connection; the\n"
                 "templates of a --mix are sent as written there (no {rand}). --grpc also reports\n"
                 "messages/s, time to the first message, the gaps between messages and the calls\n"
                 "by grpc-status (any but OK is a status error).",
        .opts = opts,
        .more = "A live progress line goes to stderr when it is a terminal.",
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first >= argc)
        opt_fail("load", "missing URL (see stackbench load --help)");
    if (first + 1 < argc)
        opt_fail("load", "unexpected argument '%s'", argv[first + 1]);
    if (pinned)
        cfg.cpus = &flags.cpus;
    cfg.url = argv[first];
    cfg.headers = flags.headers;
    if (h2 && cfg.proto == LOAD_HTTP1)
        cfg.proto = LOAD_H2;
    if (flags.streams_set && cfg.proto == LOAD_HTTP1)
        opt_fail("load", "--streams (-m N) needs --h2 or --grpc: an HTTP/1.1 connection has one "
                         "request in flight");
    if (cfg.grpc_timeout_ns && cfg.proto != LOAD_GRPC)
        opt_fail("load", "--grpc-timeout needs --grpc");
    if (cfg.proto == LOAD_GRPC) {
        http_url_t url;
        char uerr[256];
        if (cfg.nrequests || (cfg.method && strcmp(cfg.method, "POST") != 0))
            opt_fail("load", "--grpc calls one method: no --mix, and -m only as a number of "
                             "streams");
        if (!http_url_parse(cfg.url, &url, uerr, sizeof uerr) && strcmp(url.target, "/") != 0)
            opt_fail("load", "with --grpc the URL gives only the host and port (the method is "
                             "the path), got path '%s'", url.target);
        /* The method's path becomes the URL's. */
        static char grpc_url[600];
        snprintf(grpc_url, sizeof grpc_url, "http://%s%s", url.authority, flags.grpc_path);
        cfg.url = grpc_url;
        cfg.method = "POST";
        if (flags.data || flags.proto) {
            char perr[512];
            if (!flags.data || !flags.proto || cfg.body)
                opt_fail("load", "--data needs --proto, and the message is either --data or "
                                 "--body/--body-file");
            if (encode_data(flags.grpc_path, perr, sizeof perr))
                opt_fail("load", "%s", perr);
        }
    } else if (flags.data || flags.proto || flags.nimport) {
        opt_fail("load", "--proto, --import-path and --data go with --grpc");
    }
    if (cfg.nrequests) {
        if (cfg.method || cfg.body)
            opt_fail("load", "--mix cannot be combined with -m, --body or --body-file: each "
                             "template has its own method and body");
        http_url_t url;
        char uerr[256];
        if (!http_url_parse(cfg.url, &url, uerr, sizeof uerr) && strcmp(url.target, "/") != 0)
            opt_fail("load", "with --mix the URL gives only the host and port (each template "
                             "has its own path), got path '%s'", url.target);
        cfg.requests = flags.mix;
    }
    if (!cfg.method)
        cfg.method = cfg.body ? "POST" : "GET";
    cfg.progress = isatty(STDERR_FILENO) && !quiet;

    load_result_t res;
    char err[512];
    if (load_run(&cfg, &res, err, sizeof err)) {
        sb_warn("load", "%s", err);
        free(flags.body_owned);
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
            sb_warn("load", "cannot write '%s': %s", json_path, strerror(-wrc));
            rc = 1;
        }
        buf_free(&out);
    }
    load_result_free(&res);
    free(flags.body_owned);
    return rc;
}
