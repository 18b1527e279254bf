#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int http_url_parse(const char *s, http_url_t *u, char *err, size_t errlen)
{
    if (strncmp(s, "http://", 7) != 0) {
        snprintf(err, errlen, "URL must start with http:// (got '%s')", s);
        return -1;
    }
    const char *p = s + 7, *hend, *rest;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend)
            goto bad;
        snprintf(u->host, sizeof u->host, "%.*s", (int)(hend - p - 1), p + 1);
        rest = hend + 1;
    } else {
        hend = p + strcspn(p, ":/?");
        snprintf(u->host, sizeof u->host, "%.*s", (int)(hend - p), p);
        rest = hend;
    }
    if (!u->host[0])
        goto bad;
    u->port = 80;
    if (*rest == ':') {
        char *e;
        long port = strtol(rest + 1, &e, 10);
        if (e == rest + 1 || port <= 0 || port > 65535)
            goto bad;
        u->port = (int)port;
        rest = e;
    }
    if (*rest && *rest != '/' && *rest != '?')
        goto bad;
    snprintf(u->authority, sizeof u->authority, "%.*s", (int)(rest - (s + 7)), s + 7);
    snprintf(u->target, sizeof u->target, "%s%s", *rest == '?' ? "/" : "", *rest ? rest : "/");
    return 0;
bad:
    snprintf(err, errlen, "malformed URL '%s'", s);
    return -1;
}
