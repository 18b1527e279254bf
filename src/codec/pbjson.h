/* pbjson: a protobuf message type named in a .proto file, and JSON encoded as it: what a
 * gRPC load generator needs when the user gives a .proto, a method "pkg.Service/Method" and
 * the request as JSON (`stackbench load --grpc METHOD --proto FILE --data JSON`, as ghz).
 *
 * No .proto parser here: protoc compiles the file (`protoc --include_imports
 * --descriptor_set_out=...`), and the FileDescriptorSet it writes is read with the code
 * protoc-c generates from descriptor.proto at build time. A schema is every message, enum
 * and service of that set, types resolved, fields sorted by number.
 *
 * JSON is protobuf's proto3 JSON mapping, as far as it matters for requests:
 *   - a message is an object; a field is named by its JSON name (lowerCamelCase, or its
 *     json_name option) or by its name in the .proto, either one, not both; a key that names
 *     no field is an error; null is the field's default (the field is left out);
 *   - int32, sint32, sfixed32, uint32, fixed32, and their 64-bit kinds: a number or a string
 *     holding one ("12", "-3", "1e3": integral, in range; 64-bit values beyond 2^53 are
 *     exact either way, as the text is read, not a double);
 *   - bool: true or false; float and double: a number, a string holding one, "NaN",
 *     "Infinity", "-Infinity" (a float out of float's range is an error);
 *   - string: a string (escapes decoded; a lone surrogate escape is an error); bytes: base64,
 *     standard or URL-safe alphabet, with or without padding;
 *   - enum: a value's name, or its number (any int32: proto3's enums are open);
 *   - repeated: an array (numbers, bools and enums packed in proto3 unless [packed = false],
 *     in proto2 only with [packed = true]); map<K, V>: an object, its keys strings (holding a
 *     number for integer keys, "true"/"false" for bool keys);
 *   - oneof: at most one of its members set (a member that is null is not set).
 * The well-known types' own JSON forms (Timestamp as "2024-01-01T00:00:00Z", wrappers as bare
 * values, Struct, Any, Duration, FieldMask) are not supported: those messages are objects of
 * their fields like any other, and an error says so when given another value. Groups (proto2)
 * are refused where met.
 *
 * Bytes on the wire are as protobuf's own serializers write them: fields in number order,
 * proto3's implicit-presence fields left out when they hold their default (0, "", false, the
 * first enum value), fields with presence (message fields, oneof members, proto3 optional,
 * proto2) written whatever they hold. map entries and repeated elements in the order written.
 *
 * Errors are one line in err, naming where in the JSON (or the wire bytes) it went wrong:
 *     data: .items[2].count: want an integer 0..4294967295, got -1
 *     data: .inner: unknown field "cnt" (sbtest.v1.Inner has count, label)
 *     data: invalid JSON at byte 17: unexpected end of input
 *     wire: .items[1]: at byte 9: field 2: length 300 runs past the end (4 bytes left)
 * The path is JSON's: ".name" for a field as written, "[i]" for an element, "[\"k\"]" for a
 * map's value; the value after "got" is as written, cut at 40 bytes.
 *
 * Inputs may be hostile (a fuzz target holds the module to it): nesting is bounded
 * (PB_MAX_DEPTH messages), no recursion without that bound, and nothing is allocated from a
 * length the input declares before the bytes it declares are there. */
#ifndef SB_CODEC_PBJSON_H
#define SB_CODEC_PBJSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Messages nested deeper than this (the top one is 1) are refused, in JSON and on the
 * wire. */
#define PB_MAX_DEPTH 64

/* The messages, enums and services of a FileDescriptorSet. Read-only once loaded: one schema
 * may serve every thread. */
typedef struct pb_schema pb_schema_t;
/* A message type of a schema (it lives as long as its schema). */
typedef struct pb_message pb_message_t;

/* A method of a service of a schema (it lives as long as its schema). */
typedef struct {
    const char *name;          /* "pkg.Service/Method" */
    const char *path;          /* "/pkg.Service/Method": the HTTP/2 :path of a call */
    const pb_message_t *input, *output;
    bool client_streaming;     /* rpc M(stream In) */
    bool server_streaming;     /* rpc M(In) returns (stream Out) */
} pb_method_t;

/* Compiles the .proto at path with protoc (found on PATH) and loads what it describes,
 * imports included. protoc looks for imports in import_dirs (NULL-terminated; NULL for
 * none), in that order, then in path's own folder, then in its own include folder (the
 * well-known types). The schema, or NULL with one line in err:
 *     protoc: not found on PATH (Debian: apt-get install protobuf-compiler)
 *     kinds.proto: No such file or directory
 *     protoc: kinds.proto:7:3: "Foo" is not defined.
 * (protoc's own messages, several joined with "; "). Free it with pb_schema_free. */
pb_schema_t *pb_schema_load(const char *path, const char *const *import_dirs, char *err,
                            size_t errlen);
/* The same from a serialized FileDescriptorSet (what protoc --include_imports
 * --descriptor_set_out writes, or grpcurl's and ghz's --protoset): every type a field or a
 * method names must be in it. */
pb_schema_t *pb_schema_parse(const void *set, size_t len, char *err, size_t errlen);
void pb_schema_free(pb_schema_t *s);

/* The method named "pkg.Service/Method", "/pkg.Service/Method" (its path) or
 * "pkg.Service.Method" (grpcurl's spelling), or NULL with one line in err:
 *     no method "pkg.Svc/Nope" (the schema has: pkg.Svc/Get, pkg.Svc/List)   */
const pb_method_t *pb_method_find(const pb_schema_t *s, const char *name, char *err,
                                  size_t errlen);
/* The message type of that full name ("pkg.Outer.Inner", with or without a leading '.'), or
 * NULL. */
const pb_message_t *pb_message_find(const pb_schema_t *s, const char *full_name);
/* Its full name, "pkg.Outer.Inner". */
const char *pb_message_name(const pb_message_t *m);

/* The JSON json[0..len) (one object, RFC 8259) as the wire bytes of message type m,
 * appended to out. 0, or -1 with one line in err starting "data: " (out then as it was).
 * Out of memory is an error too ("data: out of memory"). */
int pb_encode_json(const pb_schema_t *s, const pb_message_t *m, const char *json, size_t len,
                   buf_t *out, char *err, size_t errlen);

/* The wire bytes bytes[0..len) of message type m as JSON, appended to out: one object on one
 * line, proto3's mapping as protobuf's own printers write it: fields by JSON name in number
 * order, those at their default left out (proto3 implicit presence) and those with presence
 * written when set; 64-bit integers as strings ("-5"), 32-bit ones as numbers; float and
 * double as the shortest decimal that reads back the same, "NaN", "Infinity", "-Infinity";
 * bytes in standard base64 with padding; enums by name, or by number when the number has no
 * name; maps as objects with string keys. Unknown fields are skipped (checked to be whole);
 * a field seen twice: the last value (scalars), the merge (messages), every element
 * (repeated, packed or not); a field whose wire type is not its type's is unknown, as
 * protobuf reads it. Entries of a map with the same key are all written, in wire order.
 * 0, or -1 with one line in err starting "wire: " for bytes that are not a message of that
 * type (a truncated varint or length, a field number 0, a group, a packed run that ends
 * inside an element, a string that is not UTF-8; out then as it was). Nothing is read
 * outside bytes[0..len). */
int pb_decode_json(const pb_schema_t *s, const pb_message_t *m, const void *bytes, size_t len,
                   buf_t *out, char *err, size_t errlen);

#endif
