#include "telemetry/trace.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

/* ---- traceparent ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* uppercase is invalid too: the specification's hex is lowercase */
}

/* n bytes from 2n lowercase hex characters. */
static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

bool trace_id_is_valid(const uint8_t id[TRACE_ID_LEN])
{
    return !all_zero(id, TRACE_ID_LEN);
}

bool trace_span_id_is_valid(const uint8_t id[TRACE_SPAN_ID_LEN])
{
    return !all_zero(id, TRACE_SPAN_ID_LEN);
}

int trace_parse_traceparent(const char *s, size_t n, trace_ctx_t *ctx)
{
    uint8_t version, flags;
    trace_ctx_t c;
    if (n < TRACEPARENT_LEN || unhex(s, &version, 1) || version == 0xff)
        return -1;
    /* Version 00 is exactly its 55 characters; a later version may append fields after a
     * dash, which a version-00 reader skips. */
    if (version == 0 ? n != TRACEPARENT_LEN : n > TRACEPARENT_LEN && s[TRACEPARENT_LEN] != '-')
        return -1;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-')
        return -1;
    if (unhex(s + 3, c.trace_id, TRACE_ID_LEN) || unhex(s + 36, c.span_id, TRACE_SPAN_ID_LEN) ||
        unhex(s + 53, &flags, 1))
        return -1;
    if (!trace_id_is_valid(c.trace_id) || !trace_span_id_is_valid(c.span_id))
        return -1;
    c.flags = version == 0 ? flags : flags & TRACE_FLAG_SAMPLED;
    *ctx = c;
    return 0;
}

void trace_hex(const uint8_t *id, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[2 * n] = 0;
}

void trace_format_traceparent(const trace_ctx_t *ctx, char out[TRACEPARENT_LEN + 1])
{
    memcpy(out, "00-", 3);
    trace_hex(ctx->trace_id, TRACE_ID_LEN, out + 3);
    out[35] = '-';
    trace_hex(ctx->span_id, TRACE_SPAN_ID_LEN, out + 36);
    out[52] = '-';
    trace_hex(&ctx->flags, 1, out + 53);
}

/* ---- ids ---- */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

void trace_new_trace_id(rng_t *r, uint8_t id[TRACE_ID_LEN])
{
    do {
        put64(id, rng_next(r));
        put64(id + 8, rng_next(r));
    } while (!trace_id_is_valid(id));
}

void trace_new_span_id(rng_t *r, uint8_t id[TRACE_SPAN_ID_LEN])
{
    do
        put64(id, rng_next(r));
    while (!trace_span_id_is_valid(id));
}

/* ---- sampling ---- */

void trace_sampler_init(trace_sampler_t *s, double ratio, uint64_t seed, uint64_t stream)
{
    rng_seed(&s->rng, seed, stream);
    s->all = ratio >= 1;
    /* 2^63 as a double is exact; the product is below it for ratio < 1. */
    s->bound = ratio <= 0 || s->all ? 0 : (uint64_t)(ratio * 9223372036854775808.0);
}

bool trace_ratio_samples(const trace_sampler_t *s, const uint8_t trace_id[TRACE_ID_LEN])
{
    if (s->all)
        return true;
    uint64_t low = 0;
    for (int i = 8; i < 16; i++)
        low = low << 8 | trace_id[i];
    return (low >> 1) < s->bound;
}

int trace_parse_ratio(const char *arg, void *dst, char *why, size_t whylen)
{
    char *end;
    double r = strtod(arg, &end);
    if (end == arg || *end || !isfinite(r) || r < 0 || r > 1) {
        snprintf(why, whylen, "expected a ratio from 0 to 1 (0.01), got '%s'", arg);
        return -1;
    }
    *(double *)dst = r;
    return 0;
}

/* ---- spans ---- */

static int64_t wall_offset;
static pthread_once_t wall_once = PTHREAD_ONCE_INIT;

