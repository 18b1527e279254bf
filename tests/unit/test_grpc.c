/* Tests for http/grpc (the message prefix and reader, grpc-timeout, grpc-message) and
 * codec/ticks (the contract's prices, payloads and symbols, with the figures of
 * contracts/grpc.md). */
#include "codec/ticks.h"
#include "http/grpc.h"
#include "t.h"
#include "ticks.pb-c.h"

/* A Tick packed by protobuf-c, as the C service sends it. */
static size_t pack_tick(uint8_t *out, const char *symbol, uint64_t seq, int64_t price,
                        uint64_t ts, const uint8_t *payload, size_t n)
{
    Stackbench__V1__Tick t = STACKBENCH__V1__TICK__INIT;
    t.symbol = (char *)symbol;
    t.seq = seq;
    t.price_micros = price;
    t.ts_ns = ts;
    t.payload.data = (uint8_t *)payload;
    t.payload.len = n;
    return stackbench__v1__tick__pack(&t, out);
}

TEST(ticks_read_from_the_wire)
{
    uint8_t m[256];
    uint64_t h = ticks_symbol_hash("AAPL", 4);
    size_t n = pack_tick(m, "AAPL", 7, ticks_price(h, 7), 123, ticks_payload(7), 64);
    CHECK(ticks_tick_ok(m, n, "AAPL", 4, h, 7, 64));
    CHECK(!ticks_tick_ok(m, n, "AAPL", 4, h, 8, 64));   /* another seq */
    CHECK(!ticks_tick_ok(m, n, "AAPL", 4, h, 7, 63));   /* another size */
    CHECK(!ticks_tick_ok(m, n, "MSFT", 4, h, 7, 64));   /* another symbol */
    CHECK(!ticks_tick_ok(m, n - 1, "AAPL", 4, h, 7, 64)); /* cut */
    n = pack_tick(m, "AAPL", 7, ticks_price(h, 7) + 1, 123, ticks_payload(7), 64);
    CHECK(!ticks_tick_ok(m, n, "AAPL", 4, h, 7, 64));   /* another price */
    n = pack_tick(m, "AAPL", 7, ticks_price(h, 7), 0, ticks_payload(7), 64);
    CHECK(!ticks_tick_ok(m, n, "AAPL", 4, h, 7, 64));   /* no time */
    n = pack_tick(m, "AAPL", 7, ticks_price(h, 7), 1, ticks_payload(8), 64);
    CHECK(!ticks_tick_ok(m, n, "AAPL", 4, h, 7, 64));   /* another payload */
    /* A quote: seq 0 (absent on the wire), no payload. */
    n = pack_tick(m, "AAPL", 0, ticks_price(h, 0), 5, NULL, 0);
    CHECK(ticks_tick_ok(m, n, "AAPL", 4, h, 0, 0));
    /* A field this reader does not know is skipped, as protobuf says. */
    m[n++] = 0x30; /* field 6, varint */
    m[n++] = 0x01;
    m[n++] = 0x3d; /* field 7, fixed32 */
    memset(m + n, 0, 4);
    n += 4;
    CHECK(ticks_tick_ok(m, n, "AAPL", 4, h, 0, 0));
    m[n++] = 0x0b; /* field 1 with wire type 3 (a group): refused */
    CHECK(!ticks_tick_ok(m, n, "AAPL", 4, h, 0, 0));
}

TEST(prices_as_the_contract_writes_them)
{
    uint64_t aapl = ticks_symbol_hash("AAPL", 4);
    CHECK(aapl == 0x89106b8b9f086ccbull);
    CHECK_INT(ticks_price(aapl, 0), 45295362);
    CHECK_INT(ticks_price(aapl, 1), 46135581);
    CHECK_INT(ticks_price(aapl, 2), 46784881);
    CHECK_INT(ticks_price(ticks_symbol_hash("MSFT", 4), 1), 431584221);
    CHECK_INT(ticks_price(ticks_symbol_hash("BRK.B", 5), 3), 704101619);
    /* Always positive, whatever the hash and seq. */
    for (uint64_t seq = 0; seq < 100000; seq += 7)
        CHECK(ticks_price(seq * 0x9e3779b97f4a7c15ull, seq) > 0);
}

