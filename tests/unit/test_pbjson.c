/* Tests for codec/pbjson: schemas compiled by protoc from contracts/grpc/ticks.proto and
 * tests/unit/data (kinds.proto holds every kind of field), JSON encoded as their
 * messages (the bytes written by hand, or by `protoc --encode` from text format, or read back
 * with the protobuf-c code generated for ticks.proto), wire bytes decoded back to JSON, and
 * every error's message. Needs protoc on PATH: without it the tests fail, saying so.
 * Env: SB_ROOT (the checkout; default the working folder). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>

#include "codec/pbjson.h"
#include "core/proc.h"
#include "t.h"
#include "ticks.pb-c.h"

/* ---- helpers ---- */

static const char *root(void)
{
    const char *r = getenv("SB_ROOT");
    return r && *r ? r : ".";
}

static bool have_protoc(void)
{
    char path[4096];
    if (proc_which("protoc", path, sizeof path) == 0)
        return true;
    fprintf(stderr, "    protoc not found on PATH: these tests need it (apt-get install "
                    "protobuf-compiler, or scripts/install.sh)\n");
    t_failures++;
    return false;
}

/* tests/unit/data/NAME (or contracts/grpc/NAME for ticks.proto), with data/imports among the
 * import folders. NULL (the test failed, with why) when it does not load. */
static pb_schema_t *load(const char *name)
{
    if (!have_protoc())
        return NULL;
    char path[4096], imports[4096], err[1024];
    snprintf(path, sizeof path, "%s/%s/%s", root(),
             strcmp(name, "ticks.proto") == 0 ? "contracts/grpc" : "tests/unit/data", name);
    snprintf(imports, sizeof imports, "%s/tests/unit/data/imports", root());
    const char *dirs[] = {imports, NULL};
    pb_schema_t *s = pb_schema_load(path, dirs, err, sizeof err);
    if (!s) {
        fprintf(stderr, "    %s: %s\n", name, err);
        t_failures++;
    }
    return s;
}

static const pb_message_t *msg(const pb_schema_t *s, const char *name)
{
    const pb_message_t *m = s ? pb_message_find(s, name) : NULL;
    if (!m) {
        fprintf(stderr, "    no message %s\n", name);
        t_failures++;
    }
    return m;
}

static char *to_hex(const void *p, size_t n)
{
    static char out[8192];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < sizeof out; i++)
        k += (size_t)snprintf(out + k, sizeof out - k, "%02x", ((const unsigned char *)p)[i]);
    out[k] = 0;
    return out;
}

static size_t from_hex(const char *h, unsigned char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        while (*h == ' ')
            h++;
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

/* json encoded as m: its bytes in hex, or "ERR: message". */
static const char *enc(const pb_schema_t *s, const pb_message_t *m, const char *json)
{
    static char res[8192];
    if (!s || !m)
        return "(no schema)";
    buf_t b = BUF_INIT;
    char err[512];
    if (pb_encode_json(s, m, json, strlen(json), &b, err, sizeof err) == 0)
        snprintf(res, sizeof res, "%s", to_hex(buf_start(&b), buf_size(&b)));
    else
        snprintf(res, sizeof res, "ERR: %s", err);
    buf_free(&b);
    return res;
}

/* The bytes given in hex decoded as m: the JSON, or "ERR: message". */
static const char *dec(const pb_schema_t *s, const pb_message_t *m, const char *hex)
{
    static char res[8192];
    if (!s || !m)
        return "(no schema)";
    unsigned char *bytes = malloc(strlen(hex) / 2 + 1); /* exact size: ASan sees overreads */
    size_t n = from_hex(hex, bytes);
    buf_t b = BUF_INIT;
    char err[512];
    if (pb_decode_json(s, m, bytes, n, &b, err, sizeof err) == 0)
        snprintf(res, sizeof res, "%.*s", (int)buf_size(&b), buf_start(&b));
    else
        snprintf(res, sizeof res, "ERR: %s", err);
    buf_free(&b);
    free(bytes);
    return res;
}

/* `protoc --encode=TYPE` of the text format text, against tests/unit/data/kinds.proto: the
 * bytes in hex, or NULL (the test failed, with why). */
static const char *protoc_encode(const char *type, const char *text)
{
    static char res[8192];
    if (!have_protoc())
        return NULL;
    char in[] = "/tmp/sb-test-pbjson-XXXXXX";
    int fd = mkstemp(in);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        fprintf(stderr, "    %s: %s\n", in, strerror(errno));
        t_failures++;
        return NULL;
    }
    close(fd);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "protoc --encode=%s -I'%s/tests/unit/data/imports' -I'%s/tests/unit/data' "
             "'%s/tests/unit/data/kinds.proto' < %s",
             type, root(), root(), root(), in);
    FILE *p = popen(cmd, "r");
    unsigned char bytes[4096];
    size_t n = p ? fread(bytes, 1, sizeof bytes, p) : 0;
    int st = p ? pclose(p) : -1;
    unlink(in);
    if (st != 0) {
        fprintf(stderr, "    %s: exit status %d\n", cmd, st);
        t_failures++;
        return NULL;
    }
    snprintf(res, sizeof res, "%s", to_hex(bytes, n));
    return res;
}

static bool same(const buf_t *a, const buf_t *b)
{
    return buf_size(a) == buf_size(b) && memcmp(buf_start(a), buf_start(b), buf_size(a)) == 0;
}

static bool ends_with(const char *s, const char *tail)
{
    return strlen(s) >= strlen(tail) && strcmp(s + strlen(s) - strlen(tail), tail) == 0;
}

#define CHECK_ENC(s, m, json, want) CHECK_STR(enc(s, m, json), want)
#define CHECK_DEC(s, m, hex, want) CHECK_STR(dec(s, m, hex), want)

/* ---- the contract's messages (contracts/grpc/ticks.proto) ---- */

TEST(stream_request_as_written_by_hand)
{
    pb_schema_t *s = load("ticks.proto");
    const pb_message_t *m = msg(s, "stackbench.v1.StreamRequest");
    /* 0a 04 "AAPL" (1, LEN) · 10 03 (2, varint 3) · 18 10 (3, varint 16) */
    CHECK_ENC(s, m, "{\"symbol\":\"AAPL\",\"count\":3,\"payloadBytes\":16}",
              "0a044141504c10031810");
    /* the .proto's names too, and members in any order: fields go out by number */
    CHECK_ENC(s, m, "{\"payload_bytes\":16, \"count\":3, \"symbol\":\"AAPL\"}",
              "0a044141504c10031810");
    /* proto3: a field at its default is not written */
    CHECK_ENC(s, m, "{\"symbol\":\"A\",\"count\":0,\"payloadBytes\":null}", "0a0141");
    CHECK_ENC(s, m, " {} ", "");
    pb_schema_free(s);
}

