/* `stackbench serve grpc` checked by real peers rather than by ourselves: h2spec (HTTP/2
 * conformance, every server case), grpcurl (a real client, with -proto), grpc-go's and tonic's
 * clients running the contract (peers/go/bin/grpc-check, peers/rust/target/release/grpc-check:
 * unary, stream, invalid fields, unknown method, deadline, cancel, health, concurrent streams);
 * and what only a misbehaving client shows: one that asks for endless streams with huge
 * windows and then stops reading holds its streams, not the server's memory, and the server
 * goes on serving others.
 *
 * h2spec and grpcurl are built by scripts/install.sh into .tools/bin, the checkers by `make
 * peers`; without them these tests fail, naming what brings them: they never pass silently.
 * Env: STACKBENCH, SB_ROOT (the checkout). */
#include "t.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/ticks.h"
#include "core/clock.h"
#include "load/load.h"
#include "core/proc.h"
#include "tproc.h"
#include "tsock.h"

static t_server_t srv;
static char out[1 << 16];

static void start(const char *workers)
{
    const char *argv[] = {t_stackbench(), "serve", "grpc", "--port", "0", "--workers", workers,
                          NULL};
    if (t_start(&srv, argv) != 0) {
        fprintf(stderr, "    serve grpc did not start\n");
        exit(1);
    }
}

/* $SB_ROOT/rel when it is an executable; NULL (the failure said, with what brings it). */
static const char *need(const char *rel, const char *brings)
{
    static char path[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    if (access(path, X_OK) == 0)
        return path;
    fprintf(stderr, "    %s not found: %s brings it\n", path, brings);
    t_failures++;
    return NULL;
}

static const char *proto_dir(void)
{
    static char dir[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(dir, sizeof dir, "%s/contracts/grpc", root ? root : ".");
    return dir;
}

static void stop_ok(void)
{
    CHECK_INT(t_stop(&srv, SIGTERM, 10000), 0);
}

TEST(h2spec_passes_every_server_case)
{
    const char *h2spec = need(".tools/bin/h2spec", "scripts/install.sh");
    if (!h2spec)
        return;
    start("1");
    char port[16];
    snprintf(port, sizeof port, "%d", srv.port);
    const char *argv[] = {h2spec, "-h", "127.0.0.1", "-p", port, "-o", "5", NULL};
    int rc = t_run(argv, out, sizeof out, 120000);
    if (rc != 0 || !strstr(out, " 0 failed"))
        fprintf(stderr, "    h2spec exited %d:\n%s\n", rc, out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "145 tests, 145 passed") != NULL);
    stop_ok();
}

/* grpcurl -plaintext -import-path contracts/grpc -proto FILE -d DATA addr METHOD */
static int grpcurl(const char *bin, const char *proto, const char *data, const char *method,
                   const char *extra)
{
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", srv.port);
    const char *argv[16];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "-plaintext";
    if (extra) {
        argv[n++] = "-max-time";
        argv[n++] = extra;
    }
    argv[n++] = "-import-path";
    argv[n++] = proto_dir();
    argv[n++] = "-proto";
    argv[n++] = proto;
    argv[n++] = "-d";
    argv[n++] = data;
    argv[n++] = addr;
    argv[n++] = method;
    argv[n] = NULL;
    return t_run(argv, out, sizeof out, 20000);
}

TEST(grpcurl_calls_both_methods_and_the_health_check)
{
    const char *g = need(".tools/bin/grpcurl", "scripts/install.sh");
    if (!g)
        return;
    start("1");
    CHECK_INT(grpcurl(g, "ticks.proto", "{\"symbol\":\"AAPL\"}", "stackbench.v1.Ticks/Quote", NULL),
              0);
    CHECK(strstr(out, "\"priceMicros\": \"45295362\"") != NULL);
    CHECK(strstr(out, "\"seq\"") == NULL); /* 0: absent */

    CHECK_INT(grpcurl(g, "ticks.proto", "{\"symbol\":\"AAPL\",\"count\":3,\"payload_bytes\":2}",
                      "stackbench.v1.Ticks/Stream", NULL),
              0);
    CHECK(strstr(out, "\"seq\": \"1\"") && strstr(out, "\"seq\": \"3\""));
    CHECK(strstr(out, "\"priceMicros\": \"46135581\"") != NULL);
    CHECK(strstr(out, "\"payload\": \"AQI=\"") != NULL); /* bytes 1, 2 */
    CHECK(strstr(out, "\"seq\": \"4\"") == NULL);

    CHECK(grpcurl(g, "ticks.proto", "{\"symbol\":\"aapl\"}", "stackbench.v1.Ticks/Quote", NULL) !=
          0);
    CHECK(strstr(out, "Code: InvalidArgument") != NULL);
    CHECK(strstr(out, "Message: symbol: want 1-12 of [A-Z0-9.]") != NULL);

    CHECK(grpcurl(g, "ticks.proto", "{\"symbol\":\"AAPL\",\"count\":1000001}",
                  "stackbench.v1.Ticks/Stream", NULL) != 0);
    CHECK(strstr(out, "Message: count: want 1-1000000") != NULL);

    CHECK_INT(grpcurl(g, "health.proto", "{}", "grpc.health.v1.Health/Check", NULL), 0);
    CHECK(strstr(out, "\"status\": \"SERVING\"") != NULL);
    CHECK(grpcurl(g, "health.proto", "{\"service\":\"nope\"}", "grpc.health.v1.Health/Check",
                  NULL) != 0);
    CHECK(strstr(out, "Code: NotFound") != NULL);

    /* A deadline that passes mid-stream ends it with DEADLINE_EXCEEDED. */
    CHECK(grpcurl(g, "ticks.proto", "{\"symbol\":\"AAPL\",\"count\":1000000,\"payload_bytes\":65536}",
                  "stackbench.v1.Ticks/Stream", "0.3") != 0);
    CHECK(strstr(out, "Code: DeadlineExceeded") != NULL);
    stop_ok();
    /* Answered with a status: 2 + 2 + 2 + 1 (the deadline's, when the server saw it first) */
    CHECK(t_served(&srv) >= 6);
}

static void checker(const char *rel, const char *brings)
{
    const char *bin = need(rel, brings);
    if (!bin)
        return;
    start("2");
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", srv.port);
    const char *argv[] = {bin, addr, NULL};
    int rc = t_run(argv, out, sizeof out, 60000);
    if (rc != 0)
        fprintf(stderr, "    %s exited %d:\n%s\n", rel, rc, out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "FAIL") == NULL);
    stop_ok();
}

