/* csv_idiomatic: the csv workload's idiomatic tier (contracts/csv.md).
 *
 * ## libcsv, and what is checked around it
 *
 * libcsv (Debian's libcsv-dev) reads the body: a callback per field with the field's value
 * (quotes removed, `""` made `"`), a callback per record end. It is set up as strict as it
 * goes: CSV_STRICT (a `"` in an unquoted field, or anything but `,` or a line end after a
 * closing quote, stops it: both are the contract's `bare quote`), CSV_STRICT_FINI (a quoted
 * field still open at the end of the body is an error: `unterminated quote`), no space
 * trimming (a space function that says no to every byte: the contract does not trim), and
 * CSV_REPALL_NL, so that every line end is reported, empty lines included.
 *
 * What libcsv does not do is done here:
 *   - Where it is. Errors need the line of the failing record and the number of the field at
 *     fault, and libcsv reports neither. So the callbacks follow the body along: with no
 *     trimming, a field is quoted exactly when its first byte is `"`, and then its text in
 *     the body is its value's length plus two quotes plus one more per `"` in the value; the
 *     byte after it is the field's terminator. An empty line is one callback for its CR or LF.
 *   - CR. libcsv ends a record at CR or LF alike; to the contract only LF and CR LF end one,
 *     and a CR alone is data. So a record end at a CR is looked at in the body: followed by
 *     LF, it is a CR LF line end (libcsv's next callback, an empty line for that LF, is then
 *     dropped). Alone, the CR is part of its field: after a closing quote that is a bare
 *     quote; in an unquoted field it is a byte that no grammar allows, and the contract's
 *     field goes on to the next `,` or line end: a `"` before that makes it a bare quote,
 *     else the field's value is bad.
 *   - The field grammars, the header, the field count and which error comes first: below.
 *
 * ## Which error is reported
 *
 * The first in the body (as src/codec/csv.c explains): fields are checked as libcsv completes
 * them, left to right; a libcsv error is an error of the field it is in, found after the
 * fields before it were checked; a fifth field is an error as soon as the fourth ends with a
 * `,`; a record of k < 4 fields fails at column k + 1 once its fields were checked. Once an
 * error is found the callbacks do nothing more, and the body is fed no further (it goes to
 * libcsv a block at a time).
 *
 * The first record that is not an empty line is the header when it is exactly the four names
 * (ASCII case-insensitive, after unquoting) followed by a line end or the end of the body; it
 * is skipped. Whether it is can be known only at its end, so its fields are checked as a
 * trade's only once one of them is not its name. If the first one was `timestamp` and the
 * record then turns out not to be the header, the error is that one: `timestamp` is not a
 * timestamp, and column 1 comes before anything later in the record.
 *
 * ## Numbers and answer
 *
 * Each field is checked against the contract's grammar first, then read by the C library:
 * strtod (glibc's is correctly rounded: the nearest double, as the contract wants) and
 * strtoll, which alone would take much more (`1e5`, `-1`, ` 1`, `inf`). A timestamp is only
 * checked (its value is not used): its form digit by digit, then its date and time on the
 * numbers of those digits (sscanf or strptime would read them again, and accept more than
 * the form: spaces, signs, one-digit fields). The aggregate adds price * quantity in body
 * order, one rounding each; the answer's numbers are printf's `%.6f`, which glibc writes
 * correctly rounded from the double's exact value (ties to even), as the contract asks. */
#include "serve/csv_idiomatic.h"

#include <assert.h>
#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SYMBOL_MAX 16

/* What the body is fed to libcsv in: an error stops the feeding within this many bytes. */
#define FEED_BLOCK (16 << 10)
/* A parser whose field buffer grew past this (a huge field) gives it back after the body. */
#define PARSER_BUF_KEEP (64 << 10)

static const char R_UNTERMINATED[] = "unterminated quote";
static const char R_BARE_QUOTE[] = "bare quote";
static const char R_FIELD_COUNT[] = "wrong field count";
static const char R_TIMESTAMP[] = "bad timestamp";
static const char R_SYMBOL[] = "bad symbol";
static const char R_PRICE[] = "bad price";
static const char R_QUANTITY[] = "bad quantity";

/* ---- the symbol table: chained hashing ---- */

