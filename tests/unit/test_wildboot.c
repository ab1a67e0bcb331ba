/* test_wildboot.c — restricted wild cluster bootstrap (analysis/wildboot.c).
 *
 * Neither boottest (Stata) nor fwildclusterboot (R) is available here, so
 * the references are:
 *   - a hand-coded R computation on the first 8 firms of the Petersen (2009)
 *     data (80 rows), with all 2^8 = 256 Rademacher sign vectors enumerated:
 *     full re-estimation per draw, CR1 t, p = mean(|t*| > |t| (1 + 1e-9)),
 *     and the interval by bisection of the step function p(r) to 1e-12
 *     (the script is in the comment at the fixture);
 *   - a slow naive implementation written below (O(n) per draw: rebuild y*,
 *     refit by SVD least squares, recompute the CR1 variance from explicit
 *     cluster sums), run on random unbalanced data with the same weight
 *     vectors: enumerated Rademacher, and sampled Rademacher and Webb draws
 *     regenerated here from the documented Philox rule;
 *   - properties: t*(v = 1) = t and t*(v = -1) = -t exactly, invariance of
 *     p to the scale of y and to adding X g with g_j = 0, equivariance of
 *     the interval to y + c x_j, p(r) crossing alpha at the limits,
 *     reproducibility by seed, and the error cases.
 * Run from the repository root (reads tests/data/petersen.csv).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/rng.h"
#include "syfosim/wildboot.h"
#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The naive implementation. */

static const double webb[6] = {-1.2247448713915890491, -1.0, -0.70710678118654752440,
                               0.70710678118654752440, 1.0, 1.2247448713915890491};

typedef enum { ENUM_RADEMACHER, SAMPLE_RADEMACHER, SAMPLE_WEBB } weight_rule;

/* The weights of draw b, written independently of the library from the rule
 * documented in wildboot.h. */
static void naive_weights(weight_rule rule, uint64_t seed, uint64_t rep, size_t b, size_t G,
                          double *v)
{
    if (rule == ENUM_RADEMACHER) {
        for (size_t g = 0; g < G; g++)
            v[g] = (b >> g) & 1u ? -1.0 : 1.0;
        return;
    }
    syf_stream s;
    syf_stream_init(&s, seed, rep, b, syf_purpose(SYF_P_DESIGN, 100));
    uint64_t word = 0;
    for (size_t g = 0; g < G; g++) {
        if (rule == SAMPLE_RADEMACHER) {
            if (g % 64 == 0)
                word = syf_stream_u64(&s);
            v[g] = (word >> (g % 64)) & 1u ? -1.0 : 1.0;
        } else {
            uint64_t u = syf_stream_u64(&s) >> 32;
            v[g] = webb[(u * 6) >> 32];
        }
    }
}

/* OLS by SVD (gsl_multifit_linear) of yy on the columns `cols` of X. */
static void naive_ols(size_t n, size_t p, const double *X, const double *yy, const size_t *cols,
                      size_t k, double *b)
{
    gsl_matrix *M = gsl_matrix_alloc(n, k), *cov = gsl_matrix_alloc(k, k);
    gsl_vector *yv = gsl_vector_alloc(n), *bv = gsl_vector_alloc(k);
    gsl_multifit_linear_workspace *mw = gsl_multifit_linear_alloc(n, k);
    for (size_t i = 0; i < n; i++) {
        gsl_vector_set(yv, i, yy[i]);
        for (size_t l = 0; l < k; l++)
            gsl_matrix_set(M, i, l, X[i * p + cols[l]]);
    }
    double chisq;
    gsl_multifit_linear(M, yv, bv, cov, &chisq, mw);
    for (size_t l = 0; l < k; l++)
        b[l] = gsl_vector_get(bv, l);
    gsl_multifit_linear_free(mw);
    gsl_vector_free(bv);
    gsl_vector_free(yv);
    gsl_matrix_free(cov);
    gsl_matrix_free(M);
}

