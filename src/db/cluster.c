#include "db/db.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/pq.h"

#define PG_TMP_PREFIX "/tmp/sb-pg-"
#define PG_SERVER_USER "postgres"     /* Debian's package creates it */
#define PG_OWN_USER "sb-postgres"     /* created when there is no postgres user */
#define PG_SUPERUSER "postgres"       /* initdb -U: the cluster's superuser, socket only */
#define PG_ROLE "bench"
#define PG_DB "stackbench"
#define PG_OWNER_FILE "stackbench.owner"
#define PG_READY_NS (30 * NS_PER_S)
#define PG_INITDB_NS (120 * NS_PER_S)
#define PG_FAST_STOP_NS (30 * NS_PER_S)
#define PG_START_TRIES 3

/* What the server programs see: nothing of our environment (PGDATA, PGPORT, LANG...), so the
 * cluster is the same whoever runs the lab. */
static char *const pg_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "LANG=C", NULL};

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * NS_PER_MS};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

/* ---- processes -------------------------------------------------------------------------- */

/* The state letter of /proc/PID/stat ('R', 'S', 'Z'...), or 0 when there is no such process;
 * *ppid gets its parent. Async-signal-safe (no stdio, no locale). */
static char proc_state(pid_t pid, pid_t *ppid)
{
    char path[32] = "/proc/", digits[16], buf[512];
    int nd = 0;
    for (unsigned v = (unsigned)pid; nd == 0 || v; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    size_t k = 6;
    while (nd)
        path[k++] = digits[--nd];
    memcpy(path + k, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return 0;
    if (ppid) {
        pid_t v = 0;
        for (const char *q = p + 4; *q >= '0' && *q <= '9'; q++)
            v = v * 10 + (*q - '0');
        *ppid = v;
    }
    return p[2];
}

/* A process that still runs (a zombie has released everything, shared memory included). */
static bool alive(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
        return false;
    char st = proc_state(pid, NULL);
    return st && st != 'Z' && st != 'X';
}

/* Waits up to timeout_ns for our child pid to end: 1 with its status in *code (exit code,
 * 128+signal, or -1 when it is unknown because something else reaped it), 0 while it runs.
 * Async-signal-safe: the interruption cleanup uses it. */
static int wait_exit(pid_t pid, int64_t timeout_ns, int *code)
{
    int64_t end = clock_now_ns() + timeout_ns;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            *code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
            return 1;
        }
        if (r < 0 && errno != EINTR && !(errno == ECHILD && alive(pid))) {
            *code = -1; /* ECHILD and gone: SIGCHLD ignored, or reaped elsewhere */
            return 1;
        }
        if (clock_now_ns() >= end)
            return 0;
        struct timespec ts = {0, 5 * NS_PER_MS};
        nanosleep(&ts, NULL);
    }
}

/* The children of parent, at most max of them. */
static int children_of(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)atoi(e->d_name), pp = 0;
        if (proc_state(pid, &pp) && pp == parent)
            out[n++] = pid;
    }
    closedir(d);
    return n;
}

typedef struct {
    bool as_user;                  /* drop to uid/gid: PostgreSQL refuses to run as root */
    uid_t uid;
    gid_t gid;
    const unsigned char *mask;     /* CPUs, 1024 entries; NULL: not pinned */
    int out_fd;                    /* its stdout and stderr; -1: /dev/null */
    const char *cwd;               /* NULL: ours */
    bool session;                  /* its own session: a Ctrl-C on our terminal is for us to handle */
    int deathsig;                  /* PR_SET_PDEATHSIG; 0: none */
    char *const *envp;             /* NULL: pg_env */
} spawn_t;

/* Starts argv[0] as our child. Between fork and exec only async-signal-safe calls: the lab has
 * threads, and the child has only a copy of the forking one. */
static pid_t spawn(const char *const argv[], const spawn_t *o, char *err, size_t errlen)
{
    cpu_set_t set;
    bool pin = false;
    CPU_ZERO(&set);
    for (int c = 0; o->mask && c < 1024 && c < CPU_SETSIZE; c++)
        if (o->mask[c]) {
            CPU_SET(c, &set);
            pin = true;
        }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid)
        return pid;
    /* Our handlers (the lab's, the cleanup's) mean nothing in the server, and an ignored
     * signal would stay ignored across exec. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (o->session)
        setsid();
    if (pin)
        sched_setaffinity(0, sizeof set, &set);
    int nul = open("/dev/null", O_RDWR);
    int out = o->out_fd >= 0 ? o->out_fd : nul;
    dup2(nul, 0);
    dup2(out, 1);
    dup2(out, 2);
    /* The lab's sockets and pipes are not the server's business (a pipe kept open here would
     * never see its end of file). */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
    static const char e_user[] = "stackbench: cannot switch to the server's user\n";
    static const char e_exec[] = "stackbench: cannot run the PostgreSQL program\n";
    if (o->as_user && (setgroups(1, &o->gid) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0)) {
        (void)!write(2, e_user, sizeof e_user - 1);
        _exit(126);
    }
    /* After setuid: a change of credentials clears the parent-death signal. And if the parent
     * died before prctl, nothing would ever send it: check. */
    if (o->deathsig) {
        prctl(PR_SET_PDEATHSIG, o->deathsig);
        if (getppid() != parent)
            _exit(1);
    }
    if (o->cwd && chdir(o->cwd) < 0)
        _exit(126);
    execve(argv[0], (char *const *)argv, o->envp ? o->envp : pg_env);
    (void)!write(2, e_exec, sizeof e_exec - 1);
    _exit(127);
}

