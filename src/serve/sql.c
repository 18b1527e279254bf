/* sql: an API over PostgreSQL (contracts/sql.md).
 *
 *   GET  /accounts/{id}        one account
 *   GET  /accounts?ids=1,2,3   the accounts that exist among 1 to 20 ids, sorted by id
 *   POST /orders               {"account_id":N,"amount":N}: debit the account and record the
 *                              order in one transaction, answer 201 once committed
 *   GET  /health               {"status":"ok"}, without touching the database
 *
 * Requests are checked here, then become jobs for the worker's connection pool (pgpool.h:
 * libpq in pipeline mode on the worker's event loop, statements prepared on every connection);
 * the answer is given when the job ends, and the connection waits for it meanwhile.
 *
 * An order is two statements in one pipeline segment: the debit, then the insert, then a Sync.
 * Statements between two Syncs run as one implicit transaction, committed when the server
 * handles the Sync and before it answers it, so the order is answered 201 only once the Sync's
 * answer (PGRES_PIPELINE_SYNC) has arrived with no statement failing. One write and one round
 * trip per order; the Go and Rust peers run BEGIN, UPDATE, INSERT, COMMIT as four round trips,
 * as their libraries do. The insert selects from accounts, so it writes nothing when the debit
 * found no account (404). Explicit BEGIN/COMMIT are not used: in the extended protocol a failed
 * statement inside BEGIN leaves the transaction block open and aborted past the Sync, and
 * every later job on that connection would fail until a ROLLBACK. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/jsonw.h"
#include "core/clock.h"
#include "serve/pgpool.h"
#include "serve/services.h"
#include "serve/sql_request.h"

#define DB_TIMEOUT_NS (2 * NS_PER_S) /* the contract's 2 s */

enum { ST_ACCOUNT, ST_ACCOUNTS, ST_DEBIT, ST_ORDER };

static const pgpool_stmt_t statements[] = {
    [ST_ACCOUNT] = {"account", "SELECT balance, name FROM accounts WHERE id = $1", 1},
    [ST_ACCOUNTS] = {"accounts",
                     "SELECT id, balance, name FROM accounts WHERE id = ANY($1::int[]) ORDER BY id",
                     1},
    [ST_DEBIT] = {"debit",
                  "UPDATE accounts SET balance = balance - $2 WHERE id = $1 RETURNING balance", 2},
    [ST_ORDER] = {"order",
                  "INSERT INTO orders (account_id, amount) SELECT id, $2 FROM accounts "
                  "WHERE id = $1 RETURNING id",
                  2},
};

/* serve_sql_configure's settings, read by every worker at start. */
static const char *pg_url;
static int pool_size = 8;

static __thread pgpool_t *pool;
static __thread buf_t answer;

typedef enum { REQ_ACCOUNT, REQ_ACCOUNTS, REQ_ORDER } req_kind;

/* One request waiting for the database. */
typedef struct sql_req {
    pgpool_job_t job;
    server_later_t later;
    server_conn_t *now;   /* the connection, while the handler still runs */
    bool answered;        /* the job ended before pgpool_submit returned */
    req_kind kind;
    char id[16];          /* parameters, as text */
    char amount[24];
    char ids[SQL_MAX_IDS * 11 + 3]; /* {1,2,3} */
    struct sql_req *free_next;
} sql_req_t;

static __thread sql_req_t *free_reqs; /* reused: no allocation per request once warm */

void serve_sql_configure(const char *url, int pool_total)
{
    pg_url = url;
    pool_size = pool_total;
}

/* ---- answers ---- */

static void append_account(buf_t *out, const char *id, const char *balance, const char *name,
                           size_t name_len)
{
    buf_puts(out, "{\"id\":");
    buf_puts(out, id);
    buf_puts(out, ",\"balance\":");
    buf_puts(out, balance);
    buf_puts(out, ",\"name\":");
    jsonw_escape(out, name, name_len);
    buf_puts(out, "}");
}

