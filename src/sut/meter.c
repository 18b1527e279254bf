#include "sut/meter.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

/* The fields of /proc/PID/stat the meter needs, in clock ticks. */
typedef struct {
    int ppid;
    unsigned long long utime, stime, cutime, cstime;
    long threads;
} proc_stat_t;

static int read_stat(const char *pid, proc_stat_t *st)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces and parentheses: fields start after the last ')'.
     * after ')': state(3) ppid(4) pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) cutime(16) cstime(17) priority nice num_threads(20) */
    char *p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu %*d %*d %ld",
                     &st->ppid, &st->utime, &st->stime, &st->cutime, &st->cstime, &st->threads) != 6)
        return -1;
    return 0;
}

int meter_read(pid_t pid, double *cpu_s, uint64_t *rss_kib, int *threads)
{
    char id[16], path[64];
    snprintf(id, sizeof id, "%d", (int)pid);
    proc_stat_t st;
    if (read_stat(id, &st))
        return -1;
    *cpu_s = (double)(st.utime + st.stime) / (double)sysconf(_SC_CLK_TCK);
    *threads = (int)st.threads;
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long long size = 0, resident = 0;
    int ok = fscanf(f, "%llu %llu", &size, &resident) == 2;
    fclose(f);
    if (!ok)
        return -1;
    *rss_kib = resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
    return 0;
}

double meter_tree_cpu_s(pid_t pid)
{
    char self[16];
    snprintf(self, sizeof self, "%d", (int)pid);
    proc_stat_t st;
    if (read_stat(self, &st))
        return -1;
    unsigned long long total = st.utime + st.stime + st.cutime + st.cstime;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && read_stat(e->d_name, &st) == 0 &&
            st.ppid == (int)pid)
            total += st.utime + st.stime;
    closedir(d);
    return (double)total / (double)sysconf(_SC_CLK_TCK);
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
