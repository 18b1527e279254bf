/* Tests for the csv workload's parser and aggregator (src/codec/csv.c, contracts/csv.md):
 * header detection, empty lines, quoting, line ends, every error with its line and column,
 * which error wins, each field's grammar, the arithmetic, the JSON answer byte for byte, and
 * the symbol table (growth, reuse).
 *
 * Every body is parsed from an exact-size heap copy, so that AddressSanitizer sees a read past
 * its end. Errors are checked twice where possible: the body alone (its last records go
 * through the parser's slow path, near the end of the buffer) and the same body followed by
 * many valid records (the failing record then goes through the fast path). */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "codec/csv.h"
#include "t.h"

/* ---- helpers ---- */

static int parse(const char *body, size_t n, csv_agg_t *a, csv_error_t *e)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, body, n);
    csv_agg_reset(a);
    int rc = csv_aggregate(copy, n, a, e);
    free(copy);
    return rc;
}

/* The JSON answer for body (a C string), or NULL when it is invalid; *e gets the error. */
static char *answer_n(const char *body, size_t n, csv_error_t *e)
{
    csv_agg_t a;
    csv_agg_init(&a);
    csv_error_t dummy;
    char *out = NULL;
    if (parse(body, n, &a, e ? e : &dummy) == 0) {
        buf_t b = BUF_INIT;
        if (csv_write_json(&a, &b) == 0) {
            out = malloc(buf_size(&b) + 1);
            memcpy(out, buf_start(&b), buf_size(&b));
            out[buf_size(&b)] = 0;
        }
        buf_free(&b);
    }
    csv_agg_free(&a);
    return out;
}

static char *answer(const char *body) { return answer_n(body, strlen(body), NULL); }

#define CHECK_JSON(body, expected)                                                                \
    do {                                                                                          \
        char *j_ = answer(body);                                                                  \
        CHECK_STR(j_, expected);                                                                  \
        free(j_);                                                                                 \
    } while (0)

/* A record that is valid whatever follows: used to put FAST_ROOM bytes after a failing one. */
#define FILLER "2026-11-23T08:15:30.123Z,FILL,1.5,1\n"

static void check_err(const char *file, int at, const char *body, size_t n, size_t line,
                      size_t column, const char *reason)
{
    for (int pass = 0; pass < 2; pass++) {
        char *b = malloc(n + 64 * sizeof FILLER);
        memcpy(b, body, n);
        size_t len = n;
        if (pass == 1) {
            /* only after a line end: a CR or an open quote at the end would change meaning */
            if (n == 0 || body[n - 1] != '\n') {
                free(b);
                return;
            }
            for (int i = 0; i < 64; i++) {
                memcpy(b + len, FILLER, sizeof FILLER - 1);
                len += sizeof FILLER - 1;
            }
        }
        csv_agg_t a;
        csv_agg_init(&a);
        csv_error_t e = {0, 0, NULL};
        int rc = parse(b, len, &a, &e);
        free(b);
        csv_agg_free(&a);
        if (rc != -1 || e.line != line || e.column != column || !e.reason ||
            strcmp(e.reason, reason) != 0) {
            fprintf(stderr, "    %s:%d: %s: got rc %d line %zu column %zu \"%s\", expected line %zu "
                            "column %zu \"%s\"\n",
                    file, at, pass ? "with records after" : "alone", rc, e.line, e.column,
                    e.reason ? e.reason : "(null)", line, column, reason);
            t_failures++;
        }
    }
}

#define CHECK_ERR(body, line, column, reason)                                                     \
    check_err(__FILE__, __LINE__, body, strlen(body), line, column, reason)

/* body is valid, alone and with records after it (if it ends with a line end). */
static int valid_both(const char *body)
{
    size_t n = strlen(body);
    csv_agg_t a;
    csv_agg_init(&a);
    csv_error_t e;
    int ok = parse(body, n, &a, &e) == 0;
    if (ok && n && body[n - 1] == '\n') {
        size_t len = n + 64 * (sizeof FILLER - 1);
        char *b = malloc(len);
        memcpy(b, body, n);
        for (int i = 0; i < 64; i++)
            memcpy(b + n + (size_t)i * (sizeof FILLER - 1), FILLER, sizeof FILLER - 1);
        int ok2 = parse(b, len, &a, &e) == 0;
        free(b);
        if (ok2 != ok) {
            fprintf(stderr, "    fast and slow paths disagree on \"%s\"\n", body);
            t_failures++;
        }
    }
    csv_agg_free(&a);
    return ok;
}

/* One record with the given fields, valid or not, and what is expected of it. */
#define VALID(rec) CHECK(valid_both(rec "\n") && valid_both(rec))
#define INVALID(rec, column, reason)                                                              \
    do {                                                                                          \
        CHECK_ERR(rec "\n", 1, column, reason);                                                   \
        CHECK_ERR(rec, 1, column, reason);                                                        \
    } while (0)

static const csv_symbol_t *find(const csv_agg_t *a, const char *sym)
{
    for (size_t i = 0; i < a->nsyms; i++)
        if (strcmp(a->syms[i].symbol, sym) == 0)
            return &a->syms[i];
    return NULL;
}

static const char EXAMPLE_JSON[] =
    "{\"rows\":3,\"symbols\":[{\"symbol\":\"AAPL\",\"count\":2,\"quantity\":150,\"min_price\":187."
    "250000,\"max_price\":187.500000,\"vwap\":187.333333},{\"symbol\":\"MSFT\",\"count\":1,"
    "\"quantity\":10,\"min_price\":411.000000,\"max_price\":411.000000,\"vwap\":411.000000}]}";
