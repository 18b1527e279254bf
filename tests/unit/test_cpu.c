/* Tests for CPU sets (src/core/cpu.c): CPU lists parsed and formatted, the set as numbers,
 * the CPUs this process may use, and pinning a thread or a process to a set (read back from
 * the kernel with sched_getaffinity). */
#include <errno.h>
#include <pthread.h>

#include "core/cpu.h"
#include "t.h"

/* Expects s to parse into a set of count CPUs that formats as want. */
#define CHECK_PARSES(s, count, want)                                                              \
    do {                                                                                          \
        cpuset_t set_;                                                                            \
        char out_[4096];                                                                          \
        CHECK_INT(cpuset_parse((s), &set_), (count));                                             \
        cpuset_format(&set_, out_, sizeof out_);                                                  \
        CHECK_STR(out_, (want));                                                                  \
    } while (0)

/* Expects s to be refused. */
#define CHECK_REFUSED(s)                                                                          \
    do {                                                                                          \
        cpuset_t set_;                                                                            \
        CHECK_INT(cpuset_parse((s), &set_), -1);                                                  \
    } while (0)

static cpuset_t set_of(const char *s)
{
    cpuset_t set;
    if (cpuset_parse(s, &set) < 0) {
        fprintf(stderr, "    '%s' refused\n", s);
        t_failures++;
    }
    return set;
}

/* ---- parse ---- */

TEST(parse_one_cpu)
{
    CHECK_PARSES("0", 1, "0");
    CHECK_PARSES("7", 1, "7");
    CHECK_PARSES("1023", 1, "1023"); /* the last one there is */
    CHECK_PARSES("007", 1, "7");
}

TEST(parse_numbers_and_ranges)
{
    CHECK_PARSES("0,2-4", 4, "0,2,3,4");
    CHECK_PARSES("2-3", 2, "2,3");
    CHECK_PARSES("5-5", 1, "5");
    CHECK_PARSES("8,1,4", 3, "1,4,8"); /* in any order; formatted in order */
}

TEST(parse_whole_range_counts_every_cpu)
{
    cpuset_t s;
    CHECK_INT(cpuset_parse("0-1023", &s), 1024);
    CHECK(cpuset_has(&s, 0) && cpuset_has(&s, 512) && cpuset_has(&s, 1023));
}

TEST(parse_duplicates_count_once)
{
    CHECK_PARSES("1,1", 1, "1");
    CHECK_PARSES("0-3,2-5", 6, "0,1,2,3,4,5");
    CHECK_PARSES("3,0-3", 4, "0,1,2,3");
}

TEST(parse_replaces_what_the_set_held)
{
    cpuset_t s;
    cpuset_clear(&s);
    cpuset_add(&s, 9);
    CHECK_INT(cpuset_parse("1", &s), 1);
    CHECK(!cpuset_has(&s, 9));
    CHECK(cpuset_has(&s, 1));
}

TEST(parse_malformed_refused)
{
    CHECK_REFUSED("");
    CHECK_REFUSED("a");
    CHECK_REFUSED("3-1");   /* a range backwards */
    CHECK_REFUSED("1,");    /* a comma with nothing after it */
    CHECK_REFUSED(",1");
    CHECK_REFUSED("1,,2");
    CHECK_REFUSED("-1");    /* no sign */
    CHECK_REFUSED("+1");
    CHECK_REFUSED(" 1");    /* no white space */
    CHECK_REFUSED("1 ");
    CHECK_REFUSED("1, 2");
    CHECK_REFUSED("1-");
    CHECK_REFUSED("1--2");
    CHECK_REFUSED("1-2-3");
    CHECK_REFUSED("0x1");
    CHECK_REFUSED("1024");  /* CPUSET_MAX and above */
    CHECK_REFUSED("0-1024");
    CHECK_REFUSED("99999999999999999999999");
    CHECK_REFUSED("0-99999999999999999999999");
    CHECK_INT(cpuset_parse(NULL, &(cpuset_t){0}), -1);
}

/* ---- format and list ---- */

TEST(format_lists_every_cpu_in_order)
{
    cpuset_t s;
    cpuset_clear(&s);
    cpuset_add(&s, 4);
    cpuset_add(&s, 0);
    cpuset_add(&s, 3);
    cpuset_add(&s, 2);
    char out[64];
    cpuset_format(&s, out, sizeof out);
    CHECK_STR(out, "0,2,3,4"); /* every number, no ranges */
}

