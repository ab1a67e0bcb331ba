/* test_rd.c — sharp RD, local-linear with robust bias correction (analysis/rd.c).
 *
 * Fixtures:
 *   - published rdrobust output on the U.S. Senate data
 *     (tests/data/rd_senate.csv): Calonico, Cattaneo, Farrell & Titiunik
 *     (2017), "rdrobust: Software for regression-discontinuity designs",
 *     Stata Journal 17(2), pp. 392-398 [printed digits], and the rdrobust
 *     Python test suite "match R baseline" values quoted in
 *     shared/validation/README.md §6 [7-8 digits];
 *   - 12-digit values from an independent R transcription of rdrobust's
 *     algorithm (R 4.2.2, MASS::ginv), which itself reproduces every
 *     published number above: marked [R transcription].
 *   - property tests against naive weighted least squares (GSL multifit)
 *     on random data, invariances, and the error cases.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/rd.h"
#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_multifit.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* |got - want| <= half a unit in the last printed digit (dp decimals). */
#define assert_printed(got, want, dp) assert_near(got, want, 0.5 * pow(10, -(dp)) + 1e-12)

/* ---- Senate data ----------------------------------------------------------- */

typedef struct {
    size_t n, dz, G;
    double *y, *x, *Z;
    size_t *cl;
} rdata;

/* Complete cases of vote, margin and the named covariates; clusters = state. */
static void senate(rdata *r, const char *const *covs, size_t dz)
{
    syf_dataset *d = test_read("tests/data/rd_senate.csv");
    size_t iy, ix, ic[8], ist;
    check_ok(syf_dataset_column_find(d, "vote", &iy));
    check_ok(syf_dataset_column_find(d, "margin", &ix));
    check_ok(syf_dataset_column_find(d, "state", &ist));
    for (size_t m = 0; m < dz; m++)
        check_ok(syf_dataset_column_find(d, covs[m], &ic[m]));
    size_t N = d->n_rows;
    size_t G, *codes = test_factor(d, "state", &G, NULL);
    r->y = malloc(N * sizeof *r->y);
    r->x = malloc(N * sizeof *r->x);
    r->Z = malloc((N * dz + 1) * sizeof *r->Z);
    r->cl = malloc(N * sizeof *r->cl);
    r->n = 0;
    r->dz = dz;
    r->G = G;
    for (size_t i = 0; i < N; i++) {
        int ok = isfinite(d->cols[iy].num[i]) && isfinite(d->cols[ix].num[i]);
        for (size_t m = 0; m < dz; m++)
            ok &= isfinite(d->cols[ic[m]].num[i]);
        if (!ok)
            continue;
        r->y[r->n] = d->cols[iy].num[i];
        r->x[r->n] = d->cols[ix].num[i];
        for (size_t m = 0; m < dz; m++)
            r->Z[r->n * dz + m] = d->cols[ic[m]].num[i];
        r->cl[r->n] = codes[i];
        r->n++;
    }
    free(codes);
    syf_dataset_free(d);
}

static void rdata_free(rdata *r)
{
    free(r->y);
    free(r->x);
    free(r->Z);
    free(r->cl);
}

static syf_rd_result fit(const rdata *r, int clustered, const syf_rd_options *o)
{
    syf_rd_workspace *w = syf_rd_alloc(r->n, r->dz, clustered ? r->G : 0);
    assert_non_null(w);
    syf_rd_result res;
    check_ok(syf_rd_fit(w, r->n, r->y, r->x, r->dz ? r->Z : NULL, clustered ? r->cl : NULL,
                        r->G, o, &res));
    syf_rd_free(w);
    return res;
}

typedef struct {
    double h, b, tcl, tbc, scl, srb, cl0, cl1, rb0, rb1;
} ref12;

static void check12(const syf_rd_result *r, const ref12 *e)
{
    const double tol = 1e-9;
    assert_rel(r->h, e->h, tol);
    assert_rel(r->b, e->b, tol);
    assert_rel(r->tau_cl, e->tcl, tol);
    assert_rel(r->tau_bc, e->tbc, tol);
    assert_rel(r->se_cl, e->scl, tol);
    assert_rel(r->se_rb, e->srb, tol);
    assert_rel(r->ci_cl[0], e->cl0, tol);
    assert_rel(r->ci_cl[1], e->cl1, tol);
    assert_rel(r->ci_rb[0], e->rb0, tol);
    assert_rel(r->ci_rb[1], e->rb1, tol);
}

