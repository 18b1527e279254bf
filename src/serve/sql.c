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
 * Every request is one statement of contracts/sql/queries.sql, the same texts the Go and Rust
 * peers run: an order is one data-modifying WITH (the debit, then the insert of the order),
 * which PostgreSQL runs as one implicit transaction, committed before its Sync is answered, so
 * the order is answered 201 only once that answer (PGRES_PIPELINE_SYNC) has come with the
 * statement succeeding. One write and one round trip per request. No row: no such account,
 * nothing written (404).
 *
 * --db-strategy says how many requests one connection carries at once: `pipelined` (the
 * default) up to PGPOOL_MAX_INFLIGHT in libpq's pipeline mode, `exclusive` one, as a classic
 * pool lends a connection to one request at a time (the Go and Rust peers' idiomatic pools). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/jsonw.h"
#include "core/clock.h"
#include "serve/pgpool.h"
#include "serve/services.h"
#include "serve/sql_queries.h"
#include "serve/sql_request.h"

#define DB_TIMEOUT_NS (2 * NS_PER_S) /* the contract's 2 s */

enum { ST_ACCOUNT, ST_ACCOUNTS, ST_ORDER, ST_COUNT };

/* The statements, their texts from contracts/sql/queries.sql (sql_configure fills them). */
static pgpool_stmt_t statements[ST_COUNT] = {
    [ST_ACCOUNT] = {"account", NULL, 1},
    [ST_ACCOUNTS] = {"accounts", NULL, 1},
    [ST_ORDER] = {"order", NULL, 2},
};

/* The statements' CLIENT spans (contracts/telemetry.md): the operation and the table; an
 * order's WITH is named by its top-level statement, the INSERT. */
static const struct {
    const char *op, *table;
} span_names[ST_COUNT] = {
    [ST_ACCOUNT] = {"SELECT", "accounts"},
    [ST_ACCOUNTS] = {"SELECT", "accounts"},
    [ST_ORDER] = {"INSERT", "orders"},
};

/* The service's settings (its flags), read by every worker as it starts. */
static struct {
    const char *pg_url;
    int pool;
    int max_inflight;       /* --db-strategy: 1 exclusive, PGPOOL_MAX_INFLIGHT pipelined */
} settings = {.pool = 8, .max_inflight = PGPOOL_MAX_INFLIGHT};

typedef struct sql_req sql_req_t;

/* A worker's state: its connections, its answer buffer, its requests to reuse. */
typedef struct {
    pgpool_t *pool;
    metrics_worker_t *metrics;
    buf_t answer;
    sql_req_t *free_reqs; /* reused: no allocation per request once warm */
} sql_worker_t;

typedef enum { REQ_ACCOUNT, REQ_ACCOUNTS, REQ_ORDER } req_kind_t;

/* One request waiting for the database. */
struct sql_req {
    pgpool_job_t job;
    sql_worker_t *w;
    server_later_t later;
    server_conn_t *now;   /* the connection, while the handler still runs */
    bool answered;        /* the job ended before pgpool_submit returned */
    req_kind_t kind;
    char id[16];          /* parameters, as text */
    char amount[24];
    char ids[SQL_MAX_IDS * 11 + 3]; /* {1,2,3} */
    sql_req_t *free_next;
    bool traced;          /* the request's span is sampled: its statements get spans */
    trace_ctx_t parent;   /* that span */
};

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
        if (r->w->metrics)
            r->w->metrics->sql_unavailable++;
        pgpool_log("answering 503: %s", r->job.error);
        server_respond_error(c, 503, "database_unavailable");
        return;
    }
    buf_t *out = &r->w->answer;
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
        if (PQntuples(res) == 0) {
            server_respond_error(c, 404, "not_found"); /* nothing was written */
            return;
        }
        buf_puts(out, "{\"id\":");
        buf_puts(out, PQgetvalue(res, 0, 0));
        buf_puts(out, ",\"account_id\":");
        buf_puts(out, r->id);
        buf_puts(out, ",\"amount\":");
        buf_puts(out, r->amount);
        buf_puts(out, ",\"balance\":");
        buf_puts(out, PQgetvalue(res, 0, 1));
        buf_puts(out, "}");
        respond_json(c, 201, out);
        return;
    }
    }
}

