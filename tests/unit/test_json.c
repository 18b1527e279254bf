/* Tests for the JSON codec (src/codec/json.c): minify "as written", strict validation with
 * error offsets, UTF-8 and depth limits, the wide-chunk string path.
 * Randomized tests compare against a slow, obviously correct reference validator written here. */
#include <math.h>
#include <stdint.h>

#include "codec/json.h"
#include "t.h"

/* ---- helpers ---- */

/* Minifies s (a C string) out of place; returns the output (static) or NULL when invalid. */
static const char *mini(const char *s, json_error_t *e)
{
    static char out[1 << 16];
    json_error_t dummy;
    ssize_t n = json_minify(s, strlen(s), out, e ? e : &dummy);
    if (n < 0)
        return NULL;
    out[n] = 0;
    return out;
}

static int valid_n(const char *s, size_t n)
{
    json_error_t e;
    char *out = malloc(n + 1);
    ssize_t r = json_minify(s, n, out, &e);
    int v = json_validate(s, n, &e);
    free(out);
    CHECK_INT(r >= 0, v == 0); /* the two entry points always agree */
    return v == 0;
}

static int valid(const char *s) { return valid_n(s, strlen(s)); }

/* Expects s to be rejected at offset `at` with reason `why`. */
#define CHECK_REJECT(s, at, why)                                                                  \
    do {                                                                                          \
        json_error_t e_ = {0, NULL};                                                                \
        const char *s_ = (s);                                                                     \
        char o_[256];                                                                             \
        CHECK_INT(json_minify(s_, strlen(s_), o_, &e_), -1);                                      \
        CHECK_INT(e_.offset, (at));                                                               \
        CHECK_STR(e_.reason, (why));                                                              \
        json_error_t v_ = {0, NULL};                                                                \
        CHECK_INT(json_validate(s_, strlen(s_), &v_), -1);                                        \
        CHECK_INT(v_.offset, e_.offset);                                                          \
        CHECK(v_.reason == e_.reason);                                                            \
    } while (0)

/* xorshift64*: deterministic randomness, seed per test. */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static unsigned rndn(unsigned n) { return (unsigned)(rnd() % n); }

/* ---- reference validator: recursive descent, byte at a time, no cleverness ---- */

typedef struct {
    const unsigned char *s;
    size_t n, i;
} ref_t;

static int ref_ws(ref_t *r)
{
    while (r->i < r->n && strchr(" \t\r\n", r->s[r->i]) && r->s[r->i])
        r->i++;
    return 1;
}

static int ref_utf8(ref_t *r)
{
    /* Decode, then check the code point against the sequence length and the ranges. */
    unsigned c = r->s[r->i], cp, need;
    if (c < 0x80)
        return 0;
    else if ((c & 0xE0) == 0xC0)
        cp = c & 0x1F, need = 1;
    else if ((c & 0xF0) == 0xE0)
        cp = c & 0x0F, need = 2;
    else if ((c & 0xF8) == 0xF0)
        cp = c & 0x07, need = 3;
    else
        return 0;
    if (r->i + need >= r->n)
        return 0;
    for (unsigned k = 1; k <= need; k++) {
        unsigned b = r->s[r->i + k];
        if ((b & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (b & 0x3F);
    }
    static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    r->i += need + 1;
    return 1;
}

static int ref_string(ref_t *r)
{
    r->i++; /* opening quote */
    for (;;) {
        if (r->i >= r->n)
            return 0;
        unsigned c = r->s[r->i];
        if (c == '"') {
            r->i++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (r->i + 1 >= r->n)
                return 0;
            c = r->s[r->i + 1];
            if (c == 'u') {
                for (int k = 2; k < 6; k++)
                    if (r->i + k >= r->n || !strchr("0123456789abcdefABCDEF", r->s[r->i + k]) ||
                        !r->s[r->i + k])
                        return 0;
                r->i += 6;
            } else if (c && strchr("\"\\/bfnrt", c)) {
                r->i += 2;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if (!ref_utf8(r))
                return 0;
        } else {
            r->i++;
        }
    }
}

static int ref_digits(ref_t *r)
{
    size_t st = r->i;
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
        r->i++;
    return r->i > st;
}

static int ref_number(ref_t *r)
{
    if (r->s[r->i] == '-')
        r->i++;
    if (r->i >= r->n)
        return 0;
    if (r->s[r->i] == '0')
        r->i++;
    else if (!ref_digits(r))
        return 0;
    if (r->i < r->n && r->s[r->i] == '.') {
        r->i++;
        if (!ref_digits(r))
            return 0;
    }
    if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
        r->i++;
        if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
            r->i++;
        if (!ref_digits(r))
            return 0;
    }
    return 1;
}

static int ref_value(ref_t *r, int depth)
{
    ref_ws(r);
    if (r->i >= r->n)
        return 0;
    unsigned c = r->s[r->i];
    if (c == '{' || c == '[') {
        if (depth == JSON_MAX_DEPTH)
            return 0;
        int obj = c == '{';
        r->i++;
        ref_ws(r);
        if (r->i < r->n && r->s[r->i] == (obj ? '}' : ']')) {
            r->i++;
            return 1;
        }
        for (;;) {
            if (obj) {
                ref_ws(r);
                if (r->i >= r->n || r->s[r->i] != '"' || !ref_string(r))
                    return 0;
                ref_ws(r);
                if (r->i >= r->n || r->s[r->i] != ':')
                    return 0;
                r->i++;
            }
            if (!ref_value(r, depth + 1))
                return 0;
            ref_ws(r);
            if (r->i >= r->n)
                return 0;
            if (r->s[r->i] == ',') {
                r->i++;
                continue;
            }
            if (r->s[r->i] == (obj ? '}' : ']')) {
                r->i++;
                return 1;
            }
            return 0;
        }
    }
    if (c == '"')
        return ref_string(r);
    if (c == '-' || (c >= '0' && c <= '9'))
        return ref_number(r);
    static const char *const lits[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (r->n - r->i >= l && memcmp(r->s + r->i, lits[k], l) == 0) {
            r->i += l;
            return 1;
        }
    }
    return 0;
}

static int ref_valid(const char *s, size_t n)
{
    ref_t r = {(const unsigned char *)s, n, 0};
    if (!ref_value(&r, 0))
        return 0;
    ref_ws(&r);
    return r.i == n;
}

/* Reference minify of a valid document: drop white space outside strings. */
static size_t ref_minify(const char *s, size_t n, char *out)
{
    size_t o = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            out[o++] = c;
            if (c == '\\')
                out[o++] = s[++i];
            else if (c == '"')
                in_str = 0;
        } else if (!strchr(" \t\r\n", c) || !c) {
            out[o++] = c;
            if (c == '"')
                in_str = 1;
        }
    }
    return o;
}

