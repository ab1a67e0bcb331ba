/* test_ipw.c — inverse-probability-weighted ATE (analysis/ipw.c).
 *
 *   - frozen reference numbers on tests/data/ipw_example.csv, computed by
 *     hand in R (glm for the propensity score; the stacked M-estimation
 *     sandwich A^{-1} B A^{-T} built as explicit 5 x 5 matrices, A checked
 *     against central differences of the estimating functions);
 *   - property tests: the same sandwich built naively here (A by central
 *     differences, GSL LU inverse) on random clustered data; an
 *     intercept-only propensity model gives exactly the difference in means
 *     and its unpooled variance; with randomised treatment the estimate is
 *     close to the difference in means; with confounding it recovers the
 *     true effect while the difference in means does not, and over
 *     replications its SE matches the sampling SD;
 *   - errors (non-binary or one-armed treatment, no overlap).
 * Run from the repository root.
 *
 * tests/data/ipw_example.csv was generated with (R 4.2.2):
 *   set.seed(20261122); n <- 200; G <- 20; cl <- rep(1:G, each = n / G)
 *   u <- rnorm(G, sd = 0.7)[cl]; x1 <- round(rnorm(n), 4)
 *   x2 <- rbinom(n, 1, 0.4)
 *   ps <- plogis(-0.3 + 0.8 * x1 - 0.6 * x2 + 0.3 * (u > 0))
 *   z <- rbinom(n, 1, ps); y <- round(1 + 2 * z + 1.5 * x1 + x2 + u + rnorm(n), 4)
 *   write.csv(data.frame(clinic = sprintf("c%02d", cl), x1, x2, z, y), ...)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/ipw.h"

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

/* [recomputed by hand in R 4.2.2: glm(z ~ x1 + x2, binomial, epsilon =
 * 1e-14); Hajek means; V = A^{-1} B A^{-T} for theta = (b, mu1, mu0), A the
 * analytic derivative (agrees with central differences to 5e-11), B =
 * crossprod(psi) or crossprod(rowsum(psi, clinic)); sprintf("%.12g")] */
