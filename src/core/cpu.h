/* cpu: which CPUs this process may use, and pinning threads to them. */
#ifndef SB_CORE_CPU_H
#define SB_CORE_CPU_H

#include <stddef.h>

/* Fills cpus[] with the CPU numbers of the process's affinity mask, in order; returns how many
 * (at least 1). */
int cpu_allowed(int *cpus, int max);
/* Pins the calling thread to one CPU. 0 or -errno. */
int cpu_pin_self(int cpu);
/* Pins the calling thread to the set in mask[1024] (opt_parse_cpus). 0 or -errno. */
int cpu_pin_self_mask(const unsigned char mask[1024]);
/* Model name from /proc/cpuinfo into out ("unknown" if not found). */
void cpu_model(char *out, size_t n);

#endif
