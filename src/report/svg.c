/* svg: the report's charts (svg.h). */
#include "report/svg.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- the escape ---- */

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return n;
}

void svg_escape(buf_t *out, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t n = utf8_len(p + i, len - i);
            if (n) {
                buf_append(out, p + i, n);
                i += n;
            } else {
                buf_puts(out, "\xEF\xBF\xBD");
                i++;
            }
            continue;
        }
        switch (c) {
        case '&': buf_puts(out, "&amp;"); break;
        case '<': buf_puts(out, "&lt;"); break;
        case '>': buf_puts(out, "&gt;"); break;
        case '"': buf_puts(out, "&quot;"); break;
        case '\'': buf_puts(out, "&#39;"); break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
                buf_append(out, &c, 1);
        }
        i++;
    }
}

/* ---- scales and ticks ---- */

void svg_scale_init(svg_scale_t *s, double d0, double d1, double r0, double r1, bool log)
{
    *s = (svg_scale_t){d0, d1, r0, r1, log};
}

double svg_map(const svg_scale_t *s, double v)
{
    double t;
    if (s->log) {
        double a = log10(s->d0), b = log10(s->d1);
        t = v > 0 ? (log10(v) - a) / (b - a) : 0;
    } else {
        t = s->d1 != s->d0 ? (v - s->d0) / (s->d1 - s->d0) : 0;
    }
    return s->r0 + t * (s->r1 - s->r0);
}

/* The thresholds between 1, 2, 5 and 10 are their geometric means, so the step chosen is the
 * nearest on a log scale to span / target. */
double svg_nice_step(double span, int target)
{
    if (!(span > 0) || !isfinite(span) || target < 1)
        return 1;
    double raw = span / target;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double k = norm < 1.4142 ? 1 : norm < 3.1623 ? 2 : norm < 7.0711 ? 5 : 10;
    return k * mag;
}

void svg_nice_bounds(double *lo, double *hi, int target)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
    if (!(*hi > *lo)) {
        double d = *lo != 0 ? fabs(*lo) * 0.1 : 1;
        *lo = *lo == 0 ? 0 : *lo - d;
        *hi = *hi + d;
    }
    double step = svg_nice_step(*hi - *lo, target);
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
}

int svg_ticks(double lo, double hi, double step, double *out, int max)
{
    if (!(step > 0) || !(hi >= lo))
        return 0;
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    int n = 0;
    for (double k = k0; k <= k1 && n < max; k++) {
        double t = k * step;
        out[n++] = fabs(t) < step * 1e-9 ? 0 : t;
    }
    return n;
}

void svg_log_bounds(double *lo, double *hi)
{
    if (!(*lo > 0))
        *lo = *hi > 0 ? *hi / 10 : 1;
    if (!(*hi > *lo))
        *hi = *lo * 10;
    *lo = pow(10, floor(log10(*lo) + 1e-9));
    *hi = pow(10, ceil(log10(*hi) - 1e-9));
    if (!(*hi > *lo))
        *hi = *lo * 10;
}

int svg_log_ticks(double lo, double hi, double *out, int max)
{
    if (!(lo > 0) || !(hi >= lo))
        return 0;
    double decades = log10(hi / lo);
    static const double fine[] = {1, 2, 5}, whole[] = {1};
    const double *m = decades <= 2 + 1e-9 ? fine : whole;
    int nm = decades <= 2 + 1e-9 ? 3 : 1;
    int n = 0;
    for (int d = (int)floor(log10(lo) + 1e-9); n < max && d <= (int)ceil(log10(hi)); d++)
        for (int k = 0; k < nm && n < max; k++) {
            double t = m[k] * pow(10, d);
            if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9))
                out[n++] = t;
        }
    return n;
}

bool svg_wants_log(double lo, double hi)
{
    return lo > 0 && hi > 0 && log10(hi / lo) > 1.5;
}

/* ---- the chart ---- */

/* A coordinate with one decimal; never "-0.0". */
static void coord(buf_t *b, double v)
{
    if (!isfinite(v) || fabs(v) < 0.05)
        v = 0;
    buf_printf(b, "%.1f", v);
}

/* "x,y" */
static void point(buf_t *b, double x, double y)
{
    coord(b, x);
    buf_puts(b, ",");
    coord(b, y);
}

static void attr_num(buf_t *b, const char *name, double v)
{
    buf_printf(b, " %s=\"", name);
    coord(b, v);
    buf_puts(b, "\"");
}

static void attr_str(buf_t *b, const char *name, const char *v)
{
    buf_printf(b, " %s=\"", name);
    svg_escape(b, v);
    buf_puts(b, "\"");
}

