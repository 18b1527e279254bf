/* Tests for the report's page (src/report/html.c): from a results.json written here, read
 * back and decided by the decide module as `stackbench report` does: every string from the
 * results escaped, the page well formed, failed cells with their reason, a missing workload
 * said, the numbers the figures', a chart per figure and none for a block that is absent. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fmt.h"
#include "report/html.h"
#include "t.h"
#include "tmarkup.h"

#define HOSTILE "<script>alert(1)</script> \\\"q\\\" & 'a'"   /* as JSON writes it */
#define HOSTILE_TEXT "<script>alert(1)</script> \"q\" & 'a'" /* the string itself */
#define HOSTILE_HTML "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &amp; &#39;a&#39;"

/* echo: c tuned ok with its spectrum, go idiomatic failed; csv named by the flags, absent; no
 * equal load, no sweep, no development figures. Hostile strings everywhere a person's text
 * goes: the machine, a toolchain, the command, a framework, a reason. */
static const char partial[] =
    "{\"stackbench\": \"0.1.0\", \"date\": \"2025-01-02T03:04:05Z\",\n"
    " \"machine\": {\"cpu_model\": \"" HOSTILE "\", \"cores\": 2, \"kernel\": \"Linux & co\",\n"
    "   \"memory_kib\": 1048576},\n"
    " \"versions\": {\"c\": \"cc <12>\", \"go\": \"go1.26\"},\n"
    " \"flags\": {\"command\": \"stackbench run --impl 'x=" HOSTILE "'\", \"workloads\": [\"echo\",\n"
    "   \"csv\"], \"duration_s\": 1, \"warmup_s\": 0.5, \"connections\": 64, \"rate\": \"max\",\n"
    "   \"cpus_service\": \"0\", \"cpus_load\": \"1\", \"load_threads\": 1, \"database\": null},\n"
    " \"cells\": [\n"
    "  {\"workload\": \"echo\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"core " HOSTILE "\", \"does\": \"minifier\", \"db_strategy\": null,\n"
    "   \"status\": \"ok\", \"reason\": \"\", \"requests\": 43740, \"rps\": 43740.5, \"errors\": 0,\n"
    "   \"latency_us\": {\"p50\": 518.1, \"p90\": 900, \"p99\": 9380.2, \"p999\": 16800, \"max\": 17043,\n"
    "   \"mean\": 700}, \"spectrum\": [{\"p\": 0, \"us\": 29.6}, {\"p\": 50, \"us\": 518.1},\n"
    "   {\"p\": 99, \"us\": 9380.2}, {\"p\": 100, \"us\": 17043}], \"rss_peak_kib\": 3062,\n"
    "   \"rss_mean_kib\": 2970, \"cpu_us_per_req\": 8.23, \"db_cpu_us_per_req\": null,\n"
    "   \"by_request\": []},\n"
    "  {\"workload\": \"echo\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\",\n"
    "   \"framework\": \"net/http\", \"does\": \"encoding/json\", \"status\": \"failed\",\n"
    "   \"reason\": \"verify: " HOSTILE "\", \"requests\": 0, \"rps\": 0}],\n"
    " \"equal_load\": null, \"sweep\": null, \"dev\": null}\n";

/* The page of a results.json, as a NUL-terminated string (the caller frees it). */
static char *page_of(const char *json)
{
    char dir[] = "/tmp/sb-html-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    char path[64];
    snprintf(path, sizeof path, "%s/results.json", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(json, f) < 0 || fclose(f) != 0)
        exit(1);
    static decision_t d;
    decide_opts_t o = {0};
    char err[512];
    if (decide_load(&d, dir, &o, err, sizeof err) != 0) {
        fprintf(stderr, "    decide_load: %s\n", err);
        exit(1);
    }
    unlink(path);
    rmdir(dir);
    buf_t b = BUF_INIT;
    html_page(&b, &d, NULL);
    buf_append(&b, "", 1);
    return buf_start(&b);
}