static void req_free(sql_req_t *r)
{
    pgpool_job_clear(&r->job);
    r->free_next = r->w->free_reqs;
    r->w->free_reqs = r;
}

/* A CLIENT span per statement that was sent, child of the request's span. */
static void statement_spans(server_conn_t *c, sql_req_t *r, pgpool_status_t st)
{
    trace_sampler_t *smp = server_conn_sampler(c);
    if (!smp || !r->job.sent_ns)
        return;
    int64_t now = clock_now_ns();
    for (int i = 0; i < r->job.nstmts; i++) {
        trace_span_t sp;
        int k = r->job.q[i].stmt;
        trace_span_child(smp, &r->parent, TRACE_KIND_CLIENT, trace_unix_ns(r->job.sent_ns), &sp);
        const char *op = span_names[k].op, *table = span_names[k].table;
        trace_span_name(&sp, op, strlen(op), table, strlen(table));
        trace_span_str(&sp, "db.system.name", "postgresql", 10);
        trace_span_str(&sp, "db.operation.name", op, strlen(op));
        trace_span_str(&sp, "db.collection.name", table, strlen(table));
        /* A statement with no result (the job failed first) ends with the job. */
        sp.end_ns = trace_unix_ns(r->job.done_ns[i] ? r->job.done_ns[i] : now);
        if (st != PGPOOL_OK)
            sp.status = TRACE_STATUS_ERROR;
        server_conn_span_emit(c, &sp);
    }
}