TEST(grpc_gos_client_runs_the_contract)
{
    checker("peers/go/bin/grpc-check", "make peers");
}

TEST(tonics_client_runs_the_contract)
{
    checker("peers/rust/target/release/grpc-check", "make peers");
}

/* ---- a client that stops reading ---- */

/* VmRSS of pid, KiB; -1 when unreadable. */
static long rss_kib(pid_t pid)
{
    uint64_t kib;
    return proc_rss_kib(pid, &kib) == 0 ? (long)kib : -1;
}

static ssize_t send_all(nghttp2_session *s, const uint8_t *p, size_t n, int flags, void *ud)
{
    int fd = *(int *)ud;
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0)
        return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
    return w;
}

static ssize_t body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    /* StreamRequest{symbol "AAPL", count 1000000, payload_bytes 65536}, prefixed */
    static const uint8_t msg[] = {0, 0, 0, 0, 14, 0x0a, 4, 'A', 'A', 'P', 'L', 0x10, 0xc0,
                                  0x84, 0x3d, 0x18, 0x80, 0x80, 0x04};
    memcpy(buf, msg, sizeof msg);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return sizeof msg;
}

/* Opens n endless streams on one connection with windows of 2^31-1 (flow control will not
 * hold the server: only the socket does), sends them, and returns the connection unread. */