static void respond_json(server_conn_t *c, int status, const buf_t *b)
{
    server_respond(c, status, "application/json", NULL, buf_start(b), buf_size(b));
}

/* Builds the answer of a job that ended. */
static void answer_job(server_conn_t *c, sql_req_t *r, pgpool_status_t st)
{
    if (st != PGPOOL_OK) {
        pgpool_log("answering 503: %s", r->job.error);
        server_respond_error(c, 503, "database_unavailable");
        return;
    }
    buf_t *out = &answer;
    buf_clear(out);
    PGresult *res = r->job.res[0];
    switch (r->kind) {
    case REQ_ACCOUNT:
        if (PQntuples(res) == 0) {
            server_respond_error(c, 404, "not_found");
            return;
        }
        append_account(out, r->id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                       (size_t)PQgetlength(res, 0, 1));
        respond_json(c, 200, out);
        return;
    case REQ_ACCOUNTS:
        buf_puts(out, "{\"accounts\":[");
        for (int i = 0, n = PQntuples(res); i < n; i++) {
            if (i)
                buf_puts(out, ",");
            append_account(out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                           PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2));
        }
        buf_puts(out, "]}");
        respond_json(c, 200, out);
        return;
    case REQ_ORDER: {
        PGresult *ins = r->job.res[1];
        if (PQntuples(res) == 0 || PQntuples(ins) == 0) {
            server_respond_error(c, 404, "not_found"); /* nothing was written */
            return;
        }
        buf_puts(out, "{\"id\":");
        buf_puts(out, PQgetvalue(ins, 0, 0));
        buf_puts(out, ",\"account_id\":");
        buf_puts(out, r->id);
        buf_puts(out, ",\"amount\":");
        buf_puts(out, r->amount);
        buf_puts(out, ",\"balance\":");
        buf_puts(out, PQgetvalue(res, 0, 0));
        buf_puts(out, "}");
        respond_json(c, 201, out);
        return;
    }
    }
}

static void req_free(sql_req_t *r)
{
    pgpool_job_clear(&r->job);
    r->free_next = free_reqs;
    free_reqs = r;
}

static void job_done(pgpool_job_t *job, pgpool_status_t st)
{
    sql_req_t *r = container_of(job, sql_req_t, job);
    if (r->now) {
        /* Ended before pgpool_submit returned (the database is down): the handler is still
         * running, so answer as any handler does. */
        answer_job(r->now, r, st);
        r->answered = true;
        pgpool_job_clear(&r->job);
        return;
    }
    if (r->later.conn) {
        answer_job(r->later.conn, r, st);
        server_resume(&r->later);
    }
    req_free(r);
}

static sql_req_t *req_new(server_conn_t *c, req_kind kind)
{
    sql_req_t *r = free_reqs;
    if (r)
        free_reqs = r->free_next;
    else if (!(r = malloc(sizeof *r)))
        return NULL;
    memset(&r->job, 0, sizeof r->job);
    r->later.conn = NULL;
    r->now = c;
    r->answered = false;
    r->kind = kind;
    r->job.cb = job_done;
    return r;
}

/* Hands the request to the pool; answers now if it ended at once, else later. */
static void req_run(server_conn_t *c, sql_req_t *r)
{
    pgpool_submit(pool, &r->job);
    r->now = NULL;
    if (r->answered)
        req_free(r);
    else
        server_defer(c, &r->later);
}

/* ---- handlers ---- */

static void account_get(server_conn_t *c, server_req_t *req, void *ud)
{
    http_str_t path = req->msg->path;
    size_t pre = sizeof "/accounts/" - 1;
    int32_t id;
    if (sql_parse_account(path.p + pre, path.n - pre, &id)) {
        server_respond_error(c, 400, "bad_request");
        return;
    }
    sql_req_t *r = req_new(c, REQ_ACCOUNT);
    if (!r) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    snprintf(r->id, sizeof r->id, "%d", id);
    r->job.nstmts = 1;
    r->job.q[0].stmt = ST_ACCOUNT;
    r->job.q[0].params[0] = r->id;
    req_run(c, r);
}

