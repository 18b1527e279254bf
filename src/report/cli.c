/* `stackbench report`, and the page and results.md a run writes at its end (report.h). */
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/opt.h"
#include "report/html.h"
#include "report/table.h"

int report_write(const char *dir, const char *out_path, const decide_opts_t *o, char *path,
                 size_t pathlen, char *err, size_t errlen)
{
    static decision_t d; /* large; the verdicts point into it */
    if (decide_load(&d, dir, o, err, errlen) != 0)
        return -1;
    return report_write_decision(&d, dir, out_path, o, path, pathlen, err, errlen);
}

int report_write_decision(const decision_t *d, const char *dir, const char *out_path,
                          const decide_opts_t *o, char *path, size_t pathlen, char *err,
                          size_t errlen)
{
    if (out_path)
        snprintf(path, pathlen, "%s", out_path);
    else
        snprintf(path, pathlen, "%s/report.html", dir);
    buf_t b = BUF_INIT;
    html_page(&b, d, o->profile);
    int rc = buf_write_file(&b, path);
    buf_free(&b);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        return -1;
    }
    return 0;
}

int report_write_markdown(const figures_t *f, const char *dir, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/results.md", dir);
    buf_t b = BUF_INIT;
    table_markdown(&b, f);
    int rc = buf_write_file(&b, path);
    buf_free(&b);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        return -1;
    }
    return 0;
}

int cmd_report(int argc, char **argv)
{
    decide_opts_t o = {0};
    const char *out = NULL;
    opt_t opts[DECIDE_OPTS_FLAGS + 2] = {
        {"out", 0, OPT_STR, &out, "FILE", "where the page goes (default DIR/report.html; -:\n"
                                           "standard output)"},
    };
    int n = 1 + decide_opts_flags(&o, opts + 1);
    opts[n] = (opt_t){0};
    const opt_cmd_t cmd = {
        .name = "report",
        .usage = "report [--out FILE] [--profile FILE] [--prices FILE] [--traffic N] [DIR]",
        .about = "Writes report.html from a run's results (default folder: results): one page\n"
                 "that opens from disk with no network, with the machine, the toolchains and\n"
                 "the command, a summary of who leads where, the table of every cell, and per\n"
                 "workload charts of req/s, CPU and memory, the latency by percentile, the\n"
                 "latency over time at equal load, the sweep; then the development figures,\n"
                 "the verdict with its bill and the claims, computed as stackbench verdict and\n"
                 "stackbench claims compute them. stackbench run writes it too, at its end.",
        .opts = opts,
        .more = "exit status: 0 written, 2 bad flags, no results in DIR, a bad profile or\n"
                "prices file, or a page that cannot be written\n"
                "\n"
                "open it: xdg-open results/report.html (or any browser; it works offline)",
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first + 1 < argc)
        opt_fail("report", "unexpected argument '%s'", argv[first + 1]);
    const char *dir = first < argc ? argv[first] : "results";
    char path[4200], err[512];
    if (report_write(dir, out, &o, path, sizeof path, err, sizeof err) != 0) {
        sb_warn("report", "%s", err);
        return 2;
    }
    if (strcmp(path, "-") != 0)
        printf("written: %s\n", path);
    return 0;
}
