#include "codec/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Minification is a scan plus a few moves: the output is the input with the white space
 * between tokens cut out, so the scanner only validates, and the bytes between two runs of
 * white space are moved once, in one memmove, when the next run of white space begins. Input
 * that is already minified is never copied when working in place. */

typedef struct {
    const unsigned char *s;
    size_t len, i;
    char *dst;          /* NULL: validate only */
    size_t o;           /* bytes written to dst */
    size_t run;         /* start of the kept run not yet written */
    json_error *err;
} scan_t;

static int fail(scan_t *sc, size_t at, const char *why)
{
    sc->err->offset = at;
    sc->err->reason = why;
    return -1;
}

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Skips white space; the kept run before it is written out first. */
static inline void skip_ws(scan_t *sc)
{
    if (sc->i < sc->len && is_ws(sc->s[sc->i])) {
        size_t n = sc->i - sc->run;
        if (sc->dst && n && sc->dst + sc->o != (const char *)sc->s + sc->run)
            memmove(sc->dst + sc->o, sc->s + sc->run, n);
        sc->o += n;
        while (sc->i < sc->len && is_ws(sc->s[sc->i]))
            sc->i++;
        sc->run = sc->i;
    }
}

static inline int hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* One UTF-8 sequence starting at s[i] (a byte >= 0x80): its length, or 0 if invalid
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t i, size_t len)
{
    unsigned char c = s[i];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
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
    } else
        return 0;
    if (i + n > len)
        return 0;
    if (s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (s[i + k] < 0x80 || s[i + k] > 0xBF)
            return 0;
    return n;
}

/* A string starting at the opening quote; leaves i after the closing quote. */
static int scan_string(scan_t *sc)
{
    const unsigned char *s = sc->s;
    size_t len = sc->len, i = sc->i + 1;
    for (;;) {
#ifdef __SSE2__
        /* 16 bytes at a time while none is a quote, a backslash, a control character or
         * non-ASCII (a signed compare below 0x20 catches both of the latter). */
        const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), c20 = _mm_set1_epi8(0x20);
        while (i + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                                     _mm_cmplt_epi8(v, c20));
            int mask = _mm_movemask_epi8(m);
            if (mask) {
                i += (size_t)__builtin_ctz((unsigned)mask);
                break;
            }
            i += 16;
        }
#endif
        while (i < len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
            i++;
        if (i >= len)
            return fail(sc, len, "unexpected end of input");
        unsigned char c = s[i];
        if (c == '"') {
            sc->i = i + 1;
            return 0;
        }
        if (c == '\\') {
            if (i + 1 >= len)
                return fail(sc, len, "unexpected end of input");
            unsigned char e = s[i + 1];
            if (e == 'u') {
                for (size_t k = 2; k < 6; k++) {
                    if (i + k >= len)
                        return fail(sc, len, "unexpected end of input");
                    if (!hex(s[i + k]))
                        return fail(sc, i + k, "invalid \\u escape");
                }
                i += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                i += 2;
            } else {
                return fail(sc, i + 1, "invalid escape");
            }
            continue;
        }
        if (c < 0x20)
            return fail(sc, i, "control character in string");
        size_t n = utf8_len(s, i, len);
        if (!n)
            return fail(sc, i, "invalid utf-8");
        i += n;
    }
}

static int scan_number(scan_t *sc)
{
    const unsigned char *s = sc->s;
    size_t len = sc->len, i = sc->i;
    if (s[i] == '-')
        i++;
    if (i >= len)
        return fail(sc, len, "unexpected end of input");
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return fail(sc, i, "invalid number");
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return fail(sc, i < len ? i : len, i < len ? "invalid number" : "unexpected end of input");
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return fail(sc, i < len ? i : len, i < len ? "invalid number" : "unexpected end of input");
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    /* "01", "1.5.2": a digit or another number character right after is not a separator */
    if (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        return fail(sc, i, "invalid number");
    sc->i = i;
    return 0;
}

static int scan_literal(scan_t *sc, const char *lit, size_t n)
{
    size_t i = sc->i;
    for (size_t k = 0; k < n; k++) {
        if (i + k >= sc->len)
            return fail(sc, sc->len, "unexpected end of input");
        if (sc->s[i + k] != (unsigned char)lit[k])
            return fail(sc, i + k, "invalid literal");
    }
    sc->i = i + n;
    return 0;
}

static int scan(scan_t *sc)
{
    /* The open containers: 1 for an object, 0 for an array. */
    unsigned char stack[JSON_MAX_DEPTH];
    int depth = 0;
    const unsigned char *s = sc->s;
    skip_ws(sc);
    for (;;) {
        /* a value is expected at i */
        if (sc->i >= sc->len)
            return fail(sc, sc->len, "unexpected end of input");
        unsigned char c = s[sc->i];
        int rc;
        if (c == '{' || c == '[') {
            if (depth == JSON_MAX_DEPTH)
                return fail(sc, sc->i, "nesting too deep");
            stack[depth++] = c == '{';
            sc->i++;
            skip_ws(sc);
            if (sc->i < sc->len && s[sc->i] == (c == '{' ? '}' : ']')) {
                depth--;
                sc->i++;
                goto after_value;
            }
            if (c == '{')
                goto member_key;
            continue;
        }
        if (c == '"')
            rc = scan_string(sc);
        else if (c == '-' || (c >= '0' && c <= '9'))
            rc = scan_number(sc);
        else if (c == 't')
            rc = scan_literal(sc, "true", 4);
        else if (c == 'f')
            rc = scan_literal(sc, "false", 5);
        else if (c == 'n')
            rc = scan_literal(sc, "null", 4);
        else
            return fail(sc, sc->i, "unexpected character");
        if (rc)
            return rc;
    after_value:
        skip_ws(sc);
        if (depth == 0) {
            if (sc->i != sc->len)
                return fail(sc, sc->i, "trailing characters");
            return 0;
        }
        if (sc->i >= sc->len)
            return fail(sc, sc->len, "unexpected end of input");
        c = s[sc->i];
        if (stack[depth - 1]) {
            if (c == '}') {
                depth--;
                sc->i++;
                goto after_value;
            }
            if (c != ',')
                return fail(sc, sc->i, "expected ',' or '}'");
            sc->i++;
            skip_ws(sc);
        member_key:
            if (sc->i >= sc->len)
                return fail(sc, sc->len, "unexpected end of input");
            if (s[sc->i] != '"')
                return fail(sc, sc->i, "expected string key");
            if ((rc = scan_string(sc)))
                return rc;
            skip_ws(sc);
            if (sc->i >= sc->len)
                return fail(sc, sc->len, "unexpected end of input");
            if (s[sc->i] != ':')
                return fail(sc, sc->i, "expected ':'");
            sc->i++;
            skip_ws(sc);
        } else {
            if (c == ']') {
                depth--;
                sc->i++;
                goto after_value;
            }
            if (c != ',')
                return fail(sc, sc->i, "expected ',' or ']'");
            sc->i++;
            skip_ws(sc);
        }
    }
}

ssize_t json_minify(const char *src, size_t len, char *dst, json_error *err)
{
    scan_t sc = {.s = (const unsigned char *)src, .len = len, .dst = dst, .err = err};
    if (scan(&sc))
        return -1;
    size_t n = sc.i - sc.run;
    if (n && dst + sc.o != src + sc.run)
        memmove(dst + sc.o, src + sc.run, n);
    return (ssize_t)(sc.o + n);
}

int json_validate(const char *src, size_t len, json_error *err)
{
    scan_t sc = {.s = (const unsigned char *)src, .len = len, .dst = NULL, .err = err};
    return scan(&sc);
}

/* ---- writer ---- */

void jsonw_init(jsonw_t *w, buf_t *out, bool pretty)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->pretty = pretty;
    w->first[0] = true;
}

