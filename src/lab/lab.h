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
    unsigned char cpus_db[1024];    /* sql: the throwaway PostgreSQL's CPUs (default: the
                                     * service's: service and database share them) */
    char cpus_service_str[64], cpus_load_str[64], cpus_db_str[64];
    int n_service_cpus, n_load_cpus, n_db_cpus;
    const char *out_dir;
    const char *peers_dir;          /* where peers/go and peers/rust are */
    const char *pg_url;             /* sql: a server to create the database on; NULL: the lab
                                     * starts a throwaway PostgreSQL (pg.h) */
    int pool;                       /* sql: database connections of every service (--pool) */
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

/* What the lab sends for a workload and how it checks each answer: one request whose every
 * answer must be 200 with exactly expect_body, or (mix) a weighted mix of request templates
 * whose answers `check` judges one by one. */
typedef struct {
    const char *name;
    const char *method, *path;
    const char *const *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    const char *expect_body;        /* every 200 answer must be exactly this */
    size_t expect_len;
    const mix_template_t *mix;      /* instead of method, path and body */
    size_t nmix;
    load_check_cb check;            /* with mix: the answer to what was sent */
    const char *db_reset;           /* SQL that puts the database back as the schema left it
                                     * (run before each language; NULL: no database) */
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
int cmd_run(int argc, char **argv);

/* Defaults: every language and workload, 10 s after 3 s of warm-up, 64 connections, pool 8. */
void lab_config_init(lab_config_t *cfg);
/* After the flags: the CPU split not given (the service gets the first half of this process's
 * CPUs, the load the rest), the counts and strings, peers_dir, progress. */
void lab_config_resolve(lab_config_t *cfg, bool have_scpu, bool have_lcpu);
/* cpus_db when not given: the service CPUs. */
void lab_config_resolve_db(lab_config_t *cfg, bool have_dbcpu);

/* Flags that `stackbench run` and `stackbench durability` share: --langs, --duration,
 * --connections, --pool, --cpus-service, --cpus-load, --peers. A command puts
 * LAB_COMMON_OPTIONS in its getopt_long table, numbers its own flags from LAB_O_OWN, and hands
 * what getopt_long returns to lab_common_flag. */
enum { LAB_O_LANGS = 256, LAB_O_DURATION, LAB_O_CONNECTIONS, LAB_O_POOL, LAB_O_CPUS_SERVICE,
       LAB_O_CPUS_LOAD, LAB_O_PEERS, LAB_O_OWN };
#define LAB_COMMON_OPTIONS                                                                        \
    {"langs", required_argument, 0, LAB_O_LANGS},                                                 \
        {"duration", required_argument, 0, LAB_O_DURATION},                                       \
        {"connections", required_argument, 0, LAB_O_CONNECTIONS},                                 \
        {"pool", required_argument, 0, LAB_O_POOL},                                               \
        {"cpus-service", required_argument, 0, LAB_O_CPUS_SERVICE},                               \
        {"cpus-load", required_argument, 0, LAB_O_CPUS_LOAD},                                     \
        {"peers", required_argument, 0, LAB_O_PEERS}

typedef struct {
    bool cpus_service, cpus_load;   /* given: lab_config_resolve leaves them */
} lab_flags_seen_t;

/* Applies flag c (with its argument, kept) to cfg if it is one of the shared ones; a bad value
 * is one line naming `stackbench CMD` and exit 2. false: not a shared flag. */
bool lab_common_flag(const char *cmd, int c, char *arg, lab_config_t *cfg, lab_flags_seen_t *seen);

/* "a,b,c" into out (strtok: s is cut up), each checked against allowed (NULL-terminated); a
 * value not allowed, too many or none: one line and exit 2. The count. */
int lab_split_list(const char *cmd, const char *flag, char *s, const char **out, int max,
                   const char *const *allowed);

/* The binary that serves `lang` (c: this one). 0, or -1 with the reason in why. */
int lab_lang_binary(const lab_config_t *cfg, const char *lang, char *bin, size_t n, char *why,
                    size_t wn);

/* ---- nothing lost: the sql service while its database is killed ---- */

typedef struct {
    const char *lang;
    bool ok;
    char reason[512];
    int64_t run_ns;
    double kill_at_ms;              /* when PostgreSQL got SIGKILL, from the load's start */
    double outage_ms;               /* from the kill to the restarted server accepting */
    double recovery_ms;             /* from then to the first 201; -1: none */
    uint64_t answered_201, answered_503, other_status;
    uint64_t before_kill, after_restart; /* 201s before the kill, after the restart */
    uint64_t timeouts, connection_errors, body_errors;
    uint64_t orders_in_db;          /* including orders whose answer never came (in flight) */
    uint64_t lost;                  /* answered 201, not in the database */
    uint64_t duplicates;            /* an order id answered 201 twice */
    uint64_t mismatched;            /* in the database with another account or amount */
    uint64_t balance_mismatches;    /* accounts whose balance is not opening - their orders */
    int exit_status;
} durability_t;

/* A throwaway PostgreSQL (pinned to the service CPUs) and lang's sql service with --pool
 * cfg->pool; POST /orders for random accounts from cfg->connections connections for
 * cfg->duration_ns; a third of the way in, PostgreSQL is killed with SIGKILL, and started
 * again a tenth of the run later (at least 500 ms). Then every order answered 201 must be in
 * the database exactly as answered, no order id answered twice, every balance equal to the
 * opening balance minus the account's orders, 503 answered while the database was down, 201
 * again after it came back, no request left unanswered past 3 s, and a clean exit. Call from
 * the main thread (pg.h). 0 when all held; -1 with d->reason. */
int durability_run(const lab_config_t *cfg, const char *lang, durability_t *d);

/* `stackbench durability`. */
int cmd_durability(int argc, char **argv);

/* `stackbench pg`: a throwaway PostgreSQL around a command. */
int cmd_pg(int argc, char **argv);

#endif
