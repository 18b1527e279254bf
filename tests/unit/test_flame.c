/* Tests for report/flame: a flame graph of known stacks is well-formed markup, every frame a
 * rectangle as wide as its share of the samples (callers as wide as their callees together,
 * plus their own), the root at the bottom, long names clipped with "..", every string
 * escaped, and a file of its own that starts with an XML declaration. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/buf.h"
#include "report/flame.h"
#include "t.h"
#include "tmarkup.h"

/* main;work;hot ×6, main;work ×3, main;<a&b>::a_very_long_function_name_of_a_rust_closure ×1 */
static void make_profile(prof_t *p)
{
    buf_t b = BUF_INIT;
    for (int i = 0; i < 6; i++)
        buf_puts(&b, "t 1 1.0: \n\t1 hot (/b)\n\t2 work (/b)\n\t3 main (/b)\n\n");
    for (int i = 0; i < 3; i++)
        buf_puts(&b, "t 1 1.0: \n\t2 work (/b)\n\t3 main (/b)\n\n");
    buf_puts(&b, "t 1 1.0: \n\t2 <a&b>::a_very_long_function_name_of_a_rust_closure (/b)\n"
                 "\t3 main (/b)\n\n");
    char err[256] = "";
    if (prof_fold(buf_start(&b), buf_size(&b), p, err, sizeof err))
        fprintf(stderr, "    fold: %s\n", err);
    buf_free(&b);
}

/* The width, y and samples of the frame named name (its data-frame as escaped). */
static bool frame(const char *svg, const char *name, double *w, double *y, long *samples)
{
    char key[256];
    snprintf(key, sizeof key, "<g data-frame=\"%s\" data-samples=\"", name);
    const char *at = strstr(svg, key);
    if (!at)
        return false;
    *samples = strtol(at + strlen(key), NULL, 10);
    const char *r = strstr(at, "<rect ");
    const char *wp = r ? strstr(r, " width=\"") : NULL, *yp = r ? strstr(r, " y=\"") : NULL;
    if (!wp || !yp)
        return false;
    *w = strtod(wp + 8, NULL);
    *y = strtod(yp + 4, NULL);
    return true;
}

TEST(flame_graph_is_well_formed_and_frames_are_sized_by_samples)
{
    prof_t p = {0};
    make_profile(&p);
    buf_t b = BUF_INIT;
    flame_svg(&b, &p, "flame-t", "csv · c tuned", 1000);
    buf_append(&b, "", 1); /* a C string for the checks */
    const char *s = buf_start(&b);
    char why[256];
    CHECK(t_markup_check(s, why, sizeof why) > 0);
    CHECK(strstr(s, "data-chart=\"flame-t\"") != NULL);
    CHECK(strstr(s, "<title>csv · c tuned</title>") != NULL);
    const char *fr = strstr(s, "<g class=\"frames\" data-samples=\"10\" data-width=\"");
    CHECK(fr != NULL);
    double plot = fr ? strtod(fr + strlen("<g class=\"frames\" data-samples=\"10\" data-width=\""), NULL) : 0;
    CHECK(fabs(plot - 980) < 0.05); /* 1000 less 10 px each side */
    double w[4], y[4];
    long n[4];
    static const char *const names[] = {"all", "main", "work", "hot"};
    static const long want[] = {10, 10, 9, 6};
    for (int i = 0; i < 4; i++) {
        CHECK(frame(s, names[i], &w[i], &y[i], &n[i]));
        CHECK_INT(n[i], want[i]);
        CHECK(fabs(w[i] - plot * (double)want[i] / 10) < 0.06); /* one decimal */
    }
    CHECK(y[0] > y[1] && y[1] > y[2] && y[2] > y[3]); /* the root at the bottom */
    /* The escaped name, whole in data-frame and title, clipped in its 98 px text. */
    double lw, ly;
    long ln;
    CHECK(frame(s, "&lt;a&amp;b&gt;::a_very_long_function_name_of_a_rust_closure", &lw, &ly, &ln));
    CHECK_INT(ln, 1);
    CHECK(fabs(lw - 98) < 0.06);
    CHECK(strstr(s, "..</text>") != NULL);
    CHECK(strstr(s, ">&lt;a&amp;b&gt;::a_very_long_function_name_of_a_rust_closure</text>") == NULL);
    buf_free(&b);
    prof_free(&p);
}

TEST(flame_graph_of_no_samples_is_still_an_svg)
{
    prof_t p = {0};
    buf_t b = BUF_INIT;
    flame_svg(&b, &p, "flame", "nothing", 0);
    buf_append(&b, "", 1); /* a C string for the checks */
    char why[256];
    CHECK(t_markup_check(buf_start(&b), why, sizeof why) > 0);
    CHECK(strstr(buf_start(&b), "viewBox=\"0 0 1200 ") != NULL);
    CHECK(strstr(buf_start(&b), "data-frame=") == NULL);
    buf_free(&b);
}

TEST(flame_file_has_an_xml_declaration_and_one_svg)
{
    prof_t p = {0};
    make_profile(&p);
    char path[] = "/tmp/sb-test-flame-XXXXXX", err[256] = "";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(flame_write(&p, "t", path, err, sizeof err), 0);
    buf_t b = BUF_INIT;
    CHECK_INT(buf_read_file(&b, path), 0);
    const char *s = buf_start(&b);
    static const char head[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"";
    CHECK(strncmp(s, head, sizeof head - 1) == 0);
    CHECK(strstr(strstr(s, "<svg") + 1, "<svg") == NULL);
    unlink(path);
    CHECK(flame_write(&p, "t", "/nonexistent/dir/f.svg", err, sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent/dir/f.svg") != NULL);
    buf_free(&b);
    prof_free(&p);
}

T_MAIN(T(flame_graph_is_well_formed_and_frames_are_sized_by_samples),
       T(flame_graph_of_no_samples_is_still_an_svg), T(flame_file_has_an_xml_declaration_and_one_svg))