static void wall_init(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    wall_offset = (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec - clock_now_ns();
}

int64_t trace_unix_ns(int64_t monotonic_ns)
{
    pthread_once(&wall_once, wall_init);
    return monotonic_ns + wall_offset;
}

int64_t trace_now_ns(void)
{
    return trace_unix_ns(clock_now_ns());
}

static void span_reset(trace_span_t *span, trace_kind_t kind, int64_t start_ns)
{
    span->kind = (uint8_t)kind;
    span->status = TRACE_STATUS_UNSET;
    span->nattrs = 0;
    span->name_len = span->text_len = 0;
    span->start_ns = start_ns;
    span->end_ns = 0;
}

bool trace_span_begin(trace_sampler_t *s, const char *traceparent, size_t tp_len,
                      trace_kind_t kind, trace_span_t *span)
{
    trace_ctx_t parent;
    bool has_parent = traceparent && trace_parse_traceparent(traceparent, tp_len, &parent) == 0;
    uint8_t trace_id[TRACE_ID_LEN];
    if (has_parent) {
        if (!(parent.flags & TRACE_FLAG_SAMPLED))
            return false;
        memcpy(trace_id, parent.trace_id, TRACE_ID_LEN);
    } else {
        if (!s->all && s->bound == 0)
            return false; /* ratio 0: not even an id is drawn */
        trace_new_trace_id(&s->rng, trace_id);
        if (!trace_ratio_samples(s, trace_id))
            return false;
    }
    memcpy(span->trace_id, trace_id, TRACE_ID_LEN);
    trace_new_span_id(&s->rng, span->span_id);
    if (has_parent)
        memcpy(span->parent_span_id, parent.span_id, TRACE_SPAN_ID_LEN);
    else
        memset(span->parent_span_id, 0, TRACE_SPAN_ID_LEN);
    span->remote_parent = has_parent;
    span->flags = has_parent ? parent.flags : TRACE_FLAG_SAMPLED;
    span_reset(span, kind, trace_now_ns());
    return true;
}

void trace_span_ctx(const trace_span_t *span, trace_ctx_t *ctx)
{
    memcpy(ctx->trace_id, span->trace_id, TRACE_ID_LEN);
    memcpy(ctx->span_id, span->span_id, TRACE_SPAN_ID_LEN);
    ctx->flags = span->flags;
}

void trace_span_child(trace_sampler_t *s, const trace_ctx_t *parent, trace_kind_t kind,
                      int64_t start_ns, trace_span_t *span)
{
    memcpy(span->trace_id, parent->trace_id, TRACE_ID_LEN);
    memcpy(span->parent_span_id, parent->span_id, TRACE_SPAN_ID_LEN);
    trace_new_span_id(&s->rng, span->span_id);
    span->flags = parent->flags;
    span->remote_parent = false;
    span_reset(span, kind, start_ns);
}

/* Appends up to n bytes to the span's text; how many fit. */
static size_t text_put(trace_span_t *span, const char *p, size_t n)
{
    size_t room = TRACE_TEXT - span->text_len;
    if (n > room)
        n = room;
    memcpy(span->text + span->text_len, p, n);
    span->text_len = (uint16_t)(span->text_len + n);
    return n;
}

void trace_span_name(trace_span_t *span, const char *a, size_t an, const char *b, size_t bn)
{
    span->text_len = 0;
    span->nattrs = 0;
    size_t n = text_put(span, a, an);
    if (b) {
        n += text_put(span, " ", 1);
        n += text_put(span, b, bn);
    }
    span->name_len = (uint16_t)n;
}

void trace_span_str(trace_span_t *span, const char *key, const char *v, size_t n)
{
    if (span->nattrs >= TRACE_MAX_ATTRS)
        return;
    trace_attr_t *a = &span->attrs[span->nattrs++];
    a->key = key;
    a->is_int = false;
    a->off = span->text_len;
    a->len = (uint16_t)text_put(span, v, n);
}

void trace_span_int(trace_span_t *span, const char *key, int64_t v)
{
    if (span->nattrs >= TRACE_MAX_ATTRS)
        return;
    span->attrs[span->nattrs++] = (trace_attr_t){.key = key, .is_int = true, .i = v};
}
