/* Tests for the decision (src/decide/): the cost arithmetic, each rule of the verdict, the
 * pick, the claims' verdict words, results.json read back, and a mesh's plan. Every expected
 * figure below is computed by hand in the comment beside it. */
#include <math.h>

#include "decide/claims.h"
#include "decide/cost.h"
#include "decide/figures.h"
#include "decide/plan.h"
#include "decide/verdict.h"
#include "t.h"

/* 4 vCPU, 8 GiB, $0.1785/h: c7i.xlarge as AWS lists it. */
static const price_t xl = {"c7i.xlarge", 4, 8, 0.1785, "test", "2025-01-01"};

static figures_t F;
static profile_t P;

/* A cell that held, with its figures at max and at equal load. */
static fig_cell_t *cell(const char *workload, int lang, const char *tier, double rps,
                        double cpu_us, double eq_p99_us)
{
    fig_cell_t *c = &F.cells[F.n++];
    memset(c, 0, sizeof *c);
    snprintf(c->workload, sizeof c->workload, "%s", workload);
    snprintf(c->name, sizeof c->name, "%s", lang_names[lang]);
    snprintf(c->tier, sizeof c->tier, "%s", tier);
    c->lang = lang;
    c->ok = true;
    c->rps = rps;
    c->cpu_us_per_req = cpu_us;
    c->db_cpu_us_per_req = NAN;
    c->rss_peak_kib = 10240;
    c->p50_us = c->p99_us = c->p999_us = 100;
    c->eq_ran = !isnan(eq_p99_us);
    c->eq_held = c->eq_ran;
    c->eq_rate = 14000;
    c->eq_p99_us = eq_p99_us;
    c->gc_pause_p99_us = c->gc_pause_max_us = NAN;
    c->startup_ms = c->idle_rss_kib = NAN;
    return c;
}

static void reset(void)
{
    memset(&F, 0, sizeof F);
    profile_init(&P);
    snprintf(P.name, sizeof P.name, "test");
    P.p99_slo_ms = 5;
    P.peak_rps = 50000;
    P.skill[LANG_GO] = SKILL_MID;
    P.skill[LANG_RUST] = SKILL_MID;
    P.seniors[LANG_RUST] = 0;
}

static verdict_t V;

static void decide(const char *workload)
{
    vctx_t c;
    verdict_context(&c, &F, &P, &xl, 730, P.peak_rps, workload);
    verdict_decide(&c, &V);
}

/* The reason of rule for lang, or NULL. */
static const reason_t *reason(const char *rule, int lang)
{
    for (int i = 0; i < V.nreasons; i++)
        if (!strcmp(V.reasons[i].rule, rule) && V.reasons[i].lang == lang)
            return &V.reasons[i];
    return NULL;
}

/* ---- cost ---- */

TEST(cost_rounds_instances_up_and_prices_a_month)
{
    cost_t c;
    /* 50000 req/s × 100 µs = 5 cores; 5 / (4 × 0.6) = 2.083 → 3 instances;
     * 3 × 0.1785 × 730 = 390.915 $. */
    CHECK_INT(cost_compute(&xl, 0.6, 730, 50000, 100, 10240, &c), 0);
    CHECK(fabs(c.cores - 5) < 1e-9);
    CHECK(fabs(c.instances_exact - 5 / 2.4) < 1e-9);
    CHECK_INT(c.instances, 3);
    CHECK(fabs(c.usd_month - 390.915) < 1e-6);
    CHECK(c.fits_memory);
    /* 20 µs: 1 core, 0.417 of an instance: still 1, 130.305 $. */
    CHECK_INT(cost_compute(&xl, 0.6, 730, 50000, 20, 10240, &c), 0);
    CHECK_INT(c.instances, 1);
    CHECK(fabs(c.usd_month - 130.305) < 1e-6);
}

TEST(cost_an_exact_fit_is_not_rounded_past)
{
    cost_t c;
    /* 24000 req/s × 100 µs = 2.4 cores = exactly one instance at 60 % of 4 vCPU. */
    CHECK_INT(cost_compute(&xl, 0.6, 730, 24000, 100, NAN, &c), 0);
    CHECK_INT(c.instances, 1);
    /* 48000: 4.8 cores, exactly 2. */
    CHECK_INT(cost_compute(&xl, 0.6, 730, 48000, 100, NAN, &c), 0);
    CHECK_INT(c.instances, 2);
}

TEST(cost_needs_every_figure)
{
    cost_t c;
    CHECK_INT(cost_compute(&xl, 0.6, 730, 50000, NAN, 1, &c), -1);
    CHECK_INT(cost_compute(&xl, 0.6, 730, 0, 10, 1, &c), -1);
    CHECK_INT(cost_compute(&xl, 0, 730, 50000, 10, 1, &c), -1);
    CHECK_INT(cost_compute(&xl, 1.5, 730, 50000, 10, 1, &c), -1);
}

TEST(cost_memory_over_the_type_does_not_fit)
{
    cost_t c;
    /* 8 GiB = 8388608 KiB. */
    CHECK_INT(cost_compute(&xl, 0.6, 730, 1000, 10, 8388609, &c), 0);
    CHECK(!c.fits_memory);
}

TEST(cost_saving_is_a_share_of_the_first)
{
    cost_t a = {.usd_month = 390.915}, b = {.usd_month = 130.305};
    /* (390.915 − 130.305) / 390.915 = 2/3. */
    CHECK(fabs(cost_saving(&a, &b) - 2.0 / 3) < 1e-9);
}

