/* The load engine does not lie: it charges server stalls in open loop as the arithmetic
 * predicts, counts exactly what the server served, counts bad servers as errors and ends on
 * time. Servers run as separate processes; the engine runs in-process. */
#include "t.h"

#include <signal.h>
#include <stdatomic.h>

#include "core/clock.h"
#include "load/load.h"
#include "tproc.h"
#include "tsock.h"

static t_server_t srv;

static void start_tool(const char *mode, const char *a1, const char *a2)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", t_tool("badserver"));
    const char *argv[] = {path, mode, a1, a2, NULL};
    if (t_start(&srv, argv) != 0)
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
    CHECK_INT(t_stop(&srv, SIGTERM, 5000), 0);
    CHECK_INT(t_served(&srv), 4000);
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
    CHECK_INT(t_stop(&srv, SIGTERM, 5000), 0);
}

TEST(requests_counted_equal_requests_served)
{
    const char *argv[] = {t_stackbench(), "serve", "echo", "--port", "0", NULL};
    if (t_start(&srv, argv))
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
    CHECK_INT(t_stop(&srv, SIGTERM, 10000), 0);
    CHECK_INT(t_served(&srv), r.requests);
    load_result_free(&r);
}

/* A mix against the echo service: POST /echo {"n":N} (echoed back minified), GET /health,
 * HEAD /health (an answer with Content-Length and no body, among answers with bodies) and
 * GET /missing/N (404). The check sees every answer with what was sent, and checks one
 * against the other: the echoed N is the N drawn, the health body comes back for GET and
 * nothing for HEAD. So every answer proves that the server got that kind of request, and
 * counting them per kind gives the ratio the server saw. */
static struct {
    _Atomic uint64_t by_index[4];
    _Atomic uint64_t echo_value[6]; /* answers to POST /echo by the N sent */
    _Atomic uint64_t mismatches;
} seen;

static bool check_mix(const http_msg_t *m, const char *body, size_t len, const mix_sent_t *sent,
                      void *ud)
{
    int i = sent->index;
    bool ok = i >= 0 && i < 4;
    char want[64];
    if (i == 0) {
        int64_t n = sent->nvalues == 1 ? sent->values[0] : -1;
        int wn = snprintf(want, sizeof want, "{\"n\":%lld}", (long long)n);
        ok = n >= 1 && n <= 5 && m->status == 200 && len == (size_t)wn && !memcmp(body, want, len);
        if (ok)
            atomic_fetch_add(&seen.echo_value[n], 1);
    } else if (i == 1) {
        ok = sent->nvalues == 0 && m->status == 200 && len == 15 &&
             !memcmp(body, "{\"status\":\"ok\"}", 15);
    } else if (i == 2) {
        ok = sent->nvalues == 0 && m->status == 200 && len == 0 && m->content_length == 15;
    }
    if (ok)
        atomic_fetch_add(&seen.by_index[i], 1);
    else
        atomic_fetch_add(&seen.mismatches, 1);
    return ok;
}

