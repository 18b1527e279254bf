/* json: strict RFC 8259 validation with minification "as written", and reading the members of
 * an object and the elements of an array. The echo service's whole job is json_minify(); the writer is codec/jsonw.h. */
#ifndef SB_CODEC_JSON_H
#define SB_CODEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

/* Deepest nesting of arrays/objects accepted (contracts/echo.md). */
#define JSON_MAX_DEPTH 128

typedef struct {
    size_t offset;      /* 0-based byte offset where the input stopped being valid JSON */
    const char *reason; /* static, short, lower-case English ("unexpected end of input");
                         * never contains '"' or '\\', so it can go into a JSON string as is */
} json_error_t;

/* Validates src[0..len) as exactly one JSON value (RFC 8259, UTF-8 checked, depth limited)
 * and writes it to dst with insignificant white space removed and nothing else changed.
 * For unexpected end of input, err->offset is len. Escapes are checked, not decoded: a lone
 * surrogate escape ("\ud800") is accepted as written. No allocation, no recursion.
 * dst must have room for len bytes; dst == src (in place) is allowed.
 * Returns the minified length, or -1 with *err filled in (dst content then unspecified). */
ssize_t json_minify(const char *src, size_t len, char *dst, json_error_t *err);

/* Validation only: 0 if valid, -1 with *err filled in. */
int json_validate(const char *src, size_t len, json_error_t *err);

/* ---- reading the members of an object and the elements of an array ----
 * For documents json_validate accepted (these functions do not validate again). */

typedef struct {
    const char *p, *end;
} json_members_t;

/* 0 when src[0..len) is an object (it is then iterated), -1 when it is another value. */
int json_members_begin(json_members_t *it, const char *src, size_t len);
/* The next member: its name as written between the quotes (escapes not decoded) and its
 * value as written (no surrounding white space). false at the end of the object. */
bool json_members_next(json_members_t *it, const char **name, size_t *name_len,
                       const char **value, size_t *value_len);
/* Whether a name as written (escapes included: "a\u0062" is "ab") spells the ASCII string
 * lit. */
bool json_name_eq(const char *name, size_t len, const char *lit);
/* A string's content as written between its quotes (in a document json_validate accepted)
 * decoded, appended to out: escapes replaced by what they stand for, \uXXXX as UTF-8,
 * surrogate pairs joined. 0; -EILSEQ for a lone surrogate escape ("\ud800" alone), which
 * stands for no character (out then as it was); -ENOMEM. */
int json_unescape(const char *s, size_t len, buf_t *out);

typedef struct {
    const char *p, *end;
} json_elements_t;

/* 0 when src[0..len) is an array (it is then iterated), -1 when it is another value. */
int json_elements_begin(json_elements_t *it, const char *src, size_t len);
/* The next element as written (no surrounding white space). false at the end of the array. */
bool json_elements_next(json_elements_t *it, const char **value, size_t *value_len);

/* Whether s[0..n) is UTF-8 as RFC 3629 says (what JSON strings and protobuf's proto3 strings
 * must be). */
bool json_utf8_valid(const char *s, size_t n);

#endif
