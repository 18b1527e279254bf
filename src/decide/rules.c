/* rules: the checklist the posts end with, as a table (verdict.h). Each rule reads measured
 * figures and profile values; the text it leaves names both, so that a reader can check the
 * arithmetic. Points are weights, not measurements: 2 for a rule about what the service must
 * do (CPU, tail, bill), 1 for one about the team's comfort. Thresholds are named below. */
#include "decide/verdict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CPU_BOUND_RATIO 1.5    /* the posts' "1.5–4× on CPU-bound code": from 1.5× on */
#define TAIL_MARGIN 0.5        /* p99 at equal load over half the SLO: no room for a bad day */
#define GC_SHARE 0.25          /* a GC pause a quarter of the SLO shows at p99 */
#define DEADLINE_WEEKS 4       /* "juniors must ship in week one": a deadline this short */
#define HIRES_PER_QUARTER 2    /* or this many new people a quarter */

double verdict_saving_needed(budget_t b)
{
    static const double need[3] = {0.40, 0.20, 0.10};
    return need[b];
}

static const char *L(int l) { return lang_names[l]; }

/* "0.42 ms", "4.1 ms", "120 ms". */
static const char *ms(char *out, double us)
{
    double m = us / 1000;
    snprintf(out, 16, m < 1 ? "%.2f ms" : m < 100 ? "%.1f ms" : "%.0f ms", m);
    return out;
}

static bool usable(const vctx_t *c, int l) { return c->cell[l] && c->cell[l]->ok; }

/* The languages measured against Go: Rust always, C when the team writes production C. */
static bool challenger(const vctx_t *c, const verdict_t *v, int l)
{
    return l != LANG_GO && v->candidate[l] && usable(c, l) && (l != LANG_C || c->p->production_c);
}

static void rule_measured(const vctx_t *c, verdict_t *v)
{
    for (int l = 0; l < LANG_N; l++) {
        const fig_cell_t *cell = c->cell[l];
        if (!cell)
            verdict_rule_out(v, "measured", l, "%s: no %s cell in this run", L(l), c->workload);
        else if (!cell->ok)
            verdict_rule_out(v, "measured", l, "%s %s: not measured (%s)", L(l), cell->tier,
                             cell->reason[0] ? cell->reason : "the cell failed");
        else if (cell->load_bound)
            verdict_reason(v, "measured", l, 0,
                           "%s %s: the load engine was the limit, its req/s is a floor", L(l),
                           cell->tier);
    }
}

/* C's fastest tier: the ceiling is what the machine can do, whichever strategy does it. */
static const fig_cell_t *c_best(const vctx_t *c)
{
    const fig_cell_t *best = NULL;
    for (int i = 0; i < c->f->n; i++) {
        const fig_cell_t *x = &c->f->cells[i];
        if (x->lang == LANG_C && x->ok && !strcmp(x->workload, c->workload) &&
            (!best || x->rps > best->rps))
            best = x;
    }
    return best;
}

static void rule_ceiling(const vctx_t *c, verdict_t *v)
{
    const fig_cell_t *cc = c_best(c), *r = c->cell[LANG_RUST];
    if (c->p->production_c || !cc)
        return;
    if (usable(c, LANG_RUST))
        verdict_rule_out(v, "ceiling", LANG_C,
                         "the ceiling (team.production_c false): c %s %.0f req/s at %.1f µs CPU "
                         "a request, %+.0f %% req/s against rust %s",
                         cc->tier, cc->rps, fig_cpu_us(cc), 100 * (cc->rps / r->rps - 1), r->tier);
    else
        verdict_rule_out(v, "ceiling", LANG_C,
                         "the ceiling (team.production_c false): c %s %.0f req/s at %.1f µs CPU "
                         "a request",
                         cc->tier, cc->rps, fig_cpu_us(cc));
}

static void rule_slo(const vctx_t *c, verdict_t *v)
{
    double slo_us = c->p->p99_slo_ms * 1000;
    if (!(slo_us > 0))
        return;
    for (int l = 0; l < LANG_N; l++) {
        if (!v->candidate[l] || !usable(c, l))
            continue;
        const fig_cell_t *cell = c->cell[l];
        char a[16], b[16];
        if (!cell->eq_ran || isnan(cell->eq_p99_us)) {
            verdict_reason(v, "slo", l, 0,
                           "%s: p99 at equal load not measured, the %s SLO is not checked",
                           L(l), ms(b, slo_us));
            continue;
        }
        if (cell->eq_p99_us > slo_us)
            verdict_rule_out(v, "slo", l, "p99 at equal load (%.0f req/s): %s %s vs SLO %s: %s "
                                          "fails it",
                             cell->eq_rate, L(l), ms(a, cell->eq_p99_us), ms(b, slo_us), L(l));
    }
}

