/* hist: an HdrHistogram-style latency histogram.
 *
 * Layout (the classic HdrHistogram one). Let S = sub_count = 2^scm, the smallest power of two
 * >= 2 * 10^sigfigs (2048 for 3 digits), H = S / 2, and u = unit_mag = floor(log2(lowest)).
 *
 *   bucket 0 covers [0, S << u) in S slots of width 2^u;
 *   bucket b > 0 covers [H << (b + u), S << (b + u)) in H slots of width 2^(b + u)
 *   (its lower half [0, H << (b + u)) is bucket b-1's range, so it is not stored again).
 *
 * A value v lands in bucket b = bitlen(v | ((S - 1) << u)) - scm - u, at sub-slot
 * sub = v >> (b + u) (H <= sub < S when b > 0, 0 <= sub < S when b == 0) and at index
 * (b << log2(H)) + sub: bucket 0 uses indices [0, S), bucket b > 0 uses [(b+1)H, (b+2)H).
 * Recording is therefore one count-leading-zeros, two shifts, an add and an increment.
 *
 * Precision. A slot of bucket b > 0 has width 2^(b+u) and holds values >= H * 2^(b+u), so its
 * relative width is <= 1/H (1/1024 for 3 digits). Bucket 0 has absolute resolution 2^u <=
 * lowest: values below H << u (524,288 for lowest = 1000) are resolved to within 2^u (512),
 * not to sigfigs digits; values below `lowest` are still counted, in bucket 0.
 *
 * Memory for hist_new(1000, 3.6e12, 3): u = 9, S = 2048, 23 buckets, (23 + 1) * 1024 slots of
 * 8 bytes = 196,608 bytes of counts plus a 112-byte header: one 64-byte-aligned allocation of
 * 196,736 bytes (192 KiB), whatever the count or the duration.
 *
 * Statistics. min, max, total and clamped are exact. The mean is exact: the sum of the recorded
 * (clamped) values is kept in a 128-bit integer. The standard deviation is computed from the
 * buckets alone, each slot's values taken at the slot's midpoint (lo + hi) / 2 (its mean too),
 * so it is accurate to the histogram's precision. */
#include "load/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

struct hist {
    /* hot: read or written by every hist_record (the first 80 bytes; 64-byte aligned) */
    int unit_mag;       /* u: log2 of the finest slot width */
    int sub_half_mag;   /* log2(H) */
    int bucket_base;    /* scm + u: bitlen of the smallest value outside bucket 0 */
    int64_t sub_mask;   /* (S - 1) << u: or-ed into v so that small values land in bucket 0 */
    int64_t highest;
    uint64_t total, clamped;
    int64_t min, max;   /* min is INT64_MAX and max 0 while empty */
    unsigned __int128 sum;
    /* cold */
    int64_t lowest;
    int sigfigs;
    size_t ncounts;
    uint64_t counts[];
};

