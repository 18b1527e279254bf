/* contract: a workload's contract as data. Each case is a small text file
 * (contracts/WORKLOAD/NN-name.case) that scripts one connection:
 *
 *   # what the case checks
 *   send: POST /echo HTTP/1.1\r\nContent-Length: {len}\r\n\r\n{"a": 1}
 *   expect: 200                        status of the next answer (or "none": no answer)
 *   header: Content-Type: application/json   exact value, name case-insensitive
 *   body: {"a":1}                      exact body
 *   body-has: "error":"invalid_json"   the body contains this (repeatable)
 *   head-only: yes                     the answer has no body whatever its headers say (HEAD)
 *   pause: 50ms                        wait before the next step
 *   shutdown: write                    half-close the connection
 *   closed: yes                        the server closes the connection now
 *   differs: go net/http accepts it    an implementation known to answer otherwise, and why
 *                                      (its library's choice; repeatable, one per language)
 *
 * Values take C escapes (\r \n \t \\ \xHH); in send lines {repeat:N:TEXT} expands to N copies
 * of TEXT and {len} to the length of what follows the first empty line (the body). The cases
 * of every workload are compiled into the binary; --cases DIR reads others instead.
 *
 * A case of calls (the grpc contract) speaks HTTP/2 instead: cleartext with prior knowledge, one
 * connection, each call a new stream on it, made and answered before the next step:
 *
 *   call: /stackbench.v1.Ticks/Stream  a request: [METHOD] PATH (POST when no METHOD; a POST
 *                                      sends content-type: application/grpc and te: trailers
 *                                      unless its request-header lines set them)
 *   request-header: grpc-timeout: 100m a request header (repeatable; an empty value drops a
 *                                      default one)
 *   message: {"symbol":"AAPL","count":3,"payload_bytes":2}
 *                                      a request message as JSON with the .proto's field names
 *                                      (codec/pbjson.h; JSON's escapes, not C's), of the type
 *                                      PATH's method takes, sent behind its 5-byte prefix;
 *                                      another type of contracts/grpc/ is named before the JSON
 *                                      (message: stackbench.v1.QuoteRequest {"symbol":"AAPL"})
 *   data: \x00\x00\x00\x00\x02\x0a\x05     request body bytes as written, prefix and all (C
 *                                      escapes, {repeat:N:TEXT}): malformed input
 *   end-stream: no                     the request stream stays open after its body
 *   cancel-after: 100000               RST_STREAM(CANCEL) once this many bytes of DATA arrived
 *   expect: 200                        the call's :status; after it, besides header (in the
 *                                      answer's headers), body and body-has (its DATA bytes):
 *   grpc-status: 3                     in the trailers, or in a trailers-only answer (a code or
 *                                      its name: INVALID_ARGUMENT)
 *   grpc-message: symbol               the grpc-message, percent-decoded, starts with this
 *   messages: 3                        the answer holds exactly this many messages
 *   ticks: yes                         each message is the Tick contracts/grpc.md says for the
 *                                      request (a StreamRequest: symbol, seq 1..count in order,
 *                                      price, payload, ts_ns not 0, and all count of them when
 *                                      the status is 0; a QuoteRequest: one, seq 0, no payload)
 *   health: SERVING                    one HealthCheckResponse with this status
 *   or-reset: CANCEL                   the server may end the call with RST_STREAM of this
 *                                      error code instead (grpc-go's way at a deadline)
 *
 * Each message and data line is one DATA frame (a body cut in several frames is several
 * lines); a call with neither sends its headers with END_STREAM. A call without an expect must
 * only end. A stream the server resets fails its call; a call cancelled with cancel-after is
 * checked on what arrived before the cancel. A case is one or the other: send, shutdown and
 * closed are for HTTP/1.1 cases, and a case of calls has an expect only right after a call. */
#ifndef SB_LAB_CONTRACT_H
#define SB_LAB_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

typedef enum {
    STEP_SEND,
    STEP_PAUSE,
    STEP_SHUTDOWN,
    STEP_EXPECT,
    STEP_CLOSED,
    STEP_CALL,
} contract_step_kind_t;

#define CONTRACT_MAX_CHECKS 8

/* Bytes that may hold NULs: a DATA frame of a call. */
typedef struct {
    char *data;
    size_t len;
} contract_bytes_t;

typedef struct {
    contract_step_kind_t kind;
    char *data;                 /* send: the bytes */
    size_t len;
    int64_t pause_ns;
    int status;                 /* expect: status, or 0 for "none" */
    bool head_only;
    int nheaders;
    char *header_name[CONTRACT_MAX_CHECKS], *header_value[CONTRACT_MAX_CHECKS];
    bool has_body;
    char *body;
    size_t body_len;
    int nbody_has;
    char *body_has[CONTRACT_MAX_CHECKS];
    /* call: the request */
    char *method, *path;
    const ProtobufCMessageDescriptor *request_type; /* what PATH's method takes, or NULL */
    int nreq_headers;
    char *req_header_name[CONTRACT_MAX_CHECKS], *req_header_value[CONTRACT_MAX_CHECKS];
    contract_bytes_t *frames;   /* the body, one DATA frame each */
    int nframes;
    bool keep_open;             /* end-stream: no */
    int64_t cancel_after;       /* bytes of DATA, or -1: never */
    /* expect after a call: -1 (NULL, false) when not checked */
    int grpc_status;
    char *grpc_message;         /* its prefix */
    long messages;
    bool ticks;
    int health;                 /* a HealthCheckResponse.ServingStatus */
    int or_reset;               /* an RST_STREAM with this HTTP/2 error code passes as well */
} contract_step_t;

typedef struct {
    char *name;                 /* file name without .case */
    char *comment;              /* its first comment line */
    contract_step_t *steps;
    int nsteps;
    bool calls;                 /* its steps are HTTP/2 calls (and pauses) */
    int ndiffers;               /* differs: lines */
    char *differs_lang[CONTRACT_MAX_CHECKS], *differs_why[CONTRACT_MAX_CHECKS];
} contract_case_t;

/* Why lang is known to answer c otherwise, or NULL. */
const char *contract_differs(const contract_case_t *c, const char *lang);

typedef struct {
    contract_case_t *cases;
    int ncases;
} contract_t;

/* Parses one case. 0, or -1 with "line N: why" in err. */
int contract_parse_case(const char *name, const char *text, size_t len, contract_case_t *out,
                        char *err, size_t errlen);
/* All *.case files of a folder, sorted by name. */
int contract_load_dir(const char *dir, contract_t *out, char *err, size_t errlen);
/* The cases compiled into the binary for a workload (core/embed.h). */
int contract_load_builtin(const char *workload, contract_t *out, char *err, size_t errlen);
void contract_free(contract_t *c);

#endif