TEST(mix_sends_each_template_by_weight_and_check_sees_what_was_sent)
{
    const char *argv[] = {t_stackbench(), "serve", "echo", "--port", "0", NULL};
    if (t_start(&srv, argv))
        exit(1);
    static const char *const hdr[] = {"Content-Type: application/json"};
    const char *echo = "{\"n\": {rand:1:5}}";
    mix_template_t rq[] = {
        {"POST", "/echo", echo, strlen(echo), 6},
        {"GET", "/health", NULL, 0, 2},
        {"HEAD", "/health", NULL, 0, 1},
        {"GET", "/missing/{rand:1:3}", NULL, 0, 1},
    };
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.connections = 8;
    cfg.threads = 2;
    cfg.duration_ns = 1500 * NS_PER_MS;
    cfg.headers = (const char **)hdr;
    cfg.nheaders = 1;
    cfg.requests = rq;
    cfg.nrequests = 4;
    cfg.seed = 7;
    cfg.check = check_mix;
    load_result_t r;
    run(&cfg, &r, "");
    uint64_t n[4];
    for (int i = 0; i < 4; i++)
        n[i] = atomic_load(&seen.by_index[i]);
    n[3] = r.by_request[3].status[404];
    fprintf(stderr, "    %llu answers: %llu echo, %llu GET, %llu HEAD, %llu 404; %llu mismatches\n",
            (unsigned long long)r.requests, (unsigned long long)n[0], (unsigned long long)n[1],
            (unsigned long long)n[2], (unsigned long long)n[3],
            (unsigned long long)atomic_load(&seen.mismatches));
    CHECK(r.requests > 1000);
    CHECK_INT(atomic_load(&seen.mismatches), 0);
    CHECK_INT(r.errors[LOAD_ERR_BODY], 0);
    /* the 404s are the only errors: status errors, charged to their template */
    CHECK_INT(load_errors_total(&r), n[3]);
    CHECK_INT(r.errors[LOAD_ERR_STATUS], n[3]);
    CHECK_INT(r.by_request[3].errors[LOAD_ERR_STATUS], n[3]);
    CHECK_INT(r.by_request[0].errors[LOAD_ERR_STATUS], 0);
    /* every answer is accounted for once, under its template */
    CHECK_INT(r.nby_request, 4);
    CHECK_INT(n[0] + n[1] + n[2] + n[3], r.requests);
    uint64_t sent = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_INT(r.by_request[i].requests, n[i]);
        CHECK_INT(r.by_request[i].sent, n[i]); /* nothing lost: each sent request answered */
        CHECK_INT(hist_count(r.by_request[i].latency), n[i]);
        sent += r.by_request[i].sent;
    }
    /* the weights, 6:2:1:1, within 3 points (several standard deviations at > 1000 requests) */
    static const double share[] = {0.6, 0.2, 0.1, 0.1};
    for (int i = 0; i < 4; i++) {
        double got = (double)n[i] / (double)r.requests;
        if (got < share[i] - 0.03 || got > share[i] + 0.03) {
            fprintf(stderr, "    template %d: share %.3f, expected %.2f\n", i, got, share[i]);
            t_failures++;
        }
    }
    for (int v = 1; v <= 5; v++)
        CHECK(atomic_load(&seen.echo_value[v]) > 0);
    CHECK_INT(t_stop(&srv, SIGTERM, 10000), 0);
    CHECK_INT(t_served(&srv), sent); /* the server saw exactly what was sent */
    load_result_free(&r);
}

TEST(mix_with_a_url_path_is_refused)
{
    mix_template_t rq = {"GET", "/a", NULL, 0, 1};
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.url = "http://127.0.0.1:1/path";
    cfg.requests = &rq;
    cfg.nrequests = 1;
    load_result_t r;
    char err[256] = "";
    CHECK_INT(load_run(&cfg, &r, err, sizeof err), -1);
    CHECK(strstr(err, "not a path") != NULL);
}

/* A bad server: the run ends on time, errors are counted by kind, connections re-opened. */
static void bad_server_case_as(load_proto_t proto, const char *mode, const char *arg, int kind,
                               bool reopens)
{
    start_tool(mode, arg, NULL);
    load_config_t cfg;
    load_config_defaults(&cfg);
    cfg.proto = proto;
    cfg.streams = proto == LOAD_HTTP1 ? 1 : 4;
    cfg.connections = 4;
    cfg.threads = 2;
    cfg.duration_ns = 1 * NS_PER_S;
    cfg.timeout_ns = 200 * NS_PER_MS;
    load_result_t r;
    int64_t t0 = clock_now_ns();
    run(&cfg, &r, "/");
    double took = (double)(clock_now_ns() - t0) / NS_PER_S;
    fprintf(stderr, "    %s%s: %.2fs, %llu answers, %llu %s errors, %llu connects\n",
            proto == LOAD_HTTP1 ? "" : proto == LOAD_H2 ? "h2 " : "grpc ", mode, took,
            (unsigned long long)r.requests, (unsigned long long)r.errors[kind],
            load_err_names[kind], (unsigned long long)r.connects);
    CHECK(took < 1 + 0.2 + 0.5);
    CHECK(r.errors[kind] > 0);
    if (reopens)
        CHECK(r.connects > (uint64_t)cfg.connections);
    load_result_free(&r);
    CHECK_INT(t_stop(&srv, SIGTERM, 5000), 0);
}

