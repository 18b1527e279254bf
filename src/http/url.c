#include "http/url.h"

#include <stdio.h>
#include <string.h>

int http_url_parse(const char *s, http_url_t *u, char *err, size_t errlen)
{
    if (strncmp(s, "http://", 7) != 0) {
        snprintf(err, errlen, "URL must start with http:// (got '%s')", s);
        return -1;
    }
    const char *p = s + 7, *host, *hend, *rest;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend)
            goto bad;
        host = p + 1;
        rest = hend + 1;
    } else {
        host = p;
        hend = p + strcspn(p, ":/?");
        rest = hend;
    }
    if (hend == host)
        goto bad;
    int port = 80;
    if (*rest == ':') {
        /* Digits only: strtol would also take a sign and leading white space. */
        const char *d = rest + 1;
        for (port = 0; *d >= '0' && *d <= '9'; d++)
            if ((port = port * 10 + (*d - '0')) > 65535)
                goto bad;
        if (d == rest + 1 || port == 0)
            goto bad;
        rest = d;
    }
    if (*rest && *rest != '/' && *rest != '?')
        goto bad;
    /* A part that does not fit is refused: cut short, it would name another host or path. */
    size_t hn = (size_t)(hend - host), an = (size_t)(rest - p);
    size_t tn = *rest ? strlen(rest) + (*rest == '?') : 1;
    if (hn >= sizeof u->host) {
        snprintf(err, errlen, "URL too long: a host of at most %zu bytes, got %zu",
                 sizeof u->host - 1, hn);
        return -1;
    }
    if (an >= sizeof u->authority) {
        snprintf(err, errlen, "URL too long: a host and port of at most %zu bytes, got %zu",
                 sizeof u->authority - 1, an);
        return -1;
    }
    if (tn >= sizeof u->target) {
        snprintf(err, errlen, "URL too long: a path and query of at most %zu bytes, got %zu",
                 sizeof u->target - 1, tn);
        return -1;
    }
    memcpy(u->host, host, hn);
    u->host[hn] = 0;
    u->port = port;
    memcpy(u->authority, p, an);
    u->authority[an] = 0;
    snprintf(u->target, sizeof u->target, "%s%s", *rest == '?' ? "/" : "", *rest ? rest : "/");
    return 0;
bad:
    snprintf(err, errlen, "malformed URL '%s'", s);
    return -1;
}
