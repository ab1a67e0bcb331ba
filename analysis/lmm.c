/* lmm.c — random-intercept linear mixed model by REML (see lmm.h).
 *
 * `syfosim estimate --method lmm` (cli/est_lmm.c) calls it on a user's CSV,
 * including the Hussey–Hughes stepped-wedge model (period dummies in X), and
 * Monte Carlo diagnosis can call it per replication: a fit allocates
 * nothing and its cost after one O(n p^2) pass over the rows depends only on
 * p and on the number of distinct cluster sizes.
 *
 * Outline of syf_lmm_fit():
 *   1. One pass over the rows: X'X, X'y, per-cluster n_g and X_g'1, and
 *      which columns vary within some cluster (for between-within df).
 *      OLS gives b0; a second pass forms the OLS residuals e0 = y - X b0,
 *      their sum of squares, X'e0 (~0) and the per-cluster sums 1'e0_g.
 *      The model is fitted to e0 (b = b0 + delta), which keeps the residual
 *      sum of squares free of cancellation.
 *   2. Clusters of equal size share c_g = lambda / (1 + n_g lambda), so the
 *      statistics are pooled per size class s: K_s = sum a_g a_g',
 *      k_s = sum a_g t_g, tau_s = sum t_g^2 (a_g = X_g'1, t_g = 1'e0_g).
 *      Steps 1-2 are shared with gee.c (syf_linalg_clstats_*, linalg.c).
 *   3. profile_eval(): f(lambda) from M = X'X - sum_s c_s K_s etc., by a
 *      Cholesky factorisation of the unit-diagonal scaled M.
 *   4. Minimise over theta = sqrt(lambda): grid on log lambda plus lambda = 0,
 *      Brent (gsl_min_fminimizer_brent) on the bracketing grid cell, then
 *      Newton steps on the analytic score (second_order()).
 *   5. second_order(): with P = V^{-1} - V^{-1} X Phi X' V^{-1},
 *      Phi = (X' V^{-1} X)^{-1}, V_u = Z Z', V_e = I, the REML deviance D
 *      has score tr(P V_i) - y' P V_i P y and observed Hessian
 *      -tr(P V_i P V_j) + 2 y' P V_i P V_j P y.  Every trace and quadratic
 *      form reduces to the size-class statistics because
 *      V_g^{-k} = s_e^{-k} (I + e_k 1 1'), e_k = ((1 + n_g lambda)^{-k} - 1)/n_g,
 *      and V_g^{-1} 1 = d_g 1 with d_g = 1 / (s_e + n_g s_u).  The same pass
 *      yields dPhi/ds_u = Phi K_u Phi and dPhi/ds_e = Phi K_e Phi
 *      (K_u = sum d_g^2 a_g a_g', K_e = X' V^{-2} X) for Satterthwaite.
 */
#include "syfosim/lmm.h"
#include "linalg.h"
#include "syfosim/error.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_min.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* OLS residual sum of squares below this times sum(y^2) is an exact fit. */
#define LMM_EXACT_FIT_TOL 1e-26

/* Smallest eigenvalue ratio of the unit-diagonal X'X accepted as regular. */
#define LMM_COLLINEAR_TOL 1e-12
/* Smallest eigenvalue of a unit-scale matrix for which GSL's Cholesky is
 * certain to succeed (GSL calls its abort-by-default error handler on a
 * failed factorisation, so a fit never lets it fail). */
#define LMM_PD_TOL 1e-10
/* Grid over log(lambda): LMM_GRID_LO..LMM_GRID_HI in steps of 1, extended up
 * to LMM_GRID_MAX while the criterion still decreases. */
#define LMM_GRID_LO (-16)
#define LMM_GRID_HI 16
#define LMM_GRID_MAX 40
#define LMM_GRID_N (LMM_GRID_MAX - LMM_GRID_LO + 2)
#define LMM_BRENT_MAXITER 100
/* Brent's relative tolerance on theta; Newton steps finish the job. */
#define LMM_BRENT_TOL 1e-6
#define LMM_NEWTON_MAXITER 8
/* Returned by the Brent callback where the criterion is undefined. */
#define LMM_BIG 1e300

