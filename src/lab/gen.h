/* gen: deterministic request bodies for the workloads, the same bytes for every language. */
#ifndef SB_LAB_GEN_H
#define SB_LAB_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/* splitmix64: a small, fast, well-mixed generator; the same seed gives the same stream on
 * every machine. */
static inline uint64_t gen_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [0, n). */
static inline uint64_t gen_below(uint64_t *state, uint64_t n) { return gen_next(state) % n; }

/* `rows` trades with a header, a realistic mix of symbols (a few frequent, many rare),
 * ISO-8601 and epoch-millisecond timestamps, 2-4 decimal prices, some quoted fields, LF and
 * CRLF line ends, and a final line end or not. */
void gen_csv(buf_t *out, uint64_t rows, uint64_t seed);

/* `stackbench gen WORKLOAD`. */
int cmd_gen(int argc, char **argv);

#endif