static void test_example_reference(void **state)
{
    (void)state;
    static const char *const cols[] = {"x1", "x2"};
    syf_dataset *d = test_read("tests/data/ipw_example.csv");
    const double *z = test_column(d, "z"), *y = test_column(d, "y");
    size_t n = d->n_rows, G, p;
    size_t *cl = test_factor(d, "clinic", &G, NULL);
    assert_int_equal(n, 200);
    assert_int_equal(G, 20);
    double *X = test_design(d, 1, cols, 2, NULL, &p);
    assert_int_equal(p, 3);
    syf_ipw_workspace *w = syf_ipw_alloc(n, 3, G);
    syf_ipw_result r;
    check_ok(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    assert_int_equal(r.n_treated, 81);
    assert_rel(r.ps.estimate[0], -0.409585893361, 1e-9);
    assert_rel(r.ps.estimate[1], 1.14327759074, 1e-9);
    assert_rel(r.ps.estimate[2], -0.220759096977, 1e-9);
    assert_rel(r.mu1, 3.48941183426, 1e-10);
    assert_rel(r.mu0, 1.46038810299, 1e-10);
    assert_rel(r.estimate, 2.02902373126, 1e-10);
    assert_rel(r.std_error, 0.204978468492, 1e-9);
    assert_rel(r.std_error_known_ps, 0.378487991471, 1e-9);
    assert_rel(r.ps_min, 0.0153695309251, 1e-8);
    assert_rel(r.ps_max, 0.958796612562, 1e-9);
    assert_rel(r.ess1, 50.0830067814, 1e-9);
    assert_rel(r.ess0, 100.967211152, 1e-9);
    assert_rel(r.statistic, 2.02902373126 / 0.204978468492, 1e-9);
    assert_rel(r.conf_low, 2.02902373126 - 1.959963984540054 * 0.204978468492, 1e-9);
    /* clustered by clinic, G/(G-1) */
    check_ok(syf_ipw_fit(w, n, X, z, y, cl, G, SYF_LOGIT_VCOV_CR1, 0.95, &r));
    assert_rel(r.estimate, 2.02902373126, 1e-10);
    assert_rel(r.std_error, 0.188946067372, 1e-9);
    assert_rel(r.std_error_known_ps, 0.293653010092, 1e-9);
    check_ok(syf_ipw_fit(w, n, X, z, y, cl, G, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    assert_rel(r.std_error, 0.184161846093, 1e-9);
    /* CR1S: G/(G-1) (n-1)/(n-5) */
    check_ok(syf_ipw_fit(w, n, X, z, y, cl, G, SYF_LOGIT_VCOV_CR1S, 0.95, &r));
    assert_rel(r.std_error, 0.188946067372 * sqrt(199.0 / 195.0), 1e-9);
    /* each row its own cluster = no cluster */
    size_t *own = malloc(n * sizeof *own);
    for (size_t i = 0; i < n; i++)
        own[i] = (i * 13) % n;
    syf_ipw_workspace *w2 = syf_ipw_alloc(n, 3, n);
    check_ok(syf_ipw_fit(w2, n, X, z, y, own, n, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    assert_rel(r.std_error, 0.204978468492, 1e-9);
    syf_ipw_free(w2);
    free(own);
    syf_ipw_free(w);
    free(X);
    free(cl);
    syf_dataset_free(d);
}

/* ------------------------------------------------------------------------ */
/* Naive stacked sandwich: theta = (b[p], mu1, mu0). */

static void stacked_psi(size_t n, size_t p, const double *X, const double *z, const double *y,
                        const double *th, double *psi /* n x (p+2) */)
{
    size_t q = p + 2;
    for (size_t i = 0; i < n; i++) {
        double eta = 0;
        for (size_t j = 0; j < p; j++)
            eta += X[i * p + j] * th[j];
        double e = 1 / (1 + exp(-eta));
        for (size_t j = 0; j < p; j++)
            psi[i * q + j] = (z[i] - e) * X[i * p + j];
        psi[i * q + p] = z[i] * (y[i] - th[p]) / e;
        psi[i * q + p + 1] = (1 - z[i]) * (y[i] - th[p + 1]) / (1 - e);
    }
}

/* SE of mu1 - mu0 from A^{-1} B A^{-T} with A by central differences. */
static double naive_se(size_t n, size_t p, const double *X, const double *z, const double *y,
                       const size_t *cl, size_t G, const double *theta, double factor)
{
    size_t q = p + 2;
    double *psi = malloc(n * q * sizeof *psi), *th = malloc(q * sizeof *th);
    gsl_matrix *A = gsl_matrix_alloc(q, q), *Ai = gsl_matrix_alloc(q, q);
    gsl_permutation *perm = gsl_permutation_alloc(q);
    for (size_t k = 0; k < q; k++) {
        double h = 1e-5 * fmax(1.0, fabs(theta[k])), sp[8] = {0}, sm[8] = {0};
        memcpy(th, theta, q * sizeof *th);
        th[k] += h;
        stacked_psi(n, p, X, z, y, th, psi);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < q; j++)
                sp[j] += psi[i * q + j];
        th[k] -= 2 * h;
        stacked_psi(n, p, X, z, y, th, psi);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < q; j++)
                sm[j] += psi[i * q + j];
        for (size_t j = 0; j < q; j++)
            gsl_matrix_set(A, j, k, -(sp[j] - sm[j]) / (2 * h));
    }
    int sgn;
    gsl_linalg_LU_decomp(A, perm, &sgn);
    gsl_linalg_LU_invert(A, perm, Ai);
    stacked_psi(n, p, X, z, y, theta, psi);
    /* c' A^{-1} = row p of Ai minus row p+1 */
    double *cA = malloc(q * sizeof *cA), *gs = calloc(G, sizeof *gs);
    for (size_t j = 0; j < q; j++)
        cA[j] = gsl_matrix_get(Ai, p, j) - gsl_matrix_get(Ai, p + 1, j);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < q; j++)
            gs[cl ? cl[i] : i] += cA[j] * psi[i * q + j];
    double v = 0;
    for (size_t g = 0; g < G; g++)
        v += gs[g] * gs[g];
    free(psi);
    free(th);
    free(cA);
    free(gs);
    gsl_matrix_free(A);
    gsl_matrix_free(Ai);
    gsl_permutation_free(perm);
    return sqrt(factor * v);
}

/* Confounded data: x1 ~ N, x2 ~ Bern(.4); z ~ logit(a + 1.0 x1 - 0.5 x2);
 * y = tau z + 2 x1 + x2 + cluster effect + N(0, 1). */
static void confounded(gsl_rng *rng, size_t n, size_t G, double strength, double tau, double *X,
                       double *z, double *y, size_t *cl)
{
    for (size_t i = 0; i < n; i++) {
        cl[i] = i % G;
        X[3 * i] = 1;
        X[3 * i + 1] = gsl_ran_gaussian(rng, 1.0);
        X[3 * i + 2] = gsl_rng_uniform(rng) < 0.4;
        double eta = -0.2 + strength * (X[3 * i + 1] - 0.5 * X[3 * i + 2]);
        z[i] = gsl_rng_uniform(rng) < 1 / (1 + exp(-eta));
        y[i] = tau * z[i] + 2 * X[3 * i + 1] + X[3 * i + 2] + 0.3 * (double)(cl[i] % 4) +
               gsl_ran_gaussian(rng, 1.0);
    }
}

static void test_against_naive_sandwich(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 2024);
    const size_t n = 500, G = 25, p = 3;
    double *X = malloc(n * p * sizeof *X), *z = malloc(n * sizeof *z), *y = malloc(n * sizeof *y);
    size_t *cl = malloc(n * sizeof *cl);
    syf_ipw_workspace *w = syf_ipw_alloc(n, p, G);
    for (int rep = 0; rep < 3; rep++) {
        confounded(rng, n, G, 1.0, 1.0, X, z, y, cl);
        syf_ipw_result r;
        double theta[5];
        check_ok(syf_ipw_fit(w, n, X, z, y, cl, G, SYF_LOGIT_VCOV_CR1, 0.95, &r));
        for (size_t j = 0; j < p; j++)
            theta[j] = r.ps.estimate[j];
        theta[3] = r.mu1;
        theta[4] = r.mu0;
        assert_rel(r.std_error, naive_se(n, p, X, z, y, cl, G, theta, G / (G - 1.0)), 1e-6);
        check_ok(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0.95, &r));
        assert_rel(r.std_error, naive_se(n, p, X, z, y, NULL, n, theta, 1.0), 1e-6);
        /* mu1 by its definition */
        double s = 0, a = 0;
        for (size_t i = 0; i < n; i++)
            if (z[i] == 1) {
                s += y[i] / r.ps.fitted[i];
                a += 1 / r.ps.fitted[i];
            }
        assert_rel(r.mu1, s / a, 1e-12);
    }
    syf_ipw_free(w);
    free(X);
    free(z);
    free(y);
    free(cl);
    gsl_rng_free(rng);
}

