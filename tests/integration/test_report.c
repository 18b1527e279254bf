/* report.html in a real browser: headless Chromium (Debian's `chromium`, which
 * scripts/install.sh installs) opens the page a short `stackbench run` wrote, and a page made
 * by `stackbench report` from a hand-written results.json with failed cells, a missing
 * workload, no equal-load block and hostile strings.
 *
 * How Chromium is driven here (what works on this machine, Chromium 1xx headless):
 *     chromium --headless --no-sandbox --disable-gpu --no-first-run
 *              --disable-background-networking --user-data-dir=TMP ...
 *   - console: --enable-logging=stderr --v=0 puts every console message and uncaught error
 *     on stderr as "...:INFO:CONSOLE:N] "message", source: URL (N)"; the page has no script,
 *     so any such line is a failure;
 *   - the DOM as laid out: --dump-dom prints the DOM after load, scripts run; a copy of the
 *     page with a few lines of script appended (the page itself has none) measures each chart
 *     (getBoundingClientRect) and reads the cells' texts, and writes them as JSON into a <pre>
 *     that the dump carries;
 *   - a picture: --screenshot=PATH --window-size=1280,2400, kept as BUILD/report-screenshot.png
 *     for people to look at.
 * Without chromium these tests fail, naming the install script: they never pass silently.
 *
 * Env: STACKBENCH (the binary; BUILD is its folder), CHROMIUM (the browser; default chromium
 * or chromium-browser on PATH). */
#define T_TIMEOUT 300 /* a run, its builds if needed, and three browser starts */
#include "t.h"

#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/fmt.h"
#include "jsonq.h"
#include "tmarkup.h"
#include "tproc.h"

static char out[1 << 16];

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2)
            s = realloc(s, cap *= 2);
    }
    fclose(f);
    s[n] = 0;
    if (len)
        *len = n;
    return s;
}

static void write_all(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(s, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "    cannot write %s\n", path);
        exit(1);
    }
}

/* The browser: $CHROMIUM, else chromium or chromium-browser on PATH; NULL (the failure said,
 * with the script that installs it) when there is none. */
static const char *chromium(void)
{
    static char found[4096];
    const char *env = getenv("CHROMIUM");
    if (env && *env)
        return env;
    const char *path = getenv("PATH");
    static const char *const names[] = {"chromium", "chromium-browser"};
    for (size_t k = 0; path && k < sizeof names / sizeof names[0]; k++)
        for (const char *p = path; *p;) {
            size_t n = strcspn(p, ":");
            snprintf(found, sizeof found, "%.*s/%s", (int)n, p, names[k]);
            if (access(found, X_OK) == 0)
                return found;
            p += n + (p[n] == ':');
        }
    fprintf(stderr, "    chromium not found (nor $CHROMIUM): scripts/install.sh installs "
                    "Debian's chromium, which this test opens the report in\n");
    t_failures++;
    return NULL;
}

/* Runs the browser headless on the file url with the extra flags; its stdout into dom_path
 * and its stderr into log_path (either may be /dev/null). Its exit status. */
static int browse(const char *tmp, const char *extra, const char *file, const char *dom_path,
                  const char *log_path)
{
    const char *bin = chromium();
    if (!bin)
        return -1;
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' --headless --no-sandbox --disable-gpu --no-first-run "
             "--disable-background-networking --user-data-dir='%s/profile' %s 'file://%s' "
             ">'%s' 2>'%s'",
             bin, tmp, extra, file, dom_path, log_path);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    int rc = t_run(argv, out, sizeof out, 90000);
    if (rc != 0)
        fprintf(stderr, "    chromium exited %d: %s\n", rc, cmd);
    return rc;
}

/* Console messages and uncaught errors in a browser's log: none expected. */
static void no_console_errors(const char *log_path)
{
    char *log = read_all(log_path, NULL);
    if (!log) {
        fprintf(stderr, "    no browser log at %s\n", log_path);
        t_failures++;
        return;
    }
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, ":CONSOLE") || strstr(line, "Uncaught")) {
            fprintf(stderr, "    the page logged: %s\n", line);
            t_failures++;
        }
    free(log);
}

/* What the harness reads in the laid-out page, as JSON: the charts with their size, the
 * number of scripts (the harness itself only), each cell's figures (text and data-v) and
 * reason, the texts of the header. */
