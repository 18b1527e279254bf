/* html: report.html (html.h). The page is written top to bottom: the head and its styles, the
 * header with the summary, the table of every cell, a section per workload with its charts,
 * then the development figures, the verdict and the claims. Strings from the results go out
 * through esc() only; put() and putf() write the page's own markup and numbers. */
#include "report/html.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/fmt.h"
#include "report/flame.h"
#include "report/svg.h"
#include "telemetry/profile.h"

#define MAX_USERS 8
#define MAX_WL 16

/* ---- the look of each implementation: one colour per language everywhere ----
 * Okabe–Ito colours, chosen three lightnesses apart so that grey print keeps them apart (C
 * black, Rust vermillion, Go sky blue), and each with its own dash and marker; the tier shows
 * as stripes over a bar and a hollow marker (idiomatic) against a solid one (tuned). */
typedef struct {
    const char *colour, *dash;
    svg_mark_t mark;
} look_t;

static const look_t lang_looks[LANG_N] = {
    {"#000000", NULL, SVG_MARK_CIRCLE},    /* c */
    {"#56B4E9", "7 3", SVG_MARK_SQUARE},   /* go */
    {"#D55E00", "2 2", SVG_MARK_TRIANGLE}, /* rust */
};
/* Implementations of the user's (--impl), in order of appearance. */
static const look_t user_looks[] = {
    {"#009E73", "9 3 2 3", SVG_MARK_DIAMOND},
    {"#CC79A7", "4 2 1 2", SVG_MARK_CIRCLE},
    {"#E69F00", "1 3", SVG_MARK_SQUARE},
    {"#0072B2", "12 3", SVG_MARK_TRIANGLE},
};
#define DB_COLOUR "#BBBBBB"

typedef struct {
    buf_t *b;
    const decision_t *d;
    const figures_t *f;
    const char *profile_path;
    const char *users[MAX_USERS];
    int nusers;
    const char *wl[MAX_WL];       /* the workloads: of the cells, then of the flags */
    bool wl_cells[MAX_WL];        /* it has cells */
    int nwl;
} page_t;

static void put(page_t *pg, const char *s) { buf_puts(pg->b, s); }

static void __attribute__((format(printf, 2, 3))) putf(page_t *pg, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_puts(pg->b, tmp);
}

static void esc(page_t *pg, const char *s) { svg_escape(pg->b, s); }

static const look_t *look_of(const page_t *pg, const fig_cell_t *c)
{
    if (c->lang >= 0 && c->lang < LANG_N)
        return &lang_looks[c->lang];
    for (int i = 0; i < pg->nusers; i++)
        if (!strcmp(pg->users[i], c->name))
            return &user_looks[i % (int)(sizeof user_looks / sizeof user_looks[0])];
    return &user_looks[0];
}

static bool idiomatic(const fig_cell_t *c) { return !strcmp(c->tier, "idiomatic"); }

static svg_line_t line_of(const page_t *pg, const fig_cell_t *c, int mark_every)
{
    const look_t *l = look_of(pg, c);
    return (svg_line_t){.stroke = l->colour, .dash = l->dash, .width = 1.6, .mark = l->mark,
                        .hollow = idiomatic(c), .mark_every = mark_every};
}

static svg_seg_t seg_of(const page_t *pg, const fig_cell_t *c, double v)
{
    return (svg_seg_t){.v = v, .fill = look_of(pg, c)->colour, .hatch = idiomatic(c)};
}

/* "echo/go/idiomatic": a cell's key in data-cell and in chart names. */
static void key_of(const fig_cell_t *c, char *out, size_t n)
{
    snprintf(out, n, "%s/%s/%s", c->workload, c->name, c->tier);
}

/* ---- numbers for people ---- */

static void us_txt(char *o, size_t n, double us) { fmt_duration(o, n, us * 1e3); }
static void kib_txt(char *o, size_t n, double kib) { fmt_bytes(o, n, kib * 1024); }

/* "15.2MiB" as "15.2M": a label over one of two bars side by side, under an axis in MiB. */
static void compact_bytes(char *s)
{
    char *i = strstr(s, "iB");
    if (i)
        memmove(i, i + 2, strlen(i + 2) + 1);
}

/* Axis labels: the ticks are 1-2-5 multiples, so %g gives them short ("2.5k", "20ms"). */
static void axis_count(char *o, size_t n, double v)
{
    if (fabs(v) >= 1e6)
        snprintf(o, n, "%gM", v / 1e6);
    else if (fabs(v) >= 1e3)
        snprintf(o, n, "%gk", v / 1e3);
    else
        snprintf(o, n, "%g", v);
}

static void axis_us(char *o, size_t n, double us)
{
    if (us == 0)
        snprintf(o, n, "0");
    else if (us < 1)
        snprintf(o, n, "%gns", us * 1e3);
    else if (us < 1e3)
        snprintf(o, n, "%gµs", us);
    else if (us < 1e6)
        snprintf(o, n, "%gms", us / 1e3);
    else
        snprintf(o, n, "%gs", us / 1e6);
}

static void axis_mib(char *o, size_t n, double mib)
{
    if (mib == 0)
        snprintf(o, n, "0");
    else
        snprintf(o, n, "%gMiB", mib);
}

static void axis_s(char *o, size_t n, double s)
{
    if (s == 0)
        snprintf(o, n, "0");
    else
        snprintf(o, n, "%gs", s);
}

/* 0 → "0%", 1 → "90%", 2 → "99%" ... 5 → "99.999%": the nines of the spectrum's x. */
static void axis_nines(char *o, size_t n, double x)
{
    int k = (int)lround(x);
    snprintf(o, n, "%.*f%%", k > 2 ? k - 2 : 0, k == 0 ? 0 : 100 - 100 * pow(10, -k));
}

double html_nines(double pct, double count)
{
    double x = pct >= 100 ? (count >= 1 ? log10(count) : 5) : -log10(1 - pct / 100);
    return x < 0 ? 0 : x > 5 ? 5 : x;
}

/* A table cell with a number: data-k its key, data-v the figure as results.json has it, the
 * text for people. */
static void td_num(page_t *pg, const char *key, double v, const char *text)
{
    put(pg, "<td class=\"n\" data-k=\"");
    put(pg, key);
    put(pg, "\"");
    if (isfinite(v))
        putf(pg, " data-v=\"%.17g\"", v);
    put(pg, ">");
    esc(pg, text);
    put(pg, "</td>");
}

static void td_us(page_t *pg, const char *key, double us)
{
    char t[32];
    us_txt(t, sizeof t, us);
    td_num(pg, key, us, t);
}

static void swatch(page_t *pg, const fig_cell_t *c)
{
    putf(pg, "<span class=\"sw%s\" style=\"background-color:%s\"></span>",
         idiomatic(c) ? " idiomatic" : "", look_of(pg, c)->colour);
}

/* ---- the workloads and their cells ---- */

static void collect(page_t *pg)
{
    const figures_t *f = pg->f;
    for (int i = 0; i < f->n; i++) {
        const fig_cell_t *c = &f->cells[i];
        bool seen = false;
        for (int k = 0; k < pg->nwl; k++)
            seen |= !strcmp(pg->wl[k], c->workload);
        if (!seen && pg->nwl < MAX_WL) {
            pg->wl_cells[pg->nwl] = true;
            pg->wl[pg->nwl++] = c->workload;
        }
        seen = c->lang >= 0;
        for (int k = 0; k < pg->nusers; k++)
            seen |= !strcmp(pg->users[k], c->name);
        if (!seen && pg->nusers < MAX_USERS)
            pg->users[pg->nusers++] = c->name;
    }
    for (int i = 0; i < f->nworkloads; i++) {
        bool seen = false;
        for (int k = 0; k < pg->nwl; k++)
            seen |= !strcmp(pg->wl[k], f->workloads[i]);
        if (!seen && pg->nwl < MAX_WL)
            pg->wl[pg->nwl++] = f->workloads[i];
    }
}

/* The cells of workload wl (ok only, or all), in table order; returns how many. */
static int cells_of(const page_t *pg, const char *wl, bool ok_only, const fig_cell_t **out,
                    int max)
{
    int n = 0;
    for (int i = 0; i < pg->f->n && n < max; i++) {
        const fig_cell_t *c = &pg->f->cells[i];
        if (!strcmp(c->workload, wl) && (c->ok || !ok_only))
            out[n++] = c;
    }
    return n;
}

