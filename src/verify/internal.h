/* What verify's files share: a case of HTTP/1.1 steps is verify.c's, a case of calls (HTTP/2,
 * gRPC) calls.c's. */
#ifndef SB_VERIFY_INTERNAL_H
#define SB_VERIFY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "http/url.h"
#include "verify/contract.h"

/* The first bytes of p[0..len) for a message, non-printable bytes as \xHH. */
void verify_preview(char *out, size_t n, const char *p, size_t len);

/* Runs a case of calls against u. 0 when it answered as the case wants, -1 with what differs
 * in why. */
int verify_calls(const contract_case_t *c, const http_url_t *u, int64_t timeout_ns, char *why,
                 size_t n);

#endif
