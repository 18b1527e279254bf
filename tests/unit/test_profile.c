/* Tests for telemetry/profile: `perf script -F comm,tid,time,ip,sym,dso` text folded into
 * stacks (root first, counted), frame names (kernel, unknown symbols, a file only, ';' in a
 * name), the top of self samples, the folded file, and the binary's unwinding (a Go binary
 * gets frame pointers, anything else DWARF). */
#include <unistd.h>

#include "core/buf.h"
#include "telemetry/profile.h"
#include "t.h"

/* Three samples of one stack, one of another, a kernel one and one whose frames perf could
 * not name; the last sample has no blank line after it. */
static const char script[] =
    "stackbench 19224   467.791816: \n"
    "\t           4c603 match_price (inlined)\n"
    "\t           4c603 csv_aggregate (/work/build/stackbench)\n"
    "\t           3d827 csv_post (/work/build/stackbench)\n"
    "\t           891f4 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
    "stackbench 19224   467.792968: \n"
    "\t           4c603 match_price (inlined)\n"
    "\t           4c603 csv_aggregate (/work/build/stackbench)\n"
    "\t           3d827 csv_post (/work/build/stackbench)\n"
    "\t           891f4 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
    "stackbench 19225   467.793968: \n"
    "\t           4c100 csv_aggregate (/work/build/stackbench)\n"
    "\t           3d827 csv_post (/work/build/stackbench)\n"
    "\t           891f4 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
    "stackbench 19224   467.794968: \n"
    "\t           4c603 match_price (inlined)\n"
    "\t           4c603 csv_aggregate (/work/build/stackbench)\n"
    "\t           3d827 csv_post (/work/build/stackbench)\n"
    "\t           891f4 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\n"
    "tokio-runtime-w 19226   467.795000: \n"
    "\tffffffff8206e790 tcp_recvmsg_locked ([kernel.kallsyms])\n"
    "\t          10a974 __libc_recv (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\t           5a02e <axum::Router as tower::Service<T>>::call (/bin/rust peer)\n"
    "\n"
    "yes 14942   368.278821: \n"
    "\t            5246 [unknown] (/usr/bin/yes)\n"
    "\t 30320a0d3833312c [unknown] ([unknown])\n"
    "\n"
    "odd 1 1.0: \n"
    "\t            5246 a;b (/x)";

TEST(fold_counts_each_distinct_stack_root_first)
{
    prof_t p = {0};
    char err[256] = "";
    CHECK_INT(prof_fold(script, sizeof script - 1, &p, err, sizeof err), 0);
    CHECK_INT(p.samples, 7);
    CHECK_INT(p.n, 5);
    CHECK_INT(p.period_ns, 1000000000 / 997);
    bool seen[5] = {0};
    for (size_t i = 0; i < p.n; i++) {
        const char *s = p.stacks[i].stack;
        if (!strcmp(s, "start_thread;csv_post;csv_aggregate;match_price"))
            seen[0] = p.stacks[i].count == 3;
        else if (!strcmp(s, "start_thread;csv_post;csv_aggregate"))
            seen[1] = p.stacks[i].count == 1;
        else if (!strcmp(s, "<axum::Router as tower::Service<T>>::call;__libc_recv;"
                             "tcp_recvmsg_locked_[k]"))
            seen[2] = p.stacks[i].count == 1;
        else if (!strcmp(s, "[unknown];[yes]"))
            seen[3] = p.stacks[i].count == 1;
        else if (!strcmp(s, "a:b"))
            seen[4] = p.stacks[i].count == 1;
        else
            fprintf(stderr, "    unexpected stack: %s\n", s);
    }
    for (int i = 0; i < 5; i++)
        CHECK(seen[i]);
    for (size_t i = 1; i < p.n; i++) /* sorted: the same text folds to the same file */
        CHECK(strcmp(p.stacks[i - 1].stack, p.stacks[i].stack) < 0);
    prof_free(&p);
}

TEST(fold_of_nothing_is_empty_and_a_stray_frame_is_an_error)
{
    prof_t p = {0};
    char err[256] = "";
    CHECK_INT(prof_fold("", 0, &p, err, sizeof err), 0);
    CHECK_INT(p.samples, 0);
    CHECK_INT(p.n, 0);
    err[0] = 0;
    CHECK_INT(prof_fold("\t  4c603 f (/x)\n", 16, &p, err, sizeof err), -1);
    CHECK(strstr(err, "line 1") != NULL);
    prof_free(&p);
}

