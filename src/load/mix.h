/* mix: a weighted mix of request templates with random fields, for the load engine.
 *
 * A template is a method, a target and an optional body; target and body may contain
 * placeholders {rand:LO:HI}, each replaced in every request by a uniform random integer in
 * [LO, HI] (signed 64-bit decimal, both ends included). Each request picks its template with
 * probability weight / (sum of the weights).
 *
 * A '{' followed by a name and ':' or '}' (as in "{rand:1:9}" or "{id}") is a placeholder, and
 * only rand is known: a typo is an error, not a literal. JSON never looks like that (its keys
 * are quoted), so JSON bodies need no escaping.
 *
 * All the work that can be done once is done in mix_new: a template without placeholders
 * becomes its finished request bytes (sent as they are, like the single request of
 * `stackbench load`); one with placeholders becomes literal pieces laid out in sending order
 * with the slots between them, so that a request is rendered by copying the pieces and writing
 * the numbers (and the Content-Length they change) into a buffer of known maximum size: no
 * allocation and no printf per request. The random numbers come from core/rand.h's rng_t, one
 * generator per load thread, deterministic given the seed. */
#ifndef SB_LOAD_MIX_H
#define SB_LOAD_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rand.h"

#define MIX_MAX_TEMPLATES 16        /* templates in one mix */
#define MIX_MAX_VALUES 8  /* placeholders in one template (target and body together) */
#define MIX_MAX_WEIGHT 1000000u

/* One template of a mix. */
typedef struct {
    const char *method;
    const char *target;        /* path and query, e.g. "/accounts/{rand:1:10000}" */
    const char *body;          /* may contain placeholders too; NULL: no body */
    size_t body_len;
    unsigned weight;           /* relative share of requests, 1..MIX_MAX_WEIGHT */
} mix_template_t;

/* What one request was: its template (index in the mix, 0 for the single request) and the
 * numbers substituted, in order of appearance (target first, then body). */
typedef struct {
    int index;
    int nvalues;
    int64_t values[MIX_MAX_VALUES];
} mix_sent_t;

/* ---- templates ---- */

/* "WEIGHT METHOD TARGET [BODY]" (the --mix flag): fields separated by blanks, BODY the rest of
 * the string after the blanks that follow TARGET (it may contain blanks; none: no body). The
 * spec is cut in place (a NUL after the method and after the target) and rq points into it.
 * Then checks the template (below). 0, or -1 with a message in err. */
int mix_parse_spec(char *spec, mix_template_t *rq, char *err, size_t errlen);

/* mix_parse_spec and mix_new check each template: a method without blanks or control bytes,
 * a target starting with '/' without them, a weight 1..MIX_MAX_WEIGHT, well-formed
 * placeholders (known name, numbers in range, LO <= HI, at most MIX_MAX_VALUES). */

typedef struct mix mix_t;

/* Compiles n templates (1..MIX_MAX_TEMPLATES, each checked) into requests for
 * `authority` (the Host header) with the given "Name: value" headers, laid out exactly as
 * http_write_request lays out a request. NULL with a message in err. */
mix_t *mix_new(const mix_template_t *rqs, size_t n, const char *authority,
               const char *const *headers, size_t nheaders, char *err, size_t errlen);
void mix_free(mix_t *m);

/* Bytes a rendering buffer needs: the longest template with placeholders, rendered with the
 * longest numbers; 0 when no template has placeholders (no buffer needed). */
size_t mix_render_max(const mix_t *m);
/* Whether template i is a HEAD request (its answers have no body whatever their headers say). */
bool mix_is_head(const mix_t *m, int i);

/* A template index drawn by weight. */
int mix_pick(const mix_t *m, rng_t *r);

/* The bytes of one request of template i: *out points at the template's finished bytes when it
 * has no placeholders, else at buf (mix_render_max() bytes), where the request is rendered with
 * fresh numbers. sent gets i and the numbers. Returns the length. */
size_t mix_render(const mix_t *m, int i, rng_t *r, char *buf, const char **out,
                  mix_sent_t *sent);

#endif