/* Runs argv to its end (at most timeout_ns, then SIGKILL). Its exit status, or -1. */
static int run(const char *const argv[], const spawn_t *o, int64_t timeout_ns, char *err,
               size_t errlen)
{
    pid_t pid = spawn(argv, o, err, errlen);
    if (pid < 0)
        return -1;
    int code = -1;
    if (!wait_exit(pid, timeout_ns, &code)) {
        kill(pid, SIGKILL);
        wait_exit(pid, 5 * NS_PER_S, &code);
        snprintf(err, errlen, "%s did not finish in %lld s", argv[0],
                 (long long)(timeout_ns / NS_PER_S));
        return -1;
    }
    return code;
}

/* ---- files ------------------------------------------------------------------------------ */

struct dirent64_k {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Removes name (under dirfd) and everything below it. Async-signal-safe (open, getdents64,
 * unlinkat, close only; no malloc, no opendir), for the interruption cleanup. Entries are
 * removed while the folder is read, which may make the reading skip some: a folder is read
 * again from its start until it is empty. */
static int rm_at(int dirfd, const char *name, int depth)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if ((errno != EISDIR && errno != EPERM) || depth > 32)
        return -1;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    uint64_t buf[256];
    for (int pass = 0; pass < 8; pass++) {
        bool any = false;
        long n;
        lseek(fd, 0, SEEK_SET);
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct dirent64_k *d = (struct dirent64_k *)((char *)buf + off);
                off += d->d_reclen;
                if (d->d_name[0] == '.' &&
                    (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
                    continue;
                any = true;
                rm_at(fd, d->d_name, depth + 1);
            }
        }
        if (!any)
            break;
    }
    close(fd);
    return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes one of our temp folders; anything else is refused, whatever is in pg->dir. */
static int rm_tree(const char *dir)
{
    size_t plen = sizeof PG_TMP_PREFIX - 1;
    if (strncmp(dir, PG_TMP_PREFIX, plen) != 0 || strlen(dir) != plen + 6 ||
        strchr(dir + plen, '/'))
        return -1;
    return rm_at(AT_FDCWD, dir, 0);
}

/* The end of a log (from byte `from` on) as one line: its last lines joined with " / ". */
static void log_tail(const char *path, off_t from, char *out, size_t n)
{
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[1024];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t start = size - (off_t)(sizeof buf - 1);
    if (start < from)
        start = from;
    if (start < 0)
        start = 0;
    ssize_t got = size > start ? pread(fd, buf, (size_t)(size - start), start) : 0;
    close(fd);
    if (got <= 0)
        return;
    buf[got] = 0;
    char *p = buf;
    if (start > from) { /* began mid-line */
        char *nl = strchr(p, '\n');
        if (nl)
            p = nl + 1;
    }
    size_t w = 0;
    for (char *line = strtok(p, "\n"); line && w + 1 < n; line = strtok(NULL, "\n")) {
        int k = snprintf(out + w, n - w, "%s%s", w ? " / " : "", line);
        if (k < 0)
            break;
        w += (size_t)k;
    }
    if (w >= n)
        out[n - 1] = 0;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Writes a file the server reads, owned by the server's user. */
static int write_file(const db_t *pg, const char *path, const char *text, char *err,
                      size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    if (pg->as_user && fchown(fd, pg->uid, pg->gid) < 0)
        ok = false;
    if (close(fd) < 0 || !ok) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- cleanup on interruption ------------------------------------------------------------
 *
 * A signal handler may not call libpq, malloc or stdio, so what it needs is copied ahead of
 * time into static slots: the child to end and how, the folder to remove, and for db_use
 * a ready psql command line. Every public function brings its pg's slot up to date. A slot is
 * disarmed while it is rewritten, so the handler never reads half of it (it skips it instead:
 * the postmaster's death signal still stops the server). */

enum { SLOT_IDLE, SLOT_ARMED, SLOT_CLEANING, SLOT_DONE };
#define SLOTS 8

typedef struct {
    db_t *pg;          /* NULL: free */
    pid_t owner;           /* the process that registered: forked children leave pg alone */
    int state;
    pid_t pid;             /* the child to end: the postmaster, or initdb while it runs */
    int sig;
    char dir[64];
    char psql[300], url[1024], sql[200];
} slot_t;

static slot_t slots[SLOTS];
static struct sigaction old_actions[3];
static const int cleanup_signals[3] = {SIGINT, SIGTERM, SIGHUP};
static bool hooks_installed;

static slot_t *slot_of(const db_t *pg)
{
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].pg == pg && pg)
            return &slots[i];
    return NULL;
}

/* Copies what the cleanup needs; child/sig: the process to end and with what signal. */
static void slot_set(const db_t *pg, pid_t child, int sig)
{
    slot_t *s = slot_of(pg);
    if (!s || __atomic_load_n(&s->state, __ATOMIC_SEQ_CST) >= SLOT_CLEANING)
        return;
    __atomic_store_n(&s->state, SLOT_IDLE, __ATOMIC_SEQ_CST);
    s->pid = child;
    s->sig = sig;
    snprintf(s->dir, sizeof s->dir, "%s", pg->external ? "" : pg->dir);
    s->psql[0] = s->url[0] = s->sql[0] = 0;
    if (pg->external && pg->dbname[0] && pg->bindir[0]) {
        snprintf(s->psql, sizeof s->psql, "%s/psql", pg->bindir);
        snprintf(s->url, sizeof s->url, "%s", pg->admin_url);
        snprintf(s->sql, sizeof s->sql, "DROP DATABASE IF EXISTS \"%s\"%s", pg->dbname,
                 pg->server_version >= 130000 ? " WITH (FORCE)" : "");
    }
    if (s->pid > 0 || s->dir[0] || s->sql[0])
        __atomic_store_n(&s->state, SLOT_ARMED, __ATOMIC_SEQ_CST);
}

static void slot_sync(const db_t *pg)
{
    slot_set(pg, pg->pid, SIGQUIT);
}

/* When the cleanup already ran for pg (a signal whose earlier handler let the run go on),
 * pg forgets what no longer exists. */
static void slot_absorb(db_t *pg)
{
    slot_t *s = slot_of(pg);
    if (s && __atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == SLOT_DONE) {
        pg->pid = 0;
        pg->dir[0] = 0;
        pg->dbname[0] = 0;
        __atomic_store_n(&s->state, SLOT_IDLE, __ATOMIC_SEQ_CST);
    }
}

/* Runs psql with the slot's DROP DATABASE, at most 10 s. _Fork: fork is not async-signal-safe
 * (its atfork handlers may take locks); the child only execs. */
static void slot_drop(const slot_t *s)
{
    const char *argv[] = {s->psql, "-X", "-q", "-w", "-d", s->url, "-c", s->sql, NULL};
    extern char **environ;
    pid_t pid = _Fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0);
        dup2(nul, 1);
        execve(argv[0], (char *const *)argv, environ); /* its password may be in PG* vars */
        _exit(127);
    }
    int code;
    if (pid > 0 && !wait_exit(pid, 10 * NS_PER_S, &code)) {
        kill(pid, SIGKILL);
        wait_exit(pid, NS_PER_S, &code);
    }
}

