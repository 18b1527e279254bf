/* db: what the throwaway cluster and a database on a given server share: libpq helpers,
 * stopping, running SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"

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

