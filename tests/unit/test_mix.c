/* mix: request templates with random fields. Parsing rejects what it should with a message,
 * rendering lays a request out exactly as http_write_request does with the same numbers
 * written in, the numbers written are those reported and stay in their bounds, and picks
 * follow the weights. All counts come from fixed seeds: deterministic, not statistical luck.
 * The generator itself: test_rand.c. */
#include "t.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "http/http1.h"
#include "load/mix.h"

/* Parses a --mix spec from a writable copy (it is cut in place). */
static int spec(const char *s, mix_template_t *rq, char *err, size_t n)
{
    static char store[64][512];
    static int used;
    char *copy = store[used++ % 64];
    snprintf(copy, sizeof store[0], "%s", s);
    return mix_parse_spec(copy, rq, err, n);
}

static void spec_fails(const char *s, const char *want_in_message)
{
    mix_template_t rq;
    char err[512] = "";
    if (spec(s, &rq, err, sizeof err) == 0 || !strstr(err, want_in_message)) {
        fprintf(stderr, "    spec '%s': expected an error with '%s', got '%s'\n", s,
                want_in_message, err);
        t_failures++;
    }
}

TEST(spec_fields_and_body_with_blanks)
{
    mix_template_t rq;
    char err[512];
    CHECK_INT(spec("80 GET /accounts/{rand:1:10000}", &rq, err, sizeof err), 0);
    CHECK_INT(rq.weight, 80);
    CHECK_STR(rq.method, "GET");
    CHECK_STR(rq.target, "/accounts/{rand:1:10000}");
    CHECK(rq.body == NULL);
    CHECK_INT(spec("  20\tPOST  /orders   {\"a\": {rand:1:10000}, \"b\": 2} ", &rq, err,
                   sizeof err),
              0);
    CHECK_INT(rq.weight, 20);
    CHECK_STR(rq.method, "POST");
    CHECK_STR(rq.target, "/orders");
    CHECK_MEM(rq.body, rq.body_len, "{\"a\": {rand:1:10000}, \"b\": 2} ");
    CHECK_INT(spec("1 PUT /x   ", &rq, err, sizeof err), 0); /* blanks only: no body */
    CHECK(rq.body == NULL);
    /* JSON is never mistaken for a placeholder */
    CHECK_INT(spec("1 POST /x {\"rand\":{\"a\":1},\"b\":[{}]}", &rq, err, sizeof err), 0);
    CHECK_INT(spec("1 GET /x/{rand:-9223372036854775808:9223372036854775807}", &rq, err,
                   sizeof err), 0);
    CHECK_INT(spec("1000000 GET /{rand:7:7}?q={rand:+1:2}", &rq, err, sizeof err), 0);
}

TEST(spec_errors_say_what_is_wrong)
{
    spec_fails("", "WEIGHT METHOD TARGET");
    spec_fails("80 GET", "WEIGHT METHOD TARGET");
    spec_fails("0 GET /x", "weight 1..1000000, got '0'");
    spec_fails("1000001 GET /x", "weight");
    spec_fails("-1 GET /x", "weight");
    spec_fails("x GET /x", "weight");
    spec_fails("1 GET x", "target starting with '/'");
    spec_fails("1 GET /x/{rnd:1:2}", "unknown placeholder '{rnd:1:2}' in the target");
    spec_fails("1 POST /x {\"a\":{id}}", "unknown placeholder '{id}' in the body");
    spec_fails("1 GET /x/{rand}", "bad placeholder '{rand}'");
    spec_fails("1 GET /x/{rand:5:1}", "LO is above HI");
    spec_fails("1 GET /x/{rand:1:x}", "signed 64-bit integers");
    spec_fails("1 GET /x/{rand:1}", "signed 64-bit integers");
    spec_fails("1 GET /x/{rand::1}", "signed 64-bit integers");
    spec_fails("1 GET /x/{rand:1:2:3}", "signed 64-bit integers");
    spec_fails("1 GET /x/{rand:0:9223372036854775808}", "signed 64-bit integers");
    spec_fails("1 GET /x/{rand:-9223372036854775809:0}", "signed 64-bit integers");
    spec_fails("1 POST /x {rand:1:2", "unterminated placeholder");
    spec_fails("1 GET /{rand:1:2}/{rand:1:2}/{rand:1:2} {rand:1:2}{rand:1:2}{rand:1:2}"
               "{rand:1:2}{rand:1:2}{rand:1:2}",
               "9 placeholders in one request, at most 8");
}

TEST(mix_new_rejects_bad_mixes)
{
    char err[512] = "";
    mix_template_t rq[MIX_MAX_TEMPLATES + 1];
    for (int i = 0; i <= MIX_MAX_TEMPLATES; i++)
        rq[i] = (mix_template_t){.method = "GET", .target = "/", .weight = 1};
    CHECK(mix_new(rq, 0, "h", NULL, 0, err, sizeof err) == NULL);
    CHECK(mix_new(rq, MIX_MAX_TEMPLATES + 1, "h", NULL, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "1..16 templates") != NULL);
    mix_t *m = mix_new(rq, MIX_MAX_TEMPLATES, "h", NULL, 0, err, sizeof err);
    CHECK(m != NULL);
    mix_free(m);
    rq[3].weight = 0;
    CHECK(mix_new(rq, 4, "h", NULL, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "request 4") && strstr(err, "weight"));
    rq[3].weight = 1;
    rq[2].target = "/a b";
    CHECK(mix_new(rq, 4, "h", NULL, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "request 3") != NULL);
}

