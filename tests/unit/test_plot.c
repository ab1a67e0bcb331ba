/* test_plot.c — gnuplot plots: KM of the lung data to PNG and SVG, line
 * plots, stacked bars (the cost breakdown of `syfosim run`), and the
 * failure paths (bad directory, bad extension, bad bar values, gnuplot
 * error, gnuplot missing) leaving no file behind.  Skips (passes with a
 * message) where gnuplot is not installed, apart from the input checks and
 * the "missing" test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syfosim/error.h"
#include "syfosim/km.h"
#include "syfosim/plot.h"

static char dir[64];

static int have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/syf-plot-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (getenv("SYF_KEEP_PLOTS") == NULL)
                unlink(p);
        }
        closedir(d);
    }
    if (getenv("SYF_KEEP_PLOTS") == NULL)
        rmdir(dir);
    return 0;
}

/* Names of the files in dir, sorted into one comma-separated string. */
static void list_dir(char *out, size_t cap)
{
    char names[16][256];
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 16)
        if (e->d_name[0] != '.')
            snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char t[256];
                memcpy(t, names[i], 256);
                memcpy(names[i], names[j], 256);
                memcpy(names[j], t, 256);
            }
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
    }
}

static syf_km *lung_km(void)
{
    FILE *f = fopen("tests/data/lung.csv", "r");
    assert_non_null(f);
    static double time[300];
    static int event[300];
    static size_t sex[300];
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    size_t n = 0;
    double t, age, s, inst;
    int status;
    while (n < 300 && fgets(line, sizeof line, f))
        if (sscanf(line, "%lf,%d,%lf,%lf,%lf", &t, &status, &age, &s,
                   &inst) == 5) {
            time[n] = t;
            event[n] = status == 2;
            sex[n++] = (size_t)s - 1;
        }
    fclose(f);
    syf_km *km = NULL;
    assert_int_equal(syf_km_fit(n, time, event, sex, 2, &km), SYF_OK);
    return km;
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void test_km_png_svg(void **state)
{
    (void)state;
    if (!have_gnuplot()) {
        print_message("gnuplot not installed: skipped\n");
        return;
    }
    syf_km *km = lung_km();
    const char *labels[] = {"men", "women"};
    char png[128], svg[128];
    snprintf(png, sizeof png, "%s/km.png", dir);
    snprintf(svg, sizeof svg, "%s/km.svg", dir);

    int rc = syf_plot_km(km, labels, "Lung cancer survival by sex", png);
    if (rc != SYF_OK)
        print_error("%s\n", syf_error_message());
    assert_int_equal(rc, SYF_OK);
    FILE *f = fopen(png, "rb");
    assert_non_null(f);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    assert_true(file_size(png) > 8000);

    assert_int_equal(syf_plot_km(km, NULL, NULL, svg), SYF_OK);
    f = fopen(svg, "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "<svg"));
    assert_non_null(strstr(text, "group 2 (n = 90)"));

    /* only the two plots: no temporary files left behind */
    char names[512];
    list_dir(names, sizeof names);
    assert_string_equal(names, "km.png,km.svg");
    syf_km_free(km);
}

static void test_lines(void **state)
{
    (void)state;
    if (!have_gnuplot())
        return;
    double x[50], y1[50], y2[50];
    for (int i = 0; i < 50; i++) {
        x[i] = i;
        y1[i] = sin(i / 8.0);
        y2[i] = i == 25 ? NAN : cos(i / 8.0); /* a gap */
    }
    syf_plot_series s[2] = {
        {.x = x, .y = y1, .n = 50, .label = "sin, it's", .style = SYF_PLOT_LINES},
        {.x = x, .y = y2, .n = 50, .label = "cos", .style = SYF_PLOT_LINESPOINTS},
    };
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.title = "Two \"curves\"";
    o.xlabel = "x";
    o.key = "bottom left";
    char p[128];
    snprintf(p, sizeof p, "%s/LINES.SVG", dir);
    assert_int_equal(syf_plot_lines(s, 2, &o, p), SYF_OK);
    assert_true(file_size(p) > 1000);
    unlink(p);
    assert_int_equal(syf_plot_lines(s, 2, NULL, p), SYF_OK);
    unlink(p);
}

/* Read a whole (small) text file into a static buffer. */
static const char *slurp(const char *p)
{
    static char text[1 << 20];
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    return text;
}

static void test_stacked_bars(void **state)
{
    (void)state;
    if (!have_gnuplot()) {
        print_message("gnuplot not installed: skipped\n");
        return;
    }
    /* two bars (arms) of three parts; values[p * 2 + k] */
    const char *groups[] = {"control", "pilot \"arm\""};
    const char *notes[] = {"total 10.2", NULL};
    const char *parts[] = {"sick pay", "staff: veileder", "staff: rph_therapist, it's"};
    const double v[] = {9.7, 10.1, 0.02, 0.03, 0.0, 0.2};
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.title = "Cost per 1,000 employed";
    o.ylabel = "million NOK";
    o.key = "outside right top";
    char png[128], svg[128];
    snprintf(png, sizeof png, "%s/cost.png", dir);
    snprintf(svg, sizeof svg, "%s/cost.svg", dir);
    int rc = syf_plot_stacked_bars(groups, notes, 2, parts, 3, v, &o, png);
    if (rc != SYF_OK)
        print_error("%s\n", syf_error_message());
    assert_int_equal(rc, SYF_OK);
    FILE *f = fopen(png, "rb");
    assert_non_null(f);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    assert_int_equal(syf_plot_stacked_bars(groups, notes, 2, parts, 3, v, &o, svg), SYF_OK);
    const char *text = slurp(svg);
    assert_non_null(strstr(text, "<svg"));
    /* the key names every part, the axis every bar (the quote in a bar
     * label becomes a single quote), the note stands above its bar */
    assert_non_null(strstr(text, "sick pay"));
    assert_non_null(strstr(text, "staff: veileder"));
    assert_non_null(strstr(text, "staff: rph_therapist, it"));
    assert_non_null(strstr(text, "control"));
    assert_non_null(strstr(text, "pilot 'arm'"));
    assert_non_null(strstr(text, "total 10.2"));
    /* without labels, notes or options: still a plot */
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 2, NULL, 3, v, NULL, svg), SYF_OK);

    char names[512];
    list_dir(names, sizeof names);
    assert_string_equal(names, "cost.png,cost.svg");
}

