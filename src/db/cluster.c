/* The throwaway cluster (db_start): initdb into a new folder, our own configuration, a
 * postmaster pinned to the given CPUs, the sql schema loaded; killed and restarted on demand;
 * stopped and removed at the end. docs/POSTGRES.md. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/proc.h"
#include "db/internal.h"

#define PG_SERVER_USER "postgres"     /* Debian's package creates it */
#define PG_OWN_USER "sb-postgres"     /* created when there is no postgres user */
#define PG_SUPERUSER "postgres"       /* initdb -U: the cluster's superuser, socket only */
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

/* ---- files ------------------------------------------------------------------------------ */

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
        int rc = proc_run(argv, NULL, 30 * NS_PER_S, NULL, 0, err, errlen);
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
        if (owner <= 0 || owner == getpid() || proc_alive(owner))
            continue;
        snprintf(path, sizeof path, "%s/data/postmaster.pid", dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            n = read(fd, buf, sizeof buf - 1);
            close(fd);
            buf[n > 0 ? n : 0] = 0;
            postmaster = (pid_t)atoi(buf);
        }
        if (postmaster > 0 && proc_alive(postmaster))
            continue;
        db_rm_tree(dir);
    }
    closedir(d);
}


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
        db_trim(err);
        PQfinish(c);
        return NULL;
    }
    return c;
}


/* ---- the cluster ------------------------------------------------------------------------ */

static int write_config(const db_t *pg, char *err, size_t errlen)
{
    char path[128], conf[2048];
    snprintf(conf, sizeof conf,
             "# Written by stackbench (src/db/cluster.c) for a throwaway cluster: docs/POSTGRES.md.\n"
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
             "cluster_name = 'stackbench'\n"
             "# what each implementation asks of the database, statement by statement\n"
             "shared_preload_libraries = 'pg_stat_statements'\n"
             "pg_stat_statements.track = top\n"
             "pg_stat_statements.track_utility = on\n",
             pg->port, pg->dir);
    snprintf(path, sizeof path, "%s/data/postgresql.conf", pg->dir);
    if (write_file(pg, path, conf, err, errlen))
        return -1;
    snprintf(path, sizeof path, "%s/data/pg_hba.conf", pg->dir);
    return write_file(pg, path,
                      "# Written by stackbench (src/db/cluster.c). The socket's folder is open to the\n"
                      "# server's user and root only; over TCP only the role the services use.\n"
                      "# TYPE  DATABASE  USER   ADDRESS       METHOD\n"
                      "local   all       all                  trust\n"
                      "host    all       " PG_ROLE "  127.0.0.1/32  trust\n",
                      err, errlen);
}

/* Starts one of the server's programs (initdb, postgres) on our folder's data/: as the
 * server's user, in the folder, with pg_env, its output appended to (or replacing) log in the
 * folder. extra: its arguments after "-D DATA". The pid, or -1 with err. */
static pid_t spawn_program(db_t *pg, const char *program, const char *const *extra,
                           const char *log, bool append, proc_opts_t o, char *err, size_t errlen)
{
    char prog[512], data[128], logp[128];
    snprintf(prog, sizeof prog, "%s/%s", pg->bindir, program);
    snprintf(data, sizeof data, "%s/data", pg->dir);
    snprintf(logp, sizeof logp, "%s/%s", pg->dir, log);
    int fd = open(logp, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", logp, strerror(errno));
        return -1;
    }
    const char *argv[16] = {prog, "-D", data};
    for (int i = 0; extra[i] && i < 12; i++)
        argv[3 + i] = extra[i];
    o.as_user = pg->as_user;
    o.uid = pg->uid;
    o.gid = pg->gid;
    o.out = fd;
    o.err_to_out = true;
    o.cwd = pg->dir;
    o.envp = pg_env;
    pid_t pid = proc_spawn(argv, &o, err, errlen);
    close(fd);
    return pid;
}

static int run_initdb(db_t *pg, char *err, size_t errlen)
{
    /* --no-sync: the cluster is thrown away; what it holds survives any process crash (the
     * page cache does), and only initdb's own final flush is skipped, not the server's. */
    const char *const args[] = {"-U", PG_SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C",
                                "--no-sync", NULL};
    pid_t pid = spawn_program(pg, "initdb", args, "initdb.log", false,
                              (proc_opts_t){.deathsig = SIGKILL}, err, errlen);
    if (pid < 0)
        return -1;
    db_slot_set(pg, pid, SIGKILL);
    int code = -1;
    if (!proc_wait(pid, PG_INITDB_NS, &code)) {
        kill(pid, SIGKILL);
        proc_wait(pid, 5 * NS_PER_S, &code);
        code = -1;
    }
    db_slot_sync(pg);
    if (code != 0) {
        char logp[128], tail[512];
        snprintf(logp, sizeof logp, "%s/initdb.log", pg->dir);
        log_tail(logp, 0, tail, sizeof tail);
        snprintf(err, errlen, "initdb failed (%d): %s", code, tail);
        return -1;
    }
    return 0;
}