TEST(format_empty_set_is_empty_string)
{
    cpuset_t s;
    cpuset_clear(&s);
    char out[16] = "junk";
    cpuset_format(&s, out, sizeof out);
    CHECK_STR(out, "");
}

TEST(format_truncation_never_leaves_half_a_number)
{
    cpuset_t s = set_of("0,2,3,4"); /* "0,2,3,4" is 7 bytes and its NUL */
    static const struct {
        size_t n;
        const char *want;
    } cut[] = {{8, "0,2,3,4"}, {7, "0,2,3"}, {6, "0,2,3"}, {5, "0,2"}, {4, "0,2"},
               {3, "0"},       {2, "0"},     {1, ""}};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        char out[16];
        memset(out, 'X', sizeof out);
        cpuset_format(&s, out, cut[i].n);
        CHECK_STR(out, cut[i].want);
        CHECK(out[cut[i].n] == 'X'); /* nothing written past n */
    }
    s = set_of("10,200,1023");
    char out[16];
    cpuset_format(&s, out, 6); /* "10,200" does not fit in 6: "10" */
    CHECK_STR(out, "10");
    cpuset_format(&s, out, 7);
    CHECK_STR(out, "10,200");
    cpuset_format(&s, out, 2); /* "10" does not fit in 2: nothing */
    CHECK_STR(out, "");
}

TEST(format_zero_bytes_writes_nothing)
{
    cpuset_t s = set_of("1");
    char out[4] = "abc";
    cpuset_format(&s, out, 0);
    CHECK_STR(out, "abc");
}

TEST(list_gives_the_numbers_in_order_up_to_max)
{
    cpuset_t s = set_of("9,0,2-4");
    int cpus[8] = {0};
    CHECK_INT(cpuset_list(&s, cpus, 8), 5);
    static const int want[] = {0, 2, 3, 4, 9};
    for (int i = 0; i < 5; i++)
        CHECK_INT(cpus[i], want[i]);
    int two[3] = {-1, -1, -1};
    CHECK_INT(cpuset_list(&s, two, 2), 2);
    CHECK_INT(two[0], 0);
    CHECK_INT(two[1], 2);
    CHECK_INT(two[2], -1); /* max respected */
    cpuset_clear(&s);
    CHECK_INT(cpuset_list(&s, cpus, 8), 0);
}

TEST(add_and_has_ignore_numbers_out_of_range)
{
    cpuset_t s;
    cpuset_clear(&s);
    cpuset_add(&s, -1);
    cpuset_add(&s, CPUSET_MAX);
    CHECK_INT(cpuset_count(&s), 0);
    CHECK(!cpuset_has(&s, -1));
    CHECK(!cpuset_has(&s, CPUSET_MAX));
    cpuset_add(&s, CPUSET_MAX - 1);
    CHECK(cpuset_has(&s, CPUSET_MAX - 1));
    CHECK_INT(cpuset_count(&s), 1);
}

/* ---- the CPUs of this process, pinning ---- */

static cpuset_t kernel_affinity(pid_t pid)
{
    cpuset_t s;
    cpuset_clear(&s);
    if (sched_getaffinity(pid, sizeof s.set, &s.set) != 0) {
        fprintf(stderr, "    sched_getaffinity: %s\n", strerror(errno));
        t_failures++;
    }
    return s;
}

TEST(allowed_is_the_affinity_mask)
{
    cpuset_t a;
    cpuset_allowed(&a);
    cpuset_t k = kernel_affinity(0);
    CHECK(cpuset_count(&a) >= 1);
    for (int c = 0; c < CPUSET_MAX; c++)
        if (cpuset_has(&a, c) && !cpuset_has(&k, c)) {
            fprintf(stderr, "    CPU %d allowed but not in the affinity mask\n", c);
            t_failures++;
        }
    CHECK_INT(cpuset_count(&a), cpuset_count(&k));
}

/* The last CPU we may use (the test runs in a child process of its own: pinning it changes
 * nothing for the other tests). */
static int last_allowed(void)
{
    cpuset_t a;
    cpuset_allowed(&a);
    int cpus[CPUSET_MAX];
    int n = cpuset_list(&a, cpus, CPUSET_MAX);
    return cpus[n - 1];
}

