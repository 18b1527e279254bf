/* json: strict RFC 8259 validation + minification "as written", and reading an object's members
 * and an array's elements.
 *
 * The scanner is one pass over the input, a state machine with three states (a value is
 * expected / a value just ended / an object key is expected) written as labels, and an explicit
 * stack of JSON_MAX_DEPTH bytes recording whether each open container is an object or an array:
 * nothing recurses on the C stack, so hostile nesting costs 128 bytes at most.
 *
 * Minifying is the same scan plus a few moves. The output is the input with the white space
 * between tokens cut out, so the scanner keeps a "run": the start of the input bytes already
 * validated and still to be kept. When white space begins, the run is moved to the output in one
 * memmove and a new run starts after the white space. Input that is already minified is never
 * copied when working in place (dst == src), and copied once, at the end, when not. Because the
 * output never gets ahead of the input (o <= run), in-place moves only ever overwrite bytes
 * that have already been read.
 *
 * Where the time goes: string contents. They are skipped 16 bytes at a time (SSE2, always there
 * on x86-64) or 8 at a time (SWAR on a uint64_t, elsewhere) while they are plain printable ASCII;
 * only the bytes that end such a block (quote, backslash, control character, non-ASCII) go
 * through the byte-at-a-time code. The JSON between strings is mostly single bytes ({ } [ ] , :)
 * and short numbers, handled directly by the state machine. */
#include "codec/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/compiler.h"

#if defined(__SSE2__) && !defined(JSON_NO_SSE2)
#define JSON_SSE2 1
#include <emmintrin.h>
#endif


/* Reasons are embedded as is in JSON error bodies (serve/echo.c prints them with %s), so none
 * may contain a double quote or a backslash. */
static const char R_EOF[] = "unexpected end of input";
static const char R_CHAR[] = "unexpected character";
static const char R_NUMBER[] = "invalid number";
static const char R_LITERAL[] = "invalid literal";
static const char R_ESCAPE[] = "invalid escape";
static const char R_CONTROL[] = "control character in string";
static const char R_UTF8[] = "invalid utf-8";
static const char R_DEEP[] = "nesting too deep";
static const char R_TRAILING[] = "trailing characters";
static const char R_COLON[] = "expected ':'";
static const char R_OBJ_NEXT[] = "expected ',' or '}'";
static const char R_ARR_NEXT[] = "expected ',' or ']'";
static const char R_KEY[] = "expected string key";

static inline void set_err(json_error_t *err, size_t at, const char *why)
{
    err->offset = at;
    err->reason = why;
}

static ALWAYS_INLINE int is_ws(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
static ALWAYS_INLINE int is_digit(uint8_t c) { return (unsigned)(c - '0') < 10; }
static ALWAYS_INLINE int is_hex(uint8_t c)
{
    return is_digit(c) || (unsigned)((c | 0x20) - 'a') < 6;
}

/* ---- string contents ---- */

/* Index of the first byte at or after i that is not plain string content, i.e. that is a '"',
 * a '\\', a control character (< 0x20) or non-ASCII (>= 0x80); len if there is none. */
static ALWAYS_INLINE size_t skip_plain(const uint8_t *s, size_t i, size_t len)
{
#ifdef JSON_SSE2
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    /* A signed compare "< 0x20" is true for control characters and, as bytes >= 0x80 are
     * negative, for non-ASCII too: three compares cover the four cases. */
#define SPECIAL_MASK(v)                                                                           \
    _mm_movemask_epi8(_mm_or_si128(                                                               \
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)), _mm_cmplt_epi8(v, space)))
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        unsigned m = (unsigned)SPECIAL_MASK(v);
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
    if (i < len && len >= 16) {
        /* The last partial block: load the final 16 bytes of the input (all in bounds) and
         * ignore the lanes before i, rather than finishing byte by byte. */
        size_t base = len - 16;
        __m128i v = _mm_loadu_si128((const __m128i *)(s + base));
        unsigned m = (unsigned)SPECIAL_MASK(v) >> (i - base);
        return m ? i + (size_t)__builtin_ctz(m) : len;
    }
