/* cost: instances and dollars from CPU per request (cost.h). */
#include "decide/cost.h"

#include <math.h>
#include <string.h>

int cost_compute(const price_t *type, double headroom, double hours_per_month,
                 double traffic_rps, double cpu_us_per_req, double rss_peak_kib, cost_t *out)
{
    memset(out, 0, sizeof *out);
    if (!(traffic_rps > 0) || !(cpu_us_per_req > 0) || !(headroom > 0) || headroom > 1 ||
        !(hours_per_month > 0) || type->vcpu <= 0)
        return -1;
    out->cores = traffic_rps * cpu_us_per_req / 1e6;
    out->instances_exact = out->cores / (type->vcpu * headroom);
    /* A float a hair over an integer (3.0000000001 from 0.6 × 5) is that integer. */
    double n = ceil(out->instances_exact - 1e-9);
    out->instances = n < 1 ? 1 : (int)n;
    out->usd_month = out->instances * type->usd_per_hour * hours_per_month;
    out->fits_memory = isnan(rss_peak_kib) || rss_peak_kib <= type->gib * 1024 * 1024;
    return 0;
}

double cost_saving(const cost_t *a, const cost_t *b)
{
    return a->usd_month > 0 ? (a->usd_month - b->usd_month) / a->usd_month : 0;
}
