/* test_ols.c — OLS with cluster-robust variance (analysis/ols.c).
 *
 * Two kinds of test:
 *   - frozen reference numbers from the R packages the field uses (sources
 *     named at each fixture), on the Petersen (2009) data and on a small
 *     unbalanced data set with 5 clusters embedded below;
 *   - property tests against naive implementations written here with plain
 *     n_g x n_g (and n x n) GSL algebra: CR2 and its Satterthwaite df on
 *     random data with unequal clusters, HC2 with one row per cluster, CR3
 *     as the leave-one-cluster-out sum, invariances, and the error cases.
 * Run from the repository root (reads tests/data/petersen.csv).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/ols.h"

#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Petersen (2009) test data, y ~ x, cluster = firm (500 firms x 10 years). */

typedef struct {
    syf_dataset *d;
    size_t n, G;
    double *X;  /* n x 2: 1, x        */
    double *X3; /* n x 3: 1, x, year  */
    const double *y;
    size_t *firm;
} petersen;

static void petersen_load(petersen *pd)
{
    static const char *const x[] = {"x"}, *const x_year[] = {"x", "year"};
    size_t p;
    pd->d = test_read("tests/data/petersen.csv");
    pd->n = pd->d->n_rows;
    pd->y = test_column(pd->d, "y");
    pd->firm = test_factor(pd->d, "firm", &pd->G, NULL);
    pd->X = test_design(pd->d, 1, x, 1, NULL, &p);
    pd->X3 = test_design(pd->d, 1, x_year, 2, NULL, &p);
}

static void petersen_free(petersen *pd)
{
    free(pd->X);
    free(pd->X3);
    free(pd->firm);
    syf_dataset_free(pd->d);
}

static void test_petersen_reference(void **state)
{
    (void)state;
    petersen pd;
    petersen_load(&pd);
    assert_int_equal(pd.n, 5000);
    assert_int_equal(pd.G, 500);
    syf_ols_workspace *w = syf_ols_alloc(pd.n, 2, pd.G);
    assert_non_null(w);
    syf_ols_result r;

    /* Fixtures from /work/shared/validation/README.md §2 (sandwich tests with
     * Stata/MP 12; estimatr CR0/"stata"/CR2, recomputed with R 4.2.2). */
    check_ok(syf_ols_fit(w, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR0, 0.95, &r));
    assert_int_equal(r.n, 5000);
    assert_int_equal(r.G, 500);
    assert_rel(r.estimate[0], 0.029679721, 1e-6);
    assert_rel(r.estimate[1], 1.034833439, 1e-6);
    assert_rel(r.std_error[0], 0.066938961, 1e-6);
    assert_rel(r.std_error[1], 0.050540049, 1e-6);
    assert_rel(r.df[0], 499, 1e-12);
    assert_rel(r.df[1], 499, 1e-12);

    check_ok(syf_ols_fit(w, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR1, 0.95, &r));
    assert_rel(r.std_error[0], 0.067012704, 1e-6);
    assert_rel(r.std_error[1], 0.050595726, 1e-6);
    assert_rel(r.vcov[0], 0.0044907, 1e-5);  /* printed to 5 significant digits */
    assert_rel(r.vcov[3], 0.00255993, 1e-6);
    assert_rel(r.vcov[1], -0.00006474, 1e-4); /* cov(intercept, x), 4 digits */
    assert_rel(r.vcov[2], -0.00006474, 1e-4);

    check_ok(syf_ols_fit(w, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR2, 0.95, &r));
    assert_rel(r.vcov[0], 0.0044944872570532, 1e-9);
    assert_rel(r.vcov[3], 0.00256823604178553, 1e-9);
    assert_rel(r.std_error[0], 0.067040937, 1e-6);
    assert_rel(r.std_error[1], 0.050677767, 1e-6);
    assert_true(fabs(r.df[0] - 498.67) < 0.005); /* printed to 2 decimals */
    assert_rel(r.df[1], 308.75638, 1e-6);
    /* clubSandwich coef_test: t = 20.420 (printed to 3 decimals). */
    assert_true(fabs(r.statistic[1] - 20.420) < 0.0005);

    /* [recomputed with clubSandwich 0.5.8, R 4.2.2] vcovCR(type = "CR2"),
     * coef_test(test = "Satterthwaite"); the df also from estimatr 1.0.0. */
    assert_rel(r.vcov[1], -6.5929118692432915e-05, 1e-9);
    assert_rel(r.df[0], 498.669996885, 1e-9);
    assert_rel(r.df[1], 308.756381319, 1e-9);

    /* [recomputed with clubSandwich 0.5.8] CR0 / CR1S / CR3 variances. */
    check_ok(syf_ols_fit(w, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR3, 0.95, &r));
    assert_rel(r.vcov[0], 0.004508202293787727, 1e-9);
    assert_rel(r.vcov[3], 0.0025822624320339074, 1e-9);
    assert_rel(r.vcov[1], -6.7280836115793009e-05, 1e-9);
    check_ok(syf_ols_fit(w, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR1, 0.95, &r));
    assert_rel(r.vcov[0], 0.0044907024570195221, 1e-9);
    assert_rel(r.vcov[3], 0.0025599274777318671, 1e-9);
    check_ok(syf_ols_fit(w, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR0, 0.95, &r));
    assert_rel(r.vcov[0], 0.004480824528590356, 1e-9);
    assert_rel(r.vcov[3], 0.002554296559039099, 1e-9);
    assert_rel(r.vcov[1], -6.459277203519987e-05, 1e-9);

    /* [recomputed with estimatr 1.0.0] lm_robust(y ~ x, se_type = "HC2"):
     * no clusters. */
    check_ok(syf_ols_fit(w, pd.n, pd.X, pd.y, NULL, 0, SYF_VCOV_CR2, 0.95, &r));
    assert_int_equal(r.G, 5000);
    assert_rel(r.std_error[0], 0.028360638554378006, 1e-9);
    assert_rel(r.std_error[1], 0.028400787725024263, 1e-9);
    syf_ols_free(w);

    /* [recomputed with clubSandwich 0.5.8 and estimatr 1.0.0]
     * y ~ x + year, cluster = firm, CR2 with Satterthwaite df; CR3. */
    w = syf_ols_alloc(pd.n, 3, pd.G);
    check_ok(syf_ols_fit(w, pd.n, pd.X3, pd.y, pd.firm, pd.G, SYF_VCOV_CR2, 0.95, &r));
    assert_rel(r.estimate[0], 0.082797081910725642, 1e-9);
    assert_rel(r.estimate[1], 1.0350703903562972, 1e-9);
    assert_rel(r.estimate[2], -0.0096579334377594594, 1e-9);
    assert_rel(r.vcov[0], 0.0058419208983159594, 1e-9);
    assert_rel(r.vcov[4], 0.0025715682485503528, 1e-9);
    assert_rel(r.vcov[8], 5.2047716026604543e-05, 1e-9);
    assert_rel(r.df[0], 498.970742647, 1e-9);
    assert_rel(r.df[1], 308.672020332, 1e-9);
    assert_rel(r.df[2], 498.990555636, 1e-9);
    check_ok(syf_ols_fit(w, pd.n, pd.X3, pd.y, pd.firm, pd.G, SYF_VCOV_CR3, 0.95, &r));
    assert_rel(r.vcov[0], 0.0058584201472902577, 1e-9);
    assert_rel(r.vcov[4], 0.0025856447475005777, 1e-9);
    assert_rel(r.vcov[8], 5.2156646646269199e-05, 1e-9);
    syf_ols_free(w);
    petersen_free(&pd);
}

