/* A database on a server someone gives us (db_use): created for the run, dropped after it,
 * nothing else there touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "db/internal.h"

/* url with its database replaced by db. A URL keeps its scheme, user, password, hosts and
 * parameters; a key=value string gets dbname= at its end (the last value of a key wins, in
 * libpq, pgx and tokio-postgres alike). */
static int with_dbname(const char *url, const char *db, char *out, size_t n, char *err,
                       size_t errlen)
{
    int w;
    if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)) {
        const char *auth = strstr(url, "://") + 3;
        size_t alen = strcspn(auth, "/?");
        const char *query = strchr(auth + alen, '?');
        if (query && (strstr(query, "?dbname=") || strstr(query, "&dbname="))) {
            snprintf(err, errlen, "the URL names its database in a dbname= parameter: put it "
                                  "in the path instead");
            return -1;
        }
        w = snprintf(out, n, "%.*s/%s%s", (int)(auth + alen - url), url, db, query ? query : "");
    } else {
        w = snprintf(out, n, "%s%sdbname=%s", url, *url ? " " : "", db);
    }
    if (w < 0 || (size_t)w >= n) {
        snprintf(err, errlen, "the database URL is too long");
        return -1;
    }
    return 0;
}

int db_use(db_t *pg, const char *url, char *err, size_t errlen)
{
    static int counter;
    db_slot_absorb(pg);
    memset(pg, 0, sizeof *pg);
    pg->exit_status = -1;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        snprintf(err, errlen, "bad database URL: %s", perr ? perr : "out of memory");
        db_trim(err);
        PQfreemem(perr);
        return -1;
    }
    PQconninfoFree(opts);
    if (strlen(url) >= sizeof pg->admin_url) {
        snprintf(err, errlen, "the database URL is too long");
        return -1;
    }
    char probe[sizeof pg->url];
    if (with_dbname(url, "stackbench_0000000000_0000000000", probe, sizeof probe, err, errlen))
        return -1;
    if (db_bindir(pg->bindir, sizeof pg->bindir, err, errlen))
        pg->bindir[0] = 0; /* psql for the interruption cleanup only: not required */
    PGconn *c = db_connect_url(url, err, errlen);
    if (!c)
        return -1;
    for (int tries = 0;; tries++) {
        char sql[128];
        snprintf(pg->dbname, sizeof pg->dbname, "stackbench_%d_%d", (int)getpid(), ++counter);
        snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", pg->dbname);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            PQclear(r);
            break;
        }
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool taken = state && !strcmp(state, "42P04"); /* duplicate_database: not ours */
        snprintf(err, errlen, "CREATE DATABASE %s: %s", pg->dbname,
                 r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        db_trim(err);
        PQclear(r);
        if (!taken || tries >= 100) {
            pg->dbname[0] = 0;
            PQfinish(c);
            return -1;
        }
    }
    const char *port = PQport(c);
    pg->port = port && *port ? atoi(port) : 5432;
    pg->server_version = PQserverVersion(c);
    PQfinish(c);
    pg->external = true;
    snprintf(pg->admin_url, sizeof pg->admin_url, "%s", url);
    with_dbname(url, pg->dbname, pg->url, sizeof pg->url, err, errlen);
    snprintf(pg->socket_url, sizeof pg->socket_url, "%s", pg->url);
    db_slot_sync(pg);

    c = db_connect_url(pg->url, err, errlen);
    int rc = -1;
    if (c && strcmp(PQdb(c), pg->dbname) != 0)
        snprintf(err, errlen, "connected to database %s, not %s", PQdb(c), pg->dbname);
    else if (c)
        rc = db_load_schema(c, "sql", err, errlen);
    PQfinish(c);
    if (rc)
        db_teardown(pg);
    return rc;
}


void db_external_teardown(db_t *pg)
{
    if (pg->dbname[0]) {
        char err[512] = "";
        PGconn *c = db_connect_url(pg->admin_url, err, sizeof err);
        if (c) {
            char sql[200];
            /* WITH (FORCE) (PostgreSQL 13+): a service that still holds a connection would
             * otherwise keep the database. */
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\"%s", pg->dbname,
                     PQserverVersion(c) >= 130000 ? " WITH (FORCE)" : "");
            db_exec_sql(c, sql, "DROP DATABASE", err, sizeof err);
            PQfinish(c);
        }
        if (err[0])
            sb_warn(NULL, "database %s was not dropped: %s", pg->dbname, err);
    }
    pg->dbname[0] = 0;
    pg->external = false;
}