#undef SPECIAL_MASK
#else
    /* SWAR: eight bytes at a time. For each byte, bit 7 of
     *   (x - 0x20..) | x        is set when the byte is < 0x20 or >= 0x80,
     *   haszero(x ^ 0x22..)     when it is '"', haszero(x ^ 0x5c..) when it is '\\'.
     * Borrows can only set false bits above a true one, so "any bit set" is exact; the exact
     * byte is then found by the byte loop below, which keeps this independent of endianness. */
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    while (i + 8 <= len) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t m = (((x - ones * 0x20) | x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
        if (m)
            break;
        i += 8;
    }
#endif
    while (i < len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* One UTF-8 sequence starting at s[i], a byte >= 0x80: its length, or 0 when it is not valid
 * UTF-8 (RFC 3629: no overlong forms, no surrogates U+D800..DFFF, nothing above U+10FFFF, no
 * truncated sequence). The second byte's range depends on the lead byte; that alone rules out
 * overlong forms (E0 80..9F, F0 80..8F, C0, C1), surrogates (ED A0..BF) and F4 90+ / F5+. */
static inline size_t utf8_len(const uint8_t *s, size_t i, size_t len)
{
    uint8_t c = s[i], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0; /* a continuation byte, C0/C1, or F5..FF */
    }
    if (len - i < n)
        return 0;
    if (s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A string whose opening quote is s[i]. Returns the index just past the closing quote (always
 * > 0), or 0 with *err set. Escapes are only checked, never decoded: "\ud800" alone is accepted
 * as written (as the Go and Rust peers do). */
static ALWAYS_INLINE size_t scan_string(const uint8_t *s, size_t i, size_t len, json_error_t *err)
{
    i++;
    for (;;) {
        i = skip_plain(s, i, len);
        if (UNLIKELY(i >= len))
            goto eof;
        uint8_t c = s[i];
        if (LIKELY(c == '"'))
            return i + 1;
        if (c == '\\') {
            if (len - i < 2)
                goto eof;
            uint8_t e = s[i + 1];
            if (e == 'u') {
                for (size_t k = 2; k < 6; k++) {
                    if (i + k >= len)
                        goto eof;
                    if (!is_hex(s[i + k])) {
                        set_err(err, i + k, R_ESCAPE);
                        return 0;
                    }
                }
                i += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                i += 2;
            } else {
                set_err(err, i + 1, R_ESCAPE);
                return 0;
            }
        } else if (c < 0x20) {
            set_err(err, i, R_CONTROL);
            return 0;
        } else {
            size_t n = utf8_len(s, i, len);
            if (!n) {
                set_err(err, i, R_UTF8);
                return 0;
            }
            i += n;
        }
    }
eof:
    set_err(err, len, R_EOF);
    return 0;
}

/* ---- numbers and literals ---- */

/* A number starting at s[i] ('-' or a digit). Returns the index just past it, or 0 with *err
 * set. Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static ALWAYS_INLINE size_t scan_number(const uint8_t *s, size_t i, size_t len, json_error_t *err)
{
    if (s[i] == '-')
        i++;
    if (i >= len)
        goto eof;
    if (s[i] == '0') {
        i++;
    } else if (is_digit(s[i])) {
        i++;
        while (i < len && is_digit(s[i]))
            i++;
    } else {
        goto bad;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len)
            goto eof;
        if (!is_digit(s[i]))
            goto bad;
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] | 0x20) == 'e') {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len)
            goto eof;
        if (!is_digit(s[i]))
            goto bad;
        while (i < len && is_digit(s[i]))
            i++;
    }
    /* "01", "-00", "1.5.2", "1e5.0": a digit or a point right after a complete number is not
     * the start of the next token but a malformed number; say so at that byte. */
    if (i < len && (is_digit(s[i]) || s[i] == '.'))
        goto bad;
    return i;
eof:
    set_err(err, len, R_EOF);
    return 0;
bad:
    set_err(err, i, R_NUMBER);
    return 0;
}

/* true, false or null at s[i]; lit is the expected word, s[i] == lit[0] already. */
static inline size_t scan_literal(const uint8_t *s, size_t i, size_t len, const char *lit,
                                  size_t n, json_error_t *err)
{
    for (size_t k = 1; k < n; k++) {
        if (i + k >= len) {
            set_err(err, len, R_EOF);
            return 0;
        }
        if (s[i + k] != (uint8_t)lit[k]) {
            set_err(err, i + k, R_LITERAL);
            return 0;
        }
    }
    return i + n;
}

/* ---- the scanner ---- */

/* Skips white space at *ip. Minified input has none, so the common case is one compare: every
 * white space byte is <= ' ', every byte that can start or continue a token is > ' '. When
 * there is white space, the kept run before it goes to the output first. */
static ALWAYS_INLINE void skip_ws(const uint8_t *s, size_t len, size_t *ip, char *dst, size_t *op,
                                  size_t *runp)
{
    size_t i = *ip;
    if (LIKELY(i >= len || s[i] > ' ' || !is_ws(s[i])))
        return;
    if (dst) {
        size_t n = i - *runp;
        if (n && dst + *op != (const char *)s + *runp)
            memmove(dst + *op, s + *runp, n);
        *op += n;
    }
    i++;
#ifdef JSON_SSE2
    /* Indentation runs can be long in pretty-printed input: 16 bytes at a time. */
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i w = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
        unsigned m = ~(unsigned)_mm_movemask_epi8(w) & 0xFFFF;
        if (m) {
            i += (size_t)__builtin_ctz(m);
            goto done;
        }
        i += 16;
    }
#endif
    while (i < len && is_ws(s[i]))
        i++;
#ifdef JSON_SSE2
done:
#endif
    *ip = i;
    *runp = i;
}

/* The whole job. dst == NULL validates only; as this is inlined into both entry points with a
 * constant dst, the validating copy has no output code at all. */
static ALWAYS_INLINE ssize_t scan(const char *src, size_t len, char *dst, json_error_t *err)
{
    const uint8_t *s = (const uint8_t *)src;
    size_t i = 0;   /* next input byte */
    size_t o = 0;   /* output length so far (minify only) */
    size_t run = 0; /* start of the input bytes validated and still to be written out */
    /* The open containers, innermost last: 1 for an object, 0 for an array. */
    uint8_t stack[JSON_MAX_DEPTH];
    size_t depth = 0;
    size_t at;
    const char *why;

#define WS() skip_ws(s, len, &i, dst, &o, &run)
#define FAIL(at_, why_)                                                                          \
    do {                                                                                          \
        at = (at_);                                                                               \
        why = (why_);                                                                             \
        goto fail;                                                                                \
    } while (0)

    WS();

value: /* a value must start at i */
    if (UNLIKELY(i >= len))
        FAIL(len, R_EOF);
    switch (s[i]) {
    case '"':
        if (!(i = scan_string(s, i, len, err)))
            return -1;
        goto after_value;
    case '{':
    case '[': {
        uint8_t is_obj = s[i] == '{';
        if (UNLIKELY(depth == JSON_MAX_DEPTH))
            FAIL(i, R_DEEP);
        stack[depth++] = is_obj;
        i++;
        WS();
        if (i < len && s[i] == (is_obj ? '}' : ']')) { /* empty container */
            depth--;
            i++;
            goto after_value;
        }
        if (is_obj)
            goto key;
        goto value;
    }
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        if (!(i = scan_number(s, i, len, err)))
            return -1;
        goto after_value;
    case 't':
        if (!(i = scan_literal(s, i, len, "true", 4, err)))
            return -1;
        goto after_value;
    case 'f':
        if (!(i = scan_literal(s, i, len, "false", 5, err)))
            return -1;
        goto after_value;
    case 'n':
        if (!(i = scan_literal(s, i, len, "null", 4, err)))
            return -1;
        goto after_value;
    default:
        FAIL(i, R_CHAR);
    }

after_value: /* a value just ended at i: a comma, the end of its container, or the end */
    WS();
    if (UNLIKELY(depth == 0))
        goto end;
    if (UNLIKELY(i >= len))
        FAIL(len, R_EOF);
    if (stack[depth - 1]) {
        if (s[i] == ',') {
            i++;
            WS();
            goto key;
        }
        if (s[i] == '}') {
            depth--;
            i++;
            goto after_value;
        }
        FAIL(i, R_OBJ_NEXT);
    } else {
        if (s[i] == ',') {
            i++;
            WS();
            goto value;
        }
        if (s[i] == ']') {
            depth--;
            i++;
            goto after_value;
        }
        FAIL(i, R_ARR_NEXT);
    }

key: /* inside an object, a member's key must start at i */
    if (UNLIKELY(i >= len))
        FAIL(len, R_EOF);
    if (UNLIKELY(s[i] != '"'))
        FAIL(i, R_KEY);
    if (!(i = scan_string(s, i, len, err)))
        return -1;
    WS();
    if (UNLIKELY(i >= len))
        FAIL(len, R_EOF);
    if (UNLIKELY(s[i] != ':'))
        FAIL(i, R_COLON);
    i++;
    WS();
    goto value;

end:
    if (i != len)
        FAIL(i, R_TRAILING);
    if (dst) {
        size_t n = i - run;
        if (n && dst + o != src + run)
            memmove(dst + o, src + run, n);
        o += n;
    }
    return (ssize_t)o;

fail:
    set_err(err, at, why);
    return -1;
#undef WS
#undef FAIL
}

ssize_t json_minify(const char *src, size_t len, char *dst, json_error_t *err)
{
    return scan(src, len, dst, err);
}

int json_validate(const char *src, size_t len, json_error_t *err)
{
    return scan(src, len, NULL, err) < 0 ? -1 : 0;
}

/* ---- reading the members of an object and the elements of an array ---- */

static const char *skip_ws_r(const char *p, const char *end)
{
    while (p < end && is_ws((uint8_t)*p))
        p++;
    return p;
}

/* p at the opening quote of a valid string: just past its closing quote. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p + 1;
}

/* p at the start of a valid value: just past its end. */
static const char *skip_value(const char *p, const char *end)
{
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != '}' && *p != ']' && !is_ws((uint8_t)*p))
            p++;
        return p;
    }
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
            continue;
        }
        p++;
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            break;
    }
    return p;
}