/* ---- random documents ---- */

typedef struct {
    char *min, *ws; /* the same document without and with random white space */
    size_t nmin, nws, cap;
} gen_t;

static void put2(gen_t *g, const char *p, size_t n)
{
    memcpy(g->min + g->nmin, p, n);
    memcpy(g->ws + g->nws, p, n);
    g->nmin += n;
    g->nws += n;
}

static void put_ws(gen_t *g)
{
    static const char wsc[] = " \t\r\n";
    if (rndn(3) == 0) {
        unsigned k = rndn(rndn(4) == 0 ? 40 : 4);
        for (unsigned j = 0; j < k; j++)
            g->ws[g->nws++] = wsc[rndn(4)];
    }
}

static void gen_string(gen_t *g)
{
    static const char *const pieces[] = {
        "a", "b", "hello", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
        "\\u00e9", "\\uD83D\\uDE00", "\\ud800", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xf4\x8f\xbf\xbf", "\x7f", "{", "}", "[", "]", ",", ":", "0123456789abcdef", "~"};
    put2(g, "\"", 1);
    unsigned k = rndn(rndn(5) == 0 ? 60 : 8);
    for (unsigned j = 0; j < k; j++) {
        const char *p = pieces[rndn(sizeof pieces / sizeof pieces[0])];
        put2(g, p, strlen(p));
    }
    put2(g, "\"", 1);
}

static void gen_number(gen_t *g)
{
    char tmp[64];
    int n = 0;
    if (rndn(2))
        tmp[n++] = '-';
    if (rndn(4) == 0) {
        tmp[n++] = '0';
    } else {
        tmp[n++] = (char)('1' + rndn(9));
        for (unsigned k = rndn(12); k; k--)
            tmp[n++] = (char)('0' + rndn(10));
    }
    if (rndn(2)) {
        tmp[n++] = '.';
        for (unsigned k = 1 + rndn(10); k; k--)
            tmp[n++] = (char)('0' + rndn(10));
    }
    if (rndn(3) == 0) {
        tmp[n++] = "eE"[rndn(2)];
        unsigned sgn = rndn(3);
        if (sgn)
            tmp[n++] = "+-"[sgn - 1];
        for (unsigned k = 1 + rndn(3); k; k--)
            tmp[n++] = (char)('0' + rndn(10));
    }
    put2(g, tmp, (size_t)n);
}

static void gen_value(gen_t *g, int depth)
{
    if (g->nws + 4096 > g->cap) {
        put2(g, "0", 1);
        return;
    }
    unsigned kind = rndn(depth >= 12 ? 6 : 8);
    switch (kind) {
    case 0: put2(g, "true", 4); break;
    case 1: put2(g, "false", 5); break;
    case 2: put2(g, "null", 4); break;
    case 3:
    case 4: gen_string(g); break;
    case 5: gen_number(g); break;
    case 6:
    case 7: {
        int obj = kind == 6;
        put2(g, obj ? "{" : "[", 1);
        unsigned n = rndn(6);
        for (unsigned k = 0; k < n; k++) {
            if (k)
                put2(g, ",", 1);
            put_ws(g);
            if (obj) {
                gen_string(g);
                put_ws(g);
                put2(g, ":", 1);
                put_ws(g);
            }
            gen_value(g, depth + 1);
            put_ws(g);
        }
        if (!n)
            put_ws(g);
        put2(g, obj ? "}" : "]", 1);
    }
    }
}

static void gen_doc(gen_t *g)
{
    g->nmin = g->nws = 0;
    put_ws(g);
    gen_value(g, 0);
    put_ws(g);
}

/* ---- minify ---- */

TEST(minify_removes_whitespace_between_tokens)
{
    CHECK_STR(mini(" \t\r\n{ \"a\" :\t[ 1 ,\n2 , { } , [ ] ] ,\r\n\"b\" : null } \n", NULL),
              "{\"a\":[1,2,{},[]],\"b\":null}");
    CHECK_STR(mini("[ true , false , null ]", NULL), "[true,false,null]");
}

TEST(minify_keeps_whitespace_inside_strings)
{
    CHECK_STR(mini("{ \" a b \" : \"  x\\t y \\n \" }", NULL), "{\" a b \":\"  x\\t y \\n \"}");
}

TEST(minify_keeps_numbers_as_written)
{
    CHECK_STR(mini("[ 1.50e+3 , -0 , 0.000 , 1E-7 , 12345678901234567890123 , -0.0e0 ]", NULL),
              "[1.50e+3,-0,0.000,1E-7,12345678901234567890123,-0.0e0]");
}

TEST(minify_keeps_escapes_as_written)
{
    CHECK_STR(mini("[ \"\\u00e9\" , \"\\/\" , \"\\uD83D\\uDE00\" , \"\\\"\\\\\\b\\f\\n\\r\\t\" ]", NULL),
              "[\"\\u00e9\",\"\\/\",\"\\uD83D\\uDE00\",\"\\\"\\\\\\b\\f\\n\\r\\t\"]");
}

TEST(minify_keeps_utf8_as_written)
{
    CHECK_STR(mini("{ \"caf\xc3\xa9\" : \"\xe2\x82\xac \xf0\x9f\x98\x80\" }", NULL),
              "{\"caf\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}");
}

TEST(minify_keeps_member_order_and_duplicates)
{
    CHECK_STR(mini("{ \"z\" : 1 , \"a\" : 2 , \"z\" : 3 }", NULL), "{\"z\":1,\"a\":2,\"z\":3}");
}

TEST(minify_in_place)
{
    char doc[] = "  { \"k\" : [ 1 , \"two  words\" , { \"x\" : null } ] }  ";
    json_error_t e;
    ssize_t n = json_minify(doc, strlen(doc), doc, &e);
    CHECK_MEM(doc, n, "{\"k\":[1,\"two  words\",{\"x\":null}]}");
    /* already minified: in place leaves it untouched */
    char m[] = "{\"a\":[1,2,3]}";
    n = json_minify(m, strlen(m), m, &e);
    CHECK_MEM(m, n, "{\"a\":[1,2,3]}");
}

TEST(minify_output_never_longer_than_input)
{
    const char *docs[] = {"1", " 1 ", "{}", "[ ]", "\"\"", "{\"a\":1}"};
    for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++) {
        char out[64];
        json_error_t e;
        ssize_t n = json_minify(docs[k], strlen(docs[k]), out, &e);
        CHECK(n > 0 && (size_t)n <= strlen(docs[k]));
    }
}

