/* The run's results as results.json (stable keys), from the lab's cells: what the tables, the
 * decision and the page are read from (results.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "codec/jsonw.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/proc.h"
#include "lab/results.h"

#ifndef SB_VERSION
#define SB_VERSION "dev"
#endif
#ifndef SB_CC
#define SB_CC "unknown"
#endif

/* The first line a program prints about its version: the first of the commands `tries`
 * (NULL-terminated) that runs and exits 0. */
static void version_of(const char *const *const *tries, char *out, size_t n)
{
    snprintf(out, n, "not found");
    for (; *tries; tries++) {
        const char *const *argv = *tries;
        char got[1024], err[256];
        if (proc_run(argv, NULL, 10 * NS_PER_S, got, sizeof got, err, sizeof err) == 0) {
            snprintf(out, n, "%.*s", (int)strcspn(got, "\n"), got);
            return;
        }
    }
}

/* The labels of a cell: which implementation, in which tier, doing what. */
static void write_labels(jsonw_t *w, const lab_cell_t *c)
{
    jsonw_key(w, "name");
    jsonw_str(w, c->name);
    jsonw_key(w, "tier");
    jsonw_str(w, c->tier);
    jsonw_key(w, "framework");
    jsonw_str(w, c->framework);
    jsonw_key(w, "does");
    jsonw_str(w, c->does);
    jsonw_key(w, "db_strategy");
    c->db_strategy ? jsonw_str(w, c->db_strategy) : jsonw_null(w);
}

