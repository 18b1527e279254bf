/* lab: `stackbench run`, the matrix of workloads × languages measured side by side.
 *
 * For each cell: build if needed, start the service pinned to the service CPUs, wait until it
 * answers, check it against the contract (on a first instance), start a fresh instance, warm
 * it up (not measured), load it in-process from the load CPUs while sampling its /proc (RSS,
 * CPU, threads), check every answer's status and body, stop it with SIGTERM and check that it
 * exited cleanly and served exactly the requests the lab sent. A cell that fails to build,
 * start or verify is reported with its reason and the run goes on. */
#ifndef SB_LAB_LAB_H
#define SB_LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/load.h"

#define LAB_MAX 8

typedef struct {
    const char *langs[LAB_MAX];
    int nlangs;
    const char *workloads[LAB_MAX];
    int nworkloads;
    int64_t duration_ns, warmup_ns;
    int connections;
    double rate;                    /* 0: max (closed loop) */
    unsigned char cpus_service[1024], cpus_load[1024];
    char cpus_service_str[64], cpus_load_str[64];
    int n_service_cpus, n_load_cpus;
    const char *out_dir;
    const char *peers_dir;          /* where peers/go and peers/rust are */
    bool progress;
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
} lab_cell_t;

/* What the lab sends for a workload and how it checks each answer. */
typedef struct {
    const char *name;
    const char *method, *path;
    const char *const *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    const char *expect_body;        /* every 200 answer must be exactly this */
    size_t expect_len;
} lab_workload_t;

/* The lab's definition of a workload (its request and expected answer), or NULL. */
const lab_workload_t *lab_workload(const char *name);

/* Runs the matrix. cells gets nworkloads × nlangs entries. 0, or -1 when nothing could run. */
int lab_run(const lab_config_t *cfg, lab_cell_t *cells);

/* The aligned table for people; results.json and results.md in cfg->out_dir. */
void lab_print_table(const lab_config_t *cfg, const lab_cell_t *cells, int n);
int lab_write_results(const lab_config_t *cfg, const lab_cell_t *cells, int n, char *err,
                      size_t errlen);

/* `stackbench run`. */
int lab_main(int argc, char **argv);

#endif
