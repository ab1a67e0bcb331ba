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
 *      k_s = sum a_g t_g, tau_s = sum t_g^2.  Steps 1-2 are shared with
 *      lmm.c (syf_linalg_clstats_*, linalg.c).  For a given alpha,
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
#include "linalg.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
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
    size_t n_max, p, G_max;

    syf_linalg_clstats *cs;  /* steps 1-2; cs->spd->D scales X'X */
    double *xr;              /* G_max x p */

    double *M, *L, *m, *delta, *Minv, *meat, *C, *u;
    double *beta, *se, *se_naive, *stat, *pval, *lo, *hi, *vcov;
};

void syf_gee_free(syf_gee_workspace *w)
{
    if (!w)
        return;
    double **dp[] = {&w->xr,   &w->M,    &w->L,    &w->m,     &w->delta, &w->Minv, &w->meat,
                     &w->C,    &w->u,    &w->beta, &w->se,    &w->se_naive, &w->stat,
                     &w->pval, &w->lo,   &w->hi,   &w->vcov};
    for (size_t i = 0; i < sizeof dp / sizeof dp[0]; i++)
        free(*dp[i]);
    syf_linalg_clstats_free(w->cs);
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
    size_t pp = p * p;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(xr, G_max * p);
    ALLOC(M, pp); ALLOC(L, pp); ALLOC(m, p); ALLOC(delta, p); ALLOC(Minv, pp); ALLOC(meat, pp);
    ALLOC(C, pp); ALLOC(u, p);
    ALLOC(beta, p); ALLOC(se, p); ALLOC(se_naive, p); ALLOC(stat, p); ALLOC(pval, p);
    ALLOC(lo, p); ALLOC(hi, p); ALLOC(vcov, pp);
#undef ALLOC
    ok = ok && (w->cs = syf_linalg_clstats_alloc(n_max, p, G_max)) != NULL;
    if (!ok) {
        syf_gee_free(w);
        return NULL;
    }
    return w;
}

static inline gsl_matrix_view mat(double *a, size_t p) { return gsl_matrix_view_array(a, p, p); }

/* c_g of R_g^{-1} = (I - c 1 1') / (1 - alpha) for a cluster of size ns. */
static inline double cfac(double alpha, double ns) { return alpha / (1.0 - alpha + ns * alpha); }

/* delta for a given alpha; leaves M and its scaled Cholesky factor in w->L. */
static int solve_beta(syf_gee_workspace *w, double alpha)
{
    const size_t p = w->p, pp = p * p;
    const syf_linalg_clstats *cs = w->cs;
    const double *D = cs->spd->D;
    double *M = w->M, *m = w->m;
    memcpy(M, cs->A, pp * sizeof *M);
    memcpy(m, cs->Xte, p * sizeof *m);
    for (size_t s = 0; s < cs->S; s++) {
        double c = cfac(alpha, (double)cs->cls_size[s]);
        const double *Ks = cs->K + s * pp, *ks = cs->k + s * p;
        for (size_t i = 0; i < pp; i++)
            M[i] -= c * Ks[i];
        for (size_t j = 0; j < p; j++)
            m[j] -= c * ks[j];
    }
    syf_linalg_scale(p, M, D, SYF_LINALG_FULL, w->L);
    /* M = (1 - alpha) X' R^{-1} X >= X'X (1 - alpha) / (1 + (n_max - 1) alpha)
     * for alpha >= 0 (>= X'X for alpha < 0) bounds its smallest eigenvalue;
     * where the bound is too weak the spectrum is checked. */
    double bound = alpha > 0 ? (1.0 - alpha) / (1.0 + (cs->nbig - 1.0) * alpha) : 1.0;
    if (!(cs->lmin * bound > GEE_PD_TOL) &&
        !(syf_linalg_spd_min_eigen(cs->spd, w->L) > GEE_PD_TOL))
        return syf_error_set(SYF_ESINGULAR, "X' R^{-1} X is numerically singular at "
                                            "alpha = %g", alpha);
    gsl_matrix_view Lm = mat(w->L, p);
    gsl_linalg_cholesky_decomp1(&Lm.matrix);
    syf_linalg_chol_solve_scaled(p, w->L, D, m, w->delta);
    return SYF_OK;
}

