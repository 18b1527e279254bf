/* sut: an implementation under test as a running child process. Started pinned to a CPU set,
 * its URL read from its "listening on http://HOST:PORT" line, asked for GET /health until it
 * answers, stopped with a signal, its exit checked and its "served N requests" read. The C
 * services and the Go and Rust peers all print both lines. */
#ifndef SB_SUT_SUT_H
#define SB_SUT_SUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cpu.h"

typedef struct {
    pid_t pid;
    int err_fd;              /* its stderr: an unlinked temporary file */
    off_t logpos;            /* read up to here */
    char url[128];           /* http://127.0.0.1:PORT */
    char log[16384];         /* the tail of what it printed */
    size_t loglen;
} sut_t;

/* Starts argv pinned to cpus (NULL: not pinned) and waits up to timeout_ns for its listening
 * line; with url (an implementation told where to listen, that prints no such line), does
 * not wait: sut_wait_healthy does. If this process dies, the child gets SIGTERM (call from a
 * thread that lives as long as the child should). 0, or -1 with the reason in err (its output
 * included). */
int sut_start(sut_t *s, const char *const argv[], const cpuset_t *cpus, const char *url,
              int64_t timeout_ns, char *err, size_t errlen);
/* It still runs. */
int sut_alive(const sut_t *s);
/* Sends sig and waits up to timeout_ns; then SIGKILL.
 * Returns the exit status, 128+N when a signal N ended it, or -1 when it had to be killed. */
int sut_stop(sut_t *s, int sig, int64_t timeout_ns);
/* N of "served N requests", or -1. */
long long sut_served(const sut_t *s);
/* GET /health until it answers 200 (grpc: grpc.health.v1.Health/Check over h2c until it says
 * SERVING) or timeout_ns passes. The number of answers it got (the service counted them too),
 * or -1. Both waits look every millisecond in their first second (then every 20 ms), so that
 * a start-up time measured around them is right to about 1 ms. */
int sut_wait_healthy(const char *url, bool grpc, int64_t timeout_ns);

#endif