TEST(stream_request_read_back_by_protobuf_c)
{
    pb_schema_t *s = load("ticks.proto");
    const pb_message_t *m = msg(s, "stackbench.v1.StreamRequest");
    if (!m)
        return;
    buf_t b = BUF_INIT;
    char err[256];
    const char *json = "{\"symbol\":\"BRK.B\",\"count\":1000000,\"payloadBytes\":\"65536\"}";
    CHECK_INT(pb_encode_json(s, m, json, strlen(json), &b, err, sizeof err), 0);
    Stackbench__V1__StreamRequest *r = stackbench__v1__stream_request__unpack(
        NULL, buf_size(&b), (const uint8_t *)buf_start(&b));
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->symbol, "BRK.B");
        CHECK_INT(r->count, 1000000);
        CHECK_INT(r->payload_bytes, 65536);
        stackbench__v1__stream_request__free_unpacked(r, NULL);
    }
    buf_free(&b);
    pb_schema_free(s);
}

TEST(quote_request)
{
    pb_schema_t *s = load("ticks.proto");
    const pb_message_t *m = msg(s, "stackbench.v1.QuoteRequest");
    CHECK_ENC(s, m, "{\"symbol\":\"MSFT\"}", "0a044d534654");
    CHECK_DEC(s, m, "0a044d534654", "{\"symbol\":\"MSFT\"}");
    CHECK_ENC(s, m, "{\"symbol\":\"MSFT\",\"count\":1}",
              "ERR: data: unknown field \"count\" (stackbench.v1.QuoteRequest has symbol)");
    pb_schema_free(s);
}

TEST(tick_made_by_protobuf_c_decoded)
{
    pb_schema_t *s = load("ticks.proto");
    const pb_message_t *m = msg(s, "stackbench.v1.Tick");
    Stackbench__V1__Tick t = STACKBENCH__V1__TICK__INIT;
    t.symbol = "AAPL";
    t.seq = 2;
    t.price_micros = -5;
    t.ts_ns = 1700000000123456789ull;
    uint8_t payload[] = {0, 1, 2, 0xff};
    t.payload.data = payload;
    t.payload.len = sizeof payload;
    uint8_t bytes[128];
    size_t n = stackbench__v1__tick__pack(&t, bytes);
    char hex[300];
    snprintf(hex, sizeof hex, "%s", to_hex(bytes, n));
    /* 64-bit integers as strings, bytes as base64, JSON names */
    CHECK_DEC(s, m, hex,
              "{\"symbol\":\"AAPL\",\"seq\":\"2\",\"priceMicros\":\"-5\","
              "\"tsNs\":\"1700000000123456789\",\"payload\":\"AAEC/w==\"}");
    /* and back: the same bytes */
    CHECK_ENC(s, m,
              "{\"symbol\":\"AAPL\",\"seq\":\"2\",\"priceMicros\":\"-5\","
              "\"tsNs\":\"1700000000123456789\",\"payload\":\"AAEC/w==\"}",
              hex);
    pb_schema_free(s);
}

/* ---- methods and messages ---- */

TEST(methods_by_their_three_spellings)
{
    pb_schema_t *s = load("ticks.proto");
    if (!s)
        return;
    char err[256];
    const char *names[] = {"stackbench.v1.Ticks/Stream", "/stackbench.v1.Ticks/Stream",
                           "stackbench.v1.Ticks.Stream"};
    for (int i = 0; i < 3; i++) {
        const pb_method_t *md = pb_method_find(s, names[i], err, sizeof err);
        CHECK(md != NULL);
        if (!md)
            continue;
        CHECK_STR(md->name, "stackbench.v1.Ticks/Stream");
        CHECK_STR(md->path, "/stackbench.v1.Ticks/Stream");
        CHECK_STR(pb_message_name(md->input), "stackbench.v1.StreamRequest");
        CHECK_STR(pb_message_name(md->output), "stackbench.v1.Tick");
        CHECK(md->server_streaming);
        CHECK(!md->client_streaming);
    }
    const pb_method_t *q = pb_method_find(s, "stackbench.v1.Ticks/Quote", err, sizeof err);
    CHECK(q && !q->server_streaming && !q->client_streaming);
    CHECK(q && q->input == pb_message_find(s, "stackbench.v1.QuoteRequest"));
    CHECK(pb_method_find(s, "stackbench.v1.Ticks/Nope", err, sizeof err) == NULL);
    CHECK_STR(err, "no method \"stackbench.v1.Ticks/Nope\" (the schema has: "
                   "stackbench.v1.Ticks/Stream, stackbench.v1.Ticks/Quote)");
    /* the dotted spelling is not a path */
    CHECK(pb_method_find(s, "/stackbench.v1.Ticks.Quote", err, sizeof err) == NULL);
    CHECK(pb_method_find(s, "Ticks/Quote", err, sizeof err) == NULL);
    pb_schema_free(s);

    s = load("kinds.proto");
    const pb_method_t *w = s ? pb_method_find(s, "sbtest.v1.Kit/Watch", err, sizeof err) : NULL;
    CHECK(w && w->client_streaming && w->server_streaming);
    CHECK(w && strcmp(pb_message_name(w->input), "sbtest.v1.Inner") == 0);
    pb_schema_free(s);

    s = load("legacy.proto");
    CHECK(s && pb_method_find(s, "a.B/C", err, sizeof err) == NULL);
    CHECK_STR(err, "no method \"a.B/C\" (the schema has no services)");
    pb_schema_free(s);
}

TEST(messages_by_full_name)
{
    pb_schema_t *s = load("kinds.proto");
    if (!s)
        return;
    const pb_message_t *m = pb_message_find(s, "sbtest.v1.Kinds");
    CHECK(m != NULL);
    CHECK(pb_message_find(s, ".sbtest.v1.Kinds") == m);
    CHECK_STR(pb_message_name(m), "sbtest.v1.Kinds");
    CHECK(pb_message_find(s, "shared.v1.Ref") != NULL); /* the imported file's */
    CHECK(pb_message_find(s, "sbtest.v1.Kinds.TotalsEntry") != NULL); /* a map's entry */
    CHECK(pb_message_find(s, "Kinds") == NULL);
    CHECK(pb_message_find(s, "sbtest.v1.Nope") == NULL);
    pb_schema_free(s);
}