/* ------------------------------------------------------------------------ */
/* A small unbalanced data set: 5 clusters of sizes 2, 3, 4, 6, 8; x1
 * continuous, x2 binary, x3 constant within cluster.  Generated in R with
 * set.seed(20240611) and rounded to 3 decimals so both sides read exactly
 * the same numbers. */

#define SM_N 23
static const size_t sm_cl[SM_N] = {0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4};
static const double sm_x1[SM_N] = {-1.671, 0.774,  -2.053, 0.016,  -0.834, 0.132,  -0.889, 0.027,
                                   -0.601, -1.415, 0.781,  1.422,  -0.961, -2.402, -0.129, 0.375,
                                   -0.658, -0.049, -0.899, 0.09,   -0.079, 0.107,  -1.117};
static const double sm_x2[SM_N] = {1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0};
static const double sm_x3[SM_N] = {-0.383, -0.383, -0.057, -0.057, -0.057, 0.803,  0.803,  0.803,
                                   0.803,  0.577,  0.577,  0.577,  0.577,  0.577,  0.577,  -1.398,
                                   -1.398, -1.398, -1.398, -1.398, -1.398, -1.398, -1.398};
static const double sm_y[SM_N] = {1.227,  1.547,  -0.262, 1.953, 2.539, 0.152,  0.949, 0.757,
                                  0.535,  2.226,  0.129,  1.303, 0.167, -1.029, 2.233, 1.009,
                                  -0.158, 1.229,  -1.064, -0.243, 0.466, 2.235, 0.479};

static void small_X(double *X)
{
    for (size_t i = 0; i < SM_N; i++) {
        X[4 * i] = 1;
        X[4 * i + 1] = sm_x1[i];
        X[4 * i + 2] = sm_x2[i];
        X[4 * i + 3] = sm_x3[i];
    }
}

