/* Tests for the text tables (src/report/table.c): from a results.json written here and read
 * back with figures_parse, as `stackbench run` reads what it wrote, the terminal's table and
 * results.md hold each figure of the file formatted for people, in its column: req/s, the
 * latencies, memory, CPU, errors, the distance to the best of the tier; a failed cell its
 * reason and no figure; a mix a line per kind of request; the lead lines; the equal-load block
 * with its GC pauses; the development figures; and no block the results do not have. */
#include <math.h>
#include <stdlib.h>

#include "core/buf.h"
#include "decide/figures.h"
#include "report/table.h"
#include "t.h"

/* echo: c tuned, go tuned, go idiomatic (failed), rust tuned, rust idiomatic (load-bound);
 * sql: c tuned (a mix of two requests, its database's CPU and work), go idiomatic. Equal load
 * for all but the failed one (rust tuned did not hold its rate, rust idiomatic did not run;
 * Go's GC pauses: none at echo, three at sql); development figures of C and of Go (cached,
 * its builds failed). */
static const char full[] =
    "{\"stackbench\": \"0.1.0\", \"date\": \"2026-12-02T03:04:05Z\",\n"
    " \"machine\": {\"cpu_model\": \"Test CPU @ 2.0GHz\", \"cores\": 2, \"kernel\": \"Linux 6.1\",\n"
    "   \"memory_kib\": 4194304},\n"
    " \"versions\": {\"c\": \"cc 12\", \"go\": \"go1.26\"},\n"
    " \"flags\": {\"command\": \"stackbench run\", \"langs\": [\"c\", \"go\", \"rust\"],\n"
    "   \"workloads\": [\"echo\", \"sql\"], \"duration_s\": 10, \"warmup_s\": 3,\n"
    "   \"connections\": 64, \"rate\": \"max\", \"cpus_service\": \"0\", \"cpus_load\": \"1\",\n"
    "   \"load_threads\": 1, \"database\": {\"managed\": true, \"cpus\": \"0\", \"pool\": 8}},\n"
    " \"cells\": [\n"
    "  {\"workload\": \"echo\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"core\", \"does\": \"minifier\", \"db_strategy\": null, \"status\": \"ok\",\n"
    "   \"reason\": \"\", \"requests\": 437414, \"rps\": 43741.4, \"latency_us\": {\"p50\": 518.1,\n"
    "   \"p90\": 900, \"p99\": 9380.2, \"p999\": 16800, \"max\": 17043, \"mean\": 700},\n"
    "   \"rss_peak_kib\": 3062, \"cpu_us_per_req\": 8.234, \"errors\": 0, \"load_bound\": false,\n"
    "   \"load_cpu_share\": 0.5, \"db_cpu_us_per_req\": null, \"db_round_trips_per_req\": null,\n"
    "   \"by_request\": []},\n"
    "  {\"workload\": \"echo\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"net/http\", \"does\": \"minifier\", \"db_strategy\": null,\n"
    "   \"status\": \"ok\", \"reason\": \"\", \"requests\": 218707, \"rps\": 21870.7,\n"
    "   \"latency_us\": {\"p50\": 1340, \"p90\": 3000, \"p99\": 5110, \"p999\": 10400, \"max\": 12000,\n"
    "   \"mean\": 1500}, \"rss_peak_kib\": 15565, \"cpu_us_per_req\": 22.07, \"errors\": 0,\n"
    "   \"load_bound\": false, \"load_cpu_share\": 0.3, \"by_request\": []},\n"
    "  {\"workload\": \"echo\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\",\n"
    "   \"framework\": \"net/http\", \"does\": \"encoding/json\", \"db_strategy\": null,\n"
    "   \"status\": \"failed\", \"reason\": \"contract: 2 of 12 cases differ\", \"requests\": 0,\n"
    "   \"rps\": 0, \"latency_us\": {\"p50\": 0, \"p99\": 0}, \"errors\": 0, \"by_request\": []},\n"
    "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"axum\", \"does\": \"minifier\", \"db_strategy\": null, \"status\": \"ok\",\n"
    "   \"reason\": \"\", \"requests\": 291609, \"rps\": 29160.9, \"latency_us\": {\"p50\": 788,\n"
    "   \"p90\": 1500, \"p99\": 2160, \"p999\": 6350, \"max\": 7000, \"mean\": 800},\n"
    "   \"rss_peak_kib\": 6287, \"cpu_us_per_req\": 13.43, \"errors\": 0, \"load_bound\": false,\n"
    "   \"load_cpu_share\": 0.4, \"by_request\": []},\n"
    "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"idiomatic\",\n"
    "   \"framework\": \"axum\", \"does\": \"serde_json\", \"db_strategy\": null, \"status\": \"ok\",\n"
    "   \"reason\": \"\", \"requests\": 200000, \"rps\": 20000, \"latency_us\": {\"p50\": 861,\n"
    "   \"p90\": 1500, \"p99\": 2890, \"p999\": 9120, \"max\": 9500, \"mean\": 900},\n"
    "   \"rss_peak_kib\": 6328, \"cpu_us_per_req\": 14.48, \"errors\": 0, \"load_bound\": true,\n"
    "   \"load_cpu_share\": 0.912, \"by_request\": []},\n"
    "  {\"workload\": \"sql\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"core\", \"does\": \"libpq pipeline mode\", \"db_strategy\": \"pipelined 32\",\n"
    "   \"status\": \"ok\", \"reason\": \"3 errors (3 wrong status, 0 wrong body)\",\n"
    "   \"requests\": 127963, \"rps\": 12796.3, \"latency_us\": {\"p50\": 4330, \"p90\": 9000,\n"
    "   \"p99\": 15000, \"p999\": 21000, \"max\": 25000, \"mean\": 5000}, \"rss_peak_kib\": 9370,\n"
    "   \"cpu_us_per_req\": 18.74, \"errors\": 3, \"load_bound\": false, \"load_cpu_share\": 0.2,\n"
    "   \"db_cpu_s\": 70.7, \"db_cpu_us_per_req\": 55.291, \"db_cpu_share\": 0.713,\n"
    "   \"db_round_trips_per_req\": 1, \"db_commits_per_req\": 0.2, \"by_request\": [\n"
    "    {\"method\": \"GET\", \"target\": \"/accounts/{rand:1:10000}\", \"requests\": 102370,\n"
    "     \"errors\": 1, \"latency_us\": {\"p50\": 3930, \"p90\": 9000, \"p99\": 14000,\n"
    "     \"p999\": 19600}},\n"
    "    {\"method\": \"POST\", \"target\": \"/orders\", \"requests\": 25593, \"errors\": 2,\n"
    "     \"latency_us\": {\"p50\": 6000, \"p90\": 12000, \"p99\": 17300, \"p999\": 23300}}]},\n"
    "  {\"workload\": \"sql\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\",\n"
    "   \"framework\": \"net/http\", \"does\": \"pgx v5 pgxpool\", \"db_strategy\": \"exclusive\",\n"
    "   \"status\": \"ok\", \"reason\": \"\", \"requests\": 43304, \"rps\": 4330.4,\n"
    "   \"latency_us\": {\"p50\": 13500, \"p90\": 20000, \"p99\": 33800, \"p999\": 55100,\n"
    "   \"max\": 60000, \"mean\": 14000}, \"rss_peak_kib\": 18125, \"cpu_us_per_req\": 131.02,\n"
    "   \"errors\": 0, \"load_bound\": false, \"load_cpu_share\": 0.1, \"db_cpu_s\": 40,\n"
    "   \"db_cpu_us_per_req\": 94.11, \"db_cpu_share\": 0.41, \"db_round_trips_per_req\": 1,\n"
    "   \"db_commits_per_req\": 0.2, \"by_request\": []}],\n"
    " \"equal_load\": {\"pct\": 70, \"duration_s\": 5, \"rate\": {\"echo\": 17856, \"sql\": 3031},\n"
    "  \"cells\": [\n"
    "  {\"workload\": \"echo\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\", \"rate\": 17856,\n"
    "   \"ran\": true, \"rate_achieved\": 17841.2, \"held\": true, \"reason\": \"\",\n"
    "   \"latency_us\": {\"p50\": 213.3, \"p99\": 5290, \"p999\": 11700, \"p9999\": 13200,\n"
    "   \"max\": 13400, \"mean\": 400}, \"gc\": null},\n"
    "  {\"workload\": \"echo\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"tuned\", \"rate\": 17856,\n"
    "   \"ran\": true, \"rate_achieved\": 17855, \"held\": true, \"reason\": \"\",\n"
    "   \"latency_us\": {\"p50\": 299, \"p99\": 9160, \"p999\": 15300, \"p9999\": 18100,\n"
    "   \"max\": 20900, \"mean\": 500}, \"gc\": {\"pauses\": 0, \"cycles\": 0,\n"
    "   \"pause_p99_us\": null, \"pause_max_us\": null}},\n"
    "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"tuned\",\n"
    "   \"rate\": 17856, \"ran\": true, \"rate_achieved\": 17001.2, \"held\": false,\n"
    "   \"reason\": \"could not hold 17856 req/s: 17001, 0 errors\", \"latency_us\": {\"p50\": 239,\n"
    "   \"p99\": 6500, \"p999\": 12900, \"p9999\": 14100, \"max\": 14300, \"mean\": 300},\n"
    "   \"gc\": null},\n"
    "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"idiomatic\",\n"
    "   \"rate\": 17856, \"ran\": false, \"rate_achieved\": 0, \"held\": false,\n"
    "   \"reason\": \"load: connection refused\", \"gc\": null},\n"
    "  {\"workload\": \"sql\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\", \"rate\": 3031,\n"
    "   \"ran\": true, \"rate_achieved\": 3030.4, \"held\": true, \"reason\": \"\",\n"
    "   \"latency_us\": {\"p50\": 539, \"p99\": 7190, \"p999\": 10400, \"p9999\": 12100,\n"
    "   \"max\": 12400, \"mean\": 900}, \"gc\": null},\n"
    "  {\"workload\": \"sql\", \"lang\": \"go\", \"name\": \"go\", \"tier\": \"idiomatic\",\n"
    "   \"rate\": 3031, \"ran\": true, \"rate_achieved\": 3026, \"held\": true, \"reason\": \"\",\n"
    "   \"latency_us\": {\"p50\": 3960, \"p99\": 32600, \"p999\": 52500, \"p9999\": 90600,\n"
    "   \"max\": 111000, \"mean\": 5000}, \"gc\": {\"pauses\": 3, \"cycles\": 3,\n"
    "   \"pause_p99_us\": 229.4, \"pause_max_us\": 328.1}}]},\n"
    " \"sweep\": null,\n"
    " \"dev\": {\"loc_counter\": \"the counter\", \"loc_excluded\": \"tests\", \"source_hash\": \"h\",\n"
    "  \"cache\": \"/tmp/cache\", \"elapsed_s\": 80, \"langs\": [\n"
    "  {\"lang\": \"c\", \"source_hash\": \"0123456789abcdef\", \"sources\": 90, \"cached\": false,\n"
    "   \"measured\": \"2026-12-02T01:02:03Z\", \"toolchain\": \"cc 12\", \"build\": {\n"
    "   \"clean_wall_s\": 14.8, \"clean_cpu_s\": 14.7, \"incremental_wall_s\": 0.267,\n"
    "   \"incremental_cpu_s\": 0.263, \"command\": \"make\", \"cleared\": \"build/\",\n"
    "   \"changed\": \"src/serve/echo.c:99\", \"change\": \"appended: x\", \"cpus\": \"0\",\n"
    "   \"reason\": \"\"}, \"binary\": \"build/stackbench\", \"binary_bytes\": 1667000,\n"
    "   \"stripped_bytes\": 491520, \"reason\": \"\", \"deps\": {\"direct\": 4, \"total\": 5,\n"
    "   \"from\": \"DT_NEEDED\", \"reason\": \"\"}, \"loc\": [\n"
    "   {\"workload\": \"echo\", \"tier\": \"tuned\", \"code\": 551, \"files\": [], \"reason\": \"\"},\n"
    "   {\"workload\": \"shared\", \"tier\": \"\", \"code\": 2085, \"files\": [], \"reason\": \"\"}]},\n"
    "  {\"lang\": \"go\", \"source_hash\": \"fedcba9876543210\", \"sources\": 9, \"cached\": true,\n"
    "   \"measured\": \"2026-12-01T01:02:03Z\", \"toolchain\": \"go1.26\", \"build\": {\n"
    "   \"clean_wall_s\": null, \"clean_cpu_s\": null, \"incremental_wall_s\": null,\n"
    "   \"incremental_cpu_s\": null, \"command\": \"make\", \"cleared\": \"GOCACHE\",\n"
    "   \"changed\": \"\", \"change\": \"appended: x\", \"cpus\": \"0\",\n"
    "   \"reason\": \"go build: exit status 1\"}, \"binary\": \"peers/go/bin\",\n"
    "   \"binary_bytes\": null, \"stripped_bytes\": null, \"reason\": \"no binary\",\n"
    "   \"deps\": {\"direct\": 1, \"total\": 12, \"from\": \"go.mod\", \"reason\": \"\"}, \"loc\": [\n"
    "   {\"workload\": \"echo\", \"tier\": \"idiomatic\", \"code\": 117, \"files\": [], \"reason\": \"\"},\n"
    "   {\"workload\": \"echo\", \"tier\": \"tuned\", \"code\": 360, \"files\": [], \"reason\": \"\"},\n"
    "   {\"workload\": \"shared\", \"tier\": \"\", \"code\": 373, \"files\": [], \"reason\": \"\"}]}]}}\n";

