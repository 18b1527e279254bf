/* table: the run's results as text (table.h). Each row is made once from the figures (row_t,
 * dev_row_t) and then laid out twice: in aligned columns for the terminal, in a Markdown table
 * for results.md. */
#include "report/table.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "core/fmt.h"

/* ---- a line of aligned columns ---- */

/* A line of the terminal's tables, built column by column and printed without the spaces it
 * ends in; cut short (never overrun) when it is longer than its buffer. */
typedef struct {
    char s[2048];
    size_t n;
} line_t;

static void line_vadd(line_t *l, const char *fmt, va_list ap)
{
    int w = vsnprintf(l->s + l->n, sizeof l->s - l->n, fmt, ap);
    if (w > 0)
        l->n = l->n + (size_t)w < sizeof l->s ? l->n + (size_t)w : sizeof l->s - 1;
}

static void __attribute__((format(printf, 2, 3))) line_add(line_t *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_vadd(l, fmt, ap);
    va_end(ap);
}

/* s in a column of width columns, then two spaces. printf's widths count bytes; "µ" is two
 * bytes and one column. */
static void line_col(line_t *l, const char *s, int width, bool left)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xC0) != 0x80;
    int pad = width > cols ? width - cols : 0;
    if (left)
        line_add(l, "%s%*s  ", s, pad, "");
    else
        line_add(l, "%*s%s  ", pad, "", s);
}

/* n columns, the first nleft aligned left, the others right. */
static void line_cols(line_t *l, const char *const *v, const int *widths, int n, int nleft)
{
    for (int k = 0; k < n; k++)
        line_col(l, v[k], widths[k], k < nleft);
}

/* The line, then what fmt says, then a newline on out; trailing spaces dropped. */
static void __attribute__((format(printf, 3, 4))) line_end(line_t *l, FILE *out, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_vadd(l, fmt, ap);
    va_end(ap);
    while (l->n > 0 && l->s[l->n - 1] == ' ')
        l->n--;
    fprintf(out, "%.*s\n", (int)l->n, l->s);
    l->n = 0;
}

/* ---- the cells ---- */

static void us_txt(char *o, size_t n, double us) { fmt_duration(o, n, us * 1e3); }

/* A cell's row: its figures as the tables write them, and what it measures (or why it
 * failed). rps "" for a failed cell: it has no figures. */
typedef struct {
    char impl[48], rps[24], p50[24], p99[24], p999[24], rss[24], cpu[24], errors[24], vs[24];
    char note[700];
} row_t;

static void make_row(const figures_t *f, const fig_cell_t *c, row_t *r)
{
    memset(r, 0, sizeof *r);
    fig_label(c, r->impl, sizeof r->impl);
    if (!c->ok) {
        snprintf(r->note, sizeof r->note, "failed: %s", c->reason);
        return;
    }
    snprintf(r->rps, sizeof r->rps, "%.0f", c->rps);
    us_txt(r->p50, sizeof r->p50, c->p50_us);
    us_txt(r->p99, sizeof r->p99, c->p99_us);
    us_txt(r->p999, sizeof r->p999, c->p999_us);
    fmt_bytes(r->rss, sizeof r->rss, c->rss_peak_kib * 1024);
    snprintf(r->cpu, sizeof r->cpu, "%.2f", c->cpu_us_per_req);
    snprintf(r->errors, sizeof r->errors, "%.0f", c->errors);
    const fig_cell_t *top = figures_top(f, c->workload, c->tier);
    double best = top && top->rps > 0 ? top->rps : 0;
    if (best > 0 && c->rps >= best)
        snprintf(r->vs, sizeof r->vs, "best");
    else if (best > 0)
        snprintf(r->vs, sizeof r->vs, "%+.0f %%", 100 * (c->rps / best - 1));
    /* What the row measures: the framework, what does the work, the database strategy. */
    char what[256];
    snprintf(what, sizeof what, "%s; %s%s%s", c->framework, c->does, c->db_strategy[0] ? "; " : "",
             c->db_strategy);
    size_t k = (size_t)snprintf(r->note, sizeof r->note, "%s", what);
    if (c->load_bound && k < sizeof r->note)
        k += (size_t)snprintf(r->note + k, sizeof r->note - k,
                              "; load-bound (load CPU %.0f %%): compare CPU µs/req",
                              100 * c->load_cpu_share);
    if (isfinite(c->db_cpu_us_per_req) && c->requests > 0 && k < sizeof r->note)
        k += (size_t)snprintf(r->note + k, sizeof r->note - k,
                              "; + database %.2f µs/req, %.0f %% of its CPUs",
                              c->db_cpu_us_per_req, 100 * c->db_cpu_share);
    if (isfinite(c->db_round_trips_per_req) && k < sizeof r->note)
        snprintf(r->note + k, sizeof r->note - k, ", %.2f statements and %.2f commits per request",
                 c->db_round_trips_per_req, c->db_commits_per_req);
}