TEST(sql_cost_counts_the_database_share)
{
    reset();
    fig_cell_t *c = cell("sql", LANG_GO, "idiomatic", 10000, 60, NAN);
    c->db_cpu_us_per_req = 40;
    CHECK(fabs(fig_cpu_us(c) - 100) < 1e-9);
}

/* ---- the rules ---- */

TEST(rule_measured_rules_out_a_missing_or_failed_cell)
{
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 30, NAN);
    fig_cell_t *r = cell("echo", LANG_RUST, "idiomatic", 0, 0, NAN);
    r->ok = false;
    snprintf(r->reason, sizeof r->reason, "verify: 3 cases failed");
    decide("echo");
    const reason_t *m = reason("measured", LANG_RUST);
    CHECK(m != NULL);
    if (m)
        CHECK_STR(m->text, "rust idiomatic: not measured (verify: 3 cases failed)");
    CHECK(!V.candidate[LANG_RUST]);
    m = reason("measured", LANG_C);
    CHECK(m != NULL);
    if (m)
        CHECK_STR(m->text, "c: no echo cell in this run");
    CHECK_INT(V.pick, LANG_GO);
    CHECK_INT(V.runner_up, -1);
}

TEST(rule_ceiling_shows_c_and_rules_it_out_without_production_c)
{
    reset();
    cell("echo", LANG_C, "tuned", 30000, 10, NAN);
    cell("echo", LANG_GO, "idiomatic", 10000, 30, NAN);
    cell("echo", LANG_RUST, "idiomatic", 20000, 15, NAN);
    decide("echo");
    const reason_t *r = reason("ceiling", LANG_C);
    CHECK(r != NULL);
    /* 30000 / 20000 − 1 = +50 %. */
    if (r)
        CHECK_STR(r->text, "the ceiling (team.production_c false): c tuned 30000 req/s at 10.0 "
                           "µs CPU a request, +50 % req/s against rust idiomatic");
    CHECK(!V.candidate[LANG_C]);
    P.production_c = true;
    decide("echo");
    CHECK(reason("ceiling", LANG_C) == NULL);
    CHECK(V.candidate[LANG_C]);
}

TEST(rule_slo_rules_out_a_tail_over_the_slo)
{
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 30, 6000);
    cell("echo", LANG_RUST, "idiomatic", 26000, 25, 1500);
    decide("echo");
    const reason_t *r = reason("slo", LANG_GO);
    CHECK(r != NULL);
    if (r)
        CHECK_STR(r->text,
                  "p99 at equal load (14000 req/s): go 6.0 ms vs SLO 5.0 ms: go fails it");
    CHECK(!V.candidate[LANG_GO]);
    CHECK_INT(V.pick, LANG_RUST);
}

TEST(rule_slo_says_when_the_tail_was_not_measured)
{
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 30, NAN);
    decide("echo");
    const reason_t *r = reason("slo", LANG_GO);
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->text, "go: p99 at equal load not measured, the 5.0 ms SLO is not checked");
        CHECK_INT(r->points, 0);
    }
    CHECK(V.candidate[LANG_GO]);
}

TEST(rule_p99_predictable_speaks_for_the_tail_with_room)
{
    reset();
    /* go 3.0 ms = 60 % of 5 ms (over half), rust 1.0 ms = 20 %. */
    fig_cell_t *g = cell("echo", LANG_GO, "idiomatic", 20000, 20, 3000);
    cell("echo", LANG_RUST, "idiomatic", 21000, 19, 1000);
    g->gc_pause_p99_us = 1500; /* 30 % of the SLO: over a quarter */
    decide("echo");
    int two = 0, one = 0;
    for (int i = 0; i < V.nreasons; i++)
        if (!strcmp(V.reasons[i].rule, "p99_predictable") && V.reasons[i].lang == LANG_RUST) {
            if (V.reasons[i].points == 2) {
                two++;
                CHECK_STR(V.reasons[i].text, "p99 must hold: at equal load go 3.0 ms is 60 % "
                                             "of the 5.0 ms SLO, rust 1.0 ms 20 %");
            } else if (V.reasons[i].points == 1) {
                one++;
                CHECK_STR(V.reasons[i].text,
                          "GC: go's p99 stop-the-world pause 1.5 ms is 30 % of the 5.0 ms SLO");
            }
        }
    CHECK_INT(two, 1);
    CHECK_INT(one, 1);
    /* Both under half the SLO: nothing to say. */
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 20, 2400);
    cell("echo", LANG_RUST, "idiomatic", 21000, 19, 1000);
    decide("echo");
    CHECK(reason("p99_predictable", LANG_RUST) == NULL);
}

TEST(rule_cpu_bound_from_one_and_a_half_times)
{
    reset();
    cell("csv", LANG_GO, "idiomatic", 2000, 30, NAN);
    cell("csv", LANG_RUST, "idiomatic", 5000, 12, NAN);
    decide("csv");
    const reason_t *r = reason("cpu_bound", LANG_RUST);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(r->points, 2);
        /* 30 / 12 = 2.50 */
        CHECK_STR(r->text, "CPU-bound: a request costs go 30.0 µs of CPU, rust 12.0 µs (×2.50)");
    }
    CHECK(reason("cpu_bound", LANG_GO) == NULL);
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 20, NAN);
    cell("echo", LANG_RUST, "idiomatic", 25000, 16, NAN);
    decide("echo");
    r = reason("cpu_bound", LANG_GO);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(r->points, 1);
        /* 20 / 16 = 1.25 */
        CHECK_STR(r->text, "plain HTTP, within ×1.5: a request costs go 20.0 µs of CPU, rust "
                           "16.0 µs (×1.25)");
    }
}