static void test_small_reference(void **state)
{
    (void)state;
    double X[SM_N * 4];
    small_X(X);
    syf_ols_workspace *w = syf_ols_alloc(SM_N, 4, 5);
    syf_ols_result r;
    const double tol = 1e-9;

    /* [recomputed with clubSandwich 0.5.8] lm(y ~ x1 + x2 + x3),
     * vcovCR(cluster = cl, type = "CR2"), coef_test(test = "Satterthwaite");
     * estimatr 1.0.0 lm_robust(se_type = "CR2") gives the same SEs, df,
     * p-values and conf.low. */
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r));
    static const double coef[] = {1.2736029688785768, 0.43660229031484449, -0.60565748591821789,
                                  0.087545923682071841};
    static const double var2[] = {0.16673498875251019, 0.016161498943442255, 0.22004307060213682,
                                  0.21506603423862095};
    static const double df2[] = {2.8955283894627, 2.81168122521313, 3.00385301273263,
                                 1.89596310703607};
    static const double p2[] = {0.0550678643539913, 0.0457114089713128, 0.287041072448318,
                                0.868528171577774};
    static const double lo2[] = {-0.0528229765423098, 0.0162544878214041, -2.09742053474068,
                                 -2.01650475119465};
    for (int j = 0; j < 4; j++) {
        assert_rel(r.estimate[j], coef[j], tol);
        assert_rel(r.vcov[j * 5], var2[j], tol);
        assert_rel(r.df[j], df2[j], 1e-8);
        assert_rel(r.p_value[j], p2[j], 1e-7);
        assert_rel(r.conf_low[j], lo2[j], 1e-7);
        assert_rel(r.conf_high[j], 2 * coef[j] - lo2[j], 1e-7);
        assert_rel(r.statistic[j], coef[j] / sqrt(var2[j]), tol);
    }
    assert_rel(r.vcov[1 * 4 + 2], -0.039002499456064842, tol);

    /* [recomputed with clubSandwich 0.5.8] CR0, CR1S (= our CR1), CR3. */
    static const double var0[] = {0.064067130346768406, 0.015292598123861769, 0.13663882166173791,
                                  0.027798898928865112};
    static const double var1[] = {0.092728741291375344, 0.022134023600326225, 0.19776671556304165,
                                  0.040235248449673182};
    static const double var3[] = {1.3092000740533642, 0.037409541264136335, 0.73740787433460009,
                                  2.5718692893472652};
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR0, 0.95, &r));
    for (int j = 0; j < 4; j++) {
        assert_rel(r.vcov[j * 5], var0[j], tol);
        assert_rel(r.df[j], 4, 0);
    }
    assert_rel(r.vcov[1 * 4 + 2], -0.02738847088456467, tol);
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR1, 0.95, &r));
    for (int j = 0; j < 4; j++)
        assert_rel(r.vcov[j * 5], var1[j], tol);
    assert_rel(r.vcov[1 * 4 + 2], -0.039641207859238338, tol);
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR3, 0.95, &r));
    for (int j = 0; j < 4; j++)
        assert_rel(r.vcov[j * 5], var3[j], tol);
    assert_rel(r.vcov[1 * 4 + 2], -0.15150328018721371, tol);
    syf_ols_free(w);

    /* [recomputed with clubSandwich 0.5.8] one row per cluster:
     * vcovCR(cluster = 1:n, type = "CR2") and its Satterthwaite df (= HC2,
     * same SEs as estimatr lm_robust(se_type = "HC2")). */
    w = syf_ols_alloc(SM_N, 4, 0);
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, NULL, 0, SYF_VCOV_CR2, 0.95, &r));
    static const double varh[] = {0.10752616372256392, 0.063926011967302285, 0.20821363654902206,
                                  0.048958823413088999};
    static const double dfh[] = {11.8940925374116, 6.72163267853014, 12.1055932903121,
                                 12.7044592342928};
    for (int j = 0; j < 4; j++) {
        assert_rel(r.vcov[j * 5], varh[j], tol);
        assert_rel(r.df[j], dfh[j], 1e-8);
    }
    syf_ols_free(w);
}

/* ------------------------------------------------------------------------ */
/* Naive reference implementation: n_g x n_g adjustment matrices and the
 * Satterthwaite df from the n x n matrix I - H. */

typedef struct {
    double vcov[16];
    double df[4];
} naive_out;

/* (I - H_gg)^{power} for a symmetric PSD-complement matrix, power -1/2 or -1. */
static gsl_matrix *naive_adjust(const gsl_matrix *IH, double power)
{
    size_t m = IH->size1;
    gsl_matrix *a = gsl_matrix_alloc(m, m), *V = gsl_matrix_alloc(m, m);
    gsl_vector *l = gsl_vector_alloc(m);
    gsl_matrix_memcpy(a, IH);
    gsl_eigen_symmv_workspace *ew = gsl_eigen_symmv_alloc(m);
    gsl_eigen_symmv(a, l, V, ew);
    gsl_eigen_symmv_free(ew);
    gsl_matrix *out = gsl_matrix_calloc(m, m);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            double s = 0;
            for (size_t k = 0; k < m; k++)
                s += gsl_matrix_get(V, i, k) * pow(gsl_vector_get(l, k), power) *
                     gsl_matrix_get(V, j, k);
            gsl_matrix_set(out, i, j, s);
        }
    gsl_matrix_free(a);
    gsl_matrix_free(V);
    gsl_vector_free(l);
    return out;
}

