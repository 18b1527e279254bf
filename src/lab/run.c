/* The matrix runner: one cell per workload × language (see lab.h for the steps of a cell). */
#include <errno.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "verify/contract.h"
#include "lab/lab.h"
#include "sut/meter.h"
#include "db/db.h"
#include "sut/sut.h"
#include "verify/verify.h"

#define START_TIMEOUT (15 * NS_PER_S)
#define STOP_TIMEOUT (15 * NS_PER_S)

static void self_exe(char *out, size_t n)
{
    ssize_t r = readlink("/proc/self/exe", out, n - 1);
    out[r > 0 ? r : 0] = 0;
}

int lab_lang_binary(const lab_config_t *cfg, const char *lang, char *bin, size_t n, char *why,
                    size_t wn)
{
    if (strcmp(lang, "c") == 0)
        self_exe(bin, n);
    else if (strcmp(lang, "go") == 0)
        snprintf(bin, n, "%s/go/bin/stackbench-go", cfg->peers_dir);
    else if (strcmp(lang, "rust") == 0)
        snprintf(bin, n, "%s/rust/target/release/stackbench-rust", cfg->peers_dir);
    else {
        snprintf(why, wn, "unknown language '%s'", lang);
        return -1;
    }
    if (access(bin, X_OK) != 0) {
        snprintf(why, wn, "not built: %.900s", bin);
        return -1;
    }
    return 0;
}

/* Runs argv, waits; its output goes to out (tail kept). Exit status or -1. */
static int run_capture(const char *const argv[], char *out, size_t n)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    char tmp[4096];
    ssize_t r;
    while ((r = read(fds[0], tmp, sizeof tmp)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            if (len + 1 >= n) { /* keep the tail: the error is at the end */
                memmove(out, out + n / 2, len - n / 2);
                len -= n / 2;
            }
            out[len++] = tmp[i];
        }
    }
    out[len] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Builds the peers that are asked for (make skips what has not changed). */
static void build_peers(const lab_config_t *cfg, char build_err[LAB_MAX][512])
{
    for (int i = 0; i < cfg->nlangs; i++) {
        const char *lang = cfg->langs[i];
        build_err[i][0] = 0;
        const char *target = strcmp(lang, "go") == 0     ? "go/bin/stackbench-go"
                             : strcmp(lang, "rust") == 0 ? "rust/target/release/stackbench-rust"
                                                         : NULL;
        if (!target)
            continue;
        if (cfg->progress)
            fprintf(stderr, "\r\033[K  building the %s peer…", lang);
        char out[4096];
        const char *argv[] = {"make", "-s", "-C", cfg->peers_dir, target, NULL};
        if (run_capture(argv, out, sizeof out) != 0) {
            char *last = out + strlen(out);
            while (last > out && (last[-1] == '\n' || last[-1] == ' '))
                *--last = 0;
            char *nl = strrchr(out, '\n');
            snprintf(build_err[i], 512, "build failed: %.480s", nl ? nl + 1 : out);
        }
    }
    if (cfg->progress)
        fprintf(stderr, "\r\033[K");
}

static bool check_answer(const http_msg_t *m, const char *body, size_t len,
                         const mix_sent_t *sent, void *ud)
{
    const lab_workload_t *wl = ud;
    if (wl->check)
        return wl->check(m, body, len, sent, ud);
    return len == wl->expect_len && memcmp(body, wl->expect_body, len) == 0;
}

/* The sql workload's database, started (or created on --pg-url) once for the run. */
static db_t pg;
static bool pg_up;
static char pg_err[512];

