/* figures: results.json read back (figures.h). The reading is by name, member by member, with
 * codec/json.h's iterators over the validated text: a key this reader does not know is skipped,
 * a key it needs and does not find leaves the figure NAN. */
#include "decide/figures.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "core/buf.h"
#include "core/cpu.h"

typedef struct {
    const char *p;
    size_t n;
} slice_t;

/* obj.key into out; false (out empty) when obj is not an object or has no such key. An empty
 * slice reads as nothing: its numbers NAN, its strings "", its members absent. */
static bool member(slice_t obj, const char *key, slice_t *out)
{
    json_members_t it;
    *out = (slice_t){NULL, 0};
    if (json_members_begin(&it, obj.p, obj.n) != 0)
        return false;
    const char *name, *value;
    size_t name_len, value_len;
    while (json_members_next(&it, &name, &name_len, &value, &value_len))
        if (json_name_eq(name, name_len, key)) {
            out->p = value;
            out->n = value_len;
            return true;
        }
    return false;
}

/* obj.key, or an empty slice. */
static slice_t at(slice_t obj, const char *key)
{
    slice_t v;
    member(obj, key, &v);
    return v;
}

/* A number, or NAN for null, a missing key or anything else. */
static double num(slice_t obj, const char *key)
{
    slice_t v;
    if (!member(obj, key, &v) || v.n == 0 || v.n > 63)
        return NAN;
    char tmp[64];
    memcpy(tmp, v.p, v.n);
    tmp[v.n] = 0;
    char *end;
    double d = strtod(tmp, &end);
    return end == tmp + v.n && (tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9')) ? d : NAN;
}

static bool boolean(slice_t obj, const char *key)
{
    slice_t v;
    return member(obj, key, &v) && v.n == 4 && !memcmp(v.p, "true", 4);
}

/* A string value into out (the few escapes our writer makes decoded; a \u escape kept as
 * written: these are labels for people); "" when it is not a string. */
static void str_value(slice_t v, char *out, size_t cap)
{
    out[0] = 0;
    if (v.n < 2 || v.p[0] != '"')
        return;
    size_t k = 0;
    for (size_t i = 1; i + 1 < v.n && k + 1 < cap; i++) {
        char c = v.p[i];
        if (c == '\\' && i + 2 < v.n) {
            c = v.p[++i];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
        out[k++] = c;
    }
    /* Cut short: not inside a UTF-8 sequence (the page would show a broken character). */
    if (k + 1 == cap && k > 0 && (unsigned char)out[k - 1] >= 0x80) {
        while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && (unsigned char)out[k - 1] >= 0xC0)
            k--;
    }
    out[k] = 0;
}

/* A string member into out; "" when missing or not a string. */
static void str(slice_t obj, const char *key, char *out, size_t cap)
{
    str_value(at(obj, key), out, cap);
}

/* Calls fn(element, arg) on each element of the array v. */
static void elements(slice_t v, void (*fn)(slice_t, void *), void *arg)
{
    json_elements_t it;
    const char *e;
    size_t en;
    if (json_elements_begin(&it, v.p, v.n) != 0)
        return;
    while (json_elements_next(&it, &e, &en))
        fn((slice_t){e, en}, arg);
}

/* obj.key, an array of strings, into list[max][cap]; returns how many. */
static int str_list(slice_t obj, const char *key, char *list, size_t cap, int max)
{
    slice_t a;
    json_elements_t it;
    const char *e;
    size_t en;
    int n = 0;
    if (!member(obj, key, &a) || json_elements_begin(&it, a.p, a.n) != 0)
        return 0;
    while (n < max && json_elements_next(&it, &e, &en))
        str_value((slice_t){e, en}, list + (size_t)n++ * cap, cap);
    return n;
}

static void add_point(slice_t e, void *arg)
{
    fig_spectrum_t *s = arg;
    double p = num(e, "p"), us = num(e, "us");
    if (s->n < FIG_MAX_SPECTRUM && !isnan(p) && !isnan(us))
        s->pt[s->n++] = (fig_point_t){p, us};
}

/* obj.spectrum [{p, us}] into s (empty when absent: a results.json of before it). */
static void read_spectrum(slice_t obj, fig_spectrum_t *s)
{
    s->n = 0;
    slice_t a;
    if (member(obj, "spectrum", &a))
        elements(a, add_point, s);
}

static const char *const lang_keys[LANG_N] = {"c", "go", "rust"};

static int lang_of(const char *s)
{
    for (int l = 0; l < LANG_N; l++)
        if (!strcmp(s, lang_keys[l]))
            return l;
    return -1;
}

static void add_by_request(slice_t e, void *arg)
{
    fig_cell_t *c = arg;
    if (c->nby_request >= FIG_MAX_BY_REQUEST)
        return;
    fig_by_request_t *b = &c->by_request[c->nby_request++];
    str(e, "method", b->method, sizeof b->method);
    str(e, "target", b->target, sizeof b->target);
    b->requests = num(e, "requests");
    b->errors = num(e, "errors");
    b->messages = num(e, "messages");
    slice_t lat = at(e, "latency_us");
    b->p50_us = num(lat, "p50");
    b->p90_us = num(lat, "p90");
    b->p99_us = num(lat, "p99");
    b->p999_us = num(lat, "p999");
}

static void add_profile_fn(slice_t e, void *arg)
{
    fig_cell_t *c = arg;
    if (c->prof_ntop >= FIG_MAX_PROFILE_TOP)
        return;
    str(e, "function", c->prof_top[c->prof_ntop].function, sizeof c->prof_top[0].function);
    c->prof_top[c->prof_ntop++].self_pct = num(e, "self_pct");
}

/* profile {ran, reason, samples, unwind, dir, top}: null or absent when not profiled. */
static void read_profile(slice_t c, fig_cell_t *out)
{
    slice_t p;
    out->prof_samples = NAN;
    if (!member(c, "profile", &p) || p.n == 0 || p.p[0] != '{')
        return;
    out->prof_asked = true;
    out->prof_ran = boolean(p, "ran");
    str(p, "reason", out->prof_reason, sizeof out->prof_reason);
    str(p, "dir", out->prof_dir, sizeof out->prof_dir);
    str(p, "unwind", out->prof_unwind, sizeof out->prof_unwind);
    out->prof_samples = num(p, "samples");
    slice_t top;
    if (member(p, "top", &top))
        elements(top, add_profile_fn, out);
}

static void read_cell(slice_t c, fig_cell_t *out)
{
    memset(out, 0, sizeof *out);
    str(c, "workload", out->workload, sizeof out->workload);
    str(c, "name", out->name, sizeof out->name);
    char lang[32];
    str(c, "lang", lang, sizeof lang);
    out->lang = lang_of(lang);
    str(c, "tier", out->tier, sizeof out->tier);
    str(c, "framework", out->framework, sizeof out->framework);
    str(c, "does", out->does, sizeof out->does);
    str(c, "db_strategy", out->db_strategy, sizeof out->db_strategy);
    char status[16];
    str(c, "status", status, sizeof status);
    out->ok = !strcmp(status, "ok");
    str(c, "reason", out->reason, sizeof out->reason);
    out->load_bound = boolean(c, "load_bound");
    out->load_cpu_share = num(c, "load_cpu_share");
    out->requests = num(c, "requests");
    out->errors = num(c, "errors");
    out->threads = num(c, "threads");
    out->rps = num(c, "rps");
    slice_t lat = at(c, "latency_us");
    out->p50_us = num(lat, "p50");
    out->p99_us = num(lat, "p99");
    out->p999_us = num(lat, "p999");
    out->p90_us = num(lat, "p90");
    out->max_us = num(lat, "max");
    out->mean_us = num(lat, "mean");
    read_spectrum(c, &out->spectrum);
    out->cpu_us_per_req = num(c, "cpu_us_per_req");
    out->db_cpu_us_per_req = num(c, "db_cpu_us_per_req");
    out->db_cpu_share = num(c, "db_cpu_share");
    out->db_round_trips_per_req = num(c, "db_round_trips_per_req");
    out->db_commits_per_req = num(c, "db_commits_per_req");
    out->rss_peak_kib = num(c, "rss_peak_kib");
    out->rss_mean_kib = num(c, "rss_mean_kib");
    out->startup_ms = num(c, "startup_ms");
    out->idle_rss_kib = num(c, "idle_rss_kib");
    out->messages = num(c, "messages");
    out->messages_per_s = num(c, "messages_per_s");
    slice_t by;
    if (member(c, "by_request", &by))
        elements(by, add_by_request, out);
    read_profile(c, out);
    out->eq_rate = out->eq_achieved = NAN;
    out->eq_p50_us = out->eq_p99_us = out->eq_p999_us = out->eq_max_us = NAN;
    out->eq_requests = out->eq_errors = out->eq_p9999_us = out->eq_mean_us = NAN;
    out->gc_pause_p99_us = out->gc_pause_max_us = NAN;
    out->gc_pauses = out->gc_cycles = out->window_ms = out->sweep_max_rps = NAN;
    if (!out->ok) {
        out->rps = out->cpu_us_per_req = out->db_cpu_us_per_req = NAN;
        out->p50_us = out->p99_us = out->p999_us = out->rss_peak_kib = NAN;
        out->p90_us = out->max_us = out->mean_us = out->rss_mean_kib = NAN;
        out->db_cpu_share = out->db_round_trips_per_req = out->db_commits_per_req = NAN;
        out->messages = out->messages_per_s = NAN;
        out->spectrum.n = 0;
        out->nby_request = 0;
    }
}

static fig_cell_t *find(figures_t *f, const char *workload, const char *name, const char *tier)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->cells[i].workload, workload) && !strcmp(f->cells[i].name, name) &&
            !strcmp(f->cells[i].tier, tier))
            return &f->cells[i];
    return NULL;
}

