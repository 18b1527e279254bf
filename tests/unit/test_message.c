/* Tests for verify/message: protobuf messages written as JSON, packed from their descriptors (the
 * contract's messages, generated from the .proto files of contracts/grpc), and each refusal. */
#include "verify/message.h"
#include "health.pb-c.h"
#include "t.h"
#include "ticks.pb-c.h"

static char err[256];
static buf_t out;

/* Encodes json as d; its bytes in out. 0, or -1 (why in err). */
static int enc(const ProtobufCMessageDescriptor *d, const char *json)
{
    buf_clear(&out);
    err[0] = 0;
    return message_from_json(d, json, strlen(json), &out, err, sizeof err);
}

#define CHECK_BYTES(lit) CHECK(buf_size(&out) == sizeof(lit) - 1 && \
                               memcmp(buf_start(&out), lit, sizeof(lit) - 1) == 0)
#define CHECK_REFUSED(d, json, why)                                                               \
    do {                                                                                          \
        CHECK_INT(enc(d, json), -1);                                                              \
        CHECK_STR(err, why);                                                                      \
    } while (0)

static const ProtobufCMessageDescriptor *const stream = &stackbench__v1__stream_request__descriptor;

TEST(fields_by_their_proto_names_packed_as_protobuf_c_packs_them)
{
    CHECK_INT(enc(stream, "{\"symbol\":\"AAPL\",\"count\":3,\"payload_bytes\":2}"), 0);
    CHECK_BYTES("\x0a\x04" "AAPL\x10\x03\x18\x02");
    /* any order, white space, and the largest values */
    CHECK_INT(enc(stream, " { \"payload_bytes\" : 65536 , \"count\":4294967295 } "), 0);
    CHECK_BYTES("\x10\xff\xff\xff\xff\x0f\x18\x80\x80\x04");
    /* left out or zero: proto3's default, not sent */
    CHECK_INT(enc(stream, "{}"), 0);
    CHECK_INT(buf_size(&out), 0);
    CHECK_INT(enc(stream, "{\"symbol\":\"\",\"count\":0}"), 0);
    CHECK_INT(buf_size(&out), 0);
    /* the message round-trips through protobuf-c */
    CHECK_INT(enc(stream, "{\"symbol\":\"BRK.B\",\"count\":1000000}"), 0);
    Stackbench__V1__StreamRequest *r =
        stackbench__v1__stream_request__unpack(NULL, buf_size(&out), (uint8_t *)buf_start(&out));
    CHECK(r && strcmp(r->symbol, "BRK.B") == 0 && r->count == 1000000 && r->payload_bytes == 0);
    if (r)
        stackbench__v1__stream_request__free_unpacked(r, NULL);
}

TEST(strings_have_their_escapes_decoded)
{
    CHECK_INT(enc(&grpc__health__v1__health_check_request__descriptor,
                  "{\"service\":\"a\\\"b\\u00e9\"}"),
              0);
    CHECK_BYTES("\x0a\x05" "a\"b\xc3\xa9");
    CHECK_REFUSED(&grpc__health__v1__health_check_request__descriptor,
                  "{\"service\":\"a\\u0000\"}", "service: a NUL inside a string");
}

TEST(enums_by_name_or_number_and_signed_integers)
{
    const ProtobufCMessageDescriptor *h = &grpc__health__v1__health_check_response__descriptor;
    CHECK_INT(enc(h, "{\"status\":\"SERVING\"}"), 0);
    CHECK_BYTES("\x08\x01");
    CHECK_INT(enc(h, "{\"status\":2}"), 0);
    CHECK_BYTES("\x08\x02");
    CHECK_REFUSED(h, "{\"status\":\"GOOD\"}",
                  "status: no value 'GOOD' in grpc.health.v1.HealthCheckResponse.ServingStatus");
    CHECK_REFUSED(h, "{\"status\":true}", "status: want a value's name or number");
    const ProtobufCMessageDescriptor *t = &stackbench__v1__tick__descriptor;
    CHECK_INT(enc(t, "{\"price_micros\":-1,\"seq\":18446744073709551615}"), 0);
    CHECK_BYTES("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
                "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
    CHECK_REFUSED(t, "{\"seq\":18446744073709551616}",
                  "seq: want an integer 0..18446744073709551615");
    CHECK_REFUSED(t, "{\"price_micros\":9223372036854775808}",
                  "price_micros: want an integer of 64 bits");
    CHECK_REFUSED(t, "{\"payload\":\"AQI=\"}",
                  "payload: bytes and message fields are not supported");
}

TEST(what_is_not_the_message_is_refused)
{
    CHECK_REFUSED(stream, "{\"count\":1.0}", "count: want an integer 0..4294967295");
    CHECK_REFUSED(stream, "{\"count\":1e3}", "count: want an integer 0..4294967295");
    CHECK_REFUSED(stream, "{\"count\":-0}", "count: want an integer 0..4294967295");
    CHECK_REFUSED(stream, "{\"count\":\"3\"}", "count: want an integer 0..4294967295");
    CHECK_REFUSED(stream, "{\"count\":null}", "count: want an integer 0..4294967295");
    CHECK_REFUSED(stream, "{\"symbol\":[\"A\"]}", "symbol: want a string");
    CHECK_REFUSED(stream, "{\"count\":1,\"count\":2}", "count: twice");
    CHECK_REFUSED(stream, "{\"payloadBytes\":1}",
                  "no field 'payloadBytes' in stackbench.v1.StreamRequest");
    CHECK_REFUSED(stream, "[]", "want a JSON object for stackbench.v1.StreamRequest");
    CHECK_REFUSED(stream, "{\"count\":1,}", "not JSON: expected string key at byte 11");
    CHECK_REFUSED(stream, "", "not JSON: unexpected end of input at byte 0");
}

T_MAIN(T(fields_by_their_proto_names_packed_as_protobuf_c_packs_them),
       T(strings_have_their_escapes_decoded), T(enums_by_name_or_number_and_signed_integers),
       T(what_is_not_the_message_is_refused))
