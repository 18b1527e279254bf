/* test_docs: the documentation agrees with the binary. Every command listed by
 * `stackbench --help` has a page docs/CMD.md whose `## Flags` section lists exactly the flags of
 * `stackbench CMD --help`, each help ends by naming that page, the man page generated from the
 * help texts (scripts/man.sh, build/stackbench.1) holds every command and flag, README.md links
 * every page of docs/, and every relative link in README.md and in docs/ leads somewhere.
 *
 * Env: STACKBENCH (the binary), SB_ROOT (the repository), SB_MAN (the man page; default
 * stackbench.1 beside the binary, which the Makefile builds for every BUILD folder). */
#include "t.h"

#include "decide/verdict.h"

#include <ctype.h>
#include <dirent.h>
#include <libgen.h>
#include <stdarg.h>
#include <sys/stat.h>

#define MAX_ITEMS 256

/* A set of strings (commands, flags, file names), in the order first added. */
struct set {
    char *v[MAX_ITEMS];
    int n;
};

static int set_has(const struct set *s, const char *x)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return 1;
    return 0;
}

static void set_add(struct set *s, const char *x, size_t len)
{
    char *c = strndup(x, len);
    if (set_has(s, c) || s->n == MAX_ITEMS) {
        free(c);
        return;
    }
    s->v[s->n++] = c;
}

/* Text split into lines in place. */
struct lines {
    char **v;
    int n;
};

static struct lines split_lines(char *text)
{
    struct lines l = {0};
    size_t cap = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if ((size_t)l.n == cap) {
            cap = cap ? cap * 2 : 64;
            l.v = realloc(l.v, cap * sizeof *l.v);
        }
        l.v[l.n++] = p;
        p = nl ? nl + 1 : NULL;
    }
    return l;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "    $%s is not set (tests/run.sh sets it)\n", name);
        exit(1);
    }
    return v;
}

static char *slurp(FILE *f)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    return buf;
}

/* The contents of a file, or NULL when it cannot be read. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *s = slurp(f);
    fclose(f);
    return s;
}

static char *path_of(const char *fmt, ...)
{
    char *p = malloc(4096);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, 4096, fmt, ap);
    va_end(ap);
    return p;
}

/* What `stackbench ARGS` prints on stdout; a failure to run it or a non-zero exit fails the
 * test with the command line. */
static char *stackbench_out(const char *args)
{
    char *cmd = path_of("'%s' %s", env("STACKBENCH"), args);
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "    cannot run %s\n", cmd);
        exit(1);
    }
    char *out = slurp(f);
    int st = pclose(f);
    if (st != 0) {
        fprintf(stderr, "    stackbench %s: exit status %d\n", args, WEXITSTATUS(st));
        exit(1);
    }
    free(cmd);
    return out;
}

static char *help_of(const char *command)
{
    char *args = path_of("%s --help", command);
    char *out = stackbench_out(args);
    free(args);
    return out;
}

static int indent_of(const char *s)
{
    int i = 0;
    while (s[i] == ' ')
        i++;
    return i;
}

/* The commands of `stackbench --help`: the first word of each line of its `commands:` block. */
static struct set commands(void)
{
    struct set cmds = {0};
    struct lines l = split_lines(stackbench_out("--help"));
    int on = 0;
    for (int i = 0; i < l.n; i++) {
        if (!strcmp(l.v[i], "commands:")) {
            on = 1;
            continue;
        }
        if (!on)
            continue;
        if (!*l.v[i])
            break;
        const char *w = l.v[i] + indent_of(l.v[i]);
        set_add(&cmds, w, strcspn(w, " "));
    }
    if (cmds.n == 0) {
        fprintf(stderr, "    stackbench --help has no commands: section\n");
        exit(1);
    }
    return cmds;
}

/* The flags (-c and --connections alike) of the entries of a term such as
 * "-c, --connections N" or "--mix 'W M T [B]'". */
