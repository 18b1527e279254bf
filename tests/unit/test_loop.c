/* Tests for the event loop (src/core/loop.c): timers fire in deadline order and never early,
 * stopped timers do not fire, an owner closed during another owner's callback in the same round
 * gets no callback, and memory given to loop_free_later lives until the round ends.
 * No test bounds how late a timer may fire: a busy machine delays every wake-up. */
#include <sys/eventfd.h>

#include "core/clock.h"
#include "core/loop.h"
#include "t.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define T_ASAN 1
#else
#include <malloc.h>
#endif

/* ---- timers ---- */

typedef struct {
    loop_timer_t t;
    int tag;
    int64_t fired_at; /* clock_now_ns() in the callback, 0 before */
} tagged_t;

static int fired[64], nfired;

static void on_tagged(loop_t *l, loop_timer_t *t)
{
    tagged_t *x = container_of(t, tagged_t, t);
    x->fired_at = clock_now_ns();
    if (nfired < 64)
        fired[nfired++] = x->tag;
}

/* Runs rounds until n timers have fired (the harness's timeout catches a loop that never gets
 * there), then one more round without waiting, so that a timer that should not fire has had
 * its chance: every deadline set is past by then. */
static void run_until_fired(loop_t *l, int n)
{
    while (nfired < n)
        loop_run_once(l, -1);
    loop_run_once(l, 0);
}

TEST(timers_fire_in_deadline_order_and_a_stopped_one_never)
{
    loop_t *l = loop_new();
    tagged_t t[6];
    int64_t base = loop_now_update(l);
    int order[] = {5, 1, 4, 2, 3, 0}; /* set in this order, deadlines 1..6 ms */
    for (int i = 0; i < 6; i++) {
        loop_timer_init(&t[i].t, on_tagged);
        t[i].tag = order[i];
        CHECK_INT(loop_timer_set(l, &t[i].t, base + (order[i] + 1) * NS_PER_MS), 0);
        CHECK(loop_timer_armed(&t[i].t));
    }
    loop_timer_stop(l, &t[2].t);               /* tag 4 */
    CHECK(!loop_timer_armed(&t[2].t));
    loop_timer_stop(l, &t[2].t);               /* stopping twice is harmless */
    loop_timer_set(l, &t[0].t, t[0].t.when);   /* re-armed in place */
    run_until_fired(l, 5);
    CHECK_INT(nfired, 5);
    int want[] = {0, 1, 2, 3, 5};
    for (int i = 0; i < 5; i++)
        CHECK_INT(fired[i], want[i]);
    CHECK(!loop_timer_armed(&t[2].t));
    CHECK(!loop_timer_armed(&t[0].t)); /* a timer that fired is disarmed */
    loop_free(l);
}

TEST(moving_an_armed_timer_reorders_it)
{
    loop_t *l = loop_new();
    tagged_t a = {.tag = 1}, b = {.tag = 2}, c = {.tag = 3};
    loop_timer_init(&a.t, on_tagged);
    loop_timer_init(&b.t, on_tagged);
    loop_timer_init(&c.t, on_tagged);
    int64_t base = loop_now_update(l);
    loop_timer_set(l, &a.t, base + 1 * NS_PER_MS);
    loop_timer_set(l, &b.t, base + 2 * NS_PER_MS);
    loop_timer_set(l, &c.t, base + 3 * NS_PER_MS);
    loop_timer_set(l, &a.t, base + 4 * NS_PER_MS); /* later: now last */
    loop_timer_set(l, &c.t, base + 500 * NS_PER_US); /* earlier: now first */
    run_until_fired(l, 3);
    CHECK_INT(nfired, 3);
    CHECK_INT(fired[0], 3);
    CHECK_INT(fired[1], 2);
    CHECK_INT(fired[2], 1);
    loop_free(l);
}

