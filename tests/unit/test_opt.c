/* Tests for the flag tables (src/core/opt.c): every way of giving a flag, operands anywhere
 * and moved to the end, "--" and stop_at_operand, every value kind with its bounds, `seen`;
 * each error's exact line and exit status 2, from a child process; and the help text laid out
 * column by column. */
#include <fcntl.h>

#include "core/clock.h"
#include "core/opt.h"
#include "t.h"

/* ---- a command's table ---- (each test runs in a child process: the values start fresh) */

static bool quiet, verbose, quiet_seen, port_seen;
static int conns = 10, port = 8080;
static int64_t offset, dur_ns, timeout_ns;
static uint64_t seed, size;
static const char *body, *color, *shape;
static cpuset_t cpus;

static int parse_color(const char *arg, void *dst, char *why, size_t n)
{
    if (strcmp(arg, "red") != 0 && strcmp(arg, "blue") != 0) {
        snprintf(why, n, "expected red or blue, got '%s'", arg);
        return -1;
    }
    *(const char **)dst = arg;
    return 0;
}

/* An OPT_FN that refuses without saying why. */
static int parse_shape(const char *arg, void *dst, char *why, size_t n)
{
    if (strcmp(arg, "round") != 0)
        return -1;
    *(const char **)dst = arg;
    return 0;
}

static const opt_t demo_opts[] = {
    {"quiet", 'q', OPT_BOOL, &quiet, NULL, "say nothing", .seen = &quiet_seen},
    {"verbose", 'v', OPT_BOOL, &verbose, NULL, "say more"},
    {"connections", 'c', OPT_INT, &conns, "N", "connections kept open (default 10)", 1, 100000,
     "1..100000 connections"},
    {"port", 'p', OPT_INT, &port, "PORT", "port (default 8080)", 1, 65535, .seen = &port_seen},
    {"offset", 0, OPT_INT64, &offset, "N", "an offset", -1000, 1000},
    {"seed", 0, OPT_UINT64, &seed, "N", "a seed"},
    {"duration", 'd', OPT_DURATION, &dur_ns, "DUR", "how long", NS_PER_MS, 3600 * NS_PER_S},
    {"timeout", 0, OPT_DURATION, &timeout_ns, "DUR", "no longest"},
    {"size", 0, OPT_SIZE, &size, "SIZE", "how much", 1},
    {"body", 0, OPT_STR, &body, "STRING", "request body"},
    {"cpus", 0, OPT_CPUS, &cpus, "LIST", "where"},
    {"color", 0, OPT_FN, &color, "NAME", "red or blue", .fn = parse_color},
    {"shape", 0, OPT_FN, &shape, "NAME", "round", .fn = parse_shape},
    {NULL},
};
static const opt_cmd_t demo = {"demo", "demo [flags] URL", "Demonstrates flags.", demo_opts, NULL,
                               false};
static const opt_cmd_t demo_stop = {"demo", "demo [flags] COMMAND...", NULL, demo_opts, NULL, true};

/* argv as opt_parse sees it: the command's name, then the arguments. */
static char *argv_[64];
static int argc_;

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static int parse(const opt_cmd_t *cmd, const char *const *args)
{
    argc_ = 0;
    argv_[argc_++] = (char *)cmd->name;
    for (; *args; args++)
        argv_[argc_++] = (char *)*args;
    argv_[argc_] = NULL;
    return opt_parse(cmd, argc_, argv_);
}

/* Expects argv_[first..argc_) to be the operands given, in order. */
static void check_operands(int first, const char *const *want)
{
    int n = 0;
    while (want[n])
        n++;
    CHECK_INT(first, argc_ - n);
    for (int i = 0; i < n && first + i < argc_; i++)
        CHECK_STR(argv_[first + i], want[i]);
}

/* What a child that runs opt_parse (or fn) said and how it ended. */
typedef struct {
    int status; /* exit status; 99: opt_parse returned */
    char out[8192], err[2048];
} run_t;

static void slurp(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = 0;
    close(fd);
}

