/* test_gee.c — Gaussian GEE with exchangeable working correlation
 * (analysis/gee.c).
 *
 * Two kinds of test:
 *   - frozen reference numbers: /work/shared/validation/README.md §2
 *     (geepack 1.3.9 on the Petersen data) and values recomputed with more
 *     digits in R 4.2.2 with geepack 1.3.9 on Petersen, sleep.csv and the
 *     unbalanced stepped-wedge fixture tests/data/stepped_wedge.csv;
 *   - property tests against a naive implementation written here with
 *     explicit n_g x n_g working correlation matrices (GSL), the reduction to
 *     OLS with HC0 (syf_ols_fit, CR0 without clusters) when every cluster
 *     has one row, invariances, and the error cases.
 * Run from the repository root (reads tests/data/).
 *
 * How the recomputed values were obtained (R 4.2.2, geepack 1.3.9; rows
 * sorted by cluster, as geepack needs):
 *   f <- geeglm(form, id = cid, data = d, family = gaussian,
 *               corstr = "exchangeable",
 *               control = geese.control(epsilon = 1e-14, maxit = 500))
 *   coef(f); sqrt(diag(f$geese$vbeta)); sqrt(diag(f$geese$vbeta.naiv));
 *   f$geese$alpha; f$geese$gamma
 * geepack's default epsilon = 1e-4 stops a little early: its numbers differ
 * from the converged ones by up to ~6e-7 relative (checked below too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/gee.h"
#include "syfosim/ols.h"
#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */

static void test_petersen_reference(void **state)
{
    (void)state;
    test_fixture f;
    const char *cols[] = {"x"};
    test_fixture_load(&f, "tests/data/petersen.csv", "y", cols, 1, "firm", NULL);
    syf_gee_workspace *w = syf_gee_alloc(f.n, f.p, f.G);
    assert_non_null(w);
    syf_gee_result r;
    check_ok(syf_gee_fit(w, f.n, f.X, f.y, f.cl, f.G, 0.95, &r));
    assert_int_equal(r.G, 500);

    /* /work/shared/validation/README.md §2: GEE exchangeable (geepack
     * 1.3.9), estimate (robust SE), to 1e-6. */
    assert_rel(r.estimate[0], 0.029967591, 1e-6);
    assert_rel(r.std_error[0], 0.067007881, 1e-6);
    assert_rel(r.estimate[1], 0.981239256, 1e-6);
    assert_rel(r.std_error[1], 0.028694998, 1e-6);

    /* [recomputed with geepack 1.3.9, R 4.2.2], epsilon = 1e-14. */
    assert_rel(r.estimate[0], 0.029967590621018, 1e-10);
    assert_rel(r.estimate[1], 0.98123923757834, 1e-10);
    assert_rel(r.std_error[0], 0.067007880564238, 1e-10);
    assert_rel(r.std_error[1], 0.028694998017495, 1e-10);
    assert_rel(r.std_error_naive[0], 0.06700407546051, 1e-10);
    assert_rel(r.std_error_naive[1], 0.028247324732881, 1e-10);
    assert_rel(r.alpha, 0.50896826491383, 1e-10);
    assert_rel(r.scale, 4.0223552030193, 1e-10);
    /* 2 * pnorm(-|z|) */
    assert_rel(r.p_value[0], 0.65471270692259, 1e-9);
    assert_rel(r.statistic[0] * r.statistic[0], 0.20001008363506, 1e-9); /* geepack "Wald" */
    assert_rel(r.statistic[1] * r.statistic[1], 1169.3308685683, 1e-9);
    /* Normal-theory 95% interval. */
    assert_rel(r.conf_high[1] - r.estimate[1], 1.959963984540054 * r.std_error[1], 1e-12);
    assert_rel(r.estimate[0] - r.conf_low[0], 1.959963984540054 * r.std_error[0], 1e-12);
    /* geepack with its default epsilon = 1e-4 (the README's numbers). */
    assert_rel(r.estimate[1], 0.98123925641291, 1e-7);
    assert_rel(r.alpha, 0.50896826461827, 1e-8);
    syf_gee_free(w);
    test_fixture_free(&f);
}

