#include "load/report.h"

#include "codec/jsonw.h"
#include "core/clock.h"
#include "core/fmt.h"
#include "telemetry/trace.h"

static const struct {
    const char *key, *label;
    double pct;
} percentiles[] = {
    {"p50", "p50", 50}, {"p90", "p90", 90}, {"p99", "p99", 99}, {"p999", "p99.9", 99.9},
    {"p9999", "p99.99", 99.99},
};
#define NPCT (sizeof percentiles / sizeof percentiles[0])

/* Right-aligns s in `width` columns: "µ" is two bytes but one column, so printf's %9s won't do. */
static void col(FILE *f, const char *s, int width)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xC0) != 0x80;
    fprintf(f, " %*s%s", width > cols ? width - cols : 0, "", s);
}

static const char *proto_name(const load_config_t *cfg)
{
    return cfg->proto == LOAD_GRPC ? "grpc" : cfg->proto == LOAD_H2 ? "h2" : "http1";
}

/* A latency histogram's row of percentiles (the header row is the caller's). */
static void latency_row(FILE *f, const char *label, const hist_t *h)
{
    char a[32];
    fprintf(f, "  %-10s", label);
    fmt_duration(a, sizeof a, (double)hist_min(h));
    col(f, a, 9);
    for (size_t i = 0; i < NPCT; i++) {
        fmt_duration(a, sizeof a, (double)hist_percentile(h, percentiles[i].pct));
        col(f, a, 9);
    }
    fmt_duration(a, sizeof a, (double)hist_max(h));
    col(f, a, 9);
    fmt_duration(a, sizeof a, hist_mean(h));
    col(f, a, 9);
    fmt_duration(a, sizeof a, hist_stdev(h));
    col(f, a, 9);
    fprintf(f, "\n");
}

static void grpc_statuses_text(FILE *f, const uint64_t st[LOAD_GRPC_STATUSES])
{
    int shown = 0;
    for (int g = 0; g < LOAD_GRPC_STATUSES; g++)
        if (st[g])
            fprintf(f, "%s%s: %llu", shown++ ? ", " : " ",
                    g < GRPC_NCODES ? grpc_code_name(g) : "none", (unsigned long long)st[g]);
    fprintf(f, "%s\n", shown ? "" : " none");
}

static uint64_t seed_used(const load_config_t *cfg)
{
    return cfg->seed ? cfg->seed : LOAD_SEED_DEFAULT;
}

static uint64_t non_2xx(const load_request_result_t *br)
{
    uint64_t n = 0;
    for (int s = 0; s < 600; s++)
        if (s < 200 || s > 299)
            n += br->status[s];
    return n;
}

/* "POST /orders {"account_id":{rand:1:10000},…}": a template on one line, its body cut short
 * and control bytes shown as '.', so that the table stays a table. */
static void print_template(FILE *f, const mix_template_t *rq)
{
    fprintf(f, "  %s %s", rq->method, rq->target);
    if (!rq->body)
        return;
    size_t n = rq->body_len > 48 ? 48 : rq->body_len;
    fputc(' ', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)rq->body[i];
        fputc(ch < 0x20 || ch == 0x7f ? '.' : ch, f);
    }
    if (n < rq->body_len)
        fputs("…", f);
}

/* One row per template: its share of the weights and of the requests sent, its answers, their
 * p50 and p99, answers that were not 2xx and errors while one of its requests was owed. */
