#include "tmarkup.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_void(const char *name, size_t len)
{
    static const char *const v[] = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strlen(v[i]) == len && !strncasecmp(v[i], name, len))
            return true;
    return false;
}

/* An entity at p ('&'): &name; or &#digits; or &#xhex; */
static bool entity(const char *p)
{
    const char *q = p + 1;
    if (*q == '#') {
        q++;
        bool hex = *q == 'x' || *q == 'X';
        q += hex;
        const char *d = q;
        while (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q))
            q++;
        return q > d && *q == ';';
    }
    const char *n = q;
    while (isalnum((unsigned char)*q))
        q++;
    return q > n && *q == ';';
}

int t_markup_check(const char *s, char *why, size_t whylen)
{
    char stack[128][32];
    int depth = 0, elements = 0;
    for (const char *p = s; *p; p++) {
        size_t at = (size_t)(p - s);
        if (*p == '>') {
            snprintf(why, whylen, "a '>' outside a tag at byte %zu: %.40s", at, p);
            return -1;
        }
        if (*p == '&' && !entity(p)) {
            snprintf(why, whylen, "an '&' that starts no entity at byte %zu: %.40s", at, p);
            return -1;
        }
        if (*p != '<')
            continue;
        if (p[1] == '!') { /* <!DOCTYPE html>, <!-- ... --> */
            const char *end = !strncmp(p, "<!--", 4) ? strstr(p, "-->") : strchr(p, '>');
            if (!end) {
                snprintf(why, whylen, "an unterminated <! at byte %zu", at);
                return -1;
            }
            p = end + (end[0] == '-' ? 2 : 0);
            continue;
        }
        const char *end = p + 1;
        char quote = 0;
        while (*end && (quote || *end != '>')) {
            if (*end == '<' && !quote) {
                snprintf(why, whylen, "a '<' inside a tag at byte %zu: %.40s", (size_t)(end - s), p);
                return -1;
            }
            if ((*end == '"' || *end == '\'') && (!quote || quote == *end))
                quote = quote ? 0 : *end;
            end++;
        }
        if (!*end) {
            snprintf(why, whylen, "an unterminated tag at byte %zu: %.40s", at, p);
            return -1;
        }
        bool closing = p[1] == '/', self = end[-1] == '/';
        const char *name = p + 1 + closing;
        size_t len = 0;
        while (isalnum((unsigned char)name[len]) || name[len] == '-')
            len++;
        if (len == 0 || len >= 32) {
            snprintf(why, whylen, "a tag without a name at byte %zu: %.40s", at, p);
            return -1;
        }
        if (closing) {
            if (depth == 0 || strncmp(stack[depth - 1], name, len) || stack[depth - 1][len]) {
                snprintf(why, whylen, "</%.*s> closes <%s> at byte %zu", (int)len, name,
                         depth ? stack[depth - 1] : "(nothing)", at);
                return -1;
            }
            depth--;
        } else {
            elements++;
            if (!self && !is_void(name, len)) {
                if (depth == 128) {
                    snprintf(why, whylen, "nested deeper than 128 at byte %zu", at);
                    return -1;
                }
                snprintf(stack[depth++], 32, "%.*s", (int)len, name);
                /* the text of <style> is CSS, not markup: to its closing tag */
                if (len == 5 && !strncmp(name, "style", 5)) {
                    const char *close = strstr(end, "</style>");
                    if (!close) {
                        snprintf(why, whylen, "<style> never closed");
                        return -1;
                    }
                    end = close - 1;
                }
            }
        }
        p = end;
    }
    if (depth) {
        snprintf(why, whylen, "<%s> never closed", stack[depth - 1]);
        return -1;
    }
    return elements;
}
