#include "http/http1.h"

#include "core/fmt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- character classes (RFC 9110 5.6.2, RFC 3986 2) ---- */

enum { C_TCHAR = 1, C_VCHAR = 2, C_TARGET = 4, C_HEX = 8, C_HOST = 16 };

/* tchar: the characters of a token (method, field name, transfer coding).
 * vchar: what a field value may hold besides SP and HTAB: VCHAR and obs-text (0x80-0xFF).
 * target: what a request-target may hold: RFC 3986's unreserved, sub-delims, ':', '@', '/',
 *   '?' and '%' (checked to start a %XX): no space, no control, no '#', no '"<>\^`{|}', no
 *   byte above 0x7E.
 * host: a Host value's reg-name, IPv4 and IP-literal characters, and ':' for the port. */
static unsigned char cls[256];

static void cls_init_once(void)
{
    for (int c = 0x21; c <= 0x7e; c++)
        cls[c] |= C_VCHAR;
    for (int c = 0x80; c <= 0xff; c++)
        cls[c] |= C_VCHAR;
    const char *tch = "!#$%&'*+-.^_`|~";
    const char *target = "-._~!$&'()*+,;=:@/?%";
    const char *host = "-._~!$&'()*+,;=:[]%";
    for (int c = 0; c < 256; c++) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum || (c && strchr(tch, c)))
            cls[c] |= C_TCHAR;
        if (alnum || (c && strchr(target, c)))
            cls[c] |= C_TARGET;
        if (alnum || (c && strchr(host, c)))
            cls[c] |= C_HOST;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            cls[c] |= C_HEX;
    }
}

static pthread_once_t cls_once = PTHREAD_ONCE_INIT;
#define IS(c, k) (cls[(unsigned char)(c)] & (k))

bool http_str_eq(http_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* ASCII case-insensitive. */
static bool http_str_ieq(http_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

const http_str_t *http_header(const http_msg_t *m, const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (http_str_ieq(m->headers[i].name, name))
            return &m->headers[i].value;
    return NULL;
}

/* ---- lines ---- */

/* The line starting at p: its content ends at *content_end, before the CRLF that ends it.
 * Returns the byte after the LF; NULL when the line is not complete yet; HTTP_LINE_BAD (with
 * nothing else looked at) for a bare CR or a bare LF: RFC 9112 2.2 lets a recipient take a bare
 * LF as a line end, and a bare CR as a space, but a framing that two implementations can read
 * two ways is how requests are smuggled, so both are refused. */
static const char bad_line;
#define HTTP_LINE_BAD (&bad_line)

static const char *line_end(const char *p, const char *end, const char **content_end)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    const char *cr = memchr(p, '\r', (size_t)((lf ? lf : end) - p));
    if (cr && (cr + 1 < end && cr[1] != '\n'))
        return HTTP_LINE_BAD; /* bare CR */
    if (!lf)
        return NULL;
    if (lf == p || lf[-1] != '\r')
        return HTTP_LINE_BAD; /* bare LF */
    *content_end = lf - 1;
    return lf + 1;
}

static int parse_version(const char *p, size_t n, int *minor)
{
    if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0) {
        if (n == 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.' &&
            p[7] >= '0' && p[7] <= '9')
            return HTTP_ERR_VERSION;
        return HTTP_ERR_SYNTAX;
    }
    if (p[7] != '0' && p[7] != '1')
        return HTTP_ERR_VERSION;
    *minor = p[7] - '0';
    return 0;
}

/* The elements of a comma-separated list (RFC 9110 5.6.1), one at a time: each trimmed of
 * OWS. false at the end. An empty element is returned as an empty string. */
typedef struct {
    const char *p, *end;
    bool done;
} list_it_t;

static bool list_next(list_it_t *it, http_str_t *el)
{
    if (it->done)
        return false;
    const char *s = it->p;
    const char *c = memchr(s, ',', (size_t)(it->end - s));
    const char *e = c ? c : it->end;
    it->p = c ? c + 1 : it->end;
    it->done = !c;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *el = (http_str_t){s, (size_t)(e - s)};
    return true;
}

static bool is_token(http_str_t s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!IS(s.p[i], C_TCHAR))
            return false;
    return true;
}

