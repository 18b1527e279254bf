/* loop: one event loop per thread, shared by the services and the load engine.
 *
 * epoll, edge-triggered: a socket is registered once for read and write and never modified
 * afterwards, so the hot path makes no epoll_ctl calls; owners read and write until EAGAIN.
 * Timers live in a binary min-heap and are embedded in their owner (no allocation per timer);
 * the wait uses epoll_pwait2 so timers fire with microsecond, not millisecond, resolution.
 *
 * Callbacks get the embedded loop_io_t / loop_timer_t back; owners recover their struct with
 * container_of. Nothing here is thread-safe: one loop, one thread.
 *
 * Closing in someone else's callback: one round of epoll_wait can report events for several
 * owners, and a callback may close another owner (a database answer ends an HTTP connection).
 * That owner sets io->fd to -1 when it closes (no callback is made for an io whose fd is -1)
 * and frees its memory with loop_free_later, so that events still due for it in this round
 * find valid memory. */
#ifndef SB_CORE_LOOP_H
#define SB_CORE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

typedef struct loop loop_t;
typedef struct loop_io loop_io_t;
typedef struct loop_timer loop_timer_t;

/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP as epoll reported them. */
typedef void (*loop_io_cb)(loop_t *loop, loop_io_t *io, uint32_t events);
typedef void (*loop_timer_cb)(loop_t *loop, loop_timer_t *timer);

struct loop_io {
    int fd;
    loop_io_cb cb;
};

struct loop_timer {
    int64_t when;   /* monotonic ns */
    size_t slot;    /* index in the heap, LOOP_TIMER_IDLE when not armed */
    loop_timer_cb cb;
};
#define LOOP_TIMER_IDLE ((size_t)-1)

loop_t *loop_new(void);
void loop_free(loop_t *loop);

/* Registers io->fd edge-triggered for `events` (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLEXCLUSIVE).
 * 0 or -errno.
 * Closing the fd unregisters it; loop_del is for fds that stay open. */
int loop_add(loop_t *loop, loop_io_t *io, uint32_t events);
int loop_del(loop_t *loop, loop_io_t *io);

/* free(p) once the current round of events and timers has been dispatched. */
void loop_free_later(loop_t *loop, void *p);

static inline void loop_timer_init(loop_timer_t *t, loop_timer_cb cb)
{
    t->when = 0;
    t->slot = LOOP_TIMER_IDLE;
    t->cb = cb;
}
static inline bool loop_timer_armed(const loop_timer_t *t) { return t->slot != LOOP_TIMER_IDLE; }
/* Arms (or moves) the timer to fire at `when` (monotonic ns). 0 or -ENOMEM. */
int loop_timer_set(loop_t *loop, loop_timer_t *t, int64_t when);
void loop_timer_stop(loop_t *loop, loop_timer_t *t);

/* Monotonic ns, cached when the loop wakes up: cheap, and the same for every callback of one
 * wake-up. loop_now_update() reads the clock again. */
int64_t loop_now(const loop_t *loop);
int64_t loop_now_update(loop_t *loop);

/* Runs until loop_stop(): waits for events or the next timer, dispatches, repeats. */
void loop_run(loop_t *loop);
/* One wait-and-dispatch round, waiting at most max_wait_ns (<0: until an event or timer). */
void loop_run_once(loop_t *loop, int64_t max_wait_ns);
void loop_stop(loop_t *loop);

#endif
