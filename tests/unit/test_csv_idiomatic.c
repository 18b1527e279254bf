/* Tests for the csv service's idiomatic tier (src/serve/csv_idiomatic.c): on every body, the
 * same status and the same answer, byte for byte, as the tuned kernel (src/codec/csv.c):
 * the bodies of the contract's cases (contracts/csv), the corners of libcsv's leniency one
 * by one, generated bodies, mutated ones, random ones over the bytes that matter, many
 * symbols, and a state reused after every kind of error.
 *
 * Every body is read from an exact-size heap copy, so that AddressSanitizer sees a read past
 * its end. One idiomatic state serves every body of a test, as one worker's does. */
#include <errno.h>
#include <stdint.h>

#include "codec/csv.h"
#include "core/buf.h"
#include "core/rand.h"
#include "lab/gen.h"
#include "serve/csv_idiomatic.h"
#include "t.h"
#include "verify/contract.h"

/* ---- helpers ---- */

typedef struct {
    int status;
    char *body; /* NUL-terminated */
} answer_t;

static char *copy_of(const char *body, size_t n)
{
    char *c = malloc(n ? n : 1);
    memcpy(c, body, n);
    return c;
}

static char *buf_string(buf_t *b)
{
    char *s = malloc(buf_size(b) + 1);
    memcpy(s, buf_start(b), buf_size(b));
    s[buf_size(b)] = 0;
    return s;
}

/* What the tuned tier answers (src/serve/csv.c: the kernel, the error as contracts/csv.md
 * writes it). */
static answer_t tuned(const char *body, size_t n)
{
    csv_agg_t a;
    csv_agg_init(&a);
    char *c = copy_of(body, n);
    csv_error_t e;
    answer_t r = {0};
    buf_t b = BUF_INIT;
    int rc = csv_aggregate(c, n, &a, &e);
    if (rc == 0 && csv_write_json(&a, &b) == 0) {
        r.status = 200;
    } else if (rc == -1) {
        r.status = 400;
        buf_printf(&b, "{\"error\":\"invalid_csv\",\"line\":%zu,\"column\":%zu,\"reason\":\"%s\"}",
                   e.line, e.column, e.reason);
    } else {
        r.status = 500;
    }
    r.body = buf_string(&b);
    buf_free(&b);
    free(c);
    csv_agg_free(&a);
    return r;
}

static answer_t idiomatic(csv_idiomatic_t *st, const char *body, size_t n)
{
    char *c = copy_of(body, n);
    answer_t r = {0};
    buf_t b = BUF_INIT;
    if (csv_idiomatic_answer(st, c, n, &b, &r.status) != 0)
        r.status = 500;
    r.body = buf_string(&b);
    buf_free(&b);
    free(c);
    return r;
}

/* Prints what differs for the first few bodies; whether they agreed. */
static bool same_answer(csv_idiomatic_t *st, const char *body, size_t n)
{
    static int shown;
    answer_t t = tuned(body, n), i = idiomatic(st, body, n);
    bool same = t.status == i.status && strcmp(t.body, i.body) == 0;
    if (!same && shown++ < 5) {
        fprintf(stderr, "    body (%zu bytes): \"", n);
        for (size_t k = 0; k < n && k < 200; k++)
            fprintf(stderr, (unsigned char)body[k] < 0x20 || body[k] == '"' || body[k] == '\\'
                                ? "\\x%02x" : "%c", (unsigned char)body[k]);
        fprintf(stderr, "\"\n    tuned:     %d %.300s\n    idiomatic: %d %.300s\n", t.status,
                t.body, i.status, i.body);
    }
    free(t.body);
    free(i.body);
    return same;
}

#define CHECK_SAME(st, lit) CHECK(same_answer(st, lit, sizeof lit - 1))

static answer_t idiomatic_str(csv_idiomatic_t *st, const char *body)
{
    return idiomatic(st, body, strlen(body));
}

#define CHECK_ANSWER(st, text, status_, expected)                                                 \
    do {                                                                                          \
        answer_t a_ = idiomatic_str(st, text);                                                    \
        CHECK_INT(a_.status, status_);                                                            \
        CHECK_STR(a_.body, expected);                                                             \
        free(a_.body);                                                                            \
    } while (0)

/* A malformed variant of a valid body: one local edit of a kind the contract names (as
 * tests/integration/test_csv_diff.c makes them). */
