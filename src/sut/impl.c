#include "sut/impl.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/proc.h"

#define GO_BIN "go/bin/stackbench-go"
#define RUST_BIN "rust/target/release/stackbench-rust"
#define C_CORE "stackbench server core (epoll)"
#define GO_HTTP "net/http"
#define RUST_HTTP "axum 0.8 on hyper"

static const impl_t c_tuned = {
    "c", "c", "tuned", C_CORE, NULL, NULL, NULL,
    {{"echo", "one-pass validating minifier", "", NULL},
     {"csv", "SSE2 schema kernel, fixed point", "--tier tuned", NULL},
     {"sql", "libpq pipeline mode on the loop", "--db-strategy pipelined", "pipelined 32"}}};
static const impl_t c_idiomatic = {
    "c", "c", "idiomatic", C_CORE, NULL, NULL, NULL,
    {{"csv", "libcsv, strtod, a hash table", "--tier idiomatic", NULL},
     {"sql", "libpq, a request per connection", "--db-strategy exclusive", "exclusive"},
     {"grpc", "protobuf-c, gRPC framing ours", "", NULL, "nghttp2 on the server core"}}};
static const impl_t go_tuned = {
    "go", "go", "tuned", GO_HTTP, GO_BIN, GO_BIN, NULL,
    {{"echo", "one-pass validating minifier", "--tier tuned", NULL},
     {"csv", "one-pass scan, SWAR, fixed point", "--tier tuned", NULL}}};
static const impl_t go_idiomatic = {
    "go", "go", "idiomatic", GO_HTTP, GO_BIN, GO_BIN, NULL,
    {{"echo", "encoding/json", "--tier idiomatic", NULL},
     {"csv", "encoding/csv, strconv", "--tier idiomatic", NULL},
     {"sql", "pgx v5 pgxpool", "--tier idiomatic --db-strategy exclusive", "exclusive"},
     {"grpc", "protoc-gen-go, grpc-go's health", "--tier idiomatic", NULL, "grpc-go 1.85"}}};
static const impl_t rust_tuned = {
    "rust", "rust", "tuned", RUST_HTTP, RUST_BIN, RUST_BIN, NULL,
    {{"echo", "one-pass validating minifier", "--tier tuned", NULL},
     {"csv", "SSE2 schema kernel (std::arch)", "--tier tuned", NULL},
     {"sql", "tokio-postgres, shared clients", "--db-strategy pipelined", "pipelined 32"}}};
static const impl_t rust_idiomatic = {
    "rust", "rust", "idiomatic", RUST_HTTP, RUST_BIN, RUST_BIN, NULL,
    {{"echo", "serde_json", "--tier idiomatic", NULL},
     {"csv", "csv crate", "--tier idiomatic", NULL},
     {"sql", "tokio-postgres + deadpool", "--tier idiomatic --db-strategy exclusive",
      "exclusive"},
     {"grpc", "prost, tonic-health", "--tier idiomatic", NULL, "tonic on hyper"}}};

const impl_t *const impl_builtin[] = {&c_tuned,  &c_idiomatic,  &go_tuned, &go_idiomatic,
                                      &rust_tuned, &rust_idiomatic, NULL};
const char *const impl_langs[] = {"c", "go", "rust", NULL};
const char *const impl_tiers[] = {"idiomatic", "tuned", NULL};

#define BUILD_TIMEOUT (30 * 60 * NS_PER_S) /* a first Rust build on a small machine */

const impl_serves_t *impl_serves(const impl_t *im, const char *workload)
{
    for (int i = 0; i < IMPL_MAX_WORKLOADS && im->serves[i].workload; i++)
        if (strcmp(im->serves[i].workload, workload) == 0)
            return &im->serves[i];
    return NULL;
}

const impl_t *impl_default(const char *lang, const char *workload)
{
    /* The variant each language's service runs when it is given no flag: C's tuned one, the
     * peers' idiomatic one. */
    const char *tier = strcmp(lang, "c") == 0 ? "tuned" : "idiomatic";
    for (int i = 0; impl_builtin[i]; i++)
        if (strcmp(impl_builtin[i]->lang, lang) == 0 && strcmp(impl_builtin[i]->tier, tier) == 0 &&
            impl_serves(impl_builtin[i], workload))
            return impl_builtin[i];
    return NULL;
}

