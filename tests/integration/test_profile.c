/* test_profile: `stackbench profile` on real services under load. The C csv service, found by
 * its URL, spends its time in the csv parser (a function src/codec/csv.c defines is among the
 * top 10), its flamegraph.svg parses as XML (python3's xml.dom.minidom) and `go tool pprof
 * -top` reads its profile.pb.gz and finds the same function; the Go and Rust peers' stacks have
 * their symbols (a function of their own code, package main's or the stackbench_rust crate's,
 * among the top 10); `run --cpu-profile` keeps each cell's profile (results.json, its files,
 * its flame graph in report.html). Bad operands and a missing perf are clear errors.
 *
 * Needs perf (Debian's linux-perf) and the right to use it (root, or kernel.perf_event_paranoid
 * at most 1), python3, go, and the peers built (make -C peers): without them the tests fail,
 * saying which. Env: STACKBENCH, SB_ROOT. */
#define T_TIMEOUT 300 /* go tool pprof is built on its first use */

#include "t.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/proc.h"
#include "jsonq.h"
#include "tmarkup.h"
#include "tproc.h"

#define LOAD_S "8s"
#define PROFILE_S "3s"

static const char *root(void)
{
    const char *r = getenv("SB_ROOT");
    return r && *r ? r : ".";
}

/* The csv body the lab sends, in a file. */
static void csv_body(char *path, size_t n)
{
    snprintf(path, n, "/tmp/sb-test-profile-body-%d.csv", (int)getpid());
    const char *argv[] = {t_stackbench(), "gen", "csv", "--out", path, NULL};
    char out[1024];
    CHECK_INT(t_run(argv, out, sizeof out, 30000), 0);
}

/* Closed-loop load on the server's /csv for LOAD_S, in the background. */
static pid_t load_csv(const t_server_t *s, const char *body)
{
    char url[160];
    snprintf(url, sizeof url, "%s/csv", s->url);
    const char *argv[] = {t_stackbench(), "load", "-c", "4", "-t", "1", "-d", LOAD_S, "-m",
                          "POST", "-H", "Content-Type: text/csv", "--body-file", body, url, NULL};
    char err[256];
    pid_t pid = proc_spawn(argv, &(proc_opts_t){.out = PROC_INHERIT, .err = PROC_INHERIT}, err, sizeof err);
    if (pid < 0)
        fprintf(stderr, "    load: %s\n", err);
    return pid;
}

/* `stackbench profile TARGET --duration PROFILE_S --out DIR --json` into out; its status. */
static int profile(const char *target, const char *dir, char *out, size_t n)
{
    const char *argv[] = {t_stackbench(), "profile", target, "--duration", PROFILE_S, "--out",
                          dir, "--json", NULL};
    int st = t_run(argv, out, n, 240000);
    if (st != 0)
        fprintf(stderr, "    stackbench profile %s: status %d:\n%s\n", target, st, out);
    return st;
}

/* The JSON document in out (t_run gives stdout and stderr together: from the first '{'). */
static const char *json_of(const char *out, size_t *len)
{
    const char *j = strchr(out, '{');
    *len = j ? strlen(j) : 0;
    return j ? j : "";
}

/* Whether one of the top functions of the profile satisfies want(name, arg); prints the top
 * when none does. */
static bool top_has(const char *doc, size_t len, bool (*want)(const char *, const void *),
                    const void *arg)
{
    int n = jsonq_len(doc, len, "top");
    CHECK(n > 0 && n <= 10);
    double last = 101;
    bool found = false;
    for (int i = 0; i < n; i++) {
        char path[64], name[512];
        double pct;
        snprintf(path, sizeof path, "top.%d.function", i);
        CHECK(jsonq_str(doc, len, path, name, sizeof name));
        snprintf(path, sizeof path, "top.%d.self_pct", i);
        CHECK(jsonq_num(doc, len, path, &pct));
        CHECK(pct <= last); /* most first */
        last = pct;
        found |= want(name, arg);
    }
    if (!found)
        fprintf(stderr, "    not in the top: %.*s\n", (int)len, doc);
    return found;
}

