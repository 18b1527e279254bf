#define SB_PQ_IMPL
#include "core/pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pq_api_t api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    const char *missing = NULL;
#define SB_PQ_LOAD(f)                                                                             \
    if (h && !missing && !(*(void **)&api.f = dlsym(h, #f)))                                      \
        missing = #f;
    SB_PQ_FUNCS(SB_PQ_LOAD)
#undef SB_PQ_LOAD
    if (!h || missing) {
        fprintf(stderr,
                "stackbench: cannot use libpq, the PostgreSQL client library (Debian: libpq5, "
                "version 14 or newer): %s\n",
                h ? missing : dlerror());
        exit(1);
    }
}

const pq_api_t *pq_api(void)
{
    pthread_once(&once, load);
    return &api;
}