/* ---- loading ---- */

TEST(load_errors)
{
    if (!have_protoc())
        return;
    char err[512], path[4096];
    CHECK(pb_schema_load("/nonexistent/x.proto", NULL, err, sizeof err) == NULL);
    CHECK_STR(err, "/nonexistent/x.proto: No such file or directory");

    snprintf(path, sizeof path, "%s/tests/unit/data/broken.proto", root());
    CHECK(pb_schema_load(path, NULL, err, sizeof err) == NULL);
    CHECK_STR(err, "protoc: broken.proto:7:3: \"Missing\" is not defined.");

    /* an import that is in no import folder: protoc's lines joined into one */
    snprintf(path, sizeof path, "%s/tests/unit/data/kinds.proto", root());
    CHECK(pb_schema_load(path, NULL, err, sizeof err) == NULL);
    CHECK_STR(err, "protoc: shared.proto: File not found.; kinds.proto:8:1: Import "
                   "\"shared.proto\" was not found or had errors.; kinds.proto:58:3: "
                   "\"shared.v1.Ref\" is not defined.");

    /* a message cut to err's size stays a C string */
    char small[20];
    CHECK(pb_schema_load(path, NULL, small, sizeof small) == NULL);
    CHECK_STR(small, "protoc: shared.prot");

    setenv("PATH", "/nonexistent", 1);
    CHECK(pb_schema_load(path, NULL, err, sizeof err) == NULL);
    CHECK_STR(err, "protoc: not found on PATH (Debian: apt-get install protobuf-compiler)");
}

TEST(load_a_file_in_the_working_folder)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/unit/data", root());
    CHECK_INT(chdir(dir), 0);
    const char *imports[] = {"imports", NULL};
    char err[512];
    pb_schema_t *s = have_protoc() ? pb_schema_load("kinds.proto", imports, err, sizeof err) : NULL;
    CHECK(s != NULL);
    pb_schema_free(s);
}

TEST(parse_refuses_what_is_not_a_descriptor_set)
{
    char err[256];
    CHECK(pb_schema_parse("\x0a\x05" "ab", 4, err, sizeof err) == NULL);
    CHECK_STR(err, "not a FileDescriptorSet (4 bytes)");
    /* a set whose field names a type it does not hold (protoc --encode of: file { name:
     * "a.proto" message_type { name: "M" field { name: "x" number: 1 label: LABEL_OPTIONAL
     * type: TYPE_MESSAGE type_name: ".N" } } }) */
    unsigned char set[64];
    size_t n = from_hex("0a1d0a07612e70726f746f22120a014d120d0a017818012001280b32022e4e", set);
    CHECK(pb_schema_parse(set, n, err, sizeof err) == NULL);
    CHECK_STR(err, "M.x: unknown type .N");
    /* the empty set: a schema with nothing in it */
    pb_schema_t *s = pb_schema_parse("", 0, err, sizeof err);
    CHECK(s != NULL);
    CHECK(s && pb_message_find(s, "M") == NULL);
    pb_schema_free(s);
}

/* ---- encoding: every kind of field, against protoc ---- */

static const char every_kind_json[] =
    "{\"i32\":-1,\"i64\":\"-9223372036854775808\",\"u32\":4294967295,"
    "\"u64\":\"18446744073709551615\",\"s32\":-2,\"s64\":\"-3\",\"f32\":7,\"f64\":\"8\","
    "\"sf32\":-9,\"sf64\":-10,\"flag\":true,\"ratio\":0.1,\"value\":\"NaN\","
    "\"name\":\"h\\u00e9llo \\ud83d\\ude00\\n\",\"blob\":\"AQID\",\"color\":\"INFRARED\","
    "\"inner\":{\"count\":5,\"label\":\"x\"},\"counts\":[1,2,300],\"tags\":[\"a\",\"b\"],"
    "\"items\":[{\"count\":1},{}],\"colors\":[\"RED\",2,7],\"samples\":[1.5,\"-Infinity\"],"
    "\"deltas\":[-1,\"1\"],\"totals\":{\"a\":\"5\",\"b\":0},\"byId\":{\"-4\":{\"label\":\"neg\"}},"
    "\"switches\":{\"true\":\"y\",\"false\":\"\"},\"detail\":{\"count\":1},\"maybe\":0,"
    "\"loose\":[1,2],\"customName\":\"r\",\"child\":{\"child\":{\"i32\":1}},"
    "\"ref\":{\"id\":\"q\"},\"wide\":{\"18446744073709551615\":1},\"last\":1}";

static const char every_kind_text[] =
    "i32: -1 i64: -9223372036854775808 u32: 4294967295 u64: 18446744073709551615 s32: -2\n"
    "s64: -3 f32: 7 f64: 8 sf32: -9 sf64: -10 flag: true ratio: 0.1 value: nan\n"
    "name: \"h\\303\\251llo \\360\\237\\230\\200\\n\" blob: \"\\001\\002\\003\" color: INFRARED\n"
    "inner { count: 5 label: \"x\" } counts: [1, 2, 300] tags: [\"a\", \"b\"]\n"
    "items { count: 1 } items {} colors: [RED, GREEN, 7] samples: [1.5, -inf] deltas: [-1, 1]\n"
    "totals { key: \"a\" value: 5 } totals { key: \"b\" value: 0 }\n"
    "by_id { key: -4 value { label: \"neg\" } }\n"
    "switches { key: true value: \"y\" } switches { key: false value: \"\" }\n"
    "detail { count: 1 } maybe: 0 loose: [1, 2] renamed: \"r\" child { child { i32: 1 } }\n"
    "ref { id: \"q\" } wide { key: 18446744073709551615 value: 1 } last: 1\n";

