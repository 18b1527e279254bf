#include "telemetry/otlp.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "http/client.h"
#include "http/http1.h"
#include "http/url.h"
#include "otlp_trace_service.pb-c.h"

/* How often the exporter thread looks at the queues. */
#define POLL_NS (50 * NS_PER_MS)

/* The process's figures (one exporter per process). */
static _Atomic uint64_t spans_exported, spans_dropped;

uint64_t otlp_spans_exported_total(void)
{
    return atomic_load_explicit(&spans_exported, memory_order_relaxed);
}

uint64_t otlp_spans_dropped_total(void)
{
    return atomic_load_explicit(&spans_dropped, memory_order_relaxed);
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* A single-producer single-consumer ring: head is written by the producer only, tail by the
 * exporter only; each reads the other's with acquire, so a slot is whole before it is seen. */
struct otlp_queue {
    _Alignas(64) _Atomic size_t head;
    _Alignas(64) _Atomic size_t tail;
    _Alignas(64) size_t mask;
    trace_span_t *slots;
};

struct otlp_exporter {
    otlp_config_t cfg;
    char service_name[128], sdk_language[16], service_version[32];
    http_url_t url;
    char target[2100];           /* the URL's path + /v1/traces */
    otlp_queue_t *queues;
    pthread_t thread;
    pthread_mutex_t lock;        /* for stop only: the producers never take it */
    pthread_cond_t cond;
    bool stopping;
    int64_t stop_deadline;
    http_client_t http;          /* kept open between exports */
    trace_span_t *batch;         /* batch_max spans taken from the queues */
    buf_t body, request;
};

bool otlp_enqueue(otlp_queue_t *q, const trace_span_t *span)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (head - tail > q->mask) {
        count(&spans_dropped, 1);
        return false;
    }
    q->slots[head & q->mask] = *span;
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
    return true;
}

static size_t queue_pending(otlp_queue_t *q)
{
    return atomic_load_explicit(&q->head, memory_order_acquire) -
           atomic_load_explicit(&q->tail, memory_order_relaxed);
}

/* ---- encoding ---- */

typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Trace__V1__Span span_t;

/* Everything one request's messages point to, in one allocation. */
typedef struct {
    kv_t kv[TRACE_MAX_ATTRS];
    kv_t *kvp[TRACE_MAX_ATTRS];
    any_t any[TRACE_MAX_ATTRS];
    span_t span;
    span_t *spanp;
    Opentelemetry__Proto__Trace__V1__Status status;
    char text[TRACE_TEXT + TRACE_MAX_ATTRS + 1]; /* the name and strings, NUL-terminated */
} span_msg_t;

static void kv_str(kv_t *kv, any_t *any, const char *key, char *value)
{
    *any = (any_t)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    any->string_value = value;
    *kv = (kv_t)OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    kv->key = (char *)key;
    kv->value = any;
}

static void span_msg(span_msg_t *m, const trace_span_t *s)
{
    char *t = m->text;
    span_t *p = &m->span;
    *p = (span_t)OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
    p->trace_id = (ProtobufCBinaryData){TRACE_ID_LEN, (uint8_t *)s->trace_id};
    p->span_id = (ProtobufCBinaryData){TRACE_SPAN_ID_LEN, (uint8_t *)s->span_id};
    if (trace_span_id_is_valid(s->parent_span_id))
        p->parent_span_id = (ProtobufCBinaryData){TRACE_SPAN_ID_LEN, (uint8_t *)s->parent_span_id};
    /* Bit 8 says that bit 9 (the parent is remote) is meaningful. */
    p->flags = s->flags | 0x100u | (s->remote_parent ? 0x200u : 0);
    memcpy(t, s->text, s->name_len);
    t[s->name_len] = 0;
    p->name = t;
    t += s->name_len + 1;
    p->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
    p->start_time_unix_nano = (uint64_t)s->start_ns;
    p->end_time_unix_nano = (uint64_t)s->end_ns;
    for (int i = 0; i < s->nattrs; i++) {
        const trace_attr_t *a = &s->attrs[i];
        if (a->is_int) {
            kv_str(&m->kv[i], &m->any[i], a->key, NULL);
            m->any[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
            m->any[i].int_value = a->i;
        } else {
            memcpy(t, s->text + a->off, a->len);
            t[a->len] = 0;
            kv_str(&m->kv[i], &m->any[i], a->key, t);
            t += a->len + 1;
        }
        m->kvp[i] = &m->kv[i];
    }
    p->n_attributes = s->nattrs;
    p->attributes = m->kvp;
    if (s->status != TRACE_STATUS_UNSET) {
        m->status = (Opentelemetry__Proto__Trace__V1__Status)OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
        m->status.code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)s->status;
        p->status = &m->status;
    }
    m->spanp = p;
}