typedef struct {
    char symbol[SYMBOL_MAX + 1];
    uint64_t count, quantity;
    double min_price, max_price;
    double sum_pq;   /* Σ price * quantity, in body order */
    uint32_t next;   /* the next entry of the same bucket, + 1 (0: none) */
} sym_entry_t;

typedef struct {
    sym_entry_t *entries;  /* in order of first appearance */
    size_t n, cap;
    uint32_t *buckets;     /* first entry of each chain, + 1 (0: empty) */
    size_t nbuckets;       /* a power of two, at least n */
} sym_table_t;

/* FNV-1a */
static uint32_t sym_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int sym_rehash(sym_table_t *t, size_t nbuckets)
{
    uint32_t *b = calloc(nbuckets, sizeof *b);
    if (!b)
        return -ENOMEM;
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nbuckets;
    for (size_t i = 0; i < t->n; i++) {
        sym_entry_t *e = &t->entries[i];
        uint32_t h = sym_hash(e->symbol, strlen(e->symbol)) & (nbuckets - 1);
        e->next = b[h];
        b[h] = (uint32_t)(i + 1);
    }
    return 0;
}

/* The entry of symbol s (n bytes), made empty when new; NULL when out of memory. */
static sym_entry_t *sym_get(sym_table_t *t, const char *s, size_t n)
{
    uint32_t h = sym_hash(s, n);
    for (uint32_t i = t->buckets[h & (t->nbuckets - 1)]; i; i = t->entries[i - 1].next) {
        sym_entry_t *e = &t->entries[i - 1];
        if (strncmp(e->symbol, s, n) == 0 && e->symbol[n] == '\0')
            return e;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap * 2;
        sym_entry_t *e = realloc(t->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        t->entries = e;
        t->cap = cap;
    }
    if (t->n + 1 > t->nbuckets && sym_rehash(t, t->nbuckets * 2) != 0)
        return NULL;
    sym_entry_t *e = &t->entries[t->n++];
    memset(e, 0, sizeof *e);
    memcpy(e->symbol, s, n);
    uint32_t *head = &t->buckets[h & (t->nbuckets - 1)];
    e->next = *head;
    *head = (uint32_t)t->n;
    return e;
}

static void sym_clear(sym_table_t *t)
{
    memset(t->buckets, 0, t->nbuckets * sizeof *t->buckets);
    t->n = 0;
}

static int sym_cmp(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: bytewise, as the contract sorts */
    return strcmp((*(const sym_entry_t *const *)a)->symbol,
                  (*(const sym_entry_t *const *)b)->symbol);
}

/* ---- the field grammars (contracts/csv.md) ---- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* s (n bytes) has the form of pattern, where 'd' stands for a digit. */
static bool has_form(const char *s, size_t n, const char *pattern)
{
    if (n != strlen(pattern))
        return false;
    for (size_t i = 0; i < n; i++)
        if (pattern[i] == 'd' ? !all_digits(s + i, 1) : s[i] != pattern[i])
            return false;
    return true;
}

/* The value of n digits (checked by has_form). */
static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Epoch milliseconds [0-9]{1,15}, or YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) with a
 * real date and time. Only checked: the value is not used. */
static bool timestamp_ok(const char *s, size_t n)
{
    if (n >= 1 && n <= 15 && all_digits(s, n))
        return true;
    if (n < 20 || !has_form(s, 19, "dddd-dd-ddTdd:dd:dd"))
        return false;
    int year = num(s, 4), month = num(s + 5, 2), day = num(s + 8, 2);
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 59)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t digits = 0;
        while (i + 1 + digits < n && all_digits(s + i + 1 + digits, 1))
            digits++;
        if (digits < 1 || digits > 9)
            return false;
        i += 1 + digits;
    }
    if (n - i == 1 && s[i] == 'Z')
        return true;
    if (!has_form(s + i, n - i, "+dd:dd") && !has_form(s + i, n - i, "-dd:dd"))
        return false;
    return num(s + i + 1, 2) <= 23 && num(s + i + 4, 2) <= 59;
}

/* [A-Za-z0-9._-]{1,16} */
static bool symbol_ok(const char *s, size_t n)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789._-";
    if (n < 1 || n > SYMBOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || !strchr(allowed, s[i]))
            return false;
    return true;
}