TEST(a_timer_never_fires_before_its_time)
{
    /* 300 µs timers, waited for without a bound (-1) and in short rounds that wake up before
     * them: none may fire early, by the clock or by the loop's cached time. */
    loop_t *l = loop_new();
    for (int i = 0; i < 40; i++) {
        tagged_t t = {.tag = i};
        loop_timer_init(&t.t, on_tagged);
        nfired = 0;
        int64_t when = clock_now_ns() + 300 * NS_PER_US;
        loop_timer_set(l, &t.t, when);
        while (nfired == 0)
            loop_run_once(l, i % 2 ? -1 : 50 * NS_PER_US);
        CHECK(t.fired_at >= when);
        CHECK(loop_now(l) >= when);
    }
    loop_free(l);
}

TEST(timers_microseconds_apart_fire_in_order)
{
    /* 32 deadlines 7 µs apart, set in a scrambled order: they fire earliest first, whether a
     * round finds one of them due or several, and none before its time. */
    loop_t *l = loop_new();
    tagged_t t[32];
    int64_t base = loop_now_update(l) + 2 * NS_PER_MS;
    for (int i = 0; i < 32; i++) {
        int k = (i * 13) % 32; /* 13 is prime to 32: every k once */
        loop_timer_init(&t[i].t, on_tagged);
        t[i].tag = k;
        loop_timer_set(l, &t[i].t, base + k * 7 * NS_PER_US);
    }
    run_until_fired(l, 32);
    CHECK_INT(nfired, 32);
    for (int i = 0; i < 32; i++)
        CHECK_INT(fired[i], i);
    for (int i = 0; i < 32; i++)
        CHECK(t[i].fired_at >= t[i].t.when);
    loop_free(l);
}

/* ---- closing in another owner's callback ---- */

/* Two owners whose eventfds are both readable, so that one round reports both. */
typedef struct owner {
    loop_io_t io;
    int calls;
    struct owner *other;
    bool close_other;   /* the first callback of the round closes the other owner */
    bool free_other;    /* ... and gives its memory to loop_free_later */
    char payload[64];
} owner_t;

static int total_calls;

static void on_owner(loop_t *l, loop_io_t *io, uint32_t events)
{
    owner_t *o = container_of(io, owner_t, io);
    o->calls++;
    total_calls++;
    uint64_t v;
    if (read(io->fd, &v, sizeof v) != sizeof v)
        t_failures++;
    owner_t *x = o->other;
    if (o->close_other && x->io.fd >= 0) {
        close(x->io.fd);
        x->io.fd = -1; /* as the loop's contract asks */
        if (o->free_other)
            loop_free_later(l, x);
    }
}

static void owner_open(loop_t *l, owner_t *o)
{
    o->io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    o->io.cb = on_owner;
    CHECK(o->io.fd >= 0);
    CHECK_INT(loop_add(l, &o->io, EPOLLIN), 0);
}

static void poke(const owner_t *o)
{
    uint64_t one = 1;
    if (o->io.fd >= 0 && write(o->io.fd, &one, sizeof one) != sizeof one)
        t_failures++;
}

TEST(one_round_reports_both_owners)
{
    /* The premise of the next tests: two ready owners are both called in one round. */
    loop_t *l = loop_new();
    owner_t a = {0}, b = {0};
    a.other = &b;
    b.other = &a;
    owner_open(l, &a);
    owner_open(l, &b);
    poke(&a);
    poke(&b);
    loop_run_once(l, -1);
    CHECK_INT(a.calls, 1);
    CHECK_INT(b.calls, 1);
    close(a.io.fd);
    close(b.io.fd);
    loop_free(l);
}

TEST(an_owner_closed_during_another_owners_callback_gets_no_callback)
{
    loop_t *l = loop_new();
    owner_t a = {.close_other = true}, b = {.close_other = true};
    a.other = &b;
    b.other = &a;
    owner_open(l, &a);
    owner_open(l, &b);
    poke(&a);
    poke(&b);
    total_calls = 0;
    loop_run_once(l, -1);
    CHECK_INT(total_calls, 1);         /* the first one called closed the other */
    CHECK_INT(a.calls + b.calls, 1);
    CHECK((a.io.fd < 0) != (b.io.fd < 0));
    owner_t *open = a.io.fd >= 0 ? &a : &b;
    /* the one left open still works */
    poke(open);
    loop_run_once(l, -1);
    CHECK_INT(open->calls, 2);
    CHECK_INT(total_calls, 2);
    close(open->io.fd);
    loop_free(l);
}

