/* wildboot.h — restricted wild cluster bootstrap (WCR) for one OLS coefficient.
 *
 * Tests H0: beta_j = r in y = X beta + u with few clusters, the way
 * Cameron, Gelbach & Miller (2008), MacKinnon & Webb (2017) and Roodman,
 * MacKinnon, Nielsen & Webb (2019, Stata's boottest; R's fwildclusterboot)
 * do by default ("WCR", bootstrap-t, CR1 studentisation):
 *
 *   1. fit the restricted model (beta_j = r): beta~, residuals u~;
 *   2. draw b = 1..B: y*_b = X beta~ + v_g u~_i (one weight v_g per cluster),
 *      refit by OLS and form t*_b = (beta*_j - r) / se_CR1(beta*_j);
 *   3. symmetric p-value  p = (1/B) #{b : |t*_b| > |t|}  with t the CR1 t
 *      statistic of the data (boottest/fwildclusterboot "two-tailed"
 *      convention: strict inequality, the original sample not counted; ties
 *      within a relative 1e-9 count as ties, i.e. not counted).
 *
 * Weights: Rademacher (+1/-1 with probability 1/2) or Webb's six-point
 * distribution (+-sqrt(1/2), +-1, +-sqrt(3/2), each 1/6).  When the number
 * of distinct weight vectors (2^G for Rademacher, 6^G for Webb) is at most B,
 * every vector is used once instead (full enumeration, as boottest does), so
 * the p-value is exact and needs no seed; the draws are then numbered in
 * mixed radix (draw b sets v_g from digit g of b; digit 0 is +1 for
 * Rademacher, so draw 0 is the original sample).  Otherwise draw b uses the
 * Philox stream syf_stream_init(seed, rep, b, SYF_PURPOSE_WILD): results are
 * reproducible and do not depend on threads or on other draws.
 *
 * The CR1 factor G/(G-1) (n-1)/(n-p) multiplies the original and every
 * bootstrap variance alike, so it changes t but not the p-value.
 *
 * Confidence interval: the set {r : p(r) > alpha}, alpha = 1 - level, found
 * by test inversion with the same draws for every r: from the CR1 Wald
 * interval (t with G-1 df) the bracket is widened until p <= alpha, then
 * gsl_root_fsolver_brent finds where p(r) crosses alpha on each side.  p(r)
 * is a step function, so a limit is the jump point (to ~1e-10 relative).
 * If p stays above alpha 2^40 half-widths away the limit is reported as
 * -INFINITY / +INFINITY (the WCR interval can be unbounded with very few
 * treated clusters).
 *
 * Speed (DESIGN §8): the restricted residuals are u~(r) = u^ + X a_j k(r),
 * with a_j = column j of (X'X)^{-1} and k(r) = (b^_j - r) / a_jj, so every
 * quantity of a draw comes from per-cluster p-vectors computed once:
 *   z_g(r) = (X'X)^{-1} X_g'u~_g = zh_g + k(r) zw_g,   w_g = X_g'X_g a_j,
 *   delta = sum_g v_g z_g = beta* - beta~,      numerator = delta_j,
 *   score_g = a_j' X_g' u*_g = v_g z_g[j] - w_g' delta,
 *   se*^2 = CR1 factor * sum_g score_g^2.
 * A fit costs O(n p^2 + G p^2) once; each draw O(G p); each evaluation of
 * p(r) for the interval O(B G p), never O(n).  The weights of all draws are
 * generated once and cached as one byte per cluster and draw (up to 64 MiB,
 * beyond which they are regenerated per evaluation); the cache is the only
 * allocation after syf_wild_alloc() and grows on demand, so a reused
 * workspace stops allocating after its largest B x G.
 *
 * Errors: those of syf_ols_fit (bad data, singular design) plus SYF_EINPUT
 * for coef >= p, draws > B_max or level outside (0, 1).
 */
#ifndef SYFOSIM_WILDBOOT_H
#define SYFOSIM_WILDBOOT_H

#include "syfosim/rng.h"

#include <gsl/gsl_roots.h>
#include <stddef.h>
#include <stdint.h>

/* The stream purpose of the bootstrap weights (entity = draw number). */
#define SYF_PURPOSE_WILD syf_purpose(SYF_P_DESIGN, 100)

typedef enum { SYF_WILD_RADEMACHER, SYF_WILD_WEBB } syf_wild_weights;

/* "rademacher" / "webb" (case-insensitive); SYF_EINPUT listing the choices. */
const char *syf_wild_weights_name(syf_wild_weights weights);
int syf_wild_weights_parse(const char *name, syf_wild_weights *weights);

typedef struct {
    size_t coef;              /* j: the tested coefficient (column of X)          */
    double null_value;        /* r in H0: beta_j = r (usually 0)                  */
    size_t draws;             /* B; 0 means 999                                   */
    syf_wild_weights weights;
    uint64_t seed, rep;       /* Philox key of the draws                          */
    double level;             /* of the interval; 0 means 0.95                    */
    int want_ci;              /* 0: skip the interval (conf_* are NAN)            */
} syf_wild_options;

typedef struct {
    size_t n, G, coef;
    double estimate;          /* OLS beta^_j                                      */
    double std_error;         /* its CR1 standard error                           */
    double statistic;         /* (beta^_j - r) / std_error                        */
    double null_value;
    double p_value;           /* symmetric bootstrap-t p-value of H0             */
    double level, conf_low, conf_high; /* NAN without want_ci; may be infinite   */
    size_t draws;             /* B actually used (2^G or 6^G when enumerated)     */
    int enumerated;           /* 1 if every weight vector was used once           */
    syf_wild_weights weights;
    const double *t_boot;     /* draws values: t*_b at H0, in draw order           */
} syf_wild_result;

typedef struct syf_wild_workspace syf_wild_workspace;

/* A workspace for up to n_max rows, exactly p columns, G_max clusters and
 * B_max draws (B_max >= 1).  NULL if out of memory or p == 0. */
syf_wild_workspace *syf_wild_alloc(size_t n_max, size_t p, size_t G_max, size_t B_max);
void syf_wild_free(syf_wild_workspace *w);

/* Run the test.  X (n x p, row-major), y, cluster and G as for
 * syf_ols_fit (cluster == NULL: each row its own cluster, G ignored).
 * res->t_boot points into the workspace (valid until the next call). */
int syf_wild_test(syf_wild_workspace *w, size_t n, const double *X, const double *y,
                  const size_t *cluster, size_t G, const syf_wild_options *opt,
                  syf_wild_result *res);

/* After a successful syf_wild_test: the p-value of H0: beta_j = r with the
 * same draws (what the interval inverts). */
double syf_wild_pvalue(syf_wild_workspace *w, double r);

/* Test inversion shared with ri.h: the limits of {r : pfun(r) > alpha}
 * around `center` (where pfun should exceed alpha), starting the bracket
 * search at center -/+ half_width.  pfun is a step function; each limit is
 * found with the given Brent solver to a relative 1e-10.  Limits that are
 * not found within 2^40 half-widths are -INFINITY / +INFINITY. */
int syf_test_invert(gsl_root_fsolver *solver, double (*pfun)(double r, void *params),
                    void *params, double center, double half_width, double alpha,
                    double *lo, double *hi);

#endif
