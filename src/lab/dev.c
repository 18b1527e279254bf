/* The development figures (dev.h): per language, the sources its build reads, their hash, a
 * clean and an incremental build of a copy of them, the binary's sizes, its dependencies, and
 * code lines from the table of which files make which workload and tier. */
#include "lab/dev.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec/json.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/proc.h"
#include "lab/deps.h"
#include "lab/loc.h"

/* Bumped when what is measured or how changes: cached figures of another method are measured
 * again. */
#define DEV_METHOD 1
#define BUILD_TIMEOUT (30 * 60 * NS_PER_S) /* a clean Rust release build on a small machine */
#define MAX_SOURCES 512
#define PATH_CAP 4096

const char dev_loc_counter[] = "stackbench's own counter (blank and comment lines excluded)";
const char dev_loc_excluded[] =
    "tests: Go's _test.go files and C's tests/ are not in the table, Rust's #[cfg(test)] items "
    "are not counted; a file serving several tiers counts in each";
const char dev_hash_note[] =
    "FNV-1a 64 of each source file's path, length and bytes, in path order";

/* ---- which files make which workload and tier: the one table ---- */

#define FILES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Each (language, workload, tier) and the files that make it, relative to the repository;
 * then each language's "shared": the server code under all its workloads. C's shared part is
 * its own HTTP server (the server core, the HTTP/1.1 codec, the event loop, buffers, sockets):
 * what the Go and Rust services take from net/http and axum, hyper and tokio. */
static const struct {
    const char *lang, *workload, *tier;
    const char *const *files;
} loc_map[] = {
    {"c", "echo", "tuned", FILES("src/serve/echo.c", "src/codec/json.c", "src/codec/json.h")},
    {"c", "csv", "idiomatic",
     FILES("src/serve/csv.c", "src/serve/csv_idiomatic.c", "src/serve/csv_idiomatic.h")},
    {"c", "csv", "tuned", FILES("src/serve/csv.c", "src/codec/csv.c", "src/codec/csv.h")},
    {"c", "sql", "idiomatic",
     FILES("src/serve/sql.c", "src/serve/sql_request.c", "src/serve/sql_request.h",
           "src/serve/sql_queries.c", "src/serve/sql_queries.h", "src/serve/pgpool.c",
           "src/serve/pgpool.h", "src/core/pq.c", "src/core/pq.h")},
    {"c", "sql", "tuned",
     FILES("src/serve/sql.c", "src/serve/sql_request.c", "src/serve/sql_request.h",
           "src/serve/sql_queries.c", "src/serve/sql_queries.h", "src/serve/pgpool.c",
           "src/serve/pgpool.h", "src/core/pq.c", "src/core/pq.h")},
    {"c", "shared", "",
     FILES("src/serve/server.c", "src/serve/server.h", "src/serve/services.h", "src/serve/cli.c",
           "src/http/http1.c", "src/http/http1.h", "src/core/loop.c", "src/core/loop.h",
           "src/core/buf.c", "src/core/buf.h", "src/core/net.c", "src/core/net.h",
           "src/telemetry/metrics.c", "src/telemetry/metrics.h", "src/telemetry/trace.c",
           "src/telemetry/trace.h", "src/telemetry/otlp.c", "src/telemetry/otlp.h")},
    {"go", "echo", "idiomatic", FILES("peers/go/echo.go")},
    {"go", "echo", "tuned", FILES("peers/go/echo_tuned.go")},
    {"go", "csv", "idiomatic", FILES("peers/go/csv.go")},
    {"go", "csv", "tuned", FILES("peers/go/csv_tuned.go")},
    {"go", "sql", "idiomatic", FILES("peers/go/sql.go")},
    {"go", "shared", "",
     FILES("peers/go/main.go", "peers/go/server.go", "peers/go/debug.go", "peers/go/telemetry.go",
           "peers/go/httpmetrics.go", "peers/go/tracing.go")},
    {"rust", "echo", "idiomatic", FILES("peers/rust/src/echo.rs")},
    {"rust", "echo", "tuned", FILES("peers/rust/src/echo.rs", "peers/rust/src/echo/tuned.rs")},
    {"rust", "csv", "idiomatic", FILES("peers/rust/src/csv.rs")},
    {"rust", "csv", "tuned", FILES("peers/rust/src/csv.rs", "peers/rust/src/csv/tuned.rs")},
    {"rust", "sql", "idiomatic",
     FILES("peers/rust/src/sql.rs", "peers/rust/src/sql/exclusive.rs",
           "peers/rust/src/sql/queries.rs")},
    {"rust", "sql", "tuned",
     FILES("peers/rust/src/sql.rs", "peers/rust/src/sql/pipelined.rs",
           "peers/rust/src/sql/queries.rs")},
    {"rust", "shared", "",
     FILES("peers/rust/src/main.rs", "peers/rust/src/server.rs", "peers/rust/src/tier.rs",
           "peers/rust/src/lib.rs", "peers/rust/src/telemetry.rs",
           "peers/rust/src/telemetry/metrics.rs", "peers/rust/src/telemetry/http.rs",
           "peers/rust/src/telemetry/grpc.rs", "peers/rust/src/telemetry/conn.rs",
           "peers/rust/src/telemetry/trace.rs")},
};