/* Connection: a token list; whether it names tok. */
static bool list_has(http_str_t v, const char *tok)
{
    list_it_t it = {v.p, v.p + v.n, false};
    http_str_t el;
    while (list_next(&it, &el))
        if (http_str_ieq(el, tok))
            return true;
    return false;
}

/* %XX with two hex digits wherever '%' is. */
static bool pct_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '%' && (i + 2 >= n || !IS(p[i + 1], C_HEX) || !IS(p[i + 2], C_HEX)))
            return false;
    return true;
}

/* A Host value (RFC 9112 3.2, RFC 3986 3.2.2): uri-host [ ":" port ], or empty. */
static bool host_ok(http_str_t v)
{
    const char *p = v.p, *end = v.p + v.n;
    if (p == end)
        return true;
    if (*p == '[') { /* IP-literal */
        const char *close = memchr(p, ']', v.n);
        if (!close || close == p + 1)
            return false;
        for (const char *c = p + 1; c < close; c++)
            if (!IS(*c, C_HEX) && *c != ':' && *c != '.' && *c != 'v' && *c != 'V')
                return false;
        p = close + 1;
    } else {
        while (p < end && *p != ':') {
            if (!IS(*p, C_HOST) || *p == '[' || *p == ']')
                return false;
            p++;
        }
        if (!pct_ok(v.p, (size_t)(p - v.p)))
            return false;
    }
    if (p == end)
        return true;
    if (*p++ != ':')
        return false;
    for (; p < end; p++) /* port: *DIGIT */
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* ---- the header section ---- */

/* Parses the field lines from p up to and including the empty line; fills m and decides the
 * message's framing (RFC 9112 6). Returns the head length, 0 if incomplete, or an error. */
static int parse_headers(const char *buf, const char *p, const char *end, http_msg_t *m,
                         size_t max_head, bool request)
{
    int ncl = 0, nte = 0, nhost = 0;
    bool conn_close = false, conn_keep = false, expect_other = false;
    http_str_t te = {NULL, 0};
    m->nheaders = 0;
    m->content_length = 0;
    m->expect_continue = false;
    m->host = (http_str_t){NULL, 0};
    for (;;) {
        const char *ce;
        const char *next = line_end(p, end, &ce);
        if (next == HTTP_LINE_BAD)
            return HTTP_ERR_SYNTAX;
        if (!next)
            return (size_t)(end - buf) > max_head ? HTTP_ERR_HEAD_TOO_LARGE : HTTP_INCOMPLETE;
        if ((size_t)(next - buf) > max_head)
            return HTTP_ERR_HEAD_TOO_LARGE;
        if (ce == p) { /* the empty line */
            p = next;
            break;
        }
        /* field-name ":" OWS field-value OWS: no white space before the colon, no obsolete
         * line folding (a line that starts with white space), no control in the value. */
        const char *n = p;
        while (n < ce && IS(*n, C_TCHAR))
            n++;
        if (n == p || n == ce || *n != ':')
            return HTTP_ERR_SYNTAX;
        const char *v = n + 1;
        while (v < ce && (*v == ' ' || *v == '\t'))
            v++;
        const char *ve = ce;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *c = v; c < ve; c++)
            if (!IS(*c, C_VCHAR) && *c != ' ' && *c != '\t')
                return HTTP_ERR_SYNTAX;
        if (m->nheaders == HTTP_MAX_HEADERS)
            return HTTP_ERR_TOO_MANY_HEADERS;
        http_header_t *h = &m->headers[m->nheaders++];
        h->name = (http_str_t){p, (size_t)(n - p)};
        h->value = (http_str_t){v, (size_t)(ve - v)};

        switch (h->name.n) {
        case 14:
            if (http_str_ieq(h->name, "content-length")) {
                /* 1*DIGIT, one field line: a list, even of equal values, or a second line is
                 * refused (RFC 9112 6.3 lets a recipient refuse them). */
                if (++ncl > 1 || h->value.n == 0 || h->value.n > 15)
                    return HTTP_ERR_LENGTH;
                uint64_t cl = 0;
                for (size_t i = 0; i < h->value.n; i++) {
                    char c = h->value.p[i];
                    if (c < '0' || c > '9')
                        return HTTP_ERR_LENGTH;
                    cl = cl * 10 + (uint64_t)(c - '0');
                }
                m->content_length = cl;
            }
            break;
        case 17:
            if (http_str_ieq(h->name, "transfer-encoding")) {
                if (++nte > 1) /* codings over two lines: refused rather than joined */
                    return HTTP_ERR_SYNTAX;
                te = h->value;
            }
            break;
        case 10:
            if (http_str_ieq(h->name, "connection")) {
                conn_close |= list_has(h->value, "close");
                conn_keep |= list_has(h->value, "keep-alive");
            }
            break;
        case 6:
            if (request && http_str_ieq(h->name, "expect")) {
                if (http_str_ieq(h->value, "100-continue"))
                    m->expect_continue = true;
                else
                    expect_other = true;
            }
            break;
        case 4:
            if (request && http_str_ieq(h->name, "host")) {
                if (++nhost > 1 || !host_ok(h->value))
                    return HTTP_ERR_HOST;
                m->host = h->value;
            }
            break;
        }
        p = next;
    }
    m->head_len = (size_t)(p - buf);
    m->keep_alive = m->minor == 1 ? !conn_close : (conn_keep && !conn_close);

    /* Framing (RFC 9112 6.1, 6.3). */
    m->body = HTTP_BODY_NONE;
    if (nte) {
        /* Both at once is how requests are smuggled past proxies (6.3): refused. So is a
         * Transfer-Encoding in HTTP/1.0, which predates it (6.1). */
        if (ncl || (request && m->minor == 0))
            return HTTP_ERR_LENGTH;
        list_it_t it = {te.p, te.p + te.n, false};
        http_str_t el, last = {NULL, 0};
        int nchunked = 0, n = 0;
        while (list_next(&it, &el)) {
            if (!is_token(el)) /* an empty element or not a coding: refused, not skipped */
                return HTTP_ERR_SYNTAX;
            nchunked += http_str_ieq(el, "chunked");
            last = el;
            n++;
        }
        bool final_chunked = http_str_ieq(last, "chunked");
        if (nchunked > 1 || (nchunked == 1 && !final_chunked))
            return HTTP_ERR_SYNTAX; /* chunked twice, or not last */
        if (request) {
            if (!final_chunked)
                return HTTP_ERR_SYNTAX; /* a request body's length could not be known */
            if (n > 1)
                return HTTP_ERR_ENCODING; /* gzip, chunked: a coding we do not decode */
            m->body = HTTP_BODY_CHUNKED;
        } else {
            /* A response's body may carry other codings under chunked; without chunked last
             * it ends with the connection (6.3). */
            m->body = final_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_UNTIL_CLOSE;
        }
    } else if (ncl) {
        m->body = m->content_length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
    }
    if (request) {
        if (m->minor == 1 && nhost == 0)
            return HTTP_ERR_HOST; /* RFC 9112 3.2: a 1.1 request without Host is a 400 */
        if (expect_other)
            return HTTP_ERR_EXPECT;
    }
    return (int)m->head_len;
}

