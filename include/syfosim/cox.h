/* cox.h — Cox proportional-hazards regression with Efron or Breslow ties,
 * model-based and (cluster-)robust variance.
 *
 * Right-censored data (time_i, event_i in {0, 1}) and regressors x_i (no
 * intercept).  The coefficients maximise the partial log-likelihood; with d
 * events tied at time t, risk-set sum S0 = sum_{at risk} exp(x'b) and the
 * sum D0 over the d tied events,
 *   Breslow: - d log S0
 *   Efron:   - sum_{k=0}^{d-1} log(S0 - (k/d) D0)
 * (the default, as in survival::coxph).  Subjects censored at an event time
 * are in that time's risk set.  Newton–Raphson starts at b = 0, halves a step
 * that lowers the log-likelihood, and stops when every step is below
 * 1e-10 (1 + |b_j|).
 *
 * Speed: the rows are sorted by time once per fit (O(n log n)); every
 * iteration sweeps them from the latest time to the earliest with running
 * risk-set sums S0, S1 = sum exp(x'b) x, S2 = sum exp(x'b) x x', so the
 * log-likelihood, score and information cost O(n p^2).  Regressors are
 * centred, and x'b shifted by its maximum, before exponentiating.
 *
 * Variance:
 *   vcov_model   I(b)^{-1}, the inverse observed information (coxph's
 *                naive.var, or var without cluster).
 *   vcov_robust  the grouped-dfbeta sandwich I^{-1} (sum_g L_g L_g') I^{-1},
 *                L_g = sum of the score residuals of the rows of cluster g
 *                (for Efron ties, the Efron score residuals), with no
 *                small-sample factor: coxph(..., cluster = C)$var, whose
 *                square roots summary() prints as "robust se".  With
 *                cluster == NULL each row is its own cluster
 *                (coxph(..., robust = TRUE)).
 * The result's std_error, statistic, p_value and confidence limits use the
 * one chosen by `type`; the reference distribution is normal (Wald z).
 *
 * Errors: SYF_EINPUT for bad arguments (n > n_max, p == 0, event not 0/1,
 * non-finite time or regressor, no events, bad cluster codes or G < 2 for
 * the robust type); SYF_ESINGULAR for a constant or all-zero regressor,
 * collinear regressors, or an information matrix that becomes singular;
 * SYF_ERUNTIME when Newton does not converge in SYF_COX_MAX_ITER
 * iterations — typically a monotone likelihood, where a coefficient is
 * infinite (e.g. a binary regressor with no events in one of its levels).
 */
#ifndef SYFOSIM_COX_H
#define SYFOSIM_COX_H

#include <stddef.h>

#define SYF_COX_MAX_ITER 50

typedef enum { SYF_COX_EFRON, SYF_COX_BRESLOW } syf_cox_ties;
typedef enum { SYF_COX_VCOV_MODEL, SYF_COX_VCOV_ROBUST } syf_cox_vcov_type;

/* "efron" / "breslow" and back (case-insensitive; SYF_EINPUT with the
 * choices for an unknown name). */
const char *syf_cox_ties_name(syf_cox_ties ties);
int syf_cox_ties_parse(const char *name, syf_cox_ties *ties);

/* A fit's results; arrays point into the workspace and stay valid until the
 * next fit on it or syf_cox_free(). */
typedef struct {
    size_t n, p, G;               /* rows, coefficients, clusters (n if none) */
    size_t n_events;
    syf_cox_ties ties;
    syf_cox_vcov_type type;
    double level;
    const double *estimate;       /* p: log hazard ratios                     */
    const double *std_error;      /* p: of the chosen `type`                  */
    const double *statistic;      /* p: z                                      */
    const double *p_value;        /* p: two-sided, normal                      */
    const double *conf_low;       /* p: for the log hazard ratio               */
    const double *conf_high;      /* p */
    const double *vcov;           /* p x p: the chosen one                     */
    const double *vcov_model;     /* p x p: I^{-1}                             */
    const double *vcov_robust;    /* p x p: grouped-dfbeta sandwich            */
    const double *std_error_model;  /* p */
    const double *std_error_robust; /* p */
    const double *score_residual; /* n x p: score residuals in input row order */
    double loglik_null;           /* partial log-likelihood at b = 0           */
    double loglik;                /* at the estimate                           */
    int iterations;
} syf_cox_result;

typedef struct syf_cox_workspace syf_cox_workspace;

/* Workspace for up to n_max rows, exactly p regressors, up to G_max clusters.
 * NULL if out of memory or p == 0. */
syf_cox_workspace *syf_cox_alloc(size_t n_max, size_t p, size_t G_max);
void syf_cox_free(syf_cox_workspace *w);

/* Fit.  X is n x p row-major without an intercept; time[i] finite;
 * event[i] 1 (event) or 0 (censored); cluster[i] in 0..G-1 or NULL (one row
 * per cluster).  The robust variance is computed for either `type`.
 * `level` in (0, 1), 0 meaning 0.95.  Allocates nothing itself (the C
 * library's qsort may use a temporary buffer). */
int syf_cox_fit(syf_cox_workspace *w, size_t n, const double *X, const double *time,
                const double *event, const size_t *cluster, size_t G, syf_cox_ties ties,
                syf_cox_vcov_type type, double level, syf_cox_result *res);

#endif