/* The best req/s of the ok cells of c's workload and tier (0: none). */
static double best_rps(const page_t *pg, const fig_cell_t *c)
{
    const fig_cell_t *top = figures_top(pg->f, c->workload, c->tier);
    return top && top->rps > 0 ? top->rps : 0;
}

/* ---- the head ---- */

static const char css[] =
    ":root{--fg:#1a1a1a;--mute:#595959;--line:#d9d9d9;--band:#f5f5f2}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica "
    "Neue\",Arial,\"DejaVu Sans\",sans-serif;color:var(--fg);background:#fff}\n"
    "main{max-width:1180px;margin:0 auto;padding:22px 28px 40px}\n"
    "h1{font-size:26px;margin:0 0 2px}\n"
    "h2{font-size:21px;margin:34px 0 10px;padding-top:8px;border-top:2px solid var(--fg)}\n"
    "h3{font-size:16px;margin:22px 0 8px}\n"
    ".sub{color:var(--mute);margin:0 0 14px}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:0 0 14px}\n"
    "dt{font-weight:600}dd{margin:0}dd ul{margin:0;padding:0;list-style:none}\n"
    "code{font:13px/1.4 ui-monospace,\"DejaVu Sans Mono\",Menlo,Consolas,monospace;"
    "background:var(--band);padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}\n"
    "#summary{background:var(--band);border-left:4px solid var(--fg);padding:10px 14px;margin:0}\n"
    "nav{margin:12px 0 0;font-size:14px}nav a{margin-right:14px;color:inherit}\n"
    "table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}\n"
    "th{font-weight:600;border-bottom:1.5px solid var(--fg);white-space:nowrap}\n"
    "td.n,th.n{text-align:right;white-space:nowrap}td.impl{white-space:nowrap}\n"
    "td.what{min-width:13em;color:var(--mute)}\n"
    "tr.sub td{color:var(--mute);font-size:12px;border-bottom-style:dotted}\n"
    "tr.failed td{background:#fbeeea}.reason{color:#9c1f0c}\n"
    ".scroll{overflow-x:auto}\n"
    ".sw{display:inline-block;width:11px;height:11px;margin-right:6px;border:1px solid #0004;"
    "vertical-align:-1px}\n"
    ".sw.idiomatic{background-image:repeating-linear-gradient(45deg,transparent 0 2px,"
    "rgba(255,255,255,.7) 2px 4px)}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));"
    "gap:18px 26px;align-items:start}\n"
    ".grid.small{grid-template-columns:repeat(auto-fill,minmax(330px,1fr))}\n"
    "figure{margin:0;break-inside:avoid}\n"
    "figcaption{font-size:12.5px;color:var(--mute);margin-top:2px}\n"
    "svg.chart{width:100%;height:auto;display:block}\n"
    ".missing{color:var(--mute);font-style:italic}\n"
    ".verdict{margin:0 0 18px}.verdict h3{margin-bottom:4px}\n"
    "ul.reasons{margin:4px 0 8px;padding-left:0;list-style:none;font-size:14px}\n"
    "ul.reasons li{margin:2px 0}.mark{display:inline-block;min-width:2.4em;font-weight:600}\n"
    ".word{font-weight:600;white-space:nowrap}.word.confirmed{color:#00684a}"
    ".word.refuted{color:#9c1f0c}.word.differs{color:#7a5000}\n"
    "footer{margin-top:40px;color:var(--mute);font-size:12.5px;border-top:1px solid var(--line);"
    "padding-top:10px}\n"
    "@media print{\n"
    "@page{size:A4 landscape;margin:10mm}\n"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "body{font-size:10pt}main{max-width:none;padding:0}nav{display:none}\n"
    "h2{break-after:avoid}figure,tr,.verdict{break-inside:avoid}\n"
    ".grid{grid-template-columns:1fr 1fr;gap:6mm}.grid.small{grid-template-columns:repeat(4,1fr)}\n"
    ".scroll{overflow:visible}table{font-size:7.5pt}tr.sub td{font-size:7pt}"
    "th,td{padding:2px 5px}\n"
    "td.what{min-width:0}a{color:inherit;text-decoration:none}\n"
    "}\n";

