/* mesh: a user's services (mesh.yaml), each with what it does, its traffic, its p99 SLO and the
 * language it is written in now; `stackbench decide` maps each to the measured figures.
 * examples/mesh-40.yaml is the shipped example. */
#ifndef SB_DECIDE_MESH_H
#define SB_DECIDE_MESH_H

#include <limits.h>
#include <stddef.h>

#define MESH_MAX 256

typedef struct {
    char name[64];
    char kind[16];                /* "echo", "sql", "csv", "grpc", or "url" */
    char url[512];                /* kind url: the user's own service (`kind: url:http://...`) */
    char like[16];                /* kind url: the workload its work resembles (echo, sql, csv,
                                   * grpc), which the move is projected from */
    double traffic_rps;           /* at peak */
    double p99_slo_ms;            /* 0: none */
    int lang;                     /* lang_t (decide/profile.h): written in now */
    int line;                     /* where it is in the file, for messages */
} mesh_service_t;

typedef struct {
    char profile[PATH_MAX];       /* `profile:` the team's profile, as a path relative to the
                                   * mesh file's folder already resolved; "" = the shipped
                                   * example */
    char instance[32];            /* `instance:` the instance type for all; "" = the profile's */
    mesh_service_t svc[MESH_MAX];
    int n;
} mesh_t;

/* From text (name for messages; dir: the folder relative paths are resolved from) / a file.
 * Names are unique; kind url needs like (and only it has one); traffic_rps > 0; p99_slo_ms > 0
 * when given; lang one of c, go, rust. 0, or -1 with "NAME:LINE:COLUMN: what is wrong" in err.
 * With dir NULL or "" a relative `profile:` stays as written. */
int mesh_parse(mesh_t *m, const char *name, const char *dir, const char *text, size_t len,
               char *err, size_t errlen);
int mesh_load(mesh_t *m, const char *path, char *err, size_t errlen);

#endif
