/* calls: a case of calls (the grpc contract) against a server. Each call is made on the case's
 * one HTTP/2 connection (http/h2client.h) and its answer checked as its expect says: :status,
 * headers, body, grpc-status and grpc-message, and its messages, which are counted and checked
 * as they arrive (as ticks, or as a health answer), so that a stream of a gigabyte is checked
 * whole without being kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "codec/ticks.h"
#include "core/clock.h"
#include "health.pb-c.h"
#include "http/grpc.h"
#include "http/h2client.h"
#include "ticks.pb-c.h"
#include "verify/internal.h"

/* What the answer's messages are checked against, and what was found, as they arrive. */
typedef struct {
    const contract_step_t *ex;
    grpc_reader_t rd;
    grpc_read_t rd_err;        /* the first error of the reader (GRPC_READ_OK: none) */
    long messages;
    char bad[256];             /* the first message that is not as wanted */
    /* ticks: the request they answer */
    bool stream;
    char symbol[TICKS_SYMBOL_MAX + 1];
    uint64_t hash, count;
    uint32_t payload_bytes;
    int health;                /* the last health answer's status */
} answer_check_t;

static void check_tick(answer_check_t *k, const uint8_t *msg, size_t len)
{
    Stackbench__V1__Tick *t = stackbench__v1__tick__unpack(NULL, len, msg);
    long at = k->messages;
    uint64_t seq = k->stream ? (uint64_t)at : 0;
    if (!t) {
        snprintf(k->bad, sizeof k->bad, "message %ld: not a Tick (%zu bytes)", at, len);
        return;
    }
    if (strcmp(t->symbol, k->symbol) != 0)
        snprintf(k->bad, sizeof k->bad, "message %ld: symbol '%.20s', want '%s'", at, t->symbol,
                 k->symbol);
    else if (k->stream && seq > k->count)
        snprintf(k->bad, sizeof k->bad, "message %ld: more ticks than count %llu", at,
                 (unsigned long long)k->count);
    else if (t->seq != seq)
        snprintf(k->bad, sizeof k->bad, "message %ld: seq %llu, want %llu", at,
                 (unsigned long long)t->seq, (unsigned long long)seq);
    else if (t->price_micros != ticks_price(k->hash, seq))
        snprintf(k->bad, sizeof k->bad, "message %ld: price_micros %lld, want %lld", at,
                 (long long)t->price_micros, (long long)ticks_price(k->hash, seq));
    else if (t->ts_ns == 0)
        snprintf(k->bad, sizeof k->bad, "message %ld: ts_ns 0", at);
    else if (t->payload.len != (k->stream ? k->payload_bytes : 0))
        snprintf(k->bad, sizeof k->bad, "message %ld: %zu payload bytes, want %u", at,
                 t->payload.len, k->stream ? k->payload_bytes : 0);
    else if (!ticks_payload_ok(t->payload.data, t->payload.len, seq))
        snprintf(k->bad, sizeof k->bad, "message %ld: payload not (seq + i) mod 256", at);
    stackbench__v1__tick__free_unpacked(t, NULL);
}

static void check_health(answer_check_t *k, const uint8_t *msg, size_t len)
{
    Grpc__Health__V1__HealthCheckResponse *h =
        grpc__health__v1__health_check_response__unpack(NULL, len, msg);
    if (!h) {
        snprintf(k->bad, sizeof k->bad, "message %ld: not a HealthCheckResponse", k->messages);
        return;
    }
    k->health = h->status;
    grpc__health__v1__health_check_response__free_unpacked(h, NULL);
}

static int on_message(void *ud, const uint8_t *msg, size_t len)
{
    answer_check_t *k = ud;
    k->messages++;
    if (k->bad[0])
        return 0;
    if (k->ex->ticks)
        check_tick(k, msg, len);
    if (k->ex->health >= 0)
        check_health(k, msg, len);
    return 0;
}

static int on_data(void *ud, const uint8_t *p, size_t n)
{
    answer_check_t *k = ud;
    if (k->rd_err == GRPC_READ_OK)
        k->rd_err = grpc_reader_feed(&k->rd, p, n, on_message, k);
    return 0;
}

