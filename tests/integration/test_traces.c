/* Traces against a real OpenTelemetry Collector (.tools/bin/otelcol, scripts/tools/otelcol:
 * the OTLP/HTTP receiver on a free 127.0.0.1 port, the file exporter writing JSON to a temp
 * file). Each service runs with --otlp-endpoint and --trace-ratio 1, gets requests (some with
 * a traceparent), is stopped (which flushes its spans), and the spans the collector wrote are
 * checked: one per request, names and attributes of contracts/telemetry.md, parent ids and
 * trace ids from the traceparent, sql's statement spans under their request's; a traceparent
 * with sampled=0 and --trace-ratio 0 make none. With no collector, a slow one, or one killed
 * mid-run, the service answers every request, and spans received + spans it counted dropped
 * == spans made.
 *
 * The table of implementations has the Go and Rust peers too. */
#define T_TIMEOUT 120
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/proc.h"
#include "db/db.h"
#include "http/grpc.h"
#include "http/h2client.h"
#include "jsonq.h"
#include "tproc.h"
#include "tsock.h"

/* ---- the collector ---- */

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
    char file[128];      /* the spans, one ExportTraceServiceRequest as JSON a line */
    char endpoint[64];   /* http://127.0.0.1:PORT */
} coll_t;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &al)) {
        fprintf(stderr, "    cannot find a free port: %s\n", strerror(errno));
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static const char *otelcol_path(void)
{
    static char path[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(path, sizeof path, "%s/.tools/bin/otelcol", root ? root : ".");
    return path;
}

/* Starts the collector and waits until its receiver takes connections. Fails the test when
 * the collector is missing or does not come up. */
static void coll_start(coll_t *c)
{
    memset(c, 0, sizeof *c);
    if (access(otelcol_path(), X_OK) != 0) {
        fprintf(stderr, "    %s: missing (scripts/install.sh builds it)\n", otelcol_path());
        exit(1);
    }
    snprintf(c->dir, sizeof c->dir, "/tmp/sb-otel-XXXXXX");
    if (!mkdtemp(c->dir)) {
        fprintf(stderr, "    mkdtemp: %s\n", strerror(errno));
        exit(1);
    }
    c->port = free_port();
    snprintf(c->file, sizeof c->file, "%s/spans.json", c->dir);
    snprintf(c->endpoint, sizeof c->endpoint, "http://127.0.0.1:%d", c->port);
    char cfg[160], logp[160];
    snprintf(cfg, sizeof cfg, "%s/config.yaml", c->dir);
    snprintf(logp, sizeof logp, "%s/otelcol.log", c->dir);
    FILE *f = fopen(cfg, "w");
    if (!f) {
        fprintf(stderr, "    %s: %s\n", cfg, strerror(errno));
        exit(1);
    }
    /* No telemetry of its own: its metrics would listen on port 8888. */
    fprintf(f,
            "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:%d\n"
            "exporters:\n  file:\n    path: %s\n    format: json\n    flush_interval: 100ms\n"
            "service:\n  telemetry:\n    metrics:\n      level: none\n    logs:\n      level: warn\n"
            "  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [file]\n",
            c->port, c->file);
    fclose(f);
    int log = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char cfgarg[200], err[256];
    snprintf(cfgarg, sizeof cfgarg, "--config=%s", cfg);
    const char *argv[] = {otelcol_path(), cfgarg, NULL};
    proc_opts_t o = {.out = log, .err = log, .deathsig = SIGKILL};
    c->pid = proc_spawn(argv, &o, err, sizeof err);
    close(log);
    if (c->pid < 0) {
        fprintf(stderr, "    otelcol: %s\n", err);
        exit(1);
    }
    for (int64_t end = clock_now_ns() + 30 * NS_PER_S; clock_now_ns() < end;) {
        int fd = sock_connect(c->port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        int st;
        if (proc_wait(c->pid, 50 * NS_PER_MS, &st) == 1)
            break;
    }
    char out[4096] = "";
    buf_t b = BUF_INIT;
    if (buf_read_file(&b, logp) == 0)
        snprintf(out, sizeof out, "%.*s", (int)buf_size(&b), buf_start(&b));
    fprintf(stderr, "    otelcol did not come up on port %d:\n%s\n", c->port, out);
    exit(1);
}

/* Stops it (the file exporter writes what it has), or kills it. */
static void coll_stop(coll_t *c, int sig)
{
    if (c->pid > 0)
        proc_stop(c->pid, sig, 15 * NS_PER_S);
    c->pid = 0;
}

/* Its temp folder, once the spans are read. */
static void coll_clean(const coll_t *c)
{
    static const char *const files[] = {"spans.json", "config.yaml", "otelcol.log"};
    char path[200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", c->dir, files[i]);
        unlink(path);
    }
    rmdir(c->dir);
}

/* ---- the spans it wrote ---- */

#define MAX_SPANS 256
#define MAX_ATTRS 32 /* otelhttp sets 14 */

typedef struct {
    char service[64], language[16];
    char trace_id[40], span_id[24], parent[24];
    char name[96];
    int kind;
    int status;                   /* status.code, 0 when absent */
    int nattrs;
    char key[MAX_ATTRS][48], value[MAX_ATTRS][96];
} got_span_t;

typedef struct {
    got_span_t s[MAX_SPANS];
    int n;
} got_t;

/* The string or integer value of a resource's or span's attribute at path ("...attributes"). */
static void attrs_read(const char *doc, size_t len, const char *path, got_span_t *s,
                       const char *want, char *out, size_t outn)
{
    char p[256];
    int n = jsonq_len(doc, len, path);
    for (int i = 0; i < n; i++) {
        char key[48], val[96] = "";
        snprintf(p, sizeof p, "%s.%d.key", path, i);
        if (!jsonq_str(doc, len, p, key, sizeof key))
            continue;
        snprintf(p, sizeof p, "%s.%d.value.stringValue", path, i);
        if (!jsonq_str(doc, len, p, val, sizeof val)) {
            snprintf(p, sizeof p, "%s.%d.value.intValue", path, i);
            jsonq_str(doc, len, p, val, sizeof val); /* OTLP JSON writes int64 as a string */
        }
        if (want) {
            if (strcmp(key, want) == 0)
                snprintf(out, outn, "%s", val);
        } else if (s->nattrs < MAX_ATTRS) {
            snprintf(s->key[s->nattrs], sizeof s->key[0], "%s", key);
            snprintf(s->value[s->nattrs], sizeof s->value[0], "%s", val);
            s->nattrs++;
        }
    }
}

static void spans_read(const char *file, got_t *g)
{
    g->n = 0;
    buf_t b = BUF_INIT;
    if (buf_read_file(&b, file) != 0)
        return; /* nothing was exported */
    char *doc = buf_start(&b), *end = doc + buf_size(&b);
    while (doc < end) {
        char *nl = memchr(doc, '\n', (size_t)(end - doc));
        size_t len = nl ? (size_t)(nl - doc) : (size_t)(end - doc);
        char p[160];
        int nrs = jsonq_len(doc, len, "resourceSpans");
        if (len > 0 && nrs < 0) {
            fprintf(stderr, "    %s: a line that is not OTLP JSON\n", file);
            t_failures++;
        }
        for (int i = 0; i < nrs; i++) {
            char service[64] = "", lang[16] = "";
            snprintf(p, sizeof p, "resourceSpans.%d.resource.attributes", i);
            attrs_read(doc, len, p, NULL, "service.name", service, sizeof service);
            attrs_read(doc, len, p, NULL, "telemetry.sdk.language", lang, sizeof lang);
            snprintf(p, sizeof p, "resourceSpans.%d.scopeSpans", i);
            int nss = jsonq_len(doc, len, p);
            for (int j = 0; j < nss; j++) {
                snprintf(p, sizeof p, "resourceSpans.%d.scopeSpans.%d.spans", i, j);
                int ns = jsonq_len(doc, len, p);
                for (int k = 0; k < ns && g->n < MAX_SPANS; k++) {
                    got_span_t *s = &g->s[g->n++];
                    memset(s, 0, sizeof *s);
                    snprintf(s->service, sizeof s->service, "%s", service);
                    snprintf(s->language, sizeof s->language, "%s", lang);
                    char q[200];
                    double num;
#define FIELD(name, dst)                                                                           \
    snprintf(q, sizeof q, "%s.%d.%s", p, k, name);                                                \
    jsonq_str(doc, len, q, dst, sizeof dst)
                    FIELD("traceId", s->trace_id);
                    FIELD("spanId", s->span_id);
                    FIELD("parentSpanId", s->parent);
                    FIELD("name", s->name);
#undef FIELD
                    snprintf(q, sizeof q, "%s.%d.kind", p, k);
                    if (jsonq_num(doc, len, q, &num))
                        s->kind = (int)num;
                    snprintf(q, sizeof q, "%s.%d.status.code", p, k);
                    if (jsonq_num(doc, len, q, &num))
                        s->status = (int)num;
                    snprintf(q, sizeof q, "%s.%d.attributes", p, k);
                    attrs_read(doc, len, q, s, NULL, NULL, 0);
                }
            }
        }
        doc += len + 1;
    }
    buf_free(&b);
}

static const char *attr(const got_span_t *s, const char *key)
{
    for (int i = 0; i < s->nattrs; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->value[i];
    return NULL;
}

#define CHECK_ATTR(s, key, want) CHECK_STR(attr(s, key), want)

/* Spans named name whose url.path (or, for grpc, nothing) is path; how many. */
static int count_named(const got_t *g, const char *name)
{
    int n = 0;
    for (int i = 0; i < g->n; i++)
        n += strcmp(g->s[i].name, name) == 0;
    return n;
}

static const got_span_t *by_parent(const got_t *g, const char *parent)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->s[i].parent, parent) == 0)
            return &g->s[i];
    return NULL;
}

/* ---- the implementations ---- */

typedef struct {
    const char *lang;
    const char *bin;     /* NULL: the C service, `stackbench serve` */
    bool peer;
} impl_t;

static const impl_t impls[] = {
    {"c", NULL, false},
    {"go", "go/bin/stackbench-go", true},
    {"rust", "rust/target/release/stackbench-rust", true},
};

/* Starts impl's workload with tracing to endpoint at ratio, plus extra flags. */
static void impl_start(t_server_t *p, const impl_t *im, const char *workload, const char *endpoint,
                       const char *ratio, const char *const *extra)
{
    const char *argv[32];
    int n = 0;
    if (im->bin) {
        argv[n++] = t_peer(im->bin);
    } else {
        argv[n++] = t_stackbench();
        argv[n++] = "serve";
    }
    argv[n++] = workload;
    const char *common[] = {"--port", "0", "--otlp-endpoint", endpoint, "--trace-ratio", ratio};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        argv[n++] = common[i];
    for (; extra && *extra && n < 31; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    if (t_start(p, argv) != 0)
        exit(1);
}

/* Stops it (SIGTERM: spans flushed); its exit status must be 0. */
static void impl_stop(t_server_t *p)
{
    int st = t_stop(p, SIGTERM, 30000);
    CHECK_INT(st, 0);
}

/* "spans: N exported, M dropped" as the C service prints it at its end; false for a peer
 * (the Go and Rust SDKs give no drop count). */
static bool c_span_counts(const t_server_t *p, long long *exported, long long *dropped)
{
    const char *s = strstr(p->sut.log, "spans: ");
    return s && sscanf(s, "spans: %lld exported, %lld dropped", exported, dropped) == 2;
}

/* ---- requests ---- */

static char resp[1 << 16];

/* One request on a new connection; its status. */
static int request(int port, const char *method, const char *target, const char *traceparent,
                   const char *body)
{
    char req[4096], tp[128] = "";
    if (traceparent)
        snprintf(tp, sizeof tp, "traceparent: %s\r\n", traceparent);
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: t\r\n%sContent-Length: %zu\r\n\r\n%s", method,
                     target, tp, body ? strlen(body) : 0, body ? body : "");
    if (http_roundtrip(port, req, (size_t)n, resp, sizeof resp) <= 0)
        return -1;
    return resp_status(resp);
}

#define TRACE "0af7651916cd43dd8448eb211c80319c"
#define TP_SAMPLED(parent) "00-" TRACE "-" parent "-01"
#define TP_UNSAMPLED(parent) "00-" TRACE "-" parent "-00"

/* The spans of a run: checks every one has the service's resource and a well-formed id. */
static void check_resource(const got_t *g, const char *service, const char *lang)
{
    for (int i = 0; i < g->n; i++) {
        CHECK_STR(g->s[i].service, service);
        CHECK_STR(g->s[i].language, lang);
        CHECK_INT(strlen(g->s[i].trace_id), 32);
        CHECK_INT(strlen(g->s[i].span_id), 16);
    }
}

/* The HTTP attributes of a SERVER span. */
static void check_http(const got_span_t *s, const char *method, const char *path,
                       const char *route, const char *status, int port)
{
    char want[16];
    snprintf(want, sizeof want, "%d", port);
    CHECK_INT(s->kind, 2);
    CHECK_ATTR(s, "http.request.method", method);
    CHECK_ATTR(s, "url.path", path);
    CHECK_ATTR(s, "http.route", route);
    CHECK_ATTR(s, "http.response.status_code", status);
    CHECK_ATTR(s, "network.protocol.version", "1.1");
    CHECK_ATTR(s, "server.port", want);
}

/* ---- echo and csv: one SERVER span per request ---- */

static void http_workload(const impl_t *im, const char *wl, const char *target,
                          const char *body)
{
    coll_t c;
    coll_start(&c);
    t_server_t p;
    impl_start(&p, im, wl, c.endpoint, "1", NULL);
    /* 4 roots, 3 children of TRACE, 2 unsampled children (no span), a health check (no span),
     * an invalid traceparent (a root), an unknown path */
    for (int i = 0; i < 4; i++)
        CHECK_INT(request(p.port, "POST", target, NULL, body), 200);
    CHECK_INT(request(p.port, "POST", target, TP_SAMPLED("b7ad6b7169203331"), body), 200);
    CHECK_INT(request(p.port, "POST", target, TP_SAMPLED("00f067aa0ba902b7"), body), 200);
    CHECK_INT(request(p.port, "POST", target, TP_SAMPLED("1111111111111111"), body), 200);
    CHECK_INT(request(p.port, "POST", target, TP_UNSAMPLED("2222222222222222"), body), 200);
    CHECK_INT(request(p.port, "POST", target, TP_UNSAMPLED("3333333333333333"), body), 200);
    CHECK_INT(request(p.port, "GET", "/health", NULL, NULL), 200);
    CHECK_INT(request(p.port, "POST", target, "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", body), 200);
    CHECK_INT(request(p.port, "GET", "/no/such/path", NULL, NULL), 404);
    impl_stop(&p);
    coll_stop(&c, SIGTERM);
    got_t *g = calloc(1, sizeof *g);
    spans_read(c.file, g);
    char service[64], name[96];
    snprintf(service, sizeof service, "stackbench-%s", wl);
    snprintf(name, sizeof name, "POST %s", target);
    CHECK_INT(g->n, 9);
    check_resource(g, service, im->lang);
    CHECK_INT(count_named(g, name), 8);
    int roots = 0, children = 0;
    for (int i = 0; i < g->n; i++) {
        const got_span_t *s = &g->s[i];
        if (strcmp(s->name, name) != 0)
            continue;
        check_http(s, "POST", target, target, "200", p.port);
        CHECK(s->status != 2);
        if (!s->parent[0]) {
            roots++;
            CHECK(strcmp(s->trace_id, TRACE) != 0); /* a new trace, also for the invalid one */
        } else {
            children++;
            CHECK_STR(s->trace_id, TRACE);
        }
    }
    CHECK_INT(roots, 5);
    CHECK_INT(children, 3);
    CHECK(by_parent(g, "b7ad6b7169203331") != NULL);
    CHECK(by_parent(g, "00f067aa0ba902b7") != NULL);
    CHECK(by_parent(g, "1111111111111111") != NULL);
    CHECK(by_parent(g, "2222222222222222") == NULL);
    CHECK(by_parent(g, "3333333333333333") == NULL);
    /* the unknown path: named by its method alone, no route */
    CHECK_INT(count_named(g, "GET"), 1);
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->s[i].name, "GET") == 0) {
            CHECK_ATTR(&g->s[i], "url.path", "/no/such/path");
            CHECK_ATTR(&g->s[i], "http.response.status_code", "404");
            CHECK(attr(&g->s[i], "http.route") == NULL);
        }
    long long exported = -1, dropped = -1;
    if (!im->peer) {
        CHECK(c_span_counts(&p, &exported, &dropped));
        CHECK_INT(exported, 9);
        CHECK_INT(dropped, 0);
    }
    coll_clean(&c);
    free(g);
}

