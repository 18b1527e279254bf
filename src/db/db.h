/* db: the lab's PostgreSQL for the `sql` workload (contracts/sql.md), in one of two forms:
 *
 * - a throwaway cluster (db_start): initdb into a new folder /tmp/sb-pg-XXXXXX, our own
 *   postgresql.conf and pg_hba.conf, a postmaster pinned to the service CPUs, role `bench` and
 *   database `stackbench` holding the workload's schema; stopped and deleted afterwards;
 * - a database on a server someone gives us (db_use): we create `stackbench_<pid>_<n>`
 *   there, load the schema into it, and drop that database, and nothing else, afterwards.
 *
 * The cluster is cluster.c, the given server external.c, the cleanup after an interruption
 * cleanup.c, what they share db.c. Settings, file layout and the life cycle are in
 * docs/POSTGRES.md. Functions return 0, or -1
 * with the reason in err. Call them from one thread, the one that lives for the whole run (the
 * main thread): the postmaster gets PR_SET_PDEATHSIG, which Linux fires when the *thread* that
 * forked it exits, so a postmaster started from a short-lived thread would be stopped with it.
 * SIGCHLD must not be ignored (exit statuses would be lost): db_start refuses then. */
#ifndef SB_DB_DB_H
#define SB_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/cpu.h"

typedef struct {
    /* What the services get: a URL that libpq, pgx (Go) and tokio-postgres (Rust) all accept,
     * postgresql://bench@127.0.0.1:PORT/stackbench for a throwaway cluster, and the same
     * database over the cluster's Unix socket, host=/tmp/sb-pg-XXXXXX/sock port=PORT user=bench
     * dbname=stackbench (with db_use: socket_url is url). */
    char url[1024];
    char socket_url[1024];
    int port;

    /* A throwaway cluster. */
    pid_t pid;                 /* the postmaster, our child; 0 when it is not running */
    char dir[64];              /* the temp folder: data/, sock/, postgres.log, initdb.log */
    char bindir[256];          /* where initdb, postgres and psql are */
    cpuset_t cpus;             /* the postmaster's CPUs, kept for db_restart */
    bool pinned;
    bool as_user;              /* we are root: postgres runs as uid/gid */
    uid_t uid;
    gid_t gid;
    int exit_status;           /* how the postmaster last ended: exit code, 128+signal, -1 */

    /* db_use: a database on someone else's server. */
    bool external;
    char admin_url[1024];      /* the url we were given: where DROP DATABASE runs */
    char dbname[64];           /* the database we created there */
    int server_version;        /* PQserverVersion: DROP DATABASE ... WITH (FORCE) from 13 on */
} db_t;

/* Where the PostgreSQL server programs are: $SB_PG_BIN, else the newest
 * /usr/lib/postgresql/N/bin (Debian, Ubuntu), else /usr/pgsql-N/bin (RHEL), else the folder of
 * an `initdb` on PATH. Not pg_config --bindir: on Debian it can name /usr/bin, which holds only
 * the postgresql-common wrappers (psql, pg_ctlcluster), not initdb or postgres. */
int db_bindir(char *out, size_t n, char *err, size_t errlen);

/* A fresh cluster, ready, with the `sql` schema loaded (see above). cpus: the CPUs the
 * postmaster and all its processes may use; NULL or empty: not pinned. pg is overwritten.
 * As root, the server runs as the `postgres` user (Debian's package creates it), else as a
 * system user `sb-postgres` created for it: PostgreSQL refuses to run as root. */
int db_start(db_t *pg, const cpuset_t *cpus, char *err, size_t errlen);

/* An existing server: url (a libpq URL or key=value string) must allow CREATE DATABASE.
 * Creates stackbench_<pid>_<n>, loads the schema into it, and sets pg->url to the given url
 * with only the database changed (its user, password and options kept). */
int db_use(db_t *pg, const char *url, char *err, size_t errlen);

/* SIGKILL for the cluster, the "database dies mid-run" case: the postmaster is stopped
 * (SIGSTOP, so that it forks nothing more), its processes and then itself are killed, and we
 * wait until all are gone, so that no connection survives and db_restart can start at
 * once. The data stays (crash recovery replays the WAL on restart). 0, or -1 when nothing ran. */
int db_kill(db_t *pg);

/* Starts the postmaster again on the same folder and port (stopping it first if it runs) and
 * waits until it accepts connections (crash recovery included, at most 30 s). */
int db_restart(db_t *pg, char *err, size_t errlen);

/* A throwaway cluster: fast shutdown (SIGINT; SIGQUIT after 30 s, SIGKILL after 5 more), then
 * the folder is removed. db_use: DROP DATABASE of the database we created (a warning on
 * stderr when that fails). Safe to call twice, and on a zeroed pg. */
void db_stop(db_t *pg);

/* Makes an interrupted run clean up too: SIGINT, SIGTERM and SIGHUP (those not ignored) and
 * exit() stop pg's postmaster (SIGQUIT: the data is thrown away, so no checkpoint), remove
 * its folder (or drop its database, with psql), then the signal does what it did before
 * (the default action: the process ends with that signal; a handler: it is called). pg must
 * be zeroed or started; call it before db_start to cover the start too. Only the process
 * that called it cleans up: a forked child that exits or is signalled leaves pg alone.
 * db_stop unregisters pg. At most 8 pg at once; -1 when full. */
int db_cleanup_on_signals(db_t *pg);

/* Runs each ;-separated statement of sql on its own (VACUUM cannot share a query string with
 * others) over pg->url. 0, or -1 with the failing statement and the server's message. */
int db_exec(const db_t *pg, const char *sql, char *err, size_t errlen);

/* The schema.sql of a workload (contracts/WORKLOAD/schema.sql, compiled in: core/embed.h), or
 * NULL when it has none. */
const char *db_schema(const char *workload);

/* What the database did for the services: statements executed (pg_stat_statements calls, the
 * lab's own queries left out) and transaction ids used (each transaction that wrote takes one:
 * pg_current_snapshot's xmax moves by one). Counters: take the difference of two readings. */
typedef struct {
    double statements;
    double xids;
} db_work_t;

/* The counters now. 0, or -1 with the reason (pg_stat_statements is not loaded: a server given
 * with --pg-url may lack it). Statement counts are up to date at once; call after the services
 * have gone (db_wait_quiet) so that nothing is in flight. */
int db_work_read(const db_t *pg, db_work_t *w, char *err, size_t errlen);
/* pg_stat_statements_reset(). 0, or -1 with the reason. */
int db_work_reset(const db_t *pg, char *err, size_t errlen);
/* Waits up to timeout_ns until no connection but ours is open to pg's database (a stopped
 * service's backends have ended). 0, or -1 when some remain. */
int db_wait_quiet(const db_t *pg, int64_t timeout_ns);

/* `stackbench pg`: a throwaway PostgreSQL around a command. */
int cmd_pg(int argc, char **argv);

#endif
