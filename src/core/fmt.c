#include "core/fmt.h"

#include <math.h>
#include <stdio.h>

/* Three significant digits: 1.23, 12.3, 123. */
static void sig3(char *out, size_t n, double v, const char *unit)
{
    if (v < 9.995)
        snprintf(out, n, "%.2f%s", v, unit);
    else if (v < 99.95)
        snprintf(out, n, "%.1f%s", v, unit);
    else
        snprintf(out, n, "%.0f%s", v, unit);
}

void fmt_duration(char *out, size_t n, double ns)
{
    if (!isfinite(ns) || ns < 0)
        snprintf(out, n, "-");
    else if (ns < 999.5)
        snprintf(out, n, "%.0fns", ns);
    else if (ns < 999.5e3)
        sig3(out, n, ns / 1e3, "µs");
    else if (ns < 999.5e6)
        sig3(out, n, ns / 1e6, "ms");
    else
        sig3(out, n, ns / 1e9, "s");
}

void fmt_bytes(char *out, size_t n, double b)
{
    if (!isfinite(b) || b < 0)
        snprintf(out, n, "-");
    else if (b < 1024)
        snprintf(out, n, "%.0fB", b);
    else if (b < 1024.0 * 1024)
        sig3(out, n, b / 1024, "KiB");
    else if (b < 1024.0 * 1024 * 1024)
        sig3(out, n, b / (1024.0 * 1024), "MiB");
    else
        sig3(out, n, b / (1024.0 * 1024 * 1024), "GiB");
}

void fmt_count(char *out, size_t n, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(out, n, "-");
    else if (a < 999.5)
        sig3(out, n, v, "");
    else if (a < 999.5e3)
        sig3(out, n, v / 1e3, "k");
    else if (a < 999.5e6)
        sig3(out, n, v / 1e6, "M");
    else
        sig3(out, n, v / 1e9, "G");
}
