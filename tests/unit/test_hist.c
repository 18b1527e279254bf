/* hist: the HdrHistogram-style latency histogram. */
#include "t.h"

#include <math.h>
#include <stdint.h>

#include "core/rand.h"
#include "load/hist.h"

#define US 1000LL
#define MS 1000000LL
#define SEC 1000000000LL
#define HOUR (3600LL * SEC)

/* The load engine's configuration: nanoseconds, 1 µs .. 1 h, 3 digits. */
static hist_t *engine_hist(void) { return hist_new(1000, HOUR, 3); }

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void) { return rand_splitmix64(&rng_state); } /* the same on every run */
static double rng_unit(void) { return (double)(rng() >> 11) / 9007199254740992.0; }
/* Log-uniform in [lo, hi]: every order of magnitude equally represented. */
static int64_t rng_log(int64_t lo, int64_t hi)
{
    int64_t v = (int64_t)llround((double)lo * exp(rng_unit() * log((double)hi / (double)lo)));
    return v < lo ? lo : v > hi ? hi : v;
}

static bool near(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fabs(want);
}
#define CHECK_NEAR(got, want, rel)                                                                \
    do {                                                                                          \
        double t_g_ = (double)(got), t_w_ = (double)(want);                                       \
        if (!near(t_g_, t_w_, (rel))) {                                                           \
            fprintf(stderr, "    %s:%d: %s ~ %s (rel %g): %.17g vs %.17g\n", __FILE__, __LINE__, \
                    #got, #want, (double)(rel), t_g_, t_w_);                                      \
            t_failures++;                                                                         \
        }                                                                                         \
    } while (0)

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

TEST(new_rejects_bad_arguments)
{
    CHECK(hist_new(0, 1000, 3) == NULL);
    CHECK(hist_new(-1, 1000, 3) == NULL);
    CHECK(hist_new(1000, 1999, 3) == NULL); /* highest < 2 * lowest */
    CHECK(hist_new(1000, HOUR, 0) == NULL);
    CHECK(hist_new(1000, HOUR, 6) == NULL);
    CHECK(hist_new(INT64_MAX / 4, INT64_MAX, 3) == NULL); /* unit too coarse for 3 digits */
    hist_t *h = hist_new(1000, 2000, 3);
    CHECK(h != NULL);
    hist_free(h);
    for (int s = 1; s <= 5; s++) {
        h = hist_new(1, INT64_MAX, s);
        CHECK(h != NULL);
        hist_record(h, INT64_MAX);
        hist_record(h, 0);
        CHECK_INT(hist_max(h), INT64_MAX);
        CHECK_INT(hist_percentile(h, 100), INT64_MAX);
        CHECK_INT(hist_percentile(h, 50), 0);
        hist_free(h);
    }
}

TEST(empty_histogram_reports_zeros)
{
    hist_t *h = engine_hist();
    CHECK(h != NULL);
    CHECK_INT(hist_count(h), 0);
    CHECK_INT(hist_clamped(h), 0);
    CHECK_INT(hist_min(h), 0);
    CHECK_INT(hist_max(h), 0);
    CHECK(hist_mean(h) == 0);
    CHECK(hist_stdev(h) == 0);
    CHECK_INT(hist_percentile(h, 0), 0);
    CHECK_INT(hist_percentile(h, 50), 0);
    CHECK_INT(hist_percentile(h, 99.9), 0);
    CHECK_INT(hist_percentile(h, 100), 0);
    hist_free(h);
}

TEST(single_value_all_percentiles_equal_it_within_precision)
{
    const int64_t vals[] = {1 * US, 100 * US, 1234567, 5 * SEC, 42 * 60 * SEC};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        hist_t *h = engine_hist();
        int64_t v = vals[k];
        hist_record(h, v);
        CHECK_INT(hist_count(h), 1);
        CHECK_INT(hist_min(h), v);
        CHECK_INT(hist_max(h), v);
        CHECK(hist_mean(h) == (double)v);
        CHECK(hist_stdev(h) == 0);
        const double ps[] = {0, 1e-9, 1, 25, 50, 90, 99, 99.99, 100};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            int64_t got = hist_percentile(h, ps[i]);
            /* highest equivalent, capped at max: exactly v */
            CHECK_INT(got, v);
        }
        hist_free(h);
    }
}