TEST(rule_heavy_24_7_counts_instances_and_the_budget)
{
    reset();
    /* 50000 req/s: go 100 µs → 3 instances 390.915 $, rust 20 µs → 1, 130.305 $:
     * −260.61 $, −67 %. */
    cell("echo", LANG_GO, "idiomatic", 10000, 100, NAN);
    cell("echo", LANG_RUST, "idiomatic", 50000, 20, NAN);
    decide("echo");
    const reason_t *r = reason("heavy_24_7", LANG_RUST);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(r->points, 2);
        CHECK_STR(r->text, "24/7 at 50000 req/s: go needs 3 c7i.xlarge, rust 1 (-$261 a month, "
                           "-67 %; cost.budget medium counts from -20 %)");
    }
    /* Not around the clock: the saving still counts, once. */
    P.always_on = false;
    decide("echo");
    r = reason("heavy_24_7", LANG_RUST);
    CHECK(r && r->points == 1);
    /* Low traffic: one instance each, nothing saved. */
    P.always_on = true;
    P.peak_rps = 1000;
    decide("echo");
    CHECK(reason("heavy_24_7", LANG_RUST) == NULL);
}

TEST(rule_heavy_24_7_needs_the_share_the_budget_asks_for)
{
    reset();
    /* 100000 req/s: go 60 µs → 6 cores → 2.5 → 3 instances; rust 45 µs → 4.5 → 1.875 → 2:
     * saving 1/3. A low budget sensitivity asks for 40 %: not enough. */
    cell("echo", LANG_GO, "idiomatic", 10000, 60, NAN);
    cell("echo", LANG_RUST, "idiomatic", 12000, 45, NAN);
    P.peak_rps = 100000;
    P.budget = BUDGET_LOW;
    decide("echo");
    CHECK(reason("heavy_24_7", LANG_RUST) == NULL);
    P.budget = BUDGET_MEDIUM;
    decide("echo");
    CHECK(reason("heavy_24_7", LANG_RUST) != NULL);
}

TEST(rule_senior_for_rust_or_for_go)
{
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 20, NAN);
    cell("echo", LANG_RUST, "idiomatic", 21000, 19, NAN);
    P.seniors[LANG_RUST] = 1;
    decide("echo");
    const reason_t *r = reason("senior", LANG_RUST);
    CHECK(r && r->points == 1);
    if (r)
        CHECK_STR(r->text, "a Rust senior on the team (team.seniors.rust 1)");
    P.seniors[LANG_RUST] = 0;
    P.skill[LANG_RUST] = SKILL_NONE;
    F.dev[LANG_RUST].known = F.dev[LANG_GO].known = true;
    F.dev[LANG_RUST].nloc = F.dev[LANG_GO].nloc = 1;
    snprintf(F.dev[LANG_RUST].loc[0].workload, 16, "echo");
    snprintf(F.dev[LANG_RUST].loc[0].tier, 24, "idiomatic");
    F.dev[LANG_RUST].loc[0].code = 150;
    F.dev[LANG_GO].loc[0] = F.dev[LANG_RUST].loc[0];
    F.dev[LANG_GO].loc[0].code = 90;
    decide("echo");
    r = reason("senior", LANG_GO);
    CHECK(r && r->points == 2);
    if (r)
        CHECK_STR(r->text, "no rust senior (team.seniors.rust 0, team.languages.rust none): "
                           "nobody reviews rust's 150 code lines of echo (go: 90)");
    /* A mid-level Rust team without a senior: neither. */
    P.skill[LANG_RUST] = SKILL_MID;
    decide("echo");
    CHECK(reason("senior", LANG_GO) == NULL && reason("senior", LANG_RUST) == NULL);
}

TEST(rule_ship_fast_uses_build_times_or_says_they_are_missing)
{
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 20, NAN);
    cell("echo", LANG_RUST, "idiomatic", 21000, 19, NAN);
    P.deadline_weeks = 3;
    decide("echo");
    const reason_t *r = reason("ship_fast", LANG_GO);
    CHECK(r && r->points == 0);
    if (r)
        CHECK_STR(r->text, "deadline 3 weeks: not decided, build times were not measured in "
                           "this run");
    fig_dev_t *g = &F.dev[LANG_GO], *u = &F.dev[LANG_RUST];
    g->known = u->known = true;
    g->clean_wall_s = 6.1, u->clean_wall_s = 95;
    g->incr_wall_s = 0.9, u->incr_wall_s = 9.8;
    P.hires_per_quarter = 2;
    decide("echo");
    r = reason("ship_fast", LANG_GO);
    CHECK(r && r->points == 2);
    if (r)
        CHECK_STR(r->text, "deadline 3 weeks, 2 hires a quarter: go builds from clean in 6.1 s, "
                           "rust 95.0 s; after a one-line change 0.9 s vs 9.8 s");
    P.deadline_weeks = 12;
    P.hires_per_quarter = 1;
    decide("echo");
    CHECK(reason("ship_fast", LANG_GO) == NULL);
}

