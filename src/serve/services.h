/* services: the C services, each a table of routes over the server core. */
#ifndef SB_SERVE_SERVICES_H
#define SB_SERVE_SERVICES_H

#include "serve/server.h"

extern const server_service_t serve_echo;
extern const server_service_t serve_csv;
extern const server_service_t serve_sql;

/* The sql service's database (a libpq URL or key=value string) and its number of connections
 * in all (split among the workers). Call before server_run. */
void serve_sql_configure(const char *pg_url, int pool);

/* The service called `name`, or NULL. */
const server_service_t *serve_find(const char *name);
/* "echo" (comma-separated list of every service, for help and errors). */
const char *serve_names(void);

/* `stackbench serve WORKLOAD [flags]`. */
int cmd_serve(int argc, char **argv);

#endif