/* A function defined in the C source text arg: a line that starts (column 0) with its
 * declaration, "... NAME(" not ending in ';'. */
static bool defined_in(const char *name, const void *arg)
{
    const char *src = arg;
    size_t nl = strlen(name);
    for (const char *at = src; (at = strstr(at, name)); at += nl) {
        if (at[nl] != '(' || at == src || (at[-1] != ' ' && at[-1] != '*'))
            continue;
        const char *bol = at;
        while (bol > src && bol[-1] != '\n')
            bol--;
        const char *eol = strchr(at, '\n');
        if (*bol != ' ' && *bol != '\t' && eol && eol[-1] != ';')
            return true;
    }
    return false;
}

static bool has_prefix(const char *name, const void *arg)
{
    return strncmp(name, arg, strlen(arg)) == 0;
}

static bool file_nonempty(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static void rm_rf(const char *dir)
{
    const char *argv[] = {"rm", "-rf", dir, NULL};
    char out[256];
    t_run(argv, out, sizeof out, 30000);
}

/* Profiles the server started from argv under the csv load; the JSON into out. */
static int profile_under_load(const char *const argv[], const char *dir, const char *by,
                              char *out, size_t n)
{
    char body[128];
    csv_body(body, sizeof body);
    t_server_t s;
    if (t_start(&s, argv) != 0) {
        fprintf(stderr, "    %s did not start\n", argv[0]);
        return -1;
    }
    pid_t load = load_csv(&s, body);
    struct timespec ts = {0, 500000000}; /* its connections open, the service busy */
    nanosleep(&ts, NULL);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)s.pid);
    int st = profile(strcmp(by, "url") == 0 ? s.url : pid, dir, out, n);
    if (load > 0)
        proc_stop(load, SIGINT, 15 * 1000000000LL);
    CHECK_INT(t_stop(&s, SIGTERM, 15000), 0);
    unlink(body);
    return st;
}

TEST(c_csv_service_spends_its_cpu_in_the_csv_parser)
{
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/sb-test-profile-c-%d", (int)getpid());
    const char *argv[] = {t_stackbench(), "serve", "csv", "--port", "0", "--workers", "1", NULL};
    static char out[65536];
    if (profile_under_load(argv, dir, "url", out, sizeof out) != 0) {
        t_failures++;
        rm_rf(dir);
        return;
    }
    size_t len;
    const char *doc = json_of(out, &len);
    double samples;
    /* How many depends on how much CPU the machine gave it: only that there are some. */
    CHECK(jsonq_num(doc, len, "samples", &samples) && samples > 10);
    if (samples <= 10)
        fprintf(stderr, "    %s\n", doc);
    char s[256];
    CHECK(jsonq_str(doc, len, "unwind", s, sizeof s) && !strcmp(s, "dwarf"));
    CHECK(jsonq_str(doc, len, "command", s, sizeof s) && !strcmp(s, "stackbench"));
    char src_path[512];
    snprintf(src_path, sizeof src_path, "%s/src/codec/csv.c", root());
    buf_t src = BUF_INIT;
    CHECK_INT(buf_read_file(&src, src_path), 0);
    CHECK(top_has(doc, len, defined_in, buf_start(&src)));

    char svg[300], pb[300], folded[300];
    CHECK(jsonq_str(doc, len, "files.flamegraph", svg, sizeof svg));
    CHECK(jsonq_str(doc, len, "files.pprof", pb, sizeof pb));
    CHECK(jsonq_str(doc, len, "files.folded", folded, sizeof folded));
    CHECK(file_nonempty(svg) && file_nonempty(pb) && file_nonempty(folded));

    /* The flame graph is XML, an <svg> with frames. */
    const char *py[] = {"python3", "-c",
                        "import sys, xml.dom.minidom as m\n"
                        "d = m.parse(sys.argv[1])\n"
                        "g = [e for e in d.getElementsByTagName('g') if e.getAttribute('data-frame')]\n"
                        "print(d.documentElement.tagName, len(g))\n",
                        svg, NULL};
    char pyout[4096];
    int st = t_run(py, pyout, sizeof pyout, 60000);
    CHECK_INT(st, 0);
    CHECK(strncmp(pyout, "svg ", 4) == 0 && atoi(pyout + 4) > 10);
    if (st != 0 || strncmp(pyout, "svg ", 4) != 0)
        fprintf(stderr, "    python3 xml.dom.minidom: %s\n", pyout);

    /* go tool pprof reads profile.pb.gz, and its top has a function of the csv parser too. */
    char go[4096];
    if (proc_which("go", go, sizeof go) && proc_which("/usr/local/go/bin/go", go, sizeof go)) {
        fprintf(stderr, "    go not found (PATH, /usr/local/go/bin): `go tool pprof` is needed\n");
        t_failures++;
    } else {
        const char *pp[] = {go, "tool", "pprof", "-top", "-nodecount=10", pb, NULL};
        static char ppout[65536];
        st = t_run(pp, ppout, sizeof ppout, 240000);
        CHECK_INT(st, 0);
        CHECK(strstr(ppout, "Type: cpu") != NULL);
        bool found = false;
        for (char *line = strtok(ppout, "\n"); line; line = strtok(NULL, "\n")) {
            char *name = strrchr(line, ' ');
            if (name && strchr(line, '%'))
                found |= defined_in(name + 1, buf_start(&src));
        }
        CHECK(found);
    }
    buf_free(&src);
    rm_rf(dir);
}

