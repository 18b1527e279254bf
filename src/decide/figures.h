/* figures: what a run measured, read back from its results.json, in the shape the decision
 * and the report need: per workload and implementation its throughput, CPU and memory per
 * request, latency at its maximum (with its percentile spectrum) and at equal load (with its
 * 100 ms windows), GC pauses, start-up, the sweep's curve; per language what it costs to build;
 * the machine, the toolchains and the flags of the run. The decision and the report (the page,
 * the terminal's table, results.md) read only this file, so that `stackbench verdict DIR` or
 * `stackbench report DIR` on an old run and what `stackbench run` says at its end are one
 * computation. A figure that was not measured is NAN.
 */
#ifndef SB_DECIDE_FIGURES_H
#define SB_DECIDE_FIGURES_H

#include <stdbool.h>
#include <stddef.h>

#include "decide/profile.h"

#define FIG_MAX_CELLS 64
#define FIG_MAX_SPECTRUM 128          /* results.json keeps about 90 */
#define FIG_MAX_WINDOWS 200
#define FIG_MAX_SWEEP 8
#define FIG_MAX_BY_REQUEST 8
#define FIG_MAX_LIST 8
#define FIG_MAX_PROFILE_TOP 10

/* A run's percentile spectrum: percentile points {pct, us} (results.json `spectrum`), not a
 * histogram; the last is the max at 100 %. */
typedef struct {
    double pct, us;
} fig_point_t;
typedef struct {
    int n;
    fig_point_t pt[FIG_MAX_SPECTRUM];
} fig_spectrum_t;

/* A kind of request of a mix (sql): its answers and latency. */
typedef struct {
    char method[8], target[64];
    double requests, errors, p50_us, p90_us, p99_us, p999_us;
    double messages;              /* grpc: its calls' messages; NAN otherwise */
} fig_by_request_t;

/* An equal-load window: the answers completing in it, their p99 and max. */
typedef struct {
    double t_ms, count, p99_us, max_us;
} fig_window_t;

/* A point of the sweep: open loop at pct % of the cell's own maximum. */
typedef struct {
    double pct, rate, achieved, errors, p50_us, p99_us, p999_us, max_us;
    bool ran, held;
} fig_sweep_point_t;

typedef struct {
    char workload[16];
    char name[48];                /* as the table calls it: "rust", or a user's NAME */
    int lang;                     /* lang_t, or -1: not one of the three (a user's) */
    char tier[32], framework[96], does[96], db_strategy[32]; /* db_strategy "": none */
    bool ok;                      /* every stage held; else reason */
    char reason[512];
    bool load_bound;              /* the load engine, not the service, was the limit */
    double load_cpu_share;        /* load CPU used / load CPU available */
    /* At its maximum (closed loop). A failed cell's measured figures are NAN (never used as if
     * it had passed); its requests and errors are kept. */
    double requests, errors, threads;
    double rps;
    double p50_us, p99_us, p999_us;
    double p90_us, max_us, mean_us;
    fig_spectrum_t spectrum;      /* empty for a failed cell */
    double cpu_us_per_req;        /* the service's CPU per request */
    double db_cpu_us_per_req;     /* sql: the database's; NAN when not metered */
    double db_cpu_share;          /* sql: of the database's CPUs */
    double db_round_trips_per_req, db_commits_per_req; /* sql: statements, commits; NAN */
    double rss_peak_kib, rss_mean_kib;
    double startup_ms, idle_rss_kib;
    double messages, messages_per_s; /* grpc: the messages the calls answered; NAN otherwise */
    /* A mix (sql): each kind of request on its own. */
    int nby_request;
    fig_by_request_t by_request[FIG_MAX_BY_REQUEST];
    /* The equal-load block: every implementation of the workload at one rate. */
    bool eq_ran, eq_held;
    double eq_rate, eq_achieved;
    double eq_p50_us, eq_p99_us, eq_p999_us, eq_max_us;
    double gc_pause_p99_us, gc_pause_max_us; /* Go: the runtime's pauses during it; NAN: none
                                              * known (no GC, or not reported) */
    char eq_reason[256];          /* why it did not run or did not hold its rate */
    double eq_requests, eq_errors, eq_p9999_us, eq_mean_us;
    double gc_pauses, gc_cycles;  /* NAN: not known */
    fig_spectrum_t eq_spectrum;
    double window_ms;             /* each window's length (100) */
    int nwindows;                 /* p99 and max of the answers completing in each window */
    fig_window_t windows[FIG_MAX_WINDOWS];
    /* --sweep: open loop at a share of its own maximum (nsweep 0: not swept). */
    int nsweep;
    double sweep_max_rps;
    fig_sweep_point_t sweep[FIG_MAX_SWEEP];
    /* --cpu-profile: the measured run's CPU profile (results.json `profile`). prof_asked: the
     * run profiled; prof_ran: this cell's was written (else prof_reason); prof_dir relative to
     * the results' folder; the top functions by their own samples, most first. */
    bool prof_asked, prof_ran;
    char prof_reason[256], prof_dir[160], prof_unwind[8];
    double prof_samples;
    int prof_ntop;
    struct {
        char function[160];
        double self_pct;
    } prof_top[FIG_MAX_PROFILE_TOP];
} fig_cell_t;