static void report_by_request(FILE *f, const load_config_t *cfg, const load_result_t *r)
{
    char a[32];
    uint64_t weights = 0, sent = 0;
    for (size_t i = 0; i < r->nby_request; i++) {
        weights += cfg->requests[i].weight;
        sent += r->by_request[i].sent;
    }
    fprintf(f, "\n  %-10s", "mix");
    static const char *const heads[] = {"weight", "sent", "answers", "p50", "p99", "non-2xx",
                                        "errors"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        col(f, heads[i], 9);
    fprintf(f, "  request\n");
    for (size_t i = 0; i < r->nby_request; i++) {
        const load_request_result_t *br = &r->by_request[i];
        char label[24];
        snprintf(label, sizeof label, "#%zu", i + 1);
        fprintf(f, "  %-10s", label);
        snprintf(a, sizeof a, "%.1f%%", 100.0 * cfg->requests[i].weight / (double)weights);
        col(f, a, 9);
        snprintf(a, sizeof a, "%.1f%%", sent ? 100.0 * (double)br->sent / (double)sent : 0);
        col(f, a, 9);
        snprintf(a, sizeof a, "%llu", (unsigned long long)br->requests);
        col(f, a, 9);
        fmt_duration(a, sizeof a, (double)hist_percentile(br->latency, 50));
        col(f, a, 9);
        fmt_duration(a, sizeof a, (double)hist_percentile(br->latency, 99));
        col(f, a, 9);
        snprintf(a, sizeof a, "%llu", (unsigned long long)non_2xx(br));
        col(f, a, 9);
        uint64_t errs = 0;
        for (int e = 0; e < LOAD_ERR_KINDS; e++)
            errs += br->errors[e];
        snprintf(a, sizeof a, "%llu", (unsigned long long)errs);
        col(f, a, 9);
        print_template(f, &cfg->requests[i]);
        fputc('\n', f);
    }
}

/* The slowest sampled requests, with the trace ids to look them up by. */
static void report_traces(FILE *f, const load_result_t *r)
{
    fprintf(f, "\n  traced     %llu requests sent sampled; the slowest:\n",
            (unsigned long long)r->traced);
    for (int i = 0; i < r->nslowest; i++) {
        char id[2 * TRACE_ID_LEN + 1], d[32];
        trace_hex(r->slowest[i].trace_id, TRACE_ID_LEN, id);
        fmt_duration(d, sizeof d, (double)r->slowest[i].latency_ns);
        fprintf(f, "  %9s  %s\n", d, id);
    }
}

void load_report_text(FILE *f, const load_config_t *cfg, const load_result_t *r)
{
    char a[32], b[32];
    if (cfg->nrequests)
        fprintf(f, "stackbench load mix of %zu templates (seed %llu) %s\n", cfg->nrequests,
                (unsigned long long)seed_used(cfg), cfg->url);
    else
        fprintf(f, "stackbench load %s %s\n", cfg->method, cfg->url);
    char streams[48] = "";
    if (cfg->proto != LOAD_HTTP1)
        snprintf(streams, sizeof streams, " (%s, %d stream%s each)",
                 cfg->proto == LOAD_GRPC ? "gRPC over HTTP/2" : "HTTP/2", cfg->streams,
                 cfg->streams == 1 ? "" : "s");
    if (cfg->rate > 0)
        fprintf(f, "  open loop at %.0f req/s, %d connections%s, %d threads, %.1fs\n", cfg->rate,
                cfg->connections, streams, cfg->threads, (double)cfg->duration_ns / NS_PER_S);
    else
        fprintf(f, "  closed loop, %d connections%s, %d threads, %.1fs\n", cfg->connections,
                streams, cfg->threads, (double)cfg->duration_ns / NS_PER_S);
    double rps = r->elapsed_s > 0 ? (double)r->requests / r->elapsed_s : 0;
    fprintf(f, "\n  %-10s %llu in %.2fs, %.1f %s/s\n",
            cfg->proto == LOAD_GRPC ? "calls" : "requests", (unsigned long long)r->requests,
            r->elapsed_s, rps, cfg->proto == LOAD_GRPC ? "calls" : "req");
    if (cfg->proto == LOAD_GRPC) {
        double el = r->elapsed_s > 0 ? r->elapsed_s : 1;
        fmt_bytes(b, sizeof b, (double)r->message_bytes / el);
        fprintf(f, "  %-10s %llu, %.1f/s, %s/s\n", "messages", (unsigned long long)r->messages,
                (double)r->messages / el, b);
    }

    /* Latency table: one header row, a value row per histogram, columns aligned. */
    fprintf(f, "  %-10s", "latency");
    col(f, "min", 9);
    for (size_t i = 0; i < NPCT; i++)
        col(f, percentiles[i].label, 9);
    col(f, "max", 9);
    col(f, "mean", 9);
    col(f, "stdev", 9);
    fprintf(f, "\n");
    latency_row(f, cfg->proto == LOAD_GRPC ? "call" : "", r->latency);
    if (cfg->proto == LOAD_GRPC && r->messages) {
        latency_row(f, "first msg", r->first_message);
        if (hist_count(r->inter_arrival))
            latency_row(f, "msg gap", r->inter_arrival);
    }

    fprintf(f, "  %-10s", "status");
    int shown = 0;
    for (int s = 0; s < 600; s++)
        if (r->status[s]) {
            fprintf(f, "%s%d: %llu", shown++ ? ", " : " ", s, (unsigned long long)r->status[s]);
        }
    fprintf(f, "%s\n", shown ? "" : " none");
    if (cfg->proto == LOAD_GRPC) {
        fprintf(f, "  %-10s", "grpc");
        grpc_statuses_text(f, r->grpc_status);
    }

    fprintf(f, "  %-10s", "errors");
    uint64_t total = load_errors_total(r);
    if (!total) {
        fprintf(f, " none\n");
    } else {
        shown = 0;
        for (int e = 0; e < LOAD_ERR_KINDS; e++)
            if (r->errors[e])
                fprintf(f, "%s%s %llu", shown++ ? ", " : " ", load_err_names[e],
                        (unsigned long long)r->errors[e]);
        fprintf(f, "\n");
    }
    if (r->unsent)
        fprintf(f, "  %-10s %llu requests due before the end could not be sent\n", "unsent",
                (unsigned long long)r->unsent);
    fmt_bytes(a, sizeof a, (double)r->bytes_in);
    fmt_bytes(b, sizeof b, (double)r->bytes_out);
    fprintf(f, "  %-10s in %s, out %s, %llu connections opened\n", "transfer", a, b,
            (unsigned long long)r->connects);
    fmt_duration(a, sizeof a, r->requests ? r->cpu_s * 1e9 / (double)r->requests : 0);
    fprintf(f, "  %-10s %.2fs CPU, %s per request\n", "load", r->cpu_s, a);
    if (cfg->nrequests > 1 && r->nby_request == cfg->nrequests)
        report_by_request(f, cfg, r);
    if (cfg->trace_ratio >= 0)
        report_traces(f, r);
}

static void json_status(jsonw_t *w, const uint64_t status[600])
{
    jsonw_obj_begin(w);
    for (int s = 0; s < 600; s++)
        if (status[s]) {
            char k[16];
            snprintf(k, sizeof k, "%d", s);
            jsonw_key(w, k);
            jsonw_uint(w, status[s]);
        }
    jsonw_obj_end(w);
}

static void json_errors(jsonw_t *w, const uint64_t errors[LOAD_ERR_KINDS])
{
    jsonw_obj_begin(w);
    for (int e = 0; e < LOAD_ERR_KINDS; e++) {
        jsonw_key(w, load_err_names[e]);
        jsonw_uint(w, errors[e]);
    }
    jsonw_obj_end(w);
}

static void json_grpc_status(jsonw_t *w, const uint64_t st[LOAD_GRPC_STATUSES])
{
    jsonw_obj_begin(w);
    for (int g = 0; g < LOAD_GRPC_STATUSES; g++)
        if (st[g]) {
            jsonw_key(w, g < GRPC_NCODES ? grpc_code_name(g) : "none");
            jsonw_uint(w, st[g]);
        }
    jsonw_obj_end(w);
}

static void json_latency(jsonw_t *w, const hist_t *h)
{
    jsonw_obj_begin(w);
    jsonw_key(w, "min");
    jsonw_double(w, (double)hist_min(h) / 1e3, 3);
    for (size_t i = 0; i < NPCT; i++) {
        jsonw_key(w, percentiles[i].key);
        jsonw_double(w, (double)hist_percentile(h, percentiles[i].pct) / 1e3, 3);
    }
    jsonw_key(w, "max");
    jsonw_double(w, (double)hist_max(h) / 1e3, 3);
    jsonw_key(w, "mean");
    jsonw_double(w, hist_mean(h) / 1e3, 3);
    jsonw_key(w, "stdev");
    jsonw_double(w, hist_stdev(h) / 1e3, 3);
    jsonw_obj_end(w);
}

static void json_by_request(jsonw_t *w, const load_config_t *cfg, const mix_template_t *rq,
                            const load_request_result_t *br)
{
    bool grpc = cfg->proto == LOAD_GRPC;
    jsonw_obj_begin(w);
    jsonw_key(w, "method");
    jsonw_str(w, grpc ? "POST" : rq->method);
    jsonw_key(w, "target");
    jsonw_str(w, rq->target);
    /* A gRPC body is a protobuf message, not text: its size only. */
    jsonw_key(w, "body");
    if (rq->body && !grpc)
        jsonw_strn(w, rq->body, rq->body_len);
    else
        jsonw_null(w);
    if (grpc) {
        jsonw_key(w, "message_bytes");
        jsonw_uint(w, rq->body ? rq->body_len : 0);
        jsonw_key(w, "grpc_status");
        json_grpc_status(w, br->grpc_status);
        jsonw_key(w, "messages");
        jsonw_uint(w, br->messages);
    }
    jsonw_key(w, "weight");
    jsonw_uint(w, rq->weight);
    jsonw_key(w, "sent");
    jsonw_uint(w, br->sent);
    jsonw_key(w, "requests");
    jsonw_uint(w, br->requests);
    jsonw_key(w, "status");
    json_status(w, br->status);
    jsonw_key(w, "errors");
    json_errors(w, br->errors);
    jsonw_key(w, "latency_us");
    jsonw_obj_begin(w);
    for (size_t i = 0; i < 4; i++) { /* p50, p90, p99, p999 */
        jsonw_key(w, percentiles[i].key);
        jsonw_double(w, (double)hist_percentile(br->latency, percentiles[i].pct) / 1e3, 3);
    }
    jsonw_obj_end(w);
    jsonw_obj_end(w);
}

void load_report_json(buf_t *out, const load_config_t *cfg, const load_result_t *r)
{
    jsonw_t w;
    jsonw_init(&w, out, true);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "url");
    jsonw_str(&w, cfg->url);
    jsonw_key(&w, "method");
    if (cfg->nrequests)
        jsonw_null(&w); /* each template has its own: requests_by_template */
    else
        jsonw_str(&w, cfg->method);
    jsonw_key(&w, "protocol");
    jsonw_str(&w, proto_name(cfg));
    jsonw_key(&w, "streams");
    jsonw_int(&w, cfg->proto == LOAD_HTTP1 ? 1 : cfg->streams);
    jsonw_key(&w, "connections");
    jsonw_int(&w, cfg->connections);
    jsonw_key(&w, "threads");
    jsonw_int(&w, cfg->threads);
    jsonw_key(&w, "duration_s");
    jsonw_double(&w, (double)cfg->duration_ns / NS_PER_S, 6);
    jsonw_key(&w, "rate");
    if (cfg->rate > 0)
        jsonw_double(&w, cfg->rate, 3);
    else
        jsonw_null(&w);
    jsonw_key(&w, "requests");
    jsonw_uint(&w, r->requests);
    jsonw_key(&w, "rps");
    jsonw_double(&w, r->elapsed_s > 0 ? (double)r->requests / r->elapsed_s : 0, 1);
    jsonw_key(&w, "elapsed_s");
    jsonw_double(&w, r->elapsed_s, 6);

    jsonw_key(&w, "latency_us");
    json_latency(&w, r->latency);

    jsonw_key(&w, "status");
    json_status(&w, r->status);
    jsonw_key(&w, "errors");
    json_errors(&w, r->errors);
    jsonw_key(&w, "bytes_in");
    jsonw_uint(&w, r->bytes_in);
    jsonw_key(&w, "bytes_out");
    jsonw_uint(&w, r->bytes_out);
    jsonw_key(&w, "unsent");
    jsonw_uint(&w, r->unsent);
    jsonw_key(&w, "connects");
    jsonw_uint(&w, r->connects);
    jsonw_key(&w, "load_cpu_s");
    jsonw_double(&w, r->cpu_s, 6);
    jsonw_key(&w, "load_cpu_us_per_req");
    jsonw_double(&w, r->requests ? r->cpu_s * 1e6 / (double)r->requests : 0, 3);
    if (cfg->proto == LOAD_GRPC) {
        double el = r->elapsed_s > 0 ? r->elapsed_s : 1;
        jsonw_key(&w, "grpc");
        jsonw_obj_begin(&w);
        jsonw_key(&w, "status");
        json_grpc_status(&w, r->grpc_status);
        jsonw_key(&w, "messages");
        jsonw_uint(&w, r->messages);
        jsonw_key(&w, "messages_per_s");
        jsonw_double(&w, (double)r->messages / el, 1);
        jsonw_key(&w, "message_bytes");
        jsonw_uint(&w, r->message_bytes);
        jsonw_key(&w, "message_bytes_per_s");
        jsonw_double(&w, (double)r->message_bytes / el, 1);
        jsonw_key(&w, "first_message_us");
        json_latency(&w, r->first_message);
        jsonw_key(&w, "inter_arrival_us");
        json_latency(&w, r->inter_arrival);
        jsonw_obj_end(&w);
    }
    if (cfg->nrequests && r->nby_request == cfg->nrequests) {
        jsonw_key(&w, "seed");
        jsonw_uint(&w, seed_used(cfg));
        jsonw_key(&w, "requests_by_template");
        jsonw_arr_begin(&w);
        for (size_t i = 0; i < r->nby_request; i++)
            json_by_request(&w, cfg, &cfg->requests[i], &r->by_request[i]);
        jsonw_arr_end(&w);
    }
    if (cfg->trace_ratio >= 0) {
        jsonw_key(&w, "trace_ratio");
        jsonw_double(&w, cfg->trace_ratio, 6);
        jsonw_key(&w, "traced");
        jsonw_uint(&w, r->traced);
        jsonw_key(&w, "slowest_traces");
        jsonw_arr_begin(&w);
        for (int i = 0; i < r->nslowest; i++) {
            char id[2 * TRACE_ID_LEN + 1];
            trace_hex(r->slowest[i].trace_id, TRACE_ID_LEN, id);
            jsonw_obj_begin(&w);
            jsonw_key(&w, "trace_id");
            jsonw_str(&w, id);
            jsonw_key(&w, "latency_us");
            jsonw_double(&w, (double)r->slowest[i].latency_ns / 1e3, 3);
            jsonw_obj_end(&w);
        }
        jsonw_arr_end(&w);
    }
    jsonw_obj_end(&w);
    buf_puts(out, "\n");
}
