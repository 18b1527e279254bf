/* The load engine does not lie: it charges server stalls in open loop as the arithmetic
 * predicts, counts exactly what the server served, counts bad servers as errors and ends on
 * time. Servers run as separate processes; the engine runs in-process. */
#include "t.h"

#include <signal.h>

#include "core/clock.h"
#include "load/load.h"
#include "proc.h"

static proc_t srv;

static void start_tool(const char *mode, const char *a1, const char *a2)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", proc_tool("badserver"));
    const char *argv[] = {path, mode, a1, a2, NULL};
    if (proc_start(&srv, argv) != 0)
        exit(1);
}

static void run(load_config_t *cfg, load_result_t *res, const char *path)
{
    static char url[256];
    snprintf(url, sizeof url, "%s%s", srv.url, path);
    cfg->url = url;
    char err[256];
    if (load_run(cfg, res, err, sizeof err) != 0) {
        fprintf(stderr, "    load_run: %s\n", err);
        exit(1);
    }
}

static double ms(int64_t ns) { return (double)ns / 1e6; }

/* 1000 req/s for 4 s; the server stalls 200 ms out of every 1000 ms. 20 % of requests are
 * delayed by 0..200 ms, uniformly: p90 = 100 ms, p99 = 180 ms, p99.9 = 198 ms, mean = 20 ms. */
TEST(open_loop_charges_a_stall_to_every_request_it_delayed)
{
    start_tool("stall", "1000", "200");
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.connections = 10;
    cfg.threads = 1;
    cfg.rate = 1000;
    cfg.duration_ns = 4 * NS_PER_S;
    load_result_t r;
    run(&cfg, &r, "/");
    double p50 = ms(hist_percentile(r.latency, 50)), p90 = ms(hist_percentile(r.latency, 90));
    double p99 = ms(hist_percentile(r.latency, 99)), p999 = ms(hist_percentile(r.latency, 99.9));
    double mean = hist_mean(r.latency) / 1e6;
    fprintf(stderr, "    open loop: p50 %.2f p90 %.1f p99 %.1f p99.9 %.1f mean %.1f ms, %llu req\n",
            p50, p90, p99, p999, mean, (unsigned long long)r.requests);
    CHECK_INT(r.requests, 4000);
    CHECK_INT(load_errors_total(&r), 0);
    CHECK(p50 < 10);
    CHECK(p90 > 80 && p90 < 120);
    CHECK(p99 > 165 && p99 < 200);
    CHECK(p999 > 185 && p999 < 215);
    CHECK(mean > 15 && mean < 25);
    load_result_free(&r);
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000), 0);
    CHECK_INT(proc_served(&srv), 4000);
}

/* The same server under a closed loop: each stall delays one request per connection, so the
 * percentiles hide it. This is the coordinated omission that the open loop corrects. */
TEST(closed_loop_hides_the_same_stall)
{
    start_tool("stall", "1000", "200");
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.connections = 10;
    cfg.threads = 1;
    cfg.duration_ns = 3 * NS_PER_S;
    load_result_t r;
    run(&cfg, &r, "/");
    double p99 = ms(hist_percentile(r.latency, 99)), max = ms(hist_max(r.latency));
    fprintf(stderr, "    closed loop: p99 %.2f ms, max %.1f ms, %llu req\n", p99, max,
            (unsigned long long)r.requests);
    CHECK(p99 < 20);
    CHECK(max > 100); /* the stall is there, only the percentiles do not see it */
    load_result_free(&r);
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000), 0);
}

TEST(requests_counted_equal_requests_served)
{
    const char *argv[] = {proc_stackbench(), "serve", "echo", "--port", "0", NULL};
    if (proc_start(&srv, argv))
        exit(1);
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.connections = 16;
    cfg.threads = 2;
    cfg.duration_ns = 1500 * NS_PER_MS;
    cfg.method = "POST";
    cfg.body = "{\"a\": [1, 2, 3], \"b\": \"text\"}";
    cfg.body_len = strlen(cfg.body);
    cfg.expect_status = 200;
    load_result_t r;
    run(&cfg, &r, "/echo");
    CHECK(r.requests > 100);
    CHECK_INT(load_errors_total(&r), 0);
    CHECK_INT(r.status[200], r.requests);
    CHECK_INT(proc_stop(&srv, SIGTERM, 10000), 0);
    CHECK_INT(proc_served(&srv), r.requests);
    load_result_free(&r);
}

