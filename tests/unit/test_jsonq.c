/* Tests for the tests' JSON lookup (tests/lib/jsonq.c): paths through objects and arrays,
 * each typed getter false on a missing value or another type, invalid documents find
 * nothing. */
#include "jsonq.h"
#include "t.h"

/* A document shaped like results.json, pretty-printed as jsonw writes it. */
static const char doc[] =
    "{\n"
    "  \"cells\": [\n"
    "    {\"workload\": \"echo\", \"lang\": \"c\", \"latency_us\": {\"p50\": 41.5, \"p99\": 97},\n"
    "     \"load_bound\": false, \"db_cpu_s\": null, \"by_request\": []},\n"
    "    {\"workload\": \"echo\", \"lang\": \"go\", \"latency_us\": {\"p50\": -0.5e3},\n"
    "     \"load_bound\": true, \"db_cpu_s\": 1.25, \"by_request\": [{\"method\": \"GET\"}]}\n"
    "  ],\n"
    "  \"status\": {\"200\": 12345678901, \"503\": 0},\n"
    "  \"matrix\": [[1, 2], [], [[3]]],\n"
    "  \"a\\u0062\": \"decoded name\", \"x\\\"y\": \"quote in name\",\n"
    "  \"twice\": 1, \"twice\": 2,\n"
    "  \"text\": \"q\\\" b\\\\ s\\/ n\\n t\\t \\u00e9 \\ud83d\\ude00 end\"\n"
    "}\n";
#define D doc, sizeof doc - 1

TEST(num_follows_members_and_indexes)
{
    double v = 0;
    CHECK(jsonq_num(D, "cells.0.latency_us.p50", &v));
    CHECK(v == 41.5);
    CHECK(jsonq_num(D, "cells.0.latency_us.p99", &v));
    CHECK(v == 97);
    CHECK(jsonq_num(D, "cells.1.latency_us.p50", &v));
    CHECK(v == -500);
    CHECK(jsonq_num(D, "status.200", &v)); /* a numeric name in an object is a name */
    CHECK(v == 12345678901.0);
}

TEST(str_follows_members_and_indexes)
{
    char s[64];
    CHECK(jsonq_str(D, "cells.0.lang", s, sizeof s));
    CHECK_STR(s, "c");
    CHECK(jsonq_str(D, "cells.1.lang", s, sizeof s));
    CHECK_STR(s, "go");
    CHECK(jsonq_str(D, "cells.1.by_request.0.method", s, sizeof s));
    CHECK_STR(s, "GET");
}

TEST(get_gives_the_value_as_written)
{
    const char *v;
    size_t n;
    CHECK(jsonq_get(D, "cells.0.latency_us", &v, &n));
    CHECK_MEM(v, n, "{\"p50\": 41.5, \"p99\": 97}");
    CHECK(jsonq_get(D, "matrix.0", &v, &n));
    CHECK_MEM(v, n, "[1, 2]");
    CHECK(jsonq_get(D, "cells.1.lang", &v, &n));
    CHECK_MEM(v, n, "\"go\"");
}

TEST(empty_path_is_the_whole_document_without_surrounding_white_space)
{
    const char *v;
    size_t n;
    CHECK(jsonq_get(" \n[1, 2] \t", 10, "", &v, &n));
    CHECK_MEM(v, n, "[1, 2]");
    CHECK_INT(jsonq_len(" \n[1, 2] \t", 10, ""), 2);
}

TEST(missing_member_or_index_is_false)
{
    double v = -7;
    char s[16] = "untouched";
    bool b = true;
    const char *g;
    size_t n;
    CHECK(!jsonq_num(D, "cells.0.latency_us.p999", &v));
    CHECK(!jsonq_num(D, "cells.2.latency_us.p50", &v));   /* past the end */
    CHECK(!jsonq_num(D, "cells.x.latency_us.p50", &v));   /* a name in an array */
    CHECK(!jsonq_num(D, "cells.-1.latency_us.p50", &v));
    CHECK(!jsonq_num(D, "status.200.more", &v));          /* below a number */
    CHECK(!jsonq_str(D, "nothing", s, sizeof s));
    CHECK(!jsonq_bool(D, "cells.0.load_bound.x", &b));
    CHECK(!jsonq_get(D, "Cells", &g, &n));                /* names are case-sensitive */
    CHECK(!jsonq_get(D, "cells.", &g, &n));               /* the name "" in an array */
    CHECK_INT(jsonq_len(D, "cells.0.missing"), -1);
    CHECK(!jsonq_is_null(D, "cells.0.missing"));
    CHECK(v == -7);                                       /* outputs left alone */
    CHECK_STR(s, "untouched");
    CHECK(b == true);
}

