/* libFuzzer target for the contract case parser (src/verify/contract.h), which reads the
 * *.case files of `stackbench verify --cases DIR`. The input is a case's text, not
 * NUL-terminated, in an exact-size heap copy (AddressSanitizer sees any read past its end).
 *   - On success there is at least one step and every step is well formed: a known kind; send
 *     data non-NULL when it has bytes; a pause of at least 0 ns; a status of 0 ("none") or
 *     100..599; at most CONTRACT_MAX_CHECKS header, body-has and differs checks, header names
 *     non-empty, every string readable to its end (each byte is read here, so that a string
 *     shorter than its length is caught); differs languages non-empty without a space (the
 *     separator), each found by contract_differs. A call has a method and a path starting with
 *     '/', readable frames, a cancel of -1 or more; a case of calls has no send, shutdown or
 *     closed step, and its expects follow calls, each with a status and its gRPC checks in
 *     range (grpc-status -1..16, messages -1 or more, health -1..3).
 *   - On failure the message starts with the case's name.
 *   - Parsing is deterministic: a second parse gives the same steps, byte for byte.
 *   - contract_free frees all of it, whether the parse succeeded or not (LeakSanitizer reports
 *     what it leaves).
 * abort() on any violation.
 *
 * {repeat:N:TEXT} expands to N copies (N up to 64 Mi): inputs whose repeats would expand to
 * more than REPEAT_BUDGET bytes are skipped, so that the run stays on parsing rather than on
 * copying (and below libFuzzer's memory limit).
 *
 * A NUL byte of the text ends the C string it is copied into (a name, a value): the checks
 * that a string is non-empty apply to texts without one. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/contract.h"

#define REPEAT_BUDGET (4u << 20)

/* An upper bound of the bytes the {repeat:N:TEXT} of text would expand to: N times the raw
 * length of TEXT (escapes only shorten it), up to the '}' that ends it on its line. */
static uint64_t repeat_bytes(const char *text, size_t len)
{
    uint64_t total = 0;
    const char *p = text, *end = text + len;
    while ((p = memmem(p, (size_t)(end - p), "{repeat:", 8)) != NULL) {
        p += 8;
        uint64_t n = 0;
        while (p < end && *p >= '0' && *p <= '9' && n <= UINT32_MAX)
            n = n * 10 + (uint64_t)(*p++ - '0');
        const char *close = p;
        while (close < end && *close != '}' && *close != '\n')
            close++;
        uint64_t one = (uint64_t)(close - p) + 1; /* an empty TEXT still costs a loop step */
        total += n * one;
        if (total > REPEAT_BUDGET)
            return total;
    }
    return total;
}

/* Reads every byte of s[0..n), so that AddressSanitizer checks the allocation holds them. */
static unsigned touch(const char *s, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (unsigned char)s[i];
    return sum;
}

static volatile unsigned sink;

static void check_string(const char *s)
{
    if (!s)
        abort();
    sink += touch(s, strlen(s));
}

static void check_step(const contract_step_t *st, bool has_nul)
{
    switch (st->kind) {
    case STEP_SEND:
        if (st->len > 0 && !st->data)
            abort();
        sink += touch(st->data, st->len);
        break;
    case STEP_PAUSE:
        if (st->pause_ns < 0)
            abort();
        break;
    case STEP_EXPECT:
        if (st->status != 0 && (st->status < 100 || st->status > 599))
            abort();
        if (st->nheaders < 0 || st->nheaders > CONTRACT_MAX_CHECKS || st->nbody_has < 0 ||
            st->nbody_has > CONTRACT_MAX_CHECKS)
            abort();
        for (int k = 0; k < st->nheaders; k++) {
            check_string(st->header_name[k]);
            check_string(st->header_value[k]);
            if (st->header_name[k][0] == 0 && !has_nul)
                abort();
        }
        if (st->has_body) {
            if (st->body_len > 0 && !st->body)
                abort();
            sink += touch(st->body, st->body_len);
        }
        for (int k = 0; k < st->nbody_has; k++)
            check_string(st->body_has[k]);
        break;
    case STEP_SHUTDOWN:
    case STEP_CLOSED:
        break;
    case STEP_CALL:
        check_string(st->method);
        check_string(st->path);
        if (st->path[0] != '/' || (st->method[0] == 0 && !has_nul) || st->cancel_after < -1 ||
            st->nframes < 0 || (st->nframes > 0 && !st->frames) || st->nreq_headers < 0 ||
            st->nreq_headers > CONTRACT_MAX_CHECKS)
            abort();
        for (int k = 0; k < st->nframes; k++) {
            if (st->frames[k].len > 0 && !st->frames[k].data)
                abort();
            sink += touch(st->frames[k].data, st->frames[k].len);
        }
        for (int k = 0; k < st->nreq_headers; k++) {
            check_string(st->req_header_name[k]);
            check_string(st->req_header_value[k]);
        }
        break;
    default:
        abort();
    }
    if (st->kind == STEP_EXPECT) {
        if (st->grpc_status < -1 || st->grpc_status > 16 || st->messages < -1 ||
            st->health < -1 || st->health > 3)
            abort();
        if (st->grpc_message)
            check_string(st->grpc_message);
    }
}

