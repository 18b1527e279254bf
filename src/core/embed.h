/* embed: the project's data files, compiled into the binary by scripts/embed_contracts.sh (into
 * build/gen/contracts.c): each workload's contract cases (contracts/WORKLOAD/NAME.case) and SQL
 * (contracts/WORKLOAD/schema.sql, queries.sql), and the decision's shipped examples
 * (examples/NAME.yaml, under the folder "examples"), so that the binary needs no file beside
 * it. */
#ifndef SB_CORE_EMBED_H
#define SB_CORE_EMBED_H

#include <stddef.h>

typedef struct {
    const char *dir;    /* "sql": the folder under contracts/; "examples" */
    const char *name;   /* "queries.sql" */
    const char *text;   /* its bytes, NUL-terminated */
    size_t len;
} embed_file_t;

/* Sorted by folder, then name; ends with a zeroed entry. */
extern const embed_file_t embed_files[];
extern const size_t embed_nfiles;

/* contracts/DIR/NAME (examples/NAME for dir "examples"), or NULL. */
const embed_file_t *embed_find(const char *dir, const char *name);

#endif