static void rule_p99_predictable(const vctx_t *c, verdict_t *v)
{
    double slo_us = c->p->p99_slo_ms * 1000;
    const fig_cell_t *g = c->cell[LANG_GO];
    if (!(slo_us > 0) || !usable(c, LANG_GO) || !g->eq_ran || isnan(g->eq_p99_us))
        return;
    char a[16], b[16], s[16];
    for (int l = 0; l < LANG_N; l++) {
        if (!challenger(c, v, l))
            continue;
        const fig_cell_t *x = c->cell[l];
        if (!x->eq_ran || isnan(x->eq_p99_us))
            continue;
        if (g->eq_p99_us > TAIL_MARGIN * slo_us && x->eq_p99_us <= TAIL_MARGIN * slo_us)
            verdict_reason(v, "p99_predictable", l, 2,
                           "p99 must hold: at equal load go %s is %.0f %% of the %s SLO, %s %s "
                           "%.0f %%",
                           ms(a, g->eq_p99_us), 100 * g->eq_p99_us / slo_us, ms(s, slo_us), L(l),
                           ms(b, x->eq_p99_us), 100 * x->eq_p99_us / slo_us);
        if (!isnan(g->gc_pause_p99_us) && g->gc_pause_p99_us >= GC_SHARE * slo_us)
            verdict_reason(v, "p99_predictable", l, 1,
                           "GC: go's p99 stop-the-world pause %s is %.0f %% of the %s SLO",
                           ms(a, g->gc_pause_p99_us), 100 * g->gc_pause_p99_us / slo_us,
                           ms(s, slo_us));
    }
}

static void rule_cpu_bound(const vctx_t *c, verdict_t *v)
{
    if (!usable(c, LANG_GO))
        return;
    double go = fig_cpu_us(c->cell[LANG_GO]);
    for (int l = 0; l < LANG_N; l++) {
        if (!challenger(c, v, l))
            continue;
        double x = fig_cpu_us(c->cell[l]), ratio = go / x;
        if (ratio >= CPU_BOUND_RATIO)
            verdict_reason(v, "cpu_bound", l, 2,
                           "CPU-bound: a request costs go %.1f µs of CPU, %s %.1f µs (×%.2f)", go,
                           L(l), x, ratio);
        else
            verdict_reason(v, "cpu_bound", LANG_GO, 1,
                           "plain HTTP, within ×%.1f: a request costs go %.1f µs of CPU, %s %.1f µs (×%.2f)",
                           CPU_BOUND_RATIO, go, L(l), x, ratio);
    }
}

static void rule_bill(const vctx_t *c, verdict_t *v)
{
    if (!c->have_cost[LANG_GO])
        return;
    const cost_t *g = &c->cost[LANG_GO];
    double need = verdict_saving_needed(c->p->budget);
    for (int l = 0; l < LANG_N; l++) {
        if (!challenger(c, v, l) || !c->have_cost[l])
            continue;
        const cost_t *x = &c->cost[l];
        double saving = cost_saving(g, x);
        if (g->instances - x->instances < 1 || saving < need)
            continue;
        bool heavy = c->p->always_on && g->instances >= 2;
        verdict_reason(v, "heavy_24_7", l, heavy ? 2 : 1,
                       "%s%.0f req/s: go needs %d %s, %s %d (-$%.0f a month, -%.0f %%; cost.budget "
                       "%s counts from -%.0f %%)",
                       heavy ? "24/7 at " : "at ", c->traffic_rps, g->instances, c->type->name,
                       L(l), x->instances, g->usd_month - x->usd_month, 100 * saving,
                       budget_names[c->p->budget], 100 * need);
    }
}

static void rule_seniors(const vctx_t *c, verdict_t *v)
{
    const profile_t *p = c->p;
    for (int l = 0; l < LANG_N; l++) {
        if (!challenger(c, v, l))
            continue;
        if (p->seniors[l] >= 1) {
            verdict_reason(v, "senior", l, 1, "a %s senior on the team (team.seniors.%s %d)",
                           l == LANG_RUST ? "Rust" : "C", L(l), p->seniors[l]);
            continue;
        }
        if (p->skill[l] >= SKILL_MID)
            continue;
        double lx = fig_loc(&c->f->dev[l], c->workload, c->cell[l]->tier),
               lg = usable(c, LANG_GO) ? fig_loc(&c->f->dev[LANG_GO], c->workload,
                                                  c->cell[LANG_GO]->tier)
                                       : NAN;
        if (!isnan(lx) && !isnan(lg))
            verdict_reason(v, "senior", LANG_GO, 2,
                           "no %s senior (team.seniors.%s 0, team.languages.%s %s): nobody "
                           "reviews %s's %.0f code lines of %s (go: %.0f)",
                           L(l), L(l), L(l), skill_names[p->skill[l]], L(l), lx, c->workload, lg);
        else
            verdict_reason(v, "senior", LANG_GO, 2,
                           "no %s senior (team.seniors.%s 0, team.languages.%s %s): nobody "
                           "reviews the first %s service",
                           L(l), L(l), L(l), skill_names[p->skill[l]], L(l));
    }
}

