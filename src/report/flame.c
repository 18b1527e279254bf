/* flame: folded stacks as a flame graph (flame.h). */
#include "report/flame.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "report/svg.h"

#define FRAME_H 16.0
#define FONT 11.0
#define MARGIN 10.0
#define TOP 44.0                /* the title and the totals line */
#define MIN_PX 0.1

/* A node of the call tree: a frame under its caller, with every sample that went through it. */
typedef struct node {
    const char *name;
    size_t len;
    uint64_t total, self;
    struct node *child, *next;  /* first callee, next sibling (in name order) */
} node_t;

typedef struct {
    node_t *pool;
    size_t n, cap;
    int depth;                  /* the deepest stack */
} tree_t;

static node_t *tree_node(tree_t *t, const char *name, size_t len)
{
    if (t->n == t->cap)
        return NULL;
    node_t *nd = &t->pool[t->n++];
    *nd = (node_t){.name = name, .len = len};
    return nd;
}

static int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* The callee of parent named name, added in order when new. */
static node_t *tree_child(tree_t *t, node_t *parent, const char *name, size_t len)
{
    node_t **at = &parent->child;
    while (*at) {
        int c = name_cmp((*at)->name, (*at)->len, name, len);
        if (c == 0)
            return *at;
        if (c > 0)
            break;
        at = &(*at)->next;
    }
    node_t *nd = tree_node(t, name, len);
    if (nd) {
        nd->next = *at;
        *at = nd;
    }
    return nd;
}

/* The tree of p: at most one node per frame of every stack, the root first. NULL when out of
 * memory. */
static node_t *tree_build(tree_t *t, const prof_t *p)
{
    size_t frames = 1;
    for (size_t i = 0; i < p->n; i++) {
        frames++;
        for (const char *c = p->stacks[i].stack; *c; c++)
            frames += *c == ';';
    }
    t->pool = calloc(frames, sizeof *t->pool);
    t->cap = t->pool ? frames : 0;
    node_t *root = tree_node(t, "all", 3);
    if (!root)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        uint64_t n = p->stacks[i].count;
        node_t *at = root;
        root->total += n;
        int depth = 0;
        for (const char *c = p->stacks[i].stack;;) {
            const char *e = strchr(c, ';');
            size_t len = e ? (size_t)(e - c) : strlen(c);
            if (!(at = tree_child(t, at, c, len)))
                return NULL;
            at->total += n;
            depth++;
            if (!e)
                break;
            c = e + 1;
        }
        at->self += n;
        if (depth > t->depth)
            t->depth = depth;
    }
    return root;
}

/* A warm colour from the name (FNV-1a), as FlameGraph's default palette: red to yellow. */
static void frame_colour(char *out, size_t n, const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    bool kernel = len > 4 && memcmp(name + len - 4, "_[k]", 4) == 0;
    bool unknown = len && name[0] == '[';
    if (unknown)
        snprintf(out, n, "rgb(%u,%u,%u)", 180 + h % 30, 180 + h % 30, 180 + h % 30);
    else if (kernel)
        snprintf(out, n, "rgb(%u,%u,%u)", 230 + h % 20, 140 + (h >> 8) % 40, 40 + (h >> 16) % 30);
    else
        snprintf(out, n, "rgb(%u,%u,%u)", 205 + h % 50, 70 + (h >> 8) % 150, 40 + (h >> 16) % 40);
}

typedef struct {
    buf_t *b;
    svg_chart_t *c;
    double scale;              /* px a sample */
    double base;               /* the y of the root's bottom */
    uint64_t total;
} draw_t;

static void draw(const draw_t *d, const node_t *nd, double x, int depth)
{
    double w = (double)nd->total * d->scale;
    if (w < MIN_PX)
        return;
    buf_t *b = d->b;
    double y = d->base - (depth + 1) * FRAME_H;
    char name[1024];
    snprintf(name, sizeof name, "%.*s", (int)(nd->len < 1000 ? nd->len : 1000), nd->name);
    buf_puts(b, "<g data-frame=\"");
    svg_escape(b, name);
    buf_printf(b, "\" data-samples=\"%llu\"><title>", (unsigned long long)nd->total);
    svg_escape(b, name);
    buf_printf(b, " (%llu samples, %.2f %%)</title>", (unsigned long long)nd->total,
               d->total ? 100.0 * (double)nd->total / (double)d->total : 0);
    char fill[32];
    frame_colour(fill, sizeof fill, nd->name, nd->len);
    buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                  "rx=\"2\"/>",
               x, y, w, FRAME_H - 1, fill);
    /* The name when at least three characters and the dots fit. */
    double room = w - 6, each = svg_text_width("m", FONT);
    int fit = (int)(room / each);
    if (fit >= 3) {
        char shown[1024];
        size_t chars = 0, cut = 0;
        for (size_t i = 0; name[i]; i++)
            if (((unsigned char)name[i] & 0xC0) != 0x80 && ++chars == (size_t)fit - 1)
                cut = i;
        if ((int)chars > fit) {
            snprintf(shown, sizeof shown, "%.*s..", (int)cut, name);
        } else {
            snprintf(shown, sizeof shown, "%s", name);
        }
        svg_text(d->c, x + 3, y + FRAME_H - 4.5, "start", FONT, shown);
    }
    buf_puts(b, "</g>\n");
    for (const node_t *ch = nd->child; ch; ch = ch->next) {
        draw(d, ch, x, depth + 1);
        x += (double)ch->total * d->scale;
    }
}

void flame_svg(buf_t *out, const prof_t *p, const char *name, const char *title,
               double width)
{
    if (width <= 0)
        width = FLAME_WIDTH;
    tree_t t = {0};
    node_t *root = tree_build(&t, p);
    int depth = root ? t.depth : 0;
    double height = TOP + (depth + 1) * FRAME_H + MARGIN;
    svg_chart_t c;
    svg_begin(&c, out, name, title, width, height);
    buf_printf(out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fdfcf8\"/>", width, height);
    svg_text(&c, width / 2, 18, "middle", 14, title);
    char line[160], cpu[32];
    fmt_duration(cpu, sizeof cpu, (double)p->samples * (double)p->period_ns);
    snprintf(line, sizeof line, "%llu samples at %d Hz (%s of CPU), %s stacks; width: share of "
                                "samples, bottom to top: caller to callee",
             (unsigned long long)p->samples, PROF_HZ, cpu, prof_unwind_name(p->unwind));
    svg_text(&c, width / 2, 34, "middle", 10.5, line);
    double plot = width - 2 * MARGIN;
    buf_printf(out, "<g class=\"frames\" data-samples=\"%llu\" data-width=\"%.1f\">\n",
               (unsigned long long)p->samples, plot);
    if (root && root->total) {
        draw_t d = {out, &c, plot / (double)root->total, height - MARGIN, root->total};
        draw(&d, root, MARGIN, 0);
    }
    buf_puts(out, "</g>");
    svg_end(&c);
    free(t.pool);
}

int flame_write(const prof_t *p, const char *title, const char *path, char *err,
                size_t errlen)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    flame_svg(&b, p, "flame", title, FLAME_WIDTH);
    int rc = buf_write_file(&b, path);
    buf_free(&b);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return -1;
    }
    return 0;
}
