/* claims: every quantitative claim of the posts teams read that this lab can measure, checked
 * against a run's figures: what they say, what was measured, and a verdict word.
 *
 *   confirmed            the measured figure is in the claimed range (a single figure: within
 *                        ×1.5 of the claimed gap either way)
 *   refuted              no gap, or a gap the other way
 *   differs              a gap the same way, of another size: the factor is given
 *   not measurable here  with why (a workload not in this run, or no machine can measure it)
 *
 * The posts measured frameworks (a team's first choice), so a claim is checked against the
 * idiomatic tier, and req/s against req/s: the posts quote 16 vCPU, a run here has its own
 * service CPUs, so absolute figures are compared per CPU. */
#ifndef SB_DECIDE_CLAIMS_H
#define SB_DECIDE_CLAIMS_H

#include <stdio.h>

#include "codec/jsonw.h"
#include "core/buf.h"
#include "decide/figures.h"

typedef enum { CLAIM_CONFIRMED, CLAIM_REFUTED, CLAIM_DIFFERS, CLAIM_NOT_MEASURABLE } claim_word_t;
extern const char *const claim_words[4]; /* "confirmed", "refuted", "differs",
                                          * "not measurable here" */

typedef struct {
    const char *id;               /* "echo_rust_over_go" */
    const char *they_say;         /* "JSON echo: Rust +26 % req/s over Go" */
    claim_word_t word;
    char measured[256];           /* what this run measured, with the figures */
    char detail[160];             /* the factor (differs) or why (not measurable) */
} claim_t;

#define CLAIMS_MAX 24

/* Checks every claim against f. Returns how many (at most max). */
int claims_check(const figures_t *f, claim_t *out, int max);

/* For people: an aligned table. */
void claims_print(FILE *out, const claim_t *c, int n);
/* For results.md: a Markdown table. */
void claims_md(buf_t *out, const claim_t *c, int n);
/* For programs: [{id, they_say, verdict, measured, detail}]. */
void claims_json(jsonw_t *w, const claim_t *c, int n);

/* The word for a claimed gap (a fraction: +0.26) against a measured one: confirmed within
 * ×1.5, refuted under 5 % or the other way, else differs (*factor = measured / claimed). */
claim_word_t claim_judge_gap(double claimed, double measured, double *factor);
/* The word for a claimed range [lo, hi] of a measured figure where no advantage is at most
 * none (a ratio 1, a saving 0): in it confirmed, at or under none refuted, else differs
 * (*factor against the nearer bound). */
claim_word_t claim_judge_range(double lo, double hi, double none, double measured,
                               double *factor);

#endif
