/* profile: perf record and perf script, folded (profile.h). */
#include "telemetry/profile.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/proc.h"

#define PERF_STOP_NS (60 * NS_PER_S)   /* perf record writing what it has after SIGINT */
#define PERF_SCRIPT_NS (300 * NS_PER_S) /* perf script unwinding a window's DWARF samples */
#define PERF_START_NS (300 * NS_PER_MS) /* a perf that cannot attach has said so by then */
#define MAX_FRAMES 512

/* ---- folding ---- */

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The stacks seen so far, with an open-addressing index of them (slot: index + 1; 0 empty). */
typedef struct {
    prof_t *p;
    size_t *slots;
    size_t nslots;
} folder_t;

static int folder_grow(folder_t *f)
{
    size_t n = f->nslots ? f->nslots * 2 : 1024;
    size_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < f->p->n; i++) {
        const char *k = f->p->stacks[i].stack;
        size_t at = hash_str(k, strlen(k)) & (n - 1);
        while (s[at])
            at = (at + 1) & (n - 1);
        s[at] = i + 1;
    }
    free(f->slots);
    f->slots = s;
    f->nslots = n;
    return 0;
}

static int folder_add(folder_t *f, const char *stack, size_t len, uint64_t count)
{
    prof_t *p = f->p;
    if (memchr(stack, 0, len)) { /* a NUL would cut the stack short: as '?' */
        char *c = malloc(len ? len : 1);
        if (!c)
            return -1;
        for (size_t i = 0; i < len; i++)
            c[i] = stack[i] ? stack[i] : '?';
        int rc = folder_add(f, c, len, count);
        free(c);
        return rc;
    }
    if ((p->n + 1) * 2 > f->nslots && folder_grow(f))
        return -1;
    size_t at = hash_str(stack, len) & (f->nslots - 1);
    while (f->slots[at]) {
        prof_stack_t *s = &p->stacks[f->slots[at] - 1];
        if (strlen(s->stack) == len && memcmp(s->stack, stack, len) == 0) {
            s->count += count;
            p->samples += count;
            return 0;
        }
        at = (at + 1) & (f->nslots - 1);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        prof_stack_t *ns = realloc(p->stacks, cap * sizeof *ns);
        if (!ns)
            return -1;
        p->stacks = ns;
        p->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, stack, len);
    copy[len] = 0;
    p->stacks[p->n] = (prof_stack_t){copy, count};
    f->slots[at] = ++p->n;
    p->samples += count;
    return 0;
}

/* A frame of one sample, as perf wrote it. */
typedef struct {
    const char *sym, *dso;
    size_t sym_len, dso_len;
} frame_t;