static void mutate(buf_t *b, rng_t *r)
{
    size_t n = buf_size(b);
    if (n == 0)
        return;
    char *s = buf_start(b);
    size_t at = (size_t)rng_below(r, n);
    static const char *const inserts[] = {"\"", ",", "\n", "\r\n", "\r", "x", "-", ".", "e5",
                                          "\"\"", " ", "0", "13", "99", ":", "Z", "+", "T"};
    switch (rng_below(r, 4)) {
    case 0: { /* insert */
        const char *ins = inserts[rng_below(r, sizeof inserts / sizeof inserts[0])];
        buf_t t = BUF_INIT;
        buf_append(&t, s, at);
        buf_puts(&t, ins);
        buf_append(&t, s + at, n - at);
        buf_clear(b);
        buf_append(b, buf_start(&t), buf_size(&t));
        buf_free(&t);
        break;
    }
    case 1: /* delete one byte */
        memmove(s + at, s + at + 1, n - at - 1);
        b->len--;
        break;
    case 2: /* replace one byte */
        s[at] = "\",\n\r0aZ.:-"[rng_below(r, 10)];
        break;
    default: /* truncate */
        b->len = b->off + at;
        break;
    }
}

/* ---- the contract's cases ---- */

/* The bodies of the POST /csv requests in a case's send steps (pipelined ones too): each
 * request's head, then Content-Length bytes, when the case holds them all. */
TEST(every_contract_case_body_gets_the_same_answer)
{
    contract_t cases = {0};
    char err[256];
    CHECK_INT(contract_load_builtin("csv", &cases, err, sizeof err), 0);
    CHECK(cases.ncases >= 40);
    csv_idiomatic_t *st = csv_idiomatic_new();
    int bodies = 0;
    for (int k = 0; k < cases.ncases; k++) {
        const contract_case_t *c = &cases.cases[k];
        int expect = 0; /* the case's first expected status */
        for (int s = 0; s < c->nsteps && !expect; s++)
            if (c->steps[s].kind == STEP_EXPECT)
                expect = c->steps[s].status;
        bool first = true;
        for (int s = 0; s < c->nsteps; s++) {
            const contract_step_t *step = &c->steps[s];
            if (step->kind != STEP_SEND)
                continue;
            const char *p = step->data, *end = step->data + step->len;
            while (p < end && strncmp(p, "POST /csv ", 10) == 0) {
                const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
                const char *cl = memmem(p, (size_t)(end - p), "Content-Length: ", 16);
                if (!head_end || !cl || cl > head_end)
                    break;
                size_t n = strtoul(cl + 16, NULL, 10);
                const char *body = head_end + 4;
                if (n > (size_t)(end - body))
                    break; /* the body over the limit: never sent */
                if (!same_answer(st, body, n))
                    fprintf(stderr, "    in case %s\n", c->name);
                if (first) {
                    answer_t a = idiomatic(st, body, n);
                    CHECK_INT(a.status, expect);
                    free(a.body);
                    first = false;
                }
                bodies++;
                p = body + n;
            }
        }
    }
    CHECK(bodies >= 38);
    csv_idiomatic_free(st);
    contract_free(&cases);
}

TEST(the_example_of_the_contract_byte_for_byte)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    CHECK_ANSWER(st,
                 "timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
                 "2026-11-23T08:15:31Z,MSFT,411,10\n1795422931000,AAPL,187.50,50\n",
                 200,
                 "{\"rows\":3,\"symbols\":[{\"symbol\":\"AAPL\",\"count\":2,\"quantity\":150,"
                 "\"min_price\":187.250000,\"max_price\":187.500000,\"vwap\":187.333333},"
                 "{\"symbol\":\"MSFT\",\"count\":1,\"quantity\":10,\"min_price\":411.000000,"
                 "\"max_price\":411.000000,\"vwap\":411.000000}]}");
    CHECK_ANSWER(st, "", 200, "{\"rows\":0,\"symbols\":[]}");
    CHECK_ANSWER(st, "1,A,1,1\n1,\"A\"B,1,1\n", 400,
                 "{\"error\":\"invalid_csv\",\"line\":2,\"column\":2,\"reason\":\"bare quote\"}");
    csv_idiomatic_free(st);
}

/* ---- what libcsv lets through, and where it is stricter or different ---- */