/* Ends every registered server of this process and removes its folder. Async-signal-safe. */
static void cleanup_all(void)
{
    pid_t me = getpid();
    for (int i = 0; i < SLOTS; i++) {
        slot_t *s = &slots[i];
        int armed = SLOT_ARMED;
        if (!s->pg || s->owner != me ||
            !__atomic_compare_exchange_n(&s->state, &armed, SLOT_CLEANING, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            continue;
        if (s->pid > 0) {
            int code;
            kill(s->pid, s->sig);
            if (!wait_exit(s->pid, 10 * NS_PER_S, &code)) {
                kill(s->pid, SIGKILL);
                wait_exit(s->pid, 5 * NS_PER_S, &code);
            }
        }
        if (s->dir[0])
            rm_tree(s->dir);
        if (s->sql[0])
            slot_drop(s);
        __atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_SEQ_CST);
    }
}

static void on_signal(int sig, siginfo_t *info, void *ctx)
{
    int saved = errno;
    cleanup_all();
    for (int i = 0; i < 3; i++) {
        if (cleanup_signals[i] != sig)
            continue;
        struct sigaction *old = &old_actions[i];
        if (old->sa_flags & SA_SIGINFO) {
            old->sa_sigaction(sig, info, ctx);
        } else if (old->sa_handler == SIG_DFL) {
            /* The default action, so that whoever waits for us sees the signal: it is blocked
             * until this handler returns, then ends the process. */
            struct sigaction dfl;
            memset(&dfl, 0, sizeof dfl);
            dfl.sa_handler = SIG_DFL;
            sigaction(sig, &dfl, NULL);
            raise(sig);
        } else if (old->sa_handler != SIG_IGN) {
            old->sa_handler(sig);
        }
    }
    errno = saved;
}

static void at_exit(void)
{
    cleanup_all();
}

int db_cleanup_on_signals(db_t *pg)
{
    slot_t *s = slot_of(pg);
    for (int i = 0; !s && i < SLOTS; i++)
        if (!slots[i].pg)
            s = &slots[i];
    if (!s)
        return -1;
    s->owner = getpid();
    s->state = SLOT_IDLE;
    __atomic_store_n(&s->pg, pg, __ATOMIC_SEQ_CST);
    slot_sync(pg);
    if (!hooks_installed) {
        hooks_installed = true;
        atexit(at_exit);
        for (int i = 0; i < 3; i++) {
            sigaction(cleanup_signals[i], NULL, &old_actions[i]);
            if (!(old_actions[i].sa_flags & SA_SIGINFO) && old_actions[i].sa_handler == SIG_IGN)
                continue; /* nohup, or a caller that wants it ignored: so do we */
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = on_signal;
            sa.sa_flags = SA_SIGINFO | SA_RESTART;
            sigemptyset(&sa.sa_mask);
            for (int j = 0; j < 3; j++)
                sigaddset(&sa.sa_mask, cleanup_signals[j]);
            sigaction(cleanup_signals[i], &sa, NULL);
        }
    }
    return 0;
}

static void slot_release(const db_t *pg)
{
    slot_t *s = slot_of(pg);
    if (s) {
        __atomic_store_n(&s->state, SLOT_IDLE, __ATOMIC_SEQ_CST);
        __atomic_store_n(&s->pg, NULL, __ATOMIC_SEQ_CST);
    }
}

/* ---- finding things --------------------------------------------------------------------- */

static bool has_server(const char *dir)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/initdb", dir);
    snprintf(b, sizeof b, "%s/postgres", dir);
    return access(a, X_OK) == 0 && access(b, X_OK) == 0;
}