int otlp_encode(const otlp_resource_t *res, const trace_span_t *spans, size_t n, buf_t *out)
{
    span_msg_t *msgs = n ? malloc(n * sizeof *msgs) : NULL;
    span_t **spanp = n ? malloc(n * sizeof *spanp) : NULL;
    if (n && (!msgs || !spanp)) {
        free(msgs);
        free(spanp);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        span_msg(&msgs[i], &spans[i]);
        spanp[i] = msgs[i].spanp;
    }
    kv_t rkv[3], *rkvp[3];
    any_t rany[3];
    kv_str(&rkv[0], &rany[0], "service.name", (char *)res->service_name);
    kv_str(&rkv[1], &rany[1], "telemetry.sdk.language", (char *)res->sdk_language);
    kv_str(&rkv[2], &rany[2], "service.version", (char *)res->service_version);
    for (int i = 0; i < 3; i++)
        rkvp[i] = &rkv[i];
    Opentelemetry__Proto__Resource__V1__Resource resource =
        OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    resource.n_attributes = 3;
    resource.attributes = rkvp;
    Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
        OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    scope.name = "stackbench";
    scope.version = (char *)res->service_version;
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    ss.scope = &scope;
    ss.n_spans = n;
    ss.spans = spanp;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs =
        OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.resource = &resource;
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
    int rc = buf_reserve(out, len);
    if (rc == 0) {
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
            &req, (uint8_t *)buf_end(out));
        buf_commit(out, len);
    }
    free(msgs);
    free(spanp);
    return rc;
}

/* ---- export ---- */

/* One POST of the encoded batch on the kept connection (opened if need be). The spans the
 * collector took (the batch less those it said it rejected), -1 when the export failed and may
 * be tried again, -2 when the collector refused it for good (OTLP/HTTP: a 4xx other than 429
 * is not retried). */
static int64_t post_once(otlp_exporter_t *e, size_t nspans, int64_t deadline)
{
    char err[256];
    int64_t left = deadline - clock_now_ns();
    if (left <= 0)
        return -1;
    if (e->http.fd < 0 &&
        http_client_open(&e->http, e->url.host, e->url.port, left, err, sizeof err) < 0)
        return -1;
    if (http_client_send(&e->http, buf_start(&e->request), buf_size(&e->request),
                         deadline - clock_now_ns()) < 0)
        goto broken;
    http_msg_t m;
    http_frame_t f;
    if (http_client_answer(&e->http, false, deadline - clock_now_ns(), &m, &f) != 1)
        goto broken;
    int64_t taken = -1;
    if (m.status / 100 == 2) {
        taken = (int64_t)nspans;
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
                NULL, f.body_len, (const uint8_t *)buf_start(&e->http.in) + m.head_len);
        if (r && r->partial_success && r->partial_success->rejected_spans > 0 &&
            r->partial_success->rejected_spans <= taken)
            taken -= r->partial_success->rejected_spans;
        if (r)
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r, NULL);
    } else if (m.status / 100 == 4 && m.status != 429) {
        taken = -2;
    }
    buf_consume(&e->http.in, f.total);
    if (!m.keep_alive)
        http_client_close(&e->http);
    return taken;
broken:
    http_client_close(&e->http);
    return -1;
}

/* Sends n spans of e->batch: tried twice (a broken connection is opened anew), unless the
 * collector refused it for good. */
static void export_batch(otlp_exporter_t *e, size_t n)
{
    buf_clear(&e->body);
    buf_clear(&e->request);
    if (otlp_encode(&e->cfg.resource, e->batch, n, &e->body) < 0) {
        count(&spans_dropped, n);
        return;
    }
    const char *headers[] = {"Content-Type: application/x-protobuf"};
    if (http_write_request(&e->request, "POST", e->url.authority, e->target, headers, 1,
                           buf_start(&e->body), buf_size(&e->body)) < 0) {
        count(&spans_dropped, n);
        return;
    }
    int64_t taken = -1;
    for (int attempt = 0; attempt < 2 && taken == -1; attempt++) {
        int64_t deadline = clock_now_ns() + e->cfg.timeout_ns;
        pthread_mutex_lock(&e->lock);
        if (e->stopping && e->stop_deadline < deadline)
            deadline = e->stop_deadline;
        pthread_mutex_unlock(&e->lock);
        taken = post_once(e, n, deadline);
    }
    if (taken < 0)
        taken = 0;
    count(&spans_exported, (uint64_t)taken);
    count(&spans_dropped, n - (uint64_t)taken);
}

/* Takes up to batch_max spans from the queues, in turn, into e->batch. */
static size_t take_batch(otlp_exporter_t *e)
{
    size_t n = 0;
    bool more = true;
    while (n < e->cfg.batch_max && more) {
        more = false;
        for (int i = 0; i < e->cfg.nqueues && n < e->cfg.batch_max; i++) {
            otlp_queue_t *q = &e->queues[i];
            size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
            size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
            size_t k = head - tail, room = e->cfg.batch_max - n;
            if (k == 0)
                continue;
            if (k > room)
                k = room;
            for (size_t j = 0; j < k; j++)
                e->batch[n++] = q->slots[(tail + j) & q->mask];
            atomic_store_explicit(&q->tail, tail + k, memory_order_release);
            more = true;
        }
    }
    return n;
}

