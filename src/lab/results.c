/* The run's results: an aligned table for people, results.json (stable keys) and results.md. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
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

/* Best req/s among the ok cells that compare with c (its workload and tier). */
static double best_rps(const lab_cell_t *cells, int n, const lab_cell_t *c)
{
    double best = 0;
    for (int i = 0; i < n; i++)
        if (cells[i].ok && lab_same_group(&cells[i], c) && cells[i].rps > best)
            best = cells[i].rps;
    return best;
}

/* "go tuned", "c idiomatic": the implementation as the tables name it. */
static void impl_label(const lab_cell_t *c, char *out, size_t n)
{
    snprintf(out, n, "%s %s", c->name, c->tier);
}

/* What the row measures: the framework, what does the work, the database strategy. */
static void what_label(const lab_cell_t *c, char *out, size_t n)
{
    snprintf(out, n, "%s; %s%s%s", c->framework, c->does, c->db_strategy ? "; " : "",
             c->db_strategy ? c->db_strategy : "");
}

typedef struct {
    char impl[48], rps[24], p50[24], p99[24], p999[24], rss[24], cpu[24], errors[24], vs[24];
    char note[700];
} row_t;

static void make_row(const lab_cell_t *c, double best, row_t *r)
{
    memset(r, 0, sizeof *r);
    impl_label(c, r->impl, sizeof r->impl);
    char what[256];
    what_label(c, what, sizeof what);
    if (!c->ok && c->requests == 0) {
        snprintf(r->note, sizeof r->note, "failed: %s", c->reason);
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
    size_t k = (size_t)snprintf(r->note, sizeof r->note, "%s", what);
    if (!c->ok)
        k += (size_t)snprintf(r->note + k, sizeof r->note - k, "; %s", c->reason);
    else if (c->load_bound)
        k += (size_t)snprintf(r->note + k, sizeof r->note - k,
                              "; load-bound (load CPU %.0f %%): compare CPU µs/req",
                              100 * c->load_cpu_share);
    if (c->db_cpu_s >= 0 && c->requests && k < sizeof r->note)
        k += (size_t)snprintf(r->note + k, sizeof r->note - k,
                              "; + database %.2f µs/req, %.0f %% of its CPUs",
                              c->db_cpu_us_per_req, 100 * c->db_cpu_share);
    if (c->db_round_trips_per_req >= 0 && k < sizeof r->note)
        snprintf(r->note + k, sizeof r->note - k, ", %.2f statements and %.2f commits per request",
                 c->db_round_trips_per_req, c->db_commits_per_req);
}

/* A table row is built in row[] and printed by row_end without the spaces it ends in. */
static char row[2048];
static size_t rowlen;

/* printf's widths count bytes; "µ" is two bytes and one column. */
static void col(const char *s, int width, bool left)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xC0) != 0x80;
    int pad = width > cols ? width - cols : 0;
    int w = left ? snprintf(row + rowlen, sizeof row - rowlen, "%s%*s  ", s, pad, "")
                 : snprintf(row + rowlen, sizeof row - rowlen, "%*s%s  ", pad, "", s);
    if (w > 0)
        rowlen = rowlen + (size_t)w < sizeof row ? rowlen + (size_t)w : sizeof row - 1;
}

static void cols(const char *const *v, const int *widths, int n, int nleft)
{
    for (int k = 0; k < n; k++)
        col(v[k], widths[k], k < nleft);
}

/* The row, then what fmt says, then a newline; trailing spaces dropped. */
static void __attribute__((format(printf, 2, 3))) row_end(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(row + rowlen, sizeof row - rowlen, fmt, ap);
    va_end(ap);
    if (w > 0)
        rowlen = rowlen + (size_t)w < sizeof row ? rowlen + (size_t)w : sizeof row - 1;
    while (rowlen > 0 && row[rowlen - 1] == ' ')
        rowlen--;
    fprintf(f, "%.*s\n", (int)rowlen, row);
    rowlen = 0;
}

static const char *const heads[] = {"workload", "implementation", "req/s",  "p50", "p99",
                                    "p99.9",    "peak RSS",       "CPU µs/req", "errors",
                                    "vs tier"};
static const int widths[] = {8, 15, 9, 8, 8, 8, 9, 10, 6, 7};
#define NCOLS 10

/* The lead lines of one workload: within each tier, the fastest over the others; across
 * tiers, the fastest of all over the best of each other tier (labelled: strategies differ). */
