/* cost: what serving a traffic costs in one implementation, from what it measured: the CPU it
 * spends per request (with its database's share for sql) becomes the cores the traffic keeps
 * busy, the cores become instances of a type run at a CPU headroom, the instances dollars per
 * month. One CPU of this machine is taken to do the work of one vCPU of the type: the
 * figures are ratios between languages first, dollars second. */
#ifndef SB_DECIDE_COST_H
#define SB_DECIDE_COST_H

#include <stdbool.h>

#include "decide/prices.h"

typedef struct {
    double cores;                 /* traffic × CPU per request: CPUs kept busy */
    double instances_exact;       /* cores / (vCPU × headroom) */
    int instances;                /* rounded up, at least 1: a service runs somewhere */
    double usd_month;             /* instances × $/hour × hours per month */
    bool fits_memory;             /* one process's peak RSS fits in the type's memory */
} cost_t;

/* 0, or -1 when a figure is missing (NAN) or not positive: there is then no cost to say. */
int cost_compute(const price_t *type, double headroom, double hours_per_month,
                 double traffic_rps, double cpu_us_per_req, double rss_peak_kib, cost_t *out);

/* The saving of b over a, as a fraction of a's cost (0.25: b costs 25 % less). */
double cost_saving(const cost_t *a, const cost_t *b);

#endif
