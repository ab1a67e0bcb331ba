/* ri.h — randomization inference for a cluster-level 0/1 treatment in OLS.
 *
 * Re-runs the assignment procedure of a cluster-randomised trial: complete
 * randomisation of the observed number of treated clusters G1 among the G
 * clusters (or, with strata, of the observed number within each stratum),
 * refits the OLS model y = X b + e with the treatment column replaced by the
 * re-drawn assignment, and compares the statistic with its observed value:
 *
 *   p = #{assignments a : |T(a)| >= |T_obs|} / #{assignments}
 *
 * The observed assignment is counted, as ri2 and ritest do: with full
 * enumeration (used when the number of possible assignments, the product
 * over strata of C(G_s, G1_s), is at most B) it is one of them and the test
 * is exact; with B sampled assignments p = (1 + #{b : |T_b| >= |T_obs|}) /
 * (1 + B), which is also exact in level.  Ties within a relative 1e-10 count
 * as ties (e.g. the mirror assignment when G1 = G/2).  Assignments whose fit
 * is singular (the new treatment column collinear with the covariates) are
 * left out of numerator and denominator and counted in n_failed.
 *
 * The statistic (syf_ri_options.statistic):
 *   SYF_RI_STUDENTIZED (recommended)  the cluster-robust t statistic b_j /
 *     se_j with the chosen variance (CR2 by default in the CLI).  It is exact
 *     for the sharp null of no effect on anyone and, unlike the coefficient,
 *     stays asymptotically valid for the weak null of a zero average effect
 *     with heterogeneous effects or unequal variances (shown by Wu & Ding
 *     2021, "Randomization tests for weak null hypotheses in randomized
 *     experiments", JASA, for the studentised difference in means).
 *   SYF_RI_COEFFICIENT  the coefficient b_j itself (the difference in means
 *     when X holds only the intercept and the treatment).
 *
 * Confidence interval (want_ci) by test inversion under a constant additive
 * effect tau: H0(tau) says y_i(0) = y_i - tau z_i, so the statistic of an
 * assignment a is that of the regression of y - tau z_obs on X(a).  Its
 * coefficient is b_y(a) - tau b_z(a) and its variance the quadratic
 * V_yy(a) - 2 tau V_yz(a) + tau^2 V_zz(a), where b_y, b_z are the
 * coefficients of y and z_obs on X(a) and V_yz comes from a third fit of
 * y + z_obs.  So each assignment is fitted three times once, and p(tau) is
 * then O(B) per evaluation; the limits are found with syf_test_invert()
 * (wildboot.h) from the analytic interval.
 *
 * Draws: sampled assignment b uses the Philox stream syf_stream_init(seed,
 * rep, b, SYF_PURPOSE_RI) (a partial Fisher–Yates shuffle within each
 * stratum, strata in code order, clusters in code order), so results are
 * reproducible whatever the thread.  Enumeration visits the combinations in
 * lexicographic order, stratum 0 varying fastest.
 *
 * Cost: one (three with want_ci) OLS fit per assignment, O(n p^2 + G p^3)
 * each, without allocation (the workspace holds a copy of X).
 *
 * Errors (SYF_EINPUT): coef >= p, a treatment value other than 0/1, a
 * treatment or stratum that varies within a cluster, a stratum code >=
 * n_strata, no treated or no control cluster, draws > B_max; and those of
 * syf_ols_fit on the observed data.
 */
#ifndef SYFOSIM_RI_H
#define SYFOSIM_RI_H

#include "syfosim/ols.h"
#include "syfosim/rng.h"

#include <stddef.h>
#include <stdint.h>

/* The stream purpose of the re-drawn assignments (entity = draw number). */
#define SYF_PURPOSE_RI syf_purpose(SYF_P_DESIGN, 101)

typedef enum { SYF_RI_STUDENTIZED, SYF_RI_COEFFICIENT } syf_ri_statistic;

typedef struct {
    size_t coef;              /* j: column of X holding the 0/1 treatment          */
    const size_t *strata;     /* n row codes 0..n_strata-1 (constant within
                                 clusters), or NULL for one stratum              */
    size_t n_strata;
    syf_ri_statistic statistic;
    syf_vcov_type type;       /* variance of the studentised statistic and of
                                 the reported std_error                          */
    size_t draws;             /* B; 0 means 999                                   */
    uint64_t seed, rep;
    double level;             /* 0 means 0.95                                     */
    int want_ci;
} syf_ri_options;

typedef struct {
    size_t n, G, G1, coef;
    double estimate, std_error, statistic; /* observed b_j, its SE (type), b_j/SE */
    double p_value;
    double level, conf_low, conf_high;     /* NAN without want_ci; may be infinite */
    size_t draws;             /* assignments used (all of them when enumerated)   */
    int enumerated;
    size_t n_failed;          /* assignments left out (singular fit)              */
    const double *stat_perm;  /* draws values: T of each assignment at tau = 0
                                 (NAN for a failed one)                          */
} syf_ri_result;

typedef struct syf_ri_workspace syf_ri_workspace;

/* A workspace for up to n_max rows, exactly p columns, G_max clusters and
 * B_max draws.  NULL if out of memory or p == 0 or B_max == 0. */
syf_ri_workspace *syf_ri_alloc(size_t n_max, size_t p, size_t G_max, size_t B_max);
void syf_ri_free(syf_ri_workspace *w);

/* Run the test of the sharp null (no effect).  X, y, cluster, G as for
 * syf_ols_fit (cluster == NULL: each row its own cluster). */
int syf_ri_test(syf_ri_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, const syf_ri_options *opt, syf_ri_result *res);

/* After syf_ri_test with want_ci: the p-value of H0: constant effect tau
 * (NAN without want_ci, except at tau = 0). */
double syf_ri_pvalue(syf_ri_workspace *w, double tau);

/* After an error about a treatment or stratum that varies within a
 * cluster: that cluster's code; (size_t)-1 otherwise (lets a caller name
 * the cluster's label). */
size_t syf_ri_bad_cluster(const syf_ri_workspace *w);

#endif