static const char harness[] =
    "<script>(function(){var o={charts:[],scripts:document.getElementsByTagName('script')"
    ".length,cells:{},texts:{}};"
    "document.querySelectorAll('svg[data-chart]').forEach(function(s){var r=s."
    "getBoundingClientRect();o.charts.push({name:s.getAttribute('data-chart'),w:r.width,"
    "h:r.height});});"
    "document.querySelectorAll('table.cells tr[data-cell]').forEach(function(tr){var c={"
    "failed:tr.classList.contains('failed')};tr.querySelectorAll('td[data-k]').forEach("
    "function(td){var k=td.getAttribute('data-k');c[k]=td.textContent;c[k+'_v']=td."
    "getAttribute('data-v');});var r=tr.querySelector('.reason');if(r)c.reason=r.textContent;"
    "o.cells[tr.getAttribute('data-cell')]=c;});"
    "['command','machine','cpus','summary'].forEach(function(id){var e=document."
    "getElementById(id);o.texts[id]=e?e.textContent:null;});"
    "var p=document.createElement('pre');p.id='sb-measure';p.textContent=JSON.stringify(o);"
    "document.body.appendChild(p);})();</script>";

/* The page at dir/report.html opened with the harness: its JSON (malloc'd), or NULL. */
static char *measure(const char *dir, size_t *len)
{
    char page_path[300], copy[300], dom_path[300], log_path[300];
    snprintf(page_path, sizeof page_path, "%s/report.html", dir);
    snprintf(copy, sizeof copy, "%s/measure.html", dir);
    snprintf(dom_path, sizeof dom_path, "%s/dom.html", dir);
    snprintf(log_path, sizeof log_path, "%s/measure.log", dir);
    char *page = read_all(page_path, NULL);
    if (!page)
        return NULL;
    char *body = strstr(page, "</body>");
    if (!body) {
        fprintf(stderr, "    %s has no </body>\n", page_path);
        free(page);
        return NULL;
    }
    FILE *f = fopen(copy, "w");
    fprintf(f, "%.*s%s%s", (int)(body - page), page, harness, body);
    fclose(f);
    free(page);
    if (browse(dir, "--enable-logging=stderr --v=0 --window-size=1280,2400 --dump-dom", copy,
               dom_path, log_path) != 0)
        return NULL;
    no_console_errors(log_path);
    char *dom = read_all(dom_path, NULL);
    const char *open = dom ? strstr(dom, "<pre id=\"sb-measure\">") : NULL;
    const char *close = open ? strstr(open, "</pre>") : NULL;
    if (!close) {
        fprintf(stderr, "    the dumped DOM has no harness output (%s)\n", dom_path);
        free(dom);
        return NULL;
    }
    /* the text as serialized: & < > and no-break spaces are entities */
    open += strlen("<pre id=\"sb-measure\">");
    char *json = malloc((size_t)(close - open) + 1);
    size_t n = 0;
    for (const char *p = open; p < close;) {
        static const struct {
            const char *ent, *ch;
        } ents[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", "\xC2\xA0"}};
        bool done = false;
        for (size_t k = 0; k < 4 && !done; k++)
            if (!strncmp(p, ents[k].ent, strlen(ents[k].ent))) {
                memcpy(json + n, ents[k].ch, strlen(ents[k].ch));
                n += strlen(ents[k].ch);
                p += strlen(ents[k].ent);
                done = true;
            }
        if (!done)
            json[n++] = *p++;
    }
    json[n] = 0;
    *len = n;
    free(dom);
    return json;
}

/* Every chart of the file is in the laid-out page with a size; the names given are there. */
static void charts_laid_out(const char *page, const char *m, size_t mn,
                            const char *const *want, int nwant)
{
    int in_file = 0;
    for (const char *p = strstr(page, " data-chart=\""); p; p = strstr(p + 1, " data-chart=\""))
        in_file++;
    int n = jsonq_len(m, mn, "charts");
    CHECK_INT(n, in_file);
    for (int i = 0; i < n; i++) {
        char k[64], name[160] = "";
        double w = 0, h = 0;
        snprintf(k, sizeof k, "charts.%d.name", i);
        jsonq_str(m, mn, k, name, sizeof name);
        snprintf(k, sizeof k, "charts.%d.w", i);
        jsonq_num(m, mn, k, &w);
        snprintf(k, sizeof k, "charts.%d.h", i);
        jsonq_num(m, mn, k, &h);
        if (!(w > 100 && h > 50)) {
            fprintf(stderr, "    chart %s is %gx%g in the page\n", name, w, h);
            t_failures++;
        }
    }
    for (int k = 0; k < nwant; k++) {
        bool found = false;
        for (int i = 0; i < n && !found; i++) {
            char key[64], name[160] = "";
            snprintf(key, sizeof key, "charts.%d.name", i);
            found = jsonq_str(m, mn, key, name, sizeof name) && !strcmp(name, want[k]);
        }
        if (!found) {
            fprintf(stderr, "    no chart %s in the page\n", want[k]);
            t_failures++;
        }
    }
}

static char *dom_str(const char *m, size_t mn, const char *path)
{
    static char v[8192];
    if (!jsonq_str(m, mn, path, v, sizeof v)) {
        fprintf(stderr, "    the page has no %s\n", path);
        t_failures++;
        return "(missing)";
    }
    return v;
}

/* The build folder, where the screenshot is kept: the binary's. */
static const char *build_dir(void)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", t_stackbench());
    return dirname(dir);
}

