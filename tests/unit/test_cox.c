/* test_cox.c — Cox proportional hazards (analysis/cox.c).
 *
 *   - frozen reference numbers on the NCCTG lung data (tests/data/lung.csv,
 *     status recoded 2 -> 1 event, 1 -> 0 censored): validation README §3
 *     (survival 3.5.3) and values recomputed with more digits, Breslow ties,
 *     per-row robust SE and score residuals;
 *   - property tests against a naive O(n^2) implementation written here from
 *     the definitions (partial log-likelihood, score, information and score
 *     residuals, Efron and Breslow) on random data with many ties and
 *     clusters, invariances (row order, monotone transforms of time, shifts
 *     of a regressor, Efron = Breslow without ties), workspace reuse, and the
 *     error cases (bad event codes, no events, constant and collinear
 *     regressors, a monotone likelihood).
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/cox.h"
#include "syfosim/dataset.h"
#include "syfosim/error.h"

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
/* lung: time, status (1/2 -> 0/1), age, sex, inst (18 institutions). */

typedef struct {
    syf_dataset *d;
    size_t n, G;
    double *X, *ev;
    const double *time;
    size_t *inst;
} lung_data;

static void lung_load(lung_data *L)
{
    static const char *const cols[] = {"age", "sex"};
    size_t p;
    L->d = test_read("tests/data/lung.csv");
    L->n = L->d->n_rows;
    L->time = test_column(L->d, "time");
    const double *status = test_column(L->d, "status");
    L->X = test_design(L->d, 0, cols, 2, NULL, &p);
    L->inst = test_factor(L->d, "inst", &L->G, NULL);
    L->ev = malloc(L->n * sizeof *L->ev);
    for (size_t i = 0; i < L->n; i++)
        L->ev[i] = status[i] - 1;
}

static void lung_free(lung_data *L)
{
    syf_dataset_free(L->d);
    free(L->X);
    free(L->ev);
    free(L->inst);
}

/* Validation README §3: coxph(Surv(time, status) ~ age + sex, data = lung,
 * cluster = inst), survival 3.5.3, Efron ties, printed to the digits given
 * there; and with more digits: [recomputed with survival 3.5.3, R 4.2.2,
 * coxph.control(eps = 1e-14, iter.max = 100, toler.chol = 1e-15),
 * printed with sprintf("%.12g")]. */