static const opt_cmd_t *run_cmd;
static const char *const *run_args;
static void run_parse(void)
{
    parse(run_cmd, run_args);
}

/* fn in a child process with its stdout and stderr on pipes. */
static run_t run_child(void (*fn)(void))
{
    run_t r;
    int o[2], e[2];
    if (pipe(o) != 0 || pipe(e) != 0)
        exit(1);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(o[1], 1);
        dup2(e[1], 2);
        close(o[0]);
        close(o[1]);
        close(e[0]);
        close(e[1]);
        fn();
        fflush(stdout);
        _exit(99);
    }
    close(o[1]);
    close(e[1]);
    slurp(o[0], r.out, sizeof r.out); /* small outputs: the pipes hold them */
    slurp(e[0], r.err, sizeof r.err);
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
}

static run_t run_parse_child(const opt_cmd_t *cmd, const char *const *args)
{
    run_cmd = cmd;
    run_args = args;
    return run_child(run_parse);
}

/* Expects demo's flags args to fail with exactly "stackbench demo: MSG" and exit 2. */
#define CHECK_FAILS(args, msg)                                                                    \
    do {                                                                                          \
        run_t r_ = run_parse_child(&demo, args);                                                  \
        CHECK_INT(r_.status, 2);                                                                  \
        CHECK_STR(r_.err, "stackbench demo: " msg "\n");                                          \
        CHECK_STR(r_.out, "");                                                                    \
    } while (0)

/* ---- giving flags ---- */

TEST(long_flag_with_value_apart_or_after_equals)
{
    CHECK_INT(parse(&demo, ARGS("--connections", "20")), 3);
    CHECK_INT(conns, 20);
    CHECK_INT(parse(&demo, ARGS("--connections=30")), 2);
    CHECK_INT(conns, 30);
    parse(&demo, ARGS("--body=a=b")); /* the first '=' splits */
    CHECK_STR(body, "a=b");
    parse(&demo, ARGS("--body="));
    CHECK_STR(body, "");
}

TEST(short_flag_with_value_apart_or_attached)
{
    parse(&demo, ARGS("-c", "10"));
    CHECK_INT(conns, 10);
    parse(&demo, ARGS("-c11"));
    CHECK_INT(conns, 11);
    parse(&demo, ARGS("-p", "81", "-c", "12"));
    CHECK_INT(port, 81);
    CHECK_INT(conns, 12);
}

TEST(short_booleans_bundle)
{
    parse(&demo, ARGS("-qv"));
    CHECK(quiet);
    CHECK(verbose);
}

TEST(bundle_may_end_with_a_flag_that_takes_a_value)
{
    parse(&demo, ARGS("-qc7"));
    CHECK(quiet);
    CHECK_INT(conns, 7);
    parse(&demo, ARGS("-vc", "8"));
    CHECK(verbose);
    CHECK_INT(conns, 8);
}

TEST(booleans_long_and_short)
{
    CHECK(!quiet && !verbose);
    parse(&demo, ARGS("--quiet", "-v"));
    CHECK(quiet);
    CHECK(verbose);
}

TEST(value_that_looks_like_a_flag_is_the_value)
{
    parse(&demo, ARGS("--offset", "-5"));
    CHECK_INT(offset, -5);
    parse(&demo, ARGS("--body", "--quiet"));
    CHECK_STR(body, "--quiet");
    CHECK(!quiet);
    parse(&demo, ARGS("-c", "9", "--body", "--", "x"));
    CHECK_STR(body, "--");
}

TEST(last_value_given_wins)
{
    parse(&demo, ARGS("-c", "5", "--connections=7"));
    CHECK_INT(conns, 7);
}

TEST(seen_set_only_when_given)
{
    parse(&demo, ARGS("-v"));
    CHECK(!quiet_seen);
    CHECK(!port_seen);
    parse(&demo, ARGS("--port", "8080")); /* the default's value, but given */
    CHECK(port_seen);
    CHECK(!quiet_seen);
    parse(&demo, ARGS("-vq"));
    CHECK(quiet_seen);
}

