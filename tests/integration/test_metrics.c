/* GET /metrics of every service (contracts/telemetry.md), over real sockets: each
 * implementation gets a known set of requests, good and bad (200, 201, 400, 404, 405, 413,
 * 422; for grpc OK and INVALID_ARGUMENT calls, a stream, a health check), then its scrape must
 * count them exactly (http_requests_total by method, route and code, the histograms' _count
 * and +Inf bucket, nothing in flight, the connections), and `promtool check metrics` must find
 * nothing to say about it.
 *
 * The implementations are a table of command lines, so that any language's service can be
 * checked the same way: the Go and Rust peers are in it, and a peer that does not serve
 * /metrics fails, saying so. The sql service needs PostgreSQL: a throwaway cluster is started
 * once for this binary, and without one the sql tests fail. promtool is built by
 * scripts/install.sh into .tools/bin; without it every test fails. */
#define T_TIMEOUT 90
#include "t.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/proc.h"
#include "db/db.h"
#include "http/client.h"
#include "http/grpc.h"
#include "http/h2client.h"
#include "tproc.h"
#include "tsock.h"

static db_t pg;
static bool pg_up;
static char pg_err[1024];

#define GO "go/bin/stackbench-go"
#define RUST "rust/target/release/stackbench-rust"

/* ---- the scrape, read by name and labels (in any order: client_golang sorts them) ---- */

/* Reads `k="v"` pairs at *p (after '{') into k[i], v[i] (unescaped); *p after '}'. The number
 * of pairs, or -1. */
static int parse_labels(const char **p, char k[][64], char v[][256], int max)
{
    int n = 0;
    const char *s = *p;
    while (*s && *s != '}') {
        if (n == max)
            return -1;
        size_t kn = 0;
        while (*s && *s != '=' && kn < 63)
            k[n][kn++] = *s++;
        k[n][kn] = 0;
        if (*s++ != '=' || *s++ != '"')
            return -1;
        size_t vn = 0;
        while (*s && *s != '"' && vn < 255) {
            if (*s == '\\' && s[1]) {
                s++;
                v[n][vn++] = *s == 'n' ? '\n' : *s;
                s++;
            } else {
                v[n][vn++] = *s++;
            }
        }
        v[n][vn] = 0;
        if (*s++ != '"')
            return -1;
        n++;
        if (*s == ',')
            s++;
    }
    if (*s != '}')
        return -1;
    *p = s + 1;
    return n;
}

/* The sum over the samples `name` whose labels include want (k, v, ..., NULL; NULL: every
 * sample of that name), or -1 when there is none. A subset, not an exact match: a language's
 * library may add labels of its own (go-grpc-middleware's grpc_type and grpc_service). */
static double sample(const char *text, const char *name, const char *const *want)
{
    size_t nl = strlen(name);
    double sum = 0;
    bool found = false;
    for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (strncmp(l, name, nl) != 0 || (l[nl] != '{' && l[nl] != ' '))
            continue;
        const char *p = l + nl;
        char k[8][64], v[8][256];
        int n = 0;
        if (*p == '{') {
            p++;
            if ((n = parse_labels(&p, k, v, 8)) < 0)
                continue;
        }
        double val = strtod(p, NULL);
        bool all = true;
        for (int w = 0; want && want[w]; w += 2) {
            bool has = false;
            for (int i = 0; i < n; i++)
                if (strcmp(k[i], want[w]) == 0 && strcmp(v[i], want[w + 1]) == 0)
                    has = true;
            all &= has;
        }
        if (all) {
            sum += val;
            found = true;
        }
    }
    return found ? sum : -1;
}

#define CHECK_SAMPLE(text, name, want, n)                                                          \
    do {                                                                                           \
        double t_got_ = sample(text, name, want);                                                  \
        if (t_got_ != (double)(n)) {                                                               \
            fprintf(stderr, "    %s:%d: %s%s: %g, want %g\n", __FILE__, __LINE__, name,            \
                    labels_str(want), t_got_, (double)(n));                                        \
            t_failures++;                                                                          \
        }                                                                                          \
    } while (0)

