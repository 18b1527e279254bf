/* claims: the published claims as a table, each checked against a run (claims.h). */
#include "decide/claims.h"

#include <math.h>
#include <string.h>

const char *const claim_words[4] = {"confirmed", "refuted", "differs", "not measurable here"};

#define GAP_TOLERANCE 1.5     /* a measured gap within ×1.5 of the claimed one confirms it */
#define NO_GAP 0.05           /* under 5 %: no gap at all */

claim_word_t claim_judge_gap(double claimed, double measured, double *factor)
{
    *factor = measured / claimed;
    if (fabs(measured) < NO_GAP || (measured > 0) != (claimed > 0))
        return CLAIM_REFUTED;
    if (*factor >= 1 / GAP_TOLERANCE && *factor <= GAP_TOLERANCE)
        return CLAIM_CONFIRMED;
    return CLAIM_DIFFERS;
}

claim_word_t claim_judge_range(double lo, double hi, double none, double measured,
                               double *factor)
{
    *factor = measured < lo ? measured / lo : measured > hi ? measured / hi : 1;
    if (measured <= none)
        return CLAIM_REFUTED;
    return measured >= lo && measured <= hi ? CLAIM_CONFIRMED : CLAIM_DIFFERS;
}

static const fig_cell_t *idiomatic(const figures_t *f, const char *workload, int lang)
{
    const fig_cell_t *c = figures_cell(f, workload, lang, "idiomatic");
    return c && c->ok ? c : NULL;
}

/* Both cells of a Rust-over-Go comparison, or "not measurable" with why. */
static bool pair(const figures_t *f, const char *workload, claim_t *c, const fig_cell_t **r,
                 const fig_cell_t **g)
{
    *r = idiomatic(f, workload, LANG_RUST);
    *g = idiomatic(f, workload, LANG_GO);
    if (*r && *g)
        return true;
    c->word = CLAIM_NOT_MEASURABLE;
    const fig_cell_t *any = figures_cell(f, workload, *r ? LANG_GO : LANG_RUST, "idiomatic");
    snprintf(c->detail, sizeof c->detail, "%s", !any ? "the workload is not in this run"
                                                     : "a cell failed in this run");
    if (!any && !strcmp(workload, "grpc"))
        snprintf(c->detail, sizeof c->detail, "no grpc cells in this run");
    return false;
}

/* differs: by how much, against the claimed gap or the nearer bound of the claimed range. */
static void word_detail(claim_t *c, double factor, bool range)
{
    if (c->word == CLAIM_DIFFERS)
        snprintf(c->detail, sizeof c->detail, "×%.2f %s", factor,
                 !range ? "the claimed gap" : factor < 1 ? "the range's low end"
                                                         : "the range's high end");
}

/* "Rust +P % req/s over Go" on a workload; per CPU too when they quote absolute figures. */
static void rps_gap(const figures_t *f, claim_t *c, const char *workload, double claimed,
                    double their_go, double their_rust, int their_cpus)
{
    const fig_cell_t *r, *g;
    if (!pair(f, workload, c, &r, &g))
        return;
    double gap = r->rps / g->rps - 1, factor;
    size_t k = (size_t)snprintf(c->measured, sizeof c->measured,
                                "rust %.0f req/s, go %.0f: %+.0f %%", r->rps, g->rps, 100 * gap);
    if (their_go > 0 && f->service_cpus > 0)
        snprintf(c->measured + k, sizeof c->measured - k,
                 "; per CPU rust %.0f, go %.0f (theirs on %d vCPU: %.0f, %.0f)",
                 r->rps / f->service_cpus, g->rps / f->service_cpus, their_cpus,
                 their_rust / their_cpus, their_go / their_cpus);
    c->word = claim_judge_gap(claimed, gap, &factor);
    word_detail(c, factor, false);
}

