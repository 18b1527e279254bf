/* The line counter: one pass of a small lexer per file, a line classified at its end by what
 * the lexer saw on it (loc.h). */
#include "lab/loc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

typedef enum {
    S_CODE,
    S_LINE_COMMENT,
    S_BLOCK_COMMENT,
    S_STRING,        /* "...", escapes */
    S_CHAR,          /* '...', escapes */
    S_RAW,           /* Go `...`; Rust r#"..."# (raw_hashes #s close it) */
} state_t;

typedef struct {
    loc_lang_t lang;
    state_t st;
    int block_depth;      /* Rust block comments nest */
    int raw_hashes;
    bool esc;             /* the next character of a literal is escaped */
    bool backslash;       /* C: the line comment's last character so far is a backslash */
    long depth;           /* braces open in code */
    bool test;            /* inside a Rust #[cfg(test)] item */
    long test_depth;      /* the depth its attribute was at */
    bool test_brace;      /* the item opened a brace */
    bool code, comment, in_test; /* what the current line has had */
    loc_t *out;
} lex_t;

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static bool is_ident(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The length of the UTF-8 sequence its first byte starts (1 for anything else). */
static size_t utf8_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static void end_line(lex_t *x)
{
    if (x->in_test)
        x->out->test++;
    else if (x->code)
        x->out->code++;
    else if (x->comment)
        x->out->comment++;
    else
        x->out->blank++;
    /* A line that begins inside a string literal is part of it: code, even when blank. */
    x->code = x->st == S_STRING || x->st == S_RAW;
    x->comment = false;
    x->in_test = x->test;
}

static void newline(lex_t *x)
{
    switch (x->st) {
    case S_LINE_COMMENT:
        /* C: a backslash at the end of a line comment continues it on the next line. */
        if (!(x->lang == LOC_C && x->backslash))
            x->st = S_CODE;
        break;
    case S_STRING:
    case S_CHAR:
        if (x->esc) /* an escaped line end: the literal goes on */
            x->esc = false;
        else if (x->lang != LOC_RUST || x->st == S_CHAR)
            x->st = S_CODE; /* C and Go literals end with their line: an unterminated one */
        break;
    default:
        break;
    }
    x->backslash = false;
    end_line(x);
}

/* Rust: at t[i] == 'r' in code, a raw string (r"", r#""#, br"") and not an identifier's r or a
 * raw identifier (r#type). The number of #s, or -1. */
static int raw_string_at(const char *t, size_t len, size_t i)
{
    if (i > 0 && is_ident(t[i - 1])) {
        bool prefix = t[i - 1] == 'b' || t[i - 1] == 'c';
        if (!prefix || (i > 1 && is_ident(t[i - 2])))
            return -1;
    }
    size_t j = i + 1;
    while (j < len && t[j] == '#')
        j++;
    return j < len && t[j] == '"' ? (int)(j - i - 1) : -1;
}

/* Code at t[i] (not white space, not a comment's start). Returns the index of the last byte
 * it took. */
static size_t code_at(lex_t *x, const char *t, size_t len, size_t i)
{
    char c = t[i];
    x->code = true;
    switch (c) {
    case '"':
        x->st = S_STRING;
        x->esc = false;
        return i;
    case '`':
        if (x->lang == LOC_GO) {
            x->st = S_RAW;
            x->raw_hashes = 0;
        }
        return i;
    case '\'':
        if (x->lang != LOC_RUST || (i + 1 < len && t[i + 1] == '\\')) {
            x->st = S_CHAR;
            x->esc = false;
            return i;
        }
        /* Rust: 'x' is a character, 'a (no closing quote after one character) a lifetime. */
        if (i + 1 < len && t[i + 1] != '\'' && t[i + 1] != '\n') {
            size_t n = utf8_len((unsigned char)t[i + 1]);
            if (i + 1 + n < len && t[i + 1 + n] == '\'')
                return i + 1 + n;
        }
        return i;
    case 'r':
        if (x->lang == LOC_RUST) {
            int h = raw_string_at(t, len, i);
            if (h >= 0) {
                x->st = S_RAW;
                x->raw_hashes = h;
                return i + 1 + (size_t)h; /* the opening quote */
            }
        }
        return i;
    case '#':
        if (x->lang == LOC_RUST && !x->test && len - i >= 12 && !memcmp(t + i, "#[cfg(test)]", 12)) {
            x->test = x->in_test = true;
            x->test_depth = x->depth;
            x->test_brace = false;
            return i + 11;
        }
        return i;
    case '{':
        x->depth++;
        x->test_brace |= x->test;
        return i;
    case '}':
        x->depth--;
        if (x->test && x->test_brace && x->depth == x->test_depth)
            x->test = false; /* the rest of this line is still the item's */
        return i;
    case ';':
        if (x->test && !x->test_brace && x->depth == x->test_depth)
            x->test = false; /* mod tests; use ...; */
        return i;
    default:
        return i;
    }
}

void loc_count(const char *t, size_t len, loc_lang_t lang, loc_t *out)
{
    memset(out, 0, sizeof *out);
    lex_t x = {.lang = lang, .st = S_CODE, .out = out};
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        char next = i + 1 < len ? t[i + 1] : 0;
        if (c == '\n') {
            newline(&x);
            continue;
        }
        switch (x.st) {
        case S_CODE:
            if (is_space(c))
                break;
            if (c == '/' && next == '/') {
                x.st = S_LINE_COMMENT;
                x.comment = true;
                x.backslash = false;
                i++;
            } else if (c == '/' && next == '*') {
                x.st = S_BLOCK_COMMENT;
                x.block_depth = 1;
                x.comment = true;
                i++;
            } else {
                i = code_at(&x, t, len, i);
            }
            break;
        case S_LINE_COMMENT:
            if (!is_space(c))
                x.comment = true; /* a line the comment went on to */
            if (c != '\r')
                x.backslash = c == '\\';
            break;
        case S_BLOCK_COMMENT:
            if (!is_space(c))
                x.comment = true;
            if (c == '*' && next == '/') {
                i++;
                if (--x.block_depth == 0)
                    x.st = S_CODE;
            } else if (lang == LOC_RUST && c == '/' && next == '*') {
                i++;
                x.block_depth++;
            }
            break;
        case S_STRING:
        case S_CHAR:
            x.code = true;
            if (x.esc)
                x.esc = false;
            else if (c == '\\')
                x.esc = true;
            else if (c == (x.st == S_STRING ? '"' : '\''))
                x.st = S_CODE;
            break;
        case S_RAW:
            x.code = true;
            if (lang == LOC_GO && c == '`') {
                x.st = S_CODE;
            } else if (lang == LOC_RUST && c == '"') {
                int h = 0;
                while (h < x.raw_hashes && i + 1 + (size_t)h < len && t[i + 1 + (size_t)h] == '#')
                    h++;
                if (h == x.raw_hashes) {
                    x.st = S_CODE;
                    i += (size_t)h;
                }
            }
            break;
        }
    }
    /* A last line without its '\n'. */
    if (len > 0 && t[len - 1] != '\n')
        end_line(&x);
}

int loc_lang_of(const char *path, loc_lang_t *lang)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return -1;
    if (!strcmp(dot, ".c") || !strcmp(dot, ".h"))
        *lang = LOC_C;
    else if (!strcmp(dot, ".go"))
        *lang = LOC_GO;
    else if (!strcmp(dot, ".rs"))
        *lang = LOC_RUST;
    else
        return -1;
    return 0;
}

int loc_count_file(const char *path, loc_t *out, char *err, size_t errlen)
{
    loc_lang_t lang;
    if (loc_lang_of(path, &lang)) {
        snprintf(err, errlen, "%s: not C, Go or Rust", path);
        return -1;
    }
    buf_t b = BUF_INIT;
    int rc = buf_read_file(&b, path);
    if (rc) {
        buf_free(&b);
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
        return -1;
    }
    loc_count(buf_start(&b), buf_size(&b), lang, out);
    buf_free(&b);
    return 0;
}