#define EXAMPLE_ROWS                                                                              \
    "2026-11-23T08:15:30.123Z,AAPL,187.25,100\n2026-11-23T08:15:31Z,MSFT,411,10\n"                \
    "1795422931000,AAPL,187.50,50\n"

/* ---- structure ---- */

TEST(contract_example)
{
    CHECK_JSON("timestamp,symbol,price,quantity\n" EXAMPLE_ROWS, EXAMPLE_JSON);
    CHECK_JSON(EXAMPLE_ROWS, EXAMPLE_JSON); /* no header: every record is a trade */
}

TEST(header_any_case_skipped)
{
    CHECK_JSON("TimeStamp,SYMBOL,Price,quantity\n" EXAMPLE_ROWS, EXAMPLE_JSON);
    CHECK_JSON("TIMESTAMP,SYMBOL,PRICE,QUANTITY\r\n" EXAMPLE_ROWS, EXAMPLE_JSON);
    /* quoted header fields are compared after unquoting */
    CHECK_JSON("\"timestamp\",symbol,\"Price\",\"quantity\"\n" EXAMPLE_ROWS, EXAMPLE_JSON);
    /* after empty lines, it is still the first record */
    CHECK_JSON("\n\r\n\ntimestamp,symbol,price,quantity\n" EXAMPLE_ROWS, EXAMPLE_JSON);
    /* only the first record can be the header: a second one is a trade with a bad timestamp */
    CHECK_ERR("timestamp,symbol,price,quantity\ntimestamp,symbol,price,quantity\n", 2, 1,
              "bad timestamp");
}

TEST(header_lookalikes_are_trades)
{
    /* not exactly the four names: then a trade, whose first field is a bad timestamp */
    CHECK_ERR("timestamp,symbol,price,quantity,\n", 1, 1, "bad timestamp");
    CHECK_ERR("timestamp,symbol,price\n", 1, 1, "bad timestamp");
    CHECK_ERR("timestamp ,symbol,price,quantity\n", 1, 1, "bad timestamp");
    CHECK_ERR("timestamp,symbol,price,quantities\n", 1, 1, "bad timestamp");
    CHECK_ERR("timestamp,symbol,price,quantity\r", 1, 1, "bad timestamp"); /* lone CR: data */
    CHECK_ERR("\"time\"\"stamp\",symbol,price,quantity\n", 1, 1, "bad timestamp");
    /* a quote error in the would-be header is the trade's error, in field order */
    CHECK_ERR("timestamp,symbol,price,\"quantity\"x\n", 1, 1, "bad timestamp");
    CHECK_ERR("\"timestamp\"x,symbol,price,quantity\n", 1, 1, "bare quote");
}

TEST(header_only_and_empty_bodies)
{
    static const char none[] = "{\"rows\":0,\"symbols\":[]}";
    CHECK_JSON("", none);
    CHECK_JSON("timestamp,symbol,price,quantity", none);
    CHECK_JSON("timestamp,symbol,price,quantity\n", none);
    CHECK_JSON("timestamp,symbol,price,quantity\r\n", none);
    CHECK_JSON("\n", none);
    CHECK_JSON("\r\n\n\r\n", none);
    CHECK_JSON("\ntimestamp,symbol,price,quantity\n\n\r\n", none);
}

TEST(quoted_fields)
{
    /* every field may be quoted; the value is what is between the quotes */
    CHECK_JSON("timestamp,symbol,price,quantity\n\"2026-11-23T08:15:30.123Z\",\"AAPL\",187.25,\"100\"\n"
               "2026-11-23T08:15:31Z,MSFT,\"411\",10\n1795422931000,\"AAPL\",\"187.50\",50\n",
               EXAMPLE_JSON);
    /* , CR LF and "" are data inside quotes: the structure holds, the value is refused */
    CHECK_ERR("1,\"A,B\",1,1\n", 1, 2, "bad symbol");
    CHECK_ERR("1,\"A\nB\",1,1\n", 1, 2, "bad symbol");
    CHECK_ERR("1,\"A\r\nB\",1,1\n", 1, 2, "bad symbol");
    CHECK_ERR("1,\"A\"\"B\",1,1\n", 1, 2, "bad symbol");
    CHECK_ERR("1,\"\"\"\",1,1\n", 1, 2, "bad symbol");
    CHECK_ERR("1,\"\",1,1\n", 1, 2, "bad symbol");      /* empty quoted field */
    CHECK_ERR("1,A,\"1,5\",1\n", 1, 3, "bad price");
    /* Line ends inside quotes count, and an error's line is where its record starts. No
     * grammar allows a LF, so a quoted field spanning lines is always the error itself: the
     * contract's case, a record on line 3 whose field spans lines 3 to 5 */
    CHECK_ERR("timestamp,symbol,price,quantity\n1,AAPL,\"1.0\",1\n1,AAPL,1.0,\"1\n\n2\"\n"
              "1,AAPL,1.0,1\n",
              3, 4, "bad quantity");
    CHECK_ERR("1,\"A\nB\nC\",1,1\n", 1, 2, "bad symbol");
    /* a record starting on line 3, after a quoted header field spanning lines 1 and 2: the
     * header is then a trade (and the first error); counted through an unterminated quote */
    CHECK_ERR("\"time\nstamp\",symbol,price,quantity\n1,A,1,0\n", 1, 1, "bad timestamp");
    CHECK_ERR("\n\n1,A,1,\"\n\n", 3, 4, "unterminated quote");
    CHECK_ERR("1,A,1,1\n1,A,1,\"1\n\n2\"\n1,AAPL,1.0,1\n", 2, 4, "bad quantity");
    /* the structure of quoted fields with separators inside, the record after them is read */
    CHECK_ERR("x,\"a,b\nc\"\"d\",\"\"\n", 1, 1, "bad timestamp");
    /* a quoted field at the end of the body, closed, no line end */
    CHECK(valid_both("1,A,1,\"1\""));
    CHECK(valid_both("\"1\",\"A\",\"1\",\"1\"\r\n"));
}

