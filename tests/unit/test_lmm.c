/* test_lmm.c — random-intercept linear mixed model by REML (analysis/lmm.c).
 *
 * Two kinds of test:
 *   - frozen reference numbers: /work/shared/validation/README.md (lme4
 *     1.1-31 on sleep.csv and the Petersen data) and values recomputed with
 *     more digits in R 4.2.2 with lme4 1.1-31 and lmerTest 3.1-3, including
 *     the unbalanced stepped-wedge fixture tests/data/stepped_wedge.csv with
 *     period effects (Hussey–Hughes);
 *   - property tests against a naive implementation written here with dense
 *     n x n GSL algebra (REML deviance, GLS, and a finite-difference
 *     Satterthwaite df as lmerTest computes it), invariances, the boundary
 *     lambda = 0, the balanced-design identity Satterthwaite = between-within,
 *     and the error cases.
 * Run from the repository root (reads tests/data/).
 *
 * How the recomputed values were obtained (R 4.2.2, lme4 1.1-31, numDeriv):
 *   lf <- lFormula(form, data, REML = TRUE); dfun <- do.call(mkLmerDevfun, lf)
 *   th <- uniroot(function(t) numDeriv::grad(dfun, t), th0 * c(.999, 1.001),
 *                 tol = 1e-15)$root          # the REML optimum, not lmer's
 *   mm <- mkMerMod(environment(dfun), list(par = th, fval = dfun(th),
 *                  conv = 0), lf$reTrms, fr = lf$fr)
 *   fixef(mm); sqrt(diag(vcov(mm))); as.data.frame(VarCorr(mm))$vcov
 * and the Satterthwaite df from lmerTest::lmer(form, data, start =
 * list(theta = th), control = lmerControl(optCtrl = list(xtol_rel = 1e-15,
 * ftol_rel = 1e-15, ...))), summary(.)$coefficients[, "df"].
 * lmer's own default fit stops slightly short of the optimum (e.g. var
 * Subject 1378.178514 instead of 1378.178509 on sleep.csv), which is why
 * the README values are checked to 1e-6 and the recomputed ones to 1e-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/lmm.h"
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

static void test_sleep_reference(void **state)
{
    (void)state;
    test_fixture f;
    const char *cols[] = {"Days"};
    test_fixture_load(&f, "tests/data/sleep.csv", "Reaction", cols, 1, "Subject", NULL);
    assert_int_equal(f.n, 180);
    assert_int_equal(f.G, 18);
    syf_lmm_workspace *w = syf_lmm_alloc(f.n, f.p, f.G);
    assert_non_null(w);
    syf_lmm_result r;
    check_ok(syf_lmm_fit(w, f.n, f.X, f.y, f.cl, f.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    assert_int_equal(r.boundary, 0);

    /* /work/shared/validation/README.md "Linear mixed model on sleep.csv":
     * lmer(Reaction ~ Days + (1|Subject)), REML (lme4 1.1-31), to 1e-6. */
    assert_rel(r.estimate[0], 251.40510, 1e-6);
    assert_rel(r.std_error[0], 9.7467163, 1e-6);
    assert_rel(r.estimate[1], 10.46729, 1e-6);
    assert_rel(r.std_error[1], 0.8042214, 1e-6);
    assert_rel(r.var_cluster, 1378.1785, 1e-6);
    assert_rel(r.var_residual, 960.4566, 1e-6);

    /* [recomputed with lme4 1.1-31, R 4.2.2] at the exact REML optimum
     * (theta = 1.1978815304962); REMLcrit(mm). */
    assert_rel(r.estimate[0], 251.40510484849, 1e-10);
    assert_rel(r.estimate[1], 10.467285959596, 1e-10);
    assert_rel(r.std_error[0], 9.7467162556063, 1e-8);
    assert_rel(r.std_error[1], 0.80422142908507, 1e-8);
    assert_rel(r.var_cluster, 1378.1785089206, 1e-8);
    assert_rel(r.var_residual, 960.45657889446, 1e-8);
    assert_rel(sqrt(r.lambda), 1.1978815304962, 1e-8);
    assert_rel(r.reml_criterion, 1786.4650853949, 1e-11);
    /* [recomputed with lmerTest 3.1-3] Satterthwaite df and t. */
    assert_rel(r.df[0], 22.8101990968, 1e-7);
    assert_rel(r.df[1], 160.999999979, 1e-7);
    assert_rel(r.statistic[0], 25.7938261653, 1e-8);
    assert_rel(r.statistic[1], 13.015427818, 1e-8);
    assert_rel(r.p_value[0], 2.24135051037e-18, 1e-6);
    assert_rel(r.p_value[1], 6.41260135606e-27, 1e-6);
    /* The score of the REML deviance vanishes at the optimum. */
    assert_true(fabs(r.score[0]) * r.var_cluster < 1e-9 * r.n);
    assert_true(fabs(r.score[1]) * r.var_residual < 1e-9 * r.n);
    /* [recomputed with lmerTest 3.1-3] mt@vcov_varpar, the asymptotic
     * covariance of (theta, sigma) = 2 * solve(numerical Hessian); mapped to
     * (s_u, s_e) = (theta^2 sigma^2, sigma^2) by the delta method.  lmerTest
     * differentiates numerically, hence the 1e-4. */
    {
        const double th = 1.19788153096, sg = sqrt(960.456578829);
        const double C[4] = {0.0533898933904, -0.123326077389, -0.123326077389, 2.98278440613};
        const double J[4] = {2 * th * sg * sg, 2 * th * th * sg, 0, 2 * sg};
        double JC[4], V[4];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                JC[2 * a + b] = J[2 * a] * C[b] + J[2 * a + 1] * C[2 + b];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                V[2 * a + b] = JC[2 * a] * J[2 * b] + JC[2 * a + 1] * J[2 * b + 1];
        for (int k = 0; k < 4; k++)
            assert_rel(r.vc_vcov[k], V[k], 1e-4);
    }
    /* Balanced design, equal sizes: the Days df is exactly n - G - 1. */
    assert_near(r.df[1], 161.0, 1e-6);
    /* 95% CI from t with that df (qt(.975, 22.8101990968) = 2.0695...). */
    double half = r.conf_high[0] - r.estimate[0];
    assert_rel(r.estimate[0] - r.conf_low[0], half, 1e-12);

    /* Between-within: intercept G - 1 = 17, Days n - G - 1 = 161. */
    check_ok(syf_lmm_fit(w, f.n, f.X, f.y, f.cl, f.G, SYF_LMM_DF_BETWEEN_WITHIN, 0.95, &r));
    assert_rel(r.df[0], 17, 1e-15);
    assert_rel(r.df[1], 161, 1e-15);
    assert_rel(r.estimate[1], 10.467285959596, 1e-10);
    syf_lmm_free(w);
    test_fixture_free(&f);
}