static void add_window(slice_t e, void *arg)
{
    fig_cell_t *c = arg;
    if (c->nwindows < FIG_MAX_WINDOWS)
        c->windows[c->nwindows++] = (fig_window_t){num(e, "t_ms"), num(e, "count"), num(e, "p99_us"),
                                                     num(e, "max_us")};
}

static void add_sweep_point(slice_t e, void *arg)
{
    fig_cell_t *c = arg;
    if (c->nsweep >= FIG_MAX_SWEEP)
        return;
    fig_sweep_point_t *p = &c->sweep[c->nsweep++];
    p->pct = num(e, "pct");
    p->rate = num(e, "rate");
    p->achieved = num(e, "rate_achieved");
    p->errors = num(e, "errors");
    p->ran = boolean(e, "ran");
    p->held = boolean(e, "held");
    slice_t lat = p->ran ? at(e, "latency_us") : (slice_t){NULL, 0};
    p->p50_us = num(lat, "p50");
    p->p99_us = num(lat, "p99");
    p->p999_us = num(lat, "p999");
    p->max_us = num(lat, "max");
}

static void read_equal(slice_t e, void *arg)
{
    figures_t *f = arg;
    fig_cell_t key;
    read_cell(e, &key);
    fig_cell_t *c = find(f, key.workload, key.name, key.tier);
    if (!c)
        return;
    c->eq_ran = boolean(e, "ran");
    c->eq_held = boolean(e, "held");
    c->eq_rate = num(e, "rate");
    c->eq_achieved = num(e, "rate_achieved");
    str(e, "reason", c->eq_reason, sizeof c->eq_reason);
    c->eq_requests = num(e, "requests");
    c->eq_errors = num(e, "errors");
    slice_t lat;
    if (c->eq_ran && member(e, "latency_us", &lat)) {
        c->eq_p50_us = num(lat, "p50");
        c->eq_p99_us = num(lat, "p99");
        c->eq_p999_us = num(lat, "p999");
        c->eq_max_us = num(lat, "max");
        c->eq_p9999_us = num(lat, "p9999");
        c->eq_mean_us = num(lat, "mean");
    }
    slice_t gc;
    if (member(e, "gc", &gc)) {
        c->gc_pause_p99_us = num(gc, "pause_p99_us");
        c->gc_pause_max_us = num(gc, "pause_max_us");
        c->gc_pauses = num(gc, "pauses");
        c->gc_cycles = num(gc, "cycles");
    }
    if (c->eq_ran)
        read_spectrum(e, &c->eq_spectrum);
    c->window_ms = num(e, "window_ms");
    slice_t w;
    c->nwindows = 0;
    if (c->eq_ran && member(e, "windows", &w))
        elements(w, add_window, c);
}

