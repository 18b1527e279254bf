#include "telemetry/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/proc.h"
#include "http/grpc.h"

const int64_t metrics_bucket_ns[METRICS_NBUCKETS] = {
    10 * NS_PER_US,  25 * NS_PER_US,  50 * NS_PER_US,  100 * NS_PER_US, 250 * NS_PER_US,
    500 * NS_PER_US, 1 * NS_PER_MS,   25 * NS_PER_MS / 10, 5 * NS_PER_MS, 10 * NS_PER_MS,
    25 * NS_PER_MS,  50 * NS_PER_MS,  100 * NS_PER_MS, 250 * NS_PER_MS, 500 * NS_PER_MS,
    1 * NS_PER_S,    25 * NS_PER_S / 10, 5 * NS_PER_S, 10 * NS_PER_S,
};
/* The same bounds as the le labels are written (contracts/telemetry.md). */
static const char *const bucket_le[METRICS_NBUCKETS] = {
    "0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001",
    "0.0025",  "0.005",    "0.01",    "0.025",  "0.05",    "0.1",    "0.25",
    "0.5",     "1",        "2.5",     "5",      "10",
};

static const char *const method_names[METRICS_NMETHODS] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER",
};

/* RFC 9110's status codes, with 422, 429 and 431; the last slot takes any other. */
static const int codes[METRICS_NCODES - 1] = {
    100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305,
    307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412,
    413, 414, 415, 416, 417, 421, 422, 426, 428, 429, 431, 500, 501, 502, 503,
    504, 505,
};

