/* flame: a flame graph of folded stacks (telemetry/profile.h) as SVG. Each frame a rectangle
 * whose width is its samples' share of the whole (its own and its callees'), its callers under
 * it, the root at the bottom; siblings in name order (a flame graph's x axis is not time).
 * Names are clipped to their rectangle ("..") and whole in each rectangle's <title> with its
 * samples and share; frames narrower than 0.1 px are left out. Colours are warm hues picked
 * by the name's hash (the same function has the same colour in every graph), kernel frames
 * ("_[k]") orange, unknown ones grey. No script, no external font: a file of its own that
 * opens anywhere, and the same <svg> embeds in report.html.
 *
 * Markup a test reads: the <svg> has data-chart="NAME" (report/svg.h's frame); the frames are
 * in <g class="frames" data-samples="TOTAL" data-width="PX">, each a <g data-frame="FUNCTION"
 * data-samples="N"> holding its <rect> (and its <text> when it fits). */
#ifndef SB_REPORT_FLAME_H
#define SB_REPORT_FLAME_H

#include <stddef.h>

#include "core/buf.h"
#include "telemetry/profile.h"

#define FLAME_WIDTH 1200

/* The <svg> of p, width px wide (0: FLAME_WIDTH), with title over it, appended to out; name
 * is its data-chart (unique in a page: "flame-csv-c-tuned"). */
void flame_svg(buf_t *out, const prof_t *p, const char *name, const char *title,
               double width);
/* A file of its own (an XML declaration, then flame_svg). 0, or -1 with the reason in err. */
int flame_write(const prof_t *p, const char *title, const char *path, char *err,
                size_t errlen);

#endif
