/* client: one blocking HTTP/1.1 connection for the few places that ask and wait rather than
 * load: the lab's health checks, the contract checker and the tests. The load engine keeps
 * its own non-blocking connections on its event loop; both find where an answer ends with
 * http_frame. */
#ifndef SB_HTTP_CLIENT_H
#define SB_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/http1.h"

typedef struct {
    int fd;
    buf_t in;       /* received and not yet consumed */
    bool eof;       /* the server closed (or reset) the connection */
} http_client_t;

/* Connects (TCP_NODELAY) to host:port, waiting up to timeout_ns. 0, or -1 with the reason. */
int http_client_open(http_client_t *c, const char *host, int port, int64_t timeout_ns,
                     char *err, size_t errlen);
void http_client_close(http_client_t *c);

/* Reads what is available, waiting up to wait_ns for something. 1: got bytes, 0: nothing in
 * time, -1: the connection is closed (c->eof). */
int http_client_fill(http_client_t *c, int64_t wait_ns);

/* Sends n bytes, reading whatever the server answers meanwhile (a server may answer early,
 * 413, and stop reading: a client that only writes would deadlock). 0 when all was sent, -1
 * when the server stopped taking them or timeout_ns passed. */
int http_client_send(http_client_t *c, const void *p, size_t n, int64_t timeout_ns);

/* Waits up to timeout_ns until one whole answer is at the start of c->in. 1: m and f filled
 * (the body decoded in place at buf_start(&c->in) + m->head_len; buf_consume f->total when
 * done with it), 0: the connection closed or the time ran out first, -1: not HTTP. */
int http_client_answer(http_client_t *c, bool head_request, int64_t timeout_ns, http_msg_t *m,
                       http_frame_t *f);

#endif
