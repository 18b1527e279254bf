/* tproc: the integration tests' processes: where the binaries are, a server under test (the
 * lab's sut.h, plus its port), and running a command to its end with its output. */
#ifndef SB_TESTS_TPROC_H
#define SB_TESTS_TPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sut/sut.h"

/* Path of the stackbench binary under test ($STACKBENCH) and of a test tool ($SB_TOOLS/name). */
const char *t_stackbench(void);
const char *t_tool(const char *name);
/* $SB_ROOT/peers/rel: a peer's binary. */
const char *t_peer(const char *rel);

/* A server under test. */
typedef struct {
    sut_t sut;
    pid_t pid;
    int port;
    char url[128];       /* http://127.0.0.1:PORT */
} t_server_t;

/* Starts argv (NULL-terminated) and waits up to 5 s for "listening on http://HOST:PORT". */
int t_start(t_server_t *p, const char *const argv[]);
/* Sends sig, waits up to timeout_ms for the exit (then SIGKILL). Returns the exit status,
 * 128+signal when a signal ended it, or -1 when it had to be killed. */
int t_stop(t_server_t *p, int sig, int timeout_ms);
/* N from "served N requests" in what it printed, or -1. */
long long t_served(const t_server_t *p);

/* Starts argv, runs `stackbench verify -q [--lang LANG] WORKLOAD` against it with the built-in
 * cases, stops it. 0 when no case failed unexpectedly, it exited 0 on SIGTERM and said it served
 * requests; -1 (what went wrong on stderr) otherwise. */
int t_verify(const char *workload, const char *lang, const char *const argv[]);

/* Runs argv to completion, collecting stdout+stderr into out (NUL-terminated; the tail when
 * longer). Its exit status (128+N for signal N), or -1 when it could not run or timed out. */
int t_run(const char *const argv[], char *out, size_t cap, int timeout_ms);

#endif