TEST(flags_not_given_keep_their_defaults)
{
    parse(&demo, ARGS("-q"));
    CHECK_INT(conns, 10);
    CHECK_INT(port, 8080);
    CHECK(body == NULL);
}

/* ---- operands ---- */

TEST(operands_anywhere_move_to_the_end_in_order)
{
    int first = parse(&demo, ARGS("a", "-c", "5", "b", "--quiet", "c"));
    check_operands(first, ARGS("a", "b", "c"));
    CHECK_INT(conns, 5);
    CHECK(quiet);
}

TEST(no_operands_returns_argc)
{
    CHECK_INT(parse(&demo, ARGS("-q", "-c", "3")), 4);
    CHECK_INT(parse(&demo, (const char *const[]){NULL}), 1);
}

TEST(lone_dash_is_an_operand)
{
    int first = parse(&demo, ARGS("-q", "-", "-v"));
    check_operands(first, ARGS("-"));
    CHECK(verbose);
}

TEST(double_dash_ends_the_flags)
{
    int first = parse(&demo, ARGS("x", "-q", "--", "-v", "--nope", "y"));
    check_operands(first, ARGS("x", "-v", "--nope", "y"));
    CHECK(quiet);
    CHECK(!verbose);
    first = parse(&demo, ARGS("--"));
    check_operands(first, (const char *const[]){NULL});
}

TEST(stop_at_operand_leaves_the_rest_as_operands)
{
    int first = parse(&demo_stop, ARGS("-q", "psql", "-v", "--nope", "x"));
    check_operands(first, ARGS("psql", "-v", "--nope", "x"));
    CHECK(quiet);
    CHECK(!verbose);
    quiet = false;
    first = parse(&demo_stop, ARGS("-v", "--", "-q"));
    check_operands(first, ARGS("-q"));
    CHECK(!quiet);
}

TEST(stop_at_operand_help_after_the_operand_is_an_operand)
{
    int first = parse(&demo_stop, ARGS("cmd", "--help"));
    check_operands(first, ARGS("cmd", "--help"));
}

/* ---- value kinds ---- */

TEST(int_within_its_range)
{
    parse(&demo, ARGS("-c", "1"));
    CHECK_INT(conns, 1);
    parse(&demo, ARGS("-c", "100000"));
    CHECK_INT(conns, 100000);
}

TEST(int64_within_its_range)
{
    parse(&demo, ARGS("--offset", "-1000"));
    CHECK_INT(offset, -1000);
    parse(&demo, ARGS("--offset=1000"));
    CHECK_INT(offset, 1000);
}

TEST(uint64_decimal_and_hex)
{
    static const struct {
        const char *arg;
        uint64_t want;
    } ok[] = {{"0", 0},
              {"42", 42},
              {"010", 10}, /* decimal: a leading zero is not octal */
              {"0x10", 16},
              {"0XfF", 255},
              {"18446744073709551615", UINT64_MAX},
              {"0xffffffffffffffff", UINT64_MAX}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        seed = 7;
        parse(&demo, ARGS("--seed", ok[i].arg));
        if (seed != ok[i].want) {
            fprintf(stderr, "    --seed %s: %llu, expected %llu\n", ok[i].arg,
                    (unsigned long long)seed, (unsigned long long)ok[i].want);
            t_failures++;
        }
    }
}

TEST(duration_within_min_and_max)
{
    parse(&demo, ARGS("-d", "1ms"));
    CHECK_INT(dur_ns, NS_PER_MS);
    parse(&demo, ARGS("-d", "1h"));
    CHECK_INT(dur_ns, 3600 * NS_PER_S);
    parse(&demo, ARGS("--duration=1.5s"));
    CHECK_INT(dur_ns, 1500 * NS_PER_MS);
    parse(&demo, ARGS("--timeout", "100h")); /* max 0: no longest */
    CHECK_INT(timeout_ns, 360000 * NS_PER_S);
    parse(&demo, ARGS("--timeout", "0s"));
    CHECK_INT(timeout_ns, 0);
}

