/* Tests for telemetry/pprof: folded stacks encoded as profile.pb.gz, read back with zlib and
 * the protobuf-c code generated from src/telemetry/proto/profile.proto (sample types, period,
 * samples leaf first with their two values, functions by name, the string table), and read
 * by `go tool pprof -top`, whose flat figures must be the fold's self counts. Needs go (on
 * PATH or /usr/local/go/bin/go): without it that test fails, saying so. */
#include <unistd.h>
#include <zlib.h>

#define T_TIMEOUT 300 /* go tool pprof, built on its first use */

#include "core/buf.h"
#include "core/proc.h"
#include "profile.pb-c.h"
#include "t.h"
#include "telemetry/pprof.h"
#include "telemetry/profile.h"

/* main;work;hot ×6, main;work ×3, main;idle_[k] ×1. */
static void make_profile(prof_t *p)
{
    static const char script[] = "t 1 1.0: \n\t1 hot (/b)\n\t2 work (/b)\n\t3 main (/b)\n\n";
    static const char work[] = "t 1 1.0: \n\t2 work (/b)\n\t3 main (/b)\n\n";
    static const char idle[] = "t 1 1.0: \n\t2 idle ([kernel.kallsyms])\n\t3 main (/b)\n\n";
    buf_t b = BUF_INIT;
    for (int i = 0; i < 6; i++)
        buf_puts(&b, script);
    for (int i = 0; i < 3; i++)
        buf_puts(&b, work);
    buf_puts(&b, idle);
    char err[256] = "";
    if (prof_fold(buf_start(&b), buf_size(&b), p, err, sizeof err))
        fprintf(stderr, "    fold: %s\n", err);
    p->start_ns = 1700000000000000000LL;
    p->duration_ns = 10000000000LL;
    buf_free(&b);
}