/* A case of calls: no HTTP/1.1 step, and each expect right after a call, with a status. */
static void check_calls(const contract_case_t *c)
{
    for (int i = 0; i < c->nsteps; i++) {
        const contract_step_t *st = &c->steps[i];
        if (st->kind == STEP_SEND || st->kind == STEP_SHUTDOWN || st->kind == STEP_CLOSED)
            abort();
        if (st->kind == STEP_EXPECT && (i == 0 || c->steps[i - 1].kind != STEP_CALL ||
                                        st->status == 0 || st->head_only))
            abort();
    }
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool same_step(const contract_step_t *a, const contract_step_t *b)
{
    if (a->kind != b->kind || !same_bytes(a->data, a->len, b->data, b->len) ||
        a->pause_ns != b->pause_ns || a->status != b->status || a->head_only != b->head_only ||
        a->nheaders != b->nheaders || a->has_body != b->has_body ||
        a->nbody_has != b->nbody_has || !same_str(a->method, b->method) ||
        !same_str(a->path, b->path) || a->request_type != b->request_type ||
        a->nreq_headers != b->nreq_headers || a->nframes != b->nframes ||
        a->keep_open != b->keep_open || a->cancel_after != b->cancel_after ||
        a->grpc_status != b->grpc_status || !same_str(a->grpc_message, b->grpc_message) ||
        a->messages != b->messages || a->ticks != b->ticks || a->health != b->health)
        return false;
    for (int k = 0; k < a->nframes; k++)
        if (!same_bytes(a->frames[k].data, a->frames[k].len, b->frames[k].data, b->frames[k].len))
            return false;
    for (int k = 0; k < a->nreq_headers; k++)
        if (!same_str(a->req_header_name[k], b->req_header_name[k]) ||
            !same_str(a->req_header_value[k], b->req_header_value[k]))
            return false;
    if (a->has_body && !same_bytes(a->body, a->body_len, b->body, b->body_len))
        return false;
    for (int k = 0; k < a->nheaders; k++)
        if (!same_str(a->header_name[k], b->header_name[k]) ||
            !same_str(a->header_value[k], b->header_value[k]))
            return false;
    for (int k = 0; k < a->nbody_has; k++)
        if (!same_str(a->body_has[k], b->body_has[k]))
            return false;
    return true;
}

static bool same_case(const contract_case_t *a, const contract_case_t *b)
{
    if (!same_str(a->name, b->name) || !same_str(a->comment, b->comment) ||
        a->nsteps != b->nsteps || a->ndiffers != b->ndiffers || a->calls != b->calls)
        return false;
    for (int i = 0; i < a->nsteps; i++)
        if (!same_step(&a->steps[i], &b->steps[i]))
            return false;
    for (int k = 0; k < a->ndiffers; k++)
        if (!same_str(a->differs_lang[k], b->differs_lang[k]) ||
            !same_str(a->differs_why[k], b->differs_why[k]))
            return false;
    return true;
}

/* Parses text into a one-case contract_t, as contract_load_dir does, so that contract_free
 * frees it (after a failed parse too: the half-built case is freed the same way). */
static int parse(const char *text, size_t len, contract_t *c, char *err, size_t errlen)
{
    c->cases = calloc(1, sizeof *c->cases);
    c->ncases = 1;
    return contract_parse_case("fuzz", text, len, &c->cases[0], err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    if (repeat_bytes(text, size) > REPEAT_BUDGET) {
        free(text);
        return 0;
    }

    contract_t a = {0}, b = {0};
    char err[512] = "", err2[512] = "";
    int rc = parse(text, size, &a, err, sizeof err);
    int rc2 = parse(text, size, &b, err2, sizeof err2);
    if (rc != rc2 || (rc != 0 && rc != -1))
        abort();
    if (rc != 0) {
        if (strncmp(err, "fuzz: ", 6) != 0 || strcmp(err, err2) != 0)
            abort();
    } else {
        const contract_case_t *c = &a.cases[0];
        bool has_nul = memchr(text, 0, size) != NULL;
        if (c->nsteps < 1 || !c->steps || c->ndiffers < 0 || c->ndiffers > CONTRACT_MAX_CHECKS)
            abort();
        check_string(c->name);
        if (c->comment)
            check_string(c->comment);
        for (int i = 0; i < c->nsteps; i++)
            check_step(&c->steps[i], has_nul);
        if (c->calls)
            check_calls(c);
        for (int k = 0; k < c->ndiffers; k++) {
            check_string(c->differs_lang[k]);
            check_string(c->differs_why[k]);
            if ((!c->differs_lang[k][0] && !has_nul) || strchr(c->differs_lang[k], ' '))
                abort();
            if (contract_differs(c, c->differs_lang[k]) == NULL)
                abort();
        }
        if (!same_case(c, &b.cases[0]))
            abort();
    }
    contract_free(&a);
    contract_free(&b);
    free(text);
    return 0;
}
