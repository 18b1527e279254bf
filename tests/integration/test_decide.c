/* The decision's commands as a user runs them: stackbench verdict, claims and decide over a
 * results folder, the shipped examples, and bad profile and mesh files refused with
 * FILE:LINE:COLUMN and exit 2 (by run too, before it measures anything). */
#include "t.h"

#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "tproc.h"

static char out[1 << 18];
static char dir[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "    cannot write %s\n", path);
        exit(1);
    }
}

static const char *at(const char *fmt, ...)
{
    static char paths[4][4200];
    static int k;
    char *p = paths[k++ % 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof paths[0], fmt, ap);
    va_end(ap);
    return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* The test's folder, removed at its end (a test's process ends with _exit: no atexit). */
static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A results folder: echo and csv in C, Go and Rust, hand-made figures. csv: go 2000 µs of CPU
 * a request, rust 1200 (×1.67: CPU-bound); echo: go 30, rust 14 (×2.14). */
static void results(void)
{
    snprintf(dir, sizeof dir, "/tmp/sb-decide-XXXXXX");
    if (!mkdtemp(dir))
        exit(1);
    static const char text[] =
        "{\"stackbench\": \"t\", \"date\": \"2026-12-02T00:00:00Z\",\n"
        " \"machine\": {\"cores\": 2}, \"flags\": {\"cpus_service\": \"0\"},\n"
        " \"cells\": [\n"
        "  {\"workload\": \"echo\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\", \"status\": \"ok\","
        "   \"rps\": 120000, \"cpu_us_per_req\": 8, \"rss_peak_kib\": 3000},\n"
        "  {\"workload\": \"echo\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\", \"status\": \"ok\","
        "   \"rps\": 30000, \"cpu_us_per_req\": 30, \"rss_peak_kib\": 16000},\n"
        "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"idiomatic\", \"status\": \"ok\","
        "   \"rps\": 70000, \"cpu_us_per_req\": 14, \"rss_peak_kib\": 6000},\n"
        "  {\"workload\": \"csv\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\", \"status\": \"ok\","
        "   \"rps\": 500, \"cpu_us_per_req\": 2000, \"rss_peak_kib\": 16000},\n"
        "  {\"workload\": \"csv\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"idiomatic\", \"status\": \"ok\","
        "   \"rps\": 830, \"cpu_us_per_req\": 1200, \"rss_peak_kib\": 25000}],\n"
        " \"equal_load\": {\"pct\": 70, \"cells\": [\n"
        "  {\"workload\": \"echo\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\","
        "   \"rate\": 21000, \"ran\": true, \"held\": true, \"latency_us\": {\"p99\": 4000}},\n"
        "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"idiomatic\","
        "   \"rate\": 21000, \"ran\": true, \"held\": true, \"latency_us\": {\"p99\": 3000}}]}}\n";
    write_file(at("%s/results.json", dir), text);
}

static int run(const char *a, const char *b, const char *c, const char *d, const char *e)
{
    const char *argv[] = {t_stackbench(), a, b, c, d, e, NULL};
    return t_run(argv, out, sizeof out, 60000);
}

TEST(verdict_gives_each_workload_a_language_and_its_reasons)
{
    results();
    CHECK_INT(run("verdict", dir, NULL, NULL, NULL), 0);
    /* csv at the example's 50000 req/s: go 100 cores → 42 c7i.xlarge, rust 60 → 25. */
    CHECK(strstr(out, "csv    rust, then go") != NULL);
    CHECK(strstr(out, "CPU-bound: a request costs go 2000.0 µs of CPU, rust 1200.0 µs (×1.67)"));
    CHECK(strstr(out, "24/7 at 50000 req/s: go needs 42 c7i.xlarge, rust 25"));
    CHECK(strstr(out, "the ceiling (team.production_c false): c tuned 120000 req/s"));
    if (t_failures)
        fprintf(stderr, "%s", out);
    remove_dir();
}

TEST(verdict_json_has_stable_keys_and_nulls_for_what_was_not_measured)
{
    results();
    CHECK_INT(run("verdict", "--json", dir, NULL, NULL), 0);
    CHECK(strstr(out, "\"workload\": \"csv\"") != NULL);
    CHECK(strstr(out, "\"pick\": \"rust\"") != NULL);
    CHECK(strstr(out, "\"rules_out\": true") != NULL);
    /* csv has no c cell: its cost is null. */
    CHECK(strstr(out, "\"instances\": null") != NULL);
    remove_dir();
}