TEST(crlf_lf_mix_and_final_line_end)
{
    CHECK_JSON("timestamp,symbol,price,quantity\r\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
               "2026-11-23T08:15:31Z,MSFT,411,10\r\n1795422931000,AAPL,187.50,50",
               EXAMPLE_JSON);
    CHECK_JSON("timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\r\n"
               "2026-11-23T08:15:31Z,MSFT,411,10\n1795422931000,AAPL,187.50,50\r\n",
               EXAMPLE_JSON);
    /* quoted last fields before each kind of end */
    CHECK_JSON("1,X,1,\"1\"\r\n1,X,1,\"1\"\n1,X,1,\"1\"",
               "{\"rows\":3,\"symbols\":[{\"symbol\":\"X\",\"count\":3,\"quantity\":3,\"min_price\":"
               "1.000000,\"max_price\":1.000000,\"vwap\":1.000000}]}");
}

TEST(empty_lines_skipped)
{
    CHECK_JSON("\ntimestamp,symbol,price,quantity\n\n\r\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\n"
               "2026-11-23T08:15:31Z,MSFT,411,10\r\n\r\n1795422931000,AAPL,187.50,50\n\n",
               EXAMPLE_JSON);
    /* empty lines count in the line numbers */
    CHECK_ERR("\n\ntimestamp,symbol,price,quantity\n\r\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n\n"
              "1,AAPL,1.0,0\n",
              7, 4, "bad quantity");
    /* but a line of white space, or of an empty quoted field, is a record */
    CHECK_ERR("1,A,1,1\n \n", 2, 1, "bad timestamp");
    CHECK_ERR("1,A,1,1\n\"\"\n", 2, 1, "bad timestamp");
}

TEST(lone_cr_is_data)
{
    /* a CR not followed by LF is data: in an unquoted field it makes the value bad */
    CHECK_ERR("1,A\r,1,1\n", 1, 2, "bad symbol");
    CHECK_ERR("1,A,1,1\r", 1, 4, "bad quantity");   /* at the end of the body */
    CHECK_ERR("1,A,1,1\r\r\n", 1, 4, "bad quantity"); /* CR then CR LF */
    CHECK_ERR("\r", 1, 1, "bad timestamp");           /* a record of its own */
    CHECK_ERR("1,A,1,1\n\r", 2, 1, "bad timestamp");
    CHECK_ERR("1,A,1,1\n\r1,A,1,1\n", 2, 1, "bad timestamp");
    /* it is no line end: the record goes on (its fourth field is "1\r2"), and so does the line */
    CHECK_ERR("1,A,1,1\r2,B,2,2\n1,A,1,0\n", 1, 4, "bad quantity");
    CHECK_ERR("1,A,1,1\n1,A\r,1,1\n", 2, 2, "bad symbol");
    CHECK_ERR("1,A,1,1\r\n\r1,A,1,0\n", 2, 1, "bad timestamp");
    /* after a closing quote it is a bare quote; inside quotes it is data */
    CHECK_ERR("1,\"A\"\r,1,1\n", 1, 2, "bare quote");
    CHECK_ERR("1,A,1,\"1\"\r", 1, 4, "bare quote");
    CHECK_ERR("1,\"A\rB\",1,1\n", 1, 2, "bad symbol");
}

/* ---- errors ---- */

TEST(error_unterminated_quote)
{
    CHECK_ERR("timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
              "1,\"AAPL,1.0,1\n2,MSFT,1.0,1\n",
              3, 2, "unterminated quote");
    CHECK_ERR("\"", 1, 1, "unterminated quote");
    CHECK_ERR("1,A,1,\"1", 1, 4, "unterminated quote");
    CHECK_ERR("1,A,1,\"1\"\"", 1, 4, "unterminated quote");
    CHECK_ERR("1,A,1,\"\n\n\n", 1, 4, "unterminated quote");
    /* the first fields are checked first */
    CHECK_ERR("x,\"A", 1, 1, "bad timestamp");
}

TEST(error_bare_quote)
{
    CHECK_ERR("timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
              "1,AA\"PL,1.0,1\n",
              3, 2, "bare quote");
    /* text after a closing quote */
    CHECK_ERR("timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
              "1,\"AAPL\"x,1.0,1\n",
              3, 2, "bare quote");
    CHECK_ERR("1,A,1,1\"\n", 1, 4, "bare quote");
    CHECK_ERR("1\",A,1,1\n", 1, 1, "bare quote");
    CHECK_ERR("1,A,\"1\" ,1\n", 1, 3, "bare quote");
    CHECK_ERR("1,A,\"1\"\"\"x,1\n", 1, 3, "bare quote");
    /* the quote error comes before the field's own value is looked at */
    CHECK_ERR("1,A B\",1,1\n", 1, 2, "bare quote");
}