static void indent(jsonw_t *w)
{
    buf_puts(w->out, "\n");
    for (int i = 0; i < w->depth; i++)
        buf_puts(w->out, "  ");
}

/* Before a value or a key: the comma and, when pretty, the line break. */
static void before(jsonw_t *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0 && !w->first[w->depth])
        buf_puts(w->out, ",");
    if (w->depth > 0 && w->pretty)
        indent(w);
    w->first[w->depth] = false;
}

static void open_c(jsonw_t *w, const char *c)
{
    before(w);
    buf_puts(w->out, c);
    if (w->depth < 63)
        w->depth++;
    w->first[w->depth] = true;
}

static void close_c(jsonw_t *w, const char *c)
{
    bool empty = w->first[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (w->pretty && !empty)
        indent(w);
    buf_puts(w->out, c);
}

void jsonw_obj_begin(jsonw_t *w) { open_c(w, "{"); }
void jsonw_obj_end(jsonw_t *w) { close_c(w, "}"); }
void jsonw_arr_begin(jsonw_t *w) { open_c(w, "["); }
void jsonw_arr_end(jsonw_t *w) { close_c(w, "]"); }

void json_escape(buf_t *out, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    buf_reserve(out, n + 2);
    buf_puts(out, "\"");
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(out, s + run, i - run);
        run = i + 1;
        char e[7] = {'\\', 0};
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hexd[c >> 4], e[5] = hexd[c & 15];
            buf_append(out, e, 6);
            continue;
        }
        buf_append(out, e, 2);
    }
    buf_append(out, s + run, n - run);
    buf_puts(out, "\"");
}

void jsonw_key(jsonw_t *w, const char *key)
{
    before(w);
    json_escape(w->out, key, strlen(key));
    buf_puts(w->out, w->pretty ? ": " : ":");
    w->after_key = true;
}

void jsonw_strn(jsonw_t *w, const char *s, size_t n)
{
    before(w);
    json_escape(w->out, s, n);
}

void jsonw_str(jsonw_t *w, const char *s) { jsonw_strn(w, s, strlen(s)); }

void jsonw_int(jsonw_t *w, int64_t v)
{
    before(w);
    buf_printf(w->out, "%lld", (long long)v);
}

void jsonw_uint(jsonw_t *w, uint64_t v)
{
    before(w);
    buf_printf(w->out, "%llu", (unsigned long long)v);
}

void jsonw_double(jsonw_t *w, double v, int decimals)
{
    before(w);
    if (!isfinite(v)) {
        buf_puts(w->out, "null");
        return;
    }
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.*f", decimals < 0 ? 0 : decimals > 17 ? 17 : decimals, v);
    if (n <= 0 || (size_t)n >= sizeof tmp) {
        buf_puts(w->out, "null");
        return;
    }
    if (memchr(tmp, '.', (size_t)n)) {
        while (n > 0 && tmp[n - 1] == '0')
            n--;
        if (n > 0 && tmp[n - 1] == '.')
            n--;
    }
    tmp[n] = 0;
    if (strcmp(tmp, "-0") == 0)
        strcpy(tmp, "0");
    buf_puts(w->out, tmp);
}

void jsonw_bool(jsonw_t *w, bool v)
{
    before(w);
    buf_puts(w->out, v ? "true" : "false");
}

void jsonw_null(jsonw_t *w)
{
    before(w);
    buf_puts(w->out, "null");
}
