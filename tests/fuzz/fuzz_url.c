/* libFuzzer target for the URL parser (src/http/url.h), which reads the URL a user gives to
 * `stackbench load` and `stackbench verify`. The input is the URL, as a C string in an
 * exact-size heap copy (AddressSanitizer sees any read past its NUL). On success:
 *   - the host is non-empty, the port is 1..65535, the target starts with '/';
 *   - the authority is the bytes right after "http://", and it is the host (in brackets when
 *     the URL had them) with ":PORT" when a port was written (port 80 otherwise);
 *   - the target is what follows the authority, or "/" when nothing does, with a '/' put
 *     before a bare query;
 *   - the URL built back from its parts ("http://" authority target) parses to the same parts.
 * On failure the message is non-empty. abort() on any violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/url.h"

static void check_parts(const char *s, const http_url_t *u)
{
    size_t hn = strlen(u->host), an = strlen(u->authority);
    if (hn == 0 || hn >= sizeof u->host || u->port < 1 || u->port > 65535 || u->target[0] != '/')
        abort();
    /* the authority as written */
    const char *p = s + 7;
    if (strncmp(s, "http://", 7) != 0 || strncmp(p, u->authority, an) != 0)
        abort();
    /* host, or [host], then :PORT or nothing */
    const char *a = u->authority, *after;
    if (a[0] == '[') {
        if (an < hn + 2 || memcmp(a + 1, u->host, hn) != 0 || a[hn + 1] != ']')
            abort();
        after = a + hn + 2;
    } else {
        if (an < hn || memcmp(a, u->host, hn) != 0)
            abort();
        after = a + hn;
    }
    if (*after == 0) {
        if (u->port != 80)
            abort();
    } else {
        char *end;
        if (*after != ':' || after[1] < '0' || after[1] > '9' ||
            strtol(after + 1, &end, 10) != u->port || *end)
            abort();
    }
    /* the target: the rest of the URL */
    const char *rest = p + an;
    if (*rest == 0) {
        if (strcmp(u->target, "/") != 0)
            abort();
    } else if (*rest == '?') {
        if (u->target[0] != '/' || strcmp(u->target + 1, rest) != 0)
            abort();
    } else if (*rest != '/' || strcmp(u->target, rest) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;

    http_url_t u;
    char err[256] = "";
    if (http_url_parse(s, &u, err, sizeof err) != 0) {
        if (!err[0])
            abort();
        free(s);
        return 0;
    }
    check_parts(s, &u);

    /* round trip: the URL made of the parts gives the same parts */
    size_t n = 7 + strlen(u.authority) + strlen(u.target) + 1;
    char *again = malloc(n);
    snprintf(again, n, "http://%s%s", u.authority, u.target);
    http_url_t v;
    if (http_url_parse(again, &v, err, sizeof err) != 0)
        abort();
    check_parts(again, &v);
    if (strcmp(u.host, v.host) || u.port != v.port || strcmp(u.authority, v.authority) ||
        strcmp(u.target, v.target))
        abort();
    free(again);
    free(s);
    return 0;
}