TEST(rule_team_knows_the_best_known_language)
{
    reset();
    cell("echo", LANG_GO, "idiomatic", 20000, 20, NAN);
    cell("echo", LANG_RUST, "idiomatic", 21000, 19, NAN);
    P.skill[LANG_GO] = SKILL_SENIOR;
    decide("echo");
    const reason_t *r = reason("team_knows", LANG_GO);
    CHECK(r && r->points == 1);
    if (r)
        CHECK_STR(r->text, "the team knows go best (team.languages: go senior, rust mid)");
    P.skill[LANG_RUST] = SKILL_SENIOR;
    decide("echo");
    CHECK(reason("team_knows", LANG_GO) == NULL && reason("team_knows", LANG_RUST) == NULL);
}

TEST(pick_most_points_then_cheaper_then_go)
{
    reset();
    /* CPU within 1.5× (go +1 plain HTTP), both 1 instance at 1000 req/s: go wins 1 to 0. */
    P.peak_rps = 1000;
    cell("echo", LANG_GO, "idiomatic", 20000, 20, NAN);
    cell("echo", LANG_RUST, "idiomatic", 21000, 19, NAN);
    decide("echo");
    CHECK_INT(V.pick, LANG_GO);
    CHECK_INT(V.runner_up, LANG_RUST);
    CHECK_INT(V.score[LANG_GO], 1);
    CHECK_INT(V.score[LANG_RUST], 0);
    /* Rust senior: 1 to 1, same cost (1 instance each): Go. */
    P.seniors[LANG_RUST] = 1;
    decide("echo");
    CHECK_INT(V.score[LANG_RUST], 1);
    CHECK_INT(V.pick, LANG_GO);
    /* CPU-bound and heavy: rust 2 + 2 + 1 = 5 against go's 0. */
    reset();
    P.seniors[LANG_RUST] = 1;
    cell("csv", LANG_GO, "idiomatic", 2000, 100, NAN);
    cell("csv", LANG_RUST, "idiomatic", 9000, 20, NAN);
    decide("csv");
    CHECK_INT(V.pick, LANG_RUST);
    CHECK_INT(V.score[LANG_RUST], 5);
    CHECK_INT(V.score[LANG_GO], 0);
}

TEST(verdict_uses_the_idiomatic_tier_first)
{
    reset();
    cell("echo", LANG_GO, "tuned", 40000, 10, NAN);
    cell("echo", LANG_GO, "idiomatic", 20000, 20, NAN);
    vctx_t c;
    verdict_context(&c, &F, &P, &xl, 730, 1000, "echo");
    CHECK(c.cell[LANG_GO] != NULL);
    if (c.cell[LANG_GO])
        CHECK_STR(c.cell[LANG_GO]->tier, "idiomatic");
    /* C's only tier of echo is tuned: it is used. */
    cell("echo", LANG_C, "tuned", 60000, 5, NAN);
    verdict_context(&c, &F, &P, &xl, 730, 1000, "echo");
    CHECK(c.cell[LANG_C] && !strcmp(c.cell[LANG_C]->tier, "tuned"));
}

TEST(every_rule_has_an_id_and_a_line_for_readme)
{
    CHECK(verdict_nrules >= 9);
    for (int i = 0; i < verdict_nrules; i++) {
        CHECK(verdict_rules[i].id && *verdict_rules[i].id);
        CHECK(verdict_rules[i].says && strlen(verdict_rules[i].says) > 20);
        CHECK(verdict_rules[i].apply != NULL);
    }
}

/* ---- claims ---- */

TEST(claim_gap_words)
{
    double k;
    CHECK_INT(claim_judge_gap(0.26, 0.30, &k), CLAIM_CONFIRMED);
    CHECK_INT(claim_judge_gap(0.26, 0.18, &k), CLAIM_CONFIRMED); /* ×0.69 */
    CHECK_INT(claim_judge_gap(0.26, 0.17, &k), CLAIM_DIFFERS);   /* ×0.65 */
    CHECK_INT(claim_judge_gap(0.26, 1.33, &k), CLAIM_DIFFERS);
    CHECK(fabs(k - 1.33 / 0.26) < 1e-9);
    CHECK_INT(claim_judge_gap(0.26, 0.04, &k), CLAIM_REFUTED);  /* under 5 %: no gap */
    CHECK_INT(claim_judge_gap(0.26, -0.20, &k), CLAIM_REFUTED); /* the other way */
}

TEST(claim_range_words)
{
    double k;
    CHECK_INT(claim_judge_range(1.5, 4, 1.05, 2.0, &k), CLAIM_CONFIRMED);
    CHECK_INT(claim_judge_range(1.5, 4, 1.05, 5.0, &k), CLAIM_DIFFERS);
    CHECK(fabs(k - 1.25) < 1e-9);
    CHECK_INT(claim_judge_range(1.5, 4, 1.05, 1.2, &k), CLAIM_DIFFERS);
    CHECK(fabs(k - 0.8) < 1e-9);
    CHECK_INT(claim_judge_range(1.5, 4, 1.05, 1.0, &k), CLAIM_REFUTED);
}

static const claim_t *claim(const claim_t *c, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(c[i].id, id))
            return &c[i];
    return NULL;
}