static int first_message(void *ud, const uint8_t *msg, size_t len)
{
    buf_t *b = ud;
    buf_append(b, msg, len);
    return 1;
}

/* The request the ticks answer: the call's first message, as its method's type. */
static int ticks_request(const contract_step_t *call, answer_check_t *k, char *why, size_t n)
{
    grpc_reader_t rd;
    buf_t msg = BUF_INIT;
    grpc_reader_init(&rd, GRPC_MAX_MESSAGE);
    for (int i = 0; i < call->nframes; i++)
        if (grpc_reader_feed(&rd, (const uint8_t *)call->frames[i].data, call->frames[i].len,
                             first_message, &msg) != GRPC_READ_OK)
            break;
    grpc_reader_free(&rd);
    const char *symbol = NULL;
    Stackbench__V1__StreamRequest *s = NULL;
    Stackbench__V1__QuoteRequest *q = NULL;
    k->stream = call->request_type == &stackbench__v1__stream_request__descriptor;
    if (k->stream && (s = stackbench__v1__stream_request__unpack(NULL, buf_size(&msg),
                                                                 (uint8_t *)buf_start(&msg)))) {
        symbol = s->symbol;
        k->count = s->count;
        k->payload_bytes = s->payload_bytes;
    } else if (!k->stream && (q = stackbench__v1__quote_request__unpack(
                                  NULL, buf_size(&msg), (uint8_t *)buf_start(&msg)))) {
        symbol = q->symbol;
    }
    if (symbol)
        snprintf(k->symbol, sizeof k->symbol, "%s", symbol);
    k->hash = symbol ? ticks_symbol_hash(symbol, strlen(symbol)) : 0;
    if (s)
        stackbench__v1__stream_request__free_unpacked(s, NULL);
    if (q)
        stackbench__v1__quote_request__free_unpacked(q, NULL);
    buf_free(&msg);
    if (!symbol)
        snprintf(why, n, "ticks: the request holds no %s to check them by",
                 call->request_type->name);
    return symbol ? 0 : -1;
}

/* The request's headers: a POST's defaults (content-type, te) unless the case sets them, and
 * the case's own, an empty value dropping its field. */
static int request_headers(const contract_step_t *call, h2client_field_t *out)
{
    static const h2client_field_t defaults[] = {{"content-type", "application/grpc"},
                                                {"te", "trailers"}};
    int n = 0;
    for (size_t d = 0; strcmp(call->method, "POST") == 0 && d < 2; d++) {
        bool set = false;
        for (int i = 0; i < call->nreq_headers; i++)
            set |= strcasecmp(call->req_header_name[i], defaults[d].name) == 0;
        if (!set)
            out[n++] = defaults[d];
    }
    for (int i = 0; i < call->nreq_headers; i++)
        if (call->req_header_value[i][0])
            out[n++] = (h2client_field_t){call->req_header_name[i], call->req_header_value[i]};
    return n;
}

