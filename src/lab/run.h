/* run: `stackbench run`, the matrix of workloads × implementations measured side by side.
 *
 * Before any cell, each language's development figures (lab/dev.h: builds, sizes,
 * dependencies, code lines; from the cache when its sources have not changed).
 *
 * Each cell is a pipeline of stages, each taking what the last one left in the cell: prepare
 * (its workload, binary and command line; the database reset to the schema's state), verify
 * (a first instance, pinned to the service CPUs, checked against the workload's contract,
 * then stopped: it must exit cleanly on SIGTERM), start (a fresh instance, healthy: the time
 * from its spawn to the first 200 of GET /health, and its RSS then, idle), warm up
 * (loaded, not measured), measure (loaded in-process from the load CPUs while its /proc is
 * sampled: RSS, CPU, threads; and the database's CPU; with --cpu-profile its CPU profile, by
 * perf), stop (SIGTERM, its exit status and
 * what it says it served), check (every answer's status and body, served == sent). A cell
 * that fails a stage is reported with its reason and the run goes on. */
#ifndef SB_LAB_RUN_H
#define SB_LAB_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"
#include "lab/dev.h"
#include "load/load.h"
#include "sut/impl.h"

#define LAB_MAX_WORKLOADS 8
#define LAB_MAX_CELLS 64
#define LAB_MAX_WINDOWS 200            /* 100 ms windows kept per equal-load cell */
#define LAB_SWEEP_POINTS 6
#define LAB_SPECTRUM_MAX 128           /* percentile points kept per run (about 90 are used) */

/* A run's percentile spectrum: points {percentile, latency} read from its merged histogram
 * (load/hist.h hist_spectrum, 5 ticks per half distance, 0 % to 99.999 %, then the max at
 * 100 %), for the report's latency-by-percentile chart. Percentile points, not the encoded
 * histogram: enough to draw it, nothing to merge. */
typedef struct {
    int n;
    struct {
        double pct, us;
    } pt[LAB_SPECTRUM_MAX];
} lab_spectrum_t;

/* Fills s from h (nanoseconds). */
void lab_spectrum(lab_spectrum_t *s, const hist_t *h);

#define LAB_PROFILE_TOP 10

/* --cpu-profile: the service's CPU during a cell's measured run, sampled by perf
 * (telemetry/profile.h), its files in OUT/profiles/WORKLOAD-NAME-TIER (lab/cpu_profile.h). */
typedef struct {
    bool ran;                       /* recorded and written (else reason says why not) */
    char reason[256];
    uint64_t samples;
    const char *unwind;             /* "fp" or "dwarf" */
    char dir[160];                  /* the files' folder, relative to the run's output folder */
    int ntop;
    struct {
        char function[160];
        double self_pct;            /* of all samples */
    } top[LAB_PROFILE_TOP];         /* most self samples first */
} lab_profile_t;

typedef struct {
    impl_opts_t impl;               /* languages, duration, connections, pool, CPUs, peers */
    const char *workloads[LAB_MAX_WORKLOADS];
    int nworkloads;
    const char *tiers[4];           /* --tiers: the tiers run (default both) */
    int ntiers;
    impl_t user[IMPL_MAX];          /* --impl NAME=COMMAND: implementations of the user's */
    int nuser;
    int64_t warmup_ns;
    double rate;                    /* 0: max (closed loop) */
    int equal_load_pct;             /* the equal-load block's rate: this % of the slowest
                                     * maximum of each workload; 0: no such block */
    int64_t equal_load_ns;          /* its measured time per cell */
    bool sweep;                     /* each implementation at 10..100 % of its own maximum */
    cpuset_t cpus_db;               /* sql: the throwaway PostgreSQL's CPUs (default: the
                                     * service's: service and database share them) */
    bool have_cpus_db;
    dev_mode_t dev_mode;            /* the development figures: cached, measured again, skipped */
    bool cpu_profile;               /* each cell's service profiled while measured */
    const char *out_dir;
    const char *pg_url;             /* sql: a server to create the database on; NULL: the lab
                                     * starts a throwaway PostgreSQL (db/db.h) */
    char argv_line[1024];           /* the exact command line, for results.json */
} lab_config_t;

