/* csv: the parser and aggregator of the `csv` workload (contracts/csv.md).
 *
 * ## How a body is read
 *
 * None of the four field grammars allows `,`, `"`, CR or LF. So fields need no separate
 * tokenizing pass and no unescaping: each field is read by a matcher for its own grammar,
 * straight from the body, and what matters is where the matcher stops.
 *
 * The record fast path (SSE2) takes one 64-byte mask of the `,` and LF bytes at the record's
 * start; its four lowest bits are the record's delimiters. Each field's matcher must end exactly
 * at its delimiter (the fourth before LF or CR LF; symbol and price may be quoted), and the
 * delimiters must be `,` `,` `,` LF. A record that passes holds no quote except around a whole
 * symbol or price, so its delimiters are real and the record is exactly what was matched: it
 * is aggregated without a byte copied or allocated. Knowing every field's start up front
 * matters for speed: the four matchers do not wait for each other, and the next record's start
 * depends only on the mask, not on every field of this one read in turn (that chain of
 * dependent instructions, not the instruction count, bounded the first version of this loop).
 *
 * Everything else (an error, quoted timestamps or quantities, `""`, more than 64 bytes, the
 * body's last 128 bytes, or machines without SSE2) goes to careful_record(), which reads the
 * record field by field: a field's own matcher where the terminator follows it, else
 * slow_field(), which finds the field's structure with an SSE2 scan for the structural bytes
 * (quote errors are found there) and copies the value into a small buffer padded with NUL
 * bytes, where the same matcher runs and must match it whole. Matchers stop at a NUL as at any
 * delimiter, so every path accepts exactly the same values; the fuzz target checks all of them
 * against a byte-by-byte reference. A quoted value is checked as it stands between its quotes:
 * `""` leaves a `"` in it, and as no grammar allows `"`, unescaping could not make it valid.
 *
 * The matchers read wide and branch little where the data varies: digit runs 8 bytes at a time
 * in a uint64_t (SWAR: the run length from one mask, the value from three multiplications, a
 * price's integer and decimals in one go with the point taken out), the fixed part of an
 * RFC 3339 timestamp as two vectors checked against a template, a symbol as one vector
 * (classified in a few compares; masked to the symbol's length, it is also the hash key). They
 * may read up to 36 bytes from a field's start whatever the field holds, hence the room kept at
 * the end of the body (FAST_ROOM) before a fast path is taken.
 *
 * ## Which error is reported (shared with peers/go and peers/rust)
 *
 * The first error in the body. Records are read in order; within a record, each field is
 * checked as it completes, left to right:
 *   - a quote error (`unterminated quote`, `bare quote`) belongs to the field it is in and is
 *     found before that field completes, so after the fields before it were checked and before
 *     its own value is; a `"` in an unquoted field, and anything but `,`, LF, CR LF or the end
 *     of the body after a closing quote, are `bare quote`;
 *   - a fifth field is an error as soon as it starts, that is at the `,` that ends the fourth
 *     field once the fourth was checked: `wrong field count`, column 5, whatever follows;
 *   - a record that ends after k < 4 fields fails once its k fields were checked: `wrong field
 *     count`, column k + 1.
 * `line` is the line the record starts on: every LF before it counts (empty lines and LFs
 * inside quoted fields included).
 *
 * ## Line ends and CR
 *
 * A line end is LF or CR LF. A CR that is not immediately followed by LF is data: inside an
 * unquoted field it is part of the value (which no grammar allows: the field is then bad), at
 * the end of the body it ends nothing, and after a closing quote it is a `bare quote`. A
 * record is empty, and skipped, only when its line is empty (LF, or CR LF, right at the
 * record's start): `""` alone or a lone CR is a record of one field.
 *
 * ## Header
 *
 * The first record that is not an empty line is the header, and skipped, when it is exactly
 * four fields `timestamp,symbol,price,quantity`, ASCII case-insensitive, each quoted or not,
 * followed by a line end or the end of the body. Otherwise it is a trade like the others.
 *
 * ## Numbers
 *
 * A price is at most 18 digits: its digits as a uint64_t m and its number of decimals k give
 * m / 10^k. When m <= 2^53, m and 10^k (k <= 8) are exact doubles and one IEEE division is
 * correctly rounded (Clinger's fast path); larger mantissas (16+ significant digits) go to
 * strtod, correctly rounded too. The aggregate adds `price * quantity` one multiplication and
 * one addition at a time, with FP_BARRIER keeping the compiler from fusing them (GCC's default
 * -ffp-contract=fast would emit an FMA whenever the target has one, e.g. -march=native).
 * The answer's `%.6f` numbers are written from the double's exact binary value with 128-bit
 * integer arithmetic, rounded half to even, exactly as printf does (fmt6). */
#include "codec/csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/fmt.h"

#if defined(__SSE2__) && !defined(CSV_NO_SSE2)
#define CSV_SSE2 1
#include <emmintrin.h>
#endif

#if defined(CSV_SSE2) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the SSE2 paths assume a little-endian machine"
#endif

#define COLD __attribute__((noinline, cold))

/* The reasons go into JSON as they are: no '"' and no '\\'. */
static const char R_UNTERMINATED[] = "unterminated quote";
static const char R_BARE_QUOTE[] = "bare quote";
static const char R_FIELD_COUNT[] = "wrong field count";
static const char R_TIMESTAMP[] = "bad timestamp";
static const char R_SYMBOL[] = "bad symbol";
static const char R_PRICE[] = "bad price";
static const char R_QUANTITY[] = "bad quantity";

/* The matchers read at most 36 bytes from where they start (a quoted timestamp with nine
 * decimals and an offset); FAST_ROOM leaves room for that and for the terminator checks after
 * them. The record fast path wants 2 * FAST_ROOM: its 64-byte mask, then a matcher at the end. */
