/* Tests for the pseudo-random numbers (src/core/rand.c): splitmix64 and xoshiro256** give
 * their published values, seeds and streams, and numbers in a range stay in it, cover it and
 * carry no modulo bias. All counts come from fixed seeds: deterministic, not statistical
 * luck. */
#include <stdbool.h>
#include <stdint.h>

#include "core/rand.h"
#include "t.h"

TEST(splitmix64_gives_the_reference_values)
{
    /* Vigna's splitmix64.c, seeded with 0 */
    uint64_t x = 0;
    CHECK(rand_splitmix64(&x) == 0xe220a8397b1dcdafULL);
    CHECK(rand_splitmix64(&x) == 0x6e789e6aa1b965f4ULL);
    CHECK(rand_splitmix64(&x) == 0x06c45d188009454fULL);
    /* seeded with 1234567 */
    x = 1234567;
    CHECK(rand_splitmix64(&x) == 6457827717110365317ULL);
    CHECK(rand_splitmix64(&x) == 3203168211198807973ULL);
    CHECK(rand_splitmix64(&x) == 9817491932198370423ULL);
    CHECK(rand_splitmix64(&x) == 4593380528125082431ULL);
    CHECK(rand_splitmix64(&x) == 16408922859458223821ULL);
}

TEST(splitmix64_state_advances_by_the_golden_gamma)
{
    uint64_t x = 5;
    rand_splitmix64(&x);
    CHECK(x == 5 + 0x9e3779b97f4a7c15ULL);
    rand_splitmix64(&x);
    CHECK(x == 5 + 2 * 0x9e3779b97f4a7c15ULL);
}

TEST(xoshiro256starstar_gives_the_published_values)
{
    /* Blackman and Vigna's xoshiro256starstar.c from the state {1, 2, 3, 4} */
    rng_t x = {{1, 2, 3, 4}};
    CHECK(rng_next(&x) == 11520);
    CHECK(rng_next(&x) == 0);
    CHECK(rng_next(&x) == 1509978240);
    CHECK(rng_next(&x) == 1215971899390074240ULL);
}

TEST(seed_fills_the_state_from_splitmix64)
{
    rng_t r;
    rng_seed(&r, 42, 0);
    uint64_t x = 42;
    for (int i = 0; i < 4; i++)
        CHECK(r.s[i] == rand_splitmix64(&x));
}

TEST(same_seed_same_draws_other_seed_or_stream_other_draws)
{
    rng_t a, b, c, d;
    rng_seed(&a, 42, 0);
    rng_seed(&b, 42, 0);
    rng_seed(&c, 43, 0);
    rng_seed(&d, 42, 1);
    int same_ab = 0, same_ac = 0, same_ad = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_next(&a);
        same_ab += x == rng_next(&b);
        same_ac += x == rng_next(&c);
        same_ad += x == rng_next(&d);
    }
    CHECK_INT(same_ab, 1000);
    CHECK_INT(same_ac, 0);
    CHECK_INT(same_ad, 0);
}

TEST(streams_of_one_seed_share_no_starting_word)
{
    /* 16 streams, 64 words: all different (one load thread per stream) */
    uint64_t w[64];
    for (int k = 0; k < 16; k++) {
        rng_t r;
        rng_seed(&r, 7, (uint64_t)k);
        memcpy(&w[4 * k], r.s, sizeof r.s);
    }
    int same = 0;
    for (int i = 0; i < 64; i++)
        for (int j = i + 1; j < 64; j++)
            same += w[i] == w[j];
    CHECK_INT(same, 0);
}

TEST(seed_zero_is_a_usable_state)
{
    /* xoshiro's one bad state is all zeros: seed 0 does not give it */
    rng_t r;
    rng_seed(&r, 0, 0);
    CHECK(r.s[0] | r.s[1] | r.s[2] | r.s[3]);
    uint64_t first = rng_next(&r);
    CHECK(rng_next(&r) != first);
}

TEST(below_stays_below_n)
{
    rng_t r;
    rng_seed(&r, 1, 0);
    int bad = 0;
    for (int i = 0; i < 10000; i++) {
        bad += rng_below(&r, 1) != 0;
        bad += rng_below(&r, 2) > 1;
        bad += rng_below(&r, 10) > 9;
        bad += rng_below(&r, UINT64_MAX) == UINT64_MAX;
    }
    CHECK_INT(bad, 0);
}

