/* Tests for the line counter (src/lab/loc.c): every expectation counted by hand, line by line,
 * in the comment beside each line of the sample. */
#include <stdlib.h>
#include <unistd.h>

#include "lab/loc.h"
#include "t.h"

static loc_t count(const char *text, loc_lang_t lang)
{
    loc_t l;
    loc_count(text, strlen(text), lang, &l);
    return l;
}

#define CHECK_LOC(l, c, m, b, t)                                                                  \
    do {                                                                                          \
        CHECK_INT((l).code, c);                                                                   \
        CHECK_INT((l).comment, m);                                                                \
        CHECK_INT((l).blank, b);                                                                  \
        CHECK_INT((l).test, t);                                                                   \
    } while (0)

TEST(c_comments_blanks_and_code)
{
    const char *src = "/* a header\n"           /* comment */
                      " * over three lines\n"   /* comment */
                      " */\n"                   /* comment */
                      "#include <stdio.h>\n"    /* code */
                      "\n"                      /* blank */
                      "   \t\n"                 /* blank */
                      "int x; // trailing\n"    /* code */
                      "// a whole line\n"       /* comment */
                      "int y; /* mid */ int z;\n" /* code */
                      "/* a */ /* b */\n"       /* comment */
                      "/* open\n"               /* comment */
                      "\n"                      /* blank (in a comment, but only white space) */
                      "close */ int w;\n";      /* code */
    CHECK_LOC(count(src, LOC_C), 4, 6, 3, 0);
}

TEST(c_comment_markers_inside_strings_and_chars_are_not_comments)
{
    const char *src = "const char *u = \"http://example.com\";\n" /* code */
                      "const char *s = \"/* not a comment\";\n"   /* code */
                      "int a = 1; /* \" a quote in a comment */\n" /* code */
                      "char q = '\"'; // a quote in a char\n"     /* code */
                      "char e = '\\''; /* an escaped quote */\n"  /* code */
                      "const char *t = \"\\\" // still a string\";\n" /* code */
                      "// \"not a string\n"                       /* comment */
                      "x();\n";                                   /* code */
    CHECK_LOC(count(src, LOC_C), 7, 1, 0, 0);
}

TEST(c_line_comment_continued_by_a_backslash)
{
    const char *src = "// one \\\n"   /* comment */
                      "still the comment\n" /* comment (continued) */
                      "int x;\n";    /* code */
    CHECK_LOC(count(src, LOC_C), 1, 2, 0, 0);
}

TEST(c_a_last_line_without_newline_counts_and_empty_text_has_none)
{
    CHECK_LOC(count("int x;\nint y;", LOC_C), 2, 0, 0, 0);
    CHECK_LOC(count("", LOC_C), 0, 0, 0, 0);
    CHECK_LOC(count("\n", LOC_C), 0, 0, 1, 0);
    CHECK_LOC(count("/* x */", LOC_C), 0, 1, 0, 0);
}

TEST(go_raw_strings_runes_and_comments)
{
    const char *src = "package main\n"               /* code */
                      "\n"                            /* blank */
                      "// Doc of f.\n"                /* comment */
                      "func f() string {\n"           /* code */
                      "\tr := '\"' // a rune\n"       /* code */
                      "\ts := `raw // not a comment\n" /* code */
                      "\n"                            /* code: a blank line inside the raw string */
                      "/* nor this */`\n"             /* code */
                      "\treturn s + \"/*\" + string(r)\n" /* code */
                      "}\n"                           /* code */
                      "/* block\n"                    /* comment */
                      "   `not a raw string` */\n";   /* comment */
    CHECK_LOC(count(src, LOC_GO), 8, 3, 1, 0);
}

TEST(go_block_comments_do_not_nest)
{
    const char *src = "/* outer /* inner */\n" /* comment */
                      "x := 1 */ 2\n";          /* code: the comment ended above */
    CHECK_LOC(count(src, LOC_GO), 1, 1, 0, 0);
}