static void test_lung_efron(void **state)
{
    (void)state;
    lung_data L;
    lung_load(&L);
    assert_int_equal(L.n, 227);
    assert_int_equal(L.G, 18);
    syf_cox_workspace *w = syf_cox_alloc(L.n, 2, L.G);
    syf_cox_result r;
    check_ok(syf_cox_fit(w, L.n, L.X, L.time, L.ev, L.inst, L.G, SYF_COX_EFRON,
                         SYF_COX_VCOV_ROBUST, 0.95, &r));
    assert_int_equal(r.n_events, 164);
    /* README §3 (9-10 significant digits printed): */
    assert_rel(r.estimate[0], 0.017033496, 1e-8);
    assert_rel(r.estimate[1], -0.511668296, 1e-8);
    assert_rel(r.std_error_model[0], 0.0092326644, 1e-8);
    assert_rel(r.std_error_model[1], 0.1676785912, 1e-8);
    assert_rel(r.std_error_robust[0], 0.0073273931, 1e-8);
    assert_rel(r.std_error_robust[1], 0.1282306017, 1e-8);
    /* recomputed, 12 digits: */
    assert_rel(r.estimate[0], 0.0170334959766, 1e-9);
    assert_rel(r.estimate[1], -0.511668298216, 1e-9);
    assert_rel(r.std_error_model[0], 0.0092326644368, 1e-9);
    assert_rel(r.std_error_model[1], 0.16767859127, 1e-9);
    assert_rel(r.std_error_robust[0], 0.00732739307695, 1e-9);
    assert_rel(r.std_error_robust[1], 0.12823060178, 1e-9);
    assert_rel(r.vcov_robust[1], 0.000189261582662, 1e-8);
    assert_rel(r.vcov_model[1], 8.1955515019e-05, 1e-8);
    assert_rel(r.loglik_null, -744.799933703, 1e-11);
    assert_rel(r.loglik, -737.810921265, 1e-11);
    /* summary(fit): robust z and p, confint (robust) */
    assert_rel(r.statistic[0], 2.32463248494, 1e-8);
    assert_rel(r.statistic[1], -3.99021989381, 1e-8);
    assert_rel(r.p_value[0], 0.0200916202316, 1e-7);
    assert_rel(r.p_value[1], 6.6012066314e-05, 1e-7);
    assert_rel(r.conf_low[0], 0.0026720694452, 1e-7);
    assert_rel(r.conf_high[0], 0.031394922508, 1e-8);
    assert_rel(r.conf_low[1], -0.76299565942, 1e-8);
    assert_rel(r.conf_high[1], -0.260340937013, 1e-8);
    /* residuals(fit, type = "score"), rows 1, 2 and 227 */
    assert_rel(r.score_residual[0], -0.108084377284, 1e-8);
    assert_rel(r.score_residual[1], -0.046107794077, 1e-8);
    assert_rel(r.score_residual[2], -1.80418069259, 1e-8);
    assert_rel(r.score_residual[3], 0.15033193171, 1e-8);
    assert_rel(r.score_residual[226 * 2], 1.10652400622, 1e-8);
    assert_rel(r.score_residual[226 * 2 + 1], -0.143936915104, 1e-8);

    /* model-based type: same estimate, inference on the naive SE */
    check_ok(syf_cox_fit(w, L.n, L.X, L.time, L.ev, L.inst, L.G, SYF_COX_EFRON,
                         SYF_COX_VCOV_MODEL, 0.95, &r));
    assert_rel(r.std_error[1], 0.16767859127, 1e-9);
    assert_rel(r.statistic[1], -0.511668298216 / 0.16767859127, 1e-8);

    /* coxph(..., robust = TRUE) without cluster: each row its own cluster */
    check_ok(syf_cox_fit(w, L.n, L.X, L.time, L.ev, NULL, 0, SYF_COX_EFRON,
                         SYF_COX_VCOV_ROBUST, 0.95, &r));
    assert_int_equal(r.G, L.n);
    assert_rel(r.std_error[0], 0.00950087938024, 1e-9);
    assert_rel(r.std_error[1], 0.160349895497, 1e-9);
    syf_cox_free(w);
    lung_free(&L);
}

/* Breslow ties, same model [recomputed with survival 3.5.3, R 4.2.2,
 * ties = "breslow", same control]. */
static void test_lung_breslow(void **state)
{
    (void)state;
    lung_data L;
    lung_load(&L);
    syf_cox_workspace *w = syf_cox_alloc(L.n, 2, L.G);
    syf_cox_result r;
    check_ok(syf_cox_fit(w, L.n, L.X, L.time, L.ev, L.inst, L.G, SYF_COX_BRESLOW,
                         SYF_COX_VCOV_ROBUST, 0.95, &r));
    assert_rel(r.estimate[0], 0.0170000450713, 1e-9);
    assert_rel(r.estimate[1], -0.510996589385, 1e-9);
    assert_rel(r.std_error_model[0], 0.00923134973628, 1e-9);
    assert_rel(r.std_error_model[1], 0.167682739843, 1e-9);
    assert_rel(r.std_error_robust[0], 0.00730480766743, 1e-9);
    assert_rel(r.std_error_robust[1], 0.127959162682, 1e-9);
    assert_rel(r.vcov_robust[1], 0.000190894257709, 1e-8);
    assert_rel(r.vcov_model[1], 8.22677347415e-05, 1e-8);
    assert_rel(r.loglik_null, -745.013060575, 1e-11);
    assert_rel(r.loglik, -738.043641522, 1e-11);
    assert_rel(r.p_value[0], 0.0199524625933, 1e-7);
    assert_rel(r.p_value[1], 6.51229571328e-05, 1e-7);
    assert_rel(r.score_residual[0], -0.0871103891949, 1e-8);
    assert_rel(r.score_residual[1], -0.0468036353343, 1e-8);
    assert_rel(r.score_residual[2], -1.7887505899, 1e-8);
    assert_rel(r.score_residual[3], 0.149256856815, 1e-8);
    assert_rel(r.score_residual[226 * 2], 1.10518955255, 1e-8);
    assert_rel(r.score_residual[226 * 2 + 1], -0.14380826095, 1e-8);
    check_ok(syf_cox_fit(w, L.n, L.X, L.time, L.ev, NULL, 0, SYF_COX_BRESLOW,
                         SYF_COX_VCOV_ROBUST, 0.95, &r));
    assert_rel(r.std_error[0], 0.00948234619868, 1e-9);
    assert_rel(r.std_error[1], 0.160113441873, 1e-9);
    syf_cox_free(w);
    lung_free(&L);
}

