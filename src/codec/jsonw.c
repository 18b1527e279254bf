/* jsonw: the JSON writer of results and reports (see jsonw.h). */
#include "codec/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The writer keeps, per open container, whether a member has been written yet (for the comma).
 * first[] has 64 entries: nesting deeper than 63 levels is not supported (the depth stops
 * growing, so the output stays balanced but commas at those levels may be wrong). Allocation
 * failures in buf_* are ignored here: the output is then truncated, never out of bounds. */

void jsonw_init(jsonw_t *w, buf_t *out, bool pretty)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->pretty = pretty;
    w->first[0] = true;
}

static void newline_indent(jsonw_t *w)
{
    static const char spaces[] = "                                                                ";
    buf_append(w->out, "\n", 1);
    size_t n = 2 * (size_t)w->depth;
    while (n) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        buf_append(w->out, spaces, k);
        n -= k;
    }
}

/* Before a value or a key: the comma if this is not the container's first member and, when
 * pretty, the line break and indentation. A value right after its key needs neither. */
static void before(jsonw_t *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            buf_append(w->out, ",", 1);
        if (w->pretty)
            newline_indent(w);
    }
    w->first[w->depth] = false;
}

static void open_c(jsonw_t *w, char c)
{
    before(w);
    buf_append(w->out, &c, 1);
    if (w->depth < 63)
        w->depth++;
    w->first[w->depth] = true;
}

static void close_c(jsonw_t *w, char c)
{
    bool empty = w->first[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (w->pretty && !empty)
        newline_indent(w); /* "{}" and "[]" stay on one line */
    buf_append(w->out, &c, 1);
}

void jsonw_obj_begin(jsonw_t *w) { open_c(w, '{'); }
void jsonw_obj_end(jsonw_t *w) { close_c(w, '}'); }
void jsonw_arr_begin(jsonw_t *w) { open_c(w, '['); }
void jsonw_arr_end(jsonw_t *w) { close_c(w, ']'); }

void jsonw_escape(buf_t *out, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    buf_reserve(out, n + 2);
    buf_append(out, "\"", 1);
    size_t run = 0; /* start of the bytes that need no escaping, appended in one piece */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue; /* including UTF-8, left as is */
        buf_append(out, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
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
            k = 6;
        }
        buf_append(out, e, k);
    }
    buf_append(out, s + run, n - run);
    buf_append(out, "\"", 1);
}

void jsonw_key(jsonw_t *w, const char *key)
{
    before(w);
    jsonw_escape(w->out, key, strlen(key));
    buf_puts(w->out, w->pretty ? ": " : ":");
    w->after_key = true;
}

void jsonw_strn(jsonw_t *w, const char *s, size_t n)
{
    before(w);
    jsonw_escape(w->out, s, n);
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
    /* %f of the largest double has 309 integer digits: the buffer fits any finite value. */
    char tmp[400];
    int d = decimals < 0 ? 0 : decimals > 17 ? 17 : decimals;
    int n = snprintf(tmp, sizeof tmp, "%.*f", d, v);
    if (n <= 0 || (size_t)n >= sizeof tmp) {
        buf_puts(w->out, "null");
        return;
    }
    if (memchr(tmp, '.', (size_t)n)) {
        while (tmp[n - 1] == '0')
            n--;
        if (tmp[n - 1] == '.')
            n--;
    }
    if (n == 2 && tmp[0] == '-' && tmp[1] == '0') { /* -0, or a negative that rounded to 0 */
        tmp[0] = '0';
        n = 1;
    }
    buf_append(w->out, tmp, (size_t)n);
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
