/* ols.h — ordinary least squares with cluster-robust variance (CR0–CR3).
 *
 * Fit y = X b + e by OLS and estimate Var(b) with a cluster-robust sandwich
 *
 *     V = (X'X)^{-1} [ sum_g X_g' A_g e_g e_g' A_g' X_g ] (X'X)^{-1}
 *
 * where X_g, e_g are the rows and residuals of cluster g and A_g is an
 * n_g x n_g adjustment matrix:
 *
 *   CR0  A_g = I (Liang & Zeger 1986; White's HC0 when each row is a cluster).
 *   CR1  A_g = I and V is multiplied by G/(G-1) * (n-1)/(n-p): the Stata
 *        `vce(cluster)` convention (estimatr se_type = "stata", clubSandwich
 *        "CR1S"); with one row per cluster it is HC1 = n/(n-p) * HC0.
 *   CR2  A_g = (I - H_gg)^{-1/2}, the symmetric inverse square root, with
 *        H_gg = X_g (X'X)^{-1} X_g' (Bell & McCaffrey 2002; McCaffrey, Bell &
 *        Botts 2001).  Equals estimatr::lm_robust(se_type = "CR2") and
 *        clubSandwich::vcovCR(type = "CR2") with the default working model;
 *        with one row per cluster it is HC2.
 *   CR3  A_g = (I - H_gg)^{-1}, with no (G-1)/G factor (clubSandwich "CR3"
 *        convention).  It equals sum_g (b_(g) - b)(b_(g) - b)', the
 *        leave-one-cluster-out jackknife without centring or (G-1)/G.
 *
 * Degrees of freedom of the t reference distribution, per coefficient:
 *   CR0, CR1, CR3: G - 1 (also without clusters, where G = n).
 *   CR2: the Bell–McCaffrey / Satterthwaite approximation for the contrast
 *        c = e_j under a working model Var(e) = sigma^2 I:
 *            df_j = (tr Omega)^2 / ||Omega||_F^2,
 *            Omega_gh = p_g' (I - H) p_h,  p_g = rows of A_g X_g (X'X)^{-1} c
 *        (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, J. Bus. Econ.
 *        Stat. 36(4), "Small-sample methods for cluster-robust variance
 *        estimation and hypothesis testing in fixed effects models").  This is
 *        estimatr's CR2 df and clubSandwich::coef_test(test = "Satterthwaite")
 *        for OLS.
 *
 * Speed: nothing of size n_g x n_g (or G x G) is ever formed.  H_gg has rank
 * <= p, so with M_g = L^{-1} X_g'X_g L^{-T} = V diag(lambda) V' (L the
 * Cholesky factor of X'X) one has A_g X_g = X_g T_g for the p x p matrix
 * T_g = I + F_g X_g'X_g, F_g = L^{-T} V diag(phi(lambda)) V' L^{-1}, with
 * phi = ((1-lambda)^{-1/2} - 1)/lambda (CR2) or 1/(1-lambda) (CR3).  The
 * Satterthwaite df uses the same T_g and only p x p accumulators.  A fit
 * costs O(n p^2 + G p^3) time and no allocation.
 *
 * Errors: SYF_EINPUT for bad arguments (n <= p, n > n_max, G < 2, a code
 * >= G, an empty cluster, non-finite data); SYF_ESINGULAR when X'X is
 * singular ("design matrix is singular (collinear columns?)") or when
 * I - H_gg is singular for some cluster (leverage 1, e.g. a one-row cluster
 * that has its own dummy), for CR2/CR3 only.
 */
#ifndef SYFOSIM_OLS_H
#define SYFOSIM_OLS_H

#include <stddef.h>

typedef enum { SYF_VCOV_CR0, SYF_VCOV_CR1, SYF_VCOV_CR2, SYF_VCOV_CR3 } syf_vcov_type;

/* Name of a type ("CR0", ...) and its inverse (case-insensitive; returns
 * SYF_EINPUT with a message listing the choices for an unknown name). */
const char *syf_vcov_type_name(syf_vcov_type type);
int syf_vcov_type_parse(const char *name, syf_vcov_type *type);

/* A fit's results.  The arrays point into the workspace and stay valid until
 * the next syf_ols_fit() on it or syf_ols_free(). */
typedef struct {
    size_t n, p, G;          /* rows, coefficients, clusters               */
    syf_vcov_type type;
    double level;            /* confidence level of conf_low/conf_high     */
    const double *estimate;  /* p */
    const double *std_error; /* p: sqrt(diag(vcov))                         */
    const double *statistic; /* p: estimate / std_error                     */
    const double *df;        /* p: t degrees of freedom (see above)         */
    const double *p_value;   /* p: two-sided, t distribution with df        */
    const double *conf_low;  /* p */
    const double *conf_high; /* p */
    const double *vcov;      /* p x p, row-major                            */
    const double *residual;  /* n: y - X b                                  */
    double rss;              /* residual sum of squares                     */
} syf_ols_result;

typedef struct syf_ols_workspace syf_ols_workspace;

/* A workspace for fits with up to n_max rows, exactly p columns and up to
 * G_max clusters (G_max is not used by fits with cluster == NULL).  NULL if
 * out of memory or p == 0. */
syf_ols_workspace *syf_ols_alloc(size_t n_max, size_t p, size_t G_max);
void syf_ols_free(syf_ols_workspace *w);

/* Fit.  X is n x p row-major and includes the intercept column if one is
 * wanted; cluster[i] in 0..G-1 is row i's cluster code (every code must
 * occur), or cluster == NULL for one row per cluster (G is then ignored and
 * taken as n).  `level` is the confidence level in (0, 1) (0 means 0.95).
 * On success fills *res; no memory is allocated. */
int syf_ols_fit(syf_ols_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, syf_vcov_type type, double level,
                syf_ols_result *res);

/* After SYF_ESINGULAR from an adjusted (CR2/CR3) fit: the code of the
 * cluster whose I - H_gg was singular; (size_t)-1 otherwise.  Lets a caller
 * name the cluster's label in its own message. */
size_t syf_ols_singular_cluster(const syf_ols_workspace *w);

#endif
