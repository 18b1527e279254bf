/* `stackbench run` end to end: a short run over C, Go and Rust whose results.json has every
 * figure for every cell, and whose request counts match what each service says it served. */
#include "t.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "proc.h"

static char out[1 << 16], json[1 << 18];

/* The number after "key": in s (white space already removed), or -1. */
static double num(const char *s, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    return p ? atof(p + strlen(k)) : -1;
}

static void read_json(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int ch;
    while (f && (ch = fgetc(f)) != EOF && n + 1 < sizeof json)
        if (ch != ' ' && ch != '\n')
            json[n++] = (char)ch;
    json[n] = 0;
    if (f)
        fclose(f);
}

TEST(three_cells_every_figure_and_counts_match)
{
    char dir[] = "/tmp/sb-lab-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *argv[] = {proc_stackbench(), "run", "--langs", "c,go,rust", "--workloads", "echo", "--duration", "1s",
                          "--warmup", "500ms", "--connections", "16", "--out", dir, NULL};
    int rc = proc_run(argv, out, sizeof out, 300000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "req/s") != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    CHECK(strstr(json, "\"machine\":{\"cpu_model\":") != NULL);
    CHECK(strstr(json, "\"versions\":{\"c\":") != NULL);
    CHECK(strstr(json, "\"flags\":{\"command\":") != NULL);
    static const char *const langs[] = {"c", "go", "rust"};
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "{\"workload\":\"echo\",\"lang\":\"%s\"", langs[i]);
        const char *cell = strstr(json, key);
        CHECK(cell != NULL);
        if (!cell)
            continue;
        char seg[4096];
        const char *end = strstr(cell + 1, "{\"workload\"");
        size_t len = end ? (size_t)(end - cell) : strlen(cell);
        snprintf(seg, sizeof seg, "%.*s", (int)(len < sizeof seg ? len : sizeof seg - 1), cell);
        fprintf(stderr, "    %s: %s\n", langs[i], seg);
        CHECK(strstr(seg, "\"status\":\"ok\"") != NULL);
        CHECK(num(seg, "requests") > 0);
        CHECK(num(seg, "rps") > 0);
        CHECK(num(seg, "p50") > 0);
        CHECK(num(seg, "p99") >= num(seg, "p50"));
        CHECK(num(seg, "p999") >= num(seg, "p99"));
        CHECK(num(seg, "max") >= num(seg, "p999"));
        CHECK(num(seg, "rss_peak_kib") > 0);
        CHECK(num(seg, "rss_mean_kib") > 0);
        CHECK(num(seg, "cpu_us_per_req") > 0);
        CHECK(num(seg, "threads") >= 1);
        CHECK(num(seg, "errors") == 0);
        CHECK(strstr(seg, "\"load_bound\":") != NULL);
        /* everything the lab sent was served, no more, no less */
        CHECK(num(seg, "served") == num(seg, "sent"));
        CHECK(num(seg, "sent") > num(seg, "requests"));
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
    const char *argv[] = {proc_stackbench(), "run", "--langs", "go,c", "--workloads", "echo", "--duration", "300ms",
                          "--warmup", "0s", "--peers", peers, "--out", dir, NULL};
    int rc = proc_run(argv, out, sizeof out, 120000);
    CHECK_INT(rc, 0); /* one cell ran */
    char path[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    read_json(path);
    CHECK(strstr(json, "\"lang\":\"go\",\"status\":\"failed\",\"reason\":\"") != NULL);
    CHECK(strstr(json, "\"lang\":\"c\",\"status\":\"ok\"") != NULL);
    CHECK(strstr(out, "failed:") != NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
}

TEST(bad_run_flags_exit_2)
{
    const char *a1[] = {proc_stackbench(), "run", "--langs", "c,cobol", NULL};
    CHECK_INT(proc_run(a1, out, sizeof out, 5000), 2);
    CHECK(strstr(out, "cobol") != NULL);
    const char *a2[] = {proc_stackbench(), "run", "--rate", "fast", NULL};
    CHECK_INT(proc_run(a2, out, sizeof out, 5000), 2);
    const char *a3[] = {proc_stackbench(), "run", "--cpus-service", "x", NULL};
    CHECK_INT(proc_run(a3, out, sizeof out, 5000), 2);
}

T_MAIN(T(three_cells_every_figure_and_counts_match),
       T(a_cell_that_cannot_start_is_reported_and_the_run_goes_on), T(bad_run_flags_exit_2))
