/* Tests for the services' metrics (src/telemetry/metrics.c): the exposition text for known
 * figures, label and help escaping, the sum over workers, the histogram's cumulative buckets,
 * the request hooks as the server core calls them, and the process's own figures. */
#include <inttypes.h>

#include "telemetry/metrics.h"
#include "t.h"

static http_str_t str(const char *s)
{
    return (http_str_t){s, strlen(s)};
}

/* The value of the sample whose line starts with `series ` in text, or -1. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    return -1;
}

TEST(family_and_sample_lines)
{
    buf_t b = BUF_INIT;
    CHECK_INT(metrics_write_family(&b, "x_total", "counter", "Things."), 0);
    const char *lab[] = {"a", "1", "b", "two", NULL};
    CHECK_INT(metrics_write_sample(&b, "x_total", lab, "3"), 0);
    CHECK_INT(metrics_write_sample(&b, "x_total", NULL, "4"), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "# HELP x_total Things.\n# TYPE x_total counter\n"
              "x_total{a=\"1\",b=\"two\"} 3\nx_total 4\n");
    buf_free(&b);
}

TEST(label_values_and_help_are_escaped)
{
    buf_t b = BUF_INIT;
    const char *lab[] = {"path", "a\"b\\c\nd", NULL};
    CHECK_INT(metrics_write_sample(&b, "y", lab, "1"), 0);
    /* In HELP only the backslash and the line end are escaped; a quote stays. */
    CHECK_INT(metrics_write_family(&b, "y", "gauge", "say \"hi\"\\\nthen"), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "y{path=\"a\\\"b\\\\c\\nd\"} 1\n"
              "# HELP y say \"hi\"\\\\\\nthen\n# TYPE y gauge\n");
    buf_free(&b);
}

TEST(histogram_buckets_take_values_up_to_their_bound)
{
    metrics_hist_t h = {0};
    metrics_hist_add(&h, 10 * NS_PER_US);     /* le 0.00001: bounds are inclusive */
    metrics_hist_add(&h, 10 * NS_PER_US + 1); /* le 0.000025 */
    metrics_hist_add(&h, 0);
    metrics_hist_add(&h, -5);                 /* a clock that went back counts as 0 */
    metrics_hist_add(&h, 10 * NS_PER_S);      /* le 10 */
    metrics_hist_add(&h, 11 * NS_PER_S);      /* +Inf only */
    CHECK_INT(h.n[0], 3);
    CHECK_INT(h.n[1], 1);
    CHECK_INT(h.n[METRICS_NBUCKETS - 1], 1);
    CHECK_INT(h.n[METRICS_NBUCKETS], 1);
    CHECK_INT(h.sum_ns, 20 * NS_PER_US + 1 + 21 * NS_PER_S);
    /* The bounds of the contract, 1-2.5-5 from 10 µs to 10 s. */
    CHECK_INT(metrics_bucket_ns[0], 10000);
    CHECK_INT(metrics_bucket_ns[7], 2500000);
    CHECK_INT(metrics_bucket_ns[18], 10 * NS_PER_S);
}

TEST(status_codes_and_methods_have_slots)
{
    CHECK(metrics_code_slot(200) != metrics_code_slot(201));
    CHECK(metrics_code_slot(404) != metrics_code_slot(413));
    CHECK_INT(metrics_code_slot(299), METRICS_NCODES - 1);
    CHECK_INT(metrics_code_slot(999), METRICS_NCODES - 1);
    CHECK_INT(metrics_code_slot(505), METRICS_NCODES - 2);
    int seen[METRICS_NCODES] = {0};
    static const int all[] = {100, 200, 201, 204, 304, 400, 404, 405, 408, 413, 417, 422,
                              431, 500, 501, 503, 505};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        CHECK_INT(seen[metrics_code_slot(all[i])]++, 0);
    CHECK_INT(metrics_method_slot(str("GET")), 0);
    CHECK_INT(metrics_method_slot(str("POST")), 2);
    CHECK_INT(metrics_method_slot(str("GETX")), METRICS_NMETHODS - 1);
    CHECK_INT(metrics_method_slot(str("get")), METRICS_NMETHODS - 1);
    CHECK_INT(metrics_method_slot(str("")), METRICS_NMETHODS - 1);
}

static const char *const routes[] = {"/accounts/*", "/orders", "/health"};

