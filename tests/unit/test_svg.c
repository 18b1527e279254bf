/* Tests for the report's charts (src/report/svg.c): the 1-2-5 ticks and the bounds they give,
 * linear and log scales, the one escape, and a whole chart's output: tags balanced, numbers
 * with one decimal, every bar's value written over it. */
#include <ctype.h>
#include <math.h>

#include "report/svg.h"
#include "t.h"
#include "tmarkup.h"

static bool near(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(1, fabs(b)); }
#define NEAR(a, b) near((a), (b))

TEST(nice_step_is_1_2_or_5_times_a_power_of_ten)
{
    static const struct {
        double span;
        int target;
        double want;
    } cases[] = {
        {10, 5, 2},           /* 2 exactly */
        {1, 5, 0.2},
        {100, 4, 20},         /* 25: nearer 20 than 50 on a log scale (under √10 × 10) */
        {7, 5, 1},            /* 1.4 < √2 */
        {7.5, 5, 2},          /* 1.5 > √2 */
        {0.03, 3, 0.01},
        {133010, 5, 20000},   /* 26602 */
        {40, 5, 10},          /* 8 > √50 */
        {0, 5, 1},            /* nothing to cut: 1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = svg_nice_step(cases[i].span, cases[i].target);
        if (!NEAR(got, cases[i].want)) {
            fprintf(stderr, "    nice_step(%g, %d) = %g, want %g\n", cases[i].span,
                    cases[i].target, got, cases[i].want);
            t_failures++;
        }
    }
}

TEST(nice_bounds_widen_to_multiples_of_the_step)
{
    double lo = 0, hi = 133010;
    svg_nice_bounds(&lo, &hi, 5);
    CHECK(lo == 0 && NEAR(hi, 140000));
    lo = 3.2, hi = 9.7;
    svg_nice_bounds(&lo, &hi, 5); /* step 1 */
    CHECK(NEAR(lo, 3) && NEAR(hi, 10));
    lo = 0, hi = 0;
    svg_nice_bounds(&lo, &hi, 5);
    CHECK(lo == 0 && NEAR(hi, 1));
    lo = 5, hi = 5; /* one value: a step around it */
    svg_nice_bounds(&lo, &hi, 5);
    CHECK(lo < 5 && hi > 5);
    lo = 0, hi = 140000; /* already nice: unchanged */
    svg_nice_bounds(&lo, &hi, 5);
    CHECK(lo == 0 && NEAR(hi, 140000));
}

TEST(ticks_are_the_multiples_of_the_step_in_the_range)
{
    double t[32];
    int n = svg_ticks(0, 140000, 20000, t, 32);
    CHECK_INT(n, 8);
    CHECK(t[0] == 0 && NEAR(t[7], 140000) && NEAR(t[3], 60000));
    /* 0.1, 0.2, 0.3: 0.3 / 0.1 is 2.9999999999999996 in binary, kept */
    n = svg_ticks(0.1, 0.3, 0.1, t, 32);
    CHECK_INT(n, 3);
    n = svg_ticks(-1, 1, 0.5, t, 32);
    CHECK_INT(n, 5);
    CHECK(t[2] == 0 && !signbit(t[2]));
    CHECK_INT(svg_ticks(0, 10, 1, t, 4), 4); /* at most max */
    CHECK_INT(svg_ticks(0, 10, 0, t, 4), 0);
}

TEST(log_bounds_and_ticks_by_decade_or_1_2_5)
{
    double lo = 29.6, hi = 17043;
    svg_log_bounds(&lo, &hi);
    CHECK(NEAR(lo, 10) && NEAR(hi, 100000));
    double t[32];
    int n = svg_log_ticks(10, 100000, t, 32); /* 4 decades: whole decades */
    CHECK_INT(n, 5);
    CHECK(NEAR(t[0], 10) && NEAR(t[4], 100000));
    n = svg_log_ticks(10, 1000, t, 32); /* 2 decades: 1, 2, 5 of each */
    CHECK_INT(n, 7);
    static const double want[] = {10, 20, 50, 100, 200, 500, 1000};
    for (int i = 0; i < n && i < 7; i++)
        CHECK(NEAR(t[i], want[i]));
    lo = 100, hi = 100; /* one value: a decade */
    svg_log_bounds(&lo, &hi);
    CHECK(NEAR(lo, 100) && NEAR(hi, 1000));
}

TEST(log_scale_from_one_and_a_half_decades)
{
    CHECK(!svg_wants_log(100, 3000));  /* 1.48 decades */
    CHECK(svg_wants_log(100, 3200));   /* 1.51 */
    CHECK(!svg_wants_log(0, 1e6));     /* no log of 0 */
    CHECK(!svg_wants_log(5, 5));
}

TEST(scales_map_linear_inverted_and_log)
{
    svg_scale_t s;
    svg_scale_init(&s, 0, 100, 0, 200, false);
    CHECK(NEAR(svg_map(&s, 50), 100));
    CHECK(NEAR(svg_map(&s, 150), 300)); /* not clamped */
    svg_scale_init(&s, 0, 10, 300, 100, false); /* y: up the page */
    CHECK(NEAR(svg_map(&s, 5), 200));
    CHECK(NEAR(svg_map(&s, 10), 100));
    svg_scale_init(&s, 10, 1000, 0, 100, true);
    CHECK(NEAR(svg_map(&s, 100), 50));
    CHECK(NEAR(svg_map(&s, 10), 0));
    CHECK(NEAR(svg_map(&s, 1000), 100));
    CHECK(NEAR(svg_map(&s, 0), 0)); /* <= 0 on a log scale: its low end */
}

static const char *escaped(const char *s)
{
    static buf_t b;
    buf_clear(&b);
    svg_escape(&b, s);
    buf_append(&b, "", 1);
    return buf_start(&b);
}

TEST(escape_makes_markup_text_and_keeps_utf8)
{
    CHECK_STR(escaped("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    CHECK_STR(escaped("a \"b\" & 'c'"), "a &quot;b&quot; &amp; &#39;c&#39;");
    CHECK_STR(escaped("&amp;"), "&amp;amp;"); /* escaped again: it was text */
    CHECK_STR(escaped("81.2µs — 5 %"), "81.2µs — 5 %");
    CHECK_STR(escaped("tab\tnl\nbell\a."), "tab\tnl\nbell.");    /* control characters dropped */
    CHECK_STR(escaped("x\xff y"), "x\xEF\xBF\xBD y");              /* not UTF-8: U+FFFD */
    CHECK_STR(escaped("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");    /* overlong "/" */
    CHECK_STR(escaped("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
    CHECK_STR(escaped("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");    /* cut short */
    CHECK_STR(escaped("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");    /* U+1F600 */
    CHECK_STR(escaped(""), "");
}

/* ---- a whole chart ---- */

static void fmt_plain(char *out, size_t n, double v) { snprintf(out, n, "%g", v); }

static void title_of(char *out, size_t n, int i, const void *arg)
{
    snprintf(out, n, "point %d of %s", i, (const char *)arg);
}

/* A chart with every kind of mark, into b. */
static void sample_chart(buf_t *b)
{
    svg_chart_t c;
    svg_begin(&c, b, "echo-rps\"<x>", "req/s & <more>", 560, 300);
    static const svg_seg_t solid = {.v = 1, .fill = "#000"}, hollow = {.v = 1, .fill = "#000", .hollow = true};
    svg_line_t line = {.stroke = "#D55E00", .dash = "2 2", .mark = SVG_MARK_TRIANGLE, .mark_every = 2};
    const svg_key_t keys[] = {{"peak <RSS>", NULL, &solid}, {"mean", NULL, &hollow},
                              {"rust tuned", &line, NULL}};
    svg_legend(&c, keys, 3);
    svg_set_x(&c, 0, 5, false);
    svg_set_y(&c, 0, 140000, false);
    double t[16];
    int nt = svg_ticks(0, 140000, 20000, t, 16);
    svg_axis_y(&c, t, nt, fmt_plain, "req/s");
    static const double xt[] = {0, 1, 2, 3, 4, 5};
    svg_axis_x(&c, xt, 6, fmt_plain, "x");
    svg_group_t g[3] = {
        {.label = "c", .sublabel = "tuned", .id = "echo/c/tuned", .nbar = 1,
         .bar = {{.seg = {{133010, "#000000", false, false}}, .nseg = 1, .value = "133k",
                  .title = "c <tuned>"}}},
        {.label = "go", .sublabel = "idiomatic", .id = "echo/go/idiomatic", .nbar = 2,
         .bar = {{.seg = {{30799, "#56B4E9", true, false}, {10000, "#BBBBBB", false, false}},
                  .nseg = 2, .value = "30.8k + 10k"},
                 {.seg = {{20000, "#56B4E9", false, true}}, .nseg = 1, .value = "20.0k"}}},
        {.label = "rust", .sublabel = "tuned", .id = "echo/rust/tuned", .note = "failed"},
    };
    svg_bars(&c, g, 3);
    double x[] = {0, 1, NAN, 3, 4, 9}, y[] = {1000, 2000, 3000, 4000, -5, 200000};
    svg_polyline(&c, x, y, 6, &line, "echo/rust/tuned", title_of, "rust");
    svg_end(&c);
    buf_append(b, "", 1);
}

TEST(a_chart_is_well_formed)
{
    buf_t b = BUF_INIT;
    sample_chart(&b);
    const char *s = buf_start(&b);
    char why[256];
    int elements = t_markup_check(s, why, sizeof why);
    if (elements < 0)
        fprintf(stderr, "    %s\n", why);
    CHECK(elements > 20);
    CHECK(!strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39));
    /* the name and the title escaped like any other string */
    CHECK(strstr(s, "data-chart=\"echo-rps&quot;&lt;x&gt;\"") != NULL);
    CHECK(strstr(s, "<title>req/s &amp; &lt;more&gt;</title>") != NULL);
    CHECK(strstr(s, ">peak &lt;RSS&gt;</text>") != NULL);
    CHECK(strstr(s, "<title>c &lt;tuned&gt;</title>") != NULL);
    CHECK(strstr(s, "<title>point 4 of rust</title>") != NULL);
    CHECK(strstr(s, "data-bar=\"echo/go/idiomatic\"") != NULL);
    buf_free(&b);
}

TEST(a_charts_coordinates_have_one_decimal)
{
    buf_t b = BUF_INIT;
    sample_chart(&b);
    const char *s = buf_start(&b);
    static const char *const attrs[] = {" x=\"", " y=\"", " x1=\"", " y2=\"", " width=\"",
                                        " height=\"", " cx=\"", " points=\""};
    int seen = 0;
    for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++)
        for (const char *p = strstr(s, attrs[a]); p; p = strstr(p + 1, attrs[a])) {
            const char *v = p + strlen(attrs[a]);
            /* numbers like -12.3, separated by spaces and commas */
            for (const char *q = v; *q != '"'; q++) {
                if (*q == ' ' || *q == ',')
                    continue;
                const char *start = q;
                if (*q == '-')
                    q++;
                while (isdigit((unsigned char)*q))
                    q++;
                bool ok = q > start && *q == '.' && isdigit((unsigned char)q[1]) &&
                          !isdigit((unsigned char)q[2]);
                if (!ok && strncmp(attrs[a], " width", 6) && strncmp(attrs[a], " height", 7)) {
                    fprintf(stderr, "    %s%.20s: not one decimal\n", attrs[a] + 1, start);
                    t_failures++;
                    break;
                }
                q += ok ? 1 : 0;
                seen++;
            }
        }
    CHECK(seen > 50);
    CHECK(strstr(s, "-0.0") == NULL);
    buf_free(&b);
}

/* The texts of the value labels, in order. */
TEST(every_bar_has_its_value_over_it_and_the_failed_one_its_note)
{
    buf_t b = BUF_INIT;
    sample_chart(&b);
    const char *s = buf_start(&b);
    static const char *const want[] = {"133k", "30.8k + 10k", "20.0k"};
    int n = 0;
    for (const char *p = strstr(s, "<text class=\"value\""); p;
         p = strstr(p + 1, "<text class=\"value\"")) {
        const char *gt = strchr(p, '>'), *lt = gt ? strchr(gt, '<') : NULL;
        if (!lt)
            break;
        if (n < 3 && ((size_t)(lt - gt - 1) != strlen(want[n]) || strncmp(gt + 1, want[n], lt - gt - 1))) {
            fprintf(stderr, "    value label %d: \"%.*s\", want \"%s\"\n", n, (int)(lt - gt - 1),
                    gt + 1, want[n]);
            t_failures++;
        }
        n++;
    }
    CHECK_INT(n, 3);
    CHECK(strstr(s, ">failed</text>") != NULL);
    /* the stacked bar: two rects (and its hatch) in its group */
    const char *go = strstr(s, "data-bar=\"echo/go/idiomatic\"");
    const char *rust = strstr(s, "data-bar=\"echo/rust/tuned\"");
    CHECK(go && rust);
    int rects = 0;
    for (const char *p = go; p && p < rust; p = strstr(p + 1, "<rect"))
        rects += p != go;
    CHECK_INT(rects, 4); /* the stripes' overlay, the database segment, the hollow bar */
    CHECK(strstr(go, "fill=\"url(#echo-rps&quot;&lt;x&gt;-hatch)\"") != NULL);
    buf_free(&b);
}

TEST(a_polyline_breaks_at_nan_and_stays_in_the_plot_area)
{
    buf_t b = BUF_INIT;
    sample_chart(&b);
    const char *s = buf_start(&b);
    const char *series = strstr(s, "data-series=\"echo/rust/tuned\"");
    CHECK(series != NULL);
    if (!series)
        return;
    int lines = 0;
    for (const char *p = strstr(series, "<polyline"); p; p = strstr(p + 1, "<polyline"))
        lines++;
    CHECK_INT(lines, 2); /* 0, 1 | 3, 4, 9 */
    /* x 9 and y 200000 are past the axes' ends: clamped to the plot area's right and top */
    svg_chart_t c;
    buf_t tmp = BUF_INIT;
    svg_begin(&c, &tmp, "n", "t", 560, 300);
    char right[32];
    snprintf(right, sizeof right, " %.1f,", c.right);
    CHECK(strstr(series, right) != NULL);
    buf_free(&tmp);
    /* markers on every second point and on the last: indexes 0, 4 and 5; 2 is NaN, skipped */
    int marks = 0;
    for (const char *p = strstr(series, "<path"); p; p = strstr(p + 1, "<path"))
        marks++;
    CHECK_INT(marks, 3);
    buf_free(&b);
}

T_MAIN(T(nice_step_is_1_2_or_5_times_a_power_of_ten), T(nice_bounds_widen_to_multiples_of_the_step),
       T(ticks_are_the_multiples_of_the_step_in_the_range), T(log_bounds_and_ticks_by_decade_or_1_2_5),
       T(log_scale_from_one_and_a_half_decades), T(scales_map_linear_inverted_and_log),
       T(escape_makes_markup_text_and_keeps_utf8), T(a_chart_is_well_formed),
       T(a_charts_coordinates_have_one_decimal),
       T(every_bar_has_its_value_over_it_and_the_failed_one_its_note),
       T(a_polyline_breaks_at_nan_and_stays_in_the_plot_area))