static bool span_eq(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static void frame_name_raw(buf_t *b, const frame_t *fr);

/* The frame's name onto b: the symbol ("_[k]" after a kernel one), "[DSO]" when only the file
 * is known; ';' (the format's separator) as ':'. */

static void frame_name(buf_t *b, const frame_t *fr)
{
    size_t start = buf_size(b);
    frame_name_raw(b, fr);
    for (char *c = buf_start(b) + start; c < buf_end(b); c++)
        if (*c == ';')
            *c = ':';
}

static void frame_name_raw(buf_t *b, const frame_t *fr)
{
    bool unknown = fr->sym_len == 0 || span_eq(fr->sym, fr->sym_len, "[unknown]");
    if (unknown) {
        if (fr->dso_len == 0 || span_eq(fr->dso, fr->dso_len, "[unknown]")) {
            buf_puts(b, "[unknown]");
            return;
        }
        const char *base = fr->dso;
        for (size_t i = 0; i < fr->dso_len; i++)
            if (fr->dso[i] == '/')
                base = fr->dso + i + 1;
        size_t bl = (size_t)(fr->dso + fr->dso_len - base);
        if (bl && base[0] == '[' && base[bl - 1] == ']')
            buf_append(b, base, bl);
        else {
            buf_puts(b, "[");
            buf_append(b, base, bl);
            buf_puts(b, "]");
        }
        return;
    }
    buf_append(b, fr->sym, fr->sym_len);
    if (span_eq(fr->dso, fr->dso_len, "[kernel.kallsyms]"))
        buf_puts(b, "_[k]");
}

/* "ADDR SYM (DSO)" after its leading white space; false when it is not a frame line. */
static bool parse_frame(const char *s, size_t n, frame_t *fr)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t a = i;
    while (i < n && s[i] != ' ' && s[i] != '\t')
        i++;
    if (i == a)
        return false;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    *fr = (frame_t){0};
    /* The file is the last " (...)": a symbol may hold spaces and parentheses of its own. */
    size_t sym_end = n;
    if (n > i && s[n - 1] == ')') {
        for (size_t k = n - 1; k > i; k--)
            if (s[k] == '(' && (s[k - 1] == ' ' || s[k - 1] == '\t')) {
                fr->dso = s + k + 1;
                fr->dso_len = n - 1 - (k + 1);
                sym_end = k - 1;
                break;
            }
        if (!fr->dso && s[i] == '(') { /* no symbol at all: "ADDR (DSO)" */
            fr->dso = s + i + 1;
            fr->dso_len = n - 1 - (i + 1);
            sym_end = i;
        }
    }
    while (sym_end > i && (s[sym_end - 1] == ' ' || s[sym_end - 1] == '\t'))
        sym_end--;
    fr->sym = s + i;
    fr->sym_len = sym_end - i;
    return true;
}

static int fold_sample(folder_t *f, buf_t *scratch, const frame_t *frames, int n)
{
    buf_clear(scratch);
    if (n == 0)
        buf_puts(scratch, "[unknown]");
    for (int i = n - 1; i >= 0; i--) { /* perf gives the leaf first */
        frame_name(scratch, &frames[i]);
        if (i)
            buf_puts(scratch, ";");
    }
    return folder_add(f, buf_start(scratch), buf_size(scratch), 1);
}

static int cmp_stack(const void *a, const void *b)
{
    return strcmp(((const prof_stack_t *)a)->stack, ((const prof_stack_t *)b)->stack);
}

/* The next line of text[len] from *at (its end, '\n' excluded, in *n), *at moved past it;
 * false at the end. */
static bool next_line(const char *text, size_t len, size_t *at, const char **s, size_t *n)
{
    if (*at >= len)
        return false;
    const char *nl = memchr(text + *at, '\n', len - *at);
    size_t end = nl ? (size_t)(nl - text) : len;
    *s = text + *at;
    *n = end - *at;
    *at = end + 1;
    return true;
}

/* The folder's stacks are p's: its slots freed, the stacks sorted. */
static void folder_done(folder_t *f, prof_t *p, int rc)
{
    free(f->slots);
    if (rc == 0 && p->n)
        qsort(p->stacks, p->n, sizeof *p->stacks, cmp_stack);
}

int prof_fold(const char *text, size_t len, prof_t *p, char *err, size_t errlen)
{
    prof_free(p);
    p->period_ns = NS_PER_S / PROF_HZ;
    folder_t f = {.p = p};
    buf_t scratch = BUF_INIT;
    frame_t frames[MAX_FRAMES]; /* 16 KiB: pointers into text */
    int nframes = 0;
    bool in_sample = false;
    int rc = 0;
    size_t lineno = 0, at = 0, n;
    for (const char *s; rc == 0 && next_line(text, len, &at, &s, &n);) {
        lineno++;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
            k++;
        if (k == n) { /* a blank line ends a sample */
            if (in_sample)
                rc = fold_sample(&f, &scratch, frames, nframes);
            in_sample = false;
            nframes = 0;
            continue;
        }
        if (k == 0) { /* a header: a new sample (the last one may lack its blank line) */
            if (in_sample)
                rc = fold_sample(&f, &scratch, frames, nframes);
            in_sample = true;
            nframes = 0;
            continue;
        }
        if (!in_sample) {
            snprintf(err, errlen, "perf script line %zu: a frame before any sample's header",
                     lineno);
            rc = -1;
            break;
        }
        frame_t fr;
        if (parse_frame(s, n, &fr) && nframes < MAX_FRAMES)
            frames[nframes++] = fr;
    }
    if (rc == 0 && in_sample)
        rc = fold_sample(&f, &scratch, frames, nframes);
    if (rc != 0 && err[0] == 0)
        snprintf(err, errlen, "out of memory folding %zu stacks", p->n);
    buf_free(&scratch);
    folder_done(&f, p, rc);
    return rc;
}