TEST(error_wrong_field_count)
{
    CHECK_ERR("timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n1,AAPL,1.0\n",
              3, 4, "wrong field count");
    CHECK_ERR("timestamp,symbol,price,quantity\n2026-11-23T08:15:30.123Z,AAPL,187.25,100\n"
              "1,AAPL,1.0,1,x\n",
              3, 5, "wrong field count");
    CHECK_ERR("1\n", 1, 2, "wrong field count");
    CHECK_ERR("1,A\n", 1, 3, "wrong field count");
    CHECK_ERR("1,A,1", 1, 4, "wrong field count");
    CHECK_ERR("1,A,1,1,", 1, 5, "wrong field count"); /* an empty fifth field */
    /* the fifth field is an error as it starts, whatever it holds */
    CHECK_ERR("1,AAPL,1.0,1,1\n", 1, 5, "wrong field count");
    CHECK_ERR("1,A,1,1,\"x", 1, 5, "wrong field count");
    CHECK_ERR("1,A,1,1,x\"y\n", 1, 5, "wrong field count");
    CHECK_ERR("1,A,1,\"1\",\n", 1, 5, "wrong field count");
    /* a record of fewer fields where the last one is quoted */
    CHECK_ERR("1,A,\"1\"\n", 1, 4, "wrong field count");
}

TEST(error_bad_timestamp)
{
    INVALID("2026-13-01T00:00:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-00-01T00:00:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-02-30T00:00:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-02-29T00:00:00Z,A,1,1", 1, "bad timestamp"); /* not a leap year */
    INVALID("1900-02-29T00:00:00Z,A,1,1", 1, "bad timestamp"); /* divisible by 100 */
    INVALID("2026-04-31T00:00:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-01-32T00:00:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-01-00T00:00:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30,A,1,1", 1, "bad timestamp"); /* no zone */
    INVALID("2026-11-23T24:00:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T23:60:00Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T23:59:60Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23t08:15:30Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23 08:15:30Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30.Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30.1234567890Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30+24:00,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30+05:60,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30+0530,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30+05:3,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30Z0,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:3Z,A,1,1", 1, "bad timestamp");
    INVALID("2026-1-23T08:15:30Z,A,1,1", 1, "bad timestamp");
    INVALID("20261-11-23T08:15:30Z,A,1,1", 1, "bad timestamp");
    INVALID("1234567890123456,A,1,1", 1, "bad timestamp"); /* 16 digits */
    INVALID("-1,A,1,1", 1, "bad timestamp");
    INVALID("1.5,A,1,1", 1, "bad timestamp");
    INVALID(",A,1,1", 1, "bad timestamp");
    INVALID(" 1,A,1,1", 1, "bad timestamp");
    INVALID("2026-,A,1,1", 1, "bad timestamp");
    INVALID("2026-11-23T08:15:30.123Z\"x,A,1,1", 1, "bare quote");
}

TEST(good_timestamps)
{
    VALID("2028-02-29T23:59:59.999999999+05:30,X,1,1");
    VALID("2000-02-29T00:00:00Z,X,1,1");
    VALID("0000-02-29T00:00:00Z,X,1,1"); /* year 0 is a leap year (proleptic Gregorian) */
    VALID("2026-11-23T00:00:00-23:59,X,1,1");
    VALID("2026-12-31T23:59:59.1Z,X,1,1");
    VALID("2026-01-31T00:00:00.12345678Z,X,1,1");
    VALID("9999-12-31T23:59:59+00:00,X,1,1");
    VALID("0,X,1,1");
    VALID("999999999999999,X,1,1");
    VALID("000000000000001,X,1,1");
    VALID("12345678,X,1,1");
    VALID("2026,X,1,1"); /* four digits and no '-': epoch milliseconds */
    VALID("\"2026-11-23T08:15:30.123Z\",X,1,1");
}

TEST(error_bad_symbol)
{
    INVALID("1,AA PL,1.0,1", 2, "bad symbol");
    INVALID("1,ABCDEFGHIJKLMNOPQ,1.0,1", 2, "bad symbol"); /* 17 */
    INVALID("1,,1.0,1", 2, "bad symbol");
    INVALID("1,A/B,1,1", 2, "bad symbol");
    INVALID("1,A+B,1,1", 2, "bad symbol");
    INVALID("1,\xc3\xa9,1,1", 2, "bad symbol");
    INVALID("1,A\x01,1,1", 2, "bad symbol");
    INVALID("1,\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijk\",1,1", 2, "bad symbol");
    VALID("1,ABCDEFGHIJKLMNOP,1,1"); /* 16 */
    VALID("1,azAZ09._-,1,1");
    VALID("1,\"-\",1,1");
}

TEST(error_bad_price)
{
    INVALID("1,AAPL,1e5,1", 3, "bad price");
    INVALID("1,AAPL,-1.0,1", 3, "bad price");
    INVALID("1,AAPL,+1.0,1", 3, "bad price");
    INVALID("1,AAPL,1.,1", 3, "bad price");
    INVALID("1,AAPL,.5,1", 3, "bad price");
    INVALID("1,AAPL,1.123456789,1", 3, "bad price");
    INVALID("1,AAPL,12345678901,1", 3, "bad price");
    INVALID("1,AAPL,12345678901.5,1", 3, "bad price");
    INVALID("1,AAPL,1.2.3,1", 3, "bad price");
    INVALID("1,AAPL,,1", 3, "bad price");
    INVALID("1,AAPL, 1,1", 3, "bad price");
    INVALID("1,AAPL,inf,1", 3, "bad price");
    INVALID("1,AAPL,0x10,1", 3, "bad price");
    VALID("1,A,1234567890,1");
    VALID("1,A,1234567890.12345678,1");
    VALID("1,A,0,1");
    VALID("1,A,00.00,1");
    VALID("1,A,12345678,1");
    VALID("1,A,123456789,1");
}

