/* Tests for the decision's three inputs (src/decide/profile.c, prices.c, mesh.c): the shipped
 * examples, compiled into the binary, parse to the values written in them (checked by hand
 * against the files of examples/); defaults; and every refusal, each with its whole message
 * "NAME:LINE:COLUMN: what is wrong". */
#include <math.h>

#include "core/embed.h"
#include "decide/mesh.h"
#include "decide/prices.h"
#include "decide/profile.h"
#include "t.h"

static char err[1024];
static profile_t prof;
static prices_t prices;
static mesh_t mesh;

static int profile(const char *text)
{
    err[0] = 0;
    return profile_parse(&prof, "profile.yaml", text, strlen(text), err, sizeof err);
}

static int price_list(const char *text)
{
    err[0] = 0;
    return prices_parse(&prices, "prices.yaml", text, strlen(text), err, sizeof err);
}

static int mesh_in(const char *dir, const char *text)
{
    err[0] = 0;
    return mesh_parse(&mesh, "mesh.yaml", dir, text, strlen(text), err, sizeof err);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* ---- the shipped examples ---- */

TEST(shipped_profile)
{
    CHECK_INT(profile_load(&prof, NULL, err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK_STR(prof.name, "a product team of eight");
    CHECK_INT(prof.skill[LANG_GO], SKILL_SENIOR);
    CHECK_INT(prof.skill[LANG_RUST], SKILL_MID);
    CHECK_INT(prof.skill[LANG_C], SKILL_NONE);
    CHECK_INT(prof.seniors[LANG_GO], 3);
    CHECK_INT(prof.seniors[LANG_RUST], 1);
    CHECK_INT(prof.seniors[LANG_C], 0);
    CHECK(!prof.production_c);
    CHECK_INT(prof.hires_per_quarter, 2);
    CHECK(prof.p99_slo_ms == 20);
    CHECK_INT(prof.deadline_weeks, 8);
    CHECK(prof.peak_rps == 50000);
    CHECK(prof.average_rps == 20000);
    CHECK(prof.always_on);
    CHECK_INT(prof.budget, BUDGET_MEDIUM);
    CHECK_STR(prof.instance, "c7i.xlarge");
    CHECK(prof.headroom == 0.6);
}

TEST(shipped_prices)
{
    CHECK_INT(prices_load(&prices, NULL, err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK_INT(prices.n, 10);
    CHECK(prices.hours_per_month == 730);
    CHECK_STR(prices.default_type, "c7i.xlarge");
    const price_t *t = prices_find(&prices, prices.default_type);
    CHECK(t != NULL);
    if (t) {
        CHECK(t->usd_per_hour == 0.1785);
        CHECK_INT(t->vcpu, 4);
        CHECK(t->gib == 8);
        CHECK_STR(t->date, "2025-01-15");
        CHECK_STR(t->source, "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, us-east-1)");
    }
    const price_t *g = prices_find(&prices, "c7g.xlarge");
    CHECK(g && g->usd_per_hour == 0.145 && g->vcpu == 4);
    const price_t *c5 = prices_find(&prices, "c5.2xlarge");
    CHECK(c5 && c5->usd_per_hour == 0.34 && c5->vcpu == 8 && c5->gib == 16);
    CHECK(prices_find(&prices, "c7i.8xlarge") == NULL);
    for (int i = 0; i < prices.n; i++)
        CHECK(strstr(prices.types[i].source, "us-east-1") != NULL);
}

TEST(shipped_mesh)
{
    const embed_file_t *f = embed_find("examples", "mesh-40.yaml");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_INT(mesh_parse(&mesh, "examples/mesh-40.yaml", "examples", f->text, f->len, err,
                         sizeof err),
              0);
    CHECK_STR(err, "");
    CHECK_INT(mesh.n, 40);
    CHECK_STR(mesh.profile, "examples/profile.yaml");
    CHECK_STR(mesh.instance, "");
    int langs[LANG_N] = {0}, sql = 0, echo = 0, csv = 0, grpc = 0;
    for (int i = 0; i < mesh.n; i++) {
        const mesh_service_t *s = &mesh.svc[i];
        CHECK(s->lang >= 0 && s->lang < LANG_N);
        langs[s->lang]++;
        sql += strcmp(s->kind, "sql") == 0;
        echo += strcmp(s->kind, "echo") == 0;
        csv += strcmp(s->kind, "csv") == 0;
        grpc += strcmp(s->kind, "grpc") == 0;
        CHECK(s->traffic_rps >= 200 && s->traffic_rps <= 60000);
        CHECK(s->p99_slo_ms >= 5 && s->p99_slo_ms <= 200);
    }
    CHECK_INT(langs[LANG_GO], 38);
    CHECK_INT(langs[LANG_RUST], 1);
    CHECK_INT(langs[LANG_C], 1);
    CHECK_INT(sql, 22);
    CHECK_INT(echo, 8);
    CHECK_INT(csv, 7);
    CHECK_INT(grpc, 3);
    CHECK_STR(mesh.svc[0].name, "api-gateway");
    CHECK_STR(mesh.svc[0].kind, "echo");
    CHECK(mesh.svc[0].traffic_rps == 60000);
    CHECK(mesh.svc[0].p99_slo_ms == 25);
    CHECK_INT(mesh.svc[0].line, 19);
    CHECK_STR(mesh.svc[39].name, "refunds");
    CHECK_INT(mesh.svc[39].line, 61);
}

/* ---- the profile ---- */

TEST(lang_names_and_parse)
{
    CHECK_INT(lang_parse("c"), LANG_C);
    CHECK_INT(lang_parse("go"), LANG_GO);
    CHECK_INT(lang_parse("rust"), LANG_RUST);
    CHECK_INT(lang_parse("Go"), -1);
    CHECK_INT(lang_parse(""), -1);
    CHECK_STR(skill_names[SKILL_SENIOR], "senior");
    CHECK_STR(budget_names[BUDGET_HIGH], "high");
}

TEST(profile_defaults)
{
    profile_init(&prof);
    CHECK(prof.headroom == 0.6);
    CHECK_INT(prof.budget, BUDGET_MEDIUM);
    CHECK(prof.always_on);
    CHECK_STR(prof.name, "");
    CHECK_STR(prof.instance, "");
    for (int l = 0; l < LANG_N; l++) {
        CHECK_INT(prof.skill[l], SKILL_NONE);
        CHECK_INT(prof.seniors[l], 0);
    }
    CHECK(prof.p99_slo_ms == 0 && prof.peak_rps == 0 && prof.deadline_weeks == 0);
}

TEST(profile_keys_left_out_take_the_defaults)
{
    memset(&prof, 0x55, sizeof prof);
    CHECK_INT(profile("team:\n  languages: {rust: junior}\ncost: {budget: high}\n"), 0);
    CHECK_INT(prof.skill[LANG_RUST], SKILL_JUNIOR);
    CHECK_INT(prof.skill[LANG_GO], SKILL_NONE);
    CHECK_INT(prof.budget, BUDGET_HIGH);
    CHECK(prof.headroom == 0.6);
    CHECK(prof.always_on);
    CHECK_STR(prof.name, "");
    CHECK_INT(profile("{}\n"), 0);
    profile_t fresh;
    profile_init(&fresh);
    CHECK(memcmp(&prof, &fresh, sizeof prof) == 0);
}

TEST(profile_from_a_file)
{
    char dir[] = "/tmp/test_decide_XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/p.yaml", dir);
    write_file(path, "name: two\nservice:\n  p99_slo_ms: 12.5\n  always_on: false\n");
    CHECK_INT(profile_load(&prof, path, err, sizeof err), 0);
    CHECK_STR(prof.name, "two");
    CHECK(prof.p99_slo_ms == 12.5);
    CHECK(!prof.always_on);
    write_file(path, "name: two\nservice:\n  p99_slo_ms: fast\n");
    CHECK_INT(profile_load(&prof, path, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want,
             "%s:3:15: service.p99_slo_ms: expected a number > 0, got \"fast\"", path);
    CHECK_STR(err, want);
    unlink(path);
    rmdir(dir);
}

TEST(profile_file_that_does_not_exist)
{
    CHECK_INT(profile_load(&prof, "/nonexistent/profile.yaml", err, sizeof err), -1);
    CHECK_STR(err, "/nonexistent/profile.yaml: No such file or directory");
}

TEST(profile_empty)
{
    CHECK_INT(profile(""), -1);
    CHECK_STR(err, "profile.yaml:1:1: expected a mapping, got nothing");
}

TEST(profile_syntax_error)
{
    CHECK_INT(profile("team:\n  languages: {go: senior\nservice: {}\n"), -1);
    CHECK_STR(err, "profile.yaml:3:8: did not find expected ',' or '}' (while parsing a flow "
                   "mapping at 2:14)");
}

TEST(profile_unknown_key)
{
    CHECK_INT(profile("nmae: a team\n"), -1);
    CHECK_STR(err, "profile.yaml:1:1: unknown key \"nmae\" (known: name, team, service, cost)");
    CHECK_INT(profile("service:\n  p99_ms: 5\n"), -1);
    CHECK_STR(err, "profile.yaml:2:3: service: unknown key \"p99_ms\" (known: p99_slo_ms, "
                   "deadline_weeks, traffic, always_on)");
}

TEST(profile_unknown_language)
{
    CHECK_INT(profile("team:\n  languages: {go: senior, java: mid}\n"), -1);
    CHECK_STR(err, "profile.yaml:2:27: team.languages: unknown key \"java\" (known: c, go, rust)");
    CHECK_INT(profile("team:\n  seniors: {zig: 1}\n"), -1);
    CHECK_STR(err, "profile.yaml:2:13: team.seniors: unknown key \"zig\" (known: c, go, rust)");
}

TEST(profile_unknown_skill_level)
{
    CHECK_INT(profile("team:\n  languages: {go: expert}\n"), -1);
    CHECK_STR(err, "profile.yaml:2:19: team.languages.go: expected none, junior, mid or senior, "
                   "got \"expert\"");
}

TEST(profile_negative_seniors)
{
    CHECK_INT(profile("team:\n  seniors: {go: -1}\n"), -1);
    CHECK_STR(err, "profile.yaml:2:17: team.seniors.go: expected an integer >= 0, got \"-1\"");
}

TEST(profile_wrong_types)
{
    CHECK_INT(profile("service:\n  p99_slo_ms: fast\n"), -1);
    CHECK_STR(err, "profile.yaml:2:15: service.p99_slo_ms: expected a number > 0, got \"fast\"");
    CHECK_INT(profile("team:\n  production_c: yes\n"), -1);
    CHECK_STR(err, "profile.yaml:2:17: team.production_c: expected true or false, got \"yes\"");
    CHECK_INT(profile("team: senior go\n"), -1);
    CHECK_STR(err, "profile.yaml:1:7: team: expected a mapping, got \"senior go\"");
    CHECK_INT(profile("name: [a, b]\n"), -1);
    CHECK_STR(err, "profile.yaml:1:7: name: expected a string, got a sequence");
    CHECK_INT(profile("team:\n  hires_per_quarter: 1.5\n"), -1);
    CHECK_STR(err, "profile.yaml:2:22: team.hires_per_quarter: expected an integer >= 0, got "
                   "\"1.5\"");
}

TEST(profile_headroom_out_of_range)
{
    CHECK_INT(profile("cost:\n  headroom: 0\n"), -1);
    CHECK_STR(err, "profile.yaml:2:13: cost.headroom: expected a number > 0 and <= 1, got \"0\"");
    CHECK_INT(profile("cost:\n  headroom: 1.5\n"), -1);
    CHECK_STR(err, "profile.yaml:2:13: cost.headroom: expected a number > 0 and <= 1, got "
                   "\"1.5\"");
    CHECK_INT(profile("cost:\n  headroom: 1\n"), 0);
    CHECK(prof.headroom == 1);
}

TEST(profile_unknown_budget)
{
    CHECK_INT(profile("cost: {budget: huge}\n"), -1);
    CHECK_STR(err, "profile.yaml:1:16: cost.budget: expected low, medium or high, got \"huge\"");
}

TEST(profile_traffic)
{
    CHECK_INT(profile("service:\n  traffic: {peak_rps: -5}\n"), -1);
    CHECK_STR(err, "profile.yaml:2:23: service.traffic.peak_rps: expected a number > 0, got "
                   "\"-5\"");
    CHECK_INT(profile("service:\n  traffic: {peak_rps: 50000, average_rps: 60000}\n"), -1);
    CHECK_STR(err, "profile.yaml:2:43: service.traffic.average_rps: 60000 is above peak_rps "
                   "(50000)");
    CHECK_INT(profile("service:\n  traffic: {peak_rps: 50000, average_rps: 50000}\n"), 0);
    CHECK_INT(profile("service:\n  traffic: {peak: 5}\n"), -1);
    CHECK_STR(err, "profile.yaml:2:13: service.traffic: unknown key \"peak\" (known: peak_rps, "
                   "average_rps)");
}

TEST(profile_deadline_and_instance)
{
    CHECK_INT(profile("service:\n  deadline_weeks: 0\n"), -1);
    CHECK_STR(err, "profile.yaml:2:19: service.deadline_weeks: expected an integer >= 1, got "
                   "\"0\"");
    CHECK_INT(profile("cost:\n  instance: c7i.xlarge-with-a-name-far-too-long\n"), -1);
    CHECK_STR(err, "profile.yaml:2:13: cost.instance: expected a string of at most 31 bytes, got "
                   "35");
}

/* ---- the prices ---- */

#define TYPE_A "  - {name: a, vcpu: 2, gib: 4, usd_per_hour: 0.1, source: s, date: 2025-01-15}\n"
#define TYPE_B "  - {name: b, vcpu: 4, gib: 8, usd_per_hour: 0.2, source: s, date: 2025-01-15}\n"

TEST(prices_minimal)
{
    CHECK_INT(price_list("default: b\ntypes:\n" TYPE_A TYPE_B), 0);
    CHECK_INT(prices.n, 2);
    CHECK(prices.hours_per_month == 730); /* its default */
    CHECK_STR(prices.default_type, "b");
    CHECK(prices_find(&prices, "b") == &prices.types[1]);
    CHECK_STR(prices.types[0].source, "s");
    CHECK_INT(price_list("hours_per_month: 744\ndefault: a\ntypes:\n" TYPE_A), 0);
    CHECK(prices.hours_per_month == 744);
}

TEST(prices_missing_keys)
{
    CHECK_INT(price_list("types:\n" TYPE_A), -1);
    CHECK_STR(err, "prices.yaml:1:1: missing key \"default\"");
    CHECK_INT(price_list("default: a\n"), -1);
    CHECK_STR(err, "prices.yaml:1:1: missing key \"types\"");
    CHECK_INT(price_list("default: a\ntypes:\n  - {name: a, vcpu: 2, gib: 4, usd_per_hour: 0.1, "
                         "source: s}\n"),
              -1);
    CHECK_STR(err, "prices.yaml:3:5: types[0]: missing key \"date\"");
}

TEST(prices_unknown_key)
{
    CHECK_INT(price_list("default: a\ntypes:\n" TYPE_A "  - {name: b, cpu: 2}\n"), -1);
    CHECK_STR(err, "prices.yaml:4:15: types[1]: unknown key \"cpu\" (known: name, vcpu, gib, "
                   "usd_per_hour, source, date)");
    CHECK_INT(price_list("default: a\ncurrency: usd\ntypes:\n" TYPE_A), -1);
    CHECK_STR(err, "prices.yaml:2:1: unknown key \"currency\" (known: hours_per_month, default, "
                   "types)");
}

TEST(prices_out_of_range)
{
    CHECK_INT(price_list("default: a\ntypes:\n  - {name: a, vcpu: 0, gib: 4, usd_per_hour: 0.1, "
                         "source: s, date: 2025-01-15}\n"),
              -1);
    CHECK_STR(err, "prices.yaml:3:21: types[0].vcpu: expected an integer >= 1, got \"0\"");
    CHECK_INT(price_list("default: a\ntypes:\n  - {name: a, vcpu: 2, gib: 4, usd_per_hour: -0.1, "
                         "source: s, date: 2025-01-15}\n"),
              -1);
    CHECK_STR(err, "prices.yaml:3:46: types[0].usd_per_hour: expected a number > 0, got "
                   "\"-0.1\"");
    CHECK_INT(price_list("hours_per_month: 800\ndefault: a\ntypes:\n" TYPE_A), -1);
    CHECK_STR(err, "prices.yaml:1:18: hours_per_month: expected a number > 0 and <= 744, got "
                   "\"800\"");
}

TEST(prices_bad_date)
{
    static const char *const dates[] = {"2025/01/15", "2025-1-15", "2025-13-01", "2025-02-29",
                                        "2025-04-31", "2025-01-15T10:00", "15-01-2025"};
    for (int i = 0; i < 7; i++) {
        char text[256], want[256];
        snprintf(text, sizeof text,
                 "default: a\ntypes:\n  - {name: a, vcpu: 2, gib: 4, usd_per_hour: 0.1, "
                 "source: s, date: %s}\n",
                 dates[i]);
        snprintf(want, sizeof want,
                 "prices.yaml:3:68: types[0].date: expected a date YYYY-MM-DD, got \"%s\"",
                 dates[i]);
        CHECK_INT(price_list(text), -1);
        CHECK_STR(err, want);
    }
    CHECK_INT(price_list("default: a\ntypes:\n  - {name: a, vcpu: 2, gib: 4, usd_per_hour: 0.1, "
                         "source: s, date: 2024-02-29}\n"),
              0);
    CHECK_STR(prices.types[0].date, "2024-02-29");
    CHECK_INT(price_list("default: a\ntypes:\n  - {name: a, vcpu: 2, gib: 4, usd_per_hour: 0.1, "
                         "source: s, date: \"2000-02-29\"}\n"),
              0);
}

TEST(prices_duplicate_name)
{
    CHECK_INT(price_list("default: a\ntypes:\n" TYPE_A TYPE_B TYPE_A), -1);
    CHECK_STR(err, "prices.yaml:5:12: types[2].name: duplicate name \"a\" (first at line 3)");
}

TEST(prices_unknown_default)
{
    CHECK_INT(price_list("default: c9.huge\ntypes:\n" TYPE_A TYPE_B), -1);
    CHECK_STR(err, "prices.yaml:1:10: default: expected one of the types (a, b), got "
                   "\"c9.huge\"");
}

TEST(prices_types_shape)
{
    CHECK_INT(price_list("default: a\ntypes: []\n"), -1);
    CHECK_STR(err, "prices.yaml:2:8: types: expected at least one type");
    CHECK_INT(price_list("default: a\ntypes: {a: 1}\n"), -1);
    CHECK_STR(err, "prices.yaml:2:8: types: expected a sequence, got a mapping");
    CHECK_INT(price_list("default: a\ntypes: [c7i.xlarge]\n"), -1);
    CHECK_STR(err, "prices.yaml:2:9: types[0]: expected a mapping, got \"c7i.xlarge\"");
}

TEST(prices_at_most_PRICES_MAX)
{
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "default: t0\ntypes:\n");
    for (int i = 0; i <= PRICES_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "  - {name: t%d, vcpu: 2, gib: 4, usd_per_hour: 0.1, source: s, "
                              "date: 2025-01-15}\n",
                              i);
    CHECK_INT(price_list(text), -1);
    CHECK_STR(err, "prices.yaml:3:3: types: more than 32 types");
}

TEST(prices_file_that_does_not_exist)
{
    CHECK_INT(prices_load(&prices, "/nonexistent/prices.yaml", err, sizeof err), -1);
    CHECK_STR(err, "/nonexistent/prices.yaml: No such file or directory");
}

/* ---- the mesh ---- */

#define SVC_A "  - {name: a, kind: sql, traffic_rps: 100, lang: go}\n"

TEST(mesh_minimal)
{
    CHECK_INT(mesh_in("/srv/m", "services:\n" SVC_A), 0);
    CHECK_INT(mesh.n, 1);
    CHECK_STR(mesh.profile, ""); /* the shipped one */
    CHECK_STR(mesh.instance, "");
    const mesh_service_t *s = &mesh.svc[0];
    CHECK_STR(s->name, "a");
    CHECK_STR(s->kind, "sql");
    CHECK_STR(s->url, "");
    CHECK_STR(s->like, "");
    CHECK(s->traffic_rps == 100);
    CHECK(s->p99_slo_ms == 0); /* none */
    CHECK_INT(s->lang, LANG_GO);
    CHECK_INT(s->line, 2);
}

TEST(mesh_block_style_and_instance)
{
    CHECK_INT(mesh_in(NULL, "instance: c7g.xlarge\n"
                            "services:\n"
                            "  - name: ledger\n"
                            "    kind: grpc\n"
                            "    traffic_rps: 2500.5\n"
                            "    p99_slo_ms: 40\n"
                            "    lang: rust\n"),
              0);
    CHECK_STR(mesh.instance, "c7g.xlarge");
    CHECK_STR(mesh.svc[0].kind, "grpc");
    CHECK(mesh.svc[0].traffic_rps == 2500.5);
    CHECK(mesh.svc[0].p99_slo_ms == 40);
    CHECK_INT(mesh.svc[0].lang, LANG_RUST);
    CHECK_INT(mesh.svc[0].line, 3);
}

TEST(mesh_profile_resolved_from_its_folder)
{
    CHECK_INT(mesh_in("/srv/m", "profile: team.yaml\nservices:\n" SVC_A), 0);
    CHECK_STR(mesh.profile, "/srv/m/team.yaml");
    CHECK_INT(mesh_in("/srv/m/", "profile: ../team.yaml\nservices:\n" SVC_A), 0);
    CHECK_STR(mesh.profile, "/srv/m/../team.yaml");
    CHECK_INT(mesh_in("/srv/m", "profile: /etc/team.yaml\nservices:\n" SVC_A), 0);
    CHECK_STR(mesh.profile, "/etc/team.yaml");
    CHECK_INT(mesh_in("", "profile: team.yaml\nservices:\n" SVC_A), 0);
    CHECK_STR(mesh.profile, "team.yaml");
    CHECK_INT(mesh_in(NULL, "profile: team.yaml\nservices:\n" SVC_A), 0);
    CHECK_STR(mesh.profile, "team.yaml");
}

TEST(mesh_kind_url)
{
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: url:http://10.0.0.7:8080/orders, "
                            "like: sql, traffic_rps: 100, lang: go}\n"),
              0);
    CHECK_STR(mesh.svc[0].kind, "url");
    CHECK_STR(mesh.svc[0].url, "http://10.0.0.7:8080/orders");
    CHECK_STR(mesh.svc[0].like, "sql");
}

TEST(mesh_kind_url_without_like)
{
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: url:http://10.0.0.7:8080/orders, "
                            "traffic_rps: 100, lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:5: services[0]: missing key \"like\" (a service of kind url: "
                   "says which workload its work is like: echo, sql, csv or grpc)");
}

TEST(mesh_like_without_url)
{
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: sql, like: echo, traffic_rps: 100, "
                            "lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:32: services[0].like: only a service of kind url: has one");
}