TEST(uniform_1_to_1e6_percentiles_within_0_1_percent)
{
    hist_t *h = engine_hist();
    for (int64_t i = 1; i <= 1000000; i++)
        hist_record(h, i * US);
    CHECK_INT(hist_count(h), 1000000);
    CHECK_INT(hist_min(h), 1 * US);
    CHECK_INT(hist_max(h), 1000000 * US);
    /* the exact value at percentile p is the ceil(p% * n)-th smallest: p * 10^4 µs */
    const double ps[] = {1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        int64_t exact = (int64_t)llround(ps[i] * 10000) * US;
        int64_t got = hist_percentile(h, ps[i]);
        CHECK(got >= exact); /* the highest equivalent of the exact value's slot */
        CHECK_NEAR(got, exact, 0.001);
    }
    CHECK_INT(hist_percentile(h, 100), 1000000 * US);
    CHECK_INT(hist_percentile(h, 0), 1 * US);
    CHECK_NEAR(hist_mean(h), 500000.5 * US, 1e-12);
    hist_free(h);
}

/* A slot [lo, hi] holding v: contiguous with its neighbours, lowest/highest equivalent stable. */
static void check_slot(const hist_t *h, int64_t v, int64_t *lo_out, int64_t *hi_out)
{
    int64_t lo = hist_lowest_equivalent(h, v), hi = hist_highest_equivalent(h, v);
    CHECK(lo <= v && v <= hi);
    CHECK_INT(hist_lowest_equivalent(h, lo), lo);
    CHECK_INT(hist_highest_equivalent(h, lo), hi);
    CHECK_INT(hist_lowest_equivalent(h, hi), lo);
    CHECK_INT(hist_highest_equivalent(h, hi), hi);
    CHECK_INT(hist_lowest_equivalent(h, hi + 1), hi + 1);
    if (lo > 0)
        CHECK_INT(hist_highest_equivalent(h, lo - 1), lo - 1);
    *lo_out = lo;
    *hi_out = hi;
}

/* With lowest = 1000 the finest slot is 2^floor(log2 1000) = 512 ns wide: values from ~0.52 ms
 * (1024 slots * 512 ns) up have 3 significant digits (width / v <= 1/1024); below that the
 * resolution is absolute, 512 ns <= lowest. So width <= max(lowest, v / 1000) over 1 µs .. 1 h. */
TEST(relative_error_bounded_over_range)
{
    hist_t *h = engine_hist();
    for (int i = 0; i < 200000; i++) {
        int64_t v = rng_log(1 * US, HOUR), lo, hi;
        check_slot(h, v, &lo, &hi);
        int64_t width = hi - lo + 1;
        if (v >= 1024 * 512)
            CHECK((double)width / (double)v <= 1.0 / 1000);
        else
            CHECK_INT(width, 512);
    }
    /* the edges of the range */
    const int64_t edges[] = {1 * US, 1024 * 512 - 1, 1024 * 512, 2048 * 512 - 1, 2048 * 512,
                             HOUR - 1, HOUR};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        int64_t lo, hi, v = edges[i];
        check_slot(h, v, &lo, &hi);
        CHECK(hi - lo + 1 <= (v / 1000 > 1000 ? v / 1000 : 1000));
    }
    hist_free(h);
}

/* With a 1 ns lowest, 3 digits hold over the whole 1 µs .. 1 h range. */
TEST(relative_error_bounded_over_range_with_1ns_unit)
{
    hist_t *h = hist_new(1, HOUR, 3);
    for (int i = 0; i < 200000; i++) {
        int64_t v = rng_log(1 * US, HOUR), lo, hi;
        check_slot(h, v, &lo, &hi);
        CHECK((double)(hi - lo + 1) / (double)v <= 1.0 / 1000);
    }
    /* every value below 2048 has its own slot */
    for (int64_t v = 0; v < 2048; v++)
        CHECK_INT(hist_highest_equivalent(h, v), v);
    hist_free(h);
}

