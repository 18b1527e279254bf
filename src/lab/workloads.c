/* The lab's side of each workload: the request every language gets, byte for byte the same,
 * and the answer each must give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/csv.h"
#include "codec/ticks.h"
#include "codec/json.h"
#include "lab/gen.h"
#include "lab/workloads.h"

/* A REST-style document of about 1 KiB: nesting, arrays, numbers in several forms, strings
 * with escapes and non-ASCII text, written with the white space a client library leaves. */
static const char echo_body[] =
    "{\n"
    "  \"id\": 48213,\n"
    "  \"type\": \"order.created\",\n"
    "  \"created_at\": \"2026-11-23T08:15:30.123Z\",\n"
    "  \"customer\": {\n"
    "    \"id\": \"c_7f3a9b\",\n"
    "    \"name\": \"Zoë Müller-Łukasiewicz\",\n"
    "    \"email\": \"zoe@example.com\",\n"
    "    \"tags\": [\"vip\", \"eu\", \"newsletter\"],\n"
    "    \"address\": {\"street\": \"Rue de l'\\u00c9glise 12\", \"city\": \"Lyon\", \"zip\": \"69001\", \"geo\": [45.7640, 4.8357]}\n"
    "  },\n"
    "  \"items\": [\n"
    "    {\"sku\": \"A-1001\", \"qty\": 2, \"price\": 19.99, \"discount\": 0.0, \"note\": null},\n"
    "    {\"sku\": \"B-2002\", \"qty\": 1, \"price\": 249.5, \"discount\": 0.15, \"note\": \"gift wrap, \\\"fragile\\\"\"},\n"
    "    {\"sku\": \"C-3003\", \"qty\": 12, \"price\": 1.2e1, \"discount\": 0, \"note\": \"line1\\nline2\\ttabbed\"},\n"
    "    {\"sku\": \"D-4004\", \"qty\": 3, \"price\": 7.25, \"discount\": 0.05, \"note\": \"日本語のメモ\"}\n"
    "  ],\n"
    "  \"totals\": {\"net\": 434.23, \"tax\": 86.846, \"gross\": 521.076, \"currency\": \"EUR\"},\n"
    "  \"flags\": {\"paid\": true, \"shipped\": false, \"priority\": 3},\n"
    "  \"history\": [\n"
    "    {\"at\": 1732349730123, \"event\": \"created\", \"by\": \"api\"},\n"
    "    {\"at\": 1732349731456, \"event\": \"payment_authorized\", \"by\": \"psp\", \"ref\": \"pi_3N\\/x7\"},\n"
    "    {\"at\": 1732349732789, \"event\": \"confirmed\", \"by\": \"system\"}\n"
    "  ],\n"
    "  \"metadata\": {\"source\": \"mobile\", \"version\": \"4.12.0\", \"ab\": [\"checkout_v2\", \"reco_b\"], \"score\": -0.75}\n"
    "}\n";

static const char *const json_headers[] = {"Content-Type: application/json"};

static lab_workload_t echo = {
    .name = "echo",
    .method = "POST",
    .path = "/echo",
    .headers = json_headers,
    .nheaders = 1,
    .body = echo_body,
    .body_len = sizeof echo_body - 1,
};

static const char *const csv_headers[] = {"Content-Type: text/csv"};

static lab_workload_t csv = {
    .name = "csv",
    .method = "POST",
    .path = "/csv",
    .headers = csv_headers,
    .nheaders = 1,
};

/* The csv body: `stackbench gen csv --rows 6400 --seed 1` (about 256 KiB), and its aggregate
 * as the C aggregator computes it (the contract cases and the differential test hold the
 * three languages to the same bytes). */
static int csv_prepare(void)
{
    buf_t body = BUF_INIT, answer = BUF_INIT;
    gen_csv(&body, 6400, 1);
    csv_agg_t agg;
    csv_agg_init(&agg);
    csv_error_t err;
    int rc = csv_aggregate(buf_start(&body), buf_size(&body), &agg, &err);
    if (rc == 0)
        rc = csv_write_json(&agg, &answer);
    csv_agg_free(&agg);
    if (rc != 0) {
        buf_free(&body);
        buf_free(&answer);
        return -1;
    }
    csv.body = buf_start(&body);
    csv.body_len = buf_size(&body);
    csv.expect_body = buf_start(&answer);
    csv.expect_len = buf_size(&answer);
    return 0; /* both buffers live as long as the process */
}

static int echo_prepare(void)
{
    /* The expected answer is the request minified, by the same rule as the contract. */
    char *min = malloc(echo.body_len);
    json_error_t e;
    ssize_t n = json_minify(echo.body, echo.body_len, min, &e);
    if (n < 0) {
        free(min);
        return -1;
    }
    echo.expect_body = min;
    echo.expect_len = (size_t)n;
    return 0;
}