static void lead_lines(FILE *f, const lab_cell_t *cells, int n, const char *wl)
{
    const char *tiers[8];
    int ntiers = 0;
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int t = 0; t < ntiers; t++)
            seen |= !strcmp(tiers[t], cells[i].tier);
        if (!strcmp(cells[i].workload, wl) && cells[i].ok && !seen && ntiers < 8)
            tiers[ntiers++] = cells[i].tier;
    }
    const lab_cell_t *top[8] = {0}, *all = NULL;
    for (int t = 0; t < ntiers; t++) {
        for (int i = 0; i < n; i++)
            if (cells[i].ok && !strcmp(cells[i].workload, wl) && !strcmp(cells[i].tier, tiers[t]) &&
                (!top[t] || cells[i].rps > top[t]->rps))
                top[t] = &cells[i];
        if (!all || top[t]->rps > all->rps)
            all = top[t];
        char line[600], a[48];
        impl_label(top[t], a, sizeof a);
        int len = snprintf(line, sizeof line, "%s, %s: %s leads in req/s", wl, tiers[t], a);
        int others = 0;
        for (int i = 0; i < n; i++) {
            const lab_cell_t *c = &cells[i];
            if (c == top[t] || !c->ok || !lab_same_group(c, top[t]) || c->rps <= 0 ||
                (size_t)len >= sizeof line)
                continue;
            char b[48];
            impl_label(c, b, sizeof b);
            len += snprintf(line + len, sizeof line - (size_t)len, "%s +%.0f %% over %s",
                            others++ ? "," : ":", 100 * (top[t]->rps / c->rps - 1), b);
        }
        if (!others)
            len += snprintf(line + len, sizeof line - (size_t)len, " (alone in its tier)");
        fprintf(f, "%s\n", line);
    }
    if (ntiers > 1) {
        char line[600], a[48];
        impl_label(all, a, sizeof a);
        int len = snprintf(line, sizeof line, "%s, across tiers (strategies differ): %s", wl, a);
        int others = 0;
        for (int t = 0; t < ntiers && (size_t)len < sizeof line; t++) {
            if (top[t] == all || top[t]->rps <= 0)
                continue;
            char b[48];
            impl_label(top[t], b, sizeof b);
            len += snprintf(line + len, sizeof line - (size_t)len, "%s +%.0f %% over %s",
                            others++ ? "," : "", 100 * (all->rps / top[t]->rps - 1), b);
        }
        fprintf(f, "%s\n", line);
    }
}

static void print_equal_load(const lab_config_t *cfg, const lab_cell_t *cells, int n, FILE *f)
{
    bool any = false;
    for (int i = 0; i < n; i++)
        any |= cells[i].equal.rate > 0;
    if (!any)
        return;
    fprintf(f, "\nequal load: every implementation of a workload open loop at the same rate, %d %% "
               "of the slowest maximum, %.0fs each\n\n",
            cfg->equal_load_pct, (double)cfg->equal_load_ns / NS_PER_S);
    static const char *const eh[] = {"workload", "implementation", "rate", "achieved", "p50",
                                     "p99", "p99.9", "p99.99", "max", "GC p99/max"};
    static const int ew[] = {8, 15, 9, 9, 8, 8, 8, 8, 8, 17};
    cols(eh, ew, 10, 2);
    row_end(f, "%s", "");
    for (int i = 0; i < n; i++) {
        const lab_cell_t *c = &cells[i];
        const lab_open_t *o = &c->equal;
        if (o->rate <= 0)
            continue;
        char impl[48], rate[24], ach[24], l[5][24], gc[48] = "";
        impl_label(c, impl, sizeof impl);
        snprintf(rate, sizeof rate, "%.0f", o->rate);
        if (!o->ran) {
            const char *v[] = {c->workload, impl, rate};
            cols(v, ew, 3, 2);
            row_end(f, "%s", o->reason);
            continue;
        }
        snprintf(ach, sizeof ach, "%.0f", o->rate_achieved);
        static const int li[] = {0, 1, 2, 3, 4};
        for (int k = 0; k < 5; k++)
            fmt_duration(l[k], sizeof l[k], o->lat_us[li[k]] * 1e3);
        if (o->gc_known && o->gc_pauses > 0) {
            char p99[24], mx[24];
            fmt_duration(p99, sizeof p99, o->gc_pause_p99_us * 1e3);
            fmt_duration(mx, sizeof mx, o->gc_pause_max_us * 1e3);
            snprintf(gc, sizeof gc, "%s/%s", p99, mx);
        } else if (o->gc_known) {
            snprintf(gc, sizeof gc, "no pause");
        }
        const char *v[] = {c->workload, impl, rate, ach, l[0], l[1], l[2], l[3], l[4], gc};
        cols(v, ew, 10, 2);
        row_end(f, "%s", o->held ? "" : o->reason);
    }
}