TEST(values_below_lowest_are_recorded)
{
    hist_t *h = engine_hist();
    hist_record(h, 0);
    hist_record(h, 1);
    hist_record(h, 511);
    hist_record(h, 999);
    CHECK_INT(hist_count(h), 4);
    CHECK_INT(hist_clamped(h), 0);
    CHECK_INT(hist_min(h), 0);
    CHECK_INT(hist_max(h), 999);
    CHECK_NEAR(hist_mean(h), (0 + 1 + 511 + 999) / 4.0, 1e-12);
    CHECK_INT(hist_percentile(h, 25), 511); /* 0, 1 and 511 share the first 512 ns slot */
    CHECK_INT(hist_percentile(h, 75), 511);
    CHECK_INT(hist_percentile(h, 100), 999);
    hist_free(h);
}

TEST(negative_values_are_recorded_as_zero)
{
    hist_t *h = engine_hist();
    hist_record(h, -5);
    hist_record_n(h, INT64_MIN, 3);
    CHECK_INT(hist_count(h), 4);
    CHECK_INT(hist_min(h), 0);
    CHECK_INT(hist_max(h), 0);
    CHECK(hist_mean(h) == 0);
    CHECK_INT(hist_percentile(h, 100), 0);
    CHECK_INT(hist_lowest_equivalent(h, -7), 0);
    hist_free(h);
}

TEST(clamps_values_above_highest)
{
    hist_t *h = engine_hist();
    hist_record(h, 10 * MS);
    hist_record(h, HOUR);          /* the highest itself is not clamped */
    hist_record(h, HOUR + 1);
    hist_record(h, 2 * HOUR);
    hist_record_n(h, INT64_MAX, 5);
    CHECK_INT(hist_count(h), 9);
    CHECK_INT(hist_clamped(h), 7);
    CHECK_INT(hist_max(h), HOUR);
    CHECK_INT(hist_percentile(h, 100), HOUR);
    CHECK_INT(hist_percentile(h, 50), HOUR);
    CHECK_NEAR(hist_percentile(h, 10), 10 * MS, 0.001);
    CHECK_NEAR(hist_mean(h), (10.0 * MS + 8.0 * HOUR) / 9, 1e-12);
    hist_free(h);
}

TEST(max_is_exact_and_percentile_100_is_max)
{
    hist_t *h = engine_hist();
    hist_record(h, 5 * MS);
    hist_record(h, 123456789);
    CHECK_INT(hist_max(h), 123456789);
    CHECK(hist_highest_equivalent(h, 123456789) > 123456789); /* the slot is wider */
    CHECK_INT(hist_percentile(h, 100), 123456789);
    CHECK_INT(hist_percentile(h, 99.999), 123456789);
    CHECK_INT(hist_percentile(h, 50), hist_highest_equivalent(h, 5 * MS));
    CHECK_INT(hist_min(h), 5 * MS);
    CHECK_INT(hist_percentile(h, 0), 5 * MS);
    hist_free(h);
}

TEST(percentile_rank_is_ceiling_of_p_times_count)
{
    hist_t *h = engine_hist();
    for (int64_t k = 1; k <= 1000; k++) /* 1 ms .. 1 s: each in its own slot */
        hist_record(h, k * MS);
    /* 99.9 % of 1000 is exactly the 999th value, not the 1000th */
    CHECK_NEAR(hist_percentile(h, 99.9), 999 * MS, 0.001);
    CHECK(hist_percentile(h, 99.9) < 1000 * MS);
    CHECK_NEAR(hist_percentile(h, 99.91), 1000 * MS, 0.001);
    CHECK_NEAR(hist_percentile(h, 50), 500 * MS, 0.001);
    CHECK(hist_percentile(h, 50) < 501 * MS);
    CHECK_NEAR(hist_percentile(h, 50.01), 501 * MS, 0.001);
    CHECK_NEAR(hist_percentile(h, 0.1), 1 * MS, 0.001);
    CHECK_NEAR(hist_percentile(h, 1e-9), 1 * MS, 0.001); /* at least the first value */
    /* non-decreasing in p */
    int64_t prev = hist_percentile(h, 0);
    for (double p = 0.05; p <= 100; p += 0.05) {
        int64_t v = hist_percentile(h, p);
        CHECK(v >= prev);
        prev = v;
    }
    hist_free(h);
}

