/* test_report.c — the report module (analysis/report.c): weekly hazard and
 * daily queue lengths against naive day-by-day counts on random data, the
 * histogram's bins and counts, the SVG embedding (prolog dropped, ids made
 * unique, references followed) and HTML escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syfosim/error.h"
#include "syfosim/report.h"
#include "test_util.h"

static uint64_t lcg = 88172645463325252ull;
static double unif(void)
{
    lcg ^= lcg << 13;
    lcg ^= lcg >> 7;
    lcg ^= lcg << 17;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

/* Naive: walk the weeks and the spells. */
static void test_weekly_hazard_naive(void **state)
{
    (void)state;
    enum { N = 2000, W = 30 };
    static double days[N];
    static int status[N];
    for (int i = 0; i < N; i++) {
        days[i] = floor(unif() * 250.0);
        status[i] = (int)(unif() * 3.0);
    }
    size_t risk[W], ev[W];
    double h[W];
    assert_int_equal(syf_report_weekly_hazard(N, days, status, W, risk, ev, h), SYF_OK);
    for (int w = 0; w < W; w++) {
        size_t r = 0, e = 0;
        for (int i = 0; i < N; i++) {
            if (days[i] > 7.0 * w)
                r++;
            if (status[i] == SYF_REPORT_EVENT && days[i] > 7.0 * w && days[i] <= 7.0 * w + 7)
                e++;
        }
        assert_int_equal(risk[w], r);
        assert_int_equal(ev[w], e);
        if (r)
            assert_near(h[w], (double)e / (double)r, 1e-15);
        else
            assert_true(isnan(h[w]));
    }
    /* NULL outputs are allowed */
    assert_int_equal(syf_report_weekly_hazard(N, days, status, W, NULL, NULL, NULL), SYF_OK);
}

static void test_weekly_hazard_known(void **state)
{
    (void)state;
    /* 4 spells: ends day 7 (week 0), 8 (week 1, event), 14 competing (week 1), censored 3 */
    double d[4] = {7, 8, 14, 3};
    int s[4] = {SYF_REPORT_EVENT, SYF_REPORT_EVENT, SYF_REPORT_COMPETING, SYF_REPORT_CENSORED};
    size_t r[3], e[3];
    double h[3];
    assert_int_equal(syf_report_weekly_hazard(4, d, s, 3, r, e, h), SYF_OK);
    assert_int_equal(r[0], 4);
    assert_int_equal(e[0], 1);
    assert_int_equal(r[1], 2);
    assert_int_equal(e[1], 1);
    assert_int_equal(r[2], 0);
    assert_near(h[0], 0.25, 1e-15);
    assert_near(h[1], 0.5, 1e-15);
    assert_true(isnan(h[2]));
}

static void test_weekly_hazard_bad(void **state)
{
    (void)state;
    double d[2] = {5, -1};
    int s[2] = {1, 1};
    assert_int_equal(syf_report_weekly_hazard(2, d, s, 4, NULL, NULL, NULL), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "spell 2"));
    d[1] = NAN;
    assert_int_equal(syf_report_weekly_hazard(2, d, s, 4, NULL, NULL, NULL), SYF_EINPUT);
    d[1] = 3;
    s[0] = 7;
    assert_int_equal(syf_report_weekly_hazard(2, d, s, 4, NULL, NULL, NULL), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "status"));
}

static void test_queue_naive(void **state)
{
    (void)state;
    enum { N = 500, D = 120, G = 3 };
    double a[N], b[N];
    size_t g[N];
    for (int i = 0; i < N; i++) {
        a[i] = floor(unif() * 140.0) - 10.0;
        b[i] = a[i] + floor(unif() * 20.0);
        g[i] = (size_t)(unif() * G);
    }
    static double q[G * D];
    assert_int_equal(syf_report_queue_daily(N, a, b, g, G, D, q), SYF_OK);
    for (int k = 0; k < G; k++)
        for (int d = 0; d < D; d++) {
            int c = 0;
            for (int i = 0; i < N; i++)
                c += (int)g[i] == k && a[i] <= d && d < b[i];
            assert_near(q[k * D + d], c, 0);
        }
    b[3] = a[3] - 1;
    assert_int_equal(syf_report_queue_daily(N, a, b, g, G, D, q), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "row 4"));
    b[3] = a[3];
    g[5] = G;
    assert_int_equal(syf_report_queue_daily(N, a, b, g, G, D, q), SYF_EINPUT);
}