/* [0-9]{1,10}(\.[0-9]{1,8})?, then strtod. s is NUL-terminated (CSV_APPEND_NULL). */
static bool price_ok(const char *s, size_t n, double *price)
{
    const char *point = memchr(s, '.', n);
    size_t int_len = point ? (size_t)(point - s) : n;
    if (int_len < 1 || int_len > 10 || !all_digits(s, int_len))
        return false;
    if (point) {
        size_t frac_len = n - int_len - 1;
        if (frac_len < 1 || frac_len > 8 || !all_digits(point + 1, frac_len))
            return false;
    }
    /* strtod takes the locale's decimal point; nothing in stackbench calls setlocale, so it
     * is the C locale's '.' */
    *price = strtod(s, NULL);
    return true;
}

/* [0-9]{1,9}, at least 1, then strtoll. s is NUL-terminated. */
static bool quantity_ok(const char *s, size_t n, uint64_t *qty)
{
    if (n < 1 || n > 9 || !all_digits(s, n))
        return false;
    long long v = strtoll(s, NULL, 10);
    if (v < 1)
        return false;
    *qty = (uint64_t)v;
    return true;
}

/* ---- following libcsv through the body ---- */

static const char *const HEADER[4] = {"timestamp", "symbol", "price", "quantity"};

struct csv_idiomatic {
    struct csv_parser parser;
    sym_table_t syms;
    uint64_t rows;

    /* the body being read */
    const char *body;
    size_t len;
    size_t pos;        /* where the next field or empty line starts */
    size_t line;       /* the line of pos */
    size_t rec_line;   /* the line where the current record starts (or the next one, between
                        * records) */
    int nfields;       /* fields of the current record completed so far */
    bool row_ended;    /* the field just read ended its record: libcsv's record end is next */
    bool crlf_lf;      /* libcsv's next callback is the LF of a CR LF already counted */
    bool header_maybe; /* the current record may be the header */
    int header_names;  /* its fields so far that are the header's names */

    /* the current trade */
    char symbol[SYMBOL_MAX + 1];
    double price;
    uint64_t qty;

    /* the first error */
    const char *reason; /* NULL: none yet */
    size_t err_line, err_column;
    bool nomem;
};

/* libcsv's space function: the contract trims nothing */
static int no_space(unsigned char c) { return 0; }

static int parser_init(csv_idiomatic_t *st)
{
    if (csv_init(&st->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_APPEND_NULL) != 0)
        return -ENOMEM;
    csv_set_space_func(&st->parser, no_space);
    /* libcsv's own line ends (CR, LF) stay: CR is sorted out in the callbacks */
    return 0;
}

/* The record fails at column with reason. A record that might still have been the header and
 * whose first field was `timestamp` fails there instead (see the top of the file). */
static void fail(csv_idiomatic_t *st, size_t column, const char *reason)
{
    if (st->reason)
        return;
    if (st->header_maybe && st->header_names > 0) {
        column = 1;
        reason = R_TIMESTAMP;
    }
    st->reason = reason;
    st->err_line = st->rec_line;
    st->err_column = column;
}

/* An unquoted field's text goes on past a CR that is not a line end: to the next `,`, LF,
 * CR LF or the end of the body. Whether it holds a `"` before that. */
static bool quote_before_field_end(const csv_idiomatic_t *st, size_t i)
{
    for (; i < st->len; i++) {
        char c = st->body[i];
        if (c == '"')
            return true;
        if (c == ',' || c == '\n' || (c == '\r' && i + 1 < st->len && st->body[i + 1] == '\n'))
            return false;
    }
    return false;
}

static const char *const FIELD_REASON[4] = {R_TIMESTAMP, R_SYMBOL, R_PRICE, R_QUANTITY};

/* Field col (1..4) of a trade, kept in st when good: NULL, or the reason it is bad. */
static const char *check_field(csv_idiomatic_t *st, int col, const char *v, size_t n)
{
    switch (col) {
    case 1:
        return timestamp_ok(v, n) ? NULL : R_TIMESTAMP;
    case 2:
        if (!symbol_ok(v, n))
            return R_SYMBOL;
        memcpy(st->symbol, v, n);
        st->symbol[n] = '\0';
        return NULL;
    case 3:
        return price_ok(v, n, &st->price) ? NULL : R_PRICE;
    default:
        return quantity_ok(v, n, &st->qty) ? NULL : R_QUANTITY;
    }
}

