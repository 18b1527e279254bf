/* The decision's commands: verdict, claims, decide (decide.h). */
#include "decide/decide.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/opt.h"
#include "decide/claims.h"
#include "decide/figures.h"
#include "decide/mesh.h"
#include "decide/plan.h"
#include "decide/prices.h"
#include "decide/profile.h"
#include "decide/verdict.h"


static int parse_traffic(const char *arg, void *dst, char *why, size_t whylen)
{
    char *end;
    errno = 0;
    double d = strtod(arg, &end);
    if (errno || end == arg || *end || !(d > 0) || d > 1e9) {
        snprintf(why, whylen, "expected requests per second, like 50000");
        return -1;
    }
    *(double *)dst = d;
    return 0;
}

int decide_opts_flags(decide_opts_t *o, opt_t *out)
{
    out[0] = (opt_t){"profile", 0, OPT_STR, &o->profile, "FILE",
                     "the verdict's team and service (default the shipped\n"
                     "examples/profile.yaml)"};
    out[1] = (opt_t){"prices", 0, OPT_STR, &o->prices, "FILE",
                     "the verdict's instance types and prices (default the\n"
                     "shipped examples/prices.yaml)"};
    out[2] = (opt_t){"traffic", 0, OPT_FN, &o->traffic_rps, "N",
                     "req/s the verdict sizes for (default the profile's peak)",
                     .fn = parse_traffic};
    return DECIDE_OPTS_FLAGS;
}

/* The profile and prices of o into d, and the instance type. */
static int load_profile(decision_t *d, const decide_opts_t *o, char *err, size_t errlen)
{
    if (profile_load(&d->p, o->profile, err, errlen) != 0 ||
        prices_load(&d->prices, o->prices, err, errlen) != 0)
        return -1;
    const char *type = d->p.instance[0] ? d->p.instance : d->prices.default_type;
    d->type = prices_find(&d->prices, type);
    if (!d->type) {
        snprintf(err, errlen, "%s: cost.instance '%s' is not a type of the prices",
                 o->profile ? o->profile : "examples/profile.yaml", type);
        return -1;
    }
    d->traffic = o->traffic_rps > 0 ? o->traffic_rps : d->p.peak_rps;
    if (!(d->traffic > 0)) {
        snprintf(err, errlen, "no traffic: the profile has no service.traffic.peak_rps and "
                              "--traffic is not given");
        return -1;
    }
    return 0;
}

int decide_check(const decide_opts_t *o, char *err, size_t errlen)
{
    static decision_t d;
    return load_profile(&d, o, err, errlen);
}

int decide_load(decision_t *d, const char *dir, const decide_opts_t *o, char *err,
                size_t errlen)
{
    if (load_profile(d, o, err, errlen) != 0 || figures_load(&d->f, dir, err, errlen) != 0)
        return -1;
    /* One verdict per workload, in the run's order. */
    d->nv = 0;
    for (int i = 0; i < d->f.n && d->nv < DECIDE_MAX_WORKLOADS; i++) {
        bool seen = false;
        for (int k = 0; k < d->nv; k++)
            seen |= !strcmp(d->v[k].workload, d->f.cells[i].workload);
        if (seen)
            continue;
        vctx_t c;
        verdict_context(&c, &d->f, &d->p, d->type, d->prices.hours_per_month, d->traffic,
                        d->f.cells[i].workload);
        verdict_decide(&c, &d->v[d->nv++]);
    }
    d->nclaims = claims_check(&d->f, d->claims, CLAIMS_MAX);
    return 0;
}

static void print_head(FILE *out, const decision_t *d, const decide_opts_t *o)
{
    const profile_t *p = &d->p;
    fprintf(out, "verdict for \"%s\" (%s): p99 SLO %g ms, %.0f req/s, %s, budget %s\n", p->name,
            o->profile ? o->profile : "examples/profile.yaml", p->p99_slo_ms, d->traffic,
            p->always_on ? "24/7" : "not 24/7", budget_names[p->budget]);
    fprintf(out, "from %s/results.json (%s, %d service CPU%s)\n\n", d->f.dir, d->f.date,
            d->f.service_cpus, d->f.service_cpus == 1 ? "" : "s");
}

static void print_verdicts(FILE *out, const decision_t *d, const decide_opts_t *o)
{
    print_head(out, d, o);
    for (int i = 0; i < d->nv; i++) {
        verdict_print(out, &d->v[i]);
        fputc('\n', out);
    }
    fputs("cost: ", out);
    verdict_print_costs(out, d->v, d->nv);
}

