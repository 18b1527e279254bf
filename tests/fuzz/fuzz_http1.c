/* libFuzzer target for the HTTP/1.1 codec: request and response heads, and chunked bodies
 * decoded in one piece and in two pieces (resumed), which must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1.h"

static void check_msg(const char *buf, size_t len, const http_msg_t *m, int rc)
{
    if (rc <= 0)
        return;
    if ((size_t)rc > len || m->head_len != (size_t)rc || m->nheaders > HTTP_MAX_HEADERS)
        abort();
    for (size_t i = 0; i < m->nheaders; i++) {
        const http_header_t *h = &m->headers[i];
        if (h->name.p < buf || h->name.p + h->name.n > buf + len || h->name.n == 0)
            abort();
        if (h->value.n && (h->value.p < buf || h->value.p + h->value.n > buf + len))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    http_msg_t m;
    int rc = http_parse_request(buf, size, &m, 4096);
    check_msg(buf, size, &m, rc);
    if (rc > 0 && (m.path.n > m.target.n || m.method.n == 0))
        abort();
    /* a prefix of a parsed request is incomplete or an error, never a different success */
    if (rc > 0) {
        http_msg_t m2;
        int rc2 = http_parse_request(buf, (size_t)rc - 1, &m2, 4096);
        if (rc2 > 0)
            abort();
    }
    rc = http_parse_response(buf, size, &m, 4096, size & 1);
    check_msg(buf, size, &m, rc);

    /* chunked: whole vs split at every 7th byte */
    char *a = malloc(size + 1), *b = malloc(size + 1);
    memcpy(a, data, size);
    memcpy(b, data, size);
    http_chunked_t da, db;
    http_chunked_init(&da);
    http_chunked_init(&db);
    ssize_t ra = http_chunked_decode(&da, a, size);
    ssize_t rb = 0;
    for (size_t len = 0; len <= size && rb == 0; len += 7)
        rb = http_chunked_decode(&db, b, len);
    if (rb == 0)
        rb = http_chunked_decode(&db, b, size);
    if (ra != rb)
        abort();
    if (ra > 0 && (da.out != db.out || memcmp(a, b, da.out) != 0 || da.out > (size_t)ra))
        abort();
    free(a);
    free(b);
    return 0;
}
