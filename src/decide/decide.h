/* decide: the decision's commands. `stackbench verdict` (per workload, for a profile: which
 * language, why, what it costs), `stackbench claims` (the published claims checked) and
 * `stackbench decide` (a mesh of services: keep or move, and the bill), all three over the
 * results.json of a run; and what `stackbench run` adds at its end. */
#ifndef SB_DECIDE_DECIDE_H
#define SB_DECIDE_DECIDE_H

#include <stddef.h>
#include <stdio.h>

#include "core/opt.h"

#include "decide/claims.h"
#include "decide/figures.h"
#include "decide/prices.h"
#include "decide/profile.h"
#include "decide/verdict.h"

#define DECIDE_MAX_WORKLOADS 8

typedef struct {
    const char *profile;          /* a profile.yaml, or NULL: the shipped example */
    const char *prices;           /* a prices.yaml, or NULL: the shipped one */
    double traffic_rps;           /* 0: the profile's peak */
} decide_opts_t;

/* Everything the verdict and the claims need, and what they say: the figures of a results
 * folder, the profile and prices, a verdict per workload (in the run's order) and the claims
 * checked. Large (the figures), and the verdicts point into it: keep one in static storage and
 * do not copy it. */
typedef struct {
    figures_t f;
    profile_t p;
    prices_t prices;
    const price_t *type;          /* the profile's instance type, in prices */
    double traffic;               /* --traffic, else the profile's peak */
    verdict_t v[DECIDE_MAX_WORKLOADS];
    int nv;
    claim_t claims[CLAIMS_MAX];
    int nclaims;
} decision_t;

/* DIR's results.json, o's profile and prices, then every verdict and claim into d: what
 * `stackbench verdict DIR` and `stackbench claims DIR` print, for the report to show. 0, or -1
 * with one line in err (an unreadable results folder, a bad profile or prices file). */
int decide_load(decision_t *d, const char *dir, const decide_opts_t *o, char *err,
                size_t errlen);

/* The flags of the verdict's inputs (--profile, --prices, --traffic), the same for every
 * command that gives a verdict (verdict, run, report): DECIDE_OPTS_FLAGS entries into out.
 * Returns how many. */
#define DECIDE_OPTS_FLAGS 3
int decide_opts_flags(decide_opts_t *o, opt_t *out);
/* Loads the profile and prices the options name and checks that they go together (the
 * profile's instance type is in the prices), so that a run can refuse a bad file before it
 * measures anything. 0, or -1 with "FILE:LINE:COLUMN: what is wrong" in err. */
int decide_check(const decide_opts_t *o, char *err, size_t errlen);

/* The end of a run, with d the decision_load of its folder dir: the verdict for every
 * workload and the claims table on out, verdict.json and claims.json beside results.json, and
 * both as sections of results.md. 0, or -1 with one line in err (a file not written). */
int decide_after_run(const decision_t *d, const char *dir, const decide_opts_t *o, FILE *out,
                     char *err, size_t errlen);

int cmd_verdict(int argc, char **argv);
int cmd_claims(int argc, char **argv);
int cmd_decide(int argc, char **argv);

#endif
