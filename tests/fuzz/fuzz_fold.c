/* libFuzzer target for telemetry/profile's readers: `perf script` text folded (prof_fold) and
 * folded stacks read back (prof_read_folded), from an exact-size heap copy of the input (no
 * NUL after it). For each that succeeds:
 *   - the samples are the sum of the counts, and no stack is empty or holds a line end;
 *   - the stacks are sorted and distinct;
 *   - the top's self counts add up to at most the samples, most first;
 *   - written as folded stacks and read back, the profile is the same.
 * abort() on any mismatch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "telemetry/profile.h"

static void check(const prof_t *p)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *s = p->stacks[i].stack;
        if (!*s || strchr(s, '\n') || (i && strcmp(p->stacks[i - 1].stack, s) >= 0))
            abort();
        sum += p->stacks[i].count;
    }
    if (sum != p->samples)
        abort();
    prof_fn_t top[8];
    int n = prof_top(p, top, 8);
    uint64_t self = 0;
    for (int i = 0; i < n; i++) {
        if (i && top[i].self > top[i - 1].self)
            abort();
        self += top[i].self;
    }
    if (self > p->samples)
        abort();
    /* The folded text, read back. */
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < p->n; i++)
        buf_printf(&b, "%s %llu\n", p->stacks[i].stack, (unsigned long long)p->stacks[i].count);
    prof_t q = {0};
    char err[256];
    if (prof_read_folded(buf_start(&b), buf_size(&b), &q, err, sizeof err) != 0 || q.n != p->n ||
        q.samples != p->samples)
        abort();
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(q.stacks[i].stack, p->stacks[i].stack) || q.stacks[i].count != p->stacks[i].count)
            abort();
    prof_free(&q);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    prof_t p = {0};
    char err[256];
    if (prof_fold(copy, size, &p, err, sizeof err) == 0)
        check(&p);
    if (prof_read_folded(copy, size, &p, err, sizeof err) == 0)
        check(&p);
    prof_free(&p);
    free(copy);
    return 0;
}
