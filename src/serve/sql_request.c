#include "serve/sql_request.h"

#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include "codec/json.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decimal digits only (leading zeros allowed), 1..2147483647. */
static bool parse_id(const char *s, size_t n, int32_t *out)
{
    if (n == 0)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
        if (v > INT32_MAX)
            return false;
    }
    if (v < 1)
        return false;
    *out = (int32_t)v;
    return true;
}

/* Percent-decodes s[0..n) into dst (room for cap bytes); plus: '+' is a space (query
 * strings). -1 on a malformed escape, -2 when it does not fit. */
static ssize_t unescape(const char *s, size_t n, char *dst, size_t cap, bool plus)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++, o++) {
        if (o == cap)
            return -2;
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            dst[o] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dst[o] = plus && c == '+' ? ' ' : c;
        }
    }
    return (ssize_t)o;
}

/* The first value of `key` in a query string whose pair decodes, into dst (room for cap
 * bytes; -2 when it does not fit). -1 when there is none. */
static ssize_t query_value(const char *q, size_t len, const char *key, char *dst, size_t cap)
{
    size_t klen = strlen(key);
    const char *end = q + len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        const char *ke = eq ? eq : pe;
        char k[64];
        ssize_t kn = memchr(q, ';', (size_t)(pe - q))
                         ? -1
                         : unescape(q, (size_t)(ke - q), k, sizeof k, true);
        if (kn == (ssize_t)klen && memcmp(k, key, klen) == 0) {
            ssize_t vn = eq ? unescape(eq + 1, (size_t)(pe - eq - 1), dst, cap, true) : 0;
            if (vn != -1)
                return vn;
        }
        q = amp ? amp + 1 : end;
    }
    return -1;
}

int sql_parse_account(const char *seg, size_t n, int32_t *id)
{
    char raw[64]; /* longer: zeros padding an id, refused like any other overlong id */
    ssize_t len = unescape(seg, n, raw, sizeof raw, false);
    return len >= 0 && parse_id(raw, (size_t)len, id) ? 0 : -1;
}

int sql_parse_ids(const char *query, size_t n, int32_t ids[SQL_MAX_IDS])
{
    char list[512]; /* a valid list is shorter (unless it pads ids with zeros: refused) */
    ssize_t len = query_value(query, n, "ids", list, sizeof list);
    if (len <= 0)
        return -1;
    int nids = 0;
    for (ssize_t i = 0; i <= len;) {
        ssize_t j = i;
        while (j < len && list[j] != ',')
            j++;
        if (nids == SQL_MAX_IDS || !parse_id(list + i, (size_t)(j - i), &ids[nids]))
            return -1;
        nids++;
        i = j + 1;
    }
    return nids;
}

/* A JSON integer as written: -?(0|[1-9][0-9]*). */
static bool json_integer(const char *s, size_t n)
{
    if (n && *s == '-')
        s++, n--;
    if (n == 0 || (s[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A JSON integer (json_integer) within lo..hi, lo >= 1. */
static bool integer_in(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    if (*s == '-' || n > 18) /* 19 digits could overflow; hi is far below */
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    *out = v;
    return v >= lo && v <= hi;
}

sql_order_status_t sql_parse_order(const char *body, size_t n, int32_t *account, int64_t *amount)
{
    json_error_t err;
    json_members_t it;
    if (json_validate(body, n, &err) || json_members_begin(&it, body, n))
        return SQL_ORDER_INVALID_JSON;
    const char *name, *value, *acct = NULL, *amt = NULL;
    size_t name_len, value_len, acct_len = 0, amt_len = 0;
    while (json_members_next(&it, &name, &name_len, &value, &value_len)) {
        if (json_name_eq(name, name_len, "account_id"))
            acct = value, acct_len = value_len;
        else if (json_name_eq(name, name_len, "amount"))
            amt = value, amt_len = value_len;
    }
    if (!acct || !amt || !json_integer(acct, acct_len) || !json_integer(amt, amt_len))
        return SQL_ORDER_INVALID_JSON;
    int64_t a;
    if (!integer_in(amt, amt_len, 1, SQL_MAX_AMOUNT, amount))
        return SQL_ORDER_AMOUNT_RANGE;
    if (!integer_in(acct, acct_len, 1, INT32_MAX, &a))
        return SQL_ORDER_NO_ACCOUNT;
    *account = (int32_t)a;
    return SQL_ORDER_OK;
}
