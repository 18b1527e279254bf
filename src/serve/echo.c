/* echo: POST /echo answers the posted JSON document minified (contracts/echo.md).
 * The document is validated and minified in place in the request buffer, then copied once
 * into the output buffer behind the response head. */
#include <stdio.h>

#include "codec/json.h"
#include "serve/services.h"

static void echo_post(server_conn_t *c, server_req_t *req, void *state)
{
    json_error_t err;
    ssize_t n = json_minify(req->body, req->body_len, req->body, &err);
    if (n < 0) {
        char body[256];
        int len = snprintf(body, sizeof body,
                           "{\"error\":\"invalid_json\",\"offset\":%zu,\"reason\":\"%s\"}",
                           err.offset, err.reason);
        server_respond(c, 400, "application/json", NULL, body, (size_t)len);
        return;
    }
    server_respond(c, 200, "application/json", NULL, req->body, (size_t)n);
}

static const server_route_t echo_routes[] = {
    {"/echo", "POST", echo_post},
    {"/health", "GET, HEAD", server_health},
};

const server_service_t serve_echo = {
    .name = "echo",
    .about = "POST /echo: the posted JSON minified; GET /health",
    .routes = echo_routes,
    .nroutes = sizeof echo_routes / sizeof echo_routes[0],
    .body_limit = 1 << 20,
};