static void head(page_t *pg)
{
    put(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>stackbench report");
    if (pg->f->date[0]) {
        put(pg, ", ");
        esc(pg, pg->f->date);
    }
    put(pg, "</title>\n<style>\n");
    put(pg, css);
    put(pg, "</style>\n</head>\n<body>\n<main>\n");
}

/* ---- the header: machine, toolchains, command, CPUs, the summary ---- */

static void cpus_line(page_t *pg)
{
    const figures_t *f = pg->f;
    put(pg, "service on CPU ");
    esc(pg, f->cpus_service[0] ? f->cpus_service : "?");
    put(pg, ", load on CPU ");
    esc(pg, f->cpus_load[0] ? f->cpus_load : "?");
    if (isfinite(f->load_threads))
        putf(pg, " (%.0f thread%s)", f->load_threads, f->load_threads == 1 ? "" : "s");
    if (f->database && f->db_managed) {
        put(pg, ", PostgreSQL on CPU ");
        esc(pg, f->cpus_db);
    } else if (f->database) {
        put(pg, ", the database on a given server (its CPU not metered)");
    }
    if (f->database && isfinite(f->pool))
        putf(pg, " (pool %.0f)", f->pool);
}

static void run_line(page_t *pg)
{
    const figures_t *f = pg->f;
    putf(pg, "%d cell%s; ", f->n, f->n == 1 ? "" : "s");
    if (isfinite(f->duration_s))
        putf(pg, "%gs measured", f->duration_s);
    if (isfinite(f->warmup_s))
        putf(pg, " after %gs warm-up", f->warmup_s);
    if (isfinite(f->connections))
        putf(pg, ", %.0f connections", f->connections);
    if (isfinite(f->rate))
        putf(pg, ", open loop at %.0f req/s", f->rate);
    else
        put(pg, ", closed loop (max rate)");
    if (f->have_equal && isfinite(f->equal_load_pct))
        putf(pg, "; then each at %.0f %% of its workload's slowest, open loop, %gs",
             f->equal_load_pct, isfinite(f->equal_load_s) ? f->equal_load_s : 0);
    if (f->have_sweep)
        put(pg, "; a sweep of each at 10 to 100 % of its own maximum");
}

/* Per workload and tier: who leads in req/s and by how much; failed cells counted; the lowest
 * p99 at equal load; the verdict's picks. */
static void summary(page_t *pg)
{
    put(pg, "<p id=\"summary\">");
    for (int w = 0; w < pg->nwl; w++) {
        const fig_cell_t *cs[FIG_MAX_CELLS];
        int n = cells_of(pg, pg->wl[w], true, cs, FIG_MAX_CELLS);
        if (!pg->wl_cells[w]) {
            put(pg, "<b>");
            esc(pg, pg->wl[w]);
            put(pg, "</b>: not in these results. ");
            continue;
        }
        if (n == 0) {
            put(pg, "<b>");
            esc(pg, pg->wl[w]);
            put(pg, "</b>: every cell failed. ");
            continue;
        }
        /* each tier in order of first appearance */
        for (int i = 0; i < n; i++) {
            bool first = true;
            for (int k = 0; k < i; k++)
                first &= strcmp(cs[k]->tier, cs[i]->tier) != 0;
            if (!first)
                continue;
            const fig_cell_t *top = figures_top(pg->f, pg->wl[w], cs[i]->tier);
            char rps[32];
            fmt_count(rps, sizeof rps, top->rps);
            put(pg, "<b>");
            esc(pg, pg->wl[w]);
            put(pg, ", ");
            esc(pg, top->tier);
            put(pg, "</b>: ");
            esc(pg, top->name);
            put(pg, " leads at ");
            esc(pg, rps);
            put(pg, " req/s");
            int others = 0;
            for (int k = 0; k < n; k++) {
                if (cs[k] == top || strcmp(cs[k]->tier, top->tier) || !(cs[k]->rps > 0))
                    continue;
                putf(pg, "%s +%.0f %% over ", others++ ? "," : ":", 100 * (top->rps / cs[k]->rps - 1));
                esc(pg, cs[k]->name);
            }
            put(pg, others ? ". " : " (alone in its tier). ");
        }
        /* the lowest p99 at equal load */
        const fig_cell_t *low = NULL, *high = NULL;
        for (int k = 0; k < n; k++) {
            if (!cs[k]->eq_ran || !isfinite(cs[k]->eq_p99_us))
                continue;
            if (!low || cs[k]->eq_p99_us < low->eq_p99_us)
                low = cs[k];
            if (!high || cs[k]->eq_p99_us > high->eq_p99_us)
                high = cs[k];
        }
        if (low && high != low) {
            char a[32], b[32], la[96], lb[96];
            us_txt(a, sizeof a, low->eq_p99_us);
            us_txt(b, sizeof b, high->eq_p99_us);
            fig_label(low, la, sizeof la);
            fig_label(high, lb, sizeof lb);
            putf(pg, "At equal load (%.0f req/s) the lowest p99 is ", low->eq_rate);
            esc(pg, la);
            put(pg, "'s, ");
            esc(pg, a);
            put(pg, " (the highest: ");
            esc(pg, lb);
            put(pg, ", ");
            esc(pg, b);
            put(pg, "). ");
        }
    }
    int failed = 0;
    for (int i = 0; i < pg->f->n; i++)
        failed += !pg->f->cells[i].ok;
    if (failed)
        putf(pg, "%d cell%s failed: the table gives the reason. ", failed, failed == 1 ? "" : "s");
    const decision_t *d = pg->d;
    if (d->nv > 0) {
        put(pg, "The verdict for &ldquo;");
        esc(pg, d->p.name);
        put(pg, "&rdquo;: ");
        for (int i = 0; i < d->nv; i++) {
            const verdict_t *v = &d->v[i];
            put(pg, i ? ", " : "");
            esc(pg, v->workload);
            put(pg, " &rarr; ");
            put(pg, v->pick >= 0 ? lang_names[v->pick] : "none");
            if (v->runner_up >= 0) {
                put(pg, " (then ");
                put(pg, lang_names[v->runner_up]);
                put(pg, ")");
            }
        }
        put(pg, ".");
    }
    put(pg, "</p>\n");
}

static void header(page_t *pg)
{
    const figures_t *f = pg->f;
    put(pg, "<header>\n<h1>stackbench report</h1>\n<p class=\"sub\">");
    esc(pg, f->date[0] ? f->date : "no date");
    put(pg, " &middot; stackbench ");
    esc(pg, f->version[0] ? f->version : "?");
    put(pg, " &middot; from <code>");
    esc(pg, f->dir);
    put(pg, "/results.json</code></p>\n<dl class=\"facts\">\n<dt>Machine</dt><dd id=\"machine\">");
    esc(pg, f->cpu_model[0] ? f->cpu_model : "unknown CPU");
    putf(pg, ", %d core%s, ", f->cores, f->cores == 1 ? "" : "s");
    esc(pg, f->kernel[0] ? f->kernel : "unknown kernel");
    if (isfinite(f->memory_kib)) {
        char m[32];
        kib_txt(m, sizeof m, f->memory_kib);
        put(pg, ", ");
        esc(pg, m);
        put(pg, " of memory");
    }
    put(pg, "</dd>\n<dt>Toolchains</dt><dd id=\"versions\"><ul>");
    for (int i = 0; i < f->nversions; i++) {
        put(pg, "<li><b>");
        esc(pg, f->versions[i].name);
        put(pg, "</b>: ");
        esc(pg, f->versions[i].text);
        put(pg, "</li>");
    }
    put(pg, "</ul></dd>\n<dt>Command</dt><dd><code id=\"command\">");
    esc(pg, f->command[0] ? f->command : "(not recorded)");
    put(pg, "</code></dd>\n<dt>CPUs</dt><dd id=\"cpus\">");
    cpus_line(pg);
    put(pg, "</dd>\n<dt>Run</dt><dd id=\"run\">");
    run_line(pg);
    put(pg, "</dd>\n</dl>\n");
    summary(pg);
    put(pg, "<nav><a href=\"#cells\">Every cell</a>");
    for (int w = 0; w < pg->nwl; w++) {
        put(pg, "<a href=\"#wl-");
        esc(pg, pg->wl[w]);
        put(pg, "\">");
        esc(pg, pg->wl[w]);
        put(pg, "</a>");
    }
    if (f->have_dev)
        put(pg, "<a href=\"#dev\">Development</a>");
    put(pg, "<a href=\"#verdict\">Verdict</a><a href=\"#claims\">Claims</a></nav>\n</header>\n");
}

/* ---- the table of every cell ---- */

static void cell_row(page_t *pg, const fig_cell_t *c)
{
    char key[160], label[96];
    key_of(c, key, sizeof key);
    fig_label(c, label, sizeof label);
    put(pg, c->ok ? "<tr" : "<tr class=\"failed\"");
    put(pg, " data-cell=\"");
    esc(pg, key);
    put(pg, "\"><td>");
    esc(pg, c->workload);
    put(pg, "</td><td class=\"impl\">");
    swatch(pg, c);
    esc(pg, label);
    put(pg, "</td>");
    if (!c->ok) {
        put(pg, "<td colspan=\"8\" class=\"reason\">failed: ");
        esc(pg, c->reason[0] ? c->reason : "no reason given");
        put(pg, "</td>");
    } else {
        char t[64];
        fmt_count(t, sizeof t, c->rps);
        td_num(pg, "rps", c->rps, t);
        td_us(pg, "p50", c->p50_us);
        td_us(pg, "p99", c->p99_us);
        td_us(pg, "p999", c->p999_us);
        kib_txt(t, sizeof t, c->rss_peak_kib);
        td_num(pg, "rss_peak", c->rss_peak_kib, t);
        us_txt(t, sizeof t, c->cpu_us_per_req);
        if (isfinite(c->db_cpu_us_per_req)) {
            char db[32];
            us_txt(db, sizeof db, c->db_cpu_us_per_req);
            size_t k = strlen(t);
            snprintf(t + k, sizeof t - k, " + %s db", db);
        }
        td_num(pg, "cpu", c->cpu_us_per_req, t);
        snprintf(t, sizeof t, "%.0f", c->errors);
        td_num(pg, "errors", c->errors, t);
        double best = best_rps(pg, c);
        if (best > 0 && c->rps >= best)
            snprintf(t, sizeof t, "best");
        else if (best > 0)
            snprintf(t, sizeof t, "%+.0f %%", 100 * (c->rps / best - 1));
        else
            snprintf(t, sizeof t, "-");
        td_num(pg, "vs_tier", NAN, t);
    }
    put(pg, "<td class=\"what\">");
    esc(pg, c->framework);
    put(pg, "; ");
    esc(pg, c->does);
    if (c->ok && c->load_bound)
        putf(pg, "; load-bound (load CPU %.0f %%): compare CPU per request",
             100 * c->load_cpu_share);
    if (c->ok && isfinite(c->db_round_trips_per_req))
        putf(pg, "; %.2f statements and %.2f commits per request", c->db_round_trips_per_req,
             c->db_commits_per_req);
    put(pg, "</td><td>");
    esc(pg, c->db_strategy);
    put(pg, "</td></tr>\n");
    for (int k = 0; k < c->nby_request; k++) {
        const fig_by_request_t *r = &c->by_request[k];
        char t[32];
        put(pg, "<tr class=\"sub\"><td></td><td class=\"impl\">");
        esc(pg, r->method);
        put(pg, " ");
        esc(pg, r->target);
        put(pg, "</td>");
        double share = c->requests > 0 ? r->requests / c->requests : NAN;
        fmt_count(t, sizeof t, c->rps * share);
        td_num(pg, "rps", c->rps * share, t);
        td_us(pg, "p50", r->p50_us);
        td_us(pg, "p99", r->p99_us);
        td_us(pg, "p999", r->p999_us);
        put(pg, "<td></td><td></td>");
        snprintf(t, sizeof t, "%.0f", r->errors);
        td_num(pg, "errors", r->errors, t);
        put(pg, "<td></td><td></td><td></td></tr>\n");
    }
}

static void cells_table(page_t *pg)
{
    put(pg, "<section id=\"cells\">\n<h2>Every cell</h2>\n<p>At each implementation's maximum "
            "(closed loop unless the command set a rate). CPU per request is the service's, "
            "with the database's beside it for <code>sql</code>; <i>vs tier</i> compares "
            "within a workload and tier.</p>\n<div class=\"scroll\"><table class=\"cells\">\n"
            "<thead><tr><th>workload</th><th>implementation</th><th class=\"n\">req/s</th>"
            "<th class=\"n\">p50</th><th class=\"n\">p99</th><th class=\"n\">p99.9</th>"
            "<th class=\"n\">peak RSS</th><th class=\"n\">CPU/req</th><th class=\"n\">errors"
            "</th><th class=\"n\">vs tier</th><th>what it measures</th><th>db strategy</th>"
            "</tr></thead>\n<tbody>\n");
    for (int i = 0; i < pg->f->n; i++)
        cell_row(pg, &pg->f->cells[i]);
    if (pg->f->n == 0)
        put(pg, "<tr><td colspan=\"12\" class=\"missing\">no cells</td></tr>\n");
    put(pg, "</tbody></table></div>\n</section>\n");
}

/* ---- bar charts ---- */

#define CW 560
#define CH 300

/* A y axis from 0 to a nice bound over max with room for the labels over the bars. */
static void bar_y(svg_chart_t *ch, double max, svg_fmt_fn fmt, const char *title)
{
    double lo = 0, hi = max > 0 ? max * 1.12 : 1;
    svg_nice_bounds(&lo, &hi, 5);
    svg_set_y(ch, lo, hi, false);
    double t[16];
    int nt = svg_ticks(lo, hi, svg_nice_step(hi - lo, 5), t, 16);
    svg_axis_y(ch, t, nt, fmt, title);
}

static void chart_name(char *out, size_t n, const char *wl, const char *what)
{
    snprintf(out, n, "%s-%s", wl, what);
}

static void figure_open(page_t *pg) { put(pg, "<figure>"); }

static void figure_close(page_t *pg, const char *caption)
{
    put(pg, "<figcaption>");
    put(pg, caption); /* the page's own words */
    put(pg, "</figcaption></figure>\n");
}

/* Per cell: a group with its label in two lines, its data-bar key, "failed" for a failed one. */
static void group_of(const fig_cell_t *c, svg_group_t *g, char *key, size_t keyn)
{
    memset(g, 0, sizeof *g);
    key_of(c, key, keyn);
    g->label = c->name;
    g->sublabel = c->tier;
    g->id = key;
    g->note = c->ok ? NULL : "failed";
}

static void chart_rps(page_t *pg, const char *wl, const fig_cell_t *const *cs, int n)
{
    svg_group_t g[FIG_MAX_CELLS];
    char keys[FIG_MAX_CELLS][160], vals[FIG_MAX_CELLS][32], titles[FIG_MAX_CELLS][160];
    double max = 0;
    for (int i = 0; i < n; i++) {
        const fig_cell_t *c = cs[i];
        group_of(c, &g[i], keys[i], sizeof keys[i]);
        if (!c->ok)
            continue;
        fmt_count(vals[i], sizeof vals[i], c->rps);
        snprintf(titles[i], sizeof titles[i], "%s %s: %.0f req/s", c->name, c->tier, c->rps);
        g[i].bar[0] = (svg_bar_t){.seg = {seg_of(pg, c, c->rps)}, .nseg = 1, .value = vals[i],
                                  .title = titles[i]};
        g[i].nbar = 1;
        max = fmax(max, c->rps);
    }
    char name[64];
    chart_name(name, sizeof name, wl, "rps");
    svg_chart_t ch;
    svg_begin(&ch, pg->b, name, "requests per second at the maximum", CW, CH);
    bar_y(&ch, max, axis_count, "req/s");
    svg_bars(&ch, g, n);
    svg_end(&ch);
}

static void chart_cpu(page_t *pg, const char *wl, const fig_cell_t *const *cs, int n)
{
    svg_group_t g[FIG_MAX_CELLS];
    char keys[FIG_MAX_CELLS][160], vals[FIG_MAX_CELLS][80], titles[FIG_MAX_CELLS][200];
    double max = 0;
    bool db = false;
    for (int i = 0; i < n; i++) {
        const fig_cell_t *c = cs[i];
        group_of(c, &g[i], keys[i], sizeof keys[i]);
        if (!c->ok)
            continue;
        bool has_db = isfinite(c->db_cpu_us_per_req);
        char a[32], b[32] = "";
        us_txt(a, sizeof a, c->cpu_us_per_req);
        if (has_db)
            us_txt(b, sizeof b, c->db_cpu_us_per_req);
        if (has_db)
            snprintf(vals[i], sizeof vals[i], "%s + %s", a, b);
        else
            snprintf(vals[i], sizeof vals[i], "%s", a);
        snprintf(titles[i], sizeof titles[i], "%s %s: service %s per request%s%s", c->name,
                 c->tier, a, has_db ? ", database " : "", b);
        svg_bar_t *bar = &g[i].bar[0];
        *bar = (svg_bar_t){.seg = {seg_of(pg, c, c->cpu_us_per_req)}, .nseg = 1,
                           .value = vals[i], .title = titles[i]};
        if (has_db)
            bar->seg[bar->nseg++] = (svg_seg_t){.v = c->db_cpu_us_per_req, .fill = DB_COLOUR};
        g[i].nbar = 1;
        db |= has_db;
        max = fmax(max, fig_cpu_us(c));
    }
    char name[64];
    chart_name(name, sizeof name, wl, "cpu");
    svg_chart_t ch;
    svg_begin(&ch, pg->b, name, "CPU per request: the service's, and the database's", CW, CH);
    if (db) {
        static const svg_seg_t svc = {.v = 1, .fill = "#666666"}, dbs = {.v = 1, .fill = DB_COLOUR};
        const svg_key_t k[] = {{"the service (its language's colour)", NULL, &svc},
                               {"the database", NULL, &dbs}};
        svg_legend(&ch, k, 2);
    }
    bar_y(&ch, max, axis_us, "CPU per request");
    svg_bars(&ch, g, n);
    svg_end(&ch);
}

static void chart_rss(page_t *pg, const char *wl, const fig_cell_t *const *cs, int n)
{
    svg_group_t g[FIG_MAX_CELLS];
    char keys[FIG_MAX_CELLS][160], vals[FIG_MAX_CELLS][2][32], titles[FIG_MAX_CELLS][2][160];
    double max = 0;
    for (int i = 0; i < n; i++) {
        const fig_cell_t *c = cs[i];
        group_of(c, &g[i], keys[i], sizeof keys[i]);
        if (!c->ok)
            continue;
        double v[2] = {c->rss_peak_kib / 1024, c->rss_mean_kib / 1024};
        for (int k = 0; k < 2; k++) {
            kib_txt(vals[i][k], sizeof vals[i][k], v[k] * 1024);
            snprintf(titles[i][k], sizeof titles[i][k], "%s %s: %s RSS %s", c->name, c->tier,
                     k ? "mean" : "peak", vals[i][k]);
            compact_bytes(vals[i][k]);
            svg_seg_t s = seg_of(pg, c, v[k]);
            if (k) {
                s.hollow = true;
                s.hatch = false;
            }
            g[i].bar[k] = (svg_bar_t){.seg = {s}, .nseg = 1, .value = vals[i][k],
                                      .title = titles[i][k]};
            if (isfinite(v[k]))
                max = fmax(max, v[k]);
        }
        g[i].nbar = 2;
    }
    char name[64];
    chart_name(name, sizeof name, wl, "rss");
    svg_chart_t ch;
    svg_begin(&ch, pg->b, name, "memory: peak and mean RSS while measured", CW, CH);
    static const svg_seg_t peak = {.v = 1, .fill = "#666666"},
                           mean = {.v = 1, .fill = "#666666", .hollow = true};
    const svg_key_t k[] = {{"peak RSS", NULL, &peak}, {"mean RSS", NULL, &mean}};
    svg_legend(&ch, k, 2);
    bar_y(&ch, max, axis_mib, "RSS");
    svg_bars(&ch, g, n);
    svg_end(&ch);
}

/* ---- line charts ---- */

/* A latency y axis over [lo, hi] µs: log when it spans more than 1.5 decades, else linear
 * from 0. */
static void latency_y(svg_chart_t *ch, double lo, double hi, const char *title)
{
    double t[32];
    int nt;
    if (svg_wants_log(lo, hi)) {
        svg_log_bounds(&lo, &hi);
        svg_set_y(ch, lo, hi, true);
        nt = svg_log_ticks(lo, hi, t, 32);
    } else {
        lo = 0;
        if (!(hi > 0))
            hi = 1;
        svg_nice_bounds(&lo, &hi, 5);
        svg_set_y(ch, lo, hi, false);
        nt = svg_ticks(lo, hi, svg_nice_step(hi - lo, 5), t, 32);
    }
    svg_axis_y(ch, t, nt, axis_us, title);
}

typedef struct {
    const fig_spectrum_t *s;
    const char *label;
} spectrum_arg_t;

static void spectrum_title(char *out, size_t n, int i, const void *arg)
{
    const spectrum_arg_t *a = arg;
    char t[32];
    us_txt(t, sizeof t, a->s->pt[i].us);
    if (a->s->pt[i].pct >= 100)
        snprintf(out, n, "%s: max %s", a->label, t);
    else
        snprintf(out, n, "%s: p%.6g %s", a->label, a->s->pt[i].pct, t);
}

/* The percentile spectrum of the workload's ok cells, at the maximum or at equal load. */
static void chart_spectrum(page_t *pg, const char *wl, const fig_cell_t *const *cs, int n,
                           bool equal)
{
    double lo = INFINITY, hi = 0;
    int drawn = 0;
    for (int i = 0; i < n; i++) {
        const fig_spectrum_t *s = equal ? &cs[i]->eq_spectrum : &cs[i]->spectrum;
        for (int k = 0; k < s->n; k++)
            if (s->pt[k].us > 0) {
                lo = fmin(lo, s->pt[k].us);
                hi = fmax(hi, s->pt[k].us);
            }
        drawn += s->n > 0;
    }
    if (!drawn)
        return;
    char name[64];
    chart_name(name, sizeof name, wl, equal ? "eq-spectrum" : "spectrum");
    figure_open(pg);
    svg_chart_t ch;
    svg_begin(&ch, pg->b, name,
              equal ? "latency by percentile at equal load" : "latency by percentile at the maximum",
              CW, CH + 20);
    svg_key_t keys[FIG_MAX_CELLS];
    svg_line_t lines[FIG_MAX_CELLS];
    char labels[FIG_MAX_CELLS][96];
    int nk = 0;
    for (int i = 0; i < n; i++) {
        const fig_spectrum_t *s = equal ? &cs[i]->eq_spectrum : &cs[i]->spectrum;
        if (!s->n)
            continue;
        lines[nk] = line_of(pg, cs[i], 10);
        fig_label(cs[i], labels[nk], sizeof labels[nk]);
        keys[nk] = (svg_key_t){labels[nk], &lines[nk], NULL};
        nk++;
    }
    svg_legend(&ch, keys, nk);
    ch.right = ch.width - 30; /* room for "99.999%" under the axis's end */
    svg_set_x(&ch, 0, 5, false);
    latency_y(&ch, lo, hi, "latency");
    static const double xt[] = {0, 1, 2, 3, 4, 5};
    svg_axis_x(&ch, xt, 6, axis_nines, "percentile (log scale of 1 / (1 − p))");
    for (int i = 0, k = 0; i < n; i++) {
        const fig_spectrum_t *s = equal ? &cs[i]->eq_spectrum : &cs[i]->spectrum;
        if (!s->n)
            continue;
        double x[FIG_MAX_SPECTRUM], y[FIG_MAX_SPECTRUM];
        double count = equal ? cs[i]->eq_requests : cs[i]->requests;
        for (int p = 0; p < s->n; p++) {
            x[p] = html_nines(s->pt[p].pct, count);
            y[p] = s->pt[p].us;
        }
        char key[160];
        key_of(cs[i], key, sizeof key);
        spectrum_arg_t a = {s, labels[k]};
        svg_polyline(&ch, x, y, s->n, &lines[k], key, spectrum_title, &a);
        k++;
    }
    svg_end(&ch);
    figure_close(pg, equal ? "Latency by percentile at equal load: every implementation at the "
                             "same rate, open loop (service latency, not queueing). The last "
                             "point of each line is its max."
                           : "Latency by percentile at each one's maximum (closed loop: "
                             "queueing included), from the measured histogram; the last point "
                             "of each line is its max.");
}

/* One implementation's p99 and max per window, on the workload's shared axes. */
static void chart_windows(page_t *pg, const fig_cell_t *c, double lo, double hi, double tmax)
{
    char name[200], label[96];
    snprintf(name, sizeof name, "%s-windows-%s-%s", c->workload, c->name, c->tier);
    fig_label(c, label, sizeof label);
    put(pg, "<figure>");
    svg_chart_t ch;
    char title[160];
    snprintf(title, sizeof title, "%s: latency over time at equal load", label);
    svg_begin(&ch, pg->b, name, title, 380, 230);
    /* one implementation per chart: p99 solid, max dotted, whatever the language's dash */
    svg_line_t p99 = {.stroke = look_of(pg, c)->colour, .width = 1.6}, max = p99;
    max.dash = "1.5 2";
    max.width = 1.1;
    const svg_key_t k[] = {{"p99 per 100 ms", &p99, NULL}, {"max", &max, NULL}};
    svg_legend(&ch, k, 2);
    double xlo = 0, xhi = tmax > 0 ? tmax : 1;
    svg_nice_bounds(&xlo, &xhi, 5);
    svg_set_x(&ch, xlo, xhi, false);
    latency_y(&ch, lo, hi, NULL);
    double xt[16];
    int nxt = svg_ticks(xlo, xhi, svg_nice_step(xhi - xlo, 5), xt, 16);
    svg_axis_x(&ch, xt, nxt, axis_s, "time");
    double x[FIG_MAX_WINDOWS], y99[FIG_MAX_WINDOWS], ymax[FIG_MAX_WINDOWS];
    double half = isfinite(c->window_ms) ? c->window_ms / 2000 : 0.05;
    for (int i = 0; i < c->nwindows; i++) {
        x[i] = c->windows[i].t_ms / 1000 + half;
        /* a window without answers has no latency to draw */
        y99[i] = c->windows[i].count > 0 ? c->windows[i].p99_us : NAN;
        ymax[i] = c->windows[i].count > 0 ? c->windows[i].max_us : NAN;
    }
    svg_polyline(&ch, x, ymax, c->nwindows, &max, "max", NULL, NULL);
    svg_polyline(&ch, x, y99, c->nwindows, &p99, "p99", NULL, NULL);
    svg_end(&ch);
    put(pg, "<figcaption><b>");
    esc(pg, label);
    put(pg, "</b>");
    if (c->lang == LANG_GO && isfinite(c->gc_pauses)) {
        if (c->gc_pauses > 0) {
            char a[32], b[32];
            us_txt(a, sizeof a, c->gc_pause_p99_us);
            us_txt(b, sizeof b, c->gc_pause_max_us);
            putf(pg, " &middot; GC: %.0f stop-the-world pause%s in %.0f cycle%s, p99 ",
                 c->gc_pauses, c->gc_pauses == 1 ? "" : "s", c->gc_cycles,
                 c->gc_cycles == 1 ? "" : "s");
            esc(pg, a);
            put(pg, ", max ");
            esc(pg, b);
        } else {
            put(pg, " &middot; GC: no pause during the run");
        }
    }
    if (!c->eq_held && c->eq_reason[0]) {
        put(pg, " &middot; <span class=\"reason\">");
        esc(pg, c->eq_reason);
        put(pg, "</span>");
    }
    put(pg, "</figcaption></figure>\n");
}

typedef struct {
    const fig_cell_t *c;
} sweep_arg_t;

static void sweep_title(char *out, size_t n, int i, const void *arg)
{
    const fig_cell_t *c = ((const sweep_arg_t *)arg)->c;
    char t[32], r[32];
    us_txt(t, sizeof t, c->sweep[i].p99_us);
    fmt_count(r, sizeof r, c->sweep[i].achieved);
    snprintf(out, n, "%s %s at %.0f %%: %s req/s, p99 %s%s", c->name, c->tier, c->sweep[i].pct,
             r, t, c->sweep[i].held ? "" : " (rate not held)");
}

static void chart_sweep(page_t *pg, const char *wl, const fig_cell_t *const *cs, int n)
{
    double lo = INFINITY, hi = 0, xmax = 0;
    int drawn = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < cs[i]->nsweep; k++) {
            const fig_sweep_point_t *p = &cs[i]->sweep[k];
            if (!p->ran || !(p->p99_us > 0))
                continue;
            lo = fmin(lo, p->p99_us);
            hi = fmax(hi, p->p99_us);
            xmax = fmax(xmax, p->achieved);
        }
        drawn += cs[i]->nsweep > 0;
    }
    if (!drawn || !(hi > 0))
        return;
    char name[64];
    chart_name(name, sizeof name, wl, "sweep");
    figure_open(pg);
    svg_chart_t ch;
    svg_begin(&ch, pg->b, name, "p99 latency against throughput", CW, CH + 20);
    svg_key_t keys[FIG_MAX_CELLS];
    svg_line_t lines[FIG_MAX_CELLS];
    char labels[FIG_MAX_CELLS][96];
    int nk = 0;
    for (int i = 0; i < n; i++) {
        if (!cs[i]->nsweep)
            continue;
        lines[nk] = line_of(pg, cs[i], 1);
        fig_label(cs[i], labels[nk], sizeof labels[nk]);
        keys[nk] = (svg_key_t){labels[nk], &lines[nk], NULL};
        nk++;
    }
    svg_legend(&ch, keys, nk);
    double xlo = 0, xhi = xmax;
    svg_nice_bounds(&xlo, &xhi, 5);
    svg_set_x(&ch, xlo, xhi, false);
    latency_y(&ch, lo, hi, "p99");
    double xt[16];
    int nxt = svg_ticks(xlo, xhi, svg_nice_step(xhi - xlo, 5), xt, 16);
    svg_axis_x(&ch, xt, nxt, axis_count, "achieved req/s");
    for (int i = 0, k = 0; i < n; i++) {
        if (!cs[i]->nsweep)
            continue;
        double x[FIG_MAX_SWEEP], y[FIG_MAX_SWEEP];
        for (int p = 0; p < cs[i]->nsweep; p++) {
            bool ok = cs[i]->sweep[p].ran;
            x[p] = ok ? cs[i]->sweep[p].achieved : NAN;
            y[p] = ok ? cs[i]->sweep[p].p99_us : NAN;
        }
        char key[160];
        key_of(cs[i], key, sizeof key);
        sweep_arg_t a = {cs[i]};
        svg_polyline(&ch, x, y, cs[i]->nsweep, &lines[k++], key, sweep_title, &a);
    }
    svg_end(&ch);
    figure_close(pg, "The sweep: each implementation open loop at 10, 25, 50, 75, 90 and 100 % "
                     "of its own maximum; p99 against what it achieved.");
}

