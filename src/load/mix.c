#include "load/mix.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fmt.h"
#include "http/http1.h"

/* ---- placeholders ---- */

static void errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

/* A signed decimal integer that fills s[0..n) and fits in int64_t. */
static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = neg || (n > 0 && s[0] == '+');
    if (i == n)
        return false;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

typedef struct {
    size_t at, len;  /* where in the string, '{' to '}' */
    int64_t lo, hi;
} placeholder_t;

/* The next placeholder of s[from..n) into ph: 1, 0 when there is none, -1 on a malformed one
 * (message in err; `where` names the string for it). */
static int next_placeholder(const char *s, size_t n, size_t from, const char *where,
                            placeholder_t *ph, char *err, size_t errlen)
{
    for (size_t i = from; i + 1 < n; i++) {
        if (s[i] != '{' || !name_start(s[i + 1]))
            continue;
        size_t j = i + 1;
        while (j < n && name_char(s[j]))
            j++;
        if (j == n || (s[j] != ':' && s[j] != '}'))
            continue; /* '{' and a word, but not a placeholder: literal text */
        size_t end = j;
        while (end < n && s[end] != '}')
            end++;
        /* what to quote in a message: the placeholder, or its first 40 bytes */
        int shown = (int)(end < n ? end + 1 - i : n - i);
        const char *more = "";
        if (shown > 40) {
            shown = 40;
            more = "…";
        }
        if (j - (i + 1) != 4 || memcmp(s + i + 1, "rand", 4) != 0) {
            errf(err, errlen,
                 "unknown placeholder '%.*s%s' in the %s (the one known is {rand:LO:HI})", shown,
                 s + i, more, where);
            return -1;
        }
        if (end == n) {
            errf(err, errlen, "unterminated placeholder '%.*s%s' in the %s", shown, s + i, more,
                 where);
            return -1;
        }
        /* {rand:LO:HI}: s[j] is the first ':' (or the '}' of "{rand}"), s[end] the '}' */
        const char *a = s + j + 1;
        const char *colon = s[j] == ':' ? memchr(a, ':', (size_t)(s + end - a)) : NULL;
        if (!colon || !parse_i64(a, (size_t)(colon - a), &ph->lo) ||
            !parse_i64(colon + 1, (size_t)(s + end - colon - 1), &ph->hi)) {
            errf(err, errlen,
                 "bad placeholder '%.*s%s' in the %s: expected {rand:LO:HI} with LO and HI "
                 "signed 64-bit integers",
                 shown, s + i, more, where);
            return -1;
        }
        if (ph->lo > ph->hi) {
            errf(err, errlen, "bad placeholder '%.*s%s' in the %s: LO is above HI", shown, s + i,
                 more, where);
            return -1;
        }
        ph->at = i;
        ph->len = end + 1 - i;
        return 1;
    }
    return 0;
}

/* Counts (and checks) the placeholders of s[0..n). -1 with a message in err. */
static int count_placeholders(const char *s, size_t n, const char *where, char *err, size_t errlen)
{
    placeholder_t ph;
    int count = 0, rc;
    for (size_t from = 0; (rc = next_placeholder(s, n, from, where, &ph, err, errlen)) > 0;
         from = ph.at + ph.len)
        count++;
    return rc < 0 ? -1 : count;
}

/* Visible ASCII only: no blanks, no control bytes (they would break the request line). */
static bool is_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return n > 0;
}

static int mix_check(const mix_template_t *rq, char *err, size_t errlen)
{
    if (rq->weight < 1 || rq->weight > MIX_MAX_WEIGHT) {
        errf(err, errlen, "weight must be 1..%u, got %u", MIX_MAX_WEIGHT, rq->weight);
        return -1;
    }
    if (!rq->method || !is_token(rq->method, strlen(rq->method))) {
        errf(err, errlen, "expected a method like GET or POST, got '%s'",
             rq->method ? rq->method : "");
        return -1;
    }
    /* Placeholders are replaced by digits, so the target's bytes can be checked as written. */
    if (!rq->target || rq->target[0] != '/' || !is_token(rq->target, strlen(rq->target))) {
        errf(err, errlen, "expected a target starting with '/' and without blanks, got '%s'",
             rq->target ? rq->target : "");
        return -1;
    }
    int nt = count_placeholders(rq->target, strlen(rq->target), "target", err, errlen);
    if (nt < 0)
        return -1;
    int nb = rq->body ? count_placeholders(rq->body, rq->body_len, "body", err, errlen) : 0;
    if (nb < 0)
        return -1;
    if (nt + nb > MIX_MAX_VALUES) {
        errf(err, errlen, "%d placeholders in one request, at most %d", nt + nb,
             MIX_MAX_VALUES);
        return -1;
    }
    return 0;
}

