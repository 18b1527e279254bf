/* `stackbench durability`: durability_run for each language, a table, optionally JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/jsonw.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/opt.h"
#include "core/log.h"
#include "db/durability.h"

static void write_json(buf_t *out, const durability_t *d, int n)
{
    jsonw_t w;
    jsonw_init(&w, out, true);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "durability");
    jsonw_arr_begin(&w);
    for (int i = 0; i < n; i++) {
        jsonw_obj_begin(&w);
        jsonw_key(&w, "lang"), jsonw_str(&w, d[i].lang);
        jsonw_key(&w, "ok"), jsonw_bool(&w, d[i].ok);
        jsonw_key(&w, "reason"), jsonw_str(&w, d[i].reason);
        jsonw_key(&w, "duration_s"), jsonw_double(&w, (double)d[i].run_ns / NS_PER_S, 3);
        jsonw_key(&w, "kill_at_ms"), jsonw_double(&w, d[i].kill_at_ms, 1);
        jsonw_key(&w, "outage_ms"), jsonw_double(&w, d[i].outage_ms, 1);
        jsonw_key(&w, "recovery_ms"), jsonw_double(&w, d[i].recovery_ms, 1);
        jsonw_key(&w, "answered_201"), jsonw_uint(&w, d[i].answered_201);
        jsonw_key(&w, "answered_503"), jsonw_uint(&w, d[i].answered_503);
        jsonw_key(&w, "other_status"), jsonw_uint(&w, d[i].other_status);
        jsonw_key(&w, "answered_201_before_kill"), jsonw_uint(&w, d[i].before_kill);
        jsonw_key(&w, "answered_201_after_restart"), jsonw_uint(&w, d[i].after_restart);
        jsonw_key(&w, "timeouts"), jsonw_uint(&w, d[i].timeouts);
        jsonw_key(&w, "connection_errors"), jsonw_uint(&w, d[i].connection_errors);
        jsonw_key(&w, "body_errors"), jsonw_uint(&w, d[i].body_errors);
        jsonw_key(&w, "orders_in_db"), jsonw_uint(&w, d[i].orders_in_db);
        jsonw_key(&w, "lost"), jsonw_uint(&w, d[i].lost);
        jsonw_key(&w, "duplicates"), jsonw_uint(&w, d[i].duplicates);
        jsonw_key(&w, "mismatched"), jsonw_uint(&w, d[i].mismatched);
        jsonw_key(&w, "balance_mismatches"), jsonw_uint(&w, d[i].balance_mismatches);
        jsonw_key(&w, "exit_status"), jsonw_int(&w, d[i].exit_status);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    buf_puts(out, "\n");
}

int cmd_durability(int argc, char **argv)
{
    static impl_opts_t o;
    impl_opts_init(&o, 6 * NS_PER_S);
    o.connections = 16;
    const char *json = NULL;
    opt_t opts[IMPL_OPTS_FLAGS + 2];
    int n = impl_opts_flags(&o,
                            "load time per language (default 6s); the kill comes a\n"
                            "third of the way in, the restart a tenth later",
                            "connections (default 16)", opts);
    opts[n++] = (opt_t){"json", 0, OPT_STR, &json, "FILE", "every figure as JSON (- for stdout)"};
    opts[n] = (opt_t){0};
    const opt_cmd_t cmd = {
        .name = "durability",
        .usage = "durability [flags]",
        .about = "Kills PostgreSQL with SIGKILL under each language's sql service in the middle of a\n"
                 "write-only load (POST /orders for random accounts), starts it again, and checks that\n"
                 "every order answered 201 is in the database once and as answered, that every balance\n"
                 "matches its orders, that the service answered 503 while the database was down and\n"
                 "201 again after it came back, and that no request went unanswered. Each language\n"
                 "gets a throwaway PostgreSQL of its own, on the service CPUs.",
        .opts = opts,
        .more = "Exit status: 0 when every language kept every order, 1 otherwise.",
    };
    int first = opt_parse(&cmd, argc, argv);
    if (o.duration_ns < NS_PER_S)
        opt_fail("durability", "--duration: expected 1s or more (the kill, the outage and the "
                               "recovery must fit)");
    if (first < argc)
        opt_fail("durability", "unexpected argument '%s'", argv[first]);
    impl_opts_resolve(&o);

    char cs[128], cl[128];
    cpuset_format(&o.cpus_service, cs, sizeof cs);
    cpuset_format(&o.cpus_load, cl, sizeof cl);
    durability_t d[IMPL_MAX];
    printf("stackbench durability: PostgreSQL killed under load, service and database on CPU "
           "%s, load on CPU %s, %d connections, pool %d, %.0fs each\n\n",
           cs, cl, o.connections, o.pool, (double)o.duration_ns / NS_PER_S);
    printf("%-5s %-6s %8s %8s %6s %6s %9s %9s %10s\n", "lang", "orders", "201", "503", "lost",
           "twice", "balances", "outage", "recovery");
    fflush(stdout);
    int failed = 0;
    for (int i = 0; i < o.nlangs; i++) {
        if (o.progress)
            fprintf(stderr, "\r\033[K  %s: killing PostgreSQL under load…", o.langs[i]);
        durability_run(&o, o.langs[i], &d[i]);
        if (o.progress)
            fprintf(stderr, "\r\033[K");
        failed += !d[i].ok;
        char rec[32];
        if (d[i].recovery_ms >= 0)
            snprintf(rec, sizeof rec, "%.0f ms", d[i].recovery_ms);
        else
            snprintf(rec, sizeof rec, "-");
        char out[32];
        snprintf(out, sizeof out, "%.0f ms", d[i].outage_ms);
        printf("%-5s %-6s %8llu %8llu %6llu %6llu %9s %9s %10s\n", d[i].lang,
               d[i].ok ? "kept" : "FAIL", (unsigned long long)d[i].answered_201,
               (unsigned long long)d[i].answered_503, (unsigned long long)d[i].lost,
               (unsigned long long)d[i].duplicates, d[i].balance_mismatches ? "differ" : "match",
               out, rec);
        if (!d[i].ok)
            printf("      %s\n", d[i].reason);
        fflush(stdout);
    }
    printf("\norders: kept = every 201 in the database once, as answered; outage: kill to "
           "restarted; recovery: restarted to the next 201\n");
    if (json) {
        buf_t b = BUF_INIT;
        write_json(&b, d, o.nlangs);
        int rc = buf_write_file(&b, json);
        if (rc) {
            sb_warn("durability", "cannot write %s: %s", json, strerror(-rc));
            failed++;
        }
        buf_free(&b);
    }
    return failed ? 1 : 0;
}