TEST(error_bad_quantity)
{
    INVALID("1,AAPL,1.0,0", 4, "bad quantity");
    INVALID("1,AAPL,1.0,000000000", 4, "bad quantity");
    INVALID("1,AAPL,1.0,1.5", 4, "bad quantity");
    INVALID("1,AAPL,1.0,1234567890", 4, "bad quantity");
    INVALID("1,AAPL,1.0,-1", 4, "bad quantity");
    INVALID("1,AAPL,1.0,", 4, "bad quantity");
    INVALID("1,AAPL,1.0, 1", 4, "bad quantity");
    INVALID("1,AAPL,1.0,1 ", 4, "bad quantity");
    VALID("1,A,1,999999999");
    VALID("1,A,1,12345678");
    VALID("1,A,1,001");
}

TEST(first_error_wins)
{
    CHECK_ERR("timestamp,symbol,price,quantity\n1,AAPL,x,1\n2,AAPL,1.0,y\n", 2, 3, "bad price");
    /* left to right within a record */
    CHECK_ERR("timestamp,symbol,price,quantity\nx,AA PL,y,0\n", 2, 1, "bad timestamp");
    CHECK_ERR("1,AA PL,y,0\n", 1, 2, "bad symbol");
    /* a bad field among the first four before a wrong field count */
    CHECK_ERR("1,AAPL,1e5,1,x\n", 1, 3, "bad price");
    CHECK_ERR("1,AAPL,1,0,x\n", 1, 4, "bad quantity");
    CHECK_ERR("x,A\n", 1, 1, "bad timestamp");
    /* a quote error after a bad field: the bad field first */
    CHECK_ERR("1,A B,\"1\n", 1, 2, "bad symbol");
    CHECK_ERR("1,A,1e5,1\"\n", 1, 3, "bad price");
    /* a quote error before a bad field */
    CHECK_ERR("1,A\"B,1e5,1\n", 1, 2, "bare quote");
    /* an error in an earlier record beats everything after it */
    CHECK_ERR("1,A,1,1\n1,A,1\n1,\"\n", 2, 4, "wrong field count");
}

/* ---- answers ---- */

TEST(symbols_sorted_bytewise)
{
    CHECK_JSON("timestamp,symbol,price,quantity\n1,b,1,1\n1,B,2,2\n1,a.1,3,3\n1,A,4,4\n1,_z-9,5,5\n",
               "{\"rows\":5,\"symbols\":[{\"symbol\":\"A\",\"count\":1,\"quantity\":4,\"min_price\":4."
               "000000,\"max_price\":4.000000,\"vwap\":4.000000},{\"symbol\":\"B\",\"count\":1,"
               "\"quantity\":2,\"min_price\":2.000000,\"max_price\":2.000000,\"vwap\":2.000000},{"
               "\"symbol\":\"_z-9\",\"count\":1,\"quantity\":5,\"min_price\":5.000000,\"max_price\":"
               "5.000000,\"vwap\":5.000000},{\"symbol\":\"a.1\",\"count\":1,\"quantity\":3,\"min_"
               "price\":3.000000,\"max_price\":3.000000,\"vwap\":3.000000},{\"symbol\":\"b\","
               "\"count\":1,\"quantity\":1,\"min_price\":1.000000,\"max_price\":1.000000,\"vwap\":1."
               "000000}]}");
    /* a prefix sorts first; 16-byte symbols that differ in their last byte */
    char *j = answer("1,AB,1,1\n1,A,1,1\n1,ABCDEFGHIJKLMNOQ,1,1\n1,ABCDEFGHIJKLMNOP,1,1\n1,-,1,1\n"
                     "1,ABCDEFGH,1,1\n1,ABCDEFGHI,1,1\n");
    CHECK(j != NULL);
    if (j) {
        const char *order[] = {"\"-\"", "\"A\"", "\"AB\"", "\"ABCDEFGH\"", "\"ABCDEFGHI\"",
                               "\"ABCDEFGHIJKLMNOP\"", "\"ABCDEFGHIJKLMNOQ\""};
        const char *at = j;
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            const char *f = strstr(at, order[i]);
            CHECK(f != NULL);
            if (f)
                at = f + 1;
        }
        free(j);
    }
}

TEST(exact_json_by_hand)
{
    /* ZZ: 2.5*4 + 3.5*6 = 31 over 10; AA: 1.25 over 2 */
    CHECK_JSON("timestamp,symbol,price,quantity\n1,ZZ,2.5,4\n1,AA,1.25,2\n1,ZZ,3.5,6\n",
               "{\"rows\":3,\"symbols\":[{\"symbol\":\"AA\",\"count\":1,\"quantity\":2,\"min_price\":1."
               "250000,\"max_price\":1.250000,\"vwap\":1.250000},{\"symbol\":\"ZZ\",\"count\":2,"
               "\"quantity\":10,\"min_price\":2.500000,\"max_price\":3.500000,\"vwap\":3.100000}]}");
    /* the contract's rounding case: 0.1*3 + 0.2*7 = 1.7 over 10 */
    CHECK_JSON("timestamp,symbol,price,quantity\n1,R,0.0000005,1\n1,S,0.0000015,1\n"
               "1,T,9999999999.99999999,1\n1,U,0.1,3\n1,U,0.2,7\n",
               "{\"rows\":5,\"symbols\":[{\"symbol\":\"R\",\"count\":1,\"quantity\":1,\"min_price\":0."
               "000000,\"max_price\":0.000000,\"vwap\":0.000000},{\"symbol\":\"S\",\"count\":1,"
               "\"quantity\":1,\"min_price\":0.000002,\"max_price\":0.000002,\"vwap\":0.000002},{"
               "\"symbol\":\"T\",\"count\":1,\"quantity\":1,\"min_price\":10000000000.000000,\"max_"
               "price\":10000000000.000000,\"vwap\":10000000000.000000},{\"symbol\":\"U\",\"count\":"
               "2,\"quantity\":10,\"min_price\":0.100000,\"max_price\":0.200000,\"vwap\":0.170000}]}");
    /* the contract's large quantities */
    CHECK_JSON("timestamp,symbol,price,quantity\n1,Q,1.5,999999999\n2,Q,2.25,999999999\n"
               "3,Q,0.00000001,123456789\n",
               "{\"rows\":3,\"symbols\":[{\"symbol\":\"Q\",\"count\":3,\"quantity\":2123456787,\"min_"
               "price\":0.000000,\"max_price\":2.250000,\"vwap\":1.765988}]}");
}