static void verdicts_json(buf_t *b, const decision_t *d, const decide_opts_t *o)
{
    jsonw_t w;
    jsonw_init(&w, b, true);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "profile");
    jsonw_str(&w, o->profile ? o->profile : "examples/profile.yaml");
    jsonw_key(&w, "instance");
    jsonw_str(&w, d->type->name);
    jsonw_key(&w, "usd_per_hour");
    jsonw_double(&w, d->type->usd_per_hour, 4);
    jsonw_key(&w, "hours_per_month");
    jsonw_double(&w, d->prices.hours_per_month, 1);
    jsonw_key(&w, "headroom");
    jsonw_double(&w, d->p.headroom, 3);
    jsonw_key(&w, "traffic_rps");
    jsonw_double(&w, d->traffic, 1);
    jsonw_key(&w, "p99_slo_ms");
    jsonw_double(&w, d->p.p99_slo_ms, 3);
    jsonw_key(&w, "workloads");
    jsonw_arr_begin(&w);
    for (int i = 0; i < d->nv; i++)
        verdict_json(&w, &d->v[i]);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    buf_puts(b, "\n");
}

static void claims_file_json(buf_t *b, const claim_t *c, int n)
{
    jsonw_t w;
    jsonw_init(&w, b, true);
    claims_json(&w, c, n);
    buf_puts(b, "\n");
}

static int write_in(const char *dir, const char *name, const buf_t *b, bool append, char *err,
                    size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, append ? "ab" : "wb");
    if (!fp || fwrite(buf_start(b), 1, buf_size(b), fp) != buf_size(b) || fclose(fp) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (fp)
            fclose(fp);
        return -1;
    }
    return 0;
}

int decide_after_run(const decision_t *d, const char *dir, const decide_opts_t *o, FILE *out,
                     char *err, size_t errlen)
{
    const claim_t *claims = d->claims;
    int nc = d->nclaims;
    print_verdicts(out, d, o);
    fprintf(out, "\nthe published claims, checked (tier idiomatic):\n");
    claims_print(out, claims, nc);

    buf_t b = BUF_INIT;
    verdicts_json(&b, d, o);
    int rc = write_in(dir, "verdict.json", &b, false, err, errlen);
    buf_clear(&b);
    claims_file_json(&b, claims, nc);
    if (rc == 0)
        rc = write_in(dir, "claims.json", &b, false, err, errlen);
    /* results.md: the verdict as written for people, then the claims as a table. */
    buf_clear(&b);
    buf_printf(&b, "\n## Verdict\n\n```\n");
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        print_verdicts(mem, d, o);
        fclose(mem);
        buf_append(&b, text, len);
        free(text);
    }
    buf_puts(&b, "```\n\n## The published claims, checked\n\n");
    claims_md(&b, claims, nc);
    if (rc == 0)
        rc = write_in(dir, "results.md", &b, true, err, errlen);
    buf_free(&b);
    return rc;
}

/* ---- the commands ---- */

static const char *const verdict_more =
    "The rules (README.md lists them with their thresholds):\n"
    "  measured, ceiling, slo, p99_predictable, cpu_bound, heavy_24_7, senior,\n"
    "  ship_fast, team_knows\n"
    "\n"
    "exit status: 0 verdict given, 2 bad flags, an unreadable results folder, or a\n"
    "bad profile or prices file (file:line:column: what is wrong)";

int cmd_verdict(int argc, char **argv)
{
    decide_opts_t o = {0};
    bool json = false;
    opt_t opts[DECIDE_OPTS_FLAGS + 2];
    int n = decide_opts_flags(&o, opts);
    opts[n++] = (opt_t){"json", 0, OPT_BOOL, &json, NULL, "print JSON (as verdict.json) instead"};
    opts[n] = (opt_t){0};
    const opt_cmd_t cmd = {
        .name = "verdict",
        .usage = "verdict [--profile FILE] [--prices FILE] [--traffic N] [--json] [RESULTS_DIR]",
        .about = "For each workload of a run's results (default folder: results), the language to\n"
                 "write it in for a team and a service (a profile), the runner-up, and the\n"
                 "reasons, each a rule with the figure measured and the profile value that\n"
                 "triggered it; then what each language costs a month at the traffic.",
        .opts = opts,
        .more = verdict_more,
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first + 1 < argc)
        opt_fail("verdict", "unexpected argument '%s'", argv[first + 1]);
    const char *dir = first < argc ? argv[first] : "results";
    static decision_t d;
    char err[512];
    if (decide_load(&d, dir, &o, err, sizeof err) != 0) {
        sb_warn("verdict", "%s", err);
        return 2;
    }
    if (json) {
        buf_t b = BUF_INIT;
        verdicts_json(&b, &d, &o);
        buf_write_file(&b, "-");
        buf_free(&b);
    } else {
        print_verdicts(stdout, &d, &o);
    }
    return 0;
}

