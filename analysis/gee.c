/* gee.c — Gaussian GEE, exchangeable working correlation (see gee.h).
 *
 * `syfosim estimate --method gee` (cli/est_gee.c) calls it on a user's CSV;
 * Monte Carlo diagnosis can call it per replication, so a fit allocates
 * nothing and never forms an n_g x n_g matrix.
 *
 * Outline of syf_gee_fit():
 *   1. One pass over the rows: X'X, X'y, per-cluster n_g and a_g = X_g'1;
 *      OLS b0; a second pass: OLS residuals e0, their sum of squares, X'e0
 *      and t_g = 1'e0_g.  The fit is b = b0 + delta.
 *   2. Clusters of equal size s are pooled: K_s = sum a_g a_g',
 *      k_s = sum a_g t_g, tau_s = sum t_g^2.  For a given alpha,
 *      sum X_g' R_g^{-1} X_g = M / (1 - alpha) with M = X'X - sum_s c_s K_s,
 *      and delta = M^{-1} (X'e0 - sum_s c_s k_s).  The residual moments
 *      follow without touching the rows again:
 *        sum r^2   = e0'e0 - 2 delta'X'e0 + delta'X'X delta,
 *        sum_g S_g^2 = sum_s tau_s - 2 delta'k_s + delta'K_s delta
 *      (S_g = 1'r_g), and sum_{pairs} r_j r_k = (sum_g S_g^2 - sum r^2) / 2.
 *   3. Fixed-point iteration alpha -> delta -> (phi, alpha), as geepack.
 *   4. A last pass over the rows accumulates X_g'r_g per cluster, giving the
 *      scores U_g = (X_g'r_g - c_g a_g S_g) / (1 - alpha) of the sandwich.
 */
#include "syfosim/gee.h"
#include "syfosim/error.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* OLS residual sum of squares below this times sum(y^2) is an exact fit. */
#define GEE_EXACT_FIT_TOL 1e-26

#define GEE_COLLINEAR_TOL 1e-12
/* Smallest eigenvalue of a unit-scale matrix for which GSL's Cholesky is
 * certain to succeed (a failure would call GSL's abort-by-default handler). */
#define GEE_PD_TOL 1e-10
#define GEE_TOL 1e-12
#define GEE_MAXITER 500

struct syf_gee_workspace {
    size_t n_max, p, G_max, S_max;
    size_t S;

    double *A, *D, *b0, *Xty, *Xte, rss0;
    double *a, *t, *xr;      /* G_max x p, G_max, G_max x p */
    size_t *ng;              /* G_max */
    size_t *cls;             /* n_max + 1 */
    size_t *cls_size;        /* S_max */
    double *cls_cnt, *K, *k, *tau; /* S_max, S_max p^2, S_max p, S_max */

    double *M, *L, *m, *delta, *Minv, *meat, *C, *u;
    double *beta, *se, *se_naive, *stat, *pval, *lo, *hi, *vcov;

    gsl_eigen_symm_workspace *eig;
    double *eval, *escr;
    double lmin, nbig; /* smallest eigenvalue of scaled X'X, largest cluster */
};

void syf_gee_free(syf_gee_workspace *w)
{
    if (!w)
        return;
    double **dp[] = {&w->A,    &w->D,    &w->b0,   &w->Xty,   &w->Xte,  &w->a,    &w->t,
                     &w->xr,   &w->cls_cnt, &w->K, &w->k,     &w->tau,  &w->M,    &w->L,
                     &w->m,    &w->delta, &w->Minv, &w->meat, &w->C,    &w->u,    &w->beta,
                     &w->se,   &w->se_naive, &w->stat, &w->pval, &w->lo, &w->hi,   &w->vcov,
                     &w->eval, &w->escr};
    for (size_t i = 0; i < sizeof dp / sizeof dp[0]; i++)
        free(*dp[i]);
    free(w->ng);
    free(w->cls);
    free(w->cls_size);
    if (w->eig)
        gsl_eigen_symm_free(w->eig);
    free(w);
}