/* Intercept-only propensity model: e = n1/n for everyone, so the estimate is
 * the difference in means and the variance is the unpooled
 * sum (y - ybar1)^2 / n1^2 + sum (y - ybar0)^2 / n0^2 (h1 = h0 = 0). */
static void test_intercept_only_is_difference_in_means(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 77);
    const size_t n = 300;
    double *X3 = malloc(3 * n * sizeof *X3), *X = malloc(n * sizeof *X), *z = malloc(n * sizeof *z),
           *y = malloc(n * sizeof *y);
    size_t *cl = malloc(n * sizeof *cl);
    confounded(rng, n, 10, 1.0, 0.5, X3, z, y, cl);
    double s1 = 0, s0 = 0, n1 = 0, n0 = 0;
    for (size_t i = 0; i < n; i++) {
        X[i] = 1;
        if (z[i] == 1) {
            s1 += y[i];
            n1++;
        } else {
            s0 += y[i];
            n0++;
        }
    }
    double m1 = s1 / n1, m0 = s0 / n0, v = 0;
    for (size_t i = 0; i < n; i++)
        v += z[i] == 1 ? (y[i] - m1) * (y[i] - m1) / (n1 * n1)
                       : (y[i] - m0) * (y[i] - m0) / (n0 * n0);
    syf_ipw_workspace *w = syf_ipw_alloc(n, 1, 1);
    syf_ipw_result r;
    check_ok(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    assert_rel(r.estimate, m1 - m0, 1e-12);
    assert_rel(r.std_error, sqrt(v), 1e-10);
    assert_rel(r.std_error_known_ps, sqrt(v), 1e-10);
    assert_rel(r.ps_min, n1 / n, 1e-12);
    assert_rel(r.ess1, n1, 1e-12);
    syf_ipw_free(w);
    free(X3);
    free(X);
    free(z);
    free(y);
    free(cl);
    gsl_rng_free(rng);
}

