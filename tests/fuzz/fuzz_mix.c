/* libFuzzer target for the request mix (src/load/mix.h), which reads the --mix specs of
 * `stackbench load`. The input is up to MIX_MAX_TEMPLATES specs, one per line, each a C string
 * in an exact-size heap copy. Every spec that mix_parse_spec accepts goes into one mix, and:
 *   - mix_new compiles it (with no headers, one, or a Host of its own, by the input's length);
 *   - mix_pick gives an index of the mix, mix_is_head says whether its method is HEAD;
 *   - each template is rendered with a few seeds into a buffer of exactly mix_render_max()
 *     bytes (AddressSanitizer sees any write past it). The numbers substituted are as many as
 *     the template's placeholders, each within its [LO, HI], and the request is byte for byte
 *     what http_write_request writes for the template's target and body with those numbers
 *     put in place of the placeholders (found here by the rule of mix.h, not by mix.c);
 *   - when the method is a token and the target holds only request-target characters, the
 *     request parses with http_parse_request as one complete request: the same method and
 *     target, a body of Content-Length bytes that are the substituted body. Otherwise the
 *     parser refuses it (an error, not "incomplete").
 * abort() on any violation. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/rand.h"
#include "http/http1.h"
#include "load/mix.h"

static const char authority[] = "127.0.0.1:8080";
static const char *const header_sets[3][2] = {
    {NULL, NULL},
    {"Accept: */*", NULL},
    {"Host: example.com:81", "X-Request: 1"},
};
static const size_t header_counts[3] = {0, 1, 2};

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

/* A signed decimal in s[0..n) that fits in int64_t: an optional sign, then digits only (any
 * number of them: leading zeros are digits too). */
static bool parse_dec(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = n > 0 && (s[0] == '-' || s[0] == '+');
    if (i == n)
        return false;
    unsigned __int128 v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v > (unsigned __int128)INT64_MAX + 1)
            return false;
    }
    if (!neg && v > INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - (uint64_t)v) : (int64_t)v;
    return true;
}

/* s[0..n) with its placeholders ('{', a name, then ':' or '}': in an accepted template, all of
 * them {rand:LO:HI}) replaced by sent's values from *k on, each checked within [LO, HI]. */
static void substitute(const char *s, size_t n, const mix_sent_t *sent, int *k, buf_t *out)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == '{' && i + 1 < n && name_start(s[i + 1])) {
            size_t j = i + 1;
            while (j < n && name_char(s[j]))
                j++;
            if (j < n && (s[j] == ':' || s[j] == '}')) {
                const char *close = memchr(s + j, '}', n - j);
                if (!close || j - i - 1 != 4 || memcmp(s + i + 1, "rand", 4) != 0 || s[j] != ':')
                    abort(); /* mix_parse_spec accepted a placeholder other than {rand:LO:HI} */
                const char *lo_s = s + j + 1;
                const char *colon = memchr(lo_s, ':', (size_t)(close - lo_s));
                int64_t lo, hi;
                if (!colon || !parse_dec(lo_s, (size_t)(colon - lo_s), &lo) ||
                    !parse_dec(colon + 1, (size_t)(close - colon - 1), &hi) || lo > hi)
                    abort();
                if (*k >= sent->nvalues)
                    abort();
                int64_t v = sent->values[(*k)++];
                if (v < lo || v > hi)
                    abort();
                buf_printf(out, "%lld", (long long)v);
                i = (size_t)(close + 1 - s);
                continue;
            }
        }
        buf_append(out, &s[i], 1);
        i++;
    }
}

/* What http_parse_request takes in a method and in a target (RFC 9110 5.6.2, RFC 3986). */
static bool is_tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool target_ok(const char *t)
{
    for (size_t i = 0; t[i]; i++) {
        char c = t[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && !strchr("-._~!$&'()*+,;=:@/?%", c))
            return false;
        if (c == '%' && (!is_hex(t[i + 1]) || !is_hex(t[i + 2])))
            return false;
    }
    return true;
}