TEST(size_at_least_min)
{
    parse(&demo, ARGS("--size", "64k"));
    CHECK_INT(size, 65536);
    parse(&demo, ARGS("--size", "1"));
    CHECK_INT(size, 1);
    parse(&demo, ARGS("--size=16MiB"));
    CHECK_INT(size, 16 << 20);
}

TEST(str_is_the_argument_itself)
{
    const char *arg = "hello world";
    parse(&demo, ARGS("--body", arg));
    CHECK(body == arg);
}

TEST(cpus_is_a_cpu_list)
{
    parse(&demo, ARGS("--cpus", "0,2-3"));
    CHECK_INT(cpuset_count(&cpus), 3);
    CHECK(cpuset_has(&cpus, 0) && cpuset_has(&cpus, 2) && cpuset_has(&cpus, 3));
}

TEST(fn_gets_the_argument_and_its_destination)
{
    parse(&demo, ARGS("--color", "blue"));
    CHECK_STR(color, "blue");
    parse(&demo, ARGS("--shape=round"));
    CHECK_STR(shape, "round");
}

/* ---- errors: one line on stderr, exit 2 ---- */

TEST(missing_value_refused)
{
    CHECK_FAILS(ARGS("--port"), "--port: missing value");
    CHECK_FAILS(ARGS("-q", "-p"), "-p: missing value");
    CHECK_FAILS(ARGS("-qc"), "-c: missing value");
}

TEST(unknown_flag_refused)
{
    CHECK_FAILS(ARGS("--nope"), "unknown flag '--nope' (see stackbench demo --help)");
    CHECK_FAILS(ARGS("--nope=1"), "unknown flag '--nope' (see stackbench demo --help)");
    CHECK_FAILS(ARGS("-z"), "unknown flag '-z' (see stackbench demo --help)");
    CHECK_FAILS(ARGS("-qz"), "unknown flag '-z' (see stackbench demo --help)");
    /* no abbreviations */
    CHECK_FAILS(ARGS("--quie"), "unknown flag '--quie' (see stackbench demo --help)");
    CHECK_FAILS(ARGS("url", "--nope"), "unknown flag '--nope' (see stackbench demo --help)");
}

TEST(boolean_with_a_value_refused)
{
    CHECK_FAILS(ARGS("--quiet=1"), "--quiet: takes no value");
    CHECK_FAILS(ARGS("--quiet="), "--quiet: takes no value");
}

TEST(bad_value_says_the_table_expectation)
{
    CHECK_FAILS(ARGS("-c", "x"), "-c: expected 1..100000 connections, got 'x'");
    CHECK_FAILS(ARGS("-c0"), "-c: expected 1..100000 connections, got '0'");
    CHECK_FAILS(ARGS("--connections=100001"),
                "--connections: expected 1..100000 connections, got '100001'");
}

TEST(bad_int_says_its_range)
{
    CHECK_FAILS(ARGS("--port", "0"), "--port: expected 1..65535, got '0'");
    CHECK_FAILS(ARGS("--port", "65536"), "--port: expected 1..65535, got '65536'");
    CHECK_FAILS(ARGS("--port", "80x"), "--port: expected 1..65535, got '80x'");
    CHECK_FAILS(ARGS("--port="), "--port: expected 1..65535, got ''");
    CHECK_FAILS(ARGS("--offset", "-1001"), "--offset: expected -1000..1000, got '-1001'");
    CHECK_FAILS(ARGS("--offset", "99999999999999999999"),
                "--offset: expected -1000..1000, got '99999999999999999999'");
}

TEST(bad_uint64_refused)
{
    static const char *const bad[] = {"-1", "+1", " 1", "", "x", "1x", "0x", "0x-1", "0xg",
                                      "18446744073709551616", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_t r = run_parse_child(&demo, ARGS("--seed", bad[i]));
        char want[128];
        snprintf(want, sizeof want,
                 "stackbench demo: --seed: expected an unsigned 64-bit integer, got '%s'\n",
                 bad[i]);
        CHECK_INT(r.status, 2);
        CHECK_STR(r.err, want);
    }
}

