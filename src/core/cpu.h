/* cpu: sets of CPUs (which CPUs a process may use, where a service, the load or the database
 * runs) and pinning to them.
 *
 * cpuset_t wraps the kernel's affinity mask (CPU_SETSIZE = 1024 CPUs), so applying it is one
 * system call with nothing to convert, and it is async-signal-safe (a child process applies
 * its set between fork and exec). */
#ifndef SB_CORE_CPU_H
#define SB_CORE_CPU_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    cpu_set_t set;
} cpuset_t;

#define CPUSET_MAX CPU_SETSIZE

static inline void cpuset_clear(cpuset_t *s) { CPU_ZERO(&s->set); }
static inline void cpuset_add(cpuset_t *s, int cpu)
{
    if (cpu >= 0 && cpu < CPUSET_MAX)
        CPU_SET((size_t)cpu, &s->set);
}
static inline bool cpuset_has(const cpuset_t *s, int cpu)
{
    return cpu >= 0 && cpu < CPUSET_MAX && CPU_ISSET((size_t)cpu, &s->set);
}
static inline int cpuset_count(const cpuset_t *s) { return CPU_COUNT(&s->set); }

/* "0,2-3" (numbers and ranges, comma-separated, each below CPUSET_MAX) into out. The number of
 * CPUs (at least 1), or -1 on a malformed list (out is then empty). */
int cpuset_parse(const char *s, cpuset_t *out);
/* "0,2,3": every CPU of the set in order (empty set: ""). Truncated to n bytes. */
void cpuset_format(const cpuset_t *s, char *out, size_t n);
/* The CPU numbers in order into cpus[], at most max; returns how many. */
int cpuset_list(const cpuset_t *s, int *cpus, int max);

/* The CPUs this process may use (its affinity mask); never empty (CPU 0 when it cannot be
 * read). */
void cpuset_allowed(cpuset_t *out);
/* Pins the calling thread to the set. 0 or -errno. */
int cpuset_pin_thread(const cpuset_t *s);
/* Pins process pid (0: the calling process) to the set. 0 or -errno. Async-signal-safe. */
int cpuset_pin_process(pid_t pid, const cpuset_t *s);
/* Pins the calling thread to one CPU. 0 or -errno. */
int cpu_pin_self(int cpu);

/* Model name from /proc/cpuinfo into out ("unknown" if not found). */
void cpu_model(char *out, size_t n);

#endif
