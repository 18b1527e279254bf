/* Tests for the JSON writer (src/codec/jsonw.c): commas, indentation, escaping, numbers. */
#include <math.h>
#include <stdint.h>

#include "codec/json.h"
#include "codec/jsonw.h"
#include "t.h"

static void write_sample(jsonw_t *w)
{
    jsonw_obj_begin(w);
    jsonw_key(w, "name");
    jsonw_str(w, "echo");
    jsonw_key(w, "n");
    jsonw_int(w, -3);
    jsonw_key(w, "list");
    jsonw_arr_begin(w);
    jsonw_uint(w, 1);
    jsonw_bool(w, true);
    jsonw_null(w);
    jsonw_arr_end(w);
    jsonw_key(w, "empty");
    jsonw_obj_begin(w);
    jsonw_obj_end(w);
    jsonw_key(w, "none");
    jsonw_arr_begin(w);
    jsonw_arr_end(w);
    jsonw_key(w, "x");
    jsonw_double(w, 1.5, 3);
    jsonw_obj_end(w);
}

TEST(writer_compact)
{
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, false);
    write_sample(&w);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "{\"name\":\"echo\",\"n\":-3,\"list\":[1,true,null],\"empty\":{},\"none\":[],"
              "\"x\":1.5}");
    json_error_t e;
    CHECK_INT(json_validate(buf_start(&b), buf_size(&b), &e), 0);
    buf_free(&b);
}

TEST(writer_pretty)
{
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, true);
    write_sample(&w);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "{\n"
              "  \"name\": \"echo\",\n"
              "  \"n\": -3,\n"
              "  \"list\": [\n"
              "    1,\n"
              "    true,\n"
              "    null\n"
              "  ],\n"
              "  \"empty\": {},\n"
              "  \"none\": [],\n"
              "  \"x\": 1.5\n"
              "}");
    json_error_t e;
    CHECK_INT(json_validate(buf_start(&b), buf_size(&b), &e), 0);
    buf_free(&b);
}

TEST(writer_pretty_nested_arrays_of_objects)
{
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, true);
    jsonw_arr_begin(&w);
    for (int k = 0; k < 2; k++) {
        jsonw_obj_begin(&w);
        jsonw_key(&w, "k");
        jsonw_int(&w, k);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "[\n  {\n    \"k\": 0\n  },\n  {\n    \"k\": 1\n  }\n]");
    buf_free(&b);
}

TEST(writer_top_level_scalar)
{
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, true);
    jsonw_str(&w, "x");
    CHECK_MEM(buf_start(&b), buf_size(&b), "\"x\"");
    buf_free(&b);
}

TEST(writer_escapes)
{
    buf_t b = BUF_INIT;
    const char *in = "a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj\x7f caf\xc3\xa9 /";
    jsonw_escape(&b, in, strlen(in));
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001fj\x7f caf\xc3\xa9 /\"");
    buf_clear(&b);
    jsonw_escape(&b, "nul\0byte", 8);
    CHECK_MEM(buf_start(&b), buf_size(&b), "\"nul\\u0000byte\"");
    buf_clear(&b);
    jsonw_t w;
    jsonw_init(&w, &b, false);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "k\"ey");
    jsonw_strn(&w, "v\nal", 4);
    jsonw_obj_end(&w);
    CHECK_MEM(buf_start(&b), buf_size(&b), "{\"k\\\"ey\":\"v\\nal\"}");
    buf_free(&b);
}

TEST(writer_escape_output_is_valid_json_for_every_byte)
{
    char s[256];
    for (int c = 0; c < 128; c++)
        s[c] = (char)c;
    buf_t b = BUF_INIT;
    jsonw_escape(&b, s, 128);
    json_error_t e;
    CHECK_INT(json_validate(buf_start(&b), buf_size(&b), &e), 0);
    buf_free(&b);
}

static const char *dbl(double v, int decimals)
{
    static char out[512];
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, false);
    jsonw_double(&w, v, decimals);
    snprintf(out, sizeof out, "%.*s", (int)buf_size(&b), buf_start(&b));
    buf_free(&b);
    return out;
}

TEST(writer_double_trims_zeros)
{
    CHECK_STR(dbl(1.5, 3), "1.5");
    CHECK_STR(dbl(2.0, 3), "2");
    CHECK_STR(dbl(100.0, 3), "100");
    CHECK_STR(dbl(100.0, 0), "100");
    CHECK_STR(dbl(0.126, 2), "0.13");
    CHECK_STR(dbl(0.0001, 3), "0");
    CHECK_STR(dbl(-0.0001, 3), "0");
    CHECK_STR(dbl(-0.0, 3), "0");
    CHECK_STR(dbl(-2.50, 6), "-2.5");
    CHECK_STR(dbl(1234.5678, 1), "1234.6");
    CHECK_STR(dbl(10, 2), "10");
}

TEST(writer_double_nan_inf_null)
{
    CHECK_STR(dbl(NAN, 3), "null");
    CHECK_STR(dbl(INFINITY, 3), "null");
    CHECK_STR(dbl(-INFINITY, 3), "null");
}

TEST(writer_double_large_values)
{
    const char *s = dbl(1e300, 3);
    /* 1e300 is not exact in binary: 301 integer digits, no point, starting 1000000000000000052 */
    CHECK(strlen(s) == 301 && strncmp(s, "1000000000000000052", 19) == 0 && !strchr(s, '.'));
    CHECK(strlen(dbl(-1.7976931348623157e308, 17)) == 310);
    json_error_t e;
    s = dbl(-1.7976931348623157e308, 17);
    CHECK_INT(json_validate(s, strlen(s), &e), 0);
}

TEST(writer_integers)
{
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, false);
    jsonw_arr_begin(&w);
    jsonw_int(&w, INT64_MIN);
    jsonw_int(&w, INT64_MAX);
    jsonw_uint(&w, UINT64_MAX);
    jsonw_int(&w, 0);
    jsonw_bool(&w, false);
    jsonw_arr_end(&w);
    CHECK_MEM(buf_start(&b), buf_size(&b),
              "[-9223372036854775808,9223372036854775807,18446744073709551615,0,false]");
    buf_free(&b);
}

T_MAIN(T(writer_compact), T(writer_pretty), T(writer_pretty_nested_arrays_of_objects), T(writer_top_level_scalar), T(writer_escapes), T(writer_escape_output_is_valid_json_for_every_byte), T(writer_double_trims_zeros), T(writer_double_nan_inf_null), T(writer_double_large_values), T(writer_integers))