#define FAST_ROOM 64
/* The longest value any grammar accepts is 35 bytes (2026-11-23T08:15:30.123456789+05:30). */
#define VALUE_MAX 40

/* One double multiplication that stays one: the value must be in a register as a double
 * before the addition that follows, so no fused multiply-add can be formed. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#define FP_BARRIER(x) __asm__("" : "+x"(x))
#elif defined(__GNUC__) && defined(__aarch64__)
#define FP_BARRIER(x) __asm__("" : "+w"(x))
#else
#define FP_BARRIER(x)                                                                             \
    do {                                                                                          \
        volatile double fp_barrier_ = (x);                                                        \
        (x) = fp_barrier_;                                                                        \
    } while (0)
#endif

/* ---- 8 bytes at a time ---- */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define BYTE(i, v) ((uint64_t)(uint8_t)(v) << (8 * (i)))

/* 8 bytes with p[0] in the low byte, whatever the machine's byte order. */
static ALWAYS_INLINE uint64_t load64le(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static ALWAYS_INLINE int is_digit(char c) { return (unsigned)((unsigned char)c - '0') < 10; }

/* Bit 7 of each byte of w that is not an ASCII digit. b = w ^ '0' is 0..9 for a digit; adding
 * 0x76 to the low 7 bits of b sets bit 7 exactly when they are above 9, and b's own bit 7 is
 * set for bytes >= 0x80. No carry crosses a byte: (b & 0x7f) + 0x76 <= 0xf5. */
static ALWAYS_INLINE uint64_t nondigits(uint64_t w)
{
    uint64_t b = w ^ (ONES * '0');
    return (((b & ~HIGHS) + ONES * 0x76) | b) & HIGHS;
}

/* Number of ASCII digits w starts with, 0..8. */
static ALWAYS_INLINE unsigned digit_run(uint64_t w)
{
    uint64_t nd = nondigits(w);
    return nd ? (unsigned)__builtin_ctzll(nd) >> 3 : 8;
}

/* The value of the first n (1..8) bytes of w, all digits. Shifting them to the top leaves zero
 * bytes (leading zeros) below; then pairs, quads and octets are combined by multiplication. */
static ALWAYS_INLINE uint64_t digits_value(uint64_t w, unsigned n)
{
    uint64_t v = (w & (ONES * 0x0f)) << (8 * (8 - n));
    v = (v * (1 + (10 << 8))) >> 8 & 0x00ff00ff00ff00ffull;
    v = (v * (1 + (100 << 16))) >> 16 & 0x0000ffff0000ffffull;
    return (v * (1 + (10000ull << 32))) >> 32;
}

/* Each byte i of the result is 10 * d[i] + d[i + 1], d being w's low nibbles: two-digit
 * numbers wherever w has two digits in a row (garbage elsewhere, but no carry between bytes,
 * as 10 * 15 + 15 < 256). */
static ALWAYS_INLINE uint64_t digit_pairs(uint64_t w)
{
    uint64_t d = w & (ONES * 0x0f);
    return d * 10 + (d >> 8);
}

#define PAIR(t, i) ((unsigned)((t) >> (8 * (i))) & 0xff)

static const uint64_t POW10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
static const double POW10D[9] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};

/* ---- matchers ----
 * Each reads one value of its grammar starting at p and returns where the value ends, or NULL
 * when p does not start with a value of the grammar. They stop at the first byte that cannot
 * continue the value (a terminator, a quote, a NUL of slow_field's padding...): the caller
 * checks that byte. They may read FAST_ROOM bytes from p. */

/* days in each month, February of a common year; 0 for the months that do not exist (the
 * template check below lets months up to 19 through) */
static const uint8_t MDAYS[20] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* The rest of a timestamp after its seconds: [.fraction](Z|+HH:MM|-HH:MM), q at p + 19.
 * The usual cases (a fraction of up to 7 digits or none, then Z or an offset) take one 8-byte
 * word for the fraction's digits and one for the zone, whose offset form is checked whole
 * against a template. (A version without any branch on these choices measured slower: the
 * two branches left are predicted better than their data looks.) */
static ALWAYS_INLINE const char *match_rfc3339_tail(const char *q)
{
    unsigned dot = *q == '.';
    unsigned n = digit_run(load64le(q + 1));
    if (LIKELY(n < 8) && LIKELY(n | !dot)) {
        q += dot ? 1 + n : 0;
        /* Z, or sHH:MM with the tens of the hours at most 2 and of the minutes at most 5 */
        uint64_t w = load64le(q);
        uint64_t x = w ^ (BYTE(1, '0') | BYTE(2, '0') | BYTE(3, ':') | BYTE(4, '0') | BYTE(5, '0'));
        unsigned sign = (uint8_t)w == '+' || (uint8_t)w == '-';
        unsigned hh = (unsigned)(x >> 8 & 0xff) * 10 + (unsigned)(x >> 16 & 0xff);
        unsigned offset = sign & ((x >> 8 & 0xff) <= 2) & ((x >> 16 & 0xff) <= 9) &
                          ((x >> 24 & 0xff) == 0) & ((x >> 32 & 0xff) <= 5) &
                          ((x >> 40 & 0xff) <= 9) & (hh < 24);
        if ((uint8_t)w == 'Z')
            return q + 1;
        return offset ? q + 6 : NULL;
    }
    if (dot) { /* eight digits or more, or none */
        if (n == 0)
            return NULL;
        if (n == 8 && is_digit(q[9])) {
            if (is_digit(q[10]))
                return NULL; /* ten digits or more */
            n = 9;
        }
        q += 1 + n;
    }
    if (LIKELY(*q == 'Z'))
        return q + 1;
    if (*q != '+' && *q != '-')
        return NULL;
    if (!is_digit(q[1]) || !is_digit(q[2]) || q[3] != ':' || !is_digit(q[4]) || !is_digit(q[5]))
        return NULL;
    unsigned hh = (unsigned)(q[1] - '0') * 10 + (unsigned)(q[2] - '0');
    unsigned mm = (unsigned)(q[4] - '0') * 10 + (unsigned)(q[5] - '0');
    return hh < 24 && mm < 60 ? q + 6 : NULL;
}