TEST(quote_errors_match_libcsv_strict_mode_and_the_checks_around_it)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    CHECK_SAME(st, "1,AA\"PL,1,1\n");             /* a quote in an unquoted field */
    CHECK_SAME(st, "1,\"AAPL\"x,1,1\n");          /* text after a closing quote */
    CHECK_SAME(st, "1,\"AAPL\" ,1,1\n");          /* a space after it: no trimming */
    CHECK_SAME(st, "1,\"AAPL\"\"x\",1,1\n");      /* "" in a value: a bad symbol */
    CHECK_SAME(st, "1,\"AAPL,1,1\n2,B,1,1\n");    /* never closed */
    CHECK_SAME(st, "1,A,1,\"1");                  /* closed by nothing at the end */
    CHECK_SAME(st, "1,A,1,\"1\"\"");              /* "" then the end: still open */
    CHECK_SAME(st, "1,A,1,\"1\"");                /* closed at the end */
    CHECK_SAME(st, "1,A,1,1,\"x");                /* a fifth field before its quote */
    CHECK_SAME(st, "x,\"A,1,1");                  /* a bad field before the open quote */
    CHECK_SAME(st, "\"\"\n");                     /* a record of one empty field */
    CHECK_SAME(st, "\"1\n\n2\",A,1,1\n1,B,1,0\n"); /* LFs in quotes count as lines */
    CHECK_SAME(st, " 1,A,1,1\n");                 /* no trimming of unquoted fields */
    CHECK_SAME(st, "1,A,1,1 \n");
    CHECK_SAME(st, "1,A,1,1\t\n");
    CHECK_SAME(st, "1,A\0B,1,1\n");               /* a NUL is data */
    CHECK_SAME(st, "1,A,1\0,1\n");
    csv_idiomatic_free(st);
}

TEST(cr_is_data_unless_it_starts_a_cr_lf)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    CHECK_SAME(st, "1,A,1,1\r\n2,B,2,2\r\n");
    CHECK_SAME(st, "1,A,1,1\r\n\r\n\r\n2,B,2,2");
    CHECK_SAME(st, "\r\n\r\ntimestamp,symbol,price,quantity\r\n1,A,1,1\r\n");
    CHECK_SAME(st, "1,\"A\"\r\n2,\"B\",\"2\",\"2\"\r\n");
    CHECK_SAME(st, "1,A,1,\"1\"\r\n");
    CHECK_SAME(st, "\r");                         /* a record of one field, a CR */
    CHECK_SAME(st, "\n\r");
    CHECK_SAME(st, "1,A,1,1\n\r");
    CHECK_SAME(st, "1,A,1,1\r");                  /* a CR ends nothing at the end */
    CHECK_SAME(st, "1,A,1,\"1\"\r");              /* after a closing quote: bare quote */
    CHECK_SAME(st, "1,\"A\"\rx,1,1\n");
    CHECK_SAME(st, "1,A\rB,1,1\n");               /* inside an unquoted field */
    CHECK_SAME(st, "1,A\r\"B,1,1\n");             /* ... with a quote later in the field */
    CHECK_SAME(st, "1,A\r,\"B,1,1\n");            /* ... and after it, in the next field */
    CHECK_SAME(st, "1\r2,A,1,1\n");
    CHECK_SAME(st, "1,A,1,1\r2,B,1,1\n");
    CHECK_SAME(st, "1,A,1,1\r\r\n");
    CHECK_SAME(st, "\r1,A,1,1\n");
    CHECK_SAME(st, "\r\"1,A,1,1\n");
    CHECK_SAME(st, "1,A,1,\r\n");                 /* an empty field before CR LF */
    CHECK_SAME(st, "1,A,1,\r");
    CHECK_SAME(st, "1,A,\"1\r\",1\n");            /* a CR inside quotes */
    CHECK_SAME(st, "1,A,\"1\r\n\",1\n");
    CHECK_SAME(st, "1,A,1,\"1\r\"\n");
    csv_idiomatic_free(st);
}