static const char *const heads[] = {"workload", "implementation", "req/s",      "p50",
                                    "p99",      "p99.9",          "peak RSS",   "CPU µs/req",
                                    "errors",   "vs tier"};
static const int widths[] = {8, 15, 9, 8, 8, 8, 9, 10, 6, 7};
#define NCOLS 10

/* A mix: each kind of request on a line of its own under its cell, in the same columns
 * (req/s: its share of the cell's), named at the end. */
static void print_by_request(FILE *out, line_t *l, const fig_cell_t *c)
{
    for (int k = 0; k < c->nby_request; k++) {
        const fig_by_request_t *b = &c->by_request[k];
        char rps[24], p50[24], p99[24], p999[24], errs[24];
        double share = c->requests > 0 ? b->requests / c->requests : 0;
        snprintf(rps, sizeof rps, "%.0f", c->rps * share);
        us_txt(p50, sizeof p50, b->p50_us);
        us_txt(p99, sizeof p99, b->p99_us);
        us_txt(p999, sizeof p999, b->p999_us);
        snprintf(errs, sizeof errs, "%.0f", b->errors);
        const char *v[] = {"", "", rps, p50, p99, p999, "", "", errs, ""};
        line_cols(l, v, widths, NCOLS, 2);
        /* grpc: the messages these calls answered, per second and per call */
        if (isfinite(b->messages) && b->requests > 0 && c->requests > 0) {
            char mps[32];
            fmt_count(mps, sizeof mps, c->rps * share * b->messages / b->requests);
            line_end(l, out, "%s %s (%s messages/s, %.0f a call)", b->method, b->target, mps,
                     b->messages / b->requests);
        } else {
            line_end(l, out, "%s %s", b->method, b->target);
        }
    }
}

static void print_cells(FILE *out, const figures_t *f)
{
    line_t l = {0};
    line_cols(&l, heads, widths, NCOLS, 2);
    line_end(&l, out, "what it measures");
    for (int i = 0; i < f->n; i++) {
        const fig_cell_t *c = &f->cells[i];
        row_t r;
        make_row(f, c, &r);
        const char *v[] = {c->workload, r.impl, r.rps,   r.p50,    r.p99,
                           r.p999,      r.rss,  r.cpu,   r.errors, r.vs};
        line_cols(&l, v, widths, r.rps[0] ? NCOLS : 2, 2);
        line_end(&l, out, "%s", r.note);
        print_by_request(out, &l, c);
    }
}

/* The lead lines of one workload: within each tier, the fastest over the others; across
 * tiers, the fastest of all over the best of each other tier (labelled: strategies differ). */