/* The answer of a call against its expect. */
static int check_answer(const contract_step_t *ex, const h2client_answer_t *a,
                        const answer_check_t *k, int nth, char *why, size_t n)
{
    char pv[256];
    verify_preview(pv, sizeof pv, buf_start(&a->data), buf_size(&a->data));
    if (a->status != ex->status) {
        snprintf(why, n, "call %d: :status %d, want %d (DATA: %s)", nth, a->status, ex->status,
                 pv);
        return -1;
    }
    for (int i = 0; i < ex->nheaders; i++) {
        char name[128];
        size_t l = 0;
        for (; ex->header_name[i][l] && l + 1 < sizeof name; l++)
            name[l] = (char)(ex->header_name[i][l] | (ex->header_name[i][l] >= 'A' &&
                                                      ex->header_name[i][l] <= 'Z' ? 0x20 : 0));
        name[l] = 0;
        const char *v = h2client_field(&a->headers, name);
        if (!v || strcmp(v, ex->header_value[i]) != 0) {
            snprintf(why, n, "call %d: %s: '%s', want '%s'", nth, name, v ? v : "(none)",
                     ex->header_value[i]);
            return -1;
        }
    }
    if (ex->has_body && (buf_size(&a->data) != ex->body_len ||
                         memcmp(buf_start(&a->data), ex->body, ex->body_len) != 0)) {
        char want[256];
        verify_preview(want, sizeof want, ex->body, ex->body_len);
        snprintf(why, n, "call %d: DATA %s, want %s", nth, pv, want);
        return -1;
    }
    for (int i = 0; i < ex->nbody_has; i++)
        if (!memmem(buf_start(&a->data), buf_size(&a->data), ex->body_has[i],
                    strlen(ex->body_has[i]))) {
            snprintf(why, n, "call %d: DATA %s does not contain %s", nth, pv, ex->body_has[i]);
            return -1;
        }
    /* the status: in trailers, or in the headers of a trailers-only answer */
    const h2client_fields_t *st = a->trailers_came ? &a->trailers : &a->headers;
    const char *code = h2client_field(st, "grpc-status");
    const char *msg = h2client_field(st, "grpc-message");
    char text[512];
    grpc_message_decode(msg ? msg : "", msg ? strlen(msg) : 0, text, sizeof text);
    if (ex->grpc_status >= 0) {
        if (!code) {
            snprintf(why, n, "call %d: no grpc-status in the %s%s", nth,
                     a->trailers_came ? "trailers" : "headers (and no trailers)",
                     a->cancelled ? " (the call was cancelled)" : "");
            return -1;
        }
        if (!code[0] || strlen(code) > 2 || strspn(code, "0123456789") != strlen(code) ||
            atoi(code) != ex->grpc_status) {
            snprintf(why, n, "call %d: grpc-status %s%s%s%s, want %d %s (after %ld messages)",
                     nth, code, text[0] ? " '" : "", text, text[0] ? "'" : "", ex->grpc_status,
                     grpc_code_name(ex->grpc_status), k->messages);
            return -1;
        }
    }
    if (ex->grpc_message && strncmp(text, ex->grpc_message, strlen(ex->grpc_message)) != 0) {
        snprintf(why, n, "call %d: grpc-message '%s', want it to start with '%s'", nth, text,
                 ex->grpc_message);
        return -1;
    }
    bool counts = ex->messages >= 0 || ex->ticks || ex->health >= 0;
    if (counts && k->rd_err != GRPC_READ_OK) {
        snprintf(why, n, "call %d: message %ld: %s", nth, k->messages + 1,
                 k->rd_err == GRPC_READ_TOO_LARGE    ? "over 4 MiB"
                 : k->rd_err == GRPC_READ_COMPRESSED ? "compressed, and none was asked for"
                 : k->rd_err == GRPC_READ_BAD_FLAG   ? "a flag byte other than 0 or 1"
                                                     : "cannot be read");
        return -1;
    }
    if (counts && !a->cancelled && !grpc_reader_between(&k->rd)) {
        snprintf(why, n, "call %d: the answer ends inside message %ld", nth, k->messages + 1);
        return -1;
    }
    if (ex->messages >= 0 && k->messages != ex->messages) {
        snprintf(why, n, "call %d: %ld messages, want %ld", nth, k->messages, ex->messages);
        return -1;
    }
    if (k->bad[0]) {
        snprintf(why, n, "call %d: %s", nth, k->bad);
        return -1;
    }
    bool ok = code && strcmp(code, "0") == 0;
    if (ex->ticks && ok && (uint64_t)k->messages != (k->stream ? k->count : 1)) {
        snprintf(why, n, "call %d: %ld ticks before status 0, want %llu", nth, k->messages,
                 (unsigned long long)(k->stream ? k->count : 1));
        return -1;
    }
    if (ex->health >= 0 && (k->messages != 1 || k->health != ex->health)) {
        const ProtobufCEnumValue *w = protobuf_c_enum_descriptor_get_value(
            &grpc__health__v1__health_check_response__serving_status__descriptor, ex->health);
        snprintf(why, n, "call %d: %ld messages, the last with status %d, want one with %s", nth,
                 k->messages, k->health, w ? w->name : "?");
        return -1;
    }
    return 0;
}

