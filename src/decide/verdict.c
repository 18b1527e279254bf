/* verdict: the context, the pick, and the verdict for people and programs (verdict.h). The
 * rules themselves are in rules.c. */
#include "decide/verdict.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

void verdict_context(vctx_t *c, const figures_t *f, const profile_t *p, const price_t *type,
                     double hours_per_month, double traffic_rps, const char *workload)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    c->p = p;
    c->type = type;
    c->hours_per_month = hours_per_month;
    c->traffic_rps = traffic_rps;
    c->workload = workload;
    for (int l = 0; l < LANG_N; l++) {
        const fig_cell_t *cell = figures_cell(f, workload, l, "idiomatic");
        c->cell[l] = cell ? cell : figures_cell(f, workload, l, NULL);
        if (c->cell[l] && c->cell[l]->ok)
            c->have_cost[l] = cost_compute(type, p->headroom, hours_per_month, traffic_rps,
                                           fig_cpu_us(c->cell[l]), c->cell[l]->rss_peak_kib,
                                           &c->cost[l]) == 0;
    }
}

static void add(verdict_t *v, const char *rule, int lang, int points, const char *fmt,
                va_list ap)
{
    if (v->nreasons == VERDICT_MAX_REASONS)
        return;
    reason_t *r = &v->reasons[v->nreasons++];
    r->rule = rule;
    r->lang = lang;
    r->points = points;
    vsnprintf(r->text, sizeof r->text, fmt, ap);
}

void verdict_reason(verdict_t *v, const char *rule, int lang, int points, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(v, rule, lang, points, fmt, ap);
    va_end(ap);
    if (lang >= 0 && lang < LANG_N)
        v->score[lang] += points;
}

void verdict_rule_out(verdict_t *v, const char *rule, int lang, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(v, rule, lang, 0, fmt, ap);
    va_end(ap);
    if (v->nreasons > 0 && v->reasons[v->nreasons - 1].lang == lang)
        v->reasons[v->nreasons - 1].rules_out = true;
    v->candidate[lang] = false;
}

/* a before b: more points, then cheaper, then Go. */
static bool better(const verdict_t *v, int a, int b)
{
    if (v->score[a] != v->score[b])
        return v->score[a] > v->score[b];
    const vctx_t *c = &v->ctx;
    if (c->have_cost[a] && c->have_cost[b] && c->cost[a].usd_month != c->cost[b].usd_month)
        return c->cost[a].usd_month < c->cost[b].usd_month;
    return a == LANG_GO;
}

void verdict_decide(const vctx_t *c, verdict_t *v)
{
    memset(v, 0, sizeof *v);
    v->ctx = *c;
    snprintf(v->workload, sizeof v->workload, "%s", c->workload);
    for (int l = 0; l < LANG_N; l++)
        v->candidate[l] = true;
    for (int i = 0; i < verdict_nrules; i++)
        verdict_rules[i].apply(&v->ctx, v);
    v->pick = v->runner_up = -1;
    for (int l = 0; l < LANG_N; l++) {
        if (!v->candidate[l])
            continue;
        if (v->pick < 0 || better(v, l, v->pick)) {
            v->runner_up = v->pick;
            v->pick = l;
        } else if (v->runner_up < 0 || better(v, l, v->runner_up)) {
            v->runner_up = l;
        }
    }
}

static const char *name_of(int l) { return l >= 0 && l < LANG_N ? lang_names[l] : "none"; }

void verdict_print(FILE *out, const verdict_t *v)
{
    if (v->pick < 0)
        fprintf(out, "%-6s no language can be recommended: each is ruled out\n", v->workload);
    else if (v->runner_up < 0)
        fprintf(out, "%-6s %s (no runner-up)\n", v->workload, name_of(v->pick));
    else
        fprintf(out, "%-6s %s, then %s (points %d to %d)\n", v->workload, name_of(v->pick),
                name_of(v->runner_up), v->score[v->pick], v->score[v->runner_up]);
    for (int i = 0; i < v->nreasons; i++) {
        const reason_t *r = &v->reasons[i];
        char mark[16];
        if (r->points > 0)
            snprintf(mark, sizeof mark, "+%d", r->points);
        else
            snprintf(mark, sizeof mark, "%s", r->rules_out ? "x" : "");
        fprintf(out, "       %-2s %-5s %-16s %s\n", mark, name_of(r->lang), r->rule, r->text);
    }
}

