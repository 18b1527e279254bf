#include "codec/yaml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/embed.h"

/* ---- messages ---- */

static int vfail_at(const ydoc_t *d, int line, int column, const char *fmt, va_list ap)
{
    int n = snprintf(d->err, d->errlen, "%s:%d:%d: ", d->name, line, column);
    if (n >= 0 && (size_t)n < d->errlen)
        vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
    return -1;
}

static int fail_at(const ydoc_t *d, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(const ydoc_t *d, int line, int column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(d, line, column, fmt, ap);
    va_end(ap);
    return -1;
}

int ydoc_fail(const ydoc_t *d, const ynode_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(d, at ? at->line : 1, at ? at->column : 1, fmt, ap);
    va_end(ap);
    return -1;
}

/* libyaml's marks count from 0; a file of more than INT_MAX lines is not a file people wrote. */
static int one_based(size_t v) { return v < INT_MAX ? (int)v + 1 : INT_MAX; }

/* What n is, for "got ...": the message stays one line whatever the value holds. */
static void describe(const ynode_t *n, char *out, size_t cap)
{
    if (!n || (n->kind == YNODE_SCALAR && n->plain && n->len == 0)) {
        snprintf(out, cap, "nothing");
        return;
    }
    if (n->kind != YNODE_SCALAR) {
        snprintf(out, cap, n->kind == YNODE_MAP ? "a mapping" : "a sequence");
        return;
    }
    size_t cut = n->len;
    if (cut > 40) /* at the start of a character: the message stays UTF-8 */
        for (cut = 40; cut > 0 && ((unsigned char)n->text[cut] & 0xc0) == 0x80; cut--) {
        }
    char v[48];
    for (size_t k = 0; k < cut; k++) {
        unsigned char c = (unsigned char)n->text[k];
        v[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    v[cut] = 0;
    snprintf(out, cap, "\"%s\"%s", v, cut < n->len ? "..." : "");
}

static int expected(const ydoc_t *d, const ynode_t *n, const char *path, const char *what,
                    const char *note)
{
    char got[64];
    describe(n, got, sizeof got);
    return ydoc_fail(d, n, "%s%sexpected %s, got %s%s", path, *path ? ": " : "", what, got,
                     note);
}

int ydoc_expected(const ydoc_t *d, const ynode_t *n, const char *path, const char *what)
{
    return expected(d, n, path, what, "");
}

/* ---- loading ---- */

static ynode_t *new_node(ydoc_t *d, ynode_kind_t kind, yaml_mark_t at, const char *text,
                         size_t len)
{
    ynode_t *n = calloc(1, sizeof *n + len + 1);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = one_based(at.line);
    n->column = one_based(at.column);
    n->len = len;
    if (len)
        memcpy(n->text, text, len);
    n->all = d->nodes;
    d->nodes = n;
    return n;
}

/* libyaml's error: a reader error (bad UTF-8, a control character) has only a byte offset,
 * turned here into a line and a column in characters, as libyaml counts its marks. */
static int syntax_error(const ydoc_t *d, const yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) {
        snprintf(d->err, d->errlen, "%s: out of memory", d->name);
        return -1;
    }
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR) {
        int line = 1, column = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                column = 1;
            } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
                column++;
            }
        }
        return fail_at(d, line, column, "%s", problem);
    }
    if (p->context)
        return fail_at(d, one_based(p->problem_mark.line), one_based(p->problem_mark.column),
                       "%s (%s at %d:%d)", problem, p->context, one_based(p->context_mark.line),
                       one_based(p->context_mark.column));
    return fail_at(d, one_based(p->problem_mark.line), one_based(p->problem_mark.column), "%s",
                   problem);
}

/* Puts n where the open collection on top expects it: the next element of a sequence, a
 * mapping's next key (a scalar not yet among its keys), or the value of its last key. */
