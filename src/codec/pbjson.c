/* pbjson: a protobuf message type from a .proto, and JSON encoded as it (see pbjson.h).
 *
 * Three parts: the schema (protoc's FileDescriptorSet, unpacked by the code protoc-c
 * generates from descriptor.proto, indexed: types by full name, fields by number), the
 * encoder (JSON in, read with codec/json's member and element readers after one validation,
 * wire bytes out) and the decoder (wire bytes in, checked as they are read, JSON out). */
#include "codec/pbjson.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/json.h"
#include "codec/jsonw.h"
#include "core/proc.h"
#include "descriptor.pb-c.h"

/* ---- the schema ---- */

/* Field types: descriptor.proto's numbers (FieldDescriptorProto.Type). */
enum {
    T_DOUBLE = 1, T_FLOAT = 2, T_INT64 = 3, T_UINT64 = 4, T_INT32 = 5, T_FIXED64 = 6,
    T_FIXED32 = 7, T_BOOL = 8, T_STRING = 9, T_GROUP = 10, T_MESSAGE = 11, T_BYTES = 12,
    T_UINT32 = 13, T_ENUM = 14, T_SFIXED32 = 15, T_SFIXED64 = 16, T_SINT32 = 17, T_SINT64 = 18,
};

/* Wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

#define PB_FIELD_MAX 536870911u /* 2^29 - 1 */

typedef struct {
    char *name; /* full, "pkg.Outer.E" */
    const Google__Protobuf__EnumDescriptorProto *d;
} pb_enum_t;

typedef struct {
    const char *name, *json_name;
    char *json_name_owned;    /* when the set gave none: made here */
    uint32_t number;
    int type;
    bool repeated, packed;
    bool presence;            /* written when set, whatever it holds */
    bool map;                 /* map<K, V>: msg is the entry, key field 1, value field 2 */
    int oneof;                /* into the message's oneof_decl; -1: none, or proto3 optional */
    const pb_message_t *msg;  /* T_MESSAGE, T_GROUP */
    const pb_enum_t *en;      /* T_ENUM */
} pb_field_t;

struct pb_message {
    char *name; /* full, "pkg.Outer.Inner" */
    const Google__Protobuf__DescriptorProto *d;
    bool proto3;
    pb_field_t *fields; /* by number */
    int nfields;
    bool own_json;      /* a well-known type whose JSON form is not an object of its fields */
};