/* One echo cell, closed loop with a rate, no equal load, no development figures. */
static const char bare[] =
    "{\"stackbench\": \"0.1.0\", \"machine\": {\"cpu_model\": \"Test CPU\", \"cores\": 4},\n"
    " \"flags\": {\"workloads\": [\"echo\"], \"duration_s\": 2, \"warmup_s\": 1,\n"
    "   \"connections\": 16, \"rate\": 1000, \"cpus_service\": \"0-1\", \"cpus_load\": \"2-3\",\n"
    "   \"database\": null},\n"
    " \"cells\": [{\"workload\": \"echo\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"core\", \"does\": \"minifier\", \"status\": \"ok\", \"reason\": \"\",\n"
    "   \"requests\": 2000, \"rps\": 999.4, \"latency_us\": {\"p50\": 80, \"p99\": 150,\n"
    "   \"p999\": 300}, \"rss_peak_kib\": 2048, \"cpu_us_per_req\": 30, \"errors\": 0,\n"
    "   \"by_request\": []}],\n"
    " \"equal_load\": null, \"sweep\": null, \"dev\": null}\n";

static figures_t figs;

static const figures_t *parse(const char *json)
{
    char err[512];
    if (figures_parse(&figs, "test", json, strlen(json), err, sizeof err) != 0) {
        fprintf(stderr, "    figures_parse: %s\n", err);
        exit(1);
    }
    return &figs;
}

