/* results: a run's cells as results.json, with stable keys (docs/run.md lists them). It is the
 * run's one record: the tables on the terminal and in results.md (report/table.h), the
 * decision and the page are all read back from it (decide/figures.h). */
#ifndef SB_LAB_RESULTS_H
#define SB_LAB_RESULTS_H

#include <stddef.h>

#include "lab/dev.h"
#include "lab/run.h"

/* results.json in cfg->out_dir (created if need be), with dev's figures when dev ran. 0, or -1
 * with the reason in err. */
int lab_write_results(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                      const dev_report_t *dev, char *err, size_t errlen);

#endif