void svg_begin(svg_chart_t *c, buf_t *out, const char *name, const char *title, double width,
               double height)
{
    memset(c, 0, sizeof *c);
    c->out = out;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->width = width;
    c->height = height;
    c->left = 64;
    c->right = width - 16;
    c->top = 28;
    c->bottom = height - 40;
    buf_puts(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\"");
    attr_str(out, "data-chart", c->name);
    buf_printf(out, " viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
                    "font-family=\"system-ui, sans-serif\" font-size=\"11\" fill=\"#222\">",
               width, height, width, height);
    buf_puts(out, "<title>");
    svg_escape(out, title);
    buf_puts(out, "</title><defs><pattern");
    char id[96];
    snprintf(id, sizeof id, "%s-hatch", c->name);
    attr_str(out, "id", id);
    buf_puts(out, " width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
                  "patternTransform=\"rotate(45)\"><rect width=\"2.2\" height=\"6\" "
                  "fill=\"#fff\" fill-opacity=\"0.7\"/></pattern></defs>\n");
}

void svg_end(svg_chart_t *c)
{
    buf_puts(c->out, "</svg>\n");
}

void svg_set_x(svg_chart_t *c, double lo, double hi, bool log)
{
    svg_scale_init(&c->x, lo, hi, c->left, c->right, log);
}

void svg_set_y(svg_chart_t *c, double lo, double hi, bool log)
{
    svg_scale_init(&c->y, lo, hi, c->bottom, c->top, log);
}

void svg_text(svg_chart_t *c, double x, double y, const char *anchor, double size,
              const char *text)
{
    buf_puts(c->out, "<text");
    attr_num(c->out, "x", x);
    attr_num(c->out, "y", y);
    buf_printf(c->out, " text-anchor=\"%s\" font-size=\"%g\">", anchor, size);
    svg_escape(c->out, text);
    buf_puts(c->out, "</text>");
}

static void line(buf_t *b, double x1, double y1, double x2, double y2, const char *stroke)
{
    buf_puts(b, "<line");
    attr_num(b, "x1", x1);
    attr_num(b, "y1", y1);
    attr_num(b, "x2", x2);
    attr_num(b, "y2", y2);
    buf_printf(b, " stroke=\"%s\"/>", stroke);
}

void svg_axis_y(svg_chart_t *c, const double *ticks, int n, svg_fmt_fn fmt, const char *title)
{
    buf_t *b = c->out;
    buf_puts(b, "<g class=\"axis-y\">");
    for (int i = 0; i < n; i++) {
        double y = svg_map(&c->y, ticks[i]);
        if (y < c->top - 0.5 || y > c->bottom + 0.5)
            continue;
        line(b, c->left, y, c->right, y, "#e3e3e3");
        char label[48];
        fmt(label, sizeof label, ticks[i]);
        svg_text(c, c->left - 6, y + 3.5, "end", 10, label);
    }
    line(b, c->left, c->top, c->left, c->bottom, "#888");
    if (title && *title) {
        buf_puts(b, "<text");
        buf_puts(b, " transform=\"translate(");
        point(b, 12, (c->top + c->bottom) / 2);
        buf_puts(b, ") rotate(-90)\" text-anchor=\"middle\" font-size=\"10.5\">");
        svg_escape(b, title);
        buf_puts(b, "</text>");
    }
    buf_puts(b, "</g>\n");
}

void svg_axis_x(svg_chart_t *c, const double *ticks, int n, svg_fmt_fn fmt, const char *title)
{
    buf_t *b = c->out;
    buf_puts(b, "<g class=\"axis-x\">");
    for (int i = 0; i < n; i++) {
        double x = svg_map(&c->x, ticks[i]);
        if (x < c->left - 0.5 || x > c->right + 0.5)
            continue;
        line(b, x, c->top, x, c->bottom, "#f0f0f0");
        line(b, x, c->bottom, x, c->bottom + 4, "#888");
        char label[48];
        fmt(label, sizeof label, ticks[i]);
        svg_text(c, x, c->bottom + 15, "middle", 10, label);
    }
    line(b, c->left, c->bottom, c->right, c->bottom, "#888");
    if (title && *title)
        svg_text(c, (c->left + c->right) / 2, c->bottom + 31, "middle", 10.5, title);
    buf_puts(b, "</g>\n");
}

/* ---- bars ---- */

double svg_text_width(const char *s, double size)
{
    double n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n * size * (6 / 10.5);
}