/* ---- the development figures ---- */

/* "21.3s (20.1s CPU)", or "-" when not measured. */
static void build_time(char *out, size_t n, double wall_s, double cpu_s)
{
    if (isnan(wall_s)) {
        snprintf(out, n, "-");
        return;
    }
    char w[24], c[24];
    fmt_duration(w, sizeof w, wall_s * 1e9);
    fmt_duration(c, sizeof c, cpu_s * 1e9);
    snprintf(out, n, "%s (%s CPU)", w, c);
}

/* The cells of a language's row: its builds, binary, dependencies and the code lines of echo
 * (each tier) and of its shared server code. */
typedef struct {
    char clean[64], incr[64], size[64], deps[48], echo[96], shared[24], note[700];
} dev_row_t;

static void make_dev_row(const dev_lang_t *d, dev_row_t *r)
{
    memset(r, 0, sizeof *r);
    build_time(r->clean, sizeof r->clean, d->build.clean_wall_s, d->build.clean_cpu_s);
    build_time(r->incr, sizeof r->incr, d->build.incremental_wall_s, d->build.incremental_cpu_s);
    if (d->binary_bytes >= 0 && d->stripped_bytes >= 0) {
        char a[24], b[24];
        fmt_bytes(a, sizeof a, (double)d->binary_bytes);
        fmt_bytes(b, sizeof b, (double)d->stripped_bytes);
        snprintf(r->size, sizeof r->size, "%s / %s", a, b);
    } else {
        snprintf(r->size, sizeof r->size, "-");
    }
    if (d->deps_direct >= 0)
        snprintf(r->deps, sizeof r->deps, "%d / %d", d->deps_direct, d->deps_total);
    else
        snprintf(r->deps, sizeof r->deps, "-");
    size_t k = 0;
    for (int i = 0; i < d->nloc; i++) {
        const dev_loc_t *l = &d->loc[i];
        char v[24] = "-";
        if (l->code >= 0)
            snprintf(v, sizeof v, "%ld", l->code);
        if (!strcmp(l->workload, "shared"))
            snprintf(r->shared, sizeof r->shared, "%s", v);
        else if (!strcmp(l->workload, "echo") && k < sizeof r->echo)
            k += (size_t)snprintf(r->echo + k, sizeof r->echo - k, "%s%s %s", k ? ", " : "",
                                  l->tier, v);
    }
    const char *why = d->build.reason[0] ? d->build.reason
                      : d->size_reason[0] ? d->size_reason
                                          : d->deps_reason;
    snprintf(r->note, sizeof r->note, "%s %.10s%s%s", d->cached ? "cached, measured" : "measured",
             d->measured, why[0] ? "; " : "", why);
}

static void print_dev(const dev_report_t *dev, FILE *f)
{
    if (!dev || !dev->ran || dev->n == 0)
        return;
    fprintf(f, "\ndevelopment: a copy of each language's sources built on CPU %s, clean (the "
               "caches of a new clone) and after a one-line change to echo's handler; deps "
               "direct / total; code lines without blank, comment and test lines\n\n",
            dev->langs[0].build.cpus);
    static const char *const dh[] = {"lang", "clean build", "incremental", "binary / stripped",
                                     "deps", "echo code lines", "shared"};
    static const int dw[] = {4, 18, 18, 19, 8, 24, 6};
    cols(dh, dw, 7, 1);
    row_end(f, "%s", "");
    for (int i = 0; i < dev->n; i++) {
        dev_row_t r;
        make_dev_row(&dev->langs[i], &r);
        const char *v[] = {dev->langs[i].lang, r.clean, r.incr, r.size, r.deps, r.echo, r.shared};
        cols(v, dw, 7, 1);
        row_end(f, "%s", r.note);
    }
}

void lab_print_table(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                     const dev_report_t *dev)
{
    FILE *f = stdout;
    cols(heads, widths, NCOLS, 2);
    row_end(f, "what it measures");
    for (int i = 0; i < n; i++) {
        row_t r;
        make_row(&cells[i], best_rps(cells, n, &cells[i]), &r);
        const char *v[] = {cells[i].workload, r.impl, r.rps, r.p50, r.p99, r.p999,
                           r.rss, r.cpu, r.errors, r.vs};
        if (!r.rps[0]) {
            cols(v, widths, 2, 2);
            row_end(f, "%s", r.note);
            continue;
        }
        cols(v, widths, NCOLS, 2);
        row_end(f, "%s", r.note);
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
            cols(sv, widths, NCOLS, 2);
            row_end(f, "%s %s", c->by_request[k].method, c->by_request[k].target);
        }
    }
    for (int w = 0; w < cfg->nworkloads; w++) {
        fprintf(f, "\n");
        lead_lines(f, cells, n, cfg->workloads[w]);
    }
    print_equal_load(cfg, cells, n, f);
    print_dev(dev, f);
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
    write_equal_load(&w, cfg, cells, n);
    write_sweep(&w, cfg, cells, n);
    write_dev(&w, dev);
    jsonw_obj_end(&w);
    buf_puts(out, "\n");
}