TEST(go_peer_stacks_have_its_own_functions)
{
    const char *go = t_peer("go/bin/stackbench-go");
    if (access(go, X_OK) != 0) {
        fprintf(stderr, "    %s missing: build the peers (make -C peers)\n", go);
        t_failures++;
        return;
    }
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/sb-test-profile-go-%d", (int)getpid());
    const char *argv[] = {go, "csv", "--port", "0", NULL};
    static char out[65536];
    if (profile_under_load(argv, dir, "pid", out, sizeof out) != 0) {
        t_failures++;
        rm_rf(dir);
        return;
    }
    size_t len;
    const char *doc = json_of(out, &len);
    char s[64];
    CHECK(jsonq_str(doc, len, "unwind", s, sizeof s) && !strcmp(s, "fp"));
    CHECK(top_has(doc, len, has_prefix, "main."));
    rm_rf(dir);
}

TEST(rust_peer_stacks_have_its_own_functions)
{
    const char *rust = t_peer("rust/target/release/stackbench-rust");
    if (access(rust, X_OK) != 0) {
        fprintf(stderr, "    %s missing: build the peers (make -C peers)\n", rust);
        t_failures++;
        return;
    }
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/sb-test-profile-rust-%d", (int)getpid());
    const char *argv[] = {rust, "csv", "--port", "0", NULL};
    static char out[65536];
    if (profile_under_load(argv, dir, "pid", out, sizeof out) != 0) {
        t_failures++;
        rm_rf(dir);
        return;
    }
    size_t len;
    const char *doc = json_of(out, &len);
    char s[64];
    CHECK(jsonq_str(doc, len, "unwind", s, sizeof s) && !strcmp(s, "dwarf"));
    CHECK(top_has(doc, len, has_prefix, "stackbench_rust::"));
    rm_rf(dir);
}

/* run --cpu-profile: the C csv cells profiled while measured, their top in results.json,
 * their files under profiles/, their flame graphs in report.html. */