static int attach(ydoc_t *d, ynode_t *top, ynode_t *n)
{
    if (top->kind == YNODE_MAP && top->last && !top->last->value) {
        top->last->value = n;
        return 0;
    }
    if (top->kind == YNODE_MAP) {
        if (n->kind != YNODE_SCALAR)
            return ydoc_fail(d, n, "a key must be a scalar, got %s",
                             n->kind == YNODE_MAP ? "a mapping" : "a sequence");
        for (const ynode_t *k = top->first; k; k = k->next)
            if (k->len == n->len && memcmp(k->text, n->text, n->len) == 0) {
                char what[64];
                describe(n, what, sizeof what);
                return ydoc_fail(d, n, "duplicate key %s (first at line %d)", what, k->line);
            }
    }
    if (top->last)
        top->last->next = n;
    else
        top->first = n;
    top->last = n;
    top->n++;
    return 0;
}

/* One event into the tree: stack[0..*depth) are the collections still open. */
static int on_event(ydoc_t *d, const yaml_event_t *ev, ynode_t **stack, int *depth, int *docs)
{
    const char *anchor = NULL, *tag = NULL;
    ynode_kind_t kind;
    const char *text = "";
    size_t len = 0;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if ((*docs)++)
            return fail_at(d, one_based(ev->start_mark.line), one_based(ev->start_mark.column),
                           "a second document (---): one document per file");
        return 0;
    case YAML_ALIAS_EVENT:
        return fail_at(d, one_based(ev->start_mark.line), one_based(ev->start_mark.column),
                       "an alias (*%s): anchors and aliases are not supported",
                       (const char *)ev->data.alias.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        (*depth)--;
        return 0;
    case YAML_SCALAR_EVENT:
        kind = YNODE_SCALAR;
        anchor = (const char *)ev->data.scalar.anchor;
        tag = (const char *)ev->data.scalar.tag;
        text = (const char *)ev->data.scalar.value;
        len = ev->data.scalar.length;
        break;
    case YAML_SEQUENCE_START_EVENT:
        kind = YNODE_SEQ;
        anchor = (const char *)ev->data.sequence_start.anchor;
        tag = (const char *)ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        kind = YNODE_MAP;
        anchor = (const char *)ev->data.mapping_start.anchor;
        tag = (const char *)ev->data.mapping_start.tag;
        break;
    default: /* the stream's start and end, a document's end */
        return 0;
    }
    int line = one_based(ev->start_mark.line), column = one_based(ev->start_mark.column);
    if (anchor)
        return fail_at(d, line, column, "an anchor (&%s): anchors and aliases are not supported",
                       anchor);
    if (tag) {
        static const char core[] = "tag:yaml.org,2002:"; /* what "!!" stands for */
        bool short_form = strncmp(tag, core, sizeof core - 1) == 0;
        return fail_at(d, line, column, "a tag (%s%s): tags are not supported",
                       short_form ? "!!" : "", short_form ? tag + sizeof core - 1 : tag);
    }
    if (kind != YNODE_SCALAR && *depth == YDOC_MAX_DEPTH)
        return fail_at(d, line, column, "nested deeper than %d levels", YDOC_MAX_DEPTH);
    ynode_t *n = new_node(d, kind, ev->start_mark, text, len);
    if (!n) {
        snprintf(d->err, d->errlen, "%s: out of memory", d->name);
        return -1;
    }
    n->plain = kind == YNODE_SCALAR && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (*depth == 0)
        d->root = n;
    else if (attach(d, stack[*depth - 1], n))
        return -1;
    if (kind != YNODE_SCALAR)
        stack[(*depth)++] = n;
    return 0;
}

