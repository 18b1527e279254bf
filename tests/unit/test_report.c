/* Tests for the load report (src/load/report.c): a result built by hand, its JSON read back
 * key by key (every key report.h documents, each equal to what was put in), and the text
 * report's tables aligned column by column. */
#include <math.h>

#include "codec/json.h"
#include "core/clock.h"
#include "jsonq.h"
#include "load/hist.h"
#include "load/report.h"
#include "t.h"

/* A two-template mix at 1000 req/s, the figures chosen so that every one differs from the
 * others (a key written with another key's value shows). Latencies below 2048 ns are recorded
 * exactly (hist_new(1, ..., 3) resolves 1 ns there), so the percentiles are known. */
static const mix_template_t mix[] = {
    {.method = "GET", .target = "/accounts/{rand:1:100}", .weight = 3},
    {.method = "POST", .target = "/orders", .body = "{\"a\":1}", .body_len = 7, .weight = 1},
};

static load_config_t cfg;
static load_result_t res;
static load_request_result_t by[2];

static hist_t *new_hist(void)
{
    hist_t *h = hist_new(1, (int64_t)3.6e12, 3);
    if (!h)
        exit(1);
    return h;
}

static void build(bool with_mix)
{
    load_config_defaults(&cfg);
    cfg.url = "http://127.0.0.1:8080";
    cfg.connections = 16;
    cfg.threads = 2;
    cfg.duration_ns = 10 * NS_PER_S;
    cfg.rate = 1000;
    if (with_mix) {
        cfg.requests = mix;
        cfg.nrequests = 2;
        cfg.seed = 42;
    }
    memset(&res, 0, sizeof res);
    res.requests = 1000;
    res.status[200] = 990;
    res.status[503] = 10;
    for (int e = 0; e < LOAD_ERR_KINDS; e++)
        res.errors[e] = (uint64_t)e + 1; /* connect 1, read 2, ..., body 7 */
    res.bytes_in = 123456;
    res.bytes_out = 654321;
    res.unsent = 3;
    res.elapsed_s = 2.0;
    res.cpu_s = 0.5;
    res.connects = 20;
    res.latency = new_hist();
    hist_record_n(res.latency, 1000, 500);
    hist_record_n(res.latency, 1500, 490);
    hist_record_n(res.latency, 2000, 10);
    if (!with_mix)
        return;
    memset(by, 0, sizeof by);
    by[0].sent = 700;
    by[0].requests = 690;
    by[0].status[200] = 690;
    by[0].errors[LOAD_ERR_TIMEOUT] = 4;
    by[0].latency = new_hist();
    hist_record_n(by[0].latency, 1000, 500);
    hist_record_n(by[0].latency, 1500, 190);
    by[1].sent = 310;
    by[1].requests = 310;
    by[1].status[200] = 300;
    by[1].status[503] = 10;
    by[1].errors[LOAD_ERR_BODY] = 7;
    by[1].latency = new_hist();
    hist_record_n(by[1].latency, 1500, 300);
    hist_record_n(by[1].latency, 2000, 10);
    res.by_request = by;
    res.nby_request = 2;
}

/* ---- JSON ---- */

static buf_t json = BUF_INIT;

static void report_json(void)
{
    buf_clear(&json);
    load_report_json(&json, &cfg, &res);
    json_error_t e;
    if (json_validate(buf_start(&json), buf_size(&json), &e) != 0) {
        fprintf(stderr, "    invalid JSON at %zu: %s\n", e.offset, e.reason);
        t_failures++;
    }
}

/* The number at path, which must be there; NAN (equal to nothing) when it is not. */
static double num(const char *path)
{
    double v;
    if (jsonq_num(buf_start(&json), buf_size(&json), path, &v))
        return v;
    fprintf(stderr, "    no number at %s\n", path);
    t_failures++;
    return NAN;
}

static const char *str(const char *path)
{
    static char v[256];
    if (jsonq_str(buf_start(&json), buf_size(&json), path, v, sizeof v))
        return v;
    fprintf(stderr, "    no string at %s\n", path);
    t_failures++;
    return "(missing)";
}

