/* fmt: numbers for people: durations, sizes, counts, aligned in tables. */
#ifndef SB_CORE_FMT_H
#define SB_CORE_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- integers for programs: the hot paths (answer heads, rendered requests, csv answers) ---- */

/* Room for any 64-bit integer in decimal: "-9223372036854775808", "18446744073709551615". */
#define FMT_INT_MAX 20

/* The decimal digits of v at out (FMT_INT_MAX bytes of room), not NUL-terminated; returns
 * their count. No locale, no printf. */
static inline size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[FMT_INT_MAX];
    char *t = tmp + sizeof tmp;
    do {
        *--t = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(out, t, n);
    return n;
}

static inline size_t fmt_i64(char *out, int64_t v)
{
    if (v >= 0)
        return fmt_u64(out, (uint64_t)v);
    *out = '-';
    return 1 + fmt_u64(out + 1, 0 - (uint64_t)v);
}

/* ---- numbers for people ---- */

/* "812µs", "1.25ms", "3.40s": three significant digits, unit chosen by magnitude; "-" when
 * not finite or negative. */
void fmt_duration(char *out, size_t n, double ns);
/* "512B", "1.5KiB", "38.2MiB", "1.21GiB". */
void fmt_bytes(char *out, size_t n, double bytes);
/* A count or a rate: "441", "3.80k", "51.9k", "133k", "1.25M"; three significant digits from
 * 1000 up ("7.17", "0.52" below 10). "-" when not finite. */
void fmt_count(char *out, size_t n, double v);

#endif