/* What decoding gives: JSON names, protobuf's own forms (64-bit as strings, enums by name). */
static const char every_kind_canonical[] =
    "{\"i32\":-1,\"i64\":\"-9223372036854775808\",\"u32\":4294967295,"
    "\"u64\":\"18446744073709551615\",\"s32\":-2,\"s64\":\"-3\",\"f32\":7,\"f64\":\"8\","
    "\"sf32\":-9,\"sf64\":\"-10\",\"flag\":true,\"ratio\":0.1,\"value\":\"NaN\","
    "\"name\":\"h\xc3\xa9llo \xf0\x9f\x98\x80\\n\",\"blob\":\"AQID\",\"color\":\"INFRARED\","
    "\"inner\":{\"count\":5,\"label\":\"x\"},\"counts\":[1,2,300],\"tags\":[\"a\",\"b\"],"
    "\"items\":[{\"count\":1},{}],\"colors\":[\"RED\",\"GREEN\",7],"
    "\"samples\":[1.5,\"-Infinity\"],\"deltas\":[\"-1\",\"1\"],"
    "\"totals\":{\"a\":\"5\",\"b\":\"0\"},"
    "\"byId\":{\"-4\":{\"label\":\"neg\"}},\"switches\":{\"true\":\"y\",\"false\":\"\"},"
    "\"detail\":{\"count\":1},\"maybe\":0,\"loose\":[1,2],\"customName\":\"r\","
    "\"child\":{\"child\":{\"i32\":1}},\"ref\":{\"id\":\"q\"},"
    "\"wide\":{\"18446744073709551615\":1},\"last\":1}";

TEST(every_kind_as_protoc_encodes_it)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    const char *want = protoc_encode("sbtest.v1.Kinds", every_kind_text);
    if (!m || !want)
        goto done;
    char expect[8192];
    snprintf(expect, sizeof expect, "%s", want);
    CHECK_ENC(s, m, every_kind_json, expect);
    CHECK_DEC(s, m, expect, every_kind_canonical);
    /* what decoding gives encodes to the same bytes */
    CHECK_ENC(s, m, every_kind_canonical, expect);
done:
    pb_schema_free(s);
}

TEST(each_kind_alone)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    struct {
        const char *json, *text;
    } cases[] = {
        {"{\"i32\":2147483647}", "i32: 2147483647"},
        {"{\"i32\":-2147483648}", "i32: -2147483648"},
        {"{\"i64\":9223372036854775807}", "i64: 9223372036854775807"},
        {"{\"u64\":9007199254740993}", "u64: 9007199254740993"}, /* 2^53 + 1, exact */
        {"{\"s32\":-2147483648}", "s32: -2147483648"},
        {"{\"s64\":\"-9223372036854775808\"}", "s64: -9223372036854775808"},
        {"{\"f64\":\"18446744073709551615\"}", "f64: 18446744073709551615"},
        {"{\"sf64\":\"-9223372036854775808\"}", "sf64: -9223372036854775808"},
        {"{\"ratio\":3.4028234663852886e38}", "ratio: 3.4028234663852886e38"},
        {"{\"value\":\"-Infinity\"}", "value: -inf"},
        {"{\"value\":5e-324}", "value: 5e-324"},
        {"{\"value\":-0.0}", "value: -0"}, /* -0 is not the default: written */
        {"{\"color\":\"GREEN\"}", "color: GREEN"},
        {"{\"color\":-3}", "color: INFRARED"},
        {"{\"colors\":[]}", ""},
        {"{\"code\":0}", "code: 0"},   /* a oneof member: written at its default */
        {"{\"text\":\"\"}", "text: \"\""},
        {"{\"maybe\":0}", "maybe: 0"}, /* proto3 optional: the same */
        {"{\"inner\":{}}", "inner {}"},
        {"{\"totals\":{\"\":0}}", "totals { key: \"\" value: 0 }"},
        {"{\"byId\":{\"7\":{}}}", "by_id { key: 7 value {} }"},
        {"{\"wide\":{\"0\":0}}", "wide { key: 0 value: 0 }"},
        {"{\"switches\":{\"false\":\"\"}}", "switches { key: false value: \"\" }"},
        {"{\"loose\":[0,-1]}", "loose: 0 loose: -1"},
        {"{\"deltas\":[\"-9223372036854775808\",9223372036854775807]}",
         "deltas: [-9223372036854775808, 9223372036854775807]"},
        {"{\"ref\":{}}", "ref {}"},
        {"{\"last\":-1}", "last: -1"},
    };
    for (size_t i = 0; m && i < sizeof cases / sizeof cases[0]; i++) {
        const char *want = protoc_encode("sbtest.v1.Kinds", cases[i].text);
        if (!want)
            break;
        char expect[4096];
        snprintf(expect, sizeof expect, "%s", want);
        const char *got = enc(s, m, cases[i].json);
        if (strcmp(got, expect) != 0) {
            fprintf(stderr, "    %s: %s, protoc: %s\n", cases[i].json, got, expect);
            t_failures++;
        }
    }
    pb_schema_free(s);
}

TEST(numbers_in_every_spelling_json_allows)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    /* 12 as a number, a string, with an exponent, with a fraction of zeros: all 08 0c */
    const char *twelve[] = {"12", "\"12\"", "1.2e1", "12.000", "1200e-2", "\"0.12e2\"", "120E-1"};
    for (size_t i = 0; i < sizeof twelve / sizeof twelve[0]; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"i32\":%s}", twelve[i]);
        CHECK_ENC(s, m, json, "080c");
    }
    CHECK_ENC(s, m, "{\"i32\":-0}", "");
    CHECK_ENC(s, m, "{\"i32\":0e99999999999}", "");
    CHECK_ENC(s, m, "{\"u64\":1e19}", "208080a0cfc8e0c8e38a01");
    CHECK_ENC(s, m, "{\"ratio\":\"1.5\"}", "650000c03f");
    CHECK_ENC(s, m, "{\"ratio\":\"NaN\"}", "650000c07f");
    CHECK_ENC(s, m, "{\"ratio\":\"Infinity\"}", "650000807f");
    pb_schema_free(s);
}

TEST(bytes_in_either_base64)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    /* fb ff: "+/8=" standard, "-_8" URL-safe, with or without padding */
    const char *b64[] = {"+/8=", "+/8", "-_8=", "-_8"};
    for (size_t i = 0; i < 4; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"blob\":\"%s\"}", b64[i]);
        CHECK_ENC(s, m, json, "7a02fbff");
    }
    CHECK_ENC(s, m, "{\"blob\":\"AA==\"}", "7a0100");
    CHECK_ENC(s, m, "{\"blob\":\"AAAA\"}", "7a03000000");
    CHECK_ENC(s, m, "{\"blob\":\"\"}", "");
    CHECK_ENC(s, m, "{\"blob\":\"\\u0041\\u0041==\"}", "7a0100"); /* escapes decoded first */
    CHECK_DEC(s, m, "7a02fbff", "{\"blob\":\"+/8=\"}");
    CHECK_DEC(s, m, "7a0100", "{\"blob\":\"AA==\"}");
    CHECK_DEC(s, m, "7a03000000", "{\"blob\":\"AAAA\"}");
    pb_schema_free(s);
}

