#include "core/rand.h"

/* Stream k starts splitmix64 at seed + 4k steps, so the four words of every stream come from
 * different splitmix64 states (splitmix64 is a bijection: the states can never all be zero
 * either). */
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed + stream * 4 * 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 4; i++)
        r->s[i] = rand_splitmix64(&x);
}
