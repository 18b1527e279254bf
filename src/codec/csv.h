/* csv: the parser and aggregator of the `csv` workload (contracts/csv.md): RFC 4180 trades
 * `timestamp,symbol,price,quantity` in, per-symbol count, quantity, min/max price and VWAP out.
 *
 * One pass over the body, no allocation per field or per row: the aggregate's symbol table is
 * allocated once and reused (csv_agg_reset keeps its memory). */
#ifndef SB_CODEC_CSV_H
#define SB_CODEC_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define CSV_SYMBOL_MAX 16

typedef struct {
    char symbol[CSV_SYMBOL_MAX + 1];  /* NUL-terminated */
    uint8_t len;
    uint64_t count;       /* trades */
    uint64_t quantity;    /* sum of quantities */
    double min_price, max_price;
    double sum_pq;        /* sum of price * quantity, in body order */
} csv_symbol_t;

typedef struct {
    uint64_t rows;
    csv_symbol_t *syms;   /* nsyms entries, in order of first appearance */
    size_t nsyms, cap;
    uint32_t *index;      /* open-addressing hash of symbol -> syms index + 1 (0 = empty) */
    size_t index_cap;     /* power of two */
} csv_agg_t;

typedef struct {
    size_t line;          /* 1-based line where the failing record starts */
    size_t column;        /* 1-based field number at fault (see contracts/csv.md) */
    const char *reason;   /* "unterminated quote", "bare quote", "wrong field count",
                           * "bad timestamp", "bad symbol", "bad price", "bad quantity";
                           * static, never contains '"' or '\\' */
} csv_error_t;

void csv_agg_init(csv_agg_t *a);
void csv_agg_reset(csv_agg_t *a);   /* empty, memory kept */
void csv_agg_free(csv_agg_t *a);

/* Parses body[0..len) and adds every trade to a (which should be reset first). 0, or -1 with
 * *err filled in (the aggregate is then unspecified), or -2 when out of memory. */
int csv_aggregate(const char *body, size_t len, csv_agg_t *a, csv_error_t *err);

/* Appends the JSON answer of contracts/csv.md (symbols sorted bytewise). 0 or -ENOMEM. */
int csv_write_json(const csv_agg_t *a, buf_t *out);

#endif