TEST(record_n_equals_n_records)
{
    hist_t *a = engine_hist(), *b = engine_hist();
    for (int i = 0; i < 2000; i++) {
        int64_t v = rng_log(1, 2 * HOUR);
        uint64_t n = rng() % 50;
        hist_record_n(a, v, n);
        for (uint64_t k = 0; k < n; k++)
            hist_record(b, v);
    }
    CHECK_INT(hist_count(a), hist_count(b));
    CHECK_INT(hist_clamped(a), hist_clamped(b));
    CHECK_INT(hist_min(a), hist_min(b));
    CHECK_INT(hist_max(a), hist_max(b));
    CHECK(hist_mean(a) == hist_mean(b));
    CHECK(hist_stdev(a) == hist_stdev(b));
    for (double p = 0; p <= 100; p += 0.5)
        CHECK_INT(hist_percentile(a, p), hist_percentile(b, p));
    /* n = 0 records nothing */
    hist_t *c = engine_hist();
    hist_record_n(c, 5 * MS, 0);
    CHECK_INT(hist_count(c), 0);
    CHECK_INT(hist_min(c), 0);
    CHECK_INT(hist_max(c), 0);
    hist_free(a);
    hist_free(b);
    hist_free(c);
}

TEST(merge_equals_recording_into_one)
{
    hist_t *parts[4], *all = engine_hist(), *merged = engine_hist();
    for (int t = 0; t < 4; t++)
        parts[t] = engine_hist();
    for (int i = 0; i < 100000; i++) {
        int64_t v = i % 1000 == 0 ? 2 * HOUR : rng_log(1, HOUR);
        hist_record(parts[i % 3 == 0 ? 0 : i % 3], v); /* parts[3] stays empty */
        hist_record(all, v);
    }
    for (int t = 0; t < 4; t++)
        CHECK_INT(hist_merge(merged, parts[t]), 0);
    CHECK_INT(hist_count(merged), hist_count(all));
    CHECK_INT(hist_clamped(merged), hist_clamped(all));
    CHECK_INT(hist_min(merged), hist_min(all));
    CHECK_INT(hist_max(merged), hist_max(all));
    CHECK(hist_mean(merged) == hist_mean(all));
    CHECK(hist_stdev(merged) == hist_stdev(all));
    for (double p = 0; p <= 100; p += 0.25)
        CHECK_INT(hist_percentile(merged, p), hist_percentile(all, p));
    CHECK_INT(hist_percentile(merged, 99.999), hist_percentile(all, 99.999));
    for (int t = 0; t < 4; t++)
        hist_free(parts[t]);
    hist_free(all);
    hist_free(merged);
}

TEST(merge_with_empty_keeps_min_and_max)
{
    hist_t *a = engine_hist(), *empty = engine_hist(), *dst = engine_hist();
    hist_record(a, 7 * MS);
    hist_record(a, 9 * MS);
    CHECK_INT(hist_merge(a, empty), 0);
    CHECK_INT(hist_count(a), 2);
    CHECK_INT(hist_min(a), 7 * MS);
    CHECK_INT(hist_max(a), 9 * MS);
    CHECK_INT(hist_merge(dst, a), 0); /* into an empty one */
    CHECK_INT(hist_count(dst), 2);
    CHECK_INT(hist_min(dst), 7 * MS);
    CHECK_INT(hist_max(dst), 9 * MS);
    CHECK_NEAR(hist_mean(dst), 8 * MS, 1e-12);
    hist_free(a);
    hist_free(empty);
    hist_free(dst);
}

TEST(merge_rejects_different_config)
{
    hist_t *dst = engine_hist();
    hist_record(dst, 3 * MS);
    hist_t *other[] = {hist_new(1, HOUR, 3), hist_new(1000, HOUR / 2, 3), hist_new(1000, HOUR, 2),
                       hist_new(1000, HOUR, 4), hist_new(1001, HOUR, 3)};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        CHECK(other[i] != NULL);
        hist_record(other[i], 1 * MS);
        CHECK_INT(hist_merge(dst, other[i]), -1);
        CHECK_INT(hist_merge(other[i], dst), -1);
        hist_free(other[i]);
    }
    /* dst untouched */
    CHECK_INT(hist_count(dst), 1);
    CHECK_INT(hist_min(dst), 3 * MS);
    CHECK_INT(hist_max(dst), 3 * MS);
    hist_free(dst);
}