TEST(bad_duration_says_what_a_duration_looks_like)
{
    CHECK_FAILS(ARGS("-d", "x"), "-d: expected a duration like 10s, 500ms or 2m, got 'x'");
    CHECK_FAILS(ARGS("-d", "500us"), "-d: expected a duration like 10s, 500ms or 2m, got '500us'");
    CHECK_FAILS(ARGS("-d", "61m"), "-d: expected a duration like 10s, 500ms or 2m, got '61m'");
    CHECK_FAILS(ARGS("--timeout", "-1s"),
                "--timeout: expected a duration like 10s, 500ms or 2m, got '-1s'");
}

TEST(bad_size_says_what_a_size_looks_like)
{
    CHECK_FAILS(ARGS("--size", "0"), "--size: expected a size like 1M, 64k or 65536, got '0'");
    CHECK_FAILS(ARGS("--size", "1Q"), "--size: expected a size like 1M, 64k or 65536, got '1Q'");
}

TEST(bad_cpus_says_what_a_cpu_list_looks_like)
{
    CHECK_FAILS(ARGS("--cpus", "3-1"), "--cpus: expected a CPU list like 0 or 0,2-3, got '3-1'");
    CHECK_FAILS(ARGS("--cpus", ""), "--cpus: expected a CPU list like 0 or 0,2-3, got ''");
}

TEST(bad_fn_value_says_its_own_message)
{
    CHECK_FAILS(ARGS("--color", "green"), "--color: expected red or blue, got 'green'");
    /* an FN that says nothing: the default expectation */
    CHECK_FAILS(ARGS("--shape", "square"), "--shape: expected a value, got 'square'");
}

TEST(error_after_good_flags_still_exits_2)
{
    CHECK_FAILS(ARGS("-q", "url", "-c", "5", "--nope"),
                "unknown flag '--nope' (see stackbench demo --help)");
}

static void fail_combination(void) { opt_fail("demo", "--rate needs --%s", "connections"); }

TEST(opt_fail_is_one_line_and_exit_2)
{
    run_t r = run_child(fail_combination);
    CHECK_INT(r.status, 2);
    CHECK_STR(r.err, "stackbench demo: --rate needs --connections\n");
}

TEST(good_flags_return_without_output)
{
    run_t r = run_parse_child(&demo, ARGS("-q", "-c", "5", "url"));
    CHECK_INT(r.status, 99);
    CHECK_STR(r.out, "");
    CHECK_STR(r.err, "");
}

/* ---- help ---- */

/* The command's help, in a buffer of its own for each of the last 4 calls. */
static const char *help_of(const opt_cmd_t *cmd)
{
    static char text[4][16384];
    static int next;
    char *t = text[next++ % 4];
    char *mem = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&mem, &n);
    opt_help(cmd, f);
    fclose(f);
    snprintf(t, sizeof text[0], "%s", mem);
    free(mem);
    return t;
}

static const opt_t help_opts[] = {
    {"connections", 'c', OPT_INT, &conns, "N", "connections kept open\n(default 10)", 1, 100},
    {"body", 0, OPT_STR, &body, "STRING", "request body"},
    {"quiet", 'q', OPT_BOOL, &quiet, "IGNORED", "say nothing"}, /* a boolean shows no value */
    {"a-flag-name-too-long", 0, OPT_STR, &body, "VALUE", "its text\non two lines"},
    {NULL},
};
static const opt_cmd_t help_cmd = {"demo", "demo [flags] URL\ndemo [flags] --mix SPEC...",
                                   "Loads a server.\n\nA second paragraph.", help_opts,
                                   "exit status: 0 when all went well", false};

TEST(help_lays_out_usage_about_flags_more_and_reference)
{
    const char *h = help_of(&help_cmd);
    CHECK_STR(h, "usage: stackbench demo [flags] URL\n"
                 "       stackbench demo [flags] --mix SPEC...\n"
                 "\n"
                 "Loads a server.\n"
                 "\n"
                 "A second paragraph.\n"
                 "\n"
                 "flags:\n"
                 "  -c, --connections N    connections kept open\n"
                 "                         (default 10)\n"
                 "      --body STRING      request body\n"
                 "  -q, --quiet            say nothing\n"
                 "      --a-flag-name-too-long VALUE\n"
                 "                         its text\n"
                 "                         on two lines\n"
                 "  -h, --help             this help\n"
                 "\n"
                 "exit status: 0 when all went well\n"
                 "\n"
                 "reference: docs/demo.md, man stackbench\n");
}

