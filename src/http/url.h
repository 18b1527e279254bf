/* url: the http:// URLs the load engine and the contract checker are pointed at. */
#ifndef SB_HTTP_URL_H
#define SB_HTTP_URL_H

#include <stddef.h>

typedef struct {
    char host[256];       /* without brackets for IPv6 */
    int port;             /* 80 when absent */
    char authority[300];  /* host[:port] as written, for the Host header */
    char target[2048];    /* path and query, "/" when absent */
} http_url_t;

/* "http://host[:port][/path][?query]". 0, or -1 with a message in err. */
int http_url_parse(const char *s, http_url_t *u, char *err, size_t errlen);

#endif
