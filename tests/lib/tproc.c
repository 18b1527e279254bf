#include "tproc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/proc.h"

const char *t_stackbench(void)
{
    const char *s = getenv("STACKBENCH");
    return s ? s : "./stackbench";
}

const char *t_tool(const char *name)
{
    static char path[4096];
    const char *d = getenv("SB_TOOLS");
    snprintf(path, sizeof path, "%s/%s", d ? d : "build/tests/tools", name);
    return path;
}

const char *t_peer(const char *rel)
{
    static char path[4096];
    const char *root = getenv("SB_ROOT");
    snprintf(path, sizeof path, "%s/peers/%s", root ? root : ".", rel);
    return path;
}

int t_start(t_server_t *p, const char *const argv[])
{
    memset(p, 0, sizeof *p);
    char err[1024];
    if (sut_start(&p->sut, argv, NULL, NULL, 5 * NS_PER_S, err, sizeof err) != 0) {
        fprintf(stderr, "    %s: %s\n", argv[0], err);
        return -1;
    }
    p->pid = p->sut.pid;
    snprintf(p->url, sizeof p->url, "%s", p->sut.url);
    const char *colon = strrchr(p->url, ':');
    p->port = colon ? atoi(colon + 1) : 0;
    return 0;
}

int t_stop(t_server_t *p, int sig, int timeout_ms)
{
    return sut_stop(&p->sut, sig, (int64_t)timeout_ms * NS_PER_MS);
}

long long t_served(const t_server_t *p) { return sut_served(&p->sut); }

int t_verify(const char *workload, const char *lang, const char *const argv[])
{
    static char out[1 << 16];
    t_server_t p;
    if (t_start(&p, argv) != 0)
        return -1;
    const char *v[8] = {t_stackbench(), "verify", "-q"};
    int k = 3;
    if (lang) {
        v[k++] = "--lang";
        v[k++] = lang;
    }
    v[k++] = workload;
    v[k++] = p.url;
    int rc = t_run(v, out, sizeof out, 120000);
    bool passed = rc == 0 && strstr(out, " 0 failed") != NULL;
    if (!passed)
        fprintf(stderr, "    verify %s exited %d:\n%s", workload, rc, out);
    int st = t_stop(&p, SIGTERM, 15000);
    long long served = t_served(&p);
    if (st != 0 || served <= 0)
        fprintf(stderr, "    %s: exit status %d, served %lld\n", argv[0], st, served);
    return passed && st == 0 && served > 0 ? 0 : -1;
}

int t_run(const char *const argv[], char *out, size_t cap, int timeout_ms)
{
    char err[512];
    int rc = proc_run(argv, NULL, (int64_t)timeout_ms * NS_PER_MS, out, cap, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "    %s\n", err);
    return rc;
}