static void test_petersen_reference(void **state)
{
    (void)state;
    test_fixture f;
    const char *cols[] = {"x"};
    test_fixture_load(&f, "tests/data/petersen.csv", "y", cols, 1, "firm", NULL);
    assert_int_equal(f.n, 5000);
    assert_int_equal(f.G, 500);
    syf_lmm_workspace *w = syf_lmm_alloc(f.n, f.p, f.G);
    syf_lmm_result r;
    check_ok(syf_lmm_fit(w, f.n, f.X, f.y, f.cl, f.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));

    /* /work/shared/validation/README.md §2: lmer(y ~ x + (1|firm)), REML
     * (lme4 1.1.31), to 1e-6. */
    assert_rel(r.estimate[0], 0.029967701, 1e-6);
    assert_rel(r.std_error[0], 0.067077613, 1e-6);
    assert_rel(r.estimate[1], 0.981218766, 1e-6);
    assert_rel(r.std_error[1], 0.028252845, 1e-6);
    assert_rel(r.var_cluster, 2.0521415, 1e-6);
    assert_rel(r.var_residual, 1.9755010, 1e-6);

    /* [recomputed with lme4 1.1-31, R 4.2.2] exact REML optimum
     * (theta = 1.019213143235); R's numerical score there is -3e-7, so the
     * variance components are trusted to ~1e-8. */
    assert_rel(r.estimate[0], 0.02996770057912, 1e-8);
    assert_rel(r.estimate[1], 0.98121876611897, 1e-9);
    assert_rel(r.std_error[0], 0.067077612848746, 1e-8);
    assert_rel(r.std_error[1], 0.028252845099297, 1e-8);
    assert_rel(r.var_cluster, 2.0521414541576, 1e-8);
    assert_rel(r.var_residual, 1.9755010392223, 1e-8);
    assert_rel(r.reml_criterion, 18816.634878539, 1e-11);
    /* [recomputed with lmerTest 3.1-3] */
    assert_rel(r.df[0], 498.731579987, 1e-7);
    assert_rel(r.df[1], 4996.80108286, 1e-7);
    assert_rel(r.p_value[0], 0.655241144327, 1e-7);
    assert_true(fabs(r.score[0]) * r.var_cluster < 1e-9 * r.n);
    assert_true(fabs(r.score[1]) * r.var_residual < 1e-9 * r.n);
    /* Cheap: the criterion is evaluated a few dozen times, not thousands. */
    assert_true(r.n_eval < 120);
    syf_lmm_free(w);
    test_fixture_free(&f);
}

