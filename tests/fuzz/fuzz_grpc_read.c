/* libFuzzer target for the reading side of gRPC: http/grpc's message reader, as the load
 * engine feeds it DATA chunks of an answer, and codec/ticks' wire check of each message
 * (ticks_tick_ok, ticks_bytes_field), which the lab runs on every message. The first byte of
 * the input picks the chunk size (1..256), the rest is the answer's DATA.
 *   - Fed whole or in chunks, the reader hands over the same messages (count and bytes) and
 *     stops with the same result; no message is longer than its limit.
 *   - No crash, no read past the input (an exact-size heap copy), no leak (LeakSanitizer).
 * abort() on any violation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ticks.h"
#include "http/grpc.h"

#define LIMIT 4096

typedef struct {
    uint64_t n, bytes, sum;
} seen_t;

static int on_message(void *ud, const uint8_t *msg, size_t len)
{
    seen_t *s = ud;
    if (len > LIMIT)
        abort();
    s->n++;
    s->bytes += len;
    for (size_t i = 0; i < len; i++)
        s->sum = s->sum * 31 + msg[i];
    const uint8_t *p;
    size_t n;
    if (ticks_bytes_field(msg, len, 1, &p, &n) == 0 && n && (p < msg || p + n > msg + len))
        abort();
    (void)ticks_tick_ok(msg, len, "AAPL", 4, ticks_symbol_hash("AAPL", 4), s->n, 8);
    return 0;
}

static grpc_read_t feed(const uint8_t *p, size_t n, size_t chunk, seen_t *s, bool *between)
{
    grpc_reader_t r;
    grpc_reader_init(&r, LIMIT);
    grpc_read_t rc = GRPC_READ_OK;
    for (size_t off = 0; off < n && rc == GRPC_READ_OK; off += chunk)
        rc = grpc_reader_feed(&r, p + off, off + chunk > n ? n - off : chunk, on_message, s);
    *between = grpc_reader_between(&r);
    grpc_reader_free(&r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] + 1, n = size - 1;
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, data + 1, n);
    seen_t a = {0}, b = {0};
    bool between_a, between_b;
    grpc_read_t ra = feed(copy, n, n ? n : 1, &a, &between_a);
    grpc_read_t rb = feed(copy, n, chunk, &b, &between_b);
    if (ra != rb || a.n != b.n || a.bytes != b.bytes || a.sum != b.sum ||
        (ra == GRPC_READ_OK && between_a != between_b))
        abort();
    free(copy);
    return 0;
}