static const char csv_body[] = "timestamp,symbol,price,quantity\n"
                               "2026-11-23T08:15:30.123Z,AAPL,187.25,100\n";

TEST(c_echo_spans) { http_workload(&impls[0], "echo", "/echo", "{\"a\": 1}"); }
TEST(go_echo_spans) { http_workload(&impls[1], "echo", "/echo", "{\"a\": 1}"); }
TEST(rust_echo_spans) { http_workload(&impls[2], "echo", "/echo", "{\"a\": 1}"); }
TEST(c_csv_spans) { http_workload(&impls[0], "csv", "/csv", csv_body); }
TEST(go_csv_spans) { http_workload(&impls[1], "csv", "/csv", csv_body); }
TEST(rust_csv_spans) { http_workload(&impls[2], "csv", "/csv", csv_body); }

/* ---- sql: the statements' CLIENT spans under their request's ---- */

/* The CLIENT span whose parent is server span s, checked; NULL when none. */
static const got_span_t *statement_of(const got_t *g, const got_span_t *s, const char *name,
                                      const char *op, const char *table)
{
    const got_span_t *k = by_parent(g, s->span_id);
    CHECK(k != NULL);
    if (!k)
        return NULL;
    CHECK_STR(k->name, name);
    CHECK_INT(k->kind, 3);
    CHECK_STR(k->trace_id, s->trace_id);
    CHECK_ATTR(k, "db.system.name", "postgresql");
    CHECK_ATTR(k, "db.operation.name", op);
    CHECK_ATTR(k, "db.collection.name", table);
    return k;
}