static bool is_null(const char *path)
{
    return jsonq_is_null(buf_start(&json), buf_size(&json), path);
}

static bool has(const char *path)
{
    const char *v;
    size_t n;
    return jsonq_get(buf_start(&json), buf_size(&json), path, &v, &n);
}

/* A number as jsonw writes it with `decimals` digits: what the report should hold for v. */
static double rounded(double v, int decimals)
{
    double p = pow(10, decimals);
    return round(v * p) / p;
}

TEST(json_has_every_documented_key_with_what_was_put_in)
{
    build(true);
    report_json();
    CHECK_STR(str("url"), "http://127.0.0.1:8080");
    CHECK(num("connections") == 16);
    CHECK(num("threads") == 2);
    CHECK(num("duration_s") == 10);
    CHECK(num("rate") == 1000);
    CHECK(num("requests") == 1000);
    CHECK(num("rps") == 500);   /* 1000 answers in 2 s */
    CHECK(num("elapsed_s") == 2);
    CHECK(num("bytes_in") == 123456);
    CHECK(num("bytes_out") == 654321);
    CHECK(num("unsent") == 3);
    CHECK(num("connects") == 20);
    CHECK(num("load_cpu_s") == 0.5);
    CHECK(num("load_cpu_us_per_req") == 500); /* 0.5 s over 1000 answers */
}

TEST(json_latency_in_microseconds)
{
    build(true);
    report_json();
    /* 500 x 1000 ns, 490 x 1500 ns, 10 x 2000 ns */
    CHECK(num("latency_us.min") == 1);
    CHECK(num("latency_us.p50") == 1);
    CHECK(num("latency_us.p90") == 1.5);
    CHECK(num("latency_us.p99") == 1.5);   /* 990 of 1000 are <= 1500 ns */
    CHECK(num("latency_us.p999") == 2);
    CHECK(num("latency_us.p9999") == 2);
    CHECK(num("latency_us.max") == 2);
    CHECK(num("latency_us.mean") == 1.255);
    CHECK(num("latency_us.stdev") == rounded(hist_stdev(res.latency) / 1e3, 3));
    CHECK(num("latency_us.stdev") == 0.26); /* 259.8 ns */
}

TEST(json_status_by_code_and_every_error_kind)
{
    build(true);
    report_json();
    CHECK(num("status.200") == 990);
    CHECK(num("status.503") == 10);
    CHECK(!has("status.404")); /* codes never seen are left out */
    static const char *const kinds[] = {"connect", "read", "parse", "write", "timeout", "status", "body"};
    static const int want[] = {1, 2, 5, 3, 4, 6, 7};
    for (int k = 0; k < 7; k++) {
        char path[64];
        snprintf(path, sizeof path, "errors.%s", kinds[k]);
        CHECK(num(path) == want[k]);
    }
}

TEST(json_with_a_mix_method_is_null_and_templates_follow)
{
    build(true);
    report_json();
    CHECK(is_null("method"));
    CHECK(num("seed") == 42);
    CHECK_INT(jsonq_len(buf_start(&json), buf_size(&json), "requests_by_template"), 2);
}