/* CR1 t statistic of (b_j - r) for outcome yy, all from scratch. */
static double naive_t(size_t n, size_t p, const double *X, const double *yy, const size_t *cl,
                      size_t G, size_t j, double r)
{
    size_t cols[16];
    for (size_t l = 0; l < p; l++)
        cols[l] = l;
    double b[16];
    naive_ols(n, p, X, yy, cols, p, b);
    gsl_matrix *A = gsl_matrix_calloc(p, p), *Ai = gsl_matrix_alloc(p, p);
    gsl_matrix *S = gsl_matrix_calloc(G, p);
    for (size_t i = 0; i < n; i++) {
        double e = yy[i];
        for (size_t l = 0; l < p; l++)
            e -= X[i * p + l] * b[l];
        for (size_t l = 0; l < p; l++) {
            *gsl_matrix_ptr(S, cl[i], l) += X[i * p + l] * e;
            for (size_t m = 0; m < p; m++)
                *gsl_matrix_ptr(A, l, m) += X[i * p + l] * X[i * p + m];
        }
    }
    gsl_permutation *perm = gsl_permutation_alloc(p);
    int sgn;
    gsl_linalg_LU_decomp(A, perm, &sgn);
    gsl_linalg_LU_invert(A, perm, Ai);
    /* V_jj = sum_g (a_j' S_g)^2 * factor */
    double v = 0;
    for (size_t g = 0; g < G; g++) {
        double s = 0;
        for (size_t l = 0; l < p; l++)
            s += gsl_matrix_get(Ai, j, l) * gsl_matrix_get(S, g, l);
        v += s * s;
    }
    v *= (double)G / (double)(G - 1) * (double)(n - 1) / (double)(n - p);
    gsl_permutation_free(perm);
    gsl_matrix_free(S);
    gsl_matrix_free(Ai);
    gsl_matrix_free(A);
    return (b[j] - r) / sqrt(v);
}

/* Naive WCR: t at the data and t*_b for b < B; returns the p-value. */
static double naive_wcr(size_t n, size_t p, const double *X, const double *y, const size_t *cl,
                        size_t G, size_t j, double r, weight_rule rule, uint64_t seed, size_t B,
                        double *t0, double *tb)
{
    size_t cols[16], k = 0;
    for (size_t l = 0; l < p; l++)
        if (l != j)
            cols[k++] = l;
    double *yr = malloc(n * sizeof *yr), *fit0 = malloc(n * sizeof *fit0);
    double *u0 = malloc(n * sizeof *u0), *ys = malloc(n * sizeof *ys), *v = malloc(G * sizeof *v);
    double gam[16];
    for (size_t i = 0; i < n; i++)
        yr[i] = y[i] - r * X[i * p + j];
    if (k > 0)
        naive_ols(n, p, X, yr, cols, k, gam);
    for (size_t i = 0; i < n; i++) {
        fit0[i] = r * X[i * p + j];
        for (size_t l = 0; l < k; l++)
            fit0[i] += X[i * p + cols[l]] * gam[l];
        u0[i] = y[i] - fit0[i];
    }
    *t0 = naive_t(n, p, X, y, cl, G, j, r);
    size_t count = 0;
    for (size_t b = 0; b < B; b++) {
        naive_weights(rule, seed, 0, b, G, v);
        for (size_t i = 0; i < n; i++)
            ys[i] = fit0[i] + u0[i] * v[cl[i]];
        tb[b] = naive_t(n, p, X, ys, cl, G, j, r);
        if (fabs(tb[b]) > fabs(*t0) * (1 + 1e-9))
            count++;
    }
    free(yr);
    free(fit0);
    free(u0);
    free(ys);
    free(v);
    return (double)count / (double)B;
}

/* ------------------------------------------------------------------------ */
/* Data. */

/* n x p design X, outcome y and cluster codes (test_util.h). */
typedef test_cldata data;

