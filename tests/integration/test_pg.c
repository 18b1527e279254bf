/* The lab's PostgreSQL (src/db/db.h) against a real server: a fresh cluster with the sql
 * schema, a crash and restart that keep committed data, an interrupted or killed run that
 * leaves no server and no folder behind, and an existing server where only the databases we
 * created are dropped. */
#include "t.h"

#include "core/pq.h"
#include "core/proc.h"

#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "db/db.h"

static char err[1024];

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* How many running processes work in dir (every PostgreSQL process sits in its data folder). */
static int cluster_processes(const char *dir)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], cwd[512];
        snprintf(path, sizeof path, "/proc/%s/cwd", e->d_name);
        ssize_t len = readlink(path, cwd, sizeof cwd - 1);
        if (len <= 0)
            continue;
        cwd[len] = 0;
        if (!strncmp(cwd, dir, strlen(dir)) && proc_alive(atoi(e->d_name)))
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static void wait_gone(pid_t pid, int ms)
{
    for (int i = 0; i < ms / 10 && proc_alive(pid); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

/* The first column of the first row of sql as text into out; false on any error. */
static bool query(const char *conninfo, const char *sql, char *out, size_t n)
{
    PGconn *c = PQconnectdb(conninfo);
    bool ok = false;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "    connect %s: %s", conninfo, PQerrorMessage(c));
    } else {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) >= 1) {
            snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
            ok = true;
        } else if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            snprintf(out, n, "%s", PQcmdStatus(r));
            ok = true;
        } else {
            fprintf(stderr, "    %s: %s", sql, PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    PQfinish(c);
    if (!ok)
        snprintf(out, n, "(error)");
    return ok;
}

static long long query_int(const char *conninfo, const char *sql)
{
    char v[64];
    return query(conninfo, sql, v, sizeof v) ? atoll(v) : -1;
}

static const char *query_str(const char *conninfo, const char *sql)
{
    static char v[4][256];
    static int k;
    char *out = v[k++ % 4];
    query(conninfo, sql, out, sizeof v[0]);
    return out;
}

static bool start(db_t *pg, const cpuset_t *cpus)
{
    memset(pg, 0, sizeof *pg);
    int rc = db_start(pg, cpus, err, sizeof err);
    if (rc)
        fprintf(stderr, "    db_start: %s\n", err);
    CHECK_INT(rc, 0);
    return rc == 0;
}

TEST(starts_loads_schema_and_stops_cleanly)
{
    /* pinned to the last CPU we may use */
    cpuset_t own, last;
    cpuset_allowed(&own);
    int cpus[CPUSET_MAX];
    int n = cpuset_list(&own, cpus, CPUSET_MAX);
    cpuset_clear(&last);
    cpuset_add(&last, cpus[n - 1]);
    db_t pg;
    if (!start(&pg, &last))
        return;
    char want[128];
    snprintf(want, sizeof want, "postgresql://bench@127.0.0.1:%d/stackbench", pg.port);
    CHECK_STR(pg.url, want);
    snprintf(want, sizeof want, "host=%s/sock port=%d user=bench dbname=stackbench", pg.dir,
             pg.port);
    CHECK_STR(pg.socket_url, want);
    CHECK(pg.port > 0 && pg.port < 65536);

    /* the contract's data, over TCP and over the socket */
    CHECK_INT(query_int(pg.url, "SELECT count(*) FROM accounts"), 10000);
    CHECK_INT(query_int(pg.url, "SELECT count(*) FROM accounts WHERE balance = 1000000"), 10000);
    CHECK_INT(query_int(pg.url, "SELECT min(id) * 100000 + max(id) FROM accounts"), 110000);
    CHECK_STR(query_str(pg.url, "SELECT name FROM accounts WHERE id = 42"), "account-42");
    CHECK_INT(query_int(pg.socket_url, "SELECT count(*) FROM orders"), 0);
    CHECK_STR(query_str(pg.socket_url, "SELECT current_user || '@' || current_database()"),
              "bench@stackbench");
    CHECK_STR(query_str(pg.url, "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"),
              "bench");
    CHECK_INT(query_int(pg.url, "SELECT count(*) FROM pg_indexes WHERE indexname = "
                                "'orders_account_id'"),
              1);
    CHECK_STR(query_str(pg.url, "SELECT rolsuper::text FROM pg_roles WHERE rolname = 'bench'"),
              "false");

    /* our settings */
    CHECK_STR(query_str(pg.url, "SHOW max_connections"), "200");
    CHECK_STR(query_str(pg.url, "SHOW shared_buffers"), "128MB");
    CHECK_STR(query_str(pg.url, "SHOW fsync"), "on");
    CHECK_STR(query_str(pg.url, "SHOW synchronous_commit"), "on");
    CHECK_STR(query_str(pg.url, "SHOW listen_addresses"), "127.0.0.1");
    char sock[128];
    snprintf(sock, sizeof sock, "%s/sock", pg.dir);
    char admin[256]; /* the superuser, over the socket only */
    snprintf(admin, sizeof admin, "host=%s port=%d user=postgres dbname=postgres", sock, pg.port);
    CHECK_STR(query_str(admin, "SHOW unix_socket_directories"), sock);
    char tcp_admin[128];
    snprintf(tcp_admin, sizeof tcp_admin, "postgresql://postgres@127.0.0.1:%d/postgres", pg.port);
    CHECK(PQping(tcp_admin) == PQPING_OK); /* the server answers, */
    PGconn *refused = PQconnectdb(tcp_admin);
    CHECK(PQstatus(refused) != CONNECTION_OK); /* but not to the superuser over TCP */
    PQfinish(refused);
    char logp[128];
    snprintf(logp, sizeof logp, "%s/postgres.log", pg.dir);
    CHECK(exists(logp));

    /* the postmaster and a backend on the CPU we gave, not as root */
    cpu_set_t set;
    CHECK_INT(sched_getaffinity(pg.pid, sizeof set, &set), 0);
    CHECK_INT(CPU_COUNT(&set), 1);
    CHECK(CPU_ISSET(cpus[n - 1], &set));
    long long backend = query_int(pg.url, "SELECT pg_backend_pid()");
    CHECK(backend > 0);
    if (backend > 0 && sched_getaffinity((pid_t)backend, sizeof set, &set) == 0) {
        CHECK_INT(CPU_COUNT(&set), 1);
        CHECK(CPU_ISSET(cpus[n - 1], &set));
    }
    if (geteuid() == 0) {
        char proc[64];
        struct stat st;
        snprintf(proc, sizeof proc, "/proc/%d", (int)pg.pid);
        CHECK(stat(proc, &st) == 0 && st.st_uid != 0);
    }

    char dir[64];
    snprintf(dir, sizeof dir, "%s", pg.dir);
    pid_t pid = pg.pid;
    CHECK(cluster_processes(dir) >= 3); /* postmaster, checkpointer, ... */
    db_stop(&pg);
    CHECK_INT(pg.exit_status, 0); /* a fast shutdown, not a kill */
    CHECK_INT(pg.pid, 0);
    CHECK(!exists(dir));
    CHECK(!proc_alive(pid));
    CHECK_INT(cluster_processes(dir), 0);
    db_stop(&pg); /* twice is harmless */
}

TEST(survives_sigkill_and_restart)
{
    db_t pg;
    if (!start(&pg, NULL))
        return;
    int port = pg.port;
    char id[32] = "";
    CHECK(query(pg.url,
                "WITH o AS (INSERT INTO orders (account_id, amount) VALUES (9991, 7) RETURNING id) "
                "SELECT id FROM o",
                id, sizeof id));
    /* a connection that is open when the server dies */
    PGconn *held = PQconnectdb(pg.url);
    CHECK_INT(PQstatus(held), CONNECTION_OK);

    pid_t old = pg.pid;
    CHECK_INT(db_kill(&pg), 0);
    CHECK_INT(pg.pid, 0);
    CHECK_INT(pg.exit_status, 128 + SIGKILL);
    CHECK(!proc_alive(old));
    CHECK_INT(cluster_processes(pg.dir), 0);
    CHECK(PQping(pg.url) != PQPING_OK);
    PGresult *r = PQexec(held, "SELECT 1");
    CHECK(PQresultStatus(r) != PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(held);
    CHECK_INT(db_kill(&pg), -1); /* nothing to kill */

    int rc = db_restart(&pg, err, sizeof err);
    if (rc)
        fprintf(stderr, "    db_restart: %s\n", err);
    CHECK_INT(rc, 0);
    CHECK(pg.pid > 0 && pg.pid != old);
    CHECK_INT(pg.port, port);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT amount FROM orders WHERE id = %lld", atoll(id));
    CHECK_INT(query_int(pg.url, sql), 7);
    CHECK_INT(query_int(pg.socket_url, "SELECT count(*) FROM accounts"), 10000);

    /* restart of a running server: stopped, then started */
    old = pg.pid;
    CHECK_INT(db_restart(&pg, err, sizeof err), 0);
    CHECK(pg.pid != old);
    CHECK_INT(query_int(pg.url, "SELECT count(*) FROM orders"), 1);

    char dir[64];
    snprintf(dir, sizeof dir, "%s", pg.dir);
    db_stop(&pg);
    CHECK(!exists(dir));
    CHECK_INT(cluster_processes(dir), 0);
}

/* A child that starts a cluster (with the cleanup hooks when hooks) and reports "PID DIR" on
 * out, or with use_url creates a database there and reports "0 DBNAME"; then it waits for a
 * byte on in and calls exit(3). */
static pid_t cluster_child(bool hooks, const char *use_url, int *out_fd, int *in_fd)
{
    int up[2], down[2];
    if (pipe(up) < 0 || pipe(down) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(60);
        close(up[0]);
        close(down[1]);
        static db_t pg;
        if (hooks)
            db_cleanup_on_signals(&pg);
        if (use_url ? db_use(&pg, use_url, err, sizeof err)
                    : db_start(&pg, NULL, err, sizeof err)) {
            fprintf(stderr, "    child: %s\n", err);
            _exit(1);
        }
        dprintf(up[1], "%d %s\n", (int)pg.pid, use_url ? pg.dbname : pg.dir);
        char b;
        while (read(down[0], &b, 1) < 0) {
        }
        exit(3); /* not db_stop: the atexit hook must do it */
    }
    close(up[1]);
    close(down[0]);
    *out_fd = up[0];
    *in_fd = down[1];
    return pid;
}

/* Reads the child's "PID DIR" line. */
static bool child_report(int fd, pid_t *pm, char *dir, size_t n)
{
    char line[256];
    size_t len = 0;
    while (len < sizeof line - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 30000) <= 0)
            return false;
        ssize_t k = read(fd, line + len, 1);
        if (k <= 0)
            return false;
        if (line[len++] == '\n')
            break;
    }
    line[len] = 0;
    int pid = 0;
    char d[128];
    if (sscanf(line, "%d %127s", &pid, d) != 2)
        return false;
    *pm = pid;
    snprintf(dir, n, "%s", d);
    return true;
}

