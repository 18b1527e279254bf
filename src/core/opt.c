#include "core/opt.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

void opt_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vwarn(cmd, fmt, ap);
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

int opt_split_list(const char *arg, char *store, size_t storelen, const char **out, int max,
                   const char *const *allowed, const char *what, char *why, size_t whylen)
{
    if (strlen(arg) >= storelen) {
        snprintf(why, whylen, "too long");
        return -1;
    }
    memcpy(store, arg, strlen(arg) + 1);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(store, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, tok) == 0;
        if (!ok) {
            char names[256] = "";
            for (const char *const *a = allowed; *a; a++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         a == allowed ? "" : ", ", *a);
            snprintf(why, whylen, "unknown '%s' (%s: %s)", tok, what, names);
            return -1;
        }
        if (n == max) {
            snprintf(why, whylen, "too many values");
            return -1;
        }
        out[n++] = tok;
    }
    if (n == 0) {
        snprintf(why, whylen, "expected a comma-separated list, got '%s'", arg);
        return -1;
    }
    return n;
}

/* ---- the flag table ---- */

#define HELP_COLUMN 25 /* where descriptions start */

static bool any_letter(const opt_t *opts)
{
    for (const opt_t *o = opts; o && o->name; o++)
        if (o->letter)
            return true;
    return false;
}

/* Prints s with every line after the first indented to the description column. */
static void help_text(FILE *f, const char *s)
{
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%.*s\n", (int)n, p);
        p += n;
        if (*p == '\n' && *++p && *p != '\n') /* an empty line stays empty */
            fprintf(f, "%*s", HELP_COLUMN, "");
    }
}

static void help_entry(FILE *f, bool letters, char letter, const char *name, const char *meta,
                       const char *help)
{
    char left[128];
    int n = snprintf(left, sizeof left, "  %s%s%s--%s%s%s", letter ? "-" : "",
                     letter ? (char[2]){letter, 0} : "", letter ? ", " : letters ? "    " : "",
                     name, meta ? " " : "", meta ? meta : "");
    fputs(left, f);
    if (!help || !*help) {
        fputc('\n', f);
        return;
    }
    if (n + 2 <= HELP_COLUMN)
        fprintf(f, "%*s", HELP_COLUMN - n, "");
    else /* too long for the column: the text below it */
        fprintf(f, "\n%*s", HELP_COLUMN, "");
    help_text(f, help);
}

void opt_help(const opt_cmd_t *cmd, FILE *f)
{
    const char *u = cmd->usage;
    for (int line = 0; *u; line++) {
        size_t n = strcspn(u, "\n");
        fprintf(f, "%s stackbench %.*s\n", line ? "      " : "usage:", (int)n, u);
        u += n + (u[n] == '\n');
    }
    if (cmd->about && *cmd->about)
        fprintf(f, "\n%s%s", cmd->about, cmd->about[strlen(cmd->about) - 1] == '\n' ? "" : "\n");
    fprintf(f, "\nflags:\n");
    bool letters = any_letter(cmd->opts);
    for (const opt_t *o = cmd->opts; o && o->name; o++)
        help_entry(f, letters, o->letter, o->name, o->kind == OPT_BOOL ? NULL : o->meta, o->help);
    help_entry(f, letters, 'h', "help", NULL, "this help");
    if (cmd->more && *cmd->more)
        fprintf(f, "\n%s%s", cmd->more, cmd->more[strlen(cmd->more) - 1] == '\n' ? "" : "\n");
    fprintf(f, "\nreference: docs/%s.md, man stackbench\n", cmd->name);
}

/* "1..1024", "a duration like 10s, 500ms or 2m": what a flag's value must look like. */
static void expected(const opt_t *o, char *out, size_t n)
{
    if (o->expect) {
        snprintf(out, n, "%s", o->expect);
        return;
    }
    switch (o->kind) {
    case OPT_INT:
    case OPT_INT64:
        snprintf(out, n, "%lld..%lld", (long long)o->min, (long long)o->max);
        break;
    case OPT_UINT64:
        snprintf(out, n, "an unsigned 64-bit integer");
        break;
    case OPT_DURATION:
        snprintf(out, n, "a duration like 10s, 500ms or 2m");
        break;
    case OPT_SIZE:
        snprintf(out, n, "a size like 1M, 64k or 65536");
        break;
    case OPT_CPUS:
        snprintf(out, n, "a CPU list like 0 or 0,2-3");
        break;
    default:
        snprintf(out, n, "a value");
    }
}