/* ---- a workload's section ---- */

static void equal_table(page_t *pg, const fig_cell_t *const *cs, int n)
{
    put(pg, "<div class=\"scroll\"><table class=\"equal\">\n<thead><tr><th>implementation</th>"
            "<th class=\"n\">rate</th><th class=\"n\">achieved</th><th class=\"n\">p50</th>"
            "<th class=\"n\">p99</th><th class=\"n\">p99.9</th><th class=\"n\">p99.99</th>"
            "<th class=\"n\">max</th><th class=\"n\">GC pause p99 / max</th></tr></thead>\n"
            "<tbody>\n");
    for (int i = 0; i < n; i++) {
        const fig_cell_t *c = cs[i];
        if (!isfinite(c->eq_rate))
            continue;
        char key[160], label[96], t[80];
        key_of(c, key, sizeof key);
        fig_label(c, label, sizeof label);
        put(pg, c->eq_ran ? "<tr" : "<tr class=\"failed\"");
        put(pg, " data-cell=\"");
        esc(pg, key);
        put(pg, "\"><td class=\"impl\">");
        swatch(pg, c);
        esc(pg, label);
        put(pg, "</td>");
        fmt_count(t, sizeof t, c->eq_rate);
        td_num(pg, "eq_rate", c->eq_rate, t);
        if (!c->eq_ran) {
            put(pg, "<td colspan=\"7\" class=\"reason\">");
            esc(pg, c->eq_reason[0] ? c->eq_reason : "not run");
            put(pg, "</td></tr>\n");
            continue;
        }
        fmt_count(t, sizeof t, c->eq_achieved);
        if (!c->eq_held) {
            size_t k = strlen(t);
            snprintf(t + k, sizeof t - k, " (not held)");
        }
        td_num(pg, "eq_achieved", c->eq_achieved, t);
        td_us(pg, "eq_p50", c->eq_p50_us);
        td_us(pg, "eq_p99", c->eq_p99_us);
        td_us(pg, "eq_p999", c->eq_p999_us);
        td_us(pg, "eq_p9999", c->eq_p9999_us);
        td_us(pg, "eq_max", c->eq_max_us);
        t[0] = 0;
        if (isfinite(c->gc_pause_p99_us)) {
            char a[32], b[32];
            us_txt(a, sizeof a, c->gc_pause_p99_us);
            us_txt(b, sizeof b, c->gc_pause_max_us);
            snprintf(t, sizeof t, "%s / %s", a, b);
        } else if (isfinite(c->gc_pauses)) {
            snprintf(t, sizeof t, "no pause");
        }
        td_num(pg, "gc", c->gc_pause_p99_us, t);
        put(pg, "</tr>\n");
    }
    put(pg, "</tbody></table></div>\n");
}