/* A request through the hooks, as the server core makes them, taking `ns`. */
static void request(metrics_worker_t *w, const char *method, int route, int status,
                    uint64_t in, size_t out, int64_t ns)
{
    metrics_req_t r = {0};
    metrics_req_read(&r);
    metrics_req_begin(w, &r, str(method), route);
    r.body = in;
    r.t0 = clock_now_ns() - ns; /* as if its first byte came ns ago */
    metrics_req_answered(w, &r, status, out);
    CHECK_INT(r.state, METRICS_REQ_NONE);
    CHECK_INT(r.t0, 0);
}

TEST(http_exposition_is_exact_for_known_figures)
{
    metrics_spec_t spec = {.nworkers = 1, .routes = routes, .nroutes = 3};
    metrics_t *m = metrics_new(&spec);
    metrics_worker_t *w = metrics_worker(m, 0);
    /* Durations far inside their buckets: 3 µs (le 0.00001), 2 s (le 2.5). */
    request(w, "GET", 0, 200, 0, 40, 3000);
    request(w, "GET", 0, 200, 0, 2, 3000);
    request(w, "POST", 1, 201, 30, 50, 2 * NS_PER_S);
    request(w, "GET", METRICS_ROUTE_OTHER, 404, 0, 21, 3000);
    request(w, "GET", METRICS_ROUTE_SKIP, 200, 0, 15, 3000); /* /health: not counted */
    w->conns_opened = 3;
    w->conns_closed = 1;
    buf_t b = BUF_INIT;
    CHECK_INT(metrics_write_workers(m, &b), 0);
    buf_append(&b, "", 1);
    /* The sums: the durations are not known to the ns (the clock ran), so _sum is checked
     * apart, and the lines around it exactly. */
    char *text = buf_start(&b);
    double sum_acc = sample(text, "http_request_duration_seconds_sum{route=\"/accounts/{id}\"}");
    CHECK(sum_acc >= 0.000006 && sum_acc < 0.5);
    double sum_ord = sample(text, "http_request_duration_seconds_sum{route=\"/orders\"}");
    CHECK(sum_ord >= 2 && sum_ord < 2.5);
    /* Blank the sums out for the exact comparison. */
    for (char *p = text; (p = strstr(p, "_sum{"));) {
        char *v = strchr(p, ' ') + 1;
        char *e = strchr(v, '\n');
        memset(v, 'S', (size_t)(e - v));
        p = e;
    }
    static const char want_head[] =
        "# HELP http_requests_total Answered HTTP requests, by method, route and status code.\n"
        "# TYPE http_requests_total counter\n"
        "http_requests_total{method=\"GET\",route=\"/accounts/{id}\",code=\"200\"} 2\n"
        "http_requests_total{method=\"POST\",route=\"/orders\",code=\"201\"} 1\n"
        "http_requests_total{method=\"GET\",route=\"other\",code=\"404\"} 1\n"
        "# HELP http_request_duration_seconds From the request's first byte read to its answer "
        "queued.\n"
        "# TYPE http_request_duration_seconds histogram\n";
    CHECK(strncmp(text, want_head, sizeof want_head - 1) == 0);
    if (strncmp(text, want_head, sizeof want_head - 1) != 0)
        fprintf(stderr, "%s", text);
    /* Cumulative buckets: the two 3 µs requests in the first and every one after it. */
    const char *le[] = {"0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001",
                        "0.0025",  "0.005",    "0.01",    "0.025",  "0.05",    "0.1",    "0.25",
                        "0.5",     "1",        "2.5",     "5",      "10",     "+Inf"};
    for (int i = 0; i < 20; i++) {
        char series[128];
        snprintf(series, sizeof series,
                 "http_request_duration_seconds_bucket{route=\"/accounts/{id}\",le=\"%s\"}", le[i]);
        CHECK_INT((long long)sample(text, series), 2);
        snprintf(series, sizeof series,
                 "http_request_duration_seconds_bucket{route=\"/orders\",le=\"%s\"}", le[i]);
        CHECK_INT((long long)sample(text, series), i >= 16 ? 1 : 0);
    }
    static const char want_tail[] =
        "http_request_duration_seconds_bucket{route=\"other\",le=\"+Inf\"} 1\n"
        "http_request_duration_seconds_sum{route=\"other\"} SSSSSSSSSSS\n"
        "http_request_duration_seconds_count{route=\"other\"} 1\n"
        "# HELP http_requests_in_flight Requests read and not yet answered.\n"
        "# TYPE http_requests_in_flight gauge\n"
        "http_requests_in_flight 0\n"
        "# HELP http_request_body_bytes_total Request body bytes (after de-chunking).\n"
        "# TYPE http_request_body_bytes_total counter\n"
        "http_request_body_bytes_total{route=\"/accounts/{id}\"} 0\n"
        "http_request_body_bytes_total{route=\"/orders\"} 30\n"
        "http_request_body_bytes_total{route=\"other\"} 0\n"
        "# HELP http_response_body_bytes_total Response body bytes.\n"
        "# TYPE http_response_body_bytes_total counter\n"
        "http_response_body_bytes_total{route=\"/accounts/{id}\"} 42\n"
        "http_response_body_bytes_total{route=\"/orders\"} 50\n"
        "http_response_body_bytes_total{route=\"other\"} 21\n"
        "# HELP http_connections_open Open client connections.\n"
        "# TYPE http_connections_open gauge\n"
        "http_connections_open 2\n"
        "# HELP http_connections_total Accepted connections.\n"
        "# TYPE http_connections_total counter\n"
        "http_connections_total 3\n";
    const char *tail = strstr(text, "http_request_duration_seconds_bucket{route=\"other\",le=\"+Inf\"}");
    CHECK(tail != NULL);
    if (tail)
        CHECK_STR(tail, want_tail);
    CHECK(strstr(text, "/health") == NULL);
    CHECK(strstr(text, "sql_") == NULL && strstr(text, "grpc_") == NULL);
    buf_free(&b);
    metrics_free(m);
}