static int gunzip(const buf_t *in, buf_t *out)
{
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return -1;
    z.next_in = (Bytef *)buf_start(in);
    z.avail_in = (uInt)buf_size(in);
    int rc;
    do {
        if (buf_reserve(out, 65536))
            return -1;
        z.next_out = (Bytef *)buf_end(out);
        z.avail_out = 65536;
        rc = inflate(&z, Z_NO_FLUSH);
        buf_commit(out, 65536 - z.avail_out);
    } while (rc == Z_OK);
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static const char *str(const Perftools__Profiles__Profile *pr, int64_t i)
{
    return i >= 0 && (size_t)i < pr->n_string_table ? pr->string_table[i] : "(out of range)";
}

static const char *fn_name(const Perftools__Profiles__Profile *pr, uint64_t loc_id)
{
    for (size_t i = 0; i < pr->n_location; i++)
        if (pr->location[i]->id == loc_id && pr->location[i]->n_line == 1)
            for (size_t k = 0; k < pr->n_function; k++)
                if (pr->function[k]->id == pr->location[i]->line[0]->function_id)
                    return str(pr, pr->function[k]->name);
    return "(no such location)";
}

TEST(encoded_profile_decodes_back_with_every_sample)
{
    prof_t p = {0};
    make_profile(&p);
    buf_t gz = BUF_INIT, raw = BUF_INIT;
    char err[256] = "";
    CHECK_INT(pprof_encode(&p, &gz, err, sizeof err), 0);
    CHECK((unsigned char)buf_start(&gz)[0] == 0x1f && (unsigned char)buf_start(&gz)[1] == 0x8b);
    CHECK_INT(gunzip(&gz, &raw), 0);
    Perftools__Profiles__Profile *pr = perftools__profiles__profile__unpack(
        NULL, buf_size(&raw), (const uint8_t *)buf_start(&raw));
    CHECK(pr != NULL);
    if (!pr)
        return;
    CHECK_STR(pr->string_table[0], "");
    CHECK_INT(pr->n_sample_type, 2);
    CHECK_STR(str(pr, pr->sample_type[0]->type), "samples");
    CHECK_STR(str(pr, pr->sample_type[0]->unit), "count");
    CHECK_STR(str(pr, pr->sample_type[1]->type), "cpu");
    CHECK_STR(str(pr, pr->sample_type[1]->unit), "nanoseconds");
    CHECK(pr->period_type != NULL);
    CHECK_STR(str(pr, pr->period_type->type), "cpu");
    CHECK_INT(pr->period, 1000000000 / 997);
    CHECK_INT(pr->time_nanos, 1700000000000000000LL);
    CHECK_INT(pr->duration_nanos, 10000000000LL);
    CHECK_INT(pr->n_sample, 3);
    CHECK_INT(pr->n_function, 4); /* main, work, hot, idle_[k] */
    CHECK_INT(pr->n_location, 4);
    int found = 0;
    for (size_t i = 0; i < pr->n_sample; i++) {
        const Perftools__Profiles__Sample *s = pr->sample[i];
        CHECK_INT(s->n_value, 2);
        CHECK_INT(s->value[1], s->value[0] * (1000000000 / 997));
        const char *leaf = fn_name(pr, s->location_id[0]);
        const char *root = fn_name(pr, s->location_id[s->n_location_id - 1]);
        CHECK_STR(root, "main");
        if (!strcmp(leaf, "hot")) {
            found++;
            CHECK_INT(s->n_location_id, 3);
            CHECK_INT(s->value[0], 6);
            CHECK_STR(fn_name(pr, s->location_id[1]), "work");
        } else if (!strcmp(leaf, "work")) {
            found++;
            CHECK_INT(s->value[0], 3);
        } else if (!strcmp(leaf, "idle_[k]")) {
            found++;
            CHECK_INT(s->value[0], 1);
        }
    }
    CHECK_INT(found, 3);
    perftools__profiles__profile__free_unpacked(pr, NULL);
    buf_free(&gz);
    buf_free(&raw);
    prof_free(&p);
}

TEST(go_tool_pprof_reads_it_and_its_top_is_the_fold)
{
    char go[4096];
    if (proc_which("go", go, sizeof go) && proc_which("/usr/local/go/bin/go", go, sizeof go)) {
        fprintf(stderr, "    go not found (PATH, /usr/local/go/bin): this test needs "
                        "`go tool pprof` (scripts/install.sh installs Go)\n");
        t_failures++;
        return;
    }
    prof_t p = {0};
    make_profile(&p);
    char path[] = "/tmp/sb-test-pprof-XXXXXX", err[256] = "";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(pprof_write(&p, path, err, sizeof err), 0);
    const char *argv[] = {go, "tool", "pprof", "-top", "-unit=ms", path, NULL};
    /* Go 1.24 and later build pprof on first use into the build cache (about a minute here). */
    proc_opts_t o = {0};
    static char out[65536];
    int st = proc_run(argv, &o, 280 * 1000000000LL, out, sizeof out, err, sizeof err);
    CHECK_INT(st, 0);
    if (st != 0)
        fprintf(stderr, "    %s\n%s\n", err, out);
    /* "flat flat% sum% cum cum%" rows, most flat first: hot (6 of 10), work (3), idle (1). */
    const char *hot = strstr(out, " hot\n"), *work = strstr(out, " work\n"),
               *idle = strstr(out, " idle_[k]\n");
    CHECK(hot && work && idle);
    CHECK(hot && work && hot < work);
    CHECK(work && idle && work < idle);
    CHECK(strstr(out, "60.00%") != NULL); /* hot: 6 of 10 */
    CHECK(strstr(out, "Type: cpu") != NULL);
    if (!hot || !strstr(out, "60.00%"))
        fprintf(stderr, "%s\n", out);
    unlink(path);
    prof_free(&p);
}

T_MAIN(T(encoded_profile_decodes_back_with_every_sample),
       T(go_tool_pprof_reads_it_and_its_top_is_the_fold))