/* rdrobust vote margin (default: mserd, nn, masspoints adjust). */
static void test_senate_default(void **state)
{
    (void)state;
    rdata r;
    senate(&r, NULL, 0);
    assert_int_equal(r.n, 1297);
    syf_rd_options o;
    syf_rd_options_default(&o);
    syf_rd_result res = fit(&r, 0, &o);
    assert_int_equal(res.n_left, 595);
    assert_int_equal(res.n_right, 702);
    assert_int_equal(res.m_left, 595);
    assert_int_equal(res.m_right, 665);
    assert_int_equal(res.nh_left, 360);
    assert_int_equal(res.nh_right, 323);
    assert_int_equal(res.nb_left, 465);
    assert_int_equal(res.nb_right, 437);
    assert_true(res.bw_selected);
    /* [R transcription] */
    const ref12 e = {17.7543972212, 28.0280871512, 7.41413080197, 7.50650247059, 1.45871602383,
                     1.74125841461, 4.5550999316,  10.2731616723, 4.09369869018, 10.919306251};
    check12(&res, &e);
    assert_rel(res.pilot_c, 15.8666602843, 1e-9);
    assert_rel(res.pilot_d, 53.8297001017, 1e-9);
    /* --level 0.90 [R transcription] */
    o.level = 0.90;
    res = fit(&r, 0, &o);
    assert_rel(res.ci_cl[0], 5.01475645949, 1e-9);
    assert_rel(res.ci_rb[1], 10.3706176893, 1e-9);
    rdata_free(&r);
}

/* masspoints off = the rdrobust of the 2017 paper, p. 392: h = 17.708,
 * b = 27.984, eff. N 359/322, conventional 7.416 (SE 1.4604, CI [4.55378,
 * 10.2783]), robust CI [4.09441, 10.9255]. */
static void test_senate_paper(void **state)
{
    (void)state;
    rdata r;
    senate(&r, NULL, 0);
    syf_rd_options o;
    syf_rd_options_default(&o);
    o.masspoints = 0;
    syf_rd_result res = fit(&r, 0, &o);
    assert_printed(res.h, 17.708, 3);
    assert_printed(res.b, 27.984, 3);
    assert_int_equal(res.nh_left, 359);
    assert_int_equal(res.nh_right, 322);
    assert_printed(res.tau_cl, 7.416, 3);
    assert_printed(res.se_cl, 1.4604, 4);
    assert_printed(res.ci_cl[0], 4.55378, 5);
    assert_printed(res.ci_cl[1], 10.2783, 4);
    assert_printed(res.ci_rb[0], 4.09441, 5);
    assert_printed(res.ci_rb[1], 10.9255, 4);
    assert_printed(res.z_cl, 5.0782, 4);
    assert_printed(res.z_rb, 4.3095, 4);
    /* [R transcription] */
    const ref12 e = {17.7080287129, 27.984122002,  7.41603776585, 7.50993973439, 1.46036143685,
                     1.74264688173, 4.55378194522, 10.2782935865, 4.09441460844, 10.9254648604};
    check12(&res, &e);

    /* manual 2014 bandwidths h(16.79369) b(27.43745), p. 393: eff. 343/310,
     * 7.4253, SE 1.4954, CI [4.49446, 10.3561], robust [4.06975, 10.9833] */
    syf_rd_options_default(&o);
    o.h = 16.79369;
    o.b = 27.43745;
    res = fit(&r, 0, &o);
    assert_false(res.bw_selected);
    assert_int_equal(res.nh_left, 343);
    assert_int_equal(res.nh_right, 310);
    assert_printed(res.tau_cl, 7.4253, 4);
    assert_printed(res.se_cl, 1.4954, 4);
    assert_printed(res.ci_cl[0], 4.49446, 5);
    assert_printed(res.ci_cl[1], 10.3561, 4);
    assert_printed(res.ci_rb[0], 4.06975, 5);
    assert_printed(res.ci_rb[1], 10.9833, 4);
    assert_printed(res.z_cl, 4.9656, 4);
    assert_printed(res.z_rb, 4.2675, 4);
    const ref12 e2 = {16.79369,      27.43745,      7.42530434112, 7.52653269131, 1.49535629339,
                      1.7636990676,  4.49445986202, 10.3561488202, 4.06974603926, 10.9833193434};
    check12(&res, &e2);
    rdata_free(&r);
}

/* Covariates termshouse, termssenate, population with vce = hc1:
 * validation README §6 (rdrobust Python tests, "match R baseline"):
 * mserd h = 17.976890, b = 28.963712; with h = 10, b = 20:
 * N = [491, 617], M = [491, 580], N_h = [215, 181], N_b = [336, 300]. */
