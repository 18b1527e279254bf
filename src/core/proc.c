#include "core/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

extern char **environ;

int proc_which(const char *argv0, char *out, size_t n)
{
    if (strchr(argv0, '/')) {
        if (strlen(argv0) >= n)
            return -1;
        memcpy(out, argv0, strlen(argv0) + 1);
        return 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path && *path ? path : "/usr/bin:/bin"; *p;) {
        size_t len = strcspn(p, ":");
        int w = snprintf(out, n, "%.*s/%s", (int)len, len ? p : ".", argv0);
        if (w > 0 && (size_t)w < n && access(out, X_OK) == 0)
            return 0;
        p += len + (p[len] == ':');
    }
    return -1;
}

/* write(2) of a C string: the only way to speak between fork and exec. */
static void say(int fd, const char *s)
{
    (void)!write(fd, s, strlen(s));
}

/* The child's standard descriptor for `want` (0: /dev/null, PROC_INHERIT: ours). */
static int std_fd(int want, int ours, int devnull)
{
    return want == 0 ? devnull : want == PROC_INHERIT ? ours : want;
}

pid_t proc_spawn(const char *const argv[], const proc_opts_t *o, char *err, size_t errlen)
{
    static const proc_opts_t none;
    if (!o)
        o = &none;
    char path[4096];
    if (!argv || !argv[0] || proc_which(argv[0], path, sizeof path) != 0) {
        snprintf(err, errlen, "cannot run %s: not found", argv && argv[0] ? argv[0] : "(null)");
        return -1;
    }
    char *const *envp = o->envp ? o->envp : environ;
    cpuset_t cpus;
    if (o->cpus)
        cpus = *o->cpus;
    pid_t parent = getpid();
    /* _Fork, not fork: fork runs the atfork handlers, which may take locks another thread
     * holds; the child here needs none of what they would reset. */
    pid_t pid = _Fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid > 0)
        return pid;

    /* The child: async-signal-safe calls only. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    if (o->session)
        setsid();
    if (o->cpus)
        sched_setaffinity(0, sizeof cpus.set, &cpus.set);
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    int in = std_fd(o->in, 0, nul), out = std_fd(o->out, 1, nul);
    int er = o->err_to_out ? out : std_fd(o->err, 2, nul);
    /* Move the ones that are to become 0, 1, 2 out of that range first, so that one dup2
     * cannot overwrite the source of the next. */
    int fds[3] = {in, out, er};
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0 && fds[i] <= 2 && fds[i] != i)
            fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0 && fds[i] != i)
            dup2(fds[i], i);
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
    if (o->as_user && (setgroups(1, &o->gid) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0)) {
        say(2, "stackbench: cannot switch to the user of ");
        say(2, argv[0]);
        say(2, "\n");
        _exit(126);
    }
    /* After setuid: a change of credentials clears the parent-death signal. If the parent
     * died before prctl, nothing would ever send it: check. */
    if (o->deathsig) {
        prctl(PR_SET_PDEATHSIG, o->deathsig);
        if (getppid() != parent)
            _exit(126);
    }
    if (o->cwd && chdir(o->cwd) < 0) {
        say(2, "stackbench: cannot enter ");
        say(2, o->cwd);
        say(2, "\n");
        _exit(126);
    }
    execve(path, (char *const *)argv, envp);
    say(2, "stackbench: cannot run ");
    say(2, path);
    say(2, "\n");
    _exit(127);
}

static void nap_ns(int64_t ns)
{
    struct timespec ts = {ns / NS_PER_S, ns % NS_PER_S};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int proc_wait(pid_t pid, int64_t timeout_ns, int *status)
{
    int64_t end = timeout_ns < 0 ? INT64_MAX : clock_now_ns() + timeout_ns;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, timeout_ns < 0 ? 0 : WNOHANG);
        if (r == pid) {
            *status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
            return 1;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && !(errno == ECHILD && proc_alive(pid))) {
            *status = -1; /* ECHILD and gone: SIGCHLD ignored, or reaped elsewhere */
            return 1;
        }
        if (clock_now_ns() >= end)
            return 0;
        nap_ns(5 * NS_PER_MS);
    }
}

int proc_stop(pid_t pid, int sig, int64_t timeout_ns)
{
    int st = -1;
    kill(pid, sig);
    if (proc_wait(pid, timeout_ns, &st))
        return st;
    kill(pid, SIGKILL);
    proc_wait(pid, 5 * NS_PER_S, &st);
    return -1;
}

