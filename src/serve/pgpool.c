#include "serve/pgpool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "core/clock.h"
#include "core/log.h"

typedef enum { PC_DOWN, PC_CONNECTING, PC_READY } pgc_state;

typedef struct {
    loop_io_t io;
    pgpool_t *pool;
    PGconn *pg;
    pgc_state state;
    pgpool_job_t *head, *tail;  /* in flight, in the order their results will come */
    int inflight;           /* jobs in flight, the prepare job excepted */
    bool want_write;        /* PQflush left output: EPOLLOUT goes on with it */
    int64_t when;           /* PC_CONNECTING: give up then; PC_DOWN: connect again then */
    int64_t backoff;
    pgpool_job_t prep;          /* prepares the statements on a new connection */
} pgc_t;

struct pgpool {
    loop_t *loop;
    char *conninfo;
    const pgpool_stmt_t *stmts;
    int nstmts;
    int64_t timeout_ns;
    int max_inflight;
    pgpool_job_t *wait_head, *wait_tail; /* jobs no connection has taken yet, oldest first */
    loop_timer_t tick;
    metrics_worker_t *metrics;  /* NULL: not counted */
    int nconns;
    pgc_t conns[];
};

static void conn_io(loop_t *loop, loop_io_t *io, uint32_t events);
static void dispatch(pgpool_t *p);

/* Every change of a connection's state goes here: the pool's open connections are a gauge. */
static void conn_set_state(pgc_t *c, pgc_state st)
{
    metrics_worker_t *m = c->pool->metrics;
    if (m && (c->state == PC_READY) != (st == PC_READY))
        m->sql_pool_connections += st == PC_READY ? 1 : -1;
    c->state = st;
}

void pgpool_log(const char *fmt, ...)
{
    static _Atomic int64_t last;
    int64_t now = clock_now_ns(), then = atomic_load(&last);
    if (now - then < NS_PER_S || !atomic_compare_exchange_strong(&last, &then, now))
        return;
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *s = line; *s; s++)
        if (*s == '\n')
            *s = ' ';
    sb_warn("serve sql", "%s", line);
}

/* libpq's message, on one line, without its trailing newline. */
static void copy_error(char *dst, size_t n, const char *msg)
{
    snprintf(dst, n, "%s", msg && *msg ? msg : "unknown error");
    for (char *s = dst; *s; s++)
        if (*s == '\n' || *s == '\r' || *s == '\t')
            *s = ' ';
    size_t len = strlen(dst);
    while (len && dst[len - 1] == ' ')
        dst[--len] = 0;
}

/* The server's notices and warnings ("terminating connection because of crash of another
 * server process") go to the log like our own messages, rate-limited. */
static void on_notice(void *arg, const char *msg)
{
    pgpool_log("database says: %s", msg);
}

void pgpool_job_clear(pgpool_job_t *job)
{
    for (int i = 0; i < PGPOOL_MAX_STMTS; i++) {
        PQclear(job->res[i]);
        job->res[i] = NULL;
    }
}

static void finish(pgpool_job_t *job, pgpool_status_t st, const char *why)
{
    if (why)
        copy_error(job->error, sizeof job->error, why);
    job->next = NULL;
    job->cb(job, st);
}

/* ---- the waiting queue ---- */

static void wait_push_back(pgpool_t *p, pgpool_job_t *job)
{
    job->next = NULL;
    if (p->wait_tail)
        p->wait_tail->next = job;
    else
        p->wait_head = job;
    p->wait_tail = job;
}

static pgpool_job_t *wait_pop(pgpool_t *p)
{
    pgpool_job_t *job = p->wait_head;
    if (job) {
        p->wait_head = job->next;
        if (!p->wait_head)
            p->wait_tail = NULL;
    }
    return job;
}

/* Whether a connection is up or on its way: otherwise waiting is pointless. */
static bool any_hope(const pgpool_t *p)
{
    for (int i = 0; i < p->nconns; i++)
        if (p->conns[i].state != PC_DOWN)
            return true;
    return false;
}

