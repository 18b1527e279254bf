/* h2client: one blocking HTTP/2 connection (cleartext, prior knowledge: h2c) over nghttp2, for
 * the contract checker and the tests, as http/client.h is for HTTP/1.1. One request at a time:
 * each call is a new stream, sent and read until the stream closes or the time runs out. A
 * request can do what a misbehaving client does (its body cut in DATA frames where the caller
 * says, no END_STREAM, a RST_STREAM after some of the answer), and the answer says everything
 * that came: :status, headers, DATA (the first H2CLIENT_KEEP bytes kept, all counted and each
 * chunk handed to a callback as it arrives), trailers, a reset and its code, a GOAWAY. */
#ifndef SB_HTTP_H2CLIENT_H
#define SB_HTTP_H2CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* DATA bytes an answer keeps (more are counted, and handed to on_data). */
#define H2CLIENT_KEEP (1u << 20)
/* Header fields an answer keeps, in its headers and in its trailers each. */
#define H2CLIENT_MAX_FIELDS 32

typedef struct {
    const char *name, *value;
} h2client_field_t;

typedef struct {
    char *name[H2CLIENT_MAX_FIELDS], *value[H2CLIENT_MAX_FIELDS];
    int n;
} h2client_fields_t;

/* The value of the field name (lower case, as HTTP/2 sends them), or NULL. */
const char *h2client_field(const h2client_fields_t *f, const char *name);

typedef struct {
    const char *data;
    size_t len;
} h2client_chunk_t;

typedef struct {
    const char *method;                 /* "POST" */
    const char *path;                   /* "/stackbench.v1.Ticks/Quote" */
    const h2client_field_t *headers;    /* after the pseudo-headers, as given */
    int nheaders;
    const h2client_chunk_t *body;       /* each chunk one DATA frame (or more, when over the
                                         * server's frame size); none: HEADERS ends the stream */
    int nbody;
    bool keep_open;                     /* no END_STREAM after the body */
    int64_t cancel_after;               /* RST_STREAM(CANCEL) once this many DATA bytes of the
                                         * answer arrived; -1: never */
    /* Every chunk of the answer's DATA as it arrives; nonzero cancels the stream. */
    int (*on_data)(void *ud, const uint8_t *p, size_t n);
    void *ud;
} h2client_request_t;

typedef enum {
    H2CLIENT_OK = 0,          /* the stream closed: the server ended it, reset it, or it was
                               * cancelled */
    H2CLIENT_TIMEOUT = -1,    /* the time ran out first */
    H2CLIENT_CLOSED = -2,     /* the connection closed first */
    H2CLIENT_PROTOCOL = -3,   /* what the server sent is not HTTP/2 (nghttp2 said why) */
    H2CLIENT_NOMEM = -4,
} h2client_status_t;

typedef struct {
    int status;                 /* :status; 0 when no headers came */
    h2client_fields_t headers;  /* the answer's (pseudo-headers left out) */
    h2client_fields_t trailers;
    bool trailers_came;
    buf_t data;                 /* the first H2CLIENT_KEEP bytes of DATA */
    uint64_t data_total;
    bool ended;                 /* the server ended the stream (END_STREAM) */
    bool reset;                 /* the server reset the stream (RST_STREAM) */
    uint32_t reset_code;
    bool cancelled;             /* cancel_after (or on_data) reset it from here */
    bool goaway;                /* a GOAWAY came on the connection */
    uint32_t goaway_code;
    int32_t goaway_last_id;
    char why[256];              /* for H2CLIENT_PROTOCOL */
} h2client_answer_t;

typedef struct h2client h2client_t;

/* Connects to host:port and sends the connection preface and SETTINGS. NULL, with the reason
 * in err, when it cannot. */
h2client_t *h2client_open(const char *host, int port, int64_t timeout_ns, char *err,
                          size_t errlen);
void h2client_close(h2client_t *c);

/* Makes one request and reads its answer into a (initialised here; free it with
 * h2client_answer_free) until its stream closes, waiting up to timeout_ns in all. A server
 * that ends its side while the request's is still open gets a RST_STREAM(CANCEL), as gRPC
 * clients do. */
h2client_status_t h2client_call(h2client_t *c, const h2client_request_t *r,
                                h2client_answer_t *a, int64_t timeout_ns);
void h2client_answer_free(h2client_answer_t *a);

/* nghttp2's name of an HTTP/2 error code ("CANCEL"). */
const char *h2client_error_name(uint32_t code);

#endif