/* The newest dir/<prefix>N/bin with the server programs (N: 15, 16, 9.6...). */
static bool newest_versioned(const char *dir, const char *prefix, char *out, size_t n)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    long best = -1;
    struct dirent *e;
    size_t plen = strlen(prefix);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, plen) != 0)
            continue;
        char *end;
        const char *v = e->d_name + plen;
        long major = strtol(v, &end, 10), minor = 0;
        if (end == v)
            continue;
        if (*end == '.')
            minor = strtol(end + 1, &end, 10);
        if (*end)
            continue;
        char bin[512];
        snprintf(bin, sizeof bin, "%s/%s/bin", dir, e->d_name);
        if (major * 100 + minor > best && has_server(bin) && strlen(bin) < n) {
            best = major * 100 + minor;
            snprintf(out, n, "%s", bin);
        }
    }
    closedir(d);
    return best >= 0;
}

int db_bindir(char *out, size_t n, char *err, size_t errlen)
{
    const char *env = getenv("SB_PG_BIN");
    if (env && *env) {
        if (!has_server(env) || strlen(env) >= n) {
            snprintf(err, errlen, "SB_PG_BIN=%s has no initdb and postgres", env);
            return -1;
        }
        snprintf(out, n, "%s", env);
        return 0;
    }
    if (newest_versioned("/usr/lib/postgresql", "", out, n) ||
        newest_versioned("/usr", "pgsql-", out, n))
        return 0;
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t len = strcspn(p, ":");
        char dir[512];
        if (len && len < sizeof dir && len < n) {
            snprintf(dir, sizeof dir, "%.*s", (int)len, p);
            if (has_server(dir)) {
                snprintf(out, n, "%s", dir);
                return 0;
            }
        }
        p += len + (p[len] == ':');
    }
    snprintf(err, errlen,
             "PostgreSQL server programs (initdb, postgres) not found in /usr/lib/postgresql/*/bin, "
             "/usr/pgsql-*/bin or PATH: install postgresql, or set SB_PG_BIN");
    return -1;
}

/* As root, whom the server runs as: postgres, else our own system user (created once). */
static int server_user(db_t *pg, char *err, size_t errlen)
{
    if (geteuid() != 0)
        return 0;
    struct passwd *pw = getpwnam(PG_SERVER_USER);
    if (!pw)
        pw = getpwnam(PG_OWN_USER);
    if (!pw) {
        const char *argv[] = {"/usr/sbin/useradd", "--system", "--user-group", "--no-create-home",
                              "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                              PG_OWN_USER, NULL};
        spawn_t o = {.out_fd = -1};
        int rc = run(argv, &o, 30 * NS_PER_S, err, errlen);
        pw = getpwnam(PG_OWN_USER);
        if (!pw) {
            if (rc >= 0)
                snprintf(err, errlen,
                         "running as root and there is no %s user; useradd %s failed (%d)",
                         PG_SERVER_USER, PG_OWN_USER, rc);
            return -1;
        }
    }
    if (pw->pw_uid == 0) {
        snprintf(err, errlen, "user %s is root: PostgreSQL will not run as root", pw->pw_name);
        return -1;
    }
    pg->as_user = true;
    pg->uid = pw->pw_uid;
    pg->gid = pw->pw_gid;
    return 0;
}

/* A port for the server: free now, and below the ephemeral range. A port from bind(0) would be
 * in that range, where the kernel also picks the local ports of outgoing connections: while the
 * server is down (db_kill), a client reconnecting to it could get that very port as its own
 * (a TCP self-connect), and the restart could not bind. */
static int free_port(char *err, size_t errlen)
{
    int lo = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d", &lo) != 1)
            lo = 32768;
        fclose(f);
    }
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)clock_now_ns();
    for (int i = 0; i < 256; i++) {
        int port = 0;
        if (lo > 11024 && i < 255) {
            seed = seed * 1103515245u + 12345u;
            port = 10000 + (int)((seed >> 8) % (unsigned)(lo - 1 - 10000));
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        socklen_t al = sizeof a;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &al) == 0) {
            close(fd);
            return ntohs(a.sin_port);
        }
        close(fd);
    }
    snprintf(err, errlen, "no free port on 127.0.0.1: %s", strerror(errno));
    return -1;
}