static void test_stacked_bars_bad_input(void **state)
{
    (void)state;
    const double v[] = {1, 2, 3, 4};
    const double neg[] = {1, -2, 3, 4};
    const double nan_[] = {1, 2, NAN, 4};
    char p[256], names[512];
    snprintf(p, sizeof p, "%s/bars.png", dir);
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 0, NULL, 2, v, NULL, p), SYF_EINPUT);
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 2, NULL, 0, v, NULL, p), SYF_EINPUT);
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 2, NULL, 2, NULL, NULL, p), SYF_EINPUT);
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 2, NULL, 2, neg, NULL, p), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "bar 2, part 1"));
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 2, NULL, 2, nan_, NULL, p), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "bar 1, part 2"));
    snprintf(p, sizeof p, "%s/bars.pdf", dir);
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 2, NULL, 2, v, NULL, p), SYF_EINPUT);
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.key = "top-left";
    snprintf(p, sizeof p, "%s/bars.svg", dir);
    assert_int_equal(syf_plot_stacked_bars(NULL, NULL, 2, NULL, 2, v, &o, p), SYF_EINPUT);
    list_dir(names, sizeof names);
    assert_string_equal(names, "");
}

static void test_available(void **state)
{
    (void)state;
    assert_int_equal(syf_plot_available() != 0, have_gnuplot());
    char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", dir, 1);
    int a = syf_plot_available();
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    } else {
        unsetenv("PATH");
    }
    assert_int_equal(a, 0);
}

static void test_failures_leave_no_file(void **state)
{
    (void)state;
    double x[2] = {0, 1}, y[2] = {1, 0};
    syf_plot_series s = {.x = x, .y = y, .n = 2, .label = "a"};
    char p[256], names[512];

    /* nonexistent directory */
    snprintf(p, sizeof p, "%s/no/such/dir/km.png", dir);
    int rc = syf_plot_lines(&s, 1, NULL, p);
    assert_int_not_equal(rc, SYF_OK);
    assert_int_equal(access(p, F_OK), -1);

    /* bad extension and nothing to plot */
    snprintf(p, sizeof p, "%s/km.pdf", dir);
    assert_int_equal(syf_plot_lines(&s, 1, NULL, p), SYF_EINPUT);
    snprintf(p, sizeof p, "%s/empty.png", dir);
    assert_int_equal(syf_plot_lines(NULL, 0, NULL, p), SYF_EINPUT);

    if (have_gnuplot()) {
        /* gnuplot itself fails (invalid key option): no file, no temp */
        syf_plot_opts o;
        syf_plot_opts_init(&o);
        o.key = "nonsense words";
        snprintf(p, sizeof p, "%s/fail.png", dir);
        assert_int_equal(syf_plot_lines(&s, 1, &o, p), SYF_ERUNTIME);
        assert_int_equal(access(p, F_OK), -1);
    }

    /* gnuplot missing from PATH */
    char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", dir, 1);
    snprintf(p, sizeof p, "%s/nognuplot.png", dir);
    rc = syf_plot_lines(&s, 1, NULL, p);
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    } else {
        unsetenv("PATH");
    }
    assert_int_equal(rc, SYF_ERUNTIME);
    assert_non_null(strstr(syf_error_message(), "gnuplot is not installed"));
    assert_int_equal(access(p, F_OK), -1);

    list_dir(names, sizeof names);
    assert_string_equal(names, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_km_png_svg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stacked_bars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stacked_bars_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_available, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_leave_no_file, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
