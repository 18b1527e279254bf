/* workloads: what the lab sends for each workload, byte for byte the same to every language,
 * and how it checks each answer. */
#ifndef SB_LAB_WORKLOADS_H
#define SB_LAB_WORKLOADS_H

#include <stddef.h>

#include "load/load.h"

/* One request whose every answer must be 200 with exactly expect_body, or (mix) a weighted mix
 * of request templates whose answers `check` judges one by one. */
typedef struct {
    const char *name;
    const char *method, *path;
    const char *const *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    const char *expect_body;        /* every 200 answer must be exactly this */
    size_t expect_len;
    const mix_template_t *mix;      /* instead of method, path and body */
    size_t nmix;
    load_check_cb check;            /* with mix: the answer to what was sent */
    load_proto_t proto;             /* HTTP/1.1, or gRPC (the mix's bodies are messages) */
    load_grpc_check_cb grpc_check;  /* gRPC: every message, and each call's count */
    const char *db_reset;           /* SQL that puts the database back as the schema left it
                                     * (run before each language; NULL: no database) */
} lab_workload_t;

/* The lab's definition of a workload, or NULL. */
const lab_workload_t *lab_workload(const char *name);
/* "echo", "csv", "sql", "grpc", NULL. */
extern const char *const lab_workload_names[];

#endif