TEST(six_decimals_ties_to_even)
{
    /* exact binary ties: 1/128 = 0.0078125 -> 7812.5 millionths -> 7812 (even);
     * 3/128 = 0.0234375 -> 23437.5 -> 23438; 1 + 1/128 -> 1007812.5 -> 1007812 */
    char *j = answer("1,A,0.0078125,1\n1,B,0.0234375,1\n1,C,1.0078125,1\n1,D,0.0000005,1\n");
    CHECK(j && strstr(j, "\"symbol\":\"A\",\"count\":1,\"quantity\":1,\"min_price\":0.007812,"));
    CHECK(j && strstr(j, "\"min_price\":0.023438,"));
    CHECK(j && strstr(j, "\"min_price\":1.007812,"));
    CHECK(j && strstr(j, "\"symbol\":\"D\",\"count\":1,\"quantity\":1,\"min_price\":0.000000,"));
    free(j);
}

/* Every number of the answer is printf("%.6f") of the aggregate's doubles: random prices and
 * quantities, the answer compared with snprintf field by field. */
TEST(six_decimals_match_printf)
{
    uint64_t st = 12345;
    for (int round = 0; round < 200; round++) {
        buf_t body = BUF_INIT;
        for (int r = 0; r < 300; r++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t x = st >> 11;
            int ip = (int)(x % 11), fp = (int)((x >> 4) % 9);
            char digits[32];
            int n = 0;
            for (int i = 0; i < (ip ? ip : 1); i++)
                digits[n++] = (char)('0' + (x >> (8 + i * 3)) % 10);
            if (fp) {
                digits[n++] = '.';
                for (int i = 0; i < fp; i++)
                    digits[n++] = (char)('0' + (st >> (i * 5 + 3)) % 10);
            }
            digits[n] = 0;
            buf_printf(&body, "1,S%d,%s,%llu\n", (int)(x % 17), digits,
                       (unsigned long long)(1 + (x >> 40) % 999999999));
        }
        csv_agg_t a;
        csv_agg_init(&a);
        csv_error_t e;
        CHECK_INT(parse(buf_start(&body), buf_size(&body), &a, &e), 0);
        buf_t out = BUF_INIT;
        CHECK_INT(csv_write_json(&a, &out), 0);
        buf_append(&out, "", 1);
        for (size_t i = 0; i < a.nsyms; i++) {
            const csv_symbol_t *s = &a.syms[i];
            char want[512];
            snprintf(want, sizeof want,
                     "{\"symbol\":\"%s\",\"count\":%llu,\"quantity\":%llu,\"min_price\":%.6f,"
                     "\"max_price\":%.6f,\"vwap\":%.6f}",
                     s->symbol, (unsigned long long)s->count, (unsigned long long)s->quantity,
                     s->min_price, s->max_price, s->sum_pq / (double)s->quantity);
            if (!strstr(buf_start(&out), want)) {
                fprintf(stderr, "    missing %s\n", want);
                t_failures++;
            }
        }
        buf_free(&out);
        buf_free(&body);
        csv_agg_free(&a);
    }
}

/* Prices are the nearest double: the same as strtod's, fast path (<= 2^53) or not. */
TEST(prices_correctly_rounded)
{
    static const char *const prices[] = {
        "0.1", "0.2", "0.3", "187.25", "9007199254.740993", "9007199254.7409921",
        "1234567890.12345678", "9999999999.99999999", "0.00000001", "4503599627.3704955",
        "0000000001.00000001", "1.7976931", "8.98846567", "2.2250738", "0.30000001",
    };
    for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++) {
        char body[128];
        snprintf(body, sizeof body, "1,P,%s,1\n", prices[i]);
        csv_agg_t a;
        csv_agg_init(&a);
        csv_error_t e;
        CHECK_INT(parse(body, strlen(body), &a, &e), 0);
        CHECK(a.nsyms == 1 && a.syms[0].min_price == strtod(prices[i], NULL));
        csv_agg_free(&a);
    }
    /* and random ones with up to 18 digits */
    uint64_t st = 99;
    csv_agg_t a;
    csv_agg_init(&a);
    for (int i = 0; i < 20000; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        char price[32];
        int k = (int)(1 + (st >> 8) % 8);
        static const uint64_t p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                       100000000, 1000000000, 10000000000ull};
        uint64_t ip = (st >> 20) % p10[1 + (st >> 12) % 10], frac = (st >> 30) % p10[k];
        snprintf(price, sizeof price, "%llu.%0*llu", (unsigned long long)ip, k,
                 (unsigned long long)frac);
        char body[64];
        snprintf(body, sizeof body, "1,P,%s,1", price);
        csv_error_t e;
        int rc = parse(body, strlen(body), &a, &e);
        CHECK_INT(rc, 0);
        if (rc == 0 && a.syms[0].min_price != strtod(price, NULL)) {
            fprintf(stderr, "    price %s: %.17g != %.17g\n", price, a.syms[0].min_price,
                    strtod(price, NULL));
            t_failures++;
        }
    }
    csv_agg_free(&a);
}