static void sql_workload(const impl_t *im)
{
    static db_t pg;
    char err[1024];
    db_cleanup_on_signals(&pg);
    if (db_start(&pg, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "    no PostgreSQL for the sql workload: %s\n", err);
        exit(1);
    }
    coll_t c;
    coll_start(&c);
    t_server_t p;
    const char *extra[] = {"--pg-url", pg.url, "--pool", "2", NULL};
    impl_start(&p, im, "sql", c.endpoint, "1", extra);
    CHECK_INT(request(p.port, "GET", "/accounts/7", NULL, NULL), 200);
    CHECK_INT(request(p.port, "GET", "/accounts/8", TP_SAMPLED("b7ad6b7169203331"), NULL), 200);
    CHECK_INT(request(p.port, "GET", "/accounts?ids=1,2,3", NULL, NULL), 200);
    CHECK_INT(request(p.port, "POST", "/orders", NULL, "{\"account_id\":5,\"amount\":1}"), 201);
    CHECK_INT(request(p.port, "GET", "/accounts/9", TP_UNSAMPLED("2222222222222222"), NULL), 200);
    /* answered before the database: a span, no statement */
    CHECK_INT(request(p.port, "GET", "/accounts/x", NULL, NULL), 400);
    impl_stop(&p);
    coll_stop(&c, SIGTERM);
    db_stop(&pg);
    got_t *g = calloc(1, sizeof *g);
    spans_read(c.file, g);
    check_resource(g, "stackbench-sql", im->lang);
    /* 5 requests traced, 4 of them with a statement each */
    CHECK_INT(g->n, 9);
    CHECK_INT(count_named(g, "GET /accounts/{id}"), 3);
    CHECK_INT(count_named(g, "GET /accounts"), 1);
    CHECK_INT(count_named(g, "POST /orders"), 1);
    CHECK_INT(count_named(g, "SELECT accounts"), 3);
    CHECK_INT(count_named(g, "INSERT orders"), 1);
    int checked = 0;
    for (int i = 0; i < g->n; i++) {
        const got_span_t *s = &g->s[i];
        const char *path = attr(s, "url.path");
        if (s->kind != 2 || !path)
            continue;
        if (strcmp(path, "/accounts/7") == 0) {
            check_http(s, "GET", "/accounts/7", "/accounts/{id}", "200", p.port);
            CHECK(!s->parent[0]);
            statement_of(g, s, "SELECT accounts", "SELECT", "accounts");
            checked++;
        } else if (strcmp(path, "/accounts/8") == 0) {
            CHECK_STR(s->trace_id, TRACE);
            CHECK_STR(s->parent, "b7ad6b7169203331");
            const got_span_t *k = statement_of(g, s, "SELECT accounts", "SELECT", "accounts");
            CHECK(!k || strcmp(k->trace_id, TRACE) == 0);
            checked++;
        } else if (strcmp(path, "/accounts") == 0) {
            check_http(s, "GET", "/accounts", "/accounts", "200", p.port);
            statement_of(g, s, "SELECT accounts", "SELECT", "accounts");
            checked++;
        } else if (strcmp(path, "/orders") == 0) {
            check_http(s, "POST", "/orders", "/orders", "201", p.port);
            statement_of(g, s, "INSERT orders", "INSERT", "orders");
            checked++;
        } else if (strcmp(path, "/accounts/x") == 0) {
            CHECK_ATTR(s, "http.response.status_code", "400");
            CHECK(by_parent(g, s->span_id) == NULL);
            checked++;
        }
    }
    CHECK_INT(checked, 5);
    CHECK(by_parent(g, "2222222222222222") == NULL);
    coll_clean(&c);
    free(g);
}