struct syf_lmm_workspace {
    size_t n_max, p, G_max;
    int fitted;
    size_t n, G;

    /* data summaries (step 1, 2); cs->spd->D scales X'X */
    syf_linalg_clstats *cs;
    size_t *first;           /* G_max */
    double *SS, *SA, *trPK;  /* S_max, S_max p, S_max (cs->S_max) */
    int *varies;             /* p */

    /* profile at lambda_cur (step 3) */
    double lambda_cur, Q, logdet;
    double *M, *L, *z, *delta;

    /* second order (step 5) */
    double s_u, s_e;
    double *Phi, *Ke, *K3, *Ku, *P1, *P2, *T, *v, *h, *xr;
    double grad[2], hess[4];

    /* outputs */
    double *beta, *se, *stat, *df, *pval, *lo, *hi, *vcov;

    gsl_min_fminimizer *mn;
    size_t n_eval;
};

const char *syf_lmm_df_name(syf_lmm_df type)
{
    switch (type) {
    case SYF_LMM_DF_SATTERTHWAITE: return "Satterthwaite";
    case SYF_LMM_DF_BETWEEN_WITHIN: return "between-within";
    }
    return "?";
}

void syf_lmm_free(syf_lmm_workspace *w)
{
    if (!w)
        return;
    double **dp[] = {&w->SS,  &w->SA,  &w->trPK, &w->M,    &w->L,   &w->z,   &w->delta,
                     &w->Phi, &w->Ke,  &w->K3,   &w->Ku,   &w->P1,  &w->P2,  &w->T,
                     &w->v,   &w->h,   &w->xr,   &w->beta, &w->se,  &w->stat, &w->df,
                     &w->pval, &w->lo, &w->hi,   &w->vcov};
    for (size_t i = 0; i < sizeof dp / sizeof dp[0]; i++)
        free(*dp[i]);
    free(w->first);
    free(w->varies);
    if (w->mn)
        gsl_min_fminimizer_free(w->mn);
    syf_linalg_clstats_free(w->cs);
    free(w);
}

syf_lmm_workspace *syf_lmm_alloc(size_t n_max, size_t p, size_t G_max)
{
    if (p == 0)
        return NULL;
    syf_lmm_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->p = p;
    w->G_max = G_max;
    w->cs = syf_linalg_clstats_alloc(n_max, p, G_max);
    if (!w->cs) {
        syf_lmm_free(w);
        return NULL;
    }
    size_t S = w->cs->S_max, pp = p * p;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(first, G_max); ALLOC(SS, S); ALLOC(SA, S * p); ALLOC(trPK, S);
    ALLOC(varies, p);
    ALLOC(M, pp); ALLOC(L, pp); ALLOC(z, p); ALLOC(delta, p);
    ALLOC(Phi, pp); ALLOC(Ke, pp); ALLOC(K3, pp); ALLOC(Ku, pp); ALLOC(P1, pp); ALLOC(P2, pp);
    ALLOC(T, pp); ALLOC(v, p); ALLOC(h, p); ALLOC(xr, p);
    ALLOC(beta, p); ALLOC(se, p); ALLOC(stat, p); ALLOC(df, p); ALLOC(pval, p); ALLOC(lo, p);
    ALLOC(hi, p); ALLOC(vcov, pp);
#undef ALLOC
    if (ok)
        ok = (w->mn = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent)) != NULL;
    if (!ok) {
        syf_lmm_free(w);
        return NULL;
    }
    return w;
}

/* ------------------------------------------------------------------------ */
/* Small helpers on row-major p x p arrays. */

static inline gsl_matrix_view mat(double *a, size_t p) { return gsl_matrix_view_array(a, p, p); }

/* sum_jl A_jl B_jl = tr(A B) for symmetric A, B. */
static double tr_prod(const double *A, const double *B, size_t p)
{
    double s = 0;
    for (size_t i = 0; i < p * p; i++)
        s += A[i] * B[i];
    return s;
}