/* ---- the start lines ---- */

/* The request-target (RFC 9112 3.2): origin-form, absolute-form (http or https: the path is
 * the part after the authority), asterisk-form (OPTIONS only) or authority-form (CONNECT
 * only). Sets m->target and m->path. */
static int parse_target(const char *t, const char *te, http_msg_t *m)
{
    for (const char *c = t; c < te; c++)
        if (!IS(*c, C_TARGET))
            return HTTP_ERR_SYNTAX;
    if (!pct_ok(t, (size_t)(te - t)))
        return HTTP_ERR_SYNTAX;
    m->target = (http_str_t){t, (size_t)(te - t)};
    const char *q = memchr(t, '?', (size_t)(te - t));
    const char *pe = q ? q : te;
    if (*t == '/') {
        m->path = (http_str_t){t, (size_t)(pe - t)};
        return 0;
    }
    if (te - t == 1 && *t == '*')
        return http_str_eq(m->method, "OPTIONS") ? (m->path = m->target, 0) : HTTP_ERR_SYNTAX;
    if (http_str_eq(m->method, "CONNECT")) {
        m->path = m->target; /* host:port: no route takes it */
        return 0;
    }
    size_t sl = 0;
    if (pe - t > 7 && strncasecmp(t, "http://", 7) == 0)
        sl = 7;
    else if (pe - t > 8 && strncasecmp(t, "https://", 8) == 0)
        sl = 8;
    if (!sl)
        return HTTP_ERR_SYNTAX;
    const char *auth = t + sl;
    const char *slash = memchr(auth, '/', (size_t)(pe - auth));
    if (!host_ok((http_str_t){auth, (size_t)((slash ? slash : pe) - auth)}) ||
        (slash ? slash : pe) == auth)
        return HTTP_ERR_SYNTAX;
    m->path = slash ? (http_str_t){slash, (size_t)(pe - slash)} : (http_str_t){"/", 1};
    return 0;
}