/* Starts the postmaster (not waiting for it). Its log: postgres.log, appended to. */
static int spawn_postmaster(db_t *pg, char *err, size_t errlen)
{
    /* PR_SET_PDEATHSIG: if we die without cleaning up (SIGKILL, a crash), SIGQUIT stops the
     * server at once (an immediate shutdown: its processes end, no checkpoint). Its own
     * session: a Ctrl-C on the terminal reaches us, not it, and we stop it in order. */
    const char *const none[] = {NULL};
    proc_opts_t o = {.cpus = pg->pinned ? &pg->cpus : NULL, .session = true,
                     .deathsig = SIGQUIT};
    pid_t pid = spawn_program(pg, "postgres", none, "postgres.log", true, o, err, errlen);
    if (pid < 0)
        return -1;
    pg->pid = pid;
    db_slot_sync(pg);
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
        if (proc_wait(pg->pid, 0, &code)) {
            pg->pid = 0;
            pg->exit_status = code;
            db_slot_sync(pg);
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
    if (!proc_wait(pg->pid, PG_FAST_STOP_NS, &code)) {
        kill(pg->pid, SIGQUIT);
        if (!proc_wait(pg->pid, 5 * NS_PER_S, &code)) {
            kill(pg->pid, SIGKILL);
            proc_wait(pg->pid, 5 * NS_PER_S, &code);
            code = -1;
        }
    }
    pg->exit_status = code;
    pg->pid = 0;
    db_slot_sync(pg);
}

static bool bind_failed(const char *why)
{
    return strstr(why, "could not bind") || strstr(why, "Address already in use") ||
           strstr(why, "could not create any TCP/IP sockets");
}

void db_cluster_teardown(db_t *pg)
{
    end_postmaster(pg);
    if (pg->dir[0])
        db_rm_tree(pg->dir);
    pg->dir[0] = 0;
}

int db_start(db_t *pg, const cpuset_t *cpus, char *err, size_t errlen)
{
    db_slot_absorb(pg);
    memset(pg, 0, sizeof *pg);
    pg->exit_status = -1;
    if (cpus && cpuset_count(cpus) > 0) {
        pg->cpus = *cpus;
        pg->pinned = true;
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
    db_slot_sync(pg);
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
    int rc = db_exec_sql(c, "CREATE ROLE " PG_ROLE " LOGIN CREATEDB", "CREATE ROLE", err, errlen);
    if (!rc)
        rc = db_exec_sql(c, "CREATE DATABASE " PG_DB " OWNER " PG_ROLE, "CREATE DATABASE", err,
                      errlen);
    PQfinish(c);
    /* pg_stat_statements in the workload's database, its reset allowed to the role that runs
     * the lab's own queries (db_work_reset). */
    if (!rc && (c = connect_socket(pg, PG_SUPERUSER, PG_DB, err, errlen))) {
        rc = db_exec_sql(c, "CREATE EXTENSION pg_stat_statements", "CREATE EXTENSION", err, errlen);
        if (!rc)
            rc = db_exec_sql(c, "GRANT EXECUTE ON FUNCTION pg_stat_statements_reset TO " PG_ROLE,
                             "GRANT", err, errlen);
        PQfinish(c);
    } else if (!rc) {
        rc = -1;
    }
    if (rc || !(c = connect_socket(pg, PG_ROLE, PG_DB, err, errlen)))
        goto fail;
    rc = db_load_schema(c, "sql", err, errlen);
    PQfinish(c);
    if (rc)
        goto fail;

    snprintf(pg->url, sizeof pg->url, "postgresql://" PG_ROLE "@127.0.0.1:%d/" PG_DB, pg->port);
    snprintf(pg->socket_url, sizeof pg->socket_url,
             "host=%s/sock port=%d user=" PG_ROLE " dbname=" PG_DB, pg->dir, pg->port);
    return 0;
fail:
    db_teardown(pg);
    return -1;
}

int db_kill(db_t *pg)
{
    db_slot_absorb(pg);
    if (pg->external || pg->pid <= 0)
        return -1;
    /* Stopped, it forks no new backend while we list its children. */
    kill(pg->pid, SIGSTOP);
    pid_t kids[512];
    int n = proc_children(pg->pid, kids, 512);
    for (int i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    kill(pg->pid, SIGKILL);
    int code;
    proc_wait(pg->pid, 10 * NS_PER_S, &code);
    pg->exit_status = code;
    pg->pid = 0;
    db_slot_sync(pg);
    /* Its children are someone else's to reap now: gone or zombies, they hold no shared
     * memory, which a new postmaster checks. */
    int64_t end = clock_now_ns() + 5 * NS_PER_S;
    for (int i = 0; i < n; i++)
        while (proc_alive(kids[i]) && clock_now_ns() < end)
            nap_ms(5);
    return 0;
}

int db_restart(db_t *pg, char *err, size_t errlen)
{
    db_slot_absorb(pg);
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