TEST(c_sql_spans) { sql_workload(&impls[0]); }
TEST(go_sql_spans) { sql_workload(&impls[1]); }
TEST(rust_sql_spans) { sql_workload(&impls[2]); }

/* ---- grpc: a span per call ---- */

/* One call on h2; its grpc-status, or -1. */
static int grpc_call(h2client_t *h2, const char *path, const uint8_t *msg, size_t len,
                     const char *traceparent)
{
    uint8_t framed[256];
    grpc_prefix_write(framed, (uint32_t)len);
    memcpy(framed + GRPC_PREFIX, msg, len);
    h2client_field_t hdr[3] = {{"content-type", "application/grpc"}, {"te", "trailers"},
                               {"traceparent", traceparent}};
    h2client_chunk_t body = {(const char *)framed, GRPC_PREFIX + len};
    h2client_request_t rq = {.method = "POST", .path = path, .headers = hdr,
                             .nheaders = traceparent ? 3 : 2, .body = &body, .nbody = 1,
                             .cancel_after = -1};
    h2client_answer_t a;
    if (h2client_call(h2, &rq, &a, 10 * NS_PER_S) != H2CLIENT_OK) {
        h2client_answer_free(&a);
        return -1;
    }
    const char *st = h2client_field(&a.trailers, "grpc-status");
    if (!st)
        st = h2client_field(&a.headers, "grpc-status");
    int code = st ? atoi(st) : -1;
    h2client_answer_free(&a);
    return code;
}

