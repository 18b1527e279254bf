/* `stackbench run` end to end: a short run over C, Go and Rust in their tiers whose
 * results.json has every figure for every cell and the equal-load block, and whose request
 * counts match what each service says it served; the development figures of C measured, then
 * taken from the cache. The runs that need no development figures skip them
 * (--no-dev-metrics): measuring them builds every language from scratch. */
#define T_TIMEOUT 300 /* a test here may build the C service from scratch */
#include "t.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "jsonq.h"
#include "tproc.h"
#include "tsock.h"

static char out[1 << 16];
static char *json;   /* results.json, as written */
static size_t json_len;

static void read_json(const char *path)
{
    free(json);
    json = NULL;
    json_len = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "    cannot open %s\n", path);
        return;
    }
    size_t cap = 0;
    for (;;) {
        if (json_len + 4096 > cap) {
            cap = cap ? cap * 2 : 1 << 16;
            json = realloc(json, cap);
        }
        size_t r = fread(json + json_len, 1, cap - json_len, f);
        if (r == 0)
            break;
        json_len += r;
    }
    fclose(f);
}

/* The index in ARRAY ("cells", "equal_load.cells") of the entry of this workload, name and
 * tier (NULL: any), or -1 (the failure said). */
static int find_in(const char *array, const char *workload, const char *name, const char *tier)
{
    int n = jsonq_len(json, json_len, array);
    for (int i = 0; i < n; i++) {
        char path[96], w[64], nm[64], t[64];
        snprintf(path, sizeof path, "%s.%d.workload", array, i);
        bool ok = jsonq_str(json, json_len, path, w, sizeof w);
        snprintf(path, sizeof path, "%s.%d.name", array, i);
        ok = ok && jsonq_str(json, json_len, path, nm, sizeof nm);
        snprintf(path, sizeof path, "%s.%d.tier", array, i);
        ok = ok && jsonq_str(json, json_len, path, t, sizeof t);
        if (ok && !strcmp(w, workload) && !strcmp(nm, name) && (!tier || !strcmp(t, tier)))
            return i;
    }
    fprintf(stderr, "    results.json: no %s entry with workload \"%s\", name \"%s\", tier \"%s\""
                    " (%d there)\n", array, workload, name, tier ? tier : "any", n);
    t_failures++;
    return -1;
}

static int find_cell(const char *workload, const char *name) { return find_in("cells", workload, name, NULL); }

/* A number at PATH (a missing one fails the test, named). */
static double num_at(const char *path)
{
    double v;
    if (jsonq_num(json, json_len, path, &v))
        return v;
    fprintf(stderr, "    results.json: %s is not a number\n", path);
    t_failures++;
    return NAN;
}

/* A key the test reads must be there: a missing one (or one of another type) fails the test,
 * naming it, and gives a value no comparison accepts. */
static void missing(int cell, const char *key, const char *what)
{
    fprintf(stderr, "    results.json: cells.%d.%s is not %s\n", cell, key, what);
    t_failures++;
}

static double cell_num(int cell, const char *key)
{
    char path[128];
    double v;
    snprintf(path, sizeof path, "cells.%d.%s", cell, key);
    if (jsonq_num(json, json_len, path, &v))
        return v;
    missing(cell, key, "a number");
    return NAN;
}

static const char *cell_str(int cell, const char *key)
{
    static char v[4096];
    char path[128];
    snprintf(path, sizeof path, "cells.%d.%s", cell, key);
    if (jsonq_str(json, json_len, path, v, sizeof v))
        return v;
    missing(cell, key, "a string");
    return "(missing)";
}

static bool cell_has_bool(int cell, const char *key)
{
    char path[128];
    bool v;
    snprintf(path, sizeof path, "cells.%d.%s", cell, key);
    if (jsonq_bool(json, json_len, path, &v))
        return true;
    missing(cell, key, "a boolean");
    return false;
}

/* A top-level string such as machine.cpu_model: present and not empty. */
static bool top_str(const char *path)
{
    char v[4096];
    if (jsonq_str(json, json_len, path, v, sizeof v) && v[0])
        return true;
    fprintf(stderr, "    results.json: %s is not a string that says something\n", path);
    return false;
}

/* A spectrum at PATH: 0 % first, percentiles rising, latencies not falling, the max last at
 * 100 %. */