int metrics_code_slot(int status)
{
    /* The common ones first, then a search of the sorted table. */
    switch (status) {
    case 200: return 2;
    case 201: return 3;
    case 400: return 17;
    case 404: return 21;
    }
    size_t lo = 0, hi = sizeof codes / sizeof codes[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (codes[mid] == status)
            return (int)mid;
        if (codes[mid] < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return METRICS_NCODES - 1;
}

int metrics_method_slot(http_str_t m)
{
    /* By length first: one comparison for the usual methods. */
    switch (m.n) {
    case 3:
        if (memcmp(m.p, "GET", 3) == 0)
            return 0;
        if (memcmp(m.p, "PUT", 3) == 0)
            return 3;
        break;
    case 4:
        if (memcmp(m.p, "POST", 4) == 0)
            return 2;
        if (memcmp(m.p, "HEAD", 4) == 0)
            return 1;
        break;
    case 5:
        if (memcmp(m.p, "PATCH", 5) == 0)
            return 5;
        break;
    case 6:
        if (memcmp(m.p, "DELETE", 6) == 0)
            return 4;
        break;
    case 7:
        if (memcmp(m.p, "OPTIONS", 7) == 0)
            return 6;
        break;
    }
    return METRICS_NMETHODS - 1;
}

struct metrics {
    int nworkers;
    int nroutes;                /* with other */
    char **route_labels;        /* [nroutes] */
    size_t ncalls;
    const metrics_call_t *calls;
    bool http, sql;
    metrics_worker_t *workers[];
};

static void worker_free(metrics_worker_t *w)
{
    if (!w)
        return;
    free(w->requests);
    free(w->duration);
    free(w->req_bytes);
    free(w->resp_bytes);
    free(w);
}

void metrics_free(metrics_t *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nworkers; i++)
        worker_free(m->workers[i]);
    for (int i = 0; m->route_labels && i < m->nroutes; i++)
        free(m->route_labels[i]);
    free(m->route_labels);
    free(m);
}

const char *metrics_route_label(const metrics_t *m, int i)
{
    return m && i >= 0 && i < m->nroutes ? m->route_labels[i] : "other";
}

/* A route pattern as a label: its final star written {id} ("/accounts/{id}"). */
static char *route_label(const char *pattern)
{
    size_t n = strlen(pattern);
    bool star = n > 0 && pattern[n - 1] == '*';
    char *s = malloc(n + 4);
    if (!s)
        return NULL;
    memcpy(s, pattern, n + 1);
    if (star)
        memcpy(s + n - 1, "{id}", 5);
    return s;
}

metrics_t *metrics_new(const metrics_spec_t *spec)
{
    if (spec->nworkers < 1 || spec->ncalls > METRICS_MAX_CALLS || spec->nroutes > 1000)
        return NULL;
    metrics_t *m = calloc(1, sizeof *m + (size_t)spec->nworkers * sizeof m->workers[0]);
    if (!m)
        return NULL;
    m->nworkers = spec->nworkers;
    m->nroutes = (int)spec->nroutes + 1;
    m->ncalls = spec->ncalls;
    m->calls = spec->calls;
    m->http = spec->ncalls == 0;
    m->sql = spec->sql;
    if (!(m->route_labels = calloc((size_t)m->nroutes, sizeof *m->route_labels)))
        goto fail;
    for (size_t i = 0; i < spec->nroutes; i++)
        if (!(m->route_labels[i] = route_label(spec->routes[i])))
            goto fail;
    if (!(m->route_labels[m->nroutes - 1] = route_label("other")))
        goto fail;
    size_t nr = (size_t)m->nroutes;
    for (int i = 0; i < m->nworkers; i++) {
        /* A block of its own for each worker: the cache lines one worker writes are not
         * another's. */
        metrics_worker_t *w = calloc(1, sizeof *w);
        m->workers[i] = w;
        if (!w || !(w->requests = calloc(nr * METRICS_NMETHODS * METRICS_NCODES, sizeof(uint64_t))) ||
            !(w->duration = calloc(nr, sizeof *w->duration)) ||
            !(w->req_bytes = calloc(nr, sizeof(uint64_t))) ||
            !(w->resp_bytes = calloc(nr, sizeof(uint64_t))))
            goto fail;
        w->nroutes = m->nroutes;
    }
    return m;
fail:
    metrics_free(m);
    return NULL;
}

metrics_worker_t *metrics_worker(metrics_t *m, int i)
{
    return m && i >= 0 && i < m->nworkers ? m->workers[i] : NULL;
}

void metrics_req_answered(metrics_worker_t *w, metrics_req_t *r, int status, size_t body)
{
    if (r->state == METRICS_REQ_SKIPPED) {
        r->state = METRICS_REQ_NONE;
        r->t0 = 0;
        return;
    }
    if (r->state == METRICS_REQ_NONE) {
        /* Refused before its head could be read: it began when its bytes did. */
        if (!r->t0)
            r->t0 = r->read_ns;
        r->route = (int16_t)(w->nroutes - 1);
        r->method = METRICS_NMETHODS - 1;
        r->body = 0;
        w->begun++;
    }
    int64_t now = clock_now_ns();
    size_t route = (size_t)r->route;
    w->requests[(route * METRICS_NMETHODS + r->method) * METRICS_NCODES +
                (size_t)metrics_code_slot(status)]++;
    metrics_hist_add(&w->duration[route], r->t0 ? now - r->t0 : 0);
    w->req_bytes[route] += r->body;
    w->resp_bytes[route] += body;
    w->finished++;
    r->state = METRICS_REQ_NONE;
    r->t0 = 0;
}

/* ---- reading the workers' blocks from another thread ---- */

static uint64_t peek(const uint64_t *p)
{
    return *(const volatile uint64_t *)p;
}

static int64_t peek_signed(const int64_t *p)
{
    return *(const volatile int64_t *)p;
}

static void hist_add_into(metrics_hist_t *out, const metrics_hist_t *h)
{
    for (int b = 0; b <= METRICS_NBUCKETS; b++)
        out->n[b] += peek(&h->n[b]);
    out->sum_ns += peek(&h->sum_ns);
}

/* ---- the text ---- */

static int put_escaped(buf_t *out, const char *s, bool quote)
{
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        if (*p == '\\')
            rep = "\\\\";
        else if (*p == '\n')
            rep = "\\n";
        else if (*p == '"' && quote)
            rep = "\\\"";
        int rc = rep ? buf_puts(out, rep) : buf_append(out, p, 1);
        if (rc)
            return rc;
    }
    return 0;
}

int metrics_write_family(buf_t *out, const char *name, const char *type, const char *help)
{
    if (buf_puts(out, "# HELP ") || buf_puts(out, name) || buf_puts(out, " ") ||
        put_escaped(out, help, false) || buf_puts(out, "\n# TYPE ") || buf_puts(out, name) ||
        buf_puts(out, " ") || buf_puts(out, type) || buf_puts(out, "\n"))
        return -ENOMEM;
    return 0;
}

int metrics_write_sample(buf_t *out, const char *name, const char *const *labels,
                         const char *value)
{
    if (buf_puts(out, name))
        return -ENOMEM;
    if (labels && labels[0]) {
        for (size_t i = 0; labels[i]; i += 2) {
            if (buf_puts(out, i ? "," : "{") || buf_puts(out, labels[i]) ||
                buf_puts(out, "=\"") || put_escaped(out, labels[i + 1] ? labels[i + 1] : "", true) ||
                buf_puts(out, "\""))
                return -ENOMEM;
        }
        if (buf_puts(out, "}"))
            return -ENOMEM;
    }
    if (buf_puts(out, " ") || buf_puts(out, value) || buf_puts(out, "\n"))
        return -ENOMEM;
    return 0;
}

