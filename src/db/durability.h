/* durability: nothing lost when the database dies. Each language's sql service on a throwaway
 * PostgreSQL of its own, under a write-only load, while PostgreSQL is killed and restarted;
 * then every order it answered 201 must be in the database, once, as answered. */
#ifndef SB_DB_DURABILITY_H
#define SB_DB_DURABILITY_H

#include <stdbool.h>
#include <stdint.h>

#include "sut/impl.h"

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
 * o->pool; POST /orders for random accounts from o->connections connections for
 * o->duration_ns; a third of the way in, PostgreSQL is killed with SIGKILL, and started
 * again a tenth of the run later (at least 500 ms). Then every order answered 201 must be in
 * the database exactly as answered, no order id answered twice, every balance equal to the
 * opening balance minus the account's orders, 503 answered while the database was down, 201
 * again after it came back, no request left unanswered past 3 s, and a clean exit. Call from
 * the main thread (db.h). 0 when all held; -1 with d->reason. */
int durability_run(const impl_opts_t *o, const char *lang, durability_t *d);

/* `stackbench durability`. */
int cmd_durability(int argc, char **argv);

#endif
