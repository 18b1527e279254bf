/* csv: the parser and aggregator of the `csv` workload (contracts/csv.md).
 *
 * ## How a body is read
 *
 * None of the four field grammars allows `,`, `"`, CR or LF. So a field need not be found
 * first and checked afterwards: each field is read by a matcher for its own grammar, straight
 * from the body, and the byte the matcher stops at must be the field's terminator (`,` for the
 * first three fields; LF or CR LF for the fourth). A valid unquoted field is then exactly the
 * bytes matched, because the terminator is the first structural byte after them. A quoted
 * field whose content matches and is followed by `"` and the terminator is handled the same
 * way one byte further. Nothing is copied, nothing is allocated, and each byte of a valid
 * record is looked at about once.
 *
 * The matchers are branch-light and read wide: digit runs 8 bytes at a time in a uint64_t
 * (SWAR; the run length from one mask, the value from three multiplications), the fixed part
 * of an RFC 3339 timestamp as three 8-byte words checked against a template, a symbol as one
 * 16-byte SSE2 vector (classified in a few compares; the vector, masked to the symbol's
 * length, is also the hash key). They may read up to FAST_ROOM bytes from a field's start
 * whatever the field holds, so the fast path is only taken when that many bytes remain.
 *
 * Anything else, a field the matcher refuses, a quoted field with `""`, CR or LF inside, or a
 * field in the body's last FAST_ROOM bytes, goes through slow_field(): the field's structure
 * found by an SSE2 scan for the structural bytes (quote errors are found there), then the
 * value copied into a small buffer padded with NUL bytes, where the same matchers run and must
 * match it whole. The matchers stop at a NUL as they stop at a terminator, so both paths accept
 * exactly the same values (the fuzz target checks this against a byte-by-byte reference).
 * A quoted field's value is checked as it stands between its quotes: `""` leaves a `"` in it,
 * and as no grammar allows `"`, un-escaping it could not make it valid; it is never done.
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

#if defined(__SSE2__) && !defined(CSV_NO_SSE2)
#define CSV_SSE2 1
#include <emmintrin.h>
#endif

#if defined(CSV_SSE2) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the SSE2 paths assume a little-endian machine"
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define COLD __attribute__((noinline, cold))

/* The reasons go into JSON as they are: no '"' and no '\\'. */
static const char R_UNTERMINATED[] = "unterminated quote";
static const char R_BARE_QUOTE[] = "bare quote";
static const char R_FIELD_COUNT[] = "wrong field count";
static const char R_TIMESTAMP[] = "bad timestamp";
static const char R_SYMBOL[] = "bad symbol";
static const char R_PRICE[] = "bad price";
static const char R_QUANTITY[] = "bad quantity";

/* The matchers read at most 36 bytes from where they start (a timestamp with nine decimals and
 * an offset); FAST_ROOM leaves room for that and for the terminator checks after them. */
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
    if ((month - 1 >= 12) | (day - 1 >= 31) | (PAIR(t1, 3) >= 24) | (PAIR(t1, 6) >= 60) |
        (PAIR(t2, 6) >= 60))
        return NULL;
    /* days in each month, February of a common year */
    static const uint8_t mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (UNLIKELY(day > mdays[month])) {
        unsigned year = PAIR(t0, 0) * 100 + PAIR(t0, 2);
        bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        if (!(month == 2 && day == 29 && leap))
            return NULL;
    }
    const char *q = p + 19;
    if (*q == '.') {
        unsigned n = digit_run(load64le(q + 1));
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
    /* One vector: letters are the bytes whose value | 0x20 is in a..z (that maps exactly A..Z
     * and a..z there), digits a range, the three punctuation marks compared one by one. The
     * compares are signed, so bytes >= 0x80 (negative) are in no range. */
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i punct = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))),
                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), punct));
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

enum { T_COMMA, T_EOL, T_EOF };

typedef struct {
    const char *next; /* just past the terminator */
    int term;         /* T_COMMA, T_EOL (LF or CR LF) or T_EOF */
    size_t len;       /* the value's length; over VALUE_MAX, the value is not copied */
    /* the value, then NUL bytes: room for the matchers' reads */
    char pad[VALUE_MAX + FAST_ROOM];
} field_t;

/* One field from p, its structure checked the general way: NULL with f filled in, or the
 * quote error (the field's own, as nothing of it has been checked yet). LFs inside a quoted
 * field are counted in *line. */
