/* impl: the implementations stackbench measures, one table: the C services of this binary and
 * the Go and Rust peers (peers/go, peers/rust), each in its tiers, plus those a user adds
 * (`stackbench run --impl NAME=COMMAND`); how each is built, where its binary is, what does the
 * work for each workload, and the command line that serves a workload.
 *
 * A tier says which strategy a row measures: `idiomatic` (the libraries a good team of that
 * language reaches for first, used competently) or `tuned` (the algorithm and strategy of the
 * fastest known implementation, written by hand in that language). For sql the tier goes with
 * the database strategy: `exclusive` (a connection serves one request at a time, as a pool
 * lends it) or `pipelined 32` (up to 32 requests in flight on one connection).
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

#define IMPL_MAX 16           /* implementations in one run, user ones included */
#define IMPL_MAX_WORKLOADS 4

/* What an implementation does for one workload. */
typedef struct {
    const char *workload;     /* "echo" */
    const char *does;         /* what does the work: "encoding/csv", "one-pass scan, SWAR" */
    const char *args;         /* its own flags for it, space-separated ("--tier tuned"), or "" */
    const char *db_strategy;  /* sql: "exclusive", "pipelined 32"; NULL for the others */
    const char *framework;    /* when it is not the implementation's (grpc: "grpc-go"); NULL */
} impl_serves_t;

typedef struct {
    const char *name;         /* what --langs and the tables call it: its language, or a
                               * user's NAME */
    const char *lang;
    const char *tier;         /* "idiomatic", "tuned", or a user's label */
    const char *framework;    /* its HTTP server: "stackbench server core", "net/http" ... */
    const char *binary;       /* under the peers folder; NULL: this binary, or a user command */
    const char *build_target; /* `make -C PEERS TARGET` builds it; NULL: nothing to build */
    const char *command;      /* a user's implementation: a shell command, {port} {workload}
                               * {pg_url} {pool} filled in; NULL: built in */
    impl_serves_t serves[IMPL_MAX_WORKLOADS];
} impl_t;

/* The built-in implementations, NULL-terminated, in table order (C, Go, Rust; tuned before
 * idiomatic). */
extern const impl_t *const impl_builtin[];
/* "c", "go", "rust", NULL: the built-in languages, for flags and help. */
extern const char *const impl_langs[];
/* "idiomatic", "tuned", NULL. */
extern const char *const impl_tiers[];

/* What im does for workload, or NULL when it does not implement it. */
const impl_serves_t *impl_serves(const impl_t *im, const char *workload);
/* The first built-in implementation of lang that serves workload (its default variant), or
 * NULL. */
const impl_t *impl_default(const char *lang, const char *workload);

/* Its binary's path (a user implementation: /bin/sh). 0, or -1 with the reason in why (not
 * built). */
int impl_binary(const impl_t *im, const char *peers_dir, char *bin, size_t n, char *why,
                size_t whylen);
/* Builds it if it has a build (make prints nothing when it is up to date). 0, or -1 with the
 * last line make printed in why. */
int impl_build(const impl_t *im, const char *peers_dir, char *why, size_t whylen);

/* The command line serving workload: built in, BIN [serve] WORKLOAD --port 0 and its own flags
 * (it prints the port it got), and for a database workload --pg-url URL --pool N; a user's,
 * /bin/sh -c COMMAND with port (chosen by the caller), workload, pg_url and pool filled in. */
typedef struct {
    const char *argv[24];
    char pool[16], port[16];
    char words[256];          /* the serves' args, cut into words */
    char command[4096];       /* a user command, filled in */
} impl_argv_t;
/* 0, or -1 with the reason in why (a user command too long). */
int impl_argv(const impl_t *im, const char *bin, const char *workload, const char *pg_url,
              int pool, int port, impl_argv_t *out, char *why, size_t whylen);

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