static void test_senate_covariates(void **state)
{
    (void)state;
    static const char *const covs[] = {"termshouse", "termssenate", "population"};
    rdata r;
    senate(&r, covs, 3);
    assert_int_equal(r.n, 1108);
    syf_rd_options o;
    syf_rd_options_default(&o);
    o.vce = SYF_RD_HC1;
    syf_rd_result res = fit(&r, 0, &o);
    assert_rel(res.h, 17.976890, 1e-7);
    assert_rel(res.b, 28.963712, 1e-7);
    const ref12 e = {17.97689041,   28.9637120881, 6.73419853616, 6.81834780093, 1.41652061882,
                     1.68045601163, 3.95786913991, 9.5105279324,  3.52471454053, 10.1119810613};
    check12(&res, &e);
    o.h = 10;
    o.b = 20;
    res = fit(&r, 0, &o);
    assert_int_equal(res.n_left, 491);
    assert_int_equal(res.n_right, 617);
    assert_int_equal(res.m_left, 491);
    assert_int_equal(res.m_right, 580);
    assert_int_equal(res.nh_left, 215);
    assert_int_equal(res.nh_right, 181);
    assert_int_equal(res.nb_left, 336);
    assert_int_equal(res.nb_right, 300);
    const ref12 e2 = {10, 20, 6.63521422439, 6.72957376389, 1.74939668203, 1.9755157293,
                      3.20645973295, 10.0639687158, 2.85763408356, 10.6015134442};
    check12(&res, &e2);
    rdata_free(&r);
}

/* Cluster-robust NN by state.  masspoints off = the paper's p. 398:
 * h = 17.509, b = 27.032, 7.4221, SE 1.5225, CI [4.43811, 10.4061],
 * robust CI [4.09109, 11.0456]. */
static void test_senate_cluster(void **state)
{
    (void)state;
    rdata r;
    senate(&r, NULL, 0);
    syf_rd_options o;
    syf_rd_options_default(&o);
    o.masspoints = 0;
    syf_rd_result res = fit(&r, 1, &o);
    assert_printed(res.h, 17.509, 3);
    assert_printed(res.b, 27.032, 3);
    assert_printed(res.tau_cl, 7.4221, 4);
    assert_printed(res.se_cl, 1.5225, 4);
    assert_printed(res.ci_cl[0], 4.43811, 5);
    assert_printed(res.ci_rb[1], 11.0456, 4);
    const ref12 e = {17.5085540668, 27.0317152443, 7.42210440812, 7.56835143709, 1.52247600149,
                     1.77414552027, 4.43810627788, 10.4061025384, 4.09109011402, 11.0456127602};
    check12(&res, &e);
    o.masspoints = 1;
    res = fit(&r, 1, &o);
    const ref12 e2 = {17.5766902591, 27.0953279473, 7.42014060944, 7.56181232896, 1.52025156773,
                      1.77226958492, 4.44050228924, 10.3997789296, 4.08822777162, 11.0353968863};
    check12(&res, &e2);
    assert_true(res.g_left > 1 && res.g_right > 1);
    rdata_free(&r);
}

/* HC2, HC3 (with a covariate and h > b), HC0 at another cutoff [R transcription]. */
static void test_senate_hc(void **state)
{
    (void)state;
    rdata r;
    senate(&r, NULL, 0);
    syf_rd_options o;
    syf_rd_options_default(&o);
    o.vce = SYF_RD_HC2;
    o.h = 15;
    o.b = 25;
    syf_rd_result res = fit(&r, 0, &o);
    const ref12 e = {15, 25, 7.48728585809, 7.78385586723, 1.56845911113, 1.83853705644,
                     4.41316248905, 10.5614092271, 4.18038945237, 11.3873222821};
    check12(&res, &e);
    syf_rd_options_default(&o);
    o.vce = SYF_RD_HC0;
    o.cutoff = 5;
    res = fit(&r, 0, &o);
    assert_int_equal(res.n_left, 712);
    assert_int_equal(res.m_right, 548);
    const ref12 e3 = {13.9564082757, 23.2718983151, 1.98905111854, 1.50947290808, 1.69261143234,
                      1.98615943136, -1.32840632866, 5.30650856575, -2.38332804494, 5.4022738611};
    check12(&res, &e3);
    rdata_free(&r);

    static const char *const covs[] = {"class"};
    senate(&r, covs, 1);
    syf_rd_options_default(&o);
    o.vce = SYF_RD_HC3;
    o.h = 25;
    o.b = 20;
    res = fit(&r, 0, &o);
    assert_int_equal(res.nh_left, 440);
    assert_int_equal(res.nb_left, 389);
    const ref12 e2 = {25, 20, 7.07376443867, 8.34091570149, 1.2529227401, 2.16161733737,
                      4.61808099265, 9.52944788468, 4.10422357189, 12.5776078311};
    check12(&res, &e2);
    rdata_free(&r);
}