int impl_binary(const impl_t *im, const char *peers_dir, char *bin, size_t n, char *why,
                size_t whylen)
{
    if (im->command)
        snprintf(bin, n, "/bin/sh");
    else if (!im->binary)
        proc_self_exe(bin, n);
    else
        snprintf(bin, n, "%s/%s", peers_dir, im->binary);
    if (access(bin, X_OK) != 0) {
        snprintf(why, whylen, "not built: %.900s", bin);
        return -1;
    }
    return 0;
}

int impl_build(const impl_t *im, const char *peers_dir, char *why, size_t whylen)
{
    if (!im->build_target)
        return 0;
    char out[4096], err[512];
    const char *argv[] = {"make", "-s", "-C", peers_dir, im->build_target, NULL};
    int rc = proc_run(argv, NULL, BUILD_TIMEOUT, out, sizeof out, err, sizeof err);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        snprintf(why, whylen, "build failed: %s", err);
        return -1;
    }
    /* The last line make printed: where the error is. */
    char *last = out + strlen(out);
    while (last > out && (last[-1] == '\n' || last[-1] == ' '))
        *--last = 0;
    char *nl = strrchr(out, '\n');
    snprintf(why, whylen, "build failed: %.480s", nl ? nl + 1 : out);
    return -1;
}

/* Appends src to out[*n] with {name} replaced by value: false when it does not fit. */
static bool fill(char *out, size_t cap, size_t *n, const char *src)
{
    size_t len = strlen(src);
    if (*n + len >= cap)
        return false;
    memcpy(out + *n, src, len);
    *n += len;
    out[*n] = 0;
    return true;
}

static int fill_command(const char *tmpl, const char *const keys[], const char *const vals[],
                        char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (const char *p = tmpl; *p;) {
        bool done = false;
        for (int k = 0; keys[k] && !done; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(p, keys[k], kl) == 0) {
                if (!fill(out, cap, &n, vals[k]))
                    return -1;
                p += kl;
                done = true;
            }
        }
        if (!done) {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *p++;
            out[n] = 0;
        }
    }
    return 0;
}

/* No shell control operator or grouping, not already exec, not starting with an assignment. */
static bool simple_command(const char *cmd)
{
    while (*cmd == ' ' || *cmd == '\t')
        cmd++;
    size_t first = strcspn(cmd, " \t");
    if (strncmp(cmd, "exec ", 5) == 0 || memchr(cmd, '=', first))
        return false;
    return strpbrk(cmd, ";&|()`\n") == NULL;
}

int impl_argv(const impl_t *im, const char *bin, const char *workload, const char *pg_url,
              int pool, int port, impl_argv_t *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->pool, sizeof out->pool, "%d", pool);
    snprintf(out->port, sizeof out->port, "%d", port);
    int k = 0;
    if (im->command) {
        const char *const keys[] = {"{port}", "{workload}", "{pg_url}", "{pool}", NULL};
        const char *const vals[] = {out->port, workload, pg_url ? pg_url : "", out->pool, NULL};
        /* A simple command replaces the shell (exec), so that the lab's SIGTERM reaches the
         * service and its exit status is the service's; dash would otherwise fork, die of the
         * signal itself (143) and leave the service running. A compound one is the user's
         * to end in exec. */
        size_t pre = simple_command(im->command) ? 5 : 0;
        memcpy(out->command, "exec ", pre);
        if (fill_command(im->command, keys, vals, out->command + pre, sizeof out->command - pre)) {
            snprintf(why, whylen, "the command of %s is too long", im->name);
            return -1;
        }
        out->argv[k++] = "/bin/sh";
        out->argv[k++] = "-c";
        out->argv[k++] = out->command;
        out->argv[k] = NULL;
        return 0;
    }
    out->argv[k++] = bin;
    if (!im->binary)
        out->argv[k++] = "serve";
    out->argv[k++] = workload;
    out->argv[k++] = "--port";
    out->argv[k++] = "0";
    const impl_serves_t *sv = impl_serves(im, workload);
    if (sv && sv->args && *sv->args) {
        snprintf(out->words, sizeof out->words, "%s", sv->args);
        char *save = NULL;
        for (char *w = strtok_r(out->words, " ", &save); w && k < 18;
             w = strtok_r(NULL, " ", &save))
            out->argv[k++] = w;
    }
    if (pg_url) {
        out->argv[k++] = "--pg-url";
        out->argv[k++] = pg_url;
        out->argv[k++] = "--pool";
        out->argv[k++] = out->pool;
    }
    out->argv[k] = NULL;
    return 0;
}

