/* fmt: numbers for people: durations, sizes, counts, aligned in tables. */
#ifndef SB_CORE_FMT_H
#define SB_CORE_FMT_H

#include <stddef.h>

/* "812µs", "1.25ms", "3.40s": three significant digits, unit chosen by magnitude. */
void fmt_duration(char *out, size_t n, double ns);
/* "512B", "1.5KiB", "38.2MiB", "1.21GiB". */
void fmt_bytes(char *out, size_t n, double bytes);
/* "812", "81.2k", "8.12M". */
void fmt_count(char *out, size_t n, double v);

#endif