TEST(mean_and_stdev_match_exact_computation_within_precision)
{
    enum { N = 200000 };
    hist_t *h = engine_hist();
    static int64_t vals[N];
    long double sum = 0;
    for (int i = 0; i < N; i++) {
        vals[i] = rng_log(1 * US, 10 * SEC);
        sum += vals[i];
        hist_record(h, vals[i]);
    }
    double mean = (double)(sum / N), acc = 0;
    for (int i = 0; i < N; i++)
        acc += ((double)vals[i] - mean) * ((double)vals[i] - mean);
    double sd = sqrt(acc / N);
    CHECK_NEAR(hist_mean(h), mean, 1e-12); /* exact sum */
    CHECK_NEAR(hist_stdev(h), sd, 0.001);  /* from the buckets */
    /* a narrow distribution, where binning matters most: 10 ms +- a few µs */
    hist_t *g = engine_hist();
    sum = 0;
    for (int i = 0; i < N; i++) {
        vals[i] = 10 * MS + (int64_t)(rng() % (200 * US)) - 100 * US;
        sum += vals[i];
        hist_record(g, vals[i]);
    }
    mean = (double)(sum / N);
    acc = 0;
    for (int i = 0; i < N; i++)
        acc += ((double)vals[i] - mean) * ((double)vals[i] - mean);
    sd = sqrt(acc / N);
    CHECK_NEAR(hist_mean(g), mean, 1e-12);
    CHECK_NEAR(hist_stdev(g), sd, 0.01); /* 8 µs slots over a 57.7 µs stdev */
    hist_free(h);
    hist_free(g);
}

TEST(percentiles_match_sorted_random_values_within_precision)
{
    enum { N = 100000 };
    static int64_t vals[N];
    hist_t *h = engine_hist();
    for (int i = 0; i < N; i++) {
        vals[i] = rng_log(1 * MS, HOUR);
        hist_record(h, vals[i]);
    }
    qsort(vals, N, sizeof vals[0], cmp_i64);
    const double ps[] = {0.1, 1, 10, 33.3, 50, 66.7, 90, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        int64_t exact = vals[(size_t)ceil(ps[i] / 100 * N - 1e-9) - 1];
        int64_t got = hist_percentile(h, ps[i]);
        CHECK_INT(got, hist_highest_equivalent(h, exact));
        CHECK_NEAR(got, exact, 0.001);
    }
    hist_free(h);
}

TEST(reset_clears_everything)
{
    hist_t *h = engine_hist();
    for (int i = 0; i < 1000; i++)
        hist_record(h, rng_log(1, 2 * HOUR));
    hist_reset(h);
    CHECK_INT(hist_count(h), 0);
    CHECK_INT(hist_clamped(h), 0);
    CHECK_INT(hist_min(h), 0);
    CHECK_INT(hist_max(h), 0);
    CHECK(hist_mean(h) == 0);
    CHECK(hist_stdev(h) == 0);
    CHECK_INT(hist_percentile(h, 50), 0);
    hist_record(h, 2 * MS);
    CHECK_INT(hist_min(h), 2 * MS);
    CHECK_INT(hist_max(h), 2 * MS);
    CHECK_INT(hist_percentile(h, 1), 2 * MS);
    hist_free(h);
}

/* The worked example: 1000 requests/s for 100 s, on a schedule; the server stalls for 1 s once
 * every 10 s. A request due at t inside a stall window completes at the window's end, so its
 * latency from its intended time is 100 µs of service plus (stall_end - t). 90 % of requests
 * take 100 µs; the other 10 % are spread evenly over 1 ms .. 1 s. */
TEST(stall_example_percentiles_and_mean)
{
    hist_t *h = engine_hist();
    const int64_t service = 100 * US, period = 1 * MS;
    for (int64_t i = 0; i < 100000; i++) {
        int64_t t = i * period;
        int64_t stall_start = (t / (10 * SEC)) * (10 * SEC) + 9 * SEC; /* the 10th second */
        int64_t stall_end = stall_start + 1 * SEC;
        int64_t lat = service + (t >= stall_start && t < stall_end ? stall_end - t : 0);
        hist_record(h, lat);
    }
    CHECK_INT(hist_count(h), 100000);
    CHECK_INT(hist_min(h), 100 * US);
    CHECK_INT(hist_max(h), 1 * SEC + 100 * US);
    CHECK_NEAR(hist_percentile(h, 50), 100 * US, 0.01);
    CHECK_NEAR(hist_percentile(h, 90), 100 * US, 0.01);
    CHECK_NEAR(hist_percentile(h, 95), 500 * MS, 0.01);
    CHECK_NEAR(hist_percentile(h, 99), 900 * MS, 0.01);
    CHECK_NEAR(hist_percentile(h, 99.9), 990 * MS, 0.01);
    CHECK_NEAR(hist_mean(h), 50 * MS, 0.02);
    /* exact: 0.9 * 100 µs + 0.1 * (500.5 ms + 100 µs) = 50.15 ms */
    CHECK_NEAR(hist_mean(h), 50.15 * MS, 1e-12);
    hist_free(h);
}