typedef struct {
    bool known;                   /* the run measured this language's development figures */
    bool cached;                  /* taken from the cache (same sources) */
    char measured[32];            /* when the build figures were measured, UTC */
    char toolchain[128];
    char cpus[64];                /* the CPUs the builds were pinned to */
    double clean_wall_s, clean_cpu_s, incr_wall_s, incr_cpu_s;
    double binary_bytes, stripped_bytes;
    double deps_direct, deps_total;
    /* Why a figure is NAN: the builds', the binary's sizes', the dependencies' ("": none). */
    char build_reason[512], size_reason[256], deps_reason[256];
    double loc_shared;
    struct {
        char workload[16], tier[24];
        double code;
    } loc[16];
    int nloc;
} fig_dev_t;

typedef struct {
    char dir[4096];               /* where results.json was read */
    char version[32];             /* the stackbench that wrote it */
    char date[40], cpu_model[256], kernel[64];
    int cores;
    double memory_kib;
    /* versions: each toolchain as it names itself ("c": the compiler's first line). */
    int nversions;
    struct {
        char name[16], text[160];
    } versions[FIG_MAX_LIST];
    /* flags: the command line and what it set. */
    char command[1024];
    char langs[FIG_MAX_LIST][32], workloads[FIG_MAX_LIST][16];
    int nlangs, nworkloads;
    int service_cpus;             /* the CPUs the services were pinned to (0: not known) */
    char cpus_service[128], cpus_load[128];
    double load_threads, connections, warmup_s;
    double rate;                  /* open loop at this rate; NAN: max (closed loop) */
    bool database;                /* sql ran: the database below says where */
    bool db_managed;              /* a throwaway PostgreSQL of the lab's (else --pg-url) */
    char cpus_db[128];
    double pool;
    double duration_s, equal_load_pct;
    bool have_equal, have_sweep, have_dev; /* the blocks that are not null */
    double equal_load_s;          /* each equal-load cell's measured time */
    char loc_counter[128];        /* dev: what counted the code lines */
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
/* The fastest cell that held of workload in tier, or NULL: who leads it, what "vs tier"
 * compares with (cells of one workload in one tier compare; across tiers strategies differ). */
const fig_cell_t *figures_top(const figures_t *f, const char *workload, const char *tier);
/* "go idiomatic": the implementation as the tables and the page name it. */
void fig_label(const fig_cell_t *c, char *out, size_t n);
/* A cell's CPU per request with its database's share (sql): what an instance must supply. */
double fig_cpu_us(const fig_cell_t *c);
/* A language's lines of code for workload in tier (NAN: not measured). */
double fig_loc(const fig_dev_t *d, const char *workload, const char *tier);

#endif
