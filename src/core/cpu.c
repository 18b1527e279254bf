#include "core/cpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_list(const char *s, cpuset_t *out);

int cpuset_parse(const char *s, cpuset_t *out)
{
    int n = parse_list(s, out);
    if (n < 0)
        cpuset_clear(out); /* nothing half-filled */
    return n;
}

static int parse_list(const char *s, cpuset_t *out)
{
    cpuset_clear(out);
    if (!s || !*s)
        return -1;
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10);
        if (errno || a >= CPUSET_MAX)
            return -1;
        long b = a;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9')
                return -1;
            b = strtol(p, &end, 10);
            if (errno || b < a || b >= CPUSET_MAX)
                return -1;
            p = end;
        }
        for (long c = a; c <= b; c++)
            cpuset_add(out, (int)c);
        if (*p == ',' && p[1])
            p++;
        else if (*p)
            return -1;
    }
    return cpuset_count(out);
}

void cpuset_format(const cpuset_t *s, char *out, size_t n)
{
    size_t len = 0;
    if (n)
        out[0] = 0;
    for (int c = 0; c < CPUSET_MAX && len + 1 < n; c++) {
        if (!cpuset_has(s, c))
            continue;
        int k = snprintf(out + len, n - len, "%s%d", len ? "," : "", c);
        if (k < 0 || (size_t)k >= n - len) {
            out[len] = 0; /* no half number */
            break;
        }
        len += (size_t)k;
    }
}

int cpuset_list(const cpuset_t *s, int *cpus, int max)
{
    int n = 0;
    for (int c = 0; c < CPUSET_MAX && n < max; c++)
        if (cpuset_has(s, c))
            cpus[n++] = c;
    return n;
}

void cpuset_allowed(cpuset_t *out)
{
    if (sched_getaffinity(0, sizeof out->set, &out->set) != 0 || cpuset_count(out) == 0) {
        cpuset_clear(out);
        cpuset_add(out, 0);
    }
}

int cpuset_pin_thread(const cpuset_t *s)
{
    return -pthread_setaffinity_np(pthread_self(), sizeof s->set, &s->set);
}

int cpuset_pin_process(pid_t pid, const cpuset_t *s)
{
    return sched_setaffinity(pid, sizeof s->set, &s->set) == 0 ? 0 : -errno;
}

int cpu_pin_self(int cpu)
{
    cpuset_t s;
    cpuset_clear(&s);
    cpuset_add(&s, cpu);
    return cpuset_pin_thread(&s);
}

void cpu_model(char *out, size_t n)
{
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ' || *c == '\t')
                    c++;
                c[strcspn(c, "\n")] = 0;
                snprintf(out, n, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}
