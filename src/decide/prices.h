/* prices: instance types and what they cost (prices.yaml): vCPUs, memory, $ per hour, and where
 * and when each price was read. examples/prices.yaml is the shipped default (compiled into the
 * binary, core/embed.h); `--prices FILE` gives another. */
#ifndef SB_DECIDE_PRICES_H
#define SB_DECIDE_PRICES_H

#include <stddef.h>

#define PRICES_MAX 32

typedef struct {
    char name[32];                /* "c7i.xlarge" */
    int vcpu;
    double gib;
    double usd_per_hour;
    char source[200];             /* where the price was read (a URL, a region) */
    char date[16];                /* when: YYYY-MM-DD */
} price_t;

typedef struct {
    price_t types[PRICES_MAX];
    int n;
    char default_type[32];        /* `default:`, one of types */
    double hours_per_month;       /* `hours_per_month:` (730) */
} prices_t;

/* From text (name for messages) / a file / with path NULL the shipped examples/prices.yaml.
 * Every type needs vcpu > 0, gib > 0, usd_per_hour > 0, source and date (YYYY-MM-DD); names are
 * unique; default names one of them; hours_per_month, 730 when absent, is in (0, 744]. 0, or -1
 * with "NAME:LINE:COLUMN: what is wrong" in err. */
int prices_parse(prices_t *p, const char *name, const char *text, size_t len, char *err,
                 size_t errlen);
int prices_load(prices_t *p, const char *path, char *err, size_t errlen);
/* The type called name, or NULL. */
const price_t *prices_find(const prices_t *p, const char *name);

#endif