TEST(workers_are_summed)
{
    metrics_spec_t spec = {.nworkers = 3, .routes = routes, .nroutes = 2, .sql = true};
    metrics_t *m = metrics_new(&spec);
    for (int i = 0; i < 3; i++) {
        metrics_worker_t *w = metrics_worker(m, i);
        for (int k = 0; k <= i; k++)
            request(w, "POST", 1, 201, 10, 5, 1000);
        w->conns_opened = 2;
        w->sql_pool_connections = 2;
        w->sql_pool_size = 3;
        w->sql_pool_waits = (uint64_t)i;
        w->sql_errors = 1;
        w->sql_unavailable = 4;
    }
    CHECK(metrics_worker(m, 3) == NULL);
    buf_t b = BUF_INIT;
    CHECK_INT(metrics_write_workers(m, &b), 0);
    buf_append(&b, "", 1);
    const char *t = buf_start(&b);
    CHECK_INT(sample(t, "http_requests_total{method=\"POST\",route=\"/orders\",code=\"201\"}"), 6);
    CHECK_INT(sample(t, "http_request_duration_seconds_count{route=\"/orders\"}"), 6);
    CHECK_INT(sample(t, "http_request_duration_seconds_bucket{route=\"/orders\",le=\"0.00001\"}"), 6);
    CHECK_INT(sample(t, "http_request_body_bytes_total{route=\"/orders\"}"), 60);
    CHECK_INT(sample(t, "http_response_body_bytes_total{route=\"/orders\"}"), 30);
    CHECK_INT(sample(t, "http_connections_total"), 6);
    CHECK_INT(sample(t, "http_connections_open"), 6);
    CHECK_INT(sample(t, "sql_pool_connections"), 6);
    CHECK_INT(sample(t, "sql_pool_size"), 9);
    CHECK_INT(sample(t, "sql_pool_waits_total"), 3);
    CHECK_INT(sample(t, "sql_errors_total"), 3);
    CHECK_INT(sample(t, "sql_unavailable_total"), 12);
    CHECK(strstr(t, "# TYPE sql_pool_waits_total counter\n") != NULL);
    CHECK(strstr(t, "# TYPE sql_pool_size gauge\n") != NULL);
    buf_free(&b);
    metrics_free(m);
}