static void flags_of_term(struct set *flags, const char *term, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (term[i] == '-' && (i == 0 || term[i - 1] == ' ' || term[i - 1] == ',') && i + 1 < len &&
            (isalnum((unsigned char)term[i + 1]) || term[i + 1] == '-')) {
            size_t j = i + 1;
            while (j < len && (isalnum((unsigned char)term[j]) || term[j] == '-' || term[j] == '_'))
                j++;
            set_add(flags, term + i, j - i);
            i = j;
            /* Only the first word of each comma-separated part is a flag; the rest is its
             * metavariable ('N: V' must not yield flags). */
            while (i < len && term[i] != ',')
                i++;
        } else {
            i++;
        }
    }
}

/* The flags of a help text, as scripts/man.sh reads them: the entries of a block headed
 * `flags:`, or of a block of indented lines that starts with a flag and has no header (a
 * `reference:` line does not count). An entry starts at a small indent; its term ends at the
 * first two spaces. */
static struct set help_flags(char *help)
{
    struct set flags = {0};
    struct lines l = split_lines(help);
    for (int i = 0; i < l.n;) {
        int end = i;
        while (end < l.n && *l.v[end])
            end++;
        if (end > i) {
            int from = i, list = 1;
            if (!strcmp(l.v[i], "flags:"))
                from = i + 1;
            for (int k = from; k < end; k++)
                if (l.v[k][0] != ' ' && strncmp(l.v[k], "reference: ", 11))
                    list = 0;
            if (list && from < end && (from > i || l.v[from][indent_of(l.v[from])] == '-')) {
                for (int k = from; k < end; k++) {
                    const char *t = l.v[k] + indent_of(l.v[k]);
                    if (indent_of(l.v[k]) >= 8 || *t != '-')
                        continue;
                    const char *gap = strstr(t, "  ");
                    flags_of_term(&flags, t, gap ? (size_t)(gap - t) : strlen(t));
                }
            }
        }
        i = end + 1;
    }
    return flags;
}

/* The flags of a page's `## Flags` section: each entry (a table row or a list item) begins with
 * the flag in backticks, e.g. `-c, --connections N`, possibly several spans in a row. */
static int doc_flags(char *md, struct set *flags)
{
    struct lines l = split_lines(md);
    int i = 0;
    while (i < l.n && strcmp(l.v[i], "## Flags"))
        i++;
    if (i == l.n)
        return -1;
    for (i++; i < l.n && !(l.v[i][0] == '#' && strchr("# ", l.v[i][1])); i++) {
        const char *p = l.v[i];
        if (!strncmp(p, "| ", 2) || !strncmp(p, "- ", 2) || !strncmp(p, "* ", 2))
            p += 2;
        else
            continue;
        while (*p == '`') {
            const char *close = strchr(p + 1, '`');
            if (!close)
                break;
            flags_of_term(flags, p + 1, (size_t)(close - p - 1));
            p = close + 1;
            if (!strncmp(p, ", `", 3) || !strncmp(p, " / `", 4) || !strncmp(p, " or `", 5))
                p = strchr(p, '`');
        }
    }
    return 0;
}

TEST(every_command_has_a_docs_page_showing_its_usage)
{
    const char *root = env("SB_ROOT");
    struct set cmds = commands();
    for (int c = 0; c < cmds.n; c++) {
        char *path = path_of("%s/docs/%s.md", root, cmds.v[c]);
        char *md = read_text(path);
        if (!md) {
            fprintf(stderr, "    docs/%s.md: missing (stackbench --help lists %s)\n", cmds.v[c],
                    cmds.v[c]);
            t_failures++;
            continue;
        }
        if (strncmp(md, "# ", 2)) {
            fprintf(stderr, "    docs/%s.md: does not start with a \"# \" title\n", cmds.v[c]);
            t_failures++;
        }
        /* The usage: line and the indented lines under it, each as written. */
        struct lines l = split_lines(help_of(cmds.v[c]));
        int u = 0;
        while (u < l.n && strncmp(l.v[u], "usage: ", 7))
            u++;
        if (u == l.n) {
            fprintf(stderr, "    stackbench %s --help: no usage: line\n", cmds.v[c]);
            t_failures++;
        }
        for (int i = u; i < l.n; i++) {
            if (i > u && (l.v[i][0] != ' ' || !l.v[i][indent_of(l.v[i])]))
                break;
            if (!strstr(md, l.v[i])) {
                fprintf(stderr, "    docs/%s.md: lacks \"%s\" (stackbench %s --help)\n", cmds.v[c],
                        l.v[i], cmds.v[c]);
                t_failures++;
            }
        }
    }
}