TEST(rust_doc_comments_nested_block_comments_and_strings)
{
    const char *src = "//! Crate docs.\n"            /* comment */
                      "/// Item docs.\n"             /* comment */
                      "/* outer /* inner */\n"       /* comment: still open (nested) */
                      "   still outer */\n"          /* comment */
                      "fn f<'a>(s: &'a str) -> char {\n" /* code: lifetimes */
                      "    let q = '\"'; // quote\n" /* code */
                      "    let b = '{';\n"           /* code: not a brace */
                      "    let u = 'é';\n"           /* code */
                      "    let s = \"a // b\n"       /* code */
                      "\n"                           /* code: inside the string */
                      "  /* c */\";\n"               /* code */
                      "    let r = r#\"raw \"quoted\" // x\"#;\n" /* code */
                      "    let br = br\"/*\";\n"     /* code */
                      "    '\\''\n"                  /* code */
                      "}\n"                          /* code */
                      "  \n";                        /* blank */
    CHECK_LOC(count(src, LOC_RUST), 11, 4, 1, 0);
}

TEST(rust_raw_identifiers_are_not_raw_strings)
{
    const char *src = "let r#type = 1; // c\n"   /* code */
                      "let bar = \"x\"; // c\n"  /* code: the r of bar opens nothing */
                      "// end\n";                 /* comment */
    CHECK_LOC(count(src, LOC_RUST), 2, 1, 0, 0);
}

TEST(rust_cfg_test_items_are_test_lines)
{
    const char *src = "fn f() -> u32 {\n"       /* code */
                      "    1\n"                 /* code */
                      "}\n"                     /* code */
                      "\n"                      /* blank */
                      "#[cfg(test)]\n"          /* test */
                      "mod tests;\n"            /* test: ends at the ; */
                      "#[cfg(test)]\n"          /* test */
                      "mod more {\n"            /* test */
                      "    // a comment\n"      /* test */
                      "\n"                      /* test */
                      "    fn g() { let c = '}'; let s = \"}\"; }\n" /* test: no brace closes */
                      "}\n"                     /* test: the item ends */
                      "fn h() {}\n";            /* code */
    CHECK_LOC(count(src, LOC_RUST), 4, 0, 1, 8);
    /* In C and Go the attribute means nothing: code, and the rest counted as usual. */
    loc_t g = count(src, LOC_GO);
    CHECK_INT(g.test, 0);
}

TEST(unterminated_literals_end_with_their_line_in_c_and_go)
{
    const char *src = "x = \"open\n" /* code */
                      "// a comment\n";   /* comment: the string did not go on */
    CHECK_LOC(count(src, LOC_GO), 1, 1, 0, 0);
    CHECK_LOC(count(src, LOC_C), 1, 1, 0, 0);
}

TEST(language_by_ending_and_files)
{
    loc_lang_t l;
    CHECK_INT(loc_lang_of("src/serve/echo.c", &l), 0);
    CHECK_INT(l, LOC_C);
    CHECK_INT(loc_lang_of("a/b.h", &l), 0);
    CHECK_INT(l, LOC_C);
    CHECK_INT(loc_lang_of("peers/go/echo.go", &l), 0);
    CHECK_INT(l, LOC_GO);
    CHECK_INT(loc_lang_of("x.rs", &l), 0);
    CHECK_INT(l, LOC_RUST);
    CHECK_INT(loc_lang_of("Makefile", &l), -1);
    CHECK_INT(loc_lang_of("dir.go/file", &l), -1);
    char path[] = "/tmp/sb-loc-XXXXXX.go";
    int fd = mkstemps(path, 3);
    CHECK(fd >= 0);
    const char *text = "package x\n\n// c\nvar v = 1\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    loc_t f;
    char err[256];
    CHECK_INT(loc_count_file(path, &f, err, sizeof err), 0);
    CHECK_LOC(f, 2, 1, 1, 0);
    unlink(path);
    CHECK_INT(loc_count_file(path, &f, err, sizeof err), -1);
    CHECK(strstr(err, "cannot read") != NULL);
    CHECK_INT(loc_count_file("/etc/hostname", &f, err, sizeof err), -1);
}

T_MAIN(T(c_comments_blanks_and_code), T(c_comment_markers_inside_strings_and_chars_are_not_comments),
       T(c_line_comment_continued_by_a_backslash),
       T(c_a_last_line_without_newline_counts_and_empty_text_has_none),
       T(go_raw_strings_runes_and_comments), T(go_block_comments_do_not_nest),
       T(rust_doc_comments_nested_block_comments_and_strings),
       T(rust_raw_identifiers_are_not_raw_strings), T(rust_cfg_test_items_are_test_lines),
       T(unterminated_literals_end_with_their_line_in_c_and_go), T(language_by_ending_and_files))