/* HdrHistogram's ticks per half distance, 5: 0, 10 .. 50, 55 .. 75, 77.5 .. 87.5, 88.75 ...,
 * each point the histogram's own percentile, up to 99.999 %, then the max at 100 %. */
TEST(spectrum_ticks_halve_towards_100_and_end_with_the_max)
{
    hist_t *h = engine_hist();
    for (int64_t v = 1; v <= 1000000; v++)
        hist_record(h, v * US / 10); /* 0.1 µs .. 100 ms, uniform: a million values */
    hist_point_t pt[160];
    int n = hist_spectrum(h, 5, 99.999, pt, 160);
    static const double first[] = {0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5,
                                   85, 87.5, 88.75};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
        CHECK(pt[i].pct == first[i]);
    CHECK(pt[0].value == hist_min(h));
    for (int i = 1; i < n - 1; i++) {
        CHECK(pt[i].pct > pt[i - 1].pct && pt[i].pct <= 99.999);
        CHECK(pt[i].value == hist_percentile(h, pt[i].pct));
        CHECK(pt[i].value >= pt[i - 1].value);
    }
    /* 5 per halving: 100 / 2^17 % < 0.001 % left after 17 halvings, so 6 + 16 * 5 + the last
     * ones before 99.999, and the max */
    CHECK(n >= 80 && n <= 100);
    CHECK(pt[n - 2].pct > 99.99);
    CHECK(pt[n - 1].pct == 100 && pt[n - 1].value == hist_max(h));
    hist_free(h);
}

/* A short run: the points stop where fewer than one value is left above them. */
TEST(spectrum_of_few_values_stops_before_the_last_one_and_fits_max)
{
    hist_t *h = engine_hist();
    for (int v = 1; v <= 100; v++)
        hist_record(h, v * MS);
    hist_point_t pt[160];
    int n = hist_spectrum(h, 5, 99.999, pt, 160);
    CHECK(n > 10);
    for (int i = 1; i < n - 1; i++)
        CHECK((100 - pt[i].pct) / 100 * 100 >= 1);
    CHECK(pt[n - 1].pct == 100 && pt[n - 1].value == 100 * MS);
    CHECK_INT(hist_spectrum(h, 5, 99.999, pt, 8), 8);
    CHECK(pt[7].pct == 100);
    hist_reset(h);
    CHECK_INT(hist_spectrum(h, 5, 99.999, pt, 160), 0);
    hist_free(h);
}

T_MAIN(T(new_rejects_bad_arguments), T(empty_histogram_reports_zeros),
       T(single_value_all_percentiles_equal_it_within_precision),
       T(uniform_1_to_1e6_percentiles_within_0_1_percent), T(relative_error_bounded_over_range),
       T(relative_error_bounded_over_range_with_1ns_unit), T(values_below_lowest_are_recorded),
       T(negative_values_are_recorded_as_zero), T(clamps_values_above_highest),
       T(max_is_exact_and_percentile_100_is_max), T(percentile_rank_is_ceiling_of_p_times_count),
       T(record_n_equals_n_records), T(merge_equals_recording_into_one),
       T(merge_with_empty_keeps_min_and_max), T(merge_rejects_different_config),
       T(mean_and_stdev_match_exact_computation_within_precision),
       T(percentiles_match_sorted_random_values_within_precision), T(reset_clears_everything),
       T(stall_example_percentiles_and_mean),
       T(spectrum_ticks_halve_towards_100_and_end_with_the_max),
       T(spectrum_of_few_values_stops_before_the_last_one_and_fits_max))