/* Appends n bytes to out[0..*len), keeping the last cap - 1 bytes. */
static void keep_tail(char *out, size_t cap, size_t *len, const char *p, size_t n)
{
    if (n >= cap - 1) {
        memcpy(out, p + n - (cap - 1), cap - 1);
        *len = cap - 1;
        return;
    }
    if (*len + n > cap - 1) {
        size_t drop = *len + n - (cap - 1);
        memmove(out, out + drop, *len - drop);
        *len -= drop;
    }
    memcpy(out + *len, p, n);
    *len += n;
}

int proc_run(const char *const argv[], const proc_opts_t *o, int64_t timeout_ns, char *out,
             size_t outlen, char *err, size_t errlen)
{
    proc_opts_t opts = o ? *o : (proc_opts_t){0};
    int fds[2] = {-1, -1};
    if (out && outlen) {
        out[0] = 0;
        if (pipe2(fds, O_CLOEXEC) < 0) {
            snprintf(err, errlen, "pipe: %s", strerror(errno));
            return -1;
        }
        opts.out = fds[1];
        opts.err_to_out = true;
    }
    pid_t pid = proc_spawn(argv, &opts, err, errlen);
    if (fds[1] >= 0)
        close(fds[1]);
    if (pid < 0) {
        if (fds[0] >= 0)
            close(fds[0]);
        return -1;
    }
    int64_t end = clock_now_ns() + timeout_ns;
    bool timed_out = false;
    if (fds[0] >= 0) {
        size_t len = 0;
        char tmp[4096];
        for (;;) {
            int64_t left = end - clock_now_ns();
            struct pollfd p = {.fd = fds[0], .events = POLLIN};
            if (left <= 0 || poll(&p, 1, (int)((left + NS_PER_MS - 1) / NS_PER_MS)) == 0) {
                timed_out = true;
                break;
            }
            ssize_t n = read(fds[0], tmp, sizeof tmp);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            keep_tail(out, outlen, &len, tmp, (size_t)n);
        }
        out[len] = 0;
        close(fds[0]);
    }
    int st = -1;
    int64_t left = end - clock_now_ns();
    if (timed_out || !proc_wait(pid, left > 0 ? left : 0, &st)) {
        kill(pid, SIGKILL);
        proc_wait(pid, 5 * NS_PER_S, &st);
        snprintf(err, errlen, "%s did not finish in %g s", argv[0], (double)timeout_ns / NS_PER_S);
        return -1;
    }
    return st;
}

/* ---- /proc ---- */

/* "/proc/<pid>/<leaf>" without stdio. */
static void proc_path(char *out, pid_t pid, const char *leaf)
{
    char digits[16];
    int nd = 0;
    for (unsigned v = (unsigned)pid; nd == 0 || v; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    memcpy(out, "/proc/", 6);
    size_t k = 6;
    while (nd)
        out[k++] = digits[--nd];
    out[k++] = '/';
    memcpy(out + k, leaf, strlen(leaf) + 1);
}

static ssize_t read_small(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, buf, n - 1);
    close(fd);
    if (r < 0)
        return -1;
    buf[r] = 0;
    return r;
}

static uint64_t parse_u64(const char **p)
{
    uint64_t v = 0;
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    return v;
}

int proc_stat(pid_t pid, proc_stat_t *st)
{
    char path[48], buf[1024];
    if (pid <= 0)
        return -1;
    proc_path(path, pid, "stat");
    if (read_small(path, buf, sizeof buf) <= 0)
        return -1;
    /* The command name may hold spaces and parentheses: the fields start after the last ')'.
     * Then: state(3) ppid(4) pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) cutime(16) cstime(17) priority nice num_threads(20) itrealvalue
     * starttime(22). */
    const char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return -1;
    st->state = p[2];
    p += 4;
    uint64_t f[23] = {0}; /* f[k] is field k; fields 4 to 22 are read */
    for (int k = 4; k <= 22; k++) {
        if (*p == '-') /* tty_nr and priority can be negative: not needed here */
            p++;
        f[k] = parse_u64(&p);
        if (k < 22 && *p++ != ' ')
            return -1;
    }
    st->threads = (long)f[20];
    st->ppid = (pid_t)f[4];
    st->utime = f[14];
    st->stime = f[15];
    st->cutime = f[16];
    st->cstime = f[17];
    st->starttime = f[22];
    return 0;
}

bool proc_alive(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
        return false;
    proc_stat_t st;
    return proc_stat(pid, &st) == 0 && st.state != 'Z' && st.state != 'X';
}