static void lead_lines(FILE *out, const figures_t *f, const char *wl)
{
    const char *tiers[8];
    int ntiers = 0;
    for (int i = 0; i < f->n; i++) {
        const fig_cell_t *c = &f->cells[i];
        bool seen = false;
        for (int t = 0; t < ntiers; t++)
            seen |= !strcmp(tiers[t], c->tier);
        if (c->ok && !strcmp(c->workload, wl) && !seen && ntiers < 8)
            tiers[ntiers++] = c->tier;
    }
    const fig_cell_t *top[8], *all = NULL;
    line_t l = {0};
    for (int t = 0; t < ntiers; t++) {
        top[t] = figures_top(f, wl, tiers[t]);
        if (!all || top[t]->rps > all->rps)
            all = top[t];
        char a[48];
        fig_label(top[t], a, sizeof a);
        line_add(&l, "%s, %s: %s leads in req/s", wl, tiers[t], a);
        int others = 0;
        for (int i = 0; i < f->n; i++) {
            const fig_cell_t *c = &f->cells[i];
            if (c == top[t] || !c->ok || strcmp(c->workload, wl) || strcmp(c->tier, tiers[t]) ||
                !(c->rps > 0))
                continue;
            char b[48];
            fig_label(c, b, sizeof b);
            line_add(&l, "%s +%.0f %% over %s", others++ ? "," : ":",
                     100 * (top[t]->rps / c->rps - 1), b);
        }
        line_end(&l, out, "%s", others ? "" : " (alone in its tier)");
    }
    if (ntiers > 1) {
        char a[48];
        fig_label(all, a, sizeof a);
        line_add(&l, "%s, across tiers (strategies differ): %s", wl, a);
        int others = 0;
        for (int t = 0; t < ntiers; t++) {
            if (top[t] == all || !(top[t]->rps > 0))
                continue;
            char b[48];
            fig_label(top[t], b, sizeof b);
            line_add(&l, "%s +%.0f %% over %s", others++ ? "," : "",
                     100 * (all->rps / top[t]->rps - 1), b);
        }
        line_end(&l, out, "%s", "");
    }
}

/* ---- the equal-load block ---- */

/* GC pauses at equal load: "p99<sep>max" when there were some, none when the runtime said it
 * paused none, "" when not known (no GC, or not reported). */
static void gc_txt(char *o, size_t n, const fig_cell_t *c, const char *sep, const char *none)
{
    if (c->gc_pauses > 0) {
        char p99[24], mx[24];
        us_txt(p99, sizeof p99, c->gc_pause_p99_us);
        us_txt(mx, sizeof mx, c->gc_pause_max_us);
        snprintf(o, n, "%s%s%s", p99, sep, mx);
    } else {
        snprintf(o, n, "%s", isfinite(c->gc_pauses) ? none : "");
    }
}

/* p50, p99, p99.9, p99.99, max at equal load. */
static void eq_latencies(const fig_cell_t *c, char l[5][24])
{
    const double us[5] = {c->eq_p50_us, c->eq_p99_us, c->eq_p999_us, c->eq_p9999_us, c->eq_max_us};
    for (int k = 0; k < 5; k++)
        us_txt(l[k], sizeof l[k], us[k]);
}

/* A cell of the equal-load block (its rate set: it was given one). */
static bool in_equal(const fig_cell_t *c) { return c->eq_rate > 0; }

static void print_equal_load(FILE *out, const figures_t *f)
{
    if (!f->have_equal)
        return;
    fprintf(out, "\nequal load: every implementation of a workload open loop at the same rate, %.0f "
                 "%% of the slowest maximum, %.0fs each\n\n",
            f->equal_load_pct, f->equal_load_s);
    static const char *const eh[] = {"workload", "implementation", "rate", "achieved", "p50",
                                     "p99", "p99.9", "p99.99", "max", "GC p99/max"};
    static const int ew[] = {8, 15, 9, 9, 8, 8, 8, 8, 8, 17};
    line_t l = {0};
    line_cols(&l, eh, ew, 10, 2);
    line_end(&l, out, "%s", "");
    for (int i = 0; i < f->n; i++) {
        const fig_cell_t *c = &f->cells[i];
        if (!in_equal(c))
            continue;
        char impl[48], rate[24], ach[24], lat[5][24], gc[48];
        fig_label(c, impl, sizeof impl);
        snprintf(rate, sizeof rate, "%.0f", c->eq_rate);
        if (!c->eq_ran) {
            const char *v[] = {c->workload, impl, rate};
            line_cols(&l, v, ew, 3, 2);
            line_end(&l, out, "%s", c->eq_reason);
            continue;
        }
        snprintf(ach, sizeof ach, "%.0f", c->eq_achieved);
        eq_latencies(c, lat);
        gc_txt(gc, sizeof gc, c, "/", "no pause");
        const char *v[] = {c->workload, impl, rate, ach, lat[0], lat[1], lat[2], lat[3], lat[4], gc};
        line_cols(&l, v, ew, 10, 2);
        line_end(&l, out, "%s", c->eq_held ? "" : c->eq_reason);
    }
}

/* ---- the development figures ---- */