/* Unbalanced random clusters: intercept, cluster-level 0/1 treatment (first
 * G/2 clusters), a row covariate; random intercepts, heteroskedastic noise. */
static data random_data(size_t G, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    data d = {0, 3, G, NULL, NULL, NULL};
    size_t *ng = malloc(G * sizeof *ng);
    for (size_t g = 0; g < G; g++) {
        ng[g] = 2 + gsl_rng_uniform_int(r, 12);
        d.n += ng[g];
    }
    d.X = malloc(d.n * 3 * sizeof *d.X);
    d.y = malloc(d.n * sizeof *d.y);
    d.cl = malloc(d.n * sizeof *d.cl);
    size_t i = 0;
    for (size_t g = 0; g < G; g++) {
        double a = gsl_ran_gaussian(r, 0.5), z = g < G / 2 ? 1.0 : 0.0;
        for (size_t k = 0; k < ng[g]; k++, i++) {
            double x = gsl_ran_gaussian(r, 1.0);
            d.X[i * 3] = 1;
            d.X[i * 3 + 1] = z;
            d.X[i * 3 + 2] = x;
            d.y[i] = 0.3 + 0.2 * z + 0.5 * x + a + gsl_ran_gaussian(r, 0.5 + fabs(x));
            d.cl[i] = (g * 5) % G; /* interleave codes so rows of a cluster are not sorted */
        }
    }
    free(ng);
    gsl_rng_free(r);
    return d;
}

/* Petersen rows of firms 1..8. */
static data petersen8(void)
{
    syf_dataset *ds = test_read("tests/data/petersen.csv");
    const double *firm = test_column(ds, "firm"), *x = test_column(ds, "x"),
                 *y = test_column(ds, "y");
    data d = {0, 2, 8, NULL, NULL, NULL};
    d.X = malloc(ds->n_rows * 2 * sizeof *d.X);
    d.y = malloc(ds->n_rows * sizeof *d.y);
    d.cl = malloc(ds->n_rows * sizeof *d.cl);
    for (size_t i = 0; i < ds->n_rows; i++)
        if (firm[i] <= 8) {
            d.X[d.n * 2] = 1;
            d.X[d.n * 2 + 1] = x[i];
            d.y[d.n] = y[i];
            d.cl[d.n] = (size_t)firm[i] - 1;
            d.n++;
        }
    syf_dataset_free(ds);
    assert_int_equal(d.n, 80);
    return d;
}

static syf_wild_result run(syf_wild_workspace *w, const data *d, size_t j, double r, size_t B,
                           syf_wild_weights wt, uint64_t seed, int ci)
{
    syf_wild_options o = {.coef = j, .null_value = r, .draws = B, .weights = wt, .seed = seed,
                          .level = 0.95, .want_ci = ci};
    syf_wild_result res;
    check_ok(syf_wild_test(w, d->n, d->X, d->y, d->cl, d->G, &o, &res));
    return res;
}

/* ------------------------------------------------------------------------ */

/* Hand-coded R (R 4.2.2), Petersen firms 1-8, y ~ x, all 256 Rademacher
 * vectors (vector b: cluster g gets -1 if bit g of b is set).  The script:
 *   d <- read.csv("tests/data/petersen.csv"); d <- d[d$firm <= 8, ]
 *   X <- cbind(1, d$x); y <- d$y; n <- 80; p <- 2; G <- 8; gi <- d$firm
 *   V <- sapply(0:255, function(b) ifelse(bitwAnd(b, 2^(0:7)) > 0, -1, 1))
 *   tstat <- function(yy, j, r) {
 *     A <- crossprod(X); b <- solve(A, crossprod(X, yy)); e <- yy - X %*% b
 *     Ai <- solve(A); S <- rowsum(X * as.vector(e), gi)
 *     Vc <- Ai %*% crossprod(S) %*% Ai * G / (G - 1) * (n - 1) / (n - p)
 *     (b[j] - r) / sqrt(Vc[j, j]) }
 *   wcr <- function(j, r) {
 *     Xr <- X[, -j, drop = FALSE]
 *     gam <- solve(crossprod(Xr), crossprod(Xr, y - r * X[, j]))
 *     fit0 <- Xr %*% gam + r * X[, j]; u0 <- y - fit0; t0 <- tstat(y, j, r)
 *     tb <- apply(V, 2, function(v) tstat(fit0 + u0 * v[gi], j, r))
 *     list(t0 = t0, tb = tb, p = mean(abs(tb) > abs(t0) * (1 + 1e-9))) }
 *   interval: bisection of p(r) = wcr(j, r)$p between b^_j (p > .05) and a
 *   point with p <= .05, to |outer - inner| <= 1e-12 max(1, |r|)
 * [recomputed with R 4.2.2, hand-coded WCR] */
