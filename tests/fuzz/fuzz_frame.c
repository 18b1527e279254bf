/* libFuzzer target for http_frame (src/http/http1.h), the one rule for where a request or a
 * response ends. The first three input bytes are choices, the rest is the message:
 *   byte 0: bit 0 response (for a message of the input's own), bit 1 the peer has closed
 *           (eof), bit 2 the request was HEAD (responses), bits 3..5 the body limit;
 *   byte 1: the head: one of heads[] below followed by the rest of the input, or (from
 *           NHEADS on) the rest of the input alone, head and all;
 *   byte 2: the size of the pieces (1..64 bytes) the message arrives in.
 * The message is in two exact-size heap copies. When its head parses, it is framed twice: fed
 * whole (one call), and fed in pieces from the end of its head on, keeping its chunked decoder
 * between the calls as the server and the load engine do, eof only with the last byte. Both
 * ways give the same result: the same status, and when complete the same total and body, or
 * when incomplete the same bytes missing. A complete message has total <= len, a body of at
 * most total - head bytes, no more than the limit. abort() on any violation.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1.h"

static const char *const heads[] = {
    "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
    "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    "GET /health HTTP/1.1\r\nHost: a\r\n\r\n",
    "PUT /x HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\n\r\n",
    "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\n",
};
#define NHEADS (sizeof heads / sizeof heads[0])

static const uint64_t limits[8] = {0, 1, 5, 12, 64, 4096, 1u << 20, UINT64_MAX};

static int parse_head(const char *buf, size_t len, bool response, bool head_request,
                      http_msg_t *m)
{
    return response ? http_parse_response(buf, len, m, HTTP_MAX_HEAD, head_request)
                    : http_parse_request(buf, len, m, HTTP_MAX_HEAD);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    bool eof = data[0] & 2, head_request = data[0] & 4;
    uint64_t max_body = limits[(data[0] >> 3) & 7];
    unsigned choice = data[1];
    size_t step = 1 + data[2] % 64;
    const char *rest = (const char *)data + 3;
    size_t nrest = size - 3;

    const char *head = choice < NHEADS ? heads[choice] : "";
    bool response = choice < NHEADS ? strncmp(head, "HTTP/", 5) == 0 : (data[0] & 1);
    size_t hn = strlen(head), len = hn + nrest;
    char *a = malloc(len ? len : 1), *b = malloc(len ? len : 1); /* exact size */
    memcpy(a, head, hn);
    memcpy(a + hn, rest, nrest);
    memcpy(b, a, len);

    http_msg_t ma, mb;
    int ra = parse_head(a, len, response, head_request, &ma);
    int rb = parse_head(b, len, response, head_request, &mb);
    if (ra != rb || (choice < NHEADS && ra != (int)hn))
        abort(); /* heads[] are all valid */
    if (ra <= 0)
        goto out;
    size_t hl = ma.head_len;

    /* whole */
    http_chunked_t da, db;
    http_frame_t fa = {0}, fb = {0};
    http_chunked_init(&da);
    int wa = http_frame(&ma, a, len, eof, max_body, &da, &fa);

    /* in pieces, from the end of the head on, one decoder */
    http_chunked_init(&db);
    int wb = 0;
    for (size_t at = hl;; at += step) {
        if (at > len)
            at = len;
        wb = http_frame(&mb, b, at, eof && at == len, max_body, &db, &fb);
        if (wb != 0 || at == len)
            break;
    }

    if (wa != wb)
        abort();
    if (wa != 1 && wa != 0 && wa != HTTP_ERR_SYNTAX && wa != HTTP_ERR_BODY_TOO_LARGE)
        abort();
    if (wa == 1) {
        if (fa.total != fb.total || fa.body_len != fb.body_len || fa.total > len ||
            fa.total < hl || fa.body_len > fa.total - hl || fa.body_len > max_body)
            abort();
        if (fa.body_len && memcmp(a + hl, b + hl, fa.body_len) != 0)
            abort();
        if (ma.body == HTTP_BODY_NONE && (fa.total != hl || fa.body_len != 0))
            abort();
        if (ma.body == HTTP_BODY_LENGTH && fa.body_len != ma.content_length)
            abort();
    } else if (wa == 0) {
        if (fa.missing != fb.missing || (ma.body == HTTP_BODY_LENGTH && fa.missing == 0))
            abort();
    }
out:
    free(a);
    free(b);
    return 0;
}