/* ------------------------------------------------------------------------ */
/* Naive implementation from the definitions, O(n^2) per evaluation. */

typedef struct {
    double ll;
    double U[4];
    double I[16];
} naive_eval;

/* Log-likelihood, score and information at b (p <= 4). */
static naive_eval naive_cox(size_t n, size_t p, const double *X, const double *t,
                            const double *ev, const double *b, int efron)
{
    naive_eval out;
    memset(&out, 0, sizeof out);
    double *done = calloc(n, sizeof *done); /* time already handled */
    for (size_t i = 0; i < n; i++) {
        if (ev[i] != 1 || done[i])
            continue;
        double T = t[i];
        /* all events at T */
        double d = 0, S0 = 0, D0 = 0, S1[4] = {0}, D1[4] = {0}, S2[16] = {0}, D2[16] = {0};
        for (size_t k = 0; k < n; k++) {
            double eta = 0;
            for (size_t j = 0; j < p; j++)
                eta += X[k * p + j] * b[j];
            double r = exp(eta);
            if (t[k] >= T) {
                S0 += r;
                for (size_t j = 0; j < p; j++) {
                    S1[j] += r * X[k * p + j];
                    for (size_t l = 0; l < p; l++)
                        S2[j * p + l] += r * X[k * p + j] * X[k * p + l];
                }
            }
            if (t[k] == T && ev[k] == 1) {
                done[k] = 1;
                d += 1;
                D0 += r;
                out.ll += eta;
                for (size_t j = 0; j < p; j++) {
                    out.U[j] += X[k * p + j];
                    D1[j] += r * X[k * p + j];
                    for (size_t l = 0; l < p; l++)
                        D2[j * p + l] += r * X[k * p + j] * X[k * p + l];
                }
            }
        }
        for (int kk = 0; kk < (int)d; kk++) {
            double f = efron ? kk / d : 0;
            double den = S0 - f * D0;
            out.ll -= log(den);
            for (size_t j = 0; j < p; j++) {
                double aj = (S1[j] - f * D1[j]) / den;
                out.U[j] -= aj;
                for (size_t l = 0; l < p; l++) {
                    double al = (S1[l] - f * D1[l]) / den;
                    out.I[j * p + l] += (S2[j * p + l] - f * D2[j * p + l]) / den - aj * al;
                }
            }
        }
    }
    free(done);
    return out;
}

/* Score residuals from the definition: for each event time and each of its
 * Efron terms k, every tied event gets (x - xbar_k)/d and every row at risk
 * loses r w_k (x - xbar_k)/den_k, w_k = 1 - k/d for the tied events (Efron),
 * 1 otherwise. */