/* A label's width at 10.5 px: about 6 px a character. */
static double text_width(const char *s)
{
    return svg_text_width(s, 10.5);
}


static void rect(svg_chart_t *c, double x, double y, double w, double h, const svg_seg_t *s)
{
    buf_t *b = c->out;
    buf_puts(b, "<rect");
    attr_num(b, "x", x);
    attr_num(b, "y", y);
    attr_num(b, "width", w);
    attr_num(b, "height", h);
    if (s->hollow) {
        buf_puts(b, " fill=\"#fff\"");
        attr_str(b, "stroke", s->fill);
        buf_puts(b, " stroke-width=\"1.5\"");
    } else {
        attr_str(b, "fill", s->fill);
    }
    buf_puts(b, "/>");
    if (s->hatch) {
        buf_puts(b, "<rect");
        attr_num(b, "x", x);
        attr_num(b, "y", y);
        attr_num(b, "width", w);
        attr_num(b, "height", h);
        buf_puts(b, " fill=\"url(#");
        svg_escape(b, c->name);
        buf_puts(b, "-hatch)\"/>");
    }
}

void svg_bars(svg_chart_t *c, const svg_group_t *g, int n)
{
    if (n <= 0)
        return;
    buf_t *b = c->out;
    double gw = (c->right - c->left) / n;
    double base = c->bottom;
    for (int i = 0; i < n; i++) {
        double gx = c->left + i * gw, mid = gx + gw / 2;
        buf_puts(b, "<g class=\"group\"");
        if (g[i].id)
            attr_str(b, "data-bar", g[i].id);
        buf_puts(b, ">");
        int nb = g[i].nbar > SVG_MAX_GROUP ? SVG_MAX_GROUP : g[i].nbar;
        double bw = nb > 0 ? gw * 0.72 / nb : 0;
        if (bw > 56)
            bw = 56;
        double x = mid - bw * nb / 2;
        for (int k = 0; k < nb; k++, x += bw) {
            const svg_bar_t *bar = &g[i].bar[k];
            buf_puts(b, "<g>");
            if (bar->title) {
                buf_puts(b, "<title>");
                svg_escape(b, bar->title);
                buf_puts(b, "</title>");
            }
            double sum = 0, ytop = base;
            for (int s = 0; s < bar->nseg && s < SVG_MAX_STACK; s++) {
                const svg_seg_t *seg = &bar->seg[s];
                if (!(seg->v > 0))
                    continue;
                double y0 = svg_map(&c->y, sum > 0 ? sum : c->y.d0);
                sum += seg->v;
                double y1 = svg_map(&c->y, sum);
                if (y1 < c->top)
                    y1 = c->top;
                if (y0 > base)
                    y0 = base;
                rect(c, x + 1, y1, bw - 2, y0 - y1 > 0 ? y0 - y1 : 0, seg);
                ytop = y1;
            }
            if (bar->value) {
                /* 10 px unless that is wider than the bar's share of the group: then smaller,
                 * down to 7 px, so that neighbours' labels do not run into each other */
                double size = 10, room = gw * 0.96 / nb, w = text_width(bar->value) / 6 * 0.58;
                if (w * size > room)
                    size = room / w < 7 ? 7 : room / w;
                buf_puts(b, "<text class=\"value\"");
                attr_num(b, "x", x + bw / 2);
                attr_num(b, "y", ytop - 4);
                buf_printf(b, " text-anchor=\"middle\" font-size=\"%.1f\">", size);
                svg_escape(b, bar->value);
                buf_puts(b, "</text>");
            }
            buf_puts(b, "</g>");
        }
        if (g[i].note)
            svg_text(c, mid, base - 8, "middle", 10.5, g[i].note);
        if (g[i].label)
            svg_text(c, mid, c->bottom + 14, "middle", 10.5, g[i].label);
        if (g[i].sublabel)
            svg_text(c, mid, c->bottom + 27, "middle", 10, g[i].sublabel);
        buf_puts(b, "</g>\n");
    }
    line(b, c->left, base, c->right, base, "#888");
}

/* ---- lines ---- */

