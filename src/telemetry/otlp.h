/* otlp: spans sent to an OpenTelemetry collector over OTLP/HTTP protobuf.
 *
 * One exporter per process, one background thread: the threads that make spans (the server's
 * workers) each have a queue of their own, a single-producer single-consumer ring of
 * queue_len spans, so that queuing a span is a copy and two atomic operations, with no lock and
 * no system call; a full ring drops the span and counts it. The exporter thread looks at the
 * rings every 50 ms and sends a batch (an ExportTraceServiceRequest, POST URL/v1/traces,
 * Content-Type: application/x-protobuf, over http/client) when batch_max spans wait or
 * interval has passed since the last one. An export that fails (no connection, no answer
 * within timeout, a 5xx or 429) is tried once more, on a new connection when the old one
 * broke; one refused for good (another 4xx, which OTLP/HTTP says not to retry) is not. Then
 * its spans are dropped and counted: a collector that is down, slow or gone costs drops,
 * never a request's time. */
#ifndef SB_TELEMETRY_OTLP_H
#define SB_TELEMETRY_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "telemetry/trace.h"

/* What the spans come from: OTLP's Resource. */
typedef struct {
    const char *service_name;    /* "stackbench-echo" */
    const char *sdk_language;    /* "c" */
    const char *service_version; /* SB_VERSION */
} otlp_resource_t;

typedef struct {
    const char *endpoint;        /* "http://127.0.0.1:4318": spans go to endpoint/v1/traces */
    otlp_resource_t resource;
    int nqueues;                 /* one per producing thread */
    size_t queue_len;            /* spans a queue holds (default 2048; rounded up to 2^k) */
    size_t batch_max;            /* spans in one export, at most (default 512) */
    int64_t interval_ns;         /* a batch at least this often while spans wait (default 1 s) */
    int64_t timeout_ns;          /* one export, connecting included (default 2 s) */
} otlp_config_t;

typedef struct otlp_exporter otlp_exporter_t;
typedef struct otlp_queue otlp_queue_t;

/* Checks the endpoint (an http:// URL: the service fails to start on a bad one), makes the
 * queues and starts the thread. Nothing is sent until spans are queued. NULL with the reason
 * in err. */
otlp_exporter_t *otlp_start(const otlp_config_t *cfg, char *err, size_t errlen);
/* Queue i (0..nqueues-1): its producer is one thread, always the same. */
otlp_queue_t *otlp_queue(otlp_exporter_t *e, int i);
/* Copies an ended span into the queue: false when the queue is full (the span is dropped and
 * counted). The producer's thread only. */
bool otlp_enqueue(otlp_queue_t *q, const trace_span_t *span);
/* Sends what is queued, as batches, until every queue is empty or deadline_ns (monotonic)
 * passes (what is left then is dropped and counted), stops the thread and frees everything.
 * Call it once the producers have stopped queuing. NULL is fine. */
void otlp_stop(otlp_exporter_t *e, int64_t deadline_ns);

/* Spans of this process: accepted by a collector, and dropped (a full queue, an export that
 * failed twice, spans the collector said it rejected, spans left at the stop). Any thread;
 * 0 without an exporter. */
uint64_t otlp_spans_exported_total(void);
uint64_t otlp_spans_dropped_total(void);

/* An ExportTraceServiceRequest of n spans from one resource, appended to out (the exporter's
 * body; the unit tests decode it back). 0 or -ENOMEM. */
int otlp_encode(const otlp_resource_t *res, const trace_span_t *spans, size_t n, buf_t *out);

#endif
