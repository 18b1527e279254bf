#include "sut/meter.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/proc.h"

/* One reading: CPU seconds (user+system), RSS in KiB, threads. 0, or -1 if it is gone. */
static int meter_read(pid_t pid, double *cpu_s, uint64_t *rss_kib, int *threads)
{
    proc_stat_t st;
    if (proc_stat(pid, &st) || proc_rss_kib(pid, rss_kib))
        return -1;
    *cpu_s = proc_ticks_s(st.utime + st.stime);
    *threads = (int)st.threads;
    return 0;
}

static void sample(meter_t *m, double *cpu)
{
    uint64_t rss;
    int th;
    if (meter_read(m->pid, cpu, &rss, &th) != 0)
        return;
    if (rss > m->rss_peak_kib)
        m->rss_peak_kib = rss;
    if (th > m->threads_max)
        m->threads_max = th;
    m->rss_sum_kib += (double)rss;
    m->samples++;
}

static void *meter_main(void *arg)
{
    meter_t *m = arg;
    while (!atomic_load(&m->stop)) {
        struct timespec ts = {m->interval_ns / NS_PER_S, m->interval_ns % NS_PER_S};
        nanosleep(&ts, NULL);
        double cpu;
        sample(m, &cpu);
    }
    return NULL;
}

int meter_start(meter_t *m, pid_t pid, int64_t interval_ns)
{
    memset(m, 0, sizeof *m);
    m->pid = pid;
    m->interval_ns = interval_ns;
    atomic_init(&m->stop, false);
    sample(m, &m->cpu0_s);
    return pthread_create(&m->thread, NULL, meter_main, m) == 0 ? 0 : -1;
}

void meter_stop(meter_t *m)
{
    atomic_store(&m->stop, true);
    pthread_join(m->thread, NULL);
    m->cpu1_s = m->cpu0_s;
    sample(m, &m->cpu1_s);
}
