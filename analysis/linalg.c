/* linalg.c — private numeric helpers shared by the estimators (see
 * linalg.h, which lists them and who uses them).
 *
 * Every function here was lifted from the modules that had it written out
 * (ols.c, gee.c, lmm.c, cox.c, logit.c, ipw.c, wildboot.c, ri.c, did.c)
 * with its floating-point operations kept in the same order, so the
 * frozen reference values of their tests are reproduced bit for bit.
 * Where two modules did the same step with different rounding (the form of
 * a scaled matrix, BLAS or loop sandwiches, eigenvalues only or with
 * vectors) both forms are kept and the caller picks its own.
 */
#include "linalg.h"
#include "syfosim/error.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- scaled SPD check and inverse --------------------------------------- */

void syf_linalg_spd_free(syf_linalg_spd *s)
{
    if (!s)
        return;
    free(s->D);
    free(s->S);
    free(s->Q);
    free(s->lambda);
    if (s->eig)
        gsl_eigen_symm_free(s->eig);
    if (s->eigv)
        gsl_eigen_symmv_free(s->eigv);
    free(s);
}

syf_linalg_spd *syf_linalg_spd_alloc(size_t p, syf_linalg_eigen mode)
{
    if (p == 0)
        return NULL;
    syf_linalg_spd *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    s->mode = mode;
    int ok = (s->D = calloc(p, sizeof *s->D)) != NULL &&
             (s->S = calloc(p * p, sizeof *s->S)) != NULL &&
             (s->lambda = calloc(p, sizeof *s->lambda)) != NULL;
    if (mode == SYF_LINALG_VECTORS)
        ok = ok && (s->Q = calloc(p * p, sizeof *s->Q)) != NULL &&
             (s->eigv = gsl_eigen_symmv_alloc(p)) != NULL;
    else
        ok = ok && (s->eig = gsl_eigen_symm_alloc(p)) != NULL;
    if (!ok) {
        syf_linalg_spd_free(s);
        return NULL;
    }
    return s;
}

int syf_linalg_unit_diag(size_t p, const double *A, double *D, size_t *bad)
{
    int inf = 0;
    for (size_t j = 0; j < p; j++) {
        double v = A[j * p + j];
        if (!(v > 0)) {
            if (bad)
                *bad = j;
            return SYF_LINALG_ZERO_DIAG;
        }
        inf |= !isfinite(v);
        D[j] = 1.0 / sqrt(v);
    }
    return inf ? SYF_LINALG_NONFINITE_DIAG : SYF_LINALG_OK;
}

void syf_linalg_scale(size_t p, const double *A, const double *D, syf_linalg_uplo uplo, double *S)
{
    if (uplo == SYF_LINALG_FULL) {
        for (size_t j = 0; j < p; j++)
            for (size_t l = 0; l < p; l++)
                S[j * p + l] = A[j * p + l] * D[j] * D[l];
    } else {
        for (size_t j = 0; j < p; j++)
            for (size_t l = j; l < p; l++)
                S[j * p + l] = S[l * p + j] = A[j * p + l] * D[j] * D[l];
    }
}

int syf_linalg_spd_scale(syf_linalg_spd *s, const double *A, syf_linalg_uplo uplo, size_t *bad)
{
    int st = syf_linalg_unit_diag(s->p, A, s->D, bad);
    if (st != SYF_LINALG_ZERO_DIAG)
        syf_linalg_scale(s->p, A, s->D, uplo, s->S);
    return st;
}

/* Eigenvalues (and vectors) of s->S, destroying it. */
static void eigen(syf_linalg_spd *s)
{
    size_t p = s->p;
    gsl_matrix_view Sm = gsl_matrix_view_array(s->S, p, p);
    gsl_vector_view lv = gsl_vector_view_array(s->lambda, p);
    if (s->mode == SYF_LINALG_VECTORS) {
        gsl_matrix_view Qm = gsl_matrix_view_array(s->Q, p, p);
        gsl_eigen_symmv(&Sm.matrix, &lv.vector, &Qm.matrix, s->eigv);
    } else {
        gsl_eigen_symm(&Sm.matrix, &lv.vector, s->eig);
    }
}