static void workload_section(page_t *pg, int w)
{
    const char *wl = pg->wl[w];
    put(pg, "<section class=\"workload\" id=\"wl-");
    esc(pg, wl);
    put(pg, "\">\n<h2>");
    esc(pg, wl);
    put(pg, "</h2>\n");
    const fig_cell_t *all[FIG_MAX_CELLS], *ok[FIG_MAX_CELLS];
    int n = cells_of(pg, wl, false, all, FIG_MAX_CELLS);
    int nok = cells_of(pg, wl, true, ok, FIG_MAX_CELLS);
    if (n == 0) {
        put(pg, "<p class=\"missing\">No cell of this workload in these results: the run's "
                "flags named it, its cells are not there.</p>\n</section>\n");
        return;
    }
    put(pg, "<div class=\"grid\">\n");
    figure_open(pg);
    chart_rps(pg, wl, all, n);
    figure_close(pg, "Requests per second at each one's maximum. Striped bars: the idiomatic "
                     "tier; solid: tuned.");
    figure_open(pg);
    chart_cpu(pg, wl, all, n);
    figure_close(pg, "The service's CPU time per request (µs of CPU); for sql, the database's "
                     "share stacked on it (grey): both must be paid for.");
    figure_open(pg);
    chart_rss(pg, wl, all, n);
    figure_close(pg, "Memory while measured: peak and mean resident set size of the service's "
                     "process.");
    chart_spectrum(pg, wl, ok, nok, false);
    put(pg, "</div>\n");

    bool equal = false;
    for (int i = 0; i < n; i++)
        equal |= isfinite(all[i]->eq_rate);
    if (equal) {
        double rate = NAN;
        for (int i = 0; i < n && !isfinite(rate); i++)
            rate = all[i]->eq_rate;
        char r[32];
        fmt_count(r, sizeof r, rate);
        put(pg, "<h3>At equal load: ");
        esc(pg, r);
        put(pg, " req/s each</h3>\n");
        equal_table(pg, all, n);
        put(pg, "<div class=\"grid\">\n");
        chart_spectrum(pg, wl, ok, nok, true);
        put(pg, "</div>\n");
        /* the windows, on one scale for the workload so that they compare */
        double lo = INFINITY, hi = 0, tmax = 0;
        int nwin = 0;
        for (int i = 0; i < nok; i++)
            for (int k = 0; k < ok[i]->nwindows; k++) {
                const fig_window_t *wi = &ok[i]->windows[k];
                if (wi->count <= 0)
                    continue;
                if (wi->p99_us > 0)
                    lo = fmin(lo, wi->p99_us);
                hi = fmax(hi, wi->max_us);
                tmax = fmax(tmax, (wi->t_ms + (isfinite(ok[i]->window_ms) ? ok[i]->window_ms : 100)) / 1000);
                nwin++;
            }
        if (nwin) {
            put(pg, "<h3>Latency over time at equal load</h3>\n<p>p99 and max of the answers "
                    "completing in each 100 ms, so that pauses show; Go's stop-the-world GC "
                    "pauses beside it.</p>\n<div class=\"grid small\">\n");
            for (int i = 0; i < nok; i++)
                if (ok[i]->nwindows > 0)
                    chart_windows(pg, ok[i], lo, hi, tmax);
            put(pg, "</div>\n");
        }
    }
    bool sweep = false;
    for (int i = 0; i < nok; i++)
        sweep |= ok[i]->nsweep > 0;
    if (sweep) {
        put(pg, "<h3>Latency against throughput</h3>\n<div class=\"grid\">\n");
        chart_sweep(pg, wl, ok, nok);
        put(pg, "</div>\n");
    }
    put(pg, "</section>\n");
}