/* s with its {rand:…} placeholders replaced by values[*k…], in order. */
static void substitute(buf_t *out, const char *s, size_t n, const int64_t *values, int *k)
{
    for (size_t i = 0; i < n;) {
        if (n - i >= 6 && memcmp(s + i, "{rand:", 6) == 0) {
            const char *end = memchr(s + i, '}', n - i);
            buf_printf(out, "%lld", (long long)values[(*k)++]);
            i = (size_t)(end - s) + 1;
        } else {
            buf_append(out, s + i, 1);
            i++;
        }
    }
}

/* Renders template 0 of a one-template mix many times and compares each request with what
 * http_write_request makes of the same template with the same numbers written in. */
static void render_matches_serializer(const mix_template_t *rq, const char *const *headers,
                                      size_t nheaders, int rounds)
{
    char err[512];
    mix_t *m = mix_new(rq, 1, "example.org:8080", headers, nheaders, err, sizeof err);
    if (!m) {
        fprintf(stderr, "    mix_new: %s\n", err);
        t_failures++;
        return;
    }
    size_t cap = mix_render_max(m);
    char *buf = malloc(cap ? cap : 1); /* exactly the promised size: ASan sees any overrun */
    rng_t r;
    rng_seed(&r, 7, 0);
    for (int round = 0; round < rounds; round++) {
        mix_sent_t sent;
        const char *req;
        size_t len = mix_render(m, 0, &r, buf, &req, &sent);
        CHECK_INT(sent.index, 0);
        buf_t target = BUF_INIT, body = BUF_INIT, want = BUF_INIT;
        int k = 0;
        substitute(&target, rq->target, strlen(rq->target), sent.values, &k);
        buf_append(&target, "", 1); /* NUL for http_write_request */
        if (rq->body)
            substitute(&body, rq->body, rq->body_len, sent.values, &k);
        CHECK_INT(k, sent.nvalues);
        http_write_request(&want, rq->method, "example.org:8080", buf_start(&target), headers,
                           nheaders, rq->body ? buf_start(&body) : NULL, buf_size(&body));
        if (len != buf_size(&want) || memcmp(req, buf_start(&want), len) != 0) {
            fprintf(stderr, "    rendered:\n%.*s\n    expected:\n%.*s\n", (int)len, req,
                    (int)buf_size(&want), buf_start(&want));
            t_failures++;
            round = rounds;
        }
        buf_free(&target);
        buf_free(&body);
        buf_free(&want);
    }
    free(buf);
    mix_free(m);
}

TEST(rendered_request_is_laid_out_as_the_serializer_lays_it_out)
{
    static const char *const hdr[] = {"Content-Type: application/json", "X-Trace: 1"};
    static const char *const host[] = {"Host: other.example"};
    const char *b1 = "{\"account_id\":{rand:1:10000},\"amount\":{rand:-100:100}}";
    mix_template_t t_only = {"GET", "/accounts/{rand:1:10000}?x={rand:0:9}", NULL, 0, 1};
    mix_template_t b_only = {"POST", "/orders", b1, strlen(b1), 1};
    mix_template_t both = {"PUT", "/a/{rand:1:3}", b1, strlen(b1), 1};
    mix_template_t get_body = {"GET", "/q", "{rand:1:1000000}", 16, 1};
    mix_template_t static_body = {"PATCH", "/p/{rand:5:6}", "{\"x\":1}", 7, 1};
    const char *extreme = "{rand:-9223372036854775808:-9223372036854775807}";
    mix_template_t only_ph = {"POST", "/{rand:1:2}", extreme, strlen(extreme), 1};
    mix_template_t empty_post = {"POST", "/e/{rand:1:2}", NULL, 0, 1};
    const mix_template_t *all[] = {&t_only, &b_only, &both, &get_body, &static_body, &only_ph,
                                   &empty_post};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        render_matches_serializer(all[i], NULL, 0, 200);
        render_matches_serializer(all[i], hdr, 2, 200);
        render_matches_serializer(all[i], host, 1, 50);
    }
}