/* ---- the symbol table ---- */

TEST(many_symbols)
{
    buf_t body = BUF_INIT;
    buf_puts(&body, "timestamp,symbol,price,quantity\n");
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 10000; i++)
            buf_printf(&body, "%d,S%05d,%d.5,%d\n", i, (i * 7919) % 10000, i % 1000, pass + 1);
    csv_agg_t a;
    csv_agg_init(&a);
    csv_error_t e;
    CHECK_INT(parse(buf_start(&body), buf_size(&body), &a, &e), 0);
    CHECK_INT(a.rows, 20000);
    CHECK_INT(a.nsyms, 10000);
    CHECK(a.index_cap >= 20000 && (a.index_cap & (a.index_cap - 1)) == 0);
    /* first-appearance order, and every count */
    CHECK_STR(a.syms[0].symbol, "S00000");
    CHECK_STR(a.syms[1].symbol, "S07919");
    int good = 1;
    for (int i = 0; i < 10000; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "S%05d", i);
        const csv_symbol_t *s = find(&a, sym);
        if (!s || s->count != 2 || s->quantity != 3 || s->len != 6)
            good = 0;
    }
    CHECK(good);
    buf_t out = BUF_INIT;
    CHECK_INT(csv_write_json(&a, &out), 0);
    buf_append(&out, "", 1);
    /* sorted: S00000, S00001, ... in this order */
    const char *at = buf_start(&out);
    for (int i = 0; i < 10000 && at; i++) {
        char sym[32];
        snprintf(sym, sizeof sym, "\"symbol\":\"S%05d\"", i);
        at = strstr(at, sym);
    }
    CHECK(at != NULL);
    buf_free(&out);
    buf_free(&body);
    csv_agg_free(&a);
}

TEST(reset_reuses_memory)
{
    buf_t body = BUF_INIT;
    for (int i = 0; i < 500; i++)
        buf_printf(&body, "1,X%d,1.5,2\n", i % 100);
    csv_agg_t a;
    csv_agg_init(&a);
    csv_error_t e;
    CHECK_INT(csv_aggregate(buf_start(&body), buf_size(&body), &a, &e), 0);
    csv_symbol_t *syms = a.syms;
    uint32_t *index = a.index;
    size_t cap = a.cap, icap = a.index_cap;
    for (int round = 0; round < 3; round++) {
        csv_agg_reset(&a);
        CHECK_INT(a.rows, 0);
        CHECK_INT(a.nsyms, 0);
        CHECK_INT(csv_aggregate(buf_start(&body), buf_size(&body), &a, &e), 0);
        CHECK(a.syms == syms && a.index == index && a.cap == cap && a.index_cap == icap);
        CHECK_INT(a.rows, 500);
        CHECK_INT(a.nsyms, 100);
        CHECK(a.nsyms == 100 && a.syms[7].count == 5 && a.syms[7].quantity == 10);
    }
    /* without a reset, a second body adds up */
    CHECK_INT(csv_aggregate(buf_start(&body), buf_size(&body), &a, &e), 0);
    CHECK_INT(a.rows, 1000);
    CHECK(a.syms[7].count == 10);

    /* a big table, then a small body: the reset clears only the slots in use, all of them */
    buf_t big = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_printf(&big, "1,B%d,1,1\n", i);
    csv_agg_reset(&a);
    CHECK_INT(csv_aggregate(buf_start(&big), buf_size(&big), &a, &e), 0);
    csv_agg_reset(&a);
    CHECK_INT(csv_aggregate(buf_start(&body), buf_size(&body), &a, &e), 0);
    CHECK(a.index_cap > 4096 && a.nsyms * 16 < a.index_cap);
    csv_agg_reset(&a);
    size_t used = 0;
    for (size_t i = 0; i < a.index_cap; i++)
        used += a.index[i] != 0;
    CHECK_INT(used, 0);
    CHECK_INT(csv_aggregate(buf_start(&body), buf_size(&body), &a, &e), 0);
    CHECK_INT(a.nsyms, 100);
    CHECK(a.syms[7].count == 5);
    buf_free(&big);
    buf_free(&body);
    csv_agg_free(&a);
}

/* Quantities add up as 64-bit integers past 2^53, where a double would lose them; the sum of
 * price * quantity adds one double at a time in body order. */
