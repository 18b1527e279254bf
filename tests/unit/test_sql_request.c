/* The sql service's request reading (src/serve/sql_request.h), row by row as contracts/sql.md
 * states it; the same rows the Go peer's tests hold Go to. */
#include "t.h"

#include "serve/sql_request.h"

TEST(account_ids)
{
    static const struct {
        const char *seg;
        int32_t id; /* 0: refused */
    } rows[] = {
        {"1", 1}, {"007", 7}, {"%31", 1}, {"4%32", 42}, {"2147483647", 2147483647},
        {"0000000000000000000001", 1},
        {"", 0}, {"0", 0}, {"-1", 0}, {"+1", 0}, {"1a", 0}, {"1.0", 0}, {"0x1", 0},
        {"%201", 0}, {"%2", 0}, {"%zz", 0}, {"2147483648", 0}, {"99999999999999999999", 0},
        {"1%2Fx", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int32_t id = -5;
        int rc = sql_parse_account(rows[i].seg, strlen(rows[i].seg), &id);
        if ((rc == 0) != (rows[i].id != 0) || (rc == 0 && id != rows[i].id)) {
            fprintf(stderr, "    account '%s': rc %d id %d\n", rows[i].seg, rc, id);
            t_failures++;
        }
    }
}

TEST(id_lists)
{
    static const struct {
        const char *q;
        int n; /* -1: refused */
        int32_t first, last;
    } rows[] = {
        {"ids=3,1,2", 3, 3, 2}, {"ids=5%2C4", 2, 5, 4}, {"ids=1&ids=x", 1, 1, 1},
        {"x=1&ids=7", 1, 7, 7}, {"i%64s=9", 1, 9, 9}, {"ids=%zz&ids=2", 1, 2, 2},
        {"ids=1;2&ids=3", 1, 3, 3},
        {"ids=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20", 20, 1, 20},
        {"", -1, 0, 0}, {"id=1", -1, 0, 0}, {"ids", -1, 0, 0}, {"ids=", -1, 0, 0},
        {"ids=,", -1, 0, 0}, {"ids=1,", -1, 0, 0}, {"ids=,1", -1, 0, 0}, {"ids=1,,2", -1, 0, 0},
        {"ids=1,%202", -1, 0, 0}, {"ids=+1", -1, 0, 0}, {"ids=0", -1, 0, 0},
        {"ids=1,x", -1, 0, 0}, {"ids=2147483648", -1, 0, 0}, {"ids=x&ids=1", -1, 0, 0},
        {"ids=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21", -1, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int32_t ids[SQL_MAX_IDS];
        int n = sql_parse_ids(rows[i].q, strlen(rows[i].q), ids);
        if (n != rows[i].n || (n > 0 && (ids[0] != rows[i].first || ids[n - 1] != rows[i].last))) {
            fprintf(stderr, "    query '%s': %d ids\n", rows[i].q, n);
            t_failures++;
        }
    }
}

TEST(order_bodies)
{
    static const struct {
        const char *body;
        sql_order_status_t st;
        int32_t account;
        int64_t amount;
    } rows[] = {
        {"{\"account_id\":9991,\"amount\":5}", SQL_ORDER_OK, 9991, 5},
        {" {\"amount\" : 1000000, \"x\":[1,{\"amount\":0}], \"account_id\":1} ", SQL_ORDER_OK, 1,
         1000000},
        {"{\"account_id\":1,\"amount\":\"x\",\"amount\":2}", SQL_ORDER_OK, 1, 2},
        {"{\"account\\u005fid\":3,\"amount\":1}", SQL_ORDER_OK, 3, 1},
        {"", SQL_ORDER_INVALID_JSON, 0, 0}, {"{\"account_id\":1,\"amount\":1", SQL_ORDER_INVALID_JSON, 0, 0},
        {"[1,2]", SQL_ORDER_INVALID_JSON, 0, 0}, {"null", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":9991}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":\"9991\",\"amount\":1}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":9991,\"amount\":1.0}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":9991,\"amount\":1e2}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":9991,\"amount\":null}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"Account_ID\":9991,\"amount\":1}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":01,\"amount\":1}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":1,\"amount\":2,\"amount\":true}", SQL_ORDER_INVALID_JSON, 0, 0},
        {"{\"account_id\":9991,\"amount\":0}", SQL_ORDER_AMOUNT_RANGE, 0, 0},
        {"{\"account_id\":9991,\"amount\":-1}", SQL_ORDER_AMOUNT_RANGE, 0, 0},
        {"{\"account_id\":9991,\"amount\":-0}", SQL_ORDER_AMOUNT_RANGE, 0, 0},
        {"{\"account_id\":9991,\"amount\":1000001}", SQL_ORDER_AMOUNT_RANGE, 0, 0},
        {"{\"account_id\":0,\"amount\":100000000000000000000}", SQL_ORDER_AMOUNT_RANGE, 0, 0},
        {"{\"account_id\":0,\"amount\":1}", SQL_ORDER_NO_ACCOUNT, 0, 0},
        {"{\"account_id\":-9991,\"amount\":1}", SQL_ORDER_NO_ACCOUNT, 0, 0},
        {"{\"account_id\":2147483648,\"amount\":1}", SQL_ORDER_NO_ACCOUNT, 0, 0},
        {"{\"account_id\":123456789012345678901,\"amount\":1}", SQL_ORDER_NO_ACCOUNT, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int32_t account = 0;
        int64_t amount = 0;
        sql_order_status_t st =
            sql_parse_order(rows[i].body, strlen(rows[i].body), &account, &amount);
        if (st != rows[i].st ||
            (st == SQL_ORDER_OK && (account != rows[i].account || amount != rows[i].amount))) {
            fprintf(stderr, "    order %s: status %d (%d, %lld)\n", rows[i].body, (int)st,
                    account, (long long)amount);
            t_failures++;
        }
    }
    /* invalid UTF-8 is not JSON */
    CHECK_INT(sql_parse_order("{\"account_id\":1,\"amount\":1,\"n\":\"\xff\"}", 33, &(int32_t){0},
                              &(int64_t){0}),
              SQL_ORDER_INVALID_JSON);
}

T_MAIN(T(account_ids), T(id_lists), T(order_bodies))