/* ---- loop_free_later ---- */

/* Bytes the allocator holds for the program: a block given back shows as a drop. */
static size_t allocated(void)
{
#ifdef T_ASAN
    return 0; /* ASan's quarantine keeps freed memory: freed() below asks ASan instead */
#else
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#endif
}

#define BIG (1 << 20) /* above glibc's mmap threshold: freeing it gives it back at once */

/* Whether the block p (BIG bytes) has been freed, given the allocation count before it was. */
static bool freed(const void *p, size_t held_with_it)
{
#ifdef T_ASAN
    (void)held_with_it;
    return __asan_address_is_poisoned(p);
#else
    (void)p;
    return allocated() + BIG <= held_with_it;
#endif
}

static char *big;
static owner_t *pair[2];
static size_t held;                  /* allocated() with big and both owners */
static bool timer_saw_big, timer_saw_owner, timer_saw_freed;

static void on_round_end_timer(loop_t *l, loop_timer_t *t)
{
    /* Timers run after the round's I/O callbacks, still inside the round. */
    timer_saw_big = big[0] == 'B' && big[BIG - 1] == 'E';
    owner_t *gone = pair[0]->io.fd < 0 ? pair[0] : pair[1];
    timer_saw_owner = strcmp(gone->payload, "still here") == 0;
    timer_saw_freed = freed(big, held);
}

static void on_owner_freeing_big(loop_t *l, loop_io_t *io, uint32_t events)
{
    on_owner(l, io, events);
    if (big && total_calls == 1)
        loop_free_later(l, big);
}

TEST(memory_given_to_free_later_lives_until_the_round_ends)
{
    loop_t *l = loop_new();
    for (int i = 0; i < 2; i++) {
        pair[i] = calloc(1, sizeof(owner_t));
        pair[i]->close_other = pair[i]->free_other = true;
        strcpy(pair[i]->payload, "still here");
    }
    pair[0]->other = pair[1];
    pair[1]->other = pair[0];
    owner_open(l, pair[0]);
    owner_open(l, pair[1]);
    pair[0]->io.cb = pair[1]->io.cb = on_owner_freeing_big;
    big = malloc(BIG);
    memset(big, 'x', BIG);
    big[0] = 'B';
    big[BIG - 1] = 'E';
    loop_timer_t t;
    loop_timer_init(&t, on_round_end_timer);
    loop_timer_set(l, &t, 0); /* due: it runs in the same round */
    poke(pair[0]);
    poke(pair[1]);
    total_calls = 0;
    held = allocated();
    /* One round: the first owner called closes the other and gives it and `big` to
     * loop_free_later; the loop then skips the closed owner's event (reading its fd from the
     * memory given away: the sanitizer build sees a use after free if it was already freed). */
    loop_run_once(l, -1);
    CHECK_INT(total_calls, 1);
    CHECK(timer_saw_big);
    CHECK(timer_saw_owner);
    CHECK(!timer_saw_freed);
    CHECK(freed(big, held)); /* and after the round, it is gone */
    owner_t *open = pair[0]->io.fd >= 0 ? pair[0] : pair[1];
    close(open->io.fd);
    free(open);
    loop_free(l);
}

T_MAIN(T(timers_fire_in_deadline_order_and_a_stopped_one_never),
       T(moving_an_armed_timer_reorders_it), T(a_timer_never_fires_before_its_time),
       T(timers_microseconds_apart_fire_in_order), T(one_round_reports_both_owners),
       T(an_owner_closed_during_another_owners_callback_gets_no_callback),
       T(memory_given_to_free_later_lives_until_the_round_ends))
