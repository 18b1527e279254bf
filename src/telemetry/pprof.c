/* pprof: profile.pb.gz from folded stacks (pprof.h). */
#include "telemetry/pprof.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pb_profile_t;
typedef Perftools__Profiles__Sample pb_sample_t;
typedef Perftools__Profiles__Location pb_location_t;
typedef Perftools__Profiles__Line pb_line_t;
typedef Perftools__Profiles__Function pb_function_t;
typedef Perftools__Profiles__ValueType pb_value_type_t;

/* The string table: each distinct string once, index 0 the empty one; an open-addressing
 * index over it (slot: index + 1, 0 empty). */
typedef struct {
    char **s;
    size_t n, cap;
    size_t *slots, nslots;
} strtab_t;

static uint64_t hash_mem(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static int strtab_grow(strtab_t *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 256;
    size_t *sl = calloc(n, sizeof *sl);
    if (!sl)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t at = hash_mem(t->s[i], strlen(t->s[i])) & (n - 1);
        while (sl[at])
            at = (at + 1) & (n - 1);
        sl[at] = i + 1;
    }
    free(t->slots);
    t->slots = sl;
    t->nslots = n;
    return 0;
}

/* The index of s[0..len) in the table, added when new; -1 when out of memory. */
static int64_t strtab_id(strtab_t *t, const char *s, size_t len)
{
    if ((t->n + 1) * 2 > t->nslots && strtab_grow(t))
        return -1;
    size_t at = hash_mem(s, len) & (t->nslots - 1);
    while (t->slots[at]) {
        const char *x = t->s[t->slots[at] - 1];
        if (strlen(x) == len && memcmp(x, s, len) == 0)
            return (int64_t)t->slots[at] - 1;
        at = (at + 1) & (t->nslots - 1);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        char **ns = realloc(t->s, cap * sizeof *ns);
        if (!ns)
            return -1;
        t->s = ns;
        t->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = 0;
    t->s[t->n] = c;
    t->slots[at] = ++t->n;
    return (int64_t)t->n - 1;
}

static void strtab_free(strtab_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->slots);
}

