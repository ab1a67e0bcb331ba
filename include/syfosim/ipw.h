/* ipw.h — inverse-probability-weighted average treatment effect with a
 * propensity-score logit and an M-estimation (stacked) sandwich variance.
 *
 * The propensity score e(x) = P(z = 1 | x) is a logistic regression of the
 * treatment z on x (logit.h, fitted by Newton).  The ATE is the difference
 * of Hajek-normalised weighted means,
 *     mu1 = sum z y / e  /  sum z / e,
 *     mu0 = sum (1-z) y / (1-e)  /  sum (1-z) / (1-e),
 *     ATE = mu1 - mu0.
 * Its variance treats (b, mu1, mu0) as one M-estimator with the stacked
 * estimating functions
 *     psi_b  = (z - e) x,
 *     psi_1  = z (y - mu1) / e,
 *     psi_0  = (1-z) (y - mu0) / (1-e),
 * so V = A^{-1} B A^{-T} with A = -sum d psi / d theta' (the empirical
 * derivative) and B = sum_g (sum_{i in g} psi_i)(...)'.  A is block lower
 * triangular, so the ATE's influence terms reduce to
 *     phi_i = psi_1i / a1 - psi_0i / a0 - g' psi_bi,
 *     g = I^{-1} (h1 / a1 - h0 / a0),
 * a1 = sum z/e, a0 = sum (1-z)/(1-e), I = X'WX (the logit information),
 * h1 = sum z (y - mu1) (1-e)/e x, h0 = -sum (1-z) (y - mu0) e/(1-e) x, and
 * Var(ATE) = c * sum_g (sum_{i in g} phi_i)^2.  This is the Lunceford &
 * Davidian (2004, Stat. Med. 23:2937, estimator Delta-hat_2 and its
 * sandwich) variance with the empirical A in place of its expectation, i.e.
 * the empirical sandwich of the stacked estimating equations (Stefanski &
 * Boos 2002, Am. Stat. 56:29).  Accounting for the estimated score
 * typically makes the ATE's SE smaller than treating e as known
 * (std_error_known_ps, phi without the g' psi_b term).
 *
 * `type` picks the factor c: SYF_LOGIT_VCOV_CR0 (c = 1; the
 * Lunceford–Davidian formula when each row is its own cluster),
 * SYF_LOGIT_VCOV_CR1 (c = G/(G-1), Stata's vce(cluster) convention for
 * M-estimators) or SYF_LOGIT_VCOV_CR1S (c = G/(G-1) (n-1)/(n-q), q = p + 2
 * parameters).  With cluster == NULL each row is its own cluster (G = n).
 * Normal reference distribution.
 *
 * Errors: as syf_logit_fit() for the propensity model (perfect separation
 * means no overlap between the arms and is SYF_ESINGULAR), plus SYF_EINPUT
 * for z not 0/1, no treated or no control rows, non-finite y, and
 * SYF_LOGIT_VCOV_MODEL as `type`.
 */
#ifndef SYFOSIM_IPW_H
#define SYFOSIM_IPW_H

#include "syfosim/logit.h"

#include <stddef.h>

typedef struct {
    size_t n, p, G, n_treated;
    syf_logit_vcov_type type;
    double level;
    double estimate;           /* ATE = mu1 - mu0                          */
    double std_error;          /* M-estimation sandwich                    */
    double statistic, p_value; /* z and two-sided normal p                 */
    double conf_low, conf_high;
    double std_error_known_ps; /* same sandwich ignoring the PS estimation */
    double mu1, mu0;           /* weighted means under treatment / control */
    double ps_min, ps_max;     /* range of the fitted propensity scores    */
    double ess1, ess0;         /* Kish effective sample sizes of the arms  */
    syf_logit_result ps;       /* the propensity model                     */
} syf_ipw_result;

typedef struct syf_ipw_workspace syf_ipw_workspace;

/* Workspace for up to n_max rows, p propensity regressors (including the
 * intercept column if wanted), up to G_max clusters.  NULL on failure. */
syf_ipw_workspace *syf_ipw_alloc(size_t n_max, size_t p, size_t G_max);
void syf_ipw_free(syf_ipw_workspace *w);

/* Fit.  X (n x p row-major): propensity regressors; z[i] 0/1 treatment;
 * y[i] outcome; cluster[i] in 0..G-1 or NULL.  Allocates nothing; the
 * result's `ps` arrays point into the workspace. */
int syf_ipw_fit(syf_ipw_workspace *w, size_t n, const double *X, const double *z,
                const double *y, const size_t *cluster, size_t G, syf_logit_vcov_type type,
                double level, syf_ipw_result *res);

#endif