TEST(the_header_only_first_and_only_whole)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    CHECK_SAME(st, "timestamp,symbol,price,quantity");
    CHECK_SAME(st, "TIMESTAMP,Symbol,pRICE,quantity\n1,A,1,1\n");
    CHECK_SAME(st, "\"timestamp\",\"symbol\",\"price\",\"quantity\"\n1,A,1,1\n");
    CHECK_SAME(st, "\n\n\r\ntimestamp,symbol,price,quantity\n1,A,1,1\n");
    CHECK_SAME(st, "1,A,1,1\ntimestamp,symbol,price,quantity\n");    /* not first: a trade */
    CHECK_SAME(st, "timestamp,symbol,price,quantity,\n1,A,1,1\n");  /* five fields */
    CHECK_SAME(st, "timestamp,symbol,price,quantity,x\n");
    CHECK_SAME(st, "timestamp,symbol,price\n");
    CHECK_SAME(st, "timestamp,symbol,price,quantityx\n");
    CHECK_SAME(st, "timestamp,symbol,price,quantity\r");
    CHECK_SAME(st, "timestamp,symbol,price,quantity\rx\n");
    CHECK_SAME(st, "timestamp,symbol\r,price,quantity\n");
    CHECK_SAME(st, "timestamp,sym\"bol,price,quantity\n");
    CHECK_SAME(st, "timestamp,\"symbol,price,quantity\n");
    CHECK_SAME(st, "timestamp,\"symbol\"x,price,quantity\n");
    CHECK_SAME(st, "\"timestamp\"x,symbol,price,quantity\n");
    CHECK_SAME(st, "\"time\"\"stamp\",symbol,price,quantity\n");
    CHECK_SAME(st, "\"timestamp\n\",symbol,price,quantity\n");
    CHECK_SAME(st, "timestamp,symbol,x,quantity\n");
    CHECK_SAME(st, "timestamp");
    CHECK_SAME(st, "timestam,symbol,price,quantity\n");
    csv_idiomatic_free(st);
}

TEST(each_field_grammar_and_its_edges)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    static const char *const timestamps[] = {
        "0", "999999999999999", "1000000000000000", "", "-1", "+1", " 1", "1.5", "1e3",
        "2026-11-23T08:15:30Z", "2026-11-23T08:15:30.1Z", "2026-11-23T08:15:30.123456789Z",
        "2026-11-23T08:15:30.1234567890Z", "2026-11-23T08:15:30.Z", "2026-11-23T08:15:30",
        "2026-11-23t08:15:30Z", "2026-11-23T08:15:30z", "2026-11-23 08:15:30Z",
        "2026-11-23T08:15:30+05:30", "2026-11-23T08:15:30-23:59", "2026-11-23T08:15:30+24:00",
        "2026-11-23T08:15:30+05:60", "2026-11-23T08:15:30+0530", "2026-11-23T08:15:30+5:30",
        "2026-11-23T24:00:00Z", "2026-11-23T23:60:00Z", "2026-11-23T23:59:60Z",
        "2026-00-10T00:00:00Z", "2026-13-10T00:00:00Z", "2026-19-10T00:00:00Z",
        "2026-12-00T00:00:00Z", "2026-12-31T00:00:00Z", "2026-12-32T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-02-29T00:00:00Z", "2028-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "0000-02-29T00:00:00Z",
        "2026-1-23T08:15:30Z", "20261123T081530Z", "2026-11-23T08:15:30.123Z ",
        "2026-11-23T08:15:30.123+05:30x", "2026-11-23T08:15:3aZ",
        "9999-12-31T23:59:59.999999999-00:00",
    };
    static const char *const symbols[] = {"A", "a.b_c-9", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOPQ",
                                          "", "A B", "A/B", "A:B", "\xc3\xa9", "A~", "_", "-"};
    static const char *const prices[] = {
        "0", "1", "1.5", "0.00000001", "9999999999", "99999999999", "9999999999.99999999",
        "1.123456789", "1.", ".5", "-1", "+1", "1e5", "1E5", "inf", "nan", "0x10", " 1", "1 ",
        "1.2.3", "", "1,5", "12345678.12345678", "0.0000005", "0.0000015", "187.25", "0.1",
        "00000000001.5", "9007199254740993", "1234567890.12345678"};
    static const char *const quantities[] = {"1", "0", "999999999", "1000000000", "000000001",
                                             "0000000001", "-1", "+1", "1.0", "1e3", "", " 1",
                                             "0x10", "18446744073709551617"};
    char body[256];
    for (size_t i = 0; i < sizeof timestamps / sizeof *timestamps; i++) {
        int n = snprintf(body, sizeof body, "%s,A,1,1\n", timestamps[i]);
        CHECK(same_answer(st, body, (size_t)n));
        n = snprintf(body, sizeof body, "\"%s\",A,1,1", timestamps[i]);
        CHECK(same_answer(st, body, (size_t)n));
    }
    for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++) {
        int n = snprintf(body, sizeof body, "1,%s,1,1\n1,%s,2,3\n", symbols[i], symbols[i]);
        CHECK(same_answer(st, body, (size_t)n));
        n = snprintf(body, sizeof body, "1,\"%s\",1,1", symbols[i]);
        CHECK(same_answer(st, body, (size_t)n));
    }
    for (size_t i = 0; i < sizeof prices / sizeof *prices; i++) {
        int n = snprintf(body, sizeof body, "1,A,%s,7\n1,A,%s,3\n", prices[i], prices[i]);
        CHECK(same_answer(st, body, (size_t)n));
        n = snprintf(body, sizeof body, "1,A,\"%s\",1", prices[i]);
        CHECK(same_answer(st, body, (size_t)n));
    }
    for (size_t i = 0; i < sizeof quantities / sizeof *quantities; i++) {
        int n = snprintf(body, sizeof body, "1,A,1.5,%s\n", quantities[i]);
        CHECK(same_answer(st, body, (size_t)n));
        n = snprintf(body, sizeof body, "1,A,1.5,\"%s\"", quantities[i]);
        CHECK(same_answer(st, body, (size_t)n));
    }
    csv_idiomatic_free(st);
}