static size_t pending(otlp_exporter_t *e)
{
    size_t n = 0;
    for (int i = 0; i < e->cfg.nqueues; i++)
        n += queue_pending(&e->queues[i]);
    return n;
}

static void *exporter_main(void *arg)
{
    otlp_exporter_t *e = arg;
    int64_t last = clock_now_ns();
    for (;;) {
        pthread_mutex_lock(&e->lock);
        if (!e->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += POLL_NS;
            if (ts.tv_nsec >= NS_PER_S) {
                ts.tv_sec++;
                ts.tv_nsec -= NS_PER_S;
            }
            pthread_cond_timedwait(&e->cond, &e->lock, &ts);
        }
        bool stopping = e->stopping;
        int64_t stop_deadline = e->stop_deadline;
        pthread_mutex_unlock(&e->lock);
        int64_t now = clock_now_ns();
        if (stopping) {
            /* The flush: batches until nothing waits or the time is up. */
            for (size_t n; clock_now_ns() < stop_deadline && (n = take_batch(e)) > 0;)
                export_batch(e, n);
            size_t left;
            while ((left = take_batch(e)) > 0)
                count(&spans_dropped, left);
            return NULL;
        }
        /* Full batches go one after the other: the poll's wait is only for a queue that
         * fills slower than the exporter sends. */
        for (size_t p; (p = pending(e)) >= e->cfg.batch_max ||
                       (p > 0 && now - last >= e->cfg.interval_ns);) {
            export_batch(e, take_batch(e));
            last = now = clock_now_ns();
        }
    }
}

/* ---- set-up ---- */

otlp_queue_t *otlp_queue(otlp_exporter_t *e, int i)
{
    return &e->queues[i];
}

static void exporter_free(otlp_exporter_t *e)
{
    if (e->queues)
        for (int i = 0; i < e->cfg.nqueues; i++)
            free(e->queues[i].slots);
    free(e->queues);
    free(e->batch);
    buf_free(&e->body);
    buf_free(&e->request);
    http_client_close(&e->http);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->cond);
    free(e);
}

otlp_exporter_t *otlp_start(const otlp_config_t *cfg, char *err, size_t errlen)
{
    otlp_exporter_t *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    e->http.fd = -1;
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (!e->cfg.queue_len)
        e->cfg.queue_len = 2048;
    if (!e->cfg.batch_max)
        e->cfg.batch_max = 512;
    if (!e->cfg.interval_ns)
        e->cfg.interval_ns = NS_PER_S;
    if (!e->cfg.timeout_ns)
        e->cfg.timeout_ns = 2 * NS_PER_S;
    /* The resource's strings are the exporter's own: the caller's may not outlive it. */
    snprintf(e->service_name, sizeof e->service_name, "%s", cfg->resource.service_name);
    snprintf(e->sdk_language, sizeof e->sdk_language, "%s", cfg->resource.sdk_language);
    snprintf(e->service_version, sizeof e->service_version, "%s", cfg->resource.service_version);
    e->cfg.resource = (otlp_resource_t){e->service_name, e->sdk_language, e->service_version};
    char why[256];
    if (http_url_parse(cfg->endpoint, &e->url, why, sizeof why) < 0) {
        snprintf(err, errlen, "--otlp-endpoint: %s", why);
        goto fail;
    }
    /* endpoint/v1/traces, as OTLP/HTTP's exporters append the signal's path to a base URL. */
    size_t tl = strlen(e->url.target);
    while (tl > 0 && e->url.target[tl - 1] == '/')
        tl--;
    snprintf(e->target, sizeof e->target, "%.*s/v1/traces", (int)tl, e->url.target);
    size_t len = 1;
    while (len < e->cfg.queue_len)
        len <<= 1;
    /* The rings' indices are on cache lines of their own (_Alignas(64)): memory aligned so. */
    size_t qbytes = (size_t)cfg->nqueues * sizeof *e->queues;
    if ((e->queues = aligned_alloc(64, qbytes)))
        memset(e->queues, 0, qbytes);
    e->batch = malloc(e->cfg.batch_max * sizeof *e->batch);
    if (!e->queues || !e->batch)
        goto nomem;
    for (int i = 0; i < cfg->nqueues; i++) {
        e->queues[i].mask = len - 1;
        if (!(e->queues[i].slots = malloc(len * sizeof(trace_span_t))))
            goto nomem;
    }
    if (pthread_create(&e->thread, NULL, exporter_main, e) != 0) {
        snprintf(err, errlen, "cannot start the span exporter's thread");
        goto fail;
    }
    return e;
nomem:
    snprintf(err, errlen, "out of memory for %d span queues of %zu", cfg->nqueues, len);
fail:
    exporter_free(e);
    return NULL;
}

void otlp_stop(otlp_exporter_t *e, int64_t deadline_ns)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    e->stop_deadline = deadline_ns;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    exporter_free(e);
}