TEST(run_with_cpu_profile_keeps_each_cells_profile)
{
    char dir[] = "/tmp/sb-test-profile-run-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    const char *argv[] = {t_stackbench(), "run", "--langs", "c", "--workloads", "csv",
                          "--duration", "2s", "--warmup", "500ms", "--connections", "4",
                          "--equal-load", "0", "--no-dev-metrics", "--cpu-profile", "--out", dir,
                          NULL};
    static char out[1 << 16];
    int rc = t_run(argv, out, sizeof out, 240000);
    if (rc != 0)
        fprintf(stderr, "%s\n", out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "profiles: ") != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/results.json", dir);
    buf_t j = BUF_INIT, src = BUF_INIT, page = BUF_INIT;
    CHECK_INT(buf_read_file(&j, path), 0);
    const char *doc = buf_start(&j);
    size_t len = buf_size(&j);
    snprintf(path, sizeof path, "%s/src/codec/csv.c", root());
    CHECK_INT(buf_read_file(&src, path), 0);
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK_INT(buf_read_file(&page, path), 0);
    int n = jsonq_len(doc, len, "cells");
    CHECK_INT(n, 2); /* tuned and idiomatic */
    for (int i = 0; i < n; i++) {
        char key[64], tier[32], pdir[200], unwind[16];
        bool ran = false;
        snprintf(key, sizeof key, "cells.%d.tier", i);
        CHECK(jsonq_str(doc, len, key, tier, sizeof tier));
        snprintf(key, sizeof key, "cells.%d.profile.ran", i);
        CHECK(jsonq_bool(doc, len, key, &ran) && ran);
        snprintf(key, sizeof key, "cells.%d.profile.unwind", i);
        CHECK(jsonq_str(doc, len, key, unwind, sizeof unwind) && !strcmp(unwind, "dwarf"));
        snprintf(key, sizeof key, "cells.%d.profile.dir", i);
        CHECK(jsonq_str(doc, len, key, pdir, sizeof pdir));
        char want[64];
        snprintf(want, sizeof want, "profiles/csv-c-%s", tier);
        CHECK_STR(pdir, want);
        static const char *const files[] = {"flamegraph.svg", "profile.pb.gz", "stacks.folded"};
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, pdir, files[k]);
            CHECK(file_nonempty(path));
        }
        snprintf(path, sizeof path, "%s/%s/perf.data", dir, pdir);
        CHECK(access(path, F_OK) != 0); /* folded, then removed */
        /* The tuned tier's time is in src/codec/csv.c (the idiomatic one's in libcsv). */
        if (!strcmp(tier, "tuned")) {
            char sub[64];
            snprintf(sub, sizeof sub, "cells.%d.profile", i);
            const char *pv;
            size_t pl;
            CHECK(jsonq_get(doc, len, sub, &pv, &pl));
            static char one[1 << 14];
            snprintf(one, sizeof one, "%.*s", (int)(pl < sizeof one - 1 ? pl : sizeof one - 1), pv);
            CHECK(top_has(one, strlen(one), defined_in, buf_start(&src)));
        }
        char chart[96];
        snprintf(chart, sizeof chart, "data-chart=\"flame-csv-c-%s\"", tier);
        CHECK(strstr(buf_start(&page), chart) != NULL);
    }
    CHECK(strstr(buf_start(&page), "<section id=\"profiles\">") != NULL);
    char why[256];
    int elements = t_markup_check(buf_start(&page), why, sizeof why);
    CHECK(elements > 0);
    if (elements <= 0)
        fprintf(stderr, "    report.html: %s\n", why);
    buf_free(&j);
    buf_free(&src);
    buf_free(&page);
    rm_rf(dir);
}

TEST(bad_operands_and_nobody_listening_are_clear_errors)
{
    char out[4096];
    const char *bad[] = {t_stackbench(), "profile", "nginx", NULL};
    CHECK_INT(t_run(bad, out, sizeof out, 10000), 2);
    CHECK(strstr(out, "stackbench profile: 'nginx' is neither a PID nor an http://HOST:PORT URL"));
    const char *none[] = {t_stackbench(), "profile", NULL};
    CHECK_INT(t_run(none, out, sizeof out, 10000), 2);
    CHECK(strstr(out, "missing PID or URL"));
    /* A port nobody listens on: one that was free a moment ago. */
    const char *nobody[] = {t_stackbench(), "profile", "http://127.0.0.1:1", NULL};
    CHECK_INT(t_run(nobody, out, sizeof out, 10000), 1);
    CHECK(strstr(out, "nothing listens on port 1 here"));
    const char *gone[] = {t_stackbench(), "profile", "4194300", NULL};
    CHECK_INT(t_run(gone, out, sizeof out, 10000), 1);
    CHECK(strstr(out, "no process 4194300"));
    const char *far[] = {t_stackbench(), "profile", "http://example.com:80", NULL};
    CHECK_INT(t_run(far, out, sizeof out, 10000), 1);
    CHECK(strstr(out, "example.com is not this machine"));
}

