#include "core/opt.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

void opt_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "stackbench%s%s: ", cmd && *cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

int opt_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A non-negative decimal number followed by a unit suffix. */
static int number_unit(const char *s, double *num, const char **unit)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    *num = v;
    *unit = end;
    return 0;
}

int opt_parse_duration_ns(const char *s, int64_t *out)
{
    double v;
    const char *u;
    if (number_unit(s, &v, &u))
        return -1;
    double mul;
    if (!*u || !strcmp(u, "s"))
        mul = NS_PER_S;
    else if (!strcmp(u, "ms"))
        mul = NS_PER_MS;
    else if (!strcmp(u, "us") || !strcmp(u, "µs"))
        mul = NS_PER_US;
    else if (!strcmp(u, "ns"))
        mul = 1;
    else if (!strcmp(u, "m") || !strcmp(u, "min"))
        mul = 60.0 * NS_PER_S;
    else if (!strcmp(u, "h"))
        mul = 3600.0 * NS_PER_S;
    else
        return -1;
    double ns = v * mul;
    if (ns > 9e18)
        return -1;
    *out = (int64_t)llround(ns);
    return 0;
}

int opt_parse_size(const char *s, uint64_t *out)
{
    double v;
    const char *u;
    if (number_unit(s, &v, &u))
        return -1;
    double mul;
    if (!*u || !strcmp(u, "B") || !strcmp(u, "b"))
        mul = 1;
    else if (!strcasecmp(u, "k") || !strcasecmp(u, "kb") || !strcasecmp(u, "kib"))
        mul = 1024.0;
    else if (!strcasecmp(u, "m") || !strcasecmp(u, "mb") || !strcasecmp(u, "mib"))
        mul = 1024.0 * 1024;
    else if (!strcasecmp(u, "g") || !strcasecmp(u, "gb") || !strcasecmp(u, "gib"))
        mul = 1024.0 * 1024 * 1024;
    else
        return -1;
    double b = v * mul;
    if (b > 9e18 || b != floor(b))
        return -1;
    *out = (uint64_t)b;
    return 0;
}

int opt_parse_cpus(const char *s, unsigned char mask[1024])
{
    memset(mask, 0, 1024);
    if (!s || !*s)
        return -1;
    int count = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10);
        if (end == p || errno || a < 0 || a >= 1024)
            return -1;
        long b = a;
        p = end;
        if (*p == '-') {
            p++;
            b = strtol(p, &end, 10);
            if (end == p || errno || b < a || b >= 1024)
                return -1;
            p = end;
        }
        for (long c = a; c <= b; c++)
            if (!mask[c]) {
                mask[c] = 1;
                count++;
            }
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return count;
}

const char *opt_bad_flag(int argc, char **argv, int optind_now, int optopt_now)
{
    static char shortflag[3];
    /* getopt_long sets optopt to a long option's value (>= 256 here) when its value is
     * missing: then the flag as typed is the argument just consumed. */
    if (optopt_now > 0 && optopt_now < 128) {
        shortflag[0] = '-';
        shortflag[1] = (char)optopt_now;
        shortflag[2] = 0;
        return shortflag;
    }
    int i = optind_now - 1;
    return (i >= 0 && i < argc) ? argv[i] : "?";
}

void opt_fail_getopt(const char *cmd, int c, int argc, char **argv)
{
    const char *flag = opt_bad_flag(argc, argv, optind, optopt);
    if (c == ':')
        opt_fail(cmd, "%s: missing value", flag);
    opt_fail(cmd, "unknown flag '%s' (see stackbench %s --help)", flag, cmd);
}
