/* The run's results: an aligned table for people, results.json (stable keys) and results.md. */
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
#include "core/fmt.h"
#include "core/proc.h"
#include "lab/results.h"

#ifndef SB_VERSION
#define SB_VERSION "dev"
#endif
#ifndef SB_CC
#define SB_CC "unknown"
#endif

/* Best req/s among the ok cells of a workload. */
static double best_rps(const lab_cell_t *cells, int n, const char *workload)
{
    double best = 0;
    for (int i = 0; i < n; i++)
        if (cells[i].ok && !strcmp(cells[i].workload, workload) && cells[i].rps > best)
            best = cells[i].rps;
    return best;
}

typedef struct {
    char lang[16], rps[24], p50[24], p99[24], p999[24], rss[24], cpu[24], errors[24], vs[24];
    const char *note;
    char notebuf[600];
} row_t;

static void make_row(const lab_cell_t *c, double best, row_t *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->lang, sizeof r->lang, "%s", c->lang);
    if (!c->ok && c->requests == 0) {
        snprintf(r->notebuf, sizeof r->notebuf, "failed: %s", c->reason);
        r->note = r->notebuf;
        return;
    }
    snprintf(r->rps, sizeof r->rps, "%.0f", c->rps);
    fmt_duration(r->p50, sizeof r->p50, c->lat_us[0] * 1e3);
    fmt_duration(r->p99, sizeof r->p99, c->lat_us[2] * 1e3);
    fmt_duration(r->p999, sizeof r->p999, c->lat_us[3] * 1e3);
    fmt_bytes(r->rss, sizeof r->rss, (double)c->rss_peak_kib * 1024);
    snprintf(r->cpu, sizeof r->cpu, "%.2f", c->cpu_us_per_req);
    snprintf(r->errors, sizeof r->errors, "%llu", (unsigned long long)c->errors);
    if (best > 0 && c->rps >= best)
        snprintf(r->vs, sizeof r->vs, "best");
    else if (best > 0)
        snprintf(r->vs, sizeof r->vs, "%+.0f %%", 100 * (c->rps / best - 1));
    if (!c->ok)
        snprintf(r->notebuf, sizeof r->notebuf, "%s", c->reason);
    else if (c->load_bound)
        snprintf(r->notebuf, sizeof r->notebuf,
                 "load-bound (load CPU %.0f %%): compare CPU µs/req", 100 * c->load_cpu_share);
    else if (c->db_cpu_s >= 0 && c->requests)
        snprintf(r->notebuf, sizeof r->notebuf, "+ database %.2f µs/req, %.0f %% of its CPUs",
                 c->db_cpu_us_per_req, 100 * c->db_cpu_share);
    r->note = r->notebuf;
}

/* printf's widths count bytes; "µ" is two bytes and one column. */
static void col(FILE *f, const char *s, int width, bool left)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xC0) != 0x80;
    int pad = width > cols ? width - cols : 0;
    if (left)
        fprintf(f, "%s%*s  ", s, pad, "");
    else
        fprintf(f, "%*s%s  ", pad, "", s);
}

static const char *const heads[] = {"workload", "lang", "req/s", "p50", "p99", "p99.9",
                                    "peak RSS", "CPU µs/req", "errors", "vs best"};
static const int widths[] = {8, 5, 9, 8, 8, 8, 9, 10, 6, 7};

void lab_print_table(const lab_config_t *cfg, const lab_cell_t *cells, int n)
{
    FILE *f = stdout;
    for (int i = 0; i < 10; i++)
        col(f, heads[i], widths[i], i < 2);
    fprintf(f, "\n");
    for (int i = 0; i < n; i++) {
        row_t r;
        make_row(&cells[i], best_rps(cells, n, cells[i].workload), &r);
        const char *v[] = {cells[i].workload, r.lang, r.rps, r.p50, r.p99, r.p999,
                           r.rss, r.cpu, r.errors, r.vs};
        if (!r.rps[0]) {
            col(f, v[0], widths[0], true);
            col(f, v[1], widths[1], true);
            fprintf(f, "%s\n", r.note);
            continue;
        }
        for (int k = 0; k < 10; k++)
            col(f, v[k], widths[k], k < 2);
        fprintf(f, "%s\n", r.note && *r.note ? r.note : "");
        /* A mix: each kind of request on a line of its own, in the same columns (req/s: its
         * share of the cell's), named at the end. */
        for (int k = 0; k < cells[i].nby_request; k++) {
            const lab_cell_t *c = &cells[i];
            char rps[24], p50[24], p99[24], p999[24], errs[24];
            double share = c->requests ? (double)c->by_request[k].requests / (double)c->requests : 0;
            snprintf(rps, sizeof rps, "%.0f", c->rps * share);
            fmt_duration(p50, sizeof p50, c->by_request[k].lat_us[0] * 1e3);
            fmt_duration(p99, sizeof p99, c->by_request[k].lat_us[2] * 1e3);
            fmt_duration(p999, sizeof p999, c->by_request[k].lat_us[3] * 1e3);
            snprintf(errs, sizeof errs, "%llu", (unsigned long long)c->by_request[k].errors);
            const char *sv[] = {"", "", rps, p50, p99, p999, "", "", errs, ""};
            for (int q = 0; q < 10; q++)
                col(f, sv[q], widths[q], q < 2);
            fprintf(f, "%s %s\n", c->by_request[k].method, c->by_request[k].target);
        }
    }
    /* One line per workload: the edge of the fastest over each other language. */
    for (int w = 0; w < cfg->nworkloads; w++) {
        const char *wl = cfg->workloads[w];
        const lab_cell_t *best = NULL;
        for (int i = 0; i < n; i++)
            if (cells[i].ok && !strcmp(cells[i].workload, wl) &&
                (!best || cells[i].rps > best->rps))
                best = &cells[i];
        if (!best)
            continue;
        char line[512];
        int len = snprintf(line, sizeof line, "%s: %s leads in req/s", wl, best->lang);
        int others = 0;
        for (int i = 0; i < n; i++) {
            const lab_cell_t *c = &cells[i];
            if (c == best || !c->ok || strcmp(c->workload, wl) || c->rps <= 0)
                continue;
            len += snprintf(line + len, sizeof line - (size_t)len, "%s +%.0f %% over %s",
                            others++ ? "," : ":", 100 * (best->rps / c->rps - 1), c->lang);
            if ((size_t)len >= sizeof line)
                break;
        }
        fprintf(f, "\n%s\n", line);
    }
}

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