void prof_free(prof_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->stacks[i].stack);
    free(p->stacks);
    memset(p, 0, sizeof *p);
}

/* ---- the top ---- */

static int cmp_name(const void *a, const void *b)
{
    const prof_fn_t *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int cmp_self(const void *a, const void *b)
{
    const prof_fn_t *x = a, *y = b;
    if (x->self != y->self)
        return x->self < y->self ? 1 : -1;
    return cmp_name(a, b);
}

int prof_top(const prof_t *p, prof_fn_t *out, int max)
{
    if (p->n == 0 || max <= 0)
        return 0;
    prof_fn_t *all = malloc(p->n * sizeof *all);
    if (!all)
        return 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *s = p->stacks[i].stack, *leaf = strrchr(s, ';');
        leaf = leaf ? leaf + 1 : s;
        all[i] = (prof_fn_t){leaf, strlen(leaf), p->stacks[i].count, 0};
    }
    qsort(all, p->n, sizeof *all, cmp_name);
    size_t m = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (m && cmp_name(&all[m - 1], &all[i]) == 0)
            all[m - 1].self += all[i].self;
        else
            all[m++] = all[i];
    }
    qsort(all, m, sizeof *all, cmp_self);
    int k = 0;
    for (; k < max && (size_t)k < m; k++) {
        out[k] = all[k];
        out[k].self_pct = p->samples ? 100.0 * (double)all[k].self / (double)p->samples : 0;
    }
    free(all);
    return k;
}

int prof_write_folded(const prof_t *p, const char *path)
{
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < p->n; i++)
        buf_printf(&b, "%s %llu\n", p->stacks[i].stack, (unsigned long long)p->stacks[i].count);
    int rc = buf_write_file(&b, path);
    buf_free(&b);
    return rc;
}

int prof_read_folded(const char *text, size_t len, prof_t *p, char *err, size_t errlen)
{
    prof_free(p);
    p->period_ns = NS_PER_S / PROF_HZ;
    folder_t f = {.p = p};
    int rc = 0;
    size_t lineno = 0, at = 0, n;
    for (const char *s; rc == 0 && next_line(text, len, &at, &s, &n);) {
        lineno++;
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' '))
            n--;
        if (n == 0)
            continue;
        size_t sp = n;
        while (sp && s[sp - 1] != ' ')
            sp--;
        uint64_t count = 0;
        bool digits = sp > 1 && sp < n;
        for (size_t i = sp; i < n && digits; i++) {
            digits = s[i] >= '0' && s[i] <= '9' && count < UINT64_MAX / 10;
            count = count * 10 + (uint64_t)(s[i] - '0');
        }
        if (!digits) {
            snprintf(err, errlen, "folded stacks line %zu: want STACK COUNT", lineno);
            rc = -1;
            break;
        }
        if (folder_add(&f, s, sp - 1, count)) {
            snprintf(err, errlen, "out of memory reading %zu stacks", p->n);
            rc = -1;
        }
    }
    folder_done(&f, p, rc);
    return rc;
}

/* ---- the binary ---- */