TEST(claims_table_has_every_verdict_word_it_can_reach)
{
    results();
    CHECK_INT(run("claims", dir, NULL, NULL, NULL), 0);
    /* echo: 70000 / 30000 − 1 = +133 %: ×5.13 the claimed +26 %. */
    CHECK(strstr(out, "rust 70000 req/s, go 30000: +133 % (×5.13 the claimed gap)"));
    CHECK(strstr(out, "not measurable here  SQL API") != NULL);
    /* csv 830 / 500 = ×1.66: in 1.5–4×. */
    CHECK(strstr(out, "confirmed            Rust is 1.5-4x Go on CPU-bound code") != NULL);
    if (t_failures)
        fprintf(stderr, "%s", out);
    remove_dir();
}

TEST(run_writes_nothing_it_did_not_measure_into_the_claims)
{
    results();
    CHECK_INT(run("claims", "--json", dir, NULL, NULL), 0);
    CHECK(strstr(out, "\"id\": \"build_times\"") != NULL);
    CHECK(strstr(out, "\"verdict\": \"not measurable here\"") != NULL);
    CHECK(strstr(out, "\"measured\": null") != NULL);
    remove_dir();
}

TEST(decide_plans_the_shipped_40_service_mesh)
{
    results();
    const char *root = getenv("SB_ROOT");
    CHECK_INT(run("decide", "--results", dir, at("%s/examples/mesh-40.yaml", root ? root : "."),
                  NULL),
              0);
    CHECK(strstr(out, "of 40 services move") != NULL);
    CHECK(strstr(out, "no figures for go sql in these results") != NULL);
    if (t_failures)
        fprintf(stderr, "%s", out);
    remove_dir();
}

TEST(bad_profile_is_refused_with_file_line_column)
{
    results();
    const char *bad = at("%s/bad.yaml", dir);
    write_file(bad, "name: t\nservice:\n  p99_slo_ms: -3\n");
    CHECK_INT(run("verdict", "--profile", bad, dir, NULL), 2);
    char want[512];
    snprintf(want, sizeof want,
             "stackbench verdict: %s:3:15: service.p99_slo_ms: expected a number > 0, got \"-3\"",
             bad);
    CHECK(strstr(out, want) != NULL);
    /* run refuses it before it measures anything. */
    CHECK_INT(run("run", "--profile", bad, "--workloads", "echo"), 2);
    CHECK(strstr(out, "stackbench run: ") != NULL && strstr(out, "stackbench run: 1 cell") == NULL);
    if (t_failures)
        fprintf(stderr, "%s", out);
    remove_dir();
}

TEST(bad_mesh_is_refused_with_file_line_column)
{
    results();
    const char *bad = at("%s/mesh.yaml", dir);
    write_file(bad, "services:\n  - {name: a, kind: csv, traffic_rps: 10, lang: cobol}\n");
    CHECK_INT(run("decide", "--results", dir, bad, NULL), 2);
    char want[512];
    snprintf(want, sizeof want, "stackbench decide: %s:2:", bad);
    CHECK(strstr(out, want) != NULL);
    CHECK(strstr(out, "cobol") != NULL);
    CHECK_INT(run("decide", "--results", dir, NULL, NULL), 2);
    CHECK(strstr(out, "missing MESH.yaml") != NULL);
    if (t_failures)
        fprintf(stderr, "%s", out);
    remove_dir();
}

TEST(a_folder_without_results_is_refused)
{
    CHECK_INT(run("verdict", "/nonexistent-results", NULL, NULL, NULL), 2);
    CHECK(strstr(out, "/nonexistent-results/results.json: No such file or directory") != NULL);
    CHECK_INT(run("claims", "/nonexistent-results", NULL, NULL, NULL), 2);
    CHECK_INT(run("verdict", "--traffic", "lots", NULL, NULL), 2);
}

T_MAIN(T(verdict_gives_each_workload_a_language_and_its_reasons),
       T(verdict_json_has_stable_keys_and_nulls_for_what_was_not_measured),
       T(claims_table_has_every_verdict_word_it_can_reach),
       T(run_writes_nothing_it_did_not_measure_into_the_claims),
       T(decide_plans_the_shipped_40_service_mesh), T(bad_profile_is_refused_with_file_line_column),
       T(bad_mesh_is_refused_with_file_line_column), T(a_folder_without_results_is_refused))