TEST(minify_does_not_write_past_the_minified_length)
{
    char out[64];
    memset(out, 'Z', sizeof out);
    json_error_t e;
    ssize_t n = json_minify("[ 1 ]", 5, out, &e);
    CHECK_MEM(out, n, "[1]");
    for (size_t k = (size_t)n; k < sizeof out; k++)
        CHECK(out[k] == 'Z');
}

TEST(top_level_scalars_ok)
{
    CHECK_STR(mini("1", NULL), "1");
    CHECK_STR(mini(" -1.5e3 ", NULL), "-1.5e3");
    CHECK_STR(mini("\"s\"", NULL), "\"s\"");
    CHECK_STR(mini("\n\"\"\n", NULL), "\"\"");
    CHECK_STR(mini("true", NULL), "true");
    CHECK_STR(mini(" false", NULL), "false");
    CHECK_STR(mini("null ", NULL), "null");
    CHECK_STR(mini("0", NULL), "0");
}

TEST(empty_body_rejected)
{
    CHECK_REJECT("", 0, "unexpected end of input");
    CHECK_REJECT("   \r\n\t ", 7, "unexpected end of input");
}

TEST(accepts_number_forms)
{
    const char *ok[] = {"0", "-0", "1", "-1", "10", "0.0", "0.5", "-0.5", "1e5", "1E5", "1e+5",
                        "1e-5", "1.5e05", "0e0", "123456789012345678901234567890", "1.0000000"};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        CHECK(valid(ok[k]));
}

TEST(rejects_leading_zero)
{
    CHECK_REJECT("01", 1, "invalid number");
    CHECK_REJECT("-01", 2, "invalid number");
    CHECK_REJECT("[00]", 2, "invalid number");
    CHECK_REJECT("{\"a\":007}", 6, "invalid number");
}

TEST(rejects_malformed_numbers)
{
    CHECK_REJECT("-", 1, "unexpected end of input");
    CHECK_REJECT("[-]", 2, "invalid number");
    CHECK_REJECT("1.", 2, "unexpected end of input");
    CHECK_REJECT("[1.]", 3, "invalid number");
    CHECK_REJECT("[1.e5]", 3, "invalid number");
    CHECK_REJECT("1e", 2, "unexpected end of input");
    CHECK_REJECT("[1e]", 3, "invalid number");
    CHECK_REJECT("[1e+]", 4, "invalid number");
    CHECK_REJECT("1.5.2", 3, "invalid number");
    CHECK_REJECT("1e5.0", 3, "invalid number");
    CHECK_REJECT(".5", 0, "unexpected character");
    CHECK_REJECT("+1", 0, "unexpected character");
    CHECK_REJECT("[-a]", 2, "invalid number");
    CHECK_REJECT("0x10", 1, "trailing characters");
    CHECK_REJECT("NaN", 0, "unexpected character");
    CHECK_REJECT("-Infinity", 1, "invalid number");
    CHECK_REJECT("Infinity", 0, "unexpected character");
}

TEST(rejects_bad_literals)
{
    CHECK_REJECT("tru", 3, "unexpected end of input");
    CHECK_REJECT("trUe", 2, "invalid literal");
    CHECK_REJECT("[nul]", 4, "invalid literal");
    CHECK_REJECT("falsey", 5, "trailing characters");
    CHECK_REJECT("True", 0, "unexpected character");
}

