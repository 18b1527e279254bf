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
