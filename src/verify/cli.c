/* `stackbench verify WORKLOAD URL`: the contract cases against any implementation. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/jsonw.h"
#include "core/clock.h"
#include "core/opt.h"
#include "verify/verify.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stackbench verify [flags] WORKLOAD URL\n"
            "\n"
            "Runs the workload's contract cases (contracts/WORKLOAD/*.case, compiled in) against\n"
            "the server at URL, whatever its language, and prints what differs. Exit status 0\n"
            "when every case passes, 1 otherwise.\n"
            "\n"
            "flags:\n"
            "      --cases DIR      read the cases from DIR instead\n"
            "      --timeout DUR    wait this long for each answer (default 5s)\n"
            "      --json FILE      results as JSON (- for stdout)\n"
            "  -q, --quiet          print failures only\n"
            "  -h, --help           this help\n"
            "\n"
            "example: stackbench verify echo http://127.0.0.1:8080\n");
}

int cmd_verify(int argc, char **argv)
{
    enum { O_CASES = 256, O_TIMEOUT, O_JSON };
    static const struct option opts[] = {
        {"cases", required_argument, 0, O_CASES},
        {"timeout", required_argument, 0, O_TIMEOUT},
        {"json", required_argument, 0, O_JSON},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *dir = NULL, *json_path = NULL;
    int64_t timeout = 5 * NS_PER_S;
    bool quiet = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case O_CASES:
            dir = optarg;
            break;
        case O_TIMEOUT:
            if (opt_parse_duration_ns(optarg, &timeout) || timeout <= 0)
                opt_fail("verify", "--timeout: expected a duration like 5s, got '%s'", optarg);
            break;
        case O_JSON:
            json_path = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        default:
            opt_fail_getopt("verify", c, argc, argv);
        }
    }
    if (argc - optind != 2)
        opt_fail("verify", "expected WORKLOAD and URL (see stackbench verify --help)");
    const char *workload = argv[optind], *url = argv[optind + 1];
    contract_t ct;
    char err[512];
    if ((dir ? contract_load_dir(dir, &ct, err, sizeof err)
             : contract_load_builtin(workload, &ct, err, sizeof err)) != 0)
        opt_fail("verify", "%s", err);
    verify_result_t *res = calloc((size_t)ct.ncases, sizeof *res);
    int failed = verify_run(&ct, url, timeout, res, err, sizeof err);
    if (failed < 0) {
        fprintf(stderr, "stackbench verify: %s\n", err);
        free(res);
        contract_free(&ct);
        return 1;
    }
    if (!quiet)
        printf("stackbench verify %s %s\n", workload, url);
    for (int i = 0; i < ct.ncases; i++) {
        if (res[i].ok && !quiet)
            printf("  ok    %s\n", res[i].name);
        else if (!res[i].ok)
            printf("  FAIL  %s: %s\n", res[i].name, res[i].why);
    }
    printf("%d passed, %d failed\n", ct.ncases - failed, failed);
    if (json_path) {
        buf_t out = BUF_INIT;
        jsonw_t w;
        jsonw_init(&w, &out, true);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "workload");
        jsonw_str(&w, workload);
        jsonw_key(&w, "url");
        jsonw_str(&w, url);
        jsonw_key(&w, "passed");
        jsonw_int(&w, ct.ncases - failed);
        jsonw_key(&w, "failed");
        jsonw_int(&w, failed);
        jsonw_key(&w, "cases");
        jsonw_arr_begin(&w);
        for (int i = 0; i < ct.ncases; i++) {
            jsonw_obj_begin(&w);
            jsonw_key(&w, "name");
            jsonw_str(&w, res[i].name);
            jsonw_key(&w, "ok");
            jsonw_bool(&w, res[i].ok);
            jsonw_key(&w, "why");
            jsonw_str(&w, res[i].why);
            jsonw_obj_end(&w);
        }
        jsonw_arr_end(&w);
        jsonw_obj_end(&w);
        buf_puts(&out, "\n");
        int wrc = buf_write_file(&out, json_path);
        if (wrc)
            fprintf(stderr, "stackbench verify: cannot write '%s': %s\n", json_path, strerror(-wrc));
        buf_free(&out);
    }
    free(res);
    contract_free(&ct);
    return failed ? 1 : 0;
}