/* ---- development figures ---- */

static void dev_section(page_t *pg)
{
    const figures_t *f = pg->f;
    int known = 0;
    for (int l = 0; l < LANG_N; l++)
        known += f->dev[l].known;
    if (!f->have_dev || !known)
        return;
    put(pg, "<section id=\"dev\">\n<h2>What each language costs to develop</h2>\n<p>A clean "
            "build (caches emptied, as in a new clone) and an incremental one (a line appended "
            "to echo's handler) of a copy of its sources, pinned; its binary as built and "
            "stripped; its dependencies; its code lines per workload and tier.</p>\n"
            "<div class=\"scroll\"><table class=\"dev\">\n<thead><tr><th>lang</th>"
            "<th>toolchain</th><th class=\"n\">clean build</th><th class=\"n\">incremental</th>"
            "<th class=\"n\">binary / stripped</th><th class=\"n\">deps direct / total</th>"
            "<th>code lines</th></tr></thead>\n<tbody>\n");
    for (int l = 0; l < LANG_N; l++) {
        const fig_dev_t *d = &f->dev[l];
        if (!d->known)
            continue;
        char a[32], b[32], t[96];
        putf(pg, "<tr data-lang=\"%s\"><td><span class=\"sw\" style=\"background-color:%s\">"
                 "</span>%s</td><td>", lang_names[l], lang_looks[l].colour, lang_names[l]);
        esc(pg, d->toolchain);
        put(pg, d->cached ? " <i>(cached)</i>" : "");
        put(pg, "</td>");
        fmt_duration(a, sizeof a, d->clean_wall_s * 1e9);
        fmt_duration(b, sizeof b, d->clean_cpu_s * 1e9);
        snprintf(t, sizeof t, "%s (CPU %s)", a, b);
        td_num(pg, "clean_wall_s", d->clean_wall_s, t);
        fmt_duration(a, sizeof a, d->incr_wall_s * 1e9);
        fmt_duration(b, sizeof b, d->incr_cpu_s * 1e9);
        snprintf(t, sizeof t, "%s (CPU %s)", a, b);
        td_num(pg, "incremental_wall_s", d->incr_wall_s, t);
        fmt_bytes(a, sizeof a, d->binary_bytes);
        fmt_bytes(b, sizeof b, d->stripped_bytes);
        snprintf(t, sizeof t, "%s / %s", a, b);
        td_num(pg, "binary_bytes", d->binary_bytes, t);
        if (isfinite(d->deps_direct))
            snprintf(t, sizeof t, "%.0f / %.0f", d->deps_direct, d->deps_total);
        else
            snprintf(t, sizeof t, "-");
        td_num(pg, "deps_total", d->deps_total, t);
        put(pg, "<td>");
        for (int k = 0; k < d->nloc; k++) {
            put(pg, k ? "; " : "");
            esc(pg, d->loc[k].workload);
            put(pg, " ");
            esc(pg, d->loc[k].tier);
            if (isfinite(d->loc[k].code))
                putf(pg, " %.0f", d->loc[k].code);
            else
                put(pg, " -");
        }
        if (isfinite(d->loc_shared))
            putf(pg, "%sshared %.0f", d->nloc ? "; " : "", d->loc_shared);
        put(pg, "</td></tr>\n");
    }
    put(pg, "</tbody></table></div>\n<div class=\"grid\">\n");
    /* the builds, then the sizes */
    for (int chart = 0; chart < 2; chart++) {
        svg_group_t g[LANG_N];
        char vals[LANG_N][2][32], titles[LANG_N][2][96];
        int n = 0;
        double max = 0;
        for (int l = 0; l < LANG_N; l++) {
            const fig_dev_t *d = &f->dev[l];
            if (!d->known)
                continue;
            svg_group_t *gr = &g[n++];
            memset(gr, 0, sizeof *gr);
            gr->label = lang_names[l];
            gr->id = lang_names[l];
            double v[2] = {chart ? d->stripped_bytes / 1048576 : d->clean_wall_s,
                           chart ? d->binary_bytes / 1048576 : d->incr_wall_s};
            static const char *const what[2][2] = {{"clean build", "incremental build"},
                                                   {"stripped", "as built"}};
            for (int k = 0; k < 2; k++) {
                if (chart)
                    fmt_bytes(vals[l][k], sizeof vals[l][k], v[k] * 1048576);
                else
                    fmt_duration(vals[l][k], sizeof vals[l][k], v[k] * 1e9);
                snprintf(titles[l][k], sizeof titles[l][k], "%s: %s %s", lang_names[l],
                         what[chart][k], vals[l][k]);
                svg_seg_t s = {.v = v[k], .fill = lang_looks[l].colour, .hollow = k == 1};
                gr->bar[k] = (svg_bar_t){.seg = {s}, .nseg = 1, .value = vals[l][k],
                                         .title = titles[l][k]};
                if (isfinite(v[k]))
                    max = fmax(max, v[k]);
            }
            gr->nbar = 2;
        }
        figure_open(pg);
        svg_chart_t ch;
        svg_begin(&ch, pg->b, chart ? "dev-size" : "dev-build",
                  chart ? "binary size, stripped and as built" : "build time, clean and incremental",
                  CW, CH);
        static const svg_seg_t solid = {.v = 1, .fill = "#666666"},
                               hollow = {.v = 1, .fill = "#666666", .hollow = true};
        const svg_key_t k[] = {{chart ? "stripped" : "clean build", NULL, &solid},
                               {chart ? "as built" : "incremental", NULL, &hollow}};
        svg_legend(&ch, k, 2);
        bar_y(&ch, max, chart ? axis_mib : axis_s, chart ? "binary" : "wall time");
        svg_bars(&ch, g, n);
        svg_end(&ch);
        figure_close(pg, chart ? "The service binary: stripped (solid) and as built (outline)."
                               : "Wall time of a clean build (solid) and of an incremental one "
                                 "(outline).");
    }
    put(pg, "</div>\n</section>\n");
}