/* Stores arg for o; 0, or -1 with the reason in why. */
static int apply(const opt_t *o, const char *arg, char *why, size_t whylen)
{
    int64_t v;
    uint64_t u;
    why[0] = 0;
    switch (o->kind) {
    case OPT_BOOL:
        *(bool *)o->dst = true;
        return 0;
    case OPT_INT:
    case OPT_INT64:
        if (opt_parse_int(arg, o->min, o->max, &v))
            return -1;
        if (o->kind == OPT_INT)
            *(int *)o->dst = (int)v;
        else
            *(int64_t *)o->dst = v;
        return 0;
    case OPT_UINT64: {
        /* Decimal or 0x hex; not strtoull's base 0, which reads "010" as octal 8. strtoull
         * also takes a sign and leading blanks: the first character must be a digit. */
        bool hex = arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');
        const char *digits = hex ? arg + 2 : arg;
        if (!(hex ? isxdigit((unsigned char)*digits) : isdigit((unsigned char)*digits)))
            return -1;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(digits, &end, hex ? 16 : 10);
        if (errno || *end)
            return -1;
        *(uint64_t *)o->dst = x;
        return 0;
    }
    case OPT_DURATION:
        if (opt_parse_duration_ns(arg, &v) || v < o->min || (o->max && v > o->max))
            return -1;
        *(int64_t *)o->dst = v;
        return 0;
    case OPT_SIZE:
        if (opt_parse_size(arg, &u) || u < (uint64_t)o->min)
            return -1;
        *(uint64_t *)o->dst = u;
        return 0;
    case OPT_STR:
        *(const char **)o->dst = arg;
        return 0;
    case OPT_CPUS:
        return cpuset_parse(arg, o->dst) < 1 ? -1 : 0;
    case OPT_FN:
        return o->fn(arg, o->dst, why, whylen);
    }
    return -1;
}

static const opt_t *find_long(const opt_t *opts, const char *name, size_t n)
{
    for (const opt_t *o = opts; o && o->name; o++)
        if (strlen(o->name) == n && memcmp(o->name, name, n) == 0)
            return o;
    return NULL;
}

static const opt_t *find_short(const opt_t *opts, char c)
{
    for (const opt_t *o = opts; o && o->name; o++)
        if (o->letter == c)
            return o;
    return NULL;
}

static void take(const opt_cmd_t *cmd, const opt_t *o, const char *flag, const char *arg)
{
    char why[256];
    if (apply(o, arg, why, sizeof why) != 0) {
        if (why[0])
            opt_fail(cmd->name, "%s: %s", flag, why);
        char exp[128];
        expected(o, exp, sizeof exp);
        opt_fail(cmd->name, "%s: expected %s, got '%s'", flag, exp, arg);
    }
    if (o->seen)
        *o->seen = true;
}

int opt_parse(const opt_cmd_t *cmd, int argc, char **argv)
{
    char **operands = calloc((size_t)argc + 1, sizeof *operands);
    if (!operands)
        opt_fail(cmd->name, "out of memory");
    int nops = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                operands[nops++] = argv[i];
            break;
        }
        if (a[0] != '-' || !a[1]) { /* an operand ("-" alone is one too: standard input) */
            if (cmd->stop_at_operand) {
                while (i < argc)
                    operands[nops++] = argv[i++];
                break;
            }
            operands[nops++] = a;
            continue;
        }
        char flag[128];
        const opt_t *o = NULL;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            snprintf(flag, sizeof flag, "--%.*s", (int)n, name);
            if (n == 4 && memcmp(name, "help", 4) == 0) {
                opt_help(cmd, stdout);
                exit(0);
            }
            if (!(o = find_long(cmd->opts, name, n)))
                opt_fail(cmd->name, "unknown flag '%s' (see stackbench %s --help)", flag, cmd->name);
            if (eq && o->kind == OPT_BOOL)
                opt_fail(cmd->name, "%s: takes no value", flag);
            val = eq ? eq + 1 : NULL;
        } else {
            /* -x, -xVALUE, or several flags without values together: -qv */
            for (const char *c = a + 1; *c; c++) {
                snprintf(flag, sizeof flag, "-%c", *c);
                if (*c == 'h') {
                    opt_help(cmd, stdout);
                    exit(0);
                }
                if (!(o = find_short(cmd->opts, *c)))
                    opt_fail(cmd->name, "unknown flag '%s' (see stackbench %s --help)", flag,
                             cmd->name);
                if (o->kind != OPT_BOOL) {
                    val = c[1] ? c + 1 : NULL;
                    break;
                }
                take(cmd, o, flag, "");
                o = NULL;
            }
            if (!o)
                continue;
        }
        if (o->kind == OPT_BOOL) {
            take(cmd, o, flag, "");
            continue;
        }
        if (!val) {
            if (i + 1 >= argc)
                opt_fail(cmd->name, "%s: missing value", flag);
            val = argv[++i];
        }
        take(cmd, o, flag, val);
    }
    int first = argc - nops;
    for (int k = 0; k < nops; k++)
        argv[first + k] = operands[k];
    free(operands);
    return first;
}
