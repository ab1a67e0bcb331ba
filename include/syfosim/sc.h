/* sc.h — synthetic control (Abadie, Diamond & Hainmueller 2010, JASA
 * 105(490)) with placebo-in-space inference.
 *
 * Panel: N units x T periods, unit `treated` untreated in the first T0
 * periods and treated from period T0 on.  The synthetic control is the
 * convex combination of the other N - 1 units (the donors) that best fits
 * the treated unit's pre-period outcomes:
 *
 *     w = argmin ||y1_pre - Y0_pre w||^2   subject to  w >= 0, sum w = 1.
 *
 * Simplification (documented): the predictors are the T0 pre-period
 * outcomes themselves with equal weight (V = I), not ADH's nested
 * optimisation over a diagonal V of covariate weights; this is the
 * "synthetic control" of Arkhangelsky et al. (2021) and of Stata's
 * sdid, method(sc), up to their solvers' regularisation.
 *
 * The quadratic programme is solved exactly (to rounding) by an active-set
 * method on the simplex, a Lawson–Hanson NNLS variant: the support grows by
 * the index with the most negative reduced gradient g_j - mu, the
 * equality-constrained least squares on the support is solved by QR
 * (GSL), and a step that would make a weight negative is shortened and the
 * index dropped.  At the optimum the KKT conditions hold: with
 * g = Y0_pre'(Y0_pre w - y1_pre), g_j = mu on the support and g_j >= mu off
 * it (tested).
 *
 * Estimates: gap_t = y1_t - Y0_t w for every period; ATT = mean of the
 * post-period gaps.  Placebo inference (ADH 2010, section 4): every donor
 * in turn is treated as if treated, with the other donors (never the
 * treated unit) as its donor pool; for each unit the ratio of post- to
 * pre-period RMSPE is computed, and
 *     p = #{units with ratio >= the treated unit's ratio} / N.
 *
 * A fit allocates nothing; J + 1 QPs of size (T0, J - 1) for the placebos.
 * Errors: SYF_EINPUT (N < 2, T0 < 1, T0 >= T, treated >= N, non-finite
 * data), SYF_ERUNTIME if the active-set method fails to converge
 * (iteration limit; not seen in practice).
 */
#ifndef SYFOSIM_SC_H
#define SYFOSIM_SC_H

#include <stddef.h>

typedef struct syf_sc_workspace syf_sc_workspace;

/* Workspace for panels of up to N_max units and T_max periods. */
syf_sc_workspace *syf_sc_alloc(size_t N_max, size_t T_max);
void syf_sc_free(syf_sc_workspace *w);

/* The simplex QP alone: weights (J) minimising ||y - X w||^2 over w >= 0,
 * sum w = 1, X T0 x J row-major with column stride ldx (>= J).  Returns
 * the number of active-set iterations in *iterations (may be NULL).  Needs
 * J <= N_max and T0 <= T_max. */
int syf_sc_simplex_ls(syf_sc_workspace *w, size_t T0, size_t J, const double *X, size_t ldx,
                      const double *y, double *weights, size_t *iterations);

typedef struct {
    size_t N, T, T0, treated;
    double att;                  /* mean post-period gap                         */
    double rmspe_pre, rmspe_post; /* treated unit                                 */
    double ratio;                /* rmspe_post / rmspe_pre                       */
    double p_value;              /* placebo rank / N (NAN without placebos)      */
    size_t rank;                 /* units with ratio >= the treated unit's       */
    const double *weights;       /* N: weight of each unit (0 for the treated)   */
    const double *gap;           /* T: y_treated - synthetic                     */
    const double *ratios;        /* N: post/pre RMSPE ratio of each unit as the
                                    (pseudo-)treated one (NAN without placebos)  */
} syf_sc_result;

/* Fit.  Y is N x T row-major (unit-major).  placebo != 0 runs the placebo
 * fits.  The result's arrays point into the workspace. */
int syf_sc_fit(syf_sc_workspace *w, size_t N, size_t T, size_t T0, const double *Y,
               size_t treated, int placebo, syf_sc_result *res);

#endif