static int sample_u64(buf_t *out, const char *name, const char *const *labels, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, v);
    return metrics_write_sample(out, name, labels, num);
}

static int sample_i64(buf_t *out, const char *name, const char *const *labels, int64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRId64, v);
    return metrics_write_sample(out, name, labels, num);
}

/* name_bucket{labels...,le=...} cumulative, then _sum (seconds, exact: ns as a decimal) and
 * _count. labels: NULL-terminated name, value pairs (at most 4 pairs), or NULL. */
static int write_hist(buf_t *out, const char *name, const char *const *labels,
                      const metrics_hist_t *h)
{
    char bucket[96], sum[96], count[96], num[40];
    snprintf(bucket, sizeof bucket, "%s_bucket", name);
    snprintf(sum, sizeof sum, "%s_sum", name);
    snprintf(count, sizeof count, "%s_count", name);
    const char *lab[11];
    size_t n = 0;
    for (; labels && labels[n] && n < 8; n++)
        lab[n] = labels[n];
    lab[n] = "le";
    lab[n + 2] = NULL;
    uint64_t cum = 0;
    for (int b = 0; b <= METRICS_NBUCKETS; b++) {
        cum += h->n[b];
        lab[n + 1] = b < METRICS_NBUCKETS ? bucket_le[b] : "+Inf";
        if (sample_u64(out, bucket, lab, cum))
            return -ENOMEM;
    }
    snprintf(num, sizeof num, "%" PRIu64 ".%09" PRIu64, h->sum_ns / 1000000000u,
             h->sum_ns % 1000000000u);
    if (metrics_write_sample(out, sum, n ? labels : NULL, num) ||
        sample_u64(out, count, n ? labels : NULL, cum))
        return -ENOMEM;
    return 0;
}

static uint64_t hist_count(const metrics_hist_t *h)
{
    uint64_t n = 0;
    for (int b = 0; b <= METRICS_NBUCKETS; b++)
        n += h->n[b];
    return n;
}

/* A field of every worker's block, summed: off is its offsetof in metrics_worker_t. */
static uint64_t sum_u64(const metrics_t *m, size_t off)
{
    uint64_t s = 0;
    for (int i = 0; i < m->nworkers; i++)
        s += peek((const uint64_t *)((const char *)m->workers[i] + off));
    return s;
}

static int64_t sum_i64(const metrics_t *m, size_t off)
{
    int64_t s = 0;
    for (int i = 0; i < m->nworkers; i++)
        s += peek_signed((const int64_t *)((const char *)m->workers[i] + off));
    return s;
}

#define SUM(field) sum_u64(m, offsetof(metrics_worker_t, field))
#define SUM_SIGNED(field) sum_i64(m, offsetof(metrics_worker_t, field))

