/* results: a run's cells for people (an aligned table on stdout) and for programs
 * (results.json with stable keys, and results.md). */
#ifndef SB_LAB_RESULTS_H
#define SB_LAB_RESULTS_H

#include <stddef.h>

#include "lab/dev.h"
#include "lab/run.h"

/* The tables, then the development figures when dev ran. */
void lab_print_table(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                     const dev_report_t *dev);
/* results.json and results.md in cfg->out_dir. 0, or -1 with the reason in err. */
int lab_write_results(const lab_config_t *cfg, const lab_cell_t *cells, int n,
                      const dev_report_t *dev, char *err, size_t errlen);

#endif