TEST(rejects_trailing_comma)
{
    CHECK_REJECT("[1,2,]", 5, "unexpected character");
    CHECK_REJECT("{\"a\":1,}", 7, "expected string key");
    CHECK_REJECT("[,]", 1, "unexpected character");
    CHECK_REJECT("[1,,2]", 3, "unexpected character");
}

TEST(rejects_trailing_characters)
{
    CHECK_REJECT("{} {}", 3, "trailing characters");
    CHECK_REJECT("1 2", 2, "trailing characters");
    CHECK_REJECT("[]]", 2, "trailing characters");
    CHECK_REJECT("null\n,", 5, "trailing characters");
}

TEST(rejects_structural_errors)
{
    CHECK_REJECT("{\"a\" 1}", 5, "expected ':'");
    CHECK_REJECT("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'");
    CHECK_REJECT("[1 2]", 3, "expected ',' or ']'");
    CHECK_REJECT("[1}", 2, "expected ',' or ']'");
    CHECK_REJECT("{\"a\":1]", 6, "expected ',' or '}'");
    CHECK_REJECT("{a:1}", 1, "expected string key");
    CHECK_REJECT("{'a':1}", 1, "expected string key");
    CHECK_REJECT("['a']", 1, "unexpected character");
    CHECK_REJECT("{1:2}", 1, "expected string key");
    CHECK_REJECT("]", 0, "unexpected character");
    CHECK_REJECT("[", 1, "unexpected end of input");
    CHECK_REJECT("{\"a\":[1,{\"b\":2}", 15, "unexpected end of input");
    CHECK_REJECT("{\"a\"", 4, "unexpected end of input");
    CHECK_REJECT("{\"a\":", 5, "unexpected end of input");
    CHECK_REJECT("\"abc", 4, "unexpected end of input");
    CHECK_REJECT("/* c */ 1", 0, "unexpected character");
}

TEST(rejects_control_char_in_string)
{
    for (int c = 0; c < 0x20; c++) {
        char doc[8] = {'[', '"', 'a', (char)c, '"', ']'};
        json_error_t e;
        char out[8];
        CHECK_INT(json_minify(doc, 6, out, &e), -1);
        CHECK_INT(e.offset, 3);
        CHECK_STR(e.reason, "control character in string");
    }
    CHECK(valid("\"\x7f\"")); /* DEL is not a control character for JSON */
}

TEST(rejects_control_char_in_long_string)
{
    /* the same through the wide path: the control character is deep inside a long string */
    char doc[200];
    memset(doc, 'x', sizeof doc);
    doc[0] = '"';
    doc[199] = '"';
    doc[100] = '\n';
    json_error_t e;
    CHECK_INT(json_validate(doc, sizeof doc, &e), -1);
    CHECK_INT(e.offset, 100);
    CHECK_STR(e.reason, "control character in string");
}

TEST(rejects_invalid_escapes)
{
    CHECK_REJECT("\"\\a\"", 2, "invalid escape");
    CHECK_REJECT("\"\\x41\"", 2, "invalid escape");
    CHECK_REJECT("\"\\'\"", 2, "invalid escape");
    CHECK_REJECT("\"\\U00e9\"", 2, "invalid escape");
    CHECK_REJECT("\"\\u12g4\"", 5, "invalid escape");
    CHECK_REJECT("\"\\u12\"", 5, "invalid escape");
    CHECK_REJECT("\"\\u", 3, "unexpected end of input");
    CHECK_REJECT("\"\\u00", 5, "unexpected end of input");
    CHECK_REJECT("\"\\", 2, "unexpected end of input");
    CHECK_REJECT("\"\\\xc3\xa9\"", 2, "invalid escape");
}

TEST(accepts_lone_surrogate_escapes)
{
    CHECK_STR(mini("[\"\\ud800\", \"\\uDFFF\", \"\\uDC00\\uD800\"]", NULL),
              "[\"\\ud800\",\"\\uDFFF\",\"\\uDC00\\uD800\"]");
    CHECK(valid("\"\\uABCD\\uabcd\\u0000\""));
}

TEST(rejects_overlong_utf8)
{
    CHECK_REJECT("\"\xc0\x80\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xc1\xbf\"", 1, "invalid utf-8");
    CHECK_REJECT("\"ab\xe0\x80\x80\"", 3, "invalid utf-8");
    CHECK_REJECT("\"\xe0\x9f\xbf\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xf0\x80\x80\x80\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xf0\x8f\xbf\xbf\"", 1, "invalid utf-8");
}

TEST(rejects_utf8_surrogate)
{
    CHECK_REJECT("\"\xed\xa0\x80\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xed\xbf\xbf\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xed\xa0\xbd\xed\xb8\x80\"", 1, "invalid utf-8"); /* CESU-8 pair */
    CHECK(valid("\"\xed\x9f\xbf\"")); /* U+D7FF */
    CHECK(valid("\"\xee\x80\x80\"")); /* U+E000 */
}

TEST(rejects_utf8_above_max_and_bad_lead_bytes)
{
    CHECK_REJECT("\"\xf4\x90\x80\x80\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xf5\x80\x80\x80\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xf8\x88\x80\x80\x80\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xff\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xfe\"", 1, "invalid utf-8");
    CHECK_REJECT("\"a\x80\"", 2, "invalid utf-8"); /* stray continuation byte */
    CHECK_REJECT("\"\xbf\"", 1, "invalid utf-8");
}