/* ---- how each language is built ---- */

/* A source of the build: a file, or the files of a folder (depth levels down) whose names end
 * in one of ends and not in except. */
typedef struct {
    const char *path;
    int depth;                /* 0: path is a file */
    const char *ends[3];
    const char *except;
} src_rule_t;

typedef enum { DEPS_C, DEPS_GO, DEPS_RUST } deps_kind_t;

typedef struct {
    const char *lang;
    src_rule_t sources[8];
    const char *build[8];     /* run in the copy's root; "-j" becomes -jN (the CPUs) */
    const char *cleared;
    const char *binary;
    const char *handler;      /* echo's handler file */
    const char *appended;     /* the line appended to it */
    deps_kind_t deps;
    const char *deps_dir;     /* go.mod/Cargo.toml's folder */
} lang_spec_t;

/* The sources are what the Makefiles list for these targets, less the tests a build never
 * reads (Go's _test.go). The commands are the Makefiles' own targets. */
static const lang_spec_t specs[] = {
    {"c",
     {{"Makefile", 0, {0}, 0},
      {"scripts/embed_contracts.sh", 0, {0}, 0},
      {"src", 8, {".c", ".h", ".proto"}, 0}, /* src/telemetry/proto */
      {"contracts", 2, {".case", ".sql", ".proto"}, 0}},
     {"make", "-s", "-j", "BUILD=build", "build/stackbench", NULL},
     "build/ (a new empty BUILD dir)",
     "build/stackbench",
     "src/serve/echo.c",
     "int sb_dev_touch(void) { return 1; }",
     DEPS_C,
     NULL},
    {"go",
     {{"peers/Makefile", 0, {0}, 0},
      {"peers/go/go.mod", 0, {0}, 0},
      {"peers/go/go.sum", 0, {0}, 0},
      {"peers/go", 4, {".go"}, "_test.go"}}, /* ticksv1/, internal/, cmd/ too */
     {"make", "-s", "-C", "peers", "go/bin/stackbench-go", NULL},
     "GOCACHE (a new empty one: the standard library compiled too); GOMODCACHE kept, GOPROXY=off",
     "peers/go/bin/stackbench-go",
     "peers/go/echo.go",
     "func sbDevTouch() int { return 1 }",
     DEPS_GO,
     "peers/go"},
    {"rust",
     {{"peers/Makefile", 0, {0}, 0},
      {"peers/rust/Cargo.toml", 0, {0}, 0},
      {"peers/rust/Cargo.lock", 0, {0}, 0},
      {"peers/rust/src", 8, {".rs"}, 0},
      {"peers/rust/build.rs", 0, {0}, 0},
      {"contracts/sql/queries.sql", 0, {0}, 0},
      {"contracts/grpc/ticks.proto", 0, {0}, 0}},
     {"make", "-s", "-C", "peers", "rust/target/release/stackbench-rust", NULL},
     "target/ (a new empty CARGO_TARGET_DIR); ~/.cargo/registry kept, --offline --locked",
     "peers/rust/target/release/stackbench-rust",
     "peers/rust/src/echo.rs",
     "#[allow(dead_code)] fn sb_dev_touch() -> u32 { 1 }",
     DEPS_RUST,
     "peers/rust"},
};

/* What the builds must not inherit: make's own state (a jobserver whose descriptors the child
 * does not have), the knobs of stackbench's Makefile (a sanitizer build's CFLAGS and SAN would
 * build another binary), and what would keep a cache: the clean build starts without it. */
static const char *const env_drop[] = {
    "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS", "BUILD", "CFLAGS",
    "SAN", "LDFLAGS", "LDLIBS", "GOCACHE", "GOPROXY", "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR", "CARGO_NET_OFFLINE", "CARGO_INCREMENTAL", "RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", NULL};

/* ---- small helpers ---- */

/* "a/b" into out[PATH_CAP]; false (out then empty: what uses it fails, saying so) when it
 * does not fit. */
static bool join(char *out, const char *a, const char *b)
{
    int w = snprintf(out, PATH_CAP, "%s/%s", a, b);
    if (w < 0 || w >= PATH_CAP) {
        out[0] = 0;
        return false;
    }
    return true;
}

static void progress(const impl_opts_t *o, const char *lang, const char *what)
{
    if (o->progress)
        fprintf(stderr, "\r\033[K  dev · %s: %s…", lang, what);
}

