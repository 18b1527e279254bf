/* The matrix runner: one cell per workload × implementation, each a pipeline of stages
 * (run.h); then, per workload, the equal-load block and (--sweep) the open-loop points. */
#include "lab/run.h"

#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/json.h"
#include "core/clock.h"
#include "core/net.h"
#include "core/proc.h"
#include "db/db.h"
#include "http/client.h"
#include "http/url.h"
#include "lab/cpu_profile.h"
#include "lab/workloads.h"
#include "sut/meter.h"
#include "sut/sut.h"
#include "verify/verify.h"

#define START_TIMEOUT (15 * NS_PER_S)
#define STOP_TIMEOUT (15 * NS_PER_S)
#define OPEN_WARMUP_NS (1 * NS_PER_S) /* before each open-loop run: a fresh instance warms */
#define SWEEP_POINT_NS (3 * NS_PER_S)
#define WINDOW_NS (100 * NS_PER_MS)

const int lab_sweep_pct[LAB_SWEEP_POINTS] = {10, 25, 50, 75, 90, 100};

/* The sql workload's database, started (or created on --pg-url) once for the run. */
typedef struct {
    db_t db;
    bool needed, up;
    char err[512];
} lab_db_t;

/* What the stages of one cell share. */
typedef struct {
    const lab_config_t *cfg;
    lab_db_t *db;
    const lab_workload_t *wl;
    char bin[4096];
    impl_argv_t argv;
    char url[128];           /* a user implementation: where the lab told it to listen */
    sut_t sut;
    char label[128];
    load_result_t lr;        /* the measured run */
    db_work_t work0;         /* sql: the database's counters before the fresh instance */
    bool work_known;
    lab_cell_t *c;           /* what the cell reports */
} cell_t;

