/* meter: what a running service uses, read from /proc while it is under load: resident memory
 * (peak and mean over samples), CPU time (user + system, all threads), thread count. */
#ifndef SB_SUT_METER_H
#define SB_SUT_METER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int64_t interval_ns;
    pthread_t thread;
    atomic_bool stop;
    uint64_t rss_peak_kib;
    double rss_sum_kib;
    uint64_t samples;
    int threads_max;
    double cpu0_s, cpu1_s;  /* CPU seconds at start and at stop */
} meter_t;

/* Starts sampling every interval_ns in a thread. 0 or -1. */
int meter_start(meter_t *m, pid_t pid, int64_t interval_ns);
/* Takes a last sample and stops. */
void meter_stop(meter_t *m);
static inline double meter_cpu_s(const meter_t *m) { return m->cpu1_s - m->cpu0_s; }
static inline double meter_rss_mean_kib(const meter_t *m)
{
    return m->samples ? m->rss_sum_kib / (double)m->samples : 0;
}

#endif
