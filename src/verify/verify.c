#include "verify/verify.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/net.h"
#include "http/client.h"
#include "http/http1.h"
#include "http/url.h"
#include "verify/internal.h"

void verify_preview(char *out, size_t n, const char *p, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 5 < n && i < 60; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
    }
    if (len > 60 && k + 4 < n)
        k += (size_t)snprintf(out + k, n - k, "...");
    out[k] = 0;
}

static int check_expect(http_client_t *v, int64_t timeout_ns, const contract_step_t *st, int nth,
                        char *why, size_t n)
{
    http_msg_t m;
    http_frame_t f;
    buf_t body = BUF_INIT;
    char pv[256];
    int rc = -1;
    for (;;) {
        int got = http_client_answer(v, st->head_only, timeout_ns, &m, &f);
        ssize_t len = got > 0 ? (ssize_t)f.total : got < 0 ? -1 : 0;
        buf_clear(&body);
        if (got > 0)
            buf_append(&body, buf_start(&v->in) + m.head_len, f.body_len);
        if (st->status == 0) {
            /* "none": no answer at all, or an error answer */
            if (len > 0 && m.status < 400)
                snprintf(why, n, "answer %d: status %d, want no answer or an error", nth, m.status);
            else
                rc = 0;
            if (len > 0)
                buf_consume(&v->in, (size_t)len);
            goto out;
        }
        if (len == 0) {
            verify_preview(pv, sizeof pv, buf_start(&v->in), buf_size(&v->in));
            snprintf(why, n, "answer %d: %s before a whole answer arrived%s%s", nth,
                     v->eof ? "connection closed" : "timed out", *pv ? "; got: " : "", pv);
            goto out;
        }
        if (len < 0) {
            verify_preview(pv, sizeof pv, buf_start(&v->in), buf_size(&v->in));
            snprintf(why, n, "answer %d: not HTTP: %s", nth, pv);
            goto out;
        }
        buf_consume(&v->in, (size_t)len);
        if (m.status >= 100 && m.status < 200 && st->status >= 200)
            continue; /* an interim answer the case does not ask about */
        break;
    }
    verify_preview(pv, sizeof pv, buf_start(&body), buf_size(&body));
    if (m.status != st->status) {
        snprintf(why, n, "answer %d: status %d, want %d (body: %s)", nth, m.status, st->status, pv);
        goto out;
    }
    for (int i = 0; i < st->nheaders; i++) {
        const http_str_t *h = http_header(&m, st->header_name[i]);
        if (!h) {
            snprintf(why, n, "answer %d: no %s header, want '%s'", nth, st->header_name[i],
                     st->header_value[i]);
            goto out;
        }
        if (!http_str_eq(*h, st->header_value[i])) {
            snprintf(why, n, "answer %d: %s: '%.*s', want '%s'", nth, st->header_name[i],
                     (int)h->n, h->p, st->header_value[i]);
            goto out;
        }
    }
    if (st->has_body && (buf_size(&body) != st->body_len ||
                         memcmp(buf_start(&body), st->body, st->body_len) != 0)) {
        char want[256];
        verify_preview(want, sizeof want, st->body, st->body_len);
        snprintf(why, n, "answer %d: body %s, want %s", nth, pv, want);
        goto out;
    }
    for (int i = 0; i < st->nbody_has; i++) {
        if (!memmem(buf_start(&body) ? buf_start(&body) : "", buf_size(&body), st->body_has[i],
                    strlen(st->body_has[i]))) {
            snprintf(why, n, "answer %d: body %s does not contain %s", nth, pv, st->body_has[i]);
            goto out;
        }
    }
    rc = 0;
out:
    buf_free(&body);
    return rc;
}

static int run_case(const contract_case_t *c, const http_url_t *u, int64_t timeout_ns,
                    char *why, size_t n)
{
    http_client_t v;
    if (http_client_open(&v, u->host, u->port, timeout_ns, why, n))
        return -1;
    int rc = -1;
    int answers = 0;
    for (int i = 0; i < c->nsteps; i++) {
        const contract_step_t *st = &c->steps[i];
        switch (st->kind) {
        case STEP_SEND:
            http_client_send(&v, st->data, st->len, timeout_ns);
            break;
        case STEP_PAUSE: {
            struct timespec ts = {st->pause_ns / NS_PER_S, st->pause_ns % NS_PER_S};
            nanosleep(&ts, NULL);
            break;
        }
        case STEP_SHUTDOWN:
            shutdown(v.fd, SHUT_WR);
            break;
        case STEP_EXPECT:
            if (check_expect(&v, timeout_ns, st, ++answers, why, n))
                goto out;
            break;
        case STEP_CALL: /* a case of calls is verify_calls' */
            break;
        case STEP_CLOSED: {
            int64_t deadline = clock_now_ns() + timeout_ns;
            while (buf_size(&v.in) == 0 && !v.eof && clock_now_ns() < deadline)
                http_client_fill(&v, deadline - clock_now_ns());
            if (buf_size(&v.in) > 0) {
                char pv[256];
                verify_preview(pv, sizeof pv, buf_start(&v.in), buf_size(&v.in));
                snprintf(why, n, "want the connection closed, got more bytes: %s", pv);
                goto out;
            }
            if (!v.eof) {
                snprintf(why, n, "want the connection closed, still open after %.1fs",
                         (double)timeout_ns / NS_PER_S);
                goto out;
            }
            break;
        }
        }
    }
    rc = 0;
out:
    http_client_close(&v);
    return rc;
}

int verify_run(const contract_t *c, const char *url, const char *lang, int64_t timeout_ns,
               verify_result_t *results, char *err, size_t errlen)
{
    http_url_t u;
    net_addr_t addr;
    if (http_url_parse(url, &u, err, errlen) || net_resolve(u.host, u.port, &addr, err, errlen))
        return -1; /* a bad URL fails the run, not every case */
    signal(SIGPIPE, SIG_IGN);
    int failed = 0;
    for (int i = 0; i < c->ncases; i++) {
        verify_result_t *r = &results[i];
        r->name = c->cases[i].name;
        r->why[0] = 0;
        const contract_case_t *k = &c->cases[i];
        r->ok = (k->calls ? verify_calls(k, &u, timeout_ns, r->why, sizeof r->why)
                          : run_case(k, &u, timeout_ns, r->why, sizeof r->why)) == 0;
        r->known = contract_differs(&c->cases[i], lang);
        verify_outcome_t o = verify_outcome(r);
        failed += o == VERIFY_FAIL || o == VERIFY_STALE;
    }
    return failed;
}