/* sql: 80 % reads of random accounts, 20 % orders for random accounts (contracts/sql.md). */
static const char order_body[] = "{\"account_id\":{rand:1:10000},\"amount\":{rand:1:100}}";
static const mix_template_t sql_mix[] = {
    {.method = "GET", .target = "/accounts/{rand:1:10000}", .weight = 80},
    {.method = "POST", .target = "/orders", .body = order_body, .body_len = sizeof order_body - 1,
     .weight = 20},
};

/* Whether body[0..len) starts with prefix and then holds needle. */
static bool starts_and_has(const char *body, size_t len, const char *prefix, size_t plen,
                           const char *needle, size_t nlen)
{
    return len >= plen && memcmp(body, prefix, plen) == 0 &&
           memmem(body + plen, len - plen, needle, nlen) != NULL;
}

/* GET /accounts/N: 200 {"id":N,"balance":...,"name":"account-N"}; POST /orders: 201
 * {"id":...,"account_id":A,"amount":M,"balance":...} for the A and M sent. */
static bool sql_check(const http_msg_t *m, const char *body, size_t len,
                      const mix_sent_t *sent, void *ud)
{
    char a[48], b[80];
    int an, bn;
    if (sent->index == 0) {
        an = snprintf(a, sizeof a, "{\"id\":%lld,\"balance\":", (long long)sent->values[0]);
        bn = snprintf(b, sizeof b, ",\"name\":\"account-%lld\"}", (long long)sent->values[0]);
        return m->status == 200 && starts_and_has(body, len, a, (size_t)an, b, (size_t)bn);
    }
    bn = snprintf(b, sizeof b, ",\"account_id\":%lld,\"amount\":%lld,\"balance\":",
                  (long long)sent->values[0], (long long)sent->values[1]);
    return m->status == 201 && starts_and_has(body, len, "{\"id\":", 6, b, (size_t)bn);
}

static lab_workload_t sql = {
    .name = "sql",
    .headers = json_headers,
    .nheaders = 1,
    .mix = sql_mix,
    .nmix = sizeof sql_mix / sizeof sql_mix[0],
    .check = sql_check,
    /* The schema's state again: no orders, every balance at its opening value, and no dead
     * rows left by the previous language's updates. */
    .db_reset = "TRUNCATE orders RESTART IDENTITY;"
                "UPDATE accounts SET balance = 1000000 WHERE balance <> 1000000;"
                "VACUUM ANALYZE accounts;"
                "VACUUM ANALYZE orders",
};

/* grpc: half Quote calls, half Streams of 100 ticks with 64-byte payloads (contracts/grpc.md),
 * every message checked: its seq, its price, its payload. */
static const char quote_msg[] = "\x0a\x04" "AAPL";                  /* QuoteRequest{"AAPL"} */
static const char stream_msg[] = "\x0a\x04" "AAPL" "\x10\x64\x18\x40"; /* count 100, 64 B */
#define STREAM_COUNT 100
#define STREAM_PAYLOAD 64
static const mix_template_t grpc_mix[] = {
    {.method = "POST", .target = "/stackbench.v1.Ticks/Quote", .body = quote_msg,
     .body_len = sizeof quote_msg - 1, .weight = 50},
    {.method = "POST", .target = "/stackbench.v1.Ticks/Stream", .body = stream_msg,
     .body_len = sizeof stream_msg - 1, .weight = 50},
};

static bool grpc_check(const mix_sent_t *sent, uint64_t k, const uint8_t *msg, size_t len,
                       void *ud)
{
    uint64_t hash = ticks_symbol_hash("AAPL", 4); /* four bytes: cheaper than keeping it */
    bool stream = sent->index == 1;
    if (!msg)
        return k == (stream ? STREAM_COUNT : 1);
    if (k > (stream ? STREAM_COUNT : 1))
        return false;
    return ticks_tick_ok(msg, len, "AAPL", 4, hash, stream ? k : 0, stream ? STREAM_PAYLOAD : 0);
}

static lab_workload_t grpc = {
    .name = "grpc",
    .mix = grpc_mix,
    .nmix = sizeof grpc_mix / sizeof grpc_mix[0],
    .proto = LOAD_GRPC,
    .grpc_check = grpc_check,
};

const char *const lab_workload_names[] = {"echo", "csv", "sql", "grpc", NULL};

const lab_workload_t *lab_workload(const char *name)
{
    static const struct {
        lab_workload_t *wl;
        int (*prepare)(void);
    } all[] = {{&echo, echo_prepare}, {&csv, csv_prepare}, {&sql, NULL}, {&grpc, NULL}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(all[i].wl->name, name) != 0)
            continue;
        if (all[i].prepare && !all[i].wl->expect_body && all[i].prepare() != 0)
            return NULL;
        return all[i].wl;
    }
    return NULL;
}
