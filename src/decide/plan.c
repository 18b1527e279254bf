/* plan: keep or move, per service of a mesh (plan.h). */
#include "decide/plan.h"

#include <math.h>
#include <string.h>

/* The first reason the verdict gives for lang, or "". */
static const char *reason_for(const verdict_t *v, int lang, const char *rule)
{
    for (int i = 0; i < v->nreasons; i++)
        if (v->reasons[i].lang == lang && (rule ? !strcmp(v->reasons[i].rule, rule)
                                                : v->reasons[i].points > 0))
            return v->reasons[i].text;
    return "";
}

static void plan_row(plan_row_t *row, const mesh_service_t *s, const profile_t *p,
                     const price_t *type, double hours, const figures_t *f)
{
    memset(row, 0, sizeof *row);
    row->svc = s;
    row->workload = !strcmp(s->kind, "url") ? s->like : s->kind;
    row->now = row->to = s->lang;
    profile_t pp = *p;
    if (s->p99_slo_ms > 0)
        pp.p99_slo_ms = s->p99_slo_ms;
    pp.peak_rps = s->traffic_rps;
    vctx_t c;
    verdict_context(&c, f, &pp, type, hours, s->traffic_rps, row->workload);
    static verdict_t v; /* large; plans are made one at a time */
    verdict_decide(&c, &v);
    if (!c.have_cost[s->lang]) {
        snprintf(row->why, sizeof row->why, "no figures for %s %s in these results",
                 lang_names[s->lang], row->workload);
        return;
    }
    row->known = row->have_cost = true;
    row->before = row->after = c.cost[s->lang];
    if (v.pick < 0) {
        snprintf(row->why, sizeof row->why, "no language meets it: %s",
                 reason_for(&v, s->lang, "slo"));
        return;
    }
    if (v.pick == s->lang) {
        const char *r = reason_for(&v, s->lang, NULL);
        snprintf(row->why, sizeof row->why, "%s", *r ? r : "the verdict keeps it");
        return;
    }
    const cost_t *to = &c.cost[v.pick];
    double saving = cost_saving(&row->before, to);
    /* The SLO's reason when it ruled the language out (not its "not checked" note). */
    const char *slo = v.candidate[s->lang] ? "" : reason_for(&v, s->lang, "slo");
    if (*slo) {
        snprintf(row->why, sizeof row->why, "%s", slo);
    } else if (row->before.instances - to->instances >= 1 &&
               saving >= verdict_saving_needed(p->budget)) {
        snprintf(row->why, sizeof row->why, "%d -> %d instances (-$%.0f a month, -%.0f %%)",
                 row->before.instances, to->instances, row->before.usd_month - to->usd_month,
                 100 * saving);
    } else {
        snprintf(row->why, sizeof row->why,
                 "%s by the verdict, but %d -> %d instances saves %.0f %% (cost.budget %s: "
                 "%.0f %%)",
                 lang_names[v.pick], row->before.instances, to->instances,
                 fabs(100 * saving) < 0.5 ? 0 : 100 * saving, budget_names[p->budget],
                 100 * verdict_saving_needed(p->budget));
        return;
    }
    row->to = v.pick;
    row->after = *to;
}

int plan_make(plan_t *pl, const mesh_t *m, const profile_t *p, const prices_t *prices,
              const figures_t *f, char *err, size_t errlen)
{
    memset(pl, 0, sizeof *pl);
    const char *type = m->instance[0] ? m->instance : p->instance[0] ? p->instance
                                                                     : prices->default_type;
    pl->type = prices_find(prices, type);
    if (!pl->type) {
        snprintf(err, errlen, "instance type '%s' is not in the prices", type);
        return -1;
    }
    pl->hours_per_month = prices->hours_per_month;
    for (int i = 0; i < m->n; i++) {
        plan_row_t *row = &pl->rows[pl->n++];
        plan_row(row, &m->svc[i], p, pl->type, pl->hours_per_month, f);
        if (!row->known) {
            pl->unknown++;
            continue;
        }
        if (row->to != row->now) {
            pl->moved++;
            pl->moved_to[row->to]++;
        }
        pl->instances_before += row->before.instances;
        pl->instances_after += row->after.instances;
        pl->usd_before += row->before.usd_month;
        pl->usd_after += row->after.usd_month;
    }
    return 0;
}

