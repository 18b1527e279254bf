#include "lab/gen.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/opt.h"
#include "core/rand.h"

static const char *const symbols[] = {
    "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "BRK.B", "AVGO", "JPM",
    "LLY", "V", "UNH", "XOM", "MA", "JNJ", "PG", "HD", "COST", "MRK",
    "ABBV", "CVX", "CRM", "BAC", "NFLX", "AMD", "PEP", "KO", "TMO", "WMT",
    "ADBE", "LIN", "MCD", "CSCO", "ACN", "ABT", "ORCL", "DHR", "INTU", "DIS",
    "RDS-A", "BF.B", "SAP_DE", "NESN.SW", "7203.T", "0700.HK", "ASML.AS", "MC.PA", "SIE.DE", "ULVR.L",
};
#define NSYM (sizeof symbols / sizeof symbols[0])

static void put_price(buf_t *out, uint64_t cents10k, int decimals, bool quoted)
{
    /* cents10k: price in units of 1e-4 */
    uint64_t whole = cents10k / 10000, frac = cents10k % 10000;
    static const uint64_t div[] = {1, 1000, 100, 10, 1};
    if (quoted)
        buf_puts(out, "\"");
    buf_printf(out, "%llu.%0*llu", (unsigned long long)whole, decimals,
               (unsigned long long)(frac / div[decimals]));
    if (quoted)
        buf_puts(out, "\"");
}

void gen_csv(buf_t *out, uint64_t rows, uint64_t seed)
{
    rng_t st;
    rng_seed(&st, seed, 0);
    uint64_t price[NSYM];
    for (size_t i = 0; i < NSYM; i++)
        price[i] = (10 + rng_below(&st, 990)) * 10000 + rng_below(&st, 10000);
    const bool crlf_file = rng_below(&st, 4) == 0; /* a quarter of bodies are CRLF throughout */
    const char *nl = crlf_file ? "\r\n" : "\n";
    buf_printf(out, "timestamp,symbol,price,quantity%s", nl);
    /* 2026-11-23T08:00:00Z, in milliseconds since the epoch */
    uint64_t t = 1795420800000ull + rng_below(&st, 3600000);
    for (uint64_t r = 0; r < rows; r++) {
        t += rng_below(&st, 250);
        /* Zipf-like: squaring a uniform variate favours the first symbols. */
        uint64_t u = rng_below(&st, 1u << 16);
        size_t s = (size_t)((u * u * NSYM) >> 32);
        int64_t step = (int64_t)rng_below(&st, 2001) - 1000;
        if ((int64_t)price[s] + step > 10000)
            price[s] = (uint64_t)((int64_t)price[s] + step);
        uint64_t kind = rng_below(&st, 10);
        uint64_t secs = t / 1000, ms = t % 1000;
        if (kind < 2) {
            buf_printf(out, "%llu", (unsigned long long)t);
        } else {
            /* civil date from days since 1970-01-01 (Howard Hinnant's algorithm) */
            int64_t z = (int64_t)(secs / 86400) + 719468;
            int64_t era = z / 146097, doe = z - era * 146097;
            int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
            int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
            int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
            int64_t y = yoe + era * 400 + (m <= 2);
            uint64_t sod = secs % 86400;
            buf_printf(out, "%04lld-%02lld-%02lldT%02llu:%02llu:%02llu", (long long)y,
                       (long long)m, (long long)d, (unsigned long long)(sod / 3600),
                       (unsigned long long)(sod / 60 % 60), (unsigned long long)(sod % 60));
            if (kind < 8)
                buf_printf(out, ".%03lluZ", (unsigned long long)ms);
            else
                buf_puts(out, "+00:00");
        }
        bool qsym = rng_below(&st, 10) == 0;
        buf_printf(out, qsym ? ",\"%s\"," : ",%s,", symbols[s]);
        put_price(out, price[s], 2 + (int)rng_below(&st, 3), rng_below(&st, 20) == 0);
        buf_printf(out, ",%llu", (unsigned long long)(1 + rng_below(&st, rng_below(&st, 8) ? 500 : 5000)));
        if (r + 1 < rows || rng_below(&st, 2))
            buf_puts(out, crlf_file || rng_below(&st, 20) ? nl : "\r\n");
    }
}

int cmd_gen(int argc, char **argv)
{
    int64_t rows = 6400, seed = 1;
    const char *path = NULL;
    const opt_t opts[] = {
        {"rows", 0, OPT_INT64, &rows, "N", "trades (default 6400, about 256 KiB)", .min = 0,
         .max = 100000000},
        {"seed", 0, OPT_INT64, &seed, "S", "seed (default 1)", .min = 0, .max = INT64_MAX,
         .expect = "a non-negative integer"},
        {"out", 0, OPT_STR, &path, "FILE", "write there instead of stdout"},
        {0},
    };
    const opt_cmd_t cmd = {
        .name = "gen",
        .usage = "gen csv [--rows N] [--seed S] [--out FILE]",
        .about = "Writes a deterministic request body for a workload: the same rows and seed give the\n"
                 "same bytes on every machine.",
        .opts = opts,
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first >= argc)
        opt_fail("gen", "missing WORKLOAD (csv)");
    if (strcmp(argv[first], "csv") != 0)
        opt_fail("gen", "unknown workload '%s' (csv)", argv[first]);
    if (first + 1 < argc)
        opt_fail("gen", "unexpected argument '%s'", argv[first + 1]);
    buf_t b = BUF_INIT;
    gen_csv(&b, (uint64_t)rows, (uint64_t)seed);
    int rc = buf_write_file(&b, path ? path : "-");
    buf_free(&b);
    if (rc) {
        sb_warn("gen", "cannot write %s: %s", path ? path : "stdout", strerror(-rc));
        return 1;
    }
    return 0;
}
