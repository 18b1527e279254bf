/* Tests for tracing (src/telemetry/trace.c, otlp.c): traceparent read as the W3C Trace Context
 * specification says, the sampler's decisions at known trace ids and ratios (those of
 * opentelemetry-go's TraceIDRatioBased), parent-based decisions, spans, the OTLP encoding
 * decoded back with protobuf-c field by field, and the exporter against a collector played by
 * the test (taken, partly rejected, refused). */
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/clock.h"
#include "http/http1.h"
#include "otlp_trace_service.pb-c.h"
#include "t.h"
#include "telemetry/otlp.h"
#include "telemetry/trace.h"

#define TP_OK "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static int parse(const char *s, trace_ctx_t *c)
{
    return trace_parse_traceparent(s, strlen(s), c);
}

TEST(traceparent_of_the_specification_reads)
{
    trace_ctx_t c;
    CHECK_INT(parse(TP_OK, &c), 0);
    static const uint8_t tid[16] = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
                                    0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c};
    static const uint8_t sid[8] = {0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31};
    CHECK(memcmp(c.trace_id, tid, 16) == 0);
    CHECK(memcmp(c.span_id, sid, 8) == 0);
    CHECK_INT(c.flags, 1);
    CHECK_INT(parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", &c), 0);
    CHECK_INT(c.flags, 0);
    /* version 00 keeps every flag bit (level 2's random flag among them) */
    CHECK_INT(parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", &c), 0);
    CHECK_INT(c.flags, 3);
}

TEST(traceparent_format_is_version_00_lowercase_and_reads_back)
{
    trace_ctx_t c, d;
    CHECK_INT(parse(TP_OK, &c), 0);
    char out[TRACEPARENT_LEN + 1];
    trace_format_traceparent(&c, out);
    CHECK_STR(out, TP_OK);
    CHECK_INT(parse(out, &d), 0);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
}

TEST(traceparent_of_a_future_version_is_read_as_00)
{
    trace_ctx_t c;
    /* longer, the extra part after a dash */
    CHECK_INT(parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-will-be-like", &c), 0);
    CHECK_INT(c.flags, 1);
    /* exactly 55 characters */
    CHECK_INT(parse("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", &c), 0);
    /* only the sampled bit of an unknown version's flags is kept */
    CHECK_INT(parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09", &c), 0);
    CHECK_INT(c.flags, 1);
    CHECK_INT(parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-fe", &c), 0);
    CHECK_INT(c.flags, 0);
}

TEST(invalid_traceparents_are_refused)
{
    static const char *const bad[] = {
        "",
        "00",
        /* 54 characters */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",
        /* version ff is invalid */
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        /* version not hex, or uppercase */
        "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        /* uppercase in the ids or the flags */
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A",
        /* all-zero trace id or parent id */
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        /* version 00 with anything after its flags */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        /* a future version whose flags are not followed by a dash */
        "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
        /* separators */
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
        /* ids of the wrong length (the dashes then fall elsewhere) */
        "00-0af7651916cd43dd8448eb211c80319-cb7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-101",
        /* flags not hex */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x",
        /* spaces are not trimmed here: the HTTP parser already took the field's own */
        " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trace_ctx_t c;
        memset(&c, 0x5a, sizeof c);
        if (parse(bad[i], &c) != -1) {
            fprintf(stderr, "    accepted: \"%s\"\n", bad[i]);
            t_failures++;
        }
        CHECK_INT(c.flags, 0x5a); /* untouched */
    }
}

/* A trace id whose low 64 bits are `low`, high bits all ones (they play no part). */
static void id_low(uint8_t id[16], uint64_t low)
{
    memset(id, 0xff, 8);
    for (int i = 0; i < 8; i++)
        id[8 + i] = (uint8_t)(low >> (56 - 8 * i));
}

TEST(ratio_sampler_compares_the_low_63_bits_with_ratio_times_2_63)
{
    trace_sampler_t s;
    uint8_t id[16];
    trace_sampler_init(&s, 0.5, 1, 0);
    CHECK(s.bound == (1ULL << 62));
    id_low(id, 0x7fffffffffffffffULL); /* >> 1 = 2^62 - 1 */
    CHECK(trace_ratio_samples(&s, id));
    id_low(id, 0x8000000000000000ULL); /* >> 1 = 2^62 */
    CHECK(!trace_ratio_samples(&s, id));
    id_low(id, 0);
    CHECK(trace_ratio_samples(&s, id));
    id_low(id, UINT64_MAX);
    CHECK(!trace_ratio_samples(&s, id));

    trace_sampler_init(&s, 0.25, 1, 0);
    id_low(id, 0x3fffffffffffffffULL);
    CHECK(trace_ratio_samples(&s, id));
    id_low(id, 0x4000000000000000ULL);
    CHECK(!trace_ratio_samples(&s, id));
    /* the last bit is shifted out: 2k and 2k+1 decide alike */
    id_low(id, 0x3ffffffffffffffeULL);
    CHECK(trace_ratio_samples(&s, id));

    trace_sampler_init(&s, 0, 1, 0);
    id_low(id, 0);
    CHECK(!trace_ratio_samples(&s, id));
    trace_sampler_init(&s, 1, 1, 0);
    id_low(id, UINT64_MAX);
    CHECK(trace_ratio_samples(&s, id));
}

TEST(ratio_sampler_takes_its_share_of_random_ids)
{
    /* fixed seed: a count, not luck */
    trace_sampler_t s;
    trace_sampler_init(&s, 0.1, 42, 0);
    int n = 0;
    for (int i = 0; i < 10000; i++) {
        uint8_t id[16];
        trace_new_trace_id(&s.rng, id);
        n += trace_ratio_samples(&s, id);
    }
    CHECK(n > 900 && n < 1100);
}

TEST(new_ids_are_valid_and_differ)
{
    trace_sampler_t s;
    trace_sampler_init(&s, 1, 7, 3);
    uint8_t a[16], b[16], x[8], y[8];
    trace_new_trace_id(&s.rng, a);
    trace_new_trace_id(&s.rng, b);
    trace_new_span_id(&s.rng, x);
    trace_new_span_id(&s.rng, y);
    CHECK(trace_id_is_valid(a) && trace_id_is_valid(b));
    CHECK(trace_span_id_is_valid(x) && trace_span_id_is_valid(y));
    CHECK(memcmp(a, b, 16) != 0);
    CHECK(memcmp(x, y, 8) != 0);
    static const uint8_t zero[16] = {0};
    CHECK(!trace_id_is_valid(zero));
    CHECK(!trace_span_id_is_valid(zero));
}

TEST(a_sampled_parent_is_followed_at_ratio_0)
{
    trace_sampler_t s;
    trace_sampler_init(&s, 0, 1, 0);
    trace_span_t sp;
    CHECK(trace_span_begin(&s, TP_OK, strlen(TP_OK), TRACE_KIND_SERVER, &sp));
    trace_ctx_t p;
    parse(TP_OK, &p);
    CHECK(memcmp(sp.trace_id, p.trace_id, 16) == 0);
    CHECK(memcmp(sp.parent_span_id, p.span_id, 8) == 0);
    CHECK(memcmp(sp.span_id, p.span_id, 8) != 0);
    CHECK(trace_span_id_is_valid(sp.span_id));
    CHECK(sp.remote_parent);
    CHECK_INT(sp.flags, 1);
    CHECK_INT(sp.kind, TRACE_KIND_SERVER);
    CHECK(sp.start_ns > 1700000000LL * NS_PER_S); /* Unix time, not the monotonic clock */
    /* no traceparent at ratio 0: no span */
    CHECK(!trace_span_begin(&s, NULL, 0, TRACE_KIND_SERVER, &sp));
}

TEST(an_unsampled_parent_is_followed_at_ratio_1)
{
    trace_sampler_t s;
    trace_sampler_init(&s, 1, 1, 0);
    trace_span_t sp;
    memset(&sp, 0x77, sizeof sp);
    static const char tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    CHECK(!trace_span_begin(&s, tp, sizeof tp - 1, TRACE_KIND_SERVER, &sp));
    CHECK_INT(sp.kind, 0x77); /* untouched */
}

TEST(an_invalid_traceparent_starts_a_new_root)
{
    trace_sampler_t s;
    trace_sampler_init(&s, 1, 1, 0);
    trace_span_t sp;
    static const char tp[] = "00-00000000000000000000000000000000-b7ad6b7169203331-01";
    CHECK(trace_span_begin(&s, tp, sizeof tp - 1, TRACE_KIND_SERVER, &sp));
    CHECK(trace_id_is_valid(sp.trace_id));
    CHECK(!trace_span_id_is_valid(sp.parent_span_id));
    CHECK(!sp.remote_parent);
    CHECK_INT(sp.flags, TRACE_FLAG_SAMPLED);
}

TEST(a_child_shares_the_trace_and_names_its_parent)
{
    trace_sampler_t s;
    trace_sampler_init(&s, 1, 1, 0);
    trace_span_t parent, child;
    CHECK(trace_span_begin(&s, NULL, 0, TRACE_KIND_SERVER, &parent));
    trace_ctx_t pc;
    trace_span_ctx(&parent, &pc);
    trace_span_child(&s, &pc, TRACE_KIND_CLIENT, 1234, &child);
    CHECK(memcmp(child.trace_id, parent.trace_id, 16) == 0);
    CHECK(memcmp(child.parent_span_id, parent.span_id, 8) == 0);
    CHECK(memcmp(child.span_id, parent.span_id, 8) != 0);
    CHECK(!child.remote_parent);
    CHECK_INT(child.kind, TRACE_KIND_CLIENT);
    CHECK_INT(child.start_ns, 1234);
}

TEST(span_names_and_attributes_are_kept_and_cut_to_fit)
{
    trace_sampler_t s;
    trace_sampler_init(&s, 1, 1, 0);
    trace_span_t sp;
    trace_span_begin(&s, NULL, 0, TRACE_KIND_SERVER, &sp);
    trace_span_name(&sp, "GET", 3, "/accounts/{id}", 14);
    CHECK_MEM(sp.text, sp.name_len, "GET /accounts/{id}");
    trace_span_str(&sp, "url.path", "/accounts/7", 11);
    trace_span_int(&sp, "server.port", 8080);
    CHECK_INT(sp.nattrs, 2);
    CHECK_STR(sp.attrs[0].key, "url.path");
    CHECK_MEM(sp.text + sp.attrs[0].off, sp.attrs[0].len, "/accounts/7");
    CHECK(sp.attrs[1].is_int && sp.attrs[1].i == 8080);
    char big[1000];
    memset(big, 'x', sizeof big);
    trace_span_str(&sp, "big", big, sizeof big);
    CHECK_INT(sp.text_len, TRACE_TEXT);
    CHECK_INT(sp.attrs[2].len, TRACE_TEXT - 18 - 11);
    for (int i = 0; i < 20; i++)
        trace_span_int(&sp, "more", i);
    CHECK_INT(sp.nattrs, TRACE_MAX_ATTRS);
}

/* ---- OTLP ---- */

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;

static const kv_t *attr(kv_t **kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i]->key, key) == 0)
            return kv[i];
    return NULL;
}

static const char *attr_str(kv_t **kv, size_t n, const char *key)
{
    const kv_t *a = attr(kv, n, key);
    return a && a->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
               ? a->value->string_value
               : NULL;
}

static long long attr_int(kv_t **kv, size_t n, const char *key)
{
    const kv_t *a = attr(kv, n, key);
    return a && a->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
               ? (long long)a->value->int_value
               : -1;
}

static const otlp_resource_t res = {"stackbench-echo", "c", "0.1.0"};

/* Two spans: a server span child of TP_OK, ERROR, and a client child of it. */
static void two_spans(trace_span_t sp[2])
{
    trace_sampler_t s;
    trace_sampler_init(&s, 1, 1, 0);
    trace_span_begin(&s, TP_OK, strlen(TP_OK), TRACE_KIND_SERVER, &sp[0]);
    trace_span_name(&sp[0], "POST", 4, "/echo", 5);
    trace_span_str(&sp[0], "http.request.method", "POST", 4);
    trace_span_int(&sp[0], "http.response.status_code", 503);
    sp[0].status = TRACE_STATUS_ERROR;
    sp[0].start_ns = 1000000000000000001LL;
    sp[0].end_ns = 1000000000000000999LL;
    trace_ctx_t pc;
    trace_span_ctx(&sp[0], &pc);
    trace_span_child(&s, &pc, TRACE_KIND_CLIENT, 1000000000000000100LL, &sp[1]);
    trace_span_name(&sp[1], "SELECT", 6, "accounts", 8);
    trace_span_str(&sp[1], "db.system.name", "postgresql", 10);
    sp[1].end_ns = 1000000000000000200LL;
}

TEST(otlp_encoding_decodes_back_field_by_field)
{
    trace_span_t sp[2];
    two_spans(sp);
    buf_t out = BUF_INIT;
    CHECK_INT(otlp_encode(&res, sp, 2, &out), 0);
    req_t *r = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, buf_size(&out), (const uint8_t *)buf_start(&out));
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(r->n_resource_spans, 1);
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = r->resource_spans[0];
    CHECK_INT(rs->resource->n_attributes, 3);
    CHECK_STR(attr_str(rs->resource->attributes, 3, "service.name"), "stackbench-echo");
    CHECK_STR(attr_str(rs->resource->attributes, 3, "telemetry.sdk.language"), "c");
    CHECK_STR(attr_str(rs->resource->attributes, 3, "service.version"), "0.1.0");
    CHECK_INT(rs->n_scope_spans, 1);
    CHECK_STR(rs->scope_spans[0]->scope->name, "stackbench");
    CHECK_INT(rs->scope_spans[0]->n_spans, 2);
    Opentelemetry__Proto__Trace__V1__Span *a = rs->scope_spans[0]->spans[0];
    Opentelemetry__Proto__Trace__V1__Span *b = rs->scope_spans[0]->spans[1];
    CHECK_INT(a->trace_id.len, 16);
    CHECK(memcmp(a->trace_id.data, sp[0].trace_id, 16) == 0);
    CHECK_INT(a->span_id.len, 8);
    CHECK(memcmp(a->span_id.data, sp[0].span_id, 8) == 0);
    CHECK_INT(a->parent_span_id.len, 8);
    CHECK(memcmp(a->parent_span_id.data, sp[0].parent_span_id, 8) == 0);
    CHECK_INT(a->flags, 0x301); /* sampled, remote parent, and that bit 9 means it */
    CHECK_STR(a->name, "POST /echo");
    CHECK_INT(a->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
    CHECK(a->start_time_unix_nano == 1000000000000000001ULL);
    CHECK(a->end_time_unix_nano == 1000000000000000999ULL);
    CHECK_INT(a->n_attributes, 2);
    CHECK_STR(attr_str(a->attributes, a->n_attributes, "http.request.method"), "POST");
    CHECK_INT(attr_int(a->attributes, a->n_attributes, "http.response.status_code"), 503);
    CHECK(a->status && a->status->code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    CHECK(memcmp(b->trace_id.data, sp[0].trace_id, 16) == 0);
    CHECK(memcmp(b->parent_span_id.data, sp[0].span_id, 8) == 0);
    CHECK_INT(b->flags, 0x101); /* sampled, parent not remote */
    CHECK_STR(b->name, "SELECT accounts");
    CHECK_INT(b->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
    CHECK_STR(attr_str(b->attributes, b->n_attributes, "db.system.name"), "postgresql");
    CHECK(b->status == NULL); /* unset: left out */
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(r, NULL);
    buf_free(&out);
}

TEST(otlp_root_span_has_no_parent_id)
{
    trace_sampler_t s;
    trace_sampler_init(&s, 1, 1, 0);
    trace_span_t sp;
    trace_span_begin(&s, NULL, 0, TRACE_KIND_SERVER, &sp);
    trace_span_name(&sp, "GET", 3, NULL, 0);
    buf_t out = BUF_INIT;
    CHECK_INT(otlp_encode(&res, &sp, 1, &out), 0);
    req_t *r = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, buf_size(&out), (const uint8_t *)buf_start(&out));
    CHECK(r != NULL);
    if (!r)
        return;
    Opentelemetry__Proto__Trace__V1__Span *a = r->resource_spans[0]->scope_spans[0]->spans[0];
    CHECK_INT(a->parent_span_id.len, 0);
    CHECK_INT(a->flags, 0x101);
    CHECK_STR(a->name, "GET");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(r, NULL);
    buf_free(&out);
}

/* ---- the exporter, against a collector the test plays ---- */

typedef struct {
    int listen_fd;
    int answers;        /* requests to answer, then close */
    int64_t rejected;   /* partial_success.rejected_spans of each answer */
    int status;         /* of each answer; 0: 200 */
    int requests;       /* exports received */
    size_t spans;       /* spans received */
    char target[64], content_type[64];
} fake_t;

static void *fake_main(void *arg)
{
    fake_t *f = arg;
    int fd = accept(f->listen_fd, NULL, NULL);
    buf_t in = BUF_INIT;
    for (int i = 0; fd >= 0 && i < f->answers;) {
        buf_reserve(&in, 65536);
        ssize_t n = recv(fd, buf_end(&in), buf_room(&in), 0);
        if (n <= 0)
            break;
        buf_commit(&in, (size_t)n);
        http_msg_t m;
        if (http_parse_request(buf_start(&in), buf_size(&in), &m, HTTP_MAX_HEAD) <= 0)
            continue;
        http_chunked_t ch;
        http_chunked_init(&ch);
        http_frame_t fr;
        if (http_frame(&m, buf_start(&in), buf_size(&in), false, 1 << 26, &ch, &fr) <= 0)
            continue;
        snprintf(f->target, sizeof f->target, "%.*s", (int)m.target.n, m.target.p);
        const http_str_t *ct = http_header(&m, "content-type");
        if (ct)
            snprintf(f->content_type, sizeof f->content_type, "%.*s", (int)ct->n, ct->p);
        req_t *r = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, fr.body_len, (const uint8_t *)buf_start(&in) + m.head_len);
        if (r) {
            for (size_t k = 0; k < r->n_resource_spans; k++)
                for (size_t j = 0; j < r->resource_spans[k]->n_scope_spans; j++)
                    f->spans += r->resource_spans[k]->scope_spans[j]->n_spans;
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(r, NULL);
        }
        buf_consume(&in, fr.total);
        f->requests++;
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
        Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
        ps.rejected_spans = f->rejected;
        if (f->rejected)
            resp.partial_success = &ps;
        uint8_t body[64];
        size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(&resp, body);
        char head[160];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: application/x-protobuf\r\n"
                          "Content-Length: %zu\r\n\r\n", f->status ? f->status : 200, len);
        send(fd, head, (size_t)hn, MSG_NOSIGNAL);
        send(fd, body, len, MSG_NOSIGNAL);
        i++;
    }
    buf_free(&in);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int fake_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 8) ||
        getsockname(fd, (struct sockaddr *)&a, &al))
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static otlp_exporter_t *start_to(int port, size_t queue_len)
{
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    const otlp_config_t cfg = {.endpoint = url, .resource = res, .nqueues = 2,
                               .queue_len = queue_len, .timeout_ns = 2 * NS_PER_S};
    otlp_exporter_t *e = otlp_start(&cfg, err, sizeof err);
    if (!e)
        fprintf(stderr, "    %s\n", err);
    return e;
}