TEST(json_by_template_in_order_with_their_figures)
{
    build(true);
    report_json();
    CHECK_STR(str("requests_by_template.0.method"), "GET");
    CHECK_STR(str("requests_by_template.0.target"), "/accounts/{rand:1:100}");
    CHECK(is_null("requests_by_template.0.body"));
    CHECK(num("requests_by_template.0.weight") == 3);
    CHECK(num("requests_by_template.0.sent") == 700);
    CHECK(num("requests_by_template.0.requests") == 690);
    CHECK(num("requests_by_template.0.status.200") == 690);
    CHECK(num("requests_by_template.0.errors.timeout") == 4);
    CHECK(num("requests_by_template.0.errors.body") == 0);
    CHECK(num("requests_by_template.0.latency_us.p50") == 1);
    CHECK(num("requests_by_template.0.latency_us.p90") == 1.5);
    CHECK(num("requests_by_template.0.latency_us.p99") == 1.5);
    CHECK(num("requests_by_template.0.latency_us.p999") == 1.5);

    CHECK_STR(str("requests_by_template.1.method"), "POST");
    CHECK_STR(str("requests_by_template.1.target"), "/orders");
    CHECK_STR(str("requests_by_template.1.body"), "{\"a\":1}");
    CHECK(num("requests_by_template.1.weight") == 1);
    CHECK(num("requests_by_template.1.sent") == 310);
    CHECK(num("requests_by_template.1.requests") == 310);
    CHECK(num("requests_by_template.1.status.200") == 300);
    CHECK(num("requests_by_template.1.status.503") == 10);
    CHECK(num("requests_by_template.1.errors.body") == 7);
    CHECK(num("requests_by_template.1.errors.timeout") == 0);
    CHECK(num("requests_by_template.1.latency_us.p50") == 1.5);
    CHECK(num("requests_by_template.1.latency_us.p90") == 1.5);
    CHECK(num("requests_by_template.1.latency_us.p99") == 2); /* 300 of 310 are 1500 ns: 96.8 % */
    CHECK(num("requests_by_template.1.latency_us.p999") == 2);
}

TEST(json_without_a_mix_has_the_method_and_no_templates)
{
    build(false);
    cfg.rate = 0; /* closed loop */
    report_json();
    CHECK_STR(str("method"), "GET");
    CHECK(is_null("rate"));
    CHECK(!has("seed"));
    CHECK(!has("requests_by_template"));
    CHECK(num("requests") == 1000);
}

/* ---- text ---- */

static char *text;
static size_t text_len;

static void report_text(void)
{
    FILE *f = open_memstream(&text, &text_len);
    if (!f)
        exit(1);
    load_report_text(f, &cfg, &res);
    fclose(f);
}

/* The line of the text that starts with prefix (after the indentation), copied into out. */
static bool line_of(const char *prefix, int skip, char *out, size_t n)
{
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len >= 2 + strlen(prefix) && memcmp(l + 2, prefix, strlen(prefix)) == 0 && skip-- == 0) {
            snprintf(out, n, "%.*s", (int)len, l);
            return true;
        }
        l = e ? e + 1 : NULL;
    }
    fprintf(stderr, "    no line '  %s' in:\n%s\n", prefix, text);
    t_failures++;
    return false;
}

/* The display columns (UTF-8 sequences counted once) where the blank-separated words of line
 * start and end: start[k], end[k] for the first n words. Returns the number of words. */
static int words(const char *line, int *start, int *end, int n)
{
    int k = 0, colno = 0;
    bool in = false;
    for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue; /* a continuation byte: same column */
        if (*p == ' ') {
            if (in && k < n)
                end[k++] = colno;
            in = false;
        } else if (!in) {
            in = true;
            if (k < n)
                start[k] = colno;
        }
        colno++;
    }
    if (in && k < n)
        end[k++] = colno;
    return k;
}

TEST(text_template_table_columns_line_up)
{
    build(true);
    report_text();
    char head[512], row1[512], row2[512];
    if (!line_of("mix ", 0, head, sizeof head) || !line_of("#1 ", 0, row1, sizeof row1) ||
        !line_of("#2 ", 0, row2, sizeof row2))
        return;
    /* mix weight sent answers p50 p99 non-2xx errors request */
    int hs[9], he[9], s[9], e[9];
    CHECK_INT(words(head, hs, he, 9), 9);
    const char *rows[] = {row1, row2};
    for (int r = 0; r < 2; r++) {
        CHECK(words(rows[r], s, e, 9) == 9);
        CHECK_INT(s[0], hs[0]);          /* the label, left-aligned */
        for (int k = 1; k <= 7; k++)     /* the figures, right-aligned */
            if (e[k] != he[k]) {
                fprintf(stderr, "    column %d ends at %d, its header at %d:\n    %s\n    %s\n", k,
                        e[k], he[k], head, rows[r]);
                t_failures++;
            }
        CHECK_INT(s[8], hs[8]);          /* the request, left-aligned */
    }
    /* the figures themselves, µ included */
    CHECK(strstr(row1, " 75.0% ") && strstr(row1, " 69.3% ") && strstr(row1, " 690 "));
    CHECK(strstr(row1, " 1.00µs ") && strstr(row1, " 1.50µs "));
    CHECK(strstr(row1, "  GET /accounts/{rand:1:100}"));
    CHECK(strstr(row2, " 25.0% ") && strstr(row2, " 30.7% ") && strstr(row2, " 310 "));
    CHECK(strstr(row2, " 1.50µs ") && strstr(row2, " 2.00µs "));
    CHECK(strstr(row2, "  POST /orders {\"a\":1}"));
    free(text);
}