static void bad_server_case(const char *mode, const char *arg, int kind, bool reopens)
{
    bad_server_case_as(LOAD_HTTP1, mode, arg, kind, reopens);
}

/* The same servers against HTTP/2 and gRPC connections: what HTTP/1.1 calls garbage is no
 * HTTP/2 either, a reset is a reset, silence a timeout of every stream. */
TEST(h2_and_grpc_against_bad_servers_count_the_same_errors)
{
    bad_server_case_as(LOAD_H2, "reset", NULL, LOAD_ERR_READ, true);
    bad_server_case_as(LOAD_GRPC, "reset", NULL, LOAD_ERR_READ, true);
    bad_server_case_as(LOAD_H2, "garbage", NULL, LOAD_ERR_PARSE, true);
    bad_server_case_as(LOAD_GRPC, "silent", NULL, LOAD_ERR_TIMEOUT, false);
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
    CHECK_INT(t_stop(&srv, SIGTERM, 5000), 0);
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
    const char *sv[] = {t_stackbench(), "serve", "echo", "--port", "0", NULL};
    if (t_start(&srv, sv))
        exit(1);
    char url[256], out[65536];
    snprintf(url, sizeof url, "%s/health", srv.url);
    const char *argv[] = {t_stackbench(), "load", "-c", "2", "-t", "1", "-d", "300ms",
                          "--json", "-", "-q", url, NULL};
    CHECK_INT(t_run(argv, out, sizeof out, 10000), 0);
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
    const char *bad1[] = {t_stackbench(), "load", "-c", "0", url, NULL};
    CHECK_INT(t_run(bad1, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "-c") != NULL);
    const char *bad2[] = {t_stackbench(), "load", "--rate", "abc", url, NULL};
    CHECK_INT(t_run(bad2, out, sizeof out, 5000), 2);
    const char *bad3[] = {t_stackbench(), "load", "ftp://x", NULL};
    CHECK_INT(t_run(bad3, out, sizeof out, 5000), 1);
    CHECK(strstr(out, "http://") != NULL);
    /* without --mix, nothing of the mix in the JSON */
    const char *plain[] = {t_stackbench(), "load", "-c", "1", "-t", "1", "-d", "100ms",
                           "--json", "-", "-q", url, NULL};
    CHECK_INT(t_run(plain, out, sizeof out, 10000), 0);
    CHECK(strstr(out, "requests_by_template") == NULL && strstr(out, "\"seed\"") == NULL);
    CHECK(strstr(out, "\"method\": \"GET\"") != NULL);
    CHECK_INT(t_stop(&srv, SIGTERM, 5000), 0);
}

/* --mix through the command line: the JSON's per-template objects, the text's table, and one
 * clear line and exit 2 for each way to get it wrong. */
