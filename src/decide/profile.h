/* profile: what the verdict knows of the team and the service (profile.yaml): the languages the
 * team knows and how well, its seniors, its hiring, the service's p99 SLO, deadline, traffic,
 * whether it runs around the clock, and how much the bill matters. examples/profile.yaml is the
 * shipped example (compiled into the binary, core/embed.h), every key documented in it. */
#ifndef SB_DECIDE_PROFILE_H
#define SB_DECIDE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

/* The languages the decision is about, in this order everywhere in src/decide/. */
typedef enum { LANG_C, LANG_GO, LANG_RUST, LANG_N } lang_t;
extern const char *const lang_names[LANG_N]; /* "c", "go", "rust" */
/* LANG_C.., or -1 for a name that is none of them. */
int lang_parse(const char *name);

typedef enum { SKILL_NONE, SKILL_JUNIOR, SKILL_MID, SKILL_SENIOR } skill_t;
extern const char *const skill_names[4];    /* "none", "junior", "mid", "senior" */

typedef enum { BUDGET_LOW, BUDGET_MEDIUM, BUDGET_HIGH } budget_t;
extern const char *const budget_names[3];   /* "low", "medium", "high": how much the bill
                                             * weighs in the decision */

typedef struct {
    char name[64];                /* the profile's own name, for the verdict's first line */
    skill_t skill[LANG_N];        /* team.languages: the team's level in each (none if absent) */
    int seniors[LANG_N];          /* team.seniors: how many seniors write it */
    bool production_c;            /* team.production_c: the team ships and operates C */
    int hires_per_quarter;        /* team.hires_per_quarter */
    double p99_slo_ms;            /* service.p99_slo_ms */
    int deadline_weeks;           /* service.deadline_weeks */
    double peak_rps, average_rps; /* service.traffic.peak_rps, .average_rps */
    bool always_on;               /* service.always_on: 24/7 */
    budget_t budget;              /* cost.budget */
    char instance[32];            /* cost.instance: an instance type of the prices; "" = the
                                   * prices' default */
    double headroom;              /* cost.headroom: the CPU share an instance may run at (0.6) */
} profile_t;

/* The defaults of keys a file leaves out: no languages known, nothing else set except
 * headroom 0.6, budget medium, always_on true. */
void profile_init(profile_t *p);

/* Parses a profile from text (name: the file name for messages), from profile_init's
 * defaults. Unknown keys, wrong types, values out of range are errors (so is an average_rps
 * above peak_rps). 0, or -1 with "NAME:LINE:COLUMN: what is wrong" in err. */
int profile_parse(profile_t *p, const char *name, const char *text, size_t len, char *err,
                  size_t errlen);
/* The same from a file (an unreadable file: "PATH: strerror"), or, with path NULL, from the
 * shipped examples/profile.yaml. */
int profile_load(profile_t *p, const char *path, char *err, size_t errlen);

#endif
