/* csv: POST /csv parses the posted trades and answers their per-symbol aggregate
 * (contracts/csv.md), in one of two tiers (--tier):
 *   - tuned (the default): the schema-specialised SSE2 kernel of src/codec/csv.c;
 *   - idiomatic: libcsv, the C library's number parsers and a plain hash table
 *     (src/serve/csv_idiomatic.c), as a C team would write it first.
 * Both give the same answers, byte for byte (tests/unit/test_csv_idiomatic.c). Each worker
 * keeps its tier's state and one output buffer and reuses them for every request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/csv.h"
#include "serve/csv_idiomatic.h"
#include "serve/services.h"

typedef enum { TIER_TUNED, TIER_IDIOMATIC } csv_tier_t;

/* The service's settings (its flags), read by every worker as it starts. */
static struct {
    csv_tier_t tier;
} settings = {.tier = TIER_TUNED};

typedef struct {
    csv_tier_t tier;
    csv_agg_t agg;              /* tuned */
    csv_idiomatic_t *idiomatic; /* idiomatic */
    buf_t answer;
} csv_worker_t;

/* The tuned tier's answer: as csv_idiomatic_answer. */
static int tuned_answer(csv_agg_t *agg, const char *body, size_t len, buf_t *out, int *status)
{
    csv_agg_reset(agg);
    csv_error_t err;
    int rc = csv_aggregate(body, len, agg, &err);
    if (rc == -1) {
        *status = 400;
        return buf_printf(out,
                          "{\"error\":\"invalid_csv\",\"line\":%zu,\"column\":%zu,"
                          "\"reason\":\"%s\"}",
                          err.line, err.column, err.reason) < 0
                   ? -ENOMEM
                   : 0;
    }
    *status = 200;
    return rc != 0 ? -ENOMEM : csv_write_json(agg, out);
}

static void csv_post(server_conn_t *c, server_req_t *req, void *state)
{
    csv_worker_t *w = state;
    buf_clear(&w->answer);
    int status = 0;
    int rc = w->tier == TIER_IDIOMATIC
                 ? csv_idiomatic_answer(w->idiomatic, req->body, req->body_len, &w->answer, &status)
                 : tuned_answer(&w->agg, req->body, req->body_len, &w->answer, &status);
    if (rc != 0) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    server_respond(c, status, "application/json", NULL, buf_start(&w->answer),
                   buf_size(&w->answer));
}

static void *csv_worker_init(const server_worker_t *info, char *err, size_t errlen)
{
    csv_worker_t *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->tier = settings.tier;
    csv_agg_init(&w->agg);
    if (w->tier == TIER_IDIOMATIC && !(w->idiomatic = csv_idiomatic_new()))
        goto nomem;
    return w;
nomem:
    free(w);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

static void csv_worker_done(void *state)
{
    csv_worker_t *w = state;
    csv_agg_free(&w->agg);
    csv_idiomatic_free(w->idiomatic);
    buf_free(&w->answer);
    free(w);
}

static int parse_tier(const char *arg, void *dst, char *why, size_t whylen)
{
    csv_tier_t *tier = dst;
    if (strcmp(arg, "tuned") == 0 || strcmp(arg, "idiomatic") == 0) {
        *tier = strcmp(arg, "tuned") == 0 ? TIER_TUNED : TIER_IDIOMATIC;
        return 0;
    }
    snprintf(why, whylen, "expected idiomatic or tuned, got '%s'", arg);
    return -1;
}

static const opt_t csv_flags[] = {
    {"tier", 0, OPT_FN, &settings.tier, "TIER",
     "csv: tuned (the hand-written SSE2 kernel, default) or\n"
     "idiomatic (libcsv, strtod, a hash table)",
     .fn = parse_tier},
    {0},
};

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
    .flags = csv_flags,
    .worker_init = csv_worker_init,
    .worker_done = csv_worker_done,
};