/* peers/ beside this binary (build/stackbench: ../peers), else ./peers. */
static void impl_peers_dir(char *out, size_t n)
{
    char exe[4096];
    proc_self_exe(exe, sizeof exe);
    char *dir = dirname(exe);
    const char *tries[] = {"%s/../peers", "%s/peers", NULL};
    for (int i = 0; tries[i]; i++) {
        char p[4096], mk[4096 + 16];
        if (snprintf(p, sizeof p, tries[i], dir) >= (int)sizeof p)
            continue;
        snprintf(mk, sizeof mk, "%s/Makefile", p);
        if (access(mk, R_OK) == 0) {
            snprintf(out, n, "%s", p);
            return;
        }
    }
    snprintf(out, n, "peers");
}

/* ---- the shared flags ---- */

static int parse_langs(const char *arg, void *dst, char *why, size_t whylen)
{
    impl_opts_t *o = dst;
    static char store[256];
    int n = opt_split_list(arg, store, sizeof store, o->langs, IMPL_MAX, impl_langs, "languages",
                           why, whylen);
    if (n < 0)
        return -1;
    o->nlangs = n;
    return 0;
}

void impl_opts_init(impl_opts_t *o, int64_t duration_ns)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; impl_langs[i]; i++)
        o->langs[o->nlangs++] = impl_langs[i];
    o->duration_ns = duration_ns;
    o->connections = 64;
    o->pool = 8;
}

int impl_opts_flags(impl_opts_t *o, const char *duration_help, const char *connections_help,
                    opt_t *out)
{
    const opt_t flags[IMPL_OPTS_FLAGS] = {
        {"langs", 0, OPT_FN, o, "LIST", "languages, from c,go,rust (default c,go,rust)",
         .fn = parse_langs},
        {"duration", 0, OPT_DURATION, &o->duration_ns, "DUR", duration_help, .min = NS_PER_MS,
         .expect = "a duration like 10s"},
        {"connections", 0, OPT_INT, &o->connections, "N", connections_help, .min = 1,
         .max = 100000},
        {"pool", 0, OPT_INT, &o->pool, "N", "sql: database connections of every service (default 8)",
         .min = 1, .max = 10000},
        {"cpus-service", 0, OPT_CPUS, &o->cpus_service, "LIST",
         "CPUs of the service (default: the first half of this\n"
         "process's CPUs; CPU 0 on a 2-CPU machine)",
         .seen = &o->have_cpus_service},
        {"cpus-load", 0, OPT_CPUS, &o->cpus_load, "LIST",
         "CPUs of the load engine, one thread each (default: the\n"
         "other half; CPU 1 on a 2-CPU machine)",
         .seen = &o->have_cpus_load},
        {"peers", 0, OPT_STR, &o->peers_dir, "DIR",
         "the peers' sources (default: peers/ beside the binary)"},
    };
    memcpy(out, flags, sizeof flags);
    return IMPL_OPTS_FLAGS;
}

void impl_opts_resolve(impl_opts_t *o)
{
    cpuset_t allowed;
    cpuset_allowed(&allowed);
    int cpus[CPUSET_MAX];
    int ncpu = cpuset_list(&allowed, cpus, CPUSET_MAX);
    int nservice = ncpu >= 2 ? ncpu / 2 : 1;
    if (!o->have_cpus_service)
        cpuset_clear(&o->cpus_service);
    if (!o->have_cpus_load)
        cpuset_clear(&o->cpus_load);
    for (int i = 0; i < ncpu; i++) {
        if (!o->have_cpus_service && (i < nservice || ncpu == 1))
            cpuset_add(&o->cpus_service, cpus[i]);
        if (!o->have_cpus_load && (i >= nservice || ncpu == 1))
            cpuset_add(&o->cpus_load, cpus[i]);
    }
    if (!o->peers_dir) {
        static char peers[4096];
        impl_peers_dir(peers, sizeof peers);
        o->peers_dir = peers;
    }
    o->progress = isatty(STDERR_FILENO);
}
