#include "core/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

#define LOOP_MAX_EVENTS 256

struct loop {
    int epfd;
    bool stop;
    int64_t now;
    loop_timer_t **heap;
    size_t nheap, capheap;
    void **later;            /* loop_free_later: freed at the end of the round */
    size_t nlater, caplater;
    struct epoll_event events[LOOP_MAX_EVENTS];
};

loop_t *loop_new(void)
{
    loop_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    l->now = clock_now_ns();
    return l;
}

void loop_free(loop_t *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l->heap);
    for (size_t i = 0; i < l->nlater; i++)
        free(l->later[i]);
    free(l->later);
    free(l);
}

void loop_free_later(loop_t *l, void *p)
{
    if (l->nlater == l->caplater) {
        size_t cap = l->caplater ? l->caplater * 2 : 16;
        void **v = realloc(l->later, cap * sizeof *v);
        if (!v) {
            free(p); /* out of memory: only an event still due for p in this round can hurt */
            return;
        }
        l->later = v;
        l->caplater = cap;
    }
    l->later[l->nlater++] = p;
}

int loop_add(loop_t *l, loop_io_t *io, uint32_t events)
{
    struct epoll_event ev = {.events = events | EPOLLET, .data.ptr = io};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) ? -errno : 0;
}

int loop_del(loop_t *l, loop_io_t *io)
{
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL) ? -errno : 0;
}

int64_t loop_now(const loop_t *l) { return l->now; }
int64_t loop_now_update(loop_t *l) { return l->now = clock_now_ns(); }
void loop_stop(loop_t *l) { l->stop = true; }

/* ---- timer heap: parent of i is (i-1)/2 ---- */

static void heap_place(loop_t *l, size_t i, loop_timer_t *t)
{
    l->heap[i] = t;
    t->slot = i;
}

static void heap_up(loop_t *l, size_t i)
{
    loop_timer_t *t = l->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->when <= t->when)
            break;
        heap_place(l, i, l->heap[p]);
        i = p;
    }
    heap_place(l, i, t);
}

static void heap_down(loop_t *l, size_t i)
{
    loop_timer_t *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
            c++;
        if (t->when <= l->heap[c]->when)
            break;
        heap_place(l, i, l->heap[c]);
        i = c;
    }
    heap_place(l, i, t);
}

int loop_timer_set(loop_t *l, loop_timer_t *t, int64_t when)
{
    if (loop_timer_armed(t)) {
        int64_t old = t->when;
        t->when = when;
        if (when < old)
            heap_up(l, t->slot);
        else
            heap_down(l, t->slot);
        return 0;
    }
    if (l->nheap == l->capheap) {
        size_t cap = l->capheap ? l->capheap * 2 : 64;
        loop_timer_t **h = realloc(l->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        l->heap = h;
        l->capheap = cap;
    }
    t->when = when;
    heap_place(l, l->nheap++, t);
    heap_up(l, t->slot);
    return 0;
}

void loop_timer_stop(loop_t *l, loop_timer_t *t)
{
    if (!loop_timer_armed(t))
        return;
    size_t i = t->slot;
    t->slot = LOOP_TIMER_IDLE;
    loop_timer_t *last = l->heap[--l->nheap];
    if (i == l->nheap)
        return;
    heap_place(l, i, last);
    heap_up(l, i);
    heap_down(l, last->slot);
}

static void run_timers(loop_t *l)
{
    while (l->nheap > 0 && l->heap[0]->when <= l->now) {
        loop_timer_t *t = l->heap[0];
        loop_timer_stop(l, t);
        t->cb(l, t);
    }
}

void loop_run_once(loop_t *l, int64_t max_wait_ns)
{
    int64_t wait = max_wait_ns;
    if (l->nheap > 0) {
        int64_t until = l->heap[0]->when - clock_now_ns();
        if (until < 0)
            until = 0;
        if (wait < 0 || until < wait)
            wait = until;
    }
    struct timespec ts, *tsp = NULL;
    if (wait >= 0) {
        ts.tv_sec = wait / NS_PER_S;
        ts.tv_nsec = wait % NS_PER_S;
        tsp = &ts;
    }
    int n = epoll_pwait2(l->epfd, l->events, LOOP_MAX_EVENTS, tsp, NULL);
    l->now = clock_now_ns();
    for (int i = 0; i < n; i++) {
        loop_io_t *io = l->events[i].data.ptr;
        if (io->fd >= 0) /* not closed by an earlier callback of this round */
            io->cb(l, io, l->events[i].events);
    }
    run_timers(l);
    for (size_t i = 0; i < l->nlater; i++)
        free(l->later[i]);
    l->nlater = 0;
}

void loop_run(loop_t *l)
{
    while (!l->stop)
        loop_run_once(l, -1);
}
