#include "codec/ticks.h"

#include <pthread.h>
#include <string.h>

/* 0, 1, ..., 255 repeated: message seq's payload starts at seq mod 256. */
static uint8_t pattern[TICKS_PAYLOAD_MAX + 256];
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void make_pattern(void)
{
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)i;
}

uint64_t ticks_symbol_hash(const char *symbol, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)symbol[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int64_t ticks_price(uint64_t h, uint64_t seq)
{
    uint64_t base = 10000000u + h % 990000000u;
    uint64_t z = h + seq + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (int64_t)(base + z % 2000001u) - 1000000;
}

bool ticks_symbol_ok(const char *s, size_t n)
{
    if (n < 1 || n > TICKS_SYMBOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            return false;
    return true;
}

const uint8_t *ticks_payload(uint64_t seq)
{
    pthread_once(&pattern_once, make_pattern);
    return pattern + seq % 256;
}

bool ticks_payload_ok(const uint8_t *p, size_t n, uint64_t seq)
{
    return n <= TICKS_PAYLOAD_MAX && (n == 0 || memcmp(p, ticks_payload(seq), n) == 0);
}

/* A varint at *p (before end): 0, or -1 when cut or longer than 10 bytes. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* The field at *p (before end), *p moved past it: its number, and a varint's value in *v or a
 * length-delimited one's bytes in *data (*v its length); fixed32/64 are skipped (*data NULL,
 * *v 0). 0, or -1 when malformed (cut, or a group). */
static int next_field(const uint8_t **p, const uint8_t *end, uint64_t *number, uint64_t *v,
                      const uint8_t **data)
{
    uint64_t key;
    *data = NULL;
    *v = 0;
    if (varint(p, end, &key))
        return -1;
    *number = key >> 3;
    switch (key & 7) {
    case 0:
        return varint(p, end, v);
    case 1:
    case 5: {
        size_t n = (key & 7) == 1 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return -1;
        *p += n;
        return 0;
    }
    case 2:
        if (varint(p, end, v) || *v > (uint64_t)(end - *p))
            return -1;
        *data = *p;
        *p += *v;
        return 0;
    default:
        return -1;
    }
}

bool ticks_tick_ok(const uint8_t *msg, size_t len, const char *symbol, size_t symlen,
                   uint64_t hash, uint64_t seq, size_t payload_bytes)
{
    const uint8_t *p = msg, *end = msg + len;
    const uint8_t *sym = NULL, *pay = NULL;
    uint64_t sym_n = 0, pay_n = 0, got_seq = 0, price = 0, ts = 0;
    while (p < end) {
        uint64_t field, v;
        const uint8_t *data;
        if (next_field(&p, end, &field, &v, &data))
            return false;
        if (data && field == 1) {
            sym = data;
            sym_n = v;
        } else if (data && field == 5) {
            pay = data;
            pay_n = v;
        } else if (!data && field == 2) {
            got_seq = v;
        } else if (!data && field == 3) {
            price = v;
        } else if (!data && field == 4) {
            ts = v;
        }
    }
    return sym_n == symlen && (symlen == 0 || memcmp(sym, symbol, symlen) == 0) &&
           got_seq == seq && (int64_t)price == ticks_price(hash, seq) && ts != 0 &&
           pay_n == payload_bytes && (pay_n == 0 || ticks_payload_ok(pay, pay_n, seq));
}

int ticks_bytes_field(const uint8_t *msg, size_t len, unsigned field, const uint8_t **out,
                      size_t *n)
{
    const uint8_t *p = msg, *end = msg + len;
    *out = NULL;
    *n = 0;
    while (p < end) {
        uint64_t number, v;
        const uint8_t *data;
        if (next_field(&p, end, &number, &v, &data))
            return -1;
        if (data && number == field) {
            *out = data;
            *n = (size_t)v;
        }
    }
    return 0;
}
