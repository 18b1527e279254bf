/* figures: what a run measured, read back from its results.json, in the shape the decision
 * needs: per workload and implementation its throughput, CPU and memory per request, latency at
 * its maximum and at equal load, GC pauses, start-up; per language what it costs to build. The
 * decision reads only this file, so that `stackbench verdict DIR` on an old run and the verdict
 * at the end of `stackbench run` are one computation. A figure that was not measured is NAN. */
#ifndef SB_DECIDE_FIGURES_H
#define SB_DECIDE_FIGURES_H

#include <stdbool.h>
#include <stddef.h>

#include "decide/profile.h"

#define FIG_MAX_CELLS 64

typedef struct {
    char workload[16];
    char name[48];                /* as the table calls it: "rust", or a user's NAME */
    int lang;                     /* lang_t, or -1: not one of the three (a user's) */
    char tier[24], framework[64], does[96], db_strategy[32];
    bool ok;                      /* every stage held; else reason */
    char reason[256];
    bool load_bound;              /* the load engine, not the service, was the limit */
    double rps;                   /* at its maximum (closed loop) */
    double p50_us, p99_us, p999_us;
    double cpu_us_per_req;        /* the service's CPU per request */
    double db_cpu_us_per_req;     /* sql: the database's; NAN when not metered */
    double rss_peak_kib;
    double startup_ms, idle_rss_kib;
    /* The equal-load block: every implementation of the workload at one rate. */
    bool eq_ran, eq_held;
    double eq_rate, eq_achieved;
    double eq_p50_us, eq_p99_us, eq_p999_us, eq_max_us;
    double gc_pause_p99_us, gc_pause_max_us; /* Go: the runtime's pauses during it; NAN: none
                                              * known (no GC, or not reported) */
} fig_cell_t;

typedef struct {
    bool known;                   /* the run measured this language's development figures */
    double clean_wall_s, clean_cpu_s, incr_wall_s, incr_cpu_s;
    double binary_bytes, stripped_bytes;
    double deps_direct, deps_total;
    double loc_shared;
    struct {
        char workload[16], tier[24];
        double code;
    } loc[16];
    int nloc;
} fig_dev_t;

typedef struct {
    char dir[4096];               /* where results.json was read */
    char date[40], cpu_model[128], kernel[64];
    int cores;
    int service_cpus;             /* the CPUs the services were pinned to (0: not known) */
    double duration_s, equal_load_pct;
    fig_cell_t cells[FIG_MAX_CELLS];
    int n;
    fig_dev_t dev[LANG_N];
} figures_t;

/* Reads DIR/results.json. 0, or -1 with the reason in err (no such file, not a results file
 * of this stackbench). Cells that failed are kept (ok false) so that the decision can say so. */
int figures_load(figures_t *f, const char *dir, char *err, size_t errlen);
/* The same from the text of a results.json (name for messages). */
int figures_parse(figures_t *f, const char *name, const char *text, size_t len, char *err,
                  size_t errlen);

/* The cell of workload in lang and tier (NULL tier: the first of lang, in table order), or
 * NULL when the run did not have it. */
const fig_cell_t *figures_cell(const figures_t *f, const char *workload, int lang,
                               const char *tier);
/* A cell's CPU per request with its database's share (sql): what an instance must supply. */
double fig_cpu_us(const fig_cell_t *c);
/* A language's lines of code for workload in tier (NAN: not measured). */
double fig_loc(const fig_dev_t *d, const char *workload, const char *tier);

#endif
