#include "decide/prices.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "codec/yaml.h"

const price_t *prices_find(const prices_t *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->types[i].name, name) == 0)
            return &p->types[i];
    return NULL;
}

/* YYYY-MM-DD, a day of the calendar (2025-02-29 is not). */
static bool is_date(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
            return false;
    if (s[10])
        return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

static int read_type(const ydoc_t *d, const ynode_t *t, const char *at, price_t *x)
{
    static const char *const keys[] = {"name", "vcpu", "gib", "usd_per_hour", "source", "date",
                                       NULL};
    if (ydoc_keys(d, t, at, keys, keys) || ydoc_str(d, t, at, "name", x->name, sizeof x->name) ||
        ydoc_int(d, t, at, "vcpu", 1, INT_MAX, &x->vcpu) ||
        ydoc_double(d, t, at, "gib", 0, HUGE_VAL, &x->gib) ||
        ydoc_double(d, t, at, "usd_per_hour", 0, HUGE_VAL, &x->usd_per_hour) ||
        ydoc_str(d, t, at, "source", x->source, sizeof x->source))
        return -1;
    char path[64];
    snprintf(path, sizeof path, "%s.date", at);
    const ynode_t *date = ynode_get(t, "date");
    if (ydoc_str(d, t, at, "date", x->date, sizeof x->date) || !is_date(x->date))
        return ydoc_expected(d, date, path, "a date YYYY-MM-DD");
    return 0;
}

static int from_doc(prices_t *p, const ydoc_t *d)
{
    static const char *const top[] = {"hours_per_month", "default", "types", NULL};
    static const char *const required[] = {"default", "types", NULL};
    memset(p, 0, sizeof *p);
    p->hours_per_month = 730;
    const ynode_t *root = d->root, *types;
    /* 744: the hours of a month of 31 days */
    if (ydoc_keys(d, root, "", top, required) ||
        ydoc_double(d, root, "", "hours_per_month", 0, 744, &p->hours_per_month) ||
        ydoc_str(d, root, "", "default", p->default_type, sizeof p->default_type) ||
        ydoc_seq(d, root, "", "types", &types))
        return -1;
    if (types->n == 0)
        return ydoc_fail(d, types, "types: expected at least one type");
    if (types->n > PRICES_MAX)
        return ydoc_fail(d, types, "types: more than %d types", PRICES_MAX);
    const ynode_t *names[PRICES_MAX];
    for (const ynode_t *t = types->first; t; t = t->next, p->n++) {
        char at[32];
        snprintf(at, sizeof at, "types[%d]", p->n);
        price_t *x = &p->types[p->n];
        if (read_type(d, t, at, x))
            return -1;
        names[p->n] = ynode_get(t, "name");
        const price_t *first = prices_find(p, x->name); /* among those before it */
        if (first)
            return ydoc_fail(d, names[p->n], "%s.name: duplicate name \"%s\" (first at line %d)",
                             at, x->name, names[first - p->types]->line);
    }
    if (!prices_find(p, p->default_type)) {
        char what[PRICES_MAX * 34 + 32];
        size_t used = (size_t)snprintf(what, sizeof what, "one of the types (");
        for (int i = 0; i < p->n; i++)
            used += (size_t)snprintf(what + used, sizeof what - used, "%s%s", i ? ", " : "",
                                     p->types[i].name);
        snprintf(what + used, sizeof what - used, ")");
        return ydoc_expected(d, ynode_get(root, "default"), "default", what);
    }
    return 0;
}

int prices_parse(prices_t *p, const char *name, const char *text, size_t len, char *err,
                 size_t errlen)
{
    ydoc_t d;
    if (ydoc_load(&d, name, text, len, err, errlen))
        return -1;
    int rc = from_doc(p, &d);
    ydoc_free(&d);
    return rc;
}

int prices_load(prices_t *p, const char *path, char *err, size_t errlen)
{
    ydoc_t d;
    if (ydoc_load_input(&d, path, "prices.yaml", err, errlen))
        return -1;
    int rc = from_doc(p, &d);
    ydoc_free(&d);
    return rc;
}