static void test_stepped_wedge_reference(void **state)
{
    (void)state;
    test_fixture f;
    const char *cols[] = {"treat", "age"};
    test_fixture_load(&f, "tests/data/stepped_wedge.csv", "y", cols, 2, "cluster", "period");
    assert_int_equal(f.p, 7);
    syf_gee_workspace *w = syf_gee_alloc(f.n, f.p, f.G);
    syf_gee_result r;
    check_ok(syf_gee_fit(w, f.n, f.X, f.y, f.cl, f.G, 0.95, &r));
    /* [recomputed with geepack 1.3.9, R 4.2.2], epsilon = 1e-14:
     * geeglm(y ~ treat + age + factor(period), id = cluster, ...). */
    static const double b[7] = {8.4788008166376,     1.8675158496407,  0.02422241939513,
                                0.17428499904781,    0.40554515939234, -0.52686586014831,
                                0.99886141517006};
    static const double se[7] = {0.55809533372433, 0.53041639530756, 0.012340231904061,
                                 0.34021383579754, 0.41258985276962, 0.46930733338089,
                                 0.5734344679722};
    static const double nse[7] = {0.70450679193948, 0.46736922057606, 0.01048389556256,
                                  0.42380395989594, 0.47875317009661, 0.53543383542783,
                                  0.63009389708445};
    static const double b_default[7] = {8.4788010599448,  1.8675155294267,  0.02422241518419,
                                        0.17428489332919, 0.40554531419239, -0.52686569214805,
                                        0.99886158801494};
    for (size_t j = 0; j < 7; j++) {
        assert_rel(r.estimate[j], b[j], 1e-9);
        assert_rel(r.std_error[j], se[j], 1e-9);
        assert_rel(r.std_error_naive[j], nse[j], 1e-9);
        /* geepack's default epsilon = 1e-4 stops within 1e-6 of the fixed point. */
        assert_rel(r.estimate[j], b_default[j], 1e-6);
    }
    assert_rel(r.alpha, 0.35770858865411, 1e-9);
    assert_rel(r.scale, 5.4416563105588, 1e-9);
    assert_rel(r.p_value[1], 0.00043016806862861, 1e-7);
    syf_gee_free(w);
    test_fixture_free(&f);
}

/* Balanced clusters with identical covariate patterns: GLS = OLS. */
static void test_sleep_reference(void **state)
{
    (void)state;
    test_fixture f;
    const char *cols[] = {"Days"};
    test_fixture_load(&f, "tests/data/sleep.csv", "Reaction", cols, 1, "Subject", NULL);
    syf_gee_workspace *w = syf_gee_alloc(f.n, f.p, f.G);
    syf_gee_result r;
    check_ok(syf_gee_fit(w, f.n, f.X, f.y, f.cl, f.G, 0.95, &r));
    /* [recomputed with geepack 1.3.9, R 4.2.2] */
    assert_rel(r.estimate[0], 251.40510484848, 1e-11);
    assert_rel(r.estimate[1], 10.467285959596, 1e-11);
    assert_rel(r.std_error[0], 6.6322768070245, 1e-10);
    assert_rel(r.std_error[1], 1.5022367823134, 1e-10);
    assert_rel(r.std_error_naive[0], 9.5061851780462, 1e-10);
    assert_rel(r.std_error_naive[1], 0.80173542182506, 1e-10);
    assert_rel(r.alpha, 0.57602881069593, 1e-10);
    assert_rel(r.scale, 2251.3978748915, 1e-10);
    syf_gee_free(w);
    test_fixture_free(&f);
}

/* ------------------------------------------------------------------------ */
/* Naive implementation with explicit R_g (data: test_cldata, test_util.h,
 * with a heteroscedastic error of sd 1 + |x|/2). */