static void test_petersen8_reference(void **state)
{
    (void)state;
    data d = petersen8();
    syf_wild_workspace *w = syf_wild_alloc(d.n, 2, d.G, 999);
    assert_non_null(w);

    syf_wild_result r = run(w, &d, 1, 0.0, 999, SYF_WILD_RADEMACHER, 1, 1);
    assert_int_equal(r.draws, 256);
    assert_true(r.enumerated);
    assert_rel(r.estimate, 1.16425016403, 1e-10);
    assert_rel(r.statistic, 2.61403948673, 1e-10);
    assert_near(r.p_value, 0.1328125, 1e-15);      /* 34 / 256 */
    assert_rel(r.t_boot[1], 2.73361991318, 1e-10); /* R tb[2]   */
    assert_rel(r.t_boot[37], 4.31961323161, 1e-10);
    assert_rel(r.t_boot[199], 0.81419013014, 1e-10);
    assert_rel(r.conf_low, -0.394215762182, 1e-9);
    assert_rel(r.conf_high, 2.56159505629, 1e-9);
    assert_near(syf_wild_pvalue(w, 1.0), 0.7421875, 1e-15);
    assert_near(syf_wild_pvalue(w, 0.9), 0.609375, 1e-15);

    syf_wild_result a = run(w, &d, 0, 0.0, 999, SYF_WILD_RADEMACHER, 1, 1);
    assert_rel(a.estimate, -0.276610347057, 1e-10);
    assert_rel(a.statistic, -0.459151422334, 1e-10);
    assert_near(a.p_value, 0.625, 1e-15);
    assert_rel(a.t_boot[1], -0.993010294291, 1e-10);
    assert_rel(a.t_boot[37], -5.43249339329, 1e-10);
    assert_rel(a.t_boot[199], -0.211258403013, 1e-10);
    assert_rel(a.conf_low, -1.84175374375, 1e-9);
    assert_rel(a.conf_high, 1.13750994036, 1e-9);

    /* seed is irrelevant when enumerating */
    syf_wild_result a2 = run(w, &d, 0, 0.0, 999, SYF_WILD_RADEMACHER, 777, 0);
    assert_true(a2.p_value == a.p_value);
    assert_true(isnan(a2.conf_low) && isnan(a2.conf_high));
    syf_wild_free(w);
    test_cldata_free(&d);
}

/* Enumerated Rademacher: every t* equal to the naive one, same p-value. */
static void test_naive_enumerated(void **state)
{
    (void)state;
    for (unsigned long seed = 1; seed <= 3; seed++) {
        data d = random_data(7, seed);
        syf_wild_workspace *w = syf_wild_alloc(d.n, d.p, d.G, 999);
        for (size_t j = 0; j < 3; j++) {
            double r0 = j == 2 ? 0.5 : 0.0;
            syf_wild_result r = run(w, &d, j, r0, 500, SYF_WILD_RADEMACHER, 9, 0);
            assert_int_equal(r.draws, 128);
            double t0, tb[128];
            double p = naive_wcr(d.n, d.p, d.X, d.y, d.cl, d.G, j, r0, ENUM_RADEMACHER, 0, 128,
                                 &t0, tb);
            assert_rel(r.statistic, t0, 1e-9);
            for (size_t b = 0; b < 128; b++)
                assert_rel(r.t_boot[b], tb[b], 1e-8);
            assert_true(r.p_value == p);
            /* v = 1 is the data, v = -1 its mirror: exact ties, never counted */
            assert_true(r.t_boot[0] == -r.t_boot[127]);
            assert_rel(r.t_boot[0], r.statistic, 1e-12);
        }
        syf_wild_free(w);
        test_cldata_free(&d);
    }
}