/* A real date: month 1..12 (up to 19 may come in), day 1..days in the month. */
static ALWAYS_INLINE int bad_date(unsigned year, unsigned month, unsigned day)
{
    if (LIKELY(day - 1 < MDAYS[month]))
        return 0;
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return !(month == 2 && day == 29 && leap);
}

#ifdef CSV_SSE2
/* The fixed part YYYY-MM-DDTHH:MM:SS in two vectors (bytes 0..15 and 3..18), each byte xored
 * with a template ('0' where a digit goes, the separator itself elsewhere) and compared with
 * the largest value allowed there: 9 for a digit, 0 for a separator, and the tens of month,
 * day, hour, minute and second limited to 1, 3, 2, 5 and 5. A byte c passes "c ^ '0' <= k"
 * exactly when it is one of the digits 0..k. One saturating subtraction per vector finds every
 * byte over its limit. What the limits leave open is checked on the numbers: month 0 and
 * 13..19, days past the month's end, hours 24..29. Minutes and seconds are done. */
static const char RFC_T0[16] = "0000-00-00T00:00";
static const uint8_t RFC_L0[16] = {9, 9, 9, 9, 0, 1, 9, 0, 3, 9, 0, 2, 9, 0, 5, 9};
static const char RFC_T1[16] = {[13] = ':', [14] = '0', [15] = '0'};
static const uint8_t RFC_L1[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0,    5,    9};

static ALWAYS_INLINE const char *match_rfc3339(const char *p, uint64_t w0)
{
    (void)w0;
    __m128i v0 = _mm_loadu_si128((const __m128i *)p);
    __m128i v1 = _mm_loadu_si128((const __m128i *)(p + 3));
    __m128i over = _mm_or_si128(
        _mm_subs_epu8(_mm_xor_si128(v0, _mm_loadu_si128((const __m128i *)RFC_T0)),
                      _mm_loadu_si128((const __m128i *)RFC_L0)),
        _mm_subs_epu8(_mm_xor_si128(v1, _mm_loadu_si128((const __m128i *)RFC_T1)),
                      _mm_loadu_si128((const __m128i *)RFC_L1)));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(over, _mm_setzero_si128())) != 0xffff)
        return NULL;
    /* "YYYY-MM-" and "DDTHH:MM" */
    uint64_t t0 = digit_pairs((uint64_t)_mm_cvtsi128_si64(v0));
    uint64_t t1 = digit_pairs((uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v0, v0)));
    unsigned month = PAIR(t0, 5), day = PAIR(t1, 0);
    if (UNLIKELY(PAIR(t1, 3) >= 24) ||
        UNLIKELY(bad_date(PAIR(t0, 0) * 100 + PAIR(t0, 2), month, day)))
        return NULL;
    return match_rfc3339_tail(p + 19);
}
#else
/* YYYY-MM-DDTHH:MM:SS, then [.fraction](Z|+HH:MM|-HH:MM), p starting with 4 digits and '-'. */
static ALWAYS_INLINE const char *match_rfc3339(const char *p, uint64_t w0)
{
    /* w0 = "YYYY-MM-", w1 = "DDTHH:MM", w2 = "HH:MM:SS" (bytes 11..18, overlapping w1) */
    uint64_t w1 = load64le(p + 8), w2 = load64le(p + 11);
    const uint64_t d0 = HIGHS & ~(BYTE(4, 0xff) | BYTE(7, 0xff));
    const uint64_t d1 = HIGHS & ~(BYTE(2, 0xff) | BYTE(5, 0xff));
    const uint64_t d2 = BYTE(6, 0x80) | BYTE(7, 0x80);
    const uint64_t m0 = BYTE(4, 0xff) | BYTE(7, 0xff), v0 = BYTE(4, '-') | BYTE(7, '-');
    const uint64_t m1 = BYTE(2, 0xff) | BYTE(5, 0xff), v1 = BYTE(2, 'T') | BYTE(5, ':');
    const uint64_t m2 = BYTE(5, 0xff), v2 = BYTE(5, ':');
    if ((nondigits(w0) & d0) | (nondigits(w1) & d1) | (nondigits(w2) & d2) | ((w0 & m0) ^ v0) |
        ((w1 & m1) ^ v1) | ((w2 & m2) ^ v2))
        return NULL;
    uint64_t t0 = digit_pairs(w0), t1 = digit_pairs(w1), t2 = digit_pairs(w2);
    unsigned month = PAIR(t0, 5), day = PAIR(t1, 0);
    if ((month - 1 >= 12) | (PAIR(t1, 3) >= 24) | (PAIR(t1, 6) >= 60) | (PAIR(t2, 6) >= 60))
        return NULL;
    if (bad_date(PAIR(t0, 0) * 100 + PAIR(t0, 2), month, day))
        return NULL;
    return match_rfc3339_tail(p + 19);
}
#endif

/* [0-9]{1,15} (epoch milliseconds) or RFC 3339. Only checked: the value is not used. */
static ALWAYS_INLINE const char *match_timestamp(const char *p)
{
    uint64_t w0 = load64le(p);
    unsigned n = digit_run(w0);
    if (n == 4 && p[4] == '-')
        return match_rfc3339(p, w0);
    if (n < 8)
        return n ? p + n : NULL;
    n = 8 + digit_run(load64le(p + 8));
    return n <= 15 ? p + n : NULL;
}