/* Whether a ready connection can take one more job now. */
static bool any_room(const pgpool_t *p)
{
    for (int i = 0; i < p->nconns; i++)
        if (p->conns[i].state == PC_READY && p->conns[i].inflight < p->max_inflight)
            return true;
    return false;
}

static void fail_waiting(pgpool_t *p, const char *why)
{
    pgpool_job_t *job;
    while ((job = wait_pop(p)))
        finish(job, PGPOOL_UNAVAILABLE, why);
}

/* ---- one connection ---- */

static void conn_start(pgc_t *c);

/* The connection is lost: its jobs go back to the queue (those that may run again) or end;
 * it is reopened at once the first time, then after a growing pause. */
static void conn_fail(pgc_t *c, const char *why)
{
    pgpool_t *p = c->pool;
    char msg[200];
    copy_error(msg, sizeof msg, why);
    if (c->pg)
        PQfinish(c->pg); /* closes the socket, which leaves the epoll set with it */
    c->pg = NULL;
    c->io.fd = -1;
    bool was_ready = c->state == PC_READY;
    conn_set_state(c, PC_DOWN);
    if (p->metrics)
        p->metrics->sql_errors++;
    c->want_write = false;
    pgpool_job_t *jobs = c->head;
    c->head = c->tail = NULL;
    c->inflight = 0;

    /* Jobs that may run again go first in the queue, in their order: they are the oldest. */
    pgpool_job_t *again = NULL, **again_tail = &again;
    int64_t now = loop_now(p->loop);
    while (jobs) {
        pgpool_job_t *job = jobs;
        jobs = job->next;
        pgpool_job_clear(job);
        job->done = 0;
        if (job->prepare)
            continue;
        if ((job->once && job->sent) || job->deadline <= now) {
            finish(job, PGPOOL_UNAVAILABLE, msg);
        } else {
            job->sent = false;
            job->next = NULL;
            *again_tail = job;
            again_tail = &job->next;
        }
    }
    if (again) {
        *again_tail = p->wait_head;
        if (!p->wait_head)
            p->wait_tail = container_of(again_tail, pgpool_job_t, next);
        p->wait_head = again;
    }
    pgpool_log("database connection %s: %s", was_ready ? "lost" : "failed", msg);

    if (was_ready) {
        c->backoff = 0;
        conn_start(c); /* at once: most often the server is back already, or never left */
    } else {
        c->backoff = c->backoff ? c->backoff * 2 : 10 * NS_PER_MS;
        if (c->backoff > PGPOOL_MAX_BACKOFF_NS)
            c->backoff = PGPOOL_MAX_BACKOFF_NS;
        c->when = now + c->backoff;
    }
    if (!any_hope(p))
        fail_waiting(p, msg);
    else
        dispatch(p);
}

/* Sends what libpq holds. false: the connection failed (and was handled). */
static bool conn_flush(pgc_t *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return false;
    }
    c->want_write = r == 1;
    return true;
}

static void inflight_push(pgc_t *c, pgpool_job_t *job)
{
    job->next = NULL;
    job->done = 0;
    if (c->tail)
        c->tail->next = job;
    else
        c->head = job;
    c->tail = job;
    if (!job->prepare)
        c->inflight++;
}

/* Puts a job's statements and its Sync into the pipeline. false: the connection failed. */
static bool conn_send(pgc_t *c, pgpool_job_t *job)
{
    pgpool_t *p = c->pool;
    inflight_push(c, job);
    job->sent = true;
    if (job->timed) {
        job->sent_ns = clock_now_ns();
        memset(job->done_ns, 0, sizeof job->done_ns);
    }
    int n = job->prepare ? p->nstmts : job->nstmts;
    for (int i = 0; i < n; i++) {
        int ok;
        if (job->prepare) {
            ok = PQsendPrepare(c->pg, p->stmts[i].name, p->stmts[i].sql, p->stmts[i].nparams,
                               NULL);
        } else {
            const pgpool_stmt_t *s = &p->stmts[job->q[i].stmt];
            ok = PQsendQueryPrepared(c->pg, s->name, s->nparams, job->q[i].params, NULL, NULL, 0);
        }
        if (!ok) {
            conn_fail(c, PQerrorMessage(c->pg));
            return false;
        }
    }
    if (!PQpipelineSync(c->pg)) {
        conn_fail(c, PQerrorMessage(c->pg));
        return false;
    }
    return conn_flush(c);
}