static void test_histogram(void **state)
{
    (void)state;
    enum { N = 1000 };
    double x[N + 2];
    for (int i = 0; i < N; i++)
        x[i] = unif() * 10.0 - 3.0;
    x[N] = NAN;
    x[N + 1] = INFINITY;
    syf_report_hist *h = NULL;
    assert_int_equal(syf_report_hist_fit(N + 2, x, 0, &h), SYF_OK);
    assert_int_equal(h->n, N);
    size_t total = 0;
    for (size_t b = 0; b < h->n_bins; b++)
        total += h->counts[b];
    assert_int_equal(total, N);
    /* Freedman-Diaconis for U(-3, 7): IQR about 5, width 2*5/10 = 1, about 10 bins */
    assert_true(h->n_bins >= 8 && h->n_bins <= 13);
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < N; i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    assert_near(h->lo, lo, 0);
    assert_near(h->lo + h->width * (double)h->n_bins, hi, 1e-12);
    /* each value is in its bin */
    size_t *c = calloc(h->n_bins, sizeof *c);
    for (int i = 0; i < N; i++) {
        size_t b = 0;
        while (b + 1 < h->n_bins && x[i] >= h->lo + (double)(b + 1) * h->width)
            b++;
        c[b]++;
    }
    for (size_t b = 0; b < h->n_bins; b++)
        assert_int_equal(c[b], h->counts[b]);
    free(c);
    syf_report_hist_free(h);

    /* fixed bins, constant sample, no finite value */
    assert_int_equal(syf_report_hist_fit(N, x, 4, &h), SYF_OK);
    assert_int_equal(h->n_bins, 4);
    syf_report_hist_free(h);
    double k[3] = {2, 2, 2};
    assert_int_equal(syf_report_hist_fit(3, k, 0, &h), SYF_OK);
    assert_int_equal(h->n_bins, 1);
    assert_int_equal(h->counts[0], 3);
    assert_near(h->lo, 1.5, 0);
    syf_report_hist_free(h);
    double bad[2] = {NAN, INFINITY};
    assert_int_equal(syf_report_hist_fit(2, bad, 0, &h), SYF_EINPUT);
    assert_null(h);
}

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = malloc((size_t)n + 1);
    rewind(f);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    return s;
}

static void test_svg_embed(void **state)
{
    (void)state;
    char path[] = "/tmp/syf-report-svg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *svg =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg width=\"9\">\n"
        "<g id=\"gnuplot_canvas\">\n<path id='gpPt0' d='M0'/>\n"
        "<use xlink:href='#gpPt0' id='gpPt6'/>\n<rect fill=\"url(#grad)\"/>\n"
        "<a href=\"#gpPt6\">x</a> <text>valid='1' id= kept</text></g>\n</svg>\n";
    assert_int_equal(write(fd, svg, strlen(svg)), (ssize_t)strlen(svg));
    close(fd);
    FILE *out = tmpfile();
    assert_int_equal(syf_report_svg_embed(out, path, "p3"), SYF_OK);
    char *s = slurp(out);
    assert_ptr_equal(strstr(s, "<svg"), s); /* prolog and doctype dropped */
    assert_non_null(strstr(s, "id=\"p3-gnuplot_canvas\""));
    assert_non_null(strstr(s, "id='p3-gpPt0'"));
    assert_non_null(strstr(s, "xlink:href='#p3-gpPt0' id='p3-gpPt6'"));
    assert_non_null(strstr(s, "url(#p3-grad)"));
    assert_non_null(strstr(s, "href=\"#p3-gpPt6\""));
    assert_non_null(strstr(s, "id= kept")); /* not an attribute with a quote: unchanged */
    assert_null(strstr(s, "<?xml"));
    free(s);
    fclose(out);

    /* no <svg>: input error; missing file: runtime error */
    FILE *f = fopen(path, "w");
    fputs("<html>not a picture</html>", f);
    fclose(f);
    out = tmpfile();
    assert_int_equal(syf_report_svg_embed(out, path, "p"), SYF_EINPUT);
    unlink(path);
    assert_int_equal(syf_report_svg_embed(out, path, "p"), SYF_ERUNTIME);
    fclose(out);
}

static void test_html_escape(void **state)
{
    (void)state;
    FILE *out = tmpfile();
    syf_report_html_escape(out, "a<b>&\"c'\x01\td\n\xc3\xa6");
    char *s = slurp(out);
    assert_string_equal(s, "a&lt;b&gt;&amp;&quot;c&#39;\xef\xbf\xbd\td\n\xc3\xa6");
    free(s);
    fclose(out);
}

static int have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static void test_plot_hist(void **state)
{
    (void)state;
    if (!have_gnuplot()) {
        printf("gnuplot not installed: histogram plot not tested\n");
        return;
    }
    double x[50];
    for (int i = 0; i < 50; i++)
        x[i] = unif();
    syf_report_hist *h = NULL;
    assert_int_equal(syf_report_hist_fit(50, x, 0, &h), SYF_OK);
    char dir[] = "/tmp/syf-report-hist-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/h.svg", dir);
    assert_int_equal(syf_report_plot_hist(h, "estimates", 0.5, "mean estimand", NULL, path),
                     SYF_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    char *s = slurp(f);
    assert_non_null(strstr(s, "<svg"));
    assert_non_null(strstr(s, "mean estimand"));
    free(s);
    fclose(f);
    unlink(path);
    rmdir(dir);
    syf_report_hist_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekly_hazard_naive), cmocka_unit_test(test_weekly_hazard_known),
        cmocka_unit_test(test_weekly_hazard_bad),   cmocka_unit_test(test_queue_naive),
        cmocka_unit_test(test_histogram),           cmocka_unit_test(test_svg_embed),
        cmocka_unit_test(test_html_escape),         cmocka_unit_test(test_plot_hist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
