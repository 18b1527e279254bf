#include "jsonq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The member named seg of the object v, or the element at index seg of the array v. */
static bool step(const char **v, size_t *vn, const char *seg)
{
    const char *name, *val;
    size_t nl, vl;
    json_members_t m;
    if (json_members_begin(&m, *v, *vn) == 0) {
        while (json_members_next(&m, &name, &nl, &val, &vl))
            if (json_name_eq(name, nl, seg)) {
                *v = val;
                *vn = vl;
                return true;
            }
        return false;
    }
    json_elements_t a;
    if (json_elements_begin(&a, *v, *vn) != 0 || !seg[0] || strspn(seg, "0123456789") != strlen(seg))
        return false;
    char *end;
    unsigned long long want = strtoull(seg, &end, 10), k = 0;
    while (json_elements_next(&a, &val, &vl))
        if (k++ == want) {
            *v = val;
            *vn = vl;
            return true;
        }
    return false;
}

bool jsonq_get(const char *doc, size_t len, const char *path, const char **val, size_t *vlen)
{
    json_error_t err;
    if (!doc || json_validate(doc, len, &err) != 0)
        return false;
    const char *v = doc;
    size_t vn = len;
    /* The whole document without the white space around it. */
    while (vn && is_ws(*v)) {
        v++;
        vn--;
    }
    while (vn && is_ws(v[vn - 1]))
        vn--;
    /* "a.b" is two segments, "a." too (the second one the name ""), "" none. */
    for (const char *p = path; *path;) {
        size_t sl = strcspn(p, ".");
        char seg[256];
        if (sl >= sizeof seg)
            return false;
        memcpy(seg, p, sl);
        seg[sl] = 0;
        if (!step(&v, &vn, seg))
            return false;
        if (!p[sl])
            break;
        p += sl + 1;
    }
    *val = v;
    *vlen = vn;
    return true;
}

bool jsonq_num(const char *doc, size_t len, const char *path, double *out)
{
    const char *v;
    size_t n;
    if (!jsonq_get(doc, len, path, &v, &n) || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
        return false;
    char *tmp = malloc(n + 1);
    if (!tmp)
        return false;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    *out = strtod(tmp, NULL);
    free(tmp);
    return true;
}

static int hexv(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static unsigned hex4(const char *p)
{
    return (unsigned)(hexv(p[0]) << 12 | hexv(p[1]) << 8 | hexv(p[2]) << 4 | hexv(p[3]));
}

/* Code point cp as UTF-8 at out[*o], if it fits in n - 1 bytes. */
static bool put_utf8(char *out, size_t n, size_t *o, unsigned cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*o + k >= n)
        return false;
    memcpy(out + *o, b, k);
    *o += k;
    return true;
}

bool jsonq_str(const char *doc, size_t len, const char *path, char *out, size_t n)
{
    const char *v;
    size_t vn;
    if (n == 0 || !jsonq_get(doc, len, path, &v, &vn) || v[0] != '"')
        return false;
    size_t o = 0;
    /* The document is valid: every escape is complete and the string ends at v[vn - 1]. */
    for (size_t i = 1; i + 1 < vn; i++) {
        unsigned c = (unsigned char)v[i];
        if (c == '\\') {
            char e = v[++i];
            if (e == 'u') {
                c = hex4(v + i + 1);
                i += 4;
                if (c >= 0xD800 && c < 0xDC00 && i + 6 < vn && v[i + 1] == '\\' &&
                    v[i + 2] == 'u') {
                    unsigned lo = hex4(v + i + 3);
                    if (lo >= 0xDC00 && lo < 0xE000) {
                        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                if (!put_utf8(out, n, &o, c))
                    return false;
                continue;
            }
            c = (unsigned char)(e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r'
                              : e == 't' ? '\t' : e);
        }
        if (o + 1 >= n)
            return false;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return true;
}

bool jsonq_bool(const char *doc, size_t len, const char *path, bool *out)
{
    const char *v;
    size_t n;
    if (!jsonq_get(doc, len, path, &v, &n))
        return false;
    if (n == 4 && memcmp(v, "true", 4) == 0)
        *out = true;
    else if (n == 5 && memcmp(v, "false", 5) == 0)
        *out = false;
    else
        return false;
    return true;
}

int jsonq_len(const char *doc, size_t len, const char *path)
{
    const char *v, *e;
    size_t n, en;
    json_elements_t a;
    if (!jsonq_get(doc, len, path, &v, &n) || json_elements_begin(&a, v, n) != 0)
        return -1;
    int k = 0;
    while (json_elements_next(&a, &e, &en))
        k++;
    return k;
}

bool jsonq_is_null(const char *doc, size_t len, const char *path)
{
    const char *v;
    size_t n;
    return jsonq_get(doc, len, path, &v, &n) && n == 4 && memcmp(v, "null", 4) == 0;
}
