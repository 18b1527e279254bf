/* libFuzzer target for the decision's inputs (src/decide/profile.h, prices.h, mesh.h) and the
 * YAML loader under them (src/codec/yaml.h). The input, in an exact-size heap copy (not
 * NUL-terminated: AddressSanitizer sees any read past its end), is given to profile_parse,
 * prices_parse and mesh_parse, each twice.
 *   - The result is 0 or -1, and the same both times: the same message, or the same structure
 *     byte for byte (each parser clears it first).
 *   - A refusal is one line "fuzz.yaml:LINE:COLUMN: reason", LINE and COLUMN >= 1, the reason
 *     non-empty.
 *   - What is accepted holds what the headers promise: a profile's levels, counts and budget
 *     in range, headroom in (0, 1], an average not above the peak; prices with 1..PRICES_MAX
 *     types of unique names, each with vcpu, gib and $/hour > 0, a source and a YYYY-MM-DD
 *     date, the default one of them, hours_per_month in (0, 744]; a mesh of 1..MESH_MAX
 *     services of unique names, each of a known kind, with a URL and a like exactly when the
 *     kind is url, traffic > 0, a known language, and the profile "" or put after the folder.
 *     Every string is NUL-terminated in its field, without control characters.
 *   - Nothing leaks (LeakSanitizer), on success or failure.
 * abort() on any violation. */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide/mesh.h"
#include "decide/prices.h"
#include "decide/profile.h"

static void check_message(const char *err)
{
    const char *p = err;
    if (strncmp(p, "fuzz.yaml:", 10) != 0)
        abort();
    p += 10;
    for (int part = 0; part < 2; part++) { /* LINE: then COLUMN: */
        if (*p < '1' || *p > '9')
            abort();
        while (isdigit((unsigned char)*p))
            p++;
        if (*p++ != ':')
            abort();
    }
    if (p[0] != ' ' || p[1] == 0 || strchr(err, '\n'))
        abort();
}

/* A string field: NUL-terminated within cap, no control characters; non-empty if need. */
static void check_field(const char *s, size_t cap, bool need)
{
    size_t n = strnlen(s, cap);
    if (n == cap || (need && n == 0))
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static void check_profile(const profile_t *p)
{
    check_field(p->name, sizeof p->name, false);
    check_field(p->instance, sizeof p->instance, false);
    for (int l = 0; l < LANG_N; l++)
        if (p->skill[l] < SKILL_NONE || p->skill[l] > SKILL_SENIOR || p->seniors[l] < 0)
            abort();
    if (p->hires_per_quarter < 0 || p->deadline_weeks < 0 || !(p->p99_slo_ms >= 0) ||
        !isfinite(p->p99_slo_ms) || !(p->peak_rps >= 0) || !isfinite(p->peak_rps) ||
        !(p->average_rps >= 0) || !isfinite(p->average_rps) ||
        (p->peak_rps > 0 && p->average_rps > p->peak_rps) || p->budget < BUDGET_LOW ||
        p->budget > BUDGET_HIGH || !(p->headroom > 0 && p->headroom <= 1))
        abort();
}

static bool is_date(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    return s[10] == 0;
}

static void check_prices(const prices_t *p)
{
    if (p->n < 1 || p->n > PRICES_MAX || !(p->hours_per_month > 0 && p->hours_per_month <= 744))
        abort();
    check_field(p->default_type, sizeof p->default_type, true);
    if (!prices_find(p, p->default_type))
        abort();
    for (int i = 0; i < p->n; i++) {
        const price_t *t = &p->types[i];
        check_field(t->name, sizeof t->name, true);
        check_field(t->source, sizeof t->source, true);
        check_field(t->date, sizeof t->date, true);
        if (t->vcpu < 1 || !(t->gib > 0) || !isfinite(t->gib) || !(t->usd_per_hour > 0) ||
            !isfinite(t->usd_per_hour) || !is_date(t->date) || prices_find(p, t->name) != t)
            abort();
    }
}

static void check_mesh(const mesh_t *m)
{
    if (m->n < 1 || m->n > MESH_MAX)
        abort();
    check_field(m->profile, sizeof m->profile, false);
    check_field(m->instance, sizeof m->instance, false);
    if (m->profile[0] && m->profile[0] != '/' && strncmp(m->profile, "fuzzdir/", 8) != 0)
        abort();
    static const char *const kinds[] = {"echo", "sql", "csv", "grpc", "url"};
    for (int i = 0; i < m->n; i++) {
        const mesh_service_t *s = &m->svc[i];
        check_field(s->name, sizeof s->name, true);
        check_field(s->url, sizeof s->url, false);
        check_field(s->like, sizeof s->like, false);
        int k = 0;
        while (k < 5 && strcmp(s->kind, kinds[k]) != 0)
            k++;
        bool url = k == 4;
        if (k == 5 || url != (strncmp(s->url, "http://", 7) == 0) || url != (s->like[0] != 0))
            abort();
        bool like_known = false;
        for (int j = 0; j < 4; j++)
            like_known |= strcmp(s->like, kinds[j]) == 0;
        if (url != like_known)
            abort();
        if (!(s->traffic_rps > 0) || !isfinite(s->traffic_rps) || !(s->p99_slo_ms >= 0) ||
            !isfinite(s->p99_slo_ms) || s->lang < 0 || s->lang >= LANG_N || s->line < 1)
            abort();
        for (int j = 0; j < i; j++)
            if (strcmp(m->svc[j].name, s->name) == 0)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static profile_t p1, p2;
    static prices_t r1, r2;
    static mesh_t m1, m2;
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    char e1[512], e2[512];
    int a, b;

    a = profile_parse(&p1, "fuzz.yaml", text, size, e1, sizeof e1);
    b = profile_parse(&p2, "fuzz.yaml", text, size, e2, sizeof e2);
    if (a != b || (a != 0 && a != -1))
        abort();
    if (a ? (check_message(e1), strcmp(e1, e2) != 0) : memcmp(&p1, &p2, sizeof p1) != 0)
        abort();
    if (a == 0)
        check_profile(&p1);

    a = prices_parse(&r1, "fuzz.yaml", text, size, e1, sizeof e1);
    b = prices_parse(&r2, "fuzz.yaml", text, size, e2, sizeof e2);
    if (a != b || (a != 0 && a != -1))
        abort();
    if (a ? (check_message(e1), strcmp(e1, e2) != 0) : memcmp(&r1, &r2, sizeof r1) != 0)
        abort();
    if (a == 0)
        check_prices(&r1);

    a = mesh_parse(&m1, "fuzz.yaml", "fuzzdir", text, size, e1, sizeof e1);
    b = mesh_parse(&m2, "fuzz.yaml", "fuzzdir", text, size, e2, sizeof e2);
    if (a != b || (a != 0 && a != -1))
        abort();
    if (a ? (check_message(e1), strcmp(e1, e2) != 0) : memcmp(&m1, &m2, sizeof m1) != 0)
        abort();
    if (a == 0)
        check_mesh(&m1);

    free(text);
    return 0;
}
