/* h2: the server core's HTTP/2 connections (nghttp2), carrying gRPC calls.
 *
 * Cleartext HTTP/2 with prior knowledge. nghttp2 does HTTP/2 (frames, HPACK, flow control,
 * the RFC 9113 rules on requests); this file turns its streams into gRPC calls: it checks the
 * request's headers (POST, application/grpc, grpc-timeout, grpc-encoding), gathers the request
 * message (http/grpc.h), hands it to the method, and sends the answer as the stream's window
 * lets it go: a streaming method's messages are made one at a time when nghttp2 asks for
 * data, so a client that stops reading holds its stream, not the server's memory. The status
 * goes in trailers; a deadline, a client's RST_STREAM and a graceful stop (GOAWAY) end calls
 * as gRPC says. A service plugs in with `.proto = &h2_proto, .proto_arg = &its h2_service_t`.
 */
#ifndef SB_SERVE_H2_H
#define SB_SERVE_H2_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "serve/server.h"

typedef struct h2_call h2_call_t;

/* A method: the request message (valid while it runs) and its worker's state. It answers,
 * now, with exactly one of h2_call_reply, h2_call_error or h2_call_stream. */
typedef void (*h2_method_cb)(h2_call_t *call, const uint8_t *msg, size_t len, void *state);

typedef struct {
    const char *path;          /* "/stackbench.v1.Ticks/Stream" */
    h2_method_cb fn;
} h2_method_t;

typedef struct {
    const h2_method_t *methods;
    size_t nmethods;
} h2_service_t;

extern const server_proto_t h2_proto;

/* One message, then status OK (a unary answer). */
void h2_call_reply(h2_call_t *call, const void *msg, size_t len);
/* A status other than OK, with a message for people (sent percent-encoded). */
void h2_call_error(h2_call_t *call, int code, const char *message);
/* A server stream: next appends the stream's next message (no prefix) to out and returns 1
 * when more follow, 0 when that was the last (then status OK), or a negative gRPC code to end
 * with that status instead (the message it appended is dropped). It is called only when the
 * stream may send. ctx is the method's (freed with free_ctx when the call ends, however). */
typedef int (*h2_next_cb)(buf_t *out, void *ctx);
void h2_call_stream(h2_call_t *call, h2_next_cb next, void *ctx, void (*free_ctx)(void *));

#endif