/* The row of a cell: from its data-cell to its </tr>, NUL-terminated (static). */
static const char *row_of(const char *page, const char *key)
{
    static char row[8192];
    char attr[160];
    snprintf(attr, sizeof attr, "<tr data-cell=\"%s\"", key);
    const char *p = strstr(page, attr);
    if (!p) {
        snprintf(attr, sizeof attr, "<tr class=\"failed\" data-cell=\"%s\"", key);
        p = strstr(page, attr);
    }
    if (!p) {
        fprintf(stderr, "    no row %s\n", key);
        return "";
    }
    const char *end = strstr(p, "</tr>");
    snprintf(row, sizeof row, "%.*s", end ? (int)(end - p) : 0, p);
    return row;
}

/* data-v and the text of the figure data-k="key" in a row: 0, or -1. */
static int figure_in(const char *row, const char *key, double *v, char *text, size_t n)
{
    char attr[64];
    snprintf(attr, sizeof attr, "data-k=\"%s\" data-v=\"", key);
    const char *p = strstr(row, attr);
    if (!p)
        return -1;
    *v = strtod(p + strlen(attr), NULL);
    const char *gt = strchr(p, '>'), *lt = gt ? strchr(gt, '<') : NULL;
    if (!lt)
        return -1;
    snprintf(text, n, "%.*s", (int)(lt - gt - 1), gt + 1);
    return 0;
}

TEST(nines_put_percentiles_on_the_log_scale)
{
    CHECK(html_nines(0, 1000) == 0);
    CHECK(fabs(html_nines(90, 1000) - 1) < 1e-12);
    CHECK(fabs(html_nines(99, 1000) - 2) < 1e-12);
    CHECK(fabs(html_nines(99.9, 1000) - 3) < 1e-9);
    CHECK(fabs(html_nines(100, 1000) - 3) < 1e-12);  /* the max: the 1000th answer */
    CHECK(html_nines(100, 1e7) == 5);                 /* at most the scale's end */
    CHECK(html_nines(99.99999, 1e7) == 5);
}

TEST(every_string_from_the_results_is_escaped)
{
    char *page = page_of(partial);
    /* no markup of theirs, anywhere: the page has no script at all */
    CHECK(strstr(page, "<script") == NULL && strstr(page, "<SCRIPT") == NULL);
    int hits = 0;
    for (const char *p = strstr(page, HOSTILE_HTML); p; p = strstr(p + 1, HOSTILE_HTML))
        hits++;
    CHECK(hits >= 4); /* the machine, the command, the framework, the reason */
    CHECK(strstr(page, "cc &lt;12&gt;") != NULL);
    CHECK(strstr(page, "Linux &amp; co") != NULL);
    char why[256];
    int elements = t_markup_check(page, why, sizeof why);
    if (elements < 0)
        fprintf(stderr, "    %s\n", why);
    CHECK(elements > 100);
    free(page);
}

TEST(the_page_fetches_nothing)
{
    char *page = page_of(partial);
    /* the only URLs are the SVG namespace of each chart */
    int urls = 0, svgs = 0;
    for (const char *p = strstr(page, "://"); p; p = strstr(p + 1, "://"))
        urls++;
    for (const char *p = strstr(page, "<svg xmlns=\"http://www.w3.org/2000/svg\""); p;
         p = strstr(p + 1, "<svg xmlns=\"http://www.w3.org/2000/svg\""))
        svgs++;
    CHECK(svgs > 0);
    CHECK_INT(urls, svgs);
    CHECK(strstr(page, "<link") == NULL && strstr(page, "@import") == NULL &&
          strstr(page, "<img") == NULL && strstr(page, "src=") == NULL);
    CHECK(strstr(page, "@media print") != NULL);
    free(page);
}

