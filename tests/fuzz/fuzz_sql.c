/* libFuzzer target for the sql service's request reading (src/serve/sql_request.h): the input is
 * tried as an account path segment, a query string and an order body. Whatever is accepted must
 * be within the contract's ranges; an accepted order body must be valid JSON; reading is
 * deterministic. abort() on any violation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "serve/sql_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size heap copy so that AddressSanitizer sees any read past the end */
    char *s = malloc(size ? size : 1);
    memcpy(s, data, size);

    int32_t id = 0;
    if (sql_parse_account(s, size, &id) == 0 && id < 1)
        abort();

    int32_t ids[SQL_MAX_IDS], again[SQL_MAX_IDS];
    int n = sql_parse_ids(s, size, ids);
    if (n == 0 || n > SQL_MAX_IDS || n < -1)
        abort();
    for (int i = 0; i < n; i++)
        if (ids[i] < 1)
            abort();
    if (sql_parse_ids(s, size, again) != n || (n > 0 && memcmp(ids, again, sizeof ids[0] * (size_t)n)))
        abort();

    int32_t account = 0;
    int64_t amount = 0;
    sql_order_status_t st = sql_parse_order(s, size, &account, &amount);
    json_error_t e;
    if (st != SQL_ORDER_INVALID_JSON && json_validate(s, size, &e) != 0)
        abort();
    if (st == SQL_ORDER_OK && (account < 1 || amount < 1 || amount > SQL_MAX_AMOUNT))
        abort();
    free(s);
    return 0;
}