/* Whether the ELF file fd has a section named one of names. */
static bool elf_has_section(int fd, const char *const *names)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum || eh.e_shnum > 4096)
        return false;
    Elf64_Shdr *sh = calloc(eh.e_shnum, sizeof *sh);
    if (!sh)
        return false;
    bool found = false;
    size_t shlen = (size_t)eh.e_shnum * sizeof *sh;
    if (pread(fd, sh, shlen, (off_t)eh.e_shoff) == (ssize_t)shlen) {
        const Elf64_Shdr *strs = &sh[eh.e_shstrndx];
        size_t n = strs->sh_size < (1 << 20) ? strs->sh_size : 0;
        char *tab = n ? malloc(n + 1) : NULL;
        if (tab && pread(fd, tab, n, (off_t)strs->sh_offset) == (ssize_t)n) {
            tab[n] = 0;
            for (int i = 0; i < eh.e_shnum && !found; i++)
                for (int k = 0; names[k] && sh[i].sh_name < n; k++)
                    found |= strcmp(tab + sh[i].sh_name, names[k]) == 0;
        }
        free(tab);
    }
    free(sh);
    return found;
}

prof_unwind_t prof_unwind_for(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return PROF_UNWIND_DWARF;
    static const char *const go[] = {".go.buildinfo", ".gopclntab", NULL};
    bool is_go = elf_has_section(fd, go);
    close(fd);
    return is_go ? PROF_UNWIND_FP : PROF_UNWIND_DWARF;
}

const char *prof_unwind_name(prof_unwind_t u)
{
    return u == PROF_UNWIND_FP ? "fp" : "dwarf";
}

/* ---- permission ---- */

/* CapEff of this process has capability bit cap. */
static bool have_cap(int cap)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return false;
    char line[256];
    unsigned long long eff = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    fclose(f);
    return (eff >> cap) & 1;
}

int prof_check(char *err, size_t errlen)
{
    char perf[4096];
    if (proc_which("perf", perf, sizeof perf)) {
        snprintf(err, errlen, "perf not found on PATH (Debian's linux-perf; scripts/install.sh "
                              "installs it)");
        return -1;
    }
    if (geteuid() == 0 || have_cap(38 /* CAP_PERFMON */) || have_cap(21 /* CAP_SYS_ADMIN */))
        return 0;
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
    int level = 2;
    if (f) {
        if (fscanf(f, "%d", &level) != 1)
            level = 2;
        fclose(f);
    }
    if (level > 1) {
        snprintf(err, errlen, "kernel.perf_event_paranoid is %d: profiling another process "
                              "needs at most 1 (sysctl kernel.perf_event_paranoid=1), root or "
                              "CAP_PERFMON", level);
        return -1;
    }
    return 0;
}

/* ---- recording ---- */

/* The first line of perf's log that says something (its own progress lines start with "["). */
static void perf_log_reason(const char *log, char *out, size_t n)
{
    buf_t b = BUF_INIT;
    out[0] = 0;
    if (buf_read_file(&b, log) == 0) {
        buf_append(&b, "", 1);
        char *s = buf_start(&b);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
            while (*line == ' ')
                line++;
            if (*line && *line != '[') {
                snprintf(out, n, "%s", line);
                break;
            }
        }
    }
    buf_free(&b);
}

static int open_log(const char *path, bool append, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return fd;
}