/* Explicit GEE: returns alpha; fills beta[3], vcov[9] (robust). */
static double naive_gee(const test_cldata *d, double *beta, double *vcov)
{
    const size_t n = d->n, p = 3, G = d->G;
    size_t *rows = malloc(n * sizeof *rows);
    double alpha = 0;
    gsl_matrix *B = gsl_matrix_alloc(p, p), *meat = gsl_matrix_alloc(p, p);
    gsl_vector *u = gsl_vector_alloc(p), *b = gsl_vector_alloc(p);
    double *r = malloc(n * sizeof *r);
    for (int it = 0; it < 1000; it++) {
        gsl_matrix_set_zero(B);
        gsl_vector_set_zero(u);
        gsl_matrix_set_zero(meat);
        for (int pass = 0; pass < 2; pass++) {
            for (size_t g = 0; g < G; g++) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    if (d->cl[i] == g)
                        rows[m++] = i;
                gsl_matrix *R = gsl_matrix_alloc(m, m), *Xg = gsl_matrix_alloc(m, p),
                           *RX = gsl_matrix_alloc(m, p);
                gsl_vector *yg = gsl_vector_alloc(m);
                for (size_t a = 0; a < m; a++) {
                    for (size_t c = 0; c < m; c++)
                        gsl_matrix_set(R, a, c, a == c ? 1.0 : alpha);
                    for (size_t j = 0; j < p; j++)
                        gsl_matrix_set(Xg, a, j, d->X[3 * rows[a] + j]);
                    gsl_vector_set(yg, a, pass == 0 ? d->y[rows[a]] : r[rows[a]]);
                }
                gsl_linalg_cholesky_decomp1(R);
                gsl_linalg_cholesky_invert(R); /* R^{-1} */
                gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, R, Xg, 0.0, RX);
                gsl_vector *s = gsl_vector_alloc(p);
                gsl_blas_dgemv(CblasTrans, 1.0, RX, yg, 0.0, s); /* X' R^{-1} y_g (or r_g) */
                if (pass == 0) {
                    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, Xg, RX, 1.0, B);
                    gsl_vector_add(u, s);
                } else {
                    for (size_t j = 0; j < p; j++)
                        for (size_t l = 0; l < p; l++)
                            gsl_matrix_set(meat, j, l,
                                           gsl_matrix_get(meat, j, l) +
                                               gsl_vector_get(s, j) * gsl_vector_get(s, l));
                }
                gsl_vector_free(s);
                gsl_matrix_free(R);
                gsl_matrix_free(Xg);
                gsl_matrix_free(RX);
                gsl_vector_free(yg);
            }
            if (pass == 0) {
                gsl_matrix *Bc = gsl_matrix_alloc(p, p);
                gsl_matrix_memcpy(Bc, B);
                gsl_linalg_cholesky_decomp1(Bc);
                gsl_linalg_cholesky_solve(Bc, u, b);
                gsl_matrix_free(Bc);
                for (size_t i = 0; i < n; i++) {
                    r[i] = d->y[i];
                    for (size_t j = 0; j < p; j++)
                        r[i] -= d->X[3 * i + j] * gsl_vector_get(b, j);
                }
            }
        }
        double ss = 0, pairs = 0, npairs = 0;
        for (size_t i = 0; i < n; i++) {
            ss += r[i] * r[i];
            for (size_t k = i + 1; k < n; k++)
                if (d->cl[i] == d->cl[k]) {
                    pairs += r[i] * r[k];
                    npairs += 1;
                }
        }
        double phi = ss / n, anew = pairs / (phi * npairs);
        double change = fabs(anew - alpha);
        if (change < 1e-14)
            break;
        alpha = anew;
    }
    /* vcov = B^{-1} meat B^{-1} at the last beta (pass 1 used its residuals). */
    gsl_linalg_cholesky_decomp1(B);
    gsl_linalg_cholesky_invert(B);
    gsl_matrix *C = gsl_matrix_alloc(p, p), *V = gsl_matrix_alloc(p, p);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, B, meat, 0.0, C);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, C, B, 0.0, V);
    for (size_t j = 0; j < p; j++) {
        beta[j] = gsl_vector_get(b, j);
        for (size_t l = 0; l < p; l++)
            vcov[j * p + l] = gsl_matrix_get(V, j, l);
    }
    gsl_matrix_free(B);
    gsl_matrix_free(meat);
    gsl_matrix_free(C);
    gsl_matrix_free(V);
    gsl_vector_free(u);
    gsl_vector_free(b);
    free(r);
    free(rows);
    return alpha;
}

static void test_matches_naive(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 20240611);
    for (int rep = 0; rep < 6; rep++) {
        test_cldata d;
        test_cldata_make(&d, rng, 5 + 2 * rep, 2 + rep, rep == 3 ? 0.0 : 1.0, 1.0, 0.5);
        syf_gee_workspace *w = syf_gee_alloc(d.n, d.p, d.G);
        syf_gee_result r;
        check_ok(syf_gee_fit(w, d.n, d.X, d.y, d.cl, d.G, 0.95, &r));
        double beta[3], V[9];
        double alpha = naive_gee(&d, beta, V);
        assert_rel(r.alpha, alpha, 1e-9);
        for (size_t j = 0; j < 3; j++) {
            assert_rel(r.estimate[j], beta[j], 1e-9);
            for (size_t l = 0; l < 3; l++)
                assert_near(r.vcov[j * 3 + l], V[j * 3 + l], 1e-9 * sqrt(V[j * 4] * V[l * 4]));
        }
        syf_gee_free(w);
        test_cldata_free(&d);
    }
    gsl_rng_free(rng);
}

