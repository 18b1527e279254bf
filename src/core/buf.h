/* buf: a growable byte buffer with a read offset.
 *
 * Used for socket input (bytes arrive at the end, parsed messages are consumed from the
 * front) and for output that is built up and written with one system call. Consuming is O(1):
 * the read offset moves, and the unread tail is moved to the front only when space is needed. */
#ifndef SB_CORE_BUF_H
#define SB_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data;  /* allocation */
    size_t off;  /* first unread byte */
    size_t len;  /* end of valid bytes (data[off..len) is the content) */
    size_t cap;
} buf_t;

#define BUF_INIT {0}

/* An empty buffer may have no allocation yet: its start and end are then an empty string, never
 * NULL + 0 (undefined in C, and callers pass them to memcpy and friends). */
static inline char *buf_start(const buf_t *b) { return b->data ? b->data + b->off : (char *)""; }
static inline size_t buf_size(const buf_t *b) { return b->len - b->off; }
static inline char *buf_end(const buf_t *b) { return b->data ? b->data + b->len : (char *)""; }
static inline size_t buf_room(const buf_t *b) { return b->cap - b->len; }

void buf_free(buf_t *b);
/* Make room for at least `extra` more bytes at the end. 0, or -ENOMEM. */
int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *p, size_t n);
static inline int buf_puts(buf_t *b, const char *s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop n bytes from the front; when the buffer empties, offsets go back to 0. */
void buf_consume(buf_t *b, size_t n);
static inline void buf_clear(buf_t *b) { b->off = b->len = 0; }
/* Writes the content to path ("-": standard output). 0, or -errno. */
int buf_write_file(const buf_t *b, const char *path);
/* Appends the whole of the file at path. 0, or -errno (what was read stays). */
int buf_read_file(buf_t *b, const char *path);
/* Mark n bytes written directly at buf_end() (after buf_reserve). */
static inline void buf_commit(buf_t *b, size_t n) { b->len += n; }

#include <string.h>
static inline int buf_puts(buf_t *b, const char *s) { return buf_append(b, s, strlen(s)); }

#endif
