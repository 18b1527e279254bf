/* dev: what each language's implementation costs to develop, measured by the lab before any
 * cell (the cost to start, per cell, is in run.h: startup_ms, idle_rss_kib).
 *
 * Per language of the run (the C services are this binary, built from src/ with the
 * Makefile; Go is peers/go, one binary for its tiers; Rust is peers/rust, one binary):
 *
 * - build: the sources its build reads are copied into a new temporary folder (the user's tree
 *   is never written) and built there with the real build's command (the Makefile's target;
 *   peers/Makefile's), pinned to the service CPUs: first clean, with the caches a new clone
 *   would have (C: a new empty build/; Go: a new empty GOCACHE, the module cache kept,
 *   GOPROXY=off; Rust: a new empty CARGO_TARGET_DIR, ~/.cargo/registry kept, offline and
 *   locked), then again after one line is appended to the echo workload's handler file, the
 *   compiler's caches now warm. Wall time, and the CPU time of every process of the build
 *   (the children's user + system time). The folder is removed afterwards (one an interrupted
 *   run left, by the next run);
 * - the binary's size as built, and stripped (`strip` of a copy);
 * - its dependencies, direct and in all (deps.h);
 * - code lines per workload and tier, and of the server code the tiers share (loc.h), from
 *   one table mapping each (language, workload, tier) to its files.
 *
 * Builds take minutes, so their figures (build, sizes, dependencies) are kept in
 * $XDG_CACHE_HOME/stackbench/dev/LANG-HASH.json (default ~/.cache/stackbench/dev/), HASH being
 * the FNV-1a 64 hash of the build's sources (each file's path, its length and its bytes, in
 * path order), and used again while the sources, the toolchain's version and the service CPUs
 * are the same. Code lines are counted every time (milliseconds). A figure that could not be
 * measured is NAN or -1 with the reason beside it. */
#ifndef SB_LAB_DEV_H
#define SB_LAB_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/jsonw.h"
#include "sut/impl.h"

#define DEV_MAX_LANGS 3
#define DEV_MAX_LOC 8        /* rows per language: its workloads × tiers, then shared */

typedef enum {
    DEV_CACHED,              /* the cache's figures when they are for these sources */
    DEV_MEASURE,             /* measured again (--dev-metrics) */
    DEV_SKIP,                /* not at all (--no-dev-metrics) */
} dev_mode_t;

typedef struct {
    const char *workload;    /* "echo" ...; "shared": the server code its tiers share */
    const char *tier;        /* "" for shared */
    const char *const *files; /* relative to the repository, NULL-terminated */
    long code;               /* -1: not counted (reason) */
    char reason[256];
} dev_loc_t;

typedef struct {
    const char *lang;
    char source_hash[17];    /* 16 hex digits */
    int nsources;            /* files hashed and copied */
    bool cached;             /* the build figures come from the cache */
    char measured[32];       /* when they were measured, UTC */
    char toolchain[160];     /* the compiler's version line */
    struct {
        double clean_wall_s, clean_cpu_s;             /* NAN: not measured */
        double incremental_wall_s, incremental_cpu_s;
        char command[160];   /* what ran, in the copy */
        const char *cleared; /* what a clean build starts without */
        const char *change;  /* the line appended for the incremental build */
        char changed[160];   /* FILE:LINE of that line */
        char cpus[64];
        char reason[512];
    } build;
    const char *binary;      /* relative to the repository */
    int64_t binary_bytes, stripped_bytes;             /* -1: not measured (reason) */
    char size_reason[256];
    int deps_direct, deps_total;                      /* -1: not counted (deps_reason) */
    const char *deps_from;
    char deps_reason[256];
    int nloc;
    dev_loc_t loc[DEV_MAX_LOC];
} dev_lang_t;

typedef struct {
    bool ran;                /* false: --no-dev-metrics */
    int n;
    dev_lang_t langs[DEV_MAX_LANGS];
    double elapsed_s;        /* the whole stage */
    char cache_dir[4096];
} dev_report_t;

/* What results.json says of the counters. */
extern const char dev_loc_counter[], dev_loc_excluded[], dev_hash_note[];

/* The languages of o->langs (its built-in ones, in impl_langs order), each from the cache or
 * measured as mode says, with progress on stderr when o->progress. Sources are looked for
 * beside the peers folder (o->peers_dir/..). Call before any cell runs, from the main thread
 * (the builds are its children). */
void dev_run(const impl_opts_t *o, dev_mode_t mode, dev_report_t *out);

/* One language's object of results.json's dev.langs; loc: with its code lines (the cache
 * file has the same object without them, nor cached). */
void dev_write_lang(jsonw_t *w, const dev_lang_t *d, bool loc);

#endif