/* An object or an array (open is '{' or '['): p just inside it, or -1 when src is another
 * value. */
static int container_begin(const char **p, const char **end, const char *src, size_t len,
                           char open)
{
    *end = src + len;
    *p = skip_ws_r(src, *end);
    if (*p == *end || **p != open)
        return -1;
    (*p)++;
    return 0;
}

/* p just inside a container or just past one of its items: the start of the next item (a
 * member's name or an element), or NULL at the container's closing bracket. */
static const char *next_item(const char *p, const char *end)
{
    p = skip_ws_r(p, end);
    if (p < end && *p == ',')
        p = skip_ws_r(p + 1, end);
    if (p >= end || *p == '}' || *p == ']')
        return NULL;
    return p;
}

int json_members_begin(json_members_t *it, const char *src, size_t len)
{
    return container_begin(&it->p, &it->end, src, len, '{');
}

bool json_members_next(json_members_t *it, const char **name, size_t *name_len,
                       const char **value, size_t *value_len)
{
    const char *p = next_item(it->p, it->end);
    if (!p || *p != '"') {
        it->p = it->end;
        return false;
    }
    const char *q = skip_string(p, it->end);
    *name = p + 1;
    *name_len = (size_t)(q - p - 2);
    p = skip_ws_r(q, it->end);
    p = skip_ws_r(p + 1, it->end); /* ':' */
    q = skip_value(p, it->end);
    *value = p;
    *value_len = (size_t)(q - p);
    it->p = q;
    return true;
}

