#include "verify/contract.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/embed.h"
#include "core/opt.h"
#include "http/h2client.h"
#include "verify/message.h"
#include "health.pb-c.h"
#include "http/grpc.h"
#include "ticks.pb-c.h"

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Why a line was refused, for "NAME: line N: why". */
typedef struct {
    char why[256];
} why_t;

/* "a bad escape '\x4' in send": the escape at e, of which left bytes are in the text. */
static int bad_escape(const char *e, size_t left, const char *what, why_t *w)
{
    snprintf(w->why, sizeof w->why, "a bad escape '%.*s' in %s", (int)(left < 4 ? left : 4), e,
             what);
    return -1;
}

/* C escapes of s[0..n) into out. -1 on a bad escape, said in w (what: the directive). */
static int unescape(const char *s, size_t n, buf_t *out, const char *what, why_t *w)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\') {
            buf_append(out, &c, 1);
            continue;
        }
        size_t at = i;
        if (++i >= n)
            return bad_escape(s + at, n - at, what, w);
        switch (s[i]) {
        case 'r': c = '\r'; break;
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case '0': c = 0; break;
        case '\\': c = '\\'; break;
        case 'x': {
            if (i + 2 >= n)
                return bad_escape(s + at, n - at, what, w);
            int h = hexv(s[i + 1]), l = hexv(s[i + 2]);
            if (h < 0 || l < 0)
                return bad_escape(s + at, n - at, what, w);
            c = (char)(h * 16 + l);
            i += 2;
            break;
        }
        default:
            return bad_escape(s + at, n - at, what, w);
        }
        buf_append(out, &c, 1);
    }
    return 0;
}

#define REPEAT_MAX (64L << 20)

/* {repeat:N:TEXT} expansion, then unescaping. Reads s[0..n) only: a case's text is not
 * NUL-terminated. */
