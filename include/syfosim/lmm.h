/* lmm.h — linear mixed model with a random intercept per cluster, by REML.
 *
 * Model: y = X b + u_cluster + e, u_g ~ N(0, s_u), e_i ~ N(0, s_e), all
 * independent, so Var(y_g) = V_g = s_e I + s_u 1 1' for the n_g rows of
 * cluster g.  This is lme4's `lmer(y ~ X + (1 | cluster), REML = TRUE)`;
 * with period dummies among the columns of X it is the Hussey & Hughes
 * (2007) stepped-wedge model y_ijt = mu + beta_t + theta X_ij + u_i + e_ijt.
 *
 * Fitting.  Only per-cluster sufficient statistics are used: n_g, X'X,
 * X_g'1 and 1'y_g (of the OLS residuals, which removes the cancellation in
 * the residual sum of squares), further pooled over clusters of the same
 * size, because with V_g = s_e (I + lambda 1 1') the inverse has the closed
 * form (Sherman–Morrison) V_g^{-1} = (I - c_g 1 1') / s_e with
 * c_g = lambda / (1 + n_g lambda).  For lambda = s_u / s_e the REML
 * criterion profiled over s_e is
 *
 *     f(lambda) = (n - p) log Q + sum_g log(1 + n_g lambda) + log |M|,
 *     M = X' H^{-1} X,   Q = y' H^{-1} y - y' H^{-1} X M^{-1} X' H^{-1} y,
 *
 * (H = V / s_e), minimised over theta = sqrt(lambda) >= 0 (lme4's relative
 * standard deviation): a grid over log lambda brackets the minimum, GSL's
 * Brent minimiser refines it, the boundary lambda = 0 is checked, and Newton
 * steps on the analytic REML score polish it to rounding accuracy.  Each
 * evaluation costs O(S p^2 + p^3) for S distinct cluster sizes; no n x n or
 * n_g x n_g matrix ever exists.  Then s_e = Q / (n - p), s_u = lambda s_e,
 * b = M^{-1} X' H^{-1} y and Var(b) = (X' V^{-1} X)^{-1} = s_e M^{-1}.
 *
 * Degrees of freedom of the t reference distribution (per coefficient):
 *   SYF_LMM_DF_SATTERTHWAITE (default): lmerTest's Satterthwaite
 *       approximation df_j = 2 Var(b_j)^2 / (g_j' A g_j), where
 *       g_j = d Var(b_j) / d(s_u, s_e) and A = 2 H_D^{-1} is the asymptotic
 *       covariance of (s_u, s_e) from the observed Hessian H_D of the REML
 *       deviance.  lmerTest differentiates numerically in (theta, sigma);
 *       here g and H_D are analytic (closed forms in the same sufficient
 *       statistics) in (s_u, s_e); at an interior optimum the result does
 *       not depend on the parametrisation.  At the boundary s_u = 0 the
 *       model reduces to OLS and df = n - p (the limit lmerTest reaches).
 *   SYF_LMM_DF_BETWEEN_WITHIN: SAS's DDFM=BW ("between-within"): a column
 *       that is constant within every cluster gets G - p_b (p_b such
 *       columns, the intercept included), any other column n - G - p_w
 *       (p_w = p - p_b).
 * p-values and confidence intervals use the t distribution with that df.
 *
 * Errors: SYF_EINPUT for bad arguments (n <= p, n > n_max, G < 2, G > G_max,
 * a code >= G, an empty cluster, non-finite data, no cluster with 2 or more
 * rows so that s_u and s_e are not separately identified); SYF_ESINGULAR for
 * a singular X'X ("design matrix is singular (collinear columns?)"), a zero
 * residual sum of squares, or a REML optimum with s_e -> 0 (the outcome does
 * not vary within clusters beyond the fixed effects).
 */
#ifndef SYFOSIM_LMM_H
#define SYFOSIM_LMM_H

#include <stddef.h>

typedef enum { SYF_LMM_DF_SATTERTHWAITE, SYF_LMM_DF_BETWEEN_WITHIN } syf_lmm_df;

/* Name of a df method ("Satterthwaite", "between-within"). */
const char *syf_lmm_df_name(syf_lmm_df type);

/* A fit's results.  The arrays point into the workspace and stay valid until
 * the next syf_lmm_fit() on it or syf_lmm_free(). */
typedef struct {
    size_t n, p, G;          /* rows, fixed effects, clusters                */
    syf_lmm_df df_type;
    double level;            /* confidence level of conf_low/conf_high       */
    const double *estimate;  /* p: fixed effects b                            */
    const double *std_error; /* p: sqrt(diag(vcov))                           */
    const double *statistic; /* p: estimate / std_error                       */
    const double *df;        /* p: t degrees of freedom (see above)           */
    const double *p_value;   /* p: two-sided                                  */
    const double *conf_low;  /* p */
    const double *conf_high; /* p */
    const double *vcov;      /* p x p row-major: (X' V^{-1} X)^{-1}           */
    double var_cluster;      /* s_u: random-intercept variance                */
    double var_residual;     /* s_e: residual variance                        */
    double lambda;           /* s_u / s_e                                     */
    double reml_criterion;   /* -2 REML log-likelihood (lme4's REMLcrit)       */
    int boundary;            /* 1 if the optimum is s_u = 0                   */
    double vc_vcov[4];       /* 2 x 2 asymptotic covariance of (s_u, s_e),
                                2 H_D^{-1}; NAN at the boundary               */
    double score[2];         /* gradient of the REML deviance in (s_u, s_e) at
                                the estimate (~0 at an interior optimum)      */
    size_t n_eval;           /* evaluations of the profiled criterion         */
} syf_lmm_result;

typedef struct syf_lmm_workspace syf_lmm_workspace;

/* A workspace for fits with up to n_max rows, exactly p columns and up to
 * G_max clusters.  NULL if out of memory or p == 0. */
syf_lmm_workspace *syf_lmm_alloc(size_t n_max, size_t p, size_t G_max);
void syf_lmm_free(syf_lmm_workspace *w);

/* Fit by REML.  X is n x p row-major (include the intercept column if one
 * is wanted); cluster[i] in 0..G-1 is row i's cluster code (every code must
 * occur; rows need not be sorted).  `level` is the confidence level in
 * (0, 1) (0 means 0.95).  On success fills *res; no memory is allocated. */
int syf_lmm_fit(syf_lmm_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, syf_lmm_df df_type, double level,
                syf_lmm_result *res);

/* After a successful fit: the profiled REML criterion f(lambda) above (up
 * to the constant (n - p)(1 + log(2 pi / (n - p))), i.e. the REML deviance
 * minimised over s_e for this lambda is f + that constant) for the data of
 * that fit.  SYF_EINPUT if lambda < 0 or not finite, or if there was no
 * successful fit; SYF_ESINGULAR if Q <= 0. */
int syf_lmm_profile(syf_lmm_workspace *w, double lambda, double *f);

#endif
