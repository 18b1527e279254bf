#include "verify/message.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

/* The strings set into the message, freed after packing. */
#define PBJSON_MAX_FIELDS 64

typedef struct {
    char *strings[PBJSON_MAX_FIELDS];
    int nstrings;
} owned_t;

/* A JSON integer as written ("-12", not "1.0" or "1e3") into *v; false when it is none. */
static bool json_int(const char *v, size_t n, bool negative_ok, char *tmp, size_t tmplen)
{
    if (n == 0 || n >= tmplen)
        return false;
    size_t i = v[0] == '-' ? 1 : 0;
    if (i == 1 && !negative_ok)
        return false;
    if (i == n)
        return false;
    for (size_t k = i; k < n; k++)
        if (v[k] < '0' || v[k] > '9')
            return false;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    return true;
}

static bool json_signed(const char *v, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    char tmp[32];
    if (!json_int(v, n, true, tmp, sizeof tmp))
        return false;
    errno = 0;
    long long x = strtoll(tmp, NULL, 10);
    if (errno || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static bool json_unsigned(const char *v, size_t n, uint64_t hi, uint64_t *out)
{
    char tmp[32];
    if (!json_int(v, n, false, tmp, sizeof tmp))
        return false;
    errno = 0;
    unsigned long long x = strtoull(tmp, NULL, 10);
    if (errno || x > hi)
        return false;
    *out = x;
    return true;
}

/* One member's value into the field f of msg. 0, or -1 with why. */
static int set_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const char *v,
                     size_t n, owned_t *own, char *err, size_t errlen)
{
    void *at = (char *)msg + f->offset;
    int64_t s;
    uint64_t u;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (!json_signed(v, n, INT32_MIN, INT32_MAX, &s))
            goto want_int;
        *(int32_t *)at = (int32_t)s;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!json_signed(v, n, INT64_MIN, INT64_MAX, &s))
            goto want_int;
        *(int64_t *)at = s;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!json_unsigned(v, n, UINT32_MAX, &u))
            goto want_int;
        *(uint32_t *)at = (uint32_t)u;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (!json_unsigned(v, n, UINT64_MAX, &u))
            goto want_int;
        *(uint64_t *)at = u;
        break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        char tmp[64];
        if (n == 0 || n >= sizeof tmp || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
            snprintf(err, errlen, "%s: want a number", f->name);
            return -1;
        }
        memcpy(tmp, v, n);
        tmp[n] = 0;
        double d = strtod(tmp, NULL);
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)at = (float)d;
        else
            *(double *)at = d;
        break;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (n == 4 && memcmp(v, "true", 4) == 0) {
            *(protobuf_c_boolean *)at = 1;
        } else if (n == 5 && memcmp(v, "false", 5) == 0) {
            *(protobuf_c_boolean *)at = 0;
        } else {
            snprintf(err, errlen, "%s: want true or false", f->name);
            return -1;
        }
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        if (n >= 2 && v[0] == '"') {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(n - 2), v + 1);
            const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(e, name);
            if (!ev) {
                snprintf(err, errlen, "%s: no value '%s' in %s", f->name, name, e->name);
                return -1;
            }
            *(int *)at = ev->value;
        } else if (json_signed(v, n, INT32_MIN, INT32_MAX, &s)) {
            *(int *)at = (int)s;
        } else {
            snprintf(err, errlen, "%s: want a value's name or number", f->name);
            return -1;
        }
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (n < 2 || v[0] != '"') {
            snprintf(err, errlen, "%s: want a string", f->name);
            return -1;
        }
        buf_t b = BUF_INIT;
        if (json_unescape(v + 1, n - 2, &b) < 0 || buf_append(&b, "", 1) < 0) {
            buf_free(&b);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (strlen(buf_start(&b)) + 1 != buf_size(&b)) {
            buf_free(&b);
            snprintf(err, errlen, "%s: a NUL inside a string", f->name);
            return -1;
        }
        own->strings[own->nstrings++] = b.data; /* buf_start is b.data: nothing consumed */
        *(char **)at = b.data;
        break;
    }
    default:
        snprintf(err, errlen, "%s: bytes and message fields are not supported", f->name);
        return -1;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
    return 0;
want_int:
    snprintf(err, errlen, "%s: want an integer %s", f->name,
             f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_FIXED32
                 ? "0..4294967295"
             : f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_FIXED64
                 ? "0..18446744073709551615"
             : f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_SINT32 ||
                     f->type == PROTOBUF_C_TYPE_SFIXED32
                 ? "-2147483648..2147483647"
                 : "of 64 bits");
    return -1;
}

int message_from_json(const ProtobufCMessageDescriptor *d, const char *json, size_t len, buf_t *out,
                  char *err, size_t errlen)
{
    json_error_t je;
    if (json_validate(json, len, &je) != 0) {
        snprintf(err, errlen, "not JSON: %s at byte %zu", je.reason, je.offset);
        return -1;
    }
    json_members_t it;
    if (json_members_begin(&it, json, len) != 0) {
        snprintf(err, errlen, "want a JSON object for %s", d->name);
        return -1;
    }
    ProtobufCMessage *msg = calloc(1, d->sizeof_message);
    if (!msg) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    protobuf_c_message_init(d, msg);
    owned_t own = {.nstrings = 0};
    bool seen[PBJSON_MAX_FIELDS] = {false};
    int rc = -1;
    const char *name, *value;
    size_t name_len, value_len;
    while (json_members_next(&it, &name, &name_len, &value, &value_len)) {
        buf_t nb = BUF_INIT;
        if (json_unescape(name, name_len, &nb) < 0 || buf_append(&nb, "", 1) < 0) {
            buf_free(&nb);
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(d, buf_start(&nb));
        if (!f) {
            snprintf(err, errlen, "no field '%.64s' in %s", buf_start(&nb), d->name);
            buf_free(&nb);
            goto out;
        }
        buf_free(&nb);
        size_t k = (size_t)(f - d->fields);
        if (k >= PBJSON_MAX_FIELDS || f->label == PROTOBUF_C_LABEL_REPEATED ||
            (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
            snprintf(err, errlen, "%s: repeated and oneof fields are not supported", f->name);
            goto out;
        }
        if (seen[k]) {
            snprintf(err, errlen, "%s: twice", f->name);
            goto out;
        }
        seen[k] = true;
        if (set_field(msg, f, value, value_len, &own, err, errlen))
            goto out;
    }
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (buf_reserve(out, n ? n : 1) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    buf_commit(out, protobuf_c_message_pack(msg, (uint8_t *)buf_end(out)));
    rc = 0;
out:
    for (int i = 0; i < own.nstrings; i++)
        free(own.strings[i]);
    free(msg);
    return rc;
}