static void add_trade(csv_idiomatic_t *st)
{
    sym_entry_t *e = sym_get(&st->syms, st->symbol, strlen(st->symbol));
    if (!e) {
        st->nomem = true;
        return;
    }
    if (e->count == 0)
        e->min_price = e->max_price = st->price;
    e->count++;
    e->quantity += st->qty;
    if (st->price < e->min_price)
        e->min_price = st->price;
    if (st->price > e->max_price)
        e->max_price = st->price;
    /* The product rounded to a double before the sum, as the contract says: through a
     * volatile, so that no compiler fuses the two into an FMA (GCC's default for GNU C,
     * -ffp-contract=fast, does whenever the target has one). */
    volatile double pq = st->price * (double)st->qty;
    e->sum_pq += pq;
    st->rows++;
}

/* libcsv: a field ended. */
static void on_field(void *data, size_t n, void *arg)
{
    csv_idiomatic_t *st = arg;
    if (st->reason || st->nomem)
        return;
    const char *v = data;
    int col = st->nfields + 1;

    /* where the field's text ends in the body, and its terminator */
    size_t start = st->pos, end = start + n;
    bool quoted = start < st->len && st->body[start] == '"';
    if (quoted) {
        end += 2;
        for (size_t i = 0; i < n; i++) {
            end += v[i] == '"';
            st->line += v[i] == '\n';
        }
    }
    int term = end < st->len ? (unsigned char)st->body[end] : EOF;
    /* libcsv ends a field only there: anything else means it read the body otherwise than
     * the walk above assumes */
    assert(term == EOF || term == ',' || term == '\r' || term == '\n');
    bool crlf = term == '\r' && end + 1 < st->len && st->body[end + 1] == '\n';

    if (term == '\r' && !crlf) { /* a CR alone: part of the field (see the top) */
        if (quoted || quote_before_field_end(st, end + 1))
            fail(st, (size_t)col, R_BARE_QUOTE);
        else
            fail(st, (size_t)col, FIELD_REASON[col - 1]);
        return;
    }

    if (st->header_maybe) {
        if (strlen(HEADER[col - 1]) == n && strncasecmp(v, HEADER[col - 1], n) == 0) {
            st->header_names++;
        } else if (st->header_names > 0) {
            fail(st, 1, R_TIMESTAMP); /* `timestamp` was a trade's timestamp after all */
            return;
        } else {
            st->header_maybe = false;
        }
    }
    if (!st->header_maybe) {
        const char *why = check_field(st, col, v, n);
        if (why) {
            fail(st, (size_t)col, why);
            return;
        }
    }

    if (term == ',') {
        if (col == 4) {
            fail(st, 5, R_FIELD_COUNT); /* a fifth field starts */
            return;
        }
        st->nfields++;
        st->pos = end + 1;
        return;
    }

    /* the record ends: LF, CR LF or the end of the body */
    if (col < 4) {
        fail(st, (size_t)col + 1, R_FIELD_COUNT);
        return;
    }
    if (!st->header_maybe)
        add_trade(st);
    st->header_maybe = false;
    st->nfields = 0;
    st->row_ended = true;
    if (term == EOF) {
        st->pos = st->len;
    } else {
        st->line++;
        st->pos = end + (crlf ? 2 : 1);
        st->crlf_lf = crlf;
    }
    st->rec_line = st->line;
}

/* libcsv: a record ended (c: the CR or LF that ended it, -1 at the end of the body), or an
 * empty line (CSV_REPALL_NL). */
static void on_record(int c, void *arg)
{
    csv_idiomatic_t *st = arg;
    if (st->reason || st->nomem)
        return;
    if (st->row_ended) { /* the end of the record on_field has just completed */
        st->row_ended = false;
        return;
    }
    if (st->crlf_lf) { /* the LF of a CR LF on_field has counted */
        st->crlf_lf = false;
        return;
    }
    /* an empty line, or a CR alone where a record starts */
    if (c == '\n') {
        st->pos++;
    } else if (st->pos + 1 < st->len && st->body[st->pos + 1] == '\n') {
        st->pos += 2;
        st->crlf_lf = true;
    } else {
        /* a record whose first field starts with a CR */
        fail(st, 1, quote_before_field_end(st, st->pos + 1) ? R_BARE_QUOTE : R_TIMESTAMP);
        return;
    }
    st->rec_line = ++st->line;
}

/* ---- the answer ---- */