/* Takes every result libpq has complete and ends the jobs they finish. */
static void conn_results(pgc_t *c)
{
    while (c->state == PC_READY && c->head && !PQisBusy(c->pg)) {
        pgpool_job_t *job = c->head;
        int n = job->prepare ? c->pool->nstmts : job->nstmts;
        PGresult *r = PQgetResult(c->pg);
        if (job->done < n) {
            /* A statement gives one result, then NULL. */
            if (!r) {
                if (job->timed)
                    job->done_ns[job->done] = clock_now_ns();
                job->done++;
                continue;
            }
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC) { /* cannot happen: we lost count */
                PQclear(r);
                conn_fail(c, "pipeline out of step");
                return;
            }
            if ((st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR) && !job->error[0])
                copy_error(job->error, sizeof job->error, PQresultErrorMessage(r));
            if (st == PGRES_PIPELINE_ABORTED && !job->error[0])
                snprintf(job->error, sizeof job->error, "pipeline aborted");
            if (job->res[job->done])
                PQclear(r);
            else
                job->res[job->done] = r;
            continue;
        }
        /* Then the Sync, which no NULL follows. */
        if (!r)
            break; /* not there yet (PQisBusy said otherwise; do not spin) */
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st != PGRES_PIPELINE_SYNC)
            continue;
        c->head = job->next;
        if (!c->head)
            c->tail = NULL;
        bool failed = job->error[0] != 0;
        if (job->prepare) {
            if (failed) {
                char why[200];
                snprintf(why, sizeof why, "cannot prepare statements: %s", job->error);
                conn_fail(c, why);
                return;
            }
            pgpool_job_clear(job);
            continue;
        }
        c->inflight--;
        if (failed && c->pool->metrics)
            c->pool->metrics->sql_errors++;
        finish(job, failed ? PGPOOL_ERROR : PGPOOL_OK, NULL);
        /* The callback may have submitted jobs, even to this connection: fine, the loop
         * re-reads the state. There is room for one more job here now. */
        dispatch(c->pool);
    }
}

/* A connection that just became usable: pipeline mode, statements prepared (the prepare job
 * goes first; jobs queued behind it are pipelined at once). */
static void conn_ready(pgc_t *c)
{
    if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg)) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    conn_set_state(c, PC_READY);
    c->backoff = 0;
    memset(&c->prep, 0, sizeof c->prep);
    c->prep.prepare = true;
    if (conn_send(c, &c->prep))
        dispatch(c->pool);
}

/* Registers libpq's socket with the loop. While connecting, libpq may close its socket and
 * open another (the next address, or again without SSL), often under the same number, which
 * closing took out of the epoll set: so the socket is added after every step, and "already
 * there" is fine. */
