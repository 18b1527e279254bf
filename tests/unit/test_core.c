/* core: buffers, flag values, formatting (the event loop: test_loop.c). */
#include "t.h"

#include <errno.h>
#include <math.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/fmt.h"
#include "core/opt.h"

TEST(buf_append_consume_reserve_keeps_content)
{
    buf_t b = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        CHECK_INT(buf_printf(&b, "%04d", i), 0);
    CHECK_INT(buf_size(&b), 4000);
    buf_consume(&b, 3996);
    CHECK_MEM(buf_start(&b), buf_size(&b), "0999");
    CHECK_INT(buf_reserve(&b, 100000), 0);
    CHECK_MEM(buf_start(&b), buf_size(&b), "0999"); /* moved to the front, kept */
    buf_consume(&b, 4);
    CHECK_INT(buf_size(&b), 0);
    CHECK_INT(b.off, 0);
    buf_free(&b);
}

TEST(buf_files_round_trip_and_a_missing_one_says_why)
{
    char path[] = "/tmp/sb-buf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    buf_t b = BUF_INIT, r = BUF_INIT;
    for (int i = 0; i < 50000; i++) /* more than one read's worth */
        buf_printf(&b, "%d,", i);
    CHECK_INT(buf_write_file(&b, path), 0);
    buf_puts(&r, "kept:");
    CHECK_INT(buf_read_file(&r, path), 0);
    CHECK_INT(buf_size(&r), buf_size(&b) + 5);
    CHECK(r.data && memcmp(r.data + r.off + 5, buf_start(&b), buf_size(&b)) == 0);
    unlink(path);
    CHECK_INT(buf_read_file(&r, path), -ENOENT);
    buf_free(&b);
    buf_free(&r);
}

TEST(opt_durations)
{
    int64_t v;
    CHECK(opt_parse_duration_ns("10s", &v) == 0 && v == 10 * NS_PER_S);
    CHECK(opt_parse_duration_ns("500ms", &v) == 0 && v == 500 * NS_PER_MS);
    CHECK(opt_parse_duration_ns("250us", &v) == 0 && v == 250 * NS_PER_US);
    CHECK(opt_parse_duration_ns("2m", &v) == 0 && v == 120 * NS_PER_S);
    CHECK(opt_parse_duration_ns("1.5", &v) == 0 && v == 1500 * NS_PER_MS);
    CHECK(opt_parse_duration_ns("1h", &v) == 0 && v == 3600 * NS_PER_S);
    CHECK(opt_parse_duration_ns("3x", &v) < 0);
    CHECK(opt_parse_duration_ns("-1s", &v) < 0);
    CHECK(opt_parse_duration_ns("", &v) < 0);
    CHECK(opt_parse_duration_ns("s", &v) < 0);
}

TEST(opt_sizes_and_ints)
{
    uint64_t u;
    CHECK(opt_parse_size("1M", &u) == 0 && u == 1048576);
    CHECK(opt_parse_size("64k", &u) == 0 && u == 65536);
    CHECK(opt_parse_size("16MiB", &u) == 0 && u == 16u << 20);
    CHECK(opt_parse_size("123", &u) == 0 && u == 123);
    CHECK(opt_parse_size("1.5", &u) < 0);
    CHECK(opt_parse_size("1Q", &u) < 0);
    int64_t v;
    CHECK(opt_parse_int("42", 1, 100, &v) == 0 && v == 42);
    CHECK(opt_parse_int("0", 1, 100, &v) < 0);
    CHECK(opt_parse_int("4x", 1, 100, &v) < 0);
}

TEST(fmt_three_significant_digits)
{
    char s[32];
    fmt_duration(s, sizeof s, 812);
    CHECK_STR(s, "812ns");
    fmt_duration(s, sizeof s, 81200);
    CHECK_STR(s, "81.2µs");
    fmt_duration(s, sizeof s, 1250000);
    CHECK_STR(s, "1.25ms");
    fmt_duration(s, sizeof s, 3.4e9);
    CHECK_STR(s, "3.40s");
    fmt_bytes(s, sizeof s, 1536);
    CHECK_STR(s, "1.50KiB");
    fmt_bytes(s, sizeof s, NAN);
    CHECK_STR(s, "-");
    fmt_duration(s, sizeof s, NAN);
    CHECK_STR(s, "-");
}

TEST(fmt_count_three_significant_digits_with_k_and_m)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {{441, "441"}, {3802, "3.80k"}, {51887, "51.9k"}, {133010, "133k"},
                 {999499, "999k"}, {999500, "1.00M"}, {1.25e6, "1.25M"}, {7.17, "7.17"},
                 {0.523, "0.52"}, {0, "0.00"}, {-2500, "-2.50k"}, {NAN, "-"}, {INFINITY, "-"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char s[32];
        fmt_count(s, sizeof s, cases[i].v);
        CHECK_STR(s, cases[i].want);
    }
}

T_MAIN(T(buf_append_consume_reserve_keeps_content),
       T(buf_files_round_trip_and_a_missing_one_says_why), T(opt_durations), T(opt_sizes_and_ints),
       T(fmt_three_significant_digits), T(fmt_count_three_significant_digits_with_k_and_m))