/* The first line of the first of the commands that runs and exits 0, or "". */
static void version_line(const char *const *const *tries, char *out, size_t n)
{
    out[0] = 0;
    for (; *tries; tries++) {
        static char got[1024];
        char err[256];
        if (proc_run(*tries, NULL, 10 * NS_PER_S, got, sizeof got, err, sizeof err) == 0) {
            snprintf(out, n, "%.*s", (int)strcspn(got, "\n"), got);
            return;
        }
    }
}

/* The compiler's version line: $CC (or cc), go, rustc; the Go and Rust ones where their
 * installers put them when PATH does not have them (as the Makefiles look for them). */
static void toolchain(const char *lang, char *out, size_t n)
{
    char rustc2[PATH_CAP];
    join(rustc2, getenv("HOME") ? getenv("HOME") : "", ".cargo/bin/rustc");
    const char *env_cc = getenv("CC");
    const char *cc = env_cc && *env_cc && !strchr(env_cc, ' ') ? env_cc : "cc";
    const char *const c1[] = {cc, "--version", NULL};
    const char *const g1[] = {"go", "version", NULL},
                      *const g2[] = {"/usr/local/go/bin/go", "version", NULL};
    const char *const r1[] = {"rustc", "--version", NULL}, *const r2[] = {rustc2, "--version", NULL};
    const char *const *const c[] = {c1, NULL}, *const *const g[] = {g1, g2, NULL},
                      *const *const r[] = {r1, r2, NULL};
    version_line(!strcmp(lang, "c") ? c : !strcmp(lang, "go") ? g : r, out, n);
}

static void now_utc(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* mkdir -p of the folder part of path. */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int make_dirs(const char *dir)
{
    char p[PATH_CAP];
    if (!join(p, dir, ""))
        return -1;
    return make_parents(p);
}

static int unlock_dir(const char *path, const struct stat *st, int type, struct FTW *f)
{
    if (type == FTW_D)
        chmod(path, (st->st_mode & 07777) | S_IRWXU);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
    remove(path);
    return 0;
}

/* rm -rf: folders made writable first (Go keeps some of its files read-only). */
static void remove_tree(const char *dir)
{
    nftw(dir, unlock_dir, 16, FTW_PHYS);
    nftw(dir, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}

/* $TMPDIR, else /tmp: where the copies are built. */
static const char *tmp_base(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

/* The copies that interrupted runs left (sb-dev-LANG-PID-XXXXXX of ours, PID gone): an
 * interruption ends the run where it is, and the next run removes what it left. */
static void remove_stale_copies(void)
{
    DIR *d = opendir(tmp_base());
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char lang[16], path[PATH_CAP];
        int pid = 0;
        struct stat st;
        if (sscanf(e->d_name, "sb-dev-%15[a-z]-%d-", lang, &pid) != 2 || pid <= 0 ||
            !join(path, tmp_base(), e->d_name) || lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != getuid())
            continue;
        if (kill(pid, 0) < 0 && errno == ESRCH)
            remove_tree(path);
    }
    closedir(d);
}

/* ---- the sources ---- */

typedef struct {
    char *path[MAX_SOURCES]; /* relative to the repository, sorted */
    int n;
} sources_t;

static void sources_free(sources_t *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->path[i]);
    s->n = 0;
}

static bool ends_with(const char *s, const char *end)
{
    size_t a = strlen(s), b = strlen(end);
    return a >= b && !strcmp(s + a - b, end);
}

static int add_source(sources_t *s, const char *rel, char *why, size_t whylen)
{
    if (s->n == MAX_SOURCES) {
        snprintf(why, whylen, "more than %d source files", MAX_SOURCES);
        return -1;
    }
    s->path[s->n++] = strdup(rel);
    return 0;
}

static int walk(const char *root, const char *rel, int depth, const src_rule_t *r, sources_t *s,
                char *why, size_t whylen)
{
    char dir[PATH_CAP];
    join(dir, root, rel);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, whylen, "sources not found: %.400s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_CAP], full[PATH_CAP];
        struct stat st;
        if (!join(sub, rel, e->d_name) || !join(full, root, sub) || stat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth > 1)
                rc = walk(root, sub, depth - 1, r, s, why, whylen);
            continue;
        }
        bool take = false;
        for (int k = 0; k < 3 && r->ends[k]; k++)
            take |= ends_with(e->d_name, r->ends[k]);
        if (take && !(r->except && ends_with(e->d_name, r->except)))
            rc = add_source(s, sub, why, whylen);
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(const lang_spec_t *sp, const char *root, sources_t *s, char *why, size_t whylen)
{
    s->n = 0;
    int nrules = (int)(sizeof sp->sources / sizeof sp->sources[0]);
    for (int i = 0; i < nrules && sp->sources[i].path; i++) {
        const src_rule_t *r = &sp->sources[i];
        if (r->depth > 0) {
            if (walk(root, r->path, r->depth, r, s, why, whylen))
                return -1;
            continue;
        }
        char full[PATH_CAP];
        if (!join(full, root, r->path) || access(full, R_OK) != 0) {
            snprintf(why, whylen, "sources not found: %.400s/%s", root, r->path);
            return -1;
        }
        if (add_source(s, r->path, why, whylen))
            return -1;
    }
    qsort(s->path, (size_t)s->n, sizeof s->path[0], cmp_str);
    return 0;
}

static void fnv(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= b[i];
        *h *= 1099511628211ULL;
    }
}