static bool has_database(const char *url, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_database WHERE datname = '%s'", name);
    return query_int(url, sql) == 1;
}

TEST(interrupted_run_removes_the_cluster)
{
    int out, in;
    pid_t child = cluster_child(true, NULL, &out, &in);
    pid_t pm = 0;
    char dir[128];
    CHECK(child > 0);
    bool up = child > 0 && child_report(out, &pm, dir, sizeof dir);
    CHECK(up);
    if (up) {
        CHECK(exists(dir));
        CHECK(proc_alive(pm));
    }
    kill(child, SIGTERM);
    int st = 0;
    waitpid(child, &st, 0);
    /* the signal's own default action ended it, after the cleanup */
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    if (up) {
        CHECK(!exists(dir));
        CHECK(!proc_alive(pm));
        CHECK_INT(cluster_processes(dir), 0);
    }
    close(out);
    close(in);
}

TEST(exit_without_stop_removes_the_cluster)
{
    int out, in;
    pid_t child = cluster_child(true, NULL, &out, &in);
    pid_t pm = 0;
    char dir[128];
    bool up = child > 0 && child_report(out, &pm, dir, sizeof dir);
    CHECK(up);
    CHECK_INT(write(in, "x", 1), 1);
    int st = 0;
    waitpid(child, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    if (up) {
        CHECK(!exists(dir));
        CHECK(!proc_alive(pm));
        CHECK_INT(cluster_processes(dir), 0);
    }
    close(out);
    close(in);
}

TEST(interrupted_run_drops_its_database)
{
    db_t pg;
    if (!start(&pg, NULL))
        return;
    int out, in;
    pid_t child = cluster_child(true, pg.url, &out, &in), none;
    char db[128];
    bool up = child > 0 && child_report(out, &none, db, sizeof db);
    CHECK(up);
    if (up)
        CHECK(has_database(pg.url, db));
    char conninfo[1200];
    snprintf(conninfo, sizeof conninfo, "%s dbname=%s", pg.socket_url, db);
    PGconn *held = up ? PQconnectdb(conninfo) : NULL; /* a service still connected */
    CHECK(!up || PQstatus(held) == CONNECTION_OK);
    kill(child, SIGINT);
    int st = 0;
    waitpid(child, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
    PQfinish(held);
    if (up) {
        CHECK(!has_database(pg.url, db));
        CHECK(has_database(pg.url, "stackbench"));
    }
    close(out);
    close(in);
    db_stop(&pg);
}

TEST(killed_run_stops_the_server_and_the_next_start_sweeps_its_folder)
{
    int out, in;
    pid_t child = cluster_child(false, NULL, &out, &in);
    pid_t pm = 0;
    char dir[128];
    bool up = child > 0 && child_report(out, &pm, dir, sizeof dir);
    CHECK(up);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(out);
    close(in);
    if (!up)
        return;
    /* the parent-death signal stops the server: nobody is left to remove the folder */
    wait_gone(pm, 10000);
    CHECK(!proc_alive(pm));
    for (int i = 0; i < 500 && cluster_processes(dir); i++)
        wait_gone(pm, 10);
    CHECK_INT(cluster_processes(dir), 0);
    CHECK(exists(dir));
    /* until the next start, which removes what dead runs left */
    db_t pg;
    if (!start(&pg, NULL))
        return;
    CHECK(!exists(dir));
    db_stop(&pg);
}


TEST(use_existing_server_drops_only_its_database)
{
    db_t pg;
    if (!start(&pg, NULL))
        return;
    db_t a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    int rc = db_use(&a, pg.url, err, sizeof err);
    if (rc)
        fprintf(stderr, "    db_use: %s\n", err);
    CHECK_INT(rc, 0);
    CHECK_INT(db_use(&b, pg.url, err, sizeof err), 0);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "stackbench_%d_", (int)getpid());
    CHECK(!strncmp(a.dbname, prefix, strlen(prefix)));
    CHECK(!strncmp(b.dbname, prefix, strlen(prefix)));
    CHECK(strcmp(a.dbname, b.dbname) != 0);
    char want[1200];
    snprintf(want, sizeof want, "postgresql://bench@127.0.0.1:%d/%s", pg.port, b.dbname);
    CHECK_STR(b.url, want);
    CHECK_INT(b.port, pg.port);
    CHECK_INT(query_int(a.url, "SELECT count(*) FROM accounts"), 10000);
    CHECK_INT(query_int(b.url, "SELECT count(*) FROM orders"), 0);
    CHECK_STR(query_str(b.url, "SELECT current_user || '@' || current_database()"),
              (snprintf(want, sizeof want, "bench@%s", b.dbname), want));
    CHECK(has_database(pg.url, a.dbname));
    CHECK(has_database(pg.url, b.dbname));

    /* a key=value string with options of its own keeps them */
    char kv[1100];
    snprintf(kv, sizeof kv, "%s application_name=sbtest", pg.socket_url);
    CHECK_INT(db_use(&c, kv, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s dbname=%s", kv, c.dbname);
    CHECK_STR(c.url, want);
    CHECK_STR(query_str(c.url, "SELECT current_setting('application_name') || '@' || "
                               "current_database()"),
              (snprintf(want, sizeof want, "sbtest@%s", c.dbname), want));

    /* a service still connected to b does not keep it */
    PGconn *held = PQconnectdb(b.url);
    CHECK_INT(PQstatus(held), CONNECTION_OK);
    char bname[64];
    snprintf(bname, sizeof bname, "%s", b.dbname);
    db_stop(&b);
    PQfinish(held);
    CHECK(!has_database(pg.url, bname));
    CHECK(has_database(pg.url, a.dbname));
    CHECK(has_database(pg.url, "stackbench"));
    CHECK_INT(query_int(pg.url, "SELECT count(*) FROM accounts"), 10000);
    CHECK(proc_alive(pg.pid)); /* the server is not ours to stop in this mode */

    /* a URL with parameters keeps them */
    db_t d;
    memset(&d, 0, sizeof d);
    char url[256];
    snprintf(url, sizeof url, "postgresql://bench@127.0.0.1:%d/stackbench?connect_timeout=5",
             pg.port);
    CHECK_INT(db_use(&d, url, err, sizeof err), 0);
    snprintf(want, sizeof want, "postgresql://bench@127.0.0.1:%d/%s?connect_timeout=5", pg.port,
             d.dbname);
    CHECK_STR(d.url, want);
    CHECK_INT(query_int(d.url, "SELECT count(*) FROM accounts"), 10000);

    /* what it cannot use is an error, and nothing is created */
    db_t e;
    memset(&e, 0, sizeof e);
    CHECK_INT(db_use(&e, "postgresql://bench@127.0.0.1:1/x", err, sizeof err), -1);
    CHECK(strstr(err, "connecting") != NULL);
    CHECK_INT(db_use(&e, "host='unterminated", err, sizeof err), -1);

    char aname[64], cname[64], dname[64];
    snprintf(aname, sizeof aname, "%s", a.dbname);
    snprintf(cname, sizeof cname, "%s", c.dbname);
    snprintf(dname, sizeof dname, "%s", d.dbname);
    db_stop(&a);
    db_stop(&c);
    db_stop(&d);
    CHECK(!has_database(pg.url, aname));
    CHECK(!has_database(pg.url, cname));
    CHECK(!has_database(pg.url, dname));
    CHECK(has_database(pg.url, "stackbench"));
    CHECK_INT(query_int(pg.url, "SELECT count(*) FROM pg_database WHERE datname LIKE "
                                "'stackbench%'"),
              1);
    db_stop(&pg);
}

TEST(schema_is_embedded)
{
    const char *s = db_schema("sql");
    CHECK(s != NULL);
    CHECK(s && strstr(s, "CREATE TABLE accounts") != NULL);
    CHECK(db_schema("echo") == NULL);
    CHECK(db_schema(NULL) == NULL);
}

T_MAIN(T(schema_is_embedded), T(starts_loads_schema_and_stops_cleanly),
       T(survives_sigkill_and_restart), T(interrupted_run_removes_the_cluster),
       T(exit_without_stop_removes_the_cluster), T(interrupted_run_drops_its_database),
       T(killed_run_stops_the_server_and_the_next_start_sweeps_its_folder),
       T(use_existing_server_drops_only_its_database))
