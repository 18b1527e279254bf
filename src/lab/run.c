/* The matrix runner: one cell per workload × language, each a pipeline of stages (run.h). */
#include "lab/run.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/proc.h"
#include "db/db.h"
#include "lab/workloads.h"
#include "sut/meter.h"
#include "sut/sut.h"
#include "verify/verify.h"

#define START_TIMEOUT (15 * NS_PER_S)
#define STOP_TIMEOUT (15 * NS_PER_S)

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
    const impl_t *impl;
    char bin[4096];
    impl_argv_t argv;
    sut_t sut;
    char label[96];
    load_result_t lr;        /* the measured run */
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
static void load_config(const cell_t *x, int64_t duration, const char *what, load_config_t *lc,
                        char *url, size_t un, char *label, size_t ln)
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
    lc->rate = cfg->rate;
    lc->method = wl->mix ? NULL : wl->method;
    lc->headers = (const char **)wl->headers;
    lc->nheaders = wl->nheaders;
    lc->body = wl->body;
    lc->body_len = wl->body_len;
    lc->expect_status = wl->mix ? 0 : 200; /* a mix: each template's status is checked by wl->check */
    lc->cpus = &cfg->impl.cpus_load;
    lc->check = check_answer;
    lc->check_ud = (void *)wl;
    lc->progress = cfg->impl.progress;
    lc->progress_label = label;
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
    if (!(x->impl = impl_find(c->lang)))
        return fail(x, "unknown language '%s'", c->lang);
    if (impl_binary(x->impl, x->cfg->impl.peers_dir, x->bin, sizeof x->bin, why, sizeof why))
        return fail(x, "%s", why);
    struct stat st;
    if (stat(x->bin, &st) == 0)
        c->binary_bytes = (uint64_t)st.st_size;
    const char *pg_url = NULL;
    if (x->wl->db_reset) {
        if (!x->db->up)
            return fail(x, "database: %s", x->db->err);
        pg_url = x->db->db.url;
        /* Every language starts from the same data. */
        if (db_exec(&x->db->db, x->wl->db_reset, why, sizeof why))
            return fail(x, "database reset: %s", why);
    }
    impl_argv(x->impl, x->bin, c->workload, pg_url, x->cfg->impl.pool, &x->argv);
    return 0;
}

/* An instance pinned to the service CPUs that answers GET /health; the number of answers it
 * gave (which it counts as served). */
static int start_instance(cell_t *x)
{
    char why[1024];
    if (sut_start(&x->sut, x->argv.argv, &x->cfg->impl.cpus_service, START_TIMEOUT, why,
                  sizeof why))
        return fail(x, "%s", why);
    int health = sut_wait_healthy(x->sut.url, START_TIMEOUT);
    if (health < 0) {
        sut_stop(&x->sut, SIGKILL, NS_PER_S);
        return fail(x, "GET /health never answered 200 at %s", x->sut.url);
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
        for (int i = 0; failed > 0 && i < ct.ncases; i++)
            if (verify_outcome(&res[i]) == VERIFY_FAIL || verify_outcome(&res[i]) == VERIFY_STALE) {
                rc = fail(x, "contract: %d of %d cases differ; %.60s: %.380s", failed, ct.ncases,
                          res[i].name, res[i].why);
                break;
            }
        free(res);
        contract_free(&ct);
    }
    int st = sut_stop(&x->sut, SIGTERM, STOP_TIMEOUT);
    if (rc == 0 && st != 0)
        rc = fail(x, "did not exit cleanly on SIGTERM (status %d)", st);
    return rc;
}

/* A fresh instance for the measurement. */
static int stage_start(cell_t *x)
{
    int health = start_instance(x);
    if (health < 0)
        return -1;
    x->c->sent = (uint64_t)health;
    return 0;
}

/* Load that is not measured: caches, pools, JITs and allocators settle. */
static void stage_warm_up(cell_t *x)
{
    if (x->cfg->warmup_ns <= 0)
        return;
    load_config_t lc;
    load_result_t lr;
    char url[256], label[128], err[512];
    load_config(x, x->cfg->warmup_ns, "warm-up", &lc, url, sizeof url, label, sizeof label);
    if (load_run(&lc, &lr, err, sizeof err) == 0) {
        x->c->sent += lr.requests;
        load_result_free(&lr);
    }
}