TEST(text_latency_table_columns_line_up)
{
    build(true);
    report_text();
    char head[512], row[512];
    if (!line_of("latency ", 0, head, sizeof head))
        return;
    /* the value row follows the header row */
    const char *h = strstr(text, head);
    const char *nl = h ? strchr(h, '\n') : NULL;
    CHECK(nl != NULL);
    if (!nl)
        return;
    const char *e2 = strchr(nl + 1, '\n');
    snprintf(row, sizeof row, "%.*s", (int)(e2 ? e2 - nl - 1 : (long)strlen(nl + 1)), nl + 1);
    /* latency min p50 p90 p99 p99.9 p99.99 max mean stdev; the row has no label */
    int hs[10], he[10], s[9], e[9];
    CHECK_INT(words(head, hs, he, 10), 10);
    CHECK_INT(words(row, s, e, 9), 9);
    for (int k = 0; k < 9; k++)
        if (e[k] != he[k + 1]) {
            fprintf(stderr, "    column %d ends at %d, its header at %d:\n    %s\n    %s\n", k + 1,
                    e[k], he[k + 1], head, row);
            t_failures++;
        }
    CHECK(strstr(row, " 1.00µs ") && strstr(row, " 2.00µs "));
    free(text);
}

TEST(text_summary_lines)
{
    build(true);
    report_text();
    char l[512];
    CHECK(strncmp(text, "stackbench load mix of 2 templates (seed 42) http://127.0.0.1:8080\n",
                  67) == 0);
    if (line_of("open loop", 0, l, sizeof l))
        CHECK_STR(l, "  open loop at 1000 req/s, 16 connections, 2 threads, 10.0s");
    if (line_of("requests ", 0, l, sizeof l))
        CHECK_STR(l, "  requests   1000 in 2.00s, 500.0 req/s");
    if (line_of("status ", 0, l, sizeof l))
        CHECK_STR(l, "  status     200: 990, 503: 10");
    if (line_of("errors ", 0, l, sizeof l))
        CHECK_STR(l, "  errors     connect 1, read 2, write 3, timeout 4, parse 5, status 6, body 7");
    if (line_of("unsent ", 0, l, sizeof l))
        CHECK_STR(l, "  unsent     3 requests due before the end could not be sent");
    if (line_of("transfer ", 0, l, sizeof l))
        CHECK_STR(l, "  transfer   in 121KiB, out 639KiB, 20 connections opened");
    if (line_of("load ", 0, l, sizeof l))
        CHECK_STR(l, "  load       0.50s CPU, 500µs per request");
    free(text);
}

TEST(text_without_a_mix_has_no_template_table)
{
    build(false);
    cfg.rate = 0;
    report_text();
    CHECK(strncmp(text, "stackbench load GET http://127.0.0.1:8080\n", 42) == 0);
    CHECK(strstr(text, "\n  closed loop, 16 connections, 2 threads, 10.0s\n") != NULL);
    CHECK(strstr(text, "\n  mix ") == NULL);
    CHECK(strstr(text, "#1") == NULL);
    free(text);
}

T_MAIN(T(json_has_every_documented_key_with_what_was_put_in), T(json_latency_in_microseconds),
       T(json_status_by_code_and_every_error_kind),
       T(json_with_a_mix_method_is_null_and_templates_follow),
       T(json_by_template_in_order_with_their_figures),
       T(json_without_a_mix_has_the_method_and_no_templates),
       T(text_template_table_columns_line_up), T(text_latency_table_columns_line_up),
       T(text_summary_lines), T(text_without_a_mix_has_no_template_table))