TEST(cli_mix_reports_by_template_and_bad_mixes_exit_2)
{
    const char *sv[] = {t_stackbench(), "serve", "echo", "--port", "0", NULL};
    if (t_start(&srv, sv))
        exit(1);
    static char out[1 << 16];
    const char *json[] = {t_stackbench(), "load", "-c", "2", "-t", "1", "-d", "300ms",
                          "--seed", "5", "--json", "-", "-q",
                          "--mix", "3 POST /echo {\"n\": {rand:1:5}}",
                          "--mix", "1 GET /health", srv.url, NULL};
    CHECK_INT(t_run(json, out, sizeof out, 10000), 0);
    size_t k = 0;
    for (size_t i = 0; out[i]; i++)
        if (out[i] != ' ' && out[i] != '\n')
            out[k++] = out[i];
    out[k] = 0;
    static const char *keys[] = {
        "\"method\":null,", "\"seed\":5,", "\"requests_by_template\":[{",
        "\"method\":\"POST\",\"target\":\"/echo\",\"body\":\"{\\\"n\\\":{rand:1:5}}\","
        "\"weight\":3,\"sent\":",
        "\"method\":\"GET\",\"target\":\"/health\",\"body\":null,\"weight\":1,\"sent\":",
        "\"requests\":", "\"status\":{\"200\":", "\"errors\":{\"connect\":0,",
        "\"latency_us\":{\"p50\":", "\"p90\":", "\"p99\":", "\"p999\":"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strstr(out, keys[i])) {
            fprintf(stderr, "    missing %s in:\n%s\n", keys[i], out);
            t_failures++;
        }
    const char *text[] = {t_stackbench(), "load", "-c", "2", "-t", "1", "-d", "200ms",
                          "--mix", "3 POST /echo {\"n\": {rand:1:5}}", "--mix", "1 GET /health",
                          srv.url, NULL};
    CHECK_INT(t_run(text, out, sizeof out, 10000), 0);
    CHECK(strstr(out, "  mix           weight      sent   answers       p50       p99   non-2xx"
                      "    errors  request\n") != NULL);
    CHECK(strstr(out, "  #1             75.0%") != NULL);
    CHECK(strstr(out, "POST /echo {\"n\": {rand:1:5}}\n") != NULL);
    CHECK(strstr(out, "  #2             25.0%") != NULL);

    static const struct {
        const char *a, *b, *c, *d, *url, *message;
    } bad[] = {
        {"--mix", "0 GET /x", NULL, NULL, NULL, "weight 1..1000000"},
        {"--mix", "1 GET /x/{rnd:1:2}", NULL, NULL, NULL, "unknown placeholder '{rnd:1:2}'"},
        {"--mix", "1 GET /x/{rand:9:1}", NULL, NULL, NULL, "LO is above HI"},
        {"--mix", "1 GET /x/{rand:1:y}", NULL, NULL, NULL, "signed 64-bit integers"},
        {"--mix", "1 GET", NULL, NULL, NULL, "WEIGHT METHOD TARGET"},
        {"--mix", "1 GET /x", "-m", "POST", NULL, "cannot be combined with -m"},
        {"--mix", "1 GET /x", "--body", "{}", NULL, "cannot be combined"},
        {"--mix", "1 GET /x", NULL, NULL, "/path", "only the host and port"},
        {"--seed", "-1", NULL, NULL, NULL, "--seed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char url[256];
        snprintf(url, sizeof url, "%s%s", srv.url, bad[i].url ? bad[i].url : "");
        const char *argv[12] = {t_stackbench(), "load", "-d", "100ms", bad[i].a, bad[i].b};
        int n = 6;
        if (bad[i].c) {
            argv[n++] = bad[i].c;
            argv[n++] = bad[i].d;
        }
        argv[n++] = url;
        argv[n] = NULL;
        int rc = t_run(argv, out, sizeof out, 5000);
        if (rc != 2 || !strstr(out, bad[i].message) || strchr(out, '\n') != out + strlen(out) - 1) {
            fprintf(stderr, "    %s '%s': exit %d, expected 2 and one line with '%s': %s\n",
                    bad[i].a, bad[i].b, rc, bad[i].message, out);
            t_failures++;
        }
    }
    /* 17 templates: one too many */
    const char *many[48] = {t_stackbench(), "load", "-d", "100ms"};
    int n = 4;
    for (int i = 0; i < 17; i++) {
        many[n++] = "--mix";
        many[n++] = "1 GET /x";
    }
    many[n++] = srv.url;
    CHECK_INT(t_run(many, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "at most 16 templates") != NULL);
    CHECK_INT(t_stop(&srv, SIGTERM, 5000), 0);
}

T_MAIN(T(h2_and_grpc_against_bad_servers_count_the_same_errors), T(open_loop_charges_a_stall_to_every_request_it_delayed), T(closed_loop_hides_the_same_stall),
       T(requests_counted_equal_requests_served),
       T(server_that_closes_without_warning_counts_read_errors),
       T(server_that_resets_counts_read_errors), T(server_that_sends_garbage_counts_parse_errors),
       T(server_that_never_answers_counts_timeouts),
       T(nobody_listening_counts_connect_errors_and_ends_on_time),
       T(cli_json_has_every_key_and_bad_flags_exit_2),
       T(mix_sends_each_template_by_weight_and_check_sees_what_was_sent),
       T(mix_with_a_url_path_is_refused), T(cli_mix_reports_by_template_and_bad_mixes_exit_2))
