/* verify: runs a workload's contract cases against any implementation, in any language, over
 * real sockets, and says what differs. */
#ifndef SB_VERIFY_VERIFY_H
#define SB_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "verify/contract.h"

typedef struct {
    const char *name;       /* the case's name (points into the contract) */
    bool ok;                /* it answered as the case wants */
    const char *known;      /* a differs: line says this implementation answers otherwise (its
                             * why), or NULL */
    char why[1024];         /* what differs, when !ok */
} verify_result_t;

/* How a result counts: as wanted; unexpectedly failed; failed as its differs line says; or
 * passed although a differs line says it fails (the line is out of date). */
typedef enum { VERIFY_OK, VERIFY_FAIL, VERIFY_KNOWN, VERIFY_STALE } verify_outcome_t;
static inline verify_outcome_t verify_outcome(const verify_result_t *r)
{
    return r->ok ? (r->known ? VERIFY_STALE : VERIFY_OK) : (r->known ? VERIFY_KNOWN : VERIFY_FAIL);
}

/* Runs every case against url (http://host:port) for the implementation in lang (its differs:
 * lines apply; NULL: none). results has c->ncases entries. Returns the number of unexpected
 * outcomes (VERIFY_FAIL and VERIFY_STALE), or -1 with a message in err (bad URL). */
int verify_run(const contract_t *c, const char *url, const char *lang, int64_t timeout_ns,
               verify_result_t *results, char *err, size_t errlen);

/* `stackbench verify WORKLOAD URL`. */
int cmd_verify(int argc, char **argv);

#endif