/* Randomised treatment (independent of the covariates): IPW is close to the
 * difference in means, and more precise because the covariates predict y. */
static void test_randomised_close_to_difference_in_means(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5150);
    const size_t n = 2000;
    double *X = malloc(3 * n * sizeof *X), *z = malloc(n * sizeof *z), *y = malloc(n * sizeof *y);
    size_t *cl = malloc(n * sizeof *cl);
    confounded(rng, n, 10, 0.0, 1.0, X, z, y, cl); /* strength 0: randomised */
    double s1 = 0, s0 = 0, n1 = 0, n0 = 0, q1 = 0, q0 = 0;
    for (size_t i = 0; i < n; i++) {
        if (z[i] == 1) {
            s1 += y[i];
            q1 += y[i] * y[i];
            n1++;
        } else {
            s0 += y[i];
            q0 += y[i] * y[i];
            n0++;
        }
    }
    double dim = s1 / n1 - s0 / n0;
    double se_dim = sqrt((q1 / n1 - (s1 / n1) * (s1 / n1)) / n1 +
                         (q0 / n0 - (s0 / n0) * (s0 / n0)) / n0);
    syf_ipw_workspace *w = syf_ipw_alloc(n, 3, 1);
    syf_ipw_result r;
    check_ok(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    /* IPW - DiM is roughly N(0, se_dim^2 - se_ipw^2) under randomisation */
    assert_true(fabs(r.estimate - dim) <
                3 * sqrt(se_dim * se_dim - r.std_error * r.std_error));
    assert_true(fabs(r.estimate - 1.0) < 3 * r.std_error);
    assert_true(r.std_error < 0.8 * se_dim);           /* covariate adjustment gains */
    assert_rel(r.std_error_known_ps, se_dim, 0.1);     /* ~ the unadjusted SE */
    assert_true(r.ps_min > 0.4 && r.ps_max < 0.6);     /* e ~ 1/2 */
    /* covariates that predict neither z nor y: IPW ~ the difference in means */
    for (size_t i = 0; i < n; i++)
        y[i] = z[i] + gsl_ran_gaussian(rng, 1.0);
    s1 = s0 = 0;
    for (size_t i = 0; i < n; i++)
        *(z[i] == 1 ? &s1 : &s0) += y[i];
    dim = s1 / n1 - s0 / n0;
    check_ok(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0.95, &r));
    assert_true(fabs(r.estimate - dim) < 0.2 * r.std_error);
    assert_rel(r.std_error, r.std_error_known_ps, 0.02);
    syf_ipw_free(w);
    free(X);
    free(z);
    free(y);
    free(cl);
    gsl_rng_free(rng);
}

/* Confounding: the difference in means is far off, IPW is within a few SE
 * of the truth; over 200 replications the mean estimate is unbiased and the
 * mean SE matches the sampling SD (and the known-score SE is too large). */
