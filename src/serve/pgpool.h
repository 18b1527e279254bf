/* pgpool: a worker's PostgreSQL connections, driven by its event loop, in pipeline mode.
 *
 * Each connection is a non-blocking libpq connection in pipeline mode with every statement of
 * the service prepared on it. A job is a short sequence of those prepared statements (text
 * parameters, text results) closed by a Sync: the statements between two Syncs run in one
 * transaction, and one job costs one write and, for the whole sequence, one round trip. Many
 * jobs are in flight on one connection at once; their results come back in order. A job goes to
 * the ready connection with the fewest jobs in flight, or waits in a queue when every
 * connection has max_inflight (1: a connection serves one job at a time, as a classic pool
 * lends it to one request; PGPOOL_MAX_INFLIGHT: pipelined).
 *
 * Failures. Every job ends, through its callback, within the pool's timeout (plus one tick of
 * PGPOOL_TICK_NS): a job that waits that long for a connection, or whose connection does not
 * answer in time, ends PGPOOL_UNAVAILABLE, and an unanswering connection is closed. A lost
 * connection (the server restarted, the socket broke) is reopened at once and then with a
 * backoff up to PGPOOL_MAX_BACKOFF_NS; its jobs run again on another connection, except jobs
 * marked `once` that were already sent (their outcome is unknown: a COMMIT may have happened).
 * When no connection is up or being opened, jobs end PGPOOL_UNAVAILABLE at once instead of
 * waiting for the timeout.
 *
 * Host names in the connection string are resolved with a blocking getaddrinfo (libpq does so
 * in PQconnectStart): give an address or a Unix socket folder, as the lab does.
 * One pool per thread; nothing here is thread-safe. */
#ifndef SB_SERVE_PGPOOL_H
#define SB_SERVE_PGPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/pq.h"
#include "telemetry/metrics.h"

#define PGPOOL_MAX_STMTS 4         /* statements in one job */
#define PGPOOL_MAX_PARAMS 2        /* parameters of one statement */
#define PGPOOL_MAX_INFLIGHT 32     /* jobs pipelined on one connection, at most */
#define PGPOOL_TICK_NS (50 * 1000 * 1000LL)
#define PGPOOL_MAX_BACKOFF_NS (250 * 1000 * 1000LL)

/* A statement every connection prepares: its name, its SQL, its number of parameters. */
typedef struct {
    const char *name, *sql;
    int nparams;
} pgpool_stmt_t;

typedef enum {
    PGPOOL_OK,          /* every statement succeeded, results in res[] */
    PGPOOL_ERROR,       /* a statement failed: the server said why (error); nothing committed */
    PGPOOL_UNAVAILABLE, /* no connection in time, or the connection was lost (error says) */
} pgpool_status_t;

typedef struct pgpool_job pgpool_job_t;
typedef void (*pgpool_job_cb)(pgpool_job_t *job, pgpool_status_t status);

struct pgpool_job {
    /* Set by the caller before pgpool_submit. */
    int nstmts;
    struct {
        int stmt;                              /* index into the pool's statements */
        const char *params[PGPOOL_MAX_PARAMS]; /* text, NUL-terminated, owned by the caller */
    } q[PGPOOL_MAX_STMTS];
    bool once;          /* never run twice: it writes, and a lost answer leaves it unknown */
    bool timed;         /* fill sent_ns and done_ns (tracing: the statements' spans) */
    pgpool_job_cb cb;       /* called once; may submit jobs; must not free the pool */

    /* Results, valid in cb until pgpool_job_clear (which the callback or its owner calls). */
    PGresult *res[PGPOOL_MAX_STMTS];
    char error[160];    /* PGPOOL_ERROR, PGPOOL_UNAVAILABLE: why, one line */
    /* A timed job's monotonic times: when its statements went into the pipeline (the last
     * time, if it ran again), and when each statement's result was complete (0: never). */
    int64_t sent_ns, done_ns[PGPOOL_MAX_STMTS];

    /* The pool's. */
    pgpool_job_t *next;
    int64_t deadline;
    int done;           /* statements whose results are complete */
    bool sent;
    bool prepare;       /* the connection's own job: prepare every statement */
};

typedef struct pgpool pgpool_t;

typedef struct {
    const char *conninfo;       /* a libpq URL or key=value string */
    int nconns;
    const pgpool_stmt_t *stmts; /* prepared on every connection; must outlive the pool */
    int nstmts;
    int64_t timeout_ns;         /* bounds each job (see above) */
    int max_inflight;           /* jobs on one connection at once: 1..PGPOOL_MAX_INFLIGHT */
    /* The worker's figures (NULL: none): sql_pool_size, sql_pool_connections (those ready),
     * sql_pool_waits (a job that found no connection with room, or others waiting before it),
     * sql_errors (a connection lost or not opened, a statement failed). */
    metrics_worker_t *metrics;
} pgpool_config_t;

/* Opens the connections and prepares the statements on each, blocking (the loop is not running
 * yet), then hands them to the loop. NULL with the reason in err when a connection cannot be
 * opened or a statement does not prepare. */
pgpool_t *pgpool_open(loop_t *loop, const pgpool_config_t *cfg, char *err, size_t errlen);

/* Runs a job; its callback tells how it ended (possibly before this returns). */
void pgpool_submit(pgpool_t *p, pgpool_job_t *job);

/* Frees a job's results. */
void pgpool_job_clear(pgpool_job_t *job);

/* "stackbench serve sql: <message>" on stderr, at most one line a second for the whole
 * process (the pool's own messages included): a database down under load must not flood the
 * log. */
void pgpool_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ends every job (PGPOOL_UNAVAILABLE), closes the connections, frees the pool. NULL is fine. */
void pgpool_close(pgpool_t *p);

#endif