int syf_linalg_spd_check(syf_linalg_spd *s, double tol, double min_eig)
{
    eigen(s);
    double lmin = s->lambda[0], lmax = s->lambda[0];
    for (size_t j = 1; j < s->p; j++) {
        lmin = fmin(lmin, s->lambda[j]);
        lmax = fmax(lmax, s->lambda[j]);
    }
    s->lmin = lmin;
    s->lmax = lmax;
    return lmin > tol * lmax && lmin > min_eig ? SYF_LINALG_OK : SYF_LINALG_ILL_CONDITIONED;
}

void syf_linalg_spd_eigen_inverse(const syf_linalg_spd *s, double *Ainv)
{
    size_t p = s->p;
    const double *Q = s->Q, *D = s->D;
    for (size_t j = 0; j < p; j++)
        for (size_t l = j; l < p; l++) {
            double a = 0;
            for (size_t k = 0; k < p; k++)
                a += Q[j * p + k] * Q[l * p + k] / s->lambda[k];
            Ainv[j * p + l] = Ainv[l * p + j] = a * D[j] * D[l];
        }
}

int syf_linalg_spd_inverse(syf_linalg_spd *s, const double *A, double tol, double *Ainv)
{
    int st = syf_linalg_spd_scale(s, A, SYF_LINALG_UPPER, NULL);
    if (st == SYF_LINALG_OK)
        st = syf_linalg_spd_check(s, tol, 0.0);
    if (st == SYF_LINALG_OK)
        syf_linalg_spd_eigen_inverse(s, Ainv);
    return st;
}

double syf_linalg_spd_min_eigen(syf_linalg_spd *s, const double *S)
{
    memcpy(s->S, S, s->p * s->p * sizeof *s->S);
    eigen(s);
    double emin = s->lambda[0];
    for (size_t j = 1; j < s->p; j++)
        emin = fmin(emin, s->lambda[j]);
    return emin;
}

/* ---- Cholesky of a unit-diagonal scaled matrix -------------------------- */

void syf_linalg_chol_solve_scaled(size_t p, const double *chol, const double *D,
                                  const double *rhs, double *x)
{
    for (size_t j = 0; j < p; j++)
        x[j] = D[j] * rhs[j];
    gsl_matrix_const_view Lm = gsl_matrix_const_view_array(chol, p, p);
    gsl_vector_view xv = gsl_vector_view_array(x, p);
    gsl_linalg_cholesky_svx(&Lm.matrix, &xv.vector);
    for (size_t j = 0; j < p; j++)
        x[j] *= D[j];
}

int syf_linalg_chol_inverse_scaled(size_t p, const double *chol, const double *D, double c,
                                   double *out)
{
    if (out != chol)
        memcpy(out, chol, p * p * sizeof *out);
    gsl_matrix_view Om = gsl_matrix_view_array(out, p, p);
    int st = gsl_linalg_cholesky_invert(&Om.matrix);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            out[j * p + l] *= c * D[j] * D[l];
    return st;
}

/* ---- products ----------------------------------------------------------- */

void syf_linalg_outer_add(double *M, const double *u, size_t p)
{
    for (size_t j = 0; j < p; j++)
        for (size_t l = j; l < p; l++)
            M[j * p + l] += u[j] * u[l];
}

void syf_linalg_symmetrise(double *A, size_t p)
{
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < j; l++)
            A[j * p + l] = A[l * p + j];
}

double syf_linalg_quad(const double *A, const double *x, const double *y, size_t p)
{
    double s = 0;
    for (size_t j = 0; j < p; j++) {
        double r = 0;
        for (size_t l = 0; l < p; l++)
            r += A[j * p + l] * y[l];
        s += x[j] * r;
    }
    return s;
}