static int hash_sources(const char *root, const sources_t *s, char out[17], char *why,
                        size_t whylen)
{
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < s->n; i++) {
        char full[PATH_CAP], len[32];
        join(full, root, s->path[i]);
        buf_t b = BUF_INIT;
        int rc = buf_read_file(&b, full);
        if (rc) {
            snprintf(why, whylen, "cannot read %.400s: %s", full, strerror(-rc));
            buf_free(&b);
            return -1;
        }
        int ln = snprintf(len, sizeof len, "%zu", buf_size(&b));
        fnv(&h, s->path[i], strlen(s->path[i]) + 1);
        fnv(&h, len, (size_t)ln + 1);
        fnv(&h, buf_start(&b), buf_size(&b));
        buf_free(&b);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return 0;
}

static int copy_file(const char *from, const char *to, char *why, size_t whylen)
{
    struct stat st;
    buf_t b = BUF_INIT;
    char dst[PATH_CAP];
    snprintf(dst, sizeof dst, "%.4095s", to);
    int rc = stat(from, &st) < 0 ? -errno : buf_read_file(&b, from);
    if (rc == 0 && make_parents(dst) < 0)
        rc = -errno;
    if (rc == 0)
        rc = buf_write_file(&b, dst);
    if (rc == 0 && chmod(dst, st.st_mode & 0777) < 0)
        rc = -errno;
    buf_free(&b);
    if (rc)
        snprintf(why, whylen, "cannot copy %.200s to %.200s: %s", from, to, strerror(-rc));
    return rc ? -1 : 0;
}

/* ---- a build ---- */

/* The environment of a build: ours less env_drop, plus add (NULL-terminated "NAME=value"). */
static char **build_env(const char *const *add)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 8, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool drop = false;
        for (int d = 0; env_drop[d] && !drop; d++) {
            size_t l = strlen(env_drop[d]);
            drop = !strncmp(environ[i], env_drop[d], l) && environ[i][l] == '=';
        }
        if (!drop)
            env[k++] = environ[i];
    }
    for (int a = 0; add && add[a] && a < 7; a++)
        env[k++] = (char *)add[a];
    env[k] = NULL;
    return env;
}

/* Runs a build to its end, pinned: its wall time and the CPU time of every process in it (our
 * reaped children's user + system time, which includes theirs once they reaped them). 0, or -1
 * with the last line it printed in why. */