TEST(exporter_posts_protobuf_to_v1_traces_and_counts_the_spans_taken)
{
    fake_t f = {.answers = 100};
    int port;
    CHECK((f.listen_fd = fake_listen(&port)) >= 0);
    pthread_t th;
    pthread_create(&th, NULL, fake_main, &f);
    otlp_exporter_t *e = start_to(port, 2048);
    CHECK(e != NULL);
    if (!e)
        return;
    trace_span_t sp[2];
    two_spans(sp);
    for (int i = 0; i < 700; i++)
        CHECK(otlp_enqueue(otlp_queue(e, i % 2), &sp[i % 2]));
    otlp_stop(e, clock_now_ns() + 10 * NS_PER_S);
    shutdown(f.listen_fd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(f.listen_fd);
    CHECK_STR(f.target, "/v1/traces");
    CHECK_STR(f.content_type, "application/x-protobuf");
    CHECK_INT(f.spans, 700);
    CHECK_INT(otlp_spans_exported_total(), 700);
    CHECK_INT(otlp_spans_dropped_total(), 0);
}

TEST(exporter_counts_what_the_collector_rejects_as_dropped)
{
    fake_t f = {.answers = 1, .rejected = 3};
    int port;
    CHECK((f.listen_fd = fake_listen(&port)) >= 0);
    pthread_t th;
    pthread_create(&th, NULL, fake_main, &f);
    otlp_exporter_t *e = start_to(port, 2048);
    CHECK(e != NULL);
    if (!e)
        return;
    trace_span_t sp[2];
    two_spans(sp);
    for (int i = 0; i < 10; i++)
        otlp_enqueue(otlp_queue(e, 0), &sp[0]);
    otlp_stop(e, clock_now_ns() + 10 * NS_PER_S);
    pthread_join(th, NULL);
    close(f.listen_fd);
    CHECK_INT(f.spans, 10);
    CHECK_INT(otlp_spans_exported_total(), 7);
    CHECK_INT(otlp_spans_dropped_total(), 3);
}

/* Two tries of one batch, then a drop; no second try of what the collector refused for good. */
static void refused_with(int status, int want_requests)
{
    fake_t f = {.answers = 100, .status = status};
    int port;
    CHECK((f.listen_fd = fake_listen(&port)) >= 0);
    pthread_t th;
    pthread_create(&th, NULL, fake_main, &f);
    otlp_exporter_t *e = start_to(port, 2048);
    CHECK(e != NULL);
    if (!e)
        return;
    trace_span_t sp[2];
    two_spans(sp);
    for (int i = 0; i < 10; i++)
        otlp_enqueue(otlp_queue(e, 0), &sp[0]);
    otlp_stop(e, clock_now_ns() + 10 * NS_PER_S);
    shutdown(f.listen_fd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(f.listen_fd);
    CHECK_INT(f.requests, want_requests);
    CHECK_INT(otlp_spans_exported_total(), 0);
    CHECK_INT(otlp_spans_dropped_total(), 10);
}

TEST(exporter_tries_a_failed_export_once_more) { refused_with(503, 2); }
TEST(exporter_does_not_retry_what_the_collector_refuses_for_good) { refused_with(400, 1); }

TEST(exporter_with_no_collector_drops_and_counts_every_span)
{
    int port, fd = fake_listen(&port);
    close(fd); /* nothing listens there now: connections are refused */
    otlp_exporter_t *e = start_to(port, 4);
    CHECK(e != NULL);
    if (!e)
        return;
    trace_span_t sp[2];
    two_spans(sp);
    int queued = 0;
    for (int i = 0; i < 10; i++)
        queued += otlp_enqueue(otlp_queue(e, 1), &sp[0]);
    CHECK(queued >= 4 && queued < 10); /* a queue of 4 */
    int64_t t0 = clock_now_ns();
    otlp_stop(e, t0 + 10 * NS_PER_S);
    CHECK_INT(otlp_spans_exported_total(), 0);
    CHECK_INT(otlp_spans_dropped_total(), 10);
}

TEST(exporter_refuses_a_bad_endpoint)
{
    char err[256] = "";
    const otlp_config_t cfg = {.endpoint = "https://127.0.0.1:4318", .resource = res, .nqueues = 1};
    CHECK(otlp_start(&cfg, err, sizeof err) == NULL);
    CHECK(strstr(err, "--otlp-endpoint") != NULL);
}

T_MAIN(T(traceparent_of_the_specification_reads),
       T(traceparent_format_is_version_00_lowercase_and_reads_back),
       T(traceparent_of_a_future_version_is_read_as_00), T(invalid_traceparents_are_refused),
       T(ratio_sampler_compares_the_low_63_bits_with_ratio_times_2_63),
       T(ratio_sampler_takes_its_share_of_random_ids), T(new_ids_are_valid_and_differ),
       T(a_sampled_parent_is_followed_at_ratio_0), T(an_unsampled_parent_is_followed_at_ratio_1),
       T(an_invalid_traceparent_starts_a_new_root), T(a_child_shares_the_trace_and_names_its_parent),
       T(span_names_and_attributes_are_kept_and_cut_to_fit),
       T(otlp_encoding_decodes_back_field_by_field), T(otlp_root_span_has_no_parent_id),
       T(exporter_posts_protobuf_to_v1_traces_and_counts_the_spans_taken),
       T(exporter_counts_what_the_collector_rejects_as_dropped),
       T(exporter_tries_a_failed_export_once_more),
       T(exporter_does_not_retry_what_the_collector_refuses_for_good),
       T(exporter_with_no_collector_drops_and_counts_every_span),
       T(exporter_refuses_a_bad_endpoint))
