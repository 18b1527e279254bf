/* The lab's PostgreSQL cleans up after an interruption too (db_cleanup_on_signals, db.h):
 * a registry of what to end and remove, kept ready for a signal handler, and the handler. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/proc.h"
#include "db/internal.h"

/* ---- removing a folder, async-signal-safe ---- */

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

/* Anything but one of our temp folders is refused, whatever is in pg->dir. */
int db_rm_tree(const char *dir)
{
    size_t plen = sizeof PG_TMP_PREFIX - 1;
    if (strncmp(dir, PG_TMP_PREFIX, plen) != 0 || strlen(dir) != plen + 6 ||
        strchr(dir + plen, '/'))
        return -1;
    return rm_at(AT_FDCWD, dir, 0);
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
void db_slot_set(const db_t *pg, pid_t child, int sig)
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

void db_slot_sync(const db_t *pg)
{
    db_slot_set(pg, pg->pid, SIGQUIT);
}

void db_slot_absorb(db_t *pg)
{
    slot_t *s = slot_of(pg);
    if (s && __atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == SLOT_DONE) {
        pg->pid = 0;
        pg->dir[0] = 0;
        pg->dbname[0] = 0;
        __atomic_store_n(&s->state, SLOT_IDLE, __ATOMIC_SEQ_CST);
    }
}

/* Runs psql with the slot's DROP DATABASE, at most 10 s, in our environment (its password may
 * be in PG* variables). proc_spawn is async-signal-safe. */
static void slot_drop(const slot_t *s)
{
    const char *argv[] = {s->psql, "-X", "-q", "-w", "-d", s->url, "-c", s->sql, NULL};
    proc_opts_t o = {.err = PROC_INHERIT};
    pid_t pid = proc_spawn(argv, &o, NULL, 0);
    int code;
    if (pid > 0 && !proc_wait(pid, 10 * NS_PER_S, &code))
        proc_stop(pid, SIGKILL, NS_PER_S);
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
        if (s->pid > 0)
            proc_stop(s->pid, s->sig, 10 * NS_PER_S);
        if (s->dir[0])
            db_rm_tree(s->dir);
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
    db_slot_sync(pg);
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

void db_slot_release(const db_t *pg)
{
    slot_t *s = slot_of(pg);
    if (s) {
        __atomic_store_n(&s->state, SLOT_IDLE, __ATOMIC_SEQ_CST);
        __atomic_store_n(&s->pg, NULL, __ATOMIC_SEQ_CST);
    }
}

