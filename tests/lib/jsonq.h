/* jsonq: looking values up in a JSON document by path, for tests that check what a program
 * wrote (results.json, `load --json`, `durability --json`) by its fields rather than by
 * searching the formatted text.
 *
 * A path is segments separated by '.': in an object a segment is a member's name (compared
 * with json_name_eq, so escapes in the document's names are decoded; the first member of that
 * name wins), in an array it is a decimal index. "cells.0.latency_us.p50" is the p50 member of
 * the latency_us member of the first element of the cells member; "status.200" is the member
 * named "200". The empty path is the whole document. Names containing '.' cannot be reached.
 *
 * Every lookup validates the document first (codec/json.h, json_validate): in an invalid
 * document nothing is found, so a truncated file fails the test instead of half-passing it. */
#ifndef SB_TESTS_JSONQ_H
#define SB_TESTS_JSONQ_H

#include <stdbool.h>
#include <stddef.h>

/* The value at path as written (no surrounding white space). false when the document is
 * invalid or the path leads nowhere. */
bool jsonq_get(const char *doc, size_t len, const char *path, const char **val, size_t *vlen);

/* A number (strtod of the number as written). false when missing or not a number. */
bool jsonq_num(const char *doc, size_t len, const char *path, double *out);
/* A string, unescaped (\" \\ \/ \b \f \n \r \t, and \uXXXX as UTF-8, surrogate pairs
 * joined), NUL-terminated into out[n]. false when missing, not a string, or longer than n-1
 * bytes. */
bool jsonq_str(const char *doc, size_t len, const char *path, char *out, size_t n);
/* true or false. false when missing or not a boolean (check the return, not only *out). */
bool jsonq_bool(const char *doc, size_t len, const char *path, bool *out);
/* Elements of an array; -1 when missing or not an array. */
int jsonq_len(const char *doc, size_t len, const char *path);
/* Whether the value at path is null (false when missing). */
bool jsonq_is_null(const char *doc, size_t len, const char *path);

#endif
