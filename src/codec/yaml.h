/* yaml: the decision's YAML files (decide/profile.h, prices.h, mesh.h) loaded with libyaml into
 * a tree of nodes that know where they were written, and read back with typed readers. Every
 * error is one line for the person who wrote the file: "NAME:LINE:COLUMN: what is wrong", e.g.
 *     profile.yaml:7:14: service.p99_slo_ms: expected a number > 0, got "fast"
 * (unlike the rest of codec/, which returns codes: here where a value was written is most of
 * what the reader of the message needs).
 *
 * A subset of YAML, on purpose, for files people write by hand:
 *   - one document per file; no anchors, aliases or tags (each refused with a message);
 *   - a mapping's keys are scalars, each at most once in its mapping;
 *   - nesting at most YDOC_MAX_DEPTH deep;
 *   - scalars typed as YAML 1.2's core schema types them, as far as these files need: a number
 *     is a plain scalar in decimal (5, -2, 0.6, 1e3; not 0x1F, .inf or 1_000), a boolean is a
 *     plain true or false (yes, no, on and off, booleans in YAML 1.1, are not), a quoted scalar
 *     is a string and nothing else. A string is any scalar, quoted or not.
 * Lines and columns are 1-based (libyaml's marks are 0-based), columns counted in characters. */
#ifndef SB_CODEC_YAML_H
#define SB_CODEC_YAML_H

#include <stdbool.h>
#include <stddef.h>

#define YDOC_MAX_DEPTH 64

typedef enum { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } ynode_kind_t;

typedef struct ynode ynode_t;
struct ynode {
    ynode_kind_t kind;
    int line, column;     /* where it starts (a flow collection: at its '[' or '{') */
    ynode_t *first, *last; /* a sequence's elements, a mapping's keys, in the order written */
    int n;                /* how many */
    ynode_t *next;        /* the next element of its sequence, the next key of its mapping */
    ynode_t *value;       /* a mapping's key: its value */
    ynode_t *all;         /* the next node of the document (for ydoc_free) */
    bool plain;           /* a scalar written without quotes: only those are numbers, booleans */
    size_t len;           /* a scalar: the bytes of text (which may hold a NUL: "\0") */
    char text[];          /* a scalar: its value, NUL-terminated; "" for a collection */
};

typedef struct {
    const char *name;     /* for messages, as given (not copied) */
    ynode_t *root;        /* NULL: the text holds no document (empty, or only comments) */
    char *err;            /* where the readers write their message */
    size_t errlen;
    ynode_t *nodes;       /* every node, linked by ynode_t.all */
} ydoc_t;

/* Loads text[0..len) (name: for messages). Syntax errors are libyaml's problem at its mark,
 * with its context: "NAME:3:1: could not find expected ':' (while scanning a simple key at
 * 2:1)". 0, or -1 with the message in err (nothing then to free). The readers below write
 * their messages to the same err. */
int ydoc_load(ydoc_t *d, const char *name, const char *text, size_t len, char *err,
              size_t errlen);
/* The same from the file at path (which is then its name): unreadable, "PATH: strerror". */
int ydoc_load_file(ydoc_t *d, const char *path, char *err, size_t errlen);
/* The file at path, or with path NULL the shipped examples/EXAMPLE compiled into the binary
 * (core/embed.h; its name in messages is "examples/EXAMPLE"). */
int ydoc_load_input(ydoc_t *d, const char *path, const char *example, char *err, size_t errlen);
void ydoc_free(ydoc_t *d);

/* "NAME:LINE:COLUMN: " at node at (NULL: 1:1), then the message. Always -1. */
int ydoc_fail(const ydoc_t *d, const ynode_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "NAME:L:C: PATH: expected WHAT, got X" at n, X being the scalar in double quotes (cut at 40
 * bytes, control characters as '?'), "nothing" for an empty plain scalar or n NULL, "a
 * mapping", "a sequence". Always -1. */
int ydoc_expected(const ydoc_t *d, const ynode_t *n, const char *path, const char *what);

/* The value of map's member key, or NULL (no such key, or map NULL or not a mapping). */
const ynode_t *ynode_get(const ynode_t *map, const char *key);

/* That map (at PATH, "" for the file's top) is a mapping whose keys are all among known, and
 * holds every key of required (both NULL-terminated; required may be NULL). Messages:
 *     PATH: expected a mapping, got "x"
 *     PATH: unknown key "cpu" (known: name, vcpu, gib)       at the key
 *     PATH: missing key "date"                                at the mapping
 * (without "PATH: " at the top). 0 or -1. */
int ydoc_keys(const ydoc_t *d, const ynode_t *map, const char *path, const char *const *known,
              const char *const *required);

/* The typed readers: the member key of map (which ydoc_keys checked), its path for messages
 * being PATH.KEY (KEY at the top). An absent member leaves *out as it was: defaults are the
 * caller's, and so is requiring a key (ydoc_keys). 0, or -1 with the message. */

/* A number x with lo < x <= hi (hi HUGE_VAL: no bound): "expected a number > 0" or "expected a
 * number > 0 and <= 1". Finite always. */
int ydoc_double(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
                double lo, double hi, double *out);
/* An integer with lo <= x <= hi: "expected an integer >= 0" (hi INT_MAX) or "expected an
 * integer from 1 to 744". */
int ydoc_int(const ydoc_t *d, const ynode_t *map, const char *path, const char *key, int lo,
             int hi, int *out);
/* true or false: "expected true or false". */
int ydoc_bool(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
              bool *out);
/* A non-empty string without control characters (no NUL, no line end: what is read goes
 * into messages of one line), of at most cap - 1 bytes: "expected a string", "expected a
 * string without control characters", "expected a string of at most 31 bytes, got 40". */
int ydoc_str(const ydoc_t *d, const ynode_t *map, const char *path, const char *key, char *out,
             size_t cap);
/* One of names[0..n) as written, *out its index: "expected none, junior, mid or senior". */
int ydoc_enum(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
              const char *const *names, int n, int *out);
/* A sequence, *out the node (absent: *out NULL): "expected a sequence". */
int ydoc_seq(const ydoc_t *d, const ynode_t *map, const char *path, const char *key,
             const ynode_t **out);

#endif