/* Every cluster a single row: alpha = 0, the fit is OLS and the robust
 * variance is HC0 (= CR0 with one row per cluster). */
static void test_singletons_are_ols_hc0(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 4);
    test_cldata d;
    test_cldata_make(&d, rng, 40, 1, 1.0, 1.0, 0.5);
    /* cluster 0 was given 2 rows: split it */
    size_t G = d.n;
    for (size_t i = 0; i < d.n; i++)
        d.cl[i] = i;
    syf_gee_workspace *w = syf_gee_alloc(d.n, 3, G);
    syf_gee_result r;
    check_ok(syf_gee_fit(w, d.n, d.X, d.y, d.cl, G, 0.9, &r));
    assert_true(r.alpha == 0);
    syf_ols_workspace *wo = syf_ols_alloc(d.n, 3, 1);
    syf_ols_result ro;
    check_ok(syf_ols_fit(wo, d.n, d.X, d.y, NULL, 0, SYF_VCOV_CR0, 0.9, &ro));
    for (size_t j = 0; j < 3; j++) {
        assert_rel(r.estimate[j], ro.estimate[j], 1e-12);
        assert_rel(r.std_error[j], ro.std_error[j], 1e-10);
    }
    /* Model-based variance: phi (X'X)^{-1}, phi = RSS / n. */
    gsl_matrix *XtX = gsl_matrix_calloc(3, 3);
    gsl_matrix_const_view Xm = gsl_matrix_const_view_array(d.X, d.n, 3);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Xm.matrix, &Xm.matrix, 0.0, XtX);
    gsl_linalg_cholesky_decomp1(XtX);
    gsl_linalg_cholesky_invert(XtX);
    for (size_t j = 0; j < 3; j++)
        assert_rel(r.std_error_naive[j], sqrt(ro.rss / d.n * gsl_matrix_get(XtX, j, j)), 1e-10);
    gsl_matrix_free(XtX);
    assert_rel(r.scale, ro.rss / d.n, 1e-12);
    /* 90% normal interval */
    assert_rel(r.conf_high[1] - r.estimate[1], 1.6448536269514722 * r.std_error[1], 1e-12);
    syf_ols_free(wo);
    syf_gee_free(w);
    test_cldata_free(&d);
    gsl_rng_free(rng);
}

static void test_invariances(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 8);
    test_cldata d;
    test_cldata_make(&d, rng, 12, 6, 1.0, 1.0, 0.5);
    size_t n = d.n, G = d.G;
    syf_gee_workspace *w = syf_gee_alloc(n, 3, G);
    syf_gee_result r;
    check_ok(syf_gee_fit(w, n, d.X, d.y, d.cl, G, 0.95, &r));
    double b[3], se[3], alpha = r.alpha, scale = r.scale;
    for (size_t j = 0; j < 3; j++) {
        b[j] = r.estimate[j];
        se[j] = r.std_error[j];
    }
    /* y -> -2 y + X gamma */
    double *y2 = malloc(n * sizeof *y2), gam[3] = {1.0, 0.25, -4.0};
    for (size_t i = 0; i < n; i++)
        y2[i] = -2 * d.y[i] + gam[0] + gam[1] * d.X[3 * i + 1] + gam[2] * d.X[3 * i + 2];
    check_ok(syf_gee_fit(w, n, d.X, y2, d.cl, G, 0.95, &r));
    for (size_t j = 0; j < 3; j++) {
        assert_rel(r.estimate[j], -2 * b[j] + gam[j], 1e-9);
        assert_rel(r.std_error[j], 2 * se[j], 1e-9);
    }
    assert_rel(r.alpha, alpha, 1e-9);
    assert_rel(r.scale, 4 * scale, 1e-9);
    /* Rows reversed, clusters relabelled. */
    double *X3 = malloc(n * 3 * sizeof *X3), *y3 = malloc(n * sizeof *y3);
    size_t *c3 = malloc(n * sizeof *c3);
    for (size_t i = 0; i < n; i++) {
        memcpy(X3 + 3 * i, d.X + 3 * (n - 1 - i), 3 * sizeof *X3);
        y3[i] = d.y[n - 1 - i];
        c3[i] = (d.cl[n - 1 - i] * 5 + 1) % G; /* a permutation: gcd(5, 12) = 1 */
    }
    check_ok(syf_gee_fit(w, n, X3, y3, c3, G, 0.95, &r));
    for (size_t j = 0; j < 3; j++) {
        assert_rel(r.estimate[j], b[j], 1e-10);
        assert_rel(r.std_error[j], se[j], 1e-10);
    }
    assert_rel(r.alpha, alpha, 1e-10);
    syf_gee_free(w);
    free(y2);
    free(X3);
    free(y3);
    free(c3);
    test_cldata_free(&d);
    gsl_rng_free(rng);
}