TEST(field_count_and_which_error_comes_first)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    CHECK_SAME(st, "1\n");
    CHECK_SAME(st, "1,A\n");
    CHECK_SAME(st, "1,A,1\n");
    CHECK_SAME(st, "1,A,1,1,\n");
    CHECK_SAME(st, "1,A,1,1,1\n");
    CHECK_SAME(st, "1,A,1e5,1,x\n");
    CHECK_SAME(st, "1,A,1,0,x\n");
    CHECK_SAME(st, "x,AA PL,y,0\n");
    CHECK_SAME(st, "1,A,x,1\n2,A,1,y\n");
    CHECK_SAME(st, "1,A,1,1\n1,A,1\n1,A,1,1,1\n");
    CHECK_SAME(st, ",,,\n");
    CHECK_SAME(st, "1,A,1,");
    CHECK_SAME(st, "1,A,1,1\n,");
    csv_idiomatic_free(st);
}

/* ---- many bodies ---- */

TEST(generated_bodies_get_the_same_answer)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    int differ = 0;
    for (uint64_t k = 0; k < 2000; k++) {
        buf_t b = BUF_INIT;
        gen_csv(&b, k % 50, 7000 + k);
        differ += !same_answer(st, buf_start(&b), buf_size(&b));
        buf_free(&b);
    }
    for (uint64_t k = 0; k < 3; k++) { /* the size the benchmark posts, and more */
        buf_t b = BUF_INIT;
        gen_csv(&b, 6400 << k, k);
        differ += !same_answer(st, buf_start(&b), buf_size(&b));
        buf_free(&b);
    }
    CHECK_INT(differ, 0);
    csv_idiomatic_free(st);
}

TEST(mutated_bodies_get_the_same_answer)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    rng_t r;
    rng_seed(&r, 42, 0);
    int differ = 0, valid = 0, invalid = 0;
    for (uint64_t k = 0; k < 6000; k++) {
        buf_t b = BUF_INIT;
        gen_csv(&b, rng_below(&r, 12), 1000 + k);
        if (k % 3 != 0) /* two thirds malformed, some of them twice or three times */
            for (int m = 0; m < 1 + (int)rng_below(&r, 3); m++)
                mutate(&b, &r);
        differ += !same_answer(st, buf_start(&b), buf_size(&b));
        answer_t a = idiomatic(st, buf_start(&b), buf_size(&b));
        valid += a.status == 200;
        invalid += a.status == 400;
        free(a.body);
        buf_free(&b);
    }
    fprintf(stderr, "    %d valid, %d invalid, %d differences\n", valid, invalid, differ);
    CHECK_INT(differ, 0);
    CHECK(valid > 2000);
    CHECK(invalid > 3000);
    csv_idiomatic_free(st);
}

/* Short bodies of the bytes the contract's structure and grammars turn on, drawn at random:
 * they reach the corners (CRs anywhere, quotes after anything) that edits of valid bodies
 * rarely do. */