TEST(claims_checked_against_the_idiomatic_cells)
{
    reset();
    F.service_cpus = 1;
    cell("echo", LANG_GO, "tuned", 90000, 10, NAN); /* not this one */
    cell("echo", LANG_GO, "idiomatic", 20000, 30, NAN);
    cell("echo", LANG_RUST, "idiomatic", 26000, 20, NAN);
    cell("csv", LANG_GO, "idiomatic", 1000, 300, NAN);
    cell("csv", LANG_RUST, "idiomatic", 1620, 180, NAN);
    claim_t c[CLAIMS_MAX];
    int n = claims_check(&F, c, CLAIMS_MAX);
    const claim_t *e = claim(c, n, "echo_rust_over_go");
    CHECK(e && e->word == CLAIM_CONFIRMED);
    if (e)
        CHECK_STR(e->measured, "rust 26000 req/s, go 20000: +30 %");
    /* csv +62 % against +271 %: ×0.23 */
    const claim_t *v = claim(c, n, "csv_rust_over_go");
    CHECK(v && v->word == CLAIM_DIFFERS);
    if (v)
        CHECK_STR(v->detail, "×0.23 the claimed gap");
    const claim_t *b = claim(c, n, "cpu_bound_1_5_to_4x");
    CHECK(b && b->word == CLAIM_CONFIRMED); /* ×1.62 */
    const claim_t *s = claim(c, n, "sql_rust_over_go");
    CHECK(s && s->word == CLAIM_NOT_MEASURABLE);
    if (s)
        CHECK_STR(s->detail, "the workload is not in this run");
    const claim_t *g = claim(c, n, "grpc_rust_over_go");
    CHECK(g && g->word == CLAIM_NOT_MEASURABLE);
    const claim_t *t = claim(c, n, "ship_3x_faster");
    CHECK(t && t->word == CLAIM_NOT_MEASURABLE);
    const claim_t *r = claim(c, n, "ram_30_to_60_less");
    CHECK(r && r->word == CLAIM_REFUTED); /* the same RSS in every cell */
    const claim_t *d = claim(c, n, "build_times");
    CHECK(d && d->word == CLAIM_NOT_MEASURABLE);
}

/* ---- results.json read back ---- */

static const char results[] =
    "{\"stackbench\": \"0.1.0\", \"date\": \"2026-12-02T00:09Z\",\n"
    " \"machine\": {\"cpu_model\": \"Xeon\", \"cores\": 2},\n"
    " \"flags\": {\"duration_s\": 10, \"cpus_service\": \"0\"},\n"
    " \"cells\": [\n"
    "  {\"workload\": \"echo\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\",\n"
    "   \"status\": \"ok\", \"reason\": \"\", \"rps\": 20600.5, \"latency_us\": {\"p50\": 170,\n"
    "   \"p99\": 900}, \"cpu_us_per_req\": 44.2, \"db_cpu_us_per_req\": null,\n"
    "   \"rss_peak_kib\": 9000, \"load_bound\": false, \"startup_ms\": 12.5},\n"
    "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"idiomatic\",\n"
    "   \"status\": \"failed\", \"reason\": \"verify: \\\"x\\\" failed\", \"rps\": 0}],\n"
    " \"equal_load\": {\"pct\": 70, \"cells\": [{\"workload\": \"echo\", \"lang\": \"go\",\n"
    "   \"name\": \"go\", \"tier\": \"idiomatic\", \"rate\": 14000, \"ran\": true, \"held\": true,\n"
    "   \"latency_us\": {\"p50\": 160, \"p99\": 4100.5}, \"gc\": {\"pause_p99_us\": 310,\n"
    "   \"pause_max_us\": null}}]},\n"
    " \"dev\": {\"langs\": [{\"lang\": \"go\", \"build\": {\"clean_wall_s\": 6.5,\n"
    "   \"incremental_wall_s\": null}, \"stripped_bytes\": 6000000,\n"
    "   \"loc\": [{\"workload\": \"echo\", \"tier\": \"idiomatic\", \"code\": 91},\n"
    "           {\"workload\": \"shared\", \"tier\": \"\", \"code\": 300}]}]}}\n";

TEST(results_json_is_read_back)
{
    static figures_t f; /* large: the spectra and windows of 64 cells */
    char err[256];
    CHECK_INT(figures_parse(&f, "r.json", results, sizeof results - 1, err, sizeof err), 0);
    CHECK_INT(f.n, 2);
    CHECK_INT(f.service_cpus, 1);
    CHECK_INT(f.cores, 2);
    const fig_cell_t *g = figures_cell(&f, "echo", LANG_GO, "idiomatic");
    CHECK(g != NULL);
    if (g) {
        CHECK(g->ok);
        CHECK(fabs(g->rps - 20600.5) < 1e-9);
        CHECK(fabs(g->p99_us - 900) < 1e-9);
        CHECK(isnan(g->db_cpu_us_per_req));
        CHECK(fabs(g->startup_ms - 12.5) < 1e-9);
        CHECK(g->eq_ran && g->eq_held);
        CHECK(fabs(g->eq_p99_us - 4100.5) < 1e-9);
        CHECK(fabs(g->gc_pause_p99_us - 310) < 1e-9);
        CHECK(isnan(g->gc_pause_max_us));
    }
    const fig_cell_t *r = figures_cell(&f, "echo", LANG_RUST, NULL);
    CHECK(r && !r->ok);
    if (r) {
        CHECK_STR(r->reason, "verify: \"x\" failed");
        CHECK(isnan(r->rps));
    }
    CHECK(f.dev[LANG_GO].known && !f.dev[LANG_RUST].known);
    CHECK(fabs(f.dev[LANG_GO].clean_wall_s - 6.5) < 1e-9);
    CHECK(isnan(f.dev[LANG_GO].incr_wall_s));
    CHECK(fabs(fig_loc(&f.dev[LANG_GO], "echo", "idiomatic") - 91) < 1e-9);
    CHECK(fabs(f.dev[LANG_GO].loc_shared - 300) < 1e-9);
}

