/* Counting dependencies (deps.h): line-oriented readers of go.mod, go.sum, Cargo.toml and
 * Cargo.lock as their tools write them, and the ELF dynamic section of a binary. */
#include "lab/deps.h"

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/proc.h"

const char deps_from_go[] =
    "direct: go.mod's require lines without // indirect; total: go.sum's distinct module paths "
    "(a module's /go.mod line not counted again; the module graph's and tests' modules included)";
const char deps_from_rust[] =
    "direct: Cargo.toml's [dependencies]; total: Cargo.lock's packages minus the root (every "
    "platform's and the dev-dependencies' included)";
const char deps_from_c[] =
    "direct: the binary's DT_NEEDED shared libraries; total: the libraries ldd resolves, the "
    "dynamic loader included, the vDSO not (libpq is opened with dlopen on first use: in neither)";

/* The lines of a text, one at a time, without their line end. */
typedef struct {
    const char *p, *end;
} lines_t;

static bool next_line(lines_t *it, const char **line, size_t *n)
{
    if (it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    *line = it->p;
    *n = (size_t)(e - it->p);
    if (*n && (*line)[*n - 1] == '\r')
        (*n)--;
    it->p = nl ? nl + 1 : it->end;
    return true;
}

/* The line without white space around it. */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static bool starts(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(s, lit, l) == 0;
}

static bool contains(const char *s, size_t n, const char *lit)
{
    return memmem(s, n, lit, strlen(lit)) != NULL;
}

int deps_go_mod_direct(const char *text, size_t len)
{
    lines_t it = {text, text + len};
    const char *l;
    size_t n;
    int direct = 0;
    enum { NONE, REQUIRE, OTHER } block = NONE;
    while (next_line(&it, &l, &n)) {
        trim(&l, &n);
        if (!n || starts(l, n, "//"))
            continue;
        if (block != NONE) {
            if (l[0] == ')')
                block = NONE;
            else if (block == REQUIRE)
                direct += !contains(l, n, "// indirect");
            continue;
        }
        bool require = starts(l, n, "require ") || starts(l, n, "require\t") ||
                       starts(l, n, "require(");
        if (l[n - 1] == '(') {
            block = require ? REQUIRE : OTHER;
            continue;
        }
        if (require)
            direct += !contains(l, n, "// indirect");
    }
    return direct;
}

int deps_go_sum_total(const char *text, size_t len)
{
    lines_t it = {text, text + len};
    const char *l;
    size_t n;
    /* The module paths seen, one after another in `seen`, NUL-separated. */
    buf_t seen = BUF_INIT;
    int total = 0;
    while (next_line(&it, &l, &n)) {
        trim(&l, &n);
        size_t pl = strcspn(l, " \t");
        if (!n || pl >= n)
            continue;
        bool dup = false;
        for (const char *s = buf_start(&seen); s < buf_end(&seen) && !dup; s += strlen(s) + 1)
            dup = strlen(s) == pl && memcmp(s, l, pl) == 0;
        if (dup)
            continue;
        buf_append(&seen, l, pl);
        buf_append(&seen, "", 1);
        total++;
    }
    buf_free(&seen);
    return total;
}

/* A TOML table header names a table of direct dependencies: [dependencies],
 * [dependencies.NAME], [target.'cfg(...)'.dependencies] (not dev- or build-dependencies). */
static bool dependencies_header(const char *l, size_t n, bool *one_entry)
{
    *one_entry = false;
    if (starts(l, n, "[dependencies]"))
        return true;
    if (starts(l, n, "[dependencies.")) {
        *one_entry = true; /* [dependencies.axum]: the table is the entry */
        return true;
    }
    return starts(l, n, "[target.") && contains(l, n, ".dependencies]") &&
           !contains(l, n, "-dependencies]");
}

int deps_cargo_toml_direct(const char *text, size_t len)
{
    lines_t it = {text, text + len};
    const char *l;
    size_t n;
    int direct = 0;
    bool in_deps = false;
    int nesting = 0; /* { and [ of a value still open (an inline table over several lines) */
    while (next_line(&it, &l, &n)) {
        trim(&l, &n);
        if (!n || l[0] == '#')
            continue;
        if (nesting == 0 && l[0] == '[') {
            bool one;
            in_deps = dependencies_header(l, n, &one);
            direct += one;
            if (one)
                in_deps = false; /* its lines are the one entry's keys */
            continue;
        }
        /* A key (bare or quoted) at the table's own level: one dependency. */
        char c0 = l[0];
        bool key = (c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') ||
                   (c0 >= '0' && c0 <= '9') || c0 == '_' || c0 == '-' || c0 == '"';
        if (in_deps && nesting == 0 && key && memchr(l, '=', n))
            direct++;
        bool quoted = false;
        for (size_t i = 0; i < n; i++) {
            char c = l[i];
            if (c == '"' && (i == 0 || l[i - 1] != '\\'))
                quoted = !quoted;
            else if (!quoted && c == '#')
                break;
            else if (!quoted && (c == '{' || c == '['))
                nesting++;
            else if (!quoted && (c == '}' || c == ']') && nesting > 0)
                nesting--;
        }
    }
    return direct;
}

/* The value of a `key = "value"` line into out; false when the line is not that key. */
static bool toml_string(const char *l, size_t n, const char *key, char *out, size_t outn)
{
    size_t kl = strlen(key);
    if (n <= kl || memcmp(l, key, kl) != 0 || (l[kl] != ' ' && l[kl] != '='))
        return false;
    const char *q = memchr(l + kl, '"', n - kl);
    if (!q)
        return false;
    const char *e = memchr(q + 1, '"', (size_t)(l + n - q - 1));
    if (!e)
        return false;
    snprintf(out, outn, "%.*s", (int)(e - q - 1), q + 1);
    return true;
}

void deps_cargo_toml_name(const char *text, size_t len, char *out, size_t outn)
{
    lines_t it = {text, text + len};
    const char *l;
    size_t n;
    bool in_package = false;
    out[0] = 0;
    while (next_line(&it, &l, &n)) {
        trim(&l, &n);
        if (n && l[0] == '[')
            in_package = starts(l, n, "[package]");
        else if (in_package && toml_string(l, n, "name", out, outn))
            return;
    }
}

int deps_cargo_lock_total(const char *text, size_t len, const char *root)
{
    lines_t it = {text, text + len};
    const char *l;
    size_t n;
    int packages = 0;
    bool root_seen = false, in_package = false;
    char name[256];
    while (next_line(&it, &l, &n)) {
        trim(&l, &n);
        if (n && l[0] == '[') {
            in_package = n == 11 && !memcmp(l, "[[package]]", 11);
            packages += in_package;
        } else if (in_package && toml_string(l, n, "name", name, sizeof name)) {
            root_seen |= !strcmp(name, root);
            in_package = false; /* a package's name is its first key */
        }
    }
    if (packages == 0)
        return -1;
    return packages - root_seen;
}

/* ---- from the files ---- */

static int read_text(const char *dir, const char *name, buf_t *b, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = buf_read_file(b, path);
    if (rc)
        snprintf(err, errlen, "cannot read %.3900s: %s", path, strerror(-rc));
    return rc ? -1 : 0;
}

int deps_go(const char *dir, int *direct, int *total, char *err, size_t errlen)
{
    buf_t mod = BUF_INIT, sum = BUF_INIT;
    int rc = -1;
    if (read_text(dir, "go.mod", &mod, err, errlen) == 0 &&
        read_text(dir, "go.sum", &sum, err, errlen) == 0) {
        *direct = deps_go_mod_direct(buf_start(&mod), buf_size(&mod));
        *total = deps_go_sum_total(buf_start(&sum), buf_size(&sum));
        rc = 0;
    }
    buf_free(&mod);
    buf_free(&sum);
    return rc;
}

int deps_rust(const char *dir, int *direct, int *total, char *err, size_t errlen)
{
    buf_t toml = BUF_INIT, lock = BUF_INIT;
    int rc = -1;
    if (read_text(dir, "Cargo.toml", &toml, err, errlen) == 0 &&
        read_text(dir, "Cargo.lock", &lock, err, errlen) == 0) {
        char root[256];
        deps_cargo_toml_name(buf_start(&toml), buf_size(&toml), root, sizeof root);
        *direct = deps_cargo_toml_direct(buf_start(&toml), buf_size(&toml));
        *total = deps_cargo_lock_total(buf_start(&lock), buf_size(&lock), root);
        if (*total < 0)
            snprintf(err, errlen, "%s/Cargo.lock has no [[package]]", dir);
        else
            rc = 0;
    }
    buf_free(&toml);
    buf_free(&lock);
    return rc;
}

/* The DT_NEEDED entries of a 64-bit ELF file's dynamic section (0 for a static binary), or
 * -1. */
static int elf_needed(const char *data, size_t len)
{
    Elf64_Ehdr eh;
    if (len < sizeof eh)
        return -1;
    memcpy(&eh, data, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > len ||
        (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > len - eh.e_shoff)
        return -1;
    int needed = 0;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, data + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_DYNAMIC)
            continue;
        if (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
            return -1;
        for (uint64_t k = 0; k + sizeof(Elf64_Dyn) <= sh.sh_size; k += sizeof(Elf64_Dyn)) {
            Elf64_Dyn d;
            memcpy(&d, data + sh.sh_offset + k, sizeof d);
            if (d.d_tag == DT_NULL)
                break;
            needed += d.d_tag == DT_NEEDED;
        }
    }
    return needed;
}

int deps_c(const char *binary, int *direct, int *total, char *err, size_t errlen)
{
    buf_t b = BUF_INIT;
    int rc = buf_read_file(&b, binary);
    if (rc) {
        snprintf(err, errlen, "cannot read %.3900s: %s", binary, strerror(-rc));
        buf_free(&b);
        return -1;
    }
    *direct = elf_needed(buf_start(&b), buf_size(&b));
    buf_free(&b);
    if (*direct < 0) {
        snprintf(err, errlen, "%.3900s: not a 64-bit ELF file", binary);
        return -1;
    }
    /* ldd: "\tlibm.so.6 => /lib/.../libm.so.6 (0x...)", "\t/lib64/ld-linux-x86-64.so.2
     * (0x...)", "\tlinux-vdso.so.1 (0x...)" (the kernel's, no file), or "statically linked". */
    static char out[16384];
    char why[256];
    const char *const argv[] = {"ldd", binary, NULL};
    int st = proc_run(argv, NULL, 30 * NS_PER_S, out, sizeof out, why, sizeof why);
    if (st != 0 && !strstr(out, "not a dynamic executable")) {
        snprintf(err, errlen, "ldd: %s", st < 0 ? why : "failed");
        return -1;
    }
    lines_t it = {out, out + strlen(out)};
    const char *l;
    size_t n;
    *total = 0;
    while (next_line(&it, &l, &n)) {
        trim(&l, &n);
        if (n && !contains(l, n, "linux-vdso") && !contains(l, n, "linux-gate") &&
            (contains(l, n, "=>") || l[0] == '/'))
            (*total)++;
    }
    return 0;
}