TEST(failed_cells_show_their_reason_and_a_missing_workload_is_said)
{
    char *page = page_of(partial);
    const char *row = row_of(page, "echo/go/idiomatic");
    CHECK(strstr(row, "class=\"failed\"") != NULL);
    CHECK(strstr(row, "failed: verify: " HOSTILE_HTML) != NULL);
    CHECK(strstr(row, "data-k=\"rps\"") == NULL); /* no figure of a failed cell */
    /* its bar says so */
    const char *bar = strstr(page, "data-bar=\"echo/go/idiomatic\"");
    CHECK(bar != NULL && strstr(bar, ">failed</text>") != NULL);
    /* csv: named by the flags, not in the cells */
    const char *csv = strstr(page, "<section class=\"workload\" id=\"wl-csv\">");
    CHECK(csv != NULL && strstr(csv, "No cell of this workload") != NULL);
    CHECK(strstr(page, "<b>csv</b>: not in these results.") != NULL);
    CHECK(strstr(page, "1 cell failed") != NULL);
    free(page);
}

TEST(the_numbers_are_the_figures_formatted_for_people)
{
    char *page = page_of(partial);
    const char *row = row_of(page, "echo/c/tuned");
    double v;
    char text[64], want[64];
    CHECK_INT(figure_in(row, "rps", &v, text, sizeof text), 0);
    CHECK(v == 43740.5);
    fmt_count(want, sizeof want, 43740.5);
    CHECK_STR(text, want);
    CHECK_STR(text, "43.7k");
    CHECK_INT(figure_in(row, "p99", &v, text, sizeof text), 0);
    CHECK(v == 9380.2);
    CHECK_STR(text, "9.38ms");
    CHECK_INT(figure_in(row, "rss_peak", &v, text, sizeof text), 0);
    CHECK(v == 3062);
    CHECK_STR(text, "2.99MiB");
    CHECK_INT(figure_in(row, "cpu", &v, text, sizeof text), 0);
    CHECK_STR(text, "8.23µs");
    /* the summary says who leads */
    CHECK(strstr(page, "<b>echo, tuned</b>: c leads at 43.7k req/s (alone in its tier).") != NULL);
    free(page);
}

TEST(a_chart_for_each_figure_and_none_for_an_absent_block)
{
    char *page = page_of(partial);
    static const char *const present[] = {"echo-rps", "echo-cpu", "echo-rss", "echo-spectrum"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++) {
        char attr[64];
        snprintf(attr, sizeof attr, "data-chart=\"%s\"", present[i]);
        if (!strstr(page, attr)) {
            fprintf(stderr, "    no chart %s\n", present[i]);
            t_failures++;
        }
    }
    /* no equal load, no sweep, no development figures, no csv cells: none of their charts */
    CHECK(strstr(page, "data-chart=\"echo-eq-spectrum\"") == NULL);
    CHECK(strstr(page, "data-chart=\"echo-windows-") == NULL);
    CHECK(strstr(page, "data-chart=\"echo-sweep\"") == NULL);
    CHECK(strstr(page, "data-chart=\"dev-") == NULL);
    CHECK(strstr(page, "data-chart=\"csv-") == NULL);
    CHECK(strstr(page, "At equal load") == NULL);
    /* the spectrum: c's line, its last point the max (x = log10(43740) = 4.64) */
    CHECK(strstr(page, "data-series=\"echo/c/tuned\"") != NULL);
    CHECK(strstr(page, "<title>c tuned: max 17.0ms</title>") != NULL);
    /* the verdict and the claims, computed from these figures */
    CHECK(strstr(page, "<section id=\"verdict\">") != NULL);
    CHECK(strstr(page, "data-claim=\"echo_rust_over_go\"") != NULL);
    free(page);
}

T_MAIN(T(nines_put_percentiles_on_the_log_scale), T(every_string_from_the_results_is_escaped),
       T(the_page_fetches_nothing),
       T(failed_cells_show_their_reason_and_a_missing_workload_is_said),
       T(the_numbers_are_the_figures_formatted_for_people),
       T(a_chart_for_each_figure_and_none_for_an_absent_block))