TEST(template_without_placeholders_is_the_serialized_request)
{
    static const char *const hdr[] = {"Content-Type: application/json"};
    mix_template_t rq[2] = {{"HEAD", "/health", NULL, 0, 1}, {"POST", "/echo", "{\"a\":1}", 7, 3}};
    char err[512];
    mix_t *m = mix_new(rq, 2, "h:1", hdr, 1, err, sizeof err);
    CHECK(m != NULL);
    CHECK_INT(mix_render_max(m), 0); /* nothing to render: no buffer needed */
    CHECK(mix_is_head(m, 0));
    CHECK(!mix_is_head(m, 1));
    rng_t r;
    rng_seed(&r, 1, 0);
    mix_sent_t sent;
    const char *a, *b;
    size_t na = mix_render(m, 1, &r, NULL, &a, &sent);
    size_t nb = mix_render(m, 1, &r, NULL, &b, &sent);
    CHECK(a == b && na == nb); /* the same bytes each time: no per-request work */
    CHECK_INT(sent.index, 1);
    CHECK_INT(sent.nvalues, 0);
    buf_t want = BUF_INIT;
    http_write_request(&want, "POST", "h:1", "/echo", hdr, 1, "{\"a\":1}", 7);
    CHECK(na == buf_size(&want) && memcmp(a, buf_start(&want), na) == 0);
    buf_free(&want);
    mix_free(m);
}

TEST(rendered_values_are_the_values_reported_and_in_bounds)
{
    const char *body = "{\"n\":{rand:1:5},\"m\":{rand:-2:2}}";
    mix_template_t rq = {"POST", "/x/{rand:10:12}", body, strlen(body), 1};
    char err[512];
    mix_t *m = mix_new(&rq, 1, "h", NULL, 0, err, sizeof err);
    char *buf = malloc(mix_render_max(m));
    rng_t r;
    rng_seed(&r, 99, 0);
    int seen[3][13] = {{0}};
    for (int i = 0; i < 20000; i++) {
        mix_sent_t sent;
        const char *req;
        size_t len = mix_render(m, 0, &r, buf, &req, &sent);
        CHECK_INT(sent.nvalues, 3);
        int64_t t = sent.values[0], n = sent.values[1], mm = sent.values[2];
        if (t < 10 || t > 12 || n < 1 || n > 5 || mm < -2 || mm > 2) {
            fprintf(stderr, "    out of bounds: %lld %lld %lld\n", (long long)t, (long long)n,
                    (long long)mm);
            t_failures++;
            break;
        }
        seen[0][t]++;
        seen[1][n]++;
        seen[2][mm + 2]++;
        char want[128];
        int wn = snprintf(want, sizeof want, "POST /x/%lld HTTP/1.1\r\n", (long long)t);
        CHECK(len > (size_t)wn && memcmp(req, want, (size_t)wn) == 0);
        wn = snprintf(want, sizeof want, "\r\n\r\n{\"n\":%lld,\"m\":%lld}", (long long)n,
                      (long long)mm);
        CHECK(len > (size_t)wn && memcmp(req + len - wn, want, (size_t)wn) == 0);
    }
    for (int v = 10; v <= 12; v++)
        CHECK(seen[0][v] > 0);
    for (int v = 1; v <= 5; v++)
        CHECK(seen[1][v] > 0);
    for (int v = 0; v <= 4; v++)
        CHECK(seen[2][v] > 0);
    free(buf);
    mix_free(m);
}

static void picks_follow_weights(const unsigned *weights, int n, uint64_t seed)
{
    mix_template_t rq[MIX_MAX_TEMPLATES];
    unsigned total = 0;
    for (int i = 0; i < n; i++) {
        rq[i] = (mix_template_t){.method = "GET", .target = "/", .weight = weights[i]};
        total += weights[i];
    }
    char err[512];
    mix_t *m = mix_new(rq, (size_t)n, "h", NULL, 0, err, sizeof err);
    rng_t r;
    rng_seed(&r, seed, 0);
    int count[MIX_MAX_TEMPLATES] = {0};
    const int picks = 100000;
    for (int i = 0; i < picks; i++)
        count[mix_pick(m, &r)]++;
    for (int i = 0; i < n; i++) {
        double p = (double)weights[i] / total, want = picks * p;
        /* within 5 standard deviations (+1 for the tiny shares): with a fixed seed this either
         * always passes or always fails, and a bias of a fraction of a percent fails */
        double tol = 5 * sqrt(picks * p * (1 - p)) + 1;
        if (count[i] < want - tol || count[i] > want + tol) {
            fprintf(stderr, "    weight %u/%u: %d picks, expected ~%.0f\n", weights[i], total,
                    count[i], want);
            t_failures++;
        }
    }
    mix_free(m);
}

TEST(picks_follow_the_weights)
{
    static const unsigned a[] = {80, 20}, b[] = {1, 2, 3, 4}, c[] = {1, 1000000},
                          d[] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    picks_follow_weights(a, 2, 1);
    picks_follow_weights(a, 2, 2);
    picks_follow_weights(b, 4, 3);
    picks_follow_weights(c, 2, 4);
    picks_follow_weights(d, 16, 5);
}

T_MAIN(T(spec_fields_and_body_with_blanks), T(spec_errors_say_what_is_wrong),
       T(mix_new_rejects_bad_mixes), T(rendered_request_is_laid_out_as_the_serializer_lays_it_out),
       T(template_without_placeholders_is_the_serialized_request),
       T(rendered_values_are_the_values_reported_and_in_bounds), T(picks_follow_the_weights))