void syf_linalg_sandwich_blas(size_t p, const double *B, const double *M, double factor,
                              double *tmp, double *V)
{
    gsl_matrix_const_view Bm = gsl_matrix_const_view_array(B, p, p),
                          Mm = gsl_matrix_const_view_array(M, p, p);
    gsl_matrix_view Tm = gsl_matrix_view_array(tmp, p, p), Vm = gsl_matrix_view_array(V, p, p);
    gsl_blas_dsymm(CblasLeft, CblasUpper, 1.0, &Bm.matrix, &Mm.matrix, 0.0, &Tm.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Tm.matrix, &Bm.matrix, 0.0, &Vm.matrix);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l <= j; l++) {
            double a = 0.5 * (V[j * p + l] + V[l * p + j]) * factor;
            V[j * p + l] = V[l * p + j] = a;
        }
}

void syf_linalg_sandwich_loops(size_t p, const double *B, const double *M, double factor,
                               double *tmp, double *V)
{
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++) {
            double s = 0;
            for (size_t k = 0; k < p; k++)
                s += M[j * p + k] * B[k * p + l];
            tmp[j * p + l] = s;
        }
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++) {
            double s = 0;
            for (size_t k = 0; k < p; k++)
                s += B[j * p + k] * tmp[k * p + l];
            V[j * p + l] = factor * s;
        }
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < j; l++)
            V[j * p + l] = V[l * p + j] = 0.5 * (V[j * p + l] + V[l * p + j]);
}

/* ---- Wald inference ----------------------------------------------------- */

void syf_linalg_wald_normal(double b, double se, double q, double *stat, double *p, double *lo,
                            double *hi)
{
    *stat = b / se;
    *p = 2.0 * gsl_cdf_ugaussian_Q(fabs(*stat));
    *lo = b - q * se;
    *hi = b + q * se;
}

void syf_linalg_wald_t(double b, double se, double df, double alpha, double *p, double *lo,
                       double *hi)
{
    double t = b / se, q = gsl_cdf_tdist_Qinv(alpha / 2, df);
    *p = isnan(t) ? NAN : 2.0 * gsl_cdf_tdist_Q(fabs(t), df);
    *lo = b - q * se;
    *hi = b + q * se;
}

/* ---- Newton iteration --------------------------------------------------- */

double syf_linalg_newton_step(size_t p, const double *Vinv, const double *U, const double *b,
                              double fb, double (*f)(void *ctx, const double *b), void *ctx,
                              double *step, double *btry)
{
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t l = 0; l < p; l++)
            s += Vinv[j * p + l] * U[l];
        step[j] = s;
    }
    double f_try = fb;
    for (int half = 0; half < 40; half++) {
        for (size_t j = 0; j < p; j++)
            btry[j] = b[j] + step[j];
        f_try = f(ctx, btry);
        if (f_try >= fb - 1e-12 * fabs(fb))
            break;
        for (size_t j = 0; j < p; j++)
            step[j] *= 0.5;
    }
    return f_try;
}

int syf_linalg_newton_accept(size_t p, const double *step, const double *btry, double tol,
                             double *b)
{
    int converged = 1;
    for (size_t j = 0; j < p; j++) {
        if (!(fabs(step[j]) <= tol * (1.0 + fabs(btry[j]))))
            converged = 0;
        b[j] = btry[j];
    }
    return converged;
}

/* ---- cluster codes ------------------------------------------------------ */

int syf_linalg_check_clusters(size_t n, const size_t *cluster, size_t G, size_t G_max)
{
    if (G < 2)
        return syf_error_set(SYF_EINPUT, "need at least 2 clusters for cluster-robust "
                                         "standard errors, got %zu", G);
    if (G > G_max)
        return syf_error_set(SYF_EINPUT, "%zu clusters exceed the workspace size %zu", G, G_max);
    for (size_t i = 0; i < n; i++)
        if (cluster[i] >= G)
            return syf_error_set(SYF_EINPUT, "cluster code %zu in row %zu is not below G = %zu",
                                 cluster[i], i + 1, G);
    return SYF_OK;
}