/* ------------------------------------------------------------------------ */
/* Step 3: the profiled criterion at lambda; leaves the Cholesky factor of the
 * scaled M in w->L, delta = M^{-1} m, Q and log|M|. */
static int profile_eval(syf_lmm_workspace *w, double lambda, double *f)
{
    const size_t p = w->p, pp = p * p;
    const syf_linalg_clstats *cs = w->cs;
    const double *D = cs->spd->D;
    double *M = w->M, *m = w->z;
    memcpy(M, cs->A, pp * sizeof *M);
    memcpy(m, cs->Xte, p * sizeof *m);
    double q = cs->rss0, sumlog = 0;
    for (size_t s = 0; s < cs->S; s++) {
        double ns = (double)cs->cls_size[s];
        double c = lambda / (1.0 + ns * lambda);
        const double *Ks = cs->K + s * pp, *ks = cs->k + s * p;
        for (size_t j = 0; j < p; j++) {
            m[j] -= c * ks[j];
            for (size_t l = j; l < p; l++)
                M[j * p + l] -= c * Ks[j * p + l];
        }
        q -= c * cs->tau[s];
        sumlog += cs->cls_cnt[s] * log1p(ns * lambda);
    }
    double *Lc = w->L;
    syf_linalg_scale(p, M, D, SYF_LINALG_UPPER, Lc);
    syf_linalg_symmetrise(M, p);
    w->n_eval++;
    /* D M D >= D X'X D / (1 + n_max lambda) bounds the smallest eigenvalue;
     * where the bound is too weak (huge lambda) the spectrum is checked. */
    if (!(cs->lmin / (1.0 + cs->nbig * lambda) > LMM_PD_TOL) &&
        !(syf_linalg_spd_min_eigen(cs->spd, Lc) > LMM_PD_TOL))
        return syf_error_set(SYF_ESINGULAR, "X' V^{-1} X is numerically singular at "
                                            "variance ratio %g", lambda);
    gsl_matrix_view Lm = mat(Lc, p);
    gsl_linalg_cholesky_decomp1(&Lm.matrix);
    double logdet = 0;
    for (size_t j = 0; j < p; j++)
        logdet += 2.0 * (log(Lc[j * p + j]) - log(D[j]));
    /* delta = D S^{-1} D m */
    double *dl = w->delta;
    syf_linalg_chol_solve_scaled(p, Lc, D, m, dl);
    double mdm = 0;
    for (size_t j = 0; j < p; j++)
        mdm += m[j] * dl[j];
    double Q = q - mdm;
    if (!(Q > 0) || !isfinite(Q))
        return syf_error_set(SYF_ESINGULAR,
                             "the residual sum of squares is zero: the fixed effects fit the "
                             "outcome exactly");
    w->lambda_cur = lambda;
    w->Q = Q;
    w->logdet = logdet;
    *f = (double)(w->n - p) * log(Q) + sumlog + logdet;
    return SYF_OK;
}

/* Brent callback: f(theta^2). */
static double brent_fn(double theta, void *params)
{
    syf_lmm_workspace *w = params;
    double f;
    if (profile_eval(w, theta * theta, &f) != SYF_OK || !isfinite(f))
        return LMM_BIG; /* finite: GSL's Brent rejects non-finite values */
    return f;
}

/* ------------------------------------------------------------------------ */
/* Step 5 at the current profile (lambda_cur, s_e = Q / (n - p)): Phi, K_e,
 * K_u, Phi K_e Phi (P1), Phi K_u Phi (P2), the score and the Hessian of the
 * REML deviance in (s_u, s_e). */