/* QuoteRequest{symbol: "AAPL"}, StreamRequest{symbol: "AAPL", count: 3}, by hand: field 1
 * (string), field 2 (varint). */
static const uint8_t quote_req[] = {0x0a, 4, 'A', 'A', 'P', 'L'};
static const uint8_t stream_req[] = {0x0a, 4, 'A', 'A', 'P', 'L', 0x10, 3};

static void grpc_workload(const impl_t *im)
{
    coll_t c;
    coll_start(&c);
    t_server_t p;
    impl_start(&p, im, "grpc", c.endpoint, "1", NULL);
    char err[256];
    h2client_t *h2 = h2client_open("127.0.0.1", p.port, 5 * NS_PER_S, err, sizeof err);
    CHECK(h2 != NULL);
    if (!h2) {
        fprintf(stderr, "    %s\n", err);
        return;
    }
    CHECK_INT(grpc_call(h2, "/stackbench.v1.Ticks/Quote", quote_req, sizeof quote_req, NULL), 0);
    CHECK_INT(grpc_call(h2, "/stackbench.v1.Ticks/Quote", quote_req, sizeof quote_req,
                        TP_SAMPLED("b7ad6b7169203331")), 0);
    CHECK_INT(grpc_call(h2, "/stackbench.v1.Ticks/Stream", stream_req, sizeof stream_req,
                        TP_SAMPLED("00f067aa0ba902b7")), 0);
    CHECK_INT(grpc_call(h2, "/stackbench.v1.Ticks/Quote", quote_req, sizeof quote_req,
                        TP_UNSAMPLED("2222222222222222")), 0);
    /* a bad symbol: INVALID_ARGUMENT, not an error of the server's (span status unset) */
    static const uint8_t bad[] = {0x0a, 1, 'a'};
    CHECK_INT(grpc_call(h2, "/stackbench.v1.Ticks/Quote", bad, sizeof bad, NULL), 3);
    CHECK_INT(grpc_call(h2, "/stackbench.v1.Ticks/Nope", quote_req, sizeof quote_req, NULL), 12);
    h2client_close(h2);
    impl_stop(&p);
    coll_stop(&c, SIGTERM);
    got_t *g = calloc(1, sizeof *g);
    spans_read(c.file, g);
    check_resource(g, "stackbench-grpc", im->lang);
    CHECK_INT(g->n, 5);
    CHECK_INT(count_named(g, "stackbench.v1.Ticks/Quote"), 3);
    CHECK_INT(count_named(g, "stackbench.v1.Ticks/Stream"), 1);
    CHECK_INT(count_named(g, "stackbench.v1.Ticks/Nope"), 1);
    for (int i = 0; i < g->n; i++) {
        const got_span_t *s = &g->s[i];
        CHECK_INT(s->kind, 2);
        CHECK_ATTR(s, "rpc.system", "grpc");
        CHECK_ATTR(s, "rpc.service", "stackbench.v1.Ticks");
        CHECK(attr(s, "rpc.method") != NULL);
        CHECK(attr(s, "rpc.grpc.status_code") != NULL);
        const char *code = attr(s, "rpc.grpc.status_code");
        if (code && strcmp(code, "12") == 0) {
            CHECK_ATTR(s, "rpc.method", "Nope");
            CHECK_INT(s->status, 2); /* UNIMPLEMENTED is a server error */
        } else if (code && strcmp(code, "3") == 0) {
            CHECK(s->status != 2);
        } else {
            CHECK_STR(code, "0");
        }
    }
    const got_span_t *q = by_parent(g, "b7ad6b7169203331");
    CHECK(q && strcmp(q->name, "stackbench.v1.Ticks/Quote") == 0 && strcmp(q->trace_id, TRACE) == 0);
    const got_span_t *st = by_parent(g, "00f067aa0ba902b7");
    CHECK(st && strcmp(st->name, "stackbench.v1.Ticks/Stream") == 0);
    if (st)
        CHECK_ATTR(st, "rpc.method", "Stream");
    CHECK(by_parent(g, "2222222222222222") == NULL);
    coll_clean(&c);
    free(g);
}

