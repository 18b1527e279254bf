/* `stackbench verify WORKLOAD URL`: the contract cases against any implementation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/jsonw.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/opt.h"
#include "verify/verify.h"

int cmd_verify(int argc, char **argv)
{
    const char *dir = NULL, *json_path = NULL, *lang = NULL;
    int64_t timeout = 5 * NS_PER_S;
    bool quiet = false;
    const opt_t opts[] = {
        {"cases", 0, OPT_STR, &dir, "DIR", "read the cases from DIR instead"},
        {"lang", 0, OPT_STR, &lang, "LANG",
         "the implementation's language: the cases' differs: lines\n"
         "for it apply (known differences; a case that passes\n"
         "although its line says otherwise is a failure)"},
        {"timeout", 0, OPT_DURATION, &timeout, "DUR", "wait this long for each answer (default 5s)",
         .min = 1, .expect = "a duration like 5s"},
        {"json", 0, OPT_STR, &json_path, "FILE", "results as JSON (- for stdout)"},
        {"quiet", 'q', OPT_BOOL, &quiet, NULL, "print failures only"},
        {0},
    };
    const opt_cmd_t cmd = {
        .name = "verify",
        .usage = "verify [flags] WORKLOAD URL",
        .about = "Runs the workload's contract cases (contracts/WORKLOAD/*.case, compiled in) against\n"
                 "the server at URL, whatever its language, and prints what differs. WORKLOAD is\n"
                 "echo, csv, sql, grpc (gRPC calls over cleartext HTTP/2, prior knowledge), or\n"
                 "framing (HTTP/1.1 request framing, against an echo server).\n"
                 "Exit status 0 when every case passes, 1 otherwise.",
        .opts = opts,
        .more = "examples: stackbench verify echo http://127.0.0.1:8080\n"
                "          stackbench verify grpc http://127.0.0.1:8080",
    };
    int first = opt_parse(&cmd, argc, argv);
    if (argc - first != 2)
        opt_fail("verify", "expected WORKLOAD and URL (see stackbench verify --help)");
    const char *workload = argv[first], *url = argv[first + 1];
    contract_t ct;
    char err[512];
    if ((dir ? contract_load_dir(dir, &ct, err, sizeof err)
             : contract_load_builtin(workload, &ct, err, sizeof err)) != 0)
        opt_fail("verify", "%s", err);
    verify_result_t *res = calloc((size_t)ct.ncases, sizeof *res);
    int failed = res ? verify_run(&ct, url, lang, timeout, res, err, sizeof err) : -1;
    if (failed < 0) {
        sb_warn("verify", "%s", res ? err : "out of memory");
        free(res);
        contract_free(&ct);
        return 1;
    }
    if (!quiet)
        printf("stackbench verify %s %s\n", workload, url);
    static const char *const outcome_names[] = {"ok", "failed", "known", "stale"};
    int count[4] = {0};
    for (int i = 0; i < ct.ncases; i++) {
        verify_outcome_t o = verify_outcome(&res[i]);
        count[o]++;
        if (o == VERIFY_OK && !quiet)
            printf("  ok    %s\n", res[i].name);
        else if (o == VERIFY_FAIL)
            printf("  FAIL  %s: %s\n", res[i].name, res[i].why);
        else if (o == VERIFY_KNOWN && !quiet)
            printf("  known %s: %s (differs: %s)\n", res[i].name, res[i].why, res[i].known);
        else if (o == VERIFY_STALE)
            printf("  STALE %s: passes, but a differs: line for %s says it does not\n",
                   res[i].name, lang);
    }
    printf("%d passed, %d failed", count[VERIFY_OK], count[VERIFY_FAIL] + count[VERIFY_STALE]);
    if (lang)
        printf(", %d known differences of %s", count[VERIFY_KNOWN], lang);
    printf("\n");
    if (json_path) {
        buf_t out = BUF_INIT;
        jsonw_t w;
        jsonw_init(&w, &out, true);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "workload");
        jsonw_str(&w, workload);
        jsonw_key(&w, "url");
        jsonw_str(&w, url);
        jsonw_key(&w, "lang");
        lang ? jsonw_str(&w, lang) : jsonw_null(&w);
        jsonw_key(&w, "passed");
        jsonw_int(&w, count[VERIFY_OK]);
        jsonw_key(&w, "failed");
        jsonw_int(&w, count[VERIFY_FAIL] + count[VERIFY_STALE]);
        jsonw_key(&w, "known");
        jsonw_int(&w, count[VERIFY_KNOWN]);
        jsonw_key(&w, "cases");
        jsonw_arr_begin(&w);
        for (int i = 0; i < ct.ncases; i++) {
            jsonw_obj_begin(&w);
            jsonw_key(&w, "name");
            jsonw_str(&w, res[i].name);
            jsonw_key(&w, "ok");
            jsonw_bool(&w, res[i].ok);
            jsonw_key(&w, "outcome");
            jsonw_str(&w, outcome_names[verify_outcome(&res[i])]);
            jsonw_key(&w, "why");
            jsonw_str(&w, res[i].why);
            jsonw_key(&w, "differs");
            res[i].known ? jsonw_str(&w, res[i].known) : jsonw_null(&w);
            jsonw_obj_end(&w);
        }
        jsonw_arr_end(&w);
        jsonw_obj_end(&w);
        buf_puts(&out, "\n");
        int wrc = buf_write_file(&out, json_path);
        if (wrc)
            sb_warn("verify", "cannot write '%s': %s", json_path, strerror(-wrc));
        buf_free(&out);
    }
    free(res);
    contract_free(&ct);
    return failed ? 1 : 0;
}