static void second_order(syf_lmm_workspace *w)
{
    const syf_linalg_clstats *cs = w->cs;
    const size_t p = w->p, pp = p * p, S = cs->S;
    const double lambda = w->lambda_cur;
    const double s_e = w->Q / (double)(w->n - p), s_u = lambda * s_e;
    w->s_e = s_e;
    w->s_u = s_u;

    /* Phi = s_e M^{-1} = s_e D S^{-1} D. */
    syf_linalg_chol_inverse_scaled(p, w->L, cs->spd->D, s_e, w->Phi);

    /* Residuals r = e0 - X delta: per class SS_s = sum S_g^2, SA_s = sum a_g S_g. */
    const double *dl = w->delta;
    double xd = 0;
    for (size_t j = 0; j < p; j++)
        xd += cs->Xte[j] * dl[j];
    const double rr = cs->rss0 - 2.0 * xd + syf_linalg_quad(cs->A, dl, dl, p);
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t l = 0; l < p; l++)
            s += cs->A[j * p + l] * dl[l];
        w->xr[j] = cs->Xte[j] - s;
    }
    memcpy(w->Ke, cs->A, pp * sizeof *w->Ke);
    memcpy(w->K3, cs->A, pp * sizeof *w->K3);
    memset(w->Ku, 0, pp * sizeof *w->Ku);
    memset(w->h, 0, p * sizeof *w->h);
    memcpy(w->v, w->xr, p * sizeof *w->v);
    double trW1 = 0, trW2 = 0, sum_e2SS = 0, sum_e3SS = 0;
    double Tuu0 = 0, Teu0 = 0, Yuu0 = 0, Yeu0 = 0, Gu0 = 0, sum_d2SS = 0;
    for (size_t s = 0; s < S; s++) {
        const double ns = (double)cs->cls_size[s], cnt = cs->cls_cnt[s];
        const double *Ks = cs->K + s * pp, *ks = cs->k + s * p;
        double *SAs = w->SA + s * p;
        double lg = log1p(ns * lambda);
        double e1 = -lambda / (1.0 + ns * lambda);
        double e2 = expm1(-2.0 * lg) / ns, e3 = expm1(-3.0 * lg) / ns;
        double d = 1.0 / (s_e + ns * s_u), d2 = d * d, d3 = d2 * d;
        double kd = 0;
        for (size_t j = 0; j < p; j++) {
            double r = 0;
            for (size_t l = 0; l < p; l++)
                r += Ks[j * p + l] * dl[l];
            SAs[j] = ks[j] - r;
            kd += ks[j] * dl[j];
        }
        double SS = cs->tau[s] - 2.0 * kd + syf_linalg_quad(Ks, dl, dl, p);
        w->SS[s] = SS;
        for (size_t i = 0; i < pp; i++) {
            w->Ke[i] += e2 * Ks[i];
            w->K3[i] += e3 * Ks[i];
            w->Ku[i] += d2 * Ks[i];
        }
        for (size_t j = 0; j < p; j++) {
            w->v[j] += e2 * SAs[j];
            w->h[j] += d2 * SAs[j];
        }
        double trPK = tr_prod(w->Phi, Ks, p);
        w->trPK[s] = trPK;
        trW1 += cnt * ns * (1.0 + e1);
        trW2 += cnt * ns * (1.0 + e2);
        sum_e2SS += e2 * SS;
        sum_e3SS += e3 * SS;
        Teu0 += cnt * ns * d2 - 2.0 * d3 * trPK;
        Tuu0 += cnt * ns * ns * d2 - 2.0 * ns * d3 * trPK;
        Yuu0 += ns * d3 * SS;
        Yeu0 += d3 * SS;
        Gu0 += cnt * ns * d - d2 * trPK;
        sum_d2SS += d2 * SS;
    }
    const double se2 = s_e * s_e, se3 = se2 * s_e;
    for (size_t i = 0; i < pp; i++) {
        w->Ke[i] /= se2;
        w->K3[i] /= se3;
    }
    for (size_t j = 0; j < p; j++)
        w->v[j] /= se2;
    trW1 /= s_e;
    trW2 /= se2;

    /* P1 = Phi Ke Phi, P2 = Phi Ku Phi. */
    gsl_matrix_view Ph = mat(w->Phi, p), Kem = mat(w->Ke, p), Kum = mat(w->Ku, p),
                    Tm = mat(w->T, p), P1m = mat(w->P1, p), P2m = mat(w->P2, p);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Ph.matrix, &Kem.matrix, 0.0, &Tm.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Tm.matrix, &Ph.matrix, 0.0, &P1m.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Ph.matrix, &Kum.matrix, 0.0, &Tm.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Tm.matrix, &Ph.matrix, 0.0, &P2m.matrix);

    double trPKe = tr_prod(w->Phi, w->Ke, p);
    double trPK3 = tr_prod(w->Phi, w->K3, p);
    double Tee = trW2 - 2.0 * trPK3 + tr_prod(w->P1, w->Ke, p);
    double Teu = Teu0, Tuu = Tuu0 + tr_prod(w->P2, w->Ku, p);
    for (size_t s = 0; s < S; s++) {
        double ns = (double)cs->cls_size[s];
        double d = 1.0 / (s_e + ns * s_u);
        Teu += d * d * tr_prod(w->P1, cs->K + s * pp, p);
    }
    double rW2r = (rr + sum_e2SS) / se2, rW3r = (rr + sum_e3SS) / se3;
    double Yee = rW3r - syf_linalg_quad(w->Phi, w->v, w->v, p);
    double Yuu = Yuu0 - syf_linalg_quad(w->Phi, w->h, w->h, p);
    double Yeu = Yeu0 - syf_linalg_quad(w->Phi, w->v, w->h, p);
    w->hess[0] = -Tuu + 2.0 * Yuu;
    w->hess[1] = w->hess[2] = -Teu + 2.0 * Yeu;
    w->hess[3] = -Tee + 2.0 * Yee;
    w->grad[0] = Gu0 - sum_d2SS;
    w->grad[1] = trW1 - trPKe - rW2r;
}