syf_gee_workspace *syf_gee_alloc(size_t n_max, size_t p, size_t G_max)
{
    if (p == 0)
        return NULL;
    syf_gee_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->p = p;
    w->G_max = G_max;
    size_t S = 1; /* distinct sizes summing to <= n: S (S + 1) / 2 <= n */
    while (S < G_max && (S + 1) * (S + 2) / 2 <= n_max)
        S++;
    w->S_max = S;
    size_t pp = p * p;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(A, pp); ALLOC(D, p); ALLOC(b0, p); ALLOC(Xty, p); ALLOC(Xte, p);
    ALLOC(a, G_max * p); ALLOC(t, G_max); ALLOC(xr, G_max * p); ALLOC(ng, G_max);
    ALLOC(cls, n_max + 1); ALLOC(cls_size, S); ALLOC(cls_cnt, S); ALLOC(K, S * pp);
    ALLOC(k, S * p); ALLOC(tau, S);
    ALLOC(M, pp); ALLOC(L, pp); ALLOC(m, p); ALLOC(delta, p); ALLOC(Minv, pp); ALLOC(meat, pp);
    ALLOC(C, pp); ALLOC(u, p);
    ALLOC(beta, p); ALLOC(se, p); ALLOC(se_naive, p); ALLOC(stat, p); ALLOC(pval, p);
    ALLOC(lo, p); ALLOC(hi, p); ALLOC(vcov, pp); ALLOC(eval, p); ALLOC(escr, pp);
#undef ALLOC
    if (ok)
        ok = (w->eig = gsl_eigen_symm_alloc(p)) != NULL;
    if (!ok) {
        syf_gee_free(w);
        return NULL;
    }
    return w;
}

static inline gsl_matrix_view mat(double *a, size_t p) { return gsl_matrix_view_array(a, p, p); }

static double quad(const double *A, const double *x, const double *y, size_t p)
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

static void symmetrise(double *A, size_t p)
{
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < j; l++)
            A[j * p + l] = A[l * p + j];
}

/* c_g of R_g^{-1} = (I - c 1 1') / (1 - alpha) for a cluster of size ns. */
static inline double cfac(double alpha, double ns) { return alpha / (1.0 - alpha + ns * alpha); }

