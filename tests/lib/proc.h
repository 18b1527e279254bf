/* proc: integration-test helpers: start a server process and learn its port, stop it and read
 * what it printed, talk to it over raw sockets. */
#ifndef SB_TESTS_PROC_H
#define SB_TESTS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sut/sut.h"

/* A server under test: the lab's service runner (src/sut/sut.h), plus its port. */
typedef struct {
    sut_t svc;
    pid_t pid;
    int port;
    char url[128];       /* http://127.0.0.1:PORT */
} proc_t;

/* Path of the stackbench binary under test ($STACKBENCH) and of a test tool ($SB_TOOLS/name). */
const char *proc_stackbench(void);
const char *proc_tool(const char *name);

/* $SB_ROOT/peers/rel: a peer's binary. */
const char *proc_peer(const char *rel);
/* Starts argv, runs `stackbench verify -q WORKLOAD` against it with the built-in cases, stops
 * it. 0 when every case passed, it exited 0 on SIGTERM and said it served requests; -1 (what
 * went wrong on stderr) otherwise. */
int proc_verify(const char *workload, const char *const argv[]);

/* Starts argv (NULL-terminated) and waits up to 5 s for "listening on http://HOST:PORT". */
int proc_start(proc_t *p, const char *const argv[]);
/* Sends sig, waits up to timeout_ms for the exit (then SIGKILL). Returns the exit status,
 * 128+signal when a signal ended it, or -1 when it had to be killed. */
int proc_stop(proc_t *p, int sig, int timeout_ms);
/* N from "served N requests" in what it printed, or -1. */
long long proc_served(const proc_t *p);
/* Runs argv to completion, collecting stdout+stderr into out (NUL-terminated). Exit status. */
int proc_run(const char *const argv[], char *out, size_t cap, int timeout_ms);

int sock_connect(int port);
int sock_send(int fd, const char *s, size_t n);
int sock_send_str(int fd, const char *s);
/* Reads until the peer closes or timeout_ms passes without data. Bytes read (NUL-terminated). */
ssize_t sock_read_all(int fd, char *buf, size_t cap, int timeout_ms);
/* Reads exactly one HTTP response (head + framed body). Bytes, 0 on close, -1 on timeout. */
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
