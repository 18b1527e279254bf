/* html: report.html, a run's results as one page for people. One self-contained file that
 * opens from disk with no network: the styles inline, the charts inline SVG (report/svg.h),
 * no script, no font or image from elsewhere; a print stylesheet, and colours that stay apart
 * in grey (one per language, Okabe–Ito, each with its own lightness, dash and marker).
 *
 * What it shows, from one decision (decide/decide.h: the figures read back from results.json,
 * the verdicts and the claims computed from them by the decide module): the machine, the
 * toolchains, the command and its CPUs, a summary of who leads where; the table of every cell
 * (failed ones with their reason); per workload the bars of req/s, CPU per request (with the
 * database's share) and memory, the percentile spectrum at the maximum and at equal load, the
 * equal-load table and each implementation's latency over time, the sweep's curves; the
 * development figures; the verdict with its bill; the claims.
 *
 * Every string that comes from the results (labels, reasons, the command line, the machine's
 * names) goes through svg_escape (svg.h), the report's one escape. Elements carry what a test
 * reads: each chart's data-chart, each cell's row data-cell="WORKLOAD/NAME/TIER", each figure
 * of it data-k (its key) and data-v (the number as results.json has it). */
#ifndef SB_REPORT_HTML_H
#define SB_REPORT_HTML_H

#include "core/buf.h"
#include "decide/decide.h"

/* The page for d into out. profile_path names the profile the verdict used (NULL: the shipped
 * example). */
void html_page(buf_t *out, const decision_t *d, const char *profile_path);

/* The x of percentile pct on the spectrum's scale, log10(1 / (1 - pct / 100)): 0 % at 0, 90 %
 * at 1, 99 % at 2 ... 100 % (the max) is put at log10(count), where a run of count answers has
 * its last one, and at most at 5 (99.999 %), the scale's end. */
double html_nines(double pct, double count);

#endif