/* tests/data/stepped_wedge.csv: 10 clusters (office_A..J) x 5 periods,
 * crossing to treatment at periods 2,2,3,3,3,4,4,5,5,5, 2-7 rows per
 * cluster-period (209 rows, shuffled), covariate age.  Generated in R with
 * set.seed(20240611): y = 10 + beta_t + 1.5 treat + 0.03 (age - 40) + u + e,
 * u ~ N(0, 1.2^2), e ~ N(0, 2^2), rounded to 4 decimals. */
static void test_stepped_wedge_reference(void **state)
{
    (void)state;
    test_fixture f;
    const char *cols[] = {"treat", "age"};
    test_fixture_load(&f, "tests/data/stepped_wedge.csv", "y", cols, 2, "cluster", "period");
    assert_int_equal(f.n, 209);
    assert_int_equal(f.G, 10);
    assert_int_equal(f.p, 7);
    syf_lmm_workspace *w = syf_lmm_alloc(f.n, f.p, f.G);
    syf_lmm_result r;
    check_ok(syf_lmm_fit(w, f.n, f.X, f.y, f.cl, f.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));

    /* [recomputed with lme4 1.1-31 and lmerTest 3.1-3, R 4.2.2]
     * lmer(y ~ treat + age + factor(period) + (1|cluster)), REML; exact
     * optimum theta = 0.77921545649348. */
    static const double b[7] = {8.4753183132787,     1.8721134572946,  0.024282676405551,
                                0.17579346762222,    0.40332517009454, -0.52927982937149,
                                0.99637314924881};
    static const double se[7] = {0.72813868366306, 0.4757717504832,  0.010649397472786,
                                 0.43049847911842, 0.48638952781429, 0.54430706375705,
                                 0.64071597166277};
    static const double df[7] = {41.5529306888, 201.287936551, 194.714265575, 194.801381886,
                                 196.039284819, 199.896623881, 201.026616248};
    static const double pv[7] = {1.16727403743e-14, 0.00011457016,  0.0236796620685,
                                 0.683466239279,    0.407987005754, 0.332030745951,
                                 0.121496746692};
    for (size_t j = 0; j < 7; j++) {
        assert_rel(r.estimate[j], b[j], 1e-8);
        assert_rel(r.std_error[j], se[j], 1e-8);
        assert_rel(r.df[j], df[j], 1e-7);
        assert_rel(r.p_value[j], pv[j], 1e-6);
    }
    assert_rel(r.var_cluster, 2.1888928813581, 1e-8);
    assert_rel(r.var_residual, 3.6050342210446, 1e-8);
    assert_rel(r.reml_criterion, 887.47155587203, 1e-11);
    /* lmer's default fit (README-style check, its optimiser tolerance). */
    assert_rel(r.var_cluster, 2.18889289372, 1e-7);
    assert_rel(r.estimate[1], 1.8721134576, 1e-7);

    /* Between-within: intercept G - 1 = 9; treat, age and the periods vary
     * within clusters: n - G - 6 = 193. */
    check_ok(syf_lmm_fit(w, f.n, f.X, f.y, f.cl, f.G, SYF_LMM_DF_BETWEEN_WITHIN, 0.9, &r));
    assert_rel(r.df[0], 9, 1e-15);
    for (size_t j = 1; j < 7; j++)
        assert_rel(r.df[j], 193, 1e-15);
    assert_rel(r.level, 0.9, 1e-15);
    syf_lmm_free(w);
    test_fixture_free(&f);
}

/* ------------------------------------------------------------------------ */
/* Naive dense implementation: V = s_e I + s_u Z Z' as an n x n matrix. */

typedef struct {
    size_t n, p;
    const double *X, *y;
    const size_t *cl;
} naive_data;

/* REML deviance -2 l_R (with the (n - p) log 2 pi constant, as lme4), and
 * optionally beta and Phi = (X' V^{-1} X)^{-1}. */
