/* message: a protobuf message written as JSON, for the contract cases that say a gRPC request as
 * {"symbol":"AAPL","count":3,"payload_bytes":2}. The JSON is an object whose member names are
 * the .proto's field names; each value is of its field's type: a string for string, an
 * integer in range for the integer types (no fraction, no exponent), a number for float and
 * double, true or false for bool, a value's name or number for an enum. Fields left out keep
 * their defaults. The message is built from its descriptor (protoc-c generates one per
 * message) and packed by protobuf-c, so it is exactly what a real client sends; any message
 * of singular scalar fields can be written this way (bytes, message and repeated fields are
 * refused: no contract request has them). */
#ifndef SB_VERIFY_MESSAGE_H
#define SB_VERIFY_MESSAGE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "core/buf.h"

/* Appends the packed message of type d that json[0..len) writes to out. 0, or -1 with one
 * line in err ("no field 'x' in stackbench.v1.QuoteRequest", "count: want an integer
 * 0..4294967295", "not JSON: ..."). */
int message_from_json(const ProtobufCMessageDescriptor *d, const char *json, size_t len, buf_t *out,
                  char *err, size_t errlen);

#endif