TEST(strings_decoded_from_json)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    /* \" \\ \/ \b \f \n \r \t, \u00e9 as c3 a9, a surrogate pair as 4 bytes */
    CHECK_ENC(s, m, "{\"name\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
              "720e225c2f080c0a0d09c3a9f09f9880");
    CHECK_DEC(s, m, "720e225c2f080c0a0d09c3a9f09f9880",
              "{\"name\":\"\\\"\\\\/\\b\\f\\n\\r\\t\xc3\xa9\xf0\x9f\x98\x80\"}");
    CHECK_DEC(s, m, "720101", "{\"name\":\"\\u0001\"}");
    /* a field's name may be written with escapes too */
    CHECK_ENC(s, m, "{\"n\\u0061me\":\"x\"}", "720178");
    pb_schema_free(s);
}

/* proto2: unpacked unless [packed = true]; optional fields written at their default. */
TEST(proto2_rules)
{
    pb_schema_t *s = load("legacy.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Legacy");
    /* 08 01 08 02 (unpacked) · 12 02 03 04 (packed) · 18 00 · 22 00 */
    CHECK_ENC(s, m, "{\"nums\":[1,2],\"packedNums\":[3,4],\"zero\":0,\"empty\":\"\"}",
              "080108021202030418002200");
    CHECK_DEC(s, m, "080108021202030418002200",
              "{\"nums\":[1,2],\"packedNums\":[3,4],\"zero\":0,\"empty\":\"\"}");
    CHECK_ENC(s, m, "{\"blob\":{\"a\":1}}", "ERR: data: .blob: a group (proto2): not supported");
    CHECK_DEC(s, m, "2b3001 2c",
              "ERR: wire: at byte 0: field 5: a group (wire type 3): not supported");
    pb_schema_free(s);
}

/* ---- encoding errors: each message ---- */

