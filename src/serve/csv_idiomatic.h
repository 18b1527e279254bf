/* csv_idiomatic: the csv service's idiomatic tier (`stackbench serve csv --tier idiomatic`):
 * the same answers as the tuned kernel (src/codec/csv.c), reached the way a C team would
 * write it first: Debian's libcsv for RFC 4180, the contract's grammar checked field by field,
 * strtod and strtoll for the numbers, a chained hash table for the symbols, printf for the
 * answer. contracts/csv.md is the specification of both. */
#ifndef SB_SERVE_CSV_IDIOMATIC_H
#define SB_SERVE_CSV_IDIOMATIC_H

#include <stddef.h>

#include "core/buf.h"

/* One worker's parser and symbol table, reused from one body to the next. */
typedef struct csv_idiomatic csv_idiomatic_t;

/* A new state, or NULL when out of memory. */
csv_idiomatic_t *csv_idiomatic_new(void);
void csv_idiomatic_free(csv_idiomatic_t *st);

/* The answer to a POST /csv body: *status 200 and the aggregate's JSON appended to out, or
 * *status 400 and {"error":"invalid_csv",...}. 0, or -ENOMEM (out and *status are then
 * unspecified). */
int csv_idiomatic_answer(csv_idiomatic_t *st, const char *body, size_t len, buf_t *out,
                         int *status);

#endif