static void fail(lab_cell_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(lab_cell_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    c->ok = false;
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    c->reason[strcspn(c->reason, "\n")] = 0;
    va_end(ap);
}

static void load_config(const lab_config_t *cfg, const lab_workload_t *wl, const char *url,
                        int64_t duration, load_config_t *lc, char *urlbuf, size_t un)
{
    load_config_defaults(lc);
    snprintf(urlbuf, un, "%s%s", url, wl->mix ? "" : wl->path);
    lc->url = urlbuf;
    if (wl->mix) {
        lc->requests = wl->mix;
        lc->nrequests = wl->nmix;
        lc->expect_status = 0; /* each template's status is checked by wl->check */
    }
    lc->connections = cfg->connections;
    lc->threads = cfg->n_load_cpus;
    lc->duration_ns = duration;
    lc->rate = cfg->rate;
    lc->method = wl->mix ? NULL : wl->method;
    lc->headers = (const char **)wl->headers;
    lc->nheaders = wl->nheaders;
    lc->body = wl->body;
    lc->body_len = wl->body_len;
    lc->expect_status = wl->mix ? 0 : 200;
    lc->pin = true;
    memcpy(lc->cpus, cfg->cpus_load, sizeof lc->cpus);
    lc->check = check_answer;
    lc->check_ud = (void *)wl;
}

static void run_cell(const lab_config_t *cfg, const char *workload, const char *lang,
                     const char *build_err, lab_cell_t *c, int idx, int total)
{
    memset(c, 0, sizeof *c);
    c->workload = workload;
    c->lang = lang;
    c->ok = true;
    c->served = -1;
    char label[96];
    snprintf(label, sizeof label, "[%d/%d] %s · %s", idx, total, workload, lang);
    const lab_workload_t *wl = lab_workload(workload);
    if (!wl) {
        fail(c, "unknown workload '%s'", workload);
        return;
    }
    if (build_err && *build_err) {
        fail(c, "%s", build_err);
        return;
    }
    char bin[4096], why[1024];
    if (lab_lang_binary(cfg, lang, bin, sizeof bin, why, sizeof why)) {
        fail(c, "%s", why);
        return;
    }
    struct stat st;
    if (stat(bin, &st) == 0)
        c->binary_bytes = (uint64_t)st.st_size;
    char pool[16];
    snprintf(pool, sizeof pool, "%d", cfg->pool);
    const char *argv_c[] = {bin, "serve", workload, "--port", "0", NULL, NULL, NULL, NULL, NULL};
    const char *argv_peer[] = {bin, workload, "--port", "0", NULL, NULL, NULL, NULL, NULL};
    const char **argv = strcmp(lang, "c") == 0 ? argv_c : argv_peer;
    c->db_cpu_s = -1;
    if (wl->db_reset) {
        if (!pg_up) {
            fail(c, "database: %s", pg_err);
            return;
        }
        const char **end = argv + (argv == argv_c ? 5 : 4);
        end[0] = "--pg-url", end[1] = pg.url, end[2] = "--pool", end[3] = pool;
        /* Every language starts from the same data. */
        if (db_exec(&pg, wl->db_reset, why, sizeof why)) {
            fail(c, "database reset: %s", why);
            return;
        }
    }

    /* 1. A first instance is checked against the contract. */
    if (cfg->progress)
        fprintf(stderr, "\r\033[K  %s  checking the contract…", label);
    sut_t svc;
    if (sut_start(&svc, argv, cfg->cpus_service, START_TIMEOUT, why, sizeof why)) {
        fail(c, "%s", why);
        return;
    }
    if (sut_wait_healthy(svc.url, START_TIMEOUT) < 0) {
        sut_stop(&svc, SIGKILL, NS_PER_S);
        fail(c, "GET /health never answered 200 at %s", svc.url);
        return;
    }
    contract_t ct;
    if (contract_load_builtin(workload, &ct, why, sizeof why) == 0) {
        verify_result_t *res = calloc((size_t)ct.ncases, sizeof *res);
        int failed = verify_run(&ct, svc.url, 5 * NS_PER_S, res, why, sizeof why);
        if (failed != 0) {
            for (int i = 0; i < ct.ncases; i++)
                if (!res[i].ok) {
                    snprintf(c->reason, sizeof c->reason, "contract: %d of %d cases differ; %.60s: %.380s",
                             failed, ct.ncases, res[i].name, res[i].why);
                    break;
                }
            if (failed < 0)
                snprintf(c->reason, sizeof c->reason, "contract: %.480s", why);
            c->ok = false;
        }
        free(res);
        contract_free(&ct);
    }
    int rc = sut_stop(&svc, SIGTERM, STOP_TIMEOUT);
    if (!c->ok)
        return;
    if (rc != 0) {
        snprintf(c->reason, sizeof c->reason, "did not exit cleanly on SIGTERM (status %d)", rc);
        c->ok = false;
        return;
    }

    /* 2. A fresh instance is warmed up, then measured. */
    if (sut_start(&svc, argv, cfg->cpus_service, START_TIMEOUT, why, sizeof why)) {
        fail(c, "%s", why);
        return;
    }
    int health = sut_wait_healthy(svc.url, START_TIMEOUT);
    if (health < 0) {
        sut_stop(&svc, SIGKILL, NS_PER_S);
        fail(c, "GET /health never answered 200 at %s", svc.url);
        return;
    }
    c->sent = (uint64_t)health;
    char url[256];
    load_config_t lc;
    load_result_t lr;
    char err[512];
    char plabel[128];
    if (cfg->warmup_ns > 0) {
        load_config(cfg, wl, svc.url, cfg->warmup_ns, &lc, url, sizeof url);
        snprintf(plabel, sizeof plabel, "%s  warm-up", label);
        lc.progress = cfg->progress;
        lc.progress_label = plabel;
        if (load_run(&lc, &lr, err, sizeof err) == 0) {
            c->sent += lr.requests;
            load_result_free(&lr);
        }
    }
    load_config(cfg, wl, svc.url, cfg->duration_ns, &lc, url, sizeof url);
    snprintf(plabel, sizeof plabel, "%s  measuring", label);
    lc.progress = cfg->progress;
    lc.progress_label = plabel;
    meter_t m;
    bool db_metered = wl->db_reset && !pg.external && pg.pid > 0;
    double db0 = db_metered ? meter_tree_cpu_s(pg.pid) : -1;
    meter_start(&m, svc.pid, 100 * NS_PER_MS);
    int lrc = load_run(&lc, &lr, err, sizeof err);
    meter_stop(&m);
    double db1 = db_metered ? meter_tree_cpu_s(pg.pid) : -1;
    c->exit_status = sut_stop(&svc, SIGTERM, STOP_TIMEOUT);
    c->served = sut_served(&svc);
    if (lrc != 0) {
        fail(c, "load: %s", err);
        return;
    }
    c->sent += lr.requests;
    c->requests = lr.requests;
    c->rps = lr.elapsed_s > 0 ? (double)lr.requests / lr.elapsed_s : 0;
    static const double pct[] = {50, 90, 99, 99.9};
    for (int i = 0; i < 4; i++)
        c->lat_us[i] = (double)hist_percentile(lr.latency, pct[i]) / 1e3;
    c->lat_us[4] = (double)hist_max(lr.latency) / 1e3;
    c->lat_us[5] = hist_mean(lr.latency) / 1e3;
    c->rss_peak_kib = m.rss_peak_kib;
    c->rss_mean_kib = meter_rss_mean_kib(&m);
    c->threads = m.threads_max;
    c->cpu_s = meter_cpu_s(&m);
    c->cpu_us_per_req = lr.requests ? c->cpu_s * 1e6 / (double)lr.requests : 0;
    if (db0 >= 0 && db1 >= db0) {
        c->db_cpu_s = db1 - db0;
        c->db_cpu_us_per_req = lr.requests ? c->db_cpu_s * 1e6 / (double)lr.requests : 0;
        double avail = lr.elapsed_s * cfg->n_db_cpus;
        c->db_cpu_share = avail > 0 ? c->db_cpu_s / avail : 0;
    }
    for (size_t i = 0; i < lr.nby_request && i < MIX_MAX_TEMPLATES; i++) {
        const load_request_result_t *br = &lr.by_request[i];
        c->by_request[i].method = wl->mix[i].method;
        c->by_request[i].target = wl->mix[i].target;
        c->by_request[i].requests = br->requests;
        for (int k = 0; k < LOAD_ERR_KINDS; k++)
            c->by_request[i].errors += br->errors[k];
        for (int k = 0; k < 4; k++)
            c->by_request[i].lat_us[k] = (double)hist_percentile(br->latency, pct[k]) / 1e3;
        c->nby_request = (int)i + 1;
    }
    c->errors = load_errors_total(&lr);
    c->status_errors = lr.errors[LOAD_ERR_STATUS];
    c->body_errors = lr.errors[LOAD_ERR_BODY];
    double avail = lr.elapsed_s * cfg->n_load_cpus;
    c->load_cpu_share = avail > 0 ? lr.cpu_s / avail : 0;
    /* The load engine near its CPU limit: the service was not the bottleneck. */
    c->load_bound = cfg->rate == 0 && c->load_cpu_share > 0.85;
    load_result_free(&lr);
    if (c->exit_status != 0) {
        snprintf(c->reason, sizeof c->reason, "did not exit cleanly on SIGTERM (status %d)",
                 c->exit_status);
        c->ok = false;
    } else if (c->errors) {
        snprintf(c->reason, sizeof c->reason, "%llu errors (%llu wrong status, %llu wrong body)",
                 (unsigned long long)c->errors, (unsigned long long)c->status_errors,
                 (unsigned long long)c->body_errors);
    }
}

int lab_run(const lab_config_t *cfg, lab_cell_t *cells)
{
    signal(SIGPIPE, SIG_IGN);
    /* The lab itself (progress, /proc sampling, the load threads) stays off the service CPUs. */
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < 1024 && i < CPU_SETSIZE; i++)
        if (cfg->cpus_load[i])
            CPU_SET(i, &set);
    sched_setaffinity(0, sizeof set, &set);

    char build_err[LAB_MAX][512];
    build_peers(cfg, build_err);

    /* The sql workload's database: a throwaway cluster pinned to --cpus-db (by default the
     * service CPUs: the service and its database share them, as on one host), or a database
     * on the given server. */
    bool need_db = false;
    for (int w = 0; w < cfg->nworkloads; w++)
        need_db |= lab_workload(cfg->workloads[w]) && lab_workload(cfg->workloads[w])->db_reset;
    if (need_db) {
        if (cfg->progress)
            fprintf(stderr, "\r\033[K  starting PostgreSQL…");
        memset(&pg, 0, sizeof pg);
        db_cleanup_on_signals(&pg);
        int rc = cfg->pg_url ? db_use(&pg, cfg->pg_url, pg_err, sizeof pg_err)
                             : db_start(&pg, cfg->cpus_db, pg_err, sizeof pg_err);
        pg_up = rc == 0;
    }
    int total = cfg->nworkloads * cfg->nlangs, k = 0;
    for (int w = 0; w < cfg->nworkloads; w++)
        for (int l = 0; l < cfg->nlangs; l++, k++)
            run_cell(cfg, cfg->workloads[w], cfg->langs[l], build_err[l], &cells[k], k + 1, total);
    if (need_db)
        db_stop(&pg);
    if (cfg->progress)
        fprintf(stderr, "\r\033[K");
    return 0;
}
