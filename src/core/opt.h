/* opt: command-line flags as a table, and the values they take.
 *
 * Each command describes its flags once, in an opt_t table: name, value kind, where the value
 * goes, its help. From that table the command's flags are parsed (GNU style: --name value,
 * --name=value, -c value, -c10; flags and operands in any order unless the command stops at its
 * first operand; "--" ends the flags) and its --help is printed, so the help cannot miss a flag
 * the parser takes. Errors have one style for every command, and exit 2:
 *     stackbench load: -d: expected a duration like 10s, 500ms or 2m, got 'x'
 * The man page (scripts/man.sh) is generated from the --help texts. */
#ifndef SB_CORE_OPT_H
#define SB_CORE_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cpu.h"

typedef enum {
    OPT_BOOL,      /* no value: *(bool *)dst = true */
    OPT_INT,       /* *(int *)dst, min..max */
    OPT_INT64,     /* *(int64_t *)dst, min..max */
    OPT_UINT64,    /* *(uint64_t *)dst: any unsigned 64-bit integer (decimal, 0x hex) */
    OPT_DURATION,  /* *(int64_t *)dst in ns (opt_parse_duration_ns), min..max (max 0: none) */
    OPT_SIZE,      /* *(uint64_t *)dst in bytes (opt_parse_size), at least min */
    OPT_STR,       /* *(const char **)dst = the argument */
    OPT_CPUS,      /* *(cpuset_t *)dst (cpuset_parse) */
    OPT_FN,        /* fn(arg, dst, why): anything else (lists, choices, repeatable flags) */
} opt_kind_t;

/* An OPT_FN parser: 0, or -1 with what was expected in why ("expected max or requests/s"). */
typedef int (*opt_fn_cb)(const char *arg, void *dst, char *why, size_t whylen);

typedef struct {
    const char *name;     /* the long name without "--"; NULL ends the table */
    char letter;          /* the short name, or 0 */
    opt_kind_t kind;
    void *dst;
    const char *meta;     /* the value's name in the help ("DUR", "N"); NULL for OPT_BOOL */
    const char *help;     /* what it does and its default: lines of at most 56 columns, '\n'
                           * between them */
    int64_t min, max;     /* OPT_INT, OPT_INT64, OPT_DURATION (max 0: none), OPT_SIZE (min) */
    const char *expect;   /* the error's "expected ...", e.g. "1..1024 threads"; NULL: from
                           * the kind and range */
    opt_fn_cb fn;         /* OPT_FN */
    bool *seen;           /* set when the flag is given, or NULL */
} opt_t;

typedef struct {
    const char *name;     /* "run", as in stackbench run; also its page, docs/run.md */
    const char *usage;    /* what follows "usage: stackbench ", one line per form */
    const char *about;    /* what it does: paragraphs */
    const opt_t *opts;
    const char *more;     /* text after the flags (workloads, exit status, an example), or NULL */
    bool stop_at_operand; /* the first operand ends the flags (stackbench pg -- COMMAND) */
} opt_cmd_t;

/* Parses argv[1..argc) against cmd->opts. -h or --help prints the help on stdout and exits 0;
 * an unknown flag, a missing or bad value: one line on stderr and exit 2. The operands are
 * moved, in order, to the end of argv; returns the index of the first (argc when none). */
int opt_parse(const opt_cmd_t *cmd, int argc, char **argv);
/* The command's help: usage, about, the flags aligned (with -h, --help), more, and the line
 * naming its reference page. */
void opt_help(const opt_cmd_t *cmd, FILE *f);

/* A comma-separated list of names ("c,go"), each one of allowed (NULL-terminated), into
 * out[0..max): copied into store (storelen bytes, which out points into afterwards). The
 * count, or -1 with the reason in why (a name not allowed, too many, none, too long). For
 * OPT_FN parsers of list flags. */
int opt_split_list(const char *arg, char *store, size_t storelen, const char **out, int max,
                   const char *const *allowed, const char *what, char *why, size_t whylen);

/* "stackbench CMD: message" on stderr and exit 2: a bad combination of flags or operands. */
void opt_fail(const char *cmd, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* ---- values ---- each returns 0, or -1 on a bad value */
int opt_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* "10s", "500ms", "250us", "2m", "1h", "1.5s"; a bare number is seconds. */
int opt_parse_duration_ns(const char *s, int64_t *out);
/* "1048576", "64k", "1M", "16MiB", "2G": binary multiples. */
int opt_parse_size(const char *s, uint64_t *out);

#endif
