#include "core/log.h"

#include <stdio.h>
#include <string.h>

void sb_vwarn(const char *who, const char *fmt, va_list ap)
{
    /* One fprintf for the whole line: lines of several threads do not interleave. */
    char line[2048];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        return;
    size_t len = strlen(line);
    while (len && line[len - 1] == '\n')
        line[--len] = 0;
    fprintf(stderr, "stackbench%s%s: %s\n", who && *who ? " " : "", who ? who : "", line);
}

void sb_warn(const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vwarn(who, fmt, ap);
    va_end(ap);
}