static COLD const char *slow_field(const char *p, const char *end, size_t *line, field_t *f)
{
    const char *v = p, *q;
    if (p < end && *p == '"') {
        v = q = p + 1;
        for (;;) {
            q = find_quote_lf(q, end);
            if (q == end)
                return R_UNTERMINATED;
            if (*q == '\n') {
                (*line)++;
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

#define INDEX_MIN 64

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
    size_t rec_line = 0;
    unsigned col;
    const char *why;
    field_t f;

    while (p < end) {
        const char *q;
        symkey_t key;
        double price;
        uint64_t qty;

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
        rec_line = line;

        /* Each field: the fast path (unquoted, or quoted without anything special inside),
         * else slow_field. */

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
        col = 1;
        if ((why = slow_field(p, end, &line, &f)))
            goto fail;
        why = R_TIMESTAMP;
        if (f.len > VALUE_MAX || match_timestamp(f.pad) != f.pad + f.len)
            goto fail;
        if (f.term != T_COMMA)
            goto too_few;
        p = f.next;

    symbol:
        if (LIKELY(end - p >= FAST_ROOM)) {
            q = match_symbol(p, &key);
            if (LIKELY(q && *q == ',')) {
                p = q + 1;
                goto price;
            }
            if (*p == '"' && (q = match_symbol(p + 1, &key)) && q[0] == '"' && q[1] == ',') {
                p = q + 2;
                goto price;
            }
        }
        col = 2;
        if ((why = slow_field(p, end, &line, &f)))
            goto fail;
        why = R_SYMBOL;
        if (f.len > VALUE_MAX || match_symbol(f.pad, &key) != f.pad + f.len)
            goto fail;
        if (f.term != T_COMMA)
            goto too_few;
        p = f.next;

    price:
        if (LIKELY(end - p >= FAST_ROOM)) {
            q = match_price(p, &price);
            if (LIKELY(q && *q == ',')) {
                p = q + 1;
                goto quantity;
            }
            if (*p == '"' && (q = match_price(p + 1, &price)) && q[0] == '"' && q[1] == ',') {
                p = q + 2;
                goto quantity;
            }
        }
        col = 3;
        if ((why = slow_field(p, end, &line, &f)))
            goto fail;
        why = R_PRICE;
        if (f.len > VALUE_MAX || match_price(f.pad, &price) != f.pad + f.len)
            goto fail;
        if (f.term != T_COMMA)
            goto too_few;
        p = f.next;

    quantity:
        if (LIKELY(end - p >= FAST_ROOM)) {
            q = match_quantity(p, &qty);
            if (UNLIKELY(!q) && *p == '"') {
                const char *r = match_quantity(p + 1, &qty);
                q = r && *r == '"' ? r + 1 : NULL;
            }
            if (LIKELY(q)) {
                if (LIKELY(*q == '\n')) {
                    p = q + 1;
                    goto record;
                }
                if (*q == '\r' && q[1] == '\n') {
                    p = q + 2;
                    goto record;
                }
            }
        }
        col = 4;
        if ((why = slow_field(p, end, &line, &f)))
            goto fail;
        why = R_QUANTITY;
        if (f.len > VALUE_MAX || match_quantity(f.pad, &qty) != f.pad + f.len)
            goto fail;
        if (f.term == T_COMMA) {
            col = 5; /* a fifth field starts */
            why = R_FIELD_COUNT;
            goto fail;
        }
        p = f.next;
        if (f.term == T_EOF)
            goto add;

    record:
        line++;
    add:
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
            if (LIKELY(ek.lo == key.lo && ek.hi == key.hi)) {
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

too_few:
    col++; /* the record ended after `col` fields: the first one missing */
    why = R_FIELD_COUNT;
fail:
    a->rows = rows;
    err->line = rec_line;
    err->column = col;
    err->reason = why;
    return -1;
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
    char tmp[32];
    char *t = tmp + sizeof tmp;
    for (int i = 0; i < 6; i++) {
        *--t = (char)('0' + x % 10);
        x /= 10;
    }
    *--t = '.';
    do {
        *--t = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    size_t len = (size_t)(tmp + sizeof tmp - t);
    memcpy(out, t, len);
    return len;
}

static size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    char *t = tmp + sizeof tmp;
    do {
        *--t = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t len = (size_t)(tmp + sizeof tmp - t);
    memcpy(out, t, len);
    return len;
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
