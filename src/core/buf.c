#include "core/buf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

int buf_reserve(buf_t *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    /* Reclaim the consumed prefix first: cheaper than growing when the unread part is small. */
    if (b->off > 0) {
        size_t n = b->len - b->off;
        memmove(b->data, b->data + b->off, n);
        b->off = 0;
        b->len = n;
        if (b->cap - b->len >= extra)
            return 0;
    }
    size_t want = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n >= buf_room(b)) {
        int rc = buf_reserve(b, (size_t)n + 1);
        if (rc)
            return rc;
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
    return 0;
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_consume(buf_t *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        b->off = b->len = 0;
}

int buf_write_file(const buf_t *b, const char *path)
{
    bool out = strcmp(path, "-") == 0;
    FILE *f = out ? stdout : fopen(path, "wb");
    if (!f)
        return -errno;
    int rc = 0;
    if (fwrite(buf_start(b), 1, buf_size(b), f) != buf_size(b) || fflush(f) != 0)
        rc = -(errno ? errno : EIO);
    if (!out && fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int buf_read_file(buf_t *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    int rc = 0;
    for (;;) {
        if ((rc = buf_reserve(b, 64 * 1024 + 1)) != 0)
            break;
        size_t got = fread(buf_end(b), 1, buf_room(b) - 1, f);
        buf_commit(b, got);
        if (got == 0) {
            rc = ferror(f) ? -(errno ? errno : EIO) : 0;
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        *buf_end(b) = 0;
    return rc;
}