int http_parse_request(const char *buf, size_t len, http_msg_t *m, size_t max_head)
{
    pthread_once(&cls_once, cls_init_once);
    const char *p = buf, *end = buf + len;
    /* RFC 9112 2.2: empty lines (CRLF) before the request line are ignored, two at most. */
    for (int i = 0; i < 2 && end - p >= 2 && p[0] == '\r' && p[1] == '\n'; i++)
        p += 2;
    const char *ce;
    const char *next = line_end(p, end, &ce);
    if (next == HTTP_LINE_BAD)
        return HTTP_ERR_SYNTAX;
    if (!next) {
        /* Fail fast on garbage instead of waiting for a line that will never be valid. */
        for (const char *c = p; c < end && c - p < 32 && *c != ' ' && *c != '\r'; c++)
            if (!IS(*c, C_TCHAR))
                return HTTP_ERR_SYNTAX;
        return len > max_head ? HTTP_ERR_HEAD_TOO_LARGE : HTTP_INCOMPLETE;
    }
    /* method SP request-target SP HTTP-version, single spaces */
    const char *s = p;
    while (s < ce && IS(*s, C_TCHAR))
        s++;
    if (s == p || s == ce || *s != ' ')
        return HTTP_ERR_SYNTAX;
    m->method = (http_str_t){p, (size_t)(s - p)};
    const char *t = ++s;
    while (s < ce && *s != ' ')
        s++;
    if (s == t || s == ce)
        return HTTP_ERR_SYNTAX;
    int rc = parse_target(t, s, m);
    if (rc)
        return rc;
    s++;
    rc = parse_version(s, (size_t)(ce - s), &m->minor);
    if (rc)
        return rc;
    m->status = 0;
    m->reason = (http_str_t){NULL, 0};
    return parse_headers(buf, next, end, m, max_head, true);
}

