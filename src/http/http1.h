/* http1: the one HTTP/1.1 codec, for requests (the services) and responses (the load engine).
 *
 * Parsing is incremental by re-scanning: a head is parsed only once its terminating empty line
 * is in the buffer (a head is small, so re-scanning a partial one costs little and keeps no
 * state). Names and values point into the caller's buffer, nothing is copied or allocated.
 * Bodies are framed by Content-Length or decoded in place from chunked encoding.
 *
 * Framing is RFC 9112's with nothing lenient, because a message that two implementations can
 * read two ways is how requests are smuggled through proxies: every line ends with CRLF (a
 * bare CR or LF is refused), no white space before a colon, no obsolete line folding, no
 * control characters in values; one Content-Length line of digits only; a Transfer-Encoding
 * line (one) whose codings are tokens with chunked once and last (other codings under it: not
 * implemented); never both, never Transfer-Encoding in HTTP/1.0; one valid Host, required in
 * HTTP/1.1; request-targets in one of the four forms with only URI characters; chunk sizes of
 * at most 15 hex digits, chunk extensions and trailer lines well formed and bounded. What is
 * refused is refused as a whole: the server answers and closes. */
#ifndef SB_HTTP_HTTP1_H
#define SB_HTTP_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

#define HTTP_MAX_HEADERS 64
/* Largest request or response head (request line + headers) accepted by default. */
#define HTTP_MAX_HEAD 65536

typedef struct {
    const char *p;
    size_t n;
} http_str_t;

typedef struct {
    http_str_t name, value;
} http_header_t;

typedef enum {
    HTTP_BODY_NONE,       /* no body (no framing headers on a request, 204/304/1xx, HEAD) */
    HTTP_BODY_LENGTH,     /* Content-Length bytes */
    HTTP_BODY_CHUNKED,    /* Transfer-Encoding: chunked */
    HTTP_BODY_UNTIL_CLOSE /* responses only: no framing, the body ends when the peer closes */
} http_body_kind_t;

typedef struct {
    http_str_t method;  /* requests */
    http_str_t target;  /* requests: as sent */
    http_str_t path;    /* requests: the path to route by: the target without its query (of
                         * an absolute-form target: its path, "/" when it has none) */
    http_str_t host;    /* requests: the Host value (empty when absent) */
    int status;         /* responses */
    http_str_t reason;  /* responses */
    int minor;          /* HTTP/1.minor */
    http_header_t headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    size_t head_len;    /* bytes of the head, terminating empty line included */
    http_body_kind_t body;
    uint64_t content_length;
    bool keep_alive;    /* after this message, per version and Connection */
    bool expect_continue;
} http_msg_t;

/* Results of the parse functions: > 0 is the head length, 0 means more bytes are needed. */
typedef enum {
    HTTP_INCOMPLETE = 0,
    HTTP_ERR_SYNTAX = -1,      /* malformed line, header, target, framing or chunk: 400 */
    HTTP_ERR_HEAD_TOO_LARGE = -2, /* 431 */
    HTTP_ERR_TOO_MANY_HEADERS = -3, /* 431 */
    HTTP_ERR_LENGTH = -4,      /* a bad or repeated Content-Length, or one with chunked: 400 */
    HTTP_ERR_ENCODING = -5,    /* well-formed transfer codings we do not decode: 501 */
    HTTP_ERR_VERSION = -6,     /* not HTTP/1.0 or HTTP/1.1: 505 */
    HTTP_ERR_BODY_TOO_LARGE = -7, /* http_frame: the body is larger than allowed: 413 */
    HTTP_ERR_HOST = -8,        /* no Host in HTTP/1.1, two, or an invalid one: 400 */
    HTTP_ERR_EXPECT = -9,      /* an Expect other than 100-continue: 417 */
} http_status_t;

