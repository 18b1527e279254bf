/* cpu_profile: a process's CPU profile as the files people and tools open, and `stackbench
 * profile PID|URL`. One folder per profile: flamegraph.svg (report/flame.h), profile.pb.gz
 * (telemetry/pprof.h, for `go tool pprof`, Pyroscope, Parca) and stacks.folded (the folded
 * stacks, for FlameGraph's scripts, inferno, speedscope). `stackbench run --profile` writes one
 * per cell with the same function (lab/run.h); the command profiles any process: a PID, or the
 * process listening on a URL's port (core/proc.h proc_listening). */
#ifndef SB_LAB_CPU_PROFILE_H
#define SB_LAB_CPU_PROFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "telemetry/profile.h"

/* mkdir -p dir. 0, or -1 with the reason in err. */
int cpu_profile_mkdir(const char *dir, char *err, size_t errlen);

/* The three files of p into dir (made, with its parents, when missing), the flame graph
 * titled title. 0, or -1 with the reason in err. */
int cpu_profile_write(const prof_t *p, const char *dir, const char *title, char *err,
                      size_t errlen);

/* The process a PID or an http://HOST:PORT URL names: a PID that exists, or the one process
 * listening on the URL's port on this machine. 0 with it in *pid, or -1 with the reason in err
 * (not a PID or a URL, no such process, nobody listens there, several processes do, a host
 * that is not this machine). */
int cpu_profile_target(const char *arg, pid_t *pid, char *err, size_t errlen);

/* `stackbench profile`. */
int cmd_profile(int argc, char **argv);

#endif