static int write_http(const metrics_t *m, buf_t *out)
{
    size_t nr = (size_t)m->nroutes;
    char code[8];
    if (metrics_write_family(out, "http_requests_total", "counter",
                             "Answered HTTP requests, by method, route and status code."))
        return -ENOMEM;
    for (size_t r = 0; r < nr; r++)
        for (size_t k = 0; k < METRICS_NMETHODS; k++)
            for (size_t c = 0; c < METRICS_NCODES; c++) {
                uint64_t n = 0;
                size_t at = (r * METRICS_NMETHODS + k) * METRICS_NCODES + c;
                for (int i = 0; i < m->nworkers; i++)
                    n += peek(&m->workers[i]->requests[at]);
                if (!n)
                    continue;
                if (c < METRICS_NCODES - 1)
                    snprintf(code, sizeof code, "%d", codes[c]);
                else
                    snprintf(code, sizeof code, "other");
                const char *lab[] = {"method", method_names[k], "route", m->route_labels[r],
                                     "code", code, NULL};
                if (sample_u64(out, "http_requests_total", lab, n))
                    return -ENOMEM;
            }

    uint64_t counts[nr];
    if (metrics_write_family(out, "http_request_duration_seconds", "histogram",
                             "From the request's first byte read to its answer queued."))
        return -ENOMEM;
    for (size_t r = 0; r < nr; r++) {
        metrics_hist_t h = {0};
        for (int i = 0; i < m->nworkers; i++)
            hist_add_into(&h, &m->workers[i]->duration[r]);
        counts[r] = hist_count(&h);
        const char *lab[] = {"route", m->route_labels[r], NULL};
        if (counts[r] && write_hist(out, "http_request_duration_seconds", lab, &h))
            return -ENOMEM;
    }

    /* Finished is read first: begun, read after it, is at least as large. */
    uint64_t finished = SUM(finished), begun = SUM(begun);
    if (metrics_write_family(out, "http_requests_in_flight", "gauge",
                             "Requests read and not yet answered.") ||
        sample_u64(out, "http_requests_in_flight", NULL, begun - finished))
        return -ENOMEM;

    static const char *const bytes_names[2] = {"http_request_body_bytes_total",
                                               "http_response_body_bytes_total"};
    static const char *const bytes_help[2] = {"Request body bytes (after de-chunking).",
                                              "Response body bytes."};
    for (int which = 0; which < 2; which++) {
        if (metrics_write_family(out, bytes_names[which], "counter", bytes_help[which]))
            return -ENOMEM;
        for (size_t r = 0; r < nr; r++) {
            if (!counts[r])
                continue;
            uint64_t n = 0;
            for (int i = 0; i < m->nworkers; i++)
                n += peek(which ? &m->workers[i]->resp_bytes[r] : &m->workers[i]->req_bytes[r]);
            const char *lab[] = {"route", m->route_labels[r], NULL};
            if (sample_u64(out, bytes_names[which], lab, n))
                return -ENOMEM;
        }
    }
    return 0;
}

/* A method's labels, as go-grpc-middleware writes them, into lab[7] (then grpc_code). */
#define CALL_LABELS(lab, call)                                                                 \
    const char *lab[9] = {"grpc_type", (call)->type, "grpc_service", (call)->service,         \
                          "grpc_method", (call)->method, NULL, NULL, NULL}

static int write_grpc(const metrics_t *m, buf_t *out)
{
    if (metrics_write_family(out, "grpc_server_started_total", "counter",
                             "gRPC calls started on the server."))
        return -ENOMEM;
    for (size_t c = 0; c < m->ncalls; c++) {
        uint64_t n = SUM(calls_started[c]);
        CALL_LABELS(lab, &m->calls[c]);
        if (n && sample_u64(out, "grpc_server_started_total", lab, n))
            return -ENOMEM;
    }
    if (metrics_write_family(out, "grpc_server_handled_total", "counter",
                             "gRPC calls completed on the server, by status code."))
        return -ENOMEM;
    for (size_t c = 0; c < m->ncalls; c++)
        for (int code = 0; code < GRPC_NCODES; code++) {
            uint64_t n = SUM(calls_handled[c][code]);
            CALL_LABELS(lab, &m->calls[c]);
            lab[6] = "grpc_code";
            lab[7] = grpc_code_label(code);
            if (n && sample_u64(out, "grpc_server_handled_total", lab, n))
                return -ENOMEM;
        }
    static const struct {
        const char *name, *help;
        size_t off;
    } msgs[] = {
        {"grpc_server_msg_received_total", "gRPC messages received by the server.",
         offsetof(metrics_worker_t, msgs_received)},
        {"grpc_server_msg_sent_total", "gRPC messages sent by the server.",
         offsetof(metrics_worker_t, msgs_sent)},
    };
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
        if (metrics_write_family(out, msgs[k].name, "counter", msgs[k].help))
            return -ENOMEM;
        for (size_t c = 0; c < m->ncalls; c++) {
            uint64_t n = 0;
            for (int i = 0; i < m->nworkers; i++)
                n += peek((const uint64_t *)((const char *)m->workers[i] + msgs[k].off) + c);
            CALL_LABELS(lab, &m->calls[c]);
            if (n && sample_u64(out, msgs[k].name, lab, n))
                return -ENOMEM;
        }
    }
    if (metrics_write_family(out, "grpc_server_handling_seconds", "histogram",
                             "From a call's start to its status queued."))
        return -ENOMEM;
    for (size_t c = 0; c < m->ncalls; c++) {
        metrics_hist_t h = {0};
        for (int i = 0; i < m->nworkers; i++)
            hist_add_into(&h, &m->workers[i]->handling[c]);
        CALL_LABELS(lab, &m->calls[c]);
        if (hist_count(&h) && write_hist(out, "grpc_server_handling_seconds", lab, &h))
            return -ENOMEM;
    }
    return 0;
}

