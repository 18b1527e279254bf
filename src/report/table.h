/* table: a run's results as text for people, drawn from its figures (decide/figures.h:
 * results.json read back), as the page is (report/html.h), so that what the terminal, results.md
 * and report.html say of a run is one reading of one file.
 *
 * The aligned table `stackbench run` prints: per cell its req/s, p50, p99, p99.9, peak RSS, CPU
 * µs per request, errors, its distance to the best of its tier and what it measures (a failed
 * cell: its reason instead of figures; a mix: a line per kind of request under it); then per
 * workload the lead lines (within each tier the fastest over the others; across tiers the
 * fastest over the best of each other tier); the equal-load block; the development figures.
 * results.md has the same tables in Markdown (no lead lines, no lines per kind of request). */
#ifndef SB_REPORT_TABLE_H
#define SB_REPORT_TABLE_H

#include <stdio.h>

#include "core/buf.h"
#include "decide/figures.h"

/* The tables of f on out, the blocks f does not have left out. */
void table_print(FILE *out, const figures_t *f);
/* results.md's head and tables for f into out (the verdict and the claims follow them:
 * decide_after_run). */
void table_markdown(buf_t *out, const figures_t *f);

#endif