static int timed_build(const char *const argv[], const char *cwd, char **env, const cpuset_t *cpus,
                       double *wall_s, double *cpu_s, char *why, size_t whylen)
{
    static char out[16384];
    char err[512];
    proc_opts_t o = {.cpus = cpus, .cwd = cwd, .envp = env, .deathsig = SIGTERM};
    struct rusage r0, r1;
    getrusage(RUSAGE_CHILDREN, &r0);
    int64_t t0 = clock_now_ns();
    int rc = proc_run(argv, &o, BUILD_TIMEOUT, out, sizeof out, err, sizeof err);
    int64_t t1 = clock_now_ns();
    getrusage(RUSAGE_CHILDREN, &r1);
    if (rc != 0) {
        if (rc < 0) {
            snprintf(why, whylen, "%.500s", err);
            return -1;
        }
        char *last = out + strlen(out);
        while (last > out && (last[-1] == '\n' || last[-1] == ' '))
            *--last = 0;
        char *nl = strrchr(out, '\n');
        snprintf(why, whylen, "exit %d: %.480s", rc, nl ? nl + 1 : out);
        return -1;
    }
    *wall_s = (double)(t1 - t0) / NS_PER_S;
    double u = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
               (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6;
    double s = (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
               (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    *cpu_s = u + s;
    return 0;
}

/* Appends the spec's line to the handler file in the copy: "FILE:LINE" into d->build.changed. */
static int append_line(const lang_spec_t *sp, const char *copy, dev_lang_t *d, char *why,
                       size_t whylen)
{
    char path[PATH_CAP];
    join(path, copy, sp->handler);
    buf_t b = BUF_INIT;
    int rc = buf_read_file(&b, path);
    long lines = 0;
    for (size_t i = 0; rc == 0 && i < buf_size(&b); i++)
        lines += buf_start(&b)[i] == '\n';
    bool open_last = buf_size(&b) && buf_end(&b)[-1] != '\n';
    if (rc == 0)
        buf_printf(&b, "%s%s\n", open_last ? "\n" : "", sp->appended);
    if (rc == 0)
        rc = buf_write_file(&b, path);
    buf_free(&b);
    if (rc) {
        snprintf(why, whylen, "cannot change %.400s: %s", path, strerror(-rc));
        return -1;
    }
    snprintf(d->build.changed, sizeof d->build.changed, "%s:%ld", sp->handler,
             lines + open_last + 1);
    return 0;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* The binary as built and stripped (a copy of it, with strip, else objcopy). */
static void sizes(const char *bin, const char *tmp, dev_lang_t *d)
{
    d->binary_bytes = file_size(bin);
    if (d->binary_bytes < 0) {
        snprintf(d->size_reason, sizeof d->size_reason, "the build made no %s", d->binary);
        return;
    }
    char stripped[PATH_CAP], out[1024], err[256];
    join(stripped, tmp, "stripped");
    const char *const s1[] = {"strip", "-o", stripped, bin, NULL};
    const char *const s2[] = {"objcopy", "--strip-all", bin, stripped, NULL};
    if (proc_run(s1, NULL, 60 * NS_PER_S, out, sizeof out, err, sizeof err) != 0 &&
        proc_run(s2, NULL, 60 * NS_PER_S, out, sizeof out, err, sizeof err) != 0) {
        snprintf(d->size_reason, sizeof d->size_reason, "strip and objcopy failed: %.200s",
                 out[0] ? out : err);
        return;
    }
    d->stripped_bytes = file_size(stripped);
    unlink(stripped);
}

static void count_deps(const lang_spec_t *sp, const char *copy, dev_lang_t *d)
{
    char path[PATH_CAP];
    int rc;
    if (sp->deps == DEPS_C) {
        join(path, copy, sp->binary);
        rc = deps_c(path, &d->deps_direct, &d->deps_total, d->deps_reason, sizeof d->deps_reason);
    } else {
        join(path, copy, sp->deps_dir);
        rc = sp->deps == DEPS_GO ? deps_go(path, &d->deps_direct, &d->deps_total, d->deps_reason,
                                           sizeof d->deps_reason)
                                 : deps_rust(path, &d->deps_direct, &d->deps_total,
                                             d->deps_reason, sizeof d->deps_reason);
    }
    if (rc)
        d->deps_direct = d->deps_total = -1;
}

/* Everything measured from a build: in a copy of the sources, clean, then incremental. */
static void measure(const impl_opts_t *o, const lang_spec_t *sp, const char *root,
                    const sources_t *src, dev_lang_t *d)
{
    char tmp[PATH_CAP], copy[PATH_CAP], why[512];
    snprintf(tmp, sizeof tmp, "%.4000s/sb-dev-%s-%d-XXXXXX", tmp_base(), sp->lang, (int)getpid());
    if (!mkdtemp(tmp)) {
        snprintf(d->build.reason, sizeof d->build.reason, "cannot create %.400s: %s", tmp,
                 strerror(errno));
        snprintf(d->size_reason, sizeof d->size_reason, "not built");
        if (sp->deps == DEPS_C)
            snprintf(d->deps_reason, sizeof d->deps_reason, "not built");
        return;
    }
    join(copy, tmp, "src");
    progress(o, sp->lang, "copying its sources");
    int rc = 0;
    for (int i = 0; rc == 0 && i < src->n; i++) {
        char from[PATH_CAP], to[PATH_CAP];
        join(from, root, src->path[i]);
        join(to, copy, src->path[i]);
        rc = copy_file(from, to, why, sizeof why);
    }
    char gocache[PATH_CAP + 64], target[PATH_CAP + 64], jobs[16];
    snprintf(gocache, sizeof gocache, "GOCACHE=%s/gocache", tmp);
    snprintf(target, sizeof target, "CARGO_TARGET_DIR=%s/peers/rust/target", copy);
    snprintf(jobs, sizeof jobs, "-j%d", cpuset_count(&o->cpus_service));
    const char *const go_env[] = {gocache, "GOPROXY=off", NULL};
    const char *const rust_env[] = {target, "CARGO_NET_OFFLINE=true", NULL};
    char **env = build_env(sp->deps == DEPS_GO ? go_env : sp->deps == DEPS_RUST ? rust_env : NULL);
    const char *argv[8];
    size_t cl = 0;
    for (int i = 0; i < 8; i++) {
        argv[i] = sp->build[i] && !strcmp(sp->build[i], "-j") ? jobs : sp->build[i];
        if (argv[i])
            cl += (size_t)snprintf(d->build.command + cl, sizeof d->build.command - cl, "%s%s",
                                   i ? " " : "", argv[i]);
        if (!argv[i] || cl >= sizeof d->build.command)
            break;
    }
    if (rc == 0 && !env) {
        snprintf(why, sizeof why, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        progress(o, sp->lang, "clean build");
        rc = timed_build(argv, copy, env, &o->cpus_service, &d->build.clean_wall_s,
                         &d->build.clean_cpu_s, why, sizeof why);
        if (rc)
            snprintf(d->build.reason, sizeof d->build.reason, "clean build failed: %.480s", why);
    } else {
        snprintf(d->build.reason, sizeof d->build.reason, "%s", why);
    }
    char bin[PATH_CAP];
    join(bin, copy, sp->binary);
    if (rc == 0) {
        sizes(bin, tmp, d);
    } else {
        snprintf(d->size_reason, sizeof d->size_reason, "not built");
    }
    if (sp->deps != DEPS_C || rc == 0)
        count_deps(sp, copy, d);
    else
        snprintf(d->deps_reason, sizeof d->deps_reason, "not built");
    if (rc == 0 && append_line(sp, copy, d, why, sizeof why) == 0) {
        progress(o, sp->lang, "incremental build");
        if (timed_build(argv, copy, env, &o->cpus_service, &d->build.incremental_wall_s,
                        &d->build.incremental_cpu_s, why, sizeof why))
            snprintf(d->build.reason, sizeof d->build.reason, "incremental build failed: %.470s",
                     why);
    } else if (rc == 0) {
        snprintf(d->build.reason, sizeof d->build.reason, "%s", why);
    }
    free(env);
    progress(o, sp->lang, "removing the copy");
    remove_tree(tmp);
    now_utc(d->measured, sizeof d->measured);
}

/* ---- the cache ---- */

static void cache_dir(char *out, size_t n)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, n, "%s/stackbench/dev", xdg);
    else
        snprintf(out, n, "%s/.cache/stackbench/dev", getenv("HOME") ? getenv("HOME") : "/tmp");
}

static void cache_path(const char *dir, const dev_lang_t *d, char *out, size_t n)
{
    snprintf(out, n, "%s/%s-%s.json", dir, d->lang, d->source_hash);
}

/* A JSON string value as written into out, its escapes decoded (\uXXXX outside ASCII as '?').
 * false when it is not a string. */
static bool json_string(const char *v, size_t n, char *out, size_t on)
{
    if (n < 2 || v[0] != '"' || on == 0)
        return false;
    size_t k = 0;
    for (size_t i = 1; i + 1 < n && k + 1 < on; i++) {
        char c = v[i];
        if (c == '\\' && i + 2 < n) {
            c = v[++i];
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'u') {
                unsigned cp = 0;
                for (int h = 0; h < 4 && i + 1 < n - 1; h++) {
                    char x = v[++i];
                    cp = cp * 16 + (unsigned)(x <= '9' ? x - '0' : (x | 0x20) - 'a' + 10);
                }
                c = cp < 0x80 ? (char)cp : '?';
            }
        }
        out[k++] = c;
    }
    out[k] = 0;
    return true;
}

static bool json_number(const char *v, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp || v[0] == 'n')
        return false;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    char *end;
    *out = strtod(tmp, &end);
    return *end == 0;
}

/* The cached figures of d's sources, toolchain and CPUs into d. false when there are none (or
 * they are of another method, toolchain or CPU set, or incomplete). */
static bool cache_read(const char *dir, dev_lang_t *d)
{
    char path[4300];
    cache_path(dir, d, path, sizeof path);
    buf_t b = BUF_INIT;
    json_error_t e;
    json_members_t top;
    if (buf_read_file(&b, path) || json_validate(buf_start(&b), buf_size(&b), &e) ||
        json_members_begin(&top, buf_start(&b), buf_size(&b))) {
        buf_free(&b);
        return false;
    }
    const char *name, *val;
    size_t nl, vl;
    double method = 0, num;
    char s[512];
    int have = 0; /* each figure found sets its bit */
    dev_lang_t c = *d;
    while (json_members_next(&top, &name, &nl, &val, &vl)) {
        if (json_name_eq(name, nl, "method") && json_number(val, vl, &method))
            continue;
        if (json_name_eq(name, nl, "lang") && json_string(val, vl, s, sizeof s))
            have |= strcmp(s, d->lang) ? 0 : 1;
        else if (json_name_eq(name, nl, "source_hash") && json_string(val, vl, s, sizeof s))
            have |= strcmp(s, d->source_hash) ? 0 : 2;
        else if (json_name_eq(name, nl, "toolchain") && json_string(val, vl, s, sizeof s))
            have |= strcmp(s, d->toolchain) ? 0 : 4;
        else if (json_name_eq(name, nl, "measured"))
            json_string(val, vl, c.measured, sizeof c.measured);
        else if (json_name_eq(name, nl, "binary_bytes") && json_number(val, vl, &num)) {
            c.binary_bytes = (int64_t)num;
            have |= 8;
        } else if (json_name_eq(name, nl, "stripped_bytes") && json_number(val, vl, &num)) {
            c.stripped_bytes = (int64_t)num;
            have |= 16;
        } else if (json_name_eq(name, nl, "build") || json_name_eq(name, nl, "deps")) {
            bool build = json_name_eq(name, nl, "build");
            json_members_t in;
            const char *n2, *v2;
            size_t l2, w2;
            if (json_members_begin(&in, val, vl))
                continue;
            while (json_members_next(&in, &n2, &l2, &v2, &w2)) {
                /* The numbers, each with its bit in have. */
                static const char *const bk[] = {"clean_wall_s", "clean_cpu_s",
                                                  "incremental_wall_s", "incremental_cpu_s"};
                double *bv[] = {&c.build.clean_wall_s, &c.build.clean_cpu_s,
                                &c.build.incremental_wall_s, &c.build.incremental_cpu_s};
                for (int k = 0; build && k < 4; k++)
                    if (json_name_eq(n2, l2, bk[k]) && json_number(v2, w2, bv[k]))
                        have |= 32 << k;
                if (build && json_name_eq(n2, l2, "changed"))
                    json_string(v2, w2, c.build.changed, sizeof c.build.changed);
                else if (build && json_name_eq(n2, l2, "command"))
                    json_string(v2, w2, c.build.command, sizeof c.build.command);
                else if (build && json_name_eq(n2, l2, "cpus") && json_string(v2, w2, s, sizeof s))
                    have |= strcmp(s, d->build.cpus) ? 0 : 512;
                else if (!build && json_name_eq(n2, l2, "direct") && json_number(v2, w2, &num)) {
                    c.deps_direct = (int)num;
                    have |= 1024;
                } else if (!build && json_name_eq(n2, l2, "total") && json_number(v2, w2, &num)) {
                    c.deps_total = (int)num;
                    have |= 2048;
                }
            }
        }
    }
    buf_free(&b);
    if (method != DEV_METHOD || have != 4095)
        return false;
    *d = c;
    d->cached = true;
    return true;
}

static void write_fields(jsonw_t *w, const dev_lang_t *d, bool loc);

static void cache_write(const char *dir, const dev_lang_t *d)
{
    char path[4300], tmp[4400];
    cache_path(dir, d, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, true);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "method");
    jsonw_int(&w, DEV_METHOD);
    write_fields(&w, d, false);
    jsonw_obj_end(&w);
    buf_puts(&b, "\n");
    int rc = make_dirs(dir) < 0 ? -errno : buf_write_file(&b, tmp);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc)
        sb_warn("run", "cannot keep the development figures in %s: %s", path, strerror(-rc));
    buf_free(&b);
}

