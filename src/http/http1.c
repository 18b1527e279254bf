#include "http/http1.h"

#include "core/fmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 9110 tchar: the characters of a token (method, header name). */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

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

/* Finds the end of the line starting at p: returns the pointer to '\n' and sets *content_end
 * to the end of the line's content (before an optional '\r'). NULL when no '\n' yet. */
static const char *line_end(const char *p, const char *end, const char **content_end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    *content_end = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
    return nl;
}

static int parse_version(const char *p, size_t n, int *minor)
{
    if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0) {
        if (n == 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.')
            return HTTP_ERR_VERSION;
        return HTTP_ERR_SYNTAX;
    }
    if (p[7] != '0' && p[7] != '1')
        return HTTP_ERR_VERSION;
    *minor = p[7] - '0';
    return 0;
}

/* Token list membership, e.g. Connection: "keep-alive, Upgrade". */
static bool list_has(http_str_t v, const char *tok)
{
    size_t tn = strlen(tok);
    const char *p = v.p, *end = v.p + v.n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tn && strncasecmp(s, tok, tn) == 0)
            return true;
    }
    return false;
}

/* Parses header lines from p up to and including the empty line; fills m and interprets the
 * framing headers. Returns the head length, 0 if incomplete, or an error. */
static int parse_headers(const char *buf, const char *p, const char *end, http_msg_t *m,
                         size_t max_head)
{
    bool have_cl = false, have_te = false, te_chunked = false;
    bool conn_close = false, conn_keep = false;
    m->nheaders = 0;
    m->content_length = 0;
    m->expect_continue = false;
    for (;;) {
        const char *ce;
        const char *nl = line_end(p, end, &ce);
        if (!nl)
            return (size_t)(end - buf) > max_head ? HTTP_ERR_HEAD_TOO_LARGE : HTTP_INCOMPLETE;
        if ((size_t)(nl + 1 - buf) > max_head)
            return HTTP_ERR_HEAD_TOO_LARGE;
        if (ce == p) { /* the empty line */
            p = nl + 1;
            break;
        }
        /* field-name ":" OWS field-value OWS; no space before the colon, no obsolete folding */
        const char *n = p;
        while (n < ce && tchar[(unsigned char)*n])
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
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return HTTP_ERR_SYNTAX;
        if (m->nheaders == HTTP_MAX_HEADERS)
            return HTTP_ERR_TOO_MANY_HEADERS;
        http_header_t *h = &m->headers[m->nheaders++];
        h->name = (http_str_t){p, (size_t)(n - p)};
        h->value = (http_str_t){v, (size_t)(ve - v)};

        switch (h->name.n) {
        case 14:
            if (http_str_ieq(h->name, "content-length")) {
                if (h->value.n == 0 || h->value.n > 15)
                    return HTTP_ERR_LENGTH;
                uint64_t cl = 0;
                for (size_t i = 0; i < h->value.n; i++) {
                    char c = h->value.p[i];
                    if (c < '0' || c > '9')
                        return HTTP_ERR_LENGTH;
                    cl = cl * 10 + (uint64_t)(c - '0');
                }
                if (have_cl && cl != m->content_length)
                    return HTTP_ERR_LENGTH;
                have_cl = true;
                m->content_length = cl;
            }
            break;
        case 17:
            if (http_str_ieq(h->name, "transfer-encoding")) {
                /* Only "chunked" is supported, and it must be the final coding. */
                if (!http_str_ieq(h->value, "chunked"))
                    return HTTP_ERR_ENCODING;
                have_te = te_chunked = true;
            }
            break;
        case 10:
            if (http_str_ieq(h->name, "connection")) {
                conn_close |= list_has(h->value, "close");
                conn_keep |= list_has(h->value, "keep-alive");
            }
            break;
        case 6:
            if (http_str_ieq(h->name, "expect") && http_str_ieq(h->value, "100-continue"))
                m->expect_continue = true;
            break;
        }
        p = nl + 1;
    }
    /* Both framings at once is how requests are smuggled past proxies: refuse (RFC 9112 6.3). */
    if (have_te && have_cl)
        return HTTP_ERR_LENGTH;
    m->body = te_chunked ? HTTP_BODY_CHUNKED : have_cl ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
    if (m->body == HTTP_BODY_LENGTH && m->content_length == 0)
        m->body = HTTP_BODY_NONE;
    m->keep_alive = m->minor == 1 ? !conn_close : (conn_keep && !conn_close);
    m->head_len = (size_t)(p - buf);
    return (int)m->head_len;
}