/* Residual moments at the current delta: phi and the new alpha. */
static void moments(const syf_gee_workspace *w, size_t n, double npairs, double *phi,
                    double *alpha)
{
    const size_t p = w->p, pp = p * p;
    const syf_linalg_clstats *cs = w->cs;
    const double *dl = w->delta;
    double xd = 0;
    for (size_t j = 0; j < p; j++)
        xd += cs->Xte[j] * dl[j];
    double rr = cs->rss0 - 2.0 * xd + syf_linalg_quad(cs->A, dl, dl, p);
    double SS = 0;
    for (size_t s = 0; s < cs->S; s++) {
        const double *ks = cs->k + s * p;
        double kd = 0;
        for (size_t j = 0; j < p; j++)
            kd += ks[j] * dl[j];
        SS += cs->tau[s] - 2.0 * kd + syf_linalg_quad(cs->K + s * pp, dl, dl, p);
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
    const syf_linalg_clstats *cs = w->cs;
    int st = syf_linalg_clstats_rows(w->cs, n, X, y, cluster, G);
    if (st == SYF_OK)
        st = syf_linalg_clstats_ols(w->cs, n, X, y, cluster, G, w->L, GEE_COLLINEAR_TOL,
                                    GEE_PD_TOL, GEE_EXACT_FIT_TOL);
    if (st)
        return st;

    double npairs = 0, nbig = 1;
    for (size_t s = 0; s < cs->S; s++) {
        double ns = (double)cs->cls_size[s];
        npairs += cs->cls_cnt[s] * ns * (ns - 1.0) / 2.0;
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
        w->beta[j] = cs->b0[j] + w->delta[j];

    /* M^{-1} = D S^{-1} D. */
    syf_linalg_chol_inverse_scaled(p, w->L, cs->spd->D, 1.0, w->Minv);

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
        const double *ag = cs->a + g * p, *xg = w->xr + g * p;
        double Sg = cs->t[g];
        for (size_t j = 0; j < p; j++)
            Sg -= ag[j] * w->delta[j];
        double c = cfac(alpha, (double)cs->ng[g]);
        for (size_t j = 0; j < p; j++)
            w->u[j] = xg[j] - c * ag[j] * Sg;
        syf_linalg_outer_add(w->meat, w->u, p);
    }
    syf_linalg_symmetrise(w->meat, p);
    syf_linalg_sandwich_blas(p, w->Minv, w->meat, 1.0, w->C, w->vcov);

    double z = gsl_cdf_ugaussian_Qinv((1.0 - level) / 2.0);
    for (size_t j = 0; j < p; j++) {
        double se = sqrt(w->vcov[j * p + j]);
        w->se[j] = se;
        w->se_naive[j] = sqrt(phi * (1.0 - alpha) * w->Minv[j * p + j]);
        w->stat[j] = w->beta[j] / se;
        if (isfinite(se) && se > 0)
            syf_linalg_wald_normal(w->beta[j], se, z, &w->stat[j], &w->pval[j], &w->lo[j],
                                   &w->hi[j]);
        else
            w->pval[j] = w->lo[j] = w->hi[j] = NAN;
    }
    *res = (syf_gee_result){
        .n = n, .p = p, .G = G, .level = level,
        .estimate = w->beta, .std_error = w->se, .statistic = w->stat, .p_value = w->pval,
        .conf_low = w->lo, .conf_high = w->hi, .vcov = w->vcov, .std_error_naive = w->se_naive,
        .alpha = alpha, .scale = phi, .iterations = it,
    };
    return SYF_OK;
}