static void naive_resid(size_t n, size_t p, const double *X, const double *t, const double *ev,
                        const double *b, int efron, double *R)
{
    memset(R, 0, n * p * sizeof *R);
    double *r = malloc(n * sizeof *r), *done = calloc(n, sizeof *done);
    for (size_t k = 0; k < n; k++) {
        double eta = 0;
        for (size_t j = 0; j < p; j++)
            eta += X[k * p + j] * b[j];
        r[k] = exp(eta);
    }
    for (size_t i = 0; i < n; i++) {
        if (ev[i] != 1 || done[i])
            continue;
        double T = t[i], d = 0, S0 = 0, D0 = 0, S1[4] = {0}, D1[4] = {0};
        for (size_t k = 0; k < n; k++) {
            if (t[k] >= T) {
                S0 += r[k];
                for (size_t j = 0; j < p; j++)
                    S1[j] += r[k] * X[k * p + j];
            }
            if (t[k] == T && ev[k] == 1) {
                done[k] = 1;
                d++;
                D0 += r[k];
                for (size_t j = 0; j < p; j++)
                    D1[j] += r[k] * X[k * p + j];
            }
        }
        for (int kk = 0; kk < (int)d; kk++) {
            double f = efron ? kk / d : 0;
            double den = S0 - f * D0, xb[4];
            for (size_t j = 0; j < p; j++)
                xb[j] = (S1[j] - f * D1[j]) / den;
            for (size_t m = 0; m < n; m++) {
                if (t[m] < T)
                    continue;
                int tied_event = t[m] == T && ev[m] == 1;
                double wk = tied_event && efron ? 1.0 - f : 1.0;
                for (size_t j = 0; j < p; j++) {
                    double dx = X[m * p + j] - xb[j];
                    if (tied_event)
                        R[m * p + j] += dx / d;
                    R[m * p + j] -= r[m] * wk * dx / den;
                }
            }
        }
    }
    free(r);
    free(done);
}

/* Random data: integer times 1..12 (many ties), ~25% censored, p = 3,
 * G clusters of unequal size. */
static void random_data(gsl_rng *rng, size_t n, size_t p, double *X, double *t, double *ev,
                        size_t *cl, size_t G)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            X[i * p + j] = j == 1 ? (double)gsl_rng_uniform_int(rng, 2)
                                  : 2.0 + gsl_ran_gaussian(rng, 1.0 + j);
        double lp = 0.4 * X[i * p] - 0.7 * X[i * p + 1] + (p > 2 ? 0.2 * X[i * p + 2] : 0);
        double T = gsl_ran_exponential(rng, exp(-lp + 1.2));
        t[i] = ceil(fmin(T, 12.0));
        ev[i] = gsl_rng_uniform(rng) < 0.75;
        cl[i] = (size_t)floor(G * pow(gsl_rng_uniform(rng), 1.6));
    }
    for (size_t g = 0; g < G; g++)
        cl[g] = g; /* every code used */
}

/* p x p inverse with GSL LU (test-only, naive). */
static void inverse(size_t p, const double *A, double *Ai)
{
    gsl_matrix *M = gsl_matrix_alloc(p, p), *Inv = gsl_matrix_alloc(p, p);
    gsl_permutation *perm = gsl_permutation_alloc(p);
    int sgn;
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            gsl_matrix_set(M, j, l, A[j * p + l]);
    gsl_linalg_LU_decomp(M, perm, &sgn);
    gsl_linalg_LU_invert(M, perm, Inv);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            Ai[j * p + l] = gsl_matrix_get(Inv, j, l);
    gsl_matrix_free(M);
    gsl_matrix_free(Inv);
    gsl_permutation_free(perm);
}