static void rule_ship_fast(const vctx_t *c, verdict_t *v)
{
    const profile_t *p = c->p;
    bool short_deadline = p->deadline_weeks > 0 && p->deadline_weeks <= DEADLINE_WEEKS;
    bool hiring = p->hires_per_quarter >= HIRES_PER_QUARTER;
    if (!short_deadline && !hiring)
        return;
    char who[96];
    if (short_deadline && hiring)
        snprintf(who, sizeof who, "deadline %d weeks, %d hires a quarter", p->deadline_weeks,
                 p->hires_per_quarter);
    else if (short_deadline)
        snprintf(who, sizeof who, "deadline %d weeks", p->deadline_weeks);
    else
        snprintf(who, sizeof who, "%d hires a quarter", p->hires_per_quarter);
    const fig_dev_t *g = &c->f->dev[LANG_GO], *r = &c->f->dev[LANG_RUST];
    if (!g->known || !r->known || isnan(g->clean_wall_s) || isnan(r->clean_wall_s) ||
        isnan(g->incr_wall_s) || isnan(r->incr_wall_s)) {
        verdict_reason(v, "ship_fast", LANG_GO, 0,
                       "%s: not decided, build times were not measured in this run", who);
        return;
    }
    verdict_reason(v, "ship_fast", LANG_GO, 2,
                   "%s: go builds from clean in %.1f s, rust %.1f s; after a one-line change "
                   "%.1f s vs %.1f s",
                   who, g->clean_wall_s, r->clean_wall_s, g->incr_wall_s, r->incr_wall_s);
}

static void rule_team_knows(const vctx_t *c, verdict_t *v)
{
    /* Over every language of the workload, so that ruling Go out does not make Rust the one
     * the team "knows best". */
    const profile_t *p = c->p;
    int best = -1;
    bool tie = false;
    for (int l = 0; l < LANG_N; l++) {
        if (!c->cell[l] || (l == LANG_C && !p->production_c))
            continue;
        if (best < 0 || p->skill[l] > p->skill[best]) {
            best = l;
            tie = false;
        } else if (p->skill[l] == p->skill[best]) {
            tie = true;
        }
    }
    if (best < 0 || tie || p->skill[best] < SKILL_MID || !v->candidate[best])
        return;
    char all[96] = "";
    size_t k = 0;
    for (int l = 0; l < LANG_N; l++)
        if (c->cell[l] && (l != LANG_C || p->production_c) && k < sizeof all)
            k += (size_t)snprintf(all + k, sizeof all - k, "%s%s %s", k ? ", " : "", L(l),
                                  skill_names[p->skill[l]]);
    verdict_reason(v, "team_knows", best, 1, "the team knows %s best (team.languages: %s)",
                   L(best), all);
}

const rule_t verdict_rules[] = {
    {"measured", "a language whose cell failed or is missing is not guessed at", rule_measured},
    {"ceiling", "C is the ceiling, a candidate only when the team writes production C",
     rule_ceiling},
    {"slo", "p99 at equal load over the SLO rules a language out", rule_slo},
    {"p99_predictable", "P99 must be predictable: Go's tail near the SLO, or its GC pauses, "
                        "speak for Rust",
     rule_p99_predictable},
    {"cpu_bound", "CPU-bound (Go spends 1.5× the CPU or more): Rust; within 1.5× (plain "
                  "HTTP): Go",
     rule_cpu_bound},
    {"heavy_24_7", "24/7 heavy traffic: fewer instances pay (at least one, and the share "
                   "cost.budget asks for)",
     rule_bill},
    {"senior", "a Rust senior on the team speaks for Rust; none, for Go", rule_seniors},
    {"ship_fast", "juniors must ship in week one (short deadline, hiring): Go's build times",
     rule_ship_fast},
    {"team_knows", "the language the team knows best", rule_team_knows},
};
const int verdict_nrules = sizeof verdict_rules / sizeof verdict_rules[0];