static int write_sql(const metrics_t *m, buf_t *out)
{
    if (metrics_write_family(out, "sql_pool_connections", "gauge",
                             "Database connections open in the pool.") ||
        sample_i64(out, "sql_pool_connections", NULL, SUM_SIGNED(sql_pool_connections)) ||
        metrics_write_family(out, "sql_pool_size", "gauge",
                             "The pool's configured size (--pool).") ||
        sample_i64(out, "sql_pool_size", NULL, SUM_SIGNED(sql_pool_size)) ||
        metrics_write_family(out, "sql_pool_waits_total", "counter",
                             "Requests that waited for a database connection.") ||
        sample_u64(out, "sql_pool_waits_total", NULL, SUM(sql_pool_waits)) ||
        metrics_write_family(out, "sql_errors_total", "counter",
                             "Database calls that failed (connection lost, statement error).") ||
        sample_u64(out, "sql_errors_total", NULL, SUM(sql_errors)) ||
        metrics_write_family(out, "sql_unavailable_total", "counter",
                             "Requests answered 503 because the database could not be used.") ||
        sample_u64(out, "sql_unavailable_total", NULL, SUM(sql_unavailable)))
        return -ENOMEM;
    return 0;
}

int metrics_write_workers(const metrics_t *m, buf_t *out)
{
    int rc = m->http ? write_http(m, out) : write_grpc(m, out);
    if (rc)
        return rc;
    uint64_t closed = SUM(conns_closed), opened = SUM(conns_opened);
    if (metrics_write_family(out, "http_connections_open", "gauge", "Open client connections.") ||
        sample_u64(out, "http_connections_open", NULL, opened - closed) ||
        metrics_write_family(out, "http_connections_total", "counter", "Accepted connections.") ||
        sample_u64(out, "http_connections_total", NULL, opened))
        return -ENOMEM;
    return m->sql ? write_sql(m, out) : 0;
}

int metrics_write_process(const metrics_process_t *p, buf_t *out)
{
    char num[48];
    snprintf(num, sizeof num, "%.2f", p->cpu_seconds);
    if (metrics_write_family(out, "process_cpu_seconds_total", "counter",
                             "Total user and system CPU time spent in seconds.") ||
        metrics_write_sample(out, "process_cpu_seconds_total", NULL, num) ||
        metrics_write_family(out, "process_resident_memory_bytes", "gauge",
                             "Resident memory size in bytes.") ||
        sample_u64(out, "process_resident_memory_bytes", NULL, p->resident_bytes) ||
        metrics_write_family(out, "process_virtual_memory_bytes", "gauge",
                             "Virtual memory size in bytes.") ||
        sample_u64(out, "process_virtual_memory_bytes", NULL, p->virtual_bytes))
        return -ENOMEM;
    snprintf(num, sizeof num, "%.2f", p->start_time_seconds);
    if (metrics_write_family(out, "process_start_time_seconds", "gauge",
                             "Start time of the process since unix epoch in seconds.") ||
        metrics_write_sample(out, "process_start_time_seconds", NULL, num) ||
        metrics_write_family(out, "process_open_fds", "gauge", "Number of open file descriptors.") ||
        sample_u64(out, "process_open_fds", NULL, p->open_fds) ||
        metrics_write_family(out, "process_max_fds", "gauge",
                             "Maximum number of open file descriptors.") ||
        sample_u64(out, "process_max_fds", NULL, p->max_fds))
        return -ENOMEM;
    return 0;
}

int metrics_process_read(metrics_process_t *p)
{
    memset(p, 0, sizeof *p);
    pid_t self = getpid();
    proc_stat_t st;
    proc_mem_t mem;
    if (proc_stat(self, &st) || proc_mem(self, &mem))
        return -1;
    p->cpu_seconds = proc_ticks_s(st.utime + st.stime);
    p->resident_bytes = mem.rss_bytes;
    p->virtual_bytes = mem.vsz_bytes;
    double boot = proc_boot_time_s();
    p->start_time_seconds = boot > 0 ? boot + proc_ticks_s(st.starttime) : 0;
    int fds = proc_open_fds(self);
    p->open_fds = fds > 0 ? (uint64_t)fds : 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        p->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    return 0;
}

int metrics_write(const metrics_t *m, buf_t *out)
{
    metrics_process_t p;
    int rc = metrics_write_workers(m, out);
    if (rc)
        return rc;
    if (metrics_process_read(&p) == 0)
        return metrics_write_process(&p, out);
    return 0;
}