TEST(rejects_truncated_utf8)
{
    CHECK_REJECT("\"\xc3\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xe2\x82\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xf0\x9f\x98\"", 1, "invalid utf-8");
    CHECK_REJECT("\"\xc3", 1, "invalid utf-8");
    CHECK_REJECT("\"\xf0\x9f\x98", 1, "invalid utf-8");
    CHECK_REJECT("\"\xe2\x82x\"", 1, "invalid utf-8");
}

TEST(accepts_utf8_boundaries)
{
    const char *ok[] = {"\"\xc2\x80\"",         "\"\xdf\xbf\"",         "\"\xe0\xa0\x80\"",
                        "\"\xef\xbf\xbf\"",     "\"\xf0\x90\x80\x80\"", "\"\xf4\x8f\xbf\xbf\"",
                        "\"\xef\xbb\xbf\""};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        CHECK(valid(ok[k]));
}

TEST(rejects_non_ascii_outside_strings)
{
    CHECK_REJECT("\xef\xbb\xbf{}", 0, "unexpected character"); /* a BOM is not white space */
    CHECK_REJECT("[1,\xc2\xa0 2]", 3, "unexpected character"); /* nor is U+00A0 */
    CHECK_REJECT("{}\xc3\xa9", 2, "trailing characters");
}