TEST(top_sums_self_samples_per_leaf_function)
{
    prof_t p = {0};
    char err[256] = "";
    CHECK_INT(prof_fold(script, sizeof script - 1, &p, err, sizeof err), 0);
    prof_fn_t top[3];
    int n = prof_top(&p, top, 3);
    CHECK_INT(n, 3);
    CHECK_MEM(top[0].name, top[0].name_len, "match_price");
    CHECK_INT(top[0].self, 3);
    CHECK(top[0].self_pct > 42.8 && top[0].self_pct < 42.9); /* 3 of 7 */
    /* Ties (1 each) in name order: "[yes]" < "a:b" < "csv_aggregate" in bytes. */
    CHECK_MEM(top[1].name, top[1].name_len, "[yes]");
    CHECK_MEM(top[2].name, top[2].name_len, "a:b");
    prof_fn_t all[16];
    CHECK_INT(prof_top(&p, all, 16), 5);
    prof_free(&p);
}

TEST(folded_file_is_a_stack_and_its_count_a_line)
{
    prof_t p = {0};
    char err[256] = "", path[] = "/tmp/sb-test-fold-XXXXXX";
    CHECK_INT(prof_fold(script, sizeof script - 1, &p, err, sizeof err), 0);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(prof_write_folded(&p, path), 0);
    buf_t b = BUF_INIT;
    CHECK_INT(buf_read_file(&b, path), 0);
    CHECK(strstr(buf_start(&b), "\nstart_thread;csv_post;csv_aggregate;match_price 3\n") != NULL);
    int lines = 0;
    for (const char *c = buf_start(&b); *c; c++)
        lines += *c == '\n';
    CHECK_INT(lines, 5);
    buf_free(&b);
    unlink(path);
    prof_free(&p);
}

TEST(folded_file_reads_back_to_the_same_stacks)
{
    prof_t p = {0}, q = {0};
    char err[256] = "", path[] = "/tmp/sb-test-fold-XXXXXX";
    CHECK_INT(prof_fold(script, sizeof script - 1, &p, err, sizeof err), 0);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(prof_write_folded(&p, path), 0);
    buf_t b = BUF_INIT;
    CHECK_INT(buf_read_file(&b, path), 0);
    CHECK_INT(prof_read_folded(buf_start(&b), buf_size(&b), &q, err, sizeof err), 0);
    CHECK_INT(q.n, p.n);
    CHECK_INT(q.samples, p.samples);
    for (size_t i = 0; i < p.n && i < q.n; i++) {
        CHECK_STR(q.stacks[i].stack, p.stacks[i].stack);
        CHECK_INT(q.stacks[i].count, p.stacks[i].count);
    }
    /* A name with spaces keeps them: the count is after the last one. */
    static const char spaced[] = "a;<T as core::fmt::Display>::fmt 12\n\nb 3\n";
    CHECK_INT(prof_read_folded(spaced, sizeof spaced - 1, &q, err, sizeof err), 0);
    CHECK_INT(q.n, 2);
    CHECK_STR(q.stacks[0].stack, "a;<T as core::fmt::Display>::fmt");
    CHECK_INT(q.stacks[0].count, 12);
    static const char bad[] = "a;b 3\nno count\n";
    CHECK_INT(prof_read_folded(bad, sizeof bad - 1, &q, err, sizeof err), -1);
    CHECK(strstr(err, "line 2") != NULL);
    buf_free(&b);
    unlink(path);
    prof_free(&p);
    prof_free(&q);
}

TEST(unwinding_is_dwarf_for_this_c_binary)
{
    CHECK_INT(prof_unwind_for(getpid()), PROF_UNWIND_DWARF);
    CHECK_STR(prof_unwind_name(PROF_UNWIND_FP), "fp");
    CHECK_STR(prof_unwind_name(PROF_UNWIND_DWARF), "dwarf");
}

T_MAIN(T(fold_counts_each_distinct_stack_root_first),
       T(fold_of_nothing_is_empty_and_a_stray_frame_is_an_error),
       T(top_sums_self_samples_per_leaf_function), T(folded_file_is_a_stack_and_its_count_a_line),
       T(folded_file_reads_back_to_the_same_stacks),
       T(unwinding_is_dwarf_for_this_c_binary))