TEST(below_has_no_modulo_bias)
{
    /* n = 3 * 2^62: a draw taken modulo n would land below 2^62 half the time (two of the four
     * quarters of 2^64 map there); uniform, it is a third of the time. 30000 draws: 10000
     * expected, 5 standard deviations are 408. */
    rng_t r;
    rng_seed(&r, 2024, 0);
    const uint64_t n = 3ULL << 62;
    int low = 0, over = 0;
    for (int i = 0; i < 30000; i++) {
        uint64_t v = rng_below(&r, n);
        low += v < (1ULL << 62);
        over += v >= n;
    }
    CHECK_INT(over, 0);
    CHECK(low > 10000 - 408 && low < 10000 + 408);
}

TEST(range_bounds_are_inclusive)
{
    rng_t r;
    rng_seed(&r, 3, 0);
    CHECK_INT(rng_range(&r, 7, 7), 7);
    CHECK_INT(rng_range(&r, -1, -1), -1);
    CHECK(rng_range(&r, INT64_MIN, INT64_MIN) == INT64_MIN);
    CHECK(rng_range(&r, INT64_MAX, INT64_MAX) == INT64_MAX);
    int lo = 0, hi = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t v = rng_range(&r, 0, 1);
        lo += v == 0;
        hi += v == 1;
    }
    CHECK_INT(lo + hi, 1000);
    CHECK(lo > 0 && hi > 0);
}

TEST(values_stay_in_bounds_and_cover_small_ranges)
{
    static const struct {
        int64_t lo, hi;
    } ranges[] = {{1, 5}, {-3, 3}, {7, 7}, {0, 1}, {-1000, 1000},
                  {INT64_MAX - 2, INT64_MAX}, {INT64_MIN, INT64_MIN + 2}, {INT64_MIN, INT64_MAX},
                  {1, 10000}};
    rng_t r;
    rng_seed(&r, 12345, 3);
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        int64_t lo = ranges[i].lo, hi = ranges[i].hi;
        uint64_t span = (uint64_t)hi - (uint64_t)lo;
        int hits[2001] = {0};
        bool bad = false;
        for (int d = 0; d < 100000; d++) {
            int64_t v = rng_range(&r, lo, hi);
            if (v < lo || v > hi)
                bad = true;
            else if (span <= 2000)
                hits[(uint64_t)v - (uint64_t)lo]++;
        }
        if (bad) {
            fprintf(stderr, "    [%lld, %lld]: a value out of bounds\n", (long long)lo,
                    (long long)hi);
            t_failures++;
        }
        for (uint64_t v = 0; span <= 2000 && v <= span; v++)
            if (!hits[v]) {
                fprintf(stderr, "    [%lld, %lld]: %lld never drawn\n", (long long)lo,
                        (long long)hi, (long long)((uint64_t)lo + v));
                t_failures++;
                break;
            }
        /* a small range is uniform: each of n values within 5 % of 100000/n (> 8 sd for n <= 7) */
        for (uint64_t v = 0; span <= 6 && v <= span; v++) {
            double want = 100000.0 / (double)(span + 1);
            if (hits[v] < want * 0.95 || hits[v] > want * 1.05) {
                fprintf(stderr, "    [%lld, %lld]: %lld drawn %d times, expected ~%.0f\n",
                        (long long)lo, (long long)hi, (long long)((uint64_t)lo + v), hits[v], want);
                t_failures++;
            }
        }
    }
}

TEST(whole_int64_range_reaches_both_halves)
{
    rng_t r;
    rng_seed(&r, 9, 0);
    int neg = 0;
    for (int i = 0; i < 1000; i++)
        neg += rng_range(&r, INT64_MIN, INT64_MAX) < 0;
    CHECK(neg > 400 && neg < 600);
}

T_MAIN(T(splitmix64_gives_the_reference_values), T(splitmix64_state_advances_by_the_golden_gamma),
       T(xoshiro256starstar_gives_the_published_values), T(seed_fills_the_state_from_splitmix64),
       T(same_seed_same_draws_other_seed_or_stream_other_draws),
       T(streams_of_one_seed_share_no_starting_word), T(seed_zero_is_a_usable_state),
       T(below_stays_below_n), T(below_has_no_modulo_bias), T(range_bounds_are_inclusive),
       T(values_stay_in_bounds_and_cover_small_ranges), T(whole_int64_range_reaches_both_halves))
