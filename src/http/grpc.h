/* grpc: gRPC's own framing over HTTP/2, for the server, the load engine and the checker.
 *
 * What gRPC adds to HTTP/2 is small: a 5-byte prefix before each message (a compressed flag and
 * a big-endian length), the status in trailers (grpc-status, a percent-encoded grpc-message),
 * and the grpc-timeout header. It is written here rather than taken from a library: the one C
 * gRPC library (grpc core) brings its own HTTP/2 stack, threads and event loop and cannot run on
 * ours, and these pieces are a few dozen lines each. HTTP/2 itself is nghttp2's. */
#ifndef SB_HTTP_GRPC_H
#define SB_HTTP_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The status codes (grpc/doc/statuscodes.md). */
enum {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_UNKNOWN = 2,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_ALREADY_EXISTS = 6,
    GRPC_PERMISSION_DENIED = 7,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_FAILED_PRECONDITION = 9,
    GRPC_ABORTED = 10,
    GRPC_OUT_OF_RANGE = 11,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
    GRPC_DATA_LOSS = 15,
    GRPC_UNAUTHENTICATED = 16,
    GRPC_NCODES = 17
};

#define GRPC_PREFIX 5
/* The largest message either side accepts, as grpc-go's and tonic's default. */
#define GRPC_MAX_MESSAGE (4u << 20)

/* "DEADLINE_EXCEEDED" for 4; "?" for a code outside 0..16. */
const char *grpc_code_name(int code);
/* The code as grpc-go names it ("InvalidArgument"): the grpc_code label of the metrics. */
const char *grpc_code_label(int code);
/* The code named name ("OK", "NOT_FOUND", ...), or -1. */
int grpc_code_parse(const char *name);

/* Appends the prefix of an uncompressed message of len bytes. 0, or -ENOMEM. */
int grpc_prefix_append(buf_t *out, size_t len);
static inline void grpc_prefix_write(uint8_t p[GRPC_PREFIX], uint32_t len)
{
    p[0] = 0;
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
}

/* A grpc-timeout value ("100m", "5S": 1 to 8 digits and one of H M S m u n) in nanoseconds
 * (saturating). 0, or -1 when malformed. */
int grpc_timeout_parse(const char *s, size_t n, int64_t *ns);
/* Writes ns as a grpc-timeout value (the coarsest unit that keeps it exact within 8 digits,
 * rounding up otherwise) into out (at least 10 bytes). Its length. */
size_t grpc_timeout_format(int64_t ns, char *out);

/* grpc-message's percent-encoding: bytes outside 0x20..0x7e, and '%', as %XX. NUL-terminated,
 * cut at a whole escape when out is too small. Its length. */
size_t grpc_message_encode(const char *msg, size_t n, char *out, size_t outlen);
/* The reverse; a malformed escape is kept as written (the spec asks receivers to). Its length. */
size_t grpc_message_decode(const char *s, size_t n, char *out, size_t outlen);

/* Messages out of a stream of DATA bytes, in chunks as they arrive. A message that lies whole
 * inside one chunk is handed over in place; one that spans chunks is gathered in `part`. */
typedef enum {
    GRPC_READ_OK = 0,
    GRPC_READ_TOO_LARGE = -1,  /* a prefix announced more than max bytes */
    GRPC_READ_COMPRESSED = -2, /* the compressed flag is set: the caller decides (the status
                                * depends on grpc-encoding) */
    GRPC_READ_BAD_FLAG = -3,   /* a flag byte other than 0 or 1 */
    GRPC_READ_NOMEM = -4,
    GRPC_READ_STOP = -5,       /* the callback asked to stop */
} grpc_read_t;

typedef struct {
    uint32_t max;              /* the largest message accepted (GRPC_MAX_MESSAGE when 0) */
    uint8_t head[GRPC_PREFIX];
    size_t have_head;          /* prefix bytes gathered */
    uint32_t need;             /* the current message's length, once its prefix is whole */
    buf_t part;                /* a message's bytes so far, when it spans chunks */
    uint64_t messages;         /* messages handed over so far */
} grpc_reader_t;

/* A message: 0 to go on, nonzero to stop (feed returns GRPC_READ_STOP). */
typedef int (*grpc_message_cb)(void *ud, const uint8_t *msg, size_t len);

void grpc_reader_init(grpc_reader_t *r, uint32_t max);
/* Feeds a chunk; calls cb for every message it completes. After an error the reader is
 * spent. */
grpc_read_t grpc_reader_feed(grpc_reader_t *r, const uint8_t *p, size_t n, grpc_message_cb cb,
                             void *ud);
/* Whether the bytes so far end between messages (a stream that ends elsewhere is cut). */
static inline bool grpc_reader_between(const grpc_reader_t *r)
{
    return r->have_head == 0;
}
void grpc_reader_free(grpc_reader_t *r);

#endif
