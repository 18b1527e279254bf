/* csv: POST /csv parses the posted trades and answers their per-symbol aggregate
 * (contracts/csv.md). Each worker keeps one aggregate and one output buffer and reuses them
 * for every request: no allocation per request once they have grown. */
#include <stdio.h>
#include <stdlib.h>

#include "codec/csv.h"
#include "serve/services.h"

typedef struct {
    csv_agg_t agg;
    buf_t answer;
} csv_worker_t;

static void csv_post(server_conn_t *c, server_req_t *req, void *state)
{
    csv_worker_t *w = state;
    csv_agg_reset(&w->agg);
    csv_error_t err;
    int rc = csv_aggregate(req->body, req->body_len, &w->agg, &err);
    if (rc == -1) {
        char body[256];
        int len = snprintf(body, sizeof body,
                           "{\"error\":\"invalid_csv\",\"line\":%zu,\"column\":%zu,\"reason\":\"%s\"}",
                           err.line, err.column, err.reason);
        server_respond(c, 400, "application/json", NULL, body, (size_t)len);
        return;
    }
    buf_clear(&w->answer);
    if (rc != 0 || csv_write_json(&w->agg, &w->answer) != 0) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    server_respond(c, 200, "application/json", NULL, buf_start(&w->answer),
                   buf_size(&w->answer));
}

static void *csv_worker_init(const server_worker_t *info, char *err, size_t errlen)
{
    csv_worker_t *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    csv_agg_init(&w->agg);
    return w;
}

static void csv_worker_done(void *state)
{
    csv_worker_t *w = state;
    csv_agg_free(&w->agg);
    buf_free(&w->answer);
    free(w);
}

static const server_route_t csv_routes[] = {
    {"/csv", "POST", csv_post},
    {"/health", "GET, HEAD", server_health},
};

const server_service_t serve_csv = {
    .name = "csv",
    .about = "POST /csv: per-symbol aggregate of posted trades (CSV)",
    .routes = csv_routes,
    .nroutes = sizeof csv_routes / sizeof csv_routes[0],
    .body_limit = 16 << 20,
    .worker_init = csv_worker_init,
    .worker_done = csv_worker_done,
};
