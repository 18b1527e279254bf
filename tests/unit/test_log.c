/* Tests for the stderr line (src/core/log.c): "stackbench WHO: message", one line each,
 * read from a child process whose stderr is a pipe. */
#include <stdarg.h>

#include "core/log.h"
#include "t.h"

/* Runs fn in a child with its stderr on a pipe; what it wrote, NUL-terminated. */
static size_t stderr_of(void (*fn)(void), char *out, size_t cap)
{
    int p[2];
    if (pipe(p) != 0)
        exit(1);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        fn();
        fflush(stderr);
        _exit(0);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(p[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = 0;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return len;
}

static void warn_with_who(void) { sb_warn("load", "%d connections refused on %s", 3, "h:80"); }
static void warn_null_who(void) { sb_warn(NULL, "no command '%s'", "x"); }
static void warn_empty_who(void) { sb_warn("", "no command '%s'", "x"); }
static void warn_trailing_newlines(void) { sb_warn("run", "built\n\n\n"); }
static void warn_only_newlines(void) { sb_warn("run", "\n"); }
static void warn_twice(void)
{
    sb_warn("a", "one");
    sb_warn("b", "two\n");
}

static void vwarn(const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vwarn(who, fmt, ap);
    va_end(ap);
}
static void vwarn_with_who(void) { vwarn("pg", "port %d: %s", 5432, "busy"); }

static void warn_long(void)
{
    static char msg[5000];
    memset(msg, 'x', sizeof msg - 2);
    msg[sizeof msg - 2] = '\n';
    sb_warn("gen", "%s", msg);
}

TEST(warn_is_stackbench_who_message)
{
    char out[256];
    stderr_of(warn_with_who, out, sizeof out);
    CHECK_STR(out, "stackbench load: 3 connections refused on h:80\n");
}

TEST(warn_without_who_is_stackbench_message)
{
    char out[256];
    stderr_of(warn_null_who, out, sizeof out);
    CHECK_STR(out, "stackbench: no command 'x'\n");
    stderr_of(warn_empty_who, out, sizeof out);
    CHECK_STR(out, "stackbench: no command 'x'\n");
}

TEST(warn_trailing_newlines_make_one_line)
{
    char out[256];
    stderr_of(warn_trailing_newlines, out, sizeof out);
    CHECK_STR(out, "stackbench run: built\n");
    stderr_of(warn_only_newlines, out, sizeof out);
    CHECK_STR(out, "stackbench run: \n");
}

TEST(warn_each_call_is_its_own_line)
{
    char out[256];
    stderr_of(warn_twice, out, sizeof out);
    CHECK_STR(out, "stackbench a: one\nstackbench b: two\n");
}

TEST(vwarn_takes_a_va_list)
{
    char out[256];
    stderr_of(vwarn_with_who, out, sizeof out);
    CHECK_STR(out, "stackbench pg: port 5432: busy\n");
}

TEST(warn_long_message_is_one_line)
{
    static char out[8192];
    size_t n = stderr_of(warn_long, out, sizeof out);
    CHECK(strncmp(out, "stackbench gen: xxx", 19) == 0);
    CHECK(n > 1000);
    CHECK(strchr(out, '\n') == out + n - 1); /* cut to fit, but one line ending in a newline */
}

T_MAIN(T(warn_is_stackbench_who_message), T(warn_without_who_is_stackbench_message),
       T(warn_trailing_newlines_make_one_line), T(warn_each_call_is_its_own_line),
       T(vwarn_takes_a_va_list), T(warn_long_message_is_one_line))
