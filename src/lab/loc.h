/* loc: lines of code of C, Go and Rust sources, counted by stackbench itself so that the three
 * languages are counted by one rule, whatever tools a machine has.
 *
 * Each line is one of: code (something outside a comment that is not white space, or any part
 * of a string literal: a blank line inside a Go raw string or a Rust string is code), comment
 * (only comments and white space), blank (only white space, in a comment or not), or test (a
 * line of a Rust `#[cfg(test)]` item: the attribute through the end of the item it marks, a
 * `mod tests { ... }` or a `mod tests;`). Rust's inline test modules are set apart because Go's
 * and C's tests live in other files (_test.go, tests/), which are not counted either.
 *
 * What the lexer knows, per language: C: line comments (continued by a backslash at the end
 * of the line) and block comments, "strings" and 'c' literals with escapes; Go: line and block
 * comments, "strings", `raw strings` (over several lines), 'r' runes; Rust: line comments
 * (doc comments `///` and `//!` among them), block comments nested, "strings" over several
 * lines, r"raw", r#"raw"#, b"", br"", b'x' and 'c' literals told from lifetimes ('a). A
 * comment marker inside a string or a character literal is not a comment, and a quote inside
 * a comment opens no string. */
#ifndef SB_LAB_LOC_H
#define SB_LAB_LOC_H

#include <stddef.h>

typedef enum { LOC_C, LOC_GO, LOC_RUST } loc_lang_t;

typedef struct {
    long code, comment, blank, test;
} loc_t;

/* Counts the lines of text[0..len) (a last line without '\n' counts; an empty text has no
 * line). */
void loc_count(const char *text, size_t len, loc_lang_t lang, loc_t *out);

/* The language of a path by its ending: .c and .h are C, .go Go, .rs Rust. 0, or -1 for any
 * other. */
int loc_lang_of(const char *path, loc_lang_t *lang);

/* A file, by the language of its ending. 0, or -1 with the reason in err (unreadable, or no
 * language of ours). */
int loc_count_file(const char *path, loc_t *out, char *err, size_t errlen);

#endif