TEST(in_flight_counts_requests_begun_and_not_answered)
{
    metrics_spec_t spec = {.nworkers = 1, .routes = routes, .nroutes = 2};
    metrics_t *m = metrics_new(&spec);
    metrics_worker_t *w = metrics_worker(m, 0);
    metrics_req_t a = {0}, b = {0}, c = {0};
    metrics_req_read(&a);
    metrics_req_begin(w, &a, str("GET"), 0);
    metrics_req_read(&b);
    metrics_req_begin(w, &b, str("GET"), 0);
    metrics_req_read(&c);
    metrics_req_begin(w, &c, str("GET"), METRICS_ROUTE_SKIP);
    buf_t out = BUF_INIT;
    CHECK_INT(metrics_write_workers(m, &out), 0);
    buf_append(&out, "", 1);
    CHECK_INT(sample(buf_start(&out), "http_requests_in_flight"), 2);
    metrics_req_answered(w, &a, 200, 1);
    metrics_req_drop(w, &b); /* its connection closed before the answer */
    metrics_req_drop(w, &c);
    buf_clear(&out);
    CHECK_INT(metrics_write_workers(m, &out), 0);
    buf_append(&out, "", 1);
    CHECK_INT(sample(buf_start(&out), "http_requests_in_flight"), 0);
    /* The dropped one was not answered: one request counted. */
    CHECK_INT(sample(buf_start(&out),
                     "http_requests_total{method=\"GET\",route=\"/accounts/{id}\",code=\"200\"}"),
              1);
    buf_free(&out);
    metrics_free(m);
}

TEST(a_request_refused_before_its_head_counts_as_other)
{
    metrics_spec_t spec = {.nworkers = 1, .routes = routes, .nroutes = 2};
    metrics_t *m = metrics_new(&spec);
    metrics_worker_t *w = metrics_worker(m, 0);
    metrics_req_t r = {0};
    metrics_req_read(&r);
    metrics_req_answered(w, &r, 400, 25);
    buf_t out = BUF_INIT;
    CHECK_INT(metrics_write_workers(m, &out), 0);
    buf_append(&out, "", 1);
    const char *t = buf_start(&out);
    CHECK_INT(sample(t, "http_requests_total{method=\"OTHER\",route=\"other\",code=\"400\"}"), 1);
    CHECK_INT(sample(t, "http_request_duration_seconds_count{route=\"other\"}"), 1);
    CHECK_INT(sample(t, "http_requests_in_flight"), 0);
    buf_free(&out);
    metrics_free(m);
}

TEST(pipelined_request_starts_with_the_read_that_brought_it)
{
    metrics_spec_t spec = {.nworkers = 1, .routes = routes, .nroutes = 2};
    metrics_t *m = metrics_new(&spec);
    metrics_worker_t *w = metrics_worker(m, 0);
    metrics_req_t r = {0};
    metrics_req_read(&r);
    int64_t read_at = r.read_ns;
    metrics_req_begin(w, &r, str("GET"), 0);
    CHECK_INT(r.t0, read_at);
    metrics_req_answered(w, &r, 200, 1);
    /* The next request was in the same read: no new read, it starts at that read. */
    metrics_req_begin(w, &r, str("GET"), 0);
    CHECK_INT(r.t0, read_at);
    metrics_req_answered(w, &r, 200, 1);
    metrics_free(m);
}

static const metrics_call_t calls[] = {
    {"stackbench.v1.Ticks", "Stream", "server_stream"},
    {"stackbench.v1.Ticks", "Quote", "unary"},
    {"grpc.health.v1.Health", "Check", "unary"},
};
#define STREAM "grpc_type=\"server_stream\",grpc_service=\"stackbench.v1.Ticks\",grpc_method=\"Stream\""
#define QUOTE "grpc_type=\"unary\",grpc_service=\"stackbench.v1.Ticks\",grpc_method=\"Quote\""
#define CHECKM "grpc_type=\"unary\",grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\""