static int endless_streams(int n, nghttp2_session **out_session, int *fd_out)
{
    static int fd;
    fd = sock_connect(srv.port);
    if (fd < 0)
        return -1;
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, send_all);
    nghttp2_session *s;
    nghttp2_session_client_new(&s, cb, &fd);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (1u << 31) - 1}};
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 1);
    nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, (1 << 30));
    for (int i = 0; i < n; i++) {
        char authority[32];
        snprintf(authority, sizeof authority, "127.0.0.1:%d", srv.port);
#define NV(k, v) {(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE}
        nghttp2_nv nv[] = {NV(":method", "POST"), NV(":scheme", "http"),
                           NV(":authority", authority), NV(":path", "/stackbench.v1.Ticks/Stream"),
                           NV("content-type", "application/grpc"), NV("te", "trailers")};
        nghttp2_data_provider prd = {.read_callback = body_read};
        if (nghttp2_submit_request(s, NULL, nv, sizeof nv / sizeof nv[0], &prd, NULL) < 0)
            return -1;
    }
    if (nghttp2_session_send(s) != 0)
        return -1;
    *out_session = s;
    *fd_out = fd;
    return 0;
}

TEST(a_client_that_stops_reading_holds_its_streams_not_the_servers_memory)
{
    const char *g = need(".tools/bin/grpcurl", "scripts/install.sh");
    if (!g)
        return;
    start("1");
    long before = rss_kib(srv.pid);
    nghttp2_session *s[4];
    int fds[4];
    for (int c = 0; c < 4; c++)
        CHECK_INT(endless_streams(50, &s[c], &fds[c]), 0);
    /* Each stream could send 64 GB; the server sends until the sockets are full, then waits. */
    usleep(1500 * 1000);
    long during = rss_kib(srv.pid);
    fprintf(stderr, "    VmRSS %ld KiB before, %ld KiB with 200 stalled streams\n", before,
            during);
    CHECK(before > 0 && during > 0);
    /* 200 streams, each with at most one 64 KiB message pending, and 64 KiB of output per
     * connection: under 16 MiB, where an unbounded server would grow by gigabytes. */
    CHECK(during - before < 24 * 1024);
    /* And it stays there: the server is waiting, not making messages nobody reads. */
    usleep(1000 * 1000);
    long later = rss_kib(srv.pid);
    fprintf(stderr, "    VmRSS %ld KiB a second later\n", later);
    CHECK(later - during < 1024);
    /* The one worker still serves everyone else. */
    CHECK_INT(grpcurl(g, "ticks.proto", "{\"symbol\":\"MSFT\",\"count\":2}",
                      "stackbench.v1.Ticks/Stream", NULL),
              0);
    CHECK(strstr(out, "\"priceMicros\": \"431584221\"") != NULL);
    for (int c = 0; c < 4; c++) {
        nghttp2_session_del(s[c]);
        close(fds[c]);
    }
    stop_ok();
}

TEST(a_graceful_stop_finishes_the_calls_in_flight_and_counts_them)
{
    const char *g = need(".tools/bin/grpcurl", "scripts/install.sh");
    if (!g)
        return;
    start("1");
    for (int i = 0; i < 3; i++)
        CHECK_INT(grpcurl(g, "ticks.proto", "{\"symbol\":\"AAPL\"}", "stackbench.v1.Ticks/Quote",
                          NULL),
                  0);
    stop_ok();
    CHECK_INT(t_served(&srv), 3);
}

/* ---- the load engine's gRPC against it ---- */

static bool every_tick(const mix_sent_t *sent, uint64_t k, const uint8_t *msg, size_t len,
                       void *ud)
{
    if (!msg)
        return k == 20;
    return ticks_tick_ok(msg, len, "AAPL", 4, ticks_symbol_hash("AAPL", 4), k, 8);
}

static void grpc_load(load_config_t *cfg, load_result_t *r, const char *method,
                      const char *msg, size_t len, load_grpc_check_cb check)
{
    static char url[256];
    load_config_defaults(cfg);
    snprintf(url, sizeof url, "%s%s", srv.url, method);
    cfg->url = url;
    cfg->proto = LOAD_GRPC;
    cfg->method = "POST";
    cfg->body = msg;
    cfg->body_len = len;
    cfg->connections = 4;
    cfg->streams = 8;
    cfg->threads = 1;
    cfg->duration_ns = 1 * NS_PER_S;
    cfg->grpc_check = check;
    char err[256];
    if (load_run(cfg, r, err, sizeof err) != 0) {
        fprintf(stderr, "    load_run: %s\n", err);
        exit(1);
    }
}