/* cluster == NULL: one row per cluster.  power = 0 (CR0), -0.5 (CR2), -1 (CR3). */
static void naive_fit(size_t n, size_t p, const double *Xa, const double *ya, const size_t *cluster,
                      size_t G, double power, naive_out *out)
{
    gsl_matrix_const_view X = gsl_matrix_const_view_array(Xa, n, p);
    gsl_vector_const_view y = gsl_vector_const_view_array(ya, n);
    gsl_matrix *A = gsl_matrix_alloc(p, p), *Ai = gsl_matrix_alloc(p, p);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1, &X.matrix, &X.matrix, 0, A);
    gsl_matrix_memcpy(Ai, A);
    gsl_linalg_cholesky_decomp1(Ai);
    gsl_linalg_cholesky_invert(Ai);
    gsl_vector *Xty = gsl_vector_alloc(p), *b = gsl_vector_alloc(p), *e = gsl_vector_alloc(n);
    gsl_blas_dgemv(CblasTrans, 1, &X.matrix, &y.vector, 0, Xty);
    gsl_blas_dgemv(CblasNoTrans, 1, Ai, Xty, 0, b);
    gsl_vector_memcpy(e, &y.vector);
    gsl_blas_dgemv(CblasNoTrans, -1, &X.matrix, b, 1, e);
    /* H = X Ai X' (n x n), IH = I - H. */
    gsl_matrix *XAi = gsl_matrix_alloc(n, p), *IH = gsl_matrix_alloc(n, n);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, &X.matrix, Ai, 0, XAi);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, -1, XAi, &X.matrix, 0, IH);
    for (size_t i = 0; i < n; i++)
        gsl_matrix_set(IH, i, i, 1 + gsl_matrix_get(IH, i, i));

    /* P (n x p*G): column (g, j) holds P_g for contrast e_j, i.e. A_g X_g Ai e_j
     * on the rows of cluster g and 0 elsewhere. */
    gsl_matrix *P = gsl_matrix_calloc(n, p * G);
    gsl_matrix *meat = gsl_matrix_calloc(p, p);
    size_t *rows = malloc(n * sizeof *rows);
    for (size_t g = 0; g < G; g++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (cluster ? cluster[i] == g : i == g)
                rows[m++] = i;
        gsl_matrix *IHg = gsl_matrix_alloc(m, m);
        for (size_t a = 0; a < m; a++)
            for (size_t c = 0; c < m; c++)
                gsl_matrix_set(IHg, a, c, gsl_matrix_get(IH, rows[a], rows[c]));
        gsl_matrix *Ag;
        if (power == 0) {
            Ag = gsl_matrix_alloc(m, m);
            gsl_matrix_set_identity(Ag);
        } else {
            Ag = naive_adjust(IHg, power);
        }
        gsl_matrix *Xg = gsl_matrix_alloc(m, p);
        gsl_vector *eg = gsl_vector_alloc(m), *Ae = gsl_vector_alloc(m), *u = gsl_vector_alloc(p);
        for (size_t a = 0; a < m; a++) {
            for (size_t j = 0; j < p; j++)
                gsl_matrix_set(Xg, a, j, gsl_matrix_get(&X.matrix, rows[a], j));
            gsl_vector_set(eg, a, gsl_vector_get(e, rows[a]));
        }
        gsl_blas_dgemv(CblasNoTrans, 1, Ag, eg, 0, Ae);
        gsl_blas_dgemv(CblasTrans, 1, Xg, Ae, 0, u);
        gsl_blas_dger(1, u, u, meat);
        gsl_matrix *AX = gsl_matrix_alloc(m, p), *AXAi = gsl_matrix_alloc(m, p);
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, Ag, Xg, 0, AX);
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, AX, Ai, 0, AXAi);
        for (size_t a = 0; a < m; a++)
            for (size_t j = 0; j < p; j++)
                gsl_matrix_set(P, rows[a], g * p + j, gsl_matrix_get(AXAi, a, j));
        gsl_matrix_free(IHg);
        gsl_matrix_free(Ag);
        gsl_matrix_free(Xg);
        gsl_matrix_free(AX);
        gsl_matrix_free(AXAi);
        gsl_vector_free(eg);
        gsl_vector_free(Ae);
        gsl_vector_free(u);
    }
    gsl_matrix *T = gsl_matrix_alloc(p, p), *Vc = gsl_matrix_alloc(p, p);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, Ai, meat, 0, T);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, T, Ai, 0, Vc);
    for (size_t i = 0; i < p * p; i++)
        out->vcov[i] = Vc->data[i];

    /* Omega_gh = P_g' (I - H) P_h for each contrast j: G x G. */
    gsl_matrix *IHP = gsl_matrix_alloc(n, p * G), *Om = gsl_matrix_alloc(p * G, p * G);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, IH, P, 0, IHP);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1, P, IHP, 0, Om);
    for (size_t j = 0; j < p; j++) {
        double tr = 0, fro = 0;
        for (size_t g = 0; g < G; g++) {
            tr += gsl_matrix_get(Om, g * p + j, g * p + j);
            for (size_t h = 0; h < G; h++) {
                double o = gsl_matrix_get(Om, g * p + j, h * p + j);
                fro += o * o;
            }
        }
        out->df[j] = tr * tr / fro;
    }
    gsl_matrix_free(A);
    gsl_matrix_free(Ai);
    gsl_matrix_free(XAi);
    gsl_matrix_free(IH);
    gsl_matrix_free(P);
    gsl_matrix_free(meat);
    gsl_matrix_free(T);
    gsl_matrix_free(Vc);
    gsl_matrix_free(IHP);
    gsl_matrix_free(Om);
    gsl_vector_free(Xty);
    gsl_vector_free(b);
    gsl_vector_free(e);
    free(rows);
}

