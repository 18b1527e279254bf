/* libFuzzer target for the JSON codec: json_minify out of place and in place must agree, the
 * output is never longer than the input, minifying the output again changes nothing, and
 * json_validate agrees with json_minify on validity and on the error. For a valid object, the
 * member reader gives the same members from the input and from its minified form: the same
 * names, values that are valid JSON and minify to the same bytes, and names without escapes
 * that json_name_eq recognizes. abort() on any mismatch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

static void check_members(const char *src, size_t size, const char *min, size_t n)
{
    json_members_t a, b;
    int ra = json_members_begin(&a, src, size), rb = json_members_begin(&b, min, n);
    if (ra != rb)
        abort();
    if (ra)
        return;
    const char *na, *nb, *va, *vb;
    size_t nal, nbl, val, vbl;
    for (;;) {
        bool ga = json_members_next(&a, &na, &nal, &va, &val);
        bool gb = json_members_next(&b, &nb, &nbl, &vb, &vbl);
        if (ga != gb)
            abort();
        if (!ga)
            break;
        if (nal != nbl || memcmp(na, nb, nal) != 0)
            abort();
        json_error_t e;
        char *m = malloc(val + 1);
        ssize_t mn = json_minify(va, val, m, &e);
        if (mn < 0 || (size_t)mn != vbl || memcmp(m, vb, vbl) != 0)
            abort();
        free(m);
        if (!memchr(na, '\\', nal) && !memchr(na, 0, nal)) {
            char *lit = malloc(nal + 1);
            memcpy(lit, na, nal);
            lit[nal] = 0;
            if (!json_name_eq(na, nal, lit))
                abort();
            free(lit);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    /* exact-size heap copies so that AddressSanitizer sees any read or write past the end */
    char *out = malloc(size + 1), *inplace = malloc(size + 1);
    memcpy(inplace, data, size);

    json_error_t e1 = {0, NULL}, e2 = {0, NULL}, e3 = {0, NULL};
    ssize_t n1 = json_minify(src, size, out, &e1);
    ssize_t n2 = json_minify(inplace, size, inplace, &e2);
    int v = json_validate(src, size, &e3);

    if ((n1 < 0) != (n2 < 0) || (n1 < 0) != (v < 0))
        abort();
    if (n1 < 0) {
        /* the same error, wherever it was found from */
        if (e1.offset != e2.offset || e1.offset != e3.offset || e1.reason != e2.reason ||
            e1.reason != e3.reason || e1.offset > size || !e1.reason)
            abort();
        if (strchr(e1.reason, '"') || strchr(e1.reason, '\\'))
            abort();
    } else {
        if (n1 != n2 || (size_t)n1 > size || n1 == 0 || memcmp(out, inplace, (size_t)n1) != 0)
            abort();
        /* idempotent: out is minified already, so in place it must come back unchanged */
        char *again = malloc((size_t)n1);
        json_error_t e4;
        ssize_t n3 = json_minify(out, (size_t)n1, again, &e4);
        if (n3 != n1 || memcmp(again, out, (size_t)n1) != 0)
            abort();
        free(again);
        check_members(src, size, out, (size_t)n1);
    }
    free(out);
    free(inplace);
    return 0;
}