/* ---- properties on random data --------------------------------------------- */

/* Conventional estimate and HC0 SE equal naive weighted least squares on
 * each side (GSL multifit_wlinear) with the triangular weights. */
static void test_property_wls(void **state)
{
    (void)state;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 11);
    for (int rep = 0; rep < 20; rep++) {
        size_t n = 150 + 30 * (size_t)rep;
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        double c = gsl_ran_flat(g, -0.3, 0.3), h = gsl_ran_flat(g, 0.3, 1.5);
        for (size_t i = 0; i < n; i++) {
            x[i] = gsl_ran_flat(g, -1, 1);
            y[i] = 1 + 2 * x[i] - x[i] * x[i] + 0.7 * (x[i] >= c) + gsl_ran_gaussian(g, 0.5);
        }
        syf_rd_options o;
        syf_rd_options_default(&o);
        o.cutoff = c;
        o.h = h;
        o.vce = SYF_RD_HC0;
        syf_rd_workspace *w = syf_rd_alloc(n, 0, 0);
        syf_rd_result res;
        check_ok(syf_rd_fit(w, n, y, x, NULL, NULL, 0, &o, &res));
        double icpt[2], var[2];
        for (int sd = 0; sd < 2; sd++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if ((sd ? x[i] >= c : x[i] < c) && fabs(x[i] - c) < h)
                    m++;
            gsl_matrix *X = gsl_matrix_alloc(m, 2), *cov = gsl_matrix_alloc(2, 2);
            gsl_vector *Y = gsl_vector_alloc(m), *W = gsl_vector_alloc(m), *B = gsl_vector_alloc(2);
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if ((sd ? x[i] >= c : x[i] < c) && fabs(x[i] - c) < h) {
                    gsl_matrix_set(X, k, 0, 1);
                    gsl_matrix_set(X, k, 1, x[i] - c);
                    gsl_vector_set(Y, k, y[i]);
                    gsl_vector_set(W, k, (1 - fabs(x[i] - c) / h) / h);
                    k++;
                }
            gsl_multifit_linear_workspace *mw = gsl_multifit_linear_alloc(m, 2);
            double chisq;
            gsl_multifit_wlinear(X, W, Y, B, cov, &chisq, mw);
            icpt[sd] = gsl_vector_get(B, 0);
            /* HC0 sandwich of the intercept: (X'WX)^{-1} X'W diag(e^2) W X (X'WX)^{-1};
             * cov = (X'WX)^{-1} from wlinear */
            double m00 = 0, m01 = 0, m11 = 0;
            for (size_t i = 0; i < m; i++) {
                double e = gsl_vector_get(Y, i) - gsl_vector_get(B, 0) -
                           gsl_vector_get(B, 1) * gsl_matrix_get(X, i, 1);
                double wi = gsl_vector_get(W, i), xi = gsl_matrix_get(X, i, 1);
                m00 += wi * wi * e * e;
                m01 += wi * wi * e * e * xi;
                m11 += wi * wi * e * e * xi * xi;
            }
            double a0 = gsl_matrix_get(cov, 0, 0), a1 = gsl_matrix_get(cov, 0, 1);
            var[sd] = a0 * a0 * m00 + 2 * a0 * a1 * m01 + a1 * a1 * m11;
            gsl_multifit_linear_free(mw);
            gsl_matrix_free(X);
            gsl_matrix_free(cov);
            gsl_vector_free(Y);
            gsl_vector_free(W);
            gsl_vector_free(B);
        }
        assert_rel(res.tau_cl, icpt[1] - icpt[0], 1e-10);
        assert_rel(res.se_cl, sqrt(var[0] + var[1]), 1e-9);
        /* b = h by default */
        assert_rel(res.b, h, 0);
        /* invariance: shifting x and the cutoff; scaling y */
        for (size_t i = 0; i < n; i++) {
            x[i] += 100;
            y[i] *= -3;
        }
        o.cutoff = c + 100;
        syf_rd_result r2;
        check_ok(syf_rd_fit(w, n, y, x, NULL, NULL, 0, &o, &r2));
        assert_rel(r2.tau_cl, -3 * res.tau_cl, 1e-7);
        assert_rel(r2.se_cl, 3 * res.se_cl, 1e-7);
        assert_rel(r2.tau_bc, -3 * res.tau_bc, 1e-7);
        assert_rel(r2.se_rb, 3 * res.se_rb, 1e-7);
        syf_rd_free(w);
        free(x);
        free(y);
    }
    gsl_rng_free(g);
}

