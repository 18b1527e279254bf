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

#include "codec/json.h"
#include "core/clock.h"
#include "serve/pgpool.h"
#include "serve/services.h"

#define MAX_IDS 20
#define MAX_AMOUNT 1000000
#define DB_TIMEOUT_NS (2 * NS_PER_S) /* the contract's 2 s */

enum { ST_ACCOUNT, ST_ACCOUNTS, ST_DEBIT, ST_ORDER };

static const pg_stmt_t statements[] = {
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

static __thread pg_pool_t *pool;
static __thread buf_t answer;

typedef enum { REQ_ACCOUNT, REQ_ACCOUNTS, REQ_ORDER } req_kind;

/* One request waiting for the database. */
typedef struct sql_req {
    pg_job_t job;
    server_later_t later;
    server_conn_t *now;   /* the connection, while the handler still runs */
    bool answered;        /* the job ended before pg_pool_submit returned */
    req_kind kind;
    char id[16];          /* parameters, as text */
    char amount[24];
    char ids[MAX_IDS * 11 + 3]; /* {1,2,3} */
    struct sql_req *free_next;
} sql_req_t;

static __thread sql_req_t *free_reqs; /* reused: no allocation per request once warm */

void serve_sql_configure(const char *url, int pool_total)
{
    pg_url = url;
    pool_size = pool_total;
}

/* ---- parsing ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An account id: decimal digits only (leading zeros allowed), 1..2147483647. */
static bool parse_id(const char *s, size_t n, int32_t *out)
{
    if (n == 0)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
        if (v > INT32_MAX)
            return false;
    }
    if (v < 1)
        return false;
    *out = (int32_t)v;
    return true;
}

/* Percent-decodes s[0..n) into dst (room for cap bytes); plus: '+' is a space (query
 * strings). -1 on a malformed escape, -2 when it does not fit. */
static ssize_t unescape(const char *s, size_t n, char *dst, size_t cap, bool plus)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++, o++) {
        if (o == cap)
            return -2;
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            dst[o] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dst[o] = plus && c == '+' ? ' ' : c;
        }
    }
    return (ssize_t)o;
}

/* The first value of `key` in a query string, decoded as a form value into dst (room for
 * cap bytes; -2 when it does not fit). Pairs that cannot be decoded, or hold a ';', are
 * skipped, as Go's url.ParseQuery does. -1 when the key is absent. */
static ssize_t query_value(const char *q, size_t len, const char *key, char *dst, size_t cap)
{
    size_t klen = strlen(key);
    const char *end = q + len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        const char *ke = eq ? eq : pe;
        char k[64];
        ssize_t kn = memchr(q, ';', (size_t)(pe - q)) ? -1
                                                       : unescape(q, (size_t)(ke - q), k, sizeof k, true);
        if (kn == (ssize_t)klen && memcmp(k, key, klen) == 0) {
            ssize_t vn = eq ? unescape(eq + 1, (size_t)(pe - eq - 1), dst, cap, true) : 0;
            if (vn != -1)
                return vn;
        }
        q = amp ? amp + 1 : end;
    }
    return -1;
}

/* A JSON integer as written: -?(0|[1-9][0-9]*). */
static bool json_integer(const char *s, size_t n)
{
    if (n && *s == '-')
        s++, n--;
    if (n == 0 || (s[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A JSON integer (json_integer) within lo..hi. */
static bool integer_in(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    if (*s == '-' || n > 18) /* lo is positive here; 19 digits could overflow */
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    *out = v;
    return v >= lo && v <= hi;
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
    json_escape(out, name, name_len);
    buf_puts(out, "}");
}

static void respond_json(server_conn_t *c, int status, const buf_t *b)
{
    server_respond(c, status, "application/json", NULL, buf_start(b), buf_size(b));
}

/* Builds the answer of a job that ended. */
static void answer_job(server_conn_t *c, sql_req_t *r, pg_job_status st)
{
    if (st != PG_JOB_OK) {
        static _Atomic int64_t last;
        int64_t now = clock_now_ns(), then = atomic_load(&last);
        if (now - then >= NS_PER_S && atomic_compare_exchange_strong(&last, &then, now))
            fprintf(stderr, "stackbench serve sql: answering 503: %s\n", r->job.error);
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
    pg_job_clear(&r->job);
    r->free_next = free_reqs;
    free_reqs = r;
}

static void job_done(pg_job_t *job, pg_job_status st)
{
    sql_req_t *r = container_of(job, sql_req_t, job);
    if (r->now) {
        /* Ended before pg_pool_submit returned (the database is down): the handler is still
         * running, so answer as any handler does. */
        answer_job(r->now, r, st);
        r->answered = true;
        pg_job_clear(&r->job);
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
    pg_pool_submit(pool, &r->job);
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
    char raw[64];
    int32_t id;
    ssize_t n = unescape(path.p + pre, path.n - pre, raw, sizeof raw, false);
    if (n < 0 || !parse_id(raw, (size_t)n, &id)) {
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
    char list[512]; /* a valid list is shorter (unless it pads ids with zeros: refused) */
    ssize_t n = query_value(q, qn, "ids", list, sizeof list);
    int32_t ids[MAX_IDS];
    int nids = 0;
    bool ok = n > 0;
    for (ssize_t i = 0; ok && i <= n;) {
        ssize_t j = i;
        while (j < n && list[j] != ',')
            j++;
        ok = nids < MAX_IDS && parse_id(list + i, (size_t)(j - i), &ids[nids]);
        nids++;
        i = j + 1;
    }
    if (!ok) {
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
    json_error err;
    json_members_t it;
    if (json_validate(req->body, req->body_len, &err) ||
        json_members_begin(&it, req->body, req->body_len)) {
        server_respond_error(c, 400, "invalid_json");
        return;
    }
    const char *name, *value, *acct = NULL, *amt = NULL;
    size_t name_len, value_len, acct_len = 0, amt_len = 0;
    while (json_members_next(&it, &name, &name_len, &value, &value_len)) {
        /* The last of a repeated name counts. */
        if (json_name_eq(name, name_len, "account_id"))
            acct = value, acct_len = value_len;
        else if (json_name_eq(name, name_len, "amount"))
            amt = value, amt_len = value_len;
    }
    if (!acct || !amt || !json_integer(acct, acct_len) || !json_integer(amt, amt_len)) {
        server_respond_error(c, 400, "invalid_json");
        return;
    }
    int64_t amount, account;
    if (!integer_in(amt, amt_len, 1, MAX_AMOUNT, &amount)) {
        server_respond_error(c, 422, "amount_out_of_range");
        return;
    }
    if (!integer_in(acct, acct_len, 1, INT32_MAX, &account)) {
        server_respond_error(c, 404, "not_found"); /* no account can have that id */
        return;
    }
    sql_req_t *r = req_new(c, REQ_ORDER);
    if (!r) {
        server_respond_error(c, 500, "out_of_memory");
        return;
    }
    snprintf(r->id, sizeof r->id, "%lld", (long long)account);
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
    pool = pg_pool_open(loop, pg_url, n, statements, sizeof statements / sizeof statements[0],
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
    pg_pool_close(pool);
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