/* The profile's derivative df/dlambda = s_e * dD/ds_u (at the profiled s_e). */
static double profile_slope(const syf_lmm_workspace *w) { return w->s_e * w->grad[0]; }

/* ------------------------------------------------------------------------ */
/* Steps 1-2 (syf_linalg_clstats_*), and which columns vary within some
 * cluster (for between-within df). */
static int prepare(syf_lmm_workspace *w, size_t n, const double *X, const double *y,
                   const size_t *cluster, size_t G)
{
    const size_t p = w->p;
    int st = syf_linalg_clstats_rows(w->cs, n, X, y, cluster, G);
    if (st)
        return st;
    for (size_t g = 0; g < G; g++)
        w->first[g] = SIZE_MAX;
    memset(w->varies, 0, p * sizeof *w->varies);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        size_t g = cluster[i];
        if (w->first[g] == SIZE_MAX) {
            w->first[g] = i;
        } else {
            const double *x0 = X + w->first[g] * p;
            for (size_t j = 0; j < p; j++)
                w->varies[j] |= x[j] != x0[j];
        }
    }
    size_t multi = 0;
    for (size_t g = 0; g < G; g++)
        multi += w->cs->ng[g] > 1;
    if (multi == 0)
        return syf_error_set(SYF_EINPUT, "every cluster has a single row: the random-intercept "
                                         "and residual variances are not separately identified");
    return syf_linalg_clstats_ols(w->cs, n, X, y, cluster, G, w->L, LMM_COLLINEAR_TOL,
                                  LMM_PD_TOL, LMM_EXACT_FIT_TOL);
}