TEST(each_commands_help_flags_are_its_docs_pages_flags)
{
    const char *root = env("SB_ROOT");
    struct set cmds = commands();
    for (int c = 0; c < cmds.n; c++) {
        const char *cmd = cmds.v[c];
        struct set in_help = help_flags(help_of(cmd));
        struct set in_doc = {0};
        char *path = path_of("%s/docs/%s.md", root, cmd);
        char *md = read_text(path);
        if (!md || doc_flags(md, &in_doc) < 0) {
            fprintf(stderr, "    docs/%s.md: %s\n", cmd,
                    md ? "no \"## Flags\" section" : "missing");
            t_failures++;
            continue;
        }
        if (in_help.n == 0) {
            fprintf(stderr, "    stackbench %s --help: no flags found\n", cmd);
            t_failures++;
        }
        for (int i = 0; i < in_help.n; i++)
            if (!set_has(&in_doc, in_help.v[i])) {
                fprintf(stderr, "    docs/%s.md: ## Flags lacks %s (stackbench %s --help has it)\n",
                        cmd, in_help.v[i], cmd);
                t_failures++;
            }
        for (int i = 0; i < in_doc.n; i++)
            if (!set_has(&in_help, in_doc.v[i])) {
                fprintf(stderr,
                        "    docs/%s.md: ## Flags lists %s, which stackbench %s --help lacks\n",
                        cmd, in_doc.v[i], cmd);
                t_failures++;
            }
    }
}

TEST(each_commands_help_ends_by_naming_its_docs_page)
{
    struct set cmds = commands();
    for (int c = 0; c < cmds.n; c++) {
        struct lines l = split_lines(help_of(cmds.v[c]));
        int last = l.n - 1;
        while (last >= 0 && !*l.v[last])
            last--;
        char *page = path_of("docs/%s.md", cmds.v[c]);
        if (last < 0 || !strstr(l.v[last], page)) {
            fprintf(stderr,
                    "    stackbench %s --help: the last line \"%s\" does not name %s "
                    "(e.g. \"reference: %s, man stackbench\")\n",
                    cmds.v[c], last < 0 ? "" : l.v[last], page, page);
            t_failures++;
        }
    }
}

static char *man_path(void)
{
    const char *m = getenv("SB_MAN");
    if (m && *m)
        return strdup(m);
    char *bin = strdup(env("STACKBENCH"));
    return path_of("%s/stackbench.1", dirname(bin));
}

/* A flag as scripts/man.sh writes it: in bold, every hyphen as \-. */
static char *roff_flag(const char *flag)
{
    char *out = malloc(2 * strlen(flag) + 8), *o = out;
    o += sprintf(o, "\\fB");
    for (const char *p = flag; *p; p++) {
        if (*p == '-')
            *o++ = '\\';
        *o++ = *p;
    }
    strcpy(o, "\\fR");
    return out;
}

