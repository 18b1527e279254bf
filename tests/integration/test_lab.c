/* `stackbench run` end to end: a short run over C, Go and Rust whose results.json has every
 * figure for every cell, and whose request counts match what each service says it served. */
#include "t.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

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

/* The index in "cells" of the cell of this workload and language, or -1 (the failure said). */
static int find_cell(const char *workload, const char *lang)
{
    int n = jsonq_len(json, json_len, "cells");
    for (int i = 0; i < n; i++) {
        char path[64], w[64], l[64];
        snprintf(path, sizeof path, "cells.%d.workload", i);
        bool wok = jsonq_str(json, json_len, path, w, sizeof w);
        snprintf(path, sizeof path, "cells.%d.lang", i);
        if (wok && jsonq_str(json, json_len, path, l, sizeof l) && strcmp(w, workload) == 0 &&
            strcmp(l, lang) == 0)
            return i;
    }
    fprintf(stderr, "    results.json: no cell with workload \"%s\" and lang \"%s\" (%d cells)\n",
            workload, lang, n);
    t_failures++;
    return -1;
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

TEST(three_cells_every_figure_and_counts_match)
{
    char dir[] = "/tmp/sb-lab-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *argv[] = {t_stackbench(), "run", "--langs", "c,go,rust", "--workloads", "echo", "--duration", "1s",
                          "--warmup", "500ms", "--connections", "16", "--out", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 300000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "req/s") != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    CHECK(top_str("machine.cpu_model"));
    CHECK(top_str("versions.c"));
    CHECK(top_str("flags.command"));
    CHECK_INT(jsonq_len(json, json_len, "cells"), 3);
    static const char *const langs[] = {"c", "go", "rust"};
    for (int i = 0; i < 3; i++) {
        int c = find_cell("echo", langs[i]);
        if (c < 0)
            continue;
        int failures_before = t_failures;
        CHECK_STR(cell_str(c, "status"), "ok");
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
        CHECK(cell_has_bool(c, "load_bound"));
        /* everything the lab sent was served, no more, no less */
        CHECK(cell_num(c, "served") == cell_num(c, "sent"));
        CHECK(cell_num(c, "sent") > cell_num(c, "requests"));
        if (t_failures != failures_before) {
            char where[32];
            const char *v;
            size_t n;
            snprintf(where, sizeof where, "cells.%d", c);
            if (jsonq_get(json, json_len, where, &v, &n))
                fprintf(stderr, "    %s: %.*s\n", langs[i], (int)n, v);
        }
    }
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
    const char *argv[] = {t_stackbench(), "run", "--langs", "go,c", "--workloads", "echo", "--duration", "300ms",
                          "--warmup", "0s", "--peers", peers, "--out", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 120000);
    CHECK_INT(rc, 0); /* one cell ran */
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    int go = find_cell("echo", "go"), c = find_cell("echo", "c");
    if (go >= 0) {
        CHECK_STR(cell_str(go, "status"), "failed");
        CHECK(cell_str(go, "reason")[0] != 0);
    }
    if (c >= 0)
        CHECK_STR(cell_str(c, "status"), "ok");
    CHECK(strstr(out, "failed:") != NULL);
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
}

T_MAIN(T(three_cells_every_figure_and_counts_match),
       T(a_cell_that_cannot_start_is_reported_and_the_run_goes_on), T(bad_run_flags_exit_2))