static double naive_deviance(const naive_data *nd, double su, double se, double *beta,
                             double *Phi)
{
    size_t n = nd->n, p = nd->p;
    gsl_matrix *V = gsl_matrix_alloc(n, n), *VX = gsl_matrix_alloc(n, p),
               *XVX = gsl_matrix_alloc(p, p);
    gsl_vector *Vy = gsl_vector_alloc(n), *XVy = gsl_vector_alloc(p), *b = gsl_vector_alloc(p),
               *r = gsl_vector_alloc(n);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            gsl_matrix_set(V, i, k, (i == k ? se : 0) + (nd->cl[i] == nd->cl[k] ? su : 0));
    gsl_linalg_cholesky_decomp1(V);
    double logdetV = 0;
    for (size_t i = 0; i < n; i++)
        logdetV += 2 * log(gsl_matrix_get(V, i, i));
    gsl_matrix_const_view Xm = gsl_matrix_const_view_array(nd->X, n, p);
    gsl_matrix_memcpy(VX, &Xm.matrix);
    for (size_t j = 0; j < p; j++) {
        gsl_vector_view c = gsl_matrix_column(VX, j);
        gsl_linalg_cholesky_svx(V, &c.vector);
    }
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &Xm.matrix, VX, 0.0, XVX);
    gsl_vector_const_view yv = gsl_vector_const_view_array(nd->y, n);
    gsl_blas_dgemv(CblasTrans, 1.0, VX, &yv.vector, 0.0, XVy);
    gsl_linalg_cholesky_decomp1(XVX);
    double logdetXVX = 0;
    for (size_t j = 0; j < p; j++)
        logdetXVX += 2 * log(gsl_matrix_get(XVX, j, j));
    gsl_linalg_cholesky_solve(XVX, XVy, b);
    gsl_vector_memcpy(r, &yv.vector);
    gsl_blas_dgemv(CblasNoTrans, -1.0, &Xm.matrix, b, 1.0, r);
    gsl_vector_memcpy(Vy, r);
    gsl_linalg_cholesky_svx(V, Vy);
    double rVr;
    gsl_blas_ddot(r, Vy, &rVr);
    if (beta)
        for (size_t j = 0; j < p; j++)
            beta[j] = gsl_vector_get(b, j);
    if (Phi) {
        gsl_linalg_cholesky_invert(XVX);
        for (size_t j = 0; j < p; j++)
            for (size_t l = 0; l < p; l++)
                Phi[j * p + l] = gsl_matrix_get(XVX, j, l);
    }
    gsl_matrix_free(V);
    gsl_matrix_free(VX);
    gsl_matrix_free(XVX);
    gsl_vector_free(Vy);
    gsl_vector_free(XVy);
    gsl_vector_free(b);
    gsl_vector_free(r);
    return logdetV + logdetXVX + rVr + (double)(n - p) * log(2 * M_PI);
}

/* Satterthwaite df for coefficient j as lmerTest computes it, but by
 * finite differences in (s_u, s_e): Hessian of the deviance, gradient of
 * Var(b_j). */
static double naive_satterthwaite(const naive_data *nd, double su, double se, size_t j)
{
    size_t p = nd->p;
    double *Phi = malloc(p * p * sizeof *Phi);
    double hu = 1e-3 * su, he = 1e-3 * se; /* rounding vs truncation */
    double D0 = naive_deviance(nd, su, se, NULL, Phi);
    double var = Phi[j * p + j];
    double Dpu = naive_deviance(nd, su + hu, se, NULL, NULL);
    double Dmu = naive_deviance(nd, su - hu, se, NULL, NULL);
    double Dpe = naive_deviance(nd, su, se + he, NULL, NULL);
    double Dme = naive_deviance(nd, su, se - he, NULL, NULL);
    double Dpp = naive_deviance(nd, su + hu, se + he, NULL, NULL);
    double Dpm = naive_deviance(nd, su + hu, se - he, NULL, NULL);
    double Dmp = naive_deviance(nd, su - hu, se + he, NULL, NULL);
    double Dmm = naive_deviance(nd, su - hu, se - he, NULL, NULL);
    double Huu = (Dpu - 2 * D0 + Dmu) / (hu * hu), Hee = (Dpe - 2 * D0 + Dme) / (he * he);
    double Hue = (Dpp - Dpm - Dmp + Dmm) / (4 * hu * he);
    double gu, ge;
    naive_deviance(nd, su + hu, se, NULL, Phi);
    gu = Phi[j * p + j];
    naive_deviance(nd, su - hu, se, NULL, Phi);
    gu = (gu - Phi[j * p + j]) / (2 * hu);
    naive_deviance(nd, su, se + he, NULL, Phi);
    ge = Phi[j * p + j];
    naive_deviance(nd, su, se - he, NULL, Phi);
    ge = (ge - Phi[j * p + j]) / (2 * he);
    free(Phi);
    double det = Huu * Hee - Hue * Hue;
    double Auu = 2 * Hee / det, Aue = -2 * Hue / det, Aee = 2 * Huu / det;
    double v = gu * gu * Auu + 2 * gu * ge * Aue + ge * ge * Aee;
    return 2 * var * var / v;
}