int http_parse_response(const char *buf, size_t len, http_msg_t *m, size_t max_head,
                        bool head_request)
{
    pthread_once(&cls_once, cls_init_once);
    const char *p = buf, *end = buf + len;
    const char *ce;
    const char *next = line_end(p, end, &ce);
    if (next == HTTP_LINE_BAD)
        return HTTP_ERR_SYNTAX;
    if (!next) {
        if (len >= 5 && memcmp(p, "HTTP/", 5) != 0)
            return HTTP_ERR_SYNTAX;
        return len > max_head ? HTTP_ERR_HEAD_TOO_LARGE : HTTP_INCOMPLETE;
    }
    /* HTTP-version SP 3DIGIT SP [reason] */
    if (ce - p < 12 || p[8] != ' ')
        return HTTP_ERR_SYNTAX;
    int rc = parse_version(p, 8, &m->minor);
    if (rc)
        return rc;
    const char *d = p + 9;
    if (d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9')
        return HTTP_ERR_SYNTAX;
    if (d + 3 < ce && d[3] != ' ')
        return HTTP_ERR_SYNTAX;
    for (const char *c = d + 3; c < ce; c++) /* reason-phrase: HTAB, SP, VCHAR, obs-text */
        if (!IS(*c, C_VCHAR) && *c != ' ' && *c != '\t')
            return HTTP_ERR_SYNTAX;
    m->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    m->reason = d + 3 < ce ? (http_str_t){d + 4, (size_t)(ce - d - 4)} : (http_str_t){d + 3, 0};
    m->method = m->target = m->path = (http_str_t){NULL, 0};
    rc = parse_headers(buf, next, end, m, max_head, false);
    if (rc <= 0)
        return rc;
    if (head_request || m->status < 200 || m->status == 204 || m->status == 304)
        m->body = HTTP_BODY_NONE;
    else if (m->body == HTTP_BODY_NONE && !http_header(m, "content-length"))
        m->body = HTTP_BODY_UNTIL_CLOSE;
    return rc;
}

/* ---- chunked (RFC 9112 7.1) ----
 * chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; chunk-ext = *( BWS ";" BWS name
 * [ BWS "=" BWS value ] ), name a token, value a token or a quoted-string; the last chunk is
 * size 0, then trailer field lines and the empty line. Every line ends with CRLF; a size line
 * and a trailer line hold at most CHUNK_LINE_MAX bytes. */

enum {
    CH_SIZE,        /* hex digits */
    CH_EXT_NEXT,    /* after the size or an extension: ';', BWS then ';', or CR */
    CH_EXT_SEMI,    /* BWS seen: only more of it or ';' (no white space before the CRLF) */
    CH_EXT_NAME_BWS,/* after ';': BWS, then the name */
    CH_EXT_NAME,    /* in the name */
    CH_EXT_EQ,      /* after the name: '=', BWS, ';' or CR */
    CH_EXT_EQ_WS,   /* BWS after the name: only more of it, '=' or ';' */
    CH_EXT_VAL_BWS, /* after '=': BWS, then a token or a quoted string */
    CH_EXT_TOKEN,   /* in a token value */
    CH_EXT_QUOTED,  /* in a quoted string */
    CH_EXT_QPAIR,   /* after a backslash in a quoted string */
    CH_SIZE_LF,     /* the CR of the size line seen */
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER,     /* at the start of a trailer line (or the final empty line) */
    CH_TRAILER_NAME,
    CH_TRAILER_VALUE,
    CH_TRAILER_LF,  /* the CR of a trailer line seen */
    CH_END_LF,      /* the CR of the final empty line seen */
};

#define CHUNK_LINE_MAX 4096
#define CHUNK_MAX_TRAILERS 64

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

ssize_t http_chunked_decode(http_chunked_t *d, char *buf, size_t len)
{
    pthread_once(&cls_once, cls_init_once);
    size_t i = d->pos;
    while (i < len) {
        char c = buf[i];
        if (d->state != CH_DATA && i - d->line_at >= CHUNK_LINE_MAX)
            return HTTP_ERR_SYNTAX;
        switch (d->state) {
        case CH_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (d->digits >= 15) /* 15 hex digits: far beyond any body we accept */
                    return HTTP_ERR_SYNTAX;
                d->remaining = d->remaining * 16 + (uint64_t)h;
                d->digits++;
                i++;
                break;
            }
            if (d->digits == 0)
                return HTTP_ERR_SYNTAX;
            d->state = CH_EXT_NEXT;
            break; /* c again in the new state */
        }
        case CH_EXT_NEXT:
            if (c == ' ' || c == '\t')
                d->state = CH_EXT_SEMI;
            else if (c == ';')
                d->state = CH_EXT_NAME_BWS;
            else if (c == '\r')
                d->state = CH_SIZE_LF;
            else
                return HTTP_ERR_SYNTAX;
            i++;
            break;
        case CH_EXT_SEMI:
            if (c == ';')
                d->state = CH_EXT_NAME_BWS;
            else if (c != ' ' && c != '\t')
                return HTTP_ERR_SYNTAX;
            i++;
            break;
        case CH_EXT_NAME_BWS:
            if (c == ' ' || c == '\t') {
                i++;
            } else if (IS(c, C_TCHAR)) {
                d->state = CH_EXT_NAME;
            } else {
                return HTTP_ERR_SYNTAX;
            }
            break;
        case CH_EXT_NAME:
            if (IS(c, C_TCHAR))
                i++;
            else
                d->state = CH_EXT_EQ;
            break;
        case CH_EXT_EQ:
            if (c == '=') {
                d->state = CH_EXT_VAL_BWS;
                i++;
            } else if (c == ' ' || c == '\t') {
                d->state = CH_EXT_EQ_WS;
                i++;
            } else {
                d->state = CH_EXT_NEXT; /* ';' or CR, or an error there */
            }
            break;
        case CH_EXT_EQ_WS:
            if (c == '=')
                d->state = CH_EXT_VAL_BWS;
            else if (c == ';')
                d->state = CH_EXT_NAME_BWS;
            else if (c != ' ' && c != '\t')
                return HTTP_ERR_SYNTAX;
            i++;
            break;
        case CH_EXT_VAL_BWS:
            if (c == ' ' || c == '\t') {
                i++;
            } else if (c == '"') {
                d->state = CH_EXT_QUOTED;
                i++;
            } else if (IS(c, C_TCHAR)) {
                d->state = CH_EXT_TOKEN;
            } else {
                return HTTP_ERR_SYNTAX;
            }
            break;
        case CH_EXT_TOKEN:
            if (IS(c, C_TCHAR))
                i++;
            else
                d->state = CH_EXT_NEXT;
            break;
        case CH_EXT_QUOTED: /* qdtext: HTAB, SP, VCHAR but '"' and '\', obs-text */
            if (c == '"')
                d->state = CH_EXT_NEXT;
            else if (c == '\\')
                d->state = CH_EXT_QPAIR;
            else if (!IS(c, C_VCHAR) && c != ' ' && c != '\t')
                return HTTP_ERR_SYNTAX;
            i++;
            break;
        case CH_EXT_QPAIR:
            if (!IS(c, C_VCHAR) && c != ' ' && c != '\t')
                return HTTP_ERR_SYNTAX;
            d->state = CH_EXT_QUOTED;
            i++;
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return HTTP_ERR_SYNTAX;
            i++;
            d->line_at = i;
            d->state = d->remaining ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t n = len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            if (d->out != i)
                memmove(buf + d->out, buf + i, n);
            d->out += n;
            i += n;
            d->remaining -= n;
            if (d->remaining == 0) {
                d->state = CH_DATA_CR;
                d->line_at = i;
            }
            break;
        }
        case CH_DATA_CR:
            if (c != '\r')
                return HTTP_ERR_SYNTAX;
            d->state = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                return HTTP_ERR_SYNTAX;
            i++;
            d->state = CH_SIZE;
            d->line_at = i;
            d->digits = 0;
            break;
        case CH_TRAILER:
            if (c == '\r') {
                d->state = CH_END_LF;
                i++;
            } else if (IS(c, C_TCHAR)) {
                if (++d->trailers > CHUNK_MAX_TRAILERS)
                    return HTTP_ERR_SYNTAX;
                d->state = CH_TRAILER_NAME;
            } else {
                return HTTP_ERR_SYNTAX; /* white space first (folding), a control, ':' */
            }
            break;
        case CH_TRAILER_NAME:
            if (IS(c, C_TCHAR))
                i++;
            else if (c == ':')
                d->state = CH_TRAILER_VALUE, i++;
            else
                return HTTP_ERR_SYNTAX;
            break;
        case CH_TRAILER_VALUE: /* its content is not kept */
            if (c == '\r')
                d->state = CH_TRAILER_LF;
            else if (!IS(c, C_VCHAR) && c != ' ' && c != '\t')
                return HTTP_ERR_SYNTAX;
            i++;
            break;
        case CH_TRAILER_LF:
            if (c != '\n')
                return HTTP_ERR_SYNTAX;
            i++;
            d->state = CH_TRAILER;
            d->line_at = i;
            break;
        case CH_END_LF:
            if (c != '\n')
                return HTTP_ERR_SYNTAX;
            d->pos = i + 1;
            return (ssize_t)(i + 1);
        }
    }
    d->pos = i;
    return 0;
}