static void remove_dir(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "    could not remove %s\n", dir);
}

TEST(a_short_runs_report_opens_in_chromium_with_every_chart_and_its_numbers)
{
    if (!chromium())
        return;
    char dir[] = "/tmp/sb-report-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *argv[] = {t_stackbench(), "run", "--workloads", "echo", "--langs", "c,go",
                          "--duration", "1s", "--warmup", "0.5s", "--equal-load-duration", "1s",
                          "--no-dev-metrics", "--out", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 240000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    char want_line[300];
    snprintf(want_line, sizeof want_line, "report:  %s/report.html", dir);
    CHECK(strstr(out, want_line) != NULL);

    char path[300], why[256];
    snprintf(path, sizeof path, "%s/results.json", dir);
    size_t jn = 0, pn = 0, mn = 0;
    char *json = read_all(path, &jn);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *page = read_all(path, &pn);
    CHECK(json && page);
    if (!json || !page)
        return;
    int elements = t_markup_check(page, why, sizeof why);
    if (elements < 0)
        fprintf(stderr, "    report.html: %s\n", why);
    CHECK(elements > 100);

    /* the picture, and the console of the page as it is */
    char shot[4200], flags[4400], log_path[300];
    snprintf(shot, sizeof shot, "%s/report-screenshot.png", build_dir());
    snprintf(flags, sizeof flags, "--enable-logging=stderr --v=0 --window-size=1280,2400 "
                                  "--screenshot='%s'", shot);
    snprintf(log_path, sizeof log_path, "%s/shot.log", dir);
    unlink(shot);
    CHECK_INT(browse(dir, flags, path, "/dev/null", log_path), 0);
    no_console_errors(log_path);
    size_t shot_len = 0;
    char *png = read_all(shot, &shot_len);
    CHECK(png && shot_len > 20000 && !memcmp(png, "\x89PNG", 4));
    free(png);
    fprintf(stderr, "    (the screenshot: %s)\n", shot);

    /* laid out: every chart with a size, the names of this run's */
    char *m = measure(dir, &mn);
    CHECK(m != NULL);
    if (!m)
        return;
    static const char *const charts[] = {"echo-rps", "echo-cpu", "echo-rss", "echo-spectrum",
                                         "echo-eq-spectrum", "echo-windows-c-tuned",
                                         "echo-windows-go-tuned", "echo-windows-go-idiomatic"};
    charts_laid_out(page, m, mn, charts, 8);
    double scripts = -1;
    CHECK(jsonq_num(m, mn, "scripts", &scripts) && scripts == 1); /* the harness's */

    /* the numbers in the page are results.json's, formatted for people */
    int n = jsonq_len(json, jn, "cells");
    CHECK_INT(n, 3);
    for (int i = 0; i < n; i++) {
        char k[96], wl[32], name[32], tier[32], key[128];
        snprintf(k, sizeof k, "cells.%d.workload", i);
        jsonq_str(json, jn, k, wl, sizeof wl);
        snprintf(k, sizeof k, "cells.%d.name", i);
        jsonq_str(json, jn, k, name, sizeof name);
        snprintf(k, sizeof k, "cells.%d.tier", i);
        jsonq_str(json, jn, k, tier, sizeof tier);
        snprintf(key, sizeof key, "%s/%s/%s", wl, name, tier);
        double rps = NAN, p99 = NAN;
        snprintf(k, sizeof k, "cells.%d.rps", i);
        jsonq_num(json, jn, k, &rps);
        snprintf(k, sizeof k, "cells.%d.latency_us.p99", i);
        jsonq_num(json, jn, k, &p99);
        char want[32], at[200];
        fmt_count(want, sizeof want, rps);
        snprintf(at, sizeof at, "cells.%s.rps", key);
        CHECK_STR(dom_str(m, mn, at), want);
        snprintf(at, sizeof at, "cells.%s.rps_v", key);
        CHECK(strtod(dom_str(m, mn, at), NULL) == rps);
        fmt_duration(want, sizeof want, p99 * 1e3);
        snprintf(at, sizeof at, "cells.%s.p99", key);
        CHECK_STR(dom_str(m, mn, at), want);
        snprintf(at, sizeof at, "cells.%s.p99_v", key);
        CHECK(strtod(dom_str(m, mn, at), NULL) == p99);
    }
    char command[2048];
    CHECK(jsonq_str(json, jn, "flags.command", command, sizeof command));
    CHECK_STR(dom_str(m, mn, "texts.command"), command);
    free(m);
    free(json);
    free(page);
    remove_dir(dir);
}