TEST(results_json_that_is_not_one_is_refused)
{
    static figures_t f;
    char err[256];
    CHECK_INT(figures_parse(&f, "r.json", "{\"a\": 1}", 8, err, sizeof err), -1);
    CHECK_STR(err, "r.json: not the results.json of a stackbench run");
    CHECK_INT(figures_parse(&f, "r.json", "{\"a\": ", 6, err, sizeof err), -1);
    CHECK_STR(err, "r.json: not JSON at byte 6: unexpected end of input");
    CHECK_INT(figures_load(&f, "/nonexistent", err, sizeof err), -1);
    CHECK_STR(err, "/nonexistent/results.json: No such file or directory");
}

/* What the report reads beyond the decision: the machine, the toolchains, the flags, each
 * cell's spectrum and mix, the equal-load windows and GC counts, the sweep. */
static const char report_results[] =
    "{\"stackbench\": \"0.1.0\", \"date\": \"2025-01-02T03:04:05Z\",\n"
    " \"machine\": {\"cpu_model\": \"Xeon <b>\", \"cores\": 2, \"kernel\": \"Linux 6\",\n"
    "   \"memory_kib\": 4096},\n"
    " \"versions\": {\"c\": \"cc 12\", \"go\": \"go1.26\"},\n"
    " \"flags\": {\"command\": \"stackbench run --langs 'c'\", \"langs\": [\"c\", \"go\"],\n"
    "   \"workloads\": [\"sql\", \"csv\"], \"duration_s\": 2, \"warmup_s\": 0.5,\n"
    "   \"connections\": 16, \"rate\": \"max\", \"cpus_service\": \"0\", \"cpus_load\": \"1\",\n"
    "   \"load_threads\": 1, \"database\": {\"managed\": true, \"cpus\": \"0\", \"pool\": 8}},\n"
    " \"cells\": [\n"
    "  {\"workload\": \"sql\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\",\n"
    "   \"status\": \"ok\", \"reason\": \"\", \"requests\": 1000, \"rps\": 500, \"errors\": 0,\n"
    "   \"latency_us\": {\"p50\": 10, \"p90\": 20, \"p99\": 30, \"p999\": 40, \"max\": 50,\n"
    "   \"mean\": 12}, \"spectrum\": [{\"p\": 0, \"us\": 5}, {\"p\": 50, \"us\": 10},\n"
    "   {\"p\": 100, \"us\": 50}], \"rss_peak_kib\": 2048, \"rss_mean_kib\": 1900,\n"
    "   \"cpu_us_per_req\": 7, \"db_cpu_us_per_req\": 40, \"db_cpu_share\": 0.5,\n"
    "   \"db_round_trips_per_req\": 1, \"db_commits_per_req\": 0.2,\n"
    "   \"by_request\": [{\"method\": \"GET\", \"target\": \"/accounts/1\", \"requests\": 800,\n"
    "   \"errors\": 1, \"latency_us\": {\"p50\": 9, \"p90\": 19, \"p99\": 29, \"p999\": 39}}],\n"
    "   \"profile\": {\"ran\": true, \"reason\": null, \"samples\": 9970, \"unwind\": \"dwarf\",\n"
    "   \"dir\": \"profiles/sql-c-tuned\", \"top\": [{\"function\": \"pgpool_drive\",\n"
    "   \"self_pct\": 21.5}, {\"function\": \"do_syscall_64_[k]\", \"self_pct\": 9.25}]}},\n"
    "  {\"workload\": \"sql\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\",\n"
    "   \"status\": \"failed\", \"reason\": \"start: <exit 1>\", \"requests\": 0,\n"
    "   \"spectrum\": [{\"p\": 0, \"us\": 1}], \"profile\": {\"ran\": false,\n"
    "   \"reason\": \"the cell was not measured\", \"samples\": 0, \"unwind\": null,\n"
    "   \"dir\": null, \"top\": []}}],\n"
    " \"equal_load\": {\"pct\": 70, \"duration_s\": 1, \"cells\": [{\"workload\": \"sql\",\n"
    "   \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\", \"rate\": 350, \"ran\": true,\n"
    "   \"held\": false, \"reason\": \"could not hold\", \"requests\": 340,\n"
    "   \"latency_us\": {\"p50\": 8, \"p99\": 28, \"p999\": 38, \"p9999\": 48, \"max\": 58,\n"
    "   \"mean\": 9}, \"spectrum\": [{\"p\": 0, \"us\": 4}, {\"p\": 100, \"us\": 58}],\n"
    "   \"gc\": {\"pauses\": 3, \"cycles\": 2, \"pause_p99_us\": 100, \"pause_max_us\": 120},\n"
    "   \"window_ms\": 100, \"windows\": [{\"t_ms\": 0, \"count\": 35, \"p99_us\": 27,\n"
    "   \"max_us\": 30}, {\"t_ms\": 100, \"count\": 0, \"p99_us\": 0, \"max_us\": 0}]}]},\n"
    " \"sweep\": [{\"workload\": \"sql\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\",\n"
    "   \"max_rps\": 500, \"points\": [{\"pct\": 10, \"rate\": 50, \"ran\": true, \"held\": true,\n"
    "   \"rate_achieved\": 49.5, \"latency_us\": {\"p50\": 3, \"p99\": 6, \"p999\": 7,\n"
    "   \"max\": 8}}, {\"pct\": 25, \"rate\": 125, \"ran\": false}]}],\n"
    " \"dev\": {\"langs\": [{\"lang\": \"c\", \"cached\": true, \"toolchain\": \"cc 12\"}]}}\n";