/* "21.3s (20.1s CPU)", or "-" when not measured. */
static void build_time(char *out, size_t n, double wall_s, double cpu_s)
{
    if (!isfinite(wall_s)) {
        snprintf(out, n, "-");
        return;
    }
    char w[24], c[24];
    fmt_duration(w, sizeof w, wall_s * 1e9);
    fmt_duration(c, sizeof c, cpu_s * 1e9);
    snprintf(out, n, "%s (%s CPU)", w, c);
}

/* A count, or "-" when not measured. */
static void count_txt(char *out, size_t n, double v)
{
    if (isfinite(v))
        snprintf(out, n, "%.0f", v);
    else
        snprintf(out, n, "-");
}

/* The cells of a language's row: its builds, binary, dependencies and the code lines of echo
 * (each tier) and of its shared server code; when they were measured, and why a figure is
 * missing. */
typedef struct {
    char clean[64], incr[64], size[64], deps[48], echo[96], shared[24], note[700];
} dev_row_t;

static void make_dev_row(const fig_dev_t *d, dev_row_t *r)
{
    memset(r, 0, sizeof *r);
    build_time(r->clean, sizeof r->clean, d->clean_wall_s, d->clean_cpu_s);
    build_time(r->incr, sizeof r->incr, d->incr_wall_s, d->incr_cpu_s);
    if (isfinite(d->binary_bytes) && isfinite(d->stripped_bytes)) {
        char a[24], b[24];
        fmt_bytes(a, sizeof a, d->binary_bytes);
        fmt_bytes(b, sizeof b, d->stripped_bytes);
        snprintf(r->size, sizeof r->size, "%s / %s", a, b);
    } else {
        snprintf(r->size, sizeof r->size, "-");
    }
    if (isfinite(d->deps_direct)) {
        char total[24];
        count_txt(total, sizeof total, d->deps_total);
        snprintf(r->deps, sizeof r->deps, "%.0f / %s", d->deps_direct, total);
    } else {
        snprintf(r->deps, sizeof r->deps, "-");
    }
    size_t k = 0;
    for (int i = 0; i < d->nloc; i++) {
        if (strcmp(d->loc[i].workload, "echo") || k >= sizeof r->echo)
            continue;
        char v[24];
        count_txt(v, sizeof v, d->loc[i].code);
        k += (size_t)snprintf(r->echo + k, sizeof r->echo - k, "%s%s %s", k ? ", " : "",
                              d->loc[i].tier, v);
    }
    count_txt(r->shared, sizeof r->shared, d->loc_shared);
    const char *why = d->build_reason[0] ? d->build_reason
                      : d->size_reason[0] ? d->size_reason
                                          : d->deps_reason;
    snprintf(r->note, sizeof r->note, "%s %.10s%s%s", d->cached ? "cached, measured" : "measured",
             d->measured, why[0] ? "; " : "", why);
}

/* The first language with development figures, or NULL: none (--no-dev-metrics). */
static const fig_dev_t *first_dev(const figures_t *f)
{
    for (int l = 0; f->have_dev && l < LANG_N; l++)
        if (f->dev[l].known)
            return &f->dev[l];
    return NULL;
}

static void print_dev(FILE *out, const figures_t *f)
{
    const fig_dev_t *first = first_dev(f);
    if (!first)
        return;
    fprintf(out, "\ndevelopment: a copy of each language's sources built on CPU %s, clean (the "
                 "caches of a new clone) and after a one-line change to echo's handler; deps "
                 "direct / total; code lines without blank, comment and test lines\n\n",
            first->cpus);
    static const char *const dh[] = {"lang", "clean build", "incremental", "binary / stripped",
                                     "deps", "echo code lines", "shared"};
    static const int dw[] = {4, 18, 18, 19, 8, 24, 6};
    line_t l = {0};
    line_cols(&l, dh, dw, 7, 1);
    line_end(&l, out, "%s", "");
    for (int lang = 0; lang < LANG_N; lang++) {
        if (!f->dev[lang].known)
            continue;
        dev_row_t r;
        make_dev_row(&f->dev[lang], &r);
        const char *v[] = {lang_names[lang], r.clean, r.incr, r.size, r.deps, r.echo, r.shared};
        line_cols(&l, v, dw, 7, 1);
        line_end(&l, out, "%s", r.note);
    }
}