/* Folders of earlier runs that ended without cleaning up (SIGKILL, a crash): their owner is
 * gone and so is their postmaster (its death signal stopped it). Each holds the owner's pid;
 * a folder without it is being created right now, and is left alone. */
static void sweep_stale(void)
{
    DIR *d = opendir("/tmp");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "sb-pg-", 6) != 0 || strlen(e->d_name) != 12)
            continue;
        char dir[300], path[400], buf[64];
        snprintf(dir, sizeof dir, "/tmp/%s", e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, PG_OWNER_FILE);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        pid_t owner = (pid_t)atoi(buf), postmaster = 0;
        if (owner <= 0 || owner == getpid() || alive(owner))
            continue;
        snprintf(path, sizeof path, "%s/data/postmaster.pid", dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            n = read(fd, buf, sizeof buf - 1);
            close(fd);
            buf[n > 0 ? n : 0] = 0;
            postmaster = (pid_t)atoi(buf);
        }
        if (postmaster > 0 && alive(postmaster))
            continue;
        rm_tree(dir);
    }
    closedir(d);
}

/* ---- libpq ------------------------------------------------------------------------------ */

/* Our cluster over its socket. */
static PGconn *connect_socket(const db_t *pg, const char *user, const char *db, char *err,
                              size_t errlen)
{
    char host[128], port[16];
    snprintf(host, sizeof host, "%s/sock", pg->dir);
    snprintf(port, sizeof port, "%d", pg->port);
    const char *const keys[] = {"host", "port", "user", "dbname", "connect_timeout", NULL};
    const char *const vals[] = {host, port, user, db, "10", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "connecting as %s to %s: %s", user, db, PQerrorMessage(c));
        trim(err);
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Any server by URL or key=value string; a connect_timeout of 10 s unless it has its own. */
static PGconn *connect_url(const char *url, char *err, size_t errlen)
{
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const vals[] = {"10", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "connecting to the database: %s", PQerrorMessage(c));
        trim(err);
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Runs sql (one statement or many); 0, or -1 with "what: server message". */
static int exec_sql(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return 0;
    }
    snprintf(err, errlen, "%s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    trim(err);
    PQclear(r);
    return -1;
}

static int load_schema(PGconn *c, const char *workload, char *err, size_t errlen)
{
    const char *schema = db_schema(workload);
    if (!schema) {
        snprintf(err, errlen, "no schema.sql for the %s workload", workload);
        return -1;
    }
    return exec_sql(c, schema, "loading contracts/sql/schema.sql", err, errlen);
}

/* ---- the cluster ------------------------------------------------------------------------ */

static int write_config(const db_t *pg, char *err, size_t errlen)
{
    char path[128], conf[2048];
    snprintf(conf, sizeof conf,
             "# Written by stackbench (src/lab/pg.c) for a throwaway cluster: docs/POSTGRES.md.\n"
             "# What is not set here is PostgreSQL's built-in default.\n"
             "listen_addresses = '127.0.0.1'\n"
             "port = %d\n"
             "unix_socket_directories = '%s/sock'\n"
             "max_connections = 200\n"
             "shared_buffers = 128MB\n"
             "# durability as shipped: the services pay for real commits\n"
             "fsync = on\n"
             "synchronous_commit = on\n"
             "full_page_writes = on\n"
             "ssl = off\n"
             "logging_collector = off\n"
             "log_destination = 'stderr'\n"
             "log_line_prefix = '%%m [%%p] '\n"
             "log_timezone = 'UTC'\n"
             "timezone = 'UTC'\n"
             "datestyle = 'iso, mdy'\n"
             "lc_messages = 'C'\n"
             "lc_monetary = 'C'\n"
             "lc_numeric = 'C'\n"
             "lc_time = 'C'\n"
             "default_text_search_config = 'pg_catalog.english'\n"
             "dynamic_shared_memory_type = posix\n"
             "cluster_name = 'stackbench'\n",
             pg->port, pg->dir);
    snprintf(path, sizeof path, "%s/data/postgresql.conf", pg->dir);
    if (write_file(pg, path, conf, err, errlen))
        return -1;
    snprintf(path, sizeof path, "%s/data/pg_hba.conf", pg->dir);
    return write_file(pg, path,
                      "# Written by stackbench (src/lab/pg.c). The socket's folder is open to the\n"
                      "# server's user and root only; over TCP only the role the services use.\n"
                      "# TYPE  DATABASE  USER   ADDRESS       METHOD\n"
                      "local   all       all                  trust\n"
                      "host    all       " PG_ROLE "  127.0.0.1/32  trust\n",
                      err, errlen);
}

static int run_initdb(db_t *pg, char *err, size_t errlen)
{
    char prog[512], data[128], logp[128];
    snprintf(prog, sizeof prog, "%s/initdb", pg->bindir);
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(logp, sizeof logp, "%s/initdb.log", pg->dir);
    int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", logp, strerror(errno));
        return -1;
    }
    /* --no-sync: the cluster is thrown away; what it holds survives any process crash (the
     * page cache does), and only initdb's own final flush is skipped, not the server's. */
    const char *argv[] = {prog, "-D", data, "-U", PG_SUPERUSER, "-A", "trust", "-E", "UTF8",
                          "--locale=C", "--no-sync", NULL};
    spawn_t o = {.as_user = pg->as_user, .uid = pg->uid, .gid = pg->gid, .out_fd = fd,
                 .cwd = pg->dir, .deathsig = SIGKILL};
    pid_t pid = spawn(argv, &o, err, errlen);
    close(fd);
    if (pid < 0)
        return -1;
    slot_set(pg, pid, SIGKILL);
    int code = -1;
    if (!wait_exit(pid, PG_INITDB_NS, &code)) {
        kill(pid, SIGKILL);
        wait_exit(pid, 5 * NS_PER_S, &code);
        code = -1;
    }
    slot_sync(pg);
    if (code != 0) {
        char tail[512];
        log_tail(logp, 0, tail, sizeof tail);
        snprintf(err, errlen, "initdb failed (%d): %s", code, tail);
        return -1;
    }
    return 0;
}

/* Starts the postmaster (not waiting for it). Its log: postgres.log, appended to. */
static int spawn_postmaster(db_t *pg, char *err, size_t errlen)
{
    char prog[512], data[128], logp[128];
    snprintf(prog, sizeof prog, "%s/postgres", pg->bindir);
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(logp, sizeof logp, "%s/postgres.log", pg->dir);
    int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", logp, strerror(errno));
        return -1;
    }
    const char *argv[] = {prog, "-D", data, NULL};
    /* PR_SET_PDEATHSIG: if we die without cleaning up (SIGKILL, a crash), SIGQUIT stops the
     * server at once (an immediate shutdown: its processes end, no checkpoint). Its own
     * session: a Ctrl-C on the terminal reaches us, not it, and we stop it in order. */
    spawn_t o = {.as_user = pg->as_user, .uid = pg->uid, .gid = pg->gid,
                 .mask = pg->pinned ? pg->cpus : NULL, .out_fd = fd, .cwd = pg->dir,
                 .session = true, .deathsig = SIGQUIT};
    pid_t pid = spawn(argv, &o, err, errlen);
    close(fd);
    if (pid < 0)
        return -1;
    pg->pid = pid;
    slot_sync(pg);
    return 0;
}