/* Step 4: the REML estimate of lambda; leaves the profile evaluated there. */
static int minimise(syf_lmm_workspace *w, int *boundary)
{
    double th[LMM_GRID_N], fv[LMM_GRID_N];
    size_t ng = 0, best = 0;
    int st;
    th[0] = 0;
    if ((st = profile_eval(w, 0.0, &fv[0])) != SYF_OK)
        return st;
    ng = 1;
    for (int k = LMM_GRID_LO; k <= LMM_GRID_MAX; k++) {
        if (k > LMM_GRID_HI && best + 1 < ng)
            break; /* the minimum is bracketed */
        th[ng] = exp(0.5 * k);
        double f;
        if (profile_eval(w, th[ng] * th[ng], &f) != SYF_OK)
            f = LMM_BIG;
        fv[ng] = f;
        if (f < fv[best])
            best = ng;
        ng++;
    }
    /* Still decreasing at the top of the grid, or where X' V^{-1} X becomes
     * numerically singular: s_e -> 0. */
    if (best == ng - 1 || !(fv[best] < LMM_BIG) || !(fv[best + 1] < LMM_BIG))
        return syf_error_set(SYF_ESINGULAR,
                             "REML drives the residual variance to 0 (the outcome does not vary "
                             "within clusters beyond the fixed effects)");
    *boundary = 0;
    if (best == 0) { /* lambda = 0 beats every grid point: boundary optimum */
        *boundary = 1;
        return profile_eval(w, 0.0, &fv[0]);
    }

    /* Brent on theta in the grid cell around the best point. */
    double xm = th[best], xl = th[best - 1], xu = th[best + 1];
    gsl_function F = {brent_fn, w};
    /* Strict bracket, checked here: GSL would call its error handler. */
    if (fv[best] < fv[best - 1] && fv[best] < fv[best + 1]) {
        gsl_min_fminimizer_set_with_values(w->mn, &F, xm, fv[best], xl, fv[best - 1], xu,
                                           fv[best + 1]);
        for (int it = 0; it < LMM_BRENT_MAXITER; it++) {
            if (gsl_min_fminimizer_iterate(w->mn) != GSL_SUCCESS)
                break;
            double lo = gsl_min_fminimizer_x_lower(w->mn), hi = gsl_min_fminimizer_x_upper(w->mn);
            if (gsl_min_test_interval(lo, hi, 1e-12, LMM_BRENT_TOL) == GSL_SUCCESS)
                break;
        }
        xm = gsl_min_fminimizer_x_minimum(w->mn);
    }
    double lambda = xm * xm, f;
    if ((st = profile_eval(w, lambda, &f)) != SYF_OK)
        return st;
    double f0;
    if (f >= fv[0]) { /* no better than the boundary */
        *boundary = 1;
        return profile_eval(w, 0.0, &f0);
    }

    /* Newton polish on the analytic score in (s_u, s_e). */
    second_order(w);
    double slope = fabs(profile_slope(w));
    for (int it = 0; it < LMM_NEWTON_MAXITER; it++) {
        const double *H = w->hess, *g = w->grad;
        double det = H[0] * H[3] - H[1] * H[2];
        if (!(det > 0) || !(H[0] > 0))
            break;
        double du = -(H[3] * g[0] - H[1] * g[1]) / det;
        double de = -(-H[2] * g[0] + H[0] * g[1]) / det;
        double su = w->s_u + du, se = w->s_e + de;
        if (!(su > 0 && se > 0))
            break;
        double lnew = su / se, fn;
        if (lnew == lambda)
            break;
        double lold = lambda;
        if (profile_eval(w, lnew, &fn) != SYF_OK)
            break;
        second_order(w);
        double snew = fabs(profile_slope(w));
        if (!(snew < slope)) { /* no progress: back to the previous point */
            profile_eval(w, lold, &fn);
            second_order(w);
            break;
        }
        lambda = lnew;
        slope = snew;
        if (fabs(lnew - lold) <= 1e-15 * lnew)
            break;
    }
    /* Leave the profile evaluated at the accepted lambda (a failed trial step
     * may have overwritten it). */
    return profile_eval(w, lambda, &f);
}

