/* t.h: the test harness. One test per behaviour; each runs in its own child process so that a
 * crash or a hang fails that test only. A test binary prints one line per test:
 *     ok   name
 *     FAIL name: why
 * and tests/run.sh adds the lines of every binary up into "N passed, N failed". */
#ifndef SB_TESTS_T_H
#define SB_TESTS_T_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int t_failures;

#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c)) {                                                                               \
            fprintf(stderr, "    %s:%d: CHECK(%s)\n", __FILE__, __LINE__, #c);                    \
            t_failures++;                                                                         \
        }                                                                                         \
    } while (0)

#define CHECK_INT(a, b)                                                                           \
    do {                                                                                          \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                   \
        if (t_a_ != t_b_) {                                                                       \
            fprintf(stderr, "    %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b,    \
                    t_a_, t_b_);                                                                  \
            t_failures++;                                                                         \
        }                                                                                         \
    } while (0)

#define CHECK_STR(a, b)                                                                           \
    do {                                                                                          \
        const char *t_a_ = (a), *t_b_ = (b);                                                      \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                                          \
            fprintf(stderr, "    %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,    \
                    #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                          \
            t_failures++;                                                                         \
        }                                                                                         \
    } while (0)

/* Compare a (pointer, length) pair with a C string. */
#define CHECK_MEM(p, n, s)                                                                        \
    do {                                                                                          \
        const char *t_p_ = (const char *)(p), *t_s_ = (s);                                        \
        size_t t_n_ = (size_t)(n);                                                                \
        if (t_n_ != strlen(t_s_) || memcmp(t_p_, t_s_, t_n_) != 0) {                              \
            fprintf(stderr, "    %s:%d: %s == %s: \"%.*s\" != \"%s\"\n", __FILE__, __LINE__, #p, \
                    #s, (int)t_n_, t_p_, t_s_);                                                   \
            t_failures++;                                                                         \
        }                                                                                         \
    } while (0)

#define TEST(name) static void name(void)

struct t_case {
    const char *name;
    void (*fn)(void);
};
#define T(name) {#name, name}

/* Seconds a single test may take before it is killed and failed. */
#ifndef T_TIMEOUT
#define T_TIMEOUT 60
#endif

static inline int t_main(const struct t_case *cases, int n, int argc, char **argv)
{
    int failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(cases[i].name, argv[1]))
            continue;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(T_TIMEOUT);
            cases[i].fn();
            fflush(stdout);
            _exit(t_failures ? 1 : 0);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0) {
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            printf("ok   %s\n", cases[i].name);
        } else {
            failed++;
            if (WIFSIGNALED(st))
                printf("FAIL %s: killed by signal %d%s\n", cases[i].name, WTERMSIG(st),
                       WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
            else
                printf("FAIL %s: exit %d\n", cases[i].name, WEXITSTATUS(st));
        }
    }
    return failed ? 1 : 0;
}

#define T_MAIN(...)                                                                               \
    int main(int argc, char **argv)                                                               \
    {                                                                                             \
        static const struct t_case cases[] = {__VA_ARGS__};                                       \
        return t_main(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);                  \
    }

#endif
