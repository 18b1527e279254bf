#include "load/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The classic HdrHistogram layout: values are split into buckets of doubling range; each bucket
 * has sub_half distinct slots (its lower half overlaps the previous bucket, so it is not
 * stored). A value's slot is found with one count-leading-zeros and two shifts. */
struct hist {
    int64_t lowest, highest;
    int sigfigs;
    int unit_magnitude;       /* log2 of the smallest distinguishable unit */
    int sub_half_magnitude;   /* log2(sub_half) */
    int64_t sub_count;        /* slots per bucket: a power of two >= 2 * 10^sigfigs */
    int64_t sub_half;
    int64_t sub_mask;         /* values below this (shifted by unit) index bucket 0 directly */
    size_t ncounts;
    uint64_t total, clamped;
    int64_t min, max;
    long double sum;          /* exact enough for the mean: 64-bit mantissa */
    uint64_t counts[];
};

static int bucket_of(const hist_t *h, int64_t v)
{
    int pow2ceil = 64 - __builtin_clzll((uint64_t)(v | h->sub_mask));
    return pow2ceil - h->unit_magnitude - (h->sub_half_magnitude + 1);
}

static size_t index_of(const hist_t *h, int64_t v)
{
    int b = bucket_of(h, v);
    int64_t sub = v >> (b + h->unit_magnitude);
    return (size_t)(((int64_t)(b + 1) << h->sub_half_magnitude) + (sub - h->sub_half));
}

/* The lowest value of slot i. */
static int64_t value_at(const hist_t *h, size_t i)
{
    int b = (int)(i >> h->sub_half_magnitude) - 1;
    int64_t sub = (int64_t)(i & (size_t)(h->sub_half - 1)) + h->sub_half;
    if (b < 0) {
        sub -= h->sub_half;
        b = 0;
    }
    return sub << (b + h->unit_magnitude);
}

static int64_t range_size(const hist_t *h, int64_t v)
{
    int b = bucket_of(h, v);
    int64_t sub = v >> (b + h->unit_magnitude);
    int adj = sub >= h->sub_count ? b + 1 : b;
    return (int64_t)1 << (h->unit_magnitude + adj);
}

int64_t hist_lowest_equivalent(const hist_t *h, int64_t v)
{
    int b = bucket_of(h, v);
    int64_t sub = v >> (b + h->unit_magnitude);
    return sub << (b + h->unit_magnitude);
}

int64_t hist_highest_equivalent(const hist_t *h, int64_t v)
{
    return hist_lowest_equivalent(h, v) + range_size(h, v) - 1;
}

hist_t *hist_new(int64_t lowest, int64_t highest, int sigfigs)
{
    if (lowest < 1 || highest < 2 * lowest || sigfigs < 1 || sigfigs > 5)
        return NULL;
    int64_t single_unit = 2;
    for (int i = 0; i < sigfigs; i++)
        single_unit *= 10;
    int sub_count_mag = (int)ceil(log2((double)single_unit));
    int unit_mag = 63 - __builtin_clzll((uint64_t)lowest);
    if (unit_mag + sub_count_mag > 62)
        return NULL;
    int64_t sub_count = (int64_t)1 << sub_count_mag;
    /* buckets needed so that the last one reaches `highest` */
    int64_t reach = sub_count << unit_mag;
    int buckets = 1;
    while (reach <= highest) {
        if (reach > INT64_MAX / 2) {
            buckets++;
            break;
        }
        reach <<= 1;
        buckets++;
    }
    size_t ncounts = (size_t)(buckets + 1) * (size_t)(sub_count / 2);
    hist_t *h = calloc(1, sizeof *h + ncounts * sizeof(uint64_t));
    if (!h)
        return NULL;
    h->lowest = lowest;
    h->highest = highest;
    h->sigfigs = sigfigs;
    h->unit_magnitude = unit_mag;
    h->sub_half_magnitude = sub_count_mag - 1;
    h->sub_count = sub_count;
    h->sub_half = sub_count / 2;
    h->sub_mask = (sub_count - 1) << unit_mag;
    h->ncounts = ncounts;
    hist_reset(h);
    return h;
}

void hist_free(hist_t *h) { free(h); }

void hist_reset(hist_t *h)
{
    memset(h->counts, 0, h->ncounts * sizeof(uint64_t));
    h->total = h->clamped = 0;
    h->min = INT64_MAX;
    h->max = 0;
    h->sum = 0;
}

void hist_record_n(hist_t *h, int64_t v, uint64_t n)
{
    if (v < 0)
        v = 0;
    if (v > h->highest) {
        v = h->highest;
        h->clamped += n;
    }
    h->counts[index_of(h, v)] += n;
    h->total += n;
    h->sum += (long double)v * n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void hist_record(hist_t *h, int64_t v) { hist_record_n(h, v, 1); }

int hist_merge(hist_t *dst, const hist_t *src)
{
    if (dst->lowest != src->lowest || dst->highest != src->highest || dst->sigfigs != src->sigfigs)
        return -1;
    for (size_t i = 0; i < dst->ncounts; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    if (src->total) {
        if (src->min < dst->min)
            dst->min = src->min;
        if (src->max > dst->max)
            dst->max = src->max;
    }
    return 0;
}

uint64_t hist_count(const hist_t *h) { return h->total; }
uint64_t hist_clamped(const hist_t *h) { return h->clamped; }
int64_t hist_min(const hist_t *h) { return h->total ? h->min : 0; }
int64_t hist_max(const hist_t *h) { return h->total ? h->max : 0; }
double hist_mean(const hist_t *h) { return h->total ? (double)(h->sum / h->total) : 0; }

/* Standard deviation from the buckets (each slot's values taken at its middle): exact to the
 * histogram's precision, with no per-value state. */
double hist_stdev(const hist_t *h)
{
    if (!h->total)
        return 0;
    double mean = hist_mean(h), acc = 0;
    for (size_t i = 0; i < h->ncounts; i++) {
        if (!h->counts[i])
            continue;
        int64_t lo = value_at(h, i);
        double mid = (double)lo + (double)range_size(h, lo) / 2;
        double d = mid - mean;
        acc += d * d * (double)h->counts[i];
    }
    return sqrt(acc / (double)h->total);
}

int64_t hist_percentile(const hist_t *h, double p)
{
    if (!h->total)
        return 0;
    if (p <= 0)
        return h->min;
    if (p > 100)
        p = 100;
    uint64_t target = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (target < 1)
        target = 1;
    uint64_t run = 0;
    for (size_t i = 0; i < h->ncounts; i++) {
        run += h->counts[i];
        if (run >= target) {
            int64_t v = hist_highest_equivalent(h, value_at(h, i));
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}
