/* run: `stackbench run`, the matrix of workloads × implementations measured side by side.
 *
 * Each cell is a pipeline of stages, each taking what the last one left in the cell: prepare
 * (its workload, binary and command line; the database reset to the schema's state), verify
 * (a first instance, pinned to the service CPUs, checked against the workload's contract,
 * then stopped: it must exit cleanly on SIGTERM), start (a fresh instance, healthy), warm up
 * (loaded, not measured), measure (loaded in-process from the load CPUs while its /proc is
 * sampled: RSS, CPU, threads; and the database's CPU), stop (SIGTERM, its exit status and
 * what it says it served), check (every answer's status and body, served == sent). A cell
 * that fails a stage is reported with its reason and the run goes on. */
#ifndef SB_LAB_RUN_H
#define SB_LAB_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"
#include "load/load.h"
#include "sut/impl.h"

#define LAB_MAX_WORKLOADS 8

typedef struct {
    impl_opts_t impl;               /* languages, duration, connections, pool, CPUs, peers */
    const char *workloads[LAB_MAX_WORKLOADS];
    int nworkloads;
    int64_t warmup_ns;
    double rate;                    /* 0: max (closed loop) */
    cpuset_t cpus_db;               /* sql: the throwaway PostgreSQL's CPUs (default: the
                                     * service's: service and database share them) */
    bool have_cpus_db;
    const char *out_dir;
    const char *pg_url;             /* sql: a server to create the database on; NULL: the lab
                                     * starts a throwaway PostgreSQL (db/db.h) */
    char argv_line[1024];           /* the exact command line, for results.json */
} lab_config_t;

typedef struct {
    const char *workload, *lang;
    bool ok;
    char reason[512];
    uint64_t requests;
    double rps;
    double lat_us[6];               /* p50, p90, p99, p99.9, max, mean */
    uint64_t rss_peak_kib;
    double rss_mean_kib;
    double cpu_s;                   /* service CPU during the measured run */
    double cpu_us_per_req;
    int threads;
    uint64_t errors;
    uint64_t status_errors, body_errors;
    bool load_bound;                /* the load engine, not the service, was saturated */
    double load_cpu_share;          /* load CPU used / load CPU available */
    long long served;               /* what the service said it served */
    uint64_t sent;                  /* what the lab had answered: health + warm-up + measured */
    int exit_status;
    uint64_t binary_bytes;
    double db_cpu_s;                /* sql: the database's CPU in the measured run; -1: not
                                     * metered (a server given with --pg-url) */
    double db_cpu_us_per_req;
    double db_cpu_share;            /* db_cpu_s / (elapsed × database CPUs) */
    /* A mix (sql): each template's answers and latency, in the workload's order. */
    int nby_request;
    struct {
        const char *method, *target;
        uint64_t requests, errors;
        double lat_us[4];           /* p50, p90, p99, p99.9 */
    } by_request[MIX_MAX_TEMPLATES];
} lab_cell_t;

/* Defaults: every language and workload, 10 s after 3 s of warm-up, 64 connections, pool 8. */
void lab_config_init(lab_config_t *cfg);
/* After the flags: impl_opts_resolve, and cpus_db when not given (the service CPUs). */
void lab_config_resolve(lab_config_t *cfg);

/* Runs the matrix. cells gets nworkloads × nlangs entries, workload-major. Call from the main
 * thread (the services and the database are its children: db/db.h). */
void lab_run(const lab_config_t *cfg, lab_cell_t *cells);

/* `stackbench run`. */
int cmd_run(int argc, char **argv);

#endif