TEST(results_json_report_figures_are_read_back)
{
    static figures_t f;
    char err[256];
    CHECK_INT(figures_parse(&f, "r.json", report_results, sizeof report_results - 1, err,
                            sizeof err), 0);
    CHECK_STR(f.version, "0.1.0");
    CHECK_STR(f.cpu_model, "Xeon <b>");
    CHECK(f.memory_kib == 4096);
    CHECK_INT(f.nversions, 2);
    CHECK_STR(f.versions[1].name, "go");
    CHECK_STR(f.versions[1].text, "go1.26");
    CHECK_STR(f.command, "stackbench run --langs 'c'");
    CHECK_INT(f.nlangs, 2);
    CHECK_INT(f.nworkloads, 2);
    CHECK_STR(f.workloads[1], "csv");
    CHECK(f.warmup_s == 0.5 && f.connections == 16 && f.load_threads == 1);
    CHECK(isnan(f.rate)); /* "max" */
    CHECK_STR(f.cpus_load, "1");
    CHECK(f.database && f.db_managed && f.pool == 8);
    CHECK_STR(f.cpus_db, "0");
    CHECK(f.have_equal && f.have_sweep && f.have_dev);
    CHECK(f.equal_load_s == 1);
    const fig_cell_t *c = figures_cell(&f, "sql", LANG_C, "tuned");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(c->requests == 1000 && c->errors == 0);
    CHECK(c->p90_us == 20 && c->max_us == 50 && c->mean_us == 12);
    CHECK(c->rss_mean_kib == 1900 && c->db_cpu_share == 0.5);
    CHECK(c->db_round_trips_per_req == 1 && c->db_commits_per_req == 0.2);
    CHECK_INT(c->spectrum.n, 3);
    CHECK(c->spectrum.pt[1].pct == 50 && c->spectrum.pt[1].us == 10);
    CHECK(c->spectrum.pt[2].pct == 100 && c->spectrum.pt[2].us == 50);
    CHECK_INT(c->nby_request, 1);
    CHECK_STR(c->by_request[0].target, "/accounts/1");
    CHECK(c->by_request[0].requests == 800 && c->by_request[0].p999_us == 39);
    /* the CPU profile (run --cpu-profile) */
    CHECK(c->prof_asked && c->prof_ran);
    CHECK(c->prof_samples == 9970);
    CHECK_STR(c->prof_unwind, "dwarf");
    CHECK_STR(c->prof_dir, "profiles/sql-c-tuned");
    CHECK_INT(c->prof_ntop, 2);
    CHECK_STR(c->prof_top[1].function, "do_syscall_64_[k]");
    CHECK(c->prof_top[1].self_pct == 9.25);
    const fig_cell_t *gp = figures_cell(&f, "sql", LANG_GO, "idiomatic");
    CHECK(gp && gp->prof_asked && !gp->prof_ran && gp->prof_ntop == 0);
    CHECK(gp && !strcmp(gp->prof_reason, "the cell was not measured"));
    /* equal load */
    CHECK(c->eq_ran && !c->eq_held);
    CHECK_STR(c->eq_reason, "could not hold");
    CHECK(c->eq_requests == 340 && c->eq_p9999_us == 48 && c->eq_mean_us == 9);
    CHECK(c->gc_pauses == 3 && c->gc_cycles == 2);
    CHECK_INT(c->eq_spectrum.n, 2);
    CHECK(c->window_ms == 100);
    CHECK_INT(c->nwindows, 2);
    CHECK(c->windows[0].count == 35 && c->windows[0].p99_us == 27 && c->windows[0].max_us == 30);
    CHECK(c->windows[1].t_ms == 100 && c->windows[1].count == 0);
    /* the sweep */
    CHECK_INT(c->nsweep, 2);
    CHECK(c->sweep_max_rps == 500);
    CHECK(c->sweep[0].ran && c->sweep[0].held && c->sweep[0].achieved == 49.5);
    CHECK(c->sweep[0].p99_us == 6 && c->sweep[0].max_us == 8);
    CHECK(!c->sweep[1].ran && isnan(c->sweep[1].p99_us));
    /* a failed cell: its reason, no figures, no spectrum */
    const fig_cell_t *g = figures_cell(&f, "sql", LANG_GO, NULL);
    CHECK(g && !g->ok);
    if (g) {
        CHECK_STR(g->reason, "start: <exit 1>");
        CHECK_INT(g->spectrum.n, 0);
        CHECK(isnan(g->max_us) && isnan(g->rss_mean_kib));
        CHECK_INT(g->nsweep, 0);
    }
    CHECK(f.dev[LANG_C].known && f.dev[LANG_C].cached);
    CHECK_STR(f.dev[LANG_C].toolchain, "cc 12");
}

