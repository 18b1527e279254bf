/* libFuzzer target for codec/pbjson (src/codec/pbjson.h): JSON encoded as a message, and wire
 * bytes decoded as one, of the type sbtest.v1.Kinds of tests/unit/data/kinds.proto (every kind
 * of field), loaded once with protoc from $SB_ROOT (default: the working folder, as
 * tests/run.sh runs it). The first input byte chooses, the rest is the input, in an
 * exact-size heap copy (AddressSanitizer sees any read past its end):
 *   even: JSON. On success the bytes decode, the JSON they decode to is valid and encodes to
 *         the same bytes (what is encoded is written the one way protobuf writes it, and the
 *         decoder writes what reads back to it). On failure the message is one line
 *         "data: ...", and the output is as it was.
 *   odd:  wire bytes. On success the JSON is valid, encodes, and what it encodes to decodes
 *         to the same JSON (unknown fields, repeated scalars and oneof members are then gone,
 *         so the bytes may differ; their JSON may not). On failure the message is one line
 *         "wire: ...", and the output is as it was.
 * Nothing leaks (LeakSanitizer), on success or failure. abort() on any violation. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "codec/pbjson.h"

static pb_schema_t *schema;
static const pb_message_t *kinds;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *root = getenv("SB_ROOT");
    char path[4096], imports[4096], err[1024];
    snprintf(path, sizeof path, "%s/tests/unit/data/kinds.proto", root && *root ? root : ".");
    snprintf(imports, sizeof imports, "%s/tests/unit/data/imports", root && *root ? root : ".");
    const char *dirs[] = {imports, NULL};
    schema = pb_schema_load(path, dirs, err, sizeof err);
    kinds = schema ? pb_message_find(schema, "sbtest.v1.Kinds") : NULL;
    if (!kinds) {
        fprintf(stderr, "fuzz_pbjson: %s (run from the checkout, or set SB_ROOT)\n",
                schema ? "no message sbtest.v1.Kinds" : err);
        abort();
    }
    return 0;
}

static void check_message(const char *err, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(err, prefix, n) != 0 || err[n] == 0 || strchr(err, '\n'))
        abort();
}

static bool same(const buf_t *a, const buf_t *b)
{
    return buf_size(a) == buf_size(b) && memcmp(buf_start(a), buf_start(b), buf_size(a)) == 0;
}

static void fuzz_json(const char *json, size_t len)
{
    buf_t bytes = BUF_INIT, back = BUF_INIT, again = BUF_INIT;
    char err[512];
    if (pb_encode_json(schema, kinds, json, len, &bytes, err, sizeof err) != 0) {
        check_message(err, "data: ");
        if (buf_size(&bytes) != 0)
            abort();
        goto done;
    }
    json_error_t je;
    if (pb_decode_json(schema, kinds, buf_start(&bytes), buf_size(&bytes), &back, err,
                       sizeof err) ||
        json_validate(buf_start(&back), buf_size(&back), &je) ||
        pb_encode_json(schema, kinds, buf_start(&back), buf_size(&back), &again, err, sizeof err) ||
        !same(&bytes, &again)) {
        fprintf(stderr, "round trip: %s\n", err);
        abort();
    }
done:
    buf_free(&bytes);
    buf_free(&back);
    buf_free(&again);
}

static void fuzz_wire(const uint8_t *p, size_t len)
{
    buf_t json = BUF_INIT, bytes = BUF_INIT, again = BUF_INIT;
    char err[512];
    if (pb_decode_json(schema, kinds, p, len, &json, err, sizeof err) != 0) {
        check_message(err, "wire: ");
        if (buf_size(&json) != 0)
            abort();
        goto done;
    }
    json_error_t je;
    if (json_validate(buf_start(&json), buf_size(&json), &je) ||
        pb_encode_json(schema, kinds, buf_start(&json), buf_size(&json), &bytes, err, sizeof err) ||
        pb_decode_json(schema, kinds, buf_start(&bytes), buf_size(&bytes), &again, err,
                       sizeof err) ||
        !same(&json, &again)) {
        fprintf(stderr, "round trip: %s\n", err);
        abort();
    }
done:
    buf_free(&json);
    buf_free(&bytes);
    buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = size - 1;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, n);
    if (data[0] & 1)
        fuzz_wire(copy, n);
    else
        fuzz_json((const char *)copy, n);
    free(copy);
    return 0;
}
