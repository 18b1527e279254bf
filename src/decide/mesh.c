#include "decide/mesh.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "codec/yaml.h"
#include "decide/profile.h"
#include "http/url.h"

/* The workloads a service can be like, as kind or, for kind url, as like. */
static const char *const workloads[] = {"echo", "sql", "csv", "grpc"};
#define NWORKLOADS 4

/* kind: a workload, or url:http://HOST[:PORT][/PATH] (its URL checked as the load engine
 * would take it). */
static int read_kind(const ydoc_t *d, const ynode_t *s, const char *at, mesh_service_t *x)
{
    char kind[4 + sizeof x->url], path[48];
    snprintf(path, sizeof path, "%s.kind", at);
    if (ydoc_str(d, s, at, "kind", kind, sizeof kind))
        return -1;
    const ynode_t *node = ynode_get(s, "kind");
    if (strncmp(kind, "url:", 4) == 0) {
        http_url_t u;
        char why[256];
        if (http_url_parse(kind + 4, &u, why, sizeof why))
            return ydoc_expected(d, node, path, "url:http://HOST[:PORT][/PATH]");
        snprintf(x->kind, sizeof x->kind, "url");
        snprintf(x->url, sizeof x->url, "%s", kind + 4);
        return 0;
    }
    for (int i = 0; i < NWORKLOADS; i++)
        if (strcmp(kind, workloads[i]) == 0) {
            snprintf(x->kind, sizeof x->kind, "%s", workloads[i]);
            return 0;
        }
    return ydoc_expected(d, node, path, "echo, sql, csv, grpc or url:http://HOST[:PORT][/PATH]");
}

static int read_service(const ydoc_t *d, const ynode_t *s, const char *at, mesh_service_t *x)
{
    static const char *const keys[] = {"name", "kind", "traffic_rps", "p99_slo_ms", "lang", "like",
                                       NULL};
    static const char *const required[] = {"name", "kind", "traffic_rps", "lang", NULL};
    int like = -1;
    x->line = s->line;
    if (ydoc_keys(d, s, at, keys, required) ||
        ydoc_str(d, s, at, "name", x->name, sizeof x->name) || read_kind(d, s, at, x) ||
        ydoc_double(d, s, at, "traffic_rps", 0, HUGE_VAL, &x->traffic_rps) ||
        ydoc_double(d, s, at, "p99_slo_ms", 0, HUGE_VAL, &x->p99_slo_ms) ||
        ydoc_enum(d, s, at, "lang", lang_names, LANG_N, &x->lang) ||
        ydoc_enum(d, s, at, "like", workloads, NWORKLOADS, &like))
        return -1;
    bool url = strcmp(x->kind, "url") == 0;
    if (url && like < 0)
        return ydoc_fail(d, s,
                         "%s: missing key \"like\" (a service of kind url: says which workload "
                         "its work is like: echo, sql, csv or grpc)",
                         at);
    if (!url && like >= 0)
        return ydoc_fail(d, ynode_get(s, "like"), "%s.like: only a service of kind url: has one",
                         at);
    if (url)
        snprintf(x->like, sizeof x->like, "%s", workloads[like]);
    return 0;
}

/* profile: as written when absolute or when there is no folder, else after dir. */
static int resolve(const ydoc_t *d, const ynode_t *root, const char *dir, mesh_t *m)
{
    char written[PATH_MAX];
    written[0] = 0;
    if (ydoc_str(d, root, "", "profile", written, sizeof written))
        return -1;
    if (!written[0])
        return 0;
    size_t n = dir ? strlen(dir) : 0;
    const char *sep = n && dir[n - 1] != '/' ? "/" : "";
    if (written[0] == '/' || n == 0)
        dir = sep = "";
    if ((size_t)snprintf(m->profile, sizeof m->profile, "%s%s%s", dir ? dir : "", sep,
                         written) >= sizeof m->profile)
        return ydoc_fail(d, ynode_get(root, "profile"),
                         "profile: longer than %d bytes once put after its folder", PATH_MAX - 1);
    return 0;
}

static int from_doc(mesh_t *m, const ydoc_t *d, const char *dir)
{
    static const char *const top[] = {"profile", "instance", "services", NULL};
    static const char *const required[] = {"services", NULL};
    memset(m, 0, sizeof *m);
    const ynode_t *root = d->root, *services;
    if (ydoc_keys(d, root, "", top, required) || resolve(d, root, dir, m) ||
        ydoc_str(d, root, "", "instance", m->instance, sizeof m->instance) ||
        ydoc_seq(d, root, "", "services", &services))
        return -1;
    if (services->n == 0)
        return ydoc_fail(d, services, "services: expected at least one service");
    if (services->n > MESH_MAX)
        return ydoc_fail(d, services, "services: more than %d services", MESH_MAX);
    const ynode_t *names[MESH_MAX];
    for (const ynode_t *s = services->first; s; s = s->next, m->n++) {
        char at[32];
        snprintf(at, sizeof at, "services[%d]", m->n);
        mesh_service_t *x = &m->svc[m->n];
        if (read_service(d, s, at, x))
            return -1;
        names[m->n] = ynode_get(s, "name");
        for (int i = 0; i < m->n; i++)
            if (strcmp(m->svc[i].name, x->name) == 0)
                return ydoc_fail(d, names[m->n],
                                 "%s.name: duplicate name \"%s\" (first at line %d)", at,
                                 x->name, names[i]->line);
    }
    return 0;
}

int mesh_parse(mesh_t *m, const char *name, const char *dir, const char *text, size_t len,
               char *err, size_t errlen)
{
    ydoc_t d;
    if (ydoc_load(&d, name, text, len, err, errlen))
        return -1;
    int rc = from_doc(m, &d, dir);
    ydoc_free(&d);
    return rc;
}

int mesh_load(mesh_t *m, const char *path, char *err, size_t errlen)
{
    if (!path) {
        snprintf(err, errlen, "mesh: no file given");
        return -1;
    }
    /* the folder of path: "" for a bare name (then profile: stays as written), "/" at the top */
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (slash && n == 0)
        n = 1;
    if (n >= sizeof dir) {
        snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
        return -1;
    }
    memcpy(dir, path, n);
    dir[n] = 0;
    ydoc_t d;
    if (ydoc_load_file(&d, path, err, errlen))
        return -1;
    int rc = from_doc(m, &d, dir);
    ydoc_free(&d);
    return rc;
}