static void test_against_naive(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 4242);
    const size_t n = 300, p = 3, G = 17;
    double *X = malloc(n * p * sizeof *X), *t = malloc(n * sizeof *t), *ev = malloc(n * sizeof *ev);
    double *R = malloc(n * p * sizeof *R);
    size_t *cl = malloc(n * sizeof *cl);
    syf_cox_workspace *w = syf_cox_alloc(n, p, G);
    for (int rep = 0; rep < 4; rep++) {
        random_data(rng, n, p, X, t, ev, cl, G);
        for (int efron = 0; efron <= 1; efron++) {
            syf_cox_result r;
            check_ok(syf_cox_fit(w, n, X, t, ev, cl, G, efron ? SYF_COX_EFRON : SYF_COX_BRESLOW,
                                 SYF_COX_VCOV_ROBUST, 0.9, &r));
            naive_eval ne = naive_cox(n, p, X, t, ev, r.estimate, efron);
            double zero[3] = {0, 0, 0};
            naive_eval n0 = naive_cox(n, p, X, t, ev, zero, efron);
            assert_rel(r.loglik, ne.ll, 1e-12);
            assert_rel(r.loglik_null, n0.ll, 1e-12);
            for (size_t j = 0; j < p; j++)
                assert_near(ne.U[j], 0.0, 1e-8); /* the MLE */
            double Vi[9];
            inverse(p, ne.I, Vi);
            for (size_t k = 0; k < p * p; k++)
                assert_rel(r.vcov_model[k], Vi[k], 1e-8);
            /* score residuals and the clustered sandwich */
            naive_resid(n, p, X, t, ev, r.estimate, efron, R);
            double sumR[3] = {0, 0, 0};
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < p; j++) {
                    assert_near(r.score_residual[i * p + j], R[i * p + j], 1e-10);
                    sumR[j] += R[i * p + j];
                }
            for (size_t j = 0; j < p; j++)
                assert_near(sumR[j], 0.0, 1e-8); /* residuals sum to the score */
            double M[9] = {0}, Lg[17 * 3] = {0}, T1[9], V[9];
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < p; j++)
                    Lg[cl[i] * p + j] += R[i * p + j];
            for (size_t g = 0; g < G; g++)
                for (size_t j = 0; j < p; j++)
                    for (size_t l = 0; l < p; l++)
                        M[j * p + l] += Lg[g * p + j] * Lg[g * p + l];
            for (size_t j = 0; j < p; j++)
                for (size_t l = 0; l < p; l++) {
                    T1[j * p + l] = 0;
                    for (size_t k = 0; k < p; k++)
                        T1[j * p + l] += Vi[j * p + k] * M[k * p + l];
                }
            for (size_t j = 0; j < p; j++)
                for (size_t l = 0; l < p; l++) {
                    V[j * p + l] = 0;
                    for (size_t k = 0; k < p; k++)
                        V[j * p + l] += T1[j * p + k] * Vi[k * p + l];
                }
            for (size_t k = 0; k < p * p; k++)
                assert_rel(r.vcov_robust[k], V[k], 1e-7);
            /* 90% interval */
            for (size_t j = 0; j < p; j++)
                assert_rel(r.conf_high[j] - r.estimate[j], 1.6448536269514722 * sqrt(V[j * p + j]),
                           1e-7);
        }
    }
    syf_cox_free(w);
    free(X);
    free(t);
    free(ev);
    free(R);
    free(cl);
    gsl_rng_free(rng);
}

/* Row order, monotone transforms of time and shifts of a regressor change
 * neither the estimates nor the SEs; without ties Efron and Breslow
 * coincide. */