int http_parse_request(const char *buf, size_t len, http_msg_t *m, size_t max_head);
/* head_request: the request was HEAD (its answer has no body whatever its headers say). */
int http_parse_response(const char *buf, size_t len, http_msg_t *m, size_t max_head,
                        bool head_request);

/* Header value by case-insensitive name; NULL when absent. */
const http_str_t *http_header(const http_msg_t *m, const char *name);
bool http_str_eq(http_str_t s, const char *lit);          /* exact */

/* ---- chunked decoding, in place and resumable ---- */
typedef struct {
    int state;
    uint64_t remaining;  /* bytes left in the current chunk */
    size_t pos;          /* raw bytes consumed, from the body start */
    size_t out;          /* decoded bytes, written at the body start */
    size_t line_at;      /* where the current size or trailer line started (it is bounded) */
    int digits;          /* of the current chunk size */
    int trailers;        /* trailer lines so far (bounded) */
} http_chunked_t;

static inline void http_chunked_init(http_chunked_t *d) { *d = (http_chunked_t){0}; }
/* buf points at the first byte of the chunked body and len bytes of it are present (the same
 * buf each call, len growing). Decoded bytes are written to buf[0..d->out). Returns the raw
 * length of the whole chunked body (trailers included) when it is complete, 0 when more bytes
 * are needed, or HTTP_ERR_SYNTAX. */
ssize_t http_chunked_decode(http_chunked_t *d, char *buf, size_t len);

/* ---- where a message ends ----
 * The one rule for where a message (request or response) ends, used by the server, the load
 * engine, the contract checker and the lab: after its head, the body is Content-Length bytes,
 * or chunked (decoded in place by http_chunked_decode), or, for a response without framing,
 * everything until the connection ends; none for HEAD answers, 1xx, 204 and 304 (the parse
 * functions set m->body accordingly). */
typedef struct {
    size_t total;      /* the whole message as received: head and framed body */
    size_t body_len;   /* the body, decoded: at buf + m->head_len */
    size_t missing;    /* when incomplete and known (Content-Length): bytes still to come */
} http_frame_t;

/* buf[0..len): the message from its first byte, its head parsed into m. eof: the peer has
 * closed, so nothing more will come (it ends an until-close body). max_body: a larger body is
 * refused (for Content-Length as soon as the head is known). d: the message's chunked decoder,
 * set up with http_chunked_init when its head was first parsed and kept while more bytes come
 * (the same buf each call, len growing). 1 when the message is complete (f filled in), 0 when
 * more bytes are needed, HTTP_ERR_SYNTAX (bad chunked framing), or HTTP_ERR_BODY_TOO_LARGE. */
int http_frame(const http_msg_t *m, char *buf, size_t len, bool eof, uint64_t max_body,
               http_chunked_t *d, http_frame_t *f);

/* ---- writing ---- */

/* "Sun, 06 Nov 1994 08:49:37 GMT" for the current second, cached per thread. */
const char *http_date(void);

/* What an answer says of its connection. */
typedef enum {
    HTTP_CONN_CLOSE,    /* "Connection: close": the server closes after it */
    HTTP_CONN_KEEP,     /* nothing: HTTP/1.1 keeps the connection by default */
    HTTP_CONN_KEEP_10,  /* "Connection: keep-alive": to an HTTP/1.0 client that asked for it */
} http_conn_t;

/* Appends a response head: status line, Date, Content-Type (when given), Content-Length, the
 * Connection field conn asks for, `extra` (already formatted "Name: value\r\n" lines, or
 * NULL), and the empty line. 0 or -ENOMEM. */
int http_write_response_head(buf_t *out, int status, const char *content_type,
                             size_t content_length, http_conn_t conn, const char *extra);

/* Appends a whole request. headers: "Name: value" strings. A body (body_len > 0 or a method
 * that carries one) gets Content-Length. 0 or -ENOMEM. */
int http_write_request(buf_t *out, const char *method, const char *authority, const char *target,
                       const char *const *headers, size_t nheaders, const void *body,
                       size_t body_len);

#endif