/* With data exactly linear on each side (no noise) the conventional and
 * bias-corrected estimates both equal the jump; mserd on large noisy data
 * recovers a known jump and the robust CI covers it. */
static void test_property_exact_and_order(void **state)
{
    (void)state;
    size_t n = 400;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 5);
    for (size_t i = 0; i < n; i++) {
        x[i] = gsl_ran_flat(g, -1, 1);
        y[i] = 0.5 - 1.5 * x[i] + 2.0 * (x[i] >= 0);
    }
    syf_rd_options o;
    syf_rd_options_default(&o);
    o.h = 0.5;
    o.b = 0.8;
    syf_rd_workspace *w = syf_rd_alloc(n, 0, 0);
    syf_rd_result res;
    check_ok(syf_rd_fit(w, n, y, x, NULL, NULL, 0, &o, &res));
    assert_near(res.tau_cl, 2.0, 1e-10);
    assert_near(res.tau_bc, 2.0, 1e-10);
    /* the order of the rows does not matter */
    for (size_t i = 0; i < n / 2; i++) {
        double t = x[i];
        x[i] = x[n - 1 - i];
        x[n - 1 - i] = t;
        t = y[i];
        y[i] = y[n - 1 - i];
        y[n - 1 - i] = t;
    }
    syf_rd_result r2;
    check_ok(syf_rd_fit(w, n, y, x, NULL, NULL, 0, &o, &r2));
    assert_true(r2.tau_cl == res.tau_cl || fabs(r2.tau_cl - res.tau_cl) < 1e-12);
    syf_rd_free(w);
    free(x);
    free(y);

    /* coverage sanity on one big sample */
    n = 20000;
    x = malloc(n * sizeof *x);
    y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i] = gsl_ran_flat(g, -1, 1);
        y[i] = sin(2 * x[i]) + 0.3 * (x[i] >= 0) + gsl_ran_gaussian(g, 0.3);
    }
    syf_rd_options_default(&o);
    w = syf_rd_alloc(n, 0, 0);
    check_ok(syf_rd_fit(w, n, y, x, NULL, NULL, 0, &o, &res));
    assert_true(res.ci_rb[0] < 0.3 && 0.3 < res.ci_rb[1]);
    assert_true(res.h > 0.05 && res.h < 1);
    syf_rd_free(w);
    free(x);
    free(y);
    gsl_rng_free(g);
}

static void test_errors(void **state)
{
    (void)state;
    double x[30], y[30];
    for (int i = 0; i < 30; i++) {
        x[i] = i;
        y[i] = i % 3;
    }
    syf_rd_workspace *w = syf_rd_alloc(30, 0, 0);
    syf_rd_options o;
    syf_rd_options_default(&o);
    syf_rd_result res;
    o.cutoff = 29; /* at the maximum */
    assert_int_equal(syf_rd_fit(w, 30, y, x, NULL, NULL, 0, &o, &res), SYF_EINPUT);
    o.cutoff = -1;
    assert_int_equal(syf_rd_fit(w, 30, y, x, NULL, NULL, 0, &o, &res), SYF_EINPUT);
    o.cutoff = 15;
    assert_int_equal(syf_rd_fit(w, 19, y, x, NULL, NULL, 0, &o, &res), SYF_EINPUT); /* < 20 */
    assert_int_equal(syf_rd_fit(w, 31, y, x, NULL, NULL, 0, &o, &res), SYF_EINPUT); /* > n_max */
    o.h = 0.5; /* one distinct x per side inside the window */
    assert_int_equal(syf_rd_fit(w, 30, y, x, NULL, NULL, 0, &o, &res), SYF_ESINGULAR);
    o.h = 10;
    assert_int_equal(syf_rd_fit(w, 30, y, x, NULL, NULL, 0, &o, &res), SYF_OK);
    y[3] = NAN;
    assert_int_equal(syf_rd_fit(w, 30, y, x, NULL, NULL, 0, &o, &res), SYF_EINPUT);
    syf_rd_free(w);
    syf_rd_vce v;
    assert_int_equal(syf_rd_vce_parse("HC1", &v), SYF_OK);
    assert_int_equal(v, SYF_RD_HC1);
    assert_int_equal(syf_rd_vce_parse("cr2", &v), SYF_EINPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_senate_default),   cmocka_unit_test(test_senate_paper),
        cmocka_unit_test(test_senate_covariates), cmocka_unit_test(test_senate_cluster),
        cmocka_unit_test(test_senate_hc),        cmocka_unit_test(test_property_wls),
        cmocka_unit_test(test_property_exact_and_order), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