void table_print(FILE *out, const figures_t *f)
{
    print_cells(out, f);
    for (int w = 0; w < f->nworkloads; w++) {
        fprintf(out, "\n");
        lead_lines(out, f, f->workloads[w]);
    }
    print_equal_load(out, f);
    print_dev(out, f);
}

/* ---- results.md ---- */

/* The machine, the CPUs and the load, as one sentence under the title. */
static void md_head(buf_t *out, const figures_t *f)
{
    char db[400] = "";
    if (f->database && !f->db_managed)
        snprintf(db, sizeof db, "; sql: database on a given server, pool %.0f", f->pool);
    else if (f->database)
        snprintf(db, sizeof db, "; sql: PostgreSQL on CPU %s, pool %.0f", f->cpus_db, f->pool);
    buf_printf(out, "# stackbench results\n\n%d CPUs (%s); service on CPU %s, load on CPU %s%s; "
                    "%.0f connections, %s, %.0fs measured after %.0fs warm-up.\n\n",
               f->cores, f->cpu_model, f->cpus_service, f->cpus_load, db, f->connections,
               f->rate > 0 ? "open loop" : "closed loop (max rate)", f->duration_s, f->warmup_s);
}

static void md_cells(buf_t *out, const figures_t *f)
{
    buf_puts(out, "| workload | implementation | req/s | p50 | p99 | p99.9 | peak RSS | CPU µs/req "
                  "| errors | vs tier | what it measures |\n"
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < f->n; i++) {
        row_t r;
        make_row(f, &f->cells[i], &r);
        buf_printf(out, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                   f->cells[i].workload, r.impl, r.rps, r.p50, r.p99, r.p999, r.rss, r.cpu,
                   r.errors, r.vs, r.note);
    }
}

static void md_equal_load(buf_t *out, const figures_t *f)
{
    if (!f->have_equal)
        return;
    buf_printf(out, "\nEqual load: open loop at %.0f %% of each workload's slowest maximum, %.0fs "
                    "each.\n\n| workload | implementation | rate | achieved | p50 | p99 | p99.9 | "
                    "p99.99 | max | GC pause p99 / max |\n"
                    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
               f->equal_load_pct, f->equal_load_s);
    for (int i = 0; i < f->n; i++) {
        const fig_cell_t *c = &f->cells[i];
        if (!in_equal(c))
            continue;
        char impl[48], lat[5][24], gc[64];
        fig_label(c, impl, sizeof impl);
        eq_latencies(c, lat);
        gc_txt(gc, sizeof gc, c, " / ", "");
        if (c->eq_ran)
            buf_printf(out, "| %s | %s | %.0f | %.0f%s | %s | %s | %s | %s | %s | %s |\n",
                       c->workload, impl, c->eq_rate, c->eq_achieved,
                       c->eq_held ? "" : " (not held)", lat[0], lat[1], lat[2], lat[3], lat[4],
                       gc);
        else
            buf_printf(out, "| %s | %s | %.0f | %s | | | | | | |\n", c->workload, impl,
                       c->eq_rate, c->eq_reason);
    }
}

static void md_dev(buf_t *out, const figures_t *f)
{
    const fig_dev_t *first = first_dev(f);
    if (!first)
        return;
    buf_printf(out, "\nDevelopment: builds of a copy of the sources pinned to CPU %s, clean (caches "
                    "emptied as in a new clone) and after one line appended to echo's handler; "
                    "code lines by %s.\n\n| lang | clean build | incremental | binary / stripped "
                    "| deps direct / total | echo code lines | shared | |\n"
                    "|---|---:|---:|---:|---:|---|---:|---|\n",
               first->cpus, f->loc_counter);
    for (int lang = 0; lang < LANG_N; lang++) {
        if (!f->dev[lang].known)
            continue;
        dev_row_t r;
        make_dev_row(&f->dev[lang], &r);
        buf_printf(out, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", lang_names[lang], r.clean,
                   r.incr, r.size, r.deps, r.echo, r.shared, r.note);
    }
}

void table_markdown(buf_t *out, const figures_t *f)
{
    md_head(out, f);
    md_cells(out, f);
    md_equal_load(out, f);
    md_dev(out, f);
}