/* Waits until the server accepts connections. 0; 1 when the postmaster exited (pg->pid = 0);
 * -1 on time out. err: why, with the end of its log from log_from on. */
static int wait_ready(db_t *pg, off_t log_from, char *err, size_t errlen)
{
    char host[128], port[16], logp[128], tail[768];
    snprintf(host, sizeof host, "%s/sock", pg->dir);
    snprintf(port, sizeof port, "%d", pg->port);
    snprintf(logp, sizeof logp, "%s/postgres.log", pg->dir);
    const char *const keys[] = {"host", "port", "user", "dbname", "connect_timeout", NULL};
    const char *const vals[] = {host, port, PG_SUPERUSER, "postgres", "2", NULL};
    int64_t end = clock_now_ns() + PG_READY_NS;
    for (;;) {
        if (PQpingParams(keys, vals, 0) == PQPING_OK)
            return 0;
        int code;
        if (wait_exit(pg->pid, 0, &code)) {
            pg->pid = 0;
            pg->exit_status = code;
            slot_sync(pg);
            log_tail(logp, log_from, tail, sizeof tail);
            snprintf(err, errlen, "postgres exited (%d): %s", code, tail[0] ? tail : "no log");
            return 1;
        }
        if (clock_now_ns() >= end) {
            log_tail(logp, log_from, tail, sizeof tail);
            snprintf(err, errlen, "postgres not ready after %lld s: %s",
                     (long long)(PG_READY_NS / NS_PER_S), tail[0] ? tail : "no log");
            return -1;
        }
        nap_ms(20);
    }
}

/* Stops the postmaster: fast shutdown, then immediate, then SIGKILL. */
static void end_postmaster(db_t *pg)
{
    if (pg->pid <= 0)
        return;
    int code = -1;
    kill(pg->pid, SIGINT);
    if (!wait_exit(pg->pid, PG_FAST_STOP_NS, &code)) {
        kill(pg->pid, SIGQUIT);
        if (!wait_exit(pg->pid, 5 * NS_PER_S, &code)) {
            kill(pg->pid, SIGKILL);
            wait_exit(pg->pid, 5 * NS_PER_S, &code);
            code = -1;
        }
    }
    pg->exit_status = code;
    pg->pid = 0;
    slot_sync(pg);
}

static bool bind_failed(const char *why)
{
    return strstr(why, "could not bind") || strstr(why, "Address already in use") ||
           strstr(why, "could not create any TCP/IP sockets");
}

/* Everything pg holds goes (the slot stays registered). */
static void teardown(db_t *pg)
{
    if (pg->external) {
        if (pg->dbname[0]) {
            char err[512] = "";
            PGconn *c = connect_url(pg->admin_url, err, sizeof err);
            if (c) {
                char sql[200];
                /* WITH (FORCE) (PostgreSQL 13+): a service that still holds a connection
                 * would otherwise keep the database. */
                snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\"%s", pg->dbname,
                         PQserverVersion(c) >= 130000 ? " WITH (FORCE)" : "");
                exec_sql(c, sql, "DROP DATABASE", err, sizeof err);
                PQfinish(c);
            }
            if (err[0])
                fprintf(stderr, "stackbench: database %s was not dropped: %s\n", pg->dbname,
                        err);
        }
        pg->dbname[0] = 0;
        pg->external = false;
    } else {
        end_postmaster(pg);
        if (pg->dir[0])
            rm_tree(pg->dir);
        pg->dir[0] = 0;
    }
    pg->url[0] = pg->socket_url[0] = pg->admin_url[0] = 0;
    pg->port = 0;
    slot_sync(pg);
}

