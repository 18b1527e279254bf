/* verify: runs a workload's contract cases against any implementation, in any language, over
 * real sockets, and says what differs. */
#ifndef SB_LAB_VERIFY_H
#define SB_LAB_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "verify/contract.h"

typedef struct {
    const char *name;       /* the case's name (points into the contract) */
    bool ok;
    char why[1024];         /* what differs, when !ok */
} verify_result_t;

/* Runs every case against url (http://host:port). results has c->ncases entries. Returns the
 * number of failed cases, or -1 with a message in err (bad URL). */
int verify_run(const contract_t *c, const char *url, int64_t timeout_ns, verify_result_t *results,
               char *err, size_t errlen);

/* `stackbench verify WORKLOAD URL`. */
int cmd_verify(int argc, char **argv);

#endif