/* ---- the stage ---- */

static void count_loc(const char *root, dev_lang_t *d)
{
    for (size_t i = 0; i < sizeof loc_map / sizeof loc_map[0] && d->nloc < DEV_MAX_LOC; i++) {
        if (strcmp(loc_map[i].lang, d->lang))
            continue;
        dev_loc_t *l = &d->loc[d->nloc++];
        *l = (dev_loc_t){.workload = loc_map[i].workload, .tier = loc_map[i].tier,
                         .files = loc_map[i].files};
        for (int f = 0; l->files[f] && l->code >= 0; f++) {
            char path[PATH_CAP];
            join(path, root, l->files[f]);
            loc_t n;
            if (loc_count_file(path, &n, l->reason, sizeof l->reason))
                l->code = -1;
            else
                l->code += n.code;
        }
    }
}

static void lang_init(dev_lang_t *d, const lang_spec_t *sp, const impl_opts_t *o)
{
    memset(d, 0, sizeof *d);
    d->lang = sp->lang;
    d->build.clean_wall_s = d->build.clean_cpu_s = NAN;
    d->build.incremental_wall_s = d->build.incremental_cpu_s = NAN;
    d->build.cleared = sp->cleared;
    d->build.change = sp->appended;
    cpuset_format(&o->cpus_service, d->build.cpus, sizeof d->build.cpus);
    d->binary = sp->binary;
    d->binary_bytes = d->stripped_bytes = -1;
    d->deps_direct = d->deps_total = -1;
    d->deps_from = sp->deps == DEPS_C ? deps_from_c : sp->deps == DEPS_GO ? deps_from_go
                                                                          : deps_from_rust;
}