void verdict_json(jsonw_t *w, const verdict_t *v)
{
    const vctx_t *c = &v->ctx;
    jsonw_obj_begin(w);
    jsonw_key(w, "workload");
    jsonw_str(w, v->workload);
    jsonw_key(w, "pick");
    v->pick >= 0 ? jsonw_str(w, name_of(v->pick)) : jsonw_null(w);
    jsonw_key(w, "runner_up");
    v->runner_up >= 0 ? jsonw_str(w, name_of(v->runner_up)) : jsonw_null(w);
    jsonw_key(w, "langs");
    jsonw_arr_begin(w);
    for (int l = 0; l < LANG_N; l++) {
        jsonw_obj_begin(w);
        jsonw_key(w, "lang");
        jsonw_str(w, lang_names[l]);
        jsonw_key(w, "tier");
        c->cell[l] ? jsonw_str(w, c->cell[l]->tier) : jsonw_null(w);
        jsonw_key(w, "candidate");
        jsonw_bool(w, v->candidate[l]);
        jsonw_key(w, "points");
        jsonw_int(w, v->score[l]);
        jsonw_key(w, "cpu_us_per_req");
        c->have_cost[l] ? jsonw_double(w, fig_cpu_us(c->cell[l]), 3) : jsonw_null(w);
        jsonw_key(w, "instances");
        c->have_cost[l] ? jsonw_int(w, c->cost[l].instances) : jsonw_null(w);
        jsonw_key(w, "usd_month");
        c->have_cost[l] ? jsonw_double(w, c->cost[l].usd_month, 2) : jsonw_null(w);
        jsonw_key(w, "saving_vs_go");
        c->have_cost[l] && c->have_cost[LANG_GO]
            ? jsonw_double(w, cost_saving(&c->cost[LANG_GO], &c->cost[l]), 4)
            : jsonw_null(w);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_key(w, "reasons");
    jsonw_arr_begin(w);
    for (int i = 0; i < v->nreasons; i++) {
        const reason_t *r = &v->reasons[i];
        jsonw_obj_begin(w);
        jsonw_key(w, "rule");
        jsonw_str(w, r->rule);
        jsonw_key(w, "lang");
        jsonw_str(w, name_of(r->lang));
        jsonw_key(w, "points");
        jsonw_int(w, r->points);
        jsonw_key(w, "rules_out");
        jsonw_bool(w, r->rules_out);
        jsonw_key(w, "text");
        jsonw_str(w, r->text);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
}

void verdict_print_costs(FILE *out, const verdict_t *v, int n)
{
    if (n == 0)
        return;
    const vctx_t *c0 = &v[0].ctx;
    fprintf(out, "%.0f req/s on %s (%d vCPU, $%.4f/h), CPU at most %.0f %%, %.0f h a month\n",
            c0->traffic_rps, c0->type->name, c0->type->vcpu, c0->type->usd_per_hour,
            c0->p->headroom * 100, c0->hours_per_month);
    fprintf(out, "%-8s  %-4s  %-9s  %10s  %9s  %10s  %6s\n", "workload", "lang", "tier",
            "CPU µs/req", "instances", "$/month", "vs go");
    for (int i = 0; i < n; i++) {
        const vctx_t *c = &v[i].ctx;
        for (int l = 0; l < LANG_N; l++) {
            if (!c->cell[l])
                continue;
            if (!c->have_cost[l]) {
                fprintf(out, "%-8s  %-4s  %-9s  not measured: %s\n", c->workload, lang_names[l],
                        c->cell[l]->tier, c->cell[l]->reason[0] ? c->cell[l]->reason : "no figure");
                continue;
            }
            char vs[16] = "";
            double d = -100 * cost_saving(&c->cost[LANG_GO], &c->cost[l]);
            if (l != LANG_GO && c->have_cost[LANG_GO])
                snprintf(vs, sizeof vs, fabs(d) < 0.5 ? "0 %%" : "%+.0f %%", d);
            fprintf(out, "%-8s  %-4s  %-9s  %10.1f  %9d  %10.0f", c->workload, lang_names[l],
                    c->cell[l]->tier, fig_cpu_us(c->cell[l]), c->cost[l].instances,
                    c->cost[l].usd_month);
            if (*vs)
                fprintf(out, "  %6s", vs);
            fputc('\n', out);
        }
    }
}