TEST(man_page_has_every_command_and_every_flag_of_its_help)
{
    char *path = man_path();
    char *man = read_text(path);
    if (!man) {
        fprintf(stderr, "    %s: missing (make builds it from the help texts)\n", path);
        t_failures++;
        return;
    }
    struct lines l = split_lines(man);
    struct set cmds = commands();
    for (int c = 0; c < cmds.n; c++) {
        const char *cmd = cmds.v[c];
        int from = -1, to = l.n;
        for (int i = 0; i < l.n; i++) {
            if (from < 0 && !strncmp(l.v[i], ".SS ", 4) && !strcmp(l.v[i] + 4, cmd))
                from = i;
            else if (from >= 0 && (!strncmp(l.v[i], ".SS ", 4) || !strncmp(l.v[i], ".SH ", 4))) {
                to = i;
                break;
            }
        }
        if (from < 0) {
            fprintf(stderr, "    %s: no \".SS %s\" (stackbench --help lists %s)\n", path, cmd, cmd);
            t_failures++;
            continue;
        }
        struct set flags = help_flags(help_of(cmd));
        for (int f = 0; f < flags.n; f++) {
            char *want = roff_flag(flags.v[f]);
            int found = 0;
            for (int i = from; i < to && !found; i++)
                found = strstr(l.v[i], want) != NULL;
            if (!found) {
                fprintf(stderr, "    %s: .SS %s lacks %s (stackbench %s --help has %s)\n", path,
                        cmd, want, cmd, flags.v[f]);
                t_failures++;
            }
            free(want);
        }
    }
}

TEST(man_page_carries_the_version_of_the_binary)
{
    char *path = man_path();
    char *man = read_text(path);
    if (!man) {
        fprintf(stderr, "    %s: missing (make builds it from the help texts)\n", path);
        t_failures++;
        return;
    }
    char ver[64] = "", v[96];
    sscanf(stackbench_out("--version"), "stackbench %63s", ver); /* "stackbench 0.1.0 (built..." */
    snprintf(v, sizeof v, "\"stackbench %s\"", ver);
    struct lines l = split_lines(man);
    for (int i = 0; i < l.n; i++)
        if (!strncmp(l.v[i], ".TH STACKBENCH 1 ", 17)) {
            if (!strstr(l.v[i], v)) {
                fprintf(stderr, "    %s: \"%s\" does not name \"%s\"\n", path, l.v[i], v);
                t_failures++;
            }
            return;
        }
    fprintf(stderr, "    %s: no \".TH STACKBENCH 1\" line\n", path);
    t_failures++;
}

/* The Markdown files that are checked, relative to SB_ROOT: README.md and every .md in docs/. */
static struct set markdown_files(void)
{
    struct set files = {0};
    set_add(&files, "README.md", 9);
    char *dir = path_of("%s/docs", env("SB_ROOT"));
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "    %s: cannot open\n", dir);
        exit(1);
    }
    struct dirent *e;
    struct set names = {0};
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 3 && !strcmp(e->d_name + n - 3, ".md"))
            set_add(&names, e->d_name, n);
    }
    closedir(d);
    for (int i = 0; i < names.n; i++) {
        char *p = path_of("docs/%s", names.v[i]);
        set_add(&files, p, strlen(p));
    }
    return files;
}

TEST(readme_links_every_docs_page)
{
    const char *root = env("SB_ROOT");
    char *readme = read_text(path_of("%s/README.md", root));
    CHECK(readme != NULL);
    if (!readme)
        return;
    struct set files = markdown_files();
    for (int i = 1; i < files.n; i++) {
        char *plain = path_of("](%s)", files.v[i]), *anchored = path_of("](%s#", files.v[i]);
        if (!strstr(readme, plain) && !strstr(readme, anchored)) {
            fprintf(stderr, "    README.md: no link to %s\n", files.v[i]);
            t_failures++;
        }
    }
}

TEST(every_docs_page_links_back_to_readme)
{
    const char *root = env("SB_ROOT");
    struct set files = markdown_files();
    for (int i = 1; i < files.n; i++) {
        char *md = read_text(path_of("%s/%s", root, files.v[i]));
        if (!md || (!strstr(md, "](../README.md)") && !strstr(md, "](../README.md#"))) {
            fprintf(stderr, "    %s: no link back to ../README.md\n", files.v[i]);
            t_failures++;
        }
    }
}

/* The verdict's rules are one table in the code (src/decide/rules.c); README and
 * docs/verdict.md name each, as `id`. */
