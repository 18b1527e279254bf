/* impl: the implementations stackbench measures, one table: the C services of this binary and
 * the Go and Rust peers (peers/go, peers/rust), how each is built, where its binary is, and
 * the command line that serves a workload on a free port.
 *
 * Also the flags shared by the commands that run implementations (`stackbench run` and
 * `stackbench durability`): which languages, how long, how many connections and database
 * connections, which CPUs the services and the load engine get, where the peers are. */
#ifndef SB_SUT_IMPL_H
#define SB_SUT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"
#include "core/opt.h"

#define IMPL_MAX 8

typedef struct {
    const char *lang;         /* "c", "go", "rust" */
    const char *binary;       /* under the peers folder; NULL: this binary (`stackbench serve`) */
    const char *build_target; /* `make -C PEERS TARGET` builds it (skipping what is up to date);
                               * NULL: nothing to build */
} impl_t;

/* The implementation of lang, or NULL. */
const impl_t *impl_find(const char *lang);
/* "c", "go", "rust", NULL: every language, for flags and help. */
extern const char *const impl_langs[];

/* Its binary's path. 0, or -1 with the reason in why (not built). */
int impl_binary(const impl_t *im, const char *peers_dir, char *bin, size_t n, char *why,
                size_t whylen);
/* Builds it if it has a build (make prints nothing when it is up to date). 0, or -1 with the
 * last line make printed in why. */
int impl_build(const impl_t *im, const char *peers_dir, char *why, size_t whylen);

/* The command line serving workload on a free port (it prints the port it got): BIN [serve]
 * WORKLOAD --port 0, and for a database workload --pg-url URL --pool N. */
typedef struct {
    const char *argv[12];
    char pool[16];
} impl_argv_t;
void impl_argv(const impl_t *im, const char *bin, const char *workload, const char *pg_url,
               int pool, impl_argv_t *out);

/* ---- the shared flags of run and durability ---- */

typedef struct {
    const char *langs[IMPL_MAX];
    int nlangs;
    int64_t duration_ns;
    int connections;
    int pool;                 /* database connections of every sql service */
    cpuset_t cpus_service, cpus_load;
    bool have_cpus_service, have_cpus_load;
    const char *peers_dir;
    bool progress;            /* progress lines on stderr (it is a terminal) */
} impl_opts_t;

/* Every language, 64 connections, pool 8; duration_ns as given. */
void impl_opts_init(impl_opts_t *o, int64_t duration_ns);
/* The flag-table entries of the shared flags into out (room for IMPL_OPTS_FLAGS), with the
 * command's own help for --duration and --connections. Returns how many. */
#define IMPL_OPTS_FLAGS 7
int impl_opts_flags(impl_opts_t *o, const char *duration_help, const char *connections_help,
                    opt_t *out);
/* After the flags: the CPU split not given (the services get the first half of this process's
 * CPUs, the load the rest; on one CPU both share it), peers_dir, progress. */
void impl_opts_resolve(impl_opts_t *o);

#endif
