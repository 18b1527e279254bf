/* tmarkup: checking the markup stackbench writes (the report's SVG charts and its page) for
 * the mistakes an unescaped string or a forgotten closing tag make: every element closed, in
 * order, by </name> or written <name .../> (HTML's void elements, such as <meta>, need
 * neither); no '<' or '>' outside a tag; every '&' the start of an entity (&amp; &#39;); quoted
 * attribute values. <!...> (the doctype, comments) is skipped, and so is the text of <style>.
 * Not a parser: a check that a page of ours is the tree it means to be. */
#ifndef SB_TESTS_TMARKUP_H
#define SB_TESTS_TMARKUP_H

#include <stddef.h>

/* The number of elements in s, or -1 with what is wrong, and where, in why. */
int t_markup_check(const char *s, char *why, size_t whylen);

#endif