TEST(help_without_letters_has_no_letter_column)
{
    static const opt_t opts[] = {
        {"langs", 0, OPT_STR, &body, "LIST", "languages"},
        {"fast", 0, OPT_BOOL, &quiet, NULL, "go fast"},
        {NULL},
    };
    static const opt_cmd_t cmd = {"run", "run [flags]", NULL, opts, NULL, false};
    const char *h = help_of(&cmd);
    CHECK_STR(h, "usage: stackbench run [flags]\n"
                 "\n"
                 "flags:\n"
                 "  --langs LIST           languages\n"
                 "  --fast                 go fast\n"
                 "  -h, --help             this help\n"
                 "\n"
                 "reference: docs/run.md, man stackbench\n");
}

TEST(help_about_and_more_ending_in_a_newline_get_no_second_one)
{
    static const opt_t opts[] = {{NULL}};
    static const opt_cmd_t cmd = {"gen", "gen [flags]", "About.\n", opts, "More.\n", false};
    const char *h = help_of(&cmd);
    CHECK_STR(h, "usage: stackbench gen [flags]\n"
                 "\n"
                 "About.\n"
                 "\n"
                 "flags:\n"
                 "  -h, --help             this help\n"
                 "\n"
                 "More.\n"
                 "\n"
                 "reference: docs/gen.md, man stackbench\n");
}

TEST(help_flag_too_long_for_the_column_puts_its_text_below)
{
    /* "      --abcdefghij MMMM" is 23 columns: 2 blanks to column 25; one more and it does not
     * fit */
    static const opt_t opts[] = {
        {"abcdefghij", 'x', OPT_STR, &body, "MMMM", "fits"},
        {"abcdefghij-", 0, OPT_STR, &body, "MMMM", "below"},
        {NULL},
    };
    static const opt_cmd_t cmd = {"demo", "demo [flags]", NULL, opts, NULL, false};
    const char *h = help_of(&cmd);
    CHECK(strstr(h, "\n  -x, --abcdefghij MMMM  fits\n") != NULL);
    CHECK(strstr(h, "\n      --abcdefghij- MMMM\n                         below\n") != NULL);
}

TEST(help_entry_without_text_is_a_line_of_its_own)
{
    static const opt_t opts[] = {
        {"plain", 0, OPT_BOOL, &quiet, NULL, NULL},
        {"empty", 0, OPT_BOOL, &quiet, NULL, ""},
        {NULL},
    };
    static const opt_cmd_t cmd = {"demo", "demo [flags]", "", opts, "", false};
    const char *h = help_of(&cmd);
    CHECK_STR(h, "usage: stackbench demo [flags]\n"
                 "\n"
                 "flags:\n"
                 "  --plain\n"
                 "  --empty\n"
                 "  -h, --help             this help\n"
                 "\n"
                 "reference: docs/demo.md, man stackbench\n");
}

/* Every line of the flags section: an entry whose text starts at column 25 (blanks before
 * it), a continuation line of 25 blanks and its text, or an entry alone on its line (too long
 * for the column, or without text), without trailing blanks. */
static void check_columns(const char *h)
{
    const char *p = strstr(h, "\nflags:\n");
    CHECK(p != NULL);
    if (!p)
        return;
    int lines = 0;
    for (p += 8; *p && *p != '\n'; lines++) {
        size_t n = strcspn(p, "\n");
        bool flag = strncmp(p, "  -", 3) == 0 || strncmp(p, "      --", 8) == 0;
        bool continuation = n > 25 && strspn(p, " ") == 25;
        bool entry = flag && n > 25 && p[23] == ' ' && p[24] == ' ' && p[25] != ' ';
        size_t lead = strspn(p, " ");
        bool alone = flag && !memmem(p + lead, n - lead, "  ", 2) && p[n - 1] != ' ';
        if (!continuation && !entry && !alone) {
            fprintf(stderr, "    not at column 25: '%.*s'\n", (int)n, p);
            t_failures++;
        }
        p += n + (p[n] == '\n');
    }
    CHECK(lines > 0);
}