TEST(readme_and_verdict_page_list_every_verdict_rule)
{
    const char *root = env("SB_ROOT");
    const char *pages[] = {"README.md", "docs/verdict.md"};
    for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
        char *md = read_text(path_of("%s/%s", root, pages[p]));
        CHECK(md != NULL);
        for (int i = 0; md && i < verdict_nrules; i++)
            if (!strstr(md, path_of("`%s`", verdict_rules[i].id))) {
                fprintf(stderr, "    %s: no `%s` (a rule of the verdict)\n", pages[p],
                        verdict_rules[i].id);
                t_failures++;
            }
    }
}

/* GitHub's anchor of a heading: lower case, spaces as hyphens, punctuation dropped (ASCII
 * punctuation but - and _, and the dashes — and –); other UTF-8 is kept. */
static void heading_anchor(const char *h, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)h; *p && n + 1 < cap; p++) {
        if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x93 || p[2] == 0x94)) {
            p += 2;
        } else if (*p == ' ') {
            out[n++] = '-';
        } else if (isalnum(*p) || *p == '-' || *p == '_' || *p >= 0x80) {
            out[n++] = (char)tolower(*p);
        }
    }
    out[n] = '\0';
}

static int has_anchor(const char *path, const char *anchor)
{
    char *md = read_text(path);
    if (!md)
        return 0;
    struct lines l = split_lines(md);
    int fenced = 0;
    for (int i = 0; i < l.n; i++) {
        if (!strncmp(l.v[i], "```", 3))
            fenced = !fenced;
        if (fenced || l.v[i][0] != '#')
            continue;
        const char *h = l.v[i] + strspn(l.v[i], "#");
        h += strspn(h, " ");
        char a[512];
        heading_anchor(h, a, sizeof a);
        if (!strcmp(a, anchor))
            return 1;
    }
    return 0;
}

TEST(every_relative_link_in_readme_and_docs_leads_to_a_file_and_heading)
{
    const char *root = env("SB_ROOT");
    struct set files = markdown_files();
    for (int f = 0; f < files.n; f++) {
        char *path = path_of("%s/%s", root, files.v[f]);
        char *md = read_text(path);
        if (!md) {
            fprintf(stderr, "    %s: cannot read\n", files.v[f]);
            t_failures++;
            continue;
        }
        char *dir = strdup(path);
        dir = dirname(dir);
        struct lines l = split_lines(md);
        int fenced = 0;
        for (int i = 0; i < l.n; i++) {
            if (!strncmp(l.v[i], "```", 3))
                fenced = !fenced;
            if (fenced)
                continue;
            int code = 0;
            for (const char *p = l.v[i]; *p; p++) {
                if (*p == '`')
                    code = !code;
                if (code || p[0] != ']' || p[1] != '(')
                    continue;
                const char *t = p + 2, *close = strchr(t, ')');
                if (!close)
                    break;
                char target[1024];
                snprintf(target, sizeof target, "%.*s", (int)(close - t), t);
                p = close;
                if (strstr(target, "://") || !strncmp(target, "mailto:", 7))
                    continue;
                char *hash = strchr(target, '#');
                if (hash)
                    *hash++ = '\0';
                char *file = *target ? path_of("%s/%s", dir, target) : strdup(path);
                struct stat st;
                if (stat(file, &st) != 0) {
                    fprintf(stderr, "    %s:%d: link %s: no such file\n", files.v[f], i + 1,
                            target);
                    t_failures++;
                } else if (hash && *hash && !has_anchor(file, hash)) {
                    fprintf(stderr, "    %s:%d: link %s#%s: no heading with that anchor\n",
                            files.v[f], i + 1, *target ? target : files.v[f], hash);
                    t_failures++;
                }
                free(file);
            }
        }
    }
}

T_MAIN(T(every_command_has_a_docs_page_showing_its_usage),
       T(each_commands_help_flags_are_its_docs_pages_flags),
       T(each_commands_help_ends_by_naming_its_docs_page),
       T(man_page_has_every_command_and_every_flag_of_its_help),
       T(man_page_carries_the_version_of_the_binary), T(readme_links_every_docs_page),
       T(every_docs_page_links_back_to_readme), T(readme_and_verdict_page_list_every_verdict_rule),
       T(every_relative_link_in_readme_and_docs_leads_to_a_file_and_heading))