/* The terminal's tables of a results.json, NUL-terminated (static). */
static const char *table_of(const char *json)
{
    static char *text;
    size_t len;
    free(text);
    FILE *m = open_memstream(&text, &len);
    if (!m)
        exit(1);
    table_print(m, parse(json));
    fclose(m);
    return text;
}

/* results.md's head and tables of a results.json, NUL-terminated (static). */
static const char *markdown_of(const char *json)
{
    static buf_t b;
    buf_clear(&b);
    table_markdown(&b, parse(json));
    buf_append(&b, "", 1);
    return buf_start(&b);
}

/* The line of text that starts with prefix, without its newline (static; "" when none). */
static const char *line_at(const char *text, const char *prefix)
{
    static char line[2048];
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, prefix, n)) {
            snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
            return line;
        }
    fprintf(stderr, "    no line starts with \"%s\"\n", prefix);
    return "";
}

/* The line after the line that starts with prefix (static). */
static const char *line_after(const char *text, const char *prefix, int k)
{
    static char line[2048];
    const char *p = strstr(text, line_at(text, prefix));
    for (int i = 0; p && i < k; i++)
        p = strchr(p, '\n'), p = p ? p + 1 : NULL;
    snprintf(line, sizeof line, "%.*s", p ? (int)strcspn(p, "\n") : 0, p ? p : "");
    return line;
}