/* A symbol's key: its bytes, NUL-padded to 16. Symbols hold no NUL, so two keys are equal
 * exactly when the symbols are, and comparing keys as big-endian numbers orders symbols
 * bytewise (a shorter symbol's padding sorts before any byte). */
typedef struct {
    uint64_t lo, hi; /* bytes 0..7 and 8..15, in memory order */
} symkey_t;

#ifdef CSV_SSE2
/* n bytes of 0xff then zeros, loaded from MASK_SRC + 16 - n */
static const uint8_t MASK_SRC[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
#endif

/* [A-Za-z0-9._-], as a table for the bytes looked at one at a time */
static const uint8_t SYMBOL_CHAR[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['.'] = 1, ['_'] = 1, ['-'] = 1,
};

/* [A-Za-z0-9._-]{1,16}; *k gets the key. */
static ALWAYS_INLINE const char *match_symbol(const char *p, symkey_t *k)
{
#ifdef CSV_SSE2
    /* One vector. A range lo..hi is one signed compare once lo is moved to -128 (adding
     * 0x80 - lo, wrapping): the range becomes -128..-128 + hi - lo, and every other byte is
     * above it. Letters are the bytes whose value | 0x20 is in a..z (that maps exactly A..Z
     * and a..z there); '-' '.' and the digits are 0x2d..0x39 without '/'; '_' alone. */
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    __m128i letter = _mm_cmplt_epi8(
        _mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8((char)(0x80 - 'a'))),
        _mm_set1_epi8((char)(0x80 + 'z' - 'a' + 1)));
    __m128i dignum = _mm_andnot_si128(
        _mm_cmpeq_epi8(v, _mm_set1_epi8('/')),
        _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '-'))),
                       _mm_set1_epi8((char)(0x80 + '9' - '-' + 1))));
    __m128i under = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
    unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, dignum), under));
    unsigned n = (unsigned)__builtin_ctz(~ok); /* <= 16: ~ok has bit 16 set */
    if (UNLIKELY(n == 0))
        return NULL;
    if (UNLIKELY(n == 16) && SYMBOL_CHAR[(uint8_t)p[16]])
        return NULL; /* 17 characters or more */
    v = _mm_and_si128(v, _mm_loadu_si128((const __m128i *)(MASK_SRC + 16 - n)));
    k->lo = (uint64_t)_mm_cvtsi128_si64(v);
    k->hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v));
    return p + n;
#else
    unsigned n = 0;
    while (n <= 16 && SYMBOL_CHAR[(uint8_t)p[n]])
        n++;
    if (n == 0 || n > 16)
        return NULL;
    char b[16] = {0};
    memcpy(b, p, n);
    memcpy(&k->lo, b, 8);
    memcpy(&k->hi, b + 8, 8);
    return p + n;
#endif
}

/* strtod for the rare price with 16 or more significant digits (p..q: at most 19 bytes of the
 * price grammar). strtod takes the decimal point of the current locale; nothing in stackbench
 * calls setlocale, so that is the C locale's '.'. */
static COLD double price_strtod(const char *p, const char *q)
{
    char tmp[32];
    size_t n = (size_t)(q - p);
    memcpy(tmp, p, n);
    tmp[n] = 0;
    return strtod(tmp, NULL);
}

/* [0-9]{1,10}(\.[0-9]{1,8})?; *price gets the nearest double. */
static ALWAYS_INLINE const char *match_price(const char *p, double *price)
{
    uint64_t w = load64le(p);
    unsigned n = digit_run(w);
    const char *q;
    uint64_t m;
    if (LIKELY(n - 1 < 6) && ((w >> (8 * n)) & 0xff) == '.') {
        /* Integer and fraction in the first 8 bytes, the usual case: the point taken out (the
         * bytes above it moved down one), one digit run and one conversion read both. The top
         * byte becomes 0, so the run ends by byte 7; when it reaches it, the fraction ends
         * there only if p[8] is no digit, else it is read the general way below. */
        uint64_t low = (1ull << (8 * n)) - 1;
        uint64_t c = (w & low) | ((w >> 8) & ~low);
        unsigned t = digit_run(c);
        if (LIKELY((t > n) & ((t < 7) | !is_digit(p[8])))) { /* no branch on the lengths */
            unsigned k = t - n;
            *price = (double)digits_value(c, t) / POW10D[k]; /* < 10^7: exact, one rounding */
            return p + t + 1;
        }
        if (t == n)
            return NULL; /* a point and no decimals */
    }
    if (LIKELY(n - 1 < 7)) { /* 1..7 digits */
        m = digits_value(w, n);
        q = p + n;
    } else if (n == 0) {
        return NULL;
    } else {
        m = digits_value(w, 8);
        q = p + 8;
        while (is_digit(*q)) {
            if (q - p == 10)
                return NULL; /* eleven digits or more */
            m = m * 10 + (uint64_t)(*q - '0');
            q++;
        }
    }
    unsigned k = 0;
    if (*q == '.') {
        uint64_t wf = load64le(q + 1);
        k = digit_run(wf);
        if (k == 0 || (k == 8 && is_digit(q[9])))
            return NULL;
        m = m * POW10[k] + digits_value(wf, k);
        q += 1 + k;
    }
    if (LIKELY(m <= (1ull << 53)))
        *price = (double)m / POW10D[k];
    else
        *price = price_strtod(p, q);
    return q;
}