int db_start(db_t *pg, const unsigned char *cpus_mask, char *err, size_t errlen)
{
    slot_absorb(pg);
    memset(pg, 0, sizeof *pg);
    pg->exit_status = -1;
    if (cpus_mask) {
        for (int c = 0; c < 1024; c++)
            pg->pinned |= (pg->cpus[c] = cpus_mask[c]) != 0;
    }
    struct sigaction chld;
    if (sigaction(SIGCHLD, NULL, &chld) == 0 && !(chld.sa_flags & SA_SIGINFO) &&
        chld.sa_handler == SIG_IGN) {
        snprintf(err, errlen, "SIGCHLD is ignored, so whether initdb or postgres succeeded "
                              "cannot be known: leave it at its default");
        return -1;
    }
    if (db_bindir(pg->bindir, sizeof pg->bindir, err, errlen) ||
        server_user(pg, err, errlen))
        return -1;
    sweep_stale();

    snprintf(pg->dir, sizeof pg->dir, "%sXXXXXX", PG_TMP_PREFIX);
    if (!mkdtemp(pg->dir)) {
        snprintf(err, errlen, "mkdtemp %s: %s", pg->dir, strerror(errno));
        pg->dir[0] = 0;
        return -1;
    }
    slot_sync(pg);
    char path[128], owner[32];
    snprintf(path, sizeof path, "%s/%s", pg->dir, PG_OWNER_FILE);
    snprintf(owner, sizeof owner, "%d\n", (int)getpid());
    if (write_file(pg, path, owner, err, errlen))
        goto fail;
    snprintf(path, sizeof path, "%s/sock", pg->dir);
    if (mkdir(path, 0700) < 0 ||
        (pg->as_user && (chown(path, pg->uid, pg->gid) < 0 || chown(pg->dir, pg->uid, pg->gid) < 0))) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (run_initdb(pg, err, errlen))
        goto fail;

    snprintf(path, sizeof path, "%s/postgres.log", pg->dir);
    for (int attempt = 1;; attempt++) {
        if ((pg->port = free_port(err, errlen)) < 0 || write_config(pg, err, errlen))
            goto fail;
        off_t from = file_size(path);
        if (spawn_postmaster(pg, err, errlen))
            goto fail;
        int rc = wait_ready(pg, from, err, errlen);
        if (rc == 0)
            break;
        /* someone took the port between our check and the server's bind: another one */
        if (rc == 1 && bind_failed(err) && attempt < PG_START_TRIES)
            continue;
        goto fail;
    }

    PGconn *c = connect_socket(pg, PG_SUPERUSER, "postgres", err, errlen);
    if (!c)
        goto fail;
    int rc = exec_sql(c, "CREATE ROLE " PG_ROLE " LOGIN CREATEDB", "CREATE ROLE", err, errlen);
    if (!rc)
        rc = exec_sql(c, "CREATE DATABASE " PG_DB " OWNER " PG_ROLE, "CREATE DATABASE", err,
                      errlen);
    PQfinish(c);
    if (rc || !(c = connect_socket(pg, PG_ROLE, PG_DB, err, errlen)))
        goto fail;
    rc = load_schema(c, "sql", err, errlen);
    PQfinish(c);
    if (rc)
        goto fail;

    snprintf(pg->url, sizeof pg->url, "postgresql://" PG_ROLE "@127.0.0.1:%d/" PG_DB, pg->port);
    snprintf(pg->socket_url, sizeof pg->socket_url,
             "host=%s/sock port=%d user=" PG_ROLE " dbname=" PG_DB, pg->dir, pg->port);
    return 0;
fail:
    teardown(pg);
    return -1;
}

int db_kill(db_t *pg)
{
    slot_absorb(pg);
    if (pg->external || pg->pid <= 0)
        return -1;
    /* Stopped, it forks no new backend while we list its children. */
    kill(pg->pid, SIGSTOP);
    pid_t kids[512];
    int n = children_of(pg->pid, kids, 512);
    for (int i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    kill(pg->pid, SIGKILL);
    int code;
    wait_exit(pg->pid, 10 * NS_PER_S, &code);
    pg->exit_status = code;
    pg->pid = 0;
    slot_sync(pg);
    /* Its children are someone else's to reap now: gone or zombies, they hold no shared
     * memory, which a new postmaster checks. */
    int64_t end = clock_now_ns() + 5 * NS_PER_S;
    for (int i = 0; i < n; i++)
        while (alive(kids[i]) && clock_now_ns() < end)
            nap_ms(5);
    return 0;
}

int db_restart(db_t *pg, char *err, size_t errlen)
{
    slot_absorb(pg);
    if (pg->external || !pg->dir[0]) {
        snprintf(err, errlen, "no cluster of ours to restart");
        return -1;
    }
    end_postmaster(pg);
    char logp[128];
    snprintf(logp, sizeof logp, "%s/postgres.log", pg->dir);
    int64_t end = clock_now_ns() + PG_READY_NS;
    for (;;) {
        off_t from = file_size(logp);
        if (spawn_postmaster(pg, err, errlen))
            return -1;
        int rc = wait_ready(pg, from, err, errlen);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            end_postmaster(pg);
            return -1;
        }
        /* The port (same as before: the services know it) or the old shared memory may still
         * be held for a moment: try again until the deadline. */
        if (!(bind_failed(err) || strstr(err, "still in use")) || clock_now_ns() >= end)
            return -1;
        nap_ms(100);
    }
}