TEST(encode_errors)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    struct {
        const char *json, *err;
    } cases[] = {
        {"{\"items\":[{},{},{\"count\":-1}]}",
         "data: .items[2].count: want an integer 0..4294967295, got -1"},
        {"{\"i32\":2147483648}",
         "data: .i32: want an integer -2147483648..2147483647, got 2147483648"},
        {"{\"i32\":-2147483649}",
         "data: .i32: want an integer -2147483648..2147483647, got -2147483649"},
        {"{\"i32\":1.5}", "data: .i32: want an integer -2147483648..2147483647, got 1.5"},
        {"{\"i32\":1e-1}", "data: .i32: want an integer -2147483648..2147483647, got 1e-1"},
        {"{\"i32\":1e99999}", "data: .i32: want an integer -2147483648..2147483647, got 1e99999"},
        {"{\"i32\":\" 1\"}", "data: .i32: want an integer -2147483648..2147483647, got \" 1\""},
        {"{\"i32\":\"0x10\"}", "data: .i32: want an integer -2147483648..2147483647, got \"0x10\""},
        {"{\"i32\":true}", "data: .i32: want an integer -2147483648..2147483647, got true"},
        {"{\"i32\":[1]}", "data: .i32: want an integer -2147483648..2147483647, got an array"},
        {"{\"i64\":\"9223372036854775808\"}",
         "data: .i64: want an integer -9223372036854775808..9223372036854775807, got "
         "\"9223372036854775808\""},
        {"{\"u64\":18446744073709551616}",
         "data: .u64: want an integer 0..18446744073709551615, got 18446744073709551616"},
        {"{\"u64\":-1}", "data: .u64: want an integer 0..18446744073709551615, got -1"},
        {"{\"u32\":\"-0\"}", ""}, /* -0 is 0: fine */
        {"{\"sf32\":{}}", "data: .sf32: want an integer -2147483648..2147483647, got an object"},
        {"{\"flag\":1}", "data: .flag: want true or false, got 1"},
        {"{\"flag\":\"true\"}", "data: .flag: want true or false, got \"true\""},
        {"{\"ratio\":1e39}",
         "data: .ratio: want a float (at most 3.4028235e38 in magnitude), got 1e39"},
        {"{\"value\":1e309}",
         "data: .value: want a double (at most 1.7976931348623157e308 in magnitude), got 1e309"},
        {"{\"value\":\"nan\"}", "data: .value: want a double, got \"nan\""},
        {"{\"value\":\"1.5 \"}", "data: .value: want a double, got \"1.5 \""},
        {"{\"value\":false}", "data: .value: want a double, got false"},
        {"{\"name\":5}", "data: .name: want a string, got 5"},
        {"{\"name\":\"\\ud800\"}",
         "data: .name: want a string without lone surrogate escapes, got \"\\ud800\""},
        {"{\"name\":\"\\udc00\\ud800\"}",
         "data: .name: want a string without lone surrogate escapes, got \"\\udc00\\ud800\""},
        {"{\"blob\":\"A\"}", "data: .blob: want base64 (standard or URL-safe), got \"A\""},
        {"{\"blob\":\"AQ=I\"}", "data: .blob: want base64 (standard or URL-safe), got \"AQ=I\""},
        {"{\"blob\":\"AQ=\"}", "data: .blob: want base64 (standard or URL-safe), got \"AQ=\""},
        {"{\"blob\":\"@@@@\"}", "data: .blob: want base64 (standard or URL-safe), got \"@@@@\""},
        {"{\"blob\":[1]}", "data: .blob: want base64 (standard or URL-safe), got an array"},
        {"{\"color\":\"PINK\"}",
         "data: .color: want one of COLOR_UNSPECIFIED, RED, GREEN, INFRARED (sbtest.v1.Color) or "
         "its number, got \"PINK\""},
        {"{\"color\":true}",
         "data: .color: want one of COLOR_UNSPECIFIED, RED, GREEN, INFRARED (sbtest.v1.Color) or "
         "its number, got true"},
        {"{\"color\":2147483648}",
         "data: .color: want an integer -2147483648..2147483647, got 2147483648"},
        {"{\"inner\":5}", "data: .inner: want an object (sbtest.v1.Inner), got 5"},
        {"{\"inner\":{\"cnt\":1}}",
         "data: .inner: unknown field \"cnt\" (sbtest.v1.Inner has count, label)"},
        {"{\"inner\":{\"count\":1,\"count\":2}}", "data: .inner.count: set twice"},
        {"{\"byId\":{},\"by_id\":{}}", "data: .by_id: set twice (as byId and by_id)"},
        {"{\"renamed\":\"a\",\"customName\":\"b\"}",
         "data: .customName: set twice (as renamed and customName)"},
        {"{\"counts\":5}", "data: .counts: want an array, got 5"},
        {"{\"counts\":{}}", "data: .counts: want an array, got an object"},
        {"{\"counts\":[1,null]}",
         "data: .counts[1]: want an integer -2147483648..2147483647, got null"},
        {"{\"items\":[null]}", "data: .items[0]: want an object (sbtest.v1.Inner), got null"},
        {"{\"tags\":[\"a\",1]}", "data: .tags[1]: want a string, got 1"},
        {"{\"colors\":[\"RED\",\"BLUE\"]}",
         "data: .colors[1]: want one of COLOR_UNSPECIFIED, RED, GREEN, INFRARED (sbtest.v1.Color) "
         "or its number, got \"BLUE\""},
        {"{\"totals\":[]}", "data: .totals: want an object (a map), got an array"},
        {"{\"totals\":{\"a\":null}}", "data: .totals[\"a\"]: want an integer "
                                      "-9223372036854775808..9223372036854775807, got null"},
        {"{\"totals\":{\"a\":\"x\"}}", "data: .totals[\"a\"]: want an integer "
                                       "-9223372036854775808..9223372036854775807, got \"x\""},
        {"{\"byId\":{\"abc\":{}}}",
         "data: .byId[\"abc\"]: want an integer -2147483648..2147483647, got \"abc\""},
        {"{\"byId\":{\"1\":{\"x\":1}}}",
         "data: .byId[\"1\"]: unknown field \"x\" (sbtest.v1.Inner has count, label)"},
        {"{\"switches\":{\"yes\":\"\"}}",
         "data: .switches[\"yes\"]: want a key \"true\" or \"false\", got \"yes\""},
        {"{\"wide\":{\"-1\":1}}",
         "data: .wide[\"-1\"]: want an integer 0..18446744073709551615, got \"-1\""},
        {"{\"totals\":{\"\\udfff\":1}}",
         "data: .totals[\"\\udfff\"]: want a key without lone surrogate escapes, got \"\\udfff\""},
        {"{\"text\":\"a\",\"detail\":{}}",
         "data: .detail: oneof choice has .text set already: at most one of its fields"},
        {"{\"code\":1,\"text\":null,\"detail\":{}}",
         "data: .detail: oneof choice has .code set already: at most one of its fields"},
        {"{\"text\":null,\"code\":1}", ""}, /* null is not set */
        {"{\"ref\":{\"id\":1}}", "data: .ref.id: want a string, got 1"},
        {"{\"nope\":1}",
         "data: unknown field \"nope\" (sbtest.v1.Kinds has i32, i64, u32, u64, s32, s64, f32, "
         "f64, sf32, sf64, flag, ratio, value, name, blob, color, inner, counts, tags, items, "
         "colors, samples, deltas, totals, byId, switches, text, detail, code, maybe, ...)"},
        {"{\"a\\nb\":1}", /* as written: the message stays one line */
         "data: unknown field \"a\\nb\" (sbtest.v1.Kinds has i32, i64, u32, u64, s32, s64, f32, "
         "f64, sf32, sf64, flag, ratio, value, name, blob, color, inner, counts, tags, items, "
         "colors, samples, deltas, totals, byId, switches, text, detail, code, maybe, ...)"},
        {"[1]", "data: want an object (sbtest.v1.Kinds), got an array"},
        {"\"x\"", "data: want an object (sbtest.v1.Kinds), got \"x\""},
        {"{\"i32\":1", "data: invalid JSON at byte 8: unexpected end of input"},
        {"{\"i32\":1]", "data: invalid JSON at byte 8: expected ',' or '}'"},
        {"", "data: invalid JSON at byte 0: unexpected end of input"},
        {"{\"name\":\"0123456789012345678901234567890123456789 and more\",\"i32\":\"x\"}",
         "data: .i32: want an integer -2147483648..2147483647, got \"x\""},
        {"{\"tags\":[\"0123456789012345678901234567890123456789 and more\",2]}",
         "data: .tags[1]: want a string, got 2"},
        {"{\"i64\":\"01234567890123456789012345678901234567890123456789\"}",
         "data: .i64: want an integer -9223372036854775808..9223372036854775807, got "
         "\"012345678901234567890123456789012345678..."},
    };
    for (size_t i = 0; m && i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = enc(s, m, cases[i].json);
        bool failed = strncmp(got, "ERR: ", 5) == 0;
        bool ok = cases[i].err[0] ? failed && strcmp(got + 5, cases[i].err) == 0 : !failed;
        if (!ok) {
            fprintf(stderr, "    %s\n      got  %s\n      want %s\n", cases[i].json, got,
                    cases[i].err[0] ? cases[i].err : "(success)");
            t_failures++;
        }
    }
    pb_schema_free(s);
}

TEST(wkt_own_json_forms_said_to_be_unsupported)
{
    /* kinds.proto has no well-known type; a schema made of protoc's timestamp.proto has */
    if (!have_protoc())
        return;
    char err[512];
    pb_schema_t *s = pb_schema_load("/usr/include/google/protobuf/timestamp.proto", NULL, err,
                                    sizeof err);
    CHECK(s != NULL);
    const pb_message_t *m = s ? pb_message_find(s, "google.protobuf.Timestamp") : NULL;
    CHECK_ENC(s, m, "\"2024-01-01T00:00:00Z\"",
              "ERR: data: want an object (google.protobuf.Timestamp); this type's own JSON form "
              "is not supported: write its fields, got \"2024-01-01T00:00:00Z\"");
    CHECK_ENC(s, m, "{\"seconds\":\"1704067200\",\"nanos\":5}", "088081c8ac061005");
    pb_schema_free(s);
}

