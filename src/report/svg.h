/* svg: the report's charts, as inline SVG written into a buffer. A chart is a frame (its size,
 * margins and plot area), two scales (linear or log10), axes with nice ticks (1-2-5 steps on
 * a linear scale, 1-2-5 or whole decades on a log one), and marks: bars (grouped and stacked,
 * each with its value written above it), polylines with markers, a legend. Everything is drawn
 * with presentation attributes, so a chart reads the same pasted alone into a file; coordinates
 * have one decimal, so the same figures give the same bytes.
 *
 * There is no well-kept C library for charts: this is the small part of one the report needs.
 * Hover values are <title> children (the browser's own tooltip): no script.
 *
 * Every string that reaches the output goes through svg_escape, the report's one escape (the
 * page, report/html.h, uses it too). */
#ifndef SB_REPORT_SVG_H
#define SB_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* The one escape of the report, for text and for attribute values in double or single quotes,
 * in HTML and in SVG alike: & < > " ' as entities; control characters other than tab, newline
 * and carriage return dropped (XML forbids them); bytes that are not UTF-8 become U+FFFD. */
void svg_escape(buf_t *out, const char *s);

/* ---- scales and ticks ---- */

/* Maps the domain [d0, d1] onto the range [r0, r1] (pixels), linearly or by log10 (then d0 and
 * d1 must be > 0). */
typedef struct {
    double d0, d1, r0, r1;
    bool log;
} svg_scale_t;

void svg_scale_init(svg_scale_t *s, double d0, double d1, double r0, double r1, bool log);
/* v in range units. Not clamped; on a log scale v <= 0 maps to r0's side (as d0). */
double svg_map(const svg_scale_t *s, double v);

/* The 1-2-5 step (1, 2 or 5 × 10^k) that cuts span into about target intervals. */
double svg_nice_step(double span, int target);
/* [*lo, *hi] widened to multiples of its nice step for target intervals (a zero span becomes
 * one step around the value; lo 0 stays 0). */
void svg_nice_bounds(double *lo, double *hi, int target);
/* The multiples of step in [lo, hi] (a hair of rounding allowed at both ends) into out[max];
 * returns how many. */
int svg_ticks(double lo, double hi, double step, double *out, int max);
/* [*lo, *hi] (both > 0) widened to whole decades (at least one). */
void svg_log_bounds(double *lo, double *hi);
/* Ticks of a log scale on [lo, hi]: 1, 2 and 5 of each decade when it spans at most two
 * decades, else each decade. Returns how many (at most max). */
int svg_log_ticks(double lo, double hi, double *out, int max);
/* Whether values from lo to hi (> 0) read better on a log scale: they span more than 1.5
 * decades. */
bool svg_wants_log(double lo, double hi);

/* ---- a chart ---- */

typedef struct {
    buf_t *out;
    char name[64];                /* data-chart, and the prefix of the chart's ids */
    double width, height;         /* the viewBox, px */
    double left, right, top, bottom; /* the plot area, px (y grows downwards: top < bottom) */
    svg_scale_t x, y;
} svg_chart_t;

/* Opens <svg data-chart="name"> of width × height with its <title> and the hatch pattern its
 * bars may use; the plot area has room for the axes' labels (left 64, right 16, top 28,
 * bottom 40): change the four fields before setting the scales to make other room. */
void svg_begin(svg_chart_t *c, buf_t *out, const char *name, const char *title, double width,
               double height);
void svg_end(svg_chart_t *c);
/* The scales over the current plot area: x from left to right, y from bottom to top. */
void svg_set_x(svg_chart_t *c, double lo, double hi, bool log);
void svg_set_y(svg_chart_t *c, double lo, double hi, bool log);

/* A tick label for people: fmt(out, n, value). */
typedef void (*svg_fmt_fn)(char *out, size_t n, double v);
/* The y axis: a grid line and a label per tick, and its title rotated along it. */
void svg_axis_y(svg_chart_t *c, const double *ticks, int n, svg_fmt_fn fmt, const char *title);
/* The x axis: a tick and a label per tick (faint vertical grid lines), its title under it. */
void svg_axis_x(svg_chart_t *c, const double *ticks, int n, svg_fmt_fn fmt, const char *title);

/* About how wide s is in px at font size size (system-ui): 0.57 em a character, UTF-8
 * continuation bytes not counted. For labels that must fit (bars, a flame graph's frames). */
double svg_text_width(const char *s, double size);

/* Text at (x, y) px; anchor "start", "middle" or "end". */
void svg_text(svg_chart_t *c, double x, double y, const char *anchor, double size,
              const char *text);

/* ---- bars ---- */

#define SVG_MAX_STACK 4
#define SVG_MAX_GROUP 4

/* A segment of a bar, in y units; v NAN or <= 0: not drawn. */
typedef struct {
    double v;
    const char *fill;             /* a CSS colour */
    bool hatch;                   /* white diagonal stripes over it */
    bool hollow;                  /* an outline in fill, white inside */
} svg_seg_t;

typedef struct {
    svg_seg_t seg[SVG_MAX_STACK]; /* bottom up */
    int nseg;
    const char *value;            /* the label over the bar (formatted by the caller), or NULL */
    const char *title;            /* hover text, or NULL */
} svg_bar_t;

/* A category of the x axis: its bars side by side, its label in two lines under them. */
typedef struct {
    const char *label, *sublabel; /* sublabel NULL: one line */
    svg_bar_t bar[SVG_MAX_GROUP];
    int nbar;
    const char *note;             /* said where the bars would be ("failed"), or NULL */
    const char *id;               /* the group's data-bar attribute, or NULL */
} svg_group_t;

/* The groups spread evenly over the plot area (x is not a scale here), bars from y's domain
 * low end (0 on a linear scale), each value label over its bar. */
void svg_bars(svg_chart_t *c, const svg_group_t *g, int n);

/* ---- lines ---- */

typedef enum { SVG_MARK_NONE, SVG_MARK_CIRCLE, SVG_MARK_SQUARE, SVG_MARK_TRIANGLE,
               SVG_MARK_DIAMOND } svg_mark_t;

typedef struct {
    const char *stroke;           /* a CSS colour */
    const char *dash;             /* stroke-dasharray ("6 3"), NULL: solid */
    double width;                 /* 0: 1.5 */
    svg_mark_t mark;
    bool hollow;                  /* markers white inside */
    int mark_every;               /* a marker on every Nth point, and on the last (0: none) */
} svg_line_t;

/* A point's hover text: title(out, n, i, arg). */
typedef void (*svg_title_fn)(char *out, size_t n, int i, const void *arg);

/* A polyline through (x[i], y[i]) in data units, clamped to the plot area; a NAN breaks it.
 * series names it (data-series); title, when given, puts each marker's hover text. */
void svg_polyline(svg_chart_t *c, const double *x, const double *y, int n, const svg_line_t *st,
                  const char *series, svg_title_fn title, const void *arg);

/* ---- legend ---- */

typedef struct {
    const char *label;
    const svg_line_t *line;       /* a sample of the line with its marker, or NULL */
    const svg_seg_t *swatch;      /* a sample of the bar, or NULL */
} svg_key_t;

/* The keys in rows above the plot area, which it moves down by the rows it needed beyond the
 * first: call it before the scales. */
void svg_legend(svg_chart_t *c, const svg_key_t *k, int n);

#endif