/* Random data: clusters of sizes {1, 3, 4, 7, 10} in shuffled row order,
 * intercept + 3 covariates (one cluster-level), y with a cluster effect. */
#define RD_N 25
#define RD_P 4
#define RD_G 5
static void random_data(gsl_rng *rng, double *X, double *y, size_t *cl)
{
    static const size_t sizes[RD_G] = {1, 3, 4, 7, 10};
    size_t i = 0;
    for (size_t g = 0; g < RD_G; g++)
        for (size_t k = 0; k < sizes[g]; k++)
            cl[i++] = g;
    gsl_ran_shuffle(rng, cl, RD_N, sizeof *cl);
    double ceff[RD_G], clev[RD_G];
    for (size_t g = 0; g < RD_G; g++) {
        ceff[g] = gsl_ran_gaussian(rng, 1.0);
        clev[g] = gsl_ran_gaussian(rng, 1.0);
    }
    for (i = 0; i < RD_N; i++) {
        X[i * RD_P] = 1;
        X[i * RD_P + 1] = gsl_ran_gaussian(rng, 2.0);
        X[i * RD_P + 2] = gsl_rng_uniform(rng) < 0.5;
        X[i * RD_P + 3] = clev[cl[i]];
        y[i] = 0.5 + X[i * RD_P + 1] - X[i * RD_P + 2] + ceff[cl[i]] + gsl_ran_gaussian(rng, 1.0);
    }
}

static void test_cr2_matches_naive(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 12345);
    syf_ols_workspace *w = syf_ols_alloc(RD_N, RD_P, RD_G);
    double X[RD_N * RD_P], y[RD_N];
    size_t cl[RD_N];
    for (int rep = 0; rep < 20; rep++) {
        random_data(rng, X, y, cl);
        syf_ols_result r;
        naive_out nv;

        check_ok(syf_ols_fit(w, RD_N, X, y, cl, RD_G, SYF_VCOV_CR2, 0.95, &r));
        naive_fit(RD_N, RD_P, X, y, cl, RD_G, -0.5, &nv);
        for (int j = 0; j < RD_P * RD_P; j++)
            assert_rel(r.vcov[j], nv.vcov[j], 1e-9);
        for (int j = 0; j < RD_P; j++) {
            assert_rel(r.df[j], nv.df[j], 1e-8);
            assert_rel(r.std_error[j], sqrt(nv.vcov[j * (RD_P + 1)]), 1e-9);
        }

        check_ok(syf_ols_fit(w, RD_N, X, y, cl, RD_G, SYF_VCOV_CR3, 0.95, &r));
        naive_fit(RD_N, RD_P, X, y, cl, RD_G, -1.0, &nv);
        for (int j = 0; j < RD_P * RD_P; j++)
            assert_rel(r.vcov[j], nv.vcov[j], 1e-9);

        check_ok(syf_ols_fit(w, RD_N, X, y, cl, RD_G, SYF_VCOV_CR0, 0.95, &r));
        naive_fit(RD_N, RD_P, X, y, cl, RD_G, 0.0, &nv);
        for (int j = 0; j < RD_P * RD_P; j++)
            assert_rel(r.vcov[j], nv.vcov[j], 1e-9);

        /* CR1 = CR0 * G/(G-1) * (n-1)/(n-p). */
        check_ok(syf_ols_fit(w, RD_N, X, y, cl, RD_G, SYF_VCOV_CR1, 0.95, &r));
        double f = (double)RD_G / (RD_G - 1) * (RD_N - 1.0) / (RD_N - RD_P);
        for (int j = 0; j < RD_P * RD_P; j++)
            assert_rel(r.vcov[j], f * nv.vcov[j], 1e-9);
    }
    syf_ols_free(w);
    gsl_rng_free(rng);
}

/* HC2 with one row per cluster, computed the textbook way:
 * V = Ai [sum_i x_i x_i' e_i^2 / (1 - h_ii)] Ai; df from the naive Omega. */