TEST(help_descriptions_start_at_column_25_on_every_line)
{
    const char *h = help_of(&demo);
    check_columns(h);
    h = help_of(&help_cmd);
    check_columns(h);
}

TEST(help_lists_every_flag_of_the_table_then_help_last)
{
    const char *h = help_of(&demo);
    const char *at = h;
    for (const opt_t *o = demo_opts; o->name; o++) {
        char want[64];
        snprintf(want, sizeof want, "--%s%s%s", o->name, o->kind == OPT_BOOL ? "" : " ",
                 o->kind == OPT_BOOL ? "" : o->meta);
        const char *f = strstr(at, want);
        if (!f) {
            fprintf(stderr, "    '%s' missing or out of order\n", want);
            t_failures++;
            continue;
        }
        at = f;
    }
    const char *help = strstr(h, "  -h, --help             this help\n");
    CHECK(help != NULL && help > at);
    CHECK(help && strstr(help, "\n\nreference: docs/demo.md, man stackbench\n") != NULL);
}

static void expect_help(const char *const *args)
{
    const char *want = help_of(&demo);
    run_t r = run_parse_child(&demo, args);
    CHECK_INT(r.status, 0);
    CHECK_STR(r.out, want);
    CHECK_STR(r.err, "");
}

TEST(dash_h_and_help_print_the_help_and_exit_0)
{
    expect_help(ARGS("-h"));
    expect_help(ARGS("--help"));
    expect_help(ARGS("url", "-c", "5", "--help")); /* anywhere among the flags */
    expect_help(ARGS("-qh"));
}

T_MAIN(T(long_flag_with_value_apart_or_after_equals), T(short_flag_with_value_apart_or_attached),
       T(short_booleans_bundle), T(bundle_may_end_with_a_flag_that_takes_a_value),
       T(booleans_long_and_short), T(value_that_looks_like_a_flag_is_the_value),
       T(last_value_given_wins), T(seen_set_only_when_given),
       T(flags_not_given_keep_their_defaults), T(operands_anywhere_move_to_the_end_in_order),
       T(no_operands_returns_argc), T(lone_dash_is_an_operand), T(double_dash_ends_the_flags),
       T(stop_at_operand_leaves_the_rest_as_operands),
       T(stop_at_operand_help_after_the_operand_is_an_operand), T(int_within_its_range),
       T(int64_within_its_range), T(uint64_decimal_and_hex), T(duration_within_min_and_max),
       T(size_at_least_min), T(str_is_the_argument_itself), T(cpus_is_a_cpu_list),
       T(fn_gets_the_argument_and_its_destination), T(missing_value_refused),
       T(unknown_flag_refused), T(boolean_with_a_value_refused),
       T(bad_value_says_the_table_expectation), T(bad_int_says_its_range), T(bad_uint64_refused),
       T(bad_duration_says_what_a_duration_looks_like), T(bad_size_says_what_a_size_looks_like),
       T(bad_cpus_says_what_a_cpu_list_looks_like), T(bad_fn_value_says_its_own_message),
       T(error_after_good_flags_still_exits_2), T(opt_fail_is_one_line_and_exit_2),
       T(good_flags_return_without_output), T(help_lays_out_usage_about_flags_more_and_reference),
       T(help_without_letters_has_no_letter_column),
       T(help_about_and_more_ending_in_a_newline_get_no_second_one),
       T(help_flag_too_long_for_the_column_puts_its_text_below),
       T(help_entry_without_text_is_a_line_of_its_own),
       T(help_descriptions_start_at_column_25_on_every_line),
       T(help_lists_every_flag_of_the_table_then_help_last),
       T(dash_h_and_help_print_the_help_and_exit_0))
