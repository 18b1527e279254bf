/* plan: a user's mesh (decide/mesh.h) mapped to the measured figures: per service keep or move,
 * and to what, with instances and dollars before and after, and the total. Each service gets
 * the verdict of its workload (decide/verdict.h) for the team's profile with the service's own
 * traffic and SLO; a move is planned only when it pays: the language it is written in now
 * fails the SLO, or the verdict's language saves at least an instance and the share of the
 * bill cost.budget asks for. Otherwise the service stays where it is: a rewrite that saves
 * nothing is a cost the table does not show. */
#ifndef SB_DECIDE_PLAN_H
#define SB_DECIDE_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "codec/jsonw.h"
#include "decide/figures.h"
#include "decide/mesh.h"
#include "decide/prices.h"
#include "decide/profile.h"
#include "decide/verdict.h"

typedef struct {
    const mesh_service_t *svc;
    const char *workload;         /* its kind, or what it is like */
    bool known;                   /* its workload has figures for its language now */
    int now, to;                  /* lang_t: written in, planned (== now: keep) */
    char why[320];                /* the reason for the move or for keeping it */
    cost_t before, after;
    bool have_cost;
} plan_row_t;

typedef struct {
    plan_row_t rows[MESH_MAX];
    int n;
    const price_t *type;
    double hours_per_month;
    int moved, moved_to[LANG_N];
    int instances_before, instances_after;
    double usd_before, usd_after;
    int unknown;                  /* services with no figures: counted as they are */
} plan_t;

/* 0, or -1 with the reason in err (an instance type that is not in the prices). */
int plan_make(plan_t *pl, const mesh_t *m, const profile_t *p, const prices_t *prices,
              const figures_t *f, char *err, size_t errlen);

void plan_print(FILE *out, const plan_t *pl);
void plan_json(jsonw_t *w, const plan_t *pl);

#endif