TEST(c_grpc_spans) { grpc_workload(&impls[0]); }
TEST(go_grpc_spans) { grpc_workload(&impls[1]); }
TEST(rust_grpc_spans) { grpc_workload(&impls[2]); }

/* ---- sampling ---- */

TEST(c_ratio_0_traces_only_what_a_sampled_parent_asks_for)
{
    coll_t c;
    coll_start(&c);
    t_server_t p;
    impl_start(&p, &impls[0], "echo", c.endpoint, "0", NULL);
    for (int i = 0; i < 20; i++)
        CHECK_INT(request(p.port, "POST", "/echo", NULL, "{}"), 200);
    CHECK_INT(request(p.port, "POST", "/echo", TP_SAMPLED("b7ad6b7169203331"), "{}"), 200);
    impl_stop(&p);
    coll_stop(&c, SIGTERM);
    got_t *g = calloc(1, sizeof *g);
    spans_read(c.file, g);
    CHECK_INT(g->n, 1);
    CHECK(g->n < 1 || strcmp(g->s[0].parent, "b7ad6b7169203331") == 0);
    coll_clean(&c);
    free(g);
}

/* ---- a collector that is not there, slow, or dies ---- */

/* n requests, every one answered 200. */
static void answered(int port, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += request(port, "POST", "/echo", NULL, "{}") == 200;
    CHECK_INT(ok, n);
}

