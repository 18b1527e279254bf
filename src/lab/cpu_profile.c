/* cpu_profile: a profile's files, and `stackbench profile` (cpu_profile.h). */
#include "lab/cpu_profile.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec/jsonw.h"
#include "core/clock.h"
#include "core/fmt.h"
#include "core/log.h"
#include "core/opt.h"
#include "core/proc.h"
#include "http/url.h"
#include "report/flame.h"
#include "telemetry/pprof.h"

#define TOP_N 10

int cpu_profile_mkdir(const char *dir, char *err, size_t errlen)
{
    char p[4096];
    if (!*dir || snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        snprintf(err, errlen, "'%.200s': not a folder name", dir);
        return -1;
    }
    for (char *c = p + 1;; c++) {
        bool end = *c == 0;
        if (*c == '/' || end) {
            *c = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot make %s: %s", p, strerror(errno));
                return -1;
            }
            if (end)
                return 0;
            *c = '/';
        }
    }
}

int cpu_profile_write(const prof_t *p, const char *dir, const char *title, char *err,
                      size_t errlen)
{
    if (cpu_profile_mkdir(dir, err, errlen))
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/flamegraph.svg", dir);
    if (flame_write(p, title, path, err, errlen))
        return -1;
    snprintf(path, sizeof path, "%s/profile.pb.gz", dir);
    if (pprof_write(p, path, err, errlen))
        return -1;
    snprintf(path, sizeof path, "%s/stacks.folded", dir);
    if (prof_write_folded(p, path)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static bool loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") || !strcmp(host, "localhost") ||
           !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strncmp(host, "127.", 4);
}

int cpu_profile_target(const char *arg, pid_t *pid, char *err, size_t errlen)
{
    char *end;
    long n = strtol(arg, &end, 10);
    if (*arg && !*end) {
        if (n <= 0 || n > 4194304) {
            snprintf(err, errlen, "'%s' is not a process id", arg);
            return -1;
        }
        if (!proc_alive((pid_t)n)) {
            snprintf(err, errlen, "no process %ld", n);
            return -1;
        }
        *pid = (pid_t)n;
        return 0;
    }
    if (strncmp(arg, "http://", 7) != 0) {
        snprintf(err, errlen, "'%s' is neither a PID nor an http://HOST:PORT URL", arg);
        return -1;
    }
    http_url_t u;
    if (http_url_parse(arg, &u, err, errlen))
        return -1;
    if (!loopback(u.host)) {
        snprintf(err, errlen, "%s is not this machine: only a local process can be profiled "
                              "(give its PID, or a 127.0.0.1 URL)", u.host);
        return -1;
    }
    pid_t found[16];
    int unreadable = 0;
    int k = proc_listening(u.port, found, 16, &unreadable);
    if (k < 0) {
        snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
        return -1;
    }
    if (k == 0) {
        if (unreadable)
            snprintf(err, errlen, "no process of ours listens on port %d (%d processes' "
                                  "descriptors could not be read: run as root, or give the PID)",
                     u.port, unreadable);
        else
            snprintf(err, errlen, "nothing listens on port %d here (in this network namespace)",
                     u.port);
        return -1;
    }
    /* Several holders: a parent that forked its workers, or programs sharing a port with
     * SO_REUSEPORT. The oldest is not necessarily the worker: ask. */
    if (k > 1) {
        char list[256] = "";
        size_t at = 0;
        for (int i = 0; i < k && at < sizeof list - 16; i++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%d", i ? ", " : "", (int)found[i]);
        snprintf(err, errlen, "%d processes listen on port %d (%s): give the PID of the one to "
                              "profile", k, u.port, list);
        return -1;
    }
    *pid = found[0];
    return 0;
}

/* ---- the command ---- */

static volatile sig_atomic_t interrupted;
static void on_int(int sig) { interrupted = sig; }

static void comm_of(pid_t pid, char *out, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    out[0] = 0;
    if (f) {
        if (fgets(out, (int)n, f))
            out[strcspn(out, "\n")] = 0;
        fclose(f);
    }
}

static int parse_unwind(const char *arg, void *dst, char *why, size_t whylen)
{
    int *u = dst;
    if (!strcmp(arg, "fp"))
        *u = PROF_UNWIND_FP;
    else if (!strcmp(arg, "dwarf"))
        *u = PROF_UNWIND_DWARF;
    else {
        snprintf(why, whylen, "expected fp or dwarf");
        return -1;
    }
    return 0;
}

static void print_json(pid_t pid, const char *comm, const char *target, const prof_t *p,
                       const prof_fn_t *top, int ntop, const char *dir)
{
    buf_t b = BUF_INIT;
    jsonw_t w;
    jsonw_init(&w, &b, true);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "target");
    jsonw_str(&w, target);
    jsonw_key(&w, "pid");
    jsonw_int(&w, pid);
    jsonw_key(&w, "command");
    jsonw_str(&w, comm);
    jsonw_key(&w, "unwind");
    jsonw_str(&w, prof_unwind_name(p->unwind));
    jsonw_key(&w, "duration_s");
    jsonw_double(&w, (double)p->duration_ns / NS_PER_S, 3);
    jsonw_key(&w, "hz");
    jsonw_int(&w, PROF_HZ);
    jsonw_key(&w, "samples");
    jsonw_uint(&w, p->samples);
    jsonw_key(&w, "cpu_s");
    jsonw_double(&w, (double)p->samples * (double)p->period_ns / NS_PER_S, 3);
    jsonw_key(&w, "top");
    jsonw_arr_begin(&w);
    for (int i = 0; i < ntop; i++) {
        jsonw_obj_begin(&w);
        jsonw_key(&w, "function");
        jsonw_strn(&w, top[i].name, top[i].name_len);
        jsonw_key(&w, "self");
        jsonw_uint(&w, top[i].self);
        jsonw_key(&w, "self_pct");
        jsonw_double(&w, top[i].self_pct, 2);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    jsonw_key(&w, "files");
    jsonw_obj_begin(&w);
    static const char *const keys[3] = {"flamegraph", "pprof", "folded"},
                             *const names[3] = {"flamegraph.svg", "profile.pb.gz", "stacks.folded"};
    for (int i = 0; i < 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        jsonw_key(&w, keys[i]);
        jsonw_str(&w, path);
    }
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);
    buf_puts(&b, "\n");
    fwrite(buf_start(&b), 1, buf_size(&b), stdout);
    buf_free(&b);
}

static void print_text(pid_t pid, const char *comm, const prof_t *p, const prof_fn_t *top,
                       int ntop, const char *dir)
{
    char cpu[32], dur[32];
    fmt_duration(cpu, sizeof cpu, (double)p->samples * (double)p->period_ns);
    fmt_duration(dur, sizeof dur, (double)p->duration_ns);
    printf("pid %d (%s): %llu samples in %s, %s of CPU, %s stacks\n\n", (int)pid, comm,
           (unsigned long long)p->samples, dur, cpu, prof_unwind_name(p->unwind));
    printf("  self %%  function\n");
    for (int i = 0; i < ntop; i++)
        printf("  %6.2f  %.*s\n", top[i].self_pct,
               (int)(top[i].name_len < 160 ? top[i].name_len : 160), top[i].name);
    printf("\nwritten: %s/flamegraph.svg, %s/profile.pb.gz, %s/stacks.folded\n", dir, dir, dir);
}

int cmd_profile(int argc, char **argv)
{
    int64_t duration = 10 * NS_PER_S;
    const char *dir = "profile";
    bool json = false, keep = false;
    int unwind = -1;
    const opt_t opts[] = {
        {"duration", 'd', OPT_DURATION, &duration, "DUR", "how long to record (default 10s)",
         .min = 100 * NS_PER_MS, .max = 3600 * NS_PER_S},
        {"out", 'o', OPT_STR, &dir, "DIR",
         "where flamegraph.svg, profile.pb.gz and stacks.folded\ngo (default ./profile)"},
        {"call-graph", 0, OPT_FN, &unwind, "MODE",
         "fp (frame pointers) or dwarf; default: fp for a Go\nbinary, dwarf for any other",
         .fn = parse_unwind},
        {"keep-data", 0, OPT_BOOL, &keep, NULL, "keep perf.data in DIR (perf report reads it)"},
        {"json", 0, OPT_BOOL, &json, NULL, "the figures as JSON on stdout, for programs"},
        {0},
    };
    const opt_cmd_t cmd = {
        .name = "profile",
        .usage = "profile PID|URL [--duration DUR] [--out DIR] [--json]",
        .about =
            "Records where a running process spends its CPU, for a window, with Linux perf\n"
            "(the cpu-clock software event at 997 Hz, all its threads, their stacks), and\n"
            "writes a flame graph, a pprof profile and the folded stacks. PID is any process;\n"
            "URL (http://127.0.0.1:PORT) is the process listening on that port here. Prints\n"
            "the 10 functions with the most samples of their own.",
        .opts = opts,
        .more = "needs:\n"
                "  perf               Debian's linux-perf; as root, or with\n"
                "                     kernel.perf_event_paranoid at most 1\n"
                "\n"
                "Exit status: 0 when the profile was written, 1 when it could not be made,\n"
                "2 for bad flags or operands.\n"
                "\n"
                "example: stackbench profile http://127.0.0.1:8080 --duration 10s --out prof",
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first >= argc)
        opt_fail("profile", "missing PID or URL (see stackbench profile --help)");
    if (first + 1 < argc)
        opt_fail("profile", "unexpected argument '%s'", argv[first + 1]);
    const char *target = argv[first];
    if (strncmp(target, "http://", 7) && (!*target || strspn(target, "0123456789") != strlen(target)))
        opt_fail("profile", "'%s' is neither a PID nor an http://HOST:PORT URL", target);
    pid_t pid;
    char err[1024];
    if (cpu_profile_target(target, &pid, err, sizeof err)) {
        sb_warn("profile", "%s", err);
        return 1;
    }
    if (pid == getpid()) {
        sb_warn("profile", "%d is this process", (int)pid);
        return 1;
    }
    char comm[64];
    comm_of(pid, comm, sizeof comm);
    if (cpu_profile_mkdir(dir, err, sizeof err)) {
        sb_warn("profile", "%s", err);
        return 1;
    }
    char data[4200], log[4200];
    snprintf(data, sizeof data, "%s/perf.data", dir);
    snprintf(log, sizeof log, "%s/perf.log", dir);
    prof_unwind_t uw = unwind < 0 ? prof_unwind_for(pid) : (prof_unwind_t)unwind;
    prof_rec_t rec;
    if (prof_start(&rec, pid, uw, data, log, NULL, err, sizeof err)) {
        sb_warn("profile", "%s", err);
        return 1;
    }
    /* Ctrl-C ends the window early; what was recorded is still written. */
    struct sigaction sa = {.sa_handler = on_int};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool tty = isatty(STDERR_FILENO) && !json;
    int64_t t0 = clock_now_ns(), end = t0 + duration;
    while (!interrupted && proc_alive(pid)) {
        int64_t now = clock_now_ns();
        if (now >= end)
            break;
        if (tty)
            fprintf(stderr, "\r\033[K  recording pid %d (%s): %.0f of %.0f s…", (int)pid, comm,
                    (double)(now - t0) / NS_PER_S, (double)duration / NS_PER_S);
        int64_t step = end - now < 200 * NS_PER_MS ? end - now : 200 * NS_PER_MS;
        struct timespec ts = {step / NS_PER_S, step % NS_PER_S};
        nanosleep(&ts, NULL);
    }
    if (tty)
        fprintf(stderr, "\r\033[K  unwinding the stacks (perf script)…");
    prof_t p = {0};
    int rc = prof_stop(&rec, &p, keep, err, sizeof err);
    if (tty)
        fprintf(stderr, "\r\033[K");
    if (rc == 0) {
        unlink(log);
        char title[160];
        snprintf(title, sizeof title, "CPU of pid %d (%s)", (int)pid, comm);
        rc = cpu_profile_write(&p, dir, title, err, sizeof err);
    }
    if (rc) {
        sb_warn("profile", "%s", err);
        prof_free(&p);
        return 1;
    }
    prof_fn_t top[TOP_N];
    int ntop = prof_top(&p, top, TOP_N);
    if (json)
        print_json(pid, comm, target, &p, top, ntop, dir);
    else
        print_text(pid, comm, &p, top, ntop, dir);
    prof_free(&p);
    return 0;
}