static void job_done(pgpool_job_t *job, pgpool_status_t st)
{
    sql_req_t *r = container_of(job, sql_req_t, job);
    if (r->traced && (r->now || r->later.conn))
        statement_spans(r->now ? r->now : r->later.conn, r, st);
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

static sql_req_t *req_new(sql_worker_t *w, server_conn_t *c, req_kind_t kind)
{
    sql_req_t *r = w->free_reqs;
    if (r)
        w->free_reqs = r->free_next;
    else if (!(r = malloc(sizeof *r)))
        return NULL;
    memset(&r->job, 0, sizeof r->job);
    r->w = w;
    r->later.conn = NULL;
    r->now = c;
    r->answered = false;
    r->kind = kind;
    trace_span_t *span = server_conn_span(c);
    r->traced = span != NULL;
    if (span) {
        trace_span_ctx(span, &r->parent);
        r->job.timed = true;
    }
    r->job.cb = job_done;
    return r;
}

/* Hands the request to the pool; answers now if it ended at once, else later. */
static void req_run(server_conn_t *c, sql_req_t *r)
{
    pgpool_submit(r->w->pool, &r->job);
    r->now = NULL;
    if (r->answered)
        req_free(r);
    else
        server_defer(c, &r->later);
}

/* ---- handlers ---- */

static void account_get(server_conn_t *c, server_req_t *req, void *state)
{
    http_str_t path = req->msg->path;
    size_t pre = sizeof "/accounts/" - 1;
    int32_t id;
    if (sql_parse_account(path.p + pre, path.n - pre, &id)) {
        server_respond_error(c, 400, "bad_request");
        return;
    }
    sql_req_t *r = req_new(state, c, REQ_ACCOUNT);
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

static void accounts_get(server_conn_t *c, server_req_t *req, void *state)
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
    sql_req_t *r = req_new(state, c, REQ_ACCOUNTS);
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

static void order_post(server_conn_t *c, server_req_t *req, void *state)
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
    sql_req_t *r = req_new(state, c, REQ_ORDER);
    if (!r) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    snprintf(r->id, sizeof r->id, "%d", account);
    snprintf(r->amount, sizeof r->amount, "%lld", (long long)amount);
    r->job.nstmts = 1;
    r->job.once = true;
    r->job.q[0].stmt = ST_ORDER;
    r->job.q[0].params[0] = r->id;
    r->job.q[0].params[1] = r->amount;
    req_run(c, r);
}

/* ---- the service ---- */

static int sql_configure(server_config_t *cfg, char *err, size_t errlen)
{
    if (!settings.pg_url) {
        snprintf(err, errlen, "sql needs --pg-url URL (the database to serve)");
        return -1;
    }
    for (int i = 0; i < ST_COUNT; i++)
        if (!(statements[i].sql = sql_query(statements[i].name))) {
            snprintf(err, errlen, "no statement '%s' in contracts/sql/queries.sql",
                     statements[i].name);
            return -1;
        }
    /* Every worker needs a connection of its own. */
    cpuset_t allowed;
    cpuset_allowed(&allowed);
    int nworkers = cfg->workers ? cfg->workers : cpuset_count(&allowed);
    cfg->workers = nworkers < settings.pool ? nworkers : settings.pool;
    return 0;
}

static void *sql_worker_init(const server_worker_t *info, char *err, size_t errlen)
{
    sql_worker_t *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* --pool is the total: worker i gets its share, the first ones one more. */
    int n = settings.pool / info->nworkers + (info->id < settings.pool % info->nworkers);
    char why[400];
    const pgpool_config_t pc = {.conninfo = settings.pg_url,
                                .nconns = n,
                                .stmts = statements,
                                .nstmts = ST_COUNT,
                                .timeout_ns = DB_TIMEOUT_NS,
                                .max_inflight = settings.max_inflight,
                                .metrics = info->metrics};
    w->metrics = info->metrics;
    w->pool = pgpool_open(info->loop, &pc, why, sizeof why);
    if (!w->pool) {
        snprintf(err, errlen, "cannot open the connection pool: %s", why);
        free(w);
        return NULL;
    }
    return w;
}

static void sql_worker_done(void *state)
{
    sql_worker_t *w = state;
    pgpool_close(w->pool);
    for (sql_req_t *r; (r = w->free_reqs);) {
        w->free_reqs = r->free_next;
        free(r);
    }
    buf_free(&w->answer);
    free(w);
}

static int parse_strategy(const char *arg, void *dst, char *why, size_t whylen)
{
    if (strcmp(arg, "exclusive") == 0 || strcmp(arg, "pipelined") == 0) {
        *(int *)dst = strcmp(arg, "exclusive") == 0 ? 1 : PGPOOL_MAX_INFLIGHT;
        return 0;
    }
    snprintf(why, whylen, "expected exclusive or pipelined, got '%s'", arg);
    return -1;
}

static const opt_t sql_flags[] = {
    {"pg-url", 0, OPT_STR, &settings.pg_url, "URL",
     "sql: the database, a libpq URL or key=value string, e.g.\n"
     "postgresql://bench@127.0.0.1:5432/stackbench"},
    {"pool", 0, OPT_INT, &settings.pool, "N",
     "sql: database connections in all, split among the workers\n"
     "(default 8; at most one worker per connection)",
     .min = 1, .max = 10000},
    {"db-strategy", 0, OPT_FN, &settings.max_inflight, "S",
     "sql: pipelined (up to 32 requests in flight on one\n"
     "connection, default) or exclusive (one at a time)",
     .fn = parse_strategy},
    {0},
};

static const server_route_t sql_routes[] = {
    {"/accounts/*", "GET", account_get},
    {"/accounts", "GET", accounts_get},
    {"/orders", "POST", order_post},
    {"/health", "GET, HEAD", server_health},
};

const server_service_t serve_sql = {
    .name = "sql",
    .about = "GET /accounts/{id}, GET /accounts?ids=, POST /orders over\n"
             "PostgreSQL (needs --pg-url)",
    .routes = sql_routes,
    .nroutes = sizeof sql_routes / sizeof sql_routes[0],
    .body_limit = 1 << 20,
    .flags = sql_flags,
    .configure = sql_configure,
    .worker_init = sql_worker_init,
    .worker_done = sql_worker_done,
    .metrics_sql = true,
};