static int fail(cell_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(cell_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    x->c->ok = false;
    vsnprintf(x->c->reason, sizeof x->c->reason, fmt, ap);
    x->c->reason[strcspn(x->c->reason, "\n")] = 0;
    va_end(ap);
    return -1;
}

static void progress(const cell_t *x, const char *what)
{
    if (x->cfg->impl.progress)
        fprintf(stderr, "\r\033[K  %s  %s…", x->label, what);
}

static bool check_answer(const http_msg_t *m, const char *body, size_t len, const mix_sent_t *sent,
                         void *ud)
{
    const lab_workload_t *wl = ud;
    if (wl->check)
        return wl->check(m, body, len, sent, ud);
    return len == wl->expect_len && memcmp(body, wl->expect_body, len) == 0;
}

/* The load engine's configuration for the cell's workload against its instance. */
static void load_config(const cell_t *x, int64_t duration, double rate, const char *what,
                        load_config_t *lc, char *url, size_t un, char *label, size_t ln)
{
    const lab_config_t *cfg = x->cfg;
    const lab_workload_t *wl = x->wl;
    load_config_defaults(lc);
    snprintf(url, un, "%s%s", x->sut.url, wl->mix ? "" : wl->path);
    snprintf(label, ln, "%s  %s", x->label, what);
    lc->url = url;
    lc->requests = wl->mix;
    lc->nrequests = wl->nmix;
    lc->connections = cfg->impl.connections;
    lc->threads = cpuset_count(&cfg->impl.cpus_load);
    lc->duration_ns = duration;
    lc->rate = rate;
    lc->method = wl->mix ? NULL : wl->method;
    lc->headers = (const char **)wl->headers;
    lc->nheaders = wl->nheaders;
    lc->body = wl->body;
    lc->body_len = wl->body_len;
    lc->expect_status = wl->mix ? 0 : 200; /* a mix: each template's status is checked by wl->check */
    lc->cpus = &cfg->impl.cpus_load;
    lc->check = check_answer;
    lc->check_ud = (void *)wl;
    lc->proto = wl->proto;
    lc->grpc_check = wl->grpc_check;
    lc->progress = cfg->impl.progress;
    lc->progress_label = label;
}

/* A port that was free a moment ago, for an implementation told where to listen. */
static int free_port(void)
{
    net_addr_t a;
    char err[128];
    if (net_resolve("127.0.0.1", 0, &a, err, sizeof err))
        return -1;
    int fd = net_listen(&a, false, 1);
    if (fd < 0)
        return -1;
    int port = net_local_port(fd);
    close(fd);
    return port;
}

/* ---- the stages ---- */

/* The workload, the binary and its command line; the database as the schema left it. */
static int stage_prepare(cell_t *x, const char *build_err)
{
    lab_cell_t *c = x->c;
    char why[1024];
    if (!(x->wl = lab_workload(c->workload)))
        return fail(x, "unknown workload '%s'", c->workload);
    if (build_err && *build_err)
        return fail(x, "%s", build_err);
    if (impl_binary(c->impl, x->cfg->impl.peers_dir, x->bin, sizeof x->bin, why, sizeof why))
        return fail(x, "%s", why);
    struct stat st;
    if (!c->impl->command && stat(x->bin, &st) == 0)
        c->binary_bytes = (uint64_t)st.st_size;
    const char *pg_url = NULL;
    if (x->wl->db_reset) {
        if (!x->db->up)
            return fail(x, "database: %s", x->db->err);
        pg_url = x->db->db.url;
        /* Every implementation starts from the same data. */
        if (db_exec(&x->db->db, x->wl->db_reset, why, sizeof why))
            return fail(x, "database reset: %s", why);
    }
    int port = 0;
    if (c->impl->command && (port = free_port()) < 0)
        return fail(x, "no free port for %s", c->name);
    if (impl_argv(c->impl, x->bin, c->workload, pg_url, x->cfg->impl.pool, port, &x->argv, why,
                  sizeof why))
        return fail(x, "%s", why);
    x->url[0] = 0;
    if (port)
        snprintf(x->url, sizeof x->url, "http://127.0.0.1:%d", port);
    return 0;
}

/* An instance pinned to the service CPUs that answers GET /health; the number of answers it
 * gave (which it counts as served). */
static int start_instance(cell_t *x)
{
    char why[1024];
    if (sut_start(&x->sut, x->argv.argv, &x->cfg->impl.cpus_service, x->url[0] ? x->url : NULL,
                  START_TIMEOUT, why, sizeof why))
        return fail(x, "%s", why);
    int health = sut_wait_healthy(x->sut.url, x->wl->proto == LOAD_GRPC, START_TIMEOUT);
    if (health < 0) {
        sut_stop(&x->sut, SIGKILL, NS_PER_S);
        return fail(x, "GET /health never answered 200 at %s%s%.200s", x->sut.url,
                    x->sut.loglen ? ": " : "", x->sut.log);
    }
    return health;
}

/* A first instance against the workload's contract; it must then exit cleanly on SIGTERM. */
static int stage_verify(cell_t *x)
{
    progress(x, "checking the contract");
    if (start_instance(x) < 0)
        return -1;
    contract_t ct;
    char why[512];
    int rc = 0;
    if (contract_load_builtin(x->c->workload, &ct, why, sizeof why) == 0) {
        verify_result_t *res = calloc((size_t)ct.ncases, sizeof *res);
        int failed =
            res ? verify_run(&ct, x->sut.url, x->c->lang, 5 * NS_PER_S, res, why, sizeof why) : -1;
        if (failed < 0)
            rc = fail(x, "contract: %.480s", res ? why : "out of memory");
        for (int i = 0; failed > 0 && i < ct.ncases; i++) {
            verify_outcome_t o = verify_outcome(&res[i]);
            if (o == VERIFY_FAIL || o == VERIFY_STALE) {
                rc = fail(x, "contract: %d of %d cases differ; %.60s: %.380s", failed, ct.ncases,
                          res[i].name, o == VERIFY_STALE ? "passes, but differs: says not" : res[i].why);
                break;
            }
        }
        free(res);
        contract_free(&ct);
    }
    int st = sut_stop(&x->sut, SIGTERM, STOP_TIMEOUT);
    if (rc == 0 && st != 0)
        rc = fail(x, "did not exit cleanly on SIGTERM (status %d)", st);
    return rc;
}

/* sql: the database's counters, before a fresh instance. */
static void work_begin(cell_t *x)
{
    char why[256];
    x->work_known = x->wl->db_reset && db_work_reset(&x->db->db, why, sizeof why) == 0 &&
                    db_work_read(&x->db->db, &x->work0, why, sizeof why) == 0;
}

/* sql: statements and writing transactions per request the instance sent to the database,
 * once it has gone (its backends flushed everything). */
static void work_end(cell_t *x, uint64_t db_requests)
{
    lab_cell_t *c = x->c;
    db_work_t w;
    char why[256];
    if (!x->work_known || db_requests == 0 || db_wait_quiet(&x->db->db, 5 * NS_PER_S) ||
        db_work_read(&x->db->db, &w, why, sizeof why))
        return;
    c->db_round_trips_per_req = (w.statements - x->work0.statements) / (double)db_requests;
    c->db_commits_per_req = (w.xids - x->work0.xids) / (double)db_requests;
}

/* A fresh instance for the measurement: how long it took to answer, and its memory idle. */
static int stage_start(cell_t *x)
{
    work_begin(x);
    int64_t t0 = clock_now_ns();
    int health = start_instance(x);
    if (health < 0)
        return -1;
    x->c->startup_ms = (double)(clock_now_ns() - t0) / NS_PER_MS;
    uint64_t kib;
    if (proc_rss_kib(x->sut.pid, &kib) == 0)
        x->c->idle_rss_kib = (int64_t)kib;
    x->c->sent = (uint64_t)health;
    return 0;
}

/* Load that is not measured: caches, pools, JITs and allocators settle. */
static uint64_t warm_up(cell_t *x, int64_t ns, double rate)
{
    if (ns <= 0)
        return 0;
    load_config_t lc;
    load_result_t lr;
    char url[256], label[160], err[512];
    load_config(x, ns, rate, "warm-up", &lc, url, sizeof url, label, sizeof label);
    if (load_run(&lc, &lr, err, sizeof err) != 0)
        return 0;
    uint64_t n = lr.requests;
    load_result_free(&lr);
    return n;
}

void lab_spectrum(lab_spectrum_t *s, const hist_t *h)
{
    hist_point_t pt[LAB_SPECTRUM_MAX];
    s->n = hist_spectrum(h, 5, 99.999, pt, LAB_SPECTRUM_MAX);
    for (int i = 0; i < s->n; i++) {
        s->pt[i].pct = pt[i].pct;
        s->pt[i].us = (double)pt[i].value / 1e3;
    }
}

/* --cpu-profile: perf on the service for the measured run. perf runs where the lab runs (the
 * load CPUs), its files in the run's output folder. A profile that fails is said in the
 * cell's profile, not the cell: the measurement stands. */
static bool profile_begin(cell_t *x, prof_rec_t *rec)
{
    lab_cell_t *c = x->c;
    lab_profile_t *pr = &c->profile;
    memset(pr, 0, sizeof *pr);
    if (!x->cfg->cpu_profile)
        return false;
    snprintf(pr->dir, sizeof pr->dir, "profiles/%s-%s-%s", c->workload, c->name, c->tier);
    for (char *ch = pr->dir + strlen("profiles/"); *ch; ch++)
        if (!(isalnum((unsigned char)*ch) || *ch == '-' || *ch == '_' || *ch == '.'))
            *ch = '_';
    /* Go keeps frame pointers; C (-O2) and Rust (release) need DWARF (docs/profile.md). */
    prof_unwind_t uw = prof_unwind_for(x->sut.pid); /* a user's implementation */
    if (!strcmp(c->lang, "go"))
        uw = PROF_UNWIND_FP;
    else if (!strcmp(c->lang, "c") || !strcmp(c->lang, "rust"))
        uw = PROF_UNWIND_DWARF;
    pr->unwind = prof_unwind_name(uw);
    char dir[4400], data[4500], log[4500], why[512];
    snprintf(dir, sizeof dir, "%s/%s", x->cfg->out_dir, pr->dir);
    snprintf(data, sizeof data, "%s/perf.data", dir);
    snprintf(log, sizeof log, "%s/perf.log", dir);
    if (cpu_profile_mkdir(dir, why, sizeof why) ||
        prof_start(rec, x->sut.pid, uw, data, log, NULL, why, sizeof why)) {
        snprintf(pr->reason, sizeof pr->reason, "%.250s", why);
        return false;
    }
    return true;
}

static void profile_end(cell_t *x, prof_rec_t *rec)
{
    lab_cell_t *c = x->c;
    lab_profile_t *pr = &c->profile;
    progress(x, "unwinding the profile's stacks");
    prof_t p = {0};
    char why[512], dir[4400], title[256];
    snprintf(dir, sizeof dir, "%s/%s", x->cfg->out_dir, pr->dir);
    snprintf(title, sizeof title, "%s · %s %s: CPU while measured", c->workload, c->name,
             c->tier);
    if (prof_stop(rec, &p, false, why, sizeof why) ||
        cpu_profile_write(&p, dir, title, why, sizeof why)) {
        snprintf(pr->reason, sizeof pr->reason, "%.250s", why);
        prof_free(&p);
        return;
    }
    char log[4500];
    snprintf(log, sizeof log, "%s/perf.log", dir);
    unlink(log);
    pr->ran = true;
    pr->samples = p.samples;
    prof_fn_t top[LAB_PROFILE_TOP];
    pr->ntop = prof_top(&p, top, LAB_PROFILE_TOP);
    for (int i = 0; i < pr->ntop; i++) {
        snprintf(pr->top[i].function, sizeof pr->top[i].function, "%.*s",
                 (int)(top[i].name_len < 159 ? top[i].name_len : 159), top[i].name);
        pr->top[i].self_pct = top[i].self_pct;
    }
    prof_free(&p);
}

/* The measured run, with the service's /proc sampled and the database's CPU read around it. */
static int stage_measure(cell_t *x)
{
    const lab_config_t *cfg = x->cfg;
    lab_cell_t *c = x->c;
    load_config_t lc;
    char url[256], label[160], err[512];
    load_config(x, cfg->impl.duration_ns, cfg->rate, "measuring", &lc, url, sizeof url, label,
                sizeof label);
    const db_t *db = &x->db->db;
    bool db_metered = x->wl->db_reset && !db->external && db->pid > 0;
    static prof_rec_t rec;
    bool profiling = profile_begin(x, &rec); /* before the database's reading: perf takes 0.3 s */
    double db0 = db_metered ? proc_tree_cpu_s(db->pid) : -1;
    meter_t m;
    meter_start(&m, x->sut.pid, 100 * NS_PER_MS);
    int rc = load_run(&lc, &x->lr, err, sizeof err);
    meter_stop(&m);
    double db1 = db_metered ? proc_tree_cpu_s(db->pid) : -1;
    if (profiling) /* after the database's reading: perf script takes seconds */
        profile_end(x, &rec);
    if (rc != 0)
        return fail(x, "load: %s", err);
    const load_result_t *lr = &x->lr;
    c->sent += lr->requests;
    c->requests = lr->requests;
    c->rps = lr->elapsed_s > 0 ? (double)lr->requests / lr->elapsed_s : 0;
    static const double pct[] = {50, 90, 99, 99.9};
    for (int i = 0; i < 4; i++)
        c->lat_us[i] = (double)hist_percentile(lr->latency, pct[i]) / 1e3;
    c->lat_us[4] = (double)hist_max(lr->latency) / 1e3;
    c->lat_us[5] = hist_mean(lr->latency) / 1e3;
    lab_spectrum(&c->spectrum, lr->latency);
    c->rss_peak_kib = m.rss_peak_kib;
    c->rss_mean_kib = meter_rss_mean_kib(&m);
    c->threads = m.threads_max;
    c->cpu_s = meter_cpu_s(&m);
    c->cpu_us_per_req = lr->requests ? c->cpu_s * 1e6 / (double)lr->requests : 0;
    if (db0 >= 0 && db1 >= db0) {
        c->db_cpu_s = db1 - db0;
        c->db_cpu_us_per_req = lr->requests ? c->db_cpu_s * 1e6 / (double)lr->requests : 0;
        double avail = lr->elapsed_s * cpuset_count(&cfg->cpus_db);
        c->db_cpu_share = avail > 0 ? c->db_cpu_s / avail : 0;
    }
    for (size_t i = 0; i < lr->nby_request && i < MIX_MAX_TEMPLATES; i++) {
        const load_request_result_t *br = &lr->by_request[i];
        c->by_request[i].method = x->wl->mix[i].method;
        c->by_request[i].target = x->wl->mix[i].target;
        c->by_request[i].requests = br->requests;
        c->by_request[i].messages = br->messages;
        for (int k = 0; k < LOAD_ERR_KINDS; k++)
            c->by_request[i].errors += br->errors[k];
        for (int k = 0; k < 4; k++)
            c->by_request[i].lat_us[k] = (double)hist_percentile(br->latency, pct[k]) / 1e3;
        c->nby_request = (int)i + 1;
    }
    c->grpc = x->wl->proto == LOAD_GRPC;
    c->messages = lr->messages;
    c->messages_per_s = lr->elapsed_s > 0 ? (double)lr->messages / lr->elapsed_s : 0;
    c->errors = load_errors_total(lr);
    c->status_errors = lr->errors[LOAD_ERR_STATUS];
    c->body_errors = lr->errors[LOAD_ERR_BODY];
    double avail = lr->elapsed_s * cpuset_count(&cfg->impl.cpus_load);
    c->load_cpu_share = avail > 0 ? lr->cpu_s / avail : 0;
    /* The load engine near its CPU limit: the service was not the bottleneck. */
    c->load_bound = cfg->rate == 0 && c->load_cpu_share > 0.85;
    load_result_free(&x->lr);
    return 0;
}

/* SIGTERM: its exit status and what it says it served. */
static void stage_stop(cell_t *x, uint64_t health)
{
    x->c->exit_status = sut_stop(&x->sut, SIGTERM, STOP_TIMEOUT);
    x->c->served = sut_served(&x->sut);
    work_end(x, x->c->sent - health);
}

/* A clean exit, and every answer right. */
static void stage_check(cell_t *x)
{
    lab_cell_t *c = x->c;
    if (c->exit_status != 0)
        fail(x, "did not exit cleanly on SIGTERM (status %d)", c->exit_status);
    else if (c->errors)
        snprintf(c->reason, sizeof c->reason, "%llu errors (%llu wrong status, %llu wrong body)",
                 (unsigned long long)c->errors, (unsigned long long)c->status_errors,
                 (unsigned long long)c->body_errors);
}

static void cell_init(cell_t *x, const lab_config_t *cfg, lab_db_t *db, lab_cell_t *c, int idx,
                      int total)
{
    memset(x, 0, sizeof *x);
    x->cfg = cfg;
    x->db = db;
    x->c = c;
    x->wl = lab_workload(c->workload);
    snprintf(x->label, sizeof x->label, "[%d/%d] %s · %s %s%s%s", idx, total, c->workload,
             c->name, c->tier, c->db_strategy ? " " : "", c->db_strategy ? c->db_strategy : "");
}

static void run_cell(const lab_config_t *cfg, lab_db_t *db, const char *build_err, lab_cell_t *c,
                     int idx, int total)
{
    c->ok = true;
    c->served = -1;
    c->startup_ms = -1;
    c->idle_rss_kib = -1;
    c->db_cpu_s = -1;
    c->db_round_trips_per_req = c->db_commits_per_req = -1;
    static cell_t x; /* large (paths, the service's log): not on the stack */
    cell_init(&x, cfg, db, c, idx, total);
    if (stage_prepare(&x, build_err) || stage_verify(&x) || stage_start(&x))
        return;
    uint64_t health = c->sent;
    progress(&x, "warm-up");
    c->sent += warm_up(&x, cfg->warmup_ns, cfg->rate);
    int measured = stage_measure(&x);
    stage_stop(&x, health);
    if (measured == 0)
        stage_check(&x);
}

/* ---- open loop at a given rate: the equal-load block, a sweep ---- */

/* Go's runtime pause histogram (/debug/gc-pauses of the Go peer): buckets (seconds, n+1
 * boundaries) and counts (n). false when the implementation has none. */
typedef struct {
    double bounds[512];
    double counts[512];
    int n;
    double cycles;
} gc_hist_t;

static bool gc_read(const char *url, gc_hist_t *g)
{
    http_url_t u;
    char err[256];
    if (http_url_parse(url, &u, err, sizeof err))
        return false;
    http_client_t c;
    if (http_client_open(&c, u.host, u.port, NS_PER_S, err, sizeof err))
        return false;
    char req[256];
    int rl = snprintf(req, sizeof req, "GET /debug/gc-pauses HTTP/1.1\r\nHost: %s\r\n\r\n",
                      u.authority);
    http_msg_t m;
    http_frame_t f;
    bool ok = false;
    if (http_client_send(&c, req, (size_t)rl, NS_PER_S) == 0 &&
        http_client_answer(&c, false, 2 * NS_PER_S, &m, &f) > 0 && m.status == 200) {
        const char *body = buf_start(&c.in) + m.head_len;
        json_error_t e;
        json_members_t it;
        if (json_validate(body, f.body_len, &e) == 0 &&
            json_members_begin(&it, body, f.body_len) == 0) {
            const char *name, *val;
            size_t nl, vl;
            int nb = 0, nc = 0;
            while (json_members_next(&it, &name, &nl, &val, &vl)) {
                json_elements_t el;
                double *dst = json_name_eq(name, nl, "buckets") ? g->bounds
                              : json_name_eq(name, nl, "counts") ? g->counts
                                                                  : NULL;
                if (json_name_eq(name, nl, "gc_cycles"))
                    g->cycles = strtod(val, NULL);
                if (!dst || json_elements_begin(&el, val, vl))
                    continue;
                int *k = dst == g->bounds ? &nb : &nc;
                const char *ev;
                size_t en;
                while (json_elements_next(&el, &ev, &en) && *k < 512)
                    dst[(*k)++] = en == 4 && !memcmp(ev, "null", 4) ? INFINITY : strtod(ev, NULL);
            }
            g->n = nc;
            ok = nc > 0 && nb == nc + 1;
        }
    }
    http_client_close(&c);
    return ok;
}

/* Pause p99 and max from two readings (µs: each a bucket's upper bound, its lower bound when
 * that is infinite). */
static void gc_figures(const gc_hist_t *a, const gc_hist_t *b, lab_open_t *o)
{
    double total = 0;
    for (int i = 0; i < b->n; i++)
        total += b->counts[i] - a->counts[i];
    o->gc_pauses = (long long)total;
    o->gc_cycles = (long long)(b->cycles - a->cycles);
    o->gc_pause_p99_us = o->gc_pause_max_us = total > 0 ? 0 : -1;
    double seen = 0;
    for (int i = 0; i < b->n && total > 0; i++) {
        double d = b->counts[i] - a->counts[i];
        if (d <= 0)
            continue;
        double hi = isfinite(b->bounds[i + 1]) ? b->bounds[i + 1] : b->bounds[i];
        seen += d;
        if (o->gc_pause_p99_us == 0 && seen >= 0.99 * total)
            o->gc_pause_p99_us = hi * 1e6;
        o->gc_pause_max_us = hi * 1e6;
    }
}

/* A fresh instance of an ok cell, warmed up at the rate, then each rate for ns, open loop. */
static void run_open(const lab_config_t *cfg, lab_db_t *db, lab_cell_t *c, const double *rates,
                     lab_open_t *outs, int n, int64_t ns, const char *what, int idx, int total)
{
    static cell_t x;
    cell_init(&x, cfg, db, c, idx, total);
    lab_cell_t scratch = *c; /* the stages write into a cell: not into the measured one */
    scratch.ok = true;
    x.c = &scratch;
    for (int i = 0; i < n; i++)
        outs[i] = (lab_open_t){.rate = rates[i], .gc_pause_p99_us = -1, .gc_pause_max_us = -1};
    if (stage_prepare(&x, NULL) || start_instance(&x) < 0) {
        for (int i = 0; i < n; i++)
            snprintf(outs[i].reason, sizeof outs[i].reason, "%.250s", scratch.reason);
        return;
    }
    progress(&x, "warm-up");
    warm_up(&x, OPEN_WARMUP_NS, rates[0]);
    for (int i = 0; i < n; i++) {
        lab_open_t *o = &outs[i];
        load_config_t lc;
        load_result_t lr;
        char url[256], label[160], err[512];
        char doing[96];
        snprintf(doing, sizeof doing, "%s at %.0f req/s", what, rates[i]);
        load_config(&x, ns, rates[i], doing, &lc, url, sizeof url, label, sizeof label);
        lc.window_ns = WINDOW_NS;
        static gc_hist_t g0, g1;
        bool gc = strcmp(c->lang, "go") == 0 && gc_read(x.sut.url, &g0);
        if (load_run(&lc, &lr, err, sizeof err) != 0) {
            snprintf(o->reason, sizeof o->reason, "load: %.240s", err);
            continue;
        }
        if (gc && gc_read(x.sut.url, &g1)) {
            gc_figures(&g0, &g1, o);
            o->gc_known = true;
        }
        o->ran = true;
        o->requests = lr.requests;
        o->errors = load_errors_total(&lr);
        o->unsent = lr.unsent;
        o->rate_achieved = lr.elapsed_s > 0 ? (double)lr.requests / lr.elapsed_s : 0;
        o->held = o->errors == 0 && fabs(o->rate_achieved - o->rate) <= 0.01 * o->rate;
        static const double pct[] = {50, 99, 99.9, 99.99};
        for (int k = 0; k < 4; k++)
            o->lat_us[k] = (double)hist_percentile(lr.latency, pct[k]) / 1e3;
        o->lat_us[4] = (double)hist_max(lr.latency) / 1e3;
        o->lat_us[5] = hist_mean(lr.latency) / 1e3;
        lab_spectrum(&o->spectrum, lr.latency);
        /* The windows of the run itself (its drain excluded). */
        size_t nw = (size_t)(ns / WINDOW_NS);
        for (size_t w = 0; w < lr.nwindows && w < nw && w < LAB_MAX_WINDOWS; w++) {
            o->windows[w].count = hist_count(lr.windows[w]);
            o->windows[w].p99_us = (double)hist_percentile(lr.windows[w], 99) / 1e3;
            o->windows[w].max_us = (double)hist_max(lr.windows[w]) / 1e3;
            o->nwindows = (int)w + 1;
        }
        if (!o->held)
            snprintf(o->reason, sizeof o->reason, "could not hold %.0f req/s: %.0f, %llu errors",
                     o->rate, o->rate_achieved, (unsigned long long)o->errors);
        load_result_free(&lr);
    }
    sut_stop(&x.sut, SIGTERM, STOP_TIMEOUT);
}

/* Per workload: every ok cell at pct % of the slowest maximum among them. */
static void equal_load(const lab_config_t *cfg, lab_db_t *db, lab_cell_t *cells, int n,
                       const char *workload, int *idx, int total)
{
    double slowest = 0;
    for (int i = 0; i < n; i++)
        if (cells[i].ok && !strcmp(cells[i].workload, workload) && cells[i].rps > 0 &&
            (slowest == 0 || cells[i].rps < slowest))
            slowest = cells[i].rps;
    if (slowest <= 0)
        return;
    double rate = floor(slowest * cfg->equal_load_pct / 100.0);
    if (rate < 1)
        rate = 1;
    for (int i = 0; i < n; i++)
        if (cells[i].ok && !strcmp(cells[i].workload, workload))
            run_open(cfg, db, &cells[i], &rate, &cells[i].equal, 1, cfg->equal_load_ns,
                     "equal load", ++*idx, total);
}

static void sweep(const lab_config_t *cfg, lab_db_t *db, lab_cell_t *c, int idx, int total)
{
    double rates[LAB_SWEEP_POINTS];
    for (int k = 0; k < LAB_SWEEP_POINTS; k++)
        rates[k] = fmax(1, floor(c->rps * lab_sweep_pct[k] / 100.0));
    run_open(cfg, db, c, rates, c->sweep, LAB_SWEEP_POINTS, SWEEP_POINT_NS, "sweep", idx, total);
}

/* ---- the plan and the run ---- */

static bool listed(const char *const *list, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

int lab_plan(const lab_config_t *cfg, lab_cell_t *cells, int max)
{
    const impl_t *impls[IMPL_MAX * 2];
    int nimpl = 0;
    for (int i = 0; impl_builtin[i]; i++)
        if (listed(cfg->impl.langs, cfg->impl.nlangs, impl_builtin[i]->lang) &&
            listed(cfg->tiers, cfg->ntiers, impl_builtin[i]->tier))
            impls[nimpl++] = impl_builtin[i];
    for (int i = 0; i < cfg->nuser; i++)
        impls[nimpl++] = &cfg->user[i];
    int n = 0;
    for (int w = 0; w < cfg->nworkloads; w++)
        for (int i = 0; i < nimpl && n < max; i++) {
            const impl_serves_t *sv = impl_serves(impls[i], cfg->workloads[w]);
            if (!sv)
                continue;
            lab_cell_t *c = &cells[n++];
            memset(c, 0, sizeof *c);
            c->workload = cfg->workloads[w];
            c->impl = impls[i];
            c->serves = sv;
            c->name = impls[i]->name;
            c->lang = impls[i]->lang;
            c->tier = impls[i]->tier;
            c->framework = sv->framework ? sv->framework : impls[i]->framework;
            c->does = sv->does;
            c->db_strategy = sv->db_strategy;
        }
    return n;
}

void lab_config_init(lab_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    impl_opts_init(&cfg->impl, 10 * NS_PER_S);
    for (int i = 0; lab_workload_names[i] && i < LAB_MAX_WORKLOADS; i++)
        cfg->workloads[cfg->nworkloads++] = lab_workload_names[i];
    for (int i = 0; impl_tiers[i]; i++)
        cfg->tiers[cfg->ntiers++] = impl_tiers[i];
    cfg->warmup_ns = 3 * NS_PER_S;
    cfg->equal_load_pct = 70;
    cfg->equal_load_ns = 5 * NS_PER_S;
    cfg->out_dir = "results";
}

void lab_config_resolve(lab_config_t *cfg)
{
    impl_opts_resolve(&cfg->impl);
    if (!cfg->have_cpus_db)
        cfg->cpus_db = cfg->impl.cpus_service;
}

void lab_run(const lab_config_t *cfg, lab_cell_t *cells, int n, dev_report_t *dev)
{
    const impl_opts_t *o = &cfg->impl;
    signal(SIGPIPE, SIG_IGN);
    /* The lab itself (progress, /proc sampling, the load threads) stays off the service CPUs. */
    cpuset_pin_process(0, &o->cpus_load);

    /* What has a build is built first, each build once (make skips what has not changed). */
    static char build_err[LAB_MAX_CELLS][512];
    for (int i = 0; i < n; i++) {
        build_err[i][0] = 0;
        const impl_t *im = cells[i].impl;
        int first = i;
        for (int k = 0; k < i; k++)
            if (cells[k].impl->build_target && im->build_target &&
                !strcmp(cells[k].impl->build_target, im->build_target))
                first = k;
        if (!im->build_target)
            continue;
        if (first < i) {
            memcpy(build_err[i], build_err[first], sizeof build_err[i]);
            continue;
        }
        if (o->progress)
            fprintf(stderr, "\r\033[K  building the %s peer…", im->lang);
        impl_build(im, o->peers_dir, build_err[i], sizeof build_err[i]);
    }

    /* The development figures: after the builds above (which fetched what the peers need:
     * the measured builds run offline) and before any cell, never beside one. */
    dev_run(o, cfg->dev_mode, dev);

    /* The sql workload's database: a throwaway cluster pinned to --cpus-db (by default the
     * service CPUs: the service and its database share them, as on one host), or a database
     * on the given server. */
    static lab_db_t db;
    memset(&db, 0, sizeof db);
    for (int w = 0; w < cfg->nworkloads; w++) {
        const lab_workload_t *wl = lab_workload(cfg->workloads[w]);
        db.needed |= wl && wl->db_reset;
    }
    if (db.needed) {
        if (o->progress)
            fprintf(stderr, "\r\033[K  starting PostgreSQL…");
        db_cleanup_on_signals(&db.db);
        db.up = (cfg->pg_url ? db_use(&db.db, cfg->pg_url, db.err, sizeof db.err)
                             : db_start(&db.db, &cfg->cpus_db, db.err, sizeof db.err)) == 0;
    }
    int total = n;
    for (int w = 0; w < cfg->nworkloads; w++) {
        const char *wl = cfg->workloads[w];
        int nw = 0;
        for (int i = 0; i < n; i++)
            nw += !strcmp(cells[i].workload, wl);
        total += (cfg->equal_load_pct > 0 ? nw : 0) + (cfg->sweep ? nw : 0);
    }
    int idx = 0;
    for (int w = 0; w < cfg->nworkloads; w++) {
        const char *wl = cfg->workloads[w];
        for (int i = 0; i < n; i++)
            if (!strcmp(cells[i].workload, wl))
                run_cell(cfg, &db, build_err[i], &cells[i], ++idx, total);
        if (cfg->equal_load_pct > 0 && cfg->rate == 0)
            equal_load(cfg, &db, cells, n, wl, &idx, total);
        for (int i = 0; cfg->sweep && cfg->rate == 0 && i < n; i++)
            if (!strcmp(cells[i].workload, wl) && cells[i].ok)
                sweep(cfg, &db, &cells[i], ++idx, total);
    }
    if (db.needed)
        db_stop(&db.db);
    if (o->progress)
        fprintf(stderr, "\r\033[K");
}
