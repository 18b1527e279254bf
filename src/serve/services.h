/* services: the C services, each a table of routes over the server core (server.h), and
 * `stackbench serve`. */
#ifndef SB_SERVE_SERVICES_H
#define SB_SERVE_SERVICES_H

#include "serve/server.h"

extern const server_service_t serve_echo;
extern const server_service_t serve_csv;
extern const server_service_t serve_sql;
extern const server_service_t serve_grpc;

/* The service called `name`, or NULL. */
const server_service_t *serve_find(const char *name);

/* `stackbench serve WORKLOAD [flags]`. */
int cmd_serve(int argc, char **argv);

#endif