static void check_spectrum(const char *path, double max_us)
{
    int n = jsonq_len(json, json_len, path);
    if (n < 20 || n > 128) {
        fprintf(stderr, "    results.json: %s has %d points\n", path, n);
        t_failures++;
        return;
    }
    double prev_p = -1, prev_us = 0;
    for (int i = 0; i < n; i++) {
        char k[128];
        snprintf(k, sizeof k, "%s.%d.p", path, i);
        double p = num_at(k);
        snprintf(k, sizeof k, "%s.%d.us", path, i);
        double us = num_at(k);
        CHECK(p > prev_p && us >= prev_us);
        prev_p = p;
        prev_us = us;
    }
    CHECK(prev_p == 100);
    CHECK(fabs(prev_us - max_us) <= 0.1);
}

TEST(every_implementation_of_echo_every_figure_and_counts_match)
{
    char dir[] = "/tmp/sb-lab-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *argv[] = {t_stackbench(), "run", "--langs", "c,go,rust", "--workloads", "echo",
                          "--duration", "1s", "--warmup", "500ms", "--connections", "16",
                          "--equal-load-duration", "1s", "--no-dev-metrics", "--out", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 300000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "req/s") != NULL);
    CHECK(strstr(out, "equal load:") != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    CHECK(top_str("machine.cpu_model"));
    CHECK(top_str("versions.c"));
    CHECK(top_str("flags.command"));
    CHECK(jsonq_is_null(json, json_len, "dev")); /* --no-dev-metrics */
    CHECK(strstr(out, "development:") == NULL);
    /* C's one echo (tuned), Go's and Rust's two tiers */
    static const struct {
        const char *name, *tier;
    } impls[] = {{"c", "tuned"}, {"go", "tuned"}, {"go", "idiomatic"}, {"rust", "tuned"},
                 {"rust", "idiomatic"}};
    CHECK_INT(jsonq_len(json, json_len, "cells"), 5);
    for (int i = 0; i < 5; i++) {
        int c = find_in("cells", "echo", impls[i].name, impls[i].tier);
        if (c < 0)
            continue;
        int failures_before = t_failures;
        CHECK_STR(cell_str(c, "status"), "ok");
        CHECK(cell_str(c, "framework")[0] != 0);
        CHECK(cell_str(c, "does")[0] != 0);
        CHECK(cell_num(c, "requests") > 0);
        CHECK(cell_num(c, "rps") > 0);
        CHECK(cell_num(c, "latency_us.p50") > 0);
        CHECK(cell_num(c, "latency_us.p99") >= cell_num(c, "latency_us.p50"));
        CHECK(cell_num(c, "latency_us.p999") >= cell_num(c, "latency_us.p99"));
        CHECK(cell_num(c, "latency_us.max") >= cell_num(c, "latency_us.p999"));
        CHECK(cell_num(c, "rss_peak_kib") > 0);
        CHECK(cell_num(c, "rss_mean_kib") > 0);
        CHECK(cell_num(c, "cpu_us_per_req") > 0);
        CHECK(cell_num(c, "threads") >= 1);
        CHECK(cell_num(c, "errors") == 0);
        /* its latency by percentile, read from the histogram */
        char sp[64];
        snprintf(sp, sizeof sp, "cells.%d.spectrum", c);
        check_spectrum(sp, cell_num(c, "latency_us.max"));
        /* the fresh instance's start: to its first healthy answer, and its memory then */
        CHECK(cell_num(c, "startup_ms") > 0);
        CHECK(cell_num(c, "idle_rss_kib") > 0);
        CHECK(cell_num(c, "idle_rss_kib") <= cell_num(c, "rss_peak_kib"));
        CHECK(cell_has_bool(c, "load_bound"));
        /* everything the lab sent was served, no more, no less */
        CHECK(cell_num(c, "served") == cell_num(c, "sent"));
        CHECK(cell_num(c, "sent") > cell_num(c, "requests"));
        /* the same implementation at the equal rate, open loop */
        int e = find_in("equal_load.cells", "echo", impls[i].name, impls[i].tier);
        if (e >= 0) {
            char k[96];
            snprintf(k, sizeof k, "equal_load.cells.%d.rate", e);
            double rate = num_at(k);
            CHECK(rate > 0 && rate == num_at("equal_load.rate.echo"));
            snprintf(k, sizeof k, "equal_load.cells.%d.rate_achieved", e);
            CHECK(num_at(k) > 0);
            static const char *const lk[] = {"p50", "p99", "p999", "p9999", "max"};
            double prev = 0;
            for (int q = 0; q < 5; q++) {
                snprintf(k, sizeof k, "equal_load.cells.%d.latency_us.%s", e, lk[q]);
                double v = num_at(k);
                CHECK(v >= prev);
                prev = v;
            }
            snprintf(k, sizeof k, "equal_load.cells.%d.latency_us.max", e);
            double eq_max = num_at(k);
            snprintf(k, sizeof k, "equal_load.cells.%d.spectrum", e);
            check_spectrum(k, eq_max);
            snprintf(k, sizeof k, "equal_load.cells.%d.windows", e);
            CHECK(jsonq_len(json, json_len, k) >= 5); /* a second in 100 ms windows */
            snprintf(k, sizeof k, "equal_load.cells.%d.gc", e);
            const char *gv;
            size_t gn;
            CHECK(jsonq_get(json, json_len, k, &gv, &gn)); /* null but for Go: an object */
            if (!strcmp(impls[i].name, "go")) {
                snprintf(k, sizeof k, "equal_load.cells.%d.gc.pauses", e);
                CHECK(num_at(k) >= 0);
            }
        }
        if (t_failures != failures_before) {
            char where[32];
            const char *v;
            size_t n;
            snprintf(where, sizeof where, "cells.%d", c);
            if (jsonq_get(json, json_len, where, &v, &n))
                fprintf(stderr, "    %s %s: %.*s\n", impls[i].name, impls[i].tier, (int)n, v);
        }
    }
    /* the slowest at 70 %: every equal-load rate is 70 % of the slowest cell's maximum */
    double slowest = INFINITY;
    for (int i = 0; i < 5; i++) {
        char k[64];
        snprintf(k, sizeof k, "cells.%d.rps", i);
        double r = num_at(k);
        if (r < slowest)
            slowest = r;
    }
    CHECK(fabs(num_at("equal_load.rate.echo") - floor(slowest * 0.7)) <= 1);
    snprintf(path, sizeof path, "%s/results.md", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
}

TEST(a_cell_that_cannot_start_is_reported_and_the_run_goes_on)
{
    char dir[] = "/tmp/sb-lab-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    /* An empty peers folder: go cannot be built, c still runs. */
    char peers[300];
    snprintf(peers, sizeof peers, "%s/peers", dir);
    mkdir(peers, 0755);
    /* Its development figures are asked for: with no sources beside that folder nothing can
     * be built or counted, and each figure is null with the reason beside it. */
    const char *argv[] = {t_stackbench(), "run", "--langs", "go,c", "--workloads", "echo",
                          "--duration", "300ms", "--warmup", "0s", "--equal-load", "0", "--peers",
                          peers, "--dev-metrics", "--out", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 120000);
    CHECK_INT(rc, 0); /* one cell ran */
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    int go = find_cell("echo", "go"), c = find_cell("echo", "c");
    if (go >= 0) {
        CHECK_STR(cell_str(go, "status"), "failed");
        CHECK(cell_str(go, "reason")[0] != 0);
        char k[64];
        snprintf(k, sizeof k, "cells.%d.startup_ms", go);
        CHECK(jsonq_is_null(json, json_len, k)); /* it never started */
    }
    if (c >= 0)
        CHECK_STR(cell_str(c, "status"), "ok");
    CHECK(strstr(out, "failed:") != NULL);
    CHECK_INT(jsonq_len(json, json_len, "dev.langs"), 2);
    static const char *const nulls[] = {"build.clean_wall_s", "build.incremental_wall_s",
                                        "binary_bytes", "stripped_bytes", "deps.direct",
                                        "deps.total", "loc.0.code"};
    static const char *const reasons[] = {"build.reason", "build.reason", "reason", "reason",
                                          "deps.reason", "deps.reason", "loc.0.reason"};
    for (int l = 0; l < 2; l++)
        for (size_t k = 0; k < sizeof nulls / sizeof nulls[0]; k++) {
            char p[96], why[512] = "";
            snprintf(p, sizeof p, "dev.langs.%d.%s", l, nulls[k]);
            CHECK(jsonq_is_null(json, json_len, p));
            snprintf(p, sizeof p, "dev.langs.%d.%s", l, reasons[k]);
            CHECK(jsonq_str(json, json_len, p, why, sizeof why) && why[0]);
        }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
}

TEST(a_users_implementation_runs_beside_the_built_in_ones)
{
    char dir[] = "/tmp/sb-lab-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *root = getenv("SB_ROOT");
    char impl[600];
    snprintf(impl, sizeof impl, "py=python3 %s/tests/tools/echo.py {port}", root ? root : ".");
    const char *argv[] = {t_stackbench(), "run", "--langs", "c", "--workloads", "echo",
                          "--duration", "500ms", "--warmup", "200ms", "--connections", "8",
                          "--equal-load", "0", "--no-dev-metrics", "--impl", impl,
                          "--impl-framework", "asyncio",
                          "--impl-does", "a validating minifier", "--out", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 120000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    CHECK_INT(jsonq_len(json, json_len, "cells"), 2);
    int py = find_in("cells", "echo", "py", "idiomatic");
    if (py >= 0) {
        /* checked, loaded, metered and stopped like the others: SIGTERM reached python3 (a
         * shell in between would have died of it, failing the cell) and its count matches */
        CHECK_STR(cell_str(py, "status"), "ok");
        CHECK_STR(cell_str(py, "framework"), "asyncio");
        CHECK_STR(cell_str(py, "does"), "a validating minifier");
        CHECK(cell_num(py, "rps") > 0);
        CHECK(cell_num(py, "errors") == 0);
        CHECK(cell_num(py, "cpu_us_per_req") > 0);
        CHECK(cell_num(py, "served") == cell_num(py, "sent"));
    }
    CHECK(strstr(out, "py") != NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
}

/* The grpc row: C, Go and Rust over the load engine's gRPC, every message of every call
 * checked by the lab (a wrong tick is a body error, and the cell fails). */
TEST(the_grpc_row_is_measured_in_c_go_and_rust)
{
    char dir[] = "/tmp/sb-lab-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *argv[] = {t_stackbench(), "run", "--langs", "c,go,rust", "--workloads", "grpc",
                          "--duration", "1s", "--warmup", "300ms", "--connections", "16",
                          "--equal-load", "0", "--no-dev-metrics", "--out", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 300000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    static const char *const langs[] = {"c", "go", "rust"};
    for (int i = 0; i < 3; i++) {
        int k = find_in("cells", "grpc", langs[i], "idiomatic");
        CHECK(k >= 0);
        if (k < 0)
            continue;
        CHECK_STR(cell_str(k, "status"), "ok");
        CHECK(cell_num(k, "rps") > 0);
        CHECK(cell_num(k, "errors") == 0);
        CHECK(cell_num(k, "served") == cell_num(k, "sent"));
        /* half the calls are Streams of 100 ticks */
        double calls = cell_num(k, "requests"), msgs = cell_num(k, "messages");
        CHECK(msgs > 40 * calls && msgs < 60 * calls);
        CHECK(cell_num(k, "messages_per_s") > cell_num(k, "rps"));
    }
    CHECK(strstr(out, "messages/s") != NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
}

TEST(bad_run_flags_exit_2)
{
    const char *a1[] = {t_stackbench(), "run", "--langs", "c,cobol", NULL};
    CHECK_INT(t_run(a1, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "cobol") != NULL);
    const char *a2[] = {t_stackbench(), "run", "--rate", "fast", NULL};
    CHECK_INT(t_run(a2, out, sizeof out, 5000), 2);
    const char *a3[] = {t_stackbench(), "run", "--cpus-service", "x", NULL};
    CHECK_INT(t_run(a3, out, sizeof out, 5000), 2);
    const char *a4[] = {t_stackbench(), "run", "--impl", "just-a-command", NULL};
    CHECK_INT(t_run(a4, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "NAME=COMMAND") != NULL);
    const char *a5[] = {t_stackbench(), "run", "--impl-does", "x", "--impl", "a=b", NULL};
    CHECK_INT(t_run(a5, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "comes after the --impl") != NULL);
    const char *a6[] = {t_stackbench(), "run", "--dev-metrics", "--no-dev-metrics", NULL};
    CHECK_INT(t_run(a6, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "one or the other") != NULL);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A number of dev.langs.0 (a missing one fails the test). */
static double dev_num(const char *key)
{
    char path[128];
    snprintf(path, sizeof path, "dev.langs.0.%s", key);
    return num_at(path);
}

static const char *dev_str(const char *key)
{
    static char v[1024];
    char path[128];
    snprintf(path, sizeof path, "dev.langs.0.%s", key);
    if (jsonq_str(json, json_len, path, v, sizeof v))
        return v;
    fprintf(stderr, "    results.json: %s is not a string\n", path);
    t_failures++;
    return "(missing)";
}

/* The code lines of the loc entry of this workload (-1: none). */
static double dev_loc(const char *workload)
{
    int n = jsonq_len(json, json_len, "dev.langs.0.loc");
    for (int i = 0; i < n; i++) {
        char path[96], w[32];
        snprintf(path, sizeof path, "dev.langs.0.loc.%d.workload", i);
        if (jsonq_str(json, json_len, path, w, sizeof w) && !strcmp(w, workload)) {
            snprintf(path, sizeof path, "dev.langs.0.loc.%d.code", i);
            return num_at(path);
        }
    }
    fprintf(stderr, "    results.json: no dev.langs.0.loc entry for %s\n", workload);
    t_failures++;
    return -1;
}

TEST(dev_metrics_of_c_measured_then_taken_from_the_cache)
{
    char dir[] = "/tmp/sb-lab-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    /* A cache of the test's own, empty: the first run measures. */
    char cache[300], path[400];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("XDG_CACHE_HOME", cache, 1);
    const char *argv[] = {t_stackbench(), "run", "--langs", "c", "--workloads", "echo",
                          "--duration", "300ms", "--warmup", "0s", "--connections", "8",
                          "--equal-load", "0", "--dev-metrics", "--out", dir, NULL};
    double t0 = seconds_now();
    int rc = t_run(argv, out, sizeof out, 240000);
    double first_s = seconds_now() - t0;
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "development:") != NULL);
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    char v[256];
    CHECK(jsonq_str(json, json_len, "dev.loc_counter", v, sizeof v) &&
          strstr(v, "stackbench's own counter") == v);
    CHECK_INT(jsonq_len(json, json_len, "dev.langs"), 1); /* only the run's languages */
    CHECK_STR(dev_str("lang"), "c");
    bool cached = true;
    CHECK(jsonq_bool(json, json_len, "dev.langs.0.cached", &cached) && !cached);
    CHECK_STR(dev_str("build.reason"), "");
    double clean = dev_num("build.clean_wall_s");
    CHECK(clean > 0);
    CHECK(dev_num("build.clean_cpu_s") > 0);
    CHECK(dev_num("build.incremental_wall_s") > 0);
    CHECK(dev_num("build.incremental_wall_s") < clean); /* one file, not all of them */
    CHECK(dev_num("build.incremental_cpu_s") > 0);
    CHECK(strncmp(dev_str("build.changed"), "src/serve/echo.c:", 17) == 0);
    CHECK(dev_str("build.cleared")[0] != 0);
    CHECK(dev_num("binary_bytes") > 0);
    CHECK(dev_num("stripped_bytes") > 0);
    CHECK(dev_num("stripped_bytes") <= dev_num("binary_bytes"));
    CHECK(dev_num("deps.direct") >= 1); /* libc at least */
    CHECK(dev_num("deps.direct") <= dev_num("deps.total"));
    CHECK(dev_loc("echo") > 0);
    CHECK(dev_loc("shared") > 0);
    CHECK(strlen(dev_str("source_hash")) == 16);
    /* the cell's start */
    CHECK(cell_num(0, "startup_ms") > 0);
    CHECK(cell_num(0, "idle_rss_kib") > 0);
    char file[600];
    snprintf(file, sizeof file, "%s/stackbench/dev/c-%s.json", cache, dev_str("source_hash"));
    struct stat st1, st2;
    CHECK(stat(file, &st1) == 0);

    /* Again without the flag: the same figures, from the cache, nothing built (the cache file
     * is not written again, and the run takes less than the build did). */
    const char *again[] = {t_stackbench(), "run", "--langs", "c", "--workloads", "echo",
                           "--duration", "300ms", "--warmup", "0s", "--connections", "8",
                           "--equal-load", "0", "--out", dir, NULL};
    t0 = seconds_now();
    rc = t_run(again, out, sizeof out, 240000);
    double second_s = seconds_now() - t0;
    CHECK_INT(rc, 0);
    read_json(path);
    CHECK(jsonq_bool(json, json_len, "dev.langs.0.cached", &cached) && cached);
    CHECK(dev_num("build.clean_wall_s") == clean);
    CHECK(dev_loc("echo") > 0); /* counted every time */
    CHECK(stat(file, &st2) == 0);
    CHECK(st1.st_mtim.tv_sec == st2.st_mtim.tv_sec && st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
    CHECK(second_s < first_s - clean / 2);
    if (t_failures)
        fprintf(stderr, "    first run %.1fs, second %.1fs, clean build %.1fs\n", first_s,
                second_s, clean);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
}

T_MAIN(T(the_grpc_row_is_measured_in_c_go_and_rust), T(every_implementation_of_echo_every_figure_and_counts_match),
       T(a_cell_that_cannot_start_is_reported_and_the_run_goes_on),
       T(a_users_implementation_runs_beside_the_built_in_ones), T(bad_run_flags_exit_2),
       T(dev_metrics_of_c_measured_then_taken_from_the_cache))