static const char *labels_str(const char *const *want)
{
    static char s[512];
    size_t n = 0;
    s[0] = 0;
    for (int i = 0; want && want[i]; i += 2)
        n += (size_t)snprintf(s + n, sizeof s - n, "%s%s=\"%s\"", i ? "," : "{", want[i],
                              want[i + 1]);
    if (want && want[0])
        snprintf(s + n, sizeof s - n, "}");
    return s;
}

static char scrape_buf[1 << 18];

/* GET /metrics on a new connection to port: the body, NUL-terminated, or NULL (why on
 * stderr). */
static const char *scrape(int port, const char *who)
{
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
    ssize_t n = http_roundtrip(port, req, sizeof req - 1, scrape_buf, sizeof scrape_buf - 1);
    if (n <= 0) {
        fprintf(stderr, "    %s: no answer to GET /metrics on port %d\n", who, port);
        return NULL;
    }
    scrape_buf[n] = 0;
    int st = resp_status(scrape_buf);
    char ct[128] = "";
    resp_header(scrape_buf, "Content-Type", ct, sizeof ct);
    if (st != 200) {
        fprintf(stderr, "    %s: GET /metrics answered %d: this implementation does not serve "
                        "/metrics (contracts/telemetry.md)\n", who, st);
        return NULL;
    }
    if (strncmp(ct, "text/plain; version=0.0.4", 25) != 0) {
        fprintf(stderr, "    %s: /metrics Content-Type '%s', want text/plain; version=0.0.4\n",
                who, ct);
        t_failures++;
    }
    return resp_body(scrape_buf);
}

/* `promtool check metrics` on text: it must exit 0 and say nothing. */
static void promtool_check(const char *text, const char *who)
{
    char tool[1024], file[] = "/tmp/sb-metrics-XXXXXX";
    const char *root = getenv("SB_ROOT");
    snprintf(tool, sizeof tool, "%s/.tools/bin/promtool", root ? root : ".");
    if (access(tool, X_OK) != 0) {
        fprintf(stderr, "    %s: promtool missing (%s): scripts/install.sh builds it\n", who, tool);
        t_failures++;
        return;
    }
    int fd = mkstemp(file);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        fprintf(stderr, "    cannot write %s\n", file);
        t_failures++;
        return;
    }
    close(fd);
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "exec '%s' check metrics < %s", tool, file);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    static char out[1 << 14];
    int rc = t_run(argv, out, sizeof out, 30000);
    if (rc != 0 || out[0]) {
        fprintf(stderr, "    %s: promtool check metrics: exit %d\n%s\n", who, rc, out);
        t_failures++;
    }
    unlink(file);
}

/* ---- the implementations ---- */

typedef struct {
    const char *lang;       /* "c", "go", "rust" */
    const char *bin;        /* NULL: stackbench serve; else a peer's binary (t_peer) */
    const char *tier;       /* a peer's --tier, or NULL */
} impl_t;

static const impl_t impls[] = {
    {"c", NULL, NULL},
    {"go", GO, "idiomatic"},
    {"rust", RUST, "idiomatic"},
};

static const impl_t *impl_of(const char *lang)
{
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        if (strcmp(impls[i].lang, lang) == 0)
            return &impls[i];
    return NULL;
}