TEST(the_load_engines_grpc_counts_every_call_and_message_the_server_sent)
{
    start("1");
    /* Stream{"AAPL", count 20, payload 8}: every tick checked from the wire. */
    static const char stream_msg[] = "\x0a\x04" "AAPL" "\x10\x14\x18\x08";
    load_config_t cfg;
    load_result_t r;
    grpc_load(&cfg, &r, "/stackbench.v1.Ticks/Stream", stream_msg, sizeof stream_msg - 1,
              every_tick);
    fprintf(stderr, "    %llu calls, %llu messages, %llu errors\n", (unsigned long long)r.requests,
            (unsigned long long)r.messages, (unsigned long long)load_errors_total(&r));
    CHECK(r.requests > 100);
    CHECK_INT(load_errors_total(&r), 0);
    CHECK(r.grpc_status[GRPC_OK] == r.requests);
    CHECK(r.messages == 20 * r.requests);
    CHECK(hist_count(r.first_message) == r.requests);
    CHECK(hist_count(r.inter_arrival) == 19 * r.requests);
    uint64_t calls = r.requests;
    load_result_free(&r);

    /* A call the server refuses is a status error, counted by its code. */
    static const char bad[] = "\x0a\x04" "aapl";
    grpc_load(&cfg, &r, "/stackbench.v1.Ticks/Quote", bad, sizeof bad - 1, NULL);
    CHECK(r.requests > 100);
    CHECK(r.grpc_status[GRPC_INVALID_ARGUMENT] == r.requests);
    CHECK(r.errors[LOAD_ERR_STATUS] == r.requests);
    CHECK_INT(r.messages, 0);
    calls += r.requests;
    load_result_free(&r);
    stop_ok();
    /* Every call the load engine counted (two runs) and the server's own count agree: it
     * also counted the calls left in flight at the end, answered after the engine stopped
     * waiting, so it may be a few above. */
    long long served = t_served(&srv);
    fprintf(stderr, "    the server served %lld, the engine counted %llu\n", served,
            (unsigned long long)calls);
    CHECK(served >= (long long)calls && served <= (long long)calls + 2 * 32 + 32);
}

TEST(load_grpc_takes_a_proto_and_json_as_ghz_does)
{
    start("1");
    char url[64], proto[4200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);
    snprintf(proto, sizeof proto, "%s/ticks.proto", proto_dir());
    const char *argv[] = {t_stackbench(), "load", "--grpc", "stackbench.v1.Ticks/Stream",
                          "--proto", proto, "--data", "{\"symbol\":\"AAPL\",\"count\":7}",
                          "-c", "2", "-m", "4", "-t", "1", "-d", "300ms", "--json", "-", "-q",
                          url, NULL};
    CHECK_INT(t_run(argv, out, sizeof out, 20000), 0);
    CHECK(strstr(out, "\"protocol\": \"grpc\"") != NULL);
    CHECK(strstr(out, "\"OK\": ") != NULL);
    CHECK(strstr(out, "\"errors\": {\"connect\": 0, \"read\": 0") != NULL ||
          strstr(out, "\"connect\": 0") != NULL);
    /* a field the message does not have is refused, naming it */
    const char *bad[] = {t_stackbench(), "load", "--grpc", "stackbench.v1.Ticks/Stream",
                         "--proto", proto, "--data", "{\"cnt\":7}", url, NULL};
    CHECK_INT(t_run(bad, out, sizeof out, 20000), 2);
    CHECK(strstr(out, "unknown field \"cnt\"") != NULL);
    stop_ok();
}

T_MAIN(T(load_grpc_takes_a_proto_and_json_as_ghz_does), T(the_load_engines_grpc_counts_every_call_and_message_the_server_sent), T(h2spec_passes_every_server_case), T(grpcurl_calls_both_methods_and_the_health_check),
       T(grpc_gos_client_runs_the_contract), T(tonics_client_runs_the_contract),
       T(a_client_that_stops_reading_holds_its_streams_not_the_servers_memory),
       T(a_graceful_stop_finishes_the_calls_in_flight_and_counts_them))