TEST(quantities_past_2_53)
{
    buf_t body = BUF_INIT;
    for (int i = 0; i < 100000; i++)
        buf_printf(&body, "1,Q,%s,999999999\n", i % 2 ? "1" : "1.00000001");
    csv_agg_t a;
    csv_agg_init(&a);
    csv_error_t e;
    for (int k = 0; k < 100; k++) /* no reset: 10^7 trades */
        CHECK_INT(csv_aggregate(buf_start(&body), buf_size(&body), &a, &e), 0);
    CHECK_INT(a.rows, 10000000);
    CHECK(a.nsyms == 1 && a.syms[0].quantity == 9999999990000000ull);
    CHECK(a.syms[0].quantity > (1ull << 53));
    volatile double p1 = 1.0, p2 = 1.00000001, q = 999999999.0;
    double sum = 0;
    for (int k = 0; k < 100; k++)
        for (int i = 0; i < 100000; i++) {
            volatile double pq = (i % 2 ? p1 : p2) * q;
            sum += pq;
        }
    CHECK(a.nsyms == 1 && a.syms[0].sum_pq == sum);
    buf_t out = BUF_INIT;
    CHECK_INT(csv_write_json(&a, &out), 0);
    char want[128];
    snprintf(want, sizeof want, "\"quantity\":9999999990000000,\"min_price\":1.000000,"
                                "\"max_price\":1.000000,\"vwap\":%.6f}", sum / 9999999990000000.0);
    buf_append(&out, "", 1);
    CHECK(strstr(buf_start(&out), want) != NULL);
    buf_free(&out);
    buf_free(&body);
    csv_agg_free(&a);
}

/* Σ price × quantity is one rounded multiplication, then one rounded addition, in body order:
 * compared bitwise with a sum whose products go through a volatile, so cannot be fused. Each
 * of 2000 symbols gets two trades of similar size: then fma(p2, q2, p1 * q1) differs from the
 * two roundings about one time in six (a running sum much larger than each product would hide
 * the difference). A fused multiply-add (GCC contracts by default, e.g. with -march=native)
 * fails this. */
TEST(sum_is_multiply_then_add_unfused)
{
    enum { NSYM = 2000 };
    uint64_t st = 777;
    buf_t body = BUF_INIT;
    static double sums[NSYM];
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < NSYM; k++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            unsigned long long ip = (st >> 20) % 1000, frac = (st >> 40) % 100000000;
            unsigned long long qty = 1 + (st >> 8) % 999999999;
            char price[32];
            snprintf(price, sizeof price, "%llu.%08llu", ip, frac);
            buf_printf(&body, "1,S%d,%s,%llu\n", k, price, qty);
            volatile double pq = strtod(price, NULL) * (double)qty;
            sums[k] = round ? sums[k] + pq : pq;
        }
    csv_agg_t a;
    csv_agg_init(&a);
    csv_error_t e;
    CHECK_INT(parse(buf_start(&body), buf_size(&body), &a, &e), 0);
    int same = a.nsyms == NSYM;
    for (int k = 0; k < NSYM && same; k++) /* first appearance: S0, S1, ... */
        same = memcmp(&a.syms[k].sum_pq, &sums[k], sizeof(double)) == 0;
    CHECK(same);
    buf_free(&body);
    csv_agg_free(&a);
}

/* The same record parsed at every distance from the end of the body (the fast path needs room
 * after a field, the slow path takes the rest): the same answer or the same error each time. */
TEST(fast_and_slow_paths_agree)
{
    static const char *const recs[] = {
        "2026-11-23T08:15:30.123Z,AAPL,187.25,100", "\"1\",\"ABCDEFGHIJKLMNOP\",\"1.5\",\"2\"",
        "2028-02-29T23:59:59.999999999+05:30,X,1234567890.12345678,999999999",
        "1,A\"B,1,1", "1,ABCDEFGHIJKLMNOPQ,1,1", "2026-02-29T00:00:00Z,A,1,1", "1,A,1.,1",
        "1,A,1,1,1", "1,A,1", "1,\"A\"\"B\",1,1", "1,A,1,\"0\"", "1,\"A\"x,1,1", "1,A,1,\"1",
    };
    for (size_t r = 0; r < sizeof recs / sizeof recs[0]; r++) {
        int want_rc = 2;
        csv_error_t want = {0, 0, NULL};
        for (int pad = 0; pad < 80; pad++) {
            buf_t b = BUF_INIT;
            buf_printf(&b, "%s\n", recs[r]);
            for (int i = 0; i < pad; i++)
                buf_puts(&b, "\n"); /* empty lines do not change the answer */
            csv_agg_t a;
            csv_agg_init(&a);
            csv_error_t e = {0, 0, NULL};
            int rc = parse(buf_start(&b), buf_size(&b), &a, &e);
            if (want_rc == 2) {
                want_rc = rc;
                want = e;
            } else if (rc != want_rc || (rc && (e.line != want.line || e.column != want.column ||
                                                 e.reason != want.reason))) {
                fprintf(stderr, "    %s with %d bytes after: rc %d (%zu,%zu,%s) != %d\n", recs[r],
                        pad, rc, e.line, e.column, e.reason, want_rc);
                t_failures++;
            }
            buf_free(&b);
            csv_agg_free(&a);
        }
    }
}

T_MAIN(T(contract_example), T(header_any_case_skipped), T(header_lookalikes_are_trades),
       T(header_only_and_empty_bodies), T(quoted_fields), T(crlf_lf_mix_and_final_line_end),
       T(empty_lines_skipped), T(lone_cr_is_data), T(error_unterminated_quote),
       T(error_bare_quote), T(error_wrong_field_count), T(error_bad_timestamp), T(good_timestamps),
       T(error_bad_symbol), T(error_bad_price), T(error_bad_quantity), T(first_error_wins),
       T(symbols_sorted_bytewise), T(exact_json_by_hand), T(six_decimals_ties_to_even),
       T(six_decimals_match_printf), T(prices_correctly_rounded), T(many_symbols),
       T(reset_reuses_memory), T(quantities_past_2_53), T(sum_is_multiply_then_add_unfused),
       T(fast_and_slow_paths_agree))
