/* csv: POST /csv parses the posted trades and answers their per-symbol aggregate
 * (contracts/csv.md). Each worker thread keeps one aggregate and one output buffer and reuses
 * them for every request: no allocation per request once they have grown. */
#include <stdio.h>

#include "codec/csv.h"
#include "serve/services.h"

static __thread csv_agg_t agg;
static __thread bool agg_ready;
static __thread buf_t answer;

static void csv_post(server_conn_t *c, server_req_t *req, void *ud)
{
    if (!agg_ready) {
        csv_agg_init(&agg);
        agg_ready = true;
    }
    csv_agg_reset(&agg);
    csv_error_t err;
    int rc = csv_aggregate(req->body, req->body_len, &agg, &err);
    if (rc == -1) {
        char body[256];
        int len = snprintf(body, sizeof body,
                           "{\"error\":\"invalid_csv\",\"line\":%zu,\"column\":%zu,\"reason\":\"%s\"}",
                           err.line, err.column, err.reason);
        server_respond(c, 400, "application/json", NULL, body, (size_t)len);
        return;
    }
    buf_clear(&answer);
    if (rc != 0 || csv_write_json(&agg, &answer) != 0) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    server_respond(c, 200, "application/json", NULL, buf_start(&answer), buf_size(&answer));
}

static void csv_thread_done(void)
{
    if (agg_ready)
        csv_agg_free(&agg);
    agg_ready = false;
    buf_free(&answer);
}

static const server_route_t csv_routes[] = {
    {"/csv", "POST", csv_post},
    {"/health", "GET, HEAD", server_health},
};

const server_service_t serve_csv = {
    .name = "csv",
    .routes = csv_routes,
    .nroutes = sizeof csv_routes / sizeof csv_routes[0],
    .body_limit = 16 << 20,
    .thread_done = csv_thread_done,
};