static void check(const figures_t *f, const char *id, claim_t *c)
{
    double factor;
    const fig_cell_t *r, *g;
    if (!strcmp(id, "echo_rust_over_go")) {
        rps_gap(f, c, "echo", 0.26, 0, 0, 0);
    } else if (!strcmp(id, "sql_rust_over_go")) {
        rps_gap(f, c, "sql", 0.11, 0, 0, 0);
    } else if (!strcmp(id, "csv_rust_over_go")) {
        rps_gap(f, c, "csv", 2.71, 0, 0, 0);
    } else if (!strcmp(id, "grpc_rust_over_go")) {
        rps_gap(f, c, "grpc", 0.29, 85000, 110000, 16);
    } else if (!strcmp(id, "cpu_bound_1_5_to_4x")) {
        if (!pair(f, "csv", c, &r, &g))
            return;
        double ratio = r->rps / g->rps;
        snprintf(c->measured, sizeof c->measured,
                 "csv: rust %.0f req/s, go %.0f: ×%.2f (CPU a request: go %.1f µs, rust %.1f)",
                 r->rps, g->rps, ratio, fig_cpu_us(g), fig_cpu_us(r));
        c->word = claim_judge_range(1.5, 4, 1 + NO_GAP, ratio, &factor);
        word_detail(c, factor, true);
    } else if (!strcmp(id, "io_bound_10_to_40")) {
        if (!pair(f, "sql", c, &r, &g))
            return;
        double gap = r->rps / g->rps - 1;
        snprintf(c->measured, sizeof c->measured, "sql: rust %.0f req/s, go %.0f: %+.0f %%",
                 r->rps, g->rps, 100 * gap);
        c->word = claim_judge_range(0.10, 0.40, NO_GAP, gap, &factor);
        word_detail(c, factor, true);
    } else if (!strcmp(id, "ram_30_to_60_less")) {
        static const char *const wls[] = {"echo", "csv", "sql", "grpc"};
        double sum = 0;
        int n = 0;
        size_t k = 0;
        for (size_t i = 0; i < sizeof wls / sizeof wls[0]; i++) {
            r = idiomatic(f, wls[i], LANG_RUST);
            g = idiomatic(f, wls[i], LANG_GO);
            if (!r || !g || !(g->rss_peak_kib > 0))
                continue;
            double less = 1 - r->rss_peak_kib / g->rss_peak_kib;
            sum += less;
            n++;
            k += (size_t)snprintf(c->measured + k, sizeof c->measured - k,
                                  "%s%s %.1f vs %.1f MiB (%+.0f %%)", k ? ", " : "", wls[i],
                                  r->rss_peak_kib / 1024, g->rss_peak_kib / 1024, -100 * less);
            if (k >= sizeof c->measured)
                k = sizeof c->measured - 1;
        }
        if (n == 0) {
            c->word = CLAIM_NOT_MEASURABLE;
            snprintf(c->detail, sizeof c->detail, "no workload with both rust and go measured");
            return;
        }
        c->word = claim_judge_range(0.30, 0.60, 0, sum / n, &factor);
        if (c->word == CLAIM_DIFFERS)
            snprintf(c->detail, sizeof c->detail, "on average %.0f %% less", 100 * sum / n);
        else
            snprintf(c->detail, sizeof c->detail, "on average %.0f %% less (peak RSS)",
                     100 * sum / n);
    } else if (!strcmp(id, "build_times")) {
        const fig_dev_t *gd = &f->dev[LANG_GO], *rd = &f->dev[LANG_RUST];
        if (!gd->known || !rd->known || isnan(gd->clean_wall_s) || isnan(rd->clean_wall_s)) {
            c->word = CLAIM_NOT_MEASURABLE;
            snprintf(c->detail, sizeof c->detail, "build times were not measured in this run");
            return;
        }
        snprintf(c->measured, sizeof c->measured,
                 "clean builds: go %.1f s, rust %.1f s; after a one-line change %.1f s, %.1f s",
                 gd->clean_wall_s, rd->clean_wall_s, gd->incr_wall_s, rd->incr_wall_s);
        bool go_seconds = gd->clean_wall_s < 60;
        claim_word_t rw = claim_judge_range(30, 300, 0, rd->clean_wall_s, &factor);
        if (!go_seconds || rd->clean_wall_s <= gd->clean_wall_s) {
            c->word = CLAIM_REFUTED;
            snprintf(c->detail, sizeof c->detail, "%s",
                     !go_seconds ? "go's clean build is a minute or more, not seconds"
                                 : "rust's clean build is no slower than go's");
        } else {
            c->word = rw;
            if (rw == CLAIM_DIFFERS)
                snprintf(c->detail, sizeof c->detail, "rust's clean build ×%.2f %s", factor,
                         factor < 1 ? "the range's low end" : "the range's high end");
        }
    } else if (!strcmp(id, "binary_sizes")) {
        const fig_dev_t *gd = &f->dev[LANG_GO], *rd = &f->dev[LANG_RUST];
        if (!gd->known || !rd->known || !(gd->stripped_bytes > 0) || !(rd->stripped_bytes > 0)) {
            c->word = CLAIM_NOT_MEASURABLE;
            snprintf(c->detail, sizeof c->detail, "binary sizes were not measured in this run");
            return;
        }
        double ratio = rd->stripped_bytes / gd->stripped_bytes;
        snprintf(c->measured, sizeof c->measured,
                 "stripped: rust %.1f MiB, go %.1f MiB (rust ×%.2f of go)",
                 rd->stripped_bytes / 1048576, gd->stripped_bytes / 1048576, ratio);
        c->word = ratio <= 1 - NO_GAP ? CLAIM_CONFIRMED : CLAIM_REFUTED;
    } else if (!strcmp(id, "gc_pauses_p99")) {
        static const char *const wls[] = {"echo", "csv", "sql", "grpc"};
        /* The workload where Go's tail is furthest above Rust's at equal load. */
        const fig_cell_t *wg = NULL, *wr = NULL;
        for (size_t i = 0; i < sizeof wls / sizeof wls[0]; i++) {
            r = idiomatic(f, wls[i], LANG_RUST);
            g = idiomatic(f, wls[i], LANG_GO);
            if (!r || !g || !r->eq_ran || !g->eq_ran || isnan(g->eq_p99_us) ||
                isnan(r->eq_p99_us))
                continue;
            if (!wg || g->eq_p99_us / r->eq_p99_us > wg->eq_p99_us / wr->eq_p99_us)
                wg = g, wr = r;
        }
        if (!wg) {
            c->word = CLAIM_NOT_MEASURABLE;
            snprintf(c->detail, sizeof c->detail, "no equal-load figures in this run");
            return;
        }
        double pause = wg->gc_pause_p99_us;
        size_t k = (size_t)snprintf(c->measured, sizeof c->measured,
                                    "%s at %.0f req/s: p99 go %.2f ms, rust %.2f ms", wg->workload,
                                    wg->eq_rate, wg->eq_p99_us / 1000, wr->eq_p99_us / 1000);
        snprintf(c->measured + k, sizeof c->measured - k,
                 isnan(pause) ? "; no GC pause reported" : "; go's p99 GC pause %.3f ms",
                 pause / 1000);
        bool tail = wg->eq_p99_us > 1.2 * wr->eq_p99_us;
        bool pauses = !isnan(pause) && pause >= 0.25 * wg->eq_p99_us;
        c->word = !tail ? CLAIM_REFUTED : pauses ? CLAIM_CONFIRMED : CLAIM_DIFFERS;
        if (c->word == CLAIM_DIFFERS)
            snprintf(c->detail, sizeof c->detail,
                     "go's tail is higher, but its pauses are under a quarter of it");
    }
}

