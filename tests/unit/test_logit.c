/* test_logit.c — logistic regression (analysis/logit.c).
 *
 *   - frozen reference numbers: the Petersen (2009) logit (y > 0) ~ x
 *     clustered by firm (validation README §2, Stata values from the
 *     sandwich package tests) and the same fit recomputed with more digits
 *     for every variance type;
 *   - exact limits: with one binary regressor the MLE and its model-based
 *     variance have closed forms; with one row per cluster CR0 is HC0;
 *   - property tests: a naive Newton fit and sandwich written here with GSL
 *     LU on random data with clusters, invariances (row order, rescaling a
 *     regressor, flipping the outcome), workspace reuse, and the errors
 *     (complete and quasi-complete separation, collinearity, non-binary
 *     outcome, bad clusters).
 * Run from the repository root (reads tests/data/petersen.csv).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/logit.h"

#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Petersen: logit of (y > 0) on 1, x; cluster = firm (500 firms). */

static void test_petersen(void **state)
{
    (void)state;
    static const char *const cols[] = {"x"};
    syf_dataset *d = test_read("tests/data/petersen.csv");
    const double *yc = test_column(d, "y");
    size_t n = d->n_rows, G, p;
    size_t *firm = test_factor(d, "firm", &G, NULL);
    double *X = test_design(d, 1, cols, 1, NULL, &p), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i] = yc[i] > 0;
    assert_int_equal(G, 500);
    syf_logit_workspace *w = syf_logit_alloc(n, 2, G);
    syf_logit_result r;

    /* Validation README §2: "Logit (y>0) ~ x, cluster by firm: var 0.00358954
     * (intercept), 0.00275766 (x), cov 0.00001531" (sandwich tests, Stata).
     * Stata's logit vce(cluster) applies G/(G-1) only: our CR1.  Checked to
     * the 6 significant digits printed. */
    check_ok(syf_logit_fit(w, n, X, y, firm, G, SYF_LOGIT_VCOV_CR1, 0.95, &r));
    assert_rel(r.vcov[0], 0.00358954, 5e-6);
    assert_rel(r.vcov[3], 0.00275766, 5e-6);
    assert_rel(r.vcov[1], 0.00001531, 5e-4); /* 4 digits printed */
    assert_rel(r.vcov[2], 0.00001531, 5e-4);
    /* [recomputed with sandwich 3.0-2, R 4.2.2: glm(yb ~ x, binomial,
     * epsilon = 1e-14); vcovCL(m, cluster = ~firm, type = "HC0") (default
     * cadjust = TRUE, i.e. G/(G-1)); sprintf("%.12g")] */
    assert_rel(r.estimate[0], 0.0359459790603, 1e-9);
    assert_rel(r.estimate[1], 0.811889755454, 1e-10);
    assert_rel(r.vcov[0], 0.00358953653264, 1e-9);
    assert_rel(r.vcov[1], 1.53143249179e-05, 1e-8);
    assert_rel(r.vcov[3], 0.00275766084195, 1e-9);
    assert_rel(r.std_error[1], 0.052513434871, 1e-9);
    assert_rel(r.loglik, -3133.16929663, 1e-11);
    assert_rel(r.loglik_null, -5000 * log(2.0), 1e-12);
    assert_rel(r.statistic[1], 0.811889755454 / 0.052513434871, 1e-9);
    assert_rel(r.conf_high[1] - r.estimate[1], 1.959963984540054 * 0.052513434871, 1e-9);
    /* vcov(glm) model-based, and SE printed by summary(glm) */
    assert_rel(r.vcov_model[0], 0.000914967312895, 1e-9);
    assert_rel(r.vcov_model[1], 8.49781973234e-07, 1e-8);
    assert_rel(r.vcov_model[3], 0.00119788882556, 1e-9);
    check_ok(syf_logit_fit(w, n, X, y, firm, G, SYF_LOGIT_VCOV_MODEL, 0.95, &r));
    assert_rel(r.std_error[0], 0.0302484266185, 1e-9);
    assert_rel(r.std_error[1], 0.0346105305588, 1e-9);
    /* vcovCL(..., type = "HC0", cadjust = FALSE): CR0 */
    check_ok(syf_logit_fit(w, n, X, y, firm, G, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    assert_rel(r.vcov[0], 0.00358235745957, 1e-9);
    assert_rel(r.vcov[1], 1.52836962681e-05, 1e-8);
    assert_rel(r.vcov[3], 0.00275214552026, 1e-9);
    /* vcovCL(..., type = "HC1"): G/(G-1) (n-1)/(n-p), CR1S */
    check_ok(syf_logit_fit(w, n, X, y, firm, G, SYF_LOGIT_VCOV_CR1S, 0.95, &r));
    assert_rel(r.vcov[0], 0.00359025472722, 1e-9);
    assert_rel(r.vcov[1], 1.53173890085e-05, 1e-8);
    assert_rel(r.vcov[3], 0.00275821259482, 1e-9);
    assert_rel(r.std_error[1], 0.0525186880531, 1e-9);
    assert_true(r.iterations >= 3 && r.iterations <= 10);
    syf_logit_free(w);
    free(X);
    free(y);
    free(firm);
    syf_dataset_free(d);
}

/* One binary regressor: b0 = logit(p0), b1 = logit(p1) - logit(p0), and
 * Var(b1) = 1/(n1 p1 (1-p1)) + 1/(n0 p0 (1-p0)). */
static void test_two_groups_closed_form(void **state)
{
    (void)state;
    const size_t n0 = 37, n1 = 53, n = n0 + n1;
    const size_t k0 = 11, k1 = 31; /* successes */
    double *X = malloc(2 * n * sizeof *X), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        int g = i >= n0;
        X[2 * i] = 1;
        X[2 * i + 1] = g;
        y[i] = g ? (i - n0 < k1) : (i < k0);
    }
    double p0 = (double)k0 / n0, p1 = (double)k1 / n1;
    syf_logit_workspace *w = syf_logit_alloc(n, 2, 1);
    syf_logit_result r;
    check_ok(syf_logit_fit(w, n, X, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0.9, &r));
    assert_rel(r.estimate[0], log(p0 / (1 - p0)), 1e-12);
    assert_rel(r.estimate[1], log(p1 / (1 - p1)) - log(p0 / (1 - p0)), 1e-12);
    assert_rel(r.vcov[0], 1 / (n0 * p0 * (1 - p0)), 1e-10);
    assert_rel(r.vcov[3], 1 / (n1 * p1 * (1 - p1)) + 1 / (n0 * p0 * (1 - p0)), 1e-10);
    assert_rel(r.level, 0.9, 0);
    assert_rel(r.conf_high[1] - r.estimate[1], 1.6448536269514722 * r.std_error[1], 1e-12);
    double ll = k0 * log(p0) + (n0 - k0) * log(1 - p0) + k1 * log(p1) + (n1 - k1) * log(1 - p1);
    assert_rel(r.loglik, ll, 1e-12);
    /* HC0 (one row per cluster) equals CR0 with distinct codes */
    size_t *cl = malloc(n * sizeof *cl);
    for (size_t i = 0; i < n; i++)
        cl[i] = n - 1 - i;
    check_ok(syf_logit_fit(w, n, X, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    double v_hc0 = r.vcov[3];
    assert_int_equal(r.G, n);
    /* in the saturated two-group model sum_g (y - p)^2 = n_g p (1 - p) in
     * each group, so HC0 equals the model-based variance */
    assert_rel(v_hc0, 1 / (n1 * p1 * (1 - p1)) + 1 / (n0 * p0 * (1 - p0)), 1e-10);
    syf_logit_workspace *w2 = syf_logit_alloc(n, 2, n);
    check_ok(syf_logit_fit(w2, n, X, y, cl, n, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    assert_rel(r.vcov[3], v_hc0, 1e-12);
    syf_logit_free(w);
    syf_logit_free(w2);
    free(cl);
    free(X);
    free(y);
}

/* ------------------------------------------------------------------------ */
/* Naive reference: Newton with GSL LU and explicit sandwich. */

static void naive_fit(size_t n, size_t p, const double *X, const double *y, const size_t *cl,
                      size_t G, double *b, double *Vm, double *Vr)
{
    gsl_matrix *I = gsl_matrix_alloc(p, p), *Inv = gsl_matrix_alloc(p, p);
    gsl_vector *U = gsl_vector_alloc(p), *s = gsl_vector_alloc(p);
    gsl_permutation *perm = gsl_permutation_alloc(p);
    int sgn;
    memset(b, 0, p * sizeof *b);
    for (int it = 0; it < 100; it++) {
        gsl_matrix_set_zero(I);
        gsl_vector_set_zero(U);
        for (size_t i = 0; i < n; i++) {
            double eta = 0;
            for (size_t j = 0; j < p; j++)
                eta += X[i * p + j] * b[j];
            double mu = 1 / (1 + exp(-eta));
            for (size_t j = 0; j < p; j++) {
                *gsl_vector_ptr(U, j) += (y[i] - mu) * X[i * p + j];
                for (size_t l = 0; l < p; l++)
                    *gsl_matrix_ptr(I, j, l) += mu * (1 - mu) * X[i * p + j] * X[i * p + l];
            }
        }
        gsl_linalg_LU_decomp(I, perm, &sgn);
        gsl_linalg_LU_solve(I, perm, U, s);
        for (size_t j = 0; j < p; j++)
            b[j] += gsl_vector_get(s, j);
    }
    /* at the estimate */
    gsl_matrix_set_zero(I);
    double *S = calloc(G * p, sizeof *S);
    for (size_t i = 0; i < n; i++) {
        double eta = 0;
        for (size_t j = 0; j < p; j++)
            eta += X[i * p + j] * b[j];
        double mu = 1 / (1 + exp(-eta));
        for (size_t j = 0; j < p; j++) {
            S[cl[i] * p + j] += (y[i] - mu) * X[i * p + j];
            for (size_t l = 0; l < p; l++)
                *gsl_matrix_ptr(I, j, l) += mu * (1 - mu) * X[i * p + j] * X[i * p + l];
        }
    }
    gsl_linalg_LU_decomp(I, perm, &sgn);
    gsl_linalg_LU_invert(I, perm, Inv);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            Vm[j * p + l] = gsl_matrix_get(Inv, j, l);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++) {
            double v = 0;
            for (size_t a = 0; a < p; a++)
                for (size_t c = 0; c < p; c++) {
                    double m = 0;
                    for (size_t g = 0; g < G; g++)
                        m += S[g * p + a] * S[g * p + c];
                    v += Vm[j * p + a] * m * Vm[c * p + l];
                }
            Vr[j * p + l] = v * G / (G - 1.0);
        }
    free(S);
    gsl_matrix_free(I);
    gsl_matrix_free(Inv);
    gsl_vector_free(U);
    gsl_vector_free(s);
    gsl_permutation_free(perm);
}

static void random_logit(gsl_rng *rng, size_t n, size_t p, size_t G, double *X, double *y,
                         size_t *cl)
{
    for (size_t i = 0; i < n; i++) {
        cl[i] = i < G ? i : (size_t)floor(G * pow(gsl_rng_uniform(rng), 2.0));
        X[i * p] = 1;
        double eta = -0.3;
        for (size_t j = 1; j < p; j++) {
            X[i * p + j] = j == 2 ? (double)(gsl_rng_uniform(rng) < 0.3)
                                  : gsl_ran_gaussian(rng, 1.0) + 0.2 * (double)(cl[i] % 3);
            eta += (0.5 - 0.3 * (double)j) * X[i * p + j];
        }
        y[i] = gsl_rng_uniform(rng) < 1 / (1 + exp(-eta));
    }
}

static void test_against_naive(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 31337);
    const size_t n = 400, p = 4, G = 23;
    double *X = malloc(n * p * sizeof *X), *y = malloc(n * sizeof *y);
    size_t *cl = malloc(n * sizeof *cl);
    double b[4], Vm[16], Vr[16];
    syf_logit_workspace *w = syf_logit_alloc(n, p, G);
    for (int rep = 0; rep < 5; rep++) {
        random_logit(rng, n, p, G, X, y, cl);
        naive_fit(n, p, X, y, cl, G, b, Vm, Vr);
        syf_logit_result r;
        check_ok(syf_logit_fit(w, n, X, y, cl, G, SYF_LOGIT_VCOV_CR1, 0.95, &r));
        for (size_t j = 0; j < p; j++) {
            assert_rel(r.estimate[j], b[j], 1e-9);
            assert_rel(r.p_value[j], erfc(fabs(r.statistic[j]) / sqrt(2.0)), 1e-6);
        }
        for (size_t k = 0; k < p * p; k++) {
            assert_rel(r.vcov_model[k], Vm[k], 1e-8);
            assert_rel(r.vcov[k], Vr[k], 1e-8);
        }
        /* fitted probabilities */
        for (size_t i = 0; i < n; i += 37) {
            double eta = 0;
            for (size_t j = 0; j < p; j++)
                eta += X[i * p + j] * b[j];
            assert_rel(r.fitted[i], 1 / (1 + exp(-eta)), 1e-9);
        }
    }
    syf_logit_free(w);
    free(X);
    free(y);
    free(cl);
    gsl_rng_free(rng);
}

/* Reordering rows changes nothing; scaling regressor j by c scales b_j and
 * its SE by 1/c; flipping y negates b with the same SEs. */
static void test_invariances(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 8);
    const size_t n = 300, p = 3, G = 15;
    double *X = malloc(n * p * sizeof *X), *y = malloc(n * sizeof *y);
    double *X2 = malloc(n * p * sizeof *X2), *y2 = malloc(n * sizeof *y2);
    size_t *cl = malloc(n * sizeof *cl), *cl2 = malloc(n * sizeof *cl2);
    random_logit(rng, n, p, G, X, y, cl);
    syf_logit_workspace *w = syf_logit_alloc(n, p, G);
    syf_logit_result r;
    check_ok(syf_logit_fit(w, n, X, y, cl, G, SYF_LOGIT_VCOV_CR1, 0.95, &r));
    double b[3], se[3], ll = r.loglik;
    for (size_t j = 0; j < p; j++) {
        b[j] = r.estimate[j];
        se[j] = r.std_error[j];
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = (i * 7) % n; /* 7 and 300 coprime: a permutation */
        memcpy(X2 + k * p, X + i * p, p * sizeof *X);
        X2[k * p + 1] *= 4.0;
        y2[k] = y[i];
        cl2[k] = cl[i];
    }
    check_ok(syf_logit_fit(w, n, X2, y2, cl2, G, SYF_LOGIT_VCOV_CR1, 0.95, &r));
    assert_rel(r.loglik, ll, 1e-12);
    assert_rel(r.estimate[0], b[0], 1e-9);
    assert_rel(r.estimate[1], b[1] / 4, 1e-9);
    assert_rel(r.std_error[1], se[1] / 4, 1e-8);
    assert_rel(r.std_error[2], se[2], 1e-8);
    for (size_t i = 0; i < n; i++)
        y2[i] = 1 - y[i];
    check_ok(syf_logit_fit(w, n, X, y2, cl, G, SYF_LOGIT_VCOV_CR1, 0.95, &r));
    for (size_t j = 0; j < p; j++) {
        assert_rel(r.estimate[j], -b[j], 1e-9);
        assert_rel(r.std_error[j], se[j], 1e-8);
    }
    syf_logit_free(w);
    free(X);
    free(y);
    free(X2);
    free(y2);
    free(cl);
    free(cl2);
    gsl_rng_free(rng);
}

static void test_errors(void **state)
{
    (void)state;
    const size_t n = 12;
    double X[24], y[12];
    for (size_t i = 0; i < n; i++) {
        X[2 * i] = 1;
        X[2 * i + 1] = (double)i - 5.5;
        y[i] = (i % 3) == 0 || i > 8;
    }
    syf_logit_workspace *w = syf_logit_alloc(n, 2, 3);
    syf_logit_result r;
    check_ok(syf_logit_fit(w, n, X, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r));
    /* complete separation: y = (x > 0) */
    double ys[12];
    for (size_t i = 0; i < n; i++)
        ys[i] = X[2 * i + 1] > 0;
    assert_int_equal(syf_logit_fit(w, n, X, ys, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r),
                     SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "separated"));
    /* quasi-complete separation: a dummy d whose rows all have y = 1 (y is
     * mixed where d = 0, so only the dummy's coefficient is infinite) */
    {
        double Xq[36];
        for (size_t i = 0; i < n; i++) {
            Xq[3 * i] = 1;
            Xq[3 * i + 1] = X[2 * i + 1];
            Xq[3 * i + 2] = i >= 9;
            ys[i] = i >= 9 || (i % 3) == 0;
        }
        syf_logit_workspace *w3 = syf_logit_alloc(n, 3, 1);
        assert_int_equal(syf_logit_fit(w3, n, Xq, ys, NULL, 0, SYF_LOGIT_VCOV_CR0, 0, &r),
                         SYF_ESINGULAR);
        assert_non_null(strstr(syf_error_message(), "separated"));
        syf_logit_free(w3);
    }
    /* an all-ones outcome is separation by the intercept */
    for (size_t i = 0; i < n; i++)
        ys[i] = 1;
    assert_int_equal(syf_logit_fit(w, n, X, ys, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r),
                     SYF_ESINGULAR);
    /* non-binary outcome */
    memcpy(ys, y, sizeof y);
    ys[4] = 2;
    assert_int_equal(syf_logit_fit(w, n, X, ys, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "row 5"));
    /* collinear */
    double Xc[24];
    for (size_t i = 0; i < n; i++) {
        Xc[2 * i] = 3;
        Xc[2 * i + 1] = 1.5;
    }
    assert_int_equal(syf_logit_fit(w, n, Xc, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r),
                     SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "singular"));
    Xc[1] = NAN;
    assert_int_equal(syf_logit_fit(w, n, Xc, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r), SYF_EINPUT);
    /* clusters */
    size_t cl[12], cl1[12] = {0};
    for (size_t i = 0; i < n; i++)
        cl[i] = i % 3;
    check_ok(syf_logit_fit(w, n, X, y, cl, 3, SYF_LOGIT_VCOV_CR1, 0, &r));
    assert_int_equal(syf_logit_fit(w, n, X, y, cl1, 1, SYF_LOGIT_VCOV_CR1, 0, &r), SYF_EINPUT);
    assert_int_equal(syf_logit_fit(w, n, X, y, cl, 4, SYF_LOGIT_VCOV_CR1, 0, &r), SYF_EINPUT);
    cl[0] = 7;
    assert_int_equal(syf_logit_fit(w, n, X, y, cl, 3, SYF_LOGIT_VCOV_CR1, 0, &r), SYF_EINPUT);
    assert_int_equal(syf_logit_fit(w, 2, X, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r), SYF_EINPUT);
    assert_int_equal(syf_logit_fit(w, n + 1, X, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r),
                     SYF_EINPUT);
    assert_int_equal(syf_logit_fit(w, n, X, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 1, &r), SYF_EINPUT);
    /* still usable after errors */
    check_ok(syf_logit_fit(w, n, X, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r));
    assert_null(syf_logit_alloc(5, 0, 1));
    syf_logit_free(w);
    syf_logit_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_petersen),      cmocka_unit_test(test_two_groups_closed_form),
        cmocka_unit_test(test_against_naive), cmocka_unit_test(test_invariances),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