/* ---- where a message ends ---- */

int http_frame(const http_msg_t *m, char *buf, size_t len, bool eof, uint64_t max_body,
               http_chunked_t *d, http_frame_t *f)
{
    size_t head = m->head_len;
    f->missing = 0;
    switch (m->body) {
    case HTTP_BODY_NONE:
        f->total = head;
        f->body_len = 0;
        return 1;
    case HTTP_BODY_LENGTH:
        if (m->content_length > max_body)
            return HTTP_ERR_BODY_TOO_LARGE;
        f->body_len = (size_t)m->content_length;
        f->total = head + f->body_len;
        if (len < f->total) {
            f->missing = f->total - len;
            return 0;
        }
        return 1;
    case HTTP_BODY_CHUNKED: {
        ssize_t r = http_chunked_decode(d, buf + head, len - head);
        /* As soon as a chunk's size says the body will be too large, not once it arrived. */
        if (d->out > max_body ||
            (r == 0 && d->state == CH_DATA && d->out + d->remaining > max_body))
            return HTTP_ERR_BODY_TOO_LARGE;
        if (r < 0)
            return HTTP_ERR_SYNTAX;
        if (r == 0)
            return 0;
        f->total = head + (size_t)r;
        f->body_len = d->out;
        return 1;
    }
    case HTTP_BODY_UNTIL_CLOSE:
        if (len - head > max_body)
            return HTTP_ERR_BODY_TOO_LARGE;
        if (!eof)
            return 0;
        f->total = len;
        f->body_len = len - head;
        return 1;
    }
    return HTTP_ERR_SYNTAX;
}