void syf_linalg_group(size_t n, const size_t *code, size_t G, size_t *start, size_t *order)
{
    memset(start, 0, (G + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[code[i] + 1]++;
    for (size_t g = 0; g < G; g++)
        start[g + 1] += start[g];
    for (size_t i = 0; i < n; i++)
        order[start[code[i]]++] = i;
    for (size_t g = G; g > 0; g--)
        start[g] = start[g - 1];
    start[0] = 0;
}

/* ---- clustered linear model: sufficient statistics ---------------------- */

void syf_linalg_clstats_free(syf_linalg_clstats *c)
{
    if (!c)
        return;
    double **dp[] = {&c->A, &c->Xty, &c->Xte, &c->b0, &c->a,
                     &c->t, &c->cls_cnt, &c->K, &c->k, &c->tau};
    for (size_t i = 0; i < sizeof dp / sizeof dp[0]; i++)
        free(*dp[i]);
    free(c->ng);
    free(c->cls);
    free(c->cls_size);
    syf_linalg_spd_free(c->spd);
    free(c);
}

syf_linalg_clstats *syf_linalg_clstats_alloc(size_t n_max, size_t p, size_t G_max)
{
    if (p == 0)
        return NULL;
    syf_linalg_clstats *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_max = n_max;
    c->p = p;
    c->G_max = G_max;
    /* Distinct sizes s_1 < s_2 < ... summing to <= n: S (S + 1) / 2 <= n. */
    size_t S = 1;
    while (S < G_max && (S + 1) * (S + 2) / 2 <= n_max)
        S++;
    c->S_max = S;
    size_t pp = p * p;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((c->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *c->f)) != NULL)
    ALLOC(A, pp); ALLOC(Xty, p); ALLOC(Xte, p); ALLOC(b0, p);
    ALLOC(a, G_max * p); ALLOC(t, G_max); ALLOC(ng, G_max);
    ALLOC(cls, n_max + 1); ALLOC(cls_size, S); ALLOC(cls_cnt, S); ALLOC(K, S * pp);
    ALLOC(k, S * p); ALLOC(tau, S);
#undef ALLOC
    ok = ok && (c->spd = syf_linalg_spd_alloc(p, SYF_LINALG_VALUES)) != NULL;
    if (!ok) {
        syf_linalg_clstats_free(c);
        return NULL;
    }
    return c;
}

int syf_linalg_clstats_rows(syf_linalg_clstats *c, size_t n, const double *X, const double *y,
                            const size_t *cluster, size_t G)
{
    const size_t p = c->p, pp = p * p;
    double *A = c->A, yy = 0;
    memset(A, 0, pp * sizeof *A);
    memset(c->Xty, 0, p * sizeof *c->Xty);
    memset(c->a, 0, G * p * sizeof *c->a);
    memset(c->t, 0, G * sizeof *c->t);
    memset(c->ng, 0, G * sizeof *c->ng);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        size_t g = cluster[i];
        if (g >= G)
            return syf_error_set(SYF_EINPUT, "cluster code %zu in row %zu is not below G = %zu", g,
                                 i + 1, G);
        if (!isfinite(y[i]))
            return syf_error_set(SYF_EINPUT, "outcome is not finite in row %zu", i + 1);
        for (size_t j = 0; j < p; j++)
            if (!isfinite(x[j]))
                return syf_error_set(SYF_EINPUT, "design matrix is not finite in row %zu, column %zu",
                                     i + 1, j + 1);
        c->ng[g]++;
        yy += y[i] * y[i];
        double *ag = c->a + g * p;
        for (size_t j = 0; j < p; j++) {
            double xj = x[j];
            ag[j] += xj;
            c->Xty[j] += xj * y[i];
            for (size_t l = j; l < p; l++)
                A[j * p + l] += xj * x[l];
        }
    }
    syf_linalg_symmetrise(A, p);
    size_t big = 0;
    for (size_t g = 0; g < G; g++) {
        if (c->ng[g] == 0)
            return syf_error_set(SYF_EINPUT, "cluster code %zu has no rows", g);
        big = c->ng[g] > big ? c->ng[g] : big;
    }
    c->nbig = (double)big;
    c->yy = yy;
    return SYF_OK;
}