static void write_json(const lab_config_t *cfg, const lab_cell_t *cells, int n, buf_t *out)
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
        /* sql: the database's CPU in the measured run (null: no database, or not metered). */
        bool db = c->db_cpu_s >= 0;
        jsonw_key(&w, "db_cpu_s");
        db ? jsonw_double(&w, c->db_cpu_s, 3) : jsonw_null(&w);
        jsonw_key(&w, "db_cpu_us_per_req");
        db ? jsonw_double(&w, c->db_cpu_us_per_req, 3) : jsonw_null(&w);
        jsonw_key(&w, "db_cpu_share");
        db ? jsonw_double(&w, c->db_cpu_share, 3) : jsonw_null(&w);
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
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    buf_puts(out, "\n");
}

static void write_md(const lab_config_t *cfg, const lab_cell_t *cells, int n, buf_t *out)
{
    char model[256];
    cpu_model(model, sizeof model);
    bool sql = false;
    for (int i = 0; i < cfg->nworkloads; i++)
        sql |= strcmp(cfg->workloads[i], "sql") == 0;
    char db[400] = "", cs[128], cl[128], cd[128];
    cpuset_format(&cfg->impl.cpus_service, cs, sizeof cs);
    cpuset_format(&cfg->impl.cpus_load, cl, sizeof cl);
    cpuset_format(&cfg->cpus_db, cd, sizeof cd);
    if (sql && cfg->pg_url)
        snprintf(db, sizeof db, "; sql: database on a given server, pool %d", cfg->impl.pool);
    else if (sql)
        snprintf(db, sizeof db, "; sql: PostgreSQL on CPU %s, pool %d", cd, cfg->impl.pool);
    buf_printf(out, "# stackbench results\n\n%ld CPUs (%s); service on CPU %s, load on CPU %s%s; "
                    "%d connections, %s, %.0fs measured after %.0fs warm-up.\n\n",
               sysconf(_SC_NPROCESSORS_ONLN), model, cs, cl, db,
               cfg->impl.connections, cfg->rate > 0 ? "open loop" : "closed loop (max rate)",
               (double)cfg->impl.duration_ns / NS_PER_S, (double)cfg->warmup_ns / NS_PER_S);
    buf_puts(out, "| workload | lang | req/s | p50 | p99 | p99.9 | peak RSS | CPU µs/req | errors "
                  "| vs best | note |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < n; i++) {
        row_t r;
        make_row(&cells[i], best_rps(cells, n, cells[i].workload), &r);
        buf_printf(out, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                   cells[i].workload, r.lang, r.rps, r.p50, r.p99, r.p999, r.rss, r.cpu, r.errors,
                   r.vs, r.note ? r.note : "");
    }
}

static int write_file(const char *dir, const char *name, const buf_t *b, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = buf_write_file(b, path);
    if (rc)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
    return rc ? -1 : 0;
}

int lab_write_results(const lab_config_t *cfg, const lab_cell_t *cells, int n, char *err,
                      size_t errlen)
{
    if (mkdir(cfg->out_dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", cfg->out_dir, strerror(errno));
        return -1;
    }
    buf_t j = BUF_INIT, m = BUF_INIT;
    write_json(cfg, cells, n, &j);
    write_md(cfg, cells, n, &m);
    int rc = write_file(cfg->out_dir, "results.json", &j, err, errlen) ||
             write_file(cfg->out_dir, "results.md", &m, err, errlen);
    buf_free(&j);
    buf_free(&m);
    return rc ? -1 : 0;
}
