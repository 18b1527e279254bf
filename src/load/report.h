/* report: a load run for people (aligned text) and for programs (JSON with stable keys). */
#ifndef SB_LOAD_REPORT_H
#define SB_LOAD_REPORT_H

#include <stdio.h>

#include "core/buf.h"
#include "load/load.h"

/* With several templates, a table of them follows the summary. */
void load_report_text(FILE *f, const load_config_t *cfg, const load_result_t *r);
/* The JSON document: url, connections, threads, duration_s, rate, requests, rps, latency_us
 * {min,p50,p90,p99,p999,p9999,max,mean,stdev}, status {"200":N}, errors {connect,read,write,
 * timeout,parse,status,body}, bytes_in, bytes_out, unsent, connects, elapsed_s, load_cpu_s,
 * load_cpu_us_per_req. With a request mix, method is null and two keys follow: seed, and
 * requests_by_template [{method, target, body, weight, sent, requests, status, errors,
 * latency_us {p50,p90,p99,p999}}], one object per template in order. */
void load_report_json(buf_t *out, const load_config_t *cfg, const load_result_t *r);

#endif