/* The words of a line, split at spaces, into w (at most max); returns how many. */
static int words(const char *line, char w[][96], int max)
{
    int n = 0;
    for (const char *p = line; *p && n < max;) {
        p += strspn(p, " ");
        size_t k = strcspn(p, " ");
        if (k == 0)
            break;
        snprintf(w[n++], sizeof w[0], "%.*s", (int)k, p);
        p += k;
    }
    return n;
}

/* The cells of a Markdown table row, between its pipes, into c (at most max); how many. */
static int md_cells(const char *line, char c[][400], int max)
{
    int n = 0;
    const char *p = strchr(line, '|');
    while (p && n < max) {
        const char *q = strchr(p + 1, '|');
        if (!q)
            break;
        const char *s = p + 1, *e = q;
        while (s < e && *s == ' ')
            s++;
        while (e > s && e[-1] == ' ')
            e--;
        snprintf(c[n++], sizeof c[0], "%.*s", (int)(e - s), s);
        p = q;
    }
    return n;
}

static const fig_cell_t *cell(const char *wl, int lang, const char *tier)
{
    const fig_cell_t *c = figures_cell(&figs, wl, lang, tier);
    if (!c) {
        fprintf(stderr, "    no cell %s/%d/%s\n", wl, lang, tier);
        exit(1);
    }
    return c;
}

