/* logit.h — logistic regression by Newton–Raphson (IRLS) with model-based or
 * cluster-robust variance.
 *
 * Fit P(y = 1 | x) = 1 / (1 + exp(-x'b)) by maximum likelihood.  Newton's
 * method on the log-likelihood (for the canonical logit link it is the same
 * as IRLS / Fisher scoring) starts at b = 0, halves a step that lowers the
 * log-likelihood, and stops when every step is below 1e-10 (1 + |b_j|).
 *
 * Variance (`type`):
 *   MODEL  the inverse Fisher information (X'WX)^{-1}, W = diag(mu (1 - mu)):
 *          what glm() and Stata `logit` report by default.
 *   CR0    the cluster-robust sandwich B M B, B = (X'WX)^{-1},
 *          M = sum_g s_g s_g', s_g = sum_{i in g} (y_i - mu_i) x_i, with no
 *          small-sample factor (sandwich::vcovCL(type = "HC0",
 *          cadjust = FALSE)).
 *   CR1    CR0 times G/(G-1): Stata's `logit ..., vce(cluster C)` (Stata
 *          applies only the G/(G-1) factor to maximum-likelihood models, not
 *          the (n-1)/(n-p) of `regress`); equals sandwich::vcovCL(type =
 *          "HC0") with its default cadjust = TRUE.  This is the convention
 *          that reproduces the published Petersen (2009) logit reference
 *          (Stata values in the sandwich package tests).
 *   CR1S   CR0 times G/(G-1) * (n-1)/(n-p): sandwich::vcovCL(type = "HC1"),
 *          the `regress` convention carried over to the logit.
 * With cluster == NULL the robust types treat each row as its own cluster
 * (G = n; CR0 is then White's HC0 for the logit).
 *
 * Inference is on the normal reference distribution (z statistics); the
 * result's df is NAN.
 *
 * Errors: SYF_EINPUT for bad arguments (n <= p, n > n_max, y not 0/1,
 * non-finite X, G < 2 or bad cluster codes for a robust type);
 * SYF_ESINGULAR when X'X is singular (collinear or all-zero columns) or when
 * the outcome is perfectly or quasi-perfectly separated by the regressors
 * (the maximum-likelihood estimate does not exist: some coefficient is
 * infinite and fitted probabilities reach 0 or 1); SYF_ERUNTIME when Newton
 * does not converge in SYF_LOGIT_MAX_ITER iterations for another reason.
 * The message says which.
 *
 * A fit costs O(n p^2) per iteration (typically 4–8 iterations) and
 * allocates nothing; the workspace is reused across fits (Monte Carlo).
 */
#ifndef SYFOSIM_LOGIT_H
#define SYFOSIM_LOGIT_H

#include <stddef.h>

#define SYF_LOGIT_MAX_ITER 60

typedef enum {
    SYF_LOGIT_VCOV_MODEL,
    SYF_LOGIT_VCOV_CR0,
    SYF_LOGIT_VCOV_CR1,
    SYF_LOGIT_VCOV_CR1S
} syf_logit_vcov_type;

/* A fit's results.  The arrays point into the workspace and stay valid until
 * the next fit on it or syf_logit_free(). */
typedef struct {
    size_t n, p, G;          /* rows, coefficients, clusters (n if none; 0 for MODEL) */
    syf_logit_vcov_type type;
    double level;            /* confidence level of conf_low/conf_high      */
    const double *estimate;  /* p */
    const double *std_error; /* p: sqrt(diag(vcov))                          */
    const double *statistic; /* p: z = estimate / std_error                  */
    const double *p_value;   /* p: two-sided, normal                         */
    const double *conf_low;  /* p */
    const double *conf_high; /* p */
    const double *vcov;      /* p x p row-major, of the requested type       */
    const double *vcov_model;/* p x p: (X'WX)^{-1} at the estimate           */
    const double *fitted;    /* n: mu_i = P(y_i = 1)                         */
    double loglik;           /* log-likelihood at the estimate               */
    double loglik_null;      /* log-likelihood at b = 0                      */
    int iterations;          /* Newton steps taken                           */
} syf_logit_result;

typedef struct syf_logit_workspace syf_logit_workspace;

/* Workspace for up to n_max rows, exactly p columns and up to G_max clusters.
 * NULL if out of memory or p == 0. */
syf_logit_workspace *syf_logit_alloc(size_t n_max, size_t p, size_t G_max);
void syf_logit_free(syf_logit_workspace *w);

/* Fit.  X is n x p row-major (include an intercept column if wanted), y[i]
 * is 0 or 1; cluster[i] in 0..G-1 (every code used) or NULL (see above;
 * ignored for MODEL).  `level` in (0, 1), 0 meaning 0.95. */
int syf_logit_fit(syf_logit_workspace *w, size_t n, const double *X, const double *y,
                  const size_t *cluster, size_t G, syf_logit_vcov_type type, double level,
                  syf_logit_result *res);

#endif
