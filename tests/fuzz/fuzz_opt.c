/* libFuzzer target for the parsers of command-line values (src/core/opt.h, src/core/cpu.h):
 * the input, as a C string in an exact-size heap copy, is given to each of them.
 *   - opt_parse_int, with a few ranges: a value is within its range, and the ranges agree (a
 *     value accepted in a narrow range is the one accepted in the widest, and a value of the
 *     widest that lies in a narrow range is accepted there);
 *   - opt_parse_duration_ns: a duration is 0..9e18 ns; opt_parse_size: a size is at most 9e18;
 *   - cpuset_parse: the count (at least 1) is the set's, a refused list leaves the set empty;
 *     cpuset_format of the set parses back to the same set, and formatted into a short
 *     buffer it is a NUL-terminated prefix of the whole that ends between two numbers;
 *   - opt_split_list, with the workload and the language names: the count is 1..max, and the
 *     names are the comma-separated fields of the input in order (empty ones skipped), each
 *     one allowed, each in the store.
 * Every refusal explains itself where the parser has a message. abort() on any violation. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/opt.h"

static void check_int(const char *s)
{
    static const int64_t ranges[][2] = {{INT64_MIN, INT64_MAX}, {1, 1024}, {0, 0}, {-5, 5},
                                        {1, INT64_MAX}};
    int64_t wide = 0;
    bool wide_ok = opt_parse_int(s, ranges[0][0], ranges[0][1], &wide) == 0;
    for (size_t r = 1; r < sizeof ranges / sizeof ranges[0]; r++) {
        int64_t v = 0;
        bool ok = opt_parse_int(s, ranges[r][0], ranges[r][1], &v) == 0;
        if (ok && (v < ranges[r][0] || v > ranges[r][1] || !wide_ok || v != wide))
            abort();
        if (!ok && wide_ok && wide >= ranges[r][0] && wide <= ranges[r][1])
            abort();
    }
}

static void check_duration_size(const char *s)
{
    int64_t ns = -1;
    if (opt_parse_duration_ns(s, &ns) == 0 && (ns < 0 || ns > (int64_t)9e18))
        abort();
    uint64_t bytes = 0;
    if (opt_parse_size(s, &bytes) == 0 && bytes > (uint64_t)9e18)
        abort();
}

static void check_cpus(const char *s)
{
    cpuset_t set;
    int n = cpuset_parse(s, &set);
    if (n < 0) {
        if (n != -1 || cpuset_count(&set) != 0)
            abort();
        return;
    }
    if (n < 1 || n != cpuset_count(&set))
        abort();
    static char full[8 * CPUSET_MAX];
    cpuset_format(&set, full, sizeof full);
    size_t flen = strlen(full);
    cpuset_t again;
    if (cpuset_parse(full, &again) != n || !CPU_EQUAL(&set.set, &again.set))
        abort();
    int cpus[CPUSET_MAX];
    if (cpuset_list(&set, cpus, CPUSET_MAX) != n)
        abort();
    for (int i = 0; i < n; i++)
        if (!cpuset_has(&set, cpus[i]) || (i > 0 && cpus[i] <= cpus[i - 1]))
            abort();
    /* cut short: whole numbers only */
    static const size_t shorts[] = {1, 2, 3, 5, 8, 13};
    for (size_t k = 0; k < sizeof shorts / sizeof shorts[0]; k++) {
        size_t cap = shorts[k];
        char *out = malloc(cap); /* exact size */
        cpuset_format(&set, out, cap);
        size_t len = strnlen(out, cap);
        if (len >= cap || len > flen || memcmp(out, full, len) != 0 ||
            (len > 0 && full[len] != ',' && full[len] != 0) || (flen < cap && len != flen))
            abort();
        free(out);
    }
}

static void check_list(const char *s, const char *const *allowed, int max, size_t storelen)
{
    const char *names[8];
    char why[256] = "";
    char *store = malloc(storelen); /* exact size */
    int n = opt_split_list(s, store, storelen, names, max, allowed, "names", why, sizeof why);
    if (n < 0) {
        if (n != -1 || !why[0])
            abort();
        free(store);
        return;
    }
    if (n < 1 || n > max || strlen(s) >= storelen)
        abort();
    /* the fields of s, in order, without the empty ones */
    const char *p = s;
    for (int i = 0; i < n; i++) {
        while (*p == ',')
            p++;
        size_t len = strcspn(p, ",");
        if (len == 0 || strlen(names[i]) != len || memcmp(names[i], p, len) != 0)
            abort();
        if (names[i] < store || names[i] + len >= store + storelen)
            abort();
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known |= strcmp(*a, names[i]) == 0;
        if (!known)
            abort();
        p += len;
    }
    while (*p == ',')
        p++;
    if (*p)
        abort(); /* a field left over */
    free(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;

    check_int(s);
    check_duration_size(s);
    check_cpus(s);
    static const char *const workloads[] = {"echo", "csv", "sql", NULL};
    static const char *const langs[] = {"c", "go", "rust", NULL};
    check_list(s, workloads, 3, 256);
    check_list(s, langs, 4, 16);
    free(s);
    return 0;
}