TEST(utf8_agrees_with_reference_decoder_for_all_short_sequences)
{
    /* Every 1-, 2- and 3-byte sequence, and a random sample of 4-byte ones, inside a string
     * and padded so that it is seen both by the wide path and by the tail. */
    char doc[64];
    for (int pad = 0; pad < 2; pad++) {
        size_t p = pad ? 20 : 0;
        for (uint32_t v = 0; v < (1u << 24); v++) {
            size_t n = v < 0x100 ? 1 : v < 0x10000 ? 2 : 3;
            if (pad && (v & 0xff) != 0x80 && (v & 0xff) != 0xbf && (v & 0xff) != 0x41 && n > 1 &&
                v % 7)
                continue; /* the padded pass samples */
            doc[0] = '"';
            memset(doc + 1, 'p', p);
            for (size_t k = 0; k < n; k++)
                doc[1 + p + k] = (char)(v >> (8 * (n - 1 - k)));
            doc[1 + p + n] = '"';
            size_t len = p + n + 2;
            json_error_t e;
            int got = json_validate(doc, len, &e) == 0;
            int want = ref_valid(doc, len);
            if (got != want) {
                fprintf(stderr, "    bytes %06x (n=%zu pad=%zu): got %d want %d\n", v, n, p, got,
                        want);
                CHECK(0);
                return;
            }
        }
    }
    for (int k = 0; k < 2000000; k++) {
        uint32_t v = (uint32_t)rnd();
        if (k & 1)
            v = (v & 0x073f3f3f) | 0xf0808080; /* mostly well-formed 4-byte shapes */
        doc[0] = '"';
        memcpy(doc + 1, (char[]){(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v}, 4);
        doc[5] = '"';
        json_error_t e;
        CHECK_INT(json_validate(doc, 6, &e) == 0, ref_valid(doc, 6));
    }
}

TEST(depth_128_ok_129_rejected)
{
    char doc[2 * 130 + 1];
    for (int depth = 127; depth <= 130; depth++) {
        memset(doc, '[', (size_t)depth);
        memset(doc + depth, ']', (size_t)depth);
        json_error_t e;
        int rc = json_validate(doc, 2 * (size_t)depth, &e);
        if (depth <= JSON_MAX_DEPTH) {
            CHECK_INT(rc, 0);
        } else {
            CHECK_INT(rc, -1);
            CHECK_INT(e.offset, JSON_MAX_DEPTH);
            CHECK_STR(e.reason, "nesting too deep");
        }
    }
    /* objects and mixed nesting count the same */
    char obj[128 * 6 + 200];
    size_t n = 0;
    for (int d = 0; d < 128; d++)
        n += (size_t)sprintf(obj + n, d % 2 ? "{\"k\":" : "[");
    obj[n++] = '0'; /* the innermost object's member needs a value */
    for (int d = 127; d >= 0; d--)
        obj[n++] = d % 2 ? '}' : ']';
    CHECK(valid_n(obj, n));
    char deeper[sizeof obj + 8];
    deeper[0] = '[';
    memcpy(deeper + 1, obj, n);
    deeper[n + 1] = ']';
    json_error_t e;
    CHECK_INT(json_validate(deeper, n + 2, &e), -1);
    CHECK_STR(e.reason, "nesting too deep");
}

TEST(deep_nesting_is_rejected_without_recursion)
{
    /* a million open brackets: rejected at the 129th, in constant stack */
    size_t n = 1000000;
    char *doc = malloc(n);
    memset(doc, '[', n);
    json_error_t e;
    CHECK_INT(json_minify(doc, n, doc, &e), -1);
    CHECK_INT(e.offset, JSON_MAX_DEPTH);
    free(doc);
}

TEST(error_offset_points_at_bad_byte)
{
    CHECK_REJECT("{\"a\": [1, 2, x]}", 13, "unexpected character");
    CHECK_REJECT("  [1, 2", 7, "unexpected end of input");
    CHECK_REJECT("{\"key\":\"va\tlue\"}", 10, "control character in string");
    CHECK_REJECT("[\"ok\", \"\\q\"]", 9, "invalid escape");
    CHECK_REJECT("[1, 2] x", 7, "trailing characters");
    CHECK_REJECT("{\"a\":1,\n \"b\" 2}", 13, "expected ':'");
}

TEST(error_reasons_need_no_json_escaping)
{
    /* serve/echo.c prints the reason into a JSON string with %s */
    const char *bad[] = {"",        "[",      "01",       "\"\\q\"",   "\"\\u12x4\"", "\"\x01\"",
                         "\"\xff\"", "[1 2]",  "{\"a\" 1}", "{\"a\":1 2", "{1}",        "1 2",
                         "tx",      "]"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        json_error_t e = {0, NULL};
        CHECK_INT(json_validate(bad[k], strlen(bad[k]), &e), -1);
        CHECK(e.reason && !strchr(e.reason, '"') && !strchr(e.reason, '\\'));
        CHECK(e.reason && e.reason[0] >= 'a' && e.reason[0] <= 'z');
    }
}

TEST(long_strings_cross_chunk_boundaries)
{
    /* Every string length 0..100, every special byte at every position, the string placed at
     * every alignment: the 16-byte (or 8-byte) path, its tail and the byte path must agree. */
    static const char *const specials[] = {"\\\"", "\\\\", "\\n", "\\u00e9", "\xc3\xa9",
                                           "\xf0\x9f\x98\x80", "\x7f"};
    char doc[256], out[256];
    for (size_t len = 0; len <= 100; len++) {
        for (size_t lead = 0; lead < 3; lead++) {
            /* plain, unterminated and with a control character at the end */
            size_t n = 0;
            memset(doc, ' ', lead);
            n = lead;
            doc[n++] = '"';
            memset(doc + n, 'a' + (char)(len % 26), len);
            n += len;
            doc[n++] = '"';
            json_error_t e;
            ssize_t r = json_minify(doc, n, out, &e);
            CHECK_INT(r, (ssize_t)(len + 2));
            CHECK_INT(json_validate(doc, n - 1, &e), -1); /* no closing quote */
            CHECK_INT(e.offset, n - 1);
            doc[n - 1] = '\x1f';
            CHECK_INT(json_validate(doc, n, &e), -1);
            CHECK_INT(e.offset, n - 1);
            CHECK_STR(e.reason, "control character in string");

            for (size_t pos = 0; pos <= len; pos++) {
                for (size_t sp = 0; sp < sizeof specials / sizeof specials[0]; sp++) {
                    const char *x = specials[sp];
                    size_t xn = strlen(x);
                    n = lead;
                    doc[n++] = '[';
                    doc[n++] = '"';
                    for (size_t k = 0; k < pos; k++)
                        doc[n++] = (char)('A' + (k % 26));
                    memcpy(doc + n, x, xn);
                    n += xn;
                    for (size_t k = pos; k < len; k++)
                        doc[n++] = (char)('a' + (k % 26));
                    doc[n++] = '"';
                    doc[n++] = ' ';
                    doc[n++] = ']';
                    r = json_minify(doc, n, out, &e);
                    if (r != (ssize_t)(n - lead - 1) ||
                        memcmp(out, doc + lead, (size_t)r - 1) != 0) {
                        fprintf(stderr, "    len %zu pos %zu special %zu lead %zu: r=%zd\n", len,
                                pos, sp, lead, r);
                        CHECK(0);
                        return;
                    }
                    /* the same with a raw control character in place of the special */
                    memcpy(doc + lead + 2 + pos, "\x05", 1);
                    CHECK_INT(json_validate(doc, n, &e), -1);
                    CHECK_INT(e.offset, lead + 2 + pos);
                }
            }
        }
    }
}

TEST(random_documents_minify_to_their_compact_form)
{
    rng_state = 12345;
    gen_t g = {.cap = 1 << 16};
    g.min = malloc(g.cap);
    g.ws = malloc(g.cap);
    char *out = malloc(g.cap);
    for (int iter = 0; iter < 20000; iter++) {
        gen_doc(&g);
        json_error_t e = {0, NULL};
        ssize_t n = json_minify(g.ws, g.nws, out, &e);
        if (n != (ssize_t)g.nmin || memcmp(out, g.min, g.nmin) != 0) {
            fprintf(stderr, "    iter %d: %zd vs %zu (%s at %zu)\n    %.*s\n", iter, n, g.nmin,
                    e.reason ? e.reason : "", e.offset, (int)g.nws, g.ws);
            CHECK(0);
            break;
        }
        CHECK(ref_valid(g.ws, g.nws));
        /* in place gives the same */
        n = json_minify(g.ws, g.nws, g.ws, &e);
        CHECK_INT(n, (ssize_t)g.nmin);
        CHECK(memcmp(g.ws, g.min, g.nmin) == 0);
    }
    free(g.min);
    free(g.ws);
    free(out);
}

TEST(random_mutations_never_crash_and_are_idempotent)
{
    rng_state = 999;
    gen_t g = {.cap = 1 << 14};
    g.min = malloc(g.cap);
    g.ws = malloc(g.cap);
    char *doc = malloc(g.cap + 64), *out = malloc(g.cap + 64), *out2 = malloc(g.cap + 64);
    char *ref = malloc(g.cap + 64);
    static const unsigned char interesting[] = {'"', '\\', '[', ']', '{', '}', ',', ':', ' ',
                                                '\n', '0', '-', '.', 'e', 'u', 0x00, 0x1f,
                                                0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe0, 0xed,
                                                0xf0, 0xf4, 0xff};
    int accepted = 0;
    for (int iter = 0; iter < 30000; iter++) {
        gen_doc(&g);
        size_t n = g.nws;
        memcpy(doc, g.ws, n);
        for (unsigned m = 1 + rndn(3); m; m--) {
            size_t at = n ? rndn((unsigned)n) : 0;
            switch (rndn(4)) {
            case 0: /* replace */
                if (n)
                    doc[at] = (char)(rndn(2) ? interesting[rndn(sizeof interesting)] : rndn(256));
                break;
            case 1: /* insert */
                memmove(doc + at + 1, doc + at, n - at);
                doc[at] = (char)interesting[rndn(sizeof interesting)];
                n++;
                break;
            case 2: /* delete */
                if (n) {
                    memmove(doc + at, doc + at + 1, n - at - 1);
                    n--;
                }
                break;
            default: /* truncate */
                n = at;
            }
            if (n > g.cap)
                n = g.cap;
        }
        json_error_t e = {0, NULL};
        ssize_t r = json_minify(doc, n, out, &e);
        int want = ref_valid(doc, n);
        if ((r >= 0) != want) {
            fprintf(stderr, "    iter %d: minify %zd, reference %d: %.*s\n", iter, r, want, (int)n,
                    doc);
            CHECK(0);
            break;
        }
        CHECK_INT(json_validate(doc, n, &e) == 0, r >= 0);
        if (r < 0) {
            CHECK(e.offset <= n);
            continue;
        }
        accepted++;
        CHECK(r <= (ssize_t)n);
        CHECK_INT(ref_minify(doc, n, ref), r);
        CHECK(memcmp(ref, out, (size_t)r) == 0);
        ssize_t r2 = json_minify(out, (size_t)r, out2, &e);
        CHECK_INT(r2, r);
        CHECK(r2 == r && memcmp(out, out2, (size_t)r) == 0);
        ssize_t r3 = json_minify(doc, n, doc, &e); /* in place */
        CHECK(r3 == r && memcmp(doc, out, (size_t)r) == 0);
    }
    CHECK(accepted > 100); /* the mutations leave some documents valid */
    free(g.min);
    free(g.ws);
    free(doc);
    free(out);
    free(out2);
    free(ref);
}

TEST(members_of_an_object_in_order_as_written)
{
    const char *doc = " { \"a\" : [1, {\"x\": 2}] ,\"b\\\"c\":\"s,}\" , \"n\":-0.5e3,\"e\":{}} ";
    json_error_t e;
    CHECK_INT(json_validate(doc, strlen(doc), &e), 0);
    json_members_t it;
    CHECK_INT(json_members_begin(&it, doc, strlen(doc)), 0);
    const char *want[][2] = {{"a", "[1, {\"x\": 2}]"}, {"b\\\"c", "\"s,}\""}, {"n", "-0.5e3"},
                             {"e", "{}"}};
    const char *name, *value;
    size_t nl, vl;
    int k = 0;
    while (json_members_next(&it, &name, &nl, &value, &vl)) {
        CHECK(k < 4);
        if (k >= 4)
            break;
        CHECK_MEM(name, nl, want[k][0]);
        CHECK_MEM(value, vl, want[k][1]);
        k++;
    }
    CHECK_INT(k, 4);
    CHECK_INT(json_members_begin(&it, "{}", 2), 0);
    CHECK(!json_members_next(&it, &name, &nl, &value, &vl));
    CHECK_INT(json_members_begin(&it, " [1]", 4), -1);
    CHECK_INT(json_members_begin(&it, "null", 4), -1);
}

TEST(elements_of_an_array_in_order_as_written)
{
    const char *doc = " [ 1 , \"a,]\\\"\" ,{\"k\": [2, 3]},[ ] , null,-0.5e3 ,true,\n{}] ";
    json_error_t e;
    CHECK_INT(json_validate(doc, strlen(doc), &e), 0);
    json_elements_t it;
    CHECK_INT(json_elements_begin(&it, doc, strlen(doc)), 0);
    const char *want[] = {"1", "\"a,]\\\"\"", "{\"k\": [2, 3]}", "[ ]", "null", "-0.5e3", "true",
                          "{}"};
    const int nwant = (int)(sizeof want / sizeof want[0]);
    const char *value;
    size_t vl;
    int k = 0;
    while (json_elements_next(&it, &value, &vl)) {
        CHECK(k < nwant);
        if (k >= nwant)
            break;
        CHECK_MEM(value, vl, want[k]);
        k++;
    }
    CHECK_INT(k, nwant);
    CHECK(!json_elements_next(&it, &value, &vl)); /* stays at the end */
}

TEST(elements_of_an_empty_array_none)
{
    json_elements_t it;
    const char *value;
    size_t vl;
    CHECK_INT(json_elements_begin(&it, "[]", 2), 0);
    CHECK(!json_elements_next(&it, &value, &vl));
    CHECK_INT(json_elements_begin(&it, " [ \n ] ", 8), 0);
    CHECK(!json_elements_next(&it, &value, &vl));
}

TEST(elements_begin_rejects_what_is_not_an_array)
{
    json_elements_t it;
    CHECK_INT(json_elements_begin(&it, "{\"a\":[1]}", 9), -1);
    CHECK_INT(json_elements_begin(&it, "\"[1]\"", 5), -1);
    CHECK_INT(json_elements_begin(&it, "null", 4), -1);
    CHECK_INT(json_elements_begin(&it, "1", 1), -1);
    CHECK_INT(json_elements_begin(&it, "   ", 3), -1);
    CHECK_INT(json_elements_begin(&it, "", 0), -1);
}

TEST(elements_of_nested_arrays_iterate_on_their_own)
{
    const char *doc = "[[1,[2,3]],[],[[4]]]";
    json_elements_t outer, inner;
    const char *v, *w;
    size_t vl, wl;
    CHECK_INT(json_elements_begin(&outer, doc, strlen(doc)), 0);
    int counts[3] = {-1, -1, -1}, k = 0;
    while (k < 3 && json_elements_next(&outer, &v, &vl)) {
        CHECK_INT(json_elements_begin(&inner, v, vl), 0);
        counts[k] = 0;
        while (json_elements_next(&inner, &w, &wl))
            counts[k]++;
        k++;
    }
    CHECK(!json_elements_next(&outer, &v, &vl));
    CHECK_INT(counts[0], 2);
    CHECK_INT(counts[1], 0);
    CHECK_INT(counts[2], 1);
}

TEST(members_begin_rejects_an_array_and_elements_begin_an_object)
{
    /* The two iterators share their skipping code but not their brackets. */
    json_members_t m;
    json_elements_t a;
    CHECK_INT(json_members_begin(&m, "[]", 2), -1);
    CHECK_INT(json_elements_begin(&a, "{}", 2), -1);
    CHECK_INT(json_members_begin(&m, "{}", 2), 0);
    CHECK_INT(json_elements_begin(&a, "[]", 2), 0);
}

TEST(member_names_compare_with_escapes_decoded)
{
    CHECK(json_name_eq("amount", 6, "amount"));
    CHECK(json_name_eq("\\u0061mount", 11, "amount"));
    CHECK(json_name_eq("account\\u005Fid", 15, "account_id"));
    CHECK(json_name_eq("a\\/b", 4, "a/b"));
    CHECK(json_name_eq("", 0, ""));
    CHECK(!json_name_eq("Amount", 6, "amount"));
    CHECK(!json_name_eq("amoun", 5, "amount"));
    CHECK(!json_name_eq("amounts", 7, "amount"));
    CHECK(!json_name_eq("\\u00e1mount", 11, "amount"));
    CHECK(!json_name_eq("a\\u0000", 7, "a"));
}

/* The text of json_unescape(s) as a C string (in a static buffer). */
static const char *unescaped(const char *s)
{
    static char out[64];
    buf_t b = BUF_INIT;
    if (json_unescape(s, strlen(s), &b) != 0)
        return "(failed)";
    snprintf(out, sizeof out, "%.*s", (int)buf_size(&b), buf_start(&b));
    buf_free(&b);
    return out;
}

TEST(unescape_decodes_every_escape_into_utf8)
{
    CHECK_STR(unescaped("AAPL"), "AAPL");
    CHECK_STR(unescaped(""), "");
    CHECK_STR(unescaped("a\\\\b\\\"c\\/d"), "a\\b\"c/d");
    CHECK_STR(unescaped("\\b\\f\\n\\r\\t"), "\b\f\n\r\t");
    CHECK_STR(unescaped("\\u0041\\u00e9\\u20AC"), "A\xc3\xa9\xe2\x82\xac");
    CHECK_STR(unescaped("\\ud83d\\ude00"), "\xf0\x9f\x98\x80"); /* a surrogate pair */
    CHECK_STR(unescaped("\\ud83dx"), "\xef\xbf\xbdx");            /* lone: U+FFFD */
    CHECK_STR(unescaped("\\ude00\\ud83d"), "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_STR(unescaped("caf\xc3\xa9"), "caf\xc3\xa9"); /* UTF-8 as written is kept */
}

T_MAIN(T(minify_removes_whitespace_between_tokens), T(minify_keeps_whitespace_inside_strings),
       T(minify_keeps_numbers_as_written), T(minify_keeps_escapes_as_written),
       T(minify_keeps_utf8_as_written), T(minify_keeps_member_order_and_duplicates),
       T(minify_in_place), T(minify_output_never_longer_than_input),
       T(minify_does_not_write_past_the_minified_length), T(top_level_scalars_ok),
       T(empty_body_rejected), T(accepts_number_forms), T(rejects_leading_zero),
       T(rejects_malformed_numbers), T(rejects_bad_literals), T(rejects_trailing_comma),
       T(rejects_trailing_characters), T(rejects_structural_errors),
       T(rejects_control_char_in_string), T(rejects_control_char_in_long_string),
       T(rejects_invalid_escapes), T(accepts_lone_surrogate_escapes), T(rejects_overlong_utf8),
       T(rejects_utf8_surrogate), T(rejects_utf8_above_max_and_bad_lead_bytes),
       T(rejects_truncated_utf8), T(accepts_utf8_boundaries), T(rejects_non_ascii_outside_strings),
       T(utf8_agrees_with_reference_decoder_for_all_short_sequences), T(depth_128_ok_129_rejected), T(unescape_decodes_every_escape_into_utf8),
       T(deep_nesting_is_rejected_without_recursion), T(error_offset_points_at_bad_byte),
       T(error_reasons_need_no_json_escaping), T(long_strings_cross_chunk_boundaries),
       T(random_documents_minify_to_their_compact_form),
       T(random_mutations_never_crash_and_are_idempotent),
       T(members_of_an_object_in_order_as_written), T(elements_of_an_array_in_order_as_written),
       T(elements_of_an_empty_array_none), T(elements_begin_rejects_what_is_not_an_array),
       T(elements_of_nested_arrays_iterate_on_their_own),
       T(members_begin_rejects_an_array_and_elements_begin_an_object),
       T(member_names_compare_with_escapes_decoded))