/* [0-9]{1,9}, at least 1. */
static ALWAYS_INLINE const char *match_quantity(const char *p, uint64_t *qty)
{
    uint64_t w = load64le(p);
    unsigned n = digit_run(w);
    uint64_t v;
    if (LIKELY(n - 1 < 7)) {
        v = digits_value(w, n);
    } else if (n == 0) {
        return NULL;
    } else {
        v = digits_value(w, 8);
        if (is_digit(p[8])) {
            if (is_digit(p[9]))
                return NULL; /* ten digits or more */
            v = v * 10 + (uint64_t)(p[8] - '0');
            n = 9;
        }
    }
    *qty = v;
    return v ? p + n : NULL;
}

/* ---- structure: the slow path ---- */

/* First byte at or after p among , " CR LF; end if none. */
static inline const char *find_special(const char *p, const char *end)
{
#ifdef CSV_SSE2
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
#define SPECIAL(v)                                                                                \
    (unsigned)_mm_movemask_epi8(                                                                  \
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, quote)),            \
                     _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf))))
    while (end - p >= 16) {
        unsigned m = SPECIAL(_mm_loadu_si128((const __m128i *)p));
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#undef SPECIAL
#endif
    while (p < end && *p != ',' && *p != '"' && *p != '\r' && *p != '\n')
        p++;
    return p;
}

/* First '"' or LF at or after p; end if none. */
static inline const char *find_quote_lf(const char *p, const char *end)
{
#ifdef CSV_SSE2
    const __m128i quote = _mm_set1_epi8('"'), lf = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, lf)));
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\n')
        p++;
    return p;
}

#ifdef CSV_SSE2
/* Bit i set when s[i] is ',' or LF, for the 64 bytes at s. */
static ALWAYS_INLINE uint64_t delims64(const char *s)
{
    const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n');
#define DELIMS(i)                                                                                 \
    ((uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(                                          \
         _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + 16 * (i))), comma),                 \
         _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + 16 * (i))), lf)))                   \
     << (16 * (i)))
    return DELIMS(0) | DELIMS(1) | DELIMS(2) | DELIMS(3);
#undef DELIMS
}
#endif

enum { T_COMMA, T_EOL, T_EOF };

typedef struct {
    const char *next; /* just past the terminator */
    int term;         /* T_COMMA, T_EOL (LF or CR LF) or T_EOF */
    size_t lfs;       /* LFs inside the quotes (the caller's line count is not passed by
                       * address: it stays in a register) */
    size_t len;       /* the value's length; over VALUE_MAX, the value is not copied */
    /* the value, then NUL bytes: room for the matchers' reads */
    char pad[VALUE_MAX + FAST_ROOM];
} field_t;

/* One field from p, its structure checked the general way: NULL with f filled in, or the
 * quote error (the field's own, as nothing of it has been checked yet). LFs inside a quoted
 * field are counted in f->lfs, also on error. */
static COLD const char *slow_field(const char *p, const char *end, field_t *f)
{
    const char *v = p, *q;
    f->lfs = 0;
    if (p < end && *p == '"') {
        v = q = p + 1;
        for (;;) {
            q = find_quote_lf(q, end);
            if (q == end)
                return R_UNTERMINATED;
            if (*q == '\n') {
                f->lfs++;
                q++;
            } else if (q + 1 < end && q[1] == '"') {
                q += 2; /* "" is a quote in the value */
            } else {
                break;
            }
        }
        f->len = (size_t)(q - v);
        q++; /* the closing quote */
        if (q == end) {
            f->term = T_EOF;
            f->next = end;
        } else if (*q == ',') {
            f->term = T_COMMA;
            f->next = q + 1;
        } else if (*q == '\n') {
            f->term = T_EOL;
            f->next = q + 1;
        } else if (*q == '\r' && q + 1 < end && q[1] == '\n') {
            f->term = T_EOL;
            f->next = q + 2;
        } else {
            return R_BARE_QUOTE;
        }
    } else {
        q = p;
        for (;;) {
            q = find_special(q, end);
            if (q == end) {
                f->term = T_EOF;
                f->next = end;
                break;
            }
            if (*q == ',') {
                f->term = T_COMMA;
                f->next = q + 1;
                break;
            }
            if (*q == '\n') {
                f->term = T_EOL;
                f->next = q + 1;
                break;
            }
            if (*q == '"')
                return R_BARE_QUOTE;
            if (q + 1 < end && q[1] == '\n') { /* CR LF */
                f->term = T_EOL;
                f->next = q + 2;
                break;
            }
            q++; /* a CR alone is data */
        }
        f->len = (size_t)(q - v);
    }
    memset(f->pad, 0, sizeof f->pad);
    if (f->len <= VALUE_MAX)
        memcpy(f->pad, v, f->len);
    return NULL;
}

/* ---- header ---- */

/* The header when the record at p (not an empty line) is one: where the next record starts
 * (*line counted); p otherwise. */
static const char *skip_header(const char *p, const char *end, size_t *line)
{
    static const char *const names[4] = {"timestamp", "symbol", "price", "quantity"};
    const char *q = p;
    for (int k = 0; k < 4; k++) {
        size_t n = strlen(names[k]);
        bool quoted = q < end && *q == '"';
        q += quoted;
        if ((size_t)(end - q) < n)
            return p;
        for (size_t i = 0; i < n; i++)
            if ((q[i] | 0x20) != names[k][i]) /* names are lower-case letters */
                return p;
        q += n;
        if (quoted) {
            if (q == end || *q != '"')
                return p;
            q++;
        }
        if (k < 3) {
            if (q == end || *q != ',')
                return p;
            q++;
        }
    }
    if (q == end)
        return q;
    if (*q == '\n') {
        (*line)++;
        return q + 1;
    }
    if (*q == '\r' && q + 1 < end && q[1] == '\n') {
        (*line)++;
        return q + 2;
    }
    return p;
}

/* ---- the symbol table ---- */

