#include "lab/meter.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

int meter_read(pid_t pid, double *cpu_s, uint64_t *rss_kib, int *threads)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    long nthreads = 0;
    /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) cutime cstime priority nice num_threads(20) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld",
               &ut, &st, &nthreads) != 3)
        return -1;
    *cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    *threads = (int)nthreads;
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    f = fopen(path, "r");
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

/* ppid, and utime+stime(+cutime+cstime when children) in clock ticks, from /proc/PID/stat. */
static int stat_ticks(const char *pid, int *ppid, unsigned long long *ticks, bool children)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ut, st, cut, cst;
    if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", ppid,
                     &ut, &st, &cut, &cst) != 5)
        return -1;
    *ticks = ut + st + (children ? cut + cst : 0);
    return 0;
}

double meter_tree_cpu_s(pid_t pid)
{
    char self[16];
    snprintf(self, sizeof self, "%d", (int)pid);
    int ppid;
    unsigned long long total, t;
    if (stat_ticks(self, &ppid, &total, true))
        return -1;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
            stat_ticks(e->d_name, &ppid, &t, false) == 0 && ppid == (int)pid)
            total += t;
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
