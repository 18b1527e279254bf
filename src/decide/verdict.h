/* verdict: which language for a workload, for a team and a service (a profile), and why, each
 * reason a rule of the published checklists with the figure this machine measured and the
 * profile value that triggered it. The rules are one table (rules.c, listed in README.md):
 * each looks at the figures and the profile and either speaks for a language (points), or rules
 * one out (a failed SLO, a cell that was not measured). The language with the most points
 * wins; ties go to the cheaper, then to Go (the one a mesh already runs, the checklists'
 * default). C is the ceiling, shown for the headroom it measures, and a candidate only when the
 * profile says the team writes production C.
 *
 * The figures of a language are its idiomatic tier's (what a team writes first; the tier that
 * matches the posts' frameworks), or its only tier when it has one. */
#ifndef SB_DECIDE_VERDICT_H
#define SB_DECIDE_VERDICT_H

#include <stdbool.h>
#include <stdio.h>

#include "codec/jsonw.h"
#include "decide/cost.h"
#include "decide/figures.h"
#include "decide/prices.h"
#include "decide/profile.h"

#define VERDICT_MAX_REASONS 24

typedef struct {
    const char *rule;             /* the rule's id: "slo", "cpu_bound" ... */
    int lang;                     /* the language it speaks for or against */
    int points;                   /* > 0 for it; 0: said only, or ruled out */
    bool rules_out;               /* it ruled lang out */
    char text[320];               /* "p99 at equal load: go 4.1 ms vs SLO 2 ms: go fails it" */
} reason_t;

/* What the rules read: the figures, the profile, the instance type and the traffic. */
typedef struct {
    const figures_t *f;
    const profile_t *p;
    const price_t *type;
    double hours_per_month;
    double traffic_rps;           /* the traffic to size for (the profile's peak unless
                                   * --traffic says otherwise) */
    const char *workload;
    const fig_cell_t *cell[LANG_N]; /* the figures used for each language; NULL: none */
    cost_t cost[LANG_N];
    bool have_cost[LANG_N];
} vctx_t;

typedef struct {
    char workload[16];
    int pick, runner_up;          /* lang_t; -1 when there is none */
    bool candidate[LANG_N];       /* still in the running after the rules */
    int score[LANG_N];
    reason_t reasons[VERDICT_MAX_REASONS];
    int nreasons;
    vctx_t ctx;
} verdict_t;

/* A rule: its id, the checklist line it stands for (for README and `verdict --rules`), and what
 * it does. */
typedef struct {
    const char *id;
    const char *says;
    void (*apply)(const vctx_t *c, verdict_t *v);
} rule_t;
extern const rule_t verdict_rules[];
extern const int verdict_nrules;

/* The share of the bill a cheaper language must save to count, by how much the bill weighs
 * (cost.budget): low 40 %, medium 20 %, high 10 %. */
double verdict_saving_needed(budget_t b);

/* Fills c for workload: the cells (idiomatic tier first) and each one's cost. */
void verdict_context(vctx_t *c, const figures_t *f, const profile_t *p, const price_t *type,
                     double hours_per_month, double traffic_rps, const char *workload);
/* Runs every rule on c and picks. */
void verdict_decide(const vctx_t *c, verdict_t *v);

/* For the rules: a reason (points > 0 speak for lang) / lang ruled out with why. */
void verdict_reason(verdict_t *v, const char *rule, int lang, int points, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void verdict_rule_out(verdict_t *v, const char *rule, int lang, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For people: the verdict of one workload, aligned, a few lines. */
void verdict_print(FILE *out, const verdict_t *v);
/* For programs: {workload, pick, runner_up, scores, reasons [...], cost {...}}. */
void verdict_json(jsonw_t *w, const verdict_t *v);

/* The cost table of all workloads (people): per workload and language the CPU per request,
 * instances, $ per month and the saving over Go. */
void verdict_print_costs(FILE *out, const verdict_t *v, int n);

#endif