static void test_confounded_recovers_truth(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 11);
    const size_t n = 600, G = 20;
    const double tau = 1.0;
    const int reps = 200;
    double *X = malloc(3 * n * sizeof *X), *z = malloc(n * sizeof *z), *y = malloc(n * sizeof *y);
    size_t *cl = malloc(n * sizeof *cl);
    syf_ipw_workspace *w = syf_ipw_alloc(n, 3, G);
    double sum = 0, sum2 = 0, sum_se = 0, sum_se0 = 0, sum_dim = 0;
    int covered = 0;
    for (int rep = 0; rep < reps; rep++) {
        confounded(rng, n, G, 1.0, tau, X, z, y, cl);
        syf_ipw_result r;
        check_ok(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0.95, &r));
        double s1 = 0, s0 = 0, n1 = 0, n0 = 0;
        for (size_t i = 0; i < n; i++) {
            if (z[i] == 1) {
                s1 += y[i];
                n1++;
            } else {
                s0 += y[i];
                n0++;
            }
        }
        double dim = s1 / n1 - s0 / n0;
        if (rep == 0) {
            assert_true(fabs(r.estimate - tau) < 3 * r.std_error);
            assert_true(fabs(dim - tau) > 10 * r.std_error);
        }
        sum += r.estimate;
        sum2 += r.estimate * r.estimate;
        sum_se += r.std_error;
        sum_se0 += r.std_error_known_ps;
        sum_dim += dim;
        covered += r.conf_low <= tau && tau <= r.conf_high;
    }
    double mean = sum / reps, sd = sqrt((sum2 - reps * mean * mean) / (reps - 1));
    assert_true(fabs(mean - tau) < 4 * sd / sqrt(reps));
    assert_true(sum_dim / reps - tau > 1.0); /* the naive comparison is biased */
    assert_true(sum_se / reps > 0.8 * sd && sum_se / reps < 1.2 * sd);
    assert_true(sum_se0 > 1.2 * sum_se);
    assert_true(covered >= 176); /* 95% of 200 = 190, binomial SD ~3 */
    syf_ipw_free(w);
    free(X);
    free(z);
    free(y);
    free(cl);
    gsl_rng_free(rng);
}

static void test_errors(void **state)
{
    (void)state;
    const size_t n = 20;
    double X[40], z[20], y[20];
    for (size_t i = 0; i < n; i++) {
        X[2 * i] = 1;
        X[2 * i + 1] = (double)i / 4.0;
        z[i] = (i % 3 == 0) || (i > 12 && i % 2);
        y[i] = (double)i + z[i];
    }
    syf_ipw_workspace *w = syf_ipw_alloc(n, 2, 4);
    syf_ipw_result r;
    check_ok(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0, &r));
    double zz[20];
    memcpy(zz, z, sizeof z);
    zz[3] = 0.5;
    assert_int_equal(syf_ipw_fit(w, n, X, zz, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "row 4"));
    for (size_t i = 0; i < n; i++)
        zz[i] = 1;
    assert_int_equal(syf_ipw_fit(w, n, X, zz, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "treated"));
    /* no overlap: z = (x > 2) */
    for (size_t i = 0; i < n; i++)
        zz[i] = X[2 * i + 1] > 2;
    assert_int_equal(syf_ipw_fit(w, n, X, zz, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0, &r),
                     SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "overlap"));
    assert_int_equal(syf_ipw_fit(w, n, X, z, y, NULL, 0, SYF_LOGIT_VCOV_MODEL, 0, &r), SYF_EINPUT);
    double yn[20];
    memcpy(yn, y, sizeof y);
    yn[0] = NAN;
    assert_int_equal(syf_ipw_fit(w, n, X, z, yn, NULL, 0, SYF_LOGIT_VCOV_CR0, 0, &r), SYF_EINPUT);
    size_t cl[20];
    for (size_t i = 0; i < n; i++)
        cl[i] = i % 4;
    check_ok(syf_ipw_fit(w, n, X, z, y, cl, 4, SYF_LOGIT_VCOV_CR1, 0, &r));
    assert_int_equal(syf_ipw_fit(w, n, X, z, y, cl, 1, SYF_LOGIT_VCOV_CR1, 0, &r), SYF_EINPUT);
    assert_int_equal(syf_ipw_fit(w, n, X, z, y, cl, 5, SYF_LOGIT_VCOV_CR1, 0, &r), SYF_EINPUT);
    assert_int_equal(syf_ipw_fit(w, n + 1, X, z, y, NULL, 0, SYF_LOGIT_VCOV_CR0, 0, &r),
                     SYF_EINPUT);
    assert_null(syf_ipw_alloc(5, 0, 1));
    syf_ipw_free(w);
    syf_ipw_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_reference),
        cmocka_unit_test(test_against_naive_sandwich),
        cmocka_unit_test(test_intercept_only_is_difference_in_means),
        cmocka_unit_test(test_randomised_close_to_difference_in_means),
        cmocka_unit_test(test_confounded_recovers_truth),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