/* ---- the verdict and the claims ---- */

static void verdict_section(page_t *pg)
{
    const decision_t *d = pg->d;
    put(pg, "<section id=\"verdict\">\n<h2>The verdict</h2>\n<p>For the profile &ldquo;");
    esc(pg, d->p.name);
    put(pg, "&rdquo; (<code>");
    esc(pg, pg->profile_path ? pg->profile_path : "examples/profile.yaml");
    putf(pg, "</code>): p99 SLO %g ms, %.0f req/s, %s, budget %s; priced on ", d->p.p99_slo_ms,
         d->traffic, d->p.always_on ? "24/7" : "not 24/7", budget_names[d->p.budget]);
    esc(pg, d->type ? d->type->name : "?");
    if (d->type)
        putf(pg, " (%d vCPU, $%.4f an hour) at %.0f %% CPU, %.0f hours a month", d->type->vcpu,
             d->type->usd_per_hour, 100 * d->p.headroom, d->prices.hours_per_month);
    put(pg, ". A language's figures are its idiomatic tier's. <code>stackbench verdict</code> "
            "gives the same.</p>\n");
    if (d->nv == 0)
        put(pg, "<p class=\"missing\">No workload to decide.</p>\n");
    for (int i = 0; i < d->nv; i++) {
        const verdict_t *v = &d->v[i];
        put(pg, "<div class=\"verdict\" data-workload=\"");
        esc(pg, v->workload);
        put(pg, "\"><h3>");
        esc(pg, v->workload);
        put(pg, ": ");
        put(pg, v->pick >= 0 ? lang_names[v->pick] : "no pick");
        if (v->runner_up >= 0) {
            put(pg, ", then ");
            put(pg, lang_names[v->runner_up]);
        }
        put(pg, "</h3>\n<p class=\"scores\">points:");
        for (int l = 0; l < LANG_N; l++)
            putf(pg, "%s %s %d%s", l ? "," : "", lang_names[l], v->score[l],
                 v->candidate[l] ? "" : " (out)");
        put(pg, "</p>\n<ul class=\"reasons\">\n");
        for (int r = 0; r < v->nreasons; r++) {
            const reason_t *re = &v->reasons[r];
            char mark[16];
            if (re->rules_out)
                snprintf(mark, sizeof mark, "&times;");
            else if (re->points > 0)
                snprintf(mark, sizeof mark, "+%d", re->points);
            else
                snprintf(mark, sizeof mark, "&middot;");
            putf(pg, "<li><span class=\"mark\">%s</span>", mark);
            put(pg, re->lang >= 0 && re->lang < LANG_N ? lang_names[re->lang] : "?");
            put(pg, " <code>");
            esc(pg, re->rule);
            put(pg, "</code> ");
            esc(pg, re->text);
            put(pg, "</li>\n");
        }
        put(pg, "</ul>\n<table class=\"cost\"><thead><tr><th>lang</th><th>tier</th>"
                "<th class=\"n\">CPU/req</th><th class=\"n\">instances</th>"
                "<th class=\"n\">$ a month</th><th class=\"n\">vs go</th></tr></thead><tbody>\n");
        const vctx_t *c = &v->ctx;
        for (int l = 0; l < LANG_N; l++) {
            if (!c->cell[l])
                continue;
            char t[48];
            putf(pg, "<tr data-lang=\"%s\"><td>%s</td><td>", lang_names[l], lang_names[l]);
            esc(pg, c->cell[l]->tier);
            put(pg, "</td>");
            if (!c->have_cost[l]) {
                put(pg, "<td colspan=\"4\" class=\"missing\">not measured</td></tr>\n");
                continue;
            }
            us_txt(t, sizeof t, fig_cpu_us(c->cell[l]));
            td_num(pg, "cpu", fig_cpu_us(c->cell[l]), t);
            snprintf(t, sizeof t, "%d", c->cost[l].instances);
            td_num(pg, "instances", c->cost[l].instances, t);
            snprintf(t, sizeof t, "$%.0f", c->cost[l].usd_month);
            td_num(pg, "usd_month", c->cost[l].usd_month, t);
            double vs = -100 * cost_saving(&c->cost[LANG_GO], &c->cost[l]);
            if (c->have_cost[LANG_GO] && l != LANG_GO && fabs(vs) < 0.5)
                snprintf(t, sizeof t, "0 %%");
            else if (c->have_cost[LANG_GO] && l != LANG_GO)
                snprintf(t, sizeof t, "%+.0f %%", vs);
            else
                snprintf(t, sizeof t, "-");
            td_num(pg, "vs_go", NAN, t);
            put(pg, "</tr>\n");
        }
        put(pg, "</tbody></table></div>\n");
    }
    put(pg, "</section>\n");
}