/* Step 1 and the size classes of step 2. */
static int prepare(syf_gee_workspace *w, size_t n, const double *X, const double *y,
                   const size_t *cluster, size_t G)
{
    const size_t p = w->p, pp = p * p;
    double *A = w->A, yy = 0;
    memset(A, 0, pp * sizeof *A);
    memset(w->Xty, 0, p * sizeof *w->Xty);
    memset(w->a, 0, G * p * sizeof *w->a);
    memset(w->t, 0, G * sizeof *w->t);
    memset(w->ng, 0, G * sizeof *w->ng);
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
        w->ng[g]++;
        yy += y[i] * y[i];
        double *ag = w->a + g * p;
        for (size_t j = 0; j < p; j++) {
            double xj = x[j];
            ag[j] += xj;
            w->Xty[j] += xj * y[i];
            for (size_t l = j; l < p; l++)
                A[j * p + l] += xj * x[l];
        }
    }
    symmetrise(A, p);
    size_t big = 0;
    for (size_t g = 0; g < G; g++) {
        if (w->ng[g] == 0)
            return syf_error_set(SYF_EINPUT, "cluster code %zu has no rows", g);
        big = w->ng[g] > big ? w->ng[g] : big;
    }
    w->nbig = (double)big;

    for (size_t j = 0; j < p; j++) {
        if (!(A[j * p + j] > 0))
            return syf_error_set(SYF_ESINGULAR,
                                 "design matrix is singular: column %zu is all zeros", j + 1);
        w->D[j] = 1.0 / sqrt(A[j * p + j]);
    }
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            w->escr[j * p + l] = w->L[j * p + l] = A[j * p + l] * w->D[j] * w->D[l];
    gsl_matrix_view Em = mat(w->escr, p);
    gsl_vector_view ev = gsl_vector_view_array(w->eval, p);
    gsl_eigen_symm(&Em.matrix, &ev.vector, w->eig);
    double lmin = w->eval[0], lmax = w->eval[0];
    for (size_t j = 1; j < p; j++) {
        lmin = fmin(lmin, w->eval[j]);
        lmax = fmax(lmax, w->eval[j]);
    }
    gsl_matrix_view Lm = mat(w->L, p);
    if (!(lmin > GEE_COLLINEAR_TOL * lmax && lmin > GEE_PD_TOL))
        return syf_error_set(SYF_ESINGULAR,
                             "design matrix is singular (collinear columns?) - e.g. a regressor "
                             "that is a combination of others, or constant like the intercept");
    gsl_linalg_cholesky_decomp1(&Lm.matrix);
    w->lmin = lmin;
    for (size_t j = 0; j < p; j++)
        w->b0[j] = w->D[j] * w->Xty[j];
    gsl_vector_view bv = gsl_vector_view_array(w->b0, p);
    gsl_linalg_cholesky_svx(&Lm.matrix, &bv.vector);
    for (size_t j = 0; j < p; j++)
        w->b0[j] *= w->D[j];

    double rss = 0;
    memset(w->Xte, 0, p * sizeof *w->Xte);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        double e = y[i];
        for (size_t j = 0; j < p; j++)
            e -= x[j] * w->b0[j];
        rss += e * e;
        for (size_t j = 0; j < p; j++)
            w->Xte[j] += x[j] * e;
        w->t[cluster[i]] += e;
    }
    /* Residuals at the rounding level of y: an exact fit. */
    if (!(rss > GEE_EXACT_FIT_TOL * yy))
        return syf_error_set(SYF_ESINGULAR, "the residual sum of squares is zero: the "
                                            "regressors fit the outcome exactly");
    w->rss0 = rss;

    for (size_t g = 0; g < G; g++)
        w->cls[w->ng[g]] = SIZE_MAX;
    size_t S = 0;
    for (size_t g = 0; g < G; g++) {
        size_t sz = w->ng[g];
        if (w->cls[sz] == SIZE_MAX) {
            if (S == w->S_max) /* cannot happen: S (S + 1) / 2 <= n */
                return syf_error_set(SYF_ERUNTIME, "too many distinct cluster sizes");
            w->cls[sz] = S;
            w->cls_size[S] = sz;
            w->cls_cnt[S] = 0;
            w->tau[S] = 0;
            memset(w->K + S * pp, 0, pp * sizeof *w->K);
            memset(w->k + S * p, 0, p * sizeof *w->k);
            S++;
        }
        size_t s = w->cls[sz];
        const double *ag = w->a + g * p;
        double tg = w->t[g];
        double *Ks = w->K + s * pp, *ks = w->k + s * p;
        w->cls_cnt[s] += 1.0;
        w->tau[s] += tg * tg;
        for (size_t j = 0; j < p; j++) {
            ks[j] += ag[j] * tg;
            for (size_t l = j; l < p; l++)
                Ks[j * p + l] += ag[j] * ag[l];
        }
    }
    for (size_t s = 0; s < S; s++)
        symmetrise(w->K + s * pp, p);
    w->S = S;
    return SYF_OK;
}