/* A bad server: the run ends on time, errors are counted by kind, connections re-opened. */
static void bad_server_case(const char *mode, const char *arg, int kind, bool reopens)
{
    start_tool(mode, arg, NULL);
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.connections = 4;
    cfg.threads = 2;
    cfg.duration_ns = 1 * NS_PER_S;
    cfg.timeout_ns = 200 * NS_PER_MS;
    load_result_t r;
    int64_t t0 = clock_now_ns();
    run(&cfg, &r, "/");
    double took = (double)(clock_now_ns() - t0) / NS_PER_S;
    fprintf(stderr, "    %s: %.2fs, %llu answers, %llu %s errors, %llu connects\n", mode, took,
            (unsigned long long)r.requests, (unsigned long long)r.errors[kind],
            load_err_names[kind], (unsigned long long)r.connects);
    CHECK(took < 1 + 0.2 + 0.5);
    CHECK(r.errors[kind] > 0);
    if (reopens)
        CHECK(r.connects > (uint64_t)cfg.connections);
    load_result_free(&r);
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000), 0);
}

TEST(server_that_closes_without_warning_counts_read_errors)
{
    bad_server_case("close-after", "3", LOAD_ERR_READ, true);
}
TEST(server_that_resets_counts_read_errors) { bad_server_case("reset", NULL, LOAD_ERR_READ, true); }
TEST(server_that_sends_garbage_counts_parse_errors)
{
    bad_server_case("garbage", NULL, LOAD_ERR_PARSE, true);
}
TEST(server_that_never_answers_counts_timeouts)
{
    bad_server_case("silent", NULL, LOAD_ERR_TIMEOUT, true);
}

TEST(nobody_listening_counts_connect_errors_and_ends_on_time)
{
    /* Find a port nobody listens on: start a server, learn its port, stop it. */
    start_tool("silent", NULL, NULL);
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000), 0);
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.duration_ns = 500 * NS_PER_MS;
    load_result_t r;
    int64_t t0 = clock_now_ns();
    run(&cfg, &r, "/");
    CHECK((clock_now_ns() - t0) < 2 * NS_PER_S);
    CHECK(r.errors[LOAD_ERR_CONNECT] > 0);
    CHECK_INT(r.requests, 0);
    load_result_free(&r);
}

TEST(cli_json_has_every_key_and_bad_flags_exit_2)
{
    const char *sv[] = {proc_stackbench(), "serve", "echo", "--port", "0", NULL};
    if (proc_start(&srv, sv))
        exit(1);
    char url[256], out[65536];
    snprintf(url, sizeof url, "%s/health", srv.url);
    const char *argv[] = {proc_stackbench(), "load", "-c", "2", "-t", "1", "-d", "300ms",
                          "--json", "-", "-q", url, NULL};
    CHECK_INT(proc_run(argv, out, sizeof out, 10000), 0);
    /* compare without white space, so that layout is free to change */
    size_t k = 0;
    for (size_t i = 0; out[i]; i++)
        if (out[i] != ' ' && out[i] != '\n')
            out[k++] = out[i];
    out[k] = 0;
    static const char *keys[] = {"\"url\":", "\"connections\":2,", "\"threads\":1,",
                                 "\"duration_s\":0.3,", "\"rate\":null,", "\"requests\":", "\"rps\":",
                                 "\"latency_us\":{", "\"min\":", "\"p50\":", "\"p90\":", "\"p99\":",
                                 "\"p999\":", "\"p9999\":", "\"max\":", "\"mean\":", "\"stdev\":",
                                 "\"status\":{\"200\":", "\"errors\":{\"connect\":0,",
                                 "\"read\":0,", "\"write\":0,", "\"timeout\":0,", "\"parse\":0,",
                                 "\"status\":0,", "\"bytes_in\":", "\"bytes_out\":"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strstr(out, keys[i])) {
            fprintf(stderr, "    missing %s in:\n%s\n", keys[i], out);
            t_failures++;
        }
    const char *bad1[] = {proc_stackbench(), "load", "-c", "0", url, NULL};
    CHECK_INT(proc_run(bad1, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "-c") != NULL);
    const char *bad2[] = {proc_stackbench(), "load", "--rate", "abc", url, NULL};
    CHECK_INT(proc_run(bad2, out, sizeof out, 5000), 2);
    const char *bad3[] = {proc_stackbench(), "load", "ftp://x", NULL};
    CHECK_INT(proc_run(bad3, out, sizeof out, 5000), 1);
    CHECK(strstr(out, "http://") != NULL);
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000), 0);
}

T_MAIN(T(open_loop_charges_a_stall_to_every_request_it_delayed), T(closed_loop_hides_the_same_stall),
       T(requests_counted_equal_requests_served),
       T(server_that_closes_without_warning_counts_read_errors),
       T(server_that_resets_counts_read_errors), T(server_that_sends_garbage_counts_parse_errors),
       T(server_that_never_answers_counts_timeouts),
       T(nobody_listening_counts_connect_errors_and_ends_on_time),
       T(cli_json_has_every_key_and_bad_flags_exit_2))