static void test_hc2_naive(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 777);
    double X[RD_N * RD_P], y[RD_N];
    size_t cl[RD_N];
    random_data(rng, X, y, cl);
    syf_ols_workspace *w = syf_ols_alloc(RD_N, RD_P, 1);
    syf_ols_result r;
    check_ok(syf_ols_fit(w, RD_N, X, y, NULL, 0, SYF_VCOV_CR2, 0.95, &r));
    assert_int_equal(r.G, RD_N);

    gsl_matrix_view Xm = gsl_matrix_view_array(X, RD_N, RD_P);
    gsl_matrix *Ai = gsl_matrix_alloc(RD_P, RD_P), *meat = gsl_matrix_calloc(RD_P, RD_P),
               *T = gsl_matrix_alloc(RD_P, RD_P), *V = gsl_matrix_alloc(RD_P, RD_P);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1, &Xm.matrix, &Xm.matrix, 0, Ai);
    gsl_linalg_cholesky_decomp1(Ai);
    gsl_linalg_cholesky_invert(Ai);
    gsl_vector *xi = gsl_vector_alloc(RD_P), *t = gsl_vector_alloc(RD_P);
    for (size_t i = 0; i < RD_N; i++) {
        gsl_matrix_get_row(xi, &Xm.matrix, i);
        double h, fit = 0;
        gsl_blas_dgemv(CblasNoTrans, 1, Ai, xi, 0, t);
        gsl_blas_ddot(xi, t, &h);
        for (size_t j = 0; j < RD_P; j++)
            fit += X[i * RD_P + j] * r.estimate[j];
        double e = y[i] - fit;
        gsl_blas_dger(e * e / (1 - h), xi, xi, meat);
    }
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, Ai, meat, 0, T);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, T, Ai, 0, V);
    for (size_t j = 0; j < RD_P * RD_P; j++)
        assert_rel(r.vcov[j], V->data[j], 1e-9);

    naive_out nv;
    naive_fit(RD_N, RD_P, X, y, NULL, RD_N, -0.5, &nv);
    for (int j = 0; j < RD_P; j++)
        assert_rel(r.df[j], nv.df[j], 1e-8);

    /* Explicit singleton clusters give the same as cluster == NULL. */
    size_t ids[RD_N];
    for (size_t i = 0; i < RD_N; i++)
        ids[i] = RD_N - 1 - i;
    syf_ols_workspace *w2 = syf_ols_alloc(RD_N, RD_P, RD_N);
    syf_ols_result r2;
    check_ok(syf_ols_fit(w2, RD_N, X, y, ids, RD_N, SYF_VCOV_CR2, 0.95, &r2));
    for (int j = 0; j < RD_P; j++) {
        assert_rel(r2.std_error[j], r.std_error[j], 1e-12);
        assert_rel(r2.df[j], r.df[j], 1e-10);
    }
    syf_ols_free(w2);
    gsl_matrix_free(Ai);
    gsl_matrix_free(meat);
    gsl_matrix_free(T);
    gsl_matrix_free(V);
    gsl_vector_free(xi);
    gsl_vector_free(t);
    syf_ols_free(w);
    gsl_rng_free(rng);
}

/* CR3 (clubSandwich convention) = sum_g (b_(g) - b)(b_(g) - b)', the
 * leave-one-cluster-out estimates refitted from scratch. */
static void test_cr3_jackknife(void **state)
{
    (void)state;
    double X[SM_N * 4], Xs[SM_N * 4], ys[SM_N];
    small_X(X);
    syf_ols_workspace *w = syf_ols_alloc(SM_N, 4, 5), *wj = syf_ols_alloc(SM_N, 4, 1);
    syf_ols_result r, rj;
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR3, 0.95, &r));
    double b[4], J[16] = {0};
    memcpy(b, r.estimate, sizeof b);
    for (size_t g = 0; g < 5; g++) {
        size_t m = 0;
        for (size_t i = 0; i < SM_N; i++)
            if (sm_cl[i] != g) {
                memcpy(Xs + 4 * m, X + 4 * i, 4 * sizeof *X);
                ys[m++] = sm_y[i];
            }
        /* x3 is cluster-level: dropping a cluster keeps the design regular. */
        check_ok(syf_ols_fit(wj, m, Xs, ys, NULL, 0, SYF_VCOV_CR0, 0.95, &rj));
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 4; l++)
                J[j * 4 + l] += (rj.estimate[j] - b[j]) * (rj.estimate[l] - b[l]);
    }
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR3, 0.95, &r));
    for (int j = 0; j < 16; j++)
        assert_rel(r.vcov[j], J[j], 1e-8);
    syf_ols_free(w);
    syf_ols_free(wj);
}