int ydoc_load(ydoc_t *d, const char *name, const char *text, size_t len, char *err,
              size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->name = name;
    d->err = err;
    d->errlen = errlen;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    ynode_t *stack[YDOC_MAX_DEPTH];
    int depth = 0, docs = 0, rc = 0;
    for (bool end = false; !end && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(d, &p, text, len);
            break;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(d, &ev, stack, &depth, &docs);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (rc)
        ydoc_free(d);
    return rc;
}

int ydoc_load_file(ydoc_t *d, const char *path, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    buf_t b = BUF_INIT;
    int rc = buf_read_file(&b, path); /* a folder opens, and fails to read with EISDIR */
    if (rc)
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    else
        rc = ydoc_load(d, path, buf_start(&b), buf_size(&b), err, errlen);
    buf_free(&b);
    return rc ? -1 : 0;
}

int ydoc_load_input(ydoc_t *d, const char *path, const char *example, char *err, size_t errlen)
{
    if (path)
        return ydoc_load_file(d, path, err, errlen);
    char name[128];
    snprintf(name, sizeof name, "examples/%s", example);
    const embed_file_t *f = embed_find("examples", example);
    if (!f) { /* a build without examples/ */
        memset(d, 0, sizeof *d);
        snprintf(err, errlen, "%s: not compiled in", name);
        return -1;
    }
    return ydoc_load(d, name, f->text, f->len, err, errlen);
}

void ydoc_free(ydoc_t *d)
{
    for (ynode_t *n = d->nodes, *next; n; n = next) {
        next = n->all;
        free(n);
    }
    d->nodes = d->root = NULL;
}

/* ---- reading ---- */

const ynode_t *ynode_get(const ynode_t *map, const char *key)
{
    if (!map || map->kind != YNODE_MAP)
        return NULL;
    size_t len = strlen(key);
    for (const ynode_t *k = map->first; k; k = k->next)
        if (k->len == len && memcmp(k->text, key, len) == 0)
            return k->value;
    return NULL;
}

static bool among(const ynode_t *k, const char *const *names)
{
    for (; names && *names; names++)
        if (k->len == strlen(*names) && memcmp(k->text, *names, k->len) == 0)
            return true;
    return false;
}

int ydoc_keys(const ydoc_t *d, const ynode_t *map, const char *path, const char *const *known,
              const char *const *required)
{
    const char *sep = *path ? ": " : "";
    if (!map || map->kind != YNODE_MAP)
        return ydoc_expected(d, map, path, "a mapping");
    for (const ynode_t *k = map->first; k; k = k->next) {
        if (among(k, known))
            continue;
        char list[512] = "", what[64];
        size_t used = 0;
        for (const char *const *s = known; *s && used < sizeof list; s++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     s == known ? "" : ", ", *s);
        describe(k, what, sizeof what);
        return ydoc_fail(d, k, "%s%sunknown key %s (known: %s)", path, sep, what, list);
    }
    for (const char *const *s = required; s && *s; s++)
        if (!ynode_get(map, *s))
            return ydoc_fail(d, map, "%s%smissing key \"%s\"", path, sep, *s);
    return 0;
}

/* The member's value and its path, "PATH.KEY". NULL when absent. */
static const ynode_t *member(const ynode_t *map, const char *path, const char *key, char *full,
                             size_t cap)
{
    snprintf(full, cap, "%s%s%s", path, *path ? "." : "", key);
    return ynode_get(map, key);
}

/* [-+]?(digits[.digits?]|.digits)([eE][-+]?digits)?: the decimal numbers of YAML 1.2's core
 * schema, nothing strtod would take besides (hex, inf, nan, leading spaces). */
static bool is_decimal(const char *s, size_t n, bool integer)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (integer)
        return digits > 0 && i == n;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        if (++i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            e++;
        if (e == 0)
            return false;
    }
    return i == n;
}

/* For a quoted scalar that would have been read unquoted: why it was not. */
static const char not_number[] = " (in quotes: a string, not a number)";
static const char not_bool[] = " (in quotes: a string, not a boolean)";

static const char *quoted_note(const ynode_t *v, bool would_do, const char *note)
{
    return v->kind == YNODE_SCALAR && !v->plain && would_do ? note : "";
}