/* The command line of lang's workload, extra flags after it. */
static int command(const char *lang, const char *workload, const char *const *extra,
                   const char *argv[], int max)
{
    const impl_t *im = impl_of(lang);
    int n = 0;
    if (!im->bin) {
        argv[n++] = t_stackbench();
        argv[n++] = "serve";
    } else {
        argv[n++] = t_peer(im->bin);
    }
    argv[n++] = workload;
    if (im->tier && strcmp(workload, "grpc") != 0) {
        argv[n++] = "--tier";
        argv[n++] = im->tier;
    }
    argv[n++] = "--port";
    argv[n++] = "0";
    for (int i = 0; extra && extra[i] && n < max - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return n;
}

/* ---- HTTP workloads ---- */

typedef struct {
    const char *method, *path;
    const char *body;       /* NULL: none */
    size_t big;             /* a body of this many bytes instead (over the limit) */
    bool head_only;         /* big: send only the head (the C service answers at once) */
    const char *raw;        /* the whole request instead of the above */
    int status;             /* the answer it must get */
    const char *route;      /* its route label; NULL: not counted (/health) */
    const char *label;      /* its method label; NULL: method */
    bool c_only;
} http_req_t;

/* Sends r on a new connection: the status of its answer, or -1. */
static int send_req(int port, const http_req_t *r)
{
    static char req[1 << 21];
    size_t n;
    if (r->raw) {
        n = (size_t)snprintf(req, sizeof req, "%s", r->raw);
    } else {
        size_t blen = r->big ? r->big : r->body ? strlen(r->body) : 0;
        n = (size_t)snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\n", r->method, r->path);
        if (r->body || r->big)
            n += (size_t)snprintf(req + n, sizeof req - n,
                                  "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
        n += (size_t)snprintf(req + n, sizeof req - n, "\r\n");
        if (r->big && !r->head_only) {
            memset(req + n, 'a', r->big);
            req[n] = '"';
            req[n + r->big - 1] = '"';
            n += r->big;
        } else if (r->body) {
            n += (size_t)snprintf(req + n, sizeof req - n, "%s", r->body);
        }
    }
    /* http/client reads while it sends: a service that answers 413 early and closes (the
     * peers' do, unread body and all) would otherwise reset the connection under the answer. */
    http_client_t hc;
    char err[128];
    if (http_client_open(&hc, "127.0.0.1", port, 5 * NS_PER_S, err, sizeof err) < 0)
        return -1;
    int status = -1;
    http_msg_t m;
    http_frame_t f;
    http_client_send(&hc, req, n, 10 * NS_PER_S);
    if (http_client_answer(&hc, strcmp(r->method ? r->method : "", "HEAD") == 0, 10 * NS_PER_S,
                           &m, &f) == 1)
        status = m.status;
    http_client_close(&hc);
    return status;
}

#define CSV_OK "timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
#define CSV_BAD "timestamp,symbol,price,quantity\n1,\"AAPL,1.0,1\n"

static const http_req_t echo_reqs[] = {
    {"POST", "/echo", "{\"a\": 1}", .status = 200, .route = "/echo"},
    {"POST", "/echo", "[1, 2, 3]", .status = 200, .route = "/echo"},
    {"POST", "/echo", "{}", .status = 200, .route = "/echo"},
    {"POST", "/echo", "{\"a\":", .status = 400, .route = "/echo"},
    {"POST", "/echo", "nope", .status = 400, .route = "/echo"},
    {"GET", "/echo", .status = 405, .route = "/echo"},
    {"GET", "/nowhere", .status = 404, .route = "other"},
    {"POST", "/echo", .big = 1048600, .status = 413, .route = "/echo"},
    {"GET", "/health", .status = 200},
    /* No head to read a method or a path from: OTHER on route other. */
    {.raw = "GARBAGE\r\n\r\n", .status = 400, .route = "other", .label = "OTHER", .c_only = true},
    {}};

static const http_req_t csv_reqs[] = {
    {"POST", "/csv", CSV_OK, .status = 200, .route = "/csv"},
    {"POST", "/csv", CSV_OK, .status = 200, .route = "/csv"},
    {"POST", "/csv", CSV_BAD, .status = 400, .route = "/csv"},
    {"GET", "/csv", .status = 405, .route = "/csv"},
    {"DELETE", "/x", .status = 404, .route = "other"},
    {"POST", "/csv", .big = 20000000, .head_only = true, .status = 413, .route = "/csv",
     .c_only = true},
    {"GET", "/health", .status = 200},
    {}};

static const http_req_t sql_reqs[] = {
    {"GET", "/accounts/1", .status = 200, .route = "/accounts/{id}"},
    {"GET", "/accounts/2", .status = 200, .route = "/accounts/{id}"},
    {"GET", "/accounts/20000", .status = 404, .route = "/accounts/{id}"},
    {"GET", "/accounts/abc", .status = 400, .route = "/accounts/{id}"},
    {"GET", "/accounts?ids=1,2", .status = 200, .route = "/accounts"},
    {"POST", "/orders", "{\"account_id\":1,\"amount\":5}", .status = 201, .route = "/orders"},
    {"POST", "/orders", "{\"account_id\":1,\"amount\":0}", .status = 422, .route = "/orders"},
    {"POST", "/orders", "{\"account_id\":", .status = 400, .route = "/orders"},
    {"POST", "/orders", .big = 1048600, .status = 413, .route = "/orders"},
    {"GET", "/nowhere", .status = 404, .route = "other"},
    {"GET", "/health", .status = 200},
    {}};

/* Every request of reqs that lang sends, then the scrape (once every connection but the
 * scrape's is seen closed), checked against them. */
static void http_metrics(const char *lang, const char *workload, const http_req_t *reqs,
                         const char *const *extra)
{
    bool c = strcmp(lang, "c") == 0;
    const char *argv[24];
    command(lang, workload, extra, argv, 24);
    t_server_t p;
    if (t_start(&p, argv) != 0) {
        t_failures++;
        return;
    }
    char who[64];
    snprintf(who, sizeof who, "%s %s", lang, workload);
    int conns = 0, counted = 0;
    for (const http_req_t *r = reqs; r->status; r++) {
        if (r->c_only && !c)
            continue;
        int st = send_req(p.port, r);
        conns++;
        counted += r->route != NULL;
        if (st != r->status) {
            fprintf(stderr, "    %s: %s %s answered %d, want %d\n", who,
                    r->raw ? "(raw)" : r->method, r->raw ? "" : r->path, st, r->status);
            t_failures++;
        }
    }
    /* The server sees the clients' closes when it reads their ends: scrape until it has (a
     * scrape is a connection of its own, open while it is answered). */
    const char *text = NULL;
    int scrapes = 0;
    for (int tries = 0; tries < 100; tries++) {
        text = scrape(p.port, who);
        scrapes++;
        double open = text ? sample(text, "http_connections_open", NULL) : -1;
        if (!text || open == 1 || open < 0)
            break;
        usleep(50 * 1000);
    }
    if (!text) {
        t_failures++;
        t_stop(&p, SIGTERM, 5000);
        return;
    }
    /* http_requests_total{method,route,code}: each combination as often as it was sent. */
    for (const http_req_t *r = reqs; r->status; r++) {
        if ((r->c_only && !c) || !r->route)
            continue;
        int n = 0;
        for (const http_req_t *q = reqs; q->status; q++)
            if (!(q->c_only && !c) && q->route && q->status == r->status &&
                strcmp(q->route, r->route) == 0 &&
                strcmp(q->label ? q->label : q->method, r->label ? r->label : r->method) == 0)
                n++;
        char code[8];
        snprintf(code, sizeof code, "%d", r->status);
        const char *want[] = {"method", r->label ? r->label : r->method, "route", r->route,
                              "code", code, NULL};
        CHECK_SAMPLE(text, "http_requests_total", want, n);
    }
    /* Nothing else, /health and the scrapes included. */
    CHECK_SAMPLE(text, "http_requests_total", NULL, counted);
    CHECK_SAMPLE(text, "http_request_duration_seconds_count", NULL, counted);
    for (const http_req_t *r = reqs; r->status; r++) {
        if ((r->c_only && !c) || !r->route)
            continue;
        int n = 0;
        for (const http_req_t *q = reqs; q->status; q++)
            if (!(q->c_only && !c) && q->route && strcmp(q->route, r->route) == 0)
                n++;
        const char *route[] = {"route", r->route, NULL};
        CHECK_SAMPLE(text, "http_request_duration_seconds_count", route, n);
        const char *inf[] = {"route", r->route, "le", "+Inf", NULL};
        CHECK_SAMPLE(text, "http_request_duration_seconds_bucket", inf, n);
        CHECK(sample(text, "http_response_body_bytes_total", route) > 0);
        CHECK(sample(text, "http_request_body_bytes_total", route) >= 0);
    }
    CHECK_SAMPLE(text, "http_requests_in_flight", NULL, 0);
    /* Connections: every request's, and every scrape's so far; only the last one open. */
    if (c || sample(text, "http_connections_total", NULL) >= 0) {
        CHECK_SAMPLE(text, "http_connections_total", NULL, conns + scrapes);
        CHECK_SAMPLE(text, "http_connections_open", NULL, 1);
    }
    CHECK(sample(text, "process_resident_memory_bytes", NULL) > 0);
    CHECK(sample(text, "process_cpu_seconds_total", NULL) >= 0);
    CHECK(sample(text, "process_open_fds", NULL) > 0);
    CHECK(sample(text, "process_start_time_seconds", NULL) > 1.7e9);
    CHECK(strstr(text, "grpc_server_") == NULL);
    if (strcmp(workload, "sql") == 0) {
        CHECK_SAMPLE(text, "sql_pool_size", NULL, 4);
        CHECK_SAMPLE(text, "sql_unavailable_total", NULL, 0);
        CHECK_SAMPLE(text, "sql_errors_total", NULL, 0);
        CHECK(sample(text, "sql_pool_waits_total", NULL) >= 0);
        if (c)
            CHECK_SAMPLE(text, "sql_pool_connections", NULL, 4);
    } else {
        CHECK(strstr(text, "sql_") == NULL);
    }
    if (c && strcmp(workload, "echo") == 0) {
        /* The bodies the handler read: the 413's was never read. */
        size_t body = 0;
        for (const http_req_t *r = reqs; r->status; r++)
            if (r->body && strcmp(r->path, "/echo") == 0)
                body += strlen(r->body);
        const char *route[] = {"route", "/echo", NULL};
        CHECK_SAMPLE(text, "http_request_body_bytes_total", route, body);
    }
    if (t_failures)
        fprintf(stderr, "--- %s /metrics:\n%s---\n", who, text);
    promtool_check(text, who);
    CHECK_INT(t_stop(&p, SIGTERM, 5000), 0);
}

TEST(c_echo_metrics_count_every_request) { http_metrics("c", "echo", echo_reqs, NULL); }
TEST(c_csv_metrics_count_every_request) { http_metrics("c", "csv", csv_reqs, NULL); }
TEST(go_echo_metrics_count_every_request) { http_metrics("go", "echo", echo_reqs, NULL); }
TEST(go_csv_metrics_count_every_request) { http_metrics("go", "csv", csv_reqs, NULL); }
TEST(rust_echo_metrics_count_every_request) { http_metrics("rust", "echo", echo_reqs, NULL); }
TEST(rust_csv_metrics_count_every_request) { http_metrics("rust", "csv", csv_reqs, NULL); }

static void sql_metrics(const char *lang)
{
    if (!pg_up) {
        fprintf(stderr, "    no PostgreSQL for the sql service: %s\n", pg_err);
        t_failures++;
        return;
    }
    const char *extra[] = {"--pg-url", pg.url, "--pool", "4", NULL};
    http_metrics(lang, "sql", sql_reqs, extra);
}

TEST(c_sql_metrics_count_every_request) { sql_metrics("c"); }

/* The postmaster and every process it forked, stopped (SIGSTOP) or resumed (SIGCONT). */
static void signal_cluster(int sig)
{
    kill(pg.pid, sig);
    pid_t kids[512];
    int n = proc_children(pg.pid, kids, 512);
    for (int i = 0; i < n; i++)
        kill(kids[i], sig);
}

static int get_account(int port)
{
    static const http_req_t r = {"GET", "/accounts/1"};
    return send_req(port, &r);
}

/* A database that stops answering, then comes back: every 503 is in sql_unavailable_total and
 * in http_requests_total, the connections closed for not answering are errors, and the pool
 * is whole again after. */
TEST(c_sql_metrics_count_a_hung_database)
{
    if (!pg_up) {
        fprintf(stderr, "    no PostgreSQL for the sql service: %s\n", pg_err);
        t_failures++;
        return;
    }
    const char *argv[] = {t_stackbench(), "serve", "sql", "--port", "0", "--pg-url", pg.url,
                          "--pool", "2", NULL};
    t_server_t p;
    if (t_start(&p, argv) != 0) {
        t_failures++;
        return;
    }
    int ok = get_account(p.port) == 200, unavailable = 0;
    CHECK_INT(ok, 1);
    signal_cluster(SIGSTOP);
    int st = get_account(p.port);
    signal_cluster(SIGCONT);
    CHECK_INT(st, 503);
    unavailable += st == 503;
    ok += st == 200;
    /* Back: until three answers in a row are 200 (the pool reconnects). */
    for (int i = 0, run = 0; i < 50 && run < 3; i++) {
        st = get_account(p.port);
        run = st == 200 ? run + 1 : 0;
        ok += st == 200;
        unavailable += st == 503;
        if (run < 3)
            usleep(100 * 1000);
    }
    const char *text = NULL;
    for (int tries = 0; tries < 50; tries++) {
        text = scrape(p.port, "c sql");
        if (!text || sample(text, "sql_pool_connections", NULL) == 2)
            break;
        usleep(100 * 1000);
    }
    if (!text) {
        t_failures++;
    } else {
        const char *ok200[] = {"method", "GET", "route", "/accounts/{id}", "code", "200", NULL};
        const char *no503[] = {"method", "GET", "route", "/accounts/{id}", "code", "503", NULL};
        CHECK_SAMPLE(text, "http_requests_total", ok200, ok);
        CHECK_SAMPLE(text, "http_requests_total", no503, unavailable);
        CHECK_SAMPLE(text, "sql_unavailable_total", NULL, unavailable);
        CHECK(sample(text, "sql_errors_total", NULL) >= 1);
        CHECK_SAMPLE(text, "sql_pool_size", NULL, 2);
        CHECK_SAMPLE(text, "sql_pool_connections", NULL, 2);
        CHECK_SAMPLE(text, "http_requests_in_flight", NULL, 0);
        if (t_failures)
            fprintf(stderr, "--- c sql /metrics:\n%s---\n", text);
        promtool_check(text, "c sql");
    }
    CHECK_INT(t_stop(&p, SIGTERM, 15000), 0);
}
TEST(go_sql_metrics_count_every_request) { sql_metrics("go"); }
TEST(rust_sql_metrics_count_every_request) { sql_metrics("rust"); }

/* ---- grpc: the calls over h2c, the scrape on --metrics-port ---- */

/* A free TCP port on 127.0.0.1 (bound, read and released: the server binds it next). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* One call: msg (protobuf bytes) behind its gRPC prefix. The grpc-status, or -1. */
static int grpc_call(h2client_t *h, const char *path, const uint8_t *msg, size_t n,
                     uint64_t *messages)
{
    uint8_t body[64];
    grpc_prefix_write(body, (uint32_t)n);
    if (n)
        memcpy(body + GRPC_PREFIX, msg, n);
    h2client_chunk_t chunk = {(const char *)body, GRPC_PREFIX + n};
    h2client_field_t hdr[] = {{"content-type", "application/grpc"}, {"te", "trailers"}};
    h2client_request_t r = {.method = "POST", .path = path, .headers = hdr, .nheaders = 2,
                            .body = &chunk, .nbody = 1, .cancel_after = -1};
    h2client_answer_t a;
    int status = -1;
    if (h2client_call(h, &r, &a, 5 * NS_PER_S) == H2CLIENT_OK) {
        const char *s = h2client_field(&a.trailers, "grpc-status");
        if (!s)
            s = h2client_field(&a.headers, "grpc-status"); /* trailers-only */
        status = s ? atoi(s) : -1;
        if (messages) {
            /* Count the messages by their prefixes. */
            *messages = 0;
            const uint8_t *d = (const uint8_t *)buf_start(&a.data);
            for (size_t at = 0; at + GRPC_PREFIX <= buf_size(&a.data); (*messages)++)
                at += GRPC_PREFIX + ((size_t)d[at + 1] << 24 | (size_t)d[at + 2] << 16 |
                                     (size_t)d[at + 3] << 8 | d[at + 4]);
        }
    }
    h2client_answer_free(&a);
    return status;
}

static void grpc_metrics(const char *lang)
{
    bool c = strcmp(lang, "c") == 0;
    int mport = free_port();
    char mp[16];
    snprintf(mp, sizeof mp, "%d", mport);
    const char *extra[] = {"--metrics-port", mp, NULL};
    const char *argv[24];
    command(lang, "grpc", extra, argv, 24);
    t_server_t p;
    if (t_start(&p, argv) != 0) {
        t_failures++;
        return;
    }
    char who[64], err[256];
    snprintf(who, sizeof who, "%s grpc", lang);
    h2client_t *h = h2client_open("127.0.0.1", p.port, 5 * NS_PER_S, err, sizeof err);
    if (!h) {
        fprintf(stderr, "    %s: %s\n", who, err);
        t_failures++;
        t_stop(&p, SIGTERM, 5000);
        return;
    }
    static const uint8_t quote_ok[] = {0x0a, 4, 'A', 'A', 'P', 'L'};
    static const uint8_t quote_bad[] = {0x0a, 4, 'a', 'a', 'p', 'l'};
    static const uint8_t stream3[] = {0x0a, 4, 'M', 'S', 'F', 'T', 0x10, 3, 0x18, 2};
    uint64_t msgs = 0;
    CHECK_INT(grpc_call(h, "/stackbench.v1.Ticks/Quote", quote_ok, sizeof quote_ok, NULL), 0);
    CHECK_INT(grpc_call(h, "/stackbench.v1.Ticks/Quote", quote_ok, sizeof quote_ok, NULL), 0);
    CHECK_INT(grpc_call(h, "/stackbench.v1.Ticks/Quote", quote_bad, sizeof quote_bad, NULL),
              GRPC_INVALID_ARGUMENT);
    CHECK_INT(grpc_call(h, "/stackbench.v1.Ticks/Stream", stream3, sizeof stream3, &msgs), 0);
    CHECK_INT(msgs, 3);
    CHECK_INT(grpc_call(h, "/grpc.health.v1.Health/Check", NULL, 0, NULL), 0);
    /* A method the service does not have is no call of its (as go-grpc-middleware counts). */
    CHECK_INT(grpc_call(h, "/stackbench.v1.Ticks/Nope", NULL, 0, NULL), GRPC_UNIMPLEMENTED);

    /* Scraped while the connection is still open: one open, one in all. */
    const char *text = scrape(mport, who);
    if (!text) {
        t_failures++;
    } else {
        const char *quote[] = {"grpc_method", "Quote", NULL};
        const char *stream[] = {"grpc_method", "Stream", NULL};
        const char *check[] = {"grpc_method", "Check", NULL};
        CHECK_SAMPLE(text, "grpc_server_started_total", quote, 3);
        CHECK_SAMPLE(text, "grpc_server_started_total", stream, 1);
        CHECK_SAMPLE(text, "grpc_server_started_total", check, 1);
        /* Nothing else counted (C; grpc-go's UnknownServiceHandler, which the Go peer has for
         * its `served N`, runs the interceptors: Go counts the unknown method too). */
        if (c)
            CHECK_SAMPLE(text, "grpc_server_started_total", NULL, 5);
        const char *q_ok[] = {"grpc_method", "Quote", "grpc_code", "OK", NULL};
        const char *q_bad[] = {"grpc_method", "Quote", "grpc_code", "InvalidArgument", NULL};
        const char *s_ok[] = {"grpc_method", "Stream", "grpc_code", "OK", NULL};
        const char *c_ok[] = {"grpc_method", "Check", "grpc_code", "OK", NULL};
        CHECK_SAMPLE(text, "grpc_server_handled_total", q_ok, 2);
        CHECK_SAMPLE(text, "grpc_server_handled_total", q_bad, 1);
        CHECK_SAMPLE(text, "grpc_server_handled_total", s_ok, 1);
        CHECK_SAMPLE(text, "grpc_server_handled_total", c_ok, 1);
        if (c)
            CHECK_SAMPLE(text, "grpc_server_handled_total", NULL, 5);
        const char *s_meta[] = {"grpc_type", "server_stream", "grpc_service",
                                "stackbench.v1.Ticks", "grpc_method", "Stream", NULL};
        CHECK_SAMPLE(text, "grpc_server_started_total", s_meta, 1);
        CHECK_SAMPLE(text, "grpc_server_msg_received_total", quote, 3);
        CHECK_SAMPLE(text, "grpc_server_msg_received_total", stream, 1);
        CHECK_SAMPLE(text, "grpc_server_msg_sent_total", quote, 2);
        CHECK_SAMPLE(text, "grpc_server_msg_sent_total", stream, 3);
        CHECK_SAMPLE(text, "grpc_server_msg_sent_total", check, 1);
        CHECK_SAMPLE(text, "grpc_server_handling_seconds_count", quote, 3);
        CHECK_SAMPLE(text, "grpc_server_handling_seconds_count", stream, 1);
        const char *inf[] = {"grpc_method", "Quote", "le", "+Inf", NULL};
        CHECK_SAMPLE(text, "grpc_server_handling_seconds_bucket", inf, 3);
        CHECK(strstr(text, "http_requests_total") == NULL);
        if (c || sample(text, "http_connections_total", NULL) >= 0) {
            CHECK_SAMPLE(text, "http_connections_total", NULL, 1);
            CHECK_SAMPLE(text, "http_connections_open", NULL, 1);
        }
        CHECK(sample(text, "process_resident_memory_bytes", NULL) > 0);
        if (t_failures)
            fprintf(stderr, "--- %s /metrics:\n%s---\n", who, text);
        promtool_check(text, who);
    }
    /* The metrics port answers /health too, and nothing else. */
    char ans[4096];
    const char health[] = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    CHECK(http_roundtrip(mport, health, sizeof health - 1, ans, sizeof ans) > 0);
    CHECK_INT(resp_status(ans), 200);
    if (c) {
        const char other[] = "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n";
        CHECK(http_roundtrip(mport, other, sizeof other - 1, ans, sizeof ans) > 0);
        CHECK_INT(resp_status(ans), 404);
    }
    h2client_close(h);
    CHECK_INT(t_stop(&p, SIGTERM, 5000), 0);
    /* The scrapes are not calls: served counts the six calls only. */
    if (c)
        CHECK_INT(t_served(&p), 6);
}

TEST(c_grpc_metrics_count_every_call) { grpc_metrics("c"); }
TEST(go_grpc_metrics_count_every_call) { grpc_metrics("go"); }
TEST(rust_grpc_metrics_count_every_call) { grpc_metrics("rust"); }

TEST(c_metrics_port_is_for_grpc_and_checked)
{
    static char out[4096];
    const char *echo[] = {t_stackbench(), "serve", "echo", "--metrics-port", "9100", NULL};
    CHECK_INT(t_run(echo, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "--metrics-port is for the grpc workload only") != NULL);
    const char *same[] = {t_stackbench(), "serve", "grpc", "--port", "9101", "--metrics-port",
                          "9101", NULL};
    CHECK_INT(t_run(same, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "--metrics-port 9101 is the gRPC port") != NULL);
    const char *bad[] = {t_stackbench(), "serve", "grpc", "--metrics-port", "70000", NULL};
    CHECK_INT(t_run(bad, out, sizeof out, 5000), 2);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        T(c_echo_metrics_count_every_request),  T(c_csv_metrics_count_every_request),
        T(c_sql_metrics_count_every_request),   T(c_sql_metrics_count_a_hung_database),
        T(c_grpc_metrics_count_every_call),
        T(c_metrics_port_is_for_grpc_and_checked),
        T(go_echo_metrics_count_every_request), T(go_csv_metrics_count_every_request),
        T(go_sql_metrics_count_every_request),  T(go_grpc_metrics_count_every_call),
        T(rust_echo_metrics_count_every_request), T(rust_csv_metrics_count_every_request),
        T(rust_sql_metrics_count_every_request), T(rust_grpc_metrics_count_every_call),
    };
    /* The database only for a run that has an sql test in it. */
    bool want_pg = false;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        want_pg |= strstr(cases[i].name, "sql") && (argc < 2 || strstr(cases[i].name, argv[1]));
    if (want_pg) {
        db_cleanup_on_signals(&pg);
        pg_up = db_start(&pg, NULL, pg_err, sizeof pg_err) == 0;
    }
    int rc = t_main(cases, sizeof cases / sizeof cases[0], argc, argv);
    if (pg_up)
        db_stop(&pg);
    return rc;
}
