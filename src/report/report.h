/* report: `stackbench report [DIR]`, and the page `stackbench run` writes at its end: DIR's
 * results.json read back with the decide module's reader, the verdict and the claims
 * computed again by its functions (so the page and verdict.json cannot disagree for the same
 * profile), and report.html written beside them (report/html.h); and results.md's tables,
 * from the same figures (report/table.h). */
#ifndef SB_REPORT_REPORT_H
#define SB_REPORT_REPORT_H

#include <stddef.h>

#include "decide/decide.h"

/* DIR/results.json into out_path (NULL: DIR/report.html), with o's profile, prices and
 * traffic for the verdict. The path written into path (pathlen bytes). 0, or -1 with one line
 * in err (no results there, a bad profile or prices file, a file that cannot be written). */
int report_write(const char *dir, const char *out_path, const decide_opts_t *o, char *path,
                 size_t pathlen, char *err, size_t errlen);
/* The same from a decision already loaded (decide_load of dir with o). */
int report_write_decision(const decision_t *d, const char *dir, const char *out_path,
                          const decide_opts_t *o, char *path, size_t pathlen, char *err,
                          size_t errlen);

/* DIR/results.md: its head and tables from f (table_markdown), replacing what was there. 0, or
 * -1 with one line in err. */
int report_write_markdown(const figures_t *f, const char *dir, char *err, size_t errlen);

/* `stackbench report`. */
int cmd_report(int argc, char **argv);

#endif