int http_parse_request(const char *buf, size_t len, http_msg_t *m, size_t max_head)
{
    const char *p = buf, *end = buf + len;
    /* RFC 9112 2.2: ignore at least one empty line before the request line. */
    while (p < end && (*p == '\r' || *p == '\n') && p - buf < 4)
        p++;
    const char *ce;
    const char *nl = line_end(p, end, &ce);
    if (!nl) {
        /* Fail fast on garbage instead of waiting for a line that will never be valid. */
        for (const char *c = p; c < end && c - p < 32 && *c != ' '; c++)
            if (!tchar[(unsigned char)*c])
                return HTTP_ERR_SYNTAX;
        return len > max_head ? HTTP_ERR_HEAD_TOO_LARGE : HTTP_INCOMPLETE;
    }
    /* method SP request-target SP HTTP-version */
    const char *s = p;
    while (s < ce && tchar[(unsigned char)*s])
        s++;
    if (s == p || s == ce || *s != ' ')
        return HTTP_ERR_SYNTAX;
    m->method = (http_str_t){p, (size_t)(s - p)};
    const char *t = ++s;
    const char *q = NULL;
    while (s < ce && (unsigned char)*s > 0x20 && *s != 0x7f) {
        if (*s == '?' && !q)
            q = s;
        s++;
    }
    if (s == t || s == ce || *s != ' ')
        return HTTP_ERR_SYNTAX;
    m->target = (http_str_t){t, (size_t)(s - t)};
    m->path = (http_str_t){t, (size_t)((q ? q : s) - t)};
    s++;
    int rc = parse_version(s, (size_t)(ce - s), &m->minor);
    if (rc)
        return rc;
    m->status = 0;
    m->reason = (http_str_t){NULL, 0};
    return parse_headers(buf, nl + 1, end, m, max_head);
}

int http_parse_response(const char *buf, size_t len, http_msg_t *m, size_t max_head,
                        bool head_request)
{
    const char *p = buf, *end = buf + len;
    const char *ce;
    const char *nl = line_end(p, end, &ce);
    if (!nl) {
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
    m->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    m->reason = d + 3 < ce ? (http_str_t){d + 4, (size_t)(ce - d - 4)} : (http_str_t){d + 3, 0};
    m->method = m->target = m->path = (http_str_t){NULL, 0};
    rc = parse_headers(buf, nl + 1, end, m, max_head);
    if (rc <= 0)
        return rc;
    bool has_framing = http_header(m, "content-length") || m->body == HTTP_BODY_CHUNKED;
    if (head_request || m->status < 200 || m->status == 204 || m->status == 304)
        m->body = HTTP_BODY_NONE;
    else if (!has_framing)
        m->body = HTTP_BODY_UNTIL_CLOSE;
    return rc;
}

/* ---- chunked ---- */

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LF };

#define CHUNK_LINE_MAX 4096

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
    size_t i = d->pos;
    while (i < len) {
        char c = buf[i];
        switch (d->state) {
        case CH_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (d->line >= 15) /* 15 hex digits: far beyond any body we accept */
                    return HTTP_ERR_SYNTAX;
                d->remaining = d->remaining * 16 + (uint64_t)h;
                d->line++;
                i++;
            } else if (d->line == 0) {
                return HTTP_ERR_SYNTAX;
            } else if (c == ';' || c == ' ' || c == '\t') {
                d->state = CH_EXT;
                i++;
            } else if (c == '\r') {
                d->state = CH_SIZE_LF;
                i++;
            } else if (c == '\n') {
                d->state = CH_SIZE_LF;
            } else {
                return HTTP_ERR_SYNTAX;
            }
            break;
        }
        case CH_EXT: /* chunk extensions are ignored, within a bounded line */
            if (++d->line > CHUNK_LINE_MAX)
                return HTTP_ERR_SYNTAX;
            if (c == '\n') { /* bare LF: CH_SIZE_LF consumes it */
                d->state = CH_SIZE_LF;
                break;
            }
            if (c == '\r')
                d->state = CH_SIZE_LF;
            i++;
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return HTTP_ERR_SYNTAX;
            i++;
            d->line = 0;
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
            if (d->remaining == 0)
                d->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (c == '\r') {
                d->state = CH_DATA_LF;
                i++;
            } else if (c == '\n') {
                d->state = CH_DATA_LF;
            } else {
                return HTTP_ERR_SYNTAX;
            }
            break;
        case CH_DATA_LF:
            if (c != '\n')
                return HTTP_ERR_SYNTAX;
            i++;
            d->state = CH_SIZE;
            d->line = 0;
            break;
        case CH_TRAILER: /* trailer fields until an empty line; their content is ignored */
            if (c == '\n' || c == '\r') {
                if (d->line == 0) {
                    if (c == '\r') {
                        d->state = CH_TRAILER_LF;
                        i++;
                        break;
                    }
                    d->pos = i + 1;
                    return (ssize_t)(i + 1);
                }
                if (c == '\n')
                    d->line = 0;
                i++;
                break;
            }
            if (++d->line > CHUNK_LINE_MAX)
                return HTTP_ERR_SYNTAX;
            i++;
            break;
        case CH_TRAILER_LF:
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
        if (d->out > max_body)
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
                             size_t content_length, bool keep_alive, const char *extra)
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
    if (!keep_alive)
        PUT_LIT(p, "\r\nConnection: close");
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