static void test_invariances(void **state)
{
    (void)state;
    double X[SM_N * 4], y2[SM_N], X2[SM_N * 4];
    small_X(X);
    syf_ols_workspace *w = syf_ols_alloc(SM_N, 4, 5);
    syf_ols_result r;
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r));
    double se[4], df[4], est[4];
    memcpy(se, r.std_error, sizeof se);
    memcpy(df, r.df, sizeof df);
    memcpy(est, r.estimate, sizeof est);

    /* Adding a constant to y moves only the intercept. */
    for (size_t i = 0; i < SM_N; i++)
        y2[i] = sm_y[i] + 1000.0;
    check_ok(syf_ols_fit(w, SM_N, X, y2, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r));
    assert_rel(r.estimate[0], est[0] + 1000.0, 1e-12);
    for (int j = 0; j < 4; j++) {
        assert_rel(r.std_error[j], se[j], 1e-9);
        assert_rel(r.df[j], df[j], 1e-9);
    }
    for (int j = 1; j < 4; j++)
        assert_rel(r.estimate[j], est[j], 1e-9);

    /* Scaling y by c scales estimates and SEs by |c|, keeps the df. */
    for (size_t i = 0; i < SM_N; i++)
        y2[i] = -3.0 * sm_y[i];
    check_ok(syf_ols_fit(w, SM_N, X, y2, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r));
    for (int j = 0; j < 4; j++) {
        assert_rel(r.estimate[j], -3.0 * est[j], 1e-12);
        assert_rel(r.std_error[j], 3.0 * se[j], 1e-12);
        assert_rel(r.df[j], df[j], 1e-10);
    }

    /* Rescaling a covariate by 1e6 rescales its SE by 1e-6 (the unit-diagonal
     * scaling of X'X keeps this exact), other SEs unchanged. */
    memcpy(X2, X, sizeof X2);
    for (size_t i = 0; i < SM_N; i++)
        X2[4 * i + 1] *= 1e6;
    check_ok(syf_ols_fit(w, SM_N, X2, sm_y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r));
    assert_rel(r.std_error[1], se[1] * 1e-6, 1e-8);
    assert_rel(r.std_error[2], se[2], 1e-8);
    assert_rel(r.df[1], df[1], 1e-8);

    /* Row order and cluster relabelling do not matter. */
    size_t perm[SM_N], cl2[SM_N];
    for (size_t i = 0; i < SM_N; i++)
        perm[i] = (i * 7) % SM_N; /* 7 is coprime with 23 */
    for (size_t i = 0; i < SM_N; i++) {
        memcpy(X2 + 4 * i, X + 4 * perm[i], 4 * sizeof *X);
        y2[i] = sm_y[perm[i]];
        cl2[i] = 4 - sm_cl[perm[i]];
    }
    check_ok(syf_ols_fit(w, SM_N, X2, y2, cl2, 5, SYF_VCOV_CR2, 0.95, &r));
    for (int j = 0; j < 4; j++) {
        assert_rel(r.estimate[j], est[j], 1e-10);
        assert_rel(r.std_error[j], se[j], 1e-10);
        assert_rel(r.df[j], df[j], 1e-9);
    }

    /* Confidence level: the 0.99 interval contains the 0.95 one; level 0
     * means 0.95. */
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR2, 0, &r));
    double lo95 = r.conf_low[1];
    assert_rel(r.level, 0.95, 0);
    check_ok(syf_ols_fit(w, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR2, 0.99, &r));
    assert_true(r.conf_low[1] < lo95);
    syf_ols_free(w);
}

/* A workspace sized for many rows refits smaller problems exactly like a
 * fresh one (nothing left over from the previous fit). */
static void test_workspace_reuse(void **state)
{
    (void)state;
    petersen pd;
    petersen_load(&pd);
    double X[SM_N * 4];
    small_X(X);
    syf_ols_workspace *big = syf_ols_alloc(pd.n, 2, pd.G), *w4 = syf_ols_alloc(pd.n, 4, pd.G);
    syf_ols_workspace *fresh = syf_ols_alloc(SM_N, 4, 5);
    syf_ols_result a, b;
    check_ok(syf_ols_fit(big, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR2, 0.95, &a));
    check_ok(syf_ols_fit(big, 100, pd.X, pd.y, pd.firm, 10, SYF_VCOV_CR2, 0.95, &a));
    check_ok(syf_ols_fit(big, pd.n, pd.X, pd.y, pd.firm, pd.G, SYF_VCOV_CR2, 0.95, &a));
    assert_rel(a.df[1], 308.756381319, 1e-9);
    check_ok(syf_ols_fit(w4, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &a));
    check_ok(syf_ols_fit(fresh, SM_N, X, sm_y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &b));
    for (int j = 0; j < 16; j++)
        assert_true(a.vcov[j] == b.vcov[j]);
    for (int j = 0; j < 4; j++)
        assert_true(a.df[j] == b.df[j]);
    syf_ols_free(big);
    syf_ols_free(w4);
    syf_ols_free(fresh);
    petersen_free(&pd);
}

static void expect_error(int st, int code, const char *want)
{
    if (st != code || !strstr(syf_error_message(), want)) {
        print_error("status %d (want %d), message \"%s\", want \"%s\"\n", st, code,
                    syf_error_message(), want);
        fail();
    }
}

