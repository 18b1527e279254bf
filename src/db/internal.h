/* db's own: what its files share (db.h is the contract for everyone else). */
#ifndef SB_DB_INTERNAL_H
#define SB_DB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/pq.h"
#include "db/db.h"

#define PG_TMP_PREFIX "/tmp/sb-pg-"   /* + 6 characters of mkdtemp */
#define PG_ROLE "bench"
#define PG_DB "stackbench"

/* ---- cleanup.c: the interruption registry (db_cleanup_on_signals) ----
 * Every public function brings its pg's slot up to date; child/sig: the process to end on an
 * interruption and with what signal. */
void db_slot_set(const db_t *pg, pid_t child, int sig);
/* The slot from pg as it is now: its postmaster (SIGQUIT), its folder, its database. */
void db_slot_sync(const db_t *pg);
/* When the cleanup already ran for pg (a signal whose earlier handler let the run go on),
 * pg forgets what no longer exists. */
void db_slot_absorb(db_t *pg);
void db_slot_release(const db_t *pg);
/* Removes one of our temp folders (PG_TMP_PREFIX...), nothing else. Async-signal-safe. */
int db_rm_tree(const char *dir);

/* ---- db.c: libpq ---- */
/* Any server by URL or key=value string; a connect_timeout of 10 s unless it has its own. */
PGconn *db_connect_url(const char *url, char *err, size_t errlen);
/* Runs sql (one statement or many); 0, or -1 with "what: server message". */
int db_exec_sql(PGconn *c, const char *sql, const char *what, char *err, size_t errlen);
int db_load_schema(PGconn *c, const char *workload, char *err, size_t errlen);
/* Line breaks and tabs of a server message into spaces, trailing ones cut. */
void db_trim(char *s);
/* Everything pg holds goes (the cluster or the database we created; the slot stays). */
void db_teardown(db_t *pg);

/* ---- cluster.c, external.c: their part of db_teardown ---- */
void db_cluster_teardown(db_t *pg);
void db_external_teardown(db_t *pg);

#endif