static void test_matches_naive(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 20240611);
    for (int rep = 0; rep < 6; rep++) {
        test_cldata d;
        test_cldata_make(&d, rng, 6 + rep, 7, rep == 5 ? 20.0 : 0.8, 1.0, 0.0);
        naive_data nd = {d.n, d.p, d.X, d.y, d.cl};
        syf_lmm_workspace *w = syf_lmm_alloc(d.n, d.p, d.G);
        syf_lmm_result r;
        check_ok(syf_lmm_fit(w, d.n, d.X, d.y, d.cl, d.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));

        /* The profiled criterion equals the dense deviance minimised over s_e. */
        double nmp = (double)(d.n - d.p), c = nmp * (1 + log(2 * M_PI / nmp));
        for (int k = -3; k <= 3; k++) {
            double lambda = k == -3 ? 0.0 : exp(1.5 * k), f;
            check_ok(syf_lmm_profile(w, lambda, &f));
            /* s_e at the profile: Q / (n - p) = deviance-minimising value. */
            double lo = 1e-3, hi = 1e3; /* golden-section on log s_e, dense */
            for (int it = 0; it < 200; it++) {
                double m1 = lo + (hi - lo) * 0.381966, m2 = hi - (hi - lo) * 0.381966;
                double f1 = naive_deviance(&nd, lambda * m1, m1, NULL, NULL);
                double f2 = naive_deviance(&nd, lambda * m2, m2, NULL, NULL);
                if (f1 < f2)
                    hi = m2;
                else
                    lo = m1;
            }
            double se = 0.5 * (lo + hi);
            assert_rel(f + c, naive_deviance(&nd, lambda * se, se, NULL, NULL), 1e-10);
        }

        /* The REML criterion is the dense deviance at the estimate, and the
         * estimate is a minimum of it. */
        double su = r.var_cluster, se = r.var_residual;
        double beta[3], Phi[9];
        double D = naive_deviance(&nd, su, se, beta, Phi);
        assert_rel(r.reml_criterion, D, 1e-11);
        for (int k = 0; k < 4; k++) {
            double fu = k == 0 ? 1.01 : k == 1 ? 0.99 : 1, fe = k == 2 ? 1.01 : k == 3 ? 0.99 : 1;
            assert_true(naive_deviance(&nd, su * fu, se * fe, NULL, NULL) > D);
        }
        /* GLS coefficients and their covariance at the estimate. */
        for (size_t j = 0; j < 3; j++) {
            assert_rel(r.estimate[j], beta[j], 1e-9);
            for (size_t l = 0; l < 3; l++)
                assert_rel(r.vcov[j * 3 + l], Phi[j * 3 + l], 1e-9);
            assert_rel(r.std_error[j], sqrt(Phi[j * 3 + j]), 1e-9);
        }
        /* Satterthwaite df against finite differences. */
        assert_int_equal(r.boundary, 0);
        for (size_t j = 0; j < 3; j++)
            assert_rel(r.df[j], naive_satterthwaite(&nd, su, se, j), 1e-5);
        /* The analytic score is ~0. */
        assert_true(fabs(r.score[0]) * su < 1e-8 * d.n);
        assert_true(fabs(r.score[1]) * se < 1e-8 * d.n);
        syf_lmm_free(w);
        test_cldata_free(&d);
    }
    gsl_rng_free(rng);
}

/* ------------------------------------------------------------------------ */