/* delta for a given alpha; leaves M and its scaled Cholesky factor in w->L. */
static int solve_beta(syf_gee_workspace *w, double alpha)
{
    const size_t p = w->p, pp = p * p;
    double *M = w->M, *m = w->m;
    memcpy(M, w->A, pp * sizeof *M);
    memcpy(m, w->Xte, p * sizeof *m);
    for (size_t s = 0; s < w->S; s++) {
        double c = cfac(alpha, (double)w->cls_size[s]);
        const double *Ks = w->K + s * pp, *ks = w->k + s * p;
        for (size_t i = 0; i < pp; i++)
            M[i] -= c * Ks[i];
        for (size_t j = 0; j < p; j++)
            m[j] -= c * ks[j];
    }
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            w->L[j * p + l] = M[j * p + l] * w->D[j] * w->D[l];
    /* M = (1 - alpha) X' R^{-1} X >= X'X (1 - alpha) / (1 + (n_max - 1) alpha)
     * for alpha >= 0 (>= X'X for alpha < 0) bounds its smallest eigenvalue;
     * where the bound is too weak the spectrum is checked. */
    double bound = alpha > 0 ? (1.0 - alpha) / (1.0 + (w->nbig - 1.0) * alpha) : 1.0;
    if (!(w->lmin * bound > GEE_PD_TOL)) {
        memcpy(w->escr, w->L, pp * sizeof *w->L);
        gsl_matrix_view Em = mat(w->escr, p);
        gsl_vector_view ev = gsl_vector_view_array(w->eval, p);
        gsl_eigen_symm(&Em.matrix, &ev.vector, w->eig);
        double emin = w->eval[0];
        for (size_t j = 1; j < p; j++)
            emin = fmin(emin, w->eval[j]);
        if (!(emin > GEE_PD_TOL))
            return syf_error_set(SYF_ESINGULAR, "X' R^{-1} X is numerically singular at "
                                                "alpha = %g", alpha);
    }
    gsl_matrix_view Lm = mat(w->L, p);
    gsl_linalg_cholesky_decomp1(&Lm.matrix);
    for (size_t j = 0; j < p; j++)
        w->delta[j] = w->D[j] * m[j];
    gsl_vector_view dv = gsl_vector_view_array(w->delta, p);
    gsl_linalg_cholesky_svx(&Lm.matrix, &dv.vector);
    for (size_t j = 0; j < p; j++)
        w->delta[j] *= w->D[j];
    return SYF_OK;
}

/* Residual moments at the current delta: phi and the new alpha. */
static void moments(const syf_gee_workspace *w, size_t n, double npairs, double *phi,
                    double *alpha)
{
    const size_t p = w->p, pp = p * p;
    const double *dl = w->delta;
    double xd = 0;
    for (size_t j = 0; j < p; j++)
        xd += w->Xte[j] * dl[j];
    double rr = w->rss0 - 2.0 * xd + quad(w->A, dl, dl, p);
    double SS = 0;
    for (size_t s = 0; s < w->S; s++) {
        const double *ks = w->k + s * p;
        double kd = 0;
        for (size_t j = 0; j < p; j++)
            kd += ks[j] * dl[j];
        SS += w->tau[s] - 2.0 * kd + quad(w->K + s * pp, dl, dl, p);
    }
    *phi = rr / (double)n;
    *alpha = npairs > 0 ? 0.5 * (SS - rr) / (*phi * npairs) : 0.0;
}