int json_elements_begin(json_elements_t *it, const char *src, size_t len)
{
    return container_begin(&it->p, &it->end, src, len, '[');
}

bool json_elements_next(json_elements_t *it, const char **value, size_t *value_len)
{
    const char *p = next_item(it->p, it->end);
    if (!p) {
        it->p = it->end;
        return false;
    }
    const char *q = skip_value(p, it->end);
    *value = p;
    *value_len = (size_t)(q - p);
    it->p = q;
    return true;
}

bool json_name_eq(const char *name, size_t len, const char *lit)
{
    size_t i = 0;
    for (; i < len; lit++) {
        unsigned c = (uint8_t)name[i++];
        if (c == '\\') {
            char e = name[i++];
            if (e == 'u') {
                c = 0;
                for (int k = 0; k < 4; k++) {
                    char h = name[i++];
                    c = c * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
            } else {
                c = (uint8_t)(e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r'
                            : e == 't' ? '\t' : e);
            }
        }
        if (*lit == 0 || c != (uint8_t)*lit)
            return false;
    }
    return *lit == 0;
}

/* Four hex digits at s (json_validate checked them). */
static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char h = s[k];
        v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return v;
}

static int put_utf8(buf_t *out, unsigned c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xc0 | c >> 6);
        u[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xe0 | c >> 12);
        u[1] = (char)(0x80 | (c >> 6 & 0x3f));
        u[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | c >> 18);
        u[1] = (char)(0x80 | (c >> 12 & 0x3f));
        u[2] = (char)(0x80 | (c >> 6 & 0x3f));
        u[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    return buf_append(out, u, n);
}

int json_unescape(const char *s, size_t n, buf_t *out)
{
    size_t i = 0;
    while (i < n) {
        size_t plain = i;
        while (plain < n && s[plain] != '\\')
            plain++;
        if (plain > i && buf_append(out, s + i, plain - i) < 0)
            return -ENOMEM;
        if ((i = plain) >= n)
            break;
        char e = i + 1 < n ? s[i + 1] : 0;
        unsigned c;
        i += 2;
        if (e == 'u' && i + 4 <= n) {
            c = hex4(s + i);
            i += 4;
            if (c >= 0xd800 && c < 0xdc00 && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u') {
                unsigned lo = hex4(s + i + 2);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            if (c >= 0xd800 && c < 0xe000)
                c = 0xfffd; /* a lone surrogate */
        } else {
            c = (uint8_t)(e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r'
                        : e == 't' ? '\t' : e);
        }
        if (put_utf8(out, c) < 0)
            return -ENOMEM;
    }
    return 0;
}