TEST(mesh_unknown_like)
{
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: url:http://h/, like: http, "
                            "traffic_rps: 100, lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:42: services[0].like: expected echo, sql, csv or grpc, got "
                   "\"http\"");
}

TEST(mesh_unknown_kind)
{
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: rest, traffic_rps: 100, lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:21: services[0].kind: expected echo, sql, csv, grpc or "
                   "url:http://HOST[:PORT][/PATH], got \"rest\"");
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: url:ftp://h/x, like: csv, "
                            "traffic_rps: 100, lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:21: services[0].kind: expected url:http://HOST[:PORT][/PATH], "
                   "got \"url:ftp://h/x\"");
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: \"url:http://h:99999/\", like: csv, "
                            "traffic_rps: 100, lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:21: services[0].kind: expected url:http://HOST[:PORT][/PATH], "
                   "got \"url:http://h:99999/\"");
}

TEST(mesh_unknown_lang)
{
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: sql, traffic_rps: 100, lang: java}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:50: services[0].lang: expected c, go or rust, got \"java\"");
}

TEST(mesh_negative_traffic)
{
    CHECK_INT(mesh_in(NULL, "services:\n" SVC_A
                            "  - {name: b, kind: sql, traffic_rps: -100, lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:3:39: services[1].traffic_rps: expected a number > 0, got \"-100\"");
    CHECK_INT(mesh_in(NULL, "services:\n"
                            "  - {name: b, kind: sql, traffic_rps: 1, p99_slo_ms: 0, lang: go}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:54: services[0].p99_slo_ms: expected a number > 0, got \"0\"");
}

TEST(mesh_duplicate_name)
{
    CHECK_INT(mesh_in(NULL, "services:\n" SVC_A
                            "  - {name: b, kind: csv, traffic_rps: 100, lang: go}\n" SVC_A),
              -1);
    CHECK_STR(err, "mesh.yaml:4:12: services[2].name: duplicate name \"a\" (first at line 2)");
}

TEST(mesh_missing_keys)
{
    CHECK_INT(mesh_in(NULL, "profile: p.yaml\n"), -1);
    CHECK_STR(err, "mesh.yaml:1:1: missing key \"services\"");
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: sql, traffic_rps: 100}\n"), -1);
    CHECK_STR(err, "mesh.yaml:2:5: services[0]: missing key \"lang\"");
    CHECK_INT(mesh_in(NULL, "services:\n  - name: a\n    lang: go\n"), -1);
    CHECK_STR(err, "mesh.yaml:2:5: services[0]: missing key \"kind\"");
}

TEST(mesh_unknown_key)
{
    CHECK_INT(mesh_in(NULL, "services:\n  - {name: a, kind: sql, traffic_rps: 100, lang: go, "
                            "owner: payments}\n"),
              -1);
    CHECK_STR(err, "mesh.yaml:2:54: services[0]: unknown key \"owner\" (known: name, kind, "
                   "traffic_rps, p99_slo_ms, lang, like)");
}

TEST(mesh_services_shape)
{
    CHECK_INT(mesh_in(NULL, "services: []\n"), -1);
    CHECK_STR(err, "mesh.yaml:1:11: services: expected at least one service");
    char *text = malloc(64 * (MESH_MAX + 2));
    size_t n = (size_t)sprintf(text, "services:\n");
    for (int i = 0; i <= MESH_MAX; i++)
        n += (size_t)sprintf(text + n, "  - {name: s%d, kind: sql, traffic_rps: 1, lang: go}\n", i);
    CHECK_INT(mesh_in(NULL, text), -1);
    CHECK_STR(err, "mesh.yaml:2:3: services: more than 256 services");
    free(text);
}

TEST(mesh_from_a_file)
{
    char dir[] = "/tmp/test_decide_XXXXXX", path[64], want[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/mesh.yaml", dir);
    write_file(path, "profile: team.yaml\nservices:\n" SVC_A);
    CHECK_INT(mesh_load(&mesh, path, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/team.yaml", dir);
    CHECK_STR(mesh.profile, want);
    CHECK_INT(mesh.n, 1);
    write_file(path, "services:\n  - {name: a, kind: sql, traffic_rps: 100, lang: cobol}\n");
    CHECK_INT(mesh_load(&mesh, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2:50: services[0].lang: expected c, go or rust, got \"cobol\"",
             path);
    CHECK_STR(err, want);
    unlink(path);
    rmdir(dir);
}

TEST(mesh_file_that_does_not_exist)
{
    CHECK_INT(mesh_load(&mesh, "/nonexistent/mesh.yaml", err, sizeof err), -1);
    CHECK_STR(err, "/nonexistent/mesh.yaml: No such file or directory");
    CHECK_INT(mesh_load(&mesh, NULL, err, sizeof err), -1);
    CHECK_STR(err, "mesh: no file given");
}

T_MAIN(T(shipped_profile), T(shipped_prices), T(shipped_mesh), T(lang_names_and_parse),
       T(profile_defaults), T(profile_keys_left_out_take_the_defaults), T(profile_from_a_file),
       T(profile_file_that_does_not_exist), T(profile_empty), T(profile_syntax_error),
       T(profile_unknown_key), T(profile_unknown_language), T(profile_unknown_skill_level),
       T(profile_negative_seniors), T(profile_wrong_types), T(profile_headroom_out_of_range),
       T(profile_unknown_budget), T(profile_traffic), T(profile_deadline_and_instance),
       T(prices_minimal), T(prices_missing_keys), T(prices_unknown_key), T(prices_out_of_range),
       T(prices_bad_date), T(prices_duplicate_name), T(prices_unknown_default),
       T(prices_types_shape), T(prices_at_most_PRICES_MAX), T(prices_file_that_does_not_exist),
       T(mesh_minimal), T(mesh_block_style_and_instance), T(mesh_profile_resolved_from_its_folder),
       T(mesh_kind_url), T(mesh_kind_url_without_like), T(mesh_like_without_url),
       T(mesh_unknown_like), T(mesh_unknown_kind), T(mesh_unknown_lang), T(mesh_negative_traffic),
       T(mesh_duplicate_name), T(mesh_missing_keys), T(mesh_unknown_key), T(mesh_services_shape),
       T(mesh_from_a_file), T(mesh_file_that_does_not_exist))