TEST(symbols)
{
    CHECK(ticks_symbol_ok("AAPL", 4));
    CHECK(ticks_symbol_ok("BRK.B", 5));
    CHECK(ticks_symbol_ok("A", 1));
    CHECK(ticks_symbol_ok("ABCDEFGHIJ12", 12));
    CHECK(!ticks_symbol_ok("", 0));
    CHECK(!ticks_symbol_ok("ABCDEFGHIJ123", 13));
    CHECK(!ticks_symbol_ok("aapl", 4));
    CHECK(!ticks_symbol_ok("AA PL", 5));
    CHECK(!ticks_symbol_ok("AA-PL", 5));
    CHECK(!ticks_symbol_ok("A\0B", 3));
}

TEST(payload_pattern)
{
    const uint8_t *p = ticks_payload(7);
    CHECK_INT(p[0], 7);
    CHECK_INT(p[248], 255);
    CHECK_INT(p[249], 0);
    CHECK_INT(ticks_payload(300)[0], 44); /* 300 mod 256 */
    CHECK(ticks_payload_ok(ticks_payload(5), TICKS_PAYLOAD_MAX, 5));
    CHECK(!ticks_payload_ok(ticks_payload(5), 10, 6));
    CHECK(ticks_payload_ok(NULL, 0, 9));
}

TEST(timeouts)
{
    int64_t ns;
    CHECK_INT(grpc_timeout_parse("200m", 4, &ns), 0);
    CHECK_INT(ns, 200000000);
    CHECK_INT(grpc_timeout_parse("1S", 2, &ns), 0);
    CHECK_INT(ns, 1000000000);
    CHECK_INT(grpc_timeout_parse("5H", 2, &ns), 0);
    CHECK_INT(ns, 5LL * 3600 * 1000000000);
    CHECK_INT(grpc_timeout_parse("3M", 2, &ns), 0);
    CHECK_INT(ns, 180000000000LL);
    CHECK_INT(grpc_timeout_parse("12u", 3, &ns), 0);
    CHECK_INT(ns, 12000);
    CHECK_INT(grpc_timeout_parse("99999999n", 9, &ns), 0);
    CHECK_INT(ns, 99999999);
    CHECK_INT(grpc_timeout_parse("99999999H", 9, &ns), 0);
    CHECK(ns == INT64_MAX); /* saturates */
    CHECK_INT(grpc_timeout_parse("", 0, &ns), -1);
    CHECK_INT(grpc_timeout_parse("m", 1, &ns), -1);
    CHECK_INT(grpc_timeout_parse("123456789S", 10, &ns), -1); /* 9 digits */
    CHECK_INT(grpc_timeout_parse("10s", 3, &ns), -1);
    CHECK_INT(grpc_timeout_parse("-1S", 3, &ns), -1);
    CHECK_INT(grpc_timeout_parse("1 S", 3, &ns), -1);

    char out[16];
    CHECK_INT(grpc_timeout_format(200000000, out), 4);
    CHECK_STR(out, "200m");
    grpc_timeout_format(1000000000, out);
    CHECK_STR(out, "1S");
    grpc_timeout_format(60LL * 1000000000, out);
    CHECK_STR(out, "1M");
    grpc_timeout_format(1500, out);
    CHECK_STR(out, "1500n");
    /* 123.456789012 s needs 12 digits in ns: microseconds, rounded up, fit 9 - too many -
     * so milliseconds: 123457m, never shorter than asked. */
    grpc_timeout_format(123456789012LL, out);
    CHECK_STR(out, "123457m");
    CHECK(grpc_timeout_parse(out, strlen(out), &ns) == 0 && ns >= 123456789012LL);
}

TEST(messages_percent_encoded)
{
    char enc[64], dec[64];
    grpc_message_encode("50% off\n\xc3\xa9", 10, enc, sizeof enc);
    CHECK_STR(enc, "50%25 off%0A%C3%A9");
    CHECK_INT(grpc_message_decode(enc, strlen(enc), dec, sizeof dec), 10);
    CHECK_MEM(dec, 10, "50% off\n\xc3\xa9");
    /* Malformed escapes are kept as written. */
    grpc_message_decode("a%zzb%4", 7, dec, sizeof dec);
    CHECK_STR(dec, "a%zzb%4");
    /* Cut at a whole escape. */
    grpc_message_encode("ab\n", 3, enc, 5);
    CHECK_STR(enc, "ab");
}