static void test_errors(void **state)
{
    (void)state;
    double X[2 * 8] = {1, 0, 1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1, 6, 1, 7};
    double y[8] = {1, 3, 2, 5, 4, 6, 8, 7};
    size_t cl[8] = {0, 0, 1, 1, 2, 2, 3, 3};
    syf_gee_workspace *w = syf_gee_alloc(8, 2, 4);
    syf_gee_result r;
    assert_int_equal(syf_gee_fit(w, 8, X, y, cl, 1, 0.95, &r), SYF_EINPUT);  /* G < 2 */
    assert_int_equal(syf_gee_fit(w, 2, X, y, cl, 2, 0.95, &r), SYF_EINPUT);  /* n <= p */
    assert_int_equal(syf_gee_fit(w, 9, X, y, cl, 4, 0.95, &r), SYF_EINPUT);  /* n > n_max */
    assert_int_equal(syf_gee_fit(w, 8, X, y, cl, 5, 0.95, &r), SYF_EINPUT);  /* G > G_max */
    assert_int_equal(syf_gee_fit(w, 8, X, y, cl, 4, -1, &r), SYF_EINPUT);    /* level */
    assert_int_equal(syf_gee_fit(w, 8, X, y, NULL, 4, 0.95, &r), SYF_EINPUT);
    assert_int_equal(syf_gee_fit(w, 6, X, y, cl, 4, 0.95, &r), SYF_EINPUT);  /* empty */
    assert_non_null(strstr(syf_error_message(), "no rows"));
    assert_int_equal(syf_gee_fit(w, 8, X, y, cl, 3, 0.95, &r), SYF_EINPUT);  /* code >= G */
    X[5] = INFINITY;
    assert_int_equal(syf_gee_fit(w, 8, X, y, cl, 4, 0.95, &r), SYF_EINPUT);
    X[5] = 2;
    double Xc[2 * 8] = {1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3};
    assert_int_equal(syf_gee_fit(w, 8, Xc, y, cl, 4, 0.95, &r), SYF_ESINGULAR);
    double ye[8];
    for (size_t i = 0; i < 8; i++)
        ye[i] = 2 - X[2 * i + 1];
    assert_int_equal(syf_gee_fit(w, 8, X, ye, cl, 4, 0.95, &r), SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "exactly"));
    /* Residuals constant within clusters (intercept only): alpha -> 1. */
    double X1[8] = {1, 1, 1, 1, 1, 1, 1, 1}, yc[8] = {1, 1, 3, 3, 2, 2, 7, 7};
    syf_gee_workspace *w1 = syf_gee_alloc(8, 1, 4);
    assert_int_equal(syf_gee_fit(w1, 8, X1, yc, cl, 4, 0.95, &r), SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "positive definite"));
    /* Strongly negative within-cluster correlation in pairs is allowed down
     * to alpha > -1; here the pairs are exact opposites: alpha = -1. */
    double yn[8] = {1, -1, 2, -2, 3, -3, 0.5, -0.5};
    assert_int_equal(syf_gee_fit(w1, 8, X1, yn, cl, 4, 0.95, &r), SYF_ESINGULAR);
    /* A valid fit on the same workspace afterwards. */
    check_ok(syf_gee_fit(w, 8, X, y, cl, 4, 0, &r));
    assert_rel(r.level, 0.95, 1e-15);
    assert_true(r.iterations >= 1);
    assert_null(syf_gee_alloc(8, 0, 4));
    syf_gee_free(NULL);
    syf_gee_free(w);
    syf_gee_free(w1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_petersen_reference), cmocka_unit_test(test_stepped_wedge_reference),
        cmocka_unit_test(test_sleep_reference),    cmocka_unit_test(test_matches_naive),
        cmocka_unit_test(test_singletons_are_ols_hc0), cmocka_unit_test(test_invariances),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
