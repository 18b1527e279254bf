#include "decide/profile.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec/yaml.h"

const char *const lang_names[LANG_N] = {"c", "go", "rust"};
const char *const skill_names[4] = {"none", "junior", "mid", "senior"};
const char *const budget_names[3] = {"low", "medium", "high"};

int lang_parse(const char *name)
{
    for (int i = 0; i < LANG_N; i++)
        if (strcmp(name, lang_names[i]) == 0)
            return i;
    return -1;
}

void profile_init(profile_t *p)
{
    memset(p, 0, sizeof *p);
    p->headroom = 0.6;
    p->budget = BUDGET_MEDIUM;
    p->always_on = true;
}

/* team.languages and team.seniors: a mapping from language to a level, to a count. */
static int per_language(const ydoc_t *d, const ynode_t *team, profile_t *p)
{
    const char *langs[LANG_N + 1] = {0};
    for (int l = 0; l < LANG_N; l++)
        langs[l] = lang_names[l];
    const ynode_t *levels = ynode_get(team, "languages");
    if (levels && ydoc_keys(d, levels, "team.languages", langs, NULL))
        return -1;
    const ynode_t *seniors = ynode_get(team, "seniors");
    if (seniors && ydoc_keys(d, seniors, "team.seniors", langs, NULL))
        return -1;
    for (int l = 0; l < LANG_N; l++) {
        int skill = (int)p->skill[l];
        if (ydoc_enum(d, levels, "team.languages", lang_names[l], skill_names, 4, &skill) ||
            ydoc_int(d, seniors, "team.seniors", lang_names[l], 0, INT_MAX, &p->seniors[l]))
            return -1;
        p->skill[l] = (skill_t)skill;
    }
    return 0;
}

static int from_doc(profile_t *p, const ydoc_t *d)
{
    static const char *const top[] = {"name", "team", "service", "cost", NULL};
    static const char *const team_keys[] = {"languages", "seniors", "production_c",
                                            "hires_per_quarter", NULL};
    static const char *const service_keys[] = {"p99_slo_ms", "deadline_weeks", "traffic",
                                               "always_on", NULL};
    static const char *const traffic_keys[] = {"peak_rps", "average_rps", NULL};
    static const char *const cost_keys[] = {"budget", "instance", "headroom", NULL};
    profile_init(p);
    const ynode_t *root = d->root;
    if (ydoc_keys(d, root, "", top, NULL) || ydoc_str(d, root, "", "name", p->name, sizeof p->name))
        return -1;

    const ynode_t *team = ynode_get(root, "team");
    if (team && (ydoc_keys(d, team, "team", team_keys, NULL) || per_language(d, team, p) ||
                 ydoc_bool(d, team, "team", "production_c", &p->production_c) ||
                 ydoc_int(d, team, "team", "hires_per_quarter", 0, INT_MAX,
                          &p->hires_per_quarter)))
        return -1;

    const ynode_t *svc = ynode_get(root, "service");
    if (svc && (ydoc_keys(d, svc, "service", service_keys, NULL) ||
                ydoc_double(d, svc, "service", "p99_slo_ms", 0, HUGE_VAL, &p->p99_slo_ms) ||
                ydoc_int(d, svc, "service", "deadline_weeks", 1, INT_MAX, &p->deadline_weeks) ||
                ydoc_bool(d, svc, "service", "always_on", &p->always_on)))
        return -1;
    const ynode_t *traffic = ynode_get(svc, "traffic");
    if (traffic &&
        (ydoc_keys(d, traffic, "service.traffic", traffic_keys, NULL) ||
         ydoc_double(d, traffic, "service.traffic", "peak_rps", 0, HUGE_VAL, &p->peak_rps) ||
         ydoc_double(d, traffic, "service.traffic", "average_rps", 0, HUGE_VAL,
                     &p->average_rps)))
        return -1;
    /* Both given, the average cannot be above the peak: one of them is a typo. */
    if (p->peak_rps > 0 && p->average_rps > p->peak_rps)
        return ydoc_fail(d, ynode_get(traffic, "average_rps"),
                         "service.traffic.average_rps: %g is above peak_rps (%g)", p->average_rps,
                         p->peak_rps);

    const ynode_t *cost = ynode_get(root, "cost");
    int budget = (int)p->budget;
    if (cost && (ydoc_keys(d, cost, "cost", cost_keys, NULL) ||
                 ydoc_enum(d, cost, "cost", "budget", budget_names, 3, &budget) ||
                 ydoc_str(d, cost, "cost", "instance", p->instance, sizeof p->instance) ||
                 ydoc_double(d, cost, "cost", "headroom", 0, 1, &p->headroom)))
        return -1;
    p->budget = (budget_t)budget;
    return 0;
}

int profile_parse(profile_t *p, const char *name, const char *text, size_t len, char *err,
                  size_t errlen)
{
    ydoc_t d;
    if (ydoc_load(&d, name, text, len, err, errlen))
        return -1;
    int rc = from_doc(p, &d);
    ydoc_free(&d);
    return rc;
}

int profile_load(profile_t *p, const char *path, char *err, size_t errlen)
{
    ydoc_t d;
    if (ydoc_load_input(&d, path, "profile.yaml", err, errlen))
        return -1;
    int rc = from_doc(p, &d);
    ydoc_free(&d);
    return rc;
}