static void test_errors(void **state)
{
    (void)state;
    double X[SM_N * 4], y[SM_N];
    small_X(X);
    memcpy(y, sm_y, sizeof y);
    syf_ols_workspace *w = syf_ols_alloc(SM_N, 4, 5);
    syf_ols_result r;

    /* Collinear: x2 duplicated into the x3 column; a zero column. */
    double Xc[SM_N * 4];
    memcpy(Xc, X, sizeof Xc);
    for (size_t i = 0; i < SM_N; i++)
        Xc[4 * i + 3] = 2.0 * Xc[4 * i + 2] - 1.0;
    expect_error(syf_ols_fit(w, SM_N, Xc, y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r), SYF_ESINGULAR,
                 "design matrix is singular (collinear columns?)");
    for (size_t i = 0; i < SM_N; i++)
        Xc[4 * i + 3] = 0;
    expect_error(syf_ols_fit(w, SM_N, Xc, y, sm_cl, 5, SYF_VCOV_CR1, 0.95, &r), SYF_ESINGULAR,
                 "column 4 is all zeros");

    /* A one-row cluster with its own dummy: leverage 1.  CR2 and CR3 refuse,
     * CR1 is fine. */
    size_t cl[SM_N];
    for (size_t i = 0; i < SM_N; i++) {
        cl[i] = i == 0 ? 0 : 1 + (i % 4);
        Xc[4 * i + 3] = i == 0;
    }
    expect_error(syf_ols_fit(w, SM_N, Xc, y, cl, 5, SYF_VCOV_CR2, 0.95, &r), SYF_ESINGULAR,
                 "I - H_gg is singular for cluster code 0");
    assert_int_equal(syf_ols_singular_cluster(w), 0);
    expect_error(syf_ols_fit(w, SM_N, Xc, y, cl, 5, SYF_VCOV_CR3, 0.95, &r), SYF_ESINGULAR,
                 "CR3 is undefined");
    check_ok(syf_ols_fit(w, SM_N, Xc, y, cl, 5, SYF_VCOV_CR1, 0.95, &r));
    assert_int_equal(syf_ols_singular_cluster(w), (size_t)-1);
    assert_true(isfinite(r.std_error[1]));
    /* The same with a 2-row cluster fully absorbed by its dummy. */
    for (size_t i = 0; i < SM_N; i++)
        Xc[4 * i + 3] = sm_cl[i] == 0;
    expect_error(syf_ols_fit(w, SM_N, Xc, y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r), SYF_ESINGULAR,
                 "cluster code 0");

    /* Bad arguments. */
    size_t one[SM_N] = {0};
    expect_error(syf_ols_fit(w, SM_N, X, y, one, 1, SYF_VCOV_CR2, 0.95, &r), SYF_EINPUT,
                 "need at least 2 clusters");
    expect_error(syf_ols_fit(w, SM_N, X, y, sm_cl, 6, SYF_VCOV_CR2, 0.95, &r), SYF_EINPUT,
                 "exceed the workspace size");
    size_t gap[SM_N];
    for (size_t i = 0; i < SM_N; i++)
        gap[i] = sm_cl[i] == 2 ? 3 : sm_cl[i];
    expect_error(syf_ols_fit(w, SM_N, X, y, gap, 5, SYF_VCOV_CR2, 0.95, &r), SYF_EINPUT,
                 "cluster code 2 has no rows");
    gap[5] = 9;
    expect_error(syf_ols_fit(w, SM_N, X, y, gap, 5, SYF_VCOV_CR2, 0.95, &r), SYF_EINPUT,
                 "cluster code 9 in row 6");
    expect_error(syf_ols_fit(w, 4, X, y, NULL, 0, SYF_VCOV_CR2, 0.95, &r), SYF_EINPUT,
                 "need more rows than coefficients");
    expect_error(syf_ols_fit(w, SM_N + 1, X, y, NULL, 0, SYF_VCOV_CR2, 0.95, &r), SYF_EINPUT,
                 "exceed the workspace size");
    expect_error(syf_ols_fit(w, SM_N, X, y, sm_cl, 5, SYF_VCOV_CR2, 1.5, &r), SYF_EINPUT,
                 "confidence level");
    y[3] = NAN;
    expect_error(syf_ols_fit(w, SM_N, X, y, sm_cl, 5, SYF_VCOV_CR2, 0.95, &r), SYF_EINPUT,
                 "outcome is not finite in row 4");
    syf_ols_free(w);

    syf_vcov_type t = SYF_VCOV_CR0;
    check_ok(syf_vcov_type_parse("cr3", &t));
    assert_int_equal(t, SYF_VCOV_CR3);
    assert_string_equal(syf_vcov_type_name(SYF_VCOV_CR2), "CR2");
    expect_error(syf_vcov_type_parse("HC1", &t), SYF_EINPUT, "unknown standard-error type 'HC1'");
    assert_null(syf_ols_alloc(10, 0, 1));
    syf_ols_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_petersen_reference), cmocka_unit_test(test_small_reference),
        cmocka_unit_test(test_cr2_matches_naive),  cmocka_unit_test(test_hc2_naive),
        cmocka_unit_test(test_cr3_jackknife),      cmocka_unit_test(test_invariances),
        cmocka_unit_test(test_workspace_reuse),    cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