TEST(c_with_no_collector_answers_and_counts_every_span_dropped)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", free_port());
    t_server_t p;
    impl_start(&p, &impls[0], "echo", endpoint, "1", NULL);
    answered(p.port, 30);
    impl_stop(&p);
    long long exported = -1, dropped = -1;
    CHECK(c_span_counts(&p, &exported, &dropped));
    CHECK_INT(exported, 0);
    CHECK_INT(dropped, 30);
}

TEST(c_with_a_collector_that_never_answers_answers_and_drops)
{
    /* A listener that never accepts: connections complete (the backlog), exports time out. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 16) == 0 &&
          getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", ntohs(a.sin_port));
    t_server_t p;
    impl_start(&p, &impls[0], "echo", endpoint, "1", NULL);
    answered(p.port, 30);
    impl_stop(&p);
    long long exported = -1, dropped = -1;
    CHECK(c_span_counts(&p, &exported, &dropped));
    CHECK_INT(exported, 0);
    CHECK_INT(dropped, 30);
    close(fd);
}

TEST(c_with_a_collector_killed_mid_run_counts_received_plus_dropped)
{
    coll_t c;
    coll_start(&c);
    t_server_t p;
    impl_start(&p, &impls[0], "echo", c.endpoint, "1", NULL);
    answered(p.port, 10);
    /* Until the collector has written the first 10 (the exporter sends every second). */
    got_t *g = calloc(1, sizeof *g);
    for (int64_t end = clock_now_ns() + 20 * NS_PER_S; clock_now_ns() < end;) {
        spans_read(c.file, g);
        if (g->n >= 10)
            break;
        usleep(50000);
    }
    CHECK_INT(g->n, 10);
    coll_stop(&c, SIGKILL);
    answered(p.port, 15);
    impl_stop(&p);
    spans_read(c.file, g);
    long long exported = -1, dropped = -1;
    CHECK(c_span_counts(&p, &exported, &dropped));
    CHECK_INT(exported, g->n);
    CHECK_INT(g->n + dropped, 25);
    CHECK(dropped >= 15);
    coll_clean(&c);
    free(g);
}

/* ---- the load engine's traceparent ---- */

/* A load run against a service that traces only what a sampled parent asks for: the spans the
 * collector got are exactly the requests the load sent sampled, each a child of the load's
 * traceparent, and the slowest the load reports are among them, slowest first. */