static void marker(svg_chart_t *c, double x, double y, const svg_line_t *st, const char *title)
{
    buf_t *b = c->out;
    const char *fill = st->hollow ? "#fff" : st->stroke;
    switch (st->mark) {
    case SVG_MARK_CIRCLE:
        buf_puts(b, "<circle");
        attr_num(b, "cx", x);
        attr_num(b, "cy", y);
        buf_puts(b, " r=\"3.2\"");
        break;
    case SVG_MARK_SQUARE:
        buf_puts(b, "<rect");
        attr_num(b, "x", x - 3);
        attr_num(b, "y", y - 3);
        buf_puts(b, " width=\"6\" height=\"6\"");
        break;
    case SVG_MARK_TRIANGLE:
    case SVG_MARK_DIAMOND:
        if (st->mark == SVG_MARK_TRIANGLE) {
            buf_puts(b, "<path d=\"M");
            point(b, x, y - 4);
            buf_puts(b, " L");
            point(b, x + 4, y + 3);
            buf_puts(b, " L");
            point(b, x - 4, y + 3);
        } else {
            buf_puts(b, "<path d=\"M");
            point(b, x, y - 4.5);
            buf_puts(b, " L");
            point(b, x + 4.5, y);
            buf_puts(b, " L");
            point(b, x, y + 4.5);
            buf_puts(b, " L");
            point(b, x - 4.5, y);
        }
        buf_puts(b, " Z\"");
        break;
    case SVG_MARK_NONE:
        return;
    }
    attr_str(b, "fill", fill);
    attr_str(b, "stroke", st->stroke);
    buf_puts(b, " stroke-width=\"1.3\"");
    if (title && *title) {
        buf_puts(b, "><title>");
        svg_escape(b, title);
        buf_puts(b, st->mark == SVG_MARK_CIRCLE ? "</title></circle>"
                    : st->mark == SVG_MARK_SQUARE ? "</title></rect>"
                                                  : "</title></path>");
    } else {
        buf_puts(b, "/>");
    }
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void stroke_attrs(buf_t *b, const svg_line_t *st)
{
    attr_str(b, "stroke", st->stroke);
    buf_printf(b, " stroke-width=\"%.1f\"", st->width > 0 ? st->width : 1.5);
    if (st->dash)
        attr_str(b, "stroke-dasharray", st->dash);
}

void svg_polyline(svg_chart_t *c, const double *x, const double *y, int n, const svg_line_t *st,
                  const char *series, svg_title_fn title, const void *arg)
{
    buf_t *b = c->out;
    buf_puts(b, "<g class=\"series\"");
    if (series)
        attr_str(b, "data-series", series);
    buf_puts(b, ">");
    bool open = false;
    for (int i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i])) {
            if (open)
                buf_puts(b, "\"/>");
            open = false;
            continue;
        }
        double px = clampd(svg_map(&c->x, x[i]), c->left, c->right);
        double py = clampd(svg_map(&c->y, y[i]), c->top, c->bottom);
        if (!open) {
            buf_puts(b, "<polyline fill=\"none\" stroke-linejoin=\"round\"");
            stroke_attrs(b, st);
            buf_puts(b, " points=\"");
            open = true;
        } else {
            buf_puts(b, " ");
        }
        point(b, px, py);
    }
    if (open)
        buf_puts(b, "\"/>");
    if (st->mark != SVG_MARK_NONE && st->mark_every > 0)
        for (int i = 0; i < n; i++) {
            if (isnan(x[i]) || isnan(y[i]) || (i % st->mark_every != 0 && i != n - 1))
                continue;
            char t[160] = "";
            if (title)
                title(t, sizeof t, i, arg);
            marker(c, clampd(svg_map(&c->x, x[i]), c->left, c->right),
                   clampd(svg_map(&c->y, y[i]), c->top, c->bottom), st, t);
        }
    buf_puts(b, "</g>\n");
}

/* ---- legend ---- */

void svg_legend(svg_chart_t *c, const svg_key_t *k, int n)
{
    buf_t *b = c->out;
    buf_puts(b, "<g class=\"legend\">");
    double x = c->left, y = 14;
    int rows = 1;
    for (int i = 0; i < n; i++) {
        double w = 26 + text_width(k[i].label) + 14;
        if (x > c->left && x + w > c->width - 8) {
            x = c->left;
            y += 16;
            rows++;
        }
        if (k[i].line) {
            svg_line_t st = *k[i].line;
            buf_puts(b, "<line");
            attr_num(b, "x1", x);
            attr_num(b, "y1", y - 3.5);
            attr_num(b, "x2", x + 22);
            attr_num(b, "y2", y - 3.5);
            stroke_attrs(b, &st);
            buf_puts(b, "/>");
            marker(c, x + 11, y - 3.5, &st, NULL);
        } else if (k[i].swatch) {
            rect(c, x + 5, y - 10, 12, 10, k[i].swatch);
        }
        svg_text(c, x + 26, y, "start", 10.5, k[i].label);
        x += w;
    }
    buf_puts(b, "</g>\n");
    c->top += 16 * (rows - 1);
}