TEST(pin_process_to_one_cpu)
{
    int cpu = last_allowed();
    cpuset_t one;
    cpuset_clear(&one);
    cpuset_add(&one, cpu);
    CHECK_INT(cpuset_pin_process(0, &one), 0);
    cpuset_t k = kernel_affinity(0);
    CHECK_INT(cpuset_count(&k), 1);
    CHECK(cpuset_has(&k, cpu));
    CHECK_INT(sched_getcpu(), cpu);
    cpuset_t a;
    cpuset_allowed(&a); /* and that is now what we may use */
    CHECK_INT(cpuset_count(&a), 1);
    CHECK(cpuset_has(&a, cpu));
}

TEST(pin_process_by_pid)
{
    int cpu = last_allowed();
    cpuset_t one;
    cpuset_clear(&one);
    cpuset_add(&one, cpu);
    CHECK_INT(cpuset_pin_process(getpid(), &one), 0);
    cpuset_t k = kernel_affinity(0);
    CHECK_INT(cpuset_count(&k), 1);
    CHECK(cpuset_has(&k, cpu));
}

TEST(pin_process_errors_are_negative_errno)
{
    cpuset_t none;
    cpuset_clear(&none);
    CHECK_INT(cpuset_pin_process(0, &none), -EINVAL);
    /* a pid that is no process: the child of a fork, reaped */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    cpuset_t a;
    cpuset_allowed(&a);
    CHECK_INT(cpuset_pin_process(pid, &a), -ESRCH);
}

static void *pin_in_thread(void *arg)
{
    int cpu = *(int *)arg;
    cpuset_t one;
    cpuset_clear(&one);
    cpuset_add(&one, cpu);
    intptr_t bad = 0;
    if (cpuset_pin_thread(&one) != 0)
        bad = 1;
    cpuset_t k = kernel_affinity(0); /* pid 0: the calling thread */
    if (cpuset_count(&k) != 1 || !cpuset_has(&k, cpu))
        bad = 2;
    return (void *)bad;
}

TEST(pin_thread_pins_the_calling_thread_only)
{
    cpuset_t before = kernel_affinity(0);
    int cpu = last_allowed();
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, pin_in_thread, &cpu), 0);
    void *r;
    pthread_join(t, &r);
    CHECK_INT((intptr_t)r, 0);
    cpuset_t after = kernel_affinity(0); /* this thread: as it was */
    CHECK_INT(cpuset_count(&after), cpuset_count(&before));
}

TEST(pin_thread_to_an_empty_set_refused)
{
    cpuset_t none;
    cpuset_clear(&none);
    CHECK_INT(cpuset_pin_thread(&none), -EINVAL);
}

TEST(pin_self_to_one_cpu)
{
    int cpu = last_allowed();
    CHECK_INT(cpu_pin_self(cpu), 0);
    cpuset_t k = kernel_affinity(0);
    CHECK_INT(cpuset_count(&k), 1);
    CHECK(cpuset_has(&k, cpu));
    CHECK(cpu_pin_self(-1) < 0); /* an empty set */
}

TEST(cpu_model_names_something)
{
    char m[256];
    cpu_model(m, sizeof m);
    CHECK(m[0] != 0);
    char small[4];
    cpu_model(small, sizeof small);
    CHECK_INT(strlen(small), 3); /* truncated, terminated */
}

T_MAIN(T(parse_one_cpu), T(parse_numbers_and_ranges), T(parse_whole_range_counts_every_cpu),
       T(parse_duplicates_count_once), T(parse_replaces_what_the_set_held),
       T(parse_malformed_refused), T(format_lists_every_cpu_in_order),
       T(format_empty_set_is_empty_string), T(format_truncation_never_leaves_half_a_number),
       T(format_zero_bytes_writes_nothing), T(list_gives_the_numbers_in_order_up_to_max),
       T(add_and_has_ignore_numbers_out_of_range), T(allowed_is_the_affinity_mask),
       T(pin_process_to_one_cpu), T(pin_process_by_pid), T(pin_process_errors_are_negative_errno),
       T(pin_thread_pins_the_calling_thread_only), T(pin_thread_to_an_empty_set_refused),
       T(pin_self_to_one_cpu), T(cpu_model_names_something))
