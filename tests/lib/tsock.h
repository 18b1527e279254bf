/* tsock: raw sockets for the integration tests: talk to a server byte by byte, read whole
 * answers (framed by http_frame, the codec's one rule) and pick them apart. */
#ifndef SB_TESTS_TSOCK_H
#define SB_TESTS_TSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int sock_connect(int port);
int sock_send(int fd, const char *s, size_t n);
int sock_send_str(int fd, const char *s);
/* Reads until the peer closes or timeout_ms passes without data. Bytes read (NUL-terminated). */
ssize_t sock_read_all(int fd, char *buf, size_t cap, int timeout_ms);
/* Reads exactly one HTTP response: its head and its body (a chunked body decoded in place).
 * Bytes, 0 on close, -1 on timeout. */
ssize_t sock_read_response(int fd, char *buf, size_t cap, int timeout_ms);
/* Sends one request on a new connection and returns the whole first response in buf. */
ssize_t http_roundtrip(int port, const char *req, size_t reqlen, char *buf, size_t cap);
/* Status code of a response in buf, or -1. */
int resp_status(const char *buf);
/* Pointer to the body of the response in buf. */
const char *resp_body(const char *buf);
/* Value of header `name` (case-insensitive) into out; false when absent. */
bool resp_header(const char *buf, const char *name, char *out, size_t n);

#endif