/* 256 slots: the 50-odd symbols of a typical body fill a fifth of them, so most lookups find
 * their symbol in the first slot */
#define INDEX_MIN 256

static ALWAYS_INLINE uint64_t key_hash(symkey_t k)
{
    /* the top bits of a product depend on every bit of the multiplicand: the index is taken
     * from them */
    return k.lo * 0x9E3779B97F4A7C15ull ^ k.hi * 0xD6E8FEB86659FD93ull;
}

static ALWAYS_INLINE symkey_t sym_key(const csv_symbol_t *s)
{
    symkey_t k;
    memcpy(&k.lo, s->symbol, 8);
    memcpy(&k.hi, s->symbol + 8, 8);
    return k;
}

static ALWAYS_INLINE unsigned index_shift(size_t cap) { return 64 - (unsigned)__builtin_ctzll(cap); }

void csv_agg_init(csv_agg_t *a) { memset(a, 0, sizeof *a); }

void csv_agg_free(csv_agg_t *a)
{
    free(a->syms);
    free(a->index);
    memset(a, 0, sizeof *a);
}

void csv_agg_reset(csv_agg_t *a)
{
    if (a->index) {
        if (a->index_cap > 4096 && a->nsyms * 16 < a->index_cap) {
            /* A table grown by an earlier body with many symbols, mostly empty: clear the
             * slots in use rather than the whole table. Slots already cleared are walked over
             * (each symbol's slot lies on its probe path, which cannot stop at them). */
            size_t mask = a->index_cap - 1;
            unsigned shift = index_shift(a->index_cap);
            for (size_t j = 0; j < a->nsyms; j++) {
                size_t i = key_hash(sym_key(&a->syms[j])) >> shift;
                while (a->index[i] != j + 1)
                    i = (i + 1) & mask;
                a->index[i] = 0;
            }
        } else {
            memset(a->index, 0, a->index_cap * sizeof *a->index);
        }
    }
    a->rows = 0;
    a->nsyms = 0;
}

/* A new symbol with its first trade. 0, or -1 when out of memory. Grows the index at 50% load
 * and syms[] by doubling; the caller reloads both. */
static COLD int sym_insert(csv_agg_t *a, size_t slot, symkey_t k, double price, uint64_t qty)
{
    if (a->nsyms >= UINT32_MAX - 1)
        return -1;
    if (a->nsyms == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        csv_symbol_t *s = realloc(a->syms, cap * sizeof *s);
        if (!s)
            return -1;
        a->syms = s;
        a->cap = cap;
    }
    if ((a->nsyms + 1) * 2 > a->index_cap) {
        size_t cap = a->index_cap * 2, mask = cap - 1;
        unsigned shift = index_shift(cap);
        uint32_t *idx = calloc(cap, sizeof *idx);
        if (!idx)
            return -1;
        for (size_t j = 0; j < a->nsyms; j++) {
            size_t i = key_hash(sym_key(&a->syms[j])) >> shift;
            while (idx[i])
                i = (i + 1) & mask;
            idx[i] = (uint32_t)(j + 1);
        }
        free(a->index);
        a->index = idx;
        a->index_cap = cap;
        slot = key_hash(k) >> shift;
        while (idx[slot])
            slot = (slot + 1) & mask;
    }
    csv_symbol_t *s = &a->syms[a->nsyms];
    memset(s, 0, sizeof *s);
    memcpy(s->symbol, &k.lo, 8);
    memcpy(s->symbol + 8, &k.hi, 8);
    s->len = (uint8_t)strlen(s->symbol);
    s->count = 1;
    s->quantity = qty;
    s->min_price = s->max_price = price;
    double pq = price * (double)qty;
    FP_BARRIER(pq);
    s->sum_pq = pq;
    a->index[slot] = (uint32_t)++a->nsyms;
    return 0;
}

/* ---- the body ---- */

/* One record read field by field: the general way, for what the record fast path leaves. */
typedef struct {
    symkey_t key;
    double price;
    uint64_t qty;
    size_t line;     /* in: the record's line; out: the next record's (LFs in quotes counted) */
    unsigned col;    /* on error: the field at fault */
    const char *why; /* on error: the reason */
} record_t;

/* The record at p, each field by its own fast path (unquoted, or quoted with nothing special
 * inside) when FAST_ROOM bytes remain, else by slow_field. Returns where the next record
 * starts, or NULL with r->col and r->why set. Out of the main loop, so that the loop keeps its
 * variables in registers. */