static int gzip_append(const uint8_t *in, size_t n, buf_t *out)
{
    z_stream z = {0};
    /* 15 + 16: a gzip header and trailer around the deflate stream. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong bound = deflateBound(&z, (uLong)n) + 32;
    if (buf_reserve(out, bound)) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)buf_end(out);
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END)
        buf_commit(out, bound - z.avail_out);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

int pprof_encode(const prof_t *p, buf_t *out, char *err, size_t errlen)
{
    strtab_t st = {0};
    pb_value_type_t types[2] = {PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
                                PERFTOOLS__PROFILES__VALUE_TYPE__INIT};
    pb_value_type_t period = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    pb_value_type_t *type_ptrs[2] = {&types[0], &types[1]};
    pb_sample_t *samples = calloc(p->n ? p->n : 1, sizeof *samples);
    pb_sample_t **sample_ptrs = calloc(p->n ? p->n : 1, sizeof *sample_ptrs);
    int64_t *values = calloc(p->n ? p->n * 2 : 1, sizeof *values);
    /* A function (and its one location) per distinct frame name: ids are the name's string
     * index, so the tables are indexed by it. */
    size_t fcap = 256, nfn = 0;
    int64_t *fn_name = malloc(fcap * sizeof *fn_name);
    uint64_t *fn_of_str = NULL; /* string index -> function id, 0: none */
    size_t fn_of_str_cap = 0;
    size_t nframes_all = 0;
    for (size_t i = 0; i < p->n; i++) {
        nframes_all += 1;
        for (const char *c = p->stacks[i].stack; *c; c++)
            nframes_all += *c == ';';
    }
    uint64_t *locs = malloc((nframes_all ? nframes_all : 1) * sizeof *locs);
    int rc = -1;
    uint8_t *packed = NULL;
    pb_function_t *fns = NULL;
    pb_function_t **fn_ptrs = NULL;
    pb_location_t *lc = NULL;
    pb_location_t **lc_ptrs = NULL;
    pb_line_t *lines = NULL;
    pb_line_t **line_ptrs = NULL;
    if (!samples || !sample_ptrs || !values || !fn_name || !locs || strtab_id(&st, "", 0) != 0)
        goto oom;
    int64_t s_samples = strtab_id(&st, "samples", 7), s_count = strtab_id(&st, "count", 5),
            s_cpu = strtab_id(&st, "cpu", 3), s_ns = strtab_id(&st, "nanoseconds", 11);
    if (s_samples < 0 || s_count < 0 || s_cpu < 0 || s_ns < 0)
        goto oom;
    types[0].type = s_samples;
    types[0].unit = s_count;
    types[1].type = s_cpu;
    types[1].unit = s_ns;
    period.type = s_cpu;
    period.unit = s_ns;

    size_t at = 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *s = p->stacks[i].stack;
        size_t first = at;
        for (const char *c = s;;) { /* root first in the fold */
            const char *e = strchr(c, ';');
            size_t len = e ? (size_t)(e - c) : strlen(c);
            int64_t id = strtab_id(&st, c, len);
            if (id < 0)
                goto oom;
            if ((size_t)id >= fn_of_str_cap) {
                size_t cap = fn_of_str_cap ? fn_of_str_cap : 256;
                while (cap <= (size_t)id)
                    cap *= 2;
                uint64_t *nf = realloc(fn_of_str, cap * sizeof *nf);
                if (!nf)
                    goto oom;
                memset(nf + fn_of_str_cap, 0, (cap - fn_of_str_cap) * sizeof *nf);
                fn_of_str = nf;
                fn_of_str_cap = cap;
            }
            if (!fn_of_str[id]) {
                if (nfn == fcap) {
                    int64_t *nn = realloc(fn_name, fcap * 2 * sizeof *nn);
                    if (!nn)
                        goto oom;
                    fn_name = nn;
                    fcap *= 2;
                }
                fn_name[nfn++] = id;
                fn_of_str[id] = nfn;
            }
            locs[at++] = fn_of_str[id];
            if (!e)
                break;
            c = e + 1;
        }
        /* pprof wants the leaf first. */
        for (size_t a = first, b = at - 1; a < b; a++, b--) {
            uint64_t t = locs[a];
            locs[a] = locs[b];
            locs[b] = t;
        }
        pb_sample_t *sm = &samples[i];
        perftools__profiles__sample__init(sm);
        sm->n_location_id = at - first;
        sm->location_id = &locs[first];
        values[2 * i] = (int64_t)p->stacks[i].count;
        values[2 * i + 1] = (int64_t)p->stacks[i].count * p->period_ns;
        sm->n_value = 2;
        sm->value = &values[2 * i];
        sample_ptrs[i] = sm;
    }

    fns = calloc(nfn ? nfn : 1, sizeof *fns);
    fn_ptrs = calloc(nfn ? nfn : 1, sizeof *fn_ptrs);
    lc = calloc(nfn ? nfn : 1, sizeof *lc);
    lc_ptrs = calloc(nfn ? nfn : 1, sizeof *lc_ptrs);
    lines = calloc(nfn ? nfn : 1, sizeof *lines);
    line_ptrs = calloc(nfn ? nfn : 1, sizeof *line_ptrs);
    if (!fns || !fn_ptrs || !lc || !lc_ptrs || !lines || !line_ptrs)
        goto oom;
    for (size_t i = 0; i < nfn; i++) {
        perftools__profiles__function__init(&fns[i]);
        fns[i].id = i + 1;
        fns[i].name = fns[i].system_name = fn_name[i];
        fn_ptrs[i] = &fns[i];
        perftools__profiles__line__init(&lines[i]);
        lines[i].function_id = i + 1;
        line_ptrs[i] = &lines[i];
        perftools__profiles__location__init(&lc[i]);
        lc[i].id = i + 1;
        lc[i].n_line = 1;
        lc[i].line = &line_ptrs[i];
        lc_ptrs[i] = &lc[i];
    }

    pb_profile_t pr = PERFTOOLS__PROFILES__PROFILE__INIT;
    pr.n_sample_type = 2;
    pr.sample_type = type_ptrs;
    pr.n_sample = p->n;
    pr.sample = sample_ptrs;
    pr.n_location = nfn;
    pr.location = lc_ptrs;
    pr.n_function = nfn;
    pr.function = fn_ptrs;
    pr.n_string_table = st.n;
    pr.string_table = st.s;
    pr.time_nanos = p->start_ns;
    pr.duration_nanos = p->duration_ns;
    pr.period_type = &period;
    pr.period = p->period_ns;
    size_t n = perftools__profiles__profile__get_packed_size(&pr);
    packed = malloc(n ? n : 1);
    if (!packed)
        goto oom;
    perftools__profiles__profile__pack(&pr, packed);
    if (gzip_append(packed, n, out)) {
        snprintf(err, errlen, "gzip of %zu bytes failed", n);
        goto done;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory encoding %zu stacks", p->n);
done:
    free(packed);
    free(fns);
    free(fn_ptrs);
    free(lc);
    free(lc_ptrs);
    free(lines);
    free(line_ptrs);
    free(fn_of_str);
    free(fn_name);
    free(locs);
    free(values);
    free(sample_ptrs);
    free(samples);
    strtab_free(&st);
    return rc;
}

int pprof_write(const prof_t *p, const char *path, char *err, size_t errlen)
{
    buf_t b = BUF_INIT;
    int rc = pprof_encode(p, &b, err, errlen);
    if (rc == 0 && (rc = buf_write_file(&b, path)) != 0)
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    buf_free(&b);
    return rc ? -1 : 0;
}