TEST(grpc_families_replace_the_http_request_families)
{
    metrics_spec_t spec = {.nworkers = 2, .calls = calls, .ncalls = 3};
    metrics_t *m = metrics_new(&spec);
    metrics_worker_t *w0 = metrics_worker(m, 0), *w1 = metrics_worker(m, 1);
    int64_t t0 = clock_now_ns();
    metrics_call_started(w0, 0);
    for (int i = 0; i < 5; i++)
        metrics_call_msg(w0, 0);
    metrics_call_handled(w0, 0, 0, t0);
    metrics_call_started(w1, 1);
    metrics_call_msg_received(w1, 1);
    metrics_call_msg(w1, 1);
    metrics_call_handled(w1, 1, 0, t0);
    metrics_call_started(w1, 1);
    metrics_call_handled(w1, 1, 3, t0);
    buf_t b = BUF_INIT;
    CHECK_INT(metrics_write_workers(m, &b), 0);
    buf_append(&b, "", 1);
    const char *t = buf_start(&b);
    CHECK_INT(sample(t, "grpc_server_started_total{" STREAM "}"), 1);
    CHECK_INT(sample(t, "grpc_server_started_total{" QUOTE "}"), 2);
    CHECK_INT(sample(t, "grpc_server_started_total{" CHECKM "}"), -1);
    CHECK_INT(sample(t, "grpc_server_handled_total{" STREAM ",grpc_code=\"OK\"}"), 1);
    CHECK_INT(sample(t, "grpc_server_handled_total{" QUOTE ",grpc_code=\"OK\"}"), 1);
    CHECK_INT(sample(t, "grpc_server_handled_total{" QUOTE ","
                        "grpc_code=\"InvalidArgument\"}"),
              1);
    CHECK_INT(sample(t, "grpc_server_msg_sent_total{" STREAM "}"), 5);
    CHECK_INT(sample(t, "grpc_server_msg_sent_total{" QUOTE "}"), 1);
    CHECK_INT(sample(t, "grpc_server_msg_received_total{" QUOTE "}"), 1);
    CHECK_INT(sample(t, "grpc_server_msg_received_total{" STREAM "}"), -1);
    CHECK_INT(sample(t, "grpc_server_handling_seconds_count{" QUOTE "}"), 2);
    CHECK_INT(sample(t, "grpc_server_handling_seconds_bucket{" QUOTE ",le=\"+Inf\"}"),
              2);
    CHECK(strstr(t, "# TYPE grpc_server_handling_seconds histogram\n") != NULL);
    CHECK(strstr(t, "http_requests_total") == NULL);
    CHECK(strstr(t, "http_connections_total") != NULL);
    buf_free(&b);
    metrics_free(m);
}

TEST(process_figures)
{
    metrics_process_t p = {.cpu_seconds = 1.5, .resident_bytes = 4096, .virtual_bytes = 8192,
                           .start_time_seconds = 1700000000.25, .open_fds = 7, .max_fds = 1024};
    buf_t b = BUF_INIT;
    CHECK_INT(metrics_write_process(&p, &b), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
              "# TYPE process_cpu_seconds_total counter\n"
              "process_cpu_seconds_total 1.50\n"
              "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
              "# TYPE process_resident_memory_bytes gauge\n"
              "process_resident_memory_bytes 4096\n"
              "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
              "# TYPE process_virtual_memory_bytes gauge\n"
              "process_virtual_memory_bytes 8192\n"
              "# HELP process_start_time_seconds Start time of the process since unix epoch in "
              "seconds.\n"
              "# TYPE process_start_time_seconds gauge\n"
              "process_start_time_seconds 1700000000.25\n"
              "# HELP process_open_fds Number of open file descriptors.\n"
              "# TYPE process_open_fds gauge\n"
              "process_open_fds 7\n"
              "# HELP process_max_fds Maximum number of open file descriptors.\n"
              "# TYPE process_max_fds gauge\n"
              "process_max_fds 1024\n");
    /* This process's own, from /proc: plausible, not zero. */
    CHECK_INT(metrics_process_read(&p), 0);
    CHECK(p.resident_bytes > 0 && p.virtual_bytes >= p.resident_bytes);
    CHECK(p.open_fds >= 3 && p.max_fds >= p.open_fds);
    time_t now = time(NULL);
    CHECK(p.start_time_seconds > (double)now - 120 && p.start_time_seconds <= (double)now + 1);
    buf_free(&b);
}

T_MAIN(T(family_and_sample_lines), T(label_values_and_help_are_escaped),
       T(histogram_buckets_take_values_up_to_their_bound), T(status_codes_and_methods_have_slots),
       T(http_exposition_is_exact_for_known_figures), T(workers_are_summed),
       T(in_flight_counts_requests_begun_and_not_answered),
       T(a_request_refused_before_its_head_counts_as_other),
       T(pipelined_request_starts_with_the_read_that_brought_it),
       T(grpc_families_replace_the_http_request_families), T(process_figures))