TEST(the_table_has_its_heads_in_aligned_columns)
{
    const char *t = table_of(full);
    CHECK_STR(line_at(t, "workload"),
              "workload  implementation       req/s       p50       p99     p99.9   peak RSS  "
              "CPU µs/req  errors  vs tier  what it measures");
    CHECK_STR(line_at(t, "echo      c tuned"),
              "echo      c tuned              43741     518µs    9.38ms    16.8ms    2.99MiB  "
              "      8.23       0     best  core; minifier");
}

TEST(each_cell_has_the_figures_of_results_json_in_its_columns)
{
    const char *t = table_of(full);
    char w[32][96];
    /* workload, name, tier, req/s, p50, p99, p99.9, peak RSS, CPU µs/req, errors, vs tier */
    int n = words(line_at(t, "echo      rust tuned"), w, 32);
    CHECK(n >= 12);
    const fig_cell_t *c = cell("echo", LANG_RUST, "tuned");
    CHECK(c->rps == 29160.9 && c->p99_us == 2160);
    CHECK_STR(w[3], "29161");
    CHECK_STR(w[4], "788µs");
    CHECK_STR(w[5], "2.16ms");
    CHECK_STR(w[6], "6.35ms");
    CHECK_STR(w[7], "6.14MiB");
    CHECK_STR(w[8], "13.43");
    CHECK_STR(w[9], "0");
    CHECK_STR(w[10], "-33"); /* 29160.9 / 43741.4 of c tuned, the best of the tier */
    CHECK_STR(w[11], "%");
    n = words(line_at(t, "echo      go tuned"), w, 32);
    CHECK(n >= 12);
    CHECK_STR(w[3], "21871");
    CHECK_STR(w[10], "-50");
    /* the best of its tier, alone in it, load-bound: what limited it said */
    const char *l = line_at(t, "echo      rust idiomatic");
    n = words(l, w, 32);
    CHECK(n >= 11);
    CHECK_STR(w[3], "20000");
    CHECK_STR(w[10], "best");
    CHECK(strstr(l, "  axum; serde_json; load-bound (load CPU 91 %): compare CPU µs/req") != NULL);
}

TEST(a_failed_cell_gives_its_reason_and_no_figure)
{
    const char *t = table_of(full);
    CHECK_STR(line_at(t, "echo      go idiomatic"),
              "echo      go idiomatic     failed: contract: 2 of 12 cases differ");
    const char *m = markdown_of(full);
    char c[16][400];
    int n = md_cells(line_at(m, "| echo | go idiomatic |"), c, 16);
    CHECK_INT(n, 11);
    for (int k = 2; k < 10 && k < n; k++)
        CHECK_STR(c[k], "");
    CHECK_STR(c[10], "failed: contract: 2 of 12 cases differ");
    /* and it is nobody's best: the others of its tier compare with the one that held */
    CHECK(strstr(t, "echo, idiomatic: rust idiomatic leads in req/s (alone in its tier)") != NULL);
}

