/* trace: the parts of OpenTelemetry tracing a service needs, without an SDK.
 *
 * W3C Trace Context level 1 `traceparent` (read strictly, written as version 00); trace and span
 * ids from core/rand; the parent-based trace-id-ratio sampler; a span as a fixed-size record
 * (no allocation: it is copied into an exporter's queue, telemetry/otlp.h, when it ends).
 *
 * Nothing here locks or allocates; a span belongs to the thread that made it until it is
 * queued. */
#ifndef SB_TELEMETRY_TRACE_H
#define SB_TELEMETRY_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rand.h"

#define TRACE_ID_LEN 16
#define TRACE_SPAN_ID_LEN 8
#define TRACE_FLAG_SAMPLED 0x01
/* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define TRACEPARENT_LEN 55

/* A span context as traceparent carries it. */
typedef struct {
    uint8_t trace_id[TRACE_ID_LEN];
    uint8_t span_id[TRACE_SPAN_ID_LEN];
    uint8_t flags;          /* trace-flags; bit 0: sampled */
} trace_ctx_t;

/* A traceparent header's value, as the W3C Trace Context specification (level 1, section 3.2)
 * has a receiver read it: 0 and ctx filled, or -1 when it is invalid (the caller then starts
 * a new trace, as the specification says). Version 00 is exactly 55 characters; a higher
 * version (not ff) is read as 00 from its first 55 characters, which must be followed by
 * nothing or by '-'; lowercase hex only; an all-zero trace id or parent id is invalid. Of a
 * future version's flags only the sampled bit is kept. */
int trace_parse_traceparent(const char *s, size_t n, trace_ctx_t *ctx);
/* Version 00 into out (TRACEPARENT_LEN characters and a NUL). */
void trace_format_traceparent(const trace_ctx_t *ctx, char out[TRACEPARENT_LEN + 1]);
/* Lowercase hex of n bytes into out (2n characters and a NUL). */
void trace_hex(const uint8_t *id, size_t n, char *out);

bool trace_id_is_valid(const uint8_t id[TRACE_ID_LEN]);        /* not all zero */
bool trace_span_id_is_valid(const uint8_t id[TRACE_SPAN_ID_LEN]);
/* Fresh random ids, never all zero. */
void trace_new_trace_id(rng_t *r, uint8_t id[TRACE_ID_LEN]);
void trace_new_span_id(rng_t *r, uint8_t id[TRACE_SPAN_ID_LEN]);

/* ---- sampling ----
 * OpenTelemetry's ParentBased(root = TraceIdRatioBased(ratio)): a request with a valid remote
 * parent follows the parent's sampled flag; a root is sampled when the low 64 bits of its trace
 * id (bytes 8..15, big-endian), shifted right by one, are below ratio * 2^63 — the rule of
 * opentelemetry-go's TraceIDRatioBased, so that the Go peer and this service decide alike for
 * one trace id. ratio >= 1 samples every root, ratio <= 0 none. */
typedef struct {
    rng_t rng;              /* the thread's ids */
    uint64_t bound;         /* ratio * 2^63 */
    bool all;               /* ratio >= 1 */
} trace_sampler_t;

void trace_sampler_init(trace_sampler_t *s, double ratio, uint64_t seed, uint64_t stream);
/* The root decision for one trace id. */
bool trace_ratio_samples(const trace_sampler_t *s, const uint8_t trace_id[TRACE_ID_LEN]);
/* --trace-ratio's value (an opt_fn_cb of core/opt.h): a number from 0 to 1 into *(double *)dst;
 * 0, or -1 with what was expected in why. */
int trace_parse_ratio(const char *arg, void *dst, char *why, size_t whylen);

/* ---- spans ---- */

typedef enum {
    TRACE_KIND_INTERNAL = 1, /* OTLP's SpanKind numbers */
    TRACE_KIND_SERVER = 2,
    TRACE_KIND_CLIENT = 3,
} trace_kind_t;

typedef enum {
    TRACE_STATUS_UNSET = 0,  /* OTLP's Status.StatusCode */
    TRACE_STATUS_OK = 1,
    TRACE_STATUS_ERROR = 2,
} trace_status_t;

#define TRACE_MAX_ATTRS 8
#define TRACE_TEXT 320       /* the name and string attributes of a span, together */

typedef struct {
    const char *key;         /* a literal: "http.route" */
    bool is_int;
    int64_t i;
    uint16_t off, len;       /* a string: in the span's text */
} trace_attr_t;

typedef struct {
    uint8_t trace_id[TRACE_ID_LEN];
    uint8_t span_id[TRACE_SPAN_ID_LEN];
    uint8_t parent_span_id[TRACE_SPAN_ID_LEN]; /* all zero: a root */
    uint8_t flags;           /* W3C trace-flags */
    bool remote_parent;      /* the parent came in a traceparent */
    uint8_t kind;            /* trace_kind_t */
    uint8_t status;          /* trace_status_t */
    uint8_t nattrs;
    uint16_t name_len, text_len; /* the name is text[0..name_len) */
    int64_t start_ns, end_ns;    /* Unix time, ns */
    trace_attr_t attrs[TRACE_MAX_ATTRS];
    char text[TRACE_TEXT];
} trace_span_t;

/* Unix time in ns: the monotonic clock plus the offset to the wall clock taken once, so that a
 * span's duration does not jump with the wall clock. */
int64_t trace_now_ns(void);
/* A time of the monotonic clock (core/clock.h) as Unix time in ns, on the same scale. */
int64_t trace_unix_ns(int64_t monotonic_ns);

/* The span of a request that came with a traceparent (NULL or invalid: a root): decides
 * whether it is sampled and, if so, fills span's ids (a new span id; the parent's trace id, or
 * a new one), flags, kind and start time, clears its name and attributes and returns true.
 * Not sampled: false, span untouched. */
bool trace_span_begin(trace_sampler_t *s, const char *traceparent, size_t tp_len,
                      trace_kind_t kind, trace_span_t *span);
/* A span's own context (to make children of it later, once the span itself has ended). */
void trace_span_ctx(const trace_span_t *span, trace_ctx_t *ctx);
/* A child of parent (a span of this process): same trace, parent's span id as its parent,
 * sampled as its parent was. start_ns: when it began. */
void trace_span_child(trace_sampler_t *s, const trace_ctx_t *parent, trace_kind_t kind,
                      int64_t start_ns, trace_span_t *span);
/* The name (cut to fit TRACE_TEXT); set it before the string attributes. Two parts joined by
 * a space when b is not NULL ("POST" "/echo"). */
void trace_span_name(trace_span_t *span, const char *a, size_t an, const char *b, size_t bn);
/* Attributes; beyond TRACE_MAX_ATTRS or out of text they are left out (a string is cut). */
void trace_span_str(trace_span_t *span, const char *key, const char *v, size_t n);
void trace_span_int(trace_span_t *span, const char *key, int64_t v);

#endif