static bool method_ok(const char *m)
{
    for (size_t i = 0; m[i]; i++)
        if (!is_tchar(m[i]))
            return false;
    return m[0] != 0;
}

static void check_render(const mix_t *m, int i, const mix_template_t *rq, rng_t *r, char *buf,
                         size_t bufmax, const char *const *headers, size_t nheaders)
{
    const char *out = NULL;
    mix_sent_t sent;
    size_t len = mix_render(m, i, r, buf, &out, &sent);
    if (!out || sent.index != i || sent.nvalues < 0 || sent.nvalues > MIX_MAX_VALUES)
        abort();
    if (out == buf && len > bufmax)
        abort();

    /* the request written the plain way, with the numbers drawn */
    buf_t target = BUF_INIT, body = BUF_INIT, want = BUF_INIT;
    int k = 0;
    substitute(rq->target, strlen(rq->target), &sent, &k, &target);
    buf_append(&target, "", 1); /* a C string */
    if (rq->body)
        substitute(rq->body, rq->body_len, &sent, &k, &body);
    if (k != sent.nvalues)
        abort();
    const char *t = buf_start(&target);
    if (http_write_request(&want, rq->method, authority, t, headers, nheaders,
                           buf_start(&body), buf_size(&body)) != 0)
        abort();
    if (len != buf_size(&want) || memcmp(out, buf_start(&want), len) != 0)
        abort();

    /* and as a server reads it */
    http_msg_t msg;
    int rc = http_parse_request(out, len, &msg, len + 1);
    if (method_ok(rq->method) && target_ok(t)) {
        if (rc <= 0 || !http_str_eq(msg.method, rq->method) || !http_str_eq(msg.target, t))
            abort();
        size_t blen = len - (size_t)rc;
        if (blen != buf_size(&body) || memcmp(out + rc, buf_start(&body), blen) != 0)
            abort();
        if (blen ? msg.body != HTTP_BODY_LENGTH || msg.content_length != blen
                 : msg.body != HTTP_BODY_NONE)
            abort();
    } else if (rc >= 0) {
        abort();
    }
    buf_free(&target);
    buf_free(&body);
    buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *specs[MIX_MAX_TEMPLATES];
    mix_template_t rqs[MIX_MAX_TEMPLATES];
    size_t n = 0, nspecs = 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end && nspecs < MIX_MAX_TEMPLATES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        char *s = malloc(len + 1); /* exact size: mix_parse_spec cuts it in place */
        memcpy(s, p, len);
        s[len] = 0;
        specs[nspecs++] = s;
        char err[512] = "";
        if (mix_parse_spec(s, &rqs[n], err, sizeof err) == 0)
            n++;
        else if (!err[0])
            abort();
        p = nl ? nl + 1 : end;
    }

    if (n > 0) {
        const char *const *headers = header_sets[size % 3];
        size_t nheaders = header_counts[size % 3];
        char err[512] = "";
        mix_t *m = mix_new(rqs, n, authority, headers, nheaders, err, sizeof err);
        if (!m)
            abort(); /* every template passed mix_parse_spec's checks */
        size_t max = mix_render_max(m);
        char *buf = malloc(max ? max : 1);
        static const uint64_t seeds[] = {1, 2, 0x9e3779b97f4a7c15ULL};
        for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
            rng_t r;
            rng_seed(&r, seeds[s], s);
            int pick = mix_pick(m, &r);
            if (pick < 0 || (size_t)pick >= n)
                abort();
            for (size_t i = 0; i < n; i++) {
                if (mix_is_head(m, (int)i) != (strcmp(rqs[i].method, "HEAD") == 0))
                    abort();
                check_render(m, (int)i, &rqs[i], &r, buf, max, headers, nheaders);
            }
        }
        free(buf);
        mix_free(m);
    }
    for (size_t i = 0; i < nspecs; i++)
        free(specs[i]);
    return 0;
}