/* A sweep entry: its points into the cell it belongs to. */
static void read_sweep(slice_t e, void *arg)
{
    figures_t *f = arg;
    fig_cell_t key;
    read_cell(e, &key);
    fig_cell_t *c = find(f, key.workload, key.name, key.tier);
    slice_t pts;
    if (!c || !member(e, "points", &pts))
        return;
    c->sweep_max_rps = num(e, "max_rps");
    c->nsweep = 0;
    elements(pts, add_sweep_point, c);
}

/* One entry of a language's code lines: a workload and tier, or the shared code. */
static void add_loc(slice_t e, void *arg)
{
    fig_dev_t *o = arg;
    char wl[16];
    str(e, "workload", wl, sizeof wl);
    if (!strcmp(wl, "shared")) {
        o->loc_shared = num(e, "code");
    } else if (o->nloc < (int)(sizeof o->loc / sizeof o->loc[0])) {
        snprintf(o->loc[o->nloc].workload, sizeof o->loc[0].workload, "%s", wl);
        str(e, "tier", o->loc[o->nloc].tier, sizeof o->loc[0].tier);
        o->loc[o->nloc].code = num(e, "code");
        o->nloc++;
    }
}

static void read_dev(slice_t d, void *arg)
{
    figures_t *f = arg;
    char lang[32];
    str(d, "lang", lang, sizeof lang);
    int l = lang_of(lang);
    if (l < 0)
        return;
    fig_dev_t *o = &f->dev[l];
    memset(o, 0, sizeof *o);
    slice_t b = at(d, "build"), deps = at(d, "deps");
    o->clean_wall_s = num(b, "clean_wall_s");
    o->clean_cpu_s = num(b, "clean_cpu_s");
    o->incr_wall_s = num(b, "incremental_wall_s");
    o->incr_cpu_s = num(b, "incremental_cpu_s");
    o->binary_bytes = num(d, "binary_bytes");
    o->stripped_bytes = num(d, "stripped_bytes");
    o->deps_direct = num(deps, "direct");
    o->deps_total = num(deps, "total");
    str(b, "cpus", o->cpus, sizeof o->cpus);
    str(b, "reason", o->build_reason, sizeof o->build_reason);
    str(d, "reason", o->size_reason, sizeof o->size_reason);
    str(deps, "reason", o->deps_reason, sizeof o->deps_reason);
    o->loc_shared = NAN;
    o->cached = boolean(d, "cached");
    str(d, "measured", o->measured, sizeof o->measured);
    str(d, "toolchain", o->toolchain, sizeof o->toolchain);
    elements(at(d, "loc"), add_loc, o);
    o->known = true;
}

