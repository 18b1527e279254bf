/* jsonw: the JSON writer of everything programs read (results.json, `load --json`, `verify
 * --json`, `durability --json`): stable keys in the order written, commas automatic, keys and
 * strings escaped, optional two-space indentation.
 *
 * The services' answers do not go through jsonw_t: their shapes are fixed and their numbers
 * arrive as text already in JSON's number syntax (PostgreSQL's integer output in serve/sql.c,
 * the csv aggregate's one %.6f rule in codec/csv.c), so those fast paths copy the text between
 * literal pieces and use only jsonw_escape for strings. jsonw_t formats every number with
 * printf and tracks commas per value, which they do not need. */
#ifndef SB_CODEC_JSONW_H
#define SB_CODEC_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Nesting deeper than 63 levels is not supported (first[] has 64 entries). */
typedef struct {
    buf_t *out;
    int depth;
    bool pretty;            /* two-space indentation, one member per line */
    bool first[64];         /* per depth: no member written yet */
    bool after_key;         /* a key was just written: the next value needs no comma */
} jsonw_t;

void jsonw_init(jsonw_t *w, buf_t *out, bool pretty);
void jsonw_obj_begin(jsonw_t *w);
void jsonw_obj_end(jsonw_t *w);
void jsonw_arr_begin(jsonw_t *w);
void jsonw_arr_end(jsonw_t *w);
void jsonw_key(jsonw_t *w, const char *key);
void jsonw_str(jsonw_t *w, const char *s);
void jsonw_strn(jsonw_t *w, const char *s, size_t n);
void jsonw_int(jsonw_t *w, int64_t v);
void jsonw_uint(jsonw_t *w, uint64_t v);
/* Finite numbers with up to `decimals` digits after the point, trailing zeros dropped;
 * NaN and infinities are written as null. */
void jsonw_double(jsonw_t *w, double v, int decimals);
void jsonw_bool(jsonw_t *w, bool v);
void jsonw_null(jsonw_t *w);
/* A string with JSON escaping (quotes included), to any buffer. */
void jsonw_escape(buf_t *out, const char *s, size_t n);

#endif