typedef struct {
    int n;
    size_t lens[8];
    uint8_t first[8];
    int stop_after;
} got_t;

static int got(void *ud, const uint8_t *msg, size_t len)
{
    got_t *g = ud;
    if (g->n < 8) {
        g->lens[g->n] = len;
        g->first[g->n] = len ? msg[0] : 0;
    }
    g->n++;
    return g->stop_after && g->n >= g->stop_after;
}

TEST(reader_whole_split_and_empty)
{
    uint8_t s[64];
    buf_t b = BUF_INIT;
    for (int i = 0; i < 3; i++) {
        grpc_prefix_append(&b, (size_t)i * 3);
        for (int k = 0; k < i * 3; k++)
            buf_append(&b, &(uint8_t){(uint8_t)(i * 10 + k)}, 1);
    }
    size_t n = buf_size(&b);
    memcpy(s, buf_start(&b), n);
    buf_free(&b);
    /* Whole, then byte by byte: the same messages. */
    for (size_t step = n; step >= 1; step = step == n ? 1 : 0) {
        grpc_reader_t r;
        got_t g = {0};
        grpc_reader_init(&r, 0);
        for (size_t off = 0; off < n; off += step)
            CHECK_INT(grpc_reader_feed(&r, s + off, off + step > n ? n - off : step, got, &g),
                      GRPC_READ_OK);
        CHECK_INT(g.n, 3);
        CHECK_INT(g.lens[0], 0);
        CHECK_INT(g.lens[1], 3);
        CHECK_INT(g.first[1], 10);
        CHECK_INT(g.lens[2], 6);
        CHECK_INT(g.first[2], 20);
        CHECK(grpc_reader_between(&r));
        grpc_reader_free(&r);
        if (step == 1)
            break;
    }
}

TEST(reader_refuses)
{
    grpc_reader_t r;
    got_t g = {0};
    grpc_reader_init(&r, 100);
    CHECK_INT(grpc_reader_feed(&r, (const uint8_t *)"\0\0\0\0\x65", 5, got, &g),
              GRPC_READ_TOO_LARGE);
    grpc_reader_free(&r);
    grpc_reader_init(&r, 0);
    CHECK_INT(grpc_reader_feed(&r, (const uint8_t *)"\1\0\0\0\1x", 6, got, &g),
              GRPC_READ_COMPRESSED);
    grpc_reader_free(&r);
    grpc_reader_init(&r, 0);
    CHECK_INT(grpc_reader_feed(&r, (const uint8_t *)"\2\0\0\0\1x", 6, got, &g),
              GRPC_READ_BAD_FLAG);
    grpc_reader_free(&r);
    /* Cut inside a message: not between messages. */
    grpc_reader_init(&r, 0);
    CHECK_INT(grpc_reader_feed(&r, (const uint8_t *)"\0\0\0\0\3ab", 7, got, &g), GRPC_READ_OK);
    CHECK(!grpc_reader_between(&r));
    grpc_reader_free(&r);
    /* The callback stops it. */
    grpc_reader_init(&r, 0);
    got_t g2 = {.stop_after = 1};
    CHECK_INT(grpc_reader_feed(&r, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0", 10, got, &g2),
              GRPC_READ_STOP);
    CHECK_INT(g2.n, 1);
    grpc_reader_free(&r);
}

TEST(code_names)
{
    CHECK_STR(grpc_code_name(4), "DEADLINE_EXCEEDED");
    CHECK_STR(grpc_code_name(16), "UNAUTHENTICATED");
    CHECK_STR(grpc_code_name(17), "?");
    CHECK_INT(grpc_code_parse("UNIMPLEMENTED"), 12);
    CHECK_INT(grpc_code_parse("nope"), -1);
}

T_MAIN(T(prices_as_the_contract_writes_them), T(ticks_read_from_the_wire), T(symbols), T(payload_pattern), T(timeouts),
          T(messages_percent_encoded), T(reader_whole_split_and_empty), T(reader_refuses),
          T(code_names))
