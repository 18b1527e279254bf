/* The sql workload's "nothing lost" check (durability.h): PostgreSQL is killed with
 * SIGKILL in the middle of a write-only load and started again; then the database must hold
 * every order that was answered 201, once, as answered, with every account's balance equal to
 * its opening balance minus its orders (the debit and the insert are one transaction). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/pq.h"
#include "db/db.h"
#include "db/durability.h"
#include "sut/sut.h"
#include "load/load.h"

#define START_TIMEOUT (30 * NS_PER_S)
#define OPENING_BALANCE 1000000

/* Every 201 answer: the order's id, what it was for, and when it arrived. */
typedef struct {
    int64_t id, account, amount;
    int64_t at;
} answered_t;

typedef struct {
    pthread_mutex_t lock;
    answered_t *v;
    size_t n, cap;
} answers_t;

static bool json_int_after(const char *body, size_t len, const char *key, int64_t *out)
{
    size_t k = strlen(key);
    for (size_t i = 0; i + k < len; i++) {
        if (memcmp(body + i, key, k) != 0)
            continue;
        char tmp[24];
        size_t j = 0;
        for (i += k; i < len && j + 1 < sizeof tmp && (body[i] == '-' || (body[i] >= '0' && body[i] <= '9'));)
            tmp[j++] = body[i++];
        tmp[j] = 0;
        char *end;
        *out = strtoll(tmp, &end, 10);
        return j > 0 && *end == 0;
    }
    return false;
}

/* Keeps every 201 (the load engine calls this for answers with the expected status only). */
static bool record_201(const http_msg_t *m, const char *body, size_t len, const mix_sent_t *sent,
                       void *ud)
{
    answers_t *a = ud;
    answered_t r = {.at = clock_now_ns()};
    if (!json_int_after(body, len, "{\"id\":", &r.id) ||
        !json_int_after(body, len, "\"account_id\":", &r.account) ||
        !json_int_after(body, len, "\"amount\":", &r.amount) || sent->nvalues != 2 ||
        r.account != sent->values[0] || r.amount != sent->values[1])
        return false; /* not the order that was sent: a body error */
    pthread_mutex_lock(&a->lock);
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        answered_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&a->lock);
            return false;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = r;
    pthread_mutex_unlock(&a->lock);
    return true;
}

typedef struct {
    load_config_t lc;
    load_result_t lr;
    int rc;
    char err[256];
} load_job_t;

static void *load_thread(void *arg)
{
    load_job_t *j = arg;
    j->rc = load_run(&j->lc, &j->lr, j->err, sizeof j->err);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = ((const answered_t *)a)->id, y = ((const answered_t *)b)->id;
    return (x > y) - (x < y);
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Compares the database with the answers. 0, or -1 with the reason (the database unreadable). */
static int audit(const char *url, answers_t *a, durability_t *d, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot read the database: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, "SELECT id, account_id, amount FROM orders ORDER BY id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read the orders: %s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return -1;
    }
    qsort(a->v, a->n, sizeof *a->v, cmp_id);
    int rows = PQntuples(r);
    d->orders_in_db = (uint64_t)rows;
    /* Both lists sorted by id: one merge pass. */
    int k = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (i > 0 && a->v[i].id == a->v[i - 1].id) {
            d->duplicates++;
            continue;
        }
        while (k < rows && strtoll(PQgetvalue(r, k, 0), NULL, 10) < a->v[i].id)
            k++;
        if (k == rows || strtoll(PQgetvalue(r, k, 0), NULL, 10) != a->v[i].id)
            d->lost++;
        else if (strtoll(PQgetvalue(r, k, 1), NULL, 10) != a->v[i].account ||
                 strtoll(PQgetvalue(r, k, 2), NULL, 10) != a->v[i].amount)
            d->mismatched++;
    }
    PQclear(r);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS s "
             "FROM orders GROUP BY account_id) o ON o.account_id = a.id "
             "WHERE a.balance <> %d - coalesce(o.s, 0)",
             OPENING_BALANCE);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read the balances: %s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return -1;
    }
    d->balance_mismatches = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return 0;
}