void plan_print(FILE *out, const plan_t *pl)
{
    fprintf(out, "on %s (%d vCPU, $%.4f/h), %.0f h a month\n", pl->type->name, pl->type->vcpu,
            pl->type->usd_per_hour, pl->hours_per_month);
    fprintf(out, "%-22s  %-4s  %8s  %7s  %-4s  %-10s  %9s  %15s  %s\n", "service", "kind",
            "req/s", "SLO", "now", "plan", "instances", "$/month", "why");
    for (int i = 0; i < pl->n; i++) {
        const plan_row_t *r = &pl->rows[i];
        char slo[16] = "-", plan[16], inst[24] = "-", usd[32] = "-";
        if (r->svc->p99_slo_ms > 0)
            snprintf(slo, sizeof slo, "%g ms", r->svc->p99_slo_ms);
        snprintf(plan, sizeof plan, "%s %s", r->to == r->now ? "keep" : "move",
                 lang_names[r->to]);
        if (r->have_cost) {
            snprintf(inst, sizeof inst, "%d -> %d", r->before.instances, r->after.instances);
            snprintf(usd, sizeof usd, "%.0f -> %.0f", r->before.usd_month, r->after.usd_month);
        }
        fprintf(out, "%-22s  %-4s  %8.0f  %7s  %-4s  %-10s  %9s  %15s  %s\n", r->svc->name,
                r->workload, r->svc->traffic_rps, slo, lang_names[r->now], plan, inst, usd,
                r->why);
    }
    double saving = pl->usd_before > 0 ? 1 - pl->usd_after / pl->usd_before : 0;
    fprintf(out, "\n%d of %d services move", pl->moved, pl->n);
    for (int l = 0; l < LANG_N; l++)
        if (pl->moved_to[l])
            fprintf(out, ", %d to %s", pl->moved_to[l], lang_names[l]);
    fprintf(out, "; instances %d -> %d; $%.0f -> $%.0f a month (%+.0f %%)\n",
            pl->instances_before, pl->instances_after, pl->usd_before, pl->usd_after,
            -100 * saving);
    if (pl->unknown)
        fprintf(out, "%d services have no figures in these results: left out of the totals\n",
                pl->unknown);
}

void plan_json(jsonw_t *w, const plan_t *pl)
{
    jsonw_obj_begin(w);
    jsonw_key(w, "instance");
    jsonw_str(w, pl->type->name);
    jsonw_key(w, "hours_per_month");
    jsonw_double(w, pl->hours_per_month, 1);
    jsonw_key(w, "services");
    jsonw_arr_begin(w);
    for (int i = 0; i < pl->n; i++) {
        const plan_row_t *r = &pl->rows[i];
        jsonw_obj_begin(w);
        jsonw_key(w, "name");
        jsonw_str(w, r->svc->name);
        jsonw_key(w, "workload");
        jsonw_str(w, r->workload);
        jsonw_key(w, "traffic_rps");
        jsonw_double(w, r->svc->traffic_rps, 1);
        jsonw_key(w, "now");
        jsonw_str(w, lang_names[r->now]);
        jsonw_key(w, "plan");
        jsonw_str(w, r->to == r->now ? "keep" : "move");
        jsonw_key(w, "to");
        jsonw_str(w, lang_names[r->to]);
        jsonw_key(w, "instances_before");
        r->have_cost ? jsonw_int(w, r->before.instances) : jsonw_null(w);
        jsonw_key(w, "instances_after");
        r->have_cost ? jsonw_int(w, r->after.instances) : jsonw_null(w);
        jsonw_key(w, "usd_month_before");
        r->have_cost ? jsonw_double(w, r->before.usd_month, 2) : jsonw_null(w);
        jsonw_key(w, "usd_month_after");
        r->have_cost ? jsonw_double(w, r->after.usd_month, 2) : jsonw_null(w);
        jsonw_key(w, "why");
        jsonw_str(w, r->why);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_key(w, "total");
    jsonw_obj_begin(w);
    jsonw_key(w, "services");
    jsonw_int(w, pl->n);
    jsonw_key(w, "moved");
    jsonw_int(w, pl->moved);
    jsonw_key(w, "unknown");
    jsonw_int(w, pl->unknown);
    jsonw_key(w, "instances_before");
    jsonw_int(w, pl->instances_before);
    jsonw_key(w, "instances_after");
    jsonw_int(w, pl->instances_after);
    jsonw_key(w, "usd_month_before");
    jsonw_double(w, pl->usd_before, 2);
    jsonw_key(w, "usd_month_after");
    jsonw_double(w, pl->usd_after, 2);
    jsonw_key(w, "saving");
    jsonw_double(w, pl->usd_before > 0 ? 1 - pl->usd_after / pl->usd_before : 0, 4);
    jsonw_obj_end(w);
    jsonw_obj_end(w);
}
