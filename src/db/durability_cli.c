/* `stackbench durability`: durability_run for each language, a table, optionally JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/jsonw.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/opt.h"
#include "lab/lab.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stackbench durability [flags]\n"
            "\n"
            "Kills PostgreSQL with SIGKILL under each language's sql service in the middle of a\n"
            "write-only load (POST /orders for random accounts), starts it again, and checks that\n"
            "every order answered 201 is in the database once and as answered, that every balance\n"
            "matches its orders, that the service answered 503 while the database was down and\n"
            "201 again after it came back, and that no request went unanswered. Each language\n"
            "gets a throwaway PostgreSQL of its own.\n"
            "\n"
            "flags:\n"
            "  --langs LIST           languages, from c,go,rust (default c,go,rust)\n"
            "  --duration DUR         load time per language (default 6s); the kill comes a\n"
            "                         third of the way in, the restart a tenth later\n"
            "  --connections N        connections (default 16)\n"
            "  --pool N               database connections of every service (default 8)\n"
            "  --cpus-service LIST    CPUs of the service and PostgreSQL (default: first half)\n"
            "  --cpus-load LIST       CPUs of the load engine (default: the other half)\n"
            "  --json FILE            every figure as JSON (- for stdout)\n"
            "  --peers DIR            the peers' sources (default: peers/ beside the binary)\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit status: 0 when every language kept every order, 1 otherwise.\n");
}

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
    enum { O_JSON = LAB_O_OWN };
    static const struct option opts[] = {
        LAB_COMMON_OPTIONS,
        {"json", required_argument, 0, O_JSON},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    static lab_config_t cfg;
    lab_config_init(&cfg);
    cfg.duration_ns = 6 * NS_PER_S;
    cfg.connections = 16;
    lab_flags_seen_t seen = {0};
    const char *json = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (lab_common_flag("durability", c, optarg, &cfg, &seen))
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case O_JSON:
            json = optarg;
            break;
        default:
            opt_fail_getopt("durability", c, argc, argv);
        }
    }
    if (cfg.duration_ns < NS_PER_S)
        opt_fail("durability", "--duration: expected 1s or more (the kill, the outage and the "
                               "recovery must fit)");
    if (optind < argc)
        opt_fail("durability", "unexpected argument '%s'", argv[optind]);
    lab_config_resolve(&cfg, seen.cpus_service, seen.cpus_load);

    durability_t d[LAB_MAX];
    printf("stackbench durability: PostgreSQL killed under load, service and database on CPU "
           "%s, load on CPU %s, %d connections, pool %d, %.0fs each\n\n",
           cfg.cpus_service_str, cfg.cpus_load_str, cfg.connections, cfg.pool,
           (double)cfg.duration_ns / NS_PER_S);
    printf("%-5s %-6s %8s %8s %6s %6s %9s %9s %10s\n", "lang", "orders", "201", "503", "lost",
           "twice", "balances", "outage", "recovery");
    fflush(stdout);
    int failed = 0;
    for (int i = 0; i < cfg.nlangs; i++) {
        if (cfg.progress)
            fprintf(stderr, "\r\033[K  %s: killing PostgreSQL under load…", cfg.langs[i]);
        durability_run(&cfg, cfg.langs[i], &d[i]);
        if (cfg.progress)
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
        write_json(&b, d, cfg.nlangs);
        int rc = buf_write_file(&b, json);
        if (rc) {
            fprintf(stderr, "stackbench durability: cannot write %s: %s\n", json, strerror(-rc));
            failed++;
        }
        buf_free(&b);
    }
    return failed ? 1 : 0;
}
