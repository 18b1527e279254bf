/* rand: the one source of pseudo-random numbers: deterministic given a seed, the same on every
 * machine (the load engine's request mix, the generated request bodies, the tests' inputs).
 *
 * splitmix64 (Steele, Lea, Flood) is a tiny, well-mixed generator used to seed the main one;
 * xoshiro256** (Blackman, Vigna) is the main one: fast, 256 bits of state, and numbers in a
 * range are drawn without modulo bias. */
#ifndef SB_CORE_RAND_H
#define SB_CORE_RAND_H

#include <stdint.h>

/* The next number of a splitmix64 stream. */
static inline uint64_t rand_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s[4];
} rng_t;

/* xoshiro's authors recommend filling its state from splitmix64. Streams of one seed (one per
 * load thread) do not share their starting states. */
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t out = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

/* Uniform in [0, n), n >= 1, without modulo bias (Lemire's multiply-and-reject: one
 * multiplication, and a division only in the rare case that decides a rejection). */
static inline uint64_t rng_below(rng_t *r, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    if ((uint64_t)m < n) {
        uint64_t threshold = -n % n;
        while ((uint64_t)m < threshold)
            m = (unsigned __int128)rng_next(r) * n;
    }
    return (uint64_t)(m >> 64);
}

/* Uniform in [lo, hi], lo <= hi, the whole int64 range included. */
static inline int64_t rng_range(rng_t *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t off = span == UINT64_MAX ? rng_next(r) : rng_below(r, span + 1);
    return (int64_t)((uint64_t)lo + off);
}

#endif