static void add_cell(slice_t c, void *arg)
{
    figures_t *f = arg;
    if (f->n < FIG_MAX_CELLS)
        read_cell(c, &f->cells[f->n++]);
}

int figures_parse(figures_t *f, const char *name, const char *text, size_t len, char *err,
                  size_t errlen)
{
    memset(f, 0, sizeof *f);
    json_error_t je;
    if (json_validate(text, len, &je) != 0) {
        snprintf(err, errlen, "%s: not JSON at byte %zu: %s", name, je.offset, je.reason);
        return -1;
    }
    slice_t root = {text, len}, m, sb;
    if (!member(root, "stackbench", &sb) || !member(root, "cells", &m)) {
        snprintf(err, errlen, "%s: not the results.json of a stackbench run", name);
        return -1;
    }
    str(root, "stackbench", f->version, sizeof f->version);
    str(root, "date", f->date, sizeof f->date);
    f->memory_kib = NAN;
    if (member(root, "machine", &m)) {
        str(m, "cpu_model", f->cpu_model, sizeof f->cpu_model);
        str(m, "kernel", f->kernel, sizeof f->kernel);
        double cores = num(m, "cores");
        f->cores = isnan(cores) ? 0 : (int)cores;
        f->memory_kib = num(m, "memory_kib");
    }
    if (member(root, "versions", &m)) {
        json_members_t it;
        const char *k, *value;
        size_t k_len, value_len;
        if (json_members_begin(&it, m.p, m.n) == 0)
            while (f->nversions < FIG_MAX_LIST &&
                   json_members_next(&it, &k, &k_len, &value, &value_len)) {
                int i = f->nversions++;
                snprintf(f->versions[i].name, sizeof f->versions[i].name, "%.*s", (int)k_len, k);
                str_value((slice_t){value, value_len}, f->versions[i].text, sizeof f->versions[i].text);
            }
    }
    f->duration_s = f->warmup_s = f->connections = f->load_threads = f->rate = f->pool = NAN;
    if (member(root, "flags", &m)) {
        f->duration_s = num(m, "duration_s");
        f->warmup_s = num(m, "warmup_s");
        f->connections = num(m, "connections");
        f->load_threads = num(m, "load_threads");
        f->rate = num(m, "rate"); /* "max": NAN */
        str(m, "command", f->command, sizeof f->command);
        f->nlangs = str_list(m, "langs", f->langs[0], sizeof f->langs[0], FIG_MAX_LIST);
        f->nworkloads = str_list(m, "workloads", f->workloads[0], sizeof f->workloads[0],
                                 FIG_MAX_LIST);
        cpuset_t set;
        str(m, "cpus_service", f->cpus_service, sizeof f->cpus_service);
        f->service_cpus = f->cpus_service[0] && cpuset_parse(f->cpus_service, &set) > 0
                              ? cpuset_count(&set)
                              : 0;
        str(m, "cpus_load", f->cpus_load, sizeof f->cpus_load);
        slice_t db;
        if (member(m, "database", &db) && db.n > 0 && db.p[0] == '{') {
            f->database = true;
            f->db_managed = boolean(db, "managed");
            str(db, "cpus", f->cpus_db, sizeof f->cpus_db);
            f->pool = num(db, "pool");
        }
    }
    f->equal_load_s = NAN;
    f->equal_load_pct = member(root, "equal_load", &m) ? num(m, "pct") : NAN;
    f->have_equal = member(root, "equal_load", &m) && m.n > 0 && m.p[0] == '{';
    if (f->have_equal)
        f->equal_load_s = num(m, "duration_s");
    f->have_sweep = member(root, "sweep", &m) && m.n > 0 && m.p[0] == '[';
    f->have_dev = member(root, "dev", &m) && m.n > 0 && m.p[0] == '{';
    str(at(root, "dev"), "loc_counter", f->loc_counter, sizeof f->loc_counter);
    elements(at(root, "cells"), add_cell, f);
    elements(at(at(root, "equal_load"), "cells"), read_equal, f);
    elements(at(root, "sweep"), read_sweep, f);
    elements(at(at(root, "dev"), "langs"), read_dev, f);
    return 0;
}