static inline int bitlen(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* Index of the slot holding v (0 <= v; v may exceed highest only in the equivalence queries,
 * which do not touch counts). */
static inline size_t slot_of(const hist_t *h, int64_t v)
{
    /* v | sub_mask is never 0, so clz is defined */
    int b = 64 - __builtin_clzll((uint64_t)(v | h->sub_mask)) - h->bucket_base;
    int64_t sub = v >> (b + h->unit_mag);
    return ((size_t)b << h->sub_half_mag) + (size_t)sub;
}

/* Lowest value and log2 of the width of slot i. */
static inline int64_t slot_lo(const hist_t *h, size_t i, int *width_mag)
{
    size_t q = i >> h->sub_half_mag;
    int b = q ? (int)q - 1 : 0;
    size_t half = (size_t)1 << h->sub_half_mag;
    int64_t sub = q ? (int64_t)((i & (half - 1)) + half) : (int64_t)i;
    *width_mag = b + h->unit_mag;
    return sub << *width_mag;
}

static inline int64_t slot_hi(int64_t lo, int width_mag)
{
    return lo + (((int64_t)1 << width_mag) - 1);
}

int64_t hist_lowest_equivalent(const hist_t *h, int64_t v)
{
    int wm;
    return slot_lo(h, slot_of(h, v < 0 ? 0 : v), &wm);
}

int64_t hist_highest_equivalent(const hist_t *h, int64_t v)
{
    int wm;
    int64_t lo = slot_lo(h, slot_of(h, v < 0 ? 0 : v), &wm);
    return slot_hi(lo, wm);
}

hist_t *hist_new(int64_t lowest, int64_t highest, int sigfigs)
{
    if (lowest < 1 || sigfigs < 1 || sigfigs > 5 || highest / 2 < lowest)
        return NULL;
    uint64_t want = 2;
    for (int i = 0; i < sigfigs; i++)
        want *= 10;
    int scm = bitlen(want - 1); /* smallest power of two >= 2 * 10^sigfigs */
    int u = bitlen((uint64_t)lowest) - 1;
    if (u + scm > 62)
        return NULL;
    /* buckets: the last one must reach past highest, S << (u + buckets - 1) > highest */
    int buckets = bitlen((uint64_t)highest) - scm - u + 1;
    if (buckets < 1)
        buckets = 1;
    size_t ncounts = (size_t)(buckets + 1) << (scm - 1);
    size_t size = (sizeof(hist_t) + ncounts * sizeof(uint64_t) + 63) & ~(size_t)63;
    hist_t *h = aligned_alloc(64, size);
    if (!h)
        return NULL;
    memset(h, 0, sizeof *h);
    h->unit_mag = u;
    h->sub_half_mag = scm - 1;
    h->bucket_base = scm + u;
    h->sub_mask = (((int64_t)1 << scm) - 1) << u;
    h->highest = highest;
    h->lowest = lowest;
    h->sigfigs = sigfigs;
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

void hist_record(hist_t *h, int64_t v)
{
    if (UNLIKELY(v < 0))
        v = 0;
    if (UNLIKELY(v > h->highest)) {
        v = h->highest;
        h->clamped++;
    }
    h->counts[slot_of(h, v)]++;
    h->total++;
    h->sum += (uint64_t)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void hist_record_n(hist_t *h, int64_t v, uint64_t n)
{
    if (n == 0)
        return;
    if (v < 0)
        v = 0;
    if (v > h->highest) {
        v = h->highest;
        h->clamped += n;
    }
    h->counts[slot_of(h, v)] += n;
    h->total += n;
    h->sum += (unsigned __int128)(uint64_t)v * n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

int hist_merge(hist_t *dst, const hist_t *src)
{
    if (dst->lowest != src->lowest || dst->highest != src->highest || dst->sigfigs != src->sigfigs)
        return -1;
    for (size_t i = 0; i < dst->ncounts; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    if (src->min < dst->min) /* an empty src has min INT64_MAX and max 0: no effect */
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

uint64_t hist_count(const hist_t *h) { return h->total; }
uint64_t hist_clamped(const hist_t *h) { return h->clamped; }
int64_t hist_min(const hist_t *h) { return h->total ? h->min : 0; }
int64_t hist_max(const hist_t *h) { return h->total ? h->max : 0; }

/* Exact: the 128-bit sum of the recorded values over the count. */
double hist_mean(const hist_t *h) { return h->total ? (double)h->sum / (double)h->total : 0; }

/* Entirely from the buckets, each slot's values taken at its midpoint (lo + hi) / 2: the mean
 * of those midpoints, then the population deviation around it. One value, or values sharing a
 * slot, give exactly 0. */
static double slot_mid(const hist_t *h, size_t i)
{
    int wm;
    int64_t lo = slot_lo(h, i, &wm);
    return (double)lo + (double)(((int64_t)1 << wm) - 1) / 2;
}

double hist_stdev(const hist_t *h)
{
    if (!h->total)
        return 0;
    double sum = 0, acc = 0;
    for (size_t i = 0; i < h->ncounts; i++)
        if (h->counts[i])
            sum += slot_mid(h, i) * (double)h->counts[i];
    double mean = sum / (double)h->total;
    for (size_t i = 0; i < h->ncounts; i++) {
        if (!h->counts[i])
            continue;
        double d = slot_mid(h, i) - mean;
        acc += d * d * (double)h->counts[i];
    }
    return sqrt(acc / (double)h->total);
}

/* Rank target = ceil(p / 100 * count), at least 1, at most count; the slot where the running
 * count reaches it gives its highest equivalent value, capped at the recorded max. p <= 0 (or
 * NaN) gives min. The product is shrunk by a relative 1e-12 before ceil so that binary rounding
 * of p (99.9 is not exact) cannot push an exact rank (0.999 * 1000 = 999) up by one. */
int64_t hist_percentile(const hist_t *h, double p)
{
    if (!h->total)
        return 0;
    if (!(p > 0))
        return h->min;
    if (p >= 100)
        return h->max;
    double x = p / 100.0 * (double)h->total;
    x -= x * 1e-12;
    uint64_t target = x >= (double)h->total ? h->total : (uint64_t)ceil(x);
    if (target < 1)
        target = 1;
    uint64_t run = 0;
    for (size_t i = 0; i < h->ncounts; i++) {
        run += h->counts[i];
        if (run >= target) {
            int wm;
            int64_t lo = slot_lo(h, i, &wm);
            int64_t hi = slot_hi(lo, wm);
            return hi < h->max ? hi : h->max;
        }
    }
    return h->max;
}

/* Each step is 100 / (ticks * 2^(k+1)) with k the halvings already made (floor(log2(100 / (100
 * - p)))): 10 / 2^k for 5 ticks, exact in binary, so p lands on 50, 75, 87.5 ... exactly. */
int hist_spectrum(const hist_t *h, int ticks_per_half, double last_pct, hist_point_t *out,
                  int max)
{
    if (!h->total || max < 2 || ticks_per_half < 1)
        return 0;
    int n = 0;
    out[n++] = (hist_point_t){0, h->min};
    double p = 0;
    while (n < max - 1) {
        int k = (int)floor(log2(100.0 / (100.0 - p)));
        p += 100.0 / (ticks_per_half * ldexp(1.0, k + 1));
        if (p > last_pct || (100.0 - p) / 100.0 * (double)h->total < 1)
            break;
        out[n++] = (hist_point_t){p, hist_percentile(h, p)};
    }
    out[n++] = (hist_point_t){100, h->max};
    return n;
}