/* A results.json of before the report: no spectrum, no sweep, equal load null. */
TEST(results_json_without_the_report_figures_reads_empty)
{
    static figures_t f;
    char err[256];
    static const char old[] = "{\"stackbench\": \"0.1.0\", \"cells\": [{\"workload\": \"echo\",\n"
                              " \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\", \"status\": \"ok\",\n"
                              " \"rps\": 10}], \"equal_load\": null, \"sweep\": null, \"dev\": null}";
    CHECK_INT(figures_parse(&f, "r.json", old, sizeof old - 1, err, sizeof err), 0);
    CHECK_INT(f.n, 1);
    CHECK_INT(f.cells[0].spectrum.n, 0);
    CHECK_INT(f.cells[0].nwindows, 0);
    CHECK(!f.have_equal && !f.have_sweep && !f.have_dev);
    CHECK(!f.database && f.nversions == 0 && f.command[0] == 0);
    CHECK(isnan(f.cells[0].max_us) && isnan(f.warmup_s));
}

/* ---- a mesh's plan ---- */

TEST(plan_moves_only_what_pays)
{
    reset();
    /* csv: go 300 µs, rust 60 µs. At 30000 req/s: go 9 cores → 3.75 → 4 instances,
     * rust 1.8 → 0.75 → 1: move, 4 → 1. At 500 req/s: 1 and 1: keep. */
    cell("csv", LANG_GO, "idiomatic", 3000, 300, NAN);
    cell("csv", LANG_RUST, "idiomatic", 15000, 60, NAN);
    P.seniors[LANG_RUST] = 1;
    static mesh_t m;
    memset(&m, 0, sizeof m);
    m.n = 3;
    snprintf(m.svc[0].name, 64, "csv-ingest");
    snprintf(m.svc[0].kind, 16, "csv");
    m.svc[0].traffic_rps = 30000;
    m.svc[0].lang = LANG_GO;
    m.svc[1] = m.svc[0];
    snprintf(m.svc[1].name, 64, "csv-small");
    m.svc[1].traffic_rps = 500;
    m.svc[2] = m.svc[0];
    snprintf(m.svc[2].name, 64, "echo-edge");
    snprintf(m.svc[2].kind, 16, "echo");
    static prices_t pr;
    memset(&pr, 0, sizeof pr);
    pr.types[0] = xl;
    pr.n = 1;
    snprintf(pr.default_type, sizeof pr.default_type, "c7i.xlarge");
    pr.hours_per_month = 730;
    static plan_t pl;
    char err[256];
    CHECK_INT(plan_make(&pl, &m, &P, &pr, &F, err, sizeof err), 0);
    CHECK_INT(pl.n, 3);
    CHECK_INT(pl.rows[0].to, LANG_RUST);
    CHECK_INT(pl.rows[0].before.instances, 4);
    CHECK_INT(pl.rows[0].after.instances, 1);
    CHECK_STR(pl.rows[0].why, "4 -> 1 instances (-$391 a month, -75 %)");
    CHECK_INT(pl.rows[1].to, LANG_GO);
    CHECK(!pl.rows[2].known);
    CHECK_INT(pl.moved, 1);
    CHECK_INT(pl.unknown, 1);
    /* 4 + 1 before, 1 + 1 after; 5 × 130.305 → 2 × 130.305. */
    CHECK_INT(pl.instances_before, 5);
    CHECK_INT(pl.instances_after, 2);
    CHECK(fabs(pl.usd_before - 5 * 130.305) < 1e-6);
    CHECK(fabs(pl.usd_after - 2 * 130.305) < 1e-6);
}

TEST(plan_refuses_an_unknown_instance_type)
{
    reset();
    static mesh_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.instance, sizeof m.instance, "m9.huge");
    static prices_t pr;
    memset(&pr, 0, sizeof pr);
    static plan_t pl;
    char err[256];
    CHECK_INT(plan_make(&pl, &m, &P, &pr, &F, err, sizeof err), -1);
    CHECK_STR(err, "instance type 'm9.huge' is not in the prices");
}

T_MAIN(T(cost_rounds_instances_up_and_prices_a_month), T(cost_an_exact_fit_is_not_rounded_past),
       T(cost_needs_every_figure), T(cost_memory_over_the_type_does_not_fit),
       T(cost_saving_is_a_share_of_the_first), T(sql_cost_counts_the_database_share),
       T(rule_measured_rules_out_a_missing_or_failed_cell),
       T(rule_ceiling_shows_c_and_rules_it_out_without_production_c),
       T(rule_slo_rules_out_a_tail_over_the_slo), T(rule_slo_says_when_the_tail_was_not_measured),
       T(rule_p99_predictable_speaks_for_the_tail_with_room),
       T(rule_cpu_bound_from_one_and_a_half_times),
       T(rule_heavy_24_7_counts_instances_and_the_budget),
       T(rule_heavy_24_7_needs_the_share_the_budget_asks_for),
       T(rule_senior_for_rust_or_for_go), T(rule_ship_fast_uses_build_times_or_says_they_are_missing),
       T(rule_team_knows_the_best_known_language), T(pick_most_points_then_cheaper_then_go),
       T(verdict_uses_the_idiomatic_tier_first), T(every_rule_has_an_id_and_a_line_for_readme),
       T(claim_gap_words), T(claim_range_words), T(claims_checked_against_the_idiomatic_cells),
       T(results_json_is_read_back), T(results_json_that_is_not_one_is_refused),
       T(results_json_report_figures_are_read_back),
       T(results_json_without_the_report_figures_reads_empty),
       T(plan_moves_only_what_pays), T(plan_refuses_an_unknown_instance_type))
