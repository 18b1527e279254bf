/* grpc: the Ticks service and the health check over HTTP/2 (contracts/grpc.md). Messages are
 * protobuf-c's, generated at build time from contracts/grpc/ (ticks.proto, health.proto); the calls, streams and
 * statuses are serve/h2's. A Stream's ticks are made one at a time, when its window lets the
 * next go; a tick's payload points into one shared pattern and is copied once, by the packer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/json.h"
#include "codec/ticks.h"
#include "health.pb-c.h"
#include "http/grpc.h"
#include "serve/h2.h"
#include "serve/services.h"
#include "ticks.pb-c.h"

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Packs a tick into out. 0, or -1 when out of memory. */
static int put_tick(buf_t *out, const char *symbol, uint64_t hash, uint64_t seq,
                    size_t payload_bytes)
{
    Stackbench__V1__Tick t = STACKBENCH__V1__TICK__INIT;
    t.symbol = (char *)symbol;
    t.seq = seq;
    t.price_micros = ticks_price(hash, seq);
    t.ts_ns = wall_ns();
    t.payload.len = payload_bytes;
    t.payload.data = (uint8_t *)ticks_payload(seq);
    size_t n = stackbench__v1__tick__get_packed_size(&t);
    if (buf_reserve(out, n) < 0)
        return -1;
    buf_commit(out, stackbench__v1__tick__pack(&t, (uint8_t *)buf_end(out)));
    return 0;
}

static const char bad_symbol[] = "symbol: want 1-12 of [A-Z0-9.]";
static const char not_protobuf[] = "grpc: error unmarshalling request";

/* The request's symbol as sent (field 1 of either request). protobuf-c gives strings
 * NUL-terminated: a NUL inside one would pass for its end, so the rule is checked on the bytes
 * on the wire. Not UTF-8 is not a proto3 string at all: malformed protobuf (13), as grpc-go and
 * prost answer. 0 when the symbol is valid, else the status (the message in *why). */
static int check_symbol(const uint8_t *msg, size_t len, const char **why)
{
    const uint8_t *p;
    size_t n;
    if (ticks_bytes_field(msg, len, 1, &p, &n) < 0 || !json_utf8_valid((const char *)p, n)) {
        *why = not_protobuf;
        return GRPC_INTERNAL;
    }
    if (!ticks_symbol_ok((const char *)p, n)) {
        *why = bad_symbol;
        return GRPC_INVALID_ARGUMENT;
    }
    return 0;
}

static void quote(h2_call_t *call, const uint8_t *msg, size_t len, void *state)
{
    Stackbench__V1__QuoteRequest *q = stackbench__v1__quote_request__unpack(NULL, len, msg);
    if (!q) {
        h2_call_error(call, GRPC_INTERNAL, not_protobuf);
        return;
    }
    size_t n = strlen(q->symbol);
    const char *why;
    int bad = check_symbol(msg, len, &why);
    if (bad) {
        h2_call_error(call, bad, why);
    } else {
        /* A quote's tick fits 64 bytes: symbol 12, seq 0 (absent), price and ts 10 each, tags. */
        uint8_t raw[64];
        Stackbench__V1__Tick t = STACKBENCH__V1__TICK__INIT;
        t.symbol = q->symbol;
        t.price_micros = ticks_price(ticks_symbol_hash(q->symbol, n), 0);
        t.ts_ns = wall_ns();
        h2_call_reply(call, raw, stackbench__v1__tick__pack(&t, raw));
    }
    stackbench__v1__quote_request__free_unpacked(q, NULL);
}

typedef struct {
    char symbol[TICKS_SYMBOL_MAX + 1];
    uint64_t hash, seq, count;
    size_t payload_bytes;
} stream_t;

static int stream_next(buf_t *out, void *ctx)
{
    stream_t *s = ctx;
    s->seq++;
    if (put_tick(out, s->symbol, s->hash, s->seq, s->payload_bytes) < 0)
        return -GRPC_RESOURCE_EXHAUSTED;
    return s->seq < s->count;
}