static void test_invariances(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 99);
    const size_t n = 150, p = 3, G = 9;
    double *X = malloc(n * p * sizeof *X), *t = malloc(n * sizeof *t), *ev = malloc(n * sizeof *ev);
    double *X2 = malloc(n * p * sizeof *X2), *t2 = malloc(n * sizeof *t2),
           *ev2 = malloc(n * sizeof *ev2);
    size_t *cl = malloc(n * sizeof *cl), *cl2 = malloc(n * sizeof *cl2);
    random_data(rng, n, p, X, t, ev, cl, G);
    syf_cox_workspace *w = syf_cox_alloc(n, p, G);
    syf_cox_result a, b;
    double est[3], se[3], ser[3], ll;
    check_ok(syf_cox_fit(w, n, X, t, ev, cl, G, SYF_COX_EFRON, SYF_COX_VCOV_ROBUST, 0, &a));
    assert_rel(a.level, 0.95, 0);
    for (size_t j = 0; j < p; j++) {
        est[j] = a.estimate[j];
        se[j] = a.std_error_model[j];
        ser[j] = a.std_error_robust[j];
    }
    ll = a.loglik;
    /* reversed rows, log time, regressor 0 shifted by 100 */
    for (size_t i = 0; i < n; i++) {
        size_t k = n - 1 - i;
        memcpy(X2 + k * p, X + i * p, p * sizeof *X);
        X2[k * p] += 100;
        t2[k] = log(t[i]);
        ev2[k] = ev[i];
        cl2[k] = cl[i];
    }
    check_ok(syf_cox_fit(w, n, X2, t2, ev2, cl2, G, SYF_COX_EFRON, SYF_COX_VCOV_ROBUST, 0, &b));
    for (size_t j = 0; j < p; j++) {
        assert_rel(b.estimate[j], est[j], 1e-9);
        assert_rel(b.std_error_model[j], se[j], 1e-8);
        assert_rel(b.std_error_robust[j], ser[j], 1e-8);
    }
    assert_rel(b.loglik, ll, 1e-11);
    /* no ties: distinct times */
    for (size_t i = 0; i < n; i++)
        t2[i] = t[i] + 1e-3 * (double)i;
    check_ok(syf_cox_fit(w, n, X, t2, ev, cl, G, SYF_COX_EFRON, SYF_COX_VCOV_ROBUST, 0, &a));
    for (size_t j = 0; j < p; j++) {
        est[j] = a.estimate[j];
        ser[j] = a.std_error_robust[j];
    }
    check_ok(syf_cox_fit(w, n, X, t2, ev, cl, G, SYF_COX_BRESLOW, SYF_COX_VCOV_ROBUST, 0, &b));
    for (size_t j = 0; j < p; j++) {
        assert_rel(b.estimate[j], est[j], 1e-12);
        assert_rel(b.std_error_robust[j], ser[j], 1e-10);
    }
    /* with ties they differ */
    check_ok(syf_cox_fit(w, n, X, t, ev, cl, G, SYF_COX_BRESLOW, SYF_COX_VCOV_ROBUST, 0, &b));
    double breslow1 = b.estimate[1]; /* results point into the workspace */
    check_ok(syf_cox_fit(w, n, X, t, ev, cl, G, SYF_COX_EFRON, SYF_COX_VCOV_ROBUST, 0, &a));
    assert_true(fabs(a.estimate[1] - breslow1) > 1e-3);
    /* a smaller n on the same workspace (reuse) */
    check_ok(syf_cox_fit(w, n / 2, X, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &a));
    assert_int_equal(a.n, n / 2);
    syf_cox_free(w);
    free(X);
    free(t);
    free(ev);
    free(X2);
    free(t2);
    free(ev2);
    free(cl);
    free(cl2);
    gsl_rng_free(rng);
}

/* Large sample: the estimate recovers the true log hazard ratios of an
 * exponential model, and the model SE matches the spread of its sampling
 * distribution closely enough to put the truth within a few SE. */
static void test_recovers_truth(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    const size_t n = 4000, p = 2;
    double *X = malloc(n * p * sizeof *X), *t = malloc(n * sizeof *t), *ev = malloc(n * sizeof *ev);
    for (size_t i = 0; i < n; i++) {
        X[i * p] = gsl_ran_gaussian(rng, 1.0);
        X[i * p + 1] = gsl_rng_uniform_int(rng, 2);
        double T = gsl_ran_exponential(rng, exp(-(0.5 * X[i * p] - 0.8 * X[i * p + 1])));
        double C = gsl_ran_exponential(rng, 3.0);
        t[i] = fmin(T, C);
        ev[i] = T <= C;
    }
    syf_cox_workspace *w = syf_cox_alloc(n, p, 1);
    syf_cox_result r;
    check_ok(syf_cox_fit(w, n, X, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0.95, &r));
    assert_true(fabs(r.estimate[0] - 0.5) < 4 * r.std_error[0]);
    assert_true(fabs(r.estimate[1] + 0.8) < 4 * r.std_error[1]);
    assert_true(r.std_error[0] < 0.05 && r.std_error[1] < 0.06);
    assert_true(r.iterations <= 10);
    syf_cox_free(w);
    free(X);
    free(t);
    free(ev);
    gsl_rng_free(rng);
}

