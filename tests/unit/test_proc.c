/* Tests for child processes and /proc (src/core/proc.c): proc_run's output, status and
 * timeout; what a child of proc_spawn gets (standard descriptors, no other descriptor of ours,
 * environment, folder, CPUs, default signal handlers, session, parent-death signal);
 * proc_wait and proc_stop; and the /proc readings of ourselves and our children. Each test
 * runs in a child process of its own, so the children it starts are its own only. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

#include "core/clock.h"
#include "core/cpu.h"
#include "core/net.h"
#include "core/proc.h"
#include "t.h"

#define S(x) ((int64_t)(x) * NS_PER_S)
#define MS(x) ((int64_t)(x) * NS_PER_MS)

static char out[65536], err[512];

/* proc_run of argv (NULL-terminated) with options o, at most 20 s; its status. */
static int run(const char *const *argv, const proc_opts_t *o)
{
    out[0] = err[0] = 0;
    return proc_run(argv, o, S(20), out, sizeof out, err, sizeof err);
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Our children, as proc_children sees them. */
static int children(void)
{
    pid_t kids[64];
    return proc_children(getpid(), kids, 64);
}

/* ---- proc_run ---- */

TEST(run_collects_stdout_and_stderr)
{
    CHECK_INT(run(ARGV("/bin/sh", "-c", "echo out; echo err >&2"), NULL), 0);
    CHECK_STR(out, "out\nerr\n");
    CHECK_STR(err, "");
}

TEST(run_keeps_the_tail_when_the_output_is_longer)
{
    /* "line0\n" ... "line999\n": 7890 bytes into 32 */
    char small[32];
    int rc = proc_run(ARGV("/bin/sh", "-c",
                           "i=0; while [ $i -lt 1000 ]; do echo line$i; i=$((i+1)); done"),
                      NULL, S(20), small, sizeof small, err, sizeof err);
    CHECK_INT(rc, 0);
    CHECK_STR(small, "ine996\nline997\nline998\nline999\n"); /* the last 31 bytes */
    /* one byte less than the buffer: all of it */
    rc = proc_run(ARGV("/bin/sh", "-c", "printf 0123456789"), NULL, S(20), small, 11, err,
                  sizeof err);
    CHECK_INT(rc, 0);
    CHECK_STR(small, "0123456789");
    rc = proc_run(ARGV("/bin/sh", "-c", "printf 0123456789"), NULL, S(20), small, 10, err,
                  sizeof err);
    CHECK_STR(small, "123456789");
}

TEST(run_returns_the_exit_code)
{
    CHECK_INT(run(ARGV("/bin/sh", "-c", "exit 0"), NULL), 0);
    CHECK_INT(run(ARGV("/bin/sh", "-c", "exit 3"), NULL), 3);
    CHECK_INT(run(ARGV("/bin/sh", "-c", "exit 255"), NULL), 255);
}

TEST(run_signal_is_128_plus_its_number)
{
    CHECK_INT(run(ARGV("/bin/sh", "-c", "kill -TERM $$"), NULL), 128 + SIGTERM);
    CHECK_INT(run(ARGV("/bin/sh", "-c", "kill -KILL $$"), NULL), 128 + SIGKILL);
}

TEST(run_timeout_is_minus_1_and_the_child_is_gone)
{
    /* 200 ms decides which branch is taken; it measures nothing */
    int rc = proc_run(ARGV("sleep", "30"), NULL, MS(200), out, sizeof out, err, sizeof err);
    CHECK_INT(rc, -1);
    CHECK_STR(err, "sleep did not finish in 0.2 s");
    CHECK_INT(children(), 0); /* killed and reaped */
    /* without collecting the output too */
    rc = proc_run(ARGV("sleep", "30"), NULL, MS(200), NULL, 0, err, sizeof err);
    CHECK_INT(rc, -1);
    CHECK_STR(err, "sleep did not finish in 0.2 s");
    CHECK_INT(children(), 0);
}

TEST(run_without_collecting_returns_the_status)
{
    CHECK_INT(proc_run(ARGV("/bin/sh", "-c", "exit 4"), NULL, S(20), NULL, 0, err, sizeof err), 4);
}

TEST(run_looks_a_bare_name_up_in_path)
{
    CHECK_INT(run(ARGV("sh", "-c", "echo found"), NULL), 0);
    CHECK_STR(out, "found\n");
    setenv("PATH", "/no/such/folder:/usr/bin:/bin", 1);
    CHECK_INT(run(ARGV("sh", "-c", "echo found"), NULL), 0);
    CHECK_STR(out, "found\n");
}

TEST(run_missing_program_is_minus_1_not_found)
{
    CHECK_INT(run(ARGV("no-such-program-of-stackbench"), NULL), -1);
    CHECK_STR(err, "cannot run no-such-program-of-stackbench: not found");
    setenv("PATH", "/no/such/folder", 1);
    CHECK_INT(run(ARGV("sh", "-c", "true"), NULL), -1);
    CHECK_STR(err, "cannot run sh: not found");
    CHECK_INT(proc_run(NULL, NULL, S(1), out, sizeof out, err, sizeof err), -1);
    CHECK_STR(err, "cannot run (null): not found");
}

TEST(run_path_that_cannot_be_executed_exits_127_saying_so)
{
    CHECK_INT(run(ARGV("/no/such/program"), NULL), 127);
    CHECK_STR(out, "stackbench: cannot run /no/such/program\n");
}

/* ---- what the child of proc_spawn gets ---- */

TEST(spawn_stdin_is_dev_null_by_default)
{
    CHECK_INT(run(ARGV("readlink", "/proc/self/fd/0"), NULL), 0);
    CHECK_STR(out, "/dev/null\n");
    CHECK_INT(run(ARGV("/bin/sh", "-c", "cat; echo end"), NULL), 0); /* reads its end at once */
    CHECK_STR(out, "end\n");
}

TEST(spawn_stdout_and_stderr_are_dev_null_by_default)
{
    int p[2];
    CHECK_INT(pipe(p), 0);
    fflush(stdout);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(p[1], 1); /* ours are this pipe: the child's must not be */
    dup2(p[1], 2);
    close(p[1]);
    pid_t pid = proc_spawn(ARGV("/bin/sh", "-c", "echo out; echo err >&2"), NULL, err, sizeof err);
    int st = -1;
    int done = proc_wait(pid, S(20), &st);
    dup2(saved_out, 1); /* ours back, and the pipe's write end closed */
    dup2(saved_err, 2);
    CHECK(pid > 0);
    CHECK_INT(done, 1);
    CHECK_INT(st, 0);
    char buf[64];
    CHECK_INT(read(p[0], buf, sizeof buf), 0); /* nothing came */
}

TEST(spawn_inherit_keeps_our_descriptors)
{
    int p[2];
    CHECK_INT(pipe(p), 0);
    CHECK_INT(write(p[1], "hello", 5), 5);
    close(p[1]);
    dup2(p[0], 0); /* our stdin: the pipe */
    close(p[0]);
    proc_opts_t o = {.in = PROC_INHERIT};
    CHECK_INT(run(ARGV("cat"), &o), 0);
    CHECK_STR(out, "hello");
}

TEST(spawn_given_descriptors_become_the_childs)
{
    int in[2], o[2];
    CHECK_INT(pipe(in), 0);
    CHECK_INT(pipe(o), 0);
    CHECK_INT(write(in[1], "abc", 3), 3);
    close(in[1]);
    proc_opts_t opts = {.in = in[0], .out = o[1], .err = o[1]};
    pid_t pid = proc_spawn(ARGV("/bin/sh", "-c", "cat; echo ' err' >&2"), &opts, err, sizeof err);
    CHECK(pid > 0);
    close(in[0]);
    close(o[1]);
    char buf[64];
    size_t n = 0;
    ssize_t r;
    while ((r = read(o[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    CHECK_STR(buf, "abc err\n");
    int st;
    CHECK_INT(proc_wait(pid, S(20), &st), 1);
    CHECK_INT(st, 0);
}

TEST(spawn_err_to_out_sends_stderr_where_stdout_goes)
{
    int p[2];
    CHECK_INT(pipe(p), 0);
    proc_opts_t o = {.out = p[1], .err_to_out = true};
    pid_t pid = proc_spawn(ARGV("/bin/sh", "-c", "echo a; echo b >&2"), &o, err, sizeof err);
    CHECK(pid > 0);
    close(p[1]);
    char buf[64];
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    CHECK_STR(buf, "a\nb\n");
    int st;
    CHECK_INT(proc_wait(pid, S(20), &st), 1);
    /* without it, stderr is /dev/null */
    CHECK_INT(pipe(p), 0);
    o = (proc_opts_t){.out = p[1]};
    pid = proc_spawn(ARGV("/bin/sh", "-c", "echo a; echo b >&2"), &o, err, sizeof err);
    close(p[1]);
    n = 0;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    CHECK_STR(buf, "a\n");
    CHECK_INT(proc_wait(pid, S(20), &st), 1);
}

TEST(spawn_closes_every_descriptor_above_2)
{
    /* a pipe of ours without O_CLOEXEC, and a copy of it high up */
    int p[2];
    CHECK_INT(pipe(p), 0);
    CHECK_INT(dup2(p[1], 50), 50);
    CHECK_INT(run(ARGV("ls", "/proc/self/fd"), NULL), 0);
    /* 0, 1, 2, and the folder ls reads (3) */
    CHECK_STR(out, "0\n1\n2\n3\n");
}

TEST(spawn_envp_replaces_the_environment)
{
    setenv("STACKBENCH_TEST_OURS", "1", 1);
    char *const envp[] = {"A=1", "B=two words", NULL};
    proc_opts_t o = {.envp = envp};
    CHECK_INT(run(ARGV("/usr/bin/env"), &o), 0);
    CHECK_STR(out, "A=1\nB=two words\n");
    /* without envp: ours */
    CHECK_INT(run(ARGV("/bin/sh", "-c", "echo $STACKBENCH_TEST_OURS"), NULL), 0);
    CHECK_STR(out, "1\n");
}

TEST(spawn_cwd_is_its_folder)
{
    char dir[] = "/tmp/sb-proc-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char real[4096];
    CHECK(realpath(dir, real) != NULL);
    proc_opts_t o = {.cwd = dir};
    CHECK_INT(run(ARGV("readlink", "/proc/self/cwd"), &o), 0);
    char want[4200];
    snprintf(want, sizeof want, "%s\n", real);
    CHECK_STR(out, want);
    rmdir(dir);
    /* a folder it cannot enter: it says so and exits 126 */
    o.cwd = dir;
    CHECK_INT(run(ARGV("true"), &o), 126);
    snprintf(want, sizeof want, "stackbench: cannot enter %s\n", dir);
    CHECK_STR(out, want);
}

TEST(spawn_cpus_pins_the_child)
{
    cpuset_t a, one;
    cpuset_allowed(&a);
    int cpus[CPUSET_MAX];
    int n = cpuset_list(&a, cpus, CPUSET_MAX);
    cpuset_clear(&one);
    cpuset_add(&one, cpus[n - 1]);
    proc_opts_t o = {.cpus = &one};
    CHECK_INT(run(ARGV("grep", "Cpus_allowed_list", "/proc/self/status"), &o), 0);
    char want[64];
    snprintf(want, sizeof want, "Cpus_allowed_list:\t%d\n", cpus[n - 1]);
    CHECK_STR(out, want);
    /* without: ours, unchanged */
    char list[4096];
    cpuset_format(&a, list, sizeof list);
    CHECK_INT(run(ARGV("grep", "Cpus_allowed_list", "/proc/self/status"), NULL), 0);
    CHECK(strncmp(out, "Cpus_allowed_list:\t", 19) == 0);
    cpuset_t got;
    out[strcspn(out, "\n")] = 0;
    CHECK_INT(cpuset_parse(out + 19, &got), cpuset_count(&a));
}

TEST(spawn_resets_ignored_signals_to_their_default)
{
    /* ignored here, and a shell keeps a signal ignored at its start ignored: the child must
     * start with the default, and die of it */
    signal(SIGTERM, SIG_IGN);
    CHECK_INT(run(ARGV("/bin/sh", "-c", "kill -TERM $$; exit 0"), NULL), 128 + SIGTERM);
}

static void on_usr1(int sig) { (void)sig; }

TEST(spawn_resets_handlers_and_the_signal_mask)
{
    signal(SIGUSR1, on_usr1);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    CHECK_INT(run(ARGV("/bin/sh", "-c", "kill -TERM $$; exit 0"), NULL), 128 + SIGTERM);
    CHECK_INT(run(ARGV("/bin/sh", "-c", "kill -USR1 $$; exit 0"), NULL), 128 + SIGUSR1);
    CHECK_INT(run(ARGV("grep", "SigBlk", "/proc/self/status"), NULL), 0);
    CHECK_STR(out, "SigBlk:\t0000000000000000\n");
}

TEST(spawn_session_makes_it_a_session_leader)
{
    const char *const ids = "read pid comm state ppid pgrp session rest < /proc/self/stat; "
                            "[ $pid = $session ] && echo leader || echo member";
    proc_opts_t o = {.session = true};
    CHECK_INT(run(ARGV("/bin/sh", "-c", ids), &o), 0);
    CHECK_STR(out, "leader\n");
    CHECK_INT(run(ARGV("/bin/sh", "-c", ids), NULL), 0);
    CHECK_STR(out, "member\n");
}

TEST(spawn_deathsig_reaches_the_child_when_its_parent_ends)
{
    /* A helper process spawns a `sleep 30` with the parent-death signal, waits until it runs
     * (past the check against a parent that died first), tells us its pid and ends; the
     * sleep must then die of SIGTERM long before its 30 s. */
    int p[2];
    CHECK_INT(pipe(p), 0);
    pid_t helper = fork();
    if (helper == 0) {
        int ready[2];
        if (pipe(ready) != 0)
            _exit(1);
        proc_opts_t o = {.deathsig = SIGTERM, .out = ready[1]};
        char e[256];
        pid_t pid = proc_spawn(ARGV("/bin/sh", "-c", "echo ready; exec sleep 30"), &o, e,
                               sizeof e);
        close(ready[1]);
        char buf[8];
        if (pid < 0 || read(ready[0], buf, sizeof buf) != 6)
            _exit(1);
        (void)!write(p[1], &pid, sizeof pid);
        _exit(0);
    }
    close(p[1]);
    pid_t pid = -1;
    CHECK_INT(read(p[0], &pid, sizeof pid), sizeof pid);
    CHECK(pid > 0);
    waitpid(helper, NULL, 0);
    int64_t cap = clock_now_ns() + S(10); /* a bound on failing, not a measurement */
    while (pid > 0 && proc_alive(pid) && clock_now_ns() < cap)
        usleep(10000);
    CHECK(!proc_alive(pid));
    if (pid > 0 && proc_alive(pid))
        kill(pid, SIGKILL);
}

/* ---- proc_wait, proc_stop ---- */

TEST(wait_with_timeout_0_is_0_while_it_runs)
{
    pid_t pid = proc_spawn(ARGV("sleep", "30"), NULL, err, sizeof err);
    CHECK(pid > 0);
    int st = 12345;
    CHECK_INT(proc_wait(pid, 0, &st), 0);
    CHECK_INT(st, 12345); /* untouched */
    CHECK(proc_alive(pid));
    CHECK_INT(proc_stop(pid, SIGKILL, S(5)), 128 + SIGKILL);
}

TEST(wait_gives_the_exit_code)
{
    pid_t pid = proc_spawn(ARGV("/bin/sh", "-c", "exit 7"), NULL, err, sizeof err);
    int st = 0;
    CHECK_INT(proc_wait(pid, -1, &st), 1);
    CHECK_INT(st, 7);
    pid = proc_spawn(ARGV("/bin/sh", "-c", "exit 9"), NULL, err, sizeof err);
    CHECK_INT(proc_wait(pid, S(20), &st), 1);
    CHECK_INT(st, 9);
}

TEST(wait_for_a_child_reaped_elsewhere_is_status_minus_1)
{
    pid_t pid = proc_spawn(ARGV("true"), NULL, err, sizeof err);
    CHECK_INT(waitpid(pid, NULL, 0), pid);
    int st = 0;
    CHECK_INT(proc_wait(pid, S(1), &st), 1);
    CHECK_INT(st, -1);
}

TEST(stop_of_a_process_that_dies_of_the_signal)
{
    pid_t pid = proc_spawn(ARGV("sleep", "30"), NULL, err, sizeof err);
    CHECK_INT(proc_stop(pid, SIGTERM, S(10)), 128 + SIGTERM);
    CHECK(!proc_alive(pid));
    CHECK_INT(children(), 0);
}

TEST(stop_of_a_process_that_ignores_the_signal_kills_it)
{
    int p[2];
    CHECK_INT(pipe(p), 0);
    proc_opts_t o = {.out = p[1]};
    /* it says when its trap is set, and ignores SIGTERM across exec */
    pid_t pid = proc_spawn(ARGV("/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30"), &o,
                           err, sizeof err);
    close(p[1]);
    char buf[16] = "";
    CHECK_INT(read(p[0], buf, sizeof buf), 6);
    CHECK_INT(proc_stop(pid, SIGTERM, MS(200)), -1);
    CHECK(!proc_alive(pid));
    CHECK_INT(children(), 0);
}

/* ---- /proc ---- */

/* CPU time of this process, from the kernel's own clock. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void burn_cpu(int64_t ns)
{
    int64_t until = cpu_ns() + ns;
    volatile uint64_t x = 1;
    while (cpu_ns() < until)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ULL + 1;
}

TEST(stat_of_ourselves)
{
    proc_stat_t st;
    CHECK_INT(proc_stat(getpid(), &st), 0);
    CHECK(st.state == 'R' || st.state == 'S');
    CHECK_INT(st.ppid, getppid());
    CHECK_INT(st.threads, 1);
}

TEST(stat_cpu_time_grows_with_work)
{
    proc_stat_t a, b;
    CHECK_INT(proc_stat(getpid(), &a), 0);
    burn_cpu(MS(200)); /* 20 ticks of /proc's 100 Hz */
    CHECK_INT(proc_stat(getpid(), &b), 0);
    CHECK(b.utime + b.stime > a.utime + a.stime);
    CHECK(b.utime >= a.utime && b.stime >= a.stime);
}

TEST(stat_of_a_name_with_spaces_and_parentheses)
{
    int p[2];
    CHECK_INT(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NAME, "a) b (c) R 1");
        (void)!write(p[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    CHECK_INT(read(p[0], &c, 1), 1);
    proc_stat_t st;
    CHECK_INT(proc_stat(pid, &st), 0);
    CHECK_INT(st.ppid, getpid());
    CHECK(st.state == 'S' || st.state == 'R');
    CHECK_INT(st.threads, 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

TEST(stat_of_no_process_is_minus_1)
{
    proc_stat_t st;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    CHECK_INT(proc_stat(pid, &st), -1);
    CHECK_INT(proc_stat(0, &st), -1);
    CHECK_INT(proc_stat(-1, &st), -1);
}

TEST(alive_for_a_running_child_not_for_a_zombie_or_a_reaped_one)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    /* wait until it has ended, without reaping it: a zombie */
    siginfo_t si;
    CHECK_INT(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    proc_stat_t st;
    CHECK_INT(proc_stat(pid, &st), 0);
    CHECK_INT(st.state, 'Z');
    CHECK(!proc_alive(pid));
    CHECK_INT(waitpid(pid, NULL, 0), pid);
    CHECK(!proc_alive(pid));
    pid = proc_spawn(ARGV("sleep", "30"), NULL, err, sizeof err);
    CHECK(proc_alive(pid));
    CHECK(proc_alive(getpid()));
    CHECK(!proc_alive(0));
    CHECK(!proc_alive(-1));
    proc_stop(pid, SIGKILL, S(5));
}

TEST(children_lists_our_spawned_children)
{
    CHECK_INT(children(), 0);
    pid_t a = proc_spawn(ARGV("sleep", "30"), NULL, err, sizeof err);
    pid_t b = proc_spawn(ARGV("sleep", "30"), NULL, err, sizeof err);
    pid_t kids[8];
    int n = proc_children(getpid(), kids, 8);
    CHECK_INT(n, 2);
    int found = 0;
    for (int i = 0; i < n; i++)
        found += (kids[i] == a) + (kids[i] == b) * 2;
    CHECK_INT(found, 3);
    CHECK_INT(proc_children(getpid(), kids, 1), 1); /* at most max */
    proc_stop(a, SIGKILL, S(5));
    proc_stop(b, SIGKILL, S(5));
    CHECK_INT(children(), 0);
}

TEST(rss_of_ourselves_grows_with_touched_memory)
{
    uint64_t before = 0, after = 0;
    CHECK_INT(proc_rss_kib(getpid(), &before), 0);
    CHECK(before > 0);
    size_t n = 64u << 20;
    char *p = malloc(n);
    memset(p, 1, n);
    CHECK_INT(proc_rss_kib(getpid(), &after), 0);
    CHECK(after >= before + 32 * 1024); /* at least half of the 64 MiB touched */
    free(p);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    CHECK_INT(proc_rss_kib(pid, &after), -1);
}

TEST(mem_of_ourselves_grows_with_mapped_and_touched_memory)
{
    proc_mem_t a, b;
    CHECK_INT(proc_mem(getpid(), &a), 0);
    CHECK(a.rss_bytes > 0 && a.vsz_bytes >= a.rss_bytes);
    size_t n = 64u << 20;
    char *p = malloc(n);
    memset(p, 1, n);
    CHECK_INT(proc_mem(getpid(), &b), 0);
    CHECK(b.vsz_bytes >= a.vsz_bytes + n);
    CHECK(b.rss_bytes >= a.rss_bytes + n / 2);
    free(p);
}

TEST(open_fds_counts_our_descriptors)
{
    int before = proc_open_fds(getpid());
    CHECK(before >= 3);
    int fd = open("/dev/null", O_RDONLY);
    CHECK_INT(proc_open_fds(getpid()), before + 1);
    close(fd);
    CHECK_INT(proc_open_fds(getpid()), before);
}

TEST(start_time_is_after_boot_and_before_now)
{
    /* This test's process began within the last minute: boot time plus its start ticks. */
    proc_stat_t st;
    CHECK_INT(proc_stat(getpid(), &st), 0);
    double boot = proc_boot_time_s();
    double now = (double)time(NULL);
    CHECK(boot > 1e9 && boot < now);
    double start = boot + proc_ticks_s(st.starttime);
    CHECK(start > now - 60 && start < now + 2);
}

TEST(tree_cpu_counts_ourselves_and_our_children)
{
    /* a child that has used CPU and waits; then the sum, read after the parts (all counters
     * only grow) */
    int p[2];
    CHECK_INT(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        burn_cpu(MS(100));
        (void)!write(p[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    CHECK_INT(read(p[0], &c, 1), 1);
    burn_cpu(MS(50));
    proc_stat_t own, kid;
    CHECK_INT(proc_stat(getpid(), &own), 0);
    CHECK_INT(proc_stat(pid, &kid), 0);
    double parts = proc_ticks_s(own.utime + own.stime + own.cutime + own.cstime + kid.utime +
                                kid.stime);
    CHECK(kid.utime + kid.stime > 0);
    CHECK(proc_tree_cpu_s(getpid()) >= parts);
    /* reaped, it still counts: as our children's time */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_INT(proc_stat(getpid(), &own), 0);
    CHECK(own.cutime + own.cstime >= kid.utime + kid.stime);
    CHECK(proc_tree_cpu_s(getpid()) >= parts);
    CHECK(proc_tree_cpu_s(pid) < 0); /* gone */
}

TEST(ticks_in_seconds)
{
    long hz = sysconf(_SC_CLK_TCK);
    CHECK(proc_ticks_s((uint64_t)hz * 3) == 3.0);
    CHECK(proc_ticks_s(0) == 0.0);
}

TEST(self_exe_is_this_test)
{
    char path[4096];
    proc_self_exe(path, sizeof path);
    size_t n = strlen(path);
    CHECK(path[0] == '/');
    CHECK(n >= 10 && strcmp(path + n - 10, "/test_proc") == 0);
    char small[4];
    proc_self_exe(small, sizeof small);
    CHECK_INT(strlen(small), 3); /* cut, terminated */
}

TEST(listening_finds_the_process_that_listens_on_a_port)
{
    net_addr_t a4, a6;
    char why[128];
    CHECK_INT(net_resolve("127.0.0.1", 0, &a4, why, sizeof why), 0);
    int fd = net_listen(&a4, false, 4);
    CHECK(fd >= 0);
    int port = net_local_port(fd);
    pid_t found[4];
    int unreadable = -1;
    CHECK_INT(proc_listening(port, found, 4, &unreadable), 1);
    CHECK_INT(found[0], getpid());
    CHECK(unreadable >= 0);
    /* A socket that is only connected, not listening, is nobody's listener. */
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_INT(connect(c, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    CHECK_INT(proc_listening(port, found, 4, NULL), 0);
    close(c);
    /* IPv6, where the machine has it. */
    if (net_resolve("::1", 0, &a6, why, sizeof why) == 0 && (fd = net_listen(&a6, false, 4)) >= 0) {
        port = net_local_port(fd);
        CHECK_INT(proc_listening(port, found, 4, NULL), 1);
        CHECK_INT(found[0], getpid());
        close(fd);
    }
}

T_MAIN(T(run_collects_stdout_and_stderr), T(run_keeps_the_tail_when_the_output_is_longer),
       T(run_returns_the_exit_code), T(run_signal_is_128_plus_its_number),
       T(run_timeout_is_minus_1_and_the_child_is_gone),
       T(run_without_collecting_returns_the_status), T(run_looks_a_bare_name_up_in_path),
       T(run_missing_program_is_minus_1_not_found),
       T(run_path_that_cannot_be_executed_exits_127_saying_so),
       T(spawn_stdin_is_dev_null_by_default), T(spawn_stdout_and_stderr_are_dev_null_by_default),
       T(spawn_inherit_keeps_our_descriptors), T(spawn_given_descriptors_become_the_childs),
       T(spawn_err_to_out_sends_stderr_where_stdout_goes),
       T(spawn_closes_every_descriptor_above_2), T(spawn_envp_replaces_the_environment),
       T(spawn_cwd_is_its_folder), T(spawn_cpus_pins_the_child),
       T(spawn_resets_ignored_signals_to_their_default),
       T(spawn_resets_handlers_and_the_signal_mask), T(spawn_session_makes_it_a_session_leader),
       T(spawn_deathsig_reaches_the_child_when_its_parent_ends),
       T(wait_with_timeout_0_is_0_while_it_runs), T(wait_gives_the_exit_code),
       T(wait_for_a_child_reaped_elsewhere_is_status_minus_1),
       T(listening_finds_the_process_that_listens_on_a_port),
       T(stop_of_a_process_that_dies_of_the_signal),
       T(stop_of_a_process_that_ignores_the_signal_kills_it), T(stat_of_ourselves),
       T(stat_cpu_time_grows_with_work), T(stat_of_a_name_with_spaces_and_parentheses),
       T(stat_of_no_process_is_minus_1),
       T(alive_for_a_running_child_not_for_a_zombie_or_a_reaped_one),
       T(children_lists_our_spawned_children), T(rss_of_ourselves_grows_with_touched_memory),
       T(mem_of_ourselves_grows_with_mapped_and_touched_memory),
       T(open_fds_counts_our_descriptors), T(start_time_is_after_boot_and_before_now),
       T(tree_cpu_counts_ourselves_and_our_children), T(ticks_in_seconds),
       T(self_exe_is_this_test))