TEST(without_perf_it_says_what_to_install)
{
    /* This very test process as the target, and a PATH without perf. */
    char pid[16], out[4096], err[256];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    char *envp[] = {"PATH=/nonexistent", NULL};
    const char *argv[] = {t_stackbench(), "profile", pid, "--out", "/tmp/sb-test-profile-none",
                          "-d", "1s", NULL};
    proc_opts_t o = {.envp = envp};
    int st = proc_run(argv, &o, 30 * 1000000000LL, out, sizeof out, err, sizeof err);
    CHECK_INT(st, 1);
    CHECK(strstr(out, "stackbench profile: perf not found on PATH (Debian's linux-perf") != NULL);
    if (!strstr(out, "perf not found"))
        fprintf(stderr, "    %s\n", out);
    rm_rf("/tmp/sb-test-profile-none");
    /* run --cpu-profile says so before measuring anything. */
    const char *run[] = {t_stackbench(), "run", "--cpu-profile", "--workloads", "echo", "--langs",
                         "c", "--out", "/tmp/sb-test-profile-none", NULL};
    st = proc_run(run, &o, 30 * 1000000000LL, out, sizeof out, err, sizeof err);
    CHECK_INT(st, 2);
    CHECK(strstr(out, "stackbench run: --cpu-profile: perf not found on PATH") != NULL);
    CHECK(access("/tmp/sb-test-profile-none", F_OK) != 0);
}

/* Not root, and kernel.perf_event_paranoid above 1: said, with the way out. Run as nobody
 * (when we are root and the machine's setting is above 1; else there is nothing to see). */
TEST(paranoid_kernel_says_what_to_change)
{
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
    int level = -9;
    if (f) {
        if (fscanf(f, "%d", &level) != 1)
            level = -9;
        fclose(f);
    }
    if (geteuid() != 0 || level <= 1) {
        printf("skip paranoid_kernel_says_what_to_change: needs root and "
               "kernel.perf_event_paranoid > 1 (here: uid %d, paranoid %d)\n", (int)geteuid(),
               level);
        return;
    }
    char out[4096], err[256];
    const char *argv[] = {t_stackbench(), "profile", "1", "--out", "/tmp/sb-test-profile-nobody",
                          "-d", "1s", NULL};
    proc_opts_t o = {.as_user = true, .uid = 65534, .gid = 65534, .cwd = "/tmp"};
    int st = proc_run(argv, &o, 30 * 1000000000LL, out, sizeof out, err, sizeof err);
    CHECK_INT(st, 1);
    char want[160];
    snprintf(want, sizeof want, "stackbench profile: kernel.perf_event_paranoid is %d: profiling "
                                "another process needs at most 1", level);
    CHECK(strstr(out, want) != NULL);
    if (!strstr(out, want))
        fprintf(stderr, "    %s\n", out);
    rm_rf("/tmp/sb-test-profile-nobody");
}

T_MAIN(T(c_csv_service_spends_its_cpu_in_the_csv_parser), T(go_peer_stacks_have_its_own_functions),
       T(rust_peer_stacks_have_its_own_functions), T(run_with_cpu_profile_keeps_each_cells_profile),
       T(bad_operands_and_nobody_listening_are_clear_errors),
       T(without_perf_it_says_what_to_install), T(paranoid_kernel_says_what_to_change))