/* Sampled Rademacher and Webb draws regenerated from the documented rule. */
static void test_naive_sampled(void **state)
{
    (void)state;
    data d = random_data(13, 42);
    syf_wild_workspace *w = syf_wild_alloc(d.n, d.p, d.G, 999);
    const size_t B = 199;
    double t0, tb[199];
    for (int k = 0; k < 2; k++) {
        syf_wild_weights wt = k ? SYF_WILD_WEBB : SYF_WILD_RADEMACHER;
        syf_wild_result r = run(w, &d, 1, 0.0, B, wt, 20240601, 0);
        assert_int_equal(r.draws, B);
        assert_false(r.enumerated);
        double p = naive_wcr(d.n, d.p, d.X, d.y, d.cl, d.G, 1, 0.0,
                             k ? SAMPLE_WEBB : SAMPLE_RADEMACHER, 20240601, B, &t0, tb);
        for (size_t b = 0; b < B; b++)
            assert_rel(r.t_boot[b], tb[b], 1e-8);
        assert_true(r.p_value == p);
        /* another seed: other draws */
        syf_wild_result r2 = run(w, &d, 1, 0.0, B, wt, 20240602, 0);
        int differ = 0;
        for (size_t b = 0; b < B; b++)
            differ |= r2.t_boot[b] != tb[b];
        assert_true(differ);
    }
    syf_wild_free(w);
    test_cldata_free(&d);
}

/* No clusters: each row its own cluster (wild bootstrap, HC1 t). */
static void test_naive_rows(void **state)
{
    (void)state;
    data d = random_data(4, 7);
    d.n = 9; /* 2^9 = 512 enumerated */
    size_t *rows = malloc(d.n * sizeof *rows);
    for (size_t i = 0; i < d.n; i++)
        rows[i] = i;
    syf_wild_workspace *w = syf_wild_alloc(d.n, d.p, 1, 999);
    syf_wild_options o = {.coef = 2, .draws = 999, .weights = SYF_WILD_RADEMACHER};
    syf_wild_result r;
    check_ok(syf_wild_test(w, d.n, d.X, d.y, NULL, 0, &o, &r));
    assert_int_equal(r.G, 9);
    assert_int_equal(r.draws, 512);
    double t0, *tb = malloc(512 * sizeof *tb);
    double p = naive_wcr(d.n, d.p, d.X, d.y, rows, d.n, 2, 0.0, ENUM_RADEMACHER, 0, 512, &t0, tb);
    for (size_t b = 0; b < 512; b++)
        assert_rel(r.t_boot[b], tb[b], 1e-8);
    assert_true(r.p_value == p);
    free(tb);
    free(rows);
    syf_wild_free(w);
    test_cldata_free(&d);
}

/* Webb enumeration when 6^G <= B. */
static void test_webb_enumerated(void **state)
{
    (void)state;
    data d = random_data(3, 11);
    syf_wild_workspace *w = syf_wild_alloc(d.n, d.p, d.G, 999);
    syf_wild_result r = run(w, &d, 2, 0.0, 999, SYF_WILD_WEBB, 5, 0);
    assert_int_equal(r.draws, 216);
    assert_true(r.enumerated);
    /* draw 0 is (-sqrt(1.5), ...) for every cluster: the mirror of draw
     * 215 = (sqrt(1.5), ...) */
    assert_true(r.t_boot[0] == -r.t_boot[215]);
    syf_wild_free(w);
    test_cldata_free(&d);
}