/* The measured run, with the service's /proc sampled and the database's CPU read around it. */
static int stage_measure(cell_t *x)
{
    const lab_config_t *cfg = x->cfg;
    lab_cell_t *c = x->c;
    load_config_t lc;
    char url[256], label[128], err[512];
    load_config(x, cfg->impl.duration_ns, "measuring", &lc, url, sizeof url, label, sizeof label);
    const db_t *db = &x->db->db;
    bool db_metered = x->wl->db_reset && !db->external && db->pid > 0;
    double db0 = db_metered ? proc_tree_cpu_s(db->pid) : -1;
    meter_t m;
    meter_start(&m, x->sut.pid, 100 * NS_PER_MS);
    int rc = load_run(&lc, &x->lr, err, sizeof err);
    meter_stop(&m);
    double db1 = db_metered ? proc_tree_cpu_s(db->pid) : -1;
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
        for (int k = 0; k < LOAD_ERR_KINDS; k++)
            c->by_request[i].errors += br->errors[k];
        for (int k = 0; k < 4; k++)
            c->by_request[i].lat_us[k] = (double)hist_percentile(br->latency, pct[k]) / 1e3;
        c->nby_request = (int)i + 1;
    }
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
static void stage_stop(cell_t *x)
{
    x->c->exit_status = sut_stop(&x->sut, SIGTERM, STOP_TIMEOUT);
    x->c->served = sut_served(&x->sut);
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

static void run_cell(const lab_config_t *cfg, lab_db_t *db, const char *workload,
                     const char *lang, const char *build_err, lab_cell_t *c, int idx, int total)
{
    memset(c, 0, sizeof *c);
    c->workload = workload;
    c->lang = lang;
    c->ok = true;
    c->served = -1;
    c->db_cpu_s = -1;
    static cell_t x; /* large (paths, the service's log): not on the stack */
    memset(&x, 0, sizeof x);
    x.cfg = cfg;
    x.db = db;
    x.c = c;
    snprintf(x.label, sizeof x.label, "[%d/%d] %s · %s", idx, total, workload, lang);
    if (stage_prepare(&x, build_err) || stage_verify(&x) || stage_start(&x))
        return;
    stage_warm_up(&x);
    int measured = stage_measure(&x);
    stage_stop(&x);
    if (measured == 0)
        stage_check(&x);
}

void lab_config_init(lab_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    impl_opts_init(&cfg->impl, 10 * NS_PER_S);
    for (int i = 0; lab_workload_names[i] && i < LAB_MAX_WORKLOADS; i++)
        cfg->workloads[cfg->nworkloads++] = lab_workload_names[i];
    cfg->warmup_ns = 3 * NS_PER_S;
    cfg->out_dir = "results";
}

void lab_config_resolve(lab_config_t *cfg)
{
    impl_opts_resolve(&cfg->impl);
    if (!cfg->have_cpus_db)
        cfg->cpus_db = cfg->impl.cpus_service;
}

void lab_run(const lab_config_t *cfg, lab_cell_t *cells)
{
    const impl_opts_t *o = &cfg->impl;
    signal(SIGPIPE, SIG_IGN);
    /* The lab itself (progress, /proc sampling, the load threads) stays off the service CPUs. */
    cpuset_pin_process(0, &o->cpus_load);

    /* Peers are built first, each once (make skips what has not changed). */
    static char build_err[IMPL_MAX][512];
    for (int i = 0; i < o->nlangs; i++) {
        build_err[i][0] = 0;
        const impl_t *im = impl_find(o->langs[i]);
        if (!im || !im->build_target)
            continue;
        if (o->progress)
            fprintf(stderr, "\r\033[K  building the %s peer…", o->langs[i]);
        impl_build(im, o->peers_dir, build_err[i], sizeof build_err[i]);
    }

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
    int total = cfg->nworkloads * o->nlangs, k = 0;
    for (int w = 0; w < cfg->nworkloads; w++)
        for (int l = 0; l < o->nlangs; l++, k++)
            run_cell(cfg, &db, cfg->workloads[w], o->langs[l], build_err[l], &cells[k], k + 1,
                     total);
    if (db.needed)
        db_stop(&db.db);
    if (o->progress)
        fprintf(stderr, "\r\033[K");
}