static bool conn_watch(pgc_t *c)
{
    int fd = PQsocket(c->pg);
    c->io.fd = fd;
    int rc = fd < 0 ? -EBADF : loop_add(c->pool->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    if (rc < 0 && rc != -EEXIST) {
        conn_fail(c, "cannot watch the database socket");
        return false;
    }
    return true;
}

/* Drives a non-blocking connect as far as it goes: called on every event of its socket.
 * PQconnectPoll is made for level-triggered waits: it may ask to wait for a socket that is
 * ready already (it answers "writing" right after the TCP connect completes, without writing),
 * and no new edge would come. So after each step a zero-timeout poll() asks whether the socket
 * is ready for what libpq wants, and if so the next step runs at once. */
static void conn_connecting(pgc_t *c)
{
    for (int step = 0; step < 64; step++) {
        PostgresPollingStatusType st = PQconnectPoll(c->pg);
        if (st == PGRES_POLLING_FAILED) {
            conn_fail(c, PQerrorMessage(c->pg));
            return;
        }
        if (!conn_watch(c))
            return;
        if (st == PGRES_POLLING_OK) {
            conn_ready(c);
            return;
        }
        struct pollfd pfd = {.fd = c->io.fd,
                             .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        if (poll(&pfd, 1, 0) <= 0)
            return; /* not ready: the edge will come */
    }
}

static void conn_start(pgc_t *c)
{
    pgpool_t *p = c->pool;
    c->pg = PQconnectStart(p->conninfo);
    c->io.fd = -1;
    if (!c->pg) {
        conn_fail(c, "out of memory");
        return;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    PQsetNoticeProcessor(c->pg, on_notice, NULL);
    conn_set_state(c, PC_CONNECTING);
    c->when = loop_now(p->loop) + p->timeout_ns;
    /* The first step (the connect() itself) is done; epoll reports the socket as it is when
     * it is added, so no edge is missed. */
    conn_watch(c);
}

static void conn_io(loop_t *loop, loop_io_t *io, uint32_t events)
{
    pgc_t *c = container_of(io, pgc_t, io);
    if (c->state == PC_CONNECTING) {
        conn_connecting(c);
        return;
    }
    if (c->state != PC_READY)
        return;
    if ((events & EPOLLOUT) && c->want_write && !conn_flush(c))
        return;
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
        conn_results(c);
        return;
    }
    /* PQconsumeInput makes one recv() into the free part of libpq's buffer (more only for
     * long messages), so answers can remain in the socket after it, and edge-triggered epoll
     * will not say so again: read on while the socket still holds bytes. */
    for (;;) {
        if (!PQconsumeInput(c->pg)) {
            conn_fail(c, PQerrorMessage(c->pg));
            return;
        }
        conn_results(c);
        if (c->state != PC_READY)
            return;
        if (PQstatus(c->pg) == CONNECTION_BAD) {
            conn_fail(c, PQerrorMessage(c->pg));
            return;
        }
        int pending = 0;
        if (ioctl(c->io.fd, FIONREAD, &pending) != 0 || pending <= 0)
            return;
    }
}

/* ---- the pool ---- */

/* Hands waiting jobs to the ready connections with room, fewest in flight first. */
static void dispatch(pgpool_t *p)
{
    while (p->wait_head) {
        pgc_t *best = NULL;
        for (int i = 0; i < p->nconns; i++) {
            pgc_t *c = &p->conns[i];
            if (c->state == PC_READY && c->inflight < p->max_inflight &&
                (!best || c->inflight < best->inflight))
                best = c;
        }
        if (!best)
            return;
        conn_send(best, wait_pop(p)); /* on failure, conn_fail re-queued or ended it */
    }
}

void pgpool_submit(pgpool_t *p, pgpool_job_t *job)
{
    memset(job->res, 0, sizeof job->res);
    job->error[0] = 0;
    job->done = 0;
    job->sent = false;
    job->prepare = false;
    job->deadline = loop_now(p->loop) + p->timeout_ns;
    if (!any_hope(p)) {
        finish(job, PGPOOL_UNAVAILABLE, "no database connection");
        return;
    }
    if (p->metrics && (p->wait_head || !any_room(p)))
        p->metrics->sql_pool_waits++;
    wait_push_back(p, job);
    dispatch(p);
}

/* Deadlines: jobs waiting too long, connections answering or connecting too slowly, and the
 * reconnects that are due. */
static void on_tick(loop_t *loop, loop_timer_t *t)
{
    pgpool_t *p = container_of(t, pgpool_t, tick);
    int64_t now = loop_now(loop);
    while (p->wait_head && p->wait_head->deadline <= now)
        finish(wait_pop(p), PGPOOL_UNAVAILABLE, "no database connection within the timeout");
    for (int i = 0; i < p->nconns; i++) {
        pgc_t *c = &p->conns[i];
        if (c->state == PC_READY && c->head && c->head->deadline <= now)
            conn_fail(c, "the database did not answer within the timeout");
        else if (c->state == PC_CONNECTING && c->when <= now)
            conn_fail(c, "the database did not accept the connection within the timeout");
        else if (c->state == PC_DOWN && c->when <= now)
            conn_start(c);
    }
    loop_timer_set(loop, t, now + PGPOOL_TICK_NS);
}

pgpool_t *pgpool_open(loop_t *loop, const pgpool_config_t *cfg, char *err, size_t errlen)
{
    int nconns = cfg->nconns;
    pgpool_t *p = calloc(1, sizeof *p + (size_t)nconns * sizeof(pgc_t));
    if (!p || !(p->conninfo = strdup(cfg->conninfo))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->loop = loop;
    p->stmts = cfg->stmts;
    p->nstmts = cfg->nstmts;
    p->timeout_ns = cfg->timeout_ns;
    p->max_inflight = cfg->max_inflight < 1 ? 1
                      : cfg->max_inflight > PGPOOL_MAX_INFLIGHT ? PGPOOL_MAX_INFLIGHT
                                                                : cfg->max_inflight;
    p->nconns = nconns;
    p->metrics = cfg->metrics;
    if (p->metrics)
        p->metrics->sql_pool_size += nconns;
    loop_timer_init(&p->tick, on_tick);
    for (int i = 0; i < nconns; i++) {
        pgc_t *c = &p->conns[i];
        c->pool = p;
        c->io.fd = -1;
        c->io.cb = conn_io;
        c->state = PC_DOWN;
    }
    /* Blocking, before the loop runs: the service starts with every connection open and
     * every statement prepared, or does not start. */
    for (int i = 0; i < nconns; i++) {
        pgc_t *c = &p->conns[i];
        c->pg = PQconnectdb(p->conninfo);
        if (PQstatus(c->pg) != CONNECTION_OK) {
            copy_error(err, errlen, PQerrorMessage(c->pg));
            goto fail;
        }
        PQsetNoticeProcessor(c->pg, on_notice, NULL);
        for (int k = 0; k < p->nstmts; k++) {
            const pgpool_stmt_t *st = &p->stmts[k];
            PGresult *r = PQprepare(c->pg, st->name, st->sql, st->nparams, NULL);
            bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!ok) {
                char why[200];
                copy_error(why, sizeof why, PQresultErrorMessage(r));
                snprintf(err, errlen, "cannot prepare %s: %s", st->name, why);
            }
            PQclear(r);
            if (!ok)
                goto fail;
        }
        if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg)) {
            copy_error(err, errlen, PQerrorMessage(c->pg));
            goto fail;
        }
        c->io.fd = PQsocket(c->pg);
        if (loop_add(loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP) < 0) {
            snprintf(err, errlen, "cannot watch the database socket");
            goto fail;
        }
        conn_set_state(c, PC_READY);
    }
    if (loop_timer_set(loop, &p->tick, loop_now(loop) + PGPOOL_TICK_NS) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return p;
fail:
    pgpool_close(p);
    return NULL;
}

void pgpool_close(pgpool_t *p)
{
    if (!p)
        return;
    loop_timer_stop(p->loop, &p->tick);
    fail_waiting(p, "the service is stopping");
    for (int i = 0; i < p->nconns; i++) {
        pgc_t *c = &p->conns[i];
        pgpool_job_t *jobs = c->head;
        c->head = c->tail = NULL;
        while (jobs) {
            pgpool_job_t *job = jobs;
            jobs = job->next;
            pgpool_job_clear(job);
            if (!job->prepare)
                finish(job, PGPOOL_UNAVAILABLE, "the service is stopping");
        }
        if (c->pg)
            PQfinish(c->pg);
        c->pg = NULL;
        conn_set_state(c, PC_DOWN);
    }
    free(p->conninfo);
    free(p);
}