static void accounts_get(server_conn_t *c, server_req_t *req, void *ud)
{
    http_str_t t = req->msg->target, path = req->msg->path;
    const char *q = t.p + path.n + 1;
    size_t qn = t.n > path.n ? t.n - path.n - 1 : 0;
    int32_t ids[SQL_MAX_IDS];
    int nids = sql_parse_ids(q, qn, ids);
    if (nids < 0) {
        server_respond_error(c, 400, "bad_request");
        return;
    }
    sql_req_t *r = req_new(c, REQ_ACCOUNTS);
    if (!r) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    char *p = r->ids;
    *p++ = '{';
    for (int i = 0; i < nids; i++)
        p += sprintf(p, i ? ",%d" : "%d", ids[i]);
    *p++ = '}';
    *p = 0;
    r->job.nstmts = 1;
    r->job.q[0].stmt = ST_ACCOUNTS;
    r->job.q[0].params[0] = r->ids;
    req_run(c, r);
}

static void order_post(server_conn_t *c, server_req_t *req, void *ud)
{
    int32_t account;
    int64_t amount;
    switch (sql_parse_order(req->body, req->body_len, &account, &amount)) {
    case SQL_ORDER_OK:
        break;
    case SQL_ORDER_INVALID_JSON:
        server_respond_error(c, 400, "invalid_json");
        return;
    case SQL_ORDER_AMOUNT_RANGE:
        server_respond_error(c, 422, "amount_out_of_range");
        return;
    case SQL_ORDER_NO_ACCOUNT:
        server_respond_error(c, 404, "not_found"); /* no account can have that id */
        return;
    }
    sql_req_t *r = req_new(c, REQ_ORDER);
    if (!r) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    snprintf(r->id, sizeof r->id, "%d", account);
    snprintf(r->amount, sizeof r->amount, "%lld", (long long)amount);
    r->job.nstmts = 2;
    r->job.once = true;
    r->job.q[0].stmt = ST_DEBIT;
    r->job.q[1].stmt = ST_ORDER;
    for (int i = 0; i < 2; i++) {
        r->job.q[i].params[0] = r->id;
        r->job.q[i].params[1] = r->amount;
    }
    req_run(c, r);
}

/* ---- the service ---- */

static int sql_thread_start(loop_t *loop, int worker, int nworkers)
{
    /* --pool is the total: worker i gets its share, the first ones one more. */
    int n = pool_size / nworkers + (worker < pool_size % nworkers);
    char err[512];
    pool = pgpool_open(loop, pg_url, n, statements, sizeof statements / sizeof statements[0],
                        DB_TIMEOUT_NS, err, sizeof err);
    if (!pool) {
        static atomic_flag told = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&told))
            fprintf(stderr, "stackbench serve sql: cannot open the connection pool: %s\n", err);
        return 1;
    }
    return 0;
}

static void sql_thread_done(void)
{
    pgpool_close(pool);
    pool = NULL;
    for (sql_req_t *r; (r = free_reqs);) {
        free_reqs = r->free_next;
        free(r);
    }
    buf_free(&answer);
}

static const server_route_t sql_routes[] = {
    {"/accounts/*", "GET", account_get},
    {"/accounts", "GET", accounts_get},
    {"/orders", "POST", order_post},
    {"/health", "GET, HEAD", server_health},
};

const server_service_t serve_sql = {
    .name = "sql",
    .routes = sql_routes,
    .nroutes = sizeof sql_routes / sizeof sql_routes[0],
    .body_limit = 1 << 20,
    .thread_start = sql_thread_start,
    .thread_done = sql_thread_done,
};
