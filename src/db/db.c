/* db: what the throwaway cluster and a database on a given server share: libpq helpers,
 * stopping, running SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/embed.h"
#include "db/internal.h"

const char *db_schema(const char *workload)
{
    const embed_file_t *f = embed_find(workload, "schema.sql");
    return f ? f->text : NULL;
}

void db_trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}


PGconn *db_connect_url(const char *url, char *err, size_t errlen)
{
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const vals[] = {"10", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "connecting to the database: %s", PQerrorMessage(c));
        db_trim(err);
        PQfinish(c);
        return NULL;
    }
    return c;
}

int db_exec_sql(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return 0;
    }
    snprintf(err, errlen, "%s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    db_trim(err);
    PQclear(r);
    return -1;
}

int db_load_schema(PGconn *c, const char *workload, char *err, size_t errlen)
{
    const char *schema = db_schema(workload);
    if (!schema) {
        snprintf(err, errlen, "no schema.sql for the %s workload", workload);
        return -1;
    }
    return db_exec_sql(c, schema, "loading contracts/sql/schema.sql", err, errlen);
}

void db_teardown(db_t *pg)
{
    if (pg->external)
        db_external_teardown(pg);
    else
        db_cluster_teardown(pg);
    pg->url[0] = pg->socket_url[0] = pg->admin_url[0] = 0;
    pg->port = 0;
    db_slot_sync(pg);
}

void db_stop(db_t *pg)
{
    db_slot_absorb(pg);
    db_teardown(pg);
    db_slot_release(pg);
}

int db_exec(const db_t *pg, const char *sql, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(pg->url);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to %s: %s", pg->url, PQerrorMessage(c));
        db_trim(err);
        PQfinish(c);
        return -1;
    }
    int rc = 0;
    for (const char *p = sql; rc == 0 && *p;) {
        size_t n = strcspn(p, ";");
        char stmt[1024];
        snprintf(stmt, sizeof stmt, "%.*s", (int)(n < sizeof stmt ? n : sizeof stmt - 1), p);
        if (stmt[strspn(stmt, " \n\t")])
            rc = db_exec_sql(c, stmt, stmt, err, errlen);
        p += n + (p[n] == ';');
    }
    PQfinish(c);
    return rc;
}


/* The first column of the first row of sql, as a number. 0, or -1 with err. */
static int query_number(PGconn *c, const char *sql, double *out, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *out = strtod(PQgetvalue(r, 0, 0), NULL);
        rc = 0;
    } else {
        snprintf(err, errlen, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        db_trim(err);
    }
    PQclear(r);
    return rc;
}

int db_work_read(const db_t *pg, db_work_t *w, char *err, size_t errlen)
{
    PGconn *c = db_connect_url(pg->url, err, errlen);
    if (!c)
        return -1;
    int rc = query_number(c,
                          "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = "
                          "(SELECT oid FROM pg_database WHERE datname = current_database()) AND "
                          "query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE "
                          "'%pg_current_snapshot%' AND query NOT LIKE '%pg_stat_activity%'",
                          &w->statements, err, errlen);
    if (!rc)
        rc = query_number(c, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::float8",
                          &w->xids, err, errlen);
    PQfinish(c);
    return rc;
}

int db_work_reset(const db_t *pg, char *err, size_t errlen)
{
    PGconn *c = db_connect_url(pg->url, err, errlen);
    if (!c)
        return -1;
    int rc = db_exec_sql(c, "SELECT pg_stat_statements_reset()", "pg_stat_statements_reset", err,
                         errlen);
    PQfinish(c);
    return rc;
}

int db_wait_quiet(const db_t *pg, int64_t timeout_ns)
{
    char err[256];
    PGconn *c = db_connect_url(pg->url, err, sizeof err);
    if (!c)
        return -1;
    int64_t end = clock_now_ns() + timeout_ns;
    int rc = -1;
    for (;;) {
        double others = 1;
        if (query_number(c,
                         "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                         &others, err, sizeof err) == 0 &&
            others == 0) {
            rc = 0;
            break;
        }
        if (clock_now_ns() >= end)
            break;
        struct timespec ts = {0, 20 * NS_PER_MS};
        nanosleep(&ts, NULL);
    }
    PQfinish(c);
    return rc;
}