struct pb_schema {
    Google__Protobuf__FileDescriptorSet *set;
    pb_message_t *messages; /* by name */
    size_t nmessages, capmessages;
    pb_enum_t *enums;       /* by name */
    size_t nenums, capenums;
    pb_method_t *methods;   /* as declared */
    size_t nmethods, capmethods;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* "prefix.name", or name when prefix is empty. NULL when out of memory. */
static char *join_name(const char *prefix, const char *name)
{
    char *s;
    if (asprintf(&s, "%s%s%s", prefix, *prefix ? "." : "", name ? name : "") < 0)
        return NULL;
    return s;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, c * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static int add_enum(pb_schema_t *s, const char *prefix,
                    const Google__Protobuf__EnumDescriptorProto *d, char *err, size_t errlen)
{
    if (grow((void **)&s->enums, &s->capenums, s->nenums, sizeof *s->enums))
        return fail(err, errlen, "out of memory");
    pb_enum_t *e = &s->enums[s->nenums];
    if (!(e->name = join_name(prefix, d->name)))
        return fail(err, errlen, "out of memory");
    e->d = d;
    s->nenums++;
    return 0;
}

/* The message, its nested messages and enums (nesting bounded: the set may come from
 * anywhere, pb_schema_parse). */
static int add_message(pb_schema_t *s, const char *prefix,
                       const Google__Protobuf__DescriptorProto *d, bool proto3, int depth,
                       char *err, size_t errlen)
{
    if (depth > PB_MAX_DEPTH)
        return fail(err, errlen, "%s.%s: types nested deeper than %d", prefix,
                    d->name ? d->name : "", PB_MAX_DEPTH);
    if (grow((void **)&s->messages, &s->capmessages, s->nmessages, sizeof *s->messages))
        return fail(err, errlen, "out of memory");
    pb_message_t *m = &s->messages[s->nmessages];
    memset(m, 0, sizeof *m);
    if (!(m->name = join_name(prefix, d->name)))
        return fail(err, errlen, "out of memory");
    m->d = d;
    m->proto3 = proto3;
    s->nmessages++;
    const char *name = m->name; /* m moves when the array grows */
    for (size_t i = 0; i < d->n_enum_type; i++)
        if (add_enum(s, name, d->enum_type[i], err, errlen))
            return -1;
    for (size_t i = 0; i < d->n_nested_type; i++)
        if (add_message(s, name, d->nested_type[i], proto3, depth + 1, err, errlen))
            return -1;
    return 0;
}

static int cmp_message(const void *a, const void *b)
{
    return strcmp(((const pb_message_t *)a)->name, ((const pb_message_t *)b)->name);
}

static int cmp_enum(const void *a, const void *b)
{
    return strcmp(((const pb_enum_t *)a)->name, ((const pb_enum_t *)b)->name);
}

static int cmp_field(const void *a, const void *b)
{
    uint32_t x = ((const pb_field_t *)a)->number, y = ((const pb_field_t *)b)->number;
    return x < y ? -1 : x > y;
}

/* A type name as a set writes it (".pkg.Msg": protoc qualifies them all) without its dot. */
static const char *unqualified(const char *name)
{
    return name && name[0] == '.' ? name + 1 : name;
}

const pb_message_t *pb_message_find(const pb_schema_t *s, const char *full_name)
{
    pb_message_t key = {.name = (char *)unqualified(full_name)};
    if (!key.name || s->nmessages == 0)
        return NULL;
    return bsearch(&key, s->messages, s->nmessages, sizeof key, cmp_message);
}

static const pb_enum_t *enum_find(const pb_schema_t *s, const char *full_name)
{
    pb_enum_t key = {.name = (char *)unqualified(full_name)};
    if (!key.name || s->nenums == 0)
        return NULL;
    return bsearch(&key, s->enums, s->nenums, sizeof key, cmp_enum);
}

const char *pb_message_name(const pb_message_t *m) { return m->name; }

/* protoc's rule for a field's JSON name: each '_' dropped, the letter after it upper-cased. */
static char *camel_name(const char *name)
{
    char *j = malloc(strlen(name) + 1), *o = j;
    if (!j)
        return NULL;
    for (bool up = false; *name; name++) {
        if (*name == '_') {
            up = true;
            continue;
        }
        *o++ = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        up = false;
    }
    *o = 0;
    return j;
}

static bool packable(int type)
{
    return type != T_STRING && type != T_BYTES && type != T_MESSAGE && type != T_GROUP;
}

/* The well-known types whose JSON form is their own (not an object of their fields). */
static bool own_json(const char *name)
{
    static const char *const wkt[] = {
        "Any", "Duration", "FieldMask", "Struct", "Value", "ListValue", "Timestamp",
        "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value",
        "BoolValue", "StringValue", "BytesValue",
    };
    if (strncmp(name, "google.protobuf.", 16) != 0)
        return false;
    for (size_t i = 0; i < sizeof wkt / sizeof wkt[0]; i++)
        if (strcmp(name + 16, wkt[i]) == 0)
            return true;
    return false;
}

static int build_fields(pb_schema_t *s, pb_message_t *m, char *err, size_t errlen)
{
    const Google__Protobuf__DescriptorProto *d = m->d;
    m->own_json = own_json(m->name);
    if (d->n_field == 0)
        return 0;
    if (!(m->fields = calloc(d->n_field, sizeof *m->fields)))
        return fail(err, errlen, "out of memory");
    m->nfields = (int)d->n_field;
    for (size_t i = 0; i < d->n_field; i++) {
        const Google__Protobuf__FieldDescriptorProto *fd = d->field[i];
        pb_field_t *f = &m->fields[i];
        f->name = fd->name ? fd->name : "";
        if (fd->json_name) {
            f->json_name = fd->json_name;
        } else {
            if (!(f->json_name_owned = camel_name(f->name)))
                return fail(err, errlen, "out of memory");
            f->json_name = f->json_name_owned;
        }
        if (fd->number < 1 || (uint32_t)fd->number > PB_FIELD_MAX)
            return fail(err, errlen, "%s.%s: field number %d out of 1..%u", m->name, f->name,
                        fd->number, PB_FIELD_MAX);
        f->number = (uint32_t)fd->number;
        f->type = (int)fd->type;
        if (f->type < T_DOUBLE || f->type > T_SINT64)
            return fail(err, errlen, "%s.%s: unknown field type %d", m->name, f->name, f->type);
        f->repeated = fd->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED;
        f->packed = f->repeated && packable(f->type) &&
                    (fd->options && fd->options->has_packed ? fd->options->packed : m->proto3);
        f->oneof = fd->has_oneof_index && !fd->proto3_optional ? fd->oneof_index : -1;
        if (f->oneof >= 0 && (size_t)f->oneof >= d->n_oneof_decl)
            return fail(err, errlen, "%s.%s: oneof index %d out of range", m->name, f->name,
                        f->oneof);
        f->presence = !f->repeated && (f->type == T_MESSAGE || f->type == T_GROUP ||
                                       fd->has_oneof_index || !m->proto3);
        if (f->type == T_MESSAGE || f->type == T_GROUP) {
            if (!(f->msg = pb_message_find(s, fd->type_name)))
                return fail(err, errlen, "%s.%s: unknown type %s", m->name, f->name,
                            fd->type_name ? fd->type_name : "(none)");
            const Google__Protobuf__MessageOptions *o = f->msg->d->options;
            f->map = f->repeated && o && o->has_map_entry && o->map_entry;
        } else if (f->type == T_ENUM) {
            if (!(f->en = enum_find(s, fd->type_name)))
                return fail(err, errlen, "%s.%s: unknown enum %s", m->name, f->name,
                            fd->type_name ? fd->type_name : "(none)");
            if (f->en->d->n_value == 0)
                return fail(err, errlen, "%s: an enum without values", f->en->name);
        }
    }
    qsort(m->fields, d->n_field, sizeof *m->fields, cmp_field);
    for (int i = 1; i < m->nfields; i++)
        if (m->fields[i].number == m->fields[i - 1].number)
            return fail(err, errlen, "%s: field number %u twice", m->name, m->fields[i].number);
    return 0;
}

/* A map entry's key and value fields (numbers 1 and 2), checked once the fields are built. */
static int check_map(const pb_message_t *m, const pb_field_t *f, char *err, size_t errlen)
{
    const pb_message_t *e = f->msg;
    if (e->nfields != 2 || e->fields[0].number != 1 || e->fields[1].number != 2)
        return fail(err, errlen, "%s.%s: map entry %s without key = 1 and value = 2", m->name,
                    f->name, e->name);
    int kt = e->fields[0].type;
    if (kt == T_DOUBLE || kt == T_FLOAT || kt == T_BYTES || kt == T_MESSAGE || kt == T_GROUP ||
        kt == T_ENUM)
        return fail(err, errlen, "%s.%s: a map key of type %d", m->name, f->name, kt);
    return 0;
}

static int add_methods(pb_schema_t *s, const char *pkg,
                       const Google__Protobuf__ServiceDescriptorProto *sd, char *err,
                       size_t errlen)
{
    for (size_t i = 0; i < sd->n_method; i++) {
        const Google__Protobuf__MethodDescriptorProto *md = sd->method[i];
        if (grow((void **)&s->methods, &s->capmethods, s->nmethods, sizeof *s->methods))
            return fail(err, errlen, "out of memory");
        pb_method_t *m = &s->methods[s->nmethods];
        memset(m, 0, sizeof *m);
        char *path;
        if (asprintf(&path, "/%s%s%s/%s", pkg, *pkg ? "." : "", sd->name ? sd->name : "",
                     md->name ? md->name : "") < 0)
            return fail(err, errlen, "out of memory");
        m->path = path;
        m->name = path + 1;
        s->nmethods++;
        if (!(m->input = pb_message_find(s, md->input_type)) ||
            !(m->output = pb_message_find(s, md->output_type)))
            return fail(err, errlen, "%s: unknown type %s", m->name,
                        m->input ? md->output_type : md->input_type);
        m->client_streaming = md->client_streaming;
        m->server_streaming = md->server_streaming;
    }
    return 0;
}

void pb_schema_free(pb_schema_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nmessages; i++) {
        pb_message_t *m = &s->messages[i];
        for (int k = 0; k < m->nfields; k++)
            free(m->fields[k].json_name_owned);
        free(m->fields);
        free(m->name);
    }
    for (size_t i = 0; i < s->nenums; i++)
        free(s->enums[i].name);
    for (size_t i = 0; i < s->nmethods; i++)
        free((char *)s->methods[i].path);
    free(s->messages);
    free(s->enums);
    free(s->methods);
    if (s->set)
        google__protobuf__file_descriptor_set__free_unpacked(s->set, NULL);
    free(s);
}

pb_schema_t *pb_schema_parse(const void *set, size_t len, char *err, size_t errlen)
{
    pb_schema_t *s = calloc(1, sizeof *s);
    if (!s) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    s->set = google__protobuf__file_descriptor_set__unpack(NULL, len, set);
    if (!s->set) {
        fail(err, errlen, "not a FileDescriptorSet (%zu bytes)", len);
        goto fail;
    }
    for (size_t i = 0; i < s->set->n_file; i++) {
        const Google__Protobuf__FileDescriptorProto *fd = s->set->file[i];
        const char *pkg = fd->package ? fd->package : "";
        bool proto3 = fd->syntax && strcmp(fd->syntax, "proto3") == 0;
        for (size_t k = 0; k < fd->n_enum_type; k++)
            if (add_enum(s, pkg, fd->enum_type[k], err, errlen))
                goto fail;
        for (size_t k = 0; k < fd->n_message_type; k++)
            if (add_message(s, pkg, fd->message_type[k], proto3, 1, err, errlen))
                goto fail;
    }
    if (s->nmessages)
        qsort(s->messages, s->nmessages, sizeof *s->messages, cmp_message);
    if (s->nenums)
        qsort(s->enums, s->nenums, sizeof *s->enums, cmp_enum);
    for (size_t i = 1; i < s->nmessages; i++)
        if (strcmp(s->messages[i].name, s->messages[i - 1].name) == 0) {
            fail(err, errlen, "message %s defined twice", s->messages[i].name);
            goto fail;
        }
    for (size_t i = 1; i < s->nenums; i++)
        if (strcmp(s->enums[i].name, s->enums[i - 1].name) == 0) {
            fail(err, errlen, "enum %s defined twice", s->enums[i].name);
            goto fail;
        }
    for (size_t i = 0; i < s->nmessages; i++)
        if (build_fields(s, &s->messages[i], err, errlen))
            goto fail;
    for (size_t i = 0; i < s->nmessages; i++)
        for (int k = 0; k < s->messages[i].nfields; k++)
            if (s->messages[i].fields[k].map &&
                check_map(&s->messages[i], &s->messages[i].fields[k], err, errlen))
                goto fail;
    for (size_t i = 0; i < s->set->n_file; i++) {
        const Google__Protobuf__FileDescriptorProto *fd = s->set->file[i];
        for (size_t k = 0; k < fd->n_service; k++)
            if (add_methods(s, fd->package ? fd->package : "", fd->service[k], err, errlen))
                goto fail;
    }
    return s;
fail:
    pb_schema_free(s);
    return NULL;
}

/* "protoc: " and its output, several lines as one: "a; b". */
static void protoc_message(char *err, size_t errlen, const char *out)
{
    size_t o = (size_t)snprintf(err, errlen, "protoc: ");
    if (o + 1 >= errlen)
        return;
    bool sep = false;
    for (const char *p = out; *p && o + 1 < errlen; p++) {
        if (*p == '\n' || *p == '\r') {
            sep = o > 8;
            continue;
        }
        if (sep && o + 3 < errlen) {
            err[o++] = ';';
            err[o++] = ' ';
        }
        sep = false;
        err[o++] = *p;
    }
    if (o < errlen)
        err[o] = 0;
    if (o == 8)
        snprintf(err + o, errlen - o, "failed without a message");
}

pb_schema_t *pb_schema_load(const char *path, const char *const *import_dirs, char *err,
                            size_t errlen)
{
    char protoc[4096];
    if (proc_which("protoc", protoc, sizeof protoc) != 0) {
        fail(err, errlen, "protoc: not found on PATH (Debian: apt-get install protobuf-compiler)");
        return NULL;
    }
    if (access(path, R_OK) != 0) {
        fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    const char *tmpdir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/sb-pbjson-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fail(err, errlen, "%s: %s", tmp, strerror(errno));
        return NULL;
    }
    close(fd);

    size_t ndirs = 0;
    while (import_dirs && import_dirs[ndirs])
        ndirs++;
    pb_schema_t *s = NULL;
    buf_t set = BUF_INIT;
    char *set_out = NULL, *own_dir = NULL;
    char **incs = calloc(ndirs + 1, sizeof *incs);
    const char **argv = calloc(ndirs + 6, sizeof *argv);
    const char *slash = strrchr(path, '/');
    if (!incs || !argv || asprintf(&set_out, "--descriptor_set_out=%s", tmp) < 0 ||
        asprintf(&own_dir, "-I%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
                 slash ? path : ".") < 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    size_t n = 0;
    argv[n++] = protoc;
    argv[n++] = "--include_imports";
    argv[n++] = set_out;
    for (size_t i = 0; i < ndirs; i++) {
        if (asprintf(&incs[i], "-I%s", import_dirs[i]) < 0) {
            fail(err, errlen, "out of memory");
            goto done;
        }
        argv[n++] = incs[i];
    }
    argv[n++] = own_dir;
    argv[n++] = path;
    char out[2048], why[256];
    int st = proc_run(argv, NULL, 60 * (int64_t)1000000000, out, sizeof out, why, sizeof why);
    if (st < 0) {
        fail(err, errlen, "protoc: %s", why);
        goto done;
    }
    if (st != 0) {
        protoc_message(err, errlen, out);
        goto done;
    }
    int rc = buf_read_file(&set, tmp);
    if (rc) {
        fail(err, errlen, "%s: %s", tmp, strerror(-rc));
        goto done;
    }
    s = pb_schema_parse(buf_start(&set), buf_size(&set), err, errlen);
done:
    unlink(tmp);
    buf_free(&set);
    for (size_t i = 0; incs && i < ndirs; i++)
        free(incs[i]);
    free(incs);
    free(argv);
    free(set_out);
    free(own_dir);
    return s;
}

const pb_method_t *pb_method_find(const pb_schema_t *s, const char *name, char *err,
                                  size_t errlen)
{
    const char *want = name[0] == '/' ? name + 1 : name;
    size_t wlen = strlen(want);
    for (size_t i = 0; i < s->nmethods; i++) {
        const char *have = s->methods[i].name;
        size_t slash = (size_t)(strrchr(have, '/') - have);
        if (strlen(have) != wlen || memcmp(have, want, slash) != 0 ||
            strcmp(have + slash + 1, want + slash + 1) != 0)
            continue;
        if (want[slash] == '/' || (want[slash] == '.' && want == name))
            return &s->methods[i];
    }
    int used = snprintf(err, errlen, "no method \"%s\" (%s", name,
                        s->nmethods ? "the schema has: " : "the schema has no services");
    for (size_t i = 0; i < s->nmethods && used >= 0 && (size_t)used < errlen; i++)
        used += snprintf(err + used, errlen - (size_t)used, "%s%s", i ? ", " : "",
                         s->methods[i].name);
    if (used >= 0 && (size_t)used < errlen)
        snprintf(err + used, errlen - (size_t)used, ")");
    return NULL;
}

/* ---- shared by both directions ---- */

/* A path into the JSON, ".items[2].count", for messages. Kept short: past its room the rest
 * is "...". */
typedef struct {
    char s[256];
    size_t len;
    bool cut;
} path_t;

typedef struct {
    size_t len;
    bool cut;
} path_mark_t;

static path_mark_t path_push(path_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static path_mark_t path_push(path_t *p, const char *fmt, ...)
{
    path_mark_t mark = {p->len, p->cut};
    if (p->cut)
        return mark;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->s + p->len, sizeof p->s - p->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof p->s - p->len) {
        p->cut = true;
        p->s[p->len] = 0;
    } else {
        p->len += (size_t)n;
    }
    return mark;
}

static void path_pop(path_t *p, path_mark_t mark)
{
    p->len = mark.len;
    p->cut = mark.cut;
    p->s[p->len] = 0;
}

/* s[0..n) for a message of one line: cut at 40 bytes (at a character's start), control
 * characters as '?', '"' and '\\' as they are. */
static void printable(char *out, size_t cap, const char *s, size_t n)
{
    size_t cut = n;
    if (cut > 40)
        for (cut = 40; cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80; cut--) {
        }
    size_t o = 0;
    for (size_t i = 0; i < cut && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (cut < n && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o < cap ? o : cap - 1] = 0;
}

static void put_varint_raw(uint8_t *p, int *k, uint64_t v)
{
    int n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    *k = n;
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- the encoder: JSON to wire bytes ---- */

typedef struct {
    const pb_schema_t *s;
    buf_t *out;
    char *err;
    size_t errlen;
    path_t path;
    buf_t tmp; /* a string decoded: a name, an enum's name, bytes' base64, a number in quotes */
} enc_t;

static int enc_fail(enc_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int enc_fail(enc_t *e, const char *fmt, ...)
{
    int n = snprintf(e->err, e->errlen, "data: %s%s%s", e->path.s, e->path.cut ? "..." : "",
                     e->path.len || e->path.cut ? ": " : "");
    if (n >= 0 && (size_t)n < e->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->err + n, e->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int enc_oom(enc_t *e) { return enc_fail(e, "out of memory"); }

/* "want WHAT, got VALUE": the value as written ("an object", "an array" for those). */
static int want(enc_t *e, const char *v, size_t n, const char *what)
{
    char got[64];
    if (v[0] == '{')
        snprintf(got, sizeof got, "an object");
    else if (v[0] == '[')
        snprintf(got, sizeof got, "an array");
    else
        printable(got, sizeof got, v, n);
    return enc_fail(e, "want %s, got %s", what, got);
}

static int put(enc_t *e, const void *p, size_t n)
{
    return buf_append(e->out, p, n) ? enc_oom(e) : 0;
}

static int put_varint(enc_t *e, uint64_t v)
{
    uint8_t b[10];
    int k;
    put_varint_raw(b, &k, v);
    return put(e, b, (size_t)k);
}

static int put_tag(enc_t *e, uint32_t number, int wt)
{
    return put_varint(e, (uint64_t)number << 3 | (unsigned)wt);
}

static int put_fixed(enc_t *e, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return put(e, b, (size_t)bytes);
}

/* A length-delimited value: its bytes are written after begin, then end puts their length in
 * front of them. */
static size_t len_begin(enc_t *e) { return buf_size(e->out); }

static int len_end(enc_t *e, size_t at)
{
    size_t n = buf_size(e->out) - at;
    uint8_t b[10];
    int k;
    put_varint_raw(b, &k, n);
    if (buf_reserve(e->out, (size_t)k)) /* may move the content: offsets from the start hold */
        return enc_oom(e);
    char *p = buf_start(e->out) + at;
    memmove(p + k, p, n);
    memcpy(p, b, (size_t)k);
    buf_commit(e->out, (size_t)k);
    return 0;
}

static void truncate_to(buf_t *b, size_t size) { b->len = b->off + size; }

/* A JSON string's content into e->tmp, decoded. v is the string as written, quotes included.
 * 0; -1 for a lone surrogate escape (an error then written, as "want what"). */
static int string_value(enc_t *e, const char *v, size_t n, const char *what)
{
    buf_clear(&e->tmp);
    int rc = json_unescape(v + 1, n - 2, &e->tmp);
    if (rc == -ENOMEM)
        return enc_oom(e);
    if (rc)
        return want(e, v, n, what);
    return 0;
}

typedef enum { INT_OK, INT_BAD } int_status_t;

/* t[0..n) in JSON's number grammar holding an integer (1e3 and 2.0 do; 1.5 does not), as a
 * sign and a magnitude of at most 64 bits. */
static int_status_t parse_integer(const char *t, size_t n, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = i < n && t[i] == '-';
    if (*neg)
        i++;
    const char *ip = t + i;
    if (i < n && t[i] == '0')
        i++;
    else if (i < n && t[i] >= '1' && t[i] <= '9')
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
    else
        return INT_BAD;
    size_t ilen = (size_t)(t + i - ip);
    const char *fp = t + i;
    size_t flen = 0;
    if (i < n && t[i] == '.') {
        fp = t + ++i;
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
        flen = (size_t)(t + i - fp);
        if (flen == 0)
            return INT_BAD;
    }
    long exp = 0;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        bool eneg = i < n && t[i] == '-';
        if (i < n && (t[i] == '-' || t[i] == '+'))
            i++;
        size_t st = i;
        for (; i < n && t[i] >= '0' && t[i] <= '9'; i++)
            if (exp < 1000000)
                exp = exp * 10 + (t[i] - '0');
        if (i == st)
            return INT_BAD;
        if (eneg)
            exp = -exp;
    }
    if (i != n)
        return INT_BAD;
    /* The digits of the integer and fraction parts as one run D; the value is D * 10^e. */
    size_t nd = ilen + flen, first = 0;
#define DIGIT(k) ((k) < ilen ? ip[k] : fp[(k) - ilen])
    while (first < nd && DIGIT(first) == '0')
        first++;
    *mag = 0;
    if (first == nd)
        return INT_OK;
    long e10 = exp - (long)flen;
    size_t last = nd; /* the digits [first, last) are the integer before the zeros appended */
    if (e10 < 0) {
        if ((size_t)-e10 >= nd - first)
            return INT_BAD;
        for (size_t k = nd - (size_t)-e10; k < nd; k++)
            if (DIGIT(k) != '0')
                return INT_BAD;
        last = nd - (size_t)-e10;
        e10 = 0;
    }
    if ((long)(last - first) + e10 > 20)
        return INT_BAD;
    uint64_t v = 0;
    for (size_t k = first; k < last; k++) {
        unsigned d = (unsigned)(DIGIT(k) - '0');
        if (v > (UINT64_MAX - d) / 10)
            return INT_BAD;
        v = v * 10 + d;
    }
#undef DIGIT
    for (; e10 > 0; e10--) {
        if (v > UINT64_MAX / 10)
            return INT_BAD;
        v *= 10;
    }
    *mag = v;
    return INT_OK;
}

/* JSON's number grammar, exactly (strtod takes more: hex, "inf", leading spaces). */
static bool is_number(const char *t, size_t n)
{
    size_t i = 0;
    if (i < n && t[i] == '-')
        i++;
    if (i < n && t[i] == '0')
        i++;
    else if (i < n && t[i] >= '1' && t[i] <= '9')
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
    else
        return false;
    if (i < n && t[i] == '.') {
        size_t st = ++i;
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
        if (i == st)
            return false;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        if (++i < n && (t[i] == '-' || t[i] == '+'))
            i++;
        size_t st = i;
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++;
        if (i == st)
            return false;
    }
    return i == n;
}

/* An integer of type (a varint's 64 bits: sint zigzagged, negatives sign-extended; fixed
 * types their bits). */
static int enc_integer(enc_t *e, int type, const char *v, size_t n, uint64_t *bits)
{
    const char *what;
    bool sign = type == T_INT32 || type == T_SINT32 || type == T_SFIXED32 || type == T_INT64 ||
                type == T_SINT64 || type == T_SFIXED64 || type == T_ENUM;
    bool wide = type == T_INT64 || type == T_SINT64 || type == T_SFIXED64 || type == T_UINT64 ||
                type == T_FIXED64;
    if (sign)
        what = wide ? "an integer -9223372036854775808..9223372036854775807"
                    : "an integer -2147483648..2147483647";
    else
        what = wide ? "an integer 0..18446744073709551615" : "an integer 0..4294967295";
    const char *t = v;
    size_t tn = n;
    if (v[0] == '"') {
        if (string_value(e, v, n, what))
            return -1;
        t = buf_start(&e->tmp);
        tn = buf_size(&e->tmp);
    } else if (v[0] == '{' || v[0] == '[' || v[0] == 't' || v[0] == 'f' || v[0] == 'n') {
        return want(e, v, n, what);
    }
    bool neg;
    uint64_t mag;
    if (parse_integer(t, tn, &neg, &mag) != INT_OK)
        return want(e, v, n, what);
    uint64_t max = sign ? (wide ? INT64_MAX : INT32_MAX) : (wide ? UINT64_MAX : UINT32_MAX);
    if (neg && !sign && mag)
        return want(e, v, n, what);
    if (neg ? mag > max + 1 : mag > max)
        return want(e, v, n, what);
    int64_t sv = neg ? (int64_t)(0 - mag) : (int64_t)mag; /* two's complement, 0 - 2^63 included */
    switch (type) {
    case T_SINT32:
        *bits = (uint32_t)(((uint32_t)sv << 1) ^ (uint32_t)((int32_t)sv >> 31));
        break;
    case T_SINT64:
        *bits = ((uint64_t)sv << 1) ^ (uint64_t)(sv >> 63);
        break;
    case T_FIXED32:
    case T_SFIXED32:
        *bits = (uint32_t)sv;
        break;
    default:
        *bits = (uint64_t)sv;
    }
    return 0;
}

static int enc_floating(enc_t *e, bool is_float, const char *v, size_t n, uint64_t *bits)
{
    const char *what = is_float ? "a float" : "a double";
    const char *t = v;
    size_t tn = n;
    if (v[0] == '"') {
        if (string_value(e, v, n, what))
            return -1;
        t = buf_start(&e->tmp);
        tn = buf_size(&e->tmp);
    }
    double d;
    if (tn == 3 && memcmp(t, "NaN", 3) == 0 && v[0] == '"') {
        d = NAN;
    } else if (tn == 8 && memcmp(t, "Infinity", 8) == 0 && v[0] == '"') {
        d = INFINITY;
    } else if (tn == 9 && memcmp(t, "-Infinity", 9) == 0 && v[0] == '"') {
        d = -INFINITY;
    } else {
        if (!is_number(t, tn))
            return want(e, v, n, what);
        char stack[64], *z = tn < sizeof stack ? stack : malloc(tn + 1);
        if (!z)
            return enc_oom(e);
        memcpy(z, t, tn);
        z[tn] = 0;
        /* strtof for a float: strtod then a cast would round twice, and a decimal near the
         * midpoint of two floats could land on the other one */
        d = is_float ? strtof(z, NULL) : strtod(z, NULL);
        if (z != stack)
            free(z);
        if (isinf(d))
            return want(e, v, n,
                        is_float ? "a float (at most 3.4028235e38 in magnitude)"
                                 : "a double (at most 1.7976931348623157e308 in magnitude)");
    }
    if (is_float) {
        float f = (float)d;
        uint32_t b;
        memcpy(&b, &f, 4);
        *bits = b;
    } else {
        memcpy(bits, &d, 8);
    }
    return 0;
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Base64 (either alphabet, padding optional) in e->tmp, decoded onto the output. */
static int enc_base64(enc_t *e, const char *v, size_t n)
{
    static const char what[] = "base64 (standard or URL-safe)";
    const char *t = buf_start(&e->tmp);
    size_t tn = buf_size(&e->tmp), pad = 0;
    while (tn > 0 && t[tn - 1] == '=' && pad < 2) {
        tn--;
        pad++;
    }
    if (tn % 4 == 1 || (pad && (tn + pad) % 4 != 0))
        return want(e, v, n, what);
    if (buf_reserve(e->out, tn / 4 * 3 + 2))
        return enc_oom(e);
    uint8_t *o = (uint8_t *)buf_end(e->out), *o0 = o;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < tn; i++) {
        int x = b64_value((unsigned char)t[i]);
        if (x < 0)
            return want(e, v, n, what);
        acc = acc << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
        }
    }
    buf_commit(e->out, (size_t)(o - o0));
    return 0;
}

static int enc_enum(enc_t *e, const pb_enum_t *en, const char *v, size_t n, uint64_t *bits)
{
    const Google__Protobuf__EnumDescriptorProto *d = en->d;
    if (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
        return enc_integer(e, T_ENUM, v, n, bits);
    char what[256];
    int used = snprintf(what, sizeof what, "one of ");
    for (size_t i = 0; i < d->n_value && used >= 0 && (size_t)used < sizeof what; i++)
        used += snprintf(what + used, sizeof what - (size_t)used, "%s%s", i ? ", " : "",
                         d->value[i]->name ? d->value[i]->name : "");
    if (used >= 0 && (size_t)used < sizeof what)
        snprintf(what + used, sizeof what - (size_t)used, " (%s) or its number", en->name);
    if (v[0] != '"')
        return want(e, v, n, what);
    if (string_value(e, v, n, what))
        return -1;
    for (size_t i = 0; i < d->n_value; i++) {
        const char *name = d->value[i]->name ? d->value[i]->name : "";
        size_t len = strlen(name);
        if (len == buf_size(&e->tmp) && memcmp(name, buf_start(&e->tmp), len) == 0) {
            *bits = (uint64_t)(int64_t)d->value[i]->number;
            return 0;
        }
    }
    return want(e, v, n, what);
}

static int enc_message(enc_t *e, const pb_message_t *m, const char *v, size_t n, int depth);

static int wire_type(int type)
{
    switch (type) {
    case T_DOUBLE: case T_FIXED64: case T_SFIXED64: return WT_I64;
    case T_FLOAT: case T_FIXED32: case T_SFIXED32: return WT_I32;
    case T_STRING: case T_BYTES: case T_MESSAGE: return WT_LEN;
    case T_GROUP: return WT_SGROUP;
    default: return WT_VARINT;
    }
}

/* A scalar's bits as its wire type writes them. */
static int put_scalar(enc_t *e, int type, uint64_t bits)
{
    int wt = wire_type(type);
    return wt == WT_VARINT ? put_varint(e, bits) : put_fixed(e, bits, wt == WT_I32 ? 4 : 8);
}

/* One value of field f (an element, when f is repeated), with its tag unless tag is false
 * (a packed element). A field without presence that holds its default is not written. */
static int enc_value(enc_t *e, const pb_field_t *f, const char *v, size_t n, bool tag, int depth)
{
    size_t mark = buf_size(e->out);
    bool zero = false;
    if (tag && put_tag(e, f->number, wire_type(f->type)))
        return -1;
    uint64_t bits = 0;
    switch (f->type) {
    case T_GROUP:
        return enc_fail(e, "a group (proto2): not supported");
    case T_MESSAGE: {
        size_t at = len_begin(e);
        if (enc_message(e, f->msg, v, n, depth + 1) || len_end(e, at))
            return -1;
        return 0;
    }
    case T_STRING: {
        if (v[0] != '"')
            return want(e, v, n, "a string");
        size_t at = len_begin(e);
        int rc = json_unescape(v + 1, n - 2, e->out);
        if (rc == -ENOMEM)
            return enc_oom(e);
        if (rc)
            return want(e, v, n, "a string without lone surrogate escapes");
        zero = buf_size(e->out) == at;
        if (len_end(e, at))
            return -1;
        break;
    }
    case T_BYTES: {
        if (v[0] != '"')
            return want(e, v, n, "base64 (standard or URL-safe)");
        if (string_value(e, v, n, "base64 (standard or URL-safe)"))
            return -1;
        size_t at = len_begin(e);
        if (enc_base64(e, v, n))
            return -1;
        zero = buf_size(e->out) == at;
        if (len_end(e, at))
            return -1;
        break;
    }
    case T_BOOL:
        if (v[0] != 't' && v[0] != 'f')
            return want(e, v, n, "true or false");
        zero = v[0] == 'f';
        if (put_varint(e, v[0] == 't'))
            return -1;
        break;
    case T_FLOAT:
    case T_DOUBLE:
        if (enc_floating(e, f->type == T_FLOAT, v, n, &bits) ||
            put_fixed(e, bits, f->type == T_FLOAT ? 4 : 8))
            return -1;
        zero = bits == 0; /* -0.0 is not the default: protobuf compares bits */
        break;
    case T_ENUM:
        if (enc_enum(e, f->en, v, n, &bits) || put_varint(e, bits))
            return -1;
        zero = bits == 0;
        break;
    default:
        if (enc_integer(e, f->type, v, n, &bits))
            return -1;
        zero = bits == 0;
        if (put_scalar(e, f->type, bits))
            return -1;
    }
    if (tag && zero && !f->presence && !f->repeated)
        truncate_to(e->out, mark);
    return 0;
}

/* A map key as the entry's field 1. k[0..kn) is the object's name as written, quotes
 * included. */
static int enc_map_key(enc_t *e, const pb_field_t *kf, const char *k, size_t kn)
{
    if (put_tag(e, 1, wire_type(kf->type)))
        return -1;
    if (kf->type == T_STRING || kf->type == T_BOOL) {
        if (string_value(e, k, kn, kf->type == T_STRING ? "a key without lone surrogate escapes"
                                                        : "a key \"true\" or \"false\""))
            return -1;
        const char *t = buf_start(&e->tmp);
        size_t tn = buf_size(&e->tmp);
        if (kf->type == T_STRING)
            return put_varint(e, tn) || put(e, t, tn) ? -1 : 0;
        bool yes = tn == 4 && memcmp(t, "true", 4) == 0, no = tn == 5 && memcmp(t, "false", 5) == 0;
        if (!yes && !no)
            return want(e, k, kn, "a key \"true\" or \"false\"");
        return put_varint(e, yes);
    }
    uint64_t bits;
    if (enc_integer(e, kf->type, k, kn, &bits))
        return -1;
    return put_scalar(e, kf->type, bits);
}

static int enc_map(enc_t *e, const pb_field_t *f, const char *v, size_t n, int depth)
{
    if (v[0] != '{')
        return want(e, v, n, "an object (a map)");
    const pb_field_t *kf = &f->msg->fields[0], *vf = &f->msg->fields[1];
    json_members_t it;
    json_members_begin(&it, v, n);
    const char *name, *val;
    size_t nlen, vlen;
    while (json_members_next(&it, &name, &nlen, &val, &vlen)) {
        char shown[64];
        printable(shown, sizeof shown, name, nlen);
        path_mark_t pm = path_push(&e->path, "[\"%s\"]", shown);
        if (put_tag(e, f->number, WT_LEN))
            return -1;
        size_t at = len_begin(e);
        /* Both key and value written, defaults too, as protobuf's serializers write entries. */
        pb_field_t value = *vf;
        value.presence = true;
        if (enc_map_key(e, kf, name - 1, nlen + 2) ||
            enc_value(e, &value, val, vlen, true, depth) || len_end(e, at))
            return -1;
        path_pop(&e->path, pm);
    }
    return 0;
}

static int enc_repeated(enc_t *e, const pb_field_t *f, const char *v, size_t n, int depth)
{
    if (v[0] != '[')
        return want(e, v, n, "an array");
    json_elements_t it;
    json_elements_begin(&it, v, n);
    const char *el;
    size_t elen, at = 0, mark = buf_size(e->out);
    if (f->packed) {
        if (put_tag(e, f->number, WT_LEN))
            return -1;
        at = len_begin(e);
    }
    for (size_t i = 0; json_elements_next(&it, &el, &elen); i++) {
        path_mark_t pm = path_push(&e->path, "[%zu]", i);
        if (enc_value(e, f, el, elen, !f->packed, depth))
            return -1;
        path_pop(&e->path, pm);
    }
    if (f->packed) {
        if (buf_size(e->out) == at) /* no elements: nothing written */
            truncate_to(e->out, mark);
        else if (len_end(e, at))
            return -1;
    }
    return 0;
}

typedef struct {
    const char *v; /* the value as written; NULL: not in the JSON */
    size_t n;
    bool by_proto_name;
} slot_t;

/* The fields of m as a list for a message ("count, label"), cut to fit. */
static void field_list(const pb_message_t *m, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < m->nfields; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", m->fields[i].json_name);
        if (w < 0 || (size_t)w >= cap - used) {
            out[used] = 0;
            if (used + 6 < cap)
                snprintf(out + used, cap - used, ", ...");
            return;
        }
        used += (size_t)w;
    }
}

static const char *field_shown(const pb_field_t *f, const slot_t *sl)
{
    return sl->by_proto_name ? f->name : f->json_name;
}

static int enc_message(enc_t *e, const pb_message_t *m, const char *v, size_t n, int depth)
{
    if (v[0] != '{') {
        char what[320];
        snprintf(what, sizeof what, "an object (%s)%s", m->name,
                 m->own_json ? "; this type's own JSON form is not supported: write its fields"
                             : "");
        return want(e, v, n, what);
    }
    if (depth > PB_MAX_DEPTH)
        return enc_fail(e, "messages nested deeper than %d", PB_MAX_DEPTH);
    int noneof = (int)m->d->n_oneof_decl;
    slot_t *slots = calloc((size_t)m->nfields + 1, sizeof *slots);
    int *oneof_by = calloc((size_t)noneof + 1, sizeof *oneof_by); /* field index + 1 */
    int rc = -1;
    if (!slots || !oneof_by) {
        enc_oom(e);
        goto done;
    }
    json_members_t it;
    json_members_begin(&it, v, n);
    const char *name, *val;
    size_t nlen, vlen;
    while (json_members_next(&it, &name, &nlen, &val, &vlen)) {
        buf_clear(&e->tmp);
        if (json_unescape(name, nlen, &e->tmp) == -ENOMEM) {
            enc_oom(e);
            goto done;
        }
        const char *key = buf_start(&e->tmp);
        size_t klen = buf_size(&e->tmp);
        int fi = -1;
        bool by_proto = false;
        for (int i = 0; i < m->nfields && fi < 0; i++) {
            const pb_field_t *f = &m->fields[i];
            if (strlen(f->json_name) == klen && memcmp(f->json_name, key, klen) == 0)
                fi = i;
            else if (strlen(f->name) == klen && memcmp(f->name, key, klen) == 0)
                fi = i, by_proto = true;
        }
        if (fi < 0) {
            char shown[64], list[200];
            printable(shown, sizeof shown, name, nlen);
            field_list(m, list, sizeof list);
            enc_fail(e, "unknown field \"%s\" (%s has %s)", shown, m->name,
                     m->nfields ? list : "no fields");
            goto done;
        }
        const pb_field_t *f = &m->fields[fi];
        slot_t now = {val, vlen, by_proto};
        if (slots[fi].v) {
            path_push(&e->path, ".%s", field_shown(f, &now));
            if (slots[fi].by_proto_name != by_proto)
                enc_fail(e, "set twice (as %s and %s)", field_shown(f, &slots[fi]),
                         field_shown(f, &now));
            else
                enc_fail(e, "set twice");
            goto done;
        }
        slots[fi] = now;
        if (f->oneof >= 0 && val[0] != 'n') {
            int other = oneof_by[f->oneof] - 1;
            if (other >= 0) {
                path_push(&e->path, ".%s", field_shown(f, &now));
                enc_fail(e, "oneof %s has .%s set already: at most one of its fields",
                         m->d->oneof_decl[f->oneof]->name ? m->d->oneof_decl[f->oneof]->name : "",
                         field_shown(&m->fields[other], &slots[other]));
                goto done;
            }
            oneof_by[f->oneof] = fi + 1;
        }
    }
    for (int i = 0; i < m->nfields; i++) {
        const pb_field_t *f = &m->fields[i];
        const slot_t *sl = &slots[i];
        if (!sl->v || sl->v[0] == 'n') /* null: the default, nothing written */
            continue;
        path_mark_t pm = path_push(&e->path, ".%s", field_shown(f, sl));
        int r = f->map ? enc_map(e, f, sl->v, sl->n, depth)
                : f->repeated ? enc_repeated(e, f, sl->v, sl->n, depth)
                              : enc_value(e, f, sl->v, sl->n, true, depth);
        if (r)
            goto done;
        path_pop(&e->path, pm);
    }
    rc = 0;
done:
    free(slots);
    free(oneof_by);
    return rc;
}

int pb_encode_json(const pb_schema_t *s, const pb_message_t *m, const char *json, size_t len,
                   buf_t *out, char *err, size_t errlen)
{
    enc_t e = {.s = s, .out = out, .err = err, .errlen = errlen};
    json_error_t je;
    if (json_validate(json, len, &je) != 0)
        return fail(err, errlen, "data: invalid JSON at byte %zu: %s", je.offset, je.reason);
    size_t start = buf_size(out);
    const char *v = json;
    size_t n = len;
    while (n && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    int rc = enc_message(&e, m, v, n, 1);
    buf_free(&e.tmp);
    if (rc)
        truncate_to(out, start);
    return rc;
}

/* ---- the decoder: wire bytes to JSON ---- */

/* A message's bytes may be in several pieces: a message field seen more than once is the
 * merge of its occurrences, which is how protobuf reads their concatenation. */
typedef struct {
    const uint8_t *p, *end;
} seg_t;

/* A position in a message's pieces. */
typedef struct {
    size_t seg;
    const uint8_t *at;
} pos_t;

/* One field as read from the wire. */
typedef struct {
    uint32_t number;
    int wt;
    const uint8_t *at;   /* its tag */
    uint64_t v;          /* VARINT, I64, I32 */
    const uint8_t *data; /* LEN */
    size_t len;
} wire_t;

typedef struct {
    size_t count;
    pos_t first, last;
} seen_t;

typedef struct {
    const pb_schema_t *s;
    buf_t *out;
    char *err;
    size_t errlen;
    const uint8_t *base;
    path_t path;
} dec_t;

static int dec_fail(dec_t *d, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int dec_fail(dec_t *d, const uint8_t *at, const char *fmt, ...)
{
    int n = snprintf(d->err, d->errlen, "wire: %s%s%sat byte %zu: ", d->path.s,
                     d->path.cut ? "..." : "", d->path.len || d->path.cut ? ": " : "",
                     (size_t)(at - d->base));
    if (n >= 0 && (size_t)n < d->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int dec_oom(dec_t *d)
{
    snprintf(d->err, d->errlen, "wire: out of memory");
    return -1;
}

static int out(dec_t *d, const char *s, size_t n)
{
    return buf_append(d->out, s, n) ? dec_oom(d) : 0;
}

static int outs(dec_t *d, const char *s) { return out(d, s, strlen(s)); }

static int out_str(dec_t *d, const char *s, size_t n)
{
    if (buf_reserve(d->out, 6 * n + 2)) /* the most jsonw_escape writes: it cannot fail then */
        return dec_oom(d);
    jsonw_escape(d->out, s, n);
    return 0;
}

/* A varint at *p: 0 and *p past it, or -1 with the error. Go's rule: at most 10 bytes, the
 * tenth 0 or 1. */
static int get_varint(dec_t *d, const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (q >= end)
            return dec_fail(d, *p, "a varint cut short");
        uint8_t b = *q++;
        if (i == 9 && b > 1)
            return dec_fail(d, *p, "a varint beyond 64 bits");
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            *p = q;
            return 0;
        }
    }
    return dec_fail(d, *p, "a varint beyond 64 bits");
}

/* The field at *p (in p..end): 0 and *p past it, or -1 with the error. */
static int get_field(dec_t *d, const uint8_t **p, const uint8_t *end, wire_t *w)
{
    w->at = *p;
    uint64_t tag;
    if (get_varint(d, p, end, &tag))
        return -1;
    if (tag >> 3 == 0)
        return dec_fail(d, w->at, "field number 0");
    if (tag >> 3 > PB_FIELD_MAX)
        return dec_fail(d, w->at, "field number %llu beyond %u", (unsigned long long)(tag >> 3),
                        PB_FIELD_MAX);
    w->number = (uint32_t)(tag >> 3);
    w->wt = (int)(tag & 7);
    size_t left;
    switch (w->wt) {
    case WT_VARINT:
        return get_varint(d, p, end, &w->v);
    case WT_I64:
    case WT_I32: {
        size_t k = w->wt == WT_I64 ? 8 : 4;
        if ((size_t)(end - *p) < k)
            return dec_fail(d, w->at, "field %u: a %zu-byte value cut short (%zu bytes left)",
                            w->number, k, (size_t)(end - *p));
        w->v = 0;
        for (size_t i = 0; i < k; i++)
            w->v |= (uint64_t)(*p)[i] << (8 * i);
        *p += k;
        return 0;
    }
    case WT_LEN: {
        uint64_t n;
        if (get_varint(d, p, end, &n))
            return -1;
        left = (size_t)(end - *p);
        if (n > left)
            return dec_fail(d, w->at, "field %u: length %llu runs past the end (%zu bytes left)",
                            w->number, (unsigned long long)n, left);
        w->data = *p;
        w->len = (size_t)n;
        *p += n;
        return 0;
    }
    case WT_SGROUP:
    case WT_EGROUP:
        return dec_fail(d, w->at, "field %u: a group (wire type %d): not supported", w->number,
                        w->wt);
    default:
        return dec_fail(d, w->at, "field %u: wire type %d does not exist", w->number, w->wt);
    }
}

static const pb_field_t *field_by_number(const pb_message_t *m, uint32_t number)
{
    int lo = 0, hi = m->nfields - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        uint32_t x = m->fields[mid].number;
        if (x == number)
            return &m->fields[mid];
        if (x < number)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Whether a field read with wire type wt is field f's (else it is an unknown field). */
static bool wire_fits(const pb_field_t *f, int wt)
{
    return wt == wire_type(f->type) || (f->repeated && packable(f->type) && wt == WT_LEN);
}

static bool pos_after(pos_t a, pos_t b) { return a.seg != b.seg ? a.seg > b.seg : a.at > b.at; }

/* Every field of the message's pieces read once, structure checked; where each known field
 * is first and last. */
static int dec_scan(dec_t *d, const pb_message_t *m, const seg_t *segs, size_t nsegs, seen_t *seen)
{
    for (size_t si = 0; si < nsegs; si++) {
        const uint8_t *p = segs[si].p;
        while (p < segs[si].end) {
            wire_t w;
            if (get_field(d, &p, segs[si].end, &w))
                return -1;
            const pb_field_t *f = field_by_number(m, w.number);
            if (!f || !wire_fits(f, w.wt))
                continue;
            seen_t *s = &seen[f - m->fields];
            pos_t at = {si, w.at};
            if (s->count++ == 0)
                s->first = at;
            s->last = at;
        }
    }
    return 0;
}

/* Walks the occurrences of field f from its first to its last. */
typedef struct {
    const seg_t *segs;
    const pb_field_t *f;
    pos_t at, last;
    bool done;
} walk_t;

static bool walk_next(dec_t *d, walk_t *it, wire_t *w)
{
    while (!it->done) {
        const seg_t *sg = &it->segs[it->at.seg];
        if (it->at.at >= sg->end) {
            it->at.seg++;
            it->at.at = it->segs[it->at.seg].p; /* the scan saw a later occurrence: there is one */
            continue;
        }
        const uint8_t *p = it->at.at;
        if (get_field(d, &p, sg->end, w)) /* read before by dec_scan: cannot fail */
            return false;
        it->done = it->at.seg == it->last.seg && it->at.at == it->last.at;
        it->at.at = p;
        if (w->number == it->f->number && wire_fits(it->f, w->wt))
            return true;
    }
    return false;
}

static int dec_message(dec_t *d, const pb_message_t *m, const seg_t *segs, size_t nsegs, int depth);

static int fmt_floating(char *b, size_t cap, double v, bool is_float)
{
    if (isnan(v))
        return snprintf(b, cap, "\"NaN\"");
    if (isinf(v))
        return snprintf(b, cap, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    int n = 0;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(b, cap, "%.*g", prec, v);
        if (is_float ? strtof(b, NULL) == (float)v : strtod(b, NULL) == v)
            break;
    }
    return n;
}

static int out_base64(dec_t *d, const uint8_t *s, size_t n)
{
    if (buf_reserve(d->out, (n + 2) / 3 * 4 + 2))
        return dec_oom(d);
    char *o = buf_end(d->out), *o0 = o;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = b64_std[x >> 18];
        *o++ = b64_std[x >> 12 & 63];
        *o++ = b64_std[x >> 6 & 63];
        *o++ = b64_std[x & 63];
    }
    if (n - i == 1) {
        uint32_t x = (uint32_t)s[i] << 16;
        *o++ = b64_std[x >> 18];
        *o++ = b64_std[x >> 12 & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = b64_std[x >> 18];
        *o++ = b64_std[x >> 12 & 63];
        *o++ = b64_std[x >> 6 & 63];
        *o++ = '=';
    }
    *o++ = '"';
    buf_commit(d->out, (size_t)(o - o0));
    return 0;
}

/* A scalar's value (VARINT, I32, I64 bits) as JSON. */
static int out_scalar(dec_t *d, const pb_field_t *f, uint64_t v)
{
    char b[48];
    switch (f->type) {
    case T_INT32:
    case T_SFIXED32:
        snprintf(b, sizeof b, "%d", (int32_t)(uint32_t)v);
        break;
    case T_UINT32:
    case T_FIXED32:
        snprintf(b, sizeof b, "%u", (uint32_t)v);
        break;
    case T_SINT32: {
        uint32_t u = (uint32_t)v;
        snprintf(b, sizeof b, "%d", (int32_t)((u >> 1) ^ (0u - (u & 1))));
        break;
    }
    case T_INT64:
    case T_SFIXED64:
        snprintf(b, sizeof b, "\"%lld\"", (long long)(int64_t)v);
        break;
    case T_UINT64:
    case T_FIXED64:
        snprintf(b, sizeof b, "\"%llu\"", (unsigned long long)v);
        break;
    case T_SINT64:
        snprintf(b, sizeof b, "\"%lld\"", (long long)(int64_t)((v >> 1) ^ (0 - (v & 1))));
        break;
    case T_BOOL:
        snprintf(b, sizeof b, v ? "true" : "false");
        break;
    case T_FLOAT: {
        uint32_t u = (uint32_t)v;
        float x;
        memcpy(&x, &u, 4);
        fmt_floating(b, sizeof b, x, true);
        break;
    }
    case T_DOUBLE: {
        double x;
        memcpy(&x, &v, 8);
        fmt_floating(b, sizeof b, x, false);
        break;
    }
    case T_ENUM: {
        int32_t n = (int32_t)(uint32_t)v;
        const Google__Protobuf__EnumDescriptorProto *en = f->en->d;
        for (size_t i = 0; i < en->n_value; i++)
            if (en->value[i]->number == n)
                return out_str(d, en->value[i]->name ? en->value[i]->name : "",
                               strlen(en->value[i]->name ? en->value[i]->name : ""));
        snprintf(b, sizeof b, "%d", n);
        break;
    }
    default:
        b[0] = 0;
    }
    return outs(d, b);
}

/* Whether a scalar's bits read as its type are the default: 32-bit types see the low 32
 * bits of a varint (as protobuf reads them), bool any bit; -0.0 is not the default. */
static bool scalar_zero(const pb_field_t *f, uint64_t v)
{
    switch (f->type) {
    case T_INT32: case T_UINT32: case T_SINT32: case T_ENUM:
    case T_FIXED32: case T_SFIXED32: case T_FLOAT:
        return (uint32_t)v == 0;
    default:
        return v == 0;
    }
}

/* One value of field f (a LEN's bytes, or a scalar's bits), as JSON. */
static int out_value(dec_t *d, const pb_field_t *f, const wire_t *w, int depth)
{
    switch (f->type) {
    case T_MESSAGE: {
        seg_t one = {w->data, w->data + w->len};
        return dec_message(d, f->msg, &one, 1, depth + 1);
    }
    case T_STRING:
        if (!json_utf8_valid((const char *)w->data, w->len))
            return dec_fail(d, w->at, "a string that is not UTF-8");
        return out_str(d, (const char *)w->data, w->len);
    case T_BYTES:
        return out_base64(d, w->data, w->len);
    default:
        return out_scalar(d, f, w->v);
    }
}

/* The elements of a packed run, each as JSON after a comma but the first. */
static int out_packed(dec_t *d, const pb_field_t *f, const wire_t *w, size_t *count)
{
    const uint8_t *p = w->data, *end = w->data + w->len;
    int wt = wire_type(f->type);
    size_t k = wt == WT_I64 ? 8 : 4;
    if (wt != WT_VARINT && w->len % k)
        return dec_fail(d, w->at, "field %u: a packed run of %zu bytes, not a multiple of %zu",
                        w->number, w->len, k);
    while (p < end) {
        uint64_t v = 0;
        if (wt == WT_VARINT) {
            if (get_varint(d, &p, end, &v))
                return -1;
        } else {
            for (size_t i = 0; i < k; i++)
                v |= (uint64_t)p[i] << (8 * i);
            p += k;
        }
        if ((*count)++ && out(d, ",", 1))
            return -1;
        if (out_scalar(d, f, v))
            return -1;
    }
    return 0;
}

static int out_repeated(dec_t *d, const pb_field_t *f, const seg_t *segs, const seen_t *s,
                        int depth, size_t *count)
{
    walk_t it = {segs, f, s->first, s->last, false};
    wire_t w;
    if (out(d, "[", 1))
        return -1;
    while (walk_next(d, &it, &w)) {
        if (w.wt == WT_LEN && packable(f->type)) {
            if (out_packed(d, f, &w, count))
                return -1;
            continue;
        }
        path_mark_t pm = path_push(&d->path, "[%zu]", *count);
        if (((*count)++ && out(d, ",", 1)) || out_value(d, f, &w, depth))
            return -1;
        path_pop(&d->path, pm);
    }
    return out(d, "]", 1);
}

/* The value of a singular field of the message's pieces: a scalar's last occurrence, a
 * message's occurrences merged. *skip when it is the default of a field without presence. */
static int out_singular(dec_t *d, const pb_field_t *f, const seg_t *segs, const seen_t *s,
                        int depth, bool *skip)
{
    walk_t it = {segs, f, s->last, s->last, false};
    wire_t w;
    *skip = false;
    if (f->type != T_MESSAGE || s->count == 1) {
        if (!walk_next(d, &it, &w))
            return -1;
        if (!f->presence && (f->type == T_STRING || f->type == T_BYTES ? w.len == 0
                                                                        : scalar_zero(f, w.v))) {
            *skip = true;
            return 0;
        }
        return out_value(d, f, &w, depth);
    }
    seg_t *parts = malloc(s->count * sizeof *parts); /* count <= the bytes read: each >= 2 */
    if (!parts)
        return dec_oom(d);
    walk_t all = {segs, f, s->first, s->last, false};
    size_t n = 0;
    while (n < s->count && walk_next(d, &all, &w))
        parts[n++] = (seg_t){w.data, w.data + w.len};
    int rc = dec_message(d, f->msg, parts, n, depth + 1);
    free(parts);
    return rc;
}

/* A map key (the entry's field 1, bits or bytes) as a JSON string. */
static int out_map_key(dec_t *d, const pb_field_t *kf, const wire_t *w, bool have)
{
    if (kf->type == T_STRING) {
        if (!have)
            return outs(d, "\"\"");
        if (!json_utf8_valid((const char *)w->data, w->len))
            return dec_fail(d, w->at, "a map key that is not UTF-8");
        return out_str(d, (const char *)w->data, w->len);
    }
    size_t at = buf_size(d->out);
    if (out_scalar(d, kf, have ? w->v : 0))
        return -1;
    if (buf_start(d->out)[at] == '"') /* 64-bit: quoted already */
        return 0;
    if (buf_reserve(d->out, 2))
        return dec_oom(d);
    char *p = buf_start(d->out) + at;
    size_t n = buf_size(d->out) - at;
    memmove(p + 1, p, n);
    p[0] = '"';
    p[n + 1] = '"';
    buf_commit(d->out, 2);
    return 0;
}

/* The default of a map value absent from its entry. */
static int out_default(dec_t *d, const pb_field_t *f, int depth)
{
    if (f->type == T_MESSAGE) {
        if (depth + 1 > PB_MAX_DEPTH)
            return dec_fail(d, d->base, "messages nested deeper than %d", PB_MAX_DEPTH);
        return outs(d, "{}");
    }
    if (f->type == T_STRING || f->type == T_BYTES)
        return outs(d, "\"\"");
    return out_scalar(d, f, 0);
}

static int out_map(dec_t *d, const pb_field_t *f, const seg_t *segs, const seen_t *s, int depth,
                   size_t *count)
{
    const pb_message_t *e = f->msg;
    const pb_field_t *kf = &e->fields[0], *vf = &e->fields[1];
    walk_t it = {segs, f, s->first, s->last, false};
    wire_t w;
    if (out(d, "{", 1))
        return -1;
    while (walk_next(d, &it, &w)) {
        seg_t one = {w.data, w.data + w.len};
        seen_t seen[2] = {{0}};
        if (dec_scan(d, e, &one, 1, seen))
            return -1;
        wire_t kw = {0};
        if (seen[0].count) {
            walk_t k = {&one, kf, seen[0].last, seen[0].last, false};
            if (!walk_next(d, &k, &kw))
                return -1;
        }
        if ((*count)++ && out(d, ",", 1))
            return -1;
        size_t key_at = buf_size(d->out);
        if (out_map_key(d, kf, &kw, seen[0].count > 0))
            return -1;
        char shown[64];
        printable(shown, sizeof shown, buf_start(d->out) + key_at + 1,
                  buf_size(d->out) - key_at - 2);
        path_mark_t pm = path_push(&d->path, "[\"%s\"]", shown);
        if (out(d, ":", 1))
            return -1;
        if (seen[1].count) {
            pb_field_t value = *vf;
            value.presence = true;
            bool skip;
            if (out_singular(d, &value, &one, &seen[1], depth, &skip))
                return -1;
        } else if (out_default(d, vf, depth)) {
            return -1;
        }
        path_pop(&d->path, pm);
    }
    return out(d, "}", 1);
}

static int dec_message(dec_t *d, const pb_message_t *m, const seg_t *segs, size_t nsegs, int depth)
{
    if (depth > PB_MAX_DEPTH)
        return dec_fail(d, nsegs ? segs[0].p : d->base, "messages nested deeper than %d",
                        PB_MAX_DEPTH);
    seen_t *seen = calloc((size_t)m->nfields + 1, sizeof *seen);
    int *set = calloc(m->d->n_oneof_decl + 1, sizeof *set); /* per oneof: its member + 1 */
    int rc = -1;
    if (!seen || !set) {
        dec_oom(d);
        goto done;
    }
    if (dec_scan(d, m, segs, nsegs, seen) || out(d, "{", 1))
        goto done;
    for (int i = 0; i < m->nfields; i++) { /* a oneof's member read last is the one set */
        int o = m->fields[i].oneof;
        if (o >= 0 && seen[i].count && (!set[o] || pos_after(seen[i].last, seen[set[o] - 1].last)))
            set[o] = i + 1;
    }
    bool first = true;
    for (int i = 0; i < m->nfields; i++) {
        const pb_field_t *f = &m->fields[i];
        const seen_t *s = &seen[i];
        if (!s->count || (f->oneof >= 0 && set[f->oneof] != i + 1))
            continue;
        size_t mark = buf_size(d->out);
        if ((!first && out(d, ",", 1)) || out_str(d, f->json_name, strlen(f->json_name)) ||
            out(d, ":", 1))
            goto done;
        path_mark_t pm = path_push(&d->path, ".%s", f->json_name);
        size_t count = 0;
        bool skip = false;
        if (f->map) {
            if (out_map(d, f, segs, s, depth, &count))
                goto done;
            skip = count == 0;
        } else if (f->repeated) {
            if (out_repeated(d, f, segs, s, depth, &count))
                goto done;
            skip = count == 0;
        } else if (out_singular(d, f, segs, s, depth, &skip)) {
            goto done;
        }
        path_pop(&d->path, pm);
        if (skip)
            truncate_to(d->out, mark);
        else
            first = false;
    }
    rc = out(d, "}", 1);
done:
    free(seen);
    free(set);
    return rc;
}

int pb_decode_json(const pb_schema_t *s, const pb_message_t *m, const void *bytes, size_t len,
                   buf_t *out, char *err, size_t errlen)
{
    const uint8_t *p = len ? bytes : (const uint8_t *)"";
    dec_t d = {.s = s, .out = out, .err = err, .errlen = errlen, .base = p};
    size_t start = buf_size(out);
    seg_t whole = {p, p + len};
    int rc = dec_message(&d, m, &whole, 1, 1);
    if (rc)
        truncate_to(out, start);
    return rc;
}