int cmd_claims(int argc, char **argv)
{
    bool json = false;
    const opt_t opts[] = {
        {"json", 0, OPT_BOOL, &json, NULL, "print JSON (as claims.json) instead"},
        {0},
    };
    const opt_cmd_t cmd = {
        .name = "claims",
        .usage = "claims [--json] [RESULTS_DIR]",
        .about = "The published claims about Go and Rust that a run can measure, each checked against\n"
                 "the run's results (default folder: results): what they say, what was measured,\n"
                 "and confirmed, refuted, differs (with the factor) or not measurable here (with\n"
                 "why).",
        .opts = opts,
        .more = "exit status: 0 claims checked, 2 bad flags or an unreadable results folder",
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first + 1 < argc)
        opt_fail("claims", "unexpected argument '%s'", argv[first + 1]);
    static figures_t f;
    char err[512];
    if (figures_load(&f, first < argc ? argv[first] : "results", err, sizeof err) != 0) {
        sb_warn("claims", "%s", err);
        return 2;
    }
    static claim_t claims[CLAIMS_MAX];
    int n = claims_check(&f, claims, CLAIMS_MAX);
    if (json) {
        buf_t b = BUF_INIT;
        claims_file_json(&b, claims, n);
        buf_write_file(&b, "-");
        buf_free(&b);
    } else {
        claims_print(stdout, claims, n);
    }
    return 0;
}

int cmd_decide(int argc, char **argv)
{
    const char *dir = "results", *prices_path = NULL;
    bool json = false;
    const opt_t opts[] = {
        {"results", 0, OPT_STR, &dir, "DIR", "the run's results (default results)"},
        {"prices", 0, OPT_STR, &prices_path, "FILE", "instance types and prices (default the\n"
                                                      "shipped examples/prices.yaml)"},
        {"json", 0, OPT_BOOL, &json, NULL, "print the plan as JSON instead"},
        {0},
    };
    const opt_cmd_t cmd = {
        .name = "decide",
        .usage = "decide [--results DIR] [--prices FILE] [--json] MESH.yaml",
        .about = "Maps each service of a mesh (its kind, traffic, p99 SLO and the language it is\n"
                 "written in now) to a run's figures and plans it: keep, or move and to what,\n"
                 "with instances and dollars a month before and after, and the total. A move is\n"
                 "planned only when it pays: the language now fails the SLO, or the verdict's\n"
                 "language saves an instance and the share of the bill cost.budget asks for.",
        .opts = opts,
        .more = "exit status: 0 plan made, 2 bad flags, an unreadable results folder, or a bad\n"
                "mesh, profile or prices file (file:line:column: what is wrong)\n"
                "\n"
                "example: stackbench decide examples/mesh-40.yaml",
    };
    int first = opt_parse(&cmd, argc, argv);
    if (first >= argc)
        opt_fail("decide", "missing MESH.yaml (see examples/mesh-40.yaml)");
    if (first + 1 < argc)
        opt_fail("decide", "unexpected argument '%s'", argv[first + 1]);
    static mesh_t m;
    static profile_t p;
    static prices_t prices;
    static figures_t f;
    static plan_t pl;
    char err[512];
    if (mesh_load(&m, argv[first], err, sizeof err) != 0 ||
        profile_load(&p, m.profile[0] ? m.profile : NULL, err, sizeof err) != 0 ||
        prices_load(&prices, prices_path, err, sizeof err) != 0 ||
        figures_load(&f, dir, err, sizeof err) != 0 ||
        plan_make(&pl, &m, &p, &prices, &f, err, sizeof err) != 0) {
        sb_warn("decide", "%s", err);
        return 2;
    }
    if (json) {
        buf_t b = BUF_INIT;
        jsonw_t w;
        jsonw_init(&w, &b, true);
        plan_json(&w, &pl);
        buf_puts(&b, "\n");
        buf_write_file(&b, "-");
        buf_free(&b);
    } else {
        fprintf(stdout, "plan for %s (team: %s) from %s/results.json (%s)\n", argv[first],
                p.name, f.dir, f.date);
        plan_print(stdout, &pl);
    }
    return 0;
}