static void load_traced(const char *workload, const char *path, const char *const *load_flags)
{
    coll_t c;
    coll_start(&c);
    t_server_t p;
    impl_start(&p, &impls[0], workload, c.endpoint, "0", NULL);
    char json[200], url[160];
    snprintf(json, sizeof json, "%s/load.json", c.dir);
    snprintf(url, sizeof url, "%s%s", p.url, path);
    const char *argv[32] = {t_stackbench(), "load", "--trace-ratio", "0.5", "-d", "1s", "-R",
                            "300", "-c", "2", "--json", json, "-q"};
    int n = 13;
    for (const char *const *f = load_flags; *f; f++)
        argv[n++] = *f;
    argv[n++] = url;
    argv[n] = NULL;
    static char out[1 << 16];
    CHECK_INT(t_run(argv, out, sizeof out, 60000), 0);
    impl_stop(&p);
    coll_stop(&c, SIGTERM);
    buf_t b = BUF_INIT;
    CHECK_INT(buf_read_file(&b, json), 0);
    double traced = -1, requests = -1;
    CHECK(jsonq_num(buf_start(&b), buf_size(&b), "traced", &traced));
    CHECK(jsonq_num(buf_start(&b), buf_size(&b), "requests", &requests));
    CHECK(traced > 0 && traced < requests);
    got_t *g = calloc(1, sizeof *g);
    spans_read(c.file, g);
    CHECK_INT(g->n, (long long)traced);
    for (int i = 0; i < g->n; i++)
        CHECK_INT(strlen(g->s[i].parent), 16); /* the load's span id */
    int ns = jsonq_len(buf_start(&b), buf_size(&b), "slowest_traces");
    CHECK_INT(ns, traced < 10 ? traced : 10);
    double prev = 1e300;
    for (int i = 0; i < ns; i++) {
        char q[64], id[40] = "";
        double lat = -1;
        snprintf(q, sizeof q, "slowest_traces.%d.trace_id", i);
        CHECK(jsonq_str(buf_start(&b), buf_size(&b), q, id, sizeof id));
        snprintf(q, sizeof q, "slowest_traces.%d.latency_us", i);
        CHECK(jsonq_num(buf_start(&b), buf_size(&b), q, &lat));
        CHECK(lat > 0 && lat <= prev);
        prev = lat;
        bool found = false;
        for (int k = 0; k < g->n; k++)
            found |= strcmp(g->s[k].trace_id, id) == 0;
        if (!found) {
            fprintf(stderr, "    slowest trace %s: no span of it at the collector\n", id);
            t_failures++;
        }
    }
    buf_free(&b);
    unlink(json);
    coll_clean(&c);
    free(g);
}

TEST(load_trace_ratio_sends_sampled_traceparents_and_names_the_slowest)
{
    static const char *const single[] = {"-m", "POST", "--body", "{\"a\":1}", NULL};
    load_traced("echo", "/echo", single);
}

TEST(load_trace_ratio_with_a_rendered_mix)
{
    /* {rand} moves the header in every request: the traceparent is found in each */
    static const char *const mix[] = {"--mix", "1 POST /echo {\"a\":{rand:1:100000000}}",
                                      "--mix", "1 GET /no/such/{rand:1:999}", NULL};
    load_traced("echo", "", mix);
}

TEST(load_trace_ratio_over_grpc)
{
    /* one more header field on each HTTP/2 request */
    static char proto[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(proto, sizeof proto, "%s/contracts/grpc/ticks.proto", root ? root : ".");
    const char *const grpc[] = {"--grpc", "stackbench.v1.Ticks/Quote", "--proto", proto,
                                "--data", "{\"symbol\":\"AAPL\"}", "-m", "4", NULL};
    load_traced("grpc", "", grpc);
}

T_MAIN(T(c_echo_spans), T(go_echo_spans), T(rust_echo_spans), T(c_csv_spans), T(go_csv_spans),
       T(rust_csv_spans), T(c_sql_spans), T(go_sql_spans), T(rust_sql_spans), T(c_grpc_spans),
       T(go_grpc_spans), T(rust_grpc_spans),
       T(c_ratio_0_traces_only_what_a_sampled_parent_asks_for),
       T(c_with_no_collector_answers_and_counts_every_span_dropped),
       T(c_with_a_collector_that_never_answers_answers_and_drops),
       T(c_with_a_collector_killed_mid_run_counts_received_plus_dropped),
       T(load_trace_ratio_sends_sampled_traceparents_and_names_the_slowest),
       T(load_trace_ratio_with_a_rendered_mix), T(load_trace_ratio_over_grpc))