int syf_linalg_clstats_ols(syf_linalg_clstats *c, size_t n, const double *X, const double *y,
                           const size_t *cluster, size_t G, double *L, double collinear_tol,
                           double pd_tol, double exact_tol)
{
    const size_t p = c->p, pp = p * p;
    size_t bad = 0;
    /* An infinite diagonal (SYF_LINALG_NONFINITE_DIAG) goes on to the
     * spectrum check, as it always has. */
    if (syf_linalg_spd_scale(c->spd, c->A, SYF_LINALG_FULL, &bad) == SYF_LINALG_ZERO_DIAG)
        return syf_error_set(SYF_ESINGULAR,
                             "design matrix is singular: column %zu is all zeros", bad + 1);
    memcpy(L, c->spd->S, pp * sizeof *L);
    if (syf_linalg_spd_check(c->spd, collinear_tol, pd_tol) != SYF_LINALG_OK)
        return syf_error_set(SYF_ESINGULAR,
                             "design matrix is singular (collinear columns?) - e.g. a regressor "
                             "that is a combination of others, or constant like the intercept");
    gsl_matrix_view Lm = gsl_matrix_view_array(L, p, p);
    gsl_linalg_cholesky_decomp1(&Lm.matrix);
    c->lmin = c->spd->lmin;
    syf_linalg_chol_solve_scaled(p, L, c->spd->D, c->Xty, c->b0);

    /* Second pass: OLS residuals. */
    double rss = 0;
    memset(c->Xte, 0, p * sizeof *c->Xte);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        double e = y[i];
        for (size_t j = 0; j < p; j++)
            e -= x[j] * c->b0[j];
        rss += e * e;
        for (size_t j = 0; j < p; j++)
            c->Xte[j] += x[j] * e;
        c->t[cluster[i]] += e;
    }
    /* Residuals at the rounding level of y: an exact fit. */
    if (!(rss > exact_tol * c->yy))
        return syf_error_set(SYF_ESINGULAR, "the residual sum of squares is zero: the "
                                            "regressors fit the outcome exactly");
    c->rss0 = rss;

    /* Size classes. */
    for (size_t g = 0; g < G; g++)
        c->cls[c->ng[g]] = SIZE_MAX;
    size_t S = 0;
    for (size_t g = 0; g < G; g++) {
        size_t sz = c->ng[g];
        if (c->cls[sz] == SIZE_MAX) {
            if (S == c->S_max) /* cannot happen: S (S + 1) / 2 <= n */
                return syf_error_set(SYF_ERUNTIME, "too many distinct cluster sizes");
            c->cls[sz] = S;
            c->cls_size[S] = sz;
            c->cls_cnt[S] = 0;
            c->tau[S] = 0;
            memset(c->K + S * pp, 0, pp * sizeof *c->K);
            memset(c->k + S * p, 0, p * sizeof *c->k);
            S++;
        }
        size_t s = c->cls[sz];
        const double *ag = c->a + g * p;
        double tg = c->t[g];
        double *Ks = c->K + s * pp, *ks = c->k + s * p;
        c->cls_cnt[s] += 1.0;
        c->tau[s] += tg * tg;
        for (size_t j = 0; j < p; j++) {
            ks[j] += ag[j] * tg;
            for (size_t l = j; l < p; l++)
                Ks[j * p + l] += ag[j] * ag[l];
        }
    }
    for (size_t s = 0; s < S; s++)
        syf_linalg_symmetrise(c->K + s * pp, p);
    c->S = S;
    return SYF_OK;
}
