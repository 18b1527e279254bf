/* libFuzzer target for the JSON codec: json_minify out of place and in place must agree, the
 * output is never longer than the input, minifying the output again changes nothing, and
 * json_validate agrees with json_minify on validity and on the error. abort() on any mismatch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    /* exact-size heap copies so that AddressSanitizer sees any read or write past the end */
    char *out = malloc(size + 1), *inplace = malloc(size + 1);
    memcpy(inplace, data, size);

    json_error e1 = {0, NULL}, e2 = {0, NULL}, e3 = {0, NULL};
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
        json_error e4;
        ssize_t n3 = json_minify(out, (size_t)n1, again, &e4);
        if (n3 != n1 || memcmp(again, out, (size_t)n1) != 0)
            abort();
        free(again);
    }
    free(out);
    free(inplace);
    return 0;
}
