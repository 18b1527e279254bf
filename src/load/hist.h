/* hist: an HdrHistogram-style latency histogram.
 *
 * Values are bucketed with a fixed relative precision (sigfigs significant decimal digits), so
 * memory is fixed whatever the count and the duration, and recording is a few instructions.
 * Histograms with the same configuration merge exactly by adding counts (one per load thread,
 * merged at the end). The load engine records nanoseconds with hist_new(1, 3.6e12, 3): three
 * significant digits over the whole range it reports (1 µs to 1 hour), 264 KiB per histogram. */
#ifndef SB_LOAD_HIST_H
#define SB_LOAD_HIST_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hist hist_t;

/* lowest: smallest discernible value (>= 1); highest: largest trackable (>= 2 * lowest);
 * sigfigs: 1..5. NULL on bad arguments or out of memory.
 * Precision: the finest slot is 2^floor(log2(lowest)) wide, and slots are at most 1/10^sigfigs
 * of their values from about 2^floor(log2(lowest)) * 10^sigfigs up; smaller values (including
 * those below lowest) are resolved to that finest width. hist_new(1000, 3600 s, 3) allocates
 * 192 KiB once: 512 ns resolution below ~0.52 ms, 3 digits (width/value <= 1/1024) above. */
hist_t *hist_new(int64_t lowest, int64_t highest, int sigfigs);
void hist_free(hist_t *h);
void hist_reset(hist_t *h);

/* Records v (n times). Values below 0 are recorded as 0; values above `highest` are recorded
 * as `highest` and counted in hist_clamped(). */
void hist_record(hist_t *h, int64_t v);
void hist_record_n(hist_t *h, int64_t v, uint64_t n);

/* Adds src's counts into dst. 0, or -1 if the configurations differ. */
int hist_merge(hist_t *dst, const hist_t *src);

uint64_t hist_count(const hist_t *h);
uint64_t hist_clamped(const hist_t *h);
int64_t hist_min(const hist_t *h);   /* 0 when empty */
int64_t hist_max(const hist_t *h);   /* 0 when empty */
double hist_mean(const hist_t *h);   /* exact (128-bit sum of recorded values); 0 when empty */
/* Population standard deviation computed from the buckets, each slot's values taken at its
 * midpoint; 0 when empty. */
double hist_stdev(const hist_t *h);
/* The value at percentile p (0..100]: the highest value equivalent to the smallest recorded
 * value v such that at least p % of all recorded values are <= v, capped at hist_max() (so
 * p = 100 gives the exact max); p <= 0 gives hist_min(). 0 when empty. */
int64_t hist_percentile(const hist_t *h, double p);

/* The percentile spectrum: points {percentile, value} log-spaced towards 100 %, HdrHistogram's
 * "percentile ticks per half distance" iteration (its outputPercentileDistribution): from 0 %
 * (the min), ticks_per_half points for each halving of the distance to 100 % (ticks 5: 10, 20
 * .. 50, then 55 .. 75, then 77.5 .. 87.5, ...), while the next percentile stays at most
 * last_pct and leaves at least one recorded value above it, then 100 % (the max). So a chart
 * on the x = log10(1 / (1 - p)) scale has evenly spaced points. These are percentile points
 * read from the histogram, not the histogram's encoding. Returns how many were written (at
 * most max, the last always the max; 0 when empty or max < 2). */
typedef struct {
    double pct;
    int64_t value;
} hist_point_t;
int hist_spectrum(const hist_t *h, int ticks_per_half, double last_pct, hist_point_t *out,
                  int max);

/* Equivalent-value range of the bucket holding v: values in [lo, hi] are indistinguishable. */
int64_t hist_lowest_equivalent(const hist_t *h, int64_t v);
int64_t hist_highest_equivalent(const hist_t *h, int64_t v);

#endif