int syf_lmm_fit(syf_lmm_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, syf_lmm_df df_type, double level,
                syf_lmm_result *res)
{
    const size_t p = w->p;
    w->fitted = 0;
    w->n_eval = 0;
    if (level == 0)
        level = 0.95;
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if ((unsigned)df_type > SYF_LMM_DF_BETWEEN_WITHIN)
        return syf_error_set(SYF_EINPUT, "unknown df method %d", (int)df_type);
    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "%zu rows exceed the workspace size %zu", n, w->n_max);
    if (n <= p)
        return syf_error_set(SYF_EINPUT,
                             "need more rows than coefficients (%zu rows, %zu coefficients)", n, p);
    if (!cluster)
        return syf_error_set(SYF_EINPUT, "a mixed model needs cluster codes");
    if (G < 2)
        return syf_error_set(SYF_EINPUT, "need at least 2 clusters, got %zu", G);
    if (G > w->G_max)
        return syf_error_set(SYF_EINPUT, "%zu clusters exceed the workspace size %zu", G,
                             w->G_max);
    w->n = n;
    w->G = G;
    int st = prepare(w, n, X, y, cluster, G);
    if (st)
        return st;
    int boundary = 0;
    st = minimise(w, &boundary);
    if (st)
        return st;
    second_order(w); /* at the final lambda (also fills Phi at the boundary) */
    w->fitted = 1;

    const double lambda = boundary ? 0.0 : w->lambda_cur;
    const double s_e = w->s_e, s_u = boundary ? 0.0 : w->s_u;
    for (size_t j = 0; j < p; j++)
        w->beta[j] = w->cs->b0[j] + w->delta[j];
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l <= j; l++) {
            double c = 0.5 * (w->Phi[j * p + l] + w->Phi[l * p + j]);
            w->vcov[j * p + l] = w->vcov[l * p + j] = c;
        }

    /* Asymptotic covariance of (s_u, s_e): 2 H^{-1}. */
    double vc[4] = {NAN, NAN, NAN, NAN};
    const double *H = w->hess;
    double det = H[0] * H[3] - H[1] * H[2];
    if (!boundary && det > 0 && H[0] > 0) {
        vc[0] = 2.0 * H[3] / det;
        vc[1] = vc[2] = -2.0 * H[1] / det;
        vc[3] = 2.0 * H[0] / det;
    }

    /* Between-within df. */
    size_t pb = 0;
    for (size_t j = 0; j < p; j++)
        pb += !w->varies[j];
    double df_between = G > pb ? (double)(G - pb) : NAN;
    double df_within = n > G + (p - pb) ? (double)(n - G - (p - pb)) : NAN;

    double alpha = 1.0 - level;
    for (size_t j = 0; j < p; j++) {
        double var = w->vcov[j * p + j], se = sqrt(var), df;
        if (df_type == SYF_LMM_DF_BETWEEN_WITHIN) {
            df = w->varies[j] ? df_within : df_between;
        } else if (boundary) {
            df = (double)(n - p);
        } else {
            double gu = w->P2[j * p + j], ge = w->P1[j * p + j];
            double vv = gu * gu * vc[0] + 2.0 * gu * ge * vc[1] + ge * ge * vc[3];
            df = 2.0 * var * var / vv;
            if (!(df > 0) || !isfinite(df))
                df = NAN;
        }
        double tstat = w->beta[j] / se;
        w->se[j] = se;
        w->stat[j] = tstat;
        w->df[j] = df;
        if (isfinite(df) && df > 0 && isfinite(se) && se > 0) {
            syf_linalg_wald_t(w->beta[j], se, df, alpha, &w->pval[j], &w->lo[j], &w->hi[j]);
        } else {
            w->pval[j] = w->lo[j] = w->hi[j] = NAN;
        }
    }

    double f;
    profile_eval(w, lambda, &f); /* restores the profile (and n_eval counts it) */
    double nmp = (double)(n - p);
    *res = (syf_lmm_result){
        .n = n, .p = p, .G = G, .df_type = df_type, .level = level,
        .estimate = w->beta, .std_error = w->se, .statistic = w->stat, .df = w->df,
        .p_value = w->pval, .conf_low = w->lo, .conf_high = w->hi, .vcov = w->vcov,
        .var_cluster = s_u, .var_residual = s_e, .lambda = lambda,
        .reml_criterion = f + nmp * (1.0 + log(2.0 * M_PI / nmp)),
        .boundary = boundary,
        .vc_vcov = {vc[0], vc[1], vc[2], vc[3]},
        .score = {w->grad[0], w->grad[1]},
        .n_eval = w->n_eval,
    };
    return SYF_OK;
}

int syf_lmm_profile(syf_lmm_workspace *w, double lambda, double *f)
{
    if (!w->fitted)
        return syf_error_set(SYF_EINPUT, "syf_lmm_profile: no successful fit on this workspace");
    if (!(lambda >= 0) || !isfinite(lambda))
        return syf_error_set(SYF_EINPUT, "syf_lmm_profile: lambda must be finite and >= 0, got %g",
                             lambda);
    return profile_eval(w, lambda, f);
}