int figures_load(figures_t *f, const char *dir, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/results.json", dir);
    buf_t text = {0};
    int rc = buf_read_file(&text, path);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        buf_free(&text);
        return -1;
    }
    rc = figures_parse(f, path, buf_start(&text), buf_size(&text), err, errlen);
    buf_free(&text);
    if (rc == 0)
        snprintf(f->dir, sizeof f->dir, "%s", dir);
    return rc;
}

const fig_cell_t *figures_cell(const figures_t *f, const char *workload, int lang,
                               const char *tier)
{
    for (int i = 0; i < f->n; i++) {
        const fig_cell_t *c = &f->cells[i];
        if (c->lang == lang && !strcmp(c->workload, workload) && (!tier || !strcmp(c->tier, tier)))
            return c;
    }
    return NULL;
}

const fig_cell_t *figures_top(const figures_t *f, const char *workload, const char *tier)
{
    const fig_cell_t *top = NULL;
    for (int i = 0; i < f->n; i++) {
        const fig_cell_t *c = &f->cells[i];
        if (c->ok && !strcmp(c->workload, workload) && !strcmp(c->tier, tier) &&
            (!top || c->rps > top->rps))
            top = c;
    }
    return top;
}

void fig_label(const fig_cell_t *c, char *out, size_t n)
{
    snprintf(out, n, "%s %s", c->name, c->tier);
}

double fig_cpu_us(const fig_cell_t *c)
{
    return c->cpu_us_per_req + (isnan(c->db_cpu_us_per_req) ? 0 : c->db_cpu_us_per_req);
}

double fig_loc(const fig_dev_t *d, const char *workload, const char *tier)
{
    for (int i = 0; d->known && i < d->nloc; i++)
        if (!strcmp(d->loc[i].workload, workload) && !strcmp(d->loc[i].tier, tier))
            return d->loc[i].code;
    return NAN;
}