/* ---- writing ---- */

static const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    }
    return "Unknown";
}

/* TechEmpower's rules allow the Date header to be cached per second; every fast server does. */
static __thread time_t date_sec = -1;
static __thread char date_str[40];

const char *http_date(void)
{
    time_t now = time(NULL);
    if (now != date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date_str, sizeof date_str, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        date_sec = now;
    }
    return date_str;
}

#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) += sizeof(s) - 1)
#define PUT_STR(p, s, n) (memcpy((p), (s), (n)), (p) += (n))

int http_write_response_head(buf_t *out, int status, const char *content_type,
                             size_t content_length, http_conn_t conn, const char *extra)
{
    const char *reason = http_reason(status);
    size_t rn = strlen(reason), tn = content_type ? strlen(content_type) : 0;
    size_t en = extra ? strlen(extra) : 0;
    int rc = buf_reserve(out, 128 + rn + tn + en);
    if (rc)
        return rc;
    char *p = buf_end(out), *start = p;
    PUT_LIT(p, "HTTP/1.1 ");
    p += fmt_u64(p, (uint64_t)status);
    *p++ = ' ';
    PUT_STR(p, reason, rn);
    PUT_LIT(p, "\r\nDate: ");
    PUT_STR(p, http_date(), 29);
    if (content_type) {
        PUT_LIT(p, "\r\nContent-Type: ");
        PUT_STR(p, content_type, tn);
    }
    PUT_LIT(p, "\r\nContent-Length: ");
    p += fmt_u64(p, content_length);
    if (conn == HTTP_CONN_CLOSE)
        PUT_LIT(p, "\r\nConnection: close");
    else if (conn == HTTP_CONN_KEEP_10)
        PUT_LIT(p, "\r\nConnection: keep-alive");
    PUT_LIT(p, "\r\n");
    if (en)
        PUT_STR(p, extra, en);
    PUT_LIT(p, "\r\n");
    buf_commit(out, (size_t)(p - start));
    return 0;
}

int http_write_request(buf_t *out, const char *method, const char *authority, const char *target,
                       const char *const *headers, size_t nheaders, const void *body,
                       size_t body_len)
{
    int rc = buf_printf(out, "%s %s HTTP/1.1\r\n", method, target);
    bool has_host = false;
    for (size_t i = 0; i < nheaders && !rc; i++) {
        if (strncasecmp(headers[i], "host:", 5) == 0)
            has_host = true;
        rc = buf_printf(out, "%s\r\n", headers[i]);
    }
    if (!rc && !has_host)
        rc = buf_printf(out, "Host: %s\r\n", authority);
    bool method_has_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                           strcmp(method, "PATCH") == 0;
    if (!rc && (body_len > 0 || method_has_body))
        rc = buf_printf(out, "Content-Length: %zu\r\n", body_len);
    if (!rc)
        rc = buf_puts(out, "\r\n");
    if (!rc && body_len)
        rc = buf_append(out, body, body_len);
    return rc;
}
