/* gee.h — Gaussian GEE with an exchangeable working correlation.
 *
 * Model: E(y) = X b, identity link, constant variance, working correlation
 * R_g = (1 - alpha) I + alpha 1 1' within cluster g, working covariance
 * phi R_g.  This is geepack::geeglm(family = gaussian, corstr =
 * "exchangeable") (Yan & Fine 2004; Halekoh, Højsgaard & Yan 2006), with the
 * same moment estimators, solved to convergence:
 *
 *     b     = (sum X_g' R_g^{-1} X_g)^{-1} sum X_g' R_g^{-1} y_g,
 *     phi   = sum_i r_i^2 / n                 (no n - p correction),
 *     alpha = sum_g sum_{j<k} r_gj r_gk / (phi sum_g n_g (n_g - 1) / 2),
 *
 * r = y - X b; one-row clusters contribute to b and phi but not to alpha
 * (alpha = 0 if every cluster has one row).  Iteration: start from OLS
 * (alpha = 0) and alternate b | alpha and (phi, alpha) | b, as geepack's
 * gee_est() does, until alpha changes by less than 1e-12 (geepack stops at
 * a change of 1e-4 in any parameter, so its printed numbers can differ from
 * the converged ones in the 7th significant digit).
 *
 * Variance: the robust (sandwich) estimator geepack reports as "san.se",
 *     Var(b) = B^{-1} (sum_g U_g U_g') B^{-1},  B = sum X_g' R_g^{-1} X_g,
 *     U_g = X_g' R_g^{-1} r_g
 * (phi cancels), with no small-sample correction; inference is Wald z with
 * the standard normal reference (df NAN).  The model-based ("naive")
 * variance phi B^{-1} is returned as well.
 *
 * Speed: R_g^{-1} = (I - c_g 1 1') / (1 - alpha), c_g = alpha / (1 - alpha +
 * n_g alpha) (Sherman–Morrison), so everything is built from X'X, X_g'1,
 * 1'r_g and X_g'r_g; clusters of equal size are pooled, so an iteration
 * costs O(S p^2 + p^3) for S distinct cluster sizes, plus two O(n p) passes
 * at the start and one at the end.  No n_g x n_g matrix is formed; clusters
 * may have any size; rows need not be sorted by cluster.
 *
 * Errors: SYF_EINPUT for bad arguments (n <= p, n > n_max, G < 2,
 * G > G_max, a code >= G, an empty cluster, non-finite data);
 * SYF_ESINGULAR for a singular X'X, a zero residual sum of squares, or an
 * alpha for which some R_g is not positive definite (alpha >= 1 or
 * 1 + (n_g - 1) alpha <= 0); SYF_ERUNTIME if the iteration does not converge
 * in 500 steps.
 */
#ifndef SYFOSIM_GEE_H
#define SYFOSIM_GEE_H

#include <stddef.h>

typedef struct {
    size_t n, p, G;           /* rows, coefficients, clusters                */
    double level;             /* confidence level of conf_low/conf_high      */
    const double *estimate;   /* p */
    const double *std_error;  /* p: robust (sandwich) standard errors          */
    const double *statistic;  /* p: estimate / std_error (Wald z)              */
    const double *p_value;    /* p: two-sided, standard normal                 */
    const double *conf_low;   /* p: estimate -/+ z_{1-(1-level)/2} std_error   */
    const double *conf_high;  /* p */
    const double *vcov;       /* p x p row-major, robust                       */
    const double *std_error_naive; /* p: sqrt(diag(phi B^{-1}))                */
    double alpha;             /* exchangeable correlation                      */
    double scale;             /* phi                                           */
    size_t iterations;
} syf_gee_result;

typedef struct syf_gee_workspace syf_gee_workspace;

/* A workspace for fits with up to n_max rows, exactly p columns and up to
 * G_max clusters.  NULL if out of memory or p == 0. */
syf_gee_workspace *syf_gee_alloc(size_t n_max, size_t p, size_t G_max);
void syf_gee_free(syf_gee_workspace *w);

/* Fit.  X is n x p row-major (include the intercept column if wanted);
 * cluster[i] in 0..G-1 is row i's cluster code (every code must occur).
 * `level` in (0, 1), 0 means 0.95.  On success fills *res (arrays point into
 * the workspace, valid until the next fit or free); no memory is allocated. */
int syf_gee_fit(syf_gee_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, double level, syf_gee_result *res);

#endif