/* The equal-load block as a Markdown table. */
static void write_md_equal(const lab_config_t *cfg, const lab_cell_t *cells, int n, buf_t *out)
{
    buf_printf(out, "\nEqual load: open loop at %d %% of each workload's slowest maximum, %.0fs "
                    "each.\n\n| workload | implementation | rate | achieved | p50 | p99 | p99.9 | "
                    "p99.99 | max | GC pause p99 / max |\n"
                    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
               cfg->equal_load_pct, (double)cfg->equal_load_ns / NS_PER_S);
    for (int i = 0; i < n; i++) {
        const lab_open_t *o = &cells[i].equal;
        if (o->rate <= 0)
            continue;
        char impl[48], l[5][24], gc[64] = "";
        impl_label(&cells[i], impl, sizeof impl);
        for (int k = 0; k < 5; k++)
            fmt_duration(l[k], sizeof l[k], o->lat_us[k] * 1e3);
        if (o->gc_known && o->gc_pauses > 0) {
            char a[24], b[24];
            fmt_duration(a, sizeof a, o->gc_pause_p99_us * 1e3);
            fmt_duration(b, sizeof b, o->gc_pause_max_us * 1e3);
            snprintf(gc, sizeof gc, "%s / %s", a, b);
        }
        if (o->ran)
            buf_printf(out, "| %s | %s | %.0f | %.0f%s | %s | %s | %s | %s | %s | %s |\n",
                       cells[i].workload, impl, o->rate, o->rate_achieved,
                       o->held ? "" : " (not held)", l[0], l[1], l[2], l[3], l[4], gc);
        else
            buf_printf(out, "| %s | %s | %.0f | %s | | | | | | |\n", cells[i].workload, impl,
                       o->rate, o->reason);
    }
}

/* The development figures as a Markdown table. */
static void write_md_dev(const dev_report_t *dev, buf_t *out)
{
    if (!dev || !dev->ran || dev->n == 0)
        return;
    buf_printf(out, "\nDevelopment: builds of a copy of the sources pinned to CPU %s, clean (caches "
                    "emptied as in a new clone) and after one line appended to echo's handler; "
                    "code lines by %s.\n\n| lang | clean build | incremental | binary / stripped "
                    "| deps direct / total | echo code lines | shared | |\n"
                    "|---|---:|---:|---:|---:|---|---:|---|\n",
               dev->langs[0].build.cpus, dev_loc_counter);
    for (int i = 0; i < dev->n; i++) {
        dev_row_t r;
        make_dev_row(&dev->langs[i], &r);
        buf_printf(out, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", dev->langs[i].lang,
                   r.clean, r.incr, r.size, r.deps, r.echo, r.shared, r.note);
    }
}

static void write_md(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                     const dev_report_t *dev, buf_t *out)
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
    buf_puts(out, "| workload | implementation | req/s | p50 | p99 | p99.9 | peak RSS | CPU µs/req "
                  "| errors | vs tier | what it measures |\n"
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < n; i++) {
        row_t r;
        make_row(&cells[i], best_rps(cells, n, &cells[i]), &r);
        buf_printf(out, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                   cells[i].workload, r.impl, r.rps, r.p50, r.p99, r.p999, r.rss, r.cpu, r.errors,
                   r.vs, r.note);
    }
    bool any = false;
    for (int i = 0; i < n; i++)
        any |= cells[i].equal.rate > 0;
    if (any)
        write_md_equal(cfg, cells, n, out);
    write_md_dev(dev, out);
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

int lab_write_results(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                      const dev_report_t *dev, char *err, size_t errlen)
{
    if (mkdir(cfg->out_dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", cfg->out_dir, strerror(errno));
        return -1;
    }
    buf_t j = BUF_INIT, m = BUF_INIT;
    write_json(cfg, cells, n, dev, &j);
    write_md(cfg, cells, n, dev, &m);
    int rc = write_file(cfg->out_dir, "results.json", &j, err, errlen) ||
             write_file(cfg->out_dir, "results.md", &m, err, errlen);
    buf_free(&j);
    buf_free(&m);
    return rc ? -1 : 0;
}