/* An open-loop run of a cell at a given rate: the equal-load block, a point of a sweep. */
typedef struct {
    bool ran;                       /* measured (else reason says why not) */
    char reason[256];
    double rate;                    /* the target, req/s */
    double rate_achieved;           /* answers / elapsed */
    bool held;                      /* rate_achieved within 1 % of the target, no errors */
    uint64_t requests, errors, unsent;
    double lat_us[6];               /* p50, p99, p99.9, p99.99, max, mean */
    lab_spectrum_t spectrum;
    int nwindows;                   /* the latency of each 100 ms, by completion time */
    struct {
        double p99_us, max_us;
        uint64_t count;
    } windows[LAB_MAX_WINDOWS];
    /* Go: the runtime's stop-the-world GC pauses during the run (runtime/metrics), read from
     * the peer's /debug/gc-pauses (gc_known); -1 when there was none. */
    bool gc_known;
    double gc_pause_p99_us, gc_pause_max_us;
    long long gc_cycles, gc_pauses;
} lab_open_t;

typedef struct {
    const char *workload;
    const impl_t *impl;             /* who serves it, and how (impl_serves) */
    const impl_serves_t *serves;
    const char *name, *lang, *tier, *framework, *does, *db_strategy; /* labels, from impl */
    bool ok;
    char reason[512];
    uint64_t requests;
    double rps;
    double lat_us[6];               /* p50, p90, p99, p99.9, max, mean */
    lab_spectrum_t spectrum;        /* of the measured run */
    uint64_t rss_peak_kib;
    double rss_mean_kib;
    double cpu_s;                   /* service CPU during the measured run */
    double cpu_us_per_req;
    int threads;
    uint64_t errors;
    uint64_t status_errors, body_errors;
    bool load_bound;                /* the load engine, not the service, was saturated */
    double load_cpu_share;          /* load CPU used / load CPU available */
    long long served;               /* what the service said it served; -1: it does not say */
    uint64_t sent;                  /* what the lab had answered: health + warm-up + measured */
    int exit_status;
    uint64_t binary_bytes;
    /* The start stage's fresh instance: from its spawn to the first 200 of GET /health, and
     * its VmRSS right then, before any load; -1: it did not get that far. */
    double startup_ms;
    int64_t idle_rss_kib;
    double db_cpu_s;                /* sql: the database's CPU in the measured run; -1: not
                                     * metered (a server given with --pg-url) */
    double db_cpu_us_per_req;
    double db_cpu_share;            /* db_cpu_s / (elapsed × database CPUs) */
    /* sql: the work the database did per request the instance served (its warm-up and
     * measured requests): statements it executed (pg_stat_statements calls: the round trips
     * a request needs when it has the connection to itself; pipelining overlaps them) and
     * transactions that wrote (transaction ids used); -1: not known. */
    double db_round_trips_per_req, db_commits_per_req;
    /* A mix (sql): each template's answers and latency, in the workload's order. */
    int nby_request;
    struct {
        const char *method, *target;
        uint64_t requests, errors;
        double lat_us[4];           /* p50, p90, p99, p99.9 */
        uint64_t messages;          /* grpc: the messages its calls answered */
    } by_request[MIX_MAX_TEMPLATES];
    bool grpc;                      /* calls of gRPC: requests are calls, and messages */
    uint64_t messages;              /* grpc: messages received in the measured run */
    double messages_per_s;
    lab_profile_t profile;          /* --cpu-profile (cpu_profile of the config) */
    lab_open_t equal;               /* the equal-load block's run (equal.ran) */
    lab_open_t sweep[LAB_SWEEP_POINTS]; /* --sweep: at lab_sweep_pct[i] % of its maximum */
} lab_cell_t;

extern const int lab_sweep_pct[LAB_SWEEP_POINTS];

/* Defaults: every implementation of every tier and workload, 10 s after 3 s of warm-up, 64
 * connections, pool 8, the equal-load block at 70 % for 5 s. */
void lab_config_init(lab_config_t *cfg);
/* After the flags: impl_opts_resolve, and cpus_db when not given (the service CPUs). */
void lab_config_resolve(lab_config_t *cfg);

/* The cells the configuration asks for, workload-major, then in implementation order (the
 * built-ins of --langs and --tiers, then the user's). Returns how many (at most max). */
int lab_plan(const lab_config_t *cfg, lab_cell_t *cells, int max);

/* The development figures of the run's languages into dev (cfg->dev_mode), then the planned
 * cells. Call from the main thread (the builds, the services and the database are its
 * children: db/db.h). */
void lab_run(const lab_config_t *cfg, lab_cell_t *cells, int n, dev_report_t *dev);

/* `stackbench run`. */
int cmd_run(int argc, char **argv);

#endif
