/* gen: deterministic request bodies for the workloads, the same bytes for every language. */
#ifndef SB_LAB_GEN_H
#define SB_LAB_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/* `rows` trades with a header, a realistic mix of symbols (a few frequent, many rare),
 * ISO-8601 and epoch-millisecond timestamps, 2-4 decimal prices, some quoted fields, LF and
 * CRLF line ends, and a final line end or not. The numbers come from core/rand.h's rng_t
 * seeded with seed. */
void gen_csv(buf_t *out, uint64_t rows, uint64_t seed);

/* `stackbench gen WORKLOAD`. */
int cmd_gen(int argc, char **argv);

#endif