/* One call and, when ex is not NULL, its answer checked. */
static int run_call(h2client_t *h, const contract_step_t *call, const contract_step_t *ex,
                    int nth, int64_t timeout_ns, char *why, size_t n)
{
    static const contract_step_t no_checks = {.kind = STEP_EXPECT, .grpc_status = -1,
                                              .messages = -1, .health = -1};
    answer_check_t k = {.ex = ex ? ex : &no_checks, .health = -1};
    if (ex && ex->ticks && ticks_request(call, &k, why, n))
        return -1;
    grpc_reader_init(&k.rd, GRPC_MAX_MESSAGE);
    h2client_field_t headers[2 + CONTRACT_MAX_CHECKS];
    h2client_chunk_t *body = calloc((size_t)call->nframes + 1, sizeof *body);
    for (int i = 0; i < call->nframes; i++)
        body[i] = (h2client_chunk_t){call->frames[i].data, call->frames[i].len};
    h2client_request_t r = {
        .method = call->method,
        .path = call->path,
        .headers = headers,
        .nheaders = request_headers(call, headers),
        .body = body,
        .nbody = call->nframes,
        .keep_open = call->keep_open,
        .cancel_after = call->cancel_after,
        .on_data = on_data,
        .ud = &k,
    };
    h2client_answer_t a;
    h2client_status_t st = h2client_call(h, &r, &a, timeout_ns);
    int rc = -1;
    char pv[256];
    verify_preview(pv, sizeof pv, buf_start(&a.data), buf_size(&a.data));
    if (st == H2CLIENT_TIMEOUT || st == H2CLIENT_CLOSED) {
        snprintf(why, n, "call %d: %s before the stream ended (:status %d, %llu bytes of DATA%s%s)",
                 nth, st == H2CLIENT_TIMEOUT ? "timed out" : "connection closed", a.status,
                 (unsigned long long)a.data_total, a.goaway ? ", GOAWAY " : "",
                 a.goaway ? h2client_error_name(a.goaway_code) : "");
    } else if (st == H2CLIENT_PROTOCOL) {
        snprintf(why, n, "call %d: %s", nth, a.why);
    } else if (st != H2CLIENT_OK) {
        snprintf(why, n, "call %d: out of memory", nth);
    } else if (a.reset && ex && ex->or_reset >= 0 && a.reset_code == (uint32_t)ex->or_reset) {
        rc = 0; /* the case lets the server end the call so */
    } else if (a.reset) {
        snprintf(why, n, "call %d: the server reset the stream (%s) after %llu bytes of DATA",
                 nth, h2client_error_name(a.reset_code), (unsigned long long)a.data_total);
    } else if (call->cancel_after >= 0 && !a.cancelled) {
        snprintf(why, n, "call %d: the stream ended after %llu bytes of DATA, before the cancel",
                 nth, (unsigned long long)a.data_total);
    } else {
        rc = ex ? check_answer(ex, &a, &k, nth, why, n) : 0;
    }
    h2client_answer_free(&a);
    grpc_reader_free(&k.rd);
    free(body);
    return rc;
}

int verify_calls(const contract_case_t *c, const http_url_t *u, int64_t timeout_ns, char *why,
                 size_t n)
{
    h2client_t *h = h2client_open(u->host, u->port, timeout_ns, why, n);
    if (!h)
        return -1;
    int rc = 0, calls = 0;
    for (int i = 0; rc == 0 && i < c->nsteps; i++) {
        const contract_step_t *st = &c->steps[i];
        if (st->kind == STEP_PAUSE) {
            struct timespec ts = {st->pause_ns / NS_PER_S, st->pause_ns % NS_PER_S};
            nanosleep(&ts, NULL);
        } else if (st->kind == STEP_CALL) {
            const contract_step_t *ex =
                i + 1 < c->nsteps && c->steps[i + 1].kind == STEP_EXPECT ? &c->steps[i + 1] : NULL;
            rc = run_call(h, st, ex, ++calls, timeout_ns, why, n);
        }
    }
    h2client_close(h);
    return rc;
}