static bool complete(const dev_lang_t *d)
{
    return !isnan(d->build.clean_wall_s) && !isnan(d->build.incremental_wall_s) &&
           d->binary_bytes >= 0 && d->stripped_bytes >= 0 && d->deps_direct >= 0;
}

void dev_run(const impl_opts_t *o, dev_mode_t mode, dev_report_t *out)
{
    memset(out, 0, sizeof *out);
    if (mode == DEV_SKIP)
        return;
    out->ran = true;
    int64_t t0 = clock_now_ns();
    remove_stale_copies();
    cache_dir(out->cache_dir, sizeof out->cache_dir);
    char root[PATH_CAP];
    join(root, o->peers_dir, "..");
    for (size_t s = 0; s < sizeof specs / sizeof specs[0] && out->n < DEV_MAX_LANGS; s++) {
        const lang_spec_t *sp = &specs[s];
        bool listed = false;
        for (int i = 0; i < o->nlangs; i++)
            listed |= !strcmp(o->langs[i], sp->lang);
        if (!listed)
            continue;
        dev_lang_t *d = &out->langs[out->n++];
        lang_init(d, sp, o);
        progress(o, sp->lang, "counting code lines");
        count_loc(root, d);
        static sources_t src;
        char why[512];
        if (collect(sp, root, &src, why, sizeof why) ||
            hash_sources(root, &src, d->source_hash, why, sizeof why)) {
            snprintf(d->build.reason, sizeof d->build.reason, "%s", why);
            snprintf(d->size_reason, sizeof d->size_reason, "not built");
            snprintf(d->deps_reason, sizeof d->deps_reason, "not counted: %.200s", why);
            sources_free(&src);
            continue;
        }
        d->nsources = src.n;
        toolchain(sp->lang, d->toolchain, sizeof d->toolchain);
        if (mode == DEV_MEASURE || !cache_read(out->cache_dir, d)) {
            measure(o, sp, root, &src, d);
            if (complete(d))
                cache_write(out->cache_dir, d);
        }
        sources_free(&src);
    }
    out->elapsed_s = (double)(clock_now_ns() - t0) / NS_PER_S;
    if (o->progress)
        fprintf(stderr, "\r\033[K");
}