TEST(nesting_limited_to_64_messages)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    if (!m)
        goto done;
    /* 64 messages deep (the top one and 63 children): fine; 65: refused */
    for (int depth = 64; depth <= 65; depth++) {
        buf_t j = BUF_INIT, b = BUF_INIT, back = BUF_INIT;
        for (int i = 1; i < depth; i++)
            buf_puts(&j, "{\"child\":");
        buf_puts(&j, "{\"i32\":1}");
        for (int i = 1; i < depth; i++)
            buf_puts(&j, "}");
        char err[512];
        int rc = pb_encode_json(s, m, buf_start(&j), buf_size(&j), &b, err, sizeof err);
        if (depth == 64) {
            CHECK_INT(rc, 0);
            CHECK_INT(pb_decode_json(s, m, buf_start(&b), buf_size(&b), &back, err, sizeof err), 0);
            CHECK(same(&back, &j));
        } else {
            CHECK_INT(rc, -1);
            /* the path is cut, the message is whole */
            CHECK(strncmp(err, "data: .child.child.child", 24) == 0);
            const char *tail = "...: messages nested deeper than 64";
            CHECK(ends_with(err, tail));
        }
        /* the same depth on the wire: 65 nested child fields (9a 02 LEN) */
        buf_t w = BUF_INIT;
        unsigned char leaf[] = {0x08, 0x01};
        buf_append(&w, leaf, 2);
        for (int i = 1; i < depth; i++) {
            size_t n = buf_size(&w);
            unsigned char head[4] = {0x8a, 0x02, 0, 0};
            int k = 2;
            head[k++] = (unsigned char)(n < 128 ? n : (n & 0x7f) | 0x80);
            if (n >= 128)
                head[k++] = (unsigned char)(n >> 7);
            buf_t x = BUF_INIT;
            buf_append(&x, head, (size_t)k);
            buf_append(&x, buf_start(&w), n);
            buf_free(&w);
            w = x;
        }
        buf_clear(&back);
        rc = pb_decode_json(s, m, buf_start(&w), buf_size(&w), &back, err, sizeof err);
        CHECK_INT(rc, depth == 64 ? 0 : -1);
        if (depth == 65) {
            const char *tail = "messages nested deeper than 64";
            CHECK(ends_with(err, tail));
            CHECK(strncmp(err, "wire: .child.child", 18) == 0);
        }
        buf_free(&w);
        buf_free(&j);
        buf_free(&b);
        buf_free(&back);
    }
done:
    pb_schema_free(s);
}

TEST(output_appended_and_left_as_it_was_on_error)
{
    pb_schema_t *s = load("ticks.proto");
    const pb_message_t *m = msg(s, "stackbench.v1.QuoteRequest");
    if (!m)
        goto done;
    buf_t b = BUF_INIT;
    buf_puts(&b, "xyz");
    buf_consume(&b, 1); /* an offset: positions are taken from the start */
    char err[256];
    CHECK_INT(pb_encode_json(s, m, "{\"symbol\":\"A\"}", 14, &b, err, sizeof err), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b), "yz\x0a\x01" "A");
    CHECK_INT(pb_encode_json(s, m, "{\"symbol\":1}", 12, &b, err, sizeof err), -1);
    CHECK_MEM(buf_start(&b), buf_size(&b), "yz\x0a\x01" "A");
    CHECK_INT(pb_decode_json(s, m, "\x0a\x05", 2, &b, err, sizeof err), -1);
    CHECK_MEM(buf_start(&b), buf_size(&b), "yz\x0a\x01" "A");
    CHECK_INT(pb_decode_json(s, m, "\x0a\x01" "B", 3, &b, err, sizeof err), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b), "yz\x0a\x01" "A{\"symbol\":\"B\"}");
    /* long values grow the buffer while lengths are put in front of them */
    buf_t big = BUF_INIT, json = BUF_INIT;
    buf_puts(&json, "{\"symbol\":\"");
    for (int i = 0; i < 100000; i++)
        buf_puts(&json, "Z");
    buf_puts(&json, "\"}");
    CHECK_INT(pb_encode_json(s, m, buf_start(&json), buf_size(&json), &big, err, sizeof err), 0);
    CHECK_INT(buf_size(&big), 100000 + 4);
    CHECK_STR(to_hex(buf_start(&big), 4), "0aa08d06");
    buf_free(&big);
    buf_free(&json);
    buf_free(&b);
done:
    pb_schema_free(s);
}

/* ---- decoding ---- */

TEST(decode_as_protobuf_reads)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    /* unknown fields skipped: 100 (varint), 101 (LEN), 102 (fixed32), 103 (fixed64) */
    CHECK_DEC(s, m, "a006 01 aa0602 6161 b50601020304 b906 0102030405060708 0805", "{\"i32\":5}");
    /* a scalar seen twice: the last */
    CHECK_DEC(s, m, "0801 0802", "{\"i32\":2}");
    /* a message seen twice: merged */
    CHECK_DEC(s, m, "8a01020805 8a0103120178", "{\"inner\":{\"count\":5,\"label\":\"x\"}}");
    CHECK_DEC(s, m, "8a01020805 0801 8a01020806", "{\"i32\":1,\"inner\":{\"count\":6}}");
    /* repeated: packed and unpacked runs, in order, and interleaved with other fields */
    CHECK_DEC(s, m, "9201020102 9001 03 0807 92010104", "{\"i32\":7,\"counts\":[1,2,3,4]}");
    CHECK_DEC(s, m, "f80105 fa01020607", "{\"loose\":[5,6,7]}");
    CHECK_DEC(s, m, "920100", "{}"); /* an empty packed run: nothing */
    /* a oneof: the member read last */
    CHECK_DEC(s, m, "da010161 e80107", "{\"code\":\"7\"}");
    CHECK_DEC(s, m, "e80107 da010161", "{\"text\":\"a\"}");
    /* a wire type that is not the field's: an unknown field */
    CHECK_DEC(s, m, "0a0178 0803", "{\"i32\":3}");
    /* 32-bit fields take a varint's low 32 bits, bool any bit */
    CHECK_DEC(s, m, "08ffffffff1f", "{\"i32\":-1}");
    CHECK_DEC(s, m, "088080808010", "{}");
    CHECK_DEC(s, m, "5802", "{\"flag\":true}");
    CHECK_DEC(s, m, "5880808080808080808001", "{\"flag\":true}");
    /* defaults of fields without presence left out; with presence written */
    CHECK_DEC(s, m, "0800 1000 7200 8001 00 f00100 e80100", "{\"code\":\"0\",\"maybe\":0}");
    CHECK_DEC(s, m, "6500000080", "{\"ratio\":-0}");
    /* map entries without key or value: the defaults */
    CHECK_DEC(s, m, "c20100 ca0100 d2010208 01", "{\"totals\":{\"\":\"0\"},\"byId\":{\"0\":{}},"
                                                 "\"switches\":{\"true\":\"\"}}");
    /* an entry's value seen twice: merged; its key twice: the last */
    CHECK_DEC(s, m, "ca010d 0801 12020801 0802 1203120178",
              "{\"byId\":{\"2\":{\"count\":1,\"label\":\"x\"}}}");
    /* entries of the same key: all written, in wire order */
    CHECK_DEC(s, m, "c201050a01611001 c201050a01611002", "{\"totals\":{\"a\":\"1\",\"a\":\"2\"}}");
    /* an enum number without a name */
    CHECK_DEC(s, m, "800109 a80102 a80109", "{\"color\":9,\"colors\":[\"GREEN\",9]}");
    /* floats: the shortest that reads back; double's too */
    CHECK_DEC(s, m, "65cdcccc3d 699a9999999999b93f", "{\"ratio\":0.1,\"value\":0.1}");
    CHECK_DEC(s, m, "650000807f 690000000000000080 650000c0ff",
              "{\"ratio\":\"NaN\",\"value\":-0}");
    CHECK_DEC(s, m, "650000807f 69000000000000f0ff",
              "{\"ratio\":\"Infinity\",\"value\":\"-Infinity\"}");
    CHECK_DEC(s, m, "650100000069ffffffffffffef7f",
              "{\"ratio\":1e-45,\"value\":1.7976931348623157e+308}");
    pb_schema_free(s);
}