static void test_errors(void **state)
{
    (void)state;
    const size_t n = 40;
    double X[80], t[40], ev[40];
    size_t cl[40];
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    random_data(rng, n, 2, X, t, ev, cl, 4);
    gsl_rng_free(rng);
    syf_cox_workspace *w = syf_cox_alloc(n, 2, 4);
    syf_cox_result r;
    check_ok(syf_cox_fit(w, n, X, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &r));

    double ev2[40], ev0[40] = {0}, tn[40], Xc[80], Xm[80], evm[40];
    memcpy(ev2, ev, sizeof ev);
    ev2[1] = 2;
    assert_int_equal(syf_cox_fit(w, n, X, t, ev2, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &r),
                     SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "row 2"));
    assert_int_equal(syf_cox_fit(w, n, X, t, ev0, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &r),
                     SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "no events"));
    memcpy(tn, t, sizeof t);
    tn[2] = NAN;
    assert_int_equal(syf_cox_fit(w, n, X, tn, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &r),
                     SYF_EINPUT);
    /* constant regressor (an intercept) */
    for (size_t i = 0; i < n; i++) {
        Xc[2 * i] = 0.1;
        Xc[2 * i + 1] = X[2 * i + 1];
    }
    assert_int_equal(syf_cox_fit(w, n, Xc, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &r),
                     SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "constant"));
    /* collinear: column 1 = 2 * column 0 */
    for (size_t i = 0; i < n; i++) {
        Xc[2 * i] = X[2 * i];
        Xc[2 * i + 1] = 2 * X[2 * i] + 1;
    }
    assert_int_equal(syf_cox_fit(w, n, Xc, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &r),
                     SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "collinear"));
    /* monotone likelihood: every event has x1 = 1, every censored row 0 */
    for (size_t i = 0; i < n; i++) {
        Xm[2 * i] = X[2 * i];
        evm[i] = i % 2;
        Xm[2 * i + 1] = evm[i];
    }
    int st = syf_cox_fit(w, n, Xm, t, evm, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0, &r);
    assert_true(st == SYF_ERUNTIME || st == SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "infinite"));
    /* clusters */
    size_t cl1[40] = {0};
    check_ok(syf_cox_fit(w, n, X, t, ev, cl, 4, SYF_COX_EFRON, SYF_COX_VCOV_ROBUST, 0, &r));
    assert_int_equal(syf_cox_fit(w, n, X, t, ev, cl1, 1, SYF_COX_EFRON, SYF_COX_VCOV_ROBUST, 0, &r),
                     SYF_EINPUT);
    assert_int_equal(syf_cox_fit(w, n, X, t, ev, cl, 5, SYF_COX_EFRON, SYF_COX_VCOV_ROBUST, 0, &r),
                     SYF_EINPUT); /* G > G_max */
    assert_int_equal(syf_cox_fit(w, n + 1, X, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0,
                                 &r),
                     SYF_EINPUT);
    assert_int_equal(syf_cox_fit(w, n, X, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 1.5, &r),
                     SYF_EINPUT);
    syf_cox_ties ties;
    check_ok(syf_cox_ties_parse("Breslow", &ties));
    assert_int_equal(ties, SYF_COX_BRESLOW);
    assert_string_equal(syf_cox_ties_name(SYF_COX_EFRON), "efron");
    assert_int_equal(syf_cox_ties_parse("exact", &ties), SYF_EINPUT);
    assert_null(syf_cox_alloc(10, 0, 1));
    syf_cox_free(w);
    syf_cox_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lung_efron),     cmocka_unit_test(test_lung_breslow),
        cmocka_unit_test(test_against_naive),  cmocka_unit_test(test_invariances),
        cmocka_unit_test(test_recovers_truth), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