/* ---- results.json ---- */

static void num_or_null(jsonw_t *w, const char *key, double v, int decimals)
{
    jsonw_key(w, key);
    isnan(v) ? jsonw_null(w) : jsonw_double(w, v, decimals);
}

static void int_or_null(jsonw_t *w, const char *key, int64_t v)
{
    jsonw_key(w, key);
    v < 0 ? jsonw_null(w) : jsonw_int(w, v);
}

static void write_fields(jsonw_t *w, const dev_lang_t *d, bool loc)
{
    jsonw_key(w, "lang");
    jsonw_str(w, d->lang);
    jsonw_key(w, "source_hash");
    jsonw_str(w, d->source_hash);
    jsonw_key(w, "sources");
    jsonw_int(w, d->nsources);
    if (loc) {
        jsonw_key(w, "cached");
        jsonw_bool(w, d->cached);
    }
    jsonw_key(w, "measured");
    jsonw_str(w, d->measured);
    jsonw_key(w, "toolchain");
    jsonw_str(w, d->toolchain);
    jsonw_key(w, "build");
    jsonw_obj_begin(w);
    num_or_null(w, "clean_wall_s", d->build.clean_wall_s, 3);
    num_or_null(w, "clean_cpu_s", d->build.clean_cpu_s, 3);
    num_or_null(w, "incremental_wall_s", d->build.incremental_wall_s, 3);
    num_or_null(w, "incremental_cpu_s", d->build.incremental_cpu_s, 3);
    jsonw_key(w, "command");
    jsonw_str(w, d->build.command);
    jsonw_key(w, "cleared");
    jsonw_str(w, d->build.cleared);
    jsonw_key(w, "changed");
    jsonw_str(w, d->build.changed);
    jsonw_key(w, "change");
    char change[256];
    snprintf(change, sizeof change, "appended: %s", d->build.change);
    jsonw_str(w, change);
    jsonw_key(w, "cpus");
    jsonw_str(w, d->build.cpus);
    jsonw_key(w, "reason");
    jsonw_str(w, d->build.reason);
    jsonw_obj_end(w);
    jsonw_key(w, "binary");
    jsonw_str(w, d->binary);
    int_or_null(w, "binary_bytes", d->binary_bytes);
    int_or_null(w, "stripped_bytes", d->stripped_bytes);
    jsonw_key(w, "reason");
    jsonw_str(w, d->size_reason);
    jsonw_key(w, "deps");
    jsonw_obj_begin(w);
    int_or_null(w, "direct", d->deps_direct);
    int_or_null(w, "total", d->deps_total);
    jsonw_key(w, "from");
    jsonw_str(w, d->deps_from);
    jsonw_key(w, "reason");
    jsonw_str(w, d->deps_reason);
    jsonw_obj_end(w);
    if (!loc)
        return;
    jsonw_key(w, "loc");
    jsonw_arr_begin(w);
    for (int i = 0; i < d->nloc; i++) {
        const dev_loc_t *l = &d->loc[i];
        jsonw_obj_begin(w);
        jsonw_key(w, "workload");
        jsonw_str(w, l->workload);
        jsonw_key(w, "tier");
        jsonw_str(w, l->tier);
        int_or_null(w, "code", l->code);
        jsonw_key(w, "files");
        jsonw_arr_begin(w);
        for (int f = 0; l->files[f]; f++)
            jsonw_str(w, l->files[f]);
        jsonw_arr_end(w);
        jsonw_key(w, "reason");
        jsonw_str(w, l->reason);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}

void dev_write_lang(jsonw_t *w, const dev_lang_t *d, bool loc)
{
    jsonw_obj_begin(w);
    write_fields(w, d, loc);
    jsonw_obj_end(w);
}