static void fail(durability_t *d, const char *why)
{
    d->ok = false;
    snprintf(d->reason, sizeof d->reason, "%.500s", why);
    d->reason[strcspn(d->reason, "\n")] = 0;
}

int durability_run(const impl_opts_t *o, const char *lang, durability_t *d)
{
    memset(d, 0, sizeof *d);
    d->lang = lang;
    d->ok = true;
    char bin[4096], why[2048];
    const impl_t *im = impl_default(lang, "sql");
    if (!im) {
        fail(d, "no sql implementation in that language");
        return -1;
    }
    if (impl_binary(im, o->peers_dir, bin, sizeof bin, why, sizeof why)) {
        fail(d, why);
        return -1;
    }
    db_t pg;
    memset(&pg, 0, sizeof pg);
    db_cleanup_on_signals(&pg);
    if (db_start(&pg, &o->cpus_service, why, sizeof why)) {
        fail(d, why);
        db_stop(&pg);
        return -1;
    }
    static impl_argv_t argv;
    if (impl_argv(im, bin, "sql", pg.url, o->pool, 0, &argv, why, sizeof why)) {
        fail(d, why);
        db_stop(&pg);
        return -1;
    }
    static sut_t svc;
    if (sut_start(&svc, argv.argv, &o->cpus_service, NULL, START_TIMEOUT, why, sizeof why)) {
        fail(d, why);
        db_stop(&pg);
        return -1;
    }
    if (sut_wait_healthy(svc.url, false, START_TIMEOUT) < 0) {
        sut_stop(&svc, SIGKILL, NS_PER_S);
        db_stop(&pg);
        fail(d, "GET /health never answered 200");
        return -1;
    }

    /* Write-only load: random accounts, random amounts, 201 expected. */
    static const char *const headers[] = {"Content-Type: application/json"};
    static const char body[] = "{\"account_id\":{rand:1:10000},\"amount\":{rand:1:100}}";
    const mix_template_t order = {.method = "POST", .target = "/orders", .body = body,
                                  .body_len = sizeof body - 1, .weight = 1};
    answers_t answers = {.lock = PTHREAD_MUTEX_INITIALIZER};
    load_job_t job;
    load_config_defaults(&job.lc);
    job.lc.url = svc.url;
    job.lc.connections = o->connections;
    job.lc.threads = cpuset_count(&o->cpus_load);
    d->run_ns = o->duration_ns;
    job.lc.timeout_ns = 3 * NS_PER_S; /* the contract's 2 s, and some slack */
    job.lc.requests = &order;
    job.lc.nrequests = 1;
    job.lc.headers = (const char **)headers;
    job.lc.nheaders = 1;
    job.lc.expect_status = 201;
    job.lc.cpus = &o->cpus_load;
    job.lc.check = record_201;
    job.lc.check_ud = &answers;
    /* Phase 1, in a thread: a third of the run, then the database dies; it is down for a
     * tenth of the run (at least 500 ms) and is started again (crash recovery included), while
     * the load goes on for a second more. Phase 2, once the database is back: the rest of the
     * run, in which the service must answer 201 again. Kill and restart come from this thread:
     * the postmaster is its child (pg.h). */
    int64_t down_ns = o->duration_ns / 10 > 500 * NS_PER_MS ? o->duration_ns / 10 : 500 * NS_PER_MS;
    int64_t kill_ns = o->duration_ns / 3;
    job.lc.duration_ns = kill_ns + down_ns + NS_PER_S;
    pthread_t t;
    int64_t t0 = clock_now_ns();
    if (pthread_create(&t, NULL, load_thread, &job) != 0) {
        sut_stop(&svc, SIGKILL, NS_PER_S);
        db_stop(&pg);
        fail(d, "cannot start the load");
        return -1;
    }
    sleep_ns(kill_ns);
    int64_t t_kill = clock_now_ns();
    bool killed = db_kill(&pg) == 0;
    sleep_ns(down_ns);
    int restart = db_restart(&pg, why, sizeof why);
    int64_t t_back = clock_now_ns();
    pthread_join(t, NULL);
    load_job_t job2 = job;
    job2.lc.duration_ns = o->duration_ns - kill_ns;
    if (!restart && job.rc == 0)
        load_thread(&job2);
    d->exit_status = sut_stop(&svc, SIGTERM, 15 * NS_PER_S);

    if (!killed)
        fail(d, "the database could not be killed");
    else if (restart)
        fail(d, why);
    else if (job.rc || job2.rc)
        fail(d, job.rc ? job.err : job2.err);
    if (!d->ok) {
        if (job.rc == 0)
            load_result_free(&job.lr);
        if (!restart && job.rc == 0 && job2.rc == 0)
            load_result_free(&job2.lr);
        db_stop(&pg);
        free(answers.v);
        return -1;
    }
    /* The two phases' figures, added up. */
    for (int s = 0; s < 600; s++)
        job.lr.status[s] += job2.lr.status[s];
    for (int e = 0; e < LOAD_ERR_KINDS; e++)
        job.lr.errors[e] += job2.lr.errors[e];
    load_result_free(&job2.lr);
    d->outage_ms = (double)(t_back - t_kill) / 1e6;
    d->kill_at_ms = (double)(t_kill - t0) / 1e6;
    d->answered_201 = answers.n;
    d->answered_503 = job.lr.status[503];
    for (int s = 0; s < 600; s++)
        if (s != 201 && s != 503)
            d->other_status += job.lr.status[s];
    d->timeouts = job.lr.errors[LOAD_ERR_TIMEOUT];
    d->connection_errors = job.lr.errors[LOAD_ERR_CONNECT] + job.lr.errors[LOAD_ERR_READ] +
                           job.lr.errors[LOAD_ERR_WRITE] + job.lr.errors[LOAD_ERR_PARSE];
    d->body_errors = job.lr.errors[LOAD_ERR_BODY];
    load_result_free(&job.lr);
    d->recovery_ms = -1;
    for (size_t i = 0; i < answers.n; i++) {
        double ms = (double)(answers.v[i].at - t_back) / 1e6;
        if (answers.v[i].at >= t_back && (d->recovery_ms < 0 || ms < d->recovery_ms))
            d->recovery_ms = ms;
        d->before_kill += answers.v[i].at < t_kill;
        d->after_restart += answers.v[i].at >= t_back;
    }

    int arc = audit(pg.url, &answers, d, why, sizeof why);
    free(answers.v);
    db_stop(&pg);
    if (arc) {
        fail(d, why);
        return -1;
    }
    /* The verdict, first failure first. */
    char msg[512];
    if (d->lost || d->duplicates || d->mismatched)
        snprintf(msg, sizeof msg, "%llu orders answered 201 are not in the database, %llu were "
                 "answered twice, %llu differ",
                 (unsigned long long)d->lost, (unsigned long long)d->duplicates,
                 (unsigned long long)d->mismatched);
    else if (d->balance_mismatches)
        snprintf(msg, sizeof msg, "%llu accounts' balances differ from their orders",
                 (unsigned long long)d->balance_mismatches);
    else if (d->before_kill == 0)
        snprintf(msg, sizeof msg, "no order was answered 201 before the database was killed");
    else if (d->answered_503 == 0)
        snprintf(msg, sizeof msg, "no 503 while the database was down");
    else if (d->after_restart == 0)
        snprintf(msg, sizeof msg, "no order answered 201 after the database was back: no reconnect");
    else if (d->timeouts)
        snprintf(msg, sizeof msg, "%llu requests got no answer within 3 s",
                 (unsigned long long)d->timeouts);
    else if (d->other_status || d->body_errors)
        snprintf(msg, sizeof msg, "%llu answers neither 201 nor 503, %llu 201s not the order sent",
                 (unsigned long long)d->other_status, (unsigned long long)d->body_errors);
    else if (d->exit_status != 0)
        snprintf(msg, sizeof msg, "did not exit cleanly on SIGTERM (status %d)", d->exit_status);
    else
        msg[0] = 0;
    if (msg[0])
        fail(d, msg);
    return d->ok ? 0 : -1;
}