static int expand(const char *s, size_t n, buf_t *out, const char *what, why_t *w)
{
    size_t i = 0;
    const char *end = s + n;
    while (i < n) {
        const char *r = memmem(s + i, n - i, "{repeat:", 8);
        size_t upto = r ? (size_t)(r - s) : n;
        if (unescape(s + i, upto - i, out, what, w))
            return -1;
        if (!r)
            break;
        const char *p = r + 8;
        long count = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if ((count = count * 10 + (*p - '0')) > REPEAT_MAX) {
                snprintf(w->why, sizeof w->why, "a bad {repeat:N:TEXT} in %s: N is at most %ld",
                         what, REPEAT_MAX);
                return -1;
            }
        if (p == r + 8 || p == end || *p != ':') {
            snprintf(w->why, sizeof w->why,
                     "a bad {repeat:N:TEXT} in %s: N must be digits followed by ':'", what);
            return -1;
        }
        const char *text = p + 1;
        const char *close = memchr(text, '}', (size_t)(end - text));
        if (!close) {
            snprintf(w->why, sizeof w->why, "a bad {repeat:N:TEXT} in %s: no '}' after TEXT", what);
            return -1;
        }
        buf_t one = BUF_INIT;
        if (unescape(text, (size_t)(close - text), &one, what, w)) {
            buf_free(&one);
            return -1;
        }
        for (long k = 0; k < count; k++)
            buf_append(out, buf_start(&one), buf_size(&one));
        buf_free(&one);
        i = (size_t)(close + 1 - s);
    }
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* A send line: expand, then replace {len} by the length of what follows "\r\n\r\n". */
static int send_bytes(const char *v, size_t n, contract_step_t *st, why_t *w)
{
    buf_t b = BUF_INIT, mid = BUF_INIT, body = BUF_INIT;
    int rc = -1;
    const char *tok = memmem(v, n, "{len}", 5);
    if (!tok) {
        if (expand(v, n, &b, "send", w))
            goto out;
    } else {
        const char *sep = memmem(tok, (size_t)(v + n - tok), "\\r\\n\\r\\n", 8);
        if (!sep) {
            snprintf(w->why, sizeof w->why, "{len} in send without an empty line (\\r\\n\\r\\n) "
                                            "after it");
            goto out;
        }
        if (expand(v, (size_t)(tok - v), &b, "send", w) ||
            expand(tok + 5, (size_t)(sep + 8 - tok - 5), &mid, "send", w) ||
            expand(sep + 8, (size_t)(v + n - sep - 8), &body, "send", w))
            goto out;
        buf_printf(&b, "%zu", buf_size(&body));
        buf_append(&b, buf_start(&mid), buf_size(&mid));
        buf_append(&b, buf_start(&body), buf_size(&body));
    }
    st->len = buf_size(&b);
    st->data = dupn(st->len ? buf_start(&b) : "", st->len);
    rc = 0;
out:
    buf_free(&b);
    buf_free(&mid);
    buf_free(&body);
    return rc;
}

/* expect's value: "none" (0) or a status 100..599, three digits. */
static int parse_status(const char *v, size_t n, int *status, why_t *w)
{
    if (n == 4 && memcmp(v, "none", 4) == 0) {
        *status = 0;
        return 0;
    }
    int st = 0;
    size_t i = 0;
    for (; i < n && i < 3 && v[i] >= '0' && v[i] <= '9'; i++)
        st = st * 10 + (v[i] - '0');
    if (n != 3 || i != 3 || st < 100 || st > 599) {
        snprintf(w->why, sizeof w->why, "expect: a status 100..599 or none, got '%.*s'",
                 (int)(n < 40 ? n : 40), v);
        return -1;
    }
    *status = st;
    return 0;
}

/* ---- calls (HTTP/2, gRPC) ---- */

/* The services of contracts/grpc/: what a call's PATH and a message's named type resolve to. */
static const ProtobufCServiceDescriptor *const services[] = {
    &stackbench__v1__ticks__descriptor,
    &grpc__health__v1__health__descriptor,
};
#define NSERVICES (sizeof services / sizeof services[0])

/* The request type of the method "/SERVICE/METHOD" names, or NULL. */
static const ProtobufCMessageDescriptor *method_input(const char *path)
{
    const char *slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
    if (!slash)
        return NULL;
    size_t sn = (size_t)(slash - path - 1);
    for (size_t i = 0; i < NSERVICES; i++) {
        if (strlen(services[i]->name) != sn || memcmp(services[i]->name, path + 1, sn) != 0)
            continue;
        const ProtobufCMethodDescriptor *m =
            protobuf_c_service_descriptor_get_method_by_name(services[i], slash + 1);
        return m ? m->input : NULL;
    }
    return NULL;
}

/* A message type of the services by its full name ("stackbench.v1.QuoteRequest"), or NULL. */
static const ProtobufCMessageDescriptor *type_named(const char *name, size_t n)
{
    for (size_t i = 0; i < NSERVICES; i++)
        for (unsigned k = 0; k < services[i]->n_methods; k++) {
            const ProtobufCMethodDescriptor *m = &services[i]->methods[k];
            const ProtobufCMessageDescriptor *t[2] = {m->input, m->output};
            for (int j = 0; j < 2; j++)
                if (strlen(t[j]->name) == n && memcmp(t[j]->name, name, n) == 0)
                    return t[j];
        }
    return NULL;
}

/* call's value: "[METHOD ]PATH", PATH starting with '/'. */
static int parse_call(const char *v, size_t n, contract_step_t *st, why_t *w)
{
    const char *sp = memchr(v, ' ', n);
    const char *path = sp ? sp + 1 : v;
    size_t pn = (size_t)(v + n - path);
    if ((sp && sp == v) || pn == 0 || path[0] != '/' || memchr(path, ' ', pn)) {
        snprintf(w->why, sizeof w->why, "call: expected '[METHOD] /PATH', got '%.*s'",
                 (int)(n < 40 ? n : 40), v);
        return -1;
    }
    st->method = sp ? dupn(v, (size_t)(sp - v)) : strdup("POST");
    st->path = dupn(path, pn);
    st->request_type = method_input(st->path);
    st->cancel_after = -1;
    return 0;
}

static void add_frame(contract_step_t *call, buf_t *b)
{
    call->frames = realloc(call->frames, (size_t)(call->nframes + 1) * sizeof *call->frames);
    contract_bytes_t *f = &call->frames[call->nframes++];
    f->len = buf_size(b);
    f->data = dupn(buf_start(b), f->len);
}

/* message's value: [TYPE ]JSON (a type's name starts with a letter, the JSON object with '{'),
 * packed behind its prefix into a frame of call. */
static int parse_message(const char *v, size_t n, contract_step_t *call, why_t *w)
{
    const ProtobufCMessageDescriptor *d = call->request_type;
    const char *json = v;
    if (n > 0 && ((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z'))) {
        const char *sp = memchr(v, ' ', n);
        size_t tn = sp ? (size_t)(sp - v) : n;
        if (!(d = type_named(v, tn))) {
            snprintf(w->why, sizeof w->why, "message: no message type '%.*s' in contracts/grpc/",
                     (int)(tn < 60 ? tn : 60), v);
            return -1;
        }
        json = sp ? sp + 1 : v + n;
    } else if (!d) {
        snprintf(w->why, sizeof w->why,
                 "message: %s is no method of contracts/grpc/: name the message's type first "
                 "(message: stackbench.v1.QuoteRequest {...})",
                 call->path);
        return -1;
    }
    buf_t b = BUF_INIT;
    char err[200];
    buf_reserve(&b, GRPC_PREFIX);
    buf_commit(&b, GRPC_PREFIX);
    if (message_from_json(d, json, (size_t)(v + n - json), &b, err, sizeof err)) {
        snprintf(w->why, sizeof w->why, "message: %s", err);
        buf_free(&b);
        return -1;
    }
    grpc_prefix_write((uint8_t *)buf_start(&b), (uint32_t)(buf_size(&b) - GRPC_PREFIX));
    add_frame(call, &b);
    buf_free(&b);
    return 0;
}

/* A count: digits only, at most max. */
static int parse_count(const char *v, size_t n, const char *what, long long max, long long *out,
                       why_t *w)
{
    long long x = 0;
    size_t i = 0;
    int over = 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9' && !over; i++) {
        int d = v[i] - '0';
        if (x > (max - d) / 10)
            over = 1;
        else
            x = x * 10 + d;
    }
    if (n == 0 || i != n || over) {
        snprintf(w->why, sizeof w->why, "%s: a number 0..%lld, got '%.*s'", what, max,
                 (int)(n < 40 ? n : 40), v);
        return -1;
    }
    *out = x;
    return 0;
}

/* grpc-status's value: a code 0..16 or its name (INVALID_ARGUMENT). */
static int parse_grpc_status(const char *v, size_t n, int *code, why_t *w)
{
    char name[32];
    long long x;
    snprintf(name, sizeof name, "%.*s", (int)n, v);
    if (n < sizeof name && (x = grpc_code_parse(name)) >= 0) {
        *code = (int)x;
        return 0;
    }
    why_t ignored;
    if (parse_count(v, n, "grpc-status", GRPC_NCODES - 1, &x, &ignored) == 0) {
        *code = (int)x;
        return 0;
    }
    snprintf(w->why, sizeof w->why, "grpc-status: a code 0..16 or its name, got '%.*s'",
             (int)(n < 40 ? n : 40), v);
    return -1;
}

/* "yes" or "no". */
static int parse_yes_no(const char *v, size_t n, const char *what, bool *out, why_t *w)
{
    if (n == 3 && memcmp(v, "yes", 3) == 0)
        *out = true;
    else if (n == 2 && memcmp(v, "no", 2) == 0)
        *out = false;
    else {
        snprintf(w->why, sizeof w->why, "%s: yes or no, got '%.*s'", what,
                 (int)(n < 40 ? n : 40), v);
        return -1;
    }
    return 0;
}

/* "Name: value" into name and value (blanks after the colon dropped). */
static int parse_field(const char *v, size_t n, const char *what, char **name, char **value,
                       why_t *w)
{
    const char *hc = memchr(v, ':', n);
    if (!hc || hc == v) {
        snprintf(w->why, sizeof w->why, "%s: expected 'Name: value', got '%.*s'", what,
                 (int)(n < 40 ? n : 40), v);
        return -1;
    }
    const char *hv = hc + 1;
    while (hv < v + n && *hv == ' ')
        hv++;
    *name = dupn(v, (size_t)(hc - v));
    *value = dupn(hv, (size_t)(v + n - hv));
    return 0;
}

static contract_step_t *add_step(contract_case_t *c, contract_step_kind_t kind)
{
    c->steps = realloc(c->steps, (size_t)(c->nsteps + 1) * sizeof *c->steps);
    contract_step_t *st = &c->steps[c->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->grpc_status = st->health = st->or_reset = -1;
    st->messages = -1;
    return st;
}

int contract_parse_case(const char *name, const char *text, size_t len, contract_case_t *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->name = strdup(name);
    contract_step_t *expect = NULL;
    /* Steps are indices: add_step moves them. call: the call whose request lines may follow;
     * of: the call the expect is of (-1: an HTTP/1.1 answer's). */
    int call = -1, of = -1;
    bool http1 = false;
    const char *p = text, *end = text + len;
    int lineno = 0;
    why_t w = {""};
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        size_t n = (size_t)(le - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (n == 0)
            continue;
        if (line[0] == '#') {
            if (!out->comment) {
                const char *c = line + 1;
                while (c < le && *c == ' ')
                    c++;
                out->comment = dupn(c, (size_t)(le - c));
            }
            continue;
        }
        const char *colon = memchr(line, ':', n);
        if (!colon) {
            snprintf(w.why, sizeof w.why, "expected 'directive: value', got '%.*s'",
                     (int)(n < 40 ? n : 40), line);
            goto bad;
        }
        size_t kn = (size_t)(colon - line);
        const char *v = colon + 1;
        if (v < le && *v == ' ')
            v++;
        size_t vn = (size_t)(le - v);
#define KEY(k) (kn == strlen(k) && memcmp(line, k, kn) == 0)
        bool grpc_check = KEY("grpc-status") || KEY("grpc-message") || KEY("messages") ||
                          KEY("ticks") || KEY("health") || KEY("or-reset");
        bool check = KEY("header") || KEY("body") || KEY("body-has") || KEY("head-only") ||
                     grpc_check;
        bool request = KEY("request-header") || KEY("message") || KEY("data") ||
                       KEY("end-stream") || KEY("cancel-after");
        if (check && !expect) {
            snprintf(w.why, sizeof w.why, "%.*s: no expect before it", (int)kn, line);
            goto bad;
        }
        if (grpc_check && of < 0) {
            snprintf(w.why, sizeof w.why, "%.*s: only for the expect of a call", (int)kn, line);
            goto bad;
        }
        if (request && call < 0) {
            snprintf(w.why, sizeof w.why, "%.*s: no call before it", (int)kn, line);
            goto bad;
        }
        if ((KEY("send") || KEY("shutdown") || KEY("closed")) && out->calls) {
            snprintf(w.why, sizeof w.why, "%.*s: not in a case of calls (HTTP/2)", (int)kn, line);
            goto bad;
        }
        contract_step_t *cs = call >= 0 ? &out->steps[call] : NULL;
        if (KEY("send")) {
            if (send_bytes(v, vn, add_step(out, STEP_SEND), &w))
                goto bad;
            http1 = true;
            expect = NULL;
        } else if (KEY("pause")) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "%.*s", (int)vn, v);
            if (vn >= sizeof tmp ||
                opt_parse_duration_ns(tmp, &add_step(out, STEP_PAUSE)->pause_ns)) {
                snprintf(w.why, sizeof w.why, "pause: a duration like 50ms, got '%.*s'",
                         (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
            expect = NULL;
            call = -1;
        } else if (KEY("shutdown")) {
            if (!(vn == 5 && memcmp(v, "write", 5) == 0)) {
                snprintf(w.why, sizeof w.why, "shutdown: only 'write', got '%.*s'",
                         (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
            add_step(out, STEP_SHUTDOWN);
            http1 = true;
            expect = NULL;
        } else if (KEY("closed")) {
            if (!(vn == 3 && memcmp(v, "yes", 3) == 0)) {
                snprintf(w.why, sizeof w.why, "closed: only 'yes', got '%.*s'",
                         (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
            add_step(out, STEP_CLOSED);
            http1 = true;
            expect = NULL;
        } else if (KEY("call")) {
            if (http1) {
                snprintf(w.why, sizeof w.why, "call: not in a case of HTTP/1.1 steps");
                goto bad;
            }
            out->calls = true;
            if (parse_call(v, vn, add_step(out, STEP_CALL), &w))
                goto bad;
            call = out->nsteps - 1;
            expect = NULL;
        } else if (KEY("expect")) {
            of = call;
            if (of < 0 && out->calls) {
                snprintf(w.why, sizeof w.why, "expect: in a case of calls, each follows its call");
                goto bad;
            }
            http1 |= of < 0;
            call = -1;
            expect = add_step(out, STEP_EXPECT);
            if (parse_status(v, vn, &expect->status, &w))
                goto bad;
            if (of >= 0 && expect->status == 0) {
                snprintf(w.why, sizeof w.why, "expect: a call's answer has a status, not none");
                goto bad;
            }
        } else if (KEY("header")) {
            if (expect->nheaders == CONTRACT_MAX_CHECKS) {
                snprintf(w.why, sizeof w.why, "header: at most %d per expect",
                         CONTRACT_MAX_CHECKS);
                goto bad;
            }
            if (parse_field(v, vn, "header", &expect->header_name[expect->nheaders],
                            &expect->header_value[expect->nheaders], &w))
                goto bad;
            expect->nheaders++;
        } else if (KEY("body")) {
            if (expect->has_body) {
                snprintf(w.why, sizeof w.why, "body: a second one for the same expect");
                goto bad;
            }
            buf_t b = BUF_INIT;
            if (expand(v, vn, &b, "body", &w)) {
                buf_free(&b);
                goto bad;
            }
            expect->has_body = true;
            expect->body_len = buf_size(&b);
            expect->body = dupn(buf_start(&b) ? buf_start(&b) : "", expect->body_len);
            buf_free(&b);
        } else if (KEY("body-has")) {
            if (expect->nbody_has == CONTRACT_MAX_CHECKS) {
                snprintf(w.why, sizeof w.why, "body-has: at most %d per expect",
                         CONTRACT_MAX_CHECKS);
                goto bad;
            }
            buf_t b = BUF_INIT;
            if (expand(v, vn, &b, "body-has", &w)) {
                buf_free(&b);
                goto bad;
            }
            expect->body_has[expect->nbody_has++] =
                dupn(buf_start(&b) ? buf_start(&b) : "", buf_size(&b));
            buf_free(&b);
        } else if (KEY("head-only")) {
            if (of >= 0) {
                snprintf(w.why, sizeof w.why, "head-only: not for a call");
                goto bad;
            }
            if (!(vn == 3 && memcmp(v, "yes", 3) == 0)) {
                snprintf(w.why, sizeof w.why, "head-only: only 'yes', got '%.*s'",
                         (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
            expect->head_only = true;
        } else if (KEY("request-header")) {
            if (cs->nreq_headers == CONTRACT_MAX_CHECKS) {
                snprintf(w.why, sizeof w.why, "request-header: at most %d per call",
                         CONTRACT_MAX_CHECKS);
                goto bad;
            }
            if (parse_field(v, vn, "request-header", &cs->req_header_name[cs->nreq_headers],
                            &cs->req_header_value[cs->nreq_headers], &w))
                goto bad;
            cs->nreq_headers++;
        } else if (KEY("message")) {
            if (parse_message(v, vn, cs, &w))
                goto bad;
        } else if (KEY("data")) {
            buf_t b = BUF_INIT;
            if (expand(v, vn, &b, "data", &w)) {
                buf_free(&b);
                goto bad;
            }
            add_frame(cs, &b);
            buf_free(&b);
        } else if (KEY("end-stream")) {
            bool yes;
            if (parse_yes_no(v, vn, "end-stream", &yes, &w))
                goto bad;
            cs->keep_open = !yes;
        } else if (KEY("cancel-after")) {
            long long x;
            if (parse_count(v, vn, "cancel-after", INT64_MAX / 2, &x, &w))
                goto bad;
            cs->cancel_after = x;
        } else if (KEY("grpc-status")) {
            if (parse_grpc_status(v, vn, &expect->grpc_status, &w))
                goto bad;
        } else if (KEY("or-reset")) {
            expect->or_reset = -1;
            for (uint32_t code = 0; code <= 13 && expect->or_reset < 0; code++)
                if (strlen(h2client_error_name(code)) == vn &&
                    memcmp(h2client_error_name(code), v, vn) == 0)
                    expect->or_reset = (int)code;
            if (expect->or_reset < 0) {
                snprintf(w.why, sizeof w.why, "or-reset: an HTTP/2 error code like CANCEL, got "
                         "'%.*s'", (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
        } else if (KEY("grpc-message")) {
            buf_t b = BUF_INIT;
            if (expand(v, vn, &b, "grpc-message", &w)) {
                buf_free(&b);
                goto bad;
            }
            free(expect->grpc_message);
            expect->grpc_message = dupn(buf_start(&b), buf_size(&b));
            buf_free(&b);
        } else if (KEY("messages")) {
            long long x;
            if (parse_count(v, vn, "messages", 100000000, &x, &w))
                goto bad;
            expect->messages = (long)x;
        } else if (KEY("ticks")) {
            const ProtobufCMessageDescriptor *t = out->steps[of].request_type;
            if (!(vn == 3 && memcmp(v, "yes", 3) == 0)) {
                snprintf(w.why, sizeof w.why, "ticks: only 'yes', got '%.*s'",
                         (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
            if (t != &stackbench__v1__stream_request__descriptor &&
                t != &stackbench__v1__quote_request__descriptor) {
                snprintf(w.why, sizeof w.why,
                         "ticks: only for a call of /stackbench.v1.Ticks/Stream or Quote");
                goto bad;
            }
            expect->ticks = true;
        } else if (KEY("health")) {
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%.*s", (int)vn, v);
            const ProtobufCEnumDescriptor *e =
                &grpc__health__v1__health_check_response__serving_status__descriptor;
            const ProtobufCEnumValue *ev =
                vn < sizeof tmp ? protobuf_c_enum_descriptor_get_value_by_name(e, tmp) : NULL;
            if (!ev) {
                snprintf(w.why, sizeof w.why,
                         "health: SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN, got '%.*s'",
                         (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
            expect->health = ev->value;
        } else if (KEY("differs")) {
            /* "differs: LANG why": an implementation known to answer otherwise */
            const char *sp = memchr(v, ' ', vn);
            if (!sp || sp == v || sp + 1 == le) {
                snprintf(w.why, sizeof w.why, "differs: expected 'LANG why', got '%.*s'",
                         (int)(vn < 40 ? vn : 40), v);
                goto bad;
            }
            if (out->ndiffers == CONTRACT_MAX_CHECKS) {
                snprintf(w.why, sizeof w.why, "differs: at most %d", CONTRACT_MAX_CHECKS);
                goto bad;
            }
            out->differs_lang[out->ndiffers] = dupn(v, (size_t)(sp - v));
            out->differs_why[out->ndiffers++] = dupn(sp + 1, (size_t)(le - sp - 1));
        } else {
            snprintf(w.why, sizeof w.why, "unknown directive '%.*s'", (int)(kn < 40 ? kn : 40),
                     line);
            goto bad;
        }
        if (!check && !request && !KEY("expect") && !KEY("differs"))
            of = -1; /* another step: what follows checks no call's answer */
#undef KEY
    }
    if (out->nsteps == 0) {
        snprintf(err, errlen, "%s: no steps", name);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "%s: line %d: %s", name, lineno, w.why);
    return -1;
}

static void case_free(contract_case_t *c)
{
    for (int i = 0; i < c->nsteps; i++) {
        contract_step_t *s = &c->steps[i];
        free(s->data);
        free(s->body);
        for (int k = 0; k < s->nheaders; k++) {
            free(s->header_name[k]);
            free(s->header_value[k]);
        }
        for (int k = 0; k < s->nbody_has; k++)
            free(s->body_has[k]);
        free(s->method);
        free(s->path);
        for (int k = 0; k < s->nreq_headers; k++) {
            free(s->req_header_name[k]);
            free(s->req_header_value[k]);
        }
        for (int k = 0; k < s->nframes; k++)
            free(s->frames[k].data);
        free(s->frames);
        free(s->grpc_message);
    }
    for (int k = 0; k < c->ndiffers; k++) {
        free(c->differs_lang[k]);
        free(c->differs_why[k]);
    }
    free(c->steps);
    free(c->name);
    free(c->comment);
}

const char *contract_differs(const contract_case_t *c, const char *lang)
{
    for (int k = 0; lang && k < c->ndiffers; k++)
        if (strcmp(c->differs_lang[k], lang) == 0)
            return c->differs_why[k];
    return NULL;
}

void contract_free(contract_t *c)
{
    for (int i = 0; i < c->ncases; i++)
        case_free(&c->cases[i]);
    free(c->cases);
    c->cases = NULL;
    c->ncases = 0;
}

static int add_case(contract_t *out, const char *name, const char *text, size_t len, char *err,
                    size_t errlen)
{
    out->cases = realloc(out->cases, (size_t)(out->ncases + 1) * sizeof *out->cases);
    if (contract_parse_case(name, text, len, &out->cases[out->ncases], err, errlen)) {
        case_free(&out->cases[out->ncases]);
        return -1;
    }
    out->ncases++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int contract_load_dir(const char *dir, contract_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open '%s': %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".case") == 0) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    if (n) /* qsort's array must not be NULL, even for no elements */
        qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        buf_t b = BUF_INIT;
        char chunk[65536];
        size_t r;
        while (f && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
            buf_append(&b, chunk, r);
        if (f)
            fclose(f);
        names[i][strlen(names[i]) - 5] = 0;
        if (rc == 0 && add_case(out, names[i], buf_start(&b) ? buf_start(&b) : "", buf_size(&b),
                                err, errlen))
            rc = -1;
        buf_free(&b);
        free(names[i]);
    }
    free(names);
    if (rc == 0 && out->ncases == 0) {
        snprintf(err, errlen, "no .case files in '%s'", dir);
        rc = -1;
    }
    if (rc)
        contract_free(out);
    return rc;
}

int contract_load_builtin(const char *workload, contract_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < embed_nfiles; i++) {
        const embed_file_t *f = &embed_files[i];
        size_t n = strlen(f->name);
        if (strcmp(f->dir, workload) != 0 || n < 6 || strcmp(f->name + n - 5, ".case") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), f->name);
        if (add_case(out, name, f->text, f->len, err, errlen)) {
            contract_free(out);
            return -1;
        }
    }
    if (out->ncases == 0) {
        snprintf(err, errlen, "no contract for workload '%s'", workload);
        return -1;
    }
    return 0;
}