static void test_invariances(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    test_cldata d;
    test_cldata_make(&d, rng, 9, 6, 1.0, 1.0, 0.0);
    size_t n = d.n, p = d.p, G = d.G;
    syf_lmm_workspace *w = syf_lmm_alloc(n, p, G);
    syf_lmm_result r;
    check_ok(syf_lmm_fit(w, n, d.X, d.y, d.cl, G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    double b[3], se[3], df[3], su = r.var_cluster, sv = r.var_residual, lam = r.lambda;
    for (size_t j = 0; j < 3; j++) {
        b[j] = r.estimate[j];
        se[j] = r.std_error[j];
        df[j] = r.df[j];
    }

    /* y -> 3 y + X gamma: b -> 3 b + gamma, SE x 3, variances x 9, df same. */
    double *y2 = malloc(n * sizeof *y2), gam[3] = {2.0, -1.0, 0.5};
    for (size_t i = 0; i < n; i++)
        y2[i] = 3 * d.y[i] + gam[0] + gam[1] * d.X[3 * i + 1] + gam[2] * d.X[3 * i + 2];
    check_ok(syf_lmm_fit(w, n, d.X, y2, d.cl, G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    for (size_t j = 0; j < 3; j++) {
        assert_rel(r.estimate[j], 3 * b[j] + gam[j], 1e-9);
        assert_rel(r.std_error[j], 3 * se[j], 1e-8);
        assert_rel(r.df[j], df[j], 1e-7);
    }
    assert_rel(r.var_cluster, 9 * su, 1e-8);
    assert_rel(r.var_residual, 9 * sv, 1e-8);
    assert_rel(r.lambda, lam, 1e-8);

    /* Rows reversed and cluster codes relabelled: same fit. */
    double *X3 = malloc(n * 3 * sizeof *X3), *y3 = malloc(n * sizeof *y3);
    size_t *c3 = malloc(n * sizeof *c3);
    for (size_t i = 0; i < n; i++) {
        memcpy(X3 + 3 * i, d.X + 3 * (n - 1 - i), 3 * sizeof *X3);
        y3[i] = d.y[n - 1 - i];
        c3[i] = (d.cl[n - 1 - i] + 4) % G;
    }
    check_ok(syf_lmm_fit(w, n, X3, y3, c3, G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    for (size_t j = 0; j < 3; j++) {
        assert_rel(r.estimate[j], b[j], 1e-10);
        assert_rel(r.std_error[j], se[j], 1e-9);
        assert_rel(r.df[j], df[j], 1e-8);
    }
    assert_rel(r.var_cluster, su, 1e-9);

    /* Rescaling a column rescales its coefficient (and nothing else). */
    for (size_t i = 0; i < n; i++)
        X3[3 * i + 1] = 100 * d.X[3 * i + 1];
    for (size_t i = 0; i < n; i++) {
        X3[3 * i] = 1;
        X3[3 * i + 2] = d.X[3 * i + 2];
    }
    check_ok(syf_lmm_fit(w, n, X3, d.y, d.cl, G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    assert_rel(r.estimate[1], b[1] / 100, 1e-9);
    assert_rel(r.std_error[1], se[1] / 100, 1e-8);
    assert_rel(r.df[1], df[1], 1e-7);
    assert_rel(r.estimate[0], b[0], 1e-9);
    syf_lmm_free(w);
    free(y2);
    free(X3);
    free(y3);
    free(c3);
    test_cldata_free(&d);
    gsl_rng_free(rng);
}

/* Balanced cluster-randomised design: G clusters of m, treatment constant
 * within clusters.  Satterthwaite df for treatment is exactly G - 2, the
 * between-within value, and the estimate is the difference in means. */
static void test_balanced_crt(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 11);
    const size_t G = 8, m = 5, n = G * m;
    double X[2 * 40], y[40], sum1 = 0, sum0 = 0;
    size_t cl[40];
    for (size_t g = 0; g < G; g++) {
        double u = gsl_ran_gaussian(rng, 1.0);
        for (size_t k = 0; k < m; k++) {
            size_t i = g * m + k;
            X[2 * i] = 1;
            X[2 * i + 1] = g % 2;
            y[i] = 0.4 * (g % 2) + u + gsl_ran_gaussian(rng, 1.0);
            cl[i] = g;
            if (g % 2)
                sum1 += y[i];
            else
                sum0 += y[i];
        }
    }
    syf_lmm_workspace *w = syf_lmm_alloc(n, 2, G);
    syf_lmm_result r;
    check_ok(syf_lmm_fit(w, n, X, y, cl, G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    if (!r.boundary) {
        assert_rel(r.df[1], (double)(G - 2), 1e-8);
        assert_rel(r.df[0], (double)(G - 2), 1e-8);
    }
    assert_rel(r.estimate[1], sum1 / (n / 2) - sum0 / (n / 2), 1e-10);
    /* Var of the difference of means: 2 (s_u + s_e / m) / (G / 2). */
    assert_rel(r.std_error[1] * r.std_error[1],
               2 * (r.var_cluster + r.var_residual / m) / (G / 2.0), 1e-9);
    syf_lmm_free(w);
    gsl_rng_free(rng);
}

/* No between-cluster variation beyond noise: cluster means forced equal, so
 * REML puts s_u at the boundary 0; the fit is then OLS with df n - p. */
static void test_boundary(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    const size_t G = 6, m = 4, n = G * m;
    double X[2 * 24], y[24];
    size_t cl[24];
    for (size_t g = 0; g < G; g++) {
        double e[4], mean = 0;
        for (size_t k = 0; k < m; k++)
            mean += (e[k] = gsl_ran_gaussian(rng, 1.0)) / m;
        for (size_t k = 0; k < m; k++) {
            size_t i = g * m + k;
            X[2 * i] = 1;
            X[2 * i + 1] = (double)k; /* within-cluster covariate */
            y[i] = 2 + e[k] - mean;
            cl[i] = g;
        }
    }
    syf_lmm_workspace *w = syf_lmm_alloc(n, 2, G);
    syf_lmm_result r;
    check_ok(syf_lmm_fit(w, n, X, y, cl, G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    assert_int_equal(r.boundary, 1);
    assert_true(r.var_cluster == 0);
    assert_true(r.lambda == 0);
    assert_true(isnan(r.vc_vcov[0]));
    /* OLS by hand. */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sx += X[2 * i + 1];
        sy += y[i];
        sxx += X[2 * i + 1] * X[2 * i + 1];
        sxy += X[2 * i + 1] * y[i];
    }
    double det = n * sxx - sx * sx, b1 = (n * sxy - sx * sy) / det, b0 = (sy - b1 * sx) / n;
    double rss = 0;
    for (size_t i = 0; i < n; i++) {
        double e = y[i] - b0 - b1 * X[2 * i + 1];
        rss += e * e;
    }
    double s2 = rss / (n - 2);
    assert_rel(r.estimate[0], b0, 1e-10);
    assert_rel(r.estimate[1], b1, 1e-10);
    assert_rel(r.var_residual, s2, 1e-10);
    assert_rel(r.std_error[1], sqrt(s2 * n / det), 1e-10);
    assert_rel(r.std_error[0], sqrt(s2 * sxx / det), 1e-10);
    assert_rel(r.df[0], n - 2, 1e-15);
    assert_rel(r.df[1], n - 2, 1e-15);
    /* The profile is no lower anywhere on a grid. */
    double f0, f;
    check_ok(syf_lmm_profile(w, 0, &f0));
    for (int k = -12; k <= 6; k++) {
        check_ok(syf_lmm_profile(w, exp(k), &f));
        assert_true(f >= f0);
    }
    syf_lmm_free(w);
    gsl_rng_free(rng);
}

/* A very large variance ratio (s_u / s_e = 1e4) is found. */
static void test_large_lambda(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    test_cldata d;
    test_cldata_make(&d, rng, 30, 8, 1e4, 1.0, 0.0);
    syf_lmm_workspace *w = syf_lmm_alloc(d.n, d.p, d.G);
    syf_lmm_result r;
    check_ok(syf_lmm_fit(w, d.n, d.X, d.y, d.cl, d.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    assert_true(r.lambda > 1e3 && r.lambda < 1e5);
    double f0, f;
    check_ok(syf_lmm_profile(w, r.lambda, &f0));
    check_ok(syf_lmm_profile(w, r.lambda * 1.001, &f));
    assert_true(f >= f0);
    check_ok(syf_lmm_profile(w, r.lambda / 1.001, &f));
    assert_true(f >= f0);
    assert_true(fabs(r.score[0]) * r.var_cluster < 1e-8 * d.n);
    syf_lmm_free(w);
    test_cldata_free(&d);
    gsl_rng_free(rng);
}

static void test_workspace_reuse(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 9);
    test_cldata a, b;
    test_cldata_make(&a, rng, 12, 9, 1.0, 1.0, 0.0);
    test_cldata_make(&b, rng, 5, 4, 0.5, 2.0, 0.0);
    size_t nmax = a.n > b.n ? a.n : b.n;
    syf_lmm_workspace *w = syf_lmm_alloc(nmax, 3, 12), *wb = syf_lmm_alloc(b.n, 3, 5);
    syf_lmm_result r, rb;
    check_ok(syf_lmm_fit(w, a.n, a.X, a.y, a.cl, a.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    check_ok(syf_lmm_fit(w, b.n, b.X, b.y, b.cl, b.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &r));
    check_ok(syf_lmm_fit(wb, b.n, b.X, b.y, b.cl, b.G, SYF_LMM_DF_SATTERTHWAITE, 0.95, &rb));
    for (size_t j = 0; j < 3; j++) {
        assert_true(r.estimate[j] == rb.estimate[j]);
        assert_true(r.std_error[j] == rb.std_error[j]);
        assert_true(r.df[j] == rb.df[j]);
    }
    syf_lmm_free(w);
    syf_lmm_free(wb);
    test_cldata_free(&a);
    test_cldata_free(&b);
    gsl_rng_free(rng);
}

static void test_errors(void **state)
{
    (void)state;
    double X[2 * 8] = {1, 0, 1, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1, 6, 1, 7};
    double y[8] = {1, 3, 2, 5, 4, 6, 8, 7};
    size_t cl[8] = {0, 0, 1, 1, 2, 2, 3, 3}, one[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    syf_lmm_workspace *w = syf_lmm_alloc(8, 2, 8);
    syf_lmm_result r;
    double f;
    assert_int_equal(syf_lmm_profile(w, 1.0, &f), SYF_EINPUT); /* no fit yet */
    assert_int_equal(syf_lmm_fit(w, 8, X, y, cl, 1, 0, 0.95, &r), SYF_EINPUT);   /* G < 2 */
    assert_int_equal(syf_lmm_fit(w, 2, X, y, cl, 2, 0, 0.95, &r), SYF_EINPUT);   /* n <= p */
    assert_int_equal(syf_lmm_fit(w, 9, X, y, cl, 4, 0, 0.95, &r), SYF_EINPUT);   /* n > n_max */
    assert_int_equal(syf_lmm_fit(w, 8, X, y, cl, 4, 0, 1.5, &r), SYF_EINPUT);    /* level */
    assert_int_equal(syf_lmm_fit(w, 8, X, y, cl, 5, 0, 0.95, &r), SYF_EINPUT);   /* empty */
    assert_non_null(strstr(syf_error_message(), "no rows"));
    assert_int_equal(syf_lmm_fit(w, 8, X, y, cl, 3, 0, 0.95, &r), SYF_EINPUT);   /* code >= G */
    assert_int_equal(syf_lmm_fit(w, 8, X, y, one, 8, 0, 0.95, &r), SYF_EINPUT);  /* singletons */
    assert_non_null(strstr(syf_error_message(), "single row"));
    assert_int_equal(syf_lmm_fit(w, 8, X, y, NULL, 4, 0, 0.95, &r), SYF_EINPUT);
    y[3] = NAN;
    assert_int_equal(syf_lmm_fit(w, 8, X, y, cl, 4, 0, 0.95, &r), SYF_EINPUT);
    y[3] = 5;
    /* Collinear: second column constant. */
    double Xc[2 * 8] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2};
    assert_int_equal(syf_lmm_fit(w, 8, Xc, y, cl, 4, 0, 0.95, &r), SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "singular"));
    /* Exact fit: zero residual sum of squares. */
    double ye[8];
    for (size_t i = 0; i < 8; i++)
        ye[i] = 1 + 2 * X[2 * i + 1];
    assert_int_equal(syf_lmm_fit(w, 8, X, ye, cl, 4, 0, 0.95, &r), SYF_ESINGULAR);
    /* Outcome constant within clusters, varying between them (intercept
     * only): REML sends s_e to 0. */
    double X1[8] = {1, 1, 1, 1, 1, 1, 1, 1}, yc[8] = {1, 1, 3, 3, 2, 2, 7, 7};
    syf_lmm_workspace *w1 = syf_lmm_alloc(8, 1, 4);
    assert_int_equal(syf_lmm_fit(w1, 8, X1, yc, cl, 4, 0, 0.95, &r), SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "residual variance"));
    /* ... and a valid fit on the same workspace afterwards. */
    check_ok(syf_lmm_fit(w, 8, X, y, cl, 4, SYF_LMM_DF_SATTERTHWAITE, 0, &r));
    assert_rel(r.level, 0.95, 1e-15);
    assert_int_equal(syf_lmm_profile(w, -1.0, &f), SYF_EINPUT);
    assert_string_equal(syf_lmm_df_name(SYF_LMM_DF_SATTERTHWAITE), "Satterthwaite");
    assert_string_equal(syf_lmm_df_name(SYF_LMM_DF_BETWEEN_WITHIN), "between-within");
    assert_null(syf_lmm_alloc(10, 0, 2));
    syf_lmm_free(NULL);
    syf_lmm_free(w);
    syf_lmm_free(w1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sleep_reference),  cmocka_unit_test(test_petersen_reference),
        cmocka_unit_test(test_stepped_wedge_reference), cmocka_unit_test(test_matches_naive),
        cmocka_unit_test(test_invariances),      cmocka_unit_test(test_balanced_crt),
        cmocka_unit_test(test_boundary),         cmocka_unit_test(test_large_lambda),
        cmocka_unit_test(test_workspace_reuse),  cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