static COLD const char *careful_record(const char *p, const char *end, record_t *r)
{
    const char *q;
    field_t f;

    /* 1: timestamp */
    if (LIKELY(end - p >= FAST_ROOM)) {
        q = match_timestamp(p);
        if (LIKELY(q && *q == ',')) {
            p = q + 1;
            goto symbol;
        }
        if (*p == '"' && (q = match_timestamp(p + 1)) && q[0] == '"' && q[1] == ',') {
            p = q + 2;
            goto symbol;
        }
    }
    r->col = 1;
    if ((r->why = slow_field(p, end, &f)))
        return NULL;
    r->line += f.lfs;
    r->why = R_TIMESTAMP;
    if (f.len > VALUE_MAX || match_timestamp(f.pad) != f.pad + f.len)
        return NULL;
    if (f.term != T_COMMA)
        goto too_few;
    p = f.next;

symbol:
    if (LIKELY(end - p >= FAST_ROOM)) {
        q = match_symbol(p, &r->key);
        if (LIKELY(q && *q == ',')) {
            p = q + 1;
            goto price;
        }
        if (*p == '"' && (q = match_symbol(p + 1, &r->key)) && q[0] == '"' && q[1] == ',') {
            p = q + 2;
            goto price;
        }
    }
    r->col = 2;
    if ((r->why = slow_field(p, end, &f)))
        return NULL;
    r->line += f.lfs;
    r->why = R_SYMBOL;
    if (f.len > VALUE_MAX || match_symbol(f.pad, &r->key) != f.pad + f.len)
        return NULL;
    if (f.term != T_COMMA)
        goto too_few;
    p = f.next;

price:
    if (LIKELY(end - p >= FAST_ROOM)) {
        q = match_price(p, &r->price);
        if (LIKELY(q && *q == ',')) {
            p = q + 1;
            goto quantity;
        }
        if (*p == '"' && (q = match_price(p + 1, &r->price)) && q[0] == '"' && q[1] == ',') {
            p = q + 2;
            goto quantity;
        }
    }
    r->col = 3;
    if ((r->why = slow_field(p, end, &f)))
        return NULL;
    r->line += f.lfs;
    r->why = R_PRICE;
    if (f.len > VALUE_MAX || match_price(f.pad, &r->price) != f.pad + f.len)
        return NULL;
    if (f.term != T_COMMA)
        goto too_few;
    p = f.next;

quantity:
    if (LIKELY(end - p >= FAST_ROOM)) {
        q = match_quantity(p, &r->qty);
        if (!q && *p == '"') {
            const char *u = match_quantity(p + 1, &r->qty);
            q = u && *u == '"' ? u + 1 : NULL;
        }
        if (q) {
            if (*q == '\n') {
                r->line++;
                return q + 1;
            }
            if (*q == '\r' && q[1] == '\n') {
                r->line++;
                return q + 2;
            }
        }
    }
    r->col = 4;
    if ((r->why = slow_field(p, end, &f)))
        return NULL;
    r->line += f.lfs;
    r->why = R_QUANTITY;
    if (f.len > VALUE_MAX || match_quantity(f.pad, &r->qty) != f.pad + f.len)
        return NULL;
    if (f.term == T_COMMA) {
        r->col = 5; /* a fifth field starts */
        r->why = R_FIELD_COUNT;
        return NULL;
    }
    r->line += f.term == T_EOL;
    return f.next;

too_few:
    r->col++; /* the record ended after `col` fields: the first one missing */
    r->why = R_FIELD_COUNT;
    return NULL;
}

int csv_aggregate(const char *body, size_t len, csv_agg_t *a, csv_error_t *err)
{
    if (!a->index) {
        a->index = calloc(INDEX_MIN, sizeof *a->index);
        if (!a->index)
            return -2;
        a->index_cap = INDEX_MIN;
    }
    const char *p = body, *const end = body + len;
    size_t line = 1;

    /* empty lines, then the header maybe */
    while (p < end) {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
            line++;
            p += 2;
        } else {
            break;
        }
    }
    p = skip_header(p, end, &line);

    csv_symbol_t *syms = a->syms;
    uint32_t *index = a->index;
    size_t mask = a->index_cap - 1;
    unsigned shift = index_shift(a->index_cap);
    uint64_t rows = a->rows;

    while (p < end) {
        symkey_t key;
        double price = 0; /* always set before use; GCC cannot tell through `ok` */
        uint64_t qty;

        if (UNLIKELY((unsigned char)*p <= '\r')) { /* one compare for LF and CR */
            if (*p == '\n') {
                line++;
                p++;
                continue;
            }
            if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
                line++;
                p += 2;
                continue;
            }
        }

#ifdef CSV_SSE2
        /* The record fast path. The record's four delimiters come from one mask of the 64
         * bytes at its start, so that each field's start is known before any field is read:
         * the four matchers do not wait for each other, and the next record's start waits
         * only for the mask, not for every field of this one read in turn. Each matcher must
         * end exactly at its field's delimiter; as no grammar allows '"' or ',', a record that
         * passes has no quote, and its delimiters are real. A record that does not pass
         * (quoted fields, errors, more than 64 bytes) is read again by careful_record. */
        if (LIKELY(end - p >= 2 * FAST_ROOM)) {
            uint64_t m0 = delims64(p);
            uint64_t m1 = m0 & (m0 - 1), m2 = m1 & (m1 - 1), m3 = m2 & (m2 - 1);
            if (LIKELY(m3 != 0)) {
                const char *d1 = p + __builtin_ctzll(m0), *d2 = p + __builtin_ctzll(m1);
                const char *d3 = p + __builtin_ctzll(m2), *d4 = p + __builtin_ctzll(m3);
                const char *e4 = d4 - (d4[-1] == '\r'); /* d4 >= p + 3 */
                bool ok = (*d1 == ',') & (*d2 == ',') & (*d3 == ',') & (*d4 == '\n');
                /* symbols and prices may come quoted: q2, q3 */
                unsigned q2 = d1[1] == '"', q3 = d2[1] == '"';
                ok &= match_timestamp(p) == d1;
                ok &= match_symbol(d1 + 1 + q2, &key) == d2 - q2;
                ok &= match_price(d2 + 1 + q3, &price) == d3 - q3;
                ok &= match_quantity(d3 + 1, &qty) == e4;
                ok &= ((d2[-1] == '"') >= q2) & ((d3[-1] == '"') >= q3);
                if (LIKELY(ok)) {
                    p = d4 + 1;
                    line++;
                    goto add;
                }
            }
        }
#endif
        {
            record_t r = {.line = line};
            const char *next = careful_record(p, end, &r);
            if (UNLIKELY(!next)) {
                a->rows = rows;
                err->line = line; /* where the record starts */
                err->column = r.col;
                err->reason = r.why;
                return -1;
            }
            p = next;
            line = r.line;
            key = r.key;
            price = r.price;
            qty = r.qty;
        }

#ifdef CSV_SSE2
    add:
#endif
        rows++;
        for (size_t i = key_hash(key) >> shift;; i = (i + 1) & mask) {
            uint32_t s = index[i];
            if (UNLIKELY(!s)) {
                if (sym_insert(a, i, key, price, qty) != 0) {
                    a->rows = rows;
                    return -2;
                }
                syms = a->syms;
                index = a->index;
                mask = a->index_cap - 1;
                shift = index_shift(a->index_cap);
                break;
            }
            csv_symbol_t *e = &syms[s - 1];
            symkey_t ek = sym_key(e);
            if (LIKELY(((ek.lo ^ key.lo) | (ek.hi ^ key.hi)) == 0)) {
                e->count++;
                e->quantity += qty;
                e->min_price = price < e->min_price ? price : e->min_price;
                e->max_price = price > e->max_price ? price : e->max_price;
                double pq = price * (double)qty;
                FP_BARRIER(pq); /* no FMA: one rounding for the product, one for the sum */
                e->sum_pq += pq;
                break;
            }
        }
    }
    a->rows = rows;
    return 0;
}

/* ---- the answer ---- */

/* v with exactly six decimals, as printf("%.6f") writes it: v = m * 2^e exactly, so
 * v * 10^6 = m * 10^6 * 2^e, an integer (m * 10^6 < 2^73) shifted right by -e, rounded half
 * to even on the bits shifted out. Values printf would write with more than 18 digits, and
 * negative ones, NaN and infinities, are left to snprintf. Returns the length written. */
static size_t fmt6(char *out, size_t room, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    if (!(v >= 0 && v < 1e12) || (bits >> 63)) {
        int n = snprintf(out, room, "%.6f", v);
        return n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;
    }
    uint64_t m = bits & ((1ull << 52) - 1);
    int be = (int)(bits >> 52);
    int shift = be ? 1075 - be : 1074; /* v < 2^40: always > 0 */
    if (be)
        m |= 1ull << 52;
    unsigned __int128 n = (unsigned __int128)m * 1000000u;
    uint64_t x;
    if (shift >= 128) {
        x = 0; /* below 2^-55: rounds to 0 */
    } else {
        unsigned __int128 half = (unsigned __int128)1 << (shift - 1);
        unsigned __int128 rem = n & ((half << 1) - 1);
        x = (uint64_t)(n >> shift);
        if (rem > half || (rem == half && (x & 1)))
            x++;
    }
    /* x < 10^18 + 1: integer part, point, six digits */
    size_t len = fmt_u64(out, x / 1000000);
    out[len++] = '.';
    uint64_t frac = x % 1000000;
    for (int i = 5; i >= 0; i--, frac /= 10)
        out[len + (size_t)i] = (char)('0' + frac % 10);
    return len + 6;
}

static ALWAYS_INLINE uint64_t be64(uint64_t native)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return native;
#else
    return __builtin_bswap64(native);
#endif
}

/* Bytewise order of the symbols: their NUL-padded keys compared as big-endian numbers. */
static int sym_cmp(const void *x, const void *y)
{
    symkey_t a = sym_key(*(const csv_symbol_t *const *)x), b = sym_key(*(const csv_symbol_t *const *)y);
    uint64_t a0 = be64(a.lo), b0 = be64(b.lo), a1 = be64(a.hi), b1 = be64(b.hi);
    if (a0 != b0)
        return a0 < b0 ? -1 : 1;
    return a1 < b1 ? -1 : a1 > b1;
}

#define PUT(s)                                                                                    \
    do {                                                                                          \
        memcpy(o, s, sizeof s - 1);                                                               \
        o += sizeof s - 1;                                                                        \
    } while (0)

/* The longest symbol object: 5 numbers of at most 24 bytes from the fast paths, keys and
 * punctuation under 100 bytes; snprintf's numbers (never for valid bodies' prices) can be 330. */
#define SYM_JSON_MAX (100 + 16 + 2 * 24 + 3 * 330)

int csv_write_json(const csv_agg_t *a, buf_t *out)
{
    const csv_symbol_t *small[64], **order = small;
    if (a->nsyms > 64) {
        order = malloc(a->nsyms * sizeof *order);
        if (!order)
            return -ENOMEM;
    }
    for (size_t i = 0; i < a->nsyms; i++)
        order[i] = &a->syms[i];
    qsort(order, a->nsyms, sizeof *order, sym_cmp);

    int rc = -ENOMEM;
    if (buf_reserve(out, 64) != 0)
        goto done;
    char *o = buf_end(out);
    PUT("{\"rows\":");
    o += fmt_u64(o, a->rows);
    PUT(",\"symbols\":[");
    buf_commit(out, (size_t)(o - buf_end(out)));
    for (size_t i = 0; i < a->nsyms; i++) {
        const csv_symbol_t *s = order[i];
        if (buf_reserve(out, SYM_JSON_MAX) != 0)
            goto done;
        o = buf_end(out);
        if (i)
            *o++ = ',';
        PUT("{\"symbol\":\"");
        memcpy(o, s->symbol, s->len); /* [A-Za-z0-9._-]: nothing to escape */
        o += s->len;
        PUT("\",\"count\":");
        o += fmt_u64(o, s->count);
        PUT(",\"quantity\":");
        o += fmt_u64(o, s->quantity);
        PUT(",\"min_price\":");
        o += fmt6(o, 331, s->min_price);
        PUT(",\"max_price\":");
        o += fmt6(o, 331, s->max_price);
        PUT(",\"vwap\":");
        o += fmt6(o, 331, s->sum_pq / (double)s->quantity);
        *o++ = '}';
        buf_commit(out, (size_t)(o - buf_end(out)));
    }
    if (buf_reserve(out, 2) != 0)
        goto done;
    buf_append(out, "]}", 2);
    rc = 0;
done:
    if (order != small)
        free(order);
    return rc;
}
