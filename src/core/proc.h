/* proc: child processes and what /proc says about processes; the one way stackbench starts
 * a program (the services under test, the peers' builds, PostgreSQL's initdb, postgres and
 * psql, useradd) and reads a process's CPU time, memory, state and children.
 *
 * proc_spawn is safe in a process with threads and from a signal handler: the child runs only
 * async-signal-safe calls between fork and exec (it has a copy of the forking thread only;
 * another thread may have held a lock, malloc's among them, at the fork). Everything that
 * needs memory or the environment (the program's path from PATH, the options) is prepared
 * before the fork. In the child: every signal handler back to the default and the signal mask
 * cleared (a handler of ours means nothing there, and an ignored signal would stay ignored
 * across exec), optionally a new session, the CPU set applied, the three standard descriptors
 * set, every other descriptor closed (close_range: a pipe of ours kept open in a child would
 * never see its end of file), the user switched, then the parent-death signal armed (after
 * setuid, which clears it) and checked against a parent that died first, the working folder,
 * and exec. */
#ifndef SB_CORE_PROC_H
#define SB_CORE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cpu.h"

/* A standard descriptor of the child: 0 (the default) is /dev/null, PROC_INHERIT keeps ours,
 * any other value is a descriptor of ours that the child gets in its place. */
#define PROC_INHERIT (-1)

typedef struct {
    const cpuset_t *cpus;     /* pinned to these; NULL: our affinity */
    int in, out, err;         /* see PROC_INHERIT */
    bool err_to_out;          /* stderr goes where stdout goes */
    bool as_user;             /* switch to uid/gid (root only) */
    uid_t uid;
    gid_t gid;
    const char *cwd;          /* NULL: ours */
    bool session;             /* a session of its own: a Ctrl-C on our terminal is not for it */
    int deathsig;             /* sent to it when the forking thread ends (PR_SET_PDEATHSIG); 0: none */
    char *const *envp;        /* NULL: our environment */
} proc_opts_t;

/* The program proc_spawn would run for argv0: argv0 itself when it holds a '/', else the
 * first executable of that name in PATH. 0 with its path in out, or -1 when there is none
 * (or it does not fit in n bytes). */
int proc_which(const char *argv0, char *out, size_t n);

/* Starts argv[0] (a path, or a name looked up in PATH) as our child. The pid, or -1 with the
 * reason in err. A program that cannot be executed exits 127 after saying so on its stderr. */
pid_t proc_spawn(const char *const argv[], const proc_opts_t *o, char *err, size_t errlen);

/* Waits up to timeout_ns (< 0: as long as it takes) for our child pid to end: 1 with its
 * status in *status (the exit code, 128 + N when signal N ended it, -1 when unknown because
 * it was reaped elsewhere), 0 while it still runs. Async-signal-safe. */
int proc_wait(pid_t pid, int64_t timeout_ns, int *status);

/* Sends sig, waits up to timeout_ns, then SIGKILL and waits again. The status as proc_wait
 * gives it, or -1 when it had to be killed. */
int proc_stop(pid_t pid, int sig, int64_t timeout_ns);

/* Runs argv to its end, at most timeout_ns (then SIGKILL). With out: its stdout and stderr
 * are collected there (NUL-terminated; when longer, the tail is kept: that is where errors
 * are); o->out, o->err are then ignored. Its status as proc_wait gives it, or -1 with the
 * reason in err (could not start, timed out). */
int proc_run(const char *const argv[], const proc_opts_t *o, int64_t timeout_ns, char *out,
             size_t outlen, char *err, size_t errlen);

/* ---- /proc ---- */

typedef struct {
    char state;               /* 'R', 'S', 'Z', ... */
    pid_t ppid;
    uint64_t utime, stime;    /* clock ticks: its threads */
    uint64_t cutime, cstime;  /* clock ticks: its children that it has reaped */
    long threads;
    uint64_t starttime;       /* clock ticks after the system booted */
} proc_stat_t;

/* /proc/PID/stat. 0, or -1 when there is no such process. Async-signal-safe. */
int proc_stat(pid_t pid, proc_stat_t *st);
/* It exists and is not a zombie (a zombie holds nothing: no memory, no ports). Async-signal-safe. */
bool proc_alive(pid_t pid);
/* The children of parent, at most max of them. */
int proc_children(pid_t parent, pid_t *out, int max);
/* Resident memory in KiB (/proc/PID/statm). 0, or -1 when it is gone. */
int proc_rss_kib(pid_t pid, uint64_t *kib);
typedef struct {
    uint64_t vsz_bytes, rss_bytes;
} proc_mem_t;
/* Virtual and resident memory (/proc/PID/statm). 0, or -1 when it is gone. */
int proc_mem(pid_t pid, proc_mem_t *m);
/* Its open descriptors (the entries of /proc/PID/fd), or -1. */
int proc_open_fds(pid_t pid);
/* The Unix time the system booted (btime of /proc/stat), or -1. */
double proc_boot_time_s(void);
/* Clock ticks of proc_stat_t in seconds. */
double proc_ticks_s(uint64_t ticks);
/* CPU seconds of pid (user + system) and of all its children, those running and those it has
 * reaped: a postmaster and its backends. -1 when pid is gone. */
double proc_tree_cpu_s(pid_t pid);
/* The path of this program (/proc/self/exe) into out ("" when unknown). */
void proc_self_exe(char *out, size_t n);
/* The processes holding a TCP socket that listens on port (IPv4 or IPv6, any address, in our
 * network namespace): /proc/net/tcp and tcp6 give the sockets' inodes, /proc/PID/fd who holds
 * them. How many (at most max) into out: 0 when nobody listens there or its process cannot be
 * seen; *unreadable (when given) counts the processes whose descriptors we may not read
 * (another user's, when not root). -1 when /proc cannot be read. */
int proc_listening(int port, pid_t *out, int max, int *unreadable);

#endif