static const struct {
    const char *id, *they_say, *never; /* never: why no machine can measure it, or NULL */
} table[] = {
    {"echo_rust_over_go", "JSON echo: Rust +26 % req/s over Go", NULL},
    {"sql_rust_over_go", "SQL API: Rust +11 % req/s over Go", NULL},
    {"csv_rust_over_go", "CSV parsing: Rust +271 % req/s over Go", NULL},
    {"grpc_rust_over_go", "gRPC streaming: Go ~85k, Rust ~110k req/s on 16 vCPU (+29 %)", NULL},
    {"cpu_bound_1_5_to_4x", "Rust is 1.5-4x Go on CPU-bound code", NULL},
    {"io_bound_10_to_40", "Rust is 10-40 % faster on IO-bound HTTP", NULL},
    {"ram_30_to_60_less", "Rust uses 30-60 % less RAM", NULL},
    {"build_times", "Go builds in seconds, Rust in 30 s to 5 min", NULL},
    {"binary_sizes", "Rust's binaries are smaller than Go's", NULL},
    {"gc_pauses_p99", "Go's GC pauses show at P99", NULL},
    {"ship_3x_faster", "Go ships features three times faster",
     "time to ship a feature is the team's, not the machine's"},
    {"hot_20_to_rust", "move the hot 20 % to Rust",
     "a plan, not a figure: stackbench decide answers it for a mesh"},
    {"moved_8_of_40", "one team moved 8 of 40 services and cut its bill by 22 %",
     "their bill: stackbench decide examples/mesh-40.yaml tells what these figures say"},
};

int claims_check(const figures_t *f, claim_t *out, int max)
{
    int n = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0] && n < max; i++) {
        claim_t *c = &out[n++];
        memset(c, 0, sizeof *c);
        c->id = table[i].id;
        c->they_say = table[i].they_say;
        if (table[i].never) {
            c->word = CLAIM_NOT_MEASURABLE;
            snprintf(c->detail, sizeof c->detail, "%s", table[i].never);
            continue;
        }
        check(f, c->id, c);
    }
    return n;
}

void claims_print(FILE *out, const claim_t *c, int n)
{
    for (int i = 0; i < n; i++) {
        fprintf(out, "%-19s  %s\n", claim_words[c[i].word], c[i].they_say);
        if (c[i].measured[0] && c[i].detail[0])
            fprintf(out, "%-19s  %s (%s)\n", "", c[i].measured, c[i].detail);
        else if (c[i].measured[0] || c[i].detail[0])
            fprintf(out, "%-19s  %s\n", "", c[i].measured[0] ? c[i].measured : c[i].detail);
    }
}

void claims_md(buf_t *out, const claim_t *c, int n)
{
    buf_puts(out, "| they say | we measured | verdict |\n|---|---|---|\n");
    for (int i = 0; i < n; i++)
        buf_printf(out, "| %s | %s | %s%s%s%s |\n", c[i].they_say,
                   c[i].measured[0] ? c[i].measured : "-", claim_words[c[i].word],
                   c[i].detail[0] ? " (" : "", c[i].detail, c[i].detail[0] ? ")" : "");
}

void claims_json(jsonw_t *w, const claim_t *c, int n)
{
    jsonw_arr_begin(w);
    for (int i = 0; i < n; i++) {
        jsonw_obj_begin(w);
        jsonw_key(w, "id");
        jsonw_str(w, c[i].id);
        jsonw_key(w, "they_say");
        jsonw_str(w, c[i].they_say);
        jsonw_key(w, "verdict");
        jsonw_str(w, claim_words[c[i].word]);
        jsonw_key(w, "measured");
        c[i].measured[0] ? jsonw_str(w, c[i].measured) : jsonw_null(w);
        jsonw_key(w, "detail");
        jsonw_str(w, c[i].detail);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}