/* url with its database replaced by db. A URL keeps its scheme, user, password, hosts and
 * parameters; a key=value string gets dbname= at its end (the last value of a key wins, in
 * libpq, pgx and tokio-postgres alike). */
static int with_dbname(const char *url, const char *db, char *out, size_t n, char *err,
                       size_t errlen)
{
    int w;
    if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)) {
        const char *auth = strstr(url, "://") + 3;
        size_t alen = strcspn(auth, "/?");
        const char *query = strchr(auth + alen, '?');
        if (query && (strstr(query, "?dbname=") || strstr(query, "&dbname="))) {
            snprintf(err, errlen, "the URL names its database in a dbname= parameter: put it "
                                  "in the path instead");
            return -1;
        }
        w = snprintf(out, n, "%.*s/%s%s", (int)(auth + alen - url), url, db, query ? query : "");
    } else {
        w = snprintf(out, n, "%s%sdbname=%s", url, *url ? " " : "", db);
    }
    if (w < 0 || (size_t)w >= n) {
        snprintf(err, errlen, "the database URL is too long");
        return -1;
    }
    return 0;
}

int db_use(db_t *pg, const char *url, char *err, size_t errlen)
{
    static int counter;
    slot_absorb(pg);
    memset(pg, 0, sizeof *pg);
    pg->exit_status = -1;
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        snprintf(err, errlen, "bad database URL: %s", perr ? perr : "out of memory");
        trim(err);
        PQfreemem(perr);
        return -1;
    }
    PQconninfoFree(opts);
    if (strlen(url) >= sizeof pg->admin_url) {
        snprintf(err, errlen, "the database URL is too long");
        return -1;
    }
    char probe[sizeof pg->url];
    if (with_dbname(url, "stackbench_0000000000_0000000000", probe, sizeof probe, err, errlen))
        return -1;
    if (db_bindir(pg->bindir, sizeof pg->bindir, err, errlen))
        pg->bindir[0] = 0; /* psql for the interruption cleanup only: not required */
    PGconn *c = connect_url(url, err, errlen);
    if (!c)
        return -1;
    for (int tries = 0;; tries++) {
        char sql[128];
        snprintf(pg->dbname, sizeof pg->dbname, "stackbench_%d_%d", (int)getpid(), ++counter);
        snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", pg->dbname);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            PQclear(r);
            break;
        }
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool taken = state && !strcmp(state, "42P04"); /* duplicate_database: not ours */
        snprintf(err, errlen, "CREATE DATABASE %s: %s", pg->dbname,
                 r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        trim(err);
        PQclear(r);
        if (!taken || tries >= 100) {
            pg->dbname[0] = 0;
            PQfinish(c);
            return -1;
        }
    }
    const char *port = PQport(c);
    pg->port = port && *port ? atoi(port) : 5432;
    pg->server_version = PQserverVersion(c);
    PQfinish(c);
    pg->external = true;
    snprintf(pg->admin_url, sizeof pg->admin_url, "%s", url);
    with_dbname(url, pg->dbname, pg->url, sizeof pg->url, err, errlen);
    snprintf(pg->socket_url, sizeof pg->socket_url, "%s", pg->url);
    slot_sync(pg);

    c = connect_url(pg->url, err, errlen);
    int rc = -1;
    if (c && strcmp(PQdb(c), pg->dbname) != 0)
        snprintf(err, errlen, "connected to database %s, not %s", PQdb(c), pg->dbname);
    else if (c)
        rc = load_schema(c, "sql", err, errlen);
    PQfinish(c);
    if (rc)
        teardown(pg);
    return rc;
}

void db_stop(db_t *pg)
{
    slot_absorb(pg);
    teardown(pg);
    slot_release(pg);
}

int db_exec(const db_t *pg, const char *sql, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(pg->url);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to %s: %s", pg->url, PQerrorMessage(c));
        trim(err);
        PQfinish(c);
        return -1;
    }
    int rc = 0;
    for (const char *p = sql; rc == 0 && *p;) {
        size_t n = strcspn(p, ";");
        char stmt[1024];
        snprintf(stmt, sizeof stmt, "%.*s", (int)(n < sizeof stmt ? n : sizeof stmt - 1), p);
        if (stmt[strspn(stmt, " \n\t")])
            rc = exec_sql(c, stmt, stmt, err, errlen);
        p += n + (p[n] == ';');
    }
    PQfinish(c);
    return rc;
}