/* spectrum [{p, us}]: the run's percentile points (lab_spectrum_t), not its histogram. */
static void write_spectrum(jsonw_t *w, const lab_spectrum_t *s, int decimals)
{
    jsonw_key(w, "spectrum");
    jsonw_arr_begin(w);
    for (int k = 0; k < s->n; k++) {
        jsonw_obj_begin(w);
        jsonw_key(w, "p");
        jsonw_double(w, s->pt[k].pct, 6);
        jsonw_key(w, "us");
        jsonw_double(w, s->pt[k].us, decimals);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}

/* profile {ran, reason, samples, unwind, dir, top [{function, self_pct}]}: the CPU profile of
 * the measured run (--cpu-profile; null without it). dir is relative to the results' folder. */
static void write_profile(jsonw_t *w, const lab_config_t *cfg, const lab_profile_t *p)
{
    jsonw_key(w, "profile");
    if (!cfg->cpu_profile) {
        jsonw_null(w);
        return;
    }
    jsonw_obj_begin(w);
    jsonw_key(w, "ran");
    jsonw_bool(w, p->ran);
    jsonw_key(w, "reason");
    p->ran ? jsonw_null(w) : jsonw_str(w, *p->reason ? p->reason : "the cell was not measured");
    jsonw_key(w, "samples");
    jsonw_uint(w, p->samples);
    jsonw_key(w, "unwind");
    p->unwind ? jsonw_str(w, p->unwind) : jsonw_null(w);
    jsonw_key(w, "dir");
    p->ran ? jsonw_str(w, p->dir) : jsonw_null(w);
    jsonw_key(w, "top");
    jsonw_arr_begin(w);
    for (int i = 0; i < p->ntop; i++) {
        jsonw_obj_begin(w);
        jsonw_key(w, "function");
        jsonw_str(w, p->top[i].function);
        jsonw_key(w, "self_pct");
        jsonw_double(w, p->top[i].self_pct, 2);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
}

/* One open-loop run: its rate, what it achieved, its latency. */
static void write_open(jsonw_t *w, const lab_open_t *o, bool windows)
{
    jsonw_key(w, "rate");
    jsonw_double(w, o->rate, 1);
    jsonw_key(w, "ran");
    jsonw_bool(w, o->ran);
    jsonw_key(w, "rate_achieved");
    jsonw_double(w, o->rate_achieved, 1);
    jsonw_key(w, "held");
    jsonw_bool(w, o->held);
    jsonw_key(w, "reason");
    jsonw_str(w, o->reason);
    jsonw_key(w, "requests");
    jsonw_uint(w, o->requests);
    jsonw_key(w, "errors");
    jsonw_uint(w, o->errors);
    jsonw_key(w, "unsent");
    jsonw_uint(w, o->unsent);
    jsonw_key(w, "latency_us");
    jsonw_obj_begin(w);
    static const char *const lk[] = {"p50", "p99", "p999", "p9999", "max", "mean"};
    for (int k = 0; k < 6; k++) {
        jsonw_key(w, lk[k]);
        jsonw_double(w, o->lat_us[k], 1);
    }
    jsonw_obj_end(w);
    if (!windows)
        return;
    write_spectrum(w, &o->spectrum, 1);
    jsonw_key(w, "gc");
    if (o->gc_known) {
        jsonw_obj_begin(w);
        jsonw_key(w, "pauses");
        jsonw_int(w, o->gc_pauses);
        jsonw_key(w, "cycles");
        jsonw_int(w, o->gc_cycles);
        jsonw_key(w, "pause_p99_us");
        o->gc_pauses > 0 ? jsonw_double(w, o->gc_pause_p99_us, 1) : jsonw_null(w);
        jsonw_key(w, "pause_max_us");
        o->gc_pauses > 0 ? jsonw_double(w, o->gc_pause_max_us, 1) : jsonw_null(w);
        jsonw_obj_end(w);
    } else {
        jsonw_null(w);
    }
    jsonw_key(w, "window_ms");
    jsonw_int(w, 100);
    jsonw_key(w, "windows");
    jsonw_arr_begin(w);
    for (int k = 0; k < o->nwindows; k++) {
        jsonw_obj_begin(w);
        jsonw_key(w, "t_ms");
        jsonw_int(w, (int64_t)k * 100);
        jsonw_key(w, "count");
        jsonw_uint(w, o->windows[k].count);
        jsonw_key(w, "p99_us");
        jsonw_double(w, o->windows[k].p99_us, 1);
        jsonw_key(w, "max_us");
        jsonw_double(w, o->windows[k].max_us, 1);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}

/* equal_load {pct, duration_s, rate {WORKLOAD: r}, cells [...]}: null when not run. */
static void write_equal_load(jsonw_t *w, const lab_config_t *cfg, const lab_cell_t *cells, int n)
{
    jsonw_key(w, "equal_load");
    bool any = false;
    for (int i = 0; i < n; i++)
        any |= cells[i].equal.rate > 0;
    if (!any) {
        jsonw_null(w);
        return;
    }
    jsonw_obj_begin(w);
    jsonw_key(w, "pct");
    jsonw_int(w, cfg->equal_load_pct);
    jsonw_key(w, "duration_s");
    jsonw_double(w, (double)cfg->equal_load_ns / NS_PER_S, 3);
    jsonw_key(w, "rate");
    jsonw_obj_begin(w);
    for (int k = 0; k < cfg->nworkloads; k++)
        for (int i = 0; i < n; i++)
            if (!strcmp(cells[i].workload, cfg->workloads[k]) && cells[i].equal.rate > 0) {
                jsonw_key(w, cfg->workloads[k]);
                jsonw_double(w, cells[i].equal.rate, 1);
                break;
            }
    jsonw_obj_end(w);
    jsonw_key(w, "cells");
    jsonw_arr_begin(w);
    for (int i = 0; i < n; i++) {
        if (cells[i].equal.rate <= 0)
            continue;
        jsonw_obj_begin(w);
        jsonw_key(w, "workload");
        jsonw_str(w, cells[i].workload);
        jsonw_key(w, "lang");
        jsonw_str(w, cells[i].lang);
        write_labels(w, &cells[i]);
        write_open(w, &cells[i].equal, true);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
}

/* sweep [{workload, lang, labels, points [{pct, rate...}]}]: null without --sweep. */
static void write_sweep(jsonw_t *w, const lab_config_t *cfg, const lab_cell_t *cells, int n)
{
    jsonw_key(w, "sweep");
    if (!cfg->sweep) {
        jsonw_null(w);
        return;
    }
    jsonw_arr_begin(w);
    for (int i = 0; i < n; i++) {
        if (cells[i].sweep[0].rate <= 0)
            continue;
        jsonw_obj_begin(w);
        jsonw_key(w, "workload");
        jsonw_str(w, cells[i].workload);
        jsonw_key(w, "lang");
        jsonw_str(w, cells[i].lang);
        write_labels(w, &cells[i]);
        jsonw_key(w, "max_rps");
        jsonw_double(w, cells[i].rps, 1);
        jsonw_key(w, "points");
        jsonw_arr_begin(w);
        for (int k = 0; k < LAB_SWEEP_POINTS; k++) {
            jsonw_obj_begin(w);
            jsonw_key(w, "pct");
            jsonw_int(w, lab_sweep_pct[k]);
            write_open(w, &cells[i].sweep[k], false);
            jsonw_obj_end(w);
        }
        jsonw_arr_end(w);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}

/* dev {loc_counter, ..., langs [...]}: null with --no-dev-metrics. */
static void write_dev(jsonw_t *w, const dev_report_t *dev)
{
    jsonw_key(w, "dev");
    if (!dev || !dev->ran) {
        jsonw_null(w);
        return;
    }
    jsonw_obj_begin(w);
    jsonw_key(w, "loc_counter");
    jsonw_str(w, dev_loc_counter);
    jsonw_key(w, "loc_excluded");
    jsonw_str(w, dev_loc_excluded);
    jsonw_key(w, "source_hash");
    jsonw_str(w, dev_hash_note);
    jsonw_key(w, "cache");
    jsonw_str(w, dev->cache_dir);
    jsonw_key(w, "elapsed_s");
    jsonw_double(w, dev->elapsed_s, 3);
    jsonw_key(w, "langs");
    jsonw_arr_begin(w);
    for (int i = 0; i < dev->n; i++)
        dev_write_lang(w, &dev->langs[i], true);
    jsonw_arr_end(w);
    jsonw_obj_end(w);
}

static void write_json(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                       const dev_report_t *dev, buf_t *out)
{
    jsonw_t w;
    jsonw_init(&w, out, true);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "stackbench");
    jsonw_str(&w, SB_VERSION);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    jsonw_key(&w, "date");
    jsonw_str(&w, date);

    jsonw_key(&w, "machine");
    jsonw_obj_begin(&w);
    char model[256];
    cpu_model(model, sizeof model);
    struct utsname u;
    uname(&u);
    jsonw_key(&w, "cpu_model");
    jsonw_str(&w, model);
    jsonw_key(&w, "cores");
    jsonw_int(&w, sysconf(_SC_NPROCESSORS_ONLN));
    jsonw_key(&w, "kernel");
    char kernel[512];
    snprintf(kernel, sizeof kernel, "%s %s", u.sysname, u.release);
    jsonw_str(&w, kernel);
    jsonw_key(&w, "memory_kib");
    jsonw_int(&w, (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / 1024);
    jsonw_obj_end(&w);

    jsonw_key(&w, "versions");
    jsonw_obj_begin(&w);
    char v[256];
    jsonw_key(&w, "c");
    jsonw_str(&w, SB_CC);
    jsonw_key(&w, "go");
    /* Where scripts/install.sh or the toolchains' own installers put them when PATH does not
     * have them. */
    char cargo_rustc[4096];
    snprintf(cargo_rustc, sizeof cargo_rustc, "%s/.cargo/bin/rustc",
             getenv("HOME") ? getenv("HOME") : "");
    const char *const go1[] = {"go", "version", NULL};
    const char *const go2[] = {"/usr/local/go/bin/go", "version", NULL};
    const char *const rust1[] = {"rustc", "--version", NULL};
    const char *const rust2[] = {cargo_rustc, "--version", NULL};
    const char *const ldd1[] = {"ldd", "--version", NULL};
    const char *const *const go[] = {go1, go2, NULL}, *const *const rust[] = {rust1, rust2, NULL};
    const char *const *const ldd[] = {ldd1, NULL};
    version_of(go, v, sizeof v);
    jsonw_str(&w, v);
    jsonw_key(&w, "rust");
    version_of(rust, v, sizeof v);
    jsonw_str(&w, v);
    jsonw_key(&w, "glibc");
    version_of(ldd, v, sizeof v);
    jsonw_str(&w, v);
    jsonw_obj_end(&w);

    jsonw_key(&w, "flags");
    jsonw_obj_begin(&w);
    jsonw_key(&w, "command");
    jsonw_str(&w, cfg->argv_line);
    jsonw_key(&w, "langs");
    jsonw_arr_begin(&w);
    for (int i = 0; i < cfg->impl.nlangs; i++)
        jsonw_str(&w, cfg->impl.langs[i]);
    jsonw_arr_end(&w);
    jsonw_key(&w, "workloads");
    jsonw_arr_begin(&w);
    for (int i = 0; i < cfg->nworkloads; i++)
        jsonw_str(&w, cfg->workloads[i]);
    jsonw_arr_end(&w);
    jsonw_key(&w, "duration_s");
    jsonw_double(&w, (double)cfg->impl.duration_ns / NS_PER_S, 3);
    jsonw_key(&w, "warmup_s");
    jsonw_double(&w, (double)cfg->warmup_ns / NS_PER_S, 3);
    jsonw_key(&w, "connections");
    jsonw_int(&w, cfg->impl.connections);
    jsonw_key(&w, "rate");
    if (cfg->rate > 0)
        jsonw_double(&w, cfg->rate, 3);
    else
        jsonw_str(&w, "max");
    char cpus[256];
    jsonw_key(&w, "cpus_service");
    cpuset_format(&cfg->impl.cpus_service, cpus, sizeof cpus);
    jsonw_str(&w, cpus);
    jsonw_key(&w, "cpus_load");
    cpuset_format(&cfg->impl.cpus_load, cpus, sizeof cpus);
    jsonw_str(&w, cpus);
    jsonw_key(&w, "load_threads");
    jsonw_int(&w, cpuset_count(&cfg->impl.cpus_load));
    /* The sql workload's PostgreSQL: started by the lab and pinned to the service CPUs
     * (shared with the service), or a server given with --pg-url (its CPU not metered). */
    jsonw_key(&w, "database");
    bool sql = false;
    for (int i = 0; i < cfg->nworkloads; i++)
        sql |= strcmp(cfg->workloads[i], "sql") == 0;
    if (sql) {
        jsonw_obj_begin(&w);
        jsonw_key(&w, "managed");
        jsonw_bool(&w, cfg->pg_url == NULL);
        jsonw_key(&w, "cpus");
        cpuset_format(&cfg->cpus_db, cpus, sizeof cpus);
        cfg->pg_url ? jsonw_null(&w) : jsonw_str(&w, cpus);
        jsonw_key(&w, "pool");
        jsonw_int(&w, cfg->impl.pool);
        jsonw_obj_end(&w);
    } else {
        jsonw_null(&w);
    }
    jsonw_obj_end(&w);

    jsonw_key(&w, "cells");
    jsonw_arr_begin(&w);
    for (int i = 0; i < n; i++) {
        const lab_cell_t *c = &cells[i];
        jsonw_obj_begin(&w);
        jsonw_key(&w, "workload");
        jsonw_str(&w, c->workload);
        jsonw_key(&w, "lang");
        jsonw_str(&w, c->lang);
        write_labels(&w, c);
        jsonw_key(&w, "status");
        jsonw_str(&w, c->ok ? "ok" : "failed");
        jsonw_key(&w, "reason");
        jsonw_str(&w, c->reason);
        jsonw_key(&w, "requests");
        jsonw_uint(&w, c->requests);
        jsonw_key(&w, "rps");
        jsonw_double(&w, c->rps, 1);
        jsonw_key(&w, "latency_us");
        jsonw_obj_begin(&w);
        static const char *const lk[] = {"p50", "p90", "p99", "p999", "max", "mean"};
        for (int k = 0; k < 6; k++) {
            jsonw_key(&w, lk[k]);
            jsonw_double(&w, c->lat_us[k], 3);
        }
        jsonw_obj_end(&w);
        write_spectrum(&w, &c->spectrum, 3);
        jsonw_key(&w, "rss_peak_kib");
        jsonw_uint(&w, c->rss_peak_kib);
        jsonw_key(&w, "rss_mean_kib");
        jsonw_double(&w, c->rss_mean_kib, 0);
        jsonw_key(&w, "cpu_s");
        jsonw_double(&w, c->cpu_s, 3);
        jsonw_key(&w, "cpu_us_per_req");
        jsonw_double(&w, c->cpu_us_per_req, 3);
        jsonw_key(&w, "threads");
        jsonw_int(&w, c->threads);
        jsonw_key(&w, "errors");
        jsonw_uint(&w, c->errors);
        jsonw_key(&w, "load_bound");
        jsonw_bool(&w, c->load_bound);
        jsonw_key(&w, "load_cpu_share");
        jsonw_double(&w, c->load_cpu_share, 3);
        jsonw_key(&w, "served");
        jsonw_int(&w, c->served);
        jsonw_key(&w, "sent");
        jsonw_uint(&w, c->sent);
        jsonw_key(&w, "binary_bytes");
        jsonw_uint(&w, c->binary_bytes);
        /* The fresh instance's start: to its first healthy answer, and its memory then. */
        jsonw_key(&w, "startup_ms");
        c->startup_ms >= 0 ? jsonw_double(&w, c->startup_ms, 3) : jsonw_null(&w);
        jsonw_key(&w, "idle_rss_kib");
        c->idle_rss_kib >= 0 ? jsonw_int(&w, c->idle_rss_kib) : jsonw_null(&w);
        /* sql: the database's CPU in the measured run (null: no database, or not metered). */
        bool db = c->db_cpu_s >= 0;
        jsonw_key(&w, "db_cpu_s");
        db ? jsonw_double(&w, c->db_cpu_s, 3) : jsonw_null(&w);
        jsonw_key(&w, "db_cpu_us_per_req");
        db ? jsonw_double(&w, c->db_cpu_us_per_req, 3) : jsonw_null(&w);
        jsonw_key(&w, "db_cpu_share");
        db ? jsonw_double(&w, c->db_cpu_share, 3) : jsonw_null(&w);
        /* sql: the database's work per request (null: not known). */
        bool work = c->db_round_trips_per_req >= 0;
        jsonw_key(&w, "db_round_trips_per_req");
        work ? jsonw_double(&w, c->db_round_trips_per_req, 3) : jsonw_null(&w);
        jsonw_key(&w, "db_commits_per_req");
        work ? jsonw_double(&w, c->db_commits_per_req, 3) : jsonw_null(&w);
        /* grpc: requests are calls; the messages they answered (null otherwise). */
        jsonw_key(&w, "messages");
        c->grpc ? jsonw_uint(&w, c->messages) : jsonw_null(&w);
        jsonw_key(&w, "messages_per_s");
        c->grpc ? jsonw_double(&w, c->messages_per_s, 1) : jsonw_null(&w);
        /* A mix: each kind of request on its own (empty for a single request). */
        jsonw_key(&w, "by_request");
        jsonw_arr_begin(&w);
        for (int k = 0; k < c->nby_request; k++) {
            static const char *const bk[] = {"p50", "p90", "p99", "p999"};
            jsonw_obj_begin(&w);
            jsonw_key(&w, "method");
            jsonw_str(&w, c->by_request[k].method);
            jsonw_key(&w, "target");
            jsonw_str(&w, c->by_request[k].target);
            jsonw_key(&w, "requests");
            jsonw_uint(&w, c->by_request[k].requests);
            jsonw_key(&w, "errors");
            jsonw_uint(&w, c->by_request[k].errors);
            jsonw_key(&w, "messages"); /* grpc: its calls' messages; null otherwise */
            c->grpc ? jsonw_uint(&w, c->by_request[k].messages) : jsonw_null(&w);
            jsonw_key(&w, "latency_us");
            jsonw_obj_begin(&w);
            for (int q = 0; q < 4; q++) {
                jsonw_key(&w, bk[q]);
                jsonw_double(&w, c->by_request[k].lat_us[q], 1);
            }
            jsonw_obj_end(&w);
            jsonw_obj_end(&w);
        }
        jsonw_arr_end(&w);
        write_profile(&w, cfg, &c->profile);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    write_equal_load(&w, cfg, cells, n);
    write_sweep(&w, cfg, cells, n);
    write_dev(&w, dev);
    jsonw_obj_end(&w);
    buf_puts(out, "\n");
}

int lab_write_results(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                      const dev_report_t *dev, char *err, size_t errlen)
{
    if (mkdir(cfg->out_dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", cfg->out_dir, strerror(errno));
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/results.json", cfg->out_dir);
    buf_t j = BUF_INIT;
    write_json(cfg, cells, n, dev, &j);
    int rc = buf_write_file(&j, path);
    buf_free(&j);
    if (rc)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
    return rc ? -1 : 0;
}