int mix_parse_spec(char *spec, mix_template_t *rq, char *err, size_t errlen)
{
    *rq = (mix_template_t){0};
    char *p = spec, *field[3];
    size_t flen[3];
    for (int f = 0; f < 3; f++) {
        p += strspn(p, " \t");
        field[f] = p;
        flen[f] = strcspn(p, " \t");
        p += flen[f];
        if (!flen[f]) {
            errf(err, errlen, "expected 'WEIGHT METHOD TARGET [BODY]'");
            return -1;
        }
    }
    int64_t w;
    if (!parse_i64(field[0], flen[0], &w) || w < 1 || w > MIX_MAX_WEIGHT) {
        errf(err, errlen, "expected 'WEIGHT METHOD TARGET [BODY]' with a weight 1..%u, got '%.*s'",
             MIX_MAX_WEIGHT, (int)flen[0], field[0]);
        return -1;
    }
    bool has_body = false;
    if (*p) {
        p += strspn(p, " \t");
        has_body = *p != 0;
    }
    /* Cut in place: method and target become C strings, the body is the rest as it is. */
    field[1][flen[1]] = 0;
    field[2][flen[2]] = 0;
    rq->weight = (unsigned)w;
    rq->method = field[1];
    rq->target = field[2];
    if (has_body) {
        rq->body = p;
        rq->body_len = strlen(p);
    }
    return mix_check(rq, err, errlen);
}

/* ---- compiled templates ---- */

enum { ACT_END = -2, ACT_LENGTH = -1 }; /* a part's action; >= 0: write value k */

/* Literal bytes blob[off..off+len), then the action. */
typedef struct {
    size_t off, len;
    int act;
} mix_part_t;

typedef struct {
    buf_t blob;        /* without placeholders: the request; with: the literal pieces */
    bool dynamic, head;
    int nvalues;
    int body_first;    /* values [body_first, nvalues) are in the body */
    int64_t lo[MIX_MAX_VALUES], hi[MIX_MAX_VALUES];
    size_t body_lit;   /* body bytes other than the values */
    int nparts;
    mix_part_t parts[MIX_MAX_VALUES + 2];
    size_t max_len;
} mix_tpl_t;

struct mix {
    size_t n;
    uint64_t cum[MIX_MAX_TEMPLATES]; /* cumulative weights */
    uint64_t total;
    size_t render_max;
    mix_tpl_t tpl[MIX_MAX_TEMPLATES];
};

/* Parts are built in sending order: literal bytes go to the current part, an action closes it. */
static int part_lit(mix_tpl_t *tp, const char *p, size_t n)
{
    tp->parts[tp->nparts].len += n;
    return buf_append(&tp->blob, p, n);
}

static void part_act(mix_tpl_t *tp, int act)
{
    tp->parts[tp->nparts].act = act;
    if (act != ACT_END)
        tp->parts[++tp->nparts] = (mix_part_t){.off = buf_size(&tp->blob)};
    else
        tp->nparts++;
}

/* Literal pieces of s[0..n) with their placeholders as value actions, from value *k on. */
static int part_placeholders(mix_tpl_t *tp, const char *s, size_t n, const char *where, int *k)
{
    placeholder_t ph;
    size_t from = 0;
    char err[8];
    while (next_placeholder(s, n, from, where, &ph, err, sizeof err) > 0) {
        if (part_lit(tp, s + from, ph.at - from))
            return -1;
        tp->lo[*k] = ph.lo;
        tp->hi[*k] = ph.hi;
        part_act(tp, (*k)++);
        from = ph.at + ph.len;
    }
    return part_lit(tp, s + from, n - from);
}

/* A template with placeholders. Everything but the target and the body (the headers, Host,
 * whether there is a Content-Length) comes from http_write_request itself, so that a rendered
 * request is laid out exactly as a serialized one: the request is written once with an empty
 * target (and, when the body changes length, a 1-byte body), and cut around the target and
 * the Content-Length value. */
static int compile_dynamic(mix_tpl_t *tp, const mix_template_t *rq, const char *authority,
                           const char *const *headers, size_t nheaders, int ntarget,
                           char *err, size_t errlen)
{
    bool body_dyn = tp->nvalues > ntarget;
    buf_t skel = BUF_INIT;
    if (http_write_request(&skel, rq->method, authority, "", headers, nheaders,
                           body_dyn ? "x" : rq->body, body_dyn ? 1 : rq->body_len)) {
        errf(err, errlen, "out of memory");
        return -1;
    }
    const char *h = buf_start(&skel);
    size_t hn = buf_size(&skel), ml = strlen(rq->method);
    static const char cl_tail[] = "\r\nContent-Length: 1\r\n\r\nx";
    const size_t cl_value_tail = sizeof "1\r\n\r\nx" - 1;
    bool ok = hn > ml + 2 && memcmp(h, rq->method, ml) == 0 && h[ml] == ' ' && h[ml + 1] == ' ';
    if (body_dyn)
        ok = ok && hn > sizeof cl_tail - 1 &&
             memcmp(h + hn - (sizeof cl_tail - 1), cl_tail, sizeof cl_tail - 1) == 0;
    if (!ok) {
        buf_free(&skel);
        errf(err, errlen, "internal: unexpected request layout from http_write_request");
        return -1;
    }
    int k = 0, rc = 0;
    tp->nparts = 0;
    tp->parts[0] = (mix_part_t){0};
    rc |= part_lit(tp, h, ml + 1); /* "METHOD " */
    rc |= part_placeholders(tp, rq->target, strlen(rq->target), "target", &k);
    if (!body_dyn) {
        rc |= part_lit(tp, h + ml + 1, hn - (ml + 1)); /* " HTTP/1.1\r\n…" to the body's end */
    } else {
        rc |= part_lit(tp, h + ml + 1, hn - cl_value_tail - (ml + 1)); /* to "Content-Length: " */
        part_act(tp, ACT_LENGTH);
        rc |= part_lit(tp, "\r\n\r\n", 4);
        size_t before = buf_size(&tp->blob);
        rc |= part_placeholders(tp, rq->body, rq->body_len, "body", &k);
        tp->body_lit = buf_size(&tp->blob) - before;
    }
    part_act(tp, ACT_END);
    buf_free(&skel);
    if (rc) {
        errf(err, errlen, "out of memory");
        return -1;
    }
    tp->max_len = buf_size(&tp->blob) + (size_t)tp->nvalues * FMT_INT_MAX + (body_dyn ? FMT_INT_MAX : 0);
    return 0;
}