TEST(a_mix_has_a_line_per_kind_of_request_under_its_cell)
{
    const char *t = table_of(full);
    const char *l = line_at(t, "sql       c tuned");
    char w[48][96];
    int n = words(l, w, 48);
    CHECK(n >= 12);
    CHECK_STR(w[3], "12796");
    CHECK_STR(w[5], "15.0ms");
    CHECK_STR(w[9], "3");
    CHECK(strstr(l, "  core; libpq pipeline mode; pipelined 32; + database 55.29 µs/req, 71 % of "
                    "its CPUs, 1.00 statements and 0.20 commits per request") != NULL);
    /* req/s: the cell's 12796.3 × 102370 / 127963 of its requests; errors its own */
    CHECK_STR(line_after(t, "sql       c tuned", 1),
              "                               10237    3.93ms    14.0ms    19.6ms              "
              "                1           GET /accounts/{rand:1:10000}");
    n = words(line_after(t, "sql       c tuned", 2), w, 48);
    CHECK_INT(n, 7);
    CHECK_STR(w[0], "2559");
    CHECK_STR(w[1], "6.00ms");
    CHECK_STR(w[2], "17.3ms");
    CHECK_STR(w[3], "23.3ms");
    CHECK_STR(w[4], "2");
    CHECK_STR(w[5], "POST");
    CHECK_STR(w[6], "/orders");
    /* the next cell follows: a cell without a mix has no such line */
    CHECK(strncmp(line_after(t, "sql       c tuned", 3), "sql       go idiomatic", 22) == 0);
    CHECK(strncmp(line_after(t, "echo      c tuned", 1), "echo      go tuned", 18) == 0);
}

TEST(the_lead_lines_compare_within_each_tier_then_across)
{
    const char *t = table_of(full);
    CHECK_STR(line_at(t, "echo, tuned:"),
              "echo, tuned: c tuned leads in req/s: +100 % over go tuned, +50 % over rust tuned");
    CHECK_STR(line_at(t, "echo, idiomatic:"),
              "echo, idiomatic: rust idiomatic leads in req/s (alone in its tier)");
    CHECK_STR(line_at(t, "echo, across"),
              "echo, across tiers (strategies differ): c tuned +119 % over rust idiomatic");
    CHECK_STR(line_at(t, "sql, across"),
              "sql, across tiers (strategies differ): c tuned +195 % over go idiomatic");
}

TEST(the_equal_load_block_has_rate_latency_and_gc_pauses)
{
    const char *t = table_of(full);
    CHECK_STR(line_at(t, "equal load:"),
              "equal load: every implementation of a workload open loop at the same rate, 70 % "
              "of the slowest maximum, 5s each");
    CHECK_STR(line_after(t, "equal load:", 2),
              "workload  implementation        rate   achieved       p50       p99     p99.9    "
              "p99.99       max         GC p99/max");
    /* the rows come after the table of cells: the second line of each implementation */
    const char *eq = strstr(t, "equal load:");
    CHECK_STR(line_at(eq, "echo      c tuned"),
              "echo      c tuned              17856      17841     213µs    5.29ms    11.7ms    "
              "13.2ms    13.4ms");
    char w[32][96];
    int n = words(line_at(eq, "sql       go idiomatic"), w, 32);
    CHECK_INT(n, 11);
    CHECK_STR(w[3], "3031");
    CHECK_STR(w[4], "3026");
    CHECK_STR(w[6], "32.6ms");
    CHECK_STR(w[9], "111ms");
    CHECK_STR(w[10], "229µs/328µs");
    CHECK(strstr(line_at(eq, "echo      go tuned"), "20.9ms           no pause") != NULL);
    const char *l = line_at(eq, "echo      rust tuned");
    n = words(l, w, 32);
    CHECK_STR(w[4], "17001");
    CHECK(strstr(l, "  could not hold 17856 req/s: 17001, 0 errors") != NULL);
    CHECK_STR(line_at(eq, "echo      rust idiomatic"),
              "echo      rust idiomatic       17856  load: connection refused");
}

TEST(the_development_block_has_builds_sizes_deps_and_code_lines)
{
    const char *t = table_of(full);
    CHECK(strstr(t, "\ndevelopment: a copy of each language's sources built on CPU 0, clean") != NULL);
    const char *dev = strstr(t, "development:");
    CHECK_STR(line_at(dev, "lang"),
              "lang         clean build         incremental    binary / stripped      deps      "
              "     echo code lines  shared");
    CHECK_STR(line_at(dev, "c "),
              "c      14.8s (14.7s CPU)   267ms (263ms CPU)     1.59MiB / 480KiB     4 / 5      "
              "           tuned 551    2085  measured 2026-12-02");
    /* what was not measured: "-", and why */
    CHECK_STR(line_at(dev, "go "),
              "go                     -                   -                    -    1 / 12  "
              "idiomatic 117, tuned 360     373  cached, measured 2026-12-01; go build: exit "
              "status 1");
}