int syf_gee_fit(syf_gee_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, double level, syf_gee_result *res)
{
    const size_t p = w->p, pp = p * p;
    if (level == 0)
        level = 0.95;
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "%zu rows exceed the workspace size %zu", n, w->n_max);
    if (n <= p)
        return syf_error_set(SYF_EINPUT,
                             "need more rows than coefficients (%zu rows, %zu coefficients)", n, p);
    if (!cluster)
        return syf_error_set(SYF_EINPUT, "GEE needs cluster codes");
    if (G < 2)
        return syf_error_set(SYF_EINPUT, "need at least 2 clusters for robust standard errors, "
                                         "got %zu", G);
    if (G > w->G_max)
        return syf_error_set(SYF_EINPUT, "%zu clusters exceed the workspace size %zu", G,
                             w->G_max);
    int st = prepare(w, n, X, y, cluster, G);
    if (st)
        return st;

    double npairs = 0, nbig = 1;
    for (size_t s = 0; s < w->S; s++) {
        double ns = (double)w->cls_size[s];
        npairs += w->cls_cnt[s] * ns * (ns - 1.0) / 2.0;
        nbig = fmax(nbig, ns);
    }

    /* Step 3. */
    double alpha = 0, phi = 0, anew = 0;
    size_t it;
    for (it = 1; it <= GEE_MAXITER; it++) {
        if ((st = solve_beta(w, alpha)) != SYF_OK)
            return st;
        moments(w, n, npairs, &phi, &anew);
        if (!(phi > 0))
            return syf_error_set(SYF_ESINGULAR, "the residual sum of squares is zero: the "
                                                "regressors fit the outcome exactly");
        if (!(anew < 1.0 && 1.0 + (nbig - 1.0) * anew > 0))
            return syf_error_set(SYF_ESINGULAR,
                                 "the estimated exchangeable correlation %g makes the working "
                                 "correlation of a cluster of %g rows not positive definite",
                                 anew, nbig);
        double change = fabs(anew - alpha);
        alpha = anew;
        if (change <= GEE_TOL)
            break;
    }
    if (it > GEE_MAXITER)
        return syf_error_set(SYF_ERUNTIME, "GEE did not converge in %d iterations (alpha %g)",
                             GEE_MAXITER, alpha);
    if ((st = solve_beta(w, alpha)) != SYF_OK)
        return st;
    double a_unused;
    moments(w, n, npairs, &phi, &a_unused);
    for (size_t j = 0; j < p; j++)
        w->beta[j] = w->b0[j] + w->delta[j];

    /* M^{-1} = D S^{-1} D. */
    memcpy(w->Minv, w->L, pp * sizeof *w->Minv);
    gsl_matrix_view Mi = mat(w->Minv, p);
    gsl_linalg_cholesky_invert(&Mi.matrix);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            w->Minv[j * p + l] *= w->D[j] * w->D[l];

    /* Step 4: per-cluster X_g'r_g, then the scores (times 1 - alpha). */
    memset(w->xr, 0, G * p * sizeof *w->xr);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        double r = y[i];
        for (size_t j = 0; j < p; j++)
            r -= x[j] * w->beta[j];
        double *xg = w->xr + cluster[i] * p;
        for (size_t j = 0; j < p; j++)
            xg[j] += x[j] * r;
    }
    memset(w->meat, 0, pp * sizeof *w->meat);
    for (size_t g = 0; g < G; g++) {
        const double *ag = w->a + g * p, *xg = w->xr + g * p;
        double Sg = w->t[g];
        for (size_t j = 0; j < p; j++)
            Sg -= ag[j] * w->delta[j];
        double c = cfac(alpha, (double)w->ng[g]);
        for (size_t j = 0; j < p; j++)
            w->u[j] = xg[j] - c * ag[j] * Sg;
        for (size_t j = 0; j < p; j++)
            for (size_t l = j; l < p; l++)
                w->meat[j * p + l] += w->u[j] * w->u[l];
    }
    symmetrise(w->meat, p);
    gsl_matrix_view Me = mat(w->meat, p), Cm = mat(w->C, p), Vm = mat(w->vcov, p);
    gsl_blas_dsymm(CblasLeft, CblasUpper, 1.0, &Mi.matrix, &Me.matrix, 0.0, &Cm.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Cm.matrix, &Mi.matrix, 0.0, &Vm.matrix);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < j; l++) {
            double c = 0.5 * (w->vcov[j * p + l] + w->vcov[l * p + j]);
            w->vcov[j * p + l] = w->vcov[l * p + j] = c;
        }

    double z = gsl_cdf_ugaussian_Qinv((1.0 - level) / 2.0);
    for (size_t j = 0; j < p; j++) {
        double se = sqrt(w->vcov[j * p + j]);
        double zs = w->beta[j] / se;
        w->se[j] = se;
        w->se_naive[j] = sqrt(phi * (1.0 - alpha) * w->Minv[j * p + j]);
        w->stat[j] = zs;
        if (isfinite(se) && se > 0) {
            w->pval[j] = 2.0 * gsl_cdf_ugaussian_Q(fabs(zs));
            w->lo[j] = w->beta[j] - z * se;
            w->hi[j] = w->beta[j] + z * se;
        } else {
            w->pval[j] = w->lo[j] = w->hi[j] = NAN;
        }
    }
    *res = (syf_gee_result){
        .n = n, .p = p, .G = G, .level = level,
        .estimate = w->beta, .std_error = w->se, .statistic = w->stat, .p_value = w->pval,
        .conf_low = w->lo, .conf_high = w->hi, .vcov = w->vcov, .std_error_naive = w->se_naive,
        .alpha = alpha, .scale = phi, .iterations = it,
    };
    return SYF_OK;
}
