/* opt: parsing of command-line values, with one error style for every subcommand:
 *     stackbench load: -d: expected a duration like 10s, 500ms or 2m, got 'x'
 * and exit code 2 for any bad flag or value. */
#ifndef SB_CORE_OPT_H
#define SB_CORE_OPT_H

#include <stdbool.h>
#include <stdint.h>

/* Prints "stackbench CMD: message" to stderr and exits 2. */
void opt_fail(const char *cmd, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* Each returns 0 on success and -1 on a bad value. */
int opt_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* "10s", "500ms", "250us", "2m", "1h", "1.5s"; a bare number is seconds. */
int opt_parse_duration_ns(const char *s, int64_t *out);
/* "1048576", "64k", "1M", "16MiB", "2G": binary multiples. */
int opt_parse_size(const char *s, uint64_t *out);
/* "0,2-3": CPU numbers into a mask of up to 1024 CPUs; returns the count or -1. */
int opt_parse_cpus(const char *s, unsigned char mask[1024]);

/* getopt_long glue: the flag that failed, for "unknown flag" messages. */
const char *opt_bad_flag(int argc, char **argv, int optind_now, int optopt_now);
/* The one-line error and exit 2 for getopt_long's ':' (a flag without its value) and '?'
 * (an unknown flag) results, c being what getopt_long returned. */
void opt_fail_getopt(const char *cmd, int c, int argc, char **argv) __attribute__((noreturn));

#endif