TEST(results_md_has_the_head_and_the_same_figures)
{
    const char *m = markdown_of(full);
    CHECK(strncmp(m, "# stackbench results\n\n", 22) == 0);
    CHECK_STR(line_at(m, "2 CPUs"),
              "2 CPUs (Test CPU @ 2.0GHz); service on CPU 0, load on CPU 1; sql: PostgreSQL on "
              "CPU 0, pool 8; 64 connections, closed loop (max rate), 10s measured after 3s "
              "warm-up.");
    CHECK_STR(line_at(m, "| workload | implementation | req/s"),
              "| workload | implementation | req/s | p50 | p99 | p99.9 | peak RSS | CPU µs/req | "
              "errors | vs tier | what it measures |");
    char c[16][400];
    int n = md_cells(line_at(m, "| echo | c tuned |"), c, 16);
    CHECK_INT(n, 11);
    static const char *const want[] = {"echo", "c tuned", "43741", "518µs", "9.38ms", "16.8ms",
                                       "2.99MiB", "8.23", "0", "best", "core; minifier"};
    for (int k = 0; k < 11 && k < n; k++)
        CHECK_STR(c[k], want[k]);
    n = md_cells(line_at(m, "| sql | go idiomatic |"), c, 16);
    CHECK_INT(n, 11);
    CHECK_STR(c[4], "33.8ms");
    CHECK_STR(c[9], "best");
    /* no line per kind of request in results.md */
    CHECK(strstr(m, "/orders") == NULL);
    /* equal load, then the development figures */
    const char *eq = strstr(m, "\nEqual load: open loop at 70 % of each workload's slowest "
                               "maximum, 5s each.\n");
    CHECK(eq != NULL);
    if (!eq)
        return;
    n = md_cells(line_at(eq, "| echo | rust tuned |"), c, 16);
    CHECK_INT(n, 10);
    CHECK_STR(c[2], "17856");
    CHECK_STR(c[3], "17001 (not held)");
    CHECK_STR(c[5], "6.50ms");
    CHECK_STR(line_at(eq, "| sql | go idiomatic |"),
              "| sql | go idiomatic | 3031 | 3026 | 3.96ms | 32.6ms | 52.5ms | 90.6ms | 111ms | "
              "229µs / 328µs |");
    CHECK_STR(line_at(eq, "| echo | rust idiomatic |"),
              "| echo | rust idiomatic | 17856 | load: connection refused | | | | | | |");
    const char *dev = strstr(eq, "\nDevelopment: builds of a copy of the sources pinned to CPU 0,");
    CHECK(dev != NULL && strstr(dev, "code lines by the counter.\n") != NULL);
    CHECK_STR(line_at(m, "| go |"),
              "| go | - | - | - | 1 / 12 | idiomatic 117, tuned 360 | 373 | cached, measured "
              "2026-12-01; go build: exit status 1 |");
}

TEST(blocks_the_results_do_not_have_are_left_out)
{
    const char *t = table_of(bare);
    CHECK(strstr(t, "equal load") == NULL);
    CHECK(strstr(t, "development") == NULL);
    CHECK_STR(line_at(t, "echo      c tuned"),
              "echo      c tuned                999    80.0µs     150µs     300µs    2.00MiB  "
              "     30.00       0     best  core; minifier");
    CHECK_STR(line_at(t, "echo, tuned"), "echo, tuned: c tuned leads in req/s (alone in its tier)");
    CHECK(strstr(t, "across tiers") == NULL);
    const char *m = markdown_of(bare);
    CHECK_STR(line_at(m, "4 CPUs"),
              "4 CPUs (Test CPU); service on CPU 0-1, load on CPU 2-3; 16 connections, open "
              "loop, 2s measured after 1s warm-up.");
    CHECK(strstr(m, "Equal load") == NULL && strstr(m, "Development") == NULL);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        T(the_table_has_its_heads_in_aligned_columns),
        T(each_cell_has_the_figures_of_results_json_in_its_columns),
        T(a_failed_cell_gives_its_reason_and_no_figure),
        T(a_mix_has_a_line_per_kind_of_request_under_its_cell),
        T(the_lead_lines_compare_within_each_tier_then_across),
        T(the_equal_load_block_has_rate_latency_and_gc_pauses),
        T(the_development_block_has_builds_sizes_deps_and_code_lines),
        T(results_md_has_the_head_and_the_same_figures),
        T(blocks_the_results_do_not_have_are_left_out),
    };
    return t_main(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
}
