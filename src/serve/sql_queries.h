/* sql_queries: the sql workload's statements, from contracts/sql/queries.sql (compiled in),
 * the one text per kind of request that every implementation prepares and runs. */
#ifndef SB_SERVE_SQL_QUERIES_H
#define SB_SERVE_SQL_QUERIES_H

/* The statement called name ("account", "accounts", "order"): its text without the comments
 * and the final ';'. NULL when there is none. Static storage: valid for the process's life. */
const char *sql_query(const char *name);

#endif