#define HOSTILE "<script>alert(1)</script> \\\"q\\\" & 'a'"   /* as JSON writes it */
#define HOSTILE_TEXT "<script>alert(1)</script> \"q\" & 'a'" /* the string itself */

/* echo: c tuned ok, go idiomatic and rust tuned failed; sql: all failed; csv named by the
 * flags, absent; no equal load, no sweep, no development figures. */
static const char partial[] =
    "{\"stackbench\": \"0.1.0\", \"date\": \"2025-01-02T03:04:05Z\",\n"
    " \"machine\": {\"cpu_model\": \"" HOSTILE "\", \"cores\": 2, \"kernel\": \"Linux & co\",\n"
    "   \"memory_kib\": 1048576},\n"
    " \"versions\": {\"c\": \"cc <12>\", \"go\": \"" HOSTILE "\"},\n"
    " \"flags\": {\"command\": \"stackbench run --impl 'x=" HOSTILE "'\", \"workloads\": [\"echo\",\n"
    "   \"csv\", \"sql\"], \"duration_s\": 1, \"warmup_s\": 0.5, \"connections\": 64,\n"
    "   \"rate\": \"max\", \"cpus_service\": \"0\", \"cpus_load\": \"1\", \"load_threads\": 1,\n"
    "   \"database\": {\"managed\": false, \"cpus\": null, \"pool\": 8}},\n"
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
    "   \"reason\": \"verify: " HOSTILE "\", \"requests\": 0, \"rps\": 0},\n"
    "  {\"workload\": \"echo\", \"lang\": \"rust\", \"name\": \"rust\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"axum\", \"does\": \"minifier\", \"status\": \"failed\",\n"
    "   \"reason\": \"build: exit 101 & more\", \"requests\": 0, \"rps\": 0},\n"
    "  {\"workload\": \"sql\", \"lang\": \"c\", \"name\": \"c\", \"tier\": \"tuned\",\n"
    "   \"framework\": \"core\", \"does\": \"libpq\", \"db_strategy\": \"pipelined 32\",\n"
    "   \"status\": \"failed\", \"reason\": \"database: </td></tr></table> gone\",\n"
    "   \"requests\": 0, \"rps\": 0}],\n"
    " \"equal_load\": null, \"sweep\": null, \"dev\": null}\n";