static int write_answer(csv_idiomatic_t *st, buf_t *out)
{
    sym_table_t *t = &st->syms;
    const sym_entry_t **order = malloc((t->n ? t->n : 1) * sizeof *order);
    if (!order)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++)
        order[i] = &t->entries[i];
    qsort(order, t->n, sizeof *order, sym_cmp);

    int rc = buf_printf(out, "{\"rows\":%llu,\"symbols\":[", (unsigned long long)st->rows);
    for (size_t i = 0; i < t->n && rc >= 0; i++) {
        const sym_entry_t *e = order[i];
        rc = buf_printf(out,
                        "%s{\"symbol\":\"%s\",\"count\":%llu,\"quantity\":%llu,"
                        "\"min_price\":%.6f,\"max_price\":%.6f,\"vwap\":%.6f}",
                        i ? "," : "", e->symbol, (unsigned long long)e->count,
                        (unsigned long long)e->quantity, e->min_price, e->max_price,
                        e->sum_pq / (double)e->quantity);
    }
    if (rc >= 0)
        rc = buf_puts(out, "]}");
    free(order);
    return rc < 0 ? -ENOMEM : 0;
}

/* ---- the state ---- */

csv_idiomatic_t *csv_idiomatic_new(void)
{
    csv_idiomatic_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->syms.cap = 64;
    st->syms.nbuckets = 64;
    st->syms.entries = malloc(st->syms.cap * sizeof *st->syms.entries);
    st->syms.buckets = calloc(st->syms.nbuckets, sizeof *st->syms.buckets);
    if (!st->syms.entries || !st->syms.buckets || parser_init(st) != 0) {
        free(st->syms.entries);
        free(st->syms.buckets);
        free(st);
        return NULL;
    }
    return st;
}

void csv_idiomatic_free(csv_idiomatic_t *st)
{
    if (!st)
        return;
    csv_free(&st->parser);
    free(st->syms.entries);
    free(st->syms.buckets);
    free(st);
}

/* Feeds the body to libcsv a block at a time, stopping at the first error. */
static int read_body(csv_idiomatic_t *st)
{
    for (size_t off = 0; off < st->len && !st->reason && !st->nomem; off += FEED_BLOCK) {
        size_t n = st->len - off < FEED_BLOCK ? st->len - off : FEED_BLOCK;
        if (csv_parse(&st->parser, st->body + off, n, on_field, on_record, st) == n)
            continue;
        if (csv_error(&st->parser) != CSV_EPARSE || st->nomem)
            return -ENOMEM; /* its field buffer, or the symbol table, could not grow */
        /* strict mode: a quote where the contract has a bare quote (see the top), unless an
         * error earlier in the block came first */
        fail(st, (size_t)st->nfields + 1, R_BARE_QUOTE);
        return -1;
    }
    if (!st->reason && !st->nomem && csv_fini(&st->parser, on_field, on_record, st) != 0)
        fail(st, (size_t)st->nfields + 1, R_UNTERMINATED); /* CSV_STRICT_FINI */
    return st->nomem ? -ENOMEM : st->reason ? -1 : 0;
}

int csv_idiomatic_answer(csv_idiomatic_t *st, const char *body, size_t len, buf_t *out,
                         int *status)
{
    sym_clear(&st->syms);
    st->rows = 0;
    st->body = body;
    st->len = len;
    st->pos = 0;
    st->line = st->rec_line = 1;
    st->nfields = 0;
    st->row_ended = st->crlf_lf = false;
    st->header_maybe = true;
    st->header_names = 0;
    st->reason = NULL;
    st->nomem = false;

    int rc = read_body(st);
    if (rc != 0 || csv_get_buffer_size(&st->parser) > PARSER_BUF_KEEP) {
        /* csv_fini resets only a parser that finished cleanly: one stopped on an error is
         * made anew (and one whose field buffer grew large gives it back) */
        csv_free(&st->parser);
        if (parser_init(st) != 0)
            return -ENOMEM;
    }
    if (rc == -ENOMEM)
        return -ENOMEM;
    if (rc != 0) {
        *status = 400;
        return buf_printf(out,
                          "{\"error\":\"invalid_csv\",\"line\":%zu,\"column\":%zu,"
                          "\"reason\":\"%s\"}",
                          st->err_line, st->err_column, st->reason) < 0
                   ? -ENOMEM
                   : 0;
    }
    *status = 200;
    return write_answer(st, out);
}