/* p is invariant to the scale of y and to adding X g with g_j = 0; the
 * interval moves with y + c x_j; p(r) crosses alpha at the limits. */
static void test_invariances(void **state)
{
    (void)state;
    data d = random_data(11, 3);
    syf_wild_workspace *w = syf_wild_alloc(d.n, d.p, d.G, 999);
    syf_wild_result r = run(w, &d, 1, 0.0, 399, SYF_WILD_WEBB, 77, 1);
    double p0 = r.p_value, lo = r.conf_low, hi = r.conf_high;
    assert_true(lo < r.estimate && r.estimate < hi);
    assert_true(isfinite(lo) && isfinite(hi));
    double eps = 1e-7 * (hi - lo);
    assert_true(syf_wild_pvalue(w, lo + eps) > 0.05);
    assert_true(syf_wild_pvalue(w, lo - eps) <= 0.05);
    assert_true(syf_wild_pvalue(w, hi - eps) > 0.05);
    assert_true(syf_wild_pvalue(w, hi + eps) <= 0.05);

    double *y0 = malloc(d.n * sizeof *y0);
    memcpy(y0, d.y, d.n * sizeof *y0);
    for (size_t i = 0; i < d.n; i++)
        d.y[i] = 3.5 * y0[i] + 2.0 - 0.7 * d.X[i * 3 + 2];
    syf_wild_result s = run(w, &d, 1, 0.0, 399, SYF_WILD_WEBB, 77, 1);
    assert_true(s.p_value == p0);
    assert_rel(s.conf_low, 3.5 * lo, 1e-8);
    assert_rel(s.conf_high, 3.5 * hi, 1e-8);

    for (size_t i = 0; i < d.n; i++)
        d.y[i] = y0[i] + 0.8 * d.X[i * 3 + 1];
    syf_wild_result t = run(w, &d, 1, 0.8, 399, SYF_WILD_WEBB, 77, 1);
    assert_true(t.p_value == p0);
    assert_rel(t.conf_low, lo + 0.8, 1e-8);
    assert_rel(t.conf_high, hi + 0.8, 1e-8);
    free(y0);
    syf_wild_free(w);
    test_cldata_free(&d);
}

static void test_errors(void **state)
{
    (void)state;
    data d = random_data(6, 1);
    syf_wild_workspace *w = syf_wild_alloc(d.n, d.p, d.G, 100);
    syf_wild_options o = {.coef = 3, .draws = 99};
    syf_wild_result r;
    assert_int_equal(syf_wild_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    o.coef = 1;
    o.draws = 101;
    assert_int_equal(syf_wild_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    o.draws = 99;
    o.level = 1.5;
    assert_int_equal(syf_wild_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    o.level = 0;
    /* a singular design comes from the OLS fit */
    for (size_t i = 0; i < d.n; i++)
        d.X[i * 3 + 2] = 2 * d.X[i * 3 + 1];
    assert_int_equal(syf_wild_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_ESINGULAR);
    syf_wild_weights wt;
    assert_int_equal(syf_wild_weights_parse("WEBB", &wt), SYF_OK);
    assert_int_equal(wt, SYF_WILD_WEBB);
    assert_int_equal(syf_wild_weights_parse("mammen", &wt), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "rademacher or webb"));
    assert_string_equal(syf_wild_weights_name(SYF_WILD_RADEMACHER), "rademacher");
    assert_null(syf_wild_alloc(10, 0, 2, 10));
    syf_wild_free(w);
    test_cldata_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_petersen8_reference), cmocka_unit_test(test_naive_enumerated),
        cmocka_unit_test(test_naive_sampled),       cmocka_unit_test(test_naive_rows),
        cmocka_unit_test(test_webb_enumerated),     cmocka_unit_test(test_invariances),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