TEST(decode_refuses_malformed_bytes)
{
    pb_schema_t *s = load("kinds.proto");
    const pb_message_t *m = msg(s, "sbtest.v1.Kinds");
    struct {
        const char *hex, *err;
    } cases[] = {
        {"80", "wire: at byte 0: a varint cut short"},
        {"08", "wire: at byte 1: a varint cut short"},
        {"08ff", "wire: at byte 1: a varint cut short"},
        {"08ffffffffffffffffff02", "wire: at byte 1: a varint beyond 64 bits"},
        {"08ffffffffffffffffffff01", "wire: at byte 1: a varint beyond 64 bits"},
        {"00", "wire: at byte 0: field number 0"},
        {"0700", "wire: at byte 0: field number 0"},
        {"8080808010", "wire: at byte 0: field number 536870912 beyond 536870911"},
        {"0a054141", "wire: at byte 0: field 1: length 5 runs past the end (2 bytes left)"},
        {"0affffffffffffffff7f", "wire: at byte 0: field 1: length 9223372036854775807 runs past "
                                 "the end (0 bytes left)"},
        {"0a", "wire: at byte 1: a varint cut short"},
        {"3d0102", "wire: at byte 0: field 7: a 4-byte value cut short (2 bytes left)"},
        {"41", "wire: at byte 0: field 8: a 8-byte value cut short (0 bytes left)"},
        {"0b", "wire: at byte 0: field 1: a group (wire type 3): not supported"},
        {"0c", "wire: at byte 0: field 1: a group (wire type 4): not supported"},
        {"0e", "wire: at byte 0: field 1: wire type 6 does not exist"},
        {"0f", "wire: at byte 0: field 1: wire type 7 does not exist"},
        {"a2 01 00 a2 01 02 08 80", "wire: .items[1]: at byte 7: a varint cut short"},
        {"a2 01 00 a2 01 01 0b",
         "wire: .items[1]: at byte 6: field 1: a group (wire type 3): not supported"},
        {"7201ff", "wire: .name: at byte 0: a string that is not UTF-8"},
        {"7202c0af", "wire: .name: at byte 0: a string that is not UTF-8"},        /* overlong */
        {"7203eda080", "wire: .name: at byte 0: a string that is not UTF-8"},      /* a surrogate */
        {"7204f4908080", "wire: .name: at byte 0: a string that is not UTF-8"},    /* > U+10FFFF */
        {"7202e282", "wire: .name: at byte 0: a string that is not UTF-8"},        /* cut short */
        {"b20103000000", "wire: .samples: at byte 0: field 22: a packed run of 3 bytes, not a "
                         "multiple of 8"},
        {"920102 0180", "wire: .counts: at byte 4: a varint cut short"},
        {"c20103 0a01ff", "wire: .totals: at byte 3: a map key that is not UTF-8"},
        {"c20102 0a05",
         "wire: .totals: at byte 3: field 1: length 5 runs past the end (0 bytes left)"},
        {"ca0104 0801 1205",
         "wire: .byId: at byte 5: field 2: length 5 runs past the end (0 bytes left)"},
        {"ca0106 0801 12020b00",
         "wire: .byId[\"1\"]: at byte 7: field 1: a group (wire type 3): not supported"},
        {"8a02 02 8a02", "wire: .child: at byte 5: a varint cut short"},
    };
    for (size_t i = 0; m && i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = dec(s, m, cases[i].hex);
        if (strncmp(got, "ERR: ", 5) != 0 || strcmp(got + 5, cases[i].err) != 0) {
            fprintf(stderr, "    %s\n      got  %s\n      want %s\n", cases[i].hex, got,
                    cases[i].err);
            t_failures++;
        }
    }
    /* nothing read past the end: each prefix of a valid message, in an exact-size copy */
    const char *want = protoc_encode("sbtest.v1.Kinds", every_kind_text);
    if (m && want) {
        unsigned char full[4096];
        size_t n = from_hex(want, full);
        for (size_t k = 0; k < n; k++) {
            unsigned char *cut = malloc(k ? k : 1);
            memcpy(cut, full, k);
            buf_t b = BUF_INIT;
            char err[512];
            int rc = pb_decode_json(s, m, cut, k, &b, err, sizeof err);
            CHECK(rc == 0 || strncmp(err, "wire: ", 6) == 0);
            CHECK(rc != 0 || buf_size(&b) > 0);
            buf_free(&b);
            free(cut);
        }
    }
    pb_schema_free(s);
}

T_MAIN(T(stream_request_as_written_by_hand), T(stream_request_read_back_by_protobuf_c),
       T(quote_request), T(tick_made_by_protobuf_c_decoded), T(methods_by_their_three_spellings),
       T(messages_by_full_name), T(load_errors), T(load_a_file_in_the_working_folder),
       T(parse_refuses_what_is_not_a_descriptor_set), T(every_kind_as_protoc_encodes_it),
       T(each_kind_alone), T(numbers_in_every_spelling_json_allows), T(bytes_in_either_base64),
       T(strings_decoded_from_json), T(proto2_rules), T(encode_errors),
       T(wkt_own_json_forms_said_to_be_unsupported), T(nesting_limited_to_64_messages),
       T(output_appended_and_left_as_it_was_on_error), T(decode_as_protobuf_reads),
       T(decode_refuses_malformed_bytes))