int ydoc_double(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
                double lo, double hi, double *out)
{
    char full[256], what[96];
    const ynode_t *v = member(map, path, key, full, sizeof full);
    if (!v)
        return 0;
    bool syntax = v->kind == YNODE_SCALAR && is_decimal(v->text, v->len, false);
    double x = syntax ? strtod(v->text, NULL) : 0;
    if (v->plain && syntax && isfinite(x) && x > lo && x <= hi) {
        *out = x;
        return 0;
    }
    if (hi == HUGE_VAL)
        snprintf(what, sizeof what, "a number > %g", lo);
    else
        snprintf(what, sizeof what, "a number > %g and <= %g", lo, hi);
    return expected(d, v, full, what, quoted_note(v, syntax, not_number));
}

int ydoc_int(const ydoc_t *d, const ynode_t *map, const char *path, const char *key, int lo,
             int hi, int *out)
{
    char full[256], what[96];
    const ynode_t *v = member(map, path, key, full, sizeof full);
    if (!v)
        return 0;
    bool syntax = v->kind == YNODE_SCALAR && is_decimal(v->text, v->len, true);
    errno = 0;
    long long x = syntax ? strtoll(v->text, NULL, 10) : 0;
    if (v->plain && syntax && errno == 0 && x >= lo && x <= hi) {
        *out = (int)x;
        return 0;
    }
    if (hi == INT_MAX)
        snprintf(what, sizeof what, "an integer >= %d", lo);
    else
        snprintf(what, sizeof what, "an integer from %d to %d", lo, hi);
    return expected(d, v, full, what, quoted_note(v, syntax, not_number));
}

int ydoc_bool(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
              bool *out)
{
    char full[256];
    const ynode_t *v = member(map, path, key, full, sizeof full);
    if (!v)
        return 0;
    bool t = v->kind == YNODE_SCALAR && strcmp(v->text, "true") == 0 && v->len == 4;
    bool f = v->kind == YNODE_SCALAR && strcmp(v->text, "false") == 0 && v->len == 5;
    if (v->plain && (t || f)) {
        *out = t;
        return 0;
    }
    return expected(d, v, full, "true or false", quoted_note(v, t || f, not_bool));
}

int ydoc_str(const ydoc_t *d, const ynode_t *map, const char *path, const char *key, char *out,
             size_t cap)
{
    char full[256];
    const ynode_t *v = member(map, path, key, full, sizeof full);
    if (!v)
        return 0;
    if (v->kind != YNODE_SCALAR || v->len == 0)
        return expected(d, v, full, "a string", "");
    for (size_t i = 0; i < v->len; i++) /* a NUL would cut it, a line end split a message */
        if ((unsigned char)v->text[i] < 0x20 || v->text[i] == 0x7f)
            return expected(d, v, full, "a string without control characters", "");
    if (v->len >= cap)
        return ydoc_fail(d, v, "%s: expected a string of at most %zu bytes, got %zu", full,
                         cap - 1, v->len);
    memcpy(out, v->text, v->len + 1);
    return 0;
}

int ydoc_enum(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
              const char *const *names, int n, int *out)
{
    char full[256];
    const ynode_t *v = member(map, path, key, full, sizeof full);
    if (!v)
        return 0;
    for (int i = 0; v->kind == YNODE_SCALAR && i < n; i++)
        if (v->len == strlen(names[i]) && memcmp(v->text, names[i], v->len) == 0) {
            *out = i;
            return 0;
        }
    char what[256] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof what; i++)
        used += (size_t)snprintf(what + used, sizeof what - used, "%s%s",
                                 i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
    return expected(d, v, full, what, "");
}

int ydoc_seq(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
             const ynode_t **out)
{
    char full[256];
    const ynode_t *v = member(map, path, key, full, sizeof full);
    *out = NULL;
    if (!v)
        return 0;
    if (v->kind != YNODE_SEQ)
        return expected(d, v, full, "a sequence", "");
    *out = v;
    return 0;
}