mix_t *mix_new(const mix_template_t *rqs, size_t n, const char *authority,
               const char *const *headers, size_t nheaders, char *err, size_t errlen)
{
    if (n < 1 || n > MIX_MAX_TEMPLATES) {
        errf(err, errlen, "a request mix has 1..%d templates, got %zu", MIX_MAX_TEMPLATES, n);
        return NULL;
    }
    mix_t *m = calloc(1, sizeof *m);
    if (!m) {
        errf(err, errlen, "out of memory");
        return NULL;
    }
    m->n = n;
    for (size_t i = 0; i < n; i++) {
        const mix_template_t *rq = &rqs[i];
        mix_tpl_t *tp = &m->tpl[i];
        char why[400];
        if (mix_check(rq, why, sizeof why)) {
            errf(err, errlen, "request %zu (%s %s): %s", i + 1, rq->method ? rq->method : "?",
                 rq->target ? rq->target : "?", why);
            mix_free(m);
            return NULL;
        }
        m->total += rq->weight;
        m->cum[i] = m->total;
        tp->head = strcmp(rq->method, "HEAD") == 0;
        int nt = count_placeholders(rq->target, strlen(rq->target), "target", why, sizeof why);
        int nb = rq->body ? count_placeholders(rq->body, rq->body_len, "body", why, sizeof why) : 0;
        tp->nvalues = nt + nb;
        tp->body_first = nt;
        tp->dynamic = tp->nvalues > 0;
        int rc = tp->dynamic
                     ? compile_dynamic(tp, rq, authority, headers, nheaders, nt, err, errlen)
                     : http_write_request(&tp->blob, rq->method, authority, rq->target, headers,
                                          nheaders, rq->body, rq->body_len);
        if (rc) {
            if (!tp->dynamic)
                errf(err, errlen, "out of memory");
            mix_free(m);
            return NULL;
        }
        if (tp->max_len > m->render_max)
            m->render_max = tp->max_len;
    }
    return m;
}

void mix_free(mix_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        buf_free(&m->tpl[i].blob);
    free(m);
}

size_t mix_render_max(const mix_t *m) { return m->render_max; }
bool mix_is_head(const mix_t *m, int i) { return m->tpl[i].head; }

int mix_pick(const mix_t *m, rng_t *r)
{
    if (m->n == 1)
        return 0;
    uint64_t x = rng_below(r, m->total);
    int i = 0;
    while (x >= m->cum[i]) /* at most 16 steps: a scan beats a search here */
        i++;
    return i;
}

size_t mix_render(const mix_t *m, int i, rng_t *r, char *buf, const char **out,
                  mix_sent_t *sent)
{
    const mix_tpl_t *tp = &m->tpl[i];
    sent->index = i;
    sent->nvalues = tp->nvalues;
    if (!tp->dynamic) {
        *out = buf_start(&tp->blob);
        return buf_size(&tp->blob);
    }
    /* Draw every value first: the Content-Length, written before the body, depends on them. */
    char digits[MIX_MAX_VALUES][FMT_INT_MAX];
    size_t ndigits[MIX_MAX_VALUES];
    size_t body_len = tp->body_lit;
    for (int k = 0; k < tp->nvalues; k++) {
        int64_t v = rng_range(r, tp->lo[k], tp->hi[k]);
        sent->values[k] = v;
        ndigits[k] = fmt_i64(digits[k], v);
        if (k >= tp->body_first)
            body_len += ndigits[k];
    }
    const char *base = buf_start(&tp->blob);
    char *p = buf;
    for (const mix_part_t *pt = tp->parts;; pt++) {
        memcpy(p, base + pt->off, pt->len);
        p += pt->len;
        if (pt->act == ACT_END)
            break;
        if (pt->act == ACT_LENGTH) {
            p += fmt_u64(p, body_len);
        } else {
            memcpy(p, digits[pt->act], ndigits[pt->act]);
            p += ndigits[pt->act];
        }
    }
    *out = buf;
    return (size_t)(p - buf);
}