TEST(random_bodies_over_the_structural_bytes_get_the_same_answer)
{
    static const char alphabet[] = "\",\r\n\r\n,,0123456789.:-TZ+Ae x";
    static const char *const pieces[] = {"timestamp,symbol,price,quantity\n", "1,A,1,1\n",
                                         "2026-11-23T08:15:30Z", "\"A\"", "1.5", "\r\n"};
    csv_idiomatic_t *st = csv_idiomatic_new();
    rng_t r;
    rng_seed(&r, 7, 0);
    int differ = 0, valid = 0;
    for (int k = 0; k < 40000; k++) {
        char body[96];
        size_t n = 0, want = (size_t)rng_below(&r, 40);
        while (n < want) {
            if (rng_below(&r, 8) == 0) {
                const char *p = pieces[rng_below(&r, sizeof pieces / sizeof *pieces)];
                size_t pl = strlen(p);
                if (n + pl > sizeof body)
                    break;
                memcpy(body + n, p, pl);
                n += pl;
            } else {
                body[n++] = alphabet[rng_below(&r, sizeof alphabet - 1)];
            }
        }
        differ += !same_answer(st, body, n);
        answer_t a = idiomatic(st, body, n);
        valid += a.status == 200;
        free(a.body);
    }
    fprintf(stderr, "    %d valid of 40000, %d differences\n", valid, differ);
    CHECK_INT(differ, 0);
    csv_idiomatic_free(st);
}

/* ---- the state ---- */

TEST(many_symbols_grow_the_table_and_sort_bytewise)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    buf_t b = BUF_INIT;
    rng_t r;
    rng_seed(&r, 3, 0);
    for (int i = 0; i < 20000; i++) {
        char sym[17];
        size_t len = 1 + (size_t)rng_below(&r, 16);
        for (size_t j = 0; j < len; j++)
            sym[j] = "ABCabc019._-"[rng_below(&r, 12)];
        sym[len] = 0;
        buf_printf(&b, "%d,%s,%llu.%02llu,%llu\n", i, sym,
                   (unsigned long long)rng_below(&r, 1000), (unsigned long long)rng_below(&r, 100),
                   (unsigned long long)(1 + rng_below(&r, 1000)));
    }
    CHECK(same_answer(st, buf_start(&b), buf_size(&b)));
    CHECK_SAME(st, "1,B,1,1\n1,A,2,2\n"); /* a table grown, then cleared, serves again */
    buf_free(&b);
    csv_idiomatic_free(st);
}

TEST(the_state_serves_on_after_every_kind_of_error)
{
    csv_idiomatic_t *st = csv_idiomatic_new();
    static const char valid[] = "1,A,1,1\n2,B,2.5,3\n";
    static const char *const bad[] = {"1,\"A", "1,A\"B,1,1\n", "1,\"A\"x,1,1\n", "1,A,1,0\n",
                                      "1,A,1,1,1\n", "\r", "1,A,1,1\r", "timestamp,sym"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(same_answer(st, bad[i], strlen(bad[i])));
        CHECK(same_answer(st, valid, sizeof valid - 1));
    }
    /* a field far larger than any value: refused, and its buffer given back */
    buf_t b = BUF_INIT;
    buf_puts(&b, "1,\"");
    for (int i = 0; i < 200000; i++)
        buf_puts(&b, "ABCDEFGH");
    CHECK(same_answer(st, buf_start(&b), buf_size(&b)));
    buf_puts(&b, "\",1,1\n");
    CHECK(same_answer(st, buf_start(&b), buf_size(&b)));
    CHECK(same_answer(st, valid, sizeof valid - 1));
    buf_free(&b);
    csv_idiomatic_free(st);
}

T_MAIN(T(every_contract_case_body_gets_the_same_answer),
       T(the_example_of_the_contract_byte_for_byte),
       T(quote_errors_match_libcsv_strict_mode_and_the_checks_around_it),
       T(cr_is_data_unless_it_starts_a_cr_lf), T(the_header_only_first_and_only_whole),
       T(each_field_grammar_and_its_edges), T(field_count_and_which_error_comes_first),
       T(generated_bodies_get_the_same_answer), T(mutated_bodies_get_the_same_answer),
       T(random_bodies_over_the_structural_bytes_get_the_same_answer),
       T(many_symbols_grow_the_table_and_sort_bytewise),
       T(the_state_serves_on_after_every_kind_of_error))
