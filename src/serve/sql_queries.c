#include "serve/sql_queries.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embed.h"

#define MAX_QUERIES 8

static struct {
    char name[32];
    char *text;
} queries[MAX_QUERIES];
static int nqueries;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Sections begin with a "-- name: X" line; a statement is every other line that is not a
 * comment, joined with spaces, up to its ';'. */
static void load(void)
{
    const embed_file_t *f = embed_find("sql", "queries.sql");
    if (!f)
        return;
    const char *p = f->text, *end = f->text + f->len;
    int cur = -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n > 9 && strncmp(p, "-- name: ", 9) == 0 && nqueries < MAX_QUERIES) {
            cur = nqueries++;
            snprintf(queries[cur].name, sizeof queries[cur].name, "%.*s", (int)(n - 9), p + 9);
        } else if (cur >= 0 && n > 0 && strncmp(p, "--", 2) != 0) {
            size_t have = queries[cur].text ? strlen(queries[cur].text) : 0;
            char *t = realloc(queries[cur].text, have + n + 2);
            if (t) {
                if (have)
                    t[have++] = ' ';
                memcpy(t + have, p, n);
                t[have + n] = 0;
                char *semi = strrchr(t, ';');
                if (semi && semi[1] == 0)
                    *semi = 0;
                queries[cur].text = t;
            }
        }
        p = nl ? nl + 1 : end;
    }
}

const char *sql_query(const char *name)
{
    pthread_once(&once, load);
    for (int i = 0; i < nqueries; i++)
        if (strcmp(queries[i].name, name) == 0)
            return queries[i].text;
    return NULL;
}
