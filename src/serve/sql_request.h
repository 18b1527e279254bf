/* sql_request: reading the sql workload's requests (contracts/sql.md) before any database
 * work: the account id of a path, the ids of a query string, the body of an order. The rules
 * follow what the Go peer's net/http and encoding/json do, so that the three languages refuse
 * the same requests the same way. No allocation. */
#ifndef SB_SERVE_SQL_REQUEST_H
#define SB_SERVE_SQL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define SQL_MAX_IDS 20
#define SQL_MAX_AMOUNT 1000000

/* The {id} of /accounts/{id}, as written after the slash: percent-decoded, then decimal digits
 * only (leading zeros allowed), 1..2147483647. 0, or -1 (400 bad_request). */
int sql_parse_account(const char *seg, size_t n, int32_t *id);

/* The ids of a query string (without the '?'): the first `ids` parameter whose pair decodes
 * (form decoding: %XX and '+'; pairs holding ';' are skipped, as Go's url.ParseQuery does),
 * 1 to SQL_MAX_IDS comma-separated ids as sql_parse_account reads them (duplicates allowed).
 * The number of ids, or -1 (400 bad_request). */
int sql_parse_ids(const char *query, size_t n, int32_t ids[SQL_MAX_IDS]);

typedef enum {
    SQL_ORDER_OK,
    SQL_ORDER_INVALID_JSON,   /* 400: not JSON, not an object, a member missing or not an
                               * integer (-?(0|[1-9][0-9]*): no fraction, no exponent) */
    SQL_ORDER_AMOUNT_RANGE,   /* 422: amount outside 1..SQL_MAX_AMOUNT, however large */
    SQL_ORDER_NO_ACCOUNT,     /* 404: account_id outside 1..2147483647 */
} sql_order_status_t;

/* A POST /orders body: {"account_id":N,"amount":N}, members matched by their exact name
 * (escapes decoded), the last of a repeated name counting, other members ignored. The first
 * rule broken is the answer, in the order of the enum. */
sql_order_status_t sql_parse_order(const char *body, size_t n, int32_t *account, int64_t *amount);

#endif