TEST(a_report_of_partial_hostile_results_escapes_and_shows_the_failed_cells)
{
    if (!chromium())
        return;
    char dir[] = "/tmp/sb-report-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    char path[300];
    snprintf(path, sizeof path, "%s/results.json", dir);
    write_all(path, partial);
    const char *argv[] = {t_stackbench(), "report", dir, NULL};
    int rc = t_run(argv, out, sizeof out, 30000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    snprintf(path, sizeof path, "%s/report.html", dir);
    size_t pn = 0, mn = 0;
    char *page = read_all(path, &pn);
    CHECK(page != NULL);
    if (!page)
        return;
    /* as written: no markup of theirs */
    CHECK(strcasestr(page, "<script") == NULL);
    CHECK(strstr(page, "</td></tr></table> gone") == NULL);
    char why[256];
    int elements = t_markup_check(page, why, sizeof why);
    if (elements < 0)
        fprintf(stderr, "    report.html: %s\n", why);
    CHECK(elements > 50);

    /* as the browser reads it: the strings themselves, as text; no script ran */
    char *m = measure(dir, &mn);
    CHECK(m != NULL);
    if (!m)
        return;
    double scripts = -1;
    CHECK(jsonq_num(m, mn, "scripts", &scripts) && scripts == 1); /* the harness's */
    CHECK_STR(dom_str(m, mn, "texts.command"), "stackbench run --impl 'x=" HOSTILE_TEXT "'");
    CHECK(strstr(dom_str(m, mn, "texts.machine"), HOSTILE_TEXT) != NULL);
    bool failed = false;
    CHECK(jsonq_bool(m, mn, "cells.echo/go/idiomatic.failed", &failed) && failed);
    CHECK_STR(dom_str(m, mn, "cells.echo/go/idiomatic.reason"), "failed: verify: " HOSTILE_TEXT);
    CHECK_STR(dom_str(m, mn, "cells.echo/rust/tuned.reason"), "failed: build: exit 101 & more");
    CHECK_STR(dom_str(m, mn, "cells.sql/c/tuned.reason"), "failed: database: </td></tr></table> gone");
    CHECK(jsonq_bool(m, mn, "cells.echo/c/tuned.failed", &failed) && !failed);
    CHECK_STR(dom_str(m, mn, "cells.echo/c/tuned.rps"), "43.7k");
    /* the charts there are have a size: echo's; sql's bars say "failed"; csv has none */
    static const char *const charts[] = {"echo-rps", "echo-cpu", "echo-rss", "echo-spectrum",
                                         "sql-rps"};
    charts_laid_out(page, m, mn, charts, 5);
    CHECK(strstr(page, "data-chart=\"csv-") == NULL);
    CHECK(strstr(page, "data-chart=\"echo-eq-spectrum\"") == NULL);
    const char *summary = dom_str(m, mn, "texts.summary");
    CHECK(strstr(summary, "csv: not in these results.") != NULL);
    CHECK(strstr(summary, "sql: every cell failed.") != NULL);
    CHECK(strstr(summary, "3 cells failed") != NULL);
    free(m);
    free(page);
    remove_dir(dir);
}

TEST(report_flags_out_and_refusals)
{
    char dir[] = "/tmp/sb-report-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    char path[300], page[320];
    snprintf(path, sizeof path, "%s/results.json", dir);
    write_all(path, partial);
    snprintf(page, sizeof page, "%s/elsewhere.html", dir);
    const char *a1[] = {t_stackbench(), "report", "--out", page, dir, NULL};
    CHECK_INT(t_run(a1, out, sizeof out, 30000), 0);
    char want[400];
    snprintf(want, sizeof want, "written: %s", page);
    CHECK(strstr(out, want) != NULL);
    struct stat st;
    CHECK(stat(page, &st) == 0 && st.st_size > 10000);
    /* standard output: the page itself */
    const char *a2[] = {t_stackbench(), "report", "--out", "-", dir, NULL};
    CHECK_INT(t_run(a2, out, sizeof out, 30000), 0);
    CHECK(!strncmp(out, "<!DOCTYPE html>", 15) || strstr(out, "</html>") != NULL);
    /* no results there: 2, said in one line */
    const char *a3[] = {t_stackbench(), "report", "/nonexistent-sb", NULL};
    CHECK_INT(t_run(a3, out, sizeof out, 30000), 2);
    CHECK(strstr(out, "stackbench report: /nonexistent-sb/results.json: No such file") != NULL);
    const char *a4[] = {t_stackbench(), "report", dir, "extra", NULL};
    CHECK_INT(t_run(a4, out, sizeof out, 30000), 2);
    const char *a5[] = {t_stackbench(), "report", "--traffic", "-5", dir, NULL};
    CHECK_INT(t_run(a5, out, sizeof out, 30000), 2);
    remove_dir(dir);
}

T_MAIN(T(a_short_runs_report_opens_in_chromium_with_every_chart_and_its_numbers),
       T(a_report_of_partial_hostile_results_escapes_and_shows_the_failed_cells),
       T(report_flags_out_and_refusals))