static void stream(h2_call_t *call, const uint8_t *msg, size_t len, void *state)
{
    Stackbench__V1__StreamRequest *r = stackbench__v1__stream_request__unpack(NULL, len, msg);
    if (!r) {
        h2_call_error(call, GRPC_INTERNAL, not_protobuf);
        return;
    }
    size_t n = strlen(r->symbol);
    stream_t *s = NULL;
    const char *why;
    int bad = check_symbol(msg, len, &why);
    if (bad)
        h2_call_error(call, bad, why);
    else if (r->count < 1 || r->count > TICKS_COUNT_MAX)
        h2_call_error(call, GRPC_INVALID_ARGUMENT, "count: want 1-1000000");
    else if (r->payload_bytes > TICKS_PAYLOAD_MAX)
        h2_call_error(call, GRPC_INVALID_ARGUMENT, "payload_bytes: want 0-65536");
    else if (!(s = malloc(sizeof *s)))
        h2_call_error(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
    if (s) {
        memcpy(s->symbol, r->symbol, n + 1);
        s->hash = ticks_symbol_hash(r->symbol, n);
        s->seq = 0;
        s->count = r->count;
        s->payload_bytes = r->payload_bytes;
        h2_call_stream(call, stream_next, s, free);
    }
    stackbench__v1__stream_request__free_unpacked(r, NULL);
}

static void health_check(h2_call_t *call, const uint8_t *msg, size_t len, void *state)
{
    Grpc__Health__V1__HealthCheckRequest *q =
        grpc__health__v1__health_check_request__unpack(NULL, len, msg);
    const uint8_t *svc;
    size_t svc_n;
    if (!q || ticks_bytes_field(msg, len, 1, &svc, &svc_n) < 0 ||
        !json_utf8_valid((const char *)svc, svc_n)) {
        h2_call_error(call, GRPC_INTERNAL, not_protobuf);
        if (q)
            grpc__health__v1__health_check_request__free_unpacked(q, NULL);
        return;
    }
    static const char ticks[] = "stackbench.v1.Ticks";
    if (svc_n && (svc_n != sizeof ticks - 1 || memcmp(svc, ticks, svc_n) != 0)) {
        h2_call_error(call, GRPC_NOT_FOUND, "unknown service");
    } else {
        Grpc__Health__V1__HealthCheckResponse a = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
        a.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
        uint8_t raw[8];
        size_t n = grpc__health__v1__health_check_response__pack(&a, raw);
        h2_call_reply(call, raw, n);
    }
    grpc__health__v1__health_check_request__free_unpacked(q, NULL);
}

static const h2_method_t grpc_methods[] = {
    {"/stackbench.v1.Ticks/Stream", stream},
    {"/stackbench.v1.Ticks/Quote", quote},
    {"/grpc.health.v1.Health/Check", health_check},
};
/* The labels of the calls above, in their order. */
static const metrics_call_t grpc_calls[] = {
    {"stackbench.v1.Ticks", "Stream", "server_stream"},
    {"stackbench.v1.Ticks", "Quote", "unary"},
    {"grpc.health.v1.Health", "Check", "unary"},
};

/* The service's settings (its flags). */
static struct {
    int metrics_port;
} settings;

static int grpc_configure(server_config_t *cfg, char *err, size_t errlen)
{
    if (settings.metrics_port && settings.metrics_port == cfg->port) {
        snprintf(err, errlen, "--metrics-port %d is the gRPC port", settings.metrics_port);
        return -1;
    }
    cfg->metrics_port = settings.metrics_port;
    return 0;
}

static const opt_t grpc_flags[] = {
    {"metrics-port", 0, OPT_INT, &settings.metrics_port, "N",
     "grpc: GET /metrics (and /health) over HTTP/1.1 on this port\n"
     "(default 0: none; the gRPC port speaks HTTP/2 only)",
     .min = 0, .max = 65535},
    {0},
};

static const h2_service_t grpc_service = {
    .methods = grpc_methods,
    .nmethods = sizeof grpc_methods / sizeof grpc_methods[0],
};

const server_service_t serve_grpc = {
    .name = "grpc",
    .about = "gRPC over h2c (HTTP/2): Ticks/Stream, Ticks/Quote, Health/Check",
    .flags = grpc_flags,
    .configure = grpc_configure,
    .proto = &h2_proto,
    .proto_arg = &grpc_service,
    .calls = grpc_calls,
    .ncalls = sizeof grpc_calls / sizeof grpc_calls[0],
};