static void claims_section(page_t *pg)
{
    const decision_t *d = pg->d;
    static const char *const cls[4] = {"confirmed", "refuted", "differs", "not-measurable"};
    put(pg, "<section id=\"claims\">\n<h2>The published claims, checked</h2>\n<p>Against the "
            "idiomatic tier (the posts measured frameworks); <code>stackbench claims</code> "
            "gives the same.</p>\n<div class=\"scroll\"><table class=\"claims\">\n<thead><tr>"
            "<th>they say</th><th>we measured</th><th>verdict</th></tr></thead>\n<tbody>\n");
    for (int i = 0; i < d->nclaims; i++) {
        const claim_t *c = &d->claims[i];
        put(pg, "<tr data-claim=\"");
        esc(pg, c->id);
        put(pg, "\"><td>");
        esc(pg, c->they_say);
        put(pg, "</td><td>");
        esc(pg, c->measured[0] ? c->measured : "-");
        putf(pg, "</td><td><span class=\"word %s\">%s</span>", cls[c->word], claim_words[c->word]);
        if (c->detail[0]) {
            put(pg, " ");
            esc(pg, c->detail);
        }
        put(pg, "</td></tr>\n");
    }
    put(pg, "</tbody></table></div>\n</section>\n");
}

/* ---- CPU profiles (run --cpu-profile) ---- */

/* A cell's top functions and its flame graph, drawn again from its stacks.folded (so that the
 * page's graphs have ids of their own). */
static void profile_cell(page_t *pg, const fig_cell_t *c)
{
    char key[160], label[96];
    key_of(c, key, sizeof key);
    fig_label(c, label, sizeof label);
    put(pg, "<div class=\"profile\" data-cell=\"");
    esc(pg, key);
    put(pg, "\">\n<h3>");
    esc(pg, c->workload);
    put(pg, " &middot; ");
    esc(pg, label);
    put(pg, "</h3>\n");
    if (!c->prof_ran) {
        put(pg, "<p class=\"reason\">not profiled: ");
        esc(pg, c->prof_reason[0] ? c->prof_reason : "no profile");
        put(pg, "</p>\n</div>\n");
        return;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/stacks.folded", pg->f->dir, c->prof_dir);
    buf_t text = BUF_INIT;
    prof_t p = {0};
    char err[512] = "";
    int rc = buf_read_file(&text, path);
    if (rc)
        snprintf(err, sizeof err, "%.400s: %s", path, strerror(-rc));
    else
        rc = prof_read_folded(buf_start(&text), buf_size(&text), &p, err, sizeof err);
    p.unwind = !strcmp(c->prof_unwind, "fp") ? PROF_UNWIND_FP : PROF_UNWIND_DWARF;
    put(pg, "<div class=\"scroll\"><table class=\"top\">\n<thead><tr><th class=\"n\">self</th>"
            "<th>function</th></tr></thead>\n<tbody>\n");
    for (int i = 0; i < c->prof_ntop; i++) {
        putf(pg, "<tr><td class=\"n\" data-k=\"self_pct\" data-v=\"%.2f\">%.1f %%</td><td><code>",
             c->prof_top[i].self_pct, c->prof_top[i].self_pct);
        esc(pg, c->prof_top[i].function);
        put(pg, "</code></td></tr>\n");
    }
    put(pg, "</tbody></table></div>\n");
    if (rc) {
        put(pg, "<p class=\"reason\">no flame graph: ");
        esc(pg, err);
        put(pg, "</p>\n");
    } else {
        char name[200], title[200];
        snprintf(name, sizeof name, "flame-%s-%s-%s", c->workload, c->name, c->tier);
        snprintf(title, sizeof title, "%s · %s: CPU while measured", c->workload, label);
        figure_open(pg);
        flame_svg(pg->b, &p, name, title, 1100);
        put(pg, "<figcaption>");
        putf(pg, "%.0f samples of its threads at 997 Hz during the measured run; ", c->prof_samples);
        put(pg, "hover a frame for its name and share. Files: <code>");
        esc(pg, c->prof_dir);
        put(pg, "/flamegraph.svg</code>, <code>profile.pb.gz</code> (go tool pprof).</figcaption>"
                "</figure>\n");
    }
    prof_free(&p);
    buf_free(&text);
    put(pg, "</div>\n");
}

static void profiles_section(page_t *pg)
{
    bool any = false;
    for (int i = 0; i < pg->f->n; i++)
        any |= pg->f->cells[i].prof_asked;
    if (!any)
        return;
    put(pg, "<section id=\"profiles\">\n<h2>Where the CPU goes</h2>\n<p>Each service's CPU "
            "during its measured run, sampled by perf (<code>--cpu-profile</code>): the "
            "functions with the most samples of their own, and a flame graph (a frame's width "
            "is its share of the samples, its callers under it). Kernel functions end in "
            "<code>_[k]</code>.</p>\n");
    for (int i = 0; i < pg->f->n; i++)
        if (pg->f->cells[i].prof_asked)
            profile_cell(pg, &pg->f->cells[i]);
    put(pg, "</section>\n");
}

void html_page(buf_t *out, const decision_t *d, const char *profile_path)
{
    page_t pg; /* its workload and user lists point into d */
    memset(&pg, 0, sizeof pg);
    pg.b = out;
    pg.d = d;
    pg.f = &d->f;
    pg.profile_path = profile_path;
    collect(&pg);
    head(&pg);
    header(&pg);
    cells_table(&pg);
    for (int w = 0; w < pg.nwl; w++)
        workload_section(&pg, w);
    profiles_section(&pg);
    dev_section(&pg);
    verdict_section(&pg);
    claims_section(&pg);
    put(&pg, "<footer>Written by stackbench ");
    esc(&pg, pg.f->version);
    put(&pg, " from <code>");
    esc(&pg, pg.f->dir);
    put(&pg, "/results.json</code>. One file: no script, no font, image or style from "
             "elsewhere; it opens offline and prints.</footer>\n</main>\n</body>\n</html>\n");
}