int prof_start(prof_rec_t *r, pid_t pid, prof_unwind_t unwind, const char *data_path,
                  const char *log_path, const cpuset_t *cpus, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->perf = -1;
    if (prof_check(err, errlen))
        return -1;
    if (!proc_alive(pid)) {
        snprintf(err, errlen, "no process %d", (int)pid);
        return -1;
    }
    r->target = pid;
    r->unwind = unwind;
    snprintf(r->data, sizeof r->data, "%s", data_path);
    snprintf(r->log, sizeof r->log, "%s", log_path);
    char pidarg[16], hz[16];
    snprintf(pidarg, sizeof pidarg, "%d", (int)pid);
    snprintf(hz, sizeof hz, "%d", PROF_HZ);
    const char *argv[] = {"perf", "record", "-e", "cpu-clock", "-F", hz, "--call-graph",
                          unwind == PROF_UNWIND_FP ? "fp" : "dwarf", "-p", pidarg, "-o",
                          r->data, NULL};
    int fd = open_log(r->log, false, err, errlen);
    if (fd < 0)
        return -1;
    proc_opts_t o = {.cpus = cpus, .out = fd, .err = fd, .session = true, .deathsig = SIGINT};
    r->perf = proc_spawn(argv, &o, err, errlen);
    close(fd);
    if (r->perf < 0)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->wall0_ns = (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
    r->t0_ns = clock_now_ns();
    int st;
    if (proc_wait(r->perf, PERF_START_NS, &st) == 1) {
        char why[512];
        perf_log_reason(r->log, why, sizeof why);
        snprintf(err, errlen, "perf record exited at once (status %d): %s", st,
                 *why ? why : "it said nothing");
        r->perf = -1;
        unlink(r->data);
        return -1;
    }
    return 0;
}

void prof_abort(prof_rec_t *r)
{
    if (r->perf > 0)
        proc_stop(r->perf, SIGINT, PERF_STOP_NS);
    r->perf = -1;
    if (r->data[0])
        unlink(r->data);
}

int prof_stop(prof_rec_t *r, prof_t *p, bool keep_data, char *err, size_t errlen)
{
    prof_free(p);
    if (r->perf <= 0) {
        snprintf(err, errlen, "no recording under way");
        return -1;
    }
    int64_t window = clock_now_ns() - r->t0_ns;
    int st = proc_stop(r->perf, SIGINT, PERF_STOP_NS);
    r->perf = -1;
    char why[512];
    /* perf record writes its file, then ends by raising the SIGINT it caught again. */
    if (st != 0 && st != 128 + SIGINT) {
        perf_log_reason(r->log, why, sizeof why);
        snprintf(err, errlen, "perf record %s: %s",
                 st < 0 ? "did not stop and was killed" : "failed", *why ? why : "it said nothing");
        unlink(r->data);
        return -1;
    }
    /* perf script's output goes to a file beside perf.data: a window of DWARF samples is
     * tens of megabytes of text. */
    char text[4200];
    snprintf(text, sizeof text, "%s.txt", r->data);
    int out = open_log(text, false, err, errlen);
    if (out < 0)
        return -1;
    int logfd = open_log(r->log, true, err, errlen);
    if (logfd < 0) {
        close(out);
        return -1;
    }
    const char *argv[] = {"perf", "script", "-i", r->data, "-F", "comm,tid,time,ip,sym,dso",
                          NULL};
    proc_opts_t o = {.out = out, .err = logfd};
    char serr[512];
    int rc = proc_run(argv, &o, PERF_SCRIPT_NS, NULL, 0, serr, sizeof serr);
    close(out);
    close(logfd);
    if (rc != 0) {
        perf_log_reason(r->log, why, sizeof why);
        snprintf(err, errlen, "perf script %s: %s", rc < 0 ? "could not run" : "failed",
                 rc < 0 ? serr : *why ? why : "it said nothing");
        unlink(text);
        if (!keep_data)
            unlink(r->data);
        return -1;
    }
    buf_t b = BUF_INIT;
    if (buf_read_file(&b, text)) {
        snprintf(err, errlen, "%s: %s", text, strerror(errno));
        rc = -1;
    } else {
        rc = prof_fold(buf_start(&b), buf_size(&b), p, err, errlen);
    }
    buf_free(&b);
    unlink(text);
    if (!keep_data)
        unlink(r->data);
    if (rc)
        return -1;
    p->start_ns = r->wall0_ns;
    p->duration_ns = window;
    p->unwind = r->unwind;
    if (p->samples == 0) {
        snprintf(err, errlen, "no samples: process %d used no CPU in the %.1f s window",
                 (int)r->target, (double)window / NS_PER_S);
        return -1;
    }
    return 0;
}