int proc_children(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; n < max && (e = readdir(d));) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        proc_stat_t st;
        if (proc_stat(pid, &st) == 0 && st.ppid == parent)
            out[n++] = pid;
    }
    closedir(d);
    return n;
}

int proc_rss_kib(pid_t pid, uint64_t *kib)
{
    char path[48], buf[256];
    proc_path(path, pid, "statm");
    if (read_small(path, buf, sizeof buf) <= 0)
        return -1;
    const char *p = buf;
    parse_u64(&p); /* size */
    if (*p++ != ' ')
        return -1;
    *kib = parse_u64(&p) * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
    return 0;
}

int proc_mem(pid_t pid, proc_mem_t *m)
{
    char path[48], buf[256];
    proc_path(path, pid, "statm");
    if (read_small(path, buf, sizeof buf) <= 0)
        return -1;
    const char *p = buf;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    m->vsz_bytes = parse_u64(&p) * page;
    if (*p++ != ' ')
        return -1;
    m->rss_bytes = parse_u64(&p) * page;
    return 0;
}

int proc_open_fds(pid_t pid)
{
    char path[48];
    proc_path(path, pid, "fd");
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return pid == getpid() ? n - 1 : n; /* reading our own: the folder read is one of them */
}

double proc_boot_time_s(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return -1;
    char line[256];
    double t = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0) {
            t = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return t;
}

double proc_ticks_s(uint64_t ticks)
{
    static long hz;
    if (!hz)
        hz = sysconf(_SC_CLK_TCK);
    return (double)ticks / (double)(hz > 0 ? hz : 100);
}

double proc_tree_cpu_s(pid_t pid)
{
    proc_stat_t st;
    if (proc_stat(pid, &st))
        return -1;
    uint64_t total = st.utime + st.stime + st.cutime + st.cstime;
    pid_t kids[1024];
    int n = proc_children(pid, kids, 1024);
    for (int i = 0; i < n; i++)
        if (proc_stat(kids[i], &st) == 0)
            total += st.utime + st.stime;
    return proc_ticks_s(total);
}

void proc_self_exe(char *out, size_t n)
{
    ssize_t r = readlink("/proc/self/exe", out, n - 1);
    out[r > 0 ? r : 0] = 0;
}

/* The inodes of the TCP sockets listening on port in /proc/net/FILE (tcp, tcp6). */
static int listen_inodes(const char *file, int port, unsigned long *out, int n, int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/net/%s", file);
    FILE *f = fopen(path, "re");
    if (!f)
        return n;
    char line[512];
    if (!fgets(line, sizeof line, f)) { /* the header */
        fclose(f);
        return n;
    }
    while (n < max && fgets(line, sizeof line, f)) {
        char local[128];
        unsigned lport, state;
        unsigned long inode;
        /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line, " %*s %127[0-9A-Fa-f:] %*s %x %*s %*s %*s %*u %*u %lu", local, &state,
                   &inode) != 3)
            continue;
        const char *colon = strrchr(local, ':');
        if (!colon || sscanf(colon + 1, "%x", &lport) != 1)
            continue;
        if ((int)lport == port && state == 0x0A /* TCP_LISTEN */ && inode)
            out[n++] = inode;
    }
    fclose(f);
    return n;
}

int proc_listening(int port, pid_t *out, int max, int *unreadable)
{
    unsigned long inodes[64];
    int ni = listen_inodes("tcp", port, inodes, 0, 64);
    ni = listen_inodes("tcp6", port, inodes, ni, 64);
    if (unreadable)
        *unreadable = 0;
    if (ni == 0)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char fdpath[64];
        snprintf(fdpath, sizeof fdpath, "/proc/%ld/fd", pid);
        DIR *fds = opendir(fdpath);
        if (!fds) {
            if (unreadable && errno == EACCES)
                (*unreadable)++;
            continue;
        }
        struct dirent *fe;
        bool found = false;
        while (!found && (fe = readdir(fds))) {
            char link[384], target[64];
            snprintf(link, sizeof link, "%s/%s", fdpath, fe->d_name);
            ssize_t r = readlink(link, target, sizeof target - 1);
            unsigned long ino;
            if (r <= 0)
                continue;
            target[r] = 0;
            if (sscanf(target, "socket:[%lu]", &ino) != 1)
                continue;
            for (int i = 0; i < ni && !found; i++)
                found = inodes[i] == ino;
        }
        closedir(fds);
        if (found)
            out[n++] = (pid_t)pid;
    }
    closedir(d);
    return n;
}
