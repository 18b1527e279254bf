/* profile: a process's CPU over a window, sampled by Linux perf, as folded stacks.
 *
 * Recording is `perf record -e cpu-clock -F 997 -p PID` (the software clock: hardware counters
 * are absent on the virtual machines we run on; 997 Hz so that the sampling does not beat with
 * anything that runs every millisecond), started through core/proc and stopped with SIGINT at
 * the window's end, writing perf.data; then `perf script` with a fixed field set (comm, tid,
 * time, ip, sym, dso) is read and its stacks folded: one line per distinct stack, its frames
 * from the root to the leaf joined by ';', and how many samples had it (the "folded" format
 * of Brendan Gregg's FlameGraph tools, which pprof, speedscope and inferno read too).
 *
 * How the stacks are unwound depends on the binary (docs/profile.md has the measurements):
 * frame pointers for Go (the Go toolchain keeps them on amd64), DWARF call frame information
 * for everything else (our C build at -O2 and Rust's release profile omit frame pointers:
 * their frame-pointer stacks stop after the leaf). With DWARF perf copies 8 KiB of the
 * thread's stack with each sample and unwinds it afterwards; its inlined frames come out as
 * functions of their own.
 *
 * A frame is the function's name as perf resolves it (demangled C++/Rust, Go's package.Func),
 * with "_[k]" after a kernel function's, and "[DSO]" (the file's base name) when perf knows
 * the file but not the symbol. */
#ifndef SB_TELEMETRY_PROFILE_H
#define SB_TELEMETRY_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cpu.h"

#define PROF_HZ 997

typedef enum { PROF_UNWIND_FP, PROF_UNWIND_DWARF } prof_unwind_t;

/* A distinct stack: frames root first, separated by ';'. */
typedef struct {
    char *stack;
    uint64_t count;
} prof_stack_t;

typedef struct {
    prof_stack_t *stacks;     /* sorted by stack (prof_fold) */
    size_t n, cap;
    uint64_t samples;            /* the sum of the counts */
    int64_t period_ns;           /* the CPU time a sample stands for: 1 s / PROF_HZ */
    int64_t start_ns;            /* wall clock (CLOCK_REALTIME) at the window's start; 0: unknown */
    int64_t duration_ns;         /* the window */
    prof_unwind_t unwind;
} prof_t;

/* A function's own samples (the leaf of their stacks). */
typedef struct {
    const char *name;            /* points into the profile's stacks (valid while it lives) */
    size_t name_len;
    uint64_t self;
    double self_pct;             /* of all samples */
} prof_fn_t;

/* Folds `perf script -F comm,tid,time,ip,sym,dso` output (len bytes, need not end in a NUL):
 * each sample is a header line (comm tid time:) then its frames, leaf first, one a line
 * ("\tADDR SYM (DSO)"), and a blank line. p is reset first; period_ns set to 1 s /
 * PROF_HZ. 0, or -1 with the reason in err (out of memory, a frame line before any
 * header). */
int prof_fold(const char *text, size_t len, prof_t *p, char *err, size_t errlen);
void prof_free(prof_t *p);

/* The functions with the most samples of their own, most first (ties by name), at most max
 * of them into out. Returns how many. */
int prof_top(const prof_t *p, prof_fn_t *out, int max);

/* The folded stacks, "STACK COUNT\n" each, into path. 0, or -1 with errno. */
int prof_write_folded(const prof_t *p, const char *path);
/* Folded stacks read back ("STACK COUNT" lines, as prof_write_folded writes them; blank lines
 * skipped) into p, reset first, period_ns 1 s / PROF_HZ. 0, or -1 with the line that is not
 * one in err. */
int prof_read_folded(const char *text, size_t len, prof_t *p, char *err, size_t errlen);

/* The unwinding a process's binary needs: frame pointers for a Go binary (its ELF has a
 * .go.buildinfo or .gopclntab section), DWARF otherwise. */
prof_unwind_t prof_unwind_for(pid_t pid);
const char *prof_unwind_name(prof_unwind_t u);

/* Whether this process may profile another with perf: perf on PATH (Debian's linux-perf) and
 * either root, CAP_PERFMON or CAP_SYS_ADMIN, or kernel.perf_event_paranoid at most 1. 0, or
 * -1 with what is missing and how to get it in err. */
int prof_check(char *err, size_t errlen);

/* A recording under way. */
typedef struct {
    pid_t target;
    pid_t perf;                  /* perf record */
    char data[4096];             /* perf.data */
    char log[4096];              /* perf record's stderr */
    prof_unwind_t unwind;
    int64_t t0_ns, wall0_ns;
} prof_rec_t;

/* Starts sampling pid into data_path (perf.data; log_path gets perf's stderr). perf runs on
 * cpus (NULL: ours), never on the target's when that can be helped. 0, or -1 with the reason
 * in err (prof_check's, perf could not start, the process is gone). */
int prof_start(prof_rec_t *r, pid_t pid, prof_unwind_t unwind, const char *data_path,
                  const char *log_path, const cpuset_t *cpus, char *err, size_t errlen);
/* Ends the window (SIGINT: perf writes what it has), runs perf script and folds its output
 * into p; removes perf.data unless keep_data. 0, or -1 with the reason in err (perf failed:
 * its first line of error; no samples: the process used no CPU in the window). */
int prof_stop(prof_rec_t *r, prof_t *p, bool keep_data, char *err, size_t errlen);
/* Ends the window and discards it (an error elsewhere). */
void prof_abort(prof_rec_t *r);

#endif