TEST(wrong_type_is_false)
{
    double v;
    char s[16];
    bool b;
    CHECK(!jsonq_num(D, "cells.0.lang", &v));        /* a string */
    CHECK(!jsonq_num(D, "cells.0.db_cpu_s", &v));    /* null */
    CHECK(!jsonq_num(D, "cells.0.load_bound", &v));  /* a boolean */
    CHECK(!jsonq_num(D, "cells.0.latency_us", &v));  /* an object */
    CHECK(!jsonq_str(D, "status.200", s, sizeof s)); /* a number */
    CHECK(!jsonq_str(D, "cells.0.db_cpu_s", s, sizeof s));
    CHECK(!jsonq_bool(D, "cells.0.db_cpu_s", &b));
    CHECK(!jsonq_bool(D, "cells.0.lang", &b));
    CHECK(!jsonq_bool(D, "status.503", &b));         /* 0 is not false */
    CHECK_INT(jsonq_len(D, "status"), -1);           /* an object */
    CHECK_INT(jsonq_len(D, "cells.0.lang"), -1);
    CHECK(!jsonq_is_null(D, "cells.1.db_cpu_s"));    /* a number */
    CHECK(!jsonq_is_null(D, "status.503"));
}

TEST(bool_null_and_len)
{
    bool b = true;
    CHECK(jsonq_bool(D, "cells.0.load_bound", &b));
    CHECK(b == false);
    CHECK(jsonq_bool(D, "cells.1.load_bound", &b));
    CHECK(b == true);
    CHECK(jsonq_is_null(D, "cells.0.db_cpu_s"));
    CHECK_INT(jsonq_len(D, "cells"), 2);
    CHECK_INT(jsonq_len(D, "cells.0.by_request"), 0);
    CHECK_INT(jsonq_len(D, "cells.1.by_request"), 1);
}

TEST(nested_arrays_by_index)
{
    double v = 0;
    CHECK_INT(jsonq_len(D, "matrix"), 3);
    CHECK_INT(jsonq_len(D, "matrix.0"), 2);
    CHECK_INT(jsonq_len(D, "matrix.1"), 0);
    CHECK_INT(jsonq_len(D, "matrix.2.0"), 1);
    CHECK(jsonq_num(D, "matrix.0.1", &v));
    CHECK(v == 2);
    CHECK(jsonq_num(D, "matrix.2.0.0", &v));
    CHECK(v == 3);
    CHECK(!jsonq_num(D, "matrix.1.0", &v));
    CHECK(!jsonq_num(D, "matrix.0.2", &v));
}

TEST(escaped_names_are_matched_decoded)
{
    char s[32];
    CHECK(jsonq_str(D, "ab", s, sizeof s)); /* written "a\u0062" */
    CHECK_STR(s, "decoded name");
    CHECK(jsonq_str(D, "x\"y", s, sizeof s)); /* written "x\"y" */
    CHECK_STR(s, "quote in name");
    CHECK(!jsonq_str(D, "a\\u0062", s, sizeof s)); /* the escape itself is not the name */
}

TEST(the_first_of_duplicate_names_wins)
{
    double v = 0;
    CHECK(jsonq_num(D, "twice", &v));
    CHECK(v == 1);
}

TEST(str_unescapes)
{
    char s[64];
    CHECK(jsonq_str(D, "text", s, sizeof s));
    CHECK_STR(s, "q\" b\\ s/ n\n t\t \xc3\xa9 \xf0\x9f\x98\x80 end");
    CHECK(jsonq_str("\"\\b\\f\\r\"", 8, "", s, sizeof s));
    CHECK_STR(s, "\b\f\r");
    CHECK(jsonq_str("\"\"", 2, "", s, sizeof s));
    CHECK_STR(s, "");
}

TEST(str_that_does_not_fit_is_false)
{
    char s[4];
    CHECK(jsonq_str("\"abc\"", 5, "", s, sizeof s)); /* 3 bytes and the NUL */
    CHECK_STR(s, "abc");
    CHECK(!jsonq_str("\"abcd\"", 6, "", s, sizeof s));
    CHECK(!jsonq_str("\"ab\\u00e9\"", 10, "", s, sizeof s)); /* 2 + 2 bytes */
}

TEST(invalid_document_finds_nothing)
{
    /* The valid start of a document, cut short: nothing in it is found, even what is complete. */
    static const char cut[] = "{\"a\": 1, \"s\": \"x\", \"t\": true, \"n\": null, \"l\": [1], \"b\": ";
    double v;
    char s[8];
    bool b;
    const char *g;
    size_t n;
    CHECK(!jsonq_get(cut, sizeof cut - 1, "a", &g, &n));
    CHECK(!jsonq_num(cut, sizeof cut - 1, "a", &v));
    CHECK(!jsonq_str(cut, sizeof cut - 1, "s", s, sizeof s));
    CHECK(!jsonq_bool(cut, sizeof cut - 1, "t", &b));
    CHECK(!jsonq_is_null(cut, sizeof cut - 1, "n"));
    CHECK_INT(jsonq_len(cut, sizeof cut - 1, "l"), -1);
    CHECK(!jsonq_num("{\"a\": 01}", 9, "a", &v));
    CHECK(!jsonq_get("", 0, "", &g, &n));
    CHECK(!jsonq_get(NULL, 0, "", &g, &n));
}

T_MAIN(T(num_follows_members_and_indexes), T(str_follows_members_and_indexes),
       T(get_gives_the_value_as_written),
       T(empty_path_is_the_whole_document_without_surrounding_white_space),
       T(missing_member_or_index_is_false), T(wrong_type_is_false), T(bool_null_and_len),
       T(nested_arrays_by_index), T(escaped_names_are_matched_decoded),
       T(the_first_of_duplicate_names_wins), T(str_unescapes), T(str_that_does_not_fit_is_false),
       T(invalid_document_finds_nothing))
